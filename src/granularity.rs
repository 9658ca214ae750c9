//! How precisely a contact is dated: a day (most exports), a month (a monthly count, a month in
//! the file name), a quarter or a year (a quarterly or yearly return). Owns the lake's
//! `date_granularity` marker, the reading of quarter and year labels ("2023 Q2", "Q2 2023",
//! "2023/24 Q1", "2023", "2023/24") into the first day of the period they name, and the one rule
//! every figure applies to coarse rows: a monthly figure never counts a quarter or a year, and a
//! figure over some months counts a row only when the whole period it is dated by lies inside
//! them ([`counted_in`]).

use polars::prelude::*;

use crate::model::col as c;

/// How precisely a source's rows are dated (`date_granularity` in a pipeline file). A row keeps
/// the first day of its period as its date, and its granularity beside it when coarser than a
/// day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Granularity {
    Day,
    Month,
    Quarter,
    Year,
}

impl Granularity {
    /// How many months a row of this granularity stands for (a day stands for its month).
    pub fn months(self) -> i32 {
        match self {
            Granularity::Day | Granularity::Month => 1,
            Granularity::Quarter => 3,
            Granularity::Year => 12,
        }
    }

    /// True for a quarter or a year: rows that no monthly figure counts.
    pub fn is_coarse(self) -> bool {
        self.months() > 1
    }
}

/// How a quarter written with one year ("2023 Q1", "Q1 2023") is read (`quarter_labels`): as a
/// calendar quarter (Q1 = January to March) or as a quarter of the financial year starting in
/// that year (Q1 = its first three months). "2023/24 Q1" is always a financial quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuarterLabels {
    #[default]
    Calendar,
    Financial,
}

/// A regular expression's capture group `i` of `text`, as a number (null where it does not match).
fn group(text: &Expr, pattern: &str, i: usize) -> Expr {
    text.clone()
        .str()
        .extract(lit(pattern), i)
        .cast(DataType::Int32)
}

/// The second year of a financial year's name ("24" or "2024" in "2023/24") is the year after
/// the first.
fn follows(start: Expr, end: Expr) -> Expr {
    end.clone()
        .eq(start.clone() + lit(1i32))
        .or(end.eq((start + lit(1i32)) % lit(100i32)))
}

/// The naive datetime (milliseconds, midnight) of the first day of month `index` (year * 12 +
/// month - 1); null where `index` is null.
fn month_start(index: Expr) -> Expr {
    let year = index.clone().floor_div(lit(12i32));
    let month = index % lit(12i32) + lit(1i32);
    let text = concat_str(
        [
            year.cast(DataType::String).str().zfill(lit(4)),
            month.cast(DataType::String).str().zfill(lit(2)),
            lit("01"),
        ],
        "-",
        false,
    );
    text.str().to_datetime(
        Some(TimeUnit::Milliseconds),
        None,
        StrptimeOptions {
            format: Some("%Y-%m-%d".into()),
            strict: false,
            exact: true,
            cache: true,
        },
        lit("raise"),
    )
}

