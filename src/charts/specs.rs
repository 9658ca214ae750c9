//! Which charts a run draws and from which figures: each spec is built from a published table
//! (never from figures typed here), with a text alternative that states the chart's main figures.

use polars::prelude::Series as PolarsSeries;
use polars::prelude::*;

use super::draw::{IntervalRow, Plot, Series, Span, TargetRow};
use super::ChartSpec;
use crate::config::Pipeline;
use crate::disclosure::{primary_label, why_blank, SECONDARY_LABEL, SUPPRESSION};
use crate::model::col as c;
use crate::period::month_label;
use crate::tables::contract::{column, label, name};
use crate::tables::frame::{flags, numbers, rows_where, texts, MissingColumn, Tables};
use crate::tables::thousands;

/// Every chart the tables allow, in report order. A chart whose table is missing (no survey
/// source, say) is left out rather than drawn empty.
pub fn chart_specs(
    pipeline: &Pipeline,
    kpi: &Tables,
    equality: &Tables,
) -> Result<Vec<ChartSpec>, MissingColumn> {
    let org = pipeline.organisation.as_str();
    let own = |name: &str| kpi.get(name).map(|df| rows_where(df, c::ORGANISATION, org));
    let names = |code: &str| pipeline.channels.label(code);
    let mut specs = Vec::new();
    if let Some(df) = own(name::CHANNEL_SHIFT) {
        specs.extend(channel_shift(&df)?);
    }
    if let Some(trend) = own(name::CHANNEL_TREND) {
        specs.extend(contacts_by_channel(&trend, &names)?);
        specs.extend(channel_mix(&trend, &names)?);
    }
    if let Some(df) = own(name::DIGITAL_TAKEUP) {
        specs.extend(digital_takeup(&df, pipeline)?);
    }
    if let Some(monthly) = own(name::SATISFACTION_MONTHLY) {
        for measure in &pipeline.report.satisfaction_measures {
            let label = measure.label(&pipeline.satisfied_wording());
            specs.extend(satisfaction(&monthly, *measure, &label, &names)?);
        }
    }
    if let Some(df) = own(name::CONTACT_CENTRE) {
        specs.extend(contact_centre(&df)?);
    }
    if let Some(df) = own(name::REPEAT_CONTACT) {
        specs.extend(repeat_contact(&df)?);
    }
    for field in &pipeline.demographics {
        if let Some(df) = equality.get(&name::equality(&[&field.name])) {
            specs.extend(equality_chart(df, field, pipeline)?);
        }
    }
    Ok(specs)
}

/// The (year, month) of every row.
fn row_months(df: &DataFrame) -> Result<Vec<Option<(i32, i8)>>, MissingColumn> {
    Ok(numbers(df, c::YEAR)?
        .into_iter()
        .zip(numbers(df, c::MONTH)?)
        .map(|(y, m)| Some((y? as i32, m? as i8)))
        .collect())
}

/// Distinct months of a monthly table, in order.
fn months_of(df: &DataFrame) -> Result<Vec<(i32, i8)>, MissingColumn> {
    let mut months: Vec<(i32, i8)> = row_months(df)?.into_iter().flatten().collect();
    months.sort_unstable();
    months.dedup();
    Ok(months)
}

/// One series per distinct value of `key` (in first-seen order, or `order` where given): the
/// value of `value` in each of `months`.
fn series_by(
    df: &DataFrame,
    months: &[(i32, i8)],
    key: &str,
    value: &str,
    order: &[String],
    name: &dyn Fn(&str) -> String,
) -> Result<Vec<Series>, MissingColumn> {
    let keys = texts(df, key)?;
    let values = numbers(df, value)?;
    let at = row_months(df)?;
    let mut labels: Vec<String> = order.to_vec();
    for k in keys.iter().flatten() {
        if !labels.contains(k) {
            labels.push(k.clone());
        }
    }
    Ok(labels
        .into_iter()
        .filter(|l| keys.iter().any(|k| k.as_deref() == Some(l)))
        .map(|label| {
            let mut series = vec![None; months.len()];
            for ((k, v), m) in keys.iter().zip(&values).zip(&at) {
                if k.as_deref() == Some(label.as_str()) {
                    if let Some(i) = m.and_then(|m| months.iter().position(|x| *x == m)) {
                        series[i] = *v;
                    }
                }
            }
            Series {
                label: name(&label),
                values: series,
            }
        })
        .collect())
}

