//! Pseudonymous customer keys: the council's secret read once per run, and each normalised
//! identifier (phone, e-mail, reference; see `sources::customer`) replaced by a keyed hash
//! before a row reaches the lake. The key is the first 64 bits of HMAC-SHA-256(secret, kind +
//! value), stored as a signed 64-bit integer: the same identifier gives the same key in every
//! run under one secret, another secret gives unrelated keys, and without the secret a key
//! cannot be tested against a guessed phone number. Two different customers share a key with a
//! probability of about n² / 2⁶⁵ (under one in ten thousand for ten million customers). The
//! secret is never written anywhere; only a fingerprint of it (an HMAC of a fixed text) is
//! recorded, so a run can tell that the secret has changed.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::IngestError;
use crate::config::customers::{CustomerConfig, SecretSource};
use crate::config::{Pipeline, SourceDef};
use crate::granularity::Granularity;
use crate::model::col as c;

/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// What the fingerprint is an HMAC of.
const FINGERPRINT_TEXT: &str = "cex-insight customer key check";

/// HMAC-SHA-256 (RFC 2104) with the secret's inner and outer pads absorbed once: each key
/// clones the two prepared hash states. Written over `sha2` (15 lines, checked against the RFC
/// 4231 test vectors below) rather than adding a crate whose feature would rebuild polars.
#[derive(Clone)]
struct Hmac {
    inner: Sha256,
    outer: Sha256,
}

impl Hmac {
    const BLOCK: usize = 64;

    fn new(secret: &[u8]) -> Hmac {
        let mut key = [0u8; Self::BLOCK];
        if secret.len() > Self::BLOCK {
            key[..32].copy_from_slice(&Sha256::digest(secret));
        } else {
            key[..secret.len()].copy_from_slice(secret);
        }
        let pad = |byte: u8| -> Sha256 {
            let mut h = Sha256::new();
            h.update(key.map(|k| k ^ byte));
            h
        };
        Hmac {
            inner: pad(0x36),
            outer: pad(0x5c),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        for p in parts {
            inner.update(p);
        }
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

/// Makes customer keys under one secret.
#[derive(Clone)]
pub struct Keyer {
    mac: Hmac,
}

impl std::fmt::Debug for Keyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyer({})", self.fingerprint())
    }
}

impl Keyer {
    pub fn new(secret: &[u8]) -> Option<Keyer> {
        if secret.len() < MIN_SECRET_BYTES {
            return None;
        }
        Some(Keyer {
            mac: Hmac::new(secret),
        })
    }

    /// The key of one normalised identifier of a kind (`p` phone, `e` e-mail, `r:<scheme>`).
    pub fn key(&self, kind: &str, value: &str) -> i64 {
        let digest = self.mac.mac(&[kind.as_bytes(), b"\x1f", value.as_bytes()]);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(first)
    }

