//! Command-line parsing and dispatch: one module per subcommand group or
//! node command, and for the node commands their shared session, errors
//! and atom arguments.

mod atom_arg;
mod call;
mod epmd;
mod eval;
mod node_error;
mod ping;
mod proto_dist;
mod send;
mod serve;
mod session;
mod term;
mod top;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Talk to Erlang: decode term dumps, query EPMD, reach nodes.
#[derive(Parser, Debug)]
#[command(name = "cnode", version, about)]
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
    /// Ping a node as net_adm:ping/1 does: prints pong, or pang and exit 1.
    Ping(ping::PingArgs),
    /// Call MOD:FUN(ARGS...) on a node (rpc:call/4) and print the value.
    Call(call::CallArgs),
    /// Evaluate Erlang expressions on a node and print the last value.
    Eval(eval::EvalArgs),
    /// Send a term to a process registered on a node ({NAME, NODE} ! TERM).
    Send(send::SendArgs),
    /// Watch a node live, as etop does: its figures and top processes by
    /// reductions, memory or message queue (`--once`, `--json` for scripts).
    Top(top::TopArgs),
    /// Run a named node until interrupted: answers pings, an `echo`
    /// process, and rpc functions (erlang:node/0, erlang:nodes/0,
    /// erlang:whereis/1, cnode:echo/1, cnode:sleep/1).
    Serve(serve::ServeArgs),
}

/// Parses the command line, runs the command and maps failure to exit code 1
/// with a one-line message on stderr.
pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Term(cmd) => term::run(cmd),
        Command::Epmd(cmd) => epmd::run(cmd),
        Command::Ping(args) => ping::run(args).map_err(|e| e.to_string()),
        Command::Call(args) => call::run(args).map_err(|e| e.to_string()),
        Command::Eval(args) => eval::run(args).map_err(|e| e.to_string()),
        Command::Send(args) => send::run(args).map_err(|e| e.to_string()),
        Command::Top(args) => top::run(args).map_err(|e| e.to_string()),
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
