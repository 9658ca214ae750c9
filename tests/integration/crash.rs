//! A run killed at any moment leaves the lake as it was or, once the next run has opened it, as the
//! finished run would: never a mix. Starting from a lake that already holds one source, `cex run`
//! is killed (SIGKILL) at random moments while it ingests the others; each time the lake must be
//! the old one or the new one, and a re-run must complete it.
//!
//! `CEX_CRASH_TRIALS=N` runs more trials; `CEX_CRASH_SEED=N` picks other moments.

use std::path::Path;
use std::time::Duration;

use crate::util::{u64s, Rng, Workspace};

/// Rows a reader of the lake sees now (contacts and responses at the manifest's versions).
fn lake_rows(ws: &Workspace) -> usize {
    ws.lake_table("contacts").height() + ws.lake_table("responses").height()
}

/// Parquet files on disk under the data tables that the lake's snapshot does not refer to.
fn unreferenced_files(ws: &Workspace) -> usize {
    let root = ws.path().join("lake");
    let lake = cex_insight::lake::Lake::open(&root).expect("open lake");
    let mut referenced = 0;
    let mut on_disk = 0;
    for table in [
        cex_insight::model::Table::Contacts,
        cex_insight::model::Table::Responses,
    ] {
        referenced += lake.table_files(table).len();
        on_disk += count_parquet(&root.join(table.name()));
    }
    on_disk - referenced
}

fn count_parquet(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_parquet(&p)
            } else {
                usize::from(p.extension().is_some_and(|x| x == "parquet"))
            }
        })
        .sum()
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
    let old_rows = lake_rows(&old);
    let new = with_old_lake();
    let started = std::time::Instant::now();
    new.cex(&["run", "pipelines/sample.toml", "--skip", "charts,report"])
        .assert_code(0);
    let run_ms = started.elapsed().as_millis() as u64;
    let new_rows = lake_rows(&new);
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

        // A reader sees the old lake or the new one, never a part: a data commit whose
        // manifest commit was not written yet is not pinned by the manifest.
        let rows = lake_rows(&ws);
        assert!(
            rows == old_rows || rows == new_rows,
            "{context}: a reader sees {rows} rows, neither the old {old_rows} nor the new {new_rows}"
        );
        // Whatever happened, the next run opens (recovers) the lake and finishes the job.
        ws.cex(&["run", "pipelines/sample.toml", "--skip", "charts,report"])
            .assert_code(0);
        let rows = lake_rows(&ws);
        assert_eq!(rows, new_rows, "{context}");
        assert_eq!(ws.manifest().height(), new_files, "{context}");
        let accepted: u64 = u64s(&ws.manifest(), "accepted").iter().sum();
        assert_eq!(
            accepted as usize, new_rows,
            "{context}: manifest and lake disagree"
        );
        assert_eq!(
            unreferenced_files(&ws),
            0,
            "{context}: files of the killed run left behind"
        );
    }
}
