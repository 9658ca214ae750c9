//! Survey answers dated only by a quarter or a year (issue 15 item 7): a resident survey run
//! once a year has no date column, and a quarterly survey export names its quarter. Neither may
//! be given an invented month: no table by month counts them, and a financial year's
//! satisfaction and equality tables count them only when their quarter or year lies wholly
//! inside the months reported. Each source rates on its own part of the scale (the monthly
//! survey Good, the quarterly Poor, the yearly Average), so every count below tells where the
//! answers went; one small quarter is Good, and the disclosure control must keep it from being
//! worked out by subtracting the months from the year. Every expected figure is counted here
//! from the rows written.

use std::collections::BTreeMap;

use crate::util::{read_csv, strings, u64s, Workspace};

const PIPELINE: &str = r#"
name = "survey-dates"
organisation = "Example Shire"
lake = "lake"
output = "out"

[quality]
fail_reject_share = 0.5

[scales.gap]
levels = [
  { label = "Good", score = 1, sentiment = "positive" },
  { label = "Average", score = 0, sentiment = "neutral" },
  { label = "Poor", score = -1, sentiment = "negative" },
]

[demographics.age_band]
categories = ["16-34", "35+"]

[equality]
breakdowns = [["age_band"]]

[[sources]]
name = "monthly"
kind = "satisfaction"
files = "surveys/monthly.csv"
rating_scale = "gap"
date_formats = ["%Y-%m-%d"]

[sources.columns]
record_id = "Id"
date = "Submitted"
channel = "Channel"
rating = "Rating"

[sources.channels]
telephone = ["Phone"]
web = ["Online"]

[sources.service]
fixed = "Council services"

[sources.demographics]
age_band = "Age"

[[sources]]
name = "quarterly"
kind = "satisfaction"
files = "surveys/quarterly.csv"
rating_scale = "gap"
date_granularity = "quarter"
channel = "web"

[sources.columns]
record_id = "Id"
date = "Quarter"
rating = "Rating"

[sources.service]
fixed = "Council services"

[sources.demographics]
age_band = "Age"

[[sources]]
name = "resident_survey"
kind = "satisfaction"
files = "surveys/resident_2023-24.csv"
rating_scale = "gap"
period = "2023/24"
channel = "telephone"

[sources.columns]
record_id = "Id"
rating = "Rating"

[sources.service]
fixed = "Council services"

[sources.demographics]
age_band = "Age"

[[sources]]
name = "calendar_survey"
kind = "satisfaction"
files = "surveys/resident_2023.csv"
rating_scale = "gap"
period = "2023"
date_granularity = "year"
channel = "telephone"

[sources.columns]
record_id = "Id"
rating = "Rating"

[sources.service]
fixed = "Council services"

[sources.demographics]
age_band = "Age"
"#;

/// Answers per month and channel, March 2023 to March 2024: (year, month) -> (phone, online).
fn monthly() -> BTreeMap<(i32, u32), (u32, u32)> {
    (0..13u32)
        .map(|i| {
            let (year, month) = (2023 + ((2 + i) / 12) as i32, (2 + i) % 12 + 1);
            ((year, month), (20 + (i * 7) % 13, 22 + (i * 5) % 11))
        })
        .collect()
}

/// The quarterly export: (label, first month in an April calendar, answers); the last is not a
/// quarter.
const QUARTERS: [(&str, (i32, u32), u32); 5] = [
    ("2022/23 Q4", (2023, 1), 15), // January to March 2023: the year before
    ("2023/24 Q1", (2023, 4), 4),  // April to June 2023: a handful
    ("Q3 2023", (2023, 7), 30),    // July to September 2023
    ("2024 Q1", (2024, 1), 25),    // January to March 2024
    ("2023 Q7", (0, 0), 1),        // no such quarter
];

/// The year-dated surveys' answers: the financial year 2023/24, and the calendar year 2023
/// (which straddles two April years, so no April year counts it).
const FINANCIAL_YEAR: u32 = 50;
const CALENDAR_YEAR: u32 = 35;

