//! Personal-data scrubbing at the door: free-text comments lose e-mail addresses, phone numbers,
//! postcodes and long reference numbers (the rules are [`crate::redact::RULES`], shared with the
//! plain-text [`crate::redact::scrub_text`]); postcodes are cut to their district. Nothing else is
//! kept.

use polars::prelude::*;

use crate::redact::RULES;

/// A comment with personal identifiers replaced by placeholders such as `[email]`: the polars
/// twin of [`crate::redact::scrub_text`].
pub fn scrub_comment(text: Expr) -> Expr {
    RULES.iter().fold(text, |e, (pattern, replacement)| {
        e.str().replace_all(lit(*pattern), lit(*replacement), false)
    })
}

/// The outward code (district) of a UK postcode: `ox4 1ab` -> `OX4`, `OX4-1AB` -> `OX4`; text
/// that is not a postcode or district gives null, so no full postcode is ever stored.
pub fn postcode_district(text: Expr) -> Expr {
    let compact = text
        .str()
        .to_uppercase()
        .str()
        .replace_all(lit(r"[\s\-–]+"), lit(""), false);
    let full = compact
        .clone()
        .str()
        .extract(lit(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)[0-9][A-Z]{2}$"), 1);
    let district_only = compact
        .str()
        .extract(lit(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)$"), 1);
    coalesce(&[full, district_only])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expr: Expr, values: &[&str]) -> PolarsResult<Vec<Option<String>>> {
        let df = df!("v" => values)?
            .lazy()
            .select([expr.alias("v")])
            .collect()?;
        Ok(df
            .column("v")?
            .str()?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    }

    #[test]
    fn comments_lose_identifiers_but_keep_their_sense() -> PolarsResult<()> {
        let got = run(
            scrub_comment(col("v")),
            &[
                "Email me at jo.bloggs@example.com please",
                "Ring 07700 900123 or +44 7700 900456",
                "Landline 01632 960001, London 020 7946 0123",
                "I live at OX4 1AB and my NI is QQ 12 34 56 C",
                "Account 12345678 was wrong",
                "Waited 20 minutes, staff were great",
            ],
        )?;
        let want = [
            "Email me at [email] please",
            "Ring [phone] or [phone]",
            "Landline [phone], London [phone]",
            "I live at [postcode] and my NI is [ni number]",
            "Account [number] was wrong",
            "Waited 20 minutes, staff were great",
        ];
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.as_deref(), Some(w));
        }
        Ok(())
    }

    #[test]
    fn postcodes_keep_only_the_district() -> PolarsResult<()> {
        let got = run(
            postcode_district(col("v")),
            &[
                "OX4 1AB",
                "ox41ab",
                "SW1A 1AA",
                "EX9",
                "not known",
                "B1 1AA",
                "OX4-1AB",
                " sw1a - 1aa ",
                "OX4 1AB 2CD",
            ],
        )?;
        assert_eq!(
            got,
            vec![
                Some("OX4".into()),
                Some("OX4".into()),
                Some("SW1A".into()),
                Some("EX9".into()),
                None,
                Some("B1".into()),
                Some("OX4".into()),
                Some("SW1A".into()),
                None,
            ]
        );
        Ok(())
    }
}
