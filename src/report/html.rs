//! Lays a report out as one self-contained HTML page: inline styles (screen and print), charts
//! inlined as SVG with their text alternatives, headings in order, tables with header cells.
//! Nothing outside the file is referenced, so it opens offline and can be e-mailed as it is.

use super::{Block, Document, Svgs, TableBlock};
use crate::text::escape;

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: #212121; background: #fff;
  margin: 0 auto; max-width: 72rem; padding: 1.5rem; line-height: 1.45; }
a { color: #0b4f8a; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header p { margin: .2rem 0; color: #424242; }
nav ol { columns: 2; }
section { border-top: 3px solid #0b4f8a; margin-top: 2rem; padding-top: .5rem; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; font-size: .95rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border: 1px solid #9e9e9e; padding: .3rem .5rem; vertical-align: top; }
thead th { background: #e8eef5; text-align: left; }
tbody th { text-align: left; font-weight: normal; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.code, th.code { font-family: "Liberation Mono", monospace; font-size: .8rem; word-break: break-all; }
p code, li code { font-family: "Liberation Mono", monospace; font-size: .9em; background: #f3f2f1; padding: 0 .2em; }
figure { margin: 1.5rem 0; }
figure svg { width: 100%; height: auto; border: 1px solid #e0e0e0; }
figcaption { font-size: .95rem; color: #424242; }
.status-met { font-weight: bold; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav, .skip { display: none; }
  section { page-break-before: always; break-before: page; border-top: none; }
  section:first-of-type { page-break-before: auto; break-before: auto; }
  figure, table { page-break-inside: avoid; break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

pub fn render(doc: &Document, svgs: &Svgs) -> String {
    let mut out = String::with_capacity(256 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No request may leave the file: the policy forbids anything but inline styles and images.
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&doc.title)
    ));
    out.push_str("<a class=\"skip\" href=\"#main\">Skip to the report</a>\n<header>\n");
    out.push_str(&format!("<h1>{}</h1>\n", escape(&doc.title)));
    for line in &doc.subtitle {
        out.push_str(&format!("<p>{}</p>\n", escape(line)));
    }
    out.push_str("</header>\n<nav aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
    for s in &doc.sections {
        out.push_str(&format!(
            "<li><a href=\"#{}\">{}</a></li>\n",
            s.id,
            escape(&s.heading)
        ));
    }
    out.push_str("</ol>\n</nav>\n<main id=\"main\">\n");
    for s in &doc.sections {
        out.push_str(&format!(
            "<section id=\"{}\" aria-labelledby=\"{}-h\">\n<h2 id=\"{}-h\">{}</h2>\n",
            s.id,
            s.id,
            s.id,
            escape(&s.heading)
        ));
        for block in &s.blocks {
            block_html(&mut out, block, svgs);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn block_html(out: &mut String, block: &Block, svgs: &Svgs) {
    match block {
        Block::Subheading(text) => out.push_str(&format!("<h3>{}</h3>\n", escape(text))),
        Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", escape(text))),
        Block::Note(text) => out.push_str(&format!("<p>{}</p>\n", note(text))),
        Block::Bullets(items) => list(out, items, escape),
        Block::Notes(items) => list(out, items, note),
        Block::Table(t) => table_html(out, t),
        Block::Figure { name, title, alt } => match svgs.get(name) {
            Some(svg) => out.push_str(&format!(
                "<figure>\n{}\n<figcaption><strong>{}</strong>. {}</figcaption>\n</figure>\n",
                strip_xml_declaration(svg),
                escape(title),
                escape(alt)
            )),
            None => out.push_str(&format!(
                "<p><em>Chart not drawn: {}.</em> {}</p>\n",
                escape(title),
                escape(alt)
            )),
        },
    }
}

fn list(out: &mut String, items: &[String], html: fn(&str) -> String) {
    out.push_str("<ul>\n");
    for item in items {
        out.push_str(&format!("<li>{}</li>\n", html(item)));
    }
    out.push_str("</ul>\n");
}

/// A [`Block::Note`] in HTML: escaped, and each pair of backticks (how the tables' notes name a
/// column or value) made a `<code>` span. A backtick without a partner stays as written.
fn note(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // An even number of parts means an odd number of backticks: the last one has no partner.
    let paired = if parts.len().is_multiple_of(2) {
        parts.len() - 1
    } else {
        parts.len()
    };
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i >= paired {
            out.push('`');
            out.push_str(&escape(part));
        } else if i % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

fn table_html(out: &mut String, t: &TableBlock) {
    out.push_str(&format!(
        "<table>\n<caption>{}</caption>\n<thead><tr>",
        escape(&t.caption)
    ));
    for h in &t.headers {
        let class = if h == "SHA-256" {
            " class=\"code\""
        } else {
            ""
        };
        out.push_str(&format!("<th scope=\"col\"{class}>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let code = t.headers.get(i).is_some_and(|h| h == "SHA-256");
            if i == 0 && t.row_headers {
                out.push_str(&format!("<th scope=\"row\">{}</th>", escape(cell)));
            } else if code {
                out.push_str(&format!("<td class=\"code\">{}</td>", escape(cell)));
            } else if t.numeric.get(i).copied().unwrap_or(false) {
                out.push_str(&format!("<td class=\"num\">{}</td>", escape(cell)));
            } else {
                out.push_str(&format!("<td>{}</td>", escape(cell)));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// An inlined SVG must not carry an XML declaration.
fn strip_xml_declaration(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::{block_html, note};
    use crate::report::{Block, Svgs};

    #[test]
    fn backticked_names_become_code_and_everything_is_escaped() {
        assert_eq!(
            note("Rows `All services` / `All channels` total each month."),
            "Rows <code>All services</code> / <code>All channels</code> total each month."
        );
        assert_eq!(
            note("`<b>` & `a\"b`"),
            "<code>&lt;b&gt;</code> &amp; <code>a&quot;b</code>"
        );
        // A backtick without a partner is shown as written; text without any is only escaped.
        assert_eq!(note("one ` left <here>"), "one ` left &lt;here&gt;");
        assert_eq!(note("`a` and ` b"), "<code>a</code> and ` b");
        assert_eq!(note("no ticks"), "no ticks");
        assert_eq!(note(""), "");
        assert_eq!(note("``"), "<code></code>");
    }

    #[test]
    fn only_notes_show_backticked_names_as_code() {
        let html = |block: Block| {
            let mut out = String::new();
            block_html(&mut out, &block, &Svgs::new());
            out
        };
        let text = "Form `Change of address` <b>";
        // A paragraph may hold names from the exports: shown as written.
        assert_eq!(
            html(Block::Paragraph(text.into())),
            "<p>Form `Change of address` &lt;b&gt;</p>\n"
        );
        assert_eq!(
            html(Block::Bullets(vec![text.into()])),
            "<ul>\n<li>Form `Change of address` &lt;b&gt;</li>\n</ul>\n"
        );
        assert_eq!(
            html(Block::Note(text.into())),
            "<p>Form <code>Change of address</code> &lt;b&gt;</p>\n"
        );
        assert_eq!(
            html(Block::Notes(vec![text.into()])),
            "<ul>\n<li>Form <code>Change of address</code> &lt;b&gt;</li>\n</ul>\n"
        );
    }
}
