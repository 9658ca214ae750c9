//! The ingest stage: every configured file -> canonical rows in the lake, rejects with reasons, or
//! duplicates, with counts that reconcile per file. One atomic commit per run; quality gates decide
//! whether it happens. `validate` is the same work without writing.

mod copies;
mod file;
mod keys;
pub mod pseudonym;
pub mod report;

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polars::prelude::*;
use thiserror::Error;

use crate::config::{lexical, relative_to, Pipeline, SourceDef};
use crate::lake::manifest::{self, FileRecord};
use crate::lake::txn::Transaction;
use crate::lake::{Lake, LakeError, LakeWriter};
use crate::sources::map::{canonical, service_pairs, RejectChecks};
use crate::sources::read::{self, Opening, RawFile};
use crate::sources::SourceError;
use crate::warnings::{UnmappedService, Warning};
use keys::SeenKeys;
pub use report::{FileReport, FileStatus, Finding, IngestReport, RowCounts};
use report::{UnmappedValues, UNMAPPED_SHOWN};

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("source '{source_name}': no files match {pattern}")]
    NoFiles {
        source_name: String,
        pattern: String,
    },
    #[error("{}: symbolic link {problem}", link.display())]
    Link { link: PathBuf, problem: String },
    /// A path a pattern matched that is neither a file nor a folder (a named pipe, a socket, a
    /// device): reading one could wait for ever or never end, and skipping it would lose
    /// whatever was meant to arrive through it without a word.
    #[error("{}: {kind}, not an export file; copy the export into the folder as a file", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
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
    /// The secret customer identifiers are keyed with is missing or too short.
    #[error("{}: {key}: {message}", file.display())]
    Secret {
        file: PathBuf,
        key: String,
        message: String,
    },
}

/// How to run ingest.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    /// Check everything, write nothing (`cex validate`).
    pub dry_run: bool,
    /// CSV files up to this many bytes are read into memory and mapped in one go; larger ones
    /// are scanned from disk and mapped in batches of rows, so memory stays bounded whatever an
    /// export's size.
    pub in_memory_limit: u64,
    /// Size of the pieces larger CSV files are read in.
    pub chunk_bytes: usize,
    /// The run's day: rows dated after it (plus `quality.future_days`) are implausible.
    /// Default: today in the pipeline's time zone.
    pub today: Option<chrono::NaiveDate>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            dry_run: false,
            in_memory_limit: 64 * 1024 * 1024,
            chunk_bytes: 16 * 1024 * 1024,
            today: None,
        }
    }
}

