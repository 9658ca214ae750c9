//! The survey side of a pipeline file: rating scales (`[scales.*]`), the demographic questions a
//! council asks (`[demographics.*]`), and which of them a satisfaction source carries.

use std::collections::{BTreeMap, BTreeSet};

use super::raw::{RawDemographic, RawScale};
use super::source::SourceKind;
use crate::model::SENTIMENTS;
use crate::text::normalise_value;

/// A rating scale: raw answers -> label, score and sentiment.
#[derive(Debug, Clone)]
pub struct RatingScale {
    pub name: String,
    pub levels: Vec<ScaleLevel>,
    /// Answers that are not a rating (don't know, not applicable): kept, out of every
    /// denominator.
    pub not_rated: Vec<NotRated>,
    /// Normalised codes that mean the question was left blank (`0 = Blank`): read as a blank
    /// answer.
    pub not_answered: Vec<String>,
}

/// An answer a scale lists as not a rating: as the pipeline file writes it (the label of its row
/// in `satisfaction_ratings`) and normalised (what raw answers are compared with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRated {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct ScaleLevel {
    pub label: String,
    /// Normalised raw values that mean this level (the label itself always does).
    pub values: Vec<String>,
    pub score: f64,
    pub sentiment: String,
}

/// A demographic question the council asks, with its answer categories.
#[derive(Debug, Clone)]
pub struct DemographicField {
    pub name: String,
    pub label: String,
    pub categories: Vec<String>,
    /// (normalised raw value, category) pairs: categories, their synonyms and refusals.
    pub values: Vec<(String, String)>,
    /// `None`: unrecognised answers reject the row; `Some(label)`: file them under that label.
    pub unrecognised: Option<String>,
}

/// Validates `[scales.*]`: every level's sentiment is known and no raw answer means two levels.
pub(super) fn resolve_scales(
    raw: BTreeMap<String, RawScale>,
    push: &mut impl FnMut(String, String),
) -> BTreeMap<String, RatingScale> {
    let mut scales = BTreeMap::new();
    for (name, scale) in raw {
        let key = format!("scales.{name}");
        if scale.levels.is_empty() {
            push(
                format!("{key}.levels"),
                "a scale needs at least one level".into(),
            );
        }
        let mut levels = Vec::new();
        let mut seen = BTreeSet::new();
        let not_rated_given = scale.not_rated;
        for (i, level) in scale.levels.into_iter().enumerate() {
            if !SENTIMENTS.contains(&level.sentiment.as_str()) {
                push(
                    format!("{key}.levels[{i}].sentiment"),
                    format!(
                        "'{}' is not one of {}",
                        level.sentiment,
                        SENTIMENTS.join(", ")
                    ),
                );
            }
            let mut values: Vec<String> = level
                .values
                .iter()
                .chain(std::iter::once(&level.label))
                .map(|v| normalise_value(v))
                .collect();
            values.sort();
            values.dedup();
            for v in &values {
                if !seen.insert(v.clone()) {
                    push(
                        format!("{key}.levels[{i}].values"),
                        format!("'{v}' is listed under two levels"),
                    );
                }
            }
            levels.push(ScaleLevel {
                label: level.label,
                values,
                score: level.score,
                sentiment: level.sentiment,
            });
        }
        let mut not_rated: Vec<NotRated> = Vec::new();
        for label in not_rated_given {
            let value = normalise_value(&label);
            // "Don't know" and "don't  KNOW" are one answer: the first spelling labels it.
            if !not_rated.iter().any(|n| n.value == value) {
                not_rated.push(NotRated { label, value });
            }
        }
        for v in not_rated.iter().map(|n| &n.value) {
            if seen.contains(v) {
                push(
                    format!("{key}.not_rated"),
                    format!("'{v}' is a level's answer too: an answer is a rating or not"),
                );
            }
        }
        let mut not_answered: Vec<String> = scale
            .not_answered
            .iter()
            .map(|v| normalise_value(v))
            .collect();
        not_answered.sort();
        not_answered.dedup();
        for v in &not_answered {
            if seen.contains(v) || not_rated.iter().any(|n| n.value == *v) {
                push(
                    format!("{key}.not_answered"),
                    format!("'{v}' is an answer of the scale too: a code is a blank or an answer"),
                );
            }
        }
        scales.insert(
            name.clone(),
            RatingScale {
                name: name.clone(),
                levels,
                not_rated,
                not_answered,
            },
        );
    }
    scales
}

