//! Personal data out of plain text, at the bottom of the stack. This module owns the rule table
//! (pattern, replacement) that removes e-mail addresses (spelt out or not), social-media handles,
//! phone numbers, postcodes, National Insurance numbers and long reference numbers from free text;
//! `sources::scrub` applies the same table to comment columns as polars expressions, and
//! [`scrub_text`] applies it to a Rust string. [`quote`] is how every error and warning message
//! quotes a value that came from data or from a file: flattened to one line, scrubbed, cut short.

use std::sync::LazyLock;

use regex::Regex;

/// A character that marks a private spot while the rules run: year ranges and dates keep their
/// dashes under it, so the long-number rule does not take them (`2024-2025`, `12-03-2024`).
/// It never survives: the last rule turns it back into `-`.
const KEEP_DASH: &str = "\u{e000}";

/// The same for the space between a date's year and its time (`03/02/2011 04:06:41 PM`, a
/// timestamp a file failed to parse): the long-number rule would take `2011 04`. The last rule
/// turns it back into a space.
const KEEP_SPACE: &str = "\u{e001}";

/// Separator between the local part and the domain when `@` is spelt: `[at]`, `(at)`, ` at `.
macro_rules! spelt_at {
    () => {
        r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+)"
    };
}

/// Separator between domain labels: `.`, ` . `, `[dot]`, `(dot)`, ` dot `.
macro_rules! dot {
    () => {
        r"(?:\.|\s+\.\s+|\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+)"
    };
}

/// (pattern, replacement) pairs applied in order, with the `regex` crate's syntax (the one polars'
/// `str().replace_all` uses). Order matters: National Insurance numbers before the number rules
/// take their digits; addresses with `@` before spelt-out ones (so `me at jo@example.com` is not
/// read as the spelt address `me at jo...`) and before handles; phone numbers before the generic
/// long-number rule.
pub const RULES: [(&str, &str); 13] = [
    // National Insurance numbers: QQ 12 34 56 C, QQ-12-34-56-C, qq123456c.
    (
        r"(?i)\b[A-Z]{2}[\s\-]*\d{2}[\s\-]*\d{2}[\s\-]*\d{2}[\s\-]*[A-D]\b",
        "[ni number]",
    ),
    // E-mail addresses with an `@`, spaces around it or not; dots may be spelt too.
    (
        concat!(r"(?i)[\w.%+'\-]+\s*@\s*[\w\-]+(?:", dot!(), r"[\w\-]+)+"),
        "[email]",
    ),
    // What is left of an `@` followed by a name: a handle (@jbloggs) or an address without a
    // domain (jbloggs@localhost). A lone `@` (`@ the library`, `@10`) stays.
    (r"[\w.%+'\-]*@[A-Za-z_]\w*", "[handle]"),
    // E-mail addresses with `@` spelt out: jo[at]example[dot]com, jo at example dot co dot uk,
    // jo (at) example.com. The domain must end in a 2 to 6 letter label, so `at 10.30` and
    // `at the office` stay.
    (
        concat!(
            r"(?i)[\w.%+\-]+(?:",
            spelt_at!(),
            r"[\w\-]+(?:",
            dot!(),
            r"[\w\-]+)*)*",
            spelt_at!(),
            r"[\w\-]+(?:",
            dot!(),
            r"[\w\-]+)*",
            dot!(),
            r"[a-z]{2,6}\b"
        ),
        "[email]",
    ),
    // UK phone numbers: +44 or 0044 (with an optional (0)), or a leading 0 (optionally in a
    // bracket), then 9-10 digits with optional spaces, dots, dashes and brackets.
    (
        r"(?:(?:\+|\b00)44\s*(?:\(0\)\s*)?|\(0|\b0)\d(?:[\s\-.()]*\d){8,9}\b",
        "[phone]",
    ),
    // Postcodes, however spaced or hyphenated: OX4 1AB, ox41ab, SW1A-1AA, OX4 – 1AB. The only
    // one-letter areas are B E G L M N S W, so roads such as `A34 1st` stay.
    (
        r"(?i)\b(?:[BEGLMNSW]|[A-Z]{2})[0-9][A-Z0-9]?[\s\-–]*[0-9][A-Z]{2}\b",
        "[postcode]",
    ),
    // ISO dates are not reference numbers, with a time after them or not: 2024-04-05 10:00:00,
    // 2024-04-05T10:00 (their digits would otherwise run on into the time's: `04-05 10`).
    (
        r"\b((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])",
        "${1}\u{e000}${2}\u{e000}${3}",
    ),
    // Year ranges and dates are not reference numbers: 2024-25, 2024-2025, 2024-03-12.
    (
        r"\b((?:19|20)\d{2})-(\d{2}|(?:19|20)\d{2})\b",
        "${1}\u{e000}${2}",
    ),
    // Day-first dates: 12-03-2024.
    (
        r"\b(\d{1,2})-(\d{1,2})-((?:19|20)\d{2})\b",
        "${1}\u{e000}${2}\u{e000}${3}",
    ),
    // A date's year then its time: 03/02/2011 04:06:41, 2024 09:15.
    (r"\b((?:19|20)\d{2}) (\d{1,2}:\d{2})\b", "${1}\u{e001}${2}"),
    // Account, council tax and card numbers: six or more digits in a row, single spaces or
    // dashes allowed between them.
    (r"\d(?:[\s\-]?\d){5,}", "[number]"),
    // The dashes and spaces kept from the number rule come back.
    (KEEP_DASH, "-"),
    (KEEP_SPACE, " "),
];

