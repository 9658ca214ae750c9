//! Warnings: what a run finishes with but a reader must see (rejects above the warning level,
//! categories with no mapping, KPIs with nothing to count, a period with no data). One typed enum,
//! so `last-run.json` carries each warning's kind and figures for tools, and its sentence for
//! people, written in one place. Errors that stop a run are not warnings.

use std::fmt;

use serde::Serialize;

/// A category value no service mapping names: its rows (rejected) and the files it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmappedService {
    pub value: String,
    pub rows: u64,
    pub files: usize,
}

/// One warning, with the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// A file's share of rejected rows is above `quality.warn_reject_share` (but not above the
    /// failing level).
    RejectedShare {
        file: String,
        rejected: u64,
        rows_read: u64,
        /// The warning level, as a fraction.
        level: f64,
        /// `reason=count` for each reason.
        reasons: String,
    },
    /// Category values of a source that no service mapping names; their rows were rejected.
    UnmappedServices {
        source: String,
        /// The values with the most rows (at most `UNMAPPED_SHOWN`), the most first.
        values: Vec<UnmappedService>,
        /// Values not listed, and their rows (with those of values not told apart).
        more_values: u64,
        more_rows: u64,
    },
    /// A channel-shift KPI whose channel (and services) have no contacts in the lake at all.
    KpiWithoutContacts {
        kpi: String,
        channel: String,
        /// The services the KPI counts (empty: every service).
        services: Vec<String>,
        /// The services that do have contacts on the channel.
        services_on_channel: Vec<String>,
    },
    /// Some of a channel-shift KPI's services have no contacts on its channel.
    KpiServicesMissing {
        kpi: String,
        channel: String,
        services: Vec<String>,
    },
    /// A UTF-8 file with some lines that were not UTF-8: those lines were read as Windows-1252.
    RepairedLines { file: String, lines: u64 },
    /// A file's share of duplicate rows is above `quality.warn_duplicate_share`.
    DuplicateShare {
        file: String,
        duplicates: u64,
        rows_read: u64,
        level: f64,
    },
    /// Rows with the record identity of a row already taken (the lake's, an earlier file's or an
    /// earlier row's) and other content: counted as duplicates, the row taken first kept.
    ConflictingDuplicates {
        file: String,
        rows: u64,
        first_row: Option<u64>,
        /// The columns the first such row differs in from the row taken first.
        columns: Vec<String>,
    },
    /// Reason codes the contacts carry that `[avoidable]` lists under no category: counted as
    /// not coded.
    UnlistedReasonCodes {
        /// Each code, with its contacts in the period, most first.
        values: Vec<(String, u64)>,
    },
    /// A file with a header and no rows (`quality.fail_on_empty_file` makes it a failure).
    EmptyFile { file: String },
    /// Identifiers of one column of a file that carried more contacts on one day than
    /// `customers.max_contacts_per_day`: taken as placeholders, their contacts got no key from
    /// that column. The values themselves are never reported.
    PlaceholderIdentifiers {
        file: String,
        /// The export's column.
        column: String,
        /// How many different identifiers were taken as placeholders.
        values: u64,
        /// Their contacts in the file.
        contacts: u64,
        /// The most contacts one of them carried on one day.
        busiest_day: u64,
        limit: u32,
    },
    /// The lake has contacts, but none in the period reported on.
    NoContactsInPeriod { period: String },
    /// Months of the period (the financial year, or its months to date) in which no source has
    /// a contact: the tables hold nothing for them, and the year's figures add up the others.
    MonthsWithoutContacts {
        period: String,
        /// The months, as runs (`April 2011 to October 2011`).
        months: Vec<String>,
        /// How many of the period's months have contacts, of how many.
        covered: usize,
        of: usize,
    },
    /// Months of the period in which a source has no contact while others have, between months
    /// it has: most likely an export not ingested. Its channels count 0 there.
    SourceMonthsMissing {
        source: String,
        /// The months, as runs.
        months: Vec<String>,
        period: String,
    },
    /// Contacts a source dates only by quarter or year: in no monthly figure, and in a year's
    /// figures only where their period lies wholly inside it.
    CoarseDates {
        source: String,
        /// `quarter` or `year`.
        granularity: String,
        /// Their contacts, from the earliest year compared to the period's end.
        contacts: u64,
    },
    /// Contacts dated by a quarter or year that straddles a year compared (or its months to
    /// date): left out of that year's figures.
    StraddlingPeriod {
        source: String,
        granularity: String,
        contacts: u64,
        /// The year, or year to date, they were left out of.
        period: String,
    },
    /// Survey answers a source dates only by a quarter or a year, whose period overlaps the
    /// financial year reported (to the period's end): in no monthly table; in the year's
    /// satisfaction and equality tables only where the period lies wholly inside the months
    /// reported.
    CoarseAnswers {
        source: String,
        /// `quarter` or `year`.
        granularity: String,
        /// Those counted in the year's tables.
        counted: u64,
        /// Those left out: their quarter or year is not wholly inside the months reported.
        left_out: u64,
        /// The financial year, or year to date, reported.
        period: String,
    },
    /// Figures that leave short abandons out (abandonment `excluding_short`, the Genesys service
    /// level) are not available for some queue-months: abandoned calls there have no wait and
    /// no short-abandons count, so any of them may have been short.
    ShortAbandonsUnknown {
        /// The figures affected (`abandonment_rate_pct`, `service_level_pct`).
        figures: Vec<String>,
        /// Queue-months without them, and the first (`Housing / HSG, Apr 2024`).
        queue_months: usize,
        first: String,
        /// Abandoned calls of unknown length in them.
        abandons: u64,
    },
    /// Charts and report were asked for, but no KPI tables are published for the period.
    NoKpiTablesToDraw,
    /// The period a run chose by itself (no `--period`: the last complete month with data) holds
    /// a tiny share of the contacts of the lake's recent months: most likely a few stray rows
    /// dated after the export's own months. The period is still the one reported on.
    ThinDefaultPeriod {
        /// `2024-03`.
        period: String,
        /// Its contacts.
        contacts: u64,
        /// The median contacts of the months compared with.
        median: u64,
        /// How many months it was compared with (the lake's last ones with contacts, up to 12).
        months: usize,
        /// The month among them with the most contacts, and its contacts.
        busiest: String,
        busiest_contacts: u64,
    },
    /// The publication was protected beside earlier publications of its financial year, all of
    /// them read together: each further one hides more and takes longer to protect, so a
    /// year's survey and equality tables print the most published once (`--fy`).
    PublishedBesideEarlier {
        /// The period of this publication.
        period: String,
        /// The earlier publications, as `2025-02 (lake version 7)`.
        earlier: Vec<String>,
    },
    /// The publication's survey and equality tables were withheld: more earlier publications of
    /// its financial year are out than `equality.max_earlier_publications` lets it be protected
    /// beside. The KPIs are published.
    SurveyTablesWithheld {
        /// The period of this publication.
        period: String,
        /// The earlier publications, as `2025-02 (lake version 7)`.
        earlier: Vec<String>,
        /// `equality.max_earlier_publications`.
        limit: usize,
        /// The tables withheld.
        tables: Vec<String>,
    },
    /// Another period of the year was published (its folder holds a disclosure audit) by a
    /// version that kept no record of what it printed: this publication is protected against
    /// the year's recorded publications only, so a reader subtracting that one from this one is
    /// not checked.
    UnrecordedPublication {
        /// The period of this publication.
        period: String,
        /// The output folder of the one not recorded (`2024-02`).
        folder: String,
    },
}

