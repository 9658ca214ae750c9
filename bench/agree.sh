#!/usr/bin/env bash
# Does the Python polars reference (bench/polars_ref.py) agree with cex? For each size (default
# 100k 1m) generates the exports, runs `cex run` over the three CSV sources for 2023/24 (as
# bench/compare.sh times it), the unsuppressed analyst's equality tables (--by channel, age_band,
# age_band,channel) and the reference, then compares them cell by cell and the reference's ingest
# counts with the generator's (bench/agree.py). Exit code 1 on any difference.
#   bench/agree.sh [100k 1m 10m ...]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(100k 1m); fi
calls_of() { case "$1" in *m) echo $((${1%m} * 1000000)) ;; *k) echo $((${1%k} * 1000)) ;; *) echo "$1" ;; esac; }
python3 -c "import polars" 2>/dev/null || python3 -m pip install --quiet --user -r bench/requirements.txt
. bench/common.sh
status=0
for size in "${sizes[@]}"; do
  rm -rf "$work"/*
  cp -r pipelines "$work/pipelines"
  "$cex" generate --out "$work/sample_data" --calls "$(calls_of "$size")" 2>/dev/null
  "$cex" run "$work/pipelines/sample.toml" --source telephony,webforms,satisfaction --fy 2023/24 >/dev/null 2>&1
  for by in channel age_band age_band,channel; do
    "$cex" equality "$work/pipelines/sample.toml" --fy 2023/24 --by "$by" --unsuppressed >/dev/null 2>&1
  done
  python3 bench/polars_ref.py "$work/sample_data" "$work/polars_lake" "$work/polars_out" >/dev/null
  echo "== $size calls"
  python3 bench/agree.py "$work/out/fy2023-24" "$work/polars_out" "$work/sample_data/expected_counts.json" || status=1
done
exit $status
