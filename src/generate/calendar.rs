//! The three financial years day by day: weekdays, bank holidays, Europe/London offsets and clock changes.
//! Also the hand-written date/number formatting every writer uses (chrono's formatter is too slow per row).

use anyhow::{anyhow, Context, Result};
use chrono::{Datelike, NaiveDate, Offset, TimeZone};
use chrono_tz::Europe::London;

/// First financial year generated (2022/23); three years in all.
pub(crate) const FIRST_YEAR: i32 = 2022;
pub(crate) const YEARS: usize = 3;

/// England and Wales bank holidays in range (the council is closed: no calls, no visits).
const BANK_HOLIDAYS: [(i32, u32, u32); 27] = [
    (2022, 4, 15),
    (2022, 4, 18),
    (2022, 5, 2),
    (2022, 6, 2),
    (2022, 6, 3),
    (2022, 8, 29),
    (2022, 9, 19),
    (2022, 12, 26),
    (2022, 12, 27),
    (2023, 1, 2),
    (2023, 4, 7),
    (2023, 4, 10),
    (2023, 5, 1),
    (2023, 5, 8),
    (2023, 5, 29),
    (2023, 8, 28),
    (2023, 12, 25),
    (2023, 12, 26),
    (2024, 1, 1),
    (2024, 3, 29),
    (2024, 4, 1),
    (2024, 5, 6),
    (2024, 5, 27),
    (2024, 8, 26),
    (2024, 12, 25),
    (2024, 12, 26),
    (2025, 1, 1),
];

/// One calendar day of the period.
#[derive(Debug, Clone)]
pub(crate) struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// 0 = Monday .. 6 = Sunday.
    pub weekday: u32,
    /// 0, 1, 2 for 2022/23, 2023/24, 2024/25.
    pub fy: usize,
    /// Years since 1 April 2022, for smooth trends.
    pub t_years: f64,
    pub bank_holiday: bool,
    /// UTC offset in seconds during the day (08:00 onwards; clocks change at 01:00 UTC).
    pub offset_secs: i32,
    /// Clocks change today: 01:00-02:00 local is skipped (March) or repeated (October).
    pub clock_change: bool,
    /// Excel serial date (days since 1899-12-30).
    pub excel_serial: f64,
}

impl Day {
    pub(crate) fn is_weekend(&self) -> bool {
        self.weekday >= 5
    }

    /// Open to callers and visitors: a weekday that is not a bank holiday.
    pub(crate) fn is_open(&self) -> bool {
        !self.is_weekend() && !self.bank_holiday
    }
}

/// A calendar month of the period as a range of day indices.
#[derive(Debug, Clone)]
pub(crate) struct Month {
    pub year: i32,
    pub month: u32,
    pub days: std::ops::Range<usize>,
}

#[derive(Debug)]
pub(crate) struct Calendar {
    pub days: Vec<Day>,
    pub months: Vec<Month>,
}

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow!("invalid date {y}-{m}-{d}"))
}

fn london_offset_at_noon(d: NaiveDate) -> Result<i32> {
    let noon = d
        .and_hms_opt(12, 0, 0)
        .ok_or_else(|| anyhow!("invalid time"))?;
    let local = London
        .from_local_datetime(&noon)
        .single()
        .with_context(|| format!("noon on {d} is not a single Europe/London time"))?;
    Ok(local.offset().fix().local_minus_utc())
}

impl Calendar {
    pub(crate) fn new() -> Result<Calendar> {
        let start = date(FIRST_YEAR, 4, 1)?;
        let end = date(FIRST_YEAR + YEARS as i32, 4, 1)?;
        let excel_epoch = date(1899, 12, 30)?;
        let mut days = Vec::new();
        let mut months: Vec<Month> = Vec::new();
        let mut prev_offset = london_offset_at_noon(start.pred_opt().unwrap_or(start))?;
        let mut d = start;
        while d < end {
            let idx = days.len();
            let offset = london_offset_at_noon(d)?;
            let fy = (d.year() - FIRST_YEAR - i32::from(d.month() < 4)) as usize;
            let ymd = (d.year(), d.month(), d.day());
            days.push(Day {
                year: d.year(),
                month: d.month(),
                day: d.day(),
                weekday: d.weekday().num_days_from_monday(),
                fy,
                t_years: (d - start).num_days() as f64 / 365.25,
                bank_holiday: BANK_HOLIDAYS.contains(&ymd),
                offset_secs: offset,
                clock_change: offset != prev_offset,
                excel_serial: (d - excel_epoch).num_days() as f64,
            });
            prev_offset = offset;
            match months.last_mut() {
                Some(m) if m.year == d.year() && m.month == d.month() => m.days.end = idx + 1,
                _ => months.push(Month {
                    year: d.year(),
                    month: d.month(),
                    days: idx..idx + 1,
                }),
            }
            d = d
                .succ_opt()
                .ok_or_else(|| anyhow!("date overflow after {d}"))?;
        }
        Ok(Calendar { days, months })
    }

