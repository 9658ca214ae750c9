//! Disclosure control over a whole publication: every table derived from survey responses (KPI
//! satisfaction tables and equality tables alike) is protected together, as linked tables.
//!
//! 1. The tables' [`Counts`](crate::tables::counts::Counts) layouts give one cube of respondent
//!    cells and the sums linking them ([`model`]).
//! 2. Primary suppression: every count from 1 to below the threshold is blank (a true 0 is
//!    printed: it says "none").
//! 3. Secondary suppression by cheapest cover: for each primary cell, finest first, a linear
//!    programme finds the changes to every count that keep every relation and every count
//!    non-negative and move the cell by the threshold, at least cost (a count's cost is its size,
//!    four times more per level of total above the finest, far more for a count printed only
//!    through a derived figure; blank cells move free). The printed counts that move are
//!    blanked: a reader can then no longer tell the cell from one the threshold larger. Every
//!    blank cell is then audited ([`audit::bounds`]: the tightest bounds anyone can prove from
//!    everything printed, across tables) and any still narrower than the threshold gets a cover
//!    too, until none is. Blanking more only widens intervals, so the last audit is the verdict.
//! 4. Every figure derived from a blank count (shares, percentages, intervals, comparisons) is
//!    blanked with it; each row says which of its cells are blank and why.
//!
//! The verdict (cells, relations, the narrowest interval, any cell left unprotected) is
//! [`Audit`], written beside the publication as `disclosure-audit.json`.

pub mod audit;
pub mod model;
pub mod releases;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use serde::Serialize;

use crate::tables::Table;
use audit::{bounds, Components};
use model::{Model, State};
use releases::{Release, ReleaseId, RELEASE};

/// The file the verdict is written to, beside the tables.
pub const AUDIT_FILE: &str = "disclosure-audit.json";

/// Column listing a row's blank cells.
pub const SUPPRESSED: &str = crate::tables::contract::column::SUPPRESSED;
/// Column saying why they are blank.
pub const SUPPRESSION: &str = crate::tables::contract::column::SUPPRESSION;

/// Why a cell is blank, as a reader is told.
pub fn primary_label(threshold: i64) -> String {
    format!("fewer than {threshold} responses")
}

/// Why a cell that is not small is blank.
pub const SECONDARY_LABEL: &str = "hidden so that another group cannot be worked out";

/// Why a count column of a row is blank, read from its `suppression` text: `Some(true)` for a
/// small count, `Some(false)` for one hidden to protect another, `None` when it is not blank
/// for either (printed, or blank only because it is derived from a blank count).
pub fn why_blank(suppression: &str, column: &str) -> Option<bool> {
    for part in suppression.split("; ") {
        if let Some((label, columns)) = part.split_once(": ") {
            if columns.split(", ").any(|c| c == column) {
                return Some(label != SECONDARY_LABEL);
            }
        }
    }
    None
}

/// One blank count and what a reader can prove about it.
#[derive(Debug, Clone, Serialize)]
pub struct HiddenCell {
    pub table: String,
    /// Data row of the table (0 is the first row under the header).
    pub row: usize,
    pub column: String,
    /// `primary` (a small count) or `secondary` (hidden to protect one).
    pub rule: &'static str,
    /// How the cell was shown safe: `bounds` (the tightest bounds a reader can prove, below) or
    /// `witness` (other counts a reader cannot tell from the true ones put it at least the
    /// threshold away: its bounds were not worked out, and the witness is not published).
    pub proof: &'static str,
    /// `None` for a witness.
    pub lower: Option<i64>,
    /// `None`: no upper bound can be proved (or a witness).
    pub upper: Option<i64>,
}

