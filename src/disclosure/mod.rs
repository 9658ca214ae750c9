//! Disclosure control over a whole publication: every table derived from survey responses (KPI
//! satisfaction tables and equality tables alike) is protected together, as linked tables.
//!
//! 1. The tables' [`Counts`](crate::tables::counts::Counts) layouts give one cube of respondent
//!    cells and the sums linking them ([`model`]).
//! 2. Primary suppression: every count from 1 to below the threshold is blank (a true 0 is
//!    printed: it says "none").
//! 3. Secondary suppression: each blank cell is audited ([`audit`]: the tightest bounds anyone
//!    can prove from everything printed, across tables); while a cell can be narrowed to an
//!    interval of fewer than `threshold` values, another printed count beside it (the smallest
//!    non-zero one, a total last) is blanked. Blanking more only widens every interval, so a cell
//!    found safe stays safe.
//! 4. Every figure derived from a blank count (shares, percentages, intervals, comparisons) is
//!    blanked with it; each row says which of its cells are blank and why.
//!
//! The verdict (cells, relations, the narrowest interval, any cell left unprotected) is
//! [`Audit`], written beside the publication as `disclosure-audit.json`.

pub mod audit;
pub mod model;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use polars::prelude::*;
use serde::Serialize;

use crate::tables::Table;
use audit::{bounds, Components};
use model::{Model, State};

/// The file the verdict is written to, beside the tables.
pub const AUDIT_FILE: &str = "disclosure-audit.json";

/// Column listing a row's blank cells.
pub const SUPPRESSED: &str = "suppressed";
/// Column saying why they are blank.
pub const SUPPRESSION: &str = "suppression";

/// Why a cell is blank, as a reader is told.
pub fn primary_label(threshold: i64) -> String {
    format!("fewer than {threshold} responses")
}

/// Why a cell that is not small is blank.
pub const SECONDARY_LABEL: &str = "hidden so that another group cannot be worked out";

/// One blank count and what a reader can prove about it.
#[derive(Debug, Clone, Serialize)]
pub struct HiddenCell {
    pub table: String,
    /// Data row of the table (0 is the first row under the header).
    pub row: usize,
    pub column: String,
    /// `primary` (a small count) or `secondary` (hidden to protect one).
    pub rule: &'static str,
    pub lower: i64,
    /// `None`: no upper bound can be proved.
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
    pub verdict: &'static str,
    pub hidden: Vec<HiddenCell>,
}

/// Protects every table with a count layout in `tables` together, blanking cells in place, and
/// returns the verdict. Tables without a layout are left as they are.
pub fn protect(tables: &mut [Table], threshold: i64) -> PolarsResult<Audit> {
    let mut model = Model::build(tables);
    for cell in model.cells.iter_mut() {
        if cell.state == State::Published && cell.value > 0 && cell.value < threshold {
            cell.state = State::Primary;
        }
    }
    let components = Components::new(&model);
    local_rules(&mut model, &components, threshold);
    let safe = |b: &audit::Bounds| b.width().is_none_or(|w| w >= threshold);
    let mut queue: VecDeque<usize> = (0..model.cells.len())
        .filter(|c| model.cells[*c].state.hidden())
        .collect();
    let debug = std::env::var_os("CEX_DISCLOSURE_DEBUG").is_some();
    let mut blamed = 0;
    while let Some(cell) = queue.pop_front() {
        let b = bounds(&model, &components, cell);
        if safe(&b) {
            continue;
        }
        // A blank neighbour that is itself given away is mended first (it is often what pins
        // this one); this one is audited again after it.
        if let Some(root) = narrow_neighbour(&model, &components, cell, threshold) {
            queue.push_front(cell);
            queue.push_front(root);
            blamed += 1;
            if blamed < model.cells.len() {
                continue;
            }
        }
        let next = cheapest_neighbour(&model, &components, cell);
        if debug {
            eprintln!(
                "leak {:?}={} {:?} -> hide {:?}",
                model.cells[cell].key,
                model.cells[cell].value,
                b,
                next.map(|n| (&model.cells[n].key, model.cells[n].value))
            );
        }
        match next {
            Some(next) => {
                model.cells[next].state = State::Secondary;
                queue.push_front(next);
                queue.push_front(cell);
            }
            None => {} // nothing left to hide around it: reported unprotected below
        }
    }
    // The verdict: every blank cell audited once more against the final publication.
    let mut hidden = Vec::new();
    let mut narrowest: Option<i64> = None;
    let mut unprotected = 0;
    for (i, cell) in model.cells.iter().enumerate() {
        if !cell.state.hidden() {
            continue;
        }
        let b = bounds(&model, &components, i);
        if let Some(w) = b.width() {
            narrowest = Some(narrowest.map_or(w, |n| n.min(w)));
        }
        if !safe(&b) {
            unprotected += 1;
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
                lower: (b.lower - 1e-6).ceil() as i64,
                upper: b.upper.map(|u| (u + 1e-6).floor() as i64),
            });
        }
    }
    hidden.sort_by(|a, b| (&a.table, a.row, &a.column).cmp(&(&b.table, b.row, &b.column)));
    blank(tables, &model, threshold)?;
    let count = |s: State| model.cells.iter().filter(|c| c.state == s).count();
    Ok(Audit {
        threshold,
        tables: tables
            .iter()
            .filter(|t| t.counts.is_some())
            .map(|t| t.name.clone())
            .collect(),
        cells: model
            .cells
            .iter()
            .filter(|c| c.state != State::Unprinted)
            .count(),
        primary: count(State::Primary),
        secondary: count(State::Secondary),
        relations: model.relations.len() + model.below.len(),
        narrowest_interval: narrowest,
        unprotected,
        verdict: if unprotected == 0 { "pass" } else { "fail" },
        hidden,
    })
}

