//! The lake's promises through the binary: a second writer is refused with exit 5 while a first
//! holds the lock, a past publication is reproduced from the lake as it was (`--lake-version`),
//! every documented exit code comes with its one-line message, and `last-run.json` is written for
//! a failed run too.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::errors::fixture;
use crate::util::Workspace;

const CALLS: &str = "Call ID,Started,Queue,Result,Wait,Talk,Wrap\n\
A1,01/03/2024 09:00:00,HSG,Answered,10,60,5\n\
A2,02/03/2024 10:00:00,RB,Abandoned,30,,\n";

/// The one line of stderr a failed command printed.
fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{stderr}");
    lines[0]
}

#[test]
fn a_second_writer_exits_5_at_once_while_the_first_holds_the_lock() {
    let ws = Workspace::with_sample_data();
    // The lock is the kernel's: hold it from another process (flock(1) when the machine has it,
    // else a cex ingest that is still running).
    let lock = ws.path().join("lake/.lock");
    std::fs::create_dir_all(lock.parent().expect("lake")).expect("lake folder");
    // --no-fork: flock itself runs `sleep`, so killing it releases the lock.
    let holder = Command::new("flock")
        .args([
            "--no-fork",
            "-x",
            lock.to_str().expect("path"),
            "sleep",
            "5",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut holder) = holder else {
        eprintln!("flock(1) not installed: lock test skipped");
        return;
    };
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let out = ws.cex(&["ingest", "pipelines/sample.toml"]);
    out.assert_code(5);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "waited for the lock"
    );
    assert!(
        one_line(&out.stderr).contains("is being written by another cex run"),
        "{}",
        out.stderr
    );
    // A reader is not a writer: it reads the (empty) lake without waiting for the lock.
    let out = ws.cex(&["kpi", "pipelines/sample.toml"]);
    out.assert_code(3);
    assert!(one_line(&out.stderr).contains("the lake holds no contacts"));
    let _ = holder.kill();
    let _ = holder.wait();
    // Released by the kernel with the process: the next writer goes through.
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
}

#[test]
fn a_past_publication_is_reproduced_from_the_lake_as_it_was() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml", "--source", "telephony"])
        .assert_code(0);
    ws.cex(&["kpi", "pipelines/sample.toml", "--period", "2024-03"])
        .assert_code(0);
    let first = std::fs::read(ws.path().join("out/2024-03/volumes.csv")).expect("volumes");
    let summary =
        std::fs::read_to_string(ws.path().join("out/2024-03/kpi-summary.json")).expect("summary");
    assert!(summary.contains("\"lake_version\": 0"), "{summary}");

    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    ws.cex(&["kpi", "pipelines/sample.toml", "--period", "2024-03"])
        .assert_code(0);
    let now = std::fs::read(ws.path().join("out/2024-03/volumes.csv")).expect("volumes");
    assert_ne!(first, now, "the second ingest changed nothing");

    ws.cex(&[
        "kpi",
        "pipelines/sample.toml",
        "--period",
        "2024-03",
        "--lake-version",
        "0",
    ])
    .assert_code(0);
    let again = std::fs::read(ws.path().join("out/2024-03/volumes.csv")).expect("volumes");
    assert_eq!(
        first, again,
        "version 0 read back differs from what was published then"
    );
    let out_folder = ws.path().join("out/2024-03");

    // The whole publication, every table of it, from a lake of every source: February's calls
    // come late (a new version); the publication made from version 1 is the one made then.
    std::fs::remove_dir_all(ws.path().join("lake")).expect("a new lake");
    let february = ws.path().join("sample_data/telephony/calls_2024-02.csv");
    let aside = ws.path().join("calls_2024-02.csv");
    std::fs::rename(&february, &aside).expect("hold February's calls back");
    ws.cex(&["ingest", "pipelines/sample.toml", "--source", "telephony"])
        .assert_code(0);
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let publish = |extra: &[&str]| {
        let mut args = vec![
            "kpi",
            "pipelines/sample.toml",
            "--period",
            "2024-03",
            "--as-of",
            "2024-04-03",
        ];
        args.extend(extra);
        ws.cex(&args).assert_code(0);
        kpi_tables(&out_folder)
    };
    let then = publish(&[]);
    assert!(then.len() > 15, "{:?}", then.keys());
    std::fs::rename(&aside, &february).expect("February's calls");
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    assert_ne!(publish(&[]), then, "February's calls changed nothing");
    assert_eq!(
        publish(&["--lake-version", "1"]),
        then,
        "version 1 read back differs from what was published then"
    );

    let out = ws.cex(&["kpi", "pipelines/sample.toml", "--lake-version", "9"]);
    out.assert_code(2);
    assert!(one_line(&out.stderr).contains("has no version 9 (its latest is 2)"));
    let out = ws.cex(&["run", "pipelines/sample.toml", "--lake-version", "0"]);
    out.assert_code(2);
    assert!(one_line(&out.stderr).contains("add --skip ingest"));
}