/// The verdict on a publication.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub threshold: i64,
    /// Tables with respondent counts, protected together.
    pub tables: Vec<String>,
    /// Distinct respondent cohorts printed or implied.
    pub cells: usize,
    pub primary: usize,
    pub secondary: usize,
    /// Sums linking cells (within and across tables) that a reader can use.
    pub relations: usize,
    /// Width of the narrowest interval a reader can prove for a blank cell (`None`: no blank
    /// cell, or none bounded).
    pub narrowest_interval: Option<i64>,
    /// Blank cells a reader can narrow to fewer than `threshold` values: must be 0.
    pub unprotected: usize,
    /// Blank cells shown safe by a witness rather than bounded (a publication beside earlier
    /// ones, whose cube is too large to bound every cell).
    pub witnessed: usize,
    /// Publications of the same financial year this one is protected against (their counts,
    /// blanks and sums, as they went out), by period and lake version.
    pub protected_against: Vec<String>,
    /// Cohort counts a reader can work out by subtracting one of those publications from this
    /// one (both printed), each checked like a printed count.
    pub differences: usize,
    /// Of those, differences from 1 to below the threshold, hidden by blanking this
    /// publication's count.
    pub differences_hidden: usize,
    /// Survey and equality tables withheld from this publication (not published, so not
    /// protected): why is in `withheld_because`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    /// Why they were withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld_because: Option<String>,
    pub verdict: &'static str,
    pub hidden: Vec<HiddenCell>,
}

/// Protects every table with a count layout in `tables` together, blanking cells in place, and
/// returns the verdict. Tables without a layout are left as they are.
pub fn protect(tables: &mut [Table], threshold: i64) -> PolarsResult<Audit> {
    let mut model = Model::build(tables);
    let audited = secure(&mut model, threshold, false);
    let audit = verdict(&model, tables, audited, threshold, model.cells.len());
    blank(tables, &model, threshold)?;
    Ok(audit)
}

/// Protects the tables of one publication (`this`) in one cube with every other publication of
/// its financial year already out (`history`, as kept: see [`releases`]), blanking only this
/// one's cells; returns the verdict and this publication as it is to be kept. What went out
/// before for the same period from the same lake version (its publication, an analyst's
/// breakdown beside it) is the same release: what it printed stays as it went out, `tables` are
/// protected beside it, and the release kept is the whole of it (so a breakdown published after
/// the publication is protected beside it, and later publications beside both).
pub fn protect_release(
    history: &[Release],
    this: &ReleaseId,
    tables: &mut [Table],
    threshold: i64,
) -> PolarsResult<(Audit, Release)> {
    let mut model = Model::build(tables);
    // The cells of `tables`: the audit's counts are theirs.
    let built = model.cells.len();
    let (again, others): (Vec<&Release>, Vec<&Release>) =
        history.iter().partition(|r| r.id() == *this);
    // What went out for this release before (the publication, and any breakdown an analyst
    // published beside it): what it printed stays printed, its blanks blank, and the rest is
    // protected beside all of it. The release kept is then everything printed for it.
    for before in &again {
        model.merge_stored(&before.cube);
    }
    let own = model.cells.len();
    // Every count printed or blank as it was: the publication that went out, which was
    // protected then (against the publications of the year then out; those since were
    // protected against it), so it is made again as it was.
    let same_again = built > 0
        && model
            .cells
            .iter()
            .all(|c| c.fixed || c.state == State::Unprinted);
    model.tag(0, RELEASE, &this.tag());
    // A release that printed no count (its survey tables withheld) tells a reader nothing.
    let others: Vec<Release> = others
        .into_iter()
        .filter(|r| !r.cube.cells.is_empty())
        .cloned()
        .collect();
    // A publication with no counts of its own (its survey tables withheld) has nothing to
    // protect beside the others.
    let beside = !same_again && !others.is_empty() && built > 0;
    let differences = if beside {
        releases::link(&mut model, own, this, &others, threshold)
    } else {
        0
    };
    let audited = secure(&mut model, threshold, beside);
    let mut audit = verdict(&model, tables, audited, threshold, built);
    audit.protected_against = others.iter().map(|r| r.id().tag()).collect();
    audit.differences = differences;
    audit.differences_hidden = model
        .differences
        .iter()
        .filter(|(d, a, b)| (*a < own || *b < own) && model.cells[*d].state == State::Primary)
        .count();
    blank(tables, &model, threshold)?;
    let kept = match again.first() {
        // Made again as it went out: its record stands as it was kept.
        Some(before) if same_again => (*before).clone(),
        _ => Release {
            format: releases::FORMAT,
            period: this.period.clone(),
            last_month: this.last_month,
            lake_version: this.lake_version,
            cube: model.stored(own, RELEASE),
        },
    };
    Ok((audit, kept))
}

