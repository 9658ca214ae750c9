//! `cex run <pipeline>`: every stage in order (ingest, KPIs, equality, charts, report), each
//! skippable with `--skip`; the run itself, and `last-run.json`, are [`crate::run`]'s.

use super::RunArgs;
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline_args.pipeline)?;
    let mut options = args.period.options(&pipeline)?;
    options.skip = args.skip.clone();
    options.sources = args.pipeline_args.sources.clone();
    options.deny_warnings = args.pipeline_args.deny_warnings;
    options.record = true;
    crate::run::run(&pipeline, &options).into_result()
}
