//! The period a run chooses by itself (no --period): a few stray rows dated months after the
//! export decide it, as with real data; the run says so, and keeps the period it chose.

use crate::util::Workspace;

/// A case export in the manner of NYC 311: a channel column, no outcome.
const PIPELINE: &str = r#"
name = "requests"
organisation = "Test City"
lake = "lake"
output = "out"

[[sources]]
name = "requests"
kind = "contacts"
files = "exports/*.csv"
timestamp_formats = ["%m/%d/%Y %I:%M:%S %p"]
default_outcome = "submitted"

[sources.columns]
record_id = "Unique Key"
timestamp = "Created Date"
channel = "Channel"
category = "Agency"

[sources.channels]
telephone = ["PHONE"]
web = ["ONLINE"]

[sources.service.values]
"Housing" = ["HPD"]
"Police" = ["NYPD"]
"#;

/// 100 requests on 1-2 March 2011, then `stray` dated November 2011.
fn export(stray: usize) -> String {
    let mut csv = String::from("Unique Key,Created Date,Channel,Agency\n");
    for i in 0..100 {
        let (day, channel, agency) = match i % 4 {
            0 => (1, "PHONE", "HPD"),
            1 => (1, "ONLINE", "NYPD"),
            2 => (2, "ONLINE", "HPD"),
            _ => (2, "PHONE", "NYPD"),
        };
        csv.push_str(&format!(
            "{},03/0{day}/2011 0{}:15:00 PM,{channel},{agency}\n",
            19_000_000 + i,
            1 + i % 8
        ));
    }
    for i in 0..stray {
        csv.push_str(&format!(
            "{},11/0{}/2011 10:00:00 AM,PHONE,HPD\n",
            20_000_000 + i,
            1 + i
        ));
    }
    csv
}

fn last_run(ws: &Workspace) -> serde_json::Value {
    let text = std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run.json");
    serde_json::from_str(&text).expect("json")
}

