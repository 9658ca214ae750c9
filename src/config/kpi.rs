//! The `[kpi]` part of a pipeline file: channel-shift KPIs with baselines and targets, the
//! contact-centre definitions, RAG thresholds and unit costs. Declared by the council, never coded.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::names::{named, setting};
use super::report::SatisfactionMeasure;
use crate::model::{Channel, OUTCOMES};
use crate::period::Calendar;

/// Channel-shift KPIs with baselines and targets, and the definitions a council chooses for the
/// contact-centre figures, RAG status, benchmark ranks and the benefits estimate (`[kpi]`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKpi {
    /// Which telephone count digital take-up (web forms submitted / (forms + calls + visits))
    /// divides by: `offered` or `answered` calls. Default: `offered`.
    #[schemars(extend("default" = "offered", "enum" = TakeupTelephone::ACCEPTED, "examples" = ["answered"]))]
    pub takeup_telephone: Option<String>,
    /// The service-level threshold T, in seconds (positive). Default: 20.
    #[schemars(extend("default" = 20, "examples" = [20]))]
    pub service_level_seconds: Option<f64>,
    /// How service level is defined: `plain` (answered within T / offered), `genesys`
    /// ((answered within T) / (answered + abandoned), short abandons excluded) or
    /// `amazon_connect` (left the queue within T, answered, abandoned or called back / offered).
    /// Default: `plain`.
    #[schemars(extend("default" = "plain", "enum" = ServiceLevel::ACCEPTED, "examples" = ["genesys"]))]
    pub service_level: Option<String>,
    /// How abandonment is defined: `plain` (abandoned / offered) or `excluding_short`
    /// (abandoned / (answered + abandoned), short abandons excluded from both). Default:
    /// `plain`.
    #[schemars(extend("default" = "plain", "enum" = Abandonment::ACCEPTED, "examples" = ["excluding_short"]))]
    pub abandonment: Option<String>,
    /// An abandoned call that waited less than this many seconds is a short abandon (left out
    /// by `abandonment = "excluding_short"` and `service_level = "genesys"`). Those two figures
    /// are "not available" for a queue and month with an abandoned call whose wait is unknown
    /// (or an interval export without `short_abandons`): it may have been short. Default: 5.
    #[schemars(extend("default" = 5, "examples" = [5]))]
    pub short_abandon_seconds: Option<f64>,
    /// RAG: a KPI is green when its target is met or this share of the target change is
    /// achieved (1.0 = all of it). Default: 1.0.
    #[schemars(extend("default" = 1.0, "examples" = [0.9]))]
    pub rag_green_progress: Option<f64>,
    /// RAG: amber when progress is above this share of the target change (0.0 = moving the
    /// right way at all), red otherwise; not above `rag_green_progress`. Default: 0.0.
    #[schemars(extend("default" = 0.0, "examples" = [0.5]))]
    pub rag_amber_progress: Option<f64>,
    /// Benchmark ranks (when the lake pools councils): the responses a council needs in a month
    /// to be ranked. Default: 30.
    #[schemars(extend("default" = 30, "examples" = [30]))]
    pub min_responses_to_rank: Option<u32>,
    /// The score benchmark ranks use: `net_satisfaction` (GovMetric), `council_score` or
    /// `satisfied` (the column names `council_score_pct` and `satisfied_pct` are accepted too).
    /// Default: `net_satisfaction`.
    #[schemars(extend("default" = "net_satisfaction", "enum" = SatisfactionMeasure::ACCEPTED, "examples" = ["council_score"]))]
    pub rank_on: Option<String>,
    /// Satisfaction weighted to the contact mix: a response's weight (its cell's contacts /
    /// responses) is capped at this multiple of the mean weight, so that a handful of responses
    /// from a barely surveyed channel cannot carry the figure. More than 1. Default: 5.
    #[schemars(extend("default" = 5.0, "examples" = [5.0]))]
    pub weight_cap: Option<f64>,
    /// Satisfaction weighted to the contact mix: the responses every channel x service cell
    /// with contacts needs for the weighting to use channel x service cells; otherwise the cells
    /// are channels only (the table says which). Default: 20.
    #[schemars(extend("default" = 20, "examples" = [30]))]
    pub weighting_min_responses: Option<u32>,
    /// The channel-shift KPIs, as the Cabinet report states them (`[[kpi.channel_shift]]`).
    /// Default: none.
    #[serde(default)]
    pub channel_shift: Vec<RawChannelShift>,
    /// Handling time and cost of one contact, by channel (`[kpi.unit_costs]`, e.g.
    /// `telephone = { minutes = 6.5, cost = 4.10 }`), for the benefits estimate of reduction
    /// KPIs. Default: none.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"enum": super::raw::channel_names()}))]
    pub unit_costs: BTreeMap<String, RawUnitCost>,
}

