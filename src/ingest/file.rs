//! One export file through ingest, in batches of rows: each batch of mapped rows is split into
//! blank, rejected, duplicate and new rows; rejected rows go straight to the file's rejects CSV and
//! new rows to one Parquet file per month, so memory holds a batch (plus the keys seen), not the
//! file. A small file is one batch.
//!
//! A row is a duplicate when an earlier accepted row of the same file has its key (whatever the
//! month), or when its key is already in its (year, month) partition: in the lake, or added by an
//! earlier file of this run.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use polars::prelude::*;

use super::keys::{content_hashes, key_hashes, KeySet, SeenKeys, Taken};
use super::report::{
    ConflictingDuplicates, FileReport, FileStatus, FirstReject, PlaceholderCount, WITHHELD,
};
use super::{collect_with, data_err, manifest_path, Context, IngestError};
use crate::config::{Duplicates, Pipeline, SourceDef, SourceKind};
use crate::lake::manifest::{FileRecord, RowCounts};
use crate::lake::monthly;
use crate::lake::parquet::LakeWriter;
use crate::model::col as c;
use crate::sources::map::{
    canonical, carried_columns, expand_intervals, raw_column, table_columns, RejectChecks,
    BLANK_ROW, REJECT_CHECK, REJECT_COLUMN, REJECT_REASON, REJECT_VALUE,
};
use crate::sources::read::{Chunks, RawFile};
use crate::sources::reason;

/// Rows per Parquet row group (polars' default).
const ROW_GROUP: usize = 512 * 512;

/// The first batch of a file's mapped rows, and what its reject checks mean.
pub(super) struct FirstBatch {
    pub frame: DataFrame,
    pub checks: RejectChecks,
}

/// Ingests one opened file, given its first batch of mapped rows; returns its report and
/// manifest record.
pub(super) fn ingest_file(
    ctx: &Context,
    source: &SourceDef,
    services: &[(String, String)],
    mut raw: RawFile,
    first: FirstBatch,
    seen: &mut SeenKeys,
    shown: String,
) -> Result<(FileReport, FileRecord), IngestError> {
    let chunks = raw.chunks.take();
    let raw = &raw;
    let FirstBatch {
        frame: first,
        checks,
    } = first;
    let mut state = FileIngest::new(ctx, source, raw, checks, seen);
    // The file's keys are all held at once: sized once for the whole file (estimated from the
    // first piece) rather than grown by doubling, each doubling a copy.
    if chunks.is_some() {
        // (A piece is at least the target size, so this over-counts only when the target is
        // shorter than a row: a row is taken to be 16 bytes at least.)
        let pieces = raw.size as f64 / ctx.options.chunk_bytes.max(1) as f64;
        let estimate = (first.height() as f64 * pieces.max(1.0)).min(raw.size as f64 / 16.0);
        state.file_keys.reserve(estimate as usize);
    }
    match chunks {
        None => state.add(first)?,
        Some(chunks) => pieces(
            ctx.pipeline,
            ctx.today,
            source,
            services,
            raw,
            chunks,
            first,
            &mut state,
        )?,
    }
    state.finish(shown)
}

/// The pieces of a large file: each is read and mapped on a thread of its own while the one
/// before is de-duplicated and written, so at most three pieces are in memory.
#[allow(clippy::too_many_arguments)]
fn pieces(
    pipeline: &Pipeline,
    today: chrono::NaiveDate,
    source: &SourceDef,
    services: &[(String, String)],
    raw: &RawFile,
    mut chunks: Chunks,
    first: DataFrame,
    state: &mut FileIngest,
) -> Result<(), IngestError> {
    let (tx, rx) = sync_channel::<Result<DataFrame, IngestError>>(1);
    chunks.advance(first.height() as u64);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || loop {
            let mapped = chunks
                .next_frame()
                .map_err(IngestError::from)
                .and_then(|frame| {
                    let Some(frame) = frame else {
                        return Ok(None);
                    };
                    // Every piece has the same columns, so the same checks as the first.
                    let (plan, _) =
                        canonical(&raw.piece(frame), source, pipeline, services, today)?;
                    collect_with(plan, &raw.path, Engine::InMemory).map(Some)
                });
            match mapped {
                Ok(None) => break,
                Ok(Some(df)) => {
                    chunks.advance(df.height() as u64);
                    if tx.send(Ok(df)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
        });
        let mut outcome = state.add(first);
        if outcome.is_ok() {
            for mapped in rx.iter() {
                outcome = mapped.and_then(|df| state.add(df));
                if outcome.is_err() {
                    break;
                }
            }
        }
        // Unblocks a piece waiting to be handed over; the reader then stops.
        drop(rx);
        if producer.join().is_err() && outcome.is_ok() {
            outcome = Err(data_err(&raw.path, "the reader failed"));
        }
        outcome
    })
}

