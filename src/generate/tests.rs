//! Whole-generator tests: reproducibility, ground truth re-derived from the written files, and the story.
//! The checks here parse the CSVs independently of the writers, so they catch a tally that lies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeZone, Timelike, Weekday};
use chrono_tz::Europe::London;

use super::calendar::Calendar;
use super::customers::{DOMAINS, RANGES};
use super::vocab::{
    COUNCIL_TAX, FORMS, HOUSING, QUEUES, REVENUES_BENEFITS, SERVICES, SURVEY_SERVICES, WASTE,
};
use super::volume::{Source, Volumes};
use super::{generate, plan_jobs, GenerateOptions, GenerateSummary, World, XLSX_MAX_ROWS};

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("cex-generate-{}-{name}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(dir: &Path, seed: u64, calls: Option<u64>, defects: bool) -> Result<GenerateSummary> {
    generate(&GenerateOptions {
        out_dir: dir.to_path_buf(),
        seed,
        calls,
        defects,
    })
}

/// Every file under `dir`, by relative path.
fn read_tree(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path)?);
            }
        }
    }
    Ok(out)
}

/// Minimal CSV reader: quotes, doubled quotes, line breaks inside quotes; LF or CRLF. A blank
/// line comes back as a record with one empty field.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x96 => '–',
            0x92 => '’',
            other => char::from(other),
        })
        .collect()
}

/// Checks one record: its reject reason, if any.
type Check = fn(&[String]) -> Result<Option<&'static str>>;

/// What the checks below find in one file.
#[derive(Debug, Default, PartialEq)]
struct Found {
    rows: u64,
    rejects: BTreeMap<String, u64>,
    duplicates: u64,
}

fn duration_reason(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return None;
    }
    match value.parse::<i64>() {
        Ok(v) if v < 0 => Some("negative_duration"),
        Ok(_) => None,
        Err(_) => Some("bad_number"),
    }
}

/// A local wall-clock time that exists in Europe/London.
fn local_exists(t: &NaiveDateTime) -> bool {
    London.from_local_datetime(t).earliest().is_some()
}

/// Classifies one record: its single reject reason (more than one is an error) or none.
fn classify(reasons: &[Option<&'static str>]) -> Result<Option<&'static str>> {
    let found: Vec<&str> = reasons.iter().flatten().copied().collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(found[0])),
        _ => bail!("a row has several defects: {found:?}"),
    }
}

fn check_telephony(record: &[String]) -> Result<Option<&'static str>> {
    if record.len() != 11 {
        bail!("telephony row with {} fields: {record:?}", record.len());
    }
    // The wrap-up code: blank (unanswered, or left uncoded) or one of the advisers' codes.
    let wrap = record[10].as_str();
    if !(wrap.is_empty()
        || [
            "NEWREQ", "PAY", "INFO", "CHASE", "CLARIFY", "XFER", "WEBABLE",
        ]
        .contains(&wrap))
    {
        bail!("telephony wrap code {wrap:?}: {record:?}");
    }
    if record[3] == "Abandoned" && !wrap.is_empty() {
        bail!("an abandoned call with a wrap code: {record:?}");
    }
    let ts = &record[2];
    let date_reason = if ts.is_empty() {
        Some("missing_value")
    } else {
        match DateTime::parse_from_rfc3339(ts) {
            Err(_) => Some("bad_date"),
            Ok(t) => {
                // The offset must be London's at that instant, and calls come in opening hours.
                let london = t.with_timezone(&London);
                assert_eq!(london.offset().fix(), *t.offset(), "wrong offset in {ts}");
                let secs = london.num_seconds_from_midnight();
                assert!(
                    (8 * 3600 + 1800..17 * 3600).contains(&secs),
                    "{ts} out of hours"
                );
                assert!(
                    !matches!(london.weekday(), Weekday::Sat | Weekday::Sun),
                    "{ts}"
                );
                None
            }
        }
    };
    classify(&[
        record[0].is_empty().then_some("missing_value"),
        (!QUEUES.iter().any(|q| q.name == record[1])).then_some("unmapped_service"),
        date_reason,
        (!["Answered", "Abandoned", "Callback"].contains(&record[3].as_str()))
            .then_some("unknown_outcome"),
        duration_reason(&record[4]),
        duration_reason(&record[5]),
        duration_reason(&record[6]),
    ])
}

