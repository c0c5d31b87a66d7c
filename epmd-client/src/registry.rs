//! The node table of an EPMD server and OTP's creation rules.

use std::collections::VecDeque;

use crate::listing::{DumpEntry, DumpReply, DumpState, NameEntry, NamesReply};
use crate::node::{NodeInfo, MAX_NAME_BYTES};

/// Identifies the connection a registration lives on; the server numbers its
/// connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// How many unregistered names are remembered for their creation counters
/// (`MAX_UNREG_COUNT` in OTP's `epmd`).
pub const MAX_UNUSED: usize = 1000;

/// Why a registration was refused. EPMD answers all of them with result 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterError {
    /// A live node already has this name.
    NameTaken,
    /// The extra field is longer than EPMD stores (1020 bytes).
    ExtraTooLong,
    /// The name holds a control character. OTP's `epmd` takes such names,
    /// but a newline in one would split its line of the NAMES listing (and
    /// could forge lines for other nodes); `erl` never asks for one.
    ControlCharacter,
}

#[derive(Debug)]
struct Active {
    node: NodeInfo,
    conn: ConnId,
    counter: u32,
}

#[derive(Debug)]
struct Unused {
    name: String,
    port: u16,
    conn: ConnId,
    counter: u32,
}

/// Registered nodes plus remembered old names, with OTP's creation rules:
///
/// - each name has a 32-bit counter, at least 4; a new name starts from a
///   seed (OTP uses the clock), a name registered again after its node left
///   continues from its old counter plus one, so the creation changes;
/// - a node that asks for distribution version 6 or later gets the counter as
///   its creation (never 0), an older one gets `counter % 3 + 1` (1..=3).
#[derive(Debug)]
pub struct Registry {
    /// Newest first, the order OTP's `epmd` lists them in.
    active: Vec<Active>,
    /// Oldest first.
    unused: VecDeque<Unused>,
    seed: u32,
}

impl Registry {
    /// An empty table; `seed` starts the creation counters of new names.
    pub fn new(seed: u32) -> Self {
        Registry {
            active: Vec::new(),
            unused: VecDeque::new(),
            seed,
        }
    }

    /// Registers `node` on connection `conn` and returns its creation.
    pub fn register(&mut self, conn: ConnId, node: NodeInfo) -> Result<u32, RegisterError> {
        if node.extra.len() > MAX_NAME_BYTES {
            return Err(RegisterError::ExtraTooLong);
        }
        if node.name.chars().any(char::is_control) {
            return Err(RegisterError::ControlCharacter);
        }
        if self.active.iter().any(|a| a.node.name == node.name) {
            return Err(RegisterError::NameTaken);
        }
        let counter = match self.unused.iter().position(|u| u.name == node.name) {
            Some(i) => self
                .unused
                .remove(i)
                .map_or(self.fresh_counter(), |old| bump(old.counter)),
            None => self.fresh_counter(),
        };
        let creation = creation_for(counter, node.highest_version);
        self.active.insert(
            0,
            Active {
                node,
                conn,
                counter,
            },
        );
        Ok(creation)
    }

    fn fresh_counter(&mut self) -> u32 {
        self.seed = self.seed.wrapping_add(1);
        bump(self.seed)
    }

    /// Removes the node registered on `conn`, if any, and returns it.
    pub fn unregister_conn(&mut self, conn: ConnId) -> Option<NodeInfo> {
        let i = self.active.iter().position(|a| a.conn == conn)?;
        Some(self.retire(i))
    }

    /// Removes the node called `name`, if any, and returns the connection it
    /// was registered on.
    pub fn unregister_name(&mut self, name: &str) -> Option<ConnId> {
        let i = self.active.iter().position(|a| a.node.name == name)?;
        let conn = self.active[i].conn;
        self.retire(i);
        Some(conn)
    }

    fn retire(&mut self, i: usize) -> NodeInfo {
        let active = self.active.remove(i);
        if self.unused.len() >= MAX_UNUSED {
            self.unused.pop_front();
        }
        self.unused.push_back(Unused {
            name: active.node.name.clone(),
            port: active.node.port,
            conn: active.conn,
            counter: active.counter,
        });
        active.node
    }

    /// The node registered as `name`.
    pub fn lookup(&self, name: &str) -> Option<&NodeInfo> {
        self.active
            .iter()
            .find(|a| a.node.name == name)
            .map(|a| &a.node)
    }

    /// How many nodes are registered.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// True when no node is registered.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// The NAMES reply for an EPMD listening on `epmd_port`.
    pub fn names(&self, epmd_port: u16) -> NamesReply {
        NamesReply {
            epmd_port: u32::from(epmd_port),
            nodes: self
                .active
                .iter()
                .map(|a| NameEntry {
                    name: a.node.name.clone(),
                    port: a.node.port,
                })
                .collect(),
        }
    }

