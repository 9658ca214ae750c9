//! The keys duplicates are recognised by, held compactly: each (organisation, record_key) is kept as
//! a 128-bit hash (two independently seeded 64-bit hashes), 16 bytes a record whatever the key's
//! length. Two different records share a hash with a probability of about n² / 2¹²⁹ (under 10⁻²⁰
//! for a billion records), so de-duplication is exact in practice. Hashes live only for one run;
//! nothing stores them.
//!
//! [`SeenKeys`] holds the keys of each (year, month) partition of one source: the lake's, read
//! when the partition is first touched, plus those this run added. When more than a budget of
//! keys are held, the least recently used partitions are dropped and read again (from the lake and
//! this run's staged files) if a later file touches them.

use std::collections::{HashMap, HashSet};
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
    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

/// A set of record identities.
pub type KeySet = HashSet<u128, BuildHasherDefault<PassThrough>>;

const SEED_A: u64 = 0x243F_6A88_85A3_08D3;
const SEED_B: u64 = 0x1319_8A2E_0370_7344;

/// The 128-bit identity of each row's (organisation, record_key).
pub fn key_hashes(df: &DataFrame) -> PolarsResult<Vec<u128>> {
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
    Ok(a.into_iter()
        .zip(b)
        .map(|(a, b)| (u128::from(a) << 64) | u128::from(b))
        .collect())
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
        }
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
            let df = collect(
                lf.select([col(c::ORGANISATION), col(c::RECORD_KEY)]),
                lake.root(),
            )?;
            let hashes = key_hashes(&df).map_err(|e| data_err(lake.root(), e))?;
            keys.reserve(hashes.len());
            keys.extend(hashes);
        }
        Ok(keys)
    }
}