/// One channel-shift KPI (`[[kpi.channel_shift]]`): a channel's volume for some services
/// against the same months of a baseline financial year.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChannelShift {
    /// The KPI as the report states it; unique among the KPIs.
    #[schemars(extend("examples" = ["% reduction of call volume into the Contact Centre"]))]
    pub name: String,
    /// The channel whose contacts are counted: `telephone`, `face_to_face`, `web`, `webchat`,
    /// `email`, `social` or `other`.
    #[schemars(extend("enum" = super::raw::channel_names(), "examples" = ["telephone"]))]
    pub channel: String,
    /// The services counted. Default: every service.
    #[serde(default)]
    #[schemars(extend("examples" = [["Housing", "Revenues & Benefits"]]))]
    pub services: Vec<String>,
    /// The outcomes counted (e.g. `submitted` for forms completed). Default: every contact of
    /// the channel.
    #[serde(default)]
    #[schemars(extend("items" = {"type": "string", "enum": OUTCOMES}, "examples" = [["submitted"]]))]
    pub outcomes: Vec<String>,
    /// The financial year the baseline is taken from, like `2022/23` (or `2022-23`).
    #[schemars(extend("examples" = ["2022/23"]))]
    pub baseline: String,
    /// The target change against the baseline, in percent: 0 or more for an increase, 0 or
    /// less for a reduction (e.g. -5).
    #[schemars(extend("examples" = [-5]))]
    pub target_change_pct: f64,
    /// Which way the target goes: `increase` or `reduction` (also `decrease`).
    #[schemars(extend("enum" = Direction::ACCEPTED, "examples" = ["reduction"]))]
    pub direction: String,
    /// Financial years this KPI is reported for, like `2023/24`. Default: every year.
    #[serde(default)]
    #[schemars(extend("examples" = [["2023/24"]]))]
    pub applies_to: Vec<String>,
}

/// Handling time and cost of one contact on a channel (`[kpi.unit_costs.<channel>]`), the
/// assumptions of the benefits estimate (contacts avoided x minutes and cost).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUnitCost {
    /// Officer minutes one contact takes. Optional.
    #[schemars(extend("examples" = [6.5]))]
    pub minutes: Option<f64>,
    /// The cost of one contact, in pounds (the report prints it with £). Optional.
    #[schemars(extend("examples" = [4.1]))]
    pub cost: Option<f64>,
}

/// Which telephone count digital take-up divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeupTelephone {
    Offered,
    Answered,
}

named!(TakeupTelephone {
    Offered = "offered",
    Answered = "answered",
});

/// How service level is defined; the output names the definition used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceLevel {
    /// Answered within T / offered.
    Plain,
    /// (Answered within T) / (answered + abandoned), short abandons left out (Genesys Cloud).
    Genesys,
    /// Contacts leaving the queue (answered, abandoned or callback) within T / contacts queued
    /// (Amazon Connect).
    AmazonConnect,
}

named!(ServiceLevel {
    Plain = "plain",
    Genesys = "genesys",
    AmazonConnect = "amazon_connect",
});

impl ServiceLevel {
    pub fn describe(self, seconds: f64) -> String {
        match self {
            ServiceLevel::Plain => format!("answered within {seconds} s / offered"),
            ServiceLevel::Genesys => format!(
                "answered within {seconds} s / (answered + abandoned), short abandons excluded (Genesys); not available where an abandoned call's wait is unknown"
            ),
            ServiceLevel::AmazonConnect => format!(
                "left the queue within {seconds} s (answered, abandoned or callback) / offered (Amazon Connect)"
            ),
        }
    }
}

/// How abandonment is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abandonment {
    /// Abandoned / offered.
    Plain,
    /// Abandoned / (answered + abandoned), short abandons excluded from both.
    ExcludingShort,
}

named!(Abandonment {
    Plain = "plain",
    ExcludingShort = "excluding_short",
});

