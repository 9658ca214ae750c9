//! The year's answers as the equality tables count them, month by month, kept in the lake. A
//! month's answers (one council's, the overall question's, only the columns the tables group
//! by) are summed per combination of those columns and of where their period lies (year, month,
//! date granularity): `answers`, and each answer's respondent as a 64-bit digest of its source
//! and record key (`__respondents`, a list on each row), from which the respondents answering
//! in more than one month are found without reading their rows again.
//!
//! A month's sums depend only on its responses files and those settings. They are kept under a
//! key naming both (`lake::derived`, kind `equality`): a file of the month ingested late, a
//! breakdown added, another overall question or council asks for another key. A monthly run
//! then reads the year's earlier months from the kept sums and sums only its new month, and the
//! tables are the same as from the rows (every figure is a sum of `answers`; a test compares).
//!
//! The digest: the first eight bytes of SHA-256 of the source, a separator and the record key.
//! Two respondents share one with a chance of about n² / 2⁶⁵ (one in ten million for a year of
//! 1.4 million answers); if they did, a pair of groups would be wrongly left untested as
//! sharing a respondent, never wrongly tested.

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::config::Pipeline;
use crate::lake::{derived, Lake};
use crate::measures::{collect, figure_err, FigureError};
use crate::model::{col as c, Table as LakeTable};

/// The kind of kept sums, and the version of what [`Answers::month`] produces: change it
/// whenever the same rows would give other sums, so that no run reads what an earlier build
/// kept.
const KIND: &str = "equality";
const FORMAT: &str = "answer sums 1";

/// Each answer's respondent, as a digest ([`digests`]).
pub const RESPONDENT: &str = "__respondent";
/// The respondents of the answers a row of the sums stands for, one digest each (null for an
/// answer without a record key).
pub const RESPONDENTS: &str = "__respondents";
/// Where an answer's period lies: the rule of which months count it needs them.
const DATED: [&str; 3] = [c::YEAR, c::MONTH, c::DATE_GRANULARITY];

/// The answers of some months of a period's year, as the equality tables read them.
pub struct Answers<'a> {
    pub pipeline: &'a Pipeline,
    pub lake: &'a Lake,
    /// The months, in order.
    pub months: &'a [(i32, i8)],
    /// The columns the tables group by: channel, service, sentiment, score, the breakdowns'.
    pub columns: &'a [String],
}

