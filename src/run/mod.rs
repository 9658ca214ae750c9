//! A run of the pipeline: the stage order (ingest, KPIs, equality, charts, report), the period
//! (resolved in the pipeline's time zone from the run's as-of date, so a run can be repeated for a
//! given day), the publication it assembles and publishes in one step, and the [`RunSummary`]
//! written as `<output>/last-run.json` for whoever watches the job. `cex run`, `cex kpi`,
//! `cex equality` and `cex report` are all runs with some stages left out; the CLI only parses
//! arguments into [`RunOptions`], calls [`run`] and prints.

pub mod stages;

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use crate::config::ConfigError;
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::ingest::IngestError;
use crate::lake::Lake;
use crate::lake::LakeError;
use crate::measures::FigureError;
use crate::period::{Period, Span};
use crate::sources::SourceError;
use crate::tables::publish::{Part, Publication, EQUALITY_DIR};
use crate::tables::OutputError;
use crate::warnings::Warning;

/// The stages of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Ingest,
    Kpi,
    Equality,
    /// Disclosure control: always run when tables are computed (never skipped).
    #[value(skip)]
    Disclosure,
    Charts,
    Report,
}

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The day the run is for: decides the default period (the last complete month on that day)
    /// and the report's date. Default: today in the pipeline's time zone ([`today_in`]).
    pub as_of: chrono::NaiveDate,
    /// The period to report on; default: the last complete month in the lake on `as_of`.
    pub period: Option<Period>,
    /// Stages left out.
    pub skip: Vec<Stage>,
    /// Read the lake as it was at this version (needs `Stage::Ingest` skipped).
    pub lake_version: Option<i64>,
    /// Ingest only these sources (all when empty).
    pub sources: Vec<String>,
    /// A run with warnings ends with [`ExitCode::Warnings`].
    pub deny_warnings: bool,
    /// Write `last-run.json` (what `cex run` does; the single-stage commands do not).
    pub record: bool,
}

impl RunOptions {
    /// Every stage, for today in the pipeline's time zone, the latest complete month.
    pub fn new(pipeline: &Pipeline) -> RunOptions {
        RunOptions {
            as_of: today_in(pipeline),
            period: None,
            skip: Vec::new(),
            lake_version: None,
            sources: Vec::new(),
            deny_warnings: false,
            record: false,
        }
    }

    pub fn runs(&self, stage: Stage) -> bool {
        !self.skip.contains(&stage)
    }
}

/// Today's date in the pipeline's time zone (`timezone`, default Europe/London): whether this
/// month is complete depends on where the council is, not on the machine's clock setting.
pub fn today_in(pipeline: &Pipeline) -> chrono::NaiveDate {
    crate::period::today_in_zone(&pipeline.timezone)
}

/// How long a stage took, and what it produced.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    pub stage: Stage,
    pub seconds: f64,
    /// Tables (KPI, equality) or charts written; rows for ingest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// The ingest stage's counts, as `last-run.json` reports them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestCounts {
    pub files: usize,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Rows out of scope under the sources' row filters (read = accepted + rejected +
    /// duplicates + excluded).
    pub excluded: u64,
    pub committed: bool,
    pub lake_version: Option<i64>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Ok,
    Warnings,
    Failed,
}

/// What `last-run.json` says about a run: its outcome (status, exit code, the error if it
/// failed), the day and period it was for, the lake version read, stage timings, ingest counts
/// and warnings.
#[derive(Debug, Default, Serialize)]
pub struct RunSummary {
    pub pipeline: String,
    pub status: Status,
    pub exit_code: i32,
    /// The error that stopped a failed run, on one line; for a run that exited 1 under
    /// `--deny-warnings`, how many warnings there were and the first.
    pub error: Option<String>,
    /// The day the run was for (`--as-of`).
    pub as_of: Option<chrono::NaiveDate>,
    /// `2024-03` or `2023/24`.
    pub period: Option<String>,
    /// The lake version the published figures were read from (what --lake-version reproduces).
    pub lake_version: Option<i64>,
    pub finished_at: String,
    pub stages: Vec<StageTiming>,
    pub ingest: Option<IngestCounts>,
    #[serde(serialize_with = "reported")]
    pub warnings: Vec<Warning>,
    /// The error itself, for the caller to print (not serialised: `error` holds its text).
    #[serde(skip)]
    pub failure: Option<anyhow::Error>,
}

