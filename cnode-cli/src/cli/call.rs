//! `cnode call NODE MOD FUN [ARGS]`: `rpc:call/4` from a hidden node.
//!
//! ARGS is one Erlang term, a list (`'[3, "abc", {a, b}]'`), `[]` when left
//! out. The value is printed in Erlang term syntax, laid out as `~p` does
//! (or as JSON with `--json`, nothing with `--quiet`); `{badrpc, Reason}`
//! prints `badrpc: Reason` and exits 70 (see [`exit_code`](super::exit_code)).

use std::process::ExitCode;

use clap::Args;
use etf::Term;

use super::atom_arg::atom_arg;
use super::node_error::NodeCliError;
use super::output::{self, ValueOutputArgs};
use super::session::{self, NodeOptions};

/// Arguments of `cnode call`.
#[derive(Args, Debug)]
pub(crate) struct CallArgs {
    /// The node: NAME (on this host) or NAME@HOST.
    node: String,
    /// The module, an atom (`lists`, `Elixir.Enum`; quotes as in Erlang
    /// are allowed).
    module: String,
    /// The function, an atom.
    function: String,
    /// The arguments: a list in Erlang term syntax.
    #[arg(default_value = "[]")]
    args: String,
    #[command(flatten)]
    output: ValueOutputArgs,
    #[command(flatten)]
    options: NodeOptions,
}

/// Runs `cnode call`.
pub(crate) fn run(args: CallArgs) -> ExitCode {
    let mode = args.output.mode();
    output::value(mode, call(args))
}

fn call(args: CallArgs) -> Result<Term, NodeCliError> {
    let mode = args.output.mode();
    let module = atom_arg("MOD", &args.module)?;
    let function = atom_arg("FUN", &args.function)?;
    let call_args = parse_args(&args.args)?;
    session::run(&args.options, &args.node, |session| async move {
        output::rpc(&session, mode)
            .call(
                &session.target,
                &module,
                &function,
                call_args,
                session.timeout,
            )
            .await
            .map_err(NodeCliError::from_rpc)
    })
}

/// The elements of the ARGS list.
fn parse_args(text: &str) -> Result<Vec<Term>, NodeCliError> {
    let term = etf::parse_term(text).map_err(|source| NodeCliError::BadTerm {
        what: "ARGS",
        source: Box::new(source),
    })?;
    term.to_list()
        .ok_or(NodeCliError::ArgsNotList { given: term })
}