/// Primary and secondary suppression of a model in place; returns the final audit of every
/// blank cell. `witness`: the model holds earlier publications beside the new one (a cube
/// several times larger), so a blank cell is shown safe by a picture that moves it by the
/// threshold where one is found, and bounded only where none is.
fn secure(model: &mut Model, threshold: i64, witness: bool) -> Vec<(usize, Option<audit::Bounds>)> {
    let safe = |b: &audit::Bounds| b.width().is_none_or(|w| w >= threshold);
    for cell in model.cells.iter_mut().filter(|c| !c.fixed) {
        if cell.state == State::Published && cell.value > 0 && cell.value < threshold {
            cell.state = State::Primary;
        }
    }
    let components = Components::new(model);
    let deepest = model.cells.iter().map(|c| c.key.len()).max().unwrap_or(0);
    // What blanking a printed count loses: its size, many times more for a total (each level
    // above the finest costs four times the one below), most for a count printed only through a
    // derived figure (blanking it blanks the figure).
    let cost = |m: &Model, c: usize| -> f64 {
        let cell = &m.cells[c];
        let level = 4f64.powi((deepest - cell.key.len().min(deepest)) as i32);
        let implied = if cell.places.is_empty() { 1e4 } else { 1.0 };
        (1.0 + cell.value as f64) * level * implied
    };
    // A difference between releases is known only while both its counts are printed. Once one
    // is blank, a reader can still narrow it (a count only grows, the other releases print
    // around it): a difference of 1 to threshold - 1 is a count of people like any other, and
    // is protected as a primary cell (without this, the independent attacker narrowed 33
    // differences of the sample's February beside January to 0-4).
    let unknown_differences = |model: &mut Model| {
        for i in 0..model.differences.len() {
            let (d, a, b) = model.differences[i];
            if model.cells[d].state == State::Published
                && !model.cells[d].fixed
                && (model.cells[a].state.hidden() || model.cells[b].state.hidden())
            {
                model.cells[d].state = State::Unprinted;
            }
            let v = model.cells[d].value;
            if model.cells[d].state == State::Unprinted
                && !model.cells[d].fixed
                && v > 0
                && v < threshold
            {
                model.cells[d].state = State::Primary;
            }
        }
    };
    unknown_differences(model);
    // Every primary cell, finest first, is given a cover: the cheapest printed counts whose
    // blanking lets it move by the threshold. Then every blank cell is audited, and one still
    // narrower than the threshold (a secondary cell pinned by others) gets a cover too, until
    // none is. Cells a publication already out decided were protected then; only what the new
    // one prints can expose them (the audit below).
    let mut order: Vec<usize> = (0..model.cells.len())
        .filter(|c| model.cells[*c].state == State::Primary && !model.cells[*c].fixed)
        .collect();
    order.sort_by_key(|c| (std::cmp::Reverse(model.cells[*c].key.len()), *c));
    // Cells a cover has already shown safe (beside earlier publications only: alone, every
    // blank cell is bounded for the verdict).
    let mut shown: BTreeSet<usize> = BTreeSet::new();
    let cover = |model: &mut Model,
                 cell: usize,
                 unprotectable: &mut BTreeSet<usize>,
                 shown: &mut BTreeSet<usize>| {
        let found = {
            let model: &Model = model;
            audit::cheapest_cover(model, &components, cell, threshold as f64, &|c| {
                cost(model, c)
            })
        };
        match found {
            Some(found) => {
                for c in found.blank {
                    model.cells[c].state = State::Secondary;
                }
                if witness {
                    shown.extend(found.moved_far);
                }
            }
            None => {
                unprotectable.insert(cell);
            }
        }
    };
    let mut unprotectable = BTreeSet::new();
    if witness {
        // Beside earlier publications, a cell the blanks already there let move by the
        // threshold needs no cover of its own (blanking more only lets it move further).
        witnessed(model, &components, &order, threshold, &mut shown);
    }
    for cell in order {
        if shown.contains(&cell) {
            // An earlier cover's picture already moves it by the threshold.
            continue;
        }
        cover(model, cell, &mut unprotectable, &mut shown);
        unknown_differences(model);
    }
    // Audited in parallel (each bound is its own programme on the same publication); the last
    // audit, with nothing left to mend, is the verdict. Blanking more only widens what a reader
    // can prove, so a cell shown safe stays safe: beside earlier publications only the cells not
    // yet shown safe are audited again.
    let mut done: BTreeMap<usize, Option<audit::Bounds>> = BTreeMap::new();
    let audited = loop {
        use rayon::prelude::*;
        let blank: Vec<usize> = (0..model.cells.len())
            .filter(|c| {
                let cell = &model.cells[*c];
                cell.state.hidden()
                    && !(witness && done.contains_key(c))
                    && (!cell.fixed || components.touches_free(model, *c))
            })
            .collect();
        // Alone, every blank cell is bounded. Beside earlier publications (a cube several
        // times larger, where each bound takes far longer), a cell a cover moved by the
        // threshold is safe by that cover, and any other is first moved by the threshold with
        // every printed count kept (one programme): only a cell that cannot be is bounded.
        let audited: Vec<(usize, Option<audit::Bounds>)> = if witness {
            let stuck: BTreeSet<usize> =
                witnessed(model, &components, &blank, threshold, &mut shown)
                    .into_iter()
                    .collect();
            let mut out: Vec<(usize, Option<audit::Bounds>)> = stuck
                .par_iter()
                .map(|c| (*c, Some(bounds(model, &components, *c))))
                .collect();
            out.extend(
                blank
                    .iter()
                    .filter(|c| !stuck.contains(c))
                    .map(|c| (*c, None)),
            );
            out
        } else {
            blank
                .par_iter()
                .map(|c| (*c, Some(bounds(model, &components, *c))))
                .collect()
        };
        let narrow: Vec<usize> = audited
            .iter()
            .filter(|(c, b)| b.as_ref().is_some_and(|b| !safe(b)) && !unprotectable.contains(c))
            .map(|(c, _)| *c)
            .collect();
        if narrow.is_empty() {
            if witness {
                done.extend(audited);
                break done.into_iter().collect();
            }
            break audited;
        }
        if witness {
            done.extend(audited.into_iter().filter(|(c, _)| !narrow.contains(c)));
        }
        for cell in narrow {
            cover(model, cell, &mut unprotectable, &mut shown);
            unknown_differences(model);
        }
    };
    audited
}

