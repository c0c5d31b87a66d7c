//! rpc to Erlang nodes through their `rex` server, as the `rpc` module does:
//! [`Rpc::call`], [`Rpc::async_call`], [`Rpc::cast`], [`Rpc::multicall`] and
//! [`Rpc::eval_everywhere`].
//!
//! A call sends `{'$gen_call', {Pid, Tag}, {call, M, F, A, GroupLeader}}` to
//! `rex` from a fresh process, whose pid is also the group leader: output
//! of the called function (`io:format`) comes back as `io_request`s, which
//! are answered so that the call does not hang, and whose text goes to
//! [`Rpc::with_output`]'s writer (or to the log).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use etf::Term;
use tokio::task::JoinHandle;

use crate::data::chardata;
use crate::data::error::{RpcError, SendError};
use crate::data::events::NodeEvent;
use crate::data::events::NodeEvents;
use crate::data::message::{Dest, Message};
use crate::features::process::Process;
use crate::runtime::core::{Core, Owner};

/// The rpc client of a node, from [`Node::rpc`](crate::Node::rpc). The called node must run
/// `rex` (every Erlang node does). This node serves its registered
/// functions to other nodes only: a call to itself times out.
///
/// Each call runs from a fresh process of this node, as `rpc:call` from
/// a shell: it sends `rex` a `gen_server` call and waits for the answer,
/// or for the connection to go down. That process is also the call's
/// group leader, so what the called code prints (`io:format`) comes back
/// here: it is logged, or handed to [`Rpc::with_output`]'s writer, and
/// never makes the call hang.
///
/// ```no_run
/// # async fn demo(node: cnode::Node) -> Result<(), cnode::Error> {
/// use cnode::etf::Term;
/// use std::time::Duration;
///
/// // rpc:call(erl@localhost, erlang, node, [], 5000)
/// let name = node
///     .rpc()
///     .call("erl@localhost", "erlang", "node", vec![], Duration::from_secs(5))
///     .await?;
/// assert_eq!(name, Term::atom("erl@localhost"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Rpc {
    /// Keeps the node running while the client lives.
    node: Arc<Owner>,
    output: Option<Output>,
}

/// Where the text that called code writes goes (see [`Rpc::with_output`]).
#[derive(Clone)]
struct Output(Arc<dyn Fn(&str) + Send + Sync>);

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Output")
    }
}

/// How long formatting one `io:format` request on the called node may take.
const FORMAT_TIMEOUT: Duration = Duration::from_secs(5);

/// What [`Rpc::multicall`] returns, as `rpc:multicall/5`: the answers of
/// the nodes that answered (a `{badrpc, _}` answer is an
/// [`RpcError::BadRpc`] here) and the nodes that did not.
#[derive(Debug)]
pub struct Multicall {
    /// Each answering node and its answer, in the order of the nodes given.
    pub replies: Vec<(String, Result<Term, RpcError>)>,
    /// The nodes that could not be reached, went down or timed out, with why.
    pub bad_nodes: Vec<(String, RpcError)>,
}

impl Rpc {
    pub(crate) fn new(node: Arc<Owner>) -> Rpc {
        Rpc { node, output: None }
    }

    /// The same client, handing `write` the text that called code writes
    /// to its group leader (`io:format/2`, `io:put_chars/1`...), as
    /// `rpc:call/4` in an Erlang shell prints it there. The formatting of
    /// `io:format` requests (`{put_chars, Encoding, io_lib, format, Args}`)
    /// runs on the called node, by one more rpc. Without a writer, output
    /// is acknowledged and logged (`cnode::rpc` at info level).
    pub fn with_output(mut self, write: impl Fn(&str) + Send + Sync + 'static) -> Rpc {
        self.output = Some(Output(Arc::new(write)));
        self
    }

