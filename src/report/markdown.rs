//! Lays a report out as Markdown (GitHub-flavoured tables, image links to the PNG charts), for
//! pasting into committee papers and wikis.

use super::{Block, Document, TableBlock};

/// `charts_dir`: the charts folder relative to the Markdown file, e.g. `charts`.
pub fn render(doc: &Document, charts_dir: &str) -> String {
    let mut out = format!("# {}\n\n", doc.title);
    for line in &doc.subtitle {
        out.push_str(&format!("{line}\n\n"));
    }
    for s in &doc.sections {
        out.push_str(&format!("## {}\n\n", s.heading));
        for block in &s.blocks {
            match block {
                Block::Subheading(text) => out.push_str(&format!("### {text}\n\n")),
                Block::Paragraph(text) => out.push_str(&format!("{text}\n\n")),
                Block::Bullets(items) => {
                    for item in items {
                        out.push_str(&format!("- {item}\n"));
                    }
                    out.push('\n');
                }
                Block::Table(t) => table_md(&mut out, t),
                Block::Figure { name, title, alt } => out.push_str(&format!(
                    "![{}]({charts_dir}/{name}.png)\n\n*{title}.* {alt}\n\n",
                    alt.replace(['[', ']'], "")
                )),
            }
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn table_md(out: &mut String, t: &TableBlock) {
    out.push_str(&format!("**{}**\n\n", t.caption));
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
