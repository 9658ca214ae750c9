//! Field parsers as polars expressions: local or offset timestamps, numbers and durations, and
//! case-insensitive value maps. Each returns null where the raw text does not parse, so the caller
//! can tell "blank" from "bad" and give the row a reason.

use polars::prelude::*;

use crate::config::DurationUnit;

/// Raw text with surrounding whitespace removed and blank turned into null.
pub fn cleaned(raw: Expr) -> Expr {
    raw.map(trimmed, |_, field| {
        Ok(Field::new(field.name().clone(), DataType::String))
    })
}

/// The kernel of [`cleaned`]. Most export columns have nothing to trim and no blank values
/// (empty fields already read as null): such a column is returned as it is, after one scan that
/// copies nothing, instead of having every string copied by a trim.
fn trimmed(column: Column) -> PolarsResult<Column> {
    let text = column.str()?;
    // Bytes first: only text starting or ending in a space or a non-ASCII byte can need a trim.
    let maybe = |b: Option<&u8>| b.is_none_or(|b| b.is_ascii_whitespace() || !b.is_ascii());
    let untidy = |s: &str| {
        let bytes = s.as_bytes();
        (maybe(bytes.first()) || maybe(bytes.last()))
            && (s.is_empty()
                || s.starts_with(char::is_whitespace)
                || s.ends_with(char::is_whitespace))
    };
    if !text.iter().flatten().any(untidy) {
        return Ok(column);
    }
    let stripped = text.strip_chars(&Column::new_empty("".into(), &DataType::Null))?;
    let blank = stripped.str_len_bytes().equal(0);
    Ok(stripped.set(&blank, None)?.into_column())
}

/// A format whose text ends in a UTC offset (`%z`, `%:z`): the part before it.
fn offset_suffix(format: &str) -> Option<&str> {
    format
        .strip_suffix("%:z")
        .or_else(|| format.strip_suffix("%z"))
}

fn time_zone(tz: &str) -> PolarsResult<TimeZone> {
    TimeZone::opt_try_new(Some(tz))?.ok_or_else(|| polars_err!(ComputeError: "no time zone given"))
}

/// Parses text against each format in turn into an instant in the pipeline's time zone.
/// Times without an offset are local: in the autumn repeated hour the earlier instant is taken;
/// a time in the spring-forward gap does not exist and gives null.
pub fn local_timestamp(text: Expr, formats: &[String], tz: &str) -> PolarsResult<Expr> {
    let zone = time_zone(tz)?;
    let attempts: Vec<Expr> = formats
        .iter()
        .map(|f| match offset_suffix(f) {
            Some(base) => with_offset(text.clone(), base)
                .dt()
                .convert_time_zone(zone.clone()),
            None => naive_to_local(
                naive_datetime(text.clone(), std::slice::from_ref(f)),
                zone.clone(),
            ),
        })
        .collect();
    Ok(first_non_null(attempts))
}

/// An instant from text such as `2024-03-31T23:30:00+01:00`, `...+0100` or `...Z`: the wall-clock
/// part goes through polars' fast parser and the offset is read by position, which is many times
/// quicker than a general `%z` parse.
fn with_offset(text: Expr, base_format: &str) -> Expr {
    let from_end = |start: i64, len: u64| text.clone().str().slice(lit(start), lit(len));
    let zulu = text.clone().str().ends_with(lit("Z"));
    // `+01:00` has a colon three from the end; `+0100` does not.
    let colon = from_end(-3, 1).eq(lit(":"));
    let suffix_len = when(zulu.clone())
        .then(lit(1i64))
        .when(colon.clone())
        .then(lit(6i64))
        .otherwise(lit(5i64));
    let naive = naive_datetime(
        text.clone().str().head(-suffix_len),
        &[base_format.to_string()],
    );
    let sign = when(colon.clone())
        .then(from_end(-6, 1))
        .otherwise(from_end(-5, 1));
    let hours = when(colon)
        .then(from_end(-5, 2))
        .otherwise(from_end(-4, 2))
        .cast(DataType::Int64);
    let minutes = from_end(-2, 2).cast(DataType::Int64);
    let offset_ms = (hours * lit(60i64) + minutes) * lit(60_000i64);
    let offset_ms = when(zulu)
        .then(lit(0i64))
        .when(sign.clone().eq(lit("+")))
        .then(offset_ms.clone())
        .when(sign.eq(lit("-")))
        .then(-offset_ms)
        .otherwise(lit(NULL).cast(DataType::Int64));
    (naive.cast(DataType::Int64) - offset_ms).cast(DataType::Datetime(
        TimeUnit::Milliseconds,
        Some(TimeZone::UTC),
    ))
}

