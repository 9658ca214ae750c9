//! `cex run` draws the charts and writes the Cabinet report: every figure in the report is the one
//! in the table it came from (read here from the CSVs), the HTML is self-contained and accessible,
//! and every chart has a PNG, an SVG and a text alternative stating its figures.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::util::{read_csv, strings, Workspace};

/// A Markdown cell as text: backslash escapes and the HTML entities the report writes undone.
fn md_text(cell: &str) -> String {
    let mut out = String::new();
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next)) if next.is_ascii_punctuation() => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The Markdown table under `**caption**`: its rows as cells, unescaped.
fn md_table(md: &str, caption: &str) -> Vec<Vec<String>> {
    let start = md
        .find(&format!("**{caption}**"))
        .unwrap_or_else(|| panic!("no table '{caption}' in report.md"));
    md[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| md_text(c.trim()))
                .collect()
        })
        .collect()
}

fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .map(|c| c.f64().expect("f64").iter().collect())
        .unwrap_or_else(|_| panic!("column {name}"))
}

/// `1,234`, as the report prints counts.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

fn rows_where(df: &DataFrame, filters: &[(&str, &str)]) -> DataFrame {
    let mut lf = df.clone().lazy();
    for (c, v) in filters {
        lf = lf.filter(col(*c).eq(lit(*v)));
    }
    lf.collect().expect("filter")
}

fn run_sample() -> (Workspace, std::path::PathBuf) {
    let ws = Workspace::with_sample_data();
    ws.cex(&["run", "pipelines/sample.toml", "--period", "2025-03"])
        .assert_code(0);
    let dir = ws.path().join("out/2025-03");
    (ws, dir)
}

