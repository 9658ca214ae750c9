//! The pipeline file exactly as written (`pipelines/*.toml`): serde types that reject unknown keys.
//! No meaning is given here; `config::resolve` turns these into the typed `Pipeline`.
//!
//! Every key's doc comment is its documentation: `cex schema` prints these types as a JSON Schema
//! and `docs/pipeline.md` is generated from it (`config::schema`), so a comment here must say
//! what the resolve functions do with the key (meaning, allowed values, default, units).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::source::{CommentPolicy, Duplicates, DurationUnit, FileFormat, SourceKind, WideAcross};
use crate::model::{Channel, OUTCOMES, SENTIMENTS};

/// The channel names a pipeline file uses (`telephone`, `face_to_face`, ...), for the schema.
pub(super) fn channel_names() -> Vec<&'static str> {
    Channel::ALL.iter().map(|c| c.as_str()).collect()
}

/// A value that may be written as one string or a list of strings (`wait = "Wait"` or
/// `handle = ["Talk", "Wrap"]`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A cex pipeline file: one job, from a council's exports to its KPI tables, equality tables,
/// charts and report. Paths in it are relative to the file's folder.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cex pipeline file")]
pub struct RawPipeline {
    /// The job's name, recorded with every file it ingests (the `data_quality` and `lineage`
    /// tables) and in `kpi-summary.json`. Must not be empty.
    #[schemars(extend("examples" = ["sample"]))]
    pub name: String,
    /// The council the exports come from: every row's organisation unless its source names
    /// another (`organisation`) or maps a column (`columns.organisation`). The lake is
    /// partitioned by it, and benchmark ranks compare organisations.
    #[schemars(extend("examples" = ["Example City Council"]))]
    pub organisation: String,
    /// IANA time zone that export times without an offset are read in, and whose today is the
    /// default `--as-of` day. Default: `Europe/London`.
    #[serde(default)]
    #[schemars(extend("default" = "Europe/London", "examples" = ["Europe/London"]))]
    pub timezone: Option<String>,
    /// The month the council's financial year starts in (`April` in the UK; `July`, `October`,
    /// `January`...). Years are named `2023/24`, or `2024` when they start in January, in
    /// `--fy`, KPI baselines and tables. Worked out when figures are computed, so changing it
    /// needs no new ingest. Default: `April`.
    #[serde(default)]
    #[schemars(extend("default" = "April", "enum" = crate::period::MONTH_NAMES, "examples" = ["July"]))]
    pub financial_year_start: Option<String>,
    /// Folder of the lake (Delta tables), relative to the pipeline file. It must not be the root
    /// or a system folder, lie inside the output folder (or hold it), or hold an export.
    #[schemars(extend("examples" = ["../lake"]))]
    pub lake: String,
    /// Folder the publications are written into (`<output>/<period>/`: KPI tables, equality
    /// tables, charts, report), relative to the pipeline file; kept apart from the lake and the
    /// exports like `lake`.
    #[schemars(extend("examples" = ["../out"]))]
    pub output: String,
    /// Per-file quality gates and what a value must be to be believed: see `[quality]`. Every
    /// gate has a default.
    #[serde(default)]
    pub quality: RawQuality,
    /// Rating scales by name (`[scales.<name>]`); a satisfaction source names its own with
    /// `rating_scale`.
    #[serde(default)]
    pub scales: BTreeMap<String, RawScale>,
    /// The demographic questions the survey asks, by field name (`[demographics.<name>]`, e.g.
    /// `age_band`): the groups of the equality tables. A source maps its columns onto them in
    /// `[sources.demographics]`.
    #[serde(default)]
    pub demographics: BTreeMap<String, RawDemographic>,
    /// One `[[sources]]` entry per export (a vendor's files of one layout). At least one is
    /// required; names must differ.
    #[serde(default)]
    pub sources: Vec<RawSource>,
    /// Channel-shift KPIs and the contact-centre definitions: see `[kpi]`. Every setting has a
    /// default; without `[[kpi.channel_shift]]` no channel-shift KPI is reported.
    #[serde(default)]
    pub kpi: Option<super::kpi::RawKpi>,
    /// Which channels are digital self-service and which assisted: see `[channels]`. Both
    /// have defaults.
    #[serde(default)]
    pub channels: Option<RawChannels>,
    /// What the survey's answers stand for: see `[survey]`. Needed with a wide survey
    /// (`[sources.wide]`).
    #[serde(default)]
    pub survey: Option<RawSurvey>,
    /// Equality breakdowns, disclosure control and significance: see `[equality]`. Every
    /// setting has a default.
    #[serde(default)]
    pub equality: Option<RawEquality>,
    /// The Cabinet report's title and chosen charts: see `[report]`. Every setting has a
    /// default.
    #[serde(default)]
    pub report: Option<super::report::RawReport>,
    /// Pseudonymous customer keys and repeat contact: see `[customers]`. Needed when a source
    /// has `[sources.customer]`.
    #[serde(default)]
    pub customers: Option<super::customers::RawCustomers>,
    /// Avoidable contact (reason codes by category, repeats) and its targets: see
    /// `[avoidable]`. Optional.
    #[serde(default)]
    pub avoidable: Option<super::avoidable::RawAvoidable>,
}

