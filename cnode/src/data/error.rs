//! What can go wrong starting a node, connecting, sending, receiving and
//! calling.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dist_proto::{DistFlags, HandshakeError};
use etf::Term;

/// Starting or using a node failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The node name is not `alive@host`.
    #[error("bad node name {name:?}: {source}")]
    BadName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        source: crate::data::name::NameError,
    },
    /// No cookie was given and `~/.erlang.cookie` cannot be read.
    #[error("no cookie given and cannot read {path}: {source}")]
    CookieFile {
        /// The cookie file.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The cookie file is empty (after trimming white space).
    #[error("the cookie file {path} is empty")]
    EmptyCookie {
        /// The cookie file.
        path: PathBuf,
    },
    /// No port of the listen range could be bound.
    #[error("cannot listen on any port in {min}..={max}: {source}")]
    Listen {
        /// The lowest port tried.
        min: u16,
        /// The highest port tried.
        max: u16,
        /// The error for the last port tried.
        source: std::io::Error,
    },
    /// The embedded EPMD could not be started.
    #[error("no EPMD on port {port} and the embedded one cannot start: {source}")]
    EmbeddedEpmd {
        /// The EPMD port.
        port: u16,
        /// Why it cannot start.
        source: epmd_client::ServerError,
    },
    /// EPMD refused or failed the registration of our name.
    #[error("cannot register {name:?} with EPMD on port {port}: {source}")]
    EpmdRegister {
        /// The alive part of our name.
        name: String,
        /// The EPMD port.
        port: u16,
        /// The client's error.
        source: epmd_client::ClientError,
    },
    /// Connecting to a node failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A process could not be made.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// A message could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// `net_kernel` on a connected node did not answer a ping in time.
    #[error("{node} did not answer the ping within {after:?}")]
    PingTimeout {
        /// The node pinged.
        node: String,
        /// How long we waited.
        after: Duration,
    },
    /// The connection to a node went down before its `net_kernel`
    /// answered a ping (`pang`, as from `net_adm:ping/1`).
    #[error("the connection to {node} went down before it answered the ping")]
    PingLost {
        /// The node pinged.
        node: String,
    },
}

/// Why a node could not be reached ([`ConnectError::Unreachable`]).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnreachableReason {
    /// EPMD on the node's host answered, but the lookup failed.
    #[error("EPMD lookup: {0}")]
    Epmd(Arc<epmd_client::ClientError>),
    /// The TCP connection to the node's port failed.
    #[error("connect to port {port}: {source}")]
    Connect {
        /// The port EPMD gave.
        port: u16,
        /// Why the connection failed.
        source: Arc<std::io::Error>,
    },
    /// This node does not set up connections itself.
    #[error("this node does not dial out")]
    NoDialer,
    /// The node's host has no address to dial: the name does not resolve,
    /// the resolver failed, or no address is of the node's family.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host part of the node's name.
        host: String,
        /// Why.
        source: Arc<std::io::Error>,
    },
    /// No address of the node accepted a TCP connection.
    #[error("connect to {address}: {source}")]
    Dial {
        /// The last address tried.
        address: std::net::SocketAddr,
        /// Why the connection to it failed.
        source: Arc<std::io::Error>,
    },
}

