//! Fields taken from an export's path (`path_fields`): the council, channel, category or month
//! (or quarter, or year) a file holds when its rows do not say (`counts/Leeds/2024-05-web.csv`). A template with
//! `{field}` placeholders, or a regular expression with named groups, matched against the end of
//! each file's path; what it captures becomes a column of every row of that file.

use std::path::Path;

/// A field a path can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathField {
    Organisation,
    Channel,
    Category,
    Year,
    Month,
    Day,
    Quarter,
}

impl PathField {
    pub const ALL: [PathField; 7] = [
        PathField::Organisation,
        PathField::Channel,
        PathField::Category,
        PathField::Year,
        PathField::Month,
        PathField::Day,
        PathField::Quarter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PathField::Organisation => "organisation",
            PathField::Channel => "channel",
            PathField::Category => "category",
            PathField::Year => "year",
            PathField::Month => "month",
            PathField::Day => "day",
            PathField::Quarter => "quarter",
        }
    }

    fn parse(s: &str) -> Option<PathField> {
        PathField::ALL.into_iter().find(|f| f.name() == s)
    }

    /// What a template placeholder matches.
    fn template_regex(self) -> &'static str {
        match self {
            PathField::Year => r"\d{4}",
            PathField::Month | PathField::Day => r"\d{1,2}",
            PathField::Quarter => r"[Qq]?[1-4]",
            _ => r"[^/]+?",
        }
    }
}

/// The name of the column a captured field is carried in (it cannot clash with an export's
/// header: no header is matched against it).
pub fn path_column(field: &str) -> String {
    format!("(path) {field}")
}

/// True for a column cex adds to a file's rows (a field from its path, a wide survey's
/// question and answer): never looked for among the export's headers.
pub fn is_virtual_column(name: &str) -> bool {
    name.starts_with("(path) ") || name.starts_with("(wide) ")
}

/// The column the year, month and day of a path are carried in, as `YYYY-MM-DD` (a quarter as
/// `YYYY Qn`, a year alone as `YYYY`: read as the source's `date_granularity` says).
pub const PATH_DATE: &str = "(path) date";

/// A compiled `path_fields` setting.
#[derive(Debug, Clone)]
pub struct PathFields {
    /// As written in the pipeline file.
    pub written: String,
    regex: regex::Regex,
    pub fields: Vec<PathField>,
}

impl PartialEq for PathFields {
    fn eq(&self, other: &Self) -> bool {
        self.written == other.written
    }
}

/// What one file's path gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    /// (column name, value) for each text field captured.
    pub columns: Vec<(String, String)>,
    /// `YYYY-MM-DD` when the path gave a year and month (day 1 unless it gave one); `YYYY Qn`
    /// when it gave a year and a quarter; `YYYY` when it gave a year alone.
    pub date: Option<String>,
}

