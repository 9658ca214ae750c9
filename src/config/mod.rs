//! The pipeline file: loading, validation and the typed `Pipeline` every stage is driven by.
//! Validation collects every problem at once, each naming the file and the key; nothing here reads data.
//!
//! This file owns the `Pipeline`, its errors and the top-level resolution; each part of the file
//! is resolved in its own module (`source` and its `columns`, `survey`, `equality`, `kpi`,
//! `report`, `paths`; `schema` documents the file from its types), and what they define is re-exported here as `crate::config::X`.

pub mod avoidable;
mod columns;
pub mod customers;
mod equality;
pub mod kpi;
mod names;
mod path_fields;
mod paths;
mod raw;
pub mod report;
mod rows;
pub mod schema;
mod source;
mod survey;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use raw::RawPipeline;

pub use columns::{ChannelSpec, ColumnMap, ServiceMapping};
pub use equality::{check_breakdown, Correction, EqualityConfig, SurveyPublication};
pub use path_fields::{is_virtual_column, Captured, PathFields, PATH_DATE};
pub use paths::glob_folder;
pub use paths::{lexical, relative_to};
pub use rows::{RowMatch, RowRule};
pub use source::{
    CommentPolicy, Duplicates, DurationUnit, Encoding, FileFormat, SourceDef, SourceKind,
};
pub use source::{WideSpec, WIDE_ANSWER, WIDE_COLUMN, WIDE_HELPERS, WIDE_QUESTION};
pub use survey::{DemographicField, NotRated, RatingScale, ScaleLevel};

/// One thing wrong with a pipeline file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

