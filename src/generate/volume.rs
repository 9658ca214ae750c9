//! How many contacts of each source happen on each day, and the service mix of each day.
//! Encodes the story the sample must tell: service shares, channel shift, seasonality, closures.

use crate::generate::calendar::{Calendar, Day};
use crate::generate::rng::{label, pow_from_ln, Rng};
use crate::generate::vocab::{
    COUNCIL_TAX, ENVIRONMENTAL_HEALTH, HOUSING, PARKING, PLANNING, REVENUES_BENEFITS, WASTE,
};

/// The four sources, in the order their files sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    FaceToFace,
    Satisfaction,
    Telephony,
    Webforms,
}

impl Source {
    pub(crate) const ALL: [Source; 4] = [
        Source::FaceToFace,
        Source::Satisfaction,
        Source::Telephony,
        Source::Webforms,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::FaceToFace => "face_to_face",
            Source::Satisfaction => "satisfaction",
            Source::Telephony => "telephony",
            Source::Webforms => "webforms",
        }
    }

    pub(crate) fn label(self) -> u64 {
        match self {
            Source::FaceToFace => label::FACE_TO_FACE,
            Source::Satisfaction => label::SATISFACTION,
            Source::Telephony => label::TELEPHONY,
            Source::Webforms => label::WEBFORMS,
        }
    }

    /// Three-year total for a given number of calls, keeping the sample's proportions
    /// (per year: 6,000 calls, 900 visits, 4,000 forms, 2,500 survey responses).
    pub(crate) fn total_for_calls(self, calls: u64) -> u64 {
        let per_6000: u128 = match self {
            Source::Telephony => 6_000,
            Source::FaceToFace => 900,
            Source::Webforms => 4_000,
            Source::Satisfaction => 2_500,
        };
        ((u128::from(calls) * per_6000 + 3_000) / 6_000) as u64
    }

    /// Share of each service in 2022/23 before seasonality.
    fn base_shares(self) -> [f64; 8] {
        // Order: Housing, R&B, Council Tax, Waste, Planning, Parking, Licensing, Env Health.
        match self {
            Source::Telephony => [0.20, 0.22, 0.24, 0.14, 0.06, 0.07, 0.03, 0.04],
            Source::FaceToFace => [0.35, 0.25, 0.15, 0.04, 0.05, 0.08, 0.05, 0.03],
            Source::Webforms => [0.15, 0.10, 0.18, 0.28, 0.05, 0.12, 0.05, 0.07],
            Source::Satisfaction => [0.20, 0.20, 0.22, 0.16, 0.06, 0.08, 0.03, 0.05],
        }
    }
}

/// Channel shift: yearly growth of one service on one source, as a factor for the day.
fn trend(source: Source, service: usize, day: &Day) -> f64 {
    // ln(0.98) and ln(1.06): -2% and +6% a year, compounded smoothly.
    const LN_098: f64 = -0.020_202_707_317_519_466;
    const LN_106: f64 = 0.058_268_908_123_975_824;
    let t = day.t_years;
    match (source, service) {
        (Source::Telephony | Source::FaceToFace, HOUSING | REVENUES_BENEFITS) => {
            pow_from_ln(LN_098, t)
        }
        (Source::Webforms, HOUSING | REVENUES_BENEFITS) => pow_from_ln(LN_106, t),
        // New online waste forms in 2024/25 take calls away from the phone lines.
        (Source::Telephony, WASTE) if day.fy == 2 => 0.84,
        (Source::Webforms, WASTE) if day.fy == 2 => 1.18,
        _ => 1.0,
    }
}

