//! The pipeline file: loading, validation and the typed `Pipeline` every stage is driven by.
//! Validation collects every problem at once, each naming the file and the key; nothing here reads data.

pub mod kpi;
mod raw;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::{Channel, OUTCOMES, SENTIMENTS};
use crate::text::normalise_value;
use raw::{RawDemographic, RawPipeline, RawSource};

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

/// What kind of export a source is; decides the target table and which fields are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Calls,
    /// Telephony totals per interval (15 or 30 minutes) and queue, not per call.
    CallIntervals,
    Visits,
    Webforms,
    /// Any other contact channel (webchat, e-mail...): the channel must be given.
    Contacts,
    Satisfaction,
}

impl SourceKind {
    fn parse(s: &str) -> Option<SourceKind> {
        Some(match s {
            "calls" => SourceKind::Calls,
            "call_intervals" => SourceKind::CallIntervals,
            "visits" => SourceKind::Visits,
            "webforms" => SourceKind::Webforms,
            "contacts" => SourceKind::Contacts,
            "satisfaction" => SourceKind::Satisfaction,
            _ => return None,
        })
    }

    pub fn table(self) -> crate::model::Table {
        match self {
            SourceKind::Satisfaction => crate::model::Table::Responses,
            _ => crate::model::Table::Contacts,
        }
    }

