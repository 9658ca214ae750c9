//! What the Cabinet report says, section by section, taken from the published tables: every
//! figure is read from a table cell and formatted, never computed or typed here (counting how many
//! KPIs are met is the only arithmetic).

use polars::prelude::DataFrame;

use super::{Block, Document, Section, TableBlock};
use crate::charts::ChartEntry;
use crate::config::Pipeline;
use crate::model::col as c;
use crate::period::month_label;
use crate::tables::contract::{column, label, name};
use crate::tables::frame::{numbers, rows_where, texts, MissingColumn, Tables};
use crate::tables::thousands;
use crate::tables::TableEntry;

/// Everything the report is built from.
pub struct Inputs<'a> {
    pub pipeline: &'a Pipeline,
    /// `2024/25 to date (April 2024 to March 2025)`.
    pub period: String,
    pub kpi_index: &'a [TableEntry],
    pub kpi: &'a Tables,
    pub equality_index: &'a [TableEntry],
    pub equality: &'a Tables,
    pub charts: &'a [ChartEntry],
    /// When the report was produced, e.g. `24 November 2026`.
    pub produced: String,
    /// Months the figures do not cover (`coverage` in `kpi-summary.json`): said under the
    /// period, where no reader can miss them.
    pub coverage: Vec<String>,
    /// Survey and equality tables withheld from the publication (`withheld` in
    /// `disclosure-audit.json`): said under the period, since their sections are missing.
    pub withheld: Vec<String>,
    /// Why (`withheld_because`), as a clause.
    pub withheld_because: String,
}

impl Inputs<'_> {
    /// The pipeline's own rows of a KPI table (a pooled lake holds other councils too).
    fn own(&self, name: &str) -> Option<DataFrame> {
        self.kpi
            .get(name)
            .map(|df| rows_where(df, c::ORGANISATION, &self.pipeline.organisation))
    }

    fn figure(&self, name: &str) -> Option<Block> {
        self.charts
            .iter()
            .find(|c| c.name == name)
            .map(|c| Block::Figure {
                name: c.name.clone(),
                title: c.title.clone(),
                alt: c.alt.clone(),
            })
    }

    fn description(index: &[TableEntry], name: &str) -> Option<String> {
        index
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.description.clone())
    }
}

/// The report, section by section; a section whose table is not published is left out. A
/// column a section reads that its table lacks is an error, never a blank.
pub fn document(inputs: &Inputs) -> Result<Document, MissingColumn> {
    let sections: Vec<Section> = [
        headline(inputs)?,
        channels(inputs)?,
        satisfaction(inputs)?,
        contact_centre(inputs)?,
        right_first_time(inputs)?,
        equality(inputs)?,
        data_quality(inputs)?,
        assumptions(inputs)?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut subtitle = vec![
        format!("Period: {}", inputs.period),
        format!(
            "Produced {} by cex-insight from the pipeline '{}'. Figures are read from the KPI and equality tables published beside this report.",
            inputs.produced, inputs.pipeline.name
        ),
    ];
    subtitle.extend(inputs.coverage.iter().map(|c| format!("Not covered: {c}.")));
    if !inputs.withheld.is_empty() {
        subtitle.push(format!(
            "{WITHHELD} {}. Withheld: {}.",
            inputs.withheld_because,
            inputs.withheld.join(", ")
        ));
    }
    if inputs.charts.is_empty() {
        subtitle.push(NO_CHARTS.into());
    }
    Ok(Document {
        title: format!(
            "{}: {}",
            inputs.pipeline.report.title, inputs.pipeline.organisation
        ),
        subtitle,
        sections,
    })
}

/// Said under the title when the publication's survey and equality tables were withheld, before
/// why and their names.
pub const WITHHELD: &str = "Survey and equality tables are not published for this period:";

/// Said under the title when the charts stage did not run for this period.
pub const NO_CHARTS: &str =
    "Charts were not drawn for this period: run `cex report` (or `cex run` without `--skip charts`) to draw them.";

fn cell_int(v: Option<f64>) -> String {
    v.map(thousands).unwrap_or_else(|| "–".into())
}

fn cell_pct(v: Option<f64>, places: usize) -> String {
    v.map(|v| format!("{v:.places$}%"))
        .unwrap_or_else(|| "–".into())
}

fn cell_signed_pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.1}%"))
        .unwrap_or_else(|| "n/a".into())
}

fn cell_text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// How the report shows a survey figure blanked by disclosure control (to protect another, or
/// derived from a blank count).
const HIDDEN: &str = "hidden";

fn rows_hidden(cols: &[Vec<Option<f64>>], score: &[Option<f64>]) -> bool {
    cols.iter().flatten().chain(score).any(Option::is_none)
}

/// A survey figure of an equality row, or why it is blank: "fewer than 10" where its own count
/// (`count`) is a small count, "hidden" otherwise (read from the row's `suppression` text).
fn shown_or_why(
    v: Option<f64>,
    show: impl Fn(f64) -> String,
    reason: Option<&str>,
    count: &str,
    threshold: i64,
) -> String {
    match v {
        Some(v) => show(v),
        None if reason.and_then(|r| crate::disclosure::why_blank(r, count)) == Some(true) => {
            format!("fewer than {threshold}")
        }
        None => HIDDEN.into(),
    }
}

