//! Messages as they reach a mailbox, and where messages go.

use etf::{Atom, Pid, Reference, Term};

/// A message as it reached a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The sender, where known: local sends and remote `SEND_SENDER` and
    /// `REG_SEND` carry it; a plain remote `SEND` does not.
    pub from: Option<Pid>,
    /// The message term.
    pub payload: Term,
}

/// Where a message goes: a pid (local or remote) or a name registered on a
/// node (`{Name, Node} ! Msg`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A process by pid.
    Pid(Pid),
    /// A registered name on a node (which may be this node).
    Name {
        /// The registered name.
        name: Atom,
        /// The node.
        node: Atom,
    },
    /// A process alias (OTP 24+): a reference made by `alias()`, on the
    /// reference's node. Messages to an inactive alias are dropped.
    Alias(Reference),
}

impl Dest {
    /// The node the destination lives on.
    pub fn node(&self) -> &Atom {
        match self {
            Dest::Pid(pid) => &pid.node,
            Dest::Name { node, .. } => node,
            Dest::Alias(alias) => &alias.node,
        }
    }
}

impl From<Pid> for Dest {
    fn from(pid: Pid) -> Dest {
        Dest::Pid(pid)
    }
}

impl From<&Pid> for Dest {
    fn from(pid: &Pid) -> Dest {
        Dest::Pid(pid.clone())
    }
}

impl From<Reference> for Dest {
    /// An alias.
    fn from(alias: Reference) -> Dest {
        Dest::Alias(alias)
    }
}

impl From<&Reference> for Dest {
    /// An alias.
    fn from(alias: &Reference) -> Dest {
        Dest::Alias(alias.clone())
    }
}

impl From<(&str, &str)> for Dest {
    /// `(name, node)`.
    fn from((name, node): (&str, &str)) -> Dest {
        Dest::Name {
            name: Atom::new(name),
            node: Atom::new(node),
        }
    }
}

impl From<(Atom, Atom)> for Dest {
    /// `(name, node)`.
    fn from((name, node): (Atom, Atom)) -> Dest {
        Dest::Name { name, node }
    }
}
