//! The reporting period a run covers: a whole financial year, or a month (and with it the
//! financial year to date), in the pipeline's calendar (the month its financial year starts in).
//! Turns periods into month lists, filters, names and folder names, and works out each row's
//! financial year when figures are computed; shared by the KPI and equality stages and the run;
//! knows nothing of either.

use polars::prelude::*;

use crate::model::col as c;

/// `Apr 2023`.
pub fn month_label(year: i32, month: i8) -> String {
    const SHORT: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let name = SHORT
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("?");
    format!("{name} {year}")
}

/// The month a council's financial year starts in (April in the UK; July, October or January
/// elsewhere), and what its years are called: `2023/24` for a year across two calendar years,
/// `2024` for one that starts in January. A year is known by the calendar year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    start: i8,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::APRIL
    }
}

/// Month names, January first, as pipeline files and reports write them.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Calendar {
    /// The UK public sector's year: 1 April to 31 March.
    pub const APRIL: Calendar = Calendar { start: 4 };

    /// A financial year starting in `month` (1-12).
    pub fn starting(month: i8) -> Option<Calendar> {
        (1..=12)
            .contains(&month)
            .then_some(Calendar { start: month })
    }

    /// A financial year starting in the month named (`July`, `jul`, case ignored).
    pub fn starting_in(name: &str) -> Option<Calendar> {
        let name = name.trim().to_lowercase();
        let at = MONTH_NAMES.iter().position(|m| {
            let m = m.to_lowercase();
            m == name || (name.len() == 3 && m.starts_with(&name))
        })?;
        Calendar::starting(at as i8 + 1)
    }

    /// The month the year starts in (1-12).
    pub fn start_month(self) -> i8 {
        self.start
    }

    /// The financial year (the calendar year it starts in) of a calendar month.
    pub fn fy_of(self, year: i32, month: i8) -> i32 {
        if month < self.start {
            year - 1
        } else {
            year
        }
    }

    /// `2023/24`, or `2024` when the year starts in January.
    pub fn label(self, fy: i32) -> String {
        if self.start == 1 {
            format!("{fy}")
        } else {
            format!("{}/{:02}", fy, (fy + 1).rem_euclid(100))
        }
    }

    /// The year's name as `label` writes it, given as `--fy` or in a pipeline file: `2023/24`
    /// (or `2023-24`, `2023/2024`) for a year across two calendar years, `2024` for a year that
    /// starts in January; the other form is refused with a message saying which to give.
    pub fn parse(self, text: &str) -> Result<i32, String> {
        let text = text.trim();
        let single = text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit());
        let year = match (self.start == 1, single) {
            (true, true) => text.parse().ok(),
            (false, false) => parse_financial_year(text),
            _ => None,
        };
        year.ok_or_else(|| {
            format!(
                "'{text}' is not a financial year: give {} (the pipeline's years start in {})",
                if self.start == 1 {
                    "YYYY, e.g. 2024"
                } else {
                    "YYYY/YY, e.g. 2023/24"
                },
                MONTH_NAMES[(self.start - 1) as usize]
            )
        })
    }

    /// The first month of financial year `fy`.
    pub fn first_month(self, fy: i32) -> (i32, i8) {
        (fy, self.start)
    }

    /// The last month of financial year `fy`.
    pub fn last_month(self, fy: i32) -> (i32, i8) {
        *self.months(fy).last().unwrap_or(&(fy, self.start))
    }

    /// The twelve months of financial year `fy`, in order.
    pub fn months(self, fy: i32) -> Vec<(i32, i8)> {
        self.first_months(fy, 12)
    }

    /// The first `count` months of financial year `fy`.
    fn first_months(self, fy: i32, count: usize) -> Vec<(i32, i8)> {
        (0..count as i32)
            .map(|i| {
                let m = self.start as i32 + i;
                if m > 12 {
                    (fy + 1, (m - 12) as i8)
                } else {
                    (fy, m as i8)
                }
            })
            .collect()
    }

    /// How many months of its financial year have passed by the end of `month` (1-12).
    fn months_to(self, month: i8) -> usize {
        ((month as i32 - self.start as i32).rem_euclid(12) + 1) as usize
    }

    /// The financial-year label of each row from its `year` and `month` columns, worked out when
    /// figures are computed (never stored), so that a pipeline's calendar applies to every row
    /// the lake holds. Labels are looked up for 1900-2199 (dates outside are rejected at ingest).
    pub fn label_expr(self, year: Expr, month: Expr) -> Expr {
        let fy = when(month.cast(DataType::Int8).lt(lit(self.start)))
            .then(year.clone().cast(DataType::Int32) - lit(1i32))
            .otherwise(year.cast(DataType::Int32));
        let starts: Vec<i32> = (1900..2200).collect();
        let labels: Vec<String> = starts.iter().map(|y| self.label(*y)).collect();
        fy.replace_strict(
            lit(Series::new("start".into(), starts)),
            lit(Series::new("label".into(), labels)),
            Some(lit(NULL).cast(DataType::String)),
            Some(DataType::String),
        )
    }
}

