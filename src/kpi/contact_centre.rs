//! Contact-centre KPIs per month, queue and service: offered, answered, abandoned, abandonment,
//! ASA, service level, AHT and first-contact resolution, with the named definitions used. Read
//! from the monthly aggregates of the contacts (`lake::monthly`), whose sums are weighted by the
//! `contacts` column, so one row per call and one row per interval agree.

use polars::prelude::*;

use super::{figure_err, monthly_keys, percent, FigureError};
use crate::config::kpi::{Abandonment, KpiConfig, ServiceLevel};
use crate::lake::monthly;
use crate::model::col as c;
use crate::tables::contract::{column, label};
use crate::warnings::Warning;

/// The contact-centre table from the contacts' monthly aggregates (`lake::monthly::aggregate`):
/// one row per organisation, month, service and queue, then one per organisation and month for
/// all queues together; and a warning when a figure that leaves short abandons out is not
/// available somewhere.
pub fn contact_centre(
    contacts: LazyFrame,
    config: &KpiConfig,
) -> Result<(LazyFrame, Option<Warning>), FigureError> {
    // Calls are telephone contacts with a call's outcome: offered = answered + abandoned +
    // callbacks. A request taken by phone and logged as a case (outcome `submitted`) is not.
    let call_outcomes = Series::new(
        "call outcomes".into(),
        ["answered", "abandoned", "callback"],
    );
    let calls = contacts.filter(
        col(c::CHANNEL)
            .eq(lit("telephone"))
            .and(col(c::OUTCOME).is_in(lit(call_outcomes).implode(false), false)),
    );
    // One pass over the calls; every total is a sum, so all queues together add up the queues.
    let by_queue = super::collect(totals(calls))?;
    let warning = short_abandons_unknown(&by_queue, config)?;
    let order: Vec<Expr> = by_queue
        .get_column_names()
        .into_iter()
        .map(|n| col(n.clone()))
        .collect();
    let by_queue = by_queue.lazy();
    let all = by_queue
        .clone()
        .group_by(monthly_keys(&[]))
        .agg([all().exclude_cols([c::SERVICE, "queue"]).as_expr().sum()])
        .with_columns([
            lit(label::ALL_SERVICES).alias(c::SERVICE),
            lit(label::ALL_QUEUES).alias(column::QUEUE),
        ])
        .select(order);
    let totals = concat([by_queue, all], UnionArgs::default()).map_err(figure_err)?;
    Ok((
        rates(totals, config).sort(
            [c::ORGANISATION, c::YEAR, c::MONTH, c::SERVICE, "queue"],
            SortMultipleOptions::default(),
        ),
        warning,
    ))
}

/// The queue-months (rows of `by_queue`, from [`totals`]) whose figures leaving short abandons
/// out are not available, as a warning; `None` when the definitions leave none out or every
/// abandon is known short or not.
fn short_abandons_unknown(
    by_queue: &DataFrame,
    config: &KpiConfig,
) -> Result<Option<Warning>, FigureError> {
    let mut figures = Vec::new();
    if config.abandonment == Abandonment::ExcludingShort {
        figures.push("abandonment_rate_pct".to_string());
    }
    if config.service_level == ServiceLevel::Genesys {
        figures.push("service_level_pct".to_string());
    }
    if figures.is_empty() {
        return Ok(None);
    }
    let unknown = (col("abandoned") - col("abandons_timed")).cast(DataType::UInt64);
    let missing = super::collect(
        by_queue
            .clone()
            .lazy()
            .filter(col("abandons_timed").lt(col("abandoned")))
            .sort(
                [c::YEAR, c::MONTH, c::SERVICE, "queue"],
                SortMultipleOptions::default().with_nulls_last(true),
            )
            .with_column(unknown.alias("unknown")),
    )?;
    if missing.height() == 0 {
        return Ok(None);
    }
    let text = |name: &str| -> Option<String> {
        let value = missing.column(name).ok()?.get(0).ok()?;
        Some(value.str_value().to_string())
    };
    let number = |name: &str| -> Option<i64> {
        missing
            .column(name)
            .ok()?
            .cast(&DataType::Int64)
            .ok()?
            .i64()
            .ok()?
            .get(0)
    };
    let month = match (number(c::YEAR), number(c::MONTH)) {
        (Some(y), Some(m)) => crate::period::month_label(y as i32, m as i8),
        _ => "?".to_string(),
    };
    let abandons = missing
        .column("unknown")
        .map_err(figure_err)?
        .as_materialized_series()
        .sum::<u64>()
        .map_err(figure_err)?;
    Ok(Some(Warning::ShortAbandonsUnknown {
        figures,
        queue_months: missing.height(),
        first: format!(
            "{} / {}, {month}",
            text(c::SERVICE).unwrap_or_default(),
            text("queue").unwrap_or_else(|| "no queue".into())
        ),
        abandons,
    }))
}

