//! Pre-aggregated exports (issue 15 item 4): monthly counts by service and channel, one row per
//! group, mapped with a `count` column. Every volume and take-up figure weighs rows by their
//! count; contact-centre figures that need one row per call (waits, service level, ASA) are
//! "not available", never 0. The export is written here by hand.

use crate::util::{read_csv, strings, u64s, Workspace};

const PIPELINE: &str = r#"
name = "counts"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
fail_reject_share = 0.5

[[sources]]
name = "monthly_counts"
kind = "contacts"
files = "data/*.csv"
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

[sources.service.values]
Housing = ["Housing"]
Waste = ["Waste"]
"#;

/// (month, service, channel, count): two months of 2024/25, every row a group of contacts.
const ROWS: [(&str, &str, &str, u64); 8] = [
    ("01/04/2024", "Housing", "Phone", 1200),
    ("01/04/2024", "Housing", "Online", 800),
    ("01/04/2024", "Waste", "Phone", 300),
    ("01/04/2024", "Waste", "Counter", 50),
    ("01/05/2024", "Housing", "Phone", 1100),
    ("01/05/2024", "Housing", "Online", 950),
    ("01/05/2024", "Waste", "Online", 420),
    ("01/05/2024", "Waste", "Counter", 0),
];

fn export() -> String {
    let mut s = "Month,Service,Channel,Contacts\n".to_string();
    for (m, service, channel, n) in ROWS {
        s.push_str(&format!("{m},{service},{channel},{n}\n"));
    }
    // A count that cannot be true, one that is not whole and a blank one: rejected.
    s.push_str(
        "01/05/2024,Waste,Phone,5000000\n01/05/2024,Waste,Phone,2.5\n01/05/2024,Waste,Phone,\n",
    );
    s
}

fn numbers(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name)
        .and_then(|c| c.cast(&polars::prelude::DataType::Float64))
        .map(|c| c.f64().map(|s| s.iter().collect()).unwrap_or_default())
        .unwrap_or_default()
}

