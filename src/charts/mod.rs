//! The charts stage: what managers and Cabinet look at, drawn with plotters from the published
//! KPI and equality tables. Each chart is written as SVG (its text stays text, for the HTML
//! report) and PNG (text drawn with the bundled font, for slides and documents), with a text
//! alternative stating its main figures. Which charts, and from which figures, is `specs`; how
//! each kind is drawn is `draw`; colours, font and sizes are `style`.

pub mod draw;
pub mod specs;
pub mod style;

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::text::escape;

pub use draw::Plot;

#[derive(Debug, Error)]
pub enum ChartError {
    #[error("drawing chart '{name}': {message}")]
    Draw { name: String, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A chart to draw: its file name, title, text alternative and what it plots.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// File name without extension, e.g. `contacts_by_channel`.
    pub name: String,
    pub title: String,
    /// A sentence or two a screen reader reads instead of the picture: the chart's main figures.
    pub alt: String,
    pub plot: Plot,
}

/// A drawn chart.
#[derive(Debug, Clone)]
pub struct Chart {
    pub name: String,
    pub title: String,
    pub alt: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// What `charts.json` records of each chart, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartEntry {
    pub name: String,
    pub title: String,
    pub alt: String,
}

pub const INDEX_FILE: &str = "charts.json";

/// Draws one chart as SVG text and as an RGB bitmap.
pub fn render(spec: &ChartSpec) -> Result<Chart, ChartError> {
    let fail = |message: String| ChartError::Draw {
        name: spec.name.clone(),
        message,
    };
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (style::WIDTH, style::HEIGHT)).into_drawing_area();
        draw::draw(&root, &spec.title, &spec.plot).map_err(fail)?;
    }
    let rgb = rgb(spec)?;
    let png = encode_png(&rgb, style::WIDTH, style::HEIGHT).map_err(fail)?;
    Ok(Chart {
        name: spec.name.clone(),
        title: spec.title.clone(),
        alt: spec.alt.clone(),
        svg: accessible_svg(&svg, &spec.title, &spec.alt),
        png,
    })
}

/// The chart as raw RGB pixels, `WIDTH x HEIGHT x 3` bytes.
pub fn rgb(spec: &ChartSpec) -> Result<Vec<u8>, ChartError> {
    let mut pixels = vec![255u8; (style::WIDTH * style::HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (style::WIDTH, style::HEIGHT))
            .into_drawing_area();
        draw::draw(&root, &spec.title, &spec.plot).map_err(|message| ChartError::Draw {
            name: spec.name.clone(),
            message,
        })?;
    }
    Ok(pixels)
}

/// Draws every chart, in parallel: each is independent and a report has a dozen or more.
pub fn render_all(specs: &[ChartSpec]) -> Result<Vec<Chart>, ChartError> {
    specs.par_iter().map(render).collect()
}

/// Writes `<name>.svg` and `<name>.png` for each chart and the index `charts.json`.
pub fn write_charts(dir: &Path, charts: &[Chart]) -> Result<(), ChartError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ChartError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for chart in charts {
        let svg = dir.join(format!("{}.svg", chart.name));
        std::fs::write(&svg, &chart.svg).map_err(io(&svg))?;
        let png = dir.join(format!("{}.png", chart.name));
        std::fs::write(&png, &chart.png).map_err(io(&png))?;
    }
    let entries: Vec<ChartEntry> = charts
        .iter()
        .map(|c| ChartEntry {
            name: c.name.clone(),
            title: c.title.clone(),
            alt: c.alt.clone(),
        })
        .collect();
    let index = dir.join(INDEX_FILE);
    let text = serde_json::to_string_pretty(&entries).map_err(|e| ChartError::Io {
        path: index.clone(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(&index, text).map_err(io(&index))
}

/// Gives the SVG a role, a `<title>` and a `<desc>` (the text alternative), so it is announced
/// properly when inlined in the report.
fn accessible_svg(svg: &str, title: &str, alt: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return svg.to_string();
    };
    let Some(open_end) = svg[start..].find('>').map(|i| start + i) else {
        return svg.to_string();
    };
    format!(
        "{} role=\"img\" aria-label=\"{}\">\n<title>{}</title>\n<desc>{}</desc>{}",
        &svg[..open_end],
        escape(title),
        escape(title),
        escape(alt),
        &svg[open_end + 1..]
    )
}

/// zlib's default level: at `Best` encoding took 0.17 s of a monthly run's 0.21 s of charts for
/// files a fifth smaller (docs/benchmarks.md).
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Default);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
