//! The runtime core ([`Core`]): what a node's handles, processes and tasks
//! share; it routes messages and signals to mailboxes and connections and
//! publishes node events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dist_proto::{AltactDest, AltactKind, ControlMessage, DistFlags};
use epmd_client::{Registration, ServerHandle};
use etf::{Atom, Pid, Reference, Term};
use tokio::sync::{broadcast, watch};

use crate::data::error::{ConnectError, SendError, UnreachableReason};
use crate::data::events::NodeEvent;
use crate::data::message::{Dest, Message};
use crate::data::name::NodeName;
use crate::data::spawn::{SpawnReply, SpawnRequest};
use crate::runtime::tasks::Tasks;
use crate::state::channel::{Channel, NotSent};
use crate::state::cookie::Cookies;
use crate::state::peers::{Limits, Peers, Route, Wait};
use crate::state::registry::Registry;
use crate::state::signals::Outbox;
use crate::state::table::ProcessTable;

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) tick_time: Duration,
    pub(crate) setup_time: Duration,
    /// Bytes that may wait for a connection's socket before messages to
    /// its node are refused.
    pub(crate) send_buffer_limit: usize,
    /// How many processes may live at once.
    pub(crate) max_processes: usize,
}

/// A message that was not sent: the send failed, or the connection to its
/// node was busy.
#[derive(Debug)]
pub(crate) enum Refused {
    Failed(SendError),
    Busy(Busy),
}

/// A message the connection to its node refused: more than the send
/// buffer limit waits for its socket. The payload comes back, to send
/// again once [`Wire::room`] says there is room.
#[derive(Debug)]
pub(crate) struct Busy {
    pub(crate) wire: Arc<dyn Channel>,
    pub(crate) node: Atom,
    pub(crate) queued_bytes: usize,
    pub(crate) payload: Term,
}

impl From<SendError> for Refused {
    fn from(err: SendError) -> Refused {
        Refused::Failed(err)
    }
}

impl From<Refused> for SendError {
    fn from(refused: Refused) -> SendError {
        match refused {
            Refused::Failed(err) => err,
            Refused::Busy(busy) => SendError::Busy {
                node: busy.node.as_str().to_owned(),
                queued_bytes: busy.queued_bytes,
            },
        }
    }
}

/// A connection that is up, and the control message and payload to send
/// on it.
type UpRoute = (Arc<dyn Channel>, ControlMessage, Option<Term>);

/// What the node's handles, processes and tasks share.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) name: NodeName,
    pub(crate) atom: Atom,
    pub(crate) creation: u32,
    pub(crate) config: Config,
    pub(crate) cookies: Cookies,
    /// Pids, mailboxes and names: sharded, for the hot paths.
    registry: Arc<Registry>,
    /// Links, monitors, aliases: for signal operations only.
    table: Mutex<ProcessTable>,
    peers: Mutex<Peers>,
    events: broadcast::Sender<NodeEvent>,
    shutdown: watch::Sender<bool>,
    refs: AtomicU64,
    pub(crate) tasks: Tasks,
    registration: Mutex<Option<Registration>>,
    embedded_epmd: Mutex<Option<ServerHandle>>,
    /// What the core calls up into: dialing, built-in inbound handlers.
    pub(crate) hooks: Hooks,
}

/// Locks a mutex, ignoring poisoning: no code holding these locks panics
/// half-way through an update.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What [`Core::new`] needs.
pub(crate) struct Parts {
    pub(crate) name: NodeName,
    pub(crate) creation: u32,
    pub(crate) config: Config,
    pub(crate) cookies: Cookies,
    pub(crate) limits: Limits,
    /// The EPMD registration, held for the node's life (none in memory).
    pub(crate) registration: Option<Registration>,
    pub(crate) embedded_epmd: Option<ServerHandle>,
    pub(crate) hooks: Hooks,
}

impl Core {
    pub(crate) fn new(parts: Parts) -> Core {
        let atom = Atom::new(parts.name.as_str());
        let registry = Arc::new(Registry::new(
            atom.clone(),
            parts.creation,
            parts.config.max_processes,
        ));
        Core {
            table: Mutex::new(ProcessTable::new(Arc::clone(&registry))),
            registry,
            peers: Mutex::new(Peers::new(parts.name.as_str().to_owned(), parts.limits)),
            events: broadcast::channel(1024).0,
            shutdown: watch::channel(false).0,
            refs: AtomicU64::new(1),
            tasks: Tasks::default(),
            registration: Mutex::new(parts.registration),
            embedded_epmd: Mutex::new(parts.embedded_epmd),
            hooks: parts.hooks,
            name: parts.name,
            atom,
            creation: parts.creation,
            config: parts.config,
            cookies: parts.cookies,
        }
    }

