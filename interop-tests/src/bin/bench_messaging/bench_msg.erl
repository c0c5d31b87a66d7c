%% The BEAM side of the messaging benchmark (bench_messaging). Compiled with
%% OTP 25's erlc; loads in OTP 28 too.
-module(bench_msg).
-export([serve/0, oneway/3, pingpong/2, connects/2]).

%% Registers `sink' (counts messages until `{done, From}', answers
%% `{sunk, Count}') and `echo' (`{From, Msg}' -> `From ! Msg').
serve() ->
    register(sink, spawn(fun() -> sink(0) end)),
    register(echo, spawn(fun echo/0)),
    ok.

sink(N) ->
    receive
        {done, From} -> From ! {sunk, N}, sink(0);
        _ -> sink(N + 1)
    end.

echo() ->
    receive {From, Msg} -> From ! Msg, echo() end.

%% Sends Msg N times to Dest, then waits until the sink counted them all.
%% Returns {Count, Microseconds}.
oneway(Dest, N, Msg) ->
    T0 = erlang:monotonic_time(microsecond),
    send_n(Dest, N, Msg),
    Dest ! {done, self()},
    receive {sunk, C} -> {C, erlang:monotonic_time(microsecond) - T0}
    after 120000 -> timeout
    end.

send_n(_, 0, _) -> ok;
send_n(Dest, N, Msg) -> Dest ! Msg, send_n(Dest, N - 1, Msg).

%% N round trips to the echo process Dest; returns the sorted round trip
%% times in microseconds as {P50, P99}.
pingpong(Dest, N) ->
    Times = lists:sort([rtt(Dest, I) || I <- lists:seq(1, N)]),
    {lists:nth(max(1, N div 2), Times), lists:nth(max(1, (N * 99) div 100), Times)}.

rtt(Dest, I) ->
    T0 = erlang:monotonic_time(nanosecond),
    Dest ! {self(), {pong, I}},
    receive {pong, I} -> (erlang:monotonic_time(nanosecond) - T0) div 1000
    after 10000 -> exit(pong_timeout)
    end.

%% N connection set-ups (EPMD lookup + handshake) to Node, each followed by
%% a disconnect; returns {Connected, Microseconds}.
connects(Node, N) ->
    T0 = erlang:monotonic_time(microsecond),
    Ok = length([ok || _ <- lists:seq(1, N), connect_once(Node)]),
    {Ok, erlang:monotonic_time(microsecond) - T0}.

connect_once(Node) ->
    R = net_kernel:connect_node(Node),
    erlang:disconnect_node(Node),
    R.
