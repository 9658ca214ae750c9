//! One DataFrame column as worksheet cells: the cell type and number format its dtype and
//! `ColumnFormat` call for, the values, and the width they need. Values are never rounded.

use polars::prelude::*;
use rust_xlsxwriter::{ColNum, Format, RowNum, Worksheet, XlsxError};

use super::ColumnFormat;

/// Decimal places of a float column that has no format.
const DEFAULT_FLOAT_PLACES: u8 = 2;
/// More places than an f64 holds would only show noise.
const MAX_PLACES: u8 = 15;
/// Characters Excel's General format shows of a number before it switches to exponents.
const GENERAL_MAX_CHARS: usize = 11;
/// Excel's serial number of 1970-01-01 (serials count days from 1899-12-30 in the 1900 system).
const EXCEL_SERIAL_1970: f64 = 25_569.0;
/// The first serial after Excel's fictitious 29 February 1900.
const EXCEL_SERIAL_1900_03_01: f64 = 61.0;

const DATE_FORMAT: &str = "dd/mm/yyyy";
const DATETIME_FORMAT: &str = "dd/mm/yyyy hh:mm";
const DURATION_FORMAT: &str = "[h]:mm:ss";

/// How one column's values become cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CellKind {
    Number(NumberStyle),
    Date,
    /// A datetime shown in local wall time; `date_only` hides the time of day.
    DateTime {
        date_only: bool,
    },
    Duration,
    Boolean,
    Text,
    /// A column of nulls only (dtype Null): nothing to write.
    Empty,
}

/// How a number is shown; the cell always holds the full value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumberStyle {
    General,
    /// Thousands separators and this many decimal places.
    Fixed(u8),
    /// A value in percent units, stored as a fraction, shown with this many decimal places.
    Percent(u8),
}

/// The cells a column of `dtype` becomes under `format`; an error says why they do not fit.
pub(super) fn cell_kind(
    dtype: &DataType,
    format: Option<ColumnFormat>,
) -> Result<CellKind, String> {
    use ColumnFormat as F;
    let mismatch = |what: &str, format: ColumnFormat| {
        Err(format!(
            "is {what} ({dtype}), so it cannot take the format {format:?}"
        ))
    };
    if dtype.is_null() {
        return Ok(CellKind::Empty);
    }
    if dtype.is_primitive_numeric() {
        let style = match format {
            None if dtype.is_float() => NumberStyle::Fixed(DEFAULT_FLOAT_PLACES),
            None | Some(F::Integer) => NumberStyle::Fixed(0),
            Some(F::Text) => NumberStyle::General,
            Some(F::Decimal(places)) => NumberStyle::Fixed(check_places(places)?),
            Some(F::Percent(places)) => NumberStyle::Percent(check_places(places)?),
            Some(f @ F::Date) => return mismatch("a number", f),
        };
        return Ok(CellKind::Number(style));
    }
    match (dtype, format) {
        (DataType::Boolean, None | Some(F::Text)) => Ok(CellKind::Boolean),
        (DataType::Boolean, Some(f)) => mismatch("true/false", f),
        (DataType::Date, None | Some(F::Date)) => Ok(CellKind::Date),
        (DataType::Datetime(..), None) => Ok(CellKind::DateTime { date_only: false }),
        (DataType::Datetime(..), Some(F::Date)) => Ok(CellKind::DateTime { date_only: true }),
        (DataType::Date | DataType::Datetime(..), Some(f)) => mismatch("a date", f),
        (DataType::Duration(_), None) => Ok(CellKind::Duration),
        (DataType::Duration(_), Some(f)) => mismatch("a duration", f),
        (d, None | Some(F::Text)) if is_text(d) => Ok(CellKind::Text),
        (d, Some(f)) if is_text(d) => mismatch("text", f),
        (d, _) => Err(format!(
            "has type {d}, which a sheet cannot show; cast it to text or a number first"
        )),
    }
}

fn is_text(dtype: &DataType) -> bool {
    dtype.is_string() || dtype.is_categorical() || dtype.is_enum()
}

fn check_places(places: u8) -> Result<u8, String> {
    if places > MAX_PLACES {
        return Err(format!(
            "asks for {places} decimal places; at most {MAX_PLACES} are meaningful"
        ));
    }
    Ok(places)
}

impl NumberStyle {
    pub(super) fn num_format(self) -> String {
        let places = |n: u8| match n {
            0 => String::new(),
            n => format!(".{}", "0".repeat(usize::from(n))),
        };
        match self {
            NumberStyle::General => "General".into(),
            NumberStyle::Fixed(n) => format!("#,##0{}", places(n)),
            NumberStyle::Percent(n) => format!("0{}%", places(n)),
        }
    }