/// A lake partition: organisation, year, month (the source is the file's).
type PartKey = (String, i32, i8);

/// The new rows of one partition on their way to its Parquet file.
struct PartOut {
    /// The schema of the frames written (set with the writer).
    schema: Option<Schema>,
    path: PathBuf,
    file: File,
    writer: Option<LakeWriter>,
    pending: Vec<DataFrame>,
    pending_rows: usize,
    /// The monthly aggregates of the row groups written (contacts only), summed at the end.
    sums: Vec<DataFrame>,
}

/// The state of one file being ingested.
struct FileIngest<'a> {
    ctx: &'a Context<'a>,
    source: &'a SourceDef,
    raw: &'a RawFile,
    checks: RejectChecks,
    seen: &'a mut SeenKeys,
    /// Keys of the rows of this file accepted so far.
    file_keys: KeySet,
    columns: Vec<PlSmallStr>,
    counts: RowCounts,
    unmapped_values: BTreeMap<String, crate::ingest::report::UnmappedValues>,
    unmapped: crate::ingest::report::UnmappedValues,
    first_date: Option<i32>,
    last_date: Option<i32>,
    rejects: Option<(File, String)>,
    parts: HashMap<PartKey, PartOut>,
    /// Identifiers taken as placeholders by their volume, by export column.
    placeholders: BTreeMap<String, super::pseudonym::Found>,
    /// The first rejected row of each reason.
    first_rejects: BTreeMap<String, FirstReject>,
    /// Rows with the identity of a row already taken and other content.
    conflicts: ConflictingDuplicates,
    /// The first such row, with its year and month: compared with the row taken first once the
    /// file's rows are staged, to name the columns that differ.
    first_conflict: Option<(i32, i8, DataFrame)>,
}

