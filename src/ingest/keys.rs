//! The keys duplicates are recognised by, held compactly: each (organisation, record_key) is kept as
//! a 128-bit hash (two independently seeded 64-bit hashes) with a 64-bit hash of the content of
//! the row taken under it, 24 bytes a record whatever the key's length. Two different records share
//! a hash with a probability of about n² / 2¹²⁹ (under 10⁻²⁰ for a billion records), so
//! de-duplication is exact in practice. A row under a key already taken is a repeat when its
//! content hash is the same, else a conflict (counted as a duplicate, and warned of). Hashes
//! live only for one run; nothing stores them.
//!
//! [`SeenKeys`] holds the keys of each (year, month) partition of one source: the lake's, read
//! when the partition is first touched, plus those this run added. When more than a budget of
//! keys are held, the least recently used partitions are dropped and read again (from the lake and
//! this run's staged files) if a later file touches them.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;

use polars::prelude::*;

use super::{collect, data_err, IngestError};
use crate::config::SourceDef;
use crate::lake::{scan_files, Lake};
use crate::model::col as c;

/// The keys are hashes already: the set uses them as they are.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
}

/// Record identities, each with the hash of the content of the row first taken under it
/// ([`content_hashes`]): a later row with the same identity and other content is a conflict,
/// not a plain repeat.
/// The identity is held as two 64-bit halves, not one 128-bit number: 8-byte alignment makes an
/// entry 24 bytes instead of 32.
pub type KeySet = HashMap<(u64, u64), u64, BuildHasherDefault<PassThrough>>;

const SEED_A: u64 = 0x243F_6A88_85A3_08D3;
const SEED_B: u64 = 0x1319_8A2E_0370_7344;

/// The 128-bit identity of each row's (organisation, record_key).
pub fn key_hashes(df: &DataFrame) -> PolarsResult<Vec<(u64, u64)>> {
    let org = df.column(c::ORGANISATION)?.as_materialized_series().clone();
    let key = df.column(c::RECORD_KEY)?.as_materialized_series().clone();
    let (org, key) = (org.str()?, key.str()?);
    let half = |seed: u64| -> PolarsResult<Vec<u64>> {
        let mut h = Vec::with_capacity(df.height());
        key.vec_hash(PlSeedableRandomStateQuality::seed_from_u64(seed), &mut h)?;
        org.vec_hash_combine(PlSeedableRandomStateQuality::seed_from_u64(seed), &mut h)?;
        Ok(h)
    };
    let (a, b) = (half(SEED_A)?, half(SEED_B)?);
    Ok(a.into_iter().zip(b).collect())
}

/// Columns a row's content is not compared by: its identity and where it was read (the same
/// record in another file is at another row), and the customer keys, which change when the
/// council's secret is rotated while the record stays the same.
fn bookkeeping(name: &str) -> bool {
    [c::RECORD_KEY, c::SOURCE_FILE_ID, c::SOURCE_ROW].contains(&name)
        || crate::model::CUSTOMER_KEYS.contains(&name)
}

/// The columns (name and type) a source's rows are compared by, in name order: every column of
/// `schema` but the [`bookkeeping`] ones.
pub fn content_columns(schema: &Schema) -> Vec<(PlSmallStr, DataType)> {
    let mut columns: Vec<(PlSmallStr, DataType)> = schema
        .iter()
        .filter(|(name, _)| !bookkeeping(name))
        .map(|(name, dtype)| (name.clone(), dtype.clone()))
        .collect();
    columns.sort_by(|a, b| a.0.cmp(&b.0));
    columns
}

const SEED_CONTENT: u64 = 0xA409_3822_299F_31D0;

/// A 64-bit hash of each row's content over `columns` (from [`content_columns`]): rows equal in
/// every one hash alike. Used only to tell a record sent again (same content) from another
/// record under the same identity; nothing stores it.
pub fn content_hashes(
    df: &DataFrame,
    columns: &[(PlSmallStr, DataType)],
) -> PolarsResult<Vec<u64>> {
    let state = PlSeedableRandomStateQuality::seed_from_u64(SEED_CONTENT);
    let mut h = Vec::with_capacity(df.height());
    for (i, (name, dtype)) in columns.iter().enumerate() {
        let column = match df.column(name) {
            Ok(column) if column.dtype() == dtype => column.as_materialized_series().clone(),
            Ok(column) => column.cast(dtype)?.as_materialized_series().clone(),
            Err(_) => Series::full_null(name.clone(), df.height(), dtype),
        };
        if i == 0 {
            column.vec_hash(state.clone(), &mut h)?;
        } else {
            column.vec_hash_combine(state.clone(), &mut h)?;
        }
    }
    if columns.is_empty() {
        h.resize(df.height(), 0);
    }
    Ok(h)
}

