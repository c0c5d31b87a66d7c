//! The node's processes by pid and by registered name: pid numbers, the
//! mailboxes they lead to, and the per-process flags the signal logic
//! reads.
//!
//! Sharded so that spawning, ending, sending and looking up names on
//! several cores at once do not queue on one lock: the low
//! [`SHARD_BITS`] bits of a pid number pick one of [`SHARDS`] shards, each
//! a slab of entries behind its own mutex, the other bits the entry.
//! Spawning takes a free entry of a shard (the one freed longest ago) or
//! adds one, ending frees it: O(1), no scan. A freed entry's serial is
//! bumped, so a pid of a dead process never reaches the process that
//! reuses its number: NEW_PID_EXT carries 32-bit numbers and serials, and
//! a number comes back with the same serial only after 2^32 reuses of its
//! entry. The names have a lock of their own (a read lock for lookups).
//!
//! Lock order: the signal state's lock ([`ProcessTable`]), then the names,
//! then one shard; a shard's lock is never held while taking another lock.
//!
//! [`ProcessTable`]: crate::state::table::ProcessTable

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use etf::{Atom, Pid};

use crate::data::error::{RegisterError, SpawnError};
use crate::data::message::Message;
use crate::state::mailbox::Mailbox;

/// The pid number bits that pick a shard.
pub(crate) const SHARD_BITS: u32 = 6;
/// How many shards the table has.
pub(crate) const SHARDS: usize = 1 << SHARD_BITS;
/// How many entries one shard can hold: its index fills the other bits of
/// the 32-bit pid number.
const SHARD_CAPACITY: usize = 1 << (32 - SHARD_BITS);

/// The most processes a node can be built for: the BEAM's own maximum for
/// `+P` (2^27 - 1). Well under what the pid numbers can address
/// (64 shards × 2^26 numbers), so a free number always exists below the
/// limit.
pub const MAX_PROCESSES_LIMIT: usize = (1 << 27) - 1;

/// How many processes may live at once unless
/// [`NodeBuilder::max_processes`](crate::NodeBuilder::max_processes) says
/// otherwise: the BEAM's default (`+P 262144`).
pub const DEFAULT_MAX_PROCESSES: usize = 262_144;

/// The process traps exits.
const TRAP_EXIT: u8 = 1;
/// The process has (or had) links, monitors, aliases, node monitors or a
/// name: its end goes through the signal state. A process without any
/// ends under its shard's lock alone.
const ENTANGLED: u8 = 2;
/// The process has (or had) a registered name.
const NAMED: u8 = 4;

/// One entry of a shard: a live process, or a free number.
#[derive(Debug)]
struct Entry {
    serial: u32,
    flags: u8,
    /// `None` while the number is free.
    mailbox: Option<Arc<Mailbox>>,
}

#[derive(Debug, Default)]
struct Shard {
    entries: Vec<Entry>,
    /// Free entries, freed longest ago first.
    free: VecDeque<u32>,
}

impl Shard {
    /// The live entry of `pid` in this shard.
    fn live(&mut self, index: usize, serial: u32) -> Option<&mut Entry> {
        self.entries
            .get_mut(index)
            .filter(|e| e.serial == serial && e.mailbox.is_some())
    }
}

/// Registered names, both ways.
#[derive(Debug, Default)]
struct Names {
    by_name: HashMap<Atom, Pid>,
    /// (number, serial) -> name.
    by_pid: HashMap<(u32, u32), Atom>,
}

/// The node's processes: see the module documentation.
#[derive(Debug)]
pub(crate) struct Registry {
    node: Atom,
    creation: u32,
    max: usize,
    live: AtomicUsize,
    closed: AtomicBool,
    shards: Box<[Mutex<Shard>]>,
    names: RwLock<Names>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code holding these locks panics half-way through an update.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// The shard this thread spawns its next process in: each thread walks
    /// round the shards from its own starting point, so that threads
    /// spawning at once rarely meet on a shard, and the processes one
    /// thread spawns (and the sends to them) spread over all shards.
    static NEXT_SHARD: Cell<usize> = Cell::new(first_shard());
}

