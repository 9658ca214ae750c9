//! Constants and fields from the path (issue 15 item 3): exports of counts whose rows do not say
//! which council, channel or month they are (the file name does), a fixed service for an
//! export of one service, and a source read in its own time zone. The exports are written here
//! by hand, in layouts unlike sample_data.

use polars::prelude::IntoLazy;

use crate::util::{read_csv, strings, u64s, Workspace};

/// Monthly counts per council and channel, one file each, the month and channel in the file
/// name and the council in the folder: `counts/<council>/<yyyy>-<mm>_<channel>.csv`.
fn pipeline(path_fields: &str, extra: &str) -> String {
    format!(
        r#"
name = "counts"
organisation = "Lead Council"
lake = "lake"
output = "out"

[[sources]]
name = "counts"
kind = "contacts"
files = "counts/*/*.csv"
path_fields = "{path_fields}"
default_outcome = "submitted"
{extra}

[sources.columns]
category = "Service"
count = "Requests"

[sources.channels]
telephone = ["phone"]
web = ["online"]
face_to_face = ["counter"]

[sources.service.values]
Housing = ["Housing"]
Waste = ["Waste"]
"#
    )
}

fn workspace(path_fields: &str, extra: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("p.toml", pipeline(path_fields, extra));
    ws.write(
        "counts/North District/2024-04_phone.csv",
        "Service,Requests\nHousing,120\nWaste,30\n",
    );
    ws.write(
        "counts/North District/2024-04_online.csv",
        "Service,Requests\nHousing,80\nWaste,45\n",
    );
    ws.write(
        "counts/North District/2024-05_phone.csv",
        "Service,Requests\nHousing,100\n",
    );
    ws.write(
        "counts/South Borough/2024-05_counter.csv",
        "Service,Requests\nHousing,7\n",
    );
    ws
}

#[test]
fn council_month_and_channel_come_from_the_path() {
    let ws = workspace("{organisation}/{year}-{month}_{channel}.csv", "");
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    let contacts = ws.lake_table("contacts");
    assert_eq!(contacts.height(), 6, "{}", out.stdout);
    // Each row carries its file's council, channel and month (day 1: a month of counts).
    let mut rows: Vec<(String, String, String, u64)> = strings(&contacts, "organisation")
        .into_iter()
        .zip(strings(&contacts, "channel"))
        .zip(strings(
            &contacts
                .clone()
                .lazy()
                .with_column(
                    polars::prelude::col("date")
                        .cast(polars::prelude::DataType::String)
                        .alias("day"),
                )
                .collect()
                .expect("day"),
            "day",
        ))
        .zip(u64s(&contacts, "contacts"))
        .map(|(((o, c), d), n)| {
            (
                o.unwrap_or_default(),
                c.unwrap_or_default(),
                d.unwrap_or_default(),
                n,
            )
        })
        .collect();
    rows.sort();
    let want = [
        ("North District", "telephone", "2024-04-01", 30),
        ("North District", "telephone", "2024-04-01", 120),
        ("North District", "telephone", "2024-05-01", 100),
        ("North District", "web", "2024-04-01", 45),
        ("North District", "web", "2024-04-01", 80),
        ("South Borough", "face_to_face", "2024-05-01", 7),
    ];
    let want: Vec<(String, String, String, u64)> = want
        .iter()
        .map(|(o, c, d, n)| (o.to_string(), c.to_string(), d.to_string(), *n))
        .collect();
    assert_eq!(rows, want);
    // Through to the figures: April's digital take-up for the district is 125 / (125 + 150).
    ws.cex(&["kpi", "p.toml", "--period", "2024-04"])
        .assert_code(0);
    let takeup = read_csv(&ws.path().join("out/2024-04/digital_takeup.csv"));
    let orgs = strings(&takeup, "organisation");
    let services = strings(&takeup, "service");
    let months = u64s(&takeup, "month");
    let web = u64s(&takeup, "web");
    let telephone = u64s(&takeup, "telephone");
    let i = (0..takeup.height())
        .find(|&i| {
            orgs[i].as_deref() == Some("North District")
                && services[i].as_deref() == Some("All services")
                && months[i] == 4
        })
        .expect("North District, all services, April");
    assert_eq!((web[i], telephone[i]), (125, 150));
}