impl<'a> FileIngest<'a> {
    fn new(
        ctx: &'a Context<'a>,
        source: &'a SourceDef,
        raw: &'a RawFile,
        checks: RejectChecks,
        seen: &'a mut SeenKeys,
    ) -> FileIngest<'a> {
        let columns = table_columns(source, ctx.pipeline)
            .into_iter()
            .chain(carried_columns(source))
            .map(PlSmallStr::from)
            .collect();
        FileIngest {
            ctx,
            source,
            raw,
            checks,
            seen,
            file_keys: KeySet::default(),
            columns,
            counts: RowCounts::default(),
            unmapped_values: BTreeMap::new(),
            unmapped: Default::default(),
            first_date: None,
            last_date: None,
            rejects: None,
            parts: HashMap::new(),
            placeholders: BTreeMap::new(),
            first_rejects: BTreeMap::new(),
            conflicts: ConflictingDuplicates::default(),
            first_conflict: None,
        }
    }

    /// Takes one batch of the mapped plan.
    fn add(&mut self, df: DataFrame) -> Result<(), IngestError> {
        let raw: &'a RawFile = self.raw;
        let err = |e: PolarsError| data_err(&raw.path, e);
        let blank = df
            .column(BLANK_ROW)
            .and_then(|c| c.bool().cloned())
            .map_err(err)?;
        let blank_n = blank.sum().unwrap_or(0) as u64;
        self.counts.blank_rows += blank_n;
        self.counts.rows_read += df.height() as u64 - blank_n;
        let check = df
            .column(REJECT_CHECK)
            .and_then(|c| c.u16().cloned())
            .map_err(err)?;
        let not_blank = !&blank;
        let rules = self.checks.excluded();
        let is_excluded = &(&check.gt_eq(rules.start) & &check.lt(rules.end)) & &not_blank;
        if is_excluded.any() {
            self.take_excluded(&check, &is_excluded).map_err(err)?;
        }
        let is_rejected = &(&check.is_not_null() & &not_blank) & &!&is_excluded;
        let is_accepted = &check.is_null() & &not_blank;
        if is_rejected.any() {
            let rejected = df.filter(&is_rejected).map_err(err)?;
            self.take_rejects(rejected)?;
        }
        if !is_accepted.any() {
            return Ok(());
        }
        let accepted = df
            .select(self.columns.iter().cloned())
            .and_then(|d| d.filter(&is_accepted))
            .map_err(err)?;
        drop(df);
        self.take_accepted(accepted)
    }

    /// Counts the rows a filter rule put out of scope, by rule.
    fn take_excluded(
        &mut self,
        check: &UInt16Chunked,
        is_excluded: &BooleanChunked,
    ) -> PolarsResult<()> {
        let by_rule = check.filter(is_excluded)?.into_series().value_counts(
            false,
            false,
            "n".into(),
            false,
        )?;
        let ids = by_rule.column(REJECT_CHECK)?.u16()?.clone();
        let counts = by_rule.column("n")?.cast(&DataType::UInt64)?;
        for (id, n) in ids.iter().zip(counts.u64()?.iter()) {
            let (Some(id), Some(n)) = (id, n) else {
                continue;
            };
            let name = self.checks.rule_name(id).unwrap_or("(rule)").to_string();
            *self.counts.excluded_by_rule.entry(name).or_default() += n;
            self.counts.excluded += n;
        }
        Ok(())
    }

    fn take_rejects(&mut self, rejected: DataFrame) -> Result<(), IngestError> {
        let raw: &'a RawFile = self.raw;
        let err = |e: PolarsError| data_err(&raw.path, e);
        self.counts.rejected += rejected.height() as u64;
        let rejected = collect_with(
            rejected
                .lazy()
                .with_columns(self.checks.describe(&raw.headers)),
            &raw.path,
            Engine::InMemory,
        )?;
        let reasons = rejected
            .column(REJECT_REASON)
            .and_then(|c| c.str().cloned())
            .map_err(err)?;
        let values = rejected
            .column(REJECT_VALUE)
            .and_then(|c| c.str().cloned())
            .map_err(err)?;
        let columns = rejected
            .column(REJECT_COLUMN)
            .and_then(|c| c.str().cloned())
            .map_err(err)?;
        // The rows that bring a reason not seen before in this file, for its first example.
        let mut firsts: Vec<IdxSize> = Vec::new();
        let mut new_reasons: Vec<&str> = Vec::new();
        for (i, ((r, v), column)) in reasons
            .iter()
            .zip(values.iter())
            .zip(columns.iter())
            .enumerate()
        {
            let Some(r) = r else { continue };
            if !self.first_rejects.contains_key(r) && !new_reasons.contains(&r) {
                new_reasons.push(r);
                firsts.push(i as IdxSize);
            }
            *self
                .counts
                .rejects_by_reason
                .entry(r.to_string())
                .or_default() += 1;
            let unmapped = matches!(
                r,
                reason::UNKNOWN_CHANNEL
                    | reason::UNKNOWN_OUTCOME
                    | reason::UNKNOWN_CATEGORY
                    | reason::UNKNOWN_VALUE
                    | reason::RATING_NOT_IN_SCALE
                    | reason::UNMAPPED_SERVICE
            );
            if let (true, Some(v), Some(column)) = (unmapped, v, column) {
                self.unmapped_values
                    .entry(column.to_string())
                    .or_default()
                    .add(&crate::redact::clip(v), 1);
            }
            if r == reason::UNMAPPED_SERVICE {
                if let Some(v) = v {
                    // Messages and last-run.json show the value short and scrubbed: a category
                    // can hold anything someone typed (the full value stays in the rejects).
                    self.unmapped.add(&crate::redact::clip(v), 1);
                }
            }
        }
        if !firsts.is_empty() {
            let idx = IdxCa::from_vec("first".into(), firsts);
            let first = rejected.take(&idx).map_err(err)?;
            for (reason, example) in first_rejects(self.raw, self.source, first).map_err(err)? {
                self.first_rejects.entry(reason).or_insert(example);
            }
        }
        let Some(txn) = self.ctx.txn else {
            return Ok(());
        };
        let mut rows = reject_rows(self.raw, self.source, rejected).map_err(err)?;
        let first = self.rejects.is_none();
        if first {
            let rel = format!("rejects/{}/{}.csv", self.source.name, self.raw.file_id());
            let (file, path) = txn.create(&rel, true)?;
            self.rejects = Some((file, path.display().to_string()));
        }
        let mut csv = Vec::new();
        // In the export's own delimiter, so that a corrected rejects file is read as an export.
        CsvWriter::new(&mut csv)
            .include_header(first)
            .with_separator(self.source.delimiter)
            .finish(&mut rows)
            .map_err(err)?;
        if let Some((file, path)) = self.rejects.as_mut() {
            file.write_all(&csv)
                .map_err(|e| write_err(Path::new(path), e))?;
        }
        Ok(())
    }

    fn take_accepted(&mut self, accepted: DataFrame) -> Result<(), IngestError> {
        let raw: &'a RawFile = self.raw;
        let err = |e: PolarsError| data_err(&raw.path, e);
        let exact_row = self.source.duplicates == Duplicates::ExactRow;
        let (accepted, unkeyed) =
            match super::pseudonym::record_keys_keyed(self.source, self.ctx.keyer, &raw.path)? {
                // A key made of a customer's identifier (the row's text, or a record id that
                // is one): keyed with the council's secret, never a plain hash anyone could
                // test guessed numbers against. Rows kept while it was not (by an earlier
                // version, or before the source's identifiers were mapped) hold the plain key:
                // a row sent again is a duplicate of those too.
                Some(keyer) => {
                    let plain = if exact_row {
                        row_hashes(accepted.clone(), &plain_row_hash).map_err(err)?
                    } else {
                        accepted.clone()
                    };
                    let unkeyed = key_hashes(&plain).map_err(err)?;
                    let keyed =
                        row_hashes(accepted, &|text| keyer.record_key(text)).map_err(err)?;
                    (keyed, Some(unkeyed))
                }
                None if exact_row => (row_hashes(accepted, &plain_row_hash).map_err(err)?, None),
                None => (accepted, None),
            };
        let accepted = super::pseudonym::pseudonymise(
            accepted,
            self.source,
            &self.ctx.pipeline.customers,
            self.ctx.keyer,
            &raw.path,
            &mut self.placeholders,
        )?;
        let hashes = key_hashes(&accepted).map_err(err)?;
        let years = accepted
            .column(c::YEAR)
            .and_then(|c| c.i32().cloned())
            .map_err(err)?;
        let months = accepted
            .column(c::MONTH)
            .and_then(|c| c.i8().cloned())
            .map_err(err)?;
        let dates = accepted
            .column(c::DATE)
            .and_then(|c| c.cast(&DataType::Int32))
            .and_then(|c| c.i32().cloned())
            .map_err(err)?;
        let contents = {
            let columns = self.seen.compare_by(accepted.schema());
            content_hashes(&accepted, columns).map_err(err)?
        };
        let rows = accepted
            .column(c::SOURCE_ROW)
            .and_then(|c| c.cast(&DataType::UInt64))
            .and_then(|c| c.u64().cloned())
            .map_err(err)?;
        let mut fresh = Vec::with_capacity(hashes.len());
        let mut fresh_n = 0u64;
        let lake = self.ctx.lake;
        let seen = &mut *self.seen;
        let conflicts = &mut self.conflicts;
        let mut first_conflict = None;
        // New, or a key taken before: a repeat when the content is the same, else a conflict.
        let mut is_new = |taken: Taken, i: usize| {
            if taken == Taken::Conflict {
                conflicts.rows += 1;
                if conflicts.first_row.is_none() {
                    conflicts.first_row = rows.get(i);
                    first_conflict = Some(i);
                }
            }
            taken == Taken::New
        };
        let file_keys = &mut self.file_keys;
        let (first_date, last_date) = (&mut self.first_date, &mut self.last_date);
        let mut current: Option<((i32, i8), &mut KeySet)> = None;
        for (i, (((h, y), m), d)) in hashes
            .iter()
            .zip(years.iter())
            .zip(months.iter())
            .zip(dates.iter())
            .enumerate()
        {
            let content = contents.get(i).copied().unwrap_or_default();
            let fresh_row = is_new(file_keys.take(*h, content), i) && {
                let (Some(y), Some(m)) = (y, m) else {
                    return Err(data_err(&raw.path, "an accepted row has no date"));
                };
                if let Some(d) = d {
                    *first_date = Some(first_date.map_or(d, |f| f.min(d)));
                    *last_date = Some(last_date.map_or(d, |l| l.max(d)));
                }
                let set = match current.take() {
                    Some((key, set)) if key == (y, m) => set,
                    _ => seen.part(lake, y, m)?,
                };
                let kept_unkeyed = unkeyed
                    .as_ref()
                    .and_then(|u| u.get(i))
                    .is_some_and(|u| set.contains(*u));
                let fresh_row = !kept_unkeyed && is_new(set.take(*h, content), i);
                current = Some(((y, m), set));
                fresh_row
            };
            fresh.push(fresh_row);
            fresh_n += u64::from(fresh_row);
        }
        if let Some(i) = first_conflict {
            if let (Some(y), Some(m)) = (years.get(i), months.get(i)) {
                self.first_conflict = Some((y, m, accepted.slice(i as i64, 1)));
            }
        }
        self.counts.accepted += fresh_n;
        self.counts.duplicates += accepted.height() as u64 - fresh_n;
        if fresh_n == 0 || self.ctx.txn.is_none() {
            return Ok(());
        }
        let fresh = accepted
            .filter(&BooleanChunked::from_slice("fresh".into(), &fresh))
            .map_err(err)?;
        drop(accepted);
        // A monthly export's rows are all one month (and one council, unless the export names
        // councils in a column): no need to split (and copy) them.
        let one_month = years.min() == years.max() && months.min() == months.max();
        let one_org = self.source.columns.organisation.is_none();
        let parts = if one_month && one_org {
            vec![fresh]
        } else {
            // The council is split on only where a column names it (it is text: hashing it for
            // every row of a yearly export cost about a tenth of ingest).
            let keys: &[&str] = if one_org {
                &[c::YEAR, c::MONTH]
            } else {
                &[c::ORGANISATION, c::YEAR, c::MONTH]
            };
            let parts = fresh
                .partition_by_stable(keys.iter().copied(), true)
                .map_err(err)?;
            drop(fresh);
            parts
        };
        let mut in_batch = Vec::with_capacity(parts.len());
        for part in parts {
            let key = partition_key(&part).map_err(|m| data_err(&raw.path, m))?;
            // Interval exports are counted as the rows they came in; stored one per outcome.
            let part = if self.source.kind == SourceKind::CallIntervals {
                expand_intervals(part, self.source.interval_averages).map_err(err)?
            } else {
                part
            };
            let out = self.part_out(key.clone())?;
            out.pending_rows += part.height();
            out.pending.push(part);
            in_batch.push(key);
        }
        // Rows come roughly in time order: a month missing from this batch is probably done,
        // so its rows are written now rather than held.
        let keys: Vec<PartKey> = self.parts.keys().cloned().collect();
        for key in keys {
            let full = self.parts.get(&key).is_some_and(|p| {
                p.pending_rows >= ROW_GROUP || (p.pending_rows > 0 && !in_batch.contains(&key))
            });
            if full {
                self.flush(&key)?;
            }
        }
        Ok(())
    }

    fn part_out(&mut self, key: PartKey) -> Result<&mut PartOut, IngestError> {
        if !self.parts.contains_key(&key) {
            let (organisation, year, month) = &key;
            let txn = self
                .ctx
                .txn
                .ok_or_else(|| data_err(&self.raw.path, "nothing is written in a dry run"))?;
            let (file, path) = txn.create_part(
                self.source.kind.table(),
                organisation,
                &self.source.name,
                *year,
                *month,
                self.raw.file_id(),
            )?;
            self.parts.insert(
                key.clone(),
                PartOut {
                    schema: None,
                    path,
                    file,
                    writer: None,
                    pending: Vec::new(),
                    pending_rows: 0,
                    sums: Vec::new(),
                },
            );
        }
        self.parts
            .get_mut(&key)
            .ok_or_else(|| data_err(&self.raw.path, "partition output vanished"))
    }

    /// Writes a partition's pending rows as one row group.
    fn flush(&mut self, key: &PartKey) -> Result<(), IngestError> {
        let path = self.raw.path.clone();
        let err = |e: PolarsError| data_err(&path, e);
        let Some(out) = self.parts.get_mut(key) else {
            return Ok(());
        };
        if out.pending.is_empty() {
            return Ok(());
        }
        let mut frames = std::mem::take(&mut out.pending).into_iter();
        out.pending_rows = 0;
        let mut df = frames.next().unwrap_or_default();
        for f in frames {
            df.vstack_mut_owned(f).map_err(err)?;
        }
        df.rechunk_mut_par();
        if out.writer.is_none() {
            let file = out.file.try_clone().map_err(|e| write_err(&out.path, e))?;
            // Record keys are unique by design: no dictionary is tried for them.
            let writer = LakeWriter::new(file, df.schema(), &[c::RECORD_KEY])
                .map_err(|e| write_err(&out.path, e))?;
            out.schema = Some(df.schema().as_ref().clone());
            out.writer = Some(writer);
        }
        if let Some(w) = out.writer.as_mut() {
            w.write(&df).map_err(|e| write_err(&out.path, e))?;
        }
        let sums = match self.source.kind.table() {
            crate::model::Table::Contacts => {
                monthly::aggregate_part(df.lazy(), self.ctx.thresholds)
            }
            crate::model::Table::Responses => monthly::aggregate_answers(df.lazy()),
        };
        out.sums.push(sums.collect().map_err(err)?);
        Ok(())
    }

    /// Writes what is pending, completes the staged files and reports the file.
    fn finish(mut self, shown: String) -> Result<(FileReport, FileRecord), IngestError> {
        let keys: Vec<PartKey> = self.parts.keys().cloned().collect();
        for key in &keys {
            self.flush(key)?;
        }
        if let Some(txn) = self.ctx.txn {
            let mut done: Vec<(PartKey, PartOut)> = self.parts.drain().collect();
            done.sort_by(|(a, _), (b, _)| a.cmp(b));
            for ((_, year, month), out) in done {
                if let Some(w) = out.writer {
                    w.finish().map_err(|e| write_err(&out.path, e))?;
                }
                out.file.sync_all().map_err(|e| write_err(&out.path, e))?;
                if let Some(schema) = &out.schema {
                    txn.part_done(&out.path, schema)?;
                }
                if !out.sums.is_empty() {
                    let table = self.source.kind.table();
                    let combine = match table {
                        crate::model::Table::Contacts => monthly::combine,
                        crate::model::Table::Responses => monthly::combine_answers,
                    };
                    let pieces = concat(
                        out.sums.into_iter().map(|f| f.lazy()).collect::<Vec<_>>(),
                        UnionArgs::default(),
                    )
                    .and_then(|all| combine(all).collect())
                    .map_err(|e| data_err(&self.raw.path, e))?;
                    txn.write_monthly(table, &out.path, &pieces, self.ctx.thresholds)?;
                }
                self.seen.add_staged(year, month, out.path);
            }
            if let Some((file, _)) = self.rejects.take() {
                file.sync_all().map_err(|e| write_err(&self.raw.path, e))?;
            }
        }
        if let Some((year, month, row)) = self.first_conflict.take() {
            let taken_first = self.seen.first_version(self.ctx.lake, year, month, &row)?;
            self.conflicts.columns = match taken_first {
                Some(first) => {
                    super::keys::differing(&row, &first, self.seen.compare_by(row.schema()))
                        .map_err(|e| data_err(&self.raw.path, e))?
                }
                None => Vec::new(),
            };
        }
        self.seen.trim();
        if !self.counts.reconciles() {
            return Err(data_err(
                &self.raw.path,
                format!(
                    "internal error: {} rows read but {} accepted, {} rejected, {} duplicates and {} excluded",
                    self.counts.rows_read, self.counts.accepted, self.counts.rejected, self.counts.duplicates, self.counts.excluded
                ),
            ));
        }
        let day = |d: Option<i32>| {
            d.and_then(|d| chrono::NaiveDate::from_num_days_from_ce_opt(d + 719_163))
                .map(|d| d.format("%Y-%m-%d").to_string())
        };
        let (raw, ctx, source) = (self.raw, self.ctx, self.source);
        let report = FileReport {
            source: source.name.clone(),
            path: shown,
            file_id: raw.file_id().to_string(),
            status: FileStatus::Ingested,
            encoding: raw.encoding.to_string(),
            repaired_lines: raw.repaired_lines,
            counts: self.counts,
            unmapped_categories: self.unmapped,
            first_date: day(self.first_date),
            last_date: day(self.last_date),
            same_as: None,
            unmapped_values: self.unmapped_values,
            first_rejects: self.first_rejects,
            conflicting_duplicates: self.conflicts,
            placeholder_identifiers: self
                .placeholders
                .iter()
                .map(|(column, f)| {
                    let count = PlaceholderCount {
                        values: f.count(),
                        contacts: f.contacts,
                        busiest_day: f.busiest_day,
                    };
                    (column.clone(), count)
                })
                .collect(),
        };
        let record = FileRecord {
            file_id: raw.file_id().to_string(),
            sha256: raw.sha256.clone(),
            path: manifest_path(ctx.pipeline, &raw.path),
            size_bytes: raw.size,
            source: source.name.clone(),
            table: source.kind.table().name().to_string(),
            encoding: raw.encoding.to_string(),
            counts: report.counts.clone(),
            first_date: report.first_date.clone(),
            last_date: report.last_date.clone(),
            pipeline: ctx.pipeline.name.clone(),
            ingested_at: ctx.ingested_at.clone(),
            modified_ns: raw.modified_ns,
        };
        Ok((report, record))
    }
}