fn check_webform(record: &[String]) -> Result<Option<&'static str>> {
    let submitted = &record[2];
    let date_reason = if submitted.is_empty() {
        Some("missing_value")
    } else {
        match NaiveDateTime::parse_from_str(submitted, "%d/%m/%Y %H:%M:%S") {
            Ok(t) if local_exists(&t) => None,
            _ => Some("bad_date"),
        }
    };
    classify(&[
        record[0].is_empty().then_some("missing_value"),
        (!FORMS.iter().any(|f| f.cat.name == record[1])).then_some("unmapped_service"),
        date_reason,
        (!["Submitted", "Abandoned", "Draft"].contains(&record[3].as_str()))
            .then_some("unknown_outcome"),
    ])
}

fn check_response(record: &[String]) -> Result<Option<&'static str>> {
    if record.len() != 11 {
        bail!("survey row with {} fields: {record:?}", record.len());
    }
    let date = &record[1];
    let date_reason = if date.is_empty() {
        Some("missing_value")
    } else {
        match NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S") {
            Ok(t) if local_exists(&t) => None,
            _ => Some("bad_date"),
        }
    };
    let rating = record[4].trim().to_ascii_lowercase();
    assert!(
        record[3].is_empty() || SURVEY_SERVICES.contains(&record[3].as_str()),
        "survey service {:?}",
        record[3]
    );
    classify(&[
        date_reason,
        (!["Phone", "Face to Face", "Web", "Webchat"].contains(&record[2].as_str()))
            .then_some("unknown_channel"),
        (!["good", "average", "poor"].contains(&rating.as_str())).then_some("rating_not_in_scale"),
    ])
}

/// Re-derives rows, rejects and duplicates of every CSV from the files alone, in sorted path
/// order per source as ingest reads them. Re-sent files are left out (ingest skips them).
fn recount(tree: &BTreeMap<String, Vec<u8>>) -> Result<BTreeMap<String, Found>> {
    let mut out = BTreeMap::new();
    let mut seen: HashMap<&str, HashSet<String>> = HashMap::new();
    for (path, bytes) in tree {
        let (source, text, check): (&str, String, Check) =
            if path.starts_with("telephony/") && !path.contains("_resent") {
                let body = bytes
                    .strip_prefix(b"\xEF\xBB\xBF")
                    .ok_or_else(|| anyhow!("{path} has no BOM"))?;
                let text = String::from_utf8(body.to_vec())?;
                assert!(
                    text.split('\n').all(|l| l.is_empty() || l.ends_with('\r')),
                    "{path} is not CRLF throughout"
                );
                ("telephony", text, check_telephony)
            } else if path.starts_with("webforms/") {
                ("webforms", decode_cp1252(bytes), check_webform)
            } else if path.starts_with("satisfaction/") {
                (
                    "satisfaction",
                    String::from_utf8(bytes.clone())?,
                    check_response,
                )
            } else {
                continue;
            };
        let records = parse_csv(&text);
        let ids = seen.entry(source).or_default();
        let mut found = Found::default();
        for record in records.iter().skip(1) {
            if record.len() == 1 && record[0].is_empty() {
                continue; // blank line
            }
            found.rows += 1;
            match check(record)? {
                Some(reason) => *found.rejects.entry(reason.to_string()).or_insert(0) += 1,
                None if !ids.insert(record[0].clone()) => found.duplicates += 1,
                None => {}
            }
        }
        out.insert(path.clone(), found);
    }
    Ok(out)
}

fn expected_of(tree: &BTreeMap<String, Vec<u8>>) -> Result<serde_json::Value> {
    let json = tree
        .get("expected_counts.json")
        .ok_or_else(|| anyhow!("no expected_counts.json"))?;
    Ok(serde_json::from_slice(json)?)
}

