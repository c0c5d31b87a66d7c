#!/usr/bin/env bash
# The messaging benchmark, side by side in one run per OTP release:
# BEAM->BEAM, BEAM->Rust, Rust->BEAM and the C `ei` library as a peer, for
# one-way small messages, 1 MiB messages, ping-pong round trips and
# connection set-ups. Prints Markdown tables for BENCHMARKS.md. Takes a few
# minutes; every erl, epmd and ei process it starts is killed at the end.
#   scripts/bench-messaging.sh [--quick] [--runs N]
# BENCH_OTP_RELEASES (default "29 28 27 25", every living release) picks
# the releases.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q --release -p interop-tests --bin bench_messaging
for release in ${BENCH_OTP_RELEASES:-29 28 27 25}; do
    "$target/release/bench_messaging" --otp "$release" "$@"
    echo
done
