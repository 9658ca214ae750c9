//! The `[report]` part of a pipeline file: the Cabinet report's title and the views a council
//! chooses to chart (which satisfaction measures, which services' digital take-up).

use schemars::JsonSchema;
use serde::Deserialize;

use super::names::named;

/// The Cabinet report (`report.html`, `report.md`) and the charts a council chooses
/// (`[report]`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// The report's title; must not be empty. Default: `Customer experience: progress report`.
    #[schemars(extend("default" = DEFAULT_TITLE, "examples" = ["Customer Experience Strategy: progress report"]))]
    pub title: Option<String>,
    /// The satisfaction figures charted over time, one chart each, in this order, each listed
    /// once: `council_score` ((Good + Average - Poor) / N, in percent), `net_satisfaction`
    /// (GovMetric's index, -1 to 1) or `satisfied` (share positive, in percent). Default:
    /// `["council_score"]`.
    #[schemars(extend("default" = ["council_score"], "items" = {"type": "string", "enum": SatisfactionMeasure::ACCEPTED}, "examples" = [["council_score", "net_satisfaction"]]))]
    pub satisfaction_measures: Option<Vec<String>>,
    /// Services drawn beside "All services" in the digital take-up chart, at most 6. Default:
    /// none.
    #[schemars(extend("examples" = [["Housing", "Revenues & Benefits"]]))]
    pub takeup_services: Option<Vec<String>>,
}

/// A satisfaction figure the report can chart over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SatisfactionMeasure {
    /// The council's published score: (Good + Average - Poor) / N, in percent.
    CouncilScore,
    /// GovMetric's net satisfaction index: mean of +1 / 0 / -1, from -1 to 1.
    NetSatisfaction,
    /// Share of responses that are positive, in percent.
    Satisfied,
}

named!(SatisfactionMeasure {
    CouncilScore = "council_score" | "council_score_pct",
    NetSatisfaction = "net_satisfaction",
    Satisfied = "satisfied" | "satisfied_pct",
});

impl SatisfactionMeasure {
    /// The column of the satisfaction tables that holds it.
    pub fn column(self) -> &'static str {
        match self {
            SatisfactionMeasure::CouncilScore => "council_score_pct",
            SatisfactionMeasure::NetSatisfaction => "net_satisfaction",
            SatisfactionMeasure::Satisfied => "satisfied_pct",
        }
    }

    /// The measure's name on charts; `satisfied` says what a satisfied answer is on the
    /// pipeline's scales (`Pipeline::satisfied_wording`).
    pub fn label(self, satisfied: &str) -> String {
        match self {
            SatisfactionMeasure::CouncilScore => "Council satisfaction score".into(),
            SatisfactionMeasure::NetSatisfaction => "GovMetric net satisfaction".into(),
            SatisfactionMeasure::Satisfied => format!("Share satisfied ({satisfied})"),
        }
    }

    /// True when the figure is a percentage (net satisfaction runs from -1 to 1).
    pub fn is_percent(self) -> bool {
        self != SatisfactionMeasure::NetSatisfaction
    }
}

/// What the report shows beyond its fixed sections.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportConfig {
    pub title: String,
    /// One chart over time per measure, in this order.
    pub satisfaction_measures: Vec<SatisfactionMeasure>,
    /// Services drawn beside "All services" in the digital take-up chart.
    pub takeup_services: Vec<String>,
}

pub const DEFAULT_TITLE: &str = "Customer experience: progress report";

pub fn resolve(raw: Option<RawReport>, push: &mut impl FnMut(String, String)) -> ReportConfig {
    let raw = raw.unwrap_or_default();
    let title = raw.title.unwrap_or_else(|| DEFAULT_TITLE.to_string());
    if title.trim().is_empty() {
        push("report.title".into(), "must not be empty".into());
    }
    let names = raw
        .satisfaction_measures
        .unwrap_or_else(|| vec!["council_score".into()]);
    let mut satisfaction_measures = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match SatisfactionMeasure::from_name(name) {
            Some(m) if !satisfaction_measures.contains(&m) => satisfaction_measures.push(m),
            Some(_) => push(
                format!("report.satisfaction_measures[{i}]"),
                format!("'{name}' is listed twice"),
            ),
            None => push(
                format!("report.satisfaction_measures[{i}]"),
                format!(
                    "'{name}' is not one of {}",
                    SatisfactionMeasure::NAMES.join(", ")
                ),
            ),
        }
    }
    let takeup_services = raw.takeup_services.unwrap_or_default();
    if takeup_services.len() > 6 {
        push(
            "report.takeup_services".into(),
            format!(
                "{} services would make the chart unreadable: choose at most 6",
                takeup_services.len()
            ),
        );
    }
    ReportConfig {
        title,
        satisfaction_measures,
        takeup_services,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_measures_are_named_with_their_key() {
        let mut problems = Vec::new();
        let config = resolve(
            Some(RawReport {
                title: None,
                satisfaction_measures: Some(vec!["net_satisfaction".into(), "nps".into()]),
                takeup_services: None,
            }),
            &mut |k, m| problems.push(format!("{k}: {m}")),
        );
        assert_eq!(
            config.satisfaction_measures,
            [SatisfactionMeasure::NetSatisfaction]
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("report.satisfaction_measures[1]: 'nps'"));
        assert_eq!(config.title, DEFAULT_TITLE);
    }
}
