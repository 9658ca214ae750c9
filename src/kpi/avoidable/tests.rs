//! Avoidable contact worked out by hand on a few contacts: codes of each kind, a code listed
//! nowhere, repeats counted only where not coded avoidable, contacts without a key or a code,
//! and a target against the same month a year earlier.

use super::*;
use crate::config::avoidable::{AvoidableMeasure, AvoidableTarget, ReasonCategory as R};
use crate::config::kpi::{Direction, Target};
use crate::config::ChannelConfig;
use crate::kpi::repeats::{day_number, linked, summed, unlinked};
use crate::period::Calendar;

/// One contact: (phone key, service, channel, date, reason code).
type Contact = (
    Option<i64>,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

fn date(d: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_default()
}

fn frame(contacts: &[Contact]) -> LazyFrame {
    use chrono::Datelike;
    let dates: Vec<chrono::NaiveDate> = contacts.iter().map(|c| date(c.3)).collect();
    let n = contacts.len();
    let df = df!(
        c::ORGANISATION => vec!["Council"; n],
        c::SOURCE => contacts.iter().map(|c| c.2).collect::<Vec<_>>(),
        c::FINANCIAL_YEAR => dates.iter().map(|d| if d.month() >= 4 { format!("{}/{}", d.year(), (d.year() + 1) % 100) } else { format!("{}/{}", d.year() - 1, d.year() % 100) }).collect::<Vec<_>>(),
        c::YEAR => dates.iter().map(|d| d.year()).collect::<Vec<_>>(),
        c::MONTH => dates.iter().map(|d| d.month() as i8).collect::<Vec<_>>(),
        c::SERVICE => contacts.iter().map(|c| c.1).collect::<Vec<_>>(),
        c::CHANNEL => contacts.iter().map(|c| c.2).collect::<Vec<_>>(),
        c::CATEGORY => vec!["queue"; n],
        c::DATE => dates.clone(),
        c::TIMESTAMP => dates.iter().map(|d| d.and_hms_opt(9, 0, 0).unwrap_or_default()).collect::<Vec<_>>(),
        c::CONTACTS => vec![1u32; n],
        c::REASON => contacts.iter().map(|c| c.4).collect::<Vec<_>>(),
        c::CUSTOMER_PHONE => contacts.iter().map(|c| c.0).collect::<Vec<_>>(),
        c::CUSTOMER_EMAIL => vec![None::<i64>; n],
        c::CUSTOMER_REFERENCE => vec![None::<i64>; n],
    );
    match df {
        Ok(df) => df.lazy(),
        Err(e) => panic!("{e}"),
    }
}

fn config(repeat_days: u32, targets: Vec<AvoidableTarget>) -> AvoidableConfig {
    AvoidableConfig {
        codes: vec![
            ("chasing".into(), R::ProgressChasing),
            ("letter query".into(), R::Clarification),
            ("signposted".into(), R::WrongChannel),
            ("new request".into(), R::Unavoidable),
        ],
        repeat_days,
        targets,
    }
}

/// January 2025: customer 1 asks (c1), chases three days later (c2, coded avoidable although
/// a repeat), then fills a form three days after that (c3, not coded: an avoidable repeat);
/// customer 2 asks about a letter (c4) and comes back ten days later (c7, not a repeat at 7
/// days); two callers without a key: one code listed nowhere (c5), one signposted (c6).
const JANUARY: [Contact; 7] = [
    (
        Some(1),
        "Housing",
        "telephone",
        "2025-01-03",
        Some("New Request"),
    ),
    (
        Some(1),
        "Housing",
        "telephone",
        "2025-01-06",
        Some(" CHASING "),
    ),
    (Some(1), "Housing", "web", "2025-01-09", None),
    (
        Some(2),
        "Waste",
        "telephone",
        "2025-01-10",
        Some("Letter query"),
    ),
    (
        None,
        "Waste",
        "telephone",
        "2025-01-11",
        Some("Mystery code"),
    ),
    (
        None,
        "Waste",
        "face_to_face",
        "2025-01-12",
        Some("signposted"),
    ),
    (
        Some(2),
        "Waste",
        "telephone",
        "2025-01-20",
        Some("new request"),
    ),
];

/// The contacts linked and summed as the KPI stage sums them for a 7-day window.
fn linked_rows(contacts: &[Contact]) -> LazyFrame {
    // The telephone source is the only one still sending on 15 January: the lake is watched up
    // to its last contact, 20 January.
    match linked(
        frame(contacts),
        &ChannelConfig::default(),
        day_number(date("2025-01-15")),
    )
    .and_then(|df| summed(df.lazy(), &[7], Calendar::default()))
    {
        Ok(lf) => lf,
        Err(e) => panic!("{e}"),
    }
}

fn total_row(df: &DataFrame) -> DataFrame {
    df.clone()
        .lazy()
        .filter(col(c::SERVICE).eq(lit(label::ALL_SERVICES)))
        .collect()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn number(df: &DataFrame, name: &str) -> f64 {
    match df.column(name).and_then(|c| c.cast(&DataType::Float64)) {
        Ok(c) => c.f64().ok().and_then(|v| v.get(0)).unwrap_or(f64::NAN),
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn codes_and_repeats_make_the_avoidable_share_of_contacts_assessed() -> Result<(), FigureError> {
    let cfg = config(7, vec![]);
    let rows = classified(linked_rows(&JANUARY), &cfg);
    let all = total_row(&avoidable_contact(&monthly(rows.clone()), &cfg)?);
    let expected = [
        (out::CONTACTS, 7.0),
        (out::CODED, 5.0),          // c1, c2, c4, c6, c7
        (out::UNLISTED_CODES, 1.0), // c5
        (out::IDENTIFIED, 5.0),     // c1, c2, c3, c4, c7
        (out::ASSESSED, 6.0),       // all but c5
        ("progress_chasing", 1.0),  // c2
        ("clarification", 1.0),     // c4
        ("wrong_channel", 1.0),     // c6
        ("other_avoidable", 0.0),
        (out::REPEAT_NOT_CODED_AVOIDABLE, 1.0), // c3 (c2 is coded avoidable already)
        (out::AVOIDABLE, 4.0),                  // c2, c3, c4, c6
        (out::AVOIDABLE_PCT, 400.0 / 6.0),
        // Watched to 20 January, so contacts up to the 13th are observable: c1-c4; c1 and c2
        // were followed within 7 days, c3 and c4 were not: 4 contacts / 2 resolved.
        (out::OBSERVABLE, 4.0),
        (out::FOLLOWED_UP, 2.0),
        (out::CONTACTS_PER_RESOLVED_REQUEST, 2.0),
        (out::REPEAT_DAYS, 7.0),
    ];
    for (name, value) in expected {
        assert!(
            (number(&all, name) - value).abs() < 1e-9,
            "{name}: {} not {value}",
            number(&all, name)
        );
    }
    // By service and channel: Waste by telephone has c4, c5, c7: one assessed avoidable of two.
    let detail = avoidable_contact(&monthly(rows.clone()), &cfg)?
        .lazy()
        .filter(
            col(c::SERVICE)
                .eq(lit("Waste"))
                .and(col(c::CHANNEL).eq(lit("telephone"))),
        )
        .collect()
        .map_err(figure_err)?;
    assert_eq!(number(&detail, out::ASSESSED), 2.0);
    assert_eq!(number(&detail, out::AVOIDABLE_PCT), 50.0);
    let warning = unlisted_codes(&rows)?;
    assert_eq!(
        warning,
        Some(Warning::UnlistedReasonCodes {
            values: vec![("Mystery code".into(), 1)]
        })
    );
    Ok(())
}

#[test]
fn without_repeats_only_codes_are_assessed() -> Result<(), FigureError> {
    // No customer keys at all: the same contacts read as a source without [customers] would.
    let cfg = config(0, vec![]);
    let rows = classified(
        summed(unlinked(frame(&JANUARY))?, &[], Calendar::default())?,
        &cfg,
    );
    let all = total_row(&avoidable_contact(&monthly(rows.clone()), &cfg)?);
    assert_eq!(number(&all, out::ASSESSED), 5.0);
    assert_eq!(number(&all, out::AVOIDABLE), 3.0); // c2, c4, c6
    assert_eq!(number(&all, out::AVOIDABLE_PCT), 60.0);
    assert!(
        number(&all, out::CONTACTS_PER_RESOLVED_REQUEST).is_nan(),
        "no resolution without keys"
    );
    Ok(())
}

#[test]
fn a_target_compares_the_same_months_of_the_baseline_year() -> Result<(), FigureError> {
    // A calendar-year council: January 2025 is year 2025's first month, against January 2024.
    let calendar = Calendar::starting(1).unwrap_or_default();
    let mut contacts: Vec<Contact> = JANUARY.to_vec();
    // January 2024: four coded calls, two avoidable (50%), no keys.
    contacts.extend([
        (None, "Housing", "telephone", "2024-01-05", Some("chasing")),
        (
            None,
            "Housing",
            "telephone",
            "2024-01-06",
            Some("new request"),
        ),
        (None, "Waste", "telephone", "2024-01-07", Some("signposted")),
        (
            None,
            "Waste",
            "telephone",
            "2024-01-08",
            Some("new request"),
        ),
    ]);
    let target = |name: &str, measure, pct: f64| AvoidableTarget {
        name: name.into(),
        measure,
        channels: vec![],
        services: vec![],
        target: Target {
            baseline_fy: 2024,
            target_change_pct: pct,
            direction: Direction::Reduction,
            applies_to: vec![],
        },
    };
    let cfg = config(
        7,
        vec![
            target(
                "Share down a fifth",
                AvoidableMeasure::AvoidableShare,
                -20.0,
            ),
            target(
                "Per request",
                AvoidableMeasure::ContactsPerResolvedRequest,
                -10.0,
            ),
        ],
    );
    let rows = classified(linked_rows(&contacts), &cfg);
    let period = Period::month(2025, 1, calendar);
    let table = targets(&monthly(rows), &cfg, &KpiConfig::default(), period)?;
    assert_eq!(table.height(), 2);
    let row = |i: usize| table.slice(i as i64, 1);
    let share = row(0);
    assert_eq!(number(&share, out::BASELINE), 50.0);
    assert!((number(&share, out::CURRENT) - 400.0 / 6.0).abs() < 1e-9);
    assert!((number(&share, out::CHANGE_PCT) - (400.0 / 6.0 - 50.0) / 50.0 * 100.0).abs() < 1e-9);
    assert_eq!(number(&share, out::BASELINE_ASSESSED), 4.0);
    let text = |df: &DataFrame, name: &str| texts(df, name).ok().and_then(|v| v[0].clone());
    assert_eq!(text(&share, out::STATUS).as_deref(), Some("not met"));
    assert_eq!(text(&share, out::RAG).as_deref(), Some("red"));
    assert_eq!(text(&share, out::MISSING_MONTHS), None);
    // No keys in January 2024: nothing observable, so no baseline and no month to compare.
    let per_request = row(1);
    assert!(number(&per_request, out::BASELINE).is_nan());
    assert_eq!(number(&per_request, out::CURRENT), 2.0);
    assert_eq!(text(&per_request, out::RAG).as_deref(), Some("n/a"));
    Ok(())
}

#[test]
fn a_month_without_assessed_contacts_makes_a_target_incomplete() -> Result<(), FigureError> {
    // An April-March council: January 2025 is the tenth month of 2024/25, and the baseline's
    // April 2023 to January 2024 hold nothing.
    let cfg = config(
        7,
        vec![AvoidableTarget {
            name: "Share".into(),
            measure: AvoidableMeasure::AvoidableShare,
            channels: vec![crate::model::Channel::Telephone],
            services: vec![],
            target: Target {
                baseline_fy: 2023,
                target_change_pct: -10.0,
                direction: Direction::Reduction,
                applies_to: vec![],
            },
        }],
    );
    let rows = classified(linked_rows(&JANUARY), &cfg);
    let table = targets(
        &monthly(rows),
        &cfg,
        &KpiConfig::default(),
        Period::month(2025, 1, Calendar::default()),
    )?;
    let missing = texts(&table, out::MISSING_MONTHS)?;
    let missing = missing[0].clone().unwrap_or_default();
    assert!(missing.starts_with("April 2023, May 2023"), "{missing}");
    assert!(missing.ends_with("December 2024"), "{missing}");
    assert!(!missing.contains("January 2025"), "{missing}");
    assert_eq!(
        texts(&table, out::STATUS)?[0].as_deref(),
        Some("incomplete")
    );
    assert_eq!(
        texts(&table, out::CHANNELS)?[0].as_deref(),
        Some("telephone")
    );
    Ok(())
}
