//! A gen_server-style protocol for a Rust process: it answers
//! `gen_server:call({Name, Node}, Request)` and takes `gen_server:cast`,
//! and calls Erlang gen_servers.
//!
//! The caller of `gen_server:call` monitors the server, so a server that
//! ends with [`Process::exit_with`] (or is dropped, reason `normal`) makes
//! the call exit with that reason, and a name nobody has gives `noproc`,
//! as with an Erlang gen_server. `sys` messages are not handled here: a [`Server`](crate::Server) answers them.
//!
//! Typed: [`Call::request_as`] and [`Call::reply_as`] read the request and
//! write the reply through [`etf::serde`]; [`Process::gen_call_as`] calls.
//! A `'DOWN'` or `'EXIT'` arriving as [`Request::Info`] reads with
//! [`Message::as_down`] and [`Message::as_exit`].
//!
//! ```no_run
//! # async fn demo(node: cnode::Node) -> Result<(), Box<dyn std::error::Error>> {
//! use cnode::Request;
//! use etf::Term;
//!
//! let mut server = node.spawn_process()?;
//! server.register("counter")?;
//! let mut count = 0;
//! loop {
//!     match server.next_request().await? {
//!         Request::Call(call) => call.reply(&server, Term::from(count))?,
//!         Request::Cast(_) => count += 1,
//!         Request::Info(_) => {}
//!     }
//! }
//! # }
//! ```

use std::time::Duration;

use etf::{Pid, Term};

use crate::data::error::{RecvError, SendError};
use crate::data::message::{Dest, Message};
use crate::features::process::Process;
use crate::runtime::dispatch::gen_call;

/// A message to a gen_server-style process, classified by
/// [`Process::next_request`]: a Rust process answers
/// `gen_server:call({Name, Node}, Request)` (Elixir's `GenServer.call`)
/// and takes `gen_server:cast`.
///
/// The caller of `gen_server:call` monitors the server, so a server that
/// ends with [`Process::exit_with`] (or is dropped, reason `normal`)
/// makes the call exit with that reason, and a name nobody has gives
/// `noproc`, as with an Erlang gen_server. A [`Call`] can be kept and
/// answered later from another task, through a
/// [`ProcessHandle`](crate::ProcessHandle) of the server (`{noreply,
/// State}`, then `gen_server:reply/2`). A `'DOWN'` or `'EXIT'` arrives as
/// [`Request::Info`] and reads with [`Message::as_down`] and
/// [`Message::as_exit`]. `sys` messages are not answered: they arrive as
/// [`Request::Info`] too (a [`Server`](crate::Server) answers them, and
/// runs the loop for you). The [guide](crate::guide#gen_server) maps the
/// gen_server callbacks to this loop and to the trait.
///
/// ```no_run
/// # async fn demo(node: cnode::Node) -> Result<(), cnode::Error> {
/// use cnode::etf::Term;
/// use cnode::Request;
///
/// let mut server = node.spawn_process()?;
/// server.register("counter")?;
/// let mut count = 0;
/// loop {
///     match server.next_request().await? {
///         Request::Call(call) => call.reply(&server, Term::from(count))?,
///         Request::Cast(_) => count += 1,
///         Request::Info(_) => {}
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `gen_server:call`: answer it with [`Call::reply`].
    Call(Call),
    /// `gen_server:cast(Server, Request)`: the request.
    Cast(Term),
    /// Anything else (`handle_info`).
    Info(Message),
}

/// A `gen_server:call` waiting for its reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The calling process.
    pub from: Pid,
    /// The call's tag: a reference, or `[alias | Ref]` from OTP 24 on.
    pub tag: Term,
    /// The request.
    pub request: Term,
}

impl Call {
    /// Sends `{Tag, Reply}`: to the alias of an `[alias | Ref]` tag, as
    /// `gen:reply` does, else to the caller's pid.
    ///
    /// To reply later from another task, take a
    /// [`ProcessHandle`](crate::ProcessHandle) of the server
    /// ([`Process::handle`]) and use its `reply`.
    pub fn reply(&self, server: &Process, reply: Term) -> Result<(), SendError> {
        server.send(self.reply_to(), self.reply_message(reply))
    }

