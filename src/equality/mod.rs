//! The equality stage: satisfaction and channel use by protected characteristic, with intervals,
//! tests against the rest of the respondents and disclosure control. Reads only the lake.

pub mod breakdown;
pub mod channel_use;
pub mod representation;
pub mod stats;
pub mod suppress;
use std::collections::BTreeMap;

use polars::prelude::*;

use crate::config::Pipeline;
use crate::lake::Lake;
use crate::measures::{collect, figure_err, FigureError};
use crate::model::{col as c, Table as LakeTable, NOT_ANSWERED, PREFER_NOT_TO_SAY};
use crate::period::Period;
use crate::tables::contract::name;
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
    let Some(responses) = lake
        .scan(LakeTable::Responses)
        .map_err(|e| FigureError::Data(e.to_string()))?
    else {
        return Err(FigureError::NoData(
            "the lake holds no survey responses".into(),
        ));
    };
    let months = period.months_in(period.financial_year());
    // An equality impact assessment is one council's: a pooled lake is narrowed to the pipeline's.
    let responses = responses
        .filter(crate::period::in_months(&months))
        .filter(col(crate::model::col::ORGANISATION).eq(lit(pipeline.organisation.clone())))
        .filter(filter.expr());
    // Every table below groups the same responses: they are read from the lake once, only the
    // columns the breakdowns use.
    let mut needed: Vec<String> = [c::CHANNEL, c::SERVICE, c::SENTIMENT, c::SCORE]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for field in breakdowns.iter().flatten() {
        if !needed.contains(field) {
            needed.push(field.clone());
        }
    }
    let responses =
        collect(responses.select(needed.iter().map(|n| col(n.as_str())).collect::<Vec<_>>()))?
            .lazy();
    let z = stats::normal_quantile(1.0 - (1.0 - cfg.confidence) / 2.0)
        .ok_or_else(|| FigureError::Data(format!("confidence {} is not usable", cfg.confidence)))?;
    let correction = cfg.correction;
    let mut tables = Vec::new();
    for by in breakdowns {
        let mut table = collect(breakdown::breakdown(responses.clone(), by, z))?;
        let mut total_row = None;
        if by.len() == 1 {
            let all = collect(breakdown::breakdown(
                responses
                    .clone()
                    .with_column(lit(ALL_RESPONDENTS).alias(by[0].as_str())),
                by,
                z,
            ))?;
            table = table.vstack(&all).map_err(figure_err)?;
            total_row = Some(table.height() - 1);
            table = with_shares(table)?;
            table = with_comparisons(table, &by[0], correction, cfg.reference.get(&by[0]))?;
        }
        if publish {
            table = suppress::suppress(&table, cfg.suppression_threshold, total_row)
                .map_err(figure_err)?;
            table = hide_tests_of_hidden_rates(table)?;
        }
        let mut t = describe(by, table, publish, cfg, correction);
        t.description.push_str(&filter.describe());
        tables.push(t);
    }
    for by in breakdowns
        .iter()
        .filter(|b| b.len() == 1 && b[0] != "channel")
    {
        let (mut table, layout) = channel_use::channel_use(responses.clone(), &by[0])?;
        if publish {
            let total = table.height().checked_sub(1);
            table = suppress::suppress_with(&table, cfg.suppression_threshold, total, &layout)
                .map_err(figure_err)?;
        }
        let mut formats: BTreeMap<String, ColumnFormat> = BTreeMap::new();
        for name in table.get_column_names() {
            let name = name.to_string();
            if name.ends_with("_pct") {
                formats.insert(name, ColumnFormat::Percent(1));
            } else if name == "responses" || layout.parts.contains(&name) {
                formats.insert(name, ColumnFormat::Integer);
            }
        }
        tables.push(Table {
            name: name::channel_use(&by[0]),
            title: format!("Channel used by {}", by[0].replace('_', " ")),
            description: format!(
                "Survey responses by channel for each group, with shares and the digital share (web, webchat, e-mail, social).{}",
                if publish {
                    format!(" Counts from 1 to {} are suppressed, with a second cell where the first could be recovered.", cfg.suppression_threshold - 1)
                } else {
                    " Unsuppressed: not for publication.".to_string()
                }
            ),
            frame: table,
            formats,
        });
    }
    if let Some(path) = &cfg.population {
        let population = representation::read_population(path)?;
        let threshold = if publish {
            cfg.suppression_threshold
        } else {
            1
        };
        for by in breakdowns.iter().filter(|b| b.len() == 1) {
            let table =
                representation::representation(responses.clone(), &population, &by[0], threshold)?;
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
                    "Respondents who answered, by group, against the population profile in {}; representation ratio = respondent share / population share (below 1: under-represented). Groups of 1 to {} respondents are suppressed, with a second where the first could be recovered.",
                    path.display(),
                    threshold - 1
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
            });
        }
    }
    Ok(tables)
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

