#!/usr/bin/env bash
# The messaging benchmark over TLS distribution: every node (the two erl
# nodes and ours) runs `-proto_dist inet_tls` with one generated optfile
# (mutual TLS), so BEAM->BEAM, BEAM->Rust and Rust->BEAM are all measured
# over TLS in one run, with the table of scripts/bench-messaging.sh. Runs
# OTP 29 then OTP 25 (the releases with `ssl` at both ends of the matrix),
# or only the release given with --otp. Takes a few minutes.
#   scripts/bench-messaging-tls.sh [--otp 25|27|29] [--quick] [--runs N] ...
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q --release -p interop-tests --bin bench_messaging
releases=(29 25)
for arg in "$@"; do
    if [ "$arg" = --otp ]; then releases=(); fi
done
if [ ${#releases[@]} -eq 0 ]; then
    "$target/release/bench_messaging" --tls "$@"
else
    for release in "${releases[@]}"; do
        "$target/release/bench_messaging" --tls --otp "$release" "$@"
        echo
    done
fi
