//! `cex run` / `cex kpi` on the sample data: the tables are written in every format, their figures
//! match what the lake holds (computed here independently), and the summary lists every KPI.

use polars::prelude::*;
use serde_json::Value;

use crate::util::{read_csv, strings, u64s, Workspace};

/// Contacts in the lake for a channel, services, outcome filter and financial year.
fn lake_count(
    contacts: &DataFrame,
    channel: &str,
    services: &[&str],
    outcome: Option<&str>,
    fy: &str,
) -> u64 {
    let mut filter = col("channel")
        .eq(lit(channel))
        .and(col("financial_year").eq(lit(fy)))
        .and(col("service").is_in(lit(Series::new("s".into(), services)).implode(false), false));
    if let Some(o) = outcome {
        filter = filter.and(col("outcome").eq(lit(o)));
    }
    let df = contacts
        .clone()
        .lazy()
        .filter(filter)
        .select([col("contacts").cast(DataType::UInt64).sum()])
        .collect()
        .expect("count");
    u64s(&df, "contacts")[0]
}

#[test]
fn run_writes_kpi_tables_that_match_the_lake() {
    let ws = Workspace::with_sample_data();
    let out = ws.cex(&["run", "pipelines/sample.toml", "--fy", "2023/24"]);
    out.assert_code(0);
    let dir = ws.path().join("out/fy2023-24");
    for name in [
        "channel_shift",
        "volumes",
        "digital_takeup",
        "channel_mix",
        "form_completion",
        "contact_centre",
        "benefits_estimate",
    ] {
        assert!(
            dir.join(format!("{name}.csv")).is_file(),
            "{name}.csv missing"
        );
        assert!(
            dir.join(format!("{name}.parquet")).is_file(),
            "{name}.parquet missing"
        );
    }
    assert!(dir.join("cex-kpi.xlsx").is_file());

    // Channel shift: recount from the lake, independently of the KPI code.
    let contacts = ws.lake_table("contacts");
    let shift = read_csv(&dir.join("channel_shift.csv"));
    let hrb = ["Housing", "Revenues & Benefits"];
    let want_baseline = [
        lake_count(&contacts, "web", &hrb, Some("submitted"), "2022/23"),
        lake_count(&contacts, "telephone", &hrb, None, "2022/23"),
        lake_count(&contacts, "face_to_face", &hrb, None, "2022/23"),
    ];
    let want_current = [
        lake_count(&contacts, "web", &hrb, Some("submitted"), "2023/24"),
        lake_count(&contacts, "telephone", &hrb, None, "2023/24"),
        lake_count(&contacts, "face_to_face", &hrb, None, "2023/24"),
    ];
    assert_eq!(u64s(&shift, "baseline"), want_baseline);
    assert_eq!(u64s(&shift, "current"), want_current);
    let change_pct: Vec<f64> = shift
        .column("change_pct")
        .expect("change_pct")
        .f64()
        .expect("f64")
        .iter()
        .flatten()
        .collect();
    for i in 0..3 {
        let expected =
            (want_current[i] as f64 - want_baseline[i] as f64) / want_baseline[i] as f64 * 100.0;
        assert!((change_pct[i] - expected).abs() < 1e-9);
    }
    // The printed headline table and the machine summary carry the same statuses.
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("kpi-summary.json")).expect("summary"),
    )
    .expect("json");
    let statuses: Vec<Option<String>> = summary["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .map(|k| k["status"].as_str().map(String::from))
        .collect();
    assert_eq!(statuses, strings(&shift, "status"));
    assert_eq!(summary["period"], "2023/24");
    for status in statuses.iter().flatten() {
        assert!(out.stdout.contains(status.as_str()));
    }

    // Contact centre: offered calls over all queues equals the lake's telephone contacts.
    let cc = read_csv(&dir.join("contact_centre.csv"));
    let all = cc
        .clone()
        .lazy()
        .filter(col("queue").eq(lit("All queues")))
        .select([col("offered").sum()])
        .collect()
        .expect("offered");
    let phone_fy = contacts
        .clone()
        .lazy()
        .filter(
            col("channel")
                .eq(lit("telephone"))
                .and(col("financial_year").eq(lit("2023/24"))),
        )
        .collect()
        .expect("calls")
        .height() as u64;
    assert_eq!(u64s(&all, "offered"), [phone_fy]);
    assert!(strings(&cc, "service_level_definition")[0]
        .as_deref()
        .is_some_and(|d| d.contains("within 20 s")));
}

