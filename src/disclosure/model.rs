//! The respondent cube behind a publication: every count printed in a table with a
//! [`Counts`] layout becomes a cell keyed by its cohort (one cell however many tables print it),
//! and every sum the layouts imply (parts of a row, groups of a table, ratings of a sentiment,
//! the answered groups) becomes a relation. A relation is kept only if the true counts satisfy
//! it, so a layout that claims too much cannot invent a constraint; where printed groups fall
//! short of their printed total, the rest is a cell of its own, since anyone can subtract.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::tables::counts::{Counts, Input, ANSWERED};
use crate::tables::Table;

/// A cohort: sorted (dimension, value) pairs, plus the count's own narrowing.
pub type Key = BTreeMap<String, String>;

/// The dimension of a cell that is the rest of a printed cohort beyond its printed groups (its
/// value names the dimensions the groups split on): see [`Model::build`].
pub const REST: &str = "*rest*";

/// Where a cell is printed: table index, row, column.
pub type Place = (usize, usize, String);

/// What the publication shows of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Printed (or implied by a printed figure) as it is.
    Published,
    /// Blank: a count from 1 to below the threshold.
    Primary,
    /// Blank so that a primary cell cannot be worked out.
    Secondary,
    /// Printed nowhere and implied by nothing: an unknown to anyone reading the publication.
    Unprinted,
}

impl State {
    pub fn hidden(self) -> bool {
        matches!(self, State::Primary | State::Secondary)
    }
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub key: Key,
    /// The true count.
    pub value: i64,
    pub places: Vec<Place>,
    /// A derived figure reads it (so publishing the figure publishes the count).
    pub implied: bool,
    pub state: State,
    /// Decided by a publication already out: never blanked or unblanked now.
    pub fixed: bool,
}

/// `parent = sum of children`.
#[derive(Debug, Clone)]
pub struct Relation {
    pub parent: usize,
    pub children: Vec<usize>,
}

/// A derived figure and the cells it reads.
#[derive(Debug, Clone)]
pub struct DerivedCell {
    pub place: Place,
    pub inputs: Vec<usize>,
}

