//! Data-quality and lineage tables from the lake's manifest: how many files and rows stand behind
//! the figures, how many were rejected or duplicated, and the content hash of every file.

use polars::prelude::*;

use super::percent;

/// Per pipeline and source: files, rows read / accepted / rejected / duplicates / excluded (out
/// of scope under a row filter, with the rules' counts), the share rejected (of the rows in
/// scope) and the first and last dates the accepted rows cover.
pub fn data_quality(manifest: LazyFrame) -> LazyFrame {
    let sum = |name: &str| col(name).sum().cast(DataType::Int64).alias(name);
    let rules = rules_summed(manifest.clone());
    manifest
        .group_by([col("pipeline"), col("source"), col("table")])
        .agg([
            col("file_id").count().cast(DataType::Int64).alias("files"),
            sum("rows_read"),
            sum("accepted"),
            sum("rejected"),
            sum("duplicates"),
            sum("excluded"),
            col("first_date").min().alias("first_date"),
            col("last_date").max().alias("last_date"),
        ])
        .join(
            rules,
            [col("pipeline"), col("source"), col("table")],
            [col("pipeline"), col("source"), col("table")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("excluded_by_rule").fill_null(lit("")),
            percent(col("rejected"), col("rows_read") - col("excluded")).alias("rejected_pct"),
        ])
        .sort(["pipeline", "source"], SortMultipleOptions::default())
}

/// Per (pipeline, source, table): the `rule=n; ...` texts of its files summed per rule, in rule
/// order, as one text (`excluded_by_rule`).
fn rules_summed(manifest: LazyFrame) -> LazyFrame {
    let keys = [col("pipeline"), col("source"), col("table")];
    let pair = col("pair");
    manifest
        .select(
            keys.iter()
                .cloned()
                .chain([col("excluded_by_rule").str().split(lit("; ")).alias("pair")])
                .collect::<Vec<_>>(),
        )
        .explode(
            by_name(["pair"], true, false),
            ExplodeOptions {
                empty_as_null: true,
                keep_nulls: false,
            },
        )
        .with_columns([
            pair.clone()
                .str()
                .extract(lit(r"^(.*)=(\d+)$"), 1)
                .alias("rule"),
            pair.str()
                .extract(lit(r"^(.*)=(\d+)$"), 2)
                .cast(DataType::Int64)
                .alias("n"),
        ])
        .filter(col("rule").is_not_null().and(col("n").is_not_null()))
        .group_by(
            keys.iter()
                .cloned()
                .chain([col("rule")])
                .collect::<Vec<_>>(),
        )
        .agg([col("n").sum()])
        .sort(["rule"], SortMultipleOptions::default())
        .group_by(keys)
        .agg([
            concat_str([col("rule"), col("n").cast(DataType::String)], "=", false)
                .str()
                .join("; ", true)
                .alias("excluded_by_rule"),
        ])
}

/// One row per file: where it came from, its SHA-256, counts and when it was ingested.
pub fn lineage(manifest: LazyFrame) -> LazyFrame {
    manifest
        .select([
            col("pipeline"),
            col("source"),
            col("path"),
            col("sha256"),
            col("encoding"),
            col("size_bytes").cast(DataType::Int64),
            col("rows_read").cast(DataType::Int64),
            col("accepted").cast(DataType::Int64),
            col("rejected").cast(DataType::Int64),
            col("duplicates").cast(DataType::Int64),
            col("excluded").cast(DataType::Int64),
            col("excluded_by_rule"),
            col("first_date"),
            col("last_date"),
            col("ingested_at"),
        ])
        .sort(
            ["pipeline", "source", "path"],
            SortMultipleOptions::default(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_quality_sums_files_per_source() -> PolarsResult<()> {
        let manifest = df!(
            "pipeline" => ["p", "p", "p"],
            "source" => ["calls", "calls", "visits"],
            "table" => ["contacts", "contacts", "contacts"],
            "file_id" => ["a", "b", "c"],
            "rows_read" => [100u64, 50, 10],
            "accepted" => [90u64, 45, 10],
            "rejected" => [6u64, 5, 0],
            "duplicates" => [4u64, 0, 0],
            "excluded" => [10u64, 5, 0],
            "excluded_by_rule" => ["staff=7; test=3", "staff=5", ""],
            "first_date" => ["2024-04-01", "2024-05-01", "2024-04-02"],
            "last_date" => ["2024-04-30", "2024-05-31", "2024-04-30"],
        )?;
        let out = data_quality(manifest.lazy()).collect()?;
        assert_eq!(out.height(), 2);
        let calls = |name: &str| {
            out.column(name)
                .and_then(|c| c.get(0).map(|v| v.to_string()))
        };
        assert_eq!(calls("files")?, "2");
        assert_eq!(calls("rows_read")?, "150");
        assert_eq!(calls("rejected")?, "11");
        assert_eq!(calls("excluded")?, "15");
        assert_eq!(calls("excluded_by_rule")?, "\"staff=12; test=3\"");
        assert_eq!(calls("last_date")?, "\"2024-05-31\"");
        let share = out
            .column("rejected_pct")?
            .f64()?
            .get(0)
            .unwrap_or(f64::NAN);
        // Of the rows in scope: 150 read, 15 excluded.
        assert!((share - 11.0 / 135.0 * 100.0).abs() < 1e-9);
        let visits = out.column("excluded_by_rule")?.str()?.get(1);
        assert_eq!(visits, Some(""));
        Ok(())
    }
}
