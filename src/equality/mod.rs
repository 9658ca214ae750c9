//! The equality stage: satisfaction and channel use by protected characteristic, with intervals,
//! tests against the rest of the respondents and disclosure control. Reads only the lake.

pub mod breakdown;
pub mod channel_use;
pub mod kept;
pub mod representation;
pub mod stats;
use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::config::Pipeline;
use crate::lake::Lake;
use crate::measures::{collect, figure_err, FigureError};
use crate::model::{col as c, NOT_ANSWERED, PREFER_NOT_TO_SAY};
use crate::period::Period;
use crate::tables::contract::name;
use crate::tables::counts::{Counts, SENTIMENT};
use crate::tables::{ColumnFormat, Table};
use stats::{two_proportion_test, TestMethod};

/// Which responses an equality run covers: all, or some channels and services.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub channels: Vec<String>,
    pub services: Vec<String>,
}

impl Filter {
    fn expr(&self) -> Expr {
        let within = |column: &str, values: &[String]| {
            if values.is_empty() {
                lit(true)
            } else {
                col(column).is_in(
                    lit(Series::new("v".into(), values.to_vec())).implode(false),
                    false,
                )
            }
        };
        within(crate::model::col::CHANNEL, &self.channels)
            .and(within(crate::model::col::SERVICE, &self.services))
    }

    /// Whether the filter keeps every response.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.services.is_empty()
    }

    /// `-web-housing`: keeps filtered runs apart from the full one in the output folder.
    pub fn folder_suffix(&self) -> String {
        self.channels
            .iter()
            .chain(&self.services)
            .map(|v| {
                format!(
                    "-{}",
                    v.to_lowercase()
                        .chars()
                        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
                        .collect::<String>()
                )
            })
            .collect()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.channels.is_empty() {
            parts.push(format!("channels: {}", self.channels.join(", ")));
        }
        if !self.services.is_empty() {
            parts.push(format!("services: {}", self.services.join(", ")));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" Responses about {} only.", parts.join("; "))
        }
    }
}

/// The label of the all-respondents row of a one-way breakdown.
pub const ALL_RESPONDENTS: &str = "All respondents";