/// Setting up a connection to a node failed. Every waiter of the attempt
/// gets a copy.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The node name is not `alive@host`.
    #[error("bad node name {node:?}")]
    BadName {
        /// The name given.
        node: String,
    },
    /// The digests did not match: one side has another cookie.
    #[error("{node} rejected the cookie (or we rejected its digest)")]
    CookieRejected {
        /// The peer.
        node: String,
    },
    /// The peer refused us (`not_allowed`), or lacks flags we require.
    #[error("{node} does not allow the connection{}", missing_text(*missing))]
    NotAllowed {
        /// The peer.
        node: String,
        /// The required flags the peer lacks (empty when the peer refused).
        missing: DistFlags,
    },
    /// EPMD on the peer's host answers but has no node of that name.
    #[error("{node} is not registered with EPMD at {epmd}")]
    NotRegistered {
        /// The peer.
        node: String,
        /// EPMD's `host:port`.
        epmd: String,
    },
    /// No EPMD answers on the peer's host.
    #[error("cannot reach EPMD at {epmd} to find {node}: {source}")]
    EpmdUnreachable {
        /// The peer.
        node: String,
        /// EPMD's `host:port`.
        epmd: String,
        /// Why the connection to EPMD failed.
        source: Arc<std::io::Error>,
    },
    /// The peer's port does not answer, or EPMD failed in another way.
    #[error("{node} is unreachable: {source}")]
    Unreachable {
        /// The peer.
        node: String,
        /// What failed.
        source: UnreachableReason,
    },
    /// The handshake failed in another way.
    #[error("handshake with {node} failed: {source}")]
    Handshake {
        /// The peer.
        node: String,
        /// The state machine's error.
        source: HandshakeError,
    },
    /// The TLS handshake failed: a certificate was refused (by us or the
    /// peer), or the peer does not speak TLS.
    #[error("TLS handshake with {node} failed: {source}")]
    Tls {
        /// The peer.
        node: String,
        /// What failed, as rustls says it.
        source: Arc<std::io::Error>,
    },
    /// The setup did not complete within the setup time.
    #[error("connection setup with {node} timed out after {after:?}")]
    Timeout {
        /// The peer.
        node: String,
        /// The limit.
        after: Duration,
    },
    /// The attempt was cancelled by [`Node::disconnect`](crate::Node::disconnect).
    #[error("connection setup with {node} was cancelled")]
    Cancelled {
        /// The peer.
        node: String,
    },
    /// The peer's connection to us was closed before it authenticated, to
    /// make room for newer ones: too many connections were unauthenticated
    /// at once ([`NodeBuilder::max_unauthenticated`] and
    /// [`NodeBuilder::max_unauthenticated_per_source`]).
    ///
    /// [`NodeBuilder::max_unauthenticated`]: crate::NodeBuilder::max_unauthenticated
    /// [`NodeBuilder::max_unauthenticated_per_source`]: crate::NodeBuilder::max_unauthenticated_per_source
    #[error("the connection from {node} was closed before it authenticated, to make room for newer ones")]
    Crowded {
        /// The peer.
        node: String,
    },
    /// The local node is shutting down.
    #[error("the local node is shut down")]
    Shutdown,
}

fn missing_text(missing: DistFlags) -> String {
    if missing.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = missing.names().collect();
        format!(": it lacks the flags {}", names.join(", "))
    }
}

impl ConnectError {
    /// Names the handshake failures the caller may act on.
    pub(crate) fn from_handshake(
        node: &str,
        err: HandshakeError,
        setup_time: Duration,
    ) -> ConnectError {
        let node = node.to_owned();
        match err {
            HandshakeError::CookieMismatch { .. } => ConnectError::CookieRejected { node },
            HandshakeError::NotAllowed { .. } => ConnectError::NotAllowed {
                node,
                missing: DistFlags::EMPTY,
            },
            HandshakeError::MissingFlags { missing, .. } => {
                ConnectError::NotAllowed { node, missing }
            }
            HandshakeError::Timeout { .. } => ConnectError::Timeout {
                node,
                after: setup_time,
            },
            source => ConnectError::Handshake { node, source },
        }
    }
}

/// A process could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// As many processes live as the node allows
    /// ([`NodeBuilder::max_processes`](crate::NodeBuilder::max_processes)).
    #[error("the process limit of {limit} is reached (see NodeBuilder::max_processes)")]
    TooManyProcesses {
        /// The limit: how many processes may live at once.
        limit: usize,
    },
    /// The node is shut down.
    #[error("the local node is shut down")]
    Shutdown,
}

/// A name could not be registered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// Another process has the name.
    #[error("the name {name:?} is already registered")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// The process already has a name (one per process, as in Erlang).
    #[error("the process already has the name {name:?}")]
    AlreadyNamed {
        /// Its current name.
        name: String,
    },
    /// The name is longer than an atom can be.
    #[error("{name:?} is not a valid atom (at most 255 characters)")]
    BadName {
        /// The name.
        name: String,
    },
    /// The process is gone (the node is shut down).
    #[error("the process is not alive")]
    NotAlive,
}

