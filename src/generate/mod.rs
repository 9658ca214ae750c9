//! Seeded sample data for a fictional "Example City Council", 2022/23 to 2024/25: four vendor exports.
//! Owns `generate()`: plans the files, writes them in parallel (streaming) and writes expected_counts.json.

mod calendar;
mod customers;
mod defects;
mod out;
mod rng;
mod satisfaction;
mod telephony;
mod visits;
mod vocab;
mod volume;
mod webforms;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;

use calendar::{fy_file_label, Calendar, YEARS};
use defects::{defect_sizes, Plan, Reject, Tally};
use rng::{label, Rng};
use volume::{Source, Volumes};

/// What to generate and where.
pub struct GenerateOptions {
    /// Folder the sources and `expected_counts.json` are written into (created if missing).
    pub out_dir: std::path::PathBuf,
    /// Same seed, same options: byte-identical output on every platform (42 by convention).
    pub seed: u64,
    /// Total call records over the three years; None = the small shipped sample (about 6,000 calls a year).
    pub calls: Option<u64>,
    /// Inject the deliberate defects (default true).
    pub defects: bool,
}

/// One data file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// `out_dir` joined with the file's relative path.
    pub path: std::path::PathBuf,
    /// `telephony`, `face_to_face`, `webforms` or `satisfaction`.
    pub source: String,
    /// Data records (not the header, not blank lines; a multi-line quoted record counts once).
    pub rows: u64,
    pub bytes: u64,
}

/// The data files written, sorted by path (`expected_counts.json` is not among them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    pub files: Vec<GeneratedFile>,
}

/// Calls over three years in the shipped sample.
const SAMPLE_CALLS: u64 = 18_000;
/// Most rows one visits workbook holds: rust_xlsxwriter keeps a sheet in memory (about
/// 1.3 KB a row), so bigger years are split to keep memory bounded (Excel's own limit is 1,048,576).
const XLSX_MAX_ROWS: u64 = 250_000;
/// The month whose telephony export is sent twice.
const RESENT_MONTH: (i32, u32) = (2024, 1);

/// Everything the writers share: read-only, so tasks run in parallel without locks.
pub(crate) struct World {
    pub seed: u64,
    pub defects: bool,
    pub cal: Calendar,
    pub vol: Volumes,
    /// Returning customers' pools, for the identifier columns.
    pub pools: customers::Pools,
}

impl World {
    /// Which rows of the job's file are spoiled or repeated.
    pub(crate) fn plan(&self, job: &Job, kinds: &[Reject]) -> Plan {
        if !self.defects {
            return Plan::none();
        }
        let mut rng = self.job_rng(job, 0);
        Plan::new(&mut rng, job.eligible.clone(), kinds, job.first_kind)
    }

    /// Randomness for the bad values themselves, apart from the row streams so a spoiled row
    /// does not change the rows after it.
    pub(crate) fn defect_rng(&self, job: &Job) -> Rng {
        self.job_rng(job, 1)
    }

    fn job_rng(&self, job: &Job, purpose: u64) -> Rng {
        Rng::stream(
            self.seed,
            &[label::DEFECTS, job.source.label(), job.file_no, purpose],
        )
    }
}

/// One output file to write.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub source: Source,
    /// Relative path with `/` separators.
    pub rel_path: String,
    /// Days whose rows the file holds, in order.
    pub days: Range<usize>,
    /// Financial year (0-2) of the file's first day.
    pub fy: usize,
    /// The first rows repeat the end of the previous file (the overlapping export day).
    pub seen_before: u64,
    /// Row positions that may carry defects.
    pub eligible: Range<u64>,
    /// Number of the file within its source, for its random streams.
    pub file_no: u64,
    /// Where this file starts in the source's cycle of reject reasons.
    pub first_kind: u64,
}

#[derive(Serialize)]
struct Expected<'a> {
    seed: u64,
    files: Vec<ExpectedFile<'a>>,
}

#[derive(Serialize)]
struct ExpectedFile<'a> {
    path: &'a str,
    source: &'static str,
    rows: u64,
    rejects: &'a BTreeMap<&'static str, u64>,
    duplicates: u64,
    resent_of: Option<&'a str>,
}

/// One written file and what it holds.
struct Written {
    rel_path: String,
    source: Source,
    tally: Tally,
    bytes: u64,
    resent_of: Option<String>,
}