impl Warning {
    /// What the warning is about (a file, a source, a KPI, the period), for a `subject: message`
    /// line.
    pub fn subject(&self) -> String {
        match self {
            Warning::RejectedShare { file, .. }
            | Warning::RepairedLines { file, .. }
            | Warning::DuplicateShare { file, .. }
            | Warning::ConflictingDuplicates { file, .. }
            | Warning::PlaceholderIdentifiers { file, .. }
            | Warning::EmptyFile { file } => file.clone(),
            Warning::UnmappedServices { source, .. } => format!("source '{source}'"),
            Warning::KpiWithoutContacts { kpi, .. } | Warning::KpiServicesMissing { kpi, .. } => {
                format!("KPI '{kpi}'")
            }
            Warning::NoContactsInPeriod { period }
            | Warning::MonthsWithoutContacts { period, .. }
            | Warning::ThinDefaultPeriod { period, .. }
            | Warning::UnrecordedPublication { period, .. }
            | Warning::SurveyTablesWithheld { period, .. }
            | Warning::PublishedBesideEarlier { period, .. } => period.clone(),
            Warning::CoarseDates { source, .. }
            | Warning::SourceMonthsMissing { source, .. }
            | Warning::StraddlingPeriod { source, .. }
            | Warning::CoarseAnswers { source, .. } => {
                format!("source '{source}'")
            }
            Warning::UnlistedReasonCodes { .. } => "avoidable contact".to_string(),
            Warning::NoKpiTablesToDraw => "report".to_string(),
            Warning::ShortAbandonsUnknown { .. } => "contact centre".to_string(),
        }
    }

