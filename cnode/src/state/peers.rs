//! The connection table: for each peer node, a connection being set up
//! (with the messages waiting for it) or one that is up.
//!
//! Setup attempts (ours, dialling, and theirs, accepted) are told apart by
//! an id. Simultaneous connects are resolved as OTP's `net_kernel` does:
//! when a node connects to us while we dial it, the node with the greater
//! name keeps its own attempt (we answer `nok`), otherwise we drop ours and
//! answer `ok_simultaneous`.

use std::collections::HashMap;
use std::sync::Arc;

use dist_proto::handshake::Answer;
use dist_proto::{ControlMessage, Cookie};
use etf::{Atom, Term};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::data::error::{ConnectError, SendError};
use crate::data::events::{DownReason, NodeEvent};
use crate::data::size::approx_size;
use crate::state::channel::Channel;

type Waiter = oneshot::Sender<Result<(), ConnectError>>;

#[derive(Debug)]
struct Pending {
    /// The attempt that owns the setup; `None` while we wait for the peer's
    /// own attempt after ours lost a simultaneous connect.
    owner: Option<u64>,
    /// The id of our own dial attempt, if we started one.
    ours: Option<u64>,
    /// Our dialling task, once started.
    dial: Option<AbortHandle>,
    queue: Vec<(ControlMessage, Option<Term>)>,
    /// The estimated encoded size of the queue.
    queued_bytes: usize,
    waiters: Vec<Waiter>,
}

impl Pending {
    /// Queues a message unless the limits are reached.
    fn push(
        &mut self,
        node: &Atom,
        limits: Limits,
        control: ControlMessage,
        payload: Option<Term>,
    ) -> Result<(), SendError> {
        let size = payload.as_ref().map_or(0, approx_size);
        if self.queue.len() >= limits.messages
            || self.queued_bytes.saturating_add(size) > limits.bytes
        {
            return Err(SendError::QueueFull {
                node: node.as_str().to_owned(),
                queued: self.queue.len(),
                queued_bytes: self.queued_bytes,
            });
        }
        self.queued_bytes += size;
        self.queue.push((control, payload));
        Ok(())
    }
}

/// Bounds on what waits for a connection being set up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Messages.
    pub(crate) messages: usize,
    /// Estimated encoded bytes of their payloads.
    pub(crate) bytes: usize,
}

#[derive(Debug)]
struct Up {
    id: u64,
    wire: Arc<dyn Channel>,
    /// The accepted attempt we answered `alive`: if it completes, it
    /// replaces this connection.
    replacement: Option<u64>,
}

#[derive(Debug)]
enum Peer {
    Pending(Pending),
    Up(Up),
}

/// What to do with a message for a node.
// Nearly every route is `Up`; boxing it would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Route {
    /// The connection is up: send it there (after letting the table go).
    Up(Arc<dyn Channel>, ControlMessage, Option<Term>),
    /// It was queued; nothing else to do.
    Queued,
    /// It was queued on a new entry: start dialling with this attempt id.
    Dial(u64),
}

/// What to do with a waiter for a connection.
#[derive(Debug)]
pub(crate) enum Wait {
    /// Already connected.
    Up,
    /// Wait on the receiver.
    Pending(oneshot::Receiver<Result<(), ConnectError>>),
    /// Wait on the receiver, and start dialling with this attempt id.
    Dial(u64, oneshot::Receiver<Result<(), ConnectError>>),
}

/// The answer to a connecting peer, and the id its attempt got.
#[derive(Debug)]
pub(crate) struct Decision {
    pub(crate) answer: Answer,
    /// Set when the answer accepts.
    pub(crate) id: Option<u64>,
    /// Our dial to abort (a simultaneous connect the peer won).
    pub(crate) abort: Option<AbortHandle>,
}

/// The table itself; the node keeps it behind a mutex that is never held
/// across an await.
#[derive(Debug)]
pub(crate) struct Peers {
    local: String,
    peers: HashMap<Atom, Peer>,
    next_id: u64,
    limits: Limits,
    closed: bool,
}