#[test]
fn kpi_for_a_month_reports_the_year_to_date_and_the_same_month_a_year_earlier() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let out = ws.cex(&["kpi", "pipelines/sample.toml", "--period", "2024-06"]);
    out.assert_code(0);
    let shift = read_csv(&ws.path().join("out/2024-06/channel_shift.csv"));
    // 2024/25 KPIs add Waste & Recycling; their year to date is April to June.
    assert_eq!(shift.height(), 3);
    assert!(strings(&shift, "services")[0]
        .as_deref()
        .is_some_and(|s| s.contains("Waste & Recycling")));
    assert_eq!(
        strings(&shift, "current_period")[0].as_deref(),
        Some("2024/25 to date (April 2024 to June 2024)")
    );
    assert_eq!(
        strings(&shift, "month_a_year_earlier")[0].as_deref(),
        Some("June 2023")
    );
    // Re-running replaces the folder whole.
    ws.cex(&["kpi", "pipelines/sample.toml", "--period", "2024-06"])
        .assert_code(0);
    // The period's folder, and the owner-only record of what it published.
    let entries: Vec<String> = std::fs::read_dir(ws.path().join("out"))
        .expect("out")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n != "restricted")
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "no staging folders left behind: {entries:?}"
    );
}

#[test]
fn a_bad_period_is_a_clear_error() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    let out = ws.cex(&["kpi", "pipelines/sample.toml", "--period", "March"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("'March' is not a month: give YYYY-MM")
            && out.stderr.trim().lines().count() == 1,
        "{}",
        out.stderr
    );
}

#[test]
fn a_period_with_no_data_exits_3_naming_the_months_the_lake_holds() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    for fy in ["2021/22", "2026/27"] {
        let out = ws.cex(&["kpi", "pipelines/sample.toml", "--fy", fy]);
        assert_eq!(out.code, 3, "{}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("no contacts or responses in {fy}"))
                && out.stderr.contains("it holds April 2022 to March 2025"),
            "{}",
            out.stderr
        );
        // Nothing published: a year of zeros would read "calls -100%, met, green".
        let folder = format!("out/fy{}", fy.replace('/', "-"));
        assert!(!ws.path().join(folder).exists());
    }
}

#[test]
fn a_survey_only_job_publishes_satisfaction_equality_charts_and_report() {
    let ws = Workspace::with_sample_data();
    // The sample pipeline with only its survey source and no KPIs over contacts.
    let sample = std::fs::read_to_string(ws.path().join("pipelines/sample.toml")).expect("sample");
    let head = sample.split("\n[[sources]]").next().expect("header");
    let survey = sample
        .split("\n[[sources]]")
        .find(|block| block.contains("name = \"satisfaction\""))
        .expect("survey source");
    let survey = survey.split("\n# KPIs.").next().expect("survey block");
    let survey = survey.split("\n[kpi]").next().expect("survey block");
    ws.write(
        "pipelines/survey.toml",
        format!("{head}\n[[sources]]{survey}"),
    );
    let out = ws.cex(&["run", "pipelines/survey.toml", "--period", "2025-03"]);
    out.assert_code(0);
    assert!(out.stderr.contains("no contacts"), "{}", out.stderr);
    let folder = ws.path().join("out/2025-03");
    for present in [
        "satisfaction_by_channel.csv",
        "satisfaction_monthly.csv",
        "data_quality.csv",
        "report.html",
        "equality",
        "charts",
    ] {
        assert!(folder.join(present).exists(), "{present} missing");
    }
    for absent in [
        "channel_shift.csv",
        "volumes.csv",
        "contact_centre.csv",
        "digital_takeup.csv",
        "response_rate.csv",
    ] {
        assert!(
            !folder.join(absent).exists(),
            "{absent} published from no contacts"
        );
    }
    // The default period comes from the survey months too.
    ws.cex(&[
        "run",
        "pipelines/survey.toml",
        "--skip",
        "ingest",
        "--as-of",
        "2025-04-10",
    ])
    .assert_code(0);
}

