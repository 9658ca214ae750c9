//! Chart rendering tests: text really is drawn (bundled font), SVG keeps text as text and
//! carries the text alternative, and every kind of plot draws.

use super::draw::{IntervalRow, Series, Span, TargetRow};
use super::*;

fn lines(title: &str) -> ChartSpec {
    ChartSpec {
        name: "contacts".into(),
        title: title.into(),
        alt: "Contacts fell from 300 to 250.".into(),
        plot: Plot::MonthlyLines {
            months: vec![(2023, 4), (2023, 5), (2023, 6)],
            series: vec![Series {
                label: "Telephone".into(),
                values: vec![Some(300.0), None, Some(250.0)],
            }],
            y_label: "Contacts".into(),
            percent: false,
            spans: vec![Span {
                first: 0,
                last: 1,
                label: "Baseline 2023/24".into(),
            }],
        },
    }
}

/// Pixels darker than mid-grey in rows `top..bottom`.
fn dark_pixels(rgb: &[u8], top: u32, bottom: u32) -> usize {
    rgb.chunks_exact(3)
        .enumerate()
        .filter(|(i, _)| {
            let y = *i as u32 / style::WIDTH;
            (top..bottom).contains(&y)
        })
        .filter(|(_, p)| (p[0] as u32 + p[1] as u32 + p[2] as u32) < 3 * 110)
        .count()
}

#[test]
fn text_is_drawn_with_the_bundled_font() -> Result<(), ChartError> {
    // The title band is empty without a title and full of glyph pixels with one: text renders
    // on a machine whatever fonts it has, because the font is inside the binary.
    let titled = rgb(&lines("Monthly contacts by channel, April to June 2023"))?;
    let untitled = rgb(&lines(""))?;
    let with_text = dark_pixels(&titled, 0, 40);
    assert!(
        with_text > 400,
        "only {with_text} dark pixels in the title band"
    );
    assert_eq!(dark_pixels(&untitled, 0, 16), 0);
    // Axis labels and the legend also draw text below the plot.
    let bottom = dark_pixels(&titled, style::HEIGHT - style::LEGEND_HEIGHT, style::HEIGHT);
    assert!(bottom > 200, "legend text missing ({bottom} dark pixels)");
    Ok(())
}

#[test]
fn svg_keeps_text_and_the_text_alternative() -> Result<(), ChartError> {
    let chart = render(&lines("Monthly contacts & more"))?;
    assert!(chart.svg.contains("role=\"img\""));
    assert!(chart
        .svg
        .contains("<title>Monthly contacts &amp; more</title>"));
    assert!(chart
        .svg
        .contains("<desc>Contacts fell from 300 to 250.</desc>"));
    // Text stays text (selectable, searchable, read by screen readers), never outlines.
    let text_of = |needle: &str| {
        chart.svg.split("<text").skip(1).any(|element| {
            element
                .split("</text>")
                .next()
                .is_some_and(|t| t.contains(needle))
        })
    };
    assert!(text_of("Apr 2023"), "month labels as text");
    assert!(text_of("Baseline 2023/24"));
    assert!(text_of("Telephone"), "legend as text");
    assert!(chart.png.starts_with(&[0x89, b'P', b'N', b'G']));
    Ok(())
}

#[test]
fn a_series_with_no_figure_gets_no_line_in_the_legend() -> Result<(), ChartError> {
    // Webchat has no figure in any month: the legend names it once as left out (text, no
    // line sample), after the series that are drawn.
    let mut spec = lines("Satisfaction");
    if let Plot::MonthlyLines { series, .. } = &mut spec.plot {
        series.push(Series {
            label: "Webchat".into(),
            values: vec![None, None, None],
        });
    }
    let svg = render(&spec)?.svg;
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|e| e.split('>').nth(1))
        .map(|t| t.trim_end_matches("</text"))
        .collect();
    let at = |t: &str| texts.iter().position(|x| x.contains(t));
    let (Some(drawn), Some(left_out)) = (at("Telephone"), at("No figure in any month: webchat"))
    else {
        panic!("legend texts: {texts:?}");
    };
    assert!(drawn < left_out, "{texts:?}");
    assert_eq!(
        at("Webchat"),
        None,
        "webchat is listed as a line: {texts:?}"
    );
    Ok(())
}

