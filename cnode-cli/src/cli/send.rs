//! `cnode send NODE NAME TERM`: `{NAME, NODE} ! TERM` from a hidden node.
//!
//! The message goes as a REG_SEND from a process of ours. A send in Erlang
//! does not fail when nobody has the name, and neither does this; but the
//! command waits until the node has the message (a ping over the same
//! connection, which is ordered, comes back after it), so that it can exit
//! without losing it. Prints nothing on success; a failure prints one line
//! on stderr (nothing with `--quiet`) and exits with its code (see
//! [`exit_code`](super::exit_code)).

use std::process::ExitCode;

use clap::Args;

use super::atom_arg::atom_arg;
use super::exit_code::Exit;
use super::node_error::NodeCliError;
use super::output::{self, QuietArg};
use super::session::{self, NodeOptions};

/// Arguments of `cnode send`.
#[derive(Args, Debug)]
pub(crate) struct SendArgs {
    /// The node: NAME (on this host) or NAME@HOST.
    node: String,
    /// The registered name on that node, an atom (quotes as in Erlang are
    /// allowed).
    #[arg(value_name = "NAME")]
    registered: String,
    /// The message, in Erlang term syntax.
    term: String,
    #[command(flatten)]
    output: QuietArg,
    #[command(flatten)]
    options: NodeOptions,
}

/// Runs `cnode send`.
pub(crate) fn run(args: SendArgs) -> ExitCode {
    match send(&args) {
        Ok(()) => Exit::Ok.into(),
        Err(err) => output::failure(args.output.mode(), &err),
    }
}

fn send(args: &SendArgs) -> Result<(), NodeCliError> {
    let message = etf::parse_term(&args.term).map_err(|source| NodeCliError::BadTerm {
        what: "TERM",
        source: Box::new(source),
    })?;
    let name = atom_arg("NAME", &args.registered)?;
    session::run(&args.options, &args.node, |session| async move {
        let process = session.node.spawn_process()?;
        process.send((name.as_str(), session.target.as_str()), message)?;
        session
            .node
            .ping(&session.target)
            .await
            .map_err(NodeCliError::from_ping)
    })
}
