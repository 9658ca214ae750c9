//! Integration tests: run the `cex` binary on sample data and on small fixtures, and check what it
//! writes. One test binary (polars makes every extra one a long link).

mod crash;
mod equality;
mod contract;
mod errors;
mod fuzz;
mod ingest_fixtures;
mod kpi;
mod layers;
mod lake;
mod report;
mod sample;
mod soak;
mod util;
