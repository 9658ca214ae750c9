//! Web forms CMS export: `webforms/forms_YYYY-YY.csv`, Windows-1252, LF, local `dd/mm/yyyy HH:MM:SS`.
//! Each year has its own quirk: blank lines (2022-23), trailing separators (2023-24), a new header (2024-25).

use std::path::Path;

use anyhow::Result;

use crate::generate::calendar::{
    push_2, push_4, push_hms, push_money, push_uint, push_uk_date, FIRST_YEAR,
};
use crate::generate::customers::{self, form_returning, FORM_WEEKS_BACK};
use crate::generate::defects::{Action, Counted, Patch, Reject, Tally};
use crate::generate::out::{cp1252, field, push_field, CsvOut};
use crate::generate::rng::Rng;
use crate::generate::vocab::{ByService, Category, Fee, FORMS, UNKNOWN_OUTCOMES, UNMAPPED_FORMS};
use crate::generate::volume::Source;
use crate::generate::{Job, World};

/// Headers in Windows-1252 (`\xA3` is `£`); the 2024/25 vendor upgrade changed case and spacing.
/// The customer's e-mail address and telephone number (both optional on the forms) come last.
const HEADER: &[u8] =
    b"Reference,Form Name,Submitted,Status,Device,Amount (\xA3),Email Address,Telephone\n";
const HEADER_2024: &[u8] =
    b" REFERENCE , form name ,SUBMITTED,status,Device ,Amount (\xA3), EMAIL ADDRESS ,telephone\n";

pub(crate) const REJECTS: [Reject; 4] = [
    Reject::BadDate,
    Reject::MissingValue,
    Reject::UnmappedService,
    Reject::UnknownOutcome,
];

const COL_REFERENCE: usize = 0;
const COL_FORM: usize = 1;
const COL_SUBMITTED: usize = 2;
const COL_STATUS: usize = 3;
const COL_EMAIL: usize = 6;
const COL_PHONE: usize = 7;

/// Submissions by hour of day: forms run all night, busiest in office hours and the evening.
const HOUR_WEIGHTS: [f64; 24] = [
    0.25, 0.15, 0.10, 0.08, 0.08, 0.15, 0.40, 0.80, 1.20, 1.50, 1.50, 1.45, 1.40, 1.40, 1.35, 1.30,
    1.25, 1.20, 1.20, 1.30, 1.30, 1.10, 0.80, 0.50,
];

/// Seconds since midnight with the forms' daily profile. On clock-change days 01:00-02:00 local
/// is skipped or repeated; a clean row never falls there (the March gap is kept for defects).
pub(crate) fn draw_time_of_day(rng: &mut Rng, clock_change: bool) -> u32 {
    let mut hour = rng.weighted(&HOUR_WEIGHTS) as u32;
    if clock_change && hour == 1 {
        hour = 2;
    }
    hour * 3600 + rng.below(3600) as u32
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Submitted,
    Abandoned,
    Draft,
}

fn bad_value(
    reject: Reject,
    rng: &mut Rng,
    fy: usize,
    gap_day: Option<(u32, u32, i32)>,
    reference_blanked: &mut bool,
) -> Result<Patch> {
    let year = FIRST_YEAR + fy as i32 + 1;
    Ok(match reject {
        Reject::BadDate => {
            let text = match (rng.below(3), gap_day) {
                // A local time that does not exist: the clocks jump from 01:00 to 02:00.
                (0, Some((d, m, y))) => {
                    let mut b = Vec::new();
                    push_2(&mut b, d);
                    b.push(b'/');
                    push_2(&mut b, m);
                    b.push(b'/');
                    push_4(&mut b, y as u32);
                    b.push(b' ');
                    push_hms(&mut b, 3600 + rng.below(3600) as u32);
                    b
                }
                (1, _) => b"not recorded".to_vec(),
                _ => format!("31/02/{year} 10:00:00").into_bytes(),
            };
            Patch {
                col: COL_SUBMITTED,
                text,
            }
        }
        // One blank reference per file at most (several could pass for duplicates of each other).
        Reject::MissingValue if !*reference_blanked && rng.chance(0.3) => {
            *reference_blanked = true;
            Patch {
                col: COL_REFERENCE,
                text: Vec::new(),
            }
        }
        Reject::MissingValue => Patch {
            col: COL_SUBMITTED,
            text: Vec::new(),
        },
        Reject::UnmappedService => {
            let mut text = Vec::new();
            push_field(&mut text, &cp1252(rng.pick(&UNMAPPED_FORMS))?);
            Patch {
                col: COL_FORM,
                text,
            }
        }
        Reject::UnknownOutcome => Patch {
            col: COL_STATUS,
            text: rng.pick(&UNKNOWN_OUTCOMES).as_bytes().to_vec(),
        },
        Reject::NegativeDuration
        | Reject::BadNumber
        | Reject::RatingNotInScale
        | Reject::UnknownChannel => return Err(reject.not_for("webforms")),
    })
}

