//! Nodes without EPMD, both ways, against real `erl` nodes (OTP 25, 27, 28
//! and 29) started as `erl -start_epmd false -erl_epmd_port PORT`: every
//! node listens on PORT and dials every other at PORT on its host.
//!
//! Two nodes on one machine cannot both listen on PORT on every address,
//! so the erl node is `NAME@127.0.0.1` and listens there only
//! (`-kernel inet_dist_use_interface`), and ours is `NAME@127.0.0.2`,
//! listening there. Both sides get an `ERL_EPMD_PORT` where nothing
//! listens: any use of EPMD would fail, and the test checks at the end
//! that no EPMD came up on it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use cnode::{ConnectError, Node, NodeError, UnreachableReason};
use etf::Term;
use interop_tests::local::{free_port, unique_name, ErlNode, ErlProcess};
use interop_tests::Otp;

const COOKIE: &str = "epmdless_cookie";
const WAIT: Duration = Duration::from_secs(20);
const OUR_HOST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

interop_tests::per_release!(
    async
    erl_dials_our_node_without_epmd,
    our_node_dials_erl_without_epmd,
);

/// The port every node of the test listens on, and a port where no EPMD
/// runs.
struct Ports {
    dist: u16,
    no_epmd: u16,
}

impl Ports {
    fn new() -> Ports {
        let dist = free_port().expect("a free port");
        let mut no_epmd = free_port().expect("a free port");
        while no_epmd == dist {
            no_epmd = free_port().expect("a free port");
        }
        Ports { dist, no_epmd }
    }

    /// Nothing listens where EPMD would be: neither side started one.
    fn assert_no_epmd(&self) {
        for ip in [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4(OUR_HOST)] {
            let address = SocketAddr::new(ip, self.no_epmd);
            assert!(
                std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err(),
                "something listens on the EPMD port {address}"
            );
        }
    }
}

/// `erl -name ALIVE@127.0.0.1 -start_epmd false -erl_epmd_port PORT`,
/// listening on 127.0.0.1 only, running `eval`.
fn erl(otp: &Otp, alive: &str, ports: &Ports, eval: &str) -> ErlProcess {
    ErlNode::builder(otp, &format!("{alive}@127.0.0.1"))
        .long_name()
        .cookie(COOKIE)
        .epmd_port(ports.no_epmd)
        .args(&[
            "-start_epmd",
            "false",
            "-erl_epmd_port",
            &ports.dist.to_string(),
            "-kernel",
            "inet_dist_use_interface",
            "{127,0,0,1}",
        ])
        .eval(eval)
        .start()
        .expect("erl starts")
        .with_wait(WAIT)
}

/// Our node `rust_...@127.0.0.2` without EPMD, listening on 127.0.0.2 at
/// the cluster's port. Its EPMD port (with the embedded EPMD allowed)
/// is the one where none runs: were EPMD used, it would start there.
async fn rust_node(otp: &Otp, ports: &Ports) -> Node {
    Node::builder(format!("{}@{OUR_HOST}", unique_name("rust", otp)))
        .cookie(COOKIE)
        .epmd_port(ports.no_epmd)
        .erl_epmd_port(ports.dist)
        .listen_address(IpAddr::V4(OUR_HOST))
        .start()
        .await
        .expect("our node starts without EPMD")
}

/// The erl node pings ours (dialing 127.0.0.2 at the port), sends to a
/// registered Rust process and gets its answer.
async fn erl_dials_our_node_without_epmd(otp: Otp) {
    let ports = Ports::new();
    let node = rust_node(&otp, &ports).await;
    assert_ne!(node.creation(), 0);
    let mut inbox = node.spawn_process().expect("a process");
    inbox.register("inbox").expect("the name is free");
    let eval = format!(
        r#"R = '{rust}',
        Ping = fun P(0) -> pang;
                   P(N) -> case net_adm:ping(R) of
                               pong -> pong;
                               pang -> timer:sleep(200), P(N - 1)
                           end
               end,
        io:format("ping ~p~n", [Ping(50)]),
        {{inbox, R}} ! {{hello, self()}},
        receive {{reply, X}} -> io:format("reply ~p~n", [X])
        after 10000 -> io:format("no reply~n")
        end,
        halt()"#,
        rust = node.name()
    );
    let erl_alive = unique_name("erl", &otp);
    let mut erl = erl(&otp, &erl_alive, &ports, &eval);
    erl.wait_for_line("ping pong")
        .await
        .expect("erl reaches us");
    let message = tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("a message in time")
        .expect("a message");
    let from = match message.payload.as_tuple() {
        Some([tag, Term::Pid(from)]) if *tag == Term::atom("hello") => from.clone(),
        _ => panic!("unexpected message {}", message.payload),
    };
    assert_eq!(from.node.as_str(), format!("{erl_alive}@127.0.0.1"));
    inbox
        .send(
            &from,
            Term::tuple(vec![Term::atom("reply"), Term::atom("ok")]),
        )
        .expect("the reply goes out");
    erl.wait_for_line("reply ok")
        .await
        .expect("erl gets the reply");
    // Before the shutdown, which would stop an EPMD of ours.
    ports.assert_no_epmd();
    node.shutdown().await;
}

/// Our node dials the erl node at the port: ping, an rpc, a message to a
/// registered process and its answer; a node that does not run is
/// reported with the address tried.
async fn our_node_dials_erl_without_epmd(otp: Otp) {
    let ports = Ports::new();
    let erl_alive = unique_name("erl", &otp);
    let eval = r#"register(sink, self()),
        io:format("ready~n"),
        receive {From, Msg} -> From ! {echo, Msg} end,
        receive stop -> ok after 20000 -> ok end,
        halt()"#;
    let mut erl = erl(&otp, &erl_alive, &ports, eval);
    erl.wait_for_line("ready").await.expect("erl is up");
    let node = rust_node(&otp, &ports).await;
    let target = format!("{erl_alive}@127.0.0.1");

    node.ping(&target).await.expect("pong without EPMD");
    let name = node
        .rpc()
        .call(&target, "erlang", "node", vec![], WAIT)
        .await
        .expect("rpc answers");
    assert_eq!(name, Term::atom(&target));

    let mut me = node.spawn_process().expect("a process");
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

    // No node listens at the port on 127.0.0.3.
    let absent = format!("{}@127.0.0.3", unique_name("absent", &otp));
    match node.ping(&absent).await {
        Err(NodeError::Connect(ConnectError::Unreachable {
            source: UnreachableReason::Dial { address, .. },
            ..
        })) => assert_eq!(address, SocketAddr::from(([127, 0, 0, 3], ports.dist))),
        other => panic!("expected a failed dial, got {other:?}"),
    }
    // Before the shutdown, which would stop an EPMD of ours.
    ports.assert_no_epmd();
    node.shutdown().await;
}
