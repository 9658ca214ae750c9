//! `cex run <pipeline>`: every stage in order: ingest, KPIs, equality (charts and report to come),
//! each skippable with `--skip`.

use super::{RunArgs, Stage};
use crate::exit_codes;

pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let runs = |stage: Stage| !args.skip.contains(&stage);
    let mut warned = false;
    if runs(Stage::Ingest) {
        let code = super::ingest::run(&args.pipeline_args)?;
        if code != exit_codes::OK && code != exit_codes::WARNINGS {
            return Ok(code);
        }
        warned |= code == exit_codes::WARNINGS;
    }
    let pipeline = super::load_pipeline(&args.pipeline_args.pipeline, &[])?;
    if runs(Stage::Kpi) {
        let kpis = super::kpi::kpi_stage(&pipeline, args.period.as_deref(), args.fy.as_deref())?;
        for w in &kpis.warnings {
            crate::log::warn(w);
        }
        warned |= !kpis.warnings.is_empty();
    }
    let surveyed = pipeline
        .sources
        .iter()
        .any(|s| s.kind == crate::config::SourceKind::Satisfaction);
    if runs(Stage::Equality) && surveyed {
        super::equality::equality_stage(
            &pipeline,
            args.period.as_deref(),
            args.fy.as_deref(),
            None,
            &crate::equality::Filter::default(),
            true,
        )?;
    } else if runs(Stage::Equality) {
        crate::log::info("no satisfaction source in the pipeline: equality tables skipped");
    }
    Ok(if args.pipeline_args.deny_warnings && warned {
        exit_codes::WARNINGS
    } else {
        exit_codes::OK
    })
}
