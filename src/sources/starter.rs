//! A starter pipeline file for exports nobody has mapped yet (`cex init`): one `[[sources]]`
//! block per export, written from what `sources::sniff` found, with each guess marked for the
//! analyst to check, and lookup CSV templates that list every distinct category to map to a
//! service. Nothing here reads data; the text is built from the sniffed description.

use std::fmt::Write as _;
use std::path::Path;

use super::sniff::{ColumnKind, ColumnSniff, Sniffed};
use crate::text::normalise_header;

/// A file `cex init` writes, relative to its folder.
pub struct StarterFile {
    pub path: String,
    pub text: String,
}

/// The role a column seems to play, from its name and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    RecordId,
    When,
    Date,
    Time,
    Channel,
    Category,
    Outcome,
    Wait,
    Handle,
    Rating,
    Count,
    Demographic(&'static str),
}

fn has_word(name: &str, words: &[&str]) -> bool {
    words.iter().any(|w| name.contains(w))
}

fn guess(c: &ColumnSniff) -> Option<Role> {
    let n = normalise_header(&c.name);
    let few = c.values.is_some();
    match &c.kind {
        ColumnKind::Timestamp(_) => return Some(Role::When),
        ColumnKind::Date(_) => return Some(Role::Date),
        ColumnKind::Time(_) => return Some(Role::Time),
        ColumnKind::Empty => return None,
        _ => {}
    }
    let number = c.kind == ColumnKind::Number;
    if has_word(&n, &["age"]) && few {
        return Some(Role::Demographic("age_band"));
    }
    if has_word(&n, &["sex", "gender"]) && few {
        return Some(Role::Demographic("sex"));
    }
    if has_word(&n, &["ethnic"]) && few {
        return Some(Role::Demographic("ethnicity"));
    }
    if has_word(&n, &["disab"]) && few {
        return Some(Role::Demographic("disability"));
    }
    if has_word(&n, &["rating", "satisf"]) && few {
        return Some(Role::Rating);
    }
    if has_word(
        &n,
        &["channel", "source", "method", "medium", "contact type"],
    ) && few
    {
        return Some(Role::Channel);
    }
    if has_word(&n, &["outcome", "status", "disposition", "result"]) && few {
        return Some(Role::Outcome);
    }
    if number && has_word(&n, &["wait", "queue time", "speed of answer"]) {
        return Some(Role::Wait);
    }
    if number && has_word(&n, &["talk", "handl", "wrap", "acw"]) {
        return Some(Role::Handle);
    }
    if number
        && has_word(
            &n,
            &[
                "count",
                "volume",
                "number of",
                "contacts",
                "requests",
                "calls",
            ],
        )
    {
        return Some(Role::Count);
    }
    if few
        && has_word(
            &n,
            &[
                "queue",
                "service",
                "category",
                "type",
                "form",
                "skill",
                "department",
                "subject",
                "enquiry",
            ],
        )
    {
        return Some(Role::Category);
    }
    if !few
        && !number
        && (n == "id"
            || n.ends_with(" id")
            || n.ends_with("id")
            || n.ends_with(" no")
            || n.ends_with(" no.")
            || has_word(&n, &["ref", "number", "case", "ticket"]))
    {
        return Some(Role::RecordId);
    }
    if number && (n == "id" || n.ends_with(" id") || has_word(&n, &["ref", "respondent"])) {
        return Some(Role::RecordId);
    }
    None
}

/// The channel a count column's header names on its own (`Phone`, `Web`, `Twitter`), for an
/// export with one count column per channel. Whole headers only: `summary of cases` names none.
fn channel_named(header: &str) -> Option<&'static str> {
    let n = normalise_header(header);
    let named: [(&str, &[&str]); 8] = [
        ("telephone", &["phone", "telephone", "tel", "calls", "call"]),
        (
            "web",
            &[
                "web",
                "online",
                "website",
                "web form",
                "web forms",
                "webforms",
            ],
        ),
        ("email", &["email", "e-mail", "emails"]),
        ("app", &["app", "mobile", "mobile app"]),
        (
            "face_to_face",
            &[
                "face to face",
                "face-to-face",
                "counter",
                "in person",
                "visits",
                "walk in",
            ],
        ),
        ("webchat", &["webchat", "web chat", "chat"]),
        ("social", &["social", "social media", "twitter", "facebook"]),
        ("post", &["post", "letter", "letters"]),
    ];
    named
        .iter()
        .find(|(_, names)| names.contains(&n.as_str()))
        .map(|(channel, _)| *channel)
}

