//! `cex kpi <pipeline> [--period 2024-03 | --fy 2023/24]`: the KPI tables from the lake into the
//! period's publication, the equality tables kept, charts and report drawn again: a run without
//! the ingest and equality stages.

use super::KpiArgs;
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::run::Stage;

pub fn run(args: &KpiArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let mut options = args.period.options(&pipeline)?;
    options.skip = vec![Stage::Ingest, Stage::Equality];
    options.deny_warnings = args.deny_warnings;
    crate::run::run(&pipeline, &options).into_result()
}
