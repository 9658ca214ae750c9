//! The shipped sample data through the binary: reconciliation against the generator's ground
//! truth (`sample_data/expected_counts.json`), every source layout read correctly, idempotent re-runs.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde_json::Value;

use crate::util::{strings, u64s, Workspace};

struct Expected {
    path: String,
    rows: u64,
    rejects: BTreeMap<String, u64>,
    duplicates: u64,
    resent: bool,
}

fn expected(ws: &Workspace) -> Vec<Expected> {
    let text = std::fs::read_to_string(ws.path().join("sample_data/expected_counts.json"))
        .expect("expected_counts.json");
    let json: Value = serde_json::from_str(&text).expect("json");
    json["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| Expected {
            path: f["path"].as_str().expect("path").to_string(),
            rows: f["rows"].as_u64().expect("rows"),
            rejects: f["rejects"]
                .as_object()
                .expect("rejects")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
                .collect(),
            duplicates: f["duplicates"].as_u64().expect("duplicates"),
            resent: !f["resent_of"].is_null(),
        })
        .collect()
}

fn ingested_sample() -> (Workspace, crate::util::Output) {
    let ws = Workspace::with_sample_data();
    let out = ws.cex(&["run", "pipelines/sample.toml"]);
    out.assert_code(0);
    (ws, out)
}

#[test]
fn every_file_reconciles_exactly_with_the_generators_ground_truth() {
    let (ws, out) = ingested_sample();
    let manifest = ws.manifest();
    let paths = strings(&manifest, "path");
    let rows = u64s(&manifest, "rows_read");
    let accepted = u64s(&manifest, "accepted");
    let rejected = u64s(&manifest, "rejected");
    let duplicates = u64s(&manifest, "duplicates");
    let reasons = strings(&manifest, "rejects_by_reason");
    let expected = expected(&ws);
    assert_eq!(expected.len(), 46);
    for e in &expected {
        if e.resent {
            assert!(
                out.stdout.contains(&format!("{}  same content as", e.path)),
                "{} should be skipped as a re-sent file\n{}",
                e.path,
                out.stdout
            );
            assert!(!paths.iter().flatten().any(|p| p.ends_with(&e.path)));
            continue;
        }
        let i = paths
            .iter()
            .position(|p| p.as_deref().is_some_and(|p| p.ends_with(&e.path)))
            .unwrap_or_else(|| panic!("{} not in the manifest", e.path));
        let want_rejected: u64 = e.rejects.values().sum();
        assert_eq!(rows[i], e.rows, "{}: rows", e.path);
        assert_eq!(rejected[i], want_rejected, "{}: rejected", e.path);
        assert_eq!(duplicates[i], e.duplicates, "{}: duplicates", e.path);
        assert_eq!(
            rows[i],
            accepted[i] + rejected[i] + duplicates[i],
            "{}",
            e.path
        );
        let want_reasons = e
            .rejects
            .iter()
            .map(|(r, n)| format!("{r}={n}"))
            .collect::<Vec<_>>()
            .join("; ");
        assert_eq!(
            reasons[i].as_deref(),
            Some(want_reasons.as_str()),
            "{}",
            e.path
        );
    }

    // The lake holds exactly the accepted rows, each key once per source.
    let lake_rows = ws.lake_table("contacts").height() + ws.lake_table("responses").height();
    assert_eq!(lake_rows as u64, accepted.iter().sum::<u64>());
    for table in ["contacts", "responses"] {
        let df = ws.lake_table(table);
        let distinct = df
            .clone()
            .lazy()
            .select([concat_str([col("source"), col("record_key")], "|", false)
                .n_unique()
                .alias("n")])
            .collect()
            .expect("distinct");
        assert_eq!(
            u64s(&distinct, "n"),
            [df.height() as u64],
            "{table}: a key stored twice"
        );
    }
}

#[test]
fn rejects_keep_raw_rows_with_reasons_privately() {
    let (ws, _) = ingested_sample();
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for source in ["telephony", "face_to_face", "webforms", "satisfaction"] {
        let dir = ws.path().join("lake/rejects").join(source);
        for f in std::fs::read_dir(&dir).expect("rejects dir") {
            let path = f.expect("entry").path();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", path.display());
            }
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .try_into_reader_with_file_path(Some(path.clone()))
                .expect("reader")
                .finish()
                .expect("read rejects");
            for r in strings(&df, "cex_reason").into_iter().flatten() {
                *by_reason.entry(r).or_default() += 1;
            }
            // The raw columns come first, as in the export.
            assert_ne!(df.get_column_names()[0].as_str(), "cex_row");
        }
    }
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for e in expected(&ws) {
        for (r, n) in e.rejects {
            *want.entry(r).or_default() += n;
        }
    }
    assert_eq!(by_reason, want);
}

