//! The benefits estimate: contacts avoided on a channel against its channel-shift baseline, times
//! the handling minutes and unit cost the pipeline file assumes. An estimate, labelled as one, with
//! its assumptions in the same row; never a figure of its own making.

use polars::prelude::*;

use super::{figure_err, FigureError};
use crate::config::kpi::KpiConfig;
use crate::model::{col as c, Channel};

/// One row per reduction KPI with a unit cost for its channel: contacts avoided (baseline minus
/// current, 0 when volume rose), officer hours released and cost avoided, with the assumptions.
pub fn benefits(channel_shift: &DataFrame, config: &KpiConfig) -> Result<DataFrame, FigureError> {
    if channel_shift.height() == 0 || config.unit_costs.is_empty() {
        return Ok(DataFrame::empty());
    }
    let channels: Vec<String> = config
        .unit_costs
        .keys()
        .map(|ch: &Channel| ch.as_str().to_string())
        .collect();
    let lookup = |values: Vec<Option<f64>>| {
        col(c::CHANNEL).replace_strict(
            lit(Series::new("channel".into(), channels.clone())),
            lit(Series::new("value".into(), values)),
            Some(lit(NULL).cast(DataType::Float64)),
            Some(DataType::Float64),
        )
    };
    let minutes = lookup(config.unit_costs.values().map(|u| u.minutes).collect());
    let cost = lookup(config.unit_costs.values().map(|u| u.cost).collect());
    let avoided = when(col("baseline").gt(col("current")))
        .then(col("baseline") - col("current"))
        .otherwise(lit(0i64));
    channel_shift
        .clone()
        .lazy()
        .filter(col("direction").eq(lit("reduction")))
        .with_columns([
            avoided.alias("contacts_avoided"),
            minutes.alias("assumed_minutes_per_contact"),
            cost.alias("assumed_cost_per_contact"),
        ])
        .filter(
            col("assumed_minutes_per_contact")
                .is_not_null()
                .or(col("assumed_cost_per_contact").is_not_null()),
        )
        .with_columns([
            (col("contacts_avoided").cast(DataType::Float64) * col("assumed_minutes_per_contact")
                / lit(60.0))
            .alias("officer_hours_released"),
            (col("contacts_avoided").cast(DataType::Float64) * col("assumed_cost_per_contact"))
                .alias("cost_avoided"),
            lit("Estimate: contacts avoided against the baseline x assumed handling time and unit cost (kpi.unit_costs in the pipeline file)")
                .alias("basis"),
        ])
        .select([
            col("kpi"),
            col(c::ORGANISATION),
            col(c::CHANNEL),
            col("baseline_period"),
            col("baseline"),
            col("current_period"),
            col("current"),
            col("contacts_avoided"),
            col("assumed_minutes_per_contact"),
            col("assumed_cost_per_contact"),
            col("officer_hours_released"),
            col("cost_avoided"),
            col("basis"),
        ])
        .collect()
        .map_err(figure_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::kpi::UnitCost;

    #[test]
    fn avoided_contacts_become_hours_and_cost() -> Result<(), Box<dyn std::error::Error>> {
        let shift = df!(
            "kpi" => ["Calls", "Visits", "Forms"],
            c::ORGANISATION => ["Org"; 3],
            c::CHANNEL => ["telephone", "face_to_face", "web"],
            "baseline_period" => ["2022/23"; 3],
            "baseline" => [138_419i64, 4_190, 26_303],
            "current_period" => ["2023/24"; 3],
            "current" => [135_789i64, 4_200, 27_881],
            "direction" => ["reduction", "reduction", "increase"],
        )?;
        let mut config = KpiConfig::default();
        config.unit_costs.insert(
            Channel::Telephone,
            UnitCost {
                minutes: Some(6.0),
                cost: Some(4.0),
            },
        );
        config.unit_costs.insert(
            Channel::FaceToFace,
            UnitCost {
                minutes: Some(12.0),
                cost: None,
            },
        );
        let out = benefits(&shift, &config)?;
        let avoided: Vec<i64> = out
            .column("contacts_avoided")?
            .i64()?
            .iter()
            .flatten()
            .collect();
        assert_eq!(avoided, vec![2_630, 0]); // visits rose: nothing avoided
        let hours: Vec<f64> = out
            .column("officer_hours_released")?
            .f64()?
            .iter()
            .flatten()
            .collect();
        assert_eq!(hours, vec![263.0, 0.0]);
        let cost = out.column("cost_avoided")?.f64()?;
        assert_eq!(cost.get(0), Some(10_520.0));
        assert_eq!(cost.get(1), None); // no unit cost assumed for visits
        Ok(())
    }
}
