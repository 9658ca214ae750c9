//! `cex equality` on the sample data: published tables hold no cell below the threshold and no
//! personal data; the analyst's unsuppressed tables are marked as not for publication.

use polars::prelude::*;

use crate::util::{read_csv, strings, Workspace};

/// Every file under a folder, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_default_run_publishes_no_small_cell_and_no_personal_data() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["run", "pipelines/sample.toml", "--fy", "2023/24"])
        .assert_code(0);
    let dir = ws.path().join("out/fy2023-24/equality");
    let tables: Vec<_> = files(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    assert!(tables.len() >= 8, "{tables:?}");
    let mut suppressed_somewhere = false;
    for path in &tables {
        let df = read_csv(path);
        let representation = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("representation_"));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let counts: Vec<String> = if representation {
            vec!["respondents".into()]
        } else if name.starts_with("channel_use_") {
            // responses, then one count column per channel
            df.get_column_names()
                .iter()
                .map(|c| c.to_string())
                .filter(|c| !c.ends_with("_pct") && c != "suppressed")
                .skip(1)
                .collect()
        } else {
            [
                "responses",
                "positive",
                "neutral",
                "negative",
                "dominant_service_count",
            ]
            .map(String::from)
            .to_vec()
        };
        for count in &counts {
            let count = count.as_str();
            let values = df
                .column(count)
                .expect("count column")
                .cast(&DataType::Int64)
                .expect("int");
            for v in values.i64().expect("i64").iter().flatten() {
                assert!(
                    v == 0 || v >= 10,
                    "{}: {count} = {v} published",
                    path.display()
                );
            }
            suppressed_somewhere |= values.null_count() > 0;
        }
    }
    assert!(
        suppressed_somewhere,
        "the sample has small cells: some must be suppressed"
    );

    // No output that leaves the machine carries an e-mail address or a phone number from the
    // sample's comments.
    for path in files(&ws.path().join("out")) {
        let bytes = std::fs::read(&path).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            "@example.com",
            "@example.org",
            "07700 900",
            "7700900",
            "01632 960",
            "020 7946",
        ] {
            assert!(
                !text.contains(needle),
                "{} contains {needle}",
                path.display()
            );
        }
    }
}

#[test]
fn non_response_is_reported_and_groups_are_tested_against_the_rest() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let out = ws.cex(&[
        "equality",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--by",
        "age_band",
    ]);
    out.assert_code(0);
    let df = read_csv(
        &ws.path()
            .join("out/equality/fy2023-24-by-age_band/equality_age_band.csv"),
    );
    let groups = strings(&df, "age_band");
    for g in ["Not answered", "Prefer not to say", "All respondents"] {
        assert!(
            groups.iter().any(|x| x.as_deref() == Some(g)),
            "{g} missing"
        );
    }
    // Only answered groups are tested; the method is named.
    let tests = strings(&df, "test");
    for (g, t) in groups.iter().zip(&tests) {
        if matches!(
            g.as_deref(),
            Some("Not answered" | "Prefer not to say" | "All respondents")
        ) {
            assert!(t.is_none(), "{g:?} should not be tested");
        }
    }
    assert!(tests
        .iter()
        .flatten()
        .all(|t| t == "two-proportion z" || t == "Fisher exact"));
    assert!(strings(&df, "difference")
        .iter()
        .flatten()
        .any(|d| d == "significant"));
}

#[test]
fn unsuppressed_tables_are_marked_not_for_publication() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let out = ws.cex(&[
        "equality",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--by",
        "age_band,channel",
        "--unsuppressed",
    ]);
    out.assert_code(0);
    assert!(out.stderr.contains("not for publication"), "{}", out.stderr);
    let df = read_csv(
        &ws.path()
            .join("out/restricted/equality/fy2023-24-by-age_band-channel-NOT-FOR-PUBLICATION/equality_age_band_by_channel.csv"),
    );
    #[cfg(unix)]
    {
        // Under an owner-only root, not beside the published folders.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ws.path().join("out/restricted"))
            .expect("restricted root")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(!ws.path().join("out/equality").exists());
        // Every file and folder of the unsuppressed breakdown is owner-only too.
        let folder = ws
            .path()
            .join("out/restricted/equality/fy2023-24-by-age_band-channel-NOT-FOR-PUBLICATION");
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p)
                .expect("restricted entry")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(&folder), 0o700);
        for entry in std::fs::read_dir(&folder)
            .expect("restricted folder")
            .flatten()
        {
            let m = mode(&entry.path());
            assert_eq!(m & 0o077, 0, "{} is {m:o}", entry.path().display());
        }
    }
    // Webchat cohorts are tiny: shown here, as counts below 10.
    let small = df
        .lazy()
        .filter(
            col("responses")
                .lt(lit(10))
                .and(col("responses").gt(lit(0))),
        )
        .collect()
        .expect("small");
    assert!(small.height() > 0);
    assert!(!ws.path().join("out/equality/fy2023-24").exists());
    assert!(!ws.path().join("out/fy2023-24").exists());
}