fn describe_latest(series: &[Series], months: &[(i32, i8)], percent: bool) -> String {
    let Some(last) = months.len().checked_sub(1) else {
        return String::new();
    };
    let figures: Vec<String> = series
        .iter()
        .filter_map(|s| {
            let v = s.values.get(last).copied().flatten()?;
            Some(format!("{} {}", s.label.to_lowercase(), figure(v, percent)))
        })
        .collect();
    format!(
        "In {}: {}.",
        month_label(months[last].0, months[last].1),
        figures.join(", ")
    )
}

fn figure(v: f64, percent: bool) -> String {
    if percent {
        format!("{v:.1}%")
    } else {
        thousands(v)
    }
}

/// The months a chart spans: `Apr 2024 to Mar 2025`, or one month named once.
fn span_text(months: &[(i32, i8)]) -> String {
    match (months.first(), months.last()) {
        (Some(a), Some(b)) if a == b => month_label(a.0, a.1),
        (Some(a), Some(b)) => format!("{} to {}", month_label(a.0, a.1), month_label(b.0, b.1)),
        _ => String::new(),
    }
}

fn channel_shift(df: &DataFrame) -> Result<Option<ChartSpec>, MissingColumn> {
    if df.height() == 0 {
        return Ok(None);
    }
    let labels = texts(df, column::KPI)?;
    let actual = numbers(df, column::CHANGE_PCT)?;
    let target = numbers(df, column::TARGET_CHANGE_PCT)?;
    let status = texts(df, column::STATUS)?;
    let period = texts(df, column::CURRENT_PERIOD)?
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    let rows: Vec<TargetRow> = (0..df.height())
        .map(|i| {
            let status = status[i].clone().unwrap_or_else(|| "n/a".into());
            TargetRow {
                label: labels[i].clone().unwrap_or_default(),
                actual_pct: actual[i],
                target_pct: target[i].unwrap_or(0.0),
                met: status == "met",
                status,
            }
        })
        .collect();
    let met = rows.iter().filter(|r| r.met).count();
    let each: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}: {} against a target of {:+.1}%, {}",
                r.label,
                r.actual_pct
                    .map(|a| format!("{a:+.1}%"))
                    .unwrap_or_else(|| "no figure".into()),
                r.target_pct,
                r.status
            )
        })
        .collect();
    Ok(Some(ChartSpec {
        name: "channel_shift_targets".into(),
        title: format!("Channel shift against targets, {period}"),
        alt: format!(
            "Bar chart of each channel-shift KPI's change against its baseline, with its target marked. {met} of {} met. {}.",
            rows.len(),
            each.join("; ")
        ),
        plot: Plot::Targets { rows },
    }))
}

/// Shaded spans for the baseline months of a `channel_trend` table.
fn baseline_spans(df: &DataFrame, months: &[(i32, i8)]) -> Result<Vec<Span>, MissingColumn> {
    let baseline = flags(df, column::BASELINE)?;
    let years = texts(df, c::FINANCIAL_YEAR)?;
    let mut by_year: Vec<(String, usize, usize)> = Vec::new();
    for ((flag, year), m) in baseline.iter().zip(&years).zip(row_months(df)?) {
        let (Some(true), Some(year), Some(m)) = (flag, year, m) else {
            continue;
        };
        let Some(i) = months.iter().position(|x| *x == m) else {
            continue;
        };
        match by_year.iter_mut().find(|(y, _, _)| y == year) {
            Some(entry) => {
                entry.1 = entry.1.min(i);
                entry.2 = entry.2.max(i);
            }
            None => by_year.push((year.clone(), i, i)),
        }
    }
    by_year.sort_by_key(|(_, first, _)| *first);
    Ok(by_year
        .into_iter()
        .map(|(year, first, last)| Span {
            first,
            last,
            label: format!("Baseline {year}"),
        })
        .collect())
}

const CHANNEL_ORDER: [&str; 3] = ["web", "telephone", "face_to_face"];

fn channel_order() -> Vec<String> {
    CHANNEL_ORDER.iter().map(|s| s.to_string()).collect()
}

