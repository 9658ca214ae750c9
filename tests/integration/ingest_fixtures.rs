//! Ingest on small hand-made exports: the awkward shapes real systems produce, overlap and
//! re-sent files, quality gates, rejects and the atomic lake.

use crate::errors::{fixture, PIPELINE};
use crate::util::{strings, u64s};

/// UTF-8 with BOM, CRLF, a blank line, a quoted field with a comma and a newline, a trailing
/// separator, header case and spacing changes, and one row of each defect.
const AWKWARD: &[u8] = b"\xEF\xBB\xBF call id ,STARTED,Queue,Result,Wait,Talk,Wrap\r\n\
C1,01/04/2023 09:00:00,HSG,Answered,10,120,30\r\n\
\r\n\
C2,01/04/2023 09:05:00,\"RB\",\"Answered\",5,60,\r\n\
C3,31/02/2023 09:00:00,HSG,Answered,10,120,30\r\n\
C4,01/04/2023 09:10:00,HSG,Answered,-4,120,30\r\n\
C5,01/04/2023 09:15:00,NEWQ,Answered,10,120,30\r\n\
C6,01/04/2023 09:20:00,HSG,\"Hung up,\r\nthen rang back\",10,,\r\n\
C7,01/04/2023 09:25:00,HSG,Abandoned,12s,,\r\n\
C8,2023-04-01T09:30:00+01:00,HSG,Abandoned,3,,,\r\n\
C1,01/04/2023 09:00:00,HSG,Answered,10,120,30\r\n";

#[test]
fn awkward_csv_reconciles_row_by_row() {
    let ws = fixture();
    ws.write("data/calls_2023-04.csv", AWKWARD);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    // 9 records (the blank line is not one): 3 kept, 5 rejected, 1 repeated.
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("data/calls_2023-04.csv"))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(&line[1..5], ["9", "3", "5", "1"], "{}", out.stdout);

    let contacts = ws.lake_table("contacts");
    let mut keys = strings(&contacts, "record_key");
    keys.sort();
    assert_eq!(keys, ["C1", "C2", "C8"].map(|k| Some(k.to_string())));
    let manifest = ws.manifest();
    assert_eq!(
        strings(&manifest, "encoding"),
        [Some("utf-8 with BOM".to_string())]
    );
    assert_eq!(u64s(&manifest, "blank_rows"), [1]);

    // The rejects keep the raw row, its spreadsheet row number and the reason.
    let rejects = std::fs::read_to_string(
        std::fs::read_dir(ws.path().join("lake/rejects/calls"))
            .expect("rejects dir")
            .next()
            .expect("one rejects file")
            .expect("entry")
            .path(),
    )
    .expect("read rejects");
    for expected in [
        "C3,31/02/2023 09:00:00,HSG,Answered,10,120,30,5,bad_date,STARTED,31/02/2023 09:00:00",
        "C4,01/04/2023 09:10:00,HSG,Answered,-4,120,30,6,negative_duration,Wait,-4",
        "C5,01/04/2023 09:15:00,NEWQ,Answered,10,120,30,7,unmapped_service,Queue,NEWQ",
        "C7,01/04/2023 09:25:00,HSG,Abandoned,12s,,,9,bad_number,Wait,12s",
    ] {
        assert!(
            rejects.contains(expected),
            "missing {expected} in\n{rejects}"
        );
    }
    assert!(rejects.contains("unknown_outcome"), "{rejects}");
}

fn month_file(days: std::ops::RangeInclusive<u32>, month: u32) -> String {
    let mut s = String::from("Call ID,Started,Queue,Result,Wait,Talk,Wrap\n");
    for d in days {
        let (m, day) = if d > 30 {
            (month + 1, d - 30)
        } else {
            (month, d)
        };
        s.push_str(&format!(
            "C{m:02}{day:02},{day:02}/{m:02}/2023 10:00:00,HSG,Answered,10,100,20\n"
        ));
    }
    s
}

