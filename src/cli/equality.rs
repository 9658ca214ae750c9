//! `cex equality <pipeline> [--fy 2023/24] [--by age_band,channel] [--unsuppressed]`: satisfaction
//! by protected characteristic, suppressed for publication unless the analyst asks otherwise.
//! The pipeline's breakdowns go into the period's publication (`<output>/<period>/equality/`);
//! an analyst's own (`--by`, `--channel`, `--service`, `--unsuppressed`) into a folder of their
//! own under `<output>/equality/`, never over the publication.

use anyhow::Context;

use super::EqualityArgs;
use crate::config::Pipeline;
use crate::equality::{compute, Filter};
use crate::exit_codes::ExitCode;
use crate::lake::Lake;
use std::path::Path;

use crate::kpi::period::Period;
use crate::output::publish::{Part, Publication, Staging, EQUALITY_DIR};
use crate::output::Table as TableOut;

pub fn run(args: &EqualityArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let filter = Filter {
        channels: args.channel.clone(),
        services: args.service.clone(),
    };
    let lake = Lake::open_at(&pipeline.lake_dir, args.lake_version)?;
    let period = super::kpi::resolve_period(&lake, args.period.as_deref(), args.fy.as_deref())?;
    let publish = !args.unsuppressed;
    let ad_hoc = !args.by.is_empty() || !filter.is_empty() || !publish;
    let breakdowns = if args.by.is_empty() {
        pipeline.equality.breakdowns.clone()
    } else {
        vec![args.by.clone()]
    };
    let tables = compute(&pipeline, &lake, period, &breakdowns, &filter, publish)?;
    let written = if ad_hoc {
        // An analyst's breakdown: a folder of its own, never the publication.
        let mut folder = super::kpi::period_folder(period);
        if !args.by.is_empty() {
            folder.push_str(&format!("-by-{}", args.by.join("-")));
        }
        folder.push_str(&filter.folder_suffix());
        if !publish {
            folder.push_str("-NOT-FOR-PUBLICATION");
        }
        let destination = pipeline.output_dir.join("equality").join(folder);
        let staging = Staging::new(&destination)
            .with_context(|| format!("cannot create outputs beside {}", destination.display()))?;
        write_equality(&staging.dir, &tables)?;
        staging
            .publish()
            .with_context(|| format!("cannot publish outputs to {}", destination.display()))?
    } else {
        // The published breakdowns: the period's publication, its charts and report drawn again.
        let publication = Publication::begin(
            &super::kpi::publication_dir(&pipeline, period),
            &[Part::Kpi],
        )
        .context("cannot start the publication")?;
        write_equality(&publication.dir().join(EQUALITY_DIR), &tables)?;
        super::report::redraw(&pipeline, period, publication.dir(), true, true)?;
        publication
            .publish()
            .context("cannot publish the outputs")?
            .join(EQUALITY_DIR)
    };
    log_written(&pipeline, period, tables.len(), &written, publish);
    Ok(ExitCode::Ok)
}

/// The equality stage of a run: the pipeline's breakdowns for the period, suppressed for
/// publication.
pub(super) fn equality_stage(
    pipeline: &Pipeline,
    period: Period,
    lake_version: Option<i64>,
) -> anyhow::Result<Vec<TableOut>> {
    let lake = Lake::open_at(&pipeline.lake_dir, lake_version)?;
    Ok(compute(
        pipeline,
        &lake,
        period,
        &pipeline.equality.breakdowns,
        &Filter::default(),
        true,
    )?)
}

/// Writes equality tables (and their workbook) into `dir`.
pub(super) fn write_equality(dir: &Path, tables: &[TableOut]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::output::write_tables(dir, tables, "cex-equality.xlsx")?;
    Ok(())
}

pub(super) fn log_written(
    pipeline: &Pipeline,
    period: Period,
    tables: usize,
    written: &Path,
    publish: bool,
) {
    crate::log::info(&format!(
        "equality tables for {} written to {} ({} tables{})",
        period.describe(),
        written.display(),
        tables,
        if publish {
            format!(
                ", cells below {} suppressed",
                pipeline.equality.suppression_threshold
            )
        } else {
            ", UNSUPPRESSED: not for publication".to_string()
        }
    ));
}
