//! What ingest found, per file and in total: reconciliation counts, reject reasons, quality-gate
//! findings. Printing is here too, so `cex ingest` and `cex validate` show the same table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

pub use crate::lake::manifest::RowCounts;

/// What happened to one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Rows added to the lake (or, for validate, would be).
    Ingested,
    /// The same content (SHA-256) is already in the lake: skipped, nothing changes.
    AlreadyIngested,
    /// The same content as another file in this run (a re-sent export): skipped.
    SameAsAnotherFile,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub source: String,
    /// The path as configured (relative to the pipeline file's folder where possible).
    pub path: String,
    pub file_id: String,
    pub status: FileStatus,
    pub encoding: String,
    /// Lines not UTF-8 in a UTF-8 file, read as Windows-1252.
    pub repaired_lines: u64,
    /// Rows read, accepted, rejected (by reason), duplicates, excluded (by rule) and blank.
    #[serde(flatten)]
    pub counts: RowCounts,
    /// Categories (queues, forms...) that have no service mapping, with their rows.
    pub unmapped_categories: UnmappedValues,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// When the file was skipped as a repeat: the file it repeats.
    pub same_as: Option<String>,
    /// Values no mapping knows (a channel, outcome, category, rating or yes/no value), by the
    /// export column they are in, with their rows; clipped and scrubbed.
    pub unmapped_values: BTreeMap<String, UnmappedValues>,
    /// Identifiers taken as placeholders because they carried more contacts on one day than
    /// `customers.max_contacts_per_day`, by the export column they are in (counts only).
    pub placeholder_identifiers: BTreeMap<String, PlaceholderCount>,
    /// The first rejected row of each reason, as messages show it: what a gate that stops the
    /// file (and writes no rejects) can still show of what was wrong.
    pub first_rejects: BTreeMap<String, FirstReject>,
    /// Duplicates that are not repeats: rows with the record identity of a row already taken
    /// (in the lake, an earlier file or earlier in this one) and other content. Counted among
    /// the duplicates; the row taken first is kept.
    pub conflicting_duplicates: ConflictingDuplicates,
}

/// Rows with the identity of a row already taken and other content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConflictingDuplicates {
    pub rows: u64,
    /// The first such row's number, as the rejects file's `cex_row` would give it.
    pub first_row: Option<u64>,
    /// The columns (as the lake names them) in which that row differs from the row taken first;
    /// empty where the row taken first could not be read back (a dry run stages no rows: it
    /// names them only against rows already in the lake).
    pub columns: Vec<String>,
}

/// The first rejected row of one reason: its row number, the column and the value, quoted short
/// and scrubbed ([`crate::redact::quote`]), or `(withheld)` where it may hold a customer
/// identifier (a column the source maps in `[sources.customer]`, or a misaligned row of such a
/// source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstReject {
    /// The row number, as the rejects file's `cex_row` gives it.
    pub row: u64,
    /// The export's column, or `(whole row)` for a row with the wrong number of fields.
    pub column: String,
    /// The value as shown: quoted, or `(withheld)`.
    pub value: String,
}

/// What a message shows instead of a value that may identify a customer.
pub const WITHHELD: &str = "(withheld)";

impl std::fmt::Display for FirstReject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column == crate::sources::map::WHOLE_ROW {
            write!(f, "row {}, the whole row {}", self.row, self.value)
        } else {
            write!(
                f,
                "row {}, {} {}",
                self.row,
                crate::redact::quote(&self.column),
                self.value
            )
        }
    }
}

/// Identifiers of one column taken as placeholders by their volume.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PlaceholderCount {
    /// How many different values.
    pub values: u64,
    /// Their contacts, which got no key from the column.
    pub contacts: u64,
    /// The most contacts one of them carried on one day.
    pub busiest_day: u64,
}

/// How many unmapped values of one column a report lists (the most frequent); the rest are
/// counted in one "… and N more values (M rows)".
pub const UNMAPPED_SHOWN: usize = 30;

/// How many different unmapped values of one column of one file are counted one by one; rows
/// of values first seen after that are counted together (a free-text column mapped by mistake
/// can hold a different value on every row).
pub const UNMAPPED_COUNTED: usize = 10_000;

/// The values of one export column that no mapping knows, with their rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnmappedValues {
    /// Value (clipped and scrubbed) -> rows, for at most [`UNMAPPED_COUNTED`] values a file.
    pub rows: BTreeMap<String, u64>,
    /// Rows of values first seen after [`UNMAPPED_COUNTED`] others, not told apart.
    pub uncounted_rows: u64,
}

