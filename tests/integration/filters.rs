//! Row filters (issue 15 item 2): rows out of scope (requests a council's own crews raise, test
//! records, another council's rows) are excluded by named rules, never counted as demand and
//! never rejected; every row still reconciles (read = accepted + rejected + duplicates +
//! excluded), in `cex validate`, the manifest, the data-quality table and the report. The export
//! is written here by hand, in a 311 case layout (a `Source` column naming the channel or the
//! staff app), not by the generator.

use crate::util::{read_csv, strings, u64s, Workspace};

/// Ten requests: five from the public (phone, web, app), three raised by staff (two apps and a
/// crew's report, one with an impossible date and one with a blank source), one test record,
/// one row with a field too many.
const CASES: &str = "SR,Created,Source,Type,Council\n\
SR1,2024-04-02 09:00,Call,Missed bin,North\n\
SR2,2024-04-02 09:05,Self Service,Missed bin,North\n\
SR3,2024-04-02 09:10,Driver Self Report,Graffiti,North\n\
SR4,2024-04-03 10:00,City Worker App,Graffiti,North\n\
SR5,2024-13-45 25:61,Driver  self report,Graffiti,North\n\
SR6,2024-04-03 11:00,Call,TEST - ignore,North\n\
SR7,2024-04-04 12:00,Self Service,Graffiti,South\n\
SR8,2024-04-04 12:30,Call,Missed bin,North,extra\n\
SR9,2024-04-05 08:00,Self Service,Graffiti,North\n\
SR10,2024-04-05 08:30,,Missed bin,North\n";

fn pipeline(rules: &str) -> String {
    format!(
        r#"
name = "cases"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
warn_reject_share = 0.2
fail_reject_share = 0.5

[[sources]]
name = "cases"
kind = "contacts"
files = "data/*.csv"
timestamp_formats = ["%Y-%m-%d %H:%M"]
default_outcome = "submitted"
{rules}

[sources.columns]
record_id = "SR"
timestamp = "Created"
channel = "Source"
category = "Type"

[sources.channels]
telephone = ["Call"]
web = ["Self Service"]

[sources.service.values]
Waste = ["Missed bin"]
Streets = ["Graffiti"]
"#
    )
}

const RULES: &str = r#"
[[sources.exclude]]
name = "staff-generated"
column = "Source"
values = ["Driver Self Report", "City Worker App", ""]

[[sources.exclude]]
name = "test records"
column = "Type"
pattern = "(?i)^test\\b"

[[sources.include]]
name = "north only"
column = "Council"
values = ["North"]
"#;

fn workspace(rules: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("p.toml", pipeline(rules));
    ws.write("data/cases.csv", CASES);
    ws
}

