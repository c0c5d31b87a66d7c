//! The exit codes of the commands that reach a node (`ping`, `call`,
//! `eval`, `send`, and the tools built on the same session), one table for
//! all so that scripts can tell "the node is down" from "the node said no"
//! from "the call failed" without reading stderr.
//!
//! The numbers follow BSD's `sysexits.h` where it has a fitting code (as
//! `rabbitmqctl` does), with clap's 2 for a command line that does not
//! parse and 1 for anything not classified.

use std::process::ExitCode;

use cnode::{ConnectError, RpcError, SendError};
use epmd_client::ClientError;

use super::node_error::NodeCliError;

/// Why a node command ended, as the number it exits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success: `pong`, the value of a call, a message delivered.
    Ok = 0,
    /// A failure of no other class.
    Failure = 1,
    /// The command line does not parse (clap's own code): an unknown
    /// option, a missing argument, a value out of range.
    Usage = 2,
    /// An argument parses but is not valid: a node name, Erlang term
    /// syntax, an atom, ARGS that is not a list, EXPRS that do not scan or
    /// parse (`EX_DATAERR`).
    BadArgument = 65,
    /// The node cannot be reached, which `ping` reports as `pang`: no EPMD
    /// on its host, not registered there, the connection refused or lost
    /// (`EX_UNAVAILABLE`).
    Unreachable = 69,
    /// The node ran the call and it failed: `{badrpc, Reason}` from
    /// `call`, an exception from `eval` (`EX_SOFTWARE`).
    CallFailed = 70,
    /// A local failure: stdout closed, the runtime or our node's listener
    /// cannot start (`EX_IOERR`).
    Local = 74,
    /// No answer within `--timeout` (`EX_TEMPFAIL`: trying again may help).
    Timeout = 75,
    /// The node answered in a way we do not understand: a handshake that
    /// breaks off, an answer of an unexpected shape (`EX_PROTOCOL`).
    Protocol = 76,
    /// The node refused us: a cookie that does not match, or a connection
    /// it does not allow (`EX_NOPERM`).
    Refused = 77,
    /// Our own configuration: no cookie file, TLS options or certificates,
    /// a TLS handshake that fails, our named node unable to register
    /// (`EX_CONFIG`).
    Config = 78,
}

/// Every code, in the order of the table in `--help`.
#[cfg(test)]
pub(crate) const ALL: [Exit; 11] = [
    Exit::Ok,
    Exit::Failure,
    Exit::Usage,
    Exit::BadArgument,
    Exit::Unreachable,
    Exit::CallFailed,
    Exit::Local,
    Exit::Timeout,
    Exit::Protocol,
    Exit::Refused,
    Exit::Config,
];

/// The table of exit codes shown at the end of `--help` for the node
/// commands; a unit test keeps it in step with [`Exit`].
pub(crate) const HELP: &str = "\
Exit codes (ping, call, eval, send, top):
   0  ok            pong; the value of the call; the message delivered
   1  failure       any failure not listed below
   2  usage         the command line does not parse (unknown option, missing argument)
  65  bad_argument  an argument is not valid: node name, term syntax, atom, ARGS, EXPRS
  69  unreachable   pang: no EPMD on the node's host, node not registered, connection refused or lost
  70  call_failed   {badrpc, Reason} from call; an exception raised by eval
  74  local         local I/O: stdout closed, the runtime or our listener cannot start
  75  timeout       no answer within --timeout
  76  protocol      the handshake broke off, or an answer of an unexpected shape
  77  refused       the node refused our cookie, or does not allow the connection
  78  config        cookie file, TLS options or certificates, TLS handshake, EPMD registration";

