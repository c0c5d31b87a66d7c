//! Ticks between our node and a bare peer driven by the `dist-proto` state
//! machines over loopback: the node ticks an idle link, and drops a peer
//! that stays silent for the tick time.

use std::time::{Duration, Instant};

use cnode::{DownReason, NodeEvent};
use dist_proto::{Cookie, HandshakeConfig, Initiator, InitiatorEvent};
use epmd_client::EpmdClient;
use interop_tests::local::{in_process_epmd, loopback_node};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TICK_TIME: Duration = Duration::from_secs(1);
/// The most an event may take to arrive on a loaded machine (only the
/// drop itself is timed against the tick time).
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_node_ticks_an_idle_link_and_drops_a_silent_peer() {
    let epmd = in_process_epmd().await.expect("epmd");
    let node = loopback_node(
        format!("ticker_{}@localhost", std::process::id()),
        "ticks",
        epmd.port(),
    )
    .net_ticktime(TICK_TIME)
    .start()
    .await
    .expect("node");
    let mut events = node.events();
    let alive = node.name().split('@').next().expect("alive part");
    let port = EpmdClient::new("127.0.0.1", epmd.port())
        .lookup(alive)
        .await
        .expect("registered")
        .port;

    // A bare peer: handshake, then read without ever sending.
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let peer = format!("silent_{}@localhost", std::process::id());
    let now = Instant::now();
    let mut initiator = Initiator::new(
        HandshakeConfig::new(peer.clone(), 1),
        node.name(),
        Cookie::new("ticks"),
        0x5eed,
        now,
    );
    let mut buf = vec![0u8; 4096];
    let leftover = loop {
        let mut out = Vec::new();
        initiator.poll_transmit(&mut out);
        stream.write_all(&out).await.expect("write");
        match initiator.poll_event() {
            Some(InitiatorEvent::Established(done)) => break done.leftover,
            Some(other) => panic!("unexpected {other:?}"),
            None => {}
        }
        let n = stream.read(&mut buf).await.expect("read");
        assert_ne!(n, 0, "the node closed the handshake");
        initiator
            .handle_input(&buf[..n], Instant::now())
            .expect("handshake");
    };
    assert!(leftover.is_empty());
    assert_eq!(
        tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("nodeup"),
        Some(NodeEvent::NodeUp {
            node: peer.as_str().into()
        })
    );

    // Everything the node sends now is ticks: empty frames, one per
    // quarter tick time, until it gives up on us.
    let start = Instant::now();
    let mut ticks = 0;
    let mut received = Vec::new();
    loop {
        match tokio::time::timeout(TICK_TIME * 3, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the node neither ticked nor closed"),
        }
        while received.len() >= 4 {
            assert_eq!(&received[..4], &[0, 0, 0, 0], "only ticks on an idle link");
            received.drain(..4);
            ticks += 1;
        }
    }
    let silent_for = start.elapsed();
    assert!(ticks >= 2, "only {ticks} ticks");
    assert!(
        silent_for >= TICK_TIME / 2 && silent_for <= TICK_TIME * 2,
        "dropped after {silent_for:?}"
    );
    match tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("nodedown")
    {
        Some(NodeEvent::NodeDown {
            node: down,
            reason: DownReason::TickTimeout { .. },
        }) => {
            assert_eq!(down.as_str(), peer)
        }
        other => panic!("expected a tick timeout, got {other:?}"),
    }
    assert!(node.nodes().is_empty());
}
