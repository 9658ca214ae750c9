//! Converts a lake written before the Delta tables (plain Parquet folders, `manifest.parquet`,
//! `_txn/` staging) into the Delta layout, under the writer's lock, without reading the exports
//! again: each old Parquet file is rewritten into its Delta partition and committed, the old
//! manifest becomes the manifest table's first version, and the old files are removed last.
//! Safe to kill at any point: until the manifest table exists the old layout is the lake.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::parquet::LakeWriter as ParquetWriter;
use super::txn::Transaction;
use super::{delta, io_err, manifest, LakeError, MANIFEST_TABLE};
use crate::model::{col as c, Table};

const LEGACY_MANIFEST: &str = "manifest.parquet";
const LEGACY_TXN: &str = "_txn";

/// Whether the folder holds a lake in the old layout (or the remains of one).
pub fn is_legacy(root: &Path) -> bool {
    root.join(LEGACY_MANIFEST).is_file() || root.join(LEGACY_TXN).is_dir()
}

/// Upgrades an old-layout lake in place; returns whether there was anything to upgrade.
pub fn upgrade(root: &Path) -> Result<bool, LakeError> {
    if !is_legacy(root) {
        return Ok(false);
    }
    finish_legacy_commits(root)?;
    let old_manifest = root.join(LEGACY_MANIFEST);
    let legacy = legacy_files(root)?;
    if old_manifest.is_file() && !delta::is_table(&root.join(MANIFEST_TABLE)) {
        discard_partial_upgrade(root)?;
        let file = fs::File::open(&old_manifest).map_err(io_err(&old_manifest))?;
        let frame = ParquetReader::new(file)
            .finish()
            .map_err(|e| data_err(&old_manifest, e))?;
        let records = manifest::records_from_frame(&frame)?;
        let txn = Transaction::at(root);
        for (table, source, year, month, file_id, path) in &legacy {
            rewrite(&txn, *table, source, *year, *month, file_id, path)?;
        }
        txn.commit(&records)?;
    }
    for (.., path) in &legacy {
        fs::remove_file(path).map_err(io_err(path))?;
    }
    for table in [Table::Contacts, Table::Responses] {
        remove_empty_legacy_dirs(&root.join(table.name()))?;
    }
    if old_manifest.is_file() {
        fs::remove_file(&old_manifest).map_err(io_err(&old_manifest))?;
    }
    Ok(true)
}

fn data_err(path: &Path, e: PolarsError) -> LakeError {
    LakeError::Data {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// An old-layout data file: table, source, year, month, export file id, path.
type LegacyFile = (Table, String, i32, i8, String, PathBuf);

/// The old layout's data files: `<table>/<source>/<yyyy>/<mm>/part-<file id>.parquet`.
fn legacy_files(root: &Path) -> Result<Vec<LegacyFile>, LakeError> {
    let mut out = Vec::new();
    for table in [Table::Contacts, Table::Responses] {
        let dir = root.join(table.name());
        for path in super::files_under(&dir, &["_delta_log"])? {
            let Ok(rel) = path.strip_prefix(&dir) else {
                continue;
            };
            let parts: Vec<String> = rel
                .components()
                .map(|p| p.as_os_str().to_string_lossy().into_owned())
                .collect();
            let [source, year, month, name] = parts.as_slice() else {
                continue;
            };
            if source.contains('=') {
                continue; // already Delta's
            }
            let (Ok(year), Ok(month)) = (year.parse::<i32>(), month.parse::<i8>()) else {
                continue;
            };
            let Some(file_id) = name
                .strip_prefix("part-")
                .and_then(|n| n.strip_suffix(".parquet"))
            else {
                continue;
            };
            out.push((
                table,
                source.clone(),
                year,
                month,
                file_id.to_string(),
                path,
            ));
        }
    }
    Ok(out)
}

/// Rewrites one old file into its Delta partitions, one per council it holds (unsigned columns
/// widened as Delta needs).
fn rewrite(
    txn: &Transaction,
    table: Table,
    source: &str,
    year: i32,
    month: i8,
    file_id: &str,
    old: &Path,
) -> Result<(), LakeError> {
    let file = fs::File::open(old).map_err(io_err(old))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| data_err(old, e))?;
    let unique: &[&str] = if df.column(c::RECORD_KEY).is_ok() {
        &[c::RECORD_KEY]
    } else {
        &[]
    };
    for mut part in df
        .partition_by_stable([c::ORGANISATION], true)
        .map_err(|e| data_err(old, e))?
    {
        part.rechunk_mut_par();
        let organisation = part
            .column(c::ORGANISATION)
            .and_then(|c| c.str().map(|s| s.get(0).map(str::to_string)))
            .map_err(|e| data_err(old, e))?
            .unwrap_or_default();
        let (out, path) = txn.create_part(table, &organisation, source, year, month, file_id)?;
        let mut writer = ParquetWriter::new(
            out.try_clone().map_err(io_err(&path))?,
            part.schema(),
            unique,
        )
        .map_err(|e| data_err(&path, e))?;
        writer.write(&part).map_err(|e| data_err(&path, e))?;
        writer.finish().map_err(|e| data_err(&path, e))?;
        out.sync_all().map_err(io_err(&path))?;
        txn.part_done(&path, part.schema())?;
    }
    Ok(())
}

/// Removes what a killed upgrade wrote (Delta logs and partitions), so it starts over.
fn discard_partial_upgrade(root: &Path) -> Result<(), LakeError> {
    for name in [
        Table::Contacts.name(),
        Table::Responses.name(),
        MANIFEST_TABLE,
    ] {
        let dir = root.join(name);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let n = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if n == "_delta_log" || n.starts_with("organisation=") {
                fs::remove_dir_all(&path).map_err(io_err(&path))?;
            } else if name == MANIFEST_TABLE && path.is_file() {
                fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
    }
    Ok(())
}

/// The old layout's commits: a staging folder with `COMMIT` is moved into place (the old code's
/// roll-forward), one without is deleted.
fn finish_legacy_commits(root: &Path) -> Result<(), LakeError> {
    let txns = root.join(LEGACY_TXN);
    let Ok(entries) = fs::read_dir(&txns) else {
        return Ok(());
    };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let list = dir.join("COMMIT");
        if list.is_file() {
            let text = fs::read_to_string(&list).map_err(io_err(&list))?;
            for rel in text.lines().filter(|l| !l.is_empty()) {
                let from = dir.join("files").join(rel);
                let to = root.join(rel);
                if !from.exists() {
                    continue;
                }
                if let Some(parent) = to.parent() {
                    fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                fs::rename(&from, &to).map_err(io_err(&from))?;
            }
        }
        fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
    }
    fs::remove_dir_all(&txns).map_err(io_err(&txns))
}

/// Removes the old layout's empty `<source>/<yyyy>/<mm>` folders.
fn remove_empty_legacy_dirs(dir: &Path) -> Result<(), LakeError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() && name != "_delta_log" && !name.starts_with("organisation=") {
            remove_if_empty(&path)?;
        }
    }
    Ok(())
}