/// Parses `2023/24` (or `2023-24`, `2023/2024`) into the year the financial year starts in.
pub fn parse_financial_year(label: &str) -> Option<i32> {
    let label = label.trim();
    let (start, end) = label.split_once(['/', '-'])?;
    let start: i32 = start.trim().parse().ok()?;
    let end: i32 = end.trim().parse().ok()?;
    let expected_end = (start + 1).rem_euclid(100);
    (end == expected_end || end == start + 1).then_some(start)
}

/// What a command asks to report on, before the pipeline's [`Calendar`] says which months that
/// is: a whole financial year (by the calendar year it starts in), or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A whole financial year, by the calendar year it starts in (2023 = 2023/24).
    FinancialYear(i32),
    /// One calendar month; year-to-date figures run from the year's first month up to it.
    Month { year: i32, month: i8 },
}

impl Span {
    /// A month as `--period` takes it (`2024-03`), or a message saying what is expected.
    pub fn parse_month(text: &str) -> Result<Span, String> {
        let bad = || format!("'{text}' is not a month: give YYYY-MM, e.g. 2024-03");
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        let (year, month): (i32, i8) =
            (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if y.len() != 4 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Span::Month { year, month })
    }
}

/// The period a run reports on: a [`Span`] in the pipeline's [`Calendar`]. Turns it into month
/// lists, names and folder names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    span: Span,
    calendar: Calendar,
}

impl Period {
    pub fn new(span: Span, calendar: Calendar) -> Period {
        Period { span, calendar }
    }

    /// Financial year `fy` (the calendar year it starts in) of `calendar`.
    pub fn year(fy: i32, calendar: Calendar) -> Period {
        Period::new(Span::FinancialYear(fy), calendar)
    }

    /// A calendar month and its financial year to date in `calendar`.
    pub fn month(year: i32, month: i8, calendar: Calendar) -> Period {
        Period::new(Span::Month { year, month }, calendar)
    }

    /// A month (`2024-03`) or a financial year (`2023/24`, or `2024` for a January start).
    pub fn parse(text: &str, calendar: Calendar) -> Result<Period, String> {
        if text.contains('/') || !text.contains('-') || text.len() > 7 {
            return calendar.parse(text).map(|fy| Period::year(fy, calendar));
        }
        Span::parse_month(text).map(|span| Period::new(span, calendar))
    }

    /// What was asked for.
    pub fn span(self) -> Span {
        self.span
    }

    /// The calendar it is in.
    pub fn calendar(self) -> Calendar {
        self.calendar
    }

    /// True for a whole financial year.
    pub fn is_year(self) -> bool {
        matches!(self.span, Span::FinancialYear(_))
    }

    /// The publication folder's name: `2024-03`, or `fy2023-24` (`fy2024`) for a whole year.
    pub fn folder(self) -> String {
        match self.span {
            Span::FinancialYear(_) => format!("fy{}", self.label().replace('/', "-")),
            Span::Month { .. } => self.label(),
        }
    }