    /// The DUMP reply; the connection number stands in for the fd.
    pub fn dump(&self, epmd_port: u16) -> DumpReply {
        let fd = |conn: ConnId| i32::try_from(conn.0).unwrap_or(i32::MAX);
        let active = self.active.iter().map(|a| DumpEntry {
            state: DumpState::Active,
            name: a.node.name.clone(),
            port: a.node.port,
            fd: fd(a.conn),
        });
        let unused = self.unused.iter().map(|u| DumpEntry {
            state: DumpState::Unused,
            name: u.name.clone(),
            port: u.port,
            fd: fd(u.conn),
        });
        DumpReply {
            epmd_port: u32::from(epmd_port),
            entries: active.chain(unused).collect(),
        }
    }
}

/// The next counter value, skipping 0..=3 (OTP's `bump_creation`).
fn bump(counter: u32) -> u32 {
    counter.wrapping_add(1).max(4)
}

/// The creation a node sees (OTP's `get_creation`).
fn creation_for(counter: u32, highest_version: u16) -> u32 {
    if highest_version >= 6 {
        counter
    } else {
        counter % 3 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeType;

    fn node(name: &str, high: u16) -> NodeInfo {
        let mut node = NodeInfo::new(name, 1000, NodeType::NORMAL);
        node.highest_version = high;
        node
    }

    #[test]
    fn creation_is_never_zero_and_changes_on_reregistration() {
        for seed in [0, 1, 2, 3, u32::MAX - 1, u32::MAX] {
            let mut reg = Registry::new(seed);
            let mut seen = Vec::new();
            for round in 0..5u64 {
                let creation = reg.register(ConnId(round), node("a", 6)).expect("free");
                assert!(creation >= 4, "seed {seed}: {creation}");
                assert!(
                    !seen.contains(&creation),
                    "seed {seed}: {seen:?} {creation}"
                );
                seen.push(creation);
                assert_eq!(
                    reg.unregister_conn(ConnId(round)).map(|n| n.name),
                    Some("a".into())
                );
            }
        }
    }

    #[test]
    fn legacy_nodes_get_creations_one_to_three_that_change() {
        let mut reg = Registry::new(7);
        let first = reg.register(ConnId(1), node("old", 5)).expect("free");
        assert!((1..=3).contains(&first));
        reg.unregister_conn(ConnId(1));
        let second = reg.register(ConnId(2), node("old", 5)).expect("free");
        assert!((1..=3).contains(&second));
        assert_ne!(first, second);
    }

    #[test]
    fn name_clash_and_limits() {
        let mut reg = Registry::new(0);
        reg.register(ConnId(1), node("a", 6)).expect("free");
        assert_eq!(
            reg.register(ConnId(2), node("a", 6)),
            Err(RegisterError::NameTaken)
        );
        let mut big = node("b", 6);
        big.extra = vec![0; MAX_NAME_BYTES + 1];
        assert_eq!(
            reg.register(ConnId(3), big),
            Err(RegisterError::ExtraTooLong)
        );
        for forged in ["c\nname d at port 4370", "e\r", "f\u{7f}", "g\u{85}"] {
            assert_eq!(
                reg.register(ConnId(4), node(forged, 6)),
                Err(RegisterError::ControlCharacter),
                "{forged:?}"
            );
        }
        assert_eq!(reg.len(), 1);
        assert_eq!(reg.lookup("a").map(|n| n.port), Some(1000));
        assert_eq!(reg.lookup("b"), None);
        assert_eq!(reg.names(4369).nodes.len(), 1);
    }

    #[test]
    fn names_newest_first_and_dump_lists_unused() {
        let mut reg = Registry::new(0);
        reg.register(ConnId(1), node("a", 6)).expect("free");
        reg.register(ConnId(2), node("b", 6)).expect("free");
        reg.register(ConnId(3), node("c", 6)).expect("free");
        assert_eq!(reg.unregister_name("b"), Some(ConnId(2)));
        assert_eq!(reg.unregister_name("b"), None);
        let names: Vec<_> = reg.names(4369).nodes.into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["c", "a"]);
        let dump = reg.dump(4369);
        let states: Vec<_> = dump
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.state, e.fd))
            .collect();
        assert_eq!(
            states,
            [
                ("c", DumpState::Active, 3),
                ("a", DumpState::Active, 1),
                ("b", DumpState::Unused, 2)
            ]
        );
    }

    #[test]
    fn unused_names_are_bounded() {
        let mut reg = Registry::new(0);
        for i in 0..(MAX_UNUSED as u64 + 10) {
            reg.register(ConnId(i), node(&format!("n{i}"), 6))
                .expect("free");
            reg.unregister_conn(ConnId(i));
        }
        assert_eq!(reg.unused.len(), MAX_UNUSED);
        assert!(reg.is_empty());
    }
}