impl UnmappedValues {
    /// Counts `n` rows of `value` (already clipped), or of an uncounted value once the column
    /// has [`UNMAPPED_COUNTED`] values.
    pub fn add(&mut self, value: &str, n: u64) {
        if let Some(rows) = self.rows.get_mut(value) {
            *rows += n;
        } else if self.rows.len() < UNMAPPED_COUNTED {
            self.rows.insert(value.to_string(), n);
        } else {
            self.uncounted_rows += n;
        }
    }

    /// Adds another file's values of the same column.
    pub fn merge(&mut self, other: &UnmappedValues) {
        for (value, n) in &other.rows {
            *self.rows.entry(value.clone()).or_default() += n;
        }
        self.uncounted_rows += other.uncounted_rows;
    }

    /// No value counted, none uncounted.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.uncounted_rows == 0
    }

    /// The counted values, the most rows first (ties alphabetically).
    pub fn ranked(&self) -> Vec<(&String, &u64)> {
        let mut values: Vec<(&String, &u64)> = self.rows.iter().collect();
        values.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        values
    }

    /// The [`UNMAPPED_SHOWN`] values with the most rows (ties alphabetically), each with its
    /// rows, then how many more values there are and their rows: nothing left out unsaid.
    pub fn listing(&self) -> String {
        let values = self.ranked();
        let rows = |n: u64| format!("{n} row{}", if n == 1 { "" } else { "s" });
        let mut listed: Vec<String> = values
            .iter()
            .take(UNMAPPED_SHOWN)
            .map(|(v, n)| format!("'{v}' ({})", rows(**n)))
            .collect();
        let rest = &values[values.len().min(UNMAPPED_SHOWN)..];
        let more_values = rest.len() as u64;
        let more_rows = rest.iter().map(|(_, n)| **n).sum::<u64>() + self.uncounted_rows;
        if more_rows > 0 {
            let values = if self.uncounted_rows > 0 {
                // Uncounted values are at least one more, maybe many.
                format!("over {more_values} more values")
            } else {
                format!(
                    "{more_values} more value{}",
                    if more_values == 1 { "" } else { "s" }
                )
            };
            listed.push(format!("… and {values} ({})", rows(more_rows)));
        }
        listed.join(", ")
    }
}

