//! `cnode serve`: a named Rust node that runs until interrupted (Ctrl-C or
//! SIGTERM), answers pings, runs an `echo` process and serves a few
//! functions to `rpc:call` and `erpc:call`.
//!
//! - `{echo, Node} ! {Pid, Msg}` answers `{echo, Msg}` to `Pid`.
//! - `erlang:node/0` answers this node's name, `erlang:nodes/0` the nodes
//!   connected to it, `erlang:whereis/1` the pid of a registered Rust
//!   process, `cnode:echo/1` its argument, and `cnode:sleep/1`
//!   `ok` after that many milliseconds (to try caller timeouts).
//!
//! It prints `serving NAME` once ready, and logs to stderr with `RUST_LOG`.

use std::net::IpAddr;
use std::time::Duration;

use clap::Args;
use cnode::{Exception, Node, NodeError, NodeName, Process, RegisterError};
use etf::Term;

use super::proto_dist::{CarrierArgs, DistOptionError};

/// `cnode serve` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The node could not start.
    #[error("cannot start the node: {0}")]
    Start(#[from] NodeError),
    /// The distribution options do not go together, or the optfile
    /// cannot be used.
    #[error(transparent)]
    Dist(#[from] DistOptionError),
    /// The `echo` name could not be registered.
    #[error("cannot register echo: {0}")]
    Register(#[from] RegisterError),
    /// Standard output is closed.
    #[error("cannot write to stdout: {0}")]
    Output(#[source] std::io::Error),
}

/// Arguments of `cnode serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// The node's short name, NAME or NAME@HOST [default: cnode].
    #[arg(long, value_name = "NAME", conflicts_with = "name")]
    sname: Option<String>,
    /// The node's long name, NAME or NAME@HOST (HOST defaults to this
    /// machine's full host name, as with erl -name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The magic cookie [default: the content of ~/.erlang.cookie].
    #[arg(long)]
    cookie: Option<String>,
    /// EPMD port [default: ERL_EPMD_PORT or 4369]. An EPMD is started in
    /// the process when none answers.
    #[arg(long, conflicts_with = "erl_epmd_port")]
    epmd_port: Option<u16>,
    /// Without EPMD: listen on PORT and reach every node at PORT, as erl
    /// -start_epmd false -erl_epmd_port PORT; no EPMD is started, asked or
    /// registered with.
    #[arg(long, value_name = "PORT")]
    erl_epmd_port: Option<u16>,
    #[command(flatten)]
    carrier: CarrierArgs,
    /// The address to accept connections on (`::` takes IPv4 too)
    /// [default: loopback, 127.0.0.1 and ::1].
    #[arg(long, value_name = "ADDRESS")]
    listen: Option<IpAddr>,
    /// net_ticktime in seconds (as `erl -kernel net_ticktime`).
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    net_ticktime: Option<u64>,
}

/// Runs `cnode serve` until interrupted.
pub(crate) fn run(args: ServeArgs) -> Result<(), ServeError> {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .try_init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let name = match (&args.name, &args.sname) {
        (Some(long), _) => NodeName::long(long),
        (None, short) => NodeName::short(short.as_deref().unwrap_or("cnode")),
    };
    let name = name.map_err(|source| NodeError::BadName {
        name: args.name.clone().or(args.sname.clone()).unwrap_or_default(),
        source,
    })?;
    let mut builder = match args.listen {
        Some(address) => Node::builder(name).listen_address(address),
        None => Node::builder(name).listen_loopback(),
    };
    builder = super::proto_dist::configure(builder, args.carrier.dist(args.erl_epmd_port))?;
    if let Some(cookie) = &args.cookie {
        builder = builder.cookie(cookie);
    }
    if let Some(port) = args.epmd_port {
        builder = builder.epmd_port(port);
    }
    if let Some(seconds) = args.net_ticktime {
        builder = builder.net_ticktime(Duration::from_secs(seconds));
    }
    let node = builder.start().await?;
    register_functions(&node);
    let echo = node.spawn_process().map_err(NodeError::from)?;
    echo.register("echo")?;
    let echo_task = tokio::spawn(run_echo(echo));
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "serving {}", node.name())
            .and_then(|()| out.flush())
            .map_err(ServeError::Output)?;
    }
    wait_for_interrupt().await;
    echo_task.abort();
    node.shutdown().await;
    Ok(())
}

/// The functions `cnode serve` offers.
fn register_functions(node: &Node) {
    let name = Term::atom(node.name());
    node.register_function("erlang", "node", move |args| match args.as_slice() {
        [] => Ok(name.clone()),
        _ => Err(Exception::badarg()),
    });
    let handle = node.clone();
    node.register_function("erlang", "nodes", move |args| match args.as_slice() {
        [] => Ok(Term::list(
            handle.nodes().iter().map(|n| Term::atom(n)).collect(),
        )),
        _ => Err(Exception::badarg()),
    });
    let handle = node.clone();
    node.register_function("erlang", "whereis", move |args| match args.as_slice() {
        [Term::Atom(name)] => Ok(handle
            .whereis(name.as_str())
            .map_or_else(|| Term::atom("undefined"), Term::Pid)),
        _ => Err(Exception::badarg()),
    });
    node.register_function("cnode", "echo", |args| match <[Term; 1]>::try_from(args) {
        Ok([term]) => Ok(term),
        Err(_) => Err(Exception::badarg()),
    });
    node.register_async_function("cnode", "sleep", |args| async move {
        let millis = match args.as_slice() {
            [ms] => ms.as_u64().ok_or_else(Exception::badarg)?,
            _ => return Err(Exception::badarg()),
        };
        tokio::time::sleep(Duration::from_millis(millis)).await;
        Ok(Term::atom("ok"))
    });
}

/// `{Pid, Msg}` -> `{echo, Msg}` to `Pid`; anything else is dropped.
async fn run_echo(mut echo: Process) {
    while let Ok(message) = echo.recv().await {
        if let Some([Term::Pid(from), payload]) = message.payload.as_tuple() {
            let answer = Term::tuple(vec![Term::atom("echo"), payload.clone()]);
            if let Err(err) = echo.send(from, answer) {
                tracing::warn!(%err, "echo: cannot answer");
            }
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_interrupt() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
