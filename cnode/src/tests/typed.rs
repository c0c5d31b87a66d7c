//! The typed API between two nodes: Rust values sent, received, called,
//! replied with and served; `'DOWN'`, `'EXIT'` and `nodedown` read as typed
//! values; replies from a [`ProcessHandle`](crate::ProcessHandle) in
//! another task.

use std::time::Duration;

use etf::{term, Term};
use serde::{Deserialize, Serialize};

use super::node;
use crate::net::memory::MemoryNetwork;
use crate::{Error, Exception, Reason, Request, RpcError, SystemMessage};

const WAIT: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Command {
    Put(String, i64),
    Get(String),
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Card {
    name: String,
    points: i64,
}

#[tokio::test(start_paused = true)]
async fn typed_receive_takes_the_first_message_that_converts_and_keeps_the_others() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let sender = a.spawn_process().unwrap();
    let mut receiver = b.spawn_process().unwrap();
    sender.send(receiver.pid(), term!({hello, "x"})).unwrap();
    sender
        .send_as(receiver.pid(), &Command::Put("k".into(), 1))
        .unwrap();
    let got: Command = receiver.recv_as_timeout(WAIT).await.expect("a command");
    assert_eq!(got, Command::Put("k".into(), 1));
    // The message that did not convert waits, first in line.
    let skipped = receiver.recv_timeout(WAIT).await.unwrap();
    assert_eq!(skipped.payload, term!({hello, "x"}));
    assert_eq!(skipped.from.as_ref(), Some(sender.pid()));
    // Nothing converts: a timeout, and the message stays.
    sender.send(receiver.pid(), term!(nope)).unwrap();
    let err = receiver
        .recv_as_timeout::<Command>(Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Recv(crate::RecvError::Timeout(_))),
        "{err}"
    );
    let left = receiver.recv_timeout(WAIT).await.unwrap();
    assert_eq!(left.payload, Term::atom("nope"));
    assert!(left.decode::<Command>().is_err());
}

#[tokio::test(start_paused = true)]
async fn typed_functions_are_served_and_typed_rpc_calls_them() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    b.register_typed_function(
        "cards",
        "make",
        |(name, points): (String, i64)| async move {
            if points < 0 {
                return Err(Exception::Throw(term!(negative)));
            }
            Ok(Card { name, points })
        },
    );
    let rpc = a.rpc();
    let card: Card = rpc
        .call_as("b@mem", "cards", "make", &("ace", 11), WAIT)
        .await
        .expect("a card");
    assert_eq!(
        card,
        Card {
            name: "ace".into(),
            points: 11
        }
    );
    // A thrown value is what rpc:call returns; here it is no card.
    let thrown = rpc
        .call(
            "b@mem",
            "cards",
            "make",
            vec!["x".into(), (-1).into()],
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(thrown, Term::atom("negative"));
    // Arguments that do not convert: badarg naming the function.
    let err = rpc
        .call_as::<_, Card>("b@mem", "cards", "make", &(1,), WAIT)
        .await
        .unwrap_err();
    let Error::Rpc(RpcError::BadRpc { reason, .. }) = &err else {
        panic!("not a badrpc: {err}");
    };
    let text = reason.to_string();
    assert!(
        text.contains("badarg") && text.contains("cards:make/1"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_is_answered_from_another_task_through_a_handle() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let mut server = b.spawn_process().unwrap();
    server.register("kv").unwrap();
    let handle = server.handle();
    tokio::spawn(async move {
        while let Ok(request) = server.next_request().await {
            if let Request::Call(call) = request {
                let handle = handle.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    let reply = match call.request_as::<Command>() {
                        Ok(Command::Get(key)) => Term::ok(Term::from(key)),
                        Ok(Command::Put(..)) => Term::atom("ok"),
                        Err(err) => Term::error(err.to_string()),
                    };
                    handle.reply(&call, reply).unwrap();
                });
            }
        }
    });
    let mut client = a.spawn_process().unwrap();
    let reply: (String, String) = client
        .gen_call_as(("kv", "b@mem"), &Command::Get("k".into()), WAIT)
        .await
        .expect("a reply");
    assert_eq!(reply, ("ok".into(), "k".into()));
    let err = client
        .gen_call_as::<_, i64>(("kv", "b@mem"), &Command::Put("k".into(), 1), WAIT)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Serde(_)), "{err}");
}

#[tokio::test(start_paused = true)]
async fn downs_exits_and_nodedowns_are_typed() {
    let network = MemoryNetwork::default();
    let (a, b) = (node(&network, "a@mem"), node(&network, "b@mem"));
    let mut watcher = a.spawn_process().unwrap();
    let mut worker = b.spawn_process().unwrap();
    let worker_pid = worker.pid().clone();
    let monitor = watcher.monitor(&worker_pid).unwrap();
    watcher.link(&worker_pid);
    watcher.trap_exit(true);
    watcher.send(watcher.pid(), term!(unrelated)).unwrap();
    // Once a message sent after them arrived, the monitor and link are set.
    watcher.send(&worker_pid, term!(sync)).unwrap();
    worker.recv_timeout(WAIT).await.unwrap();
    worker.exit_with(term!({shutdown, "bye"}));
    let down = tokio::time::timeout(WAIT, watcher.recv_down(&monitor))
        .await
        .expect("a DOWN in time")
        .unwrap();
    assert_eq!(down.pid(), Some(&worker_pid));
    assert!(down.reason.is_normal_or_shutdown());
    assert_eq!(down.reason.to_term(), term!({shutdown, "bye"}));
    // The other messages stayed, in order.
    assert_eq!(watcher.recv().await.unwrap().payload, term!(unrelated));
    let exit = watcher.recv_timeout(WAIT).await.unwrap().as_exit();
    let exit = exit.expect("an EXIT");
    assert_eq!(exit.from, worker_pid);

    // A node that cannot be reached: 'DOWN' with noconnection, and a
    // nodedown.
    let monitor = watcher.monitor(("nobody", "gone@mem")).unwrap();
    let down = watcher.recv_down(&monitor).await.unwrap();
    assert_eq!(down.reason, Reason::NoConnection);
    assert_eq!(down.object, term!({nobody, (Term::atom("gone@mem"))}));
    watcher.monitor_node("gone@mem");
    let message = watcher.recv_timeout(WAIT).await.unwrap();
    let Some(SystemMessage::NodeDown(nodedown)) = message.system() else {
        panic!("not a nodedown: {}", message.payload);
    };
    assert_eq!(nodedown.node.as_str(), "gone@mem");
}

/// The log lines at warning level or above, written while `body` runs.
async fn warnings_during(body: impl std::future::Future<Output = ()>) -> String {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    body.await;
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(start_paused = true)]
async fn monitoring_a_gone_node_again_and_again_logs_no_warnings() {
    let network = MemoryNetwork::default();
    let a = node(&network, "a@mem");
    let mut watcher = a.spawn_process().unwrap();
    let warnings = warnings_during(async {
        for _ in 0..10 {
            let monitor = watcher.monitor(("nobody", "gone@mem")).unwrap();
            let down = watcher.recv_down(&monitor).await.unwrap();
            assert_eq!(down.reason, Reason::NoConnection);
            watcher.send(("nobody", "gone@mem"), term!(lost)).unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;
    assert_eq!(warnings, "");
}