/// A comparison figure of an equality row (difference, adjusted p-value, significance), or why
/// it is blank. Blanked by disclosure control (the row's `suppressed` lists `figure`): "fewer
/// than 10" where the group's own count or its dissatisfied count is small, "hidden" where the
/// comparison was blanked because a count it is computed from (the group's or the others') is
/// hidden. "–" only where no comparison is made (the total row, non-response, the reference
/// group, or a comparison not tested).
fn compared_or_why(
    shown: Option<String>,
    suppressed: Option<&str>,
    figure: &str,
    reason: Option<&str>,
    threshold: i64,
) -> String {
    if let Some(shown) = shown {
        return shown;
    }
    let blanked = suppressed.is_some_and(|s| s.split(", ").any(|c| c == figure));
    if !blanked {
        return "–".into();
    }
    let small = [column::RESPONSES, column::NEGATIVE]
        .iter()
        .any(|count| reason.and_then(|r| crate::disclosure::why_blank(r, count)) == Some(true));
    if small {
        format!("fewer than {threshold}")
    } else {
        HIDDEN.into()
    }
}

fn table(caption: &str, headers: &[&str], numeric: &[bool], rows: Vec<Vec<String>>) -> Block {
    Block::Table(TableBlock {
        caption: caption.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
        numeric: numeric.to_vec(),
        row_headers: true,
    })
}

fn headline(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    let Some(df) = inputs.own(name::CHANNEL_SHIFT) else {
        return Ok(None);
    };
    let n = df.height();
    let status = texts(&df, column::STATUS)?;
    let met = status
        .iter()
        .filter(|s| s.as_deref() == Some("met"))
        .count();
    let kpi = texts(&df, column::KPI)?;
    let baseline_period = texts(&df, column::BASELINE_PERIOD)?;
    let current_period = texts(&df, column::CURRENT_PERIOD)?;
    let (baseline, current) = (
        numbers(&df, column::BASELINE)?,
        numbers(&df, column::CURRENT)?,
    );
    let (change, target) = (
        numbers(&df, column::CHANGE_PCT)?,
        numbers(&df, column::TARGET_CHANGE_PCT)?,
    );
    let rag = texts(&df, column::RAG)?;
    // A period shared by every row goes in the column header, not in each cell.
    let shared = |periods: &[Option<String>]| {
        periods
            .first()
            .cloned()
            .flatten()
            .filter(|p| periods.iter().all(|q| q.as_ref() == Some(p)))
    };
    let (base_shared, current_shared) = (shared(&baseline_period), shared(&current_period));
    let with_period = |v: Option<f64>, p: &Option<String>, shared: &Option<String>| match shared {
        Some(_) => cell_int(v),
        None => format!("{} ({})", cell_int(v), cell_text(p)),
    };
    let rows = (0..n)
        .map(|i| {
            vec![
                cell_text(&kpi[i]),
                with_period(baseline[i], &baseline_period[i], &base_shared),
                cell_signed_pct(target[i]),
                with_period(current[i], &current_period[i], &current_shared),
                cell_signed_pct(change[i]),
                format!("{} ({})", cell_text(&status[i]), cell_text(&rag[i])),
            ]
        })
        .collect();
    let mut blocks = vec![
        Block::Paragraph(format!(
            "{met} of {n} channel-shift targets met, {}.",
            current_period
                .iter()
                .flatten()
                .next()
                .cloned()
                .unwrap_or_default()
        )),
        table(
            "Channel-shift KPIs: baseline, target, actual and status",
            &[
                "KPI",
                &base_shared.map_or("Baseline".into(), |p| format!("Baseline, {p}")),
                "Target change",
                &current_shared.map_or("Actual".into(), |p| format!("Actual, {p}")),
                "Change",
                "Status (RAG)",
            ],
            &[false, true, true, true, true, false],
            rows,
        ),
    ];
    if let Some(d) = Inputs::description(inputs.kpi_index, name::CHANNEL_SHIFT) {
        blocks.push(Block::Note(d));
    }
    // A KPI compared over months the lake does not hold is not judged: say which months.
    let missing = texts(&df, column::MISSING_MONTHS)?;
    let incomplete: Vec<String> = (0..n)
        .filter_map(|i| {
            missing.get(i).cloned().flatten().map(|months| {
                format!(
                    "{}: no contacts in the lake for {months}",
                    cell_text(&kpi[i])
                )
            })
        })
        .collect();
    if !incomplete.is_empty() {
        blocks.push(Block::Paragraph(
            "Incomplete: these KPIs are not judged met or not met until every month of both \
             periods is in the lake (ingest the missing exports and run again)."
                .into(),
        ));
        blocks.push(Block::Bullets(incomplete));
    }
    let month = texts(&df, column::MONTH_LABEL)?;
    let earlier = texts(&df, column::MONTH_A_YEAR_EARLIER)?;
    let (m_now, m_then, m_change) = (
        numbers(&df, column::MONTH_CURRENT)?,
        numbers(&df, column::MONTH_YEAR_EARLIER)?,
        numbers(&df, column::MONTH_CHANGE)?,
    );
    if month.iter().any(Option::is_some) {
        let rows = (0..n)
            .map(|i| {
                vec![
                    cell_text(&kpi[i]),
                    format!("{} ({})", cell_int(m_now[i]), cell_text(&month[i])),
                    format!("{} ({})", cell_int(m_then[i]), cell_text(&earlier[i])),
                    m_change[i]
                        .map(|v| format!("{v:+.0}"))
                        .unwrap_or_else(|| "–".into()),
                ]
            })
            .collect();
        blocks.push(table(
            "The latest month against the same month a year earlier",
            &["KPI", "This month", "A year earlier", "Difference"],
            &[false, true, true, true],
            rows,
        ));
    }
    blocks.extend(inputs.figure("channel_shift_targets"));
    Ok(Some(Section {
        id: "headline".into(),
        heading: "Headline: channel shift against targets".into(),
        blocks,
    }))
}

