//! Real exports the team did not write (`tests/realdata/`, each with its SOURCE.md), mapped by a
//! pipeline file only, and cex's published figures checked against an independent computation
//! (Python's csv module, `expected.py`) by `compare.py`.

use std::process::Command;

use crate::util::{copy_dir, repo};

/// Copies `tests/realdata/<folder>` into a scratch folder, runs each cex command there (each
/// must succeed), then its `compare.py` on the outputs; returns what compare.py printed, after
/// checking it exited 0 (no difference).
fn cross_checked(folder: &str, commands: &[&[&str]]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join(folder);
    copy_dir(&repo().join("tests/realdata").join(folder), &work);
    for args in commands {
        let out = Command::new(env!("CARGO_BIN_EXE_cex"))
            .args(*args)
            .current_dir(&work)
            .output()
            .expect("run cex");
        assert!(
            out.status.success(),
            "cex {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("python3")
        .arg(work.join("compare.py"))
        .arg(work.join("out"))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A 311 case export in two layouts: the crews' own reports excluded by a row filter, the app a
/// channel of its own; channel mix, take-up and every (channel, service) volume of two months,
/// and right first time linked on real identifiers: the request's address as a keyed case
/// reference, repeat requests (same address and type within 1 and 7 days), resolution as
/// observed and the days to a repeat, by month, service and channel.
#[test]
fn la311_case_exports_give_the_figures_an_independent_count_gives() {
    let stdout = cross_checked(
        "la311",
        &[
            &["run", "pipeline.toml", "--as-of", "2020-02-03"],
            &["kpi", "pipeline.toml", "--period", "2017-12"],
        ],
    );
    assert!(stdout.contains("0 differences"), "{stdout}");
}

/// A 311 case export in the NYC Open Data layout (New York wall-clock times, a fiscal year
/// from July, intake channels with an "unknown"), mapped by a pipeline file alone: channel mix,
/// volumes and take-up of every published month against Python's csv module; no form
/// completion without recorded outcomes; and two stray requests in November 2011 choosing the
/// period of a run left to choose, with the warning that says so.
#[test]
fn nyc311_case_export_gives_the_figures_an_independent_count_gives() {
    let stdout = cross_checked(
        "nyc311",
        &[
            &["run", "pipeline.toml", "--as-of", "2011-12-05"],
            &["kpi", "pipeline.toml", "--period", "2011-03"],
            &["kpi", "pipeline.toml", "--as-of", "2011-12-05"],
        ],
    );
    assert!(stdout.contains(" 0 differences"), "{stdout}");
}

/// Daily counts of a contact centre (City of Vancouver's 3-1-1 line, 36 months), mapped as an
/// interval export whose interval is a day, with one fixed service (the file has no queue
/// column): every month's answered, abandoned, offered, abandonment rate and average speed of
/// answer (the publisher's daily averages weighted by the calls handled, `interval_averages`)
/// against Python's csv module, and the service level, which the file cannot give, left empty
/// (with the waits mapped it had come out 0%: each day's wait was compared with 20 s).
#[test]
fn vancouver311_daily_counts_give_the_monthly_figures_an_independent_sum_gives() {
    let stdout = cross_checked(
        "vancouver311_metrics",
        &[
            &["run", "pipeline.toml", "--as-of", "2024-10-15"],
            &["kpi", "pipeline.toml", "--fy", "2021/22"],
            &["kpi", "pipeline.toml", "--fy", "2022/23"],
            &["kpi", "pipeline.toml", "--fy", "2023/24"],
        ],
    );
    assert!(stdout.contains("over 36 months, 0 differences"), "{stdout}");
}

/// A wide resident survey (City of Toronto, 599 respondents, 21 agreement statements, Windows-
/// 1252): one answer per statement, blank answers excluded as "not answered", statement 3.1 as
/// the overall question so each respondent counts once, every answer dated by the year 2023
/// alone (Toronto's fiscal year), in no month; satisfaction and the equality table by age
/// checked against Python's csv module.
#[test]
fn toronto_wide_survey_gives_the_figures_an_independent_count_gives() {
    let stdout = cross_checked(
        "toronto_per_survey",
        &[&["run", "pipeline.toml", "--fy", "2023"]],
    );
    assert!(stdout.contains(", 0 differences"), "{stdout}");
}

/// Monthly counts with one column per channel (San Francisco's 311 "Cases by Channel", 10
/// months): one source, wide across channels, each column's value a count and its label the
/// channel;
/// every month's channel mix, take-up and volumes against Python's csv module, and the month
/// totals against the publisher's own total column.
#[test]
fn sf311_monthly_counts_by_channel_give_the_figures_an_independent_sum_gives() {
    let stdout = cross_checked(
        "sf311_channels",
        &[
            &["run", "pipeline.toml", "--as-of", "2016-10-15"],
            &["kpi", "pipeline.toml", "--period", "2016-03"],
        ],
    );
    assert!(stdout.contains("over 10 months, 0 differences"), "{stdout}");
}

/// A wide resident survey whose rating items have a not-rated answer (City of Austin, 2,609
/// respondents, seven services rated with "Never used" among the answers, one overall rating):
/// one source with two scales (the overall question on its own), dated by the year 2015 alone,
/// "Never used" kept as not rated; satisfaction by question, the rating distribution and the equality tables by
/// ethnicity, age band and gender against Python's csv module, blank published cells checked as
/// primary or secondary suppressions.
#[test]
fn austin_wide_survey_with_never_used_answers_gives_the_figures_an_independent_count_gives() {
    let stdout = cross_checked(
        "austin_aaqol_survey",
        &[&["run", "pipeline.toml", "--fy", "2015"]],
    );
    assert!(stdout.contains(" cells, 0 differences"), "{stdout}");
}

/// A real customer survey whose every answer is a number code (San Francisco International
/// Airport, 2018, 2,809 passengers, public domain): seven 1-5 ratings with 6 = "never used"
/// kept as not rated and a 0-10 recommendation read on its own scale, all in one source; the
/// codebook's blank codes (0, 11 and the text BLANK) rejected and checked per column; coded age
/// and gender; dated by the year alone. Satisfaction by question, the ratings, the equality
/// tables and the reconciliation against Python's csv module.
#[test]
fn sfo_coded_survey_with_two_scales_gives_the_figures_an_independent_count_gives() {
    let stdout = cross_checked(
        "sfo_customer_survey",
        &[&["run", "pipeline.toml", "--fy", "2018"]],
    );
    assert!(stdout.contains(" cells, 0 differences"), "{stdout}");
}
