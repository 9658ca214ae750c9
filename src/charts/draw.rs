//! Drawing the four kinds of chart the report uses, on any plotters backend (SVG or bitmap):
//! lines over months, stacked bars over months with a rate line, change against target per KPI,
//! and a value with its interval per group. Knows nothing of KPIs: it draws what a `Plot` holds.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, colour, FONT, INK, MUTED, SHADE};
use crate::period::month_label;
use crate::tables::thousands;

/// A named series of values, one per month (or per row), `None` where there is no figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// A span of months to shade, e.g. the baseline year, with the words printed in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub first: usize,
    pub last: usize,
    pub label: String,
}

/// One channel-shift KPI: its change against the target, and the status in words.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRow {
    pub label: String,
    pub actual_pct: Option<f64>,
    pub target_pct: f64,
    pub met: bool,
    pub status: String,
}

/// One group of an equality chart: the value with its interval, or only a note (suppressed).
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    pub label: String,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Printed beside the row: "66.6% (n = 1,585)" or "fewer than 10 responses".
    pub note: String,
    /// Non-response and total rows are drawn in grey.
    pub muted: bool,
}

/// What a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Plot {
    MonthlyLines {
        months: Vec<(i32, i8)>,
        series: Vec<Series>,
        y_label: String,
        percent: bool,
        spans: Vec<Span>,
    },
    MonthlyStack {
        months: Vec<(i32, i8)>,
        stacks: Vec<Series>,
        y_label: String,
        /// A percentage drawn as a line against the right-hand axis (0-100%).
        rate: Option<Series>,
    },
    Targets {
        rows: Vec<TargetRow>,
    },
    Intervals {
        rows: Vec<IntervalRow>,
        x_label: String,
    },
}

type DrawResult<T> = Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

fn font_in(size: u32, style: FontStyle) -> TextStyle<'static> {
    (FONT, size).into_font().style(style).color(&INK)
}

/// Draws `plot` under `title` on `root`, which is filled white first.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    plot: &Plot,
) -> DrawResult<()> {
    style::register_fonts();
    root.fill(&WHITE).map_err(err)?;
    let title_style = (FONT, style::TITLE_SIZE)
        .into_font()
        .style(FontStyle::Bold)
        .color(&INK);
    let body = root
        .margin(14, 0, 0, 0)
        .titled(title, title_style)
        .map_err(err)?;
    match plot {
        Plot::MonthlyLines {
            months,
            series,
            y_label,
            percent,
            spans,
        } => monthly_lines(&body, months, series, y_label, *percent, spans),
        Plot::MonthlyStack {
            months,
            stacks,
            y_label,
            rate,
        } => monthly_stack(&body, months, stacks, y_label, rate.as_ref()),
        Plot::Targets { rows } => targets(&body, rows),
        Plot::Intervals { rows, x_label } => intervals(&body, rows, x_label),
    }?;
    root.present().map_err(err)
}

/// Splits off the legend strip under the plot.
fn with_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let height = area.dim_in_pixel().1;
    area.split_vertically(height.saturating_sub(style::LEGEND_HEIGHT))
}

/// What a legend entry shows beside its label.
#[derive(Clone, Copy)]
enum Key {
    Line(usize),
    Block(usize),
    Shade,
    /// Text only, muted: what the chart leaves out (no line is drawn for it).
    Missing,
}

fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Key)],
) -> DrawResult<()> {
    let mut x = 90i32;
    let y = (style::LEGEND_HEIGHT / 2) as i32;
    for (label, key) in entries {
        match *key {
            Key::Line(i) => {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 36, y)],
                    colour(i).stroke_width(4),
                ))
                .map_err(err)?;
                area.draw(&marker(i, (x + 18, y))).map_err(err)?;
            }
            Key::Block(i) => {
                area.draw(&Rectangle::new(
                    [(x, y - 10), (x + 36, y + 10)],
                    colour(i).filled(),
                ))
                .map_err(err)?;
            }
            Key::Shade => {
                area.draw(&Rectangle::new(
                    [(x, y - 10), (x + 36, y + 10)],
                    SHADE.filled(),
                ))
                .map_err(err)?;
            }
            Key::Missing => {}
        }
        let (at, text) = match key {
            Key::Missing => (
                x,
                font_in(style::LABEL_SIZE, FontStyle::Italic).color(&MUTED),
            ),
            _ => (x + 46, font(style::LABEL_SIZE)),
        };
        let text = text.pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(label.clone(), (at, y), text))
            .map_err(err)?;
        let (w, _) = area
            .estimate_text_size(label, &font(style::LABEL_SIZE))
            .map_err(err)?;
        x += 46 + w as i32 + 40;
    }
    Ok(())
}