#[test]
fn report_figures_are_the_tables_figures() {
    let (_ws, dir) = run_sample();
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");

    // Headline: every channel-shift KPI with baseline, target, actual, change and status.
    let shift = read_csv(&dir.join("channel_shift.csv"));
    let rows = md_table(
        &md,
        "Channel-shift KPIs: baseline, target, actual and status",
    );
    assert_eq!(rows.len(), shift.height());
    let (kpi, status, rag) = (
        strings(&shift, "kpi"),
        strings(&shift, "status"),
        strings(&shift, "rag"),
    );
    let (base, cur) = (floats(&shift, "baseline"), floats(&shift, "current"));
    let (change, target) = (
        floats(&shift, "change_pct"),
        floats(&shift, "target_change_pct"),
    );
    for i in 0..shift.height() {
        let row = &rows[i];
        assert_eq!(row[0], kpi[i].clone().unwrap_or_default());
        assert_eq!(row[1], thousands(base[i].expect("baseline")));
        assert_eq!(row[2], format!("{:+.1}%", target[i].expect("target")));
        assert_eq!(row[3], thousands(cur[i].expect("current")));
        assert_eq!(row[4], format!("{:+.1}%", change[i].expect("change")));
        assert_eq!(
            row[5],
            format!(
                "{} ({})",
                status[i].clone().unwrap_or_default(),
                rag[i].clone().unwrap_or_default()
            )
        );
    }
    let met = status
        .iter()
        .filter(|s| s.as_deref() == Some("met"))
        .count();
    assert!(md.contains(&format!(
        "{met} of {} channel-shift targets met",
        shift.height()
    )));

    // Satisfaction by channel with N.
    let sat = read_csv(&dir.join("satisfaction_by_channel.csv"));
    let rows = md_table(
        &md,
        "Satisfaction by channel, 2024/25 to date (April 2024 to March 2025)",
    );
    assert_eq!(rows.len(), sat.height());
    let (n, score) = (floats(&sat, "responses"), floats(&sat, "council_score_pct"));
    for i in 0..sat.height() {
        assert_eq!(rows[i][1], n[i].map_or("hidden".into(), thousands));
        assert_eq!(
            rows[i][5],
            score[i].map_or("hidden".into(), |s| format!("{s:.1}%"))
        );
    }

    // Contact centre: all services and queues, month by month.
    let cc = rows_where(
        &read_csv(&dir.join("contact_centre.csv")),
        &[("service", "All services"), ("queue", "All queues")],
    );
    let rows = md_table(&md, "Contact centre, all services and queues, by month");
    assert_eq!(rows.len(), cc.height());
    let (offered, level) = (floats(&cc, "offered"), floats(&cc, "service_level_pct"));
    for i in 0..cc.height() {
        assert_eq!(rows[i][1], thousands(offered[i].expect("offered")));
        assert_eq!(
            rows[i][5],
            format!("{:.1}%", level[i].expect("service level"))
        );
    }

    // Data quality: the manifest's counts per source.
    let dq = read_csv(&dir.join("data_quality.csv"));
    let rows = md_table(&md, "Files and rows in the lake, by source");
    let (files, read, rejected) = (
        floats(&dq, "files"),
        floats(&dq, "rows_read"),
        floats(&dq, "rejected"),
    );
    for i in 0..dq.height() {
        assert_eq!(rows[i][1], thousands(files[i].expect("files")));
        assert_eq!(rows[i][2], thousands(read[i].expect("rows")));
        assert_eq!(rows[i][4], thousands(rejected[i].expect("rejected")));
    }
    let lineage = read_csv(&dir.join("lineage.csv"));
    for hash in strings(&lineage, "sha256").into_iter().flatten() {
        assert!(md.contains(&hash), "lineage hash {hash} in the report");
    }

    // Equality: N and % satisfied with its interval, suppressed cells shown as such.
    let eq = read_csv(&dir.join("equality/equality_age_band.csv"));
    let rows = md_table(&md, "Satisfaction by age band");
    assert_eq!(rows.len(), eq.height());
    let (n, s, lo, hi) = (
        floats(&eq, "responses"),
        floats(&eq, "satisfied_pct"),
        floats(&eq, "satisfied_low"),
        floats(&eq, "satisfied_high"),
    );
    for i in 0..eq.height() {
        match n[i] {
            Some(n) => assert_eq!(rows[i][1], thousands(n)),
            None => assert!(
                rows[i][1] == "fewer than 10" || rows[i][1] == "hidden",
                "{}",
                rows[i][1]
            ),
        }
        if let (Some(s), Some(l), Some(h)) = (s[i], lo[i], hi[i]) {
            assert_eq!(rows[i][2], format!("{s:.1}% ({l:.1} to {h:.1})"));
        }
    }
    // The comparison columns say why they are blank, as the counts do: "–" only where no
    // comparison is made (the total row, non-response), never for a comparison that disclosure
    // control blanked.
    let (diff, p_adj) = (
        floats(&eq, "dissatisfied_difference_pp"),
        floats(&eq, "p_adjusted"),
    );
    let blank = strings(&eq, "suppressed");
    let mut blanked_comparisons = 0;
    for i in 0..eq.height() {
        let listed: Vec<&str> = blank[i]
            .as_deref()
            .map(|b| b.split(", ").collect())
            .unwrap_or_default();
        for (cell, column, value) in [
            (
                4,
                "dissatisfied_difference_pp",
                diff[i].map(|v| format!("{v:+.1}")),
            ),
            (5, "p_adjusted", p_adj[i].map(|v| format!("{v:.3}"))),
        ] {
            let md_cell = &rows[i][cell];
            match value {
                Some(v) => assert_eq!(md_cell, &v),
                None if listed.contains(&column) => {
                    blanked_comparisons += 1;
                    assert!(
                        md_cell == "fewer than 10" || md_cell == "hidden",
                        "row {i} {column}: {md_cell}"
                    );
                }
                None => assert_eq!(md_cell, "–", "row {i} {column}"),
            }
        }
        if listed.contains(&"difference") {
            assert!(
                rows[i][6] == "fewer than 10" || rows[i][6] == "hidden",
                "row {i} significant: {}",
                rows[i][6]
            );
        }
    }
    assert!(
        blanked_comparisons > 0,
        "the sample's age table has comparisons blanked by disclosure control"
    );
    assert!(md.contains("Counts from 1 to 9 and what is derived from them are suppressed"));
    assert!(md.contains("Holm method"));

    // Assumptions: the unit costs the benefits estimate used.
    let benefits = read_csv(&dir.join("benefits_estimate.csv"));
    let rows = md_table(&md, "Benefits estimate and the unit costs assumed");
    let cost = floats(&benefits, "assumed_cost_per_contact");
    for i in 0..benefits.height() {
        assert_eq!(rows[i][3], format!("£{:.2}", cost[i].expect("cost")));
    }
}

#[test]
fn the_html_report_is_self_contained_and_accessible() {
    let (_ws, dir) = run_sample();
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    // Nothing outside the file: no scripts, stylesheets, images or fonts fetched.
    for banned in [
        "<script",
        "<link",
        "<img",
        "src=",
        "url(",
        "@import",
        "href=\"http",
        "xlink:href",
    ] {
        assert!(!html.contains(banned), "report.html contains {banned}");
    }
    assert!(html.contains("Content-Security-Policy"));
    // Headings in order, starting from one h1.
    let levels: Vec<u8> = html
        .match_indices("<h")
        .filter_map(|(i, _)| html[i + 2..].chars().next()?.to_digit(10).map(|d| d as u8))
        .collect();
    assert_eq!(levels.iter().filter(|l| **l == 1).count(), 1);
    assert!(
        levels.windows(2).all(|w| w[1] <= w[0] + 1),
        "heading levels skip: {levels:?}"
    );
    // Tables have header cells; charts are inline SVG with a text alternative.
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("<thead>").count()
    );
    let figures = html.matches("<figure>").count();
    assert!(figures >= 8, "{figures} charts inlined");
    assert_eq!(html.matches("role=\"img\"").count(), figures);
    assert_eq!(html.matches("<desc>").count(), figures);
    assert!(html.contains("@media print") && html.contains("break-before: page"));
}

