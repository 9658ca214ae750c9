//! Avoidable contact in a pipeline file (`[avoidable]`): which contact-reason or disposition
//! codes are avoidable and of which kind (National Indicator 14's categories), whether a repeat
//! counts as avoidable, and the targets (`[[avoidable.targets]]`) the avoidable share and the
//! contacts per resolved request are judged against. Codes are mapped when figures are
//! computed, not at ingest, so a council can refine its mapping and re-run without re-ingesting.

use schemars::JsonSchema;
use serde::Deserialize;

use super::kpi::{resolve_target, Target};
use super::names::{named, setting};
use crate::model::Channel;
use crate::period::Calendar;
use crate::text::normalise_value;

/// Avoidable contact, as National Indicator 14 defined it (`[avoidable]`): contacts that a
/// service working well would not have had. A contact is avoidable when its reason or
/// disposition code (the sources' `columns.reason`) is listed under an avoidable category here,
/// or when it is a repeat: the same customer about the same service within `repeat_days` (needs
/// `[customers]`). Codes are compared ignoring case and spacing; a code listed nowhere is
/// counted as not coded and named in a warning, never guessed.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAvoidable {
    /// Codes meaning the customer was chasing progress on something already asked for.
    #[serde(default)]
    #[schemars(extend("examples" = [["Progress chase", "Chasing"]]))]
    pub progress_chasing: Vec<String>,
    /// Codes meaning the customer needed something explained (a letter, a form, a decision).
    #[serde(default)]
    #[schemars(extend("examples" = [["Letter query"]]))]
    pub clarification: Vec<String>,
    /// Codes meaning the contact came to the wrong place or channel (transferred, signposted,
    /// could have been done online).
    #[serde(default)]
    #[schemars(extend("examples" = [["Wrong department", "Signposted"]]))]
    pub wrong_channel: Vec<String>,
    /// Other codes the council counts as avoidable.
    #[serde(default)]
    #[schemars(extend("examples" = [["Duplicate report"]]))]
    pub other_avoidable: Vec<String>,
    /// Codes of contacts that were needed (a new request, a payment, a report): coded, not
    /// avoidable. A code listed nowhere is not coded.
    #[serde(default)]
    #[schemars(extend("examples" = [["New request", "Payment", "Report a problem"]]))]
    pub unavoidable: Vec<String>,
    /// A contact not coded avoidable that comes within this many days of the same customer's
    /// contact about the same service counts as an avoidable repeat (whatever its code: an
    /// adviser's "new request" is often the default). A whole number from 0 (repeats are not
    /// counted) to the longest of `customers.repeat_days`. Default: the shortest of
    /// `customers.repeat_days` when a source maps customer identifiers, otherwise 0.
    #[schemars(extend("examples" = [7]))]
    pub repeat_days: Option<i64>,
    /// Targets for the avoidable share or the contacts per resolved request, declared like the
    /// channel-shift KPIs (`[[avoidable.targets]]`). Default: none.
    #[serde(default)]
    pub targets: Vec<RawAvoidableTarget>,
}

/// One avoidable-contact target (`[[avoidable.targets]]`): a measure for some channels and
/// services against the same months of a baseline financial year.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAvoidableTarget {
    /// The target as the report states it; unique among the targets.
    #[schemars(extend("examples" = ["Reduce avoidable contact by a fifth"]))]
    pub name: String,
    /// What is measured: `avoidable_share` (avoidable contacts / contacts assessed, in percent)
    /// or `contacts_per_resolved_request` (identified contacts / those not followed up within
    /// `repeat_days`; needs `[customers]`). Default: `avoidable_share`.
    #[schemars(extend("default" = "avoidable_share", "enum" = AvoidableMeasure::ACCEPTED, "examples" = ["contacts_per_resolved_request"]))]
    pub measure: Option<String>,
    /// The channels counted. Default: every channel.
    #[serde(default)]
    #[schemars(extend("items" = {"type": "string", "enum": super::raw::channel_names()}, "examples" = [["telephone", "face_to_face"]]))]
    pub channels: Vec<String>,
    /// The services counted. Default: every service.
    #[serde(default)]
    #[schemars(extend("examples" = [["Revenues & Benefits"]]))]
    pub services: Vec<String>,
    /// The financial year the baseline is taken from, like `2022/23`.
    #[schemars(extend("examples" = ["2022/23"]))]
    pub baseline: String,
    /// The target change of the measure against the baseline, in percent of the baseline
    /// (-20: a fifth lower). Negative for a reduction.
    #[schemars(extend("examples" = [-20]))]
    pub target_change_pct: f64,
    /// Which way the target goes: `reduction` (also `decrease`) or `increase`. Default:
    /// `reduction`.
    #[schemars(extend("default" = "reduction", "enum" = super::kpi::Direction::ACCEPTED, "examples" = ["reduction"]))]
    pub direction: Option<String>,
    /// Financial years this target is reported for, like `2023/24`. Default: every year.
    #[serde(default)]
    #[schemars(extend("examples" = [["2023/24"]]))]
    pub applies_to: Vec<String>,
}

