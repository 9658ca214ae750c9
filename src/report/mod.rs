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
    Paragraph(String),
    /// Text shown as code (file hashes, paths).
    Table(TableBlock),
    /// A chart by name; its title and text alternative come with it.
    Figure {
        name: String,
        title: String,
        alt: String,
    },
    Bullets(Vec<String>),
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
