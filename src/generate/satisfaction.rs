//! GovMetric-style satisfaction survey: `satisfaction/responses_YYYY-YY.csv`, UTF-8 without BOM, LF.
//! Ratings per channel follow Oxford's published scores; comments carry fake personal data to scrub.

use std::path::Path;

use anyhow::Result;

use crate::generate::calendar::{push_hms, push_iso_date, push_uint, Day, FIRST_YEAR};
use crate::generate::defects::{Action, Counted, Patch, Reject, Tally};
use crate::generate::out::{field, push_field, CsvOut};
use crate::generate::rng::{label, Rng};
use crate::generate::vocab::SURVEY_SERVICES;
use crate::generate::volume::Source;
use crate::generate::webforms::draw_time_of_day;
use crate::generate::{Job, World};

const HEADER: &[u8] = b"Response ID,Response Date,Channel,Service,Rating,Comment,Age Band,Sex,\
Ethnic Group,Disability,Postcode\n";

pub(crate) const REJECTS: [Reject; 4] = [
    Reject::RatingNotInScale,
    Reject::UnknownChannel,
    Reject::BadDate,
    Reject::MissingValue,
];

const COL_DATE: usize = 1;
const COL_CHANNEL: usize = 2;
const COL_RATING: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Channel {
    Phone,
    FaceToFace,
    Web,
    Webchat,
}

impl Channel {
    fn text(self) -> &'static [u8] {
        match self {
            Channel::Phone => b"Phone",
            Channel::FaceToFace => b"Face to Face",
            Channel::Web => b"Web",
            Channel::Webchat => b"Webchat",
        }
    }

    /// Share of "Poor" by financial year. Score = (Good + Average - Poor) / N = 1 - 2 Poor / N,
    /// so Phone 82% -> 84%, Face to Face 97%, Webchat 99%, Web 42% -> 55% -> 60%.
    fn poor_share(self, fy: usize) -> f64 {
        let by_year = match self {
            Channel::Phone => [0.090, 0.085, 0.080],
            Channel::FaceToFace => [0.015; 3],
            Channel::Webchat => [0.005; 3],
            Channel::Web => [0.290, 0.225, 0.200],
        };
        by_year[fy.min(2)]
    }

    /// Age band mix of respondents: older people phone and visit, younger people use the web.
    fn age_weights(self) -> &'static [f64; 8] {
        match self {
            Channel::Phone => &[0.05, 0.10, 0.13, 0.16, 0.18, 0.18, 0.14, 0.06],
            Channel::FaceToFace => &[0.06, 0.10, 0.12, 0.14, 0.16, 0.18, 0.16, 0.08],
            Channel::Web => &[0.14, 0.24, 0.22, 0.18, 0.12, 0.07, 0.025, 0.005],
            Channel::Webchat => &[0.15, 0.25, 0.22, 0.18, 0.11, 0.06, 0.025, 0.005],
        }
    }
}

const AGE_BANDS: [&str; 8] = [
    "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+",
];
/// How much more often each age band rates "Poor" than average: middle ages least satisfied,
/// 25-34 and 75-84 most satisfied.
const POOR_BY_AGE: [f64; 8] = [1.0, 0.45, 1.35, 1.45, 1.25, 1.1, 0.55, 1.0];
/// Each demographic question goes unanswered this often, half blank, half "Prefer not to say".
const NON_RESPONSE: f64 = 0.20;

const SEXES: [&str; 3] = ["Female", "Male", "Another term"];
const SEX_WEIGHTS: [f64; 3] = [0.52, 0.46, 0.02];
const ETHNIC_GROUPS: [&str; 5] = [
    "White",
    "Asian or Asian British",
    "Black or Black British",
    "Mixed or multiple",
    "Other ethnic group",
];
const ETHNIC_WEIGHTS: [f64; 5] = [0.80, 0.09, 0.04, 0.04, 0.03];

