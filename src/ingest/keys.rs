//! The keys duplicates are recognised by, held compactly: each (organisation, record_key) is kept as
//! a 96-bit hash with 32 bits of a hash of the content of the row taken under it, 16 bytes a
//! record whatever the key's length ([`KeySet`]). Two different records share an identity with a
//! probability of about n² / 2⁹⁷ (under 10⁻¹¹ for a billion records), so de-duplication is exact
//! in practice. A row under a key already taken is a repeat when its content hash is the same,
//! else a conflict (counted as a duplicate, and warned of). Hashes live only for one run; nothing
//! stores them.
//!
//! [`SeenKeys`] holds the keys of each (year, month) partition of one source: the lake's, read
//! when the partition is first touched, plus those this run added. When more than a budget of
//! keys are held, the least recently used partitions are dropped and read again (from the lake and
//! this run's staged files) if a later file touches them.

use std::collections::HashMap;
use std::path::PathBuf;

use polars::prelude::*;

use super::{collect, data_err, IngestError};
use crate::config::SourceDef;
use crate::lake::{scan_files, Lake};
use crate::model::col as c;

/// What taking a row's key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The key was not held: the row is new (and its key is now held).
    New,
    /// The key was held with the same content: the row was sent again.
    Repeat,
    /// The key was held with other content: another record under a key already taken.
    Conflict,
}

/// Record identities, each with a hash of the content of the row first taken under it
/// ([`content_hashes`]), 16 bytes each: the identity's 96 bits (the first hash whole, 32 bits of
/// the second) above 32 bits of the content hash. A later row with the same identity and other
/// content is a conflict, not a repeat; two contents share 32 bits with a chance of one in four
/// billion per conflict.
#[derive(Default)]
pub struct KeySet {
    table: hashbrown::HashTable<u128>,
}

impl KeySet {
    fn entry_of((a, b): Key, content: u64) -> u128 {
        (u128::from(a) << 64) | (u128::from(b as u32) << 32) | u128::from(content as u32)
    }

    /// The table's hash of an entry: the identity's first hash, already uniform.
    fn hash(entry: &u128) -> u64 {
        (entry >> 64) as u64
    }

    fn same_identity(entry: u128) -> impl Fn(&u128) -> bool {
        move |held| held >> 32 == entry >> 32
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.table.reserve(additional, Self::hash);
    }

    /// Whether a row of `key` is held, whatever its content.
    pub fn contains(&self, key: Key) -> bool {
        let entry = Self::entry_of(key, 0);
        self.table
            .find(Self::hash(&entry), Self::same_identity(entry))
            .is_some()
    }

    /// Takes a row of `key` and `content`: held from now on if its key was not.
    pub fn take(&mut self, key: Key, content: u64) -> Taken {
        let entry = Self::entry_of(key, content);
        match self
            .table
            .entry(Self::hash(&entry), Self::same_identity(entry), Self::hash)
        {
            hashbrown::hash_table::Entry::Occupied(held) if *held.get() == entry => Taken::Repeat,
            hashbrown::hash_table::Entry::Occupied(_) => Taken::Conflict,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(entry);
                Taken::New
            }
        }
    }
}

/// A record's identity: two independently seeded 64-bit hashes of its (organisation,
/// record_key).
pub type Key = (u64, u64);

const SEED_A: u64 = 0x243F_6A88_85A3_08D3;
const SEED_B: u64 = 0x1319_8A2E_0370_7344;

