//! Links, monitors and exit signals across two nodes, and `noconnection`
//! when the connection between them is lost.

use std::time::Duration;

use etf::Term;

use super::node;
use crate::net::memory::MemoryNetwork;
use crate::{Message, Process};

/// The next message of `process`, failing the test if none comes soon.
async fn next(process: &mut Process) -> Term {
    let message: Message = process
        .recv_timeout(Duration::from_secs(5))
        .await
        .expect("a message");
    message.payload
}

fn exit(from: &Process, reason: Term) -> Term {
    Term::tuple(vec![
        Term::atom("EXIT"),
        Term::Pid(from.pid().clone()),
        reason,
    ])
}

#[tokio::test(start_paused = true)]
async fn an_exit_crosses_a_link_to_the_other_node() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let mut pa = a.spawn_process().expect("spawn");
    let pb = b.spawn_process().expect("spawn");
    pa.trap_exit(true);
    pa.link(pb.pid());
    // The link is set up on b before pb ends: a message behind it says so.
    pa.send(pb.pid().clone(), Term::atom("sync")).expect("send");
    let mut pb = pb;
    assert_eq!(next(&mut pb).await, Term::atom("sync"));
    let expected = exit(&pb, Term::atom("boom"));
    pb.exit_with(Term::atom("boom"));
    assert_eq!(next(&mut pa).await, expected);
}

#[tokio::test(start_paused = true)]
async fn a_linked_process_that_does_not_trap_exits_is_killed_by_the_other_nodes_exit() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let mut pa = a.spawn_process().expect("spawn");
    let pb = b.spawn_process().expect("spawn");
    pb.link(pa.pid());
    pb.send(pa.pid().clone(), Term::atom("sync")).expect("send");
    assert_eq!(next(&mut pa).await, Term::atom("sync"));
    let (pid_a, pid_b) = (pa.pid().clone(), pb.pid().clone());
    let watcher = a.spawn_process().expect("spawn");
    let mut watcher = watcher;
    let monitor = watcher.monitor(pid_a.clone()).expect("monitor");
    pb.exit(&pid_a, Term::atom("kill")).expect("exit");
    let _ = pid_b;
    let down = next(&mut watcher).await;
    assert_eq!(
        down,
        Term::tuple(vec![
            Term::atom("DOWN"),
            Term::Reference(monitor),
            Term::atom("process"),
            Term::Pid(pid_a),
            Term::atom("killed"),
        ])
    );
    assert!(pa.killed().is_some());
}

#[tokio::test(start_paused = true)]
async fn a_monitor_on_the_other_node_reports_the_exit_reason() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let mut pa = a.spawn_process().expect("spawn");
    let mut pb = b.spawn_process().expect("spawn");
    let monitor = pa.monitor(pb.pid().clone()).expect("monitor");
    pa.send(pb.pid().clone(), Term::atom("sync")).expect("send");
    assert_eq!(next(&mut pb).await, Term::atom("sync"));
    let pid_b = pb.pid().clone();
    pb.exit_with(Term::atom("normal"));
    assert_eq!(
        next(&mut pa).await,
        Term::tuple(vec![
            Term::atom("DOWN"),
            Term::Reference(monitor),
            Term::atom("process"),
            Term::Pid(pid_b),
            Term::atom("normal"),
        ])
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_connection_fires_every_link_and_monitor_with_noconnection() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let mut pa = a.spawn_process().expect("spawn");
    let mut linked_b = b.spawn_process().expect("spawn");
    let monitored_b = b.spawn_process().expect("spawn");
    pa.trap_exit(true);
    linked_b.trap_exit(true);
    pa.link(linked_b.pid());
    let monitor = pa.monitor(monitored_b.pid().clone()).expect("monitor");
    pa.monitor_node("b@mem");
    pa.send(linked_b.pid().clone(), Term::atom("sync"))
        .expect("send");
    assert_eq!(next(&mut linked_b).await, Term::atom("sync"));

    assert!(a.disconnect("b@mem"));
    let mut got = vec![
        next(&mut pa).await,
        next(&mut pa).await,
        next(&mut pa).await,
    ];
    got.sort();
    let mut expected = vec![
        exit(&linked_b, Term::atom("noconnection")),
        Term::tuple(vec![
            Term::atom("DOWN"),
            Term::Reference(monitor),
            Term::atom("process"),
            Term::Pid(monitored_b.pid().clone()),
            Term::atom("noconnection"),
        ]),
        Term::tuple(vec![Term::atom("nodedown"), Term::atom("b@mem")]),
    ];
    expected.sort();
    assert_eq!(got, expected);
    // And on the other side, the link fires too.
    assert_eq!(
        next(&mut linked_b).await,
        exit(&pa, Term::atom("noconnection"))
    );
    // Nothing fires twice.
    assert!(pa.recv_timeout(Duration::from_secs(1)).await.is_err());
}