#[test]
fn excluded_rows_are_counted_by_rule_and_every_row_reconciles() {
    let ws = workspace(RULES);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    // SR3, SR4, SR5 (bad date, still staff), SR10 (blank source) are staff-generated; SR6 a
    // test record; SR7 another council; SR8 has a field too many: rejected, not filtered
    // (its fields cannot be told apart). SR1, SR2, SR9 are accepted.
    let contacts = ws.lake_table("contacts");
    let mut keys: Vec<String> = strings(&contacts, "record_key")
        .into_iter()
        .flatten()
        .collect();
    keys.sort();
    assert_eq!(keys, ["SR1", "SR2", "SR9"], "{}", out.stdout);
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rows_read"), [10]);
    assert_eq!(u64s(&manifest, "accepted"), [3]);
    assert_eq!(u64s(&manifest, "rejected"), [1]);
    assert_eq!(u64s(&manifest, "duplicates"), [0]);
    assert_eq!(u64s(&manifest, "excluded"), [6]);
    assert_eq!(
        strings(&manifest, "excluded_by_rule"),
        [Some(
            "north only=1; staff-generated=4; test records=1".to_string()
        )]
    );
    assert_eq!(
        strings(&manifest, "rejects_by_reason"),
        [Some("wrong_field_count=1".to_string())]
    );
    // The table says so: an excluded column and the rules' counts.
    assert!(out.stdout.contains("excluded"), "{}", out.stdout);
    assert!(out.stdout.contains("staff-generated=4"), "{}", out.stdout);
    // The reject share is of the rows in scope (1 of 4), above the 20% warning.
    assert!(
        out.stderr.contains("25.0%") || out.stdout.contains("25.0%"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn without_the_rules_staff_and_test_rows_stop_the_run_as_errors() {
    let ws = workspace("");
    let out = ws.cex(&["ingest", "p.toml"]);
    // The staff rows have no channel (SR3, SR4 unknown, SR10 blank), SR5 a bad date, SR8 a
    // field too many, and the test record's type no service: 6 of 10 rejected as errors to be
    // corrected, and the unmapped type stops the run. The filters are what let it through.
    out.assert_code(4);
    assert!(
        out.stdout.contains("unknown_channel=2") && out.stdout.contains("unmapped_service=1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("2 quality gates failed; nothing was written"),
        "{}",
        out.stderr
    );
    // What to map, value by value, per column.
    assert!(
        out.stdout.contains(
            "unmapped in cases, column 'Source': 'City Worker App' (1 row), 'Driver Self Report' (1 row)"
        ) && out.stdout.contains("unmapped in cases, column 'Type': 'TEST - ignore' (1 row)"),
        "{}",
        out.stdout
    );
    assert_eq!(ws.lake_table("contacts").height(), 0);
}

#[test]
fn the_data_quality_table_and_the_report_name_the_excluded_rows() {
    let ws = workspace(RULES);
    ws.cex(&["run", "p.toml", "--as-of", "2024-05-10"])
        .assert_code(0);
    let period = std::fs::read_dir(ws.path().join("out"))
        .expect("out")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("data_quality.csv").exists())
        .expect("a publication with data_quality.csv");
    let dq = read_csv(&period.join("data_quality.csv"));
    assert_eq!(u64s(&dq, "excluded"), [6]);
    assert_eq!(
        strings(&dq, "excluded_by_rule"),
        [Some(
            "north only=1; staff-generated=4; test records=1".to_string()
        )]
    );
    // 1 rejected of the 4 rows in scope.
    let pct = dq
        .column("rejected_pct")
        .and_then(|c| c.cast(&polars::prelude::DataType::Float64))
        .expect("rejected_pct");
    let pct = pct.f64().expect("f64").get(0).unwrap_or(f64::NAN);
    assert!((pct - 25.0).abs() < 1e-9, "{pct}");
    // A case export's requests taken by phone are not calls: no contact-centre table.
    assert!(!period.join("contact_centre.csv").exists());
    let report = std::fs::read_to_string(period.join("report.html")).expect("report.html");
    assert!(
        report.contains("staff-generated 4"),
        "report names the rule"
    );
    // Only the public's requests of the council are volumes: SR1, SR2, SR9.
    let volumes = read_csv(&period.join("volumes.csv"));
    let total: u64 = u64s(&volumes, "contacts").iter().sum();
    assert_eq!(total, 3);
}

#[test]
fn a_rule_is_checked_before_any_file_is_read() {
    let ws = workspace(
        r#"
[[sources.exclude]]
name = "bad"
column = "Source"
pattern = "(unclosed"

[[sources.include]]
name = "both"
column = "Source"
values = ["x"]
pattern = "x"
"#,
    );
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains(".exclude[0].pattern: not a regular expression"),
        "{all}"
    );
    assert!(
        all.contains(".include[0]: give `values` or `pattern`, not both"),
        "{all}"
    );
}

#[test]
fn a_rule_on_a_column_the_export_lacks_names_the_rule() {
    let ws = workspace(
        r#"
[[sources.exclude]]
name = "staff-generated"
column = "Origin"
values = ["Staff"]
"#,
    );
    let out = ws.cex(&["validate", "p.toml"]);
    assert_ne!(out.code, 0);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("row filter 'staff-generated'") && all.contains("Origin"),
        "{all}"
    );
}