/// A table's rows in the order the pipeline lists each field's categories (then `Not answered`,
/// `Prefer not to say`, then any other label alphabetically), channels in their usual order,
/// `All respondents` last: the order a reader of an equality impact assessment expects, not the
/// alphabet's ("Female, Male, Another term"; "16-24 ... 85+").
fn in_category_order(
    df: DataFrame,
    by: &[String],
    demographics: &[crate::config::DemographicField],
) -> Result<DataFrame, FigureError> {
    let mut keys = Vec::new();
    for field in by {
        let order: Vec<String> = match demographics.iter().find(|d| d.name == *field) {
            Some(d) => d
                .categories
                .iter()
                .cloned()
                .chain([NOT_ANSWERED, PREFER_NOT_TO_SAY].map(String::from))
                .collect(),
            None if field == c::CHANNEL => crate::model::Channel::ALL
                .iter()
                .map(|ch| ch.as_str().to_string())
                .collect(),
            None => Vec::new(),
        };
        let n = order.len() as u32;
        let rank = when(col(field.as_str()).eq(lit(ALL_RESPONDENTS)))
            .then(lit(n + 1))
            .otherwise(col(field.as_str()).replace_strict(
                lit(Series::new("order".into(), order)),
                lit(Series::new("rank".into(), (0..n).collect::<Vec<u32>>())),
                Some(lit(n)),
                Some(DataType::UInt32),
            ));
        keys.push(rank);
        keys.push(col(field.as_str()));
    }
    df.lazy()
        .sort_by_exprs(
            keys,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
        .map_err(figure_err)
}

/// The equality tables for a period: one per breakdown. With `publish`, small cells are
/// suppressed (and marked); without, the table is for the analyst only and says so.
pub fn compute(
    pipeline: &Pipeline,
    lake: &Lake,
    period: Period,
    breakdowns: &[Vec<String>],
    filter: &Filter,
    publish: bool,
) -> Result<Vec<Table>, FigureError> {
    let cfg = &pipeline.equality;
    let months = period.months_in(period.financial_year());
    // Every table below groups the same answers: the columns they group by, then the
    // breakdowns' fields.
    let mut columns: Vec<String> = [c::CHANNEL, c::SERVICE, c::SENTIMENT, c::SCORE]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for field in breakdowns.iter().flatten() {
        if !columns.contains(field) {
            columns.push(field.clone());
        }
    }
    // The year's answers summed month by month, most months read from sums kept in the lake
    // (see `kept`).
    let Some(year) = (kept::Answers {
        pipeline,
        lake,
        months: &months,
        columns: &columns,
    })
    .summed()?
    else {
        return Err(FigureError::NoData(
            "the lake holds no survey responses".into(),
        ));
    };
    // An equality impact assessment is one council's (the sums are); answers dated by a
    // quarter or a year count where they lie wholly inside the months.
    let year = collect(
        year.lazy()
            .filter(crate::period::in_months(&months).and(crate::granularity::counted_in(&months)))
            .filter(filter.expr())
            .with_row_index(ROW, None),
    )?;
    // The respondents with answers on more than one row: only they can be in two groups of a
    // breakdown (see `shared_respondents`). Their digests are found by sorting every answer's
    // (equal neighbours), then each of their answers is a row with its respondent; found once,
    // read by every breakdown.
    let explode = ExplodeOptions {
        empty_as_null: false,
        keep_nulls: false,
    };
    let digest = col(kept::RESPONDENTS);
    let twice = collect(
        year.clone()
            .lazy()
            .select([digest
                .clone()
                .explode(explode)
                .drop_nulls()
                .sort(SortOptions::default())])
            .filter(digest.clone().eq(digest.clone().shift(lit(1))))
            .unique(None, UniqueKeepStrategy::Any),
    )?;
    let twice = twice
        .column(kept::RESPONDENTS)
        .map_err(figure_err)?
        .as_materialized_series()
        .clone();
    let answers_of_twice = if twice.is_empty() {
        // No one answered twice (a survey keyed by response): no answer is looked for.
        year.clone().lazy().limit(0)
    } else {
        year.clone().lazy()
    };
    let repeated = collect(crate::measures::rated_answers(
        answers_of_twice
            .select([col(ROW), digest.clone()])
            .explode(cols([kept::RESPONDENTS]), explode)
            .filter(digest.is_in(lit(twice).implode(false), false))
            .rename([kept::RESPONDENTS], [kept::RESPONDENT], true)
            .join(
                year.clone()
                    .lazy()
                    .drop(by_name([kept::RESPONDENTS], true, false)),
                [col(ROW)],
                [col(ROW)],
                JoinArgs::new(JoinType::Inner),
            ),
    ))?
    .lazy();
    // Every other table counts answers: the year's sums summed again over the months.
    let answers = collect(
        year.lazy()
            .group_by(columns.iter().map(|n| col(n.as_str())).collect::<Vec<_>>())
            .agg([crate::measures::answers().alias(c::ANSWERS)]),
    )?
    .lazy();
    // Respondents are those who gave a rating: every figure, share, test, channel use and
    // representation counts them only. A person whose answer is "Don't know" (a scale's
    // `not_rated`) is counted apart, in the breakdowns' `not_rated` column.
    let not_rated = pipeline.counts_not_rated();
    let responses = crate::measures::rated_answers(answers.clone());
    let scored = if not_rated { &answers } else { &responses };
    let z = stats::normal_quantile(1.0 - (1.0 - cfg.confidence) / 2.0)
        .ok_or_else(|| FigureError::Data(format!("confidence {} is not usable", cfg.confidence)))?;
    let correction = cfg.correction;
    let scope = scope(pipeline, period, filter);
    // The breakdowns are independent small plans: made side by side.
    let one = |by: &Vec<String>| -> Result<Table, FigureError> {
        let mut table = collect(breakdown::breakdown(scored.clone(), by, z, not_rated))?;
        if by.len() == 1 {
            let all = collect(breakdown::breakdown(
                scored
                    .clone()
                    .with_column(lit(ALL_RESPONDENTS).alias(by[0].as_str())),
                by,
                z,
                not_rated,
            ))?;
            table = table.vstack(&all).map_err(figure_err)?;
            table = with_shares(table)?;
            let shared = shared_respondents(repeated.clone(), &by[0])?;
            table = with_comparisons(
                table,
                &by[0],
                correction,
                cfg.reference.get(&by[0]),
                cfg.significance,
                &shared,
            )?;
        }
        let table = in_category_order(table, by, &pipeline.demographics)?;
        let mut t = describe(by, table, publish, cfg, correction);
        t.description.push_str(&filter.describe());
        let counts = breakdown_counts(by, &scope, cfg.reference.get(&by[0]));
        t.counts = Some(if not_rated {
            counts.with_not_rated()
        } else {
            counts
        });
        Ok(t)
    };
    let mut tables = {
        use rayon::prelude::*;
        breakdowns
            .par_iter()
            .map(one)
            .collect::<Result<Vec<Table>, FigureError>>()?
    };
    for by in breakdowns
        .iter()
        .filter(|b| b.len() == 1 && b[0] != "channel")
    {
        let digital = pipeline.channels.digital_names();
        let (table, channels) = channel_use::channel_use(responses.clone(), &by[0], &digital)?;
        let table = in_category_order(table, by, &pipeline.demographics)?;
        let mut formats: BTreeMap<String, ColumnFormat> = BTreeMap::new();
        for name in table.get_column_names() {
            let name = name.to_string();
            if name.ends_with("_pct") {
                formats.insert(name, ColumnFormat::Percent(1));
            } else if name == "responses" || channels.contains(&name) {
                formats.insert(name, ColumnFormat::Integer);
            }
        }
        let counts = channel_use::counts(&by[0], &channels, &digital, &scope);
        tables.push(Table {
            name: name::channel_use(&by[0]),
            title: format!("Channel used by {}", by[0].replace('_', " ")),
            description: format!(
                "Survey responses by channel for each group, with shares and the digital share ({}).{}",
                digital.join(", "),
                if publish {
                    format!(" Counts from 1 to {} are suppressed, with the other cells of the publication that would let them be worked out ('suppression' says which rule blanked each).", cfg.suppression_threshold - 1)
                } else {
                    " Unsuppressed: not for publication.".to_string()
                }
            ),
            frame: table,
            formats,
            counts: Some(counts),
        });
    }
    if let Some(path) = &cfg.population {
        let population = representation::read_population(path)?;
        for by in breakdowns.iter().filter(|b| b.len() == 1) {
            let table = representation::representation(responses.clone(), &population, &by[0])?;
            let no_profile = table
                .column("population")
                .map(|c| c.null_count() == table.height())
                .unwrap_or(true);
            if table.height() == 0 || no_profile {
                continue; // the profile has no figures for this field
            }
            tables.push(Table {
                name: name::representation(&by[0]),
                title: format!("Respondents against the population by {}", by[0].replace('_', " ")),
                description: format!(
                    "Respondents who answered, by group, against the population profile in {}; representation ratio = respondent share / population share (below 1: under-represented). Groups of 1 to {} respondents are suppressed, with the other cells of the publication that would let them be worked out.",
                    path.display(),
                    cfg.suppression_threshold - 1
                ),
                frame: table,
                formats: [
                    ("respondents", ColumnFormat::Integer),
                    ("respondent_share_pct", ColumnFormat::Percent(1)),
                    ("population", ColumnFormat::Integer),
                    ("population_share_pct", ColumnFormat::Percent(1)),
                    ("representation_ratio", ColumnFormat::Decimal(2)),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
                counts: Some(representation::counts(&by[0], &scope)),
            });
        }
    }
    Ok(tables)
}

/// The scope every equality table shares: the council, the financial year and the filters, as
/// (dimension, value) pairs of the respondent cube.
fn scope(pipeline: &Pipeline, period: Period, filter: &Filter) -> Vec<(String, String)> {
    let mut fixed = vec![
        (c::ORGANISATION.to_string(), pipeline.organisation.clone()),
        (
            c::FINANCIAL_YEAR.to_string(),
            period.calendar().label(period.financial_year()),
        ),
    ];
    // A wide survey's breakdowns count the overall question's answers (see `kpi::by_question`).
    if let Some(q) = &pipeline.overall_question {
        fixed.push((
            crate::tables::contract::column::QUESTION.to_string(),
            q.clone(),
        ));
    }
    for (dim, values) in [
        (c::CHANNEL, &filter.channels),
        (c::SERVICE, &filter.services),
    ] {
        if !values.is_empty() {
            fixed.push((dim.to_string(), values.join("|")));
        }
    }
    fixed
}

/// The respondent counts of a breakdown by one field (with its total row, shares and
/// comparisons) or by two (no total).
fn breakdown_counts(
    by: &[String],
    scope: &[(String, String)],
    reference: Option<&String>,
) -> Counts {
    use crate::tables::counts::{Answered, Group, Input, Subset};
    let one_way = by.len() == 1;
    let groups = by
        .iter()
        .map(|f| {
            let g = Group::column(f);
            if one_way {
                g.with_total(ALL_RESPONDENTS)
            } else {
                g
            }
        })
        .collect();
    let mut counts = Counts::satisfaction(groups, scope.to_vec());
    counts.subsets.push(Subset {
        column: "dominant_service_count".into(),
        adds: vec![(SENTIMENT.into(), "negative".into())],
        dimension: c::SERVICE.into(),
        value_column: "dominant_service".into(),
    });
    if !one_way {
        return counts;
    }
    let field = &by[0];
    counts.answered = Some(Answered {
        group: 0,
        excluded: vec![NOT_ANSWERED.into(), PREFER_NOT_TO_SAY.into()],
    });
    let mut counts = counts.derive(
        "share_pct",
        vec![
            Input::Row("responses".into()),
            Input::Without("responses".into(), vec![field.clone()]),
        ],
    );
    let against = |column: &str| match reference {
        Some(r) => Input::At(column.into(), field.clone(), r.clone()),
        None => Input::Answered(column.into()),
    };
    for column in [
        "compared_with",
        "dissatisfied_difference_pp",
        "test",
        "p_value",
        "p_adjusted",
        "difference",
    ] {
        counts = counts.derive(
            column,
            vec![
                Input::Row("responses".into()),
                Input::Row("negative".into()),
                against("responses"),
                against("negative"),
            ],
        );
    }
    counts
}

/// `share_pct`: each group's share of all respondents (for the non-response rows, the
/// non-response rate).
fn with_shares(table: DataFrame) -> Result<DataFrame, FigureError> {
    let total = col("responses")
        .filter(col("responses").eq(col("responses").max()))
        .first();
    collect(
        table
            .lazy()
            .with_column(crate::measures::percent(col("responses"), total).alias("share_pct")),
    )
}

/// What `test` says of a comparison between groups that share respondents.
pub const NOT_TESTED_SHARED: &str =
    "not tested: the same respondents are on both sides (the groups are not independent)";

/// The row of the year's sums an answer is on.
const ROW: &str = "__row";

/// The pairs of groups of `field` that share a respondent: one record (the same source and
/// record key, told by its digest, see `kept`) rated under both, each pair in both orders. A long survey keyed by respondent
/// (`duplicates = "key"`) keeps one answer per record a month, so over a financial year the
/// same person can rate the web in May and the telephone in June; a test of one group against
/// another (or against the rest) assumes no one is on both sides, so such a pair is not tested.
/// Sources keyed by file and row, or by the whole row, never share one.
fn shared_respondents(
    responses: LazyFrame,
    field: &str,
) -> Result<BTreeSet<(String, String)>, FigureError> {
    let repeated = len()
        .over([col(kept::RESPONDENT)])
        .map_err(figure_err)?
        .gt(lit(1));
    let df = collect(
        responses
            .select([
                col(kept::RESPONDENT),
                col(field).cast(DataType::String).alias("group"),
            ])
            .filter(col("group").is_not_null())
            .unique(None, UniqueKeepStrategy::Any)
            .filter(repeated)
            .sort_by_exprs([col(kept::RESPONDENT)], SortMultipleOptions::default()),
    )?;
    let respondent: Vec<Option<u64>> = df
        .column(kept::RESPONDENT)
        .and_then(|c| c.u64().map(|v| v.iter().collect()))
        .map_err(figure_err)?;
    let group = crate::tables::frame::texts(&df, "group")?;
    let mut pairs = BTreeSet::new();
    let mut start = 0;
    while start < df.height() {
        let end = (start..df.height())
            .find(|i| respondent[*i] != respondent[start])
            .unwrap_or(df.height());
        let groups: Vec<&String> = group[start..end].iter().flatten().collect();
        for a in &groups {
            for b in &groups {
                if a != b {
                    pairs.insert(((*a).clone(), (*b).clone()));
                }
            }
        }
        start = end;
    }
    Ok(pairs)
}

/// Each answered group's dissatisfaction against the rest of those who answered (or against the
/// configured reference group): difference in percentage points, the test used, its p-value and
/// the p-value corrected for the number of groups compared; `significant` only where the
/// corrected p-value is below `significance` (the pipeline's `equality.significance`). A group
/// that shares respondents with a group it is compared with (`shared`, from
/// [`shared_respondents`]) keeps its difference but is not tested: its p-values are blank and
/// `test` says why ([`NOT_TESTED_SHARED`]); the correction counts only the tests made.
fn with_comparisons(
    table: DataFrame,
    field: &str,
    correction: crate::config::Correction,
    reference: Option<&String>,
    significance: f64,
    shared: &BTreeSet<(String, String)>,
) -> Result<DataFrame, FigureError> {
    let groups = crate::tables::frame::texts(&table, field)?;
    let counts = |name: &str| -> Result<Vec<u64>, FigureError> {
        Ok(table
            .column(name)
            .and_then(|c| c.cast(&DataType::UInt64))
            .map_err(figure_err)?
            .u64()
            .map_err(figure_err)?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (n, neg) = (counts("responses")?, counts("negative")?);
    let answered: Vec<bool> = groups
        .iter()
        .map(|g| {
            !matches!(
                g.as_deref(),
                None | Some(NOT_ANSWERED) | Some(PREFER_NOT_TO_SAY) | Some(ALL_RESPONDENTS)
            )
        })
        .collect();
    let (all_n, all_neg): (u64, u64) = (0..n.len())
        .filter(|i| answered[*i])
        .fold((0, 0), |(a, b), i| (a + n[i], b + neg[i]));
    let reference_row = reference.and_then(|r| groups.iter().position(|g| g.as_ref() == Some(r)));
    let share = |a: usize, b: usize| match (&groups[a], &groups[b]) {
        (Some(x), Some(y)) => shared.contains(&(x.clone(), y.clone())),
        _ => false,
    };
    let untested: Vec<bool> = (0..n.len())
        .map(|i| {
            answered[i]
                && match reference_row {
                    Some(r) => r != i && share(i, r),
                    None => (0..n.len()).any(|j| j != i && answered[j] && share(i, j)),
                }
        })
        .collect();
    let results: Vec<Option<stats::TestResult>> = (0..n.len())
        .map(|i| {
            let against = match reference_row {
                Some(r) if r == i => None, // the reference is not compared with itself
                Some(r) => Some((neg[r], n[r])),
                None => Some((all_neg - neg[i], all_n - n[i])),
            };
            answered[i]
                .then_some(against)
                .flatten()
                .and_then(|(x2, n2)| two_proportion_test(neg[i], n[i], x2, n2))
        })
        .collect();
    let tested: Vec<usize> = (0..n.len())
        .filter(|i| results[*i].is_some() && !untested[*i])
        .collect();
    let raw_p: Vec<f64> = tested
        .iter()
        .filter_map(|i| results[*i].map(|r| r.p_value))
        .collect();
    let adjusted_list = correction.adjust(&raw_p);
    let mut adjusted: BTreeMap<usize, f64> = BTreeMap::new();
    for (k, i) in tested.iter().enumerate() {
        adjusted.insert(*i, adjusted_list[k]);
    }
    let diff: Vec<Option<f64>> = results.iter().map(|r| r.map(|r| r.difference_pp)).collect();
    let p: Vec<Option<f64>> = (0..n.len())
        .map(|i| results[i].filter(|_| !untested[i]).map(|r| r.p_value))
        .collect();
    let p_adj: Vec<Option<f64>> = (0..n.len()).map(|i| adjusted.get(&i).copied()).collect();
    let method: Vec<Option<&str>> = (0..n.len())
        .map(|i| {
            results[i].map(|r| match r.method {
                _ if untested[i] => NOT_TESTED_SHARED,
                TestMethod::FisherExact => "Fisher exact",
                TestMethod::TwoProportionZ => "two-proportion z",
            })
        })
        .collect();
    let flag: Vec<Option<&str>> = p_adj
        .iter()
        .map(|p| p.map(|p| if p < significance { "significant" } else { "" }))
        .collect();
    let against = match reference_row.and_then(|r| groups[r].clone()) {
        Some(r) => format!("{r} (reference group)"),
        None => "the rest of those who answered".to_string(),
    };
    let compared_with: Vec<Option<String>> =
        results.iter().map(|r| r.map(|_| against.clone())).collect();
    let mut out = table;
    for column in [
        Column::new("compared_with".into(), compared_with),
        Column::new("dissatisfied_difference_pp".into(), diff),
        Column::new("test".into(), method),
        Column::new("p_value".into(), p),
        Column::new("p_adjusted".into(), p_adj),
        Column::new("difference".into(), flag),
    ] {
        out.with_column(column).map_err(figure_err)?;
    }
    Ok(out)
}

fn describe(
    by: &[String],
    frame: DataFrame,
    publish: bool,
    cfg: &crate::config::EqualityConfig,
    correction: crate::config::Correction,
) -> Table {
    let name = name::equality(by);
    let title = format!(
        "Satisfaction by {}{}",
        by.join(" and ").replace('_', " "),
        if publish {
            ""
        } else {
            " (NOT FOR PUBLICATION: small cells shown)"
        }
    );
    let description = format!(
        "One row per group, non-response ('{NOT_ANSWERED}', '{PREFER_NOT_TO_SAY}') included. {}{}% Wilson score intervals. {}{}",
        if frame.column(crate::measures::out::NOT_RATED).is_ok() {
            "'responses' counts those who gave a rating, the N of every figure; 'not_rated' those whose answer was not a rating (don't know, not applicable), counted apart and in no figure. "
        } else {
            ""
        },
        (cfg.confidence * 100.0).round(),
        if by.len() == 1 {
            format!("Each group's dissatisfaction is tested against the rest of those who answered, or the reference group named in 'compared_with' (Fisher's exact test where an expected count is below 5, otherwise a two-proportion z test), corrected for the number of groups by the {} method; 'significant' only where the corrected p-value is below {}. Groups that share respondents (the same record rated under both, e.g. one person's answers about two channels in different months) are not independent: they are not tested, and 'test' says so. ", correction.name(), cfg.significance)
        } else {
            String::new()
        },
        if publish {
            format!("Counts from 1 to {} and what is derived from them are suppressed (blank, listed in 'suppressed'), with the other cells, in this table or any other of the publication, that would let them be worked out ('suppression' says which rule blanked each; disclosure-audit.json gives the bounds a reader can prove).", cfg.suppression_threshold - 1)
        } else {
            "Unsuppressed: for the analyst only, not for publication.".to_string()
        }
    );
    let formats: BTreeMap<String, ColumnFormat> = [
        ("responses", ColumnFormat::Integer),
        ("positive", ColumnFormat::Integer),
        ("neutral", ColumnFormat::Integer),
        ("negative", ColumnFormat::Integer),
        ("not_rated", ColumnFormat::Integer),
        ("net_satisfaction", ColumnFormat::Decimal(3)),
        ("satisfied_pct", ColumnFormat::Percent(1)),
        ("satisfied_low", ColumnFormat::Percent(1)),
        ("satisfied_high", ColumnFormat::Percent(1)),
        ("dissatisfied_pct", ColumnFormat::Percent(1)),
        ("dissatisfied_low", ColumnFormat::Percent(1)),
        ("dissatisfied_high", ColumnFormat::Percent(1)),
        ("share_pct", ColumnFormat::Percent(1)),
        ("dominant_service_count", ColumnFormat::Integer),
        ("dissatisfied_difference_pp", ColumnFormat::Decimal(1)),
        ("p_value", ColumnFormat::Decimal(4)),
        ("p_adjusted", ColumnFormat::Decimal(4)),
    ]
    .into_iter()
    .filter(|(k, _)| frame.column(k).is_ok())
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Table {
        name: name.chars().take(31).collect(),
        title,
        description,
        frame,
        formats,
        counts: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_follow_the_configured_categories_not_the_alphabet(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let sex = crate::config::DemographicField {
            name: "sex".into(),
            label: "Sex".into(),
            categories: vec!["Female".into(), "Male".into(), "Another term".into()],
            values: Vec::new(),
            unrecognised: Some("Other".into()),
        };
        let df = df!(
            "sex" => [ALL_RESPONDENTS, "Prefer not to say", "Other", "Male", "Another term", NOT_ANSWERED, "Female"],
            "channel" => ["web"; 7],
        )?;
        let by = vec!["sex".to_string()];
        let out = in_category_order(df, &by, &[sex])?;
        let order: Vec<Option<&str>> = out.column("sex")?.str()?.iter().collect();
        assert_eq!(
            order,
            [
                Some("Female"),
                Some("Male"),
                Some("Another term"),
                Some(NOT_ANSWERED),
                Some("Prefer not to say"),
                Some("Other"),
                Some(ALL_RESPONDENTS)
            ]
        );
        Ok(())
    }

    use super::*;

    fn flags(significance: f64) -> Vec<Option<String>> {
        let table = df!(
            "sex" => ["Female", "Male", ALL_RESPONDENTS],
            "responses" => [100i64, 100, 200],
            "negative" => [30i64, 14, 44],
        )
        .unwrap_or_default();
        let out = with_comparisons(
            table,
            "sex",
            crate::config::Correction::Holm,
            None,
            significance,
            &BTreeSet::new(),
        )
        .unwrap_or_default();
        out.column("difference")
            .ok()
            .and_then(|c| c.str().ok().cloned())
            .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_significance_level_comes_from_the_pipeline() {
        // 30% against 14% of 100 each: z about 2.75, p about 0.006 (Holm: about 0.012).
        assert_eq!(flags(0.05)[0].as_deref(), Some("significant"));
        assert_eq!(flags(0.001)[0].as_deref(), Some(""));
    }
}

#[cfg(test)]
mod shared_tests {
    use super::*;

    /// Hand-made responses of a long survey keyed by respondent, over a financial year: R1 rated
    /// the web in May and the telephone in June; everyone else rated one channel; S1 is another
    /// source's record that happens to carry the key "R2".
    fn responses() -> LazyFrame {
        df!(
            c::SOURCE => ["survey", "survey", "survey", "survey", "survey", "survey", "other"],
            c::RECORD_KEY => ["R1", "R1", "R2", "R3", "R4", "R4", "R2"],
            c::CHANNEL => ["web", "telephone", "web", "telephone", "face_to_face", "face_to_face", "telephone"],
            c::SENTIMENT => ["negative", "positive", "negative", "positive", "positive", "negative", "positive"],
        )
        .map_err(figure_err)
        .and_then(|mut df| {
            let respondents = kept::digests(&df)?;
            df.with_column(respondents.into_column())
                .map_err(figure_err)?;
            Ok(df.lazy())
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn groups_sharing_a_respondent_are_found_by_source_and_record_key() -> Result<(), FigureError> {
        let shared = shared_respondents(responses(), c::CHANNEL)?;
        // R1 links web and telephone; R4 rated face to face twice (one group: no pair); "R2" of
        // two sources is two records.
        let expected: BTreeSet<(String, String)> = [("telephone", "web"), ("web", "telephone")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(shared, expected);
        Ok(())
    }

    fn column_texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        df.column(name)
            .ok()
            .and_then(|c| c.cast(&DataType::String).ok())
            .and_then(|c| c.str().ok().cloned())
            .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_channel_that_shares_respondents_with_another_is_not_tested_against_it(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let shared = shared_respondents(responses(), c::CHANNEL)?;
        let table = df!(
            c::CHANNEL => ["telephone", "face_to_face", "web", ALL_RESPONDENTS],
            "responses" => [120i64, 80, 200, 400],
            "negative" => [30i64, 10, 20, 60],
        )?;
        let out = with_comparisons(
            table,
            c::CHANNEL,
            crate::config::Correction::Holm,
            None,
            0.05,
            &shared,
        )?;
        let test = column_texts(&out, "test");
        let p = column_texts(&out, "p_value");
        let diff = column_texts(&out, "dissatisfied_difference_pp");
        // Telephone and web share R1: against the rest (which holds the other), not tested; the
        // difference is still shown.
        for i in [0, 2] {
            assert_eq!(test[i].as_deref(), Some(NOT_TESTED_SHARED), "row {i}");
            assert_eq!(p[i], None, "row {i}");
            assert!(diff[i].is_some(), "row {i}");
        }
        // Face to face shares no one: 10 of 80 against 50 of 320, tested as before.
        assert_eq!(test[1].as_deref(), Some("two-proportion z"));
        assert!(p[1].is_some());
        assert_eq!(test[3], None);
        // Holm counts only the one test made: adjusted = raw.
        let adjusted = column_texts(&out, "p_adjusted");
        assert_eq!(adjusted[1], p[1]);

        // Against a reference group: web is compared with face to face (no one shared), and
        // telephone with it too; only a pair sharing someone is left untested.
        let table = df!(
            c::CHANNEL => ["telephone", "face_to_face", "web", ALL_RESPONDENTS],
            "responses" => [120i64, 80, 200, 400],
            "negative" => [30i64, 10, 20, 60],
        )?;
        let reference = "face_to_face".to_string();
        let out = with_comparisons(
            table.clone(),
            c::CHANNEL,
            crate::config::Correction::Holm,
            Some(&reference),
            0.05,
            &shared,
        )?;
        let p = column_texts(&out, "p_value");
        assert!(p[0].is_some() && p[2].is_some() && p[1].is_none());
        let reference = "web".to_string();
        let out = with_comparisons(
            table,
            c::CHANNEL,
            crate::config::Correction::Holm,
            Some(&reference),
            0.05,
            &shared,
        )?;
        let (test, p) = (column_texts(&out, "test"), column_texts(&out, "p_value"));
        assert_eq!(test[0].as_deref(), Some(NOT_TESTED_SHARED));
        assert_eq!(p[0], None);
        assert!(p[1].is_some(), "face to face shares no one with the web");
        Ok(())
    }
}