impl PathFields {
    /// Compiles a template (`{organisation}/{year}-{month}.csv`; `*` matches any text within a
    /// folder name) or a regular expression with named groups (`(?P<year>\d{4})`).
    pub fn compile(written: &str) -> Result<PathFields, String> {
        let is_regex = written.contains("(?P<") || written.contains("(?<");
        let source = if is_regex {
            written.to_string()
        } else {
            template_to_regex(written)?
        };
        let regex = super::names::regex(&source)?;
        let mut fields = Vec::new();
        for name in regex.capture_names().flatten() {
            match PathField::parse(name) {
                Some(f) if !fields.contains(&f) => fields.push(f),
                Some(_) => return Err(format!("{{{name}}} appears twice")),
                None => {
                    return Err(format!(
                        "'{name}' is not a field a path can give; use {}",
                        PathField::ALL
                            .iter()
                            .map(|f| format!("{{{}}}", f.name()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
        }
        if fields.is_empty() {
            return Err(
                "capture at least one field, e.g. \"{organisation}/{year}-{month}.csv\"".into(),
            );
        }
        let has = |f| fields.contains(&f);
        if has(PathField::Day) && !has(PathField::Month) {
            return Err("{day} needs {month} and {year}".into());
        }
        if has(PathField::Quarter) && (has(PathField::Month) || has(PathField::Day)) {
            return Err("give {quarter} or {month}, not both".into());
        }
        if (has(PathField::Month) || has(PathField::Quarter)) && !has(PathField::Year) {
            return Err("{month} and {quarter} need {year}".into());
        }
        Ok(PathFields {
            written: written.to_string(),
            regex,
            fields,
        })
    }

    pub fn has(&self, field: PathField) -> bool {
        self.fields.contains(&field)
    }

    /// The fields a file's path gives, or why it gives none: the path (with `/` separators)
    /// must end with a match.
    pub fn capture(&self, path: &Path) -> Result<Captured, String> {
        let text = path.to_string_lossy().replace('\\', "/");
        let Some(caps) = self.regex.captures(&text) else {
            return Err(format!(
                "the file's path does not match path_fields \"{}\"",
                self.written
            ));
        };
        let value = |f: PathField| caps.name(f.name()).map(|m| m.as_str().trim().to_string());
        let mut columns = Vec::new();
        for f in [
            PathField::Organisation,
            PathField::Channel,
            PathField::Category,
        ] {
            if let Some(v) = value(f) {
                if v.is_empty() {
                    return Err(format!("its path gives an empty {{{}}}", f.name()));
                }
                columns.push((path_column(f.name()), v));
            }
        }
        let number = |f: PathField| -> Result<Option<u32>, String> {
            value(f)
                .map(|v| {
                    v.parse::<u32>().map_err(|_| {
                        format!("its path gives {{{}}} = '{v}', not a number", f.name())
                    })
                })
                .transpose()
        };
        let quarter = value(PathField::Quarter)
            .map(|v| match v.trim_start_matches(['Q', 'q']).parse::<u32>() {
                Ok(q) if (1..=4).contains(&q) => Ok(q),
                _ => Err(format!("its path gives {{quarter}} = '{v}', not 1 to 4")),
            })
            .transpose()?;
        let date = match (
            number(PathField::Year)?,
            number(PathField::Month)?,
            number(PathField::Day)?,
        ) {
            (Some(y), None, None) => Some(match quarter {
                Some(q) => format!("{y:04} Q{q}"),
                None => format!("{y:04}"),
            }),
            (Some(y), Some(m), d) => {
                let day = d.unwrap_or(1);
                let Some(date) = i32::try_from(y)
                    .ok()
                    .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, m, day))
                else {
                    return Err(format!(
                        "its path gives year {y}, month {m}{}: not a date",
                        d.map(|d| format!(", day {d}")).unwrap_or_default()
                    ));
                };
                Some(date.format("%Y-%m-%d").to_string())
            }
            _ => None,
        };
        Ok(Captured { columns, date })
    }
}

/// A template as an unanchored-at-the-start, anchored-at-the-end regular expression.
fn template_to_regex(template: &str) -> Result<String, String> {
    let mut out = String::from("(?:^|/)");
    let mut rest = template.trim_start_matches("./");
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let Some(end) = after.find('}') else {
                return Err(format!("'{{' without '}}' in \"{template}\""));
            };
            let name = &after[..end];
            let Some(field) = PathField::parse(name) else {
                return Err(format!(
                    "{{{name}}} is not a field a path can give; use {}",
                    PathField::ALL
                        .iter()
                        .map(|f| format!("{{{}}}", f.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            };
            out.push_str(&format!("(?P<{name}>{})", field.template_regex()));
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('*') {
            out.push_str("[^/]*");
            rest = after;
        } else {
            let next = rest.find(['{', '*']).unwrap_or(rest.len());
            out.push_str(&regex::escape(&rest[..next]));
            rest = &rest[next..];
        }
    }
    out.push('$');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_captures_the_end_of_a_path() -> Result<(), String> {
        let p = PathFields::compile("{organisation}/{year}-{month}_{channel}.csv")?;
        let got = p.capture(Path::new("/data/exports/Leeds City/2024-05_web chat.csv"))?;
        assert_eq!(
            got.columns,
            [
                ("(path) organisation".to_string(), "Leeds City".to_string()),
                ("(path) channel".to_string(), "web chat".to_string()),
            ]
        );
        assert_eq!(got.date.as_deref(), Some("2024-05-01"));
        // Dots are literal, folders are not crossed.
        assert!(p.capture(Path::new("x/Leeds/2024-05_webxcsv")).is_err());
        assert!(p.capture(Path::new("2024-05_web.csv")).is_err());
        Ok(())
    }

    #[test]
    fn a_regex_with_named_groups_is_used_as_written() -> Result<(), String> {
        let p = PathFields::compile(r"calls_(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})\.csv$")?;
        let got = p.capture(Path::new("in/calls_20240229.csv"))?;
        assert_eq!(got.date.as_deref(), Some("2024-02-29"));
        assert!(got.columns.is_empty());
        let bad = p.capture(Path::new("in/calls_20230229.csv"));
        assert!(bad.is_err_and(|e| e.contains("not a date")));
        Ok(())
    }

    #[test]
    fn a_path_can_date_by_quarter_or_by_year() -> Result<(), String> {
        let p = PathFields::compile("{year}/Q{quarter}_*.csv")?;
        let got = p.capture(Path::new("returns/2023/Q2_visits.csv"))?;
        assert_eq!(got.date.as_deref(), Some("2023 Q2"));
        assert!(p.capture(Path::new("returns/2023/Q5_visits.csv")).is_err());
        let p = PathFields::compile(r"(?P<year>\d{4})-(?P<quarter>\d)\.csv$")?;
        let bad = p.capture(Path::new("2023-7.csv"));
        assert!(bad.is_err_and(|e| e.contains("not 1 to 4")));
        let p = PathFields::compile("{organisation}/{year}.csv")?;
        let got = p.capture(Path::new("North/2023.csv"))?;
        assert_eq!(got.date.as_deref(), Some("2023"));
        Ok(())
    }

    #[test]
    fn templates_that_cannot_date_or_name_are_refused() {
        for (written, says) in [
            ("{quarter}.csv", "need {year}"),
            ("{year}-{month}-Q{quarter}.csv", "not both"),
            ("{council}/{year}-{month}.csv", "not a field"),
            ("{day}-{year}.csv", "{day} needs"),
            ("plain.csv", "at least one field"),
            ("{month", "without"),
            ("(?P<year>\\d{4}", "not a regular expression"),
        ] {
            match PathFields::compile(written) {
                Ok(_) => panic!("{written} accepted"),
                Err(e) => assert!(e.contains(says), "{written}: {e}"),
            }
        }
    }
}
