//! Pseudonymous customer keys and repeat contact through `cex run`, on exports written here by
//! hand (issue 19): a customer's phone number written two ways in two systems is one customer; an
//! e-mail address in another case is the same address; a call about another service is no
//! repeat; no phone number or e-mail address reaches any file of the lake or the publication
//! (rejects included); another secret gives other keys; no secret, no run.

use std::path::Path;

use polars::prelude::*;

use crate::util::{read_csv, strings, walk, Workspace};

const SECRET: &str = "test secret for a council, 32 ch";

fn pipeline(secret: &str) -> String {
    format!(
        r#"
name = "repeats"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
# One call of six is rejected on purpose (its number must not reach the rejects file).
fail_reject_share = 0.5

[customers]
{secret}
repeat_days = [7, 28]

[[sources]]
name = "calls"
kind = "calls"
files = "data/calls.csv"
timestamp_formats = ["%Y-%m-%d %H:%M"]

[sources.columns]
record_id = "Call ID"
timestamp = "Start"
category = "Queue"
outcome = "Outcome"

[sources.customer]
phone = "CLI"

[sources.service.values]
Housing = ["Housing queue"]
Waste = ["Waste queue"]
Parking = ["Parking queue"]

[sources.outcomes]
answered = ["Answered"]

[[sources]]
name = "forms"
kind = "webforms"
files = "data/forms.csv"
timestamp_formats = ["%d/%m/%Y %H:%M"]
default_outcome = "submitted"

[sources.columns]
record_id = "Ref"
timestamp = "Submitted"
category = "Form"

[sources.customer]
phone = "Phone"
email = "Email"

[sources.service.values]
Housing = ["Report a repair"]
Waste = ["Missed bin"]
Parking = ["Parking permit"]
"#
    )
}

/// January 2025 by hand, with late-February contacts so that January's windows are all in the
/// lake.
const CALLS: &str = "Call ID,Start,Queue,Outcome,CLI
C1,2025-01-05 10:00,Housing queue,Answered,07700900001
C2,2025-01-20 09:00,Waste queue,Answered,0113 496 0001
C3,2025-01-21 09:00,Housing queue,Answered,+44 (0)113 496 0001
C4,2025-01-20 11:00,Waste queue,Answered,Withheld
C5,2025-01-22 11:00,Waste queue,Hung up,07700 900777
C6,2025-02-28 09:00,Parking queue,Answered,0113 496 0999
";

const FORMS: &str = "Ref,Submitted,Form,Email,Phone
F1,03/01/2025 08:00,Report a repair,,+44 7700 900001
F2,10/01/2025 08:00,Missed bin,jo.bloggs@example.org,
F3,12/01/2025 08:00,Missed bin, Jo.Bloggs@EXAMPLE.org ,
F4,28/02/2025 08:00,Parking permit,sam@example.net,
";

/// Every identifier above, raw (as typed, spaces included) and normalised.
const IDENTIFIERS: [&str; 11] = [
    "900001",
    "4960001",
    "496 0001",
    "496 0999",
    "900777",
    "4960999",
    "jo.bloggs",
    "Jo.Bloggs",
    "sam@example",
    "example.org",
    "example.net",
];

fn workspace(secret_line: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("p/pipeline.toml", pipeline(secret_line));
    ws.write("p/data/calls.csv", CALLS);
    ws.write("p/data/forms.csv", FORMS);
    ws.write("p/secret.txt", format!("{SECRET}\n"));
    ws
}

fn run(ws: &Workspace) -> crate::util::Output {
    ws.cex(&["run", "p/pipeline.toml", "--period", "2025-01"])
}

fn rows(table: &DataFrame, filter: Expr, columns: &[&str]) -> Vec<Vec<i64>> {
    let df = table
        .clone()
        .lazy()
        .filter(filter)
        .select(
            columns
                .iter()
                .map(|c| col(*c).cast(DataType::Int64))
                .collect::<Vec<_>>(),
        )
        .collect()
        .expect("filter");
    (0..df.height())
        .map(|i| {
            columns
                .iter()
                .map(|c| {
                    df.column(c)
                        .expect("column")
                        .i64()
                        .expect("i64")
                        .get(i)
                        .unwrap_or(-1)
                })
                .collect()
        })
        .collect()
}