/// The first 128 bits of the SHA-256 of a row's text, in hex: rows identical in every field
/// share it (a source that holds no customer identifier).
fn plain_row_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `record_key` (a whole row's text with `duplicates = "exact_row"`, or a record id that is a
/// customer's identifier) replaced by `hash` of it: equal keys stay equal, and no text is kept.
fn row_hashes(mut df: DataFrame, hash: &dyn Fn(&str) -> String) -> PolarsResult<DataFrame> {
    let keys = df.column(c::RECORD_KEY)?.str()?.clone();
    let hashed: StringChunked = keys.iter().map(|k| k.map(hash)).collect();
    df.with_column(hashed.with_name(c::RECORD_KEY.into()).into_column())?;
    Ok(df)
}

/// The rejected rows with every raw value as it was in the file, then the row number, reason,
/// column and offending value: fix the values and the file can be ingested again. Columns that
/// identify a customer (`[sources.customer]`) are left empty: no phone number or e-mail address
/// is stored anywhere, rejects included.
fn reject_rows(raw: &RawFile, source: &SourceDef, rejected: DataFrame) -> PolarsResult<DataFrame> {
    use crate::config::CommentPolicy;
    use crate::sources::scrub::{postcode_district, scrub_comment};
    const CEX: [&str; 4] = ["cex_row", "cex_reason", "cex_column", "cex_value"];
    let identifying: Vec<&str> = crate::sources::customer::identifiers(source)
        .iter()
        .filter_map(|id| raw.column(id.source_column))
        .collect();
    // Free text and postcodes are treated as the lake treats them: comments scrubbed (or not
    // kept), postcodes cut to their district.
    let comment = source
        .columns
        .comment
        .as_deref()
        .and_then(|c| raw.column(c));
    let postcode = source
        .columns
        .postcode
        .as_deref()
        .and_then(|c| raw.column(c));
    let personal = comment.is_some() || postcode.is_some();
    let none = || lit(NULL).cast(DataType::String);
    let as_stored = |header: &str, value: Expr| -> Expr {
        if Some(header) == comment {
            match source.comments {
                CommentPolicy::Scrub => scrub_comment(value),
                CommentPolicy::Drop => none(),
            }
        } else if Some(header) == postcode {
            postcode_district(value)
        } else {
            value
        }
    };
    // A row with the wrong number of fields has its fields in the wrong columns: with customer
    // identifiers in the export, any of them may hold one, so none is kept, nor the row's text;
    // with comments or postcodes, every field and the text are scrubbed as a comment is.
    let misaligned = || {
        col(REJECT_COLUMN)
            .eq(lit(crate::sources::map::WHOLE_ROW))
            .fill_null(lit(false))
    };
    let mut select: Vec<Expr> = Vec::with_capacity(raw.headers.len() + 4);
    for (i, h) in raw.headers.iter().enumerate() {
        // A corrected rejects file brings its old `cex_*` columns: they are replaced.
        if CEX.contains(&h.as_str()) {
            continue;
        }
        let field = || col(raw_column(i).as_str());
        let value = if identifying.contains(&h.as_str()) {
            none()
        } else if !identifying.is_empty() {
            when(misaligned())
                .then(none())
                .otherwise(as_stored(h, field()))
        } else if personal {
            when(misaligned())
                .then(scrub_comment(field()))
                .otherwise(as_stored(h, field()))
        } else {
            field()
        };
        select.push(value.alias(h.as_str()));
    }
    // A quoted comment or postcode as stored.
    let mut value = col(REJECT_VALUE);
    for header in [comment, postcode].into_iter().flatten() {
        let quoted = col(REJECT_COLUMN)
            .eq(lit(header.to_string()))
            .fill_null(lit(false));
        value = when(quoted)
            .then(as_stored(header, col(REJECT_VALUE)))
            .otherwise(value);
    }
    if !identifying.is_empty() {
        let names = Series::new("identifying".into(), identifying.clone());
        let quoted_identifier = col(REJECT_COLUMN)
            .is_in(lit(names).implode(false), false)
            .fill_null(lit(false));
        value = when(misaligned().or(quoted_identifier))
            .then(lit(WITHHELD_VALUE))
            .otherwise(value);
    } else if personal {
        value = when(misaligned())
            .then(scrub_comment(col(REJECT_VALUE)))
            .otherwise(value);
    }
    for (from, to) in [c::SOURCE_ROW, REJECT_REASON, REJECT_COLUMN]
        .into_iter()
        .zip(CEX)
    {
        select.push(col(from).alias(to));
    }
    select.push(value.alias(CEX[3]));
    rejected.lazy().select(select).collect()
}

/// The first example of each reason among `rejected` rows, as messages show it: the row, column
/// and value as the rejects file would hold them ([`reject_rows`], so a customer identifier, a
/// misaligned row of a source with identifiers, or a dropped comment is `(withheld)`), the value
/// quoted short and scrubbed.
fn first_rejects(
    raw: &RawFile,
    source: &SourceDef,
    rejected: DataFrame,
) -> PolarsResult<Vec<(String, FirstReject)>> {
    let original = rejected.column(REJECT_VALUE)?.str()?.clone();
    let rows = reject_rows(raw, source, rejected)?;
    let numbers = rows.column("cex_row")?.cast(&DataType::UInt64)?;
    let numbers = numbers.u64()?;
    let reasons = rows.column("cex_reason")?.str()?;
    let columns = rows.column("cex_column")?.str()?;
    let values = rows.column("cex_value")?.str()?;
    let mut out = Vec::new();
    for i in 0..rows.height() {
        let Some(reason) = reasons.get(i) else {
            continue;
        };
        let value = match (values.get(i), original.get(i)) {
            (Some(WITHHELD_VALUE), _) | (None, Some(_)) => WITHHELD.to_string(),
            (Some(v), _) => crate::redact::quote(v),
            (None, None) => crate::redact::quote(""),
        };
        let example = FirstReject {
            row: numbers.get(i).unwrap_or(0),
            column: columns.get(i).unwrap_or("").to_string(),
            value,
        };
        out.push((reason.to_string(), example));
    }
    Ok(out)
}

/// What a rejects file shows instead of a value or row that may hold a customer identifier.
pub const WITHHELD_VALUE: &str =
    "(withheld: the export carries customer identifiers; see this row of the export)";

/// A failure to write into the lake (a full disk, permissions): the machine's problem, not the
/// export's, so it names the lake file and the OS reason and exits as an internal error.
fn write_err(path: &Path, e: impl std::fmt::Display) -> IngestError {
    IngestError::Lake(crate::lake::LakeError::Io {
        path: path.to_path_buf(),
        message: format!(
            "cannot write: {}",
            crate::text::first_paragraph(&e.to_string())
        ),
    })
}

fn partition_key(part: &DataFrame) -> Result<PartKey, String> {
    let organisation = part
        .column(c::ORGANISATION)
        .and_then(|c| c.str().map(|s| s.get(0).map(str::to_string)))
        .map_err(|e| e.to_string())?;
    let year = part
        .column(c::YEAR)
        .and_then(|c| c.i32().map(|s| s.get(0)))
        .map_err(|e| e.to_string())?;
    let month = part
        .column(c::MONTH)
        .and_then(|c| c.i8().map(|s| s.get(0)))
        .map_err(|e| e.to_string())?;
    match (organisation, year, month) {
        (Some(o), Some(y), Some(m)) => Ok((o, y, m)),
        (None, ..) => Err("an accepted row has no organisation".into()),
        _ => Err("an accepted row has no date".into()),
    }
}
