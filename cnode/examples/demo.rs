//! The Rust half of `scripts/demo.sh`: a hidden Rust node joins an Erlang
//! node, pings it, trades messages with its registered `greeter` both ways
//! (to a pid and to our registered name), and asks the Erlang side, while
//! connected, which nodes it sees.
//!
//! ```text
//! erl -sname demo_erl -setcookie demo_cookie   # with a `greeter`, see scripts/demo.sh
//! cargo run -p cnode --example demo -- demo_erl@$(hostname -s) demo_cookie
//! ```
//!
//! The greeter answers `{From, Msg}` with `{hello_from_erlang, Node, Msg}`
//! to `From`, and also sends `{by_name, Text}` to `{rusty, node(From)}`.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::Duration;

use cnode::Node;
use etf::Term;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("demo: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let peer = args.next().ok_or("usage: demo ERL_NODE COOKIE")?;
    let cookie = args.next().ok_or("usage: demo ERL_NODE COOKIE")?;
    let node = Node::builder("rust_demo")
        .cookie(&cookie)
        .start_epmd(false)
        .listen_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .start()
        .await?;
    println!("rust| started {} (a hidden node)", node.name());

    node.ping(&peer).await?;
    println!("rust| ping {peer}: pong");

    let mut rusty = node.spawn_process()?;
    rusty.register("rusty")?;
    let greeting = Term::tuple(vec![
        Term::Pid(rusty.pid().clone()),
        Term::binary("hello from Rust"),
    ]);
    rusty.send(("greeter", peer.as_str()), greeting)?;
    println!(
        "rust| sent {{{}, <<\"hello from Rust\">>}} to greeter",
        rusty.pid()
    );
    for _ in 0..2 {
        let message = rusty.recv_timeout(WAIT).await?;
        println!("rust| rusty got {}", message.payload);
    }

    let rpc = node.rpc();
    let visible = rpc.call(&peer, "erlang", "nodes", Vec::new(), WAIT).await?;
    let hidden = rpc
        .call(&peer, "erlang", "nodes", vec![Term::atom("hidden")], WAIT)
        .await?;
    println!("rust| on {peer}: nodes() = {visible}, nodes(hidden) = {hidden}");
    let me = Term::atom(node.name());
    let listed = |nodes: &Term| nodes.as_list().is_some_and(|l| l.contains(&me));
    if listed(&visible) || !listed(&hidden) {
        return Err("expected to be listed in nodes(hidden) only".into());
    }
    println!("rust| so the Erlang side sees us as hidden: in nodes(hidden), not in nodes()");

    node.shutdown().await;
    Ok(())
}