fn first_shard() -> usize {
    static THREADS: AtomicUsize = AtomicUsize::new(0);
    THREADS
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(SHARDS / 4 + 1)
        % SHARDS
}

fn next_shard() -> usize {
    NEXT_SHARD.with(|next| {
        let shard = next.get() % SHARDS;
        next.set(shard + 1);
        shard
    })
}

/// The shard and the index in it of a pid number.
fn split(number: u32) -> (usize, usize) {
    (
        (number as usize) & (SHARDS - 1),
        (number >> SHARD_BITS) as usize,
    )
}

impl Registry {
    /// An empty table for the node `node` of creation `creation`, for at
    /// most `max` live processes (at least 1, at most
    /// [`MAX_PROCESSES_LIMIT`]).
    pub(crate) fn new(node: Atom, creation: u32, max: usize) -> Registry {
        let shards = (0..SHARDS)
            .map(|i| {
                let mut shard = Shard::default();
                if i == 0 {
                    // Number 0 is the node's own (the sender of signals
                    // that come from no process): never handed out.
                    shard.entries.push(Entry {
                        serial: 0,
                        flags: 0,
                        mailbox: None,
                    });
                }
                Mutex::new(shard)
            })
            .collect();
        Registry {
            node,
            creation,
            max: max.clamp(1, MAX_PROCESSES_LIMIT),
            live: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            shards,
            names: RwLock::new(Names::default()),
        }
    }

    /// The node's name.
    pub(crate) fn node(&self) -> &Atom {
        &self.node
    }

    /// How many processes may live at once.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// How many processes live.
    pub(crate) fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    fn pid(&self, number: u32, serial: u32) -> Pid {
        Pid {
            node: self.node.clone(),
            id: number,
            serial,
            creation: self.creation,
        }
    }

    /// The shard and index of a pid of this node and incarnation.
    fn place(&self, pid: &Pid) -> Option<(usize, usize)> {
        if pid.creation != self.creation || pid.node != self.node {
            return None;
        }
        Some(split(pid.id))
    }

    /// Runs `f` on the live entry of `pid`, under its shard's lock.
    fn with_entry<R>(&self, pid: &Pid, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        let (shard, index) = self.place(pid)?;
        let mut shard = lock(&self.shards[shard]);
        shard.live(index, pid.serial).map(f)
    }