#[test]
fn the_readme_shows_what_the_sample_job_prints() {
    // The README's example is `cex run pipelines/sample.toml --fy 2023/24` on the shipped
    // sample: every line it shows (but `...`) must be one the job prints, alignment aside, the
    // table's lines in the order printed; so that its figures cannot go stale unnoticed.
    let readme = std::fs::read_to_string(crate::util::repo().join("README.md")).expect("README");
    let command = "$ cex run pipelines/sample.toml --fy 2023/24";
    let shown: Vec<String> = readme
        .lines()
        .skip_while(|l| l.trim() != command)
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .filter(|l| l.trim() != "...")
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        shown.len() >= 8,
        "the README shows the sample job's output after `{command}`: {shown:?}"
    );
    let ws = Workspace::with_sample_data();
    let out = ws.cex(&["run", "pipelines/sample.toml", "--fy", "2023/24"]);
    out.assert_code(0);
    let printed = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    let (stdout, stderr) = (printed(&out.stdout), printed(&out.stderr));
    let mut at = 0;
    for line in &shown {
        if let Some(i) = stdout[at..].iter().position(|p| p == line) {
            at += i + 1;
        } else {
            assert!(
                stderr.contains(line),
                "the README shows `{line}`, which the sample job does not print (or not in that order):\n{}\n{}",
                out.stdout,
                out.stderr
            );
        }
    }
}

#[test]
fn a_second_run_changes_nothing() {
    let (ws, _) = ingested_sample();
    let before = crate::ingest_fixtures::snapshot(&ws.path().join("lake"));
    let again = ws.cex(&["run", "pipelines/sample.toml"]);
    again.assert_code(0);
    again.assert_already_in_lake(46);
    assert!(again.stderr.contains("nothing new"), "{}", again.stderr);
    assert_eq!(
        crate::ingest_fixtures::snapshot(&ws.path().join("lake")),
        before
    );
}

#[test]
fn each_vendor_layout_lands_in_the_canonical_model() {
    let (ws, _) = ingested_sample();
    let manifest = ws.manifest();
    let encoding_of = |needle: &str| {
        let paths = strings(&manifest, "path");
        let enc = strings(&manifest, "encoding");
        paths
            .iter()
            .zip(enc)
            .find(|(p, _)| p.as_deref().is_some_and(|p| p.contains(needle)))
            .and_then(|(_, e)| e)
    };
    assert_eq!(encoding_of("telephony/").as_deref(), Some("utf-8 with BOM"));
    assert_eq!(encoding_of("webforms/").as_deref(), Some("windows-1252"));
    assert_eq!(encoding_of("face_to_face/").as_deref(), Some("xlsx"));
    assert_eq!(encoding_of("satisfaction/").as_deref(), Some("utf-8"));

    let contacts = ws.lake_table("contacts");
    let count = |filter: Expr| {
        contacts
            .clone()
            .lazy()
            .filter(filter)
            .collect()
            .expect("filter")
            .height()
    };
    // Windows-1252 form names decoded and mapped through the UTF-8 lookup.
    assert!(count(col("category").eq(lit("Council Tax – change of address"))) > 100);
    assert_eq!(
        count(
            col("category")
                .eq(lit("Council Tax – change of address"))
                .and(col("service").neq(lit("Council Tax")))
        ),
        0
    );
    // The Excel visits: dates from date cells, times from text, waits in minutes.
    let visits = contacts
        .clone()
        .lazy()
        .filter(col("channel").eq(lit("face_to_face")))
        .collect()
        .expect("visits");
    assert!(visits.height() > 2600);
    assert_eq!(visits.column("timestamp").expect("ts").null_count(), 0);
    let walked_out = col("channel")
        .eq(lit("face_to_face"))
        .and(col("outcome").eq(lit("walked_out")));
    assert!(count(walked_out) > 0);
    // Every row has a financial year consistent with its date.
    assert_eq!(
        count(
            col("financial_year")
                .eq(lit("2023/24"))
                .and(col("date").lt(lit(
                    chrono::NaiveDate::from_ymd_opt(2023, 4, 1).expect("date")
                )))
        ),
        0
    );

    let responses = ws.lake_table("responses");
    let ratings: Vec<Option<String>> = strings(&responses, "rating");
    assert!(ratings
        .iter()
        .all(|r| matches!(r.as_deref(), Some("Good" | "Average" | "Poor"))));
    let ages = strings(&responses, "age_band");
    let not_answered = ages
        .iter()
        .filter(|a| a.as_deref() == Some("Not answered"))
        .count();
    let refused = ages
        .iter()
        .filter(|a| a.as_deref() == Some("Prefer not to say"))
        .count();
    assert!(not_answered > 0 && refused > 0);
    let share = (not_answered + refused) as f64 / ages.len() as f64;
    assert!((0.1..0.3).contains(&share), "non-response share {share}");
    for d in strings(&responses, "postcode_district")
        .into_iter()
        .flatten()
    {
        assert!(d.len() <= 4 && !d.contains(' '), "{d}");
    }
}

