//! The lake's monthly aggregates (`<lake>/monthly/`, a Delta table partitioned like
//! `contacts`): for every data file of `contacts`, one file named after it ([`sums_rel`])
//! holding that file's rows summed per organisation, source, year, month, channel, service,
//! category (the queue), outcome and date granularity. Ingest writes it beside the rows and
//! commits it right after them, before the manifest; rows are never removed, so the sums of a
//! file never go stale.
//!
//! The KPI tables that need no single contact (volumes, channel shift, take-up, mix, form
//! completion, contact centre, response rate and weighting) read [`Lake::contact_months`]: the
//! stored aggregates of the files the reader's snapshot pins, and, for any pinned file without
//! them (a lake written before this table or by a build that summed otherwise, a run killed
//! between the two commits, or a threshold changed since: see [`sums_rel`]), the same sums
//! worked out from its rows by the same [`aggregate`], until the next writer stores them
//! ([`store_missing`]).
//! A monthly run therefore reads a few thousand rows for the history and aggregates only what is
//! new, and the figures are the same either way (tested against the rows).
//!
//! Column names: the keys keep the contacts table's names, and so do the sums of a contacts
//! column (`contacts`, `wait_seconds`, `handle_seconds`, `within_threshold`, `short_abandons`),
//! so a figure that sums them reads either table alike. The counts of contacts with a value
//! known, and the thresholds the sums were taken at, have names of their own below.
//!
//! Survey answers have the same kind of table (`<lake>/answer_months/`): for every data file of
//! `responses`, its answers counted per [`ANSWER_KEYS`] (`answers`), written and committed the
//! same way. The KPI stage's satisfaction tables read [`Lake::answer_months`], with the same
//! fallback to the rows of a file that has none.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{Lake, LakeError};
use crate::model::{col as c, Table};

/// The table's folder name.
pub const TABLE: &str = "monthly";

/// The answers' monthly sums table's folder name.
pub const ANSWERS_TABLE: &str = "answer_months";

/// The folder of the monthly sums of a data table.
pub fn table_of(table: Table) -> &'static str {
    match table {
        Table::Contacts => TABLE,
        Table::Responses => ANSWERS_TABLE,
    }
}

/// The group keys of the answers' sums, in the order the table stores them: all that a
/// satisfaction table shows or selects on. The answer as written (`rating_raw`) only where it is
/// not a rating (a scale's "Don't know"), null otherwise, since only those rows are told by it.
pub const ANSWER_KEYS: [&str; 11] = [
    c::ORGANISATION,
    c::SOURCE,
    c::YEAR,
    c::MONTH,
    c::DATE_GRANULARITY,
    c::CHANNEL,
    c::SERVICE,
    c::RATING,
    c::SCORE,
    c::SENTIMENT,
    c::RATING_RAW,
];

/// Contacts with a wait or an interval's within-threshold count.
pub const TIMED: &str = "timed_contacts";
/// Contacts with a wait.
pub const WAITED: &str = "waited_contacts";
/// Contacts with a handle time.
pub const HANDLED: &str = "handled_contacts";
/// Contacts resolved at first contact.
pub const RESOLVED_FIRST: &str = "resolved_first_contacts";
/// Contacts whose first-contact resolution is recorded.
pub const RESOLUTION_KNOWN: &str = "resolution_known_contacts";
/// Contacts known to be, or not to be, short abandons: a call with a wait, or an interval's
/// row that brings its own short-abandons count. An abandoned call without either may have
/// been short or not: the rates that leave short abandons out need every abandon known.
pub const SHORTNESS_KNOWN: &str = "shortness_known_contacts";
/// The service-level threshold `within_threshold` was counted at (seconds).
pub const SERVICE_LEVEL_SECONDS: &str = "service_level_seconds";
/// The short-abandon threshold `short_abandons` was counted at (seconds).
pub const SHORT_ABANDON_SECONDS: &str = "short_abandon_seconds";

/// The group keys, in the order the table stores them.
pub const KEYS: [&str; 9] = [
    c::ORGANISATION,
    c::SOURCE,
    c::YEAR,
    c::MONTH,
    c::CHANNEL,
    c::SERVICE,
    c::CATEGORY,
    c::OUTCOME,
    c::DATE_GRANULARITY,
];

/// The sums, in the order the table stores them.
pub const SUMS: [&str; 11] = [
    c::CONTACTS,
    TIMED,
    WAITED,
    c::WAIT_SECONDS,
    c::WITHIN_THRESHOLD,
    c::SHORT_ABANDONS,
    c::HANDLE_SECONDS,
    HANDLED,
    RESOLVED_FIRST,
    RESOLUTION_KNOWN,
    SHORTNESS_KNOWN,
];