#[test]
fn every_chart_is_drawn_twice_and_its_alt_text_states_the_figures() {
    let (_ws, dir) = run_sample();
    let charts = dir.join("charts");
    let index: Vec<HashMap<String, String>> =
        serde_json::from_str(&std::fs::read_to_string(charts.join("charts.json")).expect("index"))
            .expect("json");
    let names: Vec<&str> = index.iter().map(|c| c["name"].as_str()).collect();
    for expected in [
        "channel_shift_targets",
        "contacts_by_channel",
        "channel_mix",
        "digital_takeup",
        "satisfaction_council_score",
        "contact_centre",
        "equality_age_band",
        "equality_sex",
        "equality_ethnicity",
        "equality_disability",
    ] {
        assert!(
            names.contains(&expected),
            "chart {expected} missing from {names:?}"
        );
    }
    for name in &names {
        let png = std::fs::read(charts.join(format!("{name}.png"))).expect("png");
        assert!(png.starts_with(b"\x89PNG"), "{name}.png is a PNG");
        let svg = std::fs::read_to_string(charts.join(format!("{name}.svg"))).expect("svg");
        assert!(svg.contains("<svg") && svg.contains("<desc>"));
    }
    let alt = |name: &str| {
        index
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["alt"].clone())
            .unwrap_or_default()
    };
    // The contacts chart states March 2025's transactions per channel, from channel_trend.
    let trend = rows_where(
        &read_csv(&dir.join("channel_trend.csv")),
        &[("organisation", "Example City Council")],
    );
    let march = trend
        .clone()
        .lazy()
        .filter(col("year").eq(lit(2025)).and(col("month").eq(lit(3))))
        .collect()
        .expect("march");
    let channels = strings(&march, "channel");
    let values = floats(&march, "transactions");
    let contacts_alt = alt("contacts_by_channel");
    assert!(
        contacts_alt.contains("baseline 2022/23 is shaded"),
        "{contacts_alt}"
    );
    for (ch, v) in channels.iter().zip(values) {
        let words = ch.as_deref().unwrap_or_default().replace('_', " ");
        let figure = format!("{words} {}", thousands(v.expect("value")));
        assert!(
            contacts_alt.contains(&figure),
            "'{figure}' in: {contacts_alt}"
        );
    }
    // The equality chart names every group with its figure or its suppression.
    let eq = read_csv(&dir.join("equality/equality_sex.csv"));
    let sex_alt = alt("equality_sex");
    for (group, s) in strings(&eq, "sex").iter().zip(floats(&eq, "satisfied_pct")) {
        let group = group.clone().unwrap_or_default();
        match s {
            Some(s) => assert!(
                sex_alt.contains(&format!("{group} {s:.1}%")),
                "{group} in {sex_alt}"
            ),
            None => assert!(
                sex_alt.contains(&format!("{group} fewer than"))
                    || sex_alt.contains(&format!("{group} hidden so that")),
                "{group} in {sex_alt}"
            ),
        }
    }
    // Every KPI's status is in the targets chart's alternative.
    for status in strings(&read_csv(&dir.join("channel_shift.csv")), "status")
        .into_iter()
        .flatten()
    {
        assert!(alt("channel_shift_targets").contains(&status));
    }
}

#[test]
fn report_alone_redraws_from_published_tables_and_says_when_charts_are_skipped() {
    let (ws, dir) = run_sample();
    std::fs::remove_dir_all(dir.join("charts")).expect("remove charts");
    std::fs::remove_file(dir.join("report.html")).expect("remove report");
    ws.cex(&["report", "pipelines/sample.toml", "--period", "2025-03"])
        .assert_code(0);
    assert!(dir.join("charts/contacts_by_channel.png").is_file());
    assert!(dir.join("report.html").is_file());
    // --skip charts on a fresh period: the report is written and says which charts are missing.
    ws.cex(&[
        "run",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--skip",
        "ingest,charts",
    ])
    .assert_code(0);
    let html = std::fs::read_to_string(ws.path().join("out/fy2023-24/report.html")).expect("html");
    assert!(!html.contains("<figure>"));
    assert!(html.contains("Charts were not drawn for this period"));
    assert!(!Path::new(&ws.path().join("out/fy2023-24/charts")).exists());
}
