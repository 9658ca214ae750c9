//! Satisfaction KPIs from `responses`: scores (the shared measures of [`crate::measures`]) and
//! rating counts by group, response rates against `contacts`. Lazy only: never collects, reads the lake or names a scale.

use polars::prelude::*;

use crate::config::NotRated;
use crate::measures::{
    council_score_pct, dissatisfied_pct, negative, net_satisfaction, neutral, not_rated,
    percent as pct, positive, rated, satisfied_pct,
};
use crate::model::col as c;

/// Names of the columns this module outputs (besides the group columns and `contacts`): the
/// shared satisfaction measures' names and its own.
pub mod out {
    pub use crate::measures::out::*;
    pub const SHARE_PCT: &str = "share_pct";
    pub const RESPONSE_RATE_PCT: &str = "response_rate_pct";
    pub const SURVEY_SHARE_PCT: &str = "survey_share_pct";
    pub const CONTACT_SHARE_PCT: &str = "contact_share_pct";
}

/// The columns `satisfaction_by` adds after the group columns, in order.
pub const MEASURES: [&str; 8] = [
    out::RESPONSES,
    out::POSITIVE,
    out::NEUTRAL,
    out::NEGATIVE,
    out::COUNCIL_SCORE_PCT,
    out::NET_SATISFACTION,
    out::SATISFIED_PCT,
    out::DISSATISFIED_PCT,
];

/// One row per group of `by` (none: one row for all responses), sorted by the group columns:
/// `responses` (N, u32), `positive`, `neutral`, `negative` (u32), `council_score_pct`,
/// `net_satisfaction`, `satisfied_pct`, `dissatisfied_pct` (f64).
pub fn satisfaction_by(responses: LazyFrame, by: &[&str]) -> LazyFrame {
    scores_by(responses, by, false)
}

/// [`satisfaction_by`] with `not_rated` (u32) after `negative`: the group's answers that are not
/// a rating ("Don't know"), which no figure divides by. A group whose answers are all unrated
/// has a row with N = 0 and null scores.
pub fn satisfaction_and_not_rated_by(responses: LazyFrame, by: &[&str]) -> LazyFrame {
    scores_by(responses, by, true)
}

fn scores_by(responses: LazyFrame, by: &[&str], count_not_rated: bool) -> LazyFrame {
    let mut measures = vec![rated(), positive(), neutral(), negative()];
    if count_not_rated {
        measures.push(not_rated());
    }
    measures.extend([
        council_score_pct(),
        net_satisfaction(),
        satisfied_pct(),
        dissatisfied_pct(),
    ]);
    if by.is_empty() {
        return responses.select(measures);
    }
    let keys = columns(by);
    responses
        .group_by(keys.clone())
        .agg(measures)
        .sort_by_exprs(keys, SortMultipleOptions::default())
}