    /// Where the reply goes.
    pub(crate) fn reply_to(&self) -> Dest {
        match alias_of(&self.tag) {
            Some(alias) => Dest::Alias(alias.clone()),
            None => Dest::Pid(self.from.clone()),
        }
    }

    /// The reply message, `{Tag, Reply}`.
    pub(crate) fn reply_message(&self, reply: Term) -> Term {
        Term::tuple(vec![self.tag.clone(), reply])
    }
}

/// The reference of an `[alias | Ref]` tag.
fn alias_of(tag: &Term) -> Option<&etf::Reference> {
    match tag {
        Term::ImproperList(head, tail) if head.len() == 1 && head[0].is_atom("alias") => {
            tail.as_reference()
        }
        _ => None,
    }
}

impl Request {
    /// Classifies a message.
    pub fn from_message(message: Message) -> Request {
        if let Some((from, tag, request)) = gen_call(&message.payload) {
            return Request::Call(Call {
                from: from.clone(),
                tag: tag.clone(),
                request: request.clone(),
            });
        }
        match message.payload.as_tuple() {
            Some([label, request]) if label.is_atom("$gen_cast") => Request::Cast(request.clone()),
            _ => Request::Info(message),
        }
    }
}

/// A `gen_server:call` from Rust failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The request could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The server ended, did not exist (`noproc`) or its node was lost
    /// (`noconnection`) before replying.
    #[error("the server exited: {reason}")]
    Exit {
        /// The reason from the monitor.
        reason: Term,
    },
    /// No reply within the timeout.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The calling process ended.
    #[error("the calling process ended: {0}")]
    Recv(RecvError),
}

impl Process {
    /// The next message, classified for a gen_server-style loop. Cancel
    /// safe, as [`Process::recv`].
    pub async fn next_request(&mut self) -> Result<Request, RecvError> {
        self.recv().await.map(Request::from_message)
    }

    /// `gen_server:call(Server, Request, Timeout)` to a pid or `(name,
    /// node)`: monitors the server, sends `{'$gen_call', {Self, Ref},
    /// Request}`, and waits for `{Ref, Reply}` or the monitor's `'DOWN'`.
    ///
    /// Not cancel safe in one respect: dropped before it completes, the
    /// call leaves its monitor, and a late reply or `'DOWN'` may then
    /// arrive in the mailbox (as after an Erlang `catch gen_server:call`).
    pub async fn gen_call(
        &mut self,
        server: impl Into<Dest>,
        request: Term,
        timeout: Duration,
    ) -> Result<Term, CallError> {
        let server = server.into();
        let monitor = self.monitor(server.clone())?;
        let tag = Term::Reference(monitor.clone());
        let message = Term::tuple(vec![
            Term::atom("$gen_call"),
            Term::tuple(vec![Term::Pid(self.pid().clone()), tag.clone()]),
            request,
        ]);
        self.send(server, message)?;
        let answer = self
            .recv_matching_timeout(timeout, |m| match m.payload.as_tuple() {
                Some([t, _]) => *t == tag,
                Some([down, r, _, _, _]) => down.is_atom("DOWN") && *r == tag,
                _ => false,
            })
            .await;
        self.demonitor(&monitor);
        match answer {
            Ok(message) => match message.payload.as_tuple() {
                Some([_, reply]) => Ok(reply.clone()),
                Some([_, _, _, _, reason]) => Err(CallError::Exit {
                    reason: reason.clone(),
                }),
                _ => Err(CallError::Exit {
                    reason: Term::atom("badreply"),
                }),
            },
            Err(RecvError::Timeout(after)) => Err(CallError::Timeout(after)),
            Err(err) => Err(CallError::Recv(err)),
        }
    }

    /// `gen_server:cast(Server, Request)`: sends `{'$gen_cast', Request}`.
    pub fn gen_cast(&self, server: impl Into<Dest>, request: Term) -> Result<(), SendError> {
        self.send(server, Term::tuple(vec![Term::atom("$gen_cast"), request]))
    }
}
