//! The canonical data model: the two lake tables (`contacts`, `responses`), their column names and
//! the closed vocabularies (channels, outcomes, sentiments). Every stage after ingest reads only this.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Column names of the canonical tables, in one place so no stage spells them differently.
pub mod col {
    pub const ORGANISATION: &str = "organisation";
    pub const SOURCE: &str = "source";
    pub const CHANNEL: &str = "channel";
    pub const SERVICE: &str = "service";
    /// The raw queue, form, enquiry type or survey service the row came from.
    pub const CATEGORY: &str = "category";
    pub const TIMESTAMP: &str = "timestamp";
    pub const DATE: &str = "date";
    pub const FINANCIAL_YEAR: &str = "financial_year";
    pub const YEAR: &str = "year";
    pub const MONTH: &str = "month";
    /// How precisely the row is dated, where coarser than a day: `month`, `quarter` or `year`
    /// (`date` is then the first day of that period); null for a day. Only in files of sources
    /// that declare a `date_granularity` (see `granularity`): contacts coarser than a day, and
    /// survey answers dated by a quarter or a year.
    pub const DATE_GRANULARITY: &str = "date_granularity";
    pub const OUTCOME: &str = "outcome";
    pub const CONTACTS: &str = "contacts";
    /// The survey answers a row stands for: 1 on a row of `responses` as the figures read it,
    /// the count on a row of the KPI stage's sums of answers (not stored in the lake).
    pub const ANSWERS: &str = "answers";
    pub const WAIT_SECONDS: &str = "wait_seconds";
    pub const HANDLE_SECONDS: &str = "handle_seconds";
    /// How many of the row's contacts left the queue within the service-level threshold, where
    /// the export counts it (interval exports); null when it is worked out from `wait_seconds`.
    pub const WITHIN_THRESHOLD: &str = "within_threshold";
    /// How many of the row's abandoned contacts hung up within the short-abandon time, where the
    /// export counts it; null when it is worked out from `wait_seconds`.
    pub const SHORT_ABANDONS: &str = "short_abandons";
    pub const RESOLVED_FIRST_CONTACT: &str = "resolved_first_contact";
    pub const LOCATION: &str = "location";
    pub const DEVICE: &str = "device";
    pub const RATING_RAW: &str = "rating_raw";
    pub const RATING: &str = "rating";
    pub const SCORE: &str = "score";
    pub const SENTIMENT: &str = "sentiment";
    pub const POSTCODE_DISTRICT: &str = "postcode_district";
    pub const COMMENT: &str = "comment";
    pub const RECORD_KEY: &str = "record_key";
    /// Pseudonymous customer keys (keyed hashes of a phone number, an e-mail address and a
    /// customer or case reference; see `ingest::pseudonym`), on contacts whose source maps them.
    /// A contact's reason or disposition code as the export writes it (scrubbed), on contacts
    /// whose source maps one; `[avoidable]` maps it to categories.
    pub const REASON: &str = "reason";
    pub const CUSTOMER_PHONE: &str = "customer_phone";
    pub const CUSTOMER_EMAIL: &str = "customer_email";
    pub const CUSTOMER_REFERENCE: &str = "customer_reference";
    pub const SOURCE_FILE_ID: &str = "source_file_id";
    pub const SOURCE_ROW: &str = "source_row";
}

/// The customer key columns, in the order they are stored.
pub const CUSTOMER_KEYS: [&str; 3] = [
    col::CUSTOMER_PHONE,
    col::CUSTOMER_EMAIL,
    col::CUSTOMER_REFERENCE,
];

/// Columns only some files of a table have (a source that maps no reason or customer
/// identifier writes none), with their stored type: a scan of the table gives them to every
/// file, null where a file lacks them.
pub fn optional_columns(table: Table) -> Vec<(&'static str, polars::prelude::DataType)> {
    use polars::prelude::DataType;
    match table {
        Table::Contacts => [
            (col::REASON, DataType::String),
            (col::DATE_GRANULARITY, DataType::String),
        ]
        .into_iter()
        .chain(CUSTOMER_KEYS.iter().map(|k| (*k, DataType::Int64)))
        .collect(),
        Table::Responses => vec![(col::DATE_GRANULARITY, DataType::String)],
    }
}

/// The two tables of the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Contacts,
    Responses,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Contacts => "contacts",
            Table::Responses => "responses",
        }
    }
}

/// How a citizen reached the council.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Telephone,
    FaceToFace,
    Web,
    Webchat,
    Email,
    App,
    Social,
    Post,
    Other,
}

impl Channel {
    pub const ALL: [Channel; 9] = [
        Channel::Telephone,
        Channel::FaceToFace,
        Channel::Web,
        Channel::Webchat,
        Channel::Email,
        Channel::App,
        Channel::Social,
        Channel::Post,
        Channel::Other,
    ];

    /// Self-service channels, unless `[channels] digital` says otherwise: the numerator of
    /// digital take-up and the digital share of channel use.
    pub const DEFAULT_DIGITAL: [Channel; 5] = [
        Channel::Web,
        Channel::Webchat,
        Channel::Email,
        Channel::App,
        Channel::Social,
    ];

    /// Channels where staff serve the person, unless `[channels] assisted` says otherwise: with
    /// the digital ones, the denominator of digital take-up.
    pub const DEFAULT_ASSISTED: [Channel; 2] = [Channel::Telephone, Channel::FaceToFace];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telephone => "telephone",
            Channel::FaceToFace => "face_to_face",
            Channel::Web => "web",
            Channel::Webchat => "webchat",
            Channel::Email => "email",
            Channel::App => "app",
            Channel::Social => "social",
            Channel::Post => "post",
            Channel::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// `face_to_face` as "Face to face": channel codes in words.
pub fn channel_name(code: &str) -> String {
    match code {
        "web" => "Web".into(),
        "telephone" => "Telephone".into(),
        "face_to_face" => "Face to face".into(),
        "webchat" => "Webchat".into(),
        "email" => "Email".into(),
        other => {
            let mut words = other.replace('_', " ");
            if let Some(first) = words.get(..1) {
                let upper = first.to_uppercase();
                words.replace_range(..1, &upper);
            }
            words
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a contact. Telephone: answered / abandoned / callback; web: submitted /
/// abandoned / draft / started; face to face: served / walked_out.
pub const OUTCOMES: [&str; 9] = [
    "answered",
    "abandoned",
    "callback",
    "submitted",
    "started",
    "draft",
    "served",
    "walked_out",
    "other",
];

/// Satisfaction sentiment every rating scale maps onto.
pub const SENTIMENTS: [&str; 3] = ["positive", "neutral", "negative"];

/// The label given to a blank demographic answer; reported, never dropped.
pub const NOT_ANSWERED: &str = "Not answered";
/// The label given to an explicit refusal ("Prefer not to say" and its synonyms).
pub const PREFER_NOT_TO_SAY: &str = "Prefer not to say";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_parse_their_own_names() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
