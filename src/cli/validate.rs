//! `cex validate <pipeline>`: the pipeline file and every export checked, nothing written.

use super::ValidateArgs;
use crate::exit_codes::ExitCode;
use crate::ingest::{ingest, IngestOptions};

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let pipeline = crate::run::stages::only_sources(
        &crate::config::Pipeline::load(&args.pipeline)?,
        &args.sources,
    )?;
    println!(
        "{}: pipeline '{}' is valid ({} sources)",
        args.pipeline.display(),
        pipeline.name,
        pipeline.sources.len()
    );
    let report = ingest(
        &pipeline,
        IngestOptions {
            dry_run: true,
            ..IngestOptions::default()
        },
    )?;
    print!("{}", report.render("would add"));
    Ok(if report.gate_failures.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::QualityGate
    })
}