fn age(i: u32) -> &'static str {
    if i.is_multiple_of(2) {
        "16-34"
    } else {
        "35+"
    }
}

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    let mut id = 0;
    let mut next = || {
        id += 1;
        id
    };
    let mut monthly_csv = String::from("Id,Submitted,Channel,Rating,Age\n");
    for ((year, month), (phone, online)) in monthly() {
        for (channel, n) in [("Phone", phone), ("Online", online)] {
            for k in 0..n {
                monthly_csv.push_str(&format!(
                    "M{},{year}-{month:02}-{:02},{channel},Good,{}\n",
                    next(),
                    1 + k % 28,
                    age(k)
                ));
            }
        }
    }
    ws.write("surveys/monthly.csv", monthly_csv);
    let mut quarterly = String::from("Id,Quarter,Rating,Age\n");
    for (label, _, n) in QUARTERS {
        // The handful of April to June are Good, like the monthly answers: only subtraction
        // could tell them apart.
        let rating = if label == "2023/24 Q1" {
            "Good"
        } else {
            "Poor"
        };
        for k in 0..n {
            quarterly.push_str(&format!("Q{},{label},{rating},{}\n", next(), age(k)));
        }
    }
    ws.write("surveys/quarterly.csv", quarterly);
    for (file, n) in [
        ("surveys/resident_2023-24.csv", FINANCIAL_YEAR),
        ("surveys/resident_2023.csv", CALENDAR_YEAR),
    ] {
        let mut csv = String::from("Id,Rating,Age\n");
        for k in 0..n {
            csv.push_str(&format!("R{},Average,{}\n", next(), age(k)));
        }
        ws.write(file, csv);
    }
    ws
}

/// Monthly answers (phone, online) from `first` to `last`, both included.
fn answered(first: (i32, u32), last: (i32, u32)) -> (u64, u64) {
    monthly()
        .range(first..=last)
        .fold((0, 0), |(p, o), (_, (a, b))| {
            (p + u64::from(*a), o + u64::from(*b))
        })
}

/// The quarterly answers whose quarter lies wholly from `first` to `last`.
fn quarters(first: (i32, u32), last: (i32, u32)) -> u64 {
    let index = |(y, m): (i32, u32)| y * 12 + m as i32 - 1;
    QUARTERS
        .iter()
        .filter(|(_, start, _)| start.0 > 0)
        .filter(|(_, start, _)| index(*start) >= index(first) && index(*start) + 2 <= index(last))
        .map(|(_, _, n)| u64::from(*n))
        .sum()
}

/// A table's rows as (key column value) -> (column -> number).
fn rows(path: &std::path::Path, key: &str) -> BTreeMap<String, BTreeMap<String, u64>> {
    let df = read_csv(path);
    let keys = strings(&df, key);
    let mut out = BTreeMap::new();
    for column in ["responses", "positive", "neutral", "negative"] {
        for (i, n) in u64s(&df, column).into_iter().enumerate() {
            let k = keys[i].clone().unwrap_or_default();
            out.entry(k)
                .or_insert_with(BTreeMap::new)
                .insert(column.to_string(), n);
        }
    }
    out
}

