#!/usr/bin/env bash
# Ingest benchmark: generates 1 million and 10 million call records (with the other sources in
# proportion and the usual injected defects), ingests each into an empty lake with the sample
# pipeline, and prints rows per second and peak memory. Usage: bench/ingest.sh [sizes...]
# Needs GNU time (/usr/bin/time) for peak memory. Data goes to a temporary folder, deleted after.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(1000000 10000000); fi

cargo build --release --quiet
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$(pwd)/$target_dir" ;; esac
cex="$target_dir/release/cex"

printf '%-12s %-10s %12s %10s %14s %12s\n' "calls" "csv MB" "rows read" "seconds" "rows/second" "peak MB"
for n in "${sizes[@]}"; do
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r pipelines "$work/pipelines"
  "$cex" generate --out "$work/sample_data" --calls "$n" 2>/dev/null
  csv_mb=$(du -sm "$work/sample_data" | cut -f1)
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$cex" ingest "$work/pipelines/sample.toml" >"$work/ingest.txt" 2>"$work/ingest.err" || {
    echo "ingest failed for $n calls:"; cat "$work/ingest.err"; exit 1; }
  read -r seconds peak_kb <"$work/time.txt"
  rows=$(awk '$1 == "total" { print $2 }' "$work/ingest.txt")
  awk -v n="$n" -v mb="$csv_mb" -v rows="$rows" -v s="$seconds" -v kb="$peak_kb" \
    'BEGIN { printf "%-12s %-10s %12d %10.1f %14.0f %12.0f\n", n, mb, rows, s, rows / s, kb / 1024 }'
  rm -rf "$work"
  trap - EXIT
done