/// The first day of the month a label names, as a naive datetime (null for text that is not a
/// month): "2024-03", "2024/3", "2024 03", "03/2024", "3-2024", "202403", "Mar 2024", "March-2024",
/// "Mar-24" (two-digit years are 20xx). Case is ignored; `text` is already trimmed.
pub fn month_label_start(text: Expr) -> Expr {
    let numeric = |pattern: &str, year_group: usize, month_group: usize| {
        let (year, month) = (
            group(&text, pattern, year_group),
            group(&text, pattern, month_group),
        );
        when(
            month
                .clone()
                .gt_eq(lit(1i32))
                .and(month.clone().lt_eq(lit(12i32))),
        )
        .then(year * lit(12i32) + month - lit(1i32))
        .otherwise(lit(NULL).cast(DataType::Int32))
    };
    let named = r"(?i)^([a-z]{3,9})\.?[\s-]*(\d{4}|\d{2})$";
    let name = text
        .clone()
        .str()
        .extract(lit(named), 1)
        .str()
        .to_lowercase();
    let year = group(&text, named, 2);
    let year = when(year.clone().lt(lit(100i32)))
        .then(year.clone() + lit(2000i32))
        .otherwise(year);
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    // A month's full name or its first three letters ("Sept" too).
    let number = MONTHS.iter().enumerate().rev().fold(
        lit(NULL).cast(DataType::Int32),
        |otherwise, (i, full)| {
            let is = name
                .clone()
                .eq(lit(*full))
                .or(name.clone().eq(lit(&full[..3])))
                .or(name.clone().eq(lit("sept")).and(lit(*full == "september")));
            when(is).then(lit(i as i32)).otherwise(otherwise)
        },
    );
    month_start(coalesce(&[
        numeric(r"^(\d{4})\s*[-/. ]\s*(\d{1,2})$", 1, 2),
        numeric(r"^(\d{1,2})\s*[-/. ]\s*(\d{4})$", 2, 1),
        numeric(r"^(\d{4})(\d{2})$", 1, 2),
        year * lit(12i32) + number,
    ]))
}

/// Optional spaces and one optional `-` between a label's parts.
const SEP: &str = r"\s*-?\s*";
/// A financial year's name: `2023/24`, `2023-24` or `2023/2024` (groups: first, second year).
const FY: &str = r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})";

/// The first day of the quarter a label names, as a naive datetime (null for text that is not a
/// quarter): "2023 Q2", "2023-Q2", "2023Q2", "Q2 2023" (read as `labels` says), "2023/24 Q1",
/// "2023-24 Q1", "Q1 2023/24" (the financial year's first quarter starts in `first_month`, the
/// pipeline calendar's first month, 1-12). Case is ignored; `text` is already trimmed.
pub fn quarter_start(text: Expr, first_month: i8, labels: QuarterLabels) -> Expr {
    let year_q = format!(r"(?i)^(\d{{4}}){SEP}Q([1-4])$");
    let q_year = format!(r"(?i)^Q([1-4]){SEP}(\d{{4}})$");
    let fy_q = format!(r"(?i)^{FY}{SEP}Q([1-4])$");
    let q_fy = format!(r"(?i)^Q([1-4]){SEP}{FY}$");
    let financial_offset = lit(i32::from(first_month) - 1);
    let single_offset = match labels {
        QuarterLabels::Calendar => lit(0i32),
        QuarterLabels::Financial => financial_offset.clone(),
    };
    let index = |year: Expr, quarter: Expr, offset: Expr| {
        year * lit(12i32) + offset + (quarter - lit(1i32)) * lit(3i32)
    };
    let in_fy = |start: Expr, end: Expr, quarter: Expr| {
        when(follows(start.clone(), end))
            .then(index(start, quarter, financial_offset.clone()))
            .otherwise(lit(NULL).cast(DataType::Int32))
    };
    let month = coalesce(&[
        index(
            group(&text, &year_q, 1),
            group(&text, &year_q, 2),
            single_offset.clone(),
        ),
        index(
            group(&text, &q_year, 2),
            group(&text, &q_year, 1),
            single_offset,
        ),
        in_fy(
            group(&text, &fy_q, 1),
            group(&text, &fy_q, 2),
            group(&text, &fy_q, 3),
        ),
        in_fy(
            group(&text, &q_fy, 2),
            group(&text, &q_fy, 3),
            group(&text, &q_fy, 1),
        ),
    ]);
    month_start(month)
}

/// The first day of the year a label names, as a naive datetime (null for text that is not a
/// year): "2023" is the calendar year (1 January), "2023/24" (or "2023-24", "2023/2024") the
/// financial year starting in 2023 in the pipeline's calendar (in `first_month`, 1-12).
pub fn year_start(text: Expr, first_month: i8) -> Expr {
    let year = r"^(\d{4})$";
    let fy = format!(r"^{FY}$");
    let (start, end) = (group(&text, &fy, 1), group(&text, &fy, 2));
    let financial = when(follows(start.clone(), end))
        .then(start * lit(12i32) + lit(i32::from(first_month) - 1))
        .otherwise(lit(NULL).cast(DataType::Int32));
    month_start(coalesce(&[group(&text, year, 1) * lit(12i32), financial]))
}

