//! rpc to an Erlang node: `rpc:call`, a timeout, `{badrpc, _}`, an async
//! call, a multicall and a cast.
//!
//! ```text
//! erl -sname erl -setcookie secret
//! cargo run -p cnode --example rpc -- erl@$(hostname -s) secret
//! ```

use std::process::ExitCode;
use std::time::Duration;

use cnode::{Node, RpcError};
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
    let peer = args.next().ok_or("usage: rpc NODE [COOKIE]")?;
    let mut builder = Node::builder(format!("rpc_{}", std::process::id()));
    if let Some(cookie) = args.next() {
        builder = builder.cookie(&cookie);
    }
    let node = builder.start().await?;
    let rpc = node.rpc();
    let limit = Duration::from_secs(5);

    let name = rpc.call(&peer, "erlang", "node", vec![], limit).await?;
    println!("erlang:node() = {name}");

    let list = Term::list(vec![3.into(), Term::atom("b"), 1.into(), Term::atom("a")]);
    let sorted = rpc.call(&peer, "lists", "sort", vec![list], limit).await?;
    println!("lists:sort/1 = {sorted}");

    match rpc
        .call(
            &peer,
            "timer",
            "sleep",
            vec![2000.into()],
            Duration::from_millis(200),
        )
        .await
    {
        Err(RpcError::Timeout { after, .. }) => {
            println!("timer:sleep(2000) timed out after {after:?}")
        }
        other => println!("timer:sleep(2000) = {other:?}"),
    }
    match rpc
        .call(&peer, "erlang", "binary_to_atom", vec![42.into()], limit)
        .await
    {
        Err(RpcError::BadRpc { reason, .. }) => println!("badrpc: {reason}"),
        other => println!("binary_to_atom(42) = {other:?}"),
    }

    let pending = rpc.async_call(
        &peer,
        "erlang",
        "system_info",
        vec![Term::atom("otp_release")],
    );
    println!("OTP release (async) = {}", pending.await?);

    let multi = rpc
        .multicall(
            &[peer.as_str(), "nobody@localhost"],
            "erlang",
            "node",
            vec![],
            limit,
        )
        .await;
    println!("multicall replies: {:?}", multi.replies);
    println!("multicall bad nodes: {:?}", multi.bad_nodes);

    // A cast has no caller to send output to, so `erlang:display/1`: it
    // prints on the Erlang node's own standard output.
    rpc.cast(
        &peer,
        "erlang",
        "display",
        vec![Term::atom("hello_from_a_rust_cast")],
    )?;
    // Let the cast leave before shutting down.
    tokio::time::sleep(Duration::from_millis(200)).await;
    node.shutdown().await;
    Ok(())
}
