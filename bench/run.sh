#!/usr/bin/env bash
# Ingest and KPI benchmark. For each size (default 1 million and 10 million call records) it
# generates the sample exports at that scale (other sources in proportion, injected defects
# included), then times (1) ingest of the telephony source alone into an empty lake, (2) ingest of
# all four sources into an empty lake and (3) every KPI for a financial year over that lake, and
# prints rows, seconds, rows per second and peak memory. Usage: bench/run.sh [calls ...]
# Needs GNU time (/usr/bin/time). Data goes to a temporary folder, deleted afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(1000000 10000000); fi

. bench/common.sh

# timed LABEL MB ROWS_FROM -- COMMAND...: runs a command under GNU time and prints one result line;
# the row count comes from the ingest table (ROWS_FROM=ingest) or is the lake's (ROWS_FROM=lake).
timed() {
  local label=$1 csv_mb=$2 rows_from=$3
  shift 4
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" ||
    { echo "$label failed:"; cat "$work/err.txt"; exit 1; }
  local seconds peak_kb rows
  read -r seconds peak_kb <"$work/time.txt"
  if [ "$rows_from" = ingest ]; then
    rows=$(awk '$1 == "total" { print $2 }' "$work/out.txt")
    lake_rows=$(awk '$1 == "total" { print $3 }' "$work/out.txt")
  else
    rows=$lake_rows
  fi
  awk -v l="$label" -v mb="$csv_mb" -v rows="$rows" -v s="$seconds" -v kb="$peak_kb" \
    'BEGIN { printf "%-38s %8s %12d %9.1f %12.0f %9.0f\n", l, mb, rows, s, rows / s, kb / 1024 }'
}

printf '%-38s %8s %12s %9s %12s %9s\n' "step" "CSV MB" "rows" "seconds" "rows/second" "peak MB"
for n in "${sizes[@]}"; do
  rm -rf "$work/pipelines" "$work/sample_data"
  cp -r pipelines "$work/pipelines"
  "$cex" generate --out "$work/sample_data" --calls "$n" 2>/dev/null
  calls_mb=$(du -sm "$work/sample_data/telephony" | cut -f1)
  all_mb=$(du -sm "$work/sample_data" | cut -f1)
  rm -rf "$work/lake"
  timed "ingest $n calls (telephony only)" "$calls_mb" ingest -- \
    "$cex" ingest "$work/pipelines/sample.toml" --source telephony
  rm -rf "$work/lake"
  timed "ingest $n calls + other sources" "$all_mb" ingest -- \
    "$cex" ingest "$work/pipelines/sample.toml"
  timed "all KPIs for 2023/24 over that lake" "-" lake -- \
    "$cex" kpi "$work/pipelines/sample.toml" --fy 2023/24
done
