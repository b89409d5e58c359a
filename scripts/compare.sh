#!/usr/bin/env bash
# Compares two (or more) benchmark reports: writes OUT_DIR/README.md (each report's verdict and
# every configuration side by side) and OUT_DIR/machines.svg, through `poie report --out-dir`.
# Usage: scripts/compare.sh A/report.json B/report.json [OUT_DIR]   (default results/comparison)
# results/README.md itself: target/release/poie report results/*/*/report.json --out-dir results
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
    echo "usage: $0 A/report.json B/report.json [more reports...] [OUT_DIR]" >&2
    exit 2
fi
args=("$@")
out=results/comparison
last=${args[-1]}
if [[ "$last" != *.json ]]; then
    out=$last
    unset 'args[-1]'
fi
cargo build --release --locked
exec target/release/poie report "${args[@]}" --out-dir "$out"