const POSITIVE: [&str; 8] = [
    "Quick and helpful.",
    "Staff were friendly and sorted it first time.",
    "Very easy to use.",
    "Helpful, polite and quick.",
    "The advisor was patient and explained everything.",
    "Long wait, but the advisor was excellent.",
    "Sorted in one call.",
    "Good service overall.\nThe online form was easy too.",
];
const NEGATIVE: [&str; 8] = [
    "Waited too long on hold.",
    "Could not find the form I needed.",
    "The website kept timing out.",
    "Nobody called me back, as promised.",
    "I was told \"someone will call back\" and nobody did.",
    "Form crashed twice, lost everything.",
    "Third time I have reported this.\nStill not fixed.",
    "Too many options on the phone menu.",
];
const FIRST_NAMES: [&str; 6] = [
    "jane.doe",
    "j.smith",
    "amir.khan",
    "sam.taylor",
    "priya.patel",
    "tom.jones",
];
/// Letters used in the inward part of UK postcodes.
const POSTCODE_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rating {
    Good,
    Average,
    Poor,
}

impl Rating {
    fn text(self) -> &'static str {
        match self {
            Rating::Good => "Good",
            Rating::Average => "Average",
            Rating::Poor => "Poor",
        }
    }

    /// Spellings a few rows use instead; the pipeline must still map them.
    fn variants(self) -> &'static [&'static str] {
        match self {
            Rating::Good => &[" good", "GOOD", "good "],
            Rating::Average => &["average", " Average ", "AVERAGE"],
            Rating::Poor => &["POOR ", "poor", " Poor"],
        }
    }
}

/// A full postcode in the fictional EX1-EX9 area, e.g. `EX4 2AB`, appended to `out`.
fn postcode(rng: &mut Rng, out: &mut Vec<u8>) {
    out.extend_from_slice(b"EX");
    push_uint(out, rng.between(1, 9), 1);
    out.push(b' ');
    push_uint(out, rng.between(1, 9), 1);
    out.push(rng.pick(POSTCODE_LETTERS));
    out.push(rng.pick(POSTCODE_LETTERS));
}

/// A UK phone number from Ofcom's ranges reserved for drama, so never a real person's.
fn phone(rng: &mut Rng) -> String {
    let n = rng.below(1000);
    match rng.below(4) {
        0 => format!("07700 900{n:03}"),
        1 => format!("+44 7700 900{n:03}"),
        2 => format!("01632 960{n:03}"),
        _ => format!("020 7946 0{n:03}"),
    }
}

fn email(rng: &mut Rng) -> String {
    let domain = if rng.chance(0.5) {
        "example.com"
    } else {
        "example.org"
    };
    format!("{}@{domain}", rng.pick(&FIRST_NAMES))
}

/// Free text, sometimes with personal data the pipeline must scrub before publishing.
fn comment(rng: &mut Rng, rating: Rating) -> String {
    if rng.chance(0.15) {
        let mut bytes = Vec::new();
        postcode(rng, &mut bytes);
        let pc: String = bytes.into_iter().map(char::from).collect();
        return match rng.below(5) {
            0 => format!("Please call me back on {}, I am still waiting.", phone(rng)),
            1 => format!("My email is {} - nobody has replied.", email(rng)),
            2 => format!("I live at {pc} and my bin has been missed three times."),
            3 => format!("Contact me on {} or {}, thanks.", phone(rng), email(rng)),
            _ => format!(
                "Still waiting for a reply.\nYou can reach me at {} ({pc}).",
                email(rng)
            ),
        };
    }
    let positive = match rating {
        Rating::Good => true,
        Rating::Average => rng.chance(0.5),
        Rating::Poor => false,
    };
    let pool = if positive { &POSITIVE } else { &NEGATIVE };
    rng.pick(pool).to_string()
}

