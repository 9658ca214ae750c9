//! Customers who come back: the caller numbers (telephony `CLI`) and the e-mail addresses and
//! telephone numbers (web forms `Email Address`, `Telephone`) of the sample, for the
//! right-first-time tables (repeat contact, failure demand).
//!
//! The model. Every contact of the telephony and web-forms exports has a customer:
//! - With a probability that depends on the contact (its service; for a form, its status and
//!   the form), the customer comes from the *returning pool* of the contact's service and week
//!   (weeks are 7-day blocks from the first day of the sample). Usually the pool of the
//!   contact's own week, sometimes of one of the three weeks before (`CALL_WEEKS_BACK`, `FORM_WEEKS_BACK`), so that
//!   repeats spread over the 28-day window. Pools are sized from the expected number of
//!   contacts drawing from them (`Volumes`, not the random draws), so that each slot of a pool
//!   is drawn about `DRAWS_PER_SLOT` times whatever the size of the run: the contacts that
//!   share a slot are one customer contacting the council several times about one service, on
//!   the phone and online.
//! - Otherwise the customer is someone new, seen once (unless their number collides, below).
//!
//! Repeats are therefore more likely for Housing and Council Tax (`CALL_RETURNING`,
//! `FORM_RETURNING`) and after a failed (abandoned or draft) form (`FAILED_FORM_RETURNING`),
//! and for a few troublesome forms (`TROUBLESOME_FORMS`): the customer who gave up online
//! shares a slot with calls about the same service, which is failure demand.
//!
//! A customer's identity is a 64-bit number: for a pool slot, a function of (seed, service,
//! week, slot); for a new customer, a draw from the contact's own stream. Each source and day
//! has its own stream for these draws (`label::CUSTOMERS`), apart from the streams of the
//! existing columns, so adding them changed none of the other values, and the overlapping
//! export day of the telephony files carries the same numbers in both files; files written in
//! parallel agree on a customer because nothing depends on another file's rows.
//!
//! Identifiers are synthetic. Telephone numbers come only from Ofcom's ranges for drama
//! (`RANGES`, 15,000 numbers; at many times the sample's size customers share numbers, as
//! shared phones do) and e-mail addresses only from the example.com, example.org and
//! example.net domains (RFC 2606). The telephony system writes numbers in E.164
//! (`+447700900123`), the forms as people type them (`07700 900123`, `0113 496 0123`,
//! `+44 7700 900123`), so matching needs the normalisation ingest does.
//!
//! What the sample job (seed 42, 2024/25 to March 2025) publishes from this: repeats within 7
//! days 16.6% of identified contacts (Council Tax 23%, Housing 22%, Licensing 4.5%; 21% within
//! 28 days); forms followed by a call within 7 days 9.2% (change of address 26%, housing repair
//! 18%), calls followed by a form 5.1%.

use crate::generate::calendar::push_uint;
use crate::generate::rng::{label, Rng};
use crate::generate::vocab::FORMS;
use crate::generate::volume::{Source, Volumes};

/// Share of calls by a returning customer, by service (order of `vocab::SERVICES`): Housing
/// (repairs chased) and Council Tax (bills, arrears) callers come back most.
const CALL_RETURNING: [f64; 8] = [0.55, 0.45, 0.55, 0.30, 0.30, 0.30, 0.25, 0.35];
/// Share of submitted forms by a returning customer, by service.
const FORM_RETURNING: [f64; 8] = [0.35, 0.30, 0.35, 0.25, 0.20, 0.20, 0.15, 0.25];
/// Share of abandoned and draft forms by a returning customer: most who give up online try
/// again, often on the phone.
const FAILED_FORM_RETURNING: f64 = 0.90;
/// Forms whose customers often have to call anyway, with their share of returning customers
/// when submitted.
const TROUBLESOME_FORMS: [(&str, f64); 2] = [
    ("Council Tax – change of address", 0.70),
    ("Report a housing repair", 0.65),
];
/// Share of forms abandoned or left as drafts (as drawn in `webforms`), for sizing pools.
const FAILED_FORMS: f64 = 0.12;
/// Chance a returning call draws from the pool of its own week, one, two or three weeks before.
/// Calls reach further back than forms (`FORM_WEEKS_BACK`), so a call and a form of one
/// customer more often come form first: the customer tried online, then rang.
pub(crate) const CALL_WEEKS_BACK: [f64; 4] = [0.55, 0.30, 0.10, 0.05];
/// The same for forms.
pub(crate) const FORM_WEEKS_BACK: [f64; 4] = [0.85, 0.10, 0.05, 0.0];
/// Expected contacts per slot of a pool: with Poisson-like occupancy about 60% of the returning
/// contacts follow an earlier contact of their slot (fewer within 7 days, as a slot's contacts
/// spread over up to four weeks).
const DRAWS_PER_SLOT: f64 = 2.2;

