//! Repeats worked out by hand on a few customers: boundaries at the window, across channels,
//! across months, the same day, the same customer about another service, and keys of different
//! kinds on one contact.

use super::*;
use crate::config::ChannelConfig;

/// One contact: (customer phone key, e-mail key, service, channel, category, date, time).
type Contact = (
    Option<i64>,
    Option<i64>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn frame(contacts: &[Contact]) -> LazyFrame {
    let date = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_default();
    let dates: Vec<chrono::NaiveDate> = contacts.iter().map(|c| date(c.5)).collect();
    let stamps: Vec<chrono::NaiveDateTime> = contacts
        .iter()
        .map(|c| {
            chrono::NaiveDateTime::parse_from_str(&format!("{} {}", c.5, c.6), "%Y-%m-%d %H:%M")
                .unwrap_or_default()
        })
        .collect();
    use chrono::Datelike;
    let df = df!(
        c::ORGANISATION => vec!["Council"; contacts.len()],
        c::SOURCE => contacts.iter().map(|c| c.3).collect::<Vec<_>>(),
        c::FINANCIAL_YEAR => vec!["2024/25"; contacts.len()],
        c::YEAR => dates.iter().map(|d| d.year()).collect::<Vec<_>>(),
        c::MONTH => dates.iter().map(|d| d.month() as i8).collect::<Vec<_>>(),
        c::SERVICE => contacts.iter().map(|c| c.2).collect::<Vec<_>>(),
        c::CHANNEL => contacts.iter().map(|c| c.3).collect::<Vec<_>>(),
        c::CATEGORY => contacts.iter().map(|c| c.4).collect::<Vec<_>>(),
        c::DATE => dates,
        c::TIMESTAMP => stamps,
        c::CONTACTS => vec![1u32; contacts.len()],
        c::RESOLVED_FIRST_CONTACT => contacts.iter().map(|c| (c.3 == "telephone").then_some(true)).collect::<Vec<_>>(),
        c::CUSTOMER_PHONE => contacts.iter().map(|c| c.0).collect::<Vec<_>>(),
        c::CUSTOMER_EMAIL => contacts.iter().map(|c| c.1).collect::<Vec<_>>(),
        c::CUSTOMER_REFERENCE => vec![None::<i64>; contacts.len()],
    );
    match df {
        Ok(df) => df.lazy(),
        Err(e) => panic!("{e}"),
    }
}

fn ints(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    match df.column(name).and_then(|c| c.cast(&DataType::Int32)) {
        Ok(c) => c.i32().map(|v| v.iter().collect()).unwrap_or_default(),
        Err(e) => panic!("{name}: {e}"),
    }
}

const SAMPLE: [Contact; 12] = [
    // A: a form, a call about it 7 days later (a repeat at 7 days), another call 29 days after
    // that (a repeat at neither 7 nor 28 days).
    (
        Some(1),
        None,
        "Housing",
        "web",
        "Repair form",
        "2025-01-03",
        "09:00",
    ),
    (
        Some(1),
        None,
        "Housing",
        "telephone",
        "Housing queue",
        "2025-01-10",
        "10:00",
    ),
    (
        Some(1),
        None,
        "Housing",
        "telephone",
        "Housing queue",
        "2025-02-08",
        "10:00",
    ),
    // B: two calls the same day about one service (a repeat at 0 days) and one about another.
    (
        Some(2),
        None,
        "Waste",
        "telephone",
        "Waste queue",
        "2025-01-15",
        "09:00",
    ),
    (
        Some(2),
        None,
        "Waste",
        "telephone",
        "Waste queue",
        "2025-01-15",
        "15:00",
    ),
    (
        Some(2),
        None,
        "Housing",
        "telephone",
        "Housing queue",
        "2025-01-15",
        "16:00",
    ),
    // C: e-mail only, across a month end: 31 January then 2 February (2 days).
    (
        None,
        Some(30),
        "Waste",
        "web",
        "Bin form",
        "2025-01-31",
        "12:00",
    ),
    (
        None,
        Some(30),
        "Waste",
        "web",
        "Bin form",
        "2025-02-02",
        "12:00",
    ),
    // D: a form with phone and e-mail, then a call with the phone 8 days later (not within 7,
    // within 28), then a form with the e-mail only 3 days after the call (11 after the first
    // form, the only contact it shares a key with).
    (
        Some(4),
        Some(40),
        "Council tax",
        "web",
        "Direct debit form",
        "2025-01-20",
        "08:00",
    ),
    (
        Some(4),
        None,
        "Council tax",
        "telephone",
        "Revenues queue",
        "2025-01-28",
        "08:00",
    ),
    (
        None,
        Some(40),
        "Council tax",
        "web",
        "Direct debit form",
        "2025-01-31",
        "08:00",
    ),
    // No key: counted, never identified.
    (
        None,
        None,
        "Waste",
        "telephone",
        "Waste queue",
        "2025-01-15",
        "09:30",
    ),
];

fn sample_linked() -> DataFrame {
    // The lake runs to 31 March 2025 (another keyed contact that late).
    let mut all = SAMPLE.to_vec();
    all.push((
        Some(9),
        None,
        "Parking",
        "telephone",
        "Parking queue",
        "2025-03-31",
        "09:00",
    ));
    let active_from = day_number(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default());
    match linked(frame(&all), &ChannelConfig::default(), active_from) {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    }
}

/// [`sample_linked`] summed as the KPI stage sums it for windows of 7 and 28 days.
fn sample_summed() -> DataFrame {
    match summed(sample_linked().lazy(), &[7, 28], Calendar::default()).and_then(collect) {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn gaps_follow_the_customer_across_channels_months_and_keys() {
    let df = sample_linked();
    // Rows keep their order (the row index joins the gaps back).
    let prev = ints(&df, PREV);
    let next = ints(&df, NEXT);
    assert_eq!(
        prev[..12],
        [
            None,
            Some(7),
            Some(29),
            None,
            Some(0),
            None,
            None,
            Some(2),
            None,
            Some(8),
            Some(11),
            None
        ]
    );
    assert_eq!(
        next[..12],
        [
            Some(7),
            Some(29),
            None,
            Some(0),
            None,
            None,
            Some(2),
            None,
            Some(8),
            None,
            None,
            None
        ]
    );
    // A's form is followed by a call 7 days later; D's by one 8 days later; C's forms by none.
    let next_assisted = ints(&df, NEXT_ASSISTED);
    assert_eq!(next_assisted[0], Some(7));
    assert_eq!(next_assisted[6], None);
    assert_eq!(next_assisted[8], Some(8));
    // D's call is followed by the e-mail-only form through... nothing: the call has no e-mail.
    let next_digital = ints(&df, NEXT_DIGITAL);
    assert_eq!(next_digital[9], None);
}

#[test]
fn unkeyed_rows_beside_the_smallest_key_link_nothing_wrongly() {
    // Unkeyed rows sort first, next to a customer whose key is the smallest there is: that
    // customer must still link their own two calls (in date order, not row order), and the
    // unkeyed rows nothing; unkeyed rows between and around keyed ones change nothing either.
    let collide = Some(i64::MIN);
    let contacts: [Contact; 5] = [
        (
            None,
            None,
            "Housing",
            "telephone",
            "q",
            "2025-01-05",
            "09:00",
        ),
        (
            collide,
            None,
            "Housing",
            "telephone",
            "q",
            "2025-01-02",
            "09:00",
        ),
        (
            None,
            None,
            "Housing",
            "telephone",
            "q",
            "2025-01-03",
            "09:00",
        ),
        (
            collide,
            None,
            "Housing",
            "telephone",
            "q",
            "2025-01-06",
            "09:00",
        ),
        (
            None,
            Some(i64::MIN + 2),
            "Housing",
            "web",
            "f",
            "2025-01-04",
            "09:00",
        ),
    ];
    let active_from = day_number(chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default());
    let df = match linked(frame(&contacts), &ChannelConfig::default(), active_from) {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(ints(&df, PREV), [None, None, None, Some(4), None]);
    assert_eq!(ints(&df, NEXT), [None, Some(4), None, None, None]);
}

#[test]
fn repeat_rates_at_each_window_by_hand() {
    let df = sample_summed();
    let january = df.clone().lazy().filter(col(c::MONTH).eq(lit(1i8)));
    let table = match repeat_contact(&january, &[7, 28]) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let row = |service: &str, channel: &str, window: u32| -> (u32, u32, u32) {
        let hit = table
            .clone()
            .lazy()
            .filter(
                col(c::SERVICE)
                    .eq(lit(service))
                    .and(col(c::CHANNEL).eq(lit(channel)))
                    .and(col(out::WINDOW_DAYS).eq(lit(window))),
            )
            .collect();
        let hit = match hit {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        };
        let get = |n: &str| ints(&hit, n).first().copied().flatten().unwrap_or(-1) as u32;
        (get(out::CONTACTS), get(out::IDENTIFIED), get(out::REPEATS))
    };
    // Waste by phone in January: B's two calls (one a same-day repeat) and the unkeyed call.
    assert_eq!(row("Waste", "telephone", 7), (3, 2, 1));
    // Housing by phone: A's call 7 days after the form (a repeat at 7 and 28), B's other-service
    // call (not a repeat).
    assert_eq!(row("Housing", "telephone", 7), (2, 2, 1));
    // Council tax by phone: D's call 8 days after the form: a repeat at 28 days only.
    assert_eq!(row("Council tax", "telephone", 7), (1, 1, 0));
    assert_eq!(row("Council tax", "telephone", 28), (1, 1, 1));
    // Council tax web: the e-mail-only form 3 days after the call is no repeat of it (no key in
    // common) but is one of the first form (e-mail, 11 days): at 28 days only.
    assert_eq!(row("Council tax", "web", 7), (2, 2, 0));
    assert_eq!(row("Council tax", "web", 28), (2, 2, 1));
    // January in all: ten contacts, nine identified; repeats at 7 days: the same-day call and
    // the call after the repair form (the second bin form is February's); at 28 days also the
    // 8- and 11-day ones.
    assert_eq!(row("All services", "All channels", 7), (10, 9, 2));
    assert_eq!(row("All services", "All channels", 28), (10, 9, 4));
}

#[test]
fn follow_ups_are_judged_only_when_the_window_is_in_the_lake() {
    let df = sample_summed();
    let rows = df.lazy();
    let fd = match failure_demand(&rows, &[7, 28]) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let digital = fd
        .lazy()
        .filter(
            col(out::DIRECTION)
                .eq(lit(out::DIGITAL_THEN_ASSISTED))
                .and(col(out::WINDOW_DAYS).eq(lit(7u32))),
        )
        .group_by([col(out::WINDOW_DAYS)])
        .agg([
            col(out::IDENTIFIED).sum(),
            col(out::OBSERVABLE).sum(),
            col(out::FOLLOWED_UP).sum(),
        ])
        .collect();
    let digital = match digital {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    // Five keyed forms, all observable (the lake runs to 31 March); A's form is followed by a
    // call within 7 days, D's first form only within 8.
    assert_eq!(ints(&digital, out::IDENTIFIED), vec![Some(5)]);
    assert_eq!(ints(&digital, out::OBSERVABLE), vec![Some(5)]);
    assert_eq!(ints(&digital, out::FOLLOWED_UP), vec![Some(1)]);

    // The last contact (31 March) cannot be judged at 7 days: the lake ends that day.
    let res = match resolution(&rows_in_march(), &[7]) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    // One row for Parking by phone and the month's total row, which it makes up alone.
    let services: Vec<Option<String>> = res
        .column(c::SERVICE)
        .and_then(|c| {
            c.str()
                .map(|s| s.iter().map(|v| v.map(String::from)).collect())
        })
        .unwrap_or_default();
    assert_eq!(
        services,
        [
            Some("All services".to_string()),
            Some("Parking".to_string())
        ]
    );
    assert_eq!(ints(&res, out::IDENTIFIED), vec![Some(1); 2]);
    assert_eq!(ints(&res, out::OBSERVABLE), vec![Some(0); 2]);
    assert_eq!(ints(&res, out::SELF_REPORTED_RESOLVED), vec![Some(1); 2]);
}

fn rows_in_march() -> LazyFrame {
    sample_summed().lazy().filter(col(c::MONTH).eq(lit(3i8)))
}

#[test]
fn days_to_repeat_counts_each_gap() {
    let df = sample_summed();
    let days = match days_to_repeat(&df.lazy(), 28) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    // Gaps within 28 days: 0, 2, 7, 8, 11 (29 is beyond the window).
    assert_eq!(
        ints(&days, out::DAYS),
        vec![Some(0), Some(2), Some(7), Some(8), Some(11)]
    );
    assert_eq!(ints(&days, out::REPEATS), vec![Some(1); 5]);
}

#[test]
fn gaps_as_long_as_the_packing_holds_come_back_exact_and_longer_spans_are_refused() {
    // Gaps travel packed 16 bits each (`gaps_by`): the longest span allowed, 65,534 days, must
    // come back to the day, for each of the four gaps, beside a same-day pair and another
    // service; a day more is refused with an error rather than wrapped round.
    let call = |key, service, date| (Some(key), None, service, "telephone", "q", date, "09:00");
    let form = |key, service, date| (Some(key), None, service, "web", "f", date, "10:00");
    let contacts: [Contact; 5] = [
        form(1, "Housing", "2000-01-01"),
        call(1, "Housing", "2179-06-05"),
        call(2, "Housing", "2000-01-01"),
        form(2, "Housing", "2000-01-01"),
        call(2, "Parking", "2000-01-02"),
    ];
    let active_from = day_number(chrono::NaiveDate::from_ymd_opt(2179, 6, 1).unwrap_or_default());
    let df = match linked(frame(&contacts), &ChannelConfig::default(), active_from) {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(ints(&df, PREV), [None, Some(65_534), None, Some(0), None]);
    assert_eq!(ints(&df, NEXT), [Some(65_534), None, Some(0), None, None]);
    assert_eq!(
        ints(&df, NEXT_ASSISTED),
        [Some(65_534), None, None, None, None]
    );
    assert_eq!(ints(&df, NEXT_DIGITAL), [None, None, Some(0), None, None]);
    let mut longer = contacts;
    longer[1] = call(1, "Housing", "2179-06-06");
    match linked(frame(&longer), &ChannelConfig::default(), active_from) {
        Ok(_) => panic!("a span of 65,535 days was linked"),
        Err(e) => assert!(e.to_string().contains("65534 days"), "{e}"),
    }
}

/// The gaps of [`linked`] against a plain reading of the definition on random contacts: for
/// each contact and each kind of key it carries, the same customer's contacts about the same
/// service in time order (day, then time, contacts without a time first, then as read), the
/// nearest before and after it, and the nearest after it on an assisted and on a digital
/// channel; the shortest over the kinds. Many share a customer, a day and a minute, some have
/// no time, no key or no service (it links to nothing), and some channels are in neither list.
#[test]
fn gaps_equal_a_plain_reading_of_the_definition_on_random_contacts() {
    use chrono::{Datelike, NaiveDate};
    // A small linear congruential generator: the same contacts every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let channels = ["telephone", "face_to_face", "web", "webchat", "post"];
    let services = ["Housing", "Waste", "Council tax", "Parking"];
    let start = NaiveDate::from_ymd_opt(2024, 12, 1).unwrap_or_default();
    struct Row {
        phone: Option<i64>,
        email: Option<i64>,
        service: Option<&'static str>,
        channel: &'static str,
        day: i32,
        minute: Option<u32>,
    }
    let key = |n: u64| -> i64 {
        // Keys spread over the whole signed range, as keyed hashes are.
        (n as i64).wrapping_mul(0x5851_f42d_4c95_7f2d)
    };
    let rows: Vec<Row> = (0..1500)
        .map(|_| {
            let phone = (next(4) > 0).then(|| key(next(40)));
            let email = (next(3) == 0).then(|| key(next(30) + 1000));
            Row {
                phone,
                email,
                service: (next(12) > 0).then(|| services[next(4) as usize]),
                channel: channels[next(5) as usize],
                day: next(70) as i32,
                minute: (next(6) > 0).then(|| (8 * 60 + next(4) * 30) as u32),
            }
        })
        .collect();
    let date = |r: &Row| start + chrono::Duration::days(i64::from(r.day));
    let stamp = |r: &Row| {
        r.minute
            .and_then(|m| date(r).and_hms_opt(m / 60, m % 60, 0))
    };
    let df = df!(
        c::ORGANISATION => vec!["Council"; rows.len()],
        c::SOURCE => rows.iter().map(|r| r.channel).collect::<Vec<_>>(),
        c::FINANCIAL_YEAR => vec!["2024/25"; rows.len()],
        c::YEAR => rows.iter().map(|r| date(r).year()).collect::<Vec<_>>(),
        c::MONTH => rows.iter().map(|r| date(r).month() as i8).collect::<Vec<_>>(),
        c::SERVICE => rows.iter().map(|r| r.service).collect::<Vec<_>>(),
        c::CHANNEL => rows.iter().map(|r| r.channel).collect::<Vec<_>>(),
        c::CATEGORY => vec!["form"; rows.len()],
        c::DATE => rows.iter().map(date).collect::<Vec<_>>(),
        c::TIMESTAMP => rows.iter().map(stamp).collect::<Vec<_>>(),
        c::CONTACTS => vec![1u32; rows.len()],
        c::CUSTOMER_PHONE => rows.iter().map(|r| r.phone).collect::<Vec<_>>(),
        c::CUSTOMER_EMAIL => rows.iter().map(|r| r.email).collect::<Vec<_>>(),
        c::CUSTOMER_REFERENCE => vec![None::<i64>; rows.len()],
    );
    let df = match df {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    };
    let linked = match linked(df.lazy(), &ChannelConfig::default(), 100) {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    };
    // The reference, contact by contact.
    let order = |r: &Row, i: usize| (r.day, r.minute.map_or(0, |m| m + 1), i);
    let assisted = |r: &Row| matches!(r.channel, "telephone" | "face_to_face");
    let digital = |r: &Row| matches!(r.channel, "web" | "webchat");
    let through = |i: usize, kind: &dyn Fn(&Row) -> Option<i64>| -> [Option<i32>; 4] {
        let me = &rows[i];
        let (Some(k), Some(_)) = (kind(me), me.service) else {
            return [None; 4];
        };
        let mine = order(me, i);
        let same: Vec<usize> = (0..rows.len())
            .filter(|&j| j != i && kind(&rows[j]) == Some(k) && rows[j].service == me.service)
            .collect();
        let before = same
            .iter()
            .filter(|&&j| order(&rows[j], j) < mine)
            .max_by_key(|&&j| order(&rows[j], j));
        let after = |wanted: &dyn Fn(&Row) -> bool| {
            same.iter()
                .filter(|&&j| order(&rows[j], j) > mine && wanted(&rows[j]))
                .min_by_key(|&&j| order(&rows[j], j))
                .map(|&j| rows[j].day - me.day)
        };
        [
            before.map(|&j| me.day - rows[j].day),
            after(&|_| true),
            after(&assisted),
            after(&digital),
        ]
    };
    let fields = [PREV, NEXT, NEXT_ASSISTED, NEXT_DIGITAL];
    let mut checked = [0usize; 4];
    for (f, name) in fields.iter().enumerate() {
        let got = ints(&linked, name);
        assert_eq!(got.len(), rows.len(), "{name}: one value per contact");
        for (i, got) in got.into_iter().enumerate() {
            let want = match (
                through(i, &|r: &Row| r.phone)[f],
                through(i, &|r: &Row| r.email)[f],
            ) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            assert_eq!(got, want, "{name} of contact {i}");
            checked[f] += usize::from(want.is_some());
        }
    }
    // The contacts are dense enough that every kind of gap is found many times.
    assert!(checked.iter().all(|&n| n > 300), "{checked:?}");
}

#[test]
fn time_order_is_the_same_in_64_and_in_128_bits() {
    // Times with ties, nulls and a wide span (milliseconds, as the lake keeps them).
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let first = 1_700_000_000_000i64;
    let times: Vec<Option<i64>> = (0..5000)
        .map(|_| (next(8) > 0).then(|| first + next(400) as i64 * 3_600_000))
        .collect();
    let df = DataFrame::new_infer_height(vec![Column::new(c::TIMESTAMP.into(), &times)
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .unwrap_or_else(|e| panic!("{e}"))])
    .and_then(|df| df.with_row_index(ROW.into(), None))
    .unwrap_or_else(|e| panic!("{e}"));
    let least = times.iter().flatten().min().copied().unwrap_or(0);
    let most = times.iter().flatten().max().copied().unwrap_or(0);
    let layout = |time_bits: u32| Layout {
        first_day: 0,
        first_time: least,
        time_bits,
        place_bits: bits_for(times.len() as u128 - 1),
        service_bits: 1,
        rows: times.len(),
    };
    let narrow = layout(bits_for((most - least + 1) as u128));
    assert!(narrow.time_bits + narrow.place_bits <= 64);
    // Too many bits for 64: the 128-bit order.
    let wide = layout(64);
    let places = |l: &Layout| -> Vec<Option<IdxSize>> {
        l.time_places(&df)
            .unwrap_or_else(|e| panic!("{e}"))
            .idx()
            .map(|p| p.iter().collect())
            .unwrap_or_default()
    };
    // The reference: rows without a time first, then by time, then by row.
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| (times[i].map_or(i64::MIN, |t| t), i));
    let mut expected = vec![None; times.len()];
    for (place, row) in order.into_iter().enumerate() {
        expected[row] = Some(place as IdxSize);
    }
    assert_eq!(places(&narrow), expected);
    assert_eq!(places(&wide), expected);
}