/// Series `i`'s marker at `at`: circle, triangle, square or diamond, so series differ by shape
/// as well as colour.
fn marker<'a, DB: DrawingBackend + 'a, C: Clone + 'a>(i: usize, at: C) -> DynElement<'a, DB, C> {
    let c = colour(i);
    match i % 4 {
        0 => (EmptyElement::at(at) + Circle::new((0, 0), 6, c.filled())).into_dyn(),
        1 => (EmptyElement::at(at) + TriangleMarker::new((0, 0), 8, c.filled())).into_dyn(),
        2 => (EmptyElement::at(at) + Rectangle::new([(-6, -6), (6, 6)], c.filled())).into_dyn(),
        _ => (EmptyElement::at(at)
            + Polygon::new(vec![(0, -8), (8, 0), (0, 8), (-8, 0)], c.filled()))
        .into_dyn(),
    }
}

fn x_label_for(months: &[(i32, i8)]) -> impl Fn(&f64) -> String + '_ {
    move |x: &f64| {
        let i = x.round();
        if (x - i).abs() > 1e-6 || i < 0.0 {
            return String::new();
        }
        months
            .get(i as usize)
            .map(|(y, m)| month_label(*y, *m))
            .unwrap_or_default()
    }
}

/// Value-axis labels: `40%`, `1,200`, or one decimal on a small scale such as -1 to 1, so every
/// label of an axis has the same form.
fn value_label(percent: bool, small_scale: bool) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        if percent {
            format!("{v:.0}%")
        } else if small_scale {
            format!("{v:.1}")
        } else {
            thousands(*v)
        }
    }
}

/// Upper end of a value axis: a little above the largest value, never zero.
fn headroom(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.12
    } else {
        1.0
    }
}

fn monthly_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    months: &[(i32, i8)],
    series: &[Series],
    y_label: &str,
    percent: bool,
    spans: &[Span],
) -> DrawResult<()> {
    let (plot_area, legend_area) = with_legend(area);
    let values = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let y_min = if lo.is_finite() && lo < 0.0 {
        lo * 1.12
    } else {
        0.0
    };
    let y_max = if percent {
        headroom(hi).clamp(10.0, 100.0)
    } else {
        headroom(hi)
    };
    let n = months.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(96)
        .build_cartesian_2d(-0.5..n - 0.5, y_min..y_max)
        .map_err(err)?;
    month_mesh(&mut chart, months, y_label, percent)?;
    for span in spans {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (span.first as f64 - 0.5, y_min),
                    (span.last as f64 + 0.5, y_max),
                ],
                SHADE.filled(),
            )))
            .map_err(err)?;
        let mid = (span.first + span.last) as f64 / 2.0;
        chart
            .draw_series(std::iter::once(Text::new(
                span.label.clone(),
                (mid, y_max),
                font(style::NOTE_SIZE).pos(Pos::new(HPos::Center, VPos::Top)),
            )))
            .map_err(err)?;
    }
    for (i, s) in series.iter().enumerate() {
        // A gap in the data breaks the line rather than bridging it.
        for run in runs(&s.values) {
            chart
                .draw_series(LineSeries::new(run.clone(), colour(i).stroke_width(3)))
                .map_err(err)?;
        }
        let points: Vec<(f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(x, v)| v.map(|v| (x as f64, v)))
            .collect();
        let drawn = chart.plotting_area();
        for p in points {
            drawn.draw(&marker(i, p)).map_err(err)?;
        }
    }
    // A series with no figure in any month draws no line: its key would promise one. It is
    // named once, after the others, as left out.
    let mut entries: Vec<(String, Key)> = series
        .iter()
        .enumerate()
        .filter(|(_, s)| s.values.iter().any(Option::is_some))
        .map(|(i, s)| (s.label.clone(), Key::Line(i)))
        .collect();
    if let Some(span) = spans.first() {
        entries.push((span.label.clone(), Key::Shade));
    }
    if let Some(missing) = without_figures(series) {
        entries.push((missing, Key::Missing));
    }
    legend(&legend_area, &entries)
}

/// "No figure in any month: telephone, webchat" for the series with no value at all; `None`
/// when every series has one.
pub fn without_figures(series: &[Series]) -> Option<String> {
    let empty: Vec<String> = series
        .iter()
        .filter(|s| s.values.iter().all(Option::is_none))
        .map(|s| s.label.to_lowercase())
        .collect();
    (!empty.is_empty()).then(|| format!("No figure in any month: {}", empty.join(", ")))
}

