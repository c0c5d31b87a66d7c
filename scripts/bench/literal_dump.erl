%% Writes a real-world term for the codec benchmark: the literal tables
%% (the constant terms: strings, lists, tuples, maps, binaries...) of the
%% OTP applications' own .beam files, as one list, term_to_binary'd.
%% Run by scripts/bench-codec.sh and scripts/bench-codec-instructions.sh:
%%   erl -noshell -pa DIR -run literal_dump main OUT_FILE
-module(literal_dump).
-export([main/1]).

main([Out]) ->
    Apps = [kernel, stdlib, compiler],
    Beams = lists:sort(lists:append(
        [filelib:wildcard(filename:join(Dir, "ebin/*.beam"))
         || A <- Apps, Dir <- [code:lib_dir(A)], is_list(Dir)])),
    Literals = lists:append([literals(B) || B <- Beams]),
    ok = file:write_file(Out, term_to_binary(Literals)),
    halt(0).

%% The literals of one module, in table order; none when it has no table.
literals(Beam) ->
    case beam_lib:chunks(Beam, ["LitT"]) of
        {ok, {_, [{"LitT", <<0:32, Table/binary>>}]}} -> entries(Table);
        {ok, {_, [{"LitT", <<_:32, Packed/binary>>}]}} -> entries(zlib:uncompress(Packed));
        _ -> []
    end.

entries(<<_Count:32, Rest/binary>>) -> entries(Rest, []).

entries(<<Size:32, Term:Size/binary, Rest/binary>>, Acc) ->
    entries(Rest, [binary_to_term(Term) | Acc]);
entries(<<>>, Acc) ->
    lists:reverse(Acc).
