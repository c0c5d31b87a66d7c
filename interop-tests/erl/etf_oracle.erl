%% The Erlang side of the test oracle (see interop-tests/src/oracle.rs).
%%
%% Started as `erl -noinput -pa DIR -s etf_oracle start`, it reads requests
%% from stdin and writes replies to stdout, each framed by a 4-byte big-endian
%% length ({packet, 4}).
%%
%% Request: <<NBindings:16, Binding*NBindings, Expr/binary>> where
%%   Binding = <<NameLen:16, Name:NameLen/binary, Len:32, Value:Len/binary>>
%% binds the Erlang variable Name to the binary Value, and Expr is a sequence
%% of Erlang expressions (UTF-8, trailing dot optional) whose value must be a
%% binary.
%% Reply: <<0, Value/binary>> on success, <<1, Message/binary>> (UTF-8 text)
%% when scanning, parsing or evaluating failed, timed out, or the value was
%% not a binary. Nothing a request does can stop the loop; the VM halts when
%% stdin closes.
%%
%% The module also exports a few functions that make terms which only compiled
%% code can make (funs with a module, free variables and a real MD5).
-module(etf_oracle).

-export([start/0, accepts/1, same_terms/1, pack/1, adder/1, closure/3, export_fun/0]).

%% How long one request may run before its worker is killed.
-define(TIMEOUT_MS, 60000).
%% Heap limit of one worker, in words (512 MiB on a 64-bit VM): enough to
%% scan and parse the text of a 1 MiB binary.
-define(MAX_HEAP_WORDS, 67108864).

start() ->
    quiet_stdout(),
    Port = open_port({fd, 0, 1}, [binary, {packet, 4}, eof]),
    loop(Port).

%% Stdout carries the framed replies only: send the logger and the standard
%% output of every request to stderr.
quiet_stdout() ->
    _ = logger:update_handler_config(default, config, #{type => standard_error}),
    case whereis(standard_error) of
        undefined -> ok;
        StdErr -> group_leader(StdErr, self())
    end,
    ok.

loop(Port) ->
    receive
        {Port, {data, Request}} ->
            Reply = case handle(Request) of
                        {ok, Value} -> [0, Value];
                        {error, Message} -> [1, Message]
                    end,
            true = port_command(Port, Reply),
            loop(Port);
        {Port, eof} ->
            erlang:halt(0);
        _Other ->
            loop(Port)
    end.

handle(Request) ->
    case parse_request(Request) of
        {ok, Bindings, Expr} -> run(Bindings, Expr);
        error -> {error, <<"malformed request frame">>}
    end.

parse_request(<<N:16, Rest/binary>>) ->
    parse_bindings(N, Rest, erl_eval:new_bindings());
parse_request(_) ->
    error.

parse_bindings(0, Expr, Bindings) ->
    {ok, Bindings, Expr};
parse_bindings(N, <<NameLen:16, Name:NameLen/binary, Len:32, Value:Len/binary, Rest/binary>>,
               Bindings) ->
    Var = binary_to_atom(Name, utf8),
    parse_bindings(N - 1, Rest, erl_eval:add_binding(Var, Value, Bindings));
parse_bindings(_, _, _) ->
    error.

%% Evaluates in a fresh process with a heap limit and a timeout, so that a
%% request that crashes, loops or allocates without end cannot take the
%% oracle down.
run(Bindings, Expr) ->
    Parent = self(),
    Tag = make_ref(),
    {Pid, MRef} =
        spawn_opt(fun() ->
                          group_leader(group_leader_of(Parent), self()),
                          Parent ! {Tag, catch_eval(Bindings, Expr)}
                  end,
                  [monitor, {max_heap_size, #{size => ?MAX_HEAP_WORDS,
                                              kill => true,
                                              error_logger => false}}]),
    receive
        {Tag, Result} ->
            erlang:demonitor(MRef, [flush]),
            Result;
        {'DOWN', MRef, process, Pid, Reason} ->
            {error, format("worker died: ~0tP", [Reason, 20])}
    after ?TIMEOUT_MS ->
            exit(Pid, kill),
            erlang:demonitor(MRef, [flush]),
            {error, <<"timeout">>}
    end.

group_leader_of(Pid) ->
    {group_leader, Leader} = process_info(Pid, group_leader),
    Leader.

catch_eval(Bindings, Expr) ->
    try eval(Bindings, Expr) of
        Value when is_binary(Value) -> {ok, Value};
        Other -> {error, format("not a binary: ~0tP", [Other, 20])}
    catch
        Class:Reason:Stack ->
            {error, format("~p:~0tP ~0tP", [Class, Reason, 20, Stack, 8])}
    end.

eval(Bindings, Expr) ->
    Text = case unicode:characters_to_list(Expr, utf8) of
               List when is_list(List) -> List;
               _ -> error({bad_utf8, Expr})
           end,
    Tokens = case erl_scan:string(Text) of
                 {ok, Toks, End} -> with_dot(Toks, End);
                 {error, ScanError, _} -> error({scan, ScanError})
             end,
    Exprs = case erl_parse:parse_exprs(Tokens) of
                {ok, Parsed} -> Parsed;
                {error, ParseError} -> error({parse, ParseError})
            end,
    {value, Value, _} = erl_eval:exprs(Exprs, Bindings),
    Value.

with_dot(Tokens, End) ->
    case lists:last([{dot, End} | Tokens]) of
        {dot, _} when Tokens =/= [] -> Tokens;
        _ -> Tokens ++ [{dot, End}]
    end.

format(Format, Args) ->
    unicode:characters_to_binary(io_lib:format(Format, Args)).

%% Batch checks, so that a test can ask about thousands of byte strings in
%% one request. Batch is a sequence of <<Len:32, Bytes:Len/binary>> items;
%% the reply has one byte per item (accepts/1) or per pair of items
%% (same_terms/1).

%% 1 where binary_to_term/2 decodes the whole item, 0 where it raises or
%% leaves bytes unused (binary_to_term/1 silently ignores trailing bytes).
accepts(Batch) ->
    << <<(accepts_one(Item))>> || <<Len:32, Item:Len/binary>> <= Batch >>.

accepts_one(Bytes) ->
    Size = byte_size(Bytes),
    try binary_to_term(Bytes, [used]) of
        {_, Size} -> 1;
        {_, _Used} -> 0
    catch
        error:_ -> 0
    end.

%% For consecutive items A, B: 1 where binary_to_term(A) =:= binary_to_term(B),
%% 0 where they differ, 2 where either does not decode.
same_terms(Batch) ->
    same_terms(Batch, []).

same_terms(<<>>, Acc) ->
    list_to_binary(lists:reverse(Acc));
same_terms(<<LenA:32, A:LenA/binary, LenB:32, B:LenB/binary, Rest/binary>>, Acc) ->
    Verdict = try binary_to_term(A) =:= binary_to_term(B) of
                  true -> 1;
                  false -> 0
              catch
                  error:_ -> 2
              end,
    same_terms(Rest, [Verdict | Acc]).

%% The binaries of a list, each behind a 4-byte length: the batch reply of
%% Oracle::term_to_binary_each.
pack(Binaries) ->
    << <<(byte_size(B)):32, B/binary>> || B <- Binaries >>.

%% A compiled fun with one free variable.
adder(N) ->
    fun(X) -> X + N end.

%% A compiled fun of arity 2 with three free variables of different types.
closure(A, B, C) ->
    fun(X, Y) -> {A, B, C, X, Y} end.

%% An external fun.
export_fun() ->
    fun lists:sort/1.
