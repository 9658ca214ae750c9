//! One `[[sources]]` entry of a pipeline file: what kind of export it is, which files and how to
//! read them (format, encoding, delimiter, durations, comments), and `resolve_source`, which
//! validates one entry a section at a time (its columns are resolved in `columns.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use super::columns::{
    check_counts, check_formats, check_when, column_map, resolve_channel, resolve_first_contact,
    resolve_outcomes, resolve_service, ChannelSpec, ColumnMap, ServiceMapping,
};
use super::names::{either, named, setting};
use super::path_fields::{path_column, PathField, PathFields, PATH_DATE};
use super::paths;
use super::raw::{OneOrMany, RawSource};
use super::rows::RowRule;
use super::survey::{self, DemographicField, RatingScale};
use crate::granularity::{Granularity, QuarterLabels};
use crate::model::Channel;

named!(Granularity {
    Day = "day",
    Month = "month",
    Quarter = "quarter",
    Year = "year",
});

named!(QuarterLabels {
    Calendar = "calendar",
    Financial = "financial",
});

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

named!(SourceKind {
    Calls = "calls",
    CallIntervals = "call_intervals",
    Visits = "visits",
    Webforms = "webforms",
    Contacts = "contacts",
    Satisfaction = "satisfaction",
});

impl SourceKind {
    pub fn table(self) -> crate::model::Table {
        match self {
            SourceKind::Satisfaction => crate::model::Table::Responses,
            _ => crate::model::Table::Contacts,
        }
    }