#[test]
fn a_kpi_over_months_the_lake_does_not_hold_is_incomplete_never_met() {
    let ws = Workspace::with_sample_data();
    // The telephony exports for October 2023 to March 2024 have not arrived yet.
    for month in [
        "2023-10", "2023-11", "2023-12", "2024-01", "2024-02", "2024-03",
    ] {
        let file = ws
            .path()
            .join(format!("sample_data/telephony/calls_{month}.csv"));
        std::fs::remove_file(&file).expect("telephony export");
    }
    let resent = ws
        .path()
        .join("sample_data/telephony/calls_2024-01_resent.csv");
    if resent.exists() {
        std::fs::remove_file(resent).expect("re-sent export");
    }
    ws.cex(&["run", "pipelines/sample.toml", "--fy", "2023/24"])
        .assert_code(0);
    let table = read_csv(&ws.path().join("out/fy2023-24/channel_shift.csv"));
    let kpis = strings(&table, "kpi");
    let status = strings(&table, "status");
    let rag = strings(&table, "rag");
    let missing = strings(&table, "missing_months");
    for i in 0..table.height() {
        let calls = kpis[i].as_deref().unwrap_or("").contains("call volume");
        if calls {
            assert_eq!(status[i].as_deref(), Some("incomplete"));
            assert_eq!(rag[i].as_deref(), Some("n/a"));
            let months = missing[i].clone().unwrap_or_default();
            assert!(
                months.starts_with("October 2023") && months.ends_with("March 2024"),
                "{months}"
            );
        } else {
            assert!(missing[i].is_none(), "{:?}: {:?}", kpis[i], missing[i]);
            assert_ne!(status[i].as_deref(), Some("incomplete"));
        }
    }
    let report =
        std::fs::read_to_string(ws.path().join("out/fy2023-24/report.md")).expect("report");
    assert!(
        report.contains("Incomplete:")
            && report.contains("no contacts in the lake for October 2023")
    );
}

#[test]
fn a_lake_pooling_two_councils_ranks_them() {
    let ws = Workspace::with_sample_data();
    // A neighbouring council's exports: same vendors, other data (another seed).
    ws.cex(&["generate", "--out", "neighbour_data", "--seed", "7"])
        .assert_code(0);
    let pipeline = std::fs::read_to_string(ws.path().join("pipelines/sample.toml"))
        .expect("pipeline")
        .replace("Example City Council", "Neighbour District Council")
        .replace("../sample_data/", "../neighbour_data/");
    ws.write("pipelines/neighbour.toml", pipeline);
    ws.cex(&["ingest", "pipelines/sample.toml"]).assert_code(0);
    ws.cex(&["ingest", "pipelines/neighbour.toml"])
        .assert_code(0);
    ws.cex(&["kpi", "pipelines/sample.toml", "--fy", "2023/24"])
        .assert_code(0);

    let ranks = read_csv(&ws.path().join("out/fy2023-24/benchmark_ranks.csv"));
    let phone = ranks
        .clone()
        .lazy()
        .filter(col("channel").eq(lit("telephone")).and(col("qualifies")))
        .collect()
        .expect("phone");
    // Both councils qualify on the telephone every month: ranked 1 and 2 of 2 (or 1 and 1 on a tie).
    assert_eq!(phone.height(), 24, "{phone}");
    assert!(u64s(&phone, "ranked_of").iter().all(|n| *n == 2));
    let mut ranks_seen = u64s(&phone, "rank");
    ranks_seen.sort();
    ranks_seen.dedup();
    assert!(ranks_seen.iter().all(|r| *r == 1 || *r == 2));
    // Webchat has a handful of responses a month: below the minimum, so never ranked.
    let webchat = ranks
        .lazy()
        .filter(col("channel").eq(lit("webchat")))
        .collect()
        .expect("webchat");
    assert!(webchat.height() > 0);
    assert_eq!(
        webchat.column("rank").expect("rank").null_count(),
        webchat.height()
    );

    // The equality tables are the pipeline's own council's, even in a pooled lake.
    ws.cex(&[
        "equality",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--by",
        "sex",
    ])
    .assert_code(0);
    let sex = read_csv(
        &ws.path()
            .join("out/equality/fy2023-24-by-sex/equality_sex.csv"),
    );
    let all = sex
        .lazy()
        .filter(col("sex").eq(lit("All respondents")))
        .collect()
        .expect("all");
    let own = ws
        .lake_table("responses")
        .lazy()
        .filter(
            col("organisation")
                .eq(lit("Example City Council"))
                .and(col("financial_year").eq(lit("2023/24"))),
        )
        .collect()
        .expect("own")
        .height() as u64;
    assert_eq!(u64s(&all, "responses"), [own]);
}