/// A message could not be sent. Like Erlang's `!`, a send to a dead process
/// or an unreachable node is not an error; these are errors of the sender.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The destination node name is not `alive@host`.
    #[error("bad node name {node:?}")]
    BadNode {
        /// The name.
        node: String,
    },
    /// Too many messages (or bytes) wait for the connection to `node` to
    /// come up.
    #[error("{queued} messages ({queued_bytes} bytes) already wait for the connection to {node}")]
    QueueFull {
        /// The node.
        node: String,
        /// The messages waiting.
        queued: usize,
        /// Their estimated encoded size.
        queued_bytes: usize,
    },
    /// More than the send buffer limit waits for the connection's socket:
    /// the peer reads slower than we send (see
    /// [`NodeBuilder::send_buffer_limit`](crate::NodeBuilder::send_buffer_limit)).
    #[error("{queued_bytes} bytes already wait for the connection to {node} to take them")]
    Busy {
        /// The node.
        node: String,
        /// The bytes waiting.
        queued_bytes: usize,
    },
    /// The message holds a term `node` cannot decode, for it did not
    /// negotiate the distribution flags the term needs: a native record
    /// (OTP 29) for a node without
    /// [`DistFlags::NATIVE_RECORDS`](dist_proto::DistFlags::NATIVE_RECORDS),
    /// as OTP 28 and older are. Nothing was sent, and the connection stays
    /// up. (A message queued while its connection is still being set up
    /// is dropped and logged instead.)
    #[error("cannot send {what} to {node}: it lacks the distribution flags {missing}")]
    Unsupported {
        /// The node.
        node: String,
        /// The flags the term needs that the connection lacks.
        missing: DistFlags,
        /// What in the message needs them (`native record #nr:point{}`).
        what: String,
    },
    /// The local node is shut down.
    #[error("the local node is shut down")]
    Shutdown,
    /// A priority message ([`Process::send_priority`](crate::Process::send_priority))
    /// to a node whose connection lacks [`DistFlags::ALTACT_SIG`]: a
    /// release before OTP 28, or a node that does not take priority
    /// messages. Nothing was sent; the connection is unharmed.
    #[error("{node} does not take priority messages (it lacks the distribution flag ALTACT_SIG of OTP 28)")]
    PriorityNotSupported {
        /// The node.
        node: String,
    },
    /// Only processes (by pid or registered name) can be monitored, not
    /// an alias.
    #[error("{target} is not a process to monitor")]
    NotMonitorable {
        /// The target given.
        target: String,
    },
}

/// A receive ended without a message.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RecvError {
    /// No (matching) message came within the timeout.
    #[error("no message within {0:?}")]
    Timeout(Duration),
    /// The node shut down; no message will ever come.
    #[error("the local node is shut down")]
    Closed,
    /// The process was killed by an exit signal (it did not trap exits,
    /// or got `kill`).
    #[error("the process was killed with reason {reason}")]
    Killed {
        /// The exit reason (`killed` for `kill`).
        reason: Term,
    },
}

/// An rpc failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The remote side answered `{badrpc, Reason}` (the call raised, or the
    /// function is undefined, ...).
    #[error("rpc on {node} failed: {reason}")]
    BadRpc {
        /// The node called.
        node: String,
        /// The `Reason` of `{badrpc, Reason}`.
        reason: Term,
    },
    /// No answer came within the timeout (`{badrpc, timeout}` in Erlang).
    #[error("no rpc answer from {node} within {after:?}")]
    Timeout {
        /// The node called.
        node: String,
        /// The timeout.
        after: Duration,
    },
    /// The connection went down before the answer (`{badrpc, nodedown}`).
    #[error("{node} went down during the rpc")]
    NodeDown {
        /// The node called.
        node: String,
    },
    /// The node could not be connected to.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The request could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A process for the call could not be made.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// The call was cancelled (its task was aborted or panicked).
    #[error("the rpc task to {node} did not finish")]
    Cancelled {
        /// The node called.
        node: String,
    },
}
