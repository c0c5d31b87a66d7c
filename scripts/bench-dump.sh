#!/usr/bin/env bash
# Dumps larger than memory: wall time and peak RSS (/usr/bin/time -v) of
# `cnode term decode` (Erlang text and --json) and `cnode term encode` on a
# term_to_binary dump of 1,000,000 small maps written by a real `erl`, and of
# decode on a ~1 GB dump made by repeating that dump's elements. Compares a
# "before" binary (main's, built here from `git archive main`, or $BEFORE)
# with this checkout's, and prints Markdown rows for BENCHMARKS.md.
#   scripts/bench-dump.sh [--copies N] [--no-before]
# The 1 GB rows run only the "after" binary: main's holds the whole dump
# and its text in memory (10-23x the input).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/bench-dump"
copies=13
before=yes
while [ $# -gt 0 ]; do
    case "$1" in
        --copies) copies="$2"; shift 2 ;;
        --no-before) before=no; shift ;;
        *) echo "usage: $0 [--copies N] [--no-before]" >&2; exit 2 ;;
    esac
done
mkdir -p "$work"

dump="$work/maps.etf"
if [ ! -s "$dump" ]; then
    echo "== writing 1,000,000 maps with erl" >&2
    erl -noshell -eval '
        Rows = [#{id => I, name => <<"user", (integer_to_binary(I))/binary>>,
                  active => I rem 3 =:= 0, score => I / 7, tags => [a, b]}
                || I <- lists:seq(1, 1000000)],
        ok = file:write_file("'"$dump"'", term_to_binary(Rows)),
        halt().'
fi
big="$work/maps-x$copies.etf"
if [ ! -s "$big" ]; then
    echo "== repeating its elements $copies times" >&2
    # LIST_EXT: 131, 108, u32 count, elements, 106 (the NIL tail).
    python3 - "$dump" "$big" "$copies" <<'PY'
import struct, sys
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
assert data[:2] == bytes([131, 108]) and data[-1] == 106
count = struct.unpack(">I", data[2:6])[0]
body = memoryview(data)[6:-1]
with open(dst, "wb") as out:
    out.write(bytes([131, 108]) + struct.pack(">I", count * copies))
    for _ in range(copies):
        out.write(body)
    out.write(bytes([106]))
PY
fi

if [ "$before" = yes ] && [ -z "${BEFORE:-}" ]; then
    echo "== building main (release; dependencies shared with this checkout)" >&2
    rm -rf "$work/main-src"
    mkdir -p "$work/main-src"
    git archive main | tar -x -C "$work/main-src"
    CARGO_TARGET_DIR="$target" cargo build --release -q -p cnode-cli --bin cnode \
        --manifest-path "$work/main-src/Cargo.toml"
    cp "$target/release/cnode" "$work/cnode-before"
    BEFORE="$work/cnode-before"
fi
echo "== building this checkout (release)" >&2
cargo build --release -q -p cnode-cli --bin cnode
cp "$target/release/cnode" "$work/cnode-after"

text="$work/maps.txt"
"$work/cnode-after" term decode "$dump" > "$text"

# measure LABEL INPUT_BYTES CMD...: one Markdown row.
measure() {
    local label="$1" bytes="$2"
    shift 2
    /usr/bin/time -v "$@" > /dev/null 2> "$work/time.log" || {
        tail -5 "$work/time.log" >&2
        echo "| $label | failed | | |"
        return
    }
    local wall rss secs
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.log")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.log")
    secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    awk -v l="$label" -v s="$secs" -v r="$rss" -v b="$bytes" 'BEGIN {
        printf "| %s | %.2f s | %.0f MB | %.0f MB/s |\n", l, s, r / 1024, b / 1e6 / s }'
}

size() { stat -c %s "$1"; }
echo "| run | time | peak RSS | input rate |"
echo "|---|---|---|---|"
for who in before after; do
    if [ "$who" = before ]; then
        [ -n "${BEFORE:-}" ] || continue
        bin="$BEFORE"
    else
        bin="$work/cnode-after"
    fi
    mb=$(( $(size "$dump") / 1000000 ))
    measure "$who: decode, ${mb} MB" "$(size "$dump")" "$bin" term decode "$dump"
    measure "$who: decode --json, ${mb} MB" "$(size "$dump")" "$bin" term decode --json "$dump"
    measure "$who: encode, $(( $(size "$text") / 1000000 )) MB of text" "$(size "$text")" \
        "$bin" term encode "$text" -o "$work/encoded.etf"
done
gb=$(( $(size "$big") / 1000000 ))
measure "after: decode, ${gb} MB" "$(size "$big")" "$work/cnode-after" term decode "$big"
measure "after: decode --json, ${gb} MB" "$(size "$big")" "$work/cnode-after" term decode --json "$big"
