//! `cex init` (issue 15 item 11): exports nobody has mapped are sniffed (encoding, delimiter,
//! header, date formats, low-cardinality columns) into a starter pipeline file and lookup
//! templates listing every category; once the analyst fills the lookups in, the starter
//! validates. Tried on an export written here by hand and on a real 311 export.

use crate::util::{repo, Workspace};

fn fill_lookups(ws: &Workspace, dir: &str) {
    for entry in std::fs::read_dir(ws.path().join(dir).join("lookups")).expect("lookups") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("lookup");
        // The analyst's part: every value gets a service (here, itself).
        let filled: String = text
            .lines()
            .map(|l| match l.strip_suffix(',') {
                Some(v) => format!("{v},{}\n", v.trim_matches('"').replace(',', " ")),
                None => format!("{l}\n"),
            })
            .collect();
        std::fs::write(&path, filled).expect("write lookup");
    }
}

#[test]
fn a_semicolon_windows_1252_export_gets_a_starter_that_validates_once_filled() {
    let ws = Workspace::new();
    let mut bytes = b"Case Ref;Date Created;Contact Channel;Enquiry Type;Status\n".to_vec();
    // Windows-1252 bytes: 0xE9 is "é".
    let types: [&[u8]; 4] = [
        b"Council Tax",
        b"Missed bin",
        b"Parking; permits",
        b"Caf\xe9 licence",
    ];
    let channels = ["Phone", "Web form", "Email"];
    for i in 0..40 {
        bytes.extend(
            format!(
                "C{i:04};{:02}/05/2024 {:02}:{:02};{};",
                i % 28 + 1,
                8 + i % 9,
                i % 60,
                channels[i % 3]
            )
            .as_bytes(),
        );
        let t = types[i % 4];
        if t.contains(&b';') {
            bytes.extend(b"\"");
            bytes.extend(t);
            bytes.extend(b"\"");
        } else {
            bytes.extend(t);
        }
        bytes.extend(if i % 5 == 0 {
            b";Open\n".as_slice()
        } else {
            b";Closed\n".as_slice()
        });
    }
    ws.write("exports/cases.csv", bytes);
    let out = ws.cex(&["init", "exports/cases.csv", "--dir", "job"]);
    out.assert_code(0);
    let toml = std::fs::read_to_string(ws.path().join("job/pipeline.toml")).expect("pipeline");
    for expected in [
        "files = \"../exports/cases.csv\"",
        "encoding = \"windows-1252\"",
        "delimiter = \";\"",
        "timestamp_formats = [\"%d/%m/%Y %H:%M\"]",
        "record_id = \"Case Ref\"",
        "channel = \"Contact Channel\"",
        "category = \"Enquiry Type\"",
        "outcome = \"Status\"",
        // Most frequent first.
        "other = [\"Phone\", \"Email\", \"Web form\"]",
    ] {
        assert!(toml.contains(expected), "{expected} not in\n{toml}");
    }
    let lookup =
        std::fs::read_to_string(ws.path().join("job/lookups/cases_services.csv")).expect("lookup");
    for t in [
        "Council Tax,",
        "Missed bin,",
        "Parking; permits,",
        "Café licence,",
    ] {
        assert!(lookup.contains(t), "{t} not in\n{lookup}");
    }
    // As written, the lookups are empty: validate says which row to fill in.
    let out = ws.cex(&["validate", "job/pipeline.toml"]);
    assert_ne!(out.code, 0);
    fill_lookups(&ws, "job");
    let out = ws.cex(&["validate", "job/pipeline.toml"]);
    out.assert_code(0);
    assert!(out.stdout.contains("40"), "{}", out.stdout);
    // Nothing is written over an existing file.
    let again = ws.cex(&["init", "exports/cases.csv", "--dir", "job"]);
    again.assert_code(3);
    assert!(again.stderr.contains("exists"), "{}", again.stderr);
}

#[test]
fn a_real_311_export_gets_a_starter_that_validates_once_filled() {
    let ws = Workspace::new();
    let export = "MyLA311_2017_subset_lines4519-5218.csv";
    std::fs::copy(
        repo().join("tests/realdata/la311").join(export),
        ws.path().join(export),
    )
    .expect("copy");
    ws.cex(&["init", export, "--dir", "job"]).assert_code(0);
    let toml = std::fs::read_to_string(ws.path().join("job/pipeline.toml")).expect("pipeline");
    for expected in [
        "timestamp_formats = [\"%m/%d/%Y %I:%M:%S %p\"]",
        "record_id = \"SRNumber\"",
        "channel = \"RequestSource\"",
        "category = \"RequestType\"",
    ] {
        assert!(toml.contains(expected), "{expected} not in\n{toml}");
    }
    fill_lookups(&ws, "job");
    let out = ws.cex(&["validate", "job/pipeline.toml"]);
    out.assert_code(0);
}
