#!/usr/bin/env bash
# Runs the sample pipeline and opens its Cabinet report in Debian's Chromium (see
# check-report.mjs). Installs Chromium and playwright-core when missing. Artefacts (screenshots,
# PDF print) land in ci-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo run --release --quiet -- run pipelines/sample.toml
report=$(ls -t out/*/report.html | head -n 1)
node tests/browser/check-report.mjs "$report" ci-artifacts
