#!/usr/bin/env bash
# Two builds of cex on the same job, alternating: `cex ingest` over all four sources into an empty
# lake, then `cex run --skip ingest` (KPIs, equality, charts, report) over that lake.
#
#   bench/ab.sh OLD_CEX [SIZE]        (SIZE as for compare.sh: 1m, 10m; default 10m)
#
# OLD_CEX is another build's binary (e.g. one built from an earlier commit with its own
# CARGO_TARGET_DIR); the other side is this checkout's release build. Each side runs RUNS times
# (default 3), alternating which goes first; prints every run and the ratio of the medians
# (new / old) for time and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
size=${2:-10m}
source bench/common.sh
calls=$(case "$size" in *m) echo $((${size%m} * 1000000)) ;; *k) echo $((${size%k} * 1000)) ;; *) echo "$size" ;; esac)
"$cex" generate --out "$work/sample_data" --calls "$calls" 2>/dev/null
cp -r pipelines "$work/pipelines"

measure() { # COMMAND... -> "seconds peak_mb"
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" ||
    { echo "$1 failed:" >&2; cat "$work/err.txt" >&2; exit 1; }
  awk '{ printf "%.1f %.0f", $1, $2 / 1024 }' "$work/time.txt"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

side() { # name binary
  rm -rf "$work/lake" "$work/out"
  read -r is im <<<"$(measure "$2" ingest "$work/pipelines/sample.toml")"
  read -r ks km <<<"$(measure "$2" run "$work/pipelines/sample.toml" --skip ingest --fy 2023/24)"
  printf '%-4s %-6s ingest %6s s %7s MB   run --skip ingest %6s s %7s MB   load %s\n' \
    "$1" "$size" "$is" "$im" "$ks" "$km" "$(awk '{ print $1 }' /proc/loadavg)"
  echo "$is $im $ks $km" >>"$work/$1.txt"
}
runs=${RUNS:-3}
for ((i = 1; i <= runs; i++)); do
  if ((i % 2)); then side old "$old"; side new "$cex"; else side new "$cex"; side old "$old"; fi
done
for col in 1 2 3 4; do
  o=$(awk -v c=$col '{ print $c }' "$work/old.txt" | median)
  n=$(awk -v c=$col '{ print $c }' "$work/new.txt" | median)
  name=$(echo "ingest-seconds ingest-MB rest-seconds rest-MB" | cut -d' ' -f$col)
  awk -v n="$name" -v o="$o" -v m="$n" 'BEGIN { printf "median %-15s old %8.1f new %8.1f new/old %.3f\n", n, o, m, m / o }'
done
