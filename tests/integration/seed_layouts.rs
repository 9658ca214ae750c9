//! The Cabinet report's channel-shift figures (DOMAIN.md, seed 002: 26,303 forms +6% met
//! against +5%; 138,419 calls -1.9% and 4,190 visits -1.6%, not met against -5%; 2,652 fewer
//! calls and 69 fewer visits in March 2024 than a year earlier) reproduced through `cex run`
//! from exports in a layout unlike sample_data: monthly counts, one semicolon-separated file per
//! month and channel, the month and channel only in the path, no reference column, no times.
//! The monthly split is made here; only the yearly totals and the March figures come from the
//! report.

use crate::util::{read_csv, strings, Workspace};

const PIPELINE: &str = r#"
name = "seed-counts"
organisation = "Example City Council"
lake = "lake"
output = "out"

[[sources]]
name = "monthly_counts"
kind = "contacts"
files = "counts/*/*.csv"
delimiter = ";"
path_fields = "{year}-{month}/{channel}.csv"
default_outcome = "submitted"

[sources.columns]
category = "Service area"
count = "Contacts"

[sources.channels]
web = ["online forms"]
telephone = ["contact centre"]
face_to_face = ["customer service centre"]

[sources.service.values]
Housing = ["Housing"]
"Revenues & Benefits" = ["Revenues and Benefits"]

[[kpi.channel_shift]]
name = "forms"
channel = "web"
outcomes = ["submitted"]
services = ["Housing", "Revenues & Benefits"]
baseline = "2022/23"
target_change_pct = 5
direction = "increase"
applies_to = ["2023/24"]

[[kpi.channel_shift]]
name = "calls"
channel = "telephone"
services = ["Housing", "Revenues & Benefits"]
baseline = "2022/23"
target_change_pct = -5
direction = "reduction"
applies_to = ["2023/24"]

[[kpi.channel_shift]]
name = "visits"
channel = "face_to_face"
services = ["Housing", "Revenues & Benefits"]
baseline = "2022/23"
target_change_pct = -5
direction = "reduction"
applies_to = ["2023/24"]
"#;

/// A year's total over its 12 months (April first), evenly; then March set to `march` (when
/// given) and the difference taken from April, so the year's total is unchanged.
fn months(total: i64, march: Option<i64>) -> Vec<i64> {
    let mut m: Vec<i64> = (0..12)
        .map(|i| total / 12 + i64::from(i < total % 12))
        .collect();
    if let Some(march) = march {
        m[0] += m[11] - march;
        m[11] = march;
    }
    assert_eq!(m.iter().sum::<i64>(), total);
    m
}

