//! The ingest stage: every configured file -> canonical rows in the lake, rejects with reasons, or
//! duplicates, with counts that reconcile per file. One atomic commit per run; quality gates decide
//! whether it happens. `validate` is the same work without writing.

pub mod report;

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polars::prelude::*;
use rayon::prelude::*;
use thiserror::Error;

use crate::config::{lexical, relative_to, Pipeline, SourceDef, SourceKind};
use crate::lake::manifest::{self, FileRecord};
use crate::lake::txn::Transaction;
use crate::lake::{partition_rel, scan_files, Lake, LakeError};
use crate::model::col as c;
use crate::sources::map::{
    canonical, carried_columns, expand_intervals, raw_column, service_pairs, table_columns,
    BLANK_ROW, REJECT_COLUMN, REJECT_REASON, REJECT_VALUE,
};
use crate::sources::read::{self, RawFile, ROW};
use crate::sources::{reason, SourceError};
pub use report::{FileReport, FileStatus, Finding, IngestReport};

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("source '{source_name}': no files match {pattern}")]
    NoFiles {
        source_name: String,
        pattern: String,
    },
    #[error("source '{source_name}': bad file pattern {pattern}: {message}")]
    BadPattern {
        source_name: String,
        pattern: String,
        message: String,
    },
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("{}: {message}", path.display())]
    Data { path: PathBuf, message: String },
}

/// How to run ingest.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    /// Check everything, write nothing (`cex validate`).
    pub dry_run: bool,
    /// Files up to this many bytes are mapped in memory, carrying their raw text along for the
    /// rejects; larger ones are streamed, so memory stays bounded whatever an export's size.
    pub in_memory_limit: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            dry_run: false,
            in_memory_limit: 64 * 1024 * 1024,
        }
    }
}

/// Runs ingest for every source of the pipeline.
pub fn ingest(pipeline: &Pipeline, options: IngestOptions) -> Result<IngestReport, IngestError> {
    let files = source_files(pipeline)?;
    let lake = if options.dry_run {
        None
    } else {
        Some(Lake::open(&pipeline.lake_dir)?)
    };
    let _lock = lake.as_ref().map(Lake::lock).transpose()?;
    let lake_view = lake
        .clone()
        .unwrap_or_else(|| Lake::read_only(&pipeline.lake_dir));
    let existing_manifest = manifest::read(&lake_view)?;
    let known = manifest::known_hashes(&existing_manifest);
    let txn = lake.as_ref().map(Transaction::begin).transpose()?;

    let total_files: usize = files.iter().map(|(_, f)| f.len()).sum();
    let progress = progress_bar(total_files as u64);
    let ctx = Context {
        pipeline,
        lake: &lake_view,
        txn: txn.as_ref(),
        known: &known,
        progress: &progress,
        ingested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        options,
    };
    // Sources are independent: ingest them in parallel; files within a source go in order,
    // so an overlap between two files is kept from the earlier one.
    let per_source: Vec<Result<SourceOutcome, IngestError>> = files
        .par_iter()
        .map(|(source, paths)| ingest_source(&ctx, source, paths))
        .collect();
    progress.finish_and_clear();

    let mut report = IngestReport::default();
    let mut records = Vec::new();
    for outcome in per_source {
        let outcome = outcome?;
        report.files.extend(outcome.files);
        records.extend(outcome.records);
    }
    apply_quality_gates(pipeline, &mut report);

    if let Some(txn) = txn {
        if report.gate_failures.is_empty() {
            if !records.is_empty() {
                let mut m = manifest::appended(&existing_manifest, &records)?;
                txn.stage_parquet(manifest::MANIFEST, &mut m)?;
            }
            txn.commit()?;
            report.committed = true;
        } else {
            txn.abort();
        }
    }
    Ok(report)
}

