//! The stages a run strings together, each a call into its own module plus what the run needs
//! around it: where a period's publication lives, writing each stage's tables into the
//! publication being assembled, drawing charts and the report from the published tables, and
//! the lines logged about what was written.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::charts::{self, ChartEntry};
use crate::config::Pipeline;
use crate::disclosure::releases::ReleaseId;
use crate::equality::Filter;
use crate::exit_codes::ExitCode;
use crate::ingest::{FileStatus, IngestOptions, IngestReport};
use crate::kpi::KpiRun;
use crate::lake::Lake;
use crate::period::Period;
use crate::report::{content, html, markdown, Svgs};
use crate::tables::contract::name;
use crate::tables::frame::Tables;
use crate::tables::publish::EQUALITY_DIR;
use crate::tables::{Table, TableEntry};

/// The pipeline with only the named sources (all when `only` is empty); an unknown name is a
/// configuration error naming the sources there are.
pub fn only_sources(pipeline: &Pipeline, only: &[String]) -> anyhow::Result<Pipeline> {
    let mut pipeline = pipeline.clone();
    if only.is_empty() {
        return Ok(pipeline);
    }
    let unknown: Vec<&String> = only
        .iter()
        .filter(|name| pipeline.source(name).is_none())
        .collect();
    if !unknown.is_empty() {
        let names = pipeline
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(crate::config::ConfigError {
            file: pipeline.file.clone(),
            problems: unknown
                .into_iter()
                .map(|name| crate::config::Problem {
                    key: "--source".into(),
                    message: format!("no source is named '{name}' (sources: {names})"),
                })
                .collect(),
        }
        .into());
    }
    pipeline.sources.retain(|s| only.contains(&s.name));
    Ok(pipeline)
}

/// The ingest stage: the named sources' exports into the lake, the reconciliation table on
/// stdout; the exit code the stage deserves and its report.
pub fn ingest(
    pipeline: &Pipeline,
    sources: &[String],
    deny_warnings: bool,
    today: Option<chrono::NaiveDate>,
) -> anyhow::Result<(ExitCode, IngestReport)> {
    let pipeline = only_sources(pipeline, sources)?;
    let options = IngestOptions {
        today,
        ..IngestOptions::default()
    };
    let report = crate::ingest::ingest(&pipeline, options)
        .with_context(|| format!("ingest for pipeline {}", pipeline.file.display()))?;
    Ok((print_ingest(&pipeline, &report, deny_warnings), report))
}

/// Prints the ingest table and summary; returns the exit code it deserves.
fn print_ingest(pipeline: &Pipeline, report: &IngestReport, deny_warnings: bool) -> ExitCode {
    print!("{}", report.render("accepted"));
    let crate::ingest::RowCounts {
        rows_read: read,
        accepted,
        rejected,
        duplicates,
        excluded,
        ..
    } = report.totals();
    if report.committed {
        let skipped = report
            .files
            .iter()
            .filter(|f| f.status != FileStatus::Ingested)
            .count();
        if read == 0 && skipped == report.files.len() {
            crate::log::info(&format!(
                "nothing new: all {skipped} files are already in {}",
                pipeline.lake_dir.display()
            ));
        } else {
            crate::log::info(&format!(
            "{read} rows from {} new files into {}: {accepted} added, {rejected} rejected (see {}), {duplicates} duplicates{}; {skipped} files skipped (content already seen)",
                report.files.len() - skipped,
                pipeline.lake_dir.display(),
                pipeline.lake_dir.join("rejects").display(),
                if excluded > 0 { format!(", {excluded} excluded by the sources' row filters") } else { String::new() },
            ));
        }
    }
    if !report.gate_failures.is_empty() {
        // The first failure itself, not only "see above": a job's log may keep only stderr.
        crate::log::error(&gate_failure_error(report));
        return ExitCode::QualityGate;
    }
    if deny_warnings && !report.warnings.is_empty() {
        return ExitCode::Warnings;
    }
    ExitCode::Ok
}

