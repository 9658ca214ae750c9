//! A financial year that does not start in April (issue 15, item 7): a council whose year runs
//! July to June, and one whose year is the calendar year, from one case export of calls and web
//! forms dated day by day (July 2022 to June 2024). Every expected figure is counted here from
//! the rows written, month by month, never by cex's code. The financial year is worked out when
//! figures are computed: the same lake, ingested once, answers for either calendar.

use std::collections::BTreeMap;

use crate::util::{read_csv, strings, Workspace};

fn pipeline(start: &str, baseline: &str, applies_to: &str) -> String {
    format!(
        r#"
name = "calendar-{start}"
organisation = "Example Shire"
lake = "lake"
output = "out-{start}"
financial_year_start = "{start}"

[[sources]]
name = "cases"
kind = "contacts"
files = "exports/cases.csv"
default_outcome = "submitted"
timestamp_formats = ["%Y-%m-%d %H:%M:%S"]

[sources.columns]
record_id = "Case"
timestamp = "Opened"
channel = "Route"
category = "Topic"

[sources.channels]
telephone = ["Phone"]
web = ["Online"]

[sources.service.values]
Waste = ["Bins"]

[[kpi.channel_shift]]
name = "calls"
channel = "telephone"
baseline = "{baseline}"
target_change_pct = -5
direction = "reduction"
applies_to = ["{applies_to}"]
"#
    )
}

/// Calls and forms per month, July 2022 to June 2024: (year, month) -> (calls, forms). Counts
/// vary by month so that a wrong month boundary changes every total.
fn monthly() -> BTreeMap<(i32, u32), (u32, u32)> {
    let mut months = BTreeMap::new();
    for i in 0..24u32 {
        let (year, month) = (2022 + ((6 + i) / 12) as i32, (6 + i) % 12 + 1);
        months.insert((year, month), (20 + (i * 7) % 13, 5 + (i * 5) % 11));
    }
    months
}

fn export() -> String {
    let mut out = String::from("Case,Opened,Route,Topic\n");
    let mut case = 0;
    for ((year, month), (calls, forms)) in monthly() {
        for (route, n) in [("Phone", calls), ("Online", forms)] {
            for k in 0..n {
                case += 1;
                let day = 1 + (k * 3) % 28;
                out.push_str(&format!(
                    "C{case},{year}-{month:02}-{day:02} 09:{:02}:00,{route},Bins\n",
                    k % 60
                ));
            }
        }
    }
    out
}

/// Calls over the months from `first` to `last` (both included), counted from `monthly()`.
fn calls(first: (i32, u32), last: (i32, u32)) -> f64 {
    monthly()
        .range(first..=last)
        .map(|(_, (calls, _))| f64::from(*calls))
        .sum()
}

fn shift_row(ws: &Workspace, folder: &str) -> BTreeMap<String, String> {
    let df = read_csv(&ws.path().join(folder).join("channel_shift.csv"));
    df.get_column_names()
        .iter()
        .map(|c| {
            let v = strings(&df, c.as_str())
                .first()
                .cloned()
                .flatten()
                .unwrap_or_default();
            (c.to_string(), v)
        })
        .collect()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row.get(column)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{column}: {row:?}"))
}

#[test]
fn a_year_from_july_to_june_compares_july_to_june() {
    let ws = Workspace::new();
    ws.write("exports/cases.csv", export());
    ws.write("july.toml", pipeline("July", "2022/23", "2023/24"));

    ws.cex(&["run", "july.toml", "--fy", "2023/24"])
        .assert_code(0);
    let row = shift_row(&ws, "out-July/fy2023-24");
    assert_eq!(number(&row, "baseline"), calls((2022, 7), (2023, 6)));
    assert_eq!(number(&row, "current"), calls((2023, 7), (2024, 6)));
    assert_eq!(row["current_period"], "2023/24");
    assert_eq!(row["status"], "not met", "{row:?}");

    // A month: the year to date from July, against the same months a year earlier.
    ws.cex(&["kpi", "july.toml", "--period", "2024-03"])
        .assert_code(0);
    let row = shift_row(&ws, "out-July/2024-03");
    assert_eq!(number(&row, "baseline"), calls((2022, 7), (2023, 3)));
    assert_eq!(number(&row, "current"), calls((2023, 7), (2024, 3)));
    assert_eq!(
        row["current_period"],
        "2023/24 to date (July 2023 to March 2024)"
    );

    // Every month of the trend carries its July-to-June year.
    let trend = read_csv(&ws.path().join("out-July/2024-03/channel_trend.csv"));
    let (years, months, labels) = (
        strings(&trend, "year"),
        strings(&trend, "month"),
        strings(&trend, "financial_year"),
    );
    for ((y, m), label) in years.iter().zip(&months).zip(&labels) {
        let (y, m): (i32, u32) = (
            y.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0),
            m.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0),
        );
        let start = if m >= 7 { y } else { y - 1 };
        let expected = format!("{start}/{:02}", (start + 1) % 100);
        assert_eq!(label.as_deref(), Some(expected.as_str()), "{y}-{m}");
    }
}

#[test]
fn the_same_lake_read_in_calendar_years_and_a_year_named_wrongly_is_refused() {
    let ws = Workspace::new();
    ws.write("exports/cases.csv", export());
    ws.write("july.toml", pipeline("July", "2022/23", "2023/24"));
    ws.cex(&["ingest", "july.toml"]).assert_code(0);

    // The lake was ingested under a July calendar; a January one reads it without new ingest.
    ws.write("january.toml", pipeline("January", "2022", "2023"));
    ws.cex(&["kpi", "january.toml", "--fy", "2023"])
        .assert_code(0);
    let row = shift_row(&ws, "out-January/fy2023");
    assert_eq!(number(&row, "current"), calls((2023, 1), (2023, 12)));
    // The data start in July 2022: the 2022 baseline lacks January to June, so it is not judged.
    assert_eq!(number(&row, "baseline"), calls((2022, 7), (2022, 12)));
    assert_eq!(row["status"], "incomplete", "{row:?}");
    assert!(
        row["missing_months"].contains("January 2022")
            && row["missing_months"].contains("June 2022"),
        "{row:?}"
    );

    // A year across two calendar years means nothing when the year starts in January.
    let wrong = ws.cex(&["kpi", "january.toml", "--fy", "2023/24"]);
    wrong.assert_code(2);
    assert!(
        wrong.stderr.contains("give YYYY, e.g. 2024"),
        "{}",
        wrong.stderr
    );
    // And a July year needs its two-year name.
    let wrong = ws.cex(&["kpi", "july.toml", "--fy", "2023"]);
    wrong.assert_code(2);
    assert!(wrong.stderr.contains("give YYYY/YY"), "{}", wrong.stderr);

    // A baseline named in the other calendar's way is a configuration error naming the key.
    ws.write("mixed.toml", pipeline("January", "2022/23", "2023"));
    let bad = ws.cex(&["kpi", "mixed.toml", "--fy", "2023"]);
    bad.assert_code(2);
    assert!(
        bad.stderr.contains("kpi.channel_shift[0] (calls).baseline"),
        "{}",
        bad.stderr
    );
    let bad_month = pipeline("Juli", "2022/23", "2023/24");
    ws.write("juli.toml", bad_month);
    let bad = ws.cex(&["kpi", "juli.toml"]);
    bad.assert_code(2);
    assert!(
        bad.stderr.contains("financial_year_start") && bad.stderr.contains("'Juli' is not a month"),
        "{}",
        bad.stderr
    );
}
