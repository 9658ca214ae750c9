//! Digital take-up (web / all contacts, per service and month) and the channel mix (each
//! channel's share of contacts per month). Counting rules are configuration: which telephone count.

use polars::prelude::*;

use super::volumes::VOLUME;
use super::{figure_err, monthly_keys, percent, FigureError};
use crate::config::kpi::TakeupTelephone;
use crate::model::col as c;
use crate::tables::contract::label;

/// A transaction for take-up and mix: web forms submitted, telephone calls offered (or answered,
/// as configured), every visit, and every contact on any other channel.
pub fn counted(telephone: TakeupTelephone) -> Expr {
    let web = col(c::CHANNEL)
        .eq(lit("web"))
        .and(col(c::OUTCOME).eq(lit("submitted")));
    let phone = match telephone {
        TakeupTelephone::Offered => col(c::CHANNEL).eq(lit("telephone")),
        TakeupTelephone::Answered => col(c::CHANNEL)
            .eq(lit("telephone"))
            .and(col(c::OUTCOME).eq(lit("answered"))),
    };
    let other = col(c::CHANNEL)
        .neq(lit("web"))
        .and(col(c::CHANNEL).neq(lit("telephone")));
    web.or(phone).or(other)
}

/// Per organisation, month and service (plus an "All services" row): web, telephone,
/// face-to-face and total transactions and `digital_takeup_pct` = web / (web + telephone +
/// face to face) x 100.
pub fn digital_takeup(
    volumes: &LazyFrame,
    telephone: TakeupTelephone,
) -> Result<LazyFrame, FigureError> {
    let by_service = takeup_by(volumes, telephone, col(c::SERVICE));
    let all = takeup_by(volumes, telephone, lit(label::ALL_SERVICES));
    Ok(concat([by_service, all], UnionArgs::default())
        .map_err(figure_err)?
        .sort(
            [c::ORGANISATION, c::YEAR, c::MONTH, c::SERVICE],
            SortMultipleOptions::default(),
        ))
}

fn takeup_by(volumes: &LazyFrame, telephone: TakeupTelephone, service: Expr) -> LazyFrame {
    let sum_channel = |channel: &str| {
        col(VOLUME)
            .filter(col(c::CHANNEL).eq(lit(channel)))
            .sum()
            .cast(DataType::Int64)
    };
    volumes
        .clone()
        .filter(counted(telephone))
        .with_column(service.alias(c::SERVICE))
        .group_by(monthly_keys(&[c::SERVICE]))
        .agg([
            sum_channel("web").alias("web"),
            sum_channel("telephone").alias("telephone"),
            sum_channel("face_to_face").alias("face_to_face"),
        ])
        .with_column((col("web") + col("telephone") + col("face_to_face")).alias("transactions"))
        .with_column(percent(col("web"), col("transactions")).alias("digital_takeup_pct"))
}

/// Per organisation and month: each channel's transactions and share of all transactions.
pub fn channel_mix(
    volumes: &LazyFrame,
    telephone: TakeupTelephone,
) -> Result<LazyFrame, FigureError> {
    let month = [col(c::ORGANISATION), col(c::YEAR), col(c::MONTH)];
    let month_total = col("transactions").sum().over(month).map_err(figure_err)?;
    Ok(volumes
        .clone()
        .filter(counted(telephone))
        .group_by(monthly_keys(&[c::CHANNEL]))
        .agg([col(VOLUME)
            .sum()
            .cast(DataType::Int64)
            .alias("transactions")])
        .with_column(percent(col("transactions"), month_total).alias("share_pct"))
        .sort(
            [c::ORGANISATION, c::YEAR, c::MONTH, c::CHANNEL],
            SortMultipleOptions::default(),
        ))
}

/// Web-form completion (GOV.UK Service Manual): submitted / started, where started counts every
/// form record (submitted, abandoned, draft, started). Never above 100%.
pub fn form_completion(volumes: &LazyFrame) -> LazyFrame {
    volumes
        .clone()
        .filter(col(c::CHANNEL).eq(lit("web")))
        .group_by(monthly_keys(&[c::SERVICE]))
        .agg([
            col(VOLUME).sum().cast(DataType::Int64).alias("started"),
            col(VOLUME)
                .filter(col(c::OUTCOME).eq(lit("submitted")))
                .sum()
                .cast(DataType::Int64)
                .alias("completed"),
        ])
        .with_column(percent(col("completed"), col("started")).alias("completion_rate_pct"))
        .sort(
            [c::ORGANISATION, c::YEAR, c::MONTH, c::SERVICE],
            SortMultipleOptions::default(),
        )
}