/// What the channels are (`[channels]`): one definition used by digital take-up (digital /
/// (digital + assisted) transactions), the channel mix, channel use by group (the digital
/// share) and the charts. The channels themselves are `telephone`, `face_to_face`, `web`,
/// `webchat`, `email`, `app`, `social`, `post` and `other`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChannels {
    /// The digital self-service channels: the numerator of digital take-up and the digital
    /// share of channel use. Default: `web`, `webchat`, `email`, `app`, `social`.
    #[schemars(extend("default" = ["web", "webchat", "email", "app", "social"], "items" = {"enum": channel_names()}, "examples" = [["web", "app"]]))]
    pub digital: Option<Vec<String>>,
    /// The assisted channels (staff serve the person): with the digital ones, the denominator
    /// of digital take-up; not digital. Default: `telephone`, `face_to_face`.
    #[schemars(extend("default" = ["telephone", "face_to_face"], "items" = {"enum": channel_names()}, "examples" = [["telephone", "face_to_face", "post"]]))]
    pub assisted: Option<Vec<String>>,
    /// What charts and the report call a channel (`labels = { web = "Online forms",
    /// telephone = "Contact centre" }`). Default: the channel's name in words ("Face to face").
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"enum": channel_names()}, "examples" = [{"web": "Online forms", "face_to_face": "Customer service centre"}]))]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The survey as a whole (`[survey]`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSurvey {
    /// The question (its service, as the source maps it) whose answers stand for overall
    /// satisfaction: every satisfaction table and equality table uses only its answers, so that
    /// each respondent is counted once. Required with a wide survey (`[sources.wide]`), where a
    /// respondent answers several questions. Default: every answer (one rating per response).
    #[schemars(extend("examples" = ["Overall satisfaction"]))]
    pub overall_question: Option<String>,
}

/// Satisfaction by protected characteristic (`cex equality`): which breakdowns are published,
/// small-cell suppression, intervals and the correction for comparing many groups.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEquality {
    /// Published respondent counts from 1 to this minus 1 are suppressed (blank), with every
    /// other count that would let one be worked out. At least 1. Default: 10 (ONS-style).
    #[schemars(extend("default" = 10, "examples" = [10]))]
    pub suppression_threshold: Option<i64>,
    /// Confidence level of the Wilson score intervals, from 0.5 to below 1. Default: 0.95.
    #[schemars(extend("default" = 0.95, "examples" = [0.95]))]
    pub confidence: Option<f64>,
    /// A difference is flagged significant where its corrected p-value is below this; above 0
    /// and below 0.5. Default: 1 - `confidence` (0.05 with 95% intervals).
    #[schemars(extend("examples" = [0.05]))]
    pub significance: Option<f64>,
    /// How p-values are corrected for the number of groups compared: `holm` (family-wise error
    /// rate: any false flag is costly) or `benjamini_hochberg` (also `bh`; false discovery rate:
    /// screening many groups). Default: `holm`.
    #[schemars(extend("default" = "holm", "enum" = super::equality::Correction::ACCEPTED, "examples" = ["holm"]))]
    pub correction: Option<String>,
    /// Compare with this group rather than with the rest of those who answered, per field:
    /// `{ age_band = "35-44" }`. Each key is a `[demographics.*]` field, each value one of its
    /// categories. Default: every group is compared with the rest.
    #[serde(default)]
    #[schemars(extend("examples" = [{"age_band": "35-44"}]))]
    pub reference: BTreeMap<String, String>,
    /// A CSV of the population by group (columns field, group, population), relative to the
    /// pipeline file, to compare respondents with (the `representation_<field>` tables).
    /// Default: no representation tables.
    #[schemars(extend("examples" = ["reference/population.csv"]))]
    pub population: Option<String>,
    /// The breakdowns published, each one or two different columns: a `[demographics.*]` field
    /// or `channel` (not `service`). Default: every demographic field on its own, then each by
    /// channel.
    #[serde(default)]
    #[schemars(extend("examples" = [[["age_band"], ["age_band", "channel"]]]))]
    pub breakdowns: Vec<Vec<String>>,
    /// A period's survey and equality tables are published beside at most this many earlier
    /// publications of its financial year (each one read together with the others): past it,
    /// the run withholds them, says so and still publishes the KPIs. Protecting a publication
    /// beside every earlier one costs three to nine times more with each further one (10
    /// minutes beside two for the sample's publication), so an unattended monthly run would
    /// otherwise run for hours by the autumn.
    /// Raise it to publish them anyway; 0 publishes them only while nothing else of the year is
    /// out. Default: 2.
    #[schemars(extend("default" = 2, "examples" = [2]))]
    pub max_earlier_publications: Option<u32>,
    /// Which runs publish the survey and equality tables: `each_period` (every month's run,
    /// year to date, within `max_earlier_publications`) or `year_only` (only a whole year's run,
    /// `cex run --fy`; a month's run publishes the KPIs and says the survey tables are kept for
    /// the year). A year's tables printed once are the most a reader can be shown: nothing to
    /// subtract them from. Default: `each_period`.
    #[schemars(extend("default" = "each_period", "enum" = super::equality::SurveyPublication::ACCEPTED, "examples" = ["year_only"]))]
    pub survey_publication: Option<String>,
}