/// Writes the sample into `opts.out_dir` and returns the data files written, in path order.
///
/// Layout (paths relative to `out_dir`, `/`-separated):
/// - `telephony/calls_YYYY-MM.csv` (36) and `telephony/calls_2024-01_resent.csv`
/// - `face_to_face/visits_YYYY-YY.xlsx` (3; split into `_partNN` workbooks past 250,000 rows)
/// - `webforms/forms_YYYY-YY.csv` (3) and `satisfaction/responses_YYYY-YY.csv` (3)
/// - `expected_counts.json`: rows, rejects by reason and duplicates of every data file
///
/// The same options always give byte-identical files. Files of these names left in those
/// folders by an earlier run are removed first. `defects: false` leaves out the spoiled and
/// repeated rows; the vendors' quirks (BOM, overlapping export day, re-sent file, header
/// changes, trailing separators, blank lines, Windows-1252) stay, as they are the formats.
pub fn generate(opts: &GenerateOptions) -> anyhow::Result<GenerateSummary> {
    let calls = opts.calls.unwrap_or(SAMPLE_CALLS);
    let cal = Calendar::new()?;
    let vol = Volumes::new(&cal, opts.seed, calls);
    let pools = customers::Pools::new(opts.seed, cal.days.len(), &vol);
    let world = World {
        seed: opts.seed,
        defects: opts.defects,
        cal,
        vol,
        pools,
    };
    let jobs = plan_jobs(&world)?;
    prepare_dirs(&opts.out_dir)?;

    let mut written: Vec<Written> = jobs
        .par_iter()
        .with_max_len(1)
        .map(|job| {
            let path = opts.out_dir.join(&job.rel_path);
            let (tally, bytes) = match job.source {
                Source::Telephony => telephony::write(&world, job, &path),
                Source::FaceToFace => visits::write(&world, job, &path),
                Source::Webforms => webforms::write(&world, job, &path),
                Source::Satisfaction => satisfaction::write(&world, job, &path),
            }
            .with_context(|| format!("writing {}", path.display()))?;
            Ok(Written {
                rel_path: job.rel_path.clone(),
                source: job.source,
                tally,
                bytes,
                resent_of: None,
            })
        })
        .collect::<Result<_>>()?;

    written.push(resend(&opts.out_dir, &written)?);
    written.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    write_expected(opts, &written)?;

    Ok(GenerateSummary {
        files: written
            .into_iter()
            .map(|w| GeneratedFile {
                path: opts.out_dir.join(&w.rel_path),
                source: w.source.name().to_string(),
                rows: w.tally.rows,
                bytes: w.bytes,
            })
            .collect(),
    })
}

/// Every file of every source, largest first so the slow workbooks start early.
fn plan_jobs(world: &World) -> Result<Vec<Job>> {
    let cal = &world.cal;
    let vol = &world.vol;
    let mut jobs = Vec::new();

    for (m, month) in cal.months.iter().enumerate() {
        // The export window runs to the end of the next month's first day.
        let overlap = usize::from(m + 1 < cal.months.len());
        let seen_before = if m == 0 {
            0
        } else {
            vol.count(Source::Telephony, month.days.start)
        };
        jobs.push(Job {
            source: Source::Telephony,
            rel_path: format!("telephony/calls_{:04}-{:02}.csv", month.year, month.month),
            days: month.days.start..month.days.end + overlap,
            fy: cal.days[month.days.start].fy,
            seen_before,
            eligible: seen_before..vol.sum(Source::Telephony, month.days.clone()),
            file_no: m as u64,
            first_kind: 0,
        });
    }

    for fy in 0..YEARS {
        let days = cal.fy_days(fy);
        for source in [Source::Webforms, Source::Satisfaction] {
            let (dir, stem) = match source {
                Source::Webforms => ("webforms", "forms"),
                _ => ("satisfaction", "responses"),
            };
            jobs.push(Job {
                source,
                rel_path: format!("{dir}/{stem}_{}.csv", fy_file_label(fy)),
                days: days.clone(),
                fy,
                seen_before: 0,
                eligible: 0..vol.sum(source, days.clone()),
                file_no: fy as u64,
                first_kind: 0,
            });
        }
        let parts = split_days(vol, days.clone())?;
        let width = parts.len().to_string().len().max(2);
        for (p, part) in parts.iter().enumerate() {
            let rel_path = if parts.len() == 1 {
                format!("face_to_face/visits_{}.xlsx", fy_file_label(fy))
            } else {
                format!(
                    "face_to_face/visits_{}_part{:0width$}.xlsx",
                    fy_file_label(fy),
                    p + 1
                )
            };
            jobs.push(Job {
                source: Source::FaceToFace,
                rel_path,
                days: part.clone(),
                fy,
                seen_before: 0,
                eligible: 0..vol.sum(Source::FaceToFace, part.clone()),
                file_no: (fy * 1000 + p) as u64,
                first_kind: 0,
            });
        }
    }

    // Deal reject reasons across a source's files in path order, continuing the cycle.
    jobs.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let mut dealt: BTreeMap<Source, u64> = BTreeMap::new();
    for job in &mut jobs {
        let next = dealt.entry(job.source).or_insert(0);
        job.first_kind = *next;
        *next += defect_sizes(job.eligible.end - job.eligible.start).0;
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(cost(vol, j)));
    Ok(jobs)
}