/// Text from an export (a header, a sheet name, a path) as it may stand in a TOML comment: on
/// one line, so a name holding a line break cannot add keys to the file.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A list of TOML strings.
fn list(values: &[String]) -> String {
    format!(
        "[{}]",
        values.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ")
    )
}

/// A source name from a file name: lower case letters, digits and underscores.
fn source_name(path: &Path, taken: &[String]) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_else(|| "export".into());
    let mut name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    name = name.trim_matches('_').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("export_{name}");
    }
    let mut unique = name.clone();
    let mut i = 2;
    while taken.contains(&unique) {
        unique = format!("{name}_{i}");
        i += 1;
    }
    unique
}

/// The starter pipeline file and its lookup templates. `files` are the exports as the pipeline
/// file will name them (relative to the folder it is written to).
pub fn starter(sniffed: &[(Sniffed, String)]) -> Vec<StarterFile> {
    let mut out = Vec::new();
    let mut toml = String::new();
    let _ = writeln!(
        toml,
        "# Starter pipeline written by `cex init`: every guess is marked CHECK. Edit it, then run\n\
         # `cex validate pipeline.toml` until it passes, then `cex run pipeline.toml`.\n\
         # Every key is described in docs/pipeline.md (or `cex schema --markdown`).\n\n\
         name = \"starter\"\n\
         organisation = \"Your Council\"          # CHECK\n\
         lake = \"lake\"\n\
         output = \"out\"\n"
    );
    let mut names: Vec<String> = Vec::new();
    let mut demographics: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (s, files) in sniffed {
        let name = source_name(&s.path, &names);
        names.push(name.clone());
        let roles: Vec<(Option<Role>, &ColumnSniff)> =
            s.columns.iter().map(|c| (guess(c), c)).collect();
        let find = |r: Role| roles.iter().find(|(g, _)| *g == Some(r)).map(|(_, c)| *c);
        let kind = if find(Role::Rating).is_some() {
            "satisfaction"
        } else if find(Role::Wait).is_some() || find(Role::Handle).is_some() {
            "calls"
        } else {
            "contacts"
        };
        // Two or more number columns each named after a channel, and no channel column: counts
        // laid out wide, one column per channel.
        let per_channel: Vec<(&str, &'static str)> = s
            .columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Number)
            .filter_map(|c| channel_named(&c.name).map(|ch| (c.name.as_str(), ch)))
            .collect();
        let wide = kind == "contacts" && find(Role::Channel).is_none() && per_channel.len() >= 2;
        match &s.sheet {
            Some(sheet) => {
                let _ = writeln!(
                    toml,
                    "# {}: {} rows on sheet '{}' (the first; CHECK it is the one to read).",
                    comment(files),
                    s.rows,
                    comment(sheet)
                );
            }
            None => {
                let _ = writeln!(
                    toml,
                    "# {}: {} rows{} read as {}, separated by {}.",
                    comment(files),
                    s.rows,
                    if s.whole { "" } else { " (a sample)" },
                    s.encoding,
                    match s.delimiter {
                        b'\t' => "tabs".to_string(),
                        d => format!("'{}'", d as char),
                    }
                );
            }
        }
        let _ = writeln!(toml, "[[sources]]\nname = {}", q(&name));
        let _ = writeln!(
            toml,
            "kind = {}                  # CHECK: calls | call_intervals | visits | webforms | contacts | satisfaction",
            q(kind)
        );
        let _ = writeln!(toml, "files = {}", q(files));
        if let Some(sheet) = &s.sheet {
            let _ = writeln!(toml, "sheet = {}", q(sheet));
        }
        // UTF-16 is read by its byte order mark: no setting names it.
        if s.encoding == "windows-1252" {
            let _ = writeln!(toml, "encoding = {}", q(s.encoding));
        }
        if s.delimiter != b',' {
            let d = match s.delimiter {
                b'\t' => "tab".to_string(),
                d => (d as char).to_string(),
            };
            let _ = writeln!(toml, "delimiter = {}", q(&d));
        }
        if s.sheet.is_none() && s.columns.iter().any(|c| c.decimal_comma) {
            let _ = writeln!(
                toml,
                "decimal_comma = true             # CHECK: numbers are written like 12,5 and 1.234,5"
            );
        }
        let format_of = |c: Option<&ColumnSniff>| match c.map(|c| &c.kind) {
            Some(ColumnKind::Timestamp(f) | ColumnKind::Date(f) | ColumnKind::Time(f)) => {
                Some(f.clone())
            }
            _ => None,
        };
        if let Some(f) = format_of(find(Role::When)) {
            let _ = writeln!(toml, "timestamp_formats = {}", list(&[f]));
        }
        if let Some(f) = format_of(find(Role::Date)) {
            let _ = writeln!(toml, "date_formats = {}", list(&[f]));
        }
        if let Some(f) = format_of(find(Role::Time)) {
            let _ = writeln!(toml, "time_formats = {}", list(&[f]));
        }
        if kind == "contacts" && find(Role::Outcome).is_none() {
            let _ = writeln!(
                toml,
                "default_outcome = \"submitted\"   # CHECK: every row is a contact made"
            );
        }
        if find(Role::Channel).is_none() && matches!(kind, "contacts" | "satisfaction") && !wide {
            let _ = writeln!(
                toml,
                "channel = \"web\"                 # CHECK: the channel of every row"
            );
        }
        if kind == "satisfaction" {
            let _ = writeln!(toml, "rating_scale = {}", q(&format!("{name}_rating")));
        }
        let _ = writeln!(
            toml,
            "\n[sources.columns]                  # CHECK each guess"
        );
        let field = |r: Role| match r {
            Role::RecordId => Some("record_id"),
            Role::When => Some("timestamp"),
            Role::Date => Some("date"),
            Role::Time => Some("time"),
            Role::Channel => Some("channel"),
            Role::Category => Some("category"),
            Role::Outcome => Some("outcome"),
            Role::Wait => Some("wait"),
            Role::Handle => Some("handle"),
            Role::Rating => Some("rating"),
            Role::Count => Some("count"),
            Role::Demographic(_) => None,
        };
        let mut used = Vec::new();
        let mut mapped: Vec<&str> = Vec::new();
        if wide {
            // The channel columns are the counts: no other count column is mapped.
            used.push("count");
            mapped.extend(per_channel.iter().map(|(c, _)| *c));
        }
        for (role, c) in &roles {
            if mapped.contains(&c.name.as_str()) {
                continue;
            }
            let Some(r) = role else { continue };
            if matches!(r, Role::Demographic(_)) {
                mapped.push(c.name.as_str());
                continue;
            }
            let Some(f) = field(*r) else { continue };
            if used.contains(&f) {
                continue;
            }
            used.push(f);
            mapped.push(c.name.as_str());
            let _ = writeln!(toml, "{f} = {}", q(&c.name));
        }
        let unused: Vec<&str> = roles
            .iter()
            .map(|(_, c)| c.name.as_str())
            .filter(|n| !mapped.contains(n))
            .collect();
        if !unused.is_empty() {
            let _ = writeln!(toml, "# not mapped: {}", comment(&unused.join(", ")));
        }
        if wide {
            let columns: Vec<String> = per_channel.iter().map(|(c, _)| c.to_string()).collect();
            // A column named as its channel is (`web`) needs no label.
            let labels: Vec<String> = per_channel
                .iter()
                .filter(|(c, ch)| normalise_header(c) != *ch)
                .map(|(c, ch)| format!("{} = {}", q(c), q(ch)))
                .collect();
            let _ = writeln!(
                toml,
                "\n# CHECK: one count column per channel; each row is read once per column, its value\n\
                 # the count and its label the channel. Add or remove columns, and fix any label.\n\
                 [sources.wide]\nacross = \"channel\"\ncolumns = {}\nlabels = {{ {} }}",
                list(&columns),
                labels.join(", ")
            );
        }
        if let Some(c) = find(Role::Channel) {
            let values: Vec<String> = c.values.iter().flatten().map(|(v, _)| v.clone()).collect();
            let _ = writeln!(
                toml,
                "\n# CHECK: move each value of {} to its channel (telephone, face_to_face, web, webchat,\n\
                 # email, app, social, post); staff-generated rows belong in [[sources.exclude]].\n\
                 [sources.channels]\nother = {}",
                q(&c.name),
                list(&values)
            );
        }
        if let Some(c) = find(Role::Outcome) {
            let values: Vec<String> = c.values.iter().flatten().map(|(v, _)| v.clone()).collect();
            let _ = writeln!(
                toml,
                "\n# CHECK: move each value of {} to its outcome (answered, abandoned, callback,\n\
                 # submitted, started, draft, served, walked_out).\n\
                 [sources.outcomes]\nother = {}",
                q(&c.name),
                list(&values)
            );
        }
        match find(Role::Category) {
            Some(c) => {
                let lookup = format!("lookups/{name}_services.csv");
                let mut csv = String::from("value,service\n");
                for (v, _) in c.values.iter().flatten() {
                    let v = if v.contains([',', '"', '\n']) {
                        format!("\"{}\"", v.replace('"', "\"\""))
                    } else {
                        v.clone()
                    };
                    let _ = writeln!(csv, "{v},");
                }
                out.push(StarterFile {
                    path: lookup.clone(),
                    text: csv,
                });
                let _ = writeln!(
                    toml,
                    "\n# CHECK: fill in the service of every value of {} in {lookup}.\n\
                     [sources.service]\nlookup = {}",
                    q(&c.name),
                    q(&lookup)
                );
            }
            None => {
                let _ = writeln!(
                    toml,
                    "\n[sources.service]\nfixed = \"All services\"       # CHECK: or map a category column"
                );
            }
        }
        let demo: Vec<(&'static str, &ColumnSniff)> = roles
            .iter()
            .filter_map(|(r, c)| match r {
                Some(Role::Demographic(f)) => Some((*f, *c)),
                _ => None,
            })
            .collect();
        if kind == "satisfaction" && !demo.is_empty() {
            let _ = writeln!(toml, "\n[sources.demographics]");
            for (f, c) in &demo {
                let _ = writeln!(toml, "{f} = {}", q(&c.name));
                if !demographics.iter().any(|(d, _)| d == f) {
                    let values = c.values.iter().flatten().map(|(v, _)| v.clone()).collect();
                    demographics.push((f, values));
                }
            }
        }
        if kind == "satisfaction" {
            if let Some(c) = find(Role::Rating) {
                let values: Vec<String> =
                    c.values.iter().flatten().map(|(v, _)| v.clone()).collect();
                let levels: Vec<String> = values
                    .iter()
                    .map(|v| {
                        format!(
                            "  {{ label = {}, score = 0, sentiment = \"neutral\" }},   # CHECK score and sentiment",
                            q(v)
                        )
                    })
                    .collect();
                let _ = writeln!(
                    toml,
                    "\n[scales.{name}_rating]\nlevels = [\n{}\n]",
                    levels.join("\n")
                );
            }
        }
        let _ = writeln!(toml);
    }
    for (field, values) in demographics {
        let _ = writeln!(
            toml,
            "[demographics.{field}]                # CHECK the categories and their order\ncategories = {}\n",
            list(&values)
        );
    }
    out.insert(
        0,
        StarterFile {
            path: "pipeline.toml".into(),
            text: toml,
        },
    );
    out
}