/// One call: queue, minute of 1 April 2023 from 09:00, outcome, wait, talk.
fn calls() -> Vec<(&'static str, u32, &'static str, u32, Option<u32>)> {
    (0..240u32)
        .map(|i| {
            let queue = if i % 3 == 0 { "RB" } else { "HSG" };
            let outcome = match i % 9 {
                0 | 5 => "Abandoned",
                7 => "Callback",
                _ => "Answered",
            };
            let wait = (i * 37) % 95; // 0 to 94 seconds: some within 20 s, some short abandons
            let talk = (outcome == "Answered").then_some(60 + (i * 53) % 400);
            (queue, i / 2, outcome, wait, talk)
        })
        .collect()
}

const TELEPHONY_PIPELINE: &str = r#"
name = "t"
organisation = "Test Council"
lake = "lake"
output = "out"
[[sources]]
name = "telephony"
KIND_AND_COLUMNS
[sources.service]
lookup = "queues.csv"
"#;

/// Abandonment excluding short abandons, and the Genesys service level, leave short abandons
/// out: only where every abandoned call is known to be short or not. An abandoned call without
/// a wait, or an interval export without a short-abandons count, made them the plain figures
/// under another name (the unknown abandons counted as not short); they are now not available
/// for that queue and month, and the others keep their figures.
#[test]
fn rates_without_short_abandons_need_every_abandon_known_short_or_not() {
    let figures = |ws: &Workspace| -> Vec<(String, Option<f64>, Option<f64>)> {
        let cc = read_csv(&ws.path().join("out/2023-04/contact_centre.csv"));
        let number = |name: &str| {
            cc.column(name)
                .expect(name)
                .cast(&DataType::Float64)
                .expect("number")
                .f64()
                .expect("f64")
                .iter()
                .collect::<Vec<_>>()
        };
        let queues = cc
            .column("queue")
            .expect("queue")
            .str()
            .expect("text")
            .clone();
        let (abandonment, service_level) =
            (number("abandonment_rate_pct"), number("service_level_pct"));
        queues
            .iter()
            .zip(abandonment.into_iter().zip(service_level))
            .map(|(q, (a, s))| (q.unwrap_or_default().to_string(), a, s))
            .collect()
    };
    let kpi = "[kpi]\nservice_level = \"genesys\"\nabandonment = \"excluding_short\"\n";
    // Calls: queue HSG's abandoned calls all have a wait (one of 3 s: short); queue RB has one
    // abandoned call whose wait is blank.
    let ws = Workspace::new();
    ws.write("queues.csv", "queue,service\nHSG,Housing\nRB,Revenues\n");
    ws.write(
        "calls.csv",
        "Call,Start,Queue,Result,Wait\n\
         1,01/04/2023 09:00:00,HSG,Answered,10\n\
         2,01/04/2023 09:01:00,HSG,Answered,30\n\
         3,01/04/2023 09:02:00,HSG,Abandoned,3\n\
         4,01/04/2023 09:03:00,HSG,Abandoned,40\n\
         5,01/04/2023 09:04:00,RB,Answered,5\n\
         6,01/04/2023 09:05:00,RB,Abandoned,\n\
         7,01/04/2023 09:06:00,RB,Abandoned,50\n",
    );
    let calls = r#"kind = "calls"
files = "calls.csv"
timestamp_formats = ["%d/%m/%Y %H:%M:%S"]
[sources.columns]
record_id = "Call"
timestamp = "Start"
category = "Queue"
outcome = "Result"
wait = "Wait"
[sources.outcomes]
answered = ["Answered"]
abandoned = ["Abandoned"]"#;
    ws.write(
        "p.toml",
        TELEPHONY_PIPELINE.replace("KIND_AND_COLUMNS", calls) + kpi,
    );
    let run = ws.cex(&["run", "p.toml", "--period", "2023-04"]);
    run.assert_code(0);
    // Said, not left blank silently: which figures, where, and why.
    assert!(
        run.stderr.contains(
            "warning: contact_centre: abandonment_rate_pct and service_level_pct not available for 1 queue-month (first: Revenues / RB, Apr 2023): 1 abandoned call there has no wait and no short-abandons count, so may have been short"
        ),
        "{}",
        run.stderr
    );
    let got = figures(&ws);
    let of = |queue: &str| {
        got.iter()
            .find(|(q, _, _)| q == queue)
            .map(|(_, a, s)| (*a, *s))
            .unwrap_or_else(|| panic!("no queue {queue} in {got:?}"))
    };
    // HSG: 1 of 2 abandons short; (2 - 1) / (2 + 2 - 1) abandoned, 1 of 3 within 20 s.
    let (a, s) = of("HSG");
    assert!(
        (a.expect("HSG abandonment") - 100.0 / 3.0).abs() < 1e-9,
        "{got:?}"
    );
    assert!(
        (s.expect("HSG service level") - 100.0 / 3.0).abs() < 1e-9,
        "{got:?}"
    );
    // RB, and all queues together, have an abandon of unknown length: not available.
    assert_eq!(of("RB"), (None, None), "{got:?}");
    assert_eq!(of("All queues"), (None, None), "{got:?}");

    // Intervals without a short-abandons count: not available; with one (the same calls):
    // the figures.
    for (header, short, expected) in [
        (
            "Interval Start,Queue,Answered,Abandoned,Answered In SL",
            "",
            None,
        ),
        (
            "Interval Start,Queue,Answered,Abandoned,Answered In SL,Short Abandons",
            ",1",
            Some(100.0 / 3.0),
        ),
    ] {
        let ws = Workspace::new();
        ws.write("queues.csv", "queue,service\nHSG,Housing\n");
        ws.write(
            "intervals.csv",
            format!("{header}\n2023-04-01 09:00,HSG,2,2,1{short}\n"),
        );
        let mapped_short = if short.is_empty() {
            ""
        } else {
            "\nshort_abandons = \"Short Abandons\""
        };
        let intervals = format!(
            r#"kind = "call_intervals"
files = "intervals.csv"
timestamp_formats = ["%Y-%m-%d %H:%M"]
interval_threshold_seconds = 20
[sources.columns]
timestamp = "Interval Start"
category = "Queue"
answered = "Answered"
abandoned = "Abandoned"
answered_within = "Answered In SL"{mapped_short}"#
        );
        ws.write(
            "p.toml",
            TELEPHONY_PIPELINE.replace("KIND_AND_COLUMNS", &intervals) + kpi,
        );
        let run = ws.cex(&["run", "p.toml", "--period", "2023-04"]);
        run.assert_code(0);
        assert_eq!(
            run.stderr.contains("not available for 1 queue-month (first: Housing / HSG, Apr 2023): 2 abandoned calls"),
            expected.is_none(),
            "{}",
            run.stderr
        );
        let got = figures(&ws);
        for (queue, a, s) in &got {
            for figure in [a, s] {
                match expected {
                    None => assert_eq!(*figure, None, "{queue} {header}: {got:?}"),
                    Some(e) => assert!(
                        figure.is_some_and(|f| (f - e).abs() < 1e-9),
                        "{queue} {header}: {got:?}"
                    ),
                }
            }
        }
    }
}

