//! cex-insight: turns a council's contact-channel exports into channel-shift, contact-centre,
//! satisfaction and equality figures. Data flows one way: sources -> lake -> figures -> outputs.

pub mod charts;
pub mod cli;
pub mod config;
pub mod equality;
pub mod exit_codes;
pub mod generate;
pub mod ingest;
pub mod kpi;
pub mod lake;
pub mod log;
pub mod model;
pub mod output;
pub mod report;
pub mod sources;
pub mod text;