/// What a single label names (`period` in a pipeline file): a quarter (`2023 Q2`, `2023/24 Q1`),
/// a year (`2023`, `2023/24`) or a month (`2023-06`, `June 2023`); `None` for anything else.
/// Read by the same expressions as a `date` column of labels, so a label accepted here is read
/// the same at ingest.
pub fn label_granularity(label: &str) -> Option<Granularity> {
    let text = lit(label.trim().to_string());
    let read = |e: Expr| -> bool {
        DataFrame::empty()
            .lazy()
            .select([e.is_not_null().alias("read")])
            .collect()
            .ok()
            .and_then(|df| df.column("read").ok()?.bool().ok()?.get(0))
            .unwrap_or(false)
    };
    if read(quarter_start(text.clone(), 4, QuarterLabels::Calendar)) {
        Some(Granularity::Quarter)
    } else if read(year_start(text.clone(), 4)) {
        Some(Granularity::Year)
    } else if read(month_label_start(text)) {
        Some(Granularity::Month)
    } else {
        None
    }
}

/// How many months each row's date stands for, from its `date_granularity` (null, as in lakes
/// written before the column existed: a day). Null for a marker this version does not know, so
/// that such a row is counted nowhere rather than as a month.
fn span() -> Expr {
    let g = col(c::DATE_GRANULARITY);
    let is = |x: Granularity| g.clone().eq(lit(x.as_str()));
    when(
        g.clone()
            .is_null()
            .or(is(Granularity::Day))
            .or(is(Granularity::Month)),
    )
    .then(lit(1i32))
    .when(is(Granularity::Quarter))
    .then(lit(3i32))
    .when(is(Granularity::Year))
    .then(lit(12i32))
    .otherwise(lit(NULL).cast(DataType::Int32))
}

/// The month (year * 12 + month - 1) a row's period starts in.
fn first_index() -> Expr {
    col(c::YEAR).cast(DataType::Int32) * lit(12i32) + col(c::MONTH).cast(DataType::Int32)
        - lit(1i32)
}

/// True for rows dated to a day or a month: the only rows a monthly figure (a table or chart by
/// month, a zero-filled grid of months) counts.
pub fn dated_by_month() -> Expr {
    span().eq(lit(1i32)).fill_null(lit(false))
}

/// The rule every figure over some months applies, in one place: a row counts when the whole
/// period it is dated by lies inside `months` (a day or a month: its month is one of them; a
/// quarter or a year: every one of its months is). So a financial year counts the quarters wholly
/// inside it and a year row only when that year is exactly one of its financial years; a year to
/// date counts only the quarters it has wholly passed; a single month counts no quarter.
pub fn counted_in(months: &[(i32, i8)]) -> Expr {
    let mut index: Vec<i32> = months
        .iter()
        .map(|(y, m)| y * 12 + i32::from(*m) - 1)
        .collect();
    index.sort_unstable();
    index.dedup();
    if index.is_empty() {
        return lit(false);
    }
    // Each run of consecutive months gets a number: a period is inside `months` when it starts
    // and ends in the same run.
    let mut runs = Vec::with_capacity(index.len());
    let mut run = 0i32;
    for (i, m) in index.iter().enumerate() {
        if i > 0 && index[i - 1] + 1 != *m {
            run += 1;
        }
        runs.push(run);
    }
    let run_of = |e: Expr| {
        e.replace_strict(
            lit(Series::new("month".into(), index.clone())),
            lit(Series::new("run".into(), runs.clone())),
            Some(lit(NULL).cast(DataType::Int32)),
            Some(DataType::Int32),
        )
    };
    let first = first_index();
    let last = first.clone() + span() - lit(1i32);
    run_of(first).eq(run_of(last)).fill_null(lit(false))
}

