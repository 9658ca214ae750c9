//! Deliberate defects: which rows of a file are spoiled (exactly one reason each) or repeated.
//! Also the tally of what a file really holds, counted as rows are written, for expected_counts.json.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::generate::rng::Rng;

/// Why ingest must reject a row; `code()` is the reason code in expected_counts.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reject {
    BadDate,
    MissingValue,
    NegativeDuration,
    BadNumber,
    UnmappedService,
    UnknownOutcome,
    RatingNotInScale,
    UnknownChannel,
}

impl Reject {
    /// The error for a reason dealt to a source that has no such field (a planning bug).
    pub(crate) fn not_for(self, source: &str) -> anyhow::Error {
        anyhow::anyhow!("{} is not a defect {source} rows can carry", self.code())
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Reject::BadDate => "bad_date",
            Reject::MissingValue => "missing_value",
            Reject::NegativeDuration => "negative_duration",
            Reject::BadNumber => "bad_number",
            Reject::UnmappedService => "unmapped_service",
            Reject::UnknownOutcome => "unknown_outcome",
            Reject::RatingNotInScale => "rating_not_in_scale",
            Reject::UnknownChannel => "unknown_channel",
        }
    }
}

/// What happens to one generated row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Reject(Reject),
    /// Written twice in a row: an exact repeat inside the file.
    Repeat,
}

/// One bad value in one column: how a row is spoiled. `text` is already encoded and CSV-safe.
#[derive(Debug)]
pub(crate) struct Patch {
    pub col: usize,
    pub text: Vec<u8>,
}

/// Share of eligible rows spoiled and repeated; together below the 1% promised per file.
const REJECT_RATE: f64 = 0.005;
const REPEAT_RATE: f64 = 0.002;

/// Rejected and repeated rows for a file with `eligible` rows that may carry defects.
pub(crate) fn defect_sizes(eligible: u64) -> (u64, u64) {
    let e = eligible as f64;
    ((e * REJECT_RATE) as u64, (e * REPEAT_RATE) as u64)
}

/// The actions of one file, sorted by row position.
#[derive(Debug)]
pub(crate) struct Plan {
    actions: Vec<(u64, Action)>,
    next: usize,
}

impl Plan {
    pub(crate) fn none() -> Plan {
        Plan {
            actions: Vec::new(),
            next: 0,
        }
    }

    /// Picks distinct rows in `eligible` (positions among the file's generated rows). Reasons are
    /// dealt from `kinds` in turn starting at `first_kind`, so that across a source's files every
    /// reason turns up about equally often.
    pub(crate) fn new(
        rng: &mut Rng,
        eligible: Range<u64>,
        kinds: &[Reject],
        first_kind: u64,
    ) -> Plan {
        let len = eligible.end.saturating_sub(eligible.start);
        let (rejects, repeats) = defect_sizes(len);
        let wanted = (rejects + repeats) as usize;
        let mut positions = Vec::with_capacity(wanted);
        while positions.len() < wanted {
            while positions.len() < wanted {
                positions.push(eligible.start + rng.below(len));
            }
            positions.sort_unstable();
            positions.dedup();
        }
        let mut actions: Vec<Action> = (0..rejects)
            .map(|i| Action::Reject(kinds[((first_kind + i) % kinds.len() as u64) as usize]))
            .chain((0..repeats).map(|_| Action::Repeat))
            .collect();
        // Fisher-Yates, so reasons are not clustered by position.
        for i in (1..actions.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            actions.swap(i, j);
        }
        Plan {
            actions: positions.into_iter().zip(actions).collect(),
            next: 0,
        }
    }

    /// The action for row `pos`; rows must be asked for in increasing order.
    pub(crate) fn take(&mut self, pos: u64) -> Option<Action> {
        match self.actions.get(self.next) {
            Some(&(p, a)) if p == pos => {
                self.next += 1;
                Some(a)
            }
            _ => None,
        }
    }
}

/// What a written file holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    pub rows: u64,
    pub rejects: BTreeMap<&'static str, u64>,
    pub duplicates: u64,
}

/// How a written record counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    Clean,
    Rejected(Reject),
    /// Repeats an earlier record, of this file or of an earlier file of the source.
    SeenBefore,
}

impl Tally {
    pub(crate) fn count(&mut self, c: Counted) {
        self.rows += 1;
        match c {
            Counted::Clean => {}
            Counted::Rejected(r) => *self.rejects.entry(r.code()).or_insert(0) += 1,
            Counted::SeenBefore => self.duplicates += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_spreads_reasons_and_stays_in_range() {
        let kinds = [
            Reject::BadDate,
            Reject::MissingValue,
            Reject::UnmappedService,
        ];
        let mut rng = Rng::stream(1, &[]);
        let mut plan = Plan::new(&mut rng, 100..10_100, &kinds, 1);
        let mut seen = Vec::new();
        for pos in 0..20_000 {
            if let Some(a) = plan.take(pos) {
                assert!((100..10_100).contains(&pos));
                seen.push(a);
            }
        }
        assert_eq!(seen.len(), 50 + 20);
        assert_eq!(seen.iter().filter(|a| **a == Action::Repeat).count(), 20);
        for k in kinds {
            let n = seen.iter().filter(|a| **a == Action::Reject(k)).count();
            assert!((16..=17).contains(&n), "{k:?}: {n}");
        }
    }

    #[test]
    fn small_files_get_no_defects() {
        assert_eq!(defect_sizes(150), (0, 0));
        let (r, d) = defect_sizes(500);
        assert!(r + d < 5);
    }
}