fn month_cell(df: &DataFrame) -> Result<Vec<String>, MissingColumn> {
    Ok(numbers(df, c::YEAR)?
        .into_iter()
        .zip(numbers(df, c::MONTH)?)
        .map(|(y, m)| match (y, m) {
            (Some(y), Some(m)) => month_label(y as i32, m as i8),
            _ => String::new(),
        })
        .collect())
}

fn channels(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    let mut blocks: Vec<Block> = ["contacts_by_channel", "channel_mix", "digital_takeup"]
        .iter()
        .filter_map(|n| inputs.figure(n))
        .collect();
    if let Some(df) = inputs.own(name::DIGITAL_TAKEUP) {
        let all = rows_where(&df, c::SERVICE, label::ALL_SERVICES);
        let months = month_cell(&all)?;
        let cols: Vec<Vec<Option<f64>>> = [
            column::WEB,
            column::TELEPHONE,
            column::FACE_TO_FACE,
            column::TRANSACTIONS,
        ]
        .iter()
        .map(|n| numbers(&all, n))
        .collect::<Result<_, _>>()?;
        let pct = numbers(&all, column::DIGITAL_TAKEUP_PCT)?;
        let rows = (0..all.height())
            .map(|i| {
                let mut row = vec![months[i].clone()];
                row.extend(cols.iter().map(|col| cell_int(col[i])));
                row.push(cell_pct(pct[i], 1));
                row
            })
            .collect();
        blocks.push(table(
            "Digital take-up, all services, by month",
            &[
                "Month",
                "Web",
                "Telephone",
                "Face to face",
                "Transactions",
                "Digital take-up",
            ],
            &[false, true, true, true, true, true],
            rows,
        ));
        if let Some(d) = Inputs::description(inputs.kpi_index, name::DIGITAL_TAKEUP) {
            blocks.push(Block::Note(d));
        }
    }
    Ok((!blocks.is_empty()).then(|| Section {
        id: "channels".into(),
        heading: "Contacts and channel shift".into(),
        blocks,
    }))
}

fn satisfaction(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    let Some(df) = inputs.own(name::SATISFACTION_BY_CHANNEL) else {
        return Ok(None);
    };
    let rate = inputs.own(name::RESPONSE_RATE);
    let channel = texts(&df, c::CHANNEL)?;
    let rates = match &rate {
        Some(r) => Some((
            texts(r, c::CHANNEL)?,
            numbers(r, column::RESPONSE_RATE_PCT)?,
        )),
        None => None,
    };
    let rate_of = |ch: &Option<String>| -> Option<f64> {
        let (chans, values) = rates.as_ref()?;
        chans.iter().position(|x| x == ch).and_then(|i| values[i])
    };
    // Answers that are not a rating, where the pipeline's scale lists some: a count of their own.
    let not_rated = df.column(column::NOT_RATED).is_ok();
    let counted: &[&str] = if not_rated {
        &[
            column::RESPONSES,
            column::POSITIVE,
            column::NEUTRAL,
            column::NEGATIVE,
            column::NOT_RATED,
        ]
    } else {
        &[
            column::RESPONSES,
            column::POSITIVE,
            column::NEUTRAL,
            column::NEGATIVE,
        ]
    };
    let cols: Vec<Vec<Option<f64>>> = counted
        .iter()
        .map(|n| numbers(&df, n))
        .collect::<Result<_, _>>()?;
    let score = numbers(&df, column::COUNCIL_SCORE_PCT)?;
    let net = numbers(&df, column::NET_SATISFACTION)?;
    let rows = (0..df.height())
        .map(|i| {
            let mut row = vec![channel[i]
                .as_deref()
                .map(|c| inputs.pipeline.channels.label(c))
                .unwrap_or_default()];
            // A blank survey figure is hidden by disclosure control, never missing.
            row.extend(
                cols.iter()
                    .map(|col| col[i].map_or(HIDDEN.into(), |v| cell_int(Some(v)))),
            );
            row.push(score[i].map_or(HIDDEN.into(), |v| cell_pct(Some(v), 1)));
            row.push(
                net[i]
                    .map(|v| format!("{v:.2}"))
                    .unwrap_or_else(|| HIDDEN.into()),
            );
            row.push(cell_pct(rate_of(&channel[i]), 1));
            row
        })
        .collect();
    let mut headers = vec![
        "Channel",
        "Responses (N)",
        "Positive",
        "Neutral",
        "Negative",
    ];
    if not_rated {
        headers.push("Not rated (don't know)");
    }
    headers.extend(["Council score", "Net satisfaction", "Response rate"]);
    let mut numeric = vec![true; headers.len()];
    numeric[0] = false;
    let mut blocks = vec![table(
        &format!("Satisfaction by channel, {}", inputs.period),
        &headers,
        &numeric,
        rows,
    )];
    if let Some(d) = Inputs::description(inputs.kpi_index, name::SATISFACTION_BY_CHANNEL) {
        blocks.push(Block::Note(d));
    }
    if rows_hidden(&cols, &score) {
        blocks.push(Block::Paragraph(format!(
            "'{HIDDEN}': a count from 1 to {} responses, or a figure hidden so that such a count cannot be worked out from the others published (the table's 'suppression' column says which).",
            inputs.pipeline.equality.suppression_threshold - 1
        )));
    }
    if let Some(d) = Inputs::description(inputs.kpi_index, name::RESPONSE_RATE) {
        blocks.push(Block::Note(d));
    }
    blocks.extend(weighted_satisfaction(inputs)?);
    for measure in &inputs.pipeline.report.satisfaction_measures {
        let name = format!("satisfaction_{}", measure.column().trim_end_matches("_pct"));
        blocks.extend(inputs.figure(&name));
    }
    Ok(Some(Section {
        id: "satisfaction".into(),
        heading: "Satisfaction by channel".into(),
        blocks,
    }))
}