/// True for coarse rows (a quarter, a year) whose period overlaps the months from `first` to
/// `last` without lying wholly inside them: left out of figures over those months.
pub fn straddles(first: (i32, i8), last: (i32, i8)) -> Expr {
    let index = |(y, m): (i32, i8)| y * 12 + i32::from(m) - 1;
    let start = first_index();
    let end = start.clone() + span() - lit(1i32);
    let overlaps = start
        .lt_eq(lit(index(last)))
        .and(end.gt_eq(lit(index(first))));
    let months: Vec<(i32, i8)> = (index(first)..=index(last))
        .map(|i| (i.div_euclid(12), (i.rem_euclid(12) + 1) as i8))
        .collect();
    overlaps
        .and(counted_in(&months).not())
        .and(dated_by_month().not())
        .fill_null(lit(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Calendar;

    fn starts(texts: &[&str], f: impl Fn(Expr) -> Expr) -> PolarsResult<Vec<Option<String>>> {
        let df = df!("t" => texts)?
            .lazy()
            .select([f(col("t")).dt().strftime("%Y-%m-%d").alias("d")])
            .collect()?;
        Ok(df
            .column("d")?
            .str()?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter()
            .map(|s| (!s.is_empty()).then(|| s.to_string()))
            .collect()
    }

    #[test]
    fn a_single_label_says_what_it_dates_by() {
        for (label, expected) in [
            ("2023 Q2", Some(Granularity::Quarter)),
            ("Q1 2023/24", Some(Granularity::Quarter)),
            ("2023", Some(Granularity::Year)),
            (" 2023/24 ", Some(Granularity::Year)),
            ("2023-24", Some(Granularity::Year)),
            ("2023-06", Some(Granularity::Month)),
            ("June 2023", Some(Granularity::Month)),
            ("2023-13", None),
            ("2023/25", None),
            ("Q5 2023", None),
            ("summer 2023", None),
            ("", None),
        ] {
            assert_eq!(label_granularity(label), expected, "{label:?}");
        }
    }

    #[test]
    fn month_labels_name_the_first_day_of_their_month() -> PolarsResult<()> {
        let labels = [
            "2024-03",
            "2024/3",
            "2024 03",
            "03/2024",
            "3-2024",
            "202403",
            "Mar 2024",
            "march 2024",
            "MARCH-2024",
            "Mar-24",
            "Sept 2023",
            "Sep. 2023",
            "2024-13",
            "13/2024",
            "Marc 2024",
            "2024",
            "2024-03-15",
            "",
        ];
        assert_eq!(
            starts(&labels, month_label_start)?,
            some(&[
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2024-03-01",
                "2023-09-01",
                "2023-09-01",
                "",
                "",
                "",
                "",
                "",
                "",
            ])
        );
        Ok(())
    }

    #[test]
    fn quarter_labels_name_the_first_day_of_their_quarter() -> PolarsResult<()> {
        let april = Calendar::APRIL;
        let july = Calendar::starting(7).ok_or_else(|| polars_err!(ComputeError: "July"))?;
        let labels = [
            "2023 Q2",
            "2023-Q2",
            "2023q2",
            "Q2 2023",
            "q4-2023",
            "2023/24 Q1",
            "2023-24 Q4",
            "2023/2024 Q3",
            "Q1 2023/24",
            "2023 Q5",
            "2023 Q0",
            "2023/25 Q1",
            "Q2",
            "2023",
            "23 Q1",
            "2023 Q2 x",
        ];
        let got = starts(&labels, |t| {
            quarter_start(t, april.start_month(), QuarterLabels::Calendar)
        })?;
        let want = some(&[
            "2023-04-01",
            "2023-04-01",
            "2023-04-01",
            "2023-04-01",
            "2023-10-01",
            "2023-04-01",
            "2024-01-01",
            "2023-10-01",
            "2023-04-01",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]);
        assert_eq!(got, want);
        // A July year: financial Q1 is July to September, Q4 April to June of the next year.
        let got = starts(&["2023/24 Q1", "2023/24 Q4", "2023 Q1"], |t| {
            quarter_start(t, july.start_month(), QuarterLabels::Calendar)
        })?;
        assert_eq!(got, some(&["2023-07-01", "2024-04-01", "2023-01-01"]));
        // Single-year quarters read as financial ones.
        let got = starts(&["2023 Q1", "Q4 2023"], |t| {
            quarter_start(t, july.start_month(), QuarterLabels::Financial)
        })?;
        assert_eq!(got, some(&["2023-07-01", "2024-04-01"]));
        Ok(())
    }

    #[test]
    fn year_labels_are_calendar_years_or_financial_years() -> PolarsResult<()> {
        let got = starts(
            &["2023", "2023/24", "2023-2024", "2023/25", "23", "2023 Q1"],
            |t| year_start(t, Calendar::APRIL.start_month()),
        )?;
        assert_eq!(
            got,
            some(&["2023-01-01", "2023-04-01", "2023-04-01", "", "", ""])
        );
        Ok(())
    }

    /// Which rows `rule` keeps, of rows dated (year, month, granularity).
    fn kept(rows: &[(i32, i8, Option<&str>)], rule: Expr) -> PolarsResult<Vec<bool>> {
        let df = df!(
            c::YEAR => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            c::MONTH => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            c::DATE_GRANULARITY => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )?
        .lazy()
        .select([rule.alias("k")])
        .collect()?;
        Ok(df
            .column("k")?
            .bool()?
            .iter()
            .map(|v| v == Some(true))
            .collect())
    }

    #[test]
    fn a_year_counts_the_quarters_wholly_inside_it_and_a_month_none() -> PolarsResult<()> {
        let april = Calendar::APRIL;
        let rows = [
            (2023, 4, None),              // a day in April 2023
            (2023, 4, Some("month")),     // April 2023
            (2023, 1, Some("quarter")),   // Jan-Mar 2023: the year before
            (2023, 4, Some("quarter")),   // Apr-Jun 2023: inside
            (2024, 1, Some("quarter")),   // Jan-Mar 2024: inside
            (2024, 3, Some("quarter")),   // Mar-May 2024: straddles
            (2023, 1, Some("year")),      // calendar 2023: straddles
            (2023, 4, Some("year")),      // 2023/24 exactly
            (2023, 4, Some("fortnight")), // unknown: nowhere
        ];
        let year = april.months(2023);
        assert_eq!(
            kept(&rows, counted_in(&year))?,
            [true, true, false, true, true, false, false, true, false]
        );
        assert_eq!(
            kept(&rows, dated_by_month())?,
            [true, true, false, false, false, false, false, false, false]
        );
        assert_eq!(
            kept(&rows, straddles(year[0], year[11]))?,
            [false, false, false, false, false, true, true, false, false]
        );
        // A single month counts no quarter.
        assert_eq!(
            kept(&rows, counted_in(&[(2023, 4)]))?,
            [true, true, false, false, false, false, false, false, false]
        );
        // Year to date to May: Apr-Jun is not wholly passed.
        let ytd = crate::period::Period::month(2023, 5, april).months_in(2023);
        assert_eq!(
            kept(&rows, counted_in(&ytd))?,
            [true, true, false, false, false, false, false, false, false]
        );
        // A July year: Apr-Jun 2023 belongs to 2022/23, Jan-Mar 2024 to 2023/24, and neither
        // year row is exactly a July year.
        let july = Calendar::starting(7).ok_or_else(|| polars_err!(ComputeError: "July"))?;
        assert_eq!(
            kept(&rows, counted_in(&july.months(2023)))?,
            [false, false, false, false, true, true, false, false, false]
        );
        // Months that are not one run: a year spanning the gap is not inside.
        let mut gap = april.months(2022)[..10].to_vec();
        gap.extend(april.months(2023)[..10].to_vec());
        assert_eq!(
            kept(
                &[(2023, 1, Some("year")), (2023, 1, Some("quarter"))],
                counted_in(&gap)
            )?,
            [false, false]
        );
        assert_eq!(kept(&rows[..1], counted_in(&[]))?, [false]);
        Ok(())
    }
}