fn contacts_by_channel(
    trend: &DataFrame,
    names: &dyn Fn(&str) -> String,
) -> Result<Option<ChartSpec>, MissingColumn> {
    let months = months_of(trend)?;
    if months.is_empty() {
        return Ok(None);
    }
    let series = series_by(
        trend,
        &months,
        c::CHANNEL,
        column::TRANSACTIONS,
        &channel_order(),
        names,
    )?;
    let spans = baseline_spans(trend, &months)?;
    let baseline = spans
        .iter()
        .map(|s| s.label.to_lowercase())
        .collect::<Vec<_>>()
        .join(" and ");
    let mut alt = format!(
        "Line chart of transactions per month by channel, {}{}. {}",
        span_text(&months),
        if baseline.is_empty() {
            String::new()
        } else {
            format!("; the {baseline} is shaded")
        },
        describe_latest(&series, &months, false)
    );
    // The same month of the baseline year, for comparison (unless the latest month is that
    // month, already described).
    if let (Some(last), Some(span)) = (months.last(), spans.first()) {
        let same = months[span.first..=span.last]
            .iter()
            .position(|m| m.1 == last.1)
            .map(|i| i + span.first)
            .filter(|i| *i + 1 < months.len());
        if let Some(i) = same {
            let figures: Vec<String> = series
                .iter()
                .filter_map(|s| {
                    Some(format!(
                        "{} {}",
                        s.label.to_lowercase(),
                        thousands(s.values.get(i).copied().flatten()?)
                    ))
                })
                .collect();
            alt.push_str(&format!(
                " In {} (baseline): {}.",
                month_label(months[i].0, months[i].1),
                figures.join(", ")
            ));
        }
    }
    Ok(Some(ChartSpec {
        name: "contacts_by_channel".into(),
        title: format!("Transactions by channel, {}", span_text(&months)),
        alt,
        plot: Plot::MonthlyLines {
            months,
            series,
            y_label: "Transactions per month".into(),
            percent: false,
            spans,
        },
    }))
}

fn channel_mix(
    trend: &DataFrame,
    names: &dyn Fn(&str) -> String,
) -> Result<Option<ChartSpec>, MissingColumn> {
    let months = months_of(trend)?;
    if months.is_empty() {
        return Ok(None);
    }
    let series = series_by(
        trend,
        &months,
        c::CHANNEL,
        column::SHARE_PCT,
        &channel_order(),
        names,
    )?;
    // The first month, then the latest: one month is described once.
    let first = if months.len() > 1 {
        describe_latest(&series, &months[..1], true) + " "
    } else {
        String::new()
    };
    Ok(Some(ChartSpec {
        name: "channel_mix".into(),
        title: format!("Channel mix: share of transactions, {}", span_text(&months)),
        alt: format!(
            "Line chart of each channel's share of transactions per month. {first}{}",
            describe_latest(&series, &months, true)
        ),
        plot: Plot::MonthlyLines {
            months,
            series,
            y_label: "Share of transactions".into(),
            percent: true,
            spans: baseline_spans(trend, &months_of(trend)?)?,
        },
    }))
}

fn digital_takeup(df: &DataFrame, pipeline: &Pipeline) -> Result<Option<ChartSpec>, MissingColumn> {
    let months = months_of(df)?;
    if months.is_empty() {
        return Ok(None);
    }
    let mut wanted = vec![label::ALL_SERVICES.to_string()];
    wanted.extend(pipeline.report.takeup_services.iter().cloned());
    let chosen = df
        .clone()
        .lazy()
        .filter(col(c::SERVICE).is_in(
            lit(PolarsSeries::new("wanted".into(), wanted.clone())).implode(false),
            false,
        ))
        .collect()
        .unwrap_or_else(|_| df.clear());
    let series = series_by(
        &chosen,
        &months,
        c::SERVICE,
        column::DIGITAL_TAKEUP_PCT,
        &wanted,
        &crate::model::channel_name,
    )?;
    Ok(Some(ChartSpec {
        name: "digital_takeup".into(),
        title: format!("Digital take-up by month, {}", span_text(&months)),
        alt: format!(
            "Line chart of digital take-up (web forms as a share of web, telephone and face-to-face transactions) per month{}. {}",
            if series.len() > 1 { ", all services and selected services" } else { ", all services" },
            describe_latest(&series, &months, true)
        ),
        plot: Plot::MonthlyLines {
            months,
            series,
            y_label: "Digital take-up".into(),
            percent: true,
            spans: Vec::new(),
        },
    }))
}

