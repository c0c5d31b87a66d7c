#!/usr/bin/env bash
# Instructions per codec operation (callgrind), this tree against an older
# revision, on the workloads of etf/benches/codec.rs: a comparison that does
# not depend on how busy the machine is. Prints a Markdown table.
#   scripts/bench-codec-instructions.sh [BASE_REVISION (default: HEAD~1)] [N (default: 200)] [OPERATIONS]
# OPERATIONS (default "decode decode_bytes encode") may add clone, eq and hash,
# and the other crates' eetf_decode, erltf_decode, erltf_decode_borrowed,
# eetf_encode and erltf_encode (the same in both columns).
# Each (operation, workload) is run under callgrind with N iterations and
# with 0, and the difference divided by N, so set-up does not count.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
base="${1:-HEAD~1}"
iterations="${2:-200}"
operations="${3:-decode decode_bytes encode}"
command -v valgrind >/dev/null || {
    echo "bench-codec-instructions: valgrind is needed (apt-get install valgrind)" >&2
    exit 1
}
target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# The workloads, as the benchmark writes them, with the literal tables of
# OTP's .beam files (scripts/bench/literal_dump.erl) when erl is there.
otp25="${CNODE_OTP25:-/usr/lib/erlang}"
mkdir -p "$work/real"
if "$otp25/bin/erlc" -o "$work/real" scripts/bench/literal_dump.erl 2>/dev/null; then
    "$otp25/bin/erl" -noshell -pa "$work/real" -run literal_dump main "$work/real/literals.bin"
fi
ETF_BENCH_REAL_DIR="$work/real" ETF_BENCH_DUMP_DIR="$work/workloads" cargo bench -q -p etf --bench codec -- --test >/dev/null 2>&1

# The driver, built in this tree and in the base revision (the same source).
cargo build -q --release -p etf --example codec_loop
cp "$target/release/examples/codec_loop" "$work/codec_loop.new"
git -C "$root" worktree add -q --detach "$work/base" "$base"
# This tree's driver where it builds against the base (the same source on
# both sides), else the base's own (operations it lacks print as "-").
cp "$work/base/etf/examples/codec_loop.rs" "$work/codec_loop.base.rs" 2>/dev/null || true
cp etf/examples/codec_loop.rs "$work/base/etf/examples/codec_loop.rs"
if ! (cd "$work/base" && CARGO_TARGET_DIR="$work/base-target" cargo build -q --release -p etf --example codec_loop 2>/dev/null); then
    cp "$work/codec_loop.base.rs" "$work/base/etf/examples/codec_loop.rs"
    (cd "$work/base" && CARGO_TARGET_DIR="$work/base-target" cargo build -q --release -p etf --example codec_loop)
fi
cp "$work/base-target/release/examples/codec_loop" "$work/codec_loop.base"

# Instructions of one run, as callgrind totals them.
instructions() {
    # Empty when the driver refuses the operation (an older driver).
    local out
    out="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1)" || return 0
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out"
}

per_op() {
    local driver="$1" op="$2" file="$3"
    local with without
    with="$(instructions "$driver" "$op" "$file" "$iterations")"
    without="$(instructions "$driver" "$op" "$file" 0)"
    if [ -z "$with" ] || [ -z "$without" ]; then
        echo "-" # an operation this driver does not know
    else
        echo $(((with - without) / iterations))
    fi
}

echo "Instructions per operation, $(git rev-parse --short "$base") (before) and $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes') (after), $iterations iterations each:"
echo
echo "| workload | operation | before | after | after/before |"
echo "|---|---|---|---|---|"
for file in "$work"/workloads/*.bin; do
    name="$(basename "$file" .bin)"
    for op in $operations; do
        before="$(per_op "$work/codec_loop.base" "$op" "$file")"
        after="$(per_op "$work/codec_loop.new" "$op" "$file")"
        ratio=-
        if [ "$before" != - ] && [ "$after" != - ]; then
            ratio="$(python3 -c "print(f'{$after / max($before, 1):.3f}')")"
        fi
        echo "| $name | $op | $before | $after | $ratio |"
    done
done