    /// The financial year the period falls in (its starting year).
    pub fn financial_year(self) -> i32 {
        match self.span {
            Span::FinancialYear(fy) => fy,
            Span::Month { year, month } => self.calendar.fy_of(year, month),
        }
    }

    /// `2023/24`, or `2024-03`.
    pub fn label(self) -> String {
        match self.span {
            Span::FinancialYear(fy) => self.calendar.label(fy),
            Span::Month { year, month } => format!("{year:04}-{month:02}"),
        }
    }

    /// Words for tables: "2023/24" or "2023/24 to date (April 2023 to March 2024)".
    pub fn describe(self) -> String {
        match self.span {
            Span::FinancialYear(fy) => self.calendar.label(fy),
            Span::Month { .. } => {
                let months = self.months_in(self.financial_year());
                let first = months.first().copied().unwrap_or((0, 4));
                let last = months.last().copied().unwrap_or((0, 4));
                format!(
                    "{} to date ({} to {})",
                    self.calendar.label(self.financial_year()),
                    month_name(first.0, first.1),
                    month_name(last.0, last.1)
                )
            }
        }
    }

    /// The last month of the period.
    pub fn last_month(self) -> (i32, i8) {
        match self.span {
            Span::FinancialYear(fy) => self.calendar.last_month(fy),
            Span::Month { year, month } => (year, month),
        }
    }

    /// The months of the period itself: a year's twelve, or the one month.
    pub fn months(self) -> Vec<(i32, i8)> {
        match self.span {
            Span::FinancialYear(fy) => self.calendar.months(fy),
            Span::Month { year, month } => vec![(year, month)],
        }
    }

    /// The months of financial year `fy` that correspond to this period: the whole year, or its
    /// first month up to the same month as the period's (year to date).
    pub fn months_in(self, fy: i32) -> Vec<(i32, i8)> {
        let count = match self.span {
            Span::FinancialYear(_) => 12,
            Span::Month { month, .. } => self.calendar.months_to(month),
        };
        self.calendar.first_months(fy, count)
    }
}

/// Today in an IANA time zone (UTC when the name does not parse: pipeline files are validated,
/// so that is never expected).
pub fn today_in_zone(timezone: &str) -> chrono::NaiveDate {
    let now = chrono::Utc::now();
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => now.with_timezone(&tz).date_naive(),
        Err(_) => now.date_naive(),
    }
}

/// `March 2024`.
pub fn month_name(year: i32, month: i8) -> String {
    let name = MONTH_NAMES
        .get((month - 1).max(0) as usize)
        .copied()
        .unwrap_or("?");
    format!("{name} {year}")
}

/// Every month from `first` to `last`, both included (empty when `first` is after `last`).
pub fn months_between(first: (i32, i8), last: (i32, i8)) -> Vec<(i32, i8)> {
    let index = |(y, m): (i32, i8)| y * 12 + m as i32 - 1;
    (index(first)..=index(last))
        .map(|i| (i.div_euclid(12), (i.rem_euclid(12) + 1) as i8))
        .collect()
}

/// True for rows whose (year, month) lies from `first` to `last`, both included.
pub fn in_range(first: (i32, i8), last: (i32, i8)) -> Expr {
    let index = |(y, m): (i32, i8)| y * 12 + m as i32;
    let row = col(c::YEAR).cast(DataType::Int32) * lit(12i32) + col(c::MONTH).cast(DataType::Int32);
    row.clone()
        .gt_eq(lit(index(first)))
        .and(row.lt_eq(lit(index(last))))
}

