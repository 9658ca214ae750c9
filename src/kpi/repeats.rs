//! Right first time: the same customer coming back. Contacts that carry a customer key (see
//! `ingest::pseudonym`) are linked to the same customer's earlier and later contacts about the
//! same service, on any channel, through any key they share (phone, e-mail or reference). From
//! those links come the repeat-contact table, contact resolution as observed (no follow-up
//! within the window) beside the self-reported first-contact flag, digital failure demand
//! (forms and webchats followed by a call or visit, and the reverse) and the days to a repeat.
//!
//! Days are calendar days between contact dates: a second contact the same day is 0 days
//! later and a repeat. A contact is only judged on whether a follow-up came when the lake
//! covers the whole window after it (every keyed source holds contacts that late); the others
//! are counted as not yet observable, never as resolved.

use polars::prelude::*;

use super::{collect, percent, FigureError};
use crate::config::ChannelConfig;
use crate::measures::figure_err;
use crate::model::{col as c, CUSTOMER_KEYS};
use crate::period::Calendar;
use crate::tables::contract::{column as out, label};

const ROW: &str = "__row";
/// The service as a number (its code in a categorical mapping of its own): it takes few bits
/// of the linking number, and only equality matters.
const SERVICE_CODE: &str = "__service_code";
/// The four gaps through one kind of key packed into one number, as `<GAPS><key>`.
const GAPS: &str = "__gaps";
/// The most days a gap can span: gaps are packed 16 bits each, 0 for none.
const MAX_GAP: u32 = (1 << 16) - 2;
/// The gaps in the order they are packed, the first in the highest 16 bits ([`gap_shift`]).
const GAP_FIELDS: [&str; 4] = [PREV, NEXT, NEXT_ASSISTED, NEXT_DIGITAL];
pub(super) const DAY: &str = "__day";
const ASSISTED: &str = "__assisted";
const DIGITAL: &str = "__digital";
pub(super) const KEYED: &str = "__identified";
pub(super) const PREV: &str = "__days_since_previous";
pub(super) const NEXT: &str = "__days_to_next";
const NEXT_ASSISTED: &str = "__days_to_next_assisted";
const NEXT_DIGITAL: &str = "__days_to_next_digital";
pub(super) const LAST_OBSERVED: &str = "__last_observed";
/// How many linked contacts a row of [`summed`] stands for.
pub(super) const ROWS: &str = "__rows";
/// The longest window (of those counted) whose days after the contact are all in the lake:
/// a contact is observable for window `n` when this is at least `n`.
pub(super) const WATCHED: &str = "__watched_days";

/// The day number (days since 1970-01-01) of a date.
pub fn day_number(d: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (d - epoch).num_days() as i32
}