impl Abandonment {
    pub fn describe(self, short_seconds: f64) -> String {
        match self {
            Abandonment::Plain => "abandoned / offered".to_string(),
            Abandonment::ExcludingShort => format!(
                "abandoned / (answered + abandoned), abandons under {short_seconds} s excluded; not available where an abandoned call's wait is unknown"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Increase,
    Reduction,
}

named!(Direction {
    Increase = "increase",
    Reduction = "reduction" | "decrease",
});

/// One channel-shift KPI: a channel's volume for some services against a baseline year.
#[derive(Debug, Clone)]
pub struct ChannelShiftKpi {
    pub name: String,
    pub channel: Channel,
    /// Services counted; empty means every service.
    pub services: Vec<String>,
    /// Outcomes counted; empty means every contact of the channel.
    pub outcomes: Vec<String>,
    /// Financial year the baseline is taken from (its starting year).
    pub baseline_fy: i32,
    pub target_change_pct: f64,
    pub direction: Direction,
    /// Financial years (starting years) it is reported for; empty means all.
    pub applies_to: Vec<i32>,
}

/// Handling time and cost of one contact on a channel, for the benefits estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitCost {
    pub minutes: Option<f64>,
    pub cost: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct KpiConfig {
    pub takeup_telephone: TakeupTelephone,
    pub service_level_seconds: f64,
    pub service_level: ServiceLevel,
    pub abandonment: Abandonment,
    pub short_abandon_seconds: f64,
    /// RAG: green when this share of the target change is achieved (1.0 = target met).
    pub rag_green_progress: f64,
    /// RAG: amber when progress is above this share (0.0 = moving the right way at all).
    pub rag_amber_progress: f64,
    pub min_responses_to_rank: u32,
    /// The score benchmark ranks use.
    pub rank_on: SatisfactionMeasure,
    /// Weighted satisfaction: weights are capped at this multiple of the mean weight.
    pub weight_cap: f64,
    /// Weighted satisfaction: channel x service cells are used when each has this many
    /// responses (cells with contacts), channel cells otherwise.
    pub weighting_min_responses: u32,
    pub channel_shift: Vec<ChannelShiftKpi>,
    pub unit_costs: BTreeMap<Channel, UnitCost>,
}

impl Default for KpiConfig {
    fn default() -> Self {
        KpiConfig {
            takeup_telephone: TakeupTelephone::Offered,
            service_level_seconds: 20.0,
            service_level: ServiceLevel::Plain,
            abandonment: Abandonment::Plain,
            short_abandon_seconds: 5.0,
            rag_green_progress: 1.0,
            rag_amber_progress: 0.0,
            min_responses_to_rank: 30,
            rank_on: SatisfactionMeasure::NetSatisfaction,
            weight_cap: 5.0,
            weighting_min_responses: 20,
            channel_shift: Vec::new(),
            unit_costs: BTreeMap::new(),
        }
    }
}

/// Validates `[kpi]`, pushing every problem with its key.
pub(super) fn resolve(
    raw: Option<RawKpi>,
    calendar: Calendar,
    push: &mut impl FnMut(String, String),
) -> KpiConfig {
    let mut cfg = KpiConfig::default();
    let Some(raw) = raw else {
        return cfg;
    };
    if let Some(t) = setting(
        raw.takeup_telephone.as_deref(),
        "kpi.takeup_telephone",
        push,
    ) {
        cfg.takeup_telephone = t;
    }
    if let Some(s) = raw.service_level_seconds {
        if s > 0.0 {
            cfg.service_level_seconds = s;
        } else {
            push(
                "kpi.service_level_seconds".into(),
                format!("{s} is not a positive number of seconds"),
            );
        }
    }
    if let Some(s) = setting(raw.service_level.as_deref(), "kpi.service_level", push) {
        cfg.service_level = s;
    }
    if let Some(a) = setting(raw.abandonment.as_deref(), "kpi.abandonment", push) {
        cfg.abandonment = a;
    }
    if let Some(s) = raw.short_abandon_seconds {
        cfg.short_abandon_seconds = s;
    }
    if let Some(g) = raw.rag_green_progress {
        cfg.rag_green_progress = g;
    }
    if let Some(a) = raw.rag_amber_progress {
        cfg.rag_amber_progress = a;
    }
    if cfg.rag_amber_progress > cfg.rag_green_progress {
        push(
            "kpi.rag_amber_progress".into(),
            "must not be above kpi.rag_green_progress".into(),
        );
    }
    if let Some(n) = raw.min_responses_to_rank {
        cfg.min_responses_to_rank = n;
    }
    if let Some(m) = setting(raw.rank_on.as_deref(), "kpi.rank_on", push) {
        cfg.rank_on = m;
    }
    if let Some(cap) = raw.weight_cap {
        if cap.is_finite() && cap > 1.0 {
            cfg.weight_cap = cap;
        } else {
            push(
                "kpi.weight_cap".into(),
                format!("{cap} is not a multiple of the mean weight above 1 (e.g. 5)"),
            );
        }
    }
    if let Some(n) = raw.weighting_min_responses {
        if n > 0 {
            cfg.weighting_min_responses = n;
        } else {
            push(
                "kpi.weighting_min_responses".into(),
                "must be at least 1 (e.g. 20)".into(),
            );
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, k) in raw.channel_shift.into_iter().enumerate() {
        let key = format!("kpi.channel_shift[{i}] ({})", k.name);
        if !names.insert(k.name.clone()) {
            push(format!("{key}.name"), "two KPIs share this name".into());
        }
        let channel = Channel::parse(&k.channel).unwrap_or_else(|| {
            push(
                format!("{key}.channel"),
                format!("'{}' is not a channel", k.channel),
            );
            Channel::Other
        });
        for o in &k.outcomes {
            if !OUTCOMES.contains(&o.as_str()) {
                push(
                    format!("{key}.outcomes"),
                    format!("'{o}' is not an outcome ({})", OUTCOMES.join(", ")),
                );
            }
        }
        let Target {
            baseline_fy,
            target_change_pct,
            direction,
            applies_to,
        } = resolve_target(
            &key,
            &k.baseline,
            k.target_change_pct,
            &k.direction,
            &k.applies_to,
            calendar,
            push,
        );
        cfg.channel_shift.push(ChannelShiftKpi {
            name: k.name,
            channel,
            services: k.services,
            outcomes: k.outcomes,
            baseline_fy,
            target_change_pct,
            direction,
            applies_to,
        });
    }
    for (channel, cost) in raw.unit_costs {
        match Channel::parse(&channel) {
            Some(ch) => {
                cfg.unit_costs.insert(
                    ch,
                    UnitCost {
                        minutes: cost.minutes,
                        cost: cost.cost,
                    },
                );
            }
            None => push(
                format!("kpi.unit_costs.{channel}"),
                format!("'{channel}' is not a channel"),
            ),
        }
    }
    cfg
}

/// A target against a baseline year, as channel-shift KPIs and avoidable-contact targets
/// declare it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Financial year the baseline is taken from (its starting year).
    pub baseline_fy: i32,
    pub target_change_pct: f64,
    pub direction: Direction,
    /// Financial years (starting years) it is reported for; empty means all.
    pub applies_to: Vec<i32>,
}

impl Target {
    /// Whether it is reported for the financial year starting in `fy`.
    pub fn applies(&self, fy: i32) -> bool {
        self.applies_to.is_empty() || self.applies_to.contains(&fy)
    }
}

/// Checks a baseline, target and direction under `key`: the baseline and years named in the
/// calendar's form, the target's sign matching its direction.
pub(super) fn resolve_target(
    key: &str,
    baseline: &str,
    target_change_pct: f64,
    direction: &str,
    applies_to: &[String],
    calendar: Calendar,
    push: &mut impl FnMut(String, String),
) -> Target {
    let baseline_fy = calendar.parse(baseline).unwrap_or_else(|e| {
        push(format!("{key}.baseline"), e);
        0
    });
    let direction =
        setting(Some(direction), &format!("{key}.direction"), push).unwrap_or(Direction::Increase);
    let target_sign_ok = match direction {
        Direction::Increase => target_change_pct >= 0.0,
        Direction::Reduction => target_change_pct <= 0.0,
    };
    if !target_sign_ok {
        push(
            format!("{key}.target_change_pct"),
            format!(
                "{target_change_pct} does not match direction = \"{}\" (a reduction target is negative, e.g. -5)",
                direction.as_str()
            ),
        );
    }
    let mut years = Vec::new();
    for fy in applies_to {
        match calendar.parse(fy) {
            Ok(y) => years.push(y),
            Err(e) => push(format!("{key}.applies_to"), e),
        }
    }
    Target {
        baseline_fy,
        target_change_pct,
        direction,
        applies_to: years,
    }
}
