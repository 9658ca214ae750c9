//! The lake: five Delta tables, `contacts` and `responses` (partitioned by organisation,
//! source, year and month), `monthly` and `answer_months` (each contacts or responses file
//! summed by month, see [`monthly`]) and `manifest` (one row per ingested export), the rejects files
//! beside them, and the lock that lets one writer in at a time. Readers ([`Lake`]) see one consistent snapshot pinned
//! by the manifest and change nothing; only the writer ([`LakeWriter`], under the lock) commits
//! (`txn`), finishes what a killed run committed, and removes files no commit refers to.
//!
//! Layout (any Delta reader can read the tables; see docs/model.md):
//! `<lake>/<table>/_delta_log/`,
//! `<lake>/<table>/organisation=<o>/source=<s>/year=<y>/month=<m>/part-*.parquet`,
//! `<lake>/manifest/`, `<lake>/rejects/<source>/<file id>.csv` (owner-only), `<lake>/.lock`,
//! and sums the KPI and equality stages keep to save work, under `<lake>/_derived/` ([`derived`]).

pub mod delta;
pub mod derived;
pub mod manifest;
pub mod monthly;
pub mod parquet;
pub mod txn;
mod upgrade;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use thiserror::Error;

use crate::model::Table;
use delta::DataFile;

#[derive(Debug, Error)]
pub enum LakeError {
    #[error("lake {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("lake {} is being written by another cex run ({holder}); wait for it to finish", lake.display())]
    Locked { lake: PathBuf, holder: String },
    #[error("lake {}: {message}", path.display())]
    Data { path: PathBuf, message: String },
    #[error("lake {} has no version {version} (its latest is {latest}); `--lake-version` takes a version the lake has had", path.display())]
    NoSuchVersion {
        path: PathBuf,
        version: i64,
        latest: String,
    },
    #[error("lake {} is in the layout of cex before Delta tables; run `cex lake upgrade` with this pipeline file (or `cex ingest` / `cex run`, which upgrade it first)", path.display())]
    OldLayout { path: PathBuf },
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> LakeError + '_ {
    move |e| LakeError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The name of the manifest's Delta table folder.
pub const MANIFEST_TABLE: &str = "manifest";
/// Partition columns of the data tables, in folder order.
pub const PARTITION_COLUMNS: [&str; 4] = ["organisation", "source", "year", "month"];

/// One data table as pinned by the manifest: its version and files.
#[derive(Debug, Clone)]
struct Pinned {
    version: i64,
    files: Vec<DataFile>,
    /// Columns stored signed (Delta has no unsigned integers) and read back unsigned.
    unsigned: Vec<(String, DataType)>,
}

/// A consistent, read-only view of the lake: the manifest at one version and each data table at
/// the version that manifest records. Opening it creates, deletes and waits for nothing.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
    version: Option<i64>,
    manifest: DataFrame,
    tables: BTreeMap<Table, Pinned>,
    /// The files of the monthly aggregates table (its latest version: each covers one contacts
    /// file by name, so the snapshot reads only those of the files it pins).
    monthly: Vec<PathBuf>,
    /// The same for the answers' monthly sums (each covers one responses file).
    answer_months: Vec<PathBuf>,
}

impl Lake {
    /// The lake as it is now (an empty lake when the folder or its tables do not exist yet).
    pub fn open(root: &Path) -> Result<Lake, LakeError> {
        Lake::open_at(root, None)
    }

