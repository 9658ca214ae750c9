//! Monthly contact volumes by organisation, channel, service and outcome, with every month of the
//! lake's range present: a month without contacts on a channel shows 0, never a missing row.

use polars::prelude::*;

use super::{figure_err, FigureError};
use crate::model::col as c;
use crate::period::Calendar;

pub const VOLUME: &str = "contacts";

/// The volumes table's columns, in order.
fn output_columns() -> [Expr; 8] {
    [
        c::ORGANISATION,
        c::FINANCIAL_YEAR,
        c::YEAR,
        c::MONTH,
        c::CHANNEL,
        c::SERVICE,
        c::OUTCOME,
        VOLUME,
    ]
    .map(col)
}

/// Sums the `contacts` column per month, channel, service and outcome, zero-filled over the
/// months from the first to the last in the data, each month labelled with its financial year in
/// `calendar`.
pub fn monthly_volumes(contacts: LazyFrame, calendar: Calendar) -> Result<LazyFrame, FigureError> {
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
    // The one pass over every contact in the lake; what follows works on its few thousand rows.
    let counted = super::collect(counted)?.lazy();
    let range = super::collect(
        counted.clone().select([
            (col(c::YEAR) * lit(12i32) + col(c::MONTH).cast(DataType::Int32))
                .min()
                .alias("first"),
            (col(c::YEAR) * lit(12i32) + col(c::MONTH).cast(DataType::Int32))
                .max()
                .alias("last"),
        ]),
    )?;
    let get = |name: &str| -> Option<i32> {
        range
            .column(name)
            .ok()
            .and_then(|c| c.i32().ok().and_then(|s| s.get(0)))
    };
    let (Some(first), Some(last)) = (get("first"), get("last")) else {
        // No contacts at all (a survey-only lake): no months, no rows, the same columns.
        return Ok(counted
            .with_column(lit(NULL).cast(DataType::String).alias(c::FINANCIAL_YEAR))
            .select(output_columns()));
    };
    let grid = month_grid(first, last, calendar).map_err(figure_err)?;
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
        .select(output_columns())
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
fn month_grid(first: i32, last: i32, calendar: Calendar) -> PolarsResult<DataFrame> {
    let months: Vec<i32> = (first..=last).collect();
    let year: Vec<i32> = months.iter().map(|m| (m - 1).div_euclid(12)).collect();
    let month: Vec<i8> = months
        .iter()
        .map(|m| ((m - 1).rem_euclid(12) + 1) as i8)
        .collect();
    let fy: Vec<String> = year
        .iter()
        .zip(&month)
        .map(|(y, m)| calendar.label(calendar.fy_of(*y, *m)))
        .collect();
    df!(c::YEAR => year, c::MONTH => month, c::FINANCIAL_YEAR => fy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_without_contacts_on_a_channel_is_zero_not_missing(
    ) -> Result<(), Box<dyn std::error::Error>> {
        // Visits in April and June only (the desk was closed in May); calls every month.
        let contacts = df!(
            c::ORGANISATION => ["Org"; 5],
            c::CHANNEL => ["face_to_face", "face_to_face", "telephone", "telephone", "telephone"],
            c::SERVICE => ["Housing"; 5],
            c::OUTCOME => ["served", "served", "answered", "answered", "answered"],
            c::YEAR => [2023i32; 5],
            c::MONTH => [4i8, 6, 4, 5, 6],
            c::CONTACTS => [3u32, 2, 10, 11, 12],
        )?;
        let v = monthly_volumes(contacts.lazy(), Calendar::APRIL)?
            .filter(col(c::CHANNEL).eq(lit("face_to_face")))
            .collect()?;
        let months: Vec<i8> = v.column(c::MONTH)?.i8()?.iter().flatten().collect();
        let counts: Vec<i64> = v.column(VOLUME)?.i64()?.iter().flatten().collect();
        assert_eq!(months, vec![4, 5, 6]);
        assert_eq!(counts, vec![3, 0, 2]);
        let fy: Vec<&str> = v
            .column(c::FINANCIAL_YEAR)?
            .str()?
            .iter()
            .flatten()
            .collect();
        assert_eq!(fy, vec!["2023/24"; 3]);
        Ok(())
    }

    #[test]
    fn no_contacts_give_no_rows_not_a_panic() -> Result<(), Box<dyn std::error::Error>> {
        let empty = df!(
            c::ORGANISATION => Vec::<String>::new(),
            c::CHANNEL => Vec::<String>::new(),
            c::SERVICE => Vec::<String>::new(),
            c::OUTCOME => Vec::<String>::new(),
            c::YEAR => Vec::<i32>::new(),
            c::MONTH => Vec::<i8>::new(),
            c::CONTACTS => Vec::<u32>::new(),
        )?;
        let volumes = monthly_volumes(empty.lazy(), Calendar::APRIL)?.collect()?;
        assert_eq!(volumes.height(), 0);
        assert!(volumes.column(VOLUME).is_ok() && volumes.column(c::FINANCIAL_YEAR).is_ok());
        Ok(())
    }
}