impl Exit {
    /// The number the process exits with.
    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    /// A short stable name, used as `error.category` in `--json` output.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Exit::Ok => "ok",
            Exit::Failure => "failure",
            Exit::Usage => "usage",
            Exit::BadArgument => "bad_argument",
            Exit::Unreachable => "unreachable",
            Exit::CallFailed => "call_failed",
            Exit::Local => "local",
            Exit::Timeout => "timeout",
            Exit::Protocol => "protocol",
            Exit::Refused => "refused",
            Exit::Config => "config",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

impl From<&NodeCliError> for Exit {
    fn from(err: &NodeCliError) -> Exit {
        match err {
            NodeCliError::BadNodeName { .. }
            | NodeCliError::BadTerm { .. }
            | NodeCliError::NotAnAtom { .. }
            | NodeCliError::ArgsNotList { .. }
            | NodeCliError::Syntax { .. } => Exit::BadArgument,
            NodeCliError::NotRegistered { .. }
            | NodeCliError::NoEpmd { .. }
            | NodeCliError::Lost { .. } => Exit::Unreachable,
            NodeCliError::Epmd { source, .. } => epmd(source),
            NodeCliError::Start(err) => start(err),
            NodeCliError::CookieRefused { .. } => Exit::Refused,
            NodeCliError::Connect(err) => connect(err),
            NodeCliError::Timeout { .. } => Exit::Timeout,
            NodeCliError::BadRpc { .. } | NodeCliError::Exception { .. } => Exit::CallFailed,
            NodeCliError::Dist(_) => Exit::Config,
            NodeCliError::Rpc(err) => rpc(err),
            NodeCliError::Send(err) => send(err),
            NodeCliError::Spawn(_) => Exit::Failure,
            NodeCliError::Unexpected { .. } | NodeCliError::Malformed { .. } => Exit::Protocol,
            NodeCliError::Output(_) | NodeCliError::Runtime(_) | NodeCliError::Terminal(_) => {
                Exit::Local
            }
        }
    }
}

/// EPMD failures while looking the target up, other than "no EPMD" and
/// "not registered", which have variants of their own.
fn epmd(err: &ClientError) -> Exit {
    match err {
        ClientError::Unreachable { .. } | ClientError::Io { .. } => Exit::Unreachable,
        ClientError::Timeout { .. } => Exit::Timeout,
        _ => Exit::Protocol,
    }
}

/// Our node failing to start.
fn start(err: &cnode::NodeError) -> Exit {
    use cnode::NodeError;
    match err {
        NodeError::BadName { .. } => Exit::BadArgument,
        NodeError::CookieFile { .. }
        | NodeError::EmptyCookie { .. }
        | NodeError::EmbeddedEpmd { .. }
        | NodeError::EpmdRegister { .. } => Exit::Config,
        NodeError::Listen { .. } => Exit::Local,
        NodeError::Connect(err) => connect(err),
        NodeError::PingTimeout { .. } => Exit::Timeout,
        NodeError::PingLost { .. } => Exit::Unreachable,
        NodeError::Send(err) => send(err),
        _ => Exit::Failure,
    }
}

/// Setting up the connection.
fn connect(err: &ConnectError) -> Exit {
    match err {
        ConnectError::BadName { .. } => Exit::BadArgument,
        ConnectError::CookieRejected { .. } | ConnectError::NotAllowed { .. } => Exit::Refused,
        ConnectError::NotRegistered { .. }
        | ConnectError::EpmdUnreachable { .. }
        | ConnectError::Unreachable { .. } => Exit::Unreachable,
        ConnectError::Handshake { .. } => Exit::Protocol,
        ConnectError::Tls { .. } => Exit::Config,
        ConnectError::Timeout { .. } => Exit::Timeout,
        _ => Exit::Failure,
    }
}

/// An rpc that failed without `{badrpc, Reason}`.
fn rpc(err: &RpcError) -> Exit {
    match err {
        RpcError::BadRpc { .. } => Exit::CallFailed,
        RpcError::Timeout { .. } => Exit::Timeout,
        RpcError::NodeDown { .. } => Exit::Unreachable,
        RpcError::Connect(err) => connect(err),
        RpcError::Send(err) => send(err),
        _ => Exit::Failure,
    }
}

/// A message that could not be sent.
fn send(err: &SendError) -> Exit {
    match err {
        SendError::BadNode { .. } => Exit::BadArgument,
        SendError::Unsupported { .. } => Exit::Protocol,
        _ => Exit::Failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_the_help_table_lists_each() {
        let mut codes: Vec<u8> = ALL.iter().map(|exit| exit.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        for exit in ALL {
            let row = format!("{:>4}  {:<13} ", exit.code(), exit.name());
            assert!(HELP.contains(&row), "no row {row:?} in\n{HELP}");
        }
        let rows = HELP.lines().filter(|line| line.starts_with("  ")).count();
        assert_eq!(rows, ALL.len());
    }

    #[test]
    fn node_errors_map_to_their_class() {
        let node = || "a@b".to_owned();
        let cases = [
            (NodeCliError::CookieRefused { node: node() }, Exit::Refused),
            (
                NodeCliError::Timeout {
                    node: node(),
                    after: std::time::Duration::from_secs(1),
                },
                Exit::Timeout,
            ),
            (
                NodeCliError::BadRpc {
                    reason: etf::Term::atom("nodedown"),
                },
                Exit::CallFailed,
            ),
            (
                NodeCliError::NotRegistered {
                    alive: "a".into(),
                    host: "b".into(),
                    port: 4369,
                },
                Exit::Unreachable,
            ),
            (
                NodeCliError::Connect(Box::new(ConnectError::NotAllowed {
                    node: node(),
                    missing: dist_proto::DistFlags::EMPTY,
                })),
                Exit::Refused,
            ),
            (
                NodeCliError::Rpc(Box::new(RpcError::NodeDown { node: node() })),
                Exit::Unreachable,
            ),
        ];
        for (err, exit) in cases {
            assert_eq!(Exit::from(&err), exit, "{err}");
        }
    }
}
