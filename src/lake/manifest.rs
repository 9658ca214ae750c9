//! The manifest: one row per ingested file (content hash, size, counts, period, when, which
//! pipeline), stored as `<lake>/manifest.parquet` and replaced atomically with each commit.

use std::collections::HashSet;

use polars::prelude::*;

use super::{Lake, LakeError};

pub const MANIFEST: &str = "manifest.parquet";

/// What ingest recorded about one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    pub file_id: String,
    pub sha256: String,
    pub path: String,
    pub size_bytes: u64,
    pub source: String,
    pub table: String,
    pub encoding: String,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub blank_rows: u64,
    /// `reason=count` pairs, e.g. `bad_date=2; negative_duration=1`.
    pub rejects_by_reason: String,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub pipeline: String,
    pub ingested_at: String,
    /// The file's modification time (ns since 1970) when it was read: with path and size, lets
    /// the next run recognise an untouched file without reading it again.
    pub modified_ns: Option<i64>,
}

/// The manifest as stored (an empty frame with the right columns when nothing is ingested yet).
pub fn read(lake: &Lake) -> Result<DataFrame, LakeError> {
    let path = lake.root().join(MANIFEST);
    if !path.exists() {
        return to_frame(&[]);
    }
    let file = std::fs::File::open(&path).map_err(super::io_err(&path))?;
    let mut frame = ParquetReader::new(file)
        .finish()
        .map_err(|e| LakeError::Data {
            path: path.clone(),
            message: e.to_string(),
        })?;
    // Manifests written before modification times were kept: unknown, so those files are hashed.
    if frame.column("modified_ns").is_err() {
        let height = frame.height();
        frame
            .with_column(Column::full_null(
                "modified_ns".into(),
                height,
                &DataType::Int64,
            ))
            .map_err(|e| LakeError::Data {
                path,
                message: e.to_string(),
            })?;
    }
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
        Column::new("rows_read".into(), u(&|r| r.rows_read)),
        Column::new("accepted".into(), u(&|r| r.accepted)),
        Column::new("rejected".into(), u(&|r| r.rejected)),
        Column::new("duplicates".into(), u(&|r| r.duplicates)),
        Column::new("blank_rows".into(), u(&|r| r.blank_rows)),
        Column::new(
            "rejects_by_reason".into(),
            s(&|r| r.rejects_by_reason.clone()),
        ),
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
        path: MANIFEST.into(),
        message: e.to_string(),
    })
}

/// The manifest with new records appended.
pub fn appended(existing: &DataFrame, records: &[FileRecord]) -> Result<DataFrame, LakeError> {
    let new = to_frame(records)?;
    if existing.height() == 0 {
        return Ok(new);
    }
    existing.vstack(&new).map_err(|e| LakeError::Data {
        path: MANIFEST.into(),
        message: format!("the manifest's columns differ from this version's: {e}"),
    })
}
