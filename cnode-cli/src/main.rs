//! The `cnode` command-line tool: read term dumps, talk to EPMD and to nodes.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
