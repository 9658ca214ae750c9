//! One ingest run's commit to the lake, under the writer's lock. Data files are written straight
//! into their table folders, where no Delta reader sees them until a commit adds them; then each
//! data table gets one Delta commit (its add actions, a `txn` action per export, and the run's
//! file records in `commitInfo`), and the manifest one commit recording those versions. A run
//! killed before a data commit leaves only orphan files (removed by the next writer); one killed
//! between a data commit and the manifest's is completed by the next writer from `commitInfo`
//! ([`recover`]); readers pin data tables to the manifest's versions, so they never see the gap.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use deltalake::kernel::{StructField, Transaction as AppTransaction};
use polars::prelude::*;
use serde_json::{json, Map, Value};

use super::delta::{self, Commit};
use super::manifest::{self, FileRecord};
use super::parquet::LakeWriter as ParquetWriter;
use super::{io_err, Lake, LakeError, LakeWriter, MANIFEST_TABLE, PARTITION_COLUMNS};
use crate::model::Table;

/// `commitInfo` key holding the run's id.
const INFO_RUN: &str = "cexRun";
/// `commitInfo` key holding the file records of the run's exports that belong to the table.
const INFO_FILES: &str = "cexFiles";

/// A data file this run writes into a table folder.
struct Part {
    table: Table,
    /// Path relative to the table folder (`organisation=../source=../year=../month=../part-..`).
    rel: String,
    partition: HashMap<String, Option<String>>,
    /// The frame schema as cex wrote it (before unsigned columns were widened).
    schema: Option<Schema>,
}

/// What one run stages and commits. Staging can happen from several threads.
pub struct Transaction {
    root: PathBuf,
    run_id: String,
    parts: Mutex<Vec<Part>>,
    /// The monthly sums of this run's contacts and responses files (see `monthly`), written and
    /// complete.
    monthly: Mutex<Vec<Part>>,
    /// Every file this run created: removed if the transaction ends without a commit.
    created: Mutex<Vec<PathBuf>>,
    committed: bool,
}

/// What a commit did.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    /// The manifest version after the commit (`None`: nothing to commit).
    pub lake_version: Option<i64>,
    pub table_versions: BTreeMap<Table, i64>,
}

/// What committing one data table and its sums did: the table's new version, if its rows were
/// committed, and the error that stopped it, if one did.
#[derive(Default)]
struct Chain {
    version: Option<i64>,
    error: Option<LakeError>,
}

/// Commits a run's files of one data table (`data`), then their sums (`sums`, to the table's
/// sums table). Rows before their aggregates: a run killed between the two leaves files
/// without aggregates, which readers count from the rows, never aggregates of rows no commit
/// holds.
fn commit_table(
    root: &Path,
    run_id: &str,
    records: &[FileRecord],
    table: Table,
    data: Option<Vec<Part>>,
    sums: Option<Vec<Part>>,
) -> Chain {
    let mut done = Chain::default();
    let commit = || -> Result<(), LakeError> {
        if let Some(parts) = data {
            let dir = root.join(table.name());
            let mine: Vec<&FileRecord> =
                records.iter().filter(|r| r.table == table.name()).collect();
            let mut info = Map::new();
            info.insert(INFO_RUN.into(), json!(run_id));
            info.insert(
                INFO_FILES.into(),
                serde_json::to_value(&mine).map_err(|e| LakeError::Data {
                    path: dir.clone(),
                    message: e.to_string(),
                })?,
            );
            let transactions = mine
                .iter()
                .map(|r| AppTransaction::new(export_app_id(&r.sha256), 1))
                .collect();
            done.version = Some(commit_parts(&dir, parts, info, transactions)?);
        }
        if let Some(parts) = sums {
            let mut info = Map::new();
            info.insert(INFO_RUN.into(), json!(run_id));
            let dir = root.join(super::monthly::table_of(table));
            commit_parts(&dir, parts, info, Vec::new())?;
        }
        Ok(())
    };
    done.error = commit().err();
    done
}