/// Seasonal factor of a service in a calendar month.
fn season(service: usize, month: u32) -> f64 {
    const FLAT: [f64; 12] = [1.0; 12];
    // Index 0 = January.
    let by_month: [f64; 12] = match service {
        // Annual bills land in March; reminders and queries run into April and May.
        COUNCIL_TAX => [
            0.95, 0.85, 1.55, 1.75, 1.15, 0.85, 0.80, 0.80, 0.80, 0.85, 0.85, 0.80,
        ],
        // Garden waste renewals in spring; a summer tail.
        WASTE => [
            0.85, 0.90, 1.25, 1.45, 1.35, 1.10, 1.00, 0.95, 0.90, 0.90, 0.85, 0.80,
        ],
        // Benefit uprating in April.
        REVENUES_BENEFITS => [
            1.05, 1.00, 1.05, 1.15, 1.00, 0.95, 0.95, 0.95, 1.00, 1.00, 1.00, 0.90,
        ],
        // Damp, mould and heating repairs in winter.
        HOUSING => [
            1.10, 1.10, 1.00, 0.95, 0.95, 0.90, 0.90, 0.90, 0.95, 1.05, 1.10, 1.05,
        ],
        PLANNING => [
            0.85, 0.90, 1.00, 1.10, 1.15, 1.10, 1.05, 1.00, 1.00, 1.00, 0.95, 0.85,
        ],
        PARKING => [
            1.05, 1.00, 1.00, 1.00, 1.00, 0.95, 0.95, 1.00, 1.10, 1.00, 1.00, 0.95,
        ],
        // Noise complaints in summer.
        ENVIRONMENTAL_HEALTH => [
            0.80, 0.80, 0.90, 1.00, 1.10, 1.25, 1.30, 1.25, 1.00, 0.90, 0.85, 0.80,
        ],
        _ => FLAT,
    };
    by_month[(month as usize + 11) % 12]
}

/// Relative volume of a day for a source, before services: opening days, weekdays, Christmas.
/// For the offices this is the demand as if the day were open; `Volumes::new` moves a
/// bank holiday's demand to the next open day (people call after the holiday instead).
fn day_factor(source: Source, day: &Day) -> f64 {
    const MON_TO_SUN_OFFICE: [f64; 7] = [1.25, 1.05, 0.95, 0.92, 0.83, 0.0, 0.0];
    const MON_TO_SUN_WEB: [f64; 7] = [1.15, 1.10, 1.05, 1.00, 0.90, 0.60, 0.75];
    let weekday = day.weekday as usize;
    let base = match source {
        Source::Telephony | Source::FaceToFace => MON_TO_SUN_OFFICE[weekday],
        Source::Webforms if day.bank_holiday => 0.7,
        Source::Webforms => MON_TO_SUN_WEB[weekday],
        // Survey responses follow contacts: few at weekends, when only web is answered.
        Source::Satisfaction if !day.is_open() => 0.35,
        Source::Satisfaction => 1.0,
    };
    // The late-December dip: the offices work reduced hours and few people contact the council.
    let christmas = if day.month == 12 && day.day >= 22 {
        0.55
    } else {
        1.0
    };
    base * christmas
}

/// Unnormalised weight of each service on a day for a source.
fn service_weights(source: Source, day: &Day) -> [f64; 8] {
    let shares = source.base_shares();
    let mut w = [0.0; 8];
    for (s, out) in w.iter_mut().enumerate() {
        *out = shares[s] * trend(source, s, day) * season(s, day.month);
    }
    w
}

/// Rows per day and service for every source, summing exactly to each source's total.
#[derive(Debug)]
pub(crate) struct Volumes {
    counts: [Vec<[u64; 8]>; 4],
    /// Rows before each day (exclusive prefix sums), used to number records uniquely.
    before: [Vec<u64>; 4],
}