/// The rules a single relation shows (as table-by-table suppression applies them), run to a
/// fixed point before any programme is solved: a relation with one blank cell and no unknown
/// gives it away, and blank parts of a printed total that add up to less than the threshold
/// are narrowed to less than it. Each is mended by blanking another count of the relation
/// ([`pick_in_relation`]).
fn local_rules(model: &mut Model, components: &Components, threshold: i64) {
    loop {
        let mut changed = false;
        for r in 0..model.relations.len() {
            let rel = &model.relations[r];
            if !components.relations_of(rel.parent).contains(&r) {
                continue; // left out of every programme (see Components)
            }
            let members: Vec<usize> = std::iter::once(rel.parent)
                .chain(rel.children.iter().copied())
                .collect();
            if members
                .iter()
                .any(|m| model.cells[*m].state == State::Unprinted)
            {
                continue;
            }
            let hidden: Vec<usize> = members
                .iter()
                .copied()
                .filter(|m| model.cells[*m].state.hidden())
                .collect();
            let parent_hidden = model.cells[rel.parent].state.hidden();
            let hidden_sum: i64 = hidden.iter().map(|m| model.cells[*m].value).sum();
            let narrow = hidden.len() == 1 || (!parent_hidden && hidden_sum < threshold);
            if hidden.is_empty() || !narrow {
                continue;
            }
            if let Some(next) = pick_in_relation(model, components, r, hidden[0]) {
                model.cells[next].state = State::Secondary;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// In relation `r`, the printed count to blank beside `cell`: a part at the cell's level first
/// (the one leaving fewest relations with a single unknown, then the smallest), the total only
/// when no part will do.
fn pick_in_relation(
    model: &Model,
    components: &Components,
    r: usize,
    cell: usize,
) -> Option<usize> {
    let unknown = |x: usize| model.cells[x].state != State::Published;
    let forced = |c: usize| -> usize {
        components
            .relations_of(c)
            .iter()
            .filter(|q| {
                let rel = &model.relations[**q];
                !std::iter::once(rel.parent)
                    .chain(rel.children.iter().copied())
                    .any(|x| x != c && unknown(x))
            })
            .count()
    };
    let usable = |x: usize| {
        let c = &model.cells[x];
        x != cell && c.state == State::Published && c.value > 0 && !c.places.is_empty()
    };
    let rel = &model.relations[r];
    rel.children
        .iter()
        .copied()
        .filter(|x| usable(*x))
        .min_by_key(|x| (forced(*x), model.cells[*x].value, *x))
        .or_else(|| usable(rel.parent).then_some(rel.parent))
}

/// A blank cell in a relation of `cell` that can itself be narrowed below the threshold and
/// does not yet wait to be mended (`None` when every one is safe).
fn narrow_neighbour(
    model: &Model,
    components: &Components,
    cell: usize,
    threshold: i64,
) -> Option<usize> {
    let mut seen = BTreeSet::new();
    for r in components.relations_of(cell) {
        let rel = &model.relations[*r];
        for x in std::iter::once(rel.parent).chain(rel.children.iter().copied()) {
            if x == cell || !model.cells[x].state.hidden() || !seen.insert(x) {
                continue;
            }
            let b = bounds(model, components, x);
            if b.width().is_some_and(|w| w < threshold) && b.width() < bounds(model, components, cell).width() {
                return Some(x);
            }
        }
    }
    None
}

/// The printed count to blank next to protect `cell`. The relations around it are taken in
/// order: first those where it is the only unknown (they pin it), then those with fewest
/// unknowns. In a relation, a count at the cell's own level is taken (its siblings when it is a
/// part, its parts when it is a total); the relation's total only when no part will do; among
/// them, the one that would leave fewest relations with a single unknown (closing a cycle of
/// blanks rather than starting a chain), then the smallest. A count printed only through a
/// derived figure is never taken here. When no relation of the cell has a printed non-zero
/// count, the search goes on through the unknown cells around it.
fn cheapest_neighbour(model: &Model, components: &Components, cell: usize) -> Option<usize> {
    let unknown = |x: usize| model.cells[x].state != State::Published;
    let members = |r: usize| {
        let rel = &model.relations[r];
        std::iter::once(rel.parent).chain(rel.children.iter().copied())
    };
    let forced = |c: usize| -> usize {
        components
            .relations_of(c)
            .iter()
            .filter(|r| !members(**r).any(|x| x != c && unknown(x)))
            .count()
    };
    let usable = |x: usize| {
        let c = &model.cells[x];
        c.state == State::Published && c.value > 0 && !c.places.is_empty()
    };
    let mut relations: Vec<usize> = components.relations_of(cell).to_vec();
    relations.sort_by_key(|r| (members(*r).filter(|x| *x != cell && unknown(*x)).count(), *r));
    for r in relations {
        let rel = &model.relations[r];
        let same_level: Vec<usize> = rel
            .children
            .iter()
            .copied()
            .filter(|x| *x != cell && usable(*x))
            .collect();
        let pick = same_level
            .into_iter()
            .min_by_key(|x| (forced(*x), model.cells[*x].value, *x))
            .or_else(|| (rel.parent != cell && usable(rel.parent)).then_some(rel.parent));
        if pick.is_some() {
            return pick;
        }
    }
    // Further out: through the unknown cells around it, nearest first.
    let mut seen = BTreeSet::from([cell]);
    let mut frontier = vec![cell];
    while !frontier.is_empty() {
        let mut candidates = Vec::new();
        let mut next = Vec::new();
        for c in &frontier {
            for r in components.relations_of(*c) {
                for x in members(*r) {
                    if !seen.insert(x) {
                        continue;
                    }
                    if usable(x) {
                        candidates.push(x);
                    } else if unknown(x) {
                        next.push(x);
                    }
                }
            }
        }
        if let Some(best) = candidates
            .into_iter()
            .min_by_key(|x| (forced(*x), model.cells[*x].value, *x))
        {
            return Some(best);
        }
        frontier = next;
    }
    None
}

/// Blanks hidden counts, the figures derived from them and their labels; adds the
/// `suppressed` and `suppression` columns to every table with a layout.
fn blank(tables: &mut [Table], model: &Model, threshold: i64) -> PolarsResult<()> {
    // (table, column) -> rows to blank; (table, row) -> (columns, primary?, secondary?)
    let mut masks: BTreeMap<(usize, String), BTreeSet<usize>> = BTreeMap::new();
    let mut why: BTreeMap<(usize, usize), (bool, bool)> = BTreeMap::new();
    for cell in &model.cells {
        if !cell.state.hidden() {
            continue;
        }
        for (t, row, column) in &cell.places {
            masks.entry((*t, column.clone())).or_default().insert(*row);
            let w = why.entry((*t, *row)).or_default();
            if cell.state == State::Primary {
                w.0 = true;
            } else {
                w.1 = true;
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
            let nulls = Column::full_null(name.as_str().into(), height, column.dtype());
            let kept = column.zip_with(&BooleanChunked::from_slice("keep".into(), &keep), &nulls)?;
            table.frame.replace(name, kept)?;
            for r in rows {
                if let Some(l) = listed.get_mut(*r) {
                    l.push(name.as_str());
                }
            }
        }
        let marks: Vec<String> = listed.iter().map(|cells| cells.join(", ")).collect();
        let reasons: Vec<String> = (0..height)
            .map(|r| {
                let (primary, secondary) = why.get(&(t, r)).copied().unwrap_or_default();
                let mut parts = Vec::new();
                if primary {
                    parts.push(primary_label(threshold));
                }
                if secondary {
                    parts.push(SECONDARY_LABEL.to_string());
                }
                if parts.is_empty() && !listed[r].is_empty() {
                    parts.push("derived from a hidden count".to_string());
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
