//! Protection across the publications of a financial year: the survey tables of a monthly run
//! count the year to date, so February's and March's publications, subtracted, give March's
//! respondents alone, and a cohort's difference of 1 to 9 is as disclosive as a printed 4.
//!
//! Each publication's cube (cohorts, true counts, what was printed, the sums linking them) is
//! kept as a [`Release`] in the output's owner-only folder once it goes out. A new publication
//! of the same year is protected in one cube with the others ([`link`]): the cells of each
//! release are told apart by a [`RELEASE`] pair in their keys and fixed as published, and each
//! cohort of two releases is linked by its difference: `later = earlier + difference`. A
//! difference a reader can work out (both counts printed) is a count like any other: from 1 to
//! below the threshold it is blank by the first rule, so the new release hides what it must. A
//! cohort of one month (a key with a month), or of the same months again, with the same count in
//! both, is the same cohort: a reader takes them as equal. Every release of the year comes
//! whole (its blanks are unknowns of the same cube), and a difference between releases further
//! apart is a count to protect like one between neighbours.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{Key, Model, State, Stored};

/// The dimension telling releases apart in a cube holding several.
pub const RELEASE: &str = "*release*";

/// The version of the kept [`Release`] layout.
pub const FORMAT: u32 = 1;

/// A publication as kept after it went out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub format: u32,
    /// The period label (`2025-03`, `2024/25`).
    pub period: String,
    /// The last month (year, month) its year-to-date counts cover.
    pub last_month: (i32, i8),
    /// The lake version its figures were read from.
    pub lake_version: Option<i64>,
    pub cube: Stored,
}

/// Which publication a cube is: its period, last month and lake version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseId {
    pub period: String,
    pub last_month: (i32, i8),
    pub lake_version: Option<i64>,
}

impl ReleaseId {
    /// The tag its cells carry in a cube of several releases.
    pub fn tag(&self) -> String {
        match self.lake_version {
            Some(v) => format!("{} (lake version {v})", self.period),
            None => self.period.clone(),
        }
    }

    /// Releases in the order a reader sees their counts grow: by the months they cover, then
    /// by the data they read.
    fn order(&self) -> ((i32, i8), i64) {
        (self.last_month, self.lake_version.unwrap_or(-1))
    }
}

impl Release {
    pub fn id(&self) -> ReleaseId {
        ReleaseId {
            period: self.period.clone(),
            last_month: self.last_month,
            lake_version: self.lake_version,
        }
    }
}

/// One release in a cube: its id and, per cohort (key without the release tag), its cell.
struct InCube {
    id: ReleaseId,
    cells: HashMap<Key, usize>,
}

/// Adds the other releases of the year to `model` (whose first `own` cells are the new release
/// `this`, already tagged) and links each cohort across releases; returns how many difference
/// cells a reader can work out between the new release and another.
///
/// Every release comes whole: its blanks are unknowns tied to the others by every sum, so the
/// audit bounds them all together, as a reader holding every publication of the year would.
/// Releases next to each other in time are linked cohort by cohort (`later = earlier +
/// difference`, a difference never below 0: a count only grows). A difference between two
/// releases further apart is the sum of those between them; it is a cell of its own only where
/// it is a count to protect (from 1 to below `threshold`), as the reader subtracts January from
/// March directly. (Before, only the release next to the new one came whole: the independent
/// attacker then narrowed 184 counts of the reduced sample's March beside January and
/// February, 59 of them January-to-March differences.)
pub fn link(
    model: &mut Model,
    own: usize,
    this: &ReleaseId,
    others: &[Release],
    threshold: i64,
) -> usize {
    let untagged = |key: &Key| {
        let mut k = key.clone();
        k.remove(RELEASE);
        k
    };
    let mut sorted: Vec<&Release> = others.iter().collect();
    sorted.sort_by_key(|r| r.id().order());
    let at = sorted
        .iter()
        .position(|r| r.id().order() > this.order())
        .unwrap_or(sorted.len());
    let mut cubes: Vec<InCube> = Vec::with_capacity(sorted.len() + 1);
    for r in &sorted[..at] {
        cubes.push(whole(model, r));
    }
    cubes.push(InCube {
        id: this.clone(),
        cells: (0..own)
            .map(|i| (untagged(&model.cells[i].key), i))
            .collect(),
    });
    for r in &sorted[at..] {
        cubes.push(whole(model, r));
    }
    let mut known = 0;
    for j in 1..cubes.len() {
        for i in (0..j).rev() {
            let all = i + 1 == j;
            let counted = differences(model, &cubes[i], &cubes[j], all, threshold);
            if i == at || j == at {
                known += counted;
            }
        }
    }
    known
}

