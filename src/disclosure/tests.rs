//! The leaks an attacker found in table-by-table suppression (issue 14), each as a publication
//! that [`protect`] must close: after it, no blank count can be narrowed below the threshold
//! from what is printed (the verdict's bounds), and what a reader could derive it from is blank.

use polars::prelude::*;

use super::*;
use crate::tables::counts::{Answered, Counts, Group, Input, Part, RATED, SENTIMENT};

fn scope() -> Vec<(String, String)> {
    vec![("organisation".into(), "Council".into())]
}

fn table(name: &str, frame: DataFrame, counts: Counts) -> Table {
    Table {
        name: name.into(),
        title: name.into(),
        description: String::new(),
        frame,
        formats: Default::default(),
        counts: Some(counts),
    }
}

/// A one-way satisfaction table by age with its "All respondents" row and shares of it.
fn one_way(rows: &[(&str, [i64; 3])]) -> Table {
    let mut groups: Vec<&str> = rows.iter().map(|r| r.0).collect();
    groups.push("All respondents");
    let col = |i: usize| -> Vec<i64> {
        let mut v: Vec<i64> = rows.iter().map(|r| r.1[i]).collect();
        v.push(v.iter().sum());
        v
    };
    let (pos, neu, neg) = (col(0), col(1), col(2));
    let n: Vec<i64> = (0..pos.len()).map(|i| pos[i] + neu[i] + neg[i]).collect();
    let total = *n.last().unwrap_or(&1) as f64;
    let share: Vec<f64> = n.iter().map(|v| 100.0 * *v as f64 / total).collect();
    let frame = df!(
        "age_band" => groups,
        "responses" => n,
        "positive" => pos,
        "neutral" => neu,
        "negative" => neg,
        "share_pct" => share,
    )
    .unwrap_or_default();
    let counts = Counts::satisfaction(
        vec![Group::column("age_band").with_total("All respondents")],
        scope(),
    )
    .derive(
        "share_pct",
        vec![
            Input::Row("responses".into()),
            Input::Without("responses".into(), vec!["age_band".into()]),
        ],
    );
    table("equality_age_band", frame, counts)
}

fn is_blank(t: &Table, column: &str, row: usize) -> bool {
    t.frame
        .column(column)
        .map(|c| c.get(row).map(|v| v.is_null()).unwrap_or(false))
        .unwrap_or(false)
}

fn assert_protected(audit: &Audit, threshold: i64) {
    assert_eq!(audit.verdict, "pass", "{audit:?}");
    for h in &audit.hidden {
        // A witnessed cell (beside earlier publications) has no bounds: the audit moved it by
        // the threshold.
        let width = h.lower.and_then(|l| h.upper.map(|u| u - l));
        assert!(
            width.is_none_or(|w| w >= threshold),
            "{}:{} {} narrowed to {:?}..{:?}",
            h.table,
            h.row,
            h.column,
            h.lower,
            h.upper
        );
    }
}

#[test]
fn a_share_of_all_respondents_is_blank_with_its_group() -> PolarsResult<()> {
    let mut tables = vec![one_way(&[
        ("16-24", [30, 10, 8]),
        ("25-34", [40, 12, 9]),
        ("85+", [4, 2, 1]),
    ])];
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[0], "responses", 2));
    assert!(
        is_blank(&tables[0], "share_pct", 2),
        "7 / 116 would give 85+ back"
    );
    assert!(!is_blank(&tables[0], "share_pct", 3));
    assert_protected(&audit, 10);
    Ok(())
}

