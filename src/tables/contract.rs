//! The table contract: the names of the published tables and of the columns that the charts and
//! the report read from them, in one place, so the stages that write tables (kpi, equality) and
//! the stages that read them back (charts, report) cannot drift apart silently. A table read
//! back from a publication is checked against [`required`]: a missing column is an error naming
//! the table, the column and the file, never a blank chart. The full column lists of every
//! table are pinned by the golden test `tests/integration/contract.rs`.

/// Table names.
pub mod name {
    pub const CHANNEL_SHIFT: &str = "channel_shift";
    pub const CHANNEL_TREND: &str = "channel_trend";
    pub const VOLUMES: &str = "volumes";
    pub const DIGITAL_TAKEUP: &str = "digital_takeup";
    pub const CHANNEL_MIX: &str = "channel_mix";
    pub const FORM_COMPLETION: &str = "form_completion";
    pub const CONTACT_CENTRE: &str = "contact_centre";
    pub const SATISFACTION_BY_CHANNEL: &str = "satisfaction_by_channel";
    pub const SATISFACTION_MONTHLY: &str = "satisfaction_monthly";
    pub const SATISFACTION_BY_SERVICE: &str = "satisfaction_by_service";
    pub const SATISFACTION_RATINGS: &str = "satisfaction_ratings";
    /// A wide survey's questions, each scored (published with `[survey] overall_question`).
    pub const SATISFACTION_BY_QUESTION: &str = "satisfaction_by_question";
    pub const RESPONSE_RATE: &str = "response_rate";
    /// Satisfaction weighted to the contact mix, beside the unweighted figure.
    pub const SATISFACTION_WEIGHTED: &str = "satisfaction_weighted";
    /// The weights behind it: one row per weighted row and cell.
    pub const SATISFACTION_WEIGHTS: &str = "satisfaction_weights";
    pub const BENCHMARK_RANKS: &str = "benchmark_ranks";
    pub const BENEFITS_ESTIMATE: &str = "benefits_estimate";
    pub const DATA_QUALITY: &str = "data_quality";
    pub const LINEAGE: &str = "lineage";
    /// Right first time (contacts with customer keys; see `kpi::repeats`).
    pub const REPEAT_CONTACT: &str = "repeat_contact";
    pub const CONTACT_RESOLUTION: &str = "contact_resolution";
    pub const FAILURE_DEMAND: &str = "failure_demand";
    pub const DAYS_TO_REPEAT: &str = "days_to_repeat";
    /// Failure demand over the whole period by form (category), most followed first.
    pub const FAILURE_DEMAND_BY_FORM: &str = "failure_demand_by_form";
    /// Avoidable contact (`[avoidable]`; see `kpi::avoidable`) and its targets.
    pub const AVOIDABLE_CONTACT: &str = "avoidable_contact";
    pub const AVOIDABLE_TARGETS: &str = "avoidable_targets";

    /// Longest table name: an Excel sheet name holds at most 31 characters.
    pub const MAX_CHARS: usize = 31;

    /// An equality breakdown by one or two columns: `equality_age_band`,
    /// `equality_age_band_by_channel`.
    pub fn equality<S: AsRef<str>>(by: &[S]) -> String {
        let by: Vec<&str> = by.iter().map(AsRef::as_ref).collect();
        format!("equality_{}", by.join("_by_"))
    }

    /// Which channels a demographic group used: `channel_use_<field>` (cut to 31 characters).
    pub fn channel_use(field: &str) -> String {
        format!("channel_use_{field}")
            .chars()
            .take(MAX_CHARS)
            .collect()
    }

    /// Respondents against the population: `representation_<field>` (cut to 31 characters).
    pub fn representation(field: &str) -> String {
        format!("representation_{field}")
            .chars()
            .take(MAX_CHARS)
            .collect()
    }
}

/// Names of the columns the charts and the report read (the satisfaction measures' names are
/// [`crate::measures::out`]).
pub mod column {
    pub use crate::measures::out::*;
    pub use crate::model::col::{
        CATEGORY, CHANNEL, FINANCIAL_YEAR, MONTH, ORGANISATION, SERVICE, YEAR,
    };

