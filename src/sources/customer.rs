//! Customer identifiers put in one form before they are keyed (`ingest::pseudonym`), as polars
//! expressions: the same person's number written `+44 7700 900123` in one export and
//! `07700900123` in another gives the same key. A value that cannot be an identifier (blank,
//! "Withheld", an extension, text without an `@`) gives null: the row is kept, with no key.

use polars::prelude::*;

use crate::config::SourceDef;
use crate::model::col as c;

/// One identifier a source maps: the lake column it becomes, the export's column, how it is
/// put in one form, and the kind its keyed hash is made under (kinds never match each other;
/// references match only within their scheme).
pub struct Identifier<'a> {
    pub column: &'static str,
    pub source_column: &'a str,
    pub normalise: fn(Expr) -> Expr,
    pub kind: String,
}

/// The identifiers a source maps, in the order they are stored.
pub fn identifiers(source: &SourceDef) -> Vec<Identifier<'_>> {
    let cust = &source.customer;
    let mut out = Vec::new();
    if let Some(column) = &cust.phone {
        out.push(Identifier {
            column: c::CUSTOMER_PHONE,
            source_column: column,
            normalise: phone,
            kind: "p".into(),
        });
    }
    if let Some(column) = &cust.email {
        out.push(Identifier {
            column: c::CUSTOMER_EMAIL,
            source_column: column,
            normalise: email,
            kind: "e".into(),
        });
    }
    if let Some(column) = &cust.reference {
        out.push(Identifier {
            column: c::CUSTOMER_REFERENCE,
            source_column: column,
            normalise: reference,
            kind: format!("r:{}", cust.reference_scheme),
        });
    }
    out
}

/// The column each step of [`in_steps`] reads and writes.
const V: &str = "v";

/// The digits of a telephone number, beside [`V`] in [`phone`]'s second step.
const DIGITS: &str = "digits";

/// `steps` applied in turn to the column `text` evaluates to, each a projection of its own in a
/// plan of its own, reading [`V`] and writing it (and anything the next step reads). Written as
/// one expression, polars would work an intermediate (the tidied text) out again for every
/// branch that reads it; a projection per step does it once. The result keeps the input's name.
fn in_steps(text: Expr, steps: &'static [fn() -> Vec<Expr>]) -> Expr {
    text.map(
        move |column: Column| {
            let name = column.name().clone();
            let mut plan = DataFrame::new_infer_height(vec![column
                .cast(&DataType::String)?
                .with_name(V.into())])?
            .lazy();
            for step in steps {
                plan = plan.select(step());
            }
            Ok(plan.collect()?.column(V)?.clone().with_name(name))
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// Null unless the text is at least `n` bytes long.
fn at_least(n: u32) -> Expr {
    when(col(V).str().len_bytes().gt_eq(lit(n)))
        .then(col(V))
        .otherwise(lit(NULL).cast(DataType::String))
        .alias(V)
}

/// A telephone number in one form: digits only, `+44` / `0044` / `44` + ten digits / `(0)`
/// written as the national `0`, other international prefixes as `00`; fewer than 7 digits is no
/// number (an extension, "Withheld", "Unknown").
pub fn phone(text: Expr) -> Expr {
    // The digits and `+` signs (one regex pass), then one form (every branch a slice of the
    // digits), then too short to be a number is none (digits only: bytes are characters).
    in_steps(
        text,
        &[
            || {
                vec![col(V)
                    .str()
                    .replace_all(lit("(0)"), lit(""), true)
                    .str()
                    .replace_all(lit(r"[^0-9+]"), lit(""), false)
                    .alias(V)]
            },
            || {
                vec![
                    col(V),
                    col(V)
                        .str()
                        .replace_all(lit("+"), lit(""), true)
                        .alias(DIGITS),
                ]
            },
            || {
                let digits = || col(DIGITS);
                let starts = |p: &str| col(V).str().starts_with(lit(p.to_string()));
                let national_after = |n: i64| {
                    concat_str(
                        [
                            lit("0"),
                            digits()
                                .str()
                                .slice(lit(n), lit(NULL).cast(DataType::UInt64)),
                        ],
                        "",
                        false,
                    )
                };
                let one_form = when(starts("+44"))
                    .then(national_after(2))
                    .when(starts("0044"))
                    .then(national_after(4))
                    .when(starts("+"))
                    .then(concat_str([lit("00"), digits()], "", false))
                    .when(starts("44").and(digits().str().len_bytes().eq(lit(12u32))))
                    .then(national_after(2))
                    .otherwise(digits());
                vec![one_form.alias(V)]
            },
            || vec![at_least(7)],
        ],
    )
}

/// An e-mail address without surrounding spaces, in lower case; null when it is not one.
pub fn email(text: Expr) -> Expr {
    in_steps(
        text,
        &[
            || {
                vec![col(V)
                    .str()
                    .strip_chars(lit(NULL))
                    .str()
                    .to_lowercase()
                    .alias(V)]
            },
            || {
                vec![when(
                    col(V)
                        .str()
                        .contains(lit(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), true),
                )
                .then(col(V))
                .otherwise(lit(NULL).cast(DataType::String))
                .alias(V)]
            },
        ],
    )
}

/// A reference without spaces, in upper case; null when blank.
pub fn reference(text: Expr) -> Expr {
    in_steps(
        text,
        &[
            || {
                vec![col(V)
                    .str()
                    .replace_all(lit(r"\s+"), lit(""), false)
                    .str()
                    .to_uppercase()
                    .alias(V)]
            },
            || vec![at_least(1)],
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(f: fn(Expr) -> Expr, values: &[Option<&str>]) -> Vec<Option<String>> {
        let df = match df!("v" => values) {
            Ok(df) => df,
            Err(e) => panic!("{e}"),
        };
        let out = df
            .lazy()
            .select([f(col("v")).alias("v")])
            .collect()
            .and_then(|d| d.column("v").and_then(|c| c.str().cloned()));
        match out {
            Ok(s) => s.iter().map(|v| v.map(str::to_string)).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn one_number_written_many_ways_is_one_number() {
        let written = [
            Some("07700 900123"),
            Some("+44 7700 900123"),
            Some("+44 (0)7700 900-123"),
            Some("0044 7700 900123"),
            Some("447700900123"),
            Some("(07700) 900123"),
        ];
        for got in apply(phone, &written) {
            assert_eq!(got.as_deref(), Some("07700900123"));
        }
        assert_eq!(
            apply(phone, &[Some("+1 555 0100 123"), Some("0113 496 0000")]),
            vec![Some("0015550100123".into()), Some("01134960000".into())]
        );
        assert_eq!(
            apply(phone, &[Some("Withheld"), Some("x2201"), Some(""), None]),
            vec![None, None, None, None]
        );
    }

    #[test]
    fn addresses_and_references_in_one_form() {
        assert_eq!(
            apply(
                email,
                &[
                    Some(" Jo.Bloggs@Example.ORG "),
                    Some("not an address"),
                    None
                ]
            ),
            vec![Some("jo.bloggs@example.org".into()), None, None]
        );
        assert_eq!(
            apply(reference, &[Some(" ab 12 3456 "), Some("   "), None]),
            vec![Some("AB123456".into()), None, None]
        );
    }
}