#[test]
fn a_cell_hidden_in_one_table_cannot_be_worked_out_from_another() -> PolarsResult<()> {
    // 16-24: 188 in the one-way table; by channel 14 + 33 + 136 + 5 (webchat). Suppressed one
    // table at a time, 188 - 14 - 33 - 136 gave webchat back.
    let one = one_way(&[("16-24", [120, 40, 28]), ("25-34", [200, 80, 50])]);
    let rows = [
        ("16-24", "face_to_face", [10, 3, 1]),
        ("16-24", "telephone", [25, 5, 3]),
        ("16-24", "web", [82, 30, 24]),
        ("16-24", "webchat", [3, 2, 0]),
        ("25-34", "face_to_face", [20, 10, 5]),
        ("25-34", "telephone", [60, 30, 15]),
        ("25-34", "web", [100, 35, 28]),
        ("25-34", "webchat", [20, 5, 2]),
    ];
    let frame = df!(
        "age_band" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "channel" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "responses" => rows.iter().map(|r| r.2.iter().sum::<i64>()).collect::<Vec<_>>(),
        "positive" => rows.iter().map(|r| r.2[0]).collect::<Vec<_>>(),
        "neutral" => rows.iter().map(|r| r.2[1]).collect::<Vec<_>>(),
        "negative" => rows.iter().map(|r| r.2[2]).collect::<Vec<_>>(),
    )?;
    let two = table(
        "equality_age_band_by_channel",
        frame,
        Counts::satisfaction(
            vec![Group::column("age_band"), Group::column("channel")],
            scope(),
        ),
    );
    // The sums hold before protection (or the test would prove nothing).
    let mut tables = vec![one, two];
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[1], "responses", 3), "webchat 5 is small");
    // 188 printed in the one-way table: some other channel of 16-24 is blank too.
    assert!(!is_blank(&tables[0], "responses", 0));
    assert!((0..3).any(|r| is_blank(&tables[1], "responses", r)));
    assert_protected(&audit, 10);
    Ok(())
}

#[test]
fn a_comparison_with_the_rest_is_blank_when_it_would_give_a_count_back() -> PolarsResult<()> {
    // Not answered: negative 4 (small). The difference against the rest of those who answered
    // gives the answered cohort's negatives, and with the total the hidden count.
    let mut t = one_way(&[
        ("16-24", [60, 20, 20]),
        ("25-34", [70, 20, 30]),
        ("Not answered", [30, 6, 4]),
    ]);
    t.frame.with_column(Column::new(
        "dissatisfied_difference_pp".into(),
        [1.0f64, -1.0, f64::NAN, f64::NAN],
    ))?;
    let mut counts = t.counts.take().unwrap_or_default();
    counts.answered = Some(Answered {
        group: 0,
        excluded: vec!["Not answered".into()],
    });
    t.counts = Some(counts.derive(
        "dissatisfied_difference_pp",
        vec![
            Input::Row("responses".into()),
            Input::Row("negative".into()),
            Input::Answered("responses".into()),
            Input::Answered("negative".into()),
        ],
    ));
    let mut tables = vec![t];
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[0], "negative", 2));
    let printed_differences = (0..2)
        .filter(|r| !is_blank(&tables[0], "dissatisfied_difference_pp", *r))
        .count();
    // Either the differences are blank, or enough else is that the answered negatives (which
    // they print) do not give 4 back: the verdict's bounds say which.
    assert!(printed_differences == 0 || audit.hidden.len() > 2);
    assert_protected(&audit, 10);
    Ok(())
}

#[test]
fn a_true_zero_is_never_blanked_to_protect_another() -> PolarsResult<()> {
    let mut tables = vec![one_way(&[
        ("16-24", [20, 12, 8]),
        ("25-34", [30, 20, 10]),
        ("35-44", [47, 0, 3]),
    ])];
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[0], "negative", 2));
    assert!(!is_blank(&tables[0], "neutral", 2), "a printed 0 says none");
    assert!(audit
        .hidden
        .iter()
        .all(|h| !(h.row == 2 && h.column == "neutral")));
    assert_protected(&audit, 10);
    Ok(())
}

#[test]
fn a_printed_total_and_one_part_do_not_give_away_the_rest() -> PolarsResult<()> {
    // 75-84: N 40 and positive 35 printed would give neutral + negative = 5.
    let mut tables = vec![one_way(&[
        ("75-84", [35, 3, 2]),
        ("b", [30, 20, 10]),
        ("c", [20, 18, 12]),
    ])];
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[0], "neutral", 0) && is_blank(&tables[0], "negative", 0));
    assert!(
        is_blank(&tables[0], "positive", 0) || is_blank(&tables[0], "responses", 0),
        "N and positive printed give neutral + negative = 5"
    );
    assert_protected(&audit, 10);
    Ok(())
}

#[test]
fn channel_parts_protect_like_sentiments() -> PolarsResult<()> {
    let frame = df!(
        "sex" => ["Female", "Male", "All respondents"],
        "responses" => [100i64, 80, 180],
        "web" => [70i64, 78, 148],
        "webchat" => [30i64, 2, 32],
    )?;
    let counts = Counts {
        groups: vec![Group::column("sex").with_total("All respondents")],
        fixed: scope(),
        cohort: Some("responses".into()),
        parts: ["web", "webchat"]
            .iter()
            .map(|c| Part {
                column: c.to_string(),
                dimension: "channel".into(),
                value: c.to_string(),
            })
            .collect(),
        ..Counts::default()
    };
    let mut tables = vec![table("channel_use_sex", frame, counts)];
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[0], "webchat", 1));
    assert_protected(&audit, 10);
    Ok(())
}

