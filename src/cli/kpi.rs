//! `cex kpi <pipeline> [--period 2024-03 | --fy 2023/24]`: KPI tables from the lake into the
//! output folder, a summary on stdout.

use anyhow::Context;

use super::KpiArgs;
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::kpi::period::Period;
use crate::kpi::{compute, latest_month, KpiRun};
use crate::lake::Lake;
use crate::output::publish::{Part, Publication};

pub fn run(args: &KpiArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let run = kpi_stage(
        &pipeline,
        args.period.as_deref(),
        args.fy.as_deref(),
        args.lake_version,
    )?;
    // New KPI tables, the equality tables kept, charts and report drawn again from both.
    let publication =
        Publication::begin(&publication_dir(&pipeline, run.period), &[Part::Equality])
            .context("cannot start the publication")?;
    write_kpis(publication.dir(), &run)?;
    super::report::redraw(&pipeline, run.period, publication.dir(), true, true)?;
    let published = publication
        .publish()
        .context("cannot publish the outputs")?;
    log_written(&run, &published);
    for w in &run.warnings {
        crate::log::warn(w);
    }
    Ok(if args.deny_warnings && !run.warnings.is_empty() {
        ExitCode::Warnings
    } else {
        ExitCode::Ok
    })
}

/// The KPI stage of a run: computes the tables for the period asked for (or the latest month in
/// the lake) and prints the channel-shift headline.
pub(super) fn kpi_stage(
    pipeline: &Pipeline,
    period: Option<&str>,
    fy: Option<&str>,
    lake_version: Option<i64>,
) -> anyhow::Result<KpiRun> {
    let lake = Lake::open_at(&pipeline.lake_dir, lake_version)?;
    let period = resolve_period(&lake, period, fy)?;
    let run = compute(pipeline, &lake, period)?;
    print_channel_shift(&run);
    Ok(run)
}

/// Writes the KPI tables, workbook and `kpi-summary.json` into a publication being assembled.
pub(super) fn write_kpis(dir: &std::path::Path, run: &KpiRun) -> anyhow::Result<()> {
    crate::output::write_tables(dir, &run.tables, "cex-kpi.xlsx")?;
    let summary_path = dir.join("kpi-summary.json");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&run.summary)?)
        .with_context(|| format!("cannot write {}", summary_path.display()))?;
    Ok(())
}

pub(super) fn log_written(run: &KpiRun, published: &std::path::Path) {
    crate::log::info(&format!(
        "KPIs for {} written to {} ({} tables, cex-kpi.xlsx, kpi-summary.json)",
        run.period.describe(),
        published.display(),
        run.tables.len()
    ));
}

/// Where a period's publication (KPI tables, `equality/`, `charts/`, report) lives.
pub(super) fn publication_dir(pipeline: &Pipeline, period: Period) -> std::path::PathBuf {
    pipeline.output_dir.join(period_folder(period))
}

/// The period asked for on the command line, or the latest month in the lake.
pub(super) fn resolve_period(
    lake: &Lake,
    period: Option<&str>,
    fy: Option<&str>,
) -> anyhow::Result<Period> {
    Ok(match (period, fy) {
        (Some(p), _) => Period::parse(p)
            .filter(|p| matches!(p, Period::Month { .. }))
            .ok_or_else(|| super::CliError::BadArgument {
                flag: "--period",
                value: p.to_string(),
                fix: "give a month as YYYY-MM, e.g. 2024-03",
            })?,
        (None, Some(f)) => Period::parse(f)
            .filter(|p| matches!(p, Period::FinancialYear(_)))
            .ok_or_else(|| super::CliError::BadArgument {
                flag: "--fy",
                value: f.to_string(),
                fix: "give a financial year as YYYY/YY, e.g. 2023/24",
            })?,
        (None, None) => latest_month(lake, london_today())?,
    })
}

/// `fy2023-24` or `2024-03`: a folder name per period.
pub(super) fn period_folder(period: Period) -> String {
    match period {
        Period::FinancialYear(_) => format!("fy{}", period.label().replace('/', "-")),
        Period::Month { .. } => period.label(),
    }
}

/// The headline table, as a Cabinet paper would show it.
fn print_channel_shift(run: &KpiRun) {
    let Some(table) = run.tables.iter().find(|t| t.name == "channel_shift") else {
        return;
    };
    let df = &table.frame;
    let text = |name: &str, i: usize| {
        df.column(name)
            .ok()
            .and_then(|c| c.str().ok().and_then(|s| s.get(i).map(str::to_string)))
            .unwrap_or_default()
    };
    let int = |name: &str, i: usize| {
        df.column(name)
            .ok()
            .and_then(|c| c.i64().ok().and_then(|s| s.get(i)))
    };
    let pct = |name: &str, i: usize| {
        df.column(name)
            .ok()
            .and_then(|c| c.f64().ok().and_then(|s| s.get(i)))
            .map(|v| format!("{v:+.1}%"))
            .unwrap_or_else(|| "n/a".into())
    };
    let width = (0..df.height())
        .map(|i| text("kpi", i).chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    println!(
        "{:<width$} {:>10} {:>10} {:>8} {:>8}  {:<8} RAG",
        "KPI", "baseline", "current", "change", "target", "status"
    );
    for i in 0..df.height() {
        println!(
            "{:<width$} {:>10} {:>10} {:>8} {:>8}  {:<8} {}",
            text("kpi", i),
            int("baseline", i)
                .map(|v| v.to_string())
                .unwrap_or_default(),
            int("current", i).map(|v| v.to_string()).unwrap_or_default(),
            pct("change_pct", i),
            pct("target_change_pct", i),
            text("status", i),
            text("rag", i)
        );
    }
}

/// Today's date in the UK, which decides whether this month is complete.
fn london_today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}
