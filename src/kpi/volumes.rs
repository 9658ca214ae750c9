//! Monthly contact volumes by organisation, channel, service and outcome, with every month of the
//! lake's range present: a month without contacts on a channel shows 0, never a missing row.

use polars::prelude::*;

use super::{kpi_err, KpiError};
use crate::model::{col as c, financial_year_label};

pub const VOLUME: &str = "contacts";

/// Sums the `contacts` column per month, channel, service and outcome, zero-filled over the
/// months from the first to the last in the data.
pub fn monthly_volumes(contacts: LazyFrame) -> Result<LazyFrame, KpiError> {
    let keys = [c::ORGANISATION, c::CHANNEL, c::SERVICE, c::OUTCOME];
    let counted = contacts
        .group_by([
            col(c::ORGANISATION),
            col(c::CHANNEL),
            col(c::SERVICE),
            col(c::OUTCOME),
            col(c::YEAR).cast(DataType::Int32),
            col(c::MONTH).cast(DataType::Int8),
        ])
        .agg([col(c::CONTACTS).cast(DataType::Int64).sum().alias(VOLUME)]);
    let range = counted
        .clone()
        .select([
            (col(c::YEAR) * lit(12i32) + col(c::MONTH).cast(DataType::Int32))
                .min()
                .alias("first"),
            (col(c::YEAR) * lit(12i32) + col(c::MONTH).cast(DataType::Int32))
                .max()
                .alias("last"),
        ])
        .collect()
        .map_err(kpi_err)?;
    let get = |name: &str| -> Option<i32> {
        range
            .column(name)
            .ok()
            .and_then(|c| c.i32().ok().and_then(|s| s.get(0)))
    };
    let (Some(first), Some(last)) = (get("first"), get("last")) else {
        return Err(KpiError::NoData("the lake holds no contacts".into()));
    };
    let grid = month_grid(first, last).map_err(kpi_err)?;
    let combos = counted
        .clone()
        .select(keys.map(col))
        .unique(None, UniqueKeepStrategy::Any);
    Ok(combos
        .cross_join(grid.lazy(), None)
        .join(
            counted,
            [keys.map(col).to_vec(), vec![col(c::YEAR), col(c::MONTH)]].concat(),
            [keys.map(col).to_vec(), vec![col(c::YEAR), col(c::MONTH)]].concat(),
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(VOLUME).fill_null(lit(0i64)))
        .select([
            col(c::ORGANISATION),
            col(c::FINANCIAL_YEAR),
            col(c::YEAR),
            col(c::MONTH),
            col(c::CHANNEL),
            col(c::SERVICE),
            col(c::OUTCOME),
            col(VOLUME),
        ])
        .sort(
            [
                c::ORGANISATION,
                c::YEAR,
                c::MONTH,
                c::CHANNEL,
                c::SERVICE,
                c::OUTCOME,
            ],
            SortMultipleOptions::default(),
        ))
}

/// One row per month from `first` to `last` (both as year * 12 + month).
fn month_grid(first: i32, last: i32) -> PolarsResult<DataFrame> {
    let months: Vec<i32> = (first..=last).collect();
    let year: Vec<i32> = months.iter().map(|m| (m - 1).div_euclid(12)).collect();
    let month: Vec<i8> = months
        .iter()
        .map(|m| ((m - 1).rem_euclid(12) + 1) as i8)
        .collect();
    let fy: Vec<String> = year
        .iter()
        .zip(&month)
        .map(|(y, m)| financial_year_label(super::period::fy_of(*y, *m)))
        .collect();
    df!(c::YEAR => year, c::MONTH => month, c::FINANCIAL_YEAR => fy)
}
