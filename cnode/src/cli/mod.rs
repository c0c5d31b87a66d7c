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
mod remsh;
mod send;
mod serve;
mod session;
mod term;

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
    /// An interactive Erlang shell on a node, as `erl -remsh` gives.
    /// Ctrl-D, or `q().` alone, leaves the shell and the node runs on
    /// (`init:stop().` stops it); Ctrl-C interrupts a running expression.
    /// History is kept in $XDG_DATA_HOME/cnode/remsh_history (or
    /// ~/.local/share/cnode/remsh_history); Tab completes through the
    /// node. Exit status: 0 on leaving, 1 if the node cannot be reached,
    /// 3 if the connection is lost, 4 if the shell on the node ends.
    Remsh(remsh::RemshArgs),
    /// Send a term to a process registered on a node ({NAME, NODE} ! TERM).
    Send(send::SendArgs),
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
        Command::Remsh(args) => return remsh::run(args),
        Command::Term(cmd) => term::run(cmd),
        Command::Epmd(cmd) => epmd::run(cmd),
        Command::Ping(args) => ping::run(args).map_err(|e| e.to_string()),
        Command::Call(args) => call::run(args).map_err(|e| e.to_string()),
        Command::Eval(args) => eval::run(args).map_err(|e| e.to_string()),
        Command::Send(args) => send::run(args).map_err(|e| e.to_string()),
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
