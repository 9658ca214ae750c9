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
    /// Categories (queues, forms...) that have no service mapping.
    pub unmapped_categories: Vec<String>,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// When the file was skipped as a repeat: the file it repeats.
    pub same_as: Option<String>,
    /// Values no mapping knows (a channel, outcome, category, rating or yes/no value), by the
    /// export column they are in: value -> rows. At most [`UNMAPPED_SHOWN`] values per column;
    /// shown clipped and scrubbed.
    pub unmapped_values: BTreeMap<String, BTreeMap<String, u64>>,
    /// Identifiers taken as placeholders because they carried more contacts on one day than
    /// `customers.max_contacts_per_day`, by the export column they are in (counts only).
    pub placeholder_identifiers: BTreeMap<String, PlaceholderCount>,
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

/// How many unmapped values of one column a report keeps.
pub const UNMAPPED_SHOWN: usize = 30;

impl FileReport {
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
        let mut unmapped: BTreeMap<(&str, &str), BTreeMap<&str, u64>> = BTreeMap::new();
        for f in &self.files {
            for (column, values) in &f.unmapped_values {
                let into = unmapped
                    .entry((f.source.as_str(), column.as_str()))
                    .or_default();
                for (v, n) in values {
                    *into.entry(v.as_str()).or_default() += n;
                }
            }
        }
        for ((source, column), values) in &unmapped {
            let listed: Vec<String> = values
                .iter()
                .map(|(v, n)| format!("'{v}' ({n} row{})", if *n == 1 { "" } else { "s" }))
                .collect();
            let _ = writeln!(
                out,
                "unmapped in {source}, column '{column}': {}",
                listed.join(", ")
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
