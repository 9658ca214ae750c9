//! Which columns of a table count survey respondents, and which cohort each count is: the part of
//! the table contract that disclosure control reads. The stages that compute a table (kpi,
//! equality) describe it here; `disclosure` turns every such table of a publication into cells of
//! one respondent cube and the sums linking them, and protects them together.
//!
//! A row's cohort is the set of (dimension, value) pairs its group columns name, plus the table's
//! fixed pairs (scope and filters). A group column's `total` label drops its dimension (the
//! "All respondents" row). Counts that split the row's cohort on one dimension (positive /
//! neutral / negative on `sentiment`, the channel columns of `channel_use`) are [`Part`]s.

/// The respondent counts of one table.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Columns naming each row's cohort.
    pub groups: Vec<Group>,
    /// (dimension, value) pairs every row shares: scope and filters.
    pub fixed: Vec<(String, String)>,
    /// The count of the whole row cohort (`responses`).
    pub cohort: Option<String>,
    /// Counts splitting the row cohort on one dimension; together they are the whole cohort.
    pub parts: Vec<Part>,
    /// Counts printed beside the row cohort and outside it: the answers of the row's groups that
    /// are not a rating ("Don't know") beside the rated `responses`. Each is the row cohort
    /// moved to `dimension = value`; like the cohort it sums over the table's groups, and it is
    /// no part of the cohort (nothing prints their sum).
    pub besides: Vec<Part>,
    /// Counts of a subset of the row cohort that do not add up to it (the dominant service's
    /// complaints), with the text columns that name the subset.
    pub subsets: Vec<Subset>,
    /// Figures computed from counts: blanked whenever one of their inputs is.
    pub derived: Vec<Derived>,
    /// Figures whose inputs differ from row to row (a weighted score reads the cells its row was
    /// weighted on): blanked whenever one of their row's inputs is.
    pub derived_by_row: Vec<DerivedByRow>,
    /// The cohort of those who answered a group question (every group but the non-response
    /// labels and the total), which shares and comparisons divide by without printing it.
    pub answered: Option<Answered>,
}

/// A dimension named by one or more columns (year and month together name a month).
#[derive(Debug, Clone)]
pub struct Group {
    pub columns: Vec<String>,
    pub dimension: String,
    /// The label of a row that covers every value of the dimension.
    pub total: Option<String>,
    /// Values that imply another dimension's value (a rating implies its sentiment):
    /// (value, dimension, implied value).
    pub implies: Vec<(String, String, String)>,
    /// Whether the table lists every value of the dimension with respondents (so its rows sum
    /// to the cohort above them); `false` when it lists only some (those answering).
    pub lists_all: bool,
}

impl Group {
    /// A group named by one column of the same name.
    pub fn column(name: &str) -> Group {
        Group {
            columns: vec![name.to_string()],
            dimension: name.to_string(),
            total: None,
            implies: Vec::new(),
            lists_all: true,
        }
    }

    /// With a total row labelled `label`.
    pub fn with_total(mut self, label: &str) -> Group {
        self.total = Some(label.to_string());
        self
    }
}

/// A count of the row cohort narrowed to `dimension = value`.
#[derive(Debug, Clone)]
pub struct Part {
    pub column: String,
    pub dimension: String,
    pub value: String,
}

/// A count of the row cohort narrowed by `adds` and by `dimension` = the text in `value_column`.
#[derive(Debug, Clone)]
pub struct Subset {
    pub column: String,
    pub adds: Vec<(String, String)>,
    pub dimension: String,
    pub value_column: String,
}

/// A figure and the counts it is computed from.
#[derive(Debug, Clone)]
pub struct Derived {
    pub column: String,
    pub inputs: Vec<Input>,
}

/// Figures and, for each row of the table in order, the counts they are computed from.
#[derive(Debug, Clone)]
pub struct DerivedByRow {
    pub columns: Vec<String>,
    pub inputs: Vec<Vec<Input>>,
}

