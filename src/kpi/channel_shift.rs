//! Channel-shift KPIs as the pipeline file declares them: a channel's volume for some services in
//! the reporting period against the same months of a baseline year, with target, met / not met, a
//! RAG status and the same month a year earlier. All KPIs are computed in one lazy plan. Rows
//! dated only by a quarter or a year count where their whole period lies inside the months
//! compared (`granularity::counted_in`), never in the month columns.

use polars::prelude::*;

use super::volumes::VOLUME;
use super::{figure_err, percent, FigureError};
use crate::config::kpi::{ChannelShiftKpi, KpiConfig};
use crate::granularity::{counted_in, Granularity};
use crate::model::col as c;
#[cfg(test)]
use crate::period::Calendar;
use crate::period::{month_name, Period};
use crate::tables::contract::column::MISSING_MONTHS;
use crate::tables::contract::label;
use crate::warnings::Warning;

/// The channel-shift table for `period`, one row per KPI and organisation, and warnings for KPIs
/// whose service filter matches nothing. `volumes` are the monthly volumes, `coarse` the contacts
/// dated only by a quarter or a year (summed per first month and granularity, with the same
/// columns and `date_granularity`).
pub fn channel_shift(
    monthly: &LazyFrame,
    coarse: &LazyFrame,
    config: &KpiConfig,
    period: Period,
) -> Result<(DataFrame, Vec<Warning>), FigureError> {
    let columns = [
        col(c::ORGANISATION),
        col(c::CHANNEL),
        col(c::SERVICE),
        col(c::OUTCOME),
        col(c::YEAR).cast(DataType::Int32),
        col(c::MONTH).cast(DataType::Int8),
        col(c::DATE_GRANULARITY).cast(DataType::String),
        col(VOLUME).cast(DataType::Int64),
    ];
    let volumes = &concat(
        [
            monthly
                .clone()
                .with_column(lit(NULL).cast(DataType::String).alias(c::DATE_GRANULARITY))
                .select(columns.clone()),
            coarse.clone().select(columns),
        ],
        UnionArgs::default(),
    )
    .map_err(figure_err)?;
    let fy = period.financial_year();
    let kpis: Vec<&ChannelShiftKpi> = config
        .channel_shift
        .iter()
        .filter(|k| k.applies_to.is_empty() || k.applies_to.contains(&fy))
        .collect();
    let warnings = unmatched_services(volumes, &kpis)?;
    if kpis.is_empty() {
        return Ok((DataFrame::empty(), warnings));
    }
    let (last_year, last_month) = period.last_month();
    let plans: Vec<LazyFrame> = kpis
        .iter()
        .enumerate()
        .map(|(i, k)| {
            kpi_plan(volumes, k, period, (last_year, last_month))
                .with_column(lit(i as u32).alias(KPI_INDEX))
        })
        .collect();
    let table = concat(plans, UnionArgs::default())
        .map_err(figure_err)?
        .with_columns(derived(
            config.rag_green_progress,
            config.rag_amber_progress,
        ))
        .collect()
        .map_err(figure_err)?;
    let table = mark_incomplete(table, monthly, coarse, &kpis, period)?;
    let mut columns = output_columns();
    columns.push(col(MISSING_MONTHS));
    let table = table.lazy().select(columns).collect().map_err(figure_err)?;
    Ok((table, warnings))
}

/// Which KPI (index into the applicable ones) a row of the table is for, before the output.
const KPI_INDEX: &str = "__kpi";