/// The rules compiled once; `None` if one does not compile (a test proves they all do), in which
/// case [`scrub_text`] withholds the whole text rather than skip a rule.
static COMPILED: LazyLock<Option<Vec<(Regex, &'static str)>>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|(pattern, replacement)| Regex::new(pattern).ok().map(|re| (re, *replacement)))
        .collect()
});

/// `text` with personal identifiers replaced by placeholders such as `[email]`: exactly what
/// `sources::scrub::scrub_comment` gives for the same text in a polars column.
pub fn scrub_text(text: &str) -> String {
    match COMPILED.as_ref() {
        Some(rules) => rules
            .iter()
            .fold(text.to_string(), |acc, (re, replacement)| {
                re.replace_all(&acc, *replacement).into_owned()
            }),
        None => "[withheld]".to_string(),
    }
}

/// The most characters of a value a message shows (the ellipsis included).
const QUOTE_MAX: usize = 80;
/// The most characters of a value looked at: a value of megabytes is cut before it is scrubbed.
const QUOTE_SCAN: usize = 1024;

/// Characters that change how a line is shown without showing themselves: line and paragraph
/// separators, bidirectional overrides and isolates, zero-width characters, byte-order marks.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A value from data or from a file as an error or warning message shows it: on one line (control
/// and invisible characters become spaces), scrubbed of personal data, at most 80 characters (cut
/// on a character boundary, ending with `…` when cut), in single quotes: `'Housing'`.
pub fn quote(value: &str) -> String {
    format!("'{}'", clip(value))
}

