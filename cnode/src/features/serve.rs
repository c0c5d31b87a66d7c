//! Rust functions served to Erlang callers: `erpc:call`, `rpc:call` (which
//! goes through erpc when the node offers SPAWN), `erpc:cast` and
//! `rpc:cast`, `spawn/4` on this node, and the old `rex` route (`{call, M,
//! F, A, GL}` messages).
//!
//! An erpc call arrives as a `SPAWN_REQUEST` of `erpc:execute_call(Res, M,
//! F, A)` with a monitor: the node makes a process, answers `SPAWN_REPLY`
//! with its pid, runs the function, and ends the process with the reason
//! erpc reads the result from (`{Res, return, V}`, `{Res, throw, T}`,
//! `{Res, exit, R}` or `{Res, error, R, Stack}`), which reaches the caller
//! as the monitor's `MONITOR_P_EXIT`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use dist_proto::{ControlMessage, PidOrName};
use etf::{Atom, Pid, Term};

use crate::data::spawn::SpawnRequest;
use crate::features::process::Process;
use crate::runtime::core::Core;
use crate::runtime::dispatch::{gen_call, reply};
use crate::state::monitor::Incoming;

/// How a served function failed, as the Erlang exception the caller sees.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Exception {
    /// `erlang:error(Reason)`: `erpc:call` raises `error:{exception,
    /// Reason, Stack}`, `rpc:call` returns `{badrpc, {'EXIT', {Reason,
    /// Stack}}}`.
    #[error("error: {0}")]
    Error(Term),
    /// `throw(Value)`: `erpc:call` throws `Value`, `rpc:call` returns it.
    #[error("throw: {0}")]
    Throw(Term),
    /// `exit(Reason)`: `erpc:call` exits with `{exception, Reason}`,
    /// `rpc:call` returns `{badrpc, {'EXIT', Reason}}`.
    #[error("exit: {0}")]
    Exit(Term),
}

impl Exception {
    /// `error(badarg)`, for arguments a function does not accept.
    pub fn badarg() -> Exception {
        Exception::Error(Term::atom("badarg"))
    }
}

/// What a served function returns.
pub type FunctionResult = Result<Term, Exception>;

/// The future of an async served function.
pub type FunctionFuture = Pin<Box<dyn Future<Output = FunctionResult> + Send>>;

type Handler = Arc<dyn Fn(Vec<Term>) -> FunctionFuture + Send + Sync>;

/// The functions registered on a node, by module and function name.
#[derive(Default)]
pub(crate) struct Functions {
    map: RwLock<HashMap<(Atom, Atom), Handler>>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        f.debug_set().entries(map.keys()).finish()
    }
}

impl Functions {
    pub(crate) fn insert(&self, module: &str, function: &str, handler: Handler) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.insert((Atom::new(module), Atom::new(function)), handler);
    }

    pub(crate) fn remove(&self, module: &str, function: &str) -> bool {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.remove(&(Atom::new(module), Atom::new(function)))
            .is_some()
    }

    fn get(&self, module: &Atom, function: &Atom) -> Option<Handler> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(&(module.clone(), function.clone())).cloned()
    }
}

/// Wraps a synchronous function: it runs on tokio's blocking pool, so a
/// slow one does not hold up the node.
pub(crate) fn sync_handler<F>(f: F) -> Handler
where
    F: Fn(Vec<Term>) -> FunctionResult + Send + Sync + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |args| {
        let f = Arc::clone(&f);
        Box::pin(async move {
            match tokio::task::spawn_blocking(move || f(args)).await {
                Ok(result) => result,
                Err(err) => Err(Exception::Error(Term::tuple(vec![
                    Term::atom("rust_panic"),
                    Term::from(err.to_string()),
                ]))),
            }
        })
    })
}

/// Wraps an async function.
pub(crate) fn async_handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Vec<Term>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = FunctionResult> + Send + 'static,
{
    Arc::new(move |args| Box::pin(f(args)))
}