    /// What the cell holds for a value in the table's units.
    fn cell_value(self, value: f64) -> f64 {
        match self {
            // Division, not `* 0.01`: 7.0 / 100.0 is exactly the double nearest 0.07.
            NumberStyle::Percent(_) => value / 100.0,
            _ => value,
        }
    }

    /// Characters Excel shows for a cell value in this style.
    pub(super) fn shown_width(self, cell: f64) -> usize {
        match self {
            NumberStyle::General => format!("{cell}").len().min(GENERAL_MAX_CHARS),
            NumberStyle::Fixed(n) => with_thousands_width(&format!("{:.*}", usize::from(n), cell)),
            NumberStyle::Percent(n) => format!("{:.*}%", usize::from(n), cell * 100.0).len(),
        }
    }
}

/// Width of a formatted number once Excel adds a separator every three integer digits.
fn with_thousands_width(plain: &str) -> usize {
    let integer_digits = plain
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_start_matches('-')
        .len();
    plain.len() + integer_digits.saturating_sub(1) / 3
}

/// Excel's serial number for a moment `days` after 1970-01-01 (local wall time), or `None`
/// before 1900-01-01, which Excel cannot show as a date.
pub(super) fn excel_serial(days: f64) -> Option<f64> {
    let serial = days + EXCEL_SERIAL_1970;
    // Excel counts a 29 February 1900 that never was, so earlier serials are one day lower.
    let serial = if serial < EXCEL_SERIAL_1900_03_01 {
        serial - 1.0
    } else {
        serial
    };
    (serial >= 1.0).then_some(serial)
}

/// Writes a column's values from row 1 down (row 0 is the header); nulls stay empty cells.
/// Returns the widest value as shown, in characters.
pub(super) fn write_column(
    sheet: &mut Worksheet,
    col: ColNum,
    column: &Series,
    kind: CellKind,
) -> Result<usize, String> {
    match kind {
        CellKind::Number(style) => write_numbers(sheet, col, column, style),
        CellKind::Date => write_dates(sheet, col, column),
        CellKind::DateTime { date_only } => write_datetimes(sheet, col, column, date_only),
        CellKind::Duration => write_durations(sheet, col, column),
        CellKind::Boolean => write_booleans(sheet, col, column),
        CellKind::Text => write_text(sheet, col, column),
        CellKind::Empty => Ok(0),
    }
}

/// The non-null values of a column with the sheet row each goes to.
fn cell_rows<T>(values: impl Iterator<Item = Option<T>>) -> impl Iterator<Item = (RowNum, T)> {
    values
        .enumerate()
        .filter_map(|(i, value)| value.map(|v| (data_row(i), v)))
}

/// Sheet row of the `i`th value. Callers slice columns to the sheet's row limit first, so the
/// index always fits.
fn data_row(i: usize) -> RowNum {
    RowNum::try_from(i + 1).unwrap_or(RowNum::MAX)
}

fn write_numbers(
    sheet: &mut Worksheet,
    col: ColNum,
    column: &Series,
    style: NumberStyle,
) -> Result<usize, String> {
    let values = column.cast(&DataType::Float64).map_err(polars_err)?;
    let format = Format::new().set_num_format(style.num_format());
    let mut widest = 0;
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    // Excel has no NaN or infinity; an empty cell keeps the column numeric where the writer's
    // "NAN" text would not.
    let finite = values
        .f64()
        .map_err(polars_err)?
        .iter()
        .map(|v| v.filter(|v| v.is_finite()));
    for (row, value) in cell_rows(finite) {
        let cell = style.cell_value(value);
        sheet
            .write_number_with_format(row, col, cell, &format)
            .map_err(xlsx_err(row))?;
        if style == NumberStyle::General {
            widest = widest.max(style.shown_width(cell));
        }
        low = low.min(cell);
        high = high.max(cell);
    }
    // With a fixed number of places the widest value is the largest or the most negative one.
    if style != NumberStyle::General && low <= high {
        widest = style.shown_width(low).max(style.shown_width(high));
    }
    Ok(widest)
}

fn write_dates(sheet: &mut Worksheet, col: ColNum, column: &Series) -> Result<usize, String> {
    let days = column.cast(&DataType::Int32).map_err(polars_err)?;
    let format = Format::new().set_num_format(DATE_FORMAT);
    for (row, day) in cell_rows(days.i32().map_err(polars_err)?.iter()) {
        let serial = excel_serial(f64::from(day)).ok_or_else(|| before_1900(row))?;
        sheet
            .write_number_with_format(row, col, serial, &format)
            .map_err(xlsx_err(row))?;
    }
    Ok(DATE_FORMAT.len())
}

