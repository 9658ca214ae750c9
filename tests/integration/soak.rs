//! Several `cex` processes on one lake at once, some of them killed (SIGKILL) part-way: no row is
//! lost and none is doubled. Writers (`ingest`, `run`) take the lake's lock or exit 5 at once;
//! readers (`kpi`, `equality`) read a snapshot and never wait for or disturb a writer. Afterwards
//! a Delta reader cex did not write (`tests/delta/check_lake.py`, Python `deltalake`) must find
//! the lake consistent (commits of a killed writer may be pending), one more `cex ingest` must
//! record them, and the lake must then hold what one undisturbed ingest writes: the same files,
//! the same rows per table and per source and month. Each publication the readers left in `out/`
//! is made again from the lake version it names, and every KPI table must come out as published.
//!
//! `CEX_SOAK_TRIALS=N` runs more trials (default 4); `CEX_SOAK_SEED=N` picks other schedules.
//! Needs `python3`; installs `tests/delta/requirements.txt` with pip when `deltalake` is missing.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{copy_dir, repo, Output, Rng, Workspace};

/// What a trial draws from: subcommand, further arguments, whether it writes the lake.
const COMMANDS: [(&str, &[&str], bool); 4] = [
    ("ingest", &[], true),
    ("run", &["--skip", "charts,report"], true),
    ("kpi", &[], false),
    ("equality", &[], false),
];

/// `cex equality` on a snapshot without survey responses (the old lake holds telephony only, and
/// a reader may start before any writer has committed responses) fails with "the lake holds no
/// survey responses", exit 3 (nothing to compute from). That is equality's answer for such a
/// lake, not a reader disturbed by a writer, so 3 is allowed for `equality` with that message.
const NO_RESPONSES: &str = "holds no survey responses";

/// One process of a trial: which command, when it starts and, if it is to be killed, when.
struct Plan {
    command: usize,
    start_ms: u64,
    kill_ms: Option<u64>,
}

/// As in crash.rs (both could share one in util.rs).
fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// 4 to 6 processes starting within 400 ms; about half are killed within `window_ms` of starting.
fn draw_plan(rng: &mut Rng, window_ms: u64) -> Vec<Plan> {
    (0..4 + rng.below(3))
        .map(|_| {
            let command = rng.below(COMMANDS.len());
            let start_ms = rng.next() % 401;
            let kill_ms = rng
                .chance(50)
                .then(|| start_ms + rng.next() % (window_ms + 1));
            Plan {
                command,
                start_ms,
                kill_ms,
            }
        })
        .collect()
}

/// A new workspace holding a copy of `ws` (pipelines, exports, lake).
fn copy_of(ws: &Workspace) -> Workspace {
    let copy = Workspace {
        dir: tempfile::tempdir().expect("temp dir"),
    };
    copy_dir(ws.path(), copy.path());
    copy
}

/// Panics unless every publication under `out/` is whole: each folder's `tables.json` lists
/// tables that are all there (KPI tables and `equality/`), and `kpi-summary.json` is present.
fn publication_is_whole(ws: &Workspace, context: &str) {
    let Ok(entries) = std::fs::read_dir(ws.path().join("out")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let dir = entry.path();
        if name.starts_with('.') || name == "equality" || name == "restricted" || !dir.is_dir() {
            continue;
        }
        for folder in [dir.clone(), dir.join("equality")] {
            let index = folder.join("tables.json");
            if folder != dir && !folder.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&index)
                .unwrap_or_else(|e| panic!("{context}: {}: {e}", index.display()));
            let tables: Value = serde_json::from_str(&text).expect("tables.json");
            for t in tables.as_array().expect("a list of tables") {
                let csv = folder.join(format!("{}.csv", t["name"].as_str().expect("name")));
                assert!(csv.is_file(), "{context}: {} missing", csv.display());
            }
        }
        assert!(
            dir.join("kpi-summary.json").is_file(),
            "{context}: {name} has no kpi-summary.json"
        );
    }
}