    pub(super) fn default_channel(self) -> Option<Channel> {
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

named!(FileFormat {
    Csv = "csv",
    Xlsx = "xlsx",
});

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

// Matched after lower-casing: `encoding = "UTF-8"` is utf-8.
named!(Encoding {
    Auto = "auto",
    Utf8 = "utf-8" | "utf8",
    Windows1252 = "windows-1252" | "cp1252" | "latin1" | "iso-8859-1",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Seconds,
    Minutes,
    /// `H:MM:SS` or `M:SS` text: minutes and seconds under the hour or minute in two digits,
    /// hours and minutes before them as many as they take (`25:00:00`, `125:30`), seconds
    /// with an optional fraction.
    Clock,
}

named!(DurationUnit {
    Seconds = "seconds",
    Minutes = "minutes",
    Clock = "hh:mm:ss" | "clock",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentPolicy {
    Scrub,
    Drop,
}

named!(CommentPolicy {
    Scrub = "scrub",
    Drop = "drop",
});

/// How a source's duplicate rows are recognised (`duplicates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Rows with the same `record_id` (the default when one is mapped): a record exported
    /// twice, in overlapping files, is kept once.
    Key,
    /// Rows identical in every field (stored as a hash of the row, never its text).
    ExactRow,
    /// Every row is a record of its own (the default without a `record_id`).
    None,
}

named!(Duplicates {
    Key = "key",
    ExactRow = "exact_row",
    None = "none",
});

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
    /// Numbers written with a decimal comma and dots between thousands (`decimal_comma`).
    pub decimal_comma: bool,
    pub outcomes: Vec<(String, String)>,
    pub default_outcome: Option<String>,
    pub service: ServiceMapping,
    pub resolved_yes: Vec<String>,
    pub resolved_no: Vec<String>,
    pub rating_scale: Option<RatingScale>,
    /// Interval exports: the threshold of their "answered within" count, in seconds.
    pub interval_threshold_seconds: Option<f64>,
    /// Interval exports: `wait` and `handle` are averages per answered call, not totals.
    pub interval_averages: bool,
    /// (field name, source column) for each demographic this source carries.
    pub demographics: Vec<(String, String)>,
    pub comments: CommentPolicy,
    pub duplicates: Duplicates,
    /// Row filters: `exclude` rules then `include` rules, in the order written.
    pub rules: Vec<RowRule>,
    /// Fields taken from each file's path.
    pub path_fields: Option<PathFields>,
    /// The IANA time zone times without an offset are read in (the source's, else the
    /// pipeline's).
    pub timezone: String,
    /// A wide survey's rating columns (one question each).
    pub wide: Option<WideSpec>,
    /// `YYYY-MM-DD` (the 1st of `month`): the date of every row, when set.
    pub fixed_date: Option<String>,
    /// How precisely the rows are dated (`date_granularity`, or what `month` and `path_fields`
    /// imply).
    pub date_granularity: Granularity,
    /// How a quarter written with one year is read (`quarter_labels`).
    pub quarter_labels: QuarterLabels,
    /// The columns that identify the customer or case (`[sources.customer]`).
    pub customer: super::customers::CustomerColumns,
}

/// The column a wide layout's rows carry their column's label in (their category or channel).
pub const WIDE_QUESTION: &str = "(wide) question";
/// The column a wide layout's rows carry their column's value in (their rating or count).
pub const WIDE_ANSWER: &str = "(wide) answer";
/// The column a wide layout's rows carry their column's header in (what a reject names, and a
/// count's key: two count columns with one label are two counts).
pub const WIDE_COLUMN: &str = "(wide) column";
/// The columns a wide layout adds to each row.
pub const WIDE_HELPERS: [&str; 3] = [WIDE_COLUMN, WIDE_QUESTION, WIDE_ANSWER];

/// What a wide layout's column labels stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideAcross {
    /// A survey's question, or a count export's category (mapped to a service).
    Category,
    /// A count export's channel.
    Channel,
}

named!(WideAcross {
    Category = "category",
    Channel = "channel",
});

/// A wide layout's value columns, resolved.
#[derive(Debug, Clone)]
pub struct WideSpec {
    /// Column names as written (matched ignoring case and spacing).
    pub columns: Vec<String>,
    /// A regular expression picking more columns by name.
    pub pattern: Option<String>,
    /// (normalised column name, label).
    pub labels: Vec<(String, String)>,
    /// What the labels stand for.
    pub across: WideAcross,
    /// (column name as written, scale) for questions rated on a scale of their own.
    pub scales: Vec<(String, RatingScale)>,
}

impl WideSpec {
    /// The question columns of a file with `headers`, in file order, with each one's label;
    /// or the configured columns it lacks (a column given a scale that is not a value column
    /// among them).
    pub fn questions(&self, headers: &[String]) -> Result<Vec<(String, String)>, Vec<String>> {
        use crate::text::normalise_header;
        let pattern = self
            .pattern
            .as_deref()
            .and_then(|p| regex::Regex::new(p).ok());
        let wanted: Vec<String> = self.columns.iter().map(|c| normalise_header(c)).collect();
        let missing: Vec<String> = self
            .columns
            .iter()
            .zip(&wanted)
            .filter(|(_, w)| !headers.iter().any(|h| normalise_header(h) == **w))
            .map(|(c, _)| c.clone())
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        let chosen: Vec<(String, String)> = headers
            .iter()
            .filter(|h| {
                wanted.contains(&normalise_header(h))
                    || pattern.as_ref().is_some_and(|p| p.is_match(h.trim()))
            })
            .map(|h| {
                let n = normalise_header(h);
                let label = self
                    .labels
                    .iter()
                    .find(|(c, _)| *c == n)
                    .map(|(_, l)| l.clone())
                    .unwrap_or_else(|| h.split_whitespace().collect::<Vec<_>>().join(" "));
                (h.clone(), label)
            })
            .collect();
        // A column given a scale of its own must be one of the value columns.
        let unscaled: Vec<String> = self
            .scales
            .iter()
            .filter(|(c, _)| !chosen.iter().any(|(h, _)| same_column(c, h)))
            .map(|(c, _)| c.clone())
            .collect();
        if !unscaled.is_empty() {
            return Err(unscaled);
        }
        Ok(chosen)
    }

    /// The scale of the question in column `header` when it has one of its own, with its
    /// number (1, 2...; the source's `rating_scale` is 0).
    pub fn own_scale(&self, header: &str) -> Option<(usize, &RatingScale)> {
        self.scales
            .iter()
            .enumerate()
            .find(|(_, (c, _))| same_column(c, header))
            .map(|(i, (_, scale))| (i + 1, scale))
    }
}

/// True when `written` (a column as the pipeline file names it) is the export's `header`
/// (ignoring case and spacing).
fn same_column(written: &str, header: &str) -> bool {
    crate::text::normalise_header(written) == crate::text::normalise_header(header)
}

/// What every source of a pipeline file is resolved against.
pub(super) struct SourceContext<'a> {
    /// The pipeline file's folder: the paths a source names are relative to it.
    pub base: &'a Path,
    /// The pipeline's `organisation`, for sources that do not name their own.
    pub organisation: &'a str,
    /// The pipeline's time zone, for sources that do not name their own.
    pub timezone: &'a str,
    pub scales: &'a BTreeMap<String, RatingScale>,
    pub demographics: &'a [DemographicField],
}

/// How a source's files are read: the `files`, `format`, `encoding` and `delimiter` keys.
struct Reading {
    files: Vec<String>,
    format: Option<FileFormat>,
    encoding: Encoding,
    delimiter: u8,
}

/// Validates one `[[sources]]` entry (`key` names it in messages), pushing every problem found.
/// `None` only when its kind is unknown: the other checks depend on the kind.
pub(super) fn resolve_source(
    s: RawSource,
    key: &str,
    cx: &SourceContext,
    push: &mut impl FnMut(String, String),
) -> Option<SourceDef> {
    let RawSource {
        name,
        kind: kind_name,
        files,
        format,
        sheet,
        encoding,
        delimiter,
        organisation,
        channel,
        path_fields,
        timezone,
        wide,
        month,
        period,
        date_granularity,
        quarter_labels,
        timestamp_formats,
        mut date_formats,
        time_formats,
        durations,
        decimal_comma,
        interval_threshold_seconds,
        interval_averages,
        default_outcome,
        rating_scale,
        comments,
        duplicates,
        exclude,
        include,
        columns,
        customer,
        service,
        outcomes,
        channels,
        resolved_first_contact,
        demographics,
    } = s;
    let Some(kind) = SourceKind::from_name(&kind_name) else {
        push(
            format!("{key}.kind"),
            format!(
                "'{kind_name}' is not a source kind; use {}",
                either(SourceKind::NAMES)
            ),
        );
        return None;
    };
    let reading = resolve_reading(
        files,
        format.as_deref(),
        encoding.as_deref(),
        delimiter.as_deref(),
        key,
        cx.base,
        push,
    );
    let durations = setting(durations.as_deref(), &format!("{key}.durations"), push)
        .unwrap_or(DurationUnit::Seconds);
    let decimal_comma = decimal_comma.unwrap_or(false);
    let workbook = reading
        .files
        .iter()
        .any(|f| FileFormat::of(Path::new(f), reading.format) == Some(FileFormat::Xlsx));
    if decimal_comma && workbook {
        push(
            format!("{key}.decimal_comma"),
            "is for CSV exports: a workbook's number cells are numbers already; remove it".into(),
        );
    }
    let comments = setting(comments.as_deref(), &format!("{key}.comments"), push)
        .unwrap_or(CommentPolicy::Scrub);
    let interval_averages = interval_averages.unwrap_or(false);
    // (`check_counts` requires an interval export's `answered`, which the averages are per.)
    if interval_averages && kind != SourceKind::CallIntervals {
        push(
            format!("{key}.interval_averages"),
            "is for call_intervals sources (a row of one call has no average); remove it".into(),
        );
    }

    let mut channel_column = columns.channel.clone();
    let mut columns = column_map(columns);
    // What dates the rows, before the path or `month` stand in for the date column.
    let mut dated_by = DatedBy {
        timestamp_or_time: columns.timestamp.is_some() || columns.time.is_some(),
        date_column: columns.date.is_some(),
        date_formats: !date_formats.is_empty(),
        month: month.is_some(),
        period: None,
    };
    let mut channels = channels;
    let path_fields = path_fields.and_then(|written| match PathFields::compile(&written) {
        Ok(p) => Some(p),
        Err(message) => {
            push(format!("{key}.path_fields"), message);
            None
        }
    });
    if let Some(p) = &path_fields {
        let taken = PathTaken {
            fixed_channel: channel.is_some(),
            channel_column: &mut channel_column,
            channels: &mut channels,
            date_formats: &mut date_formats,
        };
        take_from_path(p, &mut columns, taken, key, push);
    }
    // A wide layout's labels are its categories (and so its services, unless mapped) unless
    // they are its channels. Read from the block as written, so that a wide block refused
    // below does not also ask for a service mapping.
    let wide_by_category = wide.as_ref().is_some_and(|w| {
        w.across
            .as_deref()
            .and_then(WideAcross::from_name)
            .unwrap_or(WideAcross::Category)
            == WideAcross::Category
    });
    let wide = wide.and_then(|w| {
        let channel = WideChannel {
            fixed: channel.is_some(),
            column: &mut channel_column,
            channels: &mut channels,
        };
        resolve_wide(w, kind, cx.scales, &mut columns, channel, key, push)
    });
    let customer = super::customers::resolve_columns(
        customer,
        kind,
        columns.count.is_some(),
        &name,
        key,
        push,
    );
    let fixed_date = month.and_then(|m| {
        let at = format!("{key}.month");
        match chrono::NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d") {
            Err(_) => {
                push(at, format!("'{m}' is not a month (YYYY-MM, e.g. 2023-06)"));
                None
            }
            Ok(_) if columns.timestamp.is_some() || columns.date.is_some() => {
                push(
                    at,
                    "the rows are dated by a column: give `month` only to an export without one"
                        .into(),
                );
                None
            }
            Ok(d) => {
                columns.date = Some(PATH_DATE.to_string());
                date_formats = vec!["%Y-%m-%d".to_string()];
                Some(d.format("%Y-%m-%d").to_string())
            }
        }
    });
    // A period for every row (a survey run once a year): its label is read as a `date` column
    // of such labels would be, and says how precisely the rows are dated.
    let fixed_date = match period {
        Some(_) if dated_by.month => {
            push(
                format!("{key}.period"),
                "give `month` or `period`, not both".into(),
            );
            fixed_date
        }
        Some(p) => {
            let at = format!("{key}.period");
            let label = p.trim().to_string();
            if columns.timestamp.is_some() || columns.date.is_some() || columns.time.is_some() {
                push(
                    at,
                    "the rows are dated by a column or by their path: give `period` only to an export without either".into(),
                );
                None
            } else if let Some(g) = crate::granularity::label_granularity(&label) {
                dated_by.period = Some(g);
                columns.date = Some(PATH_DATE.to_string());
                date_formats.clear();
                Some(label)
            } else {
                push(at, format!("'{label}' is not a quarter (`2023 Q2`, `2023/24 Q1`), a year (`2023`, `2023/24`) or a month (`2023-06`)"));
                None
            }
        }
        None => fixed_date,
    };
    let declared = setting(
        date_granularity.as_deref(),
        &format!("{key}.date_granularity"),
        push,
    );
    let date_granularity =
        resolve_granularity(declared, &dated_by, path_fields.as_ref(), key, push);
    let quarter_labels = setting(
        quarter_labels
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        &format!("{key}.quarter_labels"),
        push,
    )
    .unwrap_or_default();
    let timezone = match timezone {
        Some(tz) if tz.parse::<chrono_tz::Tz>().is_err() => {
            push(
                format!("{key}.timezone"),
                format!("'{tz}' is not an IANA time zone (e.g. Europe/London, UTC)"),
            );
            cx.timezone.to_string()
        }
        Some(tz) => tz,
        None => cx.timezone.to_string(),
    };
    let duplicates = match setting(duplicates.as_deref(), &format!("{key}.duplicates"), push) {
        Some(Duplicates::Key) if columns.record_id.is_none() => {
            push(
                format!("{key}.duplicates"),
                "\"key\" needs columns.record_id (the export's reference column); without one use \"exact_row\" or \"none\"".into(),
            );
            Duplicates::None
        }
        Some(d) => d,
        None if columns.record_id.is_some() => Duplicates::Key,
        None => Duplicates::None,
    };
    // Month, quarter and year labels are read by cex, not by formats (a month column may also
    // hold dates, read with `date_formats`).
    let label_formats = vec!["%Y".to_string()];
    check_when(
        &columns,
        [
            &timestamp_formats,
            if date_granularity.is_coarse() || date_granularity == Granularity::Month {
                &label_formats
            } else {
                &date_formats
            },
            &time_formats,
        ],
        key,
        push,
    );
    let channel = resolve_channel(
        channel.as_deref(),
        channel_column,
        &channels,
        kind,
        key,
        push,
    );
    let outcomes = resolve_outcomes(&outcomes, default_outcome.as_deref(), key, push);
    check_counts(
        kind,
        &columns,
        &outcomes,
        default_outcome.as_deref(),
        interval_threshold_seconds,
        key,
        push,
    );
    // A wide layout's labels are its services unless mapped.
    let service = match (wide_by_category, service) {
        (true, None) => ServiceMapping {
            same_as_category: true,
            ..ServiceMapping::default()
        },
        (_, service) => resolve_service(service, &columns, cx.base, key, push),
    };
    let (resolved_yes, resolved_no) =
        resolve_first_contact(&columns, resolved_first_contact, key, push);

