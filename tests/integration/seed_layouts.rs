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