/// Every problem found in one pipeline file.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{} has {} problem{}",
            self.file.display(),
            n,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            if p.key.is_empty() {
                write!(f, "\n  - {}", p.message)?;
            } else {
                write!(f, "\n  - {}: {}", p.key, p.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Per-file quality gates, and what a value must be to be believed (`[quality]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityGates {
    pub warn_reject_share: f64,
    pub fail_reject_share: f64,
    pub fail_on_unmapped_service: bool,
    /// A file with a header and no rows stops the run (exit 4) rather than warning.
    pub fail_on_empty_file: bool,
    /// Warn when more than this share of a file's rows are duplicates of rows already taken.
    pub warn_duplicate_share: f64,
    /// Stop the run (nothing written) when more than this share of a file's rows are duplicates.
    pub fail_duplicate_share: f64,
    /// Rows dated before this day are rejected `implausible_date`. Default: five years before
    /// the earliest financial year the KPIs name, or 1 January 2000 when they name none.
    pub earliest_date: chrono::NaiveDate,
    /// Rows dated more than this many days after the run's day are rejected `implausible_date`.
    pub future_days: u32,
    /// Waits and handle times above this (or not finite) are rejected `implausible_duration`.
    pub max_duration_seconds: f64,
    /// Counts above this in one row are rejected `implausible_count`.
    pub max_count: f64,
}

/// The earliest day believed when nothing else says: 1 January 2000.
pub const EARLIEST_DATE: (i32, u32, u32) = (2000, 1, 1);
/// How many years before the earliest KPI year rows are still believed.
pub const EARLIEST_SLACK_YEARS: i32 = 5;

impl Default for QualityGates {
    fn default() -> Self {
        let (y, m, d) = EARLIEST_DATE;
        QualityGates {
            warn_reject_share: 0.01,
            fail_reject_share: 0.05,
            fail_on_unmapped_service: true,
            fail_on_empty_file: false,
            warn_duplicate_share: 0.2,
            fail_duplicate_share: 1.0,
            earliest_date: chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default(),
            future_days: 1,
            max_duration_seconds: 86_400.0,
            max_count: 1_000_000.0,
        }
    }
}

/// A validated pipeline file.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub file: PathBuf,
    pub name: String,
    pub organisation: String,
    pub timezone: String,
    /// The month the financial year starts in, and the names of its years.
    pub calendar: crate::period::Calendar,
    pub lake_dir: PathBuf,
    pub output_dir: PathBuf,
    pub quality: QualityGates,
    pub demographics: Vec<DemographicField>,
    pub sources: Vec<SourceDef>,
    pub kpi: kpi::KpiConfig,
    pub equality: EqualityConfig,
    /// Which channels are digital and which assisted (`[channels]`).
    pub channels: ChannelConfig,
    /// The question (service) whose answers every satisfaction and equality table uses
    /// (`[survey] overall_question`); none: every answer.
    pub overall_question: Option<String>,
    pub report: report::ReportConfig,
    /// Customer keys' secret and the repeat windows (`[customers]`).
    pub customers: customers::CustomerConfig,
    /// Avoidable contact (`[avoidable]`): none when the section is absent.
    pub avoidable: Option<avoidable::AvoidableConfig>,
}

impl Pipeline {
    /// Reads and validates a pipeline file; every problem is reported at once.
    pub fn load(path: &Path) -> Result<Pipeline, ConfigError> {
        let fail = |key: &str, message: String| ConfigError {
            file: path.to_path_buf(),
            problems: vec![Problem {
                key: key.to_string(),
                message,
            }],
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail("", format!("cannot read the pipeline file: {e}")))?;
        let raw: RawPipeline = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let before = text.get(..s.start).unwrap_or(&text);
                    let line = before.matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            fail("", format!("{}{at}", e.message()))
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut problems = Vec::new();
        let pipeline = resolve(raw, path, &base, &mut problems);
        if problems.is_empty() {
            Ok(pipeline)
        } else {
            Err(ConfigError {
                file: path.to_path_buf(),
                problems,
            })
        }
    }

    pub fn source(&self, name: &str) -> Option<&SourceDef> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// Whether a survey source's scale lists answers that are not a rating (`not_rated`): the
    /// satisfaction tables then publish a `not_rated` count beside each group's rated N.
    pub fn counts_not_rated(&self) -> bool {
        self.survey_scales()
            .any(|scale| !scale.not_rated.is_empty())
    }

    /// What "satisfied" means on this pipeline's survey scales, for chart titles and axes: the
    /// labels of the positive levels ("Good"; "Very satisfied or Satisfied") when every scale a
    /// survey source reads has the same ones, otherwise "positive answers" (a share satisfied is
    /// positive / N whatever the labels).
    pub fn satisfied_wording(&self) -> String {
        let positive = |scale: &RatingScale| -> Vec<String> {
            scale
                .levels
                .iter()
                .filter(|l| l.sentiment == crate::model::SENTIMENTS[0])
                .map(|l| l.label.clone())
                .collect()
        };
        let mut lists = self.survey_scales().map(positive);
        match lists.next() {
            Some(first) if !first.is_empty() && lists.all(|l| l == first) => first.join(" or "),
            _ => "positive answers".to_string(),
        }
    }

    /// Every scale a survey source reads answers on: its `rating_scale`, then its wide
    /// questions' own scales.
    fn survey_scales(&self) -> impl Iterator<Item = &RatingScale> {
        self.sources.iter().flat_map(|s| {
            s.rating_scale.iter().chain(
                s.wide
                    .iter()
                    .flat_map(|w| w.scales.iter().map(|(_, scale)| scale)),
            )
        })
    }

    /// Every survey scale's answers that are not a rating, each once (by its normalised value),
    /// in the order the survey sources' scales list them: the rows `satisfaction_ratings` gives
    /// them.
    pub fn not_rated_answers(&self) -> Vec<NotRated> {
        let mut answers: Vec<NotRated> = Vec::new();
        for scale in self.survey_scales() {
            for answer in &scale.not_rated {
                if !answers.iter().any(|a| a.value == answer.value) {
                    answers.push(answer.clone());
                }
            }
        }
        answers
    }
}

/// Turns the raw file into a typed pipeline, pushing every problem found.
fn resolve(raw: RawPipeline, file: &Path, base: &Path, problems: &mut Vec<Problem>) -> Pipeline {
    let mut push = |key: String, message: String| problems.push(Problem { key, message });

    if raw.name.trim().is_empty() {
        push("name".into(), "must not be empty".into());
    }
    let timezone = raw.timezone.unwrap_or_else(|| "Europe/London".to_string());
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        push(
            "timezone".into(),
            format!("'{timezone}' is not an IANA time zone (e.g. Europe/London)"),
        );
    }
    let calendar = match raw.financial_year_start.as_deref() {
        None => crate::period::Calendar::APRIL,
        Some(name) => crate::period::Calendar::starting_in(name).unwrap_or_else(|| {
            push(
                "financial_year_start".into(),
                format!("'{name}' is not a month: give its name in English, e.g. April or July"),
            );
            crate::period::Calendar::APRIL
        }),
    };
    let raw_quality = raw.quality;
    let scales = survey::resolve_scales(raw.scales, &mut push);
    let demographics: Vec<DemographicField> = raw
        .demographics
        .into_iter()
        .map(|(name, d)| survey::resolve_demographic(name, d, &mut push))
        .collect();

    let cx = source::SourceContext {
        base,
        organisation: &raw.organisation,
        timezone: &timezone,
        scales: &scales,
        demographics: &demographics,
    };
    let mut sources = Vec::new();
    let mut names = BTreeSet::new();
    for (i, s) in raw.sources.into_iter().enumerate() {
        let key = format!("sources[{i}] ({})", s.name);
        if !names.insert(s.name.clone()) {
            push(format!("{key}.name"), "two sources share this name".into());
        }
        if let Some(src) = source::resolve_source(s, &key, &cx, &mut push) {
            sources.push(src);
        }
    }
    if names.is_empty() {
        push("sources".into(), "the pipeline has no [[sources]]".into());
    }
    let overall_question = raw
        .survey
        .and_then(|s| s.overall_question)
        .map(|q| q.trim().to_string());
    if overall_question.as_deref() == Some("") {
        push(
            "survey.overall_question".into(),
            "name the question (its service) that stands for overall satisfaction".into(),
        );
    }
    if overall_question.is_none() {
        if let Some(wide) = sources
            .iter()
            .find(|s| s.wide.is_some() && s.kind == SourceKind::Satisfaction)
        {
            push(
                "survey.overall_question".into(),
                format!(
                    "source '{}' is a wide survey (several answers per respondent): name the question that stands for overall satisfaction, so that each respondent is counted once",
                    wide.name
                ),
            );
        }
    }
    let channels = resolve_channels(raw.channels, &mut push);
    let kpi = kpi::resolve(raw.kpi, calendar, &mut push);
    let quality = resolve_quality(raw_quality, &kpi, calendar, &mut push);
    let equality = equality::resolve_equality(raw.equality, &demographics, base, &mut push);
    let report = report::resolve(raw.report, &mut push);
    let customers = customers::resolve(raw.customers, base, &mut push);
    let keyed: Vec<(String, bool)> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("sources[{i}] ({})", s.name), s.customer.any()))
        .collect();
    customers::check_secret(&customers, &keyed, &mut push);
    let windows: &[u32] = if keyed.iter().any(|(_, k)| *k) {
        &customers.repeat_days
    } else {
        &[]
    };
    let reasons = sources.iter().any(|s| s.columns.reason.is_some());
    let avoidable = avoidable::resolve(raw.avoidable, calendar, windows, reasons, &mut push);
    check_interval_thresholds(&sources, &kpi, &mut push);
    let (lake_dir, output_dir) = (
        paths::beside(base, raw.lake),
        paths::beside(base, raw.output),
    );
    let exports: Vec<(String, String)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.files
                .iter()
                .map(move |f| (format!("sources[{i}] ({}).files", s.name), f.clone()))
        })
        .collect();
    paths::check_places(&lake_dir, &output_dir, &exports, &mut push);

    Pipeline {
        file: file.to_path_buf(),
        name: raw.name,
        organisation: raw.organisation,
        timezone,
        calendar,
        lake_dir,
        output_dir,
        quality,
        demographics,
        sources,
        kpi,
        equality,
        channels,
        overall_question,
        report,
        customers,
        avoidable,
    }
}

/// Which channels are digital self-service and which assisted, and what they are called.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    pub digital: Vec<crate::model::Channel>,
    pub assisted: Vec<crate::model::Channel>,
    /// Names charts and the report give channels, where the pipeline sets them.
    pub labels: BTreeMap<crate::model::Channel, String>,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            digital: crate::model::Channel::DEFAULT_DIGITAL.to_vec(),
            assisted: crate::model::Channel::DEFAULT_ASSISTED.to_vec(),
            labels: BTreeMap::new(),
        }
    }
}

impl ChannelConfig {
    /// What charts and the report call the channel `code` (a text that is no channel, such as
    /// a service name, is put in words the same way).
    pub fn label(&self, code: &str) -> String {
        crate::model::Channel::parse(code)
            .and_then(|ch| self.labels.get(&ch).cloned())
            .unwrap_or_else(|| crate::model::channel_name(code))
    }

    pub fn digital_names(&self) -> Vec<String> {
        self.digital
            .iter()
            .map(|c| c.as_str().to_string())
            .collect()
    }

    pub fn assisted_names(&self) -> Vec<String> {
        self.assisted
            .iter()
            .map(|c| c.as_str().to_string())
            .collect()
    }
}

/// `[channels]`: names known, each list non-empty, no channel both digital and assisted.
fn resolve_channels(
    raw: Option<raw::RawChannels>,
    push: &mut impl FnMut(String, String),
) -> ChannelConfig {
    let raw = raw.unwrap_or_default();
    let defaults = ChannelConfig::default();
    let mut list = |names: Option<Vec<String>>, key: &str, default: Vec<crate::model::Channel>| {
        let Some(names) = names else {
            return default;
        };
        let mut out = Vec::new();
        for n in &names {
            match crate::model::Channel::parse(n.trim()) {
                Some(ch) if !out.contains(&ch) => out.push(ch),
                Some(_) => {}
                None => push(
                    key.to_string(),
                    format!(
                        "'{n}' is not a channel; use {}",
                        crate::model::Channel::ALL
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
        if out.is_empty() {
            push(key.to_string(), "list at least one channel".into());
            return default;
        }
        out
    };
    let digital = list(raw.digital, "channels.digital", defaults.digital);
    let assisted = list(raw.assisted, "channels.assisted", defaults.assisted);
    for ch in &digital {
        if assisted.contains(ch) {
            push(
                "channels".into(),
                format!(
                    "'{}' is both digital and assisted: list it once",
                    ch.as_str()
                ),
            );
        }
    }
    let mut labels = BTreeMap::new();
    for (name, label) in raw.labels {
        match crate::model::Channel::parse(name.trim()) {
            Some(_) if label.trim().is_empty() => push(
                format!("channels.labels.{name}"),
                "give the channel a name, or leave it out".into(),
            ),
            Some(ch) => {
                labels.insert(ch, label.trim().to_string());
            }
            None => push(
                format!("channels.labels.{name}"),
                format!("'{name}' is not a channel"),
            ),
        }
    }
    ChannelConfig {
        digital,
        assisted,
        labels,
    }
}

/// `[quality]`: the defaults where a gate is not set; shares must be between 0 and 1, limits
/// positive, the earliest date no earlier than 1900.
fn resolve_quality(
    q: raw::RawQuality,
    kpi: &kpi::KpiConfig,
    calendar: crate::period::Calendar,
    push: &mut impl FnMut(String, String),
) -> QualityGates {
    let defaults = QualityGates::default();
    let from_kpis = kpi
        .channel_shift
        .iter()
        .flat_map(|k| std::iter::once(k.baseline_fy).chain(k.applies_to.iter().copied()))
        .min()
        .and_then(|fy| {
            let month = calendar.start_month() as u32;
            chrono::NaiveDate::from_ymd_opt(fy - EARLIEST_SLACK_YEARS, month, 1)
        });
    let earliest_date = match q.earliest_date.as_deref() {
        Some(text) => match chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(d) if chrono::Datelike::year(&d) >= 1900 => d,
            Ok(_) => {
                push(
                    "quality.earliest_date".into(),
                    format!("'{text}' is before 1900; give the first day your exports can hold"),
                );
                defaults.earliest_date
            }
            Err(_) => {
                push(
                    "quality.earliest_date".into(),
                    format!("'{text}' is not a date like 2015-04-01"),
                );
                defaults.earliest_date
            }
        },
        None => from_kpis.unwrap_or(defaults.earliest_date),
    };
    let quality = QualityGates {
        warn_reject_share: q.warn_reject_share.unwrap_or(defaults.warn_reject_share),
        fail_reject_share: q.fail_reject_share.unwrap_or(defaults.fail_reject_share),
        fail_on_unmapped_service: q
            .fail_on_unmapped_service
            .unwrap_or(defaults.fail_on_unmapped_service),
        fail_on_empty_file: q.fail_on_empty_file.unwrap_or(defaults.fail_on_empty_file),
        warn_duplicate_share: q
            .warn_duplicate_share
            .unwrap_or(defaults.warn_duplicate_share),
        fail_duplicate_share: q
            .fail_duplicate_share
            .unwrap_or(defaults.fail_duplicate_share),
        earliest_date,
        future_days: q.future_days.unwrap_or(defaults.future_days),
        max_duration_seconds: q
            .max_duration_hours
            .map(|h| h * 3600.0)
            .unwrap_or(defaults.max_duration_seconds),
        max_count: q.max_count.unwrap_or(defaults.max_count),
    };
    for (key, v) in [
        ("quality.max_duration_hours", quality.max_duration_seconds),
        ("quality.max_count", quality.max_count),
    ] {
        if !(v.is_finite() && v > 0.0) {
            push(key.into(), format!("{v} must be a positive number"));
        }
    }
    for (key, v) in [
        ("quality.warn_reject_share", quality.warn_reject_share),
        ("quality.fail_reject_share", quality.fail_reject_share),
        ("quality.warn_duplicate_share", quality.warn_duplicate_share),
        ("quality.fail_duplicate_share", quality.fail_duplicate_share),
    ] {
        if !(0.0..=1.0).contains(&v) {
            push(
                key.into(),
                format!("{v} is not a share between 0 and 1 (1% is 0.01)"),
            );
        }
    }
    quality
}

/// An interval export counts "answered within T" for one T; the KPIs must use the same.
fn check_interval_thresholds(
    sources: &[SourceDef],
    kpi: &kpi::KpiConfig,
    push: &mut impl FnMut(String, String),
) {
    for s in sources {
        if let Some(t) = s.interval_threshold_seconds {
            if (t - kpi.service_level_seconds).abs() > f64::EPSILON {
                push(
                    format!("sources ({}).interval_threshold_seconds", s.name),
                    format!(
                        "{t} s differs from kpi.service_level_seconds ({} s): the export's count cannot give that service level",
                        kpi.service_level_seconds
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn channels_are_one_definition_checked_by_name() {
        let mut problems = Vec::new();
        let cfg = resolve_channels(
            Some(raw::RawChannels {
                digital: Some(vec!["web".into(), "app".into(), "carrier pigeon".into()]),
                assisted: Some(vec!["telephone".into(), "app".into()]),
                labels: [
                    ("web".to_string(), "Online forms".to_string()),
                    ("fax".to_string(), "Fax".to_string()),
                ]
                .into(),
            }),
            &mut |k, m| problems.push(format!("{k}: {m}")),
        );
        assert_eq!(cfg.digital_names(), ["web", "app"]);
        assert!(problems[0].starts_with("channels.digital: 'carrier pigeon' is not a channel"));
        assert!(problems[1].contains("'app' is both digital and assisted"));
        assert_eq!(problems[2], "channels.labels.fax: 'fax' is not a channel");
        // A label where one is set, the channel's name in words otherwise.
        assert_eq!(cfg.label("web"), "Online forms");
        assert_eq!(cfg.label("face_to_face"), "Face to face");
        assert_eq!(
            resolve_channels(None, &mut |_, _| {}),
            ChannelConfig::default()
        );
    }

    use super::*;
    use crate::model::Channel;

    fn load_str(text: &str) -> Result<Pipeline, ConfigError> {
        let dir = tempfile::tempdir().map_err(|e| ConfigError {
            file: PathBuf::new(),
            problems: vec![Problem {
                key: String::new(),
                message: e.to_string(),
            }],
        })?;
        let path = dir.path().join("p.toml");
        std::fs::write(&path, text).map_err(|e| ConfigError {
            file: path.clone(),
            problems: vec![Problem {
                key: String::new(),
                message: e.to_string(),
            }],
        })?;
        Pipeline::load(&path)
    }

    const MINIMAL: &str = r#"
name = "t"
organisation = "Org"
lake = "lake"
output = "out"
[[sources]]
name = "calls"
kind = "calls"
files = "data/*.csv"
timestamp_formats = ["%d/%m/%Y %H:%M:%S"]
[sources.columns]
timestamp = "When"
category = "Queue"
outcome = "Result"
[sources.service]
values = { Housing = ["HSG"] }
[sources.outcomes]
answered = ["Answered"]
"#;

    /// "Satisfied" is worded from the scales: GovMetric's Good, the labels of Toronto's positive
    /// levels, and "positive answers" where SFO's two scales (1-5 and 0-10) differ.
    #[test]
    fn satisfied_is_worded_from_the_scales_positive_levels() {
        let wording = |path: &str| match Pipeline::load(Path::new(path)) {
            Ok(p) => p.satisfied_wording(),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(wording("pipelines/sample.toml"), "Good");
        let toronto = wording("tests/realdata/toronto_per_survey/pipeline.toml");
        assert!(toronto.contains(" or "), "{toronto}");
        assert_eq!(
            wording("tests/realdata/sfo_customer_survey/pipeline.toml"),
            "positive answers"
        );
    }

    #[test]
    fn minimal_pipeline_loads_with_defaults() {
        let p = match load_str(MINIMAL) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.timezone, "Europe/London");
        assert_eq!(p.quality, QualityGates::default());
        let s = &p.sources[0];
        assert_eq!(s.kind, SourceKind::Calls);
        assert!(matches!(s.channel, ChannelSpec::Fixed(Channel::Telephone)));
        assert_eq!(
            s.service.values,
            vec![("hsg".to_string(), "Housing".to_string())]
        );
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = MINIMAL.replace("lake = \"lake\"", "lake = \"lake\"\nlakes = 3");
        let err = load_str(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown field `lakes`"), "{err}");
        assert!(err.contains("line 5"), "{err}");
    }

    fn problems_of(text: &str) -> Vec<String> {
        match load_str(text) {
            Ok(_) => panic!("should fail"),
            Err(e) => e
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.key, p.message))
                .collect(),
        }
    }

    #[test]
    fn a_bad_name_is_one_problem_listing_every_accepted_name() {
        let text = MINIMAL.replace("kind = \"calls\"", "kind = \"call\"");
        assert_eq!(
            problems_of(&text),
            [
                "sources[0] (calls).kind: 'call' is not a source kind; use calls, call_intervals, \
              visits, webforms, contacts or satisfaction"
            ]
        );
        let text = MINIMAL.replace(
            "kind = \"calls\"",
            "kind = \"calls\"\nformat = \"parquet\"\nencoding = \"UTF-16\"\n\
             durations = \"fortnights\"\ncomments = \"shout\"",
        ) + "[equality]\ncorrection = \"bonferroni\"\n";
        assert_eq!(
            problems_of(&text),
            [
                "sources[0] (calls).format: 'parquet' is not csv or xlsx",
                "sources[0] (calls).encoding: 'utf-16' is not auto, utf-8 or windows-1252",
                "sources[0] (calls).durations: 'fortnights' is not seconds, minutes or hh:mm:ss",
                "sources[0] (calls).comments: 'shout' is not scrub or drop",
                "equality.correction: 'bonferroni' is not holm or benjamini_hochberg",
            ]
        );
    }

    #[test]
    fn synonyms_and_defaults_of_named_settings() {
        let p = match load_str(&MINIMAL.replace(
            "kind = \"calls\"",
            "kind = \"calls\"\nencoding = \"Latin1\"\ndurations = \"clock\"\n\
             comments = \"drop\"\nformat = \"xlsx\"",
        )) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let s = &p.sources[0];
        assert_eq!(s.encoding, Encoding::Windows1252);
        assert_eq!(s.durations, DurationUnit::Clock);
        assert_eq!(s.comments, CommentPolicy::Drop);
        assert_eq!(s.format, Some(FileFormat::Xlsx));
        assert_eq!(p.equality.correction, Correction::Holm);
        let p = match load_str(&format!("{MINIMAL}[equality]\ncorrection = \"bh\"\n")) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.equality.correction, Correction::BenjaminiHochberg);
        let s = &p.sources[0];
        assert_eq!(s.encoding, Encoding::Auto);
        assert_eq!(s.durations, DurationUnit::Seconds);
        assert_eq!(s.comments, CommentPolicy::Scrub);
        assert_eq!(s.format, None);
    }

    #[test]
    fn when_survey_tables_are_published_is_a_setting_with_a_limit() {
        let p = match load_str(MINIMAL) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.equality.survey_publication, SurveyPublication::EachPeriod);
        assert_eq!(p.equality.max_earlier_publications, 2);
        let p = match load_str(&format!(
            "{MINIMAL}[equality]\nsurvey_publication = \"year_only\"\nmax_earlier_publications = 0\n"
        )) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.equality.survey_publication, SurveyPublication::YearOnly);
        assert_eq!(p.equality.max_earlier_publications, 0);
        let err = match load_str(&format!(
            "{MINIMAL}[equality]\nsurvey_publication = \"monthly\"\n"
        )) {
            Ok(_) => panic!("an unknown setting is refused"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("equality.survey_publication")
                && err.contains("each_period")
                && err.contains("year_only"),
            "{err}"
        );
        assert!(load_str(&format!(
            "{MINIMAL}[equality]\nmax_earlier_publications = -1\n"
        ))
        .is_err());
    }

    #[test]
    fn kpi_settings_are_named_from_their_tables() {
        let with_kpi = |extra: &str| {
            format!(
                "{MINIMAL}[kpi]\n{extra}\n[[kpi.channel_shift]]\nname = \"Calls\"\n\
                 channel = \"telephone\"\nbaseline = \"2022/23\"\ntarget_change_pct = -5.0\n\
                 direction = \"decrease\"\n"
            )
        };
        let p = match load_str(&with_kpi(
            "service_level = \"genesys\"\ntakeup_telephone = \"answered\"",
        )) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.kpi.service_level, kpi::ServiceLevel::Genesys);
        assert_eq!(p.kpi.takeup_telephone, kpi::TakeupTelephone::Answered);
        assert_eq!(p.kpi.abandonment, kpi::Abandonment::Plain);
        assert_eq!(p.kpi.channel_shift[0].direction, kpi::Direction::Reduction);
        assert_eq!(p.kpi.channel_shift[0].direction.as_str(), "reduction");
        assert_eq!(
            problems_of(&with_kpi(
                "abandonment = \"short\"\nservice_level = \"nice\""
            )),
            [
                "kpi.service_level: 'nice' is not plain, genesys or amazon_connect",
                "kpi.abandonment: 'short' is not plain or excluding_short",
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = MINIMAL
            .replace("kind = \"calls\"", "kind = \"calls\"\nchannel = \"pigeon\"")
            .replace("answered = [", "hung_up = [")
            .replace("timezone", "tz");
        let err = match load_str(&text) {
            Ok(_) => panic!("should fail"),
            Err(e) => e,
        };
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.iter().any(|k| k.ends_with(".channel")), "{keys:?}");
        assert!(
            keys.iter().any(|k| k.ends_with(".outcomes.hung_up")),
            "{keys:?}"
        );
    }

    #[test]
    fn date_granularity_is_declared_and_wrong_combinations_are_refused() {
        // A quarterly return: quarter labels in a date column, no formats.
        let quarterly = MINIMAL
            .replace("timestamp_formats = [\"%d/%m/%Y %H:%M:%S\"]\n", "")
            .replace("timestamp = \"When\"", "date = \"Quarter\"")
            .replace(
                "kind = \"calls\"",
                "kind = \"calls\"\ndate_granularity = \"quarter\"\nquarter_labels = \"Financial\"",
            );
        match load_str(&quarterly) {
            Ok(p) => {
                let s = &p.sources[0];
                assert_eq!(
                    (s.date_granularity, s.quarter_labels),
                    (
                        crate::granularity::Granularity::Quarter,
                        crate::granularity::QuarterLabels::Financial
                    )
                );
            }
            Err(e) => panic!("{e}"),
        }
        let with = |from: &str, to: &str| problems_of(&quarterly.replace(from, to));
        let key = "sources[0] (calls).date_granularity";
        let problems = with("date = \"Quarter\"", "timestamp = \"Quarter\"");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(key) && p.contains("map the quarter labels as columns.date")),
            "{problems:?}"
        );
        let problems = with(
            "[sources.columns]",
            "date_formats = [\"%Y\"]\n[sources.columns]",
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains(".date_formats: quarter labels are read by cex")),
            "{problems:?}"
        );
        // Survey answers may be dated by a quarter too (no monthly table counts them).
        let problems = with("kind = \"calls\"", "kind = \"satisfaction\"");
        assert!(
            !problems.iter().any(|p| p.contains("date_granularity")),
            "{problems:?}"
        );
        // A date column may name months ("2024-03", "March 2024"), read by cex without
        // date_formats, or hold dates that stand for them.
        if let Err(e) = load_str(&quarterly.replace("\"quarter\"", "\"month\"")) {
            panic!("{e}");
        }
        let problems = problems_of(
            &quarterly
                .replace("\"quarter\"", "\"month\"")
                .replace("date = \"Quarter\"", "timestamp = \"Quarter\""),
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(key) && p.contains("dates a moment, not a month")),
            "{problems:?}"
        );
        // A path giving months with a day granularity, and a quarter in the path undeclared.
        let monthly = MINIMAL
            .replace("timestamp_formats = [\"%d/%m/%Y %H:%M:%S\"]\n", "")
            .replace("timestamp = \"When\"\n", "")
            .replace(
                "kind = \"calls\"",
                "kind = \"calls\"\npath_fields = \"{year}-{month}.csv\"\ndate_granularity = \"day\"",
            );
        let problems = problems_of(&monthly);
        assert!(
            problems.iter().any(|p| p.starts_with(key)
                && p.contains(
                    "path_fields dates the rows by month: set date_granularity = \"month\""
                )),
            "{problems:?}"
        );
        let problems = problems_of(
            &monthly
                .replace("{month}", "Q{quarter}")
                .replace("date_granularity = \"day\"", ""),
        );
        assert!(
            problems.iter().any(|p| p.contains(
                "path_fields: {quarter} dates every row by a quarter: add date_granularity = \"quarter\""
            )),
            "{problems:?}"
        );
    }

    #[test]
    fn the_default_significance_reads_as_one_minus_the_confidence() {
        // 1 - 0.95 in floating point is 0.050000000000000044, which a report printed as such.
        for (confidence, want) in [
            ("", 0.05),
            ("confidence = 0.9\n", 0.1),
            ("confidence = 0.99\n", 0.01),
        ] {
            let text = format!("{MINIMAL}\n[equality]\n{confidence}");
            match load_str(&text) {
                Ok(p) => {
                    assert_eq!(p.equality.significance, want, "{confidence}");
                    assert_eq!(p.equality.significance.to_string(), want.to_string());
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn a_wide_count_export_is_refused_where_its_columns_would_clash() {
        // The calls source maps a category and an outcome column: wide columns whose labels are
        // the category clash with it.
        let wide = |extra: &str| format!("{MINIMAL}[sources.wide]\ncolumns = [\"Phone\"]\n{extra}");
        assert_eq!(
            problems_of(&wide("")),
            ["sources[0] (calls).wide: the columns' labels are the category: do not also map columns.category (or set across = \"channel\")"]
        );
        let fixed = wide("across = \"channel\"\n").replace(
            "kind = \"calls\"",
            "kind = \"calls\"\nchannel = \"telephone\"",
        );
        assert_eq!(
            problems_of(&fixed),
            ["sources[0] (calls).wide: the columns' labels are the channel: give neither `channel` nor columns.channel"]
        );
        let counted = wide("across = \"channel\"\n")
            .replace("[sources.columns]", "[sources.columns]\ncount = \"N\"");
        assert_eq!(
            problems_of(&counted),
            ["sources[0] (calls).wide: a wide count export's values are its counts: do not also map columns.count"]
        );
        // A count is no rating: no question scales.
        assert_eq!(
            problems_of(&wide("across = \"channel\"\nscales = { Phone = \"five\" }\n")),
            ["sources[0] (calls).wide.scales: a wide count export's values are counts, not ratings: remove scales"]
        );
        assert_eq!(
            problems_of(&wide("across = \"sideways\"\n"))[0],
            "sources[0] (calls).wide.across: 'sideways' is not category or channel"
        );
        // Across channels, the labels name channels by themselves unless mapped.
        let p = match load_str(&wide("across = \"channel\"\n")) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let s = &p.sources[0];
        assert_eq!(s.columns.count.as_deref(), Some(WIDE_ANSWER));
        match &s.channel {
            ChannelSpec::Column { column, values } => {
                assert_eq!(column, WIDE_QUESTION);
                assert!(values.contains(&("face to face".to_string(), Channel::FaceToFace)));
                assert!(values.contains(&("telephone".to_string(), Channel::Telephone)));
            }
            other => panic!("{other:?}"),
        }
    }
}