/// Calls `module:function(args)`; an unknown one raises `undef` with the
/// stack frame Erlang gives (`[{M, F, Args, []}]`).
async fn apply(functions: &Functions, module: &Atom, function: &Atom, args: Vec<Term>) -> Outcome {
    let frame = |args: Term| {
        Term::list(vec![Term::tuple(vec![
            Term::Atom(module.clone()),
            Term::Atom(function.clone()),
            args,
            Term::Nil,
        ])])
    };
    let Some(handler) = functions.get(module, function) else {
        return Outcome::Error(Term::atom("undef"), frame(Term::list(args)));
    };
    let arity = Term::Int(args.len() as i64);
    match handler(args).await {
        Ok(value) => Outcome::Return(value),
        Err(Exception::Throw(value)) => Outcome::Throw(value),
        Err(Exception::Exit(reason)) => Outcome::Exit(reason),
        Err(Exception::Error(reason)) => Outcome::Error(reason, frame(arity)),
    }
}

/// The end of a call, with the stack of an error.
enum Outcome {
    Return(Term),
    Throw(Term),
    Exit(Term),
    Error(Term, Term),
}

/// What the spawned process runs.
enum Job {
    /// `erpc:execute_call(Res, M, F, A)`.
    Erpc {
        res: Term,
        module: Atom,
        function: Atom,
        args: Vec<Term>,
    },
    /// `apply(M, F, A)`, as `spawn/4` does.
    Apply {
        module: Atom,
        function: Atom,
        args: Vec<Term>,
    },
}

fn job(request: &SpawnRequest) -> Option<Job> {
    let args = request.args.to_list()?;
    if request.module.as_str() == "erpc" && request.function.as_str() == "execute_call" {
        if let [res, module, function, call_args] = args.as_slice() {
            return Some(Job::Erpc {
                res: res.clone(),
                module: module.as_atom()?.clone(),
                function: function.as_atom()?.clone(),
                args: call_args.to_list()?,
            });
        }
    }
    if request.module.as_str() == "erpc" && request.function.as_str() == "execute_cast" {
        // `erpc:cast/4` (and `rpc:cast/4` on top of it): nobody waits.
        if let [module, function, call_args] = args.as_slice() {
            return Some(Job::Apply {
                module: module.as_atom()?.clone(),
                function: function.as_atom()?.clone(),
                args: call_args.to_list()?,
            });
        }
    }
    Some(Job::Apply {
        module: request.module.clone(),
        function: request.function.clone(),
        args,
    })
}

/// Answers a `SPAWN_REQUEST`: a process that runs the function, linked to
/// and monitored by the requester as its options say.
pub(crate) fn spawn_request(core: &Arc<Core>, functions: &Arc<Functions>, request: SpawnRequest) {
    let opts = request.opts.to_list().unwrap_or_default();
    let link = opts.iter().any(|o| o.is_atom("link"));
    let monitor = opts.iter().any(|o| {
        o.is_atom("monitor")
            || o.as_tuple()
                .is_some_and(|t| t.len() == 2 && t[0].is_atom("monitor"))
    });
    let refuse = |reason: &str| {
        let no = ControlMessage::SpawnReply {
            req_id: request.req_id.clone(),
            to: request.from.clone(),
            flags: 0,
            result: Term::atom(reason),
            token: None,
        };
        reply(core, &request.from.node, no, None);
    };
    let Some(job) = job(&request) else {
        refuse("badarg");
        return;
    };
    let process = match Process::spawn(core) {
        Ok(process) => process,
        Err(_) => {
            refuse("system_limit");
            return;
        }
    };
    let pid = process.pid().clone();
    {
        let mut table = core.table();
        if link || monitor {
            // Alive: nothing else knows its pid yet.
            table.entangle(&pid);
        }
        if link {
            table.add_link(&pid, &request.from);
        }
        if monitor {
            let incoming = Incoming {
                watcher: request.from.clone(),
                target: pid.clone(),
                named: PidOrName::Pid(pid.clone()),
            };
            table.add_monitor_in(request.req_id.clone(), incoming);
        }
    }
    let flags = u8::from(link) * dist_proto::SPAWN_FLAG_LINK
        + u8::from(monitor) * dist_proto::SPAWN_FLAG_MONITOR;
    let ok = ControlMessage::SpawnReply {
        req_id: request.req_id,
        to: request.from.clone(),
        flags,
        result: Term::Pid(pid),
        token: None,
    };
    reply(core, &request.from.node, ok, None);
    tokio::spawn(run_job(Arc::clone(functions), process, job));
}

