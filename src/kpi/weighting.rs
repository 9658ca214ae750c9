//! Satisfaction weighted to the contact mix (post-stratification): each response weighted by its
//! cell's contacts / responses (cells are channels, or channel x service where every such cell
//! has enough responses), weights capped at a multiple of the mean weight, with Kish's effective
//! sample size and a Wilson interval on it. Lazy only: never collects or reads the lake.
//!
//! The figures, for the cells of a row with both contacts and responses (weight w, n responses,
//! s = positive + neutral - negative): sum of weights W = Σ w n; council score = 100 Σ w s / W;
//! n_eff = W² / Σ w² n (Kish); design effect = n / n_eff; the interval is Wilson's on the weighted
//! share of negative answers p with n_eff respondents, as score = 100 (1 - 2 p).

use polars::prelude::*;

use super::satisfaction::within_groups;
use crate::measures::{negative, neutral, percent, positive, rated, wilson};
use crate::model::col as c;

/// The `service` of a row (and of a channel cell) that covers every service.
pub use crate::tables::contract::label::ALL_SERVICES;
/// Cells are channels.
pub const BY_CHANNEL: &str = "channel";
/// Cells are channel x service.
pub const BY_CHANNEL_SERVICE: &str = "channel x service";

/// Names of the columns this module outputs: the satisfaction measures' and its own, defined
/// in the table contract.
pub mod out {
    pub use crate::measures::out::*;
    pub use crate::tables::contract::column::{
        CAPPED, CAPPED_CELLS, CAPPED_RESPONSES, CELLS, CONTACTS_UNREPRESENTED_PCT, DESIGN_EFFECT,
        NOT_WEIGHTED, N_EFF, SCOPE, SUM_WEIGHTS, WEIGHT, WEIGHTED_COUNCIL_SCORE_PCT,
        WEIGHTED_RESPONSES, WEIGHTED_SATISFIED_PCT, WEIGHTED_SCORE_HIGH, WEIGHTED_SCORE_LOW,
        WEIGHTING, WEIGHT_CAP,
    };
}

/// The figures of [`weighted`] computed from the weighting cells' counts: blank whenever a cell
/// they read is (disclosure control).
pub const FROM_CELLS: [&str; 12] = [
    out::WEIGHTED_RESPONSES,
    out::WEIGHT_CAP,
    out::CAPPED_CELLS,
    out::CAPPED_RESPONSES,
    out::SUM_WEIGHTS,
    out::N_EFF,
    out::DESIGN_EFFECT,
    out::WEIGHTED_COUNCIL_SCORE_PCT,
    out::WEIGHTED_SCORE_LOW,
    out::WEIGHTED_SCORE_HIGH,
    out::WEIGHTED_SATISFIED_PCT,
    out::CELLS,
];

/// How the weights are made (`kpi.weight_cap`, `kpi.weighting_min_responses`).
#[derive(Debug, Clone, Copy)]
pub struct Weighting {
    /// Weights are capped at this multiple of the mean weight.
    pub cap: f64,
    /// Channel x service cells are used when each with contacts has this many responses.
    pub min_responses: u32,
}

/// The weighting cells, and the channel cells of all services (the weights a service without
/// enough responses per channel borrows).
pub struct Cells {
    /// One row per row of [`weighted`] and cell: `organisation`, `financial_year`, `scope`,
    /// `weighting`, `channel`, `service` (the cell's; `All services` for a channel cell),
    /// `contacts` (u64), `responses`, `positive`, `neutral`, `negative` (u32), `weight` (null
    /// where the cell has no contacts or no responses), `capped`, `weight_cap`.
    pub chosen: LazyFrame,
    /// The channel cells of all services, in the same columns.
    pub channels: LazyFrame,
}

const COUNTS: [&str; 4] = [out::RESPONSES, out::POSITIVE, out::NEUTRAL, out::NEGATIVE];

fn names(list: &[&str]) -> Vec<Expr> {
    list.iter().map(|n| col(*n)).collect()
}

