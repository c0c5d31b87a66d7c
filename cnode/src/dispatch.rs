//! What an incoming control message does: messages go to mailboxes, exit
//! and monitor signals to the process table, spawn requests and `rex`
//! calls to the registered Rust functions, and the node answers
//! `net_kernel`'s `is_auth`.

use std::sync::Arc;

use dist_proto::{AltactDest, AltactKind, ControlMessage, PidOrName};
use etf::{Atom, Pid, Term};

use crate::node::Shared;
use crate::process::Message;
use crate::signal::Via;
use crate::table::Signal;

/// Handles one control message from `peer`. Never waits.
pub(crate) fn dispatch(
    shared: &Arc<Shared>,
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
            let message = Signal::Message(message(None, payload));
            shared.table().deliver(&to, message);
        }
        C::SendSender { from, to, .. } => {
            let message = Signal::Message(message(Some(from), payload));
            shared.table().deliver(&to, message);
        }
        C::RegSend { from, to, .. } => reg_send(shared, peer, from, &to, payload),
        C::AliasSend { from, alias, .. } => {
            let message = message(Some(from), payload);
            shared.table().deliver_alias(&alias, message, false);
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
                shared.table().deliver_alias(&alias, message, priority);
            }
            // Only an alias can be a priority alias: to a pid or a name,
            // a priority message is an ordinary one, as in OTP.
            AltactDest::Pid(to) => {
                let message = Signal::Message(message(Some(from), payload));
                shared.table().deliver(&to, message);
            }
            AltactDest::Name(to) => reg_send(shared, peer, from, &to, payload),
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
                AltactDest::Alias(alias) => shared.signal(|table, out| {
                    table.alias_exit_signal(&from, &alias, reason, priority, out)
                }),
                AltactDest::Pid(to) => shared
                    .signal(|table, out| table.exit_signal(&from, &to, reason, Via::Exit2, out)),
                AltactDest::Name(name) => {
                    let to = shared.table().whereis(name.as_str());
                    if let Some(to) = to {
                        shared.signal(|table, out| {
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
                && shared.table().whereis("net_kernel").is_none()
            {
                // The built-in net_kernel never ends while the node runs.
                return;
            }
            shared.signal(|table, out| table.remote_monitor(&from, to, reference, out));
        }
        C::DemonitorP {
            from, reference, ..
        } => {
            shared.table().monitors.remove_in_held_by(&reference, &from);
        }
        C::MonitorPExit {
            reference, reason, ..
        } => {
            shared.table().remote_down(peer, &reference, reason);
        }
        C::PayloadMonitorPExit { reference, .. } => {
            let reason = payload.unwrap_or(Term::Nil);
            shared.table().remote_down(peer, &reference, reason);
        }
        C::Link { from, to } => {
            shared.signal(|table, out| table.remote_link(&from, &to, out));
        }
        C::UnlinkId { id, from, to } => {
            shared.signal(|table, out| table.remote_unlink(id, &from, &to, out));
        }
        C::Unlink { from, to } => {
            let node = shared.atom.clone();
            shared.table().links.remove(&to, &from, &node);
        }
        C::UnlinkIdAck { .. } => {
            // The link went when we sent UNLINK_ID.
        }
        C::Exit {
            from, to, reason, ..
        } => {
            shared.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Link, out));
        }
        C::PayloadExit { from, to, .. } => {
            let reason = payload.unwrap_or(Term::Nil);
            shared.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Link, out));
        }
        C::Exit2 {
            from, to, reason, ..
        } => {
            shared.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Exit2, out));
        }
        C::PayloadExit2 { from, to, .. } => {
            let reason = payload.unwrap_or(Term::Nil);
            shared.signal(|table, out| table.exit_signal(&from, &to, reason, Via::Exit2, out));
        }
        C::SpawnRequest {
            req_id,
            from,
            module,
            function,
            opts,
            ..
        } => {
            let request = crate::serve::SpawnRequest {
                req_id,
                from,
                module,
                function,
                opts,
                args: payload.unwrap_or(Term::Nil),
            };
            crate::serve::spawn_request(shared, request);
        }
        C::SpawnReply {
            req_id,
            to,
            flags,
            result,
            ..
        } => {
            crate::remote_spawn::reply(shared, peer, req_id, &to, flags, result);
        }
        other => {
            tracing::debug!(%peer, ?other, "control message not handled");
        }
    }
}

/// A message to a registered name: to the process, else to the built-in
/// `net_kernel` or `rex` if no process took their names.
fn reg_send(shared: &Arc<Shared>, peer: &Atom, from: Pid, to: &Atom, payload: Option<Term>) {
    let table = shared.table();
    if to.as_str() == "net_kernel" && table.whereis("net_kernel").is_none() {
        drop(table);
        net_kernel(shared, payload);
    } else if to.as_str() == "rex" && table.whereis("rex").is_none() {
        drop(table);
        crate::serve::rex(shared, from, payload);
    } else {
        let message = Signal::Message(Message {
            from: Some(from),
            payload: payload.unwrap_or(Term::Nil),
        });
        if !table.deliver_named(to.as_str(), message) {
            drop(table);
            tracing::debug!(%peer, name = to.as_str(), "message to an unregistered name dropped");
        }
    }
}

/// Sends an answer to the node of the process it is for.
pub(crate) fn reply(
    shared: &Arc<Shared>,
    node: &Atom,
    control: ControlMessage,
    payload: Option<Term>,
) {
    if let Err(err) = shared.send_remote(node, control, payload) {
        tracing::debug!(%node, %err, "cannot answer a signal");
    }
}

/// The built-in `net_kernel`: answers `{'$gen_call', {From, Tag},
/// {is_auth, Node}}` with `{Tag, yes}`, the tag echoed as it came (a
/// reference, or `[alias | Ref]` from OTP 24 on).
fn net_kernel(shared: &Arc<Shared>, payload: Option<Term>) {
    let Some((from, tag, request)) = payload.as_ref().and_then(gen_call) else {
        tracing::debug!(?payload, "net_kernel: not a gen_server call");
        return;
    };
    let is_auth = request
        .as_tuple()
        .is_some_and(|t| t.len() == 2 && t[0].is_atom("is_auth"));
    if !is_auth {
        tracing::debug!(%request, "net_kernel: request not supported");
        return;
    }
    let answer = Term::tuple(vec![tag.clone(), Term::atom("yes")]);
    let send = ControlMessage::Send {
        to: from.clone(),
        token: None,
    };
    reply(shared, &from.node, send, Some(answer));
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