/// A KPI whose baseline or current period has months with no contact on its channel in the lake
/// (an export not yet ingested, a year only partly covered) compares unlike with unlike: its
/// status is `incomplete` and its RAG `n/a`, never met or green, and the missing months are named.
/// A month is held when a monthly row has contacts in it, or a quarter or year counted in the
/// KPI's baseline or current period covers it.
fn mark_incomplete(
    table: DataFrame,
    volumes: &LazyFrame,
    coarse: &LazyFrame,
    kpis: &[&ChannelShiftKpi],
    period: Period,
) -> Result<DataFrame, FigureError> {
    // Months holding contacts, per organisation and channel: a few hundred rows at most.
    let held = volumes
        .clone()
        .filter(col(VOLUME).gt(lit(0)))
        .select([
            col(c::ORGANISATION),
            col(c::CHANNEL),
            col(c::YEAR).cast(DataType::Int32),
            col(c::MONTH).cast(DataType::Int32),
        ])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .map_err(figure_err)?;
    use crate::tables::frame::texts;
    let ints = |df: &DataFrame, name: &str| -> Result<Vec<Option<i64>>, FigureError> {
        let c = df
            .column(name)
            .and_then(|c| c.cast(&DataType::Int64))
            .map_err(figure_err)?;
        let s = c.i64().map_err(figure_err)?;
        Ok(s.iter().collect())
    };
    let (orgs, channels) = (texts(&held, c::ORGANISATION)?, texts(&held, c::CHANNEL)?);
    let (years, months) = (ints(&held, c::YEAR)?, ints(&held, c::MONTH)?);
    let mut present: std::collections::HashSet<(String, String, i32, i8)> = Default::default();
    for i in 0..held.height() {
        if let (Some(o), Some(ch), Some(y), Some(m)) = (&orgs[i], &channels[i], years[i], months[i])
        {
            present.insert((o.clone(), ch.clone(), y as i32, m as i8));
        }
    }
    let fy = period.financial_year();
    // Per KPI, the months that the coarse rows it counts cover (organisation, year, month).
    let mut covered: Vec<std::collections::HashSet<(String, i32, i8)>> = Vec::new();
    for k in kpis {
        let mut months = std::collections::HashSet::new();
        for span in [period.months_in(k.baseline_fy), period.months_in(fy)] {
            let rows = coarse
                .clone()
                .filter(
                    col(c::CHANNEL)
                        .eq(lit(k.channel.as_str()))
                        .and(col(VOLUME).gt(lit(0)))
                        .and(counted_in(&span)),
                )
                .select([
                    col(c::ORGANISATION),
                    col(c::YEAR).cast(DataType::Int32),
                    col(c::MONTH).cast(DataType::Int32),
                    col(c::DATE_GRANULARITY),
                ])
                .unique(None, UniqueKeepStrategy::Any)
                .collect()
                .map_err(figure_err)?;
            let (orgs, grains) = (
                texts(&rows, c::ORGANISATION)?,
                texts(&rows, c::DATE_GRANULARITY)?,
            );
            let (years, firsts) = (ints(&rows, c::YEAR)?, ints(&rows, c::MONTH)?);
            for i in 0..rows.height() {
                let length = grains[i]
                    .as_deref()
                    .and_then(Granularity::from_name)
                    .map_or(1, Granularity::months);
                if let (Some(o), Some(y), Some(m)) = (&orgs[i], years[i], firsts[i]) {
                    let start = (y as i32, m as i8);
                    let end = start.0 * 12 + i32::from(start.1) - 1 + length - 1;
                    let end = (end.div_euclid(12), (end.rem_euclid(12) + 1) as i8);
                    for month in crate::period::months_between(start, end) {
                        months.insert((o.clone(), month.0, month.1));
                    }
                }
            }
        }
        covered.push(months);
    }
    let (row_orgs, row_kpis) = (texts(&table, c::ORGANISATION)?, ints(&table, KPI_INDEX)?);
    let mut missing: Vec<Option<String>> = Vec::with_capacity(table.height());
    for (org, index) in row_orgs.iter().zip(&row_kpis) {
        let k = index.and_then(|i| kpis.get(i as usize));
        let counted = index.and_then(|i| covered.get(i as usize));
        let (Some(org), Some(k), Some(counted)) = (org, k, counted) else {
            missing.push(None);
            continue;
        };
        let mut months: Vec<(i32, i8)> = period.months_in(k.baseline_fy);
        months.extend(period.months_in(fy));
        let names: Vec<String> = months
            .into_iter()
            .filter(|(y, m)| {
                !present.contains(&(org.clone(), k.channel.as_str().to_string(), *y, *m))
                    && !counted.contains(&(org.clone(), *y, *m))
            })
            .map(|(y, m)| month_name(y, m))
            .collect();
        missing.push((!names.is_empty()).then(|| names.join(", ")));
    }
    let incomplete = col(MISSING_MONTHS).is_not_null();
    table
        .lazy()
        .with_column(lit(Series::new(MISSING_MONTHS.into(), missing)).alias(MISSING_MONTHS))
        .with_columns([
            when(incomplete.clone())
                .then(lit("incomplete"))
                .otherwise(col("status"))
                .alias("status"),
            when(incomplete)
                .then(lit("n/a"))
                .otherwise(col("rag"))
                .alias("rag"),
        ])
        .collect()
        .map_err(figure_err)
}

