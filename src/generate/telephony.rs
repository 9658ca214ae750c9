//! Telephony per-call export: `telephony/calls_YYYY-MM.csv`, UTF-8 with BOM, CRLF, one file a month.
//! Each month's file also carries the next month's first day, as the vendor's export window overlaps.

use std::path::Path;

use anyhow::Result;

use crate::generate::calendar::{push_hms, push_int, push_iso_date, push_offset, push_uint};
use crate::generate::customers::{self, call_returning, CALL_WEEKS_BACK};
use crate::generate::defects::{Action, Counted, Patch, Reject, Tally};
use crate::generate::out::{field, CsvOut};
use crate::generate::rng::{label, Rng};
use crate::generate::vocab::{ByService, QUEUES, UNKNOWN_OUTCOMES, UNMAPPED_QUEUES};
use crate::generate::volume::Source;
use crate::generate::{Job, World};

const HEADER: &[u8] =
    b"\xEF\xBB\xBFContact ID,Queue,Initiation Timestamp,Disposition,Queue Wait (s),\
Talk Time (s),After Call Work (s),Resolved First Contact,Site,CLI,Wrap Code\r\n";

/// Reasons a telephony row can be rejected for.
pub(crate) const REJECTS: [Reject; 6] = [
    Reject::BadDate,
    Reject::MissingValue,
    Reject::NegativeDuration,
    Reject::BadNumber,
    Reject::UnmappedService,
    Reject::UnknownOutcome,
];

/// Column positions, for defect patches.
const COL_ID: usize = 0;
const COL_QUEUE: usize = 1;
const COL_TIMESTAMP: usize = 2;
const COL_DISPOSITION: usize = 3;
const COL_WAIT: usize = 4;
const COL_TALK: usize = 5;
/// The caller's number, appended after the columns the export always had.
const COL_CLI: usize = 9;
/// The adviser's wrap-up code of an answered call, after the caller's number.
const COL_WRAP: usize = 10;

/// Wrap-up codes an adviser picks when an answered call ends: new request, payment,
/// information given (needed contacts), then progress chase, clarification, transferred and
/// "could have used the web" (avoidable ones, as the sample pipeline maps them).
const WRAP_CODES: [&str; 7] = [
    "NEWREQ", "PAY", "INFO", "CHASE", "CLARIFY", "XFER", "WEBABLE",
];
/// How often each code ends a call from a customer new to the service...
const WRAP_NEW: [f64; 7] = [0.44, 0.20, 0.14, 0.04, 0.08, 0.05, 0.05];
/// ... and from a returning customer, who is more often chasing or asking again.
const WRAP_RETURNING: [f64; 7] = [0.22, 0.10, 0.08, 0.34, 0.16, 0.04, 0.06];
/// Answered calls the adviser left without a code.
const WRAP_BLANK: f64 = 0.03;

/// Calls arrive in half-hour slots from 08:30 to 17:00: a morning peak, a lunchtime lull.
const SLOT_WEIGHTS: [f64; 17] = [
    1.30, 1.50, 1.45, 1.40, 1.30, 1.20, 1.10, 0.95, 0.90, 0.95, 1.05, 1.10, 1.00, 0.90, 0.80, 0.70,
    0.55,
];
const OPENING_SECS: u32 = 8 * 3600 + 30 * 60;

/// Handling time relative to the average call, by service (waste calls are quick, housing slow).
const TALK_FACTOR: [f64; 8] = [1.25, 1.20, 1.00, 0.65, 1.10, 0.80, 0.90, 1.00];

/// Abandonment by month (index 0 = January): busiest when council tax bills land.
const ABANDON_BY_MONTH: [f64; 12] = [
    0.11, 0.11, 0.15, 0.16, 0.12, 0.11, 0.11, 0.11, 0.11, 0.11, 0.11, 0.10,
];
const CALLBACK: f64 = 0.03;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposition {
    Answered,
    Abandoned,
    Callback,
}

