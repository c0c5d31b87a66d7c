//! Links, monitors, exits, aliases and `monitor_node` between processes
//! of one Rust node and across two Rust nodes over loopback, with an
//! in-process EPMD per test. (The same signals against real `erl` nodes
//! are in `interop-tests/tests/signals_interop.rs`.)

use std::time::Duration;

use cnode::{Dest, Node, Process, RecvError, Request};
use epmd_client::ServerHandle;
use etf::{Pid, Reference, Term};
use interop_tests::local::{in_process_epmd, loopback_node, unique_label};

const WAIT: Duration = Duration::from_secs(10);

fn unique(prefix: &str) -> String {
    format!("{}@localhost", unique_label(prefix))
}

async fn epmd() -> ServerHandle {
    in_process_epmd().await.expect("epmd")
}

async fn node(epmd: &ServerHandle, prefix: &str) -> Node {
    loopback_node(unique(prefix), "signals", epmd.port())
        .start()
        .await
        .expect("node starts")
}

async fn next(p: &mut Process) -> Term {
    p.recv_timeout(WAIT).await.expect("a message").payload
}

fn exit_message(from: &Pid, reason: Term) -> Term {
    Term::tuple(vec![Term::atom("EXIT"), Term::Pid(from.clone()), reason])
}

fn down(reference: &Reference, object: Term, reason: Term) -> Term {
    Term::tuple(vec![
        Term::atom("DOWN"),
        Term::Reference(reference.clone()),
        Term::atom("process"),
        object,
        reason,
    ])
}

#[tokio::test]
async fn exits_spread_through_local_links_and_fire_local_monitors() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let mut watcher = a.spawn_process().expect("spawn");
    watcher.trap_exit(true);
    let mut x = a.spawn_process().expect("spawn");
    let mut y = a.spawn_process().expect("spawn");
    y.register("y").expect("register");
    // watcher - x - y linked in a chain; watcher also monitors y by name.
    watcher.link(x.pid());
    x.link(y.pid());
    let m = watcher.monitor(("y", a.name())).expect("monitor");
    let (xp, yp) = (x.pid().clone(), y.pid().clone());
    // A normal exit signal does not kill a process that does not trap.
    watcher.exit(&yp, Term::atom("normal")).expect("exit");
    // `kill` does, whatever it traps, and links then carry `killed`.
    watcher.exit(&yp, Term::atom("kill")).expect("exit");
    assert_eq!(
        y.recv_timeout(WAIT).await,
        Err(RecvError::Killed {
            reason: Term::atom("killed")
        })
    );
    assert_eq!(
        x.recv_timeout(WAIT).await,
        Err(RecvError::Killed {
            reason: Term::atom("killed")
        })
    );
    let object = Term::tuple(vec![Term::atom("y"), Term::atom(a.name())]);
    let mut got = vec![next(&mut watcher).await, next(&mut watcher).await];
    got.sort_by(|p, q| p.compare_erl(q));
    let mut expected = vec![
        down(&m, object, Term::atom("killed")),
        exit_message(&xp, Term::atom("killed")),
    ];
    expected.sort_by(|p, q| p.compare_erl(q));
    assert_eq!(got, expected);
    // The name is free again, and a monitor of it gives noproc.
    assert_eq!(a.whereis("y"), None);
    let again = watcher.monitor(&yp).expect("monitor");
    assert_eq!(
        next(&mut watcher).await,
        down(&again, Term::Pid(yp), Term::atom("noproc"))
    );
    // A demonitored process's end is not reported.
    let z = a.spawn_process().expect("spawn");
    let mz = watcher.monitor(z.pid()).expect("monitor");
    assert!(watcher.demonitor(&mz));
    assert!(!watcher.demonitor(&mz));
    z.exit_with(Term::atom("quiet"));
    assert!(watcher.try_recv().is_none());
}

#[tokio::test]
async fn links_and_monitors_across_rust_nodes_and_the_loss_of_the_connection() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let b = node(&epmd, "b").await;
    let mut pa = a.spawn_process().expect("spawn");
    pa.trap_exit(true);
    let pb = b.spawn_process().expect("spawn");
    let mut qb = b.spawn_process().expect("spawn");
    qb.register("q").expect("register");
    pa.link(pb.pid());
    let m = pa.monitor(pb.pid()).expect("monitor");
    let mq = pa.monitor(("q", b.name())).expect("monitor");
    pa.monitor_node(b.name());
    // pb ends with a reason: the link and the monitor report it.
    let pbp = pb.pid().clone();
    // Make sure the LINK reached b first: a round trip through q.
    pa.send(("q", b.name()), Term::atom("sync")).expect("send");
    assert_eq!(next(&mut qb).await, Term::atom("sync"));
    pb.exit_with(Term::atom("done"));
    let mut got = vec![next(&mut pa).await, next(&mut pa).await];
    got.sort_by(|p, q| p.compare_erl(q));
    let mut expected = vec![
        down(&m, Term::Pid(pbp.clone()), Term::atom("done")),
        exit_message(&pbp, Term::atom("done")),
    ];
    expected.sort_by(|p, q| p.compare_erl(q));
    assert_eq!(got, expected);
    // The connection goes: the name monitor says noconnection, and
    // monitor_node says nodedown.
    assert!(a.disconnect(b.name()));
    let object = Term::tuple(vec![Term::atom("q"), Term::atom(b.name())]);
    let mut got = vec![next(&mut pa).await, next(&mut pa).await];
    got.sort_by(|p, q| p.compare_erl(q));
    let mut expected = vec![
        down(&mq, object, Term::atom("noconnection")),
        Term::tuple(vec![Term::atom("nodedown"), Term::atom(b.name())]),
    ];
    expected.sort_by(|p, q| p.compare_erl(q));
    assert_eq!(got, expected);
}

