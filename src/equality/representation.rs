//! Representativeness: respondents by group against a population profile (e.g. census 2021), as
//! shares and their ratio, so under-represented groups are visible. Reads the profile CSV only.

use std::path::Path;

use polars::prelude::*;

use crate::measures::{collect, percent, FigureError};
use crate::model::{NOT_ANSWERED, PREFER_NOT_TO_SAY};

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
    threshold: i64,
) -> Result<DataFrame, FigureError> {
    let answered = col(field)
        .neq(lit(NOT_ANSWERED))
        .and(col(field).neq(lit(PREFER_NOT_TO_SAY)))
        .and(col(field).is_not_null());
    let respondents = responses
        .filter(answered)
        .group_by([col(field).alias("group")])
        .agg([len().cast(DataType::Int64).alias("respondents")]);
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
    let small = col("respondents")
        .gt(lit(0i64))
        .and(col("respondents").lt(lit(threshold)));
    // One hidden group could be recovered from the others' counts and shares: hide the next
    // smallest too.
    let smallest_shown = col("respondents").filter(small.clone().not()).min();
    let hidden = small.clone().or(small
        .clone()
        .sum()
        .eq(lit(1u32))
        .and(col("respondents").eq(smallest_shown)));
    let table = joined
        .with_columns([
            share_of("respondents").alias("respondent_share_pct"),
            share_of("population").alias("population_share_pct"),
        ])
        .with_column(
            (col("respondent_share_pct") / col("population_share_pct"))
                .alias("representation_ratio"),
        )
        .with_columns([
            when(hidden.clone())
                .then(lit(NULL).cast(DataType::Int64))
                .otherwise(col("respondents"))
                .alias("respondents"),
            when(hidden.clone())
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(col("respondent_share_pct"))
                .alias("respondent_share_pct"),
            when(hidden)
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(col("representation_ratio"))
                .alias("representation_ratio"),
        ])
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
        let responses = df!("ethnicity" => eth)?.lazy();
        let t = representation(responses, &population, "ethnicity", 10)?;
        let ratio: Vec<Option<f64>> = t.column("representation_ratio")?.f64()?.iter().collect();
        // White: 165/200 = 82.5% of respondents against 114,561/147,087 = 77.89%: ratio 1.059.
        assert!((ratio[2].unwrap_or(0.0) - 1.0592).abs() < 1e-3, "{ratio:?}");
        // Black: 5 respondents, below the threshold: suppressed, not shown as 0. It could be
        // recovered from the other two and their shares, so the next smallest (Asian) goes too.
        assert_eq!(ratio[1], None);
        assert_eq!(t.column("respondents")?.i64()?.get(1), None);
        assert_eq!(t.column("respondents")?.i64()?.get(0), None);
        assert_eq!(t.column("respondents")?.i64()?.get(2), Some(165));
        Ok(())
    }
}
