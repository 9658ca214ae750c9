#!/usr/bin/env bash
# cex against DuckDB and a Python polars script on the whole monthly job, and the monthly increment.
#
#   bench/compare.sh [1m 10m 100m ...]    (default: 1m 10m)
#     For each size (call records over three years; web forms, visits and survey responses in
#     proportion, injected defects included) generates the exports, then times, side by side:
#       - cex run over the three CSV sources (telephony, web forms, survey): ingest, KPIs, equality;
#       - a DuckDB script doing the same with the same sources: every export to partitioned zstd
#         Parquet (each record once), then monthly volumes, contact-centre figures, satisfaction
#         by channel and by age band (DuckDB 2.0 from PyPI cannot read the visits workbooks
#         without a downloadable extension, so they are left out of both);
#       - bench/polars_ref.py, the same job in Python polars written from cex's documented rules
#         (mapping through the lookups, every check cex makes on these sources, rejects, each record
#         once, partitioned zstd Parquet, then volumes, contact-centre figures, satisfaction by
#         channel and by age band); bench/agree.sh checks that its tables agree with cex's;
#       - cex run over all four sources, for the record;
#     and prints seconds, peak memory and the ratio, then checks the cex lake against the
#     generator's expected counts (bench/reconcile.py). With PLAIN=1, cex runs the pipeline
#     without customer keys and right first time (as below), the same work as the other two:
#     they key and link no customers. The machine's speed drifts by 10-20%
#     from one minute to the next, so cex, DuckDB and polars are run RUNS times each (default 3),
#     rotating which goes first, and the ratios (cex / DuckDB, cex / polars) are given per run and
#     of the medians. After each cex run, its stage timings (out/last-run.json).
#
#   bench/compare.sh monthly [10m ...]    (default: 10m)
#     Builds a three-year lake without March 2025 (bench/split_month.py takes that month out of
#     the yearly exports), then adds March 2025's exports and times `cex run --period 2025-03`
#     (ingest of the new files, KPIs and equality for the month) RUNS times, each from a copy of
#     the lake without March, reporting each stage's seconds and the medians of the run and of
#     the KPI stage. February's run is made once before (`cex run --period 2025-02`), as the
#     month before's would have been, so that the sums it keeps in the lake are there. With
#     PLAIN=1, the pipeline without right first time (as bench/repeats.sh makes it): the KPI
#     stage then reads monthly sums only, whatever the history's size.
#
# GNU time and python3 needed; DuckDB and polars are installed from PyPI for the user if missing
# (bench/requirements.txt). Data goes
# to a temporary folder (under $BENCH_TMP if set), deleted afterwards. 100m needs about 25 GB of
# disk and a few minutes per tool.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

mode=compare
if [ "${1:-}" = monthly ]; then
  mode=monthly
  shift
fi
if [ $# -gt 0 ]; then sizes=("$@"); elif [ $mode = monthly ]; then sizes=(10m); else sizes=(1m 10m); fi
calls_of() { # 1m -> 1000000; plain numbers pass through
  case "$1" in
    *m) echo $((${1%m} * 1000000)) ;;
    *k) echo $((${1%k} * 1000)) ;;
    *) echo "$1" ;;
  esac
}
python3 -c "import duckdb, deltalake, polars" 2>/dev/null || python3 -m pip install --quiet --user -r bench/requirements.txt

. bench/common.sh

cat >"$work/duck.py" <<'PY'
import glob, os, subprocess, sys, duckdb
data, lake = sys.argv[1], sys.argv[2]
con = duckdb.connect()
os.makedirs(lake, exist_ok=True)
# DuckDB reads UTF-8 and strict Latin-1 only: the Windows-1252 web-form exports are converted
# first (part of DuckDB's time, as decoding is part of cex's).
utf8 = os.path.join(os.path.dirname(lake), "webforms_utf8")
os.makedirs(utf8, exist_ok=True)
for f in glob.glob(f"{data}/webforms/*.csv"):
    with open(os.path.join(utf8, os.path.basename(f)), "wb") as out:
        subprocess.run(["iconv", "-c", "-f", "WINDOWS-1252", "-t", "UTF-8", f], stdout=out, check=True)
def copy(select, table):
    con.execute(f"COPY ({select}) TO '{lake}/{table}' "
                "(FORMAT parquet, PARTITION_BY (source, year, month), COMPRESSION zstd)")
# Ingest: each export read as text, the timestamp parsed, rows without a key or a valid time
# dropped, each record kept once (monthly exports overlap), partitioned by source and month.
copy(f"""
  SELECT DISTINCT ON (record_key) *, year(ts) AS year, month(ts) AS month FROM (
    SELECT 'telephony' AS source, "Contact ID" AS record_key, "Queue" AS category,
           "Disposition" AS outcome,
           try_cast("Initiation Timestamp" AS TIMESTAMPTZ) AT TIME ZONE 'Europe/London' AS ts,
           try_cast("Queue Wait (s)" AS DOUBLE) AS wait_seconds,
           try_cast("Talk Time (s)" AS DOUBLE) + try_cast("After Call Work (s)" AS DOUBLE) AS handle_seconds
    FROM read_csv('{data}/telephony/*.csv', header = true, all_varchar = true)
    UNION ALL
    SELECT 'webforms', reference, form_name, status,
           try_strptime(submitted, '%d/%m/%Y %H:%M:%S'), NULL, NULL
    FROM read_csv('{utf8}/*.csv', header = true, all_varchar = true,
                  normalize_names = true, union_by_name = true, null_padding = true)
  ) WHERE record_key IS NOT NULL AND ts IS NOT NULL""", "contacts")