impl Answers<'_> {
    /// Every month's answers summed per year, month, date granularity and `columns`, with
    /// `answers` and `__respondents`; `None` when the lake holds no survey responses.
    pub fn summed(&self) -> Result<Option<DataFrame>, FigureError> {
        let data = |e: crate::lake::LakeError| FigureError::Data(e.to_string());
        let year_files = match (self.months.first(), self.months.last()) {
            (Some(first), Some(last)) => {
                self.lake.months_files(LakeTable::Responses, *first, *last)
            }
            _ => Vec::new(),
        };
        // The types the lake gives the columns: of the year's files, or of the whole table
        // when the year has none (then no rows).
        let scan = if year_files.is_empty() {
            self.lake.scan(LakeTable::Responses).map_err(data)?
        } else {
            self.lake
                .scan_some(LakeTable::Responses, &year_files)
                .map_err(data)?
        };
        let Some(mut scan) = scan else {
            return Ok(None);
        };
        let lake_schema = scan.collect_schema().map_err(figure_err)?;
        let mut schema = Schema::default();
        for name in self.keys() {
            let dtype = lake_schema.get(name.as_str()).cloned().ok_or_else(|| {
                FigureError::Data(format!("the survey responses have no column {name}"))
            })?;
            schema.with_column(name.into(), dtype);
        }
        schema.with_column(c::ANSWERS.into(), DataType::UInt32);
        schema.with_column(
            RESPONDENTS.into(),
            DataType::List(Box::new(DataType::UInt64)),
        );
        let settings = self.settings();
        let root = self.lake.root();
        let mut months = Vec::new();
        for &m in self.months {
            let stamp = self.lake.months_stamp(LakeTable::Responses, m, m);
            if stamp.is_empty() {
                continue; // no file of the month: no answers
            }
            let month = format!("{}-{:02}", m.0, m.1);
            let key = derived::key(&[FORMAT, env!("CARGO_PKG_VERSION"), &settings, &month, &stamp]);
            if let Some(kept) = derived::read(root, KIND, &key) {
                match as_expected(kept, &schema) {
                    Ok(kept) => {
                        months.push(kept);
                        continue;
                    }
                    Err(e) => crate::log::warn(&format!(
                        "the equality sums kept for {month} are damaged ({e}): summed again from the rows"
                    )),
                }
            }
            let mut fresh = as_expected(self.month(m)?, &schema)?;
            if let Err(e) = derived::write(root, KIND, &key, &mut fresh) {
                crate::log::warn(&format!(
                    "the equality sums of {month} could not be kept ({e}): the next run sums them again"
                ));
            }
            months.push(fresh);
        }
        let mut all = DataFrame::empty_with_schema(&schema);
        for m in &months {
            all.vstack_mut(m).map_err(figure_err)?;
        }
        Ok(Some(all))
    }

    /// The columns the sums are grouped by.
    fn keys(&self) -> Vec<String> {
        DATED
            .iter()
            .map(|s| s.to_string())
            .chain(self.columns.iter().cloned())
            .collect()
    }

    /// Everything besides the month's files that shapes its sums.
    fn settings(&self) -> String {
        format!(
            "organisation={}\noverall_question={:?}\ncolumns={}",
            self.pipeline.organisation,
            self.pipeline.overall_question,
            self.keys().join(",")
        )
    }

    /// One month's answers summed, from its rows.
    fn month(&self, (year, month): (i32, i8)) -> Result<DataFrame, FigureError> {
        let files = self
            .lake
            .months_files(LakeTable::Responses, (year, month), (year, month));
        let keys: Vec<Expr> = self.keys().iter().map(|k| col(k.as_str())).collect();
        let Some(rows) = self
            .lake
            .scan_some(LakeTable::Responses, &files)
            .map_err(|e| FigureError::Data(e.to_string()))?
        else {
            return Ok(DataFrame::empty());
        };
        let mut columns = keys.clone();
        columns.extend([col(c::SOURCE), col(c::RECORD_KEY)]);
        let rows = collect(
            crate::measures::overall_answers(rows, self.pipeline.overall_question.as_deref())
                .filter(col(c::ORGANISATION).eq(lit(self.pipeline.organisation.clone())))
                // A file whose folder does not tell its month is read for every month: each
                // month takes its own rows.
                .filter(
                    col(c::YEAR).cast(DataType::Int32).eq(lit(year)).and(
                        col(c::MONTH)
                            .cast(DataType::Int32)
                            .eq(lit(i32::from(month))),
                    ),
                )
                .select(columns),
        )?;
        let mut rows = rows;
        let respondents = digests(&rows)?;
        rows.with_column(respondents.into_column())
            .map_err(figure_err)?;
        collect(
            crate::measures::one_answer_each(rows.lazy().drop(by_name(
                [c::SOURCE, c::RECORD_KEY],
                true,
                false,
            )))
            .group_by(keys)
            .agg([
                crate::measures::answers().alias(c::ANSWERS),
                col(RESPONDENT).alias(RESPONDENTS),
            ]),
        )
    }
}

/// `df` with exactly the columns of `schema`, in its order and types: kept sums read back as
/// written, or a month's fresh sums (an empty month has none of the columns).
fn as_expected(df: DataFrame, schema: &Schema) -> Result<DataFrame, FigureError> {
    if df.width() == 0 {
        return Ok(DataFrame::empty_with_schema(schema));
    }
    crate::lake::derived::as_written(df, schema).map_err(FigureError::Data)
}

/// Each row's respondent: the first eight bytes of SHA-256 of its source, a unit separator and
/// its record key, as a number (null without a record key).
pub fn digests(rows: &DataFrame) -> Result<Series, FigureError> {
    let text = |name: &str| -> Result<StringChunked, FigureError> {
        rows.column(name)
            .and_then(|c| c.cast(&DataType::String))
            .and_then(|c| c.str().cloned())
            .map_err(figure_err)
    };
    let (source, key) = (text(c::SOURCE)?, text(c::RECORD_KEY)?);
    let digest: UInt64Chunked = source
        .iter()
        .zip(key.iter())
        .map(|(s, k)| {
            let k = k?;
            let mut hash = Sha256::new();
            hash.update(s.unwrap_or_default().as_bytes());
            hash.update([0x1f]);
            hash.update(k.as_bytes());
            let bytes: [u8; 8] = hash.finalize()[..8].try_into().ok()?;
            Some(u64::from_le_bytes(bytes))
        })
        .collect();
    Ok(digest.with_name(RESPONDENT.into()).into_series())
}