#[test]
fn a_regex_with_named_groups_works_as_the_template_does() {
    let ws = workspace(
        r"(?P<organisation>[^/]+)/(?P<year>\\d{4})-(?P<month>\\d{2})_(?P<channel>[a-z]+)\\.csv$",
        "",
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    assert_eq!(ws.lake_table("contacts").height(), 6);
}

#[test]
fn a_file_whose_path_does_not_fit_is_refused_by_name() {
    let ws = workspace("{organisation}/{year}-{month}_{channel}.csv", "");
    ws.write(
        "counts/North District/April 2024 phone.csv",
        "Service,Requests\nHousing,1\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("April 2024 phone.csv")
            && out.stderr.contains("does not match path_fields"),
        "{}",
        out.stderr
    );
    // An impossible month in a name that fits is refused too, never dated.
    let ws = workspace("{organisation}/{year}-{month}_{channel}.csv", "");
    ws.write(
        "counts/North District/2024-13_phone.csv",
        "Service,Requests\nHousing,1\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    assert!(out.stderr.contains("not a date"), "{}", out.stderr);
}

#[test]
fn a_field_from_the_path_and_a_column_for_it_are_refused() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("{organisation}/{year}-{month}_{channel}.csv", "").replace(
            "category = \"Service\"",
            "category = \"Service\"\ndate = \"Day\"",
        ),
    );
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("path_fields: the path gives the month"),
        "{}",
        out.stderr
    );
    let ws = Workspace::new();
    ws.write("p.toml", pipeline("{council}/{year}.csv", ""));
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("{council} is not a field"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_fixed_service_and_a_source_time_zone() {
    // One service's telephony, times in UTC from a supplier's system, the council in London:
    // 23:30 UTC on 31 May is 00:30 on 1 June in London (summer time).
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        r#"
name = "ctax"
organisation = "Test Council"
lake = "lake"
output = "out"

[[sources]]
name = "ctax_calls"
kind = "calls"
files = "calls/*.csv"
timezone = "UTC"
timestamp_formats = ["%Y-%m-%d %H:%M"]

[sources.columns]
record_id = "Id"
timestamp = "Start"
outcome = "Result"

[sources.service]
fixed = "Council Tax"

[sources.outcomes]
answered = ["A"]
abandoned = ["X"]
"#,
    );
    ws.write(
        "calls/calls.csv",
        "Id,Start,Result\n1,2024-05-31 22:30,A\n2,2024-05-31 23:30,X\n",
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    let contacts = ws.lake_table("contacts");
    let services = strings(&contacts, "service");
    assert!(services.iter().all(|s| s.as_deref() == Some("Council Tax")));
    let mut months = u64s(&contacts, "month");
    months.sort();
    assert_eq!(months, [5, 6]);
    // A fixed service with a mapping beside it is refused.
    let ws2 = Workspace::new();
    ws2.write(
        "p.toml",
        std::fs::read_to_string(ws.path().join("p.toml"))
            .expect("p.toml")
            .replace(
                "fixed = \"Council Tax\"",
                "fixed = \"Council Tax\"\nlookup = \"x.csv\"",
            )
            .replace("timezone = \"UTC\"", "timezone = \"Mars/Olympus\""),
    );
    let out = ws2.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("a `fixed` service needs no `lookup`")
            && out
                .stderr
                .contains("'Mars/Olympus' is not an IANA time zone"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_same_bytes_under_another_month_are_another_export() {
    // A council's monthly counts can repeat exactly: June's file has May's bytes. Recognising
    // files by their bytes alone dropped June as a re-sent copy of May.
    let ws = workspace("{organisation}/{year}-{month}_{channel}.csv", "");
    ws.write(
        "counts/North District/2024-06_phone.csv",
        "Service,Requests\nHousing,100\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    assert!(!out.stdout.contains("same content"), "{}", out.stdout);
    let contacts = ws.lake_table("contacts");
    assert_eq!(contacts.height(), 7, "{}", out.stdout);
    let mut months = u64s(&contacts, "month");
    months.sort();
    months.dedup();
    assert_eq!(months, [4, 5, 6]);
    // Run again: every file is recognised, nothing added.
    let again = ws.cex(&["ingest", "p.toml"]);
    again.assert_code(0).assert_already_in_lake(5);
    assert_eq!(ws.lake_table("contacts").height(), 7);
}
