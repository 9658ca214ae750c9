//! "Don't know" and "not applicable" are answers, not rejects (issue 14 item 5, issue 15 item 6):
//! a scale's `not_rated` answers are kept in the lake's `responses` table as accepted rows with no
//! rating (null rating, score and sentiment, the answer in `rating_raw`), published as a
//! `not_rated` count beside each group's rated responses, left out of every satisfaction
//! denominator, never rejected nor counted in the reject gate, and protected by disclosure control
//! like every other count. The survey export is written here by hand.

use polars::prelude::*;

use crate::util::{read_csv, strings, u64s, Workspace};

/// Per-response survey export: two channels, two age bands, one service.
///
/// | channel / age      | Good | Average | Poor | not rated              |
/// |--------------------|------|---------|------|------------------------|
/// | telephone / 16-24  | 20   | 10      | 10   | 10 ("Don't know")      |
/// | telephone / 25-34  | 10   | 10      | 10   | 12 ("don't KNOW", "9") |
/// | web / 16-24        | 10   | 10      | 10   | 3 ("N/A", "n/a")       |
/// | web / 25-34        | 10   | 10      | 10   | 0                      |
///
/// plus one answer off the scale ("Marvellous"), which is rejected.
fn survey() -> String {
    let mut csv = "Ref,Date,Channel,Rating,Age\n".to_string();
    let mut id = 0;
    let mut add = |channel: &str, age: &str, rating: &str, n: usize| {
        for _ in 0..n {
            id += 1;
            csv.push_str(&format!(
                "R{id},2024-05-{:02},{channel},{rating},{age}\n",
                1 + id % 28
            ));
        }
    };
    for (channel, age, good, dont_know) in [
        ("Telephone", "16-24", 20, vec![("Don't know", 10)]),
        ("Telephone", "25-34", 10, vec![("don't  KNOW", 8), ("9", 4)]),
        ("Web", "16-24", 10, vec![("N/A", 2), ("n/a", 1)]),
        ("Web", "25-34", 10, vec![]),
    ] {
        add(channel, age, "Good", good);
        add(channel, age, "Average", 10);
        add(channel, age, "Poor", 10);
        for (answer, n) in dont_know {
            add(channel, age, answer, n);
        }
    }
    add("Web", "25-34", "Marvellous", 1);
    csv
}

const PIPELINE: &str = r#"
name = "dont-know"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
# 25 of 156 answers are not ratings: were they rejects, 16% would fail this gate.
fail_reject_share = 0.05

[scales.gap]
levels = [
  { label = "Good", score = 1, sentiment = "positive" },
  { label = "Average", score = 0, sentiment = "neutral" },
  { label = "Poor", score = -1, sentiment = "negative" },
]
not_rated = ["Don't know", "N/A", "9"]

[demographics.age_band]
categories = ["16-24", "25-34"]

[[sources]]
name = "survey"
kind = "satisfaction"
files = "data/*.csv"
rating_scale = "gap"
date_formats = ["%Y-%m-%d"]

[sources.columns]
record_id = "Ref"
date = "Date"
channel = "Channel"
rating = "Rating"

[sources.channels]
telephone = ["Telephone"]
web = ["Web"]

[sources.service]
fixed = "Council Tax"

[sources.demographics]
age_band = "Age"

[equality]
breakdowns = [["age_band"]]
"#;

