//! The link set of the node's processes, indexed both by local process and
//! by remote node, so that a process exit touches only its own links and a
//! lost connection only the links across it.

use std::collections::{HashMap, HashSet};

use etf::{Atom, Pid};

/// Links of local processes. A link between two local processes is kept
/// from both ends; a link to a remote process from the local end only.
#[derive(Debug, Default)]
pub(crate) struct Links {
    by_local: HashMap<Pid, HashSet<Pid>>,
    /// Remote node -> (local, remote) pairs linked across its connection.
    by_node: HashMap<Atom, HashSet<(Pid, Pid)>>,
}

impl Links {
    /// Adds the link `local` - `other`; `false` if it existed.
    pub(crate) fn add(&mut self, local: &Pid, other: &Pid, local_node: &Atom) -> bool {
        let added = self
            .by_local
            .entry(local.clone())
            .or_default()
            .insert(other.clone());
        if !added {
            return false;
        }
        if other.node == *local_node {
            self.by_local
                .entry(other.clone())
                .or_default()
                .insert(local.clone());
        } else {
            self.by_node
                .entry(other.node.clone())
                .or_default()
                .insert((local.clone(), other.clone()));
        }
        true
    }

    /// Removes the link `local` - `other`; `false` if there was none.
    pub(crate) fn remove(&mut self, local: &Pid, other: &Pid, local_node: &Atom) -> bool {
        let removed = remove_from(&mut self.by_local, local, other);
        if other.node == *local_node {
            remove_from(&mut self.by_local, other, local);
        } else if let Some(pairs) = self.by_node.get_mut(&other.node) {
            pairs.remove(&(local.clone(), other.clone()));
            if pairs.is_empty() {
                self.by_node.remove(&other.node);
            }
        }
        removed
    }

    /// Whether `local` is linked to `other`.
    #[cfg(test)]
    pub(crate) fn contains(&self, local: &Pid, other: &Pid) -> bool {
        self.by_local
            .get(local)
            .is_some_and(|set| set.contains(other))
    }

    /// Removes every link of `local` and returns the other ends.
    pub(crate) fn take_all(&mut self, local: &Pid, local_node: &Atom) -> Vec<Pid> {
        let others: Vec<Pid> = self
            .by_local
            .remove(local)
            .map(|set| set.into_iter().collect())
            .unwrap_or_default();
        for other in &others {
            self.remove(local, other, local_node);
        }
        others
    }

    /// Removes every link across the connection to `node` and returns the
    /// (local, remote) pairs.
    pub(crate) fn take_node(&mut self, node: &Atom) -> Vec<(Pid, Pid)> {
        let pairs: Vec<(Pid, Pid)> = self
            .by_node
            .remove(node)
            .map(|set| set.into_iter().collect())
            .unwrap_or_default();
        for (local, remote) in &pairs {
            remove_from(&mut self.by_local, local, remote);
        }
        pairs
    }

    /// How many links a local process has.
    #[cfg(test)]
    pub(crate) fn count(&self, local: &Pid) -> usize {
        self.by_local.get(local).map_or(0, HashSet::len)
    }
}

fn remove_from(map: &mut HashMap<Pid, HashSet<Pid>>, key: &Pid, value: &Pid) -> bool {
    let Some(set) = map.get_mut(key) else {
        return false;
    };
    let removed = set.remove(value);
    if set.is_empty() {
        map.remove(key);
    }
    removed
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

    #[test]
    fn local_links_are_kept_from_both_ends_and_remote_ones_by_node() {
        let me = Atom::new("a@h");
        let mut links = Links::default();
        let (x, y, r) = (pid("a@h", 1), pid("a@h", 2), pid("b@h", 9));
        assert!(links.add(&x, &y, &me));
        assert!(!links.add(&x, &y, &me));
        assert!(links.contains(&y, &x));
        assert!(links.add(&x, &r, &me));
        assert_eq!(links.take_node(&Atom::new("b@h")), vec![(x.clone(), r)]);
        assert_eq!(links.count(&x), 1);
        assert_eq!(links.take_all(&x, &me), vec![y.clone()]);
        assert_eq!(links.count(&y), 0);
        assert!(links.by_local.is_empty() && links.by_node.is_empty());
    }
}