#[test]
fn the_reason_for_each_blank_is_given() {
    let text = format!(
        "{}: negative; {SECONDARY_LABEL}: neutral, positive",
        primary_label(10)
    );
    assert_eq!(why_blank(&text, "negative"), Some(true));
    assert_eq!(why_blank(&text, "positive"), Some(false));
    assert_eq!(why_blank(&text, "responses"), None);
}

#[test]
fn a_threshold_of_one_blanks_nothing() -> PolarsResult<()> {
    let mut tables = vec![one_way(&[("16-24", [3, 1, 1]), ("25-34", [30, 10, 5])])];
    let audit = protect(&mut tables, 1)?;
    assert_eq!(audit.primary + audit.secondary, 0);
    assert!(!is_blank(&tables[0], "negative", 0));
    Ok(())
}

/// A `not_rated` count ("don't know") is a cohort beside the rated N, no part of it: a small one
/// is hidden with what would give it back through the total (23 - 20), and no relation claims
/// it is part of N (none is dropped), so no rated count is blanked for it.
#[test]
fn a_not_rated_count_is_protected_beside_the_rated_ones() -> PolarsResult<()> {
    let mut t = one_way(&[("16-24", [30, 10, 10]), ("25-34", [40, 12, 11])]);
    t.frame
        .with_column(Column::new("not_rated".into(), [3i64, 20, 23]))?;
    if let Some(counts) = t.counts.take() {
        t.counts = Some(counts.with_not_rated());
    }
    let model = model::Model::build(std::slice::from_ref(&t));
    assert_eq!(model.dropped, 0, "{:?}", model.relations);
    let mut tables = vec![t];
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[0], "not_rated", 0), "3 is small");
    assert!(
        is_blank(&tables[0], "not_rated", 1) || is_blank(&tables[0], "not_rated", 2),
        "23 - 20 would give it back"
    );
    for column in ["responses", "positive", "neutral", "negative", "share_pct"] {
        for row in 0..3 {
            assert!(!is_blank(&tables[0], column, row), "{column} {row}");
        }
    }
    assert_protected(&audit, 10);
    Ok(())
}

/// Satisfaction by channel and the weighted satisfaction of one council's year, from Good /
/// Average / Poor counts and contacts per channel (one service), protected together.
fn weighted_publication(channels: &[(&str, [u32; 3], u32)]) -> PolarsResult<(Vec<Table>, Audit)> {
    use crate::kpi::satisfaction::{satisfaction_by, tests::responses};
    use crate::model::col as c;
    let by = [c::ORGANISATION, c::FINANCIAL_YEAR, c::CHANNEL, c::SERVICE];
    let keys: Vec<[&str; 4]> = channels
        .iter()
        .map(|(ch, _, _)| ["Council", "2024/25", *ch, "Housing"])
        .collect();
    let groups: Vec<(&[&str], [u32; 3])> = keys
        .iter()
        .zip(channels)
        .map(|(k, (_, counts, _))| (k.as_slice(), *counts))
        .collect();
    let survey = responses(&by, &groups);
    let contacts = df!(
        c::ORGANISATION => vec!["Council"; channels.len()],
        c::FINANCIAL_YEAR => vec!["2024/25"; channels.len()],
        c::CHANNEL => channels.iter().map(|r| r.0).collect::<Vec<_>>(),
        c::SERVICE => vec!["Housing"; channels.len()],
        c::CONTACTS => channels.iter().map(|r| r.2).collect::<Vec<_>>(),
    )?
    .lazy();
    let by_channel = satisfaction_by(survey.clone(), &by[..3]).collect()?;
    let mut tables = vec![table(
        "satisfaction_by_channel",
        by_channel,
        Counts::satisfaction(
            by[..3].iter().map(|g| Group::column(g)).collect(),
            Vec::new(),
        ),
    )];
    let config = crate::config::kpi::KpiConfig::default();
    tables.extend(
        crate::kpi::weighted_tables(survey, contacts, &config, 0.95, 1.959963984540054)
            .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?,
    );
    let audit = protect(&mut tables, 10)?;
    Ok((tables, audit))
}