#[test]
fn each_exit_code_comes_with_its_one_line_message() {
    let ws = fixture();
    // 3: nothing to compute from.
    let out = ws.cex(&["kpi", "p.toml"]);
    out.assert_code(3);
    assert!(one_line(&out.stderr).contains("the lake holds no contacts"));
    let out = ws.cex(&["report", "p.toml", "--period", "2024-03"]);
    out.assert_code(3);
    assert!(one_line(&out.stderr).contains("no KPI tables for"));
    // 2: a bad command-line value, named with its fix.
    let out = ws.cex(&["kpi", "p.toml", "--period", "March"]);
    out.assert_code(2);
    assert!(one_line(&out.stderr).contains("'March' is not a month: give YYYY-MM"));
    let out = ws.cex(&["kpi", "p.toml", "--fy", "2023"]);
    out.assert_code(2);
    assert!(one_line(&out.stderr).contains("'2023' is not a financial year: give YYYY/YY"));
    ws.write("data/calls.csv", CALLS);
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    // 1: a warning (a rejected row, above the warning share) with --deny-warnings.
    ws.write(
        "data/calls2.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\n\
         B1,31/02/2024 09:00:00,HSG,Answered,10,60,5\n\
         B2,03/03/2024 10:00:00,HSG,Answered,10,60,5\n",
    );
    let out = ws.cex(&["ingest", "p.toml", "--deny-warnings"]);
    out.assert_code(1);
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("bad_date=1"), "{said}");
    // 2: a lake in the layout before Delta, for a reader.
    let legacy = ws.path().join("old-lake");
    std::fs::create_dir_all(&legacy).expect("folder");
    std::fs::write(legacy.join("manifest.parquet"), b"PAR1").expect("write");
    let pipeline = std::fs::read_to_string(ws.path().join("p.toml"))
        .expect("pipeline")
        .replace("lake = \"lake\"", "lake = \"old-lake\"");
    ws.write("old.toml", pipeline);
    let out = ws.cex(&["kpi", "old.toml"]);
    out.assert_code(2);
    assert!(one_line(&out.stderr).contains("cex lake upgrade"));
}

#[test]
fn a_failed_run_still_leaves_last_run_json() {
    let ws = fixture();
    let out = ws.cex(&["run", "p.toml"]);
    out.assert_code(3);
    let text = std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["status"], "failed", "{text}");
    assert_eq!(json["exit_code"], 3, "{text}");
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.contains("no files match")),
        "{text}"
    );
    // And a good run says so.
    ws.write("data/calls.csv", CALLS);
    ws.cex(&["run", "p.toml", "--skip", "equality,charts,report"])
        .assert_code(0);
    let text = std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["status"], "ok", "{text}");
    assert_eq!(json["lake_version"], 0, "{text}");
}

#[test]
fn kpis_alone_republish_the_period_whole_with_its_report_and_equality_tables() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["run", "pipelines/sample.toml", "--fy", "2023/24"])
        .assert_code(0);
    let dir = ws.path().join("out/fy2023-24");
    let equality = std::fs::read(dir.join("equality/equality_sex.csv")).expect("equality");
    ws.cex(&["kpi", "pipelines/sample.toml", "--fy", "2023/24"])
        .assert_code(0);
    // The report and charts are drawn again, the equality tables kept as they were.
    assert!(dir.join("report.html").is_file() && dir.join("charts/charts.json").is_file());
    assert_eq!(
        std::fs::read(dir.join("equality/equality_sex.csv")).expect("equality"),
        equality
    );
    // No staging folder is left beside the publication.
    let left: Vec<String> = std::fs::read_dir(ws.path().join("out"))
        .expect("out")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_delta_reader_cex_did_not_write_sees_the_rows_cex_reads() {
    use polars::prelude::*;
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let report = crate::soak::check_lake(&ws.path().join("lake"), &[], "sample lake");
    for table in ["contacts", "responses"] {
        // cex's own reader, grouped the same way.
        let ours = ws
            .lake_table(table)
            .lazy()
            .group_by([col("source"), col("year"), col("month")])
            .agg([len().alias("rows")])
            .sort(["source", "year", "month"], SortMultipleOptions::default())
            .collect()
            .expect("monthly rows");
        let theirs = report["tables"][table]["monthly_totals"]
            .as_array()
            .expect("monthly totals");
        assert_eq!(ours.height(), theirs.len(), "{table}: months");
        let sources = ours
            .column("source")
            .expect("source")
            .str()
            .expect("str")
            .clone();
        let rows = ours
            .column("rows")
            .expect("rows")
            .cast(&DataType::UInt64)
            .expect("u64");
        let rows = rows.u64().expect("u64");
        for (i, t) in theirs.iter().enumerate() {
            assert_eq!(t["source"].as_str(), sources.get(i), "{table} row {i}");
            assert_eq!(t["rows"].as_u64(), rows.get(i), "{table} {t}");
        }
        let accepted: u64 = crate::util::u64s(
            &ws.manifest()
                .lazy()
                .filter(col("table").eq(lit(table)))
                .collect()
                .expect("manifest"),
            "accepted",
        )
        .iter()
        .sum();
        assert_eq!(
            report["tables"][table]["rows"].as_u64(),
            Some(accepted),
            "{table}"
        );
    }
}