    /// The warning as `last-run.json` holds it: its fields, its kind and its sentence.
    pub fn reported(&self) -> Reported<'_> {
        Reported {
            warning: self,
            message: self.to_string(),
        }
    }
}

/// A warning with its sentence, as serialised for people and tools at once.
#[derive(Debug, Serialize)]
pub struct Reported<'a> {
    #[serde(flatten)]
    pub warning: &'a Warning,
    pub message: String,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::RejectedShare {
                rejected,
                rows_read,
                level,
                reasons,
                ..
            } => write!(
                f,
                "{} of rows rejected ({rejected} of {rows_read}), above the {} warning level; {reasons}",
                pct(*rejected as f64 / (*rows_read).max(1) as f64),
                pct(*level)
            ),
            Warning::UnlistedReasonCodes { values } => {
                const SHOWN: usize = 10;
                let mut list = values
                    .iter()
                    .take(SHOWN)
                    .map(|(v, n)| format!("'{v}' ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if values.len() > SHOWN {
                    list.push_str(&format!(" and {} more", values.len() - SHOWN));
                }
                write!(
                    f,
                    "reason codes listed under no [avoidable] category: {list} (contacts in the period); they count as not coded: list each under a category, `unavoidable` included"
                )
            }
            Warning::UnmappedServices {
                values,
                more_values,
                more_rows,
                ..
            } => {
                let plural = |n: u64, word: &str| {
                    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
                };
                let mut list = values
                    .iter()
                    .map(|u| {
                        format!(
                            "'{}' ({} in {})",
                            u.value,
                            plural(u.rows, "row"),
                            plural(u.files as u64, "file")
                        )
                    })
                    .collect::<Vec<_>>();
                if *more_rows > 0 {
                    // Values not told apart (past `UNMAPPED_COUNTED` in a file) are at least
                    // one more.
                    let more = match *more_values {
                        0 => "other values".to_string(),
                        1 => "1 more value".to_string(),
                        n => format!("{n} more values"),
                    };
                    list.push(format!("… and {more} ({})", plural(*more_rows, "row")));
                }
                let list = list.join(", ");
                write!(
                    f,
                    "no service mapping for {list}; their rows were rejected: add them to the source's lookup table"
                )
            }
            Warning::KpiWithoutContacts {
                kpi,
                channel,
                services,
                services_on_channel,
            } => write!(
                f,
                "KPI '{kpi}': no {channel} contacts for {} in the lake, so its figures are all zero (services on that channel: {})",
                if services.is_empty() {
                    "any service".to_string()
                } else {
                    services.join(", ")
                },
                if services_on_channel.is_empty() {
                    "none".to_string()
                } else {
                    services_on_channel.join(", ")
                }
            ),
            Warning::KpiServicesMissing {
                kpi,
                channel,
                services,
            } => write!(
                f,
                "KPI '{kpi}': service {} has no {channel} contacts in the lake",
                quoted(services)
            ),
            Warning::RepairedLines { lines, .. } => write!(
                f,
                "{lines} line{} not UTF-8 and read as Windows-1252 (the rest of the file is UTF-8); check £, é and quotes on {}",
                if *lines == 1 { " was" } else { "s were" },
                if *lines == 1 { "it" } else { "them" }
            ),
            Warning::DuplicateShare {
                duplicates,
                rows_read,
                level,
                ..
            } => write!(
                f,
                "{} of rows were duplicates of rows already taken ({duplicates} of {rows_read}), above the {} warning level: check the source's record_id, or set duplicates = \"none\" if rows without a reference are distinct",
                pct(*duplicates as f64 / (*rows_read).max(1) as f64),
                pct(*level)
            ),
            Warning::ConflictingDuplicates {
                rows,
                first_row,
                columns,
                ..
            } => write!(
                f,
                "{rows} row{}{}{} the record id of a row already taken but other content: counted as duplicates, the row taken first kept. If the export reuses ids, map a column that tells records apart as record_id; if it corrects records, the lake keeps the version first ingested",
                if *rows == 1 { "" } else { "s" },
                match (first_row, columns.is_empty()) {
                    (Some(r), false) => format!(" (first: row {r}, differing in {})", columns.join(", ")),
                    (Some(r), true) => format!(" (first: row {r})"),
                    (None, _) => String::new(),
                },
                if *rows == 1 { " has" } else { " have" },
            ),
            Warning::PlaceholderIdentifiers {
                column,
                values,
                contacts,
                busiest_day,
                limit,
                ..
            } => write!(
                f,
                "{values} value{} of column '{column}' carried more than {limit} contacts on one day (up to {busiest_day}), so {} taken as {}, not a customer's: {contacts} contact{} got no key from that column. List {} in customers.placeholders, or raise customers.max_contacts_per_day if one customer really contacts you that often",
                if *values == 1 { "" } else { "s" },
                if *values == 1 { "it was" } else { "they were" },
                if *values == 1 { "a placeholder" } else { "placeholders" },
                if *contacts == 1 { "" } else { "s" },
                if *values == 1 { "it" } else { "them" },
            ),
            Warning::EmptyFile { .. } => write!(
                f,
                "the file has a header and no rows: was the export cut short? (quality.fail_on_empty_file = true stops the run)"
            ),
            Warning::NoContactsInPeriod { period } => {
                write!(f, "the lake has no contacts in {period}")
            }
            Warning::MonthsWithoutContacts {
                period,
                months,
                covered,
                of,
            } => write!(
                f,
                "{period} has contacts in {covered} of its {of} months: no source has any in {}, so the tables hold nothing for {} (ingest the missing exports, or report on a period the lake covers)",
                months.join(", "),
                if months.len() == 1 && !months[0].contains(" to ") { "that month" } else { "those months" },
            ),
            Warning::SourceMonthsMissing {
                source,
                months,
                period,
            } => write!(
                f,
                "source '{source}' has no contact in {} of {period}, between months it has and while other sources have some: an export not ingested? Its channels count 0 there",
                months.join(", "),
            ),
            Warning::CoarseDates {
                source,
                granularity,
                contacts,
            } => write!(
                f,
                "{contacts} contact{} from source '{source}' {} dated only by {granularity}: in no monthly figure, and in a financial year's figures only {}",
                if *contacts == 1 { "" } else { "s" },
                if *contacts == 1 { "is" } else { "are" },
                if granularity == "year" {
                    "where the year is exactly that financial year"
                } else {
                    "where the quarter lies wholly inside it"
                }
            ),
            Warning::StraddlingPeriod {
                source,
                granularity,
                contacts,
                period,
            } => write!(
                f,
                "{contacts} contact{} from source '{source}' dated by a {granularity} that straddles {period}: left out of it",
                if *contacts == 1 { "" } else { "s" }
            ),
            Warning::CoarseAnswers {
                source,
                granularity,
                counted,
                left_out,
                period,
            } => {
                let answers = |n: u64| format!("{n} survey answer{}", if n == 1 { "" } else { "s" });
                write!(
                    f,
                    "{} from source '{source}' {} dated only by a {granularity}: in no monthly table; {counted} counted in {period}'s satisfaction and equality tables",
                    answers(counted + left_out),
                    if counted + left_out == 1 { "is" } else { "are" },
                )?;
                if *left_out > 0 {
                    write!(
                        f,
                        ", {left_out} left out of them (their {granularity} is not wholly inside {period})"
                    )?;
                }
                Ok(())
            }
            Warning::ShortAbandonsUnknown {
                figures,
                queue_months,
                first,
                abandons,
            } => write!(
                f,
                "contact_centre: {} not available for {queue_months} queue-month{} (first: {first}): {abandons} abandoned call{} there {} no wait and no short-abandons count, so may have been short (map the export's wait, or `short_abandons` for an interval export; or use the plain definition in [kpi])",
                figures.join(" and "),
                if *queue_months == 1 { "" } else { "s" },
                if *abandons == 1 { "" } else { "s" },
                if *abandons == 1 { "has" } else { "have" },
            ),
            Warning::NoKpiTablesToDraw => write!(
                f,
                "no KPI tables published for the period: charts and report skipped (run without --skip kpi)"
            ),
            Warning::ThinDefaultPeriod {
                period,
                contacts,
                median,
                months,
                busiest,
                busiest_contacts,
            } => write!(
                f,
                "{period} was chosen by default (the last complete month with data) but holds only {contacts} contact{}, under 5% of the median ({median}) of the lake's last {months} month{} with data (busiest: {busiest}, {busiest_contacts}): pass --period YYYY-MM, or check the export's dates",
                if *contacts == 1 { "" } else { "s" },
                if *months == 1 { "" } else { "s" },
            ),
            Warning::PublishedBesideEarlier { earlier, .. } => write!(
                f,
                "published beside {} earlier publication{} of its year ({}): protected against all of them read together, so each further publication of the year hides more and takes longer to protect (minutes from the third); publish survey and equality tables once a year (cex run --fy) to print the most",
                earlier.len(),
                if earlier.len() == 1 { "" } else { "s" },
                earlier.join(", "),
            ),
            Warning::SurveyTablesWithheld {
                earlier,
                limit,
                tables,
                ..
            } => write!(
                f,
                "survey and equality tables withheld ({} tables; the KPIs are published): {} earlier publication{} of the year with survey tables {} out ({}), more than equality.max_earlier_publications = {limit}; raise it in the pipeline file to publish them beside all of them (each further one takes several times longer to protect)",
                tables.len(),
                earlier.len(),
                if earlier.len() == 1 { "" } else { "s" },
                if earlier.len() == 1 { "is" } else { "are" },
                earlier.join(", "),
            ),
            Warning::UnrecordedPublication { folder, .. } => write!(
                f,
                "the publication in {folder} was made by a version that kept no record of it, so this one is not checked against it (counts subtracted between the two may be small): publish survey tables once a year (--fy) until every period of the year is recorded"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_carries_its_kind_figures_and_sentence() -> Result<(), serde_json::Error> {
        let w = Warning::RejectedShare {
            file: "calls.csv".into(),
            rejected: 3,
            rows_read: 40,
            level: 0.02,
            reasons: "invalid_date=3".into(),
        };
        let json = serde_json::to_value(w.reported())?;
        assert_eq!(json["kind"], "rejected_share");
        assert_eq!(json["rejected"], 3);
        assert_eq!(
            json["message"],
            "7.5% of rows rejected (3 of 40), above the 2.0% warning level; invalid_date=3"
        );
        assert_eq!(w.subject(), "calls.csv");
        let missing = Warning::KpiServicesMissing {
            kpi: "Calls".into(),
            channel: "telephone".into(),
            services: vec!["Parking".into(), "Waste".into()],
        };
        assert_eq!(
            missing.to_string(),
            "KPI 'Calls': service 'Parking', 'Waste' has no telephone contacts in the lake"
        );
        Ok(())
    }
}