    /// `rpc:call(Node, M, F, A, Timeout)`: calls `module:function(args...)`
    /// on `node` and waits for its value. `{badrpc, Reason}` comes back as
    /// [`RpcError::BadRpc`], a lost connection as [`RpcError::NodeDown`].
    /// Cancel safe: the call waits in a process of its own, not in a
    /// mailbox of the caller's, so dropping it leaves no late answer
    /// anywhere (the remote call itself may still run).
    pub async fn call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: Vec<Term>,
        timeout: Duration,
    ) -> Result<Term, RpcError> {
        let output = self.output.clone();
        call(
            &self.node,
            node,
            module,
            function,
            args,
            Some(timeout),
            output,
        )
        .await
    }

    /// `rpc:async_call/4`: starts the call and returns a handle to await
    /// (`rpc:yield/1`) or to poll later (`rpc:nb_yield/1`). There is no
    /// timeout; wrap the await in one if needed.
    pub fn async_call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: Vec<Term>,
    ) -> RpcHandle {
        let (client, target) = (self.node.clone(), node.to_owned());
        let (module, function) = (module.to_owned(), function.to_owned());
        let output = self.output.clone();
        let task = tokio::spawn(async move {
            call(&client, &target, &module, &function, args, None, output).await
        });
        RpcHandle {
            node: node.to_owned(),
            task,
        }
    }

    /// `rpc:cast/4`: runs `module:function(args...)` on `node` without
    /// waiting (the connection is set up in the background if needed).
    pub fn cast(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: Vec<Term>,
    ) -> Result<(), RpcError> {
        let core = self.node.core();
        // The group leader of a cast must live: use the node's anonymous
        // sender; its output requests are dropped (and answered `noproc`
        // when monitored).
        let leader = core.anonymous_pid();
        let cast = Term::tuple(vec![
            Term::atom("$gen_cast"),
            Term::tuple(vec![
                Term::atom("cast"),
                Term::atom(module),
                Term::atom(function),
                Term::list(args),
                Term::Pid(leader.clone()),
            ]),
        ]);
        core.send(&leader, Dest::from(("rex", node)), cast)
            .map_err(SendError::from)?;
        Ok(())
    }

    /// `rpc:multicall(Nodes, M, F, A, Timeout)`: calls every node at once.
    pub async fn multicall(
        &self,
        nodes: &[&str],
        module: &str,
        function: &str,
        args: Vec<Term>,
        timeout: Duration,
    ) -> Multicall {
        let calls: Vec<(String, JoinHandle<Result<Term, RpcError>>)> = nodes
            .iter()
            .map(|target| {
                let (client, node) = (self.node.clone(), (*target).to_owned());
                let (module, function, args) =
                    (module.to_owned(), function.to_owned(), args.clone());
                let output = self.output.clone();
                let task = tokio::spawn(async move {
                    call(
                        &client,
                        &node,
                        &module,
                        &function,
                        args,
                        Some(timeout),
                        output,
                    )
                    .await
                });
                ((*target).to_owned(), task)
            })
            .collect();
        let mut result = Multicall {
            replies: Vec::new(),
            bad_nodes: Vec::new(),
        };
        for (node, task) in calls {
            let outcome = task
                .await
                .unwrap_or_else(|_| Err(RpcError::Cancelled { node: node.clone() }));
            match outcome {
                Ok(value) => result.replies.push((node, Ok(value))),
                Err(err @ RpcError::BadRpc { .. }) => result.replies.push((node, Err(err))),
                Err(err) => result.bad_nodes.push((node, err)),
            }
        }
        result
    }

    /// `rpc:eval_everywhere(Nodes, M, F, A)`: casts to every node. Returns
    /// the nodes the cast could not even be queued for.
    pub fn eval_everywhere(
        &self,
        nodes: &[&str],
        module: &str,
        function: &str,
        args: Vec<Term>,
    ) -> Vec<(String, RpcError)> {
        nodes
            .iter()
            .filter_map(|node| {
                self.cast(node, module, function, args.clone())
                    .err()
                    .map(|err| ((*node).to_owned(), err))
            })
            .collect()
    }
}

/// A call started by [`Rpc::async_call`]: await it, or poll it with
/// [`RpcHandle::try_result`]. Dropping it lets the call finish unobserved.
#[derive(Debug)]
pub struct RpcHandle {
    node: String,
    task: JoinHandle<Result<Term, RpcError>>,
}

impl RpcHandle {
    /// The node called.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The result if the call has finished (`rpc:nb_yield/1` with timeout
    /// 0); `None` while it runs.
    pub fn try_result(&mut self) -> Option<Result<Term, RpcError>> {
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(self).poll(&mut cx) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}

impl Future for RpcHandle {
    type Output = Result<Term, RpcError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let node = self.node.clone();
        Pin::new(&mut self.task)
            .poll(cx)
            .map(|joined| joined.unwrap_or(Err(RpcError::Cancelled { node })))
    }
}

/// One call; `timeout` `None` waits for ever (or until nodedown).
async fn call(
    client: &Arc<Owner>,
    target: &str,
    module: &str,
    function: &str,
    args: Vec<Term>,
    timeout: Option<Duration>,
    output: Option<Output>,
) -> Result<Term, RpcError> {
    let work = async {
        let core: &Arc<Core> = client.core();
        core.connect(target).await?;
        // Subscribed before checking, so a nodedown in between is seen.
        let mut events = NodeEvents::new(core.subscribe());
        if target != core.name.as_str()
            && !core.peers().up_nodes().iter().any(|n| n.as_str() == target)
        {
            return Err(RpcError::NodeDown {
                node: target.to_owned(),
            });
        }
        let mut process = Process::spawn(core)?;
        let me = Term::Pid(process.pid().clone());
        let tag = Term::Reference(core.make_ref());
        let request = Term::tuple(vec![
            Term::atom("$gen_call"),
            Term::tuple(vec![me.clone(), tag.clone()]),
            Term::tuple(vec![
                Term::atom("call"),
                Term::atom(module),
                Term::atom(function),
                Term::list(args),
                me,
            ]),
        ]);
        process.send(("rex", target), request)?;
        loop {
            tokio::select! {
                message = process.recv() => {
                    let Ok(message) = message else {
                        return Err(RpcError::NodeDown { node: target.to_owned() });
                    };
                    if let Some(value) = reply_value(&message, &tag) {
                        return answer(target, value);
                    }
                    answer_io_request(client, &process, &message, output.as_ref()).await;
                }
                event = events.recv() => match event {
                    Some(NodeEvent::NodeDown { node, .. }) if node.as_str() == target => {
                        return Err(RpcError::NodeDown { node: target.to_owned() });
                    }
                    Some(_) => {}
                    None => return Err(RpcError::NodeDown { node: target.to_owned() }),
                },
            }
        }
    };
    match timeout {
        Some(after) => tokio::time::timeout(after, work).await.unwrap_or_else(|_| {
            Err(RpcError::Timeout {
                node: target.to_owned(),
                after,
            })
        }),
        None => work.await,
    }
}

