//! Dates with a declared granularity (issue 15 item 7): a quarterly return of calls and a
//! yearly return of web forms beside a case export dated day by day. No monthly figure may
//! contain the quarters or the years; a financial year counts exactly the quarters wholly inside
//! it and a year row only when it is exactly that year; a July calendar reading the same lake
//! changes which count; an impossible quarter is rejected with its file, row and reason. Every
//! expected figure is counted here from the rows written, never by cex's code.

use std::collections::BTreeMap;

use crate::util::{read_csv, strings, Workspace};

fn pipeline(start: &str) -> String {
    format!(
        r#"
name = "granularity-{start}"
organisation = "Example Shire"
lake = "lake"
output = "out-{start}"
financial_year_start = "{start}"

[quality]
fail_reject_share = 0.5

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

[[sources]]
name = "phone_returns"
kind = "contacts"
channel = "telephone"
files = "returns/phone_quarters.csv"
default_outcome = "submitted"
date_granularity = "quarter"

[sources.columns]
date = "Quarter"
category = "Topic"
count = "Calls"

[sources.service.values]
Waste = ["Bins"]

[[sources]]
name = "web_returns"
kind = "contacts"
channel = "web"
files = "returns/web_years.csv"
default_outcome = "submitted"
date_granularity = "year"

[sources.columns]
date = "Year"
category = "Topic"
count = "Forms"

[sources.service.values]
Waste = ["Bins"]

[[kpi.channel_shift]]
name = "calls"
channel = "telephone"
baseline = "2022/23"
target_change_pct = -5
direction = "reduction"

[[kpi.channel_shift]]
name = "forms"
channel = "web"
baseline = "2022/23"
target_change_pct = 5
direction = "increase"
"#
    )
}

/// Calls and forms per month, April 2022 to June 2024: (year, month) -> (calls, forms).
fn monthly() -> BTreeMap<(i32, u32), (u32, u32)> {
    let mut months = BTreeMap::new();
    for i in 0..27u32 {
        let (year, month) = (2022 + ((3 + i) / 12) as i32, (3 + i) % 12 + 1);
        months.insert((year, month), (20 + (i * 7) % 13, 5 + (i * 5) % 11));
    }
    months
}

fn cases() -> String {
    let mut out = String::from("Case,Opened,Route,Topic\n");
    let mut case = 0;
    for ((year, month), (calls, forms)) in monthly() {
        for (route, n) in [("Phone", calls), ("Online", forms)] {
            for k in 0..n {
                case += 1;
                let day = 1 + (k * 3) % 28;
                out.push_str(&format!(
                    "C{case},{year}-{month:02}-{day:02} 10:{:02}:00,{route},Bins\n",
                    k % 60
                ));
            }
        }
    }
    out
}

/// The quarterly return: (label as written, first month of the quarter when read in an April
/// calendar, calls). The sixth row is not a quarter.
const QUARTERS: [(&str, (i32, u32), u32); 6] = [
    ("2022/23 Q1", (2022, 4), 100), // April to June 2022
    ("2023 Q2", (2023, 4), 200),    // April to June 2023
    ("Q3 2023", (2023, 7), 300),    // July to September 2023
    ("2023-Q4", (2023, 10), 400),   // October to December 2023
    ("2023/24 Q4", (2024, 1), 500), // January to March 2024
    ("2024 Q5", (0, 0), 999),       // no such quarter
];

/// The yearly return: (label, first month in an April calendar, forms).
const YEARS: [(&str, (i32, u32), u32); 3] = [
    ("2022/23", (2022, 4), 1000), // April 2022 to March 2023
    ("2023/24", (2023, 4), 1100), // April 2023 to March 2024
    ("2023", (2023, 1), 1200),    // the calendar year 2023: straddles two April years
];

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("exports/cases.csv", cases());
    let mut quarters = String::from("Quarter,Topic,Calls\n");
    for (label, _, n) in QUARTERS {
        quarters.push_str(&format!("{label},Bins,{n}\n"));
    }
    ws.write("returns/phone_quarters.csv", quarters);
    let mut years = String::from("Year,Topic,Forms\n");
    for (label, _, n) in YEARS {
        years.push_str(&format!("{label},Bins,{n}\n"));
    }
    ws.write("returns/web_years.csv", years);
    ws.write("april.toml", pipeline("April"));
    ws.write("july.toml", pipeline("July"));
    ws
}

/// Daily calls (or forms) from `first` to `last`, both included.
fn daily(first: (i32, u32), last: (i32, u32), forms: bool) -> f64 {
    monthly()
        .range(first..=last)
        .map(|(_, (c, f))| f64::from(if forms { *f } else { *c }))
        .sum()
}