/// Rated responses and counted contacts per organisation, financial year, channel and service:
/// a cell on one side only has zeros on the other.
fn cell_counts(responses: LazyFrame, contacts: LazyFrame) -> LazyFrame {
    let keys = names(&[c::ORGANISATION, c::FINANCIAL_YEAR, c::CHANNEL, c::SERVICE]);
    let answers =
        responses
            .group_by(keys.clone())
            .agg([rated(), positive(), neutral(), negative()]);
    let volumes = contacts.group_by(keys.clone()).agg([col(c::CONTACTS)
        .cast(DataType::UInt64)
        .sum()
        .alias(c::CONTACTS)]);
    let join = JoinArgs {
        nulls_equal: true,
        ..JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns)
    };
    let mut zeros: Vec<Expr> = COUNTS
        .iter()
        .map(|n| col(*n).fill_null(lit(0)).cast(DataType::UInt32))
        .collect();
    zeros.push(col(c::CONTACTS).fill_null(lit(0)).cast(DataType::UInt64));
    answers
        .join(volumes, keys.clone(), keys, join)
        .with_columns(zeros)
}

/// The columns of [`Cells`], in order and type.
fn shaped(cells: LazyFrame) -> LazyFrame {
    let mut columns = names(&[
        c::ORGANISATION,
        c::FINANCIAL_YEAR,
        out::SCOPE,
        out::WEIGHTING,
        c::CHANNEL,
        c::SERVICE,
    ]);
    columns.push(col(c::CONTACTS).cast(DataType::UInt64));
    columns.extend(COUNTS.map(|n| col(n).cast(DataType::UInt32)));
    columns.extend([
        col(out::WEIGHT).cast(DataType::Float64),
        col(out::CAPPED).cast(DataType::Boolean),
        col(out::WEIGHT_CAP).cast(DataType::Float64),
    ]);
    cells.select(columns)
}

/// Adds `weight` (contacts / responses where the cell has both, capped), `capped` and
/// `weight_cap` (`cap` times the mean weight of the set's weighted cells: their contacts / their
/// responses) to cells, each set of cells given by `set`.
fn weigh(cells: LazyFrame, set: &[&str], cap: f64) -> LazyFrame {
    let n = col(out::RESPONSES).cast(DataType::Float64);
    let contacts = col(c::CONTACTS).cast(DataType::Float64);
    let weighted = col(out::RESPONSES)
        .gt(lit(0))
        .and(col(c::CONTACTS).gt(lit(0)));
    let in_set = |e: Expr| {
        within_groups(
            when(weighted.clone()).then(e).otherwise(lit(0.0)).sum(),
            names(set),
        )
    };
    let null = || lit(NULL).cast(DataType::Float64);
    let raw = "_raw";
    cells
        .with_columns([
            when(weighted.clone())
                .then(contacts.clone() / n.clone())
                .otherwise(null())
                .alias(raw),
            when(in_set(n.clone()).gt(lit(0.0)))
                .then(in_set(contacts) / in_set(n) * lit(cap))
                .otherwise(null())
                .alias(out::WEIGHT_CAP),
        ])
        .with_columns([
            when(col(raw).gt(col(out::WEIGHT_CAP)))
                .then(col(out::WEIGHT_CAP))
                .otherwise(col(raw))
                .alias(out::WEIGHT),
            col(raw)
                .gt(col(out::WEIGHT_CAP))
                .fill_null(lit(false))
                .alias(out::CAPPED),
        ])
        .drop(cols([raw]))
}

