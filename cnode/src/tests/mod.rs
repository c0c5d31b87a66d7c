//! The runtime in memory: nodes on a [`MemoryNetwork`], connected by
//! in-memory pipes, under tokio's paused clock. Each test runs in
//! milliseconds and the same way every time; the interop tests against
//! real `erl` remain the proof of compatibility.

use std::time::Duration;

use etf::Term;

use crate::net::memory::MemoryNetwork;
use crate::{Node, NodeEvent, NodeEvents};

mod connect;
mod features;
mod flow;
mod scripted;
mod signals;
mod strangers;
mod ticks;
mod typed;

/// The cookie of every node in these tests.
const COOKIE: &str = "in-memory";

/// A node named `name` on `network`, with the default settings.
fn node(network: &MemoryNetwork, name: &str) -> Node {
    node_with(network, name, |builder| builder)
}

/// A node named `name` on `network`, the builder adjusted by `adjust`.
fn node_with(
    network: &MemoryNetwork,
    name: &str,
    adjust: impl FnOnce(crate::NodeBuilder) -> crate::NodeBuilder,
) -> Node {
    adjust(Node::builder(name).cookie(COOKIE))
        .start_in_memory(network, 1)
        .expect("node starts")
}

/// The next node event, failing the test if none comes within `within`
/// (of the paused clock).
async fn next_event(events: &mut NodeEvents, within: Duration) -> NodeEvent {
    tokio::time::timeout(within, events.recv())
        .await
        .expect("an event in time")
        .expect("the node is up")
}

/// `{Tag, Value}`.
fn tagged(tag: &str, value: Term) -> Term {
    Term::tuple(vec![Term::atom(tag), value])
}
