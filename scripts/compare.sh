#!/usr/bin/env bash
# Compares two (or more) benchmark reports: writes comparison.md and machines.svg.
# Usage: scripts/compare.sh A/report.json B/report.json [OUT_DIR]   (default results/comparison)
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