/// The weighted council score beside the unweighted one, all services first, with n_eff, the
/// design effect and the weight cap (`satisfaction_weighted`), and what the weighting leaves out.
fn weighted_satisfaction(inputs: &Inputs) -> Result<Vec<Block>, MissingColumn> {
    let Some(df) = inputs.own(name::SATISFACTION_WEIGHTED) else {
        return Ok(Vec::new());
    };
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let service = texts(&df, c::SERVICE)?;
    let weighting = texts(&df, column::WEIGHTING)?;
    let not_weighted = texts(&df, column::NOT_WEIGHTED)?;
    let n = numbers(&df, column::RESPONSES)?;
    let score = numbers(&df, column::COUNCIL_SCORE_PCT)?;
    let weighted = numbers(&df, column::WEIGHTED_COUNCIL_SCORE_PCT)?;
    let low = numbers(&df, column::WEIGHTED_SCORE_LOW)?;
    let high = numbers(&df, column::WEIGHTED_SCORE_HIGH)?;
    let n_eff = numbers(&df, column::N_EFF)?;
    let deff = numbers(&df, column::DESIGN_EFFECT)?;
    let unrepresented = numbers(&df, column::CONTACTS_UNREPRESENTED_PCT)?;
    let cap = numbers(&df, column::WEIGHT_CAP)?;
    let capped_cells = numbers(&df, column::CAPPED_CELLS)?;
    let capped_responses = numbers(&df, column::CAPPED_RESPONSES)?;
    let decimal = |v: Option<f64>, places: usize| {
        v.map(|v| format!("{v:.places$}"))
            .unwrap_or_else(|| HIDDEN.into())
    };
    let rows = (0..df.height())
        .map(|i| {
            let interval = match (low[i], high[i]) {
                (Some(l), Some(h)) => format!("{l:.1}% to {h:.1}%"),
                _ => HIDDEN.into(),
            };
            vec![
                cell_text(&service[i]),
                n[i].map_or(HIDDEN.into(), |v| cell_int(Some(v))),
                score[i].map_or(HIDDEN.into(), |v| cell_pct(Some(v), 1)),
                weighted[i].map_or(HIDDEN.into(), |v| cell_pct(Some(v), 1)),
                interval,
                decimal(n_eff[i], 0),
                decimal(deff[i], 2),
                cell_text(&weighting[i]),
                cell_pct(unrepresented[i], 1),
            ]
        })
        .collect();
    let interval_header = format!(
        "{:.0}% interval (weighted)",
        inputs.pipeline.equality.confidence * 100.0
    );
    let headers = [
        "Service",
        "Responses (N)",
        "Council score",
        "Weighted to contacts",
        interval_header.as_str(),
        "Effective N (Kish)",
        "Design effect",
        "Cells",
        "Contacts not represented",
    ];
    let mut numeric = vec![true; headers.len()];
    numeric[0] = false;
    numeric[7] = false;
    let mut blocks = vec![table(
        &format!(
            "Satisfaction weighted to the contact mix, {}",
            inputs.period
        ),
        &headers,
        &numeric,
        rows,
    )];
    // The headline row (all services) says how the weights were capped.
    let capped = match (cap[0], capped_cells[0], capped_responses[0]) {
        (Some(cap), Some(cells), Some(responses)) => format!(
            " For all services, weights were capped at {cap:.1} contacts per response ({} times the mean weight, kpi.weight_cap): {} cell(s), {} response(s), capped.",
            inputs.pipeline.kpi.weight_cap,
            thousands(cells),
            thousands(responses)
        ),
        _ => format!(
            " Weights are capped at {} times the mean weight (kpi.weight_cap).",
            inputs.pipeline.kpi.weight_cap
        ),
    };
    let left_out = not_weighted[0]
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| format!(" Responses from cells with no contacts ({t}) are in N but not weighted."))
        .unwrap_or_default();
    if weighted.iter().any(Option::is_none) {
        blocks.push(Block::Paragraph(format!(
            "'{HIDDEN}' in the weighted columns: a weighted figure reads the counts of every cell it is weighted on (each channel's responses and its positive, neutral and negative answers); where one of them is hidden in the tables by channel or service, the row's weighted figures are hidden too, since with the published weights they would give it back."
        )));
    }
    blocks.push(Block::Paragraph(format!(
        "Each response counts for its cell's contacts / responses, so the score stands for the period's contacts rather than for whoever answered the survey; the interval is computed on the effective N, which the unequal weights make smaller than N.{capped}{left_out} Weighting corrects the mix of channels (and services) only: it cannot correct who answers within a channel."
    )));
    Ok(blocks)
}

