//! The typed API against real `erl` nodes (OTP 25 and 28): a typed served
//! function called with `erpc:call` (and one with arguments that do not
//! convert), messages received and sent as Rust enums, a `gen_server:call`
//! answered through a `ProcessHandle` in another task, a typed rpc into
//! `lists`, and the `'DOWN'`s (`{shutdown, bye}`, then `noconnection` as
//! the node halts) and `'EXIT'` of Erlang processes read as typed values.

mod signals_support;

use cnode::etf::{Pid, Term};
use cnode::{Exception, Reason, Request};
use interop_tests::local::{short_host, unique_name, Epmd};
use interop_tests::Otp;
use serde::{Deserialize, Serialize};
use signals_support::{erl, rust_node, WAIT};

mod otp25 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_messages_calls_and_signals_reach_erlang() {
        super::typed_messages_calls_and_signals_reach_erlang(interop_tests::Otp::v25()).await
    }
}

mod otp28 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_messages_calls_and_signals_reach_erlang() {
        super::typed_messages_calls_and_signals_reach_erlang(interop_tests::Otp::v28()).await
    }
}

/// What the Erlang side sends to `inbox`.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum FromErl {
    Victim(Pid),
    Put(String, i64),
    Get(String),
}

/// What we answer.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Reply {
    Stored(String),
    Value(i64),
}

#[derive(Serialize, Deserialize)]
struct Card {
    name: String,
    points: i64,
}

async fn typed_messages_calls_and_signals_reach_erlang(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let node = rust_node(&otp, epmd.port()).await;
    node.register_typed_function("rust", "card", |(name, points): (String, i64)| async move {
        Ok::<_, Exception>(Card { name, points })
    });
    let mut inbox = node.spawn_process().expect("a process");
    inbox.register("inbox").expect("the name is free");

    let eval = format!(
        r#"R = '{r}',
        true = net_kernel:connect_node(R),
        Card = erpc:call(R, rust, card, [<<"ace">>, 11]),
        io:format("card ~p~n", [Card =:= #{{name => <<"ace">>, points => 11}}]),
        try erpc:call(R, rust, card, [x]) of V -> io:format("badarg no ~p~n", [V])
        catch error:{{exception, {{badarg, Why}}, _}} -> io:format("badarg ~s~n", [Why])
        end,
        P = spawn(fun() -> receive die -> exit({{shutdown, bye}}) end end),
        {{inbox, R}} ! {{victim, P}},
        {{inbox, R}} ! {{put, <<"k">>, 1}},
        receive {{stored, K}} -> io:format("stored ~p~n", [K])
        after 10000 -> io:format("no reply~n")
        end,
        io:format("call ~p~n", [gen_server:call({{inbox, R}}, {{get, <<"k">>}})]),
        receive stop -> ok after 20000 -> ok end,
        halt()"#,
        r = node.name()
    );
    let name = unique_name("typed", &otp);
    let erl_node = format!("{name}@{}", short_host().expect("host name"));
    let mut erl = erl(&otp, epmd.port(), &name, &eval);
    assert_eq!(erl.next_line().await.expect("erl output"), "card true");
    let badarg = erl.next_line().await.expect("erl output");
    assert!(
        badarg.starts_with("badarg rust:card/1: the arguments do not convert"),
        "{badarg}"
    );

    // Typed receive; the sender's pid from the untyped message.
    let first = inbox.recv_timeout(WAIT).await.expect("a message");
    let shell = first.from.clone().expect("REG_SEND carries the sender");
    let Ok(FromErl::Victim(victim)) = first.decode::<FromErl>() else {
        panic!("not a victim: {}", first.payload);
    };
    let put: FromErl = inbox.recv_as_timeout(WAIT).await.expect("a put");
    assert_eq!(put, FromErl::Put("k".into(), 1));
    inbox.send_as(&shell, &Reply::Stored("k".into())).unwrap();
    assert_eq!(
        erl.next_line().await.expect("erl output"),
        r#"stored <<"k">>"#
    );

    // A gen_server:call answered from another task through a handle.
    let Request::Call(call) = inbox.next_request().await.expect("a call") else {
        panic!("not a call");
    };
    assert_eq!(
        call.request_as::<FromErl>().unwrap(),
        FromErl::Get("k".into())
    );
    let handle = inbox.handle();
    tokio::spawn(async move { handle.reply_as(&call, &Reply::Value(1)) })
        .await
        .unwrap()
        .expect("the reply goes out");
    assert_eq!(erl.next_line().await.expect("erl output"), "call {value,1}");

    // Typed rpc into Erlang.
    let sorted: Vec<i64> = node
        .rpc()
        .call_as(&erl_node, "lists", "sort", &(vec![3, 1, 2],), WAIT)
        .await
        .expect("lists:sort answers");
    assert_eq!(sorted, [1, 2, 3]);

    // 'DOWN' and 'EXIT' of an Erlang process, typed.
    inbox.trap_exit(true);
    let monitor = inbox.monitor(&victim).unwrap();
    inbox.link(&victim);
    inbox.send(&victim, Term::atom("die")).unwrap();
    let down = tokio::time::timeout(WAIT, inbox.recv_down(&monitor))
        .await
        .expect("a DOWN in time")
        .unwrap();
    assert_eq!(down.pid(), Some(&victim));
    assert!(down.reason.is_normal_or_shutdown(), "{}", down.reason);
    assert_eq!(
        down.reason,
        Reason::Other(Term::tuple(vec![Term::atom("shutdown"), Term::atom("bye")]))
    );
    let exit = inbox.recv_timeout(WAIT).await.expect("an EXIT");
    let exit = exit.as_exit().expect("an EXIT message");
    assert_eq!(exit.from, victim);
    assert_eq!(exit.reason, down.reason);

    // The node halts: 'DOWN' with noconnection.
    let monitor = inbox.monitor(&shell).unwrap();
    inbox.send(&shell, Term::atom("stop")).unwrap();
    let down = tokio::time::timeout(WAIT, inbox.recv_down(&monitor))
        .await
        .expect("a DOWN in time")
        .unwrap();
    assert_eq!(down.reason, Reason::NoConnection);
}