/// Puts into `shown` every cell of `cells` a picture a reader cannot tell from the true one
/// moves by the threshold, with what is blank now ([`audit::movable_by`]), and every other cell
/// such a picture moves as far; returns the cells no picture moves (in order). Cells are taken
/// a few at a time (one per thread), and one an earlier picture moved is not worked on again.
fn witnessed(
    model: &Model,
    components: &Components,
    cells: &[usize],
    threshold: i64,
    shown: &mut BTreeSet<usize>,
) -> Vec<usize> {
    use rayon::prelude::*;
    let batch = rayon::current_num_threads().max(1);
    let mut stuck = Vec::new();
    let mut rest = cells.iter().copied().peekable();
    while rest.peek().is_some() {
        let mut chunk = Vec::with_capacity(batch);
        for c in rest.by_ref() {
            if !shown.contains(&c) {
                chunk.push(c);
                if chunk.len() == batch {
                    break;
                }
            }
        }
        let found: Vec<(usize, Option<Vec<usize>>)> = chunk
            .par_iter()
            .map(|c| {
                (
                    *c,
                    audit::movable_by(model, components, *c, threshold as f64),
                )
            })
            .collect();
        for (c, moved) in found {
            match moved {
                Some(moved) => shown.extend(moved),
                None => stuck.push(c),
            }
        }
    }
    stuck
}

/// The verdict on a protected model.
fn verdict(
    model: &Model,
    tables: &[Table],
    audited: Vec<(usize, Option<audit::Bounds>)>,
    threshold: i64,
    own: usize,
) -> Audit {
    let safe = |b: &audit::Bounds| b.width().is_none_or(|w| w >= threshold);
    let mut hidden = Vec::new();
    let mut narrowest: Option<i64> = None;
    let mut unprotected = 0;
    let mut witnessed = 0;
    for (i, b) in audited {
        let cell = &model.cells[i];
        match &b {
            Some(b) => {
                if let Some(w) = b.width() {
                    narrowest = Some(narrowest.map_or(w, |n| n.min(w)));
                }
                if !safe(b) {
                    unprotected += 1;
                }
            }
            None => witnessed += 1,
        }
        for (t, row, column) in &cell.places {
            hidden.push(HiddenCell {
                table: tables[*t].name.clone(),
                row: *row,
                column: column.clone(),
                rule: if cell.state == State::Primary {
                    "primary"
                } else {
                    "secondary"
                },
                proof: if b.is_some() { "bounds" } else { "witness" },
                lower: b.map(|b| (b.lower - 1e-6).ceil() as i64),
                upper: b.and_then(|b| b.upper.map(|u| (u + 1e-6).floor() as i64)),
            });
        }
    }
    hidden.sort_by(|a, b| (&a.table, a.row, &a.column).cmp(&(&b.table, b.row, &b.column)));
    // The publication's own cells (the first `own`: others are earlier releases or the
    // differences between them).
    let mine = || model.cells.iter().take(own);
    let count = |s: State| mine().filter(|c| c.state == s).count();
    Audit {
        threshold,
        tables: tables
            .iter()
            .filter(|t| t.counts.is_some())
            .map(|t| t.name.clone())
            .collect(),
        cells: mine().filter(|c| c.state != State::Unprinted).count(),
        primary: count(State::Primary),
        secondary: count(State::Secondary),
        relations: model.relations.len() + model.below.len(),
        narrowest_interval: narrowest,
        unprotected,
        witnessed,
        verdict: if unprotected == 0 { "pass" } else { "fail" },
        hidden,
        protected_against: Vec::new(),
        differences: 0,
        differences_hidden: 0,
        withheld: Vec::new(),
        withheld_because: None,
    }
}

