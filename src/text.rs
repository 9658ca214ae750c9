//! Text helpers shared by every stage: normalisation of raw text values and column headers, so
//! mappings match "case- and whitespace-insensitively" the same way in configuration (Rust) and
//! in data (polars expressions); the first paragraph of an error message; XML and HTML escaping.

use polars::prelude::*;

/// Escapes text for XML and HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `"  Answered   by Agent "` -> `"answered by agent"`: trimmed, lower case, inner runs of
/// whitespace collapsed to one space.
pub fn normalise_value(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A header as it is matched against the pipeline's column names: the same rule as values
/// (BOMs and non-breaking spaces included in "whitespace").
pub fn normalise_header(raw: &str) -> String {
    normalise_value(&raw.replace(['\u{feff}', '\u{a0}'], " "))
}

/// The polars twin of [`normalise_value`], for a String column.
pub fn normalised(e: Expr) -> Expr {
    e.str()
        .replace_all(lit(r"\s+"), lit(" "), false)
        .str()
        .strip_chars(lit(NULL))
        .str()
        .to_lowercase()
}

/// The first paragraph of an error: polars appends the whole query plan, which helps nobody
/// reading a cron mail.
pub fn first_paragraph(message: &str) -> String {
    message
        .split("\n\n")
        .next()
        .unwrap_or(message)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_whatever_their_case_and_spacing() {
        assert_eq!(
            normalise_value("  Answered   by\tAgent "),
            "answered by agent"
        );
        assert_eq!(normalise_value("POOR "), "poor");
        assert_eq!(normalise_header("\u{feff}Contact ID"), "contact id");
        assert_eq!(normalise_header(" form\u{a0}name "), "form name");
    }

    #[test]
    fn the_polars_expression_agrees_with_the_rust_function() -> PolarsResult<()> {
        let raw = ["  Answered   by\tAgent ", "POOR ", "", "Good"];
        let df = df!("v" => raw)?
            .lazy()
            .select([normalised(col("v"))])
            .collect()?;
        let got: Vec<Option<&str>> = df.column("v")?.str()?.iter().collect();
        let want: Vec<String> = raw.iter().map(|r| normalise_value(r)).collect();
        let want: Vec<Option<&str>> = want.iter().map(|s| Some(s.as_str())).collect();
        assert_eq!(got, want);
        Ok(())
    }
}