/// Keys already taken in each (year, month) partition of one source: the lake's, then this run's.
pub struct SeenKeys {
    source: SourceDef,
    parts: HashMap<(i32, i8), Part>,
    /// Parquet files this run staged for each partition (complete ones only).
    staged: HashMap<(i32, i8), Vec<PathBuf>>,
    clock: u64,
    /// Keys held before least recently used partitions are dropped; `None`: never dropped
    /// (a dry run stages nothing to read them back from).
    budget: Option<usize>,
    /// The columns rows are compared by ([`content_columns`] of the source's accepted rows).
    content: Vec<(PlSmallStr, DataType)>,
}

struct Part {
    keys: KeySet,
    used: u64,
}

impl SeenKeys {
    pub fn new(source: &SourceDef, budget: Option<usize>) -> SeenKeys {
        SeenKeys {
            source: source.clone(),
            parts: HashMap::new(),
            staged: HashMap::new(),
            clock: 0,
            budget,
            content: Vec::new(),
        }
    }

    /// Sets the columns rows are compared by, from the first accepted rows' schema; later calls
    /// keep the first.
    pub fn compare_by(&mut self, schema: &Schema) -> &[(PlSmallStr, DataType)] {
        if self.content.is_empty() {
            self.content = content_columns(schema);
        }
        &self.content
    }

    /// The keys of one partition, read from the lake (and this run's staged files) if not held.
    pub fn part(&mut self, lake: &Lake, year: i32, month: i8) -> Result<&mut KeySet, IngestError> {
        self.clock += 1;
        let clock = self.clock;
        if !self.parts.contains_key(&(year, month)) {
            let keys = self.load(lake, year, month)?;
            self.parts.insert((year, month), Part { keys, used: clock });
        }
        match self.parts.get_mut(&(year, month)) {
            Some(part) => {
                part.used = clock;
                Ok(&mut part.keys)
            }
            None => Err(data_err(lake.root(), "partition keys vanished")),
        }
    }

    /// Records a complete staged file of a partition, so its keys can be read back.
    pub fn add_staged(&mut self, year: i32, month: i8, path: PathBuf) {
        self.staged.entry((year, month)).or_default().push(path);
    }

    /// Drops least recently used partitions until the keys held are within the budget.
    pub fn trim(&mut self) {
        let Some(budget) = self.budget else {
            return;
        };
        let mut held: usize = self.parts.values().map(|p| p.keys.len()).sum();
        while held > budget && self.parts.len() > 1 {
            let Some(oldest) = self
                .parts
                .iter()
                .min_by_key(|(_, p)| p.used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(p) = self.parts.remove(&oldest) {
                held -= p.keys.len();
            }
        }
    }

    fn load(&self, lake: &Lake, year: i32, month: i8) -> Result<KeySet, IngestError> {
        let mut files =
            lake.partition_files(self.source.kind.table(), &self.source.name, year, month);
        files.extend(
            self.staged
                .get(&(year, month))
                .into_iter()
                .flatten()
                .cloned(),
        );
        let mut keys = KeySet::default();
        if let Some(lf) = scan_files(&files, lake.root())? {
            // The rows' content in the types this run's rows have (the lake widens unsigned
            // numbers), so that equal rows hash alike.
            let have = lf
                .clone()
                .collect_schema()
                .map_err(|e| data_err(lake.root(), e))?;
            let identity = [c::ORGANISATION, c::RECORD_KEY]
                .into_iter()
                .filter(|name| !self.content.iter().any(|(n, _)| n == name))
                .map(col);
            let content = self.content.iter().map(|(name, dtype)| {
                if have.contains(name) {
                    col(name.clone()).cast(dtype.clone())
                } else {
                    lit(NULL).cast(dtype.clone()).alias(name.clone())
                }
            });
            let df = collect(
                lf.select(identity.chain(content).collect::<Vec<_>>()),
                lake.root(),
            )?;
            let err = |e| data_err(lake.root(), e);
            let hashes = key_hashes(&df).map_err(err)?;
            let contents = content_hashes(&df, &self.content).map_err(err)?;
            keys.reserve(hashes.len());
            // A key the lake holds twice (never written so, but read as it is): the first row.
            for (h, content) in hashes.into_iter().zip(contents) {
                keys.entry(h).or_insert(content);
            }
        }
        Ok(keys)
    }
}
