//! Messages to whoever runs cex: a plain line on stderr for people, or, with `--log-format json`,
//! one JSON object per line for log collectors. Data never goes here; tables go to files.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

/// How messages are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

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
