//! `monitor_node/2` for the node's processes: `{nodedown, Node}` when a
//! connection is lost, or at once when it cannot be set up.

use std::sync::Arc;

use etf::{Atom, Pid, Term};

use crate::node::Shared;
use crate::process::Message;

/// `monitor_node(Node, true)` by local `pid`.
pub(crate) fn monitor_node(shared: &Arc<Shared>, pid: &Pid, node: &str) {
    let atom = Atom::new(node);
    if shared.is_local(&atom) {
        // As in Erlang, a node never goes down for itself.
        return;
    }
    {
        let mut table = shared.table();
        if !table.registry.entangle(pid) {
            return;
        }
        *table
            .node_watchers
            .entry(atom.clone())
            .or_default()
            .entry(pid.clone())
            .or_default() += 1;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (shared, pid, node) = (Arc::clone(shared), pid.clone(), node.to_owned());
    runtime.spawn(async move {
        if let Err(err) = shared.connect(&node).await {
            tracing::debug!(%node, %err, "monitor_node: no connection");
            if take_one(&shared, &pid, &atom) {
                let message = Term::tuple(vec![Term::atom("nodedown"), Term::Atom(atom)]);
                let message = Message {
                    from: None,
                    payload: message,
                };
                shared.registry().deliver(&pid, message);
            }
        }
    });
}

/// `monitor_node(Node, false)` by local `pid`.
pub(crate) fn demonitor_node(shared: &Arc<Shared>, pid: &Pid, node: &str) {
    take_one(shared, pid, &Atom::new(node));
}

/// Removes one subscription of `pid` to `node`; `false` if it had none.
fn take_one(shared: &Arc<Shared>, pid: &Pid, node: &Atom) -> bool {
    let mut table = shared.table();
    let Some(watchers) = table.node_watchers.get_mut(node) else {
        return false;
    };
    let Some(count) = watchers.get_mut(pid) else {
        return false;
    };
    *count -= 1;
    if *count == 0 {
        watchers.remove(pid);
    }
    if watchers.is_empty() {
        table.node_watchers.remove(node);
    }
    true
}