/// The identity of each row's (organisation, record_key).
pub fn key_hashes(df: &DataFrame) -> PolarsResult<Vec<Key>> {
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

    /// The files of one partition: the lake's and this run's staged ones.
    fn month_files(&self, lake: &Lake, year: i32, month: i8) -> Vec<PathBuf> {
        let mut files =
            lake.partition_files(self.source.kind.table(), &self.source.name, year, month);
        files.extend(
            self.staged
                .get(&(year, month))
                .into_iter()
                .flatten()
                .cloned(),
        );
        files
    }

    fn load(&self, lake: &Lake, year: i32, month: i8) -> Result<KeySet, IngestError> {
        let files = self.month_files(lake, year, month);
        let mut keys = KeySet::default();
        if let Some(lf) = scan_files(&files, lake.root())? {
            let df = collect(self.read_back(lf, lake)?, lake.root())?;
            let err = |e| data_err(lake.root(), e);
            let hashes = key_hashes(&df).map_err(err)?;
            let contents = content_hashes(&df, &self.content).map_err(err)?;
            keys.reserve(hashes.len());
            // A key the lake holds twice (never written so, but read as it is): the first row.
            for (h, content) in hashes.into_iter().zip(contents) {
                keys.take(h, content);
            }
        }
        Ok(keys)
    }

    /// The identity and the content of the rows of `lf` (the lake's, or staged), the content in
    /// the types this run's rows have (the lake widens unsigned numbers), so that equal rows
    /// hash and compare alike.
    fn read_back(&self, lf: LazyFrame, lake: &Lake) -> Result<LazyFrame, IngestError> {
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
        Ok(lf.select(identity.chain(content).collect::<Vec<_>>()))
    }

    /// The row taken first under the identity of `row` (one accepted row whose key was taken
    /// with other content), as the lake or this run's staged files hold it: looked for in the
    /// row's month, then in every month this run staged (a row earlier in the same export can be
    /// dated otherwise). `None` when it is in neither (a dry run stages nothing).
    pub fn first_version(
        &self,
        lake: &Lake,
        year: i32,
        month: i8,
        row: &DataFrame,
    ) -> Result<Option<DataFrame>, IngestError> {
        let same_identity = [c::ORGANISATION, c::RECORD_KEY]
            .into_iter()
            .filter_map(|name| row.column(name).ok())
            .map(|value| {
                col(value.name().clone()).is_in(
                    lit(value.as_materialized_series().clone()).implode(false),
                    true,
                )
            })
            .reduce(Expr::and)
            .unwrap_or(lit(false));
        let month_files = self.month_files(lake, year, month);
        let every_staged: Vec<PathBuf> = self.staged.values().flatten().cloned().collect();
        for files in [month_files, every_staged] {
            let Some(lf) = scan_files(&files, lake.root())? else {
                continue;
            };
            let found = collect(
                self.read_back(lf, lake)?
                    .filter(same_identity.clone())
                    .limit(1),
                lake.root(),
            )?;
            if found.height() > 0 {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// The columns of `columns` in which two one-row frames differ (a null equals a null only).
pub fn differing(
    row: &DataFrame,
    other: &DataFrame,
    columns: &[(PlSmallStr, DataType)],
) -> PolarsResult<Vec<String>> {
    let value = |df: &DataFrame, name: &PlSmallStr, dtype: &DataType| -> PolarsResult<Series> {
        Ok(match df.column(name) {
            Ok(column) => column.cast(dtype)?.as_materialized_series().clone(),
            Err(_) => Series::full_null(name.clone(), df.height(), dtype),
        })
    };
    let mut out = Vec::new();
    for (name, dtype) in columns {
        let same = value(row, name, dtype)?
            .equal_missing(&value(other, name, dtype)?)?
            .get(0)
            .unwrap_or(false);
        if !same {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_names_the_columns_two_rows_differ_in_and_takes_null_for_null() -> PolarsResult<()>
    {
        let row = df!("a" => [Some(1i64)], "b" => [None::<&str>], "c" => [Some(2.5f64)])?;
        let other = df!("a" => [Some(1i64)], "b" => [None::<&str>], "c" => [Some(3.0f64)])?;
        let columns = content_columns(row.schema());
        assert_eq!(differing(&row, &other, &columns)?, vec!["c".to_string()]);
        let filled = df!("a" => [Some(1i64)], "b" => [Some("x")], "c" => [Some(2.5f64)])?;
        assert_eq!(differing(&row, &filled, &columns)?, vec!["b".to_string()]);
        // A column one of them lacks is null there.
        let fewer = df!("a" => [Some(1i64)], "c" => [Some(2.5f64)])?;
        assert!(differing(&row, &fewer, &columns)?.is_empty());
        assert_eq!(differing(&filled, &fewer, &columns)?, vec!["b".to_string()]);
        Ok(())
    }

    #[test]
    fn a_key_taken_again_is_a_repeat_with_its_content_and_a_conflict_without() {
        let mut keys = KeySet::default();
        let (one, two) = ((7, 9), (7, 10));
        assert_eq!(keys.take(one, 100), Taken::New);
        assert_eq!(keys.take(one, 100), Taken::Repeat);
        assert_eq!(keys.take(one, 101), Taken::Conflict);
        // The first content stays: the row taken first is the one kept.
        assert_eq!(keys.take(one, 100), Taken::Repeat);
        // Another identity under the same first hash is another record.
        assert_eq!(keys.take(two, 101), Taken::New);
        assert!(keys.contains(one) && keys.contains(two) && !keys.contains((8, 9)));
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn rows_equal_in_every_compared_column_hash_alike_and_others_do_not() -> PolarsResult<()> {
        let df = df!(
            "record_key" => ["a", "b", "c", "d"],
            "source_row" => [2u32, 3, 4, 5],
            "wait_seconds" => [Some(1.0), Some(1.0), Some(2.0), None],
            "service" => ["Housing", "Housing", "Housing", "Housing"],
        )?;
        let columns = content_columns(df.schema());
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["service", "wait_seconds"]);
        let h = content_hashes(&df, &columns)?;
        assert_eq!(h[0], h[1]);
        assert!(h[0] != h[2] && h[0] != h[3] && h[2] != h[3]);
        // The lake widens unsigned numbers: cast back, the same rows hash alike.
        let narrow = df!("n" => [1u32, 2])?;
        let wide = df!("n" => [1i64, 2])?;
        let columns = content_columns(narrow.schema());
        assert_eq!(
            content_hashes(&narrow, &columns)?,
            content_hashes(&wide, &columns)?
        );
        Ok(())
    }
}