fn contact_centre(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    let Some(df) = inputs.own(name::CONTACT_CENTRE) else {
        return Ok(None);
    };
    let all = rows_where(
        &rows_where(&df, c::SERVICE, label::ALL_SERVICES),
        column::QUEUE,
        label::ALL_QUEUES,
    );
    let months = month_cell(&all)?;
    let ints: Vec<Vec<Option<f64>>> = [column::OFFERED, column::ANSWERED, column::ABANDONED]
        .iter()
        .map(|n| numbers(&all, n))
        .collect::<Result<_, _>>()?;
    let (abandon, level, fcr) = (
        numbers(&all, column::ABANDONMENT_RATE_PCT)?,
        numbers(&all, column::SERVICE_LEVEL_PCT)?,
        numbers(&all, column::FIRST_CONTACT_RESOLUTION_PCT)?,
    );
    let (asa, aht) = (
        numbers(&all, column::ASA_SECONDS)?,
        numbers(&all, column::AHT_SECONDS)?,
    );
    let rows = (0..all.height())
        .map(|i| {
            let mut row = vec![months[i].clone()];
            row.extend(ints.iter().map(|col| cell_int(col[i])));
            row.push(cell_pct(abandon[i], 1));
            row.push(cell_pct(level[i], 1));
            row.push(cell_int(asa[i]));
            row.push(cell_int(aht[i]));
            row.push(cell_pct(fcr[i], 1));
            row
        })
        .collect();
    let mut definitions: Vec<String> = Vec::new();
    for n in [
        column::SERVICE_LEVEL_DEFINITION,
        column::ABANDONMENT_DEFINITION,
    ] {
        definitions.extend(texts(&all, n)?.into_iter().flatten().next());
    }
    let mut blocks = vec![table(
        "Contact centre, all services and queues, by month",
        &[
            "Month",
            "Offered",
            "Answered",
            "Abandoned",
            "Abandonment rate",
            "Service level",
            "ASA (s)",
            "AHT (s)",
            "First-contact resolution",
        ],
        &[false, true, true, true, true, true, true, true, true],
        rows,
    )];
    if !definitions.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "Service level = {}; abandonment rate = {}.",
            definitions[0],
            definitions.get(1).cloned().unwrap_or_default()
        )));
    }
    if let Some(d) = Inputs::description(inputs.kpi_index, name::CONTACT_CENTRE) {
        blocks.push(Block::Note(d));
    }
    blocks.extend(inputs.figure("contact_centre"));
    Ok(Some(Section {
        id: "contact-centre".into(),
        heading: "Contact centre".into(),
        blocks,
    }))
}

/// Rows of `df` (in order) whose `window_days` is `window`.
fn of_window(df: &DataFrame, window: &str) -> Result<Vec<usize>, MissingColumn> {
    Ok(texts(df, column::WINDOW_DAYS)?
        .iter()
        .enumerate()
        .filter(|(_, w)| w.as_deref() == Some(window))
        .map(|(i, _)| i)
        .collect())
}

/// Repeat contact and resolution as observed by month (all services and channels), the forms
/// most often followed by a call or visit, and the trend chart.
fn right_first_time(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    let mut blocks = match inputs.own(name::REPEAT_CONTACT) {
        Some(repeats) => repeat_blocks(inputs, &repeats)?,
        None => Vec::new(),
    };
    blocks.extend(avoidable_blocks(inputs)?);
    if blocks.is_empty() {
        return Ok(None);
    }
    Ok(Some(Section {
        id: "right-first-time".into(),
        heading: "Right first time".into(),
        blocks,
    }))
}

/// A measure's value as the report prints it: a share in percent, contacts per request to two
/// places.
fn cell_measure(v: Option<f64>, measure: &Option<String>) -> String {
    match measure.as_deref() {
        Some("avoidable_share") => cell_pct(v, 1),
        _ => v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into()),
    }
}

/// Avoidable contact against its targets, then the avoidable share by month (all services and
/// channels) by kind.
fn avoidable_blocks(inputs: &Inputs) -> Result<Vec<Block>, MissingColumn> {
    let mut blocks = Vec::new();
    if let Some(df) = inputs.own(name::AVOIDABLE_TARGETS) {
        let (kpi, measure, status, rag, baseline_period) = (
            texts(&df, column::KPI)?,
            texts(&df, column::MEASURE)?,
            texts(&df, column::STATUS)?,
            texts(&df, column::RAG)?,
            texts(&df, column::BASELINE_PERIOD)?,
        );
        let (baseline, current, change, target) = (
            numbers(&df, column::BASELINE)?,
            numbers(&df, column::CURRENT)?,
            numbers(&df, column::CHANGE_PCT)?,
            numbers(&df, column::TARGET_CHANGE_PCT)?,
        );
        let rows = (0..df.height())
            .map(|i| {
                vec![
                    cell_text(&kpi[i]),
                    format!(
                        "{} ({})",
                        cell_measure(baseline[i], &measure[i]),
                        cell_text(&baseline_period[i])
                    ),
                    cell_signed_pct(target[i]),
                    cell_measure(current[i], &measure[i]),
                    cell_signed_pct(change[i]),
                    format!("{} ({})", cell_text(&status[i]), cell_text(&rag[i])),
                ]
            })
            .collect();
        blocks.push(table(
            "Avoidable contact against target",
            &[
                "Target",
                "Baseline",
                "Target change",
                "Actual",
                "Change",
                "Status (RAG)",
            ],
            &[false, true, true, true, true, false],
            rows,
        ));
        if let Some(d) = Inputs::description(inputs.kpi_index, name::AVOIDABLE_TARGETS) {
            blocks.push(Block::Note(d));
        }
    }
    if let Some(df) = inputs.own(name::AVOIDABLE_CONTACT) {
        let all = rows_where(
            &rows_where(&df, c::SERVICE, label::ALL_SERVICES),
            c::CHANNEL,
            label::ALL_CHANNELS,
        );
        let months = month_cell(&all)?;
        let counted = [
            column::CONTACTS,
            column::ASSESSED,
            "progress_chasing",
            "clarification",
            "wrong_channel",
            "other_avoidable",
            column::REPEAT_NOT_CODED_AVOIDABLE,
        ]
        .map(|name| numbers(&all, name))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let share = numbers(&all, column::AVOIDABLE_PCT)?;
        let per_request = numbers(&all, column::CONTACTS_PER_RESOLVED_REQUEST)?;
        let rows = (0..all.height())
            .map(|i| {
                let mut row = vec![months[i].clone()];
                row.extend(counted.iter().map(|c| cell_int(c[i])));
                row.push(cell_pct(share[i], 1));
                row.push(per_request[i].map_or("–".into(), |v| format!("{v:.2}")));
                row
            })
            .collect();
        let mut numeric = vec![true; 10];
        numeric[0] = false;
        blocks.push(table(
            "Avoidable contact, all services and channels, by month",
            &[
                "Month",
                "Contacts",
                "Assessed",
                "Progress chasing",
                "Clarification",
                "Wrong channel",
                "Other avoidable",
                "Repeats (not coded avoidable)",
                "Avoidable share",
                "Contacts per resolved request",
            ],
            &numeric,
            rows,
        ));
        if let Some(d) = Inputs::description(inputs.kpi_index, name::AVOIDABLE_CONTACT) {
            blocks.push(Block::Note(d));
        }
    }
    Ok(blocks)
}

