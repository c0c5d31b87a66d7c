//! Node events: connections coming up and going down.

use std::sync::Arc;
use std::time::Duration;
use std::{fmt, io, mem};

use dist_proto::ConnectionError;
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
///
/// Equality compares what happened, not the errors' details (which have
/// no equality of their own): two [`Protocol`](Self::Protocol) reasons are
/// equal when their [`ConnectionError`]s are the same variant, two
/// [`Io`](Self::Io) reasons when the operation and the
/// [`io::ErrorKind`] are the same.
#[derive(Clone, Debug, thiserror::Error)]
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
    /// The peer broke the protocol: the connection's state machine failed
    /// on what it sent.
    #[error("protocol error: {0}")]
    Protocol(#[source] Arc<ConnectionError>),
    /// Reading or writing the connection failed.
    #[error("I/O error while {op}: {source}")]
    Io {
        /// Whether reading or writing failed.
        op: IoOp,
        /// The error, shared by every copy of the event.
        source: Arc<io::Error>,
    },
    /// The local node shut down.
    #[error("the local node shut down")]
    Shutdown,
}

impl DownReason {
    /// Reading from the connection failed.
    pub(crate) fn read_failed(source: impl Into<Arc<io::Error>>) -> DownReason {
        DownReason::Io {
            op: IoOp::Read,
            source: source.into(),
        }
    }

    /// Writing to the connection failed.
    pub(crate) fn write_failed(source: impl Into<Arc<io::Error>>) -> DownReason {
        DownReason::Io {
            op: IoOp::Write,
            source: source.into(),
        }
    }
}

// Errors have no equality: see the type's documentation.
impl PartialEq for DownReason {
    fn eq(&self, other: &DownReason) -> bool {
        use DownReason::*;
        match (self, other) {
            (Closed, Closed)
            | (Disconnected, Disconnected)
            | (Replaced, Replaced)
            | (Shutdown, Shutdown) => true,
            (TickTimeout { silent: a }, TickTimeout { silent: b }) => a == b,
            (Protocol(a), Protocol(b)) => mem::discriminant(&**a) == mem::discriminant(&**b),
            (Io { op: a, source: x }, Io { op: b, source: y }) => a == b && x.kind() == y.kind(),
            // Listed, not `_`, so that a new variant must say how it compares.
            (
                Closed
                | TickTimeout { .. }
                | Disconnected
                | Replaced
                | Protocol(_)
                | Io { .. }
                | Shutdown,
                _,
            ) => false,
        }
    }
}

impl Eq for DownReason {}

/// What failed on a connection: reading from it or writing to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IoOp {
    /// Reading what the peer sent.
    Read,
    /// Writing to the peer.
    Write,
}

impl fmt::Display for IoOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoOp::Read => "reading",
            IoOp::Write => "writing",
        })
    }
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
    /// oldest missed events are skipped with a warning. Cancel safe: a
    /// `recv` dropped before it completes loses no event.
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

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn protocol() -> DownReason {
        DownReason::Protocol(Arc::new(ConnectionError::UnknownFrame { first: vec![9] }))
    }

    fn reset() -> io::Error {
        io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer")
    }

    #[test]
    fn display_and_source() {
        let cases = [
            (protocol(), "protocol error: unknown frame type [9]"),
            (
                DownReason::read_failed(reset()),
                "I/O error while reading: reset by peer",
            ),
            (
                DownReason::write_failed(reset()),
                "I/O error while writing: reset by peer",
            ),
        ];
        for (reason, text) in cases {
            assert_eq!(reason.to_string(), text);
            let source = reason.source().expect("a source");
            assert!(text.ends_with(&source.to_string()), "{reason:?}");
        }
        let reason = protocol();
        let source = reason
            .source()
            .and_then(|s| s.downcast_ref::<Arc<ConnectionError>>());
        assert!(matches!(
            source.map(|err| &**err),
            Some(ConnectionError::UnknownFrame { .. })
        ));
        let reason = DownReason::read_failed(reset());
        let source = reason
            .source()
            .and_then(|s| s.downcast_ref::<Arc<io::Error>>());
        assert_eq!(
            source.map(|err| err.kind()),
            Some(io::ErrorKind::ConnectionReset)
        );
        assert!(DownReason::Closed.source().is_none());
    }

    #[test]
    fn equality_by_kind() {
        assert_eq!(protocol(), protocol());
        assert_eq!(protocol(), protocol().clone());
        let other = DownReason::Protocol(Arc::new(ConnectionError::MissingPayload { op: 2 }));
        assert_ne!(protocol(), other);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(
            DownReason::read_failed(reset()),
            DownReason::read_failed(reset())
        );
        assert_ne!(
            DownReason::read_failed(reset()),
            DownReason::write_failed(reset())
        );
        assert_ne!(
            DownReason::read_failed(reset()),
            DownReason::read_failed(refused)
        );
        assert_ne!(protocol(), DownReason::Closed);
    }
}
