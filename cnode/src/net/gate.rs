//! The door: how many accepted connections may be unauthenticated at once,
//! in all and from one source address, and which one gives way when one
//! more comes. The oldest yields, so a flood of connections that never
//! speak cannot keep a newcomer out: it only shortens the time the oldest
//! strangers have. Nothing here waits; the accept loop admits each
//! connection at once, and an evicted connection's task learns it from its
//! [`Admission`] and closes its stream.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::net::clock::now;

/// How many connections may be unauthenticated at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GateLimits {
    /// In all.
    pub(crate) total: usize,
    /// From one source address.
    pub(crate) per_source: usize,
}

/// Why a connection was closed before it authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Eviction {
    /// [`GateLimits::total`] connections were unauthenticated and one more
    /// came.
    Full,
    /// [`GateLimits::per_source`] connections from its address were
    /// unauthenticated and one more came from there.
    SourceFull,
    /// Accepting failed for want of resources (file descriptors): the
    /// oldest stranger's descriptor is given back.
    Resources,
}

impl std::fmt::Display for Eviction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Eviction::Full => "too many unauthenticated connections",
            Eviction::SourceFull => "too many unauthenticated connections from its address",
            Eviction::Resources => "accepting failed for want of resources",
        })
    }
}

/// The unauthenticated connections of one listener.
#[derive(Debug)]
pub(crate) struct Gate {
    limits: GateLimits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    /// By admission order: the first is the oldest.
    pending: BTreeMap<u64, Entry>,
    /// The pending ids of each source address; no empty sets.
    by_source: HashMap<IpAddr, BTreeSet<u64>>,
    full: Warning,
    source_full: Warning,
}

#[derive(Debug)]
struct Entry {
    source: IpAddr,
    evict: oneshot::Sender<Eviction>,
}

/// One connection's place at the door, held until it authenticates or
/// ends; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Admission {
    gate: Arc<Gate>,
    id: u64,
    evicted: oneshot::Receiver<Eviction>,
}

impl Gate {
    /// A gate with `limits` (each at least 1).
    pub(crate) fn new(limits: GateLimits) -> Gate {
        Gate {
            limits: GateLimits {
                total: limits.total.max(1),
                per_source: limits.per_source.max(1),
            },
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a connection from `source`, first closing the oldest one from
    /// there if that source is at its limit, then the oldest of all if the
    /// gate is full. Logs (at most once per [`WARNING_INTERVAL`] for each
    /// limit) when a limit is reached.
    pub(crate) fn admit(self: &Arc<Self>, source: IpAddr) -> Admission {
        let mut state = self.lock();
        let from_source = state.by_source.get(&source).map_or(0, BTreeSet::len);
        if from_source >= self.limits.per_source {
            let oldest = state.by_source.get(&source).and_then(|ids| ids.first());
            if let Some(&oldest) = oldest {
                state.evict(oldest, Eviction::SourceFull);
            }
            if let Some(closed) = state.source_full.due(now()) {
                tracing::warn!(
                    %source,
                    limit = self.limits.per_source,
                    closed,
                    "too many unauthenticated connections from one address: closing its oldest \
                     (NodeBuilder::max_unauthenticated_per_source)"
                );
            }
        }
        if state.pending.len() >= self.limits.total {
            if let Some((&oldest, _)) = state.pending.first_key_value() {
                state.evict(oldest, Eviction::Full);
            }
            if let Some(closed) = state.full.due(now()) {
                tracing::warn!(
                    latest = %source,
                    limit = self.limits.total,
                    closed,
                    "too many unauthenticated connections: closing the oldest \
                     (NodeBuilder::max_unauthenticated)"
                );
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        let (evict, evicted) = oneshot::channel();
        state.pending.insert(id, Entry { source, evict });
        state.by_source.entry(source).or_default().insert(id);
        Admission {
            gate: Arc::clone(self),
            id,
            evicted,
        }
    }

    /// Closes the oldest unauthenticated connection, if any; whether there
    /// was one.
    pub(crate) fn evict_oldest(&self, why: Eviction) -> bool {
        let mut state = self.lock();
        match state.pending.first_key_value() {
            Some((&oldest, _)) => {
                state.evict(oldest, why);
                true
            }
            None => false,
        }
    }

    /// How many connections are unauthenticated now.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.lock().pending.len()
    }
}

impl State {
    /// Forgets `id`, returning its entry.
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.pending.remove(&id)?;
        if let Some(ids) = self.by_source.get_mut(&entry.source) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_source.remove(&entry.source);
            }
        }
        Some(entry)
    }