/// Every contact of `contacts` with, in days, the gap since the same customer's previous
/// contact about the same service and to their next (any channel, then the next assisted and
/// the next digital one); null where there is none or the contact has no key. Also whether it
/// is identified and the last day every keyed source covers (`LAST_OBSERVED`, one value).
/// `active_from`: the day number of the period's last month's first day.
///
/// How: the contacts are put in time order once (contacts known only by their date first,
/// then by time, then as read), each getting its place in that order. Then, for each kind
/// of key, every contact carrying one becomes one 128-bit number: the key, the service, the
/// day, the place in time order and whether the channel is assisted or digital, most
/// significant first ([`Layout`]). Sorting those numbers (a plain sort of one column of
/// numbers, the cheapest polars has) lines each customer's contacts about a service up in time
/// order, and everything the gaps need is in the number itself: no stable sort over several
/// columns, no gather into the order. The gaps go back to each contact's place, then to its
/// row.
pub fn linked(
    contacts: LazyFrame,
    channels: &ChannelConfig,
    active_from: i32,
) -> Result<DataFrame, FigureError> {
    let names =
        |list: &[crate::model::Channel]| list.iter().map(|c| c.as_str()).collect::<Vec<_>>();
    let is_in = |list: Vec<&str>| {
        col(c::CHANNEL).is_in(
            lit(Series::new("channels".into(), list)).implode(false),
            false,
        )
    };
    let keyed = CUSTOMER_KEYS
        .iter()
        .map(|k| col(*k).is_not_null())
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    // The services numbered from 0 in a mapping of their own (the global one numbers every
    // text the process has categorised), so that they take few bits of the linking number.
    let services = DataType::from_categories(Categories::random(
        PlSmallStr::EMPTY,
        CategoricalPhysical::U32,
    ));
    let contacts = needed_columns(contacts)?;
    let schema = contacts
        .clone()
        .collect_schema()
        .map_err(|e| FigureError::Data(e.to_string()))?;
    // Text as categorical codes from here on: every later step (the filters, the sums' grouping)
    // moves and compares 4-byte codes, not text, and the rows take a third of the memory.
    // `summed` gives text back.
    let as_codes = TEXT
        .iter()
        .filter(|k| schema.get(k).is_some_and(|t| t.is_string()))
        .map(|k| col(*k).cast(DataType::from_categories(Categories::global())));
    let plan = contacts.with_row_index(ROW, None).with_columns(
        [
            col(c::DATE).cast(DataType::Int32).alias(DAY),
            is_in(names(&channels.assisted)).alias(ASSISTED),
            is_in(names(&channels.digital)).alias(DIGITAL),
            keyed.alias(KEYED),
            col(c::SERVICE)
                .cast(services)
                .to_physical()
                .alias(SERVICE_CODE),
        ]
        .into_iter()
        .chain(as_codes)
        .collect::<Vec<_>>(),
    );
    // Collected once: the time order and each kind of key read it again, and a kind no
    // contact carries is skipped.
    let mut scanned = collect(plan)?;
    let present: Vec<&str> = CUSTOMER_KEYS
        .iter()
        .copied()
        .filter(|k| {
            scanned
                .column(k)
                .is_ok_and(|col| col.null_count() < col.len())
        })
        .collect();
    let layout = Layout::of(&scanned)?;
    let places = layout.time_places(&scanned)?;
    scanned
        .with_column(Column::from(places))
        .map_err(figure_err)?;
    let scanned = scanned.lazy();
    let mut plan = scanned.clone();
    // Each kind of key is linked on its own thread: parts of a linking pass (the group
    // numbers, the gaps, the scatter to places) run on one core, so one pass keeps about 1.5 of
    // two cores busy; two kinds side by side keep both busy.
    let each = std::thread::scope(|scope| {
        let running: Vec<_> = present
            .iter()
            .map(|key| scope.spawn(|| layout.gaps_by(&scanned, key)))
            .collect();
        running
            .into_iter()
            .map(|r| {
                r.join().unwrap_or_else(|_| {
                    Err(FigureError::Data(
                        "linking a kind of key failed unexpectedly".into(),
                    ))
                })
            })
            .collect::<Result<Vec<Series>, FigureError>>()
    })?;
    for (key, gaps) in present.iter().zip(each) {
        // From each contact's place in time order to its row.
        plan = plan.with_column(lit(gaps).alias(GAPS)).with_column(
            col(GAPS)
                .gather(col(PLACE), false)
                .alias(gaps_of(key).as_str()),
        );
    }
    let least = |field: usize, gap: &str| {
        let each: Vec<Expr> = present
            .iter()
            .map(|k| unpacked(col(gaps_of(k).as_str()), field))
            .collect();
        if each.is_empty() {
            return Ok(lit(NULL).cast(DataType::Int32).alias(gap));
        }
        polars::lazy::dsl::min_horizontal(each)
            .map(|e| e.alias(gap))
            .map_err(|e| FigureError::Data(e.to_string()))
    };
    let gaps = GAP_FIELDS
        .iter()
        .enumerate()
        .map(|(field, g)| least(field, g))
        .collect::<Result<Vec<_>, _>>()?;
    let helpers: Vec<PlSmallStr> = present
        .iter()
        .map(|k| gaps_of(k).into())
        .chain([SERVICE_CODE.into(), PLACE.into(), GAPS.into()])
        .collect();
    let base = collect(plan.with_columns(gaps).drop(by_name(helpers, true, false)))?;
    // The lake covers a day for follow-ups when every source with keys still sending contacts
    // (any since `active_from`) has contacts that late; a source retired earlier is not waited
    // for.
    let last_observed = base
        .clone()
        .lazy()
        .filter(col(KEYED))
        .group_by([col(c::SOURCE)])
        .agg([col(DAY).max().alias(LAST_OBSERVED)])
        .select([when(col(LAST_OBSERVED).max().gt_eq(lit(active_from)))
            .then(
                col(LAST_OBSERVED)
                    .filter(col(LAST_OBSERVED).gt_eq(lit(active_from)))
                    .min(),
            )
            .otherwise(col(LAST_OBSERVED).max())
            .alias(LAST_OBSERVED)]);
    // One value, added as a constant column (a cross join would copy every column).
    let last_observed = collect(last_observed)?
        .column(LAST_OBSERVED)
        .ok()
        .and_then(|c| c.cast(&DataType::Int32).ok())
        .and_then(|c| c.i32().ok().and_then(|v| v.get(0)));
    let value = last_observed.map_or_else(|| lit(NULL), lit);
    collect(
        base.lazy()
            .with_column(value.cast(DataType::Int32).alias(LAST_OBSERVED)),
    )
}

/// The column of one kind of key's gaps, `<GAPS><key>`.
fn gaps_of(key: &str) -> String {
    format!("{GAPS}{key}")
}

/// How many bits the numbers from 0 to `max` take.
fn bits_for(max: u128) -> u32 {
    128 - max.leading_zeros()
}

/// 2 to the power `bits`, as a 128-bit literal: multiplying by it shifts left, dividing by it
/// shifts right.
fn power(bits: u32) -> Expr {
    lit(1i128 << bits)
}

fn as_i128(e: Expr) -> Expr {
    e.cast(DataType::Int128)
}

/// The number each contact of a kind of key is sorted by, fields from the least significant:
/// digital (1 bit), assisted (1 bit), the place in time order (`place_bits`), the day from
/// the earliest (16 bits), the service (`service_bits`), the key (64 bits, as a number from 0).
/// The place is unique, so the fields below it never decide the order: they ride along.
struct Layout {
    first_day: i32,
    /// The earliest time, in the column's own unit. A time from it plus one takes at most 65
    /// bits, and the place at most 32 above it ([`Layout::time_places`]): within 127.
    first_time: i64,
    /// How many bits the latest time from the earliest plus one takes.
    time_bits: u32,
    place_bits: u32,
    service_bits: u32,
    /// How many contacts are linked.
    rows: usize,
}

/// Where each contact sits in time order, by row: what [`Layout::gaps_by`] sorts by after the
/// key, the service and the day.
const PLACE: &str = "__place";
/// The sorted linking numbers of one kind of key.
const LINK: &str = "__link";

impl Layout {
    const FLAG_BITS: u32 = 2;
    const DAY_BITS: u32 = 16;
    const KEY_BITS: u32 = 64;

