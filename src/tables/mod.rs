//! The published tables: their contract (table and column names the stages share, in
//! [`contract`]), writing every computed table as Parquet and CSV with one Excel workbook (a sheet
//! per table) and an index (`tables.json`), publishing a period's folder in one step
//! ([`publish`]), and reading such a folder back for the charts and the report, refusing a table
//! that lacks a column they read. Nothing here computes a figure.

mod cells;
pub mod contract;
pub mod counts;
mod files;
pub mod frame;
mod workbook;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, SerReader};
use rayon::prelude::*;
use thiserror::Error;

pub use cells::thousands;
pub use workbook::EXCEL_MAX_DATA_ROWS;

/// How a column is shown in the workbook (Parquet and CSV keep the plain numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnFormat {
    /// Shown as it comes: text as text, a number in Excel's General format (still a number).
    Text,
    Integer,
    /// A number with this many decimal places.
    Decimal(u8),
    /// A percentage held in percent units (6.0 means 6%), shown with this many decimal places.
    Percent(u8),
    Date,
}

/// One computed table, named for the files it is written to and titled for people.
#[derive(Debug, Clone)]
pub struct Table {
    /// File and sheet name, e.g. `channel_shift` (letters, digits and `_`; at most 31 characters).
    pub name: String,
    /// Title a Cabinet report can quote, e.g. "Channel shift against targets".
    pub title: String,
    /// One or two sentences: what a row is and how the figures are defined.
    pub description: String,
    pub frame: DataFrame,
    /// Column formats for the workbook; columns not listed are shown as they come.
    pub formats: BTreeMap<String, ColumnFormat>,
    /// Which columns count survey respondents (the table is then protected by disclosure
    /// control); `None` for tables of contacts, files or money.
    pub counts: Option<counts::Counts>,
}

/// Sheet names Excel keeps for itself (compared ignoring case); `Contents` is ours.
const RESERVED_NAMES: [&str; 2] = [workbook::CONTENTS_SHEET, "History"];
/// Excel's limit on a sheet name, which is also the table's file name.
const MAX_NAME_CHARS: usize = 31;

#[derive(Debug, Error)]
pub enum OutputError {
    #[error("table name '{name}' {problem}; a table name is also its sheet and file name: 1 to 31 letters, digits or '_'")]
    BadName { name: String, problem: String },
    #[error("two tables are named '{first}' and '{second}'; sheet names ignore case, so give each table its own name")]
    DuplicateName { first: String, second: String },
    #[error(
        "workbook name '{name}' {problem}; give a file name ending in .xlsx, e.g. tables.xlsx"
    )]
    BadWorkbookName { name: String, problem: String },
    #[error("table '{table}', column '{column}': {problem}")]
    Column {
        table: String,
        column: String,
        problem: String,
    },
    #[error("{}: table '{table}': {message}", path.display())]
    File {
        path: PathBuf,
        table: String,
        message: String,
    },
    #[error("{}: {}{message}", path.display(), in_sheet(sheet))]
    Workbook {
        path: PathBuf,
        /// The sheet being written, if the problem is in one.
        sheet: Option<String>,
        message: String,
    },
    /// The cause is the `source`, printed after the path by a `{:#}` report.
    #[error("cannot write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes every table as `<dir>/<name>.parquet` (zstd) and `<dir>/<name>.csv`, and all of them
/// into one workbook `<dir>/<workbook_name>`; returns the files written, in order.
pub fn write_tables(
    dir: &Path,
    tables: &[Table],
    workbook_name: &str,
) -> Result<Vec<PathBuf>, OutputError> {
    write_tables_with_sheet_limit(dir, tables, workbook_name, EXCEL_MAX_DATA_ROWS)
}

/// [`write_tables`] with the sheet's row limit as a parameter, so tests can cut small tables.
fn write_tables_with_sheet_limit(
    dir: &Path,
    tables: &[Table],
    workbook_name: &str,
    max_sheet_rows: usize,
) -> Result<Vec<PathBuf>, OutputError> {
    // Every check that needs no data runs before the first file is written, so a bad name or
    // format never leaves half the outputs behind.
    check_workbook_name(workbook_name)?;
    check_table_names(tables)?;
    for table in tables {
        workbook::check_columns(table)?;
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;

    // Each table's files, and the workbook beside them: independent files, written at once.
    let workbook_path = dir.join(workbook_name);
    let (each, workbook) = rayon::join(
        || {
            tables
                .par_iter()
                .map(|table| {
                    Ok([
                        files::write_parquet(dir, table)?,
                        files::write_csv(dir, table)?,
                    ])
                })
                .collect::<Result<Vec<_>, OutputError>>()
        },
        || workbook::write_workbook(&workbook_path, tables, max_sheet_rows),
    );
    let mut written: Vec<PathBuf> = each?.into_iter().flatten().collect();
    workbook?;
    written.push(workbook_path);
    written.push(write_index(dir, tables)?);
    Ok(written)
}

/// What `tables.json` says of one table: enough for the report to title and define it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TableEntry {
    pub name: String,
    pub title: String,
    pub description: String,
    pub rows: usize,
}