#[test]
fn counts_weigh_every_volume_and_per_call_figures_are_not_available() {
    let ws = Workspace::new();
    ws.write("p.toml", PIPELINE);
    ws.write("data/counts.csv", export());
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let rejects = std::fs::read_dir(ws.path().join("lake/rejects/monthly_counts"))
        .expect("rejects folder")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).expect("rejects file"))
        .collect::<String>();
    for reason in ["implausible_count", "bad_number", "missing_value"] {
        assert!(rejects.contains(reason), "{reason}: {rejects}");
    }

    ws.cex(&["run", "p.toml", "--period", "2024-05", "--skip", "ingest"])
        .assert_code(0);
    let folder = ws.path().join("out/2024-05");
    // Volumes: the sum of the counts, per channel, month by month (an independent sum here).
    let volumes = read_csv(&folder.join("volumes.csv"));
    let channels = strings(&volumes, "channel");
    let months = numbers(&volumes, "month");
    let value_column = volumes
        .get_column_names()
        .into_iter()
        .map(|n| n.to_string())
        .find(|n| n == "contacts" || n == "volume")
        .expect("a volume column");
    let values = numbers(&volumes, &value_column);
    let services = strings(&volumes, "service");
    let mut checked = 0;
    for (channel, label) in [
        ("telephone", "Phone"),
        ("web", "Online"),
        ("face_to_face", "Counter"),
    ] {
        for month in [4.0, 5.0] {
            let want: u64 = ROWS
                .iter()
                .filter(|r| r.2 == label && r.0.ends_with(&format!("/0{}/2024", month as u32)))
                .map(|r| r.3)
                .sum();
            let got: f64 = (0..volumes.height())
                .filter(|i| {
                    channels[*i].as_deref() == Some(channel)
                        && months[*i] == Some(month)
                        && services[*i]
                            .as_deref()
                            .is_some_and(|s| s == "Housing" || s == "Waste")
                })
                .filter_map(|i| values[i])
                .sum();
            assert_eq!(got, want as f64, "{channel} month {month}");
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
    // The counts carry no call outcome (answered, abandoned, callback): offered = answered +
    // abandoned + callbacks cannot be formed, so no contact-centre table is published rather
    // than one of zeros (the phone counts are in the volumes).
    assert!(!folder.join("contact_centre.csv").exists());
    // Digital take-up weighs by the counts: April, all services, 800 of 2,350.
    let takeup = read_csv(&folder.join("digital_takeup.csv"));
    let (t_services, t_months) = (strings(&takeup, "service"), numbers(&takeup, "month"));
    let pct = numbers(&takeup, "digital_takeup_pct");
    let april = (0..takeup.height())
        .find(|i| t_services[*i].as_deref() == Some("All services") && t_months[*i] == Some(4.0))
        .expect("April, all services");
    assert!((pct[april].unwrap_or(0.0) - 800.0 * 100.0 / 2350.0).abs() < 1e-9);
}

/// A council's monthly digest with one count column per channel (across channels), and a web
/// forms digest with one count column per service (across categories): each row of the export
/// becomes one row per column, a blank cell is excluded as "blank count", a count that is not
/// a count is rejected naming its column, and every volume is the sum written here by hand.
#[test]
fn a_wide_count_export_reads_each_column_as_the_count_of_its_channel_or_service() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        r#"
name = "wide-counts"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
fail_reject_share = 0.5

[[sources]]
name = "digest"
kind = "contacts"
files = "digest/*.csv"
date_granularity = "month"
default_outcome = "submitted"

[sources.wide]
across = "channel"
pattern = "^(Phone|Out of hours|Online|Counter|Post|Fax)$"
labels = { Phone = "telephone", "Out of hours" = "telephone", Online = "web", Counter = "face to face" }

[sources.columns]
date = "Month"
category = "Service"

[sources.service.values]
Housing = ["Housing"]
Waste = ["Waste"]

[[sources]]
name = "forms"
kind = "webforms"
files = "forms/*.csv"
date_granularity = "month"
default_outcome = "submitted"

[sources.wide]
columns = ["Council Tax", "Missed bin", "Parking permit"]
labels = { "Missed bin" = "Waste" }

[sources.columns]
date = "Month"
"#,
    );
    // "Post" names its channel itself; "Out of hours" is telephone too (two counts, not one
    // count twice); "Fax" is no channel; "1,250" has a thousands separator; "n/a" and -4 are
    // not counts; five cells are blank.
    ws.write(
        "digest/2024.csv",
        "Month,Service,Phone,Out of hours,Online,Counter,Post,Fax\n\
         2024-04,Housing,1200,30,800,50,,1\n\
         2024-04,Waste,300,5,\"1,250\",0,7,\n\
         2024-05,Housing,1100,20,950,,3,\n\
         2024-05,Waste,n/a,2,420,12,-4,\n",
    );
    ws.write(
        "forms/2024.csv",
        "Month,Council Tax,Missed bin,Parking permit\n\
         2024-04,410,95,\n\
         2024-05,388,120,60\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let manifest = ws.manifest();
    let sources = strings(&manifest, "source");
    let row = |name: &str| {
        sources
            .iter()
            .position(|s| s.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} in the manifest: {}", out.stdout))
    };
    let (digest, forms) = (row("digest"), row("forms"));
    // A row per file row and column: 4 x 6 and 2 x 3; nothing lost.
    for (i, read, accepted, rejected, excluded) in [(digest, 24, 16, 3, 5), (forms, 6, 5, 0, 1)] {
        assert_eq!(u64s(&manifest, "rows_read")[i], read, "{}", out.stdout);
        assert_eq!(u64s(&manifest, "accepted")[i], accepted, "{}", out.stdout);
        assert_eq!(u64s(&manifest, "rejected")[i], rejected, "{}", out.stdout);
        assert_eq!(u64s(&manifest, "duplicates")[i], 0, "{}", out.stdout);
        assert_eq!(u64s(&manifest, "excluded")[i], excluded, "{}", out.stdout);
    }
    assert_eq!(
        strings(&manifest, "excluded_by_rule")[digest].as_deref(),
        Some("blank count=5")
    );
    assert_eq!(
        strings(&manifest, "rejects_by_reason")[digest].as_deref(),
        Some("bad_number=2; unknown_channel=1")
    );
    let rejects = std::fs::read_dir(ws.path().join("lake/rejects/digest"))
        .expect("rejects folder")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).expect("rejects file"))
        .collect::<String>();
    // Each reject names the export's column and the value written there.
    assert!(
        rejects.contains("bad_number,Phone,n/a")
            && rejects.contains("bad_number,Post,-4")
            && rejects.contains("unknown_channel,Fax,Fax"),
        "{rejects}"
    );

    ws.cex(&["run", "p.toml", "--period", "2024-05", "--skip", "ingest"])
        .assert_code(0);
    let volumes = read_csv(&ws.path().join("out/2024-05/volumes.csv"));
    let (channels, services) = (strings(&volumes, "channel"), strings(&volumes, "service"));
    let months = numbers(&volumes, "month");
    let contacts = numbers(&volumes, "contacts");
    // (channel, service, month, contacts), summed by hand from the two exports.
    let want: [(&str, &str, f64, f64); 16] = [
        ("telephone", "Housing", 4.0, 1200.0 + 30.0),
        ("telephone", "Waste", 4.0, 300.0 + 5.0),
        ("web", "Housing", 4.0, 800.0),
        ("web", "Waste", 4.0, 1250.0 + 95.0),
        ("web", "Council Tax", 4.0, 410.0),
        ("face_to_face", "Housing", 4.0, 50.0),
        ("face_to_face", "Waste", 4.0, 0.0),
        ("post", "Waste", 4.0, 7.0),
        ("telephone", "Housing", 5.0, 1100.0 + 20.0),
        ("telephone", "Waste", 5.0, 2.0),
        ("web", "Housing", 5.0, 950.0),
        ("web", "Waste", 5.0, 420.0 + 120.0),
        ("web", "Council Tax", 5.0, 388.0),
        ("web", "Parking permit", 5.0, 60.0),
        ("face_to_face", "Waste", 5.0, 12.0),
        ("post", "Housing", 5.0, 3.0),
    ];
    for (channel, service, month, n) in want {
        let got: f64 = (0..volumes.height())
            .filter(|i| {
                channels[*i].as_deref() == Some(channel)
                    && services[*i].as_deref() == Some(service)
                    && months[*i] == Some(month)
            })
            .filter_map(|i| contacts[i])
            .sum();
        assert_eq!(got, n, "{channel} {service} month {month}");
    }
    // Nothing else: the totals of the table are the totals of the exports' accepted cells.
    let april_and_may: f64 = (0..volumes.height())
        .filter(|i| matches!(months[*i], Some(m) if m == 4.0 || m == 5.0))
        .filter_map(|i| contacts[i])
        .sum();
    assert_eq!(april_and_may, want.iter().map(|w| w.3).sum::<f64>());
}