#[test]
fn same_seed_gives_identical_bytes() -> Result<()> {
    let (a, b, c) = (TempDir::new("a")?, TempDir::new("b")?, TempDir::new("c")?);
    run(&a.0, 42, None, true)?;
    run(&b.0, 42, None, true)?;
    run(&c.0, 7, None, true)?;
    let (ta, tb, tc) = (read_tree(&a.0)?, read_tree(&b.0)?, read_tree(&c.0)?);
    assert_eq!(ta.len(), 47, "46 data files and expected_counts.json");
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(tb[path] == *bytes, "{path} differs between runs");
    }
    let other_seed = &tc["telephony/calls_2023-06.csv"];
    assert!(ta["telephony/calls_2023-06.csv"] != *other_seed);
    // The whole sample stays small enough to ship.
    let total: usize = ta.values().map(Vec::len).sum();
    assert!(
        (3_000_000..4_500_000).contains(&total),
        "sample is {total} bytes"
    );
    Ok(())
}

#[test]
fn ground_truth_matches_the_written_files() -> Result<()> {
    let dir = TempDir::new("truth")?;
    let summary = run(&dir.0, 42, None, true)?;
    let tree = read_tree(&dir.0)?;
    let expected = expected_of(&tree)?;
    assert_eq!(expected["seed"], 42);
    let files = expected["files"]
        .as_array()
        .ok_or_else(|| anyhow!("files is not a list"))?;
    let paths: Vec<&str> = files.iter().filter_map(|f| f["path"].as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted, "files are listed in sorted order");
    assert_eq!(summary.files.len(), files.len());

    let found = recount(&tree)?;
    let mut reasons_seen = HashSet::new();
    for f in files {
        let path = f["path"].as_str().unwrap_or_default();
        let rows = f["rows"].as_u64().unwrap_or_default();
        let summary_file = summary
            .files
            .iter()
            .find(|s| s.path == dir.0.join(path))
            .ok_or_else(|| anyhow!("{path} missing from the summary"))?;
        assert_eq!(summary_file.rows, rows, "{path}");
        assert_eq!(summary_file.bytes, tree[path].len() as u64, "{path}");
        assert_eq!(
            summary_file.source,
            f["source"].as_str().unwrap_or_default()
        );
        if let Some(original) = f["resent_of"].as_str() {
            assert_eq!(
                tree[path], tree[original],
                "{path} is a byte-identical copy"
            );
            continue;
        }
        let rejects: BTreeMap<String, u64> = serde_json::from_value(f["rejects"].clone())?;
        let spoiled: u64 = rejects.values().sum();
        reasons_seen.extend(rejects.keys().cloned());
        if let Some(truth) = found.get(path) {
            let claimed = Found {
                rows,
                rejects: rejects.clone(),
                duplicates: f["duplicates"].as_u64().unwrap_or_default(),
            };
            assert_eq!(*truth, claimed, "{path}");
        }
        // Defects (rejects plus in-file repeats) stay under 1% of a file's rows; for the
        // telephony files the overlapping day is on top of that.
        let repeats = if path.starts_with("telephony/") {
            0
        } else {
            f["duplicates"].as_u64().unwrap_or_default()
        };
        assert!(
            (spoiled + repeats) * 100 < rows,
            "{path}: {spoiled} rejects in {rows} rows"
        );
    }
    assert_eq!(found.len(), 36 + 3 + 3, "every CSV was re-counted");
    for code in [
        "bad_date",
        "missing_value",
        "negative_duration",
        "bad_number",
        "unmapped_service",
        "unknown_outcome",
        "rating_not_in_scale",
        "unknown_channel",
    ] {
        assert!(reasons_seen.contains(code), "no {code} anywhere");
    }
    Ok(())
}

#[test]
fn without_defects_only_the_overlap_repeats() -> Result<()> {
    let dir = TempDir::new("clean")?;
    run(&dir.0, 3, Some(30_000), false)?;
    let tree = read_tree(&dir.0)?;
    let found = recount(&tree)?;
    let mut calls = 0;
    for (path, f) in &found {
        assert!(f.rejects.is_empty(), "{path}: {:?}", f.rejects);
        if !path.starts_with("telephony/") {
            assert_eq!(f.duplicates, 0, "{path}");
        }
        if path.starts_with("telephony/") {
            calls += f.rows - f.duplicates;
        }
    }
    assert_eq!(calls, 30_000, "exactly the calls asked for");
    Ok(())
}

