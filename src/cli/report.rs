//! `cex report <pipeline> [--period 2024-03 | --fy 2023/24]`: draws the charts from the published
//! tables into `<output>/<period>/charts/` and writes `report.html` and `report.md` beside them,
//! republishing the period's folder whole. Also the last two stages of `cex run`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::ReportArgs;
use crate::charts::specs::Tables;
use crate::charts::{self, ChartEntry};
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::kpi::period::Period;
use crate::lake::Lake;
use crate::output::publish::{Part, Publication, EQUALITY_DIR};
use crate::output::TableEntry;
use crate::report::{content, html, markdown, Svgs};

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let lake = Lake::open_at(&pipeline.lake_dir, args.lake_version)?;
    let period = super::kpi::resolve_period(&lake, args.period.as_deref(), args.fy.as_deref())?;
    let folder = super::kpi::publication_dir(&pipeline, period);
    if Published::read(&folder)?.is_none() {
        return Err(super::CliError::NothingPublished {
            path: folder,
            what: format!(
                "no KPI tables for {}: run `cex kpi` (or `cex run`) for this period first",
                period.describe()
            ),
        }
        .into());
    }
    // The tables kept, charts and report drawn again, published whole.
    let publication = Publication::begin(&folder, &[Part::Kpi, Part::Equality])
        .context("cannot start the publication")?;
    redraw(&pipeline, period, publication.dir(), true, true)?;
    let published = publication
        .publish()
        .context("cannot publish the outputs")?;
    crate::log::info(&format!(
        "report for {} written to {} (and report.md)",
        period.describe(),
        published.join("report.html").display()
    ));
    Ok(ExitCode::Ok)
}

/// A publication's KPI and equality tables (`equality/` inside it), read once for both the
/// charts and the report.
pub(super) struct Published {
    folder: PathBuf,
    kpi_index: Vec<TableEntry>,
    kpi: Tables,
    equality_index: Vec<TableEntry>,
    equality: Tables,
}

impl Published {
    /// The tables in a publication folder; `None` when it holds no KPI tables.
    pub(super) fn read(folder: &Path) -> anyhow::Result<Option<Published>> {
        let (kpi_index, kpi) = crate::output::read_folder(folder)?;
        if kpi.is_empty() {
            return Ok(None);
        }
        let (equality_index, equality) = crate::output::read_folder(&folder.join(EQUALITY_DIR))?;
        Ok(Some(Published {
            folder: folder.to_path_buf(),
            kpi_index,
            kpi,
            equality_index,
            equality,
        }))
    }
}

/// What [`redraw`] did.
pub(super) struct Drawn {
    pub charts: usize,
    pub charts_seconds: f64,
    pub report_seconds: f64,
}

/// Draws the charts (`charts`) and writes the report (`report`) into a publication being
/// assembled, from its tables; `None` when the folder holds no KPI tables (then neither is
/// written).
pub(super) fn redraw(
    pipeline: &Pipeline,
    period: Period,
    folder: &Path,
    charts: bool,
    report: bool,
) -> anyhow::Result<Option<Drawn>> {
    let Some(tables) = Published::read(folder)? else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let drawn = if charts {
        charts_stage(pipeline, &tables)?
    } else {
        0
    };
    let charts_seconds = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    if report {
        report_stage(pipeline, period, &tables)?;
    }
    Ok(Some(Drawn {
        charts: drawn,
        charts_seconds,
        report_seconds: started.elapsed().as_secs_f64(),
    }))
}

/// The charts stage: every chart the tables allow, drawn in parallel, into `charts/`.
fn charts_stage(pipeline: &Pipeline, tables: &Published) -> anyhow::Result<usize> {
    let specs = charts::specs::chart_specs(pipeline, &tables.kpi, &tables.equality);
    let drawn = charts::render_all(&specs)?;
    let destination = tables.folder.join("charts");
    if destination.exists() {
        std::fs::remove_dir_all(&destination)
            .with_context(|| format!("cannot replace {}", destination.display()))?;
    }
    std::fs::create_dir_all(&destination)
        .with_context(|| format!("cannot create {}", destination.display()))?;
    charts::write_charts(&destination, &drawn)?;
    crate::log::info(&format!(
        "{} charts (PNG and SVG) drawn into the publication's charts/",
        drawn.len()
    ));
    Ok(drawn.len())
}

/// The report stage: `report.html` (self-contained) and `report.md` in the publication, from its
/// tables and the charts drawn into `charts/` (a report without charts says so).
fn report_stage(pipeline: &Pipeline, period: Period, tables: &Published) -> anyhow::Result<()> {
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
    crate::output::replace_with(&tables.folder.join("report.html"), page.as_bytes())?;
    crate::output::replace_with(&tables.folder.join("report.md"), text.as_bytes())?;
    Ok(())
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
