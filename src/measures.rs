//! The measures every stage that computes figures shares, each defined once: percent arithmetic,
//! the satisfaction measures (N, positive / neutral / negative, council score, net satisfaction,
//! % satisfied and dissatisfied) as named polars expressions, the Wilson interval as an
//! expression, the error type of figure computations and the streaming collect. The KPI and
//! equality stages both build on these, so the same respondents give bit-identical figures in
//! both (tested in `equality::breakdown`).

use polars::prelude::*;
use thiserror::Error;

use crate::model::{col as c, SENTIMENTS};

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

/// Runs a plan on the streaming engine: plans aggregate the whole lake, which need not fit in
/// memory.
pub fn collect(lf: LazyFrame) -> Result<DataFrame, FigureError> {
    lf.collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .map_err(figure_err)
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
    pub const COUNCIL_SCORE_PCT: &str = "council_score_pct";
    pub const NET_SATISFACTION: &str = "net_satisfaction";
    pub const SATISFIED_PCT: &str = "satisfied_pct";
    pub const DISSATISFIED_PCT: &str = "dissatisfied_pct";
}

const POSITIVE: &str = SENTIMENTS[0];
const NEUTRAL: &str = SENTIMENTS[1];
const NEGATIVE: &str = SENTIMENTS[2];

/// N: responses with a rating (every row of a well-formed `responses` table).
fn n() -> Expr {
    col(c::SENTIMENT).count()
}

fn sentiment_count(sentiment: &str) -> Expr {
    col(c::SENTIMENT).eq(lit(sentiment)).sum()
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

/// Oxford's published score: "Good and Average scores added together with Poor scores
/// deducted", (positive + neutral − negative) / N × 100. Null when N = 0.
pub fn council_score_pct() -> Expr {
    let count = |sentiment| sentiment_count(sentiment).cast(DataType::Float64);
    percent(count(POSITIVE) + count(NEUTRAL) - count(NEGATIVE), n()).alias(out::COUNCIL_SCORE_PCT)
}

/// GovMetric's Channel Satisfaction Index: the mean `score` (Good +1, Average 0, Poor −1), so it
/// lies in [−1, +1]. Null when N = 0 (the mean of nothing).
pub fn net_satisfaction() -> Expr {
    col(c::SCORE).mean().alias(out::NET_SATISFACTION)
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
