# Sourced by the bench scripts from the repository root: builds cex (release) and makes a work
# folder (under $BENCH_TMP if set) that is deleted when the script exits.
cargo build --release --quiet
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$(pwd)/$target_dir" ;; esac
cex="$target_dir/release/cex"
work=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/cex-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