/// The quarterly calls whose quarter (first month, three months) lies from `first` to `last`.
fn quarters(first: (i32, u32), last: (i32, u32)) -> f64 {
    let index = |(y, m): (i32, u32)| y * 12 + m as i32 - 1;
    QUARTERS
        .iter()
        .filter(|(_, start, _)| start.0 > 0)
        .filter(|(_, start, _)| index(*start) >= index(first) && index(*start) + 2 <= index(last))
        .map(|(_, _, n)| f64::from(*n))
        .sum()
}

/// channel_shift.csv's rows, by KPI name.
fn shift(ws: &Workspace, folder: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let df = read_csv(&ws.path().join(folder).join("channel_shift.csv"));
    let kpis = strings(&df, "kpi");
    let mut rows = BTreeMap::new();
    for (i, kpi) in kpis.iter().enumerate() {
        let row: BTreeMap<String, String> = df
            .get_column_names()
            .iter()
            .map(|c| {
                let v = strings(&df, c.as_str())
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_default();
                (c.to_string(), v)
            })
            .collect();
        rows.insert(kpi.clone().unwrap_or_default(), row);
    }
    rows
}

fn number(rows: &BTreeMap<String, BTreeMap<String, String>>, kpi: &str, column: &str) -> f64 {
    rows.get(kpi)
        .and_then(|r| r.get(column))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{kpi}.{column}: {rows:?}"))
}

/// (year, month, channel) -> contacts, summed over a monthly table's rows.
fn by_month(path: &std::path::Path, value: &str) -> BTreeMap<(i32, u32, String), f64> {
    let df = read_csv(path);
    let (years, months, channels, values) = (
        strings(&df, "year"),
        strings(&df, "month"),
        strings(&df, "channel"),
        strings(&df, value),
    );
    let mut out = BTreeMap::new();
    for i in 0..df.height() {
        let parse = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<f64>().ok());
        let (Some(y), Some(m), Some(ch), Some(n)) = (
            parse(&years[i]),
            parse(&months[i]),
            channels[i].clone(),
            parse(&values[i]),
        ) else {
            panic!("row {i} of {}", path.display());
        };
        *out.entry((y as i32, m as u32, ch)).or_insert(0.0) += n;
    }
    out
}

