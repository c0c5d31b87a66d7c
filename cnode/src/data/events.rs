//! Node events: connections coming up and going down.

use std::time::Duration;

use etf::Atom;
use tokio::sync::broadcast;

/// A connection to a node came up or went down (`net_kernel:monitor_nodes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    /// A connection to `node` is up.
    NodeUp {
        /// The peer.
        node: Atom,
    },
    /// The connection to `node` is gone.
    NodeDown {
        /// The peer.
        node: Atom,
        /// Why.
        reason: DownReason,
    },
}

/// Why a connection went down.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DownReason {
    /// The peer closed the connection.
    #[error("connection closed by the peer")]
    Closed,
    /// The peer sent nothing, not even ticks, for too long (`net_tick_timeout`).
    #[error("no ticks from the peer for {silent:?}")]
    TickTimeout {
        /// How long the peer was silent.
        silent: Duration,
    },
    /// We disconnected it ([`Node::disconnect`](crate::Node::disconnect)).
    #[error("disconnected on request")]
    Disconnected,
    /// A new connection from the same node replaced this one.
    #[error("replaced by a new connection from the same node")]
    Replaced,
    /// The peer broke the protocol (the text says how).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Reading or writing the socket failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// The local node shut down.
    #[error("the local node shut down")]
    Shutdown,
}

/// A subscription to [`NodeEvent`]s, from [`Node::events`](crate::Node::events).
/// Events that happened before the subscription are not seen.
#[derive(Debug)]
pub struct NodeEvents {
    rx: broadcast::Receiver<NodeEvent>,
}

impl NodeEvents {
    pub(crate) fn new(rx: broadcast::Receiver<NodeEvent>) -> NodeEvents {
        NodeEvents { rx }
    }

    /// The next event; `None` once the node is shut down. If the
    /// subscriber fell more than the buffer (1024 events) behind, the
    /// oldest missed events are skipped with a warning.
    pub async fn recv(&mut self) -> Option<NodeEvent> {
        loop {
            match self.rx.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "node event subscriber fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<NodeEvent> {
        loop {
            match self.rx.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "node event subscriber fell behind");
                }
                Err(_) => return None,
            }
        }
    }
}
