//! The signal state of the node's processes: the links, monitors, aliases
//! and node monitors between them (the signal logic on them is in
//! `signal.rs`), over the [`Registry`] of pids, mailboxes and names.
//!
//! It sits behind one lock, taken by signal operations only (link,
//! monitor, alias, exit signals, the end of a process that has any of
//! these, a lost connection): sends, spawns, name lookups and the end of
//! a process without links or monitors go to the sharded registry alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use etf::{Atom, Pid, Reference};

use crate::data::message::Message;
use crate::state::link::Links;
use crate::state::mailbox::Mailbox;
use crate::state::monitor::{Incoming, Monitors, Outgoing};
use crate::state::registry::Registry;

/// The process an alias belongs to, and whether it is a priority alias
/// (`alias([priority])`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AliasOwner {
    pub(crate) pid: Pid,
    pub(crate) priority: bool,
}

/// Links, monitors, aliases and node monitors of the node's processes.
#[derive(Debug)]
pub(crate) struct ProcessTable {
    pub(super) node: Atom,
    pub(super) registry: Arc<Registry>,
    pub(super) links: Links,
    pub(super) monitors: Monitors,
    /// Live aliases and the process each belongs to.
    pub(super) aliases: HashMap<Reference, AliasOwner>,
    /// The aliases each process created.
    pub(super) aliases_of: HashMap<Pid, HashSet<Reference>>,
    /// `monitor_node` subscriptions: node -> local pid -> count.
    pub(super) node_watchers: HashMap<Atom, HashMap<Pid, usize>>,
    /// The id of the next UNLINK_ID we send.
    pub(super) unlink_id: u64,
}

impl ProcessTable {
    pub(crate) fn new(registry: Arc<Registry>) -> ProcessTable {
        ProcessTable {
            node: registry.node().clone(),
            registry,
            links: Links::default(),
            monitors: Monitors::default(),
            aliases: HashMap::new(),
            aliases_of: HashMap::new(),
            node_watchers: HashMap::new(),
            unlink_id: 1,
        }
    }

    /// Whether `pid` is a live process of this node.
    pub(crate) fn is_alive(&self, pid: &Pid) -> bool {
        self.registry.is_alive(pid)
    }

    /// Ends `pid` in the registry (number and name freed) and forgets its
    /// aliases; its mailbox, or `None` if it was not alive.
    pub(crate) fn end(&mut self, pid: &Pid) -> Option<Arc<Mailbox>> {
        let ended = self.registry.end(pid)?;
        for alias in self.aliases_of.remove(pid).unwrap_or_default() {
            self.aliases.remove(&alias);
        }
        Some(ended)
    }

    /// The pid registered as `name`.
    pub(crate) fn whereis(&self, name: &str) -> Option<Pid> {
        self.registry.whereis(name)
    }

    /// Queues a message for `pid`; `false` if no such process lives.
    pub(crate) fn deliver(&self, pid: &Pid, message: Message) -> bool {
        self.registry.deliver(pid, message)
    }

    /// Queues a priority message for `pid` (see
    /// [`Registry::deliver_priority`]).
    pub(crate) fn deliver_priority(&self, pid: &Pid, message: Message) -> bool {
        self.registry.deliver_priority(pid, message)
    }

    /// Keeps `pid` alive in the registry's eyes until it ends through the
    /// table (it has links or monitors now); `false` if it is not alive.
    pub(crate) fn entangle(&self, pid: &Pid) -> bool {
        self.registry.entangle(pid)
    }

    /// Adds a link between local `pid` and `other`; `false` if it was
    /// there.
    pub(crate) fn add_link(&mut self, pid: &Pid, other: &Pid) -> bool {
        self.links.add(pid, other, &self.node)
    }

    /// Removes the link between local `pid` and `other`; `false` if there
    /// was none.
    pub(crate) fn remove_link(&mut self, pid: &Pid, other: &Pid) -> bool {
        self.links.remove(pid, other, &self.node)
    }

    /// Records a monitor a local process holds (on a remote target).
    pub(crate) fn add_monitor_out(&mut self, reference: Reference, monitor: Outgoing) {
        self.monitors.add_out(reference, monitor, &self.node);
    }

    /// Records a monitor on a local process.
    pub(crate) fn add_monitor_in(&mut self, reference: Reference, monitor: Incoming) {
        self.monitors.add_in(reference, monitor, &self.node);
    }

    /// Removes the monitor `reference` on a local process if `watcher`
    /// holds it (`DEMONITOR_P`); `false` if it does not.
    pub(crate) fn remove_monitor_in(&mut self, reference: &Reference, watcher: &Pid) -> bool {
        self.monitors
            .remove_in_held_by(reference, watcher)
            .is_some()
    }

    /// `monitor_node(Node, true)` by local `pid`: one more subscription;
    /// `false` if `pid` is not alive.
    pub(crate) fn watch_node(&mut self, pid: &Pid, node: &Atom) -> bool {
        if !self.registry.entangle(pid) {
            return false;
        }
        *self
            .node_watchers
            .entry(node.clone())
            .or_default()
            .entry(pid.clone())
            .or_default() += 1;
        true
    }

    /// `monitor_node(Node, false)` by local `pid`: one subscription less;
    /// `false` if it had none.
    pub(crate) fn unwatch_node(&mut self, pid: &Pid, node: &Atom) -> bool {
        let Some(watchers) = self.node_watchers.get_mut(node) else {
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
            self.node_watchers.remove(node);
        }
        true
    }

    /// Ends every mailbox and forgets every signal.
    pub(crate) fn close(&mut self) {
        self.registry.close();
        self.links = Links::default();
        self.monitors = Monitors::default();
        self.aliases.clear();
        self.aliases_of.clear();
        self.node_watchers.clear();
    }
}
