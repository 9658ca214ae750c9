//! Sniffing an export nobody has mapped yet (`cex init`): its encoding, delimiter and header,
//! and for each column what it holds: nothing, numbers, dates or times (with the strftime format
//! that reads every value), or text, with its distinct values when there are few. Reads a sample
//! (the first [`SAMPLE_BYTES`] of the file), never the lake.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::SourceError;

/// How much of a file is looked at.
pub const SAMPLE_BYTES: usize = 8 << 20;
/// A text column with at most this many distinct values, some repeated, is listed value by value
/// (a category, a channel, an outcome); more, or all different, is free text or a reference.
pub const MAX_DISTINCT: usize = 60;

/// Timestamp formats tried, most specific first (UK day-first before US month-first).
const TIMESTAMPS: [&str; 12] = [
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
];
const DATES: [&str; 6] = [
    "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d",
];
const TIMES: [&str; 3] = ["%H:%M:%S", "%H:%M", "%I:%M %p"];

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnKind {
    Empty,
    Number,
    Timestamp(String),
    Date(String),
    Time(String),
    Text,
}

/// One column of a sniffed export.
#[derive(Debug, Clone)]
pub struct ColumnSniff {
    pub name: String,
    /// Non-blank values in the sample.
    pub filled: usize,
    pub kind: ColumnKind,
    /// (value, rows) for a text column with few distinct values, most frequent first.
    pub values: Option<Vec<(String, usize)>>,
    /// Numbers written with a decimal comma: every value one (`12,5`, `1.234,5`, `7`), and at
    /// least one with a comma that groups no thousands.
    pub decimal_comma: bool,
}

/// A sniffed export.
#[derive(Debug, Clone)]
pub struct Sniffed {
    pub path: PathBuf,
    /// `utf-8` or `windows-1252`.
    pub encoding: &'static str,
    pub delimiter: u8,
    /// Rows in the sample.
    pub rows: usize,
    /// Whether the sample is the whole file.
    pub whole: bool,
    pub columns: Vec<ColumnSniff>,
    /// The sheet read, for a workbook (its first).
    pub sheet: Option<String>,
}

