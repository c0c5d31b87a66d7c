#!/usr/bin/env bash
# The many-peers benchmark, our node and a BEAM node side by side in one
# run: N erl sink nodes (30 by default), both nodes connect to all of them
# (time, RSS growth per connection), then send M small messages (10,000 by
# default) to each node's `sink`, round-robin, until every sink has them
# all. Prints a Markdown table for BENCHMARKS.md. About a minute; every erl
# and epmd it starts is killed at the end.
#   scripts/bench-peers.sh [--otp 25|27|28|29] [--nodes N] [--messages M] [--runs R]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q --release -p interop-tests --bin bench_peers
"$target/release/bench_peers" "$@"