#[test]
fn the_cabinet_reports_channel_shift_figures_from_monthly_count_files() {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    // (file name's channel, baseline 2022/23 total, current 2023/24 total, March 2024 fewer by)
    let channels = [
        ("online forms", 26_303i64, 27_881i64, None),
        ("contact centre", 138_419, 135_789, Some(2_652i64)),
        ("customer service centre", 4_190, 4_123, Some(69)),
    ];
    for (channel, baseline, current, fewer) in channels {
        let before = months(baseline, None);
        let after = months(current, fewer.map(|f| before[11] - f));
        for (fy_start, monthly) in [(2022, &before), (2023, &after)] {
            for (i, n) in monthly.iter().enumerate() {
                let (year, month) = if i < 9 {
                    (fy_start, i + 4)
                } else {
                    (fy_start + 1, i - 8)
                };
                // Housing about 60%, the rest Revenues and Benefits.
                let housing = n * 3 / 5;
                ws.write(
                    &format!("counts/{year}-{month:02}/{channel}.csv"),
                    format!(
                        "Service area;Contacts\nHousing;{housing}\nRevenues and Benefits;{}\n",
                        n - housing
                    ),
                );
            }
        }
    }
    ws.cex(&["run", "p.toml", "--as-of", "2024-04-15"])
        .assert_code(0);
    let shift = read_csv(&ws.path().join("out/2024-03/channel_shift.csv"));
    let text = |c: &str| strings(&shift, c);
    let number = |c: &str| -> Vec<f64> {
        shift
            .column(c)
            .and_then(|s| s.cast(&polars::prelude::DataType::Float64))
            .map(|s| {
                s.f64()
                    .map(|f| f.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let kpis = text("kpi");
    let at = |name: &str| {
        kpis.iter()
            .position(|k| k.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("KPI {name} not published: {kpis:?}"))
    };
    let (baseline, current, change_pct, month_change) = (
        number("baseline"),
        number("current"),
        number("change_pct"),
        number("month_change"),
    );
    let status = text("status");
    for (name, b, c, pct, met) in [
        ("forms", 26_303.0, 27_881.0, 6.0, "met"),
        ("calls", 138_419.0, 135_789.0, -1.9, "not met"),
        ("visits", 4_190.0, 4_123.0, -1.6, "not met"),
    ] {
        let i = at(name);
        assert_eq!((baseline[i], current[i]), (b, c), "{name}");
        assert!(
            (change_pct[i] - pct).abs() < 0.05,
            "{name}: {} rounds to {pct}",
            change_pct[i]
        );
        assert_eq!(status[i].as_deref(), Some(met), "{name}");
    }
    // March 2024 against March 2023.
    assert_eq!(month_change[at("calls")], -2_652.0);
    assert_eq!(month_change[at("visits")], -69.0);
}

/// A survey export unlike the sample's: semicolon-separated, a date without a time, no reference
/// column, the rating as a code (3 good, 2 average, 1 poor), age bands as codes 1-8.
const SURVEY_PIPELINE: &str = r#"
name = "seed-survey"
organisation = "Example City Council"
lake = "lake"
output = "out"

[scales.codes]
levels = [
  { label = "Good", values = ["3"], score = 1, sentiment = "positive" },
  { label = "Average", values = ["2"], score = 0, sentiment = "neutral" },
  { label = "Poor", values = ["1"], score = -1, sentiment = "negative" },
]

[demographics.age_band]
label = "Age band"
categories = ["15-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+"]
synonyms = { "15-24" = ["1"], "25-34" = ["2"], "35-44" = ["3"], "45-54" = ["4"], "55-64" = ["5"], "65-74" = ["6"], "75-84" = ["7"], "85+" = ["8"] }

[[sources]]
name = "survey"
kind = "satisfaction"
files = "survey/*.csv"
delimiter = ";"
date_formats = ["%d.%m.%Y"]
rating_scale = "codes"

[sources.columns]
date = "Datum"
channel = "Weg"
category = "Bereich"
rating = "Note"

[sources.channels]
telephone = ["Telefon"]
face_to_face = ["Vor Ort"]
webchat = ["Chat"]
web = ["Internet"]
email = ["E-Mail"]

[sources.service.values]
"Council Tax" = ["Council Tax"]
Registrars = ["Registrars"]
Unspecified = ["Unspecified"]
Libraries = ["Libraries"]
Parking = ["Parking"]
Planning = ["Planning"]
"Education and Children" = ["Education and Children"]
"Adult Social Care" = ["Adult Social Care"]
"Roads and Transport" = ["Roads and Transport"]
Other = ["Other"]

[sources.demographics]
age_band = "Alter"

[equality]
breakdowns = [["age_band"]]
"#;

/// One response per line: (day, channel, service, rating code, age code or blank).
fn survey_line(out: &mut String, day: &str, channel: &str, service: &str, code: u8, age: &str) {
    out.push_str(&format!("{day};{channel};{service};{code};{age}\n"));
}

/// The Cabinet report's satisfaction scores (DOMAIN.md, seed 002 paragraph 18: (Good + Average -
/// Poor) / N) and seed 004's dissatisfaction-by-age table, through `cex run` and `cex equality`
/// from one survey export. Responses per channel and year are chosen so the published score rounds
/// to the report's figure; seed 004's respondents answer by e-mail in 2023/24.
#[test]
fn the_satisfaction_seeds_and_seed_004_from_a_survey_export() {
    let ws = Workspace::new();
    ws.write("p.toml", SURVEY_PIPELINE);
    let mut csv = String::from("Datum;Weg;Bereich;Note;Alter\n");
    // (channel, 2022/23: responses, poor; 2023/24: responses, poor), from the report's scores.
    // No count is from 1 to 9, so disclosure control hides none of them.
    let channels = [
        ("Telefon", (500, 46), (1000, 83)),
        ("Vor Ort", (1000, 14), (1000, 13)),
        ("Chat", (20, 0), (1800, 10)),
        ("Internet", (380, 110), (500, 113)),
    ];
    for (channel, before, after) in channels {
        for (day, (n, poor)) in [("15.10.2022", before), ("15.10.2023", after)] {
            for i in 0..n {
                // A tenth of the rest Average (at least 10), the others Good.
                let code = if i < poor {
                    1
                } else if i < poor + ((n - poor) / 10).max(10) {
                    2
                } else {
                    3
                };
                survey_line(&mut csv, day, channel, "Council Tax", code, "");
            }
        }
    }
    // Seed 004: (age code, cohort, dissatisfied by service area); see `equality::breakdown`'s
    // unit test for how the 85+ cohort of 6 is read from the seed.
    type Cohort<'a> = (&'a str, usize, &'a [(&'a str, usize)]);
    let seed_004: [Cohort; 8] = [
        ("1", 4, &[("Registrars", 1), ("Unspecified", 1)]),
        (
            "2",
            13,
            &[("Libraries", 1), ("Parking", 1), ("Planning", 1)],
        ),
        (
            "3",
            29,
            &[
                ("Education and Children", 13),
                ("Libraries", 1),
                ("Parking", 1),
                ("Planning", 1),
            ],
        ),
        (
            "4",
            48,
            &[
                ("Education and Children", 11),
                ("Adult Social Care", 6),
                ("Roads and Transport", 5),
                ("Libraries", 2),
                ("Parking", 2),
            ],
        ),
        (
            "5",
            56,
            &[
                ("Other", 8),
                ("Adult Social Care", 7),
                ("Roads and Transport", 7),
                ("Libraries", 4),
                ("Parking", 4),
            ],
        ),
        (
            "6",
            66,
            &[("Roads and Transport", 8), ("Other", 6), ("Libraries", 5)],
        ),
        (
            "7",
            24,
            &[("Libraries", 2), ("Parking", 2), ("Planning", 1)],
        ),
        ("8", 6, &[("Other", 3), ("Roads and Transport", 1)]),
    ];
    for (age, cohort, unhappy) in seed_004 {
        let mut written = 0;
        for (service, n) in unhappy {
            for _ in 0..*n {
                survey_line(&mut csv, "20.11.2023", "E-Mail", service, 1, age);
                written += 1;
            }
        }
        for _ in written..cohort {
            survey_line(&mut csv, "20.11.2023", "E-Mail", "Council Tax", 3, age);
        }
    }
    ws.write("survey/responses.csv", csv);

    for (fy, folder, expected) in [
        ("2022/23", "fy2022-23", [81.6, 97.2, 100.0, 42.1]),
        ("2023/24", "fy2023-24", [83.4, 97.4, 98.9, 54.8]),
    ] {
        ws.cex(&["run", "p.toml", "--fy", fy, "--skip", "charts,report"])
            .assert_code(0);
        let table = read_csv(
            &ws.path()
                .join(format!("out/{folder}/satisfaction_by_channel.csv")),
        );
        let channels = strings(&table, "channel");
        let scores = strings(&table, "council_score_pct");
        for (channel, want) in ["telephone", "face_to_face", "webchat", "web"]
            .iter()
            .zip(expected)
        {
            let i = channels
                .iter()
                .position(|c| c.as_deref() == Some(channel))
                .unwrap_or_else(|| panic!("{fy}: no {channel} row: {channels:?}"));
            let got: f64 = scores[i]
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN);
            assert!(
                (got - want).abs() < 0.05,
                "{fy} {channel}: council score {got} does not round to {want}"
            );
        }
    }

    // Seed 004, as the analyst sees it (small cohorts shown, in the restricted folder).
    ws.cex(&[
        "equality",
        "p.toml",
        "--fy",
        "2023/24",
        "--by",
        "age_band",
        "--channel",
        "email",
        "--unsuppressed",
    ])
    .assert_code(0);
    let restricted = ws.path().join("out/restricted/equality");
    let folder = std::fs::read_dir(&restricted)
        .expect("restricted equality folder")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.to_string_lossy();
            name.contains("fy2023-24-by-age_band") && name.ends_with("NOT-FOR-PUBLICATION")
        })
        .unwrap_or_else(|| panic!("no unsuppressed breakdown in {}", restricted.display()));
    let table = read_csv(&folder.join("equality_age_band.csv"));
    let bands = strings(&table, "age_band");
    let rows: Vec<usize> = [
        "15-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+",
    ]
    .iter()
    .map(|b| {
        bands
            .iter()
            .position(|x| x.as_deref() == Some(b))
            .unwrap_or_else(|| panic!("no {b} row: {bands:?}"))
    })
    .collect();
    let column = |name: &str| -> Vec<f64> {
        let values = strings(&table, name);
        rows.iter()
            .map(|&i| {
                values[i]
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .collect()
    };
    assert_eq!(
        column("responses"),
        [4.0, 13.0, 29.0, 48.0, 56.0, 66.0, 24.0, 6.0]
    );
    let pct: Vec<i64> = column("dissatisfied_pct")
        .iter()
        .map(|v| v.round() as i64)
        .collect();
    assert_eq!(pct, [50, 23, 55, 54, 54, 29, 21, 67]);
    let dominant = strings(&table, "dominant_service");
    let counts = column("dominant_service_count");
    assert_eq!(dominant[rows[2]].as_deref(), Some("Education and Children"));
    assert_eq!(counts[2], 13.0);
    assert_eq!(dominant[rows[4]].as_deref(), Some("Other"));
    assert_eq!(counts[4], 8.0);
    assert_eq!(dominant[rows[5]].as_deref(), Some("Roads and Transport"));
    assert_eq!(counts[5], 8.0);
}