/// Whether no format carries a UTC offset: the text is then the wall-clock time itself.
pub fn offset_free(formats: &[String]) -> bool {
    formats.iter().all(|f| offset_suffix(f).is_none())
}

/// A wall-clock datetime as the instant it means in time zone `tz` (see [`local_timestamp`] for
/// the autumn and spring hours).
pub fn local_instant(wall: Expr, tz: &str) -> PolarsResult<Expr> {
    Ok(naive_to_local(wall, time_zone(tz)?))
}

/// A naive (wall-clock) datetime read as local time in `zone`.
///
/// Looking the offset up in the time-zone rules row by row is slow, and it hardly ever changes:
/// the offset is worked out once per distinct wall-clock hour, at the hour's first and last
/// millisecond. Where the two agree the whole hour has that offset; an hour with a change in it
/// (the clocks going forward or back, in any zone's rules) is converted row by row, each
/// distinct time once.
fn naive_to_local(naive: Expr, zone: TimeZone) -> Expr {
    const HOUR_MS: i64 = 3_600_000;
    let local = {
        let zone = zone.clone();
        move |wall: Expr| {
            wall.dt()
                .replace_time_zone(Some(zone.clone()), lit("earliest"), NonExistent::Null)
        }
    };
    let naive_ms = DataType::Datetime(TimeUnit::Milliseconds, None);
    let local_ms = DataType::Datetime(TimeUnit::Milliseconds, Some(zone));
    let ms = naive.clone().cast(naive_ms.clone()).cast(DataType::Int64);
    let hour = (ms.clone().floor_div(lit(HOUR_MS)) * lit(HOUR_MS)).cast(naive_ms.clone());
    let steady_offset = {
        let local = local.clone();
        move |hour: Expr| {
            let offset_at =
                |wall: Expr| local(wall.clone()).cast(DataType::Int64) - wall.cast(DataType::Int64);
            let last = (hour.clone().cast(DataType::Int64) + lit(HOUR_MS - 1)).cast(naive_ms);
            let (first, last) = (offset_at(hour), offset_at(last));
            when(first.clone().eq(last))
                .then(first)
                .otherwise(lit(NULL))
        }
    };
    let offset = per_distinct(hour, steady_offset, DataType::Int64);
    let changing = when(offset.clone().is_null())
        .then(naive)
        .otherwise(lit(NULL));
    let exact = per_distinct(changing, local, local_ms.clone());
    when(offset.clone().is_not_null())
        .then((ms + offset).cast(local_ms))
        .otherwise(exact)
}

/// Parses text against each format in turn, without time zone handling (dates, times of day).
pub fn naive_datetime(text: Expr, formats: &[String]) -> Expr {
    let attempts = formats
        .iter()
        .map(|f| {
            text.clone().str().to_datetime(
                Some(TimeUnit::Milliseconds),
                None,
                StrptimeOptions {
                    format: Some(f.as_str().into()),
                    strict: false,
                    exact: true,
                    // Dates repeat row after row, times of day hardly ever: caching them costs.
                    cache: !f.contains("%H"),
                },
                lit("raise"),
            )
        })
        .collect();
    first_non_null(attempts)
}

/// The wall-clock time from a date column and an optional time-of-day column (see
/// [`local_instant`] for the instant), and whether the time parsed. A blank time means the start
/// of the day; the caller rejects a time that is present but does not parse.
pub fn date_and_time(
    date_text: Expr,
    date_formats: &[String],
    time_text: Option<(Expr, &[String])>,
) -> (Expr, Option<Expr>) {
    let day_ms = naive_datetime(date_text, date_formats)
        .dt()
        .truncate(lit("1d"))
        .cast(DataType::Int64);
    let (offset_ms, time_ok) = match time_text {
        None => (lit(0i64), None),
        Some((text, formats)) => {
            let prefixed = concat_str([lit("1970-01-01 "), text.clone()], "", false);
            let prefixed_formats: Vec<String> =
                formats.iter().map(|f| format!("%Y-%m-%d {f}")).collect();
            let ms = naive_datetime(prefixed, &prefixed_formats).cast(DataType::Int64);
            let ok = text.is_null().or(ms.clone().is_not_null());
            (ms.fill_null(lit(0i64)), Some(ok))
        }
    };
    let naive = (day_ms + offset_ms).cast(DataType::Datetime(TimeUnit::Milliseconds, None));
    (naive, time_ok)
}