/// Each answered group's dissatisfaction against the rest of those who answered (or against the
/// configured reference group): difference in percentage points, the test used, its p-value and
/// the p-value corrected for the number of groups compared; `significant` only where the
/// corrected p-value is below 0.05.
fn with_comparisons(
    table: DataFrame,
    field: &str,
    correction: crate::config::Correction,
    reference: Option<&String>,
) -> Result<DataFrame, FigureError> {
    let groups: Vec<Option<String>> = table
        .column(field)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(figure_err)?
        .str()
        .map_err(figure_err)?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect();
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
    let tested: Vec<usize> = (0..n.len()).filter(|i| results[*i].is_some()).collect();
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
    let p: Vec<Option<f64>> = results.iter().map(|r| r.map(|r| r.p_value)).collect();
    let p_adj: Vec<Option<f64>> = (0..n.len()).map(|i| adjusted.get(&i).copied()).collect();
    let method: Vec<Option<&str>> = results
        .iter()
        .map(|r| {
            r.map(|r| match r.method {
                TestMethod::FisherExact => "Fisher exact",
                TestMethod::TwoProportionZ => "two-proportion z",
            })
        })
        .collect();
    let flag: Vec<Option<&str>> = p_adj
        .iter()
        .map(|p| p.map(|p| if p < 0.05 { "significant" } else { "" }))
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

/// A test result would reveal a suppressed rate: blank it where the rate is blank.
fn hide_tests_of_hidden_rates(table: DataFrame) -> Result<DataFrame, FigureError> {
    if table.column("p_value").is_err() {
        return Ok(table);
    }
    let hidden = col("dissatisfied_pct").is_null();
    let blank = |name: &str, dtype: DataType| {
        when(hidden.clone())
            .then(lit(NULL).cast(dtype))
            .otherwise(col(name))
            .alias(name)
    };
    collect(table.lazy().with_columns([
        blank("compared_with", DataType::String),
        blank("dissatisfied_difference_pp", DataType::Float64),
        blank("test", DataType::String),
        blank("p_value", DataType::Float64),
        blank("p_adjusted", DataType::Float64),
        blank("difference", DataType::String),
    ]))
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
        "One row per group, non-response ('{NOT_ANSWERED}', '{PREFER_NOT_TO_SAY}') included. {}% Wilson score intervals. {}{}",
        (cfg.confidence * 100.0).round(),
        if by.len() == 1 {
            format!("Each group's dissatisfaction is tested against the rest of those who answered, or the reference group named in 'compared_with' (Fisher's exact test where an expected count is below 5, otherwise a two-proportion z test), corrected for the number of groups by the {} method; 'significant' only where the corrected p-value is below 0.05. ", correction.name())
        } else {
            String::new()
        },
        if publish {
            format!("Counts from 1 to {} and what is derived from them are suppressed (blank, listed in 'suppressed'), and a second cell where the first could be recovered from a total.", cfg.suppression_threshold - 1)
        } else {
            "Unsuppressed: for the analyst only, not for publication.".to_string()
        }
    );
    let formats: BTreeMap<String, ColumnFormat> = [
        ("responses", ColumnFormat::Integer),
        ("positive", ColumnFormat::Integer),
        ("neutral", ColumnFormat::Integer),
        ("negative", ColumnFormat::Integer),
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
    }
}
