//! Satisfaction by demographic group: N, counts by sentiment, % satisfied and % dissatisfied with
//! Wilson intervals, net satisfaction (the measures of [`crate::measures`], as the KPI stage
//! computes them) and the service with most dissatisfaction, as one lazy plan per
//! breakdown. Non-response is a group like any other; nothing is dropped.

use polars::prelude::*;

use crate::measures::{self, out, wilson};
use crate::model::col as c;

/// One row per combination of the `by` columns: responses (N), positive / neutral / negative,
/// `satisfied_pct` and `dissatisfied_pct` with Wilson bounds at quantile `z`, `net_score` (mean of
/// the scale's scores), and the service with most negative responses in the group. With
/// `not_rated`, `not_rated` after `negative`: the group's answers that are not a rating, which
/// no figure divides by (a group of such answers only has N = 0 and no figures).
pub fn breakdown(responses: LazyFrame, by: &[String], z: f64, not_rated: bool) -> LazyFrame {
    let keys: Vec<Expr> = by.iter().map(|b| col(b.as_str())).collect();
    // The measures the KPI stage publishes, counts widened to i64 for suppression's arithmetic.
    let mut aggregations = vec![
        measures::rated().cast(DataType::Int64),
        measures::positive().cast(DataType::Int64),
        measures::neutral().cast(DataType::Int64),
        measures::negative().cast(DataType::Int64),
    ];
    if not_rated {
        aggregations.push(measures::not_rated().cast(DataType::Int64));
    }
    aggregations.extend([
        measures::net_satisfaction(),
        measures::satisfied_pct(),
        measures::dissatisfied_pct(),
    ]);
    let groups = responses.clone().group_by(keys.clone()).agg(aggregations);
    let (sat_low, sat_high) = wilson(col(out::POSITIVE), col(out::RESPONSES), z);
    let (dis_low, dis_high) = wilson(col(out::NEGATIVE), col(out::RESPONSES), z);
    let mut columns = keys.clone();
    columns.extend([
        col(out::RESPONSES),
        col(out::POSITIVE),
        col(out::NEUTRAL),
        col(out::NEGATIVE),
    ]);
    if not_rated {
        columns.push(col(out::NOT_RATED));
    }
    columns.extend([
        col(out::NET_SATISFACTION),
        col(out::SATISFIED_PCT),
        sat_low.alias("satisfied_low"),
        sat_high.alias("satisfied_high"),
        col(out::DISSATISFIED_PCT),
        dis_low.alias("dissatisfied_low"),
        dis_high.alias("dissatisfied_high"),
    ]);
    let groups = groups.select(columns);
    // The service with most dissatisfaction in each group (ties: alphabetical, so it is stable).
    let mut by_service = keys.clone();
    by_service.push(col(c::SERVICE));
    let dominant = responses
        .filter(col(c::SENTIMENT).eq(lit("negative")))
        .group_by(by_service)
        .agg([measures::answers()
            .cast(DataType::Int64)
            .alias("dominant_service_count")])
        .sort_by_exprs(
            [col("dominant_service_count"), col(c::SERVICE)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .group_by_stable(keys.clone())
        .agg([
            col(c::SERVICE).first().alias("dominant_service"),
            col("dominant_service_count").first(),
        ]);
    groups
        .join(dominant, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .sort(by.to_vec(), SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (age band, cohort, dissatisfied by service) from seed 004's table (Leicestershire EqIA 2024).
    /// Dissatisfied responses not attributed there go to distinct minor services.
    /// (age band, cohort, dissatisfied responses by service)
    type Cohort = (&'static str, usize, Vec<(&'static str, usize)>);

    fn seed_004() -> Vec<Cohort> {
        vec![
            ("15-24", 4, vec![("Registrars", 1), ("Unspecified", 1)]),
            (
                "25-34",
                13,
                vec![("Libraries", 1), ("Parking", 1), ("Planning", 1)],
            ),
            (
                "35-44",
                29,
                vec![
                    ("Education and Children", 13),
                    ("Libraries", 1),
                    ("Parking", 1),
                    ("Planning", 1),
                ],
            ),
            (
                "45-54",
                48,
                vec![
                    ("Education and Children", 11),
                    ("Adult Social Care", 6),
                    ("Roads and Transport", 5),
                    ("Libraries", 2),
                    ("Parking", 2),
                ],
            ),
            (
                "55-64",
                56,
                vec![
                    ("Other", 8),
                    ("Adult Social Care", 7),
                    ("Roads and Transport", 7),
                    ("Libraries", 4),
                    ("Parking", 4),
                ],
            ),
            (
                "65-74",
                66,
                vec![("Roads and Transport", 8), ("Other", 6), ("Libraries", 5)],
            ),
            (
                "75-84",
                24,
                vec![("Libraries", 2), ("Parking", 2), ("Planning", 1)],
            ),
            // The seed prints "67%" of 7, which no whole number of 7 gives; 4 of 6 does, and its
            // services (Roads and transport 1, Other 3) sum to 4, so the cohort is taken as 6.
            ("85+", 6, vec![("Other", 3), ("Roads and Transport", 1)]),
        ]
    }

    fn responses() -> LazyFrame {
        let (mut age, mut sentiment, mut score, mut service) = (vec![], vec![], vec![], vec![]);
        for (band, cohort, unhappy) in seed_004() {
            let negative: usize = unhappy.iter().map(|(_, n)| n).sum();
            for (svc, n) in &unhappy {
                for _ in 0..*n {
                    age.push(band);
                    sentiment.push("negative");
                    score.push(-1.0);
                    service.push(*svc);
                }
            }
            for _ in negative..cohort {
                age.push(band);
                sentiment.push("positive");
                score.push(1.0);
                service.push("Council Tax");
            }
        }
        df!("age_band" => age, c::SENTIMENT => sentiment, c::SCORE => score, c::SERVICE => service)
            .map(|df| crate::measures::one_answer_each(df.lazy()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The KPI stage and the equality stage give bit-identical figures for the same respondents:
    /// one definition of each measure.
    #[test]
    fn kpi_and_equality_measures_are_identical() -> PolarsResult<()> {
        let by = ["age_band".to_string()];
        let equality = breakdown(responses(), &by, 1.959963985, false).collect()?;
        let kpi =
            crate::kpi::satisfaction::satisfaction_by(responses(), &["age_band"]).collect()?;
        assert_eq!(equality.height(), kpi.height());
        for name in [out::RESPONSES, out::POSITIVE, out::NEUTRAL, out::NEGATIVE] {
            let cast = |df: &DataFrame| -> PolarsResult<Vec<Option<i64>>> {
                Ok(df
                    .column(name)?
                    .cast(&DataType::Int64)?
                    .i64()?
                    .iter()
                    .collect())
            };
            assert_eq!(cast(&equality)?, cast(&kpi)?, "{name}");
        }
        for name in [
            out::NET_SATISFACTION,
            out::SATISFIED_PCT,
            out::DISSATISFIED_PCT,
        ] {
            let bits = |df: &DataFrame| -> PolarsResult<Vec<Option<u64>>> {
                Ok(df
                    .column(name)?
                    .f64()?
                    .iter()
                    .map(|v| v.map(f64::to_bits))
                    .collect())
            };
            assert_eq!(bits(&equality)?, bits(&kpi)?, "{name}");
        }
        Ok(())
    }

    #[test]
    fn seed_004_age_table_is_reproduced() -> PolarsResult<()> {
        let table =
            breakdown(responses(), &["age_band".to_string()], 1.959963985, false).collect()?;
        let pct: Vec<i64> = table
            .column("dissatisfied_pct")?
            .f64()?
            .iter()
            .map(|v| v.map(|v| v.round() as i64).unwrap_or(-1))
            .collect();
        assert_eq!(pct, vec![50, 23, 55, 54, 54, 29, 21, 67]);
        let cohorts: Vec<i64> = table.column("responses")?.i64()?.iter().flatten().collect();
        assert_eq!(cohorts, vec![4, 13, 29, 48, 56, 66, 24, 6]);
        let dominant: Vec<String> = table
            .column("dominant_service")?
            .str()?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect();
        assert_eq!(dominant[2], "Education and Children");
        assert_eq!(dominant[3], "Education and Children");
        assert_eq!(dominant[4], "Other");
        assert_eq!(dominant[5], "Roads and Transport");
        assert_eq!(dominant[7], "Other");
        let counts: Vec<Option<i64>> = table
            .column("dominant_service_count")?
            .i64()?
            .iter()
            .collect();
        assert_eq!(counts[2..6], [Some(13), Some(11), Some(8), Some(8)]);

        // "55% of 29" and "54% of 48" are not different: their intervals overlap widely.
        let low: Vec<f64> = table
            .column("dissatisfied_low")?
            .f64()?
            .iter()
            .flatten()
            .collect();
        let high: Vec<f64> = table
            .column("dissatisfied_high")?
            .f64()?
            .iter()
            .flatten()
            .collect();
        assert!(low[2] < 54.2 && high[3] > 55.2);
        // Wilson 16 of 29 at 95%: centre (p + z²/2n) / (1 + z²/n) = 0.5457, half-width
        // z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n) = 0.1702, so 37.55% to 71.59%.
        assert!(
            (low[2] - 37.54).abs() < 0.05 && (high[2] - 71.59).abs() < 0.05,
            "{} {}",
            low[2],
            high[2]
        );

        Ok(())
    }

    #[test]
    fn seed_004_sex_figures_are_reproduced() -> PolarsResult<()> {
        let mut sex = vec![];
        let mut sentiment = vec![];
        for (group, cohort, negative) in [
            ("Female", 171, 72),
            ("Male", 80, 36),
            ("Another term", 6, 4),
        ] {
            for i in 0..cohort {
                sex.push(group);
                sentiment.push(if i < negative { "negative" } else { "positive" });
            }
        }
        let n = sex.len();
        let df = df!("sex" => sex, c::SENTIMENT => sentiment, c::SCORE => vec![0.0; n], c::SERVICE => vec!["Other"; n])?;
        let rows = crate::measures::one_answer_each(df.lazy());
        let table = breakdown(rows, &["sex".to_string()], 1.959963985, false).collect()?;
        let pct: Vec<i64> = table
            .column("dissatisfied_pct")?
            .f64()?
            .iter()
            .flatten()
            .map(|v| v.round() as i64)
            .collect();
        // Sorted: Another term, Female, Male.
        assert_eq!(pct, vec![67, 42, 45]);
        Ok(())
    }
}
