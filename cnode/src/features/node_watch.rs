//! `monitor_node/2` for the node's processes: `{nodedown, Node}` when a
//! connection is lost, or at once when it cannot be set up.

use std::sync::Arc;

use etf::{Atom, Pid, Term};

use crate::data::message::Message;
use crate::runtime::core::Core;

/// `monitor_node(Node, true)` by local `pid`.
pub(crate) fn monitor_node(core: &Arc<Core>, pid: &Pid, node: &str) {
    let atom = Atom::new(node);
    if core.is_local(&atom) {
        // As in Erlang, a node never goes down for itself.
        return;
    }
    if !core.table().watch_node(pid, &atom) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (core, pid, node) = (Arc::clone(core), pid.clone(), node.to_owned());
    runtime.spawn(async move {
        if let Err(err) = core.connect(&node).await {
            tracing::debug!(%node, %err, "monitor_node: no connection");
            if take_one(&core, &pid, &atom) {
                let message = Term::tuple(vec![Term::atom("nodedown"), Term::Atom(atom)]);
                let message = Message {
                    from: None,
                    payload: message,
                };
                core.registry().deliver(&pid, message);
            }
        }
    });
}

/// `monitor_node(Node, false)` by local `pid`.
pub(crate) fn demonitor_node(core: &Arc<Core>, pid: &Pid, node: &str) {
    take_one(core, pid, &Atom::new(node));
}

/// Removes one subscription of `pid` to `node`; `false` if it had none.
fn take_one(core: &Arc<Core>, pid: &Pid, node: &Atom) -> bool {
    core.table().unwatch_node(pid, node)
}
