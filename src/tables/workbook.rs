//! The Excel workbook: a `Contents` sheet, then one sheet per table with a bold, frozen, filtered
//! header, typed cells and fitted widths. Presentation only: values are the table's, never recomputed.

use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{
    ColNum, DocProperties, ExcelDateTime, Format, RowNum, Url, Workbook, Worksheet, XlsxError,
};

use super::cells::{cell_kind, write_column, CellKind, NumberStyle};
use super::{io_err, replace_file, OutputError, Table};

/// Data rows an Excel sheet holds below its header row.
pub const EXCEL_MAX_DATA_ROWS: usize = 1_048_575;
/// The first sheet, listing the others.
pub(super) const CONTENTS_SHEET: &str = "Contents";
/// Columns an Excel sheet holds.
const EXCEL_MAX_COLUMNS: usize = 16_384;
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;
/// Room beside a header for the autofilter's drop-down button.
const FILTER_BUTTON_CHARS: usize = 2;
const CONTENTS_HEADERS: [&str; 5] = ["Sheet", "Title", "Description", "Rows", "Note"];

/// Checks, before anything is written, that every column of `table` can go on a sheet.
pub(super) fn check_columns(table: &Table) -> Result<(), OutputError> {
    column_kinds(table).map(|_| ())
}

/// Writes `tables` into one workbook at `path`; a sheet holds at most `max_rows` data rows.
pub(super) fn write_workbook(
    path: &Path,
    tables: &[Table],
    max_rows: usize,
) -> Result<(), OutputError> {
    let bytes = workbook_bytes(path, tables, max_rows)?;
    replace_file(path, |out| out.write_all(&bytes).map_err(io_err(path)))
}

fn workbook_bytes(path: &Path, tables: &[Table], max_rows: usize) -> Result<Vec<u8>, OutputError> {
    let mut workbook = Workbook::new();
    let properties = fixed_properties().map_err(|e| workbook_err(path, None)(e.to_string()))?;
    workbook.set_properties(&properties);
    write_contents(workbook.add_worksheet(), tables, max_rows)
        .map_err(workbook_err(path, Some(CONTENTS_SHEET)))?;
    for table in tables {
        let kinds = column_kinds(table)?;
        write_table_sheet(workbook.add_worksheet(), table, &kinds, max_rows)
            .map_err(workbook_err(path, Some(&table.name)))?;
    }
    workbook
        .save_to_buffer()
        .map_err(|e| workbook_err(path, None)(e.to_string()))
}

fn workbook_err<'a>(path: &'a Path, sheet: Option<&'a str>) -> impl Fn(String) -> OutputError + 'a {
    move |message| OutputError::Workbook {
        path: path.to_path_buf(),
        sheet: sheet.map(str::to_string),
        message,
    }
}

/// Excel stamps a new workbook with the time it was made; a fixed time instead means the same
/// tables always give the same bytes, so golden tests and change detection work.
fn fixed_properties() -> Result<DocProperties, XlsxError> {
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    Ok(DocProperties::new()
        .set_title("cex-insight tables")
        .set_creation_datetime(&created))
}

/// The cell kind of each column, or an error naming the first column that cannot be shown
/// (or a format that names no column, most likely a typo).
fn column_kinds(table: &Table) -> Result<Vec<CellKind>, OutputError> {
    let column_err = |column: &str, problem: String| OutputError::Column {
        table: table.name.clone(),
        column: column.to_string(),
        problem,
    };
    let frame = &table.frame;
    if let Some(missing) = table.formats.keys().find(|c| frame.column(c).is_err()) {
        let names: Vec<&str> = frame
            .get_column_names()
            .into_iter()
            .map(|n| n.as_str())
            .collect();
        return Err(column_err(
            missing,
            format!(
                "has a format but is not in the table; its columns are: {}",
                names.join(", ")
            ),
        ));
    }
    if frame.width() > EXCEL_MAX_COLUMNS {
        let name = frame.get_column_names()[EXCEL_MAX_COLUMNS].to_string();
        return Err(column_err(
            &name,
            format!(
                "is column {} of {}; a sheet holds at most {EXCEL_MAX_COLUMNS}",
                EXCEL_MAX_COLUMNS + 1,
                frame.width()
            ),
        ));
    }
    frame
        .columns()
        .iter()
        .map(|column| {
            let format = table.formats.get(column.name().as_str()).copied();
            cell_kind(column.dtype(), format).map_err(|problem| column_err(column.name(), problem))
        })
        .collect()
}

