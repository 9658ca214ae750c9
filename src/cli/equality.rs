//! `cex equality <pipeline> [--fy 2023/24] [--by age_band,channel] [--unsuppressed]`: satisfaction
//! by protected characteristic, suppressed for publication unless the analyst asks otherwise.
//! The pipeline's breakdowns go into the period's publication (`<output>/<period>/equality/`,
//! a run of the equality, charts and report stages); an analyst's own (`--by`, `--channel`,
//! `--service`, `--unsuppressed`) into a folder of their own under `<output>/equality/`, never
//! over the publication.

use anyhow::Context;

use super::EqualityArgs;
use crate::config::Pipeline;
use crate::equality::{compute, Filter};
use crate::exit_codes::ExitCode;
use crate::lake::Lake;
use crate::run::{stages, Stage};
use crate::tables::publish::Staging;

pub fn run(args: &EqualityArgs) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let mut options = args.period.options(&pipeline)?;
    let filter = Filter {
        channels: args.channel.clone(),
        services: args.service.clone(),
    };
    let publish = !args.unsuppressed;
    if args.by.is_empty() && filter.is_empty() && publish {
        // The published breakdowns: the period's publication, its charts and report drawn again.
        options.skip = vec![Stage::Ingest, Stage::Kpi];
        return crate::run::run(&pipeline, &options).into_result();
    }
    // An analyst's breakdown: a folder of its own, never the publication.
    if !args.by.is_empty() {
        crate::config::check_breakdown(&args.by, &pipeline.demographics)
            .map_err(|m| crate::run::RunError::usage(format!("--by {}: {m}", args.by.join(","))))?;
    }
    let lake = Lake::open_at(&pipeline.lake_dir, options.lake_version)?;
    let period = crate::run::resolve_period(&lake, &options, pipeline.calendar)?;
    if options.period.is_none() {
        // As `cex run` does: a breakdown of a month a few stray rows chose says so.
        if let Some(warning) = crate::run::thin_default_period(&pipeline, &lake, period)? {
            crate::log::warn(&warning.to_string());
        }
    }
    let breakdowns = if args.by.is_empty() {
        pipeline.equality.breakdowns.clone()
    } else {
        vec![args.by.clone()]
    };
    let mut tables = compute(&pipeline, &lake, period, &breakdowns, &filter, publish)?;
    let audit = if publish {
        Some(stages::protect_ad_hoc(
            &pipeline,
            &lake,
            period,
            &mut tables,
        )?)
    } else {
        None
    };
    if !publish {
        stages::restricted_root(&pipeline)?;
    }
    let destination = stages::ad_hoc_equality_dir(&pipeline, period, &args.by, &filter, publish);
    let staging = Staging::new(&destination)
        .with_context(|| format!("cannot create outputs beside {}", destination.display()))?;
    stages::write_equality(&staging.dir, &tables)?;
    if !publish {
        // Unsuppressed figures: every file and folder readable by its owner only.
        crate::tables::publish::owner_only_tree(&staging.dir)
            .with_context(|| format!("cannot restrict {}", staging.dir.display()))?;
    }
    if let Some(audit) = &audit {
        stages::write_audit(&staging.dir, audit)?;
    }
    let written = staging
        .publish()
        .with_context(|| format!("cannot publish outputs to {}", destination.display()))?;
    stages::log_equality_written(&pipeline, period, tables.len(), &written, publish);
    Ok(ExitCode::Ok)
}
