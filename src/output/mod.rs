//! Outputs for analysts: every computed table as Parquet and CSV, and one Excel workbook with a
//! sheet per table. Writing only: nothing here computes a figure.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;

/// How a column is shown in the workbook (Parquet and CSV keep the plain numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnFormat {
    Text,
    Integer,
    /// A number with this many decimal places.
    Decimal(u8),
    /// A percentage held in percent units (6.0 means 6%), shown with this many decimal places.
    Percent(u8),
    Date,
}

/// One computed table, named for the files it is written to and titled for people.
#[derive(Debug, Clone)]
pub struct Table {
    /// File and sheet name, e.g. `channel_shift` (letters, digits and `_`; at most 31 characters).
    pub name: String,
    /// Title a Cabinet report can quote, e.g. "Channel shift against targets".
    pub title: String,
    /// One or two sentences: what a row is and how the figures are defined.
    pub description: String,
    pub frame: DataFrame,
    /// Column formats for the workbook; columns not listed are shown as they come.
    pub formats: BTreeMap<String, ColumnFormat>,
}