    let rating_scale =
        survey::source_rating_scale(rating_scale.as_ref(), kind, cx.scales, key, push);
    if kind == SourceKind::Satisfaction && columns.rating.is_none() {
        push(
            format!("{key}.columns.rating"),
            "a satisfaction source needs its rating column".into(),
        );
    }
    let demographics = survey::source_demographics(demographics, cx.demographics, key, push);
    check_formats(
        [&timestamp_formats, &date_formats, &time_formats],
        key,
        push,
    );
    // A scale's "don't know" answers are accepted as answers without a rating (see
    // `sources::map`), never rules: they are kept, counted and published.
    let mut rules = super::rows::resolve_rules(exclude, include, key, push);
    if wide.is_some() {
        rules.push(wide_blank_rule(kind));
    }

    Some(SourceDef {
        name,
        kind,
        files: reading.files,
        format: reading.format,
        sheet,
        encoding: reading.encoding,
        delimiter: reading.delimiter,
        organisation: organisation.unwrap_or_else(|| cx.organisation.to_string()),
        channel,
        columns,
        timestamp_formats,
        date_formats,
        time_formats,
        durations,
        decimal_comma,
        outcomes,
        default_outcome,
        service,
        resolved_yes,
        resolved_no,
        rating_scale,
        interval_threshold_seconds,
        interval_averages,
        demographics,
        comments,
        duplicates,
        rules,
        path_fields,
        timezone,
        wide,
        fixed_date,
        date_granularity,
        quarter_labels,
        customer,
    })
}

