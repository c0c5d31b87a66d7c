//! The monitors of the node: those its processes hold (outgoing) and those
//! held on its processes (incoming), each indexed by process and by remote
//! node so that an exit or a lost connection touches only its own monitors.

use std::collections::{HashMap, HashSet};

use dist_proto::PidOrName;
use etf::{Atom, Pid, Reference};

/// A monitor held by a local process.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    /// The local process that gets the `'DOWN'`.
    pub(crate) watcher: Pid,
    /// What is watched, as given (a pid, or a name on `node`).
    pub(crate) target: PidOrName,
    /// The node of the target.
    pub(crate) node: Atom,
}

/// A monitor on a local process.
#[derive(Clone, Debug)]
pub(crate) struct Incoming {
    /// The process that gets the `'DOWN'` (local or remote).
    pub(crate) watcher: Pid,
    /// The monitored local process.
    pub(crate) target: Pid,
    /// How the watcher named it (pid or registered name).
    pub(crate) named: PidOrName,
}

/// Both sides of the node's monitors.
#[derive(Debug, Default)]
pub(crate) struct Monitors {
    out: HashMap<Reference, Outgoing>,
    out_by_watcher: HashMap<Pid, HashSet<Reference>>,
    /// Outgoing monitors of processes of a remote node.
    out_by_node: HashMap<Atom, HashSet<Reference>>,
    incoming: HashMap<Reference, Incoming>,
    in_by_target: HashMap<Pid, HashSet<Reference>>,
    /// Incoming monitors held by processes of a remote node.
    in_by_node: HashMap<Atom, HashSet<Reference>>,
}

fn index(map: &mut HashMap<Pid, HashSet<Reference>>, key: &Pid, r: &Reference) {
    map.entry(key.clone()).or_default().insert(r.clone());
}

fn unindex<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, HashSet<Reference>>,
    key: &K,
    r: &Reference,
) {
    if let Some(set) = map.get_mut(key) {
        set.remove(r);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

impl Monitors {
    /// Records that local `m.watcher` monitors `m.target`; `local` is the
    /// local node's name.
    pub(crate) fn add_out(&mut self, r: Reference, m: Outgoing, local: &Atom) {
        index(&mut self.out_by_watcher, &m.watcher, &r);
        if m.node != *local {
            self.out_by_node
                .entry(m.node.clone())
                .or_default()
                .insert(r.clone());
        }
        self.out.insert(r, m);
    }

    /// Forgets an outgoing monitor.
    pub(crate) fn remove_out(&mut self, r: &Reference) -> Option<Outgoing> {
        let m = self.out.remove(r)?;
        unindex(&mut self.out_by_watcher, &m.watcher, r);
        unindex(&mut self.out_by_node, &m.node, r);
        Some(m)
    }

    /// Records that `m.watcher` monitors local `m.target`.
    pub(crate) fn add_in(&mut self, r: Reference, m: Incoming, local: &Atom) {
        index(&mut self.in_by_target, &m.target, &r);
        if m.watcher.node != *local {
            self.in_by_node
                .entry(m.watcher.node.clone())
                .or_default()
                .insert(r.clone());
        }
        self.incoming.insert(r, m);
    }

    /// Forgets an incoming monitor.
    pub(crate) fn remove_in(&mut self, r: &Reference) -> Option<Incoming> {
        let m = self.incoming.remove(r)?;
        unindex(&mut self.in_by_target, &m.target, r);
        unindex(&mut self.in_by_node, &m.watcher.node, r);
        Some(m)
    }

    /// Forgets an incoming monitor if `watcher` holds it (a `DEMONITOR_P`
    /// cannot drop another process's monitor).
    pub(crate) fn remove_in_held_by(&mut self, r: &Reference, watcher: &Pid) -> Option<Incoming> {
        if self.incoming.get(r)?.watcher != *watcher {
            return None;
        }
        self.remove_in(r)
    }

    /// Removes the monitors `pid` holds.
    pub(crate) fn take_watcher(&mut self, pid: &Pid) -> Vec<(Reference, Outgoing)> {
        let refs = self.out_by_watcher.remove(pid).unwrap_or_default();
        refs.into_iter()
            .filter_map(|r| self.remove_out(&r).map(|m| (r, m)))
            .collect()
    }

    /// Removes the monitors held on local `pid`.
    pub(crate) fn take_target(&mut self, pid: &Pid) -> Vec<(Reference, Incoming)> {
        let refs = self.in_by_target.remove(pid).unwrap_or_default();
        refs.into_iter()
            .filter_map(|r| self.remove_in(&r).map(|m| (r, m)))
            .collect()
    }

    /// Removes every monitor across the connection to `node`: the outgoing
    /// ones (whose watchers get `noconnection`) are returned.
    pub(crate) fn take_node(&mut self, node: &Atom) -> Vec<(Reference, Outgoing)> {
        for r in self.in_by_node.remove(node).unwrap_or_default() {
            self.remove_in(&r);
        }
        let refs = self.out_by_node.remove(node).unwrap_or_default();
        refs.into_iter()
            .filter_map(|r| self.remove_out(&r).map(|m| (r, m)))
            .collect()
    }

    /// How many monitors are recorded (both sides).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.out.len() + self.incoming.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(node: &str, id: u32) -> Pid {
        Pid {
            node: Atom::new(node),
            id,
            serial: 0,
            creation: 1,
        }
    }

    fn reference(node: &str, id: u32) -> Reference {
        Reference {
            node: Atom::new(node),
            creation: 1,
            ids: vec![id, 0, 0],
        }
    }

    #[test]
    fn a_lost_node_takes_its_monitors_of_both_sides_and_nothing_else() {
        let me = Atom::new("a@h");
        let mut m = Monitors::default();
        let (x, remote, other) = (pid("a@h", 1), pid("b@h", 1), pid("c@h", 1));
        for (i, target) in [&remote, &other].into_iter().enumerate() {
            let out = Outgoing {
                watcher: x.clone(),
                target: PidOrName::Pid(target.clone()),
                node: target.node.clone(),
            };
            m.add_out(reference("a@h", i as u32), out, &me);
        }
        let incoming = Incoming {
            watcher: remote.clone(),
            target: x.clone(),
            named: PidOrName::Name(Atom::new("svc")),
        };
        m.add_in(reference("b@h", 7), incoming, &me);
        let lost = m.take_node(&Atom::new("b@h"));
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].1.target, PidOrName::Pid(remote));
        assert_eq!(m.len(), 1);
        assert_eq!(m.take_watcher(&x).len(), 1);
        assert_eq!(m.len(), 0);
        assert!(m.out_by_node.is_empty() && m.out_by_watcher.is_empty());
    }
}
