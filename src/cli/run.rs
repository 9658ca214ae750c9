//! `cex run <pipeline>`: every stage in order: ingest, KPIs, equality, charts, report, each
//! skippable with `--skip`; leaves `<output>/last-run.json` with the outcome (status, exit code,
//! the error if it failed), stage timings, counts, warnings and the lake version, for every run,
//! failed ones included, for whoever watches the job.

use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};

use super::{RunArgs, Stage};
use crate::exit_codes::{self, ExitCode};

/// What `last-run.json` says about a run.
#[derive(Debug, Default, Serialize)]
struct RunSummary {
    pipeline: Option<String>,
    /// `ok`, `warnings` or `failed`.
    status: &'static str,
    exit_code: i32,
    /// The error that stopped a failed run, on one line.
    error: Option<String>,
    period: Value,
    /// The lake version the published figures were read from (what --lake-version reproduces).
    lake_version: Value,
    finished_at: String,
    stages: Vec<Value>,
    ingest: Value,
    warnings: Vec<String>,
}

/// Longest error text kept in `last-run.json`.
const ERROR_CHARS: usize = 300;

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let mut summary = RunSummary::default();
    let outcome = run_stages(args, &mut summary);
    let code = match &outcome {
        Ok(code) => *code,
        Err(e) => exit_codes::for_error(e),
    };
    summary.exit_code = code.code();
    summary.status = match code {
        ExitCode::Ok => "ok",
        ExitCode::Warnings => "warnings",
        _ => "failed",
    };
    if let Err(e) = &outcome {
        summary.error = Some(format!("{e:#}").chars().take(ERROR_CHARS).collect());
    }
    summary.finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // A pipeline file that cannot be read names no output folder: nothing to write then.
    if let Ok(pipeline) = crate::config::Pipeline::load(&args.pipeline_args.pipeline) {
        summary.pipeline = Some(pipeline.name.clone());
        let written = write_summary(&pipeline.output_dir, &summary);
        if outcome.is_ok() {
            written?;
        }
    }
    outcome
}

fn run_stages(args: &RunArgs, summary: &mut RunSummary) -> anyhow::Result<ExitCode> {
    let runs = |stage: Stage| !args.skip.contains(&stage);
    let RunSummary {
        warnings,
        stages,
        ingest: ingest_counts,
        lake_version,
        period,
        ..
    } = summary;
    let mut warned = false;
    if args.lake_version.is_some() && runs(Stage::Ingest) {
        return Err(crate::config::ConfigError {
            file: args.pipeline_args.pipeline.clone(),
            problems: vec![crate::config::Problem {
                key: "--lake-version".into(),
                message: "reads the lake as it was, so nothing can be ingested into it: add --skip ingest".into(),
            }],
        }
        .into());
    }
    if runs(Stage::Ingest) {
        let started = Instant::now();
        let (code, report) = super::ingest::ingest_stage(&args.pipeline_args)?;
        let (read, accepted, rejected, duplicates) = report.totals();
        *ingest_counts = json!({
            "files": report.files.len(), "rows_read": read, "accepted": accepted,
            "rejected": rejected, "duplicates": duplicates, "committed": report.committed,
            "lake_version": report.lake_version,
        });
        *lake_version = json!(report.lake_version);
        warnings.extend(
            report
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.file, w.message)),
        );
        stages.push(json!({"stage": "ingest", "seconds": started.elapsed().as_secs_f64(), "exit_code": code.code()}));
        if code != ExitCode::Ok && code != ExitCode::Warnings {
            return Ok(code);
        }
        warned |= code == ExitCode::Warnings || !report.warnings.is_empty();
    }
    let pipeline = super::load_pipeline(&args.pipeline_args.pipeline, &[])?;
    let mut resolved = None;
    if runs(Stage::Kpi) {
        let started = Instant::now();
        let kpis = super::kpi::kpi_stage(
            &pipeline,
            args.period.as_deref(),
            args.fy.as_deref(),
            args.lake_version,
        )?;
        for w in &kpis.warnings {
            crate::log::warn(w);
        }
        warned |= !kpis.warnings.is_empty();
        warnings.extend(kpis.warnings.iter().cloned());
        *period = json!(kpis.period.label());
        *lake_version = kpis.summary["lake_version"].clone();
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
            args.lake_version,
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
                let lake = crate::lake::Lake::open_at(&pipeline.lake_dir, args.lake_version)?;
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
    Ok(if args.pipeline_args.deny_warnings && warned {
        ExitCode::Warnings
    } else {
        ExitCode::Ok
    })
}

/// Replaces `<output>/last-run.json` in one rename, so a watcher never reads half of it.
fn write_summary(output: &std::path::Path, summary: &RunSummary) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let text = serde_json::to_string_pretty(summary)?;
    crate::output::replace_with(&output.join("last-run.json"), text.as_bytes())?;
    Ok(())
}