/// Per-file quality gates (a file's share of rejected or duplicate rows, unmapped services,
/// empty files) and what a value must be to be believed (dates, durations, counts). A gate that
/// fails stops the run with exit code 4 and nothing written.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    /// Warn when more than this share of a file's rows are rejected (0 to 1; 1% is 0.01).
    /// Default: 0.01.
    #[schemars(extend("default" = 0.01, "examples" = [0.01]))]
    pub warn_reject_share: Option<f64>,
    /// Stop the run, writing nothing, when more than this share of a file's rows are rejected
    /// (0 to 1). Default: 0.05.
    #[schemars(extend("default" = 0.05, "examples" = [0.05]))]
    pub fail_reject_share: Option<f64>,
    /// `true`: a category (queue, form...) with no service mapping stops the run, since its
    /// contacts would silently drop out of every figure; `false`: its rows are rejected
    /// (`unmapped_service`) with a warning. Default: `true`.
    #[schemars(extend("default" = true, "examples" = [false]))]
    pub fail_on_unmapped_service: Option<bool>,
    /// `true`: a file with a header and no rows stops the run (exit 4); `false`: it is a
    /// warning. Default: `false`.
    #[schemars(extend("default" = false, "examples" = [true]))]
    pub fail_on_empty_file: Option<bool>,
    /// Warn when more than this share of a file's rows are duplicates of rows already taken
    /// (0 to 1). Default: 0.2.
    #[schemars(extend("default" = 0.2, "examples" = [0.2]))]
    pub warn_duplicate_share: Option<f64>,
    /// Stop the run, writing nothing, when more than this share of a file's rows are duplicates
    /// (0 to 1). Default: 1.0 (never).
    #[schemars(extend("default" = 1.0, "examples" = [0.5]))]
    pub fail_duplicate_share: Option<f64>,
    /// Rows dated before this day (YYYY-MM-DD, 1900 or later) are rejected `implausible_date`.
    /// Default: five years before the earliest financial year the KPIs name (its first day), or
    /// 2000-01-01 when they name none.
    #[schemars(extend("examples" = ["2015-04-01"]))]
    pub earliest_date: Option<String>,
    /// Rows dated more than this many days after the run's day are rejected
    /// `implausible_date`. Default: 1.
    #[schemars(extend("default" = 1, "examples" = [1]))]
    pub future_days: Option<u32>,
    /// Waits and handle times above this many hours (or not finite) are rejected
    /// `implausible_duration`; a positive number. Default: 24.
    #[schemars(extend("default" = 24, "examples" = [24]))]
    pub max_duration_hours: Option<f64>,
    /// Counts above this in one row (interval exports, `columns.count`) are rejected `implausible_count`; a
    /// positive number. Default: 1000000.
    #[schemars(extend("default" = 1_000_000, "examples" = [1_000_000]))]
    pub max_count: Option<f64>,
}

/// A rating scale (`[scales.<name>]`): how a survey's raw answers become a label, a score and a
/// sentiment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScale {
    /// The scale's levels, at least one; no raw answer may mean two levels.
    #[schemars(extend("examples" = [[{"label": "Good", "values": ["Good"], "score": 1, "sentiment": "positive"}, {"label": "Poor", "values": ["Poor"], "score": -1, "sentiment": "negative"}]]))]
    pub levels: Vec<RawScaleLevel>,
    /// Answers that are not a rating ("Don't know", "Not applicable", a code such as 9), matched
    /// ignoring case and spacing: the row is accepted without a rating (no rating, score or
    /// sentiment; the answer kept in `rating_raw`), never rejected, and the satisfaction and
    /// equality tables count such answers as `not_rated` beside N, in no figure's denominator;
    /// `satisfaction_ratings` gives each a row of its own (`rated` = no), labelled as written
    /// here (spellings that differ only in case or spacing are one answer). (A
    /// blank rating is rejected as `rating_not_in_scale`, or for a wide survey excluded as "not
    /// answered"). Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [["Don't know", "N/A", "9"]]))]
    pub not_rated: Vec<String>,
    /// Codes an export writes for a question left blank ("0 = Blank", `99`, the text
    /// `BLANK`), matched ignoring case and spacing: such an answer is read as an empty cell. In
    /// a wide survey it is excluded as "not answered" (counted, never rejected, in no table);
    /// a one-rating source rejects it as it would a blank rating. Only for the questions read
    /// on this scale, so a code that is a score on another question's scale (0 on a 0-10
    /// scale) stays a score there. Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [["0", "BLANK"]]))]
    pub not_answered: Vec<String>,
}

/// One level of a rating scale (`levels = [{ label = ..., ... }]`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScaleLevel {
    /// The level's name in the tables and the report; an answer equal to it (ignoring case and
    /// spacing) always means this level.
    #[schemars(extend("examples" = ["Average"]))]
    pub label: String,
    /// Other raw answers that mean this level, matched ignoring case and spacing. Default: none
    /// (only the label).
    #[serde(default)]
    #[schemars(extend("examples" = [["Average", "OK"]]))]
    pub values: Vec<String>,
    /// The level's score: GovMetric's weight, whose mean over responses is the net
    /// satisfaction index (e.g. Good 1, Average 0, Poor -1).
    #[schemars(extend("examples" = [0]))]
    pub score: f64,
    /// The sentiment the level counts as: `positive`, `neutral` or `negative` (the
    /// satisfied, neutral and dissatisfied shares).
    #[schemars(extend("enum" = SENTIMENTS, "examples" = ["neutral"]))]
    pub sentiment: String,
}