    /// A new process: its pid and its mailbox. O(1): a free number of a
    /// shard, or a new one.
    pub(crate) fn spawn(&self) -> Result<(Pid, Arc<Mailbox>), SpawnError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(SpawnError::Shutdown);
        }
        if self.live.fetch_add(1, Ordering::Relaxed) >= self.max {
            self.live.fetch_sub(1, Ordering::Relaxed);
            return Err(SpawnError::TooManyProcesses { limit: self.max });
        }
        let mailbox = Arc::new(Mailbox::default());
        let first = next_shard();
        // The first shard has room unless it alone holds 2^26 processes:
        // the others are tried then.
        for k in 0..SHARDS {
            let s = (first + k) % SHARDS;
            let mut shard = lock(&self.shards[s]);
            // Checked under the shard's lock: `close` takes every shard's
            // lock after setting the flag, so no process slips past it.
            if self.closed.load(Ordering::Acquire) {
                drop(shard);
                self.live.fetch_sub(1, Ordering::Relaxed);
                return Err(SpawnError::Shutdown);
            }
            let index = match shard.free.pop_front() {
                Some(index) => index as usize,
                None if shard.entries.len() < SHARD_CAPACITY => {
                    shard.entries.push(Entry {
                        serial: 0,
                        flags: 0,
                        mailbox: None,
                    });
                    shard.entries.len() - 1
                }
                None => continue,
            };
            let Some(entry) = shard.entries.get_mut(index) else {
                continue;
            };
            entry.flags = 0;
            entry.mailbox = Some(Arc::clone(&mailbox));
            let serial = entry.serial;
            drop(shard);
            // `index` < 2^26 and `s` < 2^6: the number fits 32 bits.
            let number = ((index as u32) << SHARD_BITS) | s as u32;
            return Ok((self.pid(number, serial), mailbox));
        }
        self.live.fetch_sub(1, Ordering::Relaxed);
        Err(SpawnError::TooManyProcesses { limit: self.max })
    }

    /// Whether `pid` is a live process of this node.
    pub(crate) fn is_alive(&self, pid: &Pid) -> bool {
        self.with_entry(pid, |_| ()).is_some()
    }

    /// Marks `pid` as having signal state (links, monitors, aliases, node
    /// monitors), so that its end goes through the signal state; `false`
    /// if it is not alive. Called under the signal state's lock, before
    /// the state is added: a process either ends before (and is found
    /// dead) or after (and its end sees the state).
    pub(crate) fn entangle(&self, pid: &Pid) -> bool {
        self.with_entry(pid, |e| e.flags |= ENTANGLED).is_some()
    }

    /// `process_flag(trap_exit, Trap)`: the previous value; `false` if the
    /// process is not alive.
    pub(crate) fn set_trap_exit(&self, pid: &Pid, trap: bool) -> bool {
        self.with_entry(pid, |e| {
            let old = e.flags & TRAP_EXIT != 0;
            if trap {
                e.flags |= TRAP_EXIT;
            } else {
                e.flags &= !TRAP_EXIT;
            }
            old
        })
        .unwrap_or(false)
    }

    /// Whether `pid` traps exits; `None` if it is not alive.
    pub(crate) fn traps_exit(&self, pid: &Pid) -> Option<bool> {
        self.with_entry(pid, |e| e.flags & TRAP_EXIT != 0)
    }

    /// The mailbox of a live `pid`.
    fn mailbox(&self, pid: &Pid) -> Option<Arc<Mailbox>> {
        self.with_entry(pid, |e| e.mailbox.clone()).flatten()
    }

    /// Queues a message for `pid`; `false` (and the message dropped) if no
    /// such process lives. Never waits.
    pub(crate) fn deliver(&self, pid: &Pid, message: Message) -> bool {
        // The mailbox is filled after the shard's lock is let go: a
        // message that races the end of its receiver goes to the dead
        // mailbox, never to the next process of that number.
        match self.mailbox(pid) {
            Some(mailbox) => mailbox.push(message),
            None => false,
        }
    }

    /// Queues a priority message for `pid`: ahead of its ordinary messages
    /// if it made a priority alias, else as an ordinary message.
    pub(crate) fn deliver_priority(&self, pid: &Pid, message: Message) -> bool {
        match self.mailbox(pid) {
            Some(mailbox) => mailbox.push_priority(message),
            None => false,
        }
    }

    /// Queues a message for the process registered as `name`.
    pub(crate) fn deliver_named(&self, name: &str, message: Message) -> bool {
        match self.whereis(name) {
            Some(pid) => self.deliver(&pid, message),
            None => false,
        }
    }

    /// Ends `pid` if it has no signal state (see [`Registry::entangle`]):
    /// its number is freed and `true` returned. `false` if it has signal
    /// state (the caller ends it through the signal state) or is not
    /// alive.
    pub(crate) fn end_plain(&self, pid: &Pid) -> bool {
        let Some((s, index)) = self.place(pid) else {
            return false;
        };
        let mut shard = lock(&self.shards[s]);
        match shard.live(index, pid.serial) {
            Some(entry) if entry.flags & ENTANGLED == 0 => {
                let mailbox = free(entry);
                shard.free.push_back(index as u32);
                drop(shard);
                self.live.fetch_sub(1, Ordering::Relaxed);
                drop(mailbox);
                true
            }
            _ => false,
        }
    }

    /// Ends `pid`: frees its number and its name, and returns its
    /// mailbox (to tell its receiver). `None` if it is not alive.
    pub(crate) fn end(&self, pid: &Pid) -> Option<Arc<Mailbox>> {
        let (s, index) = self.place(pid)?;
        let (mailbox, flags) = {
            let mut shard = lock(&self.shards[s]);
            let entry = shard.live(index, pid.serial)?;
            let flags = entry.flags;
            let mailbox = free(entry)?;
            shard.free.push_back(index as u32);
            (mailbox, flags)
        };
        self.live.fetch_sub(1, Ordering::Relaxed);
        if flags & NAMED != 0 {
            let mut names = self.names_mut();
            if let Some(name) = names.by_pid.remove(&(pid.id, pid.serial)) {
                names.by_name.remove(&name);
            }
        }
        Some(mailbox)
    }

    fn names_mut(&self) -> std::sync::RwLockWriteGuard<'_, Names> {
        self.names.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives `pid` the name `name`.
    pub(crate) fn register(&self, name: &str, pid: &Pid) -> Result<(), RegisterError> {
        if name.chars().count() > 255 {
            return Err(RegisterError::BadName {
                name: name.to_owned(),
            });
        }
        let mut names = self.names_mut();
        if names.by_name.contains_key(name) {
            return Err(RegisterError::NameTaken {
                name: name.to_owned(),
            });
        }
        if let Some(old) = names.by_pid.get(&(pid.id, pid.serial)) {
            if self.is_alive(pid) {
                return Err(RegisterError::AlreadyNamed {
                    name: old.as_str().to_owned(),
                });
            }
        }
        self.with_entry(pid, |e| e.flags |= NAMED | ENTANGLED)
            .ok_or(RegisterError::NotAlive)?;
        let atom = Atom::new(name);
        names.by_pid.insert((pid.id, pid.serial), atom.clone());
        names.by_name.insert(atom, pid.clone());
        Ok(())
    }

    /// Removes the name; `false` if nobody had it.
    pub(crate) fn unregister(&self, name: &str) -> bool {
        let mut names = self.names_mut();
        let Some(pid) = names.by_name.remove(name) else {
            return false;
        };
        names.by_pid.remove(&(pid.id, pid.serial));
        true
    }

    /// The pid registered as `name`.
    pub(crate) fn whereis(&self, name: &str) -> Option<Pid> {
        let names = self.names.read().unwrap_or_else(|e| e.into_inner());
        names.by_name.get(name).cloned()
    }

    /// Ends every mailbox: receivers see the node closed, spawns fail.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            let mailboxes: Vec<Arc<Mailbox>> = {
                let mut shard = lock(shard);
                let shard = &mut *shard;
                let mut taken = Vec::new();
                for (index, entry) in shard.entries.iter_mut().enumerate() {
                    if let Some(mailbox) = free(entry) {
                        taken.push(mailbox);
                        shard.free.push_back(index as u32);
                    }
                }
                taken
            };
            self.live.fetch_sub(mailboxes.len(), Ordering::Relaxed);
            for mailbox in mailboxes {
                mailbox.close();
            }
        }
        let mut names = self.names_mut();
        names.by_name.clear();
        names.by_pid.clear();
    }
}

