//! cex-insight: turns a council's contact-channel exports into channel-shift, contact-centre,
//! satisfaction and equality figures.
//!
//! # The stages and their one-way flow
//!
//! ```text
//!  exports (CSV / Excel)
//!      |
//!  sources   read each vendor's layout as the pipeline file maps it, scrub personal data
//!      |
//!  ingest    validate, de-duplicate, reconcile every row (lake, rejects or duplicates)
//!      |
//!  lake      Delta tables: contacts, responses, manifest; one writer, snapshot readers
//!      |
//!  kpi, equality   figures as lazy polars plans, built on `measures` (one definition each)
//!      |
//!  tables    the contract (table and column names), Parquet / CSV / Excel, one-step publication
//!      |
//!  charts    PNG and SVG drawn from the published tables only
//!      |
//!  report    report.html and report.md from the published tables and charts
//!      |
//!  run       stage order, the period (as of a day, in the pipeline's time zone), last-run.json
//!      |
//!  cli       parses arguments, calls `run`, prints
//! ```
//!
//! Beneath them all: `config` (the pipeline file, validated), `period`, `model` (the canonical
//! columns), `text`, `redact` (personal data out of free text and quoted values), `warnings`,
//! `exit_codes`, `log`. A module imports only from layers below its own (checked by
//! `tests/integration/layers.rs`, which holds the layer of every module).

pub mod charts;
pub mod cli;
pub mod config;
pub mod disclosure;
pub mod equality;
pub mod exit_codes;
pub mod generate;
pub mod granularity;
pub mod ingest;
pub mod kpi;
pub mod lake;
pub mod log;
pub mod measures;
pub mod model;
pub mod period;
pub mod redact;
pub mod report;
pub mod run;
pub mod sources;
pub mod tables;
pub mod text;
pub mod warnings;
