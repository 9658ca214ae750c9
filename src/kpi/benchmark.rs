//! Benchmark ranks (GovMetric style): councils in a pooled lake ranked per period and channel on a
//! score from `satisfaction_by`. It only ranks: it never recomputes a score or drops a council.

use polars::prelude::*;

use crate::kpi::satisfaction::{out as sat, within_groups, MEASURES};
use crate::model::col as c;

/// Names of the columns `benchmark_ranks` adds.
pub mod out {
    pub const RANK: &str = "rank";
    pub const RANKED_OF: &str = "ranked_of";
    pub const SCORE_2DP: &str = "score_2dp";
    pub const QUALIFIES: &str = "qualifies";
}

/// Ranks organisations on `score` (a column of [`satisfaction_by`], higher is better) among those
/// in the same comparison group: every column other than `organisation` and the measures, i.e.
/// the period and channel (and service, if the scores were grouped by it).
///
/// Adds `rank` (u32, 1 = best; ranked on the full-precision score; equal scores share the best
/// rank and the next rank skips: 1, 2, 2, 4), `ranked_of` (organisations ranked in the group),
/// `score_2dp` (the score rounded half away from zero to 2 decimals, for display only) and
/// `qualifies` (at least `min_responses` responses and a score). An organisation that does not
/// qualify gets a null rank and is not counted in `ranked_of`. Sorted by comparison group, then
/// rank (unranked last), then organisation.
///
/// [`satisfaction_by`]: crate::kpi::satisfaction::satisfaction_by
pub fn benchmark_ranks(scores: LazyFrame, score: &str, min_responses: u32) -> LazyFrame {
    let mut not_keys = vec![c::ORGANISATION, score, out::RANK, out::RANKED_OF];
    not_keys.extend([out::SCORE_2DP, out::QUALIFIES]);
    not_keys.extend(MEASURES);
    // Not strict: the frame need not hold every measure. The constant field keeps the struct valid
    // when only `organisation` is left, and then every organisation is compared with every other.
    let keys = all() - by_name(not_keys, false, false);
    let comparison = vec![as_struct(vec![
        lit(true).alias("all"),
        keys.clone().as_expr(),
    ])];

    let qualifies = col(sat::RESPONSES)
        .gt_eq(lit(min_responses))
        .and(col(score).is_not_null());
    let ranked_score = when(qualifies.clone())
        .then(col(score))
        .otherwise(lit(NULL));
    let min_rank_best_first = RankOptions {
        method: RankMethod::Min,
        descending: true,
    };
    let order = [keys.as_expr(), col(out::RANK), col(c::ORGANISATION)];
    scores
        .with_columns([
            within_groups(
                ranked_score.rank(min_rank_best_first, None),
                comparison.clone(),
            )
            .alias(out::RANK),
            within_groups(qualifies.clone().sum(), comparison).alias(out::RANKED_OF),
            col(score)
                .round(2, RoundMode::HalfAwayFromZero)
                .alias(out::SCORE_2DP),
            qualifies.alias(out::QUALIFIES),
        ])
        .sort_by_exprs(order, SortMultipleOptions::default().with_nulls_last(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::satisfaction::satisfaction_by;
    use crate::kpi::satisfaction::tests::{count, float, responses, text};

    const BY: [&str; 4] = [c::ORGANISATION, c::YEAR, c::MONTH, c::CHANNEL];

    /// Six councils' telephone responses in January 2024 (net satisfaction in the comment), two
    /// councils' web responses in January and telephone responses in February.
    fn pooled_lake() -> LazyFrame {
        responses(
            &BY,
            &[
                (&["A", "2024", "1", "telephone"], [6, 2, 2]), // 0.4, N 10
                (&["B", "2024", "1", "telephone"], [12, 4, 4]), // 0.4, N 20: ties with A
                (&["C", "2024", "1", "telephone"], [6, 3, 1]), // 0.5
                (&["D", "2024", "1", "telephone"], [5, 3, 2]), // 0.3
                (&["E", "2024", "1", "telephone"], [150, 51, 49]), // 0.404: shows as 0.40
                (&["F", "2024", "1", "telephone"], [5, 0, 0]), // 1.0 but only 5 responses
                (&["A", "2024", "1", "web"], [2, 0, 8]),
                (&["B", "2024", "1", "web"], [8, 0, 2]),
                (&["A", "2024", "2", "telephone"], [4, 4, 2]),
                (&["B", "2024", "2", "telephone"], [7, 2, 1]),
            ],
        )
        .with_columns([
            col(c::YEAR).strict_cast(DataType::Int32),
            col(c::MONTH).strict_cast(DataType::Int8),
        ])
    }

    /// One output row: organisation and the comparison it is ranked in, rank and ranked_of.
    #[derive(Debug, PartialEq)]
    struct Placing {
        organisation: String,
        within: String,
        rank: Option<u32>,
        ranked_of: Option<u32>,
    }

    fn placing(organisation: &str, within: &str, rank: Option<u32>, ranked_of: u32) -> Placing {
        Placing {
            organisation: organisation.into(),
            within: within.into(),
            rank,
            ranked_of: Some(ranked_of),
        }
    }

    /// The placings in output order; `within` joins the comparison columns other than year.
    fn placings(df: &DataFrame, within: &[&str]) -> Vec<Placing> {
        (0..df.height())
            .map(|row| Placing {
                organisation: text(df, c::ORGANISATION, row),
                within: within
                    .iter()
                    .map(|name| {
                        let value = df.column(name).unwrap().get(row).unwrap();
                        value.to_string().trim_matches('"').to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                rank: count(df, out::RANK, row),
                ranked_of: count(df, out::RANKED_OF, row),
            })
            .collect()
    }

    #[test]
    fn ties_share_the_best_rank_and_small_samples_are_not_ranked() {
        let scores = satisfaction_by(pooled_lake(), &BY);
        let df = benchmark_ranks(scores, sat::NET_SATISFACTION, 10)
            .collect()
            .unwrap();
        assert_eq!(
            placings(&df, &[c::MONTH, c::CHANNEL]),
            [
                placing("C", "1 telephone", Some(1), 5),
                // 0.404 beats 0.4, though both show as 0.40.
                placing("E", "1 telephone", Some(2), 5),
                placing("A", "1 telephone", Some(3), 5),
                placing("B", "1 telephone", Some(3), 5),
                placing("D", "1 telephone", Some(5), 5),
                // Best score, but 5 responses: not ranked, not counted in ranked_of.
                placing("F", "1 telephone", None, 5),
                placing("B", "1 web", Some(1), 2),
                placing("A", "1 web", Some(2), 2),
                placing("B", "2 telephone", Some(1), 2),
                placing("A", "2 telephone", Some(2), 2),
            ]
        );
        let shown: Vec<Option<f64>> = (1..6).map(|row| float(&df, out::SCORE_2DP, row)).collect();
        assert_eq!(
            shown,
            [Some(0.4), Some(0.4), Some(0.4), Some(0.3), Some(1.0)]
        );
        let qualifies = df.column(out::QUALIFIES).unwrap().bool().unwrap();
        let qualifies: Vec<Option<bool>> = (0..df.height()).map(|row| qualifies.get(row)).collect();
        let mut expected = vec![Some(true); 10];
        expected[5] = Some(false);
        assert_eq!(qualifies, expected);
    }

    #[test]
    fn ranks_any_score_column_and_any_period() {
        // Council scores in January: C 80, E 60.8, A, B and D all 60, so 1, 2, 3, 3, 3.
        let by_year = [c::ORGANISATION, c::FINANCIAL_YEAR, c::CHANNEL];
        let january_telephone = pooled_lake()
            .filter(
                col(c::MONTH)
                    .eq(lit(1))
                    .and(col(c::CHANNEL).eq(lit("telephone"))),
            )
            .with_column(lit("2023/24").alias(c::FINANCIAL_YEAR));
        let scores = satisfaction_by(january_telephone, &by_year);
        let df = benchmark_ranks(scores, sat::COUNCIL_SCORE_PCT, 10)
            .collect()
            .unwrap();
        let within = "2023/24 telephone";
        assert_eq!(
            placings(&df, &[c::FINANCIAL_YEAR, c::CHANNEL]),
            [
                placing("C", within, Some(1), 5),
                placing("E", within, Some(2), 5),
                placing("A", within, Some(3), 5),
                placing("B", within, Some(3), 5),
                placing("D", within, Some(3), 5),
                placing("F", within, None, 5),
            ]
        );
        assert_eq!(float(&df, out::SCORE_2DP, 1), Some(60.8));
    }

    #[test]
    fn without_period_or_channel_every_council_is_compared() {
        // Over all their responses: B 20/40 and C 5/10 tie at 0.5, E 0.404, D 0.3, A 0/30.
        let scores = satisfaction_by(pooled_lake(), &[c::ORGANISATION]);
        let df = benchmark_ranks(scores, sat::NET_SATISFACTION, 10)
            .collect()
            .unwrap();
        assert_eq!(
            placings(&df, &[]),
            [
                placing("B", "", Some(1), 5),
                placing("C", "", Some(1), 5),
                placing("E", "", Some(3), 5),
                placing("D", "", Some(4), 5),
                placing("A", "", Some(5), 5),
                placing("F", "", None, 5),
            ]
        );
    }
}