impl Transaction {
    /// Starts a run's transaction; the writer's lock is what makes it the only one.
    pub fn begin(writer: &LakeWriter) -> Transaction {
        Transaction::at(writer.lake().root())
    }

    /// A transaction on the lake at `root`, whose lock the caller holds.
    pub(crate) fn at(root: &Path) -> Transaction {
        let run_id = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            std::process::id()
        );
        Transaction {
            root: root.to_path_buf(),
            run_id,
            parts: Mutex::new(Vec::new()),
            monthly: Mutex::new(Vec::new()),
            created: Mutex::new(Vec::new()),
            committed: false,
        }
    }

    /// Creates the data file of one partition of `table` for the export `file_id`.
    pub fn create_part(
        &self,
        table: Table,
        organisation: &str,
        source: &str,
        year: i32,
        month: i8,
        file_id: &str,
    ) -> Result<(fs::File, PathBuf), LakeError> {
        let rel = format!(
            "organisation={}/source={}/year={year}/month={month}/part-{file_id}-{}.parquet",
            path_segment(organisation),
            path_segment(source),
            self.run_id
        );
        let path = self.root.as_path().join(table.name()).join(&rel);
        // Contacts and responses are personal data even scrubbed: owner-only, like the lake.
        let (file, path) = self.create_at(path, true)?;
        let partition = HashMap::from([
            ("organisation".to_string(), Some(organisation.to_string())),
            ("source".to_string(), Some(source.to_string())),
            ("year".to_string(), Some(year.to_string())),
            ("month".to_string(), Some(month.to_string())),
        ]);
        self.parts.lock().map_err(|_| poisoned(&path))?.push(Part {
            table,
            rel,
            partition,
            schema: None,
        });
        Ok((file, path))
    }

    /// Marks a data file complete (written, footer and all, and synced), with the schema of the
    /// frames written to it; only complete files are committed.
    pub fn part_done(&self, path: &Path, schema: &Schema) -> Result<(), LakeError> {
        let mut parts = self.parts.lock().map_err(|_| poisoned(path))?;
        let root = self.root.as_path();
        for p in parts.iter_mut() {
            if root.join(p.table.name()).join(&p.rel) == path {
                p.schema = Some(schema.clone());
            }
        }
        Ok(())
    }

    /// Writes the monthly sums of the `table` file at `data_path` (one this transaction
    /// created), counted at the thresholds `at`, into its sums table's folder
    /// (`monthly::table_of`), under its name (`monthly::sums_rel`), complete and synced; they
    /// are committed after the rows.
    pub fn write_monthly(
        &self,
        table: Table,
        data_path: &Path,
        sums: &DataFrame,
        at: &super::monthly::Thresholds,
    ) -> Result<(), LakeError> {
        let rel = self.rel_in(table, data_path)?;
        let partition = self
            .parts
            .lock()
            .map_err(|_| poisoned(data_path))?
            .iter()
            .find(|p| p.table == table && p.rel == rel)
            .map(|p| p.partition.clone())
            .ok_or_else(|| LakeError::Data {
                path: data_path.to_path_buf(),
                message: "monthly aggregates of a file this run did not create".into(),
            })?;
        self.write_sums(table, &rel, partition, sums, at)
    }

    /// Writes the monthly sums of a committed `table` file at `data_path`, of the partition
    /// `partition`, as [`Transaction::write_monthly`] does for a file of this run: for files
    /// whose sums are missing or were stored by an earlier build (`monthly::store_missing`).
    pub fn write_sums_of(
        &self,
        table: Table,
        data_path: &Path,
        partition: HashMap<String, Option<String>>,
        sums: &DataFrame,
        at: &super::monthly::Thresholds,
    ) -> Result<(), LakeError> {
        let rel = self.rel_in(table, data_path)?;
        self.write_sums(table, &rel, partition, sums, at)
    }

    /// The path of a data file relative to its table's folder, with `/` between folders.
    fn rel_in(&self, table: Table, data_path: &Path) -> Result<String, LakeError> {
        let dir = self.root.as_path().join(table.name());
        data_path
            .strip_prefix(&dir)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .map_err(|_| LakeError::Data {
                path: data_path.to_path_buf(),
                message: format!("monthly sums of a file outside the {} table", table.name()),
            })
    }

    fn write_sums(
        &self,
        table: Table,
        data_rel: &str,
        partition: HashMap<String, Option<String>>,
        sums: &DataFrame,
        at: &super::monthly::Thresholds,
    ) -> Result<(), LakeError> {
        let rel = super::monthly::sums_rel(table, data_rel, at);
        let path = self
            .root
            .as_path()
            .join(super::monthly::table_of(table))
            .join(&rel);
        let (file, path) = self.create_at(path, true)?;
        let write_err = |e: PolarsError| LakeError::Data {
            path: path.clone(),
            message: e.to_string(),
        };
        let synced = file.try_clone().map_err(io_err(&path))?;
        let mut writer = ParquetWriter::sums(file, sums.schema()).map_err(write_err)?;
        writer.write(sums).map_err(write_err)?;
        writer.finish().map_err(write_err)?;
        synced.sync_all().map_err(io_err(&path))?;
        self.monthly
            .lock()
            .map_err(|_| poisoned(&path))?
            .push(Part {
                table,
                rel,
                partition,
                schema: Some(sums.schema().as_ref().clone()),
            });
        Ok(())
    }

    /// Creates a file at `rel` below the lake (e.g. a rejects file), written in place; `private`
    /// files are readable by their owner only, in an owner-only folder.
    pub fn create(&self, rel: &str, private: bool) -> Result<(fs::File, PathBuf), LakeError> {
        self.create_at(self.root.as_path().join(rel), private)
    }

    fn create_at(&self, path: PathBuf, private: bool) -> Result<(fs::File, PathBuf), LakeError> {
        if let Some(parent) = path.parent() {
            if private {
                super::owner_only_dir(parent)?;
            } else {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io_err(&path))?;
        self.created
            .lock()
            .map_err(|_| poisoned(&path))?
            .push(path.clone());
        Ok((file, path))
    }

    /// Commits every complete data file and the run's file records: one Delta commit per data
    /// table touched and one per sums table, then one to the manifest.
    pub fn commit(mut self, records: &[FileRecord]) -> Result<Committed, LakeError> {
        let root = self.root.clone();
        let parts = std::mem::take(&mut *self.parts.lock().map_err(|_| poisoned(&root))?);
        let monthly = std::mem::take(&mut *self.monthly.lock().map_err(|_| poisoned(&root))?);
        let mut rows: BTreeMap<Table, Vec<Part>> = BTreeMap::new();
        for p in parts.into_iter().filter(|p| p.schema.is_some()) {
            rows.entry(p.table).or_default().push(p);
        }
        let mut sums: BTreeMap<Table, Vec<Part>> = BTreeMap::new();
        for p in monthly {
            sums.entry(p.table).or_default().push(p);
        }
        // Each data table then its sums (`commit_table`), contacts beside responses; the
        // manifest last, once both are in.
        let mut take = |t: Table| (t, rows.remove(&t), sums.remove(&t));
        let (c, r) = (take(Table::Contacts), take(Table::Responses));
        let run_id = self.run_id.as_str();
        let commit = |(table, data, sums)| commit_table(&root, run_id, records, table, data, sums);
        let (contacts, responses) = rayon::join(|| commit(c), || commit(r));
        // Committed rows (or nothing failed): from now on a failure leaves this run's files for
        // the next writer (which records the committed ones and removes the rest), never
        // deletes them.
        self.committed = contacts.version.is_some()
            || responses.version.is_some()
            || (contacts.error.is_none() && responses.error.is_none());
        let mut out = Committed::default();
        for (table, done) in [(Table::Contacts, contacts), (Table::Responses, responses)] {
            if let Some(e) = done.error {
                return Err(e);
            }
            if let Some(v) = done.version {
                out.table_versions.insert(table, v);
            }
        }
        if records.is_empty() {
            return Ok(out);
        }
        let versions = out.table_versions.clone();
        let rows = manifest::run_rows(records, &self.run_id, |t| {
            versions
                .iter()
                .find(|(k, _)| k.name() == t)
                .map(|(_, v)| *v)
        })?;
        out.lake_version = Some(commit_manifest(&root, rows, &self.run_id)?);
        Ok(out)
    }

    /// Drops everything this run wrote; the lake is untouched.
    pub fn abort(self) {}
}