/// Counts per rating, whatever the scale's labels: one row per group of `by` and `rating`, with
/// `responses` (u32) and `share_pct` (of the group's rated responses). Sorted by the group
/// columns, then down the scale (highest score first).
///
/// With `not_rated` answers listed (a scale's "Don't know"), `answers` holds every answer and
/// each such answer gets rows of its own after the ratings, labelled as the pipeline file writes
/// it (in the order listed; an answer no scale lists any more is [`NOT_RATED_LABEL`]), with a
/// `rated` column (`yes` for a rating, `no` for these) before `rating`, and no `share_pct`: they
/// are in no denominator.
pub fn rating_counts(
    answers: LazyFrame,
    by: &[&str],
    not_rated: &[NotRated],
) -> PolarsResult<LazyFrame> {
    // Within a group: ratings down the scale, then the answers that are not a rating.
    const RANK: &str = "__rank";
    let mut keys = columns(by);
    keys.push(col(c::RATING));
    let rated = answers
        .clone()
        .filter(col(c::SENTIMENT).is_not_null())
        .group_by(keys.clone())
        .agg([
            answers_in_group(),
            (col(c::SCORE).max() * lit(-1.0)).alias(RANK),
        ])
        .with_column(
            pct(
                col(out::RESPONSES),
                within_groups(col(out::RESPONSES).sum(), columns(by)),
            )
            .alias(out::SHARE_PCT),
        );
    let mut order = columns(by);
    order.extend([col(RANK), col(c::RATING)]);
    let sorted = |frame: LazyFrame, mut shown: Vec<Expr>| {
        shown.extend([col(out::RESPONSES), col(out::SHARE_PCT)]);
        frame
            .sort_by_exprs(order.clone(), SortMultipleOptions::default())
            .select(shown)
    };
    let mut shown = columns(by);
    if not_rated.is_empty() {
        shown.push(col(c::RATING));
        return Ok(sorted(rated, shown));
    }
    // Ranks after every score of any scale: scores are finite, and a listed answer's position
    // in the list orders its rows.
    const AFTER_SCALE: f64 = 1e12;
    const VALUE: &str = "__value";
    let lookup = df!(
        VALUE => not_rated.iter().map(|n| n.value.clone()).collect::<Vec<_>>(),
        c::RATING => not_rated.iter().map(|n| n.label.clone()).collect::<Vec<_>>(),
        RANK => (0..not_rated.len()).map(|i| AFTER_SCALE + i as f64).collect::<Vec<_>>(),
    )?
    .lazy();
    let unrated = answers
        .filter(col(c::SENTIMENT).is_null())
        .select(
            columns(by)
                .into_iter()
                .chain([
                    col(c::ANSWERS),
                    crate::text::normalised(col(c::RATING_RAW)).alias(VALUE),
                ])
                .collect::<Vec<_>>(),
        )
        .join(
            lookup,
            [col(VALUE)],
            [col(VALUE)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col(c::RATING).fill_null(lit(NOT_RATED_LABEL)),
            col(RANK).fill_null(lit(AFTER_SCALE + not_rated.len() as f64)),
        ])
        .group_by(keys)
        .agg([answers_in_group(), col(RANK).min()])
        .with_column(lit(NULL).cast(DataType::Float64).alias(out::SHARE_PCT));
    let both = concat(
        [
            rated.with_column(lit(RATED_YES).alias(RATED)),
            unrated.with_column(lit(RATED_NO).alias(RATED)),
        ],
        UnionArgs::default(),
    )?;
    shown.extend([col(RATED), col(c::RATING)]);
    Ok(sorted(both, shown))
}

/// The answers of a group (rows of `responses` or sums of them), as `responses` (u32).
fn answers_in_group() -> Expr {
    col(c::ANSWERS)
        .sum()
        .cast(DataType::UInt32)
        .alias(out::RESPONSES)
}

/// The `rated` column of `satisfaction_ratings`: a rating (`yes`) or an answer that is not one
/// (`no`). Named as the disclosure cohort it makes: `rated = no` is the not-rated cohort.
pub const RATED: &str = crate::tables::counts::RATED;
pub const RATED_YES: &str = "yes";
pub const RATED_NO: &str = crate::tables::counts::NOT_A_RATING;
/// The row of answers that are not a rating but match no answer the scales list now (a lake
/// ingested under an older scale).
pub const NOT_RATED_LABEL: &str = "Not rated (other)";

