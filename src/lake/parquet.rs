//! Writes one Parquet file of the lake a row group at a time, with polars' own Parquet encoder.
//! The one thing done differently from polars' writer is how a text column's dictionary is found.
//! polars estimates each text column's cardinality (hashing every string) and then builds the
//! dictionary (hashing every string again); at ten million rows that was about a tenth of
//! ingest's time. Here it is one pass: by the 16-byte string views where few are distinct (a
//! string of up to 12 bytes sits inside its view, and ingest's mapped columns gather longer
//! values from their distinct values, see `sources::parse::per_distinct`, so equal values share a
//! view), else by the text. A column with too many distinct values goes polars' way, and record
//! keys are written plain at once. The files are the same as polars writes: same types, same
//! encodings, readable by any Parquet reader.

use std::fs::File;

use polars::prelude::*;
use polars_arrow::array::{
    Array, ArrayRef, DictionaryArray, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray,
};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_parquet::read::{fallible_streaming_iterator, ParquetError};
use polars_parquet::write::{
    array_to_columns, get_dtype_encoding, to_parquet_schema, CompressedPage, CompressionOptions,
    Compressor, DynIter, DynStreamingIterator, Encoding, FileWriter, ParquetType, Version,
    WriteOptions, ZstdLevel,
};
use rayon::prelude::*;

/// A lake Parquet file being written: zstd pages for rows, LZ4 for sums (see
/// [`LakeWriter::sums`]), full statistics, one row group per chunk.
pub struct LakeWriter {
    writer: FileWriter<Tracked>,
    /// The operating system's error behind a failed write (polars' encoder reports only that
    /// its output failed), so a full disk is reported as one.
    os_error: std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>>,
    fields: Vec<ParquetType>,
    encodings: Vec<Vec<Encoding>>,
    /// Columns whose values are all (or nearly all) different: written plain straight away.
    unique: Vec<bool>,
    /// Unsigned columns, stored as the wider signed type Delta has (see `delta::stored_type`).
    widened: Vec<(PlSmallStr, DataType)>,
    options: WriteOptions,
}

impl LakeWriter {
    /// A writer of exports' rows, of `schema`; `unique_columns` are written without trying a
    /// dictionary. Level 1 zstd rather than zstd's default 3: less CPU, and on the 10M benchmark
    /// data the lake came out no larger (184 MB against 189 MB; the pages are small).
    pub fn new(file: File, schema: &Schema, unique_columns: &[&str]) -> PolarsResult<LakeWriter> {
        let zstd = CompressionOptions::Zstd(ZstdLevel::try_new(1).ok());
        Self::compressed(file, schema, unique_columns, zstd)
    }

    /// A writer of small files every run reads (monthly sums, the manifest), with LZ4 pages:
    /// zstd sets up a context for every page it decompresses, and each set-up asks the CPU for
    /// its features, which a virtual machine answers slowly (about 3,200 pages, 50 ms, in a
    /// monthly run at 10M). The files come out about as small.
    pub fn sums(file: File, schema: &Schema) -> PolarsResult<LakeWriter> {
        Self::compressed(file, schema, &[], CompressionOptions::Lz4Raw)
    }

    fn compressed(
        file: File,
        schema: &Schema,
        unique_columns: &[&str],
        compression: CompressionOptions,
    ) -> PolarsResult<LakeWriter> {
        let widened: Vec<(PlSmallStr, DataType)> = schema
            .iter()
            .filter_map(|(name, dtype)| super::delta::stored_type(dtype).map(|t| (name.clone(), t)))
            .collect();
        let mut stored = schema.clone();
        for (name, dtype) in &widened {
            stored.set_dtype(name, dtype.clone());
        }
        let schema = &stored;
        let arrow = schema.to_arrow(CompatLevel::newest());
        let options = WriteOptions {
            statistics: StatisticsOptions::full(),
            compression,
            version: Version::V1,
            data_page_size: None,
        };
        let parquet = to_parquet_schema(&arrow)?;
        let fields = parquet.fields().to_vec();
        let encodings = arrow
            .iter_values()
            .map(|f| get_dtype_encoding(&f.dtype))
            .collect();
        let unique = schema
            .iter_names()
            .map(|n| unique_columns.contains(&n.as_str()))
            .collect();
        let os_error = std::sync::Arc::new(std::sync::Mutex::new(None));
        let tracked = Tracked {
            file,
            error: os_error.clone(),
        };
        let writer = FileWriter::new_with_parquet_schema(tracked, arrow, parquet, options);
        Ok(LakeWriter {
            writer,
            fields,
            encodings,
            unique,
            widened,
            options,
            os_error,
        })
    }

