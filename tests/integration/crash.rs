//! A run killed at any moment leaves the lake as it was or, once the next run has opened it, as the
//! finished run would: never a mix. Starting from a lake that already holds one source, `cex run`
//! is killed (SIGKILL) at random moments while it ingests the others; each time the lake must be
//! the old one or the new one, and a re-run must complete it. `cex lake upgrade` is killed the
//! same way while it converts a lake of the layout before Delta tables.
//!
//! `CEX_CRASH_TRIALS=N` runs more trials; `CEX_CRASH_SEED=N` picks other moments.

use std::path::Path;
use std::time::Duration;

use polars::prelude::*;

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

/// Runs `cex args` in `ws` and kills it (SIGKILL: no chance to clean up) after `delay_ms`,
/// or lets it end if it ends sooner.
fn killed_after(ws: &Workspace, args: &[&str], delay_ms: u64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cex"))
        .args(args)
        .current_dir(ws.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = child.kill();
    let _ = child.wait();
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
        killed_after(
            &ws,
            &["run", "pipelines/sample.toml", "--skip", "charts,report"],
            delay_ms,
        );

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

/// The lake at `lake` written again in the layout before Delta tables, at `old`: one Parquet
/// file per export and month, `<table>/<source>/<yyyy>/<mm>/part-<file id>.parquet`, and the
/// manifest as `manifest.parquet`. Made from a lake of today's layout because no build of the
/// old one is at hand; the files hold the same columns the old writer wrote (partition columns
/// included).
fn as_old_layout(lake: &Path, old: &Path) -> usize {
    use cex_insight::lake::{manifest, Lake};
    use cex_insight::model::Table;
    let lake = Lake::open(lake).expect("open lake");
    let mut files = 0;
    for table in [Table::Contacts, Table::Responses] {
        let Some(rows) = lake.scan(table).expect("scan") else {
            continue;
        };
        let rows = rows.collect().expect("rows");
        let by = ["source", "year", "month", "source_file_id"];
        for mut part in rows.partition_by_stable(by, true).expect("partition") {
            let text = |name: &str| {
                let column = part.column(name).expect(name).cast(&DataType::String);
                column
                    .expect("as text")
                    .str()
                    .expect("text")
                    .get(0)
                    .expect("a value")
                    .to_string()
            };
            let path = old.join(format!(
                "{}/{}/{}/{:0>2}/part-{}.parquet",
                table.name(),
                text("source"),
                text("year"),
                text("month"),
                text("source_file_id")
            ));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
            let file = std::fs::File::create(&path).expect("create");
            ParquetWriter::new(file).finish(&mut part).expect("write");
            files += 1;
        }
    }
    let records = manifest::records_from_frame(lake.manifest()).expect("records");
    let mut frame = manifest::to_frame(&records).expect("frame");
    let file = std::fs::File::create(old.join("manifest.parquet")).expect("create");
    ParquetWriter::new(file).finish(&mut frame).expect("write");
    files
}

#[test]
fn a_killed_lake_upgrade_loses_no_row_and_the_next_finishes_it() {
    // `cex lake upgrade` rewrites every old file into the Delta tables, commits, then removes
    // the old files. Killed (SIGKILL) anywhere in that, a reader must find the old lake (and be
    // told to upgrade) or the whole new one, and the next upgrade must leave what an undisturbed
    // upgrade leaves, as a Delta reader cex did not write reads it: no row lost or doubled.
    let source = Workspace::with_sample_data();
    source
        .cex(&["ingest", "pipelines/sample.toml"])
        .assert_code(0);
    let old = source.path().join("old-lake");
    let old_files = as_old_layout(&source.path().join("lake"), &old);
    assert!(old_files > 40, "{old_files} old files");
    let with_old = || {
        let ws = Workspace::new();
        crate::util::copy_dir(&old, &ws.path().join("lake"));
        ws
    };
    let upgrade = ["lake", "upgrade", "pipelines/sample.toml"];
    // The reference: upgraded undisturbed.
    let reference = with_old();
    let started = std::time::Instant::now();
    reference.cex(&upgrade).assert_code(0);
    let upgrade_ms = started.elapsed().as_millis() as u64;
    let expected = crate::soak::content(&crate::soak::check_lake(
        &reference.path().join("lake"),
        &[],
        "undisturbed upgrade",
    ));
    let rows = lake_rows(&reference);
    assert_eq!(
        rows as u64,
        u64s(&source.manifest(), "accepted").iter().sum::<u64>(),
        "the upgrade keeps every row"
    );

    let seed = env_number("CEX_CRASH_SEED", 20_261_207);
    let mut rng = Rng::new(seed);
    for trial in 0..env_number("CEX_CRASH_TRIALS", 10) {
        let ws = with_old();
        // Every third trial is killed twice before one is let finish.
        let kills = if trial % 3 == 2 { 2 } else { 1 };
        let mut context = format!("trial {trial} (CEX_CRASH_SEED={seed}), killed after");
        for _ in 0..kills {
            let delay_ms = rng.next() % (upgrade_ms + 1);
            context.push_str(&format!(" {delay_ms} ms"));
            killed_after(&ws, &upgrade, delay_ms);
            // A reader finds the old layout (and is told to upgrade) or every row.
            match cex_insight::lake::Lake::open(&ws.path().join("lake")) {
                Err(e) => assert!(e.to_string().contains("cex lake upgrade"), "{context}: {e}"),
                Ok(_) => assert_eq!(lake_rows(&ws), rows, "{context}"),
            }
        }
        ws.cex(&upgrade).assert_code(0);
        let found = crate::soak::content(&crate::soak::check_lake(
            &ws.path().join("lake"),
            &[],
            &context,
        ));
        assert_eq!(found, expected, "{context}");
        assert_eq!(lake_rows(&ws), rows, "{context}");
        assert_eq!(
            unreferenced_files(&ws),
            0,
            "{context}: files of the killed upgrade left behind"
        );
        let old_left = cex_insight::lake::Lake::open(&ws.path().join("lake")).is_err()
            || ws.path().join("lake/manifest.parquet").exists();
        assert!(!old_left, "{context}: the old layout is left");
    }
}