fn write_datetimes(
    sheet: &mut Worksheet,
    col: ColNum,
    column: &Series,
    date_only: bool,
) -> Result<usize, String> {
    let datetimes = column.datetime().map_err(polars_err)?;
    let per_day = units_per_day(datetimes.time_unit());
    let wall = local_wall_time(datetimes)?;
    let shown = if date_only {
        DATE_FORMAT
    } else {
        DATETIME_FORMAT
    };
    let format = Format::new().set_num_format(shown);
    for (row, instant) in cell_rows(wall.iter()) {
        // Whole days and the remainder apart, so the day count stays exact for any time unit.
        let days = instant.div_euclid(per_day) as f64
            + instant.rem_euclid(per_day) as f64 / per_day as f64;
        let serial = excel_serial(days).ok_or_else(|| before_1900(row))?;
        sheet
            .write_number_with_format(row, col, serial, &format)
            .map_err(xlsx_err(row))?;
    }
    Ok(shown.len())
}

/// Excel has no time zones: a zoned datetime is shown as the local clock read it, which is what
/// a council officer expects (13:00 in June, not 12:00 UTC).
fn local_wall_time(datetimes: &DatetimeChunked) -> Result<Int64Chunked, String> {
    if datetimes.time_zone().is_none() {
        return Ok(datetimes.physical().clone());
    }
    // Dropping a zone never meets an ambiguous or missing local time, so "raise" never fires.
    let ambiguous = StringChunked::from_slice(PlSmallStr::from_static("ambiguous"), &["raise"]);
    let naive =
        replace_time_zone(datetimes, None, &ambiguous, NonExistent::Raise).map_err(polars_err)?;
    Ok(naive.physical().clone())
}

fn write_durations(sheet: &mut Worksheet, col: ColNum, column: &Series) -> Result<usize, String> {
    let durations = column.duration().map_err(polars_err)?;
    let per_day = units_per_day(durations.time_unit()) as f64;
    let format = Format::new().set_num_format(DURATION_FORMAT);
    let mut widest = 0;
    for (row, length) in cell_rows(durations.physical().iter()) {
        let days = length as f64 / per_day;
        sheet
            .write_number_with_format(row, col, days, &format)
            .map_err(xlsx_err(row))?;
        // `[h]:mm:ss`: the hours in full, then ":mm:ss".
        widest = widest.max(format!("{}", (days * 24.0).trunc()).len() + ":mm:ss".len());
    }
    Ok(widest)
}

fn write_booleans(sheet: &mut Worksheet, col: ColNum, column: &Series) -> Result<usize, String> {
    for (row, value) in cell_rows(column.bool().map_err(polars_err)?.iter()) {
        sheet
            .write_boolean(row, col, value)
            .map_err(xlsx_err(row))?;
    }
    Ok("FALSE".len())
}

fn write_text(sheet: &mut Worksheet, col: ColNum, column: &Series) -> Result<usize, String> {
    // Categoricals become their labels; for a String column the cast is free.
    let text = column.cast(&DataType::String).map_err(polars_err)?;
    let mut widest = 0;
    for (row, value) in cell_rows(text.str().map_err(polars_err)?.iter()) {
        sheet.write_string(row, col, value).map_err(xlsx_err(row))?;
        let longest_line = value.lines().map(|l| l.chars().count()).max();
        widest = widest.max(longest_line.unwrap_or(0));
    }
    Ok(widest)
}

fn units_per_day(unit: TimeUnit) -> i64 {
    const SECONDS_PER_DAY: i64 = 86_400;
    match unit {
        TimeUnit::Milliseconds => SECONDS_PER_DAY * 1_000,
        TimeUnit::Microseconds => SECONDS_PER_DAY * 1_000_000,
        TimeUnit::Nanoseconds => SECONDS_PER_DAY * 1_000_000_000,
    }
}

fn polars_err(e: PolarsError) -> String {
    e.to_string()
}

/// Rows in messages are numbered as Excel shows them (header = row 1).
fn xlsx_err(row: RowNum) -> impl Fn(XlsxError) -> String {
    move |e| format!("row {}: {e}", u64::from(row) + 1)
}

fn before_1900(row: RowNum) -> String {
    format!(
        "row {}: a date before 1900, which Excel cannot show",
        u64::from(row) + 1
    )
}

/// `1,234,567`: thousands separated, as UK reports print them.
pub fn thousands(value: f64) -> String {
    let rounded = value.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if rounded < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}
