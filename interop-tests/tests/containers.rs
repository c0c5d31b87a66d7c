//! Erlang nodes in containers, each a host of its own on a private Docker
//! network, with the Rust node in the test process on the host: a mixed
//! OTP 25 / OTP 28 cluster, netsplits, killed hosts, slow links, the
//! embedded EPMD server serving a host that runs no `epmd`, and a cluster
//! with mutual TLS and no EPMD at all.
//!
//! Run on their own with `cargo test -p interop-tests --test containers`.
//! See CONTAINERS.md for the topology and what is still to come.

#[path = "containers/cluster.rs"]
mod cluster;
#[path = "containers/embedded_epmd.rs"]
mod embedded_epmd;
#[path = "containers/ipv6_only.rs"]
mod ipv6_only;
#[path = "containers/netsplit.rs"]
mod netsplit;
#[path = "containers/node_death.rs"]
mod node_death;
#[path = "containers/slow_network.rs"]
mod slow_network;
#[path = "containers/support.rs"]
mod support;
#[path = "containers/tls_cluster.rs"]
mod tls_cluster;