fn satisfaction(
    monthly: &DataFrame,
    measure: crate::config::report::SatisfactionMeasure,
    label: &str,
    names: &dyn Fn(&str) -> String,
) -> Result<Option<ChartSpec>, MissingColumn> {
    let months = months_of(monthly)?;
    if months.is_empty() {
        return Ok(None);
    }
    let series = series_by(
        monthly,
        &months,
        c::CHANNEL,
        measure.column(),
        &channel_order(),
        names,
    )?;
    let latest = if measure.is_percent() {
        describe_latest(&series, &months, true)
    } else {
        let last = months.len() - 1;
        let figures: Vec<String> = series
            .iter()
            .filter_map(|s| {
                Some(format!(
                    "{} {:.2}",
                    s.label.to_lowercase(),
                    s.values.get(last).copied().flatten()?
                ))
            })
            .collect();
        format!(
            "In {}: {}.",
            month_label(months[last].0, months[last].1),
            figures.join(", ")
        )
    };
    Ok(Some(ChartSpec {
        name: format!("satisfaction_{}", measure.column().trim_end_matches("_pct")),
        title: format!("{label} by channel, {}", span_text(&months)),
        alt: format!(
            "Line chart of the {} per month for each channel. {}{} Monthly figures rest on the month's responses: see the satisfaction table for N.",
            label.to_lowercase(),
            latest,
            super::draw::without_figures(&series)
                .map(|none| format!(
                    " {none} (too few responses, or hidden so that a small count cannot be worked out)."
                ))
                .unwrap_or_default()
        ),
        plot: Plot::MonthlyLines {
            months,
            series,
            y_label: if measure.is_percent() {
                label.to_string()
            } else {
                format!("{label} (-1 to 1)")
            },
            percent: measure.is_percent(),
            spans: Vec::new(),
        },
    }))
}

fn contact_centre(df: &DataFrame) -> Result<Option<ChartSpec>, MissingColumn> {
    let all = rows_where(
        &rows_where(df, c::SERVICE, label::ALL_SERVICES),
        column::QUEUE,
        label::ALL_QUEUES,
    );
    let months = months_of(&all)?;
    if months.is_empty() {
        return Ok(None);
    }
    let at = row_months(&all)?;
    let column = |name: &str, label: &str| -> Result<Series, MissingColumn> {
        let mut series = vec![None; months.len()];
        for (v, m) in numbers(&all, name)?.into_iter().zip(&at) {
            if let Some(i) = m.and_then(|m| months.iter().position(|x| *x == m)) {
                series[i] = v;
            }
        }
        Ok(Series {
            label: label.into(),
            values: series,
        })
    };
    let answered = column(column::ANSWERED, "Answered")?;
    let abandoned = column(column::ABANDONED, "Abandoned")?;
    let level = column(column::SERVICE_LEVEL_PCT, "Service level")?;
    let definition = texts(&all, column::SERVICE_LEVEL_DEFINITION)?
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default();
    let last = months.len() - 1;
    let at = |s: &Series| s.values.get(last).copied().flatten();
    let alt = format!(
        "Stacked bar chart of calls answered and abandoned per month, {}, with the service level ({definition}) as a line. In {}: {} answered, {} abandoned, service level {}.",
        span_text(&months),
        month_label(months[last].0, months[last].1),
        at(&answered).map(thousands).unwrap_or_else(|| "no figure".into()),
        at(&abandoned).map(thousands).unwrap_or_else(|| "no figure".into()),
        at(&level).map(|v| format!("{v:.1}%")).unwrap_or_else(|| "no figure".into()),
    );
    Ok(Some(ChartSpec {
        name: "contact_centre".into(),
        title: format!(
            "Contact centre: calls answered and abandoned, {}",
            span_text(&months)
        ),
        alt,
        plot: Plot::MonthlyStack {
            months,
            stacks: vec![answered, abandoned],
            y_label: "Calls per month".into(),
            rate: Some(level),
        },
    }))
}