/// Sums for one KPI: current period, the same months of the baseline year, the last month and the
/// same month a year earlier.
fn kpi_plan(
    volumes: &LazyFrame,
    k: &ChannelShiftKpi,
    period: Period,
    (last_year, last_month): (i32, i8),
) -> LazyFrame {
    let fy = period.financial_year();
    let mut filter = col(c::CHANNEL).eq(lit(k.channel.as_str()));
    if !k.services.is_empty() {
        filter = filter.and(col(c::SERVICE).is_in(
            lit(Series::new("s".into(), k.services.clone())).implode(false),
            false,
        ));
    }
    if !k.outcomes.is_empty() {
        filter = filter.and(col(c::OUTCOME).is_in(
            lit(Series::new("o".into(), k.outcomes.clone())).implode(false),
            false,
        ));
    }
    // The filter sits inside each sum, so every organisation gets a row (zeros when nothing
    // matches) rather than silently disappearing.
    let sum_in = |months: &[(i32, i8)]| {
        col(VOLUME)
            .filter(filter.clone().and(counted_in(months)))
            .sum()
            .cast(DataType::Int64)
    };
    let services = if k.services.is_empty() {
        label::ALL_SERVICES.to_string()
    } else {
        k.services.join(", ")
    };
    let year = period.calendar().label(k.baseline_fy);
    let baseline_label = if period.is_year() {
        year
    } else {
        format!("{year} (same months)")
    };
    volumes
        .clone()
        .group_by([col(c::ORGANISATION)])
        .agg([
            sum_in(&period.months_in(k.baseline_fy)).alias("baseline"),
            sum_in(&period.months_in(fy)).alias("current"),
            sum_in(&[(last_year, last_month)]).alias("month_current"),
            sum_in(&[(last_year - 1, last_month)]).alias("month_year_earlier"),
        ])
        .with_columns([
            lit(k.name.clone()).alias("kpi"),
            lit(k.channel.as_str()).alias(c::CHANNEL),
            lit(services).alias("services"),
            lit(if k.outcomes.is_empty() {
                "all contacts".to_string()
            } else {
                k.outcomes.join(", ")
            })
            .alias("counting"),
            lit(baseline_label).alias("baseline_period"),
            lit(period.describe()).alias("current_period"),
            lit(k.target_change_pct).alias("target_change_pct"),
            lit(k.direction.as_str()).alias("direction"),
            lit(month_name(last_year, last_month)).alias("month"),
            lit(month_name(last_year - 1, last_month)).alias("month_a_year_earlier"),
        ])
}

/// [`against_target`] and the change of the last month against a year earlier.
fn derived(green: f64, amber: f64) -> Vec<Expr> {
    let mut out = against_target(green, amber);
    out.push((col("month_current") - col("month_year_earlier")).alias("month_change"));
    out
}