/// An interval export that gives each interval's average wait and handling time (an ASA and an
/// AHT column, as contact-centre dashboards export them) instead of totals: with
/// `interval_averages`, the month's ASA and AHT are weighted by the calls answered, not a mean of
/// the intervals' averages, and with no answered-within count the service level is not
/// available (an interval's wait is never compared with the threshold as if it were a call's).
#[test]
fn interval_averages_are_weighted_by_the_calls_answered() {
    let ws = Workspace::new();
    ws.write("queues.csv", "queue,service\nHSG,Housing\n");
    ws.write(
        "intervals.csv",
        "Interval Start,Queue,Answered,Abandoned,ASA,AHT\n\
         2023-04-01 09:00,HSG,10,2,30,120\n\
         2023-04-01 09:30,HSG,30,0,10,60\n\
         2023-04-01 10:00,HSG,4,1,5,100\n\
         2023-04-01 10:30,HSG,1,0,8,50\n",
    );
    let source = r#"kind = "call_intervals"
files = "intervals.csv"
timestamp_formats = ["%Y-%m-%d %H:%M"]
interval_averages = true
[sources.columns]
timestamp = "Interval Start"
category = "Queue"
answered = "Answered"
abandoned = "Abandoned"
wait = "ASA"
handle = "AHT""#;
    ws.write(
        "p.toml",
        TELEPHONY_PIPELINE.replace("KIND_AND_COLUMNS", source),
    );
    ws.cex(&["run", "p.toml", "--period", "2023-04"])
        .assert_code(0);
    let cc = read_csv(&ws.path().join("out/2023-04/contact_centre.csv"));
    let all = cc
        .clone()
        .lazy()
        .filter(col("queue").eq(lit("All queues")))
        .collect()
        .expect("all queues");
    let figure = |name: &str| -> Option<f64> {
        all.column(name)
            .expect(name)
            .cast(&DataType::Float64)
            .expect("number")
            .f64()
            .expect("f64")
            .get(0)
    };
    assert_eq!(figure("offered"), Some(48.0), "{all}");
    assert_eq!(figure("answered"), Some(45.0), "{all}");
    // (10 x 30 + 30 x 10 + 4 x 5 + 1 x 8) / 45 = 13.96 s, not the intervals' mean, 13.25 s.
    let asa = figure("asa_seconds").expect("asa");
    assert!((asa - 628.0 / 45.0).abs() < 1e-9, "{all}");
    // (10 x 120 + 30 x 60 + 4 x 100 + 1 x 50) / 45 = 76.67 s, not 82.5 s.
    let aht = figure("aht_seconds").expect("aht");
    assert!((aht - 3450.0 / 45.0).abs() < 1e-9, "{all}");
    // Without an answered-within count: not available. (Each interval's total wait, or its
    // average, compared with 20 s made it 0% or 100%; and the quiet interval of one call,
    // within 20 s, is not a service level for the 48 calls.)
    assert_eq!(figure("service_level_pct"), None, "{all}");
    // Averages are per answered call: refused on an export of calls.
    let calls = r#"kind = "calls"
files = "intervals.csv"
timestamp_formats = ["%Y-%m-%d %H:%M"]
interval_averages = true
[sources.columns]
timestamp = "Interval Start"
category = "Queue"
outcome = "Answered"
wait = "ASA""#;
    ws.write(
        "p.toml",
        TELEPHONY_PIPELINE.replace("KIND_AND_COLUMNS", calls),
    );
    let refused = ws.cex(&["validate", "p.toml"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused
            .stderr
            .contains("(telephony).interval_averages: is for call_intervals sources"),
        "{}",
        refused.stderr
    );
}

#[test]
fn interval_exports_give_the_same_contact_centre_figures_as_the_calls_they_sum() {
    let per_call = {
        let mut s = String::from("Call,Start,Queue,Result,Wait,Talk\n");
        for (i, (q, minute, outcome, wait, talk)) in calls().into_iter().enumerate() {
            s.push_str(&format!(
                "C{i},01/04/2023 {:02}:{:02}:00,{q},{outcome},{wait},{}\n",
                9 + minute / 60,
                minute % 60,
                talk.map(|t| t.to_string()).unwrap_or_default()
            ));
        }
        s
    };
    // The same calls as a 30-minute interval export.
    let intervals = {
        use std::collections::BTreeMap;
        let mut agg: BTreeMap<(u32, &str), [u64; 7]> = BTreeMap::new();
        for (q, minute, outcome, wait, talk) in calls() {
            let a = agg.entry((minute / 30, q)).or_default();
            match outcome {
                "Answered" => {
                    a[0] += 1;
                    a[3] += u64::from(wait <= 20);
                    a[5] += u64::from(wait);
                    a[6] += u64::from(talk.unwrap_or(0));
                }
                "Abandoned" => {
                    a[1] += 1;
                    a[4] += u64::from(wait < 5);
                }
                _ => a[2] += 1,
            }
        }
        let mut s = String::from(
            "Interval Start,Queue,Answered,Abandoned,Callbacks,Answered In SL,Short Abandons,Total Answer Wait,Total Handle\n",
        );
        for ((slot, q), a) in agg {
            s.push_str(&format!(
                "2023-04-01 {:02}:{:02},{q},{},{},{},{},{},{},{}\n",
                9 + slot / 2,
                (slot % 2) * 30,
                a[0],
                a[1],
                a[2],
                a[3],
                a[4],
                a[5],
                a[6]
            ));
        }
        s
    };
    let per_call_source = r#"kind = "calls"
files = "calls.csv"
timestamp_formats = ["%d/%m/%Y %H:%M:%S"]
[sources.columns]
record_id = "Call"
timestamp = "Start"
category = "Queue"
outcome = "Result"
wait = "Wait"
handle = "Talk"
[sources.outcomes]
answered = ["Answered"]
abandoned = ["Abandoned"]
callback = ["Callback"]"#;
    let interval_source = r#"kind = "call_intervals"
files = "intervals.csv"
timestamp_formats = ["%Y-%m-%d %H:%M"]
interval_threshold_seconds = 20
[sources.columns]
timestamp = "Interval Start"
category = "Queue"
answered = "Answered"
abandoned = "Abandoned"
callbacks = "Callbacks"
answered_within = "Answered In SL"
short_abandons = "Short Abandons"
wait = "Total Answer Wait"
handle = "Total Handle""#;
    let mut tables = Vec::new();
    for (data_name, data, source, kpi) in [
        ("calls.csv", &per_call, per_call_source, "plain"),
        ("intervals.csv", &intervals, interval_source, "plain"),
        ("calls.csv", &per_call, per_call_source, "genesys"),
        ("intervals.csv", &intervals, interval_source, "genesys"),
    ] {
        let ws = Workspace::new();
        ws.write(
            "queues.csv",
            "queue,service\nHSG,Housing\nRB,Revenues & Benefits\n",
        );
        ws.write(data_name, data);
        let pipeline = TELEPHONY_PIPELINE.replace("KIND_AND_COLUMNS", source)
            + &format!(
                "[kpi]\nservice_level = \"{kpi}\"\nabandonment = \"{}\"\n",
                if kpi == "plain" {
                    "plain"
                } else {
                    "excluding_short"
                }
            );
        ws.write("p.toml", pipeline);
        ws.cex(&["run", "p.toml", "--period", "2023-04"])
            .assert_code(0);
        let cc = read_csv(&ws.path().join("out/2023-04/contact_centre.csv"))
            .select([
                "service",
                "queue",
                "offered",
                "answered",
                "abandoned",
                "callbacks",
                "short_abandons",
                "answered_within",
                "abandonment_rate_pct",
                "asa_seconds",
                "service_level_pct",
                "aht_seconds",
            ])
            .expect("columns");
        tables.push(cc);
    }
    assert_eq!(tables[0].height(), 3, "{}", tables[0]); // two queues and all queues
    assert!(
        tables[0].equals_missing(&tables[1]),
        "per call:\n{}\nintervals:\n{}",
        tables[0],
        tables[1]
    );
    assert!(
        tables[2].equals_missing(&tables[3]),
        "per call:\n{}\nintervals:\n{}",
        tables[2],
        tables[3]
    );
    assert!(
        !tables[0].equals_missing(&tables[2]),
        "the definitions should differ"
    );
}

#[test]
fn run_stages_can_be_skipped() {
    let ws = Workspace::with_sample_data();
    ws.cex(&[
        "run",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--skip",
        "kpi,equality",
    ])
    .assert_code(0);
    assert!(ws.path().join("lake/manifest/_delta_log").exists());
    assert!(!ws.path().join("out/fy2023-24").exists());
    assert!(ws.path().join("out/last-run.json").exists());
    let out = ws.cex(&[
        "run",
        "pipelines/sample.toml",
        "--fy",
        "2023/24",
        "--skip",
        "ingest,equality",
    ]);
    out.assert_code(0);
    assert!(
        !out.stdout.contains("already in the lake"),
        "ingest ran: {}",
        out.stdout
    );
    assert!(ws.path().join("out/fy2023-24/channel_shift.csv").exists());
    assert!(!ws.path().join("out/equality").exists());
    let bad = ws.cex(&["run", "pipelines/sample.toml", "--skip", "plots"]);
    bad.assert_code(2);
}

#[test]
fn a_run_leaves_a_summary_with_stage_timings_and_counts() {
    let ws = Workspace::with_sample_data();
    ws.cex(&["run", "pipelines/sample.toml", "--fy", "2023/24"])
        .assert_code(0);
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("out/last-run.json")).expect("last-run.json"),
    )
    .expect("json");
    let stages: Vec<&str> = summary["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .filter_map(|s| s["stage"].as_str())
        .collect();
    assert_eq!(
        stages,
        [
            "ingest",
            "kpi",
            "equality",
            "disclosure",
            "charts",
            "report"
        ]
    );
    assert!(summary["stages"][0]["seconds"]
        .as_f64()
        .is_some_and(|s| s > 0.0));
    assert_eq!(summary["ingest"]["rows_read"], 40681);
    assert_eq!(summary["ingest"]["accepted"], 40021);
    assert_eq!(summary["period"], "2023/24");
    assert!(summary["warnings"]
        .as_array()
        .is_some_and(|w| !w.is_empty()));
}
