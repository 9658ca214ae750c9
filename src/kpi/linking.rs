//! Which months of right first time are linked afresh and which are read from sums kept in the
//! lake (`lake::derived`). A month's linked sums ([`repeats::summed`]) depend only on the
//! contacts from the longest window before it to the longest window after it, the settings that
//! shape them, and how far the lake covers the windows. Once the lake covers every window of
//! the month (the month is *settled*), its sums cannot change until one of those contacts'
//! files does; they are kept under a key naming all of it, and later runs read them instead of
//! linking those months again. The monthly run then links only its last months, whatever the
//! lake's history, and the sums are the same as if every month were linked afresh (a test
//! compares the two).
//!
//! Settled: the month's last day plus the longest window falls before the period's last month.
//! Every source still sending contacts has contacts in that month, so the lake covers the
//! window (see `repeats::linked`'s `LAST_OBSERVED`). When no keyed contact falls in the
//! period's last month that reasoning does not hold, and nothing is read from or kept in the
//! lake.

use polars::prelude::*;

use super::repeats::{self, KEYED};
use super::{collect, FigureError};
use crate::config::Pipeline;
use crate::lake::{derived, Lake};
use crate::model::{col as c, Table as LakeTable};
use crate::period;

/// The kind of kept sums, and the version of what [`repeats::linked`] and
/// [`repeats::summed`] produce: change it whenever they would produce other sums from the same
/// contacts, so that no run reads sums an earlier build kept.
const KIND: &str = "right_first_time";
const FORMAT: &str = "linked sums 1";

/// The months right first time reads, and how.
pub(super) struct Months<'a> {
    pub pipeline: &'a Pipeline,
    pub lake: &'a Lake,
    /// Every contact counted, dated by day or month (any months).
    pub contacts: LazyFrame,
    /// What makes rows as `contacts` has them of a scan of some of the lake's contacts files.
    pub prepare: &'a dyn Fn(LazyFrame) -> LazyFrame,
    /// The first and last months whose sums are wanted.
    pub first: (i32, i8),
    pub last: (i32, i8),
    pub longest: u32,
    pub thresholds: &'a [u32],
}

/// The day number of a month's first day.
pub(super) fn day_of((y, m): (i32, i8)) -> Result<i32, FigureError> {
    chrono::NaiveDate::from_ymd_opt(y, m as u32, 1)
        .map(repeats::day_number)
        .ok_or_else(|| FigureError::Data(format!("no month {y}-{m}")))
}

/// The month a day number falls in.
pub(super) fn month_of(day: i32) -> (i32, i8) {
    use chrono::Datelike;
    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .unwrap_or_default()
        .checked_add_signed(chrono::Duration::days(i64::from(day)))
        .unwrap_or_default();
    (d.year(), d.month() as i8)
}

