//! `cex validate <pipeline>`: the pipeline file and every export checked, nothing written.

use super::ValidateArgs;
use crate::exit_codes::ExitCode;
use crate::ingest::{ingest, IngestOptions};

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let pipeline = crate::run::stages::only_sources(
        &crate::config::Pipeline::load(&args.pipeline)?,
        &args.sources,
    )?;
    // Every export is read and checked before the pipeline is called valid: a lookup table or
    // a column the file lacks is an error (exit 3), a failed quality gate exit 4.
    let report = ingest(
        &pipeline,
        IngestOptions {
            dry_run: true,
            ..IngestOptions::default()
        },
    )?;
    print!("{}", report.render("would add"));
    for line in report.reject_examples() {
        println!("{line}");
    }
    if !report.gate_failures.is_empty() {
        let n = report.gate_failures.len();
        crate::log::error(&format!(
            "{}: {n} quality gate{} failed, so `cex ingest` would write nothing: fix what the lines above name and validate again",
            args.pipeline.display(),
            if n == 1 { "" } else { "s" }
        ));
        return Ok(ExitCode::QualityGate);
    }
    println!(
        "{}: pipeline '{}' is valid ({} sources)",
        args.pipeline.display(),
        pipeline.name,
        pipeline.sources.len()
    );
    Ok(ExitCode::Ok)
}