/// A kept release placed in `model` whole, tagged as itself.
fn whole(model: &mut Model, r: &Release) -> InCube {
    let id = r.id();
    let placed = model.add_stored(&r.cube, RELEASE, &id.tag());
    InCube {
        cells: r
            .cube
            .cells
            .iter()
            .zip(placed)
            .map(|(c, i)| (c.key.clone(), i))
            .collect(),
        id,
    }
}

/// Links each cohort of two releases: `later = earlier` for the same respondents with the same
/// count, `later = earlier + difference` for a difference from 1 to below `threshold` (a count
/// to protect), and otherwise `earlier <= later`. With `all` false (releases not next to each
/// other, already linked through those between) only the counts to protect are added. Returns
/// how many differences a reader can work out (both counts printed).
fn differences(
    model: &mut Model,
    earlier: &InCube,
    later: &InCube,
    all: bool,
    threshold: i64,
) -> usize {
    let tag = format!("{} to {}", earlier.id.tag(), later.id.tag());
    let same_months = earlier.id.last_month == later.id.last_month;
    let mut pairs: Vec<(&Key, usize, usize)> = earlier
        .cells
        .iter()
        .filter_map(|(key, a)| later.cells.get(key).map(|b| (key, *a, *b)))
        .collect();
    pairs.sort_by_key(|(_, a, b)| (*a, *b));
    let mut known = 0;
    for (key, a, b) in pairs {
        let (ca, cb) = (&model.cells[a], &model.cells[b]);
        if ca.state == State::Unprinted && cb.state == State::Unprinted {
            continue;
        }
        let (va, vb) = (ca.value, cb.value);
        if vb < va {
            // Fewer now (answers withdrawn or corrected): no sum a reader can rely on.
            continue;
        }
        let printed = ca.state == State::Published && cb.state == State::Published;
        // Both already out: what a reader works out from them is out too.
        let settled = ca.fixed && cb.fixed && printed;
        let one_cohort = same_months || key.contains_key(crate::model::col::MONTH);
        if one_cohort && va == vb {
            // The same respondents: a reader takes one count for the other.
            if all {
                model.relate(b, vec![a]);
            }
            continue;
        }
        if printed {
            known += 1;
        }
        if settled {
            continue;
        }
        if !(1..threshold).contains(&(vb - va)) {
            // Nothing to protect in it (none, or a count at least the threshold): all a reader
            // takes from it is that the count did not fall.
            if all {
                model.below.push((a, b));
            }
            continue;
        }
        let mut k = key.clone();
        k.insert(RELEASE.into(), tag.clone());
        let state = if printed {
            State::Published
        } else {
            State::Unprinted
        };
        let d = model.add(k, vb - va, state, false);
        model.relate(b, vec![a, d]);
        model.differences.push((d, a, b));
    }
    known
}

/// Where the releases of a financial year are kept: one file per publication,
/// `<period folder>@<lake version>.json`.
pub fn file_name(id: &ReleaseId, folder: &str) -> String {
    match id.lake_version {
        Some(v) => format!("{folder}@{v}.json"),
        None => format!("{folder}.json"),
    }
}

/// Every release kept in `dir` (none when it does not exist). A file that cannot be read is an
/// error: publishing as if it were not there could expose what it protects.
pub fn load_all(dir: &std::path::Path) -> anyhow::Result<Vec<Release>> {
    use anyhow::Context;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut paths: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the kept publication {}", path.display()))?;
        let release: Release = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a publication record this version can read: restore it from a backup (delete it only if that publication never went out)",
                path.display()
            )
        })?;
        if release.format != FORMAT {
            anyhow::bail!(
                "{} was kept in record format {} (this version reads {FORMAT}): restore it, or run the version that wrote it",
                path.display(),
                release.format
            );
        }
        out.push(release);
    }
    Ok(out)
}

/// Keeps `release` in `dir` (created owner-only) as `name`, owner-only, in one rename.
pub fn save(dir: &std::path::Path, name: &str, release: &Release) -> anyhow::Result<()> {
    use anyhow::Context;
    crate::lake::owner_only_dir(dir)
        .with_context(|| format!("cannot create the restricted folder {}", dir.display()))?;
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    let text = serde_json::to_string(release)?;
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&partial)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&partial, &path)
    };
    write().with_context(|| format!("cannot keep the publication record {}", path.display()))
}