    // channel_shift
    pub const KPI: &str = "kpi";
    pub const STATUS: &str = "status";
    pub const RAG: &str = "rag";
    /// Months of a channel-shift KPI's baseline or current period with no contact on its
    /// channel (null when none): its status is then `incomplete`.
    pub const MISSING_MONTHS: &str = "missing_months";
    pub const BASELINE: &str = "baseline";
    pub const BASELINE_PERIOD: &str = "baseline_period";
    pub const CURRENT: &str = "current";
    pub const CURRENT_PERIOD: &str = "current_period";
    pub const CHANGE_PCT: &str = "change_pct";
    pub const TARGET_CHANGE_PCT: &str = "target_change_pct";
    pub const MONTH_LABEL: &str = "month";
    pub const MONTH_A_YEAR_EARLIER: &str = "month_a_year_earlier";
    pub const MONTH_CURRENT: &str = "month_current";
    pub const MONTH_YEAR_EARLIER: &str = "month_year_earlier";
    pub const MONTH_CHANGE: &str = "month_change";
    // channel_trend, digital_takeup
    pub const TRANSACTIONS: &str = "transactions";
    pub const WEB: &str = "web";
    pub const TELEPHONE: &str = "telephone";
    pub const FACE_TO_FACE: &str = "face_to_face";
    pub const DIGITAL_TAKEUP_PCT: &str = "digital_takeup_pct";
    /// A channel's share of the month's transactions (`channel_trend`).
    pub const SHARE_PCT: &str = "share_pct";
    // contact_centre
    pub const QUEUE: &str = "queue";
    pub const OFFERED: &str = "offered";
    pub const ANSWERED: &str = "answered";
    pub const ABANDONED: &str = "abandoned";
    pub const ABANDONMENT_RATE_PCT: &str = "abandonment_rate_pct";
    pub const SERVICE_LEVEL_PCT: &str = "service_level_pct";
    pub const FIRST_CONTACT_RESOLUTION_PCT: &str = "first_contact_resolution_pct";
    pub const ASA_SECONDS: &str = "asa_seconds";
    pub const AHT_SECONDS: &str = "aht_seconds";
    pub const SERVICE_LEVEL_DEFINITION: &str = "service_level_definition";
    pub const ABANDONMENT_DEFINITION: &str = "abandonment_definition";
    // response_rate
    pub const RESPONSE_RATE_PCT: &str = "response_rate_pct";
    // satisfaction_weighted, satisfaction_weights (see `kpi::weighting`)
    /// The row (a service, or all services) a weighting cell belongs to.
    pub const SCOPE: &str = "scope";
    /// Which cells a row is weighted on: `channel` or `channel x service`.
    pub const WEIGHTING: &str = "weighting";
    pub const WEIGHT: &str = "weight";
    pub const CAPPED: &str = "capped";
    pub const WEIGHT_CAP: &str = "weight_cap";
    pub const CONTACTS_UNREPRESENTED_PCT: &str = "contacts_unrepresented_pct";
    pub const NOT_WEIGHTED: &str = "not_weighted";
    pub const CELLS: &str = "cells";
    pub const WEIGHTED_RESPONSES: &str = "weighted_responses";
    pub const CAPPED_CELLS: &str = "capped_cells";
    pub const CAPPED_RESPONSES: &str = "capped_responses";
    pub const SUM_WEIGHTS: &str = "sum_weights";
    pub const N_EFF: &str = "n_eff";
    pub const DESIGN_EFFECT: &str = "design_effect";
    pub const WEIGHTED_COUNCIL_SCORE_PCT: &str = "weighted_council_score_pct";
    pub const WEIGHTED_SCORE_LOW: &str = "weighted_score_low";
    pub const WEIGHTED_SCORE_HIGH: &str = "weighted_score_high";
    pub const WEIGHTED_SATISFIED_PCT: &str = "weighted_satisfied_pct";
    // equality_<field>
    pub const SATISFIED_LOW: &str = "satisfied_low";
    pub const SATISFIED_HIGH: &str = "satisfied_high";
    pub const DISSATISFIED_DIFFERENCE_PP: &str = "dissatisfied_difference_pp";
    pub const P_ADJUSTED: &str = "p_adjusted";
    pub const DIFFERENCE: &str = "difference";
    /// The row's blank cells, by column (disclosure control).
    pub const SUPPRESSED: &str = "suppressed";
    /// Why they are blank, as a reader is told.
    pub const SUPPRESSION: &str = "suppression";
    // satisfaction_by_question
    /// A wide survey's question (its service, as the source maps it): a dimension of the
    /// respondent cube that every survey table of such a pipeline fixes to the overall question.
    pub const QUESTION: &str = "question";
    /// Whether the row is the overall question.
    pub const OVERALL: &str = "overall";
    // representation_<field>
    pub const GROUP: &str = "group";
    pub const RESPONDENT_SHARE_PCT: &str = "respondent_share_pct";
    pub const POPULATION_SHARE_PCT: &str = "population_share_pct";
    pub const REPRESENTATION_RATIO: &str = "representation_ratio";
    // data_quality, lineage
    pub const SOURCE: &str = "source";
    pub const FILES: &str = "files";
    pub const ROWS_READ: &str = "rows_read";
    pub const ACCEPTED: &str = "accepted";
    pub const REJECTED: &str = "rejected";
    pub const DUPLICATES: &str = "duplicates";
    /// Rows out of scope under a source's row filter rules, and their counts by rule.
    pub const EXCLUDED: &str = "excluded";
    pub const EXCLUDED_BY_RULE: &str = "excluded_by_rule";
    pub const REJECTED_PCT: &str = "rejected_pct";
    pub const FIRST_DATE: &str = "first_date";
    pub const LAST_DATE: &str = "last_date";
    pub const PATH: &str = "path";
    pub const SHA256: &str = "sha256";
    // benefits_estimate
    pub const CONTACTS_AVOIDED: &str = "contacts_avoided";
    pub const ASSUMED_MINUTES_PER_CONTACT: &str = "assumed_minutes_per_contact";
    pub const ASSUMED_COST_PER_CONTACT: &str = "assumed_cost_per_contact";
    pub const OFFICER_HOURS_RELEASED: &str = "officer_hours_released";
    pub const COST_AVOIDED: &str = "cost_avoided";
    // repeat_contact, contact_resolution, failure_demand, days_to_repeat
    /// The window a repeat or follow-up must come within, in days.
    pub const WINDOW_DAYS: &str = "window_days";
    /// Contacts counted as for take-up, with a customer key or not.
    pub const CONTACTS: &str = "contacts";
    /// Contacts with at least one customer key.
    pub const IDENTIFIED: &str = "identified";
    pub const REPEATS: &str = "repeats";
    pub const REPEAT_PCT: &str = "repeat_pct";
    /// Identified contacts whose whole window after them is in the lake.
    pub const OBSERVABLE: &str = "observable";
    pub const FOLLOWED_UP: &str = "followed_up";
    pub const RESOLVED_OBSERVED_PCT: &str = "resolved_observed_pct";
    /// Contacts with the source's own first-contact-resolution flag, and those flagged resolved.
    pub const SELF_REPORTED: &str = "self_reported";
    pub const SELF_REPORTED_RESOLVED: &str = "self_reported_resolved";
    pub const SELF_REPORTED_PCT: &str = "self_reported_pct";
    /// `failure_demand`: [`DIGITAL_THEN_ASSISTED`] or [`ASSISTED_THEN_DIGITAL`].
    pub const DIRECTION: &str = "direction";
    pub const FOLLOWED_PCT: &str = "followed_pct";
    pub const DAYS: &str = "days";
    pub const CUMULATIVE_PCT: &str = "cumulative_pct";
    /// A digital contact followed by an assisted one about the same service: failure demand.
    pub const DIGITAL_THEN_ASSISTED: &str = "digital then assisted";
    pub const ASSISTED_THEN_DIGITAL: &str = "assisted then digital";
    // avoidable_contact, avoidable_targets
    /// Contacts whose reason code `[avoidable]` lists under a category.
    pub const CODED: &str = "coded";
    /// Contacts with a reason code listed under no category (counted as not coded).
    pub const UNLISTED_CODES: &str = "unlisted_codes";
    /// Contacts with a listed code or a customer key: the avoidable share's denominator.
    pub const ASSESSED: &str = "assessed";
    /// Repeats within `repeat_days` not already coded avoidable.
    pub const REPEAT_NOT_CODED_AVOIDABLE: &str = "repeats_not_coded_avoidable";
    pub const AVOIDABLE: &str = "avoidable";
    pub const AVOIDABLE_PCT: &str = "avoidable_pct";
    pub const CONTACTS_PER_RESOLVED_REQUEST: &str = "contacts_per_resolved_request";
    pub const REPEAT_DAYS: &str = "repeat_days";
    pub const MEASURE: &str = "measure";
    pub const CHANNELS: &str = "channels";
    pub const SERVICES: &str = "services";
    pub const BASELINE_ASSESSED: &str = "baseline_assessed";
    pub const CURRENT_ASSESSED: &str = "current_assessed";
    pub const CHANGE: &str = "change";
    pub const PROGRESS_PCT: &str = "progress_pct";
}

