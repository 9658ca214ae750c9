//! Disclosure control for published equality tables: primary suppression of every count below the
//! threshold (and everything derived from it), then secondary suppression so no suppressed count can
//! be recovered by subtraction from a published total. Works on small aggregated tables only.

use polars::prelude::*;

/// Which columns of a table are counts and what is derived from them.
pub struct Layout {
    /// The count the parts sum to (a group's respondents).
    pub cohort: String,
    /// Counts that sum to the cohort (sentiments, or channels).
    pub parts: Vec<String>,
    /// For a part, the columns derived from it alone (its share, its interval).
    pub derived: Vec<(String, Vec<String>)>,
    /// Columns derived from every part together (hidden when any part is).
    pub derived_from_all: Vec<String>,
    /// Columns derived from the cohort (a share of all respondents: hidden with the cohort).
    pub derived_from_cohort: Vec<String>,
}

impl Layout {
    /// The satisfaction breakdown: responses = positive + neutral + negative.
    pub fn satisfaction() -> Layout {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Layout {
            cohort: "responses".into(),
            parts: s(&["positive", "neutral", "negative"]),
            derived: vec![
                (
                    "positive".into(),
                    s(&["satisfied_pct", "satisfied_low", "satisfied_high"]),
                ),
                (
                    "negative".into(),
                    s(&["dissatisfied_pct", "dissatisfied_low", "dissatisfied_high"]),
                ),
            ],
            derived_from_all: s(&["net_satisfaction"]),
            derived_from_cohort: s(&["share_pct"]),
        }
    }
}

/// Suppresses a breakdown: counts from 1 to below `threshold` are blanked (never shown as 0) with what is
/// derived from them; when a cohort is published, a second part is blanked if only one is, and
/// when `total_row` (the row index of an all-respondents total) is given, a second cohort is blanked
/// when only one is, so nothing can be recovered by subtraction. A `suppressed` column lists the
/// blanked cells of each row.
pub fn suppress(
    df: &DataFrame,
    threshold: i64,
    total_row: Option<usize>,
) -> PolarsResult<DataFrame> {
    suppress_with(df, threshold, total_row, &Layout::satisfaction())
}