#[test]
fn survey_answers_dated_by_a_quarter_or_a_year_are_in_no_month_and_in_the_years_holding_them() {
    let ws = workspace();
    let run = ws.cex(&["run", "p.toml", "--fy", "2023/24"]);
    run.assert_code(0);

    // Every answer accounted for: the impossible quarter rejected, nothing else.
    let manifest = ws.manifest();
    let total: u64 = u64s(&manifest, "rows_read").iter().sum();
    let accepted: u64 = u64s(&manifest, "accepted").iter().sum();
    let rejected: u64 = u64s(&manifest, "rejected").iter().sum();
    let written = answered((2023, 3), (2024, 3));
    let quarterly: u64 = QUARTERS.iter().map(|q| u64::from(q.2)).sum();
    assert_eq!(
        total,
        written.0 + written.1 + quarterly + u64::from(FINANCIAL_YEAR + CALENDAR_YEAR)
    );
    assert_eq!((rejected, accepted), (1, total - 1));

    // The lake keeps the first day of each period and says it is a quarter or a year.
    let lake = ws.lake_table("responses");
    let (sources, dates, grains) = (
        strings(&lake, "source"),
        strings(&lake, "date"),
        strings(&lake, "date_granularity"),
    );
    let mut coarse: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for i in 0..lake.height() {
        match (sources[i].as_deref(), grains[i].as_deref()) {
            (Some("monthly"), None) => {}
            (Some(source), Some(grain)) => {
                *coarse
                    .entry((
                        source.to_string(),
                        dates[i].clone().unwrap_or_default(),
                        grain.to_string(),
                    ))
                    .or_insert(0) += 1;
            }
            other => panic!("row {i}: {other:?}"),
        }
    }
    let mut expected: BTreeMap<(String, String, String), u64> = QUARTERS
        .iter()
        .filter(|q| q.1 .0 > 0)
        .map(|(_, (y, m), n)| {
            (
                (
                    "quarterly".into(),
                    format!("{y}-{m:02}-01"),
                    "quarter".into(),
                ),
                u64::from(*n),
            )
        })
        .collect();
    expected.insert(
        ("resident_survey".into(), "2023-04-01".into(), "year".into()),
        u64::from(FINANCIAL_YEAR),
    );
    expected.insert(
        ("calendar_survey".into(), "2023-01-01".into(), "year".into()),
        u64::from(CALENDAR_YEAR),
    );
    assert_eq!(coarse, expected);

    // The table by month counts the monthly survey only: every answer Good, month by month.
    let out = ws.path().join("out/fy2023-24");
    let df = read_csv(&out.join("satisfaction_monthly.csv"));
    let (years, months, channels) = (
        strings(&df, "year"),
        strings(&df, "month"),
        strings(&df, "channel"),
    );
    let number = |column: &str| -> Vec<Option<u64>> {
        strings(&df, column)
            .into_iter()
            .map(|v| v.and_then(|v| v.parse().ok()))
            .collect()
    };
    let (n, positive, negative) = (number("responses"), number("positive"), number("negative"));
    let (mut seen, mut blank) = (0, 0);
    for i in 0..df.height() {
        let y: i32 = years[i]
            .as_deref()
            .and_then(|v| v.parse().ok())
            .expect("year");
        let m: u32 = months[i]
            .as_deref()
            .and_then(|v| v.parse().ok())
            .expect("month");
        let (phone, online) = monthly()[&(y, m)];
        let want = match channels[i].as_deref() {
            Some("telephone") => phone,
            Some("web") => online,
            other => panic!("channel {other:?}"),
        };
        // A count may be blank (see below), never different; no month holds a Poor answer.
        for count in [n[i], positive[i]] {
            match count {
                Some(count) => assert_eq!(count, u64::from(want), "{y}-{m}"),
                None => blank += 1,
            }
        }
        assert_eq!(negative[i], Some(0), "{y}-{m}");
        seen += 1;
    }
    assert_eq!(seen, 24, "twelve months, two channels");
    // The year's web answers hold 4 Good ones dated by April to June: the months short of the
    // year by 4 positive answers. So some month's web count is blank, and no subtraction gives
    // back a small count.
    assert!(blank > 0, "4 = year - months would be printed");
    let rests = rests_by_subtraction(&out);
    assert!(
        rests.iter().all(|(_, rest)| *rest == 0 || *rest >= 10),
        "a small count comes back: {rests:?}"
    );

    // The year counts the quarters wholly inside it and the year that is exactly it.
    let year = ((2023, 4), (2024, 3));
    let (phone, online) = answered(year.0, year.1);
    let inside = quarters(year.0, year.1);
    assert_eq!(inside, 4 + 30 + 25);
    let by_channel = rows(&out.join("satisfaction_by_channel.csv"), "channel");
    let expect = |responses, positive, neutral, negative| {
        BTreeMap::from([
            ("responses".to_string(), responses),
            ("positive".to_string(), positive),
            ("neutral".to_string(), neutral),
            ("negative".to_string(), negative),
        ])
    };
    let fy_answers = u64::from(FINANCIAL_YEAR);
    assert_eq!(
        by_channel["telephone"],
        expect(phone + fy_answers, phone, fy_answers, 0)
    );
    assert_eq!(
        by_channel["web"],
        expect(online + inside, online + 4, 0, inside - 4)
    );

    // The equality tables count the same answers.
    let by_age = read_csv(&out.join("equality/equality_age_band.csv"));
    let (groups, n) = (strings(&by_age, "age_band"), u64s(&by_age, "responses"));
    let everyone = groups
        .iter()
        .position(|g| g.as_deref() == Some("All respondents"))
        .unwrap_or_else(|| panic!("{groups:?}"));
    assert_eq!(n[everyone], phone + online + inside + fy_answers);

    // Said in the run's warnings, with the answers left out.
    for said in [
        "59 survey answers from source 'quarterly' are dated only by a quarter: in no monthly table; 59 counted in 2023/24's satisfaction and equality tables",
        "50 survey answers from source 'resident_survey' are dated only by a year: in no monthly table; 50 counted in 2023/24's",
        "35 survey answers from source 'calendar_survey' are dated only by a year: in no monthly table; 0 counted in 2023/24's satisfaction and equality tables, 35 left out of them (their year is not wholly inside 2023/24)",
    ] {
        assert!(run.stderr.contains(said), "{said}: {}", run.stderr);
    }

    // Year to date (April to November 2023): the quarters wholly passed, no year. Compared as
    // a first publication (beside the year's, protection would hide November's small
    // differences from it, as it should; the disclosure tests check that).
    let _ = std::fs::remove_dir_all(ws.path().join("out/restricted/releases"));
    let ytd = ws.cex(&["kpi", "p.toml", "--period", "2023-11"]);
    ytd.assert_code(0);
    let by_channel = rows(
        &ws.path().join("out/2023-11/satisfaction_by_channel.csv"),
        "channel",
    );
    let (phone, online) = answered((2023, 4), (2023, 11));
    assert_eq!(by_channel["telephone"], expect(phone, phone, 0, 0));
    assert_eq!(by_channel["web"], expect(online + 34, online + 4, 0, 30));
    assert!(
        ytd.stderr.contains("34 survey answers from source 'quarterly' are dated only by a quarter: in no monthly table; 34 counted in 2023/24 to date's"),
        "{}",
        ytd.stderr
    );

    // April to June: the year to date holds one quarter of 4 answers beside its months. Anyone
    // can subtract the months from the year: the 4 must not come back that way.
    ws.cex(&["kpi", "p.toml", "--period", "2023-06"])
        .assert_code(0);
    let folder = ws.path().join("out/2023-06");
    let rests = rests_by_subtraction(&folder);
    assert!(
        rests.iter().all(|(_, rest)| *rest == 0 || *rest >= 10),
        "a small count comes back: {rests:?}"
    );
    assert!(
        !rests
            .iter()
            .any(|(what, _)| what.starts_with("web responses")),
        "web's year and months all printed: {rests:?}"
    );
}

