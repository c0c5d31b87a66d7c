//! Rust functions and a gen_server-style Rust process served to real `erl`
//! nodes (OTP 25, 27, 28 and 29): `erpc:call` and `rpc:call` with results,
//! errors, throws, exits, timeouts and `undef` (compared with what the
//! same calls give against a BEAM node), the old `rex` message route,
//! `gen_server:call`/`cast` with a reply, a crash and `noproc`, and
//! `global` names.

mod signals_support;

use std::time::Duration;

use cnode::{Exception, Node, Request};
use etf::Term;
use interop_tests::local::{short_host, unique_name, Epmd};
use interop_tests::Otp;
use signals_support::{erl, rust_node, WAIT};

interop_tests::per_release!(
    async
    erpc_and_rpc_reach_rust_functions_as_they_reach_erlang_ones,
    gen_server_calls_reach_a_rust_process,
    global_names_reach_rust_processes,
);

fn serve_functions(node: &Node) {
    node.register_function("rust", "add", |args| match args.as_slice() {
        [a, b] => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => Ok(Term::Int(a + b)),
            _ => Err(Exception::badarg()),
        },
        _ => Err(Exception::badarg()),
    });
    node.register_function("rust", "fail", |_| {
        Err(Exception::Error(Term::atom("oops")))
    });
    node.register_function("rust", "throw", |_| {
        Err(Exception::Throw(Term::atom("ball")))
    });
    node.register_function("rust", "exit", |_| Err(Exception::Exit(Term::atom("bye"))));
    node.register_async_function("rust", "sleep", |args| async move {
        let ms = args.first().and_then(Term::as_u64).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(Term::atom("slept"))
    });
}