#[test]
fn overlapping_and_resent_files_are_kept_once_and_reingest_changes_nothing() {
    let ws = fixture();
    // April's export runs into 1 May; May's export starts on 1 May: one day overlaps.
    ws.write("data/calls_2023-04.csv", month_file(1..=31, 4));
    ws.write("data/calls_2023-05.csv", month_file(31..=60, 4));
    // The May file sent again under another name.
    ws.write("data/calls_2023-05_resent.csv", month_file(31..=60, 4));
    let first = ws.cex(&["ingest", "p.toml"]);
    first.assert_code(0);
    let contacts = ws.lake_table("contacts");
    assert_eq!(contacts.height(), 60, "{}", first.stdout);
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rows_read"), [31, 30]);
    assert_eq!(u64s(&manifest, "accepted"), [31, 29]);
    assert_eq!(u64s(&manifest, "duplicates"), [0, 1]);
    assert!(
        first
            .stdout
            .contains("same content as data/calls_2023-05.csv, skipped"),
        "{}",
        first.stdout
    );

    // Second run: every file already in the lake; nothing is written.
    let lake_before = snapshot(&ws.path().join("lake"));
    let second = ws.cex(&["ingest", "p.toml"]);
    second.assert_code(0);
    second.assert_already_in_lake(3);
    assert_eq!(snapshot(&ws.path().join("lake")), lake_before);
    assert_eq!(ws.lake_table("contacts").height(), 60);
}