/// Rough relative cost of a job, for ordering: a workbook row costs several CSV rows.
fn cost(vol: &Volumes, job: &Job) -> u64 {
    let rows = vol.sum(job.source, job.days.clone());
    match job.source {
        Source::FaceToFace => rows * 8,
        _ => rows,
    }
}

/// Splits a year's days into runs of whole days, as even as possible, of at most
/// XLSX_MAX_ROWS visits each.
fn split_days(vol: &Volumes, days: Range<usize>) -> Result<Vec<Range<usize>>> {
    let total = vol.sum(Source::FaceToFace, days.clone());
    let mut parts = total.div_ceil(XLSX_MAX_ROWS).max(1);
    loop {
        // Cut before the day on which the running total passes the next k/parts of the year.
        let mut runs = Vec::new();
        let mut start = days.start;
        let mut rows = 0;
        for d in days.clone() {
            let cut = runs.len() as u64 + 1;
            if cut < parts && d > start && rows >= cut * total / parts {
                runs.push(start..d);
                start = d;
            }
            rows += vol.count(Source::FaceToFace, d);
        }
        runs.push(start..days.end);
        if runs
            .iter()
            .all(|r| vol.sum(Source::FaceToFace, r.clone()) <= XLSX_MAX_ROWS)
        {
            return Ok(runs);
        }
        if parts >= days.len() as u64 {
            bail!("too many visits a day to fit {XLSX_MAX_ROWS} rows in one workbook; ask for fewer calls");
        }
        parts += 1;
    }
}

/// Creates the source folders and removes files of ours left by an earlier run (for example
/// workbook parts a bigger run split a year into), so the folder holds exactly this run.
fn prepare_dirs(out_dir: &Path) -> Result<()> {
    let ours = [
        ("telephony", "calls_", ".csv"),
        ("face_to_face", "visits_", ".xlsx"),
        ("webforms", "forms_", ".csv"),
        ("satisfaction", "responses_", ".csv"),
    ];
    for (dir, prefix, ext) in ours {
        let dir = out_dir.join(dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with(prefix) && name.ends_with(ext) && path.is_file() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove stale {}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// The vendor sent one month twice: a byte-identical copy under another name.
fn resend(out_dir: &Path, written: &[Written]) -> Result<Written> {
    let (y, m) = RESENT_MONTH;
    let original = format!("telephony/calls_{y:04}-{m:02}.csv");
    let copy = format!("telephony/calls_{y:04}-{m:02}_resent.csv");
    let Some(orig) = written.iter().find(|w| w.rel_path == original) else {
        bail!("{original} was not generated, so it cannot be re-sent");
    };
    let bytes = std::fs::copy(out_dir.join(&original), out_dir.join(&copy))
        .with_context(|| format!("cannot copy {original} to {copy}"))?;
    Ok(Written {
        rel_path: copy,
        source: Source::Telephony,
        // Ingest skips the copy whole (same content hash), so nothing in it is rejected or
        // counted as a duplicate row; only its row count is reported.
        tally: Tally {
            rows: orig.tally.rows,
            ..Tally::default()
        },
        bytes,
        resent_of: Some(original),
    })
}

fn write_expected(opts: &GenerateOptions, written: &[Written]) -> Result<()> {
    let expected = Expected {
        seed: opts.seed,
        files: written
            .iter()
            .map(|w| ExpectedFile {
                path: &w.rel_path,
                source: w.source.name(),
                rows: w.tally.rows,
                rejects: &w.tally.rejects,
                duplicates: w.tally.duplicates,
                resent_of: w.resent_of.as_deref(),
            })
            .collect(),
    };
    let mut json = serde_json::to_vec_pretty(&expected)?;
    json.push(b'\n');
    let path = opts.out_dir.join("expected_counts.json");
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))
}
