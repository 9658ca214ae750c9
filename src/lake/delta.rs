//! Delta Lake glue: one table's log read and written through delta-rs (no DataFusion), the polars
//! types mapped onto Delta's, and the statistics of an add action read from a file's footer. Knows
//! nothing of contacts, responses or the manifest; the lake (`super`) decides what goes where.
//!
//! delta-rs is asynchronous; cex is not. Each call runs on a small current-thread runtime made for
//! it (local files only: the object store does blocking file I/O on tokio's blocking pool).

use std::collections::HashMap;
use std::fs::File;
use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};

use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{
    Action, Add, DataType as DeltaType, MetadataExt, MetadataValue, StructField, StructType,
    Transaction as AppTransaction,
};
use deltalake::parquet::basic::{LogicalType, TimeUnit};
use deltalake::parquet::file::reader::{FileReader, SerializedFileReader};
use deltalake::parquet::file::statistics::Statistics;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::{DeltaTable, DeltaTableBuilder};
use polars::prelude::{DataType, Schema};
use serde_json::{json, Map, Value};

use super::LakeError;

/// Field metadata key marking a column stored wider and signed because Delta has no unsigned
/// integers: the value is the polars type cex reads it back as (`uint32`, `uint64`, ...).
pub const UNSIGNED_KEY: &str = "cex.unsigned";

fn delta_err(path: &Path) -> impl Fn(deltalake::DeltaTableError) -> LakeError + '_ {
    move |e| LakeError::Data {
        path: path.to_path_buf(),
        message: format!("Delta table: {e}"),
    }
}

/// Runs one delta-rs future to completion.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, LakeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LakeError::Io {
            path: PathBuf::from("."),
            message: format!("cannot start the Delta runtime: {e}"),
        })?;
    Ok(runtime.block_on(future))
}

/// Whether a folder holds a Delta table (a `_delta_log` with at least one commit).
pub fn is_table(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("_delta_log"))
        .map(|mut entries| {
            entries.any(|e| {
                e.is_ok_and(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.ends_with(".json") && !name.starts_with('_')
                })
            })
        })
        .unwrap_or(false)
}

/// The latest committed version of the table in `dir`, from the names in its log alone (a
/// commit is published whole, as `<version>.json`, in one step); `None` when there is none.
/// What a writer needs to know whether a run committed after the manifest, without loading the
/// table.
pub fn latest_commit(dir: &Path) -> Result<Option<i64>, LakeError> {
    let log = dir.join("_delta_log");
    let entries = match std::fs::read_dir(&log) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(super::io_err(&log)(e)),
    };
    let mut latest = None;
    for entry in entries {
        let entry = entry.map_err(super::io_err(&log))?;
        let name = entry.file_name();
        let version = name
            .to_str()
            .and_then(|n| n.strip_suffix(".json"))
            .filter(|n| n.len() == 20 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i64>().ok());
        latest = latest.max(version);
    }
    Ok(latest)
}

fn table_url(dir: &Path) -> Result<url::Url, LakeError> {
    let abs = std::path::absolute(dir).map_err(super::io_err(dir))?;
    url::Url::from_directory_path(&abs).map_err(|_| LakeError::Io {
        path: dir.to_path_buf(),
        message: "not a path a Delta table can live at".into(),
    })
}

/// The table in `dir` at `version` (the latest when `None`); `None` when there is no table.
pub fn load(dir: &Path, version: Option<i64>) -> Result<Option<DeltaTable>, LakeError> {
    if !is_table(dir) {
        return Ok(None);
    }
    let mut builder = DeltaTableBuilder::from_url(table_url(dir)?).map_err(delta_err(dir))?;
    if let Some(v) = version {
        let v = u64::try_from(v).map_err(|_| LakeError::Data {
            path: dir.to_path_buf(),
            message: format!("no version {v}: versions start at 0"),
        })?;
        builder = builder.with_version(v);
    }
    block_on(builder.load())?.map(Some).map_err(delta_err(dir))
}

