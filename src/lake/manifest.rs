//! The manifest: one row per ingested file (content hash, size, counts, period, when, which
//! pipeline, which run, and the version of the data table that holds its rows), stored as the
//! Delta table `<lake>/manifest`, one Parquet file per run.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use deltalake::DeltaTable;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{delta, Lake, LakeError};

/// The run that committed a manifest row.
pub const RUN_ID: &str = "run_id";
/// The version of the row's data table whose commit added the file's rows.
pub const TABLE_VERSION: &str = "table_version";

/// What became of a file's rows, as ingest reports them and the manifest keeps them: every row
/// read is accepted, rejected, a duplicate or excluded by a rule ([`RowCounts::reconciles`]);
/// blank lines are not rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    /// Rows out of scope under the source's row filter rules (neither accepted nor rejected).
    pub excluded: u64,
    /// Blank lines (every field empty) skipped: not records, so not in `rows_read`.
    pub blank_rows: u64,
    /// Rejected rows by reason (`bad_date`, ...).
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Excluded rows by rule name.
    pub excluded_by_rule: BTreeMap<String, u64>,
}

impl RowCounts {
    /// read = accepted + rejected + duplicates + excluded: every row is accounted for.
    pub fn reconciles(&self) -> bool {
        self.rows_read == self.accepted + self.rejected + self.duplicates + self.excluded
    }

    /// The rows the source's rules keep in scope: what the reject and duplicate shares are of.
    pub fn rows_in_scope(&self) -> u64 {
        self.rows_read.saturating_sub(self.excluded)
    }

    /// Adds another file's counts (reasons and rules merged by name).
    pub fn add(&mut self, other: &RowCounts) {
        self.rows_read += other.rows_read;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.duplicates += other.duplicates;
        self.excluded += other.excluded;
        self.blank_rows += other.blank_rows;
        for (reason, n) in &other.rejects_by_reason {
            *self.rejects_by_reason.entry(reason.clone()).or_default() += n;
        }
        for (rule, n) in &other.excluded_by_rule {
            *self.excluded_by_rule.entry(rule.clone()).or_default() += n;
        }
    }

    /// `rule=n; ...`, as the manifest and the tables show excluded rows.
    pub fn rules_text(&self) -> String {
        pairs_text(&self.excluded_by_rule)
    }

    /// `reason=n; ...`, as the manifest shows rejected rows.
    pub fn reasons_text(&self) -> String {
        pairs_text(&self.rejects_by_reason)
    }
}

/// `a=1; b=2`.
fn pairs_text(pairs: &BTreeMap<String, u64>) -> String {
    pairs
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `a=1; b=2` back into pairs (text that is not such a pair is skipped: older manifests).
fn pairs_from_text(text: &str) -> BTreeMap<String, u64> {
    let mut pairs = BTreeMap::new();
    for pair in text.split("; ") {
        if let Some((k, n)) = pair.rsplit_once('=') {
            if let Ok(n) = n.trim().parse::<u64>() {
                *pairs.entry(k.trim().to_string()).or_default() += n;
            }
        }
    }
    pairs
}

/// What ingest recorded about one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub file_id: String,
    pub sha256: String,
    pub path: String,
    pub size_bytes: u64,
    pub source: String,
    pub table: String,
    pub encoding: String,
    /// Stored as columns of those names; the reasons and rules as `name=count; ...` text (e.g.
    /// `bad_date=2; negative_duration=1`).
    #[serde(flatten)]
    pub counts: RowCounts,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub pipeline: String,
    pub ingested_at: String,
    /// The file's modification time (ns since 1970) when it was read: with path and size, lets
    /// the next run recognise an untouched file without reading it again.
    pub modified_ns: Option<i64>,
}

/// The manifest as the lake view holds it (an empty frame with the right columns when nothing
/// is ingested yet).
pub fn read(lake: &Lake) -> Result<DataFrame, LakeError> {
    Ok(lake.manifest().clone())
}

