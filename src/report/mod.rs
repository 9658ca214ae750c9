//! The report stage: one self-contained Cabinet progress report, `report.html` (charts inlined as
//! SVG, styles inline, no external file or request) and the same content as `report.md`, built
//! from the published KPI and equality tables and the drawn charts. `content` decides what the
//! report says, from the tables only; `html` and `markdown` only lay it out.

pub mod content;
pub mod html;
pub mod markdown;

use std::collections::HashMap;

/// A report: title lines and sections, independent of how it is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    /// Organisation, period and provenance, under the title.
    pub subtitle: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Anchor for the contents list, e.g. `headline`.
    pub id: String,
    pub heading: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A third-level heading inside a section.
    Subheading(String),
    /// Text shown as written (it may hold names from the exports).
    Paragraph(String),
    /// A table's note as the tables' index gives it (text cex writes, with names from the
    /// pipeline file): the column and value names it puts in backticks are shown as code in
    /// HTML. Markdown shows the backticks as written, like everything else.
    Note(String),
    Table(TableBlock),
    /// A chart by name; its title and text alternative come with it.
    Figure {
        name: String,
        title: String,
        alt: String,
    },
    Bullets(Vec<String>),
    /// A list of [`Block::Note`]s.
    Notes(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableBlock {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Right-aligned (numeric) columns.
    pub numeric: Vec<bool>,
    /// The first column names the row (a header cell for screen readers).
    pub row_headers: bool,
}

/// Drawn charts' SVG text by chart name, for inlining.
pub type Svgs = HashMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        Document {
            title: "Report <draft>".into(),
            subtitle: vec!["Period: 2024/25".into()],
            sections: vec![Section {
                id: "headline".into(),
                heading: "Headline".into(),
                blocks: vec![
                    Block::Table(TableBlock {
                        caption: "KPIs".into(),
                        headers: vec!["KPI".into(), "Change".into()],
                        rows: vec![vec!["Calls | visits".into(), "-5.6%".into()]],
                        numeric: vec![false, true],
                        row_headers: true,
                    }),
                    Block::Figure {
                        name: "missing".into(),
                        title: "Not drawn".into(),
                        alt: "Calls fell 5.6%.".into(),
                    },
                ],
            }],
        }
    }

    #[test]
    fn html_escapes_text_and_marks_up_tables_for_screen_readers() {
        let page = html::render(&doc(), &Svgs::new());
        assert!(page.contains("<h1>Report &lt;draft&gt;</h1>"));
        assert!(page.contains("<th scope=\"col\">KPI</th>"));
        assert!(page.contains("<th scope=\"row\">Calls | visits</th>"));
        assert!(page.contains("<td class=\"num\">-5.6%</td>"));
        // A chart that was not drawn still gives its text alternative.
        assert!(page.contains("Chart not drawn: Not drawn.</em> Calls fell 5.6%."));
    }

    #[test]
    fn markdown_keeps_table_cells_apart_and_links_png_charts() {
        let md = markdown::render(&doc(), "charts");
        assert!(md.contains("| Calls \\| visits | -5.6% |"));
        assert!(md.contains("| --- | ---: |"));
        assert!(md.contains("![Calls fell 5.6%.](charts/missing.png)"));
    }
}
