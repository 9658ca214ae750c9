//! Avoidable contact, as National Indicator 14 measured it: the share of contacts that a service
//! working well would not have had, and the contacts it takes to resolve one request. A contact
//! is avoidable when its reason or disposition code is listed under an avoidable category of
//! `[avoidable]` (progress chasing, clarification, wrong channel, other avoidable), or when it is
//! a repeat: the same customer about the same service within `avoidable.repeat_days` (linked as
//! in [`super::repeats`]). It is assessed when it has a listed code or a customer key; the share
//! divides by assessed contacts only, never by contacts nobody could judge.
//!
//! Contacts per resolved request: identified contacts whose whole window is in the lake, over
//! those not followed up within the window (each chain of repeats ends in one resolved contact).
//!
//! The targets (`[[avoidable.targets]]`) compare either measure with the same months of a
//! baseline year, as channel-shift KPIs do, with the same met / RAG rules.

use std::collections::BTreeSet;

use polars::prelude::*;

use super::channel_shift::against_target;
use super::repeats::{count, observable, with_totals, within, KEYED, NEXT, PREV};
use super::{collect, figure_err, percent, FigureError};
use crate::config::avoidable::{
    AvoidableConfig, AvoidableMeasure, AvoidableTarget, ReasonCategory,
};
use crate::config::kpi::KpiConfig;
use crate::model::col as c;
use crate::period::{in_months, month_name, Period};
use crate::sources::parse::{mapped, per_distinct};
use crate::tables::contract::column as out;
use crate::tables::contract::label;
use crate::tables::frame::texts;
use crate::text::normalised;
use crate::warnings::Warning;

const CATEGORY: &str = "__reason_category";
const CODED: &str = "__coded";
const AVOIDABLE_CODE: &str = "__avoidable_code";
const REPEAT: &str = "__repeat";
const ASSESSED: &str = "__assessed";
const AVOIDABLE: &str = "__avoidable";
const WATCHED: &str = "__observable";
const FOLLOWED: &str = "__followed_up";
const MONTH_KEY: &str = "__month_key";
const INDEX: &str = "__target";
const PRESENT: &str = "__months_present";

/// `rows` (linked contacts summed by `repeats::summed`) with each contact's category and
/// whether it is coded, a repeat, assessed, avoidable, observable and followed up.
pub fn classified(rows: LazyFrame, config: &AvoidableConfig) -> LazyFrame {
    let pairs: Vec<(String, String)> = config
        .codes
        .iter()
        .map(|(code, category)| (code.clone(), category.as_str().to_string()))
        .collect();
    // Each distinct code is normalised and looked up once, not each row.
    let category = per_distinct(
        col(c::REASON),
        |v| mapped(normalised(v), &pairs),
        DataType::String,
    );
    let avoidable_names: Vec<&str> = ReasonCategory::AVOIDABLE.map(|c| c.as_str()).to_vec();
    let n = config.repeat_days;
    let (repeat, keyed) = if n > 0 {
        (within(PREV, n), col(KEYED))
    } else {
        (lit(false), lit(false))
    };
    rows.with_column(category.alias(CATEGORY))
        .with_columns([
            col(CATEGORY).is_not_null().alias(CODED),
            col(CATEGORY)
                .is_in(
                    lit(Series::new("avoidable".into(), avoidable_names)).implode(false),
                    false,
                )
                .fill_null(lit(false))
                .alias(AVOIDABLE_CODE),
            keyed.clone().and(observable(n)).alias(WATCHED),
        ])
        .with_columns([
            repeat.and(col(AVOIDABLE_CODE).not()).alias(REPEAT),
            col(CODED).or(keyed).alias(ASSESSED),
            col(WATCHED).and(within(NEXT, n)).alias(FOLLOWED),
        ])
        .with_column(col(AVOIDABLE_CODE).or(col(REPEAT)).alias(AVOIDABLE))
}

