//! `cex run <pipeline>`: every stage in order: ingest, KPIs, equality, charts, report, each
//! skippable with `--skip`; leaves `<output>/last-run.json` with the outcome (status, exit code,
//! the error if it failed), stage timings, counts, warnings and the lake version, for every run,
//! failed ones included, for whoever watches the job.

use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};

use anyhow::Context;

use super::{RunArgs, Stage};
use crate::exit_codes::{self, ExitCode};
use crate::output::publish::{Part, Publication, EQUALITY_DIR};

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
    if let (Some(v), true) = (args.lake_version, runs(Stage::Ingest)) {
        return Err(super::CliError::BadArgument {
            flag: "--lake-version",
            value: v.to_string(),
            fix: "reads the lake as it was, so nothing can be ingested into it: add --skip ingest",
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
    let surveyed = pipeline
        .sources
        .iter()
        .any(|s| s.kind == crate::config::SourceKind::Satisfaction);
    if runs(Stage::Equality) && !surveyed {
        crate::log::info("no satisfaction source in the pipeline: equality tables skipped");
    }
    let kpis = if runs(Stage::Kpi) {
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
        *lake_version = kpis.summary["lake_version"].clone();
        stages.push(json!({"stage": "kpi", "seconds": started.elapsed().as_secs_f64(), "tables": kpis.tables.len()}));
        Some(kpis)
    } else {
        None
    };
    let at = match &kpis {
        Some(k) => k.period,
        None => {
            let lake = crate::lake::Lake::open_at(&pipeline.lake_dir, args.lake_version)?;
            super::kpi::resolve_period(&lake, args.period.as_deref(), args.fy.as_deref())?
        }
    };
    *period = json!(at.label());
    // Every stage reads the lake at the version the KPI stage read (another run may commit in
    // between: the lock is held only while ingesting), so the publication is one version's.
    let read_version = args.lake_version.or_else(|| {
        kpis.as_ref()
            .and_then(|k| k.summary["lake_version"].as_i64())
    });
    let equality = if runs(Stage::Equality) && surveyed {
        let started = Instant::now();
        let tables = super::equality::equality_stage(&pipeline, at, read_version)?;
        stages.push(json!({"stage": "equality", "seconds": started.elapsed().as_secs_f64(), "tables": tables.len()}));
        Some(tables)
    } else {
        None
    };
    // One publication for the period: what this run computed, the rest of the current one kept,
    // charts and report drawn from the whole, then published in one step.
    let mut keep = Vec::new();
    if kpis.is_none() {
        keep.push(Part::Kpi);
    }
    if equality.is_none() {
        keep.push(Part::Equality);
    }
    if !runs(Stage::Charts) {
        keep.push(Part::Charts);
    }
    if !runs(Stage::Report) {
        keep.push(Part::Report);
    }
    let publication = Publication::begin(&super::kpi::publication_dir(&pipeline, at), &keep)
        .context("cannot start the publication")?;
    if let Some(k) = &kpis {
        super::kpi::write_kpis(publication.dir(), k)?;
    }
    if let Some(tables) = &equality {
        super::equality::write_equality(&publication.dir().join(EQUALITY_DIR), tables)?;
    }
    if runs(Stage::Charts) || runs(Stage::Report) {
        match super::report::redraw(
            &pipeline,
            at,
            publication.dir(),
            runs(Stage::Charts),
            runs(Stage::Report),
        )? {
            None => {
                let message = "no KPI tables published for the period: charts and report skipped (run without --skip kpi)";
                crate::log::warn(message);
                warnings.push(message.to_string());
                warned = true;
            }
            Some(drawn) => {
                if runs(Stage::Charts) {
                    stages.push(json!({"stage": "charts", "seconds": drawn.charts_seconds, "charts": drawn.charts}));
                }
                if runs(Stage::Report) {
                    stages.push(json!({"stage": "report", "seconds": drawn.report_seconds}));
                }
            }
        }
    }
    if publication.is_empty() {
        // Nothing computed and nothing published before: no folder for the period.
        return Ok(if args.pipeline_args.deny_warnings && warned {
            ExitCode::Warnings
        } else {
            ExitCode::Ok
        });
    }
    let published = publication
        .publish()
        .context("cannot publish the outputs")?;
    if let Some(k) = &kpis {
        super::kpi::log_written(k, &published);
    }
    if let Some(tables) = &equality {
        super::equality::log_written(
            &pipeline,
            at,
            tables.len(),
            &published.join(EQUALITY_DIR),
            true,
        );
    }
    if runs(Stage::Report) && published.join("report.html").is_file() {
        crate::log::info(&format!(
            "report for {} written to {} (and report.md)",
            at.describe(),
            published.join("report.html").display()
        ));
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
