//! Our EPMD server as the only EPMD of a container host.

use std::path::Path;

use epmd_client::EpmdClient;
use etf::Term;
use interop_tests::containers::Lab;
use interop_tests::Otp;

use cnode::NodeEvent;

use crate::support::{blocking, echo, names, rpc, wait_until_up, CALL_TIME};

/// A host runs `container-epmd` (the `epmd-client` server) and no `epmd`;
/// an OTP 25 and an OTP 28 node beside it start with `-start_epmd false`
/// and register with it. The Rust node finds them through it, and they
/// reach the Rust node through the EPMD embedded in the Rust node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_epmd_serves_a_host_without_epmd() {
    let lab = blocking(|| Lab::new("epmd")).expect("lab");
    let server = Path::new(env!("CARGO_BIN_EXE_container-epmd"));
    let host =
        blocking(|| lab.start_program(&Otp::v25(), "epmdhost", server, &[])).expect("epmd host");
    let erls = blocking(|| {
        [(Otp::v25(), "erl25"), (Otp::v28(), "erl28")].map(|(otp, alive)| {
            lab.start_erl_beside(&otp, alive, &host)
                .unwrap_or_else(|err| panic!("starting {alive}: {err}"))
        })
    });
    let node = lab.rust_node("rust").start().await.expect("rust node");
    for erl in &erls {
        wait_until_up(&node, erl).await;
    }

    let address = host.address().expect("the host has an address").to_string();
    let registered = EpmdClient::new(address.clone(), lab.epmd_port())
        .names()
        .await
        .expect("NAMES from the container's EPMD");
    let registered: Vec<&str> = registered
        .nodes
        .iter()
        .map(|entry| entry.name.as_str())
        .collect();
    assert_eq!(names(registered), names(["erl25", "erl28"]));

    let mut me = node.spawn_process().expect("process");
    me.register("rusty").expect("register");
    let client = EpmdClient::new(address, lab.epmd_port());
    let host_ip = Term::tuple(
        host.address()
            .expect("address")
            .octets()
            .into_iter()
            .map(Term::from)
            .collect(),
    );
    for erl in &erls {
        // Both OTP releases' EPMD clients read the same answer from our server.
        let alive = erl.node().split('@').next().unwrap_or_default();
        let ours = client
            .lookup(alive)
            .await
            .expect("PORT_PLEASE2 from our client");
        let theirs = rpc(
            &node,
            erl.node(),
            "erl_epmd",
            "port_please",
            vec![Term::charlist(alive), host_ip.clone()],
        )
        .await;
        let fields = theirs.as_tuple().unwrap_or_default();
        assert_eq!(
            fields.first(),
            Some(&Term::atom("port")),
            "erl_epmd:port_please on {}: {theirs}",
            erl.node()
        );
        assert_eq!(
            fields.get(1),
            Some(&Term::from(ours.port)),
            "the port erl reads for {alive}"
        );
        echo(&mut me, erl.node(), Term::atom("found through our epmd")).await;
        // The way back: the erl node itself looks the Rust node up in the
        // EPMD embedded in the Rust node (on the host) and connects. A timer
        // on the erl side sends once we have dropped the connection.
        let greeting = Term::tuple(vec![Term::atom("hello"), Term::atom(erl.node())]);
        let send_later = rpc(
            &node,
            erl.node(),
            "timer",
            "apply_after",
            vec![
                Term::from(1000),
                Term::atom("erlang"),
                Term::atom("send"),
                Term::list(vec![
                    Term::tuple(vec![Term::atom("rusty"), Term::atom(node.name())]),
                    greeting.clone(),
                ]),
            ],
        )
        .await;
        assert!(
            send_later
                .as_tuple()
                .and_then(|t| t.first())
                .is_some_and(|tag| tag.is_atom("ok")),
            "timer:apply_after on {}: {send_later}",
            erl.node()
        );
        let mut events = node.events();
        assert!(node.disconnect(erl.node()), "connected to {}", erl.node());
        let message = me.recv_timeout(CALL_TIME).await.unwrap_or_else(|err| {
            panic!("nothing from {} after the disconnect: {err}", erl.node())
        });
        assert_eq!(message.payload, greeting);
        let mut seen = Vec::new();
        while let Some(event) = events.try_recv() {
            seen.push(event);
        }
        assert!(
            matches!(seen.as_slice(), [NodeEvent::NodeDown { .. }, NodeEvent::NodeUp { node }] if node.as_str() == erl.node()),
            "{} reconnected by itself: {seen:?}",
            erl.node()
        );
    }
}
