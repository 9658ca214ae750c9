//! Atomic commits to the lake. A run stages every new file under `_txn/<id>/files/`, then writes
//! `_txn/<id>/COMMIT` (one rename, so it exists whole or not at all) and moves the files into place.
//! A run killed before COMMIT leaves the lake as it was (its staging is deleted on the next open);
//! one killed after COMMIT is rolled forward on the next open. Readers never look inside `_txn`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use polars::prelude::*;

use super::{io_err, Lake, LakeError};

const TXN_DIR: &str = "_txn";
const COMMIT: &str = "COMMIT";

/// Files staged for one atomic commit. Staging can happen from several threads.
pub struct Transaction {
    root: PathBuf,
    dir: PathBuf,
    staged: Mutex<Vec<String>>,
}

impl Transaction {
    pub fn begin(lake: &Lake) -> Result<Transaction, LakeError> {
        let id = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
            std::process::id()
        );
        let dir = lake.root().join(TXN_DIR).join(id);
        fs::create_dir_all(dir.join("files")).map_err(io_err(&dir))?;
        Ok(Transaction {
            root: lake.root().to_path_buf(),
            dir,
            staged: Mutex::new(Vec::new()),
        })
    }

    /// Stages a DataFrame as a zstd Parquet file at `rel` (a path relative to the lake root).
    pub fn stage_parquet(&self, rel: &str, df: &mut DataFrame) -> Result<(), LakeError> {
        let path = self.staging_path(rel)?;
        let file = fs::File::create(&path).map_err(io_err(&path))?;
        ParquetWriter::new(&file)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::full())
            .finish(df)
            .map_err(|e| LakeError::Data {
                path: path.clone(),
                message: e.to_string(),
            })?;
        file.sync_all().map_err(io_err(&path))?;
        self.record(rel);
        Ok(())
    }

    /// Stages raw bytes at `rel`; `private` files are readable by their owner only.
    pub fn stage_bytes(&self, rel: &str, bytes: &[u8], private: bool) -> Result<(), LakeError> {
        let (mut file, path) = self.create(rel, private)?;
        file.write_all(bytes).map_err(io_err(&path))?;
        file.sync_all().map_err(io_err(&path))?;
        self.staged(rel);
        Ok(())
    }

    /// Creates a file at `rel` to be written piece by piece; it becomes part of the commit only
    /// once [`Transaction::staged`] is called for it (after it is complete and synced).
    pub fn create(&self, rel: &str, private: bool) -> Result<(fs::File, PathBuf), LakeError> {
        let path = self.staging_path(rel)?;
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let _ = private;
        let file = options.open(&path).map_err(io_err(&path))?;
        Ok((file, path))
    }

    /// Adds a complete file written through [`Transaction::create`] to the commit.
    pub fn staged(&self, rel: &str) {
        self.record(rel);
    }

    fn staging_path(&self, rel: &str) -> Result<PathBuf, LakeError> {
        let path = self.dir.join("files").join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        Ok(path)
    }

    fn record(&self, rel: &str) {
        if let Ok(mut staged) = self.staged.lock() {
            staged.push(rel.to_string());
        }
    }

    /// Makes every staged file part of the lake, all or nothing.
    pub fn commit(self) -> Result<(), LakeError> {
        let staged = self
            .staged
            .lock()
            .map(|s| s.clone())
            .map_err(|_| LakeError::Io {
                path: self.dir.clone(),
                message: "staging list poisoned by a failed thread".into(),
            })?;
        let tmp = self.dir.join("COMMIT.tmp");
        let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(staged.join("\n").as_bytes())
            .map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, self.dir.join(COMMIT)).map_err(io_err(&tmp))?;
        sync_dir(&self.dir);
        roll_forward(&self.root, &self.dir)
    }

    /// Drops everything staged; the lake is untouched.
    pub fn abort(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Finishes committed transactions and deletes uncommitted ones.
pub fn recover(lake: &Lake) -> Result<(), LakeError> {
    let txns = lake.root().join(TXN_DIR);
    if !txns.exists() {
        return Ok(());
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(&txns)
        .map_err(io_err(&txns))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dirs.sort();
    for dir in dirs {
        if dir.join(COMMIT).exists() {
            roll_forward(lake.root(), &dir)?;
        } else {
            fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
    }
    Ok(())
}

/// Moves a committed transaction's files into place; safe to repeat after a crash part-way.
fn roll_forward(root: &Path, dir: &Path) -> Result<(), LakeError> {
    let list = dir.join(COMMIT);
    let text = fs::read_to_string(&list).map_err(io_err(&list))?;
    let mut touched_dirs = Vec::new();
    for rel in text.lines().filter(|l| !l.is_empty()) {
        let from = dir.join("files").join(rel);
        let to = root.join(rel);
        if !from.exists() {
            continue; // moved before the crash
        }
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
            touched_dirs.push(parent.to_path_buf());
        }
        fs::rename(&from, &to).map_err(io_err(&from))?;
    }
    touched_dirs.sort();
    touched_dirs.dedup();
    for d in &touched_dirs {
        sync_dir(d);
    }
    fs::remove_dir_all(dir).map_err(io_err(dir))?;
    Ok(())
}

/// Flushes a folder's entries (renames) to disk; best effort where the platform cannot.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_staging_is_discarded_and_committed_is_finished(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let lake = Lake::open(dir.path())?;

        // A run that staged but died before COMMIT: nothing appears.
        let t = Transaction::begin(&lake)?;
        t.stage_bytes("contacts/a.txt", b"a", false)?;
        drop(t);
        let lake = Lake::open(dir.path())?;
        assert!(!dir.path().join("contacts/a.txt").exists());
        assert!(fs::read_dir(dir.path().join(TXN_DIR))?.next().is_none());

        // A run that wrote COMMIT and died before moving: the next open finishes it.
        let t = Transaction::begin(&lake)?;
        t.stage_bytes("contacts/b.txt", b"b", false)?;
        t.stage_bytes("rejects/c.csv", b"c", true)?;
        fs::write(t.dir.join(COMMIT), "contacts/b.txt\nrejects/c.csv")?;
        drop(t);
        Lake::open(dir.path())?;
        assert_eq!(fs::read(dir.path().join("contacts/b.txt"))?, b"b");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("rejects/c.csv"))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }
}