/// Makes each publication under `out/` again from the lake version its `kpi-summary.json`
/// names and panics unless every KPI table comes out byte for byte as published: what a reader
/// published while writers raced it and were killed is what that version of the lake holds.
/// Returns how many publications were made again.
fn publications_are_reproduced(ws: &Workspace, context: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(ws.path().join("out")) else {
        return 0;
    };
    let folders: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("kpi-summary.json").is_file())
        .collect();
    for folder in &folders {
        let text = std::fs::read_to_string(folder.join("kpi-summary.json")).expect("summary");
        let summary: Value = serde_json::from_str(&text).expect("kpi-summary.json");
        let version = summary["lake_version"]
            .as_u64()
            .unwrap_or_else(|| panic!("{context}: {} names no lake version", folder.display()))
            .to_string();
        let period = summary["period"].as_str().expect("period");
        let which = if period.contains('/') {
            "--fy"
        } else {
            "--period"
        };
        let published = crate::lake::kpi_tables(folder);
        let args = [
            "kpi",
            "pipelines/sample.toml",
            which,
            period,
            "--lake-version",
            &version,
        ];
        ws.cex(&args).assert_code(0);
        let again = crate::lake::kpi_tables(folder);
        assert_eq!(
            again.keys().collect::<Vec<_>>(),
            published.keys().collect::<Vec<_>>(),
            "{context}: {period} made again from version {version}: other tables"
        );
        for (name, table) in &published {
            assert!(
                again.get(name) == Some(table),
                "{context}: {period}'s {name} made again from version {version} differs from the one published"
            );
        }
    }
    folders.len()
}

fn log_path(ws: &Workspace, i: usize) -> PathBuf {
    ws.path().join(format!("soak-{i}.log"))
}

fn spawn(ws: &Workspace, i: usize, command: usize) -> Child {
    let (name, extra, _) = COMMANDS[command];
    let log = File::create(log_path(ws, i)).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_cex"))
        .arg(name)
        // One pipeline for all: the same lake and the same output folder, so publications race
        // too (each must appear whole; see `publication_is_whole`).
        .arg("pipelines/sample.toml")
        .args(extra)
        .current_dir(ws.path())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("spawn cex")
}

/// The child's exit status, or None if it is still running at `deadline` (then it is killed).
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts and kills the planned processes on schedule, then waits for all of them.
fn run_plan(ws: &Workspace, plan: &[Plan], deadline: Duration) -> Vec<Option<ExitStatus>> {
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        events.push((p.start_ms, i, false));
        events.extend(p.kill_ms.map(|at| (at, i, true)));
    }
    events.sort(); // a start comes before its kill, even at the same moment
    let t0 = Instant::now();
    let mut children: Vec<Option<Child>> = plan.iter().map(|_| None).collect();
    for (at, i, kill) in events {
        let when = t0 + Duration::from_millis(at);
        std::thread::sleep(when.saturating_duration_since(Instant::now()));
        if kill {
            let child = children[i].as_mut().expect("started before its kill");
            let _ = child.kill(); // SIGKILL: no chance to clean up (a no-op if it has exited)
            let _ = child.wait(); // reaped at once, as a service manager would
        } else {
            children[i] = Some(spawn(ws, i, plan[i].command));
        }
    }
    children
        .iter_mut()
        .map(|c| wait_until(c.as_mut().expect("started"), t0 + deadline))
        .collect()
}

/// Panics unless process `i` ended as its command may: killed (when planned), 0, 5 for a writer.
fn check_exit(ws: &Workspace, i: usize, plan: &Plan, status: Option<ExitStatus>, context: &str) {
    let (name, _, writer) = COMMANDS[plan.command];
    let log = std::fs::read_to_string(log_path(ws, i)).unwrap_or_default();
    let ended = status.map_or("still running".into(), |s| s.to_string());
    eprintln!("  process {i} `cex {name}`: {ended}");
    let Some(status) = status else {
        panic!("{context}: process {i} (`cex {name}`) was still running at the deadline\n{log}");
    };
    let allowed = match status.code() {
        None => plan.kill_ms.is_some(), // died of our signal
        Some(0) => true,
        Some(5) => writer,
        Some(3) => name == "equality" && log.contains(NO_RESPONSES),
        Some(_) => false,
    };
    assert!(
        allowed,
        "{context}: process {i} (`cex {name}`, started at {} ms) ended with {status}\n{log}",
        plan.start_ms
    );
}

