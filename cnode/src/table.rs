//! The process table: pid numbers, mailboxes, registered names, and the
//! links, monitors and aliases between processes (the signal logic on them
//! is in `signal.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use etf::{Atom, Pid, Reference, Term};
use tokio::sync::mpsc;

use crate::error::{RegisterError, SpawnError};
use crate::link::Links;
use crate::monitor::Monitors;
use crate::process::Message;

/// The pid number bits used, as `ei` does (15 number + 13 serial bits fit
/// every OTP release's pid layout).
const MAX_NUMBER: u32 = 0x7fff;
const MAX_SERIAL: u32 = 0x1fff;
/// How many processes can live at once.
pub(crate) const MAX_PROCESSES: usize = MAX_NUMBER as usize;

/// What reaches a process, in order: messages (exit signals of a trapping
/// process and `'DOWN'`s are messages too) and, last, its death.
#[derive(Debug)]
pub(crate) enum Signal {
    /// An ordinary message.
    Message(Message),
    /// The process was killed by an exit signal with this reason.
    Killed(Term),
}

#[derive(Debug)]
pub(crate) struct Slot {
    serial: u32,
    pub(crate) mailbox: mpsc::UnboundedSender<Signal>,
    /// The queue of priority messages, made with the process's first
    /// priority alias: its receiver takes them before the mailbox.
    pub(crate) priority: Option<mpsc::UnboundedSender<Message>>,
    name: Option<Atom>,
    /// `process_flag(trap_exit, true)`.
    pub(crate) trap_exit: bool,
    /// The aliases the process created.
    pub(crate) aliases: HashSet<Reference>,
    /// Set to the exit reason when an exit signal kills the process, so
    /// that its owner stops receiving at once.
    pub(crate) death: Arc<OnceLock<Term>>,
}

/// The process an alias belongs to, and whether it is a priority alias
/// (`alias([priority])`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AliasOwner {
    pub(crate) pid: Pid,
    pub(crate) priority: bool,
}

/// What [`ProcessTable::spawn`] makes: the pid, the mailbox, and the cell
/// that holds the reason once the process is killed.
pub(crate) type Spawned = (Pid, mpsc::UnboundedReceiver<Signal>, Arc<OnceLock<Term>>);

/// Pids of the node's processes, their mailboxes and names.
#[derive(Debug)]
pub(crate) struct ProcessTable {
    pub(crate) node: Atom,
    creation: u32,
    /// The next number to try; numbers 0 (reserved for the node's own
    /// signals, as `net_kernel`'s replies) are skipped.
    next: u32,
    serial: u32,
    slots: HashMap<u32, Slot>,
    names: HashMap<Atom, u32>,
    closed: bool,
    pub(crate) links: Links,
    pub(crate) monitors: Monitors,
    /// Live aliases and the process each belongs to.
    pub(crate) aliases: HashMap<Reference, AliasOwner>,
    /// `monitor_node` subscriptions: node -> local pid -> count.
    pub(crate) node_watchers: HashMap<Atom, HashMap<Pid, usize>>,
    /// The id of the next UNLINK_ID we send.
    pub(crate) unlink_id: u64,
}

impl ProcessTable {
    pub(crate) fn new(node: Atom, creation: u32) -> ProcessTable {
        ProcessTable {
            node,
            creation,
            next: 1,
            serial: 0,
            slots: HashMap::new(),
            names: HashMap::new(),
            closed: false,
            links: Links::default(),
            monitors: Monitors::default(),
            aliases: HashMap::new(),
            node_watchers: HashMap::new(),
            unlink_id: 1,
        }
    }

    /// Makes a pid and its mailbox. Numbers are not reused until the serial
    /// wraps, after 2^28 processes.
    pub(crate) fn spawn(&mut self) -> Result<Spawned, SpawnError> {
        if self.closed {
            return Err(SpawnError::Shutdown);
        }
        if self.slots.len() >= MAX_PROCESSES - 1 {
            return Err(SpawnError::TooManyProcesses {
                limit: MAX_PROCESSES - 1,
            });
        }
        loop {
            let number = self.next;
            self.next += 1;
            if self.next > MAX_NUMBER {
                self.next = 1;
                self.serial = (self.serial + 1) & MAX_SERIAL;
            }
            if self.slots.contains_key(&number) {
                continue;
            }
            let (tx, rx) = mpsc::unbounded_channel();
            let death = Arc::new(OnceLock::new());
            self.slots.insert(
                number,
                Slot {
                    serial: self.serial,
                    mailbox: tx,
                    priority: None,
                    name: None,
                    trap_exit: false,
                    aliases: HashSet::new(),
                    death: Arc::clone(&death),
                },
            );
            let pid = Pid {
                node: self.node.clone(),
                id: number,
                serial: self.serial,
                creation: self.creation,
            };
            return Ok((pid, rx, death));
        }
    }

    /// The slot of a local pid of this incarnation.
    fn slot(&self, pid: &Pid) -> Option<&Slot> {
        if pid.node != self.node || pid.creation != self.creation {
            return None;
        }
        self.slots.get(&pid.id).filter(|s| s.serial == pid.serial)
    }

    /// The mutable slot of a local pid of this incarnation.
    pub(crate) fn slot_mut(&mut self, pid: &Pid) -> Option<&mut Slot> {
        if pid.node != self.node || pid.creation != self.creation {
            return None;
        }
        self.slots
            .get_mut(&pid.id)
            .filter(|s| s.serial == pid.serial)
    }

    /// Whether `pid` is a live process of this node.
    pub(crate) fn is_alive(&self, pid: &Pid) -> bool {
        self.slot(pid).is_some()
    }

