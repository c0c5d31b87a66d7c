%% The BEAM side of bench_processes: the same workloads as the Rust node
%% runs, on request of the Rust driver, each answered with its time.
%%
%% serve/0 runs on node `b` (the BEAM measured); sender/0 on node `a`
%% (the Erlang node that sends to every process of `b` or of the Rust
%% node).
-module(bench_procs).
-export([serve/0, sender/0]).

now_us() -> erlang:monotonic_time(microsecond).

serve() ->
    register(bench, self()),
    io:format("ready~n"),
    loop(#{}).

%% A process that waits in receive: it counts itself started, and on its
%% one message counts itself done and ends.
idle(Started, Done) ->
    fun() ->
        counters:add(Started, 1, 1),
        receive _ -> counters:add(Done, 1, 1) end
    end.

spawn_idle(0, _, _, Acc) -> Acc;
spawn_idle(N, Started, Done, Acc) ->
    spawn_idle(N - 1, Started, Done, [spawn(idle(Started, Done)) | Acc]).

wait_count(C, N) ->
    case counters:get(C, 1) >= N of
        true -> ok;
        false -> timer:sleep(1), wait_count(C, N)
    end.

loop(S) ->
    receive
        {os_pid, From} ->
            From ! {os_pid, list_to_integer(os:getpid())},
            loop(S);
        {spawn, N, From} ->
            Started = counters:new(1, [write_concurrency]),
            Done = counters:new(1, [write_concurrency]),
            T0 = now_us(),
            Pids = spawn_idle(N, Started, Done, []),
            wait_count(Started, N),
            From ! {spawned, now_us() - T0},
            loop(S#{pids => Pids, done => Done, n => N});
        {send_local, From} ->
            #{pids := Pids, done := Done, n := N} = S,
            T0 = now_us(),
            [P ! go || P <- Pids],
            wait_count(Done, N),
            From ! {sent, now_us() - T0},
            loop(S#{pids => []});
        {give_pids, To, From} ->
            To ! {pids, maps:get(pids, S), From},
            loop(S);
        {wait_done, From} ->
            #{done := Done, n := N} = S,
            wait_count(Done, N),
            From ! done,
            loop(S#{pids => []});
        {lookups, Names, N, Workers, From} ->
            Atoms = [list_to_atom(Name) || Name <- Names],
            Holders = [spawn(fun() -> register(A, self()), receive stop -> ok end end)
                       || A <- Atoms],
            Tuple = list_to_tuple(Atoms),
            timer:sleep(100),
            T0 = now_us(),
            run_workers(Workers, fun() -> lookups(Tuple, tuple_size(Tuple), N div Workers) end),
            From ! {looked_up, now_us() - T0},
            [H ! stop || H <- Holders],
            loop(S);
        {concurrent, Workers, N, From} ->
            T0 = now_us(),
            run_workers(Workers, fun() -> spawn_and_send(N div Workers) end),
            From ! {concurrent, now_us() - T0},
            loop(S)
    end.

%% Runs Workers processes of F at once and waits for them all.
run_workers(Workers, F) ->
    Self = self(),
    Refs = [begin
                R = make_ref(),
                spawn(fun() -> F(), Self ! R end),
                R
            end || _ <- lists:seq(1, Workers)],
    [receive R -> ok end || R <- Refs],
    ok.

lookups(_, _, 0) -> ok;
lookups(Tuple, Size, N) ->
    case whereis(element(N rem Size + 1, Tuple)) of
        undefined -> erlang:error(not_registered);
        _ -> lookups(Tuple, Size, N - 1)
    end.

%% Spawns N waiting processes, sends one message to each, and waits until
%% each has had it.
spawn_and_send(N) ->
    Started = counters:new(1, []),
    Done = counters:new(1, []),
    Pids = spawn_idle(N, Started, Done, []),
    [P ! go || P <- Pids],
    wait_count(Done, N).

%% Node `a`: sends one message to each pid it is given, on `go`.
sender() ->
    register(sender, self()),
    io:format("ready~n"),
    sender_loop([]).

sender_loop(Pids) ->
    receive
        {pids, New, From} ->
            From ! ready,
            sender_loop(New);
        {go, From} ->
            T0 = now_us(),
            [P ! go || P <- Pids],
            From ! {sent, now_us() - T0},
            sender_loop([])
    end.
