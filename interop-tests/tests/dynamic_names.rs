//! Dynamic node names (`NAME_ME`, OTP 23 and later) both ways, against real
//! `erl` nodes of OTP 25, 27, 28 and 29 on their own EPMD:
//!
//! - `erl -sname undefined` connects to our node, which names it as OTP's
//!   `net_kernel` would (a random base-36 alive part at the host it sent);
//!   then ping and messages go both ways over that connection (erl listens
//!   nowhere, so it is the only one).
//! - Our node takes its name from erl (`NodeBuilder::start_named_by`):
//!   erl's name for it becomes its own, ping and rpc go both ways, and the
//!   name is registered in no EPMD.

use std::time::Duration;

use cnode::Node;
use epmd_client::EpmdClient;
use etf::Term;
use interop_tests::local::{loopback_node, short_host, unique_name, Epmd, ErlNode};
use interop_tests::Otp;

const COOKIE: &str = "dynamic_names_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(
    async
    erl_takes_a_dynamic_name_from_our_node,
    our_node_takes_a_dynamic_name_from_erl,
);

/// A name OTP gives: 1 to 13 base-36 digits (upper case) at `host`.
fn assert_dynamic(name: &str, host: &str) {
    let (alive, at) = name.split_once('@').expect("alive@host");
    assert_eq!(at, host, "{name}");
    assert!(
        (1..=13).contains(&alive.len())
            && alive
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "not a dynamic name: {name}"
    );
}

/// The names registered with the EPMD on `port`.
async fn registered(port: u16) -> Vec<String> {
    let names = EpmdClient::new("127.0.0.1", port)
        .names()
        .await
        .expect("EPMD answers NAMES");
    names.nodes.into_iter().map(|entry| entry.name).collect()
}

/// `erl -sname undefined` connects to our node and is named by it; ping
/// both ways and a message each way over the one connection.
async fn erl_takes_a_dynamic_name_from_our_node(otp: Otp) {
    let host = short_host().expect("host name");
    let mut epmd = Epmd::start(&otp).await.expect("epmd starts");
    let node = loopback_node(
        format!("{}@{host}", unique_name("namer", &otp)),
        COOKIE,
        epmd.port(),
    )
    .start()
    .await
    .expect("our node starts");
    let mut inbox = node.spawn_process().expect("a process");
    inbox.register("inbox").expect("the name is free");

    let eval = format!(
        r#"R = '{rust}',
        true = net_kernel:connect_node(R),
        io:format("named ~s~n", [node()]),
        io:format("ping ~p~n", [net_adm:ping(R)]),
        {{inbox, R}} ! {{hello, self()}},
        receive {{reply, X}} -> io:format("reply ~p~n", [X])
        after 10000 -> io:format("no reply~n")
        end,
        receive stop -> ok after 20000 -> ok end,
        halt()"#,
        rust = node.name()
    );
    let mut erl = ErlNode::builder(&otp, "undefined")
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .eval(&eval)
        .start()
        .expect("erl starts")
        .with_wait(WAIT);
    let line = erl.next_line().await.expect("erl prints its name");
    let given = line.strip_prefix("named ").expect("named NAME").to_owned();
    assert_dynamic(&given, &host);
    erl.wait_for_line("ping pong")
        .await
        .expect("erl pings us under its new name");

    let message = tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("a message in time")
        .expect("a message");
    let from = match message.payload.as_tuple() {
        Some([tag, Term::Pid(from)]) if *tag == Term::atom("hello") => from.clone(),
        _ => panic!("unexpected message {}", message.payload),
    };
    assert_eq!(from.node.as_str(), given);
    // erl listens nowhere: this goes over the connection it made.
    node.ping(&given).await.expect("we ping erl back");
    inbox
        .send(
            &from,
            Term::tuple(vec![Term::atom("reply"), Term::atom("ok")]),
        )
        .expect("the reply goes out");
    erl.wait_for_line("reply ok")
        .await
        .expect("erl gets the reply");
    assert!(!registered(epmd.port()).await.contains(&given));
    node.shutdown().await;
    epmd.kill().await.expect("epmd stops");
}

/// Our node asks erl for a name: it becomes the node's, pids carry it,
/// ping and rpc go both ways, and EPMD never hears of it.
async fn our_node_takes_a_dynamic_name_from_erl(otp: Otp) {
    let host = short_host().expect("host name");
    let mut epmd = Epmd::start(&otp).await.expect("epmd starts");
    let erl_alive = unique_name("erl", &otp);
    let target = format!("{erl_alive}@{host}");
    let eval = r#"register(sink, self()),
        io:format("ready~n"),
        receive {From, Msg} -> From ! {echo, Msg} end,
        receive stop -> ok after 20000 -> ok end,
        halt()"#;
    let mut erl = ErlNode::builder(&otp, &erl_alive)
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .eval(eval)
        .start()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ready").await.expect("erl is up");

    let node = Node::builder("undefined")
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .start_epmd(false)
        .start_named_by(&erl_alive)
        .await
        .expect("erl names our node");
    assert_dynamic(node.name(), &host);
    assert!(node.creation() >= 4, "creation {}", node.creation());

    // erl knows us by that name, as a hidden node.
    let hidden = node
        .rpc()
        .call(&target, "erlang", "nodes", vec![Term::atom("hidden")], WAIT)
        .await
        .expect("rpc answers");
    assert_eq!(hidden, Term::List(vec![Term::atom(node.name())]));
    // erl pings us back over the same connection.
    let pong = node
        .rpc()
        .call(
            &target,
            "net_adm",
            "ping",
            vec![Term::atom(node.name())],
            WAIT,
        )
        .await
        .expect("rpc answers");
    assert_eq!(pong, Term::atom("pong"));
    node.ping(&target).await.expect("we ping erl");

    // Our pids carry the name and creation erl gave.
    let mut me = node.spawn_process().expect("a process");
    assert_eq!(me.pid().node.as_str(), node.name());
    assert_eq!(me.pid().creation, node.creation());
    let payload = Term::tuple(vec![Term::Pid(me.pid().clone()), Term::atom("hi")]);
    me.send(("sink", target.as_str()), payload)
        .expect("the message goes out");
    let echo = tokio::time::timeout(WAIT, me.recv())
        .await
        .expect("an answer in time")
        .expect("an answer");
    assert_eq!(
        echo.payload,
        Term::tuple(vec![Term::atom("echo"), Term::atom("hi")])
    );

    assert_eq!(registered(epmd.port()).await, vec![erl_alive]);
    node.shutdown().await;
    erl.kill().await.expect("erl stops");
    epmd.kill().await.expect("epmd stops");
}