/// Why a run with warnings exited 1 under `--deny-warnings`: how many, and the first.
fn denied_warnings(warnings: &[Warning]) -> String {
    let first = warnings
        .first()
        .map(|w| format!("; the first: {w}"))
        .unwrap_or_default();
    format!(
        "{} warning{} with --deny-warnings (each is in `warnings`){first}",
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    )
}

fn reported<S: serde::Serializer>(warnings: &[Warning], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(warnings.iter().map(Warning::reported))
}

impl RunSummary {
    /// The exit code the run ended with.
    pub fn code(&self) -> ExitCode {
        ExitCode::from_code(self.exit_code)
    }

    /// The run's outcome for a caller that reports errors itself.
    pub fn into_result(mut self) -> anyhow::Result<ExitCode> {
        match self.failure.take() {
            Some(e) => Err(e),
            None => Ok(self.code()),
        }
    }
}

/// What a run refuses to do, or finds nothing to do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("--lake-version {version}: reads the lake as it was, so nothing can be ingested into it: add --skip ingest")]
    LakeVersionNeedsSkipIngest { version: i64 },
    #[error("{}: {what}", path.display())]
    NothingPublished {
        path: std::path::PathBuf,
        what: String,
    },
    /// A command-line value the pipeline cannot serve (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The period asked for has no contacts and no responses in the lake (exit 3).
    #[error("the lake has no contacts or responses in {period}; it holds {held}")]
    NoDataInPeriod { period: String, held: String },
}

impl RunError {
    pub fn usage(message: String) -> RunError {
        RunError::Usage(message)
    }
}

fn for_lake(e: &LakeError) -> ExitCode {
    match e {
        LakeError::Locked { .. } => ExitCode::Locked,
        LakeError::NoSuchVersion { .. } | LakeError::OldLayout { .. } => ExitCode::Config,
        LakeError::Io { .. } | LakeError::Data { .. } => ExitCode::Internal,
    }
}

/// The exit code for an error: the first cause in its chain whose type says.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return ExitCode::Config;
        }
        if let Some(e) = cause.downcast_ref::<RunError>() {
            return match e {
                RunError::LakeVersionNeedsSkipIngest { .. } | RunError::Usage(_) => {
                    ExitCode::Config
                }
                RunError::NothingPublished { .. } | RunError::NoDataInPeriod { .. } => {
                    ExitCode::Input
                }
            };
        }
        if cause.downcast_ref::<SourceError>().is_some() {
            return ExitCode::Input;
        }
        if let Some(e) = cause.downcast_ref::<LakeError>() {
            return for_lake(e);
        }
        if let Some(e) = cause.downcast_ref::<IngestError>() {
            return match e {
                IngestError::NoFiles { .. }
                | IngestError::BadPattern { .. }
                | IngestError::Link { .. }
                | IngestError::NotAFile { .. } => ExitCode::Input,
                IngestError::Source(_) | IngestError::Data { .. } => ExitCode::Input,
                IngestError::Lake(e) => for_lake(e),
                IngestError::Secret { .. } => ExitCode::Config,
            };
        }
        if let Some(e) = cause.downcast_ref::<OutputError>() {
            return match e {
                // A published table that cannot be read back as the charts and report need.
                OutputError::File { .. } => ExitCode::Input,
                _ => ExitCode::Internal,
            };
        }
        if let Some(e) = cause.downcast_ref::<FigureError>() {
            return match e {
                FigureError::NoData(_) => ExitCode::Input,
                FigureError::Data(_) => ExitCode::Internal,
            };
        }
    }
    ExitCode::Internal
}