copy(f"""
  SELECT DISTINCT ON ("Response ID") 'satisfaction' AS source, "Response ID" AS record_key,
         "Channel" AS channel, "Service" AS service, trim("Rating") AS rating,
         "Age Band" AS age_band, "Sex" AS sex, ts, year(ts) AS year, month(ts) AS month
  FROM (SELECT *, try_strptime("Response Date", '%Y-%m-%d %H:%M:%S') AS ts
        FROM read_csv('{data}/satisfaction/*.csv', header = true, all_varchar = true))
  WHERE "Response ID" IS NOT NULL AND ts IS NOT NULL""", "responses")
contacts = f"read_parquet('{lake}/contacts/**/*.parquet', hive_partitioning = true)"
responses = f"read_parquet('{lake}/responses/**/*.parquet', hive_partitioning = true)"
n = 0
for q in [
    # Monthly volumes by source, category and outcome over the lake.
    f"SELECT source, year, month, category, outcome, count(*) FROM {contacts} GROUP BY ALL",
    # Contact-centre figures by month and queue.
    f"""SELECT year, month, category, count(*) AS offered,
           count(*) FILTER (WHERE outcome = 'Answered') AS answered,
           count(*) FILTER (WHERE outcome = 'Abandoned') AS abandoned,
           avg(wait_seconds) FILTER (WHERE outcome = 'Answered') AS asa,
           avg(handle_seconds) FILTER (WHERE outcome = 'Answered') AS aht,
           count(*) FILTER (WHERE outcome = 'Answered' AND wait_seconds <= 20) / count(*) AS sl
        FROM {contacts} WHERE source = 'telephony' GROUP BY ALL""",
    # Satisfaction by channel and by age band for the financial year 2023/24.
    f"""SELECT channel, count(*), avg(CASE lower(rating) WHEN 'good' THEN 1 WHEN 'poor' THEN -1
           ELSE 0 END) FROM {responses}
        WHERE ts >= '2023-04-01' AND ts < '2024-04-01' GROUP BY ALL""",
    f"""SELECT age_band, channel, count(*), count(*) FILTER (WHERE lower(rating) = 'poor')
        FROM {responses} WHERE ts >= '2023-04-01' AND ts < '2024-04-01' GROUP BY ALL""",
]:
    n += len(con.execute(q).fetchall())
print(n)
PY

measure() { # COMMAND... -> "seconds peak_mb"
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" ||
    { echo "$1 failed:" >&2; cat "$work/err.txt" >&2; exit 1; }
  awk '{ printf "%.2f %.0f", $1, $2 / 1024 }' "$work/time.txt"
}
load() { awk '{ print $1 }' /proc/loadavg; }