/// A small tmpfs mounted for a test (root only), unmounted when dropped.
struct Tiny(std::path::PathBuf);

impl Tiny {
    fn mount(at: &std::path::Path, size: &str) -> Option<Tiny> {
        std::fs::create_dir_all(at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tiny(at.to_path_buf()))
    }
}

impl Drop for Tiny {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_exit_10_naming_the_lake_file_and_the_next_run_completes_the_lake() {
    let reference = Workspace::with_sample_data();
    reference
        .cex(&["ingest", "pipelines/sample.toml"])
        .assert_code(0);
    let expected = crate::soak::check_lake(&reference.path().join("lake"), &[], "reference");
    // Disks that fill at different moments: while writing data files, rejects, or the commits.
    for size in ["256k", "1m", "2500k", "2600k", "2650k"] {
        let ws = Workspace::with_sample_data();
        let Some(disk) = Tiny::mount(&ws.path().join("tiny"), size) else {
            eprintln!("cannot mount a tmpfs here (not root?): full-disk test skipped");
            return;
        };
        let pipeline = std::fs::read_to_string(ws.path().join("pipelines/sample.toml"))
            .expect("pipeline")
            .replace("lake = \"../lake\"", "lake = \"../tiny/lake\"");
        ws.write("pipelines/tiny.toml", pipeline);
        let out = ws.cex(&["ingest", "pipelines/tiny.toml"]);
        if out.code != 0 {
            out.assert_code(10);
            let line = one_line(&out.stderr);
            assert!(line.contains("No space left on device"), "{size}: {line}");
            assert!(
                line.contains("tiny/lake"),
                "{size}: names the lake file: {line}"
            );
        }
        if size == "256k" {
            // Full before any commit: the run removed what it wrote at once.
            let mut left = Vec::new();
            let mut stack = vec![ws.path().join("tiny/lake")];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    if e.path().is_dir() {
                        stack.push(e.path());
                    } else if e.file_name() != ".lock" {
                        left.push(e.path());
                    }
                }
            }
            assert!(left.is_empty(), "{left:?}");
        }
        // Space again: the next run finishes the job, nothing lost or doubled.
        let grown = Command::new("mount")
            .args(["-o", "remount,size=64m"])
            .arg(&disk.0)
            .status()
            .is_ok_and(|s| s.success());
        assert!(grown, "remount");
        ws.cex(&["ingest", "pipelines/tiny.toml"]).assert_code(0);
        let report = crate::soak::check_lake(&ws.path().join("tiny/lake"), &[], size);
        for table in ["contacts", "responses"] {
            assert_eq!(
                report["tables"][table]["rows"], expected["tables"][table]["rows"],
                "{size}: {table}"
            );
        }
        assert_eq!(report["files"], expected["files"], "{size}");
    }
}

#[test]
fn councils_named_in_a_column_get_partitions_of_their_own_whatever_their_names() {
    let ws = fixture();
    let pipeline = std::fs::read_to_string(ws.path().join("p.toml"))
        .expect("pipeline")
        .replace(
            "record_id = \"Call ID\"",
            "record_id = \"Call ID\"\norganisation = \"Council\"",
        );
    ws.write("p.toml", pipeline);
    ws.write(
        "data/calls.csv",
        "Call ID,Council,Started,Queue,Result,Wait,Talk,Wrap\n\
         A1,North/East,01/03/2024 09:00:00,HSG,Answered,10,60,5\n\
         A2,South,02/03/2024 10:00:00,RB,Abandoned,30,,\n\
         A3,North/East,03/04/2024 10:00:00,RB,Answered,30,20,5\n",
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let table = ws.path().join("lake/contacts");
    assert!(table
        .join("organisation=North%2FEast/source=calls/year=2024/month=3")
        .is_dir());
    assert!(table
        .join("organisation=North%2FEast/source=calls/year=2024/month=4")
        .is_dir());
    assert!(table
        .join("organisation=South/source=calls/year=2024/month=3")
        .is_dir());
    let report = crate::soak::check_lake(&ws.path().join("lake"), &[], "two councils");
    assert_eq!(report["tables"]["contacts"]["rows"], 3);
    let contacts = ws.lake_table("contacts");
    assert_eq!(
        crate::util::strings(&contacts, "organisation")
            .iter()
            .filter(|o| o.as_deref() == Some("North/East"))
            .count(),
        2
    );
}

/// The published KPI tables of one output folder, by file name.
pub(crate) fn kpi_tables(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("output folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            (name.unwrap_or_default(), std::fs::read(&p).expect("table"))
        })
        .collect()
}

