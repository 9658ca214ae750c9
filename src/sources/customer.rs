//! Customer identifiers put in one form before they are keyed (`ingest::pseudonym`), as polars
//! expressions: the same person's number written `+44 7700 900123` in one export and
//! `07700900123` in another gives the same key. A value that cannot be an identifier (blank,
//! "Withheld", an extension, text without an `@`) or that says there is none (a number of one
//! repeated digit, `noemail@...`, a reference `N/A` or `-`) gives null: the row is kept, with no
//! key. Placeholders only a council knows, and those found by their volume, are dealt with at
//! ingest (`ingest::pseudonym`).

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
/// number (an extension, "Withheld", "Unknown"), nor is one digit repeated.
pub fn phone(text: Expr) -> Expr {
    in_steps(
        text,
        &[
            phone_characters,
            phone_digits,
            phone_form,
            || vec![at_least(7)],
            || vec![unless_matches(ONE_DIGIT_REPEATED)],
        ],
    )
}

/// A number of one digit repeated (`00000000000`, `9999999`): what telephony systems write for
/// a withheld or unknown caller, never a customer's number.
const ONE_DIGIT_REPEATED: &str = "^(0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$";

/// Names before the `@` of an address that say there is no address (after lower-casing).
const NO_ADDRESS: &str = r"^(no[-._]?e?-?mail|none|nobody|no[-._]?reply|do[-._]?not[-._]?reply|n/?a|unknown|not[-._]?known|null|nil|test|x+)@";

/// References that say there is none (after upper-casing and removing spaces), or that have no
/// letter or digit at all (`-`, `...`).
const NO_REFERENCE: &str = r"^(N/?A|NONE|NULL|NIL|UNKNOWN|NOTKNOWN|TBC|TBA|X+|0+|[^\p{L}\p{N}]*)$";

/// [`V`] made null where it matches `pattern`.
fn unless_matches(pattern: &'static str) -> Expr {
    when(col(V).str().contains(lit(pattern), true))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(col(V))
        .alias(V)
}

/// [`phone`]'s first step: the digits and `+` signs (one regex pass), `(0)` dropped.
fn phone_characters() -> Vec<Expr> {
    vec![col(V)
        .str()
        .replace_all(lit("(0)"), lit(""), true)
        .str()
        .replace_all(lit(r"[^0-9+]"), lit(""), false)
        .alias(V)]
}

/// [`phone`]'s second step: the digits alone beside them.
fn phone_digits() -> Vec<Expr> {
    vec![
        col(V),
        col(V)
            .str()
            .replace_all(lit("+"), lit(""), true)
            .alias(DIGITS),
    ]
}

/// [`phone`]'s third step, one form: `+44`, `0044`, or `44` and ten digits, as the national
/// `0` and the digits after the country code; another `+` as `00`; otherwise the digits. The
/// form is a prefix put before the digits after the first `drop` of them: one slice and one
/// concatenation for every number, rather than one of each per form (polars works every
/// branch of a `when` out for every row).
fn phone_form() -> Vec<Expr> {
    let digits = || col(DIGITS);
    let starts = |p: &str| col(V).str().starts_with(lit(p.to_string()));
    let national = starts("+44")
        .or(starts("0044"))
        .or(starts("44").and(digits().str().len_bytes().eq(lit(12u32))));
    let drop = when(starts("0044"))
        .then(lit(4i64))
        .when(national.clone())
        .then(lit(2i64))
        .otherwise(lit(0i64));
    let prefix = when(national)
        .then(lit("0"))
        .when(starts("+"))
        .then(lit("00"))
        .otherwise(lit(""));
    let one_form = concat_str(
        [
            prefix,
            digits().str().slice(drop, lit(NULL).cast(DataType::UInt64)),
        ],
        "",
        false,
    );
    vec![one_form.alias(V)]
}

/// An e-mail address without surrounding spaces, in lower case; null when it is not one, or its
/// name says there is none ([`NO_ADDRESS`]).
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
            || vec![unless_matches(NO_ADDRESS)],
        ],
    )
}

/// A reference without spaces, in upper case; null when blank or when it says there is none
/// ([`NO_REFERENCE`]).
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
            || vec![unless_matches(NO_REFERENCE)],
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

    #[test]
    fn values_that_say_there_is_no_customer_give_no_identifier() {
        assert_eq!(
            apply(
                phone,
                &[
                    Some("00000000000"),
                    Some("+44 0000 000000"),
                    Some("0000000"),
                    Some("9999999999"),
                    Some("07777 777777"),
                    Some("0800 000 0000"),
                ]
            ),
            vec![
                None,
                None,
                None,
                None,
                Some("07777777777".into()),
                Some("08000000000".into())
            ]
        );
        let none = [
            "noemail@council.gov.uk",
            "No.Email@council.gov.uk",
            "no-mail@x.org",
            "NONE@none.com",
            "donotreply@council.gov.uk",
            "n/a@n.a",
            "Unknown@example.org",
            "test@test.com",
            "xxx@xxx.com",
        ];
        let values: Vec<Option<&str>> = none.iter().map(|v| Some(*v)).collect();
        assert!(apply(email, &values).iter().all(Option::is_none));
        assert_eq!(
            apply(
                email,
                &[Some("nora@example.org"), Some("testing.team@example.org")]
            ),
            vec![
                Some("nora@example.org".into()),
                Some("testing.team@example.org".into())
            ]
        );
        let none = [
            "N/A", "n / a", "-", "--", "...", "none", "Null", "TBC", "0", "0000", "xxxx",
        ];
        let values: Vec<Option<&str>> = none.iter().map(|v| Some(*v)).collect();
        assert!(apply(reference, &values).iter().all(Option::is_none));
        assert_eq!(
            apply(
                reference,
                &[Some("NA1 2AB"), Some("100023336956"), Some("X1")]
            ),
            vec![
                Some("NA12AB".into()),
                Some("100023336956".into()),
                Some("X1".into())
            ]
        );
    }

    /// [`phone_form`] as it was written before, every form a branch of its own: the reference
    /// the differential test holds the one-slice form to.
    fn phone_form_by_branches() -> Vec<Expr> {
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
    }

    #[test]
    fn the_one_slice_form_gives_what_the_branches_gave() {
        let written = [
            "07700 900123",
            "+44 7700 900123",
            "+44 (0)7700 900-123",
            "0044 7700 900123",
            "447700900123",
            "44770090012",
            "4477009001234",
            "+447700900123",
            "++447700900123",
            "+0044 7700 900123",
            "0044",
            "+44",
            "+",
            "44",
            "",
            "+1 555 0100 123",
            "+353 1 234 5678",
            "00353 1 234 5678",
            "0113 496 0000",
            "44+7700900123",
            "4 4 7700 900 123",
            "Withheld",
            "x2201",
            "+44 (0) 20 7946 0000",
            "٠٧٧٠٠ ٩٠٠١٢٣",
            "+４４ 7700 900123",
            "(0)",
            "0+447700900123",
            "440",
            "+44 0 7700 900123",
        ];
        let values: Vec<Option<&str>> = written.iter().map(|w| Some(*w)).chain([None]).collect();
        let before = |text: Expr| {
            in_steps(
                text,
                &[
                    phone_characters,
                    phone_digits,
                    phone_form_by_branches,
                    || vec![at_least(7)],
                ],
            )
        };
        assert_eq!(apply(phone, &values), apply(before, &values));
    }
}