/// True for rows whose (year, month) is one of `months`.
pub fn in_months(months: &[(i32, i8)]) -> Expr {
    let keys: Vec<i32> = months.iter().map(|(y, m)| y * 100 + *m as i32).collect();
    (col(c::YEAR).cast(DataType::Int32) * lit(100i32) + col(c::MONTH).cast(DataType::Int32)).is_in(
        lit(Series::new("months".into(), keys)).implode(false),
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_labels_read_as_a_report_prints_them() {
        assert_eq!(month_label(2023, 4), "Apr 2023");
        assert_eq!(month_label(2024, 12), "Dec 2024");
    }

    #[test]
    fn periods_parse_and_cover_the_right_months() {
        let uk = Calendar::APRIL;
        assert_eq!(Period::parse("2023/24", uk), Ok(Period::year(2023, uk)));
        assert_eq!(Period::parse("2024-03", uk), Ok(Period::month(2024, 3, uk)));
        assert!(Period::parse("2024-13", uk).is_err());
        assert!(Span::parse_month("2023/24").is_err());
        assert!(
            Period::parse("2024", uk).is_err(),
            "an April year has two years in its name"
        );
        assert_eq!(Period::year(2023, uk).folder(), "fy2023-24");
        let march = Period::month(2024, 3, uk);
        assert_eq!(march.financial_year(), 2023);
        assert_eq!(march.months_in(2023).len(), 12);
        assert_eq!(march.months_in(2022).last(), Some(&(2023, 3)));
        let june = Period::month(2024, 6, uk);
        assert_eq!(june.months_in(2023), vec![(2023, 4), (2023, 5), (2023, 6)]);
        assert_eq!(june.describe(), "2024/25 to date (April 2024 to June 2024)");
        assert_eq!(Period::year(2023, uk).months_in(2023)[11], (2024, 3));
        let span = months_between((2022, 4), (2024, 3));
        assert_eq!(span.len(), 24);
        assert_eq!(span[8..10], [(2022, 12), (2023, 1)]);
        assert!(months_between((2024, 4), (2024, 3)).is_empty());
    }

    #[test]
    fn a_financial_year_can_start_in_any_month() -> PolarsResult<()> {
        let july =
            Calendar::starting_in("July").ok_or_else(|| polars_err!(ComputeError: "July"))?;
        assert_eq!(Calendar::starting_in("jul"), Some(july));
        assert_eq!(Calendar::starting_in("Juno"), None);
        assert_eq!(july.fy_of(2024, 6), 2023);
        assert_eq!(july.fy_of(2024, 7), 2024);
        assert_eq!(july.label(2023), "2023/24");
        assert_eq!(july.last_month(2023), (2024, 6));
        let march = Period::month(2024, 3, july);
        assert_eq!(march.months_in(2023).first(), Some(&(2023, 7)));
        assert_eq!(march.months_in(2023).len(), 9);
        assert_eq!(
            march.describe(),
            "2023/24 to date (July 2023 to March 2024)"
        );
        // The same month a year earlier, for a KPI's baseline.
        assert_eq!(march.months_in(2022).last(), Some(&(2023, 3)));

        let january = Calendar::starting(1).ok_or_else(|| polars_err!(ComputeError: "Jan"))?;
        let year = Period::parse("2024", january).map_err(|e| polars_err!(ComputeError: "{e}"))?;
        assert_eq!(year.months().first(), Some(&(2024, 1)));
        assert_eq!(year.last_month(), (2024, 12));
        assert_eq!(
            (year.label(), year.folder()),
            ("2024".into(), "fy2024".into())
        );
        let refused = Period::parse("2023/24", january).err().unwrap_or_default();
        assert!(refused.contains("give YYYY, e.g. 2024"), "{refused}");
        assert_eq!(Calendar::starting(13), None);

        // Worked out per row when figures are computed.
        let df = df!("year" => [2024i32, 2024, 2024], "month" => [6i8, 7, 1])?;
        let labels = df
            .lazy()
            .select([july.label_expr(col("year"), col("month")).alias("fy")])
            .collect()?;
        let got: Vec<Option<&str>> = labels.column("fy")?.str()?.iter().collect();
        assert_eq!(got, [Some("2023/24"), Some("2024/25"), Some("2023/24")]);
        Ok(())
    }
}
