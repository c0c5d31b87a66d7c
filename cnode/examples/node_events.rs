//! Node events: connect to the Erlang nodes given, then print every
//! nodeup and nodedown (stop or kill an Erlang node to see one; start it
//! again and ping us from it to see it come back).
//!
//! ```text
//! erl -sname erl -setcookie secret
//! cargo run -p cnode --example node_events -- secret erl@$(hostname -s)
//! ```
//!
//! From the Erlang side, `net_adm:ping('node_events_123@host')` connects
//! back (the example prints its name). Stops after 10 minutes.

use std::process::ExitCode;
use std::time::Duration;

use cnode::Node;

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
    let cookie = args.next().ok_or("usage: node_events COOKIE [NODE...]")?;
    let node = Node::builder(format!("node_events_{}", std::process::id()))
        .cookie(&cookie)
        .start()
        .await?;
    println!("this node: {}", node.name());
    let mut events = node.events();
    for peer in args {
        match node.connect(&peer).await {
            Ok(()) => println!("connected to {peer}"),
            Err(err) => println!("cannot connect to {peer}: {err}"),
        }
    }
    let watch = async {
        while let Some(event) = events.recv().await {
            println!("{event:?}; connected: {:?}", node.nodes());
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(600), watch).await;
    node.shutdown().await;
    Ok(())
}