/// Blanks hidden counts, the figures derived from them and their labels; adds the
/// `suppressed` and `suppression` columns to every table with a layout.
fn blank(tables: &mut [Table], model: &Model, threshold: i64) -> PolarsResult<()> {
    // (table, column) -> rows to blank; (table, row) -> (columns, primary?, secondary?)
    let mut masks: BTreeMap<(usize, String), BTreeSet<usize>> = BTreeMap::new();
    // (table, row) -> (primary columns, secondary columns)
    let mut why: BTreeMap<(usize, usize), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for cell in &model.cells {
        if !cell.state.hidden() {
            continue;
        }
        for (t, row, column) in &cell.places {
            masks.entry((*t, column.clone())).or_default().insert(*row);
            let w = why.entry((*t, *row)).or_default();
            if cell.state == State::Primary {
                w.0.push(column.clone());
            } else {
                w.1.push(column.clone());
            }
        }
    }
    for d in &model.derived {
        if d.inputs.iter().any(|i| model.cells[*i].state.hidden()) {
            let (t, row, column) = &d.place;
            masks.entry((*t, column.clone())).or_default().insert(*row);
        }
    }
    for l in &model.labels {
        if model.cells[l.cell].state.hidden() {
            let (t, row, column) = &l.place;
            masks.entry((*t, column.clone())).or_default().insert(*row);
        }
    }
    for (t, table) in tables.iter_mut().enumerate() {
        if table.counts.is_none() {
            continue;
        }
        let height = table.frame.height();
        let columns: Vec<String> = table
            .frame
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut listed: Vec<Vec<&str>> = vec![Vec::new(); height];
        for name in &columns {
            let Some(rows) = masks.get(&(t, name.clone())) else {
                continue;
            };
            let keep: Vec<bool> = (0..height).map(|r| !rows.contains(&r)).collect();
            let column = table.frame.column(name)?.clone();
            // A figure that was never there (no share for a "don't know" row) is not listed
            // as hidden.
            let was_blank = column.is_null();
            let nulls = Column::full_null(name.as_str().into(), height, column.dtype());
            let kept =
                column.zip_with(&BooleanChunked::from_slice("keep".into(), &keep), &nulls)?;
            table.frame.replace(name, kept)?;
            for r in rows {
                if was_blank.get(*r) == Some(true) {
                    continue;
                }
                if let Some(l) = listed.get_mut(*r) {
                    l.push(name.as_str());
                }
            }
        }
        let marks: Vec<String> = listed.iter().map(|cells| cells.join(", ")).collect();
        let reasons: Vec<String> = (0..height)
            .map(|r| {
                let (primary, secondary) = why.get(&(t, r)).cloned().unwrap_or_default();
                let mut parts = Vec::new();
                if !primary.is_empty() {
                    parts.push(format!(
                        "{}: {}",
                        primary_label(threshold),
                        primary.join(", ")
                    ));
                }
                if !secondary.is_empty() {
                    parts.push(format!("{SECONDARY_LABEL}: {}", secondary.join(", ")));
                }
                parts.join("; ")
            })
            .collect();
        table
            .frame
            .with_column(Column::new(SUPPRESSED.into(), marks))?;
        table
            .frame
            .with_column(Column::new(SUPPRESSION.into(), reasons))?;
    }
    Ok(())
}
