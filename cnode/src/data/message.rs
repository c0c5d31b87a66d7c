//! Messages as they reach a mailbox, and where messages go.

use etf::{Atom, Pid, Reference, Term};
use serde::de::DeserializeOwned;

use crate::data::system::{Down, Exit, NodeDown, SystemMessage};

/// A message as it reached a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The sender, where known: local sends and remote `SEND_SENDER` and
    /// `REG_SEND` carry it; a plain remote `SEND` does not.
    pub from: Option<Pid>,
    /// The message term.
    pub payload: Term,
}

impl Message {
    /// The payload as a Rust value, through [`etf::serde`]'s mapping.
    ///
    /// ```
    /// use cnode::Message;
    /// use etf::Term;
    ///
    /// let message = Message { from: None, payload: Term::tuple(vec![Term::atom("add"), 2.into()]) };
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// #[serde(rename_all = "snake_case")]
    /// enum Op { Add(i64), Reset }
    /// assert_eq!(message.decode::<Op>()?, Op::Add(2));
    /// # Ok::<(), etf::serde::Error>(())
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, etf::serde::Error> {
        etf::serde::from_term(&self.payload)
    }

    /// The `'DOWN'` of a process monitor, if this is one.
    pub fn as_down(&self) -> Option<Down> {
        Down::from_term(&self.payload)
    }

    /// The trapped exit signal (`{'EXIT', From, Reason}`), if this is one.
    pub fn as_exit(&self) -> Option<Exit> {
        Exit::from_term(&self.payload)
    }

    /// The `{nodedown, Node}` of `monitor_node`, if this is one.
    pub fn as_nodedown(&self) -> Option<NodeDown> {
        NodeDown::from_term(&self.payload)
    }

    /// The message as one the system sends (`'DOWN'`, `'EXIT'`,
    /// `nodedown`), if it is one of them.
    ///
    /// A process can send these shapes too: a message is classified by its
    /// shape alone, as an Erlang `receive` pattern would match it.
    ///
    /// ```
    /// # async fn demo(mut process: cnode::Process) -> Result<(), cnode::Error> {
    /// use cnode::{Reason, SystemMessage};
    ///
    /// let message = process.recv().await?;
    /// match message.system() {
    ///     Some(SystemMessage::Down(down)) if down.reason == Reason::NoConnection => {
    ///         println!("lost the node of {}", down.object);
    ///     }
    ///     Some(SystemMessage::Exit(exit)) => println!("{} exited: {}", exit.from, exit.reason),
    ///     _ => println!("got {}", message.payload),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn system(&self) -> Option<SystemMessage> {
        self.as_down()
            .map(SystemMessage::Down)
            .or_else(|| self.as_exit().map(SystemMessage::Exit))
            .or_else(|| self.as_nodedown().map(SystemMessage::NodeDown))
    }
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