/// A demographic question the survey asks (`[demographics.<name>]`), with its answer
/// categories. Blank answers are reported as `Not answered` and refusals as `Prefer not to say`,
/// never dropped.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDemographic {
    /// The question's name in tables, charts and the report. Default: the field name with
    /// underscores as spaces (`age_band` -> `age band`).
    #[serde(default)]
    #[schemars(extend("examples" = ["Age band"]))]
    pub label: Option<String>,
    /// The answer categories, in the order they are reported; an answer equal to one (ignoring
    /// case and spacing) is that category. At least one.
    #[schemars(extend("examples" = [["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+"]]))]
    pub categories: Vec<String>,
    /// Other raw answers that mean a category, by category: `{ "85+" = ["85 and over"] }`.
    /// Each key must be one of `categories`; no answer may mean two categories. Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [{"85+": ["85 +", "85 and over"]}]))]
    pub synonyms: BTreeMap<String, Vec<String>>,
    /// Raw answers that are a refusal, reported as `Prefer not to say` (that text itself always
    /// is). Default: none besides `Prefer not to say`.
    #[serde(default)]
    #[schemars(extend("examples" = [["Rather not say", "Declined"]]))]
    pub prefer_not_to_say: Vec<String>,
    /// Raw answers that mean the question was not answered (missing codes such as `9`, `99`,
    /// `NA`), reported as `Not answered` as a blank answer is. Default: none besides blank.
    #[serde(default)]
    #[schemars(extend("examples" = [["9", "99", "NA"]]))]
    pub not_answered: Vec<String>,
    /// What an answer matching no category becomes: `reject` (the row is rejected
    /// `unknown_category`) or a label to file it under (e.g. `Other`). Default: `reject`.
    #[serde(default)]
    #[schemars(extend("default" = "reject", "examples" = ["Other"]))]
    pub unrecognised: Option<String>,
}