    fn default_channel(self) -> Option<Channel> {
        match self {
            SourceKind::Calls | SourceKind::CallIntervals => Some(Channel::Telephone),
            SourceKind::Visits => Some(Channel::FaceToFace),
            SourceKind::Webforms => Some(Channel::Web),
            SourceKind::Contacts | SourceKind::Satisfaction => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    /// The format a file is in, from the source's setting or else the file's extension.
    pub fn of(path: &Path, configured: Option<FileFormat>) -> Option<FileFormat> {
        configured.or_else(
            || match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
                "csv" | "txt" | "tsv" => Some(FileFormat::Csv),
                "xlsx" | "xlsm" => Some(FileFormat::Xlsx),
                _ => None,
            },
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (with or without BOM) when the bytes are valid UTF-8, else Windows-1252.
    Auto,
    Utf8,
    Windows1252,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Seconds,
    Minutes,
    /// `HH:MM:SS` or `MM:SS` text.
    Clock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentPolicy {
    Scrub,
    Drop,
}

/// Where a row's channel comes from.
#[derive(Debug, Clone)]
pub enum ChannelSpec {
    Fixed(Channel),
    /// A column whose values map (case- and space-insensitively) onto channels.
    Column {
        column: String,
        values: Vec<(String, Channel)>,
    },
}

/// Where a row's service comes from: the category column through a lookup and/or inline values.
#[derive(Debug, Clone, Default)]
pub struct ServiceMapping {
    pub lookup: Option<PathBuf>,
    /// (normalised raw category, service) pairs from the inline table.
    pub values: Vec<(String, String)>,
    pub when_blank: Option<String>,
}

/// The source's columns, by the canonical field they feed.
#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    pub record_id: Option<String>,
    pub organisation: Option<String>,
    pub timestamp: Option<String>,
    pub date: Option<String>,
    pub time: Option<String>,
    pub category: Option<String>,
    pub outcome: Option<String>,
    pub wait: Vec<String>,
    pub handle: Vec<String>,
    /// Interval exports: calls answered, abandoned and called back in the interval, answered
    /// within the threshold, and abandoned within the short-abandon time.
    pub answered: Option<String>,
    pub abandoned: Option<String>,
    pub callbacks: Option<String>,
    pub answered_within: Option<String>,
    pub short_abandons: Option<String>,
    pub resolved_first_contact: Option<String>,
    pub location: Option<String>,
    pub device: Option<String>,
    pub rating: Option<String>,
    pub comment: Option<String>,
    pub postcode: Option<String>,
}

impl ColumnMap {
    /// Every (canonical field, source column) pair, for checking that the file has them.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        let single = [
            ("record_id", &self.record_id),
            ("organisation", &self.organisation),
            ("timestamp", &self.timestamp),
            ("date", &self.date),
            ("time", &self.time),
            ("category", &self.category),
            ("outcome", &self.outcome),
            ("resolved_first_contact", &self.resolved_first_contact),
            ("location", &self.location),
            ("device", &self.device),
            ("rating", &self.rating),
            ("comment", &self.comment),
            ("postcode", &self.postcode),
            ("answered", &self.answered),
            ("abandoned", &self.abandoned),
            ("callbacks", &self.callbacks),
            ("answered_within", &self.answered_within),
            ("short_abandons", &self.short_abandons),
        ];
        for (field, column) in single {
            if let Some(c) = column {
                out.push((field, c.as_str()));
            }
        }
        out.extend(self.wait.iter().map(|c| ("wait", c.as_str())));
        out.extend(self.handle.iter().map(|c| ("handle", c.as_str())));
        out
    }
}

/// A rating scale: raw answers -> label, score and sentiment.
#[derive(Debug, Clone)]
pub struct RatingScale {
    pub name: String,
    pub levels: Vec<ScaleLevel>,
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

/// One export source: which files, how to read them and how their columns map.
#[derive(Debug, Clone)]
pub struct SourceDef {
    pub name: String,
    pub kind: SourceKind,
    /// Glob patterns, already resolved against the pipeline file's folder.
    pub files: Vec<String>,
    pub format: Option<FileFormat>,
    pub sheet: Option<String>,
    pub encoding: Encoding,
    pub delimiter: u8,
    pub organisation: String,
    pub channel: ChannelSpec,
    pub columns: ColumnMap,
    pub timestamp_formats: Vec<String>,
    pub date_formats: Vec<String>,
    pub time_formats: Vec<String>,
    pub durations: DurationUnit,
    pub outcomes: Vec<(String, String)>,
    pub default_outcome: Option<String>,
    pub service: ServiceMapping,
    pub resolved_yes: Vec<String>,
    pub resolved_no: Vec<String>,
    pub rating_scale: Option<RatingScale>,
    /// Interval exports: the threshold of their "answered within" count, in seconds.
    pub interval_threshold_seconds: Option<f64>,
    /// (field name, source column) for each demographic this source carries.
    pub demographics: Vec<(String, String)>,
    pub comments: CommentPolicy,
}

/// Per-file quality gates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityGates {
    pub warn_reject_share: f64,
    pub fail_reject_share: f64,
    pub fail_on_unmapped_service: bool,
}

impl Default for QualityGates {
    fn default() -> Self {
        QualityGates {
            warn_reject_share: 0.01,
            fail_reject_share: 0.05,
            fail_on_unmapped_service: true,
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
    pub lake_dir: PathBuf,
    pub output_dir: PathBuf,
    pub quality: QualityGates,
    pub demographics: Vec<DemographicField>,
    pub sources: Vec<SourceDef>,
    pub kpi: kpi::KpiConfig,
    pub equality: EqualityConfig,
    pub report: report::ReportConfig,
}

/// How equality breakdowns are computed and published.
#[derive(Debug, Clone, PartialEq)]
pub struct EqualityConfig {
    /// Published counts from 1 to below this are suppressed (ONS-style default 10).
    pub suppression_threshold: i64,
    /// Confidence level of the intervals (0.95).
    pub confidence: f64,
    /// Each breakdown: one or two columns (demographic fields, `channel`, `service`).
    pub breakdowns: Vec<Vec<String>>,
    /// How p-values are corrected for the number of groups compared.
    pub correction: crate::equality::stats::Correction,
    /// Population profile to compare respondents with (CSV: field, group, population).
    pub population: Option<PathBuf>,
    /// Per field, the group others are compared with (default: the rest of the respondents).
    pub reference: BTreeMap<String, String>,
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
    let q = raw.quality;
    let defaults = QualityGates::default();
    let quality = QualityGates {
        warn_reject_share: q.warn_reject_share.unwrap_or(defaults.warn_reject_share),
        fail_reject_share: q.fail_reject_share.unwrap_or(defaults.fail_reject_share),
        fail_on_unmapped_service: q
            .fail_on_unmapped_service
            .unwrap_or(defaults.fail_on_unmapped_service),
    };
    for (key, v) in [
        ("quality.warn_reject_share", quality.warn_reject_share),
        ("quality.fail_reject_share", quality.fail_reject_share),
    ] {
        if !(0.0..=1.0).contains(&v) {
            push(
                key.into(),
                format!("{v} is not a share between 0 and 1 (1% is 0.01)"),
            );
        }
    }

    let mut scales = BTreeMap::new();
    for (name, scale) in raw.scales {
        let key = format!("scales.{name}");
        if scale.levels.is_empty() {
            push(
                format!("{key}.levels"),
                "a scale needs at least one level".into(),
            );
        }
        let mut levels = Vec::new();
        let mut seen = BTreeSet::new();
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
        scales.insert(
            name.clone(),
            RatingScale {
                name: name.clone(),
                levels,
            },
        );
    }

    let demographics: Vec<DemographicField> = raw
        .demographics
        .into_iter()
        .map(|(name, d)| resolve_demographic(name, d, &mut push))
        .collect();

    let mut sources = Vec::new();
    let mut names = BTreeSet::new();
    for (i, s) in raw.sources.into_iter().enumerate() {
        let key = format!("sources[{i}] ({})", s.name);
        if !names.insert(s.name.clone()) {
            push(format!("{key}.name"), "two sources share this name".into());
        }
        if let Some(src) = resolve_source(
            s,
            &key,
            base,
            &raw.organisation,
            &scales,
            &demographics,
            &mut push,
        ) {
            sources.push(src);
        }
    }
    if names.is_empty() {
        push("sources".into(), "the pipeline has no [[sources]]".into());
    }
    let kpi = kpi::resolve(raw.kpi, &mut push);
    let equality = resolve_equality(raw.equality, &demographics, base, &mut push);
    let report = report::resolve(raw.report, &mut push);
    // An interval export counts "answered within T" for one T; the KPIs must use the same.
    for s in &sources {
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

    Pipeline {
        file: file.to_path_buf(),
        name: raw.name,
        organisation: raw.organisation,
        timezone,
        lake_dir: lexical(&base.join(raw.lake)),
        output_dir: lexical(&base.join(raw.output)),
        quality,
        demographics,
        sources,
        kpi,
        equality,
        report,
    }
}

fn resolve_equality(
    raw: Option<raw::RawEquality>,
    demographics: &[DemographicField],
    base: &Path,
    push: &mut impl FnMut(String, String),
) -> EqualityConfig {
    use crate::equality::stats::Correction;
    let raw = raw.unwrap_or_default();
    let correction = match raw.correction.as_deref() {
        None | Some("holm") => Correction::Holm,
        Some("benjamini_hochberg") | Some("bh") => Correction::BenjaminiHochberg,
        Some(other) => {
            push(
                "equality.correction".into(),
                format!("'{other}' is not holm or benjamini_hochberg"),
            );
            Correction::Holm
        }
    };
    let population = raw.population.map(|p| lexical(&base.join(p)));
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
    let known = |name: &str| {
        name == "channel" || name == "service" || demographics.iter().any(|d| d.name == name)
    };
    let mut breakdowns = raw.breakdowns;
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
        if b.is_empty() || b.len() > 2 {
            push(
                format!("equality.breakdowns[{i}]"),
                "a breakdown is one or two columns, e.g. [\"age_band\", \"channel\"]".into(),
            );
        }
        for name in b.iter().filter(|n| !known(n)) {
            push(
                format!("equality.breakdowns[{i}]"),
                format!("'{name}' is not a [demographics.*] field, channel or service"),
            );
        }
    }
    for (field, group) in &raw.reference {
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
    EqualityConfig {
        suppression_threshold: threshold,
        confidence,
        breakdowns,
        correction,
        population,
        reference: raw.reference,
    }
}

fn resolve_demographic(
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

#[allow(clippy::too_many_arguments)]
fn resolve_source(
    s: RawSource,
    key: &str,
    base: &Path,
    default_organisation: &str,
    scales: &BTreeMap<String, RatingScale>,
    demographics: &[DemographicField],
    push: &mut impl FnMut(String, String),
) -> Option<SourceDef> {
    let Some(kind) = SourceKind::parse(&s.kind) else {
        push(
            format!("{key}.kind"),
            format!(
                "'{}' is not a source kind; use calls, visits, webforms, contacts or satisfaction",
                s.kind
            ),
        );
        return None;
    };
    let files: Vec<String> = s
        .files
        .into_vec()
        .into_iter()
        .map(|f| lexical(&base.join(f)).to_string_lossy().into_owned())
        .collect();
    if files.is_empty() {
        push(
            format!("{key}.files"),
            "list at least one file or glob".into(),
        );
    }
    let format = match s.format.as_deref() {
        None => None,
        Some("csv") => Some(FileFormat::Csv),
        Some("xlsx") => Some(FileFormat::Xlsx),
        Some(other) => {
            push(
                format!("{key}.format"),
                format!("'{other}' is not csv or xlsx"),
            );
            None
        }
    };
    let encoding = match s.encoding.as_deref().map(|e| e.to_ascii_lowercase()) {
        None => Encoding::Auto,
        Some(e) => match e.as_str() {
            "auto" => Encoding::Auto,
            "utf-8" | "utf8" => Encoding::Utf8,
            "windows-1252" | "cp1252" | "latin1" | "iso-8859-1" => Encoding::Windows1252,
            _ => {
                push(
                    format!("{key}.encoding"),
                    format!("'{e}' is not auto, utf-8 or windows-1252"),
                );
                Encoding::Auto
            }
        },
    };
    let delimiter = match s.delimiter.as_deref() {
        None => b',',
        Some("\\t") | Some("tab") => b'\t',
        Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
        Some(d) => {
            push(
                format!("{key}.delimiter"),
                format!("'{d}' is not a single character"),
            );
            b','
        }
    };
    let durations = match s.durations.as_deref() {
        None | Some("seconds") => DurationUnit::Seconds,
        Some("minutes") => DurationUnit::Minutes,
        Some("clock") | Some("hh:mm:ss") => DurationUnit::Clock,
        Some(other) => {
            push(
                format!("{key}.durations"),
                format!("'{other}' is not seconds, minutes or hh:mm:ss"),
            );
            DurationUnit::Seconds
        }
    };
    let comments = match s.comments.as_deref() {
        None | Some("scrub") => CommentPolicy::Scrub,
        Some("drop") => CommentPolicy::Drop,
        Some(other) => {
            push(
                format!("{key}.comments"),
                format!("'{other}' is not scrub or drop"),
            );
            CommentPolicy::Scrub
        }
    };

    let c = s.columns;
    let columns = ColumnMap {
        record_id: c.record_id,
        organisation: c.organisation,
        timestamp: c.timestamp,
        date: c.date,
        time: c.time,
        category: c.category,
        outcome: c.outcome,
        wait: c.wait.map(|w| w.into_vec()).unwrap_or_default(),
        handle: c.handle.map(|h| h.into_vec()).unwrap_or_default(),
        answered: c.answered,
        abandoned: c.abandoned,
        callbacks: c.callbacks,
        answered_within: c.answered_within,
        short_abandons: c.short_abandons,
        resolved_first_contact: c.resolved_first_contact,
        location: c.location,
        device: c.device,
        rating: c.rating,
        comment: c.comment,
        postcode: c.postcode,
    };

    // When: one timestamp column, or a date column with an optional time column.
    match (&columns.timestamp, &columns.date) {
        (None, None) => push(
            format!("{key}.columns"),
            "map either `timestamp` or `date` (and optionally `time`)".into(),
        ),
        (Some(_), Some(_)) => push(
            format!("{key}.columns"),
            "map `timestamp` or `date`, not both".into(),
        ),
        (Some(_), None) if s.timestamp_formats.is_empty() => push(
            format!("{key}.timestamp_formats"),
            "list the formats of the timestamp column, e.g. [\"%d/%m/%Y %H:%M:%S\"]".into(),
        ),
        (None, Some(_)) if s.date_formats.is_empty() => push(
            format!("{key}.date_formats"),
            "list the formats of the date column, e.g. [\"%d/%m/%Y\"]".into(),
        ),
        _ => {}
    }
    if columns.time.is_some() && s.time_formats.is_empty() {
        push(
            format!("{key}.time_formats"),
            "list the formats of the time column, e.g. [\"%H:%M\"]".into(),
        );
    }
    if columns.time.is_some() && columns.date.is_none() {
        push(
            format!("{key}.columns.time"),
            "a time column needs a date column".into(),
        );
    }

    let channel = match (&s.channel, &c.channel, kind.default_channel()) {
        (Some(fixed), None, _) => match Channel::parse(fixed) {
            Some(ch) => ChannelSpec::Fixed(ch),
            None => {
                push(
                    format!("{key}.channel"),
                    format!("'{fixed}' is not a channel ({})", channel_list()),
                );
                ChannelSpec::Fixed(Channel::Other)
            }
        },
        (None, Some(column), _) => {
            let mut values = Vec::new();
            for (canonical, raws) in &s.channels {
                match Channel::parse(canonical) {
                    Some(ch) => values.extend(raws.iter().map(|r| (normalise_value(r), ch))),
                    None => push(
                        format!("{key}.channels.{canonical}"),
                        format!("'{canonical}' is not a channel ({})", channel_list()),
                    ),
                }
            }
            if values.is_empty() {
                push(
                    format!("{key}.channels"),
                    "map the channel column's values, e.g. telephone = [\"Phone\"]".into(),
                );
            }
            ChannelSpec::Column {
                column: column.clone(),
                values,
            }
        }
        (None, None, Some(ch)) => ChannelSpec::Fixed(ch),
        (Some(_), Some(_), _) => {
            push(
                format!("{key}.channel"),
                "give a fixed `channel` or a `columns.channel`, not both".into(),
            );
            ChannelSpec::Fixed(Channel::Other)
        }
        (None, None, None) => {
            push(
                format!("{key}.channel"),
                "this kind of source needs `channel = \"...\"` or `columns.channel`".into(),
            );
            ChannelSpec::Fixed(Channel::Other)
        }
    };

    let mut outcomes = Vec::new();
    for (canonical, raws) in &s.outcomes {
        if !OUTCOMES.contains(&canonical.as_str()) {
            push(
                format!("{key}.outcomes.{canonical}"),
                format!("'{canonical}' is not an outcome ({})", OUTCOMES.join(", ")),
            );
        }
        outcomes.extend(raws.iter().map(|r| (normalise_value(r), canonical.clone())));
    }
    if let Some(d) = &s.default_outcome {
        if !OUTCOMES.contains(&d.as_str()) {
            push(
                format!("{key}.default_outcome"),
                format!("'{d}' is not an outcome ({})", OUTCOMES.join(", ")),
            );
        }
    }
    if kind == SourceKind::CallIntervals {
        if columns.answered.is_none() || columns.abandoned.is_none() {
            push(
                format!("{key}.columns"),
                "an interval export needs its `answered` and `abandoned` count columns".into(),
            );
        }
        if columns.answered_within.is_some() && s.interval_threshold_seconds.is_none() {
            push(
                format!("{key}.interval_threshold_seconds"),
                "say which threshold the `answered_within` count uses, e.g. 20".into(),
            );
        }
    } else if kind != SourceKind::Satisfaction {
        match (&columns.outcome, outcomes.is_empty(), &s.default_outcome) {
            (Some(_), true, _) => push(
                format!("{key}.outcomes"),
                "map the outcome column's values, e.g. answered = [\"Answered\"]".into(),
            ),
            (None, _, None) => push(
                format!("{key}.columns.outcome"),
                "map an outcome column or set `default_outcome`".into(),
            ),
            _ => {}
        }
    }

    let service = match s.service {
        None => {
            push(
                format!("{key}.service"),
                "say how rows get their service: [sources.service] lookup = \"lookups/x.csv\" or values".into(),
            );
            ServiceMapping::default()
        }
        Some(svc) => {
            let lookup = svc.lookup.map(|l| lexical(&base.join(l)));
            if let Some(l) = &lookup {
                if !l.is_file() {
                    push(
                        format!("{key}.service.lookup"),
                        format!("lookup table {} does not exist", l.display()),
                    );
                }
            }
            let mut values = Vec::new();
            for (service, raws) in svc.values {
                values.extend(raws.iter().map(|r| (normalise_value(r), service.clone())));
            }
            if lookup.is_none() && values.is_empty() {
                push(
                    format!("{key}.service"),
                    "give a `lookup` table or inline `values`".into(),
                );
            }
            if columns.category.is_none() {
                push(
                    format!("{key}.columns.category"),
                    "the service mapping needs the category column (queue, form, enquiry type...)"
                        .into(),
                );
            }
            ServiceMapping {
                lookup,
                values,
                when_blank: svc.when_blank,
            }
        }
    };

    let (resolved_yes, resolved_no) =
        match (&columns.resolved_first_contact, s.resolved_first_contact) {
            (Some(_), Some(yn)) => (
                yn.yes.iter().map(|v| normalise_value(v)).collect(),
                yn.no.iter().map(|v| normalise_value(v)).collect(),
            ),
            (Some(_), None) => {
                push(
                    format!("{key}.resolved_first_contact"),
                    "map the column's values: yes = [\"Y\"], no = [\"N\"]".into(),
                );
                (vec![], vec![])
            }
            (None, Some(_)) => {
                push(
                    format!("{key}.resolved_first_contact"),
                    "values given but no `columns.resolved_first_contact`".into(),
                );
                (vec![], vec![])
            }
            (None, None) => (vec![], vec![]),
        };

    let rating_scale = match (&s.rating_scale, kind) {
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
    };
    if kind == SourceKind::Satisfaction && columns.rating.is_none() {
        push(
            format!("{key}.columns.rating"),
            "a satisfaction source needs its rating column".into(),
        );
    }

    let mut source_demographics = Vec::new();
    for (field, column) in s.demographics {
        if demographics.iter().any(|d| d.name == field) {
            source_demographics.push((field, column));
        } else {
            push(
                format!("{key}.demographics.{field}"),
                format!("no [demographics.{field}] is defined"),
            );
        }
    }

    for (fmt_key, formats) in [
        ("timestamp_formats", &s.timestamp_formats),
        ("date_formats", &s.date_formats),
        ("time_formats", &s.time_formats),
    ] {
        for f in formats {
            if !f.contains('%') {
                push(
                    format!("{key}.{fmt_key}"),
                    format!("'{f}' has no % fields; formats use strftime codes like %d/%m/%Y"),
                );
            }
        }
    }

    Some(SourceDef {
        name: s.name,
        kind,
        files,
        format,
        sheet: s.sheet,
        encoding,
        delimiter,
        organisation: s
            .organisation
            .unwrap_or_else(|| default_organisation.to_string()),
        channel,
        columns,
        timestamp_formats: s.timestamp_formats,
        date_formats: s.date_formats,
        time_formats: s.time_formats,
        durations,
        outcomes,
        default_outcome: s.default_outcome,
        service,
        resolved_yes,
        resolved_no,
        rating_scale,
        interval_threshold_seconds: s.interval_threshold_seconds,
        demographics: source_demographics,
        comments,
    })
}

/// A path with `.` and `name/..` pairs removed, without touching the file system
/// (`pipelines/../sample_data` -> `sample_data`), so messages show the paths people expect.
pub fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// `path` relative to `base` when both are relative or both absolute (`../data/x.csv`).
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let (path, base) = (lexical(path), lexical(base));
    let (p, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
    if base == Path::new(".") {
        return path;
    }
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 && (path.is_absolute() != base.is_absolute()) {
        return path;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

fn channel_list() -> String {
    Channel::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn paths_are_tidied_without_the_file_system() {
        assert_eq!(
            lexical(Path::new("pipelines/../sample_data/a.csv")),
            Path::new("sample_data/a.csv")
        );
        assert_eq!(lexical(Path::new("./x/./y")), Path::new("x/y"));
        assert_eq!(lexical(Path::new("../up")), Path::new("../up"));
        assert_eq!(
            relative_to(Path::new("sample_data/t/a.csv"), Path::new("pipelines")),
            Path::new("../sample_data/t/a.csv")
        );
        assert_eq!(
            relative_to(Path::new("data/a.csv"), Path::new("")),
            Path::new("data/a.csv")
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
}
