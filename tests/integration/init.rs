//! `cex init` (issue 15 item 11): exports nobody has mapped are sniffed (encoding, delimiter,
//! header, date formats, low-cardinality columns) into a starter pipeline file and lookup
//! templates listing every category; once the analyst fills the lookups in, the starter
//! validates. Tried on an export written here by hand and on a real 311 export.

use crate::util::{repo, u64s, Workspace};

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
    // Not even when the pipeline file is gone but a filled-in lookup is still there: the
    // lookup is kept as it is and nothing else is written either.
    std::fs::remove_file(ws.path().join("job/pipeline.toml")).expect("remove the pipeline");
    let lookups: Vec<_> = crate::util::walk(&ws.path().join("job"))
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
        .collect();
    assert!(!lookups.is_empty());
    let again = ws.cex(&["init", "exports/cases.csv", "--dir", "job"]);
    again.assert_code(3);
    assert!(again.stderr.contains("exists"), "{}", again.stderr);
    assert!(!ws.path().join("job/pipeline.toml").exists());
    for (path, bytes) in lookups {
        assert_eq!(
            std::fs::read(&path).expect("read"),
            bytes,
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_decimal_comma_export_gets_a_starter_that_reads_its_numbers() {
    // A European telephony export: `;` between fields, waits like `12,5` and `1.234,5`.
    let ws = Workspace::new();
    let mut csv = String::from("Call Ref;Started;Queue;Outcome;Wait (s)\n");
    let waits = ["12,5", "7", "1.234,5", "0,25"];
    for i in 0..20 {
        csv.push_str(&format!(
            "K{i:03};{:02}/05/2024 09:{:02};{};{};{}\n",
            i % 28 + 1,
            i % 60,
            ["Housing", "Waste"][i % 2],
            ["Answered", "Abandoned"][i % 2],
            waits[i % 4]
        ));
    }
    ws.write("exports/calls.csv", csv);
    ws.cex(&["init", "exports/calls.csv", "--dir", "job"])
        .assert_code(0);
    let toml = std::fs::read_to_string(ws.path().join("job/pipeline.toml")).expect("pipeline");
    for expected in [
        "delimiter = \";\"",
        "decimal_comma = true",
        "wait = \"Wait (s)\"",
    ] {
        assert!(toml.contains(expected), "{expected} not in\n{toml}");
    }
    fill_lookups(&ws, "job");
    ws.cex(&["ingest", "job/pipeline.toml"]).assert_code(0);
    let lake = ws.lake_table_at("job/lake", "contacts");
    let total: f64 = lake
        .column("wait_seconds")
        .expect("waits")
        .f64()
        .expect("f64")
        .iter()
        .flatten()
        .sum();
    // Five of each wait: 5 x (12.5 + 7 + 1234.5 + 0.25).
    assert!((total - 5.0 * 1254.25).abs() < 1e-9, "{total}");
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

/// A front-desk workbook written here (not by the generator): a sheet that is not the default
/// name, real date cells, arrival times as text, counts as numbers. `cex init` reads its first
/// sheet as ingest will and writes a starter that validates once the lookups are filled in.
#[test]
fn an_excel_workbook_gets_a_starter_that_validates_once_filled() -> Result<(), String> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let ws = Workspace::new();
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("Front desk").map_err(err)?;
    for (j, h) in [
        "Ticket No",
        "Visit Date",
        "Arrival",
        "Enquiry",
        "Outcome",
        "Wait (mins)",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, j as u16, *h).map_err(err)?;
    }
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let enquiries = ["Council Tax", "Housing Benefit", "Blue Badge", "Parking"];
    for i in 0..30u32 {
        let r = i + 1;
        sheet
            .write_string(r, 0, format!("T{:05}", 100 + i))
            .map_err(err)?;
        let day = ExcelDateTime::from_ymd(2024, 6, (i % 28 + 1) as u8).map_err(err)?;
        sheet
            .write_datetime_with_format(r, 1, &day, &date)
            .map_err(err)?;
        sheet
            .write_string(r, 2, format!("{:02}:{:02}", 9 + i % 7, (i * 7) % 60))
            .map_err(err)?;
        sheet
            .write_string(r, 3, enquiries[i as usize % 4])
            .map_err(err)?;
        sheet
            .write_string(r, 4, if i % 6 == 0 { "Left" } else { "Served" })
            .map_err(err)?;
        sheet.write_number(r, 5, f64::from(i % 17)).map_err(err)?;
    }
    let path = ws.path().join("exports/visits.xlsx");
    std::fs::create_dir_all(ws.path().join("exports")).map_err(|e| e.to_string())?;
    wb.save(&path).map_err(err)?;

    ws.cex(&["init", "exports/visits.xlsx", "--dir", "job"])
        .assert_code(0);
    let toml =
        std::fs::read_to_string(ws.path().join("job/pipeline.toml")).map_err(|e| e.to_string())?;
    for expected in [
        "files = \"../exports/visits.xlsx\"",
        "sheet = \"Front desk\"",
        "record_id = \"Ticket No\"",
        "category = \"Enquiry\"",
        "outcome = \"Outcome\"",
    ] {
        assert!(toml.contains(expected), "{expected} not in\n{toml}");
    }
    // The date cells read as ISO dates, as ingest reads them.
    assert!(
        toml.contains("\"%Y-%m-%d\""),
        "no ISO date format in\n{toml}"
    );
    assert!(
        !toml.contains("delimiter ="),
        "a workbook has no delimiter:\n{toml}"
    );
    let lookup = std::fs::read_to_string(ws.path().join("job/lookups/visits_services.csv"))
        .map_err(|e| e.to_string())?;
    for t in enquiries {
        assert!(lookup.contains(&format!("{t},")), "{t} not in\n{lookup}");
    }
    fill_lookups(&ws, "job");
    let out = ws.cex(&["validate", "job/pipeline.toml"]);
    out.assert_code(0);
    assert!(out.stdout.contains("30"), "{}", out.stdout);
    Ok(())
}

/// A header holding line breaks (legal in a quoted CSV field) stays inside its comment or its
/// string: it cannot add a key or a source to the starter.
#[test]
fn a_header_with_line_breaks_cannot_add_keys_to_the_starter() {
    let ws = Workspace::new();
    let mut csv = String::from("Ref,Date,\"Notes\n[[sources]]\nname = \"injected\"\",Channel\n");
    for i in 0..12 {
        csv.push_str(&format!("R{i},2024-05-{:02},note {i},Phone\n", i + 1));
    }
    ws.write("exports/cases.csv", csv);
    ws.cex(&["init", "exports/cases.csv", "--dir", "job"])
        .assert_code(0);
    let text = std::fs::read_to_string(ws.path().join("job/pipeline.toml")).expect("pipeline");
    let parsed: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let sources = parsed
        .get("sources")
        .and_then(|s| s.as_array())
        .map(|s| s.len());
    assert_eq!(sources, Some(1), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("name = \"injected\"")),
        "{text}"
    );
}

