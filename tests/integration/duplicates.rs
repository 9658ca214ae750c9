//! Keys and duplicates made explicit (issue 15 item 1): a source without a reference column loses
//! no row to a key made of content; `duplicates = "exact_row"` drops only rows identical in every
//! field and stores a hash, never the row; a duplicate share above the gate is said, or stops
//! the run. Exports written here by hand, in a web-form layout with no reference column.

use crate::util::{strings, Workspace};

/// A web-form export with no reference: title and minute only, as a CMS exports it. Rows 3, 5
/// and 7 are the same form in the same minute as rows 2, 4 and 2: distinct submissions that
/// nothing in the export tells apart.
const FORMS: &str = "Form,Submitted,Status\n\
Missed bin,01/04/2024 09:15,Submitted\n\
Missed bin,01/04/2024 09:15,Submitted\n\
Council tax discount,01/04/2024 09:16,Submitted\n\
Council tax discount,01/04/2024 09:16,Submitted\n\
Missed bin,01/04/2024 09:17,Submitted\n\
Missed bin,01/04/2024 09:15,Submitted\n";

fn pipeline(duplicates: Option<&str>, quality: &str) -> String {
    let duplicates = duplicates
        .map(|d| format!("duplicates = \"{d}\""))
        .unwrap_or_default();
    format!(
        r#"
name = "forms"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
{quality}

[[sources]]
name = "webforms"
kind = "webforms"
files = "data/*.csv"
timestamp_formats = ["%d/%m/%Y %H:%M"]
{duplicates}

[sources.columns]
timestamp = "Submitted"
category = "Form"
outcome = "Status"

[sources.service]
values = {{ Waste = ["Missed bin"], "Council Tax" = ["Council tax discount"] }}

[sources.outcomes]
submitted = ["Submitted"]
"#
    )
}

fn workspace(duplicates: Option<&str>, quality: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("p.toml", pipeline(duplicates, quality));
    ws.write("data/forms.csv", FORMS);
    ws
}

#[test]
fn without_a_reference_every_row_is_kept_and_no_key_holds_content() {
    let ws = workspace(None, "");
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let contacts = ws.lake_table("contacts");
    assert_eq!(contacts.height(), 6, "{}", out.stdout);
    for key in strings(&contacts, "record_key").into_iter().flatten() {
        assert!(!key.contains("Missed") && !key.contains("2024"), "{key}");
    }
}

#[test]
fn exact_row_drops_only_identical_rows_and_stores_a_hash() {
    let ws = workspace(Some("exact_row"), "");
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let contacts = ws.lake_table("contacts");
    // Rows 3, 5 and 7 repeat rows 2, 4 and 2: three distinct rows.
    assert_eq!(contacts.height(), 3, "{}", out.stdout);
    for key in strings(&contacts, "record_key").into_iter().flatten() {
        assert!(
            key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()),
            "{key}"
        );
    }
    // The same rows in a later, overlapping export are recognised.
    ws.write(
        "data/forms_later.csv",
        "Form,Submitted,Status\nMissed bin,01/04/2024 09:15,Submitted\nMissed bin,02/04/2024 10:00,Submitted\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert_eq!(ws.lake_table("contacts").height(), 4, "{}", out.stdout);
}

#[test]
fn key_without_a_record_id_is_a_configuration_error() {
    let ws = workspace(Some("key"), "");
    let out = ws.cex(&["validate", "p.toml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("sources[0] (webforms).duplicates") && out.stderr.contains("record_id"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_duplicate_share_above_the_gate_warns_or_stops_the_run() {
    // exact_row: 3 of 6 rows are duplicates (50%), above the default warning level (20%).
    let ws = workspace(Some("exact_row"), "");
    let out = ws.cex(&["ingest", "p.toml", "--deny-warnings"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("50.0% of rows were duplicates"), "{all}");
    // With a failing level, nothing is written.
    let ws = workspace(Some("exact_row"), "fail_duplicate_share = 0.4");
    let out = ws.cex(&["ingest", "p.toml"]);
    assert_eq!(out.code, 4, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("above the 40.0% limit (quality.fail_duplicate_share)")
            && out.stderr.contains("nothing was written"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // Nothing in the lake: no data file anywhere under it.
    let mut stack = vec![ws.path().join("lake")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            assert!(
                path.extension().is_none_or(|e| e != "parquet"),
                "{} was written",
                path.display()
            );
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
}