/// A subset count's label column, blanked with the count.
#[derive(Debug, Clone)]
pub struct Label {
    pub place: Place,
    pub cell: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Model {
    pub cells: Vec<Cell>,
    index: HashMap<Key, usize>,
    pub relations: Vec<Relation>,
    /// `child <= parent` for counts of a subset that is not a full family.
    pub below: Vec<(usize, usize)>,
    pub derived: Vec<DerivedCell>,
    pub labels: Vec<Label>,
    /// Differences between releases: (difference, earlier count, later count), the difference
    /// cell being `later - earlier` of one cohort ([`super::releases`]). A reader knows one
    /// only while both counts are printed.
    pub differences: Vec<(usize, usize, usize)>,
    /// Relations a layout claimed that the true counts do not satisfy (dropped).
    pub dropped: usize,
    /// Cohorts printed with two different counts (a layout error; kept apart).
    pub conflicts: usize,
}

/// A cube as kept after its publication went out ([`super::releases`]): each cell's cohort, true
/// count and what the publication showed of it, and the sums linking them (indices into `cells`).
/// Where a count was printed is not kept: only what a reader can use.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stored {
    pub cells: Vec<StoredCell>,
    pub relations: Vec<(usize, Vec<usize>)>,
    pub below: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCell {
    pub key: Key,
    pub value: i64,
    pub state: State,
}

/// Text of a cell of any type ("" for null).
fn text(df: &DataFrame, column: &str, row: usize) -> Option<String> {
    let c = df.column(column).ok()?;
    let v = c.get(row).ok()?;
    match v {
        AnyValue::Null => None,
        AnyValue::String(s) => Some(s.to_string()),
        AnyValue::StringOwned(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

fn count(df: &DataFrame, column: &str, row: usize) -> Option<i64> {
    let c = df.column(column).ok()?.cast(&DataType::Int64).ok()?;
    c.i64().ok()?.get(row)
}

impl Model {
    /// The cell of `key`, if the cube has one.
    pub fn find(&self, key: &Key) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// A new cell (the key must be new: a cohort already in the cube is returned as it is).
    pub fn add(&mut self, key: Key, value: i64, state: State, fixed: bool) -> usize {
        let i = self.cell(key);
        let cell = &mut self.cells[i];
        cell.value = value;
        cell.state = state;
        cell.fixed = fixed;
        i
    }

    /// Adds `(dimension, value)` to the key of every cell from `from` on (telling one release's
    /// cells from another's).
    pub fn tag(&mut self, from: usize, dimension: &str, value: &str) {
        for i in from..self.cells.len() {
            let old = self.cells[i].key.clone();
            self.index.remove(&old);
            self.cells[i].key.insert(dimension.into(), value.into());
            self.index.insert(self.cells[i].key.clone(), i);
        }
    }

    /// The first `n` cells (one release's, built first) and the sums among them only, with
    /// `dimension` taken out of their keys.
    pub fn stored(&self, n: usize, dimension: &str) -> Stored {
        let cells = self.cells[..n.min(self.cells.len())]
            .iter()
            .map(|c| {
                let mut key = c.key.clone();
                key.remove(dimension);
                StoredCell {
                    key,
                    value: c.value,
                    state: c.state,
                }
            })
            .collect();
        Stored {
            cells,
            relations: self
                .relations
                .iter()
                .filter(|r| r.parent < n && r.children.iter().all(|c| *c < n))
                .map(|r| (r.parent, r.children.clone()))
                .collect(),
            below: self
                .below
                .iter()
                .filter(|(c, p)| *c < n && *p < n)
                .copied()
                .collect(),
        }
    }

    /// Adds a stored cube, every key tagged `(dimension, value)` and every cell fixed (decided
    /// when it was published); returns the index of each stored cell here.
    pub fn add_stored(&mut self, stored: &Stored, dimension: &str, value: &str) -> Vec<usize> {
        let at: Vec<usize> = stored
            .cells
            .iter()
            .map(|c| {
                let mut key = c.key.clone();
                key.insert(dimension.into(), value.into());
                self.add(key, c.value, c.state, true)
            })
            .collect();
        let index = |i: usize| at.get(i).copied();
        for (p, cs) in &stored.relations {
            let children: Option<Vec<usize>> = cs.iter().map(|c| index(*c)).collect();
            if let (Some(parent), Some(children)) = (index(*p), children) {
                self.relations.push(Relation { parent, children });
            }
        }
        for (c, p) in &stored.below {
            if let (Some(c), Some(p)) = (index(*c), index(*p)) {
                self.below.push((c, p));
            }
        }
        at
    }

    /// Merges the kept record of this same release (same period, same lake version: the same
    /// true counts) into the cube, keys as they are: a cohort already in the cube takes the state
    /// it went out with and is fixed (where it went out printed or blank); one not in it is added,
    /// fixed, with the sums it took part in. Everything printed for the release stays as it went
    /// out, and what is added is protected beside all of it.
    pub fn merge_stored(&mut self, stored: &Stored) {
        let mut added = vec![false; stored.cells.len()];
        let at: Vec<Option<usize>> = stored
            .cells
            .iter()
            .zip(added.iter_mut())
            .map(|(c, added)| match self.find(&c.key) {
                Some(i) => {
                    let cell = &mut self.cells[i];
                    if cell.value != c.value {
                        // Not the same cohort after all (the tables changed): not merged.
                        return None;
                    }
                    if c.state != State::Unprinted {
                        cell.state = c.state;
                        cell.fixed = true;
                    }
                    Some(i)
                }
                None => {
                    *added = true;
                    Some(self.add(c.key.clone(), c.value, c.state, true))
                }
            })
            .collect();
        let index = |i: usize| at.get(i).copied().flatten();
        let new = |i: usize| added.get(i).copied().unwrap_or(false);
        // The sums among cells already in the cube were built with them.
        for (p, cs) in &stored.relations {
            if !new(*p) && cs.iter().all(|c| !new(*c)) {
                continue;
            }
            let children: Option<Vec<usize>> = cs.iter().map(|c| index(*c)).collect();
            if let (Some(parent), Some(children)) = (index(*p), children) {
                self.relations.push(Relation { parent, children });
            }
        }
        for (c, p) in &stored.below {
            if !new(*c) && !new(*p) {
                continue;
            }
            if let (Some(c), Some(p)) = (index(*c), index(*p)) {
                self.below.push((c, p));
            }
        }
    }

    /// `parent = sum of children`, kept as is (the caller knows the true counts satisfy it).
    pub fn relate(&mut self, parent: usize, children: Vec<usize>) {
        self.relations.push(Relation { parent, children });
    }

    fn cell(&mut self, key: Key) -> usize {
        if let Some(i) = self.index.get(&key) {
            return *i;
        }
        let i = self.cells.len();
        self.cells.push(Cell {
            key: key.clone(),
            value: -1,
            places: Vec::new(),
            implied: false,
            state: State::Unprinted,
            fixed: false,
        });
        self.index.insert(key, i);
        i
    }

    /// A printed count: the cell of `key`, or a new one when the key is printed with another
    /// count elsewhere.
    fn printed(&mut self, mut key: Key, value: i64, place: Place) -> usize {
        let i = self.cell(key.clone());
        if self.cells[i].value >= 0 && self.cells[i].value != value {
            self.conflicts += 1;
            key.insert("*table*".into(), format!("{}:{}", place.0, place.2));
            return self.printed(key, value, place);
        }
        let cell = &mut self.cells[i];
        cell.value = value;
        cell.places.push(place);
        cell.state = State::Published;
        i
    }

    /// Builds the cube of every table with a layout.
    pub fn build(tables: &[Table]) -> Model {
        let mut m = Model::default();
        let mut families: Vec<(Key, Vec<Key>)> = Vec::new();
        let mut below: Vec<(Key, Key)> = Vec::new();
        let mut derived: Vec<(Place, Vec<Key>)> = Vec::new();
        let mut labels: Vec<(Place, Key)> = Vec::new();
        for (t, table) in tables.iter().enumerate() {
            let Some(layout) = &table.counts else {
                continue;
            };
            let df = &table.frame;
            let base: Key = layout.fixed.iter().cloned().collect();
            // Each row's cohort key and, per group, whether it is at the group's total.
            let mut rows: Vec<Option<Key>> = Vec::with_capacity(df.height());
            for r in 0..df.height() {
                rows.push(row_key(layout, df, r, &base));
            }
            let measures = measures(layout);
            for (r, key) in rows.iter().enumerate() {
                let Some(key) = key else { continue };
                for (column, narrowing) in &measures {
                    if let Some(v) = count(df, column, r) {
                        m.printed(narrowed(key, narrowing), v, (t, r, column.clone()));
                    }
                }
                // The parts of a row, per dimension, sum to its cohort.
                let mut by_dim: BTreeMap<&str, Vec<Key>> = BTreeMap::new();
                for p in &layout.parts {
                    by_dim
                        .entry(p.dimension.as_str())
                        .or_default()
                        .push(narrowed(key, &[(p.dimension.clone(), p.value.clone())]));
                }
                for (_, children) in by_dim {
                    families.push((key.clone(), children));
                }
                for s in &layout.subsets {
                    let Some(value) = text(df, &s.value_column, r) else {
                        continue;
                    };
                    let parent = narrowed(key, &s.adds);
                    let mut child = parent.clone();
                    child.insert(s.dimension.clone(), value);
                    if let Some(v) = count(df, &s.column, r) {
                        let i = m.printed(child.clone(), v, (t, r, s.column.clone()));
                        labels.push(((t, r, s.value_column.clone()), m.cells[i].key.clone()));
                    }
                    below.push((child, parent));
                }
                for d in &layout.derived {
                    if df.column(&d.column).is_err() {
                        continue;
                    }
                    let inputs: Vec<Key> = d
                        .inputs
                        .iter()
                        .filter_map(|input| input_key(layout, key, input, &measures))
                        .collect();
                    derived.push(((t, r, d.column.clone()), inputs));
                }
                for d in &layout.derived_by_row {
                    let inputs: Vec<Key> = d
                        .inputs
                        .get(r)
                        .into_iter()
                        .flatten()
                        .filter_map(|input| input_key(layout, key, input, &measures))
                        .collect();
                    for column in d.columns.iter().filter(|c| df.column(c).is_ok()) {
                        derived.push(((t, r, column.clone()), inputs.clone()));
                    }
                }
            }
            // Groups: the rows below a cohort on one dimension sum to it, for every measure.
            for (g, group) in layout.groups.iter().enumerate() {
                let mut by_parent: BTreeMap<Key, Vec<&Key>> = BTreeMap::new();
                for key in rows.iter().flatten() {
                    if key.contains_key(&group.dimension) {
                        let mut parent = key.clone();
                        parent.remove(&group.dimension);
                        by_parent.entry(parent).or_default().push(key);
                    }
                }
                for (parent, children) in &by_parent {
                    let sums = if group.lists_all {
                        measures.as_slice()
                    } else {
                        &[]
                    };
                    for (_, narrowing) in sums.iter().filter(|(c, _)| !is_subset(layout, c)) {
                        families.push((
                            narrowed(parent, narrowing),
                            children.iter().map(|k| narrowed(k, narrowing)).collect(),
                        ));
                    }
                    // Values implying another dimension: the implied cohort is their sum.
                    let mut implied: BTreeMap<(String, String), Vec<Key>> = BTreeMap::new();
                    for (value, dim, to) in &group.implies {
                        for k in children
                            .iter()
                            .filter(|k| k.get(&group.dimension) == Some(value))
                        {
                            implied
                                .entry((dim.clone(), to.clone()))
                                .or_default()
                                .push((*k).clone());
                        }
                    }
                    for ((dim, to), members) in implied {
                        let mut cohort = parent.clone();
                        cohort.insert(dim, to);
                        families.push((cohort, members));
                    }
                    // The answered cohort: every group but the non-response labels.
                    if let Some(a) = layout.answered.as_ref().filter(|a| a.group == g) {
                        let answered: Vec<&&Key> = children
                            .iter()
                            .filter(|k| {
                                k.get(&group.dimension)
                                    .is_some_and(|v| !a.excluded.contains(v))
                            })
                            .collect();
                        for (_, narrowing) in measures.iter().filter(|(c, _)| !is_subset(layout, c))
                        {
                            let mut cohort = narrowed(parent, narrowing);
                            cohort.insert(group.dimension.clone(), ANSWERED.into());
                            families.push((
                                cohort,
                                answered.iter().map(|k| narrowed(k, narrowing)).collect(),
                            ));
                        }
                    }
                }
            }
        }
        // Cells only a relation names: their true value is the sum of a family's children
        // (families are resolved until nothing changes; a parent of parents needs several passes).
        let families: Vec<(usize, Vec<usize>)> = families
            .into_iter()
            .map(|(p, cs)| {
                let p = m.cell(p);
                (p, cs.into_iter().map(|c| m.cell(c)).collect())
            })
            .collect();
        loop {
            let mut changed = false;
            for (p, cs) in &families {
                if m.cells[*p].value < 0 && cs.iter().all(|c| m.cells[*c].value >= 0) {
                    m.cells[*p].value = cs.iter().map(|c| m.cells[*c].value).sum();
                    changed = true;
                }
                // A child no table lists is 0: tables list every non-empty group.
            }
            if !changed {
                break;
            }
        }
        for cell in m.cells.iter_mut().filter(|c| c.value < 0) {
            // Named only as a member of a family whose other members are unknown: not derivable;
            // treated as an unknown with no true value (0 keeps arithmetic defined).
            cell.value = 0;
        }
        for (p, mut cs) in families {
            let sum: i64 = cs.iter().map(|c| m.cells[*c].value).sum();
            let printed = |m: &Model, c: usize| m.cells[c].state == State::Published;
            if sum == m.cells[p].value {
                m.relations.push(Relation {
                    parent: p,
                    children: cs,
                });
            } else if sum < m.cells[p].value && printed(&m, p) && cs.iter().all(|c| printed(&m, *c))
            {
                // Printed children short of their printed parent: the rest (answers no row
                // places, such as those dated only by a quarter or a year under a table by
                // month) is worked out by subtraction, so it is a cell like any printed count.
                let rest = m.cells[p].value - sum;
                let mut key = m.cells[p].key.clone();
                let dimensions: Vec<String> = cs
                    .first()
                    .map(|c| {
                        m.cells[*c]
                            .key
                            .keys()
                            .filter(|k| !key.contains_key(*k))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                key.insert(REST.into(), dimensions.join(","));
                let r = m.cell(key);
                m.cells[r].value = rest;
                m.cells[r].state = State::Published;
                m.cells[r].implied = true;
                cs.push(r);
                m.relations.push(Relation {
                    parent: p,
                    children: cs,
                });
            } else {
                m.dropped += 1;
            }
        }
        m.relations
            .sort_by(|a, b| (a.parent, &a.children).cmp(&(b.parent, &b.children)));
        m.relations
            .dedup_by(|a, b| a.parent == b.parent && a.children == b.children);
        for (child, parent) in below {
            let (c, p) = (m.cell(child), m.cell(parent));
            if m.cells[c].value <= m.cells[p].value {
                m.below.push((c, p));
            } else {
                m.dropped += 1;
            }
        }
        for (place, inputs) in derived {
            let inputs: Vec<usize> = inputs.into_iter().map(|k| m.cell(k)).collect();
            for i in &inputs {
                m.cells[*i].implied = true;
                if m.cells[*i].state == State::Unprinted {
                    m.cells[*i].state = State::Published;
                }
            }
            m.derived.push(DerivedCell { place, inputs });
        }
        for (place, key) in labels {
            let cell = m.cell(key);
            m.labels.push(Label { place, cell });
        }
        m
    }
}

/// Count columns and how each narrows the row cohort (subsets are narrowed per row; a count
/// beside the cohort is keyed as its own cohort, and sums over groups like the others).
fn measures(layout: &Counts) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    if let Some(c) = &layout.cohort {
        out.push((c.clone(), Vec::new()));
    }
    for p in layout.parts.iter().chain(&layout.besides) {
        out.push((
            p.column.clone(),
            vec![(p.dimension.clone(), p.value.clone())],
        ));
    }
    out
}

fn is_subset(layout: &Counts, column: &str) -> bool {
    layout.subsets.iter().any(|s| s.column == column)
}

fn narrowed(key: &Key, narrowing: &[(String, String)]) -> Key {
    let mut k = key.clone();
    for (d, v) in narrowing {
        k.insert(d.clone(), v.clone());
    }
    k
}

/// The cohort of row `r`: fixed pairs plus each group's value (a total drops its dimension).
/// `None` when a group column is blank (the row names no cohort).
fn row_key(layout: &Counts, df: &DataFrame, r: usize, base: &Key) -> Option<Key> {
    let mut key = base.clone();
    for g in &layout.groups {
        let mut parts = Vec::new();
        for c in &g.columns {
            parts.push(text(df, c, r)?);
        }
        let value = parts.join("-");
        if g.total.as_deref() == Some(value.as_str()) {
            continue;
        }
        key.insert(g.dimension.clone(), value);
    }
    Some(key)
}

fn input_key(
    layout: &Counts,
    key: &Key,
    input: &Input,
    measures: &[(String, Vec<(String, String)>)],
) -> Option<Key> {
    let narrowing = |column: &str| {
        measures
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, n)| n.clone())
    };
    match input {
        Input::Row(c) => Some(narrowed(key, &narrowing(c)?)),
        Input::Without(c, dims) => {
            let mut k = narrowed(key, &narrowing(c)?);
            for d in dims {
                k.remove(d);
            }
            Some(k)
        }
        Input::Answered(c) => {
            let a = layout.answered.as_ref()?;
            let dim = &layout.groups.get(a.group)?.dimension;
            let mut k = narrowed(key, &narrowing(c)?);
            k.insert(dim.clone(), ANSWERED.into());
            Some(k)
        }
        Input::At(c, dim, value) => {
            let mut k = narrowed(key, &narrowing(c)?);
            k.insert(dim.clone(), value.clone());
            Some(k)
        }
        Input::Cell { column, drop, set } => {
            let mut k = narrowed(key, &narrowing(column)?);
            for d in drop {
                k.remove(d);
            }
            Some(narrowed(&k, set))
        }
    }
}