/// Sniffs one export: a CSV file, or a workbook's first sheet.
pub fn sniff(path: &Path) -> Result<Sniffed, SourceError> {
    let io = |e: std::io::Error| SourceError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if crate::config::FileFormat::of(path, None) == Some(crate::config::FileFormat::Xlsx) {
        return sniff_workbook(path);
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    file.take(SAMPLE_BYTES as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let whole = size as usize <= bytes.len();
    if !whole {
        // Whole lines only.
        let end = bytes
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap_or(bytes.len());
        bytes.truncate(end + 1);
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let (text, encoding) = if let Some((utf16, kind)) = super::read::utf16_of(body) {
        // As ingest reads it: by the byte order mark, whatever the pipeline's `encoding` says.
        // A sample cut after a line end's first byte: whole characters only.
        let whole_chars = &body[..body.len() & !1];
        (
            utf16.decode_with_bom_removal(whole_chars).0.into_owned(),
            kind,
        )
    } else {
        match std::str::from_utf8(body) {
            Ok(t) => (t.to_string(), "utf-8"),
            Err(_) => (
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(body)
                    .0
                    .into_owned(),
                "windows-1252",
            ),
        }
    };
    if text.trim().is_empty() {
        return Err(SourceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let delimiter = likely_separator(&text);
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_ignore_errors(true)
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(delimiter)
                .with_truncate_ragged_lines(true),
        )
        .into_reader_with_file_handle(std::io::Cursor::new(text.into_bytes()))
        .finish()
        .map_err(|e| SourceError::Parse {
            path: path.to_path_buf(),
            message: crate::redact::parser_message(&e.to_string()),
        })?;
    Ok(Sniffed {
        path: path.to_path_buf(),
        encoding,
        delimiter,
        rows: df.height(),
        whole,
        columns: df.columns().iter().map(sniff_column).collect(),
        sheet: None,
    })
}

/// Sniffs a workbook's first sheet, its cells read as cex reads them (a date cell as an ISO
/// date), so the formats guessed are the ones ingest will meet.
fn sniff_workbook(path: &Path) -> Result<Sniffed, SourceError> {
    let bytes = std::fs::read(path).map_err(|e| SourceError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let (sheet, headers, frame) = super::read::open_xlsx(path, bytes, None)?;
    let df = frame
        .select(
            headers
                .names
                .iter()
                .map(|h| col(h.as_str()))
                .collect::<Vec<_>>(),
        )
        .collect()
        .map_err(|e| SourceError::Excel {
            path: path.to_path_buf(),
            message: crate::redact::parser_message(&e.to_string()),
        })?;
    if df.height() == 0 {
        return Err(SourceError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(Sniffed {
        path: path.to_path_buf(),
        encoding: "utf-8",
        delimiter: b',',
        rows: df.height(),
        whole: true,
        columns: df.columns().iter().map(sniff_column).collect(),
        sheet: Some(sheet),
    })
}

/// One text column: its distinct non-blank values and how often each occurs, described.
fn sniff_column(column: &Column) -> ColumnSniff {
    let name = column.name().trim().to_string();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    if let Ok(text) = column.str() {
        for v in text.iter().flatten() {
            let v = v.trim();
            if !v.is_empty() {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
    }
    describe(name, counts)
}

/// A column's kind from its distinct values (and how often each occurs).
fn describe(name: String, counts: BTreeMap<String, usize>) -> ColumnSniff {
    let filled = counts.values().sum();
    let distinct: Vec<&str> = counts.keys().map(String::as_str).collect();
    let all = |f: &dyn Fn(&str) -> bool| !distinct.is_empty() && distinct.iter().all(|v| f(v));
    let kind = if distinct.is_empty() {
        ColumnKind::Empty
    } else if all(&|v| v.replace(',', "").parse::<f64>().is_ok()) {
        ColumnKind::Number
    } else if let Some(f) = first_fit(&TIMESTAMPS, &distinct, timestamp_fits) {
        ColumnKind::Timestamp(f)
    } else if let Some(f) = first_fit(&DATES, &distinct, |f, v| {
        chrono::NaiveDate::parse_from_str(v, f).is_ok()
    }) {
        ColumnKind::Date(f)
    } else if let Some(f) = first_fit(&TIMES, &distinct, |f, v| {
        chrono::NaiveTime::parse_from_str(v, f).is_ok()
    }) {
        ColumnKind::Time(f)
    } else {
        ColumnKind::Text
    };
    let decimal_comma = all(&|v| DECIMAL_COMMA.as_ref().is_some_and(|r| r.is_match(v)))
        && distinct.iter().any(|v| {
            v.rsplit_once(',')
                .is_some_and(|(_, tail)| tail.len() != 3 || v.contains('.'))
        });
    // Every value different (beyond a handful of rows): a reference, not a category.
    let unique = counts.len() == filled && filled > 10;
    let values = (kind == ColumnKind::Text && counts.len() <= MAX_DISTINCT && !unique).then(|| {
        let mut v: Vec<(String, usize)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    });
    ColumnSniff {
        name,
        filled,
        kind,
        values,
        decimal_comma,
    }
}

/// A number as written with a decimal comma: dots, if any, between thousands. `None` only if
/// the fixed pattern did not compile (a test proves it does): then no column is taken for one.
static DECIMAL_COMMA: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$").ok());

fn timestamp_fits(format: &str, value: &str) -> bool {
    if format.ends_with("%z") {
        let v = value.strip_suffix('Z').map(|v| format!("{v}+0000"));
        chrono::DateTime::parse_from_str(v.as_deref().unwrap_or(value), format).is_ok()
    } else {
        chrono::NaiveDateTime::parse_from_str(value, format).is_ok()
    }
}

/// The first format that reads every value.
fn first_fit(
    formats: &[&str],
    values: &[&str],
    fits: impl Fn(&str, &str) -> bool,
) -> Option<String> {
    formats
        .iter()
        .find(|f| values.iter().all(|v| fits(f, v)))
        .map(|f| f.to_string())
}

/// The separator that splits the first lines into the same number of fields, the most of them
/// (quotes respected); a comma when none does.
fn likely_separator(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let fields = |line: &str, sep: u8| {
        let mut quoted = false;
        let mut n = 1;
        for b in line.bytes() {
            if b == b'"' {
                quoted = !quoted;
            } else if b == sep && !quoted {
                n += 1;
            }
        }
        n
    };
    [b',', b';', b'\t', b'|']
        .into_iter()
        .filter_map(|sep| {
            let first = fields(lines.first()?, sep);
            (first > 1 && lines.iter().all(|l| fields(l, sep) == first)).then_some((sep, first))
        })
        .max_by_key(|(_, n)| *n)
        .map(|(sep, _)| sep)
        .unwrap_or(b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_of_decimal_commas_is_told_from_one_of_thousands_separators() {
        let column = |values: &[&str]| {
            let counts = values.iter().map(|v| (v.to_string(), 1)).collect();
            describe("n".into(), counts).decimal_comma
        };
        assert!(DECIMAL_COMMA.is_some());
        assert!(column(&["12,5", "7", "1.234,25"]));
        assert!(column(&["1.234", "0,5"]));
        // Commas between thousands, or decimal points: not decimal commas.
        assert!(!column(&["1,234", "12"]));
        assert!(!column(&["1,234.5", "12,5"]));
        assert!(!column(&["12.5", "7"]));
        assert!(!column(&["Housing", "12,5"]));
    }

    #[test]
    fn a_semicolon_export_in_windows_1252_is_read_and_described(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("cases.csv");
        let mut bytes = b"Ref;Created;Channel;Type;Wait (s)\n".to_vec();
        for (i, (ch, t)) in [("Phone", "Council Tax"), ("Web", "Bins"), ("Phone", "Bins")]
            .iter()
            .enumerate()
        {
            bytes.extend(
                format!("R{i};0{}/04/2024 09:1{i};{ch};{t};{}\n", i + 1, 10 * i).as_bytes(),
            );
        }
        bytes.extend(b"R9;13/04/2024 10:00;Caf\xe9;\"Parking; permits\";5\n");
        std::fs::write(&path, bytes)?;
        let s = sniff(&path)?;
        assert_eq!((s.encoding, s.delimiter, s.rows), ("windows-1252", b';', 4));
        let kind = |n: &str| {
            s.columns
                .iter()
                .find(|c| c.name == n)
                .map(|c| c.kind.clone())
        };
        assert_eq!(
            kind("Created"),
            Some(ColumnKind::Timestamp("%d/%m/%Y %H:%M".into()))
        );
        assert_eq!(kind("Wait (s)"), Some(ColumnKind::Number));
        let channel = s
            .columns
            .iter()
            .find(|c| c.name == "Channel")
            .ok_or("channel")?;
        assert_eq!(
            channel.values.as_deref(),
            Some(
                &[
                    ("Phone".to_string(), 2),
                    ("Café".to_string(), 1),
                    ("Web".to_string(), 1)
                ][..]
            )
        );
        Ok(())
    }
}