/// How many quality gates failed, and what that did.
fn gates_failed(report: &IngestReport) -> String {
    let n = report.gate_failures.len();
    format!(
        "{n} quality gate{} failed; nothing was written to the lake",
        if n == 1 { "" } else { "s" }
    )
}

/// The error a run stopped by its quality gates records (`last-run.json`): how many failed,
/// then the first, whose file and message quote values as every message does (clipped and
/// scrubbed when the finding was made).
pub fn gate_failure_error(report: &IngestReport) -> String {
    let mut text = gates_failed(report);
    if let Some(first) = report.gate_failures.first() {
        let n = report.gate_failures.len();
        text.push_str(&format!(
            "{}: {}: {}",
            if n == 1 { "" } else { "; the first" },
            first.file,
            first.message
        ));
        if n > 1 {
            text.push_str(" (the ingest table lists every one)");
        }
    }
    text
}

/// The KPI stage: every KPI table for the period from a snapshot of the lake (the run prints
/// the channel-shift headline with `print_channel_shift`).
pub fn kpi(pipeline: &Pipeline, lake: &Lake, period: Period) -> anyhow::Result<KpiRun> {
    Ok(crate::kpi::compute(pipeline, lake, period)?)
}

/// The equality stage: the pipeline's breakdowns for the period, suppressed for publication.
pub fn equality(pipeline: &Pipeline, lake: &Lake, period: Period) -> anyhow::Result<Vec<Table>> {
    Ok(crate::equality::compute(
        pipeline,
        lake,
        period,
        &pipeline.equality.breakdowns,
        &Filter::default(),
        true,
    )?)
}

/// Where a period's publication (KPI tables, `equality/`, `charts/`, report) lives:
/// `<output>/2024-03` or `<output>/fy2023-24`.
pub fn publication_dir(pipeline: &Pipeline, period: Period) -> PathBuf {
    pipeline.output_dir.join(period.folder())
}

/// The owner-only folder under the output that holds what must not be published (the analyst's
/// unsuppressed tables), created if needed.
pub const RESTRICTED_DIR: &str = "restricted";

/// `<output>/restricted`, created owner-only (rwx------).
pub fn restricted_root(pipeline: &Pipeline) -> anyhow::Result<PathBuf> {
    let root = pipeline.output_dir.join(RESTRICTED_DIR);
    crate::lake::owner_only_dir(&root)
        .with_context(|| format!("cannot create the restricted folder {}", root.display()))?;
    Ok(root)
}

/// Where an analyst's own equality breakdown goes: a folder of its own under
/// `<output>/equality/`, named by period, breakdown and filters; never the publication. An
/// unsuppressed one goes under the owner-only `<output>/restricted/equality/`, marked
/// `NOT-FOR-PUBLICATION`.
pub fn ad_hoc_equality_dir(
    pipeline: &Pipeline,
    period: Period,
    by: &[String],
    filter: &Filter,
    publish: bool,
) -> PathBuf {
    let mut folder = period.folder();
    if !by.is_empty() {
        folder.push_str(&format!("-by-{}", by.join("-")));
    }
    folder.push_str(&filter.folder_suffix());
    if !publish {
        folder.push_str("-NOT-FOR-PUBLICATION");
        return pipeline
            .output_dir
            .join(RESTRICTED_DIR)
            .join("equality")
            .join(folder);
    }
    pipeline.output_dir.join("equality").join(folder)
}

/// Writes the KPI tables, workbook and `kpi-summary.json` into a publication being assembled.
pub fn write_kpis(dir: &Path, run: &KpiRun) -> anyhow::Result<()> {
    crate::tables::write_tables(dir, &run.tables, "cex-kpi.xlsx")?;
    let summary_path = dir.join("kpi-summary.json");
    std::fs::write(&summary_path, serde_json::to_string_pretty(&run.summary)?)
        .with_context(|| format!("cannot write {}", summary_path.display()))?;
    Ok(())
}