    pub(crate) fn table(&self) -> MutexGuard<'_, ProcessTable> {
        lock(&self.table)
    }

    /// The processes by pid and name (no lock of its own to take).
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn peers(&self) -> MutexGuard<'_, Peers> {
        lock(&self.peers)
    }

    /// A receiver that sees `true` once the node shuts down.
    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub(crate) fn publish(self: &Arc<Self>, event: NodeEvent) {
        tracing::info!(node = %self.atom.as_str(), ?event, "node event");
        if let NodeEvent::NodeDown { node, .. } = &event {
            let mut out = Outbox::new();
            self.table().node_down(node, &mut out);
            // The caller may hold the connection table: send from a task.
            if !out.is_empty() {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let core = Arc::clone(self);
                    runtime.spawn(async move { core.flush(out) });
                }
            }
        }
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// A new reference of this node (`make_ref()`).
    pub(crate) fn make_ref(&self) -> Reference {
        let n = self.refs.fetch_add(1, Ordering::Relaxed);
        Reference {
            node: self.atom.clone(),
            creation: self.creation,
            // OTP keeps 18 bits in the first word.
            ids: vec![(n & 0x3_ffff) as u32, (n >> 18) as u32, (n >> 50) as u32],
        }
    }

    /// Runs a signal operation on the process table, then sends what it
    /// produced for other nodes (after the lock is released).
    pub(crate) fn signal<R>(
        self: &Arc<Self>,
        operation: impl FnOnce(&mut ProcessTable, &mut Outbox) -> R,
    ) -> R {
        let mut out = Outbox::new();
        let result = operation(&mut self.table(), &mut out);
        self.flush(out);
        result
    }

    /// A connection to `node` could not be set up: links and monitors of
    /// its processes fire with `noconnection` and `monitor_node`
    /// subscribers get `{nodedown, Node}`, as when a connection is lost.
    pub(crate) fn unreachable(self: &Arc<Self>, node: &Atom) {
        let mut out = Outbox::new();
        self.table().node_down(node, &mut out);
        self.flush(out);
    }

    /// Sends control messages to other nodes; failures (a node that cannot
    /// be reached) are logged: signals to a lost node are lost with it.
    pub(crate) fn flush(self: &Arc<Self>, out: Outbox) {
        for (node, control, payload) in out {
            if let Err(err) = self.send_remote(&node, control, payload) {
                tracing::debug!(%node, %err, "cannot send a signal");
            }
        }
    }

    /// The node's pid number 0, which has no mailbox: the sender of
    /// messages sent without a process.
    pub(crate) fn anonymous_pid(&self) -> Pid {
        Pid {
            node: self.atom.clone(),
            id: 0,
            serial: 0,
            creation: self.creation,
        }
    }

    pub(crate) fn is_local(&self, node: &Atom) -> bool {
        *node == self.atom
    }

    /// `from ! payload` to a pid or `{name, node}`; refused if the
    /// connection to its node has more than its send buffer limit waiting
    /// for the socket (the payload then comes back in [`Refused::Busy`]).
    pub(crate) fn send(
        self: &Arc<Self>,
        from: &Pid,
        to: Dest,
        payload: Term,
    ) -> Result<(), Refused> {
        self.send_as(from, to, payload, false)
    }

    /// [`Core::send`], as a priority message if `priority`
    /// (`erlang:send(To, Msg, [priority])`): `ALTACT_SIG_SEND` to another
    /// node, refused if its connection is up without
    /// [`DistFlags::ALTACT_SIG`].
    pub(crate) fn send_as(
        self: &Arc<Self>,
        from: &Pid,
        to: Dest,
        payload: Term,
        priority: bool,
    ) -> Result<(), Refused> {
        let message = |payload| Message {
            from: Some(from.clone()),
            payload,
        };
        let (node, control) = match to {
            Dest::Pid(pid) if self.is_local(&pid.node) => {
                let message = message(payload);
                // Only an alias can be a priority alias: to a pid, a
                // priority message is an ordinary one, as in OTP.
                self.registry.deliver(&pid, message);
                return Ok(());
            }
            Dest::Name { name, node } if self.is_local(&node) => {
                self.registry.deliver_named(name.as_str(), message(payload));
                return Ok(());
            }
            Dest::Alias(alias) if self.is_local(&alias.node) => {
                self.table()
                    .deliver_alias(&alias, message(payload), priority);
                return Ok(());
            }
            to if priority => {
                let (node, to) = match to {
                    Dest::Pid(pid) => (pid.node.clone(), AltactDest::Pid(pid)),
                    Dest::Name { name, node } => (node, AltactDest::Name(name)),
                    Dest::Alias(alias) => (alias.node.clone(), AltactDest::Alias(alias)),
                };
                let control = ControlMessage::AltactSigSend {
                    kind: AltactKind::Message,
                    priority: true,
                    from: from.clone(),
                    to,
                    token: None,
                };
                (node, control)
            }
            Dest::Alias(alias) => (
                alias.node.clone(),
                ControlMessage::AliasSend {
                    from: from.clone(),
                    alias,
                    token: None,
                },
            ),
            Dest::Pid(pid) => (
                pid.node.clone(),
                ControlMessage::SendSender {
                    from: from.clone(),
                    to: pid,
                    token: None,
                },
            ),
            Dest::Name { name, node } => (
                node,
                ControlMessage::RegSend {
                    from: from.clone(),
                    to: name,
                    token: None,
                },
            ),
        };
        if let Some((wire, control, Some(payload))) = self.route(&node, control, Some(payload))? {
            if priority && !wire.flags().contains(DistFlags::ALTACT_SIG) {
                return Err(Refused::Failed(SendError::PriorityNotSupported {
                    node: node.as_str().to_owned(),
                }));
            }
            wire.send_message(control, payload)
                .map_err(|not_sent| match not_sent {
                    NotSent::Busy(queued_bytes, payload) => Refused::Busy(Busy {
                        wire,
                        node,
                        queued_bytes,
                        payload,
                    }),
                    NotSent::PeerLacks { missing, what } => {
                        Refused::Failed(SendError::Unsupported {
                            node: node.as_str().to_owned(),
                            missing,
                            what,
                        })
                    }
                })?;
        }
        Ok(())
    }

    /// A priority message (`erlang:send(To, Msg, [priority])`) from `from`:
    /// to another node, once its connection is up (set up first if needed;
    /// as with `!`, the message is lost if it cannot be), and waiting for
    /// room while the connection is busy.
    pub(crate) async fn send_priority(
        self: &Arc<Self>,
        from: &Pid,
        to: Dest,
        payload: Term,
    ) -> Result<(), SendError> {
        let node = match &to {
            Dest::Pid(pid) => &pid.node,
            Dest::Name { node, .. } => node,
            Dest::Alias(alias) => &alias.node,
        };
        if !self.is_local(node) {
            match self.connect(node.as_str()).await {
                Ok(()) => {}
                Err(ConnectError::BadName { node }) => return Err(SendError::BadNode { node }),
                Err(ConnectError::Shutdown) => return Err(SendError::Shutdown),
                Err(err) => {
                    tracing::debug!(%node, %err, "priority message to a node that cannot be reached dropped");
                    return Ok(());
                }
            }
        }
        let mut payload = payload;
        loop {
            match self.send_as(from, to.clone(), payload, true) {
                Err(Refused::Busy(busy)) => {
                    busy.wire.room().await;
                    payload = busy.payload;
                }
                sent => return Ok(sent?),
            }
        }
    }

    /// Sends a control message to `node`, connecting first if needed;
    /// never refused for a busy connection (signals must not be lost).
    pub(crate) fn send_remote(
        self: &Arc<Self>,
        node: &Atom,
        control: ControlMessage,
        payload: Option<Term>,
    ) -> Result<(), SendError> {
        if let Some((wire, control, payload)) = self.route(node, control, payload)? {
            wire.send(control, payload);
        }
        Ok(())
    }

    /// Queues what is for a node without a connection up (dialling it if
    /// needed); returns the connection that is up, with what to send on it.
    fn route(
        self: &Arc<Self>,
        node: &Atom,
        control: ControlMessage,
        payload: Option<Term>,
    ) -> Result<Option<UpRoute>, SendError> {
        // Bound first: the peers' lock is let go before the arms below,
        // which take it again.
        let route = self.peers().route(node, control, payload)?;
        match route {
            Route::Up(wire, control, payload) => return Ok(Some((wire, control, payload))),
            Route::Queued => {}
            Route::Dial(id) => {
                // Checked only for a new connection, not for every message.
                if NodeName::parse(node.as_str()).is_err() {
                    let name = node.as_str().to_owned();
                    let err = ConnectError::BadName { node: name.clone() };
                    self.peers().setup_failed(node, Some(id), &err);
                    return Err(SendError::BadNode { node: name });
                }
                (self.hooks.dial)(self, node.clone(), id);
            }
        }
        Ok(None)
    }

    /// Fails attempt `id` to connect to `node` at once: what a core without
    /// a dial hook does.
    pub(crate) fn dial_failed(self: &Arc<Self>, node: &Atom, id: u64) {
        let err = ConnectError::Unreachable {
            node: node.as_str().to_owned(),
            source: UnreachableReason::NoDialer,
        };
        if self.peers().setup_failed(node, Some(id), &err) {
            self.unreachable(node);
        }
    }

    /// Waits until a connection to `node` is up, setting one up if needed.
    pub(crate) async fn connect(self: &Arc<Self>, node: &str) -> Result<(), ConnectError> {
        if NodeName::parse(node).is_err() {
            return Err(ConnectError::BadName {
                node: node.to_owned(),
            });
        }
        let atom = Atom::new(node);
        if self.is_local(&atom) {
            return Ok(());
        }
        let wait = self.peers().wait(&atom)?;
        let rx = match wait {
            Wait::Up => return Ok(()),
            Wait::Pending(rx) => rx,
            Wait::Dial(id, rx) => {
                (self.hooks.dial)(self, atom, id);
                rx
            }
        };
        rx.await.unwrap_or(Err(ConnectError::Shutdown))
    }

    /// Stops everything; idempotent.
    pub(crate) fn begin_shutdown(self: &Arc<Self>) {
        if self.shutdown.send_replace(true) {
            return;
        }
        tracing::info!(node = %self.atom.as_str(), "shutting down");
        let events = self.peers().close();
        for event in events {
            self.publish(event);
        }
        self.table().close();
        lock(&self.registration).take();
    }

    pub(crate) fn take_embedded_epmd(&self) -> Option<ServerHandle> {
        lock(&self.embedded_epmd).take()
    }
}