    /// The lake as it was at manifest version `version` (the latest when `None`).
    pub fn open_at(root: &Path, version: Option<i64>) -> Result<Lake, LakeError> {
        if upgrade::is_legacy(root) {
            return Err(LakeError::OldLayout {
                path: root.to_path_buf(),
            });
        }
        let dir = root.join(MANIFEST_TABLE);
        let table = match delta::load(&dir, version) {
            Ok(t) => t,
            Err(e) => {
                return Err(match version {
                    Some(v) => LakeError::NoSuchVersion {
                        path: root.to_path_buf(),
                        version: v,
                        latest: latest_version(&dir)
                            .map(|l| l.to_string())
                            .unwrap_or_else(|| "none: it is empty".into()),
                    },
                    None => e,
                })
            }
        };
        let Some(table) = table else {
            if let Some(v) = version {
                return Err(LakeError::NoSuchVersion {
                    path: root.to_path_buf(),
                    version: v,
                    latest: "none: it is empty".into(),
                });
            }
            return Ok(Lake {
                root: root.to_path_buf(),
                version: None,
                manifest: manifest::to_frame(&[])?,
                tables: BTreeMap::new(),
                monthly: Vec::new(),
                answer_months: Vec::new(),
            });
        };
        // The manifest, then the data tables at the versions it pins, beside the monthly sums'
        // tables (their latest versions): four Delta logs replayed two at a time.
        let pinned = |manifest: &DataFrame, t: Table| -> Result<Option<Pinned>, LakeError> {
            let Some(v) = manifest::pinned_version(manifest, t.name()) else {
                return Ok(None);
            };
            let tdir = root.join(t.name());
            let data = delta::load(&tdir, Some(v))?.ok_or_else(|| LakeError::Data {
                path: tdir.clone(),
                message: format!("the manifest names version {v} of this table, which is missing"),
            })?;
            Ok(Some(Pinned {
                version: v,
                files: delta::files(&data, &tdir)?,
                unsigned: delta::unsigned_columns(&data, &tdir)?,
            }))
        };
        let sums_files = |name: &str| -> Result<Vec<PathBuf>, LakeError> {
            let dir = root.join(name);
            Ok(match delta::load(&dir, None)? {
                Some(t) => delta::files(&t, &dir)?
                    .into_iter()
                    .map(|f| f.path)
                    .collect(),
                None => Vec::new(),
            })
        };
        let (data, (monthly, answer_months)) = rayon::join(
            || -> Result<_, LakeError> {
                let manifest = manifest::from_table(&table, &dir)?;
                let (contacts, responses) = rayon::join(
                    || pinned(&manifest, Table::Contacts),
                    || pinned(&manifest, Table::Responses),
                );
                let tables: BTreeMap<Table, Pinned> =
                    [(Table::Contacts, contacts?), (Table::Responses, responses?)]
                        .into_iter()
                        .filter_map(|(t, p)| p.map(|p| (t, p)))
                        .collect();
                Ok((manifest, tables))
            },
            || {
                rayon::join(
                    || sums_files(monthly::TABLE),
                    || sums_files(monthly::ANSWERS_TABLE),
                )
            },
        );
        let (manifest, tables) = data?;
        Ok(Lake {
            root: root.to_path_buf(),
            version: Some(delta::version(&table, &dir)?),
            manifest,
            tables,
            monthly: monthly?,
            answer_months: answer_months?,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The manifest version this view is (`None`: nothing ingested yet).
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// The version of a data table this view reads (`None`: the table has no rows yet).
    pub fn table_version(&self, table: Table) -> Option<i64> {
        self.tables.get(&table).map(|p| p.version)
    }

    /// The manifest: one row per ingested export (an empty frame when there are none).
    pub fn manifest(&self) -> &DataFrame {
        &self.manifest
    }

    /// The data files of one partition.
    pub fn partition_files(
        &self,
        table: Table,
        source: &str,
        year: i32,
        month: i8,
    ) -> Vec<PathBuf> {
        let (y, m) = (year.to_string(), month.to_string());
        let is = |f: &DataFile, k: &str, v: &str| {
            f.partition.get(k).and_then(|x| x.as_deref()) == Some(v)
        };
        self.tables
            .get(&table)
            .map(|p| {
                p.files
                    .iter()
                    .filter(|f| is(f, "source", source) && is(f, "year", &y) && is(f, "month", &m))
                    .map(|f| f.path.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The data files of `table` holding rows dated from month `from` to month `to` (year,
    /// month; inclusive), every organisation and source, in path order. A file whose
    /// partition does not tell its month is among them whatever the months.
    fn files_of_months(&self, table: Table, from: (i32, i8), to: (i32, i8)) -> Vec<&DataFile> {
        let number =
            |f: &DataFile, k: &str| -> Option<i32> { f.partition.get(k)?.as_deref()?.parse().ok() };
        let (lo, hi) = (from.0 * 12 + i32::from(from.1), to.0 * 12 + i32::from(to.1));
        self.tables
            .get(&table)
            .map(|p| {
                p.files
                    .iter()
                    .filter(|f| match (number(f, "year"), number(f, "month")) {
                        (Some(y), Some(m)) => (lo..=hi).contains(&(y * 12 + m)),
                        _ => true,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The paths of [`Lake::months_stamp`]'s files: what to scan for those months alone.
    pub fn months_files(&self, table: Table, from: (i32, i8), to: (i32, i8)) -> Vec<PathBuf> {
        self.files_of_months(table, from, to)
            .into_iter()
            .map(|f| f.path.clone())
            .collect()
    }

    /// What identifies the rows of `table` dated from month `from` to month `to` (year,
    /// month; inclusive), every organisation and source: each data file's path (in the lake),
    /// size and modification time, one line each, in path order. Data files are written once
    /// under a run's own name and never changed, so this text changes whenever those months'
    /// rows can.
    pub fn months_stamp(&self, table: Table, from: (i32, i8), to: (i32, i8)) -> String {
        self.files_of_months(table, from, to)
            .into_iter()
            .map(|f| {
                // Relative to the lake: a lake moved or restored elsewhere keeps its stamps.
                let path = f.path.strip_prefix(&self.root).unwrap_or(&f.path);
                format!("{}\t{}\t{}\n", path.display(), f.size, f.modified)
            })
            .collect()
    }

    /// Every data file of a table.
    pub fn table_files(&self, table: Table) -> Vec<PathBuf> {
        self.tables
            .get(&table)
            .map(|p| p.files.iter().map(|f| f.path.clone()).collect())
            .unwrap_or_default()
    }

    /// The partition values of a pinned file of `table` (`None`: not one of its pinned files).
    pub fn partition_of(
        &self,
        table: Table,
        path: &Path,
    ) -> Option<std::collections::HashMap<String, Option<String>>> {
        self.tables
            .get(&table)?
            .files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.partition.clone())
    }

    /// The files of the monthly sums table of `table` (see [`monthly`]), latest version.
    pub fn sums_files(&self, table: Table) -> &[PathBuf] {
        match table {
            Table::Contacts => &self.monthly,
            Table::Responses => &self.answer_months,
        }
    }

    /// A lazy scan of some of the pinned files of `table`, as [`Lake::scan`] reads them.
    pub fn scan_some(
        &self,
        table: Table,
        files: &[PathBuf],
    ) -> Result<Option<LazyFrame>, LakeError> {
        let Some(pinned) = self.tables.get(&table) else {
            return Ok(None);
        };
        Ok(scan_table_files(files, &self.root, table)?
            .map(|lf| unsigned_back(lf, &pinned.unsigned)))
    }

    /// A lazy scan of a table as this view sees it (`None` when it has no rows).
    pub fn scan(&self, table: Table) -> Result<Option<LazyFrame>, LakeError> {
        let Some(pinned) = self.tables.get(&table) else {
            return Ok(None);
        };
        let files: Vec<PathBuf> = pinned.files.iter().map(|f| f.path.clone()).collect();
        Ok(scan_table_files(&files, &self.root, table)?
            .map(|lf| unsigned_back(lf, &pinned.unsigned)))
    }
}

/// Casts columns stored signed back to the unsigned types cex wrote.
fn unsigned_back(lf: LazyFrame, unsigned: &[(String, DataType)]) -> LazyFrame {
    if unsigned.is_empty() {
        return lf;
    }
    lf.with_columns(
        unsigned
            .iter()
            .map(|(name, dtype)| col(name.as_str()).cast(dtype.clone()))
            .collect::<Vec<_>>(),
    )
}

fn latest_version(dir: &Path) -> Option<i64> {
    delta::load(dir, None)
        .ok()
        .flatten()
        .and_then(|t| delta::version(&t, dir).ok())
}

/// Scans files of one table as one lazy frame: the columns only some files have
/// ([`crate::model::optional_columns`]) are in every row, null where a file lacks them,
/// whichever file comes first. Files that store a column at different widths (a source with a
/// `count` column stores `contacts` as Int64, one row per contact as Int32 in lakes written
/// before both were widened alike) are scanned in groups of one schema, each cast to the
/// widest type, then stacked: one scan when every file agrees, as usual.
pub fn scan_table_files(
    files: &[PathBuf],
    root: &Path,
    table: Table,
) -> Result<Option<LazyFrame>, LakeError> {
    let data_err = |e: PolarsError| LakeError::Data {
        path: root.to_path_buf(),
        message: e.to_string(),
    };
    // Each file's schema, from its footer: files grouped by schema, in order of first sight.
    let mut groups: Vec<(Schema, Vec<PathBuf>)> = Vec::new();
    for file in files {
        let Some(lf) = scan_files(std::slice::from_ref(file), root)? else {
            continue;
        };
        let schema = lf
            .clone()
            .collect_schema()
            .map_err(data_err)?
            .as_ref()
            .clone();
        match groups.iter_mut().find(|(s, _)| *s == schema) {
            Some((_, group)) => group.push(file.clone()),
            None => groups.push((schema, vec![file.clone()])),
        }
    }
    let Some((first, _)) = groups.first() else {
        return Ok(None);
    };
    // The stacked schema: the first file's columns, then the optional ones, each at the
    // widest type any group gives it.
    let mut wanted = first.clone();
    for (name, dtype) in crate::model::optional_columns(table) {
        if !wanted.contains(name) {
            wanted.with_column(name.into(), dtype);
        }
    }
    for (schema, _) in &groups[1..] {
        for (name, dtype) in schema.iter() {
            if let Some(have) = wanted.get(name) {
                if have != dtype {
                    let wider = wider_integer(have, dtype).ok_or_else(|| LakeError::Data {
                        path: root.to_path_buf(),
                        message: format!(
                            "column {name} is stored as {have} in some files and {dtype} in others"
                        ),
                    })?;
                    wanted.with_column(name.clone(), wider);
                }
            }
        }
    }
    let scan = |paths: &[PathBuf], schema: Schema| {
        let paths: Vec<PlRefPath> = paths
            .iter()
            .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
            .collect();
        let args = ScanArgsParquet {
            glob: false,
            schema: Some(Arc::new(schema)),
            allow_missing_columns: true,
            ..Default::default()
        };
        LazyFrame::scan_parquet_files(paths.into(), args).map_err(data_err)
    };
    if groups.len() == 1 {
        return scan(files, wanted).map(Some);
    }
    let parts = groups
        .iter()
        .map(|(schema, paths)| {
            let mut own = schema.clone();
            for (name, dtype) in wanted.iter() {
                if !own.contains(name) {
                    own.with_column(name.clone(), dtype.clone());
                }
            }
            let cast: Vec<Expr> = wanted
                .iter()
                .map(|(name, dtype)| col(name.clone()).cast(dtype.clone()))
                .collect();
            scan(paths, own).map(|lf| lf.select(cast))
        })
        .collect::<Result<Vec<_>, _>>()?;
    concat(parts, UnionArgs::default())
        .map(Some)
        .map_err(data_err)
}

/// The wider of two integer types (`None` unless both are integers).
fn wider_integer(a: &DataType, b: &DataType) -> Option<DataType> {
    let bits = |d: &DataType| match d {
        DataType::Int8 | DataType::UInt8 => Some(8),
        DataType::Int16 | DataType::UInt16 => Some(16),
        DataType::Int32 | DataType::UInt32 => Some(32),
        DataType::Int64 | DataType::UInt64 => Some(64),
        _ => None,
    };
    let (x, y) = (bits(a)?, bits(b)?);
    // An unsigned type needs the next signed width; both signed: the wider.
    let need = |d: &DataType, n: u32| if d.is_signed_integer() { n } else { n * 2 };
    Some(match need(a, x).max(need(b, y)) {
        8 => DataType::Int8,
        16 => DataType::Int16,
        32 => DataType::Int32,
        _ => DataType::Int64,
    })
}

/// Scans the given Parquet files as one lazy frame (the first file's columns).
pub fn scan_files(files: &[PathBuf], root: &Path) -> Result<Option<LazyFrame>, LakeError> {
    if files.is_empty() {
        return Ok(None);
    }
    let paths: Vec<PlRefPath> = files
        .iter()
        .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
        .collect();
    let args = ScanArgsParquet {
        glob: false,
        ..Default::default()
    };
    LazyFrame::scan_parquet_files(paths.into(), args)
        .map(Some)
        .map_err(|e| LakeError::Data {
            path: root.to_path_buf(),
            message: e.to_string(),
        })
}

/// The lake opened for writing: the lock is held for the writer's life (the kernel releases it
/// when the process ends, however it ends), an old layout has been upgraded, what a killed run
/// committed has been recorded, and files no commit refers to have been removed.
pub struct LakeWriter {
    lake: Lake,
    _lock: fs::File,
    _private: OwnerOnlyFiles,
}

/// While it lives, files and folders the process creates are readable by their owner only
/// (umask 077): everything a writer puts in the lake, including what delta-rs writes (logs,
/// checkpoints) and the partition folders. The previous mask comes back when it is dropped.
/// The mask is the process's: a writer runs alone (the lake's lock), before any output is
/// written.
struct OwnerOnlyFiles {
    #[cfg(unix)]
    previous: libc::mode_t,
}

impl OwnerOnlyFiles {
    fn new() -> OwnerOnlyFiles {
        OwnerOnlyFiles {
            // SAFETY: umask only swaps the process's file-creation mask.
            #[cfg(unix)]
            previous: unsafe { libc::umask(0o077) },
        }
    }
}

impl Drop for OwnerOnlyFiles {
    fn drop(&mut self) {
        // SAFETY: as above; restores the mask in force before the writer opened.
        #[cfg(unix)]
        unsafe {
            libc::umask(self.previous);
        }
    }
}

impl LakeWriter {
    pub fn open(root: &Path) -> Result<LakeWriter, LakeError> {
        // Owner-only: the lake holds survey responses (special-category data) and raw rows.
        let private = OwnerOnlyFiles::new();
        owner_only_dir(root)?;
        let lock = take_lock(root)?;
        upgrade::upgrade(root)?;
        let mut lake = Lake::open(root)?;
        if txn::recover(&lake)? {
            lake = Lake::open(root)?;
        }
        txn::remove_orphans(&lake)?;
        Ok(LakeWriter {
            lake,
            _lock: lock,
            _private: private,
        })
    }

    /// The lake as it stood when the writer opened it.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }
}

/// Takes the lake's exclusive lock (an OS advisory lock on `<lake>/.lock`, flock semantics):
/// refused at once when another process holds it; released by the kernel when this one ends.
fn take_lock(root: &Path) -> Result<fs::File, LakeError> {
    let path = root.join(".lock");
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let holder = fs::read_to_string(&path)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "a process that has just started".into());
            return Err(LakeError::Locked {
                lake: root.to_path_buf(),
                holder,
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
    }
    // For people and monitors only: the lock is the kernel's, not this text.
    let note = format!(
        "process {} since {}",
        std::process::id(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    file.set_len(0).map_err(io_err(&path))?;
    file.write_all(note.as_bytes()).map_err(io_err(&path))?;
    Ok(file)
}

/// Every file below `dir` (not following links), skipping folders named in `skip`.
pub(crate) fn files_under(dir: &Path, skip: &[&str]) -> Result<Vec<PathBuf>, LakeError> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(io_err(&d))? {
            let entry = entry.map_err(io_err(&d))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(io_err(&path))?;
            if kind.is_dir() {
                if !skip.iter().any(|s| entry.file_name() == *s) {
                    stack.push(path);
                }
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Paths (relative to the table folder) that any commit in the table's JSON log adds.
pub(crate) fn logged_paths(dir: &Path) -> Result<HashSet<String>, LakeError> {
    let mut out = HashSet::new();
    let log = dir.join("_delta_log");
    for file in files_under(&log, &[])? {
        if file.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = fs::read_to_string(&file).map_err(io_err(&file))?;
        for line in text.lines() {
            if let Ok(serde_json::Value::Object(mut action)) = serde_json::from_str(line) {
                if let Some(serde_json::Value::Object(add)) = action.remove("add") {
                    if let Some(serde_json::Value::String(p)) = add.get("path") {
                        out.insert(decode_path(p));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A Delta add path as a relative file path (Delta writes paths URL-encoded).
fn decode_path(p: &str) -> String {
    let bytes = p.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = p
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Makes a folder owner-only (rwx------) where the platform has permissions.
pub(crate) fn owner_only_dir(dir: &Path) -> Result<(), LakeError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_storing_a_column_at_other_widths_are_read_as_one_table(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let write =
            |name: &str, mut df: DataFrame| -> Result<PathBuf, Box<dyn std::error::Error>> {
                let path = dir.path().join(name);
                ParquetWriter::new(std::fs::File::create(&path)?).finish(&mut df)?;
                Ok(path)
            };
        // One row per call (Int32, as lakes written before were) and counted visits (Int64).
        let calls = write(
            "calls.parquet",
            df!("source" => ["calls", "calls"], "contacts" => [1i32, 1])?,
        )?;
        let desk = write(
            "desk.parquet",
            df!("source" => ["desk"], "contacts" => [5i64], "reason" => ["Payment"])?,
        )?;
        let lf = scan_table_files(&[calls, desk], dir.path(), Table::Contacts)?.ok_or("no scan")?;
        let df = lf.collect()?;
        assert_eq!(df.column("contacts")?.dtype(), &DataType::Int64);
        let total: i64 = df.column("contacts")?.i64()?.sum().unwrap_or(0);
        assert_eq!(total, 7);
        assert_eq!(df.column("reason")?.null_count(), 2);
        assert_eq!(
            wider_integer(&DataType::Int32, &DataType::UInt32),
            Some(DataType::Int64)
        );
        assert_eq!(
            wider_integer(&DataType::Int16, &DataType::Int8),
            Some(DataType::Int16)
        );
        assert_eq!(wider_integer(&DataType::Int32, &DataType::String), None);
        Ok(())
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_lock(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let first = LakeWriter::open(dir.path())?;
        assert!(matches!(
            LakeWriter::open(dir.path()),
            Err(LakeError::Locked { .. })
        ));
        drop(first);
        // Released with the writer: a lock file left behind blocks nobody.
        assert!(dir.path().join(".lock").exists());
        let _second = LakeWriter::open(dir.path())?;
        Ok(())
    }

    #[test]
    fn a_reader_of_an_empty_folder_sees_an_empty_lake_and_creates_nothing(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("lake");
        let lake = Lake::open(&root)?;
        assert_eq!(lake.version(), None);
        assert!(lake.scan(Table::Contacts)?.is_none());
        assert!(!root.exists());
        Ok(())
    }

    #[test]
    fn delta_paths_are_decoded() {
        assert_eq!(
            decode_path("source=a%20b/year=2024/x.parquet"),
            "source=a b/year=2024/x.parquet"
        );
        assert_eq!(decode_path("plain/100%"), "plain/100%");
    }
}