/// Runs the function in `process` unless an exit signal kills it first,
/// then ends it with the reason its caller reads.
async fn run_job(functions: Arc<Functions>, mut process: Process, job: Job) {
    let (module, function, args) = match &job {
        Job::Erpc {
            module,
            function,
            args,
            ..
        }
        | Job::Apply {
            module,
            function,
            args,
        } => (module.clone(), function.clone(), args.clone()),
    };
    let outcome = tokio::select! {
        outcome = apply(&functions, &module, &function, args) => outcome,
        () = until_killed(&mut process) => return,
    };
    let reason = match (job, outcome) {
        (Job::Erpc { res, .. }, outcome) => {
            let mut parts = vec![res];
            match outcome {
                Outcome::Return(v) => parts.extend([Term::atom("return"), v]),
                Outcome::Throw(v) => parts.extend([Term::atom("throw"), v]),
                Outcome::Exit(r) => parts.extend([Term::atom("exit"), r]),
                Outcome::Error(r, stack) => parts.extend([Term::atom("error"), r, stack]),
            }
            Term::tuple(parts)
        }
        (Job::Apply { .. }, Outcome::Return(_)) => Term::atom("normal"),
        (Job::Apply { .. }, Outcome::Exit(r)) => r,
        (Job::Apply { .. }, Outcome::Throw(v)) => {
            let nocatch = Term::tuple(vec![Term::atom("nocatch"), v]);
            Term::tuple(vec![nocatch, Term::Nil])
        }
        (Job::Apply { .. }, Outcome::Error(r, stack)) => Term::tuple(vec![r, stack]),
    };
    process.exit_with(reason);
}

/// Waits until an exit signal kills `process` (its messages are dropped:
/// a served function does not receive).
async fn until_killed(process: &mut Process) {
    while process.recv().await.is_ok() {}
}

/// The built-in `rex`: `{From, {call, M, F, A, GL}}` answered
/// `{rex, Result}`, the `'$gen_call'` form answered `{Tag, Result}`,
/// `{'$gen_cast', {cast, M, F, A, GL}}` run without answer, as `rpc` does.
pub(crate) fn rex(
    core: &Arc<Core>,
    functions: &Arc<Functions>,
    sender: Pid,
    payload: Option<Term>,
) {
    let Some(payload) = payload else { return };
    let (reply_to, tag, request) = if let Some((from, tag, request)) = gen_call(&payload) {
        (Some(from.clone()), Some(tag.clone()), request.clone())
    } else if let Some([label, request]) = payload.as_tuple() {
        if label.is_atom("$gen_cast") {
            (None, None, request.clone())
        } else if let Some(from) = label.as_pid() {
            (Some(from.clone()), None, request.clone())
        } else {
            tracing::debug!(%payload, %sender, "rex: not a request");
            return;
        }
    } else {
        tracing::debug!(%payload, %sender, "rex: not a request");
        return;
    };
    let call = request.as_tuple().and_then(|t| match t {
        [kind, m, f, a, _gl] if kind.is_atom("call") || kind.is_atom("cast") => {
            Some((m.as_atom()?.clone(), f.as_atom()?.clone(), a.to_list()?))
        }
        _ => None,
    });
    let Some((module, function, args)) = call else {
        tracing::debug!(%request, "rex: request not supported");
        return;
    };
    let answer = move |core: &Arc<Core>, result: Term| {
        let Some(to) = reply_to else { return };
        let label = tag.unwrap_or_else(|| Term::atom("rex"));
        let send = ControlMessage::Send {
            to: to.clone(),
            token: None,
        };
        reply(core, &to.node, send, Some(Term::tuple(vec![label, result])));
    };
    // Each call runs as a process of its own, as under the BEAM's rex:
    // the process table bounds how many run at once.
    let process = match Process::spawn(core) {
        Ok(process) => process,
        Err(_) => {
            let limit = Term::tuple(vec![Term::atom("badrpc"), Term::atom("system_limit")]);
            answer(core, limit);
            return;
        }
    };
    let (core, functions) = (Arc::clone(core), Arc::clone(functions));
    tokio::spawn(async move {
        let result = match apply(&functions, &module, &function, args).await {
            Outcome::Return(v) | Outcome::Throw(v) => v,
            Outcome::Exit(r) => badrpc_exit(r),
            Outcome::Error(r, stack) => badrpc_exit(Term::tuple(vec![r, stack])),
        };
        answer(&core, result);
        drop(process);
    });
}

/// `{badrpc, {'EXIT', Reason}}`.
fn badrpc_exit(reason: Term) -> Term {
    Term::tuple(vec![
        Term::atom("badrpc"),
        Term::tuple(vec![Term::atom("EXIT"), reason]),
    ])
}