/// The attacker on a tampered publication, which must find something: the cells it recovered,
/// and its whole verdict for messages.
fn recovered_from(tampered: &std::path::Path) -> (Vec<serde_json::Value>, String) {
    let out = std::process::Command::new("python3")
        .arg(crate::util::repo().join("tests/disclosure/attack.py"))
        .arg(tampered)
        .arg("--out")
        .arg(tampered.join("verdict.json"))
        .output()
        .expect("python3");
    let text = std::fs::read_to_string(tampered.join("verdict.json")).unwrap_or_default();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let verdict: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let recovered = verdict["recoverable"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (recovered, text)
}

/// The month's contacts, as counts by channel.
const CONTACTS: &str = r#"
[[sources]]
name = "contacts"
kind = "contacts"
files = "contacts/*.csv"
date_formats = ["%Y-%m-%d"]
default_outcome = "answered"

[sources.columns]
date = "Month"
channel = "Channel"
count = "Contacts"

[sources.channels]
telephone = ["Telephone"]
web = ["Web"]

[sources.service]
fixed = "Council Tax"
"#;

fn column_text(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    assert!(
        df.column(name).is_ok(),
        "no column {name}: {:?}",
        df.get_column_names()
    );
    strings(df, name)
}

#[test]
fn dont_know_answers_are_kept_counted_and_left_out_of_the_denominator() {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    ws.write("data/survey.csv", survey());
    ws.cex(&["run", "p.toml", "--as-of", "2024-06-10", "--skip", "charts"])
        .assert_code(0);

    // Reconciliation: 156 rows = 155 accepted (25 of them not rated) + 1 rejected; nothing
    // excluded, the not-rated answers are no rejects.
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rows_read"), [156]);
    assert_eq!(u64s(&manifest, "accepted"), [155]);
    assert_eq!(u64s(&manifest, "rejected"), [1]);
    assert_eq!(u64s(&manifest, "excluded"), [0]);
    assert_eq!(u64s(&manifest, "duplicates"), [0]);
    assert_eq!(
        strings(&manifest, "rejects_by_reason"),
        [Some("rating_not_in_scale=1".to_string())]
    );

    // In the lake: accepted rows with no rating, the answer as given in rating_raw.
    let responses = ws.lake_table("responses");
    assert_eq!(responses.height(), 155);
    let unrated = responses
        .clone()
        .lazy()
        .filter(col("sentiment").is_null())
        .collect()
        .expect("filter");
    assert_eq!(unrated.height(), 25);
    for name in ["rating", "score"] {
        assert_eq!(
            unrated.column(name).expect(name).null_count(),
            25,
            "{name} of a not-rated answer"
        );
    }
    let mut raw: Vec<String> = strings(&unrated, "rating_raw")
        .into_iter()
        .flatten()
        .collect();
    raw.sort();
    raw.dedup();
    assert_eq!(raw, ["9", "Don't know", "N/A", "don't  KNOW", "n/a"]);
    let rejects = std::fs::read_dir(ws.path().join("lake/rejects/survey"))
        .expect("rejects folder")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect::<String>();
    assert_eq!(
        rejects.lines().count(),
        2,
        "header + Marvellous:\n{rejects}"
    );

    // Published: a not_rated count beside the rated responses; the denominators are rated
    // answers only. Telephone: 30 Good, 20 Average, 20 Poor of 70 rated (22 not rated), so
    // % satisfied = 30 / 70 (not 30 / 92), council score (30 + 20 - 20) / 70, net (30 - 20) / 70.
    let folder = ws.path().join("out/2024-05");
    let by_channel = read_csv(&folder.join("satisfaction_by_channel.csv"));
    let channels = column_text(&by_channel, "channel");
    let not_rated = column_text(&by_channel, "not_rated");
    let at = |c: &str| {
        channels
            .iter()
            .position(|x| x.as_deref() == Some(c))
            .unwrap_or_else(|| panic!("no {c}: {channels:?}"))
    };
    let (tel, web) = (at("telephone"), at("web"));
    let float = |df: &DataFrame, name: &str, row: usize| {
        df.column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .expect(name)
            .f64()
            .expect("f64")
            .get(row)
    };
    assert_eq!(u64s(&by_channel, "responses")[tel], 70);
    assert_eq!(u64s(&by_channel, "responses")[web], 60);
    let satisfied = float(&by_channel, "satisfied_pct", tel).expect("% satisfied");
    assert!(
        (satisfied - 30.0 * 100.0 / 70.0).abs() < 1e-9,
        "{satisfied}"
    );
    let score = float(&by_channel, "council_score_pct", tel).expect("council score");
    assert!((score - 30.0 * 100.0 / 70.0).abs() < 1e-9, "{score}");
    let net = float(&by_channel, "net_satisfaction", tel).expect("net");
    assert!((net - 10.0 / 70.0).abs() < 1e-12, "{net}");
    // Web's 3 not-rated answers are a small count: blank, and said why.
    assert_eq!(not_rated[web], None, "3 is below the threshold");
    let why = column_text(&by_channel, "suppression")[web]
        .clone()
        .unwrap_or_default();
    assert!(
        why.contains("fewer than 10 responses: ") && why.contains("not_rated"),
        "{why}"
    );
    // Telephone's 22: printed, or hidden so that web's 3 cannot be worked out.
    assert!(
        matches!(not_rated[tel].as_deref(), Some("22") | None),
        "{not_rated:?}"
    );

    // The equality table by age: a not_rated count per group, N and percentages of rated answers.
    let by_age = read_csv(&folder.join("equality/equality_age_band.csv"));
    let groups = column_text(&by_age, "age_band");
    let not_rated = column_text(&by_age, "not_rated");
    let expected = [
        ("16-24", 70, "13"),
        ("25-34", 60, "12"),
        ("All respondents", 130, "25"),
    ];
    let mut printed = 0;
    for (group, n, dont_know) in expected {
        let row = groups
            .iter()
            .position(|g| g.as_deref() == Some(group))
            .unwrap_or_else(|| panic!("no {group}: {groups:?}"));
        assert_eq!(u64s(&by_age, "responses")[row], n, "{group}");
        if let Some(v) = &not_rated[row] {
            assert_eq!(v, dont_know, "{group}");
            printed += 1;
        }
    }
    assert!(printed >= 2, "{not_rated:?}");
    let row = groups
        .iter()
        .position(|g| g.as_deref() == Some("16-24"))
        .expect("16-24");
    let satisfied = float(&by_age, "satisfied_pct", row).expect("% satisfied 16-24");
    assert!(
        (satisfied - 30.0 * 100.0 / 70.0).abs() < 1e-9,
        "{satisfied}"
    );

    // Nothing small printed, nothing recoverable: cex's own audit and the independent attacker.
    let own = crate::disclosure::own_verdict(&folder);
    assert_eq!(own["verdict"], "pass", "{own}");
    let hidden = own["hidden"].as_array().cloned().unwrap_or_default();
    assert!(
        hidden
            .iter()
            .any(|h| h["column"] == "not_rated" && h["rule"] == "primary"),
        "{own}"
    );
    let theirs = crate::disclosure::attack(&folder);
    assert_eq!(theirs["recoverable_count"], 0, "{theirs}");
    assert_eq!(theirs["published_small_count"], 0, "{theirs}");
    // The attacker knows the not_rated counts' relations: were telephone's 22 printed, web's 3
    // would follow from the equality table's 25 for all respondents.
    let tampered = ws.path().join("tampered");
    crate::util::copy_dir(&folder, &tampered);
    for name in [
        "satisfaction_by_channel.csv",
        "satisfaction_monthly.csv",
        "satisfaction_by_service.csv",
    ] {
        let path = tampered.join(name);
        let text = std::fs::read_to_string(&path).expect(name);
        let printed: String = text
            .lines()
            .map(|line| match line.split_once(",telephone,") {
                Some(_) => {
                    let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
                    let at = text
                        .lines()
                        .next()
                        .and_then(|h| h.split(',').position(|c| c == "not_rated"))
                        .expect("not_rated column");
                    cells[at] = "22".into();
                    let n = cells.len();
                    cells.truncate(n - 2);
                    cells.extend([String::new(), String::new()]);
                    cells.join(",")
                }
                None => line.to_string(),
            })
            .map(|line| line + "\n")
            .collect();
        std::fs::write(&path, printed).expect("write");
    }
    let (recovered, verdict) = recovered_from(&tampered);
    // Every cell recovered is a not-rated count (web's 3, printed as not_rated and as the
    // ratings table's "N/A" row).
    assert!(
        !recovered.is_empty()
            && recovered.iter().all(|c| c["column"] == "not_rated"
                || (c["table"] == "satisfaction_ratings"
                    && c["row"].as_str().is_some_and(|r| r.contains(" / no / ")))),
        "{verdict}"
    );

    // The report says how many answered "don't know".
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap_or_default();
    assert!(report.to_lowercase().contains("not rated"), "{report}");
}

/// The ratings table gives each answer that is not a rating a row of its own (`rated` = no),
/// labelled as the pipeline writes it, after the scale; the response-rate table counts them
/// beside N. Small rows are hidden with what would give them back, and the attacker knows the
/// rows sum to the channel's not_rated count: printing telephone's 18 "Don't know" beside its
/// 22 not rated gives its 4 "9" back.
#[test]
fn ratings_and_response_rate_list_the_answers_that_are_not_a_rating() {
    let ws = Workspace::new();
    // The survey above, and the month's contacts as counts (the response-rate table needs them).
    ws.write("p.toml", format!("{PIPELINE}{CONTACTS}"));
    ws.write("data/survey.csv", survey());
    ws.write(
        "contacts/counts.csv",
        "Month,Channel,Contacts\n2024-05-01,Telephone,1400\n",
    );
    ws.cex(&["run", "p.toml", "--as-of", "2024-06-10", "--skip", "charts"])
        .assert_code(0);
    let folder = &ws.path().join("out/2024-05");
    let ratings = read_csv(&folder.join("satisfaction_ratings.csv"));
    let names: Vec<String> = ratings
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let at = |c: &str| names.iter().position(|n| n == c);
    assert!(
        at("channel") < at("rated") && at("rated") < at("rating") && at("rating") < at("responses"),
        "{names:?}"
    );
    type Row = (String, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = {
        let channel = column_text(&ratings, "channel");
        let rated = column_text(&ratings, "rated");
        let rating = column_text(&ratings, "rating");
        let n = column_text(&ratings, "responses");
        let share = column_text(&ratings, "share_pct");
        (0..ratings.height())
            .map(|r| {
                (
                    channel[r].clone().unwrap_or_default(),
                    rated[r].clone().unwrap_or_default(),
                    rating[r].clone().unwrap_or_default(),
                    n[r].clone(),
                    share[r].clone(),
                )
            })
            .collect()
    };
    // Counted from the export written above: "Don't know" (10) and "don't  KNOW" (8) are one
    // answer; "9" is its own; web's "N/A" and "n/a" are one.
    let expected = [
        ("telephone", "yes", "Good", 30),
        ("telephone", "yes", "Average", 20),
        ("telephone", "yes", "Poor", 20),
        ("telephone", "no", "Don't know", 18),
        ("telephone", "no", "9", 4),
        ("web", "yes", "Good", 20),
        ("web", "yes", "Average", 20),
        ("web", "yes", "Poor", 20),
        ("web", "no", "N/A", 3),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    let mut hidden = Vec::new();
    for (row, (channel, rated, rating, n)) in rows.iter().zip(expected) {
        assert_eq!(
            (row.0.as_str(), row.1.as_str(), row.2.as_str()),
            (channel, rated, rating)
        );
        match &row.3 {
            Some(v) => assert_eq!(v, &n.to_string(), "{channel} {rating}"),
            None => hidden.push(rating),
        }
        if rated == "no" {
            assert_eq!(
                row.4, None,
                "no share for {rating}: it is in no denominator"
            );
        }
    }
    assert!(
        hidden.contains(&"9") && hidden.contains(&"N/A"),
        "4 and 3 are small: {rows:?}"
    );
    // The rated shares are of rated answers: telephone Good 30 of 70.
    let good: f64 = rows[0]
        .4
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    assert!((good - 30.0 * 100.0 / 70.0).abs() < 0.05, "{good}");

    let rate = read_csv(&folder.join("response_rate.csv"));
    let channels = column_text(&rate, "channel");
    let not_rated = column_text(&rate, "not_rated");
    let responses = column_text(&rate, "responses");
    let tel = channels
        .iter()
        .position(|c| c.as_deref() == Some("telephone"))
        .expect("telephone row");
    let web = channels
        .iter()
        .position(|c| c.as_deref() == Some("web"))
        .expect("web row");
    assert_eq!(responses[tel].as_deref(), Some("70"));
    // The rate is of rated answers: 70 of 1,400 calls.
    let rate_pct = column_text(&rate, "response_rate_pct");
    assert_eq!(rate_pct[tel].as_deref(), Some("5.0"), "{rate_pct:?}");
    assert!(
        matches!(not_rated[tel].as_deref(), Some("22") | None),
        "{not_rated:?}"
    );
    assert_eq!(not_rated[web], None, "3 is small");

    // Tampered: telephone's "Don't know" printed in the ratings table, its 22 not rated printed
    // in every table. The attacker must then find the "9" row.
    let own = crate::disclosure::own_verdict(folder);
    assert_eq!(own["verdict"], "pass", "{own}");
    let theirs = crate::disclosure::attack(folder);
    assert_eq!(theirs["recoverable_count"], 0, "{theirs}");
    assert_eq!(theirs["published_small_count"], 0, "{theirs}");

    let tampered = ws.path().join("tampered-ratings");
    crate::util::copy_dir(folder, &tampered);
    let print = |name: &str, row_has: &str, column: &str, value: &str| {
        let path = tampered.join(name);
        let text = std::fs::read_to_string(&path).expect(name);
        let header: Vec<&str> = text.lines().next().unwrap_or_default().split(',').collect();
        let at = header
            .iter()
            .position(|c| *c == column)
            .unwrap_or_else(|| panic!("no {column} in {name}"));
        let printed: String = text
            .lines()
            .map(|line| {
                if line.contains(row_has) {
                    let mut cells: Vec<&str> = line.split(',').collect();
                    cells[at] = value;
                    cells.join(",")
                } else {
                    line.to_string()
                }
            })
            .map(|line| line + "\n")
            .collect();
        std::fs::write(&path, printed).expect("write");
    };
    print(
        "satisfaction_ratings.csv",
        ",telephone,no,Don't know,",
        "responses",
        "18",
    );
    for name in [
        "satisfaction_by_channel.csv",
        "satisfaction_monthly.csv",
        "satisfaction_by_service.csv",
        "response_rate.csv",
    ] {
        print(name, ",telephone,", "not_rated", "22");
    }
    let (recovered, _) = recovered_from(&tampered);
    assert!(
        recovered
            .iter()
            .any(|c| c["table"] == "satisfaction_ratings"
                && c["row"].as_str().is_some_and(|r| r.ends_with("/ 9"))),
        "{recovered:?}"
    );
}