/// The weighted score is a combination of the channel scores with printed weights: with one
/// channel cell below the threshold, every weighted figure of the row that reads it is blank
/// (and the cell's weight, which would give its N back as contacts / weight); with no small
/// cell, they are printed.
#[test]
fn a_weighted_score_is_blank_when_a_channel_cell_it_reads_is() -> PolarsResult<()> {
    let figures = [
        "weighted_council_score_pct",
        "weighted_score_low",
        "weighted_score_high",
        "n_eff",
        "sum_weights",
        "design_effect",
    ];
    let (tables, audit) = weighted_publication(&[
        ("telephone", [70, 20, 10], 6000),
        ("web", [150, 60, 90], 3000),
        ("face_to_face", [4, 1, 1], 1000),
    ])?;
    assert_protected(&audit, 10);
    let by_channel = &tables[0];
    let weighted = &tables[1];
    let weights = &tables[2];
    assert_eq!(weighted.name, "satisfaction_weighted");
    // face_to_face (6 responses) is the first channel row.
    assert!(is_blank(by_channel, "responses", 0));
    for row in 0..weighted.frame.height() {
        for figure in figures {
            assert!(is_blank(weighted, figure, row), "{figure} of row {row}");
        }
    }
    let face_to_face: Vec<usize> = (0..weights.frame.height())
        .filter(|r| {
            weights
                .frame
                .column("channel")
                .ok()
                .and_then(|c| c.str().ok()?.get(*r).map(str::to_string))
                == Some("face_to_face".to_string())
        })
        .collect();
    assert!(!face_to_face.is_empty());
    for r in face_to_face {
        assert!(is_blank(weights, "weight", r));
        assert!(is_blank(weights, "responses", r));
    }

    let (tables, audit) = weighted_publication(&[
        ("telephone", [70, 20, 10], 6000),
        ("web", [150, 60, 90], 3000),
        ("face_to_face", [10, 0, 0], 1000),
    ])?;
    assert_protected(&audit, 10);
    assert_eq!(audit.primary, 0);
    for row in 0..tables[1].frame.height() {
        for figure in figures {
            assert!(!is_blank(&tables[1], figure, row), "{figure} of row {row}");
        }
    }
    Ok(())
}

/// Satisfaction by channel with its `not_rated` count, and the ratings table with a row per
/// answer that is not a rating (`rated` = no) beside the ratings: telephone's 22 not-rated
/// answers are 18 "Don't know" and 4 "9"; web's 3 are "N/A".
fn ratings_publication() -> PolarsResult<Vec<Table>> {
    let channels = [
        ("telephone", [30i64, 20, 20], 22i64),
        ("web", [20, 20, 20], 3),
    ];
    let by_channel = df!(
        "channel" => channels.iter().map(|c| c.0).collect::<Vec<_>>(),
        "responses" => channels.iter().map(|c| c.1.iter().sum::<i64>()).collect::<Vec<_>>(),
        "positive" => channels.iter().map(|c| c.1[0]).collect::<Vec<_>>(),
        "neutral" => channels.iter().map(|c| c.1[1]).collect::<Vec<_>>(),
        "negative" => channels.iter().map(|c| c.1[2]).collect::<Vec<_>>(),
        "not_rated" => channels.iter().map(|c| c.2).collect::<Vec<_>>(),
    )?;
    let by_channel = table(
        "satisfaction_by_channel",
        by_channel,
        Counts::satisfaction(vec![Group::column("channel")], scope()).with_not_rated(),
    );
    let rows: [(&str, &str, &str, i64); 9] = [
        ("telephone", "Good", "yes", 30),
        ("telephone", "Average", "yes", 20),
        ("telephone", "Poor", "yes", 20),
        ("telephone", "Don't know", "no", 18),
        ("telephone", "9", "no", 4),
        ("web", "Good", "yes", 20),
        ("web", "Average", "yes", 20),
        ("web", "Poor", "yes", 20),
        ("web", "N/A", "no", 3),
    ];
    let ratings = df!(
        "channel" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "rated" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "rating" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "responses" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    )?;
    let mut rating = Group::column("rating");
    rating.implies = [
        ("Good", "positive"),
        ("Average", "neutral"),
        ("Poor", "negative"),
    ]
    .iter()
    .map(|(r, s)| (r.to_string(), SENTIMENT.to_string(), s.to_string()))
    .collect();
    let rated = Group {
        total: Some("yes".into()),
        lists_all: false,
        ..Group::column(RATED)
    };
    let ratings = table(
        "satisfaction_ratings",
        ratings,
        Counts {
            groups: vec![Group::column("channel"), rated, rating],
            fixed: scope(),
            cohort: Some("responses".into()),
            ..Counts::default()
        },
    );
    Ok(vec![by_channel, ratings])
}