    fn of(scanned: &DataFrame) -> Result<Layout, FigureError> {
        let bounds = collect(scanned.clone().lazy().select([
            col(DAY).min().alias("first_day"),
            col(DAY).max().alias("last_day"),
            col(c::TIMESTAMP).to_physical().min().alias("first_time"),
            col(c::TIMESTAMP).to_physical().max().alias("last_time"),
            col(SERVICE_CODE).max().alias("last_service"),
        ]))?;
        let int = |name: &str| {
            bounds
                .column(name)
                .ok()
                .and_then(|c| c.cast(&DataType::Int64).ok())
                .and_then(|c| c.i64().ok().and_then(|v| v.get(0)))
        };
        let first_day = int("first_day").unwrap_or(0);
        let span = int("last_day").map_or(0, |last| last - first_day);
        if span > i64::from(MAX_GAP) {
            return Err(FigureError::Data(format!(
                "right first time links contacts at most {MAX_GAP} days apart at once; these span {span} days: report a shorter period or take a later `baseline` in [[avoidable.targets]]"
            )));
        }
        let first_time = int("first_time").unwrap_or(0);
        let time_bits = bits_for(
            (i128::from(int("last_time").unwrap_or(first_time)) - i128::from(first_time) + 1).max(0)
                as u128,
        );
        let place_bits = bits_for(scanned.height().saturating_sub(1) as u128);
        let service_bits = bits_for(int("last_service").unwrap_or(0).max(0) as u128);
        let layout = Layout {
            first_day: first_day as i32,
            first_time,
            time_bits,
            place_bits,
            service_bits,
            rows: scanned.height(),
        };
        // The number stays positive: it must fit in 127 bits.
        if layout.key_at() + Self::KEY_BITS > 127 {
            return Err(FigureError::Data(format!(
                "right first time cannot link {} contacts of {} services at once: report a shorter period",
                scanned.height(),
                int("last_service").unwrap_or(0) + 1
            )));
        }
        Ok(layout)
    }

    fn day_at(&self) -> u32 {
        Self::FLAG_BITS + self.place_bits
    }

    fn service_at(&self) -> u32 {
        self.day_at() + Self::DAY_BITS
    }

    fn key_at(&self) -> u32 {
        self.service_at() + self.service_bits
    }

    /// Each row's place in time order (contacts without a time first, then by time, then by
    /// row): the time and the row packed into one number and sorted, which lists the rows in
    /// that order; each row's place is then written where it belongs. The day is not in this
    /// order: the linking numbers hold it above the place, so a contact known only by its date
    /// still comes first on its day, not on the first day.
    ///
    /// The time and place fit one 64-bit number when the times span little enough (two years
    /// in milliseconds take 36 bits, 12 million places 24): half the memory to sort, and a
    /// cheaper comparison. Otherwise they are put in 128 bits; the order is the same.
    fn time_places(&self, scanned: &DataFrame) -> Result<Series, FigureError> {
        let order = if self.time_bits + self.place_bits <= 64 {
            let u64_ = |e: Expr| e.cast(DataType::UInt64);
            let time = (col(c::TIMESTAMP).to_physical() - lit(self.first_time.saturating_sub(1)))
                .fill_null(lit(0i64));
            (u64_(time) * lit(1u64 << self.place_bits) + u64_(col(ROW)))
                .sort(SortOptions::default())
                % lit(1u64 << self.place_bits)
        } else {
            let time = (as_i128(col(c::TIMESTAMP).to_physical())
                - lit(i128::from(self.first_time) - 1))
            .fill_null(lit(0i128));
            (time * power(self.place_bits) + as_i128(col(ROW))).sort(SortOptions::default())
                % power(self.place_bits)
        };
        let rows = collect(
            scanned
                .clone()
                .lazy()
                .select([order.cast(IDX_DTYPE).alias(ROW)]),
        )?;
        let rows = rows
            .column(ROW)
            .and_then(|c| c.idx().cloned())
            .map_err(figure_err)?;
        let places = 0..self.rows as IdxSize;
        Ok(scattered::<IdxType>(self.rows, &rows, places.map(Some))?.with_name(PLACE.into()))
    }

