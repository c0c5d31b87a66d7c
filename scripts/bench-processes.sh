#!/usr/bin/env bash
# The many-processes benchmark, our node and a BEAM node (`erl +P 2000000`)
# side by side in one run: spawn 1,000,000 processes that wait in receive,
# resident memory per idle process, one message to each from a local
# process and from an Erlang node, registered-name lookups, and several
# threads spawning and sending at once. Prints a Markdown table for
# BENCHMARKS.md. About 40 s and 4 GB of memory at the peak (the BEAM's
# million processes); `--quick` runs 100,000 in a few seconds. Every erl
# and epmd it starts is killed at the end.
#   scripts/bench-processes.sh [--quick] [--otp 25|27|28|29] [--n N] [--workers W] [--lookups L]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q --release -p interop-tests --bin bench_processes
"$target/release/bench_processes" "$@"
