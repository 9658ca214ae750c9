//! A table's plain files: `<name>.parquet` (zstd, statistics) and `<name>.csv` (UTF-8, ISO dates,
//! floats at full precision). Writes the frame exactly as it is: no display formats, no rounding;
//! in the CSV only, a text cell a spreadsheet would run as a formula is neutralised.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{replace_file, OutputError, Table};

pub(super) fn write_parquet(dir: &Path, table: &Table) -> Result<PathBuf, OutputError> {
    write_table_file(dir, table, "parquet", |out, frame| {
        ParquetWriter::new(out)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::full())
            .finish(frame)
            .map(|_| ())
    })
}

/// polars' CSV defaults are what analysts' tools read back exactly: comma separated, quoted only
/// where needed, ISO 8601 dates and datetimes, floats as the shortest text that round-trips.
/// Text cells (never numbers) starting with `=`, `+`, `-`, `@`, a tab or a carriage return get a
/// leading `'`, as OWASP advises against CSV injection: a spreadsheet opening the file shows the
/// text instead of running it (a service named `=HYPERLINK(...)` in a lookup, say).
pub(super) fn write_csv(dir: &Path, table: &Table) -> Result<PathBuf, OutputError> {
    write_table_file(dir, table, "csv", |out, frame| {
        let mut safe = neutralise_formulas(frame)?;
        CsvWriter::new(out).include_header(true).finish(&mut safe)
    })
}

/// The frame with every text cell that a spreadsheet would read as a formula prefixed with `'`.
pub(super) fn neutralise_formulas(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let texts: Vec<Expr> = frame
        .schema()
        .iter()
        .filter(|(_, dtype)| **dtype == DataType::String)
        .map(|(name, _)| {
            let name = name.as_str();
            when(col(name).str().contains(lit(r"^[=+\-@\t\r]"), true))
                .then(concat_str([lit("'"), col(name)], "", false))
                .otherwise(col(name))
                .alias(name)
        })
        .collect();
    if texts.is_empty() {
        return Ok(frame.clone());
    }
    frame.clone().lazy().with_columns(texts).collect()
}

fn write_table_file(
    dir: &Path,
    table: &Table,
    extension: &str,
    write: impl FnOnce(&mut BufWriter<File>, &mut DataFrame) -> PolarsResult<()>,
) -> Result<PathBuf, OutputError> {
    let path = dir.join(format!("{}.{extension}", table.name));
    // The writers want a mutable frame (to rechunk); a clone shares the column buffers.
    let mut frame = table.frame.clone();
    replace_file(&path, |out| {
        write(out, &mut frame).map_err(|e| OutputError::File {
            path: path.clone(),
            table: table.name.clone(),
            message: e.to_string(),
        })
    })?;
    Ok(path)
}
