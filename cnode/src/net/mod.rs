//! Networking: the handshake pump, accepting and dialing connections, the
//! task that drives a connection, and the shared half of a connection
//! that processes write to; all of it over any [`transport::Transport`]
//! (TCP, and in-memory pipes in the tests).

pub(crate) mod accept;
pub(crate) mod clock;
pub(crate) mod dial;
pub(crate) mod driver;
pub(crate) mod gate;
pub(crate) mod handshake;
pub(crate) mod listen;
#[cfg(test)]
pub(crate) mod memory;
pub(crate) mod resolve;
pub(crate) mod tls;
pub(crate) mod transport;
pub(crate) mod wire;
