//! Networking: the handshake pump, accepting and dialing connections, the
//! task that drives a connection, and the shared half of a connection
//! that processes write to.

pub(crate) mod accept;
pub(crate) mod dial;
pub(crate) mod driver;
pub(crate) mod handshake;
pub(crate) mod wire;
