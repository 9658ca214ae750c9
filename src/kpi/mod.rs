//! The KPI stage: figures computed from the lake as lazy polars plans, one module per family
//! (volumes, channel shift, take-up, contact centre). Reads only the canonical tables.

pub mod channel_shift;
pub mod contact_centre;
pub mod period;
pub mod takeup;
pub mod volumes;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum KpiError {
    #[error("computing KPIs: {0}")]
    Data(String),
    #[error("no data: {0}")]
    NoData(String),
}

/// A polars error as a KPI error, without the query plan polars appends.
pub(crate) fn kpi_err(e: polars::prelude::PolarsError) -> KpiError {
    KpiError::Data(crate::ingest::first_paragraph(&e.to_string()))
}
