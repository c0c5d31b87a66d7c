//! Flow: the send buffer limit, and large messages in fragments while
//! ticks go on.

use std::time::Duration;

use dist_proto::{ControlMessage, DistFlags};
use etf::{Atom, Pid, Term};

use super::scripted::Scripted;
use super::{node, node_with};
use crate::net::memory::MemoryNetwork;
use crate::SendError;

/// A pid of the scripted peer `peer@mem`.
fn peer_pid() -> Pid {
    Pid {
        node: Atom::new("peer@mem"),
        id: 100,
        serial: 0,
        creation: 7,
    }
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_does_not_read_gets_sends_refused_until_it_reads_again() {
    let network = MemoryNetwork::default();
    const LIMIT: usize = 1 << 20;
    let a = node_with(&network, "a@mem", |b| b.send_buffer_limit(LIMIT));
    let mut peer =
        Scripted::connect(&network, "peer@mem", "a@mem", DistFlags::default_hidden()).await;
    let process = a.spawn_process().expect("spawn");
    let chunk = Term::binary(vec![1u8; 64 * 1024]);
    let mut sent = 0usize;
    let refused = loop {
        match process.send(peer_pid(), chunk.clone()) {
            Ok(()) => sent += 1,
            Err(err) => break err,
        }
        assert!(sent < 1000, "never refused");
    };
    assert!(matches!(refused, SendError::Busy { .. }), "{refused}");
    // More than the limit went out or waits: the pipe's buffer plus the limit.
    assert!(sent * 64 * 1024 > LIMIT, "{sent}");
    // A sender that waits for room gets it once the peer reads.
    let waiting = tokio::spawn(async move {
        process
            .send_wait(peer_pid(), Term::atom("last"))
            .await
            .map(|()| process)
    });
    let mut received = 0;
    while received < sent + 1 {
        let (control, payload) = peer.recv().await.expect("a message");
        assert!(
            matches!(control, ControlMessage::SendSender { .. }),
            "{control:?}"
        );
        received += 1;
        if received == sent + 1 {
            assert_eq!(payload, Some(Term::atom("last")));
        }
    }
    waiting.await.expect("task").expect("sent after waiting");
}

#[tokio::test(start_paused = true)]
async fn a_large_message_in_fragments_between_ticks_arrives_whole() {
    let network = MemoryNetwork::default();
    // Ticks every second; a peer silent for four seconds is dropped.
    let tick_time = Duration::from_secs(4);
    let a = node_with(&network, "a@mem", |b| b.net_ticktime(tick_time));
    let mut receiver = a.spawn_process().expect("spawn");
    receiver.register("sink").expect("register");
    let mut peer =
        Scripted::connect(&network, "peer@mem", "a@mem", DistFlags::default_hidden()).await;
    let big = Term::binary((0..2_000_000u32).map(|i| i as u8).collect::<Vec<u8>>());
    let control = ControlMessage::RegSend {
        from: peer_pid(),
        to: Atom::new("sink"),
        token: None,
    };
    // About 31 fragments of 64 KiB, one every half second with a tick
    // after each: the transfer takes four times the tick time.
    let fragments = peer
        .send_slowly(&control, &big, Duration::from_millis(500))
        .await;
    assert!(fragments > 20, "{fragments}");
    let message = receiver
        .recv_timeout(Duration::from_secs(1))
        .await
        .expect("the message");
    assert_eq!(message.payload, big);
    assert_eq!(a.nodes(), ["peer@mem"]);
}

#[tokio::test(start_paused = true)]
async fn large_messages_both_ways_between_two_nodes() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let b = node(&network, "b@mem");
    let mut pa = a.spawn_process().expect("spawn");
    let mut pb = b.spawn_process().expect("spawn");
    let big = Term::binary(vec![9u8; 5 << 20]);
    for _ in 0..3 {
        pa.send(pb.pid().clone(), big.clone()).expect("a sends");
        pb.send(pa.pid().clone(), big.clone()).expect("b sends");
    }
    for _ in 0..3 {
        assert_eq!(pb.recv().await.expect("b receives").payload, big);
        assert_eq!(pa.recv().await.expect("a receives").payload, big);
    }
}

#[tokio::test(start_paused = true)]
async fn send_wait_waits_for_a_connection_being_set_up_instead_of_filling_its_queue() {
    let network = MemoryNetwork::default();
    let a = node_with(&network, "a@mem", |b| b.pending_bytes(1 << 20));
    let b = node(&network, "b@mem");
    let sender = a.spawn_process().expect("spawn");
    let mut receiver = b.spawn_process().expect("spawn");
    let big = Term::binary(vec![3u8; 2 << 20]);
    // Over the queue's limit at once: send refuses, send_wait waits.
    for _ in 0..3 {
        sender
            .send_wait(receiver.pid().clone(), big.clone())
            .await
            .expect("sent once the connection is up");
    }
    for _ in 0..3 {
        assert_eq!(receiver.recv().await.expect("a message").payload, big);
    }
}