/// Responses against contacts per group of `by`, which must include `channel`: the columns of
/// [`satisfaction_by`], then `contacts` (sum of the `contacts` column over every outcome, so
/// telephone counts all offered calls; u64), `response_rate_pct` (responses / contacts × 100, null
/// where there are no contacts), `survey_share_pct` (the channel's share of the responses of the
/// group without channel) and `contact_share_pct` (its share of the contacts), so a barely
/// surveyed channel stands out. A group on one side only still appears, with zero counts and
/// null scores or rates. Filter `contacts` first to count only some outcomes. With
/// `count_not_rated`, `responses` holds every answer and the answers that are not a rating are
/// counted in `not_rated` after `negative` (rates and shares stay of rated answers).
pub fn response_rate(
    responses: LazyFrame,
    contacts: LazyFrame,
    by: &[&str],
    count_not_rated: bool,
) -> LazyFrame {
    let keys = columns(by);
    let contacts = contacts.group_by(keys.clone()).agg([col(c::CONTACTS)
        .cast(DataType::UInt64)
        .sum()
        .alias(c::CONTACTS)]);
    let join = JoinArgs {
        nulls_equal: true,
        ..JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns)
    };
    let mut counts = vec![out::RESPONSES, out::POSITIVE, out::NEUTRAL, out::NEGATIVE];
    if count_not_rated {
        counts.push(out::NOT_RATED);
    }
    counts.push(c::CONTACTS);
    let zero_counts: Vec<Expr> = counts
        .into_iter()
        .map(|name| col(name).fill_null(lit(0)))
        .collect();
    let outside_channel: Vec<Expr> = by
        .iter()
        .filter(|k| **k != c::CHANNEL)
        .map(|k| col(*k))
        .collect();
    let share_of_all = |name: &str| {
        pct(
            col(name),
            within_groups(col(name).sum(), outside_channel.clone()),
        )
    };
    scores_by(responses, by, count_not_rated)
        .join(contacts, keys.clone(), keys.clone(), join)
        .with_columns(zero_counts)
        .with_columns([
            pct(col(out::RESPONSES), col(c::CONTACTS)).alias(out::RESPONSE_RATE_PCT),
            share_of_all(out::RESPONSES).alias(out::SURVEY_SHARE_PCT),
            share_of_all(c::CONTACTS).alias(out::CONTACT_SHARE_PCT),
        ])
        .sort_by_exprs(keys, SortMultipleOptions::default())
}

/// `expr` evaluated within each group of `partition`, broadcast to the group's rows; with no
/// partition columns the whole frame is one group.
pub(crate) fn within_groups(expr: Expr, partition: Vec<Expr>) -> Expr {
    if partition.is_empty() {
        // A window over nothing is no window: polars refuses it when the plan runs.
        return expr;
    }
    expr.clone().over(partition).unwrap_or(expr)
}