#[test]
fn the_story_shows_seasonality_trend_and_channel_shift() -> Result<()> {
    let dir = TempDir::new("story")?;
    run(&dir.0, 42, None, false)?;
    let tree = read_tree(&dir.0)?;
    // calls[service][fy], calls_by_month[service][month - 1]
    let mut calls = [[0u64; 3]; 8];
    let mut by_month = [[0u64; 12]; 8];
    let mut seen = HashSet::new();
    let mut late_december = 0;
    let mut early_december = 0;
    for (path, bytes) in tree.range("telephony/".to_string().."telephony0".to_string()) {
        if path.contains("_resent") {
            continue;
        }
        let text = String::from_utf8(bytes[3..].to_vec())?;
        for r in parse_csv(&text).iter().skip(1) {
            if !seen.insert(r[0].clone()) {
                continue;
            }
            let queue = QUEUES
                .iter()
                .find(|q| q.name == r[1])
                .ok_or_else(|| anyhow!("queue {}", r[1]))?;
            let t = DateTime::parse_from_rfc3339(&r[2])?;
            let fy = (t.year() - 2022 - i32::from(t.month() < 4)) as usize;
            calls[queue.service][fy] += 1;
            by_month[queue.service][t.month0() as usize] += 1;
            if t.month() == 12 {
                if t.day() >= 22 {
                    late_december += 1;
                } else if t.day() <= 10 {
                    early_december += 1;
                }
            }
        }
    }
    let mut forms = [[0u64; 3]; 8];
    for (path, bytes) in tree.range("webforms/".to_string().."webforms0".to_string()) {
        let fy = ["2022-23", "2023-24", "2024-25"]
            .iter()
            .position(|y| path.contains(y))
            .ok_or_else(|| anyhow!("{path}"))?;
        for r in parse_csv(&decode_cp1252(bytes)).iter().skip(1) {
            let name = r.get(1).map_or("", String::as_str);
            if let Some(form) = FORMS.iter().find(|f| f.cat.name == name) {
                forms[form.cat.service][fy] += 1;
            }
        }
    }
    // Channel shift: phone down, web up for Housing and Revenues & Benefits.
    for s in [HOUSING, REVENUES_BENEFITS] {
        assert!(
            calls[s][2] < calls[s][0],
            "{} calls {:?}",
            SERVICES[s],
            calls[s]
        );
        let growth = forms[s][2] as f64 / forms[s][0] as f64;
        assert!(growth > 1.08, "{} forms {:?}", SERVICES[s], forms[s]);
    }
    // Waste calls drop in 2024/25 when the new online forms arrive.
    assert!(
        (calls[WASTE][2] as f64) < 0.92 * calls[WASTE][1] as f64,
        "waste calls {:?}",
        calls[WASTE]
    );
    // Council tax peaks in March and April; waste in spring.
    let mean = |m: &[u64; 12]| m.iter().sum::<u64>() as f64 / 12.0;
    let ct = &by_month[COUNCIL_TAX];
    assert!(
        ct[2] as f64 > 1.3 * mean(ct) && ct[3] as f64 > 1.3 * mean(ct),
        "{ct:?}"
    );
    let w = &by_month[WASTE];
    let spring = (w[2] + w[3] + w[4]) as f64 / 3.0;
    let autumn = (w[8] + w[9] + w[10]) as f64 / 3.0;
    assert!(spring > 1.25 * autumn, "{w:?}");
    // Late December dip: the last ten days (about six working days a year) are quiet.
    assert!(
        (late_december as f64) < 0.6 * early_december as f64,
        "late {late_december} vs early {early_december}"
    );
    Ok(())
}

#[test]
fn tiny_runs_work() -> Result<()> {
    for calls in [0, 1, 50] {
        let dir = TempDir::new(&format!("tiny{calls}"))?;
        let summary = run(&dir.0, 1, Some(calls), true)?;
        assert_eq!(summary.files.len(), 46);
        let found = recount(&read_tree(&dir.0)?)?;
        let total: u64 = found
            .iter()
            .filter(|(p, _)| p.starts_with("telephony/"))
            .map(|(_, f)| f.rows - f.duplicates)
            .sum();
        assert_eq!(total, calls);
    }
    Ok(())
}