/// A real count export laid out wide (San Francisco's 311 cases by channel: a month column, one
/// count column per channel and the publisher's total): `cex init` proposes `[sources.wide]
/// across = "channel"` over the four channel columns, leaves the total unmapped, and the starter
/// as written ingests every count, checked against the file's own sums.
#[test]
fn a_real_count_export_with_a_column_per_channel_gets_a_wide_starter() {
    let ws = Workspace::new();
    let export = "sf311_cases_by_channel_2015-12_2016-09.csv";
    let text = std::fs::read_to_string(repo().join("tests/realdata/sf311_channels").join(export))
        .expect("export");
    ws.write(export, &text);
    ws.cex(&["init", export, "--dir", "job"]).assert_code(0);
    let toml = std::fs::read_to_string(ws.path().join("job/pipeline.toml")).expect("pipeline");
    for expected in [
        "[sources.wide]",
        "across = \"channel\"",
        "columns = [\"mobile\", \"web\", \"phone\", \"twitter\"]",
        "\"mobile\" = \"app\"",
        "\"phone\" = \"telephone\"",
        "\"twitter\" = \"social\"",
    ] {
        assert!(toml.contains(expected), "{expected} not in\n{toml}");
    }
    // The publisher's total is no channel: left out, or it would count every request twice.
    assert!(!toml.contains("count = "), "{toml}");
    assert!(!toml.contains("channel = \"web\""), "{toml}");
    ws.cex(&["ingest", "job/pipeline.toml"]).assert_code(0);
    // Every count is in the lake: the four channel columns summed here from the file.
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let channels: Vec<usize> = ["mobile", "web", "phone", "twitter"]
        .iter()
        .map(|c| header.iter().position(|h| h == c).expect("column"))
        .collect();
    let want: u64 = lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            channels
                .iter()
                .map(|i| fields[*i].parse::<u64>().expect("count"))
                .sum::<u64>()
        })
        .sum();
    let contacts = ws.lake_table_at("job/lake", "contacts");
    assert_eq!(contacts.height(), 40);
    assert_eq!(u64s(&contacts, "contacts").iter().sum::<u64>(), want);
}