/// The thresholds the time-dependent sums are counted at (the pipeline's `kpi` settings), and
/// which sources' waits are intervals' totals.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// A call answered (or leaving the queue) within this many seconds is within the service level.
    pub service_level_seconds: f64,
    /// An abandoned call that waited less than this many seconds is a short abandon.
    pub short_abandon_seconds: f64,
    /// Interval exports (`call_intervals`): a row's wait is its interval's total, never compared
    /// with a threshold, even where the interval holds one call (their own counts are).
    pub interval_sources: Vec<String>,
}

impl Thresholds {
    /// The pipeline's thresholds (`kpi.service_level_seconds`, `kpi.short_abandon_seconds`) and
    /// interval sources.
    pub fn of(pipeline: &crate::config::Pipeline) -> Thresholds {
        Thresholds {
            service_level_seconds: pipeline.kpi.service_level_seconds,
            short_abandon_seconds: pipeline.kpi.short_abandon_seconds,
            interval_sources: pipeline
                .sources
                .iter()
                .filter(|s| s.kind == crate::config::SourceKind::CallIntervals)
                .map(|s| s.name.clone())
                .collect(),
        }
    }
}

/// Contact rows (the contacts table's columns; the optional ones may be absent) summed per
/// [`KEYS`]: the one definition ingest stores and the KPI stage falls back on.
pub fn aggregate(rows: LazyFrame, at: &Thresholds) -> LazyFrame {
    aggregate_by(rows, at, &KEYS, &[])
}

/// [`aggregate`] for rows of one partition of one source (organisation, source, year, month
/// and granularity the same in every row, as ingest writes them): grouped by the other keys
/// only, which costs ingest less.
pub fn aggregate_part(rows: LazyFrame, at: &Thresholds) -> LazyFrame {
    const SAME: [&str; 5] = [
        c::ORGANISATION,
        c::SOURCE,
        c::YEAR,
        c::MONTH,
        c::DATE_GRANULARITY,
    ];
    let varying: Vec<&str> = KEYS.iter().copied().filter(|k| !SAME.contains(k)).collect();
    aggregate_by(rows, at, &varying, &SAME)
}

/// The sums grouped by `keys`, with the `same` keys (equal in every row) taken from the first.
fn aggregate_by(rows: LazyFrame, at: &Thresholds, keys: &[&str], same: &[&str]) -> LazyFrame {
    let n = || col(c::CONTACTS).cast(DataType::Int64);
    let count_if = |cond: Expr| when(cond).then(n()).otherwise(lit(0i64)).sum();
    // Per-call rows are timed one by one; interval rows bring their own counts.
    let counted_or = |count: &str, timed: Expr| {
        col(count)
            .cast(DataType::Int64)
            .fill_null(when(timed).then(n()).otherwise(lit(0i64)))
    };
    let wait = || col(c::WAIT_SECONDS).cast(DataType::Float64);
    // Only a row of one contact has a call's wait: an interval's (or an aggregated row's) is a
    // total, never compared with a threshold (its own counts are, where the export has them).
    let interval = if at.interval_sources.is_empty() {
        lit(false)
    } else {
        col(c::SOURCE).cast(DataType::String).is_in(
            lit(Series::new("intervals".into(), &at.interval_sources)).implode(false),
            false,
        )
    };
    let a_call = || n().eq(lit(1i64)).and(interval.clone().not());
    let call_wait = || wait().is_not_null().and(a_call());
    let handle = || col(c::HANDLE_SECONDS).cast(DataType::Float64);
    let resolved = || col(c::RESOLVED_FIRST_CONTACT);
    let sums = [
        n().sum().alias(c::CONTACTS),
        count_if(call_wait().or(col(c::WITHIN_THRESHOLD).is_not_null())).alias(TIMED),
        count_if(col(c::WAIT_SECONDS).is_not_null()).alias(WAITED),
        wait().sum().alias(c::WAIT_SECONDS),
        counted_or(
            c::WITHIN_THRESHOLD,
            a_call().and(wait().lt_eq(lit(at.service_level_seconds))),
        )
        .sum()
        .alias(c::WITHIN_THRESHOLD),
        counted_or(
            c::SHORT_ABANDONS,
            a_call().and(wait().lt(lit(at.short_abandon_seconds))),
        )
        .sum()
        .alias(c::SHORT_ABANDONS),
        handle().sum().alias(c::HANDLE_SECONDS),
        count_if(col(c::HANDLE_SECONDS).is_not_null()).alias(HANDLED),
        count_if(resolved().eq(lit(true))).alias(RESOLVED_FIRST),
        count_if(resolved().is_not_null()).alias(RESOLUTION_KNOWN),
        count_if(call_wait().or(col(c::SHORT_ABANDONS).is_not_null())).alias(SHORTNESS_KNOWN),
    ];
    with_optional_columns(rows)
        .group_by(keys.iter().map(|k| key(k)).collect::<Vec<_>>())
        .agg(
            sums.into_iter()
                .chain(same.iter().map(|k| key(k).first()))
                .collect::<Vec<_>>(),
        )
        .with_columns([
            lit(at.service_level_seconds).alias(SERVICE_LEVEL_SECONDS),
            lit(at.short_abandon_seconds).alias(SHORT_ABANDON_SECONDS),
        ])
        .select(columns())
}

