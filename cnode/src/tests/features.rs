//! The features between two nodes: rpc to served functions, remote spawn,
//! gen_server calls, and what a peer's odd messages get.

use std::time::Duration;

use dist_proto::{ControlMessage, DistFlags};
use etf::{Atom, Pid, Term};

use super::scripted::Scripted;
use super::{node, tagged};
use crate::net::memory::MemoryNetwork;
use crate::{CallError, Exception, Request, RpcError, SpawnOptions};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn rpc_calls_reach_served_functions_and_failures_come_back_as_badrpc() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    b.register_function("math", "add", |args| {
        match args.iter().map(Term::as_i64).collect::<Option<Vec<i64>>>() {
            Some(xs) if xs.len() == 2 => Ok(Term::from(xs[0] + xs[1])),
            _ => Err(Exception::badarg()),
        }
    });
    b.register_async_function("math", "later", |args| async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(Term::list(args))
    });
    let rpc = a.rpc();
    let sum = rpc
        .call(
            "b@mem",
            "math",
            "add",
            vec![Term::from(2), Term::from(3)],
            WAIT,
        )
        .await
        .expect("a sum");
    assert_eq!(sum, Term::from(5));
    let later = rpc
        .call("b@mem", "math", "later", vec![Term::atom("x")], WAIT)
        .await
        .expect("a later answer");
    assert_eq!(later, Term::list(vec![Term::atom("x")]));
    let bad = rpc
        .call("b@mem", "math", "add", vec![Term::atom("x")], WAIT)
        .await
        .unwrap_err();
    assert!(matches!(bad, RpcError::BadRpc { .. }), "{bad}");
    let undef = rpc
        .call("b@mem", "math", "nothing", vec![], WAIT)
        .await
        .unwrap_err();
    assert!(matches!(undef, RpcError::BadRpc { .. }), "{undef}");
}

#[tokio::test(start_paused = true)]
async fn an_rpc_to_a_node_lost_meanwhile_fails_with_nodedown() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    b.register_async_function("slow", "call", |_| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(Term::atom("late"))
    });
    let rpc = a.rpc();
    let call = tokio::spawn(async move {
        rpc.call("b@mem", "slow", "call", vec![], Duration::from_secs(7200))
            .await
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(a.disconnect("b@mem"));
    let err = call.await.expect("task").unwrap_err();
    assert!(matches!(err, RpcError::NodeDown { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_remote_spawn_runs_a_served_function_and_a_monitor_sees_it_end() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    b.register_function("job", "run", |_| Ok(Term::atom("done")));
    let mut p = a.spawn_process().expect("spawn");
    let options = SpawnOptions {
        monitor: true,
        ..SpawnOptions::default()
    };
    let spawned = p
        .spawn_remote("b@mem", "job", "run", vec![], options, WAIT)
        .await
        .expect("spawned");
    assert_eq!(spawned.pid.node.as_str(), "b@mem");
    let down = p.recv_timeout(WAIT).await.expect("DOWN").payload;
    let fields = down.as_tuple().expect("a tuple");
    assert!(fields[0].is_atom("DOWN"), "{down}");
    assert_eq!(fields[3], Term::Pid(spawned.pid));
}

#[tokio::test(start_paused = true)]
async fn gen_server_calls_between_nodes_and_a_server_that_ends_exits_the_call() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let mut server = b.spawn_process().expect("spawn");
    server.register("kv").expect("register");
    let serving = tokio::spawn(async move {
        loop {
            match server.next_request().await.expect("a request") {
                Request::Call(call) if call.request.is_atom("stop") => {
                    server.exit_with(Term::atom("stopped"));
                    return;
                }
                Request::Call(call) => {
                    let reply = tagged("ok", call.request.clone());
                    call.reply(&server, reply).expect("reply");
                }
                other => panic!("{other:?}"),
            }
        }
    });
    let mut client = a.spawn_process().expect("spawn");
    let reply = client
        .gen_call(("kv", "b@mem"), Term::from(1), WAIT)
        .await
        .expect("a reply");
    assert_eq!(reply, tagged("ok", Term::from(1)));
    let stopped = client
        .gen_call(("kv", "b@mem"), Term::atom("stop"), WAIT)
        .await
        .unwrap_err();
    assert!(
        matches!(&stopped, CallError::Exit { reason } if reason.is_atom("stopped")),
        "{stopped}"
    );
    serving.await.expect("server");
    let noproc = client
        .gen_call(("kv", "b@mem"), Term::from(2), WAIT)
        .await
        .unwrap_err();
    assert!(
        matches!(&noproc, CallError::Exit { reason } if reason.is_atom("noproc")),
        "{noproc}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_peer_linking_to_a_pid_that_is_gone_gets_noproc_and_the_connection_stays() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let gone = a.spawn_process().expect("spawn");
    let gone_pid = gone.pid().clone();
    drop(gone);
    let mut peer =
        Scripted::connect(&network, "peer@mem", "a@mem", DistFlags::default_hidden()).await;
    let from = Pid {
        node: Atom::new("peer@mem"),
        id: 5,
        serial: 0,
        creation: 7,
    };
    peer.send(
        &ControlMessage::Link {
            from: from.clone(),
            to: gone_pid.clone(),
        },
        None,
    )
    .await;
    // A message to a name nobody has is dropped without a word.
    peer.send(
        &ControlMessage::RegSend {
            from: from.clone(),
            to: Atom::new("nobody"),
            token: None,
        },
        Some(&Term::atom("hello")),
    )
    .await;
    let (control, payload) = peer.recv().await.expect("an answer");
    match control {
        ControlMessage::PayloadExit { from: f, to, .. } => {
            assert_eq!((f, to), (gone_pid, from));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(payload, Some(Term::atom("noproc")));
    assert_eq!(a.nodes(), ["peer@mem"]);
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_breaks_the_protocol_is_dropped_and_the_node_serves_others() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let b = node(&network, "b@mem");
    let mut events = a.events();
    let mut peer =
        Scripted::connect(&network, "peer@mem", "a@mem", DistFlags::default_hidden()).await;
    let _up = super::next_event(&mut events, WAIT).await;
    // A frame whose control message is no term at all.
    peer.send_raw(&[0, 0, 0, 3, 112, 1, 2]).await;
    let down = super::next_event(&mut events, WAIT).await;
    assert!(
        matches!(
            &down,
            crate::NodeEvent::NodeDown {
                reason: crate::DownReason::Protocol(_),
                ..
            }
        ),
        "{down:?}"
    );
    b.ping("a@mem").await.expect("the node serves others");
}