#[test]
fn groups_can_be_compared_with_a_reference_group() {
    let ws = Workspace::with_sample_data();
    let pipeline = std::fs::read_to_string(ws.path().join("pipelines/sample.toml"))
        .expect("pipeline")
        .replace(
            "correction = \"holm\"",
            "correction = \"benjamini_hochberg\"\nreference = { age_band = \"35-44\" }",
        );
    ws.write("pipelines/sample.toml", pipeline);
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    ws.cex(&[
        "equality",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--by",
        "age_band",
    ])
    .assert_code(0);
    let df = read_csv(
        &ws.path()
            .join("out/equality/fy2023-24-by-age_band/equality_age_band.csv"),
    );
    let groups = strings(&df, "age_band");
    let compared = strings(&df, "compared_with");
    for (g, c) in groups.iter().zip(&compared) {
        match g.as_deref() {
            Some("35-44")
            | Some("Not answered")
            | Some("Prefer not to say")
            | Some("All respondents") => {
                assert!(c.is_none(), "{g:?} compared")
            }
            _ => {
                // Either tested against the reference, or its rate is suppressed.
                if let Some(c) = c {
                    assert_eq!(c, "35-44 (reference group)");
                }
            }
        }
    }
    assert!(compared.iter().flatten().count() >= 3);
}

#[test]
fn a_channel_and_service_filter_narrows_the_respondents() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    ws.cex(&[
        "equality",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--by",
        "sex",
        "--channel",
        "web",
        "--service",
        "Housing,Council Tax",
    ])
    .assert_code(0);
    let df = read_csv(
        &ws.path()
            .join("out/equality/fy2023-24-by-sex-web-housing-council_tax/equality_sex.csv"),
    );
    let total = df
        .lazy()
        .filter(col("sex").eq(lit("All respondents")))
        .collect()
        .expect("total");
    let lake = ws.lake_table("responses");
    let want = lake
        .lazy()
        .filter(
            col("channel")
                .eq(lit("web"))
                .and(col("financial_year").eq(lit("2023/24")))
                .and(
                    col("service")
                        .eq(lit("Housing"))
                        .or(col("service").eq(lit("Council Tax"))),
                ),
        )
        .collect()
        .expect("lake")
        .height() as u64;
    assert_eq!(crate::util::u64s(&total, "responses"), [want]);
}

#[test]
fn every_by_works_or_is_refused_in_one_line() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    for (by, says) in [
        ("service", "satisfaction_by_service"),
        ("age_band,service", "satisfaction_by_service"),
        (
            "disabilty",
            "'disabilty' is not a [demographics.*] field or channel",
        ),
        ("age_band,age_band", "named twice"),
        ("age_band,sex,channel", "one or two columns"),
    ] {
        let out = ws.cex(&[
            "equality",
            "pipelines/sample.toml",
            "--fy",
            "2023/24",
            "--by",
            by,
        ]);
        assert_eq!(out.code, 2, "--by {by}: {}", out.stderr);
        assert!(
            out.stderr.contains(says) && out.stderr.trim().lines().count() == 1,
            "--by {by}: {}",
            out.stderr
        );
    }
    for by in ["channel", "age_band,channel", "sex,disability"] {
        ws.cex(&[
            "equality",
            "pipelines/sample.toml",
            "--fy",
            "2023/24",
            "--by",
            by,
        ])
        .assert_code(0);
    }
    // The publication was never touched by the analyst's breakdowns.
    assert!(!ws.path().join("out/fy2023-24").exists());
}

