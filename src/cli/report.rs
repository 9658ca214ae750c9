//! `cex report <pipeline> [--period 2024-03 | --fy 2023/24]`: draws the charts from the published
//! tables into `<output>/<period>/charts/` and writes `report.html` and `report.md` beside them.
//! Also the last two stages of `cex run`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::ReportArgs;
use crate::charts::specs::Tables;
use crate::charts::{self, ChartEntry};
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::kpi::period::Period;
use crate::lake::Lake;
use crate::output::publish::Staging;
use crate::output::TableEntry;
use crate::report::{content, html, markdown, Svgs};

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let lake = Lake::open_at(&pipeline.lake_dir, args.lake_version)?;
    let period = super::kpi::resolve_period(&lake, args.period.as_deref(), args.fy.as_deref())?;
    let Some(tables) = Published::read(&pipeline, period)? else {
        return Err(super::CliError::NothingPublished {
            path: kpi_folder(&pipeline, period),
            what: format!(
                "no KPI tables for {}: run `cex kpi` (or `cex run`) for this period first",
                period.describe()
            ),
        }
        .into());
    };
    charts_stage(&pipeline, &tables)?;
    report_stage(&pipeline, period, &tables)?;
    Ok(ExitCode::Ok)
}

/// Where a period's KPI tables (and its charts and report) are published.
fn kpi_folder(pipeline: &Pipeline, period: Period) -> PathBuf {
    pipeline.output_dir.join(super::kpi::period_folder(period))
}

/// A period's published KPI and equality tables, read once for both the charts and the report.
pub(super) struct Published {
    folder: PathBuf,
    kpi_index: Vec<TableEntry>,
    kpi: Tables,
    equality_index: Vec<TableEntry>,
    equality: Tables,
}

impl Published {
    /// `None` when no KPI tables are published for the period.
    pub(super) fn read(pipeline: &Pipeline, period: Period) -> anyhow::Result<Option<Published>> {
        let folder = kpi_folder(pipeline, period);
        let (kpi_index, kpi) = crate::output::read_folder(&folder)?;
        if kpi.is_empty() {
            return Ok(None);
        }
        let equality_folder = pipeline
            .output_dir
            .join("equality")
            .join(super::kpi::period_folder(period));
        let (equality_index, equality) = crate::output::read_folder(&equality_folder)?;
        Ok(Some(Published {
            folder,
            kpi_index,
            kpi,
            equality_index,
            equality,
        }))
    }
}

/// The charts stage: every chart the published tables allow, drawn in parallel, published all
/// at once as `<output>/<period>/charts/`.
pub(super) fn charts_stage(pipeline: &Pipeline, tables: &Published) -> anyhow::Result<usize> {
    let specs = charts::specs::chart_specs(pipeline, &tables.kpi, &tables.equality);
    let drawn = charts::render_all(&specs)?;
    let destination = tables.folder.join("charts");
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
pub(super) fn report_stage(
    pipeline: &Pipeline,
    period: Period,
    tables: &Published,
) -> anyhow::Result<PathBuf> {
    let (entries, svgs) = read_charts(&tables.folder.join("charts"))?;
    let produced = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y")
        .to_string();
    let inputs = content::Inputs {
        pipeline,
        period: period.describe(),
        kpi_index: &tables.kpi_index,
        kpi: &tables.kpi,
        equality_index: &tables.equality_index,
        equality: &tables.equality,
        charts: &entries,
        produced,
    };
    let doc = content::document(&inputs);
    let page = html::render(&doc, &svgs);
    let text = markdown::render(&doc, "charts");
    let html_path = tables.folder.join("report.html");
    crate::output::replace_with(&html_path, page.as_bytes())?;
    crate::output::replace_with(&tables.folder.join("report.md"), text.as_bytes())?;
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
