%% The BEAM side of bench_peers: the sink nodes, and the Erlang node that
%% connects to all of them and sends to each in turn, as the Rust node does.
%%
%% sink/0 runs on each of the N sink nodes; fanout/0 on node `a`, the BEAM
%% measured, on request of the Rust driver.
-module(bench_peers).
-export([sink/0, fanout/0, warm/1]).

now_us() -> erlang:monotonic_time(microsecond).

%% Registers `sink': after `{expect, M, From}' it counts the messages that
%% follow and sends `{sunk, node()}' to From when M have come.
sink() ->
    register(sink, spawn(fun() -> sink(0, 0, none) end)),
    io:format("ready~n").

sink(Count, Target, To) ->
    receive
        {expect, M, From} -> sink(0, M, From);
        _ when Count + 1 =:= Target -> To ! {sunk, node()}, sink(0, 0, none);
        _ -> sink(Count + 1, Target, To)
    end.

%% A node that connects to each of Nodes once and halts: the sinks load the
%% code of their first connection before anything is measured.
warm(Nodes) ->
    [true = net_kernel:connect_node(N) || N <- Nodes],
    io:format("ready~n"),
    halt().

%% Node `a': serves the driver's requests, each answered with its time.
fanout() ->
    register(fanout, self()),
    io:format("ready~n"),
    fanout_loop().

fanout_loop() ->
    receive
        {os_pid, From} ->
            From ! {os_pid, list_to_integer(os:getpid())};
        {connect, Nodes, From} ->
            %% All at once, one process per node, as the Rust node does.
            Self = self(),
            T0 = now_us(),
            [spawn(fun() -> Self ! {connected, N, net_kernel:connect_node(N)} end)
             || N <- Nodes],
            Ok = length([ok || N <- Nodes, receive {connected, N, R} -> R end]),
            From ! {connected, now_us() - T0, Ok};
        {fanout, Nodes, M, Msg, From} ->
            Sinks = [{sink, N} || N <- Nodes],
            [S ! {expect, M, self()} || S <- Sinks],
            T0 = now_us(),
            rounds(M, Sinks, Msg),
            [receive {sunk, N} -> ok end || N <- Nodes],
            From ! {fanned, now_us() - T0}
    end,
    fanout_loop().

%% M rounds, each sending Msg to every sink in turn.
rounds(0, _, _) -> ok;
rounds(M, Sinks, Msg) ->
    round(Sinks, Msg),
    rounds(M - 1, Sinks, Msg).

round([], _) -> ok;
round([S | Sinks], Msg) -> S ! Msg, round(Sinks, Msg).