/// What a source's rows are dated by, as its entry writes it.
struct DatedBy {
    /// `columns.timestamp` or `columns.time`: moments.
    timestamp_or_time: bool,
    /// `columns.date`.
    date_column: bool,
    /// `date_formats` given.
    date_formats: bool,
    /// `month` given.
    month: bool,
    /// `period` given: what its label names (a month, a quarter or a year).
    period: Option<Granularity>,
}

/// The source's date granularity: as declared, checked against what dates its rows, or what
/// that implies (a month from `month` or `{month}` in the path, else a day). A wrong
/// combination is one problem at `date_granularity` (or `path_fields`) saying how to fix it.
fn resolve_granularity(
    declared: Option<Granularity>,
    by: &DatedBy,
    path: Option<&PathFields>,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> Granularity {
    let has = |f: PathField| path.is_some_and(|p| p.has(f));
    // What `period`, the path or `month` give, when they date the rows.
    let implied = if let Some(g) = by.period {
        Some(g)
    } else if has(PathField::Quarter) {
        Some(Granularity::Quarter)
    } else if has(PathField::Day) {
        Some(Granularity::Day)
    } else if has(PathField::Month) || by.month {
        Some(Granularity::Month)
    } else if has(PathField::Year) {
        Some(Granularity::Year)
    } else {
        None
    };
    let at = format!("{key}.date_granularity");
    let mut refuse = |at: String, message: String| push(at, message);
    let Some(declared) = declared else {
        if let Some(g) = by.period {
            return g;
        }
        return match implied {
            Some(Granularity::Quarter) => {
                refuse(
                    format!("{key}.path_fields"),
                    "{quarter} dates every row by a quarter: add date_granularity = \"quarter\""
                        .into(),
                );
                Granularity::Quarter
            }
            Some(Granularity::Year) => {
                refuse(
                    format!("{key}.path_fields"),
                    "{year} alone dates every row by a year: add date_granularity = \"year\", or give {month} or {quarter} too (a year alone would invent a month)".into(),
                );
                Granularity::Year
            }
            Some(g) => g,
            None => Granularity::Day,
        };
    };
    let name = declared.as_str();
    if declared.is_coarse() {
        if by.timestamp_or_time {
            refuse(at.clone(), format!("a timestamp or time column dates a moment, not a {name}: map the {name} labels as columns.date, or remove date_granularity"));
        } else if by.month {
            refuse(at.clone(), format!("`month` dates every row by a month: remove it, or remove date_granularity = \"{name}\""));
        } else if by.date_formats {
            refuse(format!("{key}.date_formats"), format!("{name} labels are read by cex (date_granularity = \"{name}\"), not by formats: remove date_formats"));
        } else if path.is_none() && !by.date_column && by.period.is_none() {
            refuse(at.clone(), format!("date_granularity = \"{name}\" needs columns.date holding the labels (e.g. {}), `period` naming the one {name} of every row, or path_fields giving {}", if declared == Granularity::Quarter { "`2023 Q2`, `2023/24 Q1`" } else { "`2023`, `2023/24`" }, if declared == Granularity::Quarter { "{year} and {quarter}" } else { "{year}" }));
        }
    }
    match implied {
        Some(g) if g != declared && (path.is_some() || by.month || by.period.is_some()) => {
            let from = if path.is_some() {
                "path_fields"
            } else if by.period.is_some() {
                "period"
            } else {
                "month"
            };
            refuse(
                at,
                format!(
                    "{from} dates the rows by {}: set date_granularity = \"{}\" or leave it out{}",
                    g.as_str(),
                    g.as_str(),
                    if g == Granularity::Year || g == Granularity::Quarter {
                        ""
                    } else {
                        " (the default)"
                    }
                ),
            );
            g
        }
        _ if declared == Granularity::Month && by.timestamp_or_time => {
            refuse(at, "a timestamp or time column dates a moment, not a month: map the month as columns.date, or remove date_granularity".into());
            Granularity::Day
        }
        _ if declared == Granularity::Month
            && !by.month
            && by.period.is_none()
            && !by.date_column
            && path.is_none_or(|p| !p.has(PathField::Year)) =>
        {
            refuse(at, "date_granularity = \"month\" needs columns.date holding months (`2024-03`, `March 2024`, or a date standing for its month), `month`, or path_fields with {year} and {month}".into());
            Granularity::Day
        }
        _ => declared,
    }
}

/// `[sources.wide]`: the value columns stand in for `columns.rating` (surveys) or
/// `columns.count` (contacts), and their labels for `columns.category` or, across channels,
/// `columns.channel`. A blank value is excluded, never rejected (see `wide_blank_rule`).
fn resolve_wide(
    w: super::raw::RawWide,
    kind: SourceKind,
    scales: &BTreeMap<String, RatingScale>,
    columns: &mut ColumnMap,
    channel: WideChannel,
    key: &str,
    push: &mut impl FnMut(String, String),
) -> Option<WideSpec> {
    let at = format!("{key}.wide");
    let across =
        setting(w.across.as_deref(), &format!("{at}.across"), push).unwrap_or(WideAcross::Category);
    let counts = match kind {
        SourceKind::Satisfaction => false,
        SourceKind::CallIntervals => {
            push(
                at,
                "only a satisfaction or contact source can be wide (an interval export has its own count columns)".into(),
            );
            return None;
        }
        _ => true,
    };
    if let Some(p) = &w.pattern {
        if let Err(message) = super::names::regex(p) {
            push(format!("{at}.pattern"), message);
            return None;
        }
    }
    if w.columns.is_empty() && w.pattern.is_none() {
        push(
            at,
            "name the value columns (`columns`) or give a `pattern` matching them".into(),
        );
        return None;
    }
    if !counts && (columns.rating.is_some() || columns.category.is_some()) {
        push(
            at,
            "a wide survey's answers are its rating and its questions its category: map neither columns.rating nor columns.category".into(),
        );
        return None;
    }
    if !counts && across == WideAcross::Channel {
        push(
            format!("{at}.across"),
            "a wide survey's columns are its questions: across = \"channel\" is for count exports (contact sources)".into(),
        );
        return None;
    }
    if counts && columns.count.is_some() {
        push(
            at,
            "a wide count export's values are its counts: do not also map columns.count".into(),
        );
        return None;
    }
    match across {
        WideAcross::Category if columns.category.is_some() => {
            push(
                at,
                "the columns' labels are the category: do not also map columns.category (or set across = \"channel\")".into(),
            );
            return None;
        }
        WideAcross::Channel if channel.fixed || channel.column.is_some() => {
            push(
                at,
                "the columns' labels are the channel: give neither `channel` nor columns.channel"
                    .into(),
            );
            return None;
        }
        WideAcross::Category => columns.category = Some(WIDE_QUESTION.to_string()),
        WideAcross::Channel => {
            *channel.column = Some(WIDE_QUESTION.to_string());
            name_channels_by_themselves(channel.channels);
        }
    }
    if counts && !w.scales.is_empty() {
        push(
            format!("{at}.scales"),
            "a wide count export's values are counts, not ratings: remove scales".into(),
        );
        return None;
    }
    let mut question_scales = Vec::new();
    for (column, name) in &w.scales {
        match scales.get(name) {
            Some(scale) => question_scales.push((column.clone(), scale.clone())),
            None => push(
                format!("{at}.scales.{column}"),
                format!("no [scales.{name}] is defined"),
            ),
        }
    }
    if counts {
        columns.count = Some(WIDE_ANSWER.to_string());
    } else {
        columns.rating = Some(WIDE_ANSWER.to_string());
    }
    Some(WideSpec {
        scales: question_scales,
        columns: w.columns,
        pattern: w.pattern,
        labels: w
            .labels
            .into_iter()
            .map(|(c, l)| (crate::text::normalise_header(&c), l))
            .collect(),
        across,
    })
}

/// The source's channel settings a wide layout across channels takes the place of.
struct WideChannel<'a> {
    fixed: bool,
    column: &'a mut Option<String>,
    channels: &'a mut BTreeMap<String, Vec<String>>,
}

