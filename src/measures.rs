//! The measures every stage that computes figures shares, each defined once: percent arithmetic,
//! the satisfaction measures (N, positive / neutral / negative, council score, net satisfaction,
//! % satisfied and dissatisfied) as named polars expressions, the Wilson interval as an
//! expression, the error type of figure computations and the collect every figure runs through
//! (streaming, but for small frames in memory). The KPI and equality stages both build on these,
//! so the same respondents give bit-identical figures in both (tested in `equality::breakdown`).

use polars::prelude::*;
use thiserror::Error;

use crate::model::{col as c, SENTIMENTS};

/// The survey answers the satisfaction and equality figures are made of: with
/// `[survey] overall_question`, that question's answers only (a wide survey gives several per
/// respondent, and each respondent is counted once); otherwise every answer.
pub fn overall_answers(responses: LazyFrame, overall_question: Option<&str>) -> LazyFrame {
    match overall_question {
        Some(q) => responses.filter(col(c::SERVICE).eq(lit(q.to_string()))),
        None => responses,
    }
}

/// Rows of `responses` as the measures read them: each stands for one answer (`answers` = 1).
pub fn one_answer_each(rows: LazyFrame) -> LazyFrame {
    rows.with_column(lit(1u32).alias(c::ANSWERS))
}

/// The answers with a rating: every satisfaction figure's respondents. An answer a scale lists
/// as `not_rated` ("Don't know") is kept in the lake with no sentiment and counted apart
/// ([`not_rated`]), never in a denominator.
pub fn rated_answers(responses: LazyFrame) -> LazyFrame {
    responses.filter(col(c::SENTIMENT).is_not_null())
}

/// A figure could not be computed.
#[derive(Debug, Error)]
pub enum FigureError {
    #[error("computing figures: {0}")]
    Data(String),
    #[error("no data: {0}")]
    NoData(String),
}

/// A polars error as a figure error, without the query plan polars appends.
pub fn figure_err(e: PolarsError) -> FigureError {
    FigureError::Data(crate::text::first_paragraph(&e.to_string()))
}

/// Runs a plan on the streaming engine, except a plan over small frames already in memory (kept
/// sums, tables being built: fewer than [`IN_MEMORY_ROWS`] rows in all, and no file read), which
/// the in-memory engine runs faster. Measured at 10M: frames of 71k to 333k rows took half the
/// time or less in memory; from a million rows (the keyed run's linking) the streaming engine
/// was faster, up to three times, and used less memory.
pub fn collect(lf: LazyFrame) -> Result<DataFrame, FigureError> {
    let engine = if in_memory_rows(&lf).is_some_and(|rows| rows < IN_MEMORY_ROWS) {
        Engine::InMemory
    } else {
        Engine::Streaming
    };
    lf.collect_with_engine(engine)
        .map(|r| r.unwrap_single())
        .map_err(figure_err)
}

/// Below this many rows of input, a plan over frames in memory runs on the in-memory engine.
const IN_MEMORY_ROWS: usize = 500_000;

/// The rows of a plan's inputs when every one is a frame in memory; `None` when it scans files.
fn in_memory_rows(lf: &LazyFrame) -> Option<usize> {
    let mut rows = 0;
    for node in &lf.logical_plan {
        match node {
            DslPlan::Scan { .. } => return None,
            DslPlan::DataFrameScan { df, .. } => rows += df.height(),
            _ => {}
        }
    }
    Some(rows)
}

