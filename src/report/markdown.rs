//! Lays a report out as Markdown (GitHub-flavoured tables, image links to the PNG charts), for
//! pasting into committee papers and wikis. Every text value (from the configuration or the data:
//! organisation name, KPI and service names, cells) is escaped so that it shows literally: no HTML
//! tag, link, emphasis, heading, list or table column can come from a value. Only the chart image
//! links, whose targets cex names itself, are Markdown of our own.

use super::{Block, Document, TableBlock};

/// `charts_dir`: the charts folder relative to the Markdown file, e.g. `charts`.
pub fn render(doc: &Document, charts_dir: &str) -> String {
    let mut out = format!("# {}\n\n", heading(&doc.title));
    for line in &doc.subtitle {
        out.push_str(&format!("{}\n\n", block(line)));
    }
    for s in &doc.sections {
        out.push_str(&format!("## {}\n\n", heading(&s.heading)));
        for b in &s.blocks {
            match b {
                Block::Subheading(text) => out.push_str(&format!("### {}\n\n", heading(text))),
                Block::Paragraph(text) | Block::Note(text) => {
                    out.push_str(&format!("{}\n\n", block(text)))
                }
                Block::Bullets(items) | Block::Notes(items) => {
                    for item in items {
                        out.push_str(&format!("- {}\n", block(item)));
                    }
                    out.push('\n');
                }
                Block::Table(t) => table_md(&mut out, t),
                Block::Figure { name, title, alt } => out.push_str(&format!(
                    "![{}]({charts_dir}/{name}.png)\n\n*{}.* {}\n\n",
                    inline(alt, false),
                    inline(title, false),
                    inline(alt, false)
                )),
            }
        }
    }
    out
}

