#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test (unit, property, corpus
# replays, interop tests against real OTP 25, 27, 28 and 29, container tests),
# then each fuzz target for a short bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
cargo test --workspace --all-features --no-fail-fast
scripts/fuzz.sh "${CNODE_FUZZ_SECONDS:-10}"