/// What an attacker gets by subtracting a table by month from the year's table by channel,
/// wherever both print every count: (channel and column, year - sum of months).
fn rests_by_subtraction(folder: &std::path::Path) -> Vec<(String, i64)> {
    let year = read_csv(&folder.join("satisfaction_by_channel.csv"));
    let months = read_csv(&folder.join("satisfaction_monthly.csv"));
    let mut out = Vec::new();
    for column in ["responses", "positive", "neutral", "negative"] {
        let printed = |df: &polars::prelude::DataFrame| -> Vec<(String, Option<i64>)> {
            strings(df, "channel")
                .into_iter()
                .zip(strings(df, column))
                .map(|(ch, v)| (ch.unwrap_or_default(), v.and_then(|v| v.parse().ok())))
                .collect()
        };
        for (channel, total) in printed(&year) {
            let parts: Vec<Option<i64>> = printed(&months)
                .into_iter()
                .filter(|(ch, _)| *ch == channel)
                .map(|(_, v)| v)
                .collect();
            if let (Some(total), true) = (total, parts.iter().all(Option::is_some)) {
                let sum: i64 = parts.into_iter().flatten().sum();
                out.push((format!("{channel} {column}"), total - sum));
            }
        }
    }
    out
}

#[test]
fn a_survey_with_only_a_year_runs_for_that_year_and_says_to_name_it() {
    let ws = workspace();
    for file in ["surveys/monthly.csv", "surveys/quarterly.csv"] {
        std::fs::remove_file(ws.path().join(file)).expect("remove");
    }
    let pipeline = PIPELINE
        .split("[[sources]]")
        .enumerate()
        .filter(|(i, _)| *i != 1 && *i != 2)
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join("[[sources]]");
    ws.write("p.toml", pipeline);
    // No month holds an answer: no period can be guessed.
    let guessed = ws.cex(&["run", "p.toml"]);
    assert_ne!(guessed.code, 0, "{}", guessed.stderr);
    assert!(
        guessed
            .stderr
            .contains("give --fy for rows dated only by a quarter or a year"),
        "{}",
        guessed.stderr
    );
    // The year named: its answers are the whole publication.
    ws.cex(&["run", "p.toml", "--fy", "2023/24", "--skip", "ingest"])
        .assert_code(0);
    let by_channel = rows(
        &ws.path().join("out/fy2023-24/satisfaction_by_channel.csv"),
        "channel",
    );
    let n = u64::from(FINANCIAL_YEAR);
    assert_eq!(by_channel["telephone"]["responses"], n);
    assert_eq!(by_channel["telephone"]["neutral"], n);
    // A year that holds none of them is still "no data".
    let empty = ws.cex(&["run", "p.toml", "--fy", "2024/25", "--skip", "ingest"]);
    empty.assert_code(3);
}