/// One export (`[[sources]]`): which files, how to read them, and how their columns and values
/// map onto the canonical fields. Its name is also the lake folder its rows go to.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// The source's name, unique in the pipeline: the lake partition and the name `--source`
    /// selects it by.
    #[schemars(extend("examples" = ["telephony"]))]
    pub name: String,
    /// What kind of export it is, deciding its table and required columns: `calls` (one row per
    /// call), `call_intervals` (telephony totals per interval and queue), `visits` (face to
    /// face), `webforms`, `contacts` (any other channel, e.g. webchat or e-mail: the channel
    /// must be given) or `satisfaction` (survey responses).
    #[schemars(extend("enum" = SourceKind::ACCEPTED, "examples" = ["calls"]))]
    pub kind: String,
    /// The export files: one glob or a list of globs, relative to the pipeline file.
    #[schemars(extend("examples" = ["../sample_data/telephony/*.csv"]))]
    pub files: OneOrMany,
    /// `csv` or `xlsx`. Default: from each file's extension (`.csv`, `.txt`, `.tsv` are CSV;
    /// `.xlsx`, `.xlsm` are Excel).
    #[serde(default)]
    #[schemars(extend("enum" = FileFormat::ACCEPTED, "examples" = ["xlsx"]))]
    pub format: Option<String>,
    /// Excel files: the sheet to read, matched ignoring case and surrounding spaces. Default:
    /// the first sheet.
    #[serde(default)]
    #[schemars(extend("examples" = ["Visits"]))]
    pub sheet: Option<String>,
    /// CSV files: `auto` (UTF-8, with or without BOM, when the bytes are valid UTF-8, else
    /// Windows-1252), `utf-8` (also `utf8`) or `windows-1252` (also `cp1252`, `latin1`,
    /// `iso-8859-1`); case is ignored. Default: `auto`. A file that starts with a UTF-16 byte
    /// order mark (Excel's "Unicode Text", `FF FE`; or `FE FF`) is read as UTF-16 whatever this
    /// says, and read whole into memory.
    #[serde(default)]
    #[schemars(extend("default" = "auto", "examples" = ["windows-1252"]))]
    pub encoding: Option<String>,
    /// CSV files: the field separator, one ASCII character, or `tab` (also the two characters
    /// `\t`). Default: `,`.
    #[serde(default)]
    #[schemars(extend("default" = ",", "examples" = [";"]))]
    pub delimiter: Option<String>,
    /// The organisation of this source's rows (where `columns.organisation` is not mapped or is
    /// blank). Default: the pipeline's `organisation`.
    #[serde(default)]
    #[schemars(extend("examples" = ["Example District Council"]))]
    pub organisation: Option<String>,
    /// The channel of every row, when not read from `columns.channel` (not both). Default: by
    /// kind: `telephone` for calls and call_intervals, `face_to_face` for visits, `web` for
    /// webforms; contacts and satisfaction sources must give it or map `columns.channel`.
    #[serde(default)]
    #[schemars(extend("enum" = channel_names(), "examples" = ["webchat"]))]
    pub channel: Option<String>,
    /// One value column per question, category or channel (a wide layout): see
    /// `[sources.wide]`. Each row becomes one row per column: for a satisfaction source its
    /// question is the category and its answer the rating (`columns.rating` and
    /// `columns.category` are not mapped then); for a contact source the column's value is the
    /// count of contacts (`columns.count` is not mapped) and its label the category or, with
    /// `across = "channel"`, the channel. Default: none (one value column).
    #[serde(default)]
    pub wide: Option<RawWide>,
    /// The month every row is dated (`YYYY-MM`, the 1st), for an export with no date column
    /// and no date in its path (a survey exported once). Where only the quarter or the year is
    /// known, give `period` instead: a month is never to be invented. Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = ["2023-06"]))]
    pub month: Option<String>,
    /// The quarter or year every row is dated by, for an export with no date column and no
    /// date in its path (a resident survey run once a year): a quarter label (`2023 Q2`,
    /// `2023/24 Q1`), a year (`2023`, or a financial year `2023/24`) or a month (`2023-06`),
    /// read as a `date` column of such labels would be. `date_granularity` follows the label
    /// (need not be given; if given, it must agree). No monthly figure counts rows dated by a
    /// quarter or a year. Not with `month`, a date column or a date in `path_fields`. Default:
    /// none.
    #[serde(default)]
    #[schemars(extend("examples" = ["2023", "2023/24 Q3"]))]
    pub period: Option<String>,
    /// How precisely the rows are dated: `day`, `month`, `quarter` or `year`. `month`: the
    /// `date` column names months (`2024-03`, `03/2024`, `202403`, `March 2024`, `Mar-24`) or
    /// holds dates that stand for their month (pre-aggregated monthly counts dated the 15th or
    /// the last day). `quarter`: the
    /// `date` column holds quarter labels (see `quarter_labels`), or `path_fields` gives
    /// `{year}` and `{quarter}`; `year`: the `date` column holds `2023` (a calendar year) or
    /// `2023/24` (a financial year of the pipeline's calendar), or `path_fields` gives `{year}`
    /// alone. Each row is stored dated the first day of its period, with the granularity beside
    /// it: monthly figures leave quarter and year rows out (a warning counts them), and a
    /// financial year's figures count a quarter wholly inside the year and a year row only when
    /// it is exactly that financial year. A survey's answers dated by a quarter or a year count
    /// the same way: in no monthly table, and in a financial year's satisfaction and equality
    /// tables only when their period lies wholly inside the months reported. Not with a
    /// timestamp or time column. Default: `month` with `month` or a `{month}` in `path_fields`,
    /// `quarter` or `year` as `period` names, else `day`.
    #[serde(default)]
    #[schemars(extend("enum" = crate::granularity::Granularity::ACCEPTED, "examples" = ["quarter"]))]
    pub date_granularity: Option<String>,
    /// With `date_granularity = "quarter"`: how a quarter written with one year (`2023 Q1`,
    /// `Q1 2023`, `2023-Q1`, `{year}` and `{quarter}` in a path) is read: `calendar` (Q1 is
    /// January to March) or `financial` (Q1 is the first three months of the financial year
    /// starting in that year, from `financial_year_start`). A financial year's quarter (`2023/24
    /// Q1`, `2023-24 Q1`, `Q1 2023/24`) is always read as one. Case is ignored. Default:
    /// `calendar`.
    #[serde(default)]
    #[schemars(extend("default" = "calendar", "enum" = crate::granularity::QuarterLabels::ACCEPTED, "examples" = ["financial"]))]
    pub quarter_labels: Option<String>,
    /// Fields taken from each file's path, for exports whose rows do not carry them: a
    /// template matched against the end of the path, with `{organisation}`, `{channel}`,
    /// `{category}`, `{year}`, `{month}`, `{day}` and `{quarter}` placeholders (`*` matches any
    /// text within a folder name), or a regular expression with named groups of those names
    /// (`(?P<year>\d{4})`). A captured field stands in for its column: `{year}` and `{month}`
    /// (day 1 unless `{day}`) date every row of the file; `{year}` and `{quarter}` (`2` or
    /// `Q2`) date it by quarter, `{year}` alone by year, with the matching `date_granularity`; `{channel}` is mapped through
    /// `[sources.channels]` (or must be a channel's name), `{category}` through
    /// `[sources.service]`. A field captured must not also be mapped to a column. A file whose
    /// path does not match is refused (exit 3). Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = ["{organisation}/{year}-{month}_*.csv"]))]
    pub path_fields: Option<String>,
    /// IANA time zone this source's times without an offset are read in, when it is not the
    /// pipeline's (a supplier's system on UTC). Default: the pipeline's `timezone`.
    #[serde(default)]
    #[schemars(extend("examples" = ["UTC"]))]
    pub timezone: Option<String>,
    /// strftime formats of the `timestamp` column, tried in order (e.g. `%d/%m/%Y %H:%M:%S`;
    /// `%z` reads an offset). Required with a timestamp column. Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [["%Y-%m-%dT%H:%M:%S%z"]]))]
    pub timestamp_formats: Vec<String>,
    /// strftime formats of the `date` column, tried in order. Required with a date column,
    /// unless `date_granularity` is `month`, `quarter` or `year` and the column holds labels
    /// cex reads itself (`2024-03`, `Q1 2024`, `2023/24`). Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [["%d/%m/%Y"]]))]
    pub date_formats: Vec<String>,
    /// strftime formats of the `time` column, tried in order. Required with a time column.
    /// Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [["%H:%M"]]))]
    pub time_formats: Vec<String>,
    /// How the `wait` and `handle` columns give durations: `seconds`, `minutes` or `hh:mm:ss`
    /// (also `clock`): `H:MM:SS` or `M:SS` text, minutes and seconds in two digits (`5:3` is
    /// rejected `bad_number`), hours as many as they take (`25:00:00` is 25 hours, then judged
    /// against `quality.max_duration_hours`). Default: `seconds`.
    #[serde(default)]
    #[schemars(extend("default" = "seconds", "enum" = DurationUnit::ACCEPTED, "examples" = ["minutes"]))]
    pub durations: Option<String>,
    /// Numbers in the export are written with a decimal comma (`12,5`, `1.234,5`), as many
    /// European systems and spreadsheets set to a European language write them: the comma is
    /// the decimal mark, and dots group thousands (`1.234` is 1234). A value with a dot that
    /// groups no thousands (`12.5`) is rejected `bad_number`, not guessed. CSV exports only (a
    /// workbook's number cells are numbers already). Default: false.
    #[serde(default)]
    #[schemars(extend("examples" = [true]))]
    pub decimal_comma: Option<bool>,
    /// Interval exports: the threshold their `answered_within` count uses, in seconds; required
    /// with that column, and must equal `kpi.service_level_seconds`.
    #[serde(default)]
    #[schemars(extend("examples" = [20]))]
    pub interval_threshold_seconds: Option<f64>,
    /// Interval exports whose `wait` and `handle` columns give each interval's average per
    /// answered call (an average speed of answer, an average handling time) instead of its
    /// totals: each is multiplied by the interval's `answered` count, so that the month's
    /// average is weighted by the calls answered, not a mean of the intervals' averages. The
    /// plausibility check (`quality.max_duration_hours`) then judges the average. Refused on
    /// other kinds. Default: false (totals).
    #[serde(default)]
    #[schemars(extend("examples" = [true]))]
    pub interval_averages: Option<bool>,
    /// The outcome of a row whose outcome column is blank, or of every row when no outcome
    /// column is mapped; one of the outcomes (see `[sources.outcomes]`). Default: none (a blank
    /// outcome is rejected).
    #[serde(default)]
    #[schemars(extend("enum" = OUTCOMES, "examples" = ["submitted"]))]
    pub default_outcome: Option<String>,
    /// Satisfaction sources (required there, refused elsewhere): the `[scales.<name>]` their
    /// ratings are on.
    #[serde(default)]
    #[schemars(extend("examples" = ["good_average_poor"]))]
    pub rating_scale: Option<String>,
    /// Free-text comments: `scrub` (kept with e-mail addresses, phone numbers, postcodes and
    /// long reference numbers replaced by placeholders) or `drop` (not kept). Default: `scrub`.
    #[serde(default)]
    #[schemars(extend("default" = "scrub", "enum" = CommentPolicy::ACCEPTED, "examples" = ["drop"]))]
    pub comments: Option<String>,
    /// How duplicate rows are recognised: `key` (rows with the same `columns.record_id`: a
    /// record exported twice is kept once; needs a record_id), `exact_row` (rows identical in
    /// every field; the lake keeps a hash of the row, never its text) or `none` (every row is a
    /// record of its own). Default: `key` when `columns.record_id` is mapped, else `none`.
    #[serde(default)]
    #[schemars(extend("enum" = Duplicates::ACCEPTED, "examples" = ["exact_row"]))]
    pub duplicates: Option<String>,
    /// Rows out of scope, one rule each (`[[sources.exclude]]`): a row matching any rule is
    /// counted as excluded under the first rule's name, neither accepted nor rejected (e.g.
    /// requests the council's own crews raise, test records). Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [[{"name": "staff-generated", "column": "RequestSource", "values": ["Driver Self Report", "City Worker App"]}]]))]
    pub exclude: Vec<RawRowRule>,
    /// Rows in scope (`[[sources.include]]`): a row that does not match every rule is counted
    /// as excluded under the first rule it fails. Applied after the `exclude` rules. Default:
    /// none (every row is in scope).
    #[serde(default)]
    #[schemars(extend("examples" = [[{"name": "this council", "column": "Council", "values": ["Leeds"]}]]))]
    pub include: Vec<RawRowRule>,
    /// Which column of the export feeds each canonical field: see `[sources.columns]`.
    pub columns: RawColumns,
    /// Contact sources: the columns that identify the customer or case, stored only as keyed
    /// hashes (see `[customers]`): see `[sources.customer]`. Optional.
    #[serde(default)]
    pub customer: Option<super::customers::RawCustomerColumns>,
    /// How rows get their service from the category column: see `[sources.service]`. Required.
    #[serde(default)]
    pub service: Option<RawService>,
    /// The outcome column's values, by canonical outcome (`answered`, `abandoned`, `callback`,
    /// `submitted`, `started`, `draft`, `served`, `walked_out`, `other`), matched ignoring case
    /// and spacing; an unmapped value is rejected `unknown_outcome`. Required with an outcome
    /// column.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"enum": OUTCOMES}, "examples" = [{"answered": ["Answered"], "abandoned": ["Abandoned"]}]))]
    pub outcomes: BTreeMap<String, Vec<String>>,
    /// The channel column's values, by channel (`telephone`, `face_to_face`, `web`, `webchat`,
    /// `email`, `app`, `social`, `post`, `other`), matched ignoring case and spacing. Required with
    /// `columns.channel`.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"enum": channel_names()}, "examples" = [{"telephone": ["Phone"], "web": ["Website", "Online form"]}]))]
    pub channels: BTreeMap<String, Vec<String>>,
    /// The values of `columns.resolved_first_contact` that mean yes and no: see
    /// `[sources.resolved_first_contact]`. Required with that column, refused without it.
    #[serde(default)]
    pub resolved_first_contact: Option<RawYesNo>,
    /// Satisfaction sources: the column of each demographic question this export carries, by
    /// `[demographics.*]` field. Fields a source does not carry are left empty, not "not
    /// answered".
    #[serde(default)]
    #[schemars(extend("examples" = [{"age_band": "Age Band", "sex": "Sex"}]))]
    pub demographics: BTreeMap<String, String>,
}