    /// The four gaps through one kind of key, packed 16 bits each ([`unpacked`] takes them
    /// apart), at each contact's place in time order (0 for a contact without this key). In the
    /// order of the linking numbers each customer's contacts about a service are consecutive,
    /// and a group starts where the key or the service changes.
    fn gaps_by(&self, plan: &LazyFrame, key: &str) -> Result<Series, FigureError> {
        const G: &str = "__g";
        const D: &str = "__d";
        const A: &str = "__a";
        const W: &str = "__w";
        const LOW: &str = "__low";
        let u64_ = |e: Expr| e.cast(DataType::UInt64);
        let flag = |name: &str, value: u64| when(col(name)).then(lit(value)).otherwise(lit(0u64));
        // Below the key the fields take at most 63 bits: they are put together in 64-bit
        // numbers (half the memory to pass over), and only the key and the whole in 128.
        let low = u64_(col(SERVICE_CODE)) * lit(1u64 << self.service_at())
            + u64_(col(DAY) - lit(self.first_day)) * lit(1u64 << self.day_at())
            + u64_(col(PLACE)) * lit(1u64 << Self::FLAG_BITS)
            + flag(ASSISTED, 2)
            + flag(DIGITAL, 1);
        let link = (as_i128(col(key)) + lit(1i128 << 63)) * power(self.key_at()) + as_i128(low);
        let field = |at: u32, bits: u32| (col(LOW).floor_div(lit(1u64 << at))) % lit(1u64 << bits);
        let same_group = |n: i64| col(G).eq(col(G).shift(lit(n)));
        let next_flagged = |flag: &str| {
            let later = |e: Expr| {
                when(col(flag))
                    .then(e)
                    .otherwise(lit(NULL))
                    .shift(lit(-1))
                    .fill_null_with_strategy(FillNullStrategy::Backward(None))
            };
            when(later(col(G)).eq(col(G)))
                .then(later(col(D)) - col(D))
                .otherwise(lit(NULL))
        };
        // Each gap plus one in 16 bits (0: none), in the order of GAP_FIELDS.
        let gaps = [
            when(same_group(1))
                .then(col(D) - col(D).shift(lit(1)))
                .otherwise(lit(NULL)),
            when(same_group(-1))
                .then(col(D).shift(lit(-1)) - col(D))
                .otherwise(lit(NULL)),
            next_flagged(A),
            next_flagged(W),
        ]
        .into_iter()
        .enumerate()
        .map(|(field, gap)| {
            u64_(gap + lit(1i32)).fill_null(lit(0u64)) * lit(1u64 << gap_shift(field))
        })
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0u64));
        let linked = collect(
            plan.clone()
                // A contact without a service (or a day) is about nothing another can repeat.
                .filter(
                    col(key)
                        .is_not_null()
                        .and(col(SERVICE_CODE).is_not_null())
                        .and(col(DAY).is_not_null()),
                )
                .select([link.sort(SortOptions::default()).alias(LINK)])
                .with_column(
                    (col(LINK) % power(self.key_at()))
                        .cast(DataType::UInt64)
                        .alias(LOW),
                )
                .with_columns([
                    field(Self::FLAG_BITS, self.place_bits)
                        .cast(IDX_DTYPE)
                        .alias(PLACE),
                    field(self.day_at(), Self::DAY_BITS)
                        .cast(DataType::Int32)
                        .alias(D),
                    field(1, 1).eq(lit(1u64)).alias(A),
                    field(0, 1).eq(lit(1u64)).alias(W),
                    // The key and service: a new group where they change.
                    col(LINK)
                        .floor_div(power(self.service_at()))
                        .neq(col(LINK).floor_div(power(self.service_at())).shift(lit(1)))
                        .fill_null(lit(true))
                        .cast(DataType::UInt32)
                        .cum_sum(false)
                        .alias(G),
                ])
                .select([col(PLACE), gaps.alias(GAPS)]),
        )?;
        let column = |name: &str| linked.column(name).map_err(figure_err);
        let places = column(PLACE)?.idx().map_err(figure_err)?.clone();
        let gaps = column(GAPS)?.u64().map_err(figure_err)?.clone();
        scattered::<UInt64Type>(self.rows, &places, gaps.iter())
    }
}

/// A column of `len` numbers: `values`, in order, at the places `at` (each at most once), and
/// 0 everywhere else.
fn scattered<T>(
    len: usize,
    at: &IdxCa,
    values: impl IntoIterator<Item = Option<T::Native>>,
) -> Result<Series, FigureError>
where
    T: PolarsNumericType,
    ChunkedArray<T>: ChunkFull<T::Native>,
    for<'a> &'a mut ChunkedArray<T>: ChunkedSet<T::Native>,
{
    let at = at.rechunk();
    let places = at.cont_slice().map_err(figure_err)?;
    let mut zeros = ChunkedArray::<T>::full(PlSmallStr::EMPTY, T::Native::default(), len);
    (&mut zeros).scatter(places, values).map_err(figure_err)
}

/// Where gap `field` (its place in [`GAP_FIELDS`]) sits in a packed number.
fn gap_shift(field: usize) -> u32 {
    48 - 16 * field as u32
}

/// Gap `field` (its place in [`GAP_FIELDS`]) of a column of [`gaps_by`]: days, null for none.
fn unpacked(gaps: Expr, field: usize) -> Expr {
    let value =
        (gaps.floor_div(lit(1u64 << gap_shift(field))) % lit(1u64 << 16)).cast(DataType::Int32);
    when(value.clone().eq(lit(0i32)))
        .then(lit(NULL).cast(DataType::Int32))
        .otherwise(value - lit(1i32))
}

/// The columns a month of one organisation is told by, then `extra`.
fn month_and<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    [c::ORGANISATION, c::FINANCIAL_YEAR, c::YEAR, c::MONTH]
        .into_iter()
        .chain(extra.iter().copied())
        .collect()
}

pub(super) fn keys_of(extra: &[&str]) -> Vec<Expr> {
    month_and(extra).into_iter().map(col).collect()
}

pub(super) fn within(gap: &str, days: u32) -> Expr {
    col(gap).lt_eq(lit(days as i32)).fill_null(lit(false))
}

/// Observable: identified, and the lake covers the whole window after the contact.
pub(super) fn observable(days: u32) -> Expr {
    col(KEYED).and(col(WATCHED).gt_eq(lit(days as i32)).fill_null(lit(false)))
}

/// The linked contacts (rows of [`summed`]) for which `e` holds.
pub(super) fn count(e: Expr) -> Expr {
    when(e)
        .then(col(ROWS).cast(DataType::UInt32))
        .otherwise(lit(0u32))
        .sum()
}

/// The columns [`summed`] groups by, where the contacts have them: everything the tables tell
/// contacts apart by, and the gaps as far as the windows `thresholds` can tell them apart.
pub(super) const SUMMED_BY: [&str; 16] = [
    c::ORGANISATION,
    c::FINANCIAL_YEAR,
    c::YEAR,
    c::MONTH,
    c::SERVICE,
    c::CHANNEL,
    c::CATEGORY,
    c::REASON,
    c::RESOLVED_FIRST_CONTACT,
    KEYED,
    ASSISTED,
    DIGITAL,
    PREV,
    NEXT,
    NEXT_ASSISTED,
    NEXT_DIGITAL,
];

