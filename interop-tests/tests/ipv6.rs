//! Distribution over IPv6 against real `erl -proto_dist inet6_tcp` nodes
//! (OTP 25, 27, 28 and 29), both ways, with EPMD over IPv6: a real `epmd`
//! in one test, our embedded EPMD server in the other.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use cnode::{AddressFamily, Node};
use etf::Term;
use interop_tests::local::{in_process_epmd, short_host, unique_name, Epmd, ErlNode, ErlProcess};
use interop_tests::Otp;

const COOKIE: &str = "ipv6_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(
    async
    an_inet6_erl_node_reaches_our_loopback_node,
    our_ipv6_node_reaches_an_inet6_erl_node_through_our_epmd,
);

/// `erl -proto_dist inet6_tcp` named `name` (`-name` when `long`), on the
/// EPMD at `epmd_port`, running `eval`.
fn erl_inet6(otp: &Otp, name: &str, long: bool, epmd_port: u16, eval: &str) -> ErlProcess {
    let mut erl = ErlNode::builder(otp, name)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .args(&["-proto_dist", "inet6_tcp"])
        .eval(eval);
    if long {
        erl = erl.long_name();
    }
    erl.start().expect("erl starts").with_wait(WAIT)
}

/// An `inet6_tcp` erl node (short name, on a real `epmd`) pings our node,
/// which listens on loopback as `cnode serve` does by default (`127.0.0.1`
/// and `::1`) and registers with EPMD over IPv4; erl looks it up and
/// connects over IPv6, as it says of the connection. Then our node
/// calls erl over the same connection.
async fn an_inet6_erl_node_reaches_our_loopback_node(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let node = Node::builder(unique_name("rust", &otp))
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .start_epmd(false)
        .listen_loopback()
        .start()
        .await
        .expect("our node starts");
    let eval = format!(
        r#"R = '{rust}',
        io:format("ping ~p~n", [net_adm:ping(R)]),
        {{ok, {{net_address, Address, _, _, Family}}}} = net_kernel:node_info(R, address),
        io:format("address ~w ~w~n", [element(1, Address), Family]),
        receive stop -> ok after 20000 -> ok end,
        halt()"#,
        rust = node.name()
    );
    let erl_alive = unique_name("erl6", &otp);
    let mut erl = erl_inet6(&otp, &erl_alive, false, epmd.port(), &eval);
    erl.wait_for_line("ping pong")
        .await
        .expect("erl reaches us");
    erl.wait_for_line("address {0,0,0,0,0,0,0,1} inet6")
        .await
        .expect("over IPv6 loopback");
    let target = format!("{erl_alive}@{}", short_host().expect("host name"));
    let answer = node
        .rpc()
        .call(&target, "erlang", "node", vec![], WAIT)
        .await
        .expect("rpc answers");
    assert_eq!(answer, Term::atom(&target));
    node.shutdown().await;
}

/// An `inet6_tcp` erl node named `NAME@::1` registers with our embedded
/// EPMD (over IPv6: OTP registers through `::1`), and our node, IPv6 only
/// and named `NAME@::1` too, looks it up there over IPv6 and dials it;
/// then erl calls a Rust function back.
async fn our_ipv6_node_reaches_an_inet6_erl_node_through_our_epmd(otp: Otp) {
    let epmd = in_process_epmd().await.expect("our EPMD starts");
    let erl_name = format!("{}@::1", unique_name("erl6", &otp));
    let eval = r#"register(sink, self()),
        io:format("ready~n"),
        receive {From, call_back, R} -> From ! {back, rpc:call(R, rust, hello, [])} end,
        receive stop -> ok after 20000 -> ok end,
        halt()"#;
    let mut erl = erl_inet6(&otp, &erl_name, true, epmd.port(), eval);
    erl.wait_for_line("ready").await.expect("erl is up");
    let node = Node::builder(format!("{}@::1", unique_name("rust", &otp)))
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .start_epmd(false)
        .address_family(AddressFamily::Ipv6)
        .listen_loopback()
        .start()
        .await
        .expect("our node starts");
    // Our node listens on ::1 alone.
    let v4 = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, our_port(&node, &epmd).await));
    assert!(v4.is_err(), "an IPv6 node takes no IPv4 connection");

    node.register_function("rust", "hello", |_| Ok(Term::atom("hello_from_rust")));

    node.ping(&erl_name).await.expect("pong over IPv6");
    let mut me = node.spawn_process().expect("a process");
    let request = Term::tuple(vec![
        Term::Pid(me.pid().clone()),
        Term::atom("call_back"),
        Term::atom(node.name()),
    ]);
    me.send(("sink", erl_name.as_str()), request)
        .expect("the request goes out");
    let back = tokio::time::timeout(WAIT, me.recv())
        .await
        .expect("an answer in time")
        .expect("an answer");
    assert_eq!(
        back.payload,
        Term::tuple(vec![Term::atom("back"), Term::atom("hello_from_rust")])
    );
    node.shutdown().await;
    epmd.shutdown().await;
}

/// The port our node registered with `epmd`.
async fn our_port(node: &Node, epmd: &epmd_client::ServerHandle) -> u16 {
    let alive = node.name().split('@').next().unwrap_or_default().to_owned();
    epmd_client::EpmdClient::new(IpAddr::from(Ipv4Addr::LOCALHOST).to_string(), epmd.port())
        .lookup(&alive)
        .await
        .expect("our node is registered")
        .port
}