/// Which column of the export feeds each canonical field (`[sources.columns]`): `field =
/// "Column name"`, matched against the header ignoring case and spacing. Every mapped column
/// must be in each file. A row's time is one `timestamp` column, or a `date` column with an
/// optional `time` column.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawColumns {
    /// The export's reference for a record: the key duplicates are recognised by (`duplicates
    /// = "key"`). Optional.
    #[schemars(extend("examples" = ["Contact ID"]))]
    pub record_id: Option<String>,
    /// The organisation of each row (blank: the source's `organisation`), for exports that pool
    /// councils. Optional.
    #[schemars(extend("examples" = ["Council"]))]
    pub organisation: Option<String>,
    /// When the contact happened, date and time in one column (read with
    /// `timestamp_formats`). This or `date`, not both.
    #[schemars(extend("examples" = ["Initiation Timestamp"]))]
    pub timestamp: Option<String>,
    /// The day of the contact (read with `date_formats`). This or `timestamp`, not both.
    #[schemars(extend("examples" = ["Visit Date"]))]
    pub date: Option<String>,
    /// The time of day, beside a `date` column (read with `time_formats`). Optional.
    #[schemars(extend("examples" = ["Arrival"]))]
    pub time: Option<String>,
    /// The channel of each row, mapped through `[sources.channels]`; instead of a fixed
    /// `channel`.
    #[schemars(extend("examples" = ["Channel"]))]
    pub channel: Option<String>,
    /// The raw category (queue, form, enquiry type, service...) the service is looked up from
    /// (`[sources.service]`). Required.
    #[schemars(extend("examples" = ["Queue"]))]
    pub category: Option<String>,
    /// The outcome of each contact, mapped through `[sources.outcomes]`. Contact sources need
    /// this or `default_outcome`.
    #[schemars(extend("examples" = ["Disposition"]))]
    pub outcome: Option<String>,
    /// Contact sources: the wait before being answered or served, one column or a list whose
    /// values are summed, in the source's `durations`. Optional.
    #[schemars(extend("examples" = ["Queue Wait (s)"]))]
    pub wait: Option<OneOrMany>,
    /// Interval exports: calls answered in the interval. Required there.
    #[schemars(extend("examples" = ["Answered"]))]
    pub answered: Option<String>,
    /// Interval exports: calls abandoned in the interval. Required there.
    #[schemars(extend("examples" = ["Abandoned"]))]
    pub abandoned: Option<String>,
    /// Interval exports: callbacks in the interval. Optional.
    #[schemars(extend("examples" = ["Callbacks"]))]
    pub callbacks: Option<String>,
    /// Interval exports: calls answered within `interval_threshold_seconds`. Optional.
    #[schemars(extend("examples" = ["Answered in SL"]))]
    pub answered_within: Option<String>,
    /// Interval exports: calls abandoned within the short-abandon time. Optional.
    #[schemars(extend("examples" = ["Short Abandons"]))]
    pub short_abandons: Option<String>,
    /// Contact sources: the handling time, one column or a list whose values are summed (e.g.
    /// talk and after-call work), in the source's `durations`. Optional.
    #[schemars(extend("examples" = [["Talk Time (s)", "After Call Work (s)"]]))]
    pub handle: Option<OneOrMany>,
    /// Contact sources: whether the contact was resolved at first contact, its values mapped by
    /// `[sources.resolved_first_contact]`. Optional.
    #[schemars(extend("examples" = ["Resolved First Contact"]))]
    pub resolved_first_contact: Option<String>,
    /// Contact sources: the site or office of the contact (kept as written). Optional.
    #[schemars(extend("examples" = ["Site"]))]
    pub location: Option<String>,
    /// Contact sources: the device a form was filled on (kept as written). Optional.
    #[schemars(extend("examples" = ["Device"]))]
    pub device: Option<String>,
    /// Contact sources: the contact's reason or disposition code (wrap-up code, enquiry
    /// outcome), kept as written with e-mail addresses and phone numbers scrubbed out, and
    /// mapped to avoidable categories by `[avoidable]`. Optional.
    #[schemars(extend("examples" = ["Wrap Code"]))]
    pub reason: Option<String>,
    /// Satisfaction sources: the rating, read through the source's `rating_scale`. Required
    /// there.
    #[schemars(extend("examples" = ["Rating"]))]
    pub rating: Option<String>,
    /// Satisfaction sources: the free-text comment, kept scrubbed or dropped (`comments`).
    /// Optional.
    #[schemars(extend("examples" = ["Comment"]))]
    pub comment: Option<String>,
    /// Satisfaction sources: the respondent's postcode, cut to its district (`OX4 1AB` -> `OX4`)
    /// on the way in: no full postcode is stored. Optional.
    #[schemars(extend("examples" = ["Postcode"]))]
    pub postcode: Option<String>,
    /// Pre-aggregated contact exports (calls, visits, webforms, contacts; not interval exports or
    /// surveys): how many contacts each row stands for, a whole number from 0 to
    /// `quality.max_count`. Volumes, take-up, mix and ranks weigh rows by it; contact-centre
    /// rates that need a call's wait or outcome are then empty. Optional: without it every row
    /// is one contact.
    #[schemars(extend("examples" = ["Contacts"]))]
    pub count: Option<String>,
}

