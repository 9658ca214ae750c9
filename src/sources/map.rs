//! Mapping one raw file onto the canonical model as a single lazy plan: every canonical column,
//! plus `reject_check`, the first problem a row has (null when it has none), which
//! [`RejectChecks::describe`] turns into a reason, column and value for the rejected rows.
//! Splitting accepted from rejected rows is the ingest stage's job.

use std::path::Path;

use polars::prelude::*;

use super::customer::identifiers;
use super::parse::{
    cleaned, date_and_time, duration_seconds, local_instant, local_timestamp, mapped,
    mapped_number, naive_datetime, number, offset_free, per_distinct,
};
use super::read::{RawFile, JOINED, LINE, ROW};
use super::scrub::{postcode_district, scrub_comment};
use super::{reason, SourceError};
use crate::config::{
    is_virtual_column, ChannelSpec, CommentPolicy, Duplicates, FileFormat, Pipeline, QualityGates,
    RowMatch, SourceDef, SourceKind,
};
use crate::granularity::{month_label_start, quarter_start, year_start, Granularity};
use crate::model::{col as c, Table, NOT_ANSWERED};
use crate::period::Calendar;
use crate::text::{normalise_value, normalised};

/// Index of a row's first failing check (see [`RejectChecks`]); null for a row that passes.
pub const REJECT_CHECK: &str = "reject_check";
pub const REJECT_REASON: &str = "reject_reason";
pub const REJECT_COLUMN: &str = "reject_column";
pub const REJECT_VALUE: &str = "reject_value";
/// The column a `wrong_field_count` reject blames: the row as a whole.
pub const WHOLE_ROW: &str = "(whole row)";
/// The name under which the plan carries raw column `i` when asked to keep raw values.
pub fn raw_column(i: usize) -> String {
    format!("__raw{i}")
}

/// True for a row with every field empty (a blank line, or a line of separators): not a record.
pub const BLANK_ROW: &str = "blank_row";

/// How a spreadsheet writes a long number it has rounded: one digit, up to a few more after
/// the point, `E+` and the exponent (`1.23457E+17`, `4.4E+11`).
const ROUNDED_ID: &str = r"^\s*\d(\.\d+)?E\+\d{2,}\s*$";

/// The canonical columns of a table, in the order they are stored.
pub fn table_columns(source: &SourceDef, pipeline: &Pipeline) -> Vec<String> {
    let table = source.kind.table();
    let head = [
        c::ORGANISATION,
        c::SOURCE,
        c::CHANNEL,
        c::SERVICE,
        c::CATEGORY,
        c::TIMESTAMP,
        c::DATE,
        c::FINANCIAL_YEAR,
        c::YEAR,
        c::MONTH,
    ];
    let middle: Vec<String> = match table {
        Table::Contacts => [
            c::OUTCOME,
            c::CONTACTS,
            c::WAIT_SECONDS,
            c::HANDLE_SECONDS,
            c::WITHIN_THRESHOLD,
            c::SHORT_ABANDONS,
            c::RESOLVED_FIRST_CONTACT,
            c::LOCATION,
            c::DEVICE,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(
            source
                .columns
                .reason
                .as_ref()
                .map(|_| c::REASON.to_string()),
        )
        .chain(
            (source.date_granularity != Granularity::Day).then(|| c::DATE_GRANULARITY.to_string()),
        )
        .chain(
            identifiers(source)
                .into_iter()
                .map(|i| i.column.to_string()),
        )
        .collect(),
        Table::Responses => {
            let mut v: Vec<String> = [c::RATING_RAW, c::RATING, c::SCORE, c::SENTIMENT]
                .iter()
                .map(|s| s.to_string())
                .collect();
            v.extend(pipeline.demographics.iter().map(|d| d.name.clone()));
            v.extend([c::POSTCODE_DISTRICT.to_string(), c::COMMENT.to_string()]);
            // Answers dated only by a quarter or a year say so (see `granularity`).
            if source.date_granularity.is_coarse() {
                v.push(c::DATE_GRANULARITY.to_string());
            }
            v
        }
    };
    head.iter()
        .map(|s| s.to_string())
        .chain(middle)
        .chain([c::RECORD_KEY, c::SOURCE_FILE_ID, c::SOURCE_ROW].map(String::from))
        .collect()
}

/// Interval exports carry their counts through the plan under these names until the rows are
/// expanded into one per outcome (see [`expand_intervals`]).
pub const INTERVAL_COUNTS: [&str; 5] = [
    "__answered",
    "__abandoned",
    "__callbacks",
    "__answered_within",
    "__short_abandons",
];

/// Columns a source's plan carries beyond its table's.
pub fn carried_columns(source: &SourceDef) -> Vec<String> {
    if source.kind == SourceKind::CallIntervals {
        INTERVAL_COUNTS.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    }
}

/// One interval row (answered, abandoned and callback counts) becomes up to three contact rows,
/// one per outcome with its count in `contacts`; the wait and handling totals and the
/// answered-within count stay on the answered row, the short abandons on the abandoned row.
/// `averages`: the export's wait and handling are per answered call (`interval_averages`), and
/// become totals by the answered count.
pub fn expand_intervals(df: DataFrame, averages: bool) -> PolarsResult<DataFrame> {
    let total = |name: &str| {
        if averages {
            col(name) * col("__answered").cast(DataType::Float64)
        } else {
            col(name)
        }
    };
    let outcomes = Series::new("o".into(), ["answered", "abandoned", "callback"]);
    let is = |o: &str| col(c::OUTCOME).eq(lit(o));
    let on_answered = |e: Expr, dtype: DataType| {
        when(is("answered"))
            .then(e)
            .otherwise(lit(NULL).cast(dtype))
    };
    df.lazy()
        .with_column(lit(outcomes).implode(false).alias(c::OUTCOME))
        .explode(
            by_name([c::OUTCOME], true, false),
            ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            },
        )
        .with_columns([
            when(is("answered"))
                .then(col("__answered"))
                .when(is("abandoned"))
                .then(col("__abandoned"))
                .otherwise(col("__callbacks"))
                .fill_null(lit(0u32))
                .cast(DataType::UInt32)
                .alias(c::CONTACTS),
            on_answered(total(c::WAIT_SECONDS), DataType::Float64).alias(c::WAIT_SECONDS),
            on_answered(total(c::HANDLE_SECONDS), DataType::Float64).alias(c::HANDLE_SECONDS),
            on_answered(col("__answered_within"), DataType::UInt32).alias(c::WITHIN_THRESHOLD),
            when(is("abandoned"))
                .then(col("__short_abandons"))
                .otherwise(lit(NULL).cast(DataType::UInt32))
                .alias(c::SHORT_ABANDONS),
        ])
        .filter(col(c::CONTACTS).gt(lit(0u32)))
        .drop(by_name(INTERVAL_COUNTS, true, false))
        .collect()
}

