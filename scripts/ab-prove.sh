#!/usr/bin/env bash
# Compares `poie prove` binaries on a noisy machine: runs them alternately, REPS times each,
# on a synthetic trace of N chunks, and prints each one's median and best rate (M chunks/s,
# process start included).
#
# usage: scripts/ab-prove.sh N REPS "PROVE ARGS" BINARY...
# e.g.:  scripts/ab-prove.sh 20000000 5 "--lanes 16 --threads 2" ./poie-old target/release/poie
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '2,7p' "$0" >&2
    exit 2
fi
n=$1 reps=$2 args=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$1" salt new "$dir/salt" >/dev/null 2>&1
address=0x1111111111111111111111111111111111111111
declare -A rates
for _ in $(seq "$reps"); do
    for bin in "$@"; do
        start=$(date +%s.%N)
        # shellcheck disable=SC2086 # the arguments are meant to split
        "$bin" prove --synthetic "$n" --salt-file "$dir/salt" --address "$address" $args >/dev/null 2>&1
        end=$(date +%s.%N)
        rates[$bin]+="$(echo "scale=2; $n / 1000000 / ($end - $start)" | bc) "
    done
done
for bin in "$@"; do
    sorted=$(echo "${rates[$bin]}" | tr ' ' '\n' | grep . | sort -n)
    median=$(echo "$sorted" | sed -n "$(((reps + 1) / 2))p")
    echo "$bin [$args]: median $median, best $(echo "$sorted" | tail -1)"
done