fn write_contents(sheet: &mut Worksheet, tables: &[Table], max_rows: usize) -> Result<(), String> {
    sheet.set_name(CONTENTS_SHEET).map_err(xlsx)?;
    let header_widths = write_header(sheet, CONTENTS_HEADERS.iter().copied())?;
    let wrap = Format::new().set_text_wrap();
    let count = Format::new().set_num_format(NumberStyle::Fixed(0).num_format());
    let mut widths = header_widths;
    for (table, row) in tables.iter().zip(1..) {
        let row: RowNum = row;
        let link = Url::new(format!("internal:'{}'!A1", table.name));
        let rows = table.frame.height();
        let note = cut_note(table, max_rows);
        sheet
            .write_url_with_text(row, 0, link, &table.name)
            .and_then(|s| s.write_string(row, 1, &table.title))
            .and_then(|s| s.write_string_with_format(row, 2, &table.description, &wrap))
            .and_then(|s| s.write_number_with_format(row, 3, rows as f64, &count))
            .and_then(|s| s.write_string_with_format(row, 4, &note, &wrap))
            .map_err(xlsx)?;
        let shown = [
            table.name.chars().count(),
            table.title.chars().count(),
            table.description.chars().count(),
            NumberStyle::Fixed(0).shown_width(rows as f64),
            note.chars().count(),
        ];
        for (width, value) in widths.iter_mut().zip(shown) {
            *width = (*width).max(value);
        }
    }
    set_widths(sheet, &widths)?;
    sheet.set_freeze_panes(1, 0).map_err(xlsx)?;
    Ok(())
}

/// Where a table too long for a sheet is in full; empty when the sheet holds all of it.
fn cut_note(table: &Table, max_rows: usize) -> String {
    let rows = table.frame.height();
    if rows <= max_rows {
        return String::new();
    }
    format!(
        "Cut: the sheet holds the first {} of {} rows (Excel's limit); the whole table is in {name}.csv and {name}.parquet beside this workbook.",
        super::thousands(max_rows as f64),
        super::thousands(rows as f64),
        name = table.name
    )
}

fn write_table_sheet(
    sheet: &mut Worksheet,
    table: &Table,
    kinds: &[CellKind],
    max_rows: usize,
) -> Result<(), String> {
    sheet.set_name(&table.name).map_err(xlsx)?;
    let names = table.frame.get_column_names();
    let mut widths = write_header(sheet, names.iter().map(|n| n.as_str()))?;
    let shown = table.frame.slice(0, max_rows.min(table.frame.height()));
    for ((column, kind), (col, width)) in shown
        .columns()
        .iter()
        .zip(kinds)
        .zip((0..).zip(widths.iter_mut()))
    {
        let widest = write_column(sheet, col, column.as_materialized_series(), *kind)
            .map_err(|problem| format!("column '{}': {problem}", column.name()))?;
        *width = (*width).max(widest);
    }
    set_widths(sheet, &widths)?;
    if let Some(last_col) = last_col(widths.len()) {
        let last_row = RowNum::try_from(shown.height()).map_err(|e| e.to_string())?;
        sheet.set_freeze_panes(1, 0).map_err(xlsx)?;
        sheet.autofilter(0, 0, last_row, last_col).map_err(xlsx)?;
    }
    Ok(())
}

/// Writes bold headers in row 0; returns each header's width, with room for a filter button.
fn write_header<'a>(
    sheet: &mut Worksheet,
    headers: impl Iterator<Item = &'a str>,
) -> Result<Vec<usize>, String> {
    let bold = Format::new().set_bold();
    let mut widths = Vec::new();
    for (header, col) in headers.zip(0..) {
        let col: ColNum = col;
        sheet
            .write_string_with_format(0, col, header, &bold)
            .map_err(xlsx)?;
        widths.push(header.chars().count() + FILTER_BUTTON_CHARS);
    }
    Ok(widths)
}

/// Sets each column to its width in characters, clamped so nothing is unreadably narrow or a
/// long text does not push the other columns off screen.
fn set_widths(sheet: &mut Worksheet, widths: &[usize]) -> Result<(), String> {
    for (&width, col) in widths.iter().zip(0..) {
        let col: ColNum = col;
        sheet
            .set_column_width(col, fit_width(width))
            .map_err(xlsx)?;
    }
    Ok(())
}

pub(super) fn fit_width(chars: usize) -> f64 {
    chars.clamp(MIN_WIDTH, MAX_WIDTH) as f64
}

fn last_col(columns: usize) -> Option<ColNum> {
    columns
        .checked_sub(1)
        .and_then(|c| ColNum::try_from(c).ok())
}

fn xlsx(e: XlsxError) -> String {
    e.to_string()
}
