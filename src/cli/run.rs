//! `cex run <pipeline>`: every stage in order (for now: ingest).

use super::PipelineArgs;

pub fn run(args: &PipelineArgs) -> anyhow::Result<i32> {
    super::ingest::run(args)
}