/// The table's version.
pub fn version(table: &DeltaTable, dir: &Path) -> Result<i64, LakeError> {
    let v = table.version().ok_or_else(|| LakeError::Data {
        path: dir.to_path_buf(),
        message: "Delta table has no version".into(),
    })?;
    i64::try_from(v).map_err(|_| LakeError::Data {
        path: dir.to_path_buf(),
        message: "Delta version out of range".into(),
    })
}

/// One data file of a table's snapshot.
#[derive(Debug, Clone)]
pub struct DataFile {
    pub path: PathBuf,
    pub partition: HashMap<String, Option<String>>,
    /// Bytes and modification time (milliseconds since 1970), as the add action records them.
    pub size: i64,
    pub modified: i64,
}

/// The data files of the table's loaded snapshot, sorted by path.
pub fn files(table: &DeltaTable, dir: &Path) -> Result<Vec<DataFile>, LakeError> {
    let snapshot = table.snapshot().map_err(delta_err(dir))?;
    let mut out: Vec<DataFile> = snapshot
        .log_data()
        .iter()
        .map(|f| DataFile {
            path: dir.join(f.path().as_ref()),
            partition: f.partition_values_map(),
            size: f.size(),
            modified: f.modification_time(),
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Columns stored signed that cex reads back unsigned, from the table's schema.
pub fn unsigned_columns(
    table: &DeltaTable,
    dir: &Path,
) -> Result<Vec<(String, DataType)>, LakeError> {
    let snapshot = table.snapshot().map_err(delta_err(dir))?;
    Ok(snapshot
        .schema()
        .fields()
        .filter_map(|f| match f.metadata.get(UNSIGNED_KEY) {
            Some(MetadataValue::String(t)) => unsigned_type(t).map(|d| (f.name().clone(), d)),
            _ => None,
        })
        .collect())
}

fn unsigned_type(name: &str) -> Option<DataType> {
    match name {
        "uint8" => Some(DataType::UInt8),
        "uint16" => Some(DataType::UInt16),
        "uint32" => Some(DataType::UInt32),
        "uint64" => Some(DataType::UInt64),
        _ => None,
    }
}

/// The signed type an unsigned column is stored as (`None`: stored as it is).
pub fn stored_type(dtype: &DataType) -> Option<DataType> {
    match dtype {
        DataType::UInt8 => Some(DataType::Int16),
        DataType::UInt16 => Some(DataType::Int32),
        DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        _ => None,
    }
}

/// The Delta schema of frames of `schema` (unsigned columns stored wider, marked to read back).
pub fn delta_fields(schema: &Schema) -> Result<Vec<StructField>, String> {
    schema
        .iter()
        .map(|(name, dtype)| {
            let (delta, unsigned) = match dtype {
                DataType::String => (DeltaType::STRING, None),
                DataType::Boolean => (DeltaType::BOOLEAN, None),
                DataType::Int8 => (DeltaType::BYTE, None),
                DataType::Int16 => (DeltaType::SHORT, None),
                DataType::Int32 => (DeltaType::INTEGER, None),
                DataType::Int64 => (DeltaType::LONG, None),
                DataType::UInt8 => (DeltaType::SHORT, Some("uint8")),
                DataType::UInt16 => (DeltaType::INTEGER, Some("uint16")),
                DataType::UInt32 => (DeltaType::LONG, Some("uint32")),
                DataType::UInt64 => (DeltaType::LONG, Some("uint64")),
                DataType::Float32 => (DeltaType::FLOAT, None),
                DataType::Float64 => (DeltaType::DOUBLE, None),
                DataType::Date => (DeltaType::DATE, None),
                DataType::Datetime(_, Some(_)) => (DeltaType::TIMESTAMP, None),
                other => return Err(format!("column {name}: type {other} has no Delta type")),
            };
            let field = StructField::new(name.as_str(), delta, true);
            Ok(match unsigned {
                Some(u) => field.with_metadata([(UNSIGNED_KEY, MetadataValue::String(u.into()))]),
                None => field,
            })
        })
        .collect()
}

/// An add action for a complete Parquet file at `rel` (relative to the table folder), with its
/// row count, null counts and the minimum and maximum of its number, date and time columns read
/// from the file's footer (text columns get no bounds; partition columns no statistics).
pub fn add_action(
    table_dir: &Path,
    rel: &str,
    partition: HashMap<String, Option<String>>,
) -> Result<Add, LakeError> {
    let path = table_dir.join(rel);
    let file = File::open(&path).map_err(super::io_err(&path))?;
    let meta = file.metadata().map_err(super::io_err(&path))?;
    let reader = SerializedFileReader::new(file).map_err(|e| LakeError::Data {
        path: path.clone(),
        message: format!("reading the Parquet footer: {e}"),
    })?;
    let stats = footer_stats(reader.metadata(), &partition);
    let modification_time = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Ok(Add {
        path: rel.to_string(),
        partition_values: partition,
        size: meta.len() as i64,
        modification_time,
        data_change: true,
        stats: Some(stats.to_string()),
        ..Default::default()
    })
}

/// Delta statistics (`numRecords`, `nullCount`, `minValues`, `maxValues`) from a footer.
fn footer_stats(
    meta: &deltalake::parquet::file::metadata::ParquetMetaData,
    partition: &HashMap<String, Option<String>>,
) -> Value {
    let mut nulls: Map<String, Value> = Map::new();
    let mut mins: HashMap<String, Bound> = HashMap::new();
    let mut maxs: HashMap<String, Bound> = HashMap::new();
    let mut complete: HashMap<String, bool> = HashMap::new();
    for rg in meta.row_groups() {
        for cc in rg.columns() {
            let descr = cc.column_descr();
            let name = descr.name().to_string();
            if partition.contains_key(&name) {
                continue;
            }
            let Some(stats) = cc.statistics() else {
                complete.insert(name, false);
                continue;
            };
            let n = nulls.entry(name.clone()).or_insert(json!(0));
            let before = n.as_u64().unwrap_or(0);
            *n = json!(before + stats.null_count_opt().unwrap_or(0));
            let (lo, hi) = bounds(stats, descr.logical_type_ref());
            let ok = complete.entry(name.clone()).or_insert(true);
            match (lo, hi) {
                (Some(lo), Some(hi)) => {
                    merge(&mut mins, &name, lo, true);
                    merge(&mut maxs, &name, hi, false);
                }
                // A row group of nulls only: no bounds, and no effect on the file's bounds.
                _ if stats.null_count_opt() == Some(rg.num_rows() as u64) => {}
                _ => *ok = false,
            }
        }
    }
    let values = |m: HashMap<String, Bound>| -> Map<String, Value> {
        m.into_iter()
            .filter(|(k, _)| complete.get(k).copied().unwrap_or(false))
            .map(|(k, v)| (k, v.json()))
            .collect()
    };
    json!({
        "numRecords": meta.file_metadata().num_rows(),
        "minValues": values(mins),
        "maxValues": values(maxs),
        "nullCount": nulls,
    })
}

/// A column bound as read from Parquet statistics, with how Delta writes it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Bound {
    Int(i64),
    Float(f64),
    Date(i32),
    /// Microseconds since 1970 (UTC).
    Micros(i64),
}

impl Bound {
    fn json(self) -> Value {
        match self {
            Bound::Int(v) => json!(v),
            Bound::Float(v) => json!(v),
            Bound::Date(d) => chrono::DateTime::from_timestamp(i64::from(d) * 86_400, 0)
                .map(|t| json!(t.format("%Y-%m-%d").to_string()))
                .unwrap_or(Value::Null),
            Bound::Micros(us) => chrono::DateTime::from_timestamp_micros(us)
                .map(|t| json!(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()))
                .unwrap_or(Value::Null),
        }
    }
}

fn merge(into: &mut HashMap<String, Bound>, name: &str, value: Bound, min: bool) {
    match into.get(name) {
        Some(old) if (min && *old <= value) || (!min && *old >= value) => {}
        _ => {
            into.insert(name.to_string(), value);
        }
    }
}

fn bounds(stats: &Statistics, logical: Option<&LogicalType>) -> (Option<Bound>, Option<Bound>) {
    match stats {
        Statistics::Int32(s) => {
            let f = |v: &i32| match logical {
                Some(LogicalType::Date) => Bound::Date(*v),
                _ => Bound::Int(i64::from(*v)),
            };
            (s.min_opt().map(f), s.max_opt().map(f))
        }
        Statistics::Int64(s) => {
            let f = |v: &i64| match logical {
                Some(LogicalType::Timestamp(t)) => Bound::Micros(match t.unit {
                    TimeUnit::MILLIS => v.saturating_mul(1000),
                    TimeUnit::MICROS => *v,
                    TimeUnit::NANOS => v / 1000,
                }),
                _ => Bound::Int(*v),
            };
            (s.min_opt().map(f), s.max_opt().map(f))
        }
        Statistics::Double(s) => {
            let f = |v: &f64| v.is_finite().then_some(Bound::Float(*v));
            (s.min_opt().and_then(f), s.max_opt().and_then(f))
        }
        _ => (None, None),
    }
}

/// What one commit adds to a table.
pub struct Commit {
    /// The Delta fields of the files added (merged into the table's schema where new).
    pub fields: Vec<StructField>,
    pub partition_columns: Vec<String>,
    pub adds: Vec<Add>,
    /// Written into the commit's `commitInfo` (cex keeps the run's file records there).
    pub info: Map<String, Value>,
    /// Delta application transactions (`txn` actions), e.g. one per export file.
    pub app_transactions: Vec<AppTransaction>,
}

/// Commits `commit` to the table in `dir` (created with it if there is none); returns the new
/// version. Readers of the log see the whole commit or none of it.
pub fn commit(dir: &Path, table: Option<&DeltaTable>, commit: Commit) -> Result<i64, LakeError> {
    let properties = CommitProperties::default()
        .with_metadata(commit.info)
        .with_application_transactions(commit.app_transactions);
    let actions: Vec<Action> = commit.adds.into_iter().map(Action::Add).collect();
    match table {
        None => {
            std::fs::create_dir_all(dir).map_err(super::io_err(dir))?;
            let created = block_on(
                deltalake::operations::create::CreateBuilder::new()
                    .with_location(table_url(dir)?.to_string())
                    .with_columns(commit.fields)
                    .with_partition_columns(commit.partition_columns)
                    .with_actions(actions)
                    .with_save_mode(SaveMode::ErrorIfExists)
                    // Past versions stay readable for a decade (delta-rs' default is 30 days):
                    // a Cabinet report must be reproducible from the lake as it was.
                    .with_configuration_property(
                        deltalake::TableProperty::LogRetentionDuration,
                        Some("interval 3650 days"),
                    )
                    .with_commit_properties(properties)
                    .into_future(),
            )?
            .map_err(delta_err(dir))?;
            version(&created, dir)
        }
        Some(table) => {
            let snapshot = table.snapshot().map_err(delta_err(dir))?;
            let mut all = Vec::new();
            let current = snapshot.schema();
            let new: Vec<StructField> = commit
                .fields
                .into_iter()
                .filter(|f| current.field(f.name()).is_none())
                .collect();
            if !new.is_empty() {
                let merged =
                    StructType::try_new(current.fields().cloned().chain(new)).map_err(|e| {
                        LakeError::Data {
                            path: dir.to_path_buf(),
                            message: format!("widening the Delta schema: {e}"),
                        }
                    })?;
                let metadata = snapshot
                    .metadata()
                    .clone()
                    .with_schema(&merged)
                    .map_err(|e| LakeError::Data {
                        path: dir.to_path_buf(),
                        message: format!("widening the Delta schema: {e}"),
                    })?;
                all.push(Action::Metadata(metadata));
            }
            all.extend(actions);
            let operation = DeltaOperation::Write {
                mode: SaveMode::Append,
                partition_by: Some(commit.partition_columns),
                predicate: None,
            };
            let done = block_on(
                CommitBuilder::from(properties)
                    .with_actions(all)
                    .build(Some(snapshot), table.log_store(), operation)
                    .into_future(),
            )?
            .map_err(delta_err(dir))?;
            i64::try_from(done.version()).map_err(|_| LakeError::Data {
                path: dir.to_path_buf(),
                message: "Delta version out of range".into(),
            })
        }
    }
}

/// The `commitInfo` of one committed version, read from its JSON log entry (`None` when the
/// entry is gone, e.g. cleaned up after a checkpoint).
pub fn commit_info(dir: &Path, version: i64) -> Result<Option<Map<String, Value>>, LakeError> {
    let path = dir.join("_delta_log").join(format!("{version:020}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(super::io_err(&path)(e)),
    };
    for line in text.lines() {
        let Ok(Value::Object(mut action)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if let Some(Value::Object(info)) = action.remove("commitInfo") {
            return Ok(Some(info));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn the_latest_commit_is_the_highest_whole_commit_named_in_the_log(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        assert_eq!(latest_commit(dir.path())?, None, "no log, no commit");
        let log = dir.path().join("_delta_log");
        std::fs::create_dir(&log)?;
        assert_eq!(latest_commit(dir.path())?, None, "an empty log");
        for name in [
            "00000000000000000000.json",
            "00000000000000000002.json",
            "00000000000000000001.json",
            // Not commits: a checkpoint of a later version, a commit being written, its
            // pointer, a stray file.
            "00000000000000000009.checkpoint.parquet",
            "_commit_0f3c.json.tmp",
            "_last_checkpoint",
            "7.json",
        ] {
            std::fs::write(log.join(name), "{}")?;
        }
        assert_eq!(latest_commit(dir.path())?, Some(2));
        Ok(())
    }

    /// A contacts-like frame: text with few distinct values, unique keys, times, numbers.
    fn contacts(rows: usize) -> PolarsResult<DataFrame> {
        let pick = |values: &[&str], i: usize| values[(i * 7 + i / 3) % values.len()].to_string();
        let channels = ["telephone", "web", "face_to_face", "webchat"];
        let services = [
            "Housing",
            "Revenues & Benefits",
            "Waste & Recycling",
            "Council Tax",
        ];
        let outcomes = ["answered", "abandoned", "submitted", "served"];
        let ms: Vec<i64> = (0..rows)
            .map(|i| 1_700_000_000_000 + i as i64 * 1_000)
            .collect();
        let mut df = df!(
            "organisation" => vec!["Example City Council"; rows],
            "source" => vec!["telephony"; rows],
            "channel" => (0..rows).map(|i| pick(&channels, i)).collect::<Vec<_>>(),
            "service" => (0..rows).map(|i| pick(&services, i)).collect::<Vec<_>>(),
            "outcome" => (0..rows).map(|i| pick(&outcomes, i)).collect::<Vec<_>>(),
            "timestamp" => ms,
            "year" => vec![2024i32; rows],
            "month" => vec![3i8; rows],
            "wait_seconds" => (0..rows).map(|i| (i % 600) as f64).collect::<Vec<_>>(),
            "record_key" => (0..rows).map(|i| format!("C{i:09}")).collect::<Vec<_>>(),
            "source_row" => (0..rows).map(|i| i as i64 + 2).collect::<Vec<_>>(),
        )?;
        let ts = df.column("timestamp")?.cast(&DataType::Datetime(
            polars::prelude::TimeUnit::Milliseconds,
            Some(TimeZone::opt_try_new(Some("Europe/London"))?.unwrap_or(TimeZone::UTC)),
        ))?;
        df.with_column(ts)?;
        Ok(df)
    }

    /// The frame as arrow-rs record batch, through the Arrow C data interface (what feeding
    /// delta-rs' own writer from polars would take).
    fn to_arrow_rs(
        df: &DataFrame,
    ) -> Result<deltalake::arrow::record_batch::RecordBatch, Box<dyn std::error::Error>> {
        use deltalake::arrow::array::make_array;
        use deltalake::arrow::datatypes::{Field as RsField, Schema as RsSchema};
        use deltalake::arrow::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
        let mut fields = Vec::new();
        let mut arrays = Vec::new();
        for c in df.columns() {
            let s = c.as_materialized_series().rechunk();
            let array = s.to_arrow(0, CompatLevel::newest());
            let field =
                polars_arrow::datatypes::Field::new(s.name().clone(), array.dtype().clone(), true);
            let ffi_array = polars_arrow::ffi::export_array_to_c(array);
            let ffi_schema = polars_arrow::ffi::export_field_to_c(&field);
            // SAFETY: both crates' structs are the Arrow C data interface's, field for field.
            let (ffi_array, ffi_schema): (FFI_ArrowArray, FFI_ArrowSchema) = unsafe {
                (
                    std::mem::transmute::<polars_arrow::ffi::ArrowArray, FFI_ArrowArray>(ffi_array),
                    std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(
                        ffi_schema,
                    ),
                )
            };
            // SAFETY: the array and schema were exported together just above.
            let data = unsafe { from_ffi(ffi_array, &ffi_schema)? };
            fields.push(RsField::try_from(&ffi_schema)?);
            arrays.push(make_array(data));
        }
        Ok(deltalake::arrow::record_batch::RecordBatch::try_new(
            std::sync::Arc::new(RsSchema::new(fields)),
            arrays,
        )?)
    }

    /// The lake's writer against delta-rs' own `RecordBatchWriter` on the same rows (zstd level
    /// 1 for both), each timed from a polars frame to a file with its add action. A measurement,
    /// not a check: `CEX_WRITER_ROWS=2000000 cargo test --release writers_compared -- --ignored
    /// --nocapture`.
    #[test]
    #[ignore]
    fn writers_compared() -> Result<(), Box<dyn std::error::Error>> {
        use deltalake::parquet::basic::{Compression, ZstdLevel};
        use deltalake::parquet::file::properties::WriterProperties;
        use deltalake::writer::DeltaWriter;
        let rows = std::env::var("CEX_WRITER_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000_000);
        let mut df = contacts(rows)?;
        df.rechunk_mut_par();
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir()?;
            let started = std::time::Instant::now();
            let path = dir.path().join("part-0.parquet");
            let file = File::create(&path)?;
            let mut w = super::super::parquet::LakeWriter::new(
                file.try_clone()?,
                df.schema(),
                &["record_key"],
            )?;
            w.write(&df)?;
            w.finish()?;
            file.sync_all()?;
            let add = add_action(dir.path(), "part-0.parquet", HashMap::new())?;
            ours.push((started.elapsed().as_secs_f64(), add.size));

            let dir = tempfile::tempdir()?;
            let started = std::time::Instant::now();
            let batch = to_arrow_rs(&df)?;
            let mut writer = deltalake::writer::RecordBatchWriter::try_new(
                table_url(dir.path())?.as_str(),
                batch.schema(),
                None,
                None,
            )?
            .with_writer_properties(
                WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
                    .build(),
            );
            block_on(writer.write(batch))??;
            let adds = block_on(writer.flush())??;
            let size: i64 = adds.iter().map(|a| a.size).sum();
            theirs.push((started.elapsed().as_secs_f64(), size));
        }
        let median = |v: &mut Vec<(f64, i64)>| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v[v.len() / 2]
        };
        let (a, b) = (median(&mut ours), median(&mut theirs));
        println!(
            "{rows} rows: lake writer {:.2} s, {} bytes; delta-rs RecordBatchWriter (from polars via the C data interface) {:.2} s, {} bytes",
            a.0, a.1, b.0, b.1
        );
        Ok(())
    }
}