#[test]
fn figures_from_the_monthly_aggregates_equal_figures_from_the_rows_however_many_are_missing() {
    let ws = Workspace::with_sample_data();
    let lake = ws.path().join("lake");
    ws.cex(&["ingest", "pipelines/sample.toml", "--source", "telephony"])
        .assert_code(0);
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    // A reader cex did not write: every contacts file has aggregates, and they add up to its rows.
    let report = crate::soak::check_lake(&lake, &[], "monthly aggregates");
    let files = report["monthly"]["files"].as_u64().expect("files");
    assert!(files > 10, "{}", report["monthly"]);
    assert_eq!(report["monthly"]["with_aggregates"].as_u64(), Some(files));
    assert_eq!(report["monthly"]["mismatched"].as_u64(), Some(0));

    let kpi = || {
        let out = ws.cex(&["kpi", "pipelines/sample.toml", "--fy", "2023/24"]);
        out.assert_code(0);
        (
            kpi_tables(&ws.path().join("out/fy2023-24")),
            format!("{}{}", out.stdout, out.stderr),
        )
    };
    // The months the lake holds, as a run finds them (read from the sums where they are
    // stored): a period outside them is refused naming them, and a run without a period
    // reports the last one.
    let held = || {
        let refused = ws.cex(&["kpi", "pipelines/sample.toml", "--period", "2019-01"]);
        refused.assert_code(3);
        let latest = ws.cex(&["kpi", "pipelines/sample.toml", "--as-of", "2031-01-15"]);
        latest.assert_code(0);
        let said = |s: &str| {
            s.lines()
                .filter(|l| l.contains("holds") || l.contains("written to"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        (said(&refused.stderr), said(&latest.stderr))
    };
    let (stored, said) = kpi();
    assert!(stored.contains_key("contact_centre.csv") && stored.len() > 15);
    assert!(!said.contains("no monthly aggregates"), "{said}");
    let months = held();
    assert!(
        months
            .0
            .iter()
            .any(|l| l.contains("April 2022 to March 2025")),
        "{months:?}"
    );
    assert!(
        months.1.iter().any(|l| l.contains("out/2025-03")),
        "{months:?}"
    );

    // The second run's aggregates lost, as if it was killed between the two commits: its files
    // are counted from their rows, and every figure is the same.
    let log = lake.join("monthly/_delta_log");
    std::fs::remove_file(log.join(format!("{:020}.json", 1))).expect("second monthly commit");
    let (partly, said) = kpi();
    assert!(
        said.contains("contacts files have no monthly aggregates"),
        "{said}"
    );
    assert_eq!(
        partly, stored,
        "figures differ when some files are counted from rows"
    );
    assert_eq!(
        held(),
        months,
        "other months held when some are read from rows"
    );

    // The next writer stores the lost sums again, in a commit of its own: a reader cex did not
    // write finds every file summed, and right.
    let restore = |what: &str| {
        let again = ws.cex(&["ingest", "pipelines/sample.toml"]);
        again.assert_code(0);
        assert!(
            again.stderr.contains("stored again"),
            "{what}: {}",
            again.stderr
        );
        let report = crate::soak::check_lake(&lake, &[], what);
        assert_eq!(
            report["monthly"]["with_aggregates"].as_u64(),
            Some(files),
            "{what}"
        );
        assert_eq!(report["monthly"]["mismatched"].as_u64(), Some(0), "{what}");
        let (restored, said) = kpi();
        assert!(!said.contains("no monthly aggregates"), "{what}: {said}");
        assert_eq!(
            restored, stored,
            "{what}: figures differ once the sums are stored again"
        );
        // Once: a later writer finds nothing to store.
        let later = ws.cex(&["ingest", "pipelines/sample.toml"]);
        assert!(
            !later.stderr.contains("stored again"),
            "{what}: {}",
            later.stderr
        );
    };
    restore("sums lost");

    // Sums of an earlier format (format 1 named its files after the data files, and lacked
    // columns cex reads now): never read, every file counted from its rows with the same
    // figures, and the next writer stores them again in the current format.
    let monthly = lake.join("monthly");
    for path in crate::util::walk(&monthly) {
        let name = path.to_string_lossy().into_owned();
        if name.contains("_delta_log") {
            if name.ends_with(".json") {
                let log = std::fs::read_to_string(&path).expect("log");
                std::fs::write(&path, format_one_names(&log)).expect("log");
            }
        } else {
            std::fs::rename(&path, format_one_names(&name)).expect("old name");
        }
    }
    let (old_format, said) = kpi();
    assert!(
        said.contains(&format!("{files} of {files} contacts files")),
        "{said}"
    );
    assert_eq!(
        old_format, stored,
        "figures differ beside sums of an earlier format"
    );
    restore("sums of an earlier format");

    // A lake from before the aggregates: every figure counted from the rows, the same.
    std::fs::remove_dir_all(lake.join("monthly")).expect("monthly table");
    let (from_rows, said) = kpi();
    assert!(
        said.contains(&format!("{files} of {files} contacts files")),
        "{said}"
    );
    assert_eq!(from_rows, stored, "figures differ when counted from rows");
    assert_eq!(held(), months, "other months held when read from the rows");
    std::fs::remove_dir_all(lake.join("answer_months")).expect("answer sums");
    assert_eq!(
        held(),
        months,
        "other months held without the answers' sums"
    );
}

/// `text` with every contacts' sums file name (`<data file>.sums2-<tag>.parquet`) as format 1
/// named it: the data file's own name.
fn format_one_names(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(".sums2-") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match rest.find(".parquet") {
            Some(end) => rest = &rest[end..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// The satisfaction tables read the answers' monthly sums (`answer_months`): a reader cex did
/// not write finds they count each responses file's rows, and every table is the same when some
/// files have none (a run killed between commits) or none has (a lake from before them).
#[test]
fn satisfaction_figures_from_the_answer_sums_equal_figures_from_the_rows() {
    let ws = Workspace::with_sample_data();
    let lake = ws.path().join("lake");
    // The survey's last year ingested by a second run: two commits of sums.
    let later = ws
        .path()
        .join("sample_data/satisfaction/responses_2024-25.csv");
    let aside = ws.path().join("responses_2024-25.csv");
    std::fs::rename(&later, &aside).expect("move the last year aside");
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    std::fs::rename(&aside, &later).expect("put it back");
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let report = crate::soak::check_lake(&lake, &[], "answer sums");
    let files = report["answer_months"]["files"].as_u64().expect("files");
    assert!(files > 20, "{}", report["answer_months"]);
    assert_eq!(report["answer_months"]["with_sums"].as_u64(), Some(files));
    assert_eq!(report["answer_months"]["mismatched"].as_u64(), Some(0));
    // The reader finds a count one off: one file's answers changed by one, in a copy.
    let copy = ws.path().join("tampered");
    let copied = Command::new("cp")
        .args(["-r", &lake.to_string_lossy(), &copy.to_string_lossy()])
        .status()
        .expect("cp");
    assert!(copied.success());
    let tamper = r#"
import glob, sys, pyarrow.compute as pc, pyarrow.parquet as pq
f = sorted(glob.glob(sys.argv[1] + "/answer_months/**/*.parquet", recursive=True))[0]
t = pq.read_table(f)
i = t.schema.get_field_index("answers")
pq.write_table(t.set_column(i, "answers", pc.add(t["answers"], 1)), f)
"#;
    let changed = Command::new("python3")
        .args(["-c", tamper, &copy.to_string_lossy()])
        .status()
        .expect("python3");
    assert!(changed.success());
    let checked = Command::new("python3")
        .arg(crate::util::repo().join("tests/delta/check_lake.py"))
        .arg(&copy)
        .output()
        .expect("python3");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{said}");
    assert!(said.contains("answer_months: the sums of"), "{said}");

    // 2024/25 reads answers of both runs (a year's sums start eleven months before it).
    let kpi = || {
        let out = ws.cex(&["kpi", "pipelines/sample.toml", "--fy", "2024/25"]);
        out.assert_code(0);
        (
            kpi_tables(&ws.path().join("out/fy2024-25")),
            format!("{}{}", out.stdout, out.stderr),
        )
    };
    let (stored, said) = kpi();
    assert!(
        stored.contains_key("satisfaction_by_channel.csv"),
        "{stored:?}"
    );
    assert!(!said.contains("no monthly sums"), "{said}");

    let log = lake.join("answer_months/_delta_log");
    std::fs::remove_file(log.join(format!("{:020}.json", 1))).expect("second commit of sums");
    let (partly, said) = kpi();
    assert!(
        said.contains("responses files have no monthly sums"),
        "{said}"
    );
    assert_eq!(
        partly, stored,
        "figures differ when some answers are counted from rows"
    );

    std::fs::remove_dir_all(lake.join("answer_months")).expect("answer sums table");
    let (from_rows, said) = kpi();
    assert!(
        said.contains(&format!("{files} of {files} responses files")),
        "{said}"
    );
    assert_eq!(
        from_rows, stored,
        "figures differ when every answer is counted from rows"
    );
}

#[test]
fn a_service_level_changed_after_ingest_is_counted_at_the_new_threshold() {
    let pipeline = |ws: &Workspace| {
        let text = std::fs::read_to_string(ws.path().join("pipelines/sample.toml")).expect("p");
        let changed = text.replace("service_level_seconds = 20", "service_level_seconds = 60");
        assert_ne!(text, changed);
        ws.write("pipelines/sixty.toml", changed);
    };
    let table = |ws: &Workspace, file: &str| {
        let out = ws.cex(&["kpi", file, "--fy", "2023/24"]);
        out.assert_code(0);
        std::fs::read(ws.path().join("out/fy2023-24/contact_centre.csv")).expect("table")
    };
    // Ingested at 20 seconds, published at 60.
    let old = Workspace::with_sample_data();
    pipeline(&old);
    old.cex(&["ingest", "pipelines/sample.toml", "--source", "telephony"])
        .assert_code(0);
    let at_twenty = table(&old, "pipelines/sample.toml");
    let later = table(&old, "pipelines/sixty.toml");
    // Ingested and published at 60.
    let fresh = Workspace::with_sample_data();
    pipeline(&fresh);
    fresh
        .cex(&["ingest", "pipelines/sixty.toml", "--source", "telephony"])
        .assert_code(0);
    let at_sixty = table(&fresh, "pipelines/sixty.toml");
    assert_ne!(at_twenty, at_sixty, "the threshold changed no figure");
    assert_eq!(later, at_sixty);
    // The next ingest at 60 stores the sums at 60 beside those at 20: each threshold then reads
    // its own sums, not the rows, with the same figures.
    let again = old.cex(&["ingest", "pipelines/sixty.toml", "--source", "telephony"]);
    again.assert_code(0);
    assert!(again.stderr.contains("stored again"), "{}", again.stderr);
    for (file, expected) in [
        ("pipelines/sixty.toml", &at_sixty),
        ("pipelines/sample.toml", &at_twenty),
    ] {
        let out = old.cex(&["kpi", file, "--fy", "2023/24"]);
        out.assert_code(0);
        assert!(
            !out.stderr.contains("no monthly aggregates"),
            "{file}: {}",
            out.stderr
        );
        assert_eq!(&table(&old, file), expected, "{file}");
    }
}

/// The right-first-time and avoidable tables read settled months from the sums kept in the
/// lake (`lake::derived`): a second run publishes the same figures from them (a changed kept
/// file shows they are read; damaged ones are worked out again), an export added later to a
/// settled month makes exactly the months whose windows reach it linked again, with the figures
/// of a lake that kept nothing, and another setting (a window) reads none of them.
#[test]
fn right_first_time_from_kept_sums_equals_linking_every_month_afresh() {
    let ws = Workspace::with_sample_data();
    let lake = ws.path().join("lake");
    let kept = lake.join("_derived/right_first_time");
    let july = ws.path().join("sample_data/telephony/calls_2024-07.csv");
    let aside = ws.path().join("calls_2024-07.csv");
    std::fs::rename(&july, &aside).expect("hold July's calls back");
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let kpi = || {
        ws.cex(&["kpi", "pipelines/sample.toml", "--fy", "2024/25"])
            .assert_code(0);
        kpi_tables(&ws.path().join("out/fy2024-25"))
    };
    let count = || std::fs::read_dir(&kept).map_or(0, |d| d.count());
    let first = kpi();
    assert!(first.contains_key("repeat_contact.csv"), "{first:?}");
    assert!(first.contains_key("avoidable_targets.csv"), "{first:?}");
    // Settled: the month and the 28 days after it end before March 2025, from the avoidable
    // targets' baseline year (2023/24) on: April 2023 to January 2025.
    assert_eq!(count(), 22);
    assert_eq!(kpi(), first, "figures from kept sums differ");

    // They are read: one kept month changed by one contact changes the published figures.
    let files: Vec<_> = std::fs::read_dir(&kept)
        .expect("kept")
        .flatten()
        .map(|e| e.path())
        .collect();
    let tamper = r#"
import sys, pyarrow.compute as pc, pyarrow.parquet as pq
for f in sys.argv[1:]:
    t = pq.read_table(f)
    i = t.schema.get_field_index("contacts")
    pq.write_table(t.set_column(i, "contacts", pc.add(t["contacts"], 1)), f)
"#;
    python_over(tamper, &files);
    assert_ne!(kpi(), first, "the kept sums were not read");
    // Damaged kept sums (a readable file with other columns) are worked out again.
    let damage = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
for f in sys.argv[1:]:
    pq.write_table(pa.table({"month": [1]}), f)
"#;
    python_over(damage, &files);
    let out = ws.cex(&["kpi", "pipelines/sample.toml", "--fy", "2024/25"]);
    out.assert_code(0);
    assert!(out.stderr.contains("damaged"), "{}", out.stderr);
    assert_eq!(kpi_tables(&ws.path().join("out/fy2024-25")), first);
    assert_eq!(
        kpi(),
        first,
        "figures differ once damaged sums were written again"
    );
    std::fs::remove_dir_all(&kept).expect("kept sums");
    assert_eq!(kpi(), first, "figures differ once worked out again");
    assert_eq!(count(), 22);

    // July's calls come late: June, July and August (whose windows reach July) are linked again.
    std::fs::rename(&aside, &july).expect("July's calls");
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let later = kpi();
    assert_ne!(later, first, "July's calls changed nothing");
    assert_eq!(count(), 22 + 3);
    std::fs::remove_dir_all(&kept).expect("kept sums");
    assert_eq!(
        kpi(),
        later,
        "kept sums of unchanged months give other figures"
    );

    // Another window is another setting: none of the sums kept for 7 and 28 days is read.
    let text = std::fs::read_to_string(ws.path().join("pipelines/sample.toml")).expect("p");
    let other = text.replace("repeat_days = [7, 28]", "repeat_days = [7, 21]");
    assert_ne!(text, other);
    ws.write("pipelines/other.toml", other);
    let kpi_other = || {
        ws.cex(&["kpi", "pipelines/other.toml", "--fy", "2024/25"])
            .assert_code(0);
        kpi_tables(&ws.path().join("out/fy2024-25"))
    };
    let with_kept = kpi_other();
    assert_ne!(with_kept, later, "the window changed nothing");
    assert_eq!(count(), 22 + 22);
    std::fs::remove_dir_all(&kept).expect("kept sums");
    assert_eq!(kpi_other(), with_kept);

    // Every other setting that shapes the sums: with the sums kept under the sample's settings
    // in the lake, a run under each changed setting gives the figures of a lake that kept
    // nothing (a setting missing from the kept sums' key would give the old figures).
    kpi();
    for (name, changed) in [
        (
            "answered",
            text.replace("takeup_telephone = \"offered\"", "takeup_telephone = \"answered\""),
        ),
        (
            "avoidable-window",
            text.replace("\nrepeat_days = 7\n", "\nrepeat_days = 3\n"),
        ),
        (
            "calls-not-assisted",
            format!("{text}\n[channels]\ndigital = [\"web\", \"webchat\"]\nassisted = [\"face_to_face\"]\n"),
        ),
    ] {
        assert_ne!(changed, text, "{name}");
        let file = format!("pipelines/{name}.toml");
        ws.write(&file, changed);
        let run = || {
            ws.cex(&["kpi", &file, "--fy", "2024/25"]).assert_code(0);
            kpi_tables(&ws.path().join("out/fy2024-25"))
        };
        let beside_kept = run();
        assert_ne!(beside_kept, later, "{name} changed nothing");
        std::fs::remove_dir_all(&kept).expect("kept sums");
        assert_eq!(run(), beside_kept, "{name}: figures from sums kept under other settings");
        kpi();
    }
}

/// The equality tables read each month's answers from sums kept in the lake (`equality::kept`):
/// a reader cex did not write finds the kept sums count the year's answers, a second run
/// publishes the same tables from them (a changed kept file shows they are read; damaged ones
/// are summed again), and another breakdown reads none of them.
#[test]
fn equality_tables_from_kept_month_sums_equal_tables_from_the_rows() {
    let ws = Workspace::with_sample_data();
    let lake = ws.path().join("lake");
    let kept = lake.join("_derived/equality");
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let equality = |extra: &[&str]| {
        let mut args = vec!["equality", "pipelines/sample.toml", "--fy", "2024/25"];
        args.extend_from_slice(extra);
        // Each run compared as a first publication: a tampered run's record (its figures at
        // the same lake version) would otherwise decide the next run's blanks.
        let _ = std::fs::remove_dir_all(ws.path().join("out/restricted/releases"));
        let out = ws.cex(&args);
        out.assert_code(0);
        out
    };
    let tables = || {
        equality(&[]);
        kpi_tables(&ws.path().join("out/fy2024-25/equality"))
    };
    let count = || std::fs::read_dir(&kept).map_or(0, |d| d.count());
    let first = tables();
    assert!(first.len() > 8, "{:?}", first.keys());
    assert_eq!(count(), 12, "one kept file per month of 2024/25");
    // Counted by a reader cex did not write: the kept answers are the year's responses, one
    // respondent listed per answer.
    let files: Vec<_> = std::fs::read_dir(&kept)
        .expect("kept")
        .flatten()
        .map(|e| e.path())
        .collect();
    let check = r#"
import glob, sys, pyarrow.compute as pc, pyarrow.parquet as pq
lake, kept = sys.argv[1], sys.argv[2:]
answers = listed = 0
for f in kept:
    t = pq.read_table(f)
    answers += pc.sum(t["answers"]).as_py()
    listed += pc.sum(pc.list_value_length(t["__respondents"])).as_py()
rows = 0
for f in glob.glob(lake + "/responses/**/*.parquet", recursive=True):
    t = pq.read_table(f, columns=["year", "month"])
    ym = pc.add(pc.multiply(pc.cast(t["year"], "int32"), 100), pc.cast(t["month"], "int32"))
    rows += pc.sum(pc.and_(pc.greater_equal(ym, 202404), pc.less_equal(ym, 202503)).cast("int64")).as_py() or 0
assert answers == rows == listed, (answers, rows, listed)
print(answers)
"#;
    let out = Command::new("python3")
        .args(["-c", check, &lake.to_string_lossy()])
        .args(&files)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tables(), first, "tables from kept sums differ");

    // They are read: every kept month's first row changed by one answer changes the tables.
    let tamper = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
for f in sys.argv[1:]:
    t = pq.read_table(f)
    if t.num_rows == 0:
        continue
    a = t["answers"].to_pylist()
    a[0] += 1
    i = t.schema.get_field_index("answers")
    pq.write_table(t.set_column(i, "answers", pa.array(a, pa.uint32())), f)
"#;
    python_over(tamper, &files);
    assert_ne!(tables(), first, "the kept sums were not read");
    // Damaged kept sums (a readable file with other columns) are summed again.
    let damage = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
for f in sys.argv[1:]:
    pq.write_table(pa.table({"month": [1]}), f)
"#;
    python_over(damage, &files);
    let out = equality(&[]);
    assert!(out.stderr.contains("damaged"), "{}", out.stderr);
    assert_eq!(kpi_tables(&ws.path().join("out/fy2024-25/equality")), first);
    assert_eq!(
        tables(),
        first,
        "tables differ once damaged sums were kept again"
    );
    std::fs::remove_dir_all(&kept).expect("kept sums");
    assert_eq!(tables(), first, "tables differ once summed again");
    assert_eq!(count(), 12);

    // Another breakdown groups other columns: twelve more months kept, none read.
    equality(&["--by", "age_band,sex"]);
    assert_eq!(count(), 24);
}

/// Runs a Python script over `files` (its arguments), which must succeed.
fn python_over(script: &str, files: &[std::path::PathBuf]) {
    let status = Command::new("python3")
        .args(["-c", script])
        .args(files)
        .status()
        .expect("python3");
    assert!(status.success(), "python3 failed on {files:?}");
}

/// Several runs of the KPI and equality stages (at the same time within each run) on one lake at
/// once, some killed part way, all writing the same kept sums (right first time's and the
/// equality answers'): no run fails, none reads half a file, and afterwards every run publishes
/// the KPI and equality tables of one run alone on a lake that kept nothing.
#[test]
fn kept_sums_written_by_racing_and_killed_runs_give_the_figures_of_a_lone_run() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let kept = ws.path().join("lake/_derived");
    let text = std::fs::read_to_string(ws.path().join("pipelines/sample.toml")).expect("p");
    let kpi = |n: usize| -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cex"));
        c.args(["run", &format!("pipelines/race{n}.toml"), "--fy", "2024/25"])
            .args(["--skip", "ingest", "--skip", "charts", "--skip", "report"])
            .current_dir(ws.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    for n in 0..4 {
        let own = text.replace("output = \"../out\"", &format!("output = \"../out{n}\""));
        assert_ne!(own, text);
        ws.write(&format!("pipelines/race{n}.toml"), own);
    }
    let tables = |n: usize| {
        let dir = ws.path().join(format!("out{n}/fy2024-25"));
        let mut all = kpi_tables(&dir);
        for (name, bytes) in kpi_tables(&dir.join("equality")) {
            all.insert(format!("equality/{name}"), bytes);
        }
        all
    };
    let kept_files = |kind: &str| -> Vec<String> {
        std::fs::read_dir(kept.join(kind))
            .expect("kept")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".parquet"))
            .collect()
    };
    // The lone run, then nothing kept again.
    let status = kpi(0).status().expect("cex");
    assert!(status.success());
    let alone = tables(0);
    assert!(alone.contains_key("repeat_contact.csv"), "{alone:?}");
    assert!(
        alone.keys().any(|k| k.starts_with("equality/")),
        "{alone:?}"
    );
    let equality_kept = kept_files("equality").len();
    assert!(equality_kept > 0);
    std::fs::remove_dir_all(&kept).expect("kept sums");

    for round in 0..3u64 {
        // Four at once; two of them killed at different moments while linking, summing answers
        // or writing (a lone cold run takes about 5 s, four at once on two cores longer). The
        // first two rounds start from nothing kept, so the killed runs die while writing; the
        // last reads what the earlier rounds kept while others write over it.
        if round < 2 && kept.exists() {
            std::fs::remove_dir_all(&kept).expect("kept sums");
        }
        let mut children: Vec<_> = (0..4).map(|n| kpi(n).spawn().expect("spawn")).collect();
        std::thread::sleep(Duration::from_millis(1000 + 2500 * round));
        for child in children.iter_mut().skip(2) {
            let _ = child.kill();
        }
        for (n, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().expect("wait");
            if n < 2 {
                let said = String::from_utf8_lossy(&out.stderr);
                assert!(out.status.success(), "round {round}, run {n}: {said}");
                assert!(
                    !said.contains("damaged") && !said.contains("unreadable"),
                    "{said}"
                );
                assert_eq!(tables(n), alone, "round {round}, run {n}");
            }
        }
    }
    // Whatever the killed runs left (a temporary file at most), a later run reads only whole
    // files and publishes the lone run's figures.
    let status = kpi(3).status().expect("cex");
    assert!(status.success());
    assert_eq!(tables(3), alone);
    let files = kept_files("right_first_time");
    assert_eq!(files.len(), 22, "{files:?}");
    let files = kept_files("equality");
    assert_eq!(files.len(), equality_kept, "{files:?}");
}

/// A run stopped by its quality gates (exit 4) records why in `last-run.json`'s `error`: here a
/// date format no row matches, so every row is rejected `bad_date`.
#[test]
fn a_run_stopped_by_a_quality_gate_records_its_error() {
    let ws = fixture();
    ws.write(
        "data/calls.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\n\
         A1,2024.03.01 09:00,HSG,Answered,10,60,5\n\
         A2,2024.03.02 10:00,RB,Abandoned,30,,\n",
    );
    let out = ws.cex(&["run", "p.toml"]);
    out.assert_code(4);
    let text = std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["status"], "failed", "{text}");
    assert_eq!(json["exit_code"], 4, "{text}");
    let error = json["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {text}"));
    assert!(
        error.starts_with("1 quality gate failed; nothing was written to the lake: data/calls.csv: 100.0% of rows rejected (2 of 2)"),
        "{error}"
    );
    assert!(error.contains("bad_date=2"), "{error}");
    assert!(
        !error.contains('\n') && error.chars().count() <= 300,
        "{error}"
    );
}