    /// Writes a frame's rows, each chunk as one row group (rechunk first for a single one).
    pub fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        let widened;
        let df = if self.widened.is_empty() {
            df
        } else {
            let mut copy = df.clone();
            for (name, dtype) in &self.widened {
                let column = copy.column(name)?.cast(dtype)?;
                copy.with_column(column)?;
            }
            widened = copy;
            &widened
        };
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            if batch.is_empty() {
                continue;
            }
            let options = self.options;
            let columns: Vec<Vec<Vec<CompressedPage>>> = batch
                .columns()
                .par_iter()
                .zip(&self.fields)
                .zip(&self.encodings)
                .zip(&self.unique)
                .map(|(((array, field), encodings), unique)| {
                    column_pages(array, field, encodings, *unique, options)
                })
                .collect::<PolarsResult<_>>()?;
            let row_group = DynIter::new(columns.iter().flatten().map(|pages| {
                Ok(DynStreamingIterator::new(
                    fallible_streaming_iterator::convert(pages.iter().map(PolarsResult::Ok)),
                ))
            }));
            self.writer
                .write(batch.len() as u64, row_group)
                .map_err(|e| self.with_os_error(e))?;
        }
        Ok(())
    }

    /// Writes the footer; returns the file's size in bytes.
    pub fn finish(mut self) -> PolarsResult<u64> {
        let os_error = self.os_error.clone();
        self.writer
            .end(None)
            .map_err(|e| with_os_error(&os_error, e))
    }
}

impl LakeWriter {
    fn with_os_error(&self, e: PolarsError) -> PolarsError {
        with_os_error(&self.os_error, e)
    }
}

/// The OS error a write failed with, if one was seen, else `e`.
fn with_os_error(seen: &std::sync::Mutex<Option<std::io::Error>>, e: PolarsError) -> PolarsError {
    match seen.lock().ok().and_then(|mut s| s.take()) {
        Some(io) => PolarsError::from(io),
        None => e,
    }
}

/// The output file, remembering the last error the operating system gave.
struct Tracked {
    file: File,
    error: std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>>,
}

impl Tracked {
    fn keep<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            if let Ok(mut slot) = self.error.lock() {
                *slot = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        }
        r
    }
}

impl std::io::Write for Tracked {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.file.write(buf);
        self.keep(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.file.flush();
        self.keep(r)
    }
}

/// One column of a row group, encoded and compressed (one page list per Parquet leaf column).
fn column_pages(
    array: &ArrayRef,
    field: &ParquetType,
    encodings: &[Encoding],
    unique: bool,
    options: WriteOptions,
) -> PolarsResult<Vec<Vec<CompressedPage>>> {
    let text = array.as_any().downcast_ref::<Utf8ViewArray>();
    let encoded = match text {
        Some(_) if unique => array_to_columns(array, field.clone(), options, &[Encoding::Plain])?,
        Some(text) => match text_dictionary(text)? {
            Some(dict) => array_to_columns(dict.boxed(), field.clone(), options, encodings)?,
            None => array_to_columns(array, field.clone(), options, encodings)?,
        },
        None => array_to_columns(array, field.clone(), options, encodings)?,
    };
    encoded
        .into_iter()
        .map(|pages| {
            let pages = pages.map(|page| {
                page.map_err(|e| ParquetError::FeatureNotSupported(format!("reraised: {e}")))
            });
            Compressor::new_from_vec(pages, options.compression, vec![])
                .collect::<Result<Vec<_>, ParquetError>>()
                .map_err(PolarsError::from)
        })
        .collect()
}