/// Duration text in the configured unit, as seconds (null where it does not parse); numbers
/// with a decimal comma where `decimal_comma`.
pub fn duration_seconds(text: Expr, unit: DurationUnit, decimal_comma: bool) -> Expr {
    match unit {
        DurationUnit::Seconds => number(text, decimal_comma),
        DurationUnit::Minutes => number(text, decimal_comma) * lit(60.0),
        DurationUnit::Clock => {
            // `h:mm:ss` or `m:ss`, seconds with an optional fraction. Minutes and seconds under
            // an hour or minute take two digits (`5:3` is not 5:03, nor 5:30: not a duration);
            // hours take as many as they need, so `25:00:00` is 25 hours (then judged against
            // `quality.max_duration_hours`), not unreadable.
            let negative = text.clone().str().starts_with(lit("-"));
            let part = |pattern: &str, group: usize| {
                text.clone()
                    .str()
                    .extract(lit(pattern), group)
                    .cast(DataType::Float64)
            };
            let seconds = |pattern: &str, hours: Option<usize>| {
                let h = hours.map_or(lit(0.0), |g| part(pattern, g));
                let at = usize::from(hours.is_some());
                h * lit(3600.0) + part(pattern, at + 1) * lit(60.0) + part(pattern, at + 2)
            };
            let hms = seconds(CLOCK_HMS, Some(1));
            let ms = seconds(CLOCK_MS, None);
            let total = coalesce(&[hms, ms]);
            when(negative).then(-total.clone()).otherwise(total)
        }
    }
}

/// A clock duration with hours: `h:mm:ss`, any number of hours, seconds with a fraction.
const CLOCK_HMS: &str = r"^\s*-?(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)\s*$";
/// A clock duration without hours: `m:ss`, any number of minutes.
const CLOCK_MS: &str = r"^\s*-?(\d+):([0-5]\d(?:\.\d+)?)\s*$";

/// A number written as text (thousands separators allowed), null where it is not one. With
/// `decimal_comma`, written as much of Europe writes them: `1.234,5` ([`with_decimal_comma`]).
pub fn number(text: Expr, decimal_comma: bool) -> Expr {
    let plain: fn(Column) -> PolarsResult<Column> = if decimal_comma {
        with_decimal_comma
    } else {
        without_separators
    };
    text.map(plain, |_, field| {
        Ok(Field::new(field.name().clone(), DataType::String))
    })
    .cast(DataType::Float64)
}

/// A number with dots that are thousands separators and perhaps a decimal comma (`1.234`,
/// `12.345,5`).
const GROUPED_DOTS: &str = r"^\s*[+-]?\d{1,3}(\.\d{3})+(,\d*)?\s*$";

/// Text with a decimal comma as text with a decimal point: dots that group thousands removed,
/// then the comma made a point (`1.234,5` -> `1234.5`, `12,5` -> `12.5`). A value with a dot that
/// groups no thousands (`12.5`: a decimal point where commas are expected) is null, so not a
/// number, rather than read one way or the other; so is one with two commas.
fn with_decimal_comma(column: Column) -> PolarsResult<Column> {
    let text = column.str()?;
    if !text
        .iter()
        .flatten()
        .any(|s| s.contains(',') || s.contains('.'))
    {
        return Ok(column);
    }
    let grouped = text.contains(GROUPED_DOTS, true)?;
    let dots = text.contains_literal(".")?;
    let nothing = StringChunked::full_null(text.name().clone(), text.len());
    let kept = text.zip_with(&!&dots, &nothing)?;
    let undotted = text
        .replace_literal_all(".", "")?
        .zip_with(&grouped, &kept)?;
    Ok(undotted.replace_literal_all(",", ".")?.into_column())
}

/// A number with commas that are thousands separators: one to three digits, then groups of
/// three (`1,234`, `12,345.5`).
const GROUPED: &str = r"^\s*[+-]?\d{1,3}(,\d{3})+(\.\d*)?\s*$";

/// Text with its thousands separators (commas) removed; a column without any (most) is
/// returned as it is rather than copied string by string. A value with a comma that does not
/// group thousands (`12,5`, a decimal comma; `1,2`; `1.234,5`) is null, so not a number,
/// rather than read ten or a hundred times too big with the comma dropped.
fn without_separators(column: Column) -> PolarsResult<Column> {
    let text = column.str()?;
    if !text.iter().flatten().any(|s| s.contains(',')) {
        return Ok(column);
    }
    let grouped = text.contains(GROUPED, true)?;
    let commas = text.contains_literal(",")?;
    let stripped = text.replace_literal_all(",", "")?;
    let nothing = StringChunked::full_null(text.name().clone(), text.len());
    // Where a comma groups thousands: without it; where a comma does something else: nothing;
    // elsewhere: as written.
    let kept = text.zip_with(&!&commas, &nothing)?;
    Ok(stripped.zip_with(&grouped, &kept)?.into_column())
}

