//! Reading a table's cells as Rust values (for the charts and the report, and the few places the
//! KPI and equality stages need a small frame's values): its rows for one value of a column, and
//! a column as text, numbers or flags. A column the table lacks is an error naming it, never a
//! silent blank.

use std::collections::HashMap;

use polars::prelude::*;
use thiserror::Error;

/// Published tables by name (`channel_shift`, `equality_age_band`, ...).
pub type Tables = HashMap<String, DataFrame>;

/// A column the charts or the report read is not in the table they read it from: the stage that
/// writes the table and the contract disagree (a bug, never bad input).
#[derive(Debug, Error, PartialEq, Eq)]
#[error("a published table has no column '{column}' (columns: {columns}); the stage that writes it and the table contract disagree")]
pub struct MissingColumn {
    pub column: String,
    /// The columns the table has, comma-separated.
    pub columns: String,
}

/// Inside a stage that computes figures, a column its own plan should have made is a data error.
impl From<MissingColumn> for crate::measures::FigureError {
    fn from(e: MissingColumn) -> Self {
        crate::measures::FigureError::Data(e.to_string())
    }
}

fn missing(df: &DataFrame, name: &str) -> MissingColumn {
    let columns: Vec<&str> = df.get_column_names().iter().map(|c| c.as_str()).collect();
    MissingColumn {
        column: name.to_string(),
        columns: columns.join(", "),
    }
}

fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column, MissingColumn> {
    df.column(name).map_err(|_| missing(df, name))
}

/// Rows of `df` whose `column` equals `value` (all rows when the table has no such column: a
/// table of one council has no `organisation` to select on).
pub fn rows_where(df: &DataFrame, column: &str, value: &str) -> DataFrame {
    if df.column(column).is_err() {
        return df.clone();
    }
    df.clone()
        .lazy()
        .filter(col(column).eq(lit(value)))
        .collect()
        .unwrap_or_else(|_| df.clear())
}

/// A text column as owned strings (nulls as `None`; a numeric column is written as text).
pub fn texts(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, MissingColumn> {
    let values = column(df, name)?;
    Ok(match values.cast(&DataType::String) {
        Ok(cast) => match cast.str() {
            Ok(s) => s.iter().map(|v| v.map(str::to_string)).collect(),
            Err(_) => vec![None; df.height()],
        },
        Err(_) => vec![None; df.height()],
    })
}

/// A numeric column as `f64` (nulls, and text that is not a number, as `None`).
pub fn numbers(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, MissingColumn> {
    let values = column(df, name)?;
    Ok(match values.cast(&DataType::Float64) {
        Ok(cast) => match cast.f64() {
            Ok(s) => s.iter().collect(),
            Err(_) => vec![None; df.height()],
        },
        Err(_) => vec![None; df.height()],
    })
}

/// A true/false column (nulls as `None`).
pub fn flags(df: &DataFrame, name: &str) -> Result<Vec<Option<bool>>, MissingColumn> {
    let values = column(df, name)?;
    Ok(match values.cast(&DataType::Boolean) {
        Ok(cast) => match cast.bool() {
            Ok(s) => s.iter().collect(),
            Err(_) => vec![None; df.height()],
        },
        Err(_) => vec![None; df.height()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_the_table_lacks_is_named_not_read_as_blank() -> PolarsResult<()> {
        let df = df!("channel" => ["web", "telephone"], "transactions" => [3i64, 4])?;
        assert_eq!(numbers(&df, "transactions"), Ok(vec![Some(3.0), Some(4.0)]));
        assert_eq!(
            texts(&df, "channel"),
            Ok(vec![Some("web".into()), Some("telephone".into())])
        );
        let err = numbers(&df, "share_pct").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("a published table has no column 'share_pct' (columns: channel, transactions); the stage that writes it and the table contract disagree")
        );
        assert!(texts(&df, "service").is_err() && flags(&df, "baseline").is_err());
        Ok(())
    }
}