/// Aggregates of several pieces of one file (or of several files) summed again per [`KEYS`].
pub fn combine(pieces: LazyFrame) -> LazyFrame {
    pieces
        .group_by(KEYS.map(col))
        .agg(
            SUMS.iter()
                .map(|s| col(*s).sum())
                .chain([
                    col(SERVICE_LEVEL_SECONDS).first(),
                    col(SHORT_ABANDON_SECONDS).first(),
                ])
                .collect::<Vec<_>>(),
        )
        .select(columns())
}

/// Response rows counted per [`ANSWER_KEYS`] (`answers`, u32): the one definition ingest stores
/// and the KPI stage falls back on. Summing `answers` over any selection of these rows gives
/// what counting the rows would.
pub fn aggregate_answers(rows: LazyFrame) -> LazyFrame {
    let rows = with_missing(
        rows,
        &[
            (c::DATE_GRANULARITY, DataType::String),
            (c::RATING_RAW, DataType::String),
        ],
    );
    rows.with_column(
        when(col(c::SENTIMENT).is_null())
            .then(col(c::RATING_RAW))
            .otherwise(lit(NULL).cast(DataType::String))
            .alias(c::RATING_RAW),
    )
    .group_by(ANSWER_KEYS.map(answer_key))
    .agg([len().cast(DataType::UInt32).alias(c::ANSWERS)])
    .select(answer_columns())
}

/// Answer sums of several pieces (or files) counted again per [`ANSWER_KEYS`].
pub fn combine_answers(pieces: LazyFrame) -> LazyFrame {
    pieces
        .group_by(ANSWER_KEYS.map(col))
        .agg([col(c::ANSWERS).sum().cast(DataType::UInt32)])
        .select(answer_columns())
}

/// Every column of the answers' sums, in order, with the types cex works with (a stored file
/// reads back `answers` signed, as Delta has no unsigned integers).
fn answer_columns() -> Vec<Expr> {
    ANSWER_KEYS
        .iter()
        .map(|k| answer_key(k))
        .chain([col(c::ANSWERS).cast(DataType::UInt32)])
        .collect()
}

/// A key of the answers' sums with the responses table's type.
fn answer_key(name: &str) -> Expr {
    match name {
        c::SCORE => col(name).cast(DataType::Float64),
        _ => key(name),
    }
}

/// Every column of the table, in order.
fn columns() -> Vec<Expr> {
    KEYS.iter()
        .chain(SUMS.iter())
        .chain([SERVICE_LEVEL_SECONDS, SHORT_ABANDON_SECONDS].iter())
        .map(|n| col(*n))
        .collect()
}

/// A key with the contacts table's type (text keys as text, year and month as numbers).
fn key(name: &str) -> Expr {
    match name {
        c::YEAR => col(name).cast(DataType::Int32),
        c::MONTH => col(name).cast(DataType::Int8),
        _ => col(name).cast(DataType::String),
    }
}

/// The optional columns [`aggregate`] reads, null where the rows lack them (a frame of one
/// source that has no waits, no queue or no granularity).
fn with_optional_columns(rows: LazyFrame) -> LazyFrame {
    let optional: [(&str, DataType); 7] = [
        (c::CATEGORY, DataType::String),
        (c::DATE_GRANULARITY, DataType::String),
        (c::WAIT_SECONDS, DataType::Float64),
        (c::HANDLE_SECONDS, DataType::Float64),
        (c::WITHIN_THRESHOLD, DataType::UInt32),
        (c::SHORT_ABANDONS, DataType::UInt32),
        (c::RESOLVED_FIRST_CONTACT, DataType::Boolean),
    ];
    with_missing(rows, &optional)
}