/// A parser's message about a file (polars quotes the text it choked on between backticks, and
/// that text can be a whole line of an export) as cex shows it: its first paragraph, every
/// backticked piece as [`clip`] shows a value (one line, scrubbed, at most 80 characters), the
/// rest scrubbed and on one line.
pub fn parser_message(message: &str) -> String {
    let first = message.split("\n\n").next().unwrap_or(message).trim();
    first
        .split('`')
        .enumerate()
        .map(|(i, piece)| {
            if i % 2 == 1 {
                clip(piece)
            } else {
                scrub_text(&piece.replace(['\n', '\r'], " "))
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A value as [`quote`] shows it, without the quotes: one line, scrubbed, at most 80 characters.
pub fn clip(value: &str) -> String {
    let flat: String = value
        .chars()
        .take(QUOTE_SCAN)
        .map(|c| {
            if c.is_control() || is_invisible(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let long = value.chars().nth(QUOTE_SCAN).is_some();
    let scrubbed = scrub_text(&flat);
    if long || scrubbed.chars().count() > QUOTE_MAX {
        let mut cut: String = scrubbed.chars().take(QUOTE_MAX - 1).collect();
        cut.push('…');
        cut
    } else {
        scrubbed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn a_parsers_message_shows_the_text_it_quotes_scrubbed_and_cut() {
        let polars = "could not parse `\"Housing queue,Answered,07700 900123 jo.bloggs@example.org\nC2,2025-01-20 09:00,Waste queue,Answered,Withheld and a great deal more of the file` as dtype `str` at column 'Queue' (column number 3)\n\nYou might want to try:\n- increasing infer_schema_length";
        let shown = parser_message(polars);
        for gone in ["900123", "bloggs", "You might", "\n"] {
            assert!(!shown.contains(gone), "{gone}: {shown}");
        }
        let quoted = shown.split('`').nth(1).unwrap_or_default();
        assert!(
            quoted.chars().count() <= QUOTE_MAX && quoted.ends_with('…'),
            "{shown}"
        );
        assert!(
            shown.ends_with("as dtype `str` at column 'Queue' (column number 3)"),
            "{shown}"
        );
        // A lone backtick quotes the rest.
        assert!(!parser_message("bad ` jo.bloggs@example.org").contains("bloggs"));
    }

    /// Text with personal data, and the fragments (compared case-insensitively) that must be
    /// gone after scrubbing. Every output is also checked for `@` and runs of six digits.
    const HOSTILE: &[(&str, &[&str])] = &[
        // E-mail addresses, plain and spaced.
        ("Email me at jo.bloggs@example.com please", &["bloggs"]),
        ("jo.bloggs @ example.com", &["bloggs"]),
        ("jo.bloggs@ example.com", &["bloggs"]),
        ("jo.bloggs @example.com", &["bloggs"]),
        ("jo . bloggs @ example . com", &["bloggs", "example"]),
        ("KPATEL@EXAMPLE.COM", &["kpatel"]),
        ("first.last+tag@sub.example.co.uk", &["first", "last+tag"]),
        ("José.García@example.es", &["garc"]),
        ("o'brien@example.com", &["brien"]),
        ("Contact: jo_bloggs@example.com.", &["bloggs"]),
        (
            "bloggs@example.com,smithj@example.com",
            &["bloggs", "smithj"],
        ),
        ("mailto:jbloggs@example.com", &["jbloggs"]),
        ("Email: jbloggs @ example dot com", &["jbloggs"]),
        // E-mail addresses with `@` spelt out.
        ("jbloggs[at]example[dot]com", &["jbloggs"]),
        ("jbloggs [at] example [dot] com", &["jbloggs"]),
        ("smithj (at) example (dot) com", &["smithj"]),
        ("smithj at example dot com", &["smithj"]),
        ("jo.bloggs AT example DOT co DOT uk", &["bloggs"]),
        (
            "Email me at jo.bloggs AT example DOT co DOT uk",
            &["bloggs", "example"],
        ),
        ("reach me on k.patel{at}council{dot}gov{dot}uk", &["patel"]),
        ("kpatel <at> example <dot> org", &["kpatel"]),
        ("mail kpatel at example.com today", &["kpatel"]),
        ("kpatel(at)example(dot)com", &["kpatel"]),
        ("jbloggs[at]example.com", &["jbloggs"]),
        ("J.BLOGGS AT EXAMPLE.CO.UK", &["bloggs"]),
        (
            "write to smithj at hotmail dot co dot uk thanks",
            &["smithj"],
        ),
        // Handles and addresses without a domain.
        ("tweeted @jbloggs99 about it", &["jbloggs"]),
        ("jbloggs@localhost", &["jbloggs"]),
        // Phone numbers.
        ("Ring 07700 900123", &["900123"]),
        ("07700-900-123", &["900-123"]),
        ("(01632) 960001", &["960001", "01632"]),
        ("+44 (0) 7700 900123", &["7700", "900123"]),
        ("+44 (0)1865 252525", &["1865", "252525"]),
        ("0044 7700 900123", &["7700", "900123"]),
        ("+447700900123", &["7700"]),
        ("+44 20 7946 0123", &["7946"]),
        ("London 020 7946 0123", &["7946"]),
        ("07700.900.123", &["900.123"]),
        ("0300 123 4567", &["4567"]),
        ("Call (0118) 496 0999", &["496", "0999"]),
        // Postcodes.
        ("OX4 1AB", &["1ab"]),
        ("OX4-1AB", &["1ab"]),
        ("ox4  1ab", &["1ab"]),
        ("SW1A-1AA", &["1aa"]),
        ("sw1a1aa", &["1aa"]),
        ("I live at B1 1AA now", &["1aa"]),
        ("EC1A 1BB", &["1bb"]),
        ("OX4 – 1AB", &["1ab"]),
        ("OX4\t1AB", &["1ab"]),
        // National Insurance numbers.
        ("my NI is QQ 12 34 56 C", &["34 56"]),
        ("QQ-12-34-56-C", &["34-56"]),
        ("qq123456c", &["123456"]),
        // Reference, account and card numbers.
        ("Account 12345678 was wrong", &["12345678"]),
        ("Ref 98765 2024 09:15", &["98765"]),
        ("card 4111 1111 1111 1111", &["1111"]),
        ("card 4111-1111-1111-1111", &["1111"]),
        ("sort code 12-34-56", &["34-56"]),
        ("council tax ref 5001234567", &["5001234567"]),
        ("Account no. 12 34 56 78", &["56 78"]),
        ("ref 123 456 789", &["456"]),
        ("account 2012-2034-5678", &["5678"]),
        // Several at once.
        (
            "tel 07700 900 123, postcode OX4 1AB, email jbloggs@example.com",
            &["900", "1ab", "jbloggs"],
        ),
        (
            "My email is jo.bloggs@example.com and phone 07700900123",
            &["bloggs", "07700"],
        ),
    ];

    /// Text without personal data that must come out exactly as it went in.
    const HARMLESS: &[&str] = &[
        "£120 at 10:30",
        "I was at the office at 9 and left at 10",
        "Paid £1,250.00 on 3 March",
        "Waited 20 minutes, staff were great",
        "the dot com era",
        "2024/25 was better",
        "Call back at 3pm",
        "at least 5 times",
        "Ref A12 was fine",
        "Tuesday at 2 pm at the Town Hall",
        "5 stars",
        "I rated it 10/10",
        "2024-25 budget was cut",
        "From 2024-2025 the service improved",
        "Visited on 12-03-2024",
        "Letter dated 2024-03-12",
        "Arrived at 9.30am, seen at 10.15",
        "Waited 45 mins at 8.30am",
        "Open 9-5 Mon-Fri",
        "The A34 was closed",
        "Take the A34 1st exit",
        "M40 J9 roadworks",
        "Flat 2, 3rd floor",
        "Call 999 or 111",
        "Up 12.5% on last year",
        "Paid £1,250,000 in total",
        "Rated 4 out of 5 at every visit",
        "Looked at the website. Then I rang",
        "Email was never answered",
        "Waited at home.",
        "Tried @ the library",
        "Meet @10",
        "Ticket CT-1234 closed",
        "Q3 2024 figures",
        "Room 101 at 2pm",
        "Bins collected 12 times in 2024",
        "Created 03/02/2011 04:06:41 PM",
        "Visited 12/03/2024 09:15, again 2024 10:30",
        "A1,2024-04-05 10:00:00,HSG,Answered,10,60,Depot",
        "Logged 2024-04-05T10:00:00Z and closed 2024-12-31 23:59",
        "",
    ];

    fn all_strings() -> Vec<&'static str> {
        HOSTILE
            .iter()
            .map(|(s, _)| *s)
            .chain(HARMLESS.iter().copied())
            .collect()
    }

    fn longest_digit_run(s: &str) -> usize {
        s.split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn every_rule_compiles() {
        for (pattern, _) in RULES {
            assert!(Regex::new(pattern).is_ok(), "{pattern}");
        }
        assert!(COMPILED.is_some());
    }

    #[test]
    fn personal_data_does_not_survive() {
        assert!(HOSTILE.len() >= 50);
        for (text, gone) in HOSTILE {
            let out = scrub_text(text);
            let lower = out.to_lowercase();
            assert!(!out.contains('@'), "{text:?} -> {out:?}");
            assert!(longest_digit_run(&out) < 6, "{text:?} -> {out:?}");
            assert!(!out.contains(KEEP_DASH), "{text:?} -> {out:?}");
            assert!(!out.contains(KEEP_SPACE), "{text:?} -> {out:?}");
            for fragment in *gone {
                assert!(
                    !lower.contains(&fragment.to_lowercase()),
                    "{fragment:?} survives in {text:?} -> {out:?}"
                );
            }
            assert!(out.contains('['), "{text:?} -> {out:?}: no placeholder");
        }
    }

    #[test]
    fn the_sense_of_a_comment_is_kept() {
        assert!(HARMLESS.len() >= 15);
        for text in HARMLESS {
            assert_eq!(scrub_text(text), *text);
        }
        // Where it can, scrubbing takes only the datum.
        assert_eq!(
            scrub_text("Email me at jo.bloggs@example.com please"),
            "Email me at [email] please"
        );
        assert_eq!(scrub_text("smithj at example dot com"), "[email]");
        assert_eq!(scrub_text("(01632) 960001 after 5"), "[phone] after 5");
        assert_eq!(
            scrub_text("OX4-1AB is my postcode"),
            "[postcode] is my postcode"
        );
        assert_eq!(scrub_text("QQ-12-34-56-C"), "[ni number]");
    }

    #[test]
    fn the_polars_expression_agrees_with_scrub_text() -> PolarsResult<()> {
        let texts = all_strings();
        let df = df!("v" => &texts)?
            .lazy()
            .select([crate::sources::scrub::scrub_comment(col("v")).alias("v")])
            .collect()?;
        let got: Vec<Option<&str>> = df.column("v")?.str()?.iter().collect();
        assert_eq!(got.len(), texts.len());
        for (text, polars_out) in texts.iter().zip(got) {
            assert_eq!(polars_out, Some(scrub_text(text).as_str()), "{text:?}");
        }
        Ok(())
    }

    #[test]
    fn quoted_values_are_short_flat_and_scrubbed() {
        assert_eq!(quote("Housing"), "'Housing'");
        assert_eq!(quote(""), "''");

        // 5 MB on one line: cut to 80 characters, quotes aside.
        let huge = "x".repeat(5 * 1024 * 1024);
        let q = quote(&huge);
        assert!(q.chars().count() <= 82, "{}", q.chars().count());
        assert!(q.ends_with("…'"));

        // Newlines, control and invisible characters become spaces.
        let q = quote("line one\nline two\r\n\u{1b}[31mred\u{202e}evil\u{2028}x");
        assert!(!q.chars().any(|c| c.is_control() || is_invisible(c)), "{q}");
        assert_eq!(q, "'line one line two   [31mred evil x'");

        // Personal data inside is scrubbed, even when the value is long.
        let q = quote(&format!(
            "Contact jo.bloggs@example.com {}",
            "y".repeat(500)
        ));
        assert!(q.starts_with("'Contact [email] y"), "{q}");
        assert!(!q.contains("bloggs"));
        let q = quote("ring 07700 900123\nor write");
        assert_eq!(q, "'ring [phone] or write'");

        // Multibyte text is cut on a character boundary.
        for unit in ["£", "é", "🙂", "a£é🙂"] {
            let q = quote(&unit.repeat(300));
            assert!(q.chars().count() <= 82, "{q}");
            assert!(q.ends_with("…'"));
        }
        // 80 characters exactly are not cut; 81 are.
        assert_eq!(quote(&"é".repeat(80)), format!("'{}'", "é".repeat(80)));
        assert_eq!(quote(&"é".repeat(81)), format!("'{}…'", "é".repeat(79)));
    }
}