fn of(service: &str, channel: &str, window: u32) -> Expr {
    col("service")
        .eq(lit(service))
        .and(col("channel").eq(lit(channel)))
        .and(col("window_days").eq(lit(window as i64)))
}

#[test]
fn repeats_are_found_across_channels_and_ways_of_writing_a_number() {
    let ws = workspace(r#"secret_file = "secret.txt""#);
    run(&ws).assert_code(0);
    let out = ws.path().join("p/out/2025-01");
    let repeat = read_csv(&out.join("repeat_contact.csv"));
    let cols = ["contacts", "identified", "repeats"];
    // Housing by phone: C1 two days after F1 (the same number written two ways: a repeat), C3
    // (0113 496 0001 again, but about Housing after a Waste call: no repeat).
    assert_eq!(
        rows(&repeat, of("Housing", "telephone", 7), &cols),
        [[2, 2, 1]]
    );
    // Waste forms: F3 two days after F2 (the same address in another case).
    assert_eq!(rows(&repeat, of("Waste", "web", 7), &cols), [[2, 2, 1]]);
    // Waste calls: C2 and the withheld C4 (counted, not identified); C5 was rejected.
    assert_eq!(
        rows(&repeat, of("Waste", "telephone", 28), &cols),
        [[2, 1, 0]]
    );
    assert_eq!(rows(&repeat, of("Housing", "web", 28), &cols), [[1, 1, 0]]);

    // Failure demand: the repair form was followed by a call within 7 days; the bin forms not.
    let failure = read_csv(&out.join("failure_demand.csv"));
    let digital = col("direction")
        .eq(lit("digital then assisted"))
        .and(col("window_days").eq(lit(7i64)));
    assert_eq!(
        rows(
            &failure,
            digital
                .clone()
                .and(col("category").eq(lit("Report a repair"))),
            &["observable", "followed_up"]
        ),
        [[1, 1]]
    );
    assert_eq!(
        rows(
            &failure,
            digital.and(col("category").eq(lit("Missed bin"))),
            &["observable", "followed_up"]
        ),
        [[2, 0]]
    );
    // Resolution as observed: of the two Housing calls, neither is followed within 28 days by
    // the same number about Housing.
    let resolution = read_csv(&out.join("contact_resolution.csv"));
    assert_eq!(
        rows(
            &resolution,
            of("Housing", "telephone", 28),
            &["identified", "observable", "followed_up"]
        ),
        [[2, 2, 0]]
    );
    // The report's section and chart.
    let report = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    let section = report
        .split("## Right first time")
        .nth(1)
        .expect("a Right first time section");
    assert!(section.contains("Report a repair"), "{section}");
    // January: 7 contacts, 6 identified, 2 repeats within 7 days; all 6 judged at 28 days (the
    // lake runs to 28 February), 4 with no follow-up.
    assert!(
        section.contains("| Jan 2025 | 7 | 6 | 33.3% | 33.3% | 6 | 66.7% | – |"),
        "{section}"
    );
    assert!(out.join("charts/repeat_contact.svg").exists());
    let days = read_csv(&out.join("days_to_repeat.csv"));
    assert_eq!(strings(&days, "days"), [Some("2".to_string())]);

    // The lake holds keys, never the identifiers.
    let contacts = ws.lake_table_at("p/lake", "contacts");
    let phones = contacts
        .column("customer_phone")
        .expect("customer_phone")
        .i64()
        .expect("keys are 64-bit integers")
        .clone();
    // Four forms without a phone and the withheld call have none; the repair form's number
    // and the first call's are one key.
    assert_eq!(phones.null_count(), 4);
    let distinct: std::collections::BTreeSet<i64> = phones.iter().flatten().collect();
    assert_eq!(
        distinct.len(),
        3,
        "07700900001 twice, 0113 496 0001 twice, 0113 496 0999"
    );

    // No identifier, raw or in one form, in any file cex wrote (rejects included).
    let rejects = std::fs::read_to_string(
        std::fs::read_dir(ws.path().join("p/lake/rejects/calls"))
            .expect("rejects folder")
            .next()
            .expect("a rejects file")
            .expect("entry")
            .path(),
    )
    .expect("rejects");
    assert!(rejects.contains("Hung up"), "{rejects}");
    for root in ["p/lake", "p/out"] {
        assert_no_identifier(&ws.path().join(root), &IDENTIFIERS);
    }
}

/// Reads every file under `dir` (Parquet, Delta logs, CSV, JSON, workbooks, charts, the report)
/// and fails on any identifier: in its bytes, and, for the files that compress what they hold
/// (Parquet pages, Excel workbooks), in every text value they hold once decoded.
fn assert_no_identifier(dir: &Path, identifiers: &[&str]) {
    let check = |text: &str, place: &dyn std::fmt::Display| {
        let text = text.to_lowercase();
        for id in identifiers {
            assert!(!text.contains(&id.to_lowercase()), "{place} holds {id}");
        }
    };
    let mut decoded = 0;
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).expect("read");
        check(&String::from_utf8_lossy(&bytes), &entry.display());
        match entry.extension().and_then(|e| e.to_str()) {
            Some("parquet") => {
                let df = ParquetReader::new(std::io::Cursor::new(bytes))
                    .finish()
                    .expect("a Parquet file cex wrote");
                for column in df.columns() {
                    if !(column.dtype().is_string() || column.dtype().is_categorical()) {
                        continue;
                    }
                    let text = column.cast(&DataType::String).expect("text");
                    for value in text.str().expect("text").iter().flatten() {
                        check(value, &format!("{} ({})", entry.display(), column.name()));
                    }
                }
                decoded += 1;
            }
            Some("xlsx") => {
                use calamine::Reader;
                let mut book = calamine::open_workbook_auto(&entry).expect("a workbook cex wrote");
                for sheet in book.sheet_names() {
                    let range = book.worksheet_range(&sheet).expect("sheet");
                    for cell in range.used_cells() {
                        check(
                            &cell.2.to_string(),
                            &format!("{} ({sheet})", entry.display()),
                        );
                    }
                }
                decoded += 1;
            }
            _ => {}
        }
    }
    assert!(
        decoded > 0,
        "no Parquet file or workbook under {}",
        dir.display()
    );
}