/// The month's repeat rate in all services and channels, one line per window.
fn repeat_contact(df: &DataFrame) -> Result<Option<ChartSpec>, MissingColumn> {
    let all = rows_where(
        &rows_where(df, c::SERVICE, label::ALL_SERVICES),
        c::CHANNEL,
        label::ALL_CHANNELS,
    );
    let months = months_of(&all)?;
    if months.is_empty() {
        return Ok(None);
    }
    let windows: Vec<Option<String>> = numbers(&all, column::WINDOW_DAYS)?
        .into_iter()
        .map(|w| w.map(|w| format!("{w:.0}")))
        .collect();
    let mut keyed = all.clone();
    let labels = PolarsSeries::new(
        "__window".into(),
        windows
            .iter()
            .map(|w| w.as_deref().map(|w| format!("Within {w} days")))
            .collect::<Vec<_>>(),
    );
    if keyed.with_column(labels.into_column()).is_err() {
        return Ok(None);
    }
    let series = series_by(
        &keyed,
        &months,
        "__window",
        column::REPEAT_PCT,
        &[],
        &|s: &str| s.to_string(),
    )?;
    Ok(Some(ChartSpec {
        name: "repeat_contact".into(),
        title: format!("Repeat contact, all services, {}", span_text(&months)),
        alt: format!(
            "Line chart of the share of identified contacts that were a repeat (the same customer about the same service, any channel) per month, one line per window. {}",
            describe_latest(&series, &months, true)
        ),
        plot: Plot::MonthlyLines {
            months,
            series,
            y_label: "Repeat contacts, % of identified".into(),
            percent: true,
            spans: Vec::new(),
        },
    }))
}