#[tokio::test]
async fn aliases_and_gen_server_calls_between_rust_nodes() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let b = node(&epmd, "b").await;
    let mut server = b.spawn_process().expect("spawn");
    server.register("srv").expect("register");
    let serve = tokio::spawn(async move {
        while let Ok(request) = server.next_request().await {
            if let Request::Call(call) = request {
                if call.request.is_atom("stop") {
                    server.exit_with(Term::atom("stopped"));
                    return;
                }
                let reply = Term::tuple(vec![Term::atom("ok"), call.request.clone()]);
                call.reply(&server, reply).expect("reply");
            }
        }
    });
    let mut client = a.spawn_process().expect("spawn");
    let reply = client
        .gen_call(("srv", b.name()), Term::Int(7), WAIT)
        .await
        .expect("reply");
    assert_eq!(reply, Term::tuple(vec![Term::atom("ok"), Term::Int(7)]));
    let stopped = client
        .gen_call(("srv", b.name()), Term::atom("stop"), WAIT)
        .await;
    assert!(
        matches!(&stopped, Err(cnode::CallError::Exit { reason }) if reason.is_atom("stopped")),
        "{stopped:?}"
    );
    serve.await.expect("server task");
    let gone = client.gen_call(("srv", b.name()), Term::Int(1), WAIT).await;
    assert!(
        matches!(&gone, Err(cnode::CallError::Exit { reason }) if reason.is_atom("noproc")),
        "{gone:?}"
    );
    // An alias reaches its process from the other node until unaliased.
    let mut owner = a.spawn_process().expect("spawn");
    let alias = owner.alias();
    let sender = b.spawn_process().expect("spawn");
    sender
        .send(Dest::Alias(alias.clone()), Term::atom("via_alias"))
        .expect("send");
    assert_eq!(next(&mut owner).await, Term::atom("via_alias"));
    assert!(owner.unalias(&alias));
    sender
        .send(Dest::Alias(alias.clone()), Term::atom("dropped"))
        .expect("send");
    sender.send(owner.pid(), Term::atom("after")).expect("send");
    assert_eq!(next(&mut owner).await, Term::atom("after"));
}

#[tokio::test]
async fn monitor_node_of_a_node_that_cannot_be_reached_fires_at_once() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let mut p = a.spawn_process().expect("spawn");
    let ghost = unique("ghost");
    p.monitor_node(&ghost);
    assert_eq!(
        next(&mut p).await,
        Term::tuple(vec![Term::atom("nodedown"), Term::atom(&ghost)])
    );
}

#[tokio::test]
async fn a_remote_spawn_on_a_node_that_cannot_be_reached_fails_with_noconnection() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let mut p = a.spawn_process().expect("spawn");
    let ghost = unique("ghost");
    let result = p
        .spawn_remote(
            &ghost,
            "erlang",
            "self",
            vec![],
            cnode::SpawnOptions::default(),
            WAIT,
        )
        .await;
    assert!(
        matches!(&result, Err(cnode::RemoteSpawnError::Refused { reason, .. }) if reason.is_atom("noconnection")),
        "{result:?}"
    );
    assert!(p.try_recv().is_none(), "the nodedown was consumed");
}

#[tokio::test]
async fn links_and_monitors_to_a_node_that_cannot_be_reached_fire_noconnection() {
    let epmd = epmd().await;
    let a = node(&epmd, "a").await;
    let mut p = a.spawn_process().expect("spawn");
    p.trap_exit(true);
    let ghost = Pid {
        node: etf::Atom::new(&unique("ghost")),
        id: 1,
        serial: 0,
        creation: 1,
    };
    p.link(&ghost);
    let m = p.monitor(&ghost).expect("monitor");
    let mut got = vec![next(&mut p).await, next(&mut p).await];
    got.sort_by(|x, y| x.compare_erl(y));
    let mut expected = vec![
        down(&m, Term::Pid(ghost.clone()), Term::atom("noconnection")),
        exit_message(&ghost, Term::atom("noconnection")),
    ];
    expected.sort_by(|x, y| x.compare_erl(y));
    assert_eq!(got, expected);
}
