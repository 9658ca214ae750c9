//! The `[equality]` part of a pipeline file: which breakdowns are published, the suppression
//! threshold, confidence level, p-value correction, population profile and reference groups.
//! The correction is a setting here; its arithmetic is in the equality stage (`stats.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::names::{named, setting};
use super::paths;
use super::raw::RawEquality;
use super::survey::DemographicField;

/// A correction for testing many groups at once (`equality.correction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Controls the family-wise error rate: use when any false flag is costly.
    Holm,
    /// Controls the false discovery rate: use to screen many groups for differences worth a look.
    BenjaminiHochberg,
}

named!(Correction {
    Holm = "holm",
    BenjaminiHochberg = "benjamini_hochberg" | "bh",
});

/// Which runs publish the survey and equality tables (`equality.survey_publication`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyPublication {
    /// Every period's run, the year to date (within `max_earlier_publications`).
    EachPeriod,
    /// Only a whole year's run (`--fy`).
    YearOnly,
}

named!(SurveyPublication {
    EachPeriod = "each_period",
    YearOnly = "year_only",
});

/// How equality breakdowns are computed and published.
#[derive(Debug, Clone, PartialEq)]
pub struct EqualityConfig {
    /// Published counts from 1 to below this are suppressed (ONS-style default 10).
    pub suppression_threshold: i64,
    /// Confidence level of the intervals (0.95).
    pub confidence: f64,
    /// Significance level of the comparisons: a difference is flagged where its corrected
    /// p-value is below it (default 1 - confidence, so 0.05 with 95% intervals).
    pub significance: f64,
    /// Each breakdown: one or two columns (demographic fields, `channel`).
    pub breakdowns: Vec<Vec<String>>,
    /// How p-values are corrected for the number of groups compared.
    pub correction: Correction,
    /// Population profile to compare respondents with (CSV: field, group, population).
    pub population: Option<PathBuf>,
    /// Per field, the group others are compared with (default: the rest of the respondents).
    pub reference: BTreeMap<String, String>,
    /// Survey and equality tables are withheld from a publication beside more earlier
    /// publications of its financial year than this.
    pub max_earlier_publications: usize,
    /// Which runs publish the survey and equality tables.
    pub survey_publication: SurveyPublication,
}

/// Validates `[equality]` (all defaults when it is absent), pushing every problem with its key.
pub(super) fn resolve_equality(
    raw: Option<RawEquality>,
    demographics: &[DemographicField],
    base: &Path,
    push: &mut impl FnMut(String, String),
) -> EqualityConfig {
    let raw = raw.unwrap_or_default();
    let correction =
        setting(raw.correction.as_deref(), "equality.correction", push).unwrap_or(Correction::Holm);
    let survey_publication = setting(
        raw.survey_publication.as_deref(),
        "equality.survey_publication",
        push,
    )
    .unwrap_or(SurveyPublication::EachPeriod);
    let population = raw.population.map(|p| paths::beside(base, p));
    if let Some(p) = &population {
        if !p.is_file() {
            push(
                "equality.population".into(),
                format!("{} does not exist", p.display()),
            );
        }
    }
    let threshold = raw.suppression_threshold.unwrap_or(10);
    if threshold < 1 {
        push(
            "equality.suppression_threshold".into(),
            format!("{threshold} must be at least 1"),
        );
    }
    let confidence = raw.confidence.unwrap_or(0.95);
    if !(0.5..1.0).contains(&confidence) {
        push(
            "equality.confidence".into(),
            format!("{confidence} is not a confidence level like 0.95"),
        );
    }
    // 1 - 0.95 is 0.050000000000000044 in floating point: the default is rounded to the
    // precision a level is written with, so that it reads (and compares) as 0.05.
    let significance = raw
        .significance
        .unwrap_or(((1.0 - confidence) * 1e9).round() / 1e9);
    if !(significance > 0.0 && significance < 0.5) {
        push(
            "equality.significance".into(),
            format!("{significance} is not a significance level like 0.05"),
        );
    }
    let breakdowns = resolve_breakdowns(raw.breakdowns, demographics, push);
    check_references(&raw.reference, demographics, push);
    EqualityConfig {
        suppression_threshold: threshold,
        significance,
        confidence,
        breakdowns,
        correction,
        population,
        reference: raw.reference,
        max_earlier_publications: raw.max_earlier_publications.unwrap_or(2) as usize,
        survey_publication,
    }
}

/// Whether `by` is a breakdown cex computes: one or two different columns, each a
/// `[demographics.*]` field or `channel`. (Satisfaction by service is the KPI table
/// `satisfaction_by_service`; within a breakdown, the service is what each group's most
/// dissatisfied service is taken from, so it cannot also be a group.)
pub fn check_breakdown(by: &[String], demographics: &[DemographicField]) -> Result<(), String> {
    let fields = || {
        let mut names: Vec<&str> = demographics.iter().map(|d| d.name.as_str()).collect();
        names.push("channel");
        names.join(", ")
    };
    if by.is_empty() || by.len() > 2 {
        return Err(format!(
            "a breakdown is one or two columns, e.g. age_band or age_band,channel (columns: {})",
            fields()
        ));
    }
    if by.len() == 2 && by[0] == by[1] {
        return Err(format!("'{}' is named twice", by[0]));
    }
    for name in by {
        if name == "service" {
            return Err(
                "'service' is not a breakdown: satisfaction by service is the KPI table satisfaction_by_service; to look at one service, use --service".into(),
            );
        }
        if name != "channel" && !demographics.iter().any(|d| &d.name == name) {
            return Err(format!(
                "'{name}' is not a [demographics.*] field or channel (columns: {})",
                fields()
            ));
        }
    }
    Ok(())
}

/// The breakdowns as written, or by default every demographic on its own and then by channel.
fn resolve_breakdowns(
    written: Vec<Vec<String>>,
    demographics: &[DemographicField],
    push: &mut impl FnMut(String, String),
) -> Vec<Vec<String>> {
    let mut breakdowns = written;
    if breakdowns.is_empty() {
        // Every demographic on its own, then each by channel: the digital-divide question.
        breakdowns = demographics.iter().map(|d| vec![d.name.clone()]).collect();
        breakdowns.extend(
            demographics
                .iter()
                .map(|d| vec![d.name.clone(), "channel".to_string()]),
        );
    }
    for (i, b) in breakdowns.iter().enumerate() {
        if let Err(message) = check_breakdown(b, demographics) {
            push(format!("equality.breakdowns[{i}]"), message);
        }
    }
    breakdowns
}

/// Each reference group names a demographic field and one of its categories.
fn check_references(
    reference: &BTreeMap<String, String>,
    demographics: &[DemographicField],
    push: &mut impl FnMut(String, String),
) {
    for (field, group) in reference {
        match demographics.iter().find(|d| &d.name == field) {
            None => push(
                format!("equality.reference.{field}"),
                format!("'{field}' is not a [demographics.*] field"),
            ),
            Some(d) if !d.categories.contains(group) => push(
                format!("equality.reference.{field}"),
                format!(
                    "'{group}' is not one of its categories ({})",
                    d.categories.join(", ")
                ),
            ),
            Some(_) => {}
        }
    }
}