#[test]
fn a_period_that_is_no_label_or_beside_a_date_column_is_refused_at_its_key() {
    let ws = workspace();
    for (from, to, said) in [
        (
            "period = \"2023/24\"",
            "period = \"summer 2023\"",
            "sources[2] (resident_survey).period: 'summer 2023' is not a quarter",
        ),
        (
            "period = \"2023/24\"",
            "period = \"2023/24\"\nmonth = \"2023-06\"",
            "sources[2] (resident_survey).period: give `month` or `period`, not both",
        ),
        (
            "period = \"2023/24\"",
            "period = \"2023/24\"\ndate_granularity = \"quarter\"",
            "sources[2] (resident_survey).date_granularity: period dates the rows by year",
        ),
        (
            "record_id = \"Id\"\nrating = \"Rating\"\n\n[sources.service]",
            "record_id = \"Id\"\nrating = \"Rating\"\ndate = \"Id\"\n\n[sources.service]",
            "sources[2] (resident_survey).period: the rows are dated by a column",
        ),
    ] {
        assert!(PIPELINE.contains(from), "{from}");
        ws.write("p.toml", PIPELINE.replacen(from, to, 1));
        let out = ws.cex(&["validate", "p.toml"]);
        out.assert_code(2);
        assert!(out.stderr.contains(said), "{said}: {}", out.stderr);
    }
}

#[test]
fn a_survey_with_no_date_is_told_how_to_say_when() {
    let ws = workspace();
    ws.write("p.toml", PIPELINE.replacen("period = \"2023/24\"\n", "", 1));
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "sources[2] (resident_survey).columns: map either `timestamp` or `date` (and optionally `time`); an export with no date says when its rows are with `month = \"2024-03\"`, `period = \"2023/24\"`"
        ),
        "{}",
        out.stderr
    );
}