/// Repeat contact and resolution by month, the chart, and the forms most often followed up.
fn repeat_blocks(inputs: &Inputs, repeats: &DataFrame) -> Result<Vec<Block>, MissingColumn> {
    let all = rows_where(
        &rows_where(repeats, c::SERVICE, label::ALL_SERVICES),
        c::CHANNEL,
        label::ALL_CHANNELS,
    );
    let windows: Vec<String> = inputs
        .pipeline
        .customers
        .repeat_days
        .iter()
        .map(|d| d.to_string())
        .collect();
    let (Some(first), Some(longest)) = (windows.first(), windows.last()) else {
        return Ok(Vec::new());
    };
    let months = month_cell(&all)?;
    let (contacts, identified, rate) = (
        numbers(&all, column::CONTACTS)?,
        numbers(&all, column::IDENTIFIED)?,
        numbers(&all, column::REPEAT_PCT)?,
    );
    let per_window: Vec<Vec<usize>> = windows
        .iter()
        .map(|w| of_window(&all, w))
        .collect::<Result<_, _>>()?;
    let resolution = inputs.own(name::CONTACT_RESOLUTION).map(|df| {
        rows_where(
            &rows_where(&df, c::SERVICE, label::ALL_SERVICES),
            c::CHANNEL,
            label::ALL_CHANNELS,
        )
    });
    let (judged, observed, reported, resolved_rows) = match &resolution {
        Some(df) => (
            numbers(df, column::OBSERVABLE)?,
            numbers(df, column::RESOLVED_OBSERVED_PCT)?,
            numbers(df, column::SELF_REPORTED_PCT)?,
            of_window(df, longest)?,
        ),
        None => (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
    };
    let rows: Vec<Vec<String>> = per_window[0]
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let mut row = vec![
                months[i].clone(),
                cell_int(contacts[i]),
                cell_int(identified[i]),
            ];
            for rows in &per_window {
                row.push(cell_pct(rows.get(k).and_then(|&j| rate[j]), 1));
            }
            let r = resolved_rows.get(k).copied();
            row.push(cell_int(r.and_then(|j| judged.get(j).copied().flatten())));
            row.push(cell_pct(
                r.and_then(|j| observed.get(j).copied().flatten()),
                1,
            ));
            row.push(cell_pct(
                r.and_then(|j| reported.get(j).copied().flatten()),
                1,
            ));
            row
        })
        .collect();
    let mut headers: Vec<String> = vec!["Month".into(), "Contacts".into(), "Identified".into()];
    headers.extend(windows.iter().map(|w| format!("Repeat within {w} days")));
    // A month near the lake's end has few contacts whose whole window is in it: the count
    // judged is shown beside the rate.
    headers.push(format!("Judged ({longest} days)"));
    headers.push(format!("Resolved as observed ({longest} days)"));
    headers.push("Resolved, self-reported".into());
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut numeric = vec![true; headers.len()];
    numeric[0] = false;
    let mut blocks = vec![table(
        "Repeat contact and resolution, all services and channels, by month",
        &header_refs,
        &numeric,
        rows,
    )];
    if let Some(d) = Inputs::description(inputs.kpi_index, name::REPEAT_CONTACT) {
        blocks.push(Block::Note(d));
    }
    blocks.extend(inputs.figure("repeat_contact"));
    if let Some(forms) = inputs.own(name::FAILURE_DEMAND_BY_FORM) {
        let digital = rows_where(&forms, column::DIRECTION, column::DIGITAL_THEN_ASSISTED);
        let picked: Vec<usize> = of_window(&digital, first)?.into_iter().take(10).collect();
        let (category, service, channel) = (
            texts(&digital, c::CATEGORY)?,
            texts(&digital, c::SERVICE)?,
            texts(&digital, c::CHANNEL)?,
        );
        let (observable, followed, pct) = (
            numbers(&digital, column::OBSERVABLE)?,
            numbers(&digital, column::FOLLOWED_UP)?,
            numbers(&digital, column::FOLLOWED_PCT)?,
        );
        let rows: Vec<Vec<String>> = picked
            .iter()
            .map(|&i| {
                vec![
                    cell_text(&category[i]),
                    cell_text(&service[i]),
                    inputs
                        .pipeline
                        .channels
                        .label(channel[i].as_deref().unwrap_or("")),
                    cell_int(observable[i]),
                    cell_int(followed[i]),
                    cell_pct(pct[i], 1),
                ]
            })
            .collect();
        if !rows.is_empty() {
            blocks.push(table(
                &format!("Online forms most often followed by a call or visit within {first} days"),
                &[
                    "Form",
                    "Service",
                    "Channel",
                    "Judged",
                    "Followed by a call or visit",
                    "Share",
                ],
                &[false, false, false, true, true, true],
                rows,
            ));
            if let Some(d) = Inputs::description(inputs.kpi_index, name::FAILURE_DEMAND) {
                blocks.push(Block::Note(d));
            }
        }
    }
    Ok(blocks)
}