#[test]
fn quarters_and_years_stay_out_of_monthly_figures_and_count_in_the_years_holding_them() {
    let ws = workspace();
    let run = ws.cex(&["run", "april.toml", "--fy", "2023/24"]);
    run.assert_code(0);

    // The impossible quarter is rejected with its file, row and reason; every row accounted for.
    let rejects: Vec<std::path::PathBuf> =
        std::fs::read_dir(ws.path().join("lake/rejects/phone_returns"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let text = std::fs::read_to_string(&rejects[0]).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let field = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| row.get(i).copied())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    assert_eq!(
        (
            field("cex_row"),
            field("cex_reason"),
            field("cex_column"),
            field("cex_value")
        ),
        ("7", "bad_quarter", "Quarter", "2024 Q5"),
        "{text}"
    );
    assert!(lines.next().is_none(), "one reject only: {text}");
    let manifest = ws.manifest();
    let paths = strings(&manifest, "path");
    let counts = |name: &str| strings(&manifest, name);
    let at = paths
        .iter()
        .position(|p| {
            p.as_deref()
                .is_some_and(|p| p.ends_with("phone_quarters.csv"))
        })
        .unwrap_or_else(|| panic!("{paths:?}"));
    let get = |name: &str| counts(name)[at].clone().unwrap_or_default();
    assert_eq!(
        (get("rows_read"), get("accepted"), get("rejected")),
        ("6".to_string(), "5".to_string(), "1".to_string())
    );

    // The lake says what is known: the first day of each period, and its granularity.
    let lake = ws.lake_table("contacts");
    let (sources, dates, grains) = (
        strings(&lake, "source"),
        strings(&lake, "date"),
        strings(&lake, "date_granularity"),
    );
    let mut coarse: Vec<(String, String, String)> = Vec::new();
    for i in 0..lake.height() {
        match sources[i].as_deref() {
            Some("cases") => assert_eq!(grains[i], None, "a day"),
            Some(s) => coarse.push((
                s.to_string(),
                dates[i].clone().unwrap_or_default(),
                grains[i].clone().unwrap_or_default(),
            )),
            None => panic!("no source"),
        }
    }
    coarse.sort();
    let mut expected: Vec<(String, String, String)> = QUARTERS
        .iter()
        .filter(|q| q.1 .0 > 0)
        .map(|(_, (y, m), _)| {
            (
                "phone_returns".into(),
                format!("{y}-{m:02}-01"),
                "quarter".into(),
            )
        })
        .chain(YEARS.iter().map(|(_, (y, m), _)| {
            (
                "web_returns".into(),
                format!("{y}-{m:02}-01"),
                "year".into(),
            )
        }))
        .collect();
    expected.sort();
    assert_eq!(coarse, expected);

    // Monthly tables hold the daily contacts only, month by month.
    let out = ws.path().join("out-April/fy2023-24");
    let volumes = by_month(&out.join("volumes.csv"), "contacts");
    let mut seen = 0;
    for ((y, m, channel), n) in &volumes {
        let (calls, forms) = monthly().get(&(*y, *m)).copied().unwrap_or_default();
        let want = match channel.as_str() {
            "telephone" => calls,
            "web" => forms,
            other => panic!("channel {other}"),
        };
        assert_eq!(*n, f64::from(want), "{y}-{m} {channel}");
        seen += 1;
    }
    assert_eq!(seen, 24, "twelve months, two channels: {volumes:?}");
    let trend = by_month(&out.join("channel_trend.csv"), "transactions");
    for ((y, m, channel), n) in &trend {
        let (calls, forms) = monthly().get(&(*y, *m)).copied().unwrap_or_default();
        let want = if channel == "telephone" { calls } else { forms };
        assert_eq!(*n, f64::from(want), "trend {y}-{m} {channel}");
    }

    // The year counts the quarters wholly inside it and the year rows that are exactly it.
    let rows = shift(&ws, "out-April/fy2023-24");
    let (this, last) = (((2023, 4), (2024, 3)), ((2022, 4), (2023, 3)));
    assert_eq!(
        number(&rows, "calls", "current"),
        daily(this.0, this.1, false) + quarters(this.0, this.1)
    );
    assert_eq!(quarters(this.0, this.1), 1400.0);
    assert_eq!(
        number(&rows, "calls", "baseline"),
        daily(last.0, last.1, false) + 100.0
    );
    assert_eq!(
        number(&rows, "forms", "current"),
        daily(this.0, this.1, true) + 1100.0
    );
    assert_eq!(
        number(&rows, "forms", "baseline"),
        daily(last.0, last.1, true) + 1000.0
    );
    // The month columns are March 2024 alone: no quarter.
    assert_eq!(
        number(&rows, "calls", "month_current"),
        daily((2024, 3), (2024, 3), false)
    );

    // Said in the run's warnings: what is dated coarsely, and the calendar year left out.
    for said in [
        "1500 contacts from source 'phone_returns' are dated only by quarter",
        "3300 contacts from source 'web_returns' are dated only by year",
        "1200 contacts from source 'web_returns' dated by a year that straddles 2023/24: left out of it",
        "1200 contacts from source 'web_returns' dated by a year that straddles 2022/23: left out of it",
    ] {
        assert!(run.stderr.contains(said), "{said}: {}", run.stderr);
    }

    // Year to date (April to November 2023): only the quarters wholly passed.
    let ytd = ws.cex(&["kpi", "april.toml", "--period", "2023-11"]);
    ytd.assert_code(0);
    let rows = shift(&ws, "out-April/2023-11");
    assert_eq!(
        number(&rows, "calls", "current"),
        daily((2023, 4), (2023, 11), false) + 200.0 + 300.0
    );
    assert_eq!(
        number(&rows, "calls", "baseline"),
        daily((2022, 4), (2022, 11), false) + 100.0
    );
    assert_eq!(
        number(&rows, "forms", "current"),
        daily((2023, 4), (2023, 11), true)
    );
    for said in [
        "2300 contacts from source 'web_returns' dated by a year that straddles 2023/24 to date (April 2023 to November 2023): left out of it",
        "400 contacts from source 'phone_returns' dated by a quarter that straddles 2023/24 to date (April 2023 to November 2023): left out of it",
        "1000 contacts from source 'web_returns' dated by a year that straddles 2022/23 to date (April 2022 to November 2022): left out of it",
    ] {
        assert!(ytd.stderr.contains(said), "{said}: {}", ytd.stderr);
    }
}

#[test]
fn a_july_year_reading_the_same_lake_counts_other_quarters_and_no_april_year() {
    let ws = workspace();
    ws.cex(&["ingest", "april.toml"]).assert_code(0);
    let kpi = ws.cex(&["kpi", "july.toml", "--fy", "2023/24"]);
    kpi.assert_code(0);
    let rows = shift(&ws, "out-July/fy2023-24");
    let (this, last) = (((2023, 7), (2024, 6)), ((2022, 7), (2023, 6)));
    // Stored as April read them: July to June 2023/24 holds Q3, Q4 2023 and Q1 2024; 2022/23
    // holds April to June 2023; April to June 2022 is in 2021/22.
    assert_eq!(quarters(this.0, this.1), 1200.0);
    assert_eq!(quarters(last.0, last.1), 200.0);
    assert_eq!(
        number(&rows, "calls", "current"),
        daily(this.0, this.1, false) + 1200.0
    );
    assert_eq!(
        number(&rows, "calls", "baseline"),
        daily(last.0, last.1, false) + 200.0
    );
    // No April year is a July year: every year row is left out, and said to be.
    assert_eq!(
        number(&rows, "forms", "current"),
        daily(this.0, this.1, true)
    );
    assert_eq!(
        number(&rows, "forms", "baseline"),
        daily(last.0, last.1, true)
    );
    for said in [
        "2300 contacts from source 'web_returns' dated by a year that straddles 2023/24: left out of it",
        "3300 contacts from source 'web_returns' dated by a year that straddles 2022/23: left out of it",
    ] {
        assert!(kpi.stderr.contains(said), "{said}: {}", kpi.stderr);
    }
}

#[test]
fn wrong_combinations_are_refused_naming_the_key_and_the_fix() {
    let ws = workspace();
    for (from, to, says) in [
        (
            "date_granularity = \"year\"",
            "date_granularity = \"fortnight\"",
            "sources[2] (web_returns).date_granularity: 'fortnight' is not day, month, quarter or year",
        ),
        (
            "date_granularity = \"quarter\"",
            "date_granularity = \"quarter\"\nmonth = \"2023-04\"",
            "sources[1] (phone_returns).date_granularity: `month` dates every row by a month",
        ),
        (
            "date_granularity = \"quarter\"",
            "path_fields = \"{year}.csv\"",
            "add date_granularity = \"year\"",
        ),
    ] {
        let text = pipeline("April").replacen(from, to, 1);
        ws.write("bad.toml", text);
        let out = ws.cex(&["--verbose", "validate", "bad.toml"]);
        out.assert_code(2);
        assert!(out.stderr.contains(says), "{says}: {}", out.stderr);
        assert!(out.stderr.contains("bad.toml"), "{}", out.stderr);
    }
}

/// Monthly counts whose date column names the month in the ways real returns do ("2024-03",
/// "March 2024", "Mar-24", or a date that stands for its month, the 15th or the last day), and
/// one label that is no month: each row counts in its month, stored at the month's first day as
/// a month, and the bad one is rejected naming its file, row and value.
#[test]
fn a_date_column_naming_months_dates_each_row_by_its_month() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        r#"
name = "months"
organisation = "Example Shire"
lake = "lake"
output = "out"

[quality]
fail_reject_share = 0.5

[[sources]]
name = "returns"
kind = "contacts"
channel = "telephone"
files = "returns.csv"
default_outcome = "answered"
date_granularity = "month"
date_formats = ["%d/%m/%Y"]

[sources.columns]
date = "Period"
category = "Topic"
count = "Calls"

[sources.service.values]
Waste = ["Bins"]
"#,
    );
    // Period, calls: the month each row must count in is written beside it (not read by cex).
    let rows = [
        ("2024-03", 10, "2024-03"),
        ("March 2024", 20, "2024-03"),
        ("Apr-24", 30, "2024-04"),
        ("15/04/2024", 40, "2024-04"),
        ("31/05/2024", 50, "2024-05"),
        ("202405", 60, "2024-05"),
        ("Smarch 2024", 70, ""),
    ];
    let mut csv = String::from("Period,Topic,Calls\n");
    for (period, calls, _) in rows {
        csv.push_str(&format!("{period},Bins,{calls}\n"));
    }
    ws.write("returns.csv", csv);
    let run = ws.cex(&["ingest", "p.toml"]);
    run.assert_code(0);

    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (_, calls, month) in rows.iter().filter(|r| !r.2.is_empty()) {
        *expected.entry(format!("{month}-01")).or_default() += *calls as u64;
    }
    let lake = ws.lake_table("contacts");
    use polars::prelude::{DataType, IntoColumn};
    let dates: Vec<Option<String>> = lake
        .column("date")
        .and_then(|d| d.cast(&DataType::String))
        .expect("dates")
        .into_column()
        .str()
        .expect("text")
        .iter()
        .map(|d| d.map(str::to_string))
        .collect();
    let granularity = strings(&lake, "date_granularity");
    let contacts = crate::util::u64s(&lake, "contacts");
    let mut stored: BTreeMap<String, u64> = BTreeMap::new();
    for ((d, g), n) in dates.iter().zip(&granularity).zip(&contacts) {
        assert_eq!(g.as_deref(), Some("month"));
        *stored.entry(d.clone().unwrap_or_default()).or_default() += n;
    }
    assert_eq!(stored, expected);

    let rejects = std::fs::read_dir(ws.path().join("lake/rejects/returns"))
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let text = std::fs::read_to_string(&rejects[0]).unwrap_or_default();
    assert!(
        text.contains("Smarch 2024") && text.contains("bad_date") && text.contains(",8,"),
        "{text}"
    );
}