/// The contacts (a row's `contacts`) for which `cond` holds.
fn contacts_where(cond: Expr) -> Expr {
    when(cond)
        .then(col(c::CONTACTS).cast(DataType::UInt64))
        .otherwise(lit(0u64))
        .sum()
}

/// `observable / (observable - followed up)`: null when nothing is resolved yet.
fn per_resolved(observable: Expr, followed: Expr) -> Expr {
    let resolved = observable.clone() - followed;
    when(resolved.clone().gt(lit(0u64)))
        .then(observable.cast(DataType::Float64) / resolved.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The assessed rows of a month, service and channel: a month is held when it has any, even
/// where a count export's assessed rows number 0 contacts.
const ASSESSED_ROWS: &str = "__assessed_rows";

/// The counted columns of the avoidable-contact table, in its order, each with the
/// [`classified`] rows whose contacts it counts.
fn counted() -> Vec<(&'static str, Expr)> {
    let mut counts = vec![
        (out::CONTACTS, lit(true)),
        (out::CODED, col(CODED)),
        (
            out::UNLISTED_CODES,
            col(c::REASON).is_not_null().and(col(CODED).not()),
        ),
        (out::IDENTIFIED, col(KEYED)),
        (out::ASSESSED, col(ASSESSED)),
    ];
    counts.extend(
        ReasonCategory::AVOIDABLE
            .map(|category| (category.as_str(), col(CATEGORY).eq(lit(category.as_str())))),
    );
    counts.extend([
        (out::REPEAT_NOT_CODED_AVOIDABLE, col(REPEAT)),
        (out::AVOIDABLE, col(AVOIDABLE)),
        (out::OBSERVABLE, col(WATCHED)),
        (out::FOLLOWED_UP, col(FOLLOWED)),
    ]);
    counts
}

/// [`classified`] rows summed by month, service and channel: every count the avoidable
/// table and the targets need, so that neither reads the contacts again (each target sums a
/// few hundred rows, not every contact of two years).
pub fn monthly(rows: LazyFrame) -> LazyFrame {
    let aggs: Vec<Expr> = counted()
        .into_iter()
        .map(|(name, cond)| contacts_where(cond).alias(name))
        .chain([count(col(ASSESSED)).alias(ASSESSED_ROWS)])
        .collect();
    rows.group_by(super::repeats::keys_of(&[c::SERVICE, c::CHANNEL]))
        .agg(aggs)
}

/// Avoidable contact by month, service and channel, plus a row per month for all services and
/// channels, from the [`monthly`] sums of the period's months.
pub fn avoidable_contact(
    monthly: &LazyFrame,
    config: &AvoidableConfig,
) -> Result<DataFrame, FigureError> {
    let aggs: Vec<Expr> = counted()
        .into_iter()
        .map(|(name, _)| col(name).sum())
        .collect();
    let derived = [
        percent(col(out::AVOIDABLE), col(out::ASSESSED)).alias(out::AVOIDABLE_PCT),
        per_resolved(col(out::OBSERVABLE), col(out::FOLLOWED_UP))
            .alias(out::CONTACTS_PER_RESOLVED_REQUEST),
        lit(config.repeat_days).alias(out::REPEAT_DAYS),
    ];
    let by = super::repeats::keys_of(&[c::SERVICE, c::CHANNEL]);
    collect(
        with_totals(monthly.clone(), &aggs, &derived)?
            .sort_by_exprs(by, SortMultipleOptions::default()),
    )
}

/// Reason codes the contacts carry that `[avoidable]` lists under no category, with their
/// contacts, most first (a warning, so the mapping can be completed).
pub fn unlisted_codes(rows: &LazyFrame) -> Result<Option<Warning>, FigureError> {
    let df = collect(
        rows.clone()
            .filter(col(c::REASON).is_not_null().and(col(CODED).not()))
            .group_by([col(c::REASON)])
            .agg([col(c::CONTACTS)
                .cast(DataType::UInt64)
                .sum()
                .alias(out::CONTACTS)])
            .sort_by_exprs(
                [col(out::CONTACTS), col(c::REASON)],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            ),
    )?;
    if df.height() == 0 {
        return Ok(None);
    }
    let codes = texts(&df, c::REASON)?;
    let counts = df
        .column(out::CONTACTS)
        .and_then(|c| c.u64().cloned())
        .map_err(figure_err)?;
    let values: Vec<(String, u64)> = codes
        .into_iter()
        .zip(counts.iter())
        .filter_map(|(code, n)| Some((code?, n.unwrap_or(0))))
        .collect();
    Ok(Some(Warning::UnlistedReasonCodes { values }))
}

/// One row per target of `[[avoidable.targets]]` that applies to the period, and organisation,
/// from the [`monthly`] sums of the baseline and current months:
/// the measure in the same months of the baseline year and in the period, the change against
/// the target, status and RAG; `incomplete` (RAG `n/a`) when a month of either has no assessed
/// contact, naming the months.
pub fn targets(
    monthly: &LazyFrame,
    config: &AvoidableConfig,
    kpi: &KpiConfig,
    period: Period,
) -> Result<DataFrame, FigureError> {
    let fy = period.financial_year();
    let applicable: Vec<&AvoidableTarget> = config
        .targets
        .iter()
        .filter(|t| t.target.applies(fy))
        .collect();
    if applicable.is_empty() {
        return Ok(DataFrame::empty());
    }
    let plans = applicable
        .iter()
        .enumerate()
        .map(|(i, t)| target_plan(monthly, t, period).with_column(lit(i as u32).alias(INDEX)))
        .collect::<Vec<_>>();
    let table = collect(
        concat(plans, UnionArgs::default())
            .map_err(figure_err)?
            .with_columns(against_target(
                kpi.rag_green_progress,
                kpi.rag_amber_progress,
            )),
    )?;
    // Which months hold no assessed contact: a handful of rows (targets x organisations).
    let index = table
        .column(INDEX)
        .and_then(|c| c.cast(&DataType::UInt32))
        .and_then(|c| c.u32().cloned())
        .map_err(figure_err)?;
    let present = table
        .column(PRESENT)
        .and_then(|c| c.list().cloned())
        .map_err(figure_err)?;
    let mut missing: Vec<Option<String>> = Vec::with_capacity(table.height());
    for (row, i) in index.iter().enumerate() {
        let months = present.get_as_series(row);
        let Some(t) = i.and_then(|i| applicable.get(i as usize)) else {
            missing.push(None);
            continue;
        };
        let held: BTreeSet<i32> = months
            .and_then(|s| s.i32().ok().map(|a| a.iter().flatten().collect()))
            .unwrap_or_default();
        let mut wanted = period.months_in(t.target.baseline_fy);
        wanted.extend(period.months_in(fy));
        let names: Vec<String> = wanted
            .into_iter()
            .filter(|(y, m)| !held.contains(&(y * 100 + *m as i32)))
            .map(|(y, m)| month_name(y, m))
            .collect();
        missing.push((!names.is_empty()).then(|| names.join(", ")));
    }
    let incomplete = col(out::MISSING_MONTHS).is_not_null();
    collect(
        table
            .lazy()
            .with_column(lit(Series::new(out::MISSING_MONTHS.into(), missing)))
            .with_columns([
                when(incomplete.clone())
                    .then(lit("incomplete"))
                    .otherwise(col(out::STATUS))
                    .alias(out::STATUS),
                when(incomplete)
                    .then(lit("n/a"))
                    .otherwise(col(out::RAG))
                    .alias(out::RAG),
            ])
            .select(
                [
                    out::KPI,
                    c::ORGANISATION,
                    out::MEASURE,
                    out::CHANNELS,
                    out::SERVICES,
                    out::BASELINE_PERIOD,
                    out::BASELINE_ASSESSED,
                    out::BASELINE,
                    out::CURRENT_PERIOD,
                    out::CURRENT_ASSESSED,
                    out::CURRENT,
                    out::CHANGE,
                    out::CHANGE_PCT,
                    out::TARGET_CHANGE_PCT,
                    out::DIRECTION,
                    out::STATUS,
                    out::RAG,
                    out::PROGRESS_PCT,
                    out::MISSING_MONTHS,
                ]
                .map(col),
            ),
    )
}

/// The sums of one target, per organisation, from the [`monthly`] sums: its filter sits inside
/// each sum, so every organisation gets a row.
fn target_plan(monthly: &LazyFrame, t: &AvoidableTarget, period: Period) -> LazyFrame {
    let mut filter = lit(true);
    if !t.channels.is_empty() {
        let names: Vec<&str> = t.channels.iter().map(|c| c.as_str()).collect();
        filter = filter.and(col(c::CHANNEL).is_in(
            lit(Series::new("channels".into(), names)).implode(false),
            false,
        ));
    }
    if !t.services.is_empty() {
        filter = filter.and(col(c::SERVICE).is_in(
            lit(Series::new("services".into(), t.services.clone())).implode(false),
            false,
        ));
    }
    let fy = period.financial_year();
    let baseline_months = period.months_in(t.target.baseline_fy);
    let current_months = period.months_in(fy);
    // Whether a month, service and channel is in the target's channels and services and in the
    // baseline or the current months: worked out once per row as columns, so that each sum
    // below is a plain masked sum.
    const IN_BASELINE: &str = "__in_baseline";
    const IN_CURRENT: &str = "__in_current";
    let sum =
        |name: &str, months: &str| when(col(months)).then(col(name)).otherwise(lit(0u64)).sum();
    let measure = |months: &str| match t.measure {
        AvoidableMeasure::AvoidableShare => {
            percent(sum(out::AVOIDABLE, months), sum(out::ASSESSED, months))
        }
        AvoidableMeasure::ContactsPerResolvedRequest => {
            per_resolved(sum(out::OBSERVABLE, months), sum(out::FOLLOWED_UP, months))
        }
    };
    let month_key = (col(c::YEAR).cast(DataType::Int32) * lit(100i32)
        + col(c::MONTH).cast(DataType::Int32))
    .alias(MONTH_KEY);
    let list = |names: Vec<String>, all: &str| {
        if names.is_empty() {
            all.to_string()
        } else {
            names.join(", ")
        }
    };
    let year = period.calendar().label(t.target.baseline_fy);
    monthly
        .clone()
        .with_columns([
            month_key,
            filter
                .clone()
                .and(in_months(&baseline_months))
                .alias(IN_BASELINE),
            filter.and(in_months(&current_months)).alias(IN_CURRENT),
        ])
        .group_by([col(c::ORGANISATION)])
        .agg([
            measure(IN_BASELINE).alias(out::BASELINE),
            measure(IN_CURRENT).alias(out::CURRENT),
            sum(out::ASSESSED, IN_BASELINE).alias(out::BASELINE_ASSESSED),
            sum(out::ASSESSED, IN_CURRENT).alias(out::CURRENT_ASSESSED),
            col(MONTH_KEY)
                .filter(
                    col(ASSESSED_ROWS)
                        .gt(lit(0u32))
                        .and(col(IN_BASELINE).or(col(IN_CURRENT))),
                )
                .unique()
                .implode(false)
                .alias(PRESENT),
        ])
        .with_columns([
            lit(t.name.clone()).alias(out::KPI),
            lit(t.measure.as_str()).alias(out::MEASURE),
            lit(list(
                t.channels.iter().map(|c| c.as_str().to_string()).collect(),
                label::ALL_CHANNELS,
            ))
            .alias(out::CHANNELS),
            lit(list(t.services.clone(), label::ALL_SERVICES)).alias(out::SERVICES),
            lit(if period.is_year() {
                year
            } else {
                format!("{year} (same months)")
            })
            .alias(out::BASELINE_PERIOD),
            lit(period.describe()).alias(out::CURRENT_PERIOD),
            lit(t.target.target_change_pct).alias(out::TARGET_CHANGE_PCT),
            lit(t.target.direction.as_str()).alias(out::DIRECTION),
        ])
}

#[cfg(test)]
mod tests;
