//! Integration tests: run the `cex` binary on sample data and on small fixtures, and check what it
//! writes. One test binary (polars makes every extra one a long link).

mod aggregated;
mod avoidable;
mod calendar;
mod contract;
mod crash;
mod customers;
mod disclosure;
mod dont_know;
mod duplicates;
mod equality;
mod errors;
mod filters;
mod fuzz;
mod granularity;
mod hostile;
mod ingest_fixtures;
mod init;
mod kpi;
mod lake;
mod layers;
mod path_fields;
mod period_choice;
mod realdata;
mod report;
mod sample;
mod seed_layouts;
mod soak;
mod survey_dates;
mod util;
mod weighted;
mod wide;