/// Linked contacts (from [`linked`] or [`unlinked`]) summed: one row per distinct combination
/// of what the right-first-time and avoidable tables count by, with the contacts (`contacts`)
/// and the linked rows (`ROWS`) it stands for. The tables count these rows weighted by
/// `ROWS`, so the figures are those of the contacts; grouping here first makes each table
/// group thousands of rows instead of millions, and lets a month's sums be kept.
///
/// Only what the tables can see is kept. `thresholds` are every window the tables count
/// (`customers.repeat_days` and `avoidable.repeat_days`, any order). The days since the
/// previous contact are kept up to the largest (the days-to-repeat table shows each), longer
/// gaps as none. The days to the next contact become the shortest window they fall within.
/// Whether the lake covers a contact's window becomes `WATCHED`, the longest window it
/// covers. The financial year is labelled from year and month in `calendar`, as the KPI stage
/// labels every row it reads.
pub fn summed(
    rows: LazyFrame,
    thresholds: &[u32],
    calendar: Calendar,
) -> Result<LazyFrame, FigureError> {
    let mut windows: Vec<i32> = thresholds.iter().map(|&t| t as i32).collect();
    windows.sort_unstable();
    windows.dedup();
    let longest = windows.last().copied().unwrap_or(0);
    let schema = rows
        .clone()
        .collect_schema()
        .map_err(|e| FigureError::Data(e.to_string()))?;
    let has = |name: &str| schema.contains(name);
    // The few-valued columns (the gaps as far as the windows tell them apart, whether the lake
    // covers the window, the flags) become small codes packed into one number, grouped by as
    // one key, and worked out again on the sums' rows (at 10M, with no `first()` per group for
    // the channel's kind, summing took 1.75 s instead of 1.95).
    let mut small: Vec<Small> = Vec::new();
    if has(c::RESOLVED_FIRST_CONTACT) {
        small.push(Small::flag(c::RESOLVED_FIRST_CONTACT));
    }
    // Whether the channel is assisted or digital follows from the channel: in the key, it
    // makes no more groups.
    for flag in [KEYED, ASSISTED, DIGITAL] {
        if has(flag) {
            small.push(Small::flag(flag));
        }
    }
    if has(PREV) {
        small.push(Small::days_up_to(PREV, longest));
    }
    for gap in [NEXT, NEXT_ASSISTED, NEXT_DIGITAL] {
        if has(gap) {
            small.push(Small::window(gap, col(gap), &windows, true));
        }
    }
    let watched = if has(LAST_OBSERVED) && has(DAY) {
        col(LAST_OBSERVED) - col(DAY)
    } else {
        lit(NULL).cast(DataType::Int32)
    };
    small.push(Small::window(WATCHED, watched, &windows, false));
    let mut shift = 0u32;
    for field in &mut small {
        field.shift = shift;
        shift += field.bits;
    }
    if shift > 64 {
        return Err(FigureError::Data(format!(
            "right first time cannot sum windows up to {longest} days at once: take shorter windows"
        )));
    }
    let packed = small
        .iter()
        .filter(|f| f.bits > 0)
        .map(|f| f.code.clone().cast(DataType::UInt64) * lit(1u64 << f.shift))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0u64));
    let small_names: Vec<&str> = small.iter().map(|f| f.name).collect();
    // The financial year is not grouped by: year and month decide it, and it is labelled once
    // per row of sums instead of once per contact. Text is grouped by categorical codes
    // (numbers of one width hash and compare cheaper than text) and turned back into text.
    let dated = has(c::YEAR) && has(c::MONTH);
    let by: Vec<&str> = SUMMED_BY
        .iter()
        .copied()
        .filter(|k| has(k) && *k != c::FINANCIAL_YEAR && !small_names.contains(k))
        .collect();
    let text: Vec<&str> = by
        .iter()
        .copied()
        .filter(|k| {
            schema
                .get(k)
                .is_some_and(|t| t.is_string() || t.is_categorical())
        })
        .collect();
    let as_codes = text
        .iter()
        .map(|k| col(*k).cast(DataType::from_categories(Categories::global())))
        .collect::<Vec<_>>();
    // Text again, whether it came as text or as codes (`linked` gives codes).
    let as_before = text
        .iter()
        .filter_map(|k| {
            schema.get(k).map(|t| {
                col(*k).cast(if t.is_categorical() {
                    DataType::String
                } else {
                    t.clone()
                })
            })
        })
        .collect::<Vec<_>>();
    let unpacked = small.iter().map(Small::decoded).collect::<Vec<_>>();
    let out: Vec<Expr> = SUMMED_BY
        .iter()
        .copied()
        .filter(|k| {
            if *k == c::FINANCIAL_YEAR {
                dated
            } else {
                has(k)
            }
        })
        .chain([WATCHED, c::CONTACTS, ROWS])
        .map(col)
        .collect();
    let grouped = rows
        .with_columns(as_codes)
        .with_column(packed.alias(SMALL))
        .group_by(by.into_iter().chain([SMALL]).map(col).collect::<Vec<_>>())
        .agg([
            col(c::CONTACTS)
                .cast(DataType::Int64)
                .sum()
                .alias(c::CONTACTS),
            len().alias(ROWS),
        ])
        .with_columns(unpacked)
        .with_columns(as_before);
    let labelled = if dated {
        grouped.with_column(
            calendar
                .label_expr(col(c::YEAR), col(c::MONTH))
                .alias(c::FINANCIAL_YEAR),
        )
    } else {
        grouped
    };
    Ok(labelled.select(out))
}

