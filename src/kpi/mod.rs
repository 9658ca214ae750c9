//! The KPI stage: figures computed from the lake as lazy polars plans, one module per family
//! (volumes, channel shift, take-up, contact centre, satisfaction, ranks, benefits). Reads only the
//! canonical tables; writing them out is the output module's job.

pub mod avoidable;
pub mod benchmark;
pub mod benefits;
pub mod channel_shift;
pub mod contact_centre;
pub mod coverage;
mod linking;
pub mod quality;
pub mod repeats;
pub mod satisfaction;
pub mod takeup;
pub mod volumes;
pub mod weighting;

use std::collections::BTreeMap;

use polars::prelude::*;
use serde_json::json;

use crate::config::Pipeline;
use crate::granularity;
use crate::lake::{monthly, Lake, LakeError};
use crate::measures::out;
pub(crate) use crate::measures::{collect, figure_err, percent, FigureError};
use crate::model::{col as c, Table as LakeTable};
use crate::period::{self, Calendar, Period};
use crate::tables::contract::{column, name};
use crate::tables::counts::{Counts, Group, Input, SENTIMENT};
use crate::tables::{ColumnFormat, Table};
use crate::warnings::Warning;

/// Group keys of a monthly table: organisation, financial year, year, month, then `extra`.
pub fn monthly_keys(extra: &[&str]) -> Vec<Expr> {
    [c::ORGANISATION, c::FINANCIAL_YEAR, c::YEAR, c::MONTH]
        .iter()
        .chain(extra)
        .map(|k| col(*k))
        .collect()
}

/// Everything one KPI run produces.
pub struct KpiRun {
    pub period: Period,
    pub tables: Vec<Table>,
    /// Machine-readable summary: every channel-shift KPI with its value and status.
    pub summary: serde_json::Value,
    pub warnings: Vec<Warning>,
}

/// The reporting period when none is asked for: the last complete month with contacts in the
/// lake. A month still under way today (exports often run a few days into the next month) is
/// not complete, so the month before it is reported.
pub fn latest_month(
    lake: &Lake,
    today: chrono::NaiveDate,
    calendar: Calendar,
) -> Result<Period, FigureError> {
    let held = months_held(lake)?;
    let last = held.last().copied().ok_or_else(|| {
        FigureError::NoData(
            "the lake holds no contacts or responses dated by a day or a month: run `cex ingest` first, or give --fy for rows dated only by a quarter or a year".into(),
        )
    })?;
    let (year, month) = last_complete(last, today);
    Ok(Period::month(year, month, calendar))
}

/// The year, month and date granularity of the lake's contacts and responses ([`Lake::dated`]:
/// from their monthly sums), for the tables that hold any.
fn months_of_rows(
    lake: &Lake,
    months: Option<((i32, i8), (i32, i8))>,
) -> Result<Vec<LazyFrame>, FigureError> {
    let mut scans = Vec::new();
    for table in [LakeTable::Contacts, LakeTable::Responses] {
        if let Some(rows) = lake
            .dated(table, months)
            .map_err(|e: LakeError| FigureError::Data(e.to_string()))?
        {
            scans.push(rows);
        }
    }
    Ok(scans)
}

/// The months (year, month) that hold contacts or responses in the lake, in order.
pub fn months_held(lake: &Lake) -> Result<Vec<(i32, i8)>, FigureError> {
    months_held_among(lake, None)
}

/// [`months_held`] from `from` to `to` (inclusive), reading only those months' files.
pub fn months_held_in(
    lake: &Lake,
    from: (i32, i8),
    to: (i32, i8),
) -> Result<Vec<(i32, i8)>, FigureError> {
    let held = months_held_among(lake, Some((from, to)))?;
    // A file whose partition tells no month is read whatever the months: keep theirs only.
    Ok(held
        .into_iter()
        .filter(|m| (from..=to).contains(m))
        .collect())
}

fn months_held_among(
    lake: &Lake,
    months: Option<((i32, i8), (i32, i8))>,
) -> Result<Vec<(i32, i8)>, FigureError> {
    let mut held = std::collections::BTreeSet::new();
    for rows in months_of_rows(lake, months)? {
        // A quarter or a year says no month is held.
        let rows = rows.filter(granularity::dated_by_month());
        let df = collect(
            rows.select([
                col(c::YEAR).cast(DataType::Int32),
                col(c::MONTH).cast(DataType::Int32),
            ])
            .unique(None, UniqueKeepStrategy::Any),
        )?;
        let (years, ms) = (df.column(c::YEAR), df.column(c::MONTH));
        if let (Ok(years), Ok(ms)) = (years, ms) {
            if let (Ok(years), Ok(ms)) = (years.i32(), ms.i32()) {
                for (y, m) in years.iter().zip(ms.iter()) {
                    if let (Some(y), Some(m)) = (y, m) {
                        held.insert((y, m as i8));
                    }
                }
            }
        }
    }
    Ok(held.into_iter().collect())
}

/// A month (year, month) and its contacts.
pub type MonthContacts = ((i32, i8), u64);

/// The lake's contacts dated by a day or a month, summed per month (year, month), in order;
/// months with none are not listed. Read from the monthly aggregates where files have them.
pub fn contacts_per_month(
    lake: &Lake,
    at: monthly::Thresholds,
) -> Result<Vec<MonthContacts>, FigureError> {
    let data = |e: LakeError| FigureError::Data(e.to_string());
    let Some((sums, _)) = lake.contact_months(&at).map_err(data)? else {
        return Ok(Vec::new());
    };
    let df = collect(
        sums.filter(granularity::dated_by_month())
            .group_by([
                col(c::YEAR).cast(DataType::Int32),
                col(c::MONTH).cast(DataType::Int32),
            ])
            .agg([col(c::CONTACTS).cast(DataType::Int64).sum()])
            .sort([c::YEAR, c::MONTH], SortMultipleOptions::default()),
    )?;
    let column = |name: &str| {
        df.column(name)
            .and_then(|s| s.cast(&DataType::Int64))
            .and_then(|s| s.i64().cloned())
            .map_err(|e| FigureError::Data(e.to_string()))
    };
    let (years, months, contacts) = (column(c::YEAR)?, column(c::MONTH)?, column(c::CONTACTS)?);
    Ok(years
        .iter()
        .zip(months.iter())
        .zip(contacts.iter())
        .filter_map(|((y, m), n)| match (y, m, n) {
            (Some(y), Some(m), Some(n)) if n > 0 => {
                Some(((i32::try_from(y).ok()?, i8::try_from(m).ok()?), n as u64))
            }
            _ => None,
        })
        .collect())
}

