//! Contact-centre KPIs per month, queue and service: offered, answered, abandoned, abandonment,
//! ASA, service level, AHT and first-contact resolution, with the named definitions used. Sums are
//! weighted by the `contacts` column, so one row per call and one row per interval agree.

use polars::prelude::*;

use super::{kpi_err, monthly_keys, percent, KpiError};
use crate::config::kpi::{Abandonment, KpiConfig, ServiceLevel};
use crate::model::col as c;

/// The contact-centre table: one row per organisation, month, service and queue, then one per
/// organisation and month for all queues together.
pub fn contact_centre(contacts: LazyFrame, config: &KpiConfig) -> Result<LazyFrame, KpiError> {
    let calls = contacts.filter(col(c::CHANNEL).eq(lit("telephone")));
    let by_queue = kpis_by(calls.clone(), config, col(c::SERVICE), col(c::CATEGORY));
    let all = kpis_by(calls, config, lit("All services"), lit("All queues"));
    Ok(concat([by_queue, all], UnionArgs::default())
        .map_err(kpi_err)?
        .sort(
            [c::ORGANISATION, c::YEAR, c::MONTH, c::SERVICE, "queue"],
            SortMultipleOptions::default(),
        ))
}

fn kpis_by(calls: LazyFrame, config: &KpiConfig, service: Expr, queue: Expr) -> LazyFrame {
    let t = config.service_level_seconds;
    let n = || col(c::CONTACTS).cast(DataType::Int64);
    let is = |outcome: &str| col(c::OUTCOME).eq(lit(outcome));
    let count_if = |cond: Expr| n().filter(cond).sum().cast(DataType::Int64);
    // Per-call rows are timed one by one; interval rows bring their own counts.
    let counted_or = |count: &str, timed: Expr| {
        col(count)
            .cast(DataType::Int64)
            .fill_null(when(timed).then(n()).otherwise(lit(0i64)))
    };
    let within = counted_or(c::WITHIN_THRESHOLD, col(c::WAIT_SECONDS).lt_eq(lit(t)));
    let short = counted_or(
        c::SHORT_ABANDONS,
        col(c::WAIT_SECONDS).lt(lit(config.short_abandon_seconds)),
    );
    let sum_where = |value: Expr, cond: Expr| value.filter(cond).sum().cast(DataType::Int64);
    let ratio = percent;
    let f = |name: &str| col(name).cast(DataType::Float64);
    let service_level = match config.service_level {
        ServiceLevel::Plain => ratio(f("answered_within"), f("offered")),
        ServiceLevel::Genesys => ratio(
            f("answered_within"),
            f("answered") + f("abandoned") - f("short_abandons"),
        ),
        ServiceLevel::AmazonConnect => ratio(f("left_queue_within"), f("offered")),
    };
    let abandonment = match config.abandonment {
        Abandonment::Plain => ratio(f("abandoned"), f("offered")),
        Abandonment::ExcludingShort => ratio(
            f("abandoned") - f("short_abandons"),
            f("answered") + f("abandoned") - f("short_abandons"),
        ),
    };
    let mean_of = |total: &str, count: &str| {
        when(col(count).gt(lit(0i64)))
            .then(f(total) / f(count))
            .otherwise(lit(NULL).cast(DataType::Float64))
    };
    calls
        .with_columns([service.alias(c::SERVICE), queue.alias("queue")])
        .group_by(monthly_keys(&[c::SERVICE, "queue"]))
        .agg([
            n().sum().alias("offered"),
            count_if(is("answered")).alias("answered"),
            count_if(is("abandoned")).alias("abandoned"),
            count_if(is("callback")).alias("callbacks"),
            sum_where(short, is("abandoned")).alias("short_abandons"),
            sum_where(within.clone(), is("answered")).alias("answered_within"),
            within
                .sum()
                .cast(DataType::Int64)
                .alias("left_queue_within"),
            col(c::WAIT_SECONDS)
                .filter(is("answered"))
                .sum()
                .alias("answered_wait_seconds"),
            col(c::HANDLE_SECONDS)
                .filter(is("answered"))
                .sum()
                .alias("handle_seconds"),
            count_if(is("answered").and(col(c::HANDLE_SECONDS).is_not_null())).alias("handled"),
            count_if(col(c::RESOLVED_FIRST_CONTACT).eq(lit(true))).alias("resolved_first"),
            count_if(is("answered").and(col(c::RESOLVED_FIRST_CONTACT).is_not_null()))
                .alias("resolution_known"),
        ])
        .with_columns([
            abandonment.alias("abandonment_rate_pct"),
            mean_of("answered_wait_seconds", "answered").alias("asa_seconds"),
            service_level.alias("service_level_pct"),
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
        ]))
}