#[test]
fn a_failed_quality_gate_writes_nothing() {
    let ws = fixture();
    ws.write("data/calls_2023-04.csv", month_file(1..=10, 4));
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let before = snapshot(&ws.path().join("lake"));

    // A new file where a third of the rows have bad dates, and the gate is 5%; beside it, a
    // new good file, which does not go in either (a run's files go in together or not at all).
    ws.write("data/calls_2023-05.csv", month_file(30..=35, 5));
    let mut bad = month_file(11..=19, 4);
    bad.push_str("X1,31/04/2023 10:00:00,HSG,Answered,1,1,1\nX2,soon,HSG,Answered,1,1,1\nX3,,HSG,Answered,1,1,1\n");
    ws.write("data/calls_2023-04b.csv", bad);
    ws.write(
        "p.toml",
        PIPELINE.replace("fail_reject_share = 0.9", "fail_reject_share = 0.05"),
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(4);
    assert!(
        out.stdout.contains(
            "quality gate failed: data/calls_2023-04b.csv: 25.0% of rows rejected (3 of 12)"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);
    assert_eq!(snapshot(&ws.path().join("lake")), before);
}

#[test]
fn unmapped_queues_fail_the_run_when_configured() {
    let ws = fixture();
    let mut s = month_file(1..=3, 4);
    s.push_str("Z1,04/04/2023 10:00:00,NEW_QUEUE,Answered,1,1,1\n");
    ws.write("data/calls.csv", s);
    ws.write(
        "p.toml",
        PIPELINE.replace(
            "fail_on_unmapped_service = false",
            "fail_on_unmapped_service = true",
        ),
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(4);
    assert!(
        out.stdout.contains("no service mapping for 'NEW_QUEUE'"),
        "{}",
        out.stdout
    );
    assert!(!ws.path().join("lake/manifest/_delta_log").exists());
}

#[test]
fn unmapped_queues_are_named_the_most_rows_first_with_rows_and_files() {
    // Three queues no lookup names: 'AAA_SMALL' (1 row) comes first alphabetically but matters
    // least; 'ZZZ_BIG' (5 rows over two files) is the lookup entry to add first. The warning
    // (stderr and last-run.json) ranks them by rows and says how many rows each lost.
    let ws = fixture();
    let row = |id: &str, queue: &str| format!("{id},04/04/2023 10:00:00,{queue},Answered,1,1,1\n");
    let mut first = month_file(1..=3, 4);
    let mut second = month_file(4..=6, 4);
    first.push_str(&row("A1", "AAA_SMALL"));
    for i in 0..3 {
        first.push_str(&row(&format!("Z{i}"), "ZZZ_BIG"));
        second.push_str(&row(&format!("M{i}"), "MMM_MIDDLE"));
    }
    for i in 3..5 {
        second.push_str(&row(&format!("Z{i}"), "ZZZ_BIG"));
    }
    ws.write("data/calls_a.csv", first);
    ws.write("data/calls_b.csv", second);
    let out = ws.cex(&["run", "p.toml", "--skip", "kpi,equality,charts,report"]);
    out.assert_code(0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("no service mapping for"))
        .unwrap_or_else(|| panic!("no warning about the unmapped queues:\n{}", out.stdout));
    assert!(
        line.contains(
            "no service mapping for 'ZZZ_BIG' (5 rows in 2 files), 'MMM_MIDDLE' (3 rows in 1 file), 'AAA_SMALL' (1 row in 1 file); their rows were rejected"
        ),
        "{line}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run.json"),
    )
    .expect("json");
    let warning = json["warnings"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["kind"] == "unmapped_services"))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(warning["values"][0]["value"], "ZZZ_BIG", "{warning}");
    assert_eq!(warning["values"][0]["rows"], 5, "{warning}");
    assert_eq!(warning["values"][0]["files"], 2, "{warning}");
    assert_eq!(warning["more_values"], 0, "{warning}");
    // The rows counted in the warning are the rows rejected: 1 + 3 + 5 = 4 + 5.
    assert!(
        out.stdout.contains("  unmapped_service=4\n")
            && out.stdout.contains("  unmapped_service=5\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn validate_summarises_each_file_and_writes_nothing() {
    let ws = fixture();
    ws.write("data/calls.csv", AWKWARD);
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("pipeline 'fixture' is valid"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("would add"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("bad_date=1; bad_number=1; negative_duration=1"),
        "{}",
        out.stdout
    );
    assert!(!ws.path().join("lake").exists());
}

#[test]
fn windows_1252_exports_decode_and_rejects_are_private() {
    let ws = fixture();
    ws.write(
        "queues.csv",
        format!("{}Café – licences,Licensing\n", crate::errors::QUEUES),
    );
    // "Café – licences" in Windows-1252: é = 0xE9, en dash = 0x96.
    let mut bytes = b"Call ID,Started,Queue,Result,Wait,Talk,Wrap\n".to_vec();
    bytes.extend_from_slice(b"L1,03/04/2023 11:00:00,Caf\xE9 \x96 licences,Answered,5,50,5\n");
    bytes.extend_from_slice(b"L2,03/04/2023 11:00:00,Caf\xE9 \x96 licences,Answered,-5,50,5\n");
    ws.write("data/calls.csv", bytes);
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let contacts = ws.lake_table("contacts");
    assert_eq!(
        strings(&contacts, "service"),
        [Some("Licensing".to_string())]
    );
    assert_eq!(
        strings(&contacts, "category"),
        [Some("Café – licences".to_string())]
    );
    assert_eq!(
        strings(&ws.manifest(), "encoding"),
        [Some("windows-1252".to_string())]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = ws.path().join("lake/rejects/calls");
        for f in std::fs::read_dir(dir).expect("rejects") {
            let mode = f
                .expect("entry")
                .metadata()
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The whole lake (survey responses with special-category data, raw rows in the
        // rejects) is owner-only: nobody else can enter it.
        let lake = std::fs::metadata(ws.path().join("lake"))
            .expect("lake")
            .permissions()
            .mode();
        assert_eq!(lake & 0o777, 0o700);
    }
}

/// Every file under a folder with its bytes, for "nothing changed" checks.
pub fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != ".lock") {
                out.push((
                    p.display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn financial_years_turn_at_local_midnight_on_1_april() {
    let ws = fixture();
    ws.write(
        "data/calls.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\n\
         Y1,31/03/2024 23:59:59,HSG,Answered,1,1,1\n\
         Y2,01/04/2024 00:00:00,HSG,Answered,1,1,1\n\
         Y3,2024-03-31T23:30:00+00:00,HSG,Answered,1,1,1\n\
         Y4,2024-03-31T22:59:59+00:00,HSG,Answered,1,1,1\n\
         Y5,31/03/2023 23:30:00,HSG,Answered,1,1,1\n",
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let contacts = ws
        .lake_table("contacts")
        .sort(["record_key"], Default::default())
        .expect("sort");
    // 23:30 UTC on 31 March 2024 is 00:30 BST on 1 April: the new year. 22:59:59 UTC is 23:59:59 BST.
    assert_eq!(
        strings(&contacts, "financial_year"),
        ["2023/24", "2024/25", "2024/25", "2023/24", "2022/23"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        strings(&contacts, "date"),
        [
            "2024-03-31",
            "2024-04-01",
            "2024-04-01",
            "2024-03-31",
            "2023-03-31"
        ]
        .map(|s| Some(s.to_string()))
    );
}