/// `pairs` with each raw value once, its first pair kept (`replace_strict` refuses a value
/// listed twice).
fn first_of_each<T>(pairs: &[(String, T)]) -> Vec<&(String, T)> {
    let mut seen = std::collections::HashSet::new();
    pairs.iter().filter(|p| seen.insert(&p.0)).collect()
}

/// Maps normalised text (see `text::normalised`) through (normalised raw, value) pairs;
/// unmatched or blank gives null. A raw value listed twice maps by its first pair.
pub fn mapped(normalised_text: Expr, pairs: &[(String, String)]) -> Expr {
    if pairs.is_empty() {
        return lit(NULL).cast(DataType::String);
    }
    let pairs = first_of_each(pairs);
    let old = Series::new(
        "old".into(),
        pairs.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
    );
    let new = Series::new(
        "new".into(),
        pairs.iter().map(|p| p.1.as_str()).collect::<Vec<_>>(),
    );
    normalised_text.replace_strict(
        lit(old),
        lit(new),
        Some(lit(NULL).cast(DataType::String)),
        Some(DataType::String),
    )
}

/// Like [`mapped`] for numeric targets (rating scores).
pub fn mapped_number(normalised_text: Expr, pairs: &[(String, f64)]) -> Expr {
    if pairs.is_empty() {
        return lit(NULL).cast(DataType::Float64);
    }
    let pairs = first_of_each(pairs);
    let old = Series::new(
        "old".into(),
        pairs.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
    );
    let new = Series::new("new".into(), pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    normalised_text.replace_strict(
        lit(old),
        lit(new),
        Some(lit(NULL).cast(DataType::Float64)),
        Some(DataType::Float64),
    )
}

/// `f` worked out once per distinct value of `text` and spread back to the rows (nulls stay
/// null). Export columns are mostly a handful of values repeated (queues, statuses, ratings,
/// answers, postcodes, days): normalising, mapping or scrubbing each distinct value instead of
/// each row turns per-row string work into one hash lookup. `f` must be elementwise.
///
/// One hashing pass finds each row's distinct-value index; `f` runs on the distinct values alone
/// and its results are gathered by index. (`unique` then `replace_strict`, a join, hashed every
/// row twice and took about a tenth of ingest time.)
pub fn per_distinct(text: Expr, f: impl FnOnce(Expr) -> Expr, dtype: DataType) -> Expr {
    const DISTINCT: &str = "__distinct";
    let on_distinct = f(col(DISTINCT)).cast(dtype.clone()).alias(DISTINCT);
    // Applied to the whole column, not chunk by chunk as `map` would be: CSV text arrives in
    // chunks of a few thousand rows, and the distinct values are worth finding once per batch.
    text.apply_with_fmt_str(
        move |column| {
            let (ids, first) = distinct_ids(&column)?;
            let distinct = column.take(&first)?.with_name(DISTINCT.into());
            let mapped = DataFrame::new_infer_height(vec![distinct])?
                .lazy()
                .select([on_distinct.clone()])
                // A handful of rows: the streaming engine's start-up would cost more than the work.
                .collect_with_engine(Engine::InMemory)?
                .unwrap_single();
            // Null rows point one past the distinct values, at a null.
            let mut values = mapped.column(DISTINCT)?.clone();
            values.append_owned(Column::full_null(DISTINCT.into(), 1, values.dtype()))?;
            Ok(values.take(&ids)?.with_name(column.name().clone()))
        },
        move |_, field| Ok(Field::new(field.name().clone(), dtype.clone())),
        "per_distinct",
    )
}

/// For each row, the index of its value among the column's distinct values in order of first
/// appearance (the number of distinct values for null), and the row where each distinct value
/// first appears. Text and integer-backed columns (dates, times, years) only.
///
/// Text of up to 12 bytes (a phone number, a code, a short name) sits inside its 16-byte view:
/// it is told apart by that number, its bytes past the length cleared (one hash of one number,
/// no string comparison); longer text by the text.
pub(crate) fn distinct_ids(column: &Column) -> PolarsResult<(IdxCa, IdxCa)> {
    let len = column.len();
    let mut ids = Distinct::with_rows(len);
    match column.dtype() {
        DataType::String => {
            use polars_arrow::array::Array as _;
            let mut row = 0;
            for array in column.str()?.downcast_iter() {
                let views = array.views();
                for (i, view) in views.iter().enumerate() {
                    if !array.is_valid(i) {
                        ids.null(row);
                    } else if view.length <= polars_arrow::array::View::MAX_INLINE_SIZE {
                        ids.short(row, inline_key(view.as_u128(), view.length));
                    } else {
                        // SAFETY: `i` is below the array's length.
                        ids.long(row, unsafe { array.value_unchecked(i) });
                    }
                    row += 1;
                }
            }
        }
        dtype if dtype.to_physical().is_integer() => {
            let physical = column.to_physical_repr().cast(&DataType::Int64)?;
            for (row, value) in physical.i64()?.iter().enumerate() {
                match value {
                    Some(v) => ids.short(row, v as u128),
                    None => ids.null(row),
                }
            }
        }
        dtype => polars_bail!(ComputeError: "per-distinct mapping of a {dtype} column"),
    }
    Ok(ids.finish())
}

/// An inline view as a number that only its length and bytes decide: the bytes past the length
/// cleared, whatever the view held there.
fn inline_key(view: u128, length: u32) -> u128 {
    // The length takes the low 4 bytes, the text the next `length`.
    let kept_bits = 32 + 8 * length;
    if kept_bits >= 128 {
        view
    } else {
        view & ((1u128 << kept_bits) - 1)
    }
}

/// [`distinct_ids`]' numbering: one id per distinct value in order of first appearance, values
/// held as numbers or, when longer, as text.
struct Distinct<'a> {
    short: PlHashMap<u128, IdxSize>,
    long: PlHashMap<&'a str, IdxSize>,
    first: Vec<IdxSize>,
    ids: Vec<IdxSize>,
    nulls: Vec<usize>,
}