/// `change`, `change_pct`, `status` (met / not met), `rag` and `progress_pct` from the columns
/// `baseline`, `current`, `direction` and `target_change_pct`. RAG: green when the target is
/// met or `green` of the target change is achieved (1.0 = all of it), amber above `amber` (0.0 =
/// moving the right way at all), red otherwise; n/a when there is no baseline.
pub(super) fn against_target(green: f64, amber: f64) -> Vec<Expr> {
    let change = (col("current") - col("baseline")).alias("change");
    let change_pct = percent(col("current") - col("baseline"), col("baseline"));
    let increase = col("direction").eq(lit("increase"));
    let met = when(change_pct.clone().is_null())
        .then(lit("n/a"))
        .when(
            increase
                .clone()
                .and(change_pct.clone().gt_eq(col("target_change_pct")))
                .or(increase
                    .not()
                    .and(change_pct.clone().lt_eq(col("target_change_pct")))),
        )
        .then(lit("met"))
        .otherwise(lit("not met"));
    let is_met = met.clone().eq(lit("met"));
    // Progress: the share of the target change achieved (negative when moving the wrong way).
    let progress = when(col("target_change_pct").neq(lit(0.0)))
        .then(change_pct.clone() / col("target_change_pct") * lit(100.0))
        .otherwise(lit(NULL).cast(DataType::Float64));
    let share = progress.clone() / lit(100.0);
    let rag = when(change_pct.clone().is_null())
        .then(lit("n/a"))
        .when(is_met.or(share.clone().gt_eq(lit(green))))
        .then(lit("green"))
        .when(share.gt(lit(amber)))
        .then(lit("amber"))
        .otherwise(lit("red"));
    vec![
        change,
        change_pct.alias("change_pct"),
        met.alias("status"),
        rag.alias("rag"),
        progress.alias("progress_pct"),
    ]
}

fn output_columns() -> Vec<Expr> {
    [
        "kpi",
        c::ORGANISATION,
        c::CHANNEL,
        "services",
        "counting",
        "baseline_period",
        "baseline",
        "current_period",
        "current",
        "change",
        "change_pct",
        "target_change_pct",
        "direction",
        "status",
        "rag",
        "progress_pct",
        "month",
        "month_current",
        "month_a_year_earlier",
        "month_year_earlier",
        "month_change",
    ]
    .map(col)
    .to_vec()
}

