#!/usr/bin/env bash
# Consecutive default runs of `poie bench` on this machine, all kept, and whether they agree:
# writes each report under results/<machine-id>/<timestamp>/ as usual, then prints the
# repeatability table of `poie report` for exactly those runs (within 10% on the unbounded
# gain and at every L, the same recommended L here and for the reference, at most 20% of the
# points flagged). Run it on an idle machine from a clean checkout (a dirty tree's reports
# are not compared: their code is not one commit).
# Usage: scripts/repeat-bench.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 2 ]; then
    echo "usage: $0 [RUNS >= 2]" >&2
    exit 2
fi
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
    echo "warning: the working tree is dirty; its reports carry a -dirty commit and are not compared" >&2
fi
cargo build --release --locked
reports=()
for i in $(seq 1 "$runs"); do
    start=$(date +%s)
    log=$(mktemp)
    target/release/poie bench 2> >(tee "$log" >&2)
    json=$(sed -n 's/^poie: wrote \([^,]*report\.json\).*/\1/p' "$log")
    rm -f "$log"
    if [ -z "$json" ]; then
        echo "run $i: no report written" >&2
        exit 1
    fi
    echo "run $i of $runs: $json, $(( $(date +%s) - start )) s" >&2
    reports+=("$json")
done
target/release/poie report "${reports[@]}" | sed -n '/^## Repeatability/,/^## /p' | sed '$d'
