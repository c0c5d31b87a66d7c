//! Setting connections up: simultaneous connects, and disconnects raced
//! by new connects, many rounds each.

use std::time::Duration;

use super::{next_event, node};
use crate::net::memory::MemoryNetwork;
use crate::{ConnectError, NodeEvent};

#[tokio::test(start_paused = true)]
async fn simultaneous_connects_leave_one_connection_up() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let b = node(&network, "b@mem");
    let mut events = a.events();
    for round in 0..300 {
        let (ab, ba) = tokio::join!(a.connect("b@mem"), b.connect("a@mem"));
        ab.unwrap_or_else(|err| panic!("round {round}: a -> b: {err}"));
        ba.unwrap_or_else(|err| panic!("round {round}: b -> a: {err}"));
        assert_eq!(a.nodes(), ["b@mem"], "round {round}");
        assert_eq!(b.nodes(), ["a@mem"], "round {round}");
        let (pa, pb) = tokio::join!(a.ping("b@mem"), b.ping("a@mem"));
        pa.unwrap_or_else(|err| panic!("round {round}: a pings b: {err}"));
        pb.unwrap_or_else(|err| panic!("round {round}: b pings a: {err}"));
        let up = next_event(&mut events, Duration::from_secs(1)).await;
        assert!(
            matches!(up, NodeEvent::NodeUp { .. }),
            "round {round}: {up:?}"
        );
        assert!(a.disconnect("b@mem"));
        let down = next_event(&mut events, Duration::from_secs(1)).await;
        assert!(
            matches!(down, NodeEvent::NodeDown { .. }),
            "round {round}: {down:?}"
        );
        // Let b see the close before the next round.
        until_disconnected(&b).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_connect_right_after_a_disconnect_always_comes_up() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let b = node(&network, "b@mem");
    for round in 0..2000 {
        // The peer sets the connection up, we drop it and at once need it
        // again: the peer may not have seen the close yet.
        b.ping("a@mem")
            .await
            .unwrap_or_else(|err| panic!("round {round}: b pings a: {err}"));
        assert!(a.disconnect("b@mem"), "round {round}");
        a.ping("b@mem")
            .await
            .unwrap_or_else(|err| panic!("round {round}: a pings b again: {err}"));
        assert!(a.disconnect("b@mem"), "round {round}");
        // A message b sends before it sees this close is lost with the
        // connection, as in OTP: the next round starts once b saw it.
        until_disconnected(&b).await;
    }
}

/// Waits until `node` has no connection up.
async fn until_disconnected(node: &crate::Node) {
    while !node.nodes().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn both_sides_disconnecting_and_reconnecting_at_once_settle_on_one_connection() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let b = node(&network, "b@mem");
    a.connect("b@mem").await.expect("connect");
    for round in 0..1000 {
        a.disconnect("b@mem");
        b.disconnect("a@mem");
        let (pa, pb) = tokio::join!(a.ping("b@mem"), b.ping("a@mem"));
        pa.unwrap_or_else(|err| panic!("round {round}: a pings b: {err}"));
        pb.unwrap_or_else(|err| panic!("round {round}: b pings a: {err}"));
    }
    // Settled: one connection, seen from both sides.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(a.nodes(), ["b@mem"]);
    assert_eq!(b.nodes(), ["a@mem"]);
}

#[tokio::test(start_paused = true)]
async fn a_node_nobody_listens_as_is_unreachable_and_a_wrong_cookie_is_refused() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let err = a.connect("nobody@mem").await.unwrap_err();
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
    let _b = super::node_with(&network, "b@mem", |b| b.cookie("another"));
    let err = a.connect("b@mem").await.unwrap_err();
    assert!(matches!(err, ConnectError::CookieRejected { .. }), "{err}");
    assert!(a.nodes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_stalls_the_handshake_is_given_up_after_the_setup_time() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    // Listens, but never answers.
    let _stalled = network.listen("stalled@mem");
    let start = tokio::time::Instant::now();
    let err = a.connect("stalled@mem").await.unwrap_err();
    assert!(matches!(err, ConnectError::Timeout { .. }), "{err}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(7) && took < Duration::from_secs(8),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_ping_on_a_connection_the_peer_just_closed_fails_at_once() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let b = node(&network, "b@mem");
    let mut lost = 0;
    for round in 0..200 {
        b.ping("a@mem")
            .await
            .unwrap_or_else(|err| panic!("round {round}: b pings a: {err}"));
        assert!(a.disconnect("b@mem"));
        // b has not seen the close yet: its ping goes out on the old
        // connection and is lost with it, which b learns at once.
        let start = tokio::time::Instant::now();
        match b.ping("a@mem").await {
            Ok(()) => {}
            Err(crate::NodeError::PingLost { .. }) => lost += 1,
            Err(err) => panic!("round {round}: {err}"),
        }
        assert!(start.elapsed() < Duration::from_secs(1), "round {round}");
        until_disconnected(&b).await;
        until_disconnected(&a).await;
    }
    assert!(lost > 0, "the race never happened");
}
