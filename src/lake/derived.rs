//! Sums derived from the lake's tables and kept beside them, so a later run need not work them
//! out again: `<lake>/_derived/<kind>/<key>.parquet`, owner-only like the lake. Each file is
//! named by a SHA-256 of everything it was computed from (the format, cex's version, the
//! settings and the identity of the data files read, see [`Lake::months_stamp`]): a file is
//! only ever read by a run that would compute the same sums, so none is ever out of date, and
//! one whose inputs changed is simply no longer asked for.
//!
//! Nothing here is needed: a missing, unreadable or damaged file is worked out again, and the
//! folder can be deleted at any time. Files are written under a temporary name and renamed, so
//! a reader never sees half a file and two runs writing the same key write the same bytes.
//!
//! [`Lake::months_stamp`]: super::Lake::months_stamp

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

/// The folder under the lake's root.
pub const FOLDER: &str = "_derived";

/// The key of a set of inputs: SHA-256 of each part, length-prefixed so that no two lists of
/// parts run together alike, as 64 hex digits.
pub fn key(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for p in parts {
        hash.update((p.len() as u64).to_le_bytes());
        hash.update(p.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn path_of(root: &Path, kind: &str, key: &str) -> PathBuf {
    root.join(FOLDER).join(kind).join(format!("{key}.parquet"))
}

/// The sums kept under `key`, or `None` when there are none (or the file cannot be read: it is
/// then worked out again and written over).
pub fn read(root: &Path, kind: &str, key: &str) -> Option<DataFrame> {
    let path = path_of(root, kind, key);
    let file = fs::File::open(&path).ok()?;
    match ParquetReader::new(file).finish() {
        Ok(df) => Some(df),
        Err(e) => {
            crate::log::warn(&format!(
                "{}: kept file unreadable ({e}); working it out again",
                path.display()
            ));
            None
        }
    }
}

/// Kept sums as `schema` says they are written: its columns in its order, each cast strictly to
/// its type (polars may read a type back otherwise, a categorical say). Other columns, or values
/// that do not cast, mean the file is damaged: the error says which.
pub fn as_written(df: DataFrame, schema: &Schema) -> Result<DataFrame, String> {
    let names = |s: &Schema| s.iter_names().cloned().collect::<Vec<_>>();
    if names(df.schema()) != names(schema) {
        return Err("other columns".into());
    }
    df.lazy()
        .select(
            schema
                .iter()
                .map(|(name, dtype)| col(name.clone()).strict_cast(dtype.clone()))
                .collect::<Vec<_>>(),
        )
        .collect()
        .map_err(|e| e.to_string())
}

/// Keeps `df` under `key`. Failing to keep it costs only time later, so the caller may carry on
/// (a lake on a read-only share, say) after reporting the error.
pub fn write(root: &Path, kind: &str, key: &str, df: &mut DataFrame) -> Result<(), String> {
    let path = path_of(root, kind, key);
    let describe = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let dir = path
        .parent()
        .ok_or_else(|| describe(&"no folder"))?
        .to_path_buf();
    super::owner_only_dir(&root.join(FOLDER)).map_err(|e| describe(&e))?;
    super::owner_only_dir(&dir).map_err(|e| describe(&e))?;
    let temp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
    let written = (|| -> Result<(), String> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&temp).map_err(|e| describe(&e))?;
        ParquetWriter::new(file)
            // LZ4, as the lake's sums (see `lake::parquet::LakeWriter::sums`).
            .with_compression(ParquetCompression::Lz4Raw)
            .finish(df)
            .map_err(|e| describe(&e))?;
        fs::rename(&temp, &path).map_err(|e| describe(&e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_sums_read_back_as_written_and_a_damaged_file_reads_as_none(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let k = key(&["a", "b"]);
        assert_ne!(k, key(&["ab"]), "parts are kept apart");
        assert_eq!(k.len(), 64);
        assert!(read(dir.path(), "sums", &k).is_none());
        let mut df = df!("month" => [1i8, 2], "n" => [3u32, 4])?;
        write(dir.path(), "sums", &k, &mut df).map_err(std::io::Error::other)?;
        assert_eq!(read(dir.path(), "sums", &k), Some(df));
        // Nothing but the file itself is left in the folder.
        assert_eq!(
            fs::read_dir(dir.path().join(FOLDER).join("sums"))?.count(),
            1
        );
        fs::write(path_of(dir.path(), "sums", &k), b"not parquet")?;
        assert!(read(dir.path(), "sums", &k).is_none());
        Ok(())
    }
}