/// `rows` with each of `optional` it lacks, as nulls of its type.
fn with_missing(rows: LazyFrame, optional: &[(&str, DataType)]) -> LazyFrame {
    let mut rows = rows;
    let schema = rows.collect_schema().ok();
    let missing: Vec<Expr> = optional
        .iter()
        .filter(|(name, _)| schema.as_ref().is_some_and(|s| !s.contains(name)))
        .map(|(name, dtype)| lit(NULL).cast(dtype.clone()).alias(*name))
        .collect();
    if missing.is_empty() {
        rows
    } else {
        rows.with_columns(missing)
    }
}

/// The version of the contacts' sums: change it whenever [`aggregate`] would store other sums
/// (or other columns) from the same rows. It is in the name of every sums file written since
/// version 2 (version 1 had the data file's name), so sums stored by an earlier build are
/// never read: their files are counted from their rows (`Lake::contact_months`), until a writer
/// stores them again ([`store_missing`]).
pub const CONTACT_SUMS_FORMAT: u32 = 2;

impl Thresholds {
    /// The thresholds and interval sources as 8 hex digits (the start of their SHA-256): in the
    /// name of the sums counted at them, so that sums counted at other settings are never read
    /// for these, and those of every setting used can be kept side by side.
    pub fn tag(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut sources = self.interval_sources.clone();
        sources.sort();
        let text = format!(
            "{}|{}|{}",
            self.service_level_seconds,
            self.short_abandon_seconds,
            sources.join("\u{1f}")
        );
        Sha256::digest(text.as_bytes())
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The name, relative to its sums table's folder, of the sums of the `table` file at `data_rel`
/// (relative to its table's folder): the same partition; the contacts' sums named with their
/// format ([`CONTACT_SUMS_FORMAT`]) and the thresholds they were counted at
/// ([`Thresholds::tag`]), `<data file>.sums2-<tag>.parquet`. The answers' sums, which no
/// setting shapes, have the data file's name.
pub fn sums_rel(table: Table, data_rel: &str, at: &Thresholds) -> String {
    match table {
        Table::Contacts => format!(
            "{}.sums{CONTACT_SUMS_FORMAT}-{}.parquet",
            data_rel.strip_suffix(".parquet").unwrap_or(data_rel),
            at.tag()
        ),
        Table::Responses => data_rel.to_string(),
    }
}

/// The data file (relative to its table's folder) whose sums are stored at `sums_rel`
/// (relative to the sums table's folder), and the tag of the thresholds they were counted at
/// (`None` for the answers' sums); `None` for contacts' sums of another format.
fn summed_file(table: Table, sums_rel: &str) -> Option<(String, Option<String>)> {
    match table {
        Table::Contacts => {
            let stem = sums_rel.strip_suffix(".parquet")?;
            let (data, tag) = stem.rsplit_once(&format!(".sums{CONTACT_SUMS_FORMAT}-"))?;
            Some((format!("{data}.parquet"), Some(tag.to_string())))
        }
        Table::Responses => Some((sums_rel.to_string(), None)),
    }
}

/// The stored sums a reader can use: those counted at the given thresholds, or any (for what
/// no threshold changes, such as the months a file holds).
#[derive(Clone, Copy)]
enum Wanted<'a> {
    At(&'a Thresholds),
    Any,
}

/// The pinned files of `table` split into the paths of their stored sums (those that have
/// them, as `wanted`) and the data files that have none.
fn covered(lake: &Lake, table: Table, wanted: Wanted) -> (Vec<PathBuf>, Vec<PathBuf>) {
    covered_of(lake, table, lake.table_files(table), wanted)
}

/// [`covered`] for some of the pinned files.
fn covered_of(
    lake: &Lake,
    table: Table,
    files: Vec<PathBuf>,
    wanted: Wanted,
) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let root = lake.root();
    let (sums_dir, data_dir) = (root.join(table_of(table)), root.join(table.name()));
    let tag = match wanted {
        Wanted::At(at) => Some(at.tag()),
        Wanted::Any => None,
    };
    let mut stored: HashMap<PathBuf, &PathBuf> = HashMap::new();
    for sums in lake.sums_files(table) {
        let Ok(rel) = sums.strip_prefix(&sums_dir) else {
            continue;
        };
        let Some((data, its_tag)) = summed_file(table, &rel.to_string_lossy()) else {
            continue;
        };
        if tag.is_some() && its_tag.is_some() && tag != its_tag {
            continue;
        }
        stored.entry(data_dir.join(data)).or_insert(sums);
    }
    let (mut covered, mut uncovered) = (Vec::new(), Vec::new());
    for f in files {
        match stored.get(&f) {
            Some(sums) => covered.push((*sums).clone()),
            None => uncovered.push(f),
        }
    }
    (covered, uncovered)
}

/// Stores the sums, at the thresholds `at`, of every pinned contacts file of the writer's lake
/// (as it opened) that has none of the current format at those thresholds: files whose sums an
/// earlier build stored, sums counted at thresholds changed since, and a run killed between its
/// rows' commit and its sums'. One commit to the sums table; a writer killed before it leaves
/// files the next writer removes. Until then readers count those files from their rows, with
/// the same figures. Returns how many files it summed.
pub fn store_missing(writer: &super::LakeWriter, at: &Thresholds) -> Result<usize, LakeError> {
    let lake = writer.lake();
    let (_, uncovered) = covered(lake, Table::Contacts, Wanted::At(at));
    if uncovered.is_empty() {
        return Ok(0);
    }
    let txn = super::txn::Transaction::begin(writer);
    for file in &uncovered {
        let data_err = |e: PolarsError| LakeError::Data {
            path: file.clone(),
            message: e.to_string(),
        };
        let (Some(rows), Some(partition)) = (
            lake.scan_some(Table::Contacts, std::slice::from_ref(file))?,
            lake.partition_of(Table::Contacts, file),
        ) else {
            continue;
        };
        let sums = aggregate(rows, at).collect().map_err(data_err)?;
        txn.write_sums_of(Table::Contacts, file, partition, &sums, at)?;
    }
    txn.commit(&[])?;
    Ok(uncovered.len())
}

/// How the contact months of a snapshot were found: files read from stored aggregates, and
/// files whose rows were aggregated because none were stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    pub stored: usize,
    pub from_rows: usize,
}

