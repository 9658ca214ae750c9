//! Row filters of a source (`[[sources.exclude]]`, `[[sources.include]]`): which rows of an
//! export are out of scope (staff-generated requests, test records, another council's rows).
//! A filtered row is neither accepted nor rejected: it is counted as `excluded` under its rule's
//! name, so a file still reconciles (read = accepted + rejected + duplicates + excluded).

use super::raw::RawRowRule;

/// How a rule matches a column's value.
#[derive(Debug, Clone, PartialEq)]
pub enum RowMatch {
    /// One of these values, compared trimmed and ignoring case and spacing (already
    /// normalised); `""` stands for a blank value.
    Values(Vec<String>),
    /// A regular expression (Rust `regex` syntax) found anywhere in the trimmed value; a blank
    /// value is tested as the empty text.
    Pattern(String),
}

/// One resolved filter rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RowRule {
    /// The rule's name, as the reconciliation reports its rows.
    pub name: String,
    /// The export column it tests (matched against the header ignoring case and spacing).
    pub column: String,
    pub matches: RowMatch,
    /// `true` for an `include` rule: rows that do *not* match are excluded.
    pub keep_matching: bool,
}

/// The `exclude` rules then the `include` rules of one source, in the order written: a row is
/// excluded by the first rule that excludes it.
pub(super) fn resolve_rules(
    exclude: Vec<RawRowRule>,
    include: Vec<RawRowRule>,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> Vec<RowRule> {
    let mut names: Vec<String> = Vec::new();
    let tagged = exclude
        .into_iter()
        .enumerate()
        .map(|(i, r)| (format!("{key}.exclude[{i}]"), r, false))
        .chain(
            include
                .into_iter()
                .enumerate()
                .map(|(i, r)| (format!("{key}.include[{i}]"), r, true)),
        );
    let mut rules = Vec::new();
    for (at, raw, keep_matching) in tagged {
        let name = raw.name.trim().to_string();
        if name.is_empty() {
            push(
                format!("{at}.name"),
                "give the rule a name (it labels the excluded rows in the reconciliation)".into(),
            );
            continue;
        }
        if names.contains(&name) {
            push(
                format!("{at}.name"),
                format!("'{name}' names another rule of this source; names must differ"),
            );
            continue;
        }
        names.push(name.clone());
        if raw.column.trim().is_empty() {
            push(
                format!("{at}.column"),
                "name the export column the rule tests".into(),
            );
            continue;
        }
        let matches = match (raw.values, raw.pattern) {
            (Some(values), None) if !values.is_empty() => RowMatch::Values(
                values
                    .iter()
                    .map(|v| crate::text::normalise_value(v))
                    .collect(),
            ),
            (None, Some(pattern)) => match super::names::regex(&pattern) {
                Ok(_) => RowMatch::Pattern(pattern),
                Err(message) => {
                    push(format!("{at}.pattern"), message);
                    continue;
                }
            },
            (Some(_), Some(_)) => {
                push(
                    at,
                    "give `values` or `pattern`, not both (write two rules for both)".into(),
                );
                continue;
            }
            _ => {
                push(
                    at,
                    "give `values` (a list; \"\" for a blank value) or `pattern` (a regular expression)".into(),
                );
                continue;
            }
        };
        rules.push(RowRule {
            name,
            column: raw.column,
            matches,
            keep_matching,
        });
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, values: Option<Vec<&str>>, pattern: Option<&str>) -> RawRowRule {
        RawRowRule {
            name: name.into(),
            column: "Source".into(),
            values: values.map(|v| v.into_iter().map(String::from).collect()),
            pattern: pattern.map(String::from),
        }
    }

    #[test]
    fn rules_are_checked_and_kept_in_order() {
        let mut problems = Vec::new();
        let rules = resolve_rules(
            vec![
                rule("staff", Some(vec!["Driver  Self Report", ""]), None),
                rule("tests", None, Some("(?i)^test")),
                rule("staff", Some(vec!["x"]), None),
                rule("bad", None, Some("(unclosed")),
                rule("both", Some(vec!["x"]), Some("x")),
                rule("neither", None, None),
                rule("", Some(vec!["x"]), None),
            ],
            vec![rule("ours", Some(vec!["Leeds"]), None)],
            "sources[0]",
            &mut |k, m| problems.push((k, m)),
        );
        let names: Vec<_> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["staff", "tests", "ours"]);
        assert_eq!(
            rules[0].matches,
            RowMatch::Values(vec!["driver self report".into(), "".into()])
        );
        assert!(rules[2].keep_matching && !rules[0].keep_matching);
        let keys: Vec<_> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sources[0].exclude[2].name",
                "sources[0].exclude[3].pattern",
                "sources[0].exclude[4]",
                "sources[0].exclude[5]",
                "sources[0].exclude[6].name"
            ]
        );
    }
}
