//! Digital take-up (digital / (digital + assisted) transactions, per service and month) and the channel mix (each
//! channel's share of contacts per month). Counting rules are configuration: which telephone count.

use polars::prelude::*;

use super::volumes::VOLUME;
use super::{figure_err, monthly_keys, percent, FigureError};
use crate::config::kpi::TakeupTelephone;
use crate::config::ChannelConfig;
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

/// Per organisation, month and service (plus an "All services" row): web, telephone and
/// face-to-face transactions, the `digital` and `assisted` transactions (as `[channels]`
/// defines them), `transactions` = digital + assisted and `digital_takeup_pct` = digital /
/// transactions x 100 (by default web, webchat, e-mail, app and social over those plus telephone
/// and face to face).
pub fn digital_takeup(
    volumes: &LazyFrame,
    telephone: TakeupTelephone,
    channels: &ChannelConfig,
) -> Result<LazyFrame, FigureError> {
    let by_service = takeup_by(volumes, telephone, channels, col(c::SERVICE));
    let all = takeup_by(volumes, telephone, channels, lit(label::ALL_SERVICES));
    Ok(concat([by_service, all], UnionArgs::default())
        .map_err(figure_err)?
        .sort(
            [c::ORGANISATION, c::YEAR, c::MONTH, c::SERVICE],
            SortMultipleOptions::default(),
        ))
}

fn takeup_by(
    volumes: &LazyFrame,
    telephone: TakeupTelephone,
    channels: &ChannelConfig,
    service: Expr,
) -> LazyFrame {
    let sum_of = |names: Vec<String>| {
        col(VOLUME)
            .filter(col(c::CHANNEL).is_in(
                lit(Series::new("channels".into(), names)).implode(false),
                false,
            ))
            .sum()
            .cast(DataType::Int64)
    };
    let sum_channel = |channel: &str| sum_of(vec![channel.to_string()]);
    volumes
        .clone()
        .filter(counted(telephone))
        .with_column(service.alias(c::SERVICE))
        .group_by(monthly_keys(&[c::SERVICE]))
        .agg([
            sum_channel("web").alias("web"),
            sum_channel("telephone").alias("telephone"),
            sum_channel("face_to_face").alias("face_to_face"),
            sum_of(channels.digital_names()).alias("digital"),
            sum_of(channels.assisted_names()).alias("assisted"),
        ])
        .with_column((col("digital") + col("assisted")).alias("transactions"))
        .with_column(percent(col("digital"), col("transactions")).alias("digital_takeup_pct"))
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
        .with_column(
            percent(col("transactions"), month_total)
                .alias(crate::tables::contract::column::SHARE_PCT),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Channel;

    /// One month of one service: 40 web forms submitted (and 5 started), 10 app requests, 2
    /// letters, 50 calls offered, 8 visits.
    fn volumes() -> PolarsResult<LazyFrame> {
        Ok(df!(
            c::ORGANISATION => ["C"; 6],
            c::FINANCIAL_YEAR => ["2024/25"; 6],
            c::YEAR => [2024i32; 6],
            c::MONTH => [5i8; 6],
            c::SERVICE => ["Waste"; 6],
            c::CHANNEL => ["web", "web", "app", "post", "telephone", "face_to_face"],
            c::OUTCOME => ["submitted", "started", "submitted", "submitted", "answered", "served"],
            VOLUME => [40i64, 5, 10, 2, 50, 8],
        )?
        .lazy())
    }

    fn all_services(channels: &ChannelConfig) -> PolarsResult<(i64, i64, f64)> {
        let df = digital_takeup(&volumes()?, TakeupTelephone::Offered, channels)
            .map_err(|e| polars_err!(ComputeError: "{e}"))?
            .filter(col(c::SERVICE).eq(lit(label::ALL_SERVICES)))
            .collect()?;
        let get = |name: &str| -> PolarsResult<i64> {
            df.column(name)?
                .i64()?
                .get(0)
                .ok_or_else(|| polars_err!(ComputeError: "no {name}"))
        };
        let pct = df
            .column("digital_takeup_pct")?
            .f64()?
            .get(0)
            .unwrap_or(f64::NAN);
        Ok((get("digital")?, get("assisted")?, pct))
    }

    #[test]
    fn takeup_counts_the_channels_the_pipeline_calls_digital() -> PolarsResult<()> {
        // Default: web (submitted only) and app are digital; post is neither.
        let (digital, assisted, pct) = all_services(&ChannelConfig::default())?;
        assert_eq!((digital, assisted), (50, 58));
        assert!((pct - 50.0 / 108.0 * 100.0).abs() < 1e-9);
        // A council that counts letters as assisted and the app as not theirs to count.
        let custom = ChannelConfig {
            digital: vec![Channel::Web],
            assisted: vec![Channel::Telephone, Channel::FaceToFace, Channel::Post],
            ..ChannelConfig::default()
        };
        let (digital, assisted, pct) = all_services(&custom)?;
        assert_eq!((digital, assisted), (40, 60));
        assert!((pct - 40.0).abs() < 1e-9);
        Ok(())
    }
}
