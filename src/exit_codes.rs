//! Exit codes, in one place: what a cron job or a calling script can rely on.
//! Listed in `cex --help` and the README; nothing else decides them.

use crate::config::ConfigError;
use crate::ingest::IngestError;
use crate::lake::LakeError;
use crate::sources::SourceError;

/// Everything went through.
pub const OK: i32 = 0;
/// Finished, but with warnings, and `--deny-warnings` was given.
pub const WARNINGS: i32 = 1;
/// Bad command line or pipeline file (clap also uses 2 for usage errors).
pub const CONFIG: i32 = 2;
/// An input file is missing, unreadable, empty or lacks a mapped column.
pub const INPUT: i32 = 3;
/// A quality gate failed (e.g. too many rejected rows); nothing was written to the lake.
pub const QUALITY_GATE: i32 = 4;
/// Another run holds the lake's lock.
pub const LOCKED: i32 = 5;
/// Anything else: a bug or the machine (disk full, permissions).
pub const INTERNAL: i32 = 10;

/// The text `cex --help` shows.
pub const HELP: &str = "Exit codes: 0 ok; 1 warnings with --deny-warnings; 2 bad command line or pipeline file; \
3 bad input file; 4 quality gate failed (nothing written); 5 lake locked by another run; 10 internal error.";

/// The exit code for an error, by its kind.
pub fn for_error(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return CONFIG;
        }
        if cause.downcast_ref::<SourceError>().is_some() {
            return INPUT;
        }
        if let Some(e) = cause.downcast_ref::<LakeError>() {
            return match e {
                LakeError::Locked { .. } => LOCKED,
                _ => INTERNAL,
            };
        }
        if let Some(e) = cause.downcast_ref::<IngestError>() {
            return match e {
                IngestError::NoFiles { .. } | IngestError::BadPattern { .. } => INPUT,
                IngestError::Source(_) | IngestError::Data { .. } => INPUT,
                IngestError::Lake(LakeError::Locked { .. }) => LOCKED,
                IngestError::Lake(_) => INTERNAL,
            };
        }
    }
    INTERNAL
}
