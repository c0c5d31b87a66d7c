//! The public facade: a running [`Node`].

use std::sync::Arc;
use std::time::Duration;

use dist_proto::Cookie;
use etf::{Atom, Pid, Reference, Term};

use crate::data::error::{ConnectError, NodeError, SendError, SpawnError};
use crate::data::events::NodeEvents;
use crate::data::message::{Dest, Message};
use crate::features::global::GlobalError;
use crate::features::process::Process;
use crate::features::rpc::Rpc;
use crate::features::serve::{async_handler, sync_handler, FunctionResult, Functions};
use crate::features::server::{self, Server, ServerError, ServerRef};
use crate::features::supervise::{self, RestartPolicy, Supervisor};
use crate::features::typed::typed_function;
use crate::runtime::core::{Core, Owner};

/// A running node. Cheap to clone; the node shuts down when the last clone
/// is dropped or on [`Node::shutdown`].
#[derive(Clone)]
pub struct Node {
    core: Arc<Core>,
    owner: Arc<Owner>,
    /// The Rust functions served to Erlang callers.
    functions: Arc<Functions>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.core.name.as_str())
            .field("creation", &self.core.creation)
            .finish_non_exhaustive()
    }
}

impl Node {
    pub(crate) fn from_core(core: Arc<Core>, functions: Arc<Functions>) -> Node {
        Node {
            functions,
            owner: Arc::new(Owner(Arc::clone(&core))),
            core,
        }
    }

    /// The core, for the builder to install what the node starts with.
    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// The node's name, `alive@host` (`node()`).
    pub fn name(&self) -> &str {
        self.core.name.as_str()
    }

    /// The creation EPMD gave this incarnation; every pid carries it.
    pub fn creation(&self) -> u32 {
        self.core.creation
    }

    /// The net tick time in force.
    pub fn net_ticktime(&self) -> Duration {
        self.core.config.tick_time
    }

    /// A new process (mailbox and pid). Fails with
    /// [`SpawnError::TooManyProcesses`] when
    /// [`NodeBuilder::max_processes`](crate::NodeBuilder::max_processes)
    /// processes live.
    pub fn spawn_process(&self) -> Result<Process, SpawnError> {
        Process::spawn(&self.core)
    }

    /// How many processes live on this node
    /// (`erlang:system_info(process_count)`).
    pub fn process_count(&self) -> usize {
        self.core.registry().len()
    }

    /// How many processes may live on this node at once
    /// (`erlang:system_info(process_limit)`), as set by
    /// [`NodeBuilder::max_processes`](crate::NodeBuilder::max_processes).
    pub fn process_limit(&self) -> usize {
        self.core.registry().max()
    }

    /// Registers `process` as `name` (`register/2`).
    pub fn register(&self, name: &str, process: &Process) -> Result<(), crate::RegisterError> {
        process.register(name)
    }

    /// Removes a registered name; `false` if nobody had it.
    pub fn unregister(&self, name: &str) -> bool {
        self.core.registry().unregister(name)
    }

