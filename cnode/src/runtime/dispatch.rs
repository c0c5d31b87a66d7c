//! What an incoming control message does: messages go to mailboxes, exit
//! and monitor signals to the process table; spawn requests, spawn
//! replies and messages to the built-in `net_kernel` and `rex` go to the
//! hooks the builder installed.

use std::sync::Arc;

use dist_proto::{AltactDest, AltactKind, ControlMessage, PidOrName};
use etf::{Atom, Pid, Term};

use crate::data::message::Message;
use crate::data::spawn::{SpawnReply, SpawnRequest};
use crate::runtime::core::Core;
use crate::state::signals::Via;

/// Handles one control message from `peer`. Never waits.
pub(crate) fn dispatch(
    core: &Arc<Core>,
    peer: &Atom,
    control: ControlMessage,
    payload: Option<Term>,
) {
    use ControlMessage as C;
    tracing::trace!(%peer, ?control, "control message");
    let message = |from: Option<Pid>, payload: Option<Term>| Message {
        from,
        payload: payload.unwrap_or(Term::Nil),
    };
    match control {
        C::Send { to, .. } => {
            core.registry().deliver(&to, message(None, payload));
        }
        C::SendSender { from, to, .. } => {
            core.registry().deliver(&to, message(Some(from), payload));
        }
        C::RegSend { from, to, .. } => reg_send(core, peer, from, &to, payload),
        C::AliasSend { from, alias, .. } => {
            let message = message(Some(from), payload);
            core.table().deliver_alias(&alias, message, false);
        }
        C::AltactSigSend {
            kind: AltactKind::Message,
            priority,
            from,
            to,
            ..
        } => match to {
            AltactDest::Alias(alias) => {
                let message = message(Some(from), payload);
                core.table().deliver_alias(&alias, message, priority);
            }
            // Only an alias can be a priority alias: to a pid or a name,
            // a priority message is an ordinary one, as in OTP.
            AltactDest::Pid(to) => {
                core.registry().deliver(&to, message(Some(from), payload));
            }
            AltactDest::Name(to) => reg_send(core, peer, from, &to, payload),
        },
        C::AltactSigSend {
            kind: AltactKind::Exit,
            priority,
            from,
            to,
            ..
        } => {
            let reason = payload.unwrap_or(Term::Nil);
            match to {
                AltactDest::Alias(alias) => core.signal(|table, out| {
                    table.alias_exit_signal(&from, &alias, reason, priority, out)
                }),
                AltactDest::Pid(to) => {
                    core.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Exit2, out))
                }
                AltactDest::Name(name) => {
                    let to = core.registry().whereis(name.as_str());
                    if let Some(to) = to {
                        core.signal(|table, out| {
                            table.exit_signal(&from, &to, reason, Via::Exit2, out)
                        });
                    }
                }
            }
        }
        C::MonitorP {
            from,
            to,
            reference,
        } => {
            if matches!(&to, PidOrName::Name(n) if n.as_str() == "net_kernel")
                && core.registry().whereis("net_kernel").is_none()
            {
                // The built-in net_kernel never ends while the node runs.
                return;
            }
            core.signal(|table, out| table.remote_monitor(&from, to, reference, out));
        }
        C::DemonitorP {
            from, reference, ..
        } => {
            core.table().remove_monitor_in(&reference, &from);
        }
        C::MonitorPExit {
            reference, reason, ..
        } => {
            core.table().remote_down(peer, &reference, reason);
        }
        C::PayloadMonitorPExit { reference, .. } => {
            let reason = payload.unwrap_or(Term::Nil);
            core.table().remote_down(peer, &reference, reason);
        }
        C::Link { from, to } => {
            core.signal(|table, out| table.remote_link(&from, &to, out));
        }
        C::UnlinkId { id, from, to } => {
            core.signal(|table, out| table.remote_unlink(id, &from, &to, out));
        }
        C::Unlink { from, to } => {
            core.table().remove_link(&to, &from);
        }
        C::UnlinkIdAck { .. } => {
            // The link went when we sent UNLINK_ID.
        }
        C::Exit {
            from, to, reason, ..
        } => {
            core.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Link, out));
        }
        C::PayloadExit { from, to, .. } => {
            let reason = payload.unwrap_or(Term::Nil);
            core.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Link, out));
        }
        C::Exit2 {
            from, to, reason, ..
        } => {
            core.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Exit2, out));
        }
        C::PayloadExit2 { from, to, .. } => {
            let reason = payload.unwrap_or(Term::Nil);
            core.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Exit2, out));
        }
        C::SpawnRequest {
            req_id,
            from,
            module,
            function,
            opts,
            ..
        } => {
            let request = SpawnRequest {
                req_id,
                from,
                module,
                function,
                opts,
                args: payload.unwrap_or(Term::Nil),
            };
            (core.hooks.spawn_request)(core, request);
        }
        C::SpawnReply {
            req_id,
            to,
            flags,
            result,
            ..
        } => {
            let reply = SpawnReply {
                req_id,
                to,
                flags,
                result,
            };
            (core.hooks.spawn_reply)(core, peer, reply);
        }
        other => {
            tracing::debug!(%peer, ?other, "control message not handled");
        }
    }
}

/// A message to a registered name: to the process, else to the built-in
/// `net_kernel` or `rex` if no process took their names.
fn reg_send(core: &Arc<Core>, peer: &Atom, from: Pid, to: &Atom, payload: Option<Term>) {
    let registry = core.registry();
    if to.as_str() == "net_kernel" && registry.whereis("net_kernel").is_none() {
        (core.hooks.net_kernel)(core, from, payload);
    } else if to.as_str() == "rex" && registry.whereis("rex").is_none() {
        (core.hooks.rex)(core, from, payload);
    } else {
        let message = Message {
            from: Some(from),
            payload: payload.unwrap_or(Term::Nil),
        };
        if !registry.deliver_named(to.as_str(), message) {
            tracing::debug!(%peer, name = to.as_str(), "message to an unregistered name dropped");
        }
    }
}

/// Sends an answer to the node of the process it is for.
pub(crate) fn reply(core: &Arc<Core>, node: &Atom, control: ControlMessage, payload: Option<Term>) {
    if let Err(err) = core.send_remote(node, control, payload) {
        tracing::debug!(%node, %err, "cannot answer a signal");
    }
}

/// Splits `{'$gen_call', {From, Tag}, Request}`.
pub(crate) fn gen_call(term: &Term) -> Option<(&Pid, &Term, &Term)> {
    let [label, from_tag, request] = term.as_tuple()? else {
        return None;
    };
    if !label.is_atom("$gen_call") {
        return None;
    }
    let [from, tag] = from_tag.as_tuple()? else {
        return None;
    };
    Some((from.as_pid()?, tag, request))
}