/// Runs ingest for every source of the pipeline.
pub fn ingest(pipeline: &Pipeline, options: IngestOptions) -> Result<IngestReport, IngestError> {
    let files = source_files(pipeline)?;
    // No secret, no ingest: a missing secret stops the run before the lake is touched.
    let keyer = pseudonym::load(pipeline)?;
    // The writer holds the lake's lock until ingest returns; a dry run only reads a snapshot.
    let writer = if options.dry_run {
        None
    } else {
        Some(LakeWriter::open(&pipeline.lake_dir)?)
    };
    let lake_view = match &writer {
        Some(w) => w.lake().clone(),
        None => Lake::open(&pipeline.lake_dir)?,
    };
    // Keys under another secret than the lake's are refused before anything is read.
    if let Some(keyer) = &keyer {
        pseudonym::check_lake(keyer, &pipeline.lake_dir, false, &pipeline.file)?;
    }
    let existing_manifest = lake_view.manifest().clone();
    let known = manifest::known_hashes(&existing_manifest);
    let stamps = manifest::known_stamps(&existing_manifest);
    let txn = writer.as_ref().map(Transaction::begin);
    let thresholds = crate::lake::monthly::Thresholds::of(pipeline);

    let total_files: usize = files.iter().map(|(_, f)| f.len()).sum();
    let progress = progress_bar(total_files as u64);
    let ctx = Context {
        pipeline,
        lake: &lake_view,
        txn: txn.as_ref(),
        known: &known,
        stamps: &stamps,
        progress: &progress,
        ingested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        today: options
            .today
            .unwrap_or_else(|| crate::period::today_in_zone(&pipeline.timezone)),
        options,
        keyer: keyer.as_ref(),
        thresholds: &thresholds,
    };
    // Sources are independent: each is ingested on a thread of its own, all at once (a pool the
    // size of the machine would leave the longest source waiting for a shorter one); files within
    // a source go in order, so an overlap between two files is kept from the earlier one.
    let per_source: Vec<Result<SourceOutcome, IngestError>> = std::thread::scope(|scope| {
        let ctx = &ctx;
        let running: Vec<_> = files
            .iter()
            .map(|(source, paths)| scope.spawn(move || ingest_source(ctx, source, paths)))
            .collect();
        running
            .into_iter()
            .zip(&files)
            .map(|(thread, (source, _))| {
                thread.join().unwrap_or_else(|_| {
                    Err(IngestError::Data {
                        path: PathBuf::from(&source.name),
                        message: "ingest of this source failed unexpectedly".into(),
                    })
                })
            })
            .collect()
    });
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
            let committed = txn.commit(&records)?;
            // The secret's fingerprint is recorded once keys are in the lake (a run that
            // commits nothing leaves nothing behind).
            if let Some(keyer) = &keyer {
                pseudonym::check_lake(keyer, &pipeline.lake_dir, true, &pipeline.file)?;
            }
            report.lake_version = committed.lake_version.or(lake_view.version());
            report.committed = true;
            if let Some(writer) = &writer {
                let stored = crate::lake::monthly::store_missing(writer, &thresholds)?;
                if stored > 0 {
                    crate::log::info(&format!(
                        "the monthly sums of {stored} contacts files, stored by an earlier version of cex or not at all, stored again"
                    ));
                }
            }
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
            let folder = crate::config::glob_folder(pattern);
            for m in matches {
                let p = m.map_err(|e| IngestError::BadPattern {
                    source_name: source.name.clone(),
                    pattern: pattern.clone(),
                    message: e.to_string(),
                })?;
                if is_export(&p, &folder)? {
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

/// Whether a path a glob matched is an export to read: a file, or a link to a file inside the
/// folder the pattern names; a folder is not (a pattern such as `exports/*` matches folders
/// too). A link to nothing or to somewhere else is refused, naming the link and never reading
/// what it points to, and so is anything else (a named pipe, a socket, a device).
fn is_export(path: &Path, folder: &Path) -> Result<bool, IngestError> {
    let link_err = |problem: String| IngestError::Link {
        link: path.to_path_buf(),
        problem,
    };
    let meta = std::fs::symlink_metadata(path).map_err(|e| link_err(e.to_string()))?;
    if !meta.file_type().is_symlink() {
        return file_or_folder(path, &meta);
    }
    let target = std::fs::canonicalize(path)
        .map_err(|_| link_err("points to nothing (a dangling link)".into()))?;
    let inside = std::fs::canonicalize(folder).is_ok_and(|f| target.starts_with(f));
    if !inside {
        return Err(link_err(format!(
            "leads out of the folder the pattern names ({}); copy the export into it instead",
            folder.display()
        )));
    }
    let meta = std::fs::metadata(&target).map_err(|e| link_err(e.to_string()))?;
    file_or_folder(path, &meta)
}

/// `true` for a file, `false` for a folder, an error naming `path` for anything else.
fn file_or_folder(path: &Path, meta: &std::fs::Metadata) -> Result<bool, IngestError> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_file() || kind.is_dir() {
        return Ok(kind.is_file());
    }
    let kind = if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a file"
    };
    Err(IngestError::NotAFile {
        path: path.to_path_buf(),
        kind,
    })
}

struct Context<'a> {
    pipeline: &'a Pipeline,
    lake: &'a Lake,
    txn: Option<&'a Transaction>,
    known: &'a std::collections::HashSet<String>,
    /// Files ingested before, by path, size and modification time: skipped without reading.
    stamps: &'a HashMap<manifest::FileStamp, (String, String)>,
    progress: &'a ProgressBar,
    ingested_at: String,
    /// The run's day (see [`IngestOptions::today`]).
    today: chrono::NaiveDate,
    options: IngestOptions,
    /// Keys customer identifiers (`None` when no source maps one).
    keyer: Option<&'a pseudonym::Keyer>,
    /// What the contacts' monthly sums are counted at (the pipeline's).
    thresholds: &'a crate::lake::monthly::Thresholds,
}

