//! `net_adm:ping/1` from Rust.
//!
//! Start an Erlang node, then ping it:
//!
//! ```text
//! erl -sname erl -setcookie secret
//! cargo run -p cnode --example ping -- erl@$(hostname -s) secret
//! ```
//!
//! The cookie argument is optional (default: `~/.erlang.cookie`). Prints
//! `pong`, or `pang` and why.

use std::process::ExitCode;

use cnode::Node;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt::init();
    let mut args = std::env::args().skip(1);
    let Some(peer) = args.next() else {
        eprintln!("usage: ping NODE [COOKIE]");
        return ExitCode::FAILURE;
    };
    let mut builder = Node::builder(format!("ping_{}", std::process::id()));
    if let Some(cookie) = args.next() {
        builder = builder.cookie(&cookie);
    }
    let node = match builder.start().await {
        Ok(node) => node,
        Err(err) => {
            eprintln!("cannot start a node: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = node.ping(&peer).await;
    node.shutdown().await;
    match result {
        Ok(()) => {
            println!("pong");
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("pang: {err}");
            ExitCode::FAILURE
        }
    }
}
