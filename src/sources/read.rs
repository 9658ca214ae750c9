//! Opening one export file as it came from the vendor: hashing it, decoding its text (UTF-8 with or
//! without BOM, Windows-1252) or reading its Excel sheet, into a lazy frame of raw String columns.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::SourceError;
use crate::config::{Encoding, FileFormat, SourceDef};
use crate::text::normalise_header;

/// Name of the row-number column added to every raw frame.
pub const ROW: &str = "__row";

/// One raw export file, opened but not yet mapped.
pub struct RawFile {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// How the bytes were read: `utf-8`, `utf-8 with BOM`, `windows-1252` or `xlsx`.
    pub encoding: &'static str,
    pub format: FileFormat,
    /// Headers exactly as in the file (trimmed), in file order.
    pub headers: Vec<String>,
    /// Raw String columns named as `headers`, plus [`ROW`]: the row as a spreadsheet shows it
    /// (the header is row 1, so the first record is row 2).
    pub frame: LazyFrame,
}

impl RawFile {
    /// The file's short id used for lineage: the first 16 hex digits of its SHA-256.
    pub fn file_id(&self) -> &str {
        &self.sha256[..16]
    }

    /// The file's header that matches a configured column name, ignoring case and spacing.
    pub fn column(&self, configured: &str) -> Option<&str> {
        let want = normalise_header(configured);
        self.headers
            .iter()
            .find(|h| normalise_header(h) == want)
            .map(String::as_str)
    }
}

/// SHA-256 of a file's bytes, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads, hashes and opens one file of a source.
pub fn open(path: &Path, source: &SourceDef) -> Result<RawFile, SourceError> {
    let bytes = std::fs::read(path).map_err(|e| SourceError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(SourceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let sha256 = sha256_hex(&bytes);
    let size = bytes.len() as u64;
    let format = FileFormat::of(path, source.format).ok_or_else(|| SourceError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let (encoding, headers, frame) = match format {
        FileFormat::Csv => open_csv(path, bytes, source)?,
        FileFormat::Xlsx => open_xlsx(path, bytes, source.sheet.as_deref())?,
    };
    Ok(RawFile {
        path: path.to_path_buf(),
        sha256,
        size,
        encoding,
        format,
        headers,
        frame,
    })
}

/// Decodes CSV bytes to UTF-8 text: a UTF-8 BOM is dropped, and bytes that are not valid UTF-8
/// are read as Windows-1252 (what Excel writes when it saves "CSV") unless UTF-8 was demanded.
fn decode(
    path: &Path,
    bytes: Vec<u8>,
    encoding: Encoding,
) -> Result<(&'static str, Vec<u8>), SourceError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut bytes = bytes;
    let mut bom = false;
    if encoding != Encoding::Windows1252 {
        if bytes.starts_with(BOM) {
            // A BOM promises UTF-8, but the rest is checked like any file: a BOM followed by
            // Windows-1252 text (rows appended by another program) is not UTF-8.
            bytes.drain(..BOM.len());
            bom = true;
        }
        match std::str::from_utf8(&bytes) {
            Ok(_) if bom => return Ok(("utf-8 with BOM", bytes)),
            Ok(_) => return Ok(("utf-8", bytes)),
            Err(e) if encoding == Encoding::Utf8 => {
                return Err(SourceError::Encoding {
                    path: path.to_path_buf(),
                    message: format!(
                        "not valid UTF-8 at byte {} (set encoding = \"windows-1252\" or \"auto\")",
                        e.valid_up_to() + if bom { BOM.len() } else { 0 }
                    ),
                })
            }
            Err(_) => {}
        }
    }
    // Decode into a string of the exact size: each byte above 0x7F becomes at most three bytes
    // of UTF-8 (the one-call decoder reserves three times the whole file).
    let high = bytes.iter().filter(|b| **b >= 0x80).count();
    let mut text = String::with_capacity(bytes.len() + 2 * high);
    // The decoder may still ask for more room near the end (it plans for the worst case of
    // what is left), so it is fed until the input is used up.
    let mut decoder = encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling();
    let mut rest: &[u8] = &bytes;
    loop {
        let (result, read, _) = decoder.decode_to_string(rest, &mut text, true);
        rest = &rest[read..];
        match result {
            encoding_rs::CoderResult::InputEmpty => break,
            encoding_rs::CoderResult::OutputFull => {
                let room = decoder.max_utf8_buffer_length(rest.len()).ok_or_else(|| {
                    SourceError::Encoding {
                        path: path.to_path_buf(),
                        message: "could not decode as Windows-1252".into(),
                    }
                })?;
                text.reserve(room);
            }
        }
    }
    Ok(("windows-1252", text.into_bytes()))
}

fn open_csv(
    path: &Path,
    bytes: Vec<u8>,
    source: &SourceDef,
) -> Result<(&'static str, Vec<String>, LazyFrame), SourceError> {
    let (encoding, text) = decode(path, bytes, source.encoding)?;
    let polars_err = |e: PolarsError| SourceError::Parse {
        path: path.to_path_buf(),
        message: crate::ingest::first_paragraph(&e.to_string()),
    };
    let buffers: Arc<[polars_buffer::Buffer<u8>]> = Arc::from(vec![text.into()]);
    let mut frame = LazyCsvReader::new_with_sources(ScanSources::Buffers(buffers))
        .with_has_header(true)
        .with_separator(source.delimiter)
        .with_infer_schema_length(Some(0))
        .with_truncate_ragged_lines(true)
        .with_missing_is_null(true)
        .with_row_index(Some(RowIndex {
            name: ROW.into(),
            offset: 2,
        }))
        .finish()
        .map_err(polars_err)?;
    let schema = frame.collect_schema().map_err(polars_err)?;
    let headers: Vec<String> = schema
        .iter_names()
        .filter(|n| n.as_str() != ROW)
        .map(|n| n.to_string())
        .collect();
    // Trim headers (" form name " -> "form name"); matching is also case-insensitive.
    let trimmed: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    let frame = frame.rename(&headers, &trimmed, true);
    Ok((encoding, trimmed, frame))
}

fn open_xlsx(
    path: &Path,
    bytes: Vec<u8>,
    sheet: Option<&str>,
) -> Result<(&'static str, Vec<String>, LazyFrame), SourceError> {
    let excel_err = |message: String| SourceError::Excel {
        path: path.to_path_buf(),
        message,
    };
    let mut workbook =
        calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| excel_err(e.to_string()))?;
    let names = workbook.sheet_names();
    let sheet_name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(s.trim()))
            .cloned()
            .ok_or_else(|| {
                excel_err(format!("has no sheet '{s}' (sheets: {})", names.join(", ")))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| excel_err("has no sheets".into()))?,
    };
    let range = workbook
        .worksheet_range(&sheet_name)
        .map_err(|e| excel_err(e.to_string()))?;
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .ok_or_else(|| SourceError::Empty {
            path: path.to_path_buf(),
        })?
        .iter()
        .map(|c| cell_text(c).unwrap_or_default().trim().to_string())
        .collect();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
    let mut row_numbers: Vec<IdxSize> = Vec::new();
    for (i, row) in rows.enumerate() {
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue; // a blank spreadsheet row is not a record
        }
        // Excel row numbers are 1-based and the header is the range's first row.
        row_numbers.push((first_row as usize + i + 2) as IdxSize);
        for (j, column) in columns.iter_mut().enumerate() {
            column.push(row.get(j).and_then(cell_text));
        }
    }
    let mut series: Vec<Column> = Vec::with_capacity(headers.len() + 1);
    series.push(Column::new(ROW.into(), row_numbers));
    for (name, values) in headers.iter().zip(columns) {
        series.push(Column::new(name.as_str().into(), values));
    }
    let df = DataFrame::new_infer_height(series).map_err(|e| excel_err(e.to_string()))?;
    Ok(("xlsx", headers, df.lazy()))
}

