//! The built-in `net_kernel`, answering what an Erlang node asks of a
//! hidden node's: `is_auth` (`net_adm:ping/1`).

use std::sync::Arc;

use dist_proto::ControlMessage;
use etf::{Pid, Term};

use crate::runtime::core::Core;
use crate::runtime::dispatch::{gen_call, reply};

/// The built-in `net_kernel`: answers `{'$gen_call', {From, Tag},
/// {is_auth, Node}}` with `{Tag, yes}`, the tag echoed as it came (a
/// reference, or `[alias | Ref]` from OTP 24 on).
pub(crate) fn net_kernel(core: &Arc<Core>, _sender: Pid, payload: Option<Term>) {
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
    reply(core, &from.node, send, Some(answer));
}