/// The manifest table's rows at its loaded version, in the order they were committed.
pub(crate) fn from_table(table: &DeltaTable, dir: &Path) -> Result<DataFrame, LakeError> {
    let files: Vec<_> = delta::files(table, dir)?
        .into_iter()
        .map(|f| f.path)
        .collect();
    let unsigned = delta::unsigned_columns(table, dir)?;
    if files.is_empty() {
        return to_frame(&[]);
    }
    // One file per run: a run of an older cex wrote fewer columns, so the files are read one
    // by one and stacked by name, a column a file lacks reading as null.
    let data_err = |e: PolarsError| LakeError::Data {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    let mut frames = Vec::with_capacity(files.len());
    for file in &files {
        if let Some(lf) = super::scan_files(std::slice::from_ref(file), dir)? {
            frames.push(lf);
        }
    }
    let lf = concat_lf_diagonal(frames, UnionArgs::default()).map_err(data_err)?;
    let mut df = super::unsigned_back(lf, &unsigned)
        .collect()
        .map_err(data_err)?;
    // Every column this cex writes, present: one an older file lacks reads as null, except the
    // counts added since (a file from before row filters had none excluded).
    let empty = to_frame(&[])?;
    for column in empty.columns() {
        if df.column(column.name()).is_err() {
            let missing = Column::full_null(column.name().clone(), df.height(), column.dtype());
            df.with_column(missing).map_err(data_err)?;
        }
    }
    df.lazy()
        .with_columns([
            col("excluded").fill_null(lit(0u64)),
            col("excluded_by_rule").fill_null(lit("")),
        ])
        .collect()
        .map_err(data_err)
}

/// The version of `table` the manifest's rows were committed with (the newest), if any.
pub(crate) fn pinned_version(manifest: &DataFrame, table: &str) -> Option<i64> {
    let tables = manifest.column("table").ok()?.str().ok()?.clone();
    let versions = manifest
        .column(TABLE_VERSION)
        .ok()?
        .cast(&DataType::Int64)
        .ok()?;
    let versions = versions.i64().ok()?;
    tables
        .iter()
        .zip(versions.iter())
        .filter_map(|(t, v)| (t == Some(table)).then_some(v).flatten())
        .max()
}

/// One run's records as manifest rows: `table_version` is the version its table's commit got
/// (null for a file that added no rows).
pub(crate) fn run_rows(
    records: &[FileRecord],
    run_id: &str,
    version_of: impl Fn(&str) -> Option<i64>,
) -> Result<DataFrame, LakeError> {
    let mut frame = to_frame(records)?;
    let versions: Vec<Option<i64>> = records
        .iter()
        .map(|r| version_of(&r.table).filter(|_| r.counts.accepted > 0))
        .collect();
    let n = records.len();
    frame
        .with_column(Column::new(RUN_ID.into(), vec![run_id.to_string(); n]))
        .and_then(|f| f.with_column(Column::new(TABLE_VERSION.into(), versions)))
        .map_err(|e| LakeError::Data {
            path: "manifest".into(),
            message: e.to_string(),
        })?;
    Ok(frame)
}

/// A file as found on disk: path as the manifest records it, size and modification time.
pub type FileStamp = (String, u64, i64);

/// Files already ingested by stamp, with their content hash and encoding: a file whose path,
/// size and modification time are unchanged is taken to be the same file without being read
/// again (as git and rsync do). Any change to the file changes its modification time.
pub fn known_stamps(
    manifest: &DataFrame,
) -> std::collections::HashMap<FileStamp, (String, String)> {
    let text = |name: &str| {
        manifest
            .column(name)
            .ok()
            .and_then(|c| c.str().ok().cloned())
    };
    let (Some(paths), Some(hashes), Some(encodings)) =
        (text("path"), text("sha256"), text("encoding"))
    else {
        return Default::default();
    };
    let number = |name: &str| {
        manifest
            .column(name)
            .ok()
            .and_then(|c| c.cast(&DataType::Int64).ok())
    };
    let (Some(sizes), Some(times)) = (number("size_bytes"), number("modified_ns")) else {
        return Default::default();
    };
    let (Ok(sizes), Ok(times)) = (sizes.i64(), times.i64()) else {
        return Default::default();
    };
    let mut out = std::collections::HashMap::new();
    for i in 0..manifest.height() {
        if let (Some(p), Some(h), Some(e), Some(size), Some(t)) = (
            paths.get(i),
            hashes.get(i),
            encodings.get(i),
            sizes.get(i),
            times.get(i),
        ) {
            out.insert(
                (p.to_string(), size as u64, t),
                (h.to_string(), e.to_string()),
            );
        }
    }
    out
}

/// A file's modification time in nanoseconds since 1970, if the file system keeps one.
pub fn modified_ns(metadata: &std::fs::Metadata) -> Option<i64> {
    let since = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    i64::try_from(since.as_nanos()).ok()
}

/// File ids (first 16 hex digits of the content hash) of every file in the manifest.
pub fn known_file_ids(manifest: &DataFrame) -> HashSet<String> {
    manifest
        .column("file_id")
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|s| s.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The records of a manifest frame (a column missing from an old manifest reads as empty).
pub fn records_from_frame(frame: &DataFrame) -> Result<Vec<FileRecord>, LakeError> {
    let err = |e: PolarsError| LakeError::Data {
        path: "manifest".into(),
        message: e.to_string(),
    };
    let text = |name: &str| -> Result<Vec<Option<String>>, LakeError> {
        match frame.column(name) {
            Ok(c) => Ok(c
                .cast(&DataType::String)
                .map_err(err)?
                .str()
                .map_err(err)?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()),
            Err(_) => Ok(vec![None; frame.height()]),
        }
    };
    let number = |name: &str| -> Result<Vec<Option<i64>>, LakeError> {
        match frame.column(name) {
            Ok(c) => Ok(c
                .cast(&DataType::Int64)
                .map_err(err)?
                .i64()
                .map_err(err)?
                .iter()
                .collect()),
            Err(_) => Ok(vec![None; frame.height()]),
        }
    };
    let [file_id, sha256, path, source, table, encoding, reasons, rules, first, last, pipeline, at] =
        [
            "file_id",
            "sha256",
            "path",
            "source",
            "table",
            "encoding",
            "rejects_by_reason",
            "excluded_by_rule",
            "first_date",
            "last_date",
            "pipeline",
            "ingested_at",
        ]
        .map(text);
    let [size, read, accepted, rejected, duplicates, excluded, blank, modified] = [
        "size_bytes",
        "rows_read",
        "accepted",
        "rejected",
        "duplicates",
        "excluded",
        "blank_rows",
        "modified_ns",
    ]
    .map(number);
    let (file_id, sha256, path, source, table, encoding, reasons, rules, first, last, pipeline, at) = (
        file_id?, sha256?, path?, source?, table?, encoding?, reasons?, rules?, first?, last?,
        pipeline?, at?,
    );
    let (size, read, accepted, rejected, duplicates, excluded, blank, modified) = (
        size?,
        read?,
        accepted?,
        rejected?,
        duplicates?,
        excluded?,
        blank?,
        modified?,
    );
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let u = |v: &Option<i64>| v.unwrap_or(0).max(0) as u64;
    Ok((0..frame.height())
        .map(|i| FileRecord {
            file_id: s(&file_id[i]),
            sha256: s(&sha256[i]),
            path: s(&path[i]),
            size_bytes: u(&size[i]),
            source: s(&source[i]),
            table: s(&table[i]),
            encoding: s(&encoding[i]),
            counts: RowCounts {
                rows_read: u(&read[i]),
                accepted: u(&accepted[i]),
                rejected: u(&rejected[i]),
                duplicates: u(&duplicates[i]),
                excluded: u(&excluded[i]),
                blank_rows: u(&blank[i]),
                rejects_by_reason: pairs_from_text(&s(&reasons[i])),
                excluded_by_rule: pairs_from_text(&s(&rules[i])),
            },
            first_date: first[i].clone(),
            last_date: last[i].clone(),
            pipeline: s(&pipeline[i]),
            ingested_at: s(&at[i]),
            modified_ns: modified[i],
        })
        .collect())
}

/// Content hashes of every file already in the lake.
pub fn known_hashes(manifest: &DataFrame) -> HashSet<String> {
    manifest
        .column("sha256")
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|s| s.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Records as a frame with the manifest's columns.
pub fn to_frame(records: &[FileRecord]) -> Result<DataFrame, LakeError> {
    let s = |f: &dyn Fn(&FileRecord) -> String| records.iter().map(f).collect::<Vec<_>>();
    let u = |f: &dyn Fn(&FileRecord) -> u64| records.iter().map(f).collect::<Vec<_>>();
    let o = |f: &dyn Fn(&FileRecord) -> Option<String>| records.iter().map(f).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new("file_id".into(), s(&|r| r.file_id.clone())),
        Column::new("sha256".into(), s(&|r| r.sha256.clone())),
        Column::new("path".into(), s(&|r| r.path.clone())),
        Column::new("size_bytes".into(), u(&|r| r.size_bytes)),
        Column::new("source".into(), s(&|r| r.source.clone())),
        Column::new("table".into(), s(&|r| r.table.clone())),
        Column::new("encoding".into(), s(&|r| r.encoding.clone())),
        Column::new("rows_read".into(), u(&|r| r.counts.rows_read)),
        Column::new("accepted".into(), u(&|r| r.counts.accepted)),
        Column::new("rejected".into(), u(&|r| r.counts.rejected)),
        Column::new("duplicates".into(), u(&|r| r.counts.duplicates)),
        Column::new("excluded".into(), u(&|r| r.counts.excluded)),
        Column::new("excluded_by_rule".into(), s(&|r| r.counts.rules_text())),
        Column::new("blank_rows".into(), u(&|r| r.counts.blank_rows)),
        Column::new("rejects_by_reason".into(), s(&|r| r.counts.reasons_text())),
        Column::new("first_date".into(), o(&|r| r.first_date.clone())),
        Column::new("last_date".into(), o(&|r| r.last_date.clone())),
        Column::new("pipeline".into(), s(&|r| r.pipeline.clone())),
        Column::new("ingested_at".into(), s(&|r| r.ingested_at.clone())),
        Column::new(
            "modified_ns".into(),
            records.iter().map(|r| r.modified_ns).collect::<Vec<_>>(),
        ),
    ])
    .map_err(|e| LakeError::Data {
        path: "manifest".into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_counts_survive_the_manifest_with_their_reasons_and_rules(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let counts = RowCounts {
            rows_read: 20,
            accepted: 11,
            rejected: 3,
            duplicates: 1,
            excluded: 5,
            blank_rows: 2,
            rejects_by_reason: [
                ("bad_date".to_string(), 2),
                ("wrong_field_count".to_string(), 1),
            ]
            .into(),
            excluded_by_rule: [("staff".to_string(), 4), ("a=b rule".to_string(), 1)].into(),
        };
        assert!(counts.reconciles());
        assert_eq!(counts.rows_in_scope(), 15);
        assert_eq!(counts.reasons_text(), "bad_date=2; wrong_field_count=1");
        let record = FileRecord {
            file_id: "aaaa".into(),
            sha256: "a".repeat(64),
            path: "calls.csv".into(),
            size_bytes: 10,
            source: "calls".into(),
            table: "contacts".into(),
            encoding: "utf-8".into(),
            counts: counts.clone(),
            first_date: Some("2024-03-01".into()),
            last_date: None,
            pipeline: "p".into(),
            ingested_at: "2026-12-03T00:00:00Z".into(),
            modified_ns: Some(7),
        };
        let frame = to_frame(std::slice::from_ref(&record))?;
        assert_eq!(
            frame.column("excluded_by_rule")?.str()?.get(0),
            Some("a=b rule=1; staff=4")
        );
        assert_eq!(records_from_frame(&frame)?, vec![record]);
        let mut total = RowCounts::default();
        total.add(&counts);
        total.add(&counts);
        assert_eq!(total.excluded_by_rule.get("staff"), Some(&8));
        assert!(total.reconciles() && total.rows_read == 40);
        Ok(())
    }
}