    /// A record key (a row's text, or a record id that is a customer's identifier) keyed: the
    /// first 128 bits of its HMAC, in hex, so it tells rows apart as a plain hash would and
    /// cannot be tested against guessed identifiers without the secret.
    pub fn record_key(&self, text: &str) -> String {
        self.mac.mac(&[b"record\x1f", text.as_bytes()])[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Sixteen hex digits that change with the secret and say nothing about it.
    pub fn fingerprint(&self) -> String {
        self.mac.mac(&[FINGERPRINT_TEXT.as_bytes()])[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Keys of a column of normalised identifiers (null stays null): each distinct identifier
    /// keyed once, in parallel, and spread back to its rows. Customers come back, so a file
    /// repeats most of its identifiers; when every one is distinct this costs one hash lookup
    /// per row more than keying each row. With `busy`, an identifier carrying more than the
    /// limit's contacts on one day (or judged so earlier in the file) gets no key.
    fn keys(
        &self,
        kind: &str,
        values: &StringChunked,
        busy: Option<Busy<'_>>,
        found: &mut Found,
    ) -> PolarsResult<Int64Chunked> {
        let (ids, first) = crate::sources::parse::distinct_ids(&values.clone().into_column())?;
        let distinct = values.take(&first)?;
        let texts: Vec<&str> = distinct.iter().flatten().collect();
        let mut placeholder = vec![false; texts.len()];
        if let Some(busy) = busy {
            for (id, most) in busy.over_limit(&ids, texts.len())? {
                if let Some(p) = placeholder.get_mut(id) {
                    *p = true;
                }
                found.busiest_day = found.busiest_day.max(most);
            }
            if !found.values.is_empty() {
                for (p, t) in placeholder.iter_mut().zip(&texts) {
                    *p = *p || found.values.contains(*t);
                }
            }
            for (p, t) in placeholder.iter().zip(&texts) {
                if *p && !found.values.contains(*t) {
                    found.values.insert((*t).to_string());
                }
            }
        }
        let mut keys: Vec<Option<i64>> = texts
            .par_iter()
            .zip(placeholder.par_iter())
            .with_min_len(4096)
            .map(|(v, p)| (!p).then(|| self.key(kind, v)))
            .collect();
        // Rows without an identifier point one past the distinct ones, at a null.
        keys.push(None);
        let keys =
            Int64Chunked::from_iter_options(values.name().clone(), keys.into_iter()).take(&ids)?;
        found.contacts += (keys.null_count() - values.null_count()) as u64;
        Ok(keys)
    }
}

/// The days of a batch's rows, and how many contacts one identifier may carry on one of them
/// (`customers.max_contacts_per_day`).
#[derive(Clone, Copy)]
struct Busy<'a> {
    days: &'a Int32Chunked,
    limit: u32,
}

impl Busy<'_> {
    /// The most counters [`Busy::over_limit`] counts days in at once (64 MB).
    const COUNTERS: usize = 16 << 20;

    /// The distinct identifiers (numbered as `distinct_ids` numbers them; `distinct` of them,
    /// the rest null) carrying more than the limit's contacts on one day, with their busiest
    /// day's count. Counted by position rather than grouped (the ids are dense numbers, the
    /// days a month or so): first each identifier's contacts in the batch, then, for the few
    /// with more than the limit, their contacts per day. A polars grouping by identifier and
    /// day cost over a second of a ten-million-contact ingest; this costs a pass or two over
    /// two arrays of numbers.
    fn over_limit(&self, ids: &IdxCa, distinct: usize) -> PolarsResult<Vec<(usize, u64)>> {
        let limit = self.limit;
        let mut total = vec![0u32; distinct];
        for id in ids.into_no_null_iter() {
            if let Some(t) = total.get_mut(id as usize) {
                *t += 1;
            }
        }
        let candidates: Vec<usize> = (0..distinct).filter(|i| total[*i] > limit).collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let (Some(first), Some(last)) = (self.days.min(), self.days.max()) else {
            return Ok(Vec::new());
        };
        let span = (i64::from(last) - i64::from(first) + 1) as usize;
        let mut out = Vec::new();
        // Candidates a few at a time, so that the counters stay within [`Self::COUNTERS`].
        for few in candidates.chunks((Self::COUNTERS / span.max(1)).max(1)) {
            let mut slot = vec![u32::MAX; distinct];
            for (k, id) in few.iter().enumerate() {
                slot[*id] = k as u32;
            }
            let mut per_day = vec![0u32; few.len() * span];
            for (id, day) in ids.into_no_null_iter().zip(self.days.iter()) {
                let (Some(k), Some(day)) = (slot.get(id as usize), day) else {
                    continue;
                };
                if *k != u32::MAX {
                    per_day[*k as usize * span + (day - first) as usize] += 1;
                }
            }
            for (k, id) in few.iter().enumerate() {
                let most = per_day[k * span..(k + 1) * span]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0);
                if most > limit {
                    out.push((*id, u64::from(most)));
                }
            }
        }
        Ok(out)
    }
}

/// Identifiers of one export column taken as placeholders by their volume, over a file's
/// batches: the values (normalised, held in memory only, never written), their contacts, and the
/// most contacts one carried on one day.
#[derive(Debug, Default)]
pub struct Found {
    values: std::collections::HashSet<String>,
    pub contacts: u64,
    pub busiest_day: u64,
}

impl Found {
    /// How many different identifiers were taken as placeholders.
    pub fn count(&self) -> u64 {
        self.values.len() as u64
    }
}

/// The keyer for a pipeline whose sources map customer identifiers (`None` when none does).
/// Without a readable secret of at least 16 bytes the run stops: it never falls back to plain
/// hashes, which anyone could test guessed phone numbers against.
pub fn load(pipeline: &Pipeline) -> Result<Option<Keyer>, IngestError> {
    if !pipeline.sources.iter().any(|s| s.customer.any()) {
        return Ok(None);
    }
    let fail = |key: &str, message: String| IngestError::Secret {
        file: pipeline.file.clone(),
        key: key.to_string(),
        message,
    };
    let (key, secret) = match &pipeline.customers.secret {
        None => {
            return Err(fail(
                "customers",
                "a source maps customer identifiers but no secret is named: add secret_file or secret_env".into(),
            ))
        }
        Some(SecretSource::File(path)) => ("customers.secret_file", read_file(path, &fail)?),
        Some(SecretSource::Env(var)) => (
            "customers.secret_env",
            std::env::var(var).map_err(|_| {
                fail(
                    "customers.secret_env",
                    format!("the environment variable {var} is not set (or not UTF-8): set it to the council's secret, at least {MIN_SECRET_BYTES} characters"),
                )
            })?,
        ),
    };
    let secret = secret.trim();
    Keyer::new(secret.as_bytes()).map(Some).ok_or_else(|| {
        fail(
            key,
            format!(
                "the secret is {} characters long: use at least {MIN_SECRET_BYTES} (e.g. 32 random characters from a password manager)",
                secret.chars().count()
            ),
        )
    })
}

fn read_file(
    path: &Path,
    fail: &impl Fn(&str, String) -> IngestError,
) -> Result<String, IngestError> {
    std::fs::read_to_string(path).map_err(|e| {
        fail(
            "customers.secret_file",
            format!(
                "cannot read the secret from {}: {e}; create it (readable by this account only) or point secret_file at it",
                path.display()
            ),
        )
    })
}

/// The file in the lake holding the fingerprint of the secret its keys were made with.
pub const KEY_CHECK_FILE: &str = "customer-key-check";

/// Refuses a secret other than the one the lake's keys were made with: keys under two secrets
/// never match, so repeats across them would silently be missed. The first keyed ingest that
/// commits records the fingerprint (`write`: true after the commit; false only compares).
pub fn check_lake(
    keyer: &Keyer,
    lake: &Path,
    write: bool,
    pipeline: &Path,
) -> Result<(), IngestError> {
    let path = lake.join(KEY_CHECK_FILE);
    let ours = keyer.fingerprint();
    match std::fs::read_to_string(&path) {
        Ok(theirs) if theirs.trim() == ours => Ok(()),
        Ok(theirs) => Err(IngestError::Secret {
            file: pipeline.to_path_buf(),
            key: "customers".into(),
            message: format!(
                "the lake's customer keys were made with another secret (check {}; this secret's is {ours}): keys under two secrets never match. Use the secret the lake was started with, or start a new lake after rotating it (README: rotating the secret)",
                theirs.trim()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if write {
                std::fs::write(&path, format!("{ours}\n")).map_err(|e| IngestError::Data {
                    path: path.clone(),
                    message: format!("cannot record the secret's fingerprint: {e}"),
                })?;
            }
            Ok(())
        }
        Err(e) => Err(IngestError::Data {
            path,
            message: e.to_string(),
        }),
    }
}

/// The keyer a source's record keys are to be keyed with: when the key is made of a customer's
/// identifier (the row's text, with `duplicates = "exact_row"`, holds its identifier columns; or
/// the record id is one of them). `None` when the record key holds no identifier. Without the
/// secret, such a source cannot be ingested (as its identifiers cannot be keyed).
pub fn record_keys_keyed<'k>(
    source: &SourceDef,
    keyer: Option<&'k Keyer>,
    path: &Path,
) -> Result<Option<&'k Keyer>, IngestError> {
    let identifiers = crate::sources::customer::identifiers(source);
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let holds_one = match source.duplicates {
        crate::config::Duplicates::ExactRow => !identifiers.is_empty(),
        crate::config::Duplicates::Key => source
            .columns
            .record_id
            .as_deref()
            .is_some_and(|id| identifiers.iter().any(|i| same(i.source_column, id))),
        _ => false,
    };
    if !holds_one {
        return Ok(None);
    }
    keyer.map(Some).ok_or_else(|| IngestError::Data {
        path: path.to_path_buf(),
        message: "customer identifiers cannot be keyed without the secret".into(),
    })
}

/// Replaces the normalised identifiers of accepted rows with their keys. Values the pipeline
/// lists in `customers.placeholders` get none; nor do those carrying more than
/// `customers.max_contacts_per_day` contacts on one day of the file (sources dated by day),
/// which are added to `found` under their export column.
pub fn pseudonymise(
    mut df: DataFrame,
    source: &SourceDef,
    customers: &CustomerConfig,
    keyer: Option<&Keyer>,
    path: &Path,
    found: &mut BTreeMap<String, Found>,
) -> Result<DataFrame, IngestError> {
    let identifiers = crate::sources::customer::identifiers(source);
    if identifiers.is_empty() {
        return Ok(df);
    }
    let keyer = keyer.ok_or_else(|| IngestError::Data {
        path: path.to_path_buf(),
        message: "customer identifiers cannot be keyed without the secret".into(),
    })?;
    let err = |e: PolarsError| IngestError::Data {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let days = if source.date_granularity == Granularity::Day {
        Some(
            df.column(c::DATE)
                .and_then(|d| d.cast(&DataType::Int32))
                .and_then(|d| d.i32().cloned())
                .map_err(err)?,
        )
    } else {
        None
    };
    for id in identifiers {
        let keys = {
            let values = df
                .column(id.column)
                .and_then(|c| c.str().cloned())
                .map_err(err)?;
            let values =
                without_listed(values, id.normalise, &customers.placeholders).map_err(err)?;
            let busy = days.as_ref().map(|days| Busy {
                days,
                limit: customers.max_contacts_per_day,
            });
            let found = found.entry(id.source_column.to_string()).or_default();
            keyer.keys(&id.kind, &values, busy, found).map_err(err)?
        };
        df.with_column(keys.into_column()).map_err(err)?;
    }
    found.retain(|_, f| f.count() > 0);
    Ok(df)
}

/// `values` with those `placeholders` stands for (put in the same form by `normalise`) null.
fn without_listed(
    values: StringChunked,
    normalise: fn(Expr) -> Expr,
    placeholders: &[String],
) -> PolarsResult<StringChunked> {
    if placeholders.is_empty() {
        return Ok(values);
    }
    let listed = DataFrame::new_infer_height(vec![Column::new("v".into(), placeholders)])?
        .lazy()
        .select([normalise(col("v"))])
        .collect()?
        .column("v")?
        .as_materialized_series()
        .drop_nulls();
    let name = values.name().clone();
    DataFrame::new_infer_height(vec![values
        .into_series()
        .with_name("v".into())
        .into_column()])?
    .lazy()
    .select([when(col("v").is_in(lit(listed).implode(false), false))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(col("v"))
        .alias("v")])
    .collect()?
    .column("v")?
    .str()
    .map(|v| v.clone().with_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231 test cases 1, 2, 4 and 6 (a key longer than the block is hashed first).
    #[test]
    fn the_mac_is_hmac_sha_256_as_rfc_4231_gives_it() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 4] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                (1u8..=25).collect(),
                vec![0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hex(&Hmac::new(&key).mac(&[&data])), want);
        }
        // A message given in parts is the same message.
        let mac = Hmac::new(b"Jefe");
        assert_eq!(
            mac.mac(&[b"what do ya", b" want for nothing?"]),
            mac.mac(&[b"what do ya want for nothing?"])
        );
    }