/// Writes equality tables (and their workbook) into `dir`.
pub fn write_equality(dir: &Path, tables: &[Table]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::tables::write_tables(dir, tables, "cex-equality.xlsx")?;
    Ok(())
}

pub fn log_kpis_written(run: &KpiRun, published: &Path) {
    crate::log::info(&format!(
        "KPIs for {} written to {} ({} tables, cex-kpi.xlsx, kpi-summary.json)",
        run.period.describe(),
        published.display(),
        run.tables.len()
    ));
}

pub fn log_equality_written(
    pipeline: &Pipeline,
    period: Period,
    tables: usize,
    written: &Path,
    publish: bool,
) {
    crate::log::info(&format!(
        "equality tables for {} written to {} ({} tables{})",
        period.describe(),
        written.display(),
        tables,
        if publish {
            format!(
                ", cells below {} suppressed",
                pipeline.equality.suppression_threshold
            )
        } else {
            ", UNSUPPRESSED: not for publication".to_string()
        }
    ));
}

/// A publication's KPI and equality tables (`equality/` inside it), read once for both the
/// charts and the report.
pub struct Published {
    folder: PathBuf,
    kpi_index: Vec<TableEntry>,
    kpi: Tables,
    equality_index: Vec<TableEntry>,
    equality: Tables,
}

impl Published {
    /// The tables in a publication folder; `None` when it holds no KPI tables.
    pub fn read(folder: &Path) -> anyhow::Result<Option<Published>> {
        let (kpi_index, kpi) = crate::tables::read_folder(folder)?;
        if kpi.is_empty() {
            return Ok(None);
        }
        let (equality_index, equality) = crate::tables::read_folder(&folder.join(EQUALITY_DIR))?;
        Ok(Some(Published {
            folder: folder.to_path_buf(),
            kpi_index,
            kpi,
            equality_index,
            equality,
        }))
    }
}

/// What [`redraw`] did.
pub struct Drawn {
    pub charts: usize,
    pub charts_seconds: f64,
    pub report_seconds: f64,
}

/// Draws the charts (`charts`) and writes the report (`report`, dated `as_of`) into a
/// publication being assembled, from its tables; `None` when the folder holds no KPI tables
/// (then neither is written).
pub fn redraw(
    pipeline: &Pipeline,
    period: Period,
    as_of: chrono::NaiveDate,
    folder: &Path,
    charts: bool,
    report: bool,
) -> anyhow::Result<Option<Drawn>> {
    let Some(tables) = Published::read(folder)? else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let drawn = if charts {
        draw_charts(pipeline, &tables)?
    } else {
        0
    };
    let charts_seconds = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    if report {
        write_report(pipeline, period, as_of, &tables)?;
    }
    Ok(Some(Drawn {
        charts: drawn,
        charts_seconds,
        report_seconds: started.elapsed().as_secs_f64(),
    }))
}

/// The charts stage: every chart the tables allow, drawn in parallel, into `charts/`.
fn draw_charts(pipeline: &Pipeline, tables: &Published) -> anyhow::Result<usize> {
    let specs = charts::specs::chart_specs(pipeline, &tables.kpi, &tables.equality)?;
    let drawn = charts::render_all(&specs)?;
    let destination = tables.folder.join("charts");
    if destination.exists() {
        std::fs::remove_dir_all(&destination)
            .with_context(|| format!("cannot replace {}", destination.display()))?;
    }
    std::fs::create_dir_all(&destination)
        .with_context(|| format!("cannot create {}", destination.display()))?;
    charts::write_charts(&destination, &drawn)?;
    crate::log::info(&format!(
        "{} charts (PNG and SVG) drawn into the publication's charts/",
        drawn.len()
    ));
    Ok(drawn.len())
}

