//! The Rust node joins a four-host BEAM cluster, one host of each release,, from
//! the host (names by address) and from a container of its own (names by
//! host name).

use cnode::Request;
use etf::Term;
use interop_tests::containers::Lab;
use interop_tests::Otp;

use crate::support::{
    atom_set, blocking, echo, echo_burst, in_rust_container, mesh, names, rpc, start_erls,
};

/// Four hosts (OTP 25, 27, 28, 29: one of each release) in a full mesh; the Rust node, in the test
/// process on the host, connects to each, stays hidden on every one of them,
/// talks to the registered process on each, and calls functions on each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_node_joins_a_mixed_cluster_hidden_and_talks_to_every_host() {
    let lab = blocking(|| Lab::new("cluster")).expect("lab");
    join_hidden_and_talk(&lab).await;
}

/// The same with the Rust node in a container of its own, every node named
/// `alive@host.domain` and found through Docker's resolver: this test
/// binary runs itself again in the lab's `rust` container.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_node_in_its_own_container_joins_the_cluster_by_host_names() {
    const TEST: &str = "cluster::rust_node_in_its_own_container_joins_the_cluster_by_host_names";
    let lab = blocking(|| Lab::new("cluster-dns")).expect("lab");
    if let Some(lab) = in_rust_container(lab, TEST) {
        let rust = lab.rust_node_name("rust");
        assert!(
            rust.ends_with(&lab.host_name("rust")),
            "named by host name: {rust}"
        );
        join_hidden_and_talk(&lab).await;
    }
}

async fn join_hidden_and_talk(lab: &Lab) {
    let node = lab.rust_node("rust").start().await.expect("rust node");
    let erls = start_erls(
        lab,
        &node,
        &[
            (Otp::v25(), "erl1"),
            (Otp::v27(), "erl2"),
            (Otp::v28(), "erl3"),
            (Otp::v29(), "erl4"),
        ],
    )
    .await;
    mesh(&node, &erls).await;

    let all: Vec<&str> = erls.iter().map(|erl| erl.node()).collect();
    assert_eq!(
        names(node.nodes().iter().map(String::as_str)),
        names(all.iter().copied())
    );
    for erl in &erls {
        let release = rpc(
            &node,
            erl.node(),
            "erlang",
            "system_info",
            vec![Term::atom("otp_release")],
        )
        .await;
        assert_eq!(
            release,
            Term::charlist(&erl.release().to_string()),
            "release of {}",
            erl.node()
        );

        let visible = rpc(&node, erl.node(), "erlang", "nodes", vec![]).await;
        let others = names(all.iter().copied().filter(|other| *other != erl.node()));
        assert_eq!(atom_set(&visible), others, "nodes() on {}", erl.node());
        let hidden = rpc(
            &node,
            erl.node(),
            "erlang",
            "nodes",
            vec![Term::atom("hidden")],
        )
        .await;
        assert_eq!(
            atom_set(&hidden),
            names([node.name()]),
            "nodes(hidden) on {}",
            erl.node()
        );
    }

    let mut me = node.spawn_process().expect("process");
    for erl in &erls {
        echo(
            &mut me,
            erl.node(),
            Term::tuple(vec![Term::atom("hello"), Term::binary(&b"from rust"[..])]),
        )
        .await;
    }
    let round_trips = echo_burst(&mut me, &all, 1, 200).await;
    assert_eq!(round_trips, 200 * erls.len());

    // The other way: each host calls a Rust function (rpc:call, through
    // erpc) and a Rust gen_server-style process (gen_server:call).
    node.register_function("rust_side", "add", |args| {
        let sum = args
            .iter()
            .map(|arg| arg.as_i64().unwrap_or(0))
            .sum::<i64>();
        Ok(Term::from(sum))
    });
    let mut server = node.spawn_process().expect("server process");
    server.register("rust_server").expect("register");
    let serving = tokio::spawn(async move {
        while let Ok(request) = server.next_request().await {
            if let Request::Call(call) = request {
                let doubled = call
                    .request
                    .as_i64()
                    .map_or(Term::atom("badarg"), |n| Term::from(n * 2));
                call.reply(&server, doubled).expect("reply");
            }
        }
    });
    for (n, erl) in erls.iter().enumerate() {
        let n = n as i64;
        let sum = rpc(
            &node,
            erl.node(),
            "rpc",
            "call",
            vec![
                Term::atom(node.name()),
                Term::atom("rust_side"),
                Term::atom("add"),
                Term::list(vec![Term::from(n), Term::from(100)]),
            ],
        )
        .await;
        assert_eq!(
            sum,
            Term::from(n + 100),
            "rpc:call into the Rust node from {}",
            erl.node()
        );
        let doubled = rpc(
            &node,
            erl.node(),
            "gen_server",
            "call",
            vec![
                Term::tuple(vec![Term::atom("rust_server"), Term::atom(node.name())]),
                Term::from(n + 21),
            ],
        )
        .await;
        assert_eq!(
            doubled,
            Term::from(2 * (n + 21)),
            "gen_server:call into the Rust node from {}",
            erl.node()
        );
    }
    serving.abort();

    // Each host computes something of its own.
    for erl in &erls {
        let sum = rpc(
            &node,
            erl.node(),
            "lists",
            "sum",
            vec![Term::list((1..=100).map(Term::from).collect())],
        )
        .await;
        assert_eq!(sum, Term::from(5050));
    }
}
