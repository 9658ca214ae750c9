//! The published tables' contract, run through the binary: the list of tables and every table's
//! columns (name and type) are pinned in `tests/golden/tables.json`, so renaming a column is a
//! visible change to a reviewed file, not a silent blank in a chart; a table read back without a
//! column the charts and report need is refused; and a run for a given day (`--as-of`) gives
//! byte-identical outputs whatever the machine's time zone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::{json, Value};

use crate::util::{repo, Workspace};

const AS_OF: &str = "2025-04-03";

fn run_sample(ws: &Workspace, extra: &[&str], tz: &str) -> crate::util::Output {
    let mut args = vec!["run", "pipelines/sample.toml", "--as-of", AS_OF];
    args.extend(extra);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cex"))
        .args(&args)
        .current_dir(ws.path())
        .env("TZ", tz)
        .output()
        .expect("run cex");
    crate::util::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `{ "<folder>/<table>": ["column: type", ...] }` for every table a publication lists.
fn columns_of(publication: &Path) -> BTreeMap<String, Value> {
    let mut tables = BTreeMap::new();
    for (prefix, dir) in [
        ("", publication.to_path_buf()),
        ("equality/", publication.join("equality")),
    ] {
        let index: Vec<Value> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("tables.json")).expect("tables.json"),
        )
        .expect("index");
        for entry in index {
            let name = entry["name"].as_str().expect("name").to_string();
            let file = std::fs::File::open(dir.join(format!("{name}.parquet"))).expect("parquet");
            let df = ParquetReader::new(file).finish().expect("read parquet");
            let columns: Vec<Value> = df
                .columns()
                .iter()
                .map(|c| json!(format!("{}: {}", c.name(), c.dtype())))
                .collect();
            tables.insert(format!("{prefix}{name}"), json!(columns));
        }
    }
    tables
}

fn golden_path() -> PathBuf {
    repo().join("tests/golden/tables.json")
}

#[test]
fn every_published_table_and_column_is_pinned_by_the_golden_file() {
    let ws = Workspace::with_sample_data();
    let out = run_sample(&ws, &[], "UTC");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run.json"),
    )
    .expect("json");
    assert_eq!(summary["as_of"], AS_OF);
    assert_eq!(summary["period"], "2025-03");
    let actual = json!(columns_of(&ws.path().join("out/2025-03")));
    if std::env::var_os("CEX_BLESS").is_some() {
        std::fs::create_dir_all(golden_path().parent().expect("parent")).expect("mkdir");
        std::fs::write(
            golden_path(),
            serde_json::to_string_pretty(&actual).expect("json") + "\n",
        )
        .expect("write golden");
        return;
    }
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(golden_path()).expect(
        "tests/golden/tables.json (write it with CEX_BLESS=1 cargo test --release golden)",
    ))
    .expect("golden json");
    let (a, g) = (
        actual.as_object().expect("object"),
        golden.as_object().expect("object"),
    );
    let mut changes = Vec::new();
    for (name, columns) in g {
        match a.get(name) {
            None => changes.push(format!("table {name} is no longer published")),
            Some(c) if c != columns => {
                changes.push(format!("table {name}: columns were {columns}, now {c}"))
            }
            _ => {}
        }
    }
    for name in a.keys().filter(|n| !g.contains_key(*n)) {
        changes.push(format!("table {name} is new"));
    }
    assert!(
        changes.is_empty(),
        "the published tables changed (if on purpose, review and run CEX_BLESS=1 cargo test --release golden):\n{}",
        changes.join("\n")
    );
    // Every column the charts and the report read is in the golden file: a rename on either
    // side shows up here.
    for (name, columns) in g {
        let table = name.trim_start_matches("equality/");
        let names: Vec<&str> = columns
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|c| c.as_str()?.split(": ").next())
            .collect();
        assert_eq!(
            cex_insight::tables::contract::missing(table, &names),
            None,
            "{name}"
        );
    }
}

#[test]
fn a_published_table_without_a_column_the_report_reads_is_refused() {
    let ws = Workspace::with_sample_data();
    assert_eq!(run_sample(&ws, &[], "UTC").code, 0);
    // Someone edits the published table and drops a column.
    let path = ws.path().join("out/2025-03/response_rate.parquet");
    let file = std::fs::File::open(&path).expect("open");
    let mut df = ParquetReader::new(file)
        .finish()
        .expect("read")
        .drop("response_rate_pct")
        .expect("drop");
    let file = std::fs::File::create(&path).expect("create");
    ParquetWriter::new(file).finish(&mut df).expect("write");
    let out = ws.cex(&["report", "pipelines/sample.toml", "--period", "2025-03"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("response_rate.parquet") && out.stderr.contains("'response_rate_pct'"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("prefix").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

#[test]
fn a_run_as_of_a_day_is_byte_identical_in_any_time_zone() {
    let ws = Workspace::with_sample_data();
    assert_eq!(run_sample(&ws, &[], "UTC").code, 0);
    // Two runs from the same lake, on machines set to opposite ends of the world's clocks.
    let mut published = Vec::new();
    for tz in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let out = run_sample(&ws, &["--skip", "ingest"], tz);
        assert_eq!(out.code, 0, "{}", out.stderr);
        published.push(files(&ws.path().join("out/2025-03")));
    }
    assert!(published[0].len() > 40, "{} files", published[0].len());
    assert_eq!(
        published[0].keys().collect::<Vec<_>>(),
        published[1].keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &published[0] {
        assert!(published[1][path] == *bytes, "{} differs", path.display());
    }
    let report = String::from_utf8_lossy(&published[0][Path::new("report.md")]).into_owned();
    assert!(
        report.contains("3 April 2025"),
        "the report is dated by --as-of"
    );
}