/// The report stage: `report.html` (self-contained) and `report.md` in the publication, from its
/// tables and the charts drawn into `charts/` (a report without charts says so), dated `as_of`.
fn write_report(
    pipeline: &Pipeline,
    period: Period,
    as_of: chrono::NaiveDate,
    tables: &Published,
) -> anyhow::Result<()> {
    let (entries, svgs) = read_charts(&tables.folder.join("charts"))?;
    let audit = json_of(&tables.folder.join(crate::disclosure::AUDIT_FILE));
    let inputs = content::Inputs {
        pipeline,
        period: period.describe(),
        kpi_index: &tables.kpi_index,
        kpi: &tables.kpi,
        equality_index: &tables.equality_index,
        equality: &tables.equality,
        charts: &entries,
        produced: as_of.format("%-d %B %Y").to_string(),
        coverage: strings(
            &json_of(&tables.folder.join("kpi-summary.json")),
            "coverage",
        ),
        withheld: strings(&audit, "withheld"),
        withheld_because: audit["withheld_because"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let doc = content::document(&inputs)?;
    let page = html::render(&doc, &svgs);
    let text = markdown::render(&doc, "charts");
    crate::tables::replace_with(&tables.folder.join("report.html"), page.as_bytes())?;
    crate::tables::replace_with(&tables.folder.join("report.md"), text.as_bytes())?;
    Ok(())
}

/// A publication's JSON file (`kpi-summary.json`, `disclosure-audit.json`); null when it is
/// missing or unreadable (written before it said what is asked of it).
fn json_of(file: &Path) -> serde_json::Value {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// The texts a publication's JSON holds under `key`: the months its figures do not cover
/// (`coverage`), the tables withheld from it (`withheld`). None when it names none.
fn strings(json: &serde_json::Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The charts index and each chart's SVG; none when the charts were not drawn.
fn read_charts(dir: &Path) -> anyhow::Result<(Vec<ChartEntry>, Svgs)> {
    let index = dir.join(charts::INDEX_FILE);
    if !index.is_file() {
        crate::log::warn(&format!(
            "{}: no charts drawn for this period; the report will have none",
            dir.display()
        ));
        return Ok((Vec::new(), Svgs::new()));
    }
    let text = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    let entries: Vec<ChartEntry> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a charts index", index.display()))?;
    let mut svgs = Svgs::new();
    for e in &entries {
        let path = dir.join(format!("{}.svg", e.name));
        let svg = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        svgs.insert(e.name.clone(), svg);
    }
    Ok((entries, svgs))
}

/// The headline table, as a Cabinet paper would show it.
pub fn print_channel_shift(run: &KpiRun) {
    let Some(table) = run.tables.iter().find(|t| t.name == name::CHANNEL_SHIFT) else {
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

/// Disclosure control over a period's whole publication: the survey tables of the KPI and the
/// equality stages protected together ([`crate::disclosure`]). A part this run does not write is
/// computed all the same (silently; skipped if it cannot be) so that the part it writes is
/// protected against it; only the parts asked for come back.
pub fn protect(
    pipeline: &Pipeline,
    lake: &Lake,
    period: Period,
    kpis: Option<KpiRun>,
    equality: Option<Vec<Table>>,
) -> anyhow::Result<Protected> {
    let surveyed = pipeline
        .sources
        .iter()
        .any(|s| s.kind == crate::config::SourceKind::Satisfaction);
    let wants_kpis = kpis.is_some();
    let wants_equality = equality.is_some();
    let mut kpis = match kpis {
        Some(k) => Some(k),
        None => crate::kpi::compute_for_disclosure(pipeline, lake, period).ok(),
    };
    let equality = match equality {
        Some(t) => t,
        None if surveyed => self::equality(pipeline, lake, period).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut all: Vec<Table> = kpis
        .as_mut()
        .map(|k| std::mem::take(&mut k.tables))
        .unwrap_or_default();
    // Protected against every other publication of the year already out, as kept.
    let this = ReleaseId {
        period: period.label(),
        last_month: period.last_month(),
        lake_version: lake.version(),
    };
    let releases_lock = lock_releases(pipeline)?;
    let history = crate::disclosure::releases::load_all(&releases_dir(pipeline, period))?;
    // Past the limit, the survey tables (those with respondent counts) and the equality tables
    // are withheld rather than protected beside them all: that would take hours.
    let earlier = earlier_publications(&history, &this);
    let limit = pipeline.equality.max_earlier_publications;
    let withholding = withholding(pipeline, period, &earlier);
    let mut withheld = Vec::new();
    let equality = if withholding.is_some() {
        let (kept, names) = without_survey(all, &equality);
        all = kept;
        withheld = names;
        Vec::new()
    } else {
        equality
    };
    let from_kpis = all.len();
    all.extend(equality);
    let (mut audit, release) = crate::disclosure::protect_release(
        &history,
        &this,
        &mut all,
        pipeline.equality.suppression_threshold,
    )
    .context("disclosure control")?;
    if audit.unprotected > 0 {
        anyhow::bail!(
            "disclosure control could not protect {} blank cells of the {} publication (the solver found no cover); nothing was published",
            audit.unprotected,
            period.label()
        );
    }
    let mut warnings = Vec::new();
    if let (Some(why), false) = (withholding, withheld.is_empty()) {
        match why {
            Withholding::PastLimit => {
                warnings.push(crate::warnings::Warning::SurveyTablesWithheld {
                    period: period.label(),
                    earlier,
                    limit,
                    tables: withheld.clone(),
                });
            }
            Withholding::YearOnly => crate::log::info(&format!(
                "survey and equality tables of {} not published ({} tables): equality.survey_publication = \"year_only\" keeps them for the year's publication (cex run --fy)",
                period.label(),
                withheld.len()
            )),
        }
        audit.withheld = withheld;
        audit.withheld_because = Some(why.because().to_string());
        audit.protected_against.clear();
    } else if !audit.protected_against.is_empty() {
        warnings.push(crate::warnings::Warning::PublishedBesideEarlier {
            period: period.label(),
            earlier: audit.protected_against.clone(),
        });
    }
    for folder in unrecorded_publications(pipeline, period, &history) {
        warnings.push(crate::warnings::Warning::UnrecordedPublication {
            period: period.label(),
            folder,
        });
    }
    let equality = all.split_off(from_kpis);
    if let Some(k) = kpis.as_mut() {
        k.tables = all;
    }
    Ok(Protected {
        kpis: kpis.filter(|_| wants_kpis),
        equality: wants_equality.then_some(equality),
        audit,
        release,
        warnings,
        releases_lock,
    })
}

/// Why a period's survey and equality tables are not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Withholding {
    /// `equality.survey_publication = "year_only"` and the period is not a whole year.
    YearOnly,
    /// More earlier publications of the year out than `equality.max_earlier_publications`.
    PastLimit,
}

impl Withholding {
    /// Said in `disclosure-audit.json` and under the report's title.
    fn because(self) -> &'static str {
        match self {
            Withholding::YearOnly => "the pipeline publishes them for a whole year only (equality.survey_publication = \"year_only\")",
            Withholding::PastLimit => "too many publications of the year are already out for them to be protected beside all of them in reasonable time (equality.max_earlier_publications in the pipeline file)",
        }
    }
}

/// Whether the period's survey and equality tables are withheld, beside `earlier`
/// publications of its year ([`earlier_publications`]), and why.
fn withholding(pipeline: &Pipeline, period: Period, earlier: &[String]) -> Option<Withholding> {
    if pipeline.equality.survey_publication == crate::config::SurveyPublication::YearOnly
        && !period.is_year()
    {
        Some(Withholding::YearOnly)
    } else if earlier.len() > pipeline.equality.max_earlier_publications {
        Some(Withholding::PastLimit)
    } else {
        None
    }
}

/// The KPI tables `all` without the survey tables (those with respondent counts), and the
/// names of those and of the `equality` tables: what a withheld publication leaves out.
fn without_survey(all: Vec<Table>, equality: &[Table]) -> (Vec<Table>, Vec<String>) {
    let (counted, kept): (Vec<Table>, Vec<Table>) =
        all.into_iter().partition(|t| t.counts.is_some());
    let names = counted
        .iter()
        .chain(equality)
        .map(|t| t.name.clone())
        .collect();
    (kept, names)
}

/// The publications of the year already out that printed counts, other than `this` (as
/// `2025-02 (lake version 7)`): what a new one is protected beside.
fn earlier_publications(
    history: &[crate::disclosure::releases::Release],
    this: &ReleaseId,
) -> Vec<String> {
    history
        .iter()
        .filter(|r| r.id() != *this && !r.cube.cells.is_empty())
        .map(|r| r.id().tag())
        .collect()
}

/// A publication after disclosure control: its parts, the verdict, the record to keep once it
/// goes out ([`keep_release`]) and what the run should warn about.
pub struct Protected {
    pub kpis: Option<KpiRun>,
    pub equality: Option<Vec<Table>>,
    pub audit: crate::disclosure::Audit,
    pub release: crate::disclosure::releases::Release,
    pub warnings: Vec<crate::warnings::Warning>,
    /// Held until the record is kept ([`lock_releases`]).
    pub releases_lock: std::fs::File,
}

/// Holds the lock on the kept publications (`<output>/restricted/releases/.lock`, an OS
/// advisory lock the kernel releases when the process ends) from reading them until this
/// run's record is kept: two runs publishing at once (a cron run and an analyst's breakdown)
/// would otherwise each be protected without the other and keep their records over each other.
/// Waits for the other run rather than failing, saying so.
pub fn lock_releases(pipeline: &Pipeline) -> anyhow::Result<std::fs::File> {
    let dir = restricted_root(pipeline)?.join("releases");
    crate::lake::owner_only_dir(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(".lock");
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            crate::log::info(&format!(
                "waiting for another run publishing from {} to finish ({} is held)",
                pipeline.output_dir.display(),
                path.display()
            ));
            file.lock()
                .with_context(|| format!("cannot lock {}", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    Ok(file)
}

/// Where the publications of the period's financial year are kept for disclosure control:
/// `<output>/restricted/releases/fy2024-25/` (owner-only: they hold the true small counts).
pub fn releases_dir(pipeline: &Pipeline, period: Period) -> PathBuf {
    let year = Period::year(period.financial_year(), period.calendar());
    pipeline
        .output_dir
        .join(RESTRICTED_DIR)
        .join("releases")
        .join(year.folder())
}

/// Keeps the record of a publication about to go out, before it does: a record of one that
/// then fails to go out only makes later ones hide more.
pub fn keep_release(
    pipeline: &Pipeline,
    period: Period,
    release: &crate::disclosure::releases::Release,
) -> anyhow::Result<()> {
    restricted_root(pipeline)?;
    let name = crate::disclosure::releases::file_name(&release.id(), &period.folder());
    crate::disclosure::releases::save(&releases_dir(pipeline, period), &name, release)
}

/// Folders of the year's other periods published (they hold a disclosure audit) with no kept
/// record: this publication cannot be protected against them.
fn unrecorded_publications(
    pipeline: &Pipeline,
    period: Period,
    history: &[crate::disclosure::releases::Release],
) -> Vec<String> {
    let fy = period.financial_year();
    let calendar = period.calendar();
    let mut periods: Vec<Period> = calendar
        .months(fy)
        .into_iter()
        .map(|(y, m)| Period::month(y, m, calendar))
        .collect();
    periods.push(Period::year(fy, calendar));
    periods
        .into_iter()
        .filter(|p| p.label() != period.label())
        .filter(|p| !history.iter().any(|r| r.period == p.label()))
        .map(|p| p.folder())
        .filter(|folder| {
            pipeline
                .output_dir
                .join(folder)
                .join(crate::disclosure::AUDIT_FILE)
                .is_file()
        })
        .collect()
}

/// Writes `disclosure-audit.json` into a publication being assembled (a new file: a kept one
/// is a hard link to the published copy and must not be written through).
pub fn write_audit(dir: &Path, audit: &crate::disclosure::Audit) -> anyhow::Result<()> {
    let path = dir.join(crate::disclosure::AUDIT_FILE);
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, serde_json::to_string_pretty(audit)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// An analyst's publishable breakdown (`cex equality --by ...`, `--channel`, `--service`),
/// protected beside everything already out for the period, as kept (its publication, and any
/// breakdown published beside it), and beside the year's other publications like a publication
/// of its own: what is out stays as it went out, so the breakdown blanks whatever more it must.
/// Its record is merged into the period's before it goes out, so later publications and
/// breakdowns are protected against it. A period not published yet is taken as it would go out
/// now. A breakdown that cannot be made safe that way, or beside more earlier publications than
/// `equality.max_earlier_publications`, is refused.
pub fn protect_ad_hoc(
    pipeline: &Pipeline,
    lake: &Lake,
    period: Period,
    tables: &mut [Table],
) -> anyhow::Result<crate::disclosure::Audit> {
    let threshold = pipeline.equality.suppression_threshold;
    let this = ReleaseId {
        period: period.label(),
        last_month: period.last_month(),
        lake_version: lake.version(),
    };
    let _releases_lock = lock_releases(pipeline)?;
    let mut history = crate::disclosure::releases::load_all(&releases_dir(pipeline, period))?;
    let earlier = earlier_publications(&history, &this);
    let limit = pipeline.equality.max_earlier_publications;
    if earlier.len() > limit {
        return Err(crate::run::RunError::usage(format!(
            "this breakdown is not published: {} earlier publication{} of the year with survey tables {} out ({}), more than equality.max_earlier_publications = {limit}; raise it in the pipeline file to protect it beside all of them (each further one takes several times longer), or use --unsuppressed (for the analyst only)",
            earlier.len(),
            if earlier.len() == 1 { "" } else { "s" },
            if earlier.len() == 1 { "is" } else { "are" },
            earlier.join(", ")
        ))
        .into());
    }
    if !history.iter().any(|r| r.id() == this) {
        // The period's publication as a run would make it now.
        let (kpis, equality) = protect_parts(pipeline, lake, period);
        let mut publication = if withholding(pipeline, period, &earlier).is_some() {
            without_survey(kpis, &equality).0
        } else {
            kpis.into_iter().chain(equality).collect()
        };
        let (_, release) =
            crate::disclosure::protect_release(&history, &this, &mut publication, threshold)
                .context("disclosure control")?;
        history.push(release);
    }
    let (audit, release) = crate::disclosure::protect_release(&history, &this, tables, threshold)
        .context("disclosure control")?;
    if audit.unprotected > 0 {
        return Err(crate::run::RunError::usage(format!(
            "this breakdown cannot be published beside what is out for {} (its publication and breakdowns, and {} other publication{} of the year): {} of its cells could still be worked out; ask for fewer groups, or use --unsuppressed (for the analyst only)",
            period.label(),
            earlier.len(),
            if earlier.len() == 1 { "" } else { "s" },
            audit.unprotected
        ))
        .into());
    }
    // Kept before it goes out, like a publication.
    keep_release(pipeline, period, &release)?;
    Ok(audit)
}

/// The period's publication tables as computed (before protection): KPI and equality.
fn protect_parts(pipeline: &Pipeline, lake: &Lake, period: Period) -> (Vec<Table>, Vec<Table>) {
    let surveyed = pipeline
        .sources
        .iter()
        .any(|s| s.kind == crate::config::SourceKind::Satisfaction);
    let kpis = crate::kpi::compute_for_disclosure(pipeline, lake, period)
        .map(|k| k.tables)
        .unwrap_or_default();
    let equality = if surveyed {
        self::equality(pipeline, lake, period).unwrap_or_default()
    } else {
        Vec::new()
    };
    (kpis, equality)
}