/// Rows of answers that are not a rating sum to the channel's `not_rated` count, never to its
/// rated N: a small one ("9": 4) is hidden with what would give it back (22 - 18).
#[test]
fn a_dont_know_row_sums_to_the_not_rated_count_and_is_protected() -> PolarsResult<()> {
    let tables = ratings_publication()?;
    let model = model::Model::build(&tables);
    assert_eq!(model.dropped, 0, "{:?}", model.relations);
    // The not-rated rows' family: telephone's not_rated = "Don't know" + "9".
    let value_of = |key: &[(&str, &str)]| {
        let key: model::Key = key
            .iter()
            .map(|(d, v)| (d.to_string(), v.to_string()))
            .chain(scope())
            .collect();
        model.cells.iter().position(|c| c.key == key)
    };
    let parent = value_of(&[("channel", "telephone"), (RATED, "no")]);
    let children = [
        value_of(&[
            ("channel", "telephone"),
            (RATED, "no"),
            ("rating", "Don't know"),
        ]),
        value_of(&[("channel", "telephone"), (RATED, "no"), ("rating", "9")]),
    ];
    assert!(
        model.relations.iter().any(|r| Some(r.parent) == parent
            && r.children.len() == 2
            && children
                .iter()
                .all(|c| c.is_some_and(|c| r.children.contains(&c)))),
        "no family for telephone's not-rated rows: {:?}",
        model.relations
    );
    let mut tables = tables;
    let audit = protect(&mut tables, 10)?;
    assert!(is_blank(&tables[1], "responses", 4), "4 is small");
    assert!(is_blank(&tables[1], "responses", 8), "3 is small");
    assert!(
        is_blank(&tables[1], "responses", 3) || is_blank(&tables[0], "not_rated", 0),
        "22 - 18 would give the 4 back"
    );
    // The ratings are rated answers: nothing hides them for the not-rated rows' sake.
    for row in [0, 1, 2, 5, 6, 7] {
        assert!(!is_blank(&tables[1], "responses", row), "rating row {row}");
    }
    assert_protected(&audit, 10);
    Ok(())
}

/// A year's satisfaction by channel, and the same year by month: every answer Good.
fn year_and_months(year: &[(&str, i64)], months: &[(&str, &str, i64)]) -> PolarsResult<Vec<Table>> {
    let by_channel = df!(
        "channel" => year.iter().map(|r| r.0).collect::<Vec<_>>(),
        "responses" => year.iter().map(|r| r.1).collect::<Vec<_>>(),
        "positive" => year.iter().map(|r| r.1).collect::<Vec<_>>(),
        "neutral" => year.iter().map(|_| 0i64).collect::<Vec<_>>(),
        "negative" => year.iter().map(|_| 0i64).collect::<Vec<_>>(),
    )?;
    let by_month = df!(
        "month" => months.iter().map(|r| r.0).collect::<Vec<_>>(),
        "channel" => months.iter().map(|r| r.1).collect::<Vec<_>>(),
        "responses" => months.iter().map(|r| r.2).collect::<Vec<_>>(),
        "positive" => months.iter().map(|r| r.2).collect::<Vec<_>>(),
        "neutral" => months.iter().map(|_| 0i64).collect::<Vec<_>>(),
        "negative" => months.iter().map(|_| 0i64).collect::<Vec<_>>(),
    )?;
    Ok(vec![
        table(
            "satisfaction_by_channel",
            by_channel,
            Counts::satisfaction(vec![Group::column("channel")], scope()),
        ),
        table(
            "satisfaction_monthly",
            by_month,
            Counts::satisfaction(
                vec![Group::column("month"), Group::column("channel")],
                scope(),
            ),
        ),
    ])
}