/// Without a `[sources.channels]` mapping, a channel read from the path or a wide column's label
/// names the channel itself (`web`, `face_to_face` or `face to face`).
fn name_channels_by_themselves(channels: &mut BTreeMap<String, Vec<String>>) {
    if channels.is_empty() {
        for ch in Channel::ALL {
            let name = ch.as_str();
            let spaced = name.replace('_', " ");
            let mut raws = vec![name.to_string()];
            if spaced != name {
                raws.push(spaced);
            }
            channels.insert(name.to_string(), raws);
        }
    }
}

/// The rule that excludes a wide row with a blank value: a question not answered, or a count
/// cell left empty. Either way it is not a row of the data, and it is counted, not rejected.
fn wide_blank_rule(kind: SourceKind) -> RowRule {
    RowRule {
        name: if kind == SourceKind::Satisfaction {
            "not answered"
        } else {
            "blank count"
        }
        .into(),
        column: WIDE_ANSWER.into(),
        matches: super::rows::RowMatch::Values(vec![String::new()]),
        keep_matching: false,
    }
}

/// What a path's fields stand in for besides `[sources.columns]`.
struct PathTaken<'a> {
    fixed_channel: bool,
    channel_column: &'a mut Option<String>,
    channels: &'a mut BTreeMap<String, Vec<String>>,
    date_formats: &'a mut Vec<String>,
}

