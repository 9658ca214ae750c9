//! Exit codes, in one place: what a cron job or a calling script can rely on. One enum; every
//! error type of the library maps onto it here, and nothing else decides a code. Listed in
//! `cex --help` and the README.

use crate::cli::CliError;
use crate::config::ConfigError;
use crate::ingest::IngestError;
use crate::kpi::KpiError;
use crate::lake::LakeError;
use crate::sources::SourceError;

/// How a run ended, as its exit code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything went through (warnings, if any, printed).
    Ok,
    /// Finished, but with warnings, and `--deny-warnings` was given.
    Warnings,
    /// Bad command line or pipeline file (clap also uses 2 for usage errors).
    Config,
    /// An input is missing, unreadable, empty or lacks a mapped column; or there is nothing to
    /// compute from (an empty lake, no published tables for the period).
    Input,
    /// A quality gate failed (e.g. too many rejected rows); nothing was written to the lake.
    QualityGate,
    /// Another run holds the lake's lock.
    Locked,
    /// Anything else: a bug, or the machine (disk full, permissions), with the path and reason.
    Internal,
}

impl ExitCode {
    pub const ALL: [ExitCode; 7] = [
        ExitCode::Ok,
        ExitCode::Warnings,
        ExitCode::Config,
        ExitCode::Input,
        ExitCode::QualityGate,
        ExitCode::Locked,
        ExitCode::Internal,
    ];

    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Warnings => 1,
            ExitCode::Config => 2,
            ExitCode::Input => 3,
            ExitCode::QualityGate => 4,
            ExitCode::Locked => 5,
            ExitCode::Internal => 10,
        }
    }

    /// What the code means, as `--help` says it.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitCode::Ok => "ok",
            ExitCode::Warnings => "warnings with --deny-warnings",
            ExitCode::Config => "bad command line or pipeline file",
            ExitCode::Input => "bad or missing input (export, lake contents, published tables)",
            ExitCode::QualityGate => "quality gate failed (nothing written)",
            ExitCode::Locked => "lake locked by another run",
            ExitCode::Internal => "internal error or the machine (disk full, permissions)",
        }
    }
}

/// The text `cex --help` shows.
pub const HELP: &str = "Exit codes: 0 ok; 1 warnings with --deny-warnings; 2 bad command line or pipeline file; \
3 bad or missing input (export, lake contents, published tables); 4 quality gate failed (nothing written); \
5 lake locked by another run; 10 internal error or the machine (disk full, permissions).";

fn for_lake(e: &LakeError) -> ExitCode {
    match e {
        LakeError::Locked { .. } => ExitCode::Locked,
        LakeError::NoSuchVersion { .. } | LakeError::OldLayout { .. } => ExitCode::Config,
        LakeError::Io { .. } | LakeError::Data { .. } => ExitCode::Internal,
    }
}

/// The exit code for an error: the first cause in its chain whose type says.
pub fn for_error(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.downcast_ref::<ConfigError>().is_some() {
            return ExitCode::Config;
        }
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return match e {
                CliError::BadArgument { .. } => ExitCode::Config,
                CliError::NothingPublished { .. } => ExitCode::Input,
            };
        }
        if cause.downcast_ref::<SourceError>().is_some() {
            return ExitCode::Input;
        }
        if let Some(e) = cause.downcast_ref::<LakeError>() {
            return for_lake(e);
        }
        if let Some(e) = cause.downcast_ref::<IngestError>() {
            return match e {
                IngestError::NoFiles { .. } | IngestError::BadPattern { .. } => ExitCode::Input,
                IngestError::Source(_) | IngestError::Data { .. } => ExitCode::Input,
                IngestError::Lake(e) => for_lake(e),
            };
        }
        if let Some(e) = cause.downcast_ref::<KpiError>() {
            return match e {
                KpiError::NoData(_) => ExitCode::Input,
                KpiError::Data(_) => ExitCode::Internal,
            };
        }
    }
    ExitCode::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_code_with_its_meaning() {
        for code in ExitCode::ALL {
            assert!(
                HELP.contains(&format!("{} {}", code.code(), code.meaning())),
                "{code:?}"
            );
        }
    }

    #[test]
    fn a_full_disk_is_the_machine_not_the_input() {
        let err = anyhow::Error::new(IngestError::Lake(LakeError::Io {
            path: "lake/contacts/x.parquet".into(),
            message: "cannot write: No space left on device (os error 28)".into(),
        }));
        assert_eq!(for_error(&err), ExitCode::Internal);
        let err = anyhow::Error::new(KpiError::NoData("the lake holds no contacts".into()));
        assert_eq!(for_error(&err), ExitCode::Input);
    }
}