/// The files of each source, expanded from its globs, sorted, each source's list in order.
pub fn source_files(pipeline: &Pipeline) -> Result<Vec<(&SourceDef, Vec<PathBuf>)>, IngestError> {
    let mut out = Vec::new();
    for source in &pipeline.sources {
        let mut paths = Vec::new();
        for pattern in &source.files {
            let matches = glob::glob(pattern).map_err(|e| IngestError::BadPattern {
                source_name: source.name.clone(),
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
            let before = paths.len();
            for m in matches {
                let p = m.map_err(|e| IngestError::BadPattern {
                    source_name: source.name.clone(),
                    pattern: pattern.clone(),
                    message: e.to_string(),
                })?;
                if p.is_file() {
                    paths.push(p);
                }
            }
            if paths.len() == before {
                return Err(IngestError::NoFiles {
                    source_name: source.name.clone(),
                    pattern: pattern.clone(),
                });
            }
        }
        paths.sort();
        paths.dedup();
        out.push((source, paths));
    }
    Ok(out)
}

struct Context<'a> {
    pipeline: &'a Pipeline,
    lake: &'a Lake,
    txn: Option<&'a Transaction>,
    known: &'a std::collections::HashSet<String>,
    progress: &'a ProgressBar,
    ingested_at: String,
    options: IngestOptions,
}

struct SourceOutcome {
    files: Vec<FileReport>,
    records: Vec<FileRecord>,
}

/// Keys already taken in each (year, month) partition of one source: the lake's, then this run's.
#[derive(Default)]
struct SeenKeys {
    by_partition: HashMap<(i32, i8), DataFrame>,
}

impl SeenKeys {
    fn keys(
        &mut self,
        lake: &Lake,
        source: &SourceDef,
        year: i32,
        month: i8,
    ) -> Result<&mut DataFrame, IngestError> {
        use std::collections::hash_map::Entry;
        match self.by_partition.entry((year, month)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let files = lake.partition_files(source.kind.table(), &source.name, year, month)?;
                let keys = match scan_files(&files, lake.root())? {
                    Some(lf) => collect(lf.select(key_columns()), lake.root())?,
                    None => DataFrame::new(
                        0,
                        vec![
                            Column::new_empty(c::ORGANISATION.into(), &DataType::String),
                            Column::new_empty(c::RECORD_KEY.into(), &DataType::String),
                        ],
                    )
                    .map_err(|e| data_err(lake.root(), e))?,
                };
                Ok(e.insert(keys))
            }
        }
    }
}

/// What makes two rows the same record: the source's key within one organisation (councils
/// pooling a lake may use the same vendor, and so the same ids).
fn key_columns() -> Vec<Expr> {
    vec![col(c::ORGANISATION), col(c::RECORD_KEY)]
}

fn ingest_source(
    ctx: &Context,
    source: &SourceDef,
    paths: &[PathBuf],
) -> Result<SourceOutcome, IngestError> {
    let services = service_pairs(source)?;
    let mut seen = SeenKeys::default();
    let mut hashes_this_run: HashMap<String, String> = HashMap::new();
    let mut outcome = SourceOutcome {
        files: Vec::new(),
        records: Vec::new(),
    };
    // Files are read and mapped a few at a time in parallel; de-duplication then goes through
    // them in path order (so an overlap is kept from the earlier file), and their Parquet files
    // are written in parallel again. The window bounds memory to a few files' rows.
    let window = rayon::current_num_threads().max(1);
    for chunk in paths.chunks(window) {
        let opened: Vec<Result<Opened, IngestError>> = chunk
            .par_iter()
            .map(|path| open_and_map(ctx, source, &services, path))
            .collect();
        let mut to_write: Vec<(String, DataFrame)> = Vec::new();
        for opened in opened {
            let mut opened = opened?;
            ctx.progress.set_message(opened.shown.clone());
            let repeat_of = hashes_this_run.get(&opened.raw.sha256).cloned();
            match (opened.mapped.take(), repeat_of) {
                (None, _) => {
                    outcome
                        .files
                        .push(opened.skipped(source, FileStatus::AlreadyIngested, None))
                }
                (Some(_), Some(first)) => outcome.files.push(opened.skipped(
                    source,
                    FileStatus::SameAsAnotherFile,
                    Some(first),
                )),
                (Some(mapped), None) => {
                    hashes_this_run.insert(opened.raw.sha256.clone(), opened.shown.clone());
                    let (report, record, frames) = ingest_file(
                        ctx,
                        source,
                        &opened.raw,
                        mapped,
                        opened.kept_raw,
                        &mut seen,
                        opened.shown.clone(),
                    )?;
                    outcome.files.push(report);
                    outcome.records.extend(record);
                    to_write.extend(frames);
                }
            }
            ctx.progress.inc(1);
        }
        if let Some(txn) = ctx.txn {
            to_write
                .par_iter_mut()
                .try_for_each(|(rel, df)| txn.stage_parquet(rel, df))?;
        }
    }
    Ok(outcome)
}