impl Peers {
    pub(crate) fn new(local: String, limits: Limits) -> Peers {
        Peers {
            local,
            peers: HashMap::new(),
            next_id: 1,
            limits,
            closed: false,
        }
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn pending(owner: u64, ours: bool) -> Peer {
        Peer::Pending(Pending {
            owner: Some(owner),
            ours: ours.then_some(owner),
            dial: None,
            queue: Vec::new(),
            queued_bytes: 0,
            waiters: Vec::new(),
        })
    }

    /// The nodes with a connection up.
    pub(crate) fn up_nodes(&self) -> Vec<Atom> {
        let mut nodes: Vec<Atom> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p, Peer::Up(_)))
            .map(|(n, _)| n.clone())
            .collect();
        nodes.sort();
        nodes
    }

    /// Whether `node` has a connection, up or being set up.
    pub(crate) fn contains(&self, node: &Atom) -> bool {
        self.peers.contains_key(node)
    }

    /// Makes attempt `id` the owner of a new entry for `node`, for a stream
    /// connected and authenticated before the node was (the connection to
    /// the peer that gave us our dynamic name): messages for it queue until
    /// its task reports it [`established`](Peers::established). `None` if
    /// `node` already has an entry.
    pub(crate) fn adopt(&mut self, node: &Atom) -> Option<u64> {
        if self.closed || self.peers.contains_key(node) {
            return None;
        }
        let id = self.new_id();
        self.peers.insert(node.clone(), Peers::pending(id, true));
        Some(id)
    }

    /// Finds the connection to `node` for a message, or queues the message
    /// for its setup.
    pub(crate) fn route(
        &mut self,
        node: &Atom,
        control: ControlMessage,
        payload: Option<Term>,
    ) -> Result<Route, SendError> {
        if self.closed {
            return Err(SendError::Shutdown);
        }
        let limits = self.limits;
        match self.peers.get_mut(node) {
            Some(Peer::Up(up)) => Ok(Route::Up(Arc::clone(&up.wire), control, payload)),
            Some(Peer::Pending(p)) => {
                p.push(node, limits, control, payload)?;
                Ok(Route::Queued)
            }
            None => {
                let id = self.new_id();
                let mut peer = Peers::pending(id, true);
                if let Peer::Pending(p) = &mut peer {
                    p.push(node, limits, control, payload)?;
                }
                self.peers.insert(node.clone(), peer);
                Ok(Route::Dial(id))
            }
        }
    }

    /// Waits for a connection to `node`, starting one if needed.
    pub(crate) fn wait(&mut self, node: &Atom) -> Result<Wait, ConnectError> {
        if self.closed {
            return Err(ConnectError::Shutdown);
        }
        let (tx, rx) = oneshot::channel();
        match self.peers.get_mut(node) {
            Some(Peer::Up(_)) => Ok(Wait::Up),
            Some(Peer::Pending(p)) => {
                p.waiters.push(tx);
                Ok(Wait::Pending(rx))
            }
            None => {
                let id = self.new_id();
                let mut peer = Peers::pending(id, true);
                if let Peer::Pending(p) = &mut peer {
                    p.waiters.push(tx);
                }
                self.peers.insert(node.clone(), peer);
                Ok(Wait::Dial(id, rx))
            }
        }
    }

    /// Records the task dialling for attempt `id`.
    pub(crate) fn set_dialer(&mut self, node: &Atom, id: u64, handle: AbortHandle) {
        match self.peers.get_mut(node) {
            Some(Peer::Pending(p)) if p.owner == Some(id) => p.dial = Some(handle),
            // The attempt was already superseded or failed.
            _ => handle.abort(),
        }
    }

    /// Decides on a peer's connect request, as `net_kernel` does.
    pub(crate) fn on_connect_request(&mut self, node: &Atom, cookie: Cookie) -> Decision {
        if self.closed || node.as_str() == self.local {
            return Decision {
                answer: Answer::NotAllowed,
                id: None,
                abort: None,
            };
        }
        let id = self.new_id();
        let local_wins = self.local.as_str() > node.as_str();
        match self.peers.get_mut(node) {
            None => {
                self.peers.insert(node.clone(), Peers::pending(id, false));
                Decision {
                    answer: Answer::Ok { cookie },
                    id: Some(id),
                    abort: None,
                }
            }
            // The peer's answer to `alive` decides; the new connection
            // replaces the old one when it completes.
            Some(Peer::Up(up)) => {
                up.replacement = Some(id);
                Decision {
                    answer: Answer::Alive { cookie },
                    id: Some(id),
                    abort: None,
                }
            }
            Some(Peer::Pending(p)) => {
                match (p.owner, p.ours) {
                    // We lost before and wait for exactly this.
                    (None, _) => {
                        p.owner = Some(id);
                        Decision {
                            answer: Answer::Ok { cookie },
                            id: Some(id),
                            abort: None,
                        }
                    }
                    // We are dialling: the greater name wins.
                    (Some(owner), Some(dial_id)) if owner == dial_id => {
                        if local_wins {
                            Decision {
                                answer: Answer::Nok,
                                id: None,
                                abort: None,
                            }
                        } else {
                            p.owner = Some(id);
                            let abort = p.dial.take();
                            Decision {
                                answer: Answer::OkSimultaneous { cookie },
                                id: Some(id),
                                abort,
                            }
                        }
                    }
                    // Another accepted attempt from the same node is
                    // under way.
                    _ => Decision {
                        answer: Answer::Nok,
                        id: None,
                        abort: None,
                    },
                }
            }
        }
    }

    /// Our dial lost a simultaneous connect (`nok`): keep the queue and the
    /// waiters for the peer's own attempt. Returns `false` if the attempt
    /// no longer owns the entry.
    pub(crate) fn dial_lost(&mut self, node: &Atom, id: u64) -> bool {
        match self.peers.get_mut(node) {
            Some(Peer::Pending(p)) if p.owner == Some(id) => {
                p.owner = None;
                p.dial = None;
                true
            }
            _ => false,
        }
    }

    /// A setup completed. Returns the events to publish, or `None` when the
    /// attempt was superseded (the caller closes the connection).
    pub(crate) fn established(
        &mut self,
        node: &Atom,
        id: u64,
        wire: Arc<dyn Channel>,
    ) -> Option<Vec<NodeEvent>> {
        if self.closed {
            return None;
        }
        let up = Peer::Up(Up {
            id,
            wire: Arc::clone(&wire),
            replacement: None,
        });
        match self.peers.get_mut(node) {
            Some(Peer::Pending(p)) if p.owner == Some(id) => {
                for (control, payload) in p.queue.drain(..) {
                    wire.send(control, payload);
                }
                for waiter in p.waiters.drain(..) {
                    let _ = waiter.send(Ok(()));
                }
                self.peers.insert(node.clone(), up);
                Some(vec![NodeEvent::NodeUp { node: node.clone() }])
            }
            // Accepted after `alive`: the new connection replaces the old.
            Some(Peer::Up(old)) if old.replacement == Some(id) => {
                old.wire.disconnect();
                self.peers.insert(node.clone(), up);
                Some(vec![
                    NodeEvent::NodeDown {
                        node: node.clone(),
                        reason: DownReason::Replaced,
                    },
                    NodeEvent::NodeUp { node: node.clone() },
                ])
            }
            _ => None,
        }
    }

    /// A setup failed: fails the waiters and drops the queue if the attempt
    /// owned the entry; returns whether it did (the node is then
    /// unreachable for now).
    pub(crate) fn setup_failed(
        &mut self,
        node: &Atom,
        id: Option<u64>,
        err: &ConnectError,
    ) -> bool {
        let owned = matches!(self.peers.get(node), Some(Peer::Pending(p)) if p.owner == id);
        if !owned {
            return false;
        }
        if let Some(Peer::Pending(p)) = self.peers.remove(node) {
            if !p.queue.is_empty() {
                // As Erlang's `!` to an unreachable node, the loss is
                // silent: the sender learns of it through a monitor or
                // `Node::connect`. Logged at debug, for a gone node is
                // retried by monitors and senders, every time.
                let messages = p.queue.iter().filter(|(c, _)| is_message(c)).count();
                tracing::debug!(
                    %node,
                    messages,
                    signals = p.queue.len() - messages,
                    %err,
                    "dropping what was queued for a failed connection"
                );
            }
            for waiter in p.waiters {
                let _ = waiter.send(Err(err.clone()));
            }
        }
        true
    }

    /// A connection ended; returns the nodedown event if it was the one up.
    pub(crate) fn down(&mut self, node: &Atom, id: u64, reason: DownReason) -> Option<NodeEvent> {
        match self.peers.get(node) {
            Some(Peer::Up(up)) if up.id == id => {
                self.peers.remove(node);
                Some(NodeEvent::NodeDown {
                    node: node.clone(),
                    reason,
                })
            }
            _ => None,
        }
    }

    /// Disconnects `node` (or cancels its setup) at once: the entry is
    /// gone when this returns, so a later send sets up a new connection.
    /// Returns whether there was anything, and the nodedown to publish.
    pub(crate) fn disconnect(&mut self, node: &Atom) -> (bool, Option<NodeEvent>) {
        match self.peers.remove(node) {
            Some(Peer::Up(up)) => {
                up.wire.disconnect();
                let event = NodeEvent::NodeDown {
                    node: node.clone(),
                    reason: DownReason::Disconnected,
                };
                (true, Some(event))
            }
            Some(Peer::Pending(p)) => {
                if let Some(handle) = p.dial {
                    handle.abort();
                }
                let err = ConnectError::Cancelled {
                    node: node.as_str().to_owned(),
                };
                for waiter in p.waiters {
                    let _ = waiter.send(Err(err.clone()));
                }
                (true, None)
            }
            None => (false, None),
        }
    }

    /// Closes everything: setups fail, connections are forgotten (their
    /// tasks end on the node's shutdown signal).
    /// Returns the nodedowns to publish.
    pub(crate) fn close(&mut self) -> Vec<NodeEvent> {
        self.closed = true;
        let mut events = Vec::new();
        for (node, peer) in self.peers.drain() {
            match peer {
                // Its task sees the node's shutdown signal and ends after
                // flushing what was already sent.
                Peer::Up(_) => {
                    events.push(NodeEvent::NodeDown {
                        node,
                        reason: DownReason::Shutdown,
                    });
                }
                Peer::Pending(p) => {
                    if let Some(handle) = p.dial {
                        handle.abort();
                    }
                    for waiter in p.waiters {
                        let _ = waiter.send(Err(ConnectError::Shutdown));
                    }
                }
            }
        }
        events
    }
}

