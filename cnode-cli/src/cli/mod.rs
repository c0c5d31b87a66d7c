//! Command-line parsing and dispatch: one module per subcommand group or
//! node command, and for the node commands their shared session, errors,
//! exit codes, output modes and atom arguments.

mod atom_arg;
mod call;
mod epmd;
mod eval;
mod exit_code;
mod node_error;
mod output;
mod ping;
mod proto_dist;
mod remsh;
mod send;
mod serve;
mod session;
mod term;
mod top;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Talk to Erlang: decode term dumps, query EPMD, reach nodes.
#[derive(Parser, Debug)]
#[command(name = "cnode", version, about, after_long_help = exit_code::HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Convert between term_to_binary bytes and Erlang term syntax.
    #[command(subcommand)]
    Term(term::TermCommand),
    /// Query or run an EPMD (Erlang Port Mapper Daemon).
    #[command(subcommand)]
    Epmd(epmd::EpmdCommand),
    /// Ping a node as net_adm:ping/1 does: prints pong (exit 0), or pang
    /// and exits with the code of the failure (69: unreachable).
    #[command(after_long_help = exit_code::HELP)]
    Ping(ping::PingArgs),
    /// Call MOD:FUN(ARGS...) on a node (rpc:call/4) and print the value.
    #[command(after_long_help = value_help())]
    Call(call::CallArgs),
    /// Evaluate Erlang expressions on a node and print the last value.
    #[command(after_long_help = value_help())]
    Eval(eval::EvalArgs),
    /// An interactive Erlang shell on a node, as `erl -remsh` gives.
    /// Ctrl-D, or `q().` alone, leaves the shell and the node runs on
    /// (`init:stop().` stops it); Ctrl-C interrupts a running expression.
    /// History is kept in $XDG_DATA_HOME/cnode/remsh_history (or
    /// ~/.local/share/cnode/remsh_history); Tab completes through the
    /// node. Exit status: 0 on leaving, 69 if the connection is lost, 70
    /// if the shell on the node ends on its own, else the node commands'
    /// table (`cnode ping --help`).
    Remsh(remsh::RemshArgs),
    /// Send a term to a process registered on a node ({NAME, NODE} ! TERM).
    #[command(after_long_help = exit_code::HELP)]
    Send(send::SendArgs),
    /// Watch a node live, as etop does: its figures and top processes by
    /// reductions, memory or message queue (`--once`, `--json` for scripts).
    #[command(after_long_help = exit_code::HELP)]
    Top(top::TopArgs),
    /// Run a named node until interrupted: answers pings, an `echo`
    /// process, and rpc functions (erlang:node/0, erlang:nodes/0,
    /// erlang:whereis/1, cnode:echo/1, cnode:sleep/1).
    Serve(serve::ServeArgs),
}

/// The help after the options of `call` and `eval`: the JSON schema and
/// the exit codes.
fn value_help() -> String {
    format!("{}\n\n{}", output::JSON_HELP, exit_code::HELP)
}

/// Parses the command line (exit code 2 when it does not parse) and runs
/// the command. The node commands report and choose their exit code
/// themselves (see [`exit_code`]); the others exit 1 on failure, with a
/// one-line message on stderr.
pub(crate) fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout and are no failure.
            let _ = err.print();
            let exit = if err.use_stderr() {
                exit_code::Exit::Usage
            } else {
                exit_code::Exit::Ok
            };
            return exit.into();
        }
    };
    let result = match cli.command {
        Command::Remsh(args) => return remsh::run(args),
        Command::Term(cmd) => term::run(cmd),
        Command::Epmd(cmd) => epmd::run(cmd),
        Command::Ping(args) => return ping::run(args),
        Command::Call(args) => return call::run(args),
        Command::Eval(args) => return eval::run(args),
        Command::Send(args) => return send::run(args),
        Command::Top(args) => return top::run(args),
        Command::Serve(args) => serve::run(args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cnode: {message}");
            ExitCode::FAILURE
        }
    }
}
