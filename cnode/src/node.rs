//! The node: its name, processes, connections and events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dist_proto::{AltactDest, AltactKind, ControlMessage, Cookie, DistFlags};
use epmd_client::{Registration, ServerHandle};
use etf::{Atom, Pid, Reference, Term};
use tokio::sync::{broadcast, watch};

use crate::builder::NodeBuilder;
use crate::cookie::Cookies;
use crate::error::{ConnectError, NodeError, SendError, SpawnError};
use crate::events::{NodeEvent, NodeEvents};
use crate::name::NodeName;
use crate::peers::{Limits, Peers, Route, Wait};
use crate::process::{Dest, Message, Process};
use crate::registry::Registry;
use crate::rpc::Rpc;
use crate::serve::{async_handler, sync_handler, FunctionResult, Functions};
use crate::signal::Outbox;
use crate::table::ProcessTable;
use crate::tasks::Tasks;
use crate::wire::{NotSent, Wire};

/// Settings fixed at start.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) tick_time: Duration,
    pub(crate) setup_time: Duration,
    pub(crate) epmd_port: u16,
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
    pub(crate) wire: Arc<Wire>,
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
type UpRoute = (Arc<Wire>, ControlMessage, Option<Term>);

/// What the node's handles, processes and tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
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
    /// The Rust functions served to Erlang callers.
    pub(crate) functions: Functions,
}

/// Locks a mutex, ignoring poisoning: no code holding these locks panics
/// half-way through an update.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What [`Shared::new`] needs.
pub(crate) struct Parts {
    pub(crate) name: NodeName,
    pub(crate) creation: u32,
    pub(crate) config: Config,
    pub(crate) cookies: Cookies,
    pub(crate) limits: Limits,
    pub(crate) registration: Registration,
    pub(crate) embedded_epmd: Option<ServerHandle>,
}

