//! rpc to Erlang nodes through their `rex` server, as the `rpc` module does:
//! [`Rpc::call`], [`Rpc::async_call`], [`Rpc::cast`], [`Rpc::multicall`] and
//! [`Rpc::eval_everywhere`].
//!
//! A call sends `{'$gen_call', {Pid, Tag}, {call, M, F, A, GroupLeader}}` to
//! `rex` from a fresh process, whose pid is also the group leader: output
//! of the called function (`io:format`) comes back as `io_request`s, which
//! are answered (and logged) so that the call does not hang.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use etf::{Pid, Term};
use tokio::task::JoinHandle;

use crate::error::RpcError;
use crate::events::NodeEvent;
use crate::node::Node;
use crate::process::{Message, Process};

/// The rpc client of a node, from [`Node::rpc`]. The called node must run
/// `rex` (every Erlang node does). This node serves its registered
/// functions to other nodes only: a call to itself times out.
#[derive(Clone, Debug)]
pub struct Rpc {
    node: Node,
}

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
    pub(crate) fn new(node: Node) -> Rpc {
        Rpc { node }
    }

    /// `rpc:call(Node, M, F, A, Timeout)`: calls `module:function(args...)`
    /// on `node` and waits for its value. `{badrpc, Reason}` comes back as
    /// [`RpcError::BadRpc`], a lost connection as [`RpcError::NodeDown`].
    pub async fn call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: Vec<Term>,
        timeout: Duration,
    ) -> Result<Term, RpcError> {
        call(&self.node, node, module, function, args, Some(timeout)).await
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
        let task =
            tokio::spawn(
                async move { call(&client, &target, &module, &function, args, None).await },
            );
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
        let shared = self.node.shared();
        // The group leader of a cast must live: use the node's anonymous
        // sender; its output requests are dropped (and answered `noproc`
        // when monitored).
        let leader = Pid {
            node: shared.atom.clone(),
            id: 0,
            serial: 0,
            creation: shared.creation,
        };
        let cast = Term::tuple(vec![
            Term::atom("$gen_cast"),
            Term::tuple(vec![
                Term::atom("cast"),
                Term::atom(module),
                Term::atom(function),
                Term::list(args),
                Term::Pid(leader),
            ]),
        ]);
        self.node.send(("rex", node), cast)?;
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
                let task = tokio::spawn(async move {
                    call(&client, &node, &module, &function, args, Some(timeout)).await
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
    client: &Node,
    target: &str,
    module: &str,
    function: &str,
    args: Vec<Term>,
    timeout: Option<Duration>,
) -> Result<Term, RpcError> {
    let work = async {
        client.connect(target).await?;
        // Subscribed before checking, so a nodedown in between is seen.
        let mut events = client.events();
        if target != client.name() && !client.nodes().iter().any(|n| n == target) {
            return Err(RpcError::NodeDown {
                node: target.to_owned(),
            });
        }
        let mut process = client.spawn_process()?;
        let me = Term::Pid(process.pid().clone());
        let tag = Term::Reference(client.make_ref());
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
                    answer_io_request(&process, &message);
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
/// Request}`: output is logged and acknowledged, input is refused.
fn answer_io_request(process: &Process, message: &Message) {
    let Some([label, from, reply_as, request]) = message.payload.as_tuple() else {
        return;
    };
    let (true, Some(from)) = (label.is_atom("io_request"), from.as_pid()) else {
        return;
    };
    let is_output = request
        .as_tuple()
        .and_then(|t| t.first())
        .is_some_and(|op| op.is_atom("put_chars"));
    let result = if is_output {
        tracing::info!(%request, "output of an rpc");
        Term::atom("ok")
    } else {
        Term::tuple(vec![Term::atom("error"), Term::atom("enotsup")])
    };
    let reply = Term::tuple(vec![Term::atom("io_reply"), reply_as.clone(), result]);
    let _ = process.send(from, reply);
}