/// The weighting cells of every row: all services, and each service. A row is weighted on
/// channel x service cells when every such cell of it with contacts has at least
/// `min_responses` responses, otherwise on channel cells (a service then takes the weights of
/// the channel cells of all services). `responses` are rated answers, `contacts` the contacts
/// counted (both of one period).
pub fn cells(responses: LazyFrame, contacts: LazyFrame, how: Weighting) -> PolarsResult<Cells> {
    let counts = cell_counts(responses, contacts).cache();
    let org_fy = [c::ORGANISATION, c::FINANCIAL_YEAR];
    let row = [c::ORGANISATION, c::FINANCIAL_YEAR, out::SCOPE];
    let labelled = |lf: LazyFrame, scope: Expr, weighting: &str| {
        lf.with_columns([
            scope.alias(out::SCOPE),
            lit(weighting).alias(out::WEIGHTING),
        ])
    };
    let sums: Vec<Expr> = COUNTS
        .iter()
        .chain([&c::CONTACTS])
        .map(|n| col(*n).sum())
        .collect();
    let channels = shaped(weigh(
        labelled(
            counts
                .clone()
                .group_by(names(&[c::ORGANISATION, c::FINANCIAL_YEAR, c::CHANNEL]))
                .agg(sums)
                .with_column(lit(ALL_SERVICES).alias(c::SERVICE)),
            lit(ALL_SERVICES),
            BY_CHANNEL,
        ),
        &org_fy,
        how.cap,
    ))
    .cache();
    let by_service = counts.clone().filter(col(c::SERVICE).is_not_null());
    let crossed = shaped(weigh(
        concat(
            [
                labelled(counts.clone(), lit(ALL_SERVICES), BY_CHANNEL_SERVICE),
                labelled(by_service.clone(), col(c::SERVICE), BY_CHANNEL_SERVICE),
            ],
            UnionArgs::default(),
        )?,
        &row,
        how.cap,
    ))
    .cache();
    // A service on channel cells: its own counts, weighted as its channel is for all services.
    let borrowed = channels.clone().select([
        col(c::ORGANISATION),
        col(c::FINANCIAL_YEAR),
        col(c::CHANNEL),
        col(out::WEIGHT).alias("_weight"),
        col(out::CAPPED).alias("_capped"),
        col(out::WEIGHT_CAP),
    ]);
    let keys = names(&[c::ORGANISATION, c::FINANCIAL_YEAR, c::CHANNEL]);
    let answered = col(out::RESPONSES).gt(lit(0));
    let fallback = shaped(
        labelled(by_service, col(c::SERVICE), BY_CHANNEL)
            .join(
                borrowed,
                keys.clone(),
                keys,
                JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::CoalesceColumns),
            )
            .with_columns([
                when(answered.clone())
                    .then(col("_weight"))
                    .otherwise(lit(NULL).cast(DataType::Float64))
                    .alias(out::WEIGHT),
                answered
                    .and(col("_capped").fill_null(lit(false)))
                    .alias(out::CAPPED),
            ]),
    );
    // Whether each row's channel x service cells all have enough responses: the cells with
    // contacts, on a channel with responses in the row (contacts on a channel nobody answered
    // for are not represented whatever the cells). A row without contacts has none to weight to,
    // and rows or contacts without a service leave all services on channel cells.
    let channel_answered = within_groups(
        col(out::RESPONSES).sum(),
        names(&[c::ORGANISATION, c::FINANCIAL_YEAR, out::SCOPE, c::CHANNEL]),
    )
    .gt(lit(0));
    let usable = crossed
        .clone()
        .with_column(channel_answered.alias("_answered"))
        .group_by(names(&row))
        .agg([when(col(c::CONTACTS).gt(lit(0)).and(col("_answered")))
            .then(col(out::RESPONSES))
            .otherwise(lit(NULL).cast(DataType::UInt32))
            .min()
            .gt_eq(lit(how.min_responses))
            .fill_null(lit(false))
            // A cell without a service is no channel x service cell.
            .and(col(c::SERVICE).is_null().any(true).not())
            .alias("_usable")]);
    let candidates = concat([channels.clone(), crossed, fallback], UnionArgs::default())?;
    let keys = names(&row);
    let chosen = candidates
        .join(
            usable,
            keys.clone(),
            keys,
            JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .filter(
            col(out::WEIGHTING)
                .eq(lit(BY_CHANNEL_SERVICE))
                .eq(col("_usable").fill_null(lit(false))),
        )
        .drop(cols(["_usable"]));
    Ok(Cells {
        chosen: sorted(chosen, &[out::SCOPE, c::CHANNEL, c::SERVICE]),
        channels,
    })
}

