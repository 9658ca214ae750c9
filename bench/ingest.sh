#!/usr/bin/env bash
# Ingest benchmark. For each size (default 1 million and 10 million call records) it generates
# the sample exports at that scale (other sources in proportion, injected defects included), then
# ingests into an empty lake (1) the telephony source alone and (2) all four sources, and prints
# rows read, seconds, rows per second and peak memory. Usage: bench/ingest.sh [calls ...]
# Needs GNU time (/usr/bin/time). Data goes to a temporary folder, deleted afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(1000000 10000000); fi

cargo build --release --quiet
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$(pwd)/$target_dir" ;; esac
cex="$target_dir/release/cex"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run LABEL CSV_MB [cex ingest args...]: one timed ingest into an empty lake, one result line.
run() {
  local label=$1 csv_mb=$2
  shift 2
  rm -rf "$work/lake"
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$cex" ingest "$work/pipelines/sample.toml" "$@" \
    >"$work/ingest.txt" 2>"$work/ingest.err" || { echo "ingest failed:"; cat "$work/ingest.err"; exit 1; }
  local seconds peak_kb rows
  read -r seconds peak_kb <"$work/time.txt"
  rows=$(awk '$1 == "total" { print $2 }' "$work/ingest.txt")
  awk -v l="$label" -v mb="$csv_mb" -v rows="$rows" -v s="$seconds" -v kb="$peak_kb" \
    'BEGIN { printf "%-34s %8s %12d %9.1f %12.0f %9.0f\n", l, mb, rows, s, rows / s, kb / 1024 }'
}

printf '%-34s %8s %12s %9s %12s %9s\n' "data" "CSV MB" "rows read" "seconds" "rows/second" "peak MB"
for n in "${sizes[@]}"; do
  rm -rf "$work/pipelines" "$work/sample_data"
  cp -r pipelines "$work/pipelines"
  "$cex" generate --out "$work/sample_data" --calls "$n" 2>/dev/null
  calls_mb=$(du -sm "$work/sample_data/telephony" | cut -f1)
  all_mb=$(du -sm "$work/sample_data" | cut -f1)
  run "$n calls (telephony only)" "$calls_mb" --source telephony
  run "$n calls + other sources" "$all_mb"
done
