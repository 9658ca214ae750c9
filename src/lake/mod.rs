//! The Parquet lake: its folder layout, the lock that keeps two runs apart, and reading tables back.
//! Writes go only through `txn` (atomic commits), lake Parquet files through `parquet`; the record
//! of ingested files is `manifest`.
//!
//! Layout (plain folders, readable by any Parquet reader):
//! `<lake>/<table>/<source>/<yyyy>/<mm>/part-<file id>.parquet`, `<lake>/manifest.parquet`,
//! `<lake>/rejects/<source>/<file id>.csv` (owner-only), `<lake>/_txn/` (staging, never read).

pub mod manifest;
pub mod parquet;
pub mod txn;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use thiserror::Error;

use crate::model::Table;

#[derive(Debug, Error)]
pub enum LakeError {
    #[error("lake {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("lake {} is locked by another cex run (process {pid}, started {started}); wait for it or, if it is gone, delete {}", lake.display(), lock.display())]
    Locked {
        lake: PathBuf,
        lock: PathBuf,
        pid: u32,
        started: String,
    },
    #[error("lake {}: {message}", path.display())]
    Data { path: PathBuf, message: String },
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> LakeError + '_ {
    move |e| LakeError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// An opened lake folder. Opening finishes or rolls back any commit a killed run left behind.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

impl Lake {
    pub fn open(root: &Path) -> Result<Lake, LakeError> {
        fs::create_dir_all(root).map_err(io_err(root))?;
        let lake = Lake {
            root: root.to_path_buf(),
        };
        txn::recover(&lake)?;
        Ok(lake)
    }

    /// A view of a lake for reading only (`cex validate`): nothing is created or recovered.
    pub fn read_only(root: &Path) -> Lake {
        Lake {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Folder of one month of one source: `<table>/<source>/<yyyy>/<mm>`.
    pub fn partition_dir(&self, table: Table, source: &str, year: i32, month: i8) -> PathBuf {
        self.root.join(partition_rel(table, source, year, month))
    }

    /// The committed Parquet files of one partition.
    pub fn partition_files(
        &self,
        table: Table,
        source: &str,
        year: i32,
        month: i8,
    ) -> Result<Vec<PathBuf>, LakeError> {
        parquet_files_under(&self.partition_dir(table, source, year, month))
    }

    /// Every committed Parquet file of a table.
    pub fn table_files(&self, table: Table) -> Result<Vec<PathBuf>, LakeError> {
        parquet_files_under(&self.root.join(table.name()))
    }

    /// A lazy scan of a table's committed files (an empty frame when it has none).
    pub fn scan(&self, table: Table) -> Result<Option<LazyFrame>, LakeError> {
        scan_files(&self.table_files(table)?, &self.root)
    }

    /// Takes the lake's lock for the life of the returned guard.
    pub fn lock(&self) -> Result<LakeLock, LakeError> {
        LakeLock::acquire(&self.root)
    }
}

/// `<table>/<source>/<yyyy>/<mm>` relative to the lake root, with `/` separators.
pub fn partition_rel(table: Table, source: &str, year: i32, month: i8) -> String {
    format!("{}/{}/{:04}/{:02}", table.name(), source, year, month)
}

/// Scans the given Parquet files as one lazy frame.
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

/// All `*.parquet` files below a folder, sorted (missing folder: none).
fn parquet_files_under(dir: &Path) -> Result<Vec<PathBuf>, LakeError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(io_err(&d))? {
            let path = entry.map_err(io_err(&d))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// An exclusive lock on a lake, held as `<lake>/.lock` holding the owner's process id.
/// A lock whose process no longer exists (a killed run) is taken over.
pub struct LakeLock {
    path: PathBuf,
}

impl LakeLock {
    fn acquire(root: &Path) -> Result<LakeLock, LakeError> {
        let path = root.join(".lock");
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let started = chrono::Utc::now().to_rfc3339();
                    writeln!(f, "{} {}", std::process::id(), started).map_err(io_err(&path))?;
                    return Ok(LakeLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = fs::read_to_string(&path).unwrap_or_default();
                    let mut parts = text.split_whitespace();
                    let pid: Option<u32> = parts.next().and_then(|p| p.parse().ok());
                    let started = parts.next().unwrap_or("at an unknown time").to_string();
                    match pid {
                        Some(pid) if process_alive(pid) => {
                            return Err(LakeError::Locked {
                                lake: root.to_path_buf(),
                                lock: path.clone(),
                                pid,
                                started,
                            })
                        }
                        // Stale: its run was killed. Remove it and try once more.
                        _ => fs::remove_file(&path).map_err(io_err(&path))?,
                    }
                }
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        Err(LakeError::Io {
            path,
            message: "could not take the lock".into(),
        })
    }
}

impl Drop for LakeLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_a_stale_one_taken_over(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let lake = Lake::open(dir.path())?;
        let held = lake.lock()?;
        assert!(matches!(lake.lock(), Err(LakeError::Locked { .. })));
        drop(held);
        // A lock left by a process that no longer exists.
        fs::write(
            dir.path().join(".lock"),
            "4000000000 2026-01-01T00:00:00Z\n",
        )?;
        let _taken = lake.lock()?;
        Ok(())
    }
}