/// Whether a queued control message carries a message (rather than a
/// signal: link, monitor, exit, ...).
fn is_message(control: &ControlMessage) -> bool {
    matches!(
        control,
        ControlMessage::Send { .. }
            | ControlMessage::SendSender { .. }
            | ControlMessage::RegSend { .. }
            | ControlMessage::AliasSend { .. }
            | ControlMessage::AltactSigSend {
                kind: dist_proto::AltactKind::Message,
                ..
            }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::wire::tests::{loopback_wire, send_to_b};
    use crate::net::wire::Wire;

    fn cookie() -> Cookie {
        Cookie::new("c")
    }

    fn limits() -> Limits {
        Limits {
            messages: 10,
            bytes: 1000,
        }
    }

    /// A peer table dialling `node` with a live (dummy) dial task.
    async fn dialling(local: &str, node: &Atom) -> (Peers, u64) {
        let mut peers = Peers::new(local.into(), limits());
        let Ok(Route::Dial(id)) = peers.route(node, send_to_b(), Some(Term::atom("m"))) else {
            panic!("expected a new dial");
        };
        let task = tokio::spawn(std::future::pending::<()>());
        peers.set_dialer(node, id, task.abort_handle());
        (peers, id)
    }

    /// A wire over a loopback socket, and the socket's other end.
    async fn wire() -> (Arc<Wire<tokio::net::TcpStream>>, tokio::net::TcpStream) {
        loopback_wire(usize::MAX).await
    }

    /// Whether bytes (a message) arrived at the other end of a wire.
    async fn received(peer: &tokio::net::TcpStream) -> bool {
        let wait = std::time::Duration::from_secs(5);
        if tokio::time::timeout(wait, peer.readable()).await.is_err() {
            return false;
        }
        let mut buf = [0u8; 256];
        matches!(peer.try_read(&mut buf), Ok(n) if n > 0)
    }

    fn disconnecting(wire: &Wire<tokio::net::TcpStream>) -> bool {
        matches!(
            wire.lock().closing(),
            Some(crate::net::wire::Closing::Disconnect)
        )
    }

    #[tokio::test]
    async fn the_greater_name_keeps_its_attempt_in_a_simultaneous_connect() {
        let node = Atom::new("b@h");
        // We are "z@h" > "b@h": our attempt wins, theirs gets nok.
        let (mut peers, _) = dialling("z@h", &node).await;
        let d = peers.on_connect_request(&node, cookie());
        assert_eq!((d.answer, d.id.is_none()), (Answer::Nok, true));

        // We are "a@h" < "b@h": theirs wins, ours is aborted, and the queue
        // goes to their connection when it is up.
        let (mut peers, _) = dialling("a@h", &node).await;
        let d = peers.on_connect_request(&node, cookie());
        assert_eq!(d.answer, Answer::OkSimultaneous { cookie: cookie() });
        assert!(d.abort.is_some());
        let (wire, peer) = wire().await;
        let id = d.id.expect("accepted");
        assert!(peers.established(&node, id, wire.clone()).is_some());
        assert!(received(&peer).await, "the queued message went out");
        assert_eq!(peers.up_nodes(), vec![node]);
    }

    #[tokio::test]
    async fn a_lost_dial_keeps_the_queue_for_the_peers_attempt() {
        let node = Atom::new("b@h");
        let (mut peers, id) = dialling("z@h", &node).await;
        assert!(peers.dial_lost(&node, id));
        let d = peers.on_connect_request(&node, cookie());
        assert_eq!(d.answer, Answer::Ok { cookie: cookie() });
        let (wire, peer) = wire().await;
        assert!(peers
            .established(&node, d.id.expect("id"), wire.clone())
            .is_some());
        assert!(received(&peer).await, "the queued message went out");
        // The old dial id no longer owns anything.
        assert!(!peers.dial_lost(&node, id));
    }

    #[tokio::test]
    async fn a_connection_up_is_replaced_after_alive() {
        let node = Atom::new("b@h");
        let mut peers = Peers::new("a@h".into(), limits());
        let d = peers.on_connect_request(&node, cookie());
        let (old_wire, _old_peer) = wire().await;
        let old = d.id.expect("id");
        peers.established(&node, old, old_wire.clone()).expect("up");
        let d = peers.on_connect_request(&node, cookie());
        assert_eq!(d.answer, Answer::Alive { cookie: cookie() });
        let (new_wire, _new_peer) = wire().await;
        let events = peers
            .established(&node, d.id.expect("id"), new_wire.clone())
            .expect("up");
        assert_eq!(events.len(), 2);
        assert!(disconnecting(&old_wire));
        assert!(!disconnecting(&new_wire));
        // The old connection ending is not a nodedown of the new one.
        assert_eq!(peers.down(&node, old, DownReason::Closed), None);
        assert_eq!(peers.up_nodes(), vec![node]);
    }

    #[tokio::test]
    async fn a_dial_that_completes_late_does_not_replace_the_connection_up() {
        let node = Atom::new("b@h");
        let (mut peers, dial) = dialling("a@h", &node).await;
        let d = peers.on_connect_request(&node, cookie());
        let (up, peer) = wire().await;
        peers
            .established(&node, d.id.expect("id"), up.clone())
            .expect("up");
        let (late, _late_peer) = wire().await;
        assert!(peers.established(&node, dial, late.clone()).is_none());
        assert!(received(&peer).await, "the queued message went out");
        assert!(
            !disconnecting(&up),
            "the connection up was not told to close"
        );
    }

    #[tokio::test]
    async fn the_pending_queue_is_bounded_and_a_failure_reaches_the_waiters() {
        let node = Atom::new("b@h");
        let (mut peers, id) = dialling("a@h", &node).await;
        for _ in 1..10 {
            peers
                .route(&node, send_to_b(), Some(Term::Nil))
                .expect("room");
        }
        assert!(matches!(
            peers.route(&node, send_to_b(), Some(Term::Nil)),
            Err(SendError::QueueFull { queued: 10, .. })
        ));
        let Ok(Wait::Pending(rx)) = peers.wait(&node) else {
            panic!("expected to wait")
        };
        let err = ConnectError::CookieRejected { node: "b@h".into() };
        peers.setup_failed(&node, Some(id), &err);
        assert!(matches!(
            rx.await,
            Ok(Err(ConnectError::CookieRejected { .. }))
        ));
        assert!(peers.up_nodes().is_empty());
        // A new send starts a new attempt.
        assert!(matches!(
            peers.route(&node, send_to_b(), Some(Term::Nil)),
            Ok(Route::Dial(_))
        ));
    }

    #[tokio::test]
    async fn the_pending_queue_is_bounded_in_bytes_too() {
        let node = Atom::new("b@h");
        let (mut peers, _) = dialling("a@h", &node).await;
        let big = Term::binary(vec![0u8; 600]);
        peers
            .route(&node, send_to_b(), Some(big.clone()))
            .expect("room");
        assert!(matches!(
            peers.route(&node, send_to_b(), Some(big)),
            Err(SendError::QueueFull { queued: 2, .. })
        ));
        // A small one still fits.
        peers
            .route(&node, send_to_b(), Some(Term::Nil))
            .expect("room");
    }

    #[test]
    fn we_refuse_our_own_name() {
        let mut peers = Peers::new("a@h".into(), limits());
        let d = peers.on_connect_request(&Atom::new("a@h"), cookie());
        assert_eq!(d.answer, Answer::NotAllowed);
    }
}
