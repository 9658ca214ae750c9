//! `cex ingest <pipeline>`: exports -> lake, with the reconciliation table on stdout.

use super::PipelineArgs;
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;

pub fn run(args: &PipelineArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    crate::run::stages::ingest(&pipeline, &args.sources, args.deny_warnings, None)
        .map(|(code, _)| code)
}
