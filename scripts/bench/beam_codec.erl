%% Times the BEAM's own binary_to_term/1 and term_to_binary/1 on the
%% workload files written by `cargo bench -p etf --bench codec`.
%% Run by scripts/bench-codec.sh; prints one line per workload:
%%   NAME decode_ns encode_ns
-module(beam_codec).
-export([main/1]).

main([Dir]) ->
    Files = lists:sort(filelib:wildcard(filename:join(Dir, "*.bin"))),
    lists:foreach(fun time_file/1, Files),
    halt(0).

time_file(File) ->
    {ok, Bin} = file:read_file(File),
    Term = binary_to_term(Bin),
    Decode = best_ns_per_op(fun() -> binary_to_term(Bin) end),
    Encode = best_ns_per_op(fun() -> term_to_binary(Term) end),
    io:format("~s ~.1f ~.1f~n", [filename:basename(File, ".bin"), Decode, Encode]).

%% Calibrates an iteration count that runs for about 200 ms, then keeps the
%% best of five such runs (the machine is noisy; the best run is the least
%% disturbed one).
best_ns_per_op(Fun) ->
    N = calibrate(Fun, 1),
    lists:min([run(Fun, N) * 1000 / N || _ <- lists:seq(1, 5)]).

calibrate(Fun, N) ->
    case run(Fun, N) of
        Us when Us >= 200000 -> N;
        Us when Us < 1000 -> calibrate(Fun, N * 10);
        Us -> max(1, N * 200000 div Us)
    end.

run(Fun, N) ->
    erlang:garbage_collect(),
    {Us, ok} = timer:tc(fun() -> loop(Fun, N) end),
    Us.

loop(_Fun, 0) -> ok;
loop(Fun, N) -> _ = Fun(), loop(Fun, N - 1).
