//! Messages to whoever runs cex: a plain line on stderr for people, or, with `--log-format json`,
//! one JSON object per line for log collectors. Data never goes here; tables go to files.
//! A text message is always one line of at most [`LINE_LIMIT`] characters (cron mail stays
//! readable whatever an export holds); `--verbose` or the JSON format keep the whole message.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

/// How messages are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();
static VERBOSE: OnceLock<bool> = OnceLock::new();

/// Characters of a text message before it is cut (the cut says how to see the rest); with the
/// `cex: error: ` label a line stays under 300.
pub const LINE_LIMIT: usize = 280;

/// Text messages are written whole (`--verbose`), not cut at [`LINE_LIMIT`].
pub fn set_verbose(verbose: bool) {
    let _ = VERBOSE.set(verbose);
}

/// A message as one line: line ends and control characters become spaces, runs of them one,
/// and, with a `limit`, at most that many characters (ending "…" and where the rest is).
pub fn one_line(message: &str, limit: Option<usize>) -> String {
    let flat = message
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match limit {
        Some(limit) if flat.chars().count() > limit => {
            const MORE: &str = "… (cut; --verbose shows all)";
            let keep = limit.saturating_sub(MORE.chars().count());
            let cut: String = flat.chars().take(keep).collect();
            format!("{}{MORE}", cut.trim_end())
        }
        _ => flat,
    }
}

/// Chooses the format once, at start-up; the default is text.
pub fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

fn format() -> LogFormat {
    *FORMAT.get().unwrap_or(&LogFormat::Text)
}

pub fn info(message: &str) {
    write("info", message);
}

pub fn warn(message: &str) {
    write("warning", message);
}

pub fn error(message: &str) {
    write("error", message);
}

fn write(level: &str, message: &str) {
    let line = match format() {
        LogFormat::Json => serde_json::json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "level": level,
            "message": message,
        })
        .to_string(),
        LogFormat::Text => {
            let verbose = *VERBOSE.get().unwrap_or(&false);
            let message = if verbose {
                message.to_string()
            } else {
                one_line(message, Some(LINE_LIMIT))
            };
            let label = match level {
                "info" => String::new(),
                other => format!("{other}: "),
            };
            // Bold warnings and errors for people at a terminal; plain text for files and cron.
            if level != "info" && std::io::stderr().is_terminal() {
                format!("cex: \x1b[1m{label}\x1b[0m{message}")
            } else {
                format!("cex: {label}{message}")
            }
        }
    };
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_one_short_line_whatever_it_holds() {
        let long = format!("file.csv: bad value '{}'", "x".repeat(5_000_000));
        let line = one_line(&long, Some(LINE_LIMIT));
        assert!(line.chars().count() <= LINE_LIMIT, "{}", line.len());
        assert!(line.ends_with("--verbose shows all)"));
        let toml = "pipeline.toml: TOML parse error at line 3, column 5\n  |\n3 | x = \n  |     ^\ninvalid string";
        let line = one_line(toml, Some(LINE_LIMIT));
        assert!(!line.contains('\n'));
        assert_eq!(
            line,
            "pipeline.toml: TOML parse error at line 3, column 5 | 3 | x = | ^ invalid string"
        );
        // Multi-byte text is cut on a character boundary.
        let pounds = "£".repeat(400);
        assert!(one_line(&pounds, Some(LINE_LIMIT)).chars().count() <= LINE_LIMIT);
        assert_eq!(one_line("short", Some(LINE_LIMIT)), "short");
    }
}
