//! Priority messages (OTP 28's `alias([priority])` and
//! `erlang:send(Alias, Msg, [priority])`) between processes of one Rust node
//! and across two Rust nodes over loopback, with an in-process EPMD per
//! test. (The same against real `erl` nodes is in
//! `interop-tests/tests/priority_messages.rs`.)

use std::time::Duration;

use cnode::{Dest, Node, Process, RecvError};
use epmd_client::ServerHandle;
use etf::Term;
use interop_tests::local::{in_process_epmd, loopback_node, unique_label};

const WAIT: Duration = Duration::from_secs(10);

async fn epmd() -> ServerHandle {
    in_process_epmd().await.expect("epmd")
}

async fn node(epmd: &ServerHandle, prefix: &str) -> Node {
    loopback_node(
        format!("{}@localhost", unique_label(prefix)),
        "priority",
        epmd.port(),
    )
    .start()
    .await
    .expect("node starts")
}

fn int(i: i64) -> Term {
    Term::Int(i)
}

/// Every message waiting, in the order the receive methods give them.
fn drain(process: &mut Process) -> Vec<Term> {
    std::iter::from_fn(|| process.try_recv().map(|m| m.payload)).collect()
}

/// Sends 1, 2, 3 as ordinary messages to `inbox`, then 10 and 11 as
/// priority messages to `priority`, 20 as an ordinary message to
/// `priority`, 30 as a priority message to the pid, then 12 as a priority
/// message to `priority`; returns once all are in `inbox`'s queues.
async fn send_mixed(sender: &Process, inbox: &Process, priority: &Dest) {
    for i in 1..=3 {
        sender.send(inbox.pid(), int(i)).expect("send");
    }
    for i in [10, 11] {
        sender
            .send_priority(priority.clone(), int(i))
            .await
            .expect("priority send");
    }
    sender.send(priority.clone(), int(20)).expect("send");
    sender
        .send_priority(inbox.pid(), int(30))
        .await
        .expect("priority send");
    sender
        .send_priority(priority.clone(), int(12))
        .await
        .expect("priority send");
}

/// What `send_mixed` leaves in the inbox, in receive order.
fn mixed_order() -> Vec<Term> {
    [10, 11, 12, 1, 2, 3, 20, 30].into_iter().map(int).collect()
}

#[tokio::test]
async fn priority_messages_overtake_ordinary_ones_on_one_node() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let sender = a.spawn_process().expect("spawn");
    let mut inbox = a.spawn_process().expect("spawn");
    let priority = Dest::Alias(inbox.priority_alias());
    send_mixed(&sender, &inbox, &priority).await;
    assert_eq!(drain(&mut inbox), mixed_order());

    // Once unaliased, the alias reaches nobody, priority or not.
    let Dest::Alias(alias) = &priority else {
        unreachable!()
    };
    assert!(inbox.unalias(alias));
    sender
        .send_priority(priority.clone(), int(1))
        .await
        .expect("priority send");
    sender.send(priority, int(2)).expect("send");
    sender.send(inbox.pid(), int(3)).expect("send");
    assert_eq!(
        inbox.recv_timeout(WAIT).await.expect("a message").payload,
        int(3)
    );
}

#[tokio::test]
async fn priority_messages_overtake_ordinary_ones_across_nodes() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let b = node(&epmd, "b").await;
    let sender = b.spawn_process().expect("spawn");
    let mut inbox = a.spawn_process().expect("spawn");
    let priority = Dest::Alias(inbox.priority_alias());
    send_mixed(&sender, &inbox, &priority).await;
    // A message after the others, from the same sender, over the same
    // connection: once it is here, all are.
    sender.send(inbox.pid(), Term::atom("last")).expect("send");
    let last = inbox
        .recv_matching_timeout(WAIT, |m| m.payload.is_atom("last"))
        .await
        .expect("last");
    assert_eq!(last.from.as_ref(), Some(sender.pid()));
    assert_eq!(drain(&mut inbox), mixed_order());
}

#[tokio::test]
async fn a_selective_receive_keeps_priority_messages_ahead_of_ordinary_ones() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let sender = a.spawn_process().expect("spawn");
    let mut inbox = a.spawn_process().expect("spawn");
    let priority = Dest::Alias(inbox.priority_alias());
    send_mixed(&sender, &inbox, &priority).await;
    // Picks an ordinary message out: the priority ones it passed over
    // stay first, in order.
    let two = inbox
        .recv_matching_timeout(WAIT, |m| m.payload == int(2))
        .await
        .expect("2");
    assert_eq!(two.payload, int(2));
    // Picks a priority message out from the middle.
    let eleven = inbox
        .recv_matching_timeout(WAIT, |m| m.payload == int(11))
        .await
        .expect("11");
    assert_eq!(eleven.payload, int(11));
    assert_eq!(
        drain(&mut inbox),
        [10, 12, 1, 3, 20, 30]
            .into_iter()
            .map(int)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_waiting_receive_takes_the_priority_message_that_comes() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let b = node(&epmd, "b").await;
    let mut inbox = a.spawn_process().expect("spawn");
    let priority = Dest::Alias(inbox.priority_alias());
    let sender = b.spawn_process().expect("spawn");
    let inbox_pid = inbox.pid().clone();
    let (drained_tx, drained) = tokio::sync::oneshot::channel();
    let waiting = tokio::spawn(async move {
        // Waits for `wanted`, passing over what else comes.
        let wanted = inbox
            .recv_matching_timeout(WAIT, |m| m.payload.is_atom("wanted"))
            .await
            .expect("wanted");
        assert_eq!(wanted.payload, Term::atom("wanted"));
        let first = inbox.recv_timeout(WAIT).await.expect("a message").payload;
        let rest = drain(&mut inbox);
        drained_tx.send(()).expect("the test waits");
        let woken = inbox.recv_timeout(WAIT).await.expect("a message").payload;
        (first, rest, woken, inbox)
    });
    sender.send(&inbox_pid, int(1)).expect("send");
    sender
        .send_priority(priority.clone(), int(10))
        .await
        .expect("priority send");
    sender.send(&inbox_pid, Term::atom("wanted")).expect("send");
    // Once the receiver has taken `wanted` and drained its queues, wake
    // it with a priority message.
    drained.await.expect("drained");
    sender
        .send_priority(priority, int(11))
        .await
        .expect("priority send");
    let (first, rest, woken, mut inbox) = waiting.await.expect("receiver");
    assert_eq!(first, int(10));
    assert_eq!(rest, vec![int(1)]);
    assert_eq!(woken, int(11));

    // A process killed while it has priority messages waiting is dead
    // for its receive methods, as any other.
    sender
        .send_priority(Dest::Alias(inbox.priority_alias()), int(12))
        .await
        .expect("priority send");
    sender.exit(&inbox_pid, Term::atom("kill")).expect("exit");
    let killed = inbox.recv_timeout(WAIT).await;
    assert_eq!(
        killed,
        Err(RecvError::Killed {
            reason: Term::atom("killed")
        })
    );
    assert_eq!(inbox.try_recv(), None);
}