    /// Forgets `id` and tells its task why.
    fn evict(&mut self, id: u64, why: Eviction) {
        if let Some(entry) = self.remove(id) {
            // The task may have ended meanwhile; then nobody listens.
            let _ = entry.evict.send(why);
            let warning = match why {
                Eviction::SourceFull => &mut self.source_full,
                Eviction::Full | Eviction::Resources => &mut self.full,
            };
            warning.count();
        }
    }
}

impl Admission {
    /// Returns once the gate closed this connection to make room, with why.
    pub(crate) async fn evicted(&mut self) -> Eviction {
        match (&mut self.evicted).await {
            Ok(why) => why,
            // The gate sends before it forgets an entry, and an admission
            // keeps its gate alive: this does not happen.
            Err(_) => std::future::pending().await,
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.gate.lock().remove(self.id);
    }
}

/// How often each limit's warning may be logged.
pub(crate) const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// A log line that comes at most once per [`WARNING_INTERVAL`], counting
/// what happened in between.
#[derive(Debug, Default)]
pub(crate) struct Warning {
    last: Option<Instant>,
    /// Occurrences since the last line.
    suppressed: u64,
}

impl Warning {
    /// Counts one occurrence.
    pub(crate) fn count(&mut self) {
        self.suppressed += 1;
    }

    /// Whether to log now: `Some(occurrences since the last line)`.
    pub(crate) fn due(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < WARNING_INTERVAL)
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    fn gate(total: usize, per_source: usize) -> Arc<Gate> {
        Arc::new(Gate::new(GateLimits { total, per_source }))
    }

    /// Whether the admission was evicted, and why.
    fn eviction(admission: &mut Admission) -> Option<Eviction> {
        admission.evicted.try_recv().ok()
    }

    #[tokio::test]
    async fn a_full_gate_closes_its_oldest_connection_for_a_new_one() {
        let gate = gate(3, 3);
        let mut admitted: Vec<Admission> = (0..3).map(|n| gate.admit(ip(n))).collect();
        let mut newest = gate.admit(ip(9));
        assert_eq!(eviction(&mut admitted[0]), Some(Eviction::Full));
        assert_eq!(eviction(&mut admitted[1]), None);
        assert_eq!(eviction(&mut admitted[2]), None);
        assert_eq!(eviction(&mut newest), None);
        assert_eq!(gate.pending(), 3);
        // One that authenticated (or ended) gives its place back.
        drop(admitted.pop());
        assert_eq!(gate.pending(), 2);
        let _another = gate.admit(ip(8));
        assert_eq!(eviction(&mut admitted[1]), None);
    }

    #[tokio::test]
    async fn a_source_at_its_limit_gives_way_to_itself_only() {
        let gate = gate(100, 2);
        let mut first = gate.admit(ip(1));
        let mut second = gate.admit(ip(1));
        let mut other = gate.admit(ip(2));
        let mut third = gate.admit(ip(1));
        assert_eq!(eviction(&mut first), Some(Eviction::SourceFull));
        assert_eq!(eviction(&mut second), None);
        assert_eq!(eviction(&mut third), None);
        assert_eq!(eviction(&mut other), None);
        assert_eq!(gate.pending(), 3);
    }

    #[tokio::test]
    async fn evicting_the_oldest_frees_a_place() {
        let gate = gate(10, 10);
        assert!(!gate.evict_oldest(Eviction::Resources));
        let mut a = gate.admit(ip(1));
        let mut b = gate.admit(ip(2));
        assert!(gate.evict_oldest(Eviction::Resources));
        assert_eq!(eviction(&mut a), Some(Eviction::Resources));
        assert_eq!(eviction(&mut b), None);
        assert_eq!(gate.pending(), 1);
        // Dropping an evicted admission is harmless.
        drop(a);
        assert_eq!(gate.pending(), 1);
    }

    #[test]
    fn a_warning_comes_at_most_once_per_interval_with_the_count() {
        let start = Instant::now();
        let mut warning = Warning::default();
        assert_eq!(warning.due(start), Some(0));
        warning.count();
        warning.count();
        assert_eq!(warning.due(start + Duration::from_secs(1)), None);
        warning.count();
        assert_eq!(warning.due(start + WARNING_INTERVAL), Some(3));
        assert_eq!(warning.due(start + WARNING_INTERVAL), None);
    }
}