/// For each call the script prints what it gives against our node, then
/// (for the failures) what the same call gives against the BEAM node
/// itself, where a module `rust` does not exist or a fun raises the same:
/// the lines must match.
async fn erpc_and_rpc_reach_rust_functions_as_they_reach_erlang_ones(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    serve_functions(&node);
    let (cast_tx, mut casts) = tokio::sync::mpsc::unbounded_channel();
    node.register_function("rust", "record", move |args| {
        let _ = cast_tx.send(args);
        Ok(Term::atom("ok"))
    });
    let eval = format!(
        r#"R = '{r}',
        Show = fun(Tag, F) ->
            Out = try F() of V -> {{value, V}} catch C:E -> {{C, E}} end,
            io:format("~s ~w~n", [Tag, Out])
        end,
        Show("add", fun() -> erpc:call(R, rust, add, [1, 2]) end),
        Show("rpc_add", fun() -> rpc:call(R, rust, add, [1, 2]) end),
        Show("badarg", fun() -> erpc:call(R, rust, add, [a, 2]) end),
        Show("error", fun() -> erpc:call(R, rust, fail, []) end),
        Show("throw", fun() -> erpc:call(R, rust, throw, []) end),
        Show("exit", fun() -> erpc:call(R, rust, exit, []) end),
        Show("rpc_throw", fun() -> rpc:call(R, rust, throw, []) end),
        Show("rpc_exit", fun() -> rpc:call(R, rust, exit, []) end),
        Show("undef", fun() -> erpc:call(R, rust, nope, [1]) end),
        Show("undef", fun() -> erpc:call(node(), rust, nope, [1]) end),
        Show("rpc_undef", fun() -> rpc:call(R, rust, nope, [1]) end),
        Show("rpc_undef", fun() -> rpc:call(node(), rust, nope, [1]) end),
        Show("timeout", fun() -> erpc:call(R, rust, sleep, [5000], 300) end),
        Show("timeout", fun() -> erpc:call(node(), timer, sleep, [5000], 300) end),
        Show("rpc_timeout", fun() -> rpc:call(R, rust, sleep, [5000], 300) end),
        Show("rpc_timeout", fun() -> rpc:call(node(), timer, sleep, [5000], 300) end),
        Show("slept", fun() -> erpc:call(R, rust, sleep, [10], 5000) end),
        SpawnDown = fun(Tag, F, A, Kill) ->
            {{P, M}} = spawn_monitor(R, rust, F, A),
            Kill andalso exit(P, kill),
            receive {{'DOWN', M, process, P, Why}} -> io:format("~s ~w~n", [Tag, Why]) end
        end,
        SpawnDown("spawn_ok", add, [1, 2], false),
        SpawnDown("spawn_error", fail, [], false),
        SpawnDown("spawn_undef", nope, [], false),
        SpawnDown("spawn_killed", sleep, [60000], true),
        ok = erpc:cast(R, rust, record, [erpc_cast]),
        true = rpc:cast(R, rust, record, [rpc_cast]),
        {{rex, R}} ! {{self(), {{call, rust, add, [20, 22], group_leader()}}}},
        receive {{rex, Rex}} -> io:format("rex ~w~n", [Rex]) end,
        {{rex, R}} ! {{self(), {{call, rust, nope, [], group_leader()}}}},
        receive {{rex, Rex2}} -> io:format("rex_undef ~w~n", [Rex2]) end,
        io:format("done~n"),
        halt()"#,
        r = node.name()
    );
    let mut erl = erl(&otp, epmd_port, &unique_name("caller", &otp), &eval);
    let mut lines = Vec::new();
    loop {
        let line = erl.next_line().await.expect("erl output");
        if line == "done" {
            break;
        }
        lines.push(line);
    }
    let get = |tag: &str| -> Vec<String> {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix(&format!("{tag} ")).map(str::to_owned))
            .collect()
    };
    assert_eq!(get("add"), ["{value,3}"]);
    assert_eq!(get("rpc_add"), ["{value,3}"]);
    assert_eq!(
        get("badarg"),
        ["{error,{exception,badarg,[{rust,add,2,[]}]}}"]
    );
    assert_eq!(
        get("error"),
        ["{error,{exception,oops,[{rust,fail,0,[]}]}}"]
    );
    assert_eq!(get("throw"), ["{throw,ball}"]);
    assert_eq!(get("exit"), ["{exit,{exception,bye}}"]);
    assert_eq!(get("rpc_throw"), ["{value,ball}"]);
    assert_eq!(get("rpc_exit"), ["{value,{badrpc,{'EXIT',bye}}}"]);
    for tag in ["undef", "rpc_undef", "timeout", "rpc_timeout"] {
        let got = get(tag);
        assert_eq!(got.len(), 2, "{tag}: {got:?}");
        assert_eq!(got[0], got[1], "{tag}: Rust node vs BEAM node");
    }
    assert_eq!(
        get("undef")[0],
        "{error,{exception,undef,[{rust,nope,[1],[]}]}}"
    );
    assert_eq!(get("rpc_timeout")[0], "{value,{badrpc,timeout}}");
    assert_eq!(get("slept"), ["{value,slept}"]);
    // spawn/4 on our node: the process ends as an Erlang one would.
    assert_eq!(get("spawn_ok"), ["normal"]);
    assert_eq!(get("spawn_error"), ["{oops,[{rust,fail,0,[]}]}"]);
    assert_eq!(get("spawn_undef"), ["{undef,[{rust,nope,[],[]}]}"]);
    assert_eq!(get("spawn_killed"), ["killed"]);
    assert_eq!(get("rex"), ["42"]);
    let mut cast = Vec::new();
    for _ in 0..2 {
        let args = tokio::time::timeout(WAIT, casts.recv())
            .await
            .expect("a cast");
        cast.extend(args.expect("channel open"));
    }
    cast.sort_by(|a, b| a.compare_erl(b));
    assert_eq!(cast, [Term::atom("erpc_cast"), Term::atom("rpc_cast")]);
    assert_eq!(
        get("rex_undef"),
        ["{badrpc,{'EXIT',{undef,[{rust,nope,[],[]}]}}}"]
    );
}