    #[test]
    fn a_columns_keys_are_each_rows_own_key() -> PolarsResult<()> {
        let Some(keyer) = Keyer::new(b"a council secret, long enough") else {
            panic!("secrets of 16+ bytes are accepted");
        };
        // Repeated and distinct identifiers, nulls among them (first row included), more rows
        // than one parallel piece.
        let rows: Vec<Option<String>> = (0..20_000)
            .map(|i: u32| (!i.is_multiple_of(7)).then(|| format!("0770090{:04}", (i * 37) % 3001)))
            .chain((0..50).map(|i| Some(format!("only-once-{i}"))))
            .collect();
        let cases = [
            rows,
            vec![None, None],
            vec![Some("07700900123".to_string())],
            vec![],
        ];
        for values in cases {
            let column =
                StringChunked::from_iter_options("v".into(), values.iter().map(|v| v.as_deref()));
            let got: Vec<Option<i64>> = keyer
                .keys("p", &column, None, &mut Found::default())?
                .iter()
                .collect();
            let want: Vec<Option<i64>> = values
                .iter()
                .map(|v| v.as_deref().map(|v| keyer.key("p", v)))
                .collect();
            assert_eq!(got, want);
        }
        Ok(())
    }

    /// The counting by position gives what a plain count of (identifier, day) pairs gives, on
    /// random ids and days with nulls among the days.
    #[test]
    fn identifiers_over_the_daily_limit_are_those_a_plain_count_finds() -> PolarsResult<()> {
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let distinct = 40usize;
        let (mut ids, mut days) = (Vec::new(), Vec::new());
        for _ in 0..5000 {
            // A few identifiers far busier than the rest.
            let id = if next(4) == 0 {
                next(3)
            } else {
                next(distinct as u64)
            } as IdxSize;
            ids.push(id);
            days.push((next(50) != 0).then(|| 20_000 + next(31) as i32));
        }
        // Rows without an identifier point one past the distinct ones.
        ids.extend([distinct as IdxSize; 100]);
        days.extend([Some(20_000); 100]);
        let ids = IdxCa::from_vec("id".into(), ids);
        let days = Int32Chunked::from_iter_options("day".into(), days.into_iter());
        let mut plain: std::collections::HashMap<(IdxSize, i32), u64> = Default::default();
        for (id, day) in ids.into_no_null_iter().zip(days.iter()) {
            if let (true, Some(day)) = ((id as usize) < distinct, day) {
                *plain.entry((id, day)).or_default() += 1;
            }
        }
        for limit in [2, 5, 20, 60, 100_000] {
            let mut want: Vec<(usize, u64)> = Vec::new();
            for id in 0..distinct {
                let most = plain
                    .iter()
                    .filter(|((i, _), _)| *i as usize == id)
                    .map(|(_, n)| *n)
                    .max()
                    .unwrap_or(0);
                if most > u64::from(limit) {
                    want.push((id, most));
                }
            }
            let busy = Busy { days: &days, limit };
            let mut got = busy.over_limit(&ids, distinct)?;
            got.sort_unstable();
            assert_eq!(got, want, "limit {limit}");
        }
        Ok(())
    }

