#!/usr/bin/env bash
# What right first time costs (issue 19): the same job with and without customer keys, repeat
# contact and avoidable contact.
#
#   bench/repeats.sh [SIZE]        (SIZE as for compare.sh: 1m, 10m; default 10m)
#
# Generates the exports (the generator writes caller numbers and e-mail addresses), then runs,
# alternating RUNS times (default 3):
#   - keyed: pipelines/sample.toml as shipped (telephony and web forms map customer identifiers:
#     keyed at ingest, repeat contact, resolution as observed and failure demand computed);
#   - plain: the same pipeline with its [customers], [sources.customer], [avoidable] and
#     [[avoidable.targets]] blocks and the telephony's `reason` column taken out;
# each `cex run --fy 2024/25` into an empty lake, and prints seconds, peak memory, the KPI stage's
# seconds (out/last-run.json) and the ratios of the medians (keyed / plain).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-10m}
source bench/common.sh
calls=$(case "$size" in *m) echo $((${size%m} * 1000000)) ;; *k) echo $((${size%k} * 1000)) ;; *) echo "$size" ;; esac)
"$cex" generate --out "$work/sample_data" --calls "$calls" 2>/dev/null
cp -r pipelines "$work/pipelines"
plain_pipeline pipelines/sample.toml "$work/pipelines/plain.toml"
grep -q '^\[sources\.customer\]' "$work/pipelines/sample.toml" ||
  { echo "pipelines/sample.toml maps no customer identifier" >&2; exit 1; }

measure() { # COMMAND... -> "seconds peak_mb"
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" ||
    { echo "$1 failed:" >&2; cat "$work/err.txt" >&2; exit 1; }
  awk '{ printf "%.1f %.0f", $1, $2 / 1024 }' "$work/time.txt"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
kpi_seconds() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(next((s.get("seconds",0) for s in r.get("stages",[]) if s.get("stage")=="kpi"), 0))' \
    "$work/out/last-run.json" 2>/dev/null || echo 0
}

side() { # name pipeline
  rm -rf "$work/lake" "$work/out"
  read -r s m <<<"$(measure "$cex" run "$work/pipelines/$2" --fy 2024/25)"
  k=$(kpi_seconds)
  printf '%-6s %-5s run %7s s %7s MB   kpi stage %6s s   load %s\n' \
    "$1" "$size" "$s" "$m" "$k" "$(awk '{ print $1 }' /proc/loadavg)"
  echo "$s $m $k" >>"$work/$1.txt"
}
runs=${RUNS:-3}
for ((i = 1; i <= runs; i++)); do
  if ((i % 2)); then side plain plain.toml; side keyed sample.toml; else side keyed sample.toml; side plain plain.toml; fi
done
for col in 1 2 3; do
  p=$(awk -v c=$col '{ print $c }' "$work/plain.txt" | median)
  k=$(awk -v c=$col '{ print $c }' "$work/keyed.txt" | median)
  name=$(case $col in 1) echo "time (s)" ;; 2) echo "peak memory (MB)" ;; 3) echo "KPI stage (s)" ;; esac)
  awk -v n="$name" -v p="$p" -v k="$k" 'BEGIN { printf "%-18s plain %8s  keyed %8s  keyed / plain %.2f\n", n, p, k, (p > 0 ? k / p : 0) }'
done