/// The counts and sums of each month, service and queue, from the calls' monthly aggregates
/// (see `lake::monthly`: each row sums the calls of one month, queue and outcome).
fn totals(calls: LazyFrame) -> LazyFrame {
    let is = |outcome: &str| col(c::OUTCOME).eq(lit(outcome));
    // Conditional sums as plain sums of `when` columns: the streaming engine's fast path
    // (a `filter` inside an aggregation is evaluated group by group).
    let sum_where = |name: &str, cond: Expr| when(cond).then(col(name)).otherwise(lit(NULL)).sum();
    let n = c::CONTACTS;
    calls
        .with_column(col(c::CATEGORY).alias(column::QUEUE))
        .group_by(monthly_keys(&[c::SERVICE, "queue"]))
        .agg([
            col(n).sum().alias("offered"),
            sum_where(n, is("answered")).alias("answered"),
            sum_where(n, is("abandoned")).alias("abandoned"),
            sum_where(n, is("callback")).alias("callbacks"),
            sum_where(c::SHORT_ABANDONS, is("abandoned")).alias("short_abandons"),
            sum_where(monthly::SHORTNESS_KNOWN, is("abandoned")).alias("abandons_timed"),
            sum_where(c::WITHIN_THRESHOLD, is("answered")).alias("answered_within"),
            col(c::WITHIN_THRESHOLD).sum().alias("left_queue_within"),
            sum_where(c::WAIT_SECONDS, is("answered")).alias("answered_wait_seconds"),
            // What the rates can be worked out from: calls with a known wait (or an interval's
            // counts), answered calls with a wait, calls with a known outcome. Aggregated
            // exports without them get "not available", never 0.
            col(monthly::TIMED).sum().alias("timed"),
            sum_where(monthly::WAITED, is("answered")).alias("answered_timed"),
            sum_where(n, is("answered").or(is("abandoned")).or(is("callback")))
                .alias("outcome_known"),
            sum_where(c::HANDLE_SECONDS, is("answered")).alias("handle_seconds"),
            sum_where(monthly::HANDLED, is("answered")).alias("handled"),
            col(monthly::RESOLVED_FIRST).sum().alias("resolved_first"),
            sum_where(monthly::RESOLUTION_KNOWN, is("answered")).alias("resolution_known"),
        ])
}

/// Rates and means from the totals, with the definitions used.
fn rates(totals: LazyFrame, config: &KpiConfig) -> LazyFrame {
    let t = config.service_level_seconds;
    let ratio = percent;
    let f = |name: &str| col(name).cast(DataType::Float64);
    // Short abandons are left out only where every abandoned call is known to be short or not
    // (it has a wait, or its interval a short-abandons count); otherwise the figure would take
    // the unknown ones as not short, and be the plain rate under another name.
    let without_short = |figure: Expr| {
        when(col("abandons_timed").eq(col("abandoned")))
            .then(figure)
            .otherwise(lit(NULL).cast(DataType::Float64))
    };
    let service_level = match config.service_level {
        ServiceLevel::Plain => ratio(f("answered_within"), f("offered")),
        ServiceLevel::Genesys => without_short(ratio(
            f("answered_within"),
            f("answered") + f("abandoned") - f("short_abandons"),
        )),
        ServiceLevel::AmazonConnect => ratio(f("left_queue_within"), f("offered")),
    };
    let abandonment = match config.abandonment {
        Abandonment::Plain => ratio(f("abandoned"), f("offered")),
        Abandonment::ExcludingShort => without_short(ratio(
            f("abandoned") - f("short_abandons"),
            f("answered") + f("abandoned") - f("short_abandons"),
        )),
    };
    let mean_of = |total: &str, count: &str| {
        when(col(count).gt(lit(0i64)))
            .then(f(total) / f(count))
            .otherwise(lit(NULL).cast(DataType::Float64))
    };
    let known = |count: &str, figure: Expr| {
        when(col(count).gt(lit(0i64)))
            .then(figure)
            .otherwise(lit(NULL).cast(DataType::Float64))
    };
    totals
        .with_columns([
            known("outcome_known", abandonment).alias("abandonment_rate_pct"),
            mean_of("answered_wait_seconds", "answered_timed").alias("asa_seconds"),
            known("timed", service_level).alias("service_level_pct"),
            mean_of("handle_seconds", "handled").alias("aht_seconds"),
            ratio(f("resolved_first"), f("resolution_known")).alias("first_contact_resolution_pct"),
            lit(config.service_level.describe(t)).alias("service_level_definition"),
            lit(config.abandonment.describe(config.short_abandon_seconds))
                .alias("abandonment_definition"),
        ])
        .drop(cols([
            "answered_wait_seconds",
            "handle_seconds",
            "handled",
            "left_queue_within",
            "timed",
            "answered_timed",
            "outcome_known",
            "abandons_timed",
        ]))
}