/// A file read and, unless its content is already in the lake, mapped.
struct Opened {
    raw: RawFile,
    shown: String,
    mapped: Option<DataFrame>,
    /// Whether `mapped` carries the raw columns (see `map::canonical`).
    kept_raw: bool,
}

impl Opened {
    fn skipped(
        &self,
        source: &SourceDef,
        status: FileStatus,
        same_as: Option<String>,
    ) -> FileReport {
        FileReport {
            source: source.name.clone(),
            path: self.shown.clone(),
            file_id: self.raw.file_id().to_string(),
            status,
            encoding: self.raw.encoding.to_string(),
            rows_read: 0,
            accepted: 0,
            rejected: 0,
            duplicates: 0,
            rejects_by_reason: BTreeMap::new(),
            unmapped_categories: Vec::new(),
            first_date: None,
            last_date: None,
            same_as,
            blank_rows: 0,
        }
    }
}

fn open_and_map(
    ctx: &Context,
    source: &SourceDef,
    services: &[(String, String)],
    path: &Path,
) -> Result<Opened, IngestError> {
    let raw = read::open(path, source)?;
    let shown = display_path(path);
    let in_memory = raw.size <= ctx.options.in_memory_limit;
    let mapped = if ctx.known.contains(&raw.sha256) {
        None
    } else {
        let plan = canonical(&raw, source, ctx.pipeline, services, in_memory)?;
        let engine = if in_memory {
            Engine::InMemory
        } else {
            Engine::Streaming
        };
        Some(collect_with(plan, &raw.path, engine)?)
    };
    Ok(Opened {
        raw,
        shown,
        mapped,
        kept_raw: in_memory,
    })
}

/// Parquet files to stage: (path relative to the lake, rows).
type Frames = Vec<(String, DataFrame)>;

/// Splits a mapped file into accepted, rejected and duplicate rows; returns its report, its
/// manifest record and the new rows to write, by partition.
fn ingest_file(
    ctx: &Context,
    source: &SourceDef,
    raw: &RawFile,
    mapped: DataFrame,
    kept_raw: bool,
    seen: &mut SeenKeys,
    shown: String,
) -> Result<(FileReport, Option<FileRecord>, Frames), IngestError> {
    let err = |e: PolarsError| data_err(&raw.path, e);
    let blank = mapped
        .column(BLANK_ROW)
        .and_then(|c| c.bool().cloned())
        .map_err(err)?;
    let blank_rows = blank.sum().unwrap_or(0) as u64;
    let rows_read = mapped.height() as u64 - blank_rows;
    let is_rejected = col(REJECT_REASON).is_not_null().and(col(BLANK_ROW).not());
    let rejected = collect(mapped.clone().lazy().filter(is_rejected), &raw.path)?;
    // One pass keeps the first of each key among the accepted rows; the lake check follows.
    let unique_in_file = collect(
        mapped
            .lazy()
            .filter(col(REJECT_REASON).is_null().and(col(BLANK_ROW).not()))
            .filter(as_struct(key_columns()).is_first_distinct())
            .select(
                table_columns(source.kind.table(), ctx.pipeline)
                    .into_iter()
                    .chain(carried_columns(source))
                    .map(|n| col(n.as_str()))
                    .collect::<Vec<_>>(),
            ),
        &raw.path,
    )?;
    let (first_date, last_date) = date_range(&unique_in_file, &raw.path)?;
    let mut new_rows = 0u64;
    let mut frames = Vec::new();
    if unique_in_file.height() > 0 {
        let parts = unique_in_file
            .partition_by_stable([c::YEAR, c::MONTH], true)
            .map_err(|e| data_err(&raw.path, e))?;
        drop(unique_in_file); // the parts hold the rows now; do not keep two copies
        for part in parts {
            let (year, month) = partition_key(&part, &raw.path)?;
            let keys = seen.keys(ctx.lake, source, year, month)?;
            let fresh = if keys.height() == 0 {
                part // a month nothing has been stored in yet
            } else {
                collect(
                    part.lazy().join(
                        keys.clone().lazy(),
                        key_columns(),
                        key_columns(),
                        JoinArgs::new(JoinType::Anti),
                    ),
                    &raw.path,
                )?
            };
            if fresh.height() == 0 {
                continue;
            }
            new_rows += fresh.height() as u64;
            let fresh_keys = fresh
                .select([c::ORGANISATION, c::RECORD_KEY])
                .map_err(|e| data_err(&raw.path, e))?;
            keys.vstack_mut(&fresh_keys)
                .map_err(|e| data_err(&raw.path, e))?;
            // Interval exports are counted as the rows they came in; stored one per outcome.
            let fresh = if source.kind == SourceKind::CallIntervals {
                expand_intervals(fresh).map_err(|e| data_err(&raw.path, e))?
            } else {
                fresh
            };
            let rel = format!(
                "{}/part-{}.parquet",
                partition_rel(source.kind.table(), &source.name, year, month),
                raw.file_id()
            );
            frames.push((rel, fresh));
        }
    }
    let duplicates = rows_read - rejected.height() as u64 - new_rows;

    let rejects_by_reason = count_by(&rejected, REJECT_REASON, &raw.path)?;
    let unmapped_categories = unmapped(&rejected, &raw.path)?;
    if let (Some(txn), true) = (ctx.txn, rejected.height() > 0) {
        let mut rows = reject_rows(raw, &rejected, kept_raw)?;
        let mut csv = Vec::new();
        CsvWriter::new(&mut csv)
            .include_header(true)
            .finish(&mut rows)
            .map_err(|e| data_err(&raw.path, e))?;
        txn.stage_bytes(
            &format!("rejects/{}/{}.csv", source.name, raw.file_id()),
            &csv,
            true,
        )?;
    }

    let report = FileReport {
        source: source.name.clone(),
        path: shown.clone(),
        file_id: raw.file_id().to_string(),
        status: FileStatus::Ingested,
        encoding: raw.encoding.to_string(),
        rows_read,
        accepted: new_rows,
        rejected: rejected.height() as u64,
        duplicates,
        rejects_by_reason,
        unmapped_categories,
        first_date,
        last_date,
        same_as: None,
        blank_rows,
    };
    let record = FileRecord {
        file_id: raw.file_id().to_string(),
        sha256: raw.sha256.clone(),
        path: manifest_path(ctx.pipeline, &raw.path),
        size_bytes: raw.size,
        source: source.name.clone(),
        table: source.kind.table().name().to_string(),
        encoding: raw.encoding.to_string(),
        rows_read,
        accepted: new_rows,
        rejected: report.rejected,
        duplicates,
        blank_rows,
        rejects_by_reason: report.reasons_text(),
        first_date: report.first_date.clone(),
        last_date: report.last_date.clone(),
        pipeline: ctx.pipeline.name.clone(),
        ingested_at: ctx.ingested_at.clone(),
    };
    Ok((report, Some(record), frames))
}

