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
use crate::state::monitor::Monitors;
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
    pub(crate) node: Atom,
    pub(crate) registry: Arc<Registry>,
    pub(crate) links: Links,
    pub(crate) monitors: Monitors,
    /// Live aliases and the process each belongs to.
    pub(crate) aliases: HashMap<Reference, AliasOwner>,
    /// The aliases each process created.
    pub(crate) aliases_of: HashMap<Pid, HashSet<Reference>>,
    /// `monitor_node` subscriptions: node -> local pid -> count.
    pub(crate) node_watchers: HashMap<Atom, HashMap<Pid, usize>>,
    /// The id of the next UNLINK_ID we send.
    pub(crate) unlink_id: u64,
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
