//! Two (or three) Rust nodes in one process, over loopback, with an
//! in-process EPMD on a port of its own per test.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use cnode::{ConnectError, DownReason, Message, Node, NodeError, NodeEvent, RecvError};
use epmd_client::ServerHandle;
use etf::Term;
use interop_tests::local::{free_port, in_process_epmd, loopback_node, unique_label};

const WAIT: Duration = Duration::from_secs(20);

fn unique(prefix: &str) -> String {
    format!("{}@localhost", unique_label(prefix))
}

async fn epmd() -> ServerHandle {
    in_process_epmd().await.expect("epmd")
}

async fn node(epmd: &ServerHandle, prefix: &str, cookie: &str) -> Node {
    loopback_node(unique(prefix), cookie, epmd.port())
        .start()
        .await
        .expect("node starts")
}

async fn next_event(events: &mut cnode::NodeEvents) -> NodeEvent {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("an event in time")
        .expect("node alive")
}

#[tokio::test]
async fn messages_flow_both_ways_to_pids_and_names_after_a_connect_on_first_send() {
    let epmd = epmd().await;
    let a = node(&epmd, "a", "pair").await;
    let b = node(&epmd, "b", "pair").await;
    let mut a_events = a.events();
    let mut b_events = b.events();
    let mut pa = a.spawn_process().expect("spawn");
    let mut pb = b.spawn_process().expect("spawn");
    pb.register("server").expect("register");
    assert_eq!(b.whereis("server").as_ref(), Some(pb.pid()));

    // No connection yet: the first send sets it up.
    assert!(a.nodes().is_empty());
    let hello = Term::tuple(vec![Term::atom("hello"), Term::Pid(pa.pid().clone())]);
    pa.send(("server", b.name()), hello.clone()).expect("send");
    let got = pb.recv_timeout(WAIT).await.expect("message");
    assert_eq!(
        got,
        Message {
            from: Some(pa.pid().clone()),
            payload: hello
        }
    );
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
    assert_eq!(b.nodes(), vec![a.name().to_owned()]);
    assert_eq!(
        next_event(&mut a_events).await,
        NodeEvent::NodeUp {
            node: b.name().into()
        }
    );
    assert_eq!(
        next_event(&mut b_events).await,
        NodeEvent::NodeUp {
            node: a.name().into()
        }
    );

    // Back to the pid, with a batch of messages that keep their order.
    for i in 0..1000 {
        pb.send(pa.pid(), Term::Int(i)).expect("send");
    }
    for i in 0..1000 {
        let got = pa.recv_timeout(WAIT).await.expect("message");
        assert_eq!(
            (got.payload, got.from.as_ref()),
            (Term::Int(i), Some(pb.pid()))
        );
    }

    // A process that is gone gets nothing, and its name is free again.
    let gone = pb.pid().clone();
    drop(pb);
    assert_eq!(b.whereis("server"), None);
    pa.send(&gone, Term::atom("lost"))
        .expect("a send to a dead pid is no error");
    let mut pb2 = b.spawn_process().expect("spawn");
    pb2.register("server").expect("name free again");
    pa.send(("server", b.name()), Term::atom("again"))
        .expect("send");
    assert_eq!(
        pb2.recv_timeout(WAIT).await.expect("message").payload,
        Term::atom("again")
    );
}

#[tokio::test]
async fn selective_receive_keeps_the_other_messages_in_order() {
    let epmd = epmd().await;
    let a = node(&epmd, "sel", "pair").await;
    let sender = a.spawn_process().expect("spawn");
    let mut receiver = a.spawn_process().expect("spawn");
    for i in 1..=5 {
        sender.send(receiver.pid(), Term::Int(i)).expect("send");
    }
    let four = receiver
        .recv_matching_timeout(WAIT, |m| m.payload == Term::Int(4))
        .await
        .expect("4");
    assert_eq!(four.payload, Term::Int(4));
    let none = receiver
        .recv_matching_timeout(Duration::from_millis(50), |m| m.payload == Term::Int(9))
        .await;
    assert_eq!(none, Err(RecvError::Timeout(Duration::from_millis(50))));
    let mut rest = Vec::new();
    while let Some(m) = receiver.try_recv() {
        rest.push(m.payload);
    }
    assert_eq!(
        rest,
        vec![Term::Int(1), Term::Int(2), Term::Int(3), Term::Int(5)]
    );
}