setup() { # size -> generated exports in $work/sample_data, pipelines in $work/pipelines
  rm -rf "$work/pipelines" "$work/sample_data" "$work/lake" "$work/out" "$work/duck_lake" \
    "$work/webforms_utf8" "$work/new_month" "$work/polars_lake"
  cp -r pipelines "$work/pipelines"
  "$cex" generate --out "$work/sample_data" --calls "$(calls_of "$1")" 2>/dev/null
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

runs=${RUNS:-3}
if [ $mode = compare ]; then
  printf '%-6s %-44s %9s %9s %6s\n' "calls" "tool" "seconds" "peak MB" "load"
  for size in "${sizes[@]}"; do
    setup "$size"
    csv=(--source telephony,webforms,satisfaction)
    pipeline="$work/pipelines/sample.toml"
    if [ "${PLAIN:-0}" = 1 ]; then
      plain_pipeline pipelines/sample.toml "$work/pipelines/plain.toml"
      pipeline="$work/pipelines/plain.toml"
    fi
    cex_run() {
      rm -rf "$work/lake" "$work/out"
      read -r cs cm <<<"$(measure "$cex" run "$pipeline" "${csv[@]}" --fy 2023/24)"
      printf '%-6s %-44s %9s %9s %6s\n' "$size" "cex run, 3 CSV sources (ingest+KPIs+equality)" "$cs" "$cm" "$(load)"
      echo "$cs $cm" >>"$work/cex.txt"
      python3 - "$work/out/last-run.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
print("       stages: " + ", ".join(f"{s['stage']} {s['seconds']:.2f} s" for s in run["stages"]))
PY
    }
    duck_run() {
      rm -rf "$work/duck_lake" "$work/webforms_utf8"
      read -r ds dm <<<"$(measure python3 "$work/duck.py" "$work/sample_data" "$work/duck_lake")"
      printf '%-6s %-44s %9s %9s %6s\n' "$size" "DuckDB, 3 CSV sources (ingest+4 queries)" "$ds" "$dm" "$(load)"
      echo "$ds $dm" >>"$work/duck.txt"
    }
    polars_run() {
      rm -rf "$work/polars_lake"
      read -r ps pm <<<"$(measure python3 bench/polars_ref.py "$work/sample_data" "$work/polars_lake")"
      printf '%-6s %-44s %9s %9s %6s\n' "$size" "polars, 3 CSV sources (ingest+5 tables)" "$ps" "$pm" "$(load)"
      echo "$ps $pm" >>"$work/polars.txt"
    }
    rm -f "$work/cex.txt" "$work/duck.txt" "$work/polars.txt"
    for ((i = 1; i <= runs; i++)); do
      case $((i % 3)) in
        1) cex_run; duck_run; polars_run ;;
        2) duck_run; polars_run; cex_run ;;
        0) polars_run; cex_run; duck_run ;;
      esac
    done
    cs=$(awk '{ print $1 }' "$work/cex.txt" | median); cm=$(awk '{ print $2 }' "$work/cex.txt" | median)
    for other in duck:DuckDB polars:polars; do
      paste -d' ' "$work/cex.txt" "$work/${other%%:*}.txt" |
        awk -v size="$size" -v name="${other#*:}" '{ r = $1 / $3; s = s sprintf("%s%.2f", NR > 1 ? ", " : "", r) }
          END { printf "%-6s %-44s %s\n", size, "ratio cex / " name ", run by run", s }'
      os=$(awk '{ print $1 }' "$work/${other%%:*}.txt" | median); om=$(awk '{ print $2 }' "$work/${other%%:*}.txt" | median)
      awk -v size="$size" -v name="${other#*:}" -v a="$cs" -v b="$os" -v c="$cm" -v d="$om" -v n="$runs" \
        'BEGIN { printf "%-6s %-44s %9.2f %9.2f\n", size, "cex / " name ", medians of " n " (time, memory)", a / b, c / d }'
    done
    rm -rf "$work/lake" "$work/out" "$work/duck_lake" "$work/webforms_utf8" "$work/polars_lake"
    read -r as am <<<"$(measure "$cex" run "$pipeline" --fy 2023/24)"
    printf '%-6s %-44s %9s %9s %6s\n' "$size" "cex run, all 4 sources" "$as" "$am" "$(load)"
    python3 bench/reconcile.py "$work/lake" "$work/sample_data/expected_counts.json" | sed 's/^/       /'
  done
else
  printf '%-6s %-40s %9s %9s %6s\n' "calls" "step" "seconds" "peak MB" "load"
  for size in "${sizes[@]}"; do
    setup "$size"
    python3 bench/split_month.py "$work/sample_data" 2025-03 "$work/new_month"
    pipeline="$work/pipelines/sample.toml"
    if [ "${PLAIN:-0}" = 1 ]; then
      plain_pipeline pipelines/sample.toml "$work/pipelines/plain.toml"
      pipeline="$work/pipelines/plain.toml"
    fi
    read -r bs bm <<<"$(measure "$cex" ingest "$pipeline")"
    printf '%-6s %-40s %9s %9s %6s\n' "$size" "lake without March 2025 (cex ingest)" "$bs" "$bm" "$(load)"
    # February's run, as the month before would have been run: it keeps in the lake the sums a
    # later run reads (the settled months of right first time with customer keys, each month's
    # answers for the equality tables), as in operation.
    read -r fs fm <<<"$(measure "$cex" run "$pipeline" --period 2025-02)"
    printf '%-6s %-40s %9s %9s %6s\n' "$size" "last month's run (cex run, 2025-02)" "$fs" "$fm" "$(load)"
    cp -r "$work/new_month/." "$work/sample_data/"
    # Each run starts from the same lake (without March), so each ingests the new month.
    mv "$work/lake" "$work/lake_before"
    rm -f "$work/monthly.txt" "$work/kpi.txt"
    for ((i = 1; i <= runs; i++)); do
      rm -rf "$work/lake" "$work/out"
      cp -r "$work/lake_before" "$work/lake"
      read -r ms mm <<<"$(measure "$cex" run "$pipeline" --period 2025-03)"
      printf '%-6s %-40s %9s %9s %6s\n' "$size" "cex run --period 2025-03 (new month)" "$ms" "$mm" "$(load)"
      echo "$ms" >>"$work/monthly.txt"
      python3 - "$work/out/last-run.json" "$work/kpi.txt" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
print("       stages: " + ", ".join(f"{s['stage']} {s['seconds']:.2f} s" for s in run["stages"])
      + f"; {run['ingest']['rows_read']} new rows in {run['ingest']['files']} files")
with open(sys.argv[2], "a") as kpi:
    print(next((s["seconds"] for s in run["stages"] if s["stage"] == "kpi"), 0), file=kpi)
PY
    done
    printf '%-6s %-40s %9s\n' "$size" "median of $runs monthly runs" "$(median <"$work/monthly.txt")"
    printf '%-6s %-40s %9s\n' "$size" "median KPI stage" "$(median <"$work/kpi.txt")"
    rm -rf "$work/lake_before"
  done
fi