impl<'a> Distinct<'a> {
    fn with_rows(len: usize) -> Self {
        Distinct {
            short: PlHashMap::default(),
            long: PlHashMap::default(),
            first: Vec::new(),
            ids: Vec::with_capacity(len),
            nulls: Vec::new(),
        }
    }

    fn short(&mut self, row: usize, key: u128) {
        let next = self.first.len() as IdxSize;
        let first = &mut self.first;
        self.ids.push(*self.short.entry(key).or_insert_with(|| {
            first.push(row as IdxSize);
            next
        }));
    }

    fn long(&mut self, row: usize, key: &'a str) {
        let next = self.first.len() as IdxSize;
        let first = &mut self.first;
        self.ids.push(*self.long.entry(key).or_insert_with(|| {
            first.push(row as IdxSize);
            next
        }));
    }

    fn null(&mut self, row: usize) {
        self.nulls.push(row);
        self.ids.push(0);
    }

    fn finish(mut self) -> (IdxCa, IdxCa) {
        let null_id = self.first.len() as IdxSize;
        for row in self.nulls {
            self.ids[row] = null_id;
        }
        (
            IdxCa::from_vec("".into(), self.ids),
            IdxCa::from_vec("".into(), self.first),
        )
    }
}

/// The first non-null of several attempts.
fn first_non_null(mut attempts: Vec<Expr>) -> Expr {
    match attempts.len() {
        0 => lit(NULL),
        1 => attempts.remove(0),
        _ => coalesce(&attempts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalised;

    fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        df.column(name)
            .and_then(|c| c.cast(&DataType::String))
            .map(|c| {
                c.str()
                    .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// `written` read by [`number`].
    fn numbers_read(written: &[&str], decimal_comma: bool) -> PolarsResult<Vec<Option<f64>>> {
        let df = df!("v" => written)?
            .lazy()
            .select([number(col("v"), decimal_comma)])
            .collect()?;
        Ok(df.column("v")?.f64()?.iter().collect())
    }

    /// `numbers`, then `nones` values that are not numbers.
    fn then_none(numbers: &[f64], nones: usize) -> Vec<Option<f64>> {
        let mut want: Vec<Option<f64>> = numbers.iter().map(|&n| Some(n)).collect();
        want.extend(std::iter::repeat_n(None, nones));
        want
    }

    #[test]
    fn commas_are_dropped_only_where_they_group_thousands() -> PolarsResult<()> {
        let written = [
            "1,234",
            "12,345.5",
            "-1,234,567",
            "1234",
            "12.5",
            "1e3", // numbers
            "12,5",
            "12,50",
            "1,2",
            "1.234,5",
            "1,23",
            "1,2345",
            ",5",
            "1,,234", // not
        ];
        let numbers = [1234.0, 12345.5, -1234567.0, 1234.0, 12.5, 1000.0];
        assert_eq!(numbers_read(&written, false)?, then_none(&numbers, 8));
        Ok(())
    }

    #[test]
    fn with_a_decimal_comma_dots_group_thousands_and_nothing_is_guessed() -> PolarsResult<()> {
        let written = [
            "12,5",
            "1.234",
            "1.234,5",
            "-12.345.678,25",
            "0,5",
            "42",
            "7,25",
            "1e3", // numbers
            "12.5",
            "1.23",
            "1.2345",
            "1,2,3",
            "1..234", // not
        ];
        let numbers = [12.5, 1234.0, 1234.5, -12345678.25, 0.5, 42.0, 7.25, 1000.0];
        assert_eq!(numbers_read(&written, true)?, then_none(&numbers, 5));
        let minutes = df!("m" => ["1,5", "2"])?
            .lazy()
            .select([duration_seconds(col("m"), DurationUnit::Minutes, true)])
            .collect()?;
        let seconds: Vec<Option<f64>> = minutes.column("m")?.f64()?.iter().collect();
        assert_eq!(seconds, vec![Some(90.0), Some(120.0)]);
        Ok(())
    }

    #[test]
    fn uk_and_iso_timestamps_land_in_london_time() -> PolarsResult<()> {
        let df = df!("t" => [
            "31/03/2024 23:59:59",
            "01/04/2024 00:00:00",
            "2024-03-31T23:30:00+00:00",
            "26/03/2023 01:30:00",
            "29/10/2023 01:30:00",
            "31/02/2024 10:00:00",
            "2024-06-01T12:00:00+0000",
            "2024-06-01T12:00:00Z",
            "2024-06-01T12:00:00-05:00",
            "2024-06-01T12:00:00+01",
        ])?;
        let formats = vec![
            "%d/%m/%Y %H:%M:%S".to_string(),
            "%Y-%m-%dT%H:%M:%S%z".to_string(),
        ];
        let out = df
            .lazy()
            .select([local_timestamp(col("t"), &formats, "Europe/London")?
                .dt()
                .strftime("%Y-%m-%d %H:%M:%S %z")
                .alias("ts")])
            .collect()?;
        assert_eq!(
            strings(&out, "ts"),
            vec![
                Some("2024-03-31 23:59:59 +0100".into()),
                Some("2024-04-01 00:00:00 +0100".into()),
                // 23:30 UTC on 31 March 2024 is 00:30 BST on 1 April: the next financial year.
                Some("2024-04-01 00:30:00 +0100".into()),
                // Clocks went forward at 01:00 on 26 March 2023: 01:30 never happened.
                None,
                // The repeated hour at the end of October takes the earlier (BST) instant.
                Some("2023-10-29 01:30:00 +0100".into()),
                None,
                Some("2024-06-01 13:00:00 +0100".into()),
                Some("2024-06-01 13:00:00 +0100".into()),
                Some("2024-06-01 18:00:00 +0100".into()),
                None,
            ]
        );
        Ok(())
    }

    #[test]
    fn hour_by_hour_offsets_match_the_zone_rules_minute_by_minute() -> PolarsResult<()> {
        // Every minute (and some odd seconds) around the 2024 changes in London, Lord Howe Island
        // (clocks move by half an hour) and Kolkata (no changes, a half-hour offset), plus nulls.
        let starts = [
            "2024-03-30 22:00:00",
            "2024-10-26 22:00:00",
            "2024-04-06 22:00:00",
            "2024-10-05 22:00:00",
        ];
        let mut wall: Vec<Option<String>> = Vec::new();
        for start in starts {
            let start = chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M:%S")
                .map_err(|e| polars_err!(ComputeError: "{e}"))?;
            for minute in 0..(8 * 60) {
                let t = start + chrono::Duration::seconds(minute * 60 + (minute % 7) * 9);
                wall.push(Some(t.format("%Y-%m-%d %H:%M:%S").to_string()));
            }
            wall.push(None);
        }
        let df = df!("t" => wall)?;
        for (tz, has_gap) in [
            ("Europe/London", true),
            ("Australia/Lord_Howe", true),
            ("Asia/Kolkata", false),
        ] {
            let zone = time_zone(tz)?;
            let naive = naive_datetime(col("t"), &["%Y-%m-%d %H:%M:%S".to_string()]);
            let out = df
                .clone()
                .lazy()
                .select([
                    naive_to_local(naive.clone(), zone.clone()).alias("fast"),
                    naive
                        .dt()
                        .replace_time_zone(Some(zone), lit("earliest"), NonExistent::Null)
                        .alias("exact"),
                ])
                .collect()?;
            let fast = out.column("fast")?;
            let exact = out.column("exact")?;
            assert_eq!(fast.dtype(), exact.dtype(), "{tz}");
            assert!(fast.equals_missing(exact), "{tz}");
            // Where the clocks go forward some times do not exist: the test covers them.
            assert_eq!(exact.null_count() > starts.len(), has_gap, "{tz}");
        }
        Ok(())
    }

    #[test]
    fn durations_in_each_unit() -> PolarsResult<()> {
        let df = df!("s" => ["90", "1.5", "-3", "12s", "1,200"], "c" => ["00:01:30", "02:05", "-00:00:10", "x", "1:00:00"])?;
        let clock = df!("c" => ["25:00:00", "5:3", "0:5:03", "125:30", "00:01:30.5", "1:60:00", "1:00:0", " 0:07 ", "", "1:2:3:4"])?;
        let out = df
            .lazy()
            .select([
                duration_seconds(col("s"), DurationUnit::Seconds, false).alias("sec"),
                duration_seconds(col("s"), DurationUnit::Minutes, false).alias("min"),
                duration_seconds(col("c"), DurationUnit::Clock, false).alias("clock"),
            ])
            .collect()?;
        let f = |n: &str| -> Vec<Option<f64>> {
            out.column(n)
                .and_then(|c| c.f64().map(|s| s.iter().collect()))
                .unwrap_or_default()
        };
        assert_eq!(
            f("sec"),
            vec![Some(90.0), Some(1.5), Some(-3.0), None, Some(1200.0)]
        );
        assert_eq!(
            f("min"),
            vec![Some(5400.0), Some(90.0), Some(-180.0), None, Some(72000.0)]
        );
        assert_eq!(
            f("clock"),
            vec![Some(90.0), Some(125.0), Some(-10.0), None, Some(3600.0)]
        );
        // More than a day is a duration (judged implausible later); a minute or second field
        // without its two digits is not one.
        let clock = clock
            .lazy()
            .select([duration_seconds(col("c"), DurationUnit::Clock, false)])
            .collect()?;
        let clock: Vec<Option<f64>> = clock.column("c")?.f64()?.iter().collect();
        assert_eq!(
            clock,
            vec![
                Some(90_000.0),
                None,
                None,
                Some(7_530.0),
                Some(90.5),
                None,
                None,
                Some(7.0),
                None,
                None
            ]
        );
        Ok(())
    }

    #[test]
    fn cleaned_text_is_trimmed_with_blanks_as_null() -> PolarsResult<()> {
        let untidy =
            df!("v" => [Some(" a "), Some(""), Some("\t "), None, Some("b\u{a0}"), Some("c d")])?;
        let tidy = df!("v" => [Some("a"), None, Some("c d")])?;
        let run = |df: DataFrame| -> PolarsResult<Vec<Option<String>>> {
            let out = df.lazy().select([cleaned(col("v"))]).collect()?;
            Ok(strings(&out, "v"))
        };
        let want = |v: &[Option<&str>]| v.iter().map(|s| s.map(str::to_string)).collect::<Vec<_>>();
        assert_eq!(
            run(untidy)?,
            want(&[Some("a"), None, None, None, Some("b"), Some("c d")])
        );
        assert_eq!(run(tidy)?, want(&[Some("a"), None, Some("c d")]));
        Ok(())
    }

    #[test]
    fn a_raw_value_listed_twice_maps_by_its_first_pair() -> PolarsResult<()> {
        let text = || col("v");
        let df = df!("v" => [Some("web"), Some("phone"), None])?
            .lazy()
            .select([
                mapped(
                    text(),
                    &[
                        ("web".into(), "web".into()),
                        ("phone".into(), "telephone".into()),
                        ("web".into(), "other".into()),
                    ],
                )
                .alias("channel"),
                mapped_number(
                    text(),
                    &[
                        ("web".into(), 1.0),
                        ("web".into(), 2.0),
                        ("phone".into(), 3.0),
                    ],
                )
                .alias("score"),
            ])
            .collect()?;
        let channels: Vec<Option<&str>> = df.column("channel")?.str()?.iter().collect();
        assert_eq!(channels, [Some("web"), Some("telephone"), None]);
        let scores: Vec<Option<f64>> = df.column("score")?.f64()?.iter().collect();
        assert_eq!(scores, [Some(1.0), Some(3.0), None]);
        Ok(())
    }

    #[test]
    fn per_distinct_values_match_per_row_values() -> PolarsResult<()> {
        let values = [
            Some(" Good"),
            None,
            Some("POOR "),
            Some(" Good"),
            Some("x"),
            None,
        ];
        let df = df!("v" => values)?;
        let out = df
            .lazy()
            .select([
                per_distinct(col("v"), |u| normalised(cleaned(u)), DataType::String).alias("d"),
                normalised(cleaned(col("v"))).alias("r"),
                per_distinct(col("v"), |u| u.str().len_bytes(), DataType::UInt32).alias("n"),
            ])
            .collect()?;
        assert_eq!(strings(&out, "d"), strings(&out, "r"));
        let n: Vec<Option<u32>> = out.column("n")?.u32()?.iter().collect();
        assert_eq!(n, vec![Some(5), None, Some(5), Some(5), Some(1), None]);
        // A column with no values at all.
        let empty = df!("v" => [None::<&str>, None])?
            .lazy()
            .select([per_distinct(col("v"), |u| u, DataType::String).alias("v")])
            .collect()?;
        assert_eq!(strings(&empty, "v"), vec![None, None]);
        // Many distinct values (found in parallel): each row still gets its own value back.
        let many: Vec<String> = (0..200_000).map(|i| format!("v{}", i % 50_000)).collect();
        let out = df!("v" => many.clone())?
            .lazy()
            .select([per_distinct(col("v"), |u| u, DataType::String).alias("v")])
            .collect()?;
        assert_eq!(
            strings(&out, "v"),
            many.into_iter().map(Some).collect::<Vec<_>>()
        );
        Ok(())
    }

    #[test]
    fn value_maps_ignore_case_and_spacing() -> PolarsResult<()> {
        let df = df!("v" => [" good", "POOR ", "Avg", "Excellent"])?;
        let pairs = vec![
            ("good".to_string(), "Good".to_string()),
            ("poor".to_string(), "Poor".to_string()),
            ("avg".to_string(), "Average".to_string()),
        ];
        let out = df
            .lazy()
            .select([mapped(normalised(col("v")), &pairs).alias("m")])
            .collect()?;
        assert_eq!(
            strings(&out, "m"),
            vec![
                Some("Good".into()),
                Some("Poor".into()),
                Some("Average".into()),
                None
            ]
        );
        Ok(())
    }

    /// Numbering by first appearance, worked out plainly over the values.
    fn numbered_plainly(values: &[Option<&str>]) -> (Vec<IdxSize>, Vec<IdxSize>) {
        let mut seen: Vec<&str> = Vec::new();
        let mut first = Vec::new();
        let mut ids: Vec<Option<IdxSize>> = Vec::new();
        for (row, v) in values.iter().enumerate() {
            ids.push(v.map(|v| match seen.iter().position(|s| *s == v) {
                Some(i) => i as IdxSize,
                None => {
                    seen.push(v);
                    first.push(row as IdxSize);
                    (seen.len() - 1) as IdxSize
                }
            }));
        }
        let null_id = seen.len() as IdxSize;
        (
            ids.into_iter().map(|i| i.unwrap_or(null_id)).collect(),
            first,
        )
    }

    #[test]
    fn distinct_ids_number_short_and_long_text_by_first_appearance_across_chunks(
    ) -> PolarsResult<()> {
        // Up to 12 bytes (inside the view) and longer, equal values in other chunks, nulls,
        // the empty text, a value that is another's prefix, and multi-byte characters.
        let parts: [&[Option<&str>]; 3] = [
            &[
                Some("07700900123"),
                None,
                Some("a.person@example.org"),
                Some(""),
                Some("0770090012"),
            ],
            &[
                Some("07700900123"),
                Some("a.person@example.org"),
                Some("twelve bytes"),
                None,
            ],
            &[
                Some("twelve bytes"),
                Some("thirteen byte"),
                Some("é"),
                Some("0770090012"),
                Some(""),
            ],
        ];
        let mut ca = StringChunked::new("v".into(), parts[0]);
        for part in &parts[1..] {
            ca.append(&StringChunked::new("v".into(), *part))?;
        }
        assert_eq!(ca.chunks().len(), 3);
        let all: Vec<Option<&str>> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let (ids, first) = distinct_ids(&ca.into_series().into_column())?;
        let (want_ids, want_first) = numbered_plainly(&all);
        assert_eq!(ids.into_no_null_iter().collect::<Vec<_>>(), want_ids);
        assert_eq!(first.into_no_null_iter().collect::<Vec<_>>(), want_first);
        Ok(())
    }

    #[test]
    fn an_inline_view_is_told_by_its_length_and_bytes_only() {
        // Length 3, bytes "abc", then whatever the view held past them.
        let clean = 3u128 | (u128::from_le_bytes(*b"\0\0\0\0abc\0\0\0\0\0\0\0\0\0") & !0xFFFF_FFFF);
        let dirty = clean | (0xABu128 << (8 * 10));
        assert_ne!(clean, dirty);
        assert_eq!(inline_key(clean, 3), inline_key(dirty, 3));
        // Twelve bytes fill the view: nothing is cleared.
        assert_eq!(inline_key(u128::MAX, 12), u128::MAX);
        assert_eq!(inline_key(u128::MAX, 0), 0xFFFF_FFFF);
    }
}