fn remove_if_empty(dir: &Path) -> Result<bool, LakeError> {
    let mut empty = true;
    for entry in fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
        let path = entry.path();
        if !(path.is_dir() && remove_if_empty(&path)?) {
            empty = false;
        }
    }
    if empty {
        fs::remove_dir(dir).map_err(io_err(dir))?;
    }
    Ok(empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::{Lake, LakeWriter};

    #[test]
    fn an_old_layout_lake_becomes_delta_tables_with_the_same_rows(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        // The old layout: a partition file, manifest.parquet and an unfinished staging folder.
        let part = root.join("contacts/calls/2024/03/part-aaaa.parquet");
        fs::create_dir_all(part.parent().ok_or("parent")?)?;
        let mut rows = df!(
            "organisation" => ["Example", "Example"],
            "source" => ["calls", "calls"],
            "year" => [2024i32, 2024],
            "month" => [3i8, 3],
            "contacts" => [1u32, 1],
            "record_key" => ["a", "b"],
            "source_file_id" => ["aaaa", "aaaa"],
        )?;
        polars::prelude::ParquetWriter::new(fs::File::create(&part)?).finish(&mut rows)?;
        let mut old = manifest::to_frame(&[manifest::FileRecord {
            file_id: "aaaa".into(),
            sha256: "aaaa".repeat(16),
            path: "calls.csv".into(),
            size_bytes: 10,
            source: "calls".into(),
            table: "contacts".into(),
            encoding: "utf-8".into(),
            counts: manifest::RowCounts {
                rows_read: 2,
                accepted: 2,
                ..Default::default()
            },
            first_date: Some("2024-03-01".into()),
            last_date: Some("2024-03-02".into()),
            pipeline: "p".into(),
            ingested_at: "2025-01-01T00:00:00Z".into(),
            modified_ns: None,
        }])?;
        polars::prelude::ParquetWriter::new(fs::File::create(root.join(LEGACY_MANIFEST))?)
            .finish(&mut old)?;
        fs::create_dir_all(root.join("_txn/20250101-1/files"))?;

        assert!(matches!(Lake::open(root), Err(LakeError::OldLayout { .. })));
        drop(LakeWriter::open(root)?);

        let lake = Lake::open(root)?;
        let contacts = lake.scan(Table::Contacts)?.ok_or("no rows")?.collect()?;
        assert_eq!(contacts.height(), 2);
        assert_eq!(contacts.column("contacts")?.dtype(), &DataType::UInt32);
        assert_eq!(lake.manifest().height(), 1);
        assert_eq!(lake.version(), Some(0));
        assert!(!part.exists() && !root.join("contacts/calls").exists());
        assert!(!root.join(LEGACY_MANIFEST).exists() && !root.join(LEGACY_TXN).exists());

        Ok(())
    }
}