/// Rows looked at before deciding a column has too many distinct values to be worth it.
const PROBE_ROWS: usize = 2048;

/// The column as a dictionary array, or `None` when it has too many distinct values for a
/// dictionary to pay (then polars' own estimate decides, as for any column). Distinct values are
/// found by view where few views are distinct (short strings, or gathered ones), else by text.
fn text_dictionary(text: &Utf8ViewArray) -> PolarsResult<Option<DictionaryArray<u32>>> {
    let views = text.views();
    let by_view = distinct_rows(text, |row| views[row].as_u128());
    let (mut keys, first_rows) = match by_view {
        Some(found) => found,
        None => match distinct_rows(text, |row| text.value(row)) {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    if first_rows.is_empty() {
        return Ok(None);
    }
    // Equal strings can still have different views (longer ones at different places): one
    // dictionary entry each string, so the dictionary is exact.
    let mut by_text: PlHashMap<&str, u32> = PlHashMap::default();
    let mut values = MutableBinaryViewArray::<str>::with_capacity(first_rows.len());
    let mut remap: Vec<u32> = Vec::with_capacity(first_rows.len());
    for &row in &first_rows {
        let value = text.value(row);
        let next = by_text.len() as u32;
        let id = *by_text.entry(value).or_insert_with(|| {
            values.push_value(value);
            next
        });
        remap.push(id);
    }
    if by_text.len() < first_rows.len() {
        for key in keys.iter_mut() {
            *key = remap[*key as usize];
        }
    }
    let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), text.validity().cloned());
    let values: Utf8ViewArray = values.into();
    let dtype = ArrowDataType::Dictionary(
        IntegerType::UInt32,
        Box::new(ArrowDataType::Utf8View),
        false,
    );
    DictionaryArray::try_new(dtype, keys, values.boxed()).map(Some)
}