/// [`summed`]'s few-valued columns packed into one number.
const SMALL: &str = "__small";

/// One few-valued column of [`summed`]: a code from 0 (null) taking `bits` bits of [`SMALL`],
/// from `shift` up, and how the column is worked out again from it.
struct Small {
    name: &'static str,
    code: Expr,
    bits: u32,
    shift: u32,
    /// The value of each code from 1, in order (code 0 is null); `None`: the code less one.
    values: Option<Vec<Expr>>,
    dtype: DataType,
}

impl Small {
    /// A true/false column: 1 false, 2 true, 0 null.
    fn flag(name: &'static str) -> Small {
        let code = when(col(name).is_null())
            .then(lit(0u32))
            .when(col(name))
            .then(lit(2u32))
            .otherwise(lit(1u32));
        Small {
            name,
            code,
            bits: 2,
            shift: 0,
            values: Some(vec![lit(false), lit(true)]),
            dtype: DataType::Boolean,
        }
    }

    /// Days from 0 to `longest` (longer as none): the days plus one.
    fn days_up_to(name: &'static str, longest: i32) -> Small {
        let code = when(
            col(name)
                .lt_eq(lit(longest))
                .and(col(name).gt_eq(lit(0i32))),
        )
        .then(col(name).cast(DataType::UInt32) + lit(1u32))
        .otherwise(lit(0u32));
        Small {
            name,
            code,
            bits: bits_for(longest.max(0) as u128 + 1),
            shift: 0,
            values: None,
            dtype: DataType::Int32,
        }
    }

    /// A number of days as the window it falls in: with `up`, the shortest window at least
    /// `days`; otherwise the longest at most `days`. The code is the window's place from 1.
    fn window(name: &'static str, days: Expr, windows: &[i32], up: bool) -> Small {
        let places = windows.iter().enumerate().map(|(i, w)| (i as u32 + 1, *w));
        let code = if up {
            places.rev().fold(lit(0u32), |rest, (i, w)| {
                when(days.clone().lt_eq(lit(w)))
                    .then(lit(i))
                    .otherwise(rest)
            })
        } else {
            places.fold(lit(0u32), |rest, (i, w)| {
                when(days.clone().gt_eq(lit(w)))
                    .then(lit(i))
                    .otherwise(rest)
            })
        };
        Small {
            name,
            code: code.fill_null(lit(0u32)),
            bits: bits_for(windows.len() as u128),
            shift: 0,
            values: Some(windows.iter().map(|w| lit(*w)).collect()),
            dtype: DataType::Int32,
        }
    }

    /// The column again, from [`SMALL`].
    fn decoded(&self) -> Expr {
        if self.bits == 0 {
            return lit(NULL).cast(self.dtype.clone()).alias(self.name);
        }
        let shifted = col(SMALL).floor_div(lit(1u64 << self.shift));
        let code = if self.bits >= 64 {
            shifted
        } else {
            shifted % lit(1u64 << self.bits)
        }
        .cast(DataType::UInt32);
        let none = lit(NULL).cast(self.dtype.clone());
        let Some(values) = &self.values else {
            return when(code.clone().eq(lit(0u32)))
                .then(none)
                .otherwise(code.cast(DataType::Int64) - lit(1i64))
                .cast(self.dtype.clone())
                .alias(self.name);
        };
        values
            .iter()
            .enumerate()
            .rev()
            .fold(none, |rest, (i, v)| {
                when(code.clone().eq(lit(i as u32 + 1)))
                    .then(v.clone().cast(self.dtype.clone()))
                    .otherwise(rest)
            })
            .alias(self.name)
    }
}

/// `aggs` by month, service and channel, plus a row per month totalling every service and
/// channel (`All services`, `All channels`), then `derived` columns over the sums. Every agg
/// must be a sum (a count is one): the totals add the detail rows up rather than group the
/// contacts a second time.
pub(super) fn with_totals(
    lf: LazyFrame,
    aggs: &[Expr],
    derived: &[Expr],
) -> Result<LazyFrame, FigureError> {
    let detail = collect(lf.group_by(keys_of(&[c::SERVICE, c::CHANNEL])).agg(aggs))?;
    let keys = month_service_channel();
    let sums: Vec<Expr> = detail
        .get_column_names()
        .into_iter()
        .filter(|n| !keys.contains(&n.as_str()))
        .map(|n| col(n.clone()).sum())
        .collect();
    let detail = detail.lazy();
    let total = detail
        .clone()
        .group_by(keys_of(&[]))
        .agg(sums)
        .with_columns([
            lit(label::ALL_SERVICES).alias(c::SERVICE),
            lit(label::ALL_CHANNELS).alias(c::CHANNEL),
        ]);
    // The total rows' columns come in another order: matched by name.
    Ok(concat_lf_diagonal(
        [detail, total],
        UnionArgs {
            to_supertypes: true,
            ..Default::default()
        },
    )
    .map_err(|e| FigureError::Data(e.to_string()))?
    .with_columns(derived))
}

