//! The cluster's `global` name registry through rpc to a connected Erlang
//! node; what users need to know is on [`GlobalError`], which the
//! `Node::global_*` methods link to.

use std::time::Duration;

use etf::{Pid, Term};

use crate::data::error::{RpcError, SendError};
use crate::features::process::Process;
use crate::features::rpc::Rpc;

/// A `global` operation failed.
///
/// `global` is reached as `ei_global` reaches it: through rpc to `global`
/// on a connected Erlang node (the `via` argument of
/// [`Node::global_register`](crate::Node::global_register) and the other
/// `Node::global_*` methods). A Rust pid registered this way is known to
/// every node of the cluster, and `global:send/2` from Erlang reaches it;
/// `global` keeps the name while the connection between `via` and this
/// node lives. The registry itself runs on the Erlang nodes: this node,
/// hidden, takes no part in `global`'s locking and name resolution.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GlobalError {
    /// The rpc to `global` on the node given failed.
    #[error("global on {via}: {source}")]
    Rpc {
        /// The node asked.
        via: String,
        /// Why the call failed.
        source: RpcError,
    },
    /// The name is taken (`global:register_name/2` answered `no`).
    #[error("the global name {name} is taken")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// No process has the global name.
    #[error("no process has the global name {name}")]
    NotRegistered {
        /// The name.
        name: String,
    },
    /// `global` answered something unexpected.
    #[error("global on {via} answered {answer}")]
    BadAnswer {
        /// The node asked.
        via: String,
        /// The answer.
        answer: Term,
    },
    /// The message could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
}

impl Rpc {
    async fn global_call(
        &self,
        via: &str,
        function: &str,
        args: Vec<Term>,
        timeout: Duration,
    ) -> Result<Term, GlobalError> {
        self.call(via, "global", function, args, timeout)
            .await
            .map_err(|source| GlobalError::Rpc {
                via: via.to_owned(),
                source,
            })
    }

    /// See the `Node` method of this name.
    pub(crate) async fn global_whereis(
        &self,
        via: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<Option<Pid>, GlobalError> {
        let answer = self
            .global_call(via, "whereis_name", vec![Term::atom(name)], timeout)
            .await?;
        match answer {
            Term::Pid(ref pid) => Ok(Some(pid.clone())),
            a if a.is_atom("undefined") => Ok(None),
            answer => Err(GlobalError::BadAnswer {
                via: via.to_owned(),
                answer,
            }),
        }
    }

    /// See the `Node` method of this name.
    pub(crate) async fn global_register(
        &self,
        via: &str,
        name: &str,
        pid: &Pid,
        timeout: Duration,
    ) -> Result<(), GlobalError> {
        let args = vec![Term::atom(name), Term::Pid(pid.clone())];
        let answer = self
            .global_call(via, "register_name", args, timeout)
            .await?;
        if answer.is_atom("yes") {
            Ok(())
        } else if answer.is_atom("no") {
            Err(GlobalError::NameTaken {
                name: name.to_owned(),
            })
        } else {
            Err(GlobalError::BadAnswer {
                via: via.to_owned(),
                answer,
            })
        }
    }

    /// See the `Node` method of this name.
    pub(crate) async fn global_unregister(
        &self,
        via: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<(), GlobalError> {
        self.global_call(via, "unregister_name", vec![Term::atom(name)], timeout)
            .await
            .map(|_| ())
    }

    /// See the `Node` method of this name.
    pub(crate) async fn global_names(
        &self,
        via: &str,
        timeout: Duration,
    ) -> Result<Vec<Term>, GlobalError> {
        let answer = self
            .global_call(via, "registered_names", Vec::new(), timeout)
            .await?;
        answer.to_list().ok_or_else(|| GlobalError::BadAnswer {
            via: via.to_owned(),
            answer,
        })
    }
}

impl Rpc {
    /// See the `Node` method of this name.
    pub(crate) async fn global_send(
        &self,
        sender: &Process,
        via: &str,
        name: &str,
        payload: Term,
        timeout: Duration,
    ) -> Result<Pid, GlobalError> {
        let pid = self
            .global_whereis(via, name, timeout)
            .await?
            .ok_or_else(|| GlobalError::NotRegistered {
                name: name.to_owned(),
            })?;
        sender.send(&pid, payload)?;
        Ok(pid)
    }
}
