//! Satisfaction weighted to the contact mix (issue 19 item 5), through the binary: the README's
//! worked example (contacts by channel from a pre-aggregated export, Good / Average / Poor
//! responses written here by hand) gives the hand-computed weighted score, n_eff, design effect
//! and cap in `satisfaction_weighted`, the weights in `satisfaction_weights` and the figures in
//! the report; with one channel below the suppression threshold the weighted figures are blank,
//! and the independent attacker recovers nothing from the publication.

use polars::prelude::*;

use crate::util::{read_csv, strings, u64s, Workspace};

const PIPELINE: &str = r#"
name = "weighted"
organisation = "Test Council"
lake = "lake"
output = "out"

[kpi]
weight_cap = 3

[scales.gap]
levels = [
  { label = "Good", score = 1, sentiment = "positive" },
  { label = "Average", score = 0, sentiment = "neutral" },
  { label = "Poor", score = -1, sentiment = "negative" },
]

[[sources]]
name = "contacts"
kind = "contacts"
files = "contacts/*.csv"
date_formats = ["%d/%m/%Y"]
default_outcome = "submitted"

[sources.columns]
date = "Month"
channel = "Channel"
category = "Service"
count = "Contacts"

[sources.channels]
telephone = ["Phone"]
web = ["Online"]
face_to_face = ["Counter"]
email = ["Email"]

[sources.service.values]
Housing = ["Housing"]

[[sources]]
name = "survey"
kind = "satisfaction"
files = "survey/*.csv"
rating_scale = "gap"
date_formats = ["%Y-%m-%d"]

[sources.columns]
record_id = "Ref"
date = "Date"
channel = "Channel"
rating = "Rating"

[sources.channels]
telephone = ["Phone"]
web = ["Online"]
face_to_face = ["Counter"]
webchat = ["Chat"]

[sources.service]
fixed = "Housing"
"#;

/// Contacts in May 2024 by channel (one service).
const CONTACTS: [(&str, u64); 4] = [
    ("Phone", 6000),
    ("Online", 3000),
    ("Counter", 1000),
    ("Email", 500),
];

fn contacts() -> String {
    let mut s = "Month,Service,Channel,Contacts\n".to_string();
    for (channel, n) in CONTACTS {
        s.push_str(&format!("01/05/2024,Housing,{channel},{n}\n"));
    }
    s
}

/// Responses by channel: Good, Average, Poor.
fn survey(counter: [usize; 3]) -> String {
    let mut csv = "Ref,Date,Channel,Rating\n".to_string();
    let mut id = 0;
    for (channel, counts) in [
        ("Phone", [70, 20, 10]),
        ("Online", [150, 60, 90]),
        ("Counter", counter),
        ("Chat", [12, 0, 0]),
    ] {
        for (rating, n) in ["Good", "Average", "Poor"].iter().zip(counts) {
            for _ in 0..n {
                id += 1;
                csv.push_str(&format!(
                    "R{id},2024-05-{:02},{channel},{rating}\n",
                    1 + id % 28
                ));
            }
        }
    }
    csv
}

fn publish(counter: [usize; 3]) -> Workspace {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    ws.write("contacts/may.csv", contacts());
    ws.write("survey/may.csv", survey(counter));
    ws.cex(&["run", "p.toml", "--as-of", "2024-06-10", "--skip", "charts"])
        .assert_code(0);
    ws
}

fn float(df: &DataFrame, name: &str, row: usize) -> Option<f64> {
    df.column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .unwrap_or_else(|_| panic!("no column {name}"))
        .f64()
        .expect("f64")
        .get(row)
}

fn close(got: Option<f64>, expected: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what} is blank"));
    assert!(
        (got - expected).abs() < 1e-6,
        "{what}: {got}, expected {expected}"
    );
}