#[test]
fn the_rest_of_a_year_beyond_its_printed_months_cannot_be_worked_out() -> PolarsResult<()> {
    // Web: 40 in the year, 20 + 17 in its months: the 3 answers dated only by a quarter are
    // 40 - 37, a small count no table prints. Telephone's months add up to its year.
    let mut tables = year_and_months(
        &[("telephone", 50), ("web", 40)],
        &[
            ("2023-04", "telephone", 24),
            ("2023-04", "web", 20),
            ("2023-05", "telephone", 26),
            ("2023-05", "web", 17),
        ],
    )?;
    let model = Model::build(&tables);
    assert_eq!(model.dropped, 0, "the rest is a cell, not a dropped sum");
    let audit = protect(&mut tables, 10)?;
    let web_printed = !is_blank(&tables[0], "responses", 1)
        && !is_blank(&tables[1], "responses", 1)
        && !is_blank(&tables[1], "responses", 3);
    assert!(!web_printed, "40 - 20 - 17 would give 3 back");
    assert!(audit.primary >= 1, "{audit:?}");
    assert_protected(&audit, 10);
    // Nothing is blanked for telephone, whose months add up.
    for (t, r) in [(0, 0), (1, 0), (1, 2)] {
        assert!(!is_blank(&tables[t], "responses", r), "{t}:{r}");
    }
    // A large rest is printed like any large count: nothing blank.
    let mut tables = year_and_months(
        &[("web", 60)],
        &[("2023-04", "web", 20), ("2023-05", "web", 17)],
    )?;
    let audit = protect(&mut tables, 10)?;
    assert_eq!((audit.primary, audit.secondary), (0, 0), "{audit:?}");
    Ok(())
}

/// A release of the one-way table for the year to `month` (2025-`month`), read from lake
/// version `version`.
fn release_id(month: i8, version: i64) -> ReleaseId {
    ReleaseId {
        period: format!("2025-{month:02}"),
        last_month: (2025, month),
        lake_version: Some(version),
    }
}

/// Every count printed in a table, by (row label, column).
fn printed(t: &Table) -> BTreeMap<(String, String), i64> {
    let mut out = BTreeMap::new();
    let labels = t.frame.column("age_band").ok().cloned();
    for column in ["responses", "positive", "neutral", "negative"] {
        let Ok(values) = t
            .frame
            .column(column)
            .and_then(|c| c.cast(&DataType::Int64))
        else {
            continue;
        };
        let Ok(values) = values.i64().cloned() else {
            continue;
        };
        for (r, v) in values.iter().enumerate() {
            let label = labels
                .as_ref()
                .and_then(|l| l.get(r).ok())
                .map(|v| v.to_string())
                .unwrap_or_default();
            if let Some(v) = v {
                out.insert((label, column.to_string()), v);
            }
        }
    }
    out
}

/// Counts printed by both tables whose difference is a small count.
fn small_differences(a: &Table, b: &Table, threshold: i64) -> Vec<String> {
    let (a, b) = (printed(a), printed(b));
    a.iter()
        .filter_map(|(k, va)| {
            let vb = b.get(k)?;
            let d = (vb - va).abs();
            (d > 0 && d < threshold).then(|| format!("{k:?}: {va} then {vb}"))
        })
        .collect()
}

// February's and March's year to date: 16-24 dissatisfied go from 24 to 26 (2 in March), 25-34
// satisfied from 40 to 45 (5 in March); everything else grows by 0 or at least 10.
const FEBRUARY: [(&str, [i64; 3]); 3] = [
    ("16-24", [30, 10, 24]),
    ("25-34", [40, 12, 19]),
    ("35-44", [50, 20, 30]),
];
const MARCH: [(&str, [i64; 3]); 3] = [
    ("16-24", [40, 20, 26]),
    ("25-34", [45, 22, 29]),
    ("35-44", [60, 30, 40]),
];

#[test]
fn a_publication_is_protected_against_the_earlier_ones_of_its_year() -> PolarsResult<()> {
    let mut february = vec![one_way(&FEBRUARY)];
    let (audit, kept) = protect_release(&[], &release_id(2, 7), &mut february, 10)?;
    assert_protected(&audit, 10);
    assert!(audit.protected_against.is_empty());
    // Unprotected, March printed beside February gives 2 and 5 back.
    let bare = one_way(&MARCH);
    assert!(!small_differences(&february[0], &bare, 10).is_empty());
    let mut march = vec![one_way(&MARCH)];
    let (audit, _) = protect_release(&[kept], &release_id(3, 8), &mut march, 10)?;
    assert_protected(&audit, 10);
    assert_eq!(audit.protected_against, vec!["2025-02 (lake version 7)"]);
    assert_eq!(
        small_differences(&february[0], &march[0], 10),
        Vec::<String>::new()
    );
    assert!(audit.differences_hidden >= 2, "{audit:?}");
    assert!(is_blank(&march[0], "negative", 0), "26 - 24 = 2");
    assert!(is_blank(&march[0], "positive", 1), "45 - 40 = 5");
    Ok(())
}

