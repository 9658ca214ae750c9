//! `cex report <pipeline> [--period 2024-03 | --fy 2023/24]`: draws the charts from the published
//! tables into `<output>/<period>/charts/` and writes `report.html` and `report.md` beside them,
//! republishing the period's folder whole: a run of the last two stages only.

use super::ReportArgs;
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::run::{stages, Stage};

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let mut options = args.period.options(&pipeline)?;
    options.skip = vec![Stage::Ingest, Stage::Kpi, Stage::Equality];
    let period = match options.period {
        Some(p) => p,
        None => crate::run::resolve_period(
            &crate::lake::Lake::open_at(&pipeline.lake_dir, options.lake_version)?,
            &options,
            pipeline.calendar,
        )?,
    };
    let folder = stages::publication_dir(&pipeline, period);
    if stages::Published::read(&folder)?.is_none() {
        return Err(crate::run::RunError::NothingPublished {
            path: folder,
            what: format!(
                "no KPI tables for {}: run `cex kpi` (or `cex run`) for this period first",
                period.describe()
            ),
        }
        .into());
    }
    options.period = Some(period);
    crate::run::run(&pipeline, &options).into_result()
}