/// The rejected rows with every raw value as it was in the file, then the row number, reason,
/// column and offending value: fix the values and the file can be ingested again.
fn reject_rows(
    raw: &RawFile,
    rejected: &DataFrame,
    kept_raw: bool,
) -> Result<DataFrame, IngestError> {
    let cex_columns = ["cex_row", "cex_reason", "cex_column", "cex_value"];
    if kept_raw {
        let mut select: Vec<Expr> = raw
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| col(raw_column(i).as_str()).alias(h.as_str()))
            .collect();
        select.extend(
            [c::SOURCE_ROW, REJECT_REASON, REJECT_COLUMN, REJECT_VALUE]
                .iter()
                .zip(cex_columns)
                .map(|(from, to)| col(*from).alias(to)),
        );
        return collect_with(
            rejected.clone().lazy().select(select),
            &raw.path,
            Engine::InMemory,
        );
    }
    // Streamed files did not carry their raw text: read the rejected rows back by number.
    let why = rejected
        .select([c::SOURCE_ROW, REJECT_REASON, REJECT_COLUMN, REJECT_VALUE])
        .map_err(|e| data_err(&raw.path, e))?
        .lazy()
        .select([
            col(c::SOURCE_ROW).alias("cex_row"),
            col(REJECT_REASON).alias("cex_reason"),
            col(REJECT_COLUMN).alias("cex_column"),
            col(REJECT_VALUE).alias("cex_value"),
        ]);
    let mut order: Vec<Expr> = raw.headers.iter().map(|h| col(h.as_str())).collect();
    order.extend(cex_columns.map(col));
    let rows = raw
        .frame
        .clone()
        .with_column(col(ROW).cast(DataType::UInt32).alias("cex_row"))
        .join(
            why,
            [col("cex_row")],
            [col("cex_row")],
            JoinArgs::new(JoinType::Inner),
        )
        .select(order)
        .sort(["cex_row"], SortMultipleOptions::default());
    collect(rows, &raw.path)
}