    /// Day indices of a financial year (0-based).
    pub(crate) fn fy_days(&self, fy: usize) -> std::ops::Range<usize> {
        let first = self.days.iter().position(|d| d.fy == fy).unwrap_or(0);
        let end = self
            .days
            .iter()
            .rposition(|d| d.fy == fy)
            .map_or(first, |i| i + 1);
        first..end
    }
}

/// Financial year label as used in file names: `2022-23`.
pub(crate) fn fy_file_label(fy: usize) -> String {
    let start = FIRST_YEAR + fy as i32;
    format!("{}-{:02}", start, (start + 1) % 100)
}

// ---- hand formatting into a reusable buffer ----

pub(crate) fn push_2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

pub(crate) fn push_4(buf: &mut Vec<u8>, v: u32) {
    push_2(buf, v / 100);
    push_2(buf, v % 100);
}

/// Decimal digits of an unsigned number, zero-padded to at least `width`.
pub(crate) fn push_uint(buf: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in (tmp.len() - i)..width {
        buf.push(b'0');
    }
    buf.extend_from_slice(&tmp[i..]);
}

pub(crate) fn push_int(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_uint(buf, v.unsigned_abs(), 1);
}

/// `HH:MM:SS` from seconds since midnight.
pub(crate) fn push_hms(buf: &mut Vec<u8>, secs: u32) {
    push_2(buf, secs / 3600);
    buf.push(b':');
    push_2(buf, secs / 60 % 60);
    buf.push(b':');
    push_2(buf, secs % 60);
}

/// `YYYY-MM-DD`.
pub(crate) fn push_iso_date(buf: &mut Vec<u8>, d: &Day) {
    push_4(buf, d.year as u32);
    buf.push(b'-');
    push_2(buf, d.month);
    buf.push(b'-');
    push_2(buf, d.day);
}

/// `DD/MM/YYYY`.
pub(crate) fn push_uk_date(buf: &mut Vec<u8>, d: &Day) {
    push_2(buf, d.day);
    buf.push(b'/');
    push_2(buf, d.month);
    buf.push(b'/');
    push_4(buf, d.year as u32);
}

/// `+01:00` / `+00:00`.
pub(crate) fn push_offset(buf: &mut Vec<u8>, offset_secs: i32) {
    buf.push(if offset_secs < 0 { b'-' } else { b'+' });
    let m = offset_secs.unsigned_abs() / 60;
    push_2(buf, m / 60);
    buf.push(b':');
    push_2(buf, m % 60);
}

/// Money from pence: `45.00`.
pub(crate) fn push_money(buf: &mut Vec<u8>, pence: u64) {
    push_uint(buf, pence / 100, 1);
    buf.push(b'.');
    push_2(buf, (pence % 100) as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_covers_three_financial_years() -> Result<()> {
        let cal = Calendar::new()?;
        assert_eq!(cal.days.len(), 365 + 366 + 365);
        assert_eq!(cal.months.len(), 36);
        assert_eq!(cal.fy_days(1), 365..731);
        // Clocks change on the last Sundays of March and October.
        let changes: Vec<(i32, u32, u32)> = cal
            .days
            .iter()
            .filter(|d| d.clock_change)
            .map(|d| (d.year, d.month, d.day))
            .collect();
        assert_eq!(
            changes,
            [
                (2022, 10, 30),
                (2023, 3, 26),
                (2023, 10, 29),
                (2024, 3, 31),
                (2024, 10, 27),
                (2025, 3, 30)
            ]
        );
        let easter_monday = &cal.days[17];
        assert_eq!((easter_monday.month, easter_monday.day), (4, 18));
        assert!(easter_monday.bank_holiday && !easter_monday.is_open());
        assert_eq!(cal.days[0].excel_serial, 44652.0);
        Ok(())
    }

    #[test]
    fn numbers_are_formatted_by_hand() {
        let mut b = Vec::new();
        push_uint(&mut b, 42, 9);
        b.push(b' ');
        push_int(&mut b, -17);
        b.push(b' ');
        push_hms(&mut b, 9 * 3600 + 15 * 60 + 2);
        b.push(b' ');
        push_offset(&mut b, 3600);
        b.push(b' ');
        push_money(&mut b, 4505);
        assert_eq!(b, b"000000042 -17 09:15:02 +01:00 45.05");
    }
}