/// Longest error text kept in `last-run.json`.
const ERROR_CHARS: usize = 300;

/// An error as `last-run.json` keeps it: on one line, at most [`ERROR_CHARS`] characters (ending
/// with `…` when cut). Values in it were quoted clipped and scrubbed when the error was made.
fn error_line(message: &str) -> String {
    let flat = crate::log::one_line(message, None);
    if flat.chars().count() > ERROR_CHARS {
        let mut cut: String = flat.chars().take(ERROR_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        flat
    }
}

/// Runs the stages `options` asks for, publishes what they produced for the period in one step,
/// and (with `options.record`) writes `last-run.json`, failed runs included.
pub fn run(pipeline: &Pipeline, options: &RunOptions) -> RunSummary {
    let mut summary = RunSummary {
        pipeline: pipeline.name.clone(),
        as_of: Some(options.as_of),
        ..RunSummary::default()
    };
    let outcome = run_stages(pipeline, options, &mut summary);
    let code = match &outcome {
        Ok(code) => *code,
        Err(e) => exit_code(e),
    };
    summary.exit_code = code.code();
    summary.status = match code {
        ExitCode::Ok => Status::Ok,
        ExitCode::Warnings => Status::Warnings,
        _ => Status::Failed,
    };
    summary.finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Err(e) = outcome {
        summary.error = Some(format!("{e:#}"));
        summary.failure = Some(e);
    }
    if summary.status == Status::Warnings && summary.error.is_none() {
        // A cron job's monitor reads `error` to say why the run did not exit 0.
        summary.error = Some(denied_warnings(&summary.warnings));
    }
    if summary.status == Status::Failed && summary.error.is_none() {
        // Every failed run says why; a stage that failed without saying is a bug, named so.
        summary.error = Some(format!(
            "the run failed with exit code {} and no message (a bug in cex: please report it)",
            summary.exit_code
        ));
    }
    summary.error = summary.error.as_deref().map(error_line);
    if options.record {
        if let Err(e) = write_summary(&pipeline.output_dir, &summary) {
            // A run that failed reports its own error; one that worked reports this one.
            if summary.failure.is_none() {
                summary.exit_code = exit_code(&e).code();
                summary.status = Status::Failed;
                summary.failure = Some(e);
            }
        }
    }
    summary
}

/// The period a run reports on: the one asked for, or the last complete month in `lake` on the
/// run's day.
pub fn resolve_period(
    lake: &Lake,
    options: &RunOptions,
    calendar: crate::period::Calendar,
) -> anyhow::Result<Period> {
    match options.period {
        Some(p) => Ok(p),
        None => Ok(crate::kpi::latest_month(lake, options.as_of, calendar)?),
    }
}

/// A period chosen by itself is flagged when its contacts are under this share of the median
/// month of the lake's recent months.
const THIN_PERIOD_SHARE: f64 = 0.05;

/// How many of the lake's latest months with contacts (other than the period) it is compared with.
const RECENT_MONTHS: usize = 12;

/// For a period chosen by itself (no `--period`): the warning when a few stray rows chose it
/// ([`thin_period`]), from the lake's contacts per month.
pub fn thin_default_period(
    pipeline: &Pipeline,
    lake: &Lake,
    period: Period,
) -> anyhow::Result<Option<Warning>> {
    let at = crate::lake::monthly::Thresholds::of(pipeline);
    let per_month = crate::kpi::contacts_per_month(lake, at)?;
    Ok(thin_period(&per_month, period))
}

/// The warning for a period chosen by itself (no `--period`) whose month holds under
/// [`THIN_PERIOD_SHARE`] of the median contacts of the lake's last [`RECENT_MONTHS`] other months
/// with contacts (`per_month`: contacts per month, in order): a couple of stray rows dated months
/// after the export would otherwise decide what a cron job publishes, without a word. A month
/// without contacts, or a lake with no other month, is not compared.
fn thin_period(per_month: &[crate::kpi::MonthContacts], period: Period) -> Option<Warning> {
    let Span::Month { year, month } = period.span() else {
        return None;
    };
    let contacts = per_month
        .iter()
        .find(|(m, _)| *m == (year, month))
        .map_or(0, |(_, n)| *n);
    if contacts == 0 {
        return None;
    }
    let others: Vec<&crate::kpi::MonthContacts> = per_month
        .iter()
        .filter(|(m, _)| *m != (year, month))
        .collect();
    let recent = &others[others.len().saturating_sub(RECENT_MONTHS)..];
    let mut counts: Vec<u64> = recent.iter().map(|(_, n)| *n).collect();
    counts.sort_unstable();
    let median = match counts.len() {
        0 => return None,
        n if n % 2 == 1 => counts[n / 2] as f64,
        n => (counts[n / 2 - 1] + counts[n / 2]) as f64 / 2.0,
    };
    if contacts as f64 >= THIN_PERIOD_SHARE * median {
        return None;
    }
    // The first of the busiest months, should two tie.
    let ((by, bm), busiest_contacts) =
        recent
            .iter()
            .copied()
            .fold(None::<((i32, i8), u64)>, |best, &(m, n)| match best {
                Some((_, b)) if b >= n => best,
                _ => Some((m, n)),
            })?;
    Some(Warning::ThinDefaultPeriod {
        period: period.label(),
        contacts,
        median: median.round() as u64,
        months: recent.len(),
        busiest: format!("{by:04}-{bm:02}"),
        busiest_contacts,
    })
}

/// A period none of whose months holds a contact or a response is an error (exit 3), naming
/// the months the lake does hold: figures of all zeros would read as "calls -100%, met". Rows
/// dated by a quarter or a year that the period's year to date counts are data too.
fn no_data_in_period(lake: &Lake, period: Period) -> anyhow::Result<()> {
    let wanted = period.months();
    // Only the period's files are read to find its months (a monthly run's lake holds years).
    let held_in = match (wanted.iter().min(), wanted.iter().max()) {
        (Some(from), Some(to)) => crate::kpi::months_held_in(lake, *from, *to)?,
        _ => Vec::new(),
    };
    // Rows dated by a quarter or a year count where the year's figures count them: a month's
    // year to date, or the whole year.
    let year = period.months_in(period.financial_year());
    if held_in.iter().any(|m| wanted.contains(m)) || crate::kpi::coarse_rows_in(lake, &year)? {
        return Ok(());
    }
    // Nothing: every month held, for the message.
    let held = crate::kpi::months_held(lake)?;
    let name = |(y, m): (i32, i8)| crate::period::month_name(y, m);
    let held = match (held.first(), held.last()) {
        (Some(a), Some(b)) if a == b => name(*a),
        (Some(a), Some(b)) => format!("{} to {}", name(*a), name(*b)),
        _ => "nothing yet: run `cex ingest` first".to_string(),
    };
    let asked = match period.span() {
        Span::Month { year, month } => name((year, month)),
        Span::FinancialYear(_) => period.describe(),
    };
    Err(RunError::NoDataInPeriod {
        period: asked,
        held,
    }
    .into())
}

/// Hands the memory ingest has freed back to the system before the figures are worked out.
/// glibc keeps freed memory for reuse, scattered in holes among its arenas; the KPI stage's
/// large columns do not fit those holes and take fresh memory beside them, so without this the
/// process holds both. At ten million calls with customer keys (docs/benchmarks.md) the whole
/// job's peak went from 4.1-4.4 GB to 3.1-3.2 GB and its KPI stage from 7.2-9.5 s to 7.0-7.4 s.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer; it only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn run_stages(
    pipeline: &Pipeline,
    options: &RunOptions,
    summary: &mut RunSummary,
) -> anyhow::Result<ExitCode> {
    let runs = |stage| options.runs(stage);
    if let (Some(v), true) = (options.lake_version, runs(Stage::Ingest)) {
        return Err(RunError::LakeVersionNeedsSkipIngest { version: v }.into());
    }
    let mut warned = false;
    if runs(Stage::Ingest) {
        let started = Instant::now();
        let (code, report) = stages::ingest(
            pipeline,
            &options.sources,
            options.deny_warnings,
            Some(options.as_of),
        )?;
        let crate::ingest::RowCounts {
            rows_read,
            accepted,
            rejected,
            duplicates,
            excluded,
            ..
        } = report.totals();
        summary.ingest = Some(IngestCounts {
            files: report.files.len(),
            rows_read,
            accepted,
            rejected,
            duplicates,
            excluded,
            committed: report.committed,
            lake_version: report.lake_version,
        });
        summary.lake_version = report.lake_version;
        summary.warnings.extend(report.warnings.iter().cloned());
        release_freed_memory();
        summary.stages.push(StageTiming {
            stage: Stage::Ingest,
            seconds: started.elapsed().as_secs_f64(),
            items: None,
            exit_code: Some(code.code()),
        });
        if code != ExitCode::Ok && code != ExitCode::Warnings {
            // Not an error to print (the stage printed its own line), but the run's error.
            summary.error = Some(stages::gate_failure_error(&report));
            return Ok(code);
        }
        warned |= code == ExitCode::Warnings || !report.warnings.is_empty();
    }
    let surveyed = pipeline
        .sources
        .iter()
        .any(|s| s.kind == crate::config::SourceKind::Satisfaction);
    if runs(Stage::Equality) && !surveyed {
        crate::log::info("no satisfaction source in the pipeline: equality tables skipped");
    }
    // One snapshot of the lake for the period and every figure (another run may commit in
    // between: the lock is held only while ingesting), so the publication is one version's.
    let computes = runs(Stage::Kpi) || (runs(Stage::Equality) && surveyed);
    let lake = if computes || options.period.is_none() {
        let lake = Lake::open_at(&pipeline.lake_dir, options.lake_version)?;
        summary.lake_version = lake.version();
        Some(lake)
    } else {
        None
    };
    let period = match (&lake, options.period) {
        (_, Some(p)) => p,
        (Some(lake), None) => resolve_period(lake, options, pipeline.calendar)?,
        // Not reached: the lake is opened whenever no period is given.
        (None, None) => anyhow::bail!("no period to report on: give --period or --fy"),
    };
    summary.period = Some(period.label());
    if let (Some(lake), true) = (&lake, computes) {
        no_data_in_period(lake, period)?;
    }
    if let (Some(lake), None) = (&lake, options.period) {
        if let Some(warning) = thin_default_period(pipeline, lake, period)? {
            crate::log::warn(&warning.to_string());
            summary.warnings.push(warning);
            warned = true;
        }
    }
    // The KPI and equality stages read the same snapshot and share nothing else: they run at
    // the same time (each stage's time is its own, so the two overlap), and what they say is
    // said afterwards in stage order.
    let wants_kpis = runs(Stage::Kpi);
    let wants_equality = runs(Stage::Equality) && surveyed;
    let (kpis, equality) = match &lake {
        Some(lake) => std::thread::scope(|scope| {
            let equality = wants_equality.then(|| {
                scope.spawn(|| {
                    let started = Instant::now();
                    stages::equality(pipeline, lake, period)
                        .map(|tables| (tables, started.elapsed().as_secs_f64()))
                })
            });
            let kpis = wants_kpis.then(|| {
                let started = Instant::now();
                stages::kpi(pipeline, lake, period)
                    .map(|kpis| (kpis, started.elapsed().as_secs_f64()))
            });
            let equality = equality.map(|running| {
                running.join().unwrap_or_else(|_| {
                    Err(anyhow::anyhow!("the equality stage failed unexpectedly"))
                })
            });
            (kpis, equality)
        }),
        None => (None, None),
    };
    let kpis = match kpis {
        Some(result) => {
            let (kpis, seconds) = result?;
            stages::print_channel_shift(&kpis);
            for w in &kpis.warnings {
                crate::log::warn(&w.to_string());
            }
            warned |= !kpis.warnings.is_empty();
            summary.warnings.extend(kpis.warnings.iter().cloned());
            summary.stages.push(StageTiming {
                stage: Stage::Kpi,
                seconds,
                items: Some(kpis.tables.len()),
                exit_code: None,
            });
            Some(kpis)
        }
        None => None,
    };
    let equality = match equality {
        Some(result) => {
            let (tables, seconds) = result?;
            summary.stages.push(StageTiming {
                stage: Stage::Equality,
                seconds,
                items: Some(tables.len()),
                exit_code: None,
            });
            Some(tables)
        }
        None => None,
    };
    // Disclosure control over the whole publication: the survey tables of both stages are
    // protected together, so a stage run alone computes the other's (unwritten) to protect its own,
    // and against the year's other publications already out (their records are kept).
    let mut release = None;
    // Held until this publication's record is kept, so that no other run publishes beside the
    // year without it.
    let mut _releases_lock = None;
    let (kpis, equality, audit) = match &lake {
        Some(lake) if kpis.is_some() || equality.is_some() => {
            let started = Instant::now();
            let protected = stages::protect(pipeline, lake, period, kpis, equality)?;
            summary.stages.push(StageTiming {
                stage: Stage::Disclosure,
                seconds: started.elapsed().as_secs_f64(),
                items: Some(protected.audit.primary + protected.audit.secondary),
                exit_code: None,
            });
            for w in &protected.warnings {
                crate::log::warn(&w.to_string());
            }
            warned |= !protected.warnings.is_empty();
            summary.warnings.extend(protected.warnings);
            release = Some(protected.release);
            _releases_lock = Some(protected.releases_lock);
            (protected.kpis, protected.equality, Some(protected.audit))
        }
        _ => (kpis, equality, None),
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
    let publication = Publication::begin(&stages::publication_dir(pipeline, period), &keep)
        .context("cannot start the publication")?;
    // The KPI tables, the equality tables and the audit are files of their own: written at once.
    let dir = publication.dir();
    let (kpis_written, (equality_written, audit_written)) = rayon::join(
        || kpis.as_ref().map_or(Ok(()), |k| stages::write_kpis(dir, k)),
        || {
            rayon::join(
                || {
                    // None at all when they were withheld.
                    equality
                        .as_ref()
                        .filter(|tables| !tables.is_empty())
                        .map_or(Ok(()), |tables| {
                            stages::write_equality(&dir.join(EQUALITY_DIR), tables)
                        })
                },
                || {
                    audit
                        .as_ref()
                        .map_or(Ok(()), |a| stages::write_audit(dir, a))
                },
            )
        },
    );
    kpis_written?;
    equality_written?;
    audit_written?;
    if runs(Stage::Charts) || runs(Stage::Report) {
        match stages::redraw(
            pipeline,
            period,
            options.as_of,
            publication.dir(),
            runs(Stage::Charts),
            runs(Stage::Report),
        )? {
            None => {
                let warning = Warning::NoKpiTablesToDraw;
                crate::log::warn(&warning.to_string());
                summary.warnings.push(warning);
                warned = true;
            }
            Some(drawn) => {
                if runs(Stage::Charts) {
                    summary.stages.push(StageTiming {
                        stage: Stage::Charts,
                        seconds: drawn.charts_seconds,
                        items: Some(drawn.charts),
                        exit_code: None,
                    });
                }
                if runs(Stage::Report) {
                    summary.stages.push(StageTiming {
                        stage: Stage::Report,
                        seconds: drawn.report_seconds,
                        items: None,
                        exit_code: None,
                    });
                }
            }
        }
    }
    let code = if options.deny_warnings && warned {
        ExitCode::Warnings
    } else {
        ExitCode::Ok
    };
    if publication.is_empty() {
        // Nothing computed and nothing published before: no folder for the period.
        return Ok(code);
    }
    // Kept before it goes out: a record of a publication that then fails to go out only makes
    // later ones hide more.
    if let Some(release) = &release {
        stages::keep_release(pipeline, period, release)?;
    }
    let published = publication
        .publish()
        .context("cannot publish the outputs")?;
    if let Some(k) = &kpis {
        stages::log_kpis_written(k, &published);
    }
    if let Some(tables) = equality.as_ref().filter(|t| !t.is_empty()) {
        stages::log_equality_written(
            pipeline,
            period,
            tables.len(),
            &published.join(EQUALITY_DIR),
            true,
        );
    }
    if runs(Stage::Report) && published.join("report.html").is_file() {
        crate::log::info(&format!(
            "report for {} written to {} (and report.md)",
            period.describe(),
            published.join("report.html").display()
        ));
    }
    Ok(code)
}

/// Replaces `<output>/last-run.json` in one rename, so a watcher never reads half of it.
fn write_summary(output: &Path, summary: &RunSummary) -> anyhow::Result<()> {
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let text = serde_json::to_string_pretty(summary)?;
    crate::tables::replace_with(&output.join("last-run.json"), text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_period_with_a_tiny_share_of_the_recent_months_is_flagged() {
        let uk = crate::period::Calendar::default();
        let nov = Period::month(2011, 11, uk);
        // 997 contacts in March, 2 stray ones in November: flagged, naming March.
        let stray = [((2011, 3), 997), ((2011, 11), 2)];
        match thin_period(&stray, nov) {
            Some(Warning::ThinDefaultPeriod {
                period,
                contacts,
                median,
                months,
                busiest,
                busiest_contacts,
            }) => {
                assert_eq!(period, "2011-11");
                assert_eq!((contacts, median, months), (2, 997, 1));
                assert_eq!((busiest.as_str(), busiest_contacts), ("2011-03", 997));
            }
            other => panic!("expected a warning, got {other:?}"),
        }
        // A quiet month of an ordinary lake (5% of the median or more) is not.
        let quiet = [((2011, 9), 1000), ((2011, 10), 1200), ((2011, 11), 55)];
        assert_eq!(thin_period(&quiet, nov), None);
        let thin = [((2011, 9), 1000), ((2011, 10), 1200), ((2011, 11), 54)];
        assert!(thin_period(&thin, nov).is_some());
        // Only the last 12 other months count: a busy month long ago does not.
        let mut old: Vec<((i32, i8), u64)> =
            (1..=12).map(|m| ((2008, m as i8), 1_000_000)).collect();
        old.push(((2009, 1), 1_000_000));
        old.extend((1..=12).map(|m| ((2010, m as i8), 10)));
        old.push(((2011, 11), 1));
        assert_eq!(thin_period(&old, nov), None);
        // Nothing to compare with, or nothing in the period: no warning.
        assert_eq!(thin_period(&[((2011, 11), 2)], nov), None);
        assert_eq!(thin_period(&[((2011, 3), 997)], nov), None);
    }

    #[test]
    fn a_full_disk_is_the_machine_not_the_input() {
        let err = anyhow::Error::new(IngestError::Lake(LakeError::Io {
            path: "lake/contacts/x.parquet".into(),
            message: "cannot write: No space left on device (os error 28)".into(),
        }));
        assert_eq!(exit_code(&err), ExitCode::Internal);
        let err = anyhow::Error::new(FigureError::NoData("the lake holds no contacts".into()));
        assert_eq!(exit_code(&err), ExitCode::Input);
    }
}