/// Axes of a chart over months: "Apr 2023" labels, at most 12 of them, and the value axis.
fn month_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    months: &[(i32, i8)],
    y_label: &str,
    percent: bool,
) -> DrawResult<()> {
    let x_fmt = x_label_for(months);
    let y_range = chart.y_range();
    let y_fmt = value_label(percent, y_range.end - y_range.start <= 5.0);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(months.len().min(12))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_desc(y_label)
        .axis_desc_style(font(style::LABEL_SIZE))
        .label_style(font(style::TICK_SIZE))
        .max_light_lines(0)
        .draw()
        .map_err(err)
}

/// Consecutive runs of present values as (x, y) points.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (x, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((x as f64, *v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn monthly_stack<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    months: &[(i32, i8)],
    stacks: &[Series],
    y_label: &str,
    rate: Option<&Series>,
) -> DrawResult<()> {
    let (plot_area, legend_area) = with_legend(area);
    let totals: Vec<f64> = (0..months.len())
        .map(|m| {
            stacks
                .iter()
                .filter_map(|s| s.values.get(m).copied().flatten())
                .sum()
        })
        .collect();
    let y_max = headroom(totals.iter().copied().fold(0.0, f64::max));
    let n = months.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(96)
        .right_y_label_area_size(if rate.is_some() { 96 } else { 0 })
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..y_max)
        .map_err(err)?
        .set_secondary_coord(-0.5..n - 0.5, 0.0..100.0);
    month_mesh(&mut chart, months, y_label, false)?;
    let mut base = vec![0.0; months.len()];
    for (i, s) in stacks.iter().enumerate() {
        let bars: Vec<Rectangle<(f64, f64)>> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(m, v)| {
                let v = (*v)?;
                let bottom = *base.get(m)?;
                Some(Rectangle::new(
                    [(m as f64 - 0.35, bottom), (m as f64 + 0.35, bottom + v)],
                    colour(i).filled(),
                ))
            })
            .collect();
        chart.draw_series(bars).map_err(err)?;
        for (m, v) in s.values.iter().enumerate() {
            if let (Some(b), Some(v)) = (base.get_mut(m), v) {
                *b += v;
            }
        }
    }
    let mut entries: Vec<(String, Key)> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| (s.label.clone(), Key::Block(i)))
        .collect();
    if let Some(rate) = rate {
        let pct = value_label(true, false);
        chart
            .configure_secondary_axes()
            .y_desc(rate.label.as_str())
            .y_label_formatter(&pct)
            .axis_desc_style(font(style::LABEL_SIZE))
            .label_style(font(style::TICK_SIZE))
            .draw()
            .map_err(err)?;
        // The rate takes the colour after the stacks' so it never matches a bar.
        let line = stacks.len();
        for run in runs(&rate.values) {
            chart
                .draw_secondary_series(LineSeries::new(run, colour(line).stroke_width(3)))
                .map_err(err)?;
        }
        // Markers go on the primary plotting area, in its units (the right axis is 0-100%).
        let scale = y_max / 100.0;
        let drawn = chart.plotting_area();
        for (x, v) in rate.values.iter().enumerate() {
            if let Some(v) = v {
                drawn
                    .draw(&marker(line, (x as f64, v * scale)))
                    .map_err(err)?;
            }
        }
        entries.push((format!("{} (right axis)", rate.label), Key::Line(line)));
    }
    legend(&legend_area, &entries)
}

/// A numeric axis ticked and gridded at given values only (plotters would tick the whole
/// range, room for words included).
struct TickedAxis {
    range: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> TickedAxis {
        TickedAxis {
            range: range.into(),
            ticks,
        }
    }
}