/// The aggregates of every window worked out in one pass over the contacts: `aggs(n)` for each
/// window `n`, renamed apart, handed to `group` (which groups and may add rows, but keeps the
/// `keys` columns), then taken apart again into one frame per window with the names `aggs`
/// gave, `derived(n)` after them.
fn per_window(
    windows: &[u32],
    keys: &[&str],
    aggs: impl Fn(u32) -> Vec<(&'static str, Expr)>,
    group: impl FnOnce(&[Expr]) -> Result<LazyFrame, FigureError>,
    derived: impl Fn(u32) -> Vec<Expr>,
) -> Result<DataFrame, FigureError> {
    let apart = |name: &str, n: u32| format!("{name}@{n}");
    let mut all = Vec::new();
    let mut names = Vec::new();
    for &n in windows {
        names.clear();
        for (name, e) in aggs(n) {
            all.push(e.alias(apart(name, n).as_str()));
            names.push(name);
        }
    }
    let grouped = collect(group(&all)?)?.lazy();
    let parts = windows
        .iter()
        .map(|&n| {
            let columns: Vec<Expr> = keys
                .iter()
                .map(|k| col(*k))
                .chain(names.iter().map(|m| col(apart(m, n).as_str()).alias(*m)))
                .collect();
            grouped.clone().select(columns).with_columns(derived(n))
        })
        .collect();
    stacked(parts)
}

/// The keys of the tables with totals: month, service and channel.
fn month_service_channel() -> Vec<&'static str> {
    month_and(&[c::SERVICE, c::CHANNEL])
}

/// Repeat contact by month, service and channel (and in all): identified contacts that came
/// within the window after the same customer's contact about the same service.
pub fn repeat_contact(rows: &LazyFrame, windows: &[u32]) -> Result<DataFrame, FigureError> {
    let df = per_window(
        windows,
        &month_service_channel(),
        |n| {
            vec![
                (out::CONTACTS, col(c::CONTACTS).sum().cast(DataType::UInt64)),
                (out::IDENTIFIED, count(col(KEYED))),
                (out::REPEATS, count(within(PREV, n))),
            ]
        },
        |aggs| with_totals(rows.clone(), aggs, &[]),
        |n| {
            vec![
                percent(col(out::REPEATS), col(out::IDENTIFIED)).alias(out::REPEAT_PCT),
                lit(n).alias(out::WINDOW_DAYS),
            ]
        },
    )?;
    sorted(df, &[c::SERVICE, c::CHANNEL])
}

fn stacked(parts: Vec<LazyFrame>) -> Result<DataFrame, FigureError> {
    collect(concat(parts, UnionArgs::default()).map_err(|e| FigureError::Data(e.to_string()))?)
}

/// Contact resolution as observed (no contact about the same service within the window after)
/// beside the self-reported first-contact flag, by month, service and channel (and in all).
pub fn resolution(rows: &LazyFrame, windows: &[u32]) -> Result<DataFrame, FigureError> {
    let df = per_window(
        windows,
        &month_service_channel(),
        |n| {
            let watched = observable(n);
            vec![
                (out::IDENTIFIED, count(col(KEYED))),
                (out::OBSERVABLE, count(watched.clone())),
                (out::FOLLOWED_UP, count(watched.and(within(NEXT, n)))),
                (
                    out::SELF_REPORTED,
                    count(col(c::RESOLVED_FIRST_CONTACT).is_not_null()),
                ),
                (
                    out::SELF_REPORTED_RESOLVED,
                    count(col(c::RESOLVED_FIRST_CONTACT).fill_null(lit(false))),
                ),
            ]
        },
        |aggs| with_totals(rows.clone(), aggs, &[]),
        |n| {
            vec![
                percent(
                    col(out::OBSERVABLE) - col(out::FOLLOWED_UP),
                    col(out::OBSERVABLE),
                )
                .alias(out::RESOLVED_OBSERVED_PCT),
                percent(col(out::SELF_REPORTED_RESOLVED), col(out::SELF_REPORTED))
                    .alias(out::SELF_REPORTED_PCT),
                lit(n).alias(out::WINDOW_DAYS),
            ]
        },
    )?;
    sorted(df, &[c::SERVICE, c::CHANNEL])
}

/// Digital failure demand by month, service and form (category): identified digital contacts
/// followed within the window by an assisted contact about the same service; and, for balance,
/// assisted contacts followed by a digital one.
pub fn failure_demand(rows: &LazyFrame, windows: &[u32]) -> Result<DataFrame, FigureError> {
    let df = followed(rows, windows)?;
    sorted(df, &[out::DIRECTION, c::SERVICE, c::CHANNEL, c::CATEGORY])
}

/// [`failure_demand`] over the whole period, by form: most followed first (within each
/// direction and window), so the report's "forms with most follow-up calls" is its first rows.
/// The monthly table's counts summed over its months, not the contacts grouped again.
pub fn failure_demand_by_form(monthly: &DataFrame) -> Result<DataFrame, FigureError> {
    let by: Vec<Expr> = [
        c::ORGANISATION,
        out::DIRECTION,
        out::WINDOW_DAYS,
        c::SERVICE,
        c::CHANNEL,
        c::CATEGORY,
    ]
    .iter()
    .map(|k| col(*k))
    .collect();
    let summed = monthly
        .clone()
        .lazy()
        .group_by(by)
        .agg([
            col(out::IDENTIFIED).sum(),
            col(out::OBSERVABLE).sum(),
            col(out::FOLLOWED_UP).sum(),
        ])
        .with_column(percent(col(out::FOLLOWED_UP), col(out::OBSERVABLE)).alias(out::FOLLOWED_PCT))
        .select([
            col(c::ORGANISATION),
            col(c::SERVICE),
            col(c::CHANNEL),
            col(c::CATEGORY),
            col(out::IDENTIFIED),
            col(out::OBSERVABLE),
            col(out::FOLLOWED_UP),
            col(out::DIRECTION),
            col(out::WINDOW_DAYS),
            col(out::FOLLOWED_PCT),
        ]);
    collect(
        summed.sort_by_exprs(
            [
                col(c::ORGANISATION),
                col(out::DIRECTION),
                col(out::WINDOW_DAYS),
                col(out::FOLLOWED_UP),
                col(c::SERVICE),
                col(c::CATEGORY),
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, false, false, true, false, false]),
        ),
    )
}

