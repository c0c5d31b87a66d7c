//! A gen_server you implement: the [`Server`] trait, run by the library
//! ([`Node::start_server`](crate::Node::start_server)) as an Erlang
//! gen_server runs a callback module.
//!
//! (The guide is on [`Server`], where rustdoc shows it.)

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use etf::{Atom, Pid, Term};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::data::error::{RecvError, RegisterError, SendError, SpawnError};
use crate::data::message::{Dest, Message};
use crate::features::error::Error;
use crate::features::gen_server::{Call, CallError, Request};
use crate::features::process::Process;
use crate::features::sys::{self, SysRequest};
use crate::runtime::core::Core;

/// A gen_server implemented in Rust: the callbacks of an Erlang
/// `gen_server` module, async, with typed requests and replies.
///
/// Only [`Server::handle_call`] must be written; the others default to
/// what an empty Erlang callback does. The futures must be `Send`: the
/// server runs as a task of its own.
///
/// Erlang calls it with `gen_server:call(Pid | {Name, Node}, Request)`,
/// `gen_server:cast` and plain `!`; Rust with [`ServerRef::call`] and
/// [`ServerRef::cast`]. Requests and replies are Rust types, converted
/// with `etf::serde` (a request that does not convert is answered
/// `{error, {bad_request, Why}}`; a cast that does not convert is dropped
/// with a warning). [`Term`] is a type like any other: use it for a
/// request or reply to take the raw term.
///
/// What OTP users expect holds:
/// - A call may be answered later, from anywhere: return
///   [`Reply::NoReply`] and keep the [`ReplyTo`] (`gen_server:reply/2`).
/// - A handler returning [`Reply::Stop`] or [`Next::Stop`] ends the server
///   with that reason, after [`Server::terminate`]; its links get the exit
///   signal, its monitors fire, pending callers exit with the reason.
/// - An exit signal from a linked process ends it unless it traps exits
///   ([`Process::trap_exit`] in [`Server::init`]; the `'EXIT'` messages
///   then reach [`Server::handle_info`]). Unlike OTP, [`Server::terminate`]
///   runs in both cases: the process is already gone, so it is the
///   place for Rust clean-up, as `Drop` is.
/// - A panic in a callback (or in [`Server::state_term`]) ends the server
///   with the exit reason `{panic, Message}` (after [`Server::terminate`]);
///   the node and the other processes go on.
/// - `sys:get_state`, `sys:get_status`, `sys:suspend`, `sys:resume` and
///   `sys:terminate` work on it from Erlang (the state is what
///   [`Server::state_term`] gives).
/// - [`Context::set_timeout`] is the timeout of a gen_server callback's
///   return: with no message within it, [`Server::handle_info`] gets the
///   atom `timeout`.
///
/// ```no_run
/// # async fn demo(node: cnode::Node) -> Result<(), Box<dyn std::error::Error>> {
/// use cnode::{Context, Next, Reply, ReplyTo, Server};
/// use serde::{Deserialize, Serialize};
///
/// struct Counter(i64);
///
/// #[derive(Serialize, Deserialize)]
/// #[serde(rename_all = "snake_case")]
/// enum Op {
///     Get,
///     Add(i64),
/// }
///
/// impl Server for Counter {
///     type Call = Op;
///     type Cast = Op;
///     type Reply = i64;
///
///     async fn handle_call(&mut self, op: Op, _: ReplyTo, _: &mut Context) -> Reply<i64> {
///         if let Op::Add(n) = op {
///             self.0 += n;
///         }
///         Reply::Reply(self.0)
///     }
///
///     async fn handle_cast(&mut self, op: Op, _: &mut Context) -> Next {
///         if let Op::Add(n) = op {
///             self.0 += n;
///         }
///         Next::Continue
///     }
/// }
///
/// // gen_server:call({counter, Node}, {add, 2}) gives 2 in Erlang.
/// let counter = node.start_server(Some("counter"), Counter(0)).await?;
/// let one: i64 = counter.call(&Op::Add(1), std::time::Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
pub trait Server: Send + 'static {
    /// The request of a call, from `gen_server:call(Server, Request)`.
    type Call: DeserializeOwned + Send;
    /// The request of a cast, from `gen_server:cast(Server, Request)`.
    type Cast: DeserializeOwned + Send;
    /// The reply to a call.
    type Reply: Serialize + Send;

    /// Runs before the server takes messages (`init/1`);
    /// [`Node::start_server`](crate::Node::start_server) returns once it
    /// has, or fails with the reason it returned.
    fn init(&mut self, ctx: &mut Context) -> impl Future<Output = Result<(), Term>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// A call (`handle_call/3`). `from` answers it later when this returns
    /// [`Reply::NoReply`].
    fn handle_call(
        &mut self,
        request: Self::Call,
        from: ReplyTo,
        ctx: &mut Context,
    ) -> impl Future<Output = Reply<Self::Reply>> + Send;

    /// A cast (`handle_cast/2`). By default ignored.
    fn handle_cast(
        &mut self,
        request: Self::Cast,
        ctx: &mut Context,
    ) -> impl Future<Output = Next> + Send {
        let _ = (request, ctx);
        async { Next::Continue }
    }

    /// Any other message (`handle_info/2`): `'DOWN'`s, `'EXIT'`s while
    /// trapping exits, plain messages, `timeout`. By default ignored.
    fn handle_info(
        &mut self,
        message: Message,
        ctx: &mut Context,
    ) -> impl Future<Output = Next> + Send {
        let _ = (message, ctx);
        async { Next::Continue }
    }

    /// Runs when the server ends, with the reason (`terminate/2`): after a
    /// stop, a panic, or an exit signal that killed the process.
    fn terminate(&mut self, reason: &Term, ctx: &mut Context) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }

    /// The state as `sys:get_state` and `sys:get_status` show it. By
    /// default the atom `undefined`; a state that is `Serialize` can
    /// return `etf::serde::to_term(self).unwrap_or(...)`.
    fn state_term(&self) -> Term {
        Term::atom("undefined")
    }
}