    /// Frees the pid and its name and returns its slot.
    pub(crate) fn remove(&mut self, pid: &Pid) -> Option<Slot> {
        self.slot(pid)?;
        let slot = self.slots.remove(&pid.id)?;
        if let Some(name) = &slot.name {
            self.names.remove(name);
        }
        Some(slot)
    }

    /// Gives `pid` the name `name`.
    pub(crate) fn register(&mut self, name: &str, pid: &Pid) -> Result<(), RegisterError> {
        if name.chars().count() > 255 {
            return Err(RegisterError::BadName {
                name: name.to_owned(),
            });
        }
        let atom = Atom::new(name);
        if self.names.contains_key(&atom) {
            return Err(RegisterError::NameTaken {
                name: name.to_owned(),
            });
        }
        if self.slot(pid).is_none() {
            return Err(RegisterError::NotAlive);
        }
        let slot = self.slots.get_mut(&pid.id).ok_or(RegisterError::NotAlive)?;
        if let Some(old) = &slot.name {
            return Err(RegisterError::AlreadyNamed {
                name: old.as_str().to_owned(),
            });
        }
        slot.name = Some(atom.clone());
        self.names.insert(atom, pid.id);
        Ok(())
    }

    /// Removes the name; `false` if nobody had it.
    pub(crate) fn unregister(&mut self, name: &str) -> bool {
        let Some(number) = self.names.remove(&Atom::new(name)) else {
            return false;
        };
        if let Some(slot) = self.slots.get_mut(&number) {
            slot.name = None;
        }
        true
    }

    /// The pid registered as `name`.
    pub(crate) fn whereis(&self, name: &str) -> Option<Pid> {
        let number = *self.names.get(&Atom::new(name))?;
        let slot = self.slots.get(&number)?;
        Some(Pid {
            node: self.node.clone(),
            id: number,
            serial: slot.serial,
            creation: self.creation,
        })
    }

    /// Queues a signal for `pid`; `false` (and the signal dropped) if no
    /// such process lives. Never waits.
    pub(crate) fn deliver(&self, pid: &Pid, signal: Signal) -> bool {
        match self.slot(pid) {
            Some(slot) => slot.mailbox.send(signal).is_ok(),
            None => false,
        }
    }

    /// Queues a priority message for `pid`: ahead of its ordinary messages
    /// if it has a priority queue (it made a priority alias), else as an
    /// ordinary message. `false` if no such process lives.
    pub(crate) fn deliver_priority(&self, pid: &Pid, message: Message) -> bool {
        match self.slot(pid) {
            Some(Slot {
                priority: Some(queue),
                ..
            }) => queue.send(message).is_ok(),
            Some(slot) => slot.mailbox.send(Signal::Message(message)).is_ok(),
            None => false,
        }
    }

    /// Queues a signal for the process registered as `name`.
    pub(crate) fn deliver_named(&self, name: &str, signal: Signal) -> bool {
        let Some(number) = self.names.get(name) else {
            return false;
        };
        match self.slots.get(number) {
            Some(slot) => slot.mailbox.send(signal).is_ok(),
            None => false,
        }
    }

    /// Drops every mailbox: receivers see the node closed.
    pub(crate) fn close(&mut self) {
        self.closed = true;
        self.slots.clear();
        self.names.clear();
        self.links = Links::default();
        self.monitors = Monitors::default();
        self.aliases.clear();
        self.node_watchers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> ProcessTable {
        ProcessTable::new(Atom::new("n@h"), 7)
    }

    #[test]
    fn pids_carry_the_creation_and_are_not_reused_while_alive_or_soon_after() {
        let mut t = table();
        let (a, _ra, _) = t.spawn().expect("spawn");
        assert_eq!((a.creation, a.node.as_str()), (7, "n@h"));
        t.remove(&a);
        let (b, _rb, _) = t.spawn().expect("spawn");
        assert_ne!((a.id, a.serial), (b.id, b.serial));
        // A stale pid (same number, other serial or creation) reaches nobody.
        let stale = Pid {
            creation: 6,
            ..b.clone()
        };
        assert!(!t.is_alive(&stale));
        assert!(t.is_alive(&b));
    }

    #[test]
    fn numbers_wrap_into_a_new_serial_and_skip_live_ones() {
        let mut t = table();
        let (keep, _rk, _) = t.spawn().expect("spawn");
        for _ in 0..MAX_NUMBER + 5 {
            let (pid, _rx, _) = t.spawn().expect("spawn");
            assert_ne!(pid.id, keep.id, "a live number was handed out again");
            t.remove(&pid);
        }
        let (late, _rl, _) = t.spawn().expect("spawn");
        assert_eq!(late.serial, 1);
    }

    #[test]
    fn the_table_has_a_limit() {
        let mut t = table();
        let mut live = Vec::new();
        for _ in 0..MAX_PROCESSES - 1 {
            live.push(t.spawn().expect("spawn"));
        }
        assert!(matches!(
            t.spawn(),
            Err(SpawnError::TooManyProcesses { .. })
        ));
    }

    #[test]
    fn names_are_unique_and_freed_with_the_process() {
        let mut t = table();
        let (a, _ra, _) = t.spawn().expect("spawn");
        let (b, _rb, _) = t.spawn().expect("spawn");
        t.register("svc", &a).expect("register");
        assert_eq!(
            t.register("svc", &b),
            Err(RegisterError::NameTaken { name: "svc".into() })
        );
        assert_eq!(
            t.register("other", &a),
            Err(RegisterError::AlreadyNamed { name: "svc".into() })
        );
        assert_eq!(t.whereis("svc"), Some(a.clone()));
        t.remove(&a);
        assert_eq!(t.whereis("svc"), None);
        t.register("svc", &b).expect("free again");
        assert!(t.unregister("svc"));
        assert!(!t.unregister("svc"));
    }
}
