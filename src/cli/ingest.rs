//! `cex ingest <pipeline>`: exports -> lake, with the reconciliation table on stdout.

use anyhow::Context;

use super::PipelineArgs;
use crate::config::Pipeline;
use crate::exit_codes;
use crate::ingest::{ingest, IngestOptions, IngestReport};

pub fn run(args: &PipelineArgs) -> anyhow::Result<i32> {
    let pipeline = Pipeline::load(&args.pipeline)?;
    let report = ingest(&pipeline, IngestOptions::default())
        .with_context(|| format!("ingest for pipeline {}", args.pipeline.display()))?;
    Ok(print_and_code(&pipeline, &report, args.deny_warnings))
}

/// Prints the ingest table and summary; returns the exit code it deserves.
pub(super) fn print_and_code(
    pipeline: &Pipeline,
    report: &IngestReport,
    deny_warnings: bool,
) -> i32 {
    print!("{}", report.render("accepted"));
    let (read, accepted, rejected, duplicates) = report.totals();
    if report.committed {
        eprintln!(
            "cex: ingested {} rows into {}: {accepted} new, {rejected} rejected, {duplicates} duplicates, from {} files; rejects are in {}",
            read,
            pipeline.lake_dir.display(),
            report.files.len(),
            pipeline.lake_dir.join("rejects").display(),
        );
    }
    if !report.gate_failures.is_empty() {
        eprintln!(
            "cex: error: quality gate failed for {} file(s); nothing was written to the lake (see above; `cex validate` lists every reason)",
            report.gate_failures.len()
        );
        return exit_codes::QUALITY_GATE;
    }
    if deny_warnings && !report.warnings.is_empty() {
        return exit_codes::WARNINGS;
    }
    exit_codes::OK
}
