#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for a bounded time
# with a memory limit, a per-input timeout and its dictionary. Fails if any
# target finds a crash, a leak, an out-of-memory or a timeout; the input is
# left in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default: 10 seconds for each of the targets `cargo fuzz list` names. The
# checked-in seeds are copied to a temporary corpus first, so what the
# fuzzers add never lands in the repository.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-10}"
shift || true
# cargo-fuzz passes nightly-only flags to rustc; fuzz/.cargo/config.toml sets
# this too, but only when cargo runs from fuzz/.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is missing; run scripts/setup.sh" >&2
    exit 1
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

# One dictionary per family of targets.
dictionary() {
    case "$1" in
        etf_*) echo dict/etf.dict ;;
        term_syntax) echo dict/term_syntax.dict ;;
        epmd_*) echo dict/epmd.dict ;;
        *) echo dict/dist.dict ;;
    esac
}

cargo fuzz build

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    # etf_flat reads what etf_decode reads: it starts from those seeds.
    seeds="$target"
    [ "$target" = etf_flat ] && seeds=etf_decode
    cp corpus/"$seeds"/* "$work/$target"/
    echo "== fuzz $target for ${seconds}s" >&2
    # -rss_limit_mb / -malloc_limit_mb: the whole process and any single
    # allocation; -timeout: seconds per input; -max_len: inputs up to 64 KiB.
    if ! cargo fuzz run "$target" "$work/$target" -- \
        -max_total_time="$seconds" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=512 \
        -timeout=10 \
        -max_len=65536 \
        -dict="$(dictionary "$target")" \
        -print_final_stats=1 2>"$work/$target.log"; then
        tail -n 60 "$work/$target.log" >&2
        failed+=("$target")
        continue
    fi
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$work/$target.log" >&2 || true
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash" >&2