fn equality_chart(
    df: &DataFrame,
    field: &crate::config::DemographicField,
    pipeline: &Pipeline,
) -> Result<Option<ChartSpec>, MissingColumn> {
    if df.height() == 0 {
        return Ok(None);
    }
    let threshold = pipeline.equality.suppression_threshold;
    let confidence = (pipeline.equality.confidence * 100.0).round();
    let wording = pipeline.satisfied_wording();
    let groups = texts(df, &field.name)?;
    let reasons = texts(df, SUPPRESSION)?;
    let responses = numbers(df, column::RESPONSES)?;
    let satisfied = numbers(df, column::SATISFIED_PCT)?;
    let low = numbers(df, column::SATISFIED_LOW)?;
    let high = numbers(df, column::SATISFIED_HIGH)?;
    let rows: Vec<IntervalRow> = (0..df.height())
        .map(|i| {
            let label = groups[i].clone().unwrap_or_default();
            let why = |column: &str| {
                reasons
                    .get(i)
                    .and_then(|r| r.as_deref())
                    .and_then(|r| why_blank(r, column))
            };
            let note = match (responses[i], satisfied[i]) {
                (None, _) if why(column::RESPONSES) == Some(false) => SECONDARY_LABEL.to_string(),
                (None, _) => primary_label(threshold),
                (Some(n), None) if why(column::POSITIVE) == Some(true) => format!(
                    "fewer than {threshold} satisfied: hidden (n = {})",
                    thousands(n)
                ),
                (Some(n), None) => format!("{SECONDARY_LABEL} (n = {})", thousands(n)),
                (Some(n), Some(v)) => format!("{v:.1}% (n = {})", thousands(n)),
            };
            IntervalRow {
                muted: !field.categories.contains(&label),
                label,
                value: satisfied[i],
                low: low[i],
                high: high[i],
                note,
            }
        })
        .collect();
    let each: Vec<String> = rows
        .iter()
        .map(|r| match (r.value, r.low, r.high) {
            (Some(v), Some(l), Some(h)) => {
                format!(
                    "{} {v:.1}% ({l:.1} to {h:.1}; {})",
                    r.label,
                    r.note
                        .rsplit('(')
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(')')
                )
            }
            _ => format!("{} {}", r.label, r.note),
        })
        .collect();
    Ok(Some(ChartSpec {
        name: name::equality(&[&field.name]),
        title: format!("Satisfied ({wording}) by {}, with {confidence:.0}% confidence intervals", field.label.to_lowercase()),
        alt: format!(
            "Dot chart of the share of respondents satisfied in each {} group with its {confidence:.0}% confidence interval; groups with fewer than {threshold} responses, and groups hidden so that another cannot be worked out, are not drawn. {}.",
            field.label.to_lowercase(),
            each.join("; ")
        ),
        plot: Plot::Intervals {
            rows,
            x_label: format!("Share of respondents satisfied ({wording})"),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_follow_months_and_leave_gaps() -> PolarsResult<()> {
        let df = df!(
            "year" => [2024i32, 2024, 2024],
            "month" => [4i8, 5, 5],
            "channel" => ["web", "web", "telephone"],
            "transactions" => [10i64, 12, 30],
        )?;
        let months = months_of(&df).map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        assert_eq!(months, vec![(2024, 4), (2024, 5)]);
        let series = series_by(
            &df,
            &months,
            "channel",
            "transactions",
            &channel_order(),
            &crate::model::channel_name,
        )
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        assert_eq!(series[0].label, "Web");
        assert_eq!(series[0].values, vec![Some(10.0), Some(12.0)]);
        assert_eq!(series[1].label, "Telephone");
        assert_eq!(series[1].values, vec![None, Some(30.0)]);
        assert_eq!(
            describe_latest(&series, &months, false),
            "In May 2024: web 12, telephone 30."
        );
        Ok(())
    }

    #[test]
    fn a_channel_with_no_figure_in_any_month_is_named_as_left_out() -> PolarsResult<()> {
        // Telephone's score is blank every month (its sentiments hidden to protect small
        // counts): the chart draws no telephone line, so the legend and the text alternative
        // say it is left out instead of listing a line nobody can find.
        let monthly = df!(
            "year" => [2024i32, 2024, 2024, 2024],
            "month" => [4i8, 4, 5, 5],
            "channel" => ["web", "telephone", "web", "telephone"],
            "council_score_pct" => [Some(61.2), None, Some(55.6), None],
        )?;
        let names = |code: &str| crate::model::channel_name(code);
        let chart = satisfaction(
            &monthly,
            crate::config::report::SatisfactionMeasure::CouncilScore,
            "Council satisfaction score",
            &names,
        )
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?
        .ok_or_else(|| PolarsError::ComputeError("no chart".into()))?;
        assert!(
            chart.alt.contains(
                "In May 2024: web 55.6%. No figure in any month: telephone (too few responses"
            ),
            "{}",
            chart.alt
        );
        let Plot::MonthlyLines { series, .. } = &chart.plot else {
            panic!("a line chart");
        };
        assert_eq!(
            crate::charts::draw::without_figures(series).as_deref(),
            Some("No figure in any month: telephone")
        );
        assert_eq!(crate::charts::draw::without_figures(&series[..1]), None);
        Ok(())
    }

    /// A channel trend of the given months: telephone only, every month a baseline month.
    fn trend(months: &[(i32, i8)]) -> PolarsResult<DataFrame> {
        let n = months.len();
        df!(
            "year" => months.iter().map(|m| m.0).collect::<Vec<_>>(),
            "month" => months.iter().map(|m| m.1).collect::<Vec<_>>(),
            "channel" => vec!["telephone"; n],
            "transactions" => vec![2i64; n],
            "share_pct" => vec![100.0; n],
            "baseline" => vec![true; n],
            "financial_year" => vec!["2011/12"; n],
        )
    }

    fn specs_of(df: &DataFrame) -> PolarsResult<Vec<ChartSpec>> {
        let err = |e: MissingColumn| PolarsError::ComputeError(e.to_string().into());
        let names = |code: &str| crate::model::channel_name(code);
        let mut specs = Vec::new();
        specs.extend(contacts_by_channel(df, &names).map_err(err)?);
        specs.extend(channel_mix(df, &names).map_err(err)?);
        Ok(specs)
    }

    #[test]
    fn a_one_month_chart_names_its_month_once() -> PolarsResult<()> {
        let specs = specs_of(&trend(&[(2011, 11)])?)?;
        assert_eq!(specs.len(), 2);
        for spec in &specs {
            assert_eq!(
                spec.alt.matches("In Nov 2011").count(),
                1,
                "{}: {}",
                spec.title,
                spec.alt
            );
            assert!(!spec.title.contains(" to "), "{}", spec.title);
        }
        assert_eq!(
            specs[1].alt,
            "Line chart of each channel's share of transactions per month. In Nov 2011: telephone 100.0%."
        );
        // Two months: the first and the latest are each described.
        let specs = specs_of(&trend(&[(2011, 10), (2011, 11)])?)?;
        assert_eq!(
            specs[1].alt,
            "Line chart of each channel's share of transactions per month. In Oct 2011: telephone 100.0%. In Nov 2011: telephone 100.0%."
        );
        assert!(
            specs[1].title.ends_with("Oct 2011 to Nov 2011"),
            "{}",
            specs[1].title
        );
        Ok(())
    }

    #[test]
    fn suppressed_groups_are_labelled_not_drawn_as_zero() -> PolarsResult<()> {
        let pipeline = crate::config::Pipeline::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/sample.toml"),
        )
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        let field = pipeline
            .demographics
            .iter()
            .find(|f| f.name == "age_band")
            .cloned()
            .ok_or_else(|| PolarsError::ComputeError("no age_band".into()))?;
        let df = df!(
            "age_band" => ["16-24", "85+", "75-84", "Not answered"],
            "responses" => [Some(188i64), None, Some(40), Some(30)],
            "satisfied_pct" => [Some(62.2), None, None, Some(50.0)],
            "satisfied_low" => [Some(55.1), None, None, Some(33.2)],
            "satisfied_high" => [Some(68.9), None, None, Some(66.8)],
            "suppression" => [
                "".to_string(),
                format!("{}: responses", primary_label(10)),
                format!("{SECONDARY_LABEL}: positive"),
                "".to_string(),
            ],
        )?;
        let spec = equality_chart(&df, &field, &pipeline)
            .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?
            .ok_or_else(|| PolarsError::ComputeError("no chart".into()))?;
        let Plot::Intervals { rows, .. } = &spec.plot else {
            panic!("an interval chart");
        };
        assert_eq!(rows[0].note, "62.2% (n = 188)");
        assert_eq!(
            (rows[1].value, rows[1].note.as_str()),
            (None, "fewer than 10 responses")
        );
        assert_eq!(
            rows[2].note,
            "hidden so that another group cannot be worked out (n = 40)"
        );
        assert!(
            rows[3].muted && !rows[0].muted,
            "non-response drawn in grey"
        );
        assert!(
            spec.alt.contains("16-24 62.2% (55.1 to 68.9; n = 188)"),
            "{}",
            spec.alt
        );
        assert!(
            spec.alt.contains("85+ fewer than 10 responses"),
            "{}",
            spec.alt
        );
        Ok(())
    }

    #[test]
    fn channels_are_drawn_under_the_pipelines_labels() -> PolarsResult<()> {
        let mut pipeline = crate::config::Pipeline::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/sample.toml"),
        )
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        pipeline
            .channels
            .labels
            .insert(crate::model::Channel::Web, "Online forms".into());
        let trend = df!(
            "organisation" => [pipeline.organisation.clone(), pipeline.organisation.clone()],
            "year" => [2024i32, 2024],
            "month" => [4i8, 4],
            "financial_year" => ["2024/25", "2024/25"],
            "channel" => ["web", "telephone"],
            "transactions" => [10i64, 30],
            "share_pct" => [25.0, 75.0],
            "baseline" => [false, false],
        )?;
        let kpi: Tables = [(name::CHANNEL_TREND.to_string(), trend)].into();
        let specs = chart_specs(&pipeline, &kpi, &Tables::new())
            .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        let chart = specs
            .iter()
            .find(|s| s.name == "contacts_by_channel")
            .ok_or_else(|| PolarsError::ComputeError("no chart".into()))?;
        let Plot::MonthlyLines { series, .. } = &chart.plot else {
            panic!("a line chart");
        };
        let labels: Vec<&str> = series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["Online forms", "Telephone"]);
        assert!(chart.alt.contains("online forms 10"), "{}", chart.alt);

        // A table without a column the chart reads is an error naming it, not a blank chart.
        let thin = df!("year" => [2024i32], "month" => [4i8], "channel" => ["web"])?;
        let kpi: Tables = [(name::CHANNEL_TREND.to_string(), thin)].into();
        let err = chart_specs(&pipeline, &kpi, &Tables::new()).err();
        assert!(
            err.is_some_and(|e| e.column == column::TRANSACTIONS),
            "a missing column is named"
        );
        Ok(())
    }
}
