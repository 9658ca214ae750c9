//! `cex report <pipeline> [--period 2024-03 | --fy 2023/24]`: draws the charts from the published
//! tables into `<output>/<period>/charts/` and writes `report.html` and `report.md` beside them.
//! Also the last two stages of `cex run`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::ReportArgs;
use crate::charts::{self, ChartEntry};
use crate::config::Pipeline;
use crate::exit_codes;
use crate::kpi::period::Period;
use crate::lake::Lake;
use crate::output::publish::Staging;
use crate::report::{content, html, markdown, Svgs};

pub fn run(args: &ReportArgs) -> anyhow::Result<i32> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let lake = Lake::open(&pipeline.lake_dir)?;
    let period = super::kpi::resolve_period(&lake, args.period.as_deref(), args.fy.as_deref())?;
    charts_stage(&pipeline, period)?;
    report_stage(&pipeline, period)?;
    Ok(exit_codes::OK)
}

/// Where a period's KPI tables (and its charts and report) are published.
fn kpi_folder(pipeline: &Pipeline, period: Period) -> PathBuf {
    pipeline.output_dir.join(super::kpi::period_folder(period))
}

/// The period's published KPI tables; an error saying what to run when there are none.
fn kpi_tables(
    folder: &Path,
    period: Period,
) -> anyhow::Result<(Vec<crate::output::TableEntry>, crate::charts::specs::Tables)> {
    let (index, tables) = crate::output::read_folder(folder)?;
    if tables.is_empty() {
        anyhow::bail!(
            "{}: no KPI tables for {}: run `cex kpi` (or `cex run`) for this period first",
            folder.display(),
            period.describe()
        );
    }
    Ok((index, tables))
}

fn equality_folder(pipeline: &Pipeline, period: Period) -> PathBuf {
    pipeline
        .output_dir
        .join("equality")
        .join(super::kpi::period_folder(period))
}

/// The charts stage: every chart the published tables allow, drawn in parallel, published all
/// at once as `<output>/<period>/charts/`.
pub(super) fn charts_stage(pipeline: &Pipeline, period: Period) -> anyhow::Result<usize> {
    let folder = kpi_folder(pipeline, period);
    let (_, kpi) = kpi_tables(&folder, period)?;
    let (_, equality) = crate::output::read_folder(&equality_folder(pipeline, period))?;
    let specs = charts::specs::chart_specs(pipeline, &kpi, &equality);
    let drawn = charts::render_all(&specs)?;
    let destination = folder.join("charts");
    let staging = Staging::new(&destination)
        .with_context(|| format!("cannot create charts beside {}", destination.display()))?;
    charts::write_charts(&staging.dir, &drawn)?;
    staging
        .publish()
        .with_context(|| format!("cannot publish charts to {}", destination.display()))?;
    crate::log::info(&format!(
        "{} charts (PNG and SVG) written to {}",
        drawn.len(),
        destination.display()
    ));
    Ok(drawn.len())
}

/// The report stage: `report.html` (self-contained) and `report.md` in the period's folder,
/// from its tables and the charts drawn into `charts/` (a report without charts says so).
pub(super) fn report_stage(pipeline: &Pipeline, period: Period) -> anyhow::Result<PathBuf> {
    let folder = kpi_folder(pipeline, period);
    let (kpi_index, kpi) = kpi_tables(&folder, period)?;
    let (equality_index, equality) =
        crate::output::read_folder(&equality_folder(pipeline, period))?;
    let (entries, svgs) = read_charts(&folder.join("charts"))?;
    let produced = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y")
        .to_string();
    let inputs = content::Inputs {
        pipeline,
        period: period.describe(),
        kpi_index: &kpi_index,
        kpi: &kpi,
        equality_index: &equality_index,
        equality: &equality,
        charts: &entries,
        produced,
    };
    let doc = content::document(&inputs);
    let page = html::render(&doc, &svgs);
    let text = markdown::render(&doc, "charts");
    let html_path = folder.join("report.html");
    replace(&html_path, page.as_bytes())?;
    replace(&folder.join("report.md"), text.as_bytes())?;
    crate::log::info(&format!(
        "report for {} written to {} (and report.md)",
        period.describe(),
        html_path.display()
    ));
    Ok(html_path)
}

/// The charts index and each chart's SVG; none when the charts were not drawn.
fn read_charts(dir: &Path) -> anyhow::Result<(Vec<ChartEntry>, Svgs)> {
    let index = dir.join(charts::INDEX_FILE);
    if !index.is_file() {
        crate::log::warn(&format!(
            "{}: no charts drawn for this period; the report will have none",
            dir.display()
        ));
        return Ok((Vec::new(), Svgs::new()));
    }
    let text = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    let entries: Vec<ChartEntry> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a charts index", index.display()))?;
    let mut svgs = Svgs::new();
    for e in &entries {
        let path = dir.join(format!("{}.svg", e.name));
        let svg = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        svgs.insert(e.name.clone(), svg);
    }
    Ok((entries, svgs))
}

/// Writes a file through a temporary sibling and a rename: a reader sees the old or the new one.
fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