/// The (normalised category, service) pairs of a source: its lookup table then its inline values.
pub fn service_pairs(source: &SourceDef) -> Result<Vec<(String, String)>, SourceError> {
    let mut pairs = Vec::new();
    if let Some(path) = &source.service.lookup {
        pairs.extend(read_lookup(path)?);
    }
    pairs.extend(source.service.values.iter().cloned());
    Ok(pairs)
}

/// A two-column lookup CSV (raw value, mapped value), header in the first row, UTF-8.
fn read_lookup(path: &Path) -> Result<Vec<(String, String)>, SourceError> {
    let err = |message: String| SourceError::Lookup {
        path: path.to_path_buf(),
        message,
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| err(e.to_string()))?;
    if df.width() < 2 {
        return Err(err(format!(
            "needs two columns (raw value, service); it has {}",
            df.width()
        )));
    }
    let cols = df.columns();
    let (raw, mapped) = (cols[0].str(), cols[1].str());
    let (raw, mapped) = match (raw, mapped) {
        (Ok(r), Ok(m)) => (r, m),
        _ => return Err(err("columns must be text".into())),
    };
    let mut pairs = Vec::with_capacity(df.height());
    for (i, (r, m)) in raw.iter().zip(mapped.iter()).enumerate() {
        match (r, m) {
            (Some(r), Some(m)) if !m.trim().is_empty() => {
                pairs.push((normalise_value(r), m.trim().to_string()))
            }
            (None, _) => {}
            (Some(r), _) => {
                return Err(err(format!(
                    "row {} ({}) has no mapped value: fill in its service, or delete the row to leave it unmapped",
                    i + 2,
                    crate::redact::quote(r)
                )))
            }
        }
    }
    Ok(pairs)
}

/// One reason a row can be rejected: when `failed` holds, the row is rejected for `reason`,
/// blaming `column` and quoting `value`.
struct Check {
    failed: Expr,
    reason: &'static str,
    column: String,
}

/// The plan is built in layers so that each parse runs once however often its result is used:
/// raw text is cleaned (layer 0), parsed or mapped value by value (1), turned into an instant
/// (2), moved to the pipeline's time zone when the source has its own (3), turned into the
/// wall-clock time where the file did not give it (2 or 4), dated (3 or 5), given its year,
/// month and financial year (4 or 6) and checked (7); the canonical columns and the first failing
/// check are then selected from those columns.
struct Layers {
    layers: [Vec<Expr>; 8],
    cleaned: std::collections::HashMap<String, Expr>,
    next: usize,
}

impl Layers {
    fn new() -> Layers {
        Layers {
            layers: Default::default(),
            cleaned: std::collections::HashMap::new(),
            next: 0,
        }
    }

    /// Computes `e` once, in `layer`, and returns a reference to its column.
    fn stash(&mut self, layer: usize, e: Expr) -> Expr {
        let name = format!("__cex{}", self.next);
        self.next += 1;
        self.layers[layer].push(e.alias(name.as_str()));
        col(name.as_str())
    }

    /// A file column's text, trimmed, blank as null (computed once per column).
    fn text(&mut self, header: &str) -> Expr {
        if let Some(e) = self.cleaned.get(header) {
            return e.clone();
        }
        let e = self.stash(0, cleaned(col(header)));
        self.cleaned.insert(header.to_string(), e.clone());
        e
    }

    /// A file column's raw values put through `f` (layer 1), each distinct value once.
    fn per_value(&mut self, header: &str, f: impl FnOnce(Expr) -> Expr, dtype: DataType) -> Expr {
        self.stash(1, per_distinct(col(header), f, dtype))
    }

    /// A file column mapped through (normalised raw, value) pairs (layer 1): trimmed, compared
    /// ignoring case and spacing; unmatched or blank gives null.
    fn mapped(&mut self, header: &str, pairs: &[(String, String)]) -> Expr {
        if pairs.is_empty() {
            return lit(NULL).cast(DataType::String);
        }
        self.per_value(
            header,
            |v| mapped(normalised(cleaned(v)), pairs),
            DataType::String,
        )
    }

    fn apply(self, frame: LazyFrame) -> LazyFrame {
        self.layers
            .into_iter()
            .filter(|l| !l.is_empty())
            .fold(frame, |f, layer| f.with_columns(layer))
    }
}