/// Empty, "Prefer not to say" or one of the answers.
fn demographic<'a>(rng: &mut Rng, answers: &'a [&'a str], weights: &[f64]) -> &'a str {
    let u = rng.unit();
    if u < NON_RESPONSE / 2.0 {
        ""
    } else if u < NON_RESPONSE {
        "Prefer not to say"
    } else {
        answers[rng.weighted(weights)]
    }
}

fn bad_value(reject: Reject, rng: &mut Rng, fy: usize) -> Result<Patch> {
    let year = FIRST_YEAR + fy as i32;
    let (col, text) = match reject {
        Reject::RatingNotInScale => (COL_RATING, rng.pick(&["Excellent", "5", ""]).to_string()),
        Reject::UnknownChannel => (COL_CHANNEL, rng.pick(&["Fax", "Telex"]).to_string()),
        Reject::BadDate => (
            COL_DATE,
            match rng.below(3) {
                0 => format!("{}-02-30 10:00:00", year + 1),
                1 => format!("{year}-13-01 09:15:00"),
                _ => "not recorded".to_string(),
            },
        ),
        Reject::MissingValue => (COL_DATE, String::new()),
        Reject::NegativeDuration
        | Reject::BadNumber
        | Reject::UnmappedService
        | Reject::UnknownOutcome => return Err(reject.not_for("satisfaction")),
    };
    Ok(Patch {
        col,
        text: text.into_bytes(),
    })
}

/// Channel mix of the day's responses: webchat is staffed on working days only, and at
/// weekends only web users answer.
fn channel_weights(day: &Day) -> [f64; 4] {
    if day.is_open() {
        let web = 0.38 + 0.02 * day.t_years;
        [0.46 - 0.02 * day.t_years, 0.145, web, 0.015]
    } else {
        [0.0, 0.0, 1.0, 0.0]
    }
}

fn time_for(channel: Channel, day: &Day, rng: &mut Rng) -> u32 {
    match channel {
        // Surveys sent after a call or visit come back during the working day.
        Channel::Phone | Channel::FaceToFace => {
            8 * 3600 + 45 * 60 + rng.below(8 * 3600 + 45 * 60) as u32
        }
        Channel::Webchat => 9 * 3600 + rng.below(8 * 3600) as u32,
        Channel::Web => draw_time_of_day(rng, day.clock_change),
    }
}

pub(crate) fn write(world: &World, job: &Job, path: &Path) -> Result<(Tally, u64)> {
    let mut plan = world.plan(job, &REJECTS);
    let mut defect_rng = world.defect_rng(job);
    let fy = job.fy;
    // Normalise the age effect per channel so each channel keeps its overall Poor share.
    let age_norm: Vec<f64> = [
        Channel::Phone,
        Channel::FaceToFace,
        Channel::Web,
        Channel::Webchat,
    ]
    .iter()
    .map(|c| {
        let w = c.age_weights();
        let mean: f64 =
            w.iter().zip(POOR_BY_AGE).map(|(w, f)| w * f).sum::<f64>() / w.iter().sum::<f64>();
        (1.0 - NON_RESPONSE) * mean + NON_RESPONSE
    })
    .collect();

    let mut out = CsvOut::create(path)?;
    out.raw(HEADER)?;
    let mut arrivals: Vec<(u32, Channel)> = Vec::new();
    let mut services: Vec<u8> = Vec::new();
    // (random start, running expected count) per channel and age band; see below.
    let mut starts = Rng::stream(world.seed, &[label::RATINGS, job.file_no]);
    let mut poor_cells = [[(0.0f64, 0.0f64); AGE_BANDS.len() + 1]; 4];
    for cell in poor_cells.iter_mut().flatten() {
        cell.0 = starts.unit();
    }
    let mut pos = 0u64;
    let mut scratch = Vec::new();
    for d in job.days.clone() {
        let day = &world.cal.days[d];
        let n = world.vol.count(Source::Satisfaction, d);
        let first = world.vol.before(Source::Satisfaction, d);
        let mut rng = Rng::stream(world.seed, &[Source::Satisfaction.label(), d as u64]);
        let weights = channel_weights(day);
        arrivals.clear();
        for _ in 0..n {
            let channel = match rng.weighted(&weights) {
                0 => Channel::Phone,
                1 => Channel::FaceToFace,
                2 => Channel::Web,
                _ => Channel::Webchat,
            };
            arrivals.push((time_for(channel, day, &mut rng), channel));
        }
        arrivals.sort_unstable();
        world
            .vol
            .services(Source::Satisfaction, d, &mut rng, &mut services);
        for (i, &(secs, channel)) in arrivals.iter().enumerate() {
            // About 3% of respondents leave the service blank ("unspecified").
            let service = (!rng.chance(0.03)).then_some(usize::from(services[i]));
            // Age first: it shifts the chance of a Poor rating.
            let age = if rng.chance(NON_RESPONSE) {
                None
            } else {
                Some(rng.weighted(channel.age_weights()))
            };
            let age_text = match age {
                Some(a) => AGE_BANDS[a],
                None if rng.chance(0.5) => "",
                None => "Prefer not to say",
            };
            let factor = age.map_or(1.0, |a| POOR_BY_AGE[a]) / age_norm[channel as usize];
            let p_poor = (channel.poor_share(fy) * factor).min(0.95);
            // Systematic sampling per channel and age band: each row is Poor with probability
            // p_poor, yet each cell gets its expected number of Poor ratings give or take one,
            // so the yearly scores land on their targets even in the small sample.
            let cell = &mut poor_cells[channel as usize][age.unwrap_or(AGE_BANDS.len())];
            let before = (cell.0 + cell.1).floor();
            cell.1 += p_poor;
            let poor = (cell.0 + cell.1).floor() > before;
            let rating = if poor {
                Rating::Poor
            } else if rng.chance(0.75) {
                Rating::Good
            } else {
                Rating::Average
            };
            let rating_text = if rng.chance(0.015) {
                rng.pick(rating.variants())
            } else {
                rating.text()
            };
            let says_something = rng.chance(if rating == Rating::Poor { 0.5 } else { 0.2 });
            let comment = if says_something {
                comment(&mut rng, rating)
            } else {
                String::new()
            };
            let mut sex = demographic(&mut rng, &SEXES, &SEX_WEIGHTS);
            if rng.chance(0.02) {
                sex = match sex {
                    "Female" => "female",
                    "Male" => " MALE",
                    other => other,
                };
            }
            let ethnic = demographic(&mut rng, &ETHNIC_GROUPS, &ETHNIC_WEIGHTS);
            let disability = demographic(&mut rng, &["Yes", "No"], &[0.22, 0.78]);
            scratch.clear();
            if rng.chance(0.70) {
                postcode(&mut rng, &mut scratch);
                if rng.chance(0.05) {
                    scratch.make_ascii_lowercase();
                } else if rng.chance(0.05) {
                    scratch.retain(|&b| b != b' ');
                }
            }

            let action = plan.take(pos);
            let patch = match action {
                Some(Action::Reject(r)) => Some(bad_value(r, &mut defect_rng, fy)?),
                _ => None,
            };
            let p = patch.as_ref();
            let line = &mut out.line;
            field(line, 0, p, |b| {
                b.push(b'R');
                push_uint(b, first + i as u64 + 1, 8);
            });
            field(line, COL_DATE, p, |b| {
                push_iso_date(b, day);
                b.push(b' ');
                push_hms(b, secs);
            });
            field(line, COL_CHANNEL, p, |b| {
                b.extend_from_slice(channel.text())
            });
            field(line, 3, p, |b| {
                if let Some(s) = service {
                    push_field(b, SURVEY_SERVICES[s].as_bytes());
                }
            });
            field(line, COL_RATING, p, |b| {
                b.extend_from_slice(rating_text.as_bytes())
            });
            field(line, 5, p, |b| push_field(b, comment.as_bytes()));
            field(line, 6, p, |b| b.extend_from_slice(age_text.as_bytes()));
            field(line, 7, p, |b| b.extend_from_slice(sex.as_bytes()));
            field(line, 8, p, |b| b.extend_from_slice(ethnic.as_bytes()));
            field(line, 9, p, |b| b.extend_from_slice(disability.as_bytes()));
            field(line, 10, p, |b| b.extend_from_slice(&scratch));
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
