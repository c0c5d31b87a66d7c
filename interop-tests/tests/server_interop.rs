//! A `cnode::Server` seen from real `erl` nodes (OTP 25, 27, 28 and 29):
//! `gen_server:call` and `cast`, plain messages, `sys:get_state`,
//! `sys:get_status`, `sys:suspend` and `sys:resume`, a panic seen as an
//! exit by the caller, and `sys:terminate`.

mod signals_support;

use std::collections::BTreeMap;

use cnode::{Context, Message, Next, Reply, ReplyTo, Server};
use etf::Term;
use interop_tests::local::{unique_name, Epmd};
use interop_tests::Otp;
use serde::Deserialize;
use signals_support::{erl, rust_node};

interop_tests::per_release!(async erlang_drives_a_rust_server_with_gen_server_and_sys);

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Put(String, i64),
    Get(String),
    Boom,
}

/// A store of integers by name.
#[derive(Default)]
struct Store(BTreeMap<String, i64>);

impl Store {
    fn apply(&mut self, op: Op) -> Term {
        match op {
            Op::Put(key, value) => {
                self.0.insert(key, value);
                Term::atom("ok")
            }
            Op::Get(key) => match self.0.get(&key) {
                Some(value) => Term::tuple(vec![Term::atom("ok"), Term::Int(*value)]),
                None => Term::atom("error"),
            },
            Op::Boom => panic!("boom"),
        }
    }
}

impl Server for Store {
    type Call = Op;
    type Cast = Op;
    type Reply = Term;

    async fn handle_call(&mut self, op: Op, _: ReplyTo, _: &mut Context) -> Reply<Term> {
        Reply::Reply(self.apply(op))
    }

    async fn handle_cast(&mut self, op: Op, _: &mut Context) -> Next {
        self.apply(op);
        Next::Continue
    }

    async fn handle_info(&mut self, message: Message, _: &mut Context) -> Next {
        if let Ok(op) = etf::serde::from_term::<Op>(&message.payload) {
            self.apply(op);
        }
        Next::Continue
    }

    fn state_term(&self) -> Term {
        etf::serde::to_term(&self.0).unwrap_or_else(|_| Term::atom("undefined"))
    }
}

async fn erlang_drives_a_rust_server_with_gen_server_and_sys(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let epmd_port = epmd.port();
    let node = rust_node(&otp, epmd_port).await;
    let server = node
        .start_server(Some("store"), Store::default())
        .await
        .expect("the server starts");
    let eval = format!(
        r#"R = '{r}', S = {{store, R}},
        Show = fun(Tag, F) ->
            Out = try F() of V -> {{value, V}} catch exit:{{Why, _}} -> {{exit, Why}} end,
            io:format("~s ~p~n", [Tag, Out])
        end,
        Show("put", fun() -> gen_server:call(S, {{put, a, 1}}) end),
        ok = gen_server:cast(S, {{put, b, 2}}),
        S ! {{put, c, 3}},
        Show("get", fun() -> gen_server:call(S, {{get, b}}, 5000) end),
        Show("missing", fun() -> gen_server:call(S, {{get, z}}) end),
        Show("state", fun() -> sys:get_state(S) end),
        {{status, Pid, Module, [_, SysState, _, _, Misc]}} = sys:get_status(S, 5000),
        io:format("status ~w ~w ~w~n", [node(Pid), Module, SysState]),
        io:format("header ~s~n", [proplists:get_value(header, Misc)]),
        Data = lists:append([D || {{data, D}} <- Misc]),
        io:format("data ~p ~p~n", [proplists:get_value("Status", Data), proplists:get_value("State", Data)]),
        ok = sys:suspend(S),
        {{status, _, _, [_, Suspended | _]}} = sys:get_status(S),
        io:format("suspended ~w~n", [Suspended]),
        Self = self(),
        spawn(fun() -> Self ! {{late, gen_server:call(S, {{get, a}})}} end),
        receive {{late, Early}} -> io:format("early ~w~n", [Early]) after 300 -> io:format("waiting~n") end,
        ok = sys:resume(S),
        receive {{late, Late}} -> io:format("late ~w~n", [Late]) end,
        Show("boom", fun() -> gen_server:call(S, boom) end),
        Show("after", fun() -> gen_server:call(S, {{get, a}}) end),
        io:format("ping ~w~n", [net_adm:ping(R)]),
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
    let expected = [
        "put {value,ok}".to_owned(),
        "get {value,{ok,2}}".to_owned(),
        "missing {value,error}".to_owned(),
        r#"state {value,#{<<"a">> => 1,<<"b">> => 2,<<"c">> => 3}}"#.to_owned(),
        format!("status {} {{module,gen_server}} running", node.name()),
        "header Status for generic server store".to_owned(),
        r#"data running #{<<"a">> => 1,<<"b">> => 2,<<"c">> => 3}"#.to_owned(),
        "suspended suspended".to_owned(),
        "waiting".to_owned(),
        "late {ok,1}".to_owned(),
        r#"boom {exit,{panic,<<"boom">>}}"#.to_owned(),
        "after {exit,noproc}".to_owned(),
        "ping pong".to_owned(),
    ];
    assert_eq!(lines, expected, "OTP {}", otp.release);
    assert_eq!(node.whereis("store"), None);
    drop(server);
}