/// Sorted by organisation and financial year, all services first, then by `then`.
fn sorted(lf: LazyFrame, then: &[&str]) -> LazyFrame {
    let scope = then[0];
    let mut order = names(&[c::ORGANISATION, c::FINANCIAL_YEAR]);
    order.push(col(scope).neq(lit(ALL_SERVICES)));
    order.extend(names(then));
    lf.sort_by_exprs(order, SortMultipleOptions::default())
}

/// One row per organisation, financial year and service (`All services` first), from the
/// weighting [`Cells::chosen`]: the unweighted `responses` (N), `positive`, `neutral`,
/// `negative` and `council_score_pct`; `contacts` and the share of them in cells without
/// responses (`contacts_unrepresented_pct`); `not_weighted` (the cells with responses but no
/// contacts); `weighting`, `cells` weighted, `weighted_responses`, `weight_cap`,
/// `capped_cells`, `capped_responses`; `sum_weights`, `n_eff`, `design_effect`;
/// `weighted_council_score_pct` with its interval (`weighted_score_low`, `_high`, at normal
/// quantile `z`) and `weighted_satisfied_pct`.
pub fn weighted(cells: LazyFrame, z: f64) -> LazyFrame {
    let float = |n: &str| col(n).cast(DataType::Float64);
    let w = col(out::WEIGHT);
    let n = float(out::RESPONSES);
    let is_weighted = w.clone().is_not_null();
    let when_weighted = |e: Expr| {
        when(is_weighted.clone())
            .then(e)
            .otherwise(lit(0).cast(DataType::UInt32))
    };
    let own_service = col(c::SERVICE)
        .eq(lit(ALL_SERVICES))
        .or(col(c::SERVICE).eq(col(out::SCOPE)));
    let label = when(own_service)
        .then(col(c::CHANNEL).cast(DataType::String))
        .otherwise(concat_str(
            [
                col(c::CHANNEL).cast(DataType::String),
                col(c::SERVICE).cast(DataType::String),
            ],
            ": ",
            true,
        ));
    let mut sums: Vec<Expr> = COUNTS
        .iter()
        .map(|name| col(*name).sum().cast(DataType::UInt32).alias(*name))
        .collect();
    sums.extend([
        col(out::WEIGHTING).first(),
        col(c::CONTACTS).sum().cast(DataType::UInt64),
        when(col(out::RESPONSES).eq(lit(0)))
            .then(col(c::CONTACTS))
            .otherwise(lit(0).cast(DataType::UInt64))
            .sum()
            .alias("_unrepresented"),
        label
            .filter(col(out::RESPONSES).gt(lit(0)).and(w.clone().is_null()))
            .sort(SortOptions::default())
            .str()
            .join("; ", true)
            .alias(out::NOT_WEIGHTED),
        is_weighted
            .clone()
            .sum()
            .cast(DataType::UInt32)
            .alias(out::CELLS),
        when_weighted(col(out::RESPONSES))
            .sum()
            .cast(DataType::UInt32)
            .alias(out::WEIGHTED_RESPONSES),
        col(out::WEIGHT_CAP).first(),
        col(out::CAPPED)
            .sum()
            .cast(DataType::UInt32)
            .alias(out::CAPPED_CELLS),
        when(col(out::CAPPED))
            .then(col(out::RESPONSES))
            .otherwise(lit(0).cast(DataType::UInt32))
            .sum()
            .cast(DataType::UInt32)
            .alias(out::CAPPED_RESPONSES),
        (w.clone() * n.clone()).sum().alias("_w"),
        (w.clone() * w.clone() * n).sum().alias("_w2"),
        (w.clone() * (float(out::POSITIVE) + float(out::NEUTRAL) - float(out::NEGATIVE)))
            .sum()
            .alias("_score"),
        (w.clone() * float(out::POSITIVE)).sum().alias("_positive"),
        (w * float(out::NEGATIVE)).sum().alias("_negative"),
    ]);
    let null = || lit(NULL).cast(DataType::Float64);
    let sum_w = when(col("_w").gt(lit(0.0)))
        .then(col("_w"))
        .otherwise(null());
    let n_eff = when(col("_w2").gt(lit(0.0)))
        .then(col(out::SUM_WEIGHTS) * col(out::SUM_WEIGHTS) / col("_w2"))
        .otherwise(null());
    let (low, high) = wilson(
        col("_negative") / col(out::SUM_WEIGHTS) * col(out::N_EFF),
        col(out::N_EFF),
        z,
    );
    let rows = cells
        .group_by(names(&[c::ORGANISATION, c::FINANCIAL_YEAR, out::SCOPE]))
        .agg(sums)
        .with_column(sum_w.alias(out::SUM_WEIGHTS))
        .with_column(n_eff.alias(out::N_EFF))
        .with_columns([
            percent(
                float(out::POSITIVE) + float(out::NEUTRAL) - float(out::NEGATIVE),
                col(out::RESPONSES),
            )
            .alias(out::COUNCIL_SCORE_PCT),
            percent(col("_unrepresented"), col(c::CONTACTS)).alias(out::CONTACTS_UNREPRESENTED_PCT),
            (float(out::WEIGHTED_RESPONSES) / col(out::N_EFF)).alias(out::DESIGN_EFFECT),
            percent(col("_score"), col(out::SUM_WEIGHTS)).alias(out::WEIGHTED_COUNCIL_SCORE_PCT),
            (lit(100.0) - lit(2.0) * high).alias(out::WEIGHTED_SCORE_LOW),
            (lit(100.0) - lit(2.0) * low).alias(out::WEIGHTED_SCORE_HIGH),
            percent(col("_positive"), col(out::SUM_WEIGHTS)).alias(out::WEIGHTED_SATISFIED_PCT),
        ]);
    sorted(rows, &[out::SCOPE]).select([
        col(c::ORGANISATION),
        col(c::FINANCIAL_YEAR),
        col(out::SCOPE).alias(c::SERVICE),
        col(out::RESPONSES),
        col(out::POSITIVE),
        col(out::NEUTRAL),
        col(out::NEGATIVE),
        col(out::COUNCIL_SCORE_PCT),
        col(c::CONTACTS),
        col(out::CONTACTS_UNREPRESENTED_PCT),
        col(out::NOT_WEIGHTED),
        col(out::WEIGHTING),
        col(out::CELLS),
        col(out::WEIGHTED_RESPONSES),
        col(out::WEIGHT_CAP),
        col(out::CAPPED_CELLS),
        col(out::CAPPED_RESPONSES),
        col(out::SUM_WEIGHTS),
        col(out::N_EFF),
        col(out::DESIGN_EFFECT),
        col(out::WEIGHTED_COUNCIL_SCORE_PCT),
        col(out::WEIGHTED_SCORE_LOW),
        col(out::WEIGHTED_SCORE_HIGH),
        col(out::WEIGHTED_SATISFIED_PCT),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::satisfaction::tests::{count, float, responses, text};

    const KEYS: [&str; 4] = [c::ORGANISATION, c::FINANCIAL_YEAR, c::CHANNEL, c::SERVICE];

    fn contacts(rows: &[(&str, &str, u32)]) -> PolarsResult<LazyFrame> {
        Ok(df!(
            c::ORGANISATION => vec!["Council"; rows.len()],
            c::FINANCIAL_YEAR => vec!["2024/25"; rows.len()],
            c::CHANNEL => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            c::SERVICE => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            c::CONTACTS => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )?
        .lazy())
    }

    fn survey(groups: &[(&str, &str, [u32; 3])]) -> LazyFrame {
        let keys: Vec<[&str; 4]> = groups
            .iter()
            .map(|(ch, s, _)| ["Council", "2024/25", *ch, *s])
            .collect();
        let groups: Vec<(&[&str], [u32; 3])> = keys
            .iter()
            .zip(groups)
            .map(|(k, g)| (k.as_slice(), g.2))
            .collect();
        responses(&KEYS, &groups)
    }

    fn close(got: Option<f64>, expected: f64, what: &str) {
        let got = got.unwrap_or(f64::NAN);
        assert!(
            (got - expected).abs() < 1e-9,
            "{what}: {got}, expected {expected}"
        );
    }

    /// The worked example of the README. One service (Housing), a year's contacts and Good /
    /// Average / Poor responses by channel:
    ///
    /// | channel | contacts | responses | G / A / P | weight (contacts / responses) |
    /// |---|---|---|---|---|
    /// | telephone | 6,000 | 100 | 70 / 20 / 10 | 60 |
    /// | web | 3,000 | 300 | 150 / 60 / 90 | 10 |
    /// | face_to_face | 1,000 | 10 | 10 / 0 / 0 | 100, capped |
    /// | webchat | 0 | 5 | 5 / 0 / 0 | none: no contacts to stand for |
    /// | email | 500 | 0 | | none: 500 contacts not represented |
    ///
    /// Mean weight 10,000 / 410 = 24.39; cap 3 x 24.39 = 73.17, so face_to_face's 100 is
    /// capped. Unweighted score (80 + 120 + 10 + 5) / 415 = 51.81%. Weighted:
    /// W = 60 x 100 + 10 x 300 + 73.17 x 10 = 9,731.71; Σ w s = 60 x 80 + 10 x 120 + 73.17 x 10
    /// = 6,731.71; score 69.17% (70.0% uncapped: the cap moves it 0.8 points).
    /// Σ w² n = 3,600 x 100 + 100 x 300 + 5,353.96 x 10 = 443,539.56; n_eff = 9,731.71² /
    /// 443,539.56 = 213.52 of 410 weighted responses: design effect 1.92.
    #[test]
    fn weighting_reproduces_the_worked_example() -> PolarsResult<()> {
        let survey = survey(&[
            ("telephone", "Housing", [70, 20, 10]),
            ("web", "Housing", [150, 60, 90]),
            ("face_to_face", "Housing", [10, 0, 0]),
            ("webchat", "Housing", [5, 0, 0]),
        ]);
        let volumes = contacts(&[
            ("telephone", "Housing", 6000),
            ("web", "Housing", 3000),
            ("face_to_face", "Housing", 1000),
            ("email", "Housing", 500),
        ])?;
        let how = Weighting {
            cap: 3.0,
            min_responses: 20,
        };
        let cells = cells(survey.clone(), volumes.clone(), how)?;
        let z = 1.959963984540054;
        let df = weighted(cells.chosen.clone(), z).collect()?;
        assert_eq!(df.height(), 2, "{df}");
        assert_eq!(text(&df, c::SERVICE, 0), ALL_SERVICES);
        assert_eq!(text(&df, c::SERVICE, 1), "Housing");

        let cap = 3.0 * 10_000.0 / 410.0;
        let sum_w = 60.0 * 100.0 + 10.0 * 300.0 + cap * 10.0;
        let sum_w2 = 3600.0 * 100.0 + 100.0 * 300.0 + cap * cap * 10.0;
        let n_eff = sum_w * sum_w / sum_w2;
        let p_negative = (60.0 * 10.0 + 10.0 * 90.0) / sum_w;
        for row in 0..2 {
            // face_to_face has 10 responses, below 20: both rows are weighted on channels (the
            // service borrowing the channel weights of all services, here the same).
            assert_eq!(text(&df, out::WEIGHTING, row), BY_CHANNEL);
            assert_eq!(count(&df, out::RESPONSES, row), Some(415));
            close(
                float(&df, out::COUNCIL_SCORE_PCT, row),
                21_500.0 / 415.0,
                "unweighted",
            );
            assert_eq!(text(&df, out::NOT_WEIGHTED, row), "webchat");
            close(
                float(&df, out::CONTACTS_UNREPRESENTED_PCT, row),
                500.0 * 100.0 / 10_500.0,
                "unrepresented",
            );
            assert_eq!(count(&df, out::CELLS, row), Some(3));
            assert_eq!(count(&df, out::WEIGHTED_RESPONSES, row), Some(410));
            close(float(&df, out::WEIGHT_CAP, row), cap, "cap");
            assert_eq!(count(&df, out::CAPPED_CELLS, row), Some(1));
            assert_eq!(count(&df, out::CAPPED_RESPONSES, row), Some(10));
            close(float(&df, out::SUM_WEIGHTS, row), sum_w, "sum of weights");
            close(float(&df, out::N_EFF, row), n_eff, "n_eff");
            close(float(&df, out::DESIGN_EFFECT, row), 410.0 / n_eff, "deff");
            let score = float(&df, out::WEIGHTED_COUNCIL_SCORE_PCT, row).unwrap_or(f64::NAN);
            close(
                Some(score),
                (4800.0 + 1200.0 + cap * 10.0) * 100.0 / sum_w,
                "score",
            );
            close(
                float(&df, out::WEIGHTED_SATISFIED_PCT, row),
                (60.0 * 70.0 + 10.0 * 150.0 + cap * 10.0) * 100.0 / sum_w,
                "satisfied",
            );
            // Rounded as the README prints them.
            let shown = |name| format!("{:.2}", float(&df, name, row).unwrap_or(f64::NAN));
            assert_eq!(format!("{score:.2}"), "69.17");
            assert_eq!(shown(out::N_EFF), "213.52");
            assert_eq!(shown(out::DESIGN_EFFECT), "1.92");
            assert_eq!(shown(out::SUM_WEIGHTS), "9731.71");
            // The interval is Wilson's for the weighted share of Poor with n_eff respondents.
            let (low, high) = wilson_by_hand(p_negative, n_eff, z);
            close(
                float(&df, out::WEIGHTED_SCORE_LOW, row),
                100.0 - 200.0 * high,
                "low",
            );
            close(
                float(&df, out::WEIGHTED_SCORE_HIGH, row),
                100.0 - 200.0 * low,
                "high",
            );
            let low = float(&df, out::WEIGHTED_SCORE_LOW, row).unwrap_or(f64::NAN);
            let high = float(&df, out::WEIGHTED_SCORE_HIGH, row).unwrap_or(f64::NAN);
            assert!(low < score && score < high);
            // Wider than the unweighted interval on 410 would be: n_eff < n.
            let (l410, h410) = wilson_by_hand(p_negative, 410.0, z);
            assert!(high - low > 200.0 * (h410 - l410));
        }

        // The weights themselves: one row per channel cell of each row.
        let w = cells.chosen.collect()?;
        let capped = w.column(out::CAPPED)?.bool()?.clone();
        let weights: Vec<(String, String, Option<f64>, bool)> = (0..w.height())
            .map(|r| {
                (
                    text(&w, out::SCOPE, r),
                    text(&w, c::CHANNEL, r),
                    float(&w, out::WEIGHT, r),
                    capped.get(r) == Some(true),
                )
            })
            .collect();
        let headline: Vec<_> = weights.iter().filter(|r| r.0 == ALL_SERVICES).collect();
        assert_eq!(headline.len(), 5, "{w}");
        let of = |ch: &str| headline.iter().find(|r| r.1 == ch).map(|r| (r.2, r.3));
        assert_eq!(of("telephone"), Some((Some(60.0), false)));
        assert_eq!(of("web"), Some((Some(10.0), false)));
        let face = of("face_to_face").unwrap_or_default();
        close(face.0, cap, "capped weight");
        assert!(face.1, "face_to_face capped");
        assert_eq!(of("webchat"), Some((None, false)));
        assert_eq!(of("email"), Some((None, false)));

        // With 5 responses enough per cell, the cells are channel x service: the same figures
        // here (one service), said so.
        let lenient = Weighting {
            min_responses: 5,
            ..how
        };
        let df = weighted(cells_of(survey, volumes, lenient)?, z).collect()?;
        for row in 0..2 {
            assert_eq!(text(&df, out::WEIGHTING, row), BY_CHANNEL_SERVICE);
            close(float(&df, out::N_EFF, row), n_eff, "n_eff");
        }
        assert_eq!(text(&df, out::NOT_WEIGHTED, 0), "webchat: Housing");
        assert_eq!(text(&df, out::NOT_WEIGHTED, 1), "webchat");
        Ok(())
    }

    fn cells_of(survey: LazyFrame, volumes: LazyFrame, how: Weighting) -> PolarsResult<LazyFrame> {
        Ok(cells(survey, volumes, how)?.chosen)
    }

    fn wilson_by_hand(p: f64, n: f64, z: f64) -> (f64, f64) {
        let z2 = z * z;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
        (centre - half, centre + half)
    }

    /// Two services: Housing has enough responses in every channel, so it is weighted on its own
    /// channel mix; Parking does not, so it takes the channel weights of all services; the
    /// headline is then on channel cells.
    #[test]
    fn a_service_without_enough_responses_borrows_the_channel_weights() -> PolarsResult<()> {
        let survey = survey(&[
            ("telephone", "Housing", [20, 5, 5]),
            ("web", "Housing", [10, 5, 15]),
            ("telephone", "Parking", [3, 1, 1]),
            ("web", "Parking", [30, 10, 20]),
        ]);
        let volumes = contacts(&[
            ("telephone", "Housing", 900),
            ("web", "Housing", 300),
            ("telephone", "Parking", 100),
            ("web", "Parking", 700),
        ])?;
        let how = Weighting {
            cap: 5.0,
            min_responses: 20,
        };
        let df = weighted(cells_of(survey, volumes, how)?, 1.96).collect()?;
        let services: Vec<String> = (0..3).map(|r| text(&df, c::SERVICE, r)).collect();
        assert_eq!(services, [ALL_SERVICES, "Housing", "Parking"]);
        let weighting: Vec<String> = (0..3).map(|r| text(&df, out::WEIGHTING, r)).collect();
        assert_eq!(weighting, [BY_CHANNEL, BY_CHANNEL_SERVICE, BY_CHANNEL]);
        // Channel weights: telephone 1,000 / 35, web 1,000 / 90 (mean 2,000 / 125 = 16, cap 80).
        let (tel, web) = (1000.0 / 35.0, 1000.0 / 90.0);
        close(
            float(&df, out::WEIGHTED_COUNCIL_SCORE_PCT, 0),
            (tel * 23.0 + web * 20.0) * 100.0 / (tel * 35.0 + web * 90.0),
            "all services",
        );
        // Housing on its own cells: telephone 900 / 30, web 300 / 30.
        close(
            float(&df, out::WEIGHTED_COUNCIL_SCORE_PCT, 1),
            (30.0 * 20.0 + 10.0 * 0.0) * 100.0 / (30.0 * 30.0 + 10.0 * 30.0),
            "housing",
        );
        // Parking with the channel weights of all services.
        close(
            float(&df, out::WEIGHTED_COUNCIL_SCORE_PCT, 2),
            (tel * 3.0 + web * 20.0) * 100.0 / (tel * 5.0 + web * 60.0),
            "parking",
        );
        close(
            float(&df, out::WEIGHT_CAP, 2),
            5.0 * 2000.0 / 125.0,
            "cap of all services",
        );
        assert_eq!(count(&df, out::CAPPED_CELLS, 0), Some(0));
        Ok(())
    }
}