/// What [`Server::handle_call`] does with a call.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply<R> {
    /// Answer now (`{reply, Reply, State}`).
    Reply(R),
    /// Answer later through the [`ReplyTo`], or never (`{noreply, State}`).
    NoReply,
    /// End the server with `reason`, answering first if `reply` is given
    /// (`{stop, Reason, Reply, State}`, `{stop, Reason, State}`).
    Stop {
        /// The exit reason.
        reason: Term,
        /// The answer to the call, if any.
        reply: Option<R>,
    },
}

/// What [`Server::handle_cast`] and [`Server::handle_info`] do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Go on (`{noreply, State}`).
    Continue,
    /// End the server with this reason (`{stop, Reason, State}`).
    Stop(Term),
}

/// The server's own process and settings, lent to every callback.
#[derive(Debug)]
pub struct Context {
    process: Process,
    name: Option<String>,
    timeout: Option<Duration>,
}

impl Context {
    /// The server's process: to send, link, monitor, trap exits.
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// The server's pid.
    pub fn pid(&self) -> &Pid {
        self.process.pid()
    }

    /// The name the server was started with, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// If no message comes within `timeout` after this callback,
    /// [`Server::handle_info`] gets the atom `timeout` (the `Timeout` of a
    /// gen_server callback's return). Holds for the next wait only.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }
}

/// Where the answer to one call goes: keep it to answer later
/// (`gen_server:reply(From, Reply)`), from any task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ReplyTo {
    call: Call,
    server: Pid,
    core: Arc<Core>,
}

impl ReplyTo {
    /// The calling process.
    pub fn caller(&self) -> &Pid {
        &self.call.from
    }

    /// Answers the call with `reply`, converted to a term.
    pub fn reply<R: Serialize + ?Sized>(&self, reply: &R) -> Result<(), ServerError> {
        let term = etf::serde::to_term(reply).map_err(ServerError::Encode)?;
        self.reply_term(term)
    }

    /// Answers the call with a term as it is.
    pub fn reply_term(&self, reply: Term) -> Result<(), ServerError> {
        let (to, message) = (self.call.reply_to(), self.call.reply_message(reply));
        Ok(self
            .core
            .send(&self.server, to, message)
            .map_err(SendError::from)?)
    }
}

/// A running server: its pid and name, and typed calls and casts to it
/// from Rust. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ServerRef {
    pid: Pid,
    name: Option<String>,
    core: Arc<Core>,
}

