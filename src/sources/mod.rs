//! Sources: how one raw export file becomes canonical rows plus rejects with reasons.
//! Reading (`read`), field parsing (`parse`), mapping to the canonical model (`map`), scrubbing (`scrub`),
//! customer identifiers in one form (`customer`),
//! sniffing an unmapped export and writing its starter mapping for `cex init` (`sniff`, `starter`);
//! nothing here writes to the lake.

pub mod customer;
pub mod map;
pub mod parse;
pub mod read;
pub mod scrub;
pub mod sniff;
pub mod starter;

use std::path::PathBuf;

use thiserror::Error;

/// Why a file could not be read at all (as opposed to a row being rejected).
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}: the file is empty", path.display())]
    Empty { path: PathBuf },
    #[error("{}: cannot tell the format from the extension; set `format = \"csv\"` or \"xlsx\" on the source", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("{}: {message}", path.display())]
    Encoding { path: PathBuf, message: String },
    #[error("{}: cannot parse as CSV: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: Excel workbook {message}", path.display())]
    Excel { path: PathBuf, message: String },
    #[error("{}: {}; the file's columns are: {}", path.display(), describe_missing(missing), describe_available(available))]
    MissingColumns {
        path: PathBuf,
        /// (canonical field, configured column) pairs not found in the file.
        missing: Vec<(String, String)>,
        available: Vec<String>,
    },
    #[error(
        "{}: columns {} and {} are both named {}; the mapping cannot tell them apart: rename one in the export",
        path.display(), first.0, second.0, crate::redact::quote(&second.1)
    )]
    DuplicateHeaders {
        path: PathBuf,
        /// (1-based position, name) of each.
        first: (usize, String),
        second: (usize, String),
    },
    #[error(
        "{}: the file reads as one column: it seems to be separated by {}; set delimiter = \"{}\" on the source",
        path.display(),
        if delimiter == "tab" { "tabs".to_string() } else { format!("'{delimiter}'") },
        if delimiter == "tab" { "\\t" } else { delimiter.as_str() }
    )]
    WrongDelimiter { path: PathBuf, delimiter: String },
    /// The source's `path_fields` do not fit the file's path.
    #[error("{}: {message}; rename the file or change the source's path_fields", path.display())]
    PathFields { path: PathBuf, message: String },
    #[error("{}: lookup table: {message}", path.display())]
    Lookup { path: PathBuf, message: String },
}

/// The columns a file has, as a message shows them: each quoted short and scrubbed (a header
/// line can be anything: a whole export on one line, a comment), at most 12 of them.
fn describe_available(available: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut parts: Vec<String> = available
        .iter()
        .take(SHOWN)
        .map(|h| crate::redact::clip(h))
        .collect();
    if available.len() > SHOWN {
        parts.push(format!("and {} more", available.len() - SHOWN));
    }
    parts.join(", ")
}

fn describe_missing(missing: &[(String, String)]) -> String {
    let parts: Vec<String> = missing
        .iter()
        .map(|(field, column)| format!("column '{column}' (mapped to {field}) is missing"))
        .collect();
    parts.join("; ")
}

/// Reason codes for rejected rows, shared by the mapping, the rejects files and the tests.
pub mod reason {
    pub const MISSING_VALUE: &str = "missing_value";
    pub const BAD_DATE: &str = "bad_date";
    /// A source dated by quarter (`date_granularity = "quarter"`): not a quarter label it reads
    /// (`2023 Q5`, `2023/25 Q1`, `Spring 2023`).
    pub const BAD_QUARTER: &str = "bad_quarter";
    /// A source dated by year (`date_granularity = "year"`): not `YYYY` or a financial year's
    /// name (`2023/24`).
    pub const BAD_YEAR: &str = "bad_year";
    pub const BAD_NUMBER: &str = "bad_number";
    /// A record id a spreadsheet has turned into a rounded number in E notation
    /// (`1.23457E+17`): ids that differ after the first digits all read the same, so every
    /// row but one would be taken for a duplicate.
    pub const ROUNDED_RECORD_ID: &str = "rounded_record_id";
    pub const NEGATIVE_DURATION: &str = "negative_duration";
    pub const UNMAPPED_SERVICE: &str = "unmapped_service";
    pub const UNKNOWN_OUTCOME: &str = "unknown_outcome";
    pub const UNKNOWN_CHANNEL: &str = "unknown_channel";
    pub const UNKNOWN_VALUE: &str = "unknown_value";
    pub const UNKNOWN_CATEGORY: &str = "unknown_category";
    pub const RATING_NOT_IN_SCALE: &str = "rating_not_in_scale";
    /// Dated before `quality.earliest_date` or after the run's day + `quality.future_days`
    /// (two-digit years read as years 0-99 included).
    pub const IMPLAUSIBLE_DATE: &str = "implausible_date";
    /// Not finite, or above `quality.max_duration_hours`.
    pub const IMPLAUSIBLE_DURATION: &str = "implausible_duration";
    /// Above `quality.max_count`, or not finite.
    pub const IMPLAUSIBLE_COUNT: &str = "implausible_count";
    /// The row has more or fewer fields than the header: kept in the rejects exactly as exported.
    pub const WRONG_FIELD_COUNT: &str = "wrong_field_count";
    /// A quoted value runs over lines with as many fields as a row: a quote left open has
    /// joined the rows after it into the value. Kept in the rejects as exported.
    pub const JOINED_ROWS: &str = "joined_rows";
    /// Not a reject: the row is out of scope under a row filter rule (`[[sources.exclude]]`,
    /// `[[sources.include]]`), counted as excluded under the rule's name.
    pub const EXCLUDED: &str = "excluded";
}