/// Text on one line, shown literally wherever it stands in a line: `&`, `<`, `>` as HTML entities
/// (no tag or entity can form), Markdown punctuation (`\`, `` ` ``, `*`, `_`, `[`, `]`, `~`, and
/// `|` in a table) behind a backslash, control characters and line breaks as spaces, and no space
/// at either end (leading spaces could make a code block, trailing ones a line break).
fn inline(text: &str, in_table: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.trim().chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '|' if in_table => out.push_str("\\|"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// Text that starts a line (a paragraph, a list item, a heading): [`inline`], and whatever at its
/// start would open a heading (`#`), a list (`-`, `+`, `1.`, `1)`) or a rule (`---`) escaped.
/// (`>` is already `&gt;`, `*` already escaped.)
fn block(text: &str) -> String {
    let text = inline(text, false);
    let mut chars = text.chars();
    match chars.next() {
        Some('#') => format!("\\{text}"),
        Some('-' | '+') if !chars.next().is_some_and(char::is_alphanumeric) => {
            format!("\\{text}")
        }
        Some('0'..='9') => {
            let digits = text.chars().take_while(char::is_ascii_digit).count();
            let rest = &text[digits..];
            let marker = rest.starts_with(['.', ')'])
                && rest[1..].chars().next().is_none_or(char::is_whitespace);
            if digits <= 9 && marker {
                format!("{}\\{}", &text[..digits], rest)
            } else {
                text
            }
        }
        _ => text,
    }
}

/// Heading text: [`block`], and a closing run of `#` escaped (an ATX heading would drop it).
fn heading(text: &str) -> String {
    let text = block(text);
    let kept = text.trim_end_matches('#');
    if kept.len() < text.len() && !kept.ends_with('\\') {
        format!("{kept}\\{}", &text[kept.len()..])
    } else {
        text
    }
}

fn cell(text: &str) -> String {
    inline(text, true)
}

fn table_md(out: &mut String, t: &TableBlock) {
    out.push_str(&format!("**{}**\n\n", inline(&t.caption, false)));
    out.push_str(&format!(
        "| {} |\n",
        t.headers
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    let rule: Vec<&str> = (0..t.headers.len())
        .map(|i| {
            if t.numeric.get(i).copied().unwrap_or(false) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", rule.join(" | ")));
    for row in &t.rows {
        out.push_str(&format!(
            "| {} |\n",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Section;

    const SCRIPT: &str = "<script>alert(1)</script>";

    fn hostile(label: &str) -> String {
        format!("{label} {SCRIPT} =HYPERLINK(\"http://evil.example\",\"x\") **bold** [link](http://evil.example) | pipe `code`")
    }

    fn hostile_doc() -> Document {
        Document {
            title: format!("{SCRIPT} Council ##"),
            subtitle: vec![
                hostile("Organisation"),
                "# heading".into(),
                "> quote".into(),
                "- item".into(),
                "+ item".into(),
                "1. first".into(),
                "2) second".into(),
                "---".into(),
                "    indented code".into(),
                "line one\n# line two".into(),
            ],
            sections: vec![Section {
                id: "s".into(),
                heading: hostile("Section"),
                blocks: vec![
                    Block::Subheading("# sub ###".into()),
                    Block::Paragraph(hostile("Paragraph")),
                    Block::Paragraph("=HYPERLINK(\"http://evil.example\")".into()),
                    Block::Bullets(vec![hostile("Bullet"), "- nested".into(), "# h".into()]),
                    Block::Note(hostile("Note")),
                    Block::Notes(vec![hostile("Notes"), "1. listed".into()]),
                    Block::Table(TableBlock {
                        caption: hostile("Caption"),
                        headers: vec![hostile("Service"), "N | count".into(), "`x`".into()],
                        rows: vec![
                            vec![hostile("Cell"), "1,234".into(), "-5.6%".into()],
                            vec!["| a | b |".into(), "\\".into(), "x\\|y".into()],
                        ],
                        numeric: vec![false, true, true],
                        row_headers: true,
                    }),
                    Block::Figure {
                        name: "contacts_by_channel".into(),
                        title: hostile("Figure"),
                        alt: hostile("Alt [text]"),
                    },
                ],
            }],
        }
    }

    /// The `|` in a table line that separate cells (those not escaped by a backslash).
    fn separators(line: &str) -> usize {
        let mut count = 0;
        let mut escaped = false;
        for c in line.chars() {
            match c {
                '\\' if !escaped => escaped = true,
                '|' if !escaped => count += 1,
                _ => escaped = false,
            }
        }
        count
    }

    /// `1. ` or `12) ` at the start of a line.
    fn ordered_list_marker(line: &str) -> bool {
        let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
        rest.len() < line.len()
            && (rest.starts_with(". ") || rest.starts_with(") ") || rest == "." || rest == ")")
    }

    /// Whether every `needle` in `md` comes right after a backslash.
    fn always_escaped(md: &str, needle: &str) -> bool {
        md.match_indices(needle)
            .all(|(i, _)| md[..i].ends_with('\\') && !md[..i].ends_with("\\\\"))
    }

    #[test]
    fn values_show_literally_and_cannot_inject_markup() {
        let md = render(&hostile_doc(), "charts");
        // No HTML at all: the layout itself writes no `<`.
        assert!(!md.contains('<'), "{md}");
        assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // No link, emphasis or code span from a value; the chart image is the only link.
        assert!(always_escaped(&md, "](http"), "{md}");
        assert!(!md.contains("**bold**"));
        assert!(always_escaped(&md, "`"), "{md}");
        assert!(md.contains("![Alt \\[text\\] &lt;script&gt;"));
        assert!(md.contains("](charts/contacts_by_channel.png)"));
        assert_eq!(md.matches("](").count(), 1 + md.matches("\\](").count());
        // The formula is only text in Markdown: it stays readable.
        assert!(md.contains("=HYPERLINK(\"http://evil.example\")\n"));
        // Nothing a value starts with opens a block.
        for line in md.lines() {
            let block_start = line.starts_with('#')
                || line.starts_with('>')
                || line.starts_with("- ")
                || line.starts_with("+ ")
                || line.starts_with("    ")
                || line.starts_with("---")
                || ordered_list_marker(line);
            let ours = line.starts_with("# &lt;script")
                || line.starts_with("## Section")
                || line.starts_with("### \\# sub")
                || line.starts_with("- Bullet")
                || line.starts_with("- Notes")
                || line.starts_with("- 1\\. listed")
                || line.starts_with("- \\")
                || line.starts_with("| ---");
            assert!(!block_start || ours, "{line:?} in\n{md}");
        }
        for escaped in [
            "\\# heading",
            "&gt; quote",
            "\\- item",
            "\\+ item",
            "1\\. first",
            "2\\) second",
            "\\---",
            "\nindented code\n",
            "\nline one # line two\n",
            "- \\- nested",
            "- \\# h",
        ] {
            assert!(md.contains(escaped), "{escaped:?} in\n{md}");
        }
        // A closing run of # in a heading is kept as text.
        assert!(md.contains("Council \\##\n"), "{md}");
        assert!(md.contains("### \\# sub \\###\n"), "{md}");
        // Tables keep their columns: every line has as many cells as there are headers.
        let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(table.len(), 4);
        for line in table {
            assert_eq!(separators(line), 4, "{line}");
        }
        assert!(md.contains("| 1,234 | -5.6% |"));
    }

    #[test]
    fn ordinary_text_is_left_readable() {
        assert_eq!(
            block("Calls fell 5.6% (from 1,234 to 1,165)."),
            "Calls fell 5.6% (from 1,234 to 1,165)."
        );
        assert_eq!(block("-5.6% on last year"), "-5.6% on last year");
        assert_eq!(block("2024/25 to date"), "2024/25 to date");
        assert_eq!(block("2024. A good year"), "2024\\. A good year");
        assert_eq!(block("Housing & Benefits"), "Housing &amp; Benefits");
        assert_eq!(block("a_b"), "a\\_b");
        assert_eq!(heading("C# and F#"), "C# and F\\#");
        assert_eq!(cell(" Calls | visits "), "Calls \\| visits");
    }
}
