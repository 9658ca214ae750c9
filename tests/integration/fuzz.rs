//! Property test of everything that reads untrusted input: export files (CSV and xlsx) through
//! reading, mapping and de-duplication, and pipeline files through the loader. Whatever the bytes,
//! the library returns `Ok` or `Err`, never panics; when a file is read, every row is accounted
//! for (`rows = accepted + rejected + duplicates`), and for CSV files written here the row count is
//! the number of records written.
//!
//! Inputs come from a seeded in-house generator (no shrinking, but every failure names its seed
//! and keeps its input file): well-formed CSV built from the real sample rows with mutated fields
//! (blank, huge, quotes, separators, line breaks, invalid UTF-8, BOMs, wrong column counts, blank
//! lines, CRLF, other delimiters), byte-level mutations of the real sample files (flips, inserts,
//! deletions, truncation, random bytes), xlsx workbooks with cells of every type and mutated
//! workbook bytes, and mutated copies of `pipelines/sample.toml`.
//!
//! Hostile rows (`fuzz_hostile_rows_are_classified_and_reconcile`) are built from sample rows
//! known to be accepted, each given defects the generator keeps account of: Windows-1252 lines
//! among UTF-8 ones (and files Windows-1252 throughout), rows with too few or too many fields
//! (and tolerated trailing empty fields), implausible, missing and bad dates (years 0024, 1899,
//! 2099, two-digit years, a day either side of `quality.earliest_date` and of the run's day + 1),
//! implausible, negative and bad durations (1e30, NaN, inf, 20-digit numbers, just over 24 h),
//! blank references and categories, adversarial text (formula prefixes, markup, control, bidi and
//! zero-width characters, very long values, quotes and delimiters, e-mail addresses and phone
//! numbers) in free-text and category fields, blank lines and exact duplicates. The run's day is
//! fixed, so each case checks exact figures: rows, accepted, duplicates, blank lines, rejected
//! rows by reason (the first failing check wins: field count, reference, date, service,
//! duration), repaired lines and encoding, in memory, streamed and committed; committed cases
//! also read every accepted row's free text back from the lake (£ ’ – from both kinds of line).
//!
//! `cargo test --release fuzz` runs a few hundred cases (about 20 s). The nightly size:
//! `CEX_FUZZ_CASES=20000 cargo test --release fuzz -- --nocapture` (cases per kind; the hostile
//! kind takes about 0.1 s a case); `CEX_FUZZ_SEED=N` starts from another seed, and
//! `CEX_FUZZ_SEED=N CEX_FUZZ_CASES=1` reruns the failing case N alone.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use cex_insight::config::{Pipeline, SourceDef};
use cex_insight::ingest::{ingest, FileStatus, IngestOptions, IngestReport};
use polars::prelude::*;

use crate::util::{repo, Rng};