fn count_by(
    df: &DataFrame,
    column: &str,
    path: &Path,
) -> Result<BTreeMap<String, u64>, IngestError> {
    if df.height() == 0 {
        return Ok(BTreeMap::new());
    }
    let counts = collect(
        df.clone()
            .lazy()
            .group_by([col(column)])
            .agg([len().alias("n")]),
        path,
    )?;
    let keys = counts
        .column(column)
        .and_then(|c| c.str().cloned())
        .map_err(|e| data_err(path, e))?;
    let ns = counts
        .column("n")
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(|e| data_err(path, e))?;
    let ns = ns.u64().map_err(|e| data_err(path, e))?;
    Ok(keys
        .iter()
        .zip(ns.iter())
        .filter_map(|(k, n)| Some((k?.to_string(), n?)))
        .collect())
}

fn unmapped(rejected: &DataFrame, path: &Path) -> Result<Vec<String>, IngestError> {
    if rejected.height() == 0 {
        return Ok(Vec::new());
    }
    let values = collect(
        rejected
            .clone()
            .lazy()
            .filter(col(REJECT_REASON).eq(lit(reason::UNMAPPED_SERVICE)))
            .select([col(REJECT_VALUE).unique_stable()]),
        path,
    )?;
    Ok(values
        .column(REJECT_VALUE)
        .and_then(|c| c.str().cloned())
        .map(|s| s.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default())
}

fn date_range(
    df: &DataFrame,
    path: &Path,
) -> Result<(Option<String>, Option<String>), IngestError> {
    if df.height() == 0 {
        return Ok((None, None));
    }
    let range = collect(
        df.clone().lazy().select([
            col(c::DATE).min().cast(DataType::String).alias("first"),
            col(c::DATE).max().cast(DataType::String).alias("last"),
        ]),
        path,
    )?;
    let get = |name: &str| {
        range
            .column(name)
            .ok()
            .and_then(|c| c.str().ok().and_then(|s| s.get(0).map(str::to_string)))
    };
    Ok((get("first"), get("last")))
}

fn partition_key(part: &DataFrame, path: &Path) -> Result<(i32, i8), IngestError> {
    let year = part
        .column(c::YEAR)
        .and_then(|c| c.i32().map(|s| s.get(0)))
        .map_err(|e| data_err(path, e))?;
    let month = part
        .column(c::MONTH)
        .and_then(|c| c.i8().map(|s| s.get(0)))
        .map_err(|e| data_err(path, e))?;
    match (year, month) {
        (Some(y), Some(m)) => Ok((y, m)),
        _ => Err(data_err(path, "an accepted row has no date")),
    }
}

/// Applies the per-file quality gates to a finished report.
fn apply_quality_gates(pipeline: &Pipeline, report: &mut IngestReport) {
    let gates = pipeline.quality;
    for f in report
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Ingested)
    {
        let share = f.reject_share();
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        if share > gates.fail_reject_share {
            report.gate_failures.push(Finding {
                file: f.path.clone(),
                message: format!(
                    "{} of rows rejected ({} of {}), above the {} limit (quality.fail_reject_share); {}",
                    pct(share),
                    f.rejected,
                    f.rows_read,
                    pct(gates.fail_reject_share),
                    f.reasons_text()
                ),
            });
        } else if share > gates.warn_reject_share {
            report.warnings.push(Finding {
                file: f.path.clone(),
                message: format!(
                    "{} of rows rejected ({} of {}), above the {} warning level; {}",
                    pct(share),
                    f.rejected,
                    f.rows_read,
                    pct(gates.warn_reject_share),
                    f.reasons_text()
                ),
            });
        }
    }
    // Unmapped categories, gathered per source: one line names each with the files it is in.
    let mut unmapped: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for f in &report.files {
        for category in &f.unmapped_categories {
            *unmapped
                .entry(f.source.as_str())
                .or_default()
                .entry(category.as_str())
                .or_default() += 1;
        }
    }
    let mut findings = Vec::new();
    for (source, categories) in unmapped {
        let list = categories
            .iter()
            .map(|(c, files)| format!("'{c}' ({files} file{})", if *files == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(", ");
        findings.push(Finding {
            file: format!("source '{source}'"),
            message: format!(
                "no service mapping for {list}; their rows were rejected: add them to the source's lookup table"
            ),
        });
    }
    if gates.fail_on_unmapped_service {
        report.gate_failures.extend(findings);
    } else {
        report.warnings.extend(findings);
    }
}

/// A path as the user typed it, tidied (`sample_data/telephony/calls_2024-01.csv`).
fn display_path(path: &Path) -> String {
    lexical(path).to_string_lossy().replace('\\', "/")
}

/// A path as the manifest keeps it: relative to the pipeline file, the same from any folder.
fn manifest_path(pipeline: &Pipeline, path: &Path) -> String {
    let base = pipeline.file.parent().unwrap_or(Path::new("."));
    relative_to(path, base).to_string_lossy().replace('\\', "/")
}

fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} files  {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

/// Runs a plan on the streaming engine.
pub fn collect(lf: LazyFrame, path: &Path) -> Result<DataFrame, IngestError> {
    // A plan with one sink always yields a single frame.
    collect_with(lf, path, Engine::Streaming)
}

/// Runs a plan on the given engine.
fn collect_with(lf: LazyFrame, path: &Path, engine: Engine) -> Result<DataFrame, IngestError> {
    lf.collect_with_engine(engine)
        .map(|r| r.unwrap_single())
        .map_err(|e| data_err(path, e))
}

fn data_err(path: &Path, e: impl std::fmt::Display) -> IngestError {
    IngestError::Data {
        path: path.to_path_buf(),
        message: first_paragraph(&e.to_string()),
    }
}

/// The first paragraph of an error: polars appends the whole query plan, which helps nobody
/// reading a cron mail.
pub fn first_paragraph(message: &str) -> String {
    message
        .split("\n\n")
        .next()
        .unwrap_or(message)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large file is streamed and its rejects read back from the file; a small one carries its
    /// raw text. Both must give the same lake and the same rejects.
    #[test]
    fn streamed_and_in_memory_files_give_the_same_results() -> Result<(), Box<dyn std::error::Error>>
    {
        let mut results = Vec::new();
        for limit in [u64::MAX, 0] {
            let dir = tempfile::tempdir()?;
            std::fs::create_dir_all(dir.path().join("data"))?;
            std::fs::write(
                dir.path().join("data/calls.csv"),
                "ID,When,Queue,Result\n\
                 A1,01/04/2023 09:00:00,HSG,Answered\n\
                 A2,31/02/2023 09:00:00,HSG,Answered\n\
                 A3,01/04/2023 09:10:00,HSG,\"Hung, up\"\n\
                 A1,01/04/2023 09:00:00,HSG,Answered\n\
                 A4,02/05/2023 09:00:00,HSG,Answered\n",
            )?;
            std::fs::write(dir.path().join("q.csv"), "queue,service\nHSG,Housing\n")?;
            let toml = r#"
name = "t"
organisation = "Org"
lake = "lake"
output = "out"
[quality]
fail_reject_share = 1.0
[[sources]]
name = "calls"
kind = "calls"
files = "data/*.csv"
timestamp_formats = ["%d/%m/%Y %H:%M:%S"]
[sources.columns]
record_id = "ID"
timestamp = "When"
category = "Queue"
outcome = "Result"
[sources.service]
lookup = "q.csv"
[sources.outcomes]
answered = ["Answered"]
"#;
            std::fs::write(dir.path().join("p.toml"), toml)?;
            let pipeline = Pipeline::load(&dir.path().join("p.toml"))?;
            let report = ingest(
                &pipeline,
                IngestOptions {
                    in_memory_limit: limit,
                    ..IngestOptions::default()
                },
            )?;
            let f = &report.files[0];
            let counts = (f.rows_read, f.accepted, f.rejected, f.duplicates);
            let rejects_dir = dir.path().join("lake/rejects/calls");
            let rejects_file = std::fs::read_dir(&rejects_dir)?
                .next()
                .ok_or("no rejects file")??
                .path();
            let rejects = std::fs::read_to_string(rejects_file)?;
            let stored = Lake::open(&dir.path().join("lake"))?
                .scan(crate::model::Table::Contacts)?
                .ok_or("empty lake")?
                .select([col(c::RECORD_KEY)])
                .sort([c::RECORD_KEY], SortMultipleOptions::default())
                .collect()?;
            results.push((counts, rejects, stored));
        }
        assert_eq!(results[0].0, (5, 2, 2, 1));
        assert!(results[0]
            .1
            .contains("A2,31/02/2023 09:00:00,HSG,Answered,3,bad_date,When"));
        assert!(results[0]
            .1
            .contains("\"Hung, up\",4,unknown_outcome,Result"));
        assert_eq!(results[0], results[1]);
        Ok(())
    }
}