impl Drop for Transaction {
    /// A transaction that ends without its data commit (aborted, or a write failed, e.g. on a
    /// full disk) removes the files it wrote at once rather than leave them for the next writer.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if let Ok(created) = self.created.lock() {
            for path in created.iter() {
                let _ = fs::remove_file(path);
            }
        }
    }
}

/// A partition value as a folder name: letters, digits, space and `_.-` as they are, anything
/// else (`/`, `=`, `%`, ...) as `%XX` bytes, as Hive and Spark write them.
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'.' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() || out == "." || out == ".." {
        out = format!("%{}", out.len());
    }
    out
}

/// The Delta application id recording that an export (by content) went into a table.
pub fn export_app_id(sha256: &str) -> String {
    format!("cex-export-{sha256}")
}

fn poisoned(path: &Path) -> LakeError {
    LakeError::Io {
        path: path.to_path_buf(),
        message: "staging list poisoned by a failed thread".into(),
    }
}

/// Writes `rows` as one manifest file and commits it; returns the manifest's new version.
fn commit_manifest(root: &Path, mut rows: DataFrame, run_id: &str) -> Result<i64, LakeError> {
    let dir = root.join(MANIFEST_TABLE);
    let rel = format!("part-{run_id}.parquet");
    let path = dir.join(&rel);
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    if super::logged_paths(&dir)?.contains(&rel) {
        return Err(LakeError::Data {
            path,
            message: "a manifest file of this run is already committed".into(),
        });
    }
    let data_err = |e: PolarsError| LakeError::Data {
        path: path.clone(),
        message: e.to_string(),
    };
    rows.rechunk_mut_par();
    let file = fs::File::create(&path).map_err(io_err(&path))?;
    let mut writer = ParquetWriter::sums(file.try_clone().map_err(io_err(&path))?, rows.schema())
        .map_err(data_err)?;
    writer.write(&rows).map_err(data_err)?;
    writer.finish().map_err(data_err)?;
    file.sync_all().map_err(io_err(&path))?;
    let fields = delta::delta_fields(rows.schema()).map_err(|m| LakeError::Data {
        path: dir.clone(),
        message: m,
    })?;
    let add = delta::add_action(&dir, &rel, HashMap::new())?;
    let existing = delta::load(&dir, None)?;
    let mut info = Map::new();
    info.insert(INFO_RUN.into(), json!(run_id));
    delta::commit(
        &dir,
        existing.as_ref(),
        Commit {
            fields,
            partition_columns: Vec::new(),
            adds: vec![add],
            info,
            app_transactions: Vec::new(),
        },
    )
}

