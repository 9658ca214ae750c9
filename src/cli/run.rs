//! `cex run <pipeline>`: every stage in order: ingest, KPIs, equality (charts and report to come).

use super::RunArgs;
use crate::exit_codes;

pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let ingest_code = super::ingest::run(&args.pipeline_args)?;
    if ingest_code != exit_codes::OK && ingest_code != exit_codes::WARNINGS {
        return Ok(ingest_code);
    }
    let pipeline = super::load_pipeline(&args.pipeline_args.pipeline, &[])?;
    let kpis = super::kpi::kpi_stage(&pipeline, args.period.as_deref(), args.fy.as_deref())?;
    let surveyed = pipeline
        .sources
        .iter()
        .any(|s| s.kind == crate::config::SourceKind::Satisfaction);
    if surveyed {
        super::equality::equality_stage(
            &pipeline,
            args.period.as_deref(),
            args.fy.as_deref(),
            None,
            &crate::equality::Filter::default(),
            true,
        )?;
    } else {
        eprintln!("cex: no satisfaction source in the pipeline: equality tables skipped");
    }
    for w in &kpis.warnings {
        eprintln!("warning: {w}");
    }
    let warned = ingest_code == exit_codes::WARNINGS || !kpis.warnings.is_empty();
    Ok(if args.pipeline_args.deny_warnings && warned {
        exit_codes::WARNINGS
    } else {
        exit_codes::OK
    })
}