    /// The pid registered as `name` on this node (`whereis/1`).
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        self.core.registry().whereis(name)
    }

    /// A new unique reference (`make_ref()`).
    pub fn make_ref(&self) -> Reference {
        self.core.make_ref()
    }

    /// Sends `payload` to a pid or `(name, node)` without a sender process.
    /// The sender is then the node's pid number 0, which has no mailbox:
    /// answers to it are dropped. Refused as [`Process::send`] refuses, past
    /// the send buffer limit.
    pub fn send(&self, to: impl Into<Dest>, payload: Term) -> Result<(), SendError> {
        Ok(self
            .core
            .send(&self.core.anonymous_pid(), to.into(), payload)?)
    }

    /// Sets up a connection to `node` unless one is up, and waits for it:
    /// the place to learn why a node cannot be reached (e.g.
    /// [`ConnectError::CookieRejected`]).
    pub async fn connect(&self, node: &str) -> Result<(), ConnectError> {
        self.core.connect(node).await
    }

    /// `net_adm:ping/1`: connects and asks the peer's `net_kernel`
    /// `is_auth`. `Ok` is `pong`. The peer's `net_kernel` is monitored
    /// meanwhile, as `gen:call` does: a connection lost before the answer
    /// fails the ping at once ([`NodeError::PingLost`]).
    pub async fn ping(&self, node: &str) -> Result<(), NodeError> {
        if node == self.name() {
            return Ok(());
        }
        self.connect(node).await?;
        let mut process = self.spawn_process()?;
        let monitor = Term::Reference(process.monitor(("net_kernel", node))?);
        let tag = Term::Reference(self.make_ref());
        let request = Term::tuple(vec![
            Term::atom("$gen_call"),
            Term::tuple(vec![Term::Pid(process.pid().clone()), tag.clone()]),
            Term::tuple(vec![Term::atom("is_auth"), Term::atom(self.name())]),
        ]);
        process.send(("net_kernel", node), request)?;
        let after = self.core.config.setup_time;
        let is_reply = |m: &Message| {
            m.payload
                .as_tuple()
                .is_some_and(|t| (t.len() == 2 && t[0] == tag) || (t.len() == 5 && t[1] == monitor))
        };
        let answer = process.recv_matching_timeout(after, is_reply).await;
        match answer
            .as_ref()
            .map(|m| m.payload.as_tuple().map(<[Term]>::len))
        {
            Ok(Some(2)) => Ok(()),
            Ok(_) => Err(NodeError::PingLost {
                node: node.to_owned(),
            }),
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
    /// Callers reach it by every route an Erlang node offers: `erpc:call`
    /// and `erpc:cast`, `rpc:call` and `rpc:cast` (through erpc, or through
    /// `rex` from nodes without it), and `spawn/4` on this node. An
    /// [`Exception`] is raised in the caller as the matching `erlang:error`,
    /// `throw` or `exit` would be.
    ///
    /// ```no_run
    /// # fn demo(node: cnode::Node) {
    /// use cnode::etf::Term;
    /// use cnode::Exception;
    ///
    /// // erpc:call('rust@localhost', text, upper, [<<"abc">>]) gives <<"ABC">>.
    /// node.register_function("text", "upper", |args| match args.as_slice() {
    ///     [text] => text
    ///         .as_utf8()
    ///         .map(|t| Term::from(t.to_uppercase()))
    ///         .ok_or_else(Exception::badarg),
    ///     _ => Err(Exception::badarg()),
    /// });
    /// # }
    /// ```
    ///
    /// [`Exception`]: crate::Exception
    pub fn register_function<F>(&self, module: &str, function: &str, f: F)
    where
        F: Fn(Vec<Term>) -> FunctionResult + Send + Sync + 'static,
    {
        self.functions.insert(module, function, sync_handler(f));
    }

    /// [`Node::register_function`] for an async function, which runs as a
    /// task of its own. If the caller gives up (an erpc timeout kills the
    /// call's process), the future is dropped.
    pub fn register_async_function<F, Fut>(&self, module: &str, function: &str, f: F)
    where
        F: Fn(Vec<Term>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = FunctionResult> + Send + 'static,
    {
        self.functions.insert(module, function, async_handler(f));
    }

    /// Starts `server` as a process of this node, registered as `name` if
    /// given (`gen_server:start({local, Name}, ...)`), and returns once its
    /// [`Server::init`] has run: the server then answers
    /// `gen_server:call`, `gen_server:cast`, plain messages and `sys`
    /// requests, as the [`Server`] docs describe. Fails if the name is
    /// taken or init fails (with init's reason).
    pub async fn start_server<S: Server>(
        &self,
        name: Option<&str>,
        server: S,
    ) -> Result<ServerRef, ServerError> {
        server::start(&self.core, name, server).await
    }

    /// [`Node::start_server`] under a supervisor that starts a new server
    /// from `make` when it ends, as `policy` says (an OTP `one_for_one`
    /// supervisor with this one child). Callers reach the server by `name`
    /// across restarts; [`Supervisor::server`] is the one running now.
    pub async fn start_supervised<S, F>(
        &self,
        name: Option<&str>,
        policy: RestartPolicy,
        make: F,
    ) -> Result<Supervisor, ServerError>
    where
        S: Server,
        F: FnMut() -> S + Send + 'static,
    {
        supervise::start(&self.core, name, policy, make).await
    }

    /// [`Node::register_async_function`] with Rust arguments and result:
    /// the arguments, as one tuple, convert to an `A` (a tuple type such as
    /// `(i64, String)` for `m:f/2`, `(T,)` for one argument, `()` for
    /// none) and the result converts back to a term, through
    /// [`etf::serde`]. Arguments that do not convert (another arity, or
    /// other types) raise `error:{badarg, Description}` in the caller, the
    /// description naming the function and what did not convert.
    ///
    /// ```no_run
    /// # fn demo(node: cnode::Node) {
    /// use cnode::Exception;
    ///
    /// // From Erlang: erpc:call(rust@localhost, math, add, [1, 2]) gives 3.
    /// node.register_typed_function("math", "add", |(a, b): (i64, i64)| async move {
    ///     a.checked_add(b).ok_or_else(Exception::badarg)
    /// });
    /// # }
    /// ```
    pub fn register_typed_function<A, R, F, Fut>(&self, module: &str, function: &str, f: F)
    where
        A: serde::de::DeserializeOwned + Send + 'static,
        R: serde::Serialize,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R, crate::Exception>> + Send + 'static,
    {
        let f = typed_function(module, function, f);
        self.functions.insert(module, function, async_handler(f));
    }

    /// Stops serving `module:function`; `false` if it was not served.
    pub fn unregister_function(&self, module: &str, function: &str) -> bool {
        self.functions.remove(module, function)
    }

    /// The rpc client: calls, casts and multicalls through `rex`.
    pub fn rpc(&self) -> Rpc {
        Rpc::new(Arc::clone(&self.owner))
    }

    /// The nodes with a connection up (`nodes(connected)`), sorted.
    pub fn nodes(&self) -> Vec<String> {
        self.core
            .peers()
            .up_nodes()
            .into_iter()
            .map(|n| n.as_str().to_owned())
            .collect()
    }

    /// A subscription to nodeup/nodedown events from now on.
    pub fn events(&self) -> NodeEvents {
        NodeEvents::new(self.core.subscribe())
    }

    /// Closes the connection to `node`, or cancels its setup
    /// (`erlang:disconnect_node/1`); `false` if there was none. The node is
    /// gone from [`Node::nodes`] when this returns, and the next send or
    /// connect sets up a new connection.
    pub fn disconnect(&self, node: &str) -> bool {
        let (found, event) = self.core.peers().disconnect(&Atom::new(node));
        if let Some(event) = event {
            self.core.publish(event);
        }
        found
    }

    /// Sets the cookie for connections to `node` (`erlang:set_cookie/2`).
    pub fn set_cookie(&self, node: &str, cookie: &str) {
        self.core.cookies.set(node, Cookie::new(cookie));
    }

    /// Shuts the node down: closes every connection, unregisters from
    /// EPMD, ends every mailbox, and waits (up to 5 s) for the connection
    /// tasks to end. Other handles see a node that refuses everything.
    pub async fn shutdown(&self) {
        self.core.begin_shutdown();
        self.core.tasks.wait_idle(Duration::from_secs(5)).await;
        if let Some(epmd) = self.core.take_embedded_epmd() {
            epmd.shutdown().await;
        }
    }

    /// `global:whereis_name(Name)`, asked of `via`.
    pub async fn global_whereis(
        &self,
        via: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<Option<Pid>, GlobalError> {
        self.rpc().global_whereis(via, name, timeout).await
    }

    /// `global:register_name(Name, Pid)`, done by `via`: `pid` (of this
    /// node) gets the global name until it ends or the connection to `via`
    /// is lost. How `global` is reached: [`GlobalError`].
    pub async fn global_register(
        &self,
        via: &str,
        name: &str,
        pid: &Pid,
        timeout: Duration,
    ) -> Result<(), GlobalError> {
        self.rpc().global_register(via, name, pid, timeout).await
    }

    /// `global:unregister_name(Name)`, done by `via`.
    pub async fn global_unregister(
        &self,
        via: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<(), GlobalError> {
        self.rpc().global_unregister(via, name, timeout).await
    }

    /// `global:registered_names()`, asked of `via`.
    pub async fn global_names(
        &self,
        via: &str,
        timeout: Duration,
    ) -> Result<Vec<Term>, GlobalError> {
        self.rpc().global_names(via, timeout).await
    }

    /// `global:send(Name, Msg)` from `sender`: looks the name up on `via`
    /// and sends `payload` to its pid, which is returned.
    pub async fn global_send(
        &self,
        sender: &Process,
        via: &str,
        name: &str,
        payload: Term,
        timeout: Duration,
    ) -> Result<Pid, GlobalError> {
        self.rpc()
            .global_send(sender, via, name, payload, timeout)
            .await
    }
}