/// Frees a live entry: its serial moves on, so its old pids are stale.
fn free(entry: &mut Entry) -> Option<Arc<Mailbox>> {
    let mailbox = entry.mailbox.take()?;
    entry.serial = entry.serial.wrapping_add(1);
    entry.flags = 0;
    Some(mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etf::Term;

    fn registry(max: usize) -> Registry {
        Registry::new(Atom::new("n@h"), 7, max)
    }

    fn message(n: i64) -> Message {
        Message {
            from: None,
            payload: Term::Int(n),
        }
    }

    #[test]
    fn pids_carry_the_creation_and_a_stale_pid_reaches_nobody() {
        let r = registry(10);
        let (a, _) = r.spawn().expect("spawn");
        assert_eq!((a.creation, a.node.as_str()), (7, "n@h"));
        assert_ne!(a.id, 0, "number 0 is the node's own");
        assert!(r.end_plain(&a));
        let stale = Pid {
            creation: 6,
            ..a.clone()
        };
        assert!(!r.is_alive(&stale));
        assert!(!r.is_alive(&a));
    }

    #[test]
    fn a_reused_number_gets_a_new_serial_and_the_old_pid_reaches_nobody() {
        // One process at a time: every spawn after the first reuses the
        // number freed longest ago, so numbers come back.
        let r = registry(1);
        let (first, first_mailbox) = r.spawn().expect("spawn");
        assert!(r.end_plain(&first));
        let mut reused = None;
        for _ in 0..2 * SHARDS {
            let (pid, mailbox) = r.spawn().expect("spawn");
            if pid.id == first.id {
                reused = Some((pid, mailbox));
                break;
            }
            assert!(r.end_plain(&pid));
        }
        let (again, mailbox) = reused.expect("the number came back");
        assert_ne!(again.serial, first.serial);
        assert!(!r.deliver(&first, message(1)), "stale pid");
        assert!(r.deliver(&again, message(2)));
        assert_eq!(mailbox.len(), 1);
        assert_eq!(first_mailbox.len(), 0);
        assert_eq!(
            mailbox.try_take().map(|(m, _)| m.payload),
            Some(Term::Int(2))
        );
    }

    #[test]
    fn the_limit_is_the_number_of_live_processes() {
        let r = registry(3);
        let live: Vec<_> = (0..3).map(|_| r.spawn().expect("spawn")).collect();
        assert_eq!(
            r.spawn().map(|(pid, _)| pid),
            Err(SpawnError::TooManyProcesses { limit: 3 })
        );
        assert!(r.end_plain(&live[0].0));
        assert!(r.spawn().is_ok(), "a freed place is usable again");
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn more_than_fifteen_bits_of_processes() {
        let r = registry(DEFAULT_MAX_PROCESSES);
        let live: Vec<_> = (0..100_000).map(|_| r.spawn().expect("spawn")).collect();
        assert!(live.iter().any(|(pid, _)| pid.id > 0x7fff));
        let mut numbers: Vec<u32> = live.iter().map(|(pid, _)| pid.id).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), live.len(), "numbers are unique");
        for (pid, _) in &live {
            assert!(r.end_plain(pid));
        }
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn names_are_unique_and_freed_with_the_process() {
        let r = registry(10);
        let (a, _) = r.spawn().expect("spawn");
        let (b, _) = r.spawn().expect("spawn");
        r.register("svc", &a).expect("register");
        assert_eq!(
            r.register("svc", &b),
            Err(RegisterError::NameTaken { name: "svc".into() })
        );
        assert_eq!(
            r.register("other", &a),
            Err(RegisterError::AlreadyNamed { name: "svc".into() })
        );
        assert_eq!(r.whereis("svc"), Some(a.clone()));
        assert!(r.deliver_named("svc", message(1)));
        assert!(
            !r.end_plain(&a),
            "a named process ends through the signal state"
        );
        assert!(r.end(&a).is_some());
        assert_eq!(r.whereis("svc"), None);
        r.register("svc", &b).expect("free again");
        assert!(r.unregister("svc"));
        assert!(!r.unregister("svc"));
        r.register("other", &b)
            .expect("a name again after unregister");
    }

    #[test]
    fn close_ends_every_mailbox_and_refuses_spawns() {
        let r = registry(10);
        let (_, mailbox) = r.spawn().expect("spawn");
        r.close();
        assert_eq!(r.len(), 0);
        assert!(!mailbox.push(message(1)));
        assert_eq!(r.spawn().map(|(pid, _)| pid), Err(SpawnError::Shutdown));
    }
}