fn amount(fee: Fee, fy: usize, rng: &mut Rng) -> Option<u64> {
    match fee {
        Fee::None => None,
        Fee::Fixed(by_year) => Some(by_year[fy.min(2)]),
        Fee::OneOf(prices) => Some(rng.pick(prices)),
        Fee::Range(lo, hi) => Some(rng.between(lo, hi)),
    }
}

pub(crate) fn write(world: &World, job: &Job, path: &Path) -> Result<(Tally, u64)> {
    let mut plan = world.plan(job, &REJECTS);
    let mut defect_rng = world.defect_rng(job);
    let cats: Vec<Category> = FORMS.iter().map(|f| f.cat).collect();
    let forms = ByService::new(&cats);
    // Encode and quote each form name once, not per row.
    let names: Vec<Vec<u8>> = FORMS
        .iter()
        .map(|f| {
            let mut b = Vec::new();
            push_field(&mut b, &cp1252(f.cat.name)?);
            Ok(b)
        })
        .collect::<Result<_>>()?;
    let fy = job.fy;
    let gap_day = job
        .days
        .clone()
        .map(|d| &world.cal.days[d])
        .find(|d| d.clock_change && d.month == 3)
        .map(|d| (d.day, d.month, d.year));
    let trailing_separator = fy == 1;
    let total = job.eligible.end;
    // Two blank lines part-way through 2022-23, as the CMS sometimes writes.
    let blank_before = if fy == 0 && total >= 3 {
        [total / 3, 2 * total / 3]
    } else {
        [u64::MAX; 2]
    };

    let mut out = CsvOut::create(path)?;
    out.raw(if fy == 2 { HEADER_2024 } else { HEADER })?;
    let mut times: Vec<u32> = Vec::new();
    let mut services: Vec<u8> = Vec::new();
    let mut pos = 0u64;
    let mut reference_blanked = false;
    for d in job.days.clone() {
        let day = &world.cal.days[d];
        let n = world.vol.count(Source::Webforms, d);
        let first = world.vol.before(Source::Webforms, d);
        let mut rng = Rng::stream(world.seed, &[Source::Webforms.label(), d as u64]);
        let mut who = customers::day_stream(world.seed, Source::Webforms, d);
        times.clear();
        for _ in 0..n {
            times.push(draw_time_of_day(&mut rng, day.clock_change));
        }
        times.sort_unstable();
        world
            .vol
            .services(Source::Webforms, d, &mut rng, &mut services);
        let mobile = 0.48 + 0.05 * day.t_years;
        for (i, &secs) in times.iter().enumerate() {
            let service = usize::from(services[i]);
            let form = forms.draw(&mut rng, service);
            let u = rng.unit();
            let status = if u < 0.88 {
                Status::Submitted
            } else if u < 0.97 {
                Status::Abandoned
            } else {
                Status::Draft
            };
            let device: &[u8] = match rng.weighted(&[1.0 - mobile - 0.08, mobile, 0.08]) {
                0 => b"Desktop",
                1 => b"Mobile",
                _ => b"Tablet",
            };
            let paid = amount(FORMS[form].fee, fy, &mut rng);
            let failed = status != Status::Submitted;
            let (customer, _) = world.pools.customer(
                &mut who,
                service,
                d,
                form_returning(form, failed),
                &FORM_WEEKS_BACK,
            );
            let typed = customers::form_contact(&mut who, failed);

            if blank_before.contains(&pos) {
                out.raw(b"\n")?;
            }
            let action = plan.take(pos);
            let patch = match action {
                Some(Action::Reject(r)) => Some(bad_value(
                    r,
                    &mut defect_rng,
                    fy,
                    gap_day,
                    &mut reference_blanked,
                )?),
                _ => None,
            };
            let p = patch.as_ref();
            let line = &mut out.line;
            field(line, COL_REFERENCE, p, |b| {
                b.extend_from_slice(b"WF-");
                push_uint(b, 10_000_001 + first + i as u64, 8);
            });
            field(line, COL_FORM, p, |b| b.extend_from_slice(&names[form]));
            field(line, COL_SUBMITTED, p, |b| {
                push_uk_date(b, day);
                b.push(b' ');
                push_hms(b, secs);
            });
            field(line, COL_STATUS, p, |b| {
                b.extend_from_slice(match status {
                    Status::Submitted => b"Submitted",
                    Status::Abandoned => b"Abandoned",
                    Status::Draft => b"Draft",
                })
            });
            field(line, 4, p, |b| b.extend_from_slice(device));
            field(line, 5, p, |b| {
                if let (Status::Submitted, Some(pence)) = (status, paid) {
                    push_money(b, pence);
                }
            });
            field(line, COL_EMAIL, p, |b| {
                if let Some(capitalised) = typed.email {
                    customer.push_email(b, capitalised);
                }
            });
            field(line, COL_PHONE, p, |b| {
                if let Some(style) = typed.phone {
                    customer.push_phone(b, style);
                }
            });
            if trailing_separator {
                line.push(b',');
            }
            line.push(b'\n');
            let counted = match action {
                Some(Action::Reject(r)) => Counted::Rejected(r),
                _ => Counted::Clean,
            };
            out.emit(counted, action == Some(Action::Repeat))?;
            pos += 1;
        }
    }
    out.finish()
}