#[test]
fn huge_runs_split_workbooks_evenly() -> Result<()> {
    let cal = Calendar::new()?;
    let vol = Volumes::new(&cal, 42, 100_000_000);
    let pools = super::customers::Pools::new(42, cal.days.len(), &vol);
    let world = World {
        seed: 42,
        defects: true,
        cal,
        vol,
        pools,
    };
    let jobs = plan_jobs(&world)?;
    let parts: Vec<u64> = jobs
        .iter()
        .filter(|j| j.source == Source::FaceToFace)
        .map(|j| world.vol.sum(Source::FaceToFace, j.days.clone()))
        .collect();
    assert!(parts.len() > 3);
    assert!(parts.iter().all(|&n| n <= XLSX_MAX_ROWS), "{parts:?}");
    let (min, max) = (parts.iter().min(), parts.iter().max());
    assert!(
        min.zip(max).is_some_and(|(a, b)| a * 10 > b * 8),
        "{parts:?}"
    );
    assert_eq!(
        parts.iter().sum::<u64>(),
        Source::FaceToFace.total_for_calls(100_000_000)
    );
    // Every day of every year is in exactly one workbook, in order.
    let mut days: Vec<(String, std::ops::Range<usize>)> = jobs
        .iter()
        .filter(|j| j.source == Source::FaceToFace)
        .map(|j| (j.rel_path.clone(), j.days.clone()))
        .collect();
    days.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(days.windows(2).all(|w| w[0].1.end == w[1].1.start));
    assert_eq!(days.last().map(|d| d.1.end), Some(world.cal.days.len()));
    Ok(())
}

/// The bytes of a generated file without the columns added for right first time (telephony's
/// `CLI` and `Wrap Code`, the forms' `Email Address` and `Telephone`): what the generator wrote
/// before them. They are the last fields of each line (before 2023-24's trailing separator) and
/// never hold a comma.
fn without_identifiers(path: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let fields = if path.starts_with("telephony/") || path.starts_with("webforms/") {
        2
    } else {
        return Ok(bytes.to_vec());
    };
    let trailing = path.ends_with("forms_2023-24.csv");
    let mut out = Vec::with_capacity(bytes.len());
    for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let eol = line
            .iter()
            .rev()
            .take_while(|b| matches!(b, b'\n' | b'\r'))
            .count();
        let (mut body, end) = line.split_at(line.len() - eol);
        if body.is_empty() {
            out.extend_from_slice(line);
            continue;
        }
        let separator = trailing && i > 0;
        if separator {
            body = body
                .strip_suffix(b",")
                .ok_or_else(|| anyhow!("{path} line {i}: no trailing separator"))?;
        }
        for _ in 0..fields {
            let cut = body
                .iter()
                .rposition(|&b| b == b',')
                .ok_or_else(|| anyhow!("{path} line {i}: too few fields"))?;
            body = &body[..cut];
        }
        out.extend_from_slice(body);
        if separator {
            out.push(b',');
        }
        out.extend_from_slice(end);
    }
    Ok(out)
}