impl Disposition {
    fn text(self) -> &'static [u8] {
        match self {
            Disposition::Answered => b"Answered",
            Disposition::Abandoned => b"Abandoned",
            Disposition::Callback => b"Callback",
        }
    }
}

struct Call {
    queue: &'static str,
    disposition: Disposition,
    wait: u64,
    talk: u64,
    acw: u64,
    resolved: bool,
    homeworker: bool,
}

fn draw_call(rng: &mut Rng, service: usize, queues: &ByService, abandon: f64) -> Call {
    let queue = QUEUES[queues.draw(rng, service)].name;
    let u = rng.unit();
    let disposition = if u < abandon {
        Disposition::Abandoned
    } else if u < abandon + CALLBACK {
        Disposition::Callback
    } else {
        Disposition::Answered
    };
    // Busier months mean longer queues as well as more abandoned calls.
    let busy = abandon / 0.12;
    let wait = match disposition {
        Disposition::Answered => rng.lognormal(60.0 * busy, 1.1),
        // Some callers hang up at once (short abandons, under 5 s).
        Disposition::Abandoned if rng.chance(0.08) => rng.below(5) as f64,
        Disposition::Abandoned => rng.lognormal(95.0, 0.9),
        Disposition::Callback => rng.lognormal(240.0, 0.5),
    };
    let talk = rng.lognormal(270.0 * TALK_FACTOR[service], 0.55).max(20.0);
    let acw = rng.lognormal(35.0, 0.6);
    let resolved = rng.chance(0.96);
    let homeworker = rng.chance(0.55);
    Call {
        queue,
        disposition,
        wait: wait.round().min(3600.0) as u64,
        talk: talk.round() as u64,
        acw: acw.round() as u64,
        resolved,
        homeworker,
    }
}

fn patch_for(reject: Reject, call: &Call, rng: &mut Rng, id_blanked: &mut bool) -> Result<Patch> {
    let text = |s: &str| s.as_bytes().to_vec();
    Ok(match reject {
        Reject::BadDate => Patch {
            col: COL_TIMESTAMP,
            text: text(rng.pick(&[
                "2023-13-40T10:00:00+00:00",
                "2024-02-30T11:20:00+00:00",
                "not recorded",
            ])),
        },
        // One blank ID per file at most: several blank IDs could look like duplicates of each other.
        Reject::MissingValue if !*id_blanked && rng.chance(0.3) => {
            *id_blanked = true;
            Patch {
                col: COL_ID,
                text: Vec::new(),
            }
        }
        Reject::MissingValue => Patch {
            col: COL_TIMESTAMP,
            text: Vec::new(),
        },
        Reject::NegativeDuration if call.disposition == Disposition::Answered => Patch {
            col: COL_TALK,
            text: format!("-{}", rng.between(20, 400)).into_bytes(),
        },
        Reject::NegativeDuration => Patch {
            col: COL_WAIT,
            text: format!("-{}", rng.between(1, 120)).into_bytes(),
        },
        Reject::BadNumber => Patch {
            col: COL_WAIT,
            text: text(rng.pick(&["12s", "n/a", "1m30s"])),
        },
        Reject::UnmappedService => Patch {
            col: COL_QUEUE,
            text: text(rng.pick(&UNMAPPED_QUEUES)),
        },
        Reject::UnknownOutcome => Patch {
            col: COL_DISPOSITION,
            text: text(rng.pick(&UNKNOWN_OUTCOMES)),
        },
        Reject::RatingNotInScale | Reject::UnknownChannel => {
            return Err(reject.not_for("telephony"))
        }
    })
}

