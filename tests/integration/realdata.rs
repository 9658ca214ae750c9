//! Real exports the team did not write (`tests/realdata/`, each with its SOURCE.md), mapped by a
//! pipeline file only, and cex's published figures checked against an independent computation
//! (Python's csv module, `expected.py`) by `compare.py`.

use std::process::Command;

use crate::util::{copy_dir, repo};

#[test]
fn la311_case_exports_give_the_figures_an_independent_count_gives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("la311");
    copy_dir(&repo().join("tests/realdata/la311"), &work);
    let cex = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cex"))
            .args(args)
            .current_dir(&work)
            .output()
            .expect("run cex");
        assert!(
            out.status.success(),
            "cex {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cex(&["run", "pipeline.toml", "--as-of", "2020-02-03"]);
    cex(&["kpi", "pipeline.toml", "--period", "2017-12"]);
    let out = Command::new("python3")
        .arg(work.join("compare.py"))
        .arg(work.join("out"))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.lines().count() >= 4, "{stdout}");
}

/// Daily counts of a contact centre (City of Vancouver's 3-1-1 line, 36 months), mapped as an
/// interval export whose interval is a day, with one fixed service (the file has no queue
/// column): every month's answered, abandoned, offered and abandonment rate against Python's
/// csv module, per-call figures the file cannot give left empty.
#[test]
fn vancouver311_daily_counts_give_the_monthly_figures_an_independent_sum_gives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("van");
    copy_dir(&repo().join("tests/realdata/vancouver311_metrics"), &work);
    let cex = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cex"))
            .args(args)
            .current_dir(&work)
            .output()
            .expect("run cex");
        assert!(
            out.status.success(),
            "cex {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cex(&["run", "pipeline.toml", "--as-of", "2024-10-15"]);
    for fy in ["2021/22", "2022/23", "2023/24"] {
        cex(&["kpi", "pipeline.toml", "--fy", fy]);
    }
    let out = Command::new("python3")
        .arg(work.join("compare.py"))
        .arg(work.join("out"))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("over 36 months, 0 differences"), "{stdout}");
}

/// A wide resident survey (City of Toronto, 599 respondents, 21 agreement statements, Windows-
/// 1252): one answer per statement, blank answers excluded as "not answered", statement 3.1 as
/// the overall question so each respondent counts once; satisfaction and the equality table by
/// age checked against Python's csv module.
#[test]
fn toronto_wide_survey_gives_the_figures_an_independent_count_gives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("tor");
    copy_dir(&repo().join("tests/realdata/toronto_per_survey"), &work);
    let out = Command::new(env!("CARGO_BIN_EXE_cex"))
        .args(["run", "pipeline.toml", "--as-of", "2024-01-31"])
        .current_dir(&work)
        .output()
        .expect("run cex");
    assert!(
        out.status.success(),
        "cex run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("python3")
        .arg(work.join("compare.py"))
        .arg(work.join("out"))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(", 0 differences"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