struct SourceOutcome {
    files: Vec<FileReport>,
    records: Vec<FileRecord>,
}

/// Keys held per source before the least recently used months are dropped (about 20 MB per
/// million); a dropped month is read back if a later file touches it.
const KEY_BUDGET: usize = 8_000_000;

/// A file of a source as the reader hands it over.
enum Next {
    Skipped(Box<FileReport>),
    /// Opened, with its first batch of rows (the whole file unless it is read in pieces).
    Mapped {
        raw: Box<RawFile>,
        first: DataFrame,
        /// What the first batch's (and every later batch's) reject checks mean.
        checks: RejectChecks,
        shown: String,
    },
}

/// Files of a source opened, hashed and mapped at once while the current one is de-duplicated
/// and written. Two keep both cores busy when one source has most of the files (a telephony
/// system's monthly exports) while holding at most three mapped files in memory.
const READ_AHEAD: usize = 2;

/// One source's files, in path order (so an overlap between two files is kept from the earlier
/// one). Reader threads open, hash and map the next files while the current one is
/// de-duplicated and written; they hand them over in path order.
fn ingest_source(
    ctx: &Context,
    source: &SourceDef,
    paths: &[PathBuf],
) -> Result<SourceOutcome, IngestError> {
    let services = service_pairs(source)?;
    let budget = ctx.txn.map(|_| KEY_BUDGET);
    let mut seen = SeenKeys::new(source, budget);
    let mut outcome = SourceOutcome {
        files: Vec::new(),
        records: Vec::new(),
    };
    // Content met earlier in this run (sha256 -> file): a copy is reported, not ingested again.
    let mut hashes_this_run: HashMap<String, String> = HashMap::new();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Next, IngestError>>(0);
    let services = &services;
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut pending = paths.iter();
            let mut in_flight = std::collections::VecDeque::new();
            loop {
                while in_flight.len() < READ_AHEAD {
                    let Some(path) = pending.next() else { break };
                    in_flight
                        .push_back(scope.spawn(move || open_next(ctx, source, services, path)));
                }
                let Some(opening) = in_flight.pop_front() else {
                    break;
                };
                let next = opening.join().unwrap_or_else(|_| {
                    Err(IngestError::Data {
                        path: PathBuf::from(&source.name),
                        message: "the file reader failed".into(),
                    })
                });
                let failed = next.is_err();
                if tx.send(next).is_err() || failed {
                    break;
                }
            }
        });
        let mut result = Ok(());
        for next in rx.iter() {
            let step = next.and_then(|next| match next {
                Next::Skipped(report) => {
                    outcome.files.push(*report);
                    Ok(())
                }
                Next::Mapped { raw, shown, .. } if hashes_this_run.contains_key(&raw.sha256) => {
                    let same_as = hashes_this_run.get(&raw.sha256).cloned();
                    // Its content goes into the lake with the other file: later runs know the
                    // copy by its stamp (an entry is only believed while the lake holds that
                    // content, so a run that does not commit leaves nothing misleading).
                    if let (Some(time), Some(_)) = (raw.modified_ns, ctx.txn) {
                        let stamp = (manifest_path(ctx.pipeline, &raw.path), raw.size, time);
                        copies::remember(ctx.lake.root(), &stamp, &raw.sha256, &raw.encoding);
                    }
                    outcome.files.push(skipped(
                        source,
                        shown,
                        &raw.sha256,
                        &raw.encoding,
                        FileStatus::SameAsAnotherFile,
                        same_as,
                    ));
                    Ok(())
                }
                Next::Mapped {
                    raw,
                    first,
                    checks,
                    shown,
                } => {
                    hashes_this_run.insert(raw.sha256.clone(), shown.clone());
                    ctx.progress.set_message(shown.clone());
                    let batch = file::FirstBatch {
                        frame: first,
                        checks,
                    };
                    let (report, record) =
                        file::ingest_file(ctx, source, services, *raw, batch, &mut seen, shown)?;
                    outcome.files.push(report);
                    outcome.records.push(record);
                    Ok(())
                }
            });
            ctx.progress.inc(1);
            if step.is_err() {
                result = step;
                break;
            }
        }
        // Unblocks the reader if it is waiting to hand over a file.
        drop(rx);
        if reader.join().is_err() && result.is_ok() {
            result = Err(IngestError::Data {
                path: PathBuf::from(&source.name),
                message: "the file reader failed".into(),
            });
        }
        result
    })?;
    Ok(outcome)
}

