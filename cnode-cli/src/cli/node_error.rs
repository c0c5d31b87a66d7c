//! What can go wrong when `cnode ping`, `call`, `eval`, `send` or `top`
//! reaches a node. Each variant prints as the one line that follows `cnode: `
//! on stderr, has a [`kind`](NodeCliError::kind) for `--json` output, and
//! maps to an exit code in [`exit_code`](super::exit_code).

use std::time::Duration;

use cnode::{ConnectError, NodeError, RpcError, SendError, SpawnError};
use epmd_client::ClientError;
use etf::{ParseError, Term};

/// A node command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NodeCliError {
    /// A node name that is neither `alive` nor `alive@host`.
    #[error("bad node name {name:?}: {source}; expected NAME or NAME@HOST")]
    BadNodeName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        source: cnode::NameError,
    },
    /// EPMD on the target's host answers but does not know the node.
    #[error("no node named {alive} registered in EPMD on {host} (port {port})")]
    NotRegistered {
        /// The alive part of the target.
        alive: String,
        /// The target's host.
        host: String,
        /// The EPMD port asked.
        port: u16,
    },
    /// No EPMD answers on the target's host, so no node runs there.
    #[error("no EPMD answers on {host} port {port}, so no node {alive} runs there")]
    NoEpmd {
        /// The alive part of the target.
        alive: String,
        /// The target's host.
        host: String,
        /// The EPMD port tried.
        port: u16,
    },
    /// EPMD failed in another way while looking the target up.
    #[error("looking up {alive} in EPMD on {host}: {source}")]
    Epmd {
        /// The alive part of the target.
        alive: String,
        /// The target's host.
        host: String,
        /// The client's error.
        source: Box<ClientError>,
    },
    /// Our own node could not start (cookie file, EPMD registration, ...).
    #[error("cannot start our node: {0}")]
    Start(#[source] Box<NodeError>),
    /// The target closed the handshake on our digest, or sent one that does
    /// not match our cookie.
    #[error("node {node} refused our cookie")]
    CookieRefused {
        /// The target.
        node: String,
    },
    /// The connection could not be set up for another reason.
    #[error(transparent)]
    Connect(Box<ConnectError>),
    /// The command did not finish within `--timeout`.
    #[error("no answer from {node} within {} s", .after.as_secs())]
    Timeout {
        /// The target.
        node: String,
        /// The limit.
        after: Duration,
    },
    /// The node answered `{badrpc, Reason}`.
    #[error("badrpc: {reason}")]
    BadRpc {
        /// The `Reason`.
        reason: Term,
    },
    /// An expression of `cnode eval` raised an exception.
    #[error("exception {class}: {reason}")]
    Exception {
        /// `error`, `exit` or `throw`.
        class: &'static str,
        /// The exception's reason, without the stack.
        reason: Term,
    },
    /// The distribution options do not go together, or the optfile
    /// cannot be used.
    #[error(transparent)]
    Dist(#[from] super::proto_dist::DistOptionError),
    /// The connection went down before the node answered.
    #[error("the connection to {node} went down before it answered")]
    Lost {
        /// The target.
        node: String,
    },
    /// An rpc failed without a `badrpc` answer (node down, ...).
    #[error(transparent)]
    Rpc(Box<RpcError>),
    /// A message could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A process of our node could not be made.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// A command-line argument is not valid Erlang term syntax.
    #[error("{what} is not an Erlang term: {source}")]
    BadTerm {
        /// Which argument.
        what: &'static str,
        /// Where and why parsing stopped.
        source: Box<ParseError>,
    },
    /// A quoted atom argument is not one atom.
    #[error("{what} must be an atom, not {given}")]
    NotAnAtom {
        /// Which argument.
        what: &'static str,
        /// What was given.
        given: Term,
    },
    /// The argument list of `cnode call` is not a proper list.
    #[error("ARGS must be a list of arguments such as [1, two], not {given}")]
    ArgsNotList {
        /// What was given.
        given: Term,
    },
    /// The expressions of `cnode eval` do not scan or parse.
    #[error("in EXPRS at {location}: {message}")]
    Syntax {
        /// `line:column` of the error.
        location: String,
        /// The node's own description (`Module:format_error/1`).
        message: String,
    },
    /// A node answered an rpc with a term of an unexpected shape.
    #[error("unexpected answer from {function} on {node}: {answer}")]
    Unexpected {
        /// The target.
        node: String,
        /// `module:function/arity` called.
        function: &'static str,
        /// What came back.
        answer: Term,
    },
    /// A query of `cnode top` answered a term of another shape (the
    /// answer itself may hold every process of the node, so it is not
    /// printed).
    #[error("unexpected answer to {query} from {node}: {part} does not decode")]
    Malformed {
        /// The target.
        node: String,
        /// Which query.
        query: &'static str,
        /// The part that does not decode.
        part: &'static str,
    },
    /// The result could not be written.
    #[error("cannot write to stdout: {0}")]
    Output(#[source] std::io::Error),
    /// The terminal failed: reading a line (`cnode remsh`), or setting up,
    /// drawing or reading keys for the live view (`cnode top`).
    #[error("the terminal failed: {0}")]
    Terminal(String),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl NodeCliError {
    /// A short stable name of the variant, `error.kind` in `--json`
    /// output.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            NodeCliError::BadNodeName { .. } => "bad_node_name",
            NodeCliError::NotRegistered { .. } => "not_registered",
            NodeCliError::NoEpmd { .. } => "no_epmd",
            NodeCliError::Epmd { .. } => "epmd",
            NodeCliError::Start(_) => "start",
            NodeCliError::CookieRefused { .. } => "cookie_refused",
            NodeCliError::Connect(_) => "connect",
            NodeCliError::Timeout { .. } => "timeout",
            NodeCliError::BadRpc { .. } => "badrpc",
            NodeCliError::Exception { .. } => "exception",
            NodeCliError::Dist(_) => "dist_options",
            NodeCliError::Lost { .. } => "lost",
            NodeCliError::Rpc(_) => "rpc",
            NodeCliError::Send(_) => "send",
            NodeCliError::Spawn(_) => "spawn",
            NodeCliError::BadTerm { .. } => "bad_term",
            NodeCliError::NotAnAtom { .. } => "not_an_atom",
            NodeCliError::ArgsNotList { .. } => "args_not_list",
            NodeCliError::Syntax { .. } => "syntax",
            NodeCliError::Unexpected { .. } => "unexpected",
            NodeCliError::Malformed { .. } => "malformed",
            NodeCliError::Output(_) => "output",
            NodeCliError::Terminal(_) => "terminal",
            NodeCliError::Runtime(_) => "runtime",
        }
    }

    /// Names the connect failures a user acts on differently.
    pub(crate) fn from_connect(err: ConnectError) -> NodeCliError {
        match err {
            ConnectError::CookieRejected { node } => NodeCliError::CookieRefused { node },
            err => NodeCliError::Connect(Box::new(err)),
        }
    }

    /// `{badrpc, Reason}` on its own, connect failures as
    /// [`from_connect`](Self::from_connect).
    pub(crate) fn from_rpc(err: RpcError) -> NodeCliError {
        match err {
            RpcError::BadRpc { reason, .. } => NodeCliError::BadRpc { reason },
            RpcError::Connect(err) => NodeCliError::from_connect(err),
            RpcError::Timeout { node, after } => NodeCliError::Timeout { node, after },
            err => NodeCliError::Rpc(Box::new(err)),
        }
    }

    /// Ping failures: connect failures as [`from_connect`](Self::from_connect).
    pub(crate) fn from_ping(err: NodeError) -> NodeCliError {
        match err {
            NodeError::Connect(err) => NodeCliError::from_connect(err),
            NodeError::PingTimeout { node, after } => NodeCliError::Timeout { node, after },
            NodeError::PingLost { node } => NodeCliError::Lost { node },
            NodeError::Send(err) => NodeCliError::Send(err),
            NodeError::Spawn(err) => NodeCliError::Spawn(err),
            err => NodeCliError::Start(Box::new(err)),
        }
    }
}
