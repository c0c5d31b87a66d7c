//! `cnode ping NODE`: `net_adm:ping/1` from a hidden node.
//!
//! Prints `pong` and exits 0 when the node answers; otherwise prints `pang`
//! on stdout, why on stderr, and exits 1. A bad name or a node of ours that
//! cannot start (no cookie file, no EPMD to register with) prints no
//! `pang`: that says nothing about the node.

use clap::Args;

use super::node_error::NodeCliError;
use super::session::{self, NodeOptions};

/// Arguments of `cnode ping`.
#[derive(Args, Debug)]
pub(crate) struct PingArgs {
    /// The node: NAME (on this host) or NAME@HOST.
    node: String,
    #[command(flatten)]
    options: NodeOptions,
}

/// Runs `cnode ping`.
pub(crate) fn run(args: PingArgs) -> Result<(), NodeCliError> {
    let outcome = session::run(&args.options, &args.node, |session| async move {
        session
            .node
            .ping(&session.target)
            .await
            .map_err(NodeCliError::from_ping)
    });
    match outcome {
        Ok(()) => session::print_line("pong"),
        // Mistakes of our own are not an answer about the node.
        Err(
            err @ (NodeCliError::BadNodeName { .. }
            | NodeCliError::Start(_)
            | NodeCliError::Runtime(_)),
        ) => Err(err),
        Err(err) => {
            // The reason matters more than a failed write of `pang`.
            let _ = session::print_line("pang");
            Err(err)
        }
    }
}
