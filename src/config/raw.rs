//! The pipeline file exactly as written (`pipelines/*.toml`): serde types that reject unknown keys.
//! No meaning is given here; `config::resolve` turns these into the typed `Pipeline`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A value that may be written as one string or a list of strings (`wait = "Wait"` or
/// `handle = ["Talk", "Wrap"]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub name: String,
    pub organisation: String,
    #[serde(default)]
    pub timezone: Option<String>,
    pub lake: String,
    pub output: String,
    #[serde(default)]
    pub quality: RawQuality,
    #[serde(default)]
    pub scales: BTreeMap<String, RawScale>,
    #[serde(default)]
    pub demographics: BTreeMap<String, RawDemographic>,
    #[serde(default)]
    pub sources: Vec<RawSource>,
    #[serde(default)]
    pub kpi: Option<super::kpi::RawKpi>,
    #[serde(default)]
    pub equality: Option<RawEquality>,
    #[serde(default)]
    pub report: Option<super::report::RawReport>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEquality {
    pub suppression_threshold: Option<i64>,
    pub confidence: Option<f64>,
    /// A difference is flagged significant where its corrected p-value is below this.
    pub significance: Option<f64>,
    pub correction: Option<String>,
    /// Compare with this group rather than with the rest, per field: { age_band = "35-44" }.
    #[serde(default)]
    pub reference: BTreeMap<String, String>,
    /// A CSV of the population by group (field, group, population), relative to the pipeline file.
    pub population: Option<String>,
    #[serde(default)]
    pub breakdowns: Vec<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    pub warn_reject_share: Option<f64>,
    pub fail_reject_share: Option<f64>,
    pub fail_on_unmapped_service: Option<bool>,
    pub fail_on_empty_file: Option<bool>,
    pub warn_duplicate_share: Option<f64>,
    pub fail_duplicate_share: Option<f64>,
    pub earliest_date: Option<String>,
    pub future_days: Option<u32>,
    pub max_duration_hours: Option<f64>,
    pub max_count: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScale {
    pub levels: Vec<RawScaleLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScaleLevel {
    pub label: String,
    #[serde(default)]
    pub values: Vec<String>,
    pub score: f64,
    pub sentiment: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDemographic {
    #[serde(default)]
    pub label: Option<String>,
    pub categories: Vec<String>,
    #[serde(default)]
    pub synonyms: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub prefer_not_to_say: Vec<String>,
    /// `"reject"` (default) or a label to file unrecognised answers under.
    #[serde(default)]
    pub unrecognised: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub name: String,
    pub kind: String,
    pub files: OneOrMany,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub delimiter: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub timestamp_formats: Vec<String>,
    #[serde(default)]
    pub date_formats: Vec<String>,
    #[serde(default)]
    pub time_formats: Vec<String>,
    #[serde(default)]
    pub durations: Option<String>,
    /// Interval exports: the threshold their "answered within" count uses, in seconds.
    #[serde(default)]
    pub interval_threshold_seconds: Option<f64>,
    #[serde(default)]
    pub default_outcome: Option<String>,
    #[serde(default)]
    pub rating_scale: Option<String>,
    #[serde(default)]
    pub comments: Option<String>,
    /// How duplicate rows are recognised: key | exact_row | none.
    #[serde(default)]
    pub duplicates: Option<String>,
    pub columns: RawColumns,
    #[serde(default)]
    pub service: Option<RawService>,
    #[serde(default)]
    pub outcomes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub channels: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub resolved_first_contact: Option<RawYesNo>,
    #[serde(default)]
    pub demographics: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumns {
    pub record_id: Option<String>,
    pub organisation: Option<String>,
    pub timestamp: Option<String>,
    pub date: Option<String>,
    pub time: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub outcome: Option<String>,
    pub wait: Option<OneOrMany>,
    pub answered: Option<String>,
    pub abandoned: Option<String>,
    pub callbacks: Option<String>,
    pub answered_within: Option<String>,
    pub short_abandons: Option<String>,
    pub handle: Option<OneOrMany>,
    pub resolved_first_contact: Option<String>,
    pub location: Option<String>,
    pub device: Option<String>,
    pub rating: Option<String>,
    pub comment: Option<String>,
    pub postcode: Option<String>,
    /// Pre-aggregated rows: how many contacts each row stands for.
    pub count: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// CSV file (relative to the pipeline file): first column the raw category, second the service.
    pub lookup: Option<String>,
    /// Inline mapping, service -> raw categories.
    #[serde(default)]
    pub values: BTreeMap<String, Vec<String>>,
    /// Service to record when the category is blank (e.g. "Unspecified"); blank is rejected otherwise.
    pub when_blank: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawYesNo {
    pub yes: Vec<String>,
    pub no: Vec<String>,
}