#[test]
fn an_earlier_month_published_after_a_later_one_is_protected_against_it() -> PolarsResult<()> {
    let mut march = vec![one_way(&MARCH)];
    let (_, kept) = protect_release(&[], &release_id(3, 8), &mut march, 10)?;
    let mut february = vec![one_way(&FEBRUARY)];
    let (audit, _) = protect_release(&[kept], &release_id(2, 8), &mut february, 10)?;
    assert_protected(&audit, 10);
    assert_eq!(
        small_differences(&february[0], &march[0], 10),
        Vec::<String>::new()
    );
    Ok(())
}

#[test]
fn a_blank_between_two_printed_releases_cannot_be_pinned() -> PolarsResult<()> {
    // January and March print 16-24 dissatisfied as 20 and 25; February must not be blank
    // between them (20..25 is narrower than the threshold) unless March hides its count too.
    let january = [
        ("16-24", [25, 8, 20]),
        ("25-34", [30, 10, 15]),
        ("35-44", [40, 15, 25]),
    ];
    let february = [
        ("16-24", [30, 10, 23]),
        ("25-34", [40, 12, 19]),
        ("35-44", [50, 20, 30]),
    ];
    let march = [
        ("16-24", [40, 20, 25]),
        ("25-34", [45, 22, 29]),
        ("35-44", [60, 30, 40]),
    ];
    let mut history = Vec::new();
    let mut published = Vec::new();
    for (month, rows) in [(1, &january), (2, &february), (3, &march)] {
        let mut t = vec![one_way(rows)];
        let (audit, kept) =
            protect_release(&history, &release_id(month, month as i64), &mut t, 10)?;
        assert_protected(&audit, 10);
        history.push(kept);
        published.push(t.remove(0));
    }
    for (i, a) in published.iter().enumerate() {
        for b in &published[i + 1..] {
            assert_eq!(small_differences(a, b, 10), Vec::<String>::new());
        }
    }
    // Wherever February is blank, January and March do not both print 16-24 dissatisfied.
    if is_blank(&published[1], "negative", 0) {
        assert!(is_blank(&published[0], "negative", 0) || is_blank(&published[2], "negative", 0));
    }
    Ok(())
}

#[test]
fn the_same_publication_made_again_keeps_its_blanks() -> PolarsResult<()> {
    let mut february = vec![one_way(&FEBRUARY)];
    let (_, feb_kept) = protect_release(&[], &release_id(2, 7), &mut february, 10)?;
    let mut march = vec![one_way(&MARCH)];
    let (_, march_kept) = protect_release(
        std::slice::from_ref(&feb_kept),
        &release_id(3, 8),
        &mut march,
        10,
    )?;
    // February again, from the same lake version, after March went out: printed as before.
    let mut again = vec![one_way(&FEBRUARY)];
    let (audit, _) = protect_release(&[feb_kept, march_kept], &release_id(2, 7), &mut again, 10)?;
    assert_protected(&audit, 10);
    assert_eq!(printed(&again[0]), printed(&february[0]));
    Ok(())
}

#[test]
fn a_kept_release_reads_back_as_written() -> anyhow::Result<()> {
    let mut february = vec![one_way(&FEBRUARY)];
    let (_, kept) = protect_release(&[], &release_id(2, 7), &mut february, 10)?;
    let dir = tempfile::tempdir()?;
    let name = releases::file_name(&kept.id(), "2025-02");
    assert_eq!(name, "2025-02@7.json");
    releases::save(dir.path(), &name, &kept)?;
    let back = releases::load_all(dir.path())?;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].id(), kept.id());
    assert_eq!(back[0].cube.cells.len(), kept.cube.cells.len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(&name))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only");
    }
    std::fs::write(dir.path().join("broken.json"), "{")?;
    let err = releases::load_all(dir.path())
        .err()
        .map(|e| format!("{e:#}"));
    assert!(err.is_some_and(|e| e.contains("broken.json")));
    Ok(())
}
