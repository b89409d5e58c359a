#!/usr/bin/env bash
# The full benchmark sweep (every multi-thread point of the main sweep measured unpinned and
# pinned, the better counting); writes results/<machine-id>/<timestamp>/.
# Usage: scripts/bench.sh [extra poie bench arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
exec target/release/poie bench --full "$@"
