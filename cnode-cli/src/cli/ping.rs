//! `cnode ping NODE`: `net_adm:ping/1` from a hidden node.
//!
//! Prints `pong` and exits 0 when the node answers; otherwise prints `pang`
//! on stdout, why on stderr, and exits with the code of the failure (69
//! for a node that cannot be reached; see [`exit_code`](super::exit_code)).
//! A bad name or a node of ours that cannot start (no cookie file, no EPMD
//! to register with) prints no `pang`: that says nothing about the node.
//! `--quiet` prints nothing at all.

use std::process::ExitCode;

use clap::Args;

use super::exit_code::Exit;
use super::node_error::NodeCliError;
use super::output::{self, Mode, QuietArg};
use super::session::{self, NodeOptions};

/// Arguments of `cnode ping`.
#[derive(Args, Debug)]
pub(crate) struct PingArgs {
    /// The node: NAME (on this host) or NAME@HOST.
    node: String,
    #[command(flatten)]
    output: QuietArg,
    #[command(flatten)]
    options: NodeOptions,
}

/// Runs `cnode ping`.
pub(crate) fn run(args: PingArgs) -> ExitCode {
    let mode = args.output.mode();
    let outcome = session::run(&args.options, &args.node, |session| async move {
        session
            .node
            .ping(&session.target)
            .await
            .map_err(NodeCliError::from_ping)
    });
    let quiet = mode == Mode::Quiet;
    match outcome {
        Ok(()) if quiet => Exit::Ok.into(),
        Ok(()) => match session::print_line("pong") {
            Ok(()) => Exit::Ok.into(),
            Err(err) => output::failure(mode, &err),
        },
        // Mistakes of our own are not an answer about the node.
        Err(
            err @ (NodeCliError::BadNodeName { .. }
            | NodeCliError::Start(_)
            | NodeCliError::Dist(_)
            | NodeCliError::Runtime(_)),
        ) => output::failure(mode, &err),
        Err(err) => {
            if !quiet {
                // The reason matters more than a failed write of `pang`.
                let _ = session::print_line("pang");
            }
            output::failure(mode, &err)
        }
    }
}