/// Shuts the node down when the last handle on it goes: the facade's
/// `Node`s and the clients made from them (an `Rpc`) hold one.
#[derive(Debug)]
pub(crate) struct Owner(pub(crate) Arc<Core>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.begin_shutdown();
        if let Some(epmd) = self.0.take_embedded_epmd() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(epmd.shutdown());
            }
        }
    }
}

impl Owner {
    /// The core of the node owned.
    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.0
    }
}

/// Starts setting up the connection to a node: the attempt `id` of the
/// peers table.
pub(crate) type Dial = Box<dyn Fn(&Arc<Core>, Atom, u64) + Send + Sync>;
/// A message to a built-in registered name (`net_kernel`, `rex`) that no
/// process took: the sender and the payload.
pub(crate) type Inbound = Box<dyn Fn(&Arc<Core>, Pid, Option<Term>) + Send + Sync>;
/// A `SPAWN_REQUEST` from a peer.
pub(crate) type OnSpawnRequest = Box<dyn Fn(&Arc<Core>, SpawnRequest) + Send + Sync>;
/// A `SPAWN_REPLY` from the peer named.
pub(crate) type OnSpawnReply = Box<dyn Fn(&Arc<Core>, &Atom, SpawnReply) + Send + Sync>;

/// What the core calls up into. Each defaults to refusing or dropping, as
/// a node without the feature would.
pub(crate) struct Hooks {
    /// Sets up connections.
    pub(crate) dial: Dial,
    /// The built-in `net_kernel`.
    pub(crate) net_kernel: Inbound,
    /// The built-in `rex`.
    pub(crate) rex: Inbound,
    /// Spawn requests from other nodes.
    pub(crate) spawn_request: OnSpawnRequest,
    /// Answers to our spawn requests.
    pub(crate) spawn_reply: OnSpawnReply,
}

impl Default for Hooks {
    fn default() -> Hooks {
        Hooks {
            dial: Box::new(|core, node, id| core.dial_failed(&node, id)),
            net_kernel: Box::new(|_, from, _| {
                tracing::debug!(%from, "no net_kernel: message dropped");
            }),
            rex: Box::new(|_, from, _| tracing::debug!(%from, "no rex: message dropped")),
            spawn_request: Box::new(|_, request| {
                tracing::debug!(?request, "spawn requests not served: dropped");
            }),
            spawn_reply: Box::new(|_, peer, reply| {
                tracing::debug!(%peer, ?reply, "spawn reply dropped");
            }),
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").finish_non_exhaustive()
    }
}
