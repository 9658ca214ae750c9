//! What ingest found, per file and in total: reconciliation counts, reject reasons, quality-gate
//! findings. Printing is here too, so `cex ingest` and `cex validate` show the same table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

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
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Categories (queues, forms...) that have no service mapping.
    pub unmapped_categories: Vec<String>,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// When the file was skipped as a repeat: the file it repeats.
    pub same_as: Option<String>,
    /// Blank lines (every field empty) skipped: not records, so not in `rows_read`.
    pub blank_rows: u64,
}

impl FileReport {
    /// read = accepted + rejected + duplicates: every row is accounted for.
    pub fn reconciles(&self) -> bool {
        self.rows_read == self.accepted + self.rejected + self.duplicates
    }

    pub fn reject_share(&self) -> f64 {
        if self.rows_read == 0 {
            0.0
        } else {
            self.rejected as f64 / self.rows_read as f64
        }
    }

    pub fn reasons_text(&self) -> String {
        self.rejects_by_reason
            .iter()
            .map(|(r, n)| format!("{r}={n}"))
            .collect::<Vec<_>>()
            .join("; ")
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
    pub fn totals(&self) -> (u64, u64, u64, u64) {
        self.files.iter().fold((0, 0, 0, 0), |t, f| {
            (
                t.0 + f.rows_read,
                t.1 + f.accepted,
                t.2 + f.rejected,
                t.3 + f.duplicates,
            )
        })
    }

    /// A plain-text table of every file, then totals, warnings and gate failures.
    pub fn render(&self, verb_accepted: &str) -> String {
        let mut out = String::new();
        let width = self
            .files
            .iter()
            .map(|f| f.path.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>9}  {:>8}  {:>10}  rejected by reason",
            "file", "rows", verb_accepted, "rejected", "duplicates"
        );
        for f in &self.files {
            match f.status {
                FileStatus::Ingested => {
                    let _ = writeln!(
                        out,
                        "{:<width$}  {:>9}  {:>9}  {:>8}  {:>10}  {}",
                        f.path,
                        f.rows_read,
                        f.accepted,
                        f.rejected,
                        f.duplicates,
                        f.reasons_text()
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
        let (read, accepted, rejected, duplicates) = self.totals();
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>9}  {:>8}  {:>10}",
            "total", read, accepted, rejected, duplicates
        );
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {}: {w}", w.subject());
        }
        for g in &self.gate_failures {
            let _ = writeln!(out, "quality gate failed: {}: {}", g.file, g.message);
        }
        out
    }
}