impl Lake {
    /// Every pinned contact summed per [`KEYS`], at the thresholds `at` (`None`: the lake holds
    /// no contacts). Read from the stored aggregates where every file has them at these
    /// thresholds; the rest from the rows.
    pub fn contact_months(
        &self,
        at: &Thresholds,
    ) -> Result<Option<(LazyFrame, Coverage)>, LakeError> {
        let files = self.table_files(Table::Contacts);
        if files.is_empty() {
            return Ok(None);
        }
        let root = self.root();
        let data_err = |e: PolarsError| LakeError::Data {
            path: root.join(TABLE),
            message: e.to_string(),
        };
        let (mut covered, mut uncovered) = covered(self, Table::Contacts, Wanted::At(at));
        let mut pieces = Vec::new();
        if !covered.is_empty() {
            let sums = match super::scan_files(&covered, &root.join(TABLE))? {
                Some(stored) => stored.select(columns()).collect().map_err(data_err)?,
                None => DataFrame::empty(),
            };
            if at_thresholds(&sums, at) {
                pieces.push(sums.lazy());
            } else {
                // Counted at other thresholds than the pipeline's now: from the rows.
                crate::log::info(
                    "the service-level or short-abandon threshold differs from the one the monthly aggregates were counted at: the contact-centre figures are counted from the rows",
                );
                uncovered = files.clone();
                covered.clear();
            }
        }
        if !uncovered.is_empty() {
            if let Some(rows) = self.scan_some(Table::Contacts, &uncovered)? {
                pieces.push(aggregate(rows, at));
            }
        }
        let coverage = Coverage {
            stored: covered.len(),
            from_rows: uncovered.len(),
        };
        one_frame(pieces, coverage, &root.join(TABLE))
    }

    /// Every pinned survey answer counted per [`ANSWER_KEYS`] (`None`: the lake holds no
    /// responses): the stored sums of the files that have them, the rest counted from their
    /// rows. Sums of several files may share keys: read them by summing `answers`.
    pub fn answer_months(&self) -> Result<Option<(LazyFrame, Coverage)>, LakeError> {
        if self.table_files(Table::Responses).is_empty() {
            return Ok(None);
        }
        let root = self.root();
        let (covered, uncovered) = covered(self, Table::Responses, Wanted::Any);
        let mut pieces = Vec::new();
        if let Some(stored) = super::scan_files(&covered, &root.join(ANSWERS_TABLE))? {
            pieces.push(stored.select(answer_columns()));
        }
        if let Some(rows) = self.scan_some(Table::Responses, &uncovered)? {
            pieces.push(aggregate_answers(rows));
        }
        let coverage = Coverage {
            stored: covered.len(),
            from_rows: uncovered.len(),
        };
        one_frame(pieces, coverage, &root.join(ANSWERS_TABLE))
    }
}