impl Volumes {
    pub(crate) fn new(cal: &Calendar, seed: u64, calls: u64) -> Volumes {
        let mut counts: [Vec<[u64; 8]>; 4] = Default::default();
        let mut before: [Vec<u64>; 4] = Default::default();
        for source in Source::ALL {
            let office = matches!(source, Source::Telephony | Source::FaceToFace);
            let mut noise = Rng::stream(seed, &[label::VOLUME, source.label()]);
            let mut carried = 0.0;
            let mut weights = Vec::with_capacity(cal.days.len() * 8);
            for d in &cal.days {
                let jitter = (1.0 + 0.07 * noise.normal()).max(0.5);
                let mut f = day_factor(source, d) * jitter;
                if office && !d.is_open() {
                    carried += f;
                    f = 0.0;
                } else if office {
                    f += carried;
                    carried = 0.0;
                }
                weights.extend(service_weights(source, d).iter().map(|w| w * f));
            }
            // Expected counts per (day, service) rounded as a running total: yearly and
            // monthly figures then follow the trends closely instead of drowning in sampling
            // noise at the sample's small size; the day jitter keeps days irregular.
            let cells = allocate(source.total_for_calls(calls), &weights);
            let c: Vec<[u64; 8]> = cells
                .chunks_exact(8)
                .map(|ch| {
                    let mut a = [0; 8];
                    a.copy_from_slice(ch);
                    a
                })
                .collect();
            let mut acc = 0;
            before[source as usize] = c
                .iter()
                .map(|n| {
                    let b = acc;
                    acc += n.iter().sum::<u64>();
                    b
                })
                .collect();
            counts[source as usize] = c;
        }
        Volumes { counts, before }
    }

    pub(crate) fn count(&self, source: Source, day: usize) -> u64 {
        self.counts[source as usize][day].iter().sum()
    }

    /// Rows of one service on a day.
    pub(crate) fn count_of(&self, source: Source, day: usize, service: usize) -> u64 {
        self.counts[source as usize][day][service]
    }

    /// The day's rows as a list of service indices in random order (a deterministic number
    /// of each service, shuffled with the day's stream).
    pub(crate) fn services(&self, source: Source, day: usize, rng: &mut Rng, out: &mut Vec<u8>) {
        out.clear();
        for (s, &n) in self.counts[source as usize][day].iter().enumerate() {
            out.extend(std::iter::repeat_n(s as u8, n as usize));
        }
        for i in (1..out.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            out.swap(i, j);
        }
    }

    /// Number of rows of this source on days before `day`.
    pub(crate) fn before(&self, source: Source, day: usize) -> u64 {
        self.before[source as usize][day]
    }

    pub(crate) fn sum(&self, source: Source, days: std::ops::Range<usize>) -> u64 {
        days.map(|d| self.count(source, d)).sum()
    }
}

/// Splits `total` over cells in proportion to `weights` by rounding the running total, so the
/// parts add up exactly and no cell is off by more than one.
fn allocate(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let mut out = Vec::with_capacity(weights.len());
    let mut cum = 0.0;
    let mut given = 0u64;
    for (i, w) in weights.iter().enumerate() {
        cum += w;
        let target = if i + 1 == weights.len() {
            total
        } else if sum > 0.0 {
            ((total as f64 * cum / sum).round() as u64).clamp(given, total)
        } else {
            0
        };
        out.push(target - given);
        given = target;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact() {
        let w = [0.0, 1.0, 2.5, 0.0, 3.3, 1.1];
        for total in [0, 1, 7, 1000, 123_456_789] {
            let parts = allocate(total, &w);
            assert_eq!(parts.iter().sum::<u64>(), total);
            assert_eq!(parts[0], 0);
            assert_eq!(parts[3], 0);
        }
    }

    #[test]
    fn totals_scale_with_calls() -> anyhow::Result<()> {
        let cal = Calendar::new()?;
        let v = Volumes::new(&cal, 42, 18_000);
        assert_eq!(v.sum(Source::Telephony, 0..cal.days.len()), 18_000);
        assert_eq!(v.sum(Source::FaceToFace, 0..cal.days.len()), 2_700);
        assert_eq!(v.sum(Source::Webforms, 0..cal.days.len()), 12_000);
        assert_eq!(v.sum(Source::Satisfaction, 0..cal.days.len()), 7_500);
        // Closed on weekends and bank holidays.
        for (i, d) in cal.days.iter().enumerate() {
            if !d.is_open() {
                assert_eq!(v.count(Source::Telephony, i), 0, "{d:?}");
                assert_eq!(v.count(Source::FaceToFace, i), 0, "{d:?}");
            }
        }
        let mut rng = Rng::stream(1, &[]);
        let mut list = Vec::new();
        v.services(Source::Webforms, 100, &mut rng, &mut list);
        assert_eq!(list.len() as u64, v.count(Source::Webforms, 100));
        Ok(())
    }
}
