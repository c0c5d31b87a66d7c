//! The messages the system sends a process, as typed values: `'DOWN'` of a
//! monitor, `'EXIT'` of a link while trapping exits, `{nodedown, Node}` of
//! `monitor_node`. [`Message::as_down`](crate::Message::as_down) and its
//! siblings read them out of a message.

use std::fmt;

use etf::{Atom, Pid, Reference, Term};

/// Why a process ended, or what an exit signal says: the reason term, with
/// the reasons the runtime itself gives named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `normal`: the process finished (or a [`Process`](crate::Process)
    /// was dropped).
    Normal,
    /// `killed`: the process got the untrappable `kill` signal.
    Killed,
    /// `noproc`: the target did not exist when the monitor or link was
    /// set up.
    NoProc,
    /// `noconnection`: the connection to the target's node was lost, or
    /// could not be set up.
    NoConnection,
    /// `shutdown`: ended by its supervisor.
    Shutdown,
    /// Any other reason, as it came: `{shutdown, Term}`, `{badarith, Stack}`,
    /// an atom of the application's own...
    Other(Term),
}

impl Reason {
    /// Names the runtime's own reasons; keeps any other term.
    pub fn from_term(term: Term) -> Reason {
        match term.as_atom().map(Atom::as_str) {
            Some("normal") => Reason::Normal,
            Some("killed") => Reason::Killed,
            Some("noproc") => Reason::NoProc,
            Some("noconnection") => Reason::NoConnection,
            Some("shutdown") => Reason::Shutdown,
            _ => Reason::Other(term),
        }
    }

    /// The reason as a term again.
    pub fn to_term(&self) -> Term {
        match self {
            Reason::Normal => Term::atom("normal"),
            Reason::Killed => Term::atom("killed"),
            Reason::NoProc => Term::atom("noproc"),
            Reason::NoConnection => Term::atom("noconnection"),
            Reason::Shutdown => Term::atom("shutdown"),
            Reason::Other(term) => term.clone(),
        }
    }

    /// Whether the process ended normally: `normal`, `shutdown` or
    /// `{shutdown, _}` (the reasons after which a supervisor's `transient`
    /// child is not restarted, and that a linked process trapping no exits
    /// survives only for `normal`).
    pub fn is_normal_or_shutdown(&self) -> bool {
        match self {
            Reason::Normal | Reason::Shutdown => true,
            Reason::Other(term) => {
                matches!(term.as_tuple(), Some([tag, _]) if tag.is_atom("shutdown"))
            }
            _ => false,
        }
    }
}

impl From<Term> for Reason {
    fn from(term: Term) -> Reason {
        Reason::from_term(term)
    }
}

impl From<Reason> for Term {
    fn from(reason: Reason) -> Term {
        reason.to_term()
    }
}

impl fmt::Display for Reason {
    /// The reason in Erlang syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_term(), f)
    }
}

/// A monitor fired: `{'DOWN', Ref, process, Object, Reason}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Down {
    /// The monitor's reference, as [`Process::monitor`](crate::Process::monitor)
    /// returned it.
    pub reference: Reference,
    /// What was monitored: the pid, or `{Name, Node}` for a monitor by
    /// name.
    pub object: Term,
    /// Why it ended.
    pub reason: Reason,
}

impl Down {
    /// Reads a `'DOWN'` message of a process monitor.
    pub fn from_term(term: &Term) -> Option<Down> {
        match term.as_tuple()? {
            [tag, Term::Reference(reference), kind, object, reason]
                if tag.is_atom("DOWN") && kind.is_atom("process") =>
            {
                Some(Down {
                    reference: reference.clone(),
                    object: object.clone(),
                    reason: Reason::from_term(reason.clone()),
                })
            }
            _ => None,
        }
    }

    /// The pid that ended, for a monitor by pid.
    pub fn pid(&self) -> Option<&Pid> {
        self.object.as_pid()
    }
}

/// An exit signal that reached a process trapping exits:
/// `{'EXIT', From, Reason}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The process that sent it: a linked process that ended, or a caller
    /// of `exit(Pid, Reason)`.
    pub from: Pid,
    /// The reason.
    pub reason: Reason,
}

impl Exit {
    /// Reads an `'EXIT'` message.
    pub fn from_term(term: &Term) -> Option<Exit> {
        match term.as_tuple()? {
            [tag, Term::Pid(from), reason] if tag.is_atom("EXIT") => Some(Exit {
                from: from.clone(),
                reason: Reason::from_term(reason.clone()),
            }),
            _ => None,
        }
    }
}

/// The connection to a node watched with
/// [`Process::monitor_node`](crate::Process::monitor_node) was lost, or
/// could not be set up: `{nodedown, Node}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeDown {
    /// The node.
    pub node: Atom,
}

impl NodeDown {
    /// Reads a `{nodedown, Node}` message.
    pub fn from_term(term: &Term) -> Option<NodeDown> {
        match term.as_tuple()? {
            [tag, Term::Atom(node)] if tag.is_atom("nodedown") => {
                Some(NodeDown { node: node.clone() })
            }
            _ => None,
        }
    }
}

/// A message the system sent, classified: see
/// [`Message::system`](crate::Message::system).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SystemMessage {
    /// A monitor fired.
    Down(Down),
    /// An exit signal, trapped.
    Exit(Exit),
    /// A watched node went down.
    NodeDown(NodeDown),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid() -> Pid {
        Pid {
            node: Atom::new("a@h"),
            id: 1,
            serial: 0,
            creation: 1,
        }
    }

    #[test]
    fn system_messages_are_read_and_others_are_not() {
        let reference = Reference {
            node: Atom::new("a@h"),
            creation: 1,
            ids: vec![1, 2, 3],
        };
        let down = Term::tuple(vec![
            Term::atom("DOWN"),
            Term::Reference(reference.clone()),
            Term::atom("process"),
            Term::Pid(pid()),
            Term::atom("noconnection"),
        ]);
        let read = Down::from_term(&down).expect("a DOWN");
        assert_eq!(read.reference, reference);
        assert_eq!(read.pid(), Some(&pid()));
        assert_eq!(read.reason, Reason::NoConnection);

        let exit = Term::tuple(vec![
            Term::atom("EXIT"),
            Term::Pid(pid()),
            Term::tuple(vec![Term::atom("shutdown"), Term::atom("bye")]),
        ]);
        let read = Exit::from_term(&exit).expect("an EXIT");
        assert!(read.reason.is_normal_or_shutdown());
        assert_eq!(read.reason.to_string(), "{shutdown,bye}");
        assert!(Down::from_term(&exit).is_none());

        let nodedown = Term::tuple(vec![Term::atom("nodedown"), Term::atom("b@h")]);
        assert_eq!(
            NodeDown::from_term(&nodedown).map(|n| n.node),
            Some(Atom::new("b@h"))
        );
        assert!(Exit::from_term(&Term::tuple(vec![Term::atom("EXIT"), Term::atom("x")])).is_none());
    }
}
