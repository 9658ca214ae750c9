# Sourced by the bench scripts from the repository root: builds cex (release) and makes a work
# folder (under $BENCH_TMP if set) that is deleted when the script exits.
cargo build --release --quiet
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$(pwd)/$target_dir" ;; esac
cex="$target_dir/release/cex"
work=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/cex-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The sample pipeline without right first time: every line of a [customers], [sources.customer]
# or avoidable table left out, and the telephony's reason column. plain_pipeline SRC DEST
plain_pipeline() {
  awk '
    /^\[customers\]/ || /^\[sources\.customer\]/ || /^\[avoidable\]/ || /^\[\[avoidable\.targets\]\]/ { skip = 1; next }
    /^reason = / { next }
    /^\[/ { skip = 0 }
    !skip
  ' "$1" >"$2"
}
