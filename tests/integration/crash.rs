//! A run killed at any moment leaves the lake as it was or, once the next run has opened it, as the
//! finished run would: never a mix. Kills `cex ingest` at several points and checks both.

use std::time::Duration;

use crate::util::{u64s, Workspace};

/// Parquet files outside the staging area, and whether a staged commit is waiting.
fn lake_state(ws: &Workspace) -> (usize, bool) {
    fn walk(dir: &std::path::Path, parquet: &mut usize, committed: &mut bool) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name == "_txn" {
                    for t in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                        *committed |= t.path().join("COMMIT").exists();
                    }
                } else {
                    walk(&p, parquet, committed);
                }
            } else if name.ends_with(".parquet") {
                *parquet += 1;
            }
        }
    }
    let (mut parquet, mut committed) = (0, false);
    walk(&ws.path().join("lake"), &mut parquet, &mut committed);
    (parquet, committed)
}

#[test]
fn a_killed_ingest_leaves_the_old_lake_or_is_completed_by_the_next_run() {
    // The finished state, for comparison.
    let reference = Workspace::with_sample_data();
    reference
        .cex(&["ingest", "pipelines/sample.toml"])
        .assert_code(0);
    let want_rows =
        reference.lake_table("contacts").height() + reference.lake_table("responses").height();
    let want_files = reference.manifest().height();

    for delay_ms in [0u64, 20, 60, 120, 200, 300, 450, 700] {
        let ws = Workspace::with_sample_data();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cex"))
            .args(["ingest", "pipelines/sample.toml"])
            .current_dir(ws.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no chance to clean up
        let _ = child.wait();

        let (parquet, committed) = lake_state(&ws);
        let finished = ws.path().join("lake/manifest.parquet").exists() && !committed;
        if !committed && !finished {
            // Killed before its commit: the lake must be as it was, i.e. empty.
            assert_eq!(
                parquet, 0,
                "killed after {delay_ms} ms: files visible without a commit"
            );
        }
        // Whatever happened, the next run opens (recovers) the lake and finishes the job.
        ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
        let rows = ws.lake_table("contacts").height() + ws.lake_table("responses").height();
        assert_eq!(rows, want_rows, "killed after {delay_ms} ms");
        assert_eq!(
            ws.manifest().height(),
            want_files,
            "killed after {delay_ms} ms"
        );
        let accepted: u64 = u64s(&ws.manifest(), "accepted").iter().sum();
        assert_eq!(
            accepted as usize, want_rows,
            "manifest and lake disagree after {delay_ms} ms"
        );
        assert!(
            !ws.path().join("lake/_txn").exists()
                || std::fs::read_dir(ws.path().join("lake/_txn"))
                    .map(|d| d.count())
                    .unwrap_or(0)
                    == 0
        );
    }
}