fn phone_keys(ws: &Workspace) -> Vec<i64> {
    let contacts = ws.lake_table_at("p/lake", "contacts");
    let mut keys: Vec<i64> = contacts
        .column("customer_phone")
        .expect("customer_phone")
        .i64()
        .expect("i64")
        .iter()
        .flatten()
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn the_same_secret_gives_the_same_keys_and_another_gives_others() {
    let (a, b) = (
        workspace(r#"secret_file = "secret.txt""#),
        workspace(r#"secret_file = "secret.txt""#),
    );
    let c = workspace(r#"secret_file = "other.txt""#);
    c.write("p/other.txt", "another council's secret, 32 chars");
    for ws in [&a, &b, &c] {
        ws.cex(&["ingest", "p/pipeline.toml"]).assert_code(0);
    }
    let (ka, kb, kc) = (phone_keys(&a), phone_keys(&b), phone_keys(&c));
    assert_eq!(ka.len(), 5);
    assert_eq!(ka, kb);
    assert!(ka.iter().all(|k| !kc.contains(k)), "{ka:?} {kc:?}");
}

#[test]
fn a_lake_refuses_keys_under_another_secret() {
    let ws = workspace(r#"secret_file = "secret.txt""#);
    ws.cex(&["ingest", "p/pipeline.toml"]).assert_code(0);
    // The secret is rotated without starting a new lake: refused, nothing added.
    ws.write("p/secret.txt", "a rotated secret, also 32 chars.");
    ws.write(
        "p/data/calls.csv",
        format!("{CALLS}C7,2025-03-01 09:00,Parking queue,Answered,0113 496 0999\n"),
    );
    let before = ws.lake_table_at("p/lake", "contacts").height();
    let out = ws.cex(&["ingest", "p/pipeline.toml"]);
    out.assert_code(2);
    assert!(out.stderr.contains("another secret"), "{}", out.stderr);
    assert_eq!(ws.lake_table_at("p/lake", "contacts").height(), before);
    // `validate` says so too, and the old secret is accepted again.
    ws.cex(&["validate", "p/pipeline.toml"]).assert_code(2);
    ws.write("p/secret.txt", SECRET);
    ws.cex(&["ingest", "p/pipeline.toml"]).assert_code(0);
    assert_eq!(ws.lake_table_at("p/lake", "contacts").height(), before + 1);
}

#[test]
fn no_secret_no_keys() {
    // Named but not set: refused before the lake is touched, naming the key.
    let ws = workspace(r#"secret_env = "CEX_TEST_SECRET_NOT_SET""#);
    let out = ws.cex(&["ingest", "p/pipeline.toml"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("customers.secret_env")
            && out.stderr.contains("CEX_TEST_SECRET_NOT_SET"),
        "{}",
        out.stderr
    );
    assert!(!ws.path().join("p/lake/contacts").exists());
    // Too short.
    let ws = workspace(r#"secret_file = "short.txt""#);
    ws.write("p/short.txt", "password");
    let out = ws.cex(&["ingest", "p/pipeline.toml"]);
    out.assert_code(2);
    assert!(out.stderr.contains("at least 16"), "{}", out.stderr);
    // Not named at all: the pipeline file is refused.
    let ws = workspace("");
    let out = ws.cex(&["validate", "p/pipeline.toml"]);
    out.assert_code(2);
    assert!(out.stderr.contains(".customer"), "{}", out.stderr);
    // Set in the environment: accepted.
    let ws = workspace(r#"secret_env = "CEX_TEST_SECRET""#);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cex"))
        .args(["ingest", "p/pipeline.toml"])
        .env("CEX_TEST_SECRET", SECRET)
        .current_dir(ws.path())
        .output()
        .expect("run cex");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Exports carry values in their identifier columns that are no customer: a telephony system
/// writing a withheld number as zeros, advisers filling a form for a caller with a dummy address
/// or the contact centre's own, a reference column holding `N/A` or `-`. Keyed as they are, each
/// would join hundreds of strangers into one "customer" and every later one a "repeat". None of
/// them may link contacts; the contacts stay counted (in `contacts`, not `identified`), and an
/// identifier found only by its volume is named in a warning (its column and counts, never the
/// value).
#[test]
fn placeholders_in_identifier_columns_link_nobody() {
    let ws = Workspace::new();
    let pipeline = pipeline(r#"secret_file = "secret.txt""#)
        .replace(
            "repeat_days = [7, 28]",
            "repeat_days = [7, 28]\nplaceholders = [\"Adviser@TestCouncil.gov.uk\"]\nmax_contacts_per_day = 20",
        )
        .replace(
            "phone = \"Phone\"\nemail = \"Email\"",
            "phone = \"Phone\"\nemail = \"Email\"\nreference = \"Account\"",
        );
    ws.write("p/pipeline.toml", pipeline);
    ws.write("p/secret.txt", format!("{SECRET}\n"));
    // Waste calls: three withheld numbers written as zeros (three ways), and one real caller
    // who rang twice. Parking on 28 February closes January's windows.
    ws.write(
        "p/data/calls.csv",
        "Call ID,Start,Queue,Outcome,CLI
P1,2025-01-06 09:00,Waste queue,Answered,00000000000
P2,2025-01-07 09:00,Waste queue,Answered,+44 0000 000000
P3,2025-01-08 09:00,Waste queue,Answered,0000000000
R1,2025-01-10 10:00,Waste queue,Answered,07700 900002
R2,2025-01-12 10:00,Waste queue,Answered,07700900002
C6,2025-02-28 09:00,Parking queue,Answered,0113 496 0999
",
    );
    // Missed-bin forms: 25 filled in by the contact centre on one day with its own address
    // (found by volume), two with a dummy address, two with the address the pipeline lists,
    // two with references that say nothing, and one real customer twice.
    let mut forms = String::from("Ref,Submitted,Form,Email,Phone,Account\n");
    for i in 0..25 {
        forms.push_str(&format!(
            "V{i},15/01/2025 {:02}:{:02},Missed bin,Contact.Centre@testcouncil.gov.uk,,\n",
            8 + i / 6,
            (i % 6) * 10
        ));
    }
    forms.push_str(
        "D1,16/01/2025 09:00,Missed bin,noemail@testcouncil.gov.uk,,
D2,17/01/2025 09:00,Missed bin,NoEmail@testcouncil.gov.uk,,
L1,18/01/2025 09:00,Missed bin,adviser@testcouncil.gov.uk,,
L2,19/01/2025 09:00,Missed bin, ADVISER@testcouncil.gov.uk ,,
A1,21/01/2025 09:00,Missed bin,,,N/A
A2,22/01/2025 09:00,Missed bin,,,-
A3,23/01/2025 09:00,Missed bin,,,0000
J1,24/01/2025 09:00,Missed bin,jo@example.org,,
J2,26/01/2025 09:00,Missed bin,JO@example.org,,
F4,28/02/2025 08:00,Parking permit,sam@example.net,,
",
    );
    ws.write("p/data/forms.csv", forms);
    run(&ws).assert_code(0);

    let out = ws.path().join("p/out/2025-01");
    let repeat = read_csv(&out.join("repeat_contact.csv"));
    let cols = ["contacts", "identified", "repeats"];
    // Keyed as written, the zeros would make five identified calls and three repeats.
    assert_eq!(
        rows(&repeat, of("Waste", "telephone", 7), &cols),
        [[5, 2, 1]]
    );
    // Keyed as written, 34 identified forms and 27 repeats.
    assert_eq!(rows(&repeat, of("Waste", "web", 7), &cols), [[34, 2, 1]]);

    // The lake: the placeholders' contacts are there, without keys.
    let contacts = ws.lake_table_at("p/lake", "contacts");
    assert_eq!(contacts.height(), 6 + 35);
    let keyed = |name: &str| {
        contacts
            .column(name)
            .expect("key column")
            .i64()
            .expect("i64")
            .iter()
            .flatten()
            .count()
    };
    assert_eq!(keyed("customer_phone"), 3, "R1, R2 and C6 only");
    assert_eq!(keyed("customer_email"), 3, "J1, J2 and F4 only");
    assert_eq!(keyed("customer_reference"), 0);

    // The address found by its volume is reported: file, column, counts; not the address.
    let summary =
        std::fs::read_to_string(ws.path().join("p/out/last-run.json")).expect("last-run.json");
    let warning = summary
        .split("placeholder_identifiers")
        .nth(1)
        .unwrap_or_else(|| panic!("no placeholder warning: {summary}"));
    let warning = &warning[..warning.find('}').unwrap_or(warning.len())];
    for part in [
        "forms.csv",
        "\"Email\"",
        "\"contacts\": 25",
        "\"busiest_day\": 25",
    ] {
        assert!(warning.contains(part), "{part}: {warning}");
    }
    assert!(
        !summary.to_lowercase().contains("contact.centre"),
        "{summary}"
    );
}

/// Rows rejected for their shape carry identifiers in any column: a field too many or too few
/// moves every later one. The rejects file keeps the row's place and reason, never its text or
/// any of its fields; a row rejected for a date keeps its other fields, the identifiers blank.
/// Checked for the identifiers as typed, spaces and brackets included.
#[test]
fn rejected_rows_keep_no_identifier_whatever_their_shape() {
    let ws = workspace(r#"secret_file = "secret.txt""#);
    ws.write(
        "p/pipeline.toml",
        pipeline(r#"secret_file = "secret.txt""#)
            .replace("fail_reject_share = 0.5", "fail_reject_share = 0.9"),
    );
    ws.write(
        "p/data/forms.csv",
        "Ref,Submitted,Form,Email,Phone
F1,03/01/2025 08:00,Report a repair,,+44 7700 900001
F2,10/01/2025 08:00,Missed bin,jo.bloggs@example.org,07700 900123,x
F3,11/01/2025 08:00,Missed bin,sam.jones@example.net
F4,12/01/2025,x,Missed bin,+44 (0)113 496 0001,kim.lee@example.com
F5,32/01/2025 08:00,Missed bin,lee.park@example.org,07700 900555
F6,28/02/2025 08:00,Parking permit,sam@example.net,
",
    );
    // validate writes no rejects: it names each reason's first row, withholding a misaligned one.
    let checked = ws.cex(&["validate", "p/pipeline.toml"]);
    checked.assert_code(0);
    assert!(
        checked
            .stdout
            .contains("wrong_field_count=3 (first: row 3, the whole row (withheld))"),
        "{}",
        checked.stdout
    );
    assert!(
        checked
            .stdout
            .contains("bad_date=1 (first: row 6, 'Submitted' '32/01/2025 08:00')"),
        "{}",
        checked.stdout
    );
    let out = ws.cex(&["ingest", "p/pipeline.toml"]);
    out.assert_code(0);
    let rejects = walk(&ws.path().join("p/lake/rejects/forms"))
        .into_iter()
        .map(|f| std::fs::read_to_string(f).expect("rejects"))
        .collect::<String>();
    // Four rows rejected, each with its row number and reason.
    assert_eq!(rejects.matches("wrong_field_count").count(), 3, "{rejects}");
    assert!(
        rejects.contains("bad_date") && rejects.contains("32/01/2025"),
        "{rejects}"
    );
    assert!(rejects.contains("withheld: the export carries customer identifiers"));
    let typed = [
        "jo.bloggs",
        "900123",
        "900 123",
        "sam.jones",
        "496 0001",
        "kim.lee",
        "lee.park",
        "900555",
        "900 555",
    ];
    assert_no_identifier(&ws.path().join("p/lake"), &typed);
    for text in [&out.stdout, &out.stderr, &checked.stdout, &checked.stderr] {
        for id in typed {
            assert!(!text.contains(id), "{id} in {text}");
        }
    }
}

/// A file the CSV parser cannot read: its message quotes the text it choked on, which can be
/// lines of the export. What cex shows (stderr, JSON log lines, `last-run.json`) is scrubbed and
/// cut like every other quoted value.
#[test]
fn a_file_that_cannot_be_parsed_is_reported_without_its_personal_data() {
    let ws = workspace(r#"secret_file = "secret.txt""#);
    ws.write(
        "p/data/calls.csv",
        "Call ID,Start,Queue,Outcome,CLI
C1,2025-01-05 10:00,\"Housing queue,Answered,07700 900123 jo.bloggs@example.org
C2,2025-01-20 09:00,Waste queue,Answered,Withheld
",
    );
    for args in [
        vec!["run", "p/pipeline.toml", "--period", "2025-01"],
        vec!["--log-format", "json", "validate", "p/pipeline.toml"],
    ] {
        let out = ws.cex(&args);
        out.assert_code(3);
        assert!(out.stderr.contains("calls.csv"), "{}", out.stderr);
        let summary =
            std::fs::read_to_string(ws.path().join("p/out/last-run.json")).unwrap_or_default();
        for text in [&out.stderr, &out.stdout, &summary] {
            for id in ["900123", "900 123", "bloggs"] {
                assert!(!text.contains(id), "{id} in {text}");
            }
            // (JSON escapes a quote mark with a backslash.)
            for quoted in text.replace("\\\"", "\"").split('`').skip(1).step_by(2) {
                assert!(quoted.chars().count() <= 80, "{quoted}");
            }
        }
    }
}

/// The customers pipeline with record keys made of identifiers: the calls' record id is the
/// caller's number, the forms are told apart by their whole row (`exact_row`); each source
/// reads every export of its name (`calls*.csv`, `forms*.csv`).
fn identifier_keys_pipeline() -> String {
    pipeline(r#"secret_file = "secret.txt""#)
        .replace("record_id = \"Call ID\"", "record_id = \"CLI\"")
        .replace(
            "default_outcome = \"submitted\"",
            "default_outcome = \"submitted\"\nduplicates = \"exact_row\"",
        )
        .replace("files = \"data/calls.csv\"", "files = \"data/calls*.csv\"")
        .replace("files = \"data/forms.csv\"", "files = \"data/forms*.csv\"")
}

/// The header of export `all` and its rows starting with one of `ids`: rows sent again.
fn resent(all: &str, ids: &[&str]) -> String {
    let mut lines = all.lines();
    let mut text = format!("{}\n", lines.next().unwrap_or_default());
    for line in lines.filter(|l| ids.iter().any(|id| l.starts_with(id))) {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// The first 128 bits of the SHA-256 of `text`, in hex: how an unkeyed row hash is made.
fn plain_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn record_keys_cannot_be_tested_against_guessed_identifiers() {
    // The key duplicates are recognised by is kept in the lake. A row hash (`duplicates =
    // "exact_row"`) is made of every field, the customer's phone and e-mail included; a record
    // id can be the customer's own reference or number. Unkeyed, anyone reading the lake could
    // hash each row again with a thousand guessed numbers and see which one matches: the plain
    // hash the secret exists to prevent. The attacker below knows the export's layout and every
    // field but the identifier, and tries the likely ways a row's text is joined.
    let ws = Workspace::new();
    ws.write("p/pipeline.toml", identifier_keys_pipeline());
    ws.write("p/data/calls.csv", CALLS);
    ws.write("p/data/forms.csv", FORMS);
    ws.write("p/secret.txt", format!("{SECRET}\n"));
    run(&ws).assert_code(0);
    let contacts = ws.lake_table_at("p/lake", "contacts");
    let keys: std::collections::BTreeSet<String> = strings(&contacts, "record_key")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(keys.len(), 9, "{keys:?}");

    // The record ids that are phone numbers are not in the lake, as typed or in any other form.
    for line in CALLS.lines().skip(1) {
        let cli = line.rsplit(',').next().unwrap_or_default();
        let digits: String = cli.chars().filter(char::is_ascii_digit).collect();
        for key in &keys {
            assert!(
                !key.contains(cli) && (digits.len() < 6 || !key.contains(&digits)),
                "the lake keeps a record key holding {cli}: {key}"
            );
        }
    }

    // Each form row with a phone number rebuilt with 1,000 guessed mobile numbers, and each
    // with an e-mail address with 100 guessed addresses (the true one among them each time),
    // its fields joined as they were read or trimmed, an empty field as nothing or as a NUL.
    let mut tried = 0;
    let mut found = std::collections::BTreeSet::new();
    for line in FORMS.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let mut guesses: Vec<(usize, String)> = Vec::new();
        if !fields[4].is_empty() {
            guesses.extend((0..1000).map(|n| (4, format!("+44 7700 900{n:03}"))));
        }
        if !fields[3].is_empty() {
            guesses.extend((0..99).map(|n| (3, format!("person{n}@example.org"))));
            guesses.push((3, fields[3].to_string()));
        }
        for (at, guess) in &guesses {
            for trim in [false, true] {
                for empty in ["", "\u{0}"] {
                    let row: Vec<String> = fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let f = if i == *at { guess.as_str() } else { f };
                            let f = if trim { f.trim() } else { f };
                            if f.is_empty() {
                                empty.to_string()
                            } else {
                                f.to_string()
                            }
                        })
                        .collect();
                    tried += 1;
                    if keys.contains(&plain_hash(&row.join("\u{1f}"))) {
                        found.insert(format!("{}: {guess}", fields[0]));
                    }
                }
            }
        }
    }
    assert_eq!(tried, 4 * (1000 + 3 * 100));
    assert!(
        found.is_empty(),
        "identifiers a guess recovered from the lake's row hashes: {found:?}"
    );

    // Keyed, the keys still tell records apart: a call and a form sent again in later exports
    // are duplicates, not new contacts.
    ws.write("p/data/calls-resent.csv", resent(CALLS, &["C1,"]));
    ws.write("p/data/forms-resent.csv", resent(FORMS, &["F2,"]));
    let out = ws.cex(&["ingest", "p/pipeline.toml"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("0 added") && out.stderr.contains("2 duplicates"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.lake_table_at("p/lake", "contacts").height(), 9);
}

#[test]
fn rows_kept_before_their_identifiers_were_keyed_are_still_recognised_when_sent_again() {
    // A lake started before the sources' identifiers were mapped: the calls' record id (the
    // caller's number) and the forms' row hashes were kept unkeyed. Once `[sources.customer]`
    // is added the new keys are keyed, so they cannot equal the old ones; a call and a form sent
    // again must still be duplicates of the rows kept before, not new contacts.
    let ws = Workspace::new();
    let keyed = identifier_keys_pipeline();
    let unmapped = keyed
        .replace("[sources.customer]\nphone = \"CLI\"\n", "")
        .replace(
            "[sources.customer]\nphone = \"Phone\"\nemail = \"Email\"\n",
            "",
        );
    assert!(!unmapped.contains("[sources.customer]"), "{unmapped}");
    ws.write("p/pipeline.toml", &unmapped);
    ws.write("p/data/calls.csv", CALLS);
    ws.write("p/data/forms.csv", FORMS);
    ws.write("p/secret.txt", format!("{SECRET}\n"));
    ws.cex(&["ingest", "p/pipeline.toml"]).assert_code(0);
    assert_eq!(ws.lake_table_at("p/lake", "contacts").height(), 9);

    ws.write("p/pipeline.toml", &keyed);
    // C1 and F2 again, beside one new call and one new form.
    ws.write(
        "p/data/calls-2.csv",
        resent(CALLS, &["C1,"]) + "C7,2025-01-30 10:00,Housing queue,Answered,07700900123\n",
    );
    ws.write(
        "p/data/forms-2.csv",
        resent(FORMS, &["F2,"]) + "F9,30/01/2025 08:00,Missed bin,new@example.org,\n",
    );
    let out = ws.cex(&["ingest", "p/pipeline.toml"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("2 added") && out.stderr.contains("2 duplicates"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.lake_table_at("p/lake", "contacts").height(), 11);
}

#[test]
fn references_match_only_within_their_scheme() {
    // A call about account 12345 and, the next day, a form about case 12345 (another system's
    // numbering): by default each source's references are its own scheme and the form is no
    // repeat of the call; declared one scheme (`reference_scheme`), it is.
    let with_scheme = |scheme: &str| {
        let text = pipeline(r#"secret_file = "secret.txt""#)
            .replace(
                "[sources.customer]\nphone = \"CLI\"\n",
                &format!("[sources.customer]\nreference = \"Account\"\n{scheme}\n"),
            )
            .replace(
                "[sources.customer]\nphone = \"Phone\"\nemail = \"Email\"\n",
                &format!("[sources.customer]\nreference = \"Case\"\n{scheme}\n"),
            );
        assert_eq!(text.matches("reference = ").count(), 2, "{text}");
        text
    };
    let repeats = |scheme: &str| {
        let ws = Workspace::new();
        ws.write("p/pipeline.toml", with_scheme(scheme));
        ws.write(
            "p/data/calls.csv",
            "Call ID,Start,Queue,Outcome,Account\nC1,2025-01-05 10:00,Housing queue,Answered,12345\nC2,2025-02-28 10:00,Housing queue,Answered,99999\n",
        );
        ws.write(
            "p/data/forms.csv",
            "Ref,Submitted,Form,Case\nF1,06/01/2025 09:00,Report a repair, 12345\nF2,28/02/2025 09:00,Report a repair,88888\n",
        );
        ws.write("p/secret.txt", format!("{SECRET}\n"));
        run(&ws).assert_code(0);
        let repeat = read_csv(&ws.path().join("p/out/2025-01/repeat_contact.csv"));
        rows(
            &repeat,
            of("Housing", "web", 7),
            &["contacts", "identified", "repeats"],
        )
    };
    assert_eq!(repeats(""), [[1, 1, 0]], "two schemes, no repeat");
    assert_eq!(
        repeats("reference_scheme = \"council_tax_account\""),
        [[1, 1, 1]],
        "one scheme: the form repeats the call"
    );
}

#[test]
fn a_form_name_with_markup_is_shown_as_text_in_the_report_and_charts() {
    // Form names come from the export: one that is markup must show as text in the report's
    // "ten forms" list, the Markdown report and the charts, never become an element.
    let hostile = "<img src=x onerror=alert(1)>";
    let ws = Workspace::new();
    ws.write(
        "p/pipeline.toml",
        pipeline(r#"secret_file = "secret.txt""#).replace(
            "Housing = [\"Report a repair\"]",
            &format!("Housing = [\"{hostile}\"]"),
        ),
    );
    ws.write("p/data/calls.csv", CALLS);
    ws.write(
        "p/data/forms.csv",
        FORMS.replace("Report a repair", hostile),
    );
    ws.write("p/secret.txt", format!("{SECRET}\n"));
    run(&ws).assert_code(0);
    let out = ws.path().join("p/out/2025-01");
    let by_form = std::fs::read_to_string(out.join("failure_demand_by_form.csv")).expect("csv");
    assert!(
        by_form.contains(hostile),
        "the form is in the table: {by_form}"
    );
    let mut read = 0;
    for path in walk(&out) {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["html", "md", "svg"].contains(&ext) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("text");
        assert!(
            !text.contains("<img src=x"),
            "{} holds the markup as markup",
            path.display()
        );
        read += 1;
    }
    assert!(read >= 3, "report.html, report.md and the charts");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "shown as text"
    );
}