async fn gen_server_calls_reach_a_rust_process(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    let mut server = node.spawn_process().expect("spawn");
    server.register("counter").expect("register");
    let eval = format!(
        r#"S = {{counter, '{r}'}},
        Show = fun(Tag, F) ->
            Out = try F() of V -> {{value, V}} catch C:E -> {{C, E}} end,
            io:format("~s ~w~n", [Tag, Out])
        end,
        Show("add", fun() -> gen_server:call(S, {{add, 1, 2}}) end),
        ok = gen_server:cast(S, bump),
        Show("count", fun() -> gen_server:call(S, count, 5000) end),
        Show("crash", fun() -> gen_server:call(S, crash) end),
        Show("noproc", fun() -> gen_server:call(S, count) end),
        io:format("done~n"),
        halt()"#,
        r = node.name()
    );
    let mut erl = erl(&otp, epmd_port, &unique_name("caller", &otp), &eval);
    let mut count = 0i64;
    loop {
        let request = server
            .next_request()
            .await
            .expect("the server runs until the crash");
        match request {
            Request::Call(call) => {
                let request = call.request.clone();
                if request.is_atom("crash") {
                    server.exit_with(Term::tuple(vec![Term::atom("bad"), Term::atom("thing")]));
                    break;
                } else if request.is_atom("count") {
                    call.reply(&server, Term::Int(count)).expect("reply");
                } else if let Some([_, a, b]) = request.as_tuple() {
                    let sum = a.as_i64().unwrap_or(0) + b.as_i64().unwrap_or(0);
                    call.reply(&server, Term::Int(sum)).expect("reply");
                }
            }
            Request::Cast(request) => {
                assert!(request.is_atom("bump"));
                count += 1;
            }
            Request::Info(message) => panic!("unexpected {message:?}"),
        }
    }
    // ~w quotes no node name made of letters, digits, _ and @.
    let s = format!("{{counter,{}}}", node.name());
    erl.wait_for_line("add {value,3}")
        .await
        .expect("erl output");
    erl.wait_for_line("count {value,1}")
        .await
        .expect("erl output");
    erl.wait_for_line(&format!(
        "crash {{exit,{{{{bad,thing}},{{gen_server,call,[{s},crash]}}}}}}"
    ))
    .await
    .expect("erl output");
    erl.wait_for_line(&format!(
        "noproc {{exit,{{noproc,{{gen_server,call,[{s},count]}}}}}}"
    ))
    .await
    .expect("erl output");
    erl.wait_for_line("done").await.expect("erl output");
}

async fn global_names_reach_rust_processes(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    let eval = r#"
        register(shell, self()),
        yes = global:register_name(erl_service, spawn(fun() -> receive {From, M} -> From ! {got, M} end end)),
        io:format("ready~n"),
        receive {send_to, Name, Msg} -> global:send(Name, Msg) end,
        receive after infinity -> ok end"#;
    let erl_name = unique_name("erl", &otp);
    let erl_node = format!("{erl_name}@{}", short_host().expect("host name"));
    let mut erl = erl(&otp, epmd_port, &erl_name, eval);
    erl.wait_for_line("ready").await.expect("erl output");
    let mut p = node.spawn_process().expect("spawn");
    // Look up and send to an Erlang global name.
    let pid = node
        .global_send(
            &p,
            &erl_node,
            "erl_service",
            Term::tuple(vec![Term::Pid(p.pid().clone()), Term::atom("hi")]),
            WAIT,
        )
        .await
        .expect("global send");
    assert_eq!(pid.node.as_str(), erl_node);
    let got = p.recv_timeout(WAIT).await.expect("answer");
    assert_eq!(
        got.payload,
        Term::tuple(vec![Term::atom("got"), Term::atom("hi")])
    );
    assert_eq!(
        node.global_whereis(&erl_node, "nobody", WAIT)
            .await
            .expect("whereis"),
        None
    );
    // Register a Rust process globally: global:send/2 in Erlang reaches it.
    node.global_register(&erl_node, "rust_service", p.pid(), WAIT)
        .await
        .expect("register");
    assert_eq!(
        node.global_whereis(&erl_node, "rust_service", WAIT)
            .await
            .expect("whereis"),
        Some(p.pid().clone())
    );
    let order = Term::tuple(vec![
        Term::atom("send_to"),
        Term::atom("rust_service"),
        Term::atom("via_global"),
    ]);
    p.send(("shell", erl_node.as_str()), order).expect("send");
    let got = p.recv_timeout(WAIT).await.expect("global:send reached us");
    assert_eq!(got.payload, Term::atom("via_global"));
    // The name goes with the process.
    let pid = p.pid().clone();
    drop(p);
    let start = std::time::Instant::now();
    while node
        .global_whereis(&erl_node, "rust_service", WAIT)
        .await
        .expect("whereis")
        .is_some()
    {
        assert!(start.elapsed() < WAIT, "{pid} still registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