impl Lake {
    /// The year, month and date granularity of the pinned rows of `table` (`None`: it holds
    /// none), one row per stored sum or per row: from the stored sums of the files that have
    /// them, a few rows each, and from the rows of those that have none. What tells the months a
    /// lake holds without reading every row it holds. With `months` (first and last, inclusive),
    /// only the files of those months are read (and those whose partition tells no month), so
    /// only those months are told for sure.
    pub fn dated(
        &self,
        table: Table,
        months: Option<((i32, i8), (i32, i8))>,
    ) -> Result<Option<LazyFrame>, LakeError> {
        let (covered, uncovered) = match months {
            None => covered(self, table, Wanted::Any),
            Some((from, to)) => {
                covered_of(self, table, self.months_files(table, from, to), Wanted::Any)
            }
        };
        let columns = || {
            [
                col(c::YEAR).cast(DataType::Int32),
                col(c::MONTH).cast(DataType::Int32),
                col(c::DATE_GRANULARITY).cast(DataType::String),
            ]
        };
        let mut pieces = Vec::new();
        let root = self.root();
        if let Some(stored) = super::scan_files(&covered, &root.join(table_of(table)))? {
            pieces.push(stored.select(columns()));
        }
        if let Some(rows) = self.scan_some(table, &uncovered)? {
            let rows = with_missing(rows, &[(c::DATE_GRANULARITY, DataType::String)]);
            pieces.push(rows.select(columns()));
        }
        let coverage = Coverage {
            stored: covered.len(),
            from_rows: uncovered.len(),
        };
        Ok(one_frame(pieces, coverage, &root.join(table.name()))?.map(|(frame, _)| frame))
    }
}