fn equality(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    if inputs.equality.is_empty() {
        return Ok(None);
    }
    let config = &inputs.pipeline.equality;
    // The equality tables state their own method (tests, correction, suppression); the report
    // quotes it rather than restating it.
    let method = inputs
        .pipeline
        .demographics
        .iter()
        .find_map(|f| Inputs::description(inputs.equality_index, &name::equality(&[&f.name])))
        .unwrap_or_default();
    let mut blocks = vec![Block::Note(format!(
        "Method. {method} A blank figure reads 'fewer than {}' where it is a count of fewer than {} responses, and 'hidden' where it was blanked so that such a count cannot be worked out from anything published; never zero. The threshold ({} responses) and the confidence level ({:.0}%) are set in the pipeline file.",
        config.suppression_threshold,
        config.suppression_threshold,
        config.suppression_threshold,
        config.confidence * 100.0,
    ))];
    for field in &inputs.pipeline.demographics {
        let Some(df) = inputs.equality.get(&name::equality(&[&field.name])) else {
            continue;
        };
        blocks.push(Block::Subheading(field.label.clone()));
        blocks.extend(inputs.figure(&name::equality(&[&field.name])));
        let group = texts(df, &field.name)?;
        let responses = numbers(df, column::RESPONSES)?;
        let (sat, low, high) = (
            numbers(df, column::SATISFIED_PCT)?,
            numbers(df, column::SATISFIED_LOW)?,
            numbers(df, column::SATISFIED_HIGH)?,
        );
        let dissat = numbers(df, column::DISSATISFIED_PCT)?;
        let diff = numbers(df, column::DISSATISFIED_DIFFERENCE_PP)?;
        let p = numbers(df, column::P_ADJUSTED)?;
        let significant = texts(df, column::DIFFERENCE)?;
        let reasons = texts(df, crate::disclosure::SUPPRESSION)?;
        let blank = texts(df, crate::disclosure::SUPPRESSED)?;
        let threshold = config.suppression_threshold;
        let rows = (0..df.height())
            .map(|i| {
                let why = reasons[i].as_deref();
                vec![
                    cell_text(&group[i]),
                    shown_or_why(responses[i], thousands, why, column::RESPONSES, threshold),
                    match (sat[i], low[i], high[i]) {
                        (Some(s), Some(l), Some(h)) => format!("{s:.1}% ({l:.1} to {h:.1})"),
                        (Some(s), _, _) => format!("{s:.1}%"),
                        _ => shown_or_why(None, thousands, why, column::POSITIVE, threshold),
                    },
                    shown_or_why(
                        dissat[i],
                        |v| format!("{v:.1}%"),
                        why,
                        column::NEGATIVE,
                        threshold,
                    ),
                    compared_or_why(
                        diff[i].map(|v| format!("{v:+.1}")),
                        blank[i].as_deref(),
                        column::DISSATISFIED_DIFFERENCE_PP,
                        why,
                        threshold,
                    ),
                    compared_or_why(
                        p[i].map(|v| format!("{v:.3}")),
                        blank[i].as_deref(),
                        column::P_ADJUSTED,
                        why,
                        threshold,
                    ),
                    compared_or_why(
                        match significant[i].as_deref() {
                            Some("significant") => Some("yes".into()),
                            _ if p[i].is_some() => Some("no".into()),
                            _ => None,
                        },
                        blank[i].as_deref(),
                        column::DIFFERENCE,
                        why,
                        threshold,
                    ),
                ]
            })
            .collect();
        blocks.push(table(
            &format!("Satisfaction by {}", field.label.to_lowercase()),
            &[
                "Group",
                "Responses (N)",
                "Satisfied (interval)",
                "Dissatisfied",
                "Dissatisfied vs comparison (points)",
                "Adjusted p",
                "Significant",
            ],
            &[false, true, true, true, true, true, false],
            rows,
        ));
        if let Some(rep) = inputs.equality.get(&name::representation(&field.name)) {
            let group = texts(rep, column::GROUP)?;
            let (resp, pop, ratio) = (
                numbers(rep, column::RESPONDENT_SHARE_PCT)?,
                numbers(rep, column::POPULATION_SHARE_PCT)?,
                numbers(rep, column::REPRESENTATION_RATIO)?,
            );
            let reasons = texts(rep, crate::disclosure::SUPPRESSION)?;
            let rows = (0..rep.height())
                .map(|i| {
                    let why = reasons[i].as_deref();
                    vec![
                        cell_text(&group[i]),
                        shown_or_why(
                            resp[i],
                            |v| format!("{v:.1}%"),
                            why,
                            "respondents",
                            config.suppression_threshold,
                        ),
                        cell_pct(pop[i], 1),
                        ratio[i]
                            .map(|v| format!("{v:.2}"))
                            .unwrap_or_else(|| HIDDEN.into()),
                    ]
                })
                .collect();
            blocks.push(table(
                &format!(
                    "Who answered, against the population: {}",
                    field.label.to_lowercase()
                ),
                &[
                    "Group",
                    "Share of respondents",
                    "Share of population",
                    "Ratio",
                ],
                &[false, true, true, true],
                rows,
            ));
        }
    }
    Ok(Some(Section {
        id: "equality".into(),
        heading: "Equality of experience".into(),
        blocks,
    }))
}