#[tokio::test]
async fn ping_both_ways_and_a_wrong_cookie_is_named_while_other_peers_still_connect() {
    let epmd = epmd().await;
    let a = node(&epmd, "ping_a", "right").await;
    let b = node(&epmd, "ping_b", "right").await;
    let stranger = node(&epmd, "stranger", "wrong").await;
    b.ping(a.name()).await.expect("pong");
    a.ping(b.name()).await.expect("pong both ways");

    match stranger.connect(a.name()).await {
        Err(ConnectError::CookieRejected { node }) => assert_eq!(node, a.name()),
        other => panic!("expected CookieRejected, got {other:?}"),
    }
    assert!(matches!(
        stranger.ping(a.name()).await,
        Err(NodeError::Connect(ConnectError::CookieRejected { .. }))
    ));
    assert!(stranger.nodes().is_empty());
    // The per-node cookie fixes it, and `a` kept serving meanwhile.
    stranger.set_cookie(a.name(), "right");
    stranger
        .ping(a.name())
        .await
        .expect("pong with the per-node cookie");
    let c = node(&epmd, "ping_c", "right").await;
    c.ping(a.name()).await.expect("a still serves");
    assert_eq!(a.nodes().len(), 3);
}

#[tokio::test]
async fn disconnect_reports_nodedown_on_both_sides_and_a_send_reconnects() {
    let epmd = epmd().await;
    let a = node(&epmd, "dis_a", "pair").await;
    let b = node(&epmd, "dis_b", "pair").await;
    a.connect(b.name()).await.expect("connect");
    let mut a_events = a.events();
    let mut b_events = b.events();
    assert!(a.disconnect(b.name()));
    assert_eq!(
        next_event(&mut a_events).await,
        NodeEvent::NodeDown {
            node: b.name().into(),
            reason: DownReason::Disconnected
        }
    );
    assert_eq!(
        next_event(&mut b_events).await,
        NodeEvent::NodeDown {
            node: a.name().into(),
            reason: DownReason::Closed
        }
    );
    assert!(a.nodes().is_empty());
    assert!(!a.disconnect(b.name()));

    let mut pb = b.spawn_process().expect("spawn");
    a.send(pb.pid(), Term::atom("back")).expect("send");
    let got = pb
        .recv_timeout(WAIT)
        .await
        .expect("message after reconnect");
    assert_eq!(got.payload, Term::atom("back"));
}

#[tokio::test]
async fn simultaneous_connects_end_in_one_connection_with_no_message_lost() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("cnode=debug")
        .with_test_writer()
        .try_init();
    let epmd = epmd().await;
    for round in 0..10 {
        let a = node(&epmd, &format!("sim{round}_a"), "pair").await;
        let b = node(&epmd, &format!("sim{round}_b"), "pair").await;
        let mut pa = a.spawn_process().expect("spawn");
        let mut pb = b.spawn_process().expect("spawn");
        let (to_b, to_a) = (pb.pid().clone(), pa.pid().clone());
        // Both sides send first, at once: each dials the other.
        let (ra, rb) = tokio::join!(async { pa.send(&to_b, Term::atom("from_a")) }, async {
            pb.send(&to_a, Term::atom("from_b"))
        },);
        ra.expect("send");
        rb.expect("send");
        assert_eq!(
            pb.recv_timeout(WAIT).await.expect("a's message").payload,
            Term::atom("from_a")
        );
        assert_eq!(
            pa.recv_timeout(WAIT).await.expect("b's message").payload,
            Term::atom("from_b")
        );
        assert_eq!(a.nodes(), vec![b.name().to_owned()]);
        assert_eq!(b.nodes(), vec![a.name().to_owned()]);
    }
}

