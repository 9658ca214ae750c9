//! Channel use by group: each group's survey responses by channel, with shares and the digital
//! share (the pipeline's `[channels] digital`), because the digital divide is the risk the strategy names.

use polars::prelude::*;

use super::ALL_RESPONDENTS;
use crate::measures::{answers, answers_where, collect, percent, FigureError};
use crate::model::col as c;
use crate::tables::counts::{Counts, Group, Input, Part};

/// One row per group of `field` (then an all-respondents row): responses, a count and a share per
/// channel, and the digital share. Returns the table and its suppression layout.
pub fn channel_use(
    responses: LazyFrame,
    field: &str,
    digital_channels: &[String],
) -> Result<(DataFrame, Vec<String>), FigureError> {
    let channels: Vec<String> = collect(
        responses
            .clone()
            .select([col(c::CHANNEL).unique().sort(SortOptions::default())]),
    )?
    .column(c::CHANNEL)
    .map_err(crate::measures::figure_err)?
    .str()
    .map_err(crate::measures::figure_err)?
    .iter()
    .flatten()
    .map(str::to_string)
    .collect();
    let counts: Vec<Expr> = channels
        .iter()
        .map(|ch| {
            answers_where(col(c::CHANNEL).eq(lit(ch.as_str())))
                .cast(DataType::Int64)
                .alias(ch.as_str())
        })
        .collect();
    let digital: Vec<Expr> = channels
        .iter()
        .filter(|ch| digital_channels.contains(ch))
        .map(|ch| col(ch.as_str()))
        .collect();
    let digital_sum = digital
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| lit(0i64));
    let mut aggs = vec![answers().cast(DataType::Int64).alias("responses")];
    aggs.extend(counts);
    let per_group = |lf: LazyFrame| {
        let mut shares: Vec<Expr> = channels
            .iter()
            .map(|ch| percent(col(ch.as_str()), col("responses")).alias(format!("{ch}_pct")))
            .collect();
        shares.push(percent(digital_sum.clone(), col("responses")).alias("digital_share_pct"));
        lf.group_by([col(field)])
            .agg(aggs.clone())
            .with_columns(shares)
    };
    let groups = per_group(responses.clone()).sort([field], SortMultipleOptions::default());
    let all = per_group(responses.with_column(lit(ALL_RESPONDENTS).alias(field)));
    let table =
        collect(concat([groups, all], UnionArgs::default()).map_err(crate::measures::figure_err)?)?;
    Ok((table, channels))
}

/// The respondent counts of a channel-use table: each group's responses split by channel, with
/// each channel's share and the digital share derived from them.
pub fn counts(
    field: &str,
    channels: &[String],
    digital_channels: &[String],
    scope: &[(String, String)],
) -> Counts {
    let row = |c: &str| Input::Row(c.to_string());
    let mut counts = Counts {
        groups: vec![Group::column(field).with_total(ALL_RESPONDENTS)],
        fixed: scope.to_vec(),
        cohort: Some("responses".into()),
        parts: channels
            .iter()
            .map(|ch| Part {
                column: ch.clone(),
                dimension: c::CHANNEL.into(),
                value: ch.clone(),
            })
            .collect(),
        ..Counts::default()
    };
    for ch in channels {
        counts = counts.derive(&format!("{ch}_pct"), vec![row("responses"), row(ch)]);
    }
    let mut digital = vec![row("responses")];
    digital.extend(
        channels
            .iter()
            .filter(|ch| digital_channels.contains(ch))
            .map(|ch| row(ch)),
    );
    counts.derive("digital_share_pct", digital)
}
