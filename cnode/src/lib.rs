//! A Rust node for Erlang distribution, on tokio.
//!
//! A [`Node`] joins a cluster as a hidden node: it registers with EPMD
//! (starting an in-process one when none runs), accepts connections and
//! connects on first send, and hosts [`Process`]es: mailboxes with pids that
//! send and receive terms. It answers `net_adm:ping`, pings, and calls
//! Erlang functions through `rex` ([`Rpc`]).
//!
//! Coming from Erlang or Elixir? The [`guide`] maps `gen_server`, `!` and
//! `receive`, monitors, links, `rpc` and term syntax to this API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cnode::etf::Term;
//! use cnode::Node;
//! use std::time::Duration;
//!
//! let node = Node::builder("rust@localhost").cookie("secret").start().await?;
//! let mut process = node.spawn_process()?;
//! process.register("rusty")?;
//! node.ping("erl@localhost").await?;
//! process.send(("shell", "erl@localhost"), Term::atom("hello"))?;
//! let reply = process.recv_timeout(Duration::from_secs(5)).await?;
//! let sorted = node
//!     .rpc()
//!     .call("erl@localhost", "lists", "sort", vec![Term::list(vec![3.into(), 1.into()])], Duration::from_secs(5))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! What works:
//! - Names `alive@host` ([`NodeName`]: short, long or IP host; a bare
//!   `alive` gets this machine's short host name, or with
//!   [`NodeName::long`] its whole one), cookies from the builder,
//!   `~/.erlang.cookie` or per node ([`Node::set_cookie`]); a listen port or
//!   range; `net_ticktime`; registration with EPMD (an in-process EPMD is
//!   started when none answers).
//! - Connections both ways, set up on first send or by [`Node::connect`];
//!   simultaneous connects resolved as OTP's `net_kernel` does (the greater
//!   node name keeps its attempt); a node replacing its old connection after
//!   `alive`. Messages sent while a connection is being set up wait in a
//!   queue bounded by count and size ([`NodeBuilder::pending_limit`],
//!   [`NodeBuilder::pending_bytes`]); if the setup
//!   fails they are dropped and [`Node::connect`] says why.
//! - One task per connection reads its socket and drives
//!   [`dist_proto::Connection`]: ticks, the tick timeout, flushing. Its
//!   reader never waits on a process: mailboxes are unbounded. A process
//!   sending to a peer encodes its message itself and writes it to the
//!   socket at once when nothing waits ahead of it (bursts are coalesced
//!   into the task's larger writes); large binaries go out from the term's
//!   own buffers, in fragments. Output to a peer that does not read waits
//!   in the connection's queue up to [`NodeBuilder::send_buffer_limit`];
//!   past it [`Process::send`] refuses messages with [`SendError::Busy`]
//!   (as `erlang:send_nosuspend/2` does on a busy distribution channel) and
//!   [`Process::send_wait`] waits for room (as a sending Erlang process is
//!   suspended); signals are never refused. Atoms go as atom cache
//!   references when the peer takes them.
//! - For speed, run busy processes in spawned tasks: the future given to
//!   `block_on` (the body of `#[tokio::main]`) runs on the main thread, off
//!   the runtime's workers, and waking it takes a system call per message.
//! - Processes: pids with the EPMD creation, registered names, send to a
//!   pid or `(name, node)`, receive with or without timeout, selective
//!   receive that keeps the other messages in order. Messages to dead pids
//!   or unknown names are dropped. Up to [`DEFAULT_MAX_PROCESSES`]
//!   (262,144, the BEAM's default) processes live at once, or what
//!   [`NodeBuilder::max_processes`] sets (up to [`MAX_PROCESSES_LIMIT`]);
//!   pid numbers are reused with a new serial, so a stale pid reaches
//!   nobody. An idle process costs a few hundred bytes: its mailbox
//!   allocates only while messages wait.
//! - `net_kernel`'s `is_auth` answered, echoing the `[alias | Ref]` tag;
//!   [`Node::ping`].
//! - rpc through `rex` ([`Rpc`]): call with timeout, async call, cast,
//!   multicall, eval everywhere; `{badrpc, Reason}` is [`RpcError::BadRpc`].
//! - [`Node::disconnect`], [`Node::nodes`], [`Node::events`] (nodeup and
//!   nodedown with a [`DownReason`]), [`Node::shutdown`].
//!
//! - Signals as between Erlang processes, local and remote (OTP 26+
//!   protocol): [`Process::link`], [`Process::unlink`] (`UNLINK_ID`),
//!   [`Process::trap_exit`], [`Process::exit`] (`EXIT2`),
//!   [`Process::exit_with`]; a process killed by an exit signal ends at
//!   once, its links and monitors fire ([`RecvError::Killed`]).
//!   [`Process::monitor`] by pid or name and [`Process::demonitor`];
//!   monitors on our processes by pid or registered name; `'DOWN'` with
//!   `noproc` for a dead or unknown target. A lost connection fires every
//!   link and monitor across it with `noconnection` in one pass over those
//!   only. [`Process::monitor_node`]. Aliases ([`Process::alias`],
//!   [`Dest::Alias`], `ALIAS_SEND`).
//! - Priority messages of OTP 28 (EEP 76, `DFLAG_ALTACT_SIG`,
//!   `ALTACT_SIG_SEND`): [`Process::priority_alias`] is `alias([priority])`,
//!   whose priority messages (and priority `'EXIT'`s) overtake the ordinary
//!   messages in the mailbox; [`Process::send_priority`] is
//!   `erlang:send(To, Msg, [priority])`, refused with
//!   [`SendError::PriorityNotSupported`] for a node without the flag.
//! - Rust functions served to Erlang ([`Node::register_function`],
//!   [`Node::register_async_function`]): `erpc:call`, `rpc:call`,
//!   `spawn/4` on this node, and `rex`'s `{call, M, F, A, GL}`; results,
//!   [`Exception`]s and `undef` as a BEAM node gives them.
//! - gen_server-style processes ([`Process::next_request`], [`Call::reply`]
//!   with `[alias | Ref]` tags) and calls ([`Process::gen_call`],
//!   [`Process::gen_cast`]); [`Process::spawn_remote`] (`spawn_request`
//!   with link and monitor); `global` names through rpc
//!   ([`Node::global_register`], [`Node::global_whereis`],
//!   [`Node::global_send`]).
//!
//! - Typed messaging through [`etf::serde`] (re-exported as
//!   [`cnode::etf`](etf), so one dependency is enough):
//!   [`Process::send_as`], [`Process::recv_as`] (the oldest message that
//!   converts, the others kept), [`Message::decode`],
//!   [`Process::gen_call_as`], [`Call::request_as`], [`Call::reply_as`],
//!   [`Rpc::call_as`] and [`Node::register_typed_function`]. System
//!   messages as typed values: [`Message::as_down`] ([`Down`]),
//!   [`Message::as_exit`] ([`Exit`]), [`Message::as_nodedown`],
//!   [`Message::system`], each with a [`Reason`]; [`Process::recv_down`]
//!   waits for the `'DOWN'` of one monitor.
//! - A [`ProcessHandle`] ([`Process::handle`]): cloneable, it sends and
//!   replies to calls as its process from other tasks, while the one
//!   owner of the [`Process`] receives. Every receive method is cancel
//!   safe (a receive dropped in a `tokio::select!` takes no message).
//! - One error type, [`Error`], that `?` makes of every error here, of
//!   the codec's and of `std::io`; its `Display` and `Debug` are one
//!   readable line, so `main` can return `Result<(), cnode::Error>`.
//!
//! ```no_run
//! use cnode::etf::term;
//! use cnode::{Exception, Node, Request};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! #[serde(rename_all = "snake_case")]
//! enum Command {
//!     Get(String),
//!     Put(String, i64),
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), cnode::Error> {
//!     let node = Node::builder("rust@localhost").cookie("secret").start().await?;
//!     // erpc:call(rust@localhost, math, add, [1, 2]) gives 3.
//!     node.register_typed_function("math", "add", |(a, b): (i64, i64)| async move {
//!         Ok::<_, Exception>(a + b)
//!     });
//!     let mut server = node.spawn_process()?;
//!     server.register("kv")?;
//!     let mut value = 0;
//!     loop {
//!         if let Request::Call(call) = server.next_request().await? {
//!             match call.request_as::<Command>() {
//!                 Ok(Command::Put(_, v)) => {
//!                     value = v;
//!                     call.reply(&server, term!(ok))?
//!                 }
//!                 Ok(Command::Get(_)) => call.reply(&server, term!({ok, (value)}))?,
//!                 Err(_) => call.reply(&server, term!({error, badarg}))?,
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! - A gen_server you implement: the [`Server`] trait (`init`,
//!   `handle_call`, `handle_cast`, `handle_info`, `terminate`, typed
//!   through serde), run by [`Node::start_server`]: deferred replies
//!   ([`ReplyTo`]), stop with a reason, panics become exits, and `sys`
//!   (`get_state`, `get_status`, `suspend`, `resume`, `terminate`)
//!   answered for Erlang's tools; restarted by a supervisor
//!   ([`Node::start_supervised`], [`RestartPolicy`]). See [`Server`].
//!
//! Not yet: visible (non-hidden) mode, dynamic node names, group leaders (a
//! spawn's group leader is ignored).
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

// The layers, bottom up: a module imports only from its own layer and
// those below (ARCHITECTURE.md; `tests/layers.rs` checks it).
mod builder;
mod data;
mod features;
mod net;
mod node;
mod runtime;
mod state;
#[cfg(test)]
mod tests;

/// The term model and codec this crate sends and receives, with its
/// `serde` mapping ([`etf::serde`]): one dependency is enough.
pub use etf;

/// Erlang and Elixir idioms in this crate: `gen_server`, `spawn` and `!`,
/// `receive ... after`, monitors and `'DOWN'`, links and `'EXIT'`, `rpc`,
/// nodes, `global`, and terms (atoms, binaries, charlists, Elixir structs).
///
/// It holds no items: it is documentation, with examples that run.
#[doc = include_str!("../docs/guide.md")]
pub mod guide {}

pub use builder::{
    NodeBuilder, DEFAULT_MAX_UNAUTHENTICATED, DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE,
    DEFAULT_PENDING_BYTES, DEFAULT_PENDING_LIMIT, DEFAULT_SEND_BUFFER_LIMIT,
};
pub use data::chardata::chardata_to_string;
pub use data::error::{
    ConnectError, NodeError, RecvError, RegisterError, RpcError, SendError, SpawnError,
    UnreachableReason,
};
pub use data::events::{DownReason, IoOp, NodeEvent, NodeEvents};
pub use data::message::{Dest, Message};
pub use data::name::{NameError, NodeName};
pub use data::system::{Down, Exit, NodeDown, Reason, SystemMessage};
pub use features::error::Error;
pub use features::gen_server::{Call, CallError, Request};
pub use features::global::GlobalError;
pub use features::handle::ProcessHandle;
pub use features::process::Process;
pub use features::remote_spawn::{RemoteSpawnError, SpawnOptions, Spawned};
pub use features::rpc::{Multicall, Rpc, RpcHandle};
pub use features::serve::{Exception, FunctionFuture, FunctionResult};
pub use features::server::{Context, Next, Reply, ReplyTo, Server, ServerError, ServerRef};
pub use features::supervise::{Restart, RestartPolicy, Supervisor};
pub use net::resolve::AddressFamily;
pub use net::tls::{TlsConfig, TlsConfigError};
pub use node::Node;
pub use state::registry::{DEFAULT_MAX_PROCESSES, MAX_PROCESSES_LIMIT};