impl ServerRef {
    /// The server's pid.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// The name it is registered as, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `gen_server:call(Server, Request, Timeout)` from a process of its
    /// own: the request and the reply converted with `etf::serde`.
    pub async fn call<Req, Rep>(&self, request: &Req, timeout: Duration) -> Result<Rep, ServerError>
    where
        Req: Serialize + ?Sized,
        Rep: DeserializeOwned,
    {
        let request = etf::serde::to_term(request).map_err(ServerError::Encode)?;
        let reply = self.call_term(request, timeout).await?;
        etf::serde::from_term(&reply).map_err(|source| ServerError::Decode {
            term: reply.clone(),
            source,
        })
    }

    /// [`ServerRef::call`] with terms as they are.
    pub async fn call_term(&self, request: Term, timeout: Duration) -> Result<Term, ServerError> {
        let mut caller = Process::spawn(&self.core)?;
        Ok(caller.gen_call(&self.pid, request, timeout).await?)
    }

    /// `gen_server:cast(Server, Request)`, the request converted with
    /// `etf::serde`.
    pub fn cast<Req: Serialize + ?Sized>(&self, request: &Req) -> Result<(), ServerError> {
        let request = etf::serde::to_term(request).map_err(ServerError::Encode)?;
        let message = Term::tuple(vec![Term::atom("$gen_cast"), request]);
        Ok(self
            .core
            .send(
                &self.core.anonymous_pid(),
                Dest::Pid(self.pid.clone()),
                message,
            )
            .map_err(SendError::from)?)
    }

    /// `gen_server:stop(Server, Reason, Timeout)`: ends the server with
    /// `reason` (after [`Server::terminate`]) and waits for its end.
    /// A server that is gone already gives [`ServerError::Call`] with
    /// `noproc`.
    pub async fn stop(&self, reason: Term, timeout: Duration) -> Result<(), ServerError> {
        let mut caller = Process::spawn(&self.core)?;
        let monitor = caller.monitor(&self.pid)?;
        let tag = Term::Reference(self.core.make_ref());
        let request = Term::tuple(vec![Term::atom("terminate"), reason]);
        let message = Term::tuple(vec![
            Term::atom("system"),
            Term::tuple(vec![Term::Pid(caller.pid().clone()), tag]),
            request,
        ]);
        caller.send(&self.pid, message)?;
        let down = caller
            .recv_matching_timeout(timeout, |m| match m.payload.as_tuple() {
                Some([down, r, ..]) => down.is_atom("DOWN") && r.as_reference() == Some(&monitor),
                _ => false,
            })
            .await;
        match down {
            Ok(message) => match message.payload.as_tuple() {
                Some([.., reason]) if reason.is_atom("noproc") => {
                    Err(ServerError::Call(CallError::Exit {
                        reason: reason.clone(),
                    }))
                }
                _ => Ok(()),
            },
            Err(RecvError::Timeout(after)) => Err(ServerError::Call(CallError::Timeout(after))),
            Err(err) => Err(ServerError::Call(CallError::Recv(err))),
        }
    }
}