/// The categories a reason code maps onto; the first four are avoidable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReasonCategory {
    ProgressChasing,
    Clarification,
    WrongChannel,
    OtherAvoidable,
    Unavoidable,
}

named!(ReasonCategory {
    ProgressChasing = "progress_chasing",
    Clarification = "clarification",
    WrongChannel = "wrong_channel",
    OtherAvoidable = "other_avoidable",
    Unavoidable = "unavoidable",
});

impl ReasonCategory {
    /// Every category, the avoidable ones first.
    pub const ALL: [ReasonCategory; 5] = [
        ReasonCategory::ProgressChasing,
        ReasonCategory::Clarification,
        ReasonCategory::WrongChannel,
        ReasonCategory::OtherAvoidable,
        ReasonCategory::Unavoidable,
    ];
    /// The avoidable categories.
    pub const AVOIDABLE: [ReasonCategory; 4] = [
        ReasonCategory::ProgressChasing,
        ReasonCategory::Clarification,
        ReasonCategory::WrongChannel,
        ReasonCategory::OtherAvoidable,
    ];
}

/// What an avoidable-contact target measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvoidableMeasure {
    AvoidableShare,
    ContactsPerResolvedRequest,
}

named!(AvoidableMeasure {
    AvoidableShare = "avoidable_share",
    ContactsPerResolvedRequest = "contacts_per_resolved_request",
});

/// One avoidable-contact target, resolved.
#[derive(Debug, Clone)]
pub struct AvoidableTarget {
    pub name: String,
    pub measure: AvoidableMeasure,
    /// Channels counted; empty means every channel.
    pub channels: Vec<Channel>,
    /// Services counted; empty means every service.
    pub services: Vec<String>,
    pub target: Target,
}

/// `[avoidable]`, resolved.
#[derive(Debug, Clone, Default)]
pub struct AvoidableConfig {
    /// (normalised code, category), each code once.
    pub codes: Vec<(String, ReasonCategory)>,
    /// Repeats within this many days are avoidable; 0: repeats are not counted.
    pub repeat_days: u32,
    pub targets: Vec<AvoidableTarget>,
}