impl Shared {
    pub(crate) fn new(parts: Parts) -> Shared {
        let atom = Atom::new(parts.name.as_str());
        let registry = Arc::new(Registry::new(
            atom.clone(),
            parts.creation,
            parts.config.max_processes,
        ));
        Shared {
            table: Mutex::new(ProcessTable::new(Arc::clone(&registry))),
            registry,
            peers: Mutex::new(Peers::new(parts.name.as_str().to_owned(), parts.limits)),
            events: broadcast::channel(1024).0,
            shutdown: watch::channel(false).0,
            refs: AtomicU64::new(1),
            tasks: Tasks::default(),
            registration: Mutex::new(Some(parts.registration)),
            embedded_epmd: Mutex::new(parts.embedded_epmd),
            functions: Functions::default(),
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
                    let shared = Arc::clone(self);
                    runtime.spawn(async move { shared.flush(out) });
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

    pub(crate) fn spawn_process(self: &Arc<Self>) -> Result<Process, SpawnError> {
        let (pid, mailbox) = self.registry.spawn()?;
        Ok(Process::new(pid, mailbox, Arc::clone(self)))
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

    /// [`Shared::send`], as a priority message if `priority`
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
                crate::dial::start(self, node.clone(), id);
            }
        }
        Ok(None)
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
                crate::dial::start(self, atom, id);
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

/// Shuts the node down when the last [`Node`] handle goes.
#[derive(Debug)]
struct Owner(Arc<Shared>);

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

/// A running node. Cheap to clone; the node shuts down when the last clone
/// is dropped or on [`Node::shutdown`].
#[derive(Clone)]
pub struct Node {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.shared.name.as_str())
            .field("creation", &self.shared.creation)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// A builder for a node named `name`: `alive@host`, or `alive` for this
    /// machine's short host name ([`NodeName::short`]); pass a
    /// [`NodeName::long`] for a long name.
    ///
    /// [`NodeName::short`]: crate::NodeName::short
    /// [`NodeName::long`]: crate::NodeName::long
    pub fn builder(name: impl Into<String>) -> NodeBuilder {
        NodeBuilder::new(name.into())
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Node {
        Node {
            _owner: Arc::new(Owner(Arc::clone(&shared))),
            shared,
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The node's name, `alive@host` (`node()`).
    pub fn name(&self) -> &str {
        self.shared.name.as_str()
    }

    /// The creation EPMD gave this incarnation; every pid carries it.
    pub fn creation(&self) -> u32 {
        self.shared.creation
    }

    /// The net tick time in force.
    pub fn net_ticktime(&self) -> Duration {
        self.shared.config.tick_time
    }

    /// A new process (mailbox and pid). Fails with
    /// [`SpawnError::TooManyProcesses`] when
    /// [`NodeBuilder::max_processes`] processes live.
    pub fn spawn_process(&self) -> Result<Process, SpawnError> {
        self.shared.spawn_process()
    }

    /// How many processes live on this node
    /// (`erlang:system_info(process_count)`).
    pub fn process_count(&self) -> usize {
        self.shared.registry().len()
    }

    /// How many processes may live on this node at once
    /// (`erlang:system_info(process_limit)`), as set by
    /// [`NodeBuilder::max_processes`].
    pub fn process_limit(&self) -> usize {
        self.shared.registry().max()
    }

    /// Registers `process` as `name` (`register/2`).
    pub fn register(&self, name: &str, process: &Process) -> Result<(), crate::RegisterError> {
        process.register(name)
    }

    /// Removes a registered name; `false` if nobody had it.
    pub fn unregister(&self, name: &str) -> bool {
        self.shared.registry().unregister(name)
    }

    /// The pid registered as `name` on this node (`whereis/1`).
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.shared.registry().whereis(name)
    }

    /// A new unique reference (`make_ref()`).
    pub fn make_ref(&self) -> Reference {
        self.shared.make_ref()
    }

    /// Sends `payload` to a pid or `(name, node)` without a sender process.
    /// The sender is then the node's pid number 0, which has no mailbox:
    /// answers to it are dropped. Refused as [`Process::send`] refuses, past
    /// the send buffer limit.
    pub fn send(&self, to: impl Into<Dest>, payload: Term) -> Result<(), SendError> {
        let anonymous = Pid {
            node: self.shared.atom.clone(),
            id: 0,
            serial: 0,
            creation: self.shared.creation,
        };
        Ok(self.shared.send(&anonymous, to.into(), payload)?)
    }

    /// Sets up a connection to `node` unless one is up, and waits for it:
    /// the place to learn why a node cannot be reached (e.g.
    /// [`ConnectError::CookieRejected`]).
    pub async fn connect(&self, node: &str) -> Result<(), ConnectError> {
        self.shared.connect(node).await
    }

    /// `net_adm:ping/1`: connects and asks the peer's `net_kernel`
    /// `is_auth`. `Ok` is `pong`.
    pub async fn ping(&self, node: &str) -> Result<(), NodeError> {
        if node == self.name() {
            return Ok(());
        }
        self.connect(node).await?;
        let mut process = self.spawn_process()?;
        let tag = Term::Reference(self.make_ref());
        let request = Term::tuple(vec![
            Term::atom("$gen_call"),
            Term::tuple(vec![Term::Pid(process.pid().clone()), tag.clone()]),
            Term::tuple(vec![Term::atom("is_auth"), Term::atom(self.name())]),
        ]);
        process.send(("net_kernel", node), request)?;
        let after = self.shared.config.setup_time;
        let is_reply = |m: &Message| {
            m.payload
                .as_tuple()
                .is_some_and(|t| t.len() == 2 && t[0] == tag)
        };
        match process.recv_matching_timeout(after, is_reply).await {
            Ok(_) => Ok(()),
            Err(_) => Err(NodeError::PingTimeout {
                node: node.to_owned(),
                after,
            }),
        }
    }

    /// Serves `module:function/N` to Erlang callers (`erpc:call`,
    /// `rpc:call`, `spawn/4` on this node), for any arity: the function
    /// gets the argument list and answers a value or an [`Exception`]
    /// (`Exception::badarg()` for arguments it does not take). It runs on
    /// tokio's blocking pool. A function not registered raises `undef` in
    /// the caller, as an Erlang node does. Registering a name again
    /// replaces the function.
    ///
    /// [`Exception`]: crate::Exception
    pub fn register_function<F>(&self, module: &str, function: &str, f: F)
    where
        F: Fn(Vec<Term>) -> FunctionResult + Send + Sync + 'static,
    {
        self.shared
            .functions
            .insert(module, function, sync_handler(f));
    }

    /// [`Node::register_function`] for an async function, which runs as a
    /// task of its own. If the caller gives up (an erpc timeout kills the
    /// call's process), the future is dropped.
    pub fn register_async_function<F, Fut>(&self, module: &str, function: &str, f: F)
    where
        F: Fn(Vec<Term>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = FunctionResult> + Send + 'static,
    {
        self.shared
            .functions
            .insert(module, function, async_handler(f));
    }

    /// Stops serving `module:function`; `false` if it was not served.
    pub fn unregister_function(&self, module: &str, function: &str) -> bool {
        self.shared.functions.remove(module, function)
    }

    /// The rpc client: calls, casts and multicalls through `rex`.
    pub fn rpc(&self) -> Rpc {
        Rpc::new(self.clone())
    }

    /// The nodes with a connection up (`nodes(connected)`), sorted.
    pub fn nodes(&self) -> Vec<String> {
        self.shared
            .peers()
            .up_nodes()
            .into_iter()
            .map(|n| n.as_str().to_owned())
            .collect()
    }

    /// A subscription to nodeup/nodedown events from now on.
    pub fn events(&self) -> NodeEvents {
        NodeEvents::new(self.shared.subscribe())
    }

    /// Closes the connection to `node`, or cancels its setup
    /// (`erlang:disconnect_node/1`); `false` if there was none. The node is
    /// gone from [`Node::nodes`] when this returns, and the next send or
    /// connect sets up a new connection.
    pub fn disconnect(&self, node: &str) -> bool {
        let (found, event) = self.shared.peers().disconnect(&Atom::new(node));
        if let Some(event) = event {
            self.shared.publish(event);
        }
        found
    }

    /// Sets the cookie for connections to `node` (`erlang:set_cookie/2`).
    pub fn set_cookie(&self, node: &str, cookie: &str) {
        self.shared.cookies.set(node, Cookie::new(cookie));
    }

    /// Shuts the node down: closes every connection, unregisters from
    /// EPMD, ends every mailbox, and waits (up to 5 s) for the connection
    /// tasks to end. Other handles see a node that refuses everything.
    pub async fn shutdown(&self) {
        self.shared.begin_shutdown();
        self.shared.tasks.wait_idle(Duration::from_secs(5)).await;
        if let Some(epmd) = self.shared.take_embedded_epmd() {
            epmd.shutdown().await;
        }
    }
}