/// `part` as a percentage of `whole`: null where `whole` is 0 or null, never NaN or infinite.
/// Multiplying before dividing makes equal fractions (3/10, 6/20) bit-identical, so they tie in
/// ranks and comparisons.
pub fn percent(part: Expr, whole: Expr) -> Expr {
    when(whole.clone().gt(lit(0)))
        .then(part.cast(DataType::Float64) * lit(100.0) / whole.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// Names of the satisfaction measures' columns, the same in every table that shows them.
pub mod out {
    /// Responses with a rating: the N every score divides by.
    pub const RESPONSES: &str = "responses";
    pub const POSITIVE: &str = "positive";
    pub const NEUTRAL: &str = "neutral";
    pub const NEGATIVE: &str = "negative";
    /// Answers that are not a rating ("Don't know", "Not applicable"): counted beside N, never
    /// in it.
    pub const NOT_RATED: &str = "not_rated";
    pub const COUNCIL_SCORE_PCT: &str = "council_score_pct";
    pub const NET_SATISFACTION: &str = "net_satisfaction";
    pub const SATISFIED_PCT: &str = "satisfied_pct";
    pub const DISSATISFIED_PCT: &str = "dissatisfied_pct";
}

const POSITIVE: &str = SENTIMENTS[0];
const NEUTRAL: &str = SENTIMENTS[1];
const NEGATIVE: &str = SENTIMENTS[2];

/// The answers rows stand for, summed where `keep` holds: each row of `responses` is one answer
/// (`answers` = 1) and each row of the KPI stage's sums of answers many, so every measure reads
/// either alike.
/// (`when`, not `filter`: a filter inside a group-by is evaluated group by group, the
/// conditional sum in one pass.)
pub fn answers_where(keep: Expr) -> Expr {
    when(keep)
        .then(col(c::ANSWERS))
        .otherwise(lit(0u32))
        .sum()
        .cast(DataType::UInt32)
}

/// Every answer the rows stand for (the rows' count when each is one answer).
pub fn answers() -> Expr {
    col(c::ANSWERS).sum().cast(DataType::UInt32)
}

/// N: responses with a rating (every answer but those that are not ratings).
fn n() -> Expr {
    answers_where(col(c::SENTIMENT).is_not_null())
}

fn sentiment_count(sentiment: &str) -> Expr {
    answers_where(col(c::SENTIMENT).eq(lit(sentiment)))
}

/// Responses with a rating (N), as an aggregation (u32).
pub fn rated() -> Expr {
    n().alias(out::RESPONSES)
}

/// Responses rated positive (Good, or the top two of five), as an aggregation (u32).
pub fn positive() -> Expr {
    sentiment_count(POSITIVE).alias(out::POSITIVE)
}

/// Responses rated neutral (Average), as an aggregation (u32).
pub fn neutral() -> Expr {
    sentiment_count(NEUTRAL).alias(out::NEUTRAL)
}

/// Responses rated negative (Poor, or the bottom two of five), as an aggregation (u32).
pub fn negative() -> Expr {
    sentiment_count(NEGATIVE).alias(out::NEGATIVE)
}

/// Answers that are not a rating (a scale's `not_rated`: no sentiment), as an aggregation (u32):
/// published beside N, never part of it.
pub fn not_rated() -> Expr {
    answers_where(col(c::SENTIMENT).is_null()).alias(out::NOT_RATED)
}

/// Oxford's published score: "Good and Average scores added together with Poor scores
/// deducted", (positive + neutral − negative) / N × 100. Null when N = 0.
pub fn council_score_pct() -> Expr {
    let count = |sentiment| sentiment_count(sentiment).cast(DataType::Float64);
    percent(count(POSITIVE) + count(NEUTRAL) - count(NEGATIVE), n()).alias(out::COUNCIL_SCORE_PCT)
}

/// GovMetric's Channel Satisfaction Index: the mean `score` (Good +1, Average 0, Poor −1), so it
/// lies in [−1, +1]. Null when N = 0 (the mean of nothing). Worked out as the sum of score x
/// answers over the answers: on rows and on sums of them the same to the last bit where scores
/// are whole numbers or halves (every scale shipped); a score such as 0.3 may differ in the
/// last bit between the KPI stage (sums) and equality (rows).
pub fn net_satisfaction() -> Expr {
    let answers = col(c::ANSWERS).cast(DataType::Float64);
    let scored = when(col(c::SCORE).is_not_null())
        .then(answers.clone())
        .otherwise(lit(0.0))
        .sum();
    when(scored.clone().gt(lit(0.0)))
        .then((col(c::SCORE) * answers).sum() / scored)
        .otherwise(lit(NULL).cast(DataType::Float64))
        .alias(out::NET_SATISFACTION)
}

/// positive / N × 100, as an aggregation. Null when N = 0.
pub fn satisfied_pct() -> Expr {
    percent(sentiment_count(POSITIVE), n()).alias(out::SATISFIED_PCT)
}

/// negative / N × 100, as an aggregation. Null when N = 0.
pub fn dissatisfied_pct() -> Expr {
    percent(sentiment_count(NEGATIVE), n()).alias(out::DISSATISFIED_PCT)
}

/// Wilson score interval bounds, in percent, for `x` of `n` at normal quantile `z`, as
/// expressions on aggregated columns; null when n = 0.
pub fn wilson(x: Expr, n: Expr, z: f64) -> (Expr, Expr) {
    let n = n.cast(DataType::Float64);
    let p = x.cast(DataType::Float64) / n.clone();
    let z2 = z * z;
    let denom = lit(1.0) + lit(z2) / n.clone();
    let centre = (p.clone() + lit(z2 / 2.0) / n.clone()) / denom.clone();
    let half = lit(z)
        * (p.clone() * (lit(1.0) - p) / n.clone() + lit(z2 / 4.0) / (n.clone() * n.clone()))
            .pow(0.5)
        / denom;
    let bound = |e: Expr| {
        when(n.clone().gt(lit(0.0)))
            .then(e * lit(100.0))
            .otherwise(lit(NULL).cast(DataType::Float64))
    };
    (
        bound(centre.clone() - half.clone()).clip_min(lit(0.0)),
        bound(centre + half).clip_max(lit(100.0)),
    )
}

/// The standard normal quantile (inverse CDF), Wichura's algorithm AS241 (PPND16), accurate to
/// about 1e-16. `None` unless `0 < p < 1`.
// The coefficients keep all the digits Wichura published so they can be checked against the paper.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> Option<f64> {
    if p.is_nan() || p <= 0.0 || p >= 1.0 {
        return None;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        let num = polynomial(
            r,
            &[
                3.387_132_872_796_366_608,
                1.331_416_678_917_843_774_5e2,
                1.971_590_950_306_551_442_7e3,
                1.373_169_376_550_946_112_5e4,
                4.592_195_393_154_987_145_7e4,
                6.726_577_092_700_870_085_3e4,
                3.343_057_558_358_812_810_5e4,
                2.509_080_928_730_122_672_7e3,
            ],
        );
        let den = polynomial(
            r,
            &[
                1.0,
                4.231_333_070_160_091_125_2e1,
                6.871_870_074_920_579_083e2,
                5.394_196_021_424_751_107_7e3,
                2.121_379_430_158_659_586_7e4,
                3.930_789_580_009_271_061e4,
                2.872_908_573_572_194_267_4e4,
                5.226_495_278_852_854_561e3,
            ],
        );
        return Some(q * num / den);
    }
    let r = (-(p.min(1.0 - p)).ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        let num = polynomial(
            r,
            &[
                1.423_437_110_749_683_577_34,
                4.630_337_846_156_545_295_9,
                5.769_497_221_460_691_405_5,
                3.647_848_324_763_204_605_04,
                1.270_458_252_452_368_382_58,
                2.417_807_251_774_506_117_7e-1,
                2.272_384_498_926_918_458_33e-2,
                7.745_450_142_783_414_076_4e-4,
            ],
        );
        let den = polynomial(
            r,
            &[
                1.0,
                2.053_191_626_637_758_821_87,
                1.676_384_830_183_803_849_4,
                6.897_673_349_851_000_045_5e-1,
                1.481_039_764_274_800_745_9e-1,
                1.519_866_656_361_645_719_66e-2,
                5.475_938_084_995_344_946e-4,
                1.050_750_071_644_416_843_24e-9,
            ],
        );
        num / den
    } else {
        let r = r - 5.0;
        let num = polynomial(
            r,
            &[
                6.657_904_643_501_103_777_2,
                5.463_784_911_164_114_369_9,
                1.784_826_539_917_291_335_8,
                2.965_605_718_285_048_912_3e-1,
                2.653_218_952_657_612_309_3e-2,
                1.242_660_947_388_078_438_6e-3,
                2.711_555_568_743_487_578_15e-5,
                2.010_334_399_292_288_132_65e-7,
            ],
        );
        let den = polynomial(
            r,
            &[
                1.0,
                5.998_322_065_558_879_376_9e-1,
                1.369_298_809_227_358_053_1e-1,
                1.487_536_129_085_061_485_25e-2,
                7.868_691_311_456_132_591e-4,
                1.846_318_317_510_054_681_8e-5,
                1.421_511_758_316_445_888_7e-7,
                2.044_263_103_389_939_785_64e-15,
            ],
        );
        num / den
    };
    Some(if q < 0.0 { -x } else { x })
}

/// Evaluates `c[0] + c[1] x + c[2] x^2 + ...` by Horner's rule.
fn polynomial(x: f64, coefficients: &[f64]) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plans over the lake's files stream; plans over small frames in memory do not, however
    /// they are combined.
    #[test]
    fn only_plans_over_small_frames_in_memory_do_not_stream(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("rows.parquet");
        let mut rows = df!("a" => [1i32, 2, 3])?;
        ParquetWriter::new(std::fs::File::create(&path)?).finish(&mut rows)?;
        let files = || -> Result<LazyFrame, Box<dyn std::error::Error>> {
            crate::lake::scan_files(std::slice::from_ref(&path), dir.path())?
                .ok_or_else(|| "no scan of one file".into())
        };
        let memory = || rows.clone().lazy();
        assert_eq!(
            in_memory_rows(&memory().filter(col("a").gt(lit(1)))),
            Some(3)
        );
        let twice = concat([memory(), memory()], UnionArgs::default())?;
        assert_eq!(in_memory_rows(&twice), Some(6));
        assert_eq!(in_memory_rows(&files()?.select([col("a")])), None);
        let joined = memory().join(
            files()?,
            [col("a")],
            [col("a")],
            JoinArgs::new(JoinType::Inner),
        );
        assert_eq!(in_memory_rows(&joined), None);
        // Either engine gives the same figures.
        assert_eq!(collect(joined)?.height(), 3);
        assert_eq!(collect(memory().filter(col("a").gt(lit(1))))?.height(), 2);
        Ok(())
    }

    /// The Wilson interval as published tables compute it, against Newcombe (1998), Statistics in
    /// Medicine 17:857-872, Table I, method 3 (score, no continuity correction), in percent.
    #[test]
    fn wilson_matches_newcombe_1998() -> PolarsResult<()> {
        let cases: [(u32, u32, f64, f64); 8] = [
            (81, 263, 25.53, 36.62),
            (15, 148, 6.24, 16.05),
            (0, 20, 0.0, 16.11),
            (1, 29, 0.61, 17.18),
            (0, 10, 0.0, 27.75),
            // 20 of 20 mirrors 0 of 20.
            (20, 20, 83.89, 100.0),
            // Seed 004's 35-44 (16 of 29) and 45-54 (26 of 48), worked by hand.
            (16, 29, 37.55, 71.59),
            (26, 48, 40.29, 67.42),
        ];
        let df = df!(
            "x" => cases.iter().map(|c| c.0).collect::<Vec<_>>(),
            "n" => cases.iter().map(|c| c.1).collect::<Vec<_>>(),
        )?;
        let (low, high) = wilson(col("x"), col("n"), 1.959963984540054);
        let out = df
            .lazy()
            .select([low.alias("low"), high.alias("high")])
            .collect()?;
        let lows: Vec<Option<f64>> = out.column("low")?.f64()?.iter().collect();
        let highs: Vec<Option<f64>> = out.column("high")?.f64()?.iter().collect();
        for (i, (x, n, l, h)) in cases.iter().enumerate() {
            let (got_l, got_h) = (lows[i].unwrap_or(f64::NAN), highs[i].unwrap_or(f64::NAN));
            assert!(
                (got_l - l).abs() <= 0.005,
                "{x} of {n}: low {got_l}, published {l}"
            );
            assert!(
                (got_h - h).abs() <= 0.005,
                "{x} of {n}: high {got_h}, published {h}"
            );
        }
        // No respondents: no interval, never NaN.
        let empty = df!("x" => [0u32], "n" => [0u32])?;
        let (low, high) = wilson(col("x"), col("n"), 1.96);
        let out = empty
            .lazy()
            .select([low.alias("l"), high.alias("h")])
            .collect()?;
        assert_eq!(out.column("l")?.f64()?.get(0), None);
        assert_eq!(out.column("h")?.f64()?.get(0), None);
        Ok(())
    }

    #[test]
    fn percent_is_null_without_a_denominator_and_ties_equal_fractions() -> PolarsResult<()> {
        let df = df!("a" => [3i64, 6, 1], "b" => [10i64, 20, 0])?;
        let out = df
            .lazy()
            .select([percent(col("a"), col("b")).alias("p")])
            .collect()?;
        let p: Vec<Option<f64>> = out.column("p")?.f64()?.iter().collect();
        assert_eq!(p[0].map(f64::to_bits), p[1].map(f64::to_bits));
        assert_eq!(p[2], None);
        Ok(())
    }
}
