//! How a source's columns become a row's fields: the `[sources.columns]` map, when a row
//! happened, where its channel, outcome, service and first-contact resolution come from, and the
//! columns each kind of source must map.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::paths;
use super::raw::{RawColumns, RawService, RawYesNo};
use super::source::SourceKind;
use crate::model::{Channel, OUTCOMES};
use crate::text::normalise_value;

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
    /// The service of every row (the category, if mapped, is kept as it is).
    pub fixed: Option<String>,
    /// The category is the service (a wide survey's question label, when no mapping is given).
    pub same_as_category: bool,
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
    /// The contact's reason or disposition code (kept as written, scrubbed of addresses and
    /// numbers), mapped to avoidable categories by `[avoidable]` when figures are computed.
    pub reason: Option<String>,
    pub rating: Option<String>,
    pub comment: Option<String>,
    pub postcode: Option<String>,
    /// Pre-aggregated rows (any contact source but interval exports): the number of contacts a
    /// row stands for; without it every row is one contact.
    pub count: Option<String>,
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
            ("reason", &self.reason),
            ("rating", &self.rating),
            ("comment", &self.comment),
            ("postcode", &self.postcode),
            ("answered", &self.answered),
            ("abandoned", &self.abandoned),
            ("callbacks", &self.callbacks),
            ("answered_within", &self.answered_within),
            ("short_abandons", &self.short_abandons),
            ("count", &self.count),
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

/// `[sources.columns]` by canonical field (its `channel` is read by [`resolve_channel`]).
pub(super) fn column_map(c: RawColumns) -> ColumnMap {
    ColumnMap {
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
        reason: c.reason,
        rating: c.rating,
        comment: c.comment,
        postcode: c.postcode,
        count: c.count,
    }
}