    #[test]
    fn same_identifier_same_key_other_secret_other_key() {
        let (Some(a), Some(b)) = (
            Keyer::new(b"a council secret, long enough"),
            Keyer::new(b"another council's secret value"),
        ) else {
            panic!("secrets of 16+ bytes are accepted");
        };
        assert_eq!(a.key("p", "07700900123"), a.key("p", "07700900123"));
        assert_ne!(a.key("p", "07700900123"), b.key("p", "07700900123"));
        assert_ne!(a.key("p", "07700900123"), a.key("p", "07700900124"));
        // Kinds are kept apart: a reference equal to a phone number is another key.
        assert_ne!(a.key("p", "07700900123"), a.key("r:account", "07700900123"));
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(Keyer::new(b"short").is_none());
        // Record keys: 128 bits in hex, the same for the same text, another under another
        // secret, and never the plain SHA-256 a reader could compute.
        let row = "F1\u{1f}03/01/2025 08:00\u{1f}+44 7700 900001";
        assert_eq!(a.record_key(row), a.record_key(row));
        assert_eq!(a.record_key(row).len(), 32);
        assert!(a.record_key(row).chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.record_key(row), b.record_key(row));
        let plain: String = Sha256::digest(row.as_bytes())[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(a.record_key(row), plain);
    }
}
