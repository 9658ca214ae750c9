//! The reporting period a run covers: a whole financial year, or a month (and with it the
//! financial year to date). Turns periods into month lists, filters and folder names; shared by
//! the KPI and equality stages and the run; knows nothing of either.

use polars::prelude::*;

use crate::model::{col as c, financial_year_label};

/// What a KPI run reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A whole financial year, by the calendar year it starts in (2023 = 2023/24).
    FinancialYear(i32),
    /// One calendar month; year-to-date figures run from April up to and including it.
    Month { year: i32, month: i8 },
}

impl Period {
    /// Parses `2024-03` (a month) or `2023/24` (a financial year).
    pub fn parse(text: &str) -> Option<Period> {
        if let Some(fy) = crate::model::parse_financial_year(text) {
            if text.contains('/') {
                return Some(Period::FinancialYear(fy));
            }
        }
        let (y, m) = text.trim().split_once('-')?;
        let (year, month): (i32, i8) = (y.parse().ok()?, m.parse().ok()?);
        (1..=12)
            .contains(&month)
            .then_some(Period::Month { year, month })
    }

    /// A month as `--period` takes it (`2024-03`), or a message saying what is expected.
    pub fn parse_month(text: &str) -> Result<Period, String> {
        Period::parse(text)
            .filter(|p| matches!(p, Period::Month { .. }))
            .ok_or_else(|| format!("'{text}' is not a month: give YYYY-MM, e.g. 2024-03"))
    }

    /// A financial year as `--fy` takes it (`2023/24`), or a message saying what is expected.
    pub fn parse_financial_year(text: &str) -> Result<Period, String> {
        Period::parse(text)
            .filter(|p| matches!(p, Period::FinancialYear(_)))
            .ok_or_else(|| format!("'{text}' is not a financial year: give YYYY/YY, e.g. 2023/24"))
    }

    /// The publication folder's name: `2024-03`, or `fy2023-24` for a whole year.
    pub fn folder(self) -> String {
        match self {
            Period::FinancialYear(_) => format!("fy{}", self.label().replace('/', "-")),
            Period::Month { .. } => self.label(),
        }
    }

    /// The financial year the period falls in (its starting year).
    pub fn financial_year(self) -> i32 {
        match self {
            Period::FinancialYear(fy) => fy,
            Period::Month { year, month } => fy_of(year, month),
        }
    }

    /// `2023/24`, or `2024-03`.
    pub fn label(self) -> String {
        match self {
            Period::FinancialYear(fy) => financial_year_label(fy),
            Period::Month { year, month } => format!("{year:04}-{month:02}"),
        }
    }

    /// Words for tables: "2023/24" or "2023/24 to date (April 2023 to March 2024)".
    pub fn describe(self) -> String {
        match self {
            Period::FinancialYear(fy) => financial_year_label(fy),
            Period::Month { .. } => {
                let months = self.months_in(self.financial_year());
                let first = months.first().copied().unwrap_or((0, 4));
                let last = months.last().copied().unwrap_or((0, 4));
                format!(
                    "{} to date ({} to {})",
                    financial_year_label(self.financial_year()),
                    month_name(first.0, first.1),
                    month_name(last.0, last.1)
                )
            }
        }
    }

    /// The last month of the period.
    pub fn last_month(self) -> (i32, i8) {
        match self {
            Period::FinancialYear(fy) => (fy + 1, 3),
            Period::Month { year, month } => (year, month),
        }
    }

    /// The months of financial year `fy` that correspond to this period: the whole year, or April
    /// up to the same month as the period's (year to date).
    pub fn months_in(self, fy: i32) -> Vec<(i32, i8)> {
        let count = match self {
            Period::FinancialYear(_) => 12,
            Period::Month { month, .. } => months_since_april(month),
        };
        (0..count)
            .map(|i| {
                let m = 4 + i as i32;
                if m > 12 {
                    (fy + 1, (m - 12) as i8)
                } else {
                    (fy, m as i8)
                }
            })
            .collect()
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

/// The financial year (starting year) of a calendar month.
pub fn fy_of(year: i32, month: i8) -> i32 {
    if month < 4 {
        year - 1
    } else {
        year
    }
}

fn months_since_april(month: i8) -> usize {
    ((month as i32 - 4).rem_euclid(12) + 1) as usize
}

/// `March 2024`.
pub fn month_name(year: i32, month: i8) -> String {
    const NAMES: [&str; 12] = [
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
    let name = NAMES
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
    fn periods_parse_and_cover_the_right_months() {
        assert_eq!(Period::parse("2023/24"), Some(Period::FinancialYear(2023)));
        assert_eq!(
            Period::parse("2024-03"),
            Some(Period::Month {
                year: 2024,
                month: 3
            })
        );
        assert_eq!(Period::parse("2024-13"), None);
        assert!(Period::parse_month("2023/24").is_err());
        assert!(Period::parse_financial_year("2024-03").is_err());
        assert_eq!(Period::FinancialYear(2023).folder(), "fy2023-24");
        let march = Period::Month {
            year: 2024,
            month: 3,
        };
        assert_eq!(march.financial_year(), 2023);
        assert_eq!(march.months_in(2023).len(), 12);
        assert_eq!(march.months_in(2022).last(), Some(&(2023, 3)));
        let june = Period::Month {
            year: 2024,
            month: 6,
        };
        assert_eq!(june.months_in(2023), vec![(2023, 4), (2023, 5), (2023, 6)]);
        assert_eq!(june.describe(), "2024/25 to date (April 2024 to June 2024)");
        assert_eq!(Period::FinancialYear(2023).months_in(2023)[11], (2024, 3));
        let span = months_between((2022, 4), (2024, 3));
        assert_eq!(span.len(), 24);
        assert_eq!(span[8..10], [(2022, 12), (2023, 1)]);
        assert!(months_between((2024, 4), (2024, 3)).is_empty());
    }
}
