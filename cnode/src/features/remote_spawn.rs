//! Spawning processes on other nodes (`spawn_request/5`, and through it
//! `spawn/4`, `spawn_link/4` and `spawn_monitor/4`).

use std::sync::Arc;
use std::time::Duration;

use dist_proto::{ControlMessage, PidOrName, SPAWN_FLAG_LINK, SPAWN_FLAG_MONITOR};
use etf::{Atom, Pid, Reference, Term};

use crate::data::error::{RecvError, SendError};
use crate::data::message::Message;
use crate::data::spawn::SpawnReply;
use crate::features::process::Process;
use crate::runtime::core::Core;
use crate::state::monitor::Outgoing;

/// Options of a remote spawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpawnOptions {
    /// Link the new process to the spawning one (`spawn_link`).
    pub link: bool,
    /// Monitor the new process (`spawn_monitor`); the monitor reference is
    /// the one in [`Spawned::monitor`].
    pub monitor: bool,
}

/// A process started on another node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spawned {
    /// Its pid.
    pub pid: Pid,
    /// The monitor reference when [`SpawnOptions::monitor`] was set.
    pub monitor: Option<Reference>,
}

/// A remote spawn failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteSpawnError {
    /// The request could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The node refused (`notsup`, `badopt`, `system_limit`, ... as the
    /// error of `{spawn_reply, ReqId, error, Reason}`), or the connection
    /// was lost (`noconnection`).
    #[error("{node} refused the spawn: {reason}")]
    Refused {
        /// The node asked.
        node: String,
        /// The reason it gave.
        reason: Term,
    },
    /// No answer within the time allowed.
    #[error("no spawn reply from {node} within {after:?}")]
    Timeout {
        /// The node asked.
        node: String,
        /// How long we waited.
        after: Duration,
    },
    /// The spawning process ended while waiting.
    #[error("the spawning process ended: {0}")]
    Recv(RecvError),
}

impl Process {
    /// Starts `module:function(args...)` on `node` (`spawn/4`, or
    /// `spawn_link/4`/`spawn_monitor/4` with the options), waiting up to
    /// `timeout` for the node's answer. Messages that arrive meanwhile stay
    /// in the mailbox. Dropped before the answer (cancelled), the spawn
    /// may still happen, and its reply then waits in the mailbox. This
    /// process is the new process's group leader: its output
    /// (`io:format`) arrives here as `io_request` messages.
    pub async fn spawn_remote(
        &mut self,
        node: &str,
        module: &str,
        function: &str,
        args: Vec<Term>,
        options: SpawnOptions,
        timeout: Duration,
    ) -> Result<Spawned, RemoteSpawnError> {
        let core = Arc::clone(self.core());
        let req_id = core.make_ref();
        let mut opts = Vec::new();
        if options.link {
            opts.push(Term::atom("link"));
        }
        if options.monitor {
            opts.push(Term::atom("monitor"));
        }
        let arity = u8::try_from(args.len()).map_err(|_| RemoteSpawnError::Refused {
            node: node.to_owned(),
            reason: Term::atom("badarg"),
        })?;
        let request = ControlMessage::SpawnRequest {
            req_id: req_id.clone(),
            from: self.pid().clone(),
            group_leader: self.pid().clone(),
            module: Atom::new(module),
            function: Atom::new(function),
            arity,
            opts: Term::list(opts),
            token: None,
        };
        let atom = Atom::new(node);
        // A lost connection must end the wait: watch the node meanwhile.
        self.monitor_node(node);
        core.send_remote(&atom, request, Some(Term::list(args)))?;
        let id = Term::Reference(req_id.clone());
        let nodedown = Term::tuple(vec![Term::atom("nodedown"), Term::Atom(atom)]);
        let answer = self
            .recv_matching_timeout(timeout, |m| {
                m.payload == nodedown
                    || m.payload
                        .as_tuple()
                        .is_some_and(|t| t.len() == 4 && t[0].is_atom("spawn_reply") && t[1] == id)
            })
            .await;
        self.demonitor_node(node);
        let answer = match answer {
            Ok(answer) => answer,
            Err(RecvError::Timeout(after)) => {
                return Err(RemoteSpawnError::Timeout {
                    node: node.to_owned(),
                    after,
                })
            }
            Err(err) => return Err(RemoteSpawnError::Recv(err)),
        };
        match answer.payload.as_tuple() {
            Some([_, _, ok, pid]) if ok.is_atom("ok") => match pid.as_pid() {
                Some(pid) => Ok(Spawned {
                    pid: pid.clone(),
                    monitor: options.monitor.then_some(req_id),
                }),
                None => Err(RemoteSpawnError::Refused {
                    node: node.to_owned(),
                    reason: pid.clone(),
                }),
            },
            Some([_, _, _, reason]) => Err(RemoteSpawnError::Refused {
                node: node.to_owned(),
                reason: reason.clone(),
            }),
            _ => Err(RemoteSpawnError::Refused {
                node: node.to_owned(),
                reason: Term::atom("noconnection"),
            }),
        }
    }
}

/// A `SPAWN_REPLY` from `peer` for local `to`: the link and monitor it
/// reports are recorded (or undone if `to` is gone), and `to` gets
/// `{spawn_reply, ReqId, ok, Pid}` or `{spawn_reply, ReqId, error, Reason}`.
pub(crate) fn reply(core: &Arc<Core>, peer: &Atom, reply: SpawnReply) {
    let SpawnReply {
        req_id,
        to,
        flags,
        result,
    } = reply;
    let to = &to;
    let message = match result.as_pid() {
        Some(pid) => {
            let pid = pid.clone();
            core.signal(|table, out| {
                let alive = table.is_alive(to);
                if flags & SPAWN_FLAG_LINK != 0 {
                    if alive {
                        table.add_link(to, &pid);
                    } else {
                        let exit = ControlMessage::PayloadExit {
                            from: to.clone(),
                            to: pid.clone(),
                            token: None,
                        };
                        out.push((peer.clone(), exit, Some(Term::atom("noproc"))));
                    }
                }
                if flags & SPAWN_FLAG_MONITOR != 0 {
                    if alive {
                        let outgoing = Outgoing {
                            watcher: to.clone(),
                            target: PidOrName::Pid(pid.clone()),
                            node: peer.clone(),
                        };
                        table.add_monitor_out(req_id.clone(), outgoing);
                    } else {
                        let demonitor = ControlMessage::DemonitorP {
                            from: to.clone(),
                            to: PidOrName::Pid(pid.clone()),
                            reference: req_id.clone(),
                        };
                        out.push((peer.clone(), demonitor, None));
                    }
                }
            });
            Term::tuple(vec![
                Term::atom("spawn_reply"),
                Term::Reference(req_id),
                Term::atom("ok"),
                Term::Pid(pid),
            ])
        }
        None => Term::tuple(vec![
            Term::atom("spawn_reply"),
            Term::Reference(req_id),
            Term::atom("error"),
            result,
        ]),
    };
    let message = Message {
        from: None,
        payload: message,
    };
    core.registry().deliver(to, message);
}