/// Calls with the number withheld (no key).
const WITHHELD: f64 = 0.06;

/// Ofcom's telephone numbers for drama: each range written spaced, up to the three digits that
/// vary (07700 900000-900999, 0113 496 0000-0999, ...): 15,000 numbers.
pub(crate) const RANGES: [&str; 15] = [
    "07700 900",
    "0113 496 0",
    "0114 496 0",
    "0115 496 0",
    "0116 496 0",
    "0117 496 0",
    "0118 496 0",
    "0121 496 0",
    "0131 496 0",
    "0141 496 0",
    "0151 496 0",
    "0161 496 0",
    "020 7946 0",
    "0191 498 0",
    "01632 960",
];
/// A number's range: one in `MOBILE_SHARE_OF` numbers is in each city range, the rest are
/// mobiles (the first range), three times as many as in any one city.
const MOBILE_SHARE_OF: u64 = RANGES.len() as u64 + 2;

/// The only domains addresses are made at.
pub(crate) const DOMAINS: [&str; 3] = ["example.com", "example.org", "example.net"];
const GIVEN: [&str; 24] = [
    "amara", "ben", "chloe", "dev", "eilidh", "farah", "george", "hana", "isaac", "jess", "kwame",
    "lena", "mo", "niamh", "olu", "priya", "quinn", "rhys", "sana", "tom", "uma", "vik", "wen",
    "zara",
];
const FAMILY: [&str; 24] = [
    "adams", "begum", "clarke", "davies", "evans", "fraser", "green", "hussain", "iqbal", "jones",
    "khan", "lewis", "mensah", "nowak", "okafor", "patel", "quinn", "roberts", "smith", "taylor",
    "uddin", "walsh", "young", "zhang",
];

/// Pool sizes by week and service.
#[derive(Debug)]
pub(crate) struct Pools {
    seed: u64,
    slots: Vec<[u64; 8]>,
}

/// The share of a form's contacts by a returning customer.
pub(crate) fn form_returning(form: usize, failed: bool) -> f64 {
    if failed {
        return FAILED_FORM_RETURNING;
    }
    let name = FORMS[form].cat.name;
    TROUBLESOME_FORMS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(FORM_RETURNING[FORMS[form].cat.service], |(_, p)| *p)
}

/// The share of a call's contacts by a returning customer.
pub(crate) fn call_returning(service: usize) -> f64 {
    CALL_RETURNING[service]
}

impl Pools {
    pub(crate) fn new(seed: u64, days: usize, vol: &Volumes) -> Pools {
        let weeks = days.div_ceil(7);
        let mut expected = vec![[0.0f64; 8]; weeks];
        for d in 0..days {
            for (s, e) in expected[d / 7].iter_mut().enumerate() {
                let calls = vol.count_of(Source::Telephony, d, s) as f64;
                let forms = vol.count_of(Source::Webforms, d, s) as f64;
                *e += calls * CALL_RETURNING[s]
                    + forms
                        * ((1.0 - FAILED_FORMS) * FORM_RETURNING[s]
                            + FAILED_FORMS * FAILED_FORM_RETURNING);
            }
        }
        let slots = expected
            .iter()
            .map(|w| w.map(|e| ((e / DRAWS_PER_SLOT).round() as u64).max(1)))
            .collect();
        Pools { seed, slots }
    }

    /// The customer of a contact about `service` on `day`, and whether they came from a
    /// returning pool (probability `returning`) rather than being someone new. `rng` is the day's
    /// customer stream.
    pub(crate) fn customer(
        &self,
        rng: &mut Rng,
        service: usize,
        day: usize,
        returning: f64,
        weeks_back: &[f64; 4],
    ) -> (Person, bool) {
        if !rng.chance(returning) {
            return (Person(rng.next_u64()), false);
        }
        let week = (day / 7).saturating_sub(rng.weighted(weeks_back));
        let size = self.slots.get(week).map_or(1, |w| w[service]);
        let slot = rng.below(size);
        let mut id = Rng::stream(
            self.seed,
            &[label::CUSTOMERS, 0, service as u64, week as u64, slot],
        );
        (Person(id.next_u64()), true)
    }
}

/// The stream of a source's customer draws on one day.
pub(crate) fn day_stream(seed: u64, source: Source, day: usize) -> Rng {
    Rng::stream(seed, &[label::CUSTOMERS, source.label(), day as u64])
}