/// The index of a folder of tables.
pub const INDEX_FILE: &str = "tables.json";

/// Reads back a folder of published tables: its index and every table's Parquet file, by name.
/// A folder written before the index existed (or not at all) reads as empty.
pub fn read_folder(
    dir: &Path,
) -> Result<(Vec<TableEntry>, HashMap<String, DataFrame>), OutputError> {
    let index = dir.join(INDEX_FILE);
    if !index.is_file() {
        return Ok((Vec::new(), HashMap::new()));
    }
    let text = fs::read_to_string(&index).map_err(io_err(&index))?;
    let entries: Vec<TableEntry> = serde_json::from_str(&text).map_err(|e| OutputError::File {
        path: index.clone(),
        table: INDEX_FILE.into(),
        message: e.to_string(),
    })?;
    let mut frames = HashMap::new();
    for entry in &entries {
        let path = dir.join(format!("{}.parquet", entry.name));
        let file = fs::File::open(&path).map_err(io_err(&path))?;
        let frame = polars::prelude::ParquetReader::new(file)
            .finish()
            .map_err(|e| OutputError::File {
                path: path.clone(),
                table: entry.name.clone(),
                message: e.to_string(),
            })?;
        let columns: Vec<&str> = frame
            .get_column_names()
            .into_iter()
            .map(|n| n.as_str())
            .collect();
        if let Some(column) = contract::missing(&entry.name, &columns) {
            return Err(OutputError::File {
                path: path.clone(),
                table: entry.name.clone(),
                message: format!(
                    "has no column '{column}', which the charts and the report read; the folder was written by another version of cex or edited: publish it again (`cex run --skip ingest`)"
                ),
            });
        }
        frames.insert(entry.name.clone(), frame);
    }
    Ok((entries, frames))
}

/// Writes `<dir>/tables.json`: each table's name, title, description and row count, so readers
/// of the Parquet files (the report among them) need not know the titles by heart.
fn write_index(dir: &Path, tables: &[Table]) -> Result<PathBuf, OutputError> {
    let entries: Vec<TableEntry> = tables
        .iter()
        .map(|t| TableEntry {
            name: t.name.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            rows: t.frame.height(),
        })
        .collect();
    let path = dir.join(INDEX_FILE);
    replace_file(&path, |out| {
        serde_json::to_writer_pretty(out, &entries).map_err(|e| OutputError::File {
            path: path.clone(),
            table: INDEX_FILE.into(),
            message: e.to_string(),
        })
    })?;
    Ok(path)
}

fn check_workbook_name(name: &str) -> Result<(), OutputError> {
    let problem = if name.contains(['/', '\\']) {
        Some("is a path, not a file name")
    } else if !name.to_ascii_lowercase().ends_with(".xlsx") || name.len() <= ".xlsx".len() {
        Some("is not a file name ending in .xlsx")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(OutputError::BadWorkbookName {
            name: name.to_string(),
            problem: problem.to_string(),
        }),
        None => Ok(()),
    }
}

/// Each name must be a valid sheet and file name, and distinct ignoring case (Excel and some
/// file systems do not tell `Calls` from `calls`).
fn check_table_names(tables: &[Table]) -> Result<(), OutputError> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for table in tables {
        if let Some(problem) = name_problem(&table.name) {
            return Err(OutputError::BadName {
                name: table.name.clone(),
                problem,
            });
        }
        if let Some(first) = seen.insert(table.name.to_ascii_lowercase(), &table.name) {
            return Err(OutputError::DuplicateName {
                first: first.to_string(),
                second: table.name.clone(),
            });
        }
    }
    Ok(())
}

fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Some(format!(
            "has {} characters, more than Excel allows",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!("contains '{c}'"));
    }
    RESERVED_NAMES
        .iter()
        .find(|reserved| reserved.eq_ignore_ascii_case(name))
        .map(|reserved| format!("is reserved for Excel's or the workbook's own '{reserved}' sheet"))
}

/// Replaces `path` with `bytes` as [`replace_file`] does: a reader sees the old file or the new.
pub fn replace_with(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    replace_file(path, |out| out.write_all(bytes).map_err(io_err(path)))
}

/// Writes `path` through a `.partial` sibling renamed into place, so a reader (or a crash)
/// never sees half a file and a failed write keeps the previous one.
fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let mut partial_name = path.as_os_str().to_owned();
    partial_name.push(".partial");
    let partial = PathBuf::from(partial_name);
    let result = fs::File::create(&partial)
        .map_err(io_err(&partial))
        .and_then(|file| {
            let mut out = BufWriter::new(file);
            write(&mut out)?;
            out.flush().map_err(io_err(&partial))
        })
        .and_then(|()| fs::rename(&partial, path).map_err(io_err(path)));
    if result.is_err() {
        // Best effort: the error being returned matters more than a leftover partial file.
        let _ = fs::remove_file(&partial);
    }
    result
}

fn in_sheet(sheet: &Option<String>) -> String {
    sheet
        .as_ref()
        .map(|s| format!("sheet '{s}': "))
        .unwrap_or_default()
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub mod publish;