impl Ranged for TickedAxis {
    type ValueType = f64;
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

/// Round numbers from `from` to `to` (both included where round), 1, 2 or 5 times a power of
/// ten apart, about ten of them: where a chart's axis is ticked and gridded.
pub(super) fn round_ticks(from: f64, to: f64) -> Vec<f64> {
    let span = to - from;
    if !(span.is_finite() && span > 0.0) {
        return vec![from];
    }
    let rough = span / 10.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let first = (from / step).ceil() as i64;
    let last = (to / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Change against target per KPI: a bar for the change so far (solid when the target is met,
/// outlined when not), a black tick at the target, and the status in words beside it, so the
/// chart reads without colour.
fn targets<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[TargetRow],
) -> DrawResult<()> {
    let values = rows
        .iter()
        .flat_map(|r| [r.actual_pct, Some(r.target_pct)])
        .flatten();
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = (hi - lo).max(1.0);
    // Room on the right for the words.
    let (x_min, x_max) = (lo - span * 0.1, hi + span * 0.9);
    let n = rows.len().max(1) as f64;
    // Ticks and grid lines over the figures only, not under the words.
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .margin_left(40)
        .x_label_area_size(56)
        .build_cartesian_2d(
            TickedAxis::new(x_min..x_max, round_ticks(x_min, hi + span * 0.15)),
            0.0..n,
        )
        .map_err(err)?;
    let ticks = |v: &f64| format!("{v:+.0}%");
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&ticks)
        .x_desc("Change against the baseline (%)")
        .axis_desc_style(font(style::LABEL_SIZE))
        .label_style(font(style::TICK_SIZE))
        .max_light_lines(0)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, n)],
            INK.stroke_width(1),
        )))
        .map_err(err)?;
    for (k, row) in rows.iter().enumerate() {
        // Row k from the top occupies [y, y + 1).
        let y = n - 1.0 - k as f64;
        let c = colour(k);
        let bar_style = if row.met {
            c.filled()
        } else {
            c.stroke_width(3)
        };
        if let Some(actual) = row.actual_pct {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y + 0.2), (actual, y + 0.55)],
                    bar_style,
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(row.target_pct, y + 0.1), (row.target_pct, y + 0.65)],
                INK.stroke_width(4),
            )))
            .map_err(err)?;
        let label = truncate(&row.label, 110);
        chart
            .draw_series(std::iter::once(Text::new(
                label,
                (x_min, y + 0.9),
                font(style::LABEL_SIZE).pos(Pos::new(HPos::Left, VPos::Top)),
            )))
            .map_err(err)?;
        let words = format!(
            "{} against a target of {:+.1}%: {}",
            row.actual_pct
                .map(|a| format!("{a:+.1}%"))
                .unwrap_or_else(|| "no figure".into()),
            row.target_pct,
            row.status
        );
        let right = row.actual_pct.unwrap_or(0.0).max(row.target_pct).max(0.0);
        chart
            .draw_series(std::iter::once(Text::new(
                words,
                (right + span * 0.03, y + 0.375),
                font_in(style::LABEL_SIZE, FontStyle::Bold).pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// A value with its interval per group (whiskers), top to bottom in the given order; a group
/// without a value shows its note (e.g. "fewer than 10 responses") instead of a point at zero.
fn intervals<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: &[IntervalRow],
    x_label: &str,
) -> DrawResult<()> {
    let label_width = rows
        .iter()
        .filter_map(|r| {
            area.estimate_text_size(&r.label, &font(style::LABEL_SIZE))
                .ok()
        })
        .map(|(w, _)| w)
        .max()
        .unwrap_or(100)
        + 30;
    let n = rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .margin_left(label_width)
        .x_label_area_size(56)
        // Ticks and grid lines from 0% to 100% only: the room beyond is for the notes.
        .build_cartesian_2d(TickedAxis::new(0.0..140.0, round_ticks(0.0, 100.0)), 0.0..n)
        .map_err(err)?;
    let ticks = |v: &f64| format!("{v:.0}%");
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&ticks)
        .x_desc(x_label)
        .axis_desc_style(font(style::LABEL_SIZE))
        .label_style(font(style::TICK_SIZE))
        .max_light_lines(0)
        .draw()
        .map_err(err)?;
    for (k, row) in rows.iter().enumerate() {
        let y = n - 0.5 - k as f64;
        let ink = if row.muted { MUTED } else { INK };
        // Group names sit left of the plot, in the area's own pixels.
        let (px, py) = chart.backend_coord(&(0.0, y));
        let (bx, by) = area.get_base_pixel();
        area.draw(&Text::new(
            row.label.clone(),
            (px - bx - 12, py - by),
            font(style::LABEL_SIZE)
                .color(&ink)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(err)?;
        let c = if row.muted { MUTED } else { colour(0) };
        if let (Some(low), Some(high)) = (row.low, row.high) {
            chart
                .draw_series([
                    PathElement::new(vec![(low, y), (high, y)], c.stroke_width(3)),
                    PathElement::new(vec![(low, y - 0.2), (low, y + 0.2)], c.stroke_width(3)),
                    PathElement::new(vec![(high, y - 0.2), (high, y + 0.2)], c.stroke_width(3)),
                ])
                .map_err(err)?;
        }
        let note_at = match row.value {
            Some(v) => {
                chart
                    .draw_series(std::iter::once(Circle::new((v, y), 8, c.filled())))
                    .map_err(err)?;
                101.0
            }
            None => 1.0,
        };
        let note_style = if row.value.is_some() {
            font(style::NOTE_SIZE).color(&ink)
        } else {
            font_in(style::NOTE_SIZE, FontStyle::Italic).color(&MUTED)
        };
        chart
            .draw_series(std::iter::once(Text::new(
                row.note.clone(),
                (note_at, y),
                note_style.pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(err)?;
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_break_lines() {
        let runs = runs(&[Some(1.0), None, Some(2.0), Some(3.0)]);
        assert_eq!(runs, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }
}
