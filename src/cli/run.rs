//! `cex run <pipeline>`: every stage in order: ingest, KPIs, equality, charts, report, each
//! skippable with `--skip`; leaves `<output>/last-run.json` with stage timings, counts and
//! warnings for whoever watches the job.

use std::time::Instant;

use serde_json::{json, Value};

use super::{RunArgs, Stage};
use crate::exit_codes;

pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let runs = |stage: Stage| !args.skip.contains(&stage);
    let mut warnings: Vec<String> = Vec::new();
    let mut stages: Vec<Value> = Vec::new();
    let mut ingest_counts = Value::Null;
    let mut warned = false;
    if runs(Stage::Ingest) {
        let started = Instant::now();
        let (code, report) = super::ingest::ingest_stage(&args.pipeline_args)?;
        let (read, accepted, rejected, duplicates) = report.totals();
        ingest_counts = json!({
            "files": report.files.len(), "rows_read": read, "accepted": accepted,
            "rejected": rejected, "duplicates": duplicates, "committed": report.committed,
        });
        warnings.extend(
            report
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.file, w.message)),
        );
        stages.push(json!({"stage": "ingest", "seconds": started.elapsed().as_secs_f64(), "exit_code": code}));
        if code != exit_codes::OK && code != exit_codes::WARNINGS {
            return Ok(code);
        }
        warned |= code == exit_codes::WARNINGS || !report.warnings.is_empty();
    }
    let pipeline = super::load_pipeline(&args.pipeline_args.pipeline, &[])?;
    let mut period = Value::Null;
    let mut resolved = None;
    if runs(Stage::Kpi) {
        let started = Instant::now();
        let kpis = super::kpi::kpi_stage(&pipeline, args.period.as_deref(), args.fy.as_deref())?;
        for w in &kpis.warnings {
            crate::log::warn(w);
        }
        warned |= !kpis.warnings.is_empty();
        warnings.extend(kpis.warnings.iter().cloned());
        period = json!(kpis.period.label());
        resolved = Some(kpis.period);
        stages.push(json!({"stage": "kpi", "seconds": started.elapsed().as_secs_f64(), "tables": kpis.tables.len()}));
    }
    let surveyed = pipeline
        .sources
        .iter()
        .any(|s| s.kind == crate::config::SourceKind::Satisfaction);
    if runs(Stage::Equality) && surveyed {
        let started = Instant::now();
        super::equality::equality_stage(
            &pipeline,
            args.period.as_deref(),
            args.fy.as_deref(),
            None,
            &crate::equality::Filter::default(),
            true,
        )?;
        stages.push(json!({"stage": "equality", "seconds": started.elapsed().as_secs_f64()}));
    } else if runs(Stage::Equality) {
        crate::log::info("no satisfaction source in the pipeline: equality tables skipped");
    }
    if runs(Stage::Charts) || runs(Stage::Report) {
        let at = match resolved {
            Some(period) => period,
            None => {
                let lake = crate::lake::Lake::open(&pipeline.lake_dir)?;
                super::kpi::resolve_period(&lake, args.period.as_deref(), args.fy.as_deref())?
            }
        };
        // Without the KPI stage, charts and report use the tables already published, if any.
        match super::report::Published::read(&pipeline, at)? {
            None => {
                let message = "no KPI tables published for the period: charts and report skipped (run without --skip kpi)";
                crate::log::warn(message);
                warnings.push(message.to_string());
                warned = true;
            }
            Some(tables) => {
                if runs(Stage::Charts) {
                    let started = Instant::now();
                    let drawn = super::report::charts_stage(&pipeline, &tables)?;
                    stages.push(json!({"stage": "charts", "seconds": started.elapsed().as_secs_f64(), "charts": drawn}));
                }
                if runs(Stage::Report) {
                    let started = Instant::now();
                    let path = super::report::report_stage(&pipeline, at, &tables)?;
                    stages.push(json!({"stage": "report", "seconds": started.elapsed().as_secs_f64(), "path": path}));
                }
            }
        }
    }
    let summary = json!({
        "pipeline": pipeline.name,
        "period": period,
        "finished_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "stages": stages,
        "ingest": ingest_counts,
        "warnings": warnings,
    });
    write_summary(&pipeline.output_dir, &summary)?;
    Ok(if args.pipeline_args.deny_warnings && warned {
        exit_codes::WARNINGS
    } else {
        exit_codes::OK
    })
}

/// Replaces `<output>/last-run.json` in one rename, so a watcher never reads half of it.
fn write_summary(output: &std::path::Path, summary: &Value) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let text = serde_json::to_string_pretty(summary)?;
    crate::output::replace_with(&output.join("last-run.json"), text.as_bytes())?;
    Ok(())
}