/// Starting, calling or answering a [`Server`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No process could be made for it (or for a call's caller).
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// Its name is taken (or not a valid name).
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// [`Server::init`] failed, or panicked, with this reason.
    #[error("the server's init failed: {reason}")]
    Init {
        /// The reason init returned.
        reason: Term,
    },
    /// A call to it failed (it exited, did not answer in time).
    #[error(transparent)]
    Call(#[from] CallError),
    /// A message could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// A request or reply has no term (`etf::serde::to_term` failed).
    #[error("cannot convert to a term: {0}")]
    Encode(#[source] etf::serde::Error),
    /// A reply is not of the type asked for.
    #[error("the reply {term} does not convert: {source}")]
    Decode {
        /// The reply as it came.
        term: Term,
        /// Why it does not convert.
        #[source]
        source: etf::serde::Error,
    },
}

impl From<ServerError> for Error {
    /// The error of the operation that failed, as the other calls give it
    /// ([`Error::Spawn`], [`Error::Call`], [`Error::Serde`], ...); a failed
    /// init is [`Error::Other`], its `Display` naming the reason.
    fn from(error: ServerError) -> Error {
        match error {
            ServerError::Spawn(e) => Error::Spawn(e),
            ServerError::Register(e) => Error::Register(e),
            ServerError::Call(e) => Error::Call(e),
            ServerError::Send(e) => Error::Send(e),
            ServerError::Encode(e) | ServerError::Decode { source: e, .. } => Error::Serde(e),
            init @ ServerError::Init { .. } => Error::other(init),
        }
    }
}

/// Registers and starts `server` on the node `core` runs, returning once
/// its init has run.
pub(crate) async fn start<S: Server>(
    core: &Arc<Core>,
    name: Option<&str>,
    server: S,
) -> Result<ServerRef, ServerError> {
    let process = Process::spawn(core)?;
    if let Some(name) = name {
        process.register(name)?;
    }
    let pid = process.pid().clone();
    let ctx = Context {
        process,
        name: name.map(str::to_owned),
        timeout: None,
    };
    let (started, init) = oneshot::channel();
    tokio::spawn(run(server, ctx, started));
    match init.await {
        Ok(Ok(())) => Ok(ServerRef {
            pid,
            name: name.map(str::to_owned),
            core: Arc::clone(core),
        }),
        Ok(Err(reason)) => Err(ServerError::Init { reason }),
        Err(_) => Err(ServerError::Init {
            reason: Term::atom("shutdown"),
        }),
    }
}

/// The server's loop: init, then one message at a time until a stop, then
/// terminate and the process's end with the reason.
async fn run<S: Server>(
    mut server: S,
    mut ctx: Context,
    started: oneshot::Sender<Result<(), Term>>,
) {
    let init = match catch_panic(server.init(&mut ctx)).await {
        Ok(init) => init,
        Err(panic) => Err(panic),
    };
    if let Err(reason) = init {
        let _ = started.send(Err(reason.clone()));
        ctx.process.exit_with(reason);
        return;
    }
    let _ = started.send(Ok(()));
    let reason = serve(&mut server, &mut ctx).await;
    if let Err(panic) = catch_panic(server.terminate(&reason, &mut ctx)).await {
        tracing::warn!(%panic, "a server's terminate panicked");
    }
    if ctx.process.killed().is_none() {
        ctx.process.exit_with(reason);
    }
}

/// Takes messages until the server stops; returns the exit reason.
async fn serve<S: Server>(server: &mut S, ctx: &mut Context) -> Term {
    let mut suspended = false;
    let mut releases = HashMap::new();
    loop {
        let next = if suspended {
            ctx.process
                .recv_matching(|m| sys::parse(&m.payload).is_some())
                .await
        } else {
            match ctx.timeout.take() {
                Some(timeout) => match ctx.process.recv_timeout(timeout).await {
                    Err(RecvError::Timeout(_)) => Ok(Message {
                        from: None,
                        payload: Term::atom("timeout"),
                    }),
                    other => other,
                },
                None => ctx.process.recv().await,
            }
        };
        let message = match next {
            Ok(message) => message,
            Err(RecvError::Killed { reason }) => return reason,
            Err(_) => return Term::atom("shutdown"),
        };
        if let Some((call, request)) = sys::parse(&message.payload) {
            let answer = match request {
                SysRequest::GetState => {
                    let state = match state_of(server) {
                        Ok(state) => state,
                        Err(panic) => return panic,
                    };
                    match bare_state(&mut releases, ctx.process.core(), &call.from).await {
                        true => state,
                        false => Term::tuple(vec![Term::atom("ok"), state]),
                    }
                }
                SysRequest::GetStatus => match state_of(server) {
                    Ok(state) => sys::status(ctx.pid(), ctx.name(), suspended, state),
                    Err(panic) => return panic,
                },
                SysRequest::Suspend => {
                    suspended = true;
                    Term::atom("ok")
                }
                SysRequest::Resume => {
                    suspended = false;
                    Term::atom("ok")
                }
                SysRequest::Terminate(reason) => return reason,
                SysRequest::Other(request) => sys::other_reply(&request),
            };
            answer_call(ctx, &call, answer);
            continue;
        }
        let outcome = match Request::from_message(message) {
            Request::Call(call) => handle_call(server, ctx, call).await,
            Request::Cast(request) => match etf::serde::from_term::<S::Cast>(&request) {
                Ok(request) => catch_panic(server.handle_cast(request, ctx)).await,
                Err(err) => {
                    tracing::warn!(%request, %err, "a server dropped a cast it cannot read");
                    Ok(Next::Continue)
                }
            },
            Request::Info(message) => catch_panic(server.handle_info(message, ctx)).await,
        };
        match outcome {
            Ok(Next::Continue) => {}
            Ok(Next::Stop(reason)) | Err(reason) => return reason,
        }
    }
}

/// Whether `sys:get_state` on `caller`'s node takes the bare state as the
/// answer (OTP 25 and older) rather than `{ok, State}` (the releases after
/// it). The release is asked of the node's `rex` once and remembered; a
/// local caller, or a node that does not say, gets `{ok, State}`.
async fn bare_state(releases: &mut HashMap<Atom, bool>, core: &Arc<Core>, caller: &Pid) -> bool {
    if core.is_local(&caller.node) {
        return false;
    }
    if let Some(bare) = releases.get(&caller.node) {
        return *bare;
    }
    let Ok(mut asker) = Process::spawn(core) else {
        return false;
    };
    let me = Term::Pid(asker.pid().clone());
    let request = Term::tuple(vec![
        Term::atom("call"),
        Term::atom("erlang"),
        Term::atom("system_info"),
        Term::list(vec![Term::atom("otp_release")]),
        me,
    ]);
    let rex = Dest::Name {
        name: Atom::new("rex"),
        node: caller.node.clone(),
    };
    let release = match asker.gen_call(rex, request, RELEASE_WAIT).await {
        Ok(answer) => etf::serde::from_term::<String>(&answer)
            .ok()
            .and_then(|text| text.parse::<u32>().ok()),
        Err(_) => None,
    };
    let bare = matches!(release, Some(release) if release <= 25);
    releases.insert(caller.node.clone(), bare);
    bare
}

/// How long [`bare_state`] waits for a node to say its release.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// Runs one call; a panic is `Err` with its exit reason.
async fn handle_call<S: Server>(
    server: &mut S,
    ctx: &mut Context,
    call: Call,
) -> Result<Next, Term> {
    let request = match etf::serde::from_term::<S::Call>(&call.request) {
        Ok(request) => request,
        Err(err) => {
            let why = Term::binary(err.to_string().into_bytes());
            let bad = Term::tuple(vec![Term::atom("bad_request"), why]);
            answer_call(ctx, &call, Term::tuple(vec![Term::atom("error"), bad]));
            return Ok(Next::Continue);
        }
    };
    let from = ReplyTo {
        call: call.clone(),
        server: ctx.pid().clone(),
        core: Arc::clone(ctx.process.core()),
    };
    let (reply, next) = match catch_panic(server.handle_call(request, from, ctx)).await? {
        Reply::Reply(reply) => (Some(reply), Next::Continue),
        Reply::NoReply => (None, Next::Continue),
        Reply::Stop { reason, reply } => (reply, Next::Stop(reason)),
    };
    if let Some(reply) = reply {
        match etf::serde::to_term(&reply) {
            Ok(term) => answer_call(ctx, &call, term),
            Err(err) => {
                let why = Term::binary(err.to_string().into_bytes());
                return Err(Term::tuple(vec![Term::atom("bad_reply"), why]));
            }
        }
    }
    Ok(next)
}

/// Sends a call's answer; a caller that cannot be reached is as a caller
/// that is gone (gen_server's replies are sent with `!`).
fn answer_call(ctx: &Context, call: &Call, answer: Term) {
    let (to, message) = (call.reply_to(), call.reply_message(answer));
    if let Err(err) = ctx.process.send(to, message) {
        tracing::debug!(%err, "a server's reply was not sent");
    }
}

/// [`Server::state_term`]; a panic in it is `Err` with its exit reason,
/// and ends the server as a panic in a handler does.
fn state_of<S: Server>(server: &S) -> Result<Term, Term> {
    std::panic::catch_unwind(AssertUnwindSafe(|| server.state_term()))
        .map_err(|payload| panic_reason(payload.as_ref()))
}

/// Runs `future`, turning a panic in it into the exit reason `{panic,
/// Message}`.
async fn catch_panic<T>(future: impl Future<Output = T> + Send) -> Result<T, Term> {
    CatchPanic(Box::pin(future)).await
}

/// A future that turns a panic while polling into `Err`.
struct CatchPanic<'a, T>(Pin<Box<dyn Future<Output = T> + Send + 'a>>);

impl<T> Future for CatchPanic<'_, T> {
    type Output = Result<T, Term>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // The future is not polled again after a panic: it is dropped with
        // the server, whose state the panic may have left half-changed, as
        // an Erlang process's crash leaves nothing behind but `terminate`.
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_reason(payload.as_ref()))),
        }
    }
}

/// `{panic, <<"Message">>}` for a panic's payload.
fn panic_reason(payload: &(dyn Any + Send)) -> Term {
    let text = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    };
    Term::tuple(vec![Term::atom("panic"), Term::binary(text.into_bytes())])
}