/// SHA-256 of the generated tree, file by file in path order (path, NUL, length as 8 bytes
/// little-endian, bytes), with the identifier columns dropped.
fn digest_without_identifiers(tree: &BTreeMap<String, Vec<u8>>) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (path, bytes) in tree {
        let kept = without_identifiers(path, bytes)?;
        h.update(path.as_bytes());
        h.update([0u8]);
        h.update((kept.len() as u64).to_le_bytes());
        h.update(&kept);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Adding the customers and the wrap codes changed no value of the sample that was there
/// before: with the new
/// columns dropped, every file (workbooks, survey and expected_counts.json included) hashes to
/// what the generator wrote before issue 19 (computed from sample_data as shipped then).
#[test]
fn identifier_columns_leave_every_other_byte_as_it_was() -> Result<()> {
    let dir = TempDir::new("unchanged")?;
    run(&dir.0, 42, None, true)?;
    let tree = read_tree(&dir.0)?;
    assert_eq!(tree.len(), 47);
    assert_eq!(
        digest_without_identifiers(&tree)?,
        "0a9f85a8856b273523a0f73ae66c0e70afe6bba9a028a7cf1a8326962470b0b3"
    );
    // The shipped sample is this run.
    let shipped = read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data"))?;
    assert_eq!(
        shipped.keys().collect::<Vec<_>>(),
        tree.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &tree {
        assert!(
            shipped[path] == *bytes,
            "sample_data/{path} is not what the generator writes: regenerate it"
        );
    }
    Ok(())
}

/// A number as written, in national form (`07700900123`) with how it was written, or None when
/// it is not one of the ways the generator writes numbers.
fn national(written: &str) -> Option<(String, &'static str)> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (national, style) = if let Some(rest) = written.strip_prefix("+44 ") {
        (format!("0{rest}"), "international")
    } else if let Some(rest) = written.strip_prefix("+44") {
        if !digits(rest) {
            return None;
        }
        (format!("0{rest}"), "e164")
    } else if written.contains(' ') {
        (written.to_string(), "spaced")
    } else {
        (written.to_string(), "compact")
    };
    let spaced = national.contains(' ');
    let compact = national.replace(' ', "");
    if !digits(&compact) || compact.len() != 11 {
        return None;
    }
    // Spaced numbers are spaced as Ofcom writes the range.
    let in_range = RANGES.iter().any(|r| {
        let prefix = if spaced {
            r.to_string()
        } else {
            r.replace(' ', "")
        };
        national.starts_with(&prefix) && national.len() == prefix.len() + 3
    });
    in_range.then_some((compact, style))
}

fn day_of(date: &str, format: &str) -> Option<i32> {
    chrono::NaiveDate::parse_from_str(date, format)
        .ok()
        .map(|d| d.num_days_from_ce())
}

/// What the identifier columns of the seed-42 sample hold.
#[derive(Default)]
struct Customers {
    /// (number, service, day) of each clean call that has a number, and its queue is mapped.
    calls: Vec<(String, usize, i32)>,
    /// (number, service, day, failed) of each clean form with a number.
    forms: Vec<(String, usize, i32, bool)>,
}

fn read_customers(tree: &BTreeMap<String, Vec<u8>>) -> Result<Customers> {
    let mut out = Customers::default();
    let mut styles: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut calls, mut withheld, mut forms, mut no_email, mut no_phone) = (0u64, 0, 0, 0, 0);
    let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
    for (path, bytes) in tree {
        let is_calls = path.starts_with("telephony/") && !path.contains("_resent");
        let is_forms = path.starts_with("webforms/");
        if !is_calls && !is_forms {
            continue;
        }
        let text = if is_calls {
            String::from_utf8(
                bytes
                    .strip_prefix(b"\xEF\xBB\xBF")
                    .unwrap_or(bytes)
                    .to_vec(),
            )?
        } else {
            decode_cp1252(bytes)
        };
        let records = parse_csv(&text);
        for record in records.iter().skip(1) {
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            // A record written twice (the overlapping export day, a repeated row) is the same
            // customer both times.
            if !record[0].is_empty() {
                if let Some(before) = by_id.insert(record[0].clone(), record.clone()) {
                    assert_eq!(&before, record, "{path}: one record, two customers");
                    continue;
                }
            }
            if is_calls {
                calls += 1;
                let cli = record[9].as_str();
                if cli == "Withheld" {
                    withheld += 1;
                    continue;
                }
                let (number, style) = national(cli)
                    .ok_or_else(|| anyhow!("{path}: CLI {cli:?} is not a drama number"))?;
                assert_eq!(style, "e164", "{path}: {cli}");
                let queue = QUEUES.iter().find(|q| q.name == record[1]);
                let day = record[2].get(..10).and_then(|d| day_of(d, "%Y-%m-%d"));
                if let (Some(q), Some(day), None) = (queue, day, check_telephony(record)?) {
                    out.calls.push((number, q.service, day));
                }
            } else {
                forms += 1;
                let (email, phone) = (record[6].as_str(), record[7].as_str());
                if email.is_empty() {
                    no_email += 1;
                } else {
                    let (local, domain) = email
                        .split_once('@')
                        .ok_or_else(|| anyhow!("{path}: {email:?} is no address"))?;
                    assert!(
                        DOMAINS.contains(&domain.to_ascii_lowercase().as_str()),
                        "{path}: {email} is not at an example domain"
                    );
                    assert!(
                        !local.is_empty()
                            && local
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'.'),
                        "{path}: {email}"
                    );
                }
                if phone.is_empty() {
                    no_phone += 1;
                    continue;
                }
                let (number, style) = national(phone)
                    .ok_or_else(|| anyhow!("{path}: {phone:?} is not a drama number"))?;
                assert_ne!(style, "e164", "{path}: people do not type {phone}");
                *styles.entry(style).or_default() += 1;
                let form = FORMS.iter().find(|f| f.cat.name == record[1]);
                let day = record[2].get(..10).and_then(|d| day_of(d, "%d/%m/%Y"));
                if let (Some(f), Some(day), None) = (form, day, check_webform(record)?) {
                    out.forms
                        .push((number, f.cat.service, day, record[3] != "Submitted"));
                }
            }
        }
    }
    let share = |n: u64, of: u64| n as f64 / of.max(1) as f64;
    assert!(
        (0.03..0.10).contains(&share(withheld, calls)),
        "withheld {withheld} of {calls}"
    );
    assert!(
        (0.05..0.25).contains(&share(no_email, forms)),
        "no e-mail {no_email} of {forms}"
    );
    assert!(
        (0.15..0.40).contains(&share(no_phone, forms)),
        "no phone {no_phone} of {forms}"
    );
    assert_eq!(
        styles.len(),
        3,
        "forms' numbers are typed three ways: {styles:?}"
    );
    Ok(out)
}