/// True when the lake holds contacts or answers dated by a quarter or a year lying wholly
/// inside `months`: a period with nothing by month may still have figures over the year.
pub fn coarse_rows_in(lake: &Lake, months: &[(i32, i8)]) -> Result<bool, FigureError> {
    // A quarter or a year lying inside the months is stored under its first month, one of
    // theirs: only their files are read.
    let (Some(first), Some(last)) = (months.iter().min(), months.iter().max()) else {
        return Ok(false);
    };
    for rows in months_of_rows(lake, Some((*first, *last)))? {
        let found = collect(
            rows.filter(
                granularity::dated_by_month()
                    .not()
                    .and(granularity::counted_in(months)),
            )
            .select([col(c::YEAR)])
            .limit(1),
        )?;
        if found.height() > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `latest` unless it is the month of `today` (or later), then the month before today's.
fn last_complete(latest: (i32, i8), today: chrono::NaiveDate) -> (i32, i8) {
    use chrono::Datelike;
    let this_month = (today.year(), today.month() as i8);
    let (year, month) = if latest >= this_month {
        if this_month.1 == 1 {
            (this_month.0 - 1, 12)
        } else {
            (this_month.0, this_month.1 - 1)
        }
    } else {
        latest
    };
    (year, month)
}

/// A lake table's rows, each with its financial year worked out in `calendar` (the label stored
/// at ingest is the calendar of that day; a pipeline may have changed it since).
fn scan(
    lake: &Lake,
    table: LakeTable,
    calendar: Calendar,
) -> Result<Option<LazyFrame>, FigureError> {
    Ok(lake
        .scan(table)
        .map_err(|e: LakeError| FigureError::Data(e.to_string()))?
        .map(|rows| with_financial_year(rows, calendar)))
}

/// The contacts the KPI stage reads one by one (right first time): those dated by a day or a
/// month.
fn dated_by_month(contacts: LazyFrame) -> LazyFrame {
    contacts.filter(granularity::dated_by_month())
}

/// Rows (or monthly sums) labelled with the financial year of their year and month in `calendar`.
fn with_financial_year(rows: LazyFrame, calendar: Calendar) -> LazyFrame {
    rows.with_column(
        calendar
            .label_expr(col(c::YEAR), col(c::MONTH))
            .alias(c::FINANCIAL_YEAR),
    )
}

/// The lake's contacts summed by month (`lake::monthly`), labelled with financial years; the
/// sums of no contacts (same columns) when it holds none.
fn contact_months(lake: &Lake, pipeline: &Pipeline) -> Result<LazyFrame, FigureError> {
    let at = monthly::Thresholds::of(pipeline);
    let data = |e: LakeError| FigureError::Data(e.to_string());
    let sums = match lake.contact_months(&at).map_err(data)? {
        Some((sums, coverage)) => {
            if coverage.from_rows > 0 {
                crate::log::info(&format!(
                    "{} of {} contacts files have no monthly aggregates in the lake at these settings (written by an earlier cex, counted at another service-level or short-abandon setting, or a run stopped before they were committed): their figures are counted from the rows; the next `cex ingest` stores them",
                    coverage.from_rows,
                    coverage.from_rows + coverage.stored
                ));
            }
            sums
        }
        None => monthly::aggregate(empty_contacts()?, &at),
    };
    Ok(with_financial_year(sums, pipeline.calendar))
}

/// The tables made from contacts: left out when the lake holds none.
const COUNTS_CONTACTS: [&str; 11] = [
    name::CHANNEL_SHIFT,
    name::CHANNEL_TREND,
    name::VOLUMES,
    name::DIGITAL_TAKEUP,
    name::CHANNEL_MIX,
    name::FORM_COMPLETION,
    name::CONTACT_CENTRE,
    name::RESPONSE_RATE,
    name::SATISFACTION_WEIGHTED,
    name::SATISFACTION_WEIGHTS,
    name::BENEFITS_ESTIMATE,
];

/// A contacts table with no rows and the canonical columns, for a lake that holds only survey
/// responses: every figure over it is empty rather than an error.
fn empty_contacts() -> Result<LazyFrame, FigureError> {
    let text = |name: &str| Column::new_empty(name.into(), &DataType::String);
    let columns = vec![
        text(c::ORGANISATION),
        text(c::SOURCE),
        text(c::CHANNEL),
        text(c::SERVICE),
        text(c::CATEGORY),
        Column::new_empty(c::DATE.into(), &DataType::Date),
        text(c::FINANCIAL_YEAR),
        Column::new_empty(c::YEAR.into(), &DataType::Int32),
        Column::new_empty(c::MONTH.into(), &DataType::Int8),
        text(c::OUTCOME),
        Column::new_empty(c::CONTACTS.into(), &DataType::UInt32),
        Column::new_empty(c::WAIT_SECONDS.into(), &DataType::Float64),
        Column::new_empty(c::HANDLE_SECONDS.into(), &DataType::Float64),
        Column::new_empty(c::WITHIN_THRESHOLD.into(), &DataType::UInt32),
        Column::new_empty(c::SHORT_ABANDONS.into(), &DataType::UInt32),
        Column::new_empty(c::RESOLVED_FIRST_CONTACT.into(), &DataType::Boolean),
        text(c::LOCATION),
        text(c::DEVICE),
        text(c::DATE_GRANULARITY),
    ];
    DataFrame::new_infer_height(columns)
        .map(|df| df.lazy())
        .map_err(|e| FigureError::Data(e.to_string()))
}

/// Computes every KPI table for `period` from the lake.
pub fn compute(pipeline: &Pipeline, lake: &Lake, period: Period) -> Result<KpiRun, FigureError> {
    compute_tables(pipeline, lake, period, true)
}

/// The KPI tables disclosure control reads when they are not published (an equality stage or an
/// analyst's breakdown protected beside the period's publication): every table but right first
/// time's, which link single contacts (the costliest tables, on a large lake) and count no
/// survey answer, so that no cell of theirs is protected.
pub fn compute_for_disclosure(
    pipeline: &Pipeline,
    lake: &Lake,
    period: Period,
) -> Result<KpiRun, FigureError> {
    compute_tables(pipeline, lake, period, false)
}

/// The KPI tables for `period`; right first time's only with `linked`.
fn compute_tables(
    pipeline: &Pipeline,
    lake: &Lake,
    period: Period,
    linked: bool,
) -> Result<KpiRun, FigureError> {
    let config = &pipeline.kpi;
    // A survey-only lake: the satisfaction tables, data quality and lineage are published; the
    // tables that count contacts are left out (not published as zeros).
    let has_contacts = scan(lake, LakeTable::Contacts, pipeline.calendar)?;
    let surveyed = scan(lake, LakeTable::Responses, pipeline.calendar)?.is_some();
    let question = pipeline.overall_question.as_deref();
    if has_contacts.is_none() && !surveyed {
        return Err(FigureError::NoData(
            "the lake holds no contacts or responses: run `cex ingest` first".into(),
        ));
    }
    let no_contacts = has_contacts.is_none();
    // Every contact summed by month, those dated only by a quarter or a year included: only
    // figures over whole years read these, through `granularity::counted_in`. Every other figure
    // reads `contacts`, the sums of the contacts dated by a day or a month. Only right first time
    // reads single contacts (`rows`).
    let every_contact = contact_months(lake, pipeline)?;
    let contacts = every_contact.clone().filter(granularity::dated_by_month());
    let rows = has_contacts.map(dated_by_month);
    // Only the months the tables show are counted: from the first month of the earliest year
    // they compare (a KPI's baseline) to the period's end. The work grows with the period, not
    // with the lake's history, and a stray date far away cannot stretch the monthly grid.
    let window = (
        pipeline.calendar.first_month(first_year(config, period)),
        period.last_month(),
    );
    let volumes = collect(volumes::monthly_volumes(
        contacts
            .clone()
            .filter(period::in_range(window.0, window.1)),
        pipeline.calendar,
    )?)?;
    let volumes_lf = volumes.clone().lazy();
    // Form completion divides submitted forms by every form record, so it reads only the
    // sources whose export records an outcome: one that gives every row `default_outcome` has
    // no started or abandoned form, and would show 100% by construction.
    let defaulted: Vec<&str> = pipeline
        .sources
        .iter()
        .filter(|s| s.columns.outcome.is_none() && s.default_outcome.is_some())
        .map(|s| s.name.as_str())
        .collect();
    let completion_volumes = if defaulted.is_empty() {
        volumes_lf.clone()
    } else {
        let recorded = col(c::SOURCE)
            .is_in(
                lit(Series::new("defaulted".into(), defaulted.clone())).implode(false),
                false,
            )
            .not();
        collect(volumes::monthly_volumes(
            contacts
                .clone()
                .filter(period::in_range(window.0, window.1))
                .filter(recorded),
            pipeline.calendar,
        )?)?
        .lazy()
    };
    let coarse = coarse_volumes(&every_contact, window)?;
    let mut warnings = coarse_warnings(&coarse, config, period)?;
    let (shift, shift_warnings) =
        channel_shift::channel_shift(&volumes_lf, &coarse.clone().lazy(), config, period)?;
    warnings.extend(shift_warnings);
    let fy = financial_year_filter(period);
    let in_period = |lf: LazyFrame| lf.filter(fy.clone());
    // A year's figures (response rate, weighting) count the coarse rows wholly inside it.
    let in_year = granularity::counted_in(&period.months_in(period.financial_year()));
    let year_contacts = || {
        contacts_counted(&every_contact, config)
            .filter(in_year.clone())
            .drop(cols([c::DATE_GRANULARITY]))
    };

    let period_volumes = collect(in_period(volumes_lf.clone()))?;
    if !no_contacts && period_volumes.height() == 0 {
        warnings.push(Warning::NoContactsInPeriod {
            period: period.describe(),
        });
    } else if !no_contacts {
        warnings.extend(coverage::gaps(&every_contact, period)?);
    }
    // The contacts' tables (right first time, linking contacts, the longest) and the survey's
    // are made side by side.
    let contact_tables = || -> Result<(Vec<Table>, Vec<Warning>), FigureError> {
        let mut warnings = Vec::new();
        let (contact_centre, short_unknown) =
            contact_centre::contact_centre(in_period(contacts.clone()), config)?;
        warnings.extend(short_unknown);
        let mut tables = vec![
            table(
                name::CHANNEL_SHIFT,
                "Channel shift against targets",
                &format!(
                    "One row per KPI declared in the pipeline file: volume in {} against the same months of the baseline year, the target change, whether it is met and a RAG status (green: met; amber: moving the right way; red: not). Month columns compare {} with a year earlier.",
                    period.describe(),
                    period::month_name(period.last_month().0, period.last_month().1)
                ),
                shift.clone(),
                &[("baseline", ColumnFormat::Integer), ("current", ColumnFormat::Integer), ("change", ColumnFormat::Integer),
                  ("change_pct", ColumnFormat::Percent(1)), ("target_change_pct", ColumnFormat::Percent(1)), ("progress_pct", ColumnFormat::Percent(0)),
                  ("month_current", ColumnFormat::Integer), ("month_year_earlier", ColumnFormat::Integer), ("month_change", ColumnFormat::Integer)],
            ),
            table(
                name::CHANNEL_TREND,
                "Transactions by channel and month since the baseline",
                &format!(
                    "Every month from the start of the earliest baseline year to {}, counted as for the channel mix; `baseline` marks the months of a baseline year.",
                    period::month_name(period.last_month().0, period.last_month().1)
                ),
                collect(channel_trend(&volumes_lf, config, period)?)?,
                &[("transactions", ColumnFormat::Integer), ("share_pct", ColumnFormat::Percent(1))],
            ),
            table(
                name::VOLUMES,
                "Contacts by month, channel, service and outcome",
                &format!(
                    "Every month of {} that the lake holds contacts up to; a month with no contacts on a channel shows 0.",
                    period.describe()
                ),
                period_volumes,
                &[(volumes::VOLUME, ColumnFormat::Integer)],
            ),
            table(
                name::DIGITAL_TAKEUP,
                "Digital take-up by service and month",
                &format!(
                    "Digital transactions / (digital + assisted transactions), as the pipeline's [channels] define them: digital = {}; assisted = {}. A web form counts when submitted, a telephone call when {}, every other contact as it is.",
                    pipeline.channels.digital_names().join(", "),
                    pipeline.channels.assisted_names().join(", "),
                    match config.takeup_telephone {
                        crate::config::kpi::TakeupTelephone::Offered => "offered",
                        crate::config::kpi::TakeupTelephone::Answered => "answered",
                    }
                ),
                collect(in_period(takeup::digital_takeup(&volumes_lf, config.takeup_telephone, &pipeline.channels)?))?,
                &[("web", ColumnFormat::Integer), ("telephone", ColumnFormat::Integer), ("face_to_face", ColumnFormat::Integer),
                  ("digital", ColumnFormat::Integer), ("assisted", ColumnFormat::Integer),
                  ("transactions", ColumnFormat::Integer), ("digital_takeup_pct", ColumnFormat::Percent(1))],
            ),
            table(
                name::CHANNEL_MIX,
                "Channel mix by month",
                "Each channel's share of transactions (web forms submitted, calls as for take-up, every visit and other contact).",
                collect(in_period(takeup::channel_mix(&volumes_lf, config.takeup_telephone)?))?,
                &[("transactions", ColumnFormat::Integer), ("share_pct", ColumnFormat::Percent(1))],
            ),
            table(
                name::FORM_COMPLETION,
                "Web form completion by service and month",
                "Forms submitted / forms started (every form record: submitted, abandoned, draft, started).",
                collect(in_period(takeup::form_completion(&completion_volumes)))?,
                &[("started", ColumnFormat::Integer), ("completed", ColumnFormat::Integer), ("completion_rate_pct", ColumnFormat::Percent(1))],
            ),
            table(
                name::CONTACT_CENTRE,
                "Contact centre by month and queue",
                &format!(
                    "Service level: {}. Abandonment: {}. ASA: mean wait of answered calls; AHT: mean talk + wrap of answered calls; first-contact resolution: resolved at first contact / answered calls where recorded.",
                    config.service_level.describe(config.service_level_seconds),
                    config.abandonment.describe(config.short_abandon_seconds)
                ),
                collect(contact_centre)?,
                &[("offered", ColumnFormat::Integer), ("answered", ColumnFormat::Integer), ("abandoned", ColumnFormat::Integer),
                  ("abandonment_rate_pct", ColumnFormat::Percent(1)), ("asa_seconds", ColumnFormat::Decimal(0)),
                  ("service_level_pct", ColumnFormat::Percent(1)), ("aht_seconds", ColumnFormat::Decimal(0)),
                  ("first_contact_resolution_pct", ColumnFormat::Percent(1))],
            ),
        ];
        if let (Some(rows), true) = (&rows, linked) {
            tables.extend(right_first_time(
                pipeline,
                lake,
                rows,
                period,
                &mut warnings,
            )?);
        }
        Ok((tables, warnings))
    };
    let survey_tables = || -> Result<(Vec<Table>, Vec<Warning>), FigureError> {
        let mut warnings = Vec::new();
        let mut tables = Vec::new();
        if let Some(responses) = answer_sums(lake, period, pipeline.calendar)? {
            // Answers dated by a day or a month in the year's months, and those dated by a quarter
            // or a year wholly inside them (the monthly table leaves the latter out).
            warnings.extend(coarse_answers(responses.clone(), period)?);
            let answers_in_year = fy.clone().and(in_year.clone());
            let every_answer = responses.clone().filter(answers_in_year.clone());
            let responses =
                crate::measures::overall_answers(responses, question).filter(answers_in_year);
            let not_rated_answers = pipeline.not_rated_answers();
            let not_rated = !not_rated_answers.is_empty();
            let confidence = pipeline.equality.confidence;
            let z = crate::measures::normal_quantile(1.0 - (1.0 - confidence) / 2.0).ok_or_else(
                || FigureError::Data(format!("confidence {confidence} is not usable")),
            )?;
            let survey_answers = responses.clone();
            let mut survey = satisfaction_tables(
                responses,
                &period.calendar().label(period.financial_year()),
                year_contacts(),
                config,
                &not_rated_answers,
            )?;
            if !no_contacts {
                survey.extend(weighted_tables(
                    crate::measures::rated_answers(survey_answers),
                    year_contacts(),
                    config,
                    confidence,
                    z,
                )?);
            }
            if let Some(overall) = question {
                // Every table above counts the overall question's answers: a cohort of the
                // respondent cube with that question, linked to the per-question table's row for it.
                for t in &mut survey {
                    if let Some(counts) = &mut t.counts {
                        counts
                            .fixed
                            .push((column::QUESTION.to_string(), overall.to_string()));
                    }
                }
                survey.push(by_question(every_answer, overall, not_rated)?);
            }
            tables.extend(survey);
        }
        Ok((tables, warnings))
    };
    let (contact_part, survey_part) = rayon::join(contact_tables, survey_tables);
    let (mut tables, contact_warnings) = contact_part?;
    warnings.extend(contact_warnings);
    let (survey, survey_warnings) = survey_part?;
    tables.extend(survey);
    warnings.extend(survey_warnings);
    let benefit = benefits::benefits(&shift, config)?;
    tables.push(table(
        name::BENEFITS_ESTIMATE,
        "Benefits estimate (officer hours and cost)",
        "An estimate, not a measurement: contacts avoided on each reduction KPI's channel against its baseline, times the handling minutes and unit cost assumed in the pipeline file (kpi.unit_costs), shown in each row.",
        benefit,
        &[("baseline", ColumnFormat::Integer), ("current", ColumnFormat::Integer), ("contacts_avoided", ColumnFormat::Integer),
          ("assumed_minutes_per_contact", ColumnFormat::Decimal(1)), ("assumed_cost_per_contact", ColumnFormat::Decimal(2)),
          ("officer_hours_released", ColumnFormat::Decimal(0)), ("cost_avoided", ColumnFormat::Decimal(0))],
    ));
    let manifest =
        crate::lake::manifest::read(lake).map_err(|e| FigureError::Data(e.to_string()))?;
    tables.push(table(
        name::DATA_QUALITY,
        "Files and rows behind these figures",
        &format!(
            "Every file in the lake, by pipeline and source: rows read = accepted + rejected + duplicates + excluded (rows out of scope under the source's row filter rules, counted by rule in excluded_by_rule), and the dates the accepted rows cover. The rejected share is of the rows in scope (read - excluded). Rejected rows are listed with their reasons in the lake's rejects folder. {}",
            lake_version_note(lake)
        ),
        collect(quality::data_quality(manifest.clone().lazy()))?,
        &[("files", ColumnFormat::Integer), ("rows_read", ColumnFormat::Integer), ("accepted", ColumnFormat::Integer),
          ("rejected", ColumnFormat::Integer), ("duplicates", ColumnFormat::Integer), ("excluded", ColumnFormat::Integer), ("rejected_pct", ColumnFormat::Percent(2))],
    ));
    tables.push(table(
        name::LINEAGE,
        "Lineage: every file ingested, with its content hash",
        "One row per file in the lake: its path as ingested, SHA-256 of its content (for a source whose file names give the month, channel or council, of its content and those fields), counts and when it was ingested. The same hash means the same bytes (under the same name's fields).",
        collect(quality::lineage(manifest.lazy()))?,
        &[("size_bytes", ColumnFormat::Integer), ("rows_read", ColumnFormat::Integer), ("accepted", ColumnFormat::Integer),
          ("rejected", ColumnFormat::Integer), ("duplicates", ColumnFormat::Integer), ("excluded", ColumnFormat::Integer)],
    ));
    tables.retain(|t| t.frame.width() > 0);
    // Telephone contacts none of which is a call (a case export's requests taken by phone):
    // no contact-centre table, rather than "396 offered, 0 answered, 0.0% abandoned".
    let no_calls = tables
        .iter()
        .any(|t| t.name == name::CONTACT_CENTRE && t.frame.height() == 0);
    if no_calls && !no_contacts {
        tables.retain(|t| t.name != name::CONTACT_CENTRE);
        crate::log::info(
            "no telephone contact in the lake has a call outcome (answered, abandoned, callback): the contact-centre table is left out",
        );
    }
    // Web forms only from sources that record no outcome: nothing to divide by.
    let no_outcomes = tables
        .iter()
        .any(|t| t.name == name::FORM_COMPLETION && t.frame.height() == 0);
    if no_outcomes && !defaulted.is_empty() && !no_contacts {
        tables.retain(|t| t.name != name::FORM_COMPLETION);
        crate::log::info(&format!(
            "no web form in the lake comes from an export that records its outcome ({} set every row's outcome with default_outcome): the form-completion table is left out",
            defaulted.join(", ")
        ));
    }
    if no_contacts {
        tables.retain(|t| !COUNTS_CONTACTS.contains(&t.name.as_str()));
        crate::log::info(
            "the lake holds survey responses but no contacts: channel shift, volumes, take-up, mix, form completion, contact centre, response rate and benefits tables are left out",
        );
    }
    let mut summary = summary(pipeline, period, &shift, &warnings);
    summary["lake_version"] = json!(lake.version());
    Ok(KpiRun {
        period,
        tables,
        summary,
        warnings,
    })
}

/// Satisfaction by channel (year and month), by service, by rating, the response rate and, when
/// the lake pools several councils, benchmark ranks.
/// How every satisfaction table shows its counts and scores in the workbook.
const SCORE_FORMATS: [(&str, ColumnFormat); 8] = [
    ("responses", ColumnFormat::Integer),
    ("positive", ColumnFormat::Integer),
    ("neutral", ColumnFormat::Integer),
    ("negative", ColumnFormat::Integer),
    ("council_score_pct", ColumnFormat::Percent(1)),
    ("net_satisfaction", ColumnFormat::Decimal(3)),
    ("satisfied_pct", ColumnFormat::Percent(1)),
    ("dissatisfied_pct", ColumnFormat::Percent(1)),
];

/// With `not_rated`, the tables of scores by channel, month and service count each group's answers
/// that are not a rating beside its rated N; every other table, and every figure, counts rated
/// answers only.
/// [`SCORE_FORMATS`], and the `not_rated` count's where it is published.
fn score_formats(not_rated: bool) -> Vec<(&'static str, ColumnFormat)> {
    let mut formats = SCORE_FORMATS.to_vec();
    if not_rated {
        formats.push((out::NOT_RATED, ColumnFormat::Integer));
    }
    formats
}

fn satisfaction_tables(
    answers: LazyFrame,
    financial_year: &str,
    contacts: LazyFrame,
    config: &crate::config::kpi::KpiConfig,
    not_rated_answers: &[crate::config::NotRated],
) -> Result<Vec<Table>, FigureError> {
    use satisfaction::{rating_counts, response_rate, satisfaction_by};
    let not_rated = !not_rated_answers.is_empty();
    let responses = crate::measures::rated_answers(answers.clone());
    let score_formats = score_formats(not_rated);
    let scores: &[(&str, ColumnFormat)] = &score_formats;
    // Scores over the answers that `by` can place: a table by month counts only answers dated
    // by a day or a month (one dated by a quarter or a year is in no month).
    let scored_by = |by: &[&str]| {
        let placed = |lf: LazyFrame| {
            if by.contains(&c::MONTH) {
                lf.filter(granularity::dated_by_month())
            } else {
                lf
            }
        };
        if not_rated {
            satisfaction::satisfaction_and_not_rated_by(placed(answers.clone()), by)
        } else {
            satisfaction_by(placed(responses.clone()), by)
        }
    };
    const HOW: &str = "Council score = (Good + Average - Poor) / N, as the Cabinet report publishes it; net satisfaction = GovMetric's index, the mean of Good +1, Average 0, Poor -1; % satisfied = positive / N; % dissatisfied = negative / N. Always read a score with its N.";
    let how = if not_rated {
        format!("{HOW} N counts rated answers only; not_rated counts the answers that are not a rating (don't know, not applicable), which no figure divides by.")
    } else {
        HOW.to_string()
    };
    let how = how.as_str();
    let org_fy = [c::ORGANISATION, c::FINANCIAL_YEAR];
    let mut rate_formats = vec![
        ("responses", ColumnFormat::Integer),
        ("contacts", ColumnFormat::Integer),
        ("response_rate_pct", ColumnFormat::Percent(2)),
        ("survey_share_pct", ColumnFormat::Percent(1)),
        ("contact_share_pct", ColumnFormat::Percent(1)),
    ];
    if not_rated {
        rate_formats.push((out::NOT_RATED, ColumnFormat::Integer));
    }
    let mut tables = vec![
        table(
            name::SATISFACTION_BY_CHANNEL,
            "Satisfaction by channel",
            how,
            collect(scored_by(&[org_fy[0], org_fy[1], c::CHANNEL]))?,
            scores,
        ),
        table(
            name::SATISFACTION_MONTHLY,
            "Satisfaction by channel and month",
            how,
            collect(scored_by(&[
                org_fy[0],
                org_fy[1],
                c::YEAR,
                c::MONTH,
                c::CHANNEL,
            ]))?,
            scores,
        ),
        table(
            name::SATISFACTION_BY_SERVICE,
            "Satisfaction by channel and service",
            how,
            collect(scored_by(&[org_fy[0], org_fy[1], c::CHANNEL, c::SERVICE]))?,
            scores,
        ),
        table(
            name::SATISFACTION_RATINGS,
            "Responses by rating and channel",
            if not_rated {
                "Counts of each answer on the rating scale, and its share of the channel's rated responses; then the answers that are not a rating (rated = no: don't know, not applicable), each with its count and no share, since no figure divides by them."
            } else {
                "Counts of each answer on the rating scale, and its share of the channel's responses."
            },
            collect(
                rating_counts(
                    if not_rated {
                        answers.clone()
                    } else {
                        responses.clone()
                    },
                    &[org_fy[0], org_fy[1], c::CHANNEL],
                    not_rated_answers,
                )
                .map_err(|e| FigureError::Data(e.to_string()))?,
            )?,
            &[
                ("responses", ColumnFormat::Integer),
                ("share_pct", ColumnFormat::Percent(1)),
            ],
        ),
        table(
            name::RESPONSE_RATE,
            "Survey response rate and mix by channel",
            if not_rated {
                "Responses / contacts per channel, and each channel's share of responses against its share of contacts: a score from a barely surveyed channel needs care. Responses are rated answers; not_rated counts the channel's answers that are not a rating, in no rate or share."
            } else {
                "Responses / contacts per channel, and each channel's share of responses against its share of contacts: a score from a barely surveyed channel needs care."
            },
            collect(response_rate(
                if not_rated {
                    answers.clone()
                } else {
                    responses.clone()
                },
                contacts,
                &[org_fy[0], org_fy[1], c::CHANNEL],
                not_rated,
            ))?,
            &rate_formats,
        ),
    ];
    // What disclosure control needs: the cohort of each row (every satisfaction table is
    // keyed by council and financial year, then its own groups) and how ratings make sentiments.
    let org_fy_groups = || {
        vec![
            Group::column(c::ORGANISATION),
            Group::column(c::FINANCIAL_YEAR),
        ]
    };
    let month = Group {
        columns: vec![c::YEAR.into(), c::MONTH.into()],
        ..Group::column(c::MONTH)
    };
    let with = |mut groups: Vec<Group>, more: Vec<Group>| {
        groups.extend(more);
        groups
    };
    let scored = |groups| {
        let counts = Counts::satisfaction(groups, Vec::new());
        if not_rated {
            counts.with_not_rated()
        } else {
            counts
        }
    };
    tables[0].counts = Some(scored(with(
        org_fy_groups(),
        vec![Group::column(c::CHANNEL)],
    )));
    tables[1].counts = Some(scored(with(
        org_fy_groups(),
        vec![month.clone(), Group::column(c::CHANNEL)],
    )));
    tables[2].counts = Some(scored(with(
        org_fy_groups(),
        vec![Group::column(c::CHANNEL), Group::column(c::SERVICE)],
    )));
    let mut rating = Group::column(c::RATING);
    rating.implies = rating_sentiments(&responses)?
        .into_iter()
        .map(|(r, s)| (r, SENTIMENT.to_string(), s))
        .collect();
    // Answers that are not a rating have rows of their own: `rated = no` makes each the
    // not-rated cohort narrowed to its answer, so they sum to the channel's `not_rated` count
    // and never to its rated N ("yes" is every rated row: the dimension is dropped).
    let rated = Group {
        total: Some(satisfaction::RATED_YES.to_string()),
        lists_all: false,
        ..Group::column(satisfaction::RATED)
    };
    let mut rating_groups = vec![Group::column(c::CHANNEL)];
    if not_rated {
        rating_groups.push(rated);
    }
    rating_groups.push(rating);
    tables[3].counts = Some(
        Counts {
            groups: with(org_fy_groups(), rating_groups),
            cohort: Some(out::RESPONSES.into()),
            ..Counts::default()
        }
        .derive(
            "share_pct",
            vec![
                Input::Row(out::RESPONSES.into()),
                Input::Without(out::RESPONSES.into(), vec![c::RATING.into()]),
            ],
        ),
    );
    tables[4].counts = Some(
        scored(with(org_fy_groups(), vec![Group::column(c::CHANNEL)]))
            .derive("response_rate_pct", vec![Input::Row(out::RESPONSES.into())])
            .derive(
                "survey_share_pct",
                vec![
                    Input::Row(out::RESPONSES.into()),
                    Input::Without(out::RESPONSES.into(), vec![c::CHANNEL.into()]),
                ],
            ),
    );
    let organisations = collect(
        responses
            .clone()
            .select([col(c::ORGANISATION).n_unique().alias("n")]),
    )?
    .column("n")
    .ok()
    .and_then(|c| c.cast(&DataType::UInt32).ok())
    .and_then(|c| c.u32().ok().and_then(|s| s.get(0)))
    .unwrap_or(0);
    if organisations > 1 {
        let monthly = satisfaction_by(responses, &[c::ORGANISATION, c::YEAR, c::MONTH, c::CHANNEL]);
        tables.push(table(
            name::BENCHMARK_RANKS,
            "Benchmark ranks by channel and month",
            &format!(
                "Councils ranked on {} per channel and month (1 = best; equal scores share a rank, ranked on full precision, shown to 2 decimals); a council needs {} responses in the month to be ranked.",
                config.rank_on.column(), config.min_responses_to_rank
            ),
            collect(benchmark::benchmark_ranks(monthly, config.rank_on.column(), config.min_responses_to_rank))?,
            &SCORE_FORMATS,
        ));
        if let Some(ranks) = tables.last_mut() {
            ranks.counts = Some(Counts::satisfaction(
                vec![
                    Group::column(c::ORGANISATION),
                    month,
                    Group::column(c::CHANNEL),
                ],
                vec![(c::FINANCIAL_YEAR.into(), financial_year.into())],
            ));
        }
    }
    Ok(tables)
}

/// Satisfaction weighted to the contact mix (`satisfaction_weighted`) and the weights behind it
/// (`satisfaction_weights`), with the layouts disclosure control needs: the weighted figures
/// of a row read every weighting cell of it (and, for a service weighted on channel cells, the
/// channel cells of all services), so they are blank whenever one of those is.
pub(crate) fn weighted_tables(
    responses: LazyFrame,
    contacts: LazyFrame,
    config: &crate::config::kpi::KpiConfig,
    confidence: f64,
    z: f64,
) -> Result<Vec<Table>, FigureError> {
    use weighting::{out as w, ALL_SERVICES, BY_CHANNEL};
    let how = weighting::Weighting {
        cap: config.weight_cap,
        min_responses: config.weighting_min_responses,
    };
    let cells = weighting::cells(responses, contacts, how).map_err(figure_err)?;
    let chosen = collect(cells.chosen)?;
    let channels = collect(cells.channels)?;
    let rows = collect(weighting::weighted(chosen.clone().lazy(), z))?;

    // The cells each row is weighted on, and the channel cells of all services, as inputs.
    let text = |df: &DataFrame, name: &str| crate::tables::frame::texts(df, name);
    let cell = |column: &str, channel: &str, service: &str| {
        let mut set = vec![(c::CHANNEL.to_string(), channel.to_string())];
        if service != ALL_SERVICES {
            set.push((c::SERVICE.to_string(), service.to_string()));
        }
        Input::Cell {
            column: column.to_string(),
            drop: vec![c::SERVICE.to_string()],
            set,
        }
    };
    let weighted_cells = |df: &DataFrame| -> Result<Vec<(String, String, String)>, FigureError> {
        let (scope, channel, service) = (
            text(df, w::SCOPE)?,
            text(df, c::CHANNEL)?,
            text(df, c::SERVICE)?,
        );
        let weight = crate::tables::frame::numbers(df, w::WEIGHT)?;
        Ok((0..df.height())
            .filter(|r| weight[*r].is_some())
            .filter_map(|r| Some((scope[r].clone()?, channel[r].clone()?, service[r].clone()?)))
            .collect())
    };
    let used = weighted_cells(&chosen)?;
    let borrowed: Vec<Input> = weighted_cells(&channels)?
        .iter()
        .map(|(_, ch, s)| cell(w::RESPONSES, ch, s))
        .collect();
    // What the weights of a row's cells are computed from: the responses of every weighted cell
    // of the row (the cap is a multiple of their mean weight), or of the channel cells of all
    // services for a service weighted on channels.
    let weights_of = |scope: &str, weighting: &str| -> Vec<Input> {
        if weighting == BY_CHANNEL && scope != ALL_SERVICES {
            return borrowed.clone();
        }
        used.iter()
            .filter(|(s, _, _)| s == scope)
            .map(|(_, ch, s)| cell(w::RESPONSES, ch, s))
            .collect()
    };
    let (row_scope, row_weighting) = (text(&rows, c::SERVICE)?, text(&rows, w::WEIGHTING)?);
    let row_inputs: Vec<Vec<Input>> = (0..rows.height())
        .map(|r| {
            let scope = row_scope[r].clone().unwrap_or_default();
            let mut inputs = weights_of(&scope, row_weighting[r].as_deref().unwrap_or_default());
            for (_, ch, s) in used.iter().filter(|(s, _, _)| *s == scope) {
                for count in [w::POSITIVE, w::NEUTRAL, w::NEGATIVE] {
                    inputs.push(cell(count, ch, s));
                }
            }
            inputs
        })
        .collect();
    let (cell_scope, cell_weighting) = (text(&chosen, w::SCOPE)?, text(&chosen, w::WEIGHTING)?);
    let cell_inputs: Vec<Vec<Input>> = (0..chosen.height())
        .map(|r| {
            weights_of(
                cell_scope[r].as_deref().unwrap_or_default(),
                cell_weighting[r].as_deref().unwrap_or_default(),
            )
        })
        .collect();

    let percent1 = ColumnFormat::Percent(1);
    let whole = ColumnFormat::Integer;
    let mut weighted = table(
        name::SATISFACTION_WEIGHTED,
        "Satisfaction weighted to the contact mix",
        &format!(
            "The council score of all services and of each service, unweighted (as in the other satisfaction tables) and weighted to the period's contacts: each response counts for its cell's contacts / responses, so a channel answering the survey more than its share of contacts does not pull the score its way. Cells are channel x service where each with contacts has at least {min} responses (kpi.weighting_min_responses), channels otherwise (a service then takes the channel weights of all services); `weighting` says which. Weights are capped at {cap} times the mean weight (kpi.weight_cap): `weight_cap`, and the cells and responses capped. n_eff = (sum of weights)^2 / sum of squared weights (Kish), design_effect = weighted responses / n_eff; the {pct:.0}% interval is Wilson's on n_eff. Contacts in cells without responses are not represented (`contacts_unrepresented_pct`); responses in cells without contacts are not weighted (`not_weighted`). Weighting corrects the channel (and service) mix only: it cannot correct who answers within a cell.",
            min = config.weighting_min_responses,
            cap = config.weight_cap,
            pct = confidence * 100.0,
        ),
        rows,
        &[(w::RESPONSES, whole), (w::POSITIVE, whole), (w::NEUTRAL, whole), (w::NEGATIVE, whole),
          (w::COUNCIL_SCORE_PCT, percent1), (c::CONTACTS, whole), (w::CONTACTS_UNREPRESENTED_PCT, percent1),
          (w::CELLS, whole), (w::WEIGHTED_RESPONSES, whole), (w::WEIGHT_CAP, ColumnFormat::Decimal(2)),
          (w::CAPPED_CELLS, whole), (w::CAPPED_RESPONSES, whole), (w::SUM_WEIGHTS, ColumnFormat::Decimal(1)),
          (w::N_EFF, ColumnFormat::Decimal(1)), (w::DESIGN_EFFECT, ColumnFormat::Decimal(2)),
          (w::WEIGHTED_COUNCIL_SCORE_PCT, percent1), (w::WEIGHTED_SCORE_LOW, percent1),
          (w::WEIGHTED_SCORE_HIGH, percent1), (w::WEIGHTED_SATISFIED_PCT, percent1)],
    );
    weighted.counts = Some(
        Counts::satisfaction(
            vec![
                Group::column(c::ORGANISATION),
                Group::column(c::FINANCIAL_YEAR),
                Group::column(c::SERVICE).with_total(ALL_SERVICES),
            ],
            Vec::new(),
        )
        .derive_by_row(&weighting::FROM_CELLS, row_inputs),
    );
    let mut weights = table(
        name::SATISFACTION_WEIGHTS,
        "Weights behind the weighted satisfaction",
        "One row per row of satisfaction_weighted (`scope`: all services or a service) and cell it is weighted on: the cell's contacts and responses, its weight (contacts / responses, or for a service weighted on channels the channel's weight over all services) and whether it was capped. A cell with no weight has no contacts or no responses.",
        chosen.select([
            c::ORGANISATION, c::FINANCIAL_YEAR, w::SCOPE, w::WEIGHTING, c::CHANNEL, c::SERVICE,
            c::CONTACTS, w::RESPONSES, w::WEIGHT, w::CAPPED,
        ]).map_err(figure_err)?,
        &[(c::CONTACTS, whole), (w::RESPONSES, whole), (w::WEIGHT, ColumnFormat::Decimal(2))],
    );
    // A cell appears once per row it weights: the rows do not add up to anything.
    let listed = |name: &str| Group {
        lists_all: false,
        ..Group::column(name)
    };
    weights.counts = Some(
        Counts {
            groups: vec![
                listed(c::ORGANISATION),
                listed(c::FINANCIAL_YEAR),
                listed(c::CHANNEL),
                listed(c::SERVICE).with_total(ALL_SERVICES),
            ],
            cohort: Some(w::RESPONSES.into()),
            ..Counts::default()
        }
        .derive_by_row(&[w::WEIGHT, w::CAPPED], cell_inputs),
    );
    Ok(vec![weighted, weights])
}

/// Which sentiment each rating label means, read from the responses (a label meaning two
/// sentiments on two scales is left out).
fn rating_sentiments(responses: &LazyFrame) -> Result<Vec<(String, String)>, FigureError> {
    let pairs = collect(
        responses
            .clone()
            .select([col(c::RATING), col(c::SENTIMENT)])
            .unique(None, UniqueKeepStrategy::Any),
    )?;
    let text = |name: &str| crate::tables::frame::texts(&pairs, name);
    let mut meaning: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (r, s) in text(c::RATING)?.into_iter().zip(text(c::SENTIMENT)?) {
        if let (Some(r), Some(s)) = (r, s) {
            meaning.entry(r).or_default().push(s);
        }
    }
    Ok(meaning
        .into_iter()
        .filter(|(_, s)| s.len() == 1)
        .map(|(r, mut s)| (r, s.remove(0)))
        .collect())
}

/// The right-first-time tables (repeat contact, resolution as observed, failure demand, days
/// to a repeat), when a source maps customer identifiers and the period's contacts carry keys,
/// and the avoidable-contact tables, when `[avoidable]` is set. Contacts are read from the
/// longest window before the first month wanted (the period's financial year's, or a
/// baseline year's) to the longest window after the period's last month: the work grows with
/// the period, not the lake; with customer keys, settled months are read from the sums kept in
/// the lake (`linking`), so a monthly run links only its last months.
fn right_first_time(
    pipeline: &Pipeline,
    lake: &Lake,
    contacts: &LazyFrame,
    period: Period,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Table>, FigureError> {
    let keyed = pipeline.sources.iter().any(|s| s.customer.any());
    let avoidable = pipeline.avoidable.as_ref();
    if !keyed && avoidable.is_none() {
        return Ok(Vec::new());
    }
    let windows = &pipeline.customers.repeat_days;
    let longest = if keyed {
        windows.iter().copied().max().unwrap_or(0)
    } else {
        0
    };
    let fy = period.financial_year();
    let months = period.months_in(fy);
    let (Some(&first), Some(&last)) = (months.first(), months.last()) else {
        return Ok(Vec::new());
    };
    // Avoidable-contact targets compare with a baseline year: its months are linked too.
    let first = avoidable
        .iter()
        .flat_map(|a| a.targets.iter().filter(|t| t.target.applies(fy)))
        .filter_map(|t| period.months_in(t.target.baseline_fy).first().copied())
        .fold(first, |a, b| a.min(b));
    // Every window a table counts: the tables see the gaps only through these.
    let thresholds: Vec<u32> = windows
        .iter()
        .copied()
        .chain(avoidable.map(|a| a.repeat_days))
        .filter(|&n| keyed && n > 0)
        .collect();
    let counted = contacts_counted(contacts, &pipeline.kpi);
    let prepare = |scan: LazyFrame| {
        contacts_counted(
            &dated_by_month(with_financial_year(scan, pipeline.calendar)),
            &pipeline.kpi,
        )
    };
    let linked = if keyed {
        linking::Months {
            pipeline,
            lake,
            contacts: counted,
            prepare: &prepare,
            first,
            last,
            longest,
            thresholds: &thresholds,
        }
        .summed()?
    } else {
        let in_months = counted.filter(period::in_range(first, last));
        collect(repeats::summed(
            repeats::unlinked(in_months)?,
            &thresholds,
            pipeline.calendar,
        )?)?
    };
    let mut tables = Vec::new();
    if keyed && repeats::any_identified(&linked) {
        tables.extend(repeat_tables(pipeline, &linked, period)?);
    }
    if let Some(config) = avoidable {
        tables.extend(avoidable_tables(
            pipeline,
            config,
            linked.lazy(),
            period,
            warnings,
        )?);
    }
    Ok(tables)
}

/// Avoidable contact in the period and, where targets are declared, against them.
fn avoidable_tables(
    pipeline: &Pipeline,
    config: &crate::config::avoidable::AvoidableConfig,
    linked: LazyFrame,
    period: Period,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Table>, FigureError> {
    // The contacts are read once for the monthly sums (the table's months and the targets'
    // baseline months) and once for the codes nobody listed.
    let classified = avoidable::classified(linked, config);
    let monthly = collect(avoidable::monthly(classified.clone()))?.lazy();
    warnings.extend(avoidable::unlisted_codes(
        &classified.filter(financial_year_filter(period)),
    )?);
    let whole = ColumnFormat::Integer;
    let mut counted = vec![
        (column::CONTACTS, whole),
        (column::CODED, whole),
        (column::UNLISTED_CODES, whole),
        (column::IDENTIFIED, whole),
        (column::ASSESSED, whole),
    ];
    counted
        .extend(crate::config::avoidable::ReasonCategory::AVOIDABLE.map(|c| (c.as_str(), whole)));
    counted.extend([
        (column::REPEAT_NOT_CODED_AVOIDABLE, whole),
        (column::AVOIDABLE, whole),
        (column::OBSERVABLE, whole),
        (column::FOLLOWED_UP, whole),
        (column::AVOIDABLE_PCT, ColumnFormat::Percent(1)),
        (
            column::CONTACTS_PER_RESOLVED_REQUEST,
            ColumnFormat::Decimal(2),
        ),
    ]);
    let repeats = if config.repeat_days > 0 {
        format!(
            "or it came within {} days of the same customer's contact about the same service (`{}`, counted only when not coded avoidable)",
            config.repeat_days,
            column::REPEAT_NOT_CODED_AVOIDABLE
        )
    } else {
        "(repeats are not counted: avoidable.repeat_days = 0)".to_string()
    };
    let mut tables = vec![table(
        name::AVOIDABLE_CONTACT,
        "Avoidable contact by month, service and channel",
        &format!(
            "National Indicator 14's measure. A contact is avoidable when its reason or disposition code is listed in the pipeline file under progress chasing, clarification, wrong channel or other avoidable, {repeats}. Assessed: contacts with a listed code or a customer key; avoidable % = avoidable / assessed. `unlisted_codes`: contacts whose code is listed under no category (not coded). Contacts per resolved request: identified contacts whose window is in the lake / those not followed up within it. Rows `All services` / `All channels` total each month."
        ),
        avoidable::avoidable_contact(
            &monthly.clone().filter(financial_year_filter(period)),
            config,
        )?,
        &counted,
    )];
    let targets = avoidable::targets(&monthly, config, &pipeline.kpi, period)?;
    if targets.width() > 0 {
        let two = ColumnFormat::Decimal(2);
        tables.push(table(
            name::AVOIDABLE_TARGETS,
            "Avoidable contact against targets",
            &format!(
                "One row per target in [[avoidable.targets]]: the avoidable share (percent) or contacts per resolved request in {} against the same months of the baseline year, with the target change, whether it is met and a RAG status as for channel shift. A target is `incomplete` (RAG n/a) when a month of either period has no assessed contact.",
                period.describe()
            ),
            targets,
            &[(column::BASELINE_ASSESSED, whole), (column::BASELINE, two), (column::CURRENT_ASSESSED, whole),
              (column::CURRENT, two), (column::CHANGE, two), (column::CHANGE_PCT, ColumnFormat::Percent(1)),
              (column::TARGET_CHANGE_PCT, ColumnFormat::Percent(1)), (column::PROGRESS_PCT, ColumnFormat::Percent(0))],
        ));
    }
    Ok(tables)
}

/// Repeat contact, resolution as observed, failure demand and days to repeat, for the period's
/// financial year.
fn repeat_tables(
    pipeline: &Pipeline,
    linked: &DataFrame,
    period: Period,
) -> Result<Vec<Table>, FigureError> {
    let windows = &pipeline.customers.repeat_days;
    let longest = windows.iter().copied().max().unwrap_or(0);
    let rows = repeats::in_period(linked, financial_year_filter(period));
    let described = windows
        .iter()
        .map(|d| format!("{d} days"))
        .collect::<Vec<_>>()
        .join(" and ");
    let percent1 = ColumnFormat::Percent(1);
    let whole = ColumnFormat::Integer;
    let failure_demand = repeats::failure_demand(&rows, windows)?;
    Ok(vec![
        table(
            name::REPEAT_CONTACT,
            "Repeat contact by month, service and channel",
            &format!(
                "A repeat is a contact from a customer who had contacted the council about the same service, on any channel, within the window before ({described}; a second contact the same day counts). Rows `All services` / `All channels` total each month. Customers are recognised by keyed hashes of their phone number, e-mail address or reference, never the identifiers themselves; contacts without one are counted in `contacts` but not in `identified`. Repeat % = repeats / identified. Shared phones can join two people; withheld numbers and changed addresses split one."
            ),
            repeats::repeat_contact(&rows, windows)?,
            &[(column::CONTACTS, whole), (column::IDENTIFIED, whole), (column::REPEATS, whole), (column::REPEAT_PCT, percent1)],
        ),
        table(
            name::CONTACT_RESOLUTION,
            "Contact resolution as observed, beside the self-reported flag",
            &format!(
                "Resolved as observed: an identified contact with no contact from the same customer about the same service within the window after it ({described}). Only contacts whose whole window is in the lake are judged (`observable`); later ones wait for the next run. Self-reported: the source's own first-contact-resolution flag, where it has one."
            ),
            repeats::resolution(&rows, windows)?,
            &[(column::IDENTIFIED, whole), (column::OBSERVABLE, whole), (column::FOLLOWED_UP, whole),
              (column::RESOLVED_OBSERVED_PCT, percent1), (column::SELF_REPORTED, whole),
              (column::SELF_REPORTED_RESOLVED, whole), (column::SELF_REPORTED_PCT, percent1)],
        ),
        table(
            name::FAILURE_DEMAND,
            "Digital failure demand: online contacts followed by a call or visit",
            &format!(
                "Digital then assisted: identified contacts on a digital channel ({}) followed within the window ({described}) by the same customer on an assisted channel ({}) about the same service, by form or category: the online journeys that did not work. Assisted then digital is the reverse, for balance. Only contacts whose whole window is in the lake are judged.",
                pipeline.channels.digital_names().join(", "),
                pipeline.channels.assisted_names().join(", ")
            ),
            failure_demand.clone(),
            &[(column::IDENTIFIED, whole), (column::OBSERVABLE, whole), (column::FOLLOWED_UP, whole), (column::FOLLOWED_PCT, percent1)],
        ),
        table(
            name::FAILURE_DEMAND_BY_FORM,
            "Failure demand by form over the period",
            "The failure-demand table summed over the period's months, by form or category, the most followed first: the online journeys to fix first.",
            repeats::failure_demand_by_form(&failure_demand)?,
            &[(column::IDENTIFIED, whole), (column::OBSERVABLE, whole), (column::FOLLOWED_UP, whole), (column::FOLLOWED_PCT, percent1)],
        ),
        table(
            name::DAYS_TO_REPEAT,
            "Days from a contact to the customer's repeat",
            "Repeats in the period by the days since the same customer's previous contact about the same service (0: the same day), up to the longest window, with the cumulative share: where the repeat windows fall.",
            repeats::days_to_repeat(&rows, longest)?,
            &[(column::REPEATS, whole), (column::CUMULATIVE_PCT, percent1)],
        ),
    ])
}

/// Contacts as counted for take-up and response rates: web forms submitted only, every call
/// (or answered calls, as configured) and every other contact.
fn contacts_counted(contacts: &LazyFrame, config: &crate::config::kpi::KpiConfig) -> LazyFrame {
    contacts
        .clone()
        .filter(takeup::counted(config.takeup_telephone))
}

/// The channel mix of every month from the earliest baseline year's April to the period's last
/// month, with `baseline` true in the months of a baseline year: the long view of channel shift.
fn channel_trend(
    volumes: &LazyFrame,
    config: &crate::config::kpi::KpiConfig,
    period: Period,
) -> Result<LazyFrame, FigureError> {
    let baselines: Vec<String> = config
        .channel_shift
        .iter()
        .map(|k| period.calendar().label(k.baseline_fy))
        .collect();
    let first_fy = first_year(config, period);
    let months =
        period::months_between(period.calendar().first_month(first_fy), period.last_month());
    Ok(takeup::channel_mix(volumes, config.takeup_telephone)?
        .filter(period::in_months(&months))
        .with_column(
            col(c::FINANCIAL_YEAR)
                .is_in(
                    lit(Series::new("baselines".into(), baselines)).implode(false),
                    false,
                )
                .alias("baseline"),
        ))
}

/// Satisfaction per question of a wide survey, for the financial year: each question's answers
/// (a respondent counts once per question answered, so the rows do not add up to anything).
/// `overall` marks the question the other satisfaction and equality tables use.
fn by_question(answers: LazyFrame, overall: &str, not_rated: bool) -> Result<Table, FigureError> {
    let answers = answers.with_column(col(c::SERVICE).alias(column::QUESTION));
    let by = [c::ORGANISATION, c::FINANCIAL_YEAR, column::QUESTION];
    let scored = if not_rated {
        satisfaction::satisfaction_and_not_rated_by(answers, &by)
    } else {
        satisfaction::satisfaction_by(crate::measures::rated_answers(answers), &by)
    };
    let frame = collect(
        scored.with_column(
            col(column::QUESTION)
                .eq(lit(overall.to_string()))
                .alias(column::OVERALL),
        ),
    )?;
    let mut t = table(
        name::SATISFACTION_BY_QUESTION,
        "Satisfaction by question",
        &format!(
            "Each rated question's answers in the financial year, scored as the other satisfaction tables (a respondent counts once per question answered, so the rows are not to be added). `overall` marks '{overall}', the question the satisfaction-by-channel, monthly, service and equality tables use."
        ),
        frame,
        &score_formats(not_rated),
    );
    let question = Group {
        // Respondents answer several questions: the rows are not a partition of anyone.
        lists_all: false,
        ..Group::column(column::QUESTION)
    };
    let counts = Counts::satisfaction(
        vec![
            Group::column(c::ORGANISATION),
            Group::column(c::FINANCIAL_YEAR),
            question,
        ],
        Vec::new(),
    );
    t.counts = Some(if not_rated {
        counts.with_not_rated()
    } else {
        counts
    });
    Ok(t)
}

/// The earliest financial year the tables for `period` show: a KPI's baseline year, or the
/// period's own.
fn first_year(config: &crate::config::kpi::KpiConfig, period: Period) -> i32 {
    config
        .channel_shift
        .iter()
        .map(|k| k.baseline_fy)
        .min()
        .unwrap_or(period.financial_year())
        .min(period.financial_year())
}

/// Contacts dated only by a quarter or a year, summed per organisation, source, channel, service,
/// outcome, first month of their period and granularity, whose period overlaps `window` (from
/// the first month of the earliest year compared to the period's last): a few rows, which the
/// yearly figures add to the monthly ones.
fn coarse_volumes(
    every_contact: &LazyFrame,
    window: ((i32, i8), (i32, i8)),
) -> Result<DataFrame, FigureError> {
    // A year starting up to eleven months before the window overlaps it: kept, to be warned of.
    let before = period::months_between((window.0 .0 - 1, window.0 .1), window.0);
    let first = before.get(1).copied().unwrap_or(window.0);
    collect(
        every_contact
            .clone()
            .filter(granularity::dated_by_month().not())
            .filter(period::in_range(first, window.1))
            .group_by([
                col(c::ORGANISATION),
                col(c::SOURCE),
                col(c::CHANNEL),
                col(c::SERVICE),
                col(c::OUTCOME),
                col(c::YEAR).cast(DataType::Int32),
                col(c::MONTH).cast(DataType::Int8),
                col(c::DATE_GRANULARITY),
            ])
            .agg([col(c::CONTACTS)
                .cast(DataType::Int64)
                .sum()
                .alias(volumes::VOLUME)]),
    )
}

/// The first month whose answers can count in a year starting at `first`: a quarter or a year
/// overlapping it starts at most eleven months before it.
fn earliest_answers(first: (i32, i8)) -> (i32, i8) {
    let i = first.0 * 12 + i32::from(first.1) - 1 - 11;
    (i.div_euclid(12), (i.rem_euclid(12) + 1) as i8)
}

/// The survey answers every satisfaction table of `period` reads, counted: the lake's monthly
/// sums of answers (`lake::monthly`, by organisation, source, month and its granularity,
/// channel, service or question, rating, score, sentiment and the answer as written when it is
/// not a rating) from the earliest month that can count in the period's financial year
/// ([`earliest_answers`]) to the period's end, summed again per key and labelled with financial
/// years (`None`: the lake holds no responses). Every figure sums `answers` (see
/// [`crate::measures`]): the tables read a few thousand rows whatever the lake's history.
fn answer_sums(
    lake: &Lake,
    period: Period,
    calendar: Calendar,
) -> Result<Option<LazyFrame>, FigureError> {
    let months = period.months_in(period.financial_year());
    let (Some(first), Some(last)) = (months.first().copied(), months.last().copied()) else {
        return Err(FigureError::Data(format!(
            "{} has no months",
            period.describe()
        )));
    };
    let data = |e: LakeError| FigureError::Data(e.to_string());
    let Some((sums, coverage)) = lake.answer_months().map_err(data)? else {
        return Ok(None);
    };
    if coverage.from_rows > 0 {
        crate::log::info(&format!(
            "{} of {} responses files have no monthly sums in the lake (written by an earlier cex, or a run stopped before they were committed): their answers are counted from the rows",
            coverage.from_rows,
            coverage.from_rows + coverage.stored
        ));
    }
    let sums = collect(monthly::combine_answers(
        sums.filter(period::in_range(earliest_answers(first), last)),
    ))?;
    Ok(Some(with_financial_year(sums.lazy(), calendar)))
}

/// What became of the contacts dated only by a quarter or a year: one warning per source and
/// granularity counting them (in no monthly figure), and one per year compared (the period's
/// year to date, each KPI's baseline) that some of them straddle and are left out of.
/// One warning per source and granularity of survey answers dated only by a quarter or a year
/// whose period overlaps the financial year reported (to the period's end): how many the year's
/// tables count, and how many they leave out. `answers` are [`answer_sums`], already narrowed to
/// the months such a period can start in.
fn coarse_answers(answers: LazyFrame, period: Period) -> Result<Vec<Warning>, FigureError> {
    use crate::tables::frame::{numbers, texts};
    let months = period.months_in(period.financial_year());
    let (Some(first), Some(last)) = (months.first().copied(), months.last().copied()) else {
        return Ok(Vec::new());
    };
    let counted = granularity::counted_in(&months);
    let left_out = granularity::straddles(first, last);
    let answers_where = |e: Expr| {
        when(e)
            .then(col(c::ANSWERS).cast(DataType::UInt64))
            .otherwise(lit(0u64))
            .sum()
    };
    let df = collect(
        answers
            .filter(
                granularity::dated_by_month()
                    .not()
                    .and(counted.clone().or(left_out.clone())),
            )
            .group_by([col(c::SOURCE), col(c::DATE_GRANULARITY)])
            .agg([
                answers_where(counted).alias("counted"),
                answers_where(left_out).alias("left_out"),
            ])
            .sort(
                [c::SOURCE, c::DATE_GRANULARITY],
                SortMultipleOptions::default(),
            ),
    )?;
    let counts = |name: &str| -> Result<Vec<u64>, FigureError> {
        Ok(numbers(&df, name)?
            .into_iter()
            .map(|v| v.unwrap_or(0.0) as u64)
            .collect())
    };
    let (sources, grains) = (texts(&df, c::SOURCE)?, texts(&df, c::DATE_GRANULARITY)?);
    let (counted, left_out) = (counts("counted")?, counts("left_out")?);
    let described = period.calendar().label(period.financial_year());
    let described = match period.span() {
        period::Span::FinancialYear(_) => described,
        period::Span::Month { .. } => format!("{described} to date"),
    };
    Ok(sources
        .into_iter()
        .zip(grains)
        .zip(counted.into_iter().zip(left_out))
        .filter_map(|((source, granularity), (counted, left_out))| {
            Some(Warning::CoarseAnswers {
                source: source?,
                granularity: granularity?,
                counted,
                left_out,
                period: described.clone(),
            })
        })
        .collect())
}

fn coarse_warnings(
    coarse: &DataFrame,
    config: &crate::config::kpi::KpiConfig,
    period: Period,
) -> Result<Vec<Warning>, FigureError> {
    use crate::tables::frame::texts;
    let mut warnings = Vec::new();
    if coarse.height() == 0 {
        return Ok(warnings);
    }
    let by_source = |lf: LazyFrame| -> Result<Vec<(String, String, u64)>, FigureError> {
        let df = collect(
            lf.group_by([col(c::SOURCE), col(c::DATE_GRANULARITY)])
                .agg([col(volumes::VOLUME).sum()])
                .sort(
                    [c::SOURCE, c::DATE_GRANULARITY],
                    SortMultipleOptions::default(),
                ),
        )?;
        let (sources, grains) = (texts(&df, c::SOURCE)?, texts(&df, c::DATE_GRANULARITY)?);
        let counts = df
            .column(volumes::VOLUME)
            .and_then(|c| c.cast(&DataType::UInt64))
            .map_err(figure_err)?;
        let counts: Vec<Option<u64>> = counts.u64().map_err(figure_err)?.iter().collect();
        Ok(sources
            .into_iter()
            .zip(grains)
            .zip(counts)
            .filter_map(|((s, g), n)| Some((s?, g?, n?)))
            .filter(|(_, _, n)| *n > 0)
            .collect())
    };
    for (source, granularity, contacts) in by_source(coarse.clone().lazy())? {
        warnings.push(Warning::CoarseDates {
            source,
            granularity,
            contacts,
        });
    }
    let fy = period.financial_year();
    let mut years: Vec<i32> = config.channel_shift.iter().map(|k| k.baseline_fy).collect();
    years.push(fy);
    years.sort_unstable();
    years.dedup();
    for year in years {
        let months = period.months_in(year);
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            continue;
        };
        let name = if period.is_year() {
            period.calendar().label(year)
        } else {
            format!(
                "{} to date ({} to {})",
                period.calendar().label(year),
                period::month_name(first.0, first.1),
                period::month_name(last.0, last.1)
            )
        };
        let straddling = coarse
            .clone()
            .lazy()
            .filter(granularity::straddles(*first, *last));
        for (source, granularity, contacts) in by_source(straddling)? {
            warnings.push(Warning::StraddlingPeriod {
                source,
                granularity,
                contacts,
                period: name.clone(),
            });
        }
    }
    Ok(warnings)
}

/// Rows of the period's financial year (the tables show every month of it up to the period).
fn financial_year_filter(period: Period) -> Expr {
    let months = period.months_in(period.financial_year());
    period::in_months(&months)
}

fn table(
    name: &str,
    title: &str,
    description: &str,
    frame: DataFrame,
    formats: &[(&str, ColumnFormat)],
) -> Table {
    Table {
        name: name.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        frame,
        counts: None,
        formats: formats
            .iter()
            .map(|(c, f)| (c.to_string(), *f))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// Which version of the lake the figures come from, and how to read it again.
fn lake_version_note(lake: &Lake) -> String {
    match lake.version() {
        Some(v) => format!(
            "Read from the lake at version {v}: `--lake-version {v}` reproduces these figures."
        ),
        None => "The lake held nothing yet.".to_string(),
    }
}

/// The run summary for cron jobs and other tools: every KPI with its value and status.
fn summary(
    pipeline: &Pipeline,
    period: Period,
    shift: &DataFrame,
    warnings: &[Warning],
) -> serde_json::Value {
    // What the report says under the period: months the figures do not cover.
    let coverage: Vec<String> = warnings
        .iter()
        .filter(|w| {
            matches!(
                w,
                Warning::MonthsWithoutContacts { .. } | Warning::SourceMonthsMissing { .. }
            )
        })
        .map(Warning::to_string)
        .collect();
    let warnings: Vec<String> = warnings.iter().map(Warning::to_string).collect();
    let text = |name: &str, i: usize| -> Option<String> {
        shift
            .column(name)
            .ok()?
            .str()
            .ok()?
            .get(i)
            .map(str::to_string)
    };
    let int = |name: &str, i: usize| -> Option<i64> { shift.column(name).ok()?.i64().ok()?.get(i) };
    let float =
        |name: &str, i: usize| -> Option<f64> { shift.column(name).ok()?.f64().ok()?.get(i) };
    let kpis: Vec<serde_json::Value> = (0..shift.height())
        .map(|i| {
            json!({
                "kpi": text("kpi", i),
                "organisation": text(c::ORGANISATION, i),
                "channel": text(c::CHANNEL, i),
                "services": text("services", i),
                "baseline_period": text("baseline_period", i),
                "baseline": int("baseline", i),
                "current_period": text("current_period", i),
                "current": int("current", i),
                "change_pct": float("change_pct", i).map(|v| (v * 100.0).round() / 100.0),
                "target_change_pct": float("target_change_pct", i),
                "status": text("status", i),
                "rag": text("rag", i),
            })
        })
        .collect();
    json!({
        "pipeline": pipeline.name,
        "period": period.label(),
        "period_description": period.describe(),
        "kpis": kpis,
        "warnings": warnings,
        "coverage": coverage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_period_is_the_last_complete_month() {
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        // Exports up to 2 April, run on 3 April: March is the last complete month.
        assert_eq!(last_complete((2024, 4), day(2024, 4, 3)), (2024, 3));
        assert_eq!(last_complete((2025, 1), day(2025, 1, 5)), (2024, 12));
        // Old data: its latest month is complete.
        assert_eq!(last_complete((2025, 3), day(2026, 11, 24)), (2025, 3));
    }
}