/// How rows get their service (`[sources.service]`): the category column's value looked up in a
/// CSV table and/or inline values (at least one of them), matched ignoring case and spacing; or
/// one `fixed` service for every row.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// A CSV file relative to the pipeline file (UTF-8, header in the first row): first column
    /// the raw category, second the service. It must exist.
    #[schemars(extend("examples" = ["lookups/queues.csv"]))]
    pub lookup: Option<String>,
    /// Inline mapping, service -> raw categories (applied after the lookup table).
    #[serde(default)]
    #[schemars(extend("examples" = [{"Housing": ["HSG", "Housing Options"]}]))]
    pub values: BTreeMap<String, Vec<String>>,
    /// The service of every row, for an export of one service (a council tax line's
    /// telephony): no category column or mapping is needed then, and none may be given besides
    /// a category column kept as it is. Default: none.
    #[schemars(extend("examples" = ["Council Tax"]))]
    pub fixed: Option<String>,
    /// Service to record when the category is blank (e.g. `Unspecified`). Default: none (a
    /// blank category is rejected).
    #[schemars(extend("examples" = ["Unspecified"]))]
    pub when_blank: Option<String>,
}

/// The values of a yes/no column (`[sources.resolved_first_contact]`), matched ignoring case
/// and spacing; any other non-blank value is rejected `unknown_value`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawYesNo {
    /// The values that mean yes.
    #[schemars(extend("examples" = [["Y", "Yes"]]))]
    pub yes: Vec<String>,
    /// The values that mean no.
    #[schemars(extend("examples" = [["N", "No"]]))]
    pub no: Vec<String>,
}

