//! Exit codes, in one place: what a cron job or a calling script can rely on. One enum, listed
//! in `cex --help` and the README; which error gets which code is decided in one function,
//! [`crate::run::exit_code`], which knows every stage's error type.

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

    /// The exit code a process number stands for (`Internal` for a number cex never uses).
    pub fn from_code(code: i32) -> ExitCode {
        ExitCode::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .unwrap_or(ExitCode::Internal)
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
}