/// Cases per kind: `CEX_FUZZ_CASES`, else `default`.
fn cases(default: usize) -> usize {
    std::env::var("CEX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn base_seed() -> u64 {
    std::env::var("CEX_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_124)
}

/// Values that have broken parsers before, as raw bytes (some are not UTF-8).
const NASTY: &[&[u8]] = &[
    b"",
    b" ",
    b"\t",
    b"NULL",
    b"-1",
    b"-0",
    b"1e309",
    b"NaN",
    b"inf",
    b"99999999999999999999999",
    b"1,000",
    b"0x10",
    b"2024-02-30T10:00:00+00:00",
    b"2023-03-26T01:30:00+25:00",
    b"2024-06-01T12:00:00+0",
    b"2024-06-01T12:00:00Z",
    b"Z",
    b"+01:00",
    b"31/12/9999 23:59:59",
    b"00/00/0000 00:00:00",
    b"01/04/2023",
    b"2023-03-26 01:30:00",
    b"1900-01-01 00:00:00",
    b"\"",
    b"\"\"",
    b"a\"b",
    b"a,b",
    b"a;b",
    b"a\tb",
    b"line\nbreak",
    b"line\r\nbreak",
    b"\r",
    b"\xEF\xBB\xBF",
    b"\xEF\xBB\xBFContact ID",
    b"\xFF\xFE",
    b"\x80\x81\x8D\x8F\x90\x9D",
    b"\xC3",
    b"\xE2\x82",
    b"\x00",
    b"caf\xE9",
    b"\xF0\x9F\x98\x80 emoji",
    b"=cmd|' /C calc'!A0",
    b"Answered ",
    b" aNsWeReD",
    b"Prefer not to say",
    b"85 and over",
    b"GOOD",
    b"OX4 1AA",
    b"someone@example.com 07700 900123 QQ123456C",
    b"::",
    b"%Y",
    b"-00:00:10",
    b"12:00",
];

/// A source as the fuzzer sees it: its configuration and real rows to build inputs from.
struct SourcePool {
    def: SourceDef,
    /// The real files' bytes (for byte-level mutation).
    files: Vec<Vec<u8>>,
    headers: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
    xlsx: bool,
}

struct Fixture {
    dir: tempfile::TempDir,
    pipeline: Pipeline,
    pools: Vec<SourcePool>,
    sample_toml: String,
}

impl Fixture {
    /// A scratch copy of `pipelines/` with small samples of every source next to it, the sample
    /// pipeline loaded from it, and the real rows of each source.
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        crate::util::copy_dir(&repo().join("pipelines"), &dir.path().join("pipelines"));
        let data = repo().join("sample_data");
        let mut pools = Vec::new();
        let sample_toml =
            std::fs::read_to_string(repo().join("pipelines/sample.toml")).expect("sample.toml");
        let pipeline =
            Pipeline::load(&dir.path().join("pipelines/sample.toml")).expect("sample pipeline");
        for (source, file) in [
            ("telephony", "telephony/calls_2022-04.csv"),
            ("webforms", "webforms/forms_2024-25.csv"),
            ("satisfaction", "satisfaction/responses_2023-24.csv"),
            ("face_to_face", "face_to_face/visits_2022-23.xlsx"),
        ] {
            let def = pipeline.source(source).expect("source").clone();
            let path = data.join(file);
            let bytes = std::fs::read(&path).expect("sample file");
            let xlsx = file.ends_with(".xlsx");
            // A small copy of each source for the mutated pipelines to read.
            let rel = Path::new("sample_data").join(file);
            let small = if xlsx {
                bytes.clone()
            } else {
                head_lines(&bytes, 40)
            };
            let target = dir.path().join(&rel);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::write(&target, &small).expect("write sample");
            let raw = cex_insight::sources::read::open(&path, &def).expect("open sample");
            let df = raw.frame.clone().collect().expect("read sample");
            let headers = raw.headers.clone();
            let columns: Vec<Vec<Option<String>>> = headers
                .iter()
                .map(|h| {
                    df.column(h)
                        .expect("column")
                        .str()
                        .expect("text")
                        .iter()
                        .map(|v| v.map(str::to_string))
                        .collect()
                })
                .collect();
            let rows = (0..df.height())
                .map(|i| columns.iter().map(|c| c[i].clone()).collect())
                .collect();
            let files = if xlsx {
                vec![bytes]
            } else {
                vec![small, bytes]
            };
            pools.push(SourcePool {
                def,
                files,
                headers,
                rows,
                xlsx,
            });
        }
        Fixture {
            dir,
            pipeline,
            pools,
            sample_toml,
        }
    }

    /// The sample pipeline cut down to one source reading one file, into a lake of its own.
    fn pipeline_for(&self, source: &SourceDef, file: &Path, lake: &Path) -> Pipeline {
        let mut p = self.pipeline.clone();
        let mut def = source.clone();
        def.files = vec![file.to_string_lossy().into_owned()];
        p.sources = vec![def];
        p.lake_dir = lake.to_path_buf();
        p.quality.fail_reject_share = 1.0;
        p.quality.fail_on_unmapped_service = false;
        p
    }
}

fn head_lines(bytes: &[u8], lines: usize) -> Vec<u8> {
    let mut end = 0;
    for (n, _) in bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .take(lines)
    {
        end = n + 1;
    }
    bytes[..end].to_vec()
}

/// What went wrong with one case.
struct Failure {
    case: String,
    input: PathBuf,
    message: String,
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

/// Runs ingest on one pipeline; a panic becomes `Err("panic: ...")`, an ingest error `Ok(None)`.
fn run_ingest(p: &Pipeline, options: IngestOptions) -> Result<Option<IngestReport>, String> {
    match catch_unwind(AssertUnwindSafe(|| ingest(p, options))) {
        Ok(Ok(report)) => Ok(Some(report)),
        Ok(Err(e)) => {
            if std::env::var("CEX_FUZZ_VERBOSE").is_ok() {
                eprintln!("refused: {e}");
            }
            Ok(None)
        }
        Err(e) => Err(format!("panic: {}", panic_text(e))),
    }
}

/// Every file of a report reconciles and no count exceeds the rows read.
fn check_counts(report: &IngestReport) -> Result<(), String> {
    for f in &report.files {
        if f.status != FileStatus::Ingested {
            continue;
        }
        if !f.counts.reconciles()
            || f.counts.accepted > f.counts.rows_read
            || f.counts.rejected > f.counts.rows_read
            || f.counts.duplicates > f.counts.rows_read
        {
            return Err(format!(
                "{}: rows {} != accepted {} + rejected {} + duplicates {}",
                f.path,
                f.counts.rows_read,
                f.counts.accepted,
                f.counts.rejected,
                f.counts.duplicates
            ));
        }
    }
    Ok(())
}

/// Ingests one file three ways (dry run in memory, dry run streamed, a real commit) and checks
/// them against each other, against `expected_rows` when known, and against the lake and rejects.
fn check_file(
    fx: &Fixture,
    source: &SourceDef,
    file: &Path,
    expected_rows: Option<u64>,
    commit: bool,
    chunk_bytes: usize,
) -> Result<Outcome, String> {
    let checked = ingest_checked(fx, source, file, expected_rows, commit, chunk_bytes, None)?;
    Ok(checked.outcome())
}

/// What [`ingest_checked`] ran: the reports of the dry run in memory, the dry run streamed and
/// (when committed) the real run, in that order; none when the file was refused with an error.
struct Checked {
    reports: Vec<(&'static str, IngestReport)>,
    lake: PathBuf,
}

impl Checked {
    fn outcome(&self) -> Outcome {
        if self.reports.is_empty() {
            Outcome::Refused
        } else {
            Outcome::Read
        }
    }

    fn committed(&self) -> bool {
        self.reports.len() == 3
    }
}

/// [`check_file`] with the run's day fixed (`today`), returning the reports for further checks.
fn ingest_checked(
    fx: &Fixture,
    source: &SourceDef,
    file: &Path,
    expected_rows: Option<u64>,
    commit: bool,
    chunk_bytes: usize,
    today: Option<chrono::NaiveDate>,
) -> Result<Checked, String> {
    let case_dir = file.parent().expect("case dir");
    let lake = case_dir.join("lake");
    let p = fx.pipeline_for(source, file, &lake);
    let dry = |limit: u64, chunk_bytes: usize| {
        run_ingest(
            &p,
            IngestOptions {
                dry_run: true,
                in_memory_limit: limit,
                chunk_bytes,
                today,
            },
        )
    };
    let in_memory = dry(u64::MAX, 0)?;
    // Read in pieces of a few rows, or of a few thousand, so records cross piece boundaries.
    let streamed = dry(0, chunk_bytes)?;
    let counts = |r: &Option<IngestReport>| {
        r.as_ref().map(|r| {
            r.files
                .iter()
                .map(|f| {
                    (
                        f.counts.rows_read,
                        f.counts.accepted,
                        f.counts.rejected,
                        f.counts.duplicates,
                        f.counts.blank_rows,
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    if counts(&in_memory) != counts(&streamed) {
        return Err(format!(
            "in memory {:?} but streamed {:?}",
            counts(&in_memory),
            counts(&streamed)
        ));
    }
    let (Some(report), Some(streamed)) = (in_memory, streamed) else {
        // The file was refused with an error: allowed.
        return Ok(Checked {
            reports: Vec::new(),
            lake,
        });
    };
    check_counts(&report)?;
    if let Some(want) = expected_rows {
        let got: u64 = report.files.iter().map(|f| f.counts.rows_read).sum();
        if got != want {
            return Err(format!("{want} records written, {got} rows read"));
        }
    }
    let mut reports = vec![("in memory", report), ("streamed", streamed)];
    if !commit {
        return Ok(Checked { reports, lake });
    }
    let Some(written) = run_ingest(
        &p,
        IngestOptions {
            in_memory_limit: if commit_in_pieces(chunk_bytes) {
                0
            } else {
                u64::MAX
            },
            chunk_bytes,
            today,
            ..IngestOptions::default()
        },
    )?
    else {
        return Err("the dry run read the file but the real run failed".into());
    };
    if counts(&Some(written.clone())) != counts(&Some(reports[0].1.clone())) {
        return Err("the real run counted differently from the dry run".into());
    }
    let accepted: u64 = written.files.iter().map(|f| f.counts.accepted).sum();
    let rejected: u64 = written.files.iter().map(|f| f.counts.rejected).sum();
    let stored = lake_rows(&lake)?;
    let stored_contacts = if source.kind == cex_insight::config::SourceKind::CallIntervals {
        None // interval rows are stored one per outcome
    } else {
        Some(stored)
    };
    if stored_contacts.is_some_and(|s| s != accepted) {
        return Err(format!("{accepted} rows accepted, {stored} in the lake"));
    }
    let rejects = rejects_rows(&lake)?;
    if rejects != rejected {
        return Err(format!(
            "{rejected} rows rejected, {rejects} in the rejects file"
        ));
    }
    reports.push(("committed", written));
    Ok(Checked { reports, lake })
}

/// Half the committed runs read their file in pieces.
fn commit_in_pieces(chunk_bytes: usize) -> bool {
    chunk_bytes.is_multiple_of(2)
}

/// A piece size for reading a file of `len` bytes in pieces: from one to about 40 pieces, at
/// least a byte (then every line is a piece of its own, up to the 40).
fn chunk_size(rng: &mut Rng, len: usize) -> usize {
    (len / (1 + rng.below(40))).max(1 + rng.below(200))
}

/// How a case ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// Read (and reconciled).
    Read,
    /// Refused with an error.
    Refused,
}

fn parquet_under(dir: &Path, out: &mut Vec<PathBuf>, ext: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            parquet_under(&p, out, ext);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

fn lake_rows(lake: &Path) -> Result<u64, String> {
    let mut files = Vec::new();
    for table in ["contacts", "responses"] {
        parquet_under(&lake.join(table), &mut files, "parquet");
    }
    let mut n = 0;
    for f in files {
        let file = std::fs::File::open(&f).map_err(|e| e.to_string())?;
        n += ParquetReader::new(file)
            .finish()
            .map_err(|e| e.to_string())?
            .height() as u64;
    }
    Ok(n)
}

fn rejects_rows(lake: &Path) -> Result<u64, String> {
    let mut files = Vec::new();
    parquet_under(&lake.join("rejects"), &mut files, "csv");
    let mut n = 0;
    for f in files {
        // Written in the export's delimiter: the one after `cex_row` in the header.
        let text = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let separator = text
            .windows(8)
            .find(|w| w.starts_with(b"cex_row"))
            .map_or(b',', |w| w[7]);
        n += CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .map_parse_options(|o| o.with_separator(separator))
            .try_into_reader_with_file_path(Some(f.clone()))
            .and_then(|r| r.finish())
            .map_err(|e| format!("{}: {e}", f.display()))?
            .height() as u64;
    }
    Ok(n)
}

// ------------------------------------------------------------------------------------------------
// Well-formed CSV from real rows with mutated fields.

/// A field value for a generated row.
fn field(rng: &mut Rng, pool: &SourcePool, row: &[Option<String>], column: usize) -> Vec<u8> {
    let real = || row.get(column).cloned().flatten().unwrap_or_default();
    match rng.below(100) {
        0..=79 => real().into_bytes(),
        80..=89 => rng.pick(NASTY).to_vec(),
        90..=92 => Vec::new(),
        93 => {
            // A value from another column of another row.
            let other = rng.pick(&pool.rows);
            other
                .get(rng.below(other.len()))
                .cloned()
                .flatten()
                .unwrap_or_default()
                .into_bytes()
        }
        94 => {
            let len = if rng.chance(10) { 300_000 } else { 5_000 };
            let unit = rng
                .pick(&[&b"x"[..], b"\"", b",", b"\n", b"\xE9", b"ab"])
                .to_vec();
            unit.iter().copied().cycle().take(len).collect()
        }
        95..=97 => {
            let mut v = real().into_bytes();
            let at = rng.below(v.len() + 1);
            let extra = rng.pick(NASTY);
            v.splice(at..at, extra.iter().copied());
            v
        }
        _ => {
            let len = rng.below(20);
            (0..len).map(|_| rng.next() as u8).collect()
        }
    }
}

/// Writes one CSV field, quoted when it has to be.
fn push_field(out: &mut Vec<u8>, value: &[u8], delimiter: u8) {
    let needs = value
        .iter()
        .any(|b| *b == delimiter || *b == b'"' || *b == b'\n' || *b == b'\r');
    if needs {
        out.push(b'"');
        for b in value {
            if *b == b'"' {
                out.push(b'"');
            }
            out.push(*b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(value);
    }
}

/// A well-formed CSV file and the number of records in it that are not blank.
fn structured_csv(rng: &mut Rng, pool: &SourcePool, delimiter: u8) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    if rng.chance(30) {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let crlf = rng.chance(30);
    let newline = |out: &mut Vec<u8>, rng: &mut Rng| {
        if crlf || rng.chance(3) {
            out.extend_from_slice(b"\r\n");
        } else {
            out.push(b'\n');
        }
    };
    let width = pool.headers.len();
    for (i, h) in pool.headers.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        // Case and spacing of headers do not matter.
        let h = match rng.below(10) {
            0 => h.to_uppercase(),
            1 => format!(" {h} "),
            _ => h.clone(),
        };
        push_field(&mut out, h.as_bytes(), delimiter);
    }
    let n = match rng.below(20) {
        0 => 0,
        1 => 2_000 + rng.below(3_000),
        _ => rng.below(60),
    };
    let mut records = 0;
    let mut previous: Vec<Vec<u8>> = Vec::new();
    for _ in 0..n {
        newline(&mut out, rng);
        if rng.chance(3) {
            // A blank line, or a line of separators: not a record.
            if rng.chance(50) {
                out.extend(std::iter::repeat_n(delimiter, width - 1));
            }
            newline(&mut out, rng);
        }
        let fields: Vec<Vec<u8>> = if !previous.is_empty() && rng.chance(5) {
            previous.clone() // an exact duplicate
        } else {
            let row = rng.pick(&pool.rows).clone();
            let mutate = rng.chance(30);
            let mut len = width;
            if rng.chance(4) {
                len = 1 + rng.below(width); // too few fields: the rest read as blank
            } else if rng.chance(4) {
                len = width + 1 + rng.below(3); // too many: the extra ones are dropped
            }
            (0..len)
                .map(|c| {
                    if mutate || c >= width {
                        field(rng, pool, &row, c)
                    } else {
                        row.get(c)
                            .cloned()
                            .flatten()
                            .unwrap_or_default()
                            .into_bytes()
                    }
                })
                .collect()
        };
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(delimiter);
            }
            push_field(&mut out, f, delimiter);
        }
        // Fields beyond the header are dropped, so they do not make a row non-blank.
        if fields.iter().take(width).any(|f| !f.is_empty()) {
            records += 1;
        }
        previous = fields;
    }
    if rng.chance(70) {
        newline(&mut out, rng);
    }
    (out, records)
}

// ------------------------------------------------------------------------------------------------
// Byte-level mutation of real files.

fn mutate_bytes(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    if rng.chance(3) {
        let len = rng.below(2_000);
        return (0..len).map(|_| rng.next() as u8).collect();
    }
    let mut v = original.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(9) {
            0 if at < v.len() => v[at] ^= 1 << rng.below(8),
            1 if at < v.len() => {
                v[at] = *rng.pick(&[b'"', b',', b'\n', b'\r', 0, 0xFF, 0xEF, b';', b'\t'])
            }
            2 => {
                let extra = rng.pick(NASTY);
                v.splice(at..at, extra.iter().copied());
            }
            3 => {
                let end = (at + rng.below(200)).min(v.len());
                v.drain(at..end);
            }
            4 => {
                let end = (at + rng.below(500)).min(v.len());
                let copy = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, copy);
            }
            5 => v.truncate(at),
            6 => v
                .splice(0..0, b"\xEF\xBB\xBF".iter().copied())
                .for_each(drop),
            7 => {
                let len = rng.below(64);
                let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                v.splice(at..at, junk);
            }
            _ => {
                // Repeat one line many times (a file of duplicates).
                let start = v[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = v[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(v.len(), |p| at + p + 1);
                let line = v[start..end].to_vec();
                for _ in 0..rng.below(50) {
                    v.extend_from_slice(&line);
                }
            }
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// xlsx workbooks with cells of every type.

fn structured_xlsx(rng: &mut Rng, pool: &SourcePool, sheet: &str) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{ExcelDateTime, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(if rng.chance(5) { "Other" } else { sheet })
        .map_err(err)?;
    let offset = if rng.chance(20) {
        1 + rng.below(3) as u32
    } else {
        0
    };
    for (j, h) in pool.headers.iter().enumerate() {
        if rng.chance(2) {
            continue; // a missing header
        }
        ws.write_string(offset, j as u16, h).map_err(err)?;
    }
    let n = rng.below(40);
    for i in 0..n {
        let r = offset + 1 + i as u32;
        let row = rng.pick(&pool.rows).clone();
        for (j, value) in row.iter().enumerate() {
            let c = j as u16;
            match rng.below(20) {
                0 => {}
                1 => {
                    ws.write_number(r, c, f64::from_bits(rng.next()))
                        .map_err(err)?;
                }
                2 => {
                    ws.write_number(r, c, rng.below(200_000) as f64 / 7.0)
                        .map_err(err)?;
                }
                3 => {
                    ws.write_boolean(r, c, rng.chance(50)).map_err(err)?;
                }
                4 => {
                    let dt =
                        ExcelDateTime::from_serial_datetime(rng.below(3_000_000) as f64 / 37.0)
                            .map_err(err)?;
                    ws.write_datetime(r, c, &dt).map_err(err)?;
                }
                5 => {
                    ws.write_formula(r, c, "=1/0").map_err(err)?;
                }
                6 => {
                    let nasty: &&[u8] = rng.pick(NASTY);
                    let s = String::from_utf8_lossy(nasty).into_owned();
                    if !s.is_empty() {
                        ws.write_string(r, c, s).map_err(err)?;
                    }
                }
                _ => {
                    if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                        ws.write_string(r, c, v).map_err(err)?;
                    }
                }
            }
        }
    }
    wb.save_to_buffer().map_err(err)
}

// ------------------------------------------------------------------------------------------------
// Pipeline files.

/// Lines that are valid TOML but unusual values for the keys they set.
const ODD_LINES: &[&str] = &[
    "delimiter = \"\"",
    "delimiter = \"ab\"",
    "delimiter = \"\\\"\"",
    "delimiter = \"\\n\"",
    "delimiter = \"\\r\"",
    "delimiter = \";\"",
    "delimiter = \"tab\"",
    "delimiter = \"é\"",
    "encoding = \"utf-16\"",
    "encoding = \"windows-1252\"",
    "encoding = \"utf-8\"",
    "format = \"xlsx\"",
    "format = \"csv\"",
    "format = \"parquet\"",
    "sheet = \"\"",
    "sheet = \"Nope\"",
    "kind = \"call_intervals\"",
    "kind = \"contacts\"",
    "kind = \"satisfaction\"",
    "kind = \"nonsense\"",
    "durations = \"hh:mm:ss\"",
    "durations = \"minutes\"",
    "durations = \"fortnights\"",
    "timestamp_formats = [\"%\"]",
    "timestamp_formats = [\"%Q\"]",
    "timestamp_formats = [\"\"]",
    "timestamp_formats = []",
    "timestamp_formats = [\"%z\"]",
    "timestamp_formats = [\"%Y-%m-%dT%H:%M:%S%:z\", \"%d/%m/%Y\"]",
    "date_formats = [\"%H\"]",
    "time_formats = [\"%Y\"]",
    "files = \"[\"",
    "files = \"\"",
    "files = \"/\"",
    "files = [\"../sample_data/*/*\"]",
    "timezone = \"Mars/Base\"",
    "timezone = \"UTC\"",
    "timezone = \"\"",
    "lake = \"\"",
    "output = \"/dev/null\"",
    "name = \"\"",
    "organisation = \"\"",
    "suppression_threshold = -1",
    "suppression_threshold = 0",
    "confidence = 2",
    "confidence = 0",
    "confidence = nan",
    "service_level_seconds = -5",
    "warn_reject_share = inf",
    "fail_reject_share = -0.0",
    "interval_threshold_seconds = 0",
    "min_responses_to_rank = -3",
    "target_change_pct = nan",
    "baseline = \"2022/2\"",
    "baseline = \"\"",
    "applies_to = [\"9999/00\"]",
    "record_id = \"\"",
    "record_id = \"Nope\"",
    "timestamp = \"Queue\"",
    "category = \"Initiation Timestamp\"",
    "wait = []",
    "handle = [\"Queue Wait (s)\", \"Queue Wait (s)\"]",
    "lookup = \"nope.csv\"",
    "lookup = \"../sample_data/telephony/calls_2022-04.csv\"",
    "lookup = \"sample.toml\"",
    "when_blank = \"\"",
    "answered = []",
    "answered = [\"\"]",
    "rating_scale = \"nope\"",
    "comments = \"shout\"",
    "levels = []",
    "categories = []",
    "synonyms = { \"x\" = [\"y\"] }",
    "reference = { age_band = \"Nope\" }",
    "correction = \"bonferroni\"",
    "population = \"nope.csv\"",
    "breakdowns = [[]]",
    "breakdowns = [[\"age_band\", \"sex\", \"ethnicity\"]]",
    "[[sources]]",
    "[sources.columns]",
    "[kpi]",
    "[equality]",
    "[demographics.x]",
    "[[kpi.channel_shift]]",
];

fn mutate_toml(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(lines.len());
        match rng.below(8) {
            0 if !lines.is_empty() => {
                lines.remove(at);
            }
            1 if !lines.is_empty() => {
                let l = lines[at].clone();
                lines.insert(rng.below(lines.len() + 1), l);
            }
            2 | 3 => lines.insert(at, rng.pick(ODD_LINES).to_string()),
            4 if !lines.is_empty() => {
                // Replace a value with another key's value.
                if let Some((key, _)) = lines[at].clone().split_once('=') {
                    let other = rng.pick(ODD_LINES);
                    if let Some((_, value)) = other.split_once('=') {
                        lines[at] = format!("{key}={value}");
                    }
                }
            }
            5 => {
                let mut bytes = lines.join("\n").into_bytes();
                let i = rng.below(bytes.len());
                if i < bytes.len() {
                    bytes[i] = rng.next() as u8;
                }
                lines = String::from_utf8_lossy(&bytes)
                    .lines()
                    .map(str::to_string)
                    .collect();
            }
            6 => lines.truncate(at),
            _ if lines.len() > 1 => {
                let other = rng.below(lines.len());
                lines.swap(at, other);
            }
            _ => {}
        }
    }
    lines.join("\n")
}

// ------------------------------------------------------------------------------------------------

fn report(failures: Vec<Failure>, kind: &str, n: usize) {
    for f in &failures {
        eprintln!(
            "fuzz {kind} {}: {} (input kept at {})",
            f.case,
            f.message,
            f.input.display()
        );
    }
    if !failures.is_empty() {
        // Keep the inputs for whoever reproduces the failure.
        panic!("{} of {n} {kind} cases failed (see above)", failures.len());
    }
}

/// Runs `n` cases of one kind; each case writes its input into a folder of its own and returns
/// an error message on failure. Failing cases' folders are kept.
fn run_cases(
    kind: &str,
    n: usize,
    mut case: impl FnMut(&mut Rng, &Path) -> Result<Outcome, String>,
) {
    let mut failures = Vec::new();
    let mut read = 0;
    let seed = base_seed();
    for i in 0..n {
        let case_seed = seed.wrapping_add(i as u64);
        let mut rng = Rng::new(case_seed ^ fxhash(kind));
        let dir = tempfile::tempdir().expect("case dir");
        let result = catch_unwind(AssertUnwindSafe(|| case(&mut rng, dir.path())))
            .unwrap_or_else(|p| Err(format!("panic: {}", panic_text(p))));
        if result == Ok(Outcome::Read) {
            read += 1;
        }
        if let Err(message) = result {
            failures.push(Failure {
                case: format!("CEX_FUZZ_SEED={case_seed}"),
                input: dir.keep(),
                message,
            });
        }
    }
    eprintln!(
        "fuzz {kind}: {n} cases from seed {seed}, {read} read, {} refused with an error",
        n - read - failures.len()
    );
    report(failures, kind, n);
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn fuzz_well_formed_csv_rows_are_all_accounted_for() {
    let fx = Fixture::new();
    let csv_pools: Vec<&SourcePool> = fx.pools.iter().filter(|p| !p.xlsx).collect();
    run_cases("csv", cases(120), |rng, dir| {
        let pool = *rng.pick(&csv_pools);
        let delimiter = *rng.pick(b",,,;\t|");
        let (bytes, records) = structured_csv(rng, pool, delimiter);
        let bytes_len = bytes.len();
        let file = dir.join("export.csv");
        std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
        let mut def = pool.def.clone();
        def.delimiter = delimiter;
        let commit = rng.chance(25);
        let chunk = chunk_size(rng, bytes_len);
        match check_file(&fx, &def, &file, Some(records), commit, chunk)? {
            // Every header is there and every record well formed: refusing the file is a bug.
            Outcome::Refused => Err("a well-formed file was refused".into()),
            read => Ok(read),
        }
    });
}

#[test]
fn fuzz_mutated_export_bytes_never_panic() {
    let fx = Fixture::new();
    run_cases("bytes", cases(150), |rng, dir| {
        let pool = rng.pick(&fx.pools);
        let original = rng.pick(&pool.files);
        let bytes = mutate_bytes(rng, original);
        let bytes_len = bytes.len();
        let file = dir.join(if pool.xlsx {
            "export.xlsx"
        } else {
            "export.csv"
        });
        std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
        let commit = rng.chance(20);
        let chunk = chunk_size(rng, bytes_len);
        check_file(&fx, &pool.def, &file, None, commit, chunk)
    });
}

#[test]
fn fuzz_xlsx_cells_of_every_type_never_panic() {
    let fx = Fixture::new();
    let Some(pool) = fx.pools.iter().find(|p| p.xlsx) else {
        panic!("no xlsx source in the sample pipeline");
    };
    let sheet = pool.def.sheet.clone().unwrap_or_default();
    run_cases("xlsx", cases(40), |rng, dir| {
        let bytes = structured_xlsx(rng, pool, &sheet)?;
        let file = dir.join("export.xlsx");
        std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
        let commit = rng.chance(25);
        let chunk = 1 << 20; // workbooks are always read whole
        check_file(&fx, &pool.def, &file, None, commit, chunk)
    });
}

#[test]
fn fuzz_mutated_pipeline_files_load_or_fail_cleanly() {
    let fx = Fixture::new();
    let pipelines = fx.dir.path().join("pipelines");
    run_cases("pipeline", cases(120), |rng, dir| {
        let text = mutate_toml(rng, &fx.sample_toml);
        // Next to the real one, so its relative paths (lookups, sample data) resolve.
        let name = format!(
            "fuzz-{}.toml",
            dir.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let path = pipelines.join(&name);
        std::fs::write(&path, &text).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("pipeline.toml"), &text).map_err(|e| e.to_string())?;
        let loaded = catch_unwind(AssertUnwindSafe(|| Pipeline::load(&path)));
        let _ = std::fs::remove_file(&path);
        let pipeline = match loaded {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Ok(Outcome::Refused),
            Err(p) => return Err(format!("panic loading: {}", panic_text(p))),
        };
        // A pipeline that loads must also run (on the small samples) without panicking.
        let mut p = pipeline;
        p.lake_dir = dir.join("lake");
        p.output_dir = dir.join("out");
        if let Some(report) = run_ingest(
            &p,
            IngestOptions {
                dry_run: true,
                ..IngestOptions::default()
            },
        )? {
            check_counts(&report)?;
        }
        Ok(Outcome::Read)
    });
}

// ------------------------------------------------------------------------------------------------
// Hostile rows: every row the generator writes carries known defects, so each case checks the
// exact number of rows rejected for each reason, the Windows-1252 lines repaired, and (when the
// case is committed) the free text stored in the lake.

/// The run's day of the hostile cases, so dates near it are judged the same whenever they run.
fn hostile_today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 6, 15).expect("date")
}

/// Text with £ ’ – é and friends: each character is in Windows-1252 and outside ASCII.
const MONEY_TEXT: &[&str] = &[
    "Paid £120 – it’s café",
    "£5",
    "it’s",
    "10–12",
    "é",
    "Zoë’s £3.50 – naïve “quote”",
];

/// Values that must pass through any free-text or category field without a panic. None is blank
/// once trimmed (a category that is blank is a different case).
fn adversarial_text(rng: &mut Rng) -> String {
    const TEXT: &[&str] = &[
        "=cmd|' /C calc'!A0",
        "=HYPERLINK(\"http://example.com\",\"click\")",
        "+1+1",
        "-1+1",
        "@SUM(A1:A9)",
        "\t=1+2",
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "\u{202E}fdp.exe",
        "a\u{200B}b\u{200C}c\u{200D}d\u{FEFF}e\u{2060}",
        "ctrl\u{1}\u{2}\u{7}\u{8}\u{b}\u{c}\u{1b}[31mred",
        "nul\0byte",
        "\"quoted\", and, delimiters;|\there",
        "\"",
        "\"\"\"",
        "line\nbreak",
        "cr\r\nlf",
        "lone\rcr",
        "someone@example.com",
        "07700 900123",
        "+44 (0)7700 900123",
        "QQ123456C",
        "😀 emoji",
        "Łódź — ﬁ",
        "NULL",
        "  padded  ",
    ];
    match rng.below(12) {
        0 => "x".repeat(if rng.chance(20) { 100_000 } else { 5_000 }),
        1 => {
            let unit = *rng.pick(&["ab,", "\"", "é£", ";|\t", "\u{202E}"]);
            format!("z{}", unit.repeat(1 + rng.below(3_000)))
        }
        _ => rng.pick(TEXT).to_string(),
    }
}

/// A duration field's text and the reason a row with it is rejected (None: accepted).
const DURATIONS: &[(&str, Option<&str>)] = &[
    ("1e30", Some("implausible_duration")),
    ("NaN", Some("implausible_duration")),
    ("nan", Some("implausible_duration")),
    ("inf", Some("implausible_duration")),
    ("infinity", Some("implausible_duration")),
    ("1e309", Some("implausible_duration")),
    ("99999999999999999999", Some("implausible_duration")),
    ("86401", Some("implausible_duration")),
    ("86400.5", Some("implausible_duration")),
    ("86400", None),
    ("0", None),
    ("-0", None),
    ("1,000", None),
    ("-1", Some("negative_duration")),
    ("-inf", Some("negative_duration")),
    ("-1e30", Some("negative_duration")),
    ("12 seconds", Some("bad_number")),
    ("0x10", Some("bad_number")),
];

/// The order in which a row's defects are judged: the first failing check wins (see
/// `sources::map::canonical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    FieldCount,
    Reference,
    Date,
    Service,
    Duration,
}

/// The columns of a source the hostile generator writes into.
struct HostileColumns {
    id: usize,
    timestamp: usize,
    category: usize,
    /// A free-text column (location, device, comment).
    free: usize,
    /// Whether the free text is stored as it is (trimmed), so it can be checked in the lake.
    free_stored: Option<&'static str>,
    durations: Vec<usize>,
}

fn column_index(pool: &SourcePool, name: &str) -> Option<usize> {
    pool.headers
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
}

impl HostileColumns {
    fn of(pool: &SourcePool) -> Option<HostileColumns> {
        let cols = &pool.def.columns;
        let find = |name: &Option<String>| name.as_deref().and_then(|n| column_index(pool, n));
        let (free, free_stored) = if let Some(i) = find(&cols.location) {
            (i, Some(cex_insight::model::col::LOCATION))
        } else if let Some(i) = find(&cols.device) {
            (i, Some(cex_insight::model::col::DEVICE))
        } else {
            (find(&cols.comment)?, None)
        };
        Some(HostileColumns {
            id: find(&cols.record_id)?,
            timestamp: find(&cols.timestamp)?,
            category: find(&cols.category)?,
            free,
            free_stored,
            durations: cols
                .wait
                .iter()
                .chain(&cols.handle)
                .filter_map(|n| column_index(pool, n))
                .collect(),
        })
    }
}

/// The rows of a pool that are accepted as they are (run's day [`hostile_today`]), found by
/// committing the pool's first rows, each with an identifier of its own, and reading the lake.
fn clean_rows(fx: &Fixture, pool: &SourcePool, cols: &HostileColumns) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("clean.csv");
    let rows: Vec<Vec<String>> = pool
        .rows
        .iter()
        .take(800)
        .map(|r| r.iter().map(|v| v.clone().unwrap_or_default()).collect())
        .collect();
    let mut out = Vec::new();
    write_record(&mut out, &pool.headers, b',');
    for (i, row) in rows.iter().enumerate() {
        let mut row = row.clone();
        row[cols.id] = format!("{}-c{i}", row[cols.id].trim());
        out.push(b'\n');
        write_record(&mut out, &row, b',');
    }
    std::fs::write(&file, out).expect("write clean rows");
    let lake = dir.path().join("lake");
    let p = fx.pipeline_for(&pool.def, &file, &lake);
    let options = IngestOptions {
        today: Some(hostile_today()),
        ..IngestOptions::default()
    };
    ingest(&p, options).expect("ingest the sample rows");
    let keys = lake_text(&lake, None).expect("read the lake");
    let clean: Vec<Vec<String>> = rows
        .into_iter()
        .enumerate()
        .filter(|(i, r)| keys.contains_key(&format!("{}-c{i}", r[cols.id].trim())))
        .map(|(_, r)| r)
        .collect();
    assert!(
        clean.len() > 50,
        "{}: only {} sample rows accepted",
        pool.def.name,
        clean.len()
    );
    clean
}

fn write_record(out: &mut Vec<u8>, fields: &[String], delimiter: u8) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        push_field(out, f.as_bytes(), delimiter);
    }
}

/// Each stored row's `column` by record key (every key, with no text, when `column` is None).
fn lake_text(
    lake: &Path,
    column: Option<&str>,
) -> Result<std::collections::HashMap<String, Option<String>>, String> {
    use cex_insight::model::col as c;
    let mut files = Vec::new();
    for table in ["contacts", "responses"] {
        parquet_under(&lake.join(table), &mut files, "parquet");
    }
    let mut out = std::collections::HashMap::new();
    for f in files {
        let file = std::fs::File::open(&f).map_err(|e| e.to_string())?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(|e| format!("{}: {e}", f.display()))?;
        let keys = df
            .column(c::RECORD_KEY)
            .and_then(|k| k.str().cloned())
            .map_err(|e| e.to_string())?;
        let values = match column {
            Some(name) => Some(
                df.column(name)
                    .and_then(|k| k.str().cloned())
                    .map_err(|e| e.to_string())?,
            ),
            None => None,
        };
        for i in 0..df.height() {
            let key = keys.get(i).ok_or("a stored row has no record key")?;
            let value = values.as_ref().and_then(|v| v.get(i)).map(str::to_string);
            if out.insert(key.to_string(), value).is_some() {
                return Err(format!("record key {key:?} stored twice"));
            }
        }
    }
    Ok(out)
}

/// What a hostile file should read as.
#[derive(Debug, Default)]
struct Expected {
    /// Records that are not blank.
    records: u64,
    blank: u64,
    accepted: u64,
    duplicates: u64,
    rejects_by_reason: std::collections::BTreeMap<String, u64>,
    /// Free text of accepted rows as the lake should hold it (trimmed, blank as None), by key.
    stored_text: Vec<(String, Option<String>)>,
    /// Accepted rows with £ ’ – text, from UTF-8 lines and from Windows-1252 lines.
    money_utf8: u64,
    money_1252: u64,
}

/// The encoding label and repaired line count a CSV's bytes should be read with: lines that are
/// not UTF-8 are repaired when other lines are UTF-8 beyond ASCII; when none is, the whole file is
/// Windows-1252. A BOM is not part of the first line.
fn expected_encoding(bytes: &[u8]) -> (String, u64) {
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let (mut utf8, mut not_utf8) = (0u64, 0u64);
    for line in body.split(|b| *b == b'\n') {
        if line.is_ascii() {
            continue;
        }
        if std::str::from_utf8(line).is_ok() {
            utf8 += 1;
        } else {
            not_utf8 += 1;
        }
    }
    let kind = if bom { "utf-8 with BOM" } else { "utf-8" };
    match (not_utf8, utf8) {
        (0, _) => (kind.to_string(), 0),
        (_, 0) => ("windows-1252".to_string(), 0),
        (1, _) => (format!("{kind} (1 line windows-1252)"), 1),
        (n, _) => (format!("{kind} ({n} lines windows-1252)"), n),
    }
}

/// A date and time as a source's first timestamp format writes it (offsets as +0000).
fn format_date(def: &SourceDef, day: chrono::NaiveDate, two_digit_year: bool) -> String {
    let format = def
        .timestamp_formats
        .first()
        .cloned()
        .unwrap_or_else(|| "%Y-%m-%d %H:%M:%S".into());
    let format = if two_digit_year {
        format.replace("%Y", "%y")
    } else {
        format
    };
    day.and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc()
        .format(&format)
        .to_string()
}

/// A date field's text and the reason a row with it is rejected (None: accepted).
fn hostile_date(
    rng: &mut Rng,
    def: &SourceDef,
    quality: &cex_insight::config::QualityGates,
) -> (String, Option<&'static str>) {
    use chrono::NaiveDate;
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let latest = hostile_today() + chrono::Duration::days(i64::from(quality.future_days));
    let day = chrono::Duration::days(1);
    let earliest = quality.earliest_date;
    match rng.below(11) {
        0 => (String::new(), Some("missing_value")),
        1 => ("yesterday".into(), Some("bad_date")),
        2 => (
            format_date(def, ymd(24, 4, 5), false),
            Some("implausible_date"),
        ),
        3 => (
            format_date(def, ymd(1899, 12, 31), false),
            Some("implausible_date"),
        ),
        4 => (
            format_date(def, ymd(2099, 1, 1), false),
            Some("implausible_date"),
        ),
        5 => (
            format_date(def, ymd(2024, 4, 5), true),
            Some("implausible_date"),
        ),
        6 => (
            format_date(def, earliest - day, false),
            Some("implausible_date"),
        ),
        7 => (
            format_date(def, latest + day, false),
            Some("implausible_date"),
        ),
        8 => (format_date(def, earliest, false), None),
        9 => (format_date(def, latest, false), None),
        _ => (format_date(def, hostile_today(), false), None),
    }
}

/// A CSV file of hostile rows built from `clean` rows, and what it should read as. With `money`,
/// the first rows carry £ ’ – text, on a UTF-8 line and on a Windows-1252 line.
fn hostile_csv(
    rng: &mut Rng,
    pool: &SourcePool,
    def: &SourceDef,
    cols: &HostileColumns,
    clean: &[Vec<String>],
    quality: &cex_insight::config::QualityGates,
    money: bool,
) -> (Vec<u8>, Expected) {
    let delimiter = def.delimiter;
    let width = pool.headers.len();
    let mut expected = Expected::default();
    let mut out = Vec::new();
    if rng.chance(30) {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let crlf = rng.chance(30);
    let newline = |out: &mut Vec<u8>| {
        if crlf {
            out.extend_from_slice(b"\r\n");
        } else {
            out.push(b'\n');
        }
    };
    let mut header = Vec::new();
    write_record(&mut header, &pool.headers, delimiter);
    if rng.chance(30) {
        // A header with non-ASCII text saved by a Windows program.
        header = to_1252(&header).unwrap_or(header);
    }
    out.extend_from_slice(&header);
    let n = if rng.chance(7) {
        300 + rng.below(1_200)
    } else {
        1 + rng.below(60)
    };
    // The previous record's line and what became of it, for exact duplicates.
    let mut previous: Option<(Vec<u8>, Option<&'static str>)> = None;
    for i in 0..n {
        newline(&mut out);
        if rng.chance(3) {
            // A blank line, or a line of separators: not a record.
            if rng.chance(50) {
                out.extend(std::iter::repeat_n(delimiter, width - 1));
            }
            expected.blank += 1;
            newline(&mut out);
        }
        expected.records += 1;
        if let Some((line, outcome)) = previous.as_ref().filter(|_| rng.chance(3)) {
            out.extend_from_slice(line);
            match outcome {
                None => expected.duplicates += 1,
                Some(reason) => {
                    *expected
                        .rejects_by_reason
                        .entry(reason.to_string())
                        .or_default() += 1
                }
            }
            continue;
        }
        let mut fields = rng.pick(clean).clone();
        fields[cols.id] = format!("{}-{i}", fields[cols.id].trim());
        let mut reason: Option<(Stage, &'static str)> = None;
        let mut fail = |stage: Stage, r: &'static str| {
            if reason.is_none_or(|(s, _)| stage < s) {
                reason = Some((stage, r));
            }
        };
        // Free text: adversarial, or £ ’ – text on a UTF-8 or a Windows-1252 line.
        let mut windows_1252 = false;
        let mut money_line = false;
        match rng.below(100) {
            _ if money && i < 2 => {
                fields[cols.free] = MONEY_TEXT[0].to_string();
                windows_1252 = i == 1;
                money_line = true;
            }
            0..=9 => fields[cols.free] = adversarial_text(rng),
            10..=17 => {
                fields[cols.free] = rng.pick(MONEY_TEXT).to_string();
                money_line = true;
            }
            18..=23 => {
                fields[cols.free] = rng.pick(MONEY_TEXT).to_string();
                windows_1252 = true;
                money_line = true;
            }
            _ => {}
        }
        if rng.chance(8) {
            let (text, r) = hostile_date(rng, def, quality);
            fields[cols.timestamp] = text;
            if let Some(r) = r {
                fail(Stage::Date, r);
            }
        }
        if rng.chance(5) {
            fields[cols.category] = adversarial_text(rng);
            if fields[cols.category].trim().is_empty() {
                fields[cols.category] = "x".into();
            }
            fail(Stage::Service, "unmapped_service");
        } else if rng.chance(1) {
            fields[cols.category] = String::new();
            if def.service.when_blank.is_none() {
                fail(Stage::Service, "missing_value");
            }
        }
        if !cols.durations.is_empty() && rng.chance(10) {
            let (text, r) = *rng.pick(DURATIONS);
            fields[*rng.pick(&cols.durations)] = text.to_string();
            if let Some(r) = r {
                fail(Stage::Duration, r);
            }
        }
        let mut tail = String::new();
        match rng.below(100) {
            0..=3 => {
                // Too few fields (the reference, which is never blank, is always kept).
                fields.truncate(1 + rng.below(width - 1));
                fail(Stage::FieldCount, "wrong_field_count");
            }
            4..=7 => {
                // Too many, with something in an extra field.
                for _ in 0..1 + rng.below(3) {
                    fields.push(if rng.chance(50) {
                        String::new()
                    } else {
                        adversarial_text(rng)
                    });
                }
                let last = fields.len() - 1;
                fields[last] = rng.pick(&["x", "=1+1", "0", "£5"]).to_string();
                fail(Stage::FieldCount, "wrong_field_count");
            }
            8..=13 => {
                // Trailing empty fields: tolerated.
                let d = char::from(delimiter);
                tail = match rng.below(4) {
                    0 => d.to_string(),
                    1 => format!("{d}{d}"),
                    2 => format!("{d} {d}"),
                    _ => format!("{d}\"\""),
                };
            }
            14..=15 => {
                fields[cols.id] = if rng.chance(50) {
                    String::new()
                } else {
                    "  ".into()
                };
                fail(Stage::Reference, "missing_value");
            }
            _ => {}
        }
        let mut line = Vec::new();
        write_record(&mut line, &fields, delimiter);
        line.extend_from_slice(tail.as_bytes());
        if windows_1252 {
            // Falls back to UTF-8 when the row has a character Windows-1252 does not have.
            line = to_1252(&line).unwrap_or(line);
        }
        let outcome = reason.map(|(_, r)| r);
        match outcome {
            Some(r) => *expected.rejects_by_reason.entry(r.to_string()).or_default() += 1,
            None => {
                expected.accepted += 1;
                let text = fields[cols.free].trim();
                let text = (!text.is_empty()).then(|| text.to_string());
                expected.stored_text.push((fields[cols.id].clone(), text));
                if money_line {
                    if line.is_ascii() || std::str::from_utf8(&line).is_ok() {
                        expected.money_utf8 += 1;
                    } else {
                        expected.money_1252 += 1;
                    }
                }
            }
        }
        out.extend_from_slice(&line);
        previous = Some((line, outcome));
    }
    if rng.chance(70) {
        newline(&mut out);
    }
    (out, expected)
}

/// UTF-8 text as Windows-1252 bytes; None when it has a character Windows-1252 lacks.
fn to_1252(utf8: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(utf8).ok()?;
    let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
    (!lossy).then(|| bytes.into_owned())
}

/// The report of a hostile file against what its generator expects.
fn check_hostile(report: &IngestReport, expected: &Expected, bytes: &[u8]) -> Result<(), String> {
    let [f] = report.files.as_slice() else {
        return Err(format!("{} file reports for one file", report.files.len()));
    };
    let (encoding, repaired) = expected_encoding(bytes);
    let got = (
        f.counts.rows_read,
        f.counts.accepted,
        f.counts.duplicates,
        f.counts.blank_rows,
        &f.counts.rejects_by_reason,
        f.repaired_lines,
        f.encoding.as_str(),
    );
    let want = (
        expected.records,
        expected.accepted,
        expected.duplicates,
        expected.blank,
        &expected.rejects_by_reason,
        repaired,
        encoding.as_str(),
    );
    if got != want {
        return Err(format!(
            "(rows, accepted, duplicates, blank, rejects by reason, repaired lines, encoding) \
             {got:?}, expected {want:?}"
        ));
    }
    Ok(())
}

#[test]
fn fuzz_hostile_rows_are_classified_and_reconcile() {
    let fx = Fixture::new();
    let quality = fx.pipeline.quality;
    let pools: Vec<(&SourcePool, HostileColumns, Vec<Vec<String>>)> = fx
        .pools
        .iter()
        .filter(|p| !p.xlsx)
        .filter_map(|p| {
            let cols = HostileColumns::of(p)?;
            let clean = clean_rows(&fx, p, &cols);
            Some((p, cols, clean))
        })
        .collect();
    assert_eq!(pools.len(), 3, "telephony, web forms and satisfaction");
    let (mut money_utf8, mut money_1252) = (0u64, 0u64);
    // What the cases exercised, for the summary: rows by outcome, files by encoding.
    let mut seen: std::collections::BTreeMap<String, u64> = Default::default();
    let n = cases(80);
    run_cases("hostile", n, |rng, dir| {
        // Some cases commit £ ’ – text from both kinds of line and read it back.
        let money = rng.chance(10);
        let (pool, cols, clean) = loop {
            let pick = rng.pick(&pools);
            if !money || pick.1.free_stored.is_some() {
                break pick;
            }
        };
        let mut def = pool.def.clone();
        def.delimiter = *rng.pick(b",,,;\t|");
        let (bytes, expected) = hostile_csv(rng, pool, &def, cols, clean, &quality, money);
        let file = dir.join("export.csv");
        std::fs::write(&file, &bytes).map_err(|e| e.to_string())?;
        let commit = money || rng.chance(25);
        let chunk = chunk_size(rng, bytes.len());
        let today = Some(hostile_today());
        let checked = ingest_checked(
            &fx,
            &def,
            &file,
            Some(expected.records),
            commit,
            chunk,
            today,
        )?;
        if checked.outcome() == Outcome::Refused {
            return Err("a file of hostile rows was refused".into());
        }
        let mut count = |what: String, n: u64| *seen.entry(what).or_default() += n;
        for (how, report) in &checked.reports {
            check_hostile(report, &expected, &bytes).map_err(|e| format!("{how}: {e}"))?;
        }
        for (reason, n) in &expected.rejects_by_reason {
            count(format!("rejected {reason}"), *n);
        }
        count("accepted".into(), expected.accepted);
        count("duplicates".into(), expected.duplicates);
        count("blank".into(), expected.blank);
        let (encoding, _) = expected_encoding(&bytes);
        let kind = match encoding.split_once(" (") {
            Some((kind, _)) => format!("{kind} (some lines windows-1252)"),
            None => encoding,
        };
        count(format!("files {kind}"), 1);
        if let (true, Some(column)) = (checked.committed(), cols.free_stored) {
            let stored = lake_text(&checked.lake, Some(column))?;
            for (key, want) in &expected.stored_text {
                match stored.get(key.trim()) {
                    Some(got) if got == want => {}
                    got => {
                        return Err(format!(
                            "row {key}: {column} stored as {got:?}, written as {want:?}"
                        ))
                    }
                }
            }
            money_utf8 += expected.money_utf8;
            money_1252 += expected.money_1252;
        }
        Ok(Outcome::Read)
    });
    eprintln!("fuzz hostile: {seen:?}");
    eprintln!(
        "fuzz hostile: £ ’ – text read back from the lake on {money_utf8} UTF-8 lines and \
         {money_1252} Windows-1252 lines"
    );
    assert!(
        n < 40 || (money_utf8 > 0 && money_1252 > 0),
        "no £ ’ – text was read back from the lake"
    );
}

/// A BOM and Windows-1252 lines: the same label whether the file is read in memory or in pieces.
#[test]
fn a_bom_and_windows_1252_lines_are_labelled_the_same_streamed() {
    let fx = Fixture::new();
    let Some(pool) = fx.pools.iter().find(|p| p.def.name == "telephony") else {
        panic!("no telephony source in the sample pipeline");
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("export.csv");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(pool.headers.join(",").as_bytes());
    bytes.extend_from_slice(
        b"\nC1,WASTE_Bins,2022-04-01T08:30:58+01:00,Answered,63,100,43,Y,Caf\xE9 \xA35,Withheld",
    );
    // Empty fields for the columns after the caller's number (the wrap-up code).
    bytes.extend(std::iter::repeat_n(
        b',',
        pool.headers.len().saturating_sub(10),
    ));
    bytes.push(b'\n');
    std::fs::write(&file, &bytes).expect("write");
    let p = fx.pipeline_for(&pool.def, &file, &dir.path().join("lake"));
    let read = |in_memory_limit: u64| {
        let options = IngestOptions {
            dry_run: true,
            in_memory_limit,
            chunk_bytes: 1 << 20,
            today: Some(hostile_today()),
        };
        let report = ingest(&p, options).expect("ingest");
        let f = &report.files[0];
        (f.encoding.clone(), f.repaired_lines, f.counts.accepted)
    };
    let want = ("windows-1252".to_string(), 0, 1);
    assert_eq!(read(u64::MAX), want, "in memory");
    assert_eq!(read(0), want, "streamed");
}