/// Row labels that stand for a total, which the charts and the report pick out.
pub mod label {
    /// The row of a by-service table that totals every service.
    pub const ALL_SERVICES: &str = "All services";
    /// The row of the contact-centre table that totals every queue.
    pub const ALL_QUEUES: &str = "All queues";
    /// The row of a by-channel table that totals every channel.
    pub const ALL_CHANNELS: &str = "All channels";
}

use column as c;

/// The columns the charts and the report read from a published table: a table read back
/// without one of them is refused. Tables the charts and report do not read require nothing.
pub fn required(table: &str) -> &'static [&'static str] {
    match table {
        name::CHANNEL_SHIFT => &[
            c::ORGANISATION,
            c::KPI,
            c::STATUS,
            c::RAG,
            c::BASELINE,
            c::BASELINE_PERIOD,
            c::CURRENT,
            c::CURRENT_PERIOD,
            c::CHANGE_PCT,
            c::TARGET_CHANGE_PCT,
            c::MONTH_LABEL,
            c::MONTH_A_YEAR_EARLIER,
            c::MONTH_CURRENT,
            c::MONTH_YEAR_EARLIER,
            c::MONTH_CHANGE,
        ],
        name::CHANNEL_TREND => &[
            c::ORGANISATION,
            c::YEAR,
            c::MONTH,
            c::FINANCIAL_YEAR,
            c::CHANNEL,
            c::TRANSACTIONS,
            c::SHARE_PCT,
            c::BASELINE,
        ],
        name::DIGITAL_TAKEUP => &[
            c::ORGANISATION,
            c::YEAR,
            c::MONTH,
            c::SERVICE,
            c::WEB,
            c::TELEPHONE,
            c::FACE_TO_FACE,
            c::TRANSACTIONS,
            c::DIGITAL_TAKEUP_PCT,
        ],
        name::SATISFACTION_MONTHLY => &[
            c::ORGANISATION,
            c::YEAR,
            c::MONTH,
            c::CHANNEL,
            c::COUNCIL_SCORE_PCT,
            c::NET_SATISFACTION,
            c::SATISFIED_PCT,
        ],
        name::SATISFACTION_BY_CHANNEL => &[
            c::ORGANISATION,
            c::CHANNEL,
            c::RESPONSES,
            c::POSITIVE,
            c::NEUTRAL,
            c::NEGATIVE,
            c::COUNCIL_SCORE_PCT,
            c::NET_SATISFACTION,
        ],
        name::RESPONSE_RATE => &[c::ORGANISATION, c::CHANNEL, c::RESPONSE_RATE_PCT],
        name::SATISFACTION_WEIGHTED => &[
            c::ORGANISATION,
            c::SERVICE,
            c::RESPONSES,
            c::COUNCIL_SCORE_PCT,
            c::CONTACTS_UNREPRESENTED_PCT,
            c::NOT_WEIGHTED,
            c::WEIGHTING,
            c::WEIGHTED_RESPONSES,
            c::WEIGHT_CAP,
            c::CAPPED_CELLS,
            c::CAPPED_RESPONSES,
            c::N_EFF,
            c::DESIGN_EFFECT,
            c::WEIGHTED_COUNCIL_SCORE_PCT,
            c::WEIGHTED_SCORE_LOW,
            c::WEIGHTED_SCORE_HIGH,
        ],
        name::CONTACT_CENTRE => &[
            c::ORGANISATION,
            c::YEAR,
            c::MONTH,
            c::SERVICE,
            c::QUEUE,
            c::OFFERED,
            c::ANSWERED,
            c::ABANDONED,
            c::ABANDONMENT_RATE_PCT,
            c::SERVICE_LEVEL_PCT,
            c::FIRST_CONTACT_RESOLUTION_PCT,
            c::ASA_SECONDS,
            c::AHT_SECONDS,
            c::SERVICE_LEVEL_DEFINITION,
            c::ABANDONMENT_DEFINITION,
        ],
        name::DATA_QUALITY => &[
            c::SOURCE,
            c::FILES,
            c::ROWS_READ,
            c::ACCEPTED,
            c::REJECTED,
            c::DUPLICATES,
            c::EXCLUDED,
            c::EXCLUDED_BY_RULE,
            c::REJECTED_PCT,
            c::FIRST_DATE,
            c::LAST_DATE,
        ],
        name::LINEAGE => &[c::PATH, c::SHA256, c::ROWS_READ, c::ACCEPTED],
        name::REPEAT_CONTACT => &[
            c::YEAR,
            c::MONTH,
            c::SERVICE,
            c::CHANNEL,
            c::WINDOW_DAYS,
            c::CONTACTS,
            c::IDENTIFIED,
            c::REPEATS,
            c::REPEAT_PCT,
        ],
        name::FAILURE_DEMAND_BY_FORM => &[
            c::SERVICE,
            c::CHANNEL,
            c::CATEGORY,
            c::DIRECTION,
            c::WINDOW_DAYS,
            c::OBSERVABLE,
            c::FOLLOWED_UP,
            c::FOLLOWED_PCT,
        ],
        name::CONTACT_RESOLUTION => &[
            c::YEAR,
            c::MONTH,
            c::SERVICE,
            c::CHANNEL,
            c::WINDOW_DAYS,
            c::IDENTIFIED,
            c::OBSERVABLE,
            c::FOLLOWED_UP,
            c::RESOLVED_OBSERVED_PCT,
            c::SELF_REPORTED,
            c::SELF_REPORTED_RESOLVED,
            c::SELF_REPORTED_PCT,
        ],
        name::FAILURE_DEMAND => &[
            c::SERVICE,
            c::CHANNEL,
            c::CATEGORY,
            c::DIRECTION,
            c::WINDOW_DAYS,
            c::OBSERVABLE,
            c::FOLLOWED_UP,
        ],
        name::AVOIDABLE_CONTACT => &[
            c::YEAR,
            c::MONTH,
            c::SERVICE,
            c::CHANNEL,
            c::CONTACTS,
            c::ASSESSED,
            c::AVOIDABLE,
            c::AVOIDABLE_PCT,
        ],
        name::AVOIDABLE_TARGETS => &[
            c::ORGANISATION,
            c::KPI,
            c::MEASURE,
            c::BASELINE,
            c::CURRENT,
            c::TARGET_CHANGE_PCT,
            c::STATUS,
            c::RAG,
        ],
        name::BENEFITS_ESTIMATE => &[
            c::ORGANISATION,
            c::KPI,
            c::CONTACTS_AVOIDED,
            c::ASSUMED_MINUTES_PER_CONTACT,
            c::ASSUMED_COST_PER_CONTACT,
            c::OFFICER_HOURS_RELEASED,
            c::COST_AVOIDED,
        ],
        t if t.starts_with("representation_") => &[
            c::GROUP,
            c::RESPONDENT_SHARE_PCT,
            c::POPULATION_SHARE_PCT,
            c::REPRESENTATION_RATIO,
        ],
        // One-way breakdowns (`equality_<field>`); two-way ones are not charted.
        t if t.starts_with("equality_") && !t.contains("_by_") => &[
            c::RESPONSES,
            c::SATISFIED_PCT,
            c::SATISFIED_LOW,
            c::SATISFIED_HIGH,
            c::DISSATISFIED_PCT,
            c::DISSATISFIED_DIFFERENCE_PP,
            c::P_ADJUSTED,
            c::DIFFERENCE,
            c::SUPPRESSED,
            c::SUPPRESSION,
        ],
        _ => &[],
    }
}

/// The first column [`required`] for `table` that `columns` lacks.
pub fn missing(table: &str, columns: &[&str]) -> Option<&'static str> {
    required(table)
        .iter()
        .find(|c| !columns.contains(c))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_a_sheet_and_missing_columns_are_named() {
        assert_eq!(name::equality(&["age_band"]), "equality_age_band");
        assert_eq!(
            name::equality(&["age_band", "channel"]),
            "equality_age_band_by_channel"
        );
        assert_eq!(
            name::representation("a_very_long_demographic_field_name")
                .chars()
                .count(),
            name::MAX_CHARS
        );
        assert_eq!(
            missing(name::RESPONSE_RATE, &["organisation", "channel"]),
            Some("response_rate_pct")
        );
        assert_eq!(missing("volumes", &[]), None);
    }
}