#[test]
fn satisfaction_weighted_to_the_contact_mix_matches_the_worked_example() {
    let ws = publish([10, 0, 0]);
    let folder = ws.path().join("out/2024-05");
    let df = read_csv(&folder.join("satisfaction_weighted.csv"));
    assert_eq!(
        strings(&df, "service"),
        [Some("All services".into()), Some("Housing".into())]
    );
    // Face to face has 10 responses, below the 20 channel x service cells need: channel cells.
    assert_eq!(
        strings(&df, "weighting"),
        [Some("channel".into()), Some("channel".into())]
    );
    let cap = 3.0 * 10_000.0 / 410.0;
    let sum_w = 60.0 * 100.0 + 10.0 * 300.0 + cap * 10.0;
    let n_eff = sum_w * sum_w / (3600.0 * 100.0 + 100.0 * 300.0 + cap * cap * 10.0);
    for row in 0..2 {
        assert_eq!(u64s(&df, "responses")[row], 422);
        close(
            float(&df, "council_score_pct", row),
            22_200.0 / 422.0,
            "unweighted",
        );
        close(
            float(&df, "weighted_council_score_pct", row),
            (4800.0 + 1200.0 + cap * 10.0) * 100.0 / sum_w,
            "weighted",
        );
        close(float(&df, "sum_weights", row), sum_w, "sum of weights");
        close(float(&df, "n_eff", row), n_eff, "n_eff");
        close(float(&df, "design_effect", row), 410.0 / n_eff, "deff");
        close(float(&df, "weight_cap", row), cap, "cap");
        assert_eq!(u64s(&df, "capped_cells")[row], 1);
        assert_eq!(u64s(&df, "capped_responses")[row], 10);
        assert_eq!(u64s(&df, "weighted_responses")[row], 410);
        close(
            float(&df, "contacts_unrepresented_pct", row),
            500.0 * 100.0 / 10_500.0,
            "unrepresented",
        );
        assert_eq!(
            strings(&df, "not_weighted")[row].as_deref(),
            Some("webchat")
        );
        let (low, high) = (
            float(&df, "weighted_score_low", row).expect("low"),
            float(&df, "weighted_score_high", row).expect("high"),
        );
        assert!(low < 69.17 && 69.18 < high, "{low} to {high}");
    }
    assert_eq!(strings(&df, "suppressed")[0].as_deref().unwrap_or(""), "");

    let weights = read_csv(&folder.join("satisfaction_weights.csv"));
    let scope = strings(&weights, "scope");
    let channel = strings(&weights, "channel");
    let weight_of = |ch: &str| {
        (0..weights.height())
            .find(|r| {
                scope[*r].as_deref() == Some("All services") && channel[*r].as_deref() == Some(ch)
            })
            .and_then(|r| float(&weights, "weight", r))
    };
    close(weight_of("telephone"), 60.0, "telephone's weight");
    close(weight_of("web"), 10.0, "web's weight");
    close(
        weight_of("face_to_face"),
        cap,
        "face to face's weight, capped",
    );
    assert_eq!(weight_of("webchat"), None, "no webchat contacts");
    assert_eq!(weight_of("email"), None, "no email responses");

    let html = std::fs::read_to_string(folder.join("report.html")).expect("report.html");
    for shown in [
        "Satisfaction weighted to the contact mix",
        "69.2%",
        "52.6%",
        "214",
        "1.92",
        "capped at 73.2 contacts per response",
    ] {
        assert!(html.contains(shown), "the report does not show {shown}");
    }
}

#[test]
fn a_small_channel_blanks_the_weighted_figures_and_the_attacker_recovers_nothing() {
    // Face to face: 6 responses, below the threshold of 10.
    let ws = publish([4, 1, 1]);
    let folder = ws.path().join("out/2024-05");
    let df = read_csv(&folder.join("satisfaction_weighted.csv"));
    for row in 0..df.height() {
        for figure in [
            "weighted_council_score_pct",
            "weighted_score_low",
            "weighted_score_high",
            "n_eff",
            "sum_weights",
            "design_effect",
        ] {
            assert_eq!(float(&df, figure, row), None, "{figure} of row {row}");
        }
        let listed = strings(&df, "suppressed")[row].clone().unwrap_or_default();
        assert!(listed.contains("weighted_council_score_pct"), "{listed}");
    }
    let html = std::fs::read_to_string(folder.join("report.html")).expect("report.html");
    assert!(html.contains("Satisfaction weighted to the contact mix"));
    let verdict = crate::disclosure::attack(&folder);
    assert_eq!(verdict["recoverable_count"], 0);
}