impl FileReport {
    /// `reason=n (first: row 2, 'Column' 'value'); ...`: the rejected rows by reason, each with
    /// its first row where one was kept.
    pub fn reasons_text(&self) -> String {
        self.counts
            .rejects_by_reason
            .iter()
            .map(|(reason, n)| match self.first_rejects.get(reason) {
                Some(first) => format!("{reason}={n} (first: {first})"),
                None => format!("{reason}={n}"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn reject_share(&self) -> f64 {
        let n = self.counts.rows_in_scope();
        if n == 0 {
            0.0
        } else {
            self.counts.rejected as f64 / n as f64
        }
    }
}

/// A finding that needs a reader's attention.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    pub warnings: Vec<crate::warnings::Warning>,
    /// Quality gates that failed; when any did, nothing was committed.
    pub gate_failures: Vec<Finding>,
    pub committed: bool,
    /// The lake's (manifest's) version after the run: what `--lake-version` reproduces.
    pub lake_version: Option<i64>,
}

impl IngestReport {
    /// `rejected in <file>: reason=n (first: row 2, 'Column' 'value'); ...` for each file with
    /// rejected rows that no warning or failed gate has already shown so: what `cex validate`
    /// adds, since it writes no rejects file to look in.
    pub fn reject_examples(&self) -> Vec<String> {
        let shown = |path: &str| {
            self.warnings.iter().any(|w| {
                matches!(w, crate::warnings::Warning::RejectedShare { file, .. } if file == path)
            }) || self
                .gate_failures
                .iter()
                .any(|g| g.file == path && g.message.contains("(first: "))
        };
        self.files
            .iter()
            .filter(|f| f.counts.rejected > 0 && !f.first_rejects.is_empty() && !shown(&f.path))
            .map(|f| format!("rejected in {}: {}", f.path, f.reasons_text()))
            .collect()
    }

    /// Every file's counts added up.
    pub fn totals(&self) -> RowCounts {
        let mut total = RowCounts::default();
        for f in &self.files {
            total.add(&f.counts);
        }
        total
    }

    /// Whether any file had rows excluded by a rule (the table shows the column then).
    fn any_excluded(&self) -> bool {
        self.files.iter().any(|f| f.counts.excluded > 0)
    }

    /// A plain-text table of every file, then totals, warnings and gate failures. The
    /// `excluded` column is shown when a row filter excluded rows, with the rules' counts.
    pub fn render(&self, verb_accepted: &str) -> String {
        let mut out = String::new();
        let width = self
            .files
            .iter()
            .map(|f| f.path.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let excluded = self.any_excluded();
        let counts = |read: u64, accepted: u64, rejected: u64, duplicates: u64, ex: u64| {
            let mut line = format!("{read:>9}  {accepted:>9}  {rejected:>8}  {duplicates:>10}");
            if excluded {
                line.push_str(&format!("  {ex:>8}"));
            }
            line
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>9}  {:>8}  {:>10}{}  rejected by reason{}",
            "file",
            "rows",
            verb_accepted,
            "rejected",
            "duplicates",
            if excluded { "  excluded" } else { "" },
            if excluded { "; excluded by rule" } else { "" },
        );
        for f in &self.files {
            match f.status {
                FileStatus::Ingested => {
                    let mut notes = f.counts.reasons_text();
                    if f.counts.excluded > 0 {
                        if !notes.is_empty() {
                            notes.push_str("; ");
                        }
                        notes.push_str(&format!("excluded: {}", f.counts.rules_text()));
                    }
                    let _ = writeln!(
                        out,
                        "{:<width$}  {}  {}",
                        f.path,
                        counts(
                            f.counts.rows_read,
                            f.counts.accepted,
                            f.counts.rejected,
                            f.counts.duplicates,
                            f.counts.excluded
                        ),
                        notes
                    );
                }
                FileStatus::AlreadyIngested => {
                    let _ = writeln!(
                        out,
                        "{:<width$}  already in the lake (same content), skipped",
                        f.path
                    );
                }
                FileStatus::SameAsAnotherFile => {
                    let _ = writeln!(
                        out,
                        "{:<width$}  same content as {}, skipped",
                        f.path,
                        f.same_as.as_deref().unwrap_or("another file")
                    );
                }
            }
        }
        let RowCounts {
            rows_read: read,
            accepted,
            rejected,
            duplicates,
            excluded: ex,
            ..
        } = self.totals();
        let _ = writeln!(
            out,
            "{:<width$}  {}",
            "total",
            counts(read, accepted, rejected, duplicates, ex)
        );
        // What to add to the mapping, value by value: the quickest way through a new export.
        let mut unmapped: BTreeMap<(&str, &str), UnmappedValues> = BTreeMap::new();
        for f in &self.files {
            for (column, values) in &f.unmapped_values {
                unmapped
                    .entry((f.source.as_str(), column.as_str()))
                    .or_default()
                    .merge(values);
            }
        }
        for ((source, column), values) in &unmapped {
            let _ = writeln!(
                out,
                "unmapped in {source}, column '{column}': {}",
                values.listing()
            );
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {}: {w}", w.subject());
        }
        for g in &self.gate_failures {
            let _ = writeln!(out, "quality gate failed: {}: {}", g.file, g.message);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_frequent_values_are_listed_and_the_rest_counted() {
        let mut values = UnmappedValues::default();
        // Thirty-two values of one row each first, the biggest last.
        for i in 0..32 {
            values.add(&format!("v{i:02}"), 1);
        }
        values.add("big", 124);
        values.add("v31", 1);
        let listing = values.listing();
        assert!(
            listing.starts_with("'big' (124 rows), 'v31' (2 rows), 'v00' (1 row)"),
            "{listing}"
        );
        assert_eq!(
            listing.matches(" row").count(),
            UNMAPPED_SHOWN + 1,
            "{listing}"
        );
        // 33 values: 30 listed, 'v28' to 'v30' (alphabetically last of the ties) left out.
        assert!(
            listing.contains("'v27'") && !listing.contains("'v28'"),
            "{listing}"
        );
        assert!(
            listing.ends_with(", … and 3 more values (3 rows)"),
            "{listing}"
        );
        // Another file's values are added in before the cut.
        let mut other = UnmappedValues::default();
        other.add("v30", 5);
        values.merge(&other);
        let listing = values.listing();
        assert!(listing.contains("'v30' (6 rows)"), "{listing}");
        assert!(
            listing.ends_with("'v26' (1 row), … and 3 more values (3 rows)"),
            "{listing}"
        );
        // Nothing left out: nothing said.
        let mut few = UnmappedValues::default();
        few.add("a", 1);
        assert_eq!(few.listing(), "'a' (1 row)");
    }

    #[test]
    fn values_beyond_those_counted_are_still_counted_as_rows() {
        let mut values = UnmappedValues::default();
        for i in 0..UNMAPPED_COUNTED + 3 {
            values.add(&format!("{i}"), 1);
        }
        // A value seen before keeps counting; a new one is one of the uncounted.
        values.add("0", 1);
        values.add("new", 7);
        assert_eq!(values.rows.len(), UNMAPPED_COUNTED);
        assert_eq!(values.uncounted_rows, 10);
        let more = UNMAPPED_COUNTED - UNMAPPED_SHOWN;
        let listing = values.listing();
        assert!(
            listing.ends_with(&format!(
                "… and over {more} more values ({} rows)",
                more + 10
            )),
            "{listing}"
        );
    }
}
