//! Face-to-face queue system export: `face_to_face/visits_YYYY-YY.xlsx`, sheet `Visits`, via rust_xlsxwriter.
//! One workbook per financial year (split into parts for very large runs); dates are real Excel dates.

use std::path::Path;

use anyhow::{Context, Result};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};

use crate::generate::defects::{Action, Counted, Reject, Tally};
use crate::generate::rng::Rng;
use crate::generate::vocab::{ByService, ENQUIRY_TYPES, UNKNOWN_OUTCOMES, UNMAPPED_ENQUIRY_TYPES};
use crate::generate::volume::Source;
use crate::generate::{Job, World};

const HEADER: [&str; 8] = [
    "Ticket",
    "Visit Date",
    "Arrival",
    "Enquiry Type",
    "Location",
    "Wait (mins)",
    "Served (mins)",
    "Outcome",
];
const COL_DATE: u16 = 1;
const COL_ENQUIRY: u16 = 3;
const COL_WAIT: u16 = 5;
const COL_OUTCOME: u16 = 7;

pub(crate) const REJECTS: [Reject; 6] = [
    Reject::MissingValue,
    Reject::NegativeDuration,
    Reject::BadNumber,
    Reject::UnmappedService,
    Reject::UnknownOutcome,
    Reject::BadDate,
];

const LOCATIONS: [&str; 3] = ["Town Hall", "Customer Service Centre", "Library Hub"];
const LOCATION_WEIGHTS: [f64; 3] = [0.55, 0.30, 0.15];

/// Arrivals in half-hour slots from 09:00 to 16:30: busiest first thing.
const SLOT_WEIGHTS: [f64; 15] = [
    1.40, 1.50, 1.40, 1.30, 1.20, 1.10, 1.00, 1.00, 1.00, 0.95, 0.90, 0.85, 0.80, 0.70, 0.50,
];
/// Time at the desk relative to the average, by service (homelessness cases take long).
const SERVED_FACTOR: [f64; 8] = [1.6, 1.3, 0.9, 0.6, 1.0, 0.7, 0.8, 0.8];

/// A fixed creation date, so a seed always gives the same bytes.
fn properties() -> Result<DocProperties> {
    let created = ExcelDateTime::from_ymd(2025, 4, 1)?.and_hms(9, 0, 0)?;
    Ok(DocProperties::new()
        .set_title("Visits export")
        .set_author("Example City Council")
        .set_creation_datetime(&created))
}

struct Visit {
    ticket: String,
    arrival: String,
    enquiry: &'static str,
    location: &'static str,
    wait: f64,
    served: Option<f64>,
    walked_out: bool,
}

/// A spoiled cell: a blank, a text or a number where something else belongs.
enum Bad {
    Blank(u16),
    Text(u16, String),
    Number(u16, f64),
}

fn bad_cell(reject: Reject, rng: &mut Rng) -> Result<Bad> {
    let text = |col, s: &str| Bad::Text(col, s.to_string());
    Ok(match reject {
        Reject::MissingValue => Bad::Blank(COL_DATE),
        Reject::BadDate => text(COL_DATE, rng.pick(&["31/02/2024", "00/00/0000"])),
        Reject::NegativeDuration => Bad::Number(COL_WAIT, -(rng.between(1, 15) as f64)),
        Reject::BadNumber => text(COL_WAIT, rng.pick(&["n/a", "12m"])),
        Reject::UnmappedService => text(COL_ENQUIRY, rng.pick(&UNMAPPED_ENQUIRY_TYPES)),
        Reject::UnknownOutcome => text(COL_OUTCOME, rng.pick(&UNKNOWN_OUTCOMES)),
        Reject::RatingNotInScale | Reject::UnknownChannel => {
            return Err(reject.not_for("face_to_face"))
        }
    })
}

impl Bad {
    fn col(&self) -> u16 {
        match self {
            Bad::Blank(c) | Bad::Text(c, _) | Bad::Number(c, _) => *c,
        }
    }
}

