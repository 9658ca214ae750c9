//! Which months of the period the lake's contacts cover. A table shows a month with no contacts
//! on a channel as 0, and a year's figures add up the months there are: an export never
//! ingested (a month of one source missing) or a lake that starts after the year began would
//! otherwise read as a month with no demand. This module names those months as warnings; it
//! changes no figure.
//!
//! Two kinds:
//! - months of the period (the financial year, or its months to date) in which no source has a
//!   contact dated by day or month ([`Warning::MonthsWithoutContacts`]);
//! - months of the period in which one source has none while another has, between the first
//!   and last months the source has anywhere in the lake ([`Warning::SourceMonthsMissing`]): a
//!   source that starts or stops sending (a new form platform, a retired queue system) is not
//!   named for the months before or after.
//!
//! Read from the monthly sums (`lake::monthly`): a few thousand rows, whatever the lake's size.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::FigureError;
use crate::granularity;
use crate::measures::{collect, figure_err};
use crate::model::col as c;
use crate::period::{self, Period};
use crate::warnings::Warning;

/// The warnings about months of `period` without contacts, from `months` (the lake's contacts
/// summed by month, as `contact_months` gives them). None when the period has no contact at
/// all: that is its own warning.
pub fn gaps(months: &LazyFrame, period: Period) -> Result<Vec<Warning>, FigureError> {
    let held = collect(
        months
            .clone()
            .filter(granularity::dated_by_month())
            .filter(col(c::CONTACTS).gt(lit(0)))
            .select([
                col(c::SOURCE).cast(DataType::String),
                col(c::YEAR).cast(DataType::Int32),
                col(c::MONTH).cast(DataType::Int32),
            ])
            .unique(None, UniqueKeepStrategy::Any),
    )?;
    let column = |name: &str| held.column(name).map_err(figure_err);
    let sources = column(c::SOURCE)?.str().map_err(figure_err)?.clone();
    let years = column(c::YEAR)?.i32().map_err(figure_err)?.clone();
    let month_numbers = column(c::MONTH)?.i32().map_err(figure_err)?.clone();
    // Each source's months with contacts.
    let mut by_source: BTreeMap<String, BTreeSet<(i32, i8)>> = BTreeMap::new();
    for ((s, y), m) in sources.iter().zip(years.iter()).zip(month_numbers.iter()) {
        if let (Some(s), Some(y), Some(m)) = (s, y, m) {
            by_source
                .entry(s.to_string())
                .or_default()
                .insert((y, m as i8));
        }
    }
    Ok(warnings(&by_source, period))
}

/// The warnings of [`gaps`] from each source's months with contacts.
fn warnings(by_source: &BTreeMap<String, BTreeSet<(i32, i8)>>, period: Period) -> Vec<Warning> {
    let wanted = period.months_in(period.financial_year());
    let any: BTreeSet<(i32, i8)> = by_source.values().flatten().copied().collect();
    let covered = wanted.iter().filter(|m| any.contains(m)).count();
    if covered == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let empty: Vec<(i32, i8)> = wanted
        .iter()
        .copied()
        .filter(|m| !any.contains(m))
        .collect();
    if !empty.is_empty() {
        out.push(Warning::MonthsWithoutContacts {
            period: period.describe(),
            months: runs(&empty),
            covered,
            of: wanted.len(),
        });
    }
    for (source, held) in by_source {
        let (Some(first), Some(last)) = (held.first(), held.last()) else {
            continue;
        };
        let missing: Vec<(i32, i8)> = wanted
            .iter()
            .copied()
            .filter(|m| m > first && m < last && any.contains(m) && !held.contains(m))
            .collect();
        if !missing.is_empty() {
            out.push(Warning::SourceMonthsMissing {
                source: source.clone(),
                months: runs(&missing),
                period: period.describe(),
            });
        }
    }
    out
}

/// Months in order as runs of consecutive months: `April 2024`, `June 2024 to August 2024`.
fn runs(months: &[(i32, i8)]) -> Vec<String> {
    let index = |(y, m): (i32, i8)| y * 12 + i32::from(m);
    let mut spans: Vec<((i32, i8), (i32, i8))> = Vec::new();
    for &m in months {
        match spans.last_mut() {
            Some((_, end)) if index(m) == index(*end) + 1 => *end = m,
            _ => spans.push((m, m)),
        }
    }
    spans
        .into_iter()
        .map(|(start, end)| {
            let name = |(y, m): (i32, i8)| period::month_name(y, m);
            if start == end {
                name(start)
            } else {
                format!("{} to {}", name(start), name(end))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Calendar;

    fn held(list: &[(&str, &[(i32, i8)])]) -> BTreeMap<String, BTreeSet<(i32, i8)>> {
        list.iter()
            .map(|(s, months)| (s.to_string(), months.iter().copied().collect()))
            .collect()
    }

    #[test]
    fn consecutive_months_are_one_run() {
        assert_eq!(
            runs(&[
                (2024, 4),
                (2024, 6),
                (2024, 7),
                (2024, 8),
                (2024, 12),
                (2025, 1)
            ]),
            vec![
                "April 2024",
                "June 2024 to August 2024",
                "December 2024 to January 2025"
            ]
        );
        assert!(runs(&[]).is_empty());
    }

    #[test]
    fn a_year_to_date_the_lake_covers_in_part_is_named() {
        // Stray November rows after a March export: April to October have nothing.
        let period = Period::month(2011, 11, Calendar::default());
        let w = warnings(&held(&[("requests", &[(2011, 3), (2011, 11)])]), period);
        assert_eq!(
            w,
            vec![Warning::MonthsWithoutContacts {
                period: period.describe(),
                months: vec!["April 2011 to October 2011".into()],
                covered: 1,
                of: 8,
            }]
        );
        let text = w[0].to_string();
        assert!(
            text.starts_with("2011/12 to date") && text.contains("contacts in 1 of its 8 months"),
            "{text}"
        );
    }

    #[test]
    fn a_month_one_source_lacks_between_its_others_is_named() {
        let period = Period::year(2024, Calendar::default());
        let all: Vec<(i32, i8)> = Calendar::default().months(2024);
        // Web forms lack June and July 2024; a new chat source starts in October (not named);
        // calls have every month.
        let forms: Vec<(i32, i8)> = all
            .iter()
            .copied()
            .filter(|m| *m != (2024, 6) && *m != (2024, 7))
            .collect();
        let chat: Vec<(i32, i8)> = all.iter().copied().filter(|m| *m >= (2024, 10)).collect();
        let w = warnings(
            &held(&[("calls", &all), ("forms", &forms), ("chat", &chat)]),
            period,
        );
        assert_eq!(
            w,
            vec![Warning::SourceMonthsMissing {
                source: "forms".into(),
                months: vec!["June 2024 to July 2024".into()],
                period: period.describe(),
            }]
        );
        // A period with no contact at all is not this module's warning.
        let later = Period::year(2030, Calendar::default());
        assert!(warnings(&held(&[("calls", &all)]), later).is_empty());
    }
}
