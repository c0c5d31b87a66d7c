//! `cnode remsh NODE`: an interactive Erlang shell on a node, as
//! `erl -remsh NODE` gives, without Erlang installed here.
//!
//! Our node is the group leader ([`group`]) of the node's own shell
//! (`shell:start/1`, started by rpc with our process as group leader), so
//! prompts, bindings, `f()`, `b()`, `v(N)`, history numbering and the
//! printing of values are the node's release's own. Lines are edited here
//! ([`terminal`]), with history kept across runs in
//! `$XDG_DATA_HOME/cnode/remsh_history` (or
//! `~/.local/share/cnode/remsh_history`) and Tab completing through the
//! node's `edlin_expand` (or the `expand_fun` set with `io:setopts/1`).
//!
//! Leaving is safe by default: Ctrl-D, and `q().` typed alone, leave the
//! shell (the shell process on the node is killed) and the node runs on;
//! `init:stop().` and `halt().` still stop it. Ctrl-C while an expression
//! runs interrupts it (the shell survives, bindings kept); at the prompt
//! it abandons the line. Exit status, from the table of the node commands
//! ([`exit_code`](super::exit_code)): 0 when the user leaves, 69
//! (unreachable) when the connection to the node is lost (the node
//! stopped, or the network failed), 70 (call failed) when the shell
//! process on the node ends on its own, and the table's code of the
//! failure when the node cannot be reached at all.

mod group;
mod io_request;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use self::group::{Ending, Group};
use self::terminal::Terminal;
use super::exit_code::Exit;
use super::node_error::NodeCliError;
use super::session::{self, NodeOptions};

/// Arguments of `cnode remsh`.
#[derive(Args, Debug)]
pub(crate) struct RemshArgs {
    /// The node: NAME (on this host) or NAME@HOST.
    node: String,
    #[command(flatten)]
    options: NodeOptions,
}

/// Runs `cnode remsh`, reporting failures on stderr.
pub(crate) fn run(args: RemshArgs) -> ExitCode {
    let saved = TerminalState::save();
    let saved = &saved;
    let result = session::run_interactive(&args.options, &args.node, |session| async move {
        let terminal = Terminal::start(history_path()).map_err(NodeCliError::Output)?;
        let mut group = Group::new(&session.node, &session.target, terminal);
        let mut process = session.node.spawn_process()?;
        let ending = group.run(&session.node, &mut process).await;
        if group.is_reading() {
            // The editor may hold the terminal in raw mode.
            saved.restore();
        }
        if let Ok(Ending::Left) = ending {
            group.stop_shell(&process).await;
        }
        Ok((ending?, session.target))
    });
    saved.restore();
    match result {
        Ok((Ending::Left, _)) => ExitCode::SUCCESS,
        Ok((Ending::Lost, target)) => {
            eprintln!("\ncnode: the connection to {target} was lost");
            Exit::Unreachable.into()
        }
        Ok((Ending::ShellEnded(reason), target)) => {
            eprintln!("\ncnode: the shell on {target} ended: {reason}");
            Exit::CallFailed.into()
        }
        Err(err) => {
            eprintln!("cnode: {err}");
            Exit::from(&err).into()
        }
    }
}

/// `$XDG_DATA_HOME/cnode/remsh_history`, or under `~/.local/share`;
/// `None` (no history kept) without either variable.
fn history_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|dir| !dir.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        })?;
    Some(data.join("cnode").join("remsh_history"))
}

/// The terminal's settings at start, put back however the session ends
/// (the line editor's raw mode must not outlive us).
struct TerminalState(Option<rustix::termios::Termios>);

impl TerminalState {
    fn save() -> TerminalState {
        TerminalState(rustix::termios::tcgetattr(std::io::stdin()).ok())
    }

    fn restore(&self) {
        if let Some(termios) = &self.0 {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                termios,
            );
        }
    }
}