/// One commit of a partitioned table adding the files `parts`, with its `info` and application
/// transactions.
fn commit_parts(
    dir: &Path,
    parts: Vec<Part>,
    info: Map<String, Value>,
    app_transactions: Vec<AppTransaction>,
) -> Result<i64, LakeError> {
    let mut fields: Vec<StructField> = Vec::new();
    let mut adds = Vec::with_capacity(parts.len());
    for part in parts {
        if let Some(schema) = &part.schema {
            for f in delta::delta_fields(schema).map_err(|m| LakeError::Data {
                path: dir.to_path_buf(),
                message: m,
            })? {
                if !fields.iter().any(|g| g.name() == f.name()) {
                    fields.push(f);
                }
            }
        }
        adds.push(delta::add_action(dir, &part.rel, part.partition)?);
    }
    let existing = delta::load(dir, None)?;
    delta::commit(
        dir,
        existing.as_ref(),
        Commit {
            fields,
            partition_columns: PARTITION_COLUMNS.iter().map(|s| s.to_string()).collect(),
            adds,
            info,
            app_transactions,
        },
    )
}

/// Completes the runs killed between a data table's commit and the manifest's: their file
/// records, kept in the data commits' `commitInfo`, go into the manifest now. `lake` is the
/// lake as just opened; true when a manifest commit was made (then it is out of date). Writer
/// only.
pub fn recover(lake: &Lake) -> Result<bool, LakeError> {
    let root = lake.root();
    // Every table's pending records go into one manifest commit (one file: a file per table
    // of the same run would share a name).
    let mut pending: Option<(String, DataFrame)> = None;
    for table in [Table::Contacts, Table::Responses] {
        let dir = root.join(table.name());
        let Some(latest) = delta::latest_commit(&dir)? else {
            continue;
        };
        let from = lake.table_version(table).map_or(0, |v| v + 1);
        for version in from..=latest {
            let Some(info) = delta::commit_info(&dir, version)? else {
                continue;
            };
            let (Some(Value::String(run)), Some(files)) =
                (info.get(INFO_RUN), info.get(INFO_FILES))
            else {
                continue;
            };
            let records: Vec<FileRecord> =
                serde_json::from_value(files.clone()).map_err(|e| LakeError::Data {
                    path: dir.clone(),
                    message: format!("version {version}'s file records: {e}"),
                })?;
            if records.is_empty() {
                continue;
            }
            let name = table.name();
            let rows = manifest::run_rows(&records, run, |t| (t == name).then_some(version))?;
            pending = Some(match pending {
                None => (run.clone(), rows),
                Some((first, mut all)) => {
                    all.vstack_mut_owned(rows).map_err(|e| LakeError::Data {
                        path: dir.clone(),
                        message: e.to_string(),
                    })?;
                    (first, all)
                }
            });
        }
    }
    match pending {
        Some((run, rows)) => {
            commit_manifest(root, rows, &format!("{run}-recovered"))?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Removes files that no commit refers to: data files of runs killed before their commit, their
/// unfinished commit files, and rejects of exports the manifest does not hold. Writer only;
/// readers never see these files.
pub fn remove_orphans(lake: &Lake) -> Result<(), LakeError> {
    let root = lake.root();
    for name in [
        Table::Contacts.name(),
        Table::Responses.name(),
        super::monthly::TABLE,
        super::monthly::ANSWERS_TABLE,
        MANIFEST_TABLE,
    ] {
        let dir = root.join(name);
        if !dir.is_dir() {
            continue;
        }
        // A commit written but never renamed into place (its writer was killed) is no version.
        for file in super::files_under(&dir.join("_delta_log"), &[])? {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with("_commit_") && name.ends_with(".tmp") {
                fs::remove_file(&file).map_err(io_err(&file))?;
            }
        }
        let logged = super::logged_paths(&dir)?;
        for file in super::files_under(&dir, &["_delta_log"])? {
            let rel = file
                .strip_prefix(&dir)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !logged.contains(&rel) {
                fs::remove_file(&file).map_err(io_err(&file))?;
            }
        }
    }
    let known = manifest::known_file_ids(lake.manifest());
    for file in super::files_under(&root.join("rejects"), &[])? {
        let id = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !known.contains(&id) {
            fs::remove_file(&file).map_err(io_err(&file))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::manifest::RowCounts;
    use crate::lake::LakeWriter;

    fn record(file_id: &str, accepted: u64) -> FileRecord {
        FileRecord {
            file_id: file_id.into(),
            sha256: format!("{file_id}{}", "0".repeat(48)),
            path: format!("exports/{file_id}.csv"),
            size_bytes: 100,
            source: "calls".into(),
            table: "contacts".into(),
            encoding: "utf-8".into(),
            counts: RowCounts {
                rows_read: accepted,
                accepted,
                ..RowCounts::default()
            },
            first_date: None,
            last_date: None,
            pipeline: "test".into(),
            ingested_at: "2026-12-02T00:00:00Z".into(),
            modified_ns: Some(1),
        }
    }

    fn frame(file_id: &str, rows: u32) -> DataFrame {
        let n = rows as usize;
        df!(
            "organisation" => vec!["Example"; n],
            "source" => vec!["calls"; n],
            "year" => vec![2024i32; n],
            "month" => vec![3i8; n],
            "contacts" => vec![1u32; n],
            "wait_seconds" => (0..rows).map(f64::from).collect::<Vec<_>>(),
            "record_key" => (0..rows).map(|i| format!("{file_id}-{i}")).collect::<Vec<_>>(),
            "source_file_id" => vec![file_id; n],
        )
        .expect("frame")
    }

    /// Writes a data file for `file_id` into the transaction, as ingest does.
    fn stage(txn: &Transaction, file_id: &str, rows: u32) -> PathBuf {
        stage_in(txn, Table::Contacts, file_id, rows)
    }

    fn stage_in(txn: &Transaction, table: Table, file_id: &str, rows: u32) -> PathBuf {
        let df = frame(file_id, rows);
        let (file, path) = txn
            .create_part(table, "Example", "calls", 2024, 3, file_id)
            .expect("create");
        let mut w =
            ParquetWriter::new(file.try_clone().expect("clone"), df.schema(), &[]).expect("writer");
        w.write(&df).expect("write");
        w.finish().expect("finish");
        txn.part_done(&path, df.schema()).expect("done");
        path
    }

    #[test]
    fn a_manifest_file_of_an_older_cex_reads_beside_a_newer_one(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let writer = LakeWriter::open(dir.path())?;
        // As the cex before row filters wrote it: no excluded columns.
        let old = super::super::manifest::to_frame(&[record("aaaa", 2)])?
            .drop_many(["excluded", "excluded_by_rule"]);
        commit_manifest(dir.path(), old, "older-run")?;
        let txn = Transaction::begin(&writer);
        let mut newer = record("bbbb", 5);
        newer.counts.excluded = 3;
        newer.counts.excluded_by_rule = [("staff-generated".to_string(), 3)].into();
        txn.commit(&[newer])?;
        drop(writer);
        let manifest = Lake::open(dir.path())?
            .manifest()
            .sort(["file_id"], Default::default())?;
        assert_eq!(manifest.height(), 2);
        let excluded: Vec<Option<u64>> = manifest.column("excluded")?.u64()?.iter().collect();
        assert_eq!(excluded, [Some(0), Some(3)]);
        let rules: Vec<Option<&str>> = manifest.column("excluded_by_rule")?.str()?.iter().collect();
        assert_eq!(rules, [Some(""), Some("staff-generated=3")]);
        Ok(())
    }

    #[test]
    fn a_commit_is_read_back_pinned_with_its_types_and_statistics(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let writer = LakeWriter::open(dir.path())?;
        let txn = Transaction::begin(&writer);
        stage(&txn, "aaaa", 5);
        let done = txn.commit(&[record("aaaa", 5)])?;
        assert_eq!(done.lake_version, Some(0));
        assert_eq!(done.table_versions.get(&Table::Contacts), Some(&0));
        drop(writer);

        let lake = Lake::open(dir.path())?;
        assert_eq!(lake.version(), Some(0));
        assert_eq!(lake.table_version(Table::Contacts), Some(0));
        let rows = lake.scan(Table::Contacts)?.ok_or("no rows")?.collect()?;
        assert_eq!(rows.height(), 5);
        // Stored as a Delta long, read back as cex wrote it.
        assert_eq!(rows.column("contacts")?.dtype(), &DataType::UInt32);
        assert_eq!(
            lake.partition_files(Table::Contacts, "calls", 2024, 3)
                .len(),
            1
        );
        assert!(lake
            .partition_files(Table::Contacts, "calls", 2024, 4)
            .is_empty());
        assert_eq!(lake.manifest().height(), 1);

        // The add action carries the file's statistics.
        let log = fs::read_to_string(
            dir.path()
                .join("contacts/_delta_log/00000000000000000000.json"),
        )?;
        let add = log
            .lines()
            .find(|l| l.contains("\"add\""))
            .ok_or("no add action")?;
        let add: Value = serde_json::from_str(add)?;
        let stats: Value = serde_json::from_str(add["add"]["stats"].as_str().ok_or("no stats")?)?;
        assert_eq!(stats["numRecords"], json!(5));
        assert_eq!(stats["minValues"]["wait_seconds"], json!(0.0));
        assert_eq!(stats["maxValues"]["wait_seconds"], json!(4.0));
        assert_eq!(stats["nullCount"]["record_key"], json!(0));
        assert!(
            stats["minValues"].get("year").is_none(),
            "partition columns have no stats"
        );
        assert!(log.contains("cex-export-aaaa"), "one txn action per export");
        Ok(())
    }

    #[test]
    fn a_run_killed_between_its_data_and_manifest_commits_is_completed_by_the_next_writer(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        {
            let writer = LakeWriter::open(dir.path())?;
            let txn = Transaction::begin(&writer);
            stage(&txn, "aaaa", 3);
            txn.commit(&[record("aaaa", 3)])?;
        }
        // A second run whose manifest commit never happened: only its data commits (one to each
        // table) are there.
        {
            let writer = LakeWriter::open(dir.path())?;
            let txn = Transaction::begin(&writer);
            stage(&txn, "bbbb", 4);
            stage_in(&txn, Table::Responses, "cccc", 2);
            let manifest_dir = dir.path().join(MANIFEST_TABLE);
            let before = fs::read_dir(manifest_dir.join("_delta_log"))?.count();
            let survey = FileRecord {
                table: "responses".into(),
                ..record("cccc", 2)
            };
            txn.commit(&[record("bbbb", 4), survey])?;
            // Undo the manifest commit by hand: as if the run died just before it.
            let log = manifest_dir.join("_delta_log/00000000000000000001.json");
            fs::remove_file(log)?;
            assert_eq!(
                fs::read_dir(manifest_dir.join("_delta_log"))?.count(),
                before
            );
        }
        // Readers see the old lake: the data table's new version is not in the manifest.
        let lake = Lake::open(dir.path())?;
        assert_eq!(
            lake.scan(Table::Contacts)?
                .ok_or("rows")?
                .collect()?
                .height(),
            3
        );
        assert_eq!(lake.manifest().height(), 1);
        assert!(lake.scan(Table::Responses)?.is_none());
        // The next writer records the committed run, both tables in one manifest commit;
        // nothing is lost or doubled.
        drop(LakeWriter::open(dir.path())?);
        let lake = Lake::open(dir.path())?;
        assert_eq!(
            lake.scan(Table::Contacts)?
                .ok_or("rows")?
                .collect()?
                .height(),
            7
        );
        assert_eq!(
            lake.scan(Table::Responses)?
                .ok_or("rows")?
                .collect()?
                .height(),
            2
        );
        assert_eq!(lake.manifest().height(), 3);
        assert_eq!(
            lake.version(),
            Some(1),
            "one manifest commit for both tables"
        );
        Ok(())
    }

    #[test]
    fn files_of_a_run_that_never_committed_are_removed_by_the_next_writer(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let orphan;
        {
            let writer = LakeWriter::open(dir.path())?;
            let txn = Transaction::begin(&writer);
            orphan = stage(&txn, "aaaa", 3);
            let (_, rejects) = txn.create("rejects/calls/aaaa.csv", true)?;
            assert!(rejects.exists());
            // Killed: neither commit nor abort, with a commit file written but not renamed.
            std::mem::forget(txn);
        }
        let unfinished = dir.path().join("contacts/_delta_log/_commit_0f.json.tmp");
        fs::create_dir_all(unfinished.parent().ok_or("parent")?)?;
        fs::write(&unfinished, "{}")?;
        assert!(orphan.exists());
        assert!(Lake::open(dir.path())?.scan(Table::Contacts)?.is_none());
        drop(LakeWriter::open(dir.path())?);
        assert!(!orphan.exists() && !unfinished.exists());
        assert!(!dir.path().join("rejects/calls/aaaa.csv").exists());
        Ok(())
    }
}
