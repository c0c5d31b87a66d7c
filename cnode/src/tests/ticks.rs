//! Ticks and tick timeouts (`net_ticktime`).

use std::time::Duration;

use dist_proto::DistFlags;

use super::scripted::Scripted;
use super::{next_event, node, node_with};
use crate::net::memory::MemoryNetwork;
use crate::{DownReason, NodeEvent};

#[tokio::test(start_paused = true)]
async fn two_idle_nodes_stay_connected_for_hours_on_ticks_alone() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let b = node(&network, "b@mem");
    a.connect("b@mem").await.expect("connect");
    let mut events = a.events();
    tokio::time::sleep(Duration::from_secs(3 * 3600)).await;
    assert_eq!(a.nodes(), ["b@mem"]);
    assert_eq!(b.nodes(), ["a@mem"]);
    assert!(
        tokio::time::timeout(Duration::ZERO, events.recv())
            .await
            .is_err(),
        "no node event while idle"
    );
    a.ping("b@mem").await.expect("pong after hours");
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_is_dropped_after_the_tick_time() {
    let network = MemoryNetwork::default();
    let tick_time = Duration::from_secs(20);
    let a = node_with(&network, "a@mem", |b| b.net_ticktime(tick_time));
    let mut events = a.events();
    let mut peer =
        Scripted::connect(&network, "peer@mem", "a@mem", DistFlags::default_hidden()).await;
    let up = next_event(&mut events, Duration::from_secs(1)).await;
    assert!(matches!(up, NodeEvent::NodeUp { .. }), "{up:?}");
    // The peer reads what comes (the node's ticks) and sends nothing.
    let silent_for = peer.closed().await;
    let down = next_event(&mut events, Duration::ZERO).await;
    let NodeEvent::NodeDown { node, reason } = down else {
        panic!("{down:?}")
    };
    assert_eq!(node.as_str(), "peer@mem");
    assert!(matches!(reason, DownReason::TickTimeout { .. }), "{reason}");
    // OTP drops a peer silent for four tick periods of a quarter of
    // net_ticktime each, checked at the end of each period: between
    // three quarters and one and a quarter of net_ticktime.
    assert!(
        silent_for >= tick_time * 3 / 4 && silent_for <= tick_time * 5 / 4,
        "{silent_for:?}"
    );
    assert!(a.nodes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_only_ticks_is_kept() {
    let network = MemoryNetwork::default();
    let tick_time = Duration::from_secs(20);
    let a = node_with(&network, "a@mem", |b| b.net_ticktime(tick_time));
    let mut peer =
        Scripted::connect(&network, "peer@mem", "a@mem", DistFlags::default_hidden()).await;
    for _ in 0..100 {
        tokio::time::sleep(tick_time / 4).await;
        peer.tick().await;
    }
    assert_eq!(a.nodes(), ["peer@mem"]);
}
