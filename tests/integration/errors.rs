//! Bad input and bad configuration give a clear error naming the file and key, and the right exit
//! code, never a panic.

use crate::util::Workspace;

/// A small pipeline over `data/*.csv` with one telephony-like source.
pub const PIPELINE: &str = r#"
name = "fixture"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
warn_reject_share = 0.01
fail_reject_share = 0.9
fail_on_unmapped_service = false

[[sources]]
name = "calls"
kind = "calls"
files = "data/*.csv"
timestamp_formats = ["%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]

[sources.columns]
record_id = "Call ID"
timestamp = "Started"
category = "Queue"
outcome = "Result"
wait = "Wait"
handle = ["Talk", "Wrap"]

[sources.service]
lookup = "queues.csv"

[sources.outcomes]
answered = ["Answered"]
abandoned = ["Abandoned"]
"#;

pub const QUEUES: &str = "queue,service\nHSG,Housing\nRB,Revenues & Benefits\n";

pub fn fixture() -> Workspace {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    ws.write("queues.csv", QUEUES);
    ws
}

fn assert_no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn no_matching_file_names_the_source_and_pattern() {
    let ws = fixture();
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("source 'calls': no files match"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("data/*.csv"), "{}", out.stderr);
    assert_no_panic(&out.stderr);
}

#[test]
fn a_missing_pipeline_file_is_a_configuration_error() {
    let ws = fixture();
    let out = ws.cex(&["ingest", "nope.toml"]);
    out.assert_code(2);
    assert!(out.stderr.contains("nope.toml"), "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot read the pipeline file"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_key_is_named_with_file_and_line() {
    let ws = fixture();
    ws.write(
        "p.toml",
        PIPELINE.replace("lake = \"lake\"", "lake = \"lake\"\nlake_dir = \"x\""),
    );
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(out.stderr.contains("p.toml"), "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown field `lake_dir`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("line 5"), "{}", out.stderr);
}

#[test]
fn several_configuration_problems_are_reported_together() {
    let ws = fixture();
    let text = PIPELINE
        .replace("answered = [", "picked_up = [")
        .replace("lookup = \"queues.csv\"", "lookup = \"missing.csv\"");
    ws.write("p.toml", text);
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(out.stderr.contains("2 problems"), "{}", out.stderr);
    assert!(
        out.stderr.contains("sources[0] (calls).outcomes.picked_up"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("sources[0] (calls).service.lookup"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_mapped_column_missing_from_the_file_is_named() {
    let ws = fixture();
    ws.write(
        "data/calls.csv",
        "Call ID,Started,Queue,Result,Wait,Talk\nC1,01/04/2023 09:00:00,HSG,Answered,10,20\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    assert!(out.stderr.contains("data/calls.csv"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("column 'Wrap' (mapped to handle) is missing"),
        "{}",
        out.stderr
    );
    assert!(!ws.path().join("lake/manifest/_delta_log").exists());
}

#[test]
fn an_empty_file_is_an_input_error() {
    let ws = fixture();
    ws.write("data/calls.csv", "");
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("data/calls.csv: the file is empty"),
        "{}",
        out.stderr
    );
    assert_no_panic(&out.stderr);
}

/// Whether the tests run as root, which reads a file whatever its mode.
fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Opens the workspace to every account, for [`cex_unprivileged`] (when privileged): call it
/// before taking permissions away from a file.
fn open_to_unprivileged(ws: &Workspace) {
    if privileged() {
        let status = std::process::Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(ws.path())
            .status()
            .expect("chmod");
        assert!(status.success());
    }
}

/// Runs `cex` in `ws` as an account file permissions apply to: itself, or `nobody` when the
/// tests run as root (the binary must be reachable by it, as under a target folder others can
/// read).
fn cex_unprivileged(ws: &Workspace, args: &[&str]) -> crate::util::Output {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cex"));
    command.args(args).current_dir(ws.path());
    if privileged() {
        command.uid(65534).gid(65534);
    }
    let out = command.output().expect("run cex");
    crate::util::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn an_export_the_job_cannot_read_stops_it_naming_the_file_and_writes_nothing() {
    // A permission left wrong by whoever copied the export in: exit 3, one line naming the
    // file and the system's reason, and the readable export beside it not ingested either
    // (the run is one lake version, or none), for `validate` as for `ingest`.
    use std::os::unix::fs::PermissionsExt;
    let ws = fixture();
    ws.write(
        "data/a.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\nC1,01/04/2023 09:00:00,HSG,Answered,10,20,5\n",
    );
    let locked = ws.write(
        "data/b.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\nC2,02/04/2023 09:00:00,HSG,Answered,10,20,5\n",
    );
    open_to_unprivileged(&ws);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    for command in ["validate", "ingest", "run"] {
        let out = cex_unprivileged(&ws, &[command, "p.toml"]);
        out.assert_code(3);
        let errors: Vec<&str> = out.stderr.lines().filter(|l| l.contains("error")).collect();
        assert_eq!(errors.len(), 1, "one line: {}", out.stderr);
        assert!(
            errors[0].contains("data/b.csv") && errors[0].contains("Permission denied"),
            "{command}: {}",
            out.stderr
        );
        assert_no_panic(&out.stderr);
        assert!(
            !ws.path().join("lake/manifest/_delta_log").exists(),
            "{command} wrote a lake version"
        );
    }
    // Readable again, the same account ingests both.
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = cex_unprivileged(&ws, &["ingest", "p.toml"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("2 rows from 2 new files"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_export_that_is_a_named_pipe_is_refused_not_waited_on_or_skipped() {
    // A named pipe matching the pattern: read, it would hold the job until something wrote to
    // it (a cron run hung for ever); skipped, whatever was to come through it would be lost
    // without a word. Refused instead, naming it, before any file is read.
    let ws = fixture();
    ws.write(
        "data/a.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\nC1,01/04/2023 09:00:00,HSG,Answered,10,20,5\n",
    );
    let pipe = ws.path().join("data/b.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // A folder the pattern matches is no export and is passed over.
    std::fs::create_dir(ws.path().join("data/old.csv")).expect("folder");
    for command in ["validate", "ingest"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cex"))
            .args([command, "p.toml"])
            .current_dir(ws.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run cex");
        let waited = std::time::Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if waited.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{command} waited on the named pipe");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("output");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{command}: {stderr}");
        assert!(
            stderr.contains("data/b.csv: a named pipe, not an export file"),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("old.csv"), "{stderr}");
    }
    assert!(!ws.path().join("lake/manifest/_delta_log").exists());
    // Without the pipe, the folder beside the export changes nothing.
    std::fs::remove_file(&pipe).expect("remove pipe");
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert!(out.stdout.contains("data/a.csv"), "{}", out.stdout);
}

#[test]
fn json_logs_are_one_object_per_line() {
    let ws = fixture();
    let out = ws.cex(&["--log-format", "json", "ingest", "p.toml"]);
    out.assert_code(3);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON object");
    assert_eq!(v["level"], "error");
    assert!(v["message"]
        .as_str()
        .is_some_and(|m| m.contains("no files match")));
    assert!(v["time"].is_string());
}

/// `cex validate` calls the pipeline valid only once every check has passed: an unfilled lookup
/// row, a mapped column the file lacks and a failed quality gate each end it without that line.
#[test]
fn validate_says_valid_only_after_every_check_passed() {
    let good = "Call ID,Started,Queue,Result,Wait,Talk,Wrap\nC1,01/04/2023 09:00:00,HSG,Answered,10,20,5\n";
    // An unfilled lookup row: the file, the row, its value and the fix are named.
    let ws = fixture();
    ws.write("data/calls.csv", good);
    ws.write("queues.csv", "queue,service\nHSG,Housing\nRB,\n");
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(3);
    assert!(!out.stdout.contains("is valid"), "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "queues.csv: lookup table: row 3 ('RB') has no mapped value: fill in its service, or delete the row to leave it unmapped"
        ),
        "{}",
        out.stderr
    );
    // A mapped column the file lacks.
    let ws = fixture();
    ws.write(
        "data/calls.csv",
        "Call ID,Started,Queue,Result,Wait,Talk\nC1,01/04/2023 09:00:00,HSG,Answered,10,20\n",
    );
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(3);
    assert!(!out.stdout.contains("is valid"), "{}", out.stdout);
    assert!(out.stderr.contains("'Wrap'"), "{}", out.stderr);
    // A failed quality gate (every row's date unreadable): exit 4, one line saying so.
    let ws = fixture();
    ws.write(
        "data/calls.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\nC1,2023.04.01 09:00,HSG,Answered,10,20,5\n",
    );
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(4);
    assert!(!out.stdout.contains("is valid"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("p.toml: 1 quality gate failed, so `cex ingest` would write nothing"),
        "{}",
        out.stderr
    );
    // And a good pipeline is valid, said after the table.
    let ws = fixture();
    ws.write("data/calls.csv", good);
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(0);
    assert!(
        out.stdout
            .trim_end()
            .ends_with("p.toml: pipeline 'fixture' is valid (1 sources)"),
        "{}",
        out.stdout
    );
}

/// The unmapped values of a column are listed most frequent first, at most 30 of them, and the
/// rest are counted, never dropped unsaid: here the biggest value comes last in the file.
#[test]
fn validate_lists_the_most_frequent_unmapped_values_and_counts_the_rest() {
    let ws = fixture();
    let mut csv = String::from("Call ID,Started,Queue,Result,Wait,Talk,Wrap\n");
    let mut id = 0;
    let mut row = |queue: &str, csv: &mut String| {
        id += 1;
        csv.push_str(&format!(
            "C{id},01/04/2023 09:00:00,{queue},Answered,10,20,5\n"
        ));
    };
    for _ in 0..40 {
        row("HSG", &mut csv);
    }
    for i in 0..33 {
        row(&format!("Q{i:02}"), &mut csv);
    }
    for _ in 0..5 {
        row("BIG", &mut csv);
    }
    ws.write("data/calls.csv", csv);
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("unmapped in calls, column 'Queue'"))
        .unwrap_or_else(|| panic!("no unmapped line:\n{}", out.stdout));
    // 34 values: 'BIG' and the first 29 of the others (alphabetically) listed, 4 counted.
    assert!(
        line.starts_with("unmapped in calls, column 'Queue': 'BIG' (5 rows), 'Q00' (1 row),"),
        "{line}"
    );
    assert!(
        line.contains("'Q28' (1 row)") && !line.contains("'Q29'"),
        "{line}"
    );
    assert!(line.ends_with(", … and 4 more values (4 rows)"), "{line}");
    // The warning on unmapped services ranks them the same way, with their rows and files
    // (every row of every value is in the rejects).
    let warning = out
        .stdout
        .lines()
        .find(|l| l.contains("no service mapping for"))
        .unwrap_or_else(|| panic!("no warning:\n{}", out.stdout));
    assert!(
        warning
            .contains("no service mapping for 'BIG' (5 rows in 1 file), 'Q00' (1 row in 1 file),")
            && warning.contains(
                "'Q28' (1 row in 1 file), … and 4 more values (4 rows); their rows were rejected"
            ),
        "{warning}"
    );
}

/// A file stopped by the quality gate writes no rejects: the failure names, per reason, the
/// first rejected row, its column and its value, on stderr and in `last-run.json`; `cex validate`
/// says the same, and names the first row of reasons below the gate too.
#[test]
fn a_gate_stopped_by_bad_dates_shows_the_first_row_column_and_value() {
    let ws = fixture();
    // Timestamps in another format than timestamp_formats: every row rejected.
    ws.write(
        "data/calls.csv",
        "Call ID,Started,Queue,Result,Wait,Talk,Wrap\n\
         A1,2024-03-02T16:06:41,HSG,Answered,10,60,5\n\
         A2,2024-03-02T16:07:12,HSG,Answered,10,60,5\n\
         A3,,HSG,Answered,10,60,5\n",
    );
    let example = "bad_date=2 (first: row 2, 'Started' '2024-03-02T16:06:41')";
    let out = ws.cex(&["run", "p.toml"]);
    out.assert_code(4);
    assert!(out.stdout.contains(example), "{}", out.stdout);
    // On stderr too: a job's log may keep only that.
    let error = out
        .stderr
        .lines()
        .find(|l| l.contains("quality gate failed"))
        .unwrap_or_else(|| panic!("no gate error:\n{}", out.stderr));
    assert!(error.contains(example), "{error}");
    assert!(
        out.stdout
            .contains("missing_value=1 (first: row 4, 'Started' '')"),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let error = json["error"].as_str().unwrap_or_default();
    assert!(error.contains(example), "{error}");
    // validate: the same example.
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(4);
    assert!(out.stdout.contains(example), "{}", out.stdout);
    // Below the warning level, validate still shows the first row of each reason.
    let mut csv = String::from("Call ID,Started,Queue,Result,Wait,Talk,Wrap\n");
    for i in 0..200 {
        csv.push_str(&format!("B{i},02/03/2024 09:00:00,HSG,Answered,10,60,5\n"));
    }
    csv.push_str("B999,2024-03-02T16:06:41,HSG,Answered,10,60,5\n");
    ws.write("data/calls.csv", csv);
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "rejected in data/calls.csv: bad_date=1 (first: row 202, 'Started' '2024-03-02T16:06:41')"
        ),
        "{}",
        out.stdout
    );
}