/// Asserts that the run says November 2011 was chosen by default on 2 stray contacts.
fn says_stray_rows_chose_november(out: &crate::util::Output) {
    let line = out.stderr_line("chosen by default", "the period");
    for part in [
        "2011-11 was chosen by default",
        "only 2 contacts",
        "busiest: 2011-03, 100",
        "pass --period YYYY-MM, or check the export's dates",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
}

#[test]
fn stray_rows_that_choose_the_period_are_named_and_the_period_kept() {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    ws.write("exports/requests.csv", export(2));
    let out = ws.cex(&["run", "p.toml", "--as-of", "2012-01-15"]);
    out.assert_code(0);
    says_stray_rows_chose_november(&out);
    // The period is still the one chosen (cron jobs depend on it).
    let json = last_run(&ws);
    assert_eq!(json["period"], "2011-11", "{json}");
    assert_eq!(json["status"], "ok", "{json}");
    let warnings = json["warnings"].as_array().expect("warnings");
    let w = warnings
        .iter()
        .find(|w| w["kind"] == "thin_default_period")
        .unwrap_or_else(|| panic!("no thin_default_period warning: {json}"));
    assert_eq!(w["period"], "2011-11");
    assert_eq!(w["contacts"], 2);
    assert_eq!(w["busiest"], "2011-03");
    assert_eq!(w["busiest_contacts"], 100);
    assert!(
        w["message"]
            .as_str()
            .is_some_and(|m| m.contains("pass --period YYYY-MM")),
        "{w}"
    );

    // --deny-warnings makes it exit 1, as any warning.
    let out = ws.cex(&["run", "p.toml", "--as-of", "2012-01-15", "--deny-warnings"]);
    out.assert_code(1);
    assert!(out.stderr.contains("chosen by default"), "{}", out.stderr);
    let json = last_run(&ws);
    assert_eq!(json["status"], "warnings");
    assert_eq!(json["exit_code"], 1);
    // The record says why the run exited 1, as it does for a failed run.
    let error = json["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("with --deny-warnings") && error.contains("chosen by default"),
        "{json}"
    );

    // Asking for the period is not warned about, nor is the busy month chosen by itself.
    let out = ws.cex(&["run", "p.toml", "--period", "2011-11"]);
    out.assert_code(0);
    assert!(!out.stderr.contains("chosen by default"), "{}", out.stderr);
    let out = ws.cex(&["run", "p.toml", "--as-of", "2011-04-10"]);
    out.assert_code(0);
    assert!(!out.stderr.contains("chosen by default"), "{}", out.stderr);
    assert_eq!(last_run(&ws)["period"], "2011-03");
}

/// The kinds of warning of the last run.
fn kinds(ws: &Workspace) -> Vec<String> {
    last_run(ws)["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|w| w["kind"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn months_of_the_year_no_export_covers_are_named_not_read_as_no_demand() {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    ws.write("exports/requests.csv", export(2));
    // 2011/12 to date (April to November 2011): only November has contacts. The tables hold
    // November alone; the run says the other seven months have nothing, not that demand fell.
    let out = ws.cex(&["run", "p.toml", "--period", "2011-11", "--deny-warnings"]);
    out.assert_code(1);
    let line = out.stderr_line("no source has any in", "the months");
    for part in [
        "2011/12 to date (April 2011 to November 2011) has contacts in 1 of its 8 months",
        "no source has any in April 2011 to October 2011",
        "ingest the missing exports",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
    let json = last_run(&ws);
    let w = json["warnings"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["kind"] == "months_without_contacts"))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(w["covered"], 1);
    assert_eq!(w["of"], 8);
    assert_eq!(w["months"][0], "April 2011 to October 2011");
    // The report says it under the period, read from the publication's kpi-summary.json.
    let report = std::fs::read_to_string(ws.path().join("out/2011-11/report.md")).expect("report");
    assert!(
        report.contains("Not covered: 2011/12 to date (April 2011 to November 2011) has contacts in 1 of its 8 months"),
        "{report}"
    );
    // The figures are unchanged: November alone.
    let volumes = std::fs::read_to_string(ws.path().join("out/2011-11/volumes.csv")).expect("csv");
    assert_eq!(volumes.lines().count(), 2, "{volumes}");

    // A month one source lacks between months it has, while another source has it: a second
    // source (web forms) with March and May 2011 but no April, a month the requests have.
    ws.write(
        "exports/requests.csv",
        export(0)
            + "19000200,04/05/2011 10:00:00 AM,PHONE,HPD\n\
               19000201,05/05/2011 10:00:00 AM,PHONE,HPD\n",
    );
    ws.write(
        "forms/forms.csv",
        "Ref,Submitted,Form\n\
         F1,03/02/2011 09:00:00 AM,HPD\n\
         F2,05/03/2011 09:00:00 AM,HPD\n",
    );
    let two = format!(
        "{PIPELINE}\n{}",
        r#"
[[sources]]
name = "forms"
kind = "webforms"
files = "forms/*.csv"
timestamp_formats = ["%m/%d/%Y %I:%M:%S %p"]
default_outcome = "submitted"

[sources.columns]
record_id = "Ref"
timestamp = "Submitted"
category = "Form"

[sources.service.values]
"Housing" = ["HPD"]
"#
    );
    ws.write("p2.toml", &two);
    std::fs::remove_dir_all(ws.path().join("lake")).ok();
    let out = ws.cex(&["run", "p2.toml", "--period", "2011-05"]);
    out.assert_code(0);
    let line = out.stderr_line("source 'forms'", "the forms");
    assert!(
        line.contains("no contact in April 2011 of 2011/12 to date"),
        "{line}"
    );
    assert!(kinds(&ws).contains(&"source_months_missing".to_string()));
    // The requests have every month from March to May: not named.
    assert!(!out.stderr.contains("source 'requests'"), "{}", out.stderr);
}

#[test]
fn a_quiet_month_of_a_steady_export_is_not_warned_about() {
    // 5 requests against 100: exactly 5%, not under it.
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    ws.write("exports/requests.csv", export(5));
    let out = ws.cex(&["run", "p.toml", "--as-of", "2012-01-15"]);
    out.assert_code(0);
    assert!(!out.stderr.contains("chosen by default"), "{}", out.stderr);
    assert!(!kinds(&ws).contains(&"thin_default_period".to_string()));
}

#[test]
fn an_analysts_breakdown_of_a_month_stray_rows_chose_says_so() {
    // `cex equality --by` with no --period takes the same month `cex run` would (November
    // 2011, chosen by two stray requests) and, like `cex run`, says so: the breakdown of a
    // month nobody meant is otherwise handed over without a word.
    let ws = Workspace::new();
    let survey = r#"
[scales.gap]
levels = [
  { label = "Good", score = 1, sentiment = "positive" },
  { label = "Poor", score = -1, sentiment = "negative" },
]

[demographics.age_band]
categories = ["16-24", "25-34"]

[[sources]]
name = "survey"
kind = "satisfaction"
files = "survey/*.csv"
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
fixed = "Housing"

[sources.demographics]
age_band = "Age"
"#;
    ws.write("p.toml", format!("{PIPELINE}\n{survey}"));
    ws.write("exports/requests.csv", export(2));
    let mut answers = String::from("Ref,Date,Channel,Rating,Age\n");
    for i in 0..80 {
        answers.push_str(&format!(
            "S{i},2011-{:02}-{:02},{},{},{}\n",
            4 + i % 8,
            1 + i % 28,
            ["Telephone", "Web"][i % 2],
            ["Good", "Good", "Poor"][i % 3],
            ["16-24", "25-34"][(i / 2) % 2],
        ));
    }
    ws.write("survey/answers.csv", answers);
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let out = ws.cex(&[
        "equality",
        "p.toml",
        "--by",
        "age_band",
        "--as-of",
        "2012-01-15",
    ]);
    out.assert_code(0);
    says_stray_rows_chose_november(&out);
    assert!(ws.path().join("out/equality/2011-11-by-age_band").is_dir());
    // Asked for by name, the month is not warned about.
    let out = ws.cex(&[
        "equality", "p.toml", "--by", "age_band", "--period", "2011-11",
    ]);
    out.assert_code(0);
    assert!(!out.stderr.contains("chosen by default"), "{}", out.stderr);
}