/// Every caller number and typed number is in Ofcom's drama ranges, every address at an example
/// domain; customers come back more for Housing and Council Tax and after a failed form.
#[test]
fn customers_are_synthetic_and_come_back_as_modelled() -> Result<()> {
    let dir = TempDir::new("customers")?;
    run(&dir.0, 42, None, true)?;
    let c = read_customers(&read_tree(&dir.0)?)?;
    assert!(
        c.calls.len() > 15_000 && c.forms.len() > 7_000,
        "{} calls, {} forms",
        c.calls.len(),
        c.forms.len()
    );

    // Days on which each (number, service) rang.
    let mut rang: HashMap<(&str, usize), Vec<i32>> = HashMap::new();
    for (number, service, day) in &c.calls {
        rang.entry((number.as_str(), *service))
            .or_default()
            .push(*day);
    }
    for days in rang.values_mut() {
        days.sort_unstable();
    }
    let called_within = |number: &str, service: usize, from: i32, to: i32| {
        rang.get(&(number, service))
            .is_some_and(|days| days.iter().any(|d| (from..=to).contains(d)))
    };

    // A call repeats one of the week before (same number, same service, 0-7 days).
    let mut repeats = [[0u64; 2]; 2]; // [high-repeat service?][repeat?]
    for (number, service, day) in &c.calls {
        let days = &rang[&(number.as_str(), *service)];
        let earlier = days
            .iter()
            .filter(|d| (day - 7..=*day).contains(*d))
            .count()
            > 1;
        let high = *service == HOUSING || *service == COUNCIL_TAX;
        repeats[usize::from(high)][usize::from(earlier)] += 1;
    }
    let rate = |r: [u64; 2]| r[1] as f64 / (r[0] + r[1]).max(1) as f64;
    let (others, high) = (rate(repeats[0]), rate(repeats[1]));
    assert!(
        (0.08..0.30).contains(&others) && (0.12..0.40).contains(&high),
        "call repeats: Housing and Council Tax {high:.3}, others {others:.3}"
    );
    assert!(
        high > 1.3 * others,
        "Housing and Council Tax {high:.3}, others {others:.3}"
    );

    // Failure demand: a form followed within 7 days by a call about the same service.
    let mut followed = [[0u64; 2]; 2]; // [failed?][followed?]
    for (number, service, day, failed) in &c.forms {
        let call = called_within(number, *service, *day, day + 7);
        followed[usize::from(*failed)][usize::from(call)] += 1;
    }
    let (submitted, failed) = (rate(followed[0]), rate(followed[1]));
    assert!(
        (0.05..0.20).contains(&submitted),
        "submitted forms followed by a call: {submitted:.3}"
    );
    assert!(
        failed > 2.0 * submitted,
        "failed forms {failed:.3}, submitted {submitted:.3}"
    );
    Ok(())
}
