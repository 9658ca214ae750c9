#!/usr/bin/env bash
# cex against DuckDB on the same work: telephony exports -> partitioned zstd Parquet -> monthly
# contact-centre figures. For each size (default 1 million and 10 million call records) it
# generates the exports, then times `cex run --source telephony --skip equality` and a DuckDB
# script doing the same ingest and a monthly KPI query, and prints seconds, peak memory and the
# ratio. DuckDB comes from PyPI (installed for the current user if missing). GNU time needed.
# Usage: bench/duckdb.sh [calls ...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(1000000 10000000); fi
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet --user duckdb

. bench/common.sh
cat >"$work/duck.py" <<'PY'
import sys, duckdb
data, lake = sys.argv[1], sys.argv[2]
con = duckdb.connect()
# Ingest: read every monthly export, keep each call once (exports overlap by a day), partition.
con.execute(f"""
COPY (
  SELECT DISTINCT ON ("Contact ID") *,
         year(try_cast("Initiation Timestamp" AS TIMESTAMPTZ) AT TIME ZONE 'Europe/London') AS year,
         month(try_cast("Initiation Timestamp" AS TIMESTAMPTZ) AT TIME ZONE 'Europe/London') AS month
  FROM read_csv('{data}/telephony/*.csv', header = true, all_varchar = true)
  WHERE "Contact ID" IS NOT NULL
    AND try_cast("Initiation Timestamp" AS TIMESTAMPTZ) IS NOT NULL
) TO '{lake}' (FORMAT parquet, PARTITION_BY (year, month), COMPRESSION zstd)
""")
# Monthly contact-centre KPIs per queue.
rows = con.execute(f"""
SELECT year, month, "Queue",
       count(*) AS offered,
       count(*) FILTER (WHERE "Disposition" = 'Answered') AS answered,
       count(*) FILTER (WHERE "Disposition" = 'Abandoned') AS abandoned,
       avg(try_cast("Queue Wait (s)" AS DOUBLE)) FILTER (WHERE "Disposition" = 'Answered') AS asa,
       count(*) FILTER (WHERE "Disposition" = 'Answered'
                        AND try_cast("Queue Wait (s)" AS DOUBLE) <= 20) / count(*) AS service_level
FROM read_parquet('{lake}/**/*.parquet', hive_partitioning = true)
GROUP BY ALL
""").fetchall()
print(len(rows))
PY

measure() { # COMMAND... -> "seconds peak_mb"
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" ||
    { echo "$1 failed:" >&2; cat "$work/err.txt" >&2; exit 1; }
  awk '{ printf "%.1f %.0f", $1, $2 / 1024 }' "$work/time.txt"
}

printf '%-12s %-28s %9s %9s\n' "calls" "tool" "seconds" "peak MB"
for n in "${sizes[@]}"; do
  rm -rf "$work/pipelines" "$work/sample_data" "$work/lake" "$work/out" "$work/duck_lake"
  cp -r pipelines "$work/pipelines"
  "$cex" generate --out "$work/sample_data" --calls "$n" 2>/dev/null
  read -r cs cm <<<"$(measure "$cex" run "$work/pipelines/sample.toml" --source telephony --skip equality --fy 2023/24)"
  read -r ds dm <<<"$(measure python3 "$work/duck.py" "$work/sample_data" "$work/duck_lake")"
  printf '%-12s %-28s %9s %9s\n' "$n" "cex (ingest + all KPIs)" "$cs" "$cm"
  printf '%-12s %-28s %9s %9s\n' "$n" "DuckDB (ingest + 1 query)" "$ds" "$dm"
  awk -v a="$cs" -v b="$ds" -v c="$cm" -v d="$dm" 'BEGIN { printf "%-12s %-28s %9.2f %9.2f\n", "", "ratio cex / DuckDB", a / b, c / d }'
done
