//! Messages both ways: a greeting to a process registered on the Erlang
//! node, and a registered Rust process that answers every `{From, Msg}`
//! with `{reply, Msg}`.
//!
//! ```text
//! erl -sname erl -setcookie secret
//! 1> register(shell, self()).
//! cargo run -p cnode --example send_receive -- erl@$(hostname -s) secret
//! ```
//!
//! Then, in the Erlang shell (the example prints its node name):
//!
//! ```erlang
//! flush().                                  % {hello_from_rust, <pid>}
//! {rusty, 'send_receive_123@host'} ! {self(), [1, 2.5, <<"bin">>]}.
//! flush().                                  % {reply, [1, 2.5, <<"bin">>]}
//! {rusty, 'send_receive_123@host'} ! stop.
//! ```

use std::process::ExitCode;

use cnode::Node;
use etf::Term;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let peer = args.next().ok_or("usage: send_receive NODE [COOKIE]")?;
    let mut builder = Node::builder(format!("send_receive_{}", std::process::id()));
    if let Some(cookie) = args.next() {
        builder = builder.cookie(&cookie);
    }
    let node = builder.start().await?;
    println!("this node: {}", node.name());
    let mut rusty = node.spawn_process()?;
    rusty.register("rusty")?;

    // `{shell, Peer} ! {hello_from_rust, self()}`: the connection is set up
    // by this first send.
    let greeting = Term::tuple(vec![
        Term::atom("hello_from_rust"),
        Term::Pid(rusty.pid().clone()),
    ]);
    rusty.send(("shell", peer.as_str()), greeting)?;

    loop {
        let message = rusty.recv().await?;
        println!("got {} from {:?}", message.payload, message.from);
        if message.payload.is_atom("stop") {
            break;
        }
        if let Some([from, msg]) = message.payload.as_tuple() {
            if let Some(from) = from.as_pid() {
                rusty.send(from, Term::tuple(vec![Term::atom("reply"), msg.clone()]))?;
            }
        }
    }
    node.shutdown().await;
    Ok(())
}