/// A customer: their number and address are functions of the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Person(u64);

/// How a telephone number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhoneStyle {
    /// `+447700900123`, as telephony systems record the caller's line.
    E164,
    /// `07700 900123`, `0113 496 0123`.
    Spaced,
    /// `07700900123`.
    Compact,
    /// `+44 7700 900123`.
    International,
}

impl Person {
    fn range(self) -> &'static str {
        let i = ((self.0 >> 40) % MOBILE_SHARE_OF) as usize;
        RANGES.get(i).copied().unwrap_or(RANGES[0])
    }

    /// The telephone number in `style`.
    pub(crate) fn push_phone(self, b: &mut Vec<u8>, style: PhoneStyle) {
        let spaced = self.range();
        let last = self.0 % 1000;
        let national = |b: &mut Vec<u8>, keep_spaces: bool| {
            for &c in spaced.as_bytes() {
                if c != b' ' || keep_spaces {
                    b.push(c);
                }
            }
            push_uint(b, last, 3);
        };
        match style {
            PhoneStyle::E164 => {
                b.extend_from_slice(b"+44");
                let start = b.len();
                national(b, false);
                b.remove(start); // the national 0
            }
            PhoneStyle::Spaced => national(b, true),
            PhoneStyle::Compact => national(b, false),
            PhoneStyle::International => {
                b.extend_from_slice(b"+44 ");
                let start = b.len();
                national(b, true);
                b.remove(start);
            }
        }
    }

    /// The e-mail address; `capitalised` writes it as some people type it (`Priya.Patel7@Example.com`).
    pub(crate) fn push_email(self, b: &mut Vec<u8>, capitalised: bool) {
        let h = self.0;
        let given = GIVEN[((h >> 10) % GIVEN.len() as u64) as usize];
        let family = FAMILY[((h >> 16) % FAMILY.len() as u64) as usize];
        let digits = (h >> 24) % 100;
        let domain = DOMAINS[((h >> 36) % DOMAINS.len() as u64) as usize];
        let cap = |b: &mut Vec<u8>, w: &str| {
            let bytes = w.as_bytes();
            if capitalised {
                b.push(bytes[0].to_ascii_uppercase());
                b.extend_from_slice(&bytes[1..]);
            } else {
                b.extend_from_slice(bytes);
            }
        };
        match (h >> 32) % 4 {
            // j.okafor
            0 => {
                cap(b, &given[..1]);
                b.push(b'.');
            }
            // priyapatel
            1 => cap(b, given),
            // priya.patel
            _ => {
                cap(b, given);
                b.push(b'.');
            }
        }
        cap(b, family);
        if (h >> 34).is_multiple_of(2) {
            push_uint(b, digits, 1);
        }
        b.push(b'@');
        cap(b, domain);
    }
}

/// The telephony `CLI` field of a call: the caller's number in E.164, or `Withheld`.
pub(crate) fn push_cli(b: &mut Vec<u8>, person: Person, rng: &mut Rng) {
    if rng.chance(WITHHELD) {
        b.extend_from_slice(b"Withheld");
    } else {
        person.push_phone(b, PhoneStyle::E164);
    }
}

/// What a form's customer typed: an e-mail address (most do, fewer on forms left unfinished)
/// and a telephone number (optional on the forms) in one of three ways.
pub(crate) struct FormContact {
    pub email: Option<bool>,
    pub phone: Option<PhoneStyle>,
}

pub(crate) fn form_contact(rng: &mut Rng, failed: bool) -> FormContact {
    let (email, phone) = if failed { (0.60, 0.70) } else { (0.90, 0.75) };
    let email = rng.chance(email).then(|| rng.chance(0.10));
    let phone = rng
        .chance(phone)
        .then(|| match rng.weighted(&[0.70, 0.15, 0.15]) {
            0 => PhoneStyle::Spaced,
            1 => PhoneStyle::Compact,
            _ => PhoneStyle::International,
        });
    FormContact { email, phone }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_four_ways() {
        let p = Person(0);
        let mut out = Vec::new();
        for style in [
            PhoneStyle::E164,
            PhoneStyle::Spaced,
            PhoneStyle::Compact,
            PhoneStyle::International,
        ] {
            p.push_phone(&mut out, style);
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8_lossy(&out),
            "+447700900000|07700 900000|07700900000|+44 7700 900000|"
        );
        let mut e = Vec::new();
        p.push_email(&mut e, true);
        e.push(b'|');
        p.push_email(&mut e, false);
        assert_eq!(
            String::from_utf8_lossy(&e),
            "A.Adams0@Example.com|a.adams0@example.com"
        );
    }
}