#[tokio::test]
async fn a_node_connects_to_many_nodes_at_once() {
    let epmd = epmd().await;
    let hub = node(&epmd, "hub", "pair").await;
    let mut spokes = Vec::new();
    for i in 0..8 {
        spokes.push(node(&epmd, &format!("spoke{i}"), "pair").await);
    }
    let pings = spokes.iter().map(|s| {
        let hub = hub.clone();
        let name = s.name().to_owned();
        tokio::spawn(async move { hub.ping(&name).await })
    });
    for ping in pings.collect::<Vec<_>>() {
        ping.await.expect("task").expect("pong");
    }
    assert_eq!(hub.nodes().len(), 8);
}

#[tokio::test]
async fn shutdown_ends_mailboxes_and_peers_see_nodedown() {
    let epmd = epmd().await;
    let a = node(&epmd, "down_a", "pair").await;
    let b = node(&epmd, "down_b", "pair").await;
    b.connect(a.name()).await.expect("connect");
    let mut b_events = b.events();
    let mut pa = a.spawn_process().expect("spawn");
    a.shutdown().await;
    assert_eq!(pa.recv().await, Err(RecvError::Closed));
    assert!(matches!(
        next_event(&mut b_events).await,
        NodeEvent::NodeDown {
            reason: DownReason::Closed,
            ..
        }
    ));
    // EPMD forgets `a` when it sees the registration socket close, which
    // may be just after a connect attempt looks it up.
    let result = b.connect(a.name()).await;
    assert!(
        matches!(
            result,
            Err(ConnectError::NotRegistered { .. } | ConnectError::Unreachable { .. })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_node_starts_the_embedded_epmd_when_none_runs_and_takes_a_free_port_of_its_range() {
    // Below the ephemeral range, so that no outgoing connection takes the
    // port before the node's EPMD binds it.
    let epmd_port = free_port().expect("free port");
    // Nothing listens on `epmd_port`: the first node starts an EPMD there.
    let first = Node::builder(unique("embedded"))
        .cookie("pair")
        .epmd_port(epmd_port)
        .listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .start()
        .await
        .expect("starts with its own EPMD");
    let names = epmd_client::EpmdClient::new("127.0.0.1", epmd_port)
        .names()
        .await
        .expect("the embedded EPMD answers");
    assert_eq!(names.nodes.len(), 1, "{names:?}");

    // A range whose first port is busy: the second node takes the next.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy_port = busy.local_addr().expect("addr").port();
    let second = Node::builder(unique("ranged"))
        .cookie("pair")
        .epmd_port(epmd_port)
        .listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .listen_port_range(busy_port, busy_port.saturating_add(20))
        .start()
        .await
        .expect("a free port in the range");
    let alive = second.name().split('@').next().expect("alive part");
    let registered = epmd_client::EpmdClient::new("127.0.0.1", epmd_port)
        .lookup(alive)
        .await
        .expect("registered");
    assert!(registered.port > busy_port && registered.port <= busy_port + 20);
    second
        .ping(first.name())
        .await
        .expect("pong through the embedded EPMD");

    let taken = Node::builder(unique("taken"))
        .cookie("pair")
        .epmd_port(epmd_port)
        .listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .listen_port(busy_port)
        .start()
        .await;
    assert!(matches!(taken, Err(NodeError::Listen { .. })), "{taken:?}");
}

#[tokio::test]
async fn a_name_already_registered_in_epmd_is_refused_at_start() {
    let epmd = epmd().await;
    let first = node(&epmd, "twin", "pair").await;
    let again = loopback_node(first.name(), "pair", epmd.port())
        .start()
        .await;
    assert!(
        matches!(again, Err(NodeError::EpmdRegister { .. })),
        "{again:?}"
    );
    // Once the first is gone, the name is free.
    first.shutdown().await;
    let start = std::time::Instant::now();
    loop {
        let retry = loopback_node(first.name(), "pair", epmd.port())
            .start()
            .await;
        match retry {
            Ok(node) => {
                assert_eq!(node.name(), first.name());
                break;
            }
            Err(err) => assert!(start.elapsed() < WAIT, "name never freed: {err}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_send_to_a_bad_node_name_is_an_error_and_leaves_nothing_behind() {
    let epmd = epmd().await;
    let a = node(&epmd, "bad", "pair").await;
    let p = a.spawn_process().expect("spawn");
    for bad in ["no_at_sign", "@host", "name@"] {
        assert!(
            matches!(
                p.send(("x", bad), Term::Nil),
                Err(cnode::SendError::BadNode { .. })
            ),
            "{bad}"
        );
        assert!(matches!(
            a.connect(bad).await,
            Err(ConnectError::BadName { .. })
        ));
    }
    assert!(a.nodes().is_empty());
    // A well-formed name nobody registered: the send is queued, the
    // connection fails, and connect says why.
    let nobody = "nobody_here@localhost";
    p.send(("x", nobody), Term::Nil).expect("queued");
    match a.connect(nobody).await {
        Err(ConnectError::NotRegistered { node, epmd: at }) => {
            assert_eq!(
                (node.as_str(), at),
                (nobody, format!("localhost:{}", epmd.port()))
            )
        }
        other => panic!("expected NotRegistered, got {other:?}"),
    }
    // No EPMD answers on the peer's host (our EPMD listens on 127.0.0.1
    // only): said so.
    match a.connect("nobody@127.0.0.2").await {
        Err(ConnectError::EpmdUnreachable { epmd: at, .. }) => {
            assert_eq!(at, format!("127.0.0.2:{}", epmd.port()))
        }
        other => panic!("expected EpmdUnreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_process_that_never_reads_does_not_hold_up_the_others() {
    let epmd = epmd().await;
    let a = node(&epmd, "flood_a", "pair").await;
    let b = node(&epmd, "flood_b", "pair").await;
    let sender = a.spawn_process().expect("spawn");
    let _sleeper = {
        let sleeper = b.spawn_process().expect("spawn");
        sleeper.register("sleeper").expect("register");
        sleeper
    };
    let mut awake = b.spawn_process().expect("spawn");
    a.connect(b.name()).await.expect("connect");
    let blob = Term::binary(vec![1u8; 1024]);
    for _ in 0..20_000 {
        sender
            .send(("sleeper", b.name()), blob.clone())
            .expect("send");
    }
    sender.send(awake.pid(), Term::atom("ping")).expect("send");
    let got = awake
        .recv_timeout(WAIT)
        .await
        .expect("behind 20 MB for a sleeper");
    assert_eq!(got.payload, Term::atom("ping"));
}

#[tokio::test]
async fn sends_to_a_node_being_set_up_are_bounded_and_the_setup_times_out() {
    let epmd = epmd().await;
    let a = loopback_node(unique("patient"), "pair", epmd.port())
        .setup_time(Duration::from_millis(500))
        .pending_limit(3)
        .start()
        .await
        .expect("node");
    // A "node" that accepts connections and never says a word.
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mute_port = mute.local_addr().expect("addr").port();
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = mute.accept().await {
            held.push(stream);
        }
    });
    let alive = format!("mute_{}", std::process::id());
    let _registration = epmd_client::EpmdClient::new("127.0.0.1", epmd.port())
        .register(epmd_client::NodeInfo::new(
            alive.clone(),
            mute_port,
            epmd_client::NodeType::HIDDEN,
        ))
        .await
        .expect("register the mute node");
    let mute_node = format!("{alive}@localhost");

    let p = a.spawn_process().expect("spawn");
    for i in 0..3 {
        p.send(("x", mute_node.as_str()), Term::Int(i))
            .expect("queued");
    }
    match p.send(("x", mute_node.as_str()), Term::Int(3)) {
        Err(cnode::SendError::QueueFull {
            node, queued: 3, ..
        }) => assert_eq!(node, mute_node),
        other => panic!("expected QueueFull, got {other:?}"),
    }
    let started = std::time::Instant::now();
    match a.connect(&mute_node).await {
        Err(ConnectError::Timeout { node, after }) => {
            assert_eq!(
                (node.as_str(), after),
                (mute_node.as_str(), Duration::from_millis(500))
            )
        }
        other => panic!("expected a setup timeout, got {other:?}"),
    }
    assert!(started.elapsed() < WAIT);
    // The queue went with the failed setup: sends are accepted again.
    p.send(("x", mute_node.as_str()), Term::Int(4))
        .expect("a new attempt");
}