/// [`suppress`] for any table of a cohort and the parts that sum to it.
pub fn suppress_with(
    df: &DataFrame,
    threshold: i64,
    total_row: Option<usize>,
    layout: &Layout,
) -> PolarsResult<DataFrame> {
    let height = df.height();
    let read = |name: &str| -> PolarsResult<Vec<Option<i64>>> {
        Ok(df
            .column(name)?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .collect())
    };
    let cohort = read(&layout.cohort)?;
    let parts: Vec<Vec<Option<i64>>> = layout
        .parts
        .iter()
        .map(|p| read(p))
        .collect::<PolarsResult<_>>()?;
    // 1 to threshold - 1: a true zero is published (it says "none"), as ONS tables do.
    let small = |v: Option<i64>| v.is_some_and(|v| v > 0 && v < threshold);
    let mut hide_cohort: Vec<bool> = cohort.iter().map(|v| small(*v)).collect();
    let mut hide_part: Vec<Vec<bool>> = parts
        .iter()
        .map(|col| col.iter().map(|v| small(*v)).collect())
        .collect();
    // Secondary suppression, repeated until nothing changes.
    loop {
        let mut changed = false;
        for r in 0..height {
            if hide_cohort[r] {
                for p in hide_part.iter_mut() {
                    changed |= !p[r];
                    p[r] = true;
                }
                continue;
            }
            // Cohort published: the hidden parts add up to the cohort minus the others, so they
            // must be more than one and add up to at least the threshold.
            let hidden: Vec<usize> = (0..layout.parts.len())
                .filter(|&p| hide_part[p][r])
                .collect();
            let hidden_sum: i64 = hidden.iter().map(|p| parts[*p][r].unwrap_or(0)).sum();
            if hidden.len() == 1 || (!hidden.is_empty() && hidden_sum < threshold) {
                if let Some(next) =
                    smallest((0..layout.parts.len()).filter(|p| !hide_part[*p][r]), |p| {
                        parts[p][r]
                    })
                {
                    hide_part[next][r] = true;
                    changed = true;
                }
            }
        }
        if let Some(total) = total_row {
            // A published total: the hidden cells of a column add up to the total minus the
            // others, so they must be more than one and add up to at least the threshold.
            let rows = || (0..height).filter(move |r| *r != total);
            let narrow = |hide: &[bool], values: &[Option<i64>]| {
                let hidden: Vec<usize> = rows().filter(|r| hide[*r]).collect();
                let sum: i64 = hidden.iter().map(|r| values[*r].unwrap_or(0)).sum();
                !hide[total] && (hidden.len() == 1 || (!hidden.is_empty() && sum < threshold))
            };
            if narrow(&hide_cohort, &cohort) {
                if let Some(next) = smallest(rows().filter(|r| !hide_cohort[*r]), |r| cohort[r]) {
                    hide_cohort[next] = true;
                    changed = true;
                }
            }
            for p in 0..layout.parts.len() {
                if narrow(&hide_part[p], &parts[p]) {
                    if let Some(next) =
                        smallest(rows().filter(|r| !hide_part[p][*r]), |r| parts[p][r])
                    {
                        hide_part[p][next] = true;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }

    let mut out = df.clone();
    let mut listed: Vec<Vec<&str>> = vec![Vec::new(); height];
    blank(&mut out, &layout.cohort, &hide_cohort, &mut listed)?;
    for (p, name) in layout.parts.iter().enumerate() {
        blank(&mut out, name, &hide_part[p], &mut listed)?;
        for (count, derived) in &layout.derived {
            if count == name {
                for d in derived {
                    if out.column(d).is_ok() {
                        blank(&mut out, d, &hide_part[p], &mut listed)?;
                    }
                }
            }
        }
    }
    let any_part: Vec<bool> = (0..height)
        .map(|r| hide_cohort[r] || hide_part.iter().any(|p| p[r]))
        .collect();
    for d in &layout.derived_from_cohort {
        if out.column(d).is_ok() {
            blank(&mut out, d, &hide_cohort, &mut listed)?;
        }
    }
    for d in &layout.derived_from_all {
        if out.column(d).is_ok() {
            blank(&mut out, d, &any_part, &mut listed)?;
        }
    }
    if out.column("dominant_service_count").is_ok() {
        let counts = read("dominant_service_count")?;
        let hide: Vec<bool> = counts.iter().map(|v| small(*v)).collect();
        blank(&mut out, "dominant_service_count", &hide, &mut listed)?;
        blank(&mut out, "dominant_service", &hide, &mut listed)?;
    }
    let marks: Vec<String> = listed.iter().map(|cells| cells.join(", ")).collect();
    out.with_column(Column::new("suppressed".into(), marks))?;
    Ok(out)
}

/// The index with the smallest non-zero value among `candidates` (ties: the first). A true 0
/// is never taken: hiding it protects nothing.
fn smallest(
    candidates: impl Iterator<Item = usize>,
    value: impl Fn(usize) -> Option<i64>,
) -> Option<usize> {
    candidates
        .filter(|i| value(*i).is_some_and(|v| v > 0))
        .min_by_key(|i| value(*i).unwrap_or(i64::MAX))
}

/// Nulls the cells of `name` where `hide` is set, and lists them.
fn blank<'a>(
    df: &mut DataFrame,
    name: &'a str,
    hide: &[bool],
    listed: &mut [Vec<&'a str>],
) -> PolarsResult<()> {
    if !hide.iter().any(|h| *h) {
        return Ok(());
    }
    let keep =
        BooleanChunked::from_slice("keep".into(), &hide.iter().map(|h| !h).collect::<Vec<_>>());
    let column = df.column(name)?.clone();
    let nulls = Column::full_null(name.into(), column.len(), column.dtype());
    let kept = column.zip_with(&keep, &nulls)?;
    df.replace(name, kept)?;
    for (r, h) in hide.iter().enumerate() {
        if *h && !listed[r].contains(&name) {
            listed[r].push(name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DataFrame {
        // Rows 0-3 are groups, row 4 the published total.
        df!(
            "group" => ["a", "b", "c", "d", "All respondents"],
            "responses" => [4i64, 40, 50, 60, 154],
            "positive" => [2i64, 20, 35, 30, 87],
            "neutral" => [1i64, 12, 12, 20, 45],
            "negative" => [1i64, 8, 3, 10, 22],
            "dissatisfied_pct" => [25.0, 20.0, 6.0, 16.7, 14.3],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn nulls(df: &DataFrame, col: &str) -> Vec<bool> {
        df.column(col)
            .map(|c| c.is_null().iter().map(|v| v.unwrap_or(false)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn no_suppressed_count_can_be_recovered_from_the_published_ones() -> PolarsResult<()> {
        let out = suppress(&table(), 10, Some(4))?;
        // Group a (4 people) is hidden whole; its cohort could be recovered from the total, so the
        // next smallest cohort (b, 40) is hidden too.
        assert_eq!(nulls(&out, "responses"), [true, true, false, false, false]);
        // Negative: a (1), b (8) and c (3) are below 10; d stays.
        assert_eq!(nulls(&out, "negative"), [true, true, true, false, false]);
        assert_eq!(
            nulls(&out, "dissatisfied_pct"),
            [true, true, true, false, false]
        );
        // Row c: its negative count is hidden and its cohort published, so a second part goes.
        let c_hidden = ["positive", "neutral", "negative"]
            .iter()
            .filter(|p| nulls(&out, p)[2])
            .count();
        assert!(c_hidden >= 2);
        // Recovery check: in every row with a published cohort, and in every column with a
        // published total, never exactly one hidden cell.
        for r in 0..5 {
            if !nulls(&out, "responses")[r] {
                let hidden = ["positive", "neutral", "negative"]
                    .iter()
                    .filter(|p| nulls(&out, p)[r])
                    .count();
                assert_ne!(hidden, 1, "row {r}");
            }
        }
        for col in ["responses", "positive", "neutral", "negative"] {
            let hidden = nulls(&out, col)[..4].iter().filter(|h| **h).count();
            assert_ne!(hidden, 1, "column {col}");
        }
        let marks = out.column("suppressed")?.str()?.get(0).map(str::to_string);
        assert!(marks.is_some_and(|m| m.contains("responses") && m.contains("negative")));
        Ok(())
    }

    /// Leaks found by the attacker in tests/disclosure, one table at a time (issue 14).
    #[test]
    fn a_share_of_all_respondents_is_hidden_with_its_group() -> PolarsResult<()> {
        let mut t = table();
        t.with_column(Column::new(
            "share_pct".into(),
            [2.6, 26.0, 32.5, 39.0, 100.0],
        ))?;
        let out = suppress(&t, 10, Some(4))?;
        // Group a (4 people) is hidden: 2.6% of 154 would give it back.
        assert!(nulls(&out, "share_pct")[0]);
        assert!(!nulls(&out, "share_pct")[4]);
        Ok(())
    }

    #[test]
    fn a_true_zero_is_never_the_second_cell() -> PolarsResult<()> {
        // Row c: negative 3 is small; the other parts are 0 and 47. Hiding the 0 would leave
        // 3 = 50 - 47 - 0 recoverable from its bounds; the 47 must go.
        let t = df!(
            "group" => ["a", "b", "c", "All respondents"],
            "responses" => [40i64, 60, 50, 150],
            "positive" => [20i64, 30, 47, 97],
            "neutral" => [12i64, 20, 0, 32],
            "negative" => [8i64, 10, 3, 21],
        )?;
        let out = suppress(&t, 10, Some(3))?;
        assert!(
            !nulls(&out, "neutral")[2],
            "a printed 0 says none; hiding it protects nothing"
        );
        assert!(nulls(&out, "positive")[2]);
        Ok(())
    }

    #[test]
    fn hidden_parts_of_a_printed_cohort_add_up_to_the_threshold() -> PolarsResult<()> {
        // 75-84: N = 40 and positive 35 printed would give neutral + negative = 5, fewer than 10:
        // a third part must go, and likewise in a column with a printed total.
        let t = df!(
            "group" => ["75-84", "b", "c", "All respondents"],
            "responses" => [40i64, 60, 50, 150],
            "positive" => [35i64, 30, 20, 85],
            "neutral" => [3i64, 20, 18, 41],
            "negative" => [2i64, 10, 12, 24],
        )?;
        let out = suppress(&t, 10, Some(3))?;
        let parts = ["positive", "neutral", "negative"];
        for r in 0..4 {
            if nulls(&out, "responses")[r] {
                continue;
            }
            let hidden: i64 = parts
                .iter()
                .filter(|p| nulls(&out, p)[r])
                .map(|p| {
                    t.column(p)
                        .ok()
                        .and_then(|c| c.i64().ok()?.get(r))
                        .unwrap_or(0)
                })
                .sum();
            assert!(
                hidden == 0 || hidden >= 10,
                "row {r}: hidden parts add up to {hidden}"
            );
        }
        for p in parts {
            let hidden: Vec<usize> = (0..3).filter(|r| nulls(&out, p)[*r]).collect();
            let sum: i64 = hidden
                .iter()
                .map(|r| {
                    t.column(p)
                        .ok()
                        .and_then(|c| c.i64().ok()?.get(*r))
                        .unwrap_or(0)
                })
                .sum();
            assert!(
                hidden.is_empty() || (hidden.len() > 1 && sum >= 10),
                "{p}: {hidden:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn a_lower_threshold_shows_small_cells() -> PolarsResult<()> {
        let out = suppress(&table(), 1, Some(4))?;
        assert_eq!(out.column("responses")?.null_count(), 0);
        assert_eq!(out.column("negative")?.null_count(), 0);
        Ok(())
    }
}
