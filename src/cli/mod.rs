//! The command line: one file per subcommand, each a thin wrapper over a library call.
//! Argument types live here; what the commands do lives in the stages.

mod equality;
mod generate;
mod ingest;
mod init;
mod kpi;
mod lake;
mod report;
mod run;
mod schema;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Pipeline;
use crate::exit_codes::ExitCode;
use crate::period::{Period, Span};
use crate::run::{RunOptions, Stage};

#[derive(Debug, Parser)]
#[command(
    name = "cex",
    version,
    about = "Turns contact-centre, face-to-face, web-form and satisfaction exports into channel-shift, \
             contact-centre, satisfaction and equality figures.",
    long_about = None,
    after_help = crate::exit_codes::HELP,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How messages on stderr are written: text for people, json (one object per line) for log
    /// collectors.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: crate::log::LogFormat,
    /// Write messages whole: by default a text message is one line of at most 300 characters.
    #[arg(long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage of a pipeline: ingest, KPIs, equality tables, charts and the report.
    Run(RunArgs),
    /// Ingest the pipeline's export files into the Parquet lake; files already ingested are skipped.
    Ingest(PipelineArgs),
    /// Check the pipeline file and every export against it, without writing anything.
    Validate(ValidateArgs),
    /// Compute the KPI tables (channel shift, take-up, contact centre...) from the lake.
    Kpi(KpiArgs),
    /// Satisfaction by protected characteristic, with intervals, tests and small-cell suppression.
    Equality(EqualityArgs),
    /// Draw the charts and write the Cabinet report (report.html, report.md) from the published tables.
    Report(ReportArgs),
    /// Write realistic sample exports (seeded, reproducible), small or benchmark-sized.
    Generate(GenerateArgs),
    /// Look after the lake itself (e.g. upgrade a lake written by an older cex).
    Lake(LakeArgs),
    /// Look at exports nobody has mapped yet and write a starter pipeline file (every guess
    /// marked CHECK) and lookup templates listing every category to map.
    Init(InitArgs),
    /// Print the pipeline file's JSON Schema (for editors: completion and checks), or with
    /// --markdown its reference of every key (docs/pipeline.md).
    Schema(SchemaArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The export files (CSV, or Excel workbooks: their first sheet), one per source.
    #[arg(required = true)]
    pub exports: Vec<PathBuf>,
    /// The folder to write pipeline.toml and lookups/ into; nothing there is overwritten.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Print the reference of every key as Markdown instead of the JSON Schema.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Debug, clap::Args)]
pub struct LakeArgs {
    #[command(subcommand)]
    pub command: LakeCommand,
}

#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Convert a lake of the layout before Delta tables into Delta tables, in place, without
    /// reading the exports again (ingest and run do this first by themselves).
    Upgrade {
        /// The pipeline file whose lake to upgrade.
        pipeline: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct PipelineArgs {
    /// The pipeline file (e.g. pipelines/sample.toml). Paths inside it are relative to it.
    pub pipeline: PathBuf,
    /// Exit with code 1 when the run has warnings (e.g. rejects above the warning share).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Only these sources of the pipeline (by name; repeat or separate with commas).
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The pipeline file to check.
    pub pipeline: PathBuf,
    /// Only these sources of the pipeline (by name; repeat or separate with commas).
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<String>,
}

/// The period a command reports on: a month parsed by clap, a financial year named in the
/// pipeline's calendar (a bad value of either exits 2).
#[derive(Debug, Clone, clap::Args)]
pub struct PeriodArgs {
    /// Report on a month (YYYY-MM) and its financial year to date; default: the last complete
    /// month in the lake (on the --as-of day).
    #[arg(long, conflicts_with = "fy", value_parser = Span::parse_month, value_name = "YYYY-MM")]
    pub period: Option<Span>,
    /// Report on a whole financial year: YYYY/YY (e.g. 2023/24), or YYYY when the pipeline's
    /// financial_year_start is January.
    #[arg(long, value_name = "YYYY/YY")]
    pub fy: Option<String>,
    /// The day the run is for (YYYY-MM-DD): decides the default period and the report's date,
    /// so a run can be repeated exactly; default: today in the pipeline's time zone.
    #[arg(long, value_parser = parse_day, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,
    /// Read the lake as it was at this version (the report's data-quality section and
    /// last-run.json name the version behind each publication); default: the lake as it is now.
    #[arg(long, value_name = "N")]
    pub lake_version: Option<i64>,
}

impl PeriodArgs {
    /// Run options for `pipeline` with this period (in its calendar), day and lake version,
    /// every stage on; a financial year the calendar does not name is a usage error (exit 2).
    fn options(&self, pipeline: &Pipeline) -> Result<RunOptions, crate::run::RunError> {
        let mut options = RunOptions::new(pipeline);
        let calendar = pipeline.calendar;
        options.period = match (&self.period, &self.fy) {
            (Some(span), _) => Some(Period::new(*span, calendar)),
            (None, Some(fy)) => Some(
                calendar
                    .parse(fy)
                    .map(|fy| Period::year(fy, calendar))
                    .map_err(|e| crate::run::RunError::usage(format!("--fy: {e}")))?,
            ),
            (None, None) => None,
        };
        if let Some(day) = self.as_of {
            options.as_of = day;
        }
        options.lake_version = self.lake_version;
        Ok(options)
    }
}

fn parse_day(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a day: give YYYY-MM-DD, e.g. 2025-04-03"))
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline_args: PipelineArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Stages to leave out, e.g. --skip ingest to recompute the figures from the lake as it is.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub skip: Vec<Stage>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    #[command(flatten)]
    pub period: PeriodArgs,
}

#[derive(Debug, clap::Args)]
pub struct KpiArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Exit with code 1 when there are warnings.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, clap::Args)]
pub struct EqualityArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// One breakdown instead of the pipeline's: one or two columns, e.g. age_band,channel.
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// Only responses about these channels (e.g. web,webchat).
    #[arg(long, value_delimiter = ',')]
    pub channel: Vec<String>,
    /// Only responses about these services (e.g. Housing).
    #[arg(long, value_delimiter = ',')]
    pub service: Vec<String>,
    /// Show small cells: for the analyst only; the folder is marked NOT-FOR-PUBLICATION.
    #[arg(long)]
    pub unsuppressed: bool,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Folder to write the exports into.
    #[arg(long, default_value = "sample_data")]
    pub out: PathBuf,
    /// Seed for the random numbers: the same seed writes the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Total call records over the three years (other sources in proportion); default: the
    /// small shipped sample.
    #[arg(long)]
    pub calls: Option<u64>,
    /// Write clean data, without the deliberate defects.
    #[arg(long)]
    pub no_defects: bool,
}

/// Runs a parsed command line; returns the exit code for a finished run.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Ingest(args) => ingest::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Kpi(args) => kpi::run(&args),
        Command::Equality(args) => equality::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Lake(args) => lake::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Init(args) => init::run(&args),
    }
}