fn columns(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|n| col(*n)).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::SENTIMENTS;

    const POSITIVE: &str = SENTIMENTS[0];
    const NEUTRAL: &str = SENTIMENTS[1];
    const NEGATIVE: &str = SENTIMENTS[2];

    /// GovMetric's three-point scale: label, score, sentiment.
    const SCALE: [(&str, f64, &str); 3] = [
        ("Good", 1.0, POSITIVE),
        ("Average", 0.0, NEUTRAL),
        ("Poor", -1.0, NEGATIVE),
    ];

    /// A response-level frame: for each group, its key values (named by `key_names`) and its
    /// Good / Average / Poor counts, one row per response.
    pub(crate) fn responses(key_names: &[&str], groups: &[(&[&str], [u32; 3])]) -> LazyFrame {
        let mut keys: Vec<Vec<&str>> = vec![Vec::new(); key_names.len()];
        let (mut rating, mut score, mut sentiment) = (Vec::new(), Vec::new(), Vec::new());
        for (values, counts) in groups {
            for ((label, weight, feeling), n) in SCALE.iter().zip(counts) {
                for _ in 0..*n {
                    for (key, value) in keys.iter_mut().zip(values.iter()) {
                        key.push(*value);
                    }
                    rating.push(*label);
                    score.push(*weight);
                    sentiment.push(*feeling);
                }
            }
        }
        let mut columns: Vec<Column> = key_names
            .iter()
            .zip(keys)
            .map(|(name, values)| Column::new((*name).into(), values))
            .collect();
        columns.push(Column::new(c::RATING.into(), rating));
        columns.push(Column::new(c::SCORE.into(), score));
        columns.push(Column::new(c::SENTIMENT.into(), sentiment));
        crate::measures::one_answer_each(DataFrame::new_infer_height(columns).unwrap().lazy())
    }

    pub(crate) fn text(df: &DataFrame, name: &str, row: usize) -> String {
        df.column(name)
            .unwrap()
            .str()
            .unwrap()
            .get(row)
            .unwrap()
            .to_string()
    }

    pub(crate) fn float(df: &DataFrame, name: &str, row: usize) -> Option<f64> {
        df.column(name).unwrap().f64().unwrap().get(row)
    }

    pub(crate) fn count(df: &DataFrame, name: &str, row: usize) -> Option<u32> {
        df.column(name).unwrap().u32().unwrap().get(row)
    }

    /// Every float cell is a finite number or null: no NaN, no infinity.
    fn assert_no_nan(df: &DataFrame) {
        for column in df.columns() {
            if let Ok(values) = column.f64() {
                for v in (0..values.len()).filter_map(|i| values.get(i)) {
                    assert!(v.is_finite(), "{} holds {v}", column.name());
                }
            }
        }
    }

    fn one_decimal(v: f64) -> f64 {
        (v * 10.0).round() / 10.0
    }

    /// Seed 002 paragraph 18, by financial year and channel, with Good / Average / Poor counts
    /// that give exactly the published one-decimal scores. Webchat's 98.9% cannot come from a tiny
    /// sample: it takes one Poor in 174 to 190 responses (two in 348 to 380, ...).
    const OXFORD: [(&str, &str, [u32; 3], f64); 8] = [
        ("2022/23", "telephone", [850, 58, 92], 81.6),
        ("2023/24", "telephone", [860, 57, 83], 83.4),
        ("2022/23", "face_to_face", [470, 23, 7], 97.2),
        ("2023/24", "face_to_face", [215, 12, 3], 97.4),
        ("2022/23", "webchat", [11, 1, 0], 100.0),
        ("2023/24", "webchat", [170, 9, 1], 98.9),
        ("2022/23", "web", [300, 240, 220], 42.1),
        ("2023/24", "web", [560, 214, 226], 54.8),
    ];

    const BY: [&str; 3] = [c::ORGANISATION, c::FINANCIAL_YEAR, c::CHANNEL];

    fn oxford_scores() -> DataFrame {
        let keys: Vec<[&str; 3]> = OXFORD
            .iter()
            .map(|(fy, channel, _, _)| ["Oxford", *fy, *channel])
            .collect();
        let groups: Vec<(&[&str], [u32; 3])> = keys
            .iter()
            .zip(OXFORD)
            .map(|(k, (_, _, counts, _))| (k.as_slice(), counts))
            .collect();
        satisfaction_by(responses(&BY, &groups), &BY)
            .collect()
            .unwrap()
    }

    fn oxford_row(df: &DataFrame, row: usize) -> ([u32; 3], f64) {
        let (fy, channel) = (text(df, c::FINANCIAL_YEAR, row), text(df, c::CHANNEL, row));
        OXFORD
            .iter()
            .find(|(f, ch, _, _)| *f == fy && *ch == channel)
            .map(|(_, _, counts, published)| (*counts, *published))
            .unwrap()
    }

    #[test]
    fn council_score_reproduces_oxfords_published_figures() {
        let df = oxford_scores();
        assert_eq!(df.height(), OXFORD.len());
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        let mut expected = BY.to_vec();
        expected.extend(MEASURES);
        assert_eq!(names, expected);
        for row in 0..df.height() {
            let ([good, average, poor], published) = oxford_row(&df, row);
            assert_eq!(count(&df, out::RESPONSES, row), Some(good + average + poor));
            assert_eq!(count(&df, out::POSITIVE, row), Some(good));
            assert_eq!(count(&df, out::NEUTRAL, row), Some(average));
            assert_eq!(count(&df, out::NEGATIVE, row), Some(poor));
            let score = float(&df, out::COUNCIL_SCORE_PCT, row).unwrap();
            assert_eq!(one_decimal(score), published, "row {row}: {score}");
        }
        // Sorted by the group columns.
        assert_eq!(text(&df, c::FINANCIAL_YEAR, 0), "2022/23");
        assert_eq!(text(&df, c::CHANNEL, 0), "face_to_face");
        assert_eq!(text(&df, c::FINANCIAL_YEAR, 7), "2023/24");
        assert_eq!(text(&df, c::CHANNEL, 7), "webchat");
    }

    #[test]
    fn govmetric_index_is_good_minus_poor_over_n() {
        let df = oxford_scores();
        for row in 0..df.height() {
            let ([good, average, poor], _) = oxford_row(&df, row);
            let n = f64::from(good + average + poor);
            let index = float(&df, out::NET_SATISFACTION, row).unwrap();
            assert!((index - (f64::from(good) - f64::from(poor)) / n).abs() < 1e-12);
            assert!((-1.0..=1.0).contains(&index));
            let satisfied = float(&df, out::SATISFIED_PCT, row).unwrap();
            assert!((satisfied - f64::from(good) * 100.0 / n).abs() < 1e-9);
            let dissatisfied = float(&df, out::DISSATISFIED_PCT, row).unwrap();
            assert!((dissatisfied - f64::from(poor) * 100.0 / n).abs() < 1e-9);
        }

        let extremes = responses(
            &[c::CHANNEL],
            &[(&["telephone"], [7, 0, 0]), (&["web"], [0, 0, 4])],
        );
        let df = satisfaction_by(extremes, &[c::CHANNEL]).collect().unwrap();
        assert_eq!(float(&df, out::NET_SATISFACTION, 0), Some(1.0));
        assert_eq!(float(&df, out::COUNCIL_SCORE_PCT, 0), Some(100.0));
        assert_eq!(float(&df, out::NET_SATISFACTION, 1), Some(-1.0));
        assert_eq!(float(&df, out::COUNCIL_SCORE_PCT, 1), Some(-100.0));
        assert_eq!(float(&df, out::DISSATISFIED_PCT, 1), Some(100.0));
    }

    #[test]
    fn no_responses_gives_null_scores_not_nan() {
        let df = satisfaction_by(responses(&[c::CHANNEL], &[]), &[])
            .collect()
            .unwrap();
        assert_eq!(df.height(), 1);
        assert_eq!(count(&df, out::RESPONSES, 0), Some(0));
        assert_eq!(count(&df, out::POSITIVE, 0), Some(0));
        for name in &MEASURES[4..] {
            assert_eq!(float(&df, name, 0), None, "{name}");
        }
    }

    fn contacts(rows: &[(&str, &str, u32)]) -> LazyFrame {
        let channel: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let outcome: Vec<&str> = rows.iter().map(|r| r.1).collect();
        let n: Vec<u32> = rows.iter().map(|r| r.2).collect();
        let organisation = vec!["Oxford"; rows.len()];
        df!(
            c::ORGANISATION => organisation,
            c::CHANNEL => channel,
            c::OUTCOME => outcome,
            c::CONTACTS => n,
        )
        .unwrap()
        .lazy()
    }

    #[test]
    fn response_rate_keeps_channels_from_either_side() -> PolarsResult<()> {
        let by = [c::ORGANISATION, c::CHANNEL];
        let survey = responses(
            &by,
            &[
                (&["Oxford", "telephone"], [80, 10, 10]),
                (&["Oxford", "web"], [30, 10, 10]),
                (&["Oxford", "webchat"], [3, 0, 0]),
            ],
        );
        let volumes = contacts(&[
            ("telephone", "answered", 900),
            ("telephone", "abandoned", 80),
            ("telephone", "callback", 20),
            ("web", "submitted", 4000),
            ("face_to_face", "served", 450),
            ("face_to_face", "walked_out", 50),
        ]);
        let df = response_rate(survey, volumes, &by, false).collect()?;
        assert_no_nan(&df);
        let channels: Vec<String> = (0..df.height()).map(|r| text(&df, c::CHANNEL, r)).collect();
        assert_eq!(channels, ["face_to_face", "telephone", "web", "webchat"]);
        let contacts_of = |row| df.column(c::CONTACTS).unwrap().u64().unwrap().get(row);

        // Contacts only: zero counts, null scores, a response rate of 0.
        assert_eq!(count(&df, out::RESPONSES, 0), Some(0));
        assert_eq!(count(&df, out::POSITIVE, 0), Some(0));
        assert_eq!(count(&df, out::NEGATIVE, 0), Some(0));
        assert_eq!(contacts_of(0), Some(500));
        for name in &MEASURES[4..] {
            assert_eq!(float(&df, name, 0), None, "{name}");
        }
        assert_eq!(float(&df, out::RESPONSE_RATE_PCT, 0), Some(0.0));
        assert_eq!(float(&df, out::SURVEY_SHARE_PCT, 0), Some(0.0));

        // Telephone counts every offered call: answered, abandoned and callbacks.
        assert_eq!(contacts_of(1), Some(1000));
        assert_eq!(float(&df, out::RESPONSE_RATE_PCT, 1), Some(10.0));
        assert_eq!(float(&df, out::COUNCIL_SCORE_PCT, 1), Some(80.0));
        assert_eq!(float(&df, out::RESPONSE_RATE_PCT, 2), Some(1.25));

        // Responses only: zero contacts, no response rate.
        assert_eq!(contacts_of(3), Some(0));
        assert_eq!(float(&df, out::RESPONSE_RATE_PCT, 3), None);

        // Survey mix against contact mix: web is 73% of contacts but 33% of responses.
        let share = |name, row| float(&df, name, row).unwrap();
        assert!((share(out::SURVEY_SHARE_PCT, 2) - 50.0 * 100.0 / 153.0).abs() < 1e-9);
        assert!((share(out::CONTACT_SHARE_PCT, 2) - 4000.0 * 100.0 / 5500.0).abs() < 1e-9);
        let total = |name| (0..4).map(|row| share(name, row)).sum::<f64>();
        assert!((total(out::SURVEY_SHARE_PCT) - 100.0).abs() < 1e-9);
        assert!((total(out::CONTACT_SHARE_PCT) - 100.0).abs() < 1e-9);
        Ok(())
    }

    /// With answers that are not a rating, the response-rate table counts them beside N and
    /// every rate and share stays of the rated answers.
    #[test]
    fn the_response_rate_table_counts_not_rated_answers_beside_n() -> PolarsResult<()> {
        let by = [c::CHANNEL];
        let rated = responses(&by, &[(&["telephone"], [8, 1, 1]), (&["web"], [2, 1, 2])]);
        let unrated = df!(
            c::CHANNEL => ["telephone", "telephone", "telephone", "webchat"],
            c::RATING => [None::<&str>, None, None, None],
            c::SCORE => [None::<f64>, None, None, None],
            c::SENTIMENT => [None::<&str>, None, None, None],
        )?
        .lazy();
        let unrated = crate::measures::one_answer_each(unrated);
        let every = concat([rated.clone(), unrated], UnionArgs::default())?;
        let volumes = || contacts(&[("telephone", "answered", 200), ("web", "submitted", 500)]);
        let with = response_rate(every, volumes(), &by, true).collect()?;
        let without = response_rate(rated, volumes(), &by, false).collect()?;
        let channels: Vec<String> = (0..with.height())
            .map(|r| text(&with, c::CHANNEL, r))
            .collect();
        assert_eq!(channels, ["telephone", "web", "webchat"]);
        let not_rated: Vec<Option<u32>> = (0..3).map(|r| count(&with, out::NOT_RATED, r)).collect();
        assert_eq!(not_rated, [Some(3), Some(0), Some(1)]);
        // webchat: one "don't know" and no contacts: N = 0, no rate, no score.
        assert_eq!(count(&with, out::RESPONSES, 2), Some(0));
        assert_eq!(float(&with, out::RESPONSE_RATE_PCT, 2), None);
        for name in [
            out::RESPONSE_RATE_PCT,
            out::SURVEY_SHARE_PCT,
            out::CONTACT_SHARE_PCT,
            out::COUNCIL_SCORE_PCT,
        ] {
            for row in 0..2 {
                assert_eq!(
                    float(&with, name, row).map(f64::to_bits),
                    float(&without, name, row).map(f64::to_bits),
                    "{name} row {row}"
                );
            }
        }
        assert_eq!(float(&with, out::RESPONSE_RATE_PCT, 0), Some(5.0));
        Ok(())
    }

    /// Answers that are not a rating (null sentiment, score and rating) are counted beside N
    /// and change no figure: the scores equal, bit for bit, those of the rated answers alone.
    #[test]
    fn not_rated_answers_are_counted_apart_and_change_no_figure() {
        let rated = responses(
            &[c::CHANNEL],
            &[(&["telephone"], [6, 3, 1]), (&["web"], [1, 0, 3])],
        );
        let unrated = df!(
            c::CHANNEL => ["telephone", "telephone", "web", "post"],
            c::RATING => [None::<&str>, None, None, None],
            c::SCORE => [None::<f64>, None, None, None],
            c::SENTIMENT => [None::<&str>, None, None, None],
        )
        .unwrap()
        .lazy();
        let unrated = crate::measures::one_answer_each(unrated);
        let all = concat([rated.clone(), unrated], UnionArgs::default()).unwrap();
        let with = satisfaction_and_not_rated_by(all, &[c::CHANNEL])
            .collect()
            .unwrap();
        let without = satisfaction_by(rated, &[c::CHANNEL]).collect().unwrap();
        let names: Vec<&str> = with.get_column_names().iter().map(|n| n.as_str()).collect();
        let mut expected = vec![c::CHANNEL];
        expected.extend(&MEASURES[..4]);
        expected.push(out::NOT_RATED);
        expected.extend(&MEASURES[4..]);
        assert_eq!(names, expected);
        // post: only an unrated answer, so N = 0 and no figure.
        assert_eq!(text(&with, c::CHANNEL, 0), "post");
        assert_eq!(count(&with, out::RESPONSES, 0), Some(0));
        assert_eq!(count(&with, out::NOT_RATED, 0), Some(1));
        for name in &MEASURES[4..] {
            assert_eq!(float(&with, name, 0), None, "{name}");
        }
        assert_no_nan(&with);
        for (row, not_rated) in [(1, 2), (2, 1)] {
            assert_eq!(count(&with, out::NOT_RATED, row), Some(not_rated));
            for name in &MEASURES[..4] {
                assert_eq!(count(&with, name, row), count(&without, name, row - 1));
            }
            for name in &MEASURES[4..] {
                assert_eq!(
                    float(&with, name, row).map(f64::to_bits),
                    float(&without, name, row - 1).map(f64::to_bits),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn rating_counts_follow_the_scale_within_each_group() -> PolarsResult<()> {
        let survey = responses(
            &[c::CHANNEL],
            &[(&["telephone"], [6, 3, 1]), (&["web"], [1, 0, 3])],
        );
        let df = rating_counts(survey, &[c::CHANNEL], &[])?.collect()?;
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [c::CHANNEL, c::RATING, out::RESPONSES, out::SHARE_PCT]
        );
        let rows: Vec<(String, String, Option<u32>, Option<f64>)> = (0..df.height())
            .map(|r| {
                (
                    text(&df, c::CHANNEL, r),
                    text(&df, c::RATING, r),
                    count(&df, out::RESPONSES, r),
                    float(&df, out::SHARE_PCT, r),
                )
            })
            .collect();
        let expected = [
            ("telephone", "Good", 6, 60.0),
            ("telephone", "Average", 3, 30.0),
            ("telephone", "Poor", 1, 10.0),
            ("web", "Good", 1, 25.0),
            ("web", "Poor", 3, 75.0),
        ];
        assert_eq!(rows.len(), expected.len());
        for (row, (channel, rating, n, share)) in rows.iter().zip(expected) {
            assert_eq!(
                (row.0.as_str(), row.1.as_str(), row.2),
                (channel, rating, Some(n))
            );
            assert!((row.3.unwrap() - share).abs() < 1e-9);
        }
        Ok(())
    }

    #[test]
    fn answers_that_are_not_a_rating_get_rows_of_their_own_after_the_scale() -> PolarsResult<()> {
        // Telephone: 2 Good, 1 Poor, 3 "Don't know" written three ways, 1 "9";
        // web: 1 Average, 2 "N/A", and one answer an older scale listed ("Unsure").
        type Answer<'a> = (
            &'a str,
            Option<&'a str>,
            Option<f64>,
            Option<&'a str>,
            &'a str,
        );
        let rows: [Answer; 11] = [
            (
                "telephone",
                Some("Good"),
                Some(1.0),
                Some("positive"),
                "Good",
            ),
            (
                "telephone",
                Some("Good"),
                Some(1.0),
                Some("positive"),
                "good",
            ),
            (
                "telephone",
                Some("Poor"),
                Some(-1.0),
                Some("negative"),
                "Poor",
            ),
            ("telephone", None, None, None, "Don't know"),
            ("telephone", None, None, None, "don't  KNOW"),
            ("telephone", None, None, None, " DON'T KNOW"),
            ("telephone", None, None, None, "9"),
            (
                "web",
                Some("Average"),
                Some(0.0),
                Some("neutral"),
                "Average",
            ),
            ("web", None, None, None, "N/A"),
            ("web", None, None, None, "n/a"),
            ("web", None, None, None, "Unsure"),
        ];
        let answers = df!(
            c::CHANNEL => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            c::RATING => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            c::SCORE => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            c::SENTIMENT => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            c::RATING_RAW => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )?
        .lazy();
        let answers = crate::measures::one_answer_each(answers);
        let listed = |label: &str| NotRated {
            label: label.to_string(),
            value: crate::text::normalise_value(label),
        };
        let not_rated = [listed("N/A"), listed("Don't know"), listed("9")];
        let df = rating_counts(answers, &[c::CHANNEL], &not_rated)?.collect()?;
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [c::CHANNEL, RATED, c::RATING, out::RESPONSES, out::SHARE_PCT]
        );
        type Row = (String, String, String, Option<u32>, Option<f64>);
        let got: Vec<Row> = (0..df.height())
            .map(|r| {
                (
                    text(&df, c::CHANNEL, r),
                    text(&df, c::RATING, r),
                    text(&df, RATED, r),
                    count(&df, out::RESPONSES, r),
                    float(&df, out::SHARE_PCT, r),
                )
            })
            .collect();
        // Shares are of the rated answers only (2 of 3 telephone ratings); the listed answers
        // follow the scale in the order the pipeline lists them, under the label written there.
        let third = 100.0 / 3.0;
        let expected: [(&str, &str, &str, u32, Option<f64>); 7] = [
            ("telephone", "Good", "yes", 2, Some(2.0 * third)),
            ("telephone", "Poor", "yes", 1, Some(third)),
            ("telephone", "Don't know", "no", 3, None),
            ("telephone", "9", "no", 1, None),
            ("web", "Average", "yes", 1, Some(100.0)),
            ("web", "N/A", "no", 2, None),
            ("web", NOT_RATED_LABEL, "no", 1, None),
        ];
        assert_eq!(got.len(), expected.len(), "{df}");
        for (row, want) in got.iter().zip(expected) {
            assert_eq!(
                (row.0.as_str(), row.1.as_str(), row.2.as_str(), row.3),
                (want.0, want.1, want.2, Some(want.3)),
                "{df}"
            );
            match (row.4, want.4) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{df}"),
                (a, b) => assert_eq!(a, b, "{df}"),
            }
        }
        Ok(())
    }
}