/// When a row happened: one timestamp column, or a date column with an optional time column,
/// each with its formats (`[timestamp_formats, date_formats, time_formats]`).
pub(super) fn check_when(
    columns: &ColumnMap,
    [timestamp_formats, date_formats, time_formats]: [&[String]; 3],
    key: &str,
    push: &mut impl FnMut(String, String),
) {
    match (&columns.timestamp, &columns.date) {
        (None, None) => push(
            format!("{key}.columns"),
            "map either `timestamp` or `date` (and optionally `time`); an export with no date says when its rows are with `month = \"2024-03\"`, `period = \"2023/24\"` (a year or a quarter), or `path_fields`".into(),
        ),
        (Some(_), Some(_)) => push(
            format!("{key}.columns"),
            "map `timestamp` or `date`, not both".into(),
        ),
        (Some(_), None) if timestamp_formats.is_empty() => push(
            format!("{key}.timestamp_formats"),
            "list the formats of the timestamp column, e.g. [\"%d/%m/%Y %H:%M:%S\"]".into(),
        ),
        (None, Some(_)) if date_formats.is_empty() => push(
            format!("{key}.date_formats"),
            "list the formats of the date column, e.g. [\"%d/%m/%Y\"]".into(),
        ),
        _ => {}
    }
    if columns.time.is_some() && time_formats.is_empty() {
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
}

/// A row's channel: fixed (`channel`, or the kind's own), or from `columns.channel` through
/// `[sources.channels]`.
pub(super) fn resolve_channel(
    fixed: Option<&str>,
    column: Option<String>,
    channels: &BTreeMap<String, Vec<String>>,
    kind: SourceKind,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> ChannelSpec {
    match (fixed, column, kind.default_channel()) {
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
            for (canonical, raws) in channels {
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
            ChannelSpec::Column { column, values }
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
    }
}

fn channel_list() -> String {
    Channel::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[sources.outcomes]` as (normalised raw value, outcome) pairs; `default_outcome` checked too.
pub(super) fn resolve_outcomes(
    written: &BTreeMap<String, Vec<String>>,
    default_outcome: Option<&str>,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> Vec<(String, String)> {
    let mut outcomes = Vec::new();
    for (canonical, raws) in written {
        if !OUTCOMES.contains(&canonical.as_str()) {
            push(
                format!("{key}.outcomes.{canonical}"),
                format!("'{canonical}' is not an outcome ({})", OUTCOMES.join(", ")),
            );
        }
        outcomes.extend(raws.iter().map(|r| (normalise_value(r), canonical.clone())));
    }
    if let Some(d) = default_outcome {
        if !OUTCOMES.contains(&d) {
            push(
                format!("{key}.default_outcome"),
                format!("'{d}' is not an outcome ({})", OUTCOMES.join(", ")),
            );
        }
    }
    outcomes
}

/// What a row counts: an interval export needs its count columns (and the threshold of its
/// "answered within" count); other contact sources need an outcome column or a default outcome.
pub(super) fn check_counts(
    kind: SourceKind,
    columns: &ColumnMap,
    outcomes: &[(String, String)],
    default_outcome: Option<&str>,
    interval_threshold_seconds: Option<f64>,
    key: &str,
    push: &mut impl FnMut(String, String),
) {
    if columns.count.is_some()
        && matches!(kind, SourceKind::CallIntervals | SourceKind::Satisfaction)
    {
        push(
            format!("{key}.columns.count"),
            "a count column is for contact exports of one row per group of contacts (calls, visits, webforms, contacts); interval exports have their own count columns, survey responses are one per row".into(),
        );
    }
    if columns.reason.is_some()
        && matches!(kind, SourceKind::CallIntervals | SourceKind::Satisfaction)
    {
        push(
            format!("{key}.columns.reason"),
            "a reason or disposition code is for contact exports (calls, visits, webforms, contacts); interval exports and surveys have none".into(),
        );
    }
    if kind == SourceKind::CallIntervals {
        if columns.answered.is_none() || columns.abandoned.is_none() {
            push(
                format!("{key}.columns"),
                "an interval export needs its `answered` and `abandoned` count columns".into(),
            );
        }
        if columns.answered_within.is_some() && interval_threshold_seconds.is_none() {
            push(
                format!("{key}.interval_threshold_seconds"),
                "say which threshold the `answered_within` count uses, e.g. 20".into(),
            );
        }
    } else if kind != SourceKind::Satisfaction {
        match (&columns.outcome, outcomes.is_empty(), default_outcome) {
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
}

/// `[sources.service]`: a lookup table beside the pipeline file and/or inline values, applied to
/// the category column.
pub(super) fn resolve_service(
    service: Option<RawService>,
    columns: &ColumnMap,
    base: &Path,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> ServiceMapping {
    let Some(svc) = service else {
        push(
            format!("{key}.service"),
            "say how rows get their service: [sources.service] lookup = \"lookups/x.csv\", values, or fixed = \"Service\"".into(),
        );
        return ServiceMapping::default();
    };
    if let Some(fixed) = svc.fixed {
        if fixed.trim().is_empty() {
            push(
                format!("{key}.service.fixed"),
                "name the service every row is for".into(),
            );
        }
        if svc.lookup.is_some() || !svc.values.is_empty() || svc.when_blank.is_some() {
            push(
                format!("{key}.service"),
                "a `fixed` service needs no `lookup`, `values` or `when_blank`: give one or the others".into(),
            );
        }
        return ServiceMapping {
            fixed: Some(fixed.trim().to_string()),
            ..ServiceMapping::default()
        };
    }
    let lookup = svc.lookup.map(|l| paths::beside(base, l));
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
            "the service mapping needs the category column (queue, form, enquiry type...)".into(),
        );
    }
    ServiceMapping {
        lookup,
        values,
        when_blank: svc.when_blank,
        fixed: None,
        same_as_category: false,
    }
}

/// The yes and no values of the `resolved_first_contact` column, normalised; both or neither.
pub(super) fn resolve_first_contact(
    columns: &ColumnMap,
    values: Option<RawYesNo>,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> (Vec<String>, Vec<String>) {
    match (&columns.resolved_first_contact, values) {
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
    }
}

/// Every date and time format has strftime fields
/// (`[timestamp_formats, date_formats, time_formats]`).
pub(super) fn check_formats(
    [timestamp_formats, date_formats, time_formats]: [&[String]; 3],
    key: &str,
    push: &mut impl FnMut(String, String),
) {
    for (fmt_key, formats) in [
        ("timestamp_formats", timestamp_formats),
        ("date_formats", date_formats),
        ("time_formats", time_formats),
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
}