/// Opens one file and maps its first batch, unless it is already in the lake.
fn open_next(
    ctx: &Context,
    source: &SourceDef,
    services: &[(String, String)],
    path: &Path,
) -> Result<Next, IngestError> {
    let shown = display_path(path);
    // An untouched file already in the lake is recognised by its stamp, without reading it: a
    // monthly run then reads only the new exports, however many old ones the folder keeps.
    let modified = std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.len(), manifest::modified_ns(&m)?)));
    let already = |shown: String, sha256: &str, encoding: &str| {
        Next::Skipped(Box::new(skipped(
            source,
            shown,
            sha256,
            encoding,
            FileStatus::AlreadyIngested,
            None,
        )))
    };
    let stamp = modified.map(|(size, time)| (manifest_path(ctx.pipeline, path), size, time));
    if let Some(stamp) = &stamp {
        // In the manifest (ingested from this very file), or a copy of a file in the lake seen
        // by an earlier run (a re-sent export left in the folder is not read every month).
        let known = ctx.stamps.get(stamp).cloned().or_else(|| {
            copies::seen(ctx.lake.root(), stamp).filter(|(sha256, _)| ctx.known.contains(sha256))
        });
        if let Some((sha256, encoding)) = known {
            return Ok(already(shown, &sha256, &encoding));
        }
    }
    let opening = read::open_for_ingest(
        path,
        source,
        ctx.options.in_memory_limit,
        ctx.options.chunk_bytes,
        &|h| ctx.known.contains(h),
    )?;
    match opening {
        Opening::Known { sha256, encoding } => {
            // A dry run writes nothing, not even this.
            if let (Some(stamp), Some(_)) = (&stamp, ctx.txn) {
                copies::remember(ctx.lake.root(), stamp, &sha256, &encoding);
            }
            Ok(already(shown, &sha256, &encoding))
        }
        Opening::Opened(mut raw) => {
            raw.modified_ns = modified.map(|(_, time)| time);
            let (plan, checks) = canonical(&raw, source, ctx.pipeline, services, ctx.today)?;
            let first = collect_with(plan, &raw.path, Engine::InMemory)?;
            Ok(Next::Mapped {
                raw,
                first,
                checks,
                shown,
            })
        }
    }
}