/// Warnings for KPIs naming services the lake does not have on that channel.
fn unmatched_services(
    volumes: &LazyFrame,
    kpis: &[&ChannelShiftKpi],
) -> Result<Vec<Warning>, FigureError> {
    let present = volumes
        .clone()
        .select([col(c::CHANNEL), col(c::SERVICE)])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .map_err(figure_err)?;
    let pairs: Vec<(String, String)> = present
        .column(c::CHANNEL)
        .and_then(|ch| ch.str().cloned())
        .and_then(|ch| {
            let sv = present.column(c::SERVICE)?.str()?.clone();
            Ok(ch
                .iter()
                .zip(sv.iter())
                .filter_map(|(a, b)| Some((a?.to_string(), b?.to_string())))
                .collect())
        })
        .map_err(figure_err)?;
    let mut warnings = Vec::new();
    for k in kpis {
        let on_channel: Vec<&str> = pairs
            .iter()
            .filter(|(ch, _)| ch == k.channel.as_str())
            .map(|(_, s)| s.as_str())
            .collect();
        let missing: Vec<&String> = k
            .services
            .iter()
            .filter(|s| !on_channel.contains(&s.as_str()))
            .collect();
        if on_channel.is_empty() || (!k.services.is_empty() && missing.len() == k.services.len()) {
            warnings.push(Warning::KpiWithoutContacts {
                kpi: k.name.clone(),
                channel: k.channel.as_str().to_string(),
                services: k.services.clone(),
                services_on_channel: on_channel.iter().map(|s| s.to_string()).collect(),
            });
        } else if !missing.is_empty() {
            warnings.push(Warning::KpiServicesMissing {
                kpi: k.name.clone(),
                channel: k.channel.as_str().to_string(),
                services: missing.into_iter().cloned().collect(),
            });
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::kpi::{Direction, KpiConfig};
    use crate::kpi::volumes::monthly_volumes;
    use crate::model::Channel;

    /// Monthly rows (year, month, count) for a financial year: `total` in all, `march` in March.
    fn year_of(fy: i32, total: i64, march: i64) -> Vec<(i32, i8, i64)> {
        let rest = total - march;
        (0..12)
            .map(|i| {
                let m = 4 + i;
                let (y, m) = if m > 12 {
                    (fy + 1, (m - 12) as i8)
                } else {
                    (fy, m as i8)
                };
                let n = if m == 3 {
                    march
                } else {
                    rest / 11 + if i == 0 { rest % 11 } else { 0 }
                };
                (y, m, n)
            })
            .collect()
    }

    /// channel, service, outcome, year, month, contacts
    type Row = (&'static str, &'static str, &'static str, i32, i8, i64);

    /// Contacts whose yearly totals are seed 002's (Oxford's Cabinet report, paragraph 15-16).
    fn seed_002_contacts() -> LazyFrame {
        let mut rows: Vec<Row> = Vec::new();
        let mut add = |channel, service, outcome, fy, total, march| {
            for (y, m, n) in year_of(fy, total, march) {
                rows.push((channel, service, outcome, y, m, n));
            }
        };
        // Online forms submitted: 26,303 in 2022/23, +6% in 2023/24 (split across two services).
        add("web", "Housing", "submitted", 2022, 15_000, 1_300);
        add("web", "Revenues & Benefits", "submitted", 2022, 11_303, 950);
        add("web", "Housing", "submitted", 2023, 15_900, 1_400);
        add(
            "web",
            "Revenues & Benefits",
            "submitted",
            2023,
            11_981,
            1_000,
        );
        // Abandoned forms and other services do not count.
        add("web", "Housing", "abandoned", 2023, 5_000, 400);
        add("web", "Council Tax", "submitted", 2023, 9_000, 800);
        // Calls: 138,419 then -1.9%, and 2,652 fewer in March 2024 than March 2023.
        add("telephone", "Housing", "answered", 2022, 80_000, 8_000);
        add(
            "telephone",
            "Revenues & Benefits",
            "answered",
            2022,
            58_419,
            6_000,
        );
        add("telephone", "Housing", "answered", 2023, 78_000, 6_500);
        add(
            "telephone",
            "Revenues & Benefits",
            "answered",
            2023,
            57_789,
            4_848,
        );
        // Visits: 4,190 then -1.6%, and 69 fewer in March 2024.
        add("face_to_face", "Housing", "served", 2022, 2_500, 240);
        add(
            "face_to_face",
            "Revenues & Benefits",
            "served",
            2022,
            1_690,
            160,
        );
        add("face_to_face", "Housing", "served", 2023, 2_460, 200);
        add(
            "face_to_face",
            "Revenues & Benefits",
            "served",
            2023,
            1_663,
            131,
        );
        let col_of = |f: &dyn Fn(&Row) -> String| rows.iter().map(f).collect::<Vec<_>>();
        df!(
            c::ORGANISATION => vec!["Oxford City Council"; rows.len()],
            c::CHANNEL => col_of(&|r| r.0.to_string()),
            c::SERVICE => col_of(&|r| r.1.to_string()),
            c::OUTCOME => col_of(&|r| r.2.to_string()),
            c::YEAR => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            c::MONTH => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            c::CONTACTS => rows.iter().map(|r| r.5 as u32).collect::<Vec<_>>(),
        )
        .map(|df| df.lazy())
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn kpi(
        name: &str,
        channel: Channel,
        outcomes: &[&str],
        target: f64,
        direction: Direction,
    ) -> ChannelShiftKpi {
        ChannelShiftKpi {
            name: name.into(),
            channel,
            services: vec!["Housing".into(), "Revenues & Benefits".into()],
            outcomes: outcomes.iter().map(|s| s.to_string()).collect(),
            baseline_fy: 2022,
            target_change_pct: target,
            direction,
            applies_to: vec![],
        }
    }

    fn seed_002_config() -> KpiConfig {
        KpiConfig {
            channel_shift: vec![
                kpi(
                    "Online forms",
                    Channel::Web,
                    &["submitted"],
                    5.0,
                    Direction::Increase,
                ),
                kpi("Calls", Channel::Telephone, &[], -5.0, Direction::Reduction),
                kpi(
                    "Visits",
                    Channel::FaceToFace,
                    &[],
                    -5.0,
                    Direction::Reduction,
                ),
            ],
            ..KpiConfig::default()
        }
    }

    /// No contacts dated only by a quarter or a year.
    fn no_coarse() -> LazyFrame {
        let text = |name: &str| Column::new_empty(name.into(), &DataType::String);
        DataFrame::new_infer_height(vec![
            text(c::ORGANISATION),
            text(c::CHANNEL),
            text(c::SERVICE),
            text(c::OUTCOME),
            Column::new_empty(c::YEAR.into(), &DataType::Int32),
            Column::new_empty(c::MONTH.into(), &DataType::Int8),
            text(c::DATE_GRANULARITY),
            Column::new_empty(VOLUME.into(), &DataType::Int64),
        ])
        .map(|df| df.lazy())
        .unwrap_or_default()
    }

    fn column<T>(df: &DataFrame, name: &str, f: impl Fn(&Column) -> Vec<T>) -> Vec<T> {
        f(df.column(name).unwrap_or_else(|e| panic!("{name}: {e}")))
    }

    #[test]
    fn seed_002_channel_shift_table_is_reproduced() -> Result<(), FigureError> {
        let volumes = monthly_volumes(seed_002_contacts(), Calendar::APRIL)?;
        let (table, warnings) = channel_shift(
            &volumes,
            &no_coarse(),
            &seed_002_config(),
            Period::year(2023, Calendar::APRIL),
        )?;
        assert!(warnings.is_empty(), "{warnings:?}");
        let ints = |n: &str| {
            column(&table, n, |c| {
                c.i64()
                    .map(|s| s.iter().flatten().collect())
                    .unwrap_or_default()
            })
        };
        let floats = |n: &str| {
            column(&table, n, |c| {
                c.f64()
                    .map(|s| s.iter().flatten().collect::<Vec<f64>>())
                    .unwrap_or_default()
            })
        };
        let strs = |n: &str| {
            column(&table, n, |c| {
                c.str()
                    .map(|s| s.iter().flatten().map(String::from).collect::<Vec<_>>())
                    .unwrap_or_default()
            })
        };
        assert_eq!(ints("baseline"), vec![26_303, 138_419, 4_190]);
        let rounded: Vec<f64> = floats("change_pct")
            .iter()
            .map(|p| (p * 10.0).round() / 10.0)
            .collect();
        assert_eq!(rounded, vec![6.0, -1.9, -1.6]);
        assert_eq!(strs("status"), vec!["met", "not met", "not met"]);
        assert_eq!(strs("rag"), vec!["green", "amber", "amber"]);
        // "2,652 fewer Contact Centre calls and 69 fewer face-to-face visits in March 2024".
        assert_eq!(ints("month_change")[1..], [-2_652, -69]);
        assert_eq!(strs("month"), vec!["March 2024"; 3]);
        Ok(())
    }

    #[test]
    fn year_to_date_compares_the_same_months() -> Result<(), FigureError> {
        let volumes = monthly_volumes(seed_002_contacts(), Calendar::APRIL)?;
        let (table, _) = channel_shift(
            &volumes,
            &no_coarse(),
            &seed_002_config(),
            Period::month(2023, 5, Calendar::APRIL),
        )?;
        let baseline: Vec<i64> = table
            .column("baseline")
            .and_then(|c| c.i64().map(|s| s.iter().flatten().collect()))
            .unwrap_or_default();
        // April and May 2022 only: (26,303 - 2,250) / 11 * 2 plus the remainder in April.
        let april_may_forms = (15_000 - 1_300) / 11 * 2
            + (15_000 - 1_300) % 11
            + (11_303 - 950) / 11 * 2
            + (11_303 - 950) % 11;
        assert_eq!(baseline[0], april_may_forms);
        Ok(())
    }

    #[test]
    fn a_zero_baseline_is_not_applicable_and_an_empty_filter_warns() -> Result<(), FigureError> {
        let volumes = monthly_volumes(seed_002_contacts(), Calendar::APRIL)?;
        let mut config = seed_002_config();
        config.channel_shift = vec![
            ChannelShiftKpi {
                baseline_fy: 2021, // nothing recorded then
                ..kpi(
                    "No baseline",
                    Channel::Web,
                    &["submitted"],
                    5.0,
                    Direction::Increase,
                )
            },
            ChannelShiftKpi {
                services: vec!["Housing Services".into()], // not a service name in the lake
                ..kpi("Typo", Channel::Web, &[], 5.0, Direction::Increase)
            },
        ];
        let (table, warnings) = channel_shift(
            &volumes,
            &no_coarse(),
            &config,
            Period::year(2023, Calendar::APRIL),
        )?;
        let status: Vec<String> = table
            .column("status")
            .and_then(|c| {
                c.str()
                    .map(|s| s.iter().flatten().map(String::from).collect())
            })
            .unwrap_or_default();
        // No contact at all in the baseline year: incomplete, every baseline month named.
        assert_eq!(status[0], "incomplete");
        let missing = table
            .column(MISSING_MONTHS)
            .and_then(|c| c.str().map(|s| s.get(0).map(String::from)))
            .map_err(figure_err)?
            .unwrap_or_default();
        assert!(
            missing.starts_with("April 2021") && missing.ends_with("March 2022"),
            "{missing}"
        );
        assert_eq!(
            table
                .column("change_pct")
                .map(|c| c.null_count())
                .unwrap_or(0),
            2
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].to_string().contains("Typo")
                && warnings[0].to_string().contains("Housing Services")
        );
        Ok(())
    }

    #[test]
    fn a_period_with_months_missing_is_incomplete_never_met() -> Result<(), FigureError> {
        // The current year holds only January to March 2024 (the rest not yet ingested): calls
        // fell by three quarters against a whole baseline year, which would read "met, green".
        let contacts = seed_002_contacts().filter(
            col(c::YEAR)
                .eq(lit(2024))
                .or(col(c::YEAR).lt(lit(2023)))
                .or(col(c::YEAR).eq(lit(2023)).and(col(c::MONTH).lt(lit(4)))),
        );
        let volumes = monthly_volumes(contacts, Calendar::APRIL)?;
        let (table, _) = channel_shift(
            &volumes,
            &no_coarse(),
            &seed_002_config(),
            Period::year(2023, Calendar::APRIL),
        )?;
        let strs = |name: &str| -> Vec<Option<String>> {
            table
                .column(name)
                .and_then(|c| {
                    c.str()
                        .map(|s| s.iter().map(|v| v.map(String::from)).collect())
                })
                .unwrap_or_default()
        };
        for (status, rag) in strs("status").iter().zip(strs("rag")) {
            assert_eq!(status.as_deref(), Some("incomplete"));
            assert_eq!(rag.as_deref(), Some("n/a"));
        }
        let missing = strs(MISSING_MONTHS);
        assert_eq!(
            missing[0].as_deref(),
            Some(
                "April 2023, May 2023, June 2023, July 2023, August 2023, September 2023, \
                 October 2023, November 2023, December 2023"
            )
        );
        // The whole year: complete again, the seed's figures.
        let (table, _) = channel_shift(
            &monthly_volumes(seed_002_contacts(), Calendar::APRIL)?,
            &no_coarse(),
            &seed_002_config(),
            Period::year(2023, Calendar::APRIL),
        )?;
        assert_eq!(
            table.column(MISSING_MONTHS).map(|c| c.null_count()).ok(),
            Some(3)
        );
        Ok(())
    }
}