pub(crate) fn write(world: &World, job: &Job, path: &Path) -> Result<(Tally, u64)> {
    let mut plan = world.plan(job, &REJECTS);
    let mut defect_rng = world.defect_rng(job);
    let queues = ByService::new(&QUEUES);
    let mut out = CsvOut::create(path)?;
    out.raw(HEADER)?;
    let mut times: Vec<u32> = Vec::new();
    let mut services: Vec<u8> = Vec::new();
    let mut pos = 0u64;
    let mut id_blanked = false;
    for d in job.days.clone() {
        let day = &world.cal.days[d];
        let n = world.vol.count(Source::Telephony, d);
        let first_id = world.vol.before(Source::Telephony, d);
        let mut rng = Rng::stream(world.seed, &[Source::Telephony.label(), d as u64]);
        let mut who = customers::day_stream(world.seed, Source::Telephony, d);
        // Wrap codes have a stream of their own: adding them changed no other value.
        let mut wraps = Rng::stream(
            world.seed,
            &[label::REASONS, Source::Telephony.label(), d as u64],
        );
        times.clear();
        for _ in 0..n {
            let slot = rng.weighted(&SLOT_WEIGHTS) as u32;
            times.push(OPENING_SECS + slot * 1800 + rng.below(1800) as u32);
        }
        times.sort_unstable();
        world
            .vol
            .services(Source::Telephony, d, &mut rng, &mut services);
        let monday = if day.weekday == 0 { 0.02 } else { 0.0 };
        let abandon = ABANDON_BY_MONTH[day.month as usize - 1] + monday;
        for (i, &secs) in times.iter().enumerate() {
            let service = usize::from(services[i]);
            let call = draw_call(&mut rng, service, &queues, abandon);
            let (caller, returning) = world.pools.customer(
                &mut who,
                service,
                d,
                call_returning(service),
                &CALL_WEEKS_BACK,
            );
            let action = plan.take(pos);
            let patch = match action {
                Some(Action::Reject(r)) => {
                    Some(patch_for(r, &call, &mut defect_rng, &mut id_blanked)?)
                }
                _ => None,
            };
            let p = patch.as_ref();
            let line = &mut out.line;
            field(line, COL_ID, p, |b| {
                b.push(b'C');
                push_uint(b, 100_000_001 + first_id + i as u64, 9);
            });
            field(line, COL_QUEUE, p, |b| {
                b.extend_from_slice(call.queue.as_bytes())
            });
            field(line, COL_TIMESTAMP, p, |b| {
                push_iso_date(b, day);
                b.push(b'T');
                push_hms(b, secs);
                push_offset(b, day.offset_secs);
            });
            field(line, COL_DISPOSITION, p, |b| {
                b.extend_from_slice(call.disposition.text())
            });
            field(line, COL_WAIT, p, |b| push_int(b, call.wait as i64));
            let answered = call.disposition == Disposition::Answered;
            field(line, COL_TALK, p, |b| {
                if answered {
                    push_int(b, call.talk as i64);
                }
            });
            field(line, 6, p, |b| {
                if answered {
                    push_int(b, call.acw as i64);
                }
            });
            field(line, 7, p, |b| {
                if answered {
                    b.push(if call.resolved { b'Y' } else { b'N' });
                }
            });
            field(line, 8, p, |b| {
                b.extend_from_slice(if call.homeworker {
                    b"Homeworker"
                } else {
                    b"Town Hall"
                })
            });
            field(line, COL_CLI, p, |b| {
                customers::push_cli(b, caller, &mut who)
            });
            let wrap = (answered && !wraps.chance(WRAP_BLANK)).then(|| {
                WRAP_CODES[wraps.weighted(if returning {
                    &WRAP_RETURNING
                } else {
                    &WRAP_NEW
                })]
            });
            field(line, COL_WRAP, p, |b| {
                if let Some(code) = wrap {
                    b.extend_from_slice(code.as_bytes());
                }
            });
            line.extend_from_slice(b"\r\n");
            let counted = match action {
                _ if pos < job.seen_before => Counted::SeenBefore,
                Some(Action::Reject(r)) => Counted::Rejected(r),
                _ => Counted::Clean,
            };
            out.emit(counted, action == Some(Action::Repeat))?;
            pos += 1;
        }
    }
    out.finish()
}