/// Validates `[avoidable]`. `repeat_windows`: `customers.repeat_days` when a source maps customer
/// identifiers (empty otherwise); `reasons`: whether any source maps `columns.reason`.
pub(super) fn resolve(
    raw: Option<RawAvoidable>,
    calendar: Calendar,
    repeat_windows: &[u32],
    reasons: bool,
    push: &mut impl FnMut(String, String),
) -> Option<AvoidableConfig> {
    let raw = raw?;
    let mut codes: Vec<(String, ReasonCategory)> = Vec::new();
    let lists = [
        (ReasonCategory::ProgressChasing, &raw.progress_chasing),
        (ReasonCategory::Clarification, &raw.clarification),
        (ReasonCategory::WrongChannel, &raw.wrong_channel),
        (ReasonCategory::OtherAvoidable, &raw.other_avoidable),
        (ReasonCategory::Unavoidable, &raw.unavoidable),
    ];
    for (category, list) in lists {
        let key = format!("avoidable.{}", category.as_str());
        for code in list {
            let normal = normalise_value(code);
            if normal.is_empty() {
                push(
                    key.clone(),
                    "a blank code: list the codes as the export writes them".into(),
                );
                continue;
            }
            match codes.iter().find(|(c, _)| *c == normal) {
                Some((_, other)) if *other == category => push(
                    key.clone(),
                    format!(
                        "'{code}' is listed twice (codes are compared ignoring case and spacing)"
                    ),
                ),
                Some((_, other)) => push(
                    key.clone(),
                    format!(
                        "'{code}' is also listed in avoidable.{}: give each code one category",
                        other.as_str()
                    ),
                ),
                None => codes.push((normal, category)),
            }
        }
    }
    if !codes.is_empty() && !reasons {
        push(
            "avoidable".into(),
            "codes are listed but no source maps a reason: set columns.reason on the contact sources whose exports carry a reason or disposition code".into(),
        );
    }
    let longest = repeat_windows.iter().copied().max().unwrap_or(0);
    let repeat_days = match raw.repeat_days {
        None => repeat_windows.iter().copied().min().unwrap_or(0),
        Some(d) => match u32::try_from(d) {
            Ok(d) if d <= longest => d,
            _ if longest == 0 => {
                push(
                    "avoidable.repeat_days".into(),
                    "repeats need customer keys: map customer identifiers in [sources.customer] (and [customers]), or remove repeat_days".into(),
                );
                0
            }
            _ => {
                push(
                    "avoidable.repeat_days".into(),
                    format!("{d} is not from 0 to {longest}, the longest of customers.repeat_days"),
                );
                0
            }
        },
    };
    if codes.is_empty() && repeat_days == 0 {
        push(
            "avoidable".into(),
            "nothing makes a contact avoidable: list reason codes by category (e.g. progress_chasing = [\"Chasing\"]) or map customer identifiers so repeats count".into(),
        );
    }
    let mut names = std::collections::BTreeSet::new();
    let mut targets = Vec::new();
    for (i, t) in raw.targets.into_iter().enumerate() {
        let key = format!("avoidable.targets[{i}] ({})", t.name);
        if !names.insert(t.name.clone()) {
            push(format!("{key}.name"), "two targets share this name".into());
        }
        let measure = setting(t.measure.as_deref(), &format!("{key}.measure"), push)
            .unwrap_or(AvoidableMeasure::AvoidableShare);
        if measure == AvoidableMeasure::ContactsPerResolvedRequest && repeat_days == 0 {
            push(
                format!("{key}.measure"),
                "contacts per resolved request needs repeats: map customer identifiers ([sources.customer], [customers]) and keep avoidable.repeat_days above 0".into(),
            );
        }
        let mut channels = Vec::new();
        for name in &t.channels {
            match Channel::parse(name) {
                Some(c) => channels.push(c),
                None => push(
                    format!("{key}.channels"),
                    format!("'{name}' is not a channel"),
                ),
            }
        }
        let target = resolve_target(
            &key,
            &t.baseline,
            t.target_change_pct,
            t.direction.as_deref().unwrap_or("reduction"),
            &t.applies_to,
            calendar,
            push,
        );
        targets.push(AvoidableTarget {
            name: t.name,
            measure,
            channels,
            services: t.services,
            target,
        });
    }
    Some(AvoidableConfig {
        codes,
        repeat_days,
        targets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(toml_text: &str, windows: &[u32]) -> (Option<AvoidableConfig>, Vec<String>) {
        let raw: RawAvoidable = match toml::from_str(toml_text) {
            Ok(raw) => raw,
            Err(e) => panic!("test toml: {e}"),
        };
        let mut problems = Vec::new();
        let cfg = resolve(
            Some(raw),
            Calendar::default(),
            windows,
            true,
            &mut |k, m| problems.push(format!("{k}: {m}")),
        );
        (cfg, problems)
    }

    #[test]
    fn codes_map_ignoring_case_and_each_code_has_one_category() {
        let (cfg, problems) = resolved(
            r#"progress_chasing = ["Chasing  Progress"]
               unavoidable = ["New request", "chasing progress"]"#,
            &[7, 28],
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("avoidable.unavoidable: 'chasing progress' is also listed in avoidable.progress_chasing"));
        let cfg = cfg.unwrap_or_default();
        assert_eq!(
            cfg.codes,
            vec![
                (
                    "chasing progress".to_string(),
                    ReasonCategory::ProgressChasing
                ),
                ("new request".to_string(), ReasonCategory::Unavoidable)
            ]
        );
        assert_eq!(cfg.repeat_days, 7, "the shortest window by default");
    }

    #[test]
    fn repeats_need_keys_and_a_window_the_scan_covers() {
        let (_, problems) = resolved("repeat_days = 7", &[]);
        assert!(
            problems[0].contains("repeats need customer keys"),
            "{problems:?}"
        );
        let (_, problems) = resolved("repeat_days = 30", &[7, 28]);
        assert!(
            problems[0].contains("30 is not from 0 to 28"),
            "{problems:?}"
        );
        let (cfg, problems) = resolved("repeat_days = 0", &[7]);
        assert!(
            problems[0].contains("nothing makes a contact avoidable"),
            "{problems:?}"
        );
        assert_eq!(cfg.map(|c| c.repeat_days), Some(0));
    }

    #[test]
    fn targets_are_checked_like_channel_shift_kpis() {
        let (cfg, problems) = resolved(
            r#"wrong_channel = ["Signposted"]
               [[targets]]
               name = "Avoidable down a fifth"
               baseline = "2023/24"
               target_change_pct = 5
               [[targets]]
               name = "Per request"
               measure = "contacts_per_resolved_request"
               channels = ["telephone", "fax"]
               baseline = "2023"
               target_change_pct = -10"#,
            &[],
        );
        let text = problems.join("\n");
        assert!(text.contains("avoidable.targets[0] (Avoidable down a fifth).target_change_pct: 5 does not match direction = \"reduction\""), "{text}");
        assert!(text.contains("avoidable.targets[1] (Per request).measure: contacts per resolved request needs repeats"), "{text}");
        assert!(
            text.contains("avoidable.targets[1] (Per request).channels: 'fax' is not a channel"),
            "{text}"
        );
        assert!(
            text.contains(
                "avoidable.targets[1] (Per request).baseline: '2023' is not a financial year"
            ),
            "{text}"
        );
        let cfg = cfg.unwrap_or_default();
        assert_eq!(cfg.targets.len(), 2);
        assert_eq!(cfg.targets[1].channels, vec![Channel::Telephone]);
        assert_eq!(cfg.targets[0].target.baseline_fy, 2023);
    }
}
