//! `cex ingest <pipeline>`: exports -> lake, with the reconciliation table on stdout.

use anyhow::Context;

use super::PipelineArgs;
use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::ingest::{ingest, FileStatus, IngestOptions, IngestReport};

pub fn run(args: &PipelineArgs) -> anyhow::Result<ExitCode> {
    ingest_stage(args).map(|(code, _)| code)
}

/// The ingest stage of a run: the exit code it deserves and its report.
pub(super) fn ingest_stage(args: &PipelineArgs) -> anyhow::Result<(ExitCode, IngestReport)> {
    let pipeline = super::load_pipeline(&args.pipeline, &args.sources)?;
    let report = ingest(&pipeline, IngestOptions::default())
        .with_context(|| format!("ingest for pipeline {}", args.pipeline.display()))?;
    Ok((
        print_and_code(&pipeline, &report, args.deny_warnings),
        report,
    ))
}

/// Prints the ingest table and summary; returns the exit code it deserves.
pub(super) fn print_and_code(
    pipeline: &Pipeline,
    report: &IngestReport,
    deny_warnings: bool,
) -> ExitCode {
    print!("{}", report.render("accepted"));
    let (read, accepted, rejected, duplicates) = report.totals();
    if report.committed {
        let skipped = report
            .files
            .iter()
            .filter(|f| f.status != FileStatus::Ingested)
            .count();
        if read == 0 {
            crate::log::info(&format!(
                "nothing new: all {skipped} files are already in {}",
                pipeline.lake_dir.display()
            ));
        } else {
            crate::log::info(&format!(
            "{read} rows from {} new files into {}: {accepted} added, {rejected} rejected (see {}), {duplicates} duplicates; {skipped} files skipped (content already seen)",
                report.files.len() - skipped,
                pipeline.lake_dir.display(),
                pipeline.lake_dir.join("rejects").display(),
            ));
        }
    }
    if !report.gate_failures.is_empty() {
        crate::log::error(&format!(
            "quality gate failed for {} file(s); nothing was written to the lake (see above; `cex validate` lists every reason)",
            report.gate_failures.len()
        ));
        return ExitCode::QualityGate;
    }
    if deny_warnings && !report.warnings.is_empty() {
        return ExitCode::Warnings;
    }
    ExitCode::Ok
}