/// Installs the checker's Python packages once per test run if `import deltalake` fails.
fn ensure_delta_reader() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        crate::util::ensure_python(
            "deltalake, pyarrow",
            "tests/delta/requirements.txt",
            "the lake checker (tests/delta/check_lake.py)",
        )
    });
}

/// The independent checker's JSON report on `lake`; panics, showing its output, unless it passes.
pub fn check_lake(lake: &Path, args: &[&str], context: &str) -> Value {
    ensure_delta_reader();
    let out = Command::new("python3")
        .arg(repo().join("tests/delta/check_lake.py"))
        .arg(lake)
        .args(args)
        .arg("--json")
        .output()
        .expect("run python3");
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!("{context}: check_lake.py {args:?} exited {}", out.code);
    out.assert_code(0);
    serde_json::from_str(&out.stdout).expect("the checker prints JSON")
}

/// What must not depend on how the lake came to be: its files, and rows per table and month.
pub fn content(report: &Value) -> Value {
    let table = |t: &str| {
        json!({
            "rows": report["tables"][t]["rows"],
            "monthly_totals": report["tables"][t]["monthly_totals"],
        })
    };
    json!({
        "files": report["files"],
        "contacts": table("contacts"),
        "responses": table("responses"),
    })
}

#[test]
fn concurrent_and_killed_runs_lose_no_row_and_double_none() {
    // The reference: every export ingested once, undisturbed.
    let reference = Workspace::with_sample_data();
    reference
        .cex(&["ingest", "pipelines/sample.toml"])
        .assert_code(0);
    let expected = content(&check_lake(
        &reference.path().join("lake"),
        &[],
        "reference",
    ));
    assert!(
        expected["contacts"]["rows"].as_u64() > Some(0),
        "{expected}"
    );
    assert!(
        expected["responses"]["rows"].as_u64() > Some(0),
        "{expected}"
    );

    // The old lake: telephony only (as in crash.rs), copied afresh for each trial.
    let old = Workspace::with_sample_data();
    old.cex(&["ingest", "pipelines/sample.toml", "--source", "telephony"])
        .assert_code(0);
    // How long the longest command takes on it undisturbed: the window for kills.
    let timed = copy_of(&old);
    let started = Instant::now();
    timed
        .cex(&["run", "pipelines/sample.toml", "--skip", "charts,report"])
        .assert_code(0);
    let run_ms = started.elapsed().as_millis() as u64;
    let completed = content(&check_lake(&timed.path().join("lake"), &[], "old + run"));
    assert_eq!(
        completed, expected,
        "old lake + run differs from one ingest"
    );

    let seed = env_number("CEX_SOAK_SEED", 20_261_202);
    let mut rng = Rng::new(seed);
    // Generous: 6 processes share 2 cores; a process still running then is a hang.
    let deadline = Duration::from_millis(400 + (40 * run_ms).max(120_000));
    let mut reproduced = 0;
    for trial in 0..env_number("CEX_SOAK_TRIALS", 4) {
        let ws = copy_of(&old);
        let plan = draw_plan(&mut rng, run_ms);
        let schedule: Vec<String> = plan
            .iter()
            .map(|p| {
                let kill = p.kill_ms.map(|k| format!(" kill@{k}")).unwrap_or_default();
                format!("{}@{}{kill}", COMMANDS[p.command].0, p.start_ms)
            })
            .collect();
        let context = format!(
            "trial {trial} (CEX_SOAK_SEED={seed}) [{}]",
            schedule.join(", ")
        );
        eprintln!("{context}");

        let statuses = run_plan(&ws, &plan, deadline);
        for (i, (p, status)) in plan.iter().zip(statuses).enumerate() {
            check_exit(&ws, i, p, status, &context);
        }

        publication_is_whole(&ws, &context);
        reproduced += publications_are_reproduced(&ws, &context);
        let lake = ws.path().join("lake");
        check_lake(&lake, &["--allow-pending"], &context);
        // The next writer records what a killed one committed, and adds what is missing.
        ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
        let report = check_lake(&lake, &[], &context);
        assert_eq!(
            content(&report),
            expected,
            "{context}: the lake differs from the reference"
        );
    }
    eprintln!("{reproduced} publications made again from the lake versions they name");
    assert!(
        reproduced > 0 || env_number("CEX_SOAK_TRIALS", 4) == 0,
        "no trial published anything to make again"
    );
}
