//! Integration tests: run the `cex` binary on sample data and check its outputs.