#[test]
fn comments_are_scrubbed_of_personal_data() {
    let (ws, _) = ingested_sample();
    let responses = ws.lake_table("responses");
    let comments: Vec<String> = strings(&responses, "comment")
        .into_iter()
        .flatten()
        .collect();
    assert!(comments.iter().any(|c| c.contains("[email]")));
    assert!(comments.iter().any(|c| c.contains("[phone]")));
    let email = regex_like_email();
    for c in &comments {
        assert!(!email(c), "e-mail left in: {c}");
        let digits: String = c.chars().filter(|ch| ch.is_ascii_digit()).collect();
        assert!(!digits.contains("7700900"), "phone number left in: {c}");
    }
    // Rejected rows are personal data too: their comments are scrubbed and their postcodes cut
    // to the district, as in the lake (the sample's survey export rejects rows that carry both).
    let full_postcode = |w: &str| {
        let w: String = w.chars().filter(|c| !c.is_whitespace()).collect();
        let b = w.as_bytes();
        b.len() >= 5
            && b.len() <= 7
            && b[b.len() - 3].is_ascii_digit()
            && b[b.len() - 2..].iter().all(u8::is_ascii_uppercase)
            && b[0].is_ascii_uppercase()
    };
    let mut checked = 0;
    for file in crate::util::walk(&ws.path().join("lake/rejects")) {
        let text = std::fs::read_to_string(&file).expect("rejects file");
        for line in text.lines().skip(1) {
            assert!(!email(line), "e-mail left in {}: {line}", file.display());
            let words: Vec<&str> = line.split([',', '(', ')', '"']).collect();
            for w in words {
                assert!(
                    !full_postcode(w.trim()),
                    "postcode left in {}: {line}",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "the sample rejects no row");
}

/// A plain check for "something@something.something".
fn regex_like_email() -> impl Fn(&str) -> bool {
    |s: &str| {
        s.split_whitespace().any(|w| {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric());
            match w.split_once('@') {
                Some((user, domain)) => !user.is_empty() && domain.contains('.'),
                None => false,
            }
        })
    }
}

#[test]
fn validate_reports_the_sample_without_writing() {
    let ws = Workspace::with_sample_data();
    let out = ws.cex(&["validate", "pipelines/sample.toml"]);
    out.assert_code(0);
    assert!(out.stdout.contains("would add"), "{}", out.stdout);
    assert!(
        out.stdout.contains("webforms/forms_2023-24.csv"),
        "{}",
        out.stdout
    );
    assert!(!ws.path().join("lake").exists());
}

#[test]
fn untouched_files_are_known_by_stamp_and_edited_ones_are_read_again() {
    let (ws, _) = ingested_sample();
    let file = ws.path().join("sample_data/telephony/calls_2022-04.csv");
    let original = std::fs::read(&file).expect("read");
    let stamp = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    let set_time = |time| set_modified(&file, time);
    // Same path, size and modification time: recognised from the manifest without being read
    // (other bytes of the same size with the old time restored go unnoticed, as with git).
    std::fs::write(&file, vec![b'x'; original.len()]).expect("write");
    set_time(stamp);
    let again = ws.cex(&["ingest", "pipelines/sample.toml"]);
    again.assert_code(0);
    again.assert_already_in_lake(46);
    // An edit changes the modification time: the file is read and hashed again, and its new
    // content ingested (its calls are already in the lake, so they count as duplicates).
    let edited = String::from_utf8(original.clone())
        .expect("utf-8")
        .replacen(",Y,", ",N,", 1);
    assert_eq!(edited.len(), original.len());
    assert_ne!(edited.as_bytes(), original.as_slice());
    std::fs::write(&file, edited).expect("write");
    set_time(stamp + std::time::Duration::from_secs(60));
    let edited_run = ws.cex(&["ingest", "pipelines/sample.toml"]);
    edited_run.assert_code(0);
    edited_run.assert_already_in_lake(45);
    edited_run.assert_read("calls_2022-04.csv");
}

#[test]
fn a_resent_copy_is_known_by_stamp_once_a_run_has_read_it() {
    let (ws, _) = ingested_sample();
    let copy = ws
        .path()
        .join("sample_data/telephony/calls_2024-01_resent.csv");
    let original = std::fs::read(&copy).expect("read");
    let stamp = std::fs::metadata(&copy)
        .and_then(|m| m.modified())
        .expect("mtime");
    // Other bytes of the same size under the copy's old stamp: only a run that does not read
    // the copy still finds it in the lake.
    let disguise = || {
        std::fs::write(&copy, vec![b'x'; original.len()]).expect("write");
        set_modified(&copy, stamp);
    };
    let all_known = |ws: &Workspace| {
        let run = ws.cex(&["ingest", "pipelines/sample.toml"]);
        run.assert_code(0);
        run.assert_already_in_lake(46);
    };
    // The run that ingested the original saw the copy beside it: the next one does not read it.
    disguise();
    all_known(&ws);
    // The remembered copies are derived: without them the copy is read and hashed again, and
    // remembered again by that run.
    std::fs::write(&copy, &original).expect("write");
    set_modified(&copy, stamp);
    std::fs::remove_dir_all(ws.path().join("lake/_derived/copies")).expect("remove");
    all_known(&ws);
    disguise();
    all_known(&ws);
    // Once the copy is edited (a new modification time), it is read again: its disguised
    // bytes are found and refused, naming it.
    set_modified(&copy, stamp + std::time::Duration::from_secs(60));
    let edited = ws.cex(&["ingest", "pipelines/sample.toml"]);
    assert_ne!(edited.code, 0, "{}", edited.stdout);
    assert!(
        edited.stderr.contains("calls_2024-01_resent.csv")
            && edited.stderr.contains("column 'Contact ID'"),
        "{}",
        edited.stderr
    );
}

/// Gives `file` the modification time `time`.
fn set_modified(file: &std::path::Path, time: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(file)
        .and_then(|f| f.set_modified(time))
        .expect("set mtime");
}

/// Sums of `columns` over the rows of `table` matching `filter`.
fn sums(table: &DataFrame, filter: Expr, columns: &[&str]) -> Vec<u64> {
    let df = table
        .clone()
        .lazy()
        .filter(filter)
        .select(
            columns
                .iter()
                .map(|c| col(*c).cast(DataType::UInt64).sum())
                .collect::<Vec<_>>(),
        )
        .collect()
        .expect("sum");
    columns.iter().flat_map(|c| u64s(&df, c)).collect()
}

fn pct(part: u64, whole: u64) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

/// Every file under `dir` (recursively).
fn all_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// The sample's synthetic customers come back: the job publishes the right-first-time tables
/// with plausible figures (repeat contact within 7 days 10-25%, more for Housing and Council
/// Tax; forms followed by a call 5-15%, more for a troublesome form and more than calls
/// followed by a form), and no number or address reaches the lake or the publication.
#[test]
fn the_sample_job_shows_customers_coming_back() {
    let ws = Workspace::with_sample_data();
    let out = ws.cex(&["run", "pipelines/sample.toml", "--as-of", "2025-04-03"]);
    out.assert_code(0);
    let published = ws.path().join("out/2025-03");
    let index = std::fs::read_to_string(published.join("tables.json")).expect("tables.json");
    for table in [
        "repeat_contact",
        "contact_resolution",
        "failure_demand",
        "days_to_repeat",
    ] {
        assert!(
            index.contains(&format!("\"{table}\"")),
            "{table} not published"
        );
    }
    let read = |name: &str| {
        let file = std::fs::File::open(published.join(format!("{name}.parquet"))).expect(name);
        ParquetReader::new(file).finish().expect("parquet")
    };

    let repeat = read("repeat_contact");
    let week = col("window_days").eq(lit(7u32));
    let totals = |filter: Expr| {
        sums(
            &repeat,
            week.clone().and(filter),
            &["identified", "repeats"],
        )
    };
    let all = totals(lit(true));
    let rate = pct(all[1], all[0]);
    assert!(all[0] > 8_000, "identified {}", all[0]);
    assert!(
        (10.0..25.0).contains(&rate),
        "repeat rate (7 days) {rate:.1}%"
    );
    for service in ["Housing", "Council Tax"] {
        let s = totals(col("service").eq(lit(service)));
        let r = pct(s[1], s[0]);
        assert!(r > rate, "{service}: {r:.1}% against {rate:.1}% overall");
    }
    // Face-to-face carries no identifier: counted, never identified.
    assert_eq!(totals(col("channel").eq(lit("face_to_face")))[0], 0);
    let month = sums(&repeat, week.clone(), &["contacts"]);
    assert!(month[0] > all[0]);

    let failure = read("failure_demand");
    let direction = |d: &str| week.clone().and(col("direction").eq(lit(d.to_string())));
    let digital = sums(
        &failure,
        direction("digital then assisted"),
        &["observable", "followed_up"],
    );
    let digital_rate = pct(digital[1], digital[0]);
    assert!(
        (5.0..15.0).contains(&digital_rate),
        "failure demand (7 days) {digital_rate:.1}%"
    );
    let assisted = sums(
        &failure,
        direction("assisted then digital"),
        &["observable", "followed_up"],
    );
    assert!(pct(assisted[1], assisted[0]) < digital_rate);
    let form = sums(
        &failure,
        direction("digital then assisted")
            .and(col("category").eq(lit("Council Tax – change of address"))),
        &["observable", "followed_up"],
    );
    assert!(
        pct(form[1], form[0]) > 1.5 * digital_rate,
        "Council Tax – change of address: {:.1}%",
        pct(form[1], form[0])
    );

    // Only keys are stored and published: no number or address in any text the job wrote,
    // rejects included (their comments are scrubbed as the lake's are).
    let contacts = ws.lake_table("contacts");
    for key in ["customer_phone", "customer_email"] {
        let keys = contacts.column(key).expect(key);
        assert_eq!(keys.dtype(), &DataType::Int64, "{key} holds keys, not text");
        assert!(keys.len() - keys.null_count() > 10_000, "{key}");
    }
    for path in all_files(&ws.path().join("out"))
        .into_iter()
        .chain(all_files(&ws.path().join("lake")))
    {
        let bytes = std::fs::read(&path).expect("read");
        for needle in [
            &b"example.com"[..],
            b"@example",
            b"7700900",
            b"7700 900",
            b"496 0",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds {}",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    // The lake (the sums KPIs and equality keep in `_derived` included) and the restricted
    // records hold true small counts and keys: every folder and file is the owner's alone,
    // whatever the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fn tree(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            out.push(dir.to_path_buf());
            for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    tree(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut paths = Vec::new();
        tree(&ws.path().join("lake"), &mut paths);
        tree(&ws.path().join("out/restricted"), &mut paths);
        assert!(
            paths
                .iter()
                .any(|p| p.components().any(|c| c.as_os_str() == "_derived")),
            "no kept sums under lake/_derived"
        );
        let open: Vec<String> = paths
            .iter()
            .filter(|p| !p.ends_with(".lock") || p.starts_with(ws.path().join("out")))
            .filter_map(|p| {
                let mode = std::fs::metadata(p).ok()?.permissions().mode() & 0o777;
                (mode & 0o077 != 0).then(|| format!("{mode:o} {}", p.display()))
            })
            .collect();
        assert!(open.is_empty(), "open to others: {open:#?}");
    }
}

/// The sample's avoidable contact, checked by a reader cex did not write: the coded counts of
/// every month, worked out in Python from the lake (deltalake) and the pipeline's code lists.
#[test]
fn the_sample_avoidable_contact_agrees_with_an_independent_count() {
    let ws = Workspace::with_sample_data();
    let out = ws.cex(&["run", "pipelines/sample.toml", "--as-of", "2025-04-03"]);
    out.assert_code(0);
    let published = ws.path().join("out/2025-03");
    let targets = crate::util::read_csv(&published.join("avoidable_targets.csv"));
    assert_eq!(targets.height(), 2, "both targets apply to 2024/25");
    crate::util::ensure_python(
        "deltalake, pyarrow",
        "tests/delta/requirements.txt",
        "the independent count (tests/avoidable/coded.py)",
    );
    let check = std::process::Command::new("python3")
        .arg(crate::util::repo().join("tests/avoidable/coded.py"))
        .arg(ws.path().join("lake"))
        .arg(published.join("avoidable_contact.csv"))
        .arg(ws.path().join("pipelines/sample.toml"))
        .args(["2024-04", "2025-03"])
        .output()
        .expect("python3");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        report.starts_with("72 figures checked, 0 differ"),
        "{report}"
    );
}