/// Validates one `[demographics.<name>]`: its categories, their synonyms and refusals.
pub(super) fn resolve_demographic(
    name: String,
    d: RawDemographic,
    push: &mut impl FnMut(String, String),
) -> DemographicField {
    let key = format!("demographics.{name}");
    let mut values = Vec::new();
    let mut seen = BTreeMap::new();
    let mut add = |raw: &str, category: &str, push: &mut dyn FnMut(String, String)| {
        let n = normalise_value(raw);
        match seen.get(&n) {
            Some(existing) if existing != category => push(
                key.clone(),
                format!("'{raw}' maps to both '{existing}' and '{category}'"),
            ),
            Some(_) => {}
            None => {
                seen.insert(n.clone(), category.to_string());
                values.push((n, category.to_string()));
            }
        }
    };
    if d.categories.is_empty() {
        push(
            format!("{key}.categories"),
            "list the answer categories".into(),
        );
    }
    for c in &d.categories {
        add(c, c, push);
    }
    for (category, raws) in &d.synonyms {
        if !d.categories.contains(category) {
            push(
                format!("{key}.synonyms.{category}"),
                format!("'{category}' is not one of this field's categories"),
            );
        }
        for r in raws {
            add(r, category, push);
        }
    }
    for r in d
        .prefer_not_to_say
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(crate::model::PREFER_NOT_TO_SAY))
    {
        add(r, crate::model::PREFER_NOT_TO_SAY, push);
    }
    for r in &d.not_answered {
        add(r, crate::model::NOT_ANSWERED, push);
    }
    let unrecognised = match d.unrecognised.as_deref() {
        None | Some("reject") => None,
        Some(label) => Some(label.to_string()),
    };
    DemographicField {
        label: d.label.unwrap_or_else(|| name.replace('_', " ")),
        name,
        categories: d.categories,
        values,
        unrecognised,
    }
}

/// A source's `rating_scale`: required by satisfaction sources, refused by the others.
pub(super) fn source_rating_scale(
    named: Option<&String>,
    kind: SourceKind,
    scales: &BTreeMap<String, RatingScale>,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> Option<RatingScale> {
    match (named, kind) {
        (Some(name), SourceKind::Satisfaction) => match scales.get(name) {
            Some(scale) => Some(scale.clone()),
            None => {
                push(
                    format!("{key}.rating_scale"),
                    format!("no [scales.{name}] is defined"),
                );
                None
            }
        },
        (None, SourceKind::Satisfaction) => {
            push(
                format!("{key}.rating_scale"),
                "a satisfaction source needs `rating_scale` naming a [scales.*] table".into(),
            );
            None
        }
        (Some(_), _) => {
            push(
                format!("{key}.rating_scale"),
                "only satisfaction sources have ratings".into(),
            );
            None
        }
        (None, _) => None,
    }
}

/// A source's `[sources.demographics]`: (field, column) pairs, each field a `[demographics.*]`.
pub(super) fn source_demographics(
    raw: BTreeMap<String, String>,
    demographics: &[DemographicField],
    key: &str,
    push: &mut impl FnMut(String, String),
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (field, column) in raw {
        if demographics.iter().any(|d| d.name == field) {
            out.push((field, column));
        } else {
            push(
                format!("{key}.demographics.{field}"),
                format!("no [demographics.{field}] is defined"),
            );
        }
    }
    out
}