/// A cell as the text a CSV export of it would hold. Date cells become ISO dates
/// (`2023-04-03`, or `2023-04-03 09:30:00` when they carry a time; a time alone becomes `09:30:00`).
fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Float(f) => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", *f as i64)
        } else {
            f.to_string()
        }),
        Data::Int(i) => Some(i.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(dt) => {
            let naive = dt.as_datetime()?;
            let v = dt.as_f64();
            Some(if v < 1.0 {
                naive.format("%H:%M:%S").to_string()
            } else if v.fract() == 0.0 {
                naive.format("%Y-%m-%d").to_string()
            } else {
                naive.format("%Y-%m-%d %H:%M:%S").to_string()
            })
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(format!("#{e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_does_not_hide_windows_1252_text() -> Result<(), SourceError> {
        let bytes = b"\xEF\xBB\xBFa,b\ncaf\xE9,1\n".to_vec();
        let path = Path::new("x.csv");
        let (encoding, text) = decode(path, bytes.clone(), Encoding::Auto)?;
        assert_eq!(encoding, "windows-1252");
        assert_eq!(String::from_utf8_lossy(&text), "a,b\ncafé,1\n");
        let (encoding, text) = decode(path, b"\xEF\xBB\xBFa\n\xC3\xA9\n".to_vec(), Encoding::Auto)?;
        assert_eq!(
            (encoding, text.as_slice()),
            ("utf-8 with BOM", "a\né\n".as_bytes())
        );
        match decode(path, bytes, Encoding::Utf8) {
            Err(SourceError::Encoding { message, .. }) => assert!(message.contains("byte 10")),
            other => panic!("expected an encoding error, got {:?}", other.map(|r| r.0)),
        }
        Ok(())
    }
}
