//! What the runtime needs of a connection that is up: the seam between
//! the state and runtime layers and the networking that carries the bytes
//! (`net::wire` over TCP; another stream type plugs in here).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use dist_proto::{ControlMessage, DistFlags};
use etf::Term;

/// A connection that is up, as processes and the core send on it.
pub(crate) trait Channel: fmt::Debug + Send + Sync {
    /// The flags negotiated with the peer.
    fn flags(&self) -> DistFlags;

    /// Queues a signal or answer; never refused (signals must not be
    /// lost), dropped if the connection is closing.
    fn send(&self, control: ControlMessage, payload: Option<Term>);

    /// Queues a message, unless more than the send buffer limit waits
    /// for the peer or the payload needs flags the peer lacks.
    fn send_message(&self, control: ControlMessage, payload: Term) -> Result<(), NotSent>;

    /// Ready once the backlog is under the send buffer limit (or the
    /// connection is closing).
    fn room(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// Closes the connection: `disconnect_node`, or a replacement.
    fn disconnect(&self);
}

/// Why the connection did not take a message.
#[derive(Debug)]
pub(crate) enum NotSent {
    /// More than the limit waits for the socket: the bytes waiting, and
    /// the payload back, to send again once there is room.
    Busy(usize, Term),
    /// The payload needs flags the peer did not negotiate (a native record
    /// for a node before OTP 29). The connection is unharmed.
    PeerLacks {
        /// The flags the payload needs.
        missing: DistFlags,
        /// What in the payload needs them.
        what: String,
    },
}