fn data_quality(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    let Some(df) = inputs.kpi.get(name::DATA_QUALITY) else {
        return Ok(None);
    };
    let source = texts(df, column::SOURCE)?;
    let ints: Vec<Vec<Option<f64>>> = [
        column::FILES,
        column::ROWS_READ,
        column::ACCEPTED,
        column::REJECTED,
        column::DUPLICATES,
        column::EXCLUDED,
    ]
    .iter()
    .map(|n| numbers(df, n))
    .collect::<Result<_, _>>()?;
    let share = numbers(df, column::REJECTED_PCT)?;
    let (first, last) = (
        texts(df, column::FIRST_DATE)?,
        texts(df, column::LAST_DATE)?,
    );
    let rules = texts(df, column::EXCLUDED_BY_RULE)?;
    let rows = (0..df.height())
        .map(|i| {
            let mut row = vec![cell_text(&source[i])];
            row.extend(ints.iter().map(|col| cell_int(col[i])));
            row.push(cell_pct(share[i], 2));
            row.push(format!(
                "{} to {}",
                cell_text(&first[i]),
                cell_text(&last[i])
            ));
            row
        })
        .collect();
    let mut blocks = vec![table(
        "Files and rows in the lake, by source",
        &[
            "Source",
            "Files",
            "Rows read",
            "Accepted",
            "Rejected",
            "Duplicates",
            "Excluded",
            "Rejected share",
            "Dates covered",
        ],
        &[false, true, true, true, true, true, true, true, false],
        rows,
    )];
    // What the excluded rows were, by rule: a reader must see that staff-generated or test
    // rows were left out on purpose, and how many.
    let excluded: Vec<String> = (0..df.height())
        .filter_map(|i| {
            let r = rules[i].as_deref().filter(|r| !r.is_empty())?;
            Some(format!(
                "{}: {}",
                cell_text(&source[i]),
                r.replace('=', " ")
            ))
        })
        .collect();
    if !excluded.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "Rows excluded as out of scope by the pipeline's row filters (rule and rows): {}.",
            excluded.join("; ")
        )));
    }
    if let Some(d) = Inputs::description(inputs.kpi_index, name::DATA_QUALITY) {
        blocks.push(Block::Note(d));
    }
    if let Some(lineage) = inputs.kpi.get(name::LINEAGE) {
        let (path, hash) = (
            texts(lineage, column::PATH)?,
            texts(lineage, column::SHA256)?,
        );
        let (read, accepted) = (
            numbers(lineage, column::ROWS_READ)?,
            numbers(lineage, column::ACCEPTED)?,
        );
        let rows = (0..lineage.height())
            .map(|i| {
                vec![
                    cell_text(&path[i]),
                    cell_text(&hash[i]),
                    cell_int(read[i]),
                    cell_int(accepted[i]),
                ]
            })
            .collect();
        blocks.push(Block::Subheading("Lineage".into()));
        if let Some(d) = Inputs::description(inputs.kpi_index, name::LINEAGE) {
            blocks.push(Block::Note(d));
        }
        blocks.push(table(
            "Every file behind these figures, with its SHA-256",
            &["File", "SHA-256", "Rows read", "Accepted"],
            &[false, false, true, true],
            rows,
        ));
    }
    Ok(Some(Section {
        id: "data-quality".into(),
        heading: "Data quality".into(),
        blocks,
    }))
}

fn assumptions(inputs: &Inputs) -> Result<Option<Section>, MissingColumn> {
    let mut blocks = Vec::new();
    if let Some(df) = inputs.own(name::BENEFITS_ESTIMATE) {
        let kpi = texts(&df, column::KPI)?;
        let avoided = numbers(&df, column::CONTACTS_AVOIDED)?;
        let (minutes, cost) = (
            numbers(&df, column::ASSUMED_MINUTES_PER_CONTACT)?,
            numbers(&df, column::ASSUMED_COST_PER_CONTACT)?,
        );
        let (hours, saved) = (
            numbers(&df, column::OFFICER_HOURS_RELEASED)?,
            numbers(&df, column::COST_AVOIDED)?,
        );
        let rows = (0..df.height())
            .map(|i| {
                vec![
                    cell_text(&kpi[i]),
                    cell_int(avoided[i]),
                    minutes[i]
                        .map(|v| format!("{v:.1}"))
                        .unwrap_or_else(|| "–".into()),
                    cost[i]
                        .map(|v| format!("£{v:.2}"))
                        .unwrap_or_else(|| "–".into()),
                    cell_int(hours[i]),
                    saved[i]
                        .map(|v| format!("£{}", thousands(v)))
                        .unwrap_or_else(|| "–".into()),
                ]
            })
            .collect();
        blocks.push(table(
            "Benefits estimate and the unit costs assumed",
            &[
                "KPI",
                "Contacts avoided",
                "Minutes per contact (assumed)",
                "Cost per contact (assumed)",
                "Officer hours released",
                "Cost avoided",
            ],
            &[false, true, true, true, true, true],
            rows,
        ));
        if let Some(d) = Inputs::description(inputs.kpi_index, name::BENEFITS_ESTIMATE) {
            blocks.push(Block::Note(d));
        }
    }
    let definitions: Vec<String> = inputs
        .kpi_index
        .iter()
        .filter(|e| {
            ![name::DATA_QUALITY, name::LINEAGE, name::BENEFITS_ESTIMATE].contains(&e.name.as_str())
        })
        .map(|e| format!("{}: {}", e.title, e.description))
        .collect();
    if !definitions.is_empty() {
        blocks.push(Block::Subheading("Definitions".into()));
        blocks.push(Block::Notes(definitions));
    }
    Ok((!blocks.is_empty()).then(|| Section {
        id: "assumptions".into(),
        heading: "Assumptions and definitions".into(),
        blocks,
    }))
}