/// A row filter rule (`[[sources.exclude]]` or `[[sources.include]]`): one export column tested
/// against a list of values or a pattern. A row with the wrong number of fields is rejected, not
/// filtered (its fields cannot be told apart).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRowRule {
    /// The rule's name: the reconciliation (`cex validate`, the data-quality table, the report)
    /// counts the rows it excludes under it. Names differ within a source.
    #[schemars(extend("examples" = ["staff-generated"]))]
    pub name: String,
    /// The export column tested, matched against the header ignoring case and spacing; it must
    /// be in every file of the source.
    #[schemars(extend("examples" = ["RequestSource"]))]
    pub column: String,
    /// The values that match, compared trimmed and ignoring case and spacing; `""` matches a
    /// blank value. This or `pattern`.
    #[serde(default)]
    #[schemars(extend("examples" = [["Driver Self Report", "City Worker App"]]))]
    pub values: Option<Vec<String>>,
    /// A regular expression (Rust `regex` syntax; `(?i)` ignores case) found anywhere in the
    /// trimmed value; a blank value is tested as empty text. This or `values`.
    #[serde(default)]
    #[schemars(extend("examples" = ["(?i)^test"]))]
    pub pattern: Option<String>,
}

/// A wide layout's value columns (`[sources.wide]`): each row of the export becomes one row per
/// named or matched column, with the column's label beside its value.
///
/// - A wide survey (satisfaction source): each column is one question, its value the rating. A
///   blank answer is not a response: the row is excluded ("not answered").
/// - A wide count export (contact source, e.g. monthly requests with one column per channel or
///   per service): each column's value is the count of contacts (whole, 0 or more). A blank
///   value is excluded ("blank count").
///
/// The label is the row's category, mapped to a service by `[sources.service]` (or, without it,
/// the label is the service); with `across = "channel"` it is the channel instead, mapped
/// through `[sources.channels]` or naming a channel itself.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWide {
    /// The value columns by name (matched ignoring case and spacing; each must be in every
    /// file). Default: none.
    #[serde(default)]
    #[schemars(extend("examples" = [["Q1 Waste collection", "Q2 Parks"]]))]
    pub columns: Vec<String>,
    /// A regular expression (Rust `regex` syntax) picking the value columns by name, as well
    /// as `columns`; at least one column of each file must match. Default: none.
    #[schemars(extend("examples" = ["^Q\\d+ "]))]
    pub pattern: Option<String>,
    /// Labels by column name: `{ "Q1 Waste collection" = "Waste" }`, or with `across =
    /// "channel"` `{ mobile = "app" }`. Default: the column's name.
    #[serde(default)]
    #[schemars(extend("examples" = [{"Q1 Waste collection": "Waste collection"}]))]
    pub labels: BTreeMap<String, String>,
    /// What a column's label stands for: `category` (a survey's question, or a count export's
    /// category, mapped to a service) or `channel` (a count export with one column per
    /// channel; contact sources only, with no `channel` or `columns.channel`). Default:
    /// `category`.
    #[schemars(extend("default" = "category", "enum" = WideAcross::ACCEPTED, "examples" = ["channel"]))]
    pub across: Option<String>,
    /// A survey's questions rated on a scale other than the source's `rating_scale`, by column
    /// name (matched ignoring case and spacing; each must be one of the value columns):
    /// `{ "Q9 Overall" = "excellent_poor" }`, each naming a `[scales.*]` table. An answer is read
    /// on its question's scale: its labels, scores, sentiments and answers that are not a
    /// rating. Default: none (every question on `rating_scale`).
    #[serde(default)]
    #[schemars(extend("examples" = [{"Quality of Service": "excellent_poor"}]))]
    pub scales: BTreeMap<String, String>,
}
