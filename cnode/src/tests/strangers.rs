//! Strangers at the door: connections that never authenticate (silent,
//! trickling, or in a flood past the limits) must not keep a node that
//! knows the cookie from connecting within its setup time.

use std::net::IpAddr;
use std::time::Duration;

use bytes::BytesMut;
use tokio::time::Instant;

use super::{node, node_with};
use crate::net::memory::{MemoryNetwork, MemoryStream, LOOPBACK};
use crate::net::transport::{write_all, Transport};

/// The default `net_setuptime`.
const SETUP_TIME: Duration = Duration::from_secs(7);

/// The `n`th of many source addresses.
fn source(n: usize) -> IpAddr {
    let [_, _, hi, lo] = u32::try_from(n).expect("small").to_be_bytes();
    IpAddr::from([10, 0, hi, lo])
}

/// Whether the node closed `stream` (it never writes to a stranger that
/// has not sent its name).
fn is_closed(stream: &MemoryStream) -> bool {
    let mut buf = BytesMut::with_capacity(16);
    matches!(stream.try_read_buf(&mut buf), Ok(0))
}

/// Lets every task that can run, run.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// How long `node` took to ping `to`, which must answer within the setup
/// time.
async fn timed_ping(node: &crate::Node, to: &str) -> Duration {
    let start = Instant::now();
    node.ping(to)
        .await
        .unwrap_or_else(|err| panic!("ping {to}: {err}"));
    let took = start.elapsed();
    assert!(took < SETUP_TIME, "ping {to} took {took:?}");
    took
}

/// Writes a frame header that promises 200 bytes, then one byte every
/// second, forever.
async fn trickle(stream: MemoryStream) {
    let _ = write_all(&stream, &[0, 200, b'N']).await;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if write_all(&stream, &[0]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn hundreds_of_silent_and_trickling_connections_do_not_keep_a_node_out() {
    let network = MemoryNetwork::default();
    let a = node_with(&network, "a@mem", |a| a.max_unauthenticated(4096));
    // 500 that never speak, from 50 addresses; 500 that trickle, from 500.
    let silent: Vec<MemoryStream> = (0..500)
        .map(|n| {
            network
                .connect_from("a@mem", source(n % 50))
                .expect("a listens")
        })
        .collect();
    for n in 0..500 {
        let stream = network
            .connect_from("a@mem", source(1000 + n))
            .expect("a listens");
        tokio::spawn(trickle(stream));
    }
    settle().await;
    assert!(silent.iter().all(|s| !is_closed(s)), "no limit is reached");

    // A node that knows the cookie connects at once, and again midway.
    let b = node(&network, "b@mem");
    let took = timed_ping(&b, "a@mem").await;
    assert!(took < Duration::from_millis(10), "{took:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(b.disconnect("a@mem"));
    let c = node(&network, "c@mem");
    timed_ping(&c, "a@mem").await;

    // The strangers are gone once their setup time is up, the tricklers
    // too: a byte a second does not stretch a handshake step.
    tokio::time::sleep(SETUP_TIME - Duration::from_secs(3)).await;
    settle().await;
    assert!(silent.iter().all(is_closed));
    assert_eq!(a.nodes(), ["c@mem"]);
}

#[tokio::test(start_paused = true)]
async fn a_trickling_peer_is_closed_when_its_step_is_up() {
    let network = MemoryNetwork::default();
    let _a = node(&network, "a@mem");
    let stream = network.connect("a@mem").expect("a listens");
    let start = Instant::now();
    write_all(&stream, &[0, 200, b'N']).await.expect("written");
    let mut buf = BytesMut::with_capacity(16);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if write_all(&stream, &[0]).await.is_err() {
            break;
        }
        if stream.try_read_buf(&mut buf).is_ok() {
            break;
        }
    }
    let took = start.elapsed();
    assert!(
        took >= SETUP_TIME && took <= SETUP_TIME + Duration::from_secs(1),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn past_the_limit_the_oldest_stranger_gives_way() {
    let network = MemoryNetwork::default();
    let a = node_with(&network, "a@mem", |a| a.max_unauthenticated(64));
    let strangers: Vec<MemoryStream> = (0..200)
        .map(|n| network.connect_from("a@mem", source(n)).expect("a listens"))
        .collect();
    settle().await;
    let (closed, open) = strangers.split_at(200 - 64);
    assert!(closed.iter().all(is_closed), "the oldest were closed");
    assert!(open.iter().all(|s| !is_closed(s)), "the newest wait");

    // A newcomer that knows the cookie gets in, and takes the place of the
    // oldest that was left.
    let b = node(&network, "b@mem");
    timed_ping(&b, "a@mem").await;
    settle().await;
    assert!(is_closed(&open[0]));
    assert!(open[1..].iter().all(|s| !is_closed(s)));
    assert_eq!(a.nodes(), ["b@mem"]);
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_keeps_opening_connections_cannot_lock_nodes_out() {
    let network = MemoryNetwork::default();
    let _a = node_with(&network, "a@mem", |a| a.max_unauthenticated(64));
    let flood = {
        let network = network.clone();
        tokio::spawn(async move {
            let mut held = std::collections::VecDeque::new();
            for n in 0.. {
                for _ in 0..10 {
                    let stream = network.connect_from("a@mem", source(n % 4096));
                    held.push_back(stream.expect("a listens"));
                    if held.len() > 1000 {
                        held.pop_front();
                    }
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let b = node(&network, "b@mem");
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let took = timed_ping(&b, "a@mem").await;
        assert!(took < Duration::from_millis(10), "round {round}: {took:?}");
        assert!(b.disconnect("a@mem"), "round {round}");
    }
    flood.abort();
}

#[tokio::test(start_paused = true)]
async fn one_address_past_its_limit_gives_way_to_itself_only() {
    let network = MemoryNetwork::default();
    let a = node_with(&network, "a@mem", |a| a.max_unauthenticated_per_source(8));
    let elsewhere: Vec<MemoryStream> = (0..5)
        .map(|_| network.connect_from("a@mem", source(2)).expect("a listens"))
        .collect();
    let crowd: Vec<MemoryStream> = (0..20)
        .map(|_| network.connect_from("a@mem", source(1)).expect("a listens"))
        .collect();
    settle().await;
    assert!(crowd[..12].iter().all(is_closed), "its oldest were closed");
    assert!(crowd[12..].iter().all(|s| !is_closed(s)));
    assert!(
        elsewhere.iter().all(|s| !is_closed(s)),
        "other addresses keep theirs"
    );

    // Nodes share the loopback address with a crowd of strangers there: the
    // newcomer still gets in, the strangers' oldest gives way.
    let local: Vec<MemoryStream> = (0..8)
        .map(|_| network.connect_from("a@mem", LOOPBACK).expect("a listens"))
        .collect();
    let b = node(&network, "b@mem");
    timed_ping(&b, "a@mem").await;
    settle().await;
    assert!(is_closed(&local[0]));
    assert!(local[1..].iter().all(|s| !is_closed(s)));
    assert_eq!(a.nodes(), ["b@mem"]);
}