fn put_row(
    ws: &mut Worksheet,
    row: u32,
    serial: f64,
    v: &Visit,
    bad: Option<&Bad>,
    date_format: &Format,
) -> Result<()> {
    let spoiled = bad.map(Bad::col);
    let ok = |col: u16| spoiled != Some(col);
    ws.write_string(row, 0, v.ticket.as_str())?;
    if ok(COL_DATE) {
        ws.write_number_with_format(row, COL_DATE, serial, date_format)?;
    }
    ws.write_string(row, 2, v.arrival.as_str())?;
    if ok(COL_ENQUIRY) {
        ws.write_string(row, COL_ENQUIRY, v.enquiry)?;
    }
    ws.write_string(row, 4, v.location)?;
    if ok(COL_WAIT) {
        ws.write_number(row, COL_WAIT, v.wait)?;
    }
    if let Some(s) = v.served {
        ws.write_number(row, 6, s)?;
    }
    if ok(COL_OUTCOME) {
        let outcome = if v.walked_out {
            "Left before being seen"
        } else {
            "Served"
        };
        ws.write_string(row, COL_OUTCOME, outcome)?;
    }
    match bad {
        Some(Bad::Text(col, s)) => {
            ws.write_string(row, *col, s.as_str())?;
        }
        Some(Bad::Number(col, x)) => {
            ws.write_number(row, *col, *x)?;
        }
        // A blank cell is simply not written.
        Some(Bad::Blank(_)) | None => {}
    }
    Ok(())
}

pub(crate) fn write(world: &World, job: &Job, path: &Path) -> Result<(Tally, u64)> {
    let mut plan = world.plan(job, &REJECTS);
    let mut defect_rng = world.defect_rng(job);
    let enquiries = ByService::new(&ENQUIRY_TYPES);
    let mut workbook = Workbook::new();
    workbook.set_properties(&properties()?);
    // Level 3 instead of 6: a third less CPU for a tenth more bytes; the workbooks dominate
    // the time of large runs.
    workbook.set_zip_compression_level(3);
    let ws = workbook.add_worksheet();
    ws.set_name("Visits")?;
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let bold = Format::new().set_bold();
    for (col, title) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    for (col, width) in [12.0, 12.0, 8.0, 26.0, 24.0, 11.0, 13.0, 22.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(col as u16, width)?;
    }
    ws.set_freeze_panes(1, 0)?;

    let mut tally = Tally::default();
    let mut row: u32 = 1;
    let mut pos = 0u64;
    let mut minutes: Vec<u32> = Vec::new();
    let mut services: Vec<u8> = Vec::new();
    for d in job.days.clone() {
        let day = &world.cal.days[d];
        let n = world.vol.count(Source::FaceToFace, d);
        let first = world.vol.before(Source::FaceToFace, d);
        let mut rng = Rng::stream(world.seed, &[Source::FaceToFace.label(), d as u64]);
        minutes.clear();
        for _ in 0..n {
            let slot = rng.weighted(&SLOT_WEIGHTS) as u32;
            minutes.push(9 * 60 + slot * 30 + rng.below(30) as u32);
        }
        minutes.sort_unstable();
        world
            .vol
            .services(Source::FaceToFace, d, &mut rng, &mut services);
        for (i, &minute) in minutes.iter().enumerate() {
            let service = usize::from(services[i]);
            let enquiry = ENQUIRY_TYPES[enquiries.draw(&mut rng, service)].name;
            let location = LOCATIONS[rng.weighted(&LOCATION_WEIGHTS)];
            let wait = rng.lognormal(11.0, 0.75).round().min(180.0);
            // Long waits make people give up.
            let walked_out = rng.chance((0.04 * wait / 11.0).min(0.4));
            let served = rng
                .lognormal(9.0 * SERVED_FACTOR[service], 0.5)
                .round()
                .max(1.0);
            let visit = Visit {
                ticket: format!("V{:08}", first + i as u64 + 1),
                arrival: format!("{:02}:{:02}", minute / 60, minute % 60),
                enquiry,
                location,
                wait,
                served: (!walked_out).then_some(served),
                walked_out,
            };
            let action = plan.take(pos);
            let bad = match action {
                Some(Action::Reject(r)) => Some(bad_cell(r, &mut defect_rng)?),
                _ => None,
            };
            put_row(
                ws,
                row,
                day.excel_serial,
                &visit,
                bad.as_ref(),
                &date_format,
            )?;
            row += 1;
            tally.count(match action {
                Some(Action::Reject(r)) => Counted::Rejected(r),
                _ => Counted::Clean,
            });
            if action == Some(Action::Repeat) {
                put_row(ws, row, day.excel_serial, &visit, None, &date_format)?;
                row += 1;
                tally.count(Counted::SeenBefore);
            }
            pos += 1;
        }
    }
    workbook
        .save(path)
        .with_context(|| format!("cannot save {}", path.display()))?;
    let bytes = std::fs::metadata(path)
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len();
    Ok((tally, bytes))
}