/// Each row's index among the distinct `key_of(row)` of the valid rows (0 for nulls) and the row
/// where each first appears; `None` once more than a quarter of the rows (polars writes plain
/// above three quarters distinct; distinct keys can only outnumber distinct values) or of the
/// first [`PROBE_ROWS`] rows are distinct.
fn distinct_rows<K: std::hash::Hash + Eq>(
    text: &Utf8ViewArray,
    key_of: impl Fn(usize) -> K,
) -> Option<(Vec<u32>, Vec<usize>)> {
    let len = text.len();
    let limit = len / 4;
    let validity = text.validity();
    let mut ids: PlHashMap<K, u32> = PlHashMap::default();
    let mut first_rows: Vec<usize> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(len);
    for row in 0..len {
        if validity.is_some_and(|v| !v.get_bit(row)) {
            keys.push(0);
            continue;
        }
        let next = first_rows.len() as u32;
        let id = *ids.entry(key_of(row)).or_insert_with(|| {
            first_rows.push(row);
            next
        });
        keys.push(id);
        if first_rows.len() > limit || (row == PROBE_ROWS && first_rows.len() > PROBE_ROWS / 4) {
            return None;
        }
    }
    Some((keys, first_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `df` as it is chunked (a row group per chunk) and reads it back, with the names of
    /// the columns written with a dictionary in the first row group.
    fn write_and_read(
        df: &DataFrame,
        unique: &[&str],
    ) -> PolarsResult<(DataFrame, Vec<String>, usize)> {
        let dir = tempfile::tempdir().map_err(|e| polars_err!(ComputeError: "{e}"))?;
        let path = dir.path().join("t.parquet");
        let mut writer = LakeWriter::new(File::create(&path)?, df.schema(), unique)?;
        writer.write(df)?;
        writer.finish()?;
        let meta = polars_parquet::read::read_metadata(&mut File::open(&path)?)?;
        let with_dictionary = meta.row_groups[0]
            .parquet_columns()
            .iter()
            .filter(|c| c.dictionary_page_offset().is_some())
            .map(|c| c.descriptor().path_in_schema.join("."))
            .collect();
        let back = ParquetReader::new(File::open(&path)?).finish()?;
        Ok((back, with_dictionary, meta.row_groups.len()))
    }

    #[test]
    fn text_columns_come_back_as_written_whatever_their_views() -> PolarsResult<()> {
        // Long values built row by row (each its own view), long values gathered from a few
        // distinct ones (shared views), short inlined ones, nulls, an all-null column, unique keys.
        let n = 5000;
        let long_rows: Vec<String> = (0..n)
            .map(|i| format!("Housing, Revenues & Benefits {}", i % 3))
            .collect();
        let distinct = Series::new("d".into(), ["Council Tax enquiries", "Missed bin report"]);
        let idx = IdxCa::from_vec("".into(), (0..n as IdxSize).map(|i| i % 2).collect());
        let gathered = distinct.take(&idx)?.with_name("gathered".into());
        let short: Vec<Option<&str>> = (0..n)
            .map(|i| {
                if i % 7 == 0 {
                    None
                } else {
                    Some(["web", "telephone"][i % 2])
                }
            })
            .collect();
        let keys: Vec<String> = (0..n).map(|i| format!("C{i:012}-long-enough")).collect();
        let df = DataFrame::new_infer_height(vec![
            Column::new("long_rows".into(), long_rows),
            gathered.into_column(),
            Column::new("short".into(), short),
            Column::full_null("none".into(), n, &DataType::String),
            Column::new("record_key".into(), keys),
            Column::new("n".into(), (0..n as i64).collect::<Vec<_>>()),
        ])?;
        let (back, with_dictionary, row_groups) = write_and_read(&df, &["record_key"])?;
        assert!(back.equals_missing(&df));
        assert_eq!(row_groups, 1);
        for text in ["long_rows", "gathered", "short"] {
            assert!(
                with_dictionary.iter().any(|c| c == text),
                "{text}: {with_dictionary:?}"
            );
        }
        assert!(!with_dictionary.iter().any(|c| c == "record_key"));
        // A frame of two chunks: two row groups, the same rows.
        let two = df.vstack(&df)?;
        let (back, _, row_groups) = write_and_read(&two, &[])?;
        assert_eq!(row_groups, 2);
        assert!(back.equals_missing(&two));
        Ok(())
    }

    #[test]
    fn few_distinct_views_make_an_exact_dictionary_and_many_make_none() -> PolarsResult<()> {
        let long = "Housing, Revenues & Benefits";
        // Built row by row: every row its own view, so found by text: one entry.
        let built = StringChunked::from_iter_values("b".into(), (0..100).map(|_| long));
        let built = built.rechunk();
        let arrays: Vec<&Utf8ViewArray> = built.downcast_iter().collect();
        let dict = text_dictionary(arrays[0])?
            .ok_or_else(|| polars_err!(ComputeError: "no dictionary"))?;
        assert_eq!(dict.values().len(), 1);
        // All different: none.
        let keys = StringChunked::from_iter_values("k".into(), (0..100).map(|i| format!("{i}")));
        let keys = keys.rechunk();
        let arrays: Vec<&Utf8ViewArray> = keys.downcast_iter().collect();
        assert!(text_dictionary(arrays[0])?.is_none());
        // The same long string twice among the distinct values, gathered: one entry for it.
        let distinct = StringChunked::from_iter_values("d".into(), [long, long, "web"].into_iter());
        let idx = IdxCa::from_vec("".into(), (0..400).map(|i| i % 3).collect());
        let gathered = distinct.take(&idx)?;
        let gathered = gathered.rechunk();
        let arrays: Vec<&Utf8ViewArray> = gathered.downcast_iter().collect();
        let dict = text_dictionary(arrays[0])?
            .ok_or_else(|| polars_err!(ComputeError: "no dictionary"))?;
        assert_eq!(dict.values().len(), 2);
        let keys: Vec<u32> = dict.keys().values().iter().copied().collect();
        assert_eq!(&keys[..6], &[0, 0, 1, 0, 0, 1]);
        Ok(())
    }
}