/// Identified contacts of one side followed by the other side, grouped by month, service,
/// channel and category, both directions.
fn followed(rows: &LazyFrame, windows: &[u32]) -> Result<DataFrame, FigureError> {
    let keys = month_and(&[c::SERVICE, c::CHANNEL, c::CATEGORY]);
    let one_way = |from: &'static str, next: &'static str, direction: &'static str| {
        per_window(
            windows,
            &keys,
            |n| {
                let watched = observable(n);
                vec![
                    (out::IDENTIFIED, count(col(KEYED))),
                    (out::OBSERVABLE, count(watched.clone())),
                    (out::FOLLOWED_UP, count(watched.and(within(next, n)))),
                ]
            },
            |aggs| {
                Ok(rows
                    .clone()
                    .filter(col(from).and(col(KEYED)))
                    .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
                    .agg(aggs))
            },
            |n| {
                vec![
                    lit(direction).alias(out::DIRECTION),
                    lit(n).alias(out::WINDOW_DAYS),
                    percent(col(out::FOLLOWED_UP), col(out::OBSERVABLE)).alias(out::FOLLOWED_PCT),
                ]
            },
        )
    };
    let parts = [
        one_way(DIGITAL, NEXT_ASSISTED, out::DIGITAL_THEN_ASSISTED)?,
        one_way(ASSISTED, NEXT_DIGITAL, out::ASSISTED_THEN_DIGITAL)?,
    ];
    stacked(parts.into_iter().map(DataFrame::lazy).collect())
}

/// How many days after the previous contact repeats came, up to the longest window: the
/// shape behind the choice of window.
pub fn days_to_repeat(rows: &LazyFrame, longest: u32) -> Result<DataFrame, FigureError> {
    let year = [col(c::ORGANISATION), col(c::FINANCIAL_YEAR)];
    let polars = |e: PolarsError| FigureError::Data(e.to_string());
    let running = col(out::REPEATS)
        .cum_sum(false)
        .over(year.clone())
        .map_err(polars)?;
    let all = col(out::REPEATS).sum().over(year.clone()).map_err(polars)?;
    collect(
        rows.clone()
            .filter(within(PREV, longest))
            .group_by([col(c::ORGANISATION), col(c::FINANCIAL_YEAR), col(PREV)])
            .agg([col(ROWS).sum().cast(DataType::UInt32).alias(out::REPEATS)])
            .sort_by_exprs(
                [col(c::ORGANISATION), col(c::FINANCIAL_YEAR), col(PREV)],
                SortMultipleOptions::default(),
            )
            .with_column(percent(running, all).alias(out::CUMULATIVE_PCT))
            .select([
                col(c::ORGANISATION),
                col(c::FINANCIAL_YEAR),
                col(PREV).alias(out::DAYS),
                col(out::REPEATS),
                col(out::CUMULATIVE_PCT),
            ]),
    )
}

fn sorted(df: DataFrame, extra: &[&str]) -> Result<DataFrame, FigureError> {
    let mut by: Vec<Expr> = keys_of(extra);
    by.push(col(out::WINDOW_DAYS));
    collect(df.lazy().sort_by_exprs(by, SortMultipleOptions::default()))
}

/// The text columns of [`needed_columns`].
const TEXT: [&str; 6] = [
    c::ORGANISATION,
    c::SOURCE,
    c::CHANNEL,
    c::SERVICE,
    c::CATEGORY,
    c::REASON,
];

/// `contacts` with only the columns the right-first-time tables read: the rest of a contact
/// (waits, sites, record keys) would be carried through every step for nothing.
fn needed_columns(contacts: LazyFrame) -> Result<LazyFrame, FigureError> {
    let schema = contacts
        .clone()
        .collect_schema()
        .map_err(|e| FigureError::Data(e.to_string()))?;
    let kept: Vec<Expr> = [
        c::ORGANISATION,
        c::SOURCE,
        c::CHANNEL,
        c::SERVICE,
        c::CATEGORY,
        c::TIMESTAMP,
        c::DATE,
        c::YEAR,
        c::MONTH,
        c::CONTACTS,
        c::RESOLVED_FIRST_CONTACT,
        c::REASON,
    ]
    .iter()
    .chain(CUSTOMER_KEYS.iter())
    .filter(|name| schema.contains(name))
    .map(|name| col(*name))
    .collect();
    Ok(contacts.select(kept))
}

/// `contacts` with the columns of [`linked`] as they are for contacts no key links: none is
/// identified, none has a previous or next contact. For figures that read codes without keys.
pub fn unlinked(contacts: LazyFrame) -> Result<LazyFrame, FigureError> {
    let none = || lit(NULL).cast(DataType::Int32);
    Ok(needed_columns(contacts)?.with_columns([
        col(c::DATE).cast(DataType::Int32).alias(DAY),
        lit(false).alias(KEYED),
        none().alias(PREV),
        none().alias(NEXT),
        none().alias(LAST_OBSERVED),
    ]))
}

/// The rows of `linked` the tables count: those in `period_rows` (a filter on year and month).
pub fn in_period(linked: &DataFrame, period_rows: Expr) -> LazyFrame {
    linked.clone().lazy().filter(period_rows)
}

/// True when any contact of the frame carries a customer key.
pub fn any_identified(linked: &DataFrame) -> bool {
    linked
        .column(KEYED)
        .ok()
        .and_then(|c| c.bool().ok().map(|b| b.any()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests;