/// A count a derived figure reads.
#[derive(Debug, Clone)]
pub enum Input {
    /// A count column of the same row.
    Row(String),
    /// A count column of the row's cohort with these dimensions dropped (a share of the total).
    Without(String, Vec<String>),
    /// A count column of the [`Answered`] cohort.
    Answered(String),
    /// A count column of the row's cohort with `dimension` set to `value` (a reference group).
    At(String, String, String),
    /// A count column of the row's cohort with the `drop` dimensions removed, then each
    /// (dimension, value) of `set` set: another row's cell (a weighting cell of another table).
    Cell {
        column: String,
        drop: Vec<String>,
        set: Vec<(String, String)>,
    },
}

/// The cohort of every value of the group at `group` except `excluded` and the total.
#[derive(Debug, Clone)]
pub struct Answered {
    pub group: usize,
    pub excluded: Vec<String>,
}

/// The value an [`Answered`] cohort takes in its dimension.
pub const ANSWERED: &str = "*answered*";

/// The dimension of a [`Part`] that splits respondents by sentiment.
pub const SENTIMENT: &str = "sentiment";

/// The dimension that sets answers without a rating ("Don't know") apart from the rated
/// respondents every other count is of: the cohort of a `not_rated` count has `rated = no`.
pub const RATED: &str = "rated";

/// The value of [`RATED`] for answers that are not a rating.
pub const NOT_A_RATING: &str = "no";

impl Counts {
    /// The layout of a satisfaction table: `responses` split into positive / neutral /
    /// negative, with the satisfaction measures derived from them.
    pub fn satisfaction(groups: Vec<Group>, fixed: Vec<(String, String)>) -> Counts {
        use crate::measures::out;
        let row = |c: &str| Input::Row(c.to_string());
        let all = || {
            vec![
                row(out::RESPONSES),
                row(out::POSITIVE),
                row(out::NEUTRAL),
                row(out::NEGATIVE),
            ]
        };
        let of = |count: &str| vec![row(out::RESPONSES), row(count)];
        let mut derived = Vec::new();
        for (column, inputs) in [
            (out::COUNCIL_SCORE_PCT, all()),
            (out::NET_SATISFACTION, all()),
            (out::SATISFIED_PCT, of(out::POSITIVE)),
            ("satisfied_low", of(out::POSITIVE)),
            ("satisfied_high", of(out::POSITIVE)),
            (out::DISSATISFIED_PCT, of(out::NEGATIVE)),
            ("dissatisfied_low", of(out::NEGATIVE)),
            ("dissatisfied_high", of(out::NEGATIVE)),
        ] {
            derived.push(Derived {
                column: column.to_string(),
                inputs,
            });
        }
        Counts {
            groups,
            fixed,
            cohort: Some(out::RESPONSES.to_string()),
            parts: [out::POSITIVE, out::NEUTRAL, out::NEGATIVE]
                .iter()
                .map(|p| Part {
                    column: p.to_string(),
                    dimension: SENTIMENT.to_string(),
                    value: p.to_string(),
                })
                .collect(),
            besides: Vec::new(),
            subsets: Vec::new(),
            derived,
            derived_by_row: Vec::new(),
            answered: None,
        }
    }

    /// With the `not_rated` count of each row's cohort beside its rated responses.
    pub fn with_not_rated(mut self) -> Counts {
        self.besides.push(Part {
            column: crate::measures::out::NOT_RATED.to_string(),
            dimension: RATED.to_string(),
            value: NOT_A_RATING.to_string(),
        });
        self
    }

    /// Adds a derived figure.
    pub fn derive(mut self, column: &str, inputs: Vec<Input>) -> Counts {
        self.derived.push(Derived {
            column: column.to_string(),
            inputs,
        });
        self
    }

    /// Adds figures whose inputs are given row by row (`inputs[r]` for row `r`).
    pub fn derive_by_row(mut self, columns: &[&str], inputs: Vec<Vec<Input>>) -> Counts {
        self.derived_by_row.push(DerivedByRow {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            inputs,
        });
        self
    }

    /// Every count column (cohort, parts, subsets).
    pub fn count_columns(&self) -> Vec<&str> {
        self.cohort
            .iter()
            .map(String::as_str)
            .chain(self.parts.iter().map(|p| p.column.as_str()))
            .chain(self.besides.iter().map(|p| p.column.as_str()))
            .chain(self.subsets.iter().map(|s| s.column.as_str()))
            .collect()
    }
}
