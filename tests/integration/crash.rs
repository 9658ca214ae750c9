//! A run killed at any moment leaves the lake as it was or, once the next run has opened it, as the
//! finished run would: never a mix. Starting from a lake that already holds one source, `cex run`
//! is killed (SIGKILL) at random moments while it ingests the others; each time the lake must be
//! the old one or the new one, and a re-run must complete it.
//!
//! `CEX_CRASH_TRIALS=N` runs more trials; `CEX_CRASH_SEED=N` picks other moments.

use std::path::Path;
use std::time::Duration;

use polars::prelude::*;

use crate::util::{u64s, Rng, Workspace};

/// Rows in the lake's committed Parquet files (outside the staging area), and whether a staged
/// commit is waiting to be applied.
fn lake_state(ws: &Workspace) -> (usize, bool) {
    fn walk(dir: &Path, rows: &mut usize, committed: &mut bool) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name == "_txn" {
                    for t in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                        *committed |= t.path().join("COMMIT").exists();
                    }
                } else {
                    walk(&p, rows, committed);
                }
            } else if name.ends_with(".parquet") && name != "manifest.parquet" {
                let file = std::fs::File::open(&p).expect("open lake file");
                *rows += ParquetReader::new(file)
                    .finish()
                    .expect("a committed lake file is readable")
                    .height();
            }
        }
    }
    let (mut rows, mut committed) = (0, false);
    walk(&ws.path().join("lake"), &mut rows, &mut committed);
    (rows, committed)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A workspace whose lake holds the telephony exports only: the "old" lake.
fn with_old_lake() -> Workspace {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml", "--source", "telephony"])
        .assert_code(0);
    ws
}

#[test]
fn a_killed_run_leaves_the_old_lake_or_the_new_one_and_a_rerun_completes_it() {
    let old = with_old_lake();
    let (old_rows, _) = lake_state(&old);
    let new = with_old_lake();
    let started = std::time::Instant::now();
    new.cex(&["run", "pipelines/sample.toml", "--skip", "charts,report"])
        .assert_code(0);
    let run_ms = started.elapsed().as_millis() as u64;
    let (new_rows, _) = lake_state(&new);
    let new_files = new.manifest().height();
    assert!(new_rows > old_rows && old_rows > 0);

    let seed = env_number("CEX_CRASH_SEED", 20_261_124);
    let mut rng = Rng::new(seed);
    for trial in 0..env_number("CEX_CRASH_TRIALS", 10) {
        let ws = with_old_lake();
        // Anywhere from the start to the end of a whole run (ingest comes first).
        let delay_ms = rng.next() % (run_ms + 1);
        let context = format!("trial {trial} (CEX_CRASH_SEED={seed}), killed after {delay_ms} ms");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cex"))
            .args(["run", "pipelines/sample.toml", "--skip", "charts,report"])
            .current_dir(ws.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no chance to clean up
        let _ = child.wait();

        let (rows, committed) = lake_state(&ws);
        if committed {
            // Killed while applying its commit: the next run finishes applying it.
            assert!(rows >= old_rows, "{context}: rows lost");
        } else {
            assert!(
                rows == old_rows || rows == new_rows,
                "{context}: the lake holds {rows} rows, neither the old {old_rows} nor the new {new_rows}"
            );
        }
        // Whatever happened, the next run opens (recovers) the lake and finishes the job.
        ws.cex(&["run", "pipelines/sample.toml", "--skip", "charts,report"])
            .assert_code(0);
        let (rows, committed) = lake_state(&ws);
        assert!(!committed, "{context}: a commit is left waiting");
        assert_eq!(rows, new_rows, "{context}");
        assert_eq!(ws.manifest().height(), new_files, "{context}");
        let accepted: u64 = u64s(&ws.manifest(), "accepted").iter().sum();
        assert_eq!(
            accepted as usize, new_rows,
            "{context}: manifest and lake disagree"
        );
        let staging = ws.path().join("lake/_txn");
        assert!(
            !staging.exists() || std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0) == 0,
            "{context}: staging area left behind"
        );
    }
}
