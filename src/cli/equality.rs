//! `cex equality <pipeline> [--fy 2023/24] [--by age_band,channel] [--unsuppressed]`: satisfaction
//! by protected characteristic, suppressed for publication unless the analyst asks otherwise.

use anyhow::Context;

use super::EqualityArgs;
use crate::config::Pipeline;
use crate::equality::{compute, Filter};
use crate::exit_codes::ExitCode;
use crate::lake::Lake;
use crate::output::publish::Staging;

pub fn run(args: &EqualityArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let by = (!args.by.is_empty()).then(|| vec![args.by.clone()]);
    let filter = Filter {
        channels: args.channel.clone(),
        services: args.service.clone(),
    };
    equality_stage(
        &pipeline,
        args.period.as_deref(),
        args.fy.as_deref(),
        args.lake_version,
        by,
        &filter,
        !args.unsuppressed,
    )?;
    Ok(ExitCode::Ok)
}

/// The equality stage of a run: writes `<output>/equality/<period>/` (or, unsuppressed,
/// `<period>-NOT-FOR-PUBLICATION`).
pub(super) fn equality_stage(
    pipeline: &Pipeline,
    period: Option<&str>,
    fy: Option<&str>,
    lake_version: Option<i64>,
    by: Option<Vec<Vec<String>>>,
    filter: &Filter,
    publish: bool,
) -> anyhow::Result<()> {
    let lake = Lake::open_at(&pipeline.lake_dir, lake_version)?;
    let period = super::kpi::resolve_period(&lake, period, fy)?;
    let breakdowns = by.unwrap_or_else(|| pipeline.equality.breakdowns.clone());
    let tables = compute(pipeline, &lake, period, &breakdowns, filter, publish)?;
    let mut folder = super::kpi::period_folder(period);
    folder.push_str(&filter.folder_suffix());
    if !publish {
        folder.push_str("-NOT-FOR-PUBLICATION");
    }
    let destination = pipeline.output_dir.join("equality").join(folder);
    let staging = Staging::new(&destination)
        .with_context(|| format!("cannot create outputs beside {}", destination.display()))?;
    crate::output::write_tables(&staging.dir, &tables, "cex-equality.xlsx")?;
    let published = staging
        .publish()
        .with_context(|| format!("cannot publish outputs to {}", destination.display()))?;
    crate::log::info(&format!(
        "equality tables for {} written to {} ({} tables{})",
        period.describe(),
        published.display(),
        tables.len(),
        if publish {
            format!(
                ", cells below {} suppressed",
                pipeline.equality.suppression_threshold
            )
        } else {
            ", UNSUPPRESSED: not for publication".to_string()
        }
    ));
    Ok(())
}
