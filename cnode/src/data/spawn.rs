//! Spawn requests and replies between nodes, as the core hands them to
//! the features that serve and make them.

use etf::{Atom, Pid, Reference, Term};

/// A `SPAWN_REQUEST` as received.
#[derive(Debug)]
pub(crate) struct SpawnRequest {
    pub(crate) req_id: Reference,
    pub(crate) from: Pid,
    pub(crate) module: Atom,
    pub(crate) function: Atom,
    pub(crate) opts: Term,
    pub(crate) args: Term,
}

/// A `SPAWN_REPLY` from a peer, for a spawn this node requested.
#[derive(Debug)]
pub(crate) struct SpawnReply {
    pub(crate) req_id: Reference,
    /// The local process that asked.
    pub(crate) to: Pid,
    pub(crate) flags: u8,
    /// The new pid, or the error atom.
    pub(crate) result: Term,
}
