//! What a reader can work out about a blank cell from everything published: the tightest bounds
//! on it over every assignment of non-negative counts to the blank and unprinted cells that
//! satisfies the relations with the printed counts (a linear programme per bound, solved with
//! microlp on the blank cell's connected part of the cube only).

use std::collections::{BTreeSet, HashMap};

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, Variable};

use super::model::{Model, State};

/// The bounds a reader can prove for a cell; `upper` is `None` when unbounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub lower: f64,
    pub upper: Option<f64>,
}

impl Bounds {
    /// Integer width of the interval (`None`: unbounded).
    pub fn width(&self) -> Option<i64> {
        self.upper
            .map(|u| ((u + 1e-6).floor() - (self.lower - 1e-6).ceil()) as i64)
    }
}

/// The connected part of the cube around each unknown: relations through unknown cells.
pub struct Components {
    /// For each cell, the relations (index into `model.relations`) and `below` pairs (index)
    /// that name it.
    relations_of: Vec<Vec<usize>>,
    below_of: Vec<Vec<usize>>,
}

impl Components {
    pub fn new(model: &Model) -> Components {
        let n = model.cells.len();
        // A relation whose parent is printed nowhere and named by no other relation says nothing
        // (the parent absorbs any sum of its children): left out, repeatedly, which keeps each
        // programme to the cells that matter.
        let mut uses = vec![0usize; n];
        for rel in &model.relations {
            uses[rel.parent] += 1;
            for c in &rel.children {
                uses[*c] += 1;
            }
        }
        for (c, p) in &model.below {
            uses[*c] += 1;
            uses[*p] += 1;
        }
        let mut active = vec![true; model.relations.len()];
        loop {
            let mut changed = false;
            for (r, rel) in model.relations.iter().enumerate() {
                if active[r]
                    && model.cells[rel.parent].state == State::Unprinted
                    && uses[rel.parent] == 1
                {
                    active[r] = false;
                    uses[rel.parent] -= 1;
                    for c in &rel.children {
                        uses[*c] -= 1;
                    }
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut relations_of = vec![Vec::new(); n];
        for (r, rel) in model
            .relations
            .iter()
            .enumerate()
            .filter(|(r, _)| active[*r])
        {
            relations_of[rel.parent].push(r);
            for c in &rel.children {
                relations_of[*c].push(r);
            }
        }
        let mut below_of = vec![Vec::new(); n];
        for (b, (c, p)) in model.below.iter().enumerate() {
            below_of[*c].push(b);
            below_of[*p].push(b);
        }
        Components {
            relations_of,
            below_of,
        }
    }

    pub fn relations_of(&self, cell: usize) -> &[usize] {
        &self.relations_of[cell]
    }

    /// Whether the unknowns around `cell` include one decided now (not by a publication already
    /// out): a blank of an earlier release whose part of the cube the new one does not reach
    /// reads as it did when it was published, and was audited then.
    pub fn touches_free(&self, model: &Model, cell: usize) -> bool {
        let (unknowns, rels, belows) = self.around(model, cell);
        let free = |c: usize| !model.cells[c].fixed;
        unknowns.iter().any(|c| free(*c))
            || rels.iter().any(|r| {
                let rel = &model.relations[*r];
                free(rel.parent) || rel.children.iter().any(|c| free(*c))
            })
            || belows.iter().any(|b| {
                let (x, y) = model.below[*b];
                free(x) || free(y)
            })
    }

    /// The sums (relations, `below` pairs) a change to `cell` can reach: through every count
    /// that may change, stopping at counts that may not (a printed 0, a count printed by a
    /// publication already out).
    fn movable_part(
        &self,
        model: &Model,
        cell: usize,
        printed_still: bool,
    ) -> (BTreeSet<usize>, BTreeSet<usize>) {
        let (_, rels, belows) = self.reach(model, cell, |c| {
            let cell = &model.cells[c];
            !(cell.state == State::Published && (cell.value == 0 || cell.fixed || printed_still))
        });
        (rels, belows)
    }

    /// Unknown cells reachable from `cell` through relations and the relations among them.
    fn around(&self, model: &Model, cell: usize) -> (Vec<usize>, BTreeSet<usize>, BTreeSet<usize>) {
        self.reach(model, cell, |c| model.cells[c].state != State::Published)
    }

    /// The cells reachable from `cell` through relations and `below` pairs, going on only
    /// through cells `through` accepts, with the relations and pairs met on the way.
    fn reach(
        &self,
        model: &Model,
        cell: usize,
        through: impl Fn(usize) -> bool,
    ) -> (Vec<usize>, BTreeSet<usize>, BTreeSet<usize>) {
        let mut seen = BTreeSet::from([cell]);
        let mut stack = vec![cell];
        let (mut rels, mut belows) = (BTreeSet::new(), BTreeSet::new());
        while let Some(c) = stack.pop() {
            for r in &self.relations_of[c] {
                if rels.insert(*r) {
                    let rel = &model.relations[*r];
                    for x in std::iter::once(rel.parent).chain(rel.children.iter().copied()) {
                        if through(x) && seen.insert(x) {
                            stack.push(x);
                        }
                    }
                }
            }
            for b in &self.below_of[c] {
                if belows.insert(*b) {
                    let (x, y) = model.below[*b];
                    for z in [x, y] {
                        if through(z) && seen.insert(z) {
                            stack.push(z);
                        }
                    }
                }
            }
        }
        (seen.into_iter().collect(), rels, belows)
    }
}

/// A linear expression from terms, a variable named twice taken once with the sum of its
/// coefficients (the solver needs each variable once); `None` when nothing is left.
fn expression(terms: Vec<(Variable, f64)>) -> Option<LinearExpr> {
    let mut merged: Vec<(Variable, f64)> = Vec::new();
    for (v, c) in terms {
        match merged.iter_mut().find(|(w, _)| *w == v) {
            Some((_, sum)) => *sum += c,
            None => merged.push((v, c)),
        }
    }
    merged.retain(|(_, c)| *c != 0.0);
    merged.sort_by_key(|(v, _)| v.idx());
    if merged.is_empty() {
        return None;
    }
    let mut expr = LinearExpr::empty();
    for (v, c) in merged {
        expr.add(v, c);
    }
    Some(expr)
}

/// The bounds on `cell` from what is published.
pub fn bounds(model: &Model, components: &Components, cell: usize) -> Bounds {
    let (unknowns, rels, belows) = components.around(model, cell);

    // Ok(None): unbounded. Err: the solver failed, read as "pinned" so more is hidden.
    let solve = |direction| -> Result<Option<f64>, ()> {
        let mut p = Problem::new(direction);
        let mut var = HashMap::new();
        for u in &unknowns {
            let objective = if *u == cell { 1.0 } else { 0.0 };
            var.insert(*u, p.add_var(objective, (0.0, f64::INFINITY)));
        }
        // parent - sum(children) = 0, printed cells moved to the right-hand side.
        let mut add = |terms: Vec<(usize, f64)>, op: ComparisonOp| {
            let mut used = Vec::new();
            let mut rhs = 0.0;
            for (c, coefficient) in terms {
                match var.get(&c) {
                    Some(v) => used.push((*v, coefficient)),
                    None => rhs -= coefficient * model.cells[c].value as f64,
                }
            }
            if let Some(expr) = expression(used) {
                p.add_constraint(expr, op, rhs);
            }
        };
        for r in &rels {
            let rel = &model.relations[*r];
            let mut terms = vec![(rel.parent, 1.0)];
            terms.extend(rel.children.iter().map(|c| (*c, -1.0)));
            add(terms, ComparisonOp::Eq);
        }
        for b in &belows {
            let (child, parent) = model.below[*b];
            add(vec![(child, 1.0), (parent, -1.0)], ComparisonOp::Le);
        }
        let solved = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.solve()));
        match solved {
            Ok(Ok(outcome)) => outcome.solution().map(|s| Some(s.objective())).ok_or(()),
            Ok(Err(microlp::Error::Unbounded)) => Ok(None),
            // Infeasible cannot happen (the true counts satisfy every relation).
            _ => Err(()),
        }
    };
    let truth = model.cells[cell].value as f64;
    let lower = match solve(OptimizationDirection::Minimize) {
        Ok(Some(v)) => v.max(0.0),
        _ => truth,
    };
    let upper = solve(OptimizationDirection::Maximize).unwrap_or(Some(truth));
    Bounds { lower, upper }
}

/// The cheapest set of printed counts whose blanking lets a reader's picture of `cell` move by
/// `by` (so no bound tighter than that can be proved): a linear programme over changes to every
/// count that keep every relation and every count non-negative, each change to a printed count
/// costing its size weighted by `cost` (changes to blank or unprinted cells are free). The
/// printed counts that change are returned; blanking them protects `cell` by construction.
/// `None` when no such change exists (or the solver fails).
pub fn cheapest_cover(
    model: &Model,
    components: &Components,
    cell: usize,
    by: f64,
    cost: &dyn Fn(usize) -> f64,
) -> Option<Cover> {
    cover_within(model, components, cell, by, cost, false)
}

/// A cover: the printed counts to blank, and every cell its change moves by at least the
/// amount asked (the cell itself included). Once those counts are blank, the change is a
/// picture of the publication a reader cannot tell from the true one, so each such cell is
/// shown safe by it, then and after (blanking more only widens what a reader cannot tell).
#[derive(Debug, Clone, Default)]
pub struct Cover {
    pub blank: Vec<usize>,
    pub moved_far: Vec<usize>,
}

/// Whether `cell` can move up or down by `by` with no printed count changing (every relation
/// kept, every count non-negative): a witness that no reader can narrow it to an interval
/// narrower than `by`, found with one small programme rather than two bounds.
///
/// Returns the cells the witness moves by `by` or more (`cell` among them: each is shown safe by
/// the same picture), or `None` when there is no such witness.
pub fn movable_by(
    model: &Model,
    components: &Components,
    cell: usize,
    by: f64,
) -> Option<Vec<usize>> {
    cover_within(model, components, cell, by, &|_| 0.0, true)
        .or_else(|| {
            (model.cells[cell].value as f64 >= by)
                .then(|| cover_within(model, components, cell, -by, &|_| 0.0, true))
                .flatten()
        })
        .map(|c| c.moved_far)
}

fn cover_within(
    model: &Model,
    components: &Components,
    cell: usize,
    by: f64,
    cost: &dyn Fn(usize) -> f64,
    printed_still: bool,
) -> Option<Cover> {
    let cell_index = cell;
    let mut p = Problem::new(OptimizationDirection::Minimize);
    // Each count's change: (rise, fall), both non-negative.
    let mut vars: HashMap<usize, (Variable, Variable)> = HashMap::new();
    let mut var = |c: usize, p: &mut Problem| {
        *vars.entry(c).or_insert_with(|| {
            let cell = &model.cells[c];
            let w = if cell.state == State::Published {
                cost(c)
            } else {
                0.0
            };
            if c == cell_index {
                // A negative `by` moves the cell down (never below 0).
                return if by >= 0.0 {
                    (p.add_var(0.0, (by, by)), p.add_var(0.0, (0.0, 0.0)))
                } else {
                    (p.add_var(0.0, (0.0, 0.0)), p.add_var(0.0, (-by, -by)))
                };
            }
            // A printed 0 is never blanked to protect another: it says "none", and a blank
            // that protects nothing by its own count is no protection a reader can see.
            // A count a publication already out prints cannot be blanked now either.
            let still =
                cell.state == State::Published && (cell.value == 0 || cell.fixed || printed_still);
            let rise = if still { 0.0 } else { f64::INFINITY };
            let fall = if still { 0.0 } else { cell.value.max(0) as f64 };
            (p.add_var(w, (0.0, rise)), p.add_var(w, (0.0, fall)))
        })
    };
    // Only the sums reached from `cell` through counts that can change: a sum whose counts all
    // stay put holds with no change at all (a publication already out is mostly such counts).
    let (reached, reached_below) = components.movable_part(model, cell, printed_still);
    for r in reached {
        let rel = &model.relations[r];
        let (u, d) = var(rel.parent, &mut p);
        let mut terms = vec![(u, 1.0), (d, -1.0)];
        for c in &rel.children {
            let (u, d) = var(*c, &mut p);
            terms.push((u, -1.0));
            terms.push((d, 1.0));
        }
        if let Some(expr) = expression(terms) {
            p.add_constraint(expr, ComparisonOp::Eq, 0.0);
        }
    }
    for b in reached_below {
        let (child, parent) = &model.below[b];
        let (cu, cd) = var(*child, &mut p);
        let (pu, pd) = var(*parent, &mut p);
        let slack = (model.cells[*parent].value - model.cells[*child].value) as f64;
        if let Some(expr) = expression(vec![(cu, 1.0), (cd, -1.0), (pu, -1.0), (pd, 1.0)]) {
            p.add_constraint(expr, ComparisonOp::Le, slack);
        }
    }
    var(cell, &mut p);
    let solved = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.solve()));
    let outcome = match solved {
        Ok(Ok(outcome)) => outcome,
        _ => return None,
    };
    let solution = outcome.solution()?;
    let mut blank: Vec<usize> = vars
        .iter()
        .filter(|(c, (rise, fall))| {
            **c != cell
                && model.cells[**c].state == State::Published
                && solution.var_value(*rise) + solution.var_value(*fall) > 1e-6
        })
        .map(|(c, _)| *c)
        .collect();
    blank.sort_unstable();
    let mut moved_far: Vec<usize> = vars
        .iter()
        .filter(|(_, (rise, fall))| {
            (solution.var_value(*rise) - solution.var_value(*fall)).abs() >= by.abs() - 1e-6
        })
        .map(|(c, _)| *c)
        .collect();
    moved_far.sort_unstable();
    Some(Cover { blank, moved_far })
}