fn next((y, m): (i32, i8)) -> (i32, i8) {
    if m >= 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

/// Whether month `m` is settled for a period ending with month `last`: its last day plus the
/// longest window falls before `last` begins.
fn settled(m: (i32, i8), longest: u32, last: (i32, i8)) -> Result<bool, FigureError> {
    Ok(day_of(next(m))? - 1 + (longest as i32) < day_of(last)?)
}

impl Months<'_> {
    /// The linked contacts of the months `first` to `last`, summed ([`repeats::summed`]).
    pub fn summed(&self) -> Result<DataFrame, FigureError> {
        let months = period::months_between(self.first, self.last);
        let longest = self.longest as i32;
        let last_day = |m| day_of(next(m)).map(|d| d - 1);
        let settled = |m| settled(m, self.longest, self.last);
        let settings = self.settings()?;
        let key_of = |m: (i32, i8)| -> Result<String, FigureError> {
            let stamp = self.lake.months_stamp(
                LakeTable::Contacts,
                month_of(day_of(m)? - longest),
                month_of(last_day(m)? + longest),
            );
            let month = format!("{}-{:02}", m.0, m.1);
            Ok(derived::key(&[
                FORMAT,
                env!("CARGO_PKG_VERSION"),
                &settings,
                &month,
                &stamp,
            ]))
        };
        let root = self.lake.root();
        // The settled months from the first whose sums are kept, as far as they run unbroken.
        let mut kept = Vec::new();
        for &m in &months {
            if !settled(m)? {
                break;
            }
            match derived::read(root, KIND, &key_of(m)?) {
                Some(df) => kept.push(df),
                None => break,
            }
        }
        let fresh_from = months.get(kept.len()).copied().unwrap_or(self.last);
        let (mut fresh, active) = self.linked_from(fresh_from)?;
        let Some(schema) = fresh.first().map(|df| df.schema().clone()) else {
            return Err(FigureError::Data("no month to link".into()));
        };
        // Kept sums read back as written; cast to the fresh sums' types all the same, so that a
        // type polars reads back otherwise (a categorical, say) cannot break the stacking. A
        // kept file with other columns, or values that do not cast, is damaged.
        let as_fresh = |df: DataFrame| -> Result<DataFrame, FigureError> {
            crate::lake::derived::as_written(df, &schema).map_err(FigureError::Data)
        };
        let mut kept = match kept.into_iter().map(as_fresh).collect() {
            Ok(kept) if active => kept,
            Ok(kept) => {
                // Nothing kept can be trusted: everything linked afresh.
                if !Vec::<DataFrame>::is_empty(&kept) {
                    fresh = self.linked_from(self.first)?.0;
                }
                Vec::new()
            }
            Err(e) => {
                crate::log::warn(&format!(
                    "{}: kept sums of right first time damaged ({e}); every month linked again",
                    root.join(derived::FOLDER).join(KIND).display()
                ));
                fresh = self.linked_from(self.first)?.0;
                Vec::new()
            }
        };
        if active {
            for (&m, month) in months.iter().skip(kept.len()).zip(fresh.iter_mut()) {
                if !settled(m)? {
                    break;
                }
                if let Err(e) = derived::write(root, KIND, &key_of(m)?, month) {
                    crate::log::warn(&format!("right first time's sums not kept: {e}"));
                    break;
                }
            }
        }
        kept.append(&mut fresh);
        collect(
            concat(
                kept.into_iter().map(DataFrame::lazy).collect::<Vec<_>>(),
                UnionArgs::default(),
            )
            .map_err(|e| FigureError::Data(e.to_string()))?,
        )
    }

    /// Everything besides the contacts that shapes a month's sums: the columns the lake's
    /// contacts have (the sums have those of them they are told apart by), the columns summed
    /// by, and the settings.
    fn settings(&self) -> Result<String, FigureError> {
        let p = self.pipeline;
        let columns = self
            .contacts
            .clone()
            .collect_schema()
            .map_err(|e| FigureError::Data(e.to_string()))?;
        Ok(format!(
            "{:?}",
            (
                columns.iter().collect::<Vec<_>>(),
                repeats::SUMMED_BY,
                self.thresholds,
                &p.channels.digital,
                &p.channels.assisted,
                &p.kpi.takeup_telephone,
                p.calendar,
            )
        ))
    }

    /// `contacts` as read from the files of months `from` to `to` alone (not every file's
    /// rows filtered): the same columns, those the files lack null.
    fn months_contacts(&self, from: (i32, i8), to: (i32, i8)) -> Result<LazyFrame, FigureError> {
        let data = |e: &dyn std::fmt::Display| FigureError::Data(e.to_string());
        let files = self.lake.months_files(LakeTable::Contacts, from, to);
        let Some(some) = self
            .lake
            .scan_some(LakeTable::Contacts, &files)
            .map_err(|e| data(&e))?
        else {
            return Ok(self.contacts.clone());
        };
        let some = (self.prepare)(some);
        let want = self
            .contacts
            .clone()
            .collect_schema()
            .map_err(|e| data(&e))?;
        let have = some.clone().collect_schema().map_err(|e| data(&e))?;
        Ok(some.select(
            want.iter()
                .map(|(name, dtype)| {
                    if have.contains(name) {
                        col(name.clone()).cast(dtype.clone())
                    } else {
                        lit(NULL).cast(dtype.clone()).alias(name.clone())
                    }
                })
                .collect::<Vec<_>>(),
        ))
    }

    /// The contacts of `from` to `last` linked and summed, one frame per month in order, and
    /// whether a keyed contact falls in the last month (the lake's coverage is then that of the
    /// sources still sending).
    fn linked_from(&self, from: (i32, i8)) -> Result<(Vec<DataFrame>, bool), FigureError> {
        let longest = self.longest as i32;
        let start = day_of(from)? - longest;
        let end = day_of(next(self.last))? - 1 + longest;
        let day = col(c::DATE).cast(DataType::Int32);
        let scanned = self
            .months_contacts(month_of(start), month_of(end))?
            .filter(period::in_range(month_of(start), month_of(end)))
            .filter(day.clone().gt_eq(lit(start)).and(day.lt_eq(lit(end))));
        let active_from = day_of(self.last)?;
        let rows = repeats::linked(scanned, &self.pipeline.channels, active_from)?;
        let active = collect(
            rows.clone().lazy().select([col(KEYED)
                .and(col(repeats::DAY).gt_eq(lit(active_from)))
                .any(true)]),
        )?
        .column(KEYED)
        .ok()
        .and_then(|c| c.bool().ok().and_then(|b| b.get(0)))
        .unwrap_or(false);
        // Summed in one grouping (year and month are among its keys), then told apart by month:
        // one pass over the contacts, where a filter per few months read every contact each time.
        let months = period::months_between(from, self.last);
        let sums = collect(repeats::summed(
            rows.lazy().filter(period::in_range(from, self.last)),
            self.thresholds,
            self.pipeline.calendar,
        )?)?;
        let summed = months
            .iter()
            .map(|m| collect(sums.clone().lazy().filter(period::in_months(&[*m]))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((summed, active))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_settled_when_its_longest_window_ends_before_the_last_month() {
        let is = |m, longest, last| settled(m, longest, last).unwrap_or(true);
        // 31 January + 28 days = 28 February: before March.
        assert!(is((2025, 1), 28, (2025, 3)));
        // + 29 days = 1 March: in it.
        assert!(!is((2025, 1), 29, (2025, 3)));
        // February is settled for March only without a window; the last month never is.
        assert!(is((2025, 2), 0, (2025, 3)) && !is((2025, 2), 1, (2025, 3)));
        assert!(is((2025, 2), 0, (2025, 4)) && !is((2025, 3), 0, (2025, 3)));
        // Across a year's end, and a leap year (31 January + 29 days = 29 February 2024).
        assert!(is((2024, 12), 31, (2025, 2)));
        assert!(is((2024, 1), 29, (2024, 3)) && !is((2024, 1), 30, (2024, 3)));
        assert_eq!(next((2024, 12)), (2025, 1));
        assert_eq!(month_of(day_of((2024, 2)).unwrap_or(0) + 28), (2024, 2));
    }
}