/// `Value` of `{Tag, Value}`.
fn reply_value(message: &Message, tag: &Term) -> Option<Term> {
    match message.payload.as_tuple()? {
        [t, value] if t == tag => Some(value.clone()),
        _ => None,
    }
}

/// `{badrpc, Reason}` is an error; anything else is the value.
fn answer(node: &str, value: Term) -> Result<Term, RpcError> {
    match value.as_tuple() {
        Some([bad, reason]) if bad.is_atom("badrpc") => Err(RpcError::BadRpc {
            node: node.to_owned(),
            reason: reason.clone(),
        }),
        _ => Ok(value),
    }
}

/// As the group leader of the call, answers `{io_request, From, ReplyAs,
/// Request}`: output goes to `output` (or to the log) and is acknowledged,
/// input is refused.
async fn answer_io_request(
    client: &Arc<Owner>,
    process: &Process,
    message: &Message,
    output: Option<&Output>,
) {
    let Some([label, from, reply_as, request]) = message.payload.as_tuple() else {
        return;
    };
    let (true, Some(from)) = (label.is_atom("io_request"), from.as_pid()) else {
        return;
    };
    let result = match output {
        Some(output) => write_request(client, from.node.as_str(), request, output).await,
        None if is_output(request) => {
            tracing::info!(%request, "output of an rpc");
            Term::atom("ok")
        }
        None => error("enotsup"),
    };
    let reply = Term::tuple(vec![Term::atom("io_reply"), reply_as.clone(), result]);
    let _ = process.send(from, reply);
}

/// Whether an io request is output (`put_chars` in any form, or a batch).
fn is_output(request: &Term) -> bool {
    request
        .as_tuple()
        .and_then(|t| t.first())
        .is_some_and(|op| op.is_atom("put_chars") || op.is_atom("requests"))
}

/// `{error, Reason}`.
fn error(reason: &str) -> Term {
    Term::tuple(vec![Term::atom("error"), Term::atom(reason)])
}

/// Carries out an output request of the io protocol for `node`, handing
/// its text to `output`; the io reply's result.
fn write_request<'a>(
    client: &'a Arc<Owner>,
    node: &'a str,
    request: &'a Term,
    output: &'a Output,
) -> Pin<Box<dyn Future<Output = Term> + Send + 'a>> {
    Box::pin(async move {
        let Some(parts) = request.as_tuple() else {
            return error("request");
        };
        // `put_chars` without an encoding is the old, Latin-1 form.
        let (op, latin1, rest) = match parts {
            [op, encoding, rest @ ..] if encoding.is_atom("unicode") => (op, false, rest),
            [op, encoding, rest @ ..] if encoding.is_atom("latin1") => (op, true, rest),
            [op, rest @ ..] => (op, true, rest),
            [] => return error("request"),
        };
        let chars = match rest {
            [chars] if op.is_atom("put_chars") => chars.clone(),
            [module, function, args] if op.is_atom("put_chars") => {
                // `io:format`: formatted where io_lib runs, the called node.
                let (Some(module), Some(function), Some(args)) =
                    (module.as_atom(), function.as_atom(), args.to_list())
                else {
                    return error("request");
                };
                let formatted = call(
                    client,
                    node,
                    module.as_str(),
                    function.as_str(),
                    args,
                    Some(FORMAT_TIMEOUT),
                    None,
                );
                match Box::pin(formatted).await {
                    Ok(chars) => chars,
                    Err(err) => {
                        tracing::info!(%err, "cannot format the output of an rpc");
                        return error("format");
                    }
                }
            }
            _ if op.is_atom("requests") => {
                let Some(requests) = parts.last().and_then(Term::to_list) else {
                    return error("request");
                };
                for request in &requests {
                    let result = write_request(client, node, request, output).await;
                    if !result.is_atom("ok") {
                        return result;
                    }
                }
                return Term::atom("ok");
            }
            _ => return error("enotsup"),
        };
        let mut text = String::new();
        if !chardata::append_text(&chars, latin1, &mut text) {
            return error("badarg");
        }
        (output.0)(&text);
        Term::atom("ok")
    })
}
