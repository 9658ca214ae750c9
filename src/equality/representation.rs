//! Representativeness: respondents by group against a population profile (e.g. census 2021), as
//! shares and their ratio, so under-represented groups are visible. Reads the profile CSV only.

use std::path::Path;

use polars::prelude::*;

use crate::measures::{collect, percent, FigureError};
use crate::model::{NOT_ANSWERED, PREFER_NOT_TO_SAY};
use crate::tables::counts::{Answered, Counts, Group, Input};

/// The population profile: columns `field`, `group`, `population`.
pub fn read_population(path: &Path) -> Result<DataFrame, FigureError> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| FigureError::Data(format!("{}: {e}", path.display())))?;
    for needed in ["field", "group", "population"] {
        if df.column(needed).is_err() {
            return Err(FigureError::Data(format!(
                "{}: needs a '{needed}' column (field, group, population)",
                path.display()
            )));
        }
    }
    Ok(df)
}

/// For one demographic field: respondents who answered, by group, and each group's share of them
/// against its share of the population; `representation_ratio` = respondent share / population
/// share (1 = as in the population, 0.5 = half as many as expected). Groups under `threshold`
/// respondents are suppressed.
pub fn representation(
    responses: LazyFrame,
    population: &DataFrame,
    field: &str,
) -> Result<DataFrame, FigureError> {
    let answered = col(field)
        .neq(lit(NOT_ANSWERED))
        .and(col(field).neq(lit(PREFER_NOT_TO_SAY)))
        .and(col(field).is_not_null());
    let respondents = responses
        .filter(answered)
        .group_by([col(field).alias("group")])
        .agg([crate::measures::answers()
            .cast(DataType::Int64)
            .alias("respondents")]);
    let profile = population
        .clone()
        .lazy()
        .filter(col("field").eq(lit(field)))
        .select([
            col("group").cast(DataType::String),
            col("population").cast(DataType::Int64),
        ]);
    let joined = profile
        .join(
            respondents,
            [col("group")],
            [col("group")],
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .with_column(col("respondents").fill_null(lit(0i64)));
    let share_of = |c: &str| percent(col(c), col(c).sum());
    let table = joined
        .with_columns([
            share_of("respondents").alias("respondent_share_pct"),
            share_of("population").alias("population_share_pct"),
        ])
        .with_column(
            (col("respondent_share_pct") / col("population_share_pct"))
                .alias("representation_ratio"),
        )
        .with_column(lit(field).alias("field"))
        .select([
            col("field"),
            col("group"),
            col("respondents"),
            col("respondent_share_pct"),
            col("population"),
            col("population_share_pct"),
            col("representation_ratio"),
        ])
        .sort(["group"], SortMultipleOptions::default());
    collect(table)
}

/// The respondent counts of a representation table: those who answered, by group (the
/// non-response labels are not listed, so the groups sum to the answered cohort only), with the
/// shares and ratios derived from them.
pub fn counts(field: &str, scope: &[(String, String)]) -> Counts {
    let mut group = Group::column(field);
    group.columns = vec!["group".into()];
    group.lists_all = false;
    let respondents = || {
        vec![
            Input::Row("respondents".into()),
            Input::Answered("respondents".into()),
        ]
    };
    Counts {
        groups: vec![group],
        fixed: scope.to_vec(),
        cohort: Some("respondents".into()),
        answered: Some(Answered {
            group: 0,
            excluded: Vec::new(),
        }),
        ..Counts::default()
    }
    .derive("respondent_share_pct", respondents())
    .derive("representation_ratio", respondents())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_ratios_against_oxfords_census_profile() -> Result<(), Box<dyn std::error::Error>>
    {
        // DOMAIN.md: Oxford census 2021, Asian 24,991, Black 7,535, White 114,561 (of these three).
        let population = df!(
            "field" => ["ethnicity"; 3],
            "group" => ["Asian", "Black", "White"],
            "population" => [24_991i64, 7_535, 114_561],
        )?;
        let mut eth = vec!["Asian"; 30];
        eth.extend(vec!["Black"; 5]);
        eth.extend(vec!["White"; 165]);
        eth.extend(vec![NOT_ANSWERED; 40]);
        let responses = crate::measures::one_answer_each(df!("ethnicity" => eth)?.lazy());
        let t = representation(responses, &population, "ethnicity")?;
        let ratio: Vec<Option<f64>> = t.column("representation_ratio")?.f64()?.iter().collect();
        // White: 165/200 = 82.5% of respondents against 114,561/147,087 = 77.89%: ratio 1.059.
        assert!((ratio[2].unwrap_or(0.0) - 1.0592).abs() < 1e-3, "{ratio:?}");
        // Black: 5 respondents, printed here: disclosure control blanks it with the
        // publication (crate::disclosure).
        assert_eq!(t.column("respondents")?.i64()?.get(1), Some(5));
        Ok(())
    }
}