/// A long survey keyed by respondent can hold one person under two channels in one financial
/// year (the lake keeps one answer per record a month): here 25 people who rated the web in
/// 2023/24 rate the telephone again in another month. A comparison of the web or the telephone
/// with the rest then has the same people on both sides: not tested, and the table says so;
/// channels that share no one are tested as before.
#[test]
fn channels_that_share_respondents_are_not_tested_against_each_other() {
    let ws = Workspace::with_sample_data();
    let original = read_csv(
        &ws.path()
            .join("sample_data/satisfaction/responses_2023-24.csv"),
    );
    let column = |name: &str| strings(&original, name);
    let (id, date, channel, service) = (
        column("Response ID"),
        column("Response Date"),
        column("Channel"),
        column("Service"),
    );
    let demographics = ["Age Band", "Sex", "Ethnic Group", "Disability"].map(column);
    let mut csv = String::from(
        "Response ID,Response Date,Channel,Service,Rating,Comment,Age Band,Sex,Ethnic Group,Disability,Postcode\n",
    );
    let quoted = |v: &Option<String>| format!("\"{}\"", v.clone().unwrap_or_default());
    let mut again = 0;
    for i in 0..original.height() {
        if again == 25 || channel[i].as_deref() != Some("Web") {
            continue;
        }
        let when = date[i].clone().unwrap_or_default();
        let other_month = if when.starts_with("2024-03") {
            "2023-04-20 10:00:00"
        } else {
            "2024-03-20 10:00:00"
        };
        let mut row = vec![
            quoted(&id[i]),
            other_month.to_string(),
            "Phone".into(),
            quoted(&service[i]),
            "Good".into(),
            String::new(),
        ];
        row.extend(demographics.iter().map(|d| quoted(&d[i])));
        row.push(String::new());
        csv.push_str(&row.join(","));
        csv.push('\n');
        again += 1;
    }
    assert_eq!(again, 25);
    ws.write("sample_data/satisfaction/follow_up_2023-24.csv", csv);
    ws.cex(&[
        "run",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--skip",
        "charts,report",
    ])
    .assert_code(0);
    ws.cex(&[
        "equality",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--by",
        "channel",
        "--unsuppressed",
    ])
    .assert_code(0);
    // The analyst's unsuppressed table: no comparison blanked by disclosure control.
    let path = files(&ws.path().join("out/restricted"))
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "equality_channel.csv"))
        .expect("equality_channel.csv under out/restricted");
    let table = read_csv(&path);
    let (channels, test, p) = (
        strings(&table, "channel"),
        strings(&table, "test"),
        strings(&table, "p_value"),
    );
    let row = |name: &str| {
        channels
            .iter()
            .position(|c| c.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row: {channels:?}"))
    };
    for shared in ["web", "telephone"] {
        let i = row(shared);
        assert_eq!(
            test[i].as_deref(),
            Some(cex_insight::equality::NOT_TESTED_SHARED),
            "{shared}: {table}"
        );
        assert_eq!(p[i], None, "{shared}");
    }
    for alone in ["face_to_face", "webchat"] {
        let i = row(alone);
        assert!(p[i].is_some(), "{alone} shares no one: {table}");
    }
}

/// An equality stage run alone (or an analyst's breakdown) protects its tables beside the
/// period's KPI tables without publishing them: those are made without right first time, which
/// links every contact and counts no survey answer. Every table disclosure control reads is
/// there, the same as the KPI stage makes it, so the protection is the same.
#[test]
fn the_kpi_tables_made_for_disclosure_control_are_every_one_it_reads() {
    use cex_insight::kpi::{compute, compute_for_disclosure};
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let pipeline = cex_insight::config::Pipeline::load(&ws.path().join("pipelines/sample.toml"))
        .expect("pipeline");
    let lake = cex_insight::lake::Lake::open(&pipeline.lake_dir).expect("lake");
    let period = cex_insight::period::Period::year(2024, pipeline.calendar);
    let all = compute(&pipeline, &lake, period).expect("every KPI table");
    let some = compute_for_disclosure(&pipeline, &lake, period).expect("KPI tables to protect");
    let counted = |tables: &[cex_insight::tables::Table]| {
        tables
            .iter()
            .filter(|t| t.counts.is_some())
            .map(|t| (t.name.clone(), t.frame.clone()))
            .collect::<Vec<_>>()
    };
    let (all_counted, some_counted) = (counted(&all.tables), counted(&some.tables));
    assert!(
        all_counted.len() >= 5,
        "{:?}",
        all_counted.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    assert_eq!(all_counted.len(), some_counted.len());
    for ((name, frame), (other, same)) in all_counted.iter().zip(&some_counted) {
        assert_eq!(name, other);
        assert!(frame.equals_missing(same), "{name} differs");
    }
    // What is left out is right first time's, none of it counting respondents.
    let names = |tables: &[cex_insight::tables::Table]| {
        tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>()
    };
    let left_out: Vec<String> = names(&all.tables)
        .into_iter()
        .filter(|n| !names(&some.tables).contains(n))
        .collect();
    assert!(
        left_out.contains(&"repeat_contact".to_string()),
        "{left_out:?}"
    );
    assert!(
        left_out.contains(&"avoidable_targets".to_string()),
        "{left_out:?}"
    );
    // The equality stage run alone links nothing: it keeps no linked sums in the lake (a run
    // that links keeps its settled months'), and publishes what `cex run` publishes.
    let kept = ws.path().join("lake/_derived/right_first_time");
    std::fs::remove_dir_all(&kept).ok();
    ws.cex(&["equality", "pipelines/sample.toml", "--fy", "2024/25"])
        .assert_code(0);
    assert!(!kept.exists(), "an equality run alone linked contacts");
    let read = |dir: &std::path::Path| {
        files(dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .map(|p| (p.file_name().map(|n| n.to_owned()), std::fs::read(&p).ok()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let equality = ws.path().join("out/fy2024-25/equality");
    let alone = read(&equality);
    ws.cex(&[
        "run",
        "pipelines/sample.toml",
        "--fy",
        "2024/25",
        "--skip",
        "ingest",
    ])
    .assert_code(0);
    assert!(kept.exists(), "a whole run keeps linked sums");
    let whole = read(&equality);
    assert!(alone.len() >= 10, "{:?}", alone.keys());
    assert_eq!(
        alone, whole,
        "the equality tables differ from a whole run's"
    );
}