#[test]
fn every_kind_of_plot_draws() -> Result<(), ChartError> {
    let specs = vec![
        lines("Lines"),
        ChartSpec {
            name: "stack".into(),
            title: "Stack".into(),
            alt: String::new(),
            plot: Plot::MonthlyStack {
                months: vec![(2024, 1), (2024, 2)],
                stacks: vec![
                    Series {
                        label: "Answered".into(),
                        values: vec![Some(80.0), Some(90.0)],
                    },
                    Series {
                        label: "Abandoned".into(),
                        values: vec![Some(20.0), None],
                    },
                ],
                y_label: "Calls".into(),
                rate: Some(Series {
                    label: "Service level".into(),
                    values: vec![Some(60.0), Some(70.0)],
                }),
            },
        },
        ChartSpec {
            name: "targets".into(),
            title: "Targets".into(),
            alt: String::new(),
            plot: Plot::Targets {
                rows: vec![
                    TargetRow {
                        label: "Calls".into(),
                        actual_pct: Some(-5.6),
                        target_pct: -10.0,
                        met: false,
                        status: "not met".into(),
                    },
                    TargetRow {
                        label: "Forms".into(),
                        actual_pct: Some(16.9),
                        target_pct: 10.0,
                        met: true,
                        status: "met".into(),
                    },
                ],
            },
        },
        ChartSpec {
            name: "groups".into(),
            title: "Groups".into(),
            alt: String::new(),
            plot: Plot::Intervals {
                rows: vec![
                    IntervalRow {
                        label: "16-24".into(),
                        value: Some(62.2),
                        low: Some(55.1),
                        high: Some(68.9),
                        note: "62.2% (n = 188)".into(),
                        muted: false,
                    },
                    IntervalRow {
                        label: "85+".into(),
                        value: None,
                        low: None,
                        high: None,
                        note: "fewer than 10 responses".into(),
                        muted: false,
                    },
                ],
                x_label: "Satisfied (%)".into(),
            },
        },
    ];
    let charts = render_all(&specs)?;
    assert_eq!(charts.len(), 4);
    let groups = charts
        .iter()
        .find(|c| c.name == "groups")
        .map(|c| c.svg.clone())
        .unwrap_or_default();
    assert!(groups.contains("fewer than 10 responses"));
    assert!(charts
        .iter()
        .find(|c| c.name == "targets")
        .is_some_and(|c| c.svg.contains("not met")));
    let dir = tempfile::tempdir().map_err(|source| ChartError::Io {
        path: PathBuf::new(),
        source,
    })?;
    write_charts(dir.path(), &charts)?;
    for name in ["lines", "stack", "targets", "groups"] {
        let name = if name == "lines" { "contacts" } else { name };
        assert!(dir.path().join(format!("{name}.png")).is_file());
        assert!(dir.path().join(format!("{name}.svg")).is_file());
    }
    assert!(dir.path().join(INDEX_FILE).is_file());
    Ok(())
}

#[test]
fn axes_are_ticked_at_round_numbers_over_the_figures_only() {
    use super::draw::round_ticks;
    // The sample's targets chart: -12.7% to 20.9% (the words beyond are not ticked).
    assert_eq!(
        round_ticks(-12.69, 20.9),
        [-10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0]
    );
    let percent: Vec<f64> = (0..=10).map(|i| f64::from(i) * 10.0).collect();
    assert_eq!(round_ticks(0.0, 100.0), percent);
    assert_eq!(round_ticks(5.0, 5.0), [5.0]);
}