/// Points the columns a path's fields stand in for at the fields' columns (a field captured
/// must not also be mapped to a column of the export).
fn take_from_path(
    p: &PathFields,
    columns: &mut ColumnMap,
    taken: PathTaken,
    key: &str,
    push: &mut impl FnMut(String, String),
) {
    let at = format!("{key}.path_fields");
    let mut both = |what: &str| {
        push(
            at.clone(),
            format!("the path gives {what}, and so does a column: map one or the other"),
        )
    };
    if p.has(PathField::Year) {
        if columns.timestamp.is_some() || columns.date.is_some() || columns.time.is_some() {
            both("the month (columns.timestamp, date or time)");
        } else if !taken.date_formats.is_empty() {
            both("the month (date_formats)");
        } else {
            columns.date = Some(PATH_DATE.to_string());
            *taken.date_formats = vec!["%Y-%m-%d".to_string()];
        }
    }
    if p.has(PathField::Organisation) {
        match columns.organisation {
            Some(_) => both("the organisation (columns.organisation)"),
            None => columns.organisation = Some(path_column("organisation")),
        }
    }
    if p.has(PathField::Category) {
        match columns.category {
            Some(_) => both("the category (columns.category)"),
            None => columns.category = Some(path_column("category")),
        }
    }
    if p.has(PathField::Channel) {
        if taken.fixed_channel || taken.channel_column.is_some() {
            both("the channel (channel or columns.channel)");
        } else {
            *taken.channel_column = Some(path_column("channel"));
            name_channels_by_themselves(taken.channels);
        }
    }
}

/// The files (globs resolved beside the pipeline file) and how to read them.
fn resolve_reading(
    files: OneOrMany,
    format: Option<&str>,
    encoding: Option<&str>,
    delimiter: Option<&str>,
    key: &str,
    base: &Path,
    push: &mut impl FnMut(String, String),
) -> Reading {
    let files: Vec<String> = files
        .into_vec()
        .into_iter()
        .map(|f| paths::beside(base, f).to_string_lossy().into_owned())
        .collect();
    if files.is_empty() {
        push(
            format!("{key}.files"),
            "list at least one file or glob".into(),
        );
    }
    let format = setting(format, &format!("{key}.format"), push);
    let lower_case = encoding.map(str::to_ascii_lowercase);
    let encoding =
        setting(lower_case.as_deref(), &format!("{key}.encoding"), push).unwrap_or(Encoding::Auto);
    let delimiter = match delimiter {
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
    Reading {
        files,
        format,
        encoding,
        delimiter,
    }
}