/// Builds the canonical plan for one raw file, and what its [`REJECT_CHECK`] values mean. The raw
/// text of every column rides along as [`raw_column`]`(i)`, so rejected rows can be written out
/// as they were without reading the file again.
pub fn canonical(
    raw: &RawFile,
    source: &SourceDef,
    pipeline: &Pipeline,
    services: &[(String, String)],
    today: chrono::NaiveDate,
) -> Result<(LazyFrame, RejectChecks), SourceError> {
    check_columns(raw, source)?;
    let polars_err = |e: PolarsError| SourceError::Parse {
        path: raw.path.clone(),
        message: crate::redact::parser_message(&e.to_string()),
    };
    let header = |configured: &str| raw.column(configured).unwrap_or(configured).to_string();
    // Fields the file's path gives ride along as constant columns (see `config::PathFields`).
    let mut frame = raw.frame.clone();
    if let Some(fields) = &source.path_fields {
        let captured = fields
            .capture(&raw.path)
            .map_err(|message| SourceError::PathFields {
                path: raw.path.clone(),
                message,
            })?;
        let mut constants: Vec<Expr> = captured
            .columns
            .into_iter()
            .map(|(name, value)| lit(value).alias(name.as_str()))
            .collect();
        if let Some(date) = captured.date {
            constants.push(lit(date).alias(crate::config::PATH_DATE));
        }
        frame = frame.with_columns(constants);
    } else if let Some(date) = &source.fixed_date {
        frame = frame.with_column(lit(date.clone()).alias(crate::config::PATH_DATE));
    }
    // A wide layout: each row once per value column, its label and value beside the row's own
    // columns (kept whole, so a rejected value is written out with its row).
    if let Some(wide) = &source.wide {
        let questions =
            wide.questions(&raw.headers)
                .map_err(|missing| SourceError::MissingColumns {
                    path: raw.path.clone(),
                    missing: missing
                        .into_iter()
                        .map(|c| ("a wide column".to_string(), c))
                        .collect(),
                    available: raw.headers.clone(),
                })?;
        if questions.is_empty() {
            return Err(SourceError::MissingColumns {
                path: raw.path.clone(),
                missing: vec![(
                    "the wide columns".to_string(),
                    wide.pattern.clone().unwrap_or_default(),
                )],
                available: raw.headers.clone(),
            });
        }
        let per_question: Vec<LazyFrame> = questions
            .into_iter()
            .map(|(header, label)| {
                // A code the question's scale reads as blank ("0 = Blank") is an empty answer:
                // excluded as "not answered" with the blank cells.
                let blank_codes = wide
                    .own_scale(&header)
                    .map(|(_, scale)| scale)
                    .or(source.rating_scale.as_ref())
                    .map(|scale| scale.not_answered.clone())
                    .unwrap_or_default();
                let answer = if blank_codes.is_empty() {
                    col(header.as_str())
                } else {
                    when(normalised_in(
                        normalised(cleaned(col(header.as_str()))),
                        &blank_codes,
                    ))
                    .then(lit(NULL).cast(DataType::String))
                    .otherwise(col(header.as_str()))
                };
                frame.clone().with_columns([
                    lit(label).alias(crate::config::WIDE_QUESTION),
                    answer.alias(crate::config::WIDE_ANSWER),
                    lit(header.clone()).alias(crate::config::WIDE_COLUMN),
                ])
            })
            .collect();
        frame = concat(per_question, UnionArgs::default()).map_err(polars_err)?;
    }
    let mut layers = Layers::new();
    let text = |layers: &mut Layers, configured: &Option<String>| -> Option<(String, Expr)> {
        configured.as_ref().map(|name| {
            let h = header(name);
            let e = layers.text(&h);
            (h, e)
        })
    };
    let mut checks: Vec<Check> = Vec::new();
    let mut out: Vec<Expr> = Vec::new();
    let tz = source.timezone.as_str();

    // When. Excel date cells arrive as ISO text, so ISO formats are always accepted there.
    let iso_too = |formats: &[String], iso: &[&str]| -> Vec<String> {
        let mut f = formats.to_vec();
        if raw.format == FileFormat::Xlsx {
            f.extend(iso.iter().map(|s| s.to_string()));
        }
        f
    };
    let (timestamp, wall, date_column) =
        if let Some((column, value)) = text(&mut layers, &source.columns.timestamp) {
            let formats = iso_too(
                &source.timestamp_formats,
                &["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
            );
            let (ts, wall) = if offset_free(&formats) {
                // The text is the wall-clock time: kept, so it need not be worked out again.
                let wall = layers.stash(1, naive_datetime(value.clone(), &formats));
                let ts = local_instant(wall.clone(), tz).map_err(polars_err)?;
                (layers.stash(2, ts), Some(wall))
            } else {
                let ts = local_timestamp(value.clone(), &formats, tz).map_err(polars_err)?;
                (layers.stash(1, ts), None)
            };
            checks.push(missing(&column, value.clone()));
            checks.push(Check {
                failed: ts.clone().is_null(),
                reason: reason::BAD_DATE,
                column: column.clone(),
            });
            (ts, wall, column)
        } else if source.date_granularity.is_coarse() {
            // Quarter or year labels: the first day of the period they name (see `granularity`).
            let (date_column, date_value) =
                text(&mut layers, &source.columns.date).unwrap_or_default_pair();
            let (granularity, first_month, labels) = (
                source.date_granularity,
                pipeline.calendar.start_month(),
                source.quarter_labels,
            );
            let wall = layers.per_value(
                &date_column,
                move |v| match granularity {
                    Granularity::Quarter => quarter_start(cleaned(v), first_month, labels),
                    _ => year_start(cleaned(v), first_month),
                },
                DataType::Datetime(TimeUnit::Milliseconds, None),
            );
            let ts = layers.stash(2, local_instant(wall.clone(), tz).map_err(polars_err)?);
            checks.push(missing(&date_column, date_value));
            checks.push(Check {
                failed: wall.clone().is_null(),
                reason: match granularity {
                    Granularity::Quarter => reason::BAD_QUARTER,
                    _ => reason::BAD_YEAR,
                },
                column: date_column.clone(),
            });
            checks.push(Check {
                failed: ts.clone().is_null(),
                reason: reason::BAD_DATE,
                column: date_column.clone(),
            });
            (ts, Some(wall), date_column)
        } else {
            let (date_column, date_value) =
                text(&mut layers, &source.columns.date).unwrap_or_default_pair();
            let date_formats = iso_too(&source.date_formats, &["%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]);
            let time = text(&mut layers, &source.columns.time);
            let time_formats = iso_too(&source.time_formats, &["%H:%M:%S"]);
            let (wall, time_ok) = date_and_time(
                date_value.clone(),
                &date_formats,
                time.as_ref()
                    .map(|(_, v)| (v.clone(), time_formats.as_slice())),
            );
            let wall = layers.stash(1, wall);
            // Rows dated by a month (`date_granularity = "month"`): a date stands for its month,
            // and a month's label ("2024-03", "March 2024") is read too; either is dated at the
            // month's first day.
            let wall = if source.date_granularity == Granularity::Month {
                let labelled = layers.per_value(
                    &date_column,
                    |v| month_label_start(cleaned(v)),
                    DataType::Datetime(TimeUnit::Milliseconds, None),
                );
                if date_formats.is_empty() {
                    labelled
                } else {
                    coalesce(&[wall.dt().truncate(lit("1mo")), labelled])
                }
            } else {
                wall
            };
            let ts = layers.stash(2, local_instant(wall.clone(), tz).map_err(polars_err)?);
            let time_ok = time_ok.map(|ok| layers.stash(1, ok));
            checks.push(missing(&date_column, date_value.clone()));
            if let (Some(ok), Some((time_column, _))) = (time_ok, time) {
                checks.push(Check {
                    failed: ok.not(),
                    reason: reason::BAD_DATE,
                    column: time_column,
                });
            }
            checks.push(Check {
                failed: ts.clone().is_null(),
                reason: reason::BAD_DATE,
                column: date_column.clone(),
            });
            (ts, Some(wall), date_column)
        };
    // A source in a time zone of its own: its instants are kept in the pipeline's zone, and
    // dated by the pipeline's wall clock (a call at 23:30 UTC on 31 May is in June in London).
    let (timestamp, wall, dated_at) = if source.timezone == pipeline.timezone {
        (timestamp, wall, 2)
    } else {
        let zone = polars::prelude::TimeZone::opt_try_new(Some(pipeline.timezone.as_str()))
            .map_err(polars_err)?
            .ok_or_else(|| polars_err(polars_err!(ComputeError: "no time zone")))?;
        let ts = layers.stash(3, timestamp.dt().convert_time_zone(zone));
        (ts, None, 4)
    };
    let (when_columns, date) =
        time_columns(timestamp, wall, pipeline.calendar, &mut layers, dated_at);
    out.extend(when_columns);
    if (source.kind.table() == Table::Contacts && source.date_granularity != Granularity::Day)
        || source.date_granularity.is_coarse()
    {
        out.push(lit(source.date_granularity.as_str()).alias(c::DATE_GRANULARITY));
    }
    // A date that cannot be true (year 24 read from "05/04/24", 2099) is rejected, never stored.
    let days = |d: chrono::NaiveDate| (d - chrono::NaiveDate::default()).num_days() as i32;
    let latest = today + chrono::Duration::days(i64::from(pipeline.quality.future_days));
    let day = date.cast(DataType::Int32);
    checks.push(Check {
        failed: day
            .clone()
            .lt(lit(days(pipeline.quality.earliest_date)))
            .or(day.gt(lit(days(latest)))),
        reason: reason::IMPLAUSIBLE_DATE,
        column: date_column,
    });

    // Who and what.
    out.push(
        match text(&mut layers, &source.columns.organisation) {
            Some((_, v)) => v.fill_null(lit(source.organisation.clone())),
            None => lit(source.organisation.clone()),
        }
        .alias(c::ORGANISATION),
    );
    out.push(lit(source.name.clone()).alias(c::SOURCE));
    out.push(match &source.channel {
        ChannelSpec::Fixed(ch) => lit(ch.as_str()).alias(c::CHANNEL),
        ChannelSpec::Column { column, values } => {
            let column = header(column);
            let value = layers.text(&column);
            let pairs: Vec<(String, String)> = values
                .iter()
                .map(|(raw, ch)| (raw.clone(), ch.as_str().to_string()))
                .collect();
            let ch = layers.mapped(&column, &pairs);
            checks.push(missing(&column, value.clone()));
            checks.push(Check {
                failed: ch.clone().is_null(),
                reason: reason::UNKNOWN_CHANNEL,
                column,
            });
            ch.alias(c::CHANNEL)
        }
    });

    let (category_column, category) =
        text(&mut layers, &source.columns.category).unwrap_or_default_pair();
    if let Some(fixed) = &source.service.fixed {
        out.push(lit(fixed.clone()).alias(c::SERVICE));
        out.push(category.alias(c::CATEGORY));
    } else if source.service.same_as_category {
        out.push(category.clone().alias(c::SERVICE));
        out.push(category.alias(c::CATEGORY));
    } else {
        service_from_category(
            source,
            services,
            (category_column, category),
            &mut layers,
            &mut checks,
            &mut out,
        );
    }

    match source.kind.table() {
        Table::Contacts => contact_fields(
            source,
            &pipeline.quality,
            &header,
            &mut layers,
            &mut checks,
            &mut out,
        ),
        Table::Responses => response_fields(
            source,
            pipeline,
            &header,
            &raw.headers,
            &mut layers,
            &mut checks,
            &mut out,
        ),
    }

    // Lineage and the key duplicates are recognised by.
    let key = match (
        source.duplicates,
        text(&mut layers, &source.columns.record_id),
    ) {
        (Duplicates::Key, Some((column, value))) => {
            checks.insert(0, missing(&column, value.clone()));
            checks.insert(
                1,
                Check {
                    failed: value.clone().str().contains(lit(ROUNDED_ID), true),
                    reason: reason::ROUNDED_RECORD_ID,
                    column: column.clone(),
                },
            );
            value
        }
        // The row as exported, every field: hashed before it is kept (see `ingest`), so no
        // content is ever stored as a key.
        (Duplicates::ExactRow, _) => concat_str(
            raw.headers
                .iter()
                .map(|h| col(h.as_str()).fill_null(lit("\u{0}")))
                .collect::<Vec<_>>(),
            "\u{1f}",
            false,
        ),
        // Every row is a record of its own: the key is the file's identity and the row number,
        // never a key made of content (distinct submissions with the same title and minute are
        // not duplicates, and no comment or postcode becomes a key).
        _ => concat_str(
            [
                lit(raw.file_id().to_string()),
                col(ROW).cast(DataType::String),
            ],
            ":",
            false,
        ),
    };
    // A wide row is one value per column: the column is part of its key. A survey's answers are
    // told apart by question (two columns with one label are one question answered twice); a
    // count export's by column (two columns with one label are two counts).
    let key = match &source.wide {
        Some(_) if source.kind == SourceKind::Satisfaction => {
            concat_str([key, col(crate::config::WIDE_QUESTION)], "\u{1f}", false)
        }
        Some(_) => concat_str([key, col(crate::config::WIDE_COLUMN)], "\u{1f}", false),
        None => key,
    };
    // A row with more or fewer fields than the header cannot be read field by field; then a
    // row out of scope is excluded before anything else is asked of it.
    let exclusions = row_rules(source, &header, &mut layers);
    let excluded = exclusions.len();
    checks.splice(
        0..0,
        std::iter::once(Check {
            failed: col(LINE).is_not_null(),
            reason: reason::WRONG_FIELD_COUNT,
            column: WHOLE_ROW.into(),
        })
        .chain(exclusions)
        // After the rules (whose checks must follow the field count's; see `RejectChecks`):
        // an out-of-scope row is excluded whatever its text holds.
        .chain(std::iter::once(Check {
            failed: col(JOINED).is_not_null(),
            reason: reason::JOINED_ROWS,
            column: WHOLE_ROW.into(),
        })),
    );
    out.push(key.alias(c::RECORD_KEY));
    out.push(lit(raw.file_id().to_string()).alias(c::SOURCE_FILE_ID));
    out.push(col(ROW).cast(DataType::UInt32).alias(c::SOURCE_ROW));

    let (first_failing, mut reject_checks) = first_failing(checks, &mut layers);
    reject_checks.rules = source
        .rules
        .iter()
        .take(excluded)
        .map(|r| r.name.clone())
        .collect();
    out.push(first_failing);
    out.push(col(LINE));
    out.push(col(JOINED));
    let every_field: Vec<Expr> = raw
        .headers
        .iter()
        .map(|h| col(h.as_str()).is_null())
        .collect();
    out.push(
        all_horizontal(every_field)
            .map_err(polars_err)?
            .alias(BLANK_ROW),
    );
    let mut order: Vec<Expr> = table_columns(source, pipeline)
        .into_iter()
        .chain(carried_columns(source))
        .collect::<Vec<_>>()
        .iter()
        .chain(
            [REJECT_CHECK, BLANK_ROW, LINE, JOINED]
                .map(String::from)
                .iter(),
        )
        .map(|n| col(n.as_str()))
        .collect();
    for (i, h) in raw.headers.iter().enumerate() {
        out.push(col(h.as_str()).alias(raw_column(i).as_str()));
        order.push(col(raw_column(i).as_str()));
    }
    // A wide row's column, label and value ride along for its reject to name (never stored).
    if source.wide.is_some() {
        for name in crate::config::WIDE_HELPERS {
            out.push(col(name));
            order.push(col(name));
        }
    }
    Ok((layers.apply(frame).select(out).select(order), reject_checks))
}

/// `service` from the category column through the source's mapping, and `category` as
/// exported; a category with no service (or a blank one, without `when_blank`) is rejected.
fn service_from_category(
    source: &SourceDef,
    services: &[(String, String)],
    (category_column, category): (String, Expr),
    layers: &mut Layers,
    checks: &mut Vec<Check>,
    out: &mut Vec<Expr>,
) {
    let service = if category_column.is_empty() {
        lit(NULL).cast(DataType::String)
    } else {
        layers.mapped(&category_column, services)
    };
    let service = match &source.service.when_blank {
        Some(label) => when(category.clone().is_null())
            .then(lit(label.clone()))
            .otherwise(service),
        None => {
            checks.push(missing(&category_column, category.clone()));
            service
        }
    };
    checks.push(Check {
        failed: service.clone().is_null(),
        reason: reason::UNMAPPED_SERVICE,
        column: category_column,
    });
    out.push(service.alias(c::SERVICE));
    out.push(category.alias(c::CATEGORY));
}

trait DefaultPair {
    fn unwrap_or_default_pair(self) -> (String, Expr);
}

impl DefaultPair for Option<(String, Expr)> {
    /// An unmapped optional column reads as all-null text.
    fn unwrap_or_default_pair(self) -> (String, Expr) {
        self.unwrap_or_else(|| (String::new(), lit(NULL).cast(DataType::String)))
    }
}

/// One check per row filter rule, in order: it fails (the row is excluded) when the rule's
/// column matches an `exclude` rule, or does not match an `include` rule. Each distinct value is
/// tested once.
fn row_rules(
    source: &SourceDef,
    header: &dyn Fn(&str) -> String,
    layers: &mut Layers,
) -> Vec<Check> {
    source
        .rules
        .iter()
        .map(|rule| {
            let column = header(&rule.column);
            // Each distinct value is tested once; a value missing from the row (null) never
            // reaches the test, so blank is decided here: as `""` for values, as empty text
            // for a pattern.
            let matches = match &rule.matches {
                RowMatch::Values(values) => {
                    let blank = values.iter().any(|v| v.is_empty());
                    let listed = Series::new("values".into(), values.clone());
                    layers
                        .per_value(
                            &column,
                            move |v| {
                                let text = cleaned(v);
                                let hit = normalised(text.clone())
                                    .is_in(lit(listed).implode(false), false)
                                    .fill_null(lit(false));
                                if blank {
                                    hit.or(text.is_null())
                                } else {
                                    hit
                                }
                            },
                            DataType::Boolean,
                        )
                        .fill_null(lit(blank))
                }
                RowMatch::Pattern(pattern) => {
                    let empty_matches = regex::Regex::new(pattern)
                        .map(|r| r.is_match(""))
                        .unwrap_or(false);
                    let pattern = pattern.clone();
                    layers
                        .per_value(
                            &column,
                            move |v| {
                                cleaned(v)
                                    .fill_null(lit(""))
                                    .str()
                                    .contains(lit(pattern), true)
                                    .fill_null(lit(false))
                            },
                            DataType::Boolean,
                        )
                        .fill_null(lit(empty_matches))
                }
            };
            Check {
                failed: if rule.keep_matching {
                    matches.not()
                } else {
                    matches
                },
                reason: reason::EXCLUDED,
                column,
            }
        })
        .collect()
}

/// A blank required value.
fn missing(column: &str, value: Expr) -> Check {
    Check {
        failed: value.clone().is_null(),
        reason: reason::MISSING_VALUE,
        column: column.to_string(),
    }
}

/// `timestamp`, `date`, `financial_year`, `year`, `month` from a local instant and, when the file
/// gave it, its wall-clock time (otherwise worked out from the instant); the rest is arithmetic on
/// the wall-clock time. A row whose instant is null is rejected, whatever its wall clock says.
/// The time columns of the canonical table, and the wall-clock date (for the plausibility check).
/// `at` is the first layer after the instant is ready: the wall clock worked out from it goes
/// there, the date in the next and the calendar in the one after.
fn time_columns(
    ts: Expr,
    wall: Option<Expr>,
    calendar: Calendar,
    layers: &mut Layers,
    at: usize,
) -> (Vec<Expr>, Expr) {
    let wall = wall.unwrap_or_else(|| {
        layers.stash(
            at,
            ts.clone()
                .dt()
                .replace_time_zone(None, lit("raise"), NonExistent::Raise),
        )
    });
    // A file covers a few hundred days at most: year, month and financial year are worked out
    // together, once per distinct day.
    let wall_date = wall.dt().date();
    let date = layers.stash(at + 1, wall_date.clone());
    let day_fields = DataType::Struct(vec![
        Field::new("year".into(), DataType::Int32),
        Field::new("month".into(), DataType::Int8),
        Field::new("label".into(), DataType::String),
    ]);
    let day = layers.stash(
        at + 2,
        per_distinct(
            date.clone(),
            |d| {
                let (year, month) = (d.clone().dt().year(), d.dt().month());
                // As the pipeline's calendar stood at ingest; figures work the label out again
                // from year and month when they are computed (`Calendar::label_expr`).
                let label = calendar.label_expr(year.clone(), month.clone());
                as_struct(vec![
                    year.alias("year"),
                    month.alias("month"),
                    label.alias("label"),
                ])
            },
            day_fields,
        ),
    );
    let field = |name: &str| day.clone().struct_().field_by_name(name);
    let (year, month, label) = (field("year"), field("month"), field("label"));
    (
        vec![
            ts.alias(c::TIMESTAMP),
            date.clone().alias(c::DATE),
            label.alias(c::FINANCIAL_YEAR),
            year.cast(DataType::Int32).alias(c::YEAR),
            month.cast(DataType::Int8).alias(c::MONTH),
        ],
        wall_date,
    )
}

fn contact_fields(
    source: &SourceDef,
    quality: &QualityGates,
    header: &dyn Fn(&str) -> String,
    layers: &mut Layers,
    checks: &mut Vec<Check>,
    out: &mut Vec<Expr>,
) {
    if source.kind == SourceKind::CallIntervals {
        interval_counts(source, quality.max_count, header, layers, checks, out);
    }
    let max_seconds = quality.max_duration_seconds;
    let default_outcome = source.default_outcome.clone();
    let outcome = match &source.columns.outcome {
        // Interval rows are expanded into one row per outcome after they are checked.
        _ if source.kind == SourceKind::CallIntervals => lit("answered"),
        Some(name) => {
            let column = header(name);
            let value = layers.text(&column);
            let outcome = layers.mapped(&column, &source.outcomes);
            let outcome = match &default_outcome {
                Some(d) => when(value.clone().is_null())
                    .then(lit(d.clone()))
                    .otherwise(outcome),
                None => {
                    checks.push(missing(&column, value.clone()));
                    outcome
                }
            };
            checks.push(Check {
                failed: outcome.clone().is_null(),
                reason: reason::UNKNOWN_OUTCOME,
                column,
            });
            outcome
        }
        None => lit(default_outcome.unwrap_or_else(|| "other".into())),
    };
    out.push(outcome.alias(c::OUTCOME));
    out.push(
        match &source.columns.count {
            // Pre-aggregated rows: each stands for its count of contacts (whole, 0 or more).
            Some(name) => {
                let column = header(name);
                let value = layers.text(&column);
                let n = layers.stash(1, number(value.clone(), source.decimal_comma));
                checks.push(missing(&column, value));
                checks.push(Check {
                    failed: n
                        .clone()
                        .is_null()
                        .or(n.clone().lt(lit(0.0)))
                        .or(n.clone().neq(n.clone().floor())),
                    reason: reason::BAD_NUMBER,
                    column: column.clone(),
                });
                checks.push(Check {
                    failed: n.clone().gt(lit(quality.max_count)),
                    reason: reason::IMPLAUSIBLE_COUNT,
                    column,
                });
                n.cast(DataType::UInt32)
            }
            // Typed, or the literal is written as Int32 where a counted source writes UInt32.
            None => lit(1u32).cast(DataType::UInt32),
        }
        .alias(c::CONTACTS),
    );
    out.push(lit(NULL).cast(DataType::UInt32).alias(c::WITHIN_THRESHOLD));
    out.push(lit(NULL).cast(DataType::UInt32).alias(c::SHORT_ABANDONS));
    // A reason code is kept as written, scrubbed like a comment: an adviser's note typed into
    // the code field keeps no e-mail address or phone number.
    if let Some(name) = &source.columns.reason {
        out.push(
            layers
                .per_value(
                    &header(name),
                    |v| scrub_comment(cleaned(v)),
                    DataType::String,
                )
                .alias(c::REASON),
        );
    }
    // Customer identifiers in one form, each distinct value once (customers come back: that
    // is what the keys are for); ingest keys them before anything is written.
    for id in identifiers(source) {
        let normalise = id.normalise;
        out.push(
            layers
                .per_value(
                    &header(id.source_column),
                    move |v| normalise(cleaned(v)),
                    DataType::String,
                )
                .alias(id.column),
        );
    }

    for (field, columns) in [
        (c::WAIT_SECONDS, &source.columns.wait),
        (c::HANDLE_SECONDS, &source.columns.handle),
    ] {
        let mut parts = Vec::new();
        for name in columns {
            let column = header(name);
            let value = layers.text(&column);
            let seconds = layers.stash(
                1,
                duration_seconds(value.clone(), source.durations, source.decimal_comma),
            );
            checks.push(Check {
                failed: value.clone().is_not_null().and(seconds.clone().is_null()),
                reason: reason::BAD_NUMBER,
                column: column.clone(),
            });
            checks.push(Check {
                failed: seconds.clone().lt(lit(0.0)),
                reason: reason::NEGATIVE_DURATION,
                column: column.clone(),
            });
            checks.push(Check {
                failed: seconds
                    .clone()
                    .is_finite()
                    .not()
                    .or(seconds.clone().gt(lit(max_seconds))),
                reason: reason::IMPLAUSIBLE_DURATION,
                column,
            });
            parts.push(seconds);
        }
        out.push(sum_of_present(parts).alias(field));
    }

    out.push(
        match &source.columns.resolved_first_contact {
            Some(name) => {
                let column = header(name);
                let value = layers.text(&column);
                let mut one_of = |values: &[String]| {
                    layers
                        .per_value(
                            &column,
                            |v| normalised_in(normalised(cleaned(v)), values),
                            DataType::Boolean,
                        )
                        .fill_null(lit(false))
                };
                let yes = one_of(&source.resolved_yes);
                let no = one_of(&source.resolved_no);
                checks.push(Check {
                    failed: value
                        .clone()
                        .is_not_null()
                        .and(yes.clone().not())
                        .and(no.not()),
                    reason: reason::UNKNOWN_VALUE,
                    column,
                });
                when(value.is_null())
                    .then(lit(NULL).cast(DataType::Boolean))
                    .otherwise(yes)
            }
            None => lit(NULL).cast(DataType::Boolean),
        }
        .alias(c::RESOLVED_FIRST_CONTACT),
    );

    for (field, configured) in [
        (c::LOCATION, &source.columns.location),
        (c::DEVICE, &source.columns.device),
    ] {
        out.push(
            match configured {
                Some(name) => layers.text(&header(name)),
                None => lit(NULL).cast(DataType::String),
            }
            .alias(field),
        );
    }
}

fn response_fields(
    source: &SourceDef,
    pipeline: &Pipeline,
    header: &dyn Fn(&str) -> String,
    headers: &[String],
    layers: &mut Layers,
    checks: &mut Vec<Check>,
    out: &mut Vec<Expr>,
) {
    let null_str = || lit(NULL).cast(DataType::String);
    let rating_column = source
        .columns
        .rating
        .as_deref()
        .map(header)
        .unwrap_or_default();
    let rating_raw = layers.text(&rating_column);
    // The scales answers are read on: the source's, then (a wide survey) its questions' own.
    // With more than one, an answer is looked up as "<scale's number>\u{1f}<answer>", the number
    // given by its question's column.
    let wide = source.wide.as_ref();
    let own_scales: &[(String, crate::config::RatingScale)] =
        wide.map(|w| w.scales.as_slice()).unwrap_or_default();
    // (number, scale): the source's is 0, its questions' own 1, 2... (`WideSpec::own_scale`).
    let scales: Vec<(usize, &crate::config::RatingScale)> = source
        .rating_scale
        .iter()
        .map(|s| (0, s))
        .chain(own_scales.iter().enumerate().map(|(i, (_, s))| (i + 1, s)))
        .collect();
    let keyed = |i: usize, value: &str| {
        if own_scales.is_empty() {
            value.to_string()
        } else {
            format!("{i}\u{1f}{value}")
        }
    };
    let pairs = |f: &dyn Fn(&crate::config::ScaleLevel) -> String| -> Vec<(String, String)> {
        scales
            .iter()
            .flat_map(|(i, s)| {
                s.levels
                    .iter()
                    .flat_map(move |l| l.values.iter().map(move |v| (keyed(*i, v), f(l))))
            })
            .collect()
    };
    let score_pairs: Vec<(String, f64)> = scales
        .iter()
        .flat_map(|(i, s)| {
            s.levels
                .iter()
                .flat_map(move |l| l.values.iter().map(move |v| (keyed(*i, v), l.score)))
        })
        .collect();
    // An answer the scale lists as not a rating ("Don't know") is accepted without a rating:
    // null label, score and sentiment, the answer kept in `rating_raw`.
    let not_rated: Vec<String> = scales
        .iter()
        .flat_map(|(i, s)| s.not_rated.iter().map(move |n| keyed(*i, &n.value)))
        .collect();
    // What is looked up: the answer, or (several scales) the answer keyed by its scale.
    let answer = if own_scales.is_empty() {
        col(rating_column.as_str())
    } else {
        let (columns, numbers): (Vec<String>, Vec<String>) = headers
            .iter()
            .filter_map(|h| {
                wide.and_then(|w| w.own_scale(h))
                    .map(|(i, _)| (h.clone(), i.to_string()))
            })
            .unzip();
        let number = col(crate::config::WIDE_COLUMN).replace_strict(
            lit(Series::new("column".into(), columns)),
            lit(Series::new("number".into(), numbers)),
            Some(lit("0")),
            Some(DataType::String),
        );
        concat_str(
            [number, lit("\u{1f}"), col(rating_column.as_str())],
            "",
            false,
        )
    };
    let looked_up =
        |f: Box<dyn FnOnce(Expr) -> Expr>, dtype: DataType| per_distinct(answer.clone(), f, dtype);
    let label_pairs = pairs(&|l| l.label.clone());
    let sentiment_pairs = pairs(&|l| l.sentiment.clone());
    let label = layers.stash(
        1,
        looked_up(
            Box::new(move |v| mapped(normalised(cleaned(v)), &label_pairs)),
            DataType::String,
        ),
    );
    let sentiment = layers.stash(
        1,
        looked_up(
            Box::new(move |v| mapped(normalised(cleaned(v)), &sentiment_pairs)),
            DataType::String,
        ),
    );
    let score = if score_pairs.is_empty() {
        lit(NULL).cast(DataType::Float64)
    } else {
        layers.stash(
            1,
            looked_up(
                Box::new(move |v| mapped_number(normalised(cleaned(v)), &score_pairs)),
                DataType::Float64,
            ),
        )
    };
    let rated_or_not = if not_rated.is_empty() {
        label.clone().is_not_null()
    } else {
        let unrated = layers.stash(
            1,
            looked_up(
                Box::new(move |v| normalised_in(normalised(cleaned(v)), &not_rated)),
                DataType::Boolean,
            ),
        );
        label.clone().is_not_null().or(unrated)
    };
    checks.push(Check {
        failed: rated_or_not.not(),
        reason: reason::RATING_NOT_IN_SCALE,
        column: rating_column,
    });
    out.push(rating_raw.alias(c::RATING_RAW));
    out.push(label.alias(c::RATING));
    out.push(score.alias(c::SCORE));
    out.push(sentiment.alias(c::SENTIMENT));

    for field in &pipeline.demographics {
        let configured = source
            .demographics
            .iter()
            .find(|(f, _)| *f == field.name)
            .map(|(_, column)| header(column));
        let Some(column) = configured else {
            // This source does not ask the question: null, not "not answered".
            out.push(null_str().alias(field.name.as_str()));
            continue;
        };
        let value = layers.text(&column);
        let category = layers.mapped(&column, &field.values);
        let category = match &field.unrecognised {
            Some(other) => category.fill_null(lit(other.clone())),
            None => {
                checks.push(Check {
                    failed: value.clone().is_not_null().and(category.clone().is_null()),
                    reason: reason::UNKNOWN_CATEGORY,
                    column: column.clone(),
                });
                category
            }
        };
        out.push(
            when(value.is_null())
                .then(lit(NOT_ANSWERED))
                .otherwise(category)
                .alias(field.name.as_str()),
        );
    }

    out.push(
        match &source.columns.postcode {
            Some(name) => layers.per_value(
                &header(name),
                |v| postcode_district(cleaned(v)),
                DataType::String,
            ),
            None => null_str(),
        }
        .alias(c::POSTCODE_DISTRICT),
    );
    out.push(
        match (&source.columns.comment, source.comments) {
            (Some(name), CommentPolicy::Scrub) => layers.per_value(
                &header(name),
                |v| scrub_comment(cleaned(v)),
                DataType::String,
            ),
            _ => null_str(),
        }
        .alias(c::COMMENT),
    );
}

/// The counts of an interval export, checked to be whole numbers of at least 0.
fn interval_counts(
    source: &SourceDef,
    max_count: f64,
    header: &dyn Fn(&str) -> String,
    layers: &mut Layers,
    checks: &mut Vec<Check>,
    out: &mut Vec<Expr>,
) {
    let cols = &source.columns;
    let fields = [
        (&cols.answered, INTERVAL_COUNTS[0]),
        (&cols.abandoned, INTERVAL_COUNTS[1]),
        (&cols.callbacks, INTERVAL_COUNTS[2]),
        (&cols.answered_within, INTERVAL_COUNTS[3]),
        (&cols.short_abandons, INTERVAL_COUNTS[4]),
    ];
    for (configured, name) in fields {
        let Some(configured) = configured else {
            out.push(lit(NULL).cast(DataType::UInt32).alias(name));
            continue;
        };
        let column = header(configured);
        let value = layers.text(&column);
        let n = layers.stash(1, number(value.clone(), source.decimal_comma));
        let not_a_count = n
            .clone()
            .is_null()
            .or(n.clone().lt(lit(0.0)))
            .or(n.clone().neq(n.clone().floor()));
        checks.push(Check {
            failed: value.clone().is_not_null().and(not_a_count),
            reason: reason::BAD_NUMBER,
            column: column.clone(),
        });
        checks.push(Check {
            failed: n.clone().gt(lit(max_count)),
            reason: reason::IMPLAUSIBLE_COUNT,
            column,
        });
        out.push(n.fill_null(lit(0.0)).cast(DataType::UInt32).alias(name));
    }
}

/// Whether normalised text is one of the given normalised values.
fn normalised_in(value: Expr, values: &[String]) -> Expr {
    let set = Series::new("set".into(), values.to_vec());
    value
        .is_in(lit(set).implode(false), false)
        .fill_null(lit(false))
}

/// Sum of duration parts where any is present (talk + wrap); null when none is.
fn sum_of_present(parts: Vec<Expr>) -> Expr {
    match parts.len() {
        0 => lit(NULL).cast(DataType::Float64),
        1 => parts.into_iter().next().unwrap_or_else(|| lit(NULL)),
        _ => {
            let any_present = parts
                .iter()
                .map(|p| p.clone().is_not_null())
                .reduce(|a, b| a.or(b))
                .unwrap_or_else(|| lit(false));
            let total = parts
                .into_iter()
                .map(|p| p.fill_null(lit(0.0)))
                .reduce(|a, b| a + b)
                .unwrap_or_else(|| lit(0.0));
            when(any_present)
                .then(total)
                .otherwise(lit(NULL).cast(DataType::Float64))
        }
    }
}

/// The index of each row's first failing check ([`REJECT_CHECK`], null when none fails), and
/// what each index means. Only the index is worked out for every row; the reason, column and
/// value are looked up for the few rejected rows ([`RejectChecks::describe`]).
fn first_failing(checks: Vec<Check>, layers: &mut Layers) -> (Expr, RejectChecks) {
    let mut first = lit(NULL).cast(DataType::UInt16);
    for (i, check) in checks.iter().enumerate().rev() {
        let failed = layers.stash(7, check.failed.clone().fill_null(lit(false)));
        first = when(failed).then(lit(i as u16)).otherwise(first);
    }
    let meaning = checks.into_iter().map(|c| (c.reason, c.column)).collect();
    (
        first.alias(REJECT_CHECK),
        RejectChecks {
            checks: meaning,
            rules: Vec::new(),
        },
    )
}

/// What the check indices of a file's plan stand for: (reason, file column) by index. Index 0
/// is the field count; indices 1 to the number of row filter rules are those rules (a row that
/// fails one is excluded, not rejected).
#[derive(Debug, Clone, Default)]
pub struct RejectChecks {
    checks: Vec<(&'static str, String)>,
    /// The row filter rules' names, in check order from index 1.
    rules: Vec<String>,
}

impl RejectChecks {
    /// The check indices that mean "excluded by a rule".
    pub fn excluded(&self) -> std::ops::Range<u16> {
        1..1 + self.rules.len() as u16
    }

    /// The name of the rule behind an excluded check index.
    pub fn rule_name(&self, check: u16) -> Option<&str> {
        self.rules
            .get(usize::from(check).checked_sub(1)?)
            .map(String::as_str)
    }

    /// `reject_reason`, `reject_column` and `reject_value` (the column's trimmed raw text) of
    /// rejected rows from their [`REJECT_CHECK`] and raw columns; `headers` are the file's.
    pub fn describe(&self, headers: &[String]) -> Vec<Expr> {
        let null_str = || lit(NULL).cast(DataType::String);
        let index = Series::new(
            "i".into(),
            (0..self.checks.len() as u16).collect::<Vec<_>>(),
        );
        let check = col(REJECT_CHECK);
        let lookup = |values: Vec<String>| {
            check.clone().replace_strict(
                lit(index.clone()),
                lit(Series::new("v".into(), values)),
                Some(null_str()),
                Some(DataType::String),
            )
        };
        let reason = lookup(self.checks.iter().map(|(r, _)| r.to_string()).collect());
        let mut column = lookup(self.checks.iter().map(|(_, c)| c.clone()).collect());
        // A wide row's value or label failed: its reject names the export's column and the
        // value as written there (or the column's label).
        let mut wide_value = None;
        for helper in [crate::config::WIDE_ANSWER, crate::config::WIDE_QUESTION] {
            let ids: Vec<u16> = (0..self.checks.len() as u16)
                .filter(|i| self.checks[usize::from(*i)].1 == helper)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let hit = check
                .clone()
                .is_in(lit(Series::new("ids".into(), ids)).implode(false), false)
                .fill_null(lit(false));
            column = when(hit.clone())
                .then(col(crate::config::WIDE_COLUMN))
                .otherwise(column);
            wide_value = Some(
                when(hit)
                    .then(cleaned(col(helper)))
                    .otherwise(wide_value.unwrap_or_else(null_str)),
            );
        }
        // The offending value: one branch per file column blamed, not per check.
        let mut by_column: Vec<(usize, Vec<u16>)> = Vec::new();
        for (i, (_, name)) in self.checks.iter().enumerate() {
            let Some(at) = headers.iter().position(|h| h == name) else {
                continue;
            };
            match by_column.iter_mut().find(|(c, _)| *c == at) {
                Some((_, ids)) => ids.push(i as u16),
                None => by_column.push((at, vec![i as u16])),
            }
        }
        // A row with the wrong number of fields, or rows joined by a quote, is quoted whole,
        // as exported.
        let mut value = wide_value.unwrap_or_else(null_str);
        for (why, text) in [
            (reason::WRONG_FIELD_COUNT, LINE),
            (reason::JOINED_ROWS, JOINED),
        ] {
            let whole: Vec<u16> = (0..self.checks.len() as u16)
                .filter(|i| self.checks[usize::from(*i)].0 == why)
                .collect();
            if !whole.is_empty() {
                let hit = check
                    .clone()
                    .is_in(lit(Series::new("ids".into(), whole)).implode(false), false)
                    .fill_null(lit(false));
                value = when(hit).then(col(text)).otherwise(value);
            }
        }
        for (at, ids) in by_column.into_iter().rev() {
            let hit = check
                .clone()
                .is_in(lit(Series::new("ids".into(), ids)).implode(false), false)
                .fill_null(lit(false));
            value = when(hit)
                .then(cleaned(col(raw_column(at).as_str())))
                .otherwise(value);
        }
        vec![
            reason.alias(REJECT_REASON),
            column.alias(REJECT_COLUMN),
            value.alias(REJECT_VALUE),
        ]
    }
}

/// Every configured column must be in the file (matched ignoring case and spacing).
fn check_columns(raw: &RawFile, source: &SourceDef) -> Result<(), SourceError> {
    let mut wanted: Vec<(String, String)> = source
        .columns
        .named()
        .into_iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect();
    if let ChannelSpec::Column { column, .. } = &source.channel {
        wanted.push(("channel".into(), column.clone()));
    }
    wanted.extend(
        source
            .customer
            .named()
            .into_iter()
            .map(|(f, c)| (f.to_string(), c.to_string())),
    );
    wanted.extend(
        source
            .demographics
            .iter()
            .map(|(f, c)| (format!("demographic {f}"), c.clone())),
    );
    wanted.extend(
        source
            .rules
            .iter()
            .map(|r| (format!("row filter '{}'", r.name), r.column.clone())),
    );
    // A mapped name that two of the file's columns carry: the mapping cannot tell which.
    for (_, column) in &wanted {
        let name = crate::text::normalise_header(column);
        if let Some(d) = raw
            .duplicate_headers
            .iter()
            .find(|d| crate::text::normalise_header(&d.first.1) == name)
        {
            return Err(d.refusal(&raw.path));
        }
    }
    let missing: Vec<(String, String)> = wanted
        .into_iter()
        .filter(|(_, column)| raw.column(column).is_none() && !is_virtual_column(column))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    // Every column missing and one header holding another separator: the delimiter is wrong.
    if let Some(delimiter) = likely_delimiter(&raw.headers, source.delimiter) {
        return Err(SourceError::WrongDelimiter {
            path: raw.path.clone(),
            delimiter,
        });
    }
    Err(SourceError::MissingColumns {
        path: raw.path.clone(),
        missing,
        available: raw.headers.clone(),
    })
}

/// The delimiter a file seems to use when it was read with `configured` and came out as one
/// column whose name holds several of another usual separator (`;`, tab, `|`, `,`).
fn likely_delimiter(headers: &[String], configured: u8) -> Option<String> {
    let [only] = headers else {
        return None;
    };
    [b';', b'\t', b'|', b',']
        .into_iter()
        .filter(|d| *d != configured)
        .map(|d| (d, only.bytes().filter(|b| *b == d).count()))
        .filter(|(_, n)| *n >= 2)
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| match d {
            b'\t' => "tab".to_string(),
            d => char::from(d).to_string(),
        })
}