/// The stored sums and those counted from rows as one frame, with how they were found (`None`
/// when there are none).
fn one_frame(
    mut pieces: Vec<LazyFrame>,
    coverage: Coverage,
    dir: &Path,
) -> Result<Option<(LazyFrame, Coverage)>, LakeError> {
    let all = match pieces.len() {
        0 => return Ok(None),
        1 => pieces.remove(0),
        _ => concat(pieces, UnionArgs::default()).map_err(|e| LakeError::Data {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?,
    };
    Ok(Some((all, coverage)))
}

/// True when every stored row was counted at `at`.
fn at_thresholds(sums: &DataFrame, at: &Thresholds) -> bool {
    let all_equal = |name: &str, value: f64| {
        sums.column(name)
            .ok()
            .and_then(|c| c.f64().ok())
            .is_some_and(|s| s.null_count() == 0 && s.iter().all(|v| v == Some(value)))
    };
    all_equal(SERVICE_LEVEL_SECONDS, at.service_level_seconds)
        && all_equal(SHORT_ABANDON_SECONDS, at.short_abandon_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Thresholds = Thresholds {
        service_level_seconds: 20.0,
        short_abandon_seconds: 5.0,
        interval_sources: Vec::new(),
    };

    /// Calls one by one (with waits) and one interval row (with its own counts, no waits).
    fn calls() -> PolarsResult<DataFrame> {
        df!(
            c::ORGANISATION => ["Org"; 6],
            c::SOURCE => ["calls"; 6],
            c::YEAR => [2024i32; 6],
            c::MONTH => [4i8; 6],
            c::CHANNEL => ["telephone"; 6],
            c::SERVICE => ["Housing"; 6],
            c::CATEGORY => [Some("Q1"), Some("Q1"), Some("Q1"), Some("Q1"), Some("Q1"), None],
            c::OUTCOME => ["answered", "answered", "abandoned", "abandoned", "answered", "answered"],
            c::CONTACTS => [1u32, 1, 1, 1, 1, 40],
            c::WAIT_SECONDS => [Some(10.0), Some(20.0), Some(3.0), Some(30.0), None, None],
            c::HANDLE_SECONDS => [Some(100.0), Some(200.0), None, None, Some(50.0), None],
            c::WITHIN_THRESHOLD => [None, None, None, None, None, Some(30u32)],
            c::RESOLVED_FIRST_CONTACT => [Some(true), Some(false), None, None, None, None],
        )
    }

    fn row(df: &DataFrame, outcome: &str, queue: Option<&str>) -> PolarsResult<DataFrame> {
        let q = match queue {
            Some(q) => col(c::CATEGORY).eq(lit(q)),
            None => col(c::CATEGORY).is_null(),
        };
        df.clone()
            .lazy()
            .filter(col(c::OUTCOME).eq(lit(outcome)).and(q))
            .collect()
    }

    fn value(df: &DataFrame, name: &str) -> PolarsResult<f64> {
        let s = df.column(name)?.cast(&DataType::Float64)?;
        Ok(s.f64()?.get(0).unwrap_or(f64::NAN))
    }

    #[test]
    fn an_intervals_wait_is_never_compared_with_a_threshold(
    ) -> Result<(), Box<dyn std::error::Error>> {
        // Interval rows with waits (totals) and no answered-within count: 10 calls waiting 150 s
        // in all, and an interval of one call that waited 8 s. A row of calls from a per-call
        // export with the same figures (one call, 8 s) is a call.
        let rows = df!(
            c::ORGANISATION => ["Org"; 3],
            c::SOURCE => ["intervals", "intervals", "calls"],
            c::YEAR => [2024i32; 3],
            c::MONTH => [4i8; 3],
            c::CHANNEL => ["telephone"; 3],
            c::SERVICE => ["Housing"; 3],
            c::CATEGORY => ["Q1", "Q2", "Q3"],
            c::OUTCOME => ["answered"; 3],
            c::CONTACTS => [10u32, 1, 1],
            c::WAIT_SECONDS => [150.0, 8.0, 8.0],
        )?;
        let at = Thresholds {
            interval_sources: vec!["intervals".into()],
            ..AT
        };
        let sums = aggregate(rows.lazy(), &at).collect()?;
        for (queue, timed, within) in [("Q1", 0.0, 0.0), ("Q2", 0.0, 0.0), ("Q3", 1.0, 1.0)] {
            let r = row(&sums, "answered", Some(queue))?;
            assert_eq!(value(&r, TIMED)?, timed, "{queue}");
            assert_eq!(value(&r, c::WITHIN_THRESHOLD)?, within, "{queue}");
            // The wait still counts towards the average speed of answer.
            assert_eq!(value(&r, WAITED)?, value(&r, c::CONTACTS)?, "{queue}");
        }
        // Without naming the source, a row of more than one contact is not a call either.
        let sums = aggregate(rows_of_many()?.lazy(), &AT).collect()?;
        assert_eq!(value(&row(&sums, "answered", Some("Q1"))?, TIMED)?, 0.0);
        Ok(())
    }

    #[test]
    fn an_abandon_is_known_short_or_not_only_by_a_calls_wait_or_its_intervals_count(
    ) -> Result<(), Box<dyn std::error::Error>> {
        // Q1: a call with a wait, a call without one. Q2: an interval's 7 abandons with its
        // short-abandons count (2), Q3: 5 without one; Q4: a row of 3 abandons from a counted
        // export with a wait (a total, not a call's).
        let rows = df!(
            c::ORGANISATION => ["Org"; 5],
            c::SOURCE => ["calls", "calls", "intervals", "intervals", "counts"],
            c::YEAR => [2024i32; 5],
            c::MONTH => [4i8; 5],
            c::CHANNEL => ["telephone"; 5],
            c::SERVICE => ["Housing"; 5],
            c::CATEGORY => ["Q1", "Q1", "Q2", "Q3", "Q4"],
            c::OUTCOME => ["abandoned"; 5],
            c::CONTACTS => [1u32, 1, 7, 5, 3],
            c::WAIT_SECONDS => [Some(3.0), None, None, None, Some(12.0)],
            c::SHORT_ABANDONS => [None, None, Some(2u32), None, None],
        )?;
        let at = Thresholds {
            interval_sources: vec!["intervals".into()],
            ..AT
        };
        let sums = aggregate(rows.lazy(), &at).collect()?;
        for (queue, known, short) in [
            ("Q1", 1.0, 1.0),
            ("Q2", 7.0, 2.0),
            ("Q3", 0.0, 0.0),
            ("Q4", 0.0, 0.0),
        ] {
            let r = row(&sums, "abandoned", Some(queue))?;
            assert_eq!(value(&r, SHORTNESS_KNOWN)?, known, "{queue}");
            assert_eq!(value(&r, c::SHORT_ABANDONS)?, short, "{queue}");
        }
        Ok(())
    }

    #[test]
    fn sums_are_named_with_their_format_and_thresholds_beside_their_data_file() {
        let rel = "organisation=Org/source=calls/year=2024/month=4/part-a-run.parquet";
        let named = sums_rel(Table::Contacts, rel, &AT);
        let tag = AT.tag();
        assert_eq!(
            named,
            format!("organisation=Org/source=calls/year=2024/month=4/part-a-run.sums{CONTACT_SUMS_FORMAT}-{tag}.parquet")
        );
        assert_eq!(
            summed_file(Table::Contacts, &named),
            Some((rel.to_string(), Some(tag.clone())))
        );
        // Format 1 (the data file's own name) is not read back as sums of the current format.
        assert_eq!(summed_file(Table::Contacts, rel), None);
        // Other thresholds, or another interval source, another name; the same, the same name.
        let other = |at: Thresholds| sums_rel(Table::Contacts, rel, &at);
        assert_ne!(
            other(Thresholds {
                service_level_seconds: 30.0,
                ..AT
            }),
            named
        );
        assert_ne!(
            other(Thresholds {
                short_abandon_seconds: 10.0,
                ..AT
            }),
            named
        );
        let intervals = |names: &[&str]| Thresholds {
            interval_sources: names.iter().map(|n| n.to_string()).collect(),
            ..AT
        };
        assert_ne!(other(intervals(&["intervals"])), named);
        assert_eq!(other(intervals(&["a", "b"])), other(intervals(&["b", "a"])));
        assert_eq!(tag.len(), 8);
        // The answers' sums keep the data file's name.
        assert_eq!(sums_rel(Table::Responses, rel, &AT), rel);
        assert_eq!(
            summed_file(Table::Responses, rel),
            Some((rel.to_string(), None))
        );
    }

    fn rows_of_many() -> PolarsResult<DataFrame> {
        df!(
            c::ORGANISATION => ["Org"],
            c::SOURCE => ["counts"],
            c::YEAR => [2024i32],
            c::MONTH => [4i8],
            c::CHANNEL => ["telephone"],
            c::SERVICE => ["Housing"],
            c::CATEGORY => ["Q1"],
            c::OUTCOME => ["answered"],
            c::CONTACTS => [10u32],
            c::WAIT_SECONDS => [15.0],
        )
    }

    #[test]
    fn the_sums_of_a_month_are_counted_as_the_contact_centre_defines_them(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let sums = aggregate(calls()?.lazy(), &AT).collect()?;
        // A granularity column the frame lacks is null, a key like any other.
        assert_eq!(
            sums.column(c::DATE_GRANULARITY)?.null_count(),
            sums.height()
        );
        let answered = row(&sums, "answered", Some("Q1"))?;
        assert_eq!(value(&answered, c::CONTACTS)?, 3.0);
        assert_eq!(value(&answered, WAITED)?, 2.0);
        assert_eq!(value(&answered, TIMED)?, 2.0);
        assert_eq!(value(&answered, c::WAIT_SECONDS)?, 30.0);
        // 10 s and 20 s are within 20 s; the call with no wait is not.
        assert_eq!(value(&answered, c::WITHIN_THRESHOLD)?, 2.0);
        assert_eq!(value(&answered, c::HANDLE_SECONDS)?, 350.0);
        assert_eq!(value(&answered, HANDLED)?, 3.0);
        assert_eq!(value(&answered, RESOLVED_FIRST)?, 1.0);
        assert_eq!(value(&answered, RESOLUTION_KNOWN)?, 2.0);
        let abandoned = row(&sums, "abandoned", Some("Q1"))?;
        assert_eq!(value(&abandoned, c::SHORT_ABANDONS)?, 1.0);
        assert_eq!(value(&abandoned, c::WITHIN_THRESHOLD)?, 1.0);
        // Both abandoned calls have a wait: each is known to be short or not.
        assert_eq!(value(&abandoned, SHORTNESS_KNOWN)?, 2.0);
        // The interval row brings its own counts: 40 calls, 30 within, none with a wait.
        let interval = row(&sums, "answered", None)?;
        assert_eq!(value(&interval, c::CONTACTS)?, 40.0);
        assert_eq!(value(&interval, c::WITHIN_THRESHOLD)?, 30.0);
        assert_eq!(value(&interval, TIMED)?, 40.0);
        assert_eq!(value(&interval, WAITED)?, 0.0);
        assert_eq!(value(&interval, SERVICE_LEVEL_SECONDS)?, 20.0);
        Ok(())
    }

    #[test]
    fn pieces_summed_again_equal_the_whole() -> Result<(), Box<dyn std::error::Error>> {
        let all = calls()?;
        let whole = aggregate(all.clone().lazy(), &AT);
        let pieces = concat(
            [
                aggregate(all.slice(0, 2).lazy(), &AT),
                aggregate(all.slice(2, 3).lazy(), &AT),
                aggregate(all.slice(5, 1).lazy(), &AT),
            ],
            UnionArgs::default(),
        )?;
        let order = |lf: LazyFrame| {
            lf.sort(KEYS, SortMultipleOptions::default().with_nulls_last(true))
                .collect()
        };
        let (whole, summed) = (order(whole)?, order(combine(pieces))?);
        assert_eq!(whole.height(), 3);
        assert!(whole.equals_missing(&summed), "{whole}\n{summed}");
        // Ingest's grouping of one partition gives the same rows.
        let part = order(aggregate_part(all.lazy(), &AT))?;
        assert!(whole.equals_missing(&part), "{whole}\n{part}");
        Ok(())
    }
}