/// The report of a file skipped because its content was seen before.
fn skipped(
    source: &SourceDef,
    shown: String,
    sha256: &str,
    encoding: &str,
    status: FileStatus,
    same_as: Option<String>,
) -> FileReport {
    FileReport {
        source: source.name.clone(),
        path: shown,
        file_id: sha256.get(..16).unwrap_or(sha256).to_string(),
        status,
        encoding: encoding.to_string(),
        repaired_lines: 0,
        counts: RowCounts::default(),
        unmapped_values: BTreeMap::new(),
        unmapped_categories: Default::default(),
        first_date: None,
        last_date: None,
        same_as,
        placeholder_identifiers: BTreeMap::new(),
        first_rejects: BTreeMap::new(),
        conflicting_duplicates: Default::default(),
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
        for (column, found) in &f.placeholder_identifiers {
            report.warnings.push(Warning::PlaceholderIdentifiers {
                file: f.path.clone(),
                column: column.clone(),
                values: found.values,
                contacts: found.contacts,
                busiest_day: found.busiest_day,
                limit: pipeline.customers.max_contacts_per_day,
            });
        }
        if f.repaired_lines > 0 {
            report.warnings.push(Warning::RepairedLines {
                file: f.path.clone(),
                lines: f.repaired_lines,
            });
        }
        if f.counts.rows_read == 0 {
            let warning = Warning::EmptyFile {
                file: f.path.clone(),
            };
            if gates.fail_on_empty_file {
                report.gate_failures.push(Finding {
                    file: f.path.clone(),
                    message: format!("{warning} (quality.fail_on_empty_file)"),
                });
            } else {
                report.warnings.push(warning);
            }
        }
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        // Shares are of the rows in scope: rows a filter rule excluded are neither.
        let duplicate_share = f.counts.duplicates as f64 / f.counts.rows_in_scope().max(1) as f64;
        if duplicate_share > gates.fail_duplicate_share {
            report.gate_failures.push(Finding {
                file: f.path.clone(),
                message: format!(
                    "{} of rows were duplicates ({} of {}), above the {} limit (quality.fail_duplicate_share)",
                    pct(duplicate_share),
                    f.counts.duplicates,
                    f.counts.rows_in_scope(),
                    pct(gates.fail_duplicate_share)
                ),
            });
        } else if duplicate_share > gates.warn_duplicate_share {
            report.warnings.push(Warning::DuplicateShare {
                file: f.path.clone(),
                duplicates: f.counts.duplicates,
                rows_read: f.counts.rows_in_scope(),
                level: gates.warn_duplicate_share,
            });
        }
        if f.conflicting_duplicates.rows > 0 {
            report.warnings.push(Warning::ConflictingDuplicates {
                file: f.path.clone(),
                rows: f.conflicting_duplicates.rows,
                first_row: f.conflicting_duplicates.first_row,
                columns: f.conflicting_duplicates.columns.clone(),
            });
        }
        let share = f.reject_share();
        if share > gates.fail_reject_share {
            report.gate_failures.push(Finding {
                file: f.path.clone(),
                message: format!(
                    "{} of rows rejected ({} of {}), above the {} limit (quality.fail_reject_share); {}",
                    pct(share),
                    f.counts.rejected,
                    f.counts.rows_in_scope(),
                    pct(gates.fail_reject_share),
                    f.reasons_text()
                ),
            });
        } else if share > gates.warn_reject_share {
            report.warnings.push(Warning::RejectedShare {
                file: f.path.clone(),
                rejected: f.counts.rejected,
                rows_read: f.counts.rows_in_scope(),
                level: gates.warn_reject_share,
                reasons: f.reasons_text(),
            });
        }
    }
    // Unmapped categories, gathered per source: one line names each with its rows and the
    // files it is in, the most rows first (the lookup entries that matter most).
    let mut unmapped: BTreeMap<&str, (UnmappedValues, BTreeMap<&str, usize>)> = BTreeMap::new();
    for f in &report.files {
        if f.unmapped_categories.is_empty() {
            continue;
        }
        let (rows, files) = unmapped.entry(f.source.as_str()).or_default();
        rows.merge(&f.unmapped_categories);
        for category in f.unmapped_categories.rows.keys() {
            *files.entry(category.as_str()).or_default() += 1;
        }
    }
    let findings = unmapped.into_iter().map(|(source, (rows, files))| {
        let ranked = rows.ranked();
        let shown = ranked.len().min(UNMAPPED_SHOWN);
        Warning::UnmappedServices {
            source: source.to_string(),
            values: ranked[..shown]
                .iter()
                .map(|(c, n)| UnmappedService {
                    value: c.to_string(),
                    rows: **n,
                    files: files.get(c.as_str()).copied().unwrap_or(0),
                })
                .collect(),
            more_values: (ranked.len() - shown) as u64,
            more_rows: ranked[shown..].iter().map(|(_, n)| *n).sum::<u64>() + rows.uncounted_rows,
        }
    });
    if gates.fail_on_unmapped_service {
        report.gate_failures.extend(findings.map(|w| Finding {
            file: w.subject(),
            message: w.to_string(),
        }));
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
        message: crate::text::first_paragraph(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::col as c;

    /// A large file is read in pieces, a small one whole. Both must give the same lake and the
    /// same rejects.
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
                    // Pieces of a few rows, so that rows cross piece boundaries.
                    chunk_bytes: 60,
                    ..IngestOptions::default()
                },
            )?;
            let f = &report.files[0];
            let counts = (
                f.counts.rows_read,
                f.counts.accepted,
                f.counts.rejected,
                f.counts.duplicates,
            );
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
