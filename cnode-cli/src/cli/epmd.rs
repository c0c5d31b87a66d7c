//! `cnode epmd`: query an EPMD, or serve as one.

use std::net::IpAddr;
use std::time::Duration;

use clap::{Args, Subcommand};
use epmd_client::{
    port_from_env, DumpState, EpmdClient, EpmdServer, KillReply, NodeInfo, StopReply,
};

/// `cnode epmd` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum EpmdCommand {
    /// List registered nodes, printed as `epmd -names` does.
    Names(Target),
    /// Look a node up (PORT_PLEASE2) and print what EPMD knows about it.
    Port {
        /// The node name without `@host`.
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Print EPMD's dump of active and old registrations.
    Dump(Target),
    /// Ask EPMD to exit, as `epmd -kill` does.
    Kill(Target),
    /// Forcibly unregister a node, as `epmd -stop NAME` does (EPMD must run
    /// with the relaxed command check).
    Stop {
        /// The node name without `@host`.
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// Run an EPMD server, a drop-in for `epmd -daemon`, until SIGINT,
    /// SIGTERM or a KILL request.
    Serve(ServeArgs),
}

/// Which EPMD to talk to.
#[derive(Args, Debug)]
pub(crate) struct Target {
    /// EPMD host.
    #[arg(long, default_value = "localhost")]
    host: String,
    /// EPMD port [default: ERL_EPMD_PORT or 4369].
    #[arg(long)]
    port: Option<u16>,
    /// Seconds to wait for EPMD.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

impl Target {
    fn client(&self) -> EpmdClient {
        EpmdClient::new(self.host.clone(), self.port.unwrap_or_else(port_from_env))
            .with_timeout(Duration::from_secs(self.timeout))
    }
}

/// Options of `cnode epmd serve`, named after `epmd`'s.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Port to listen on [default: ERL_EPMD_PORT or 4369].
    #[arg(long)]
    port: Option<u16>,
    /// Addresses to listen on, comma-separated; loopback is always added.
    /// Without it, listen on all addresses.
    #[arg(long, value_delimiter = ',')]
    address: Vec<IpAddr>,
    /// Allow KILL with live nodes and STOP (also set by
    /// ERL_EPMD_RELAXED_COMMAND_CHECK).
    #[arg(long)]
    relaxed_command_check: bool,
    /// Most connections open at once.
    #[arg(long, default_value_t = epmd_client::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Seconds a client may take to send its request.
    #[arg(long, default_value_t = epmd_client::DEFAULT_REQUEST_TIMEOUT.as_secs())]
    packet_timeout: u64,
}

/// Runs a `cnode epmd` subcommand.
pub(crate) fn run(cmd: EpmdCommand) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        match cmd {
            EpmdCommand::Names(target) => names(&target).await,
            EpmdCommand::Port { name, target } => port(&target, &name).await,
            EpmdCommand::Dump(target) => dump(&target).await,
            EpmdCommand::Kill(target) => kill(&target).await,
            EpmdCommand::Stop { name, target } => stop(&target, &name).await,
            EpmdCommand::Serve(args) => serve(args).await,
        }
    })
}

async fn names(target: &Target) -> Result<(), String> {
    let names = target.client().names().await.map_err(|e| e.to_string())?;
    print!(
        "epmd: up and running on port {} with data:\n{}",
        names.epmd_port,
        names.text()
    );
    Ok(())
}

async fn port(target: &Target, name: &str) -> Result<(), String> {
    let node: NodeInfo = target
        .client()
        .lookup(name)
        .await
        .map_err(|e| e.to_string())?;
    println!("name {}", node.name);
    println!("port {}", node.port);
    let kind = if node.node_type.is_hidden() {
        "hidden"
    } else {
        "normal"
    };
    println!("type {} ({kind})", node.node_type.0);
    println!("protocol {}", node.protocol);
    println!("versions {}..{}", node.lowest_version, node.highest_version);
    if !node.extra.is_empty() {
        println!("extra {:?}", String::from_utf8_lossy(&node.extra));
    }
    Ok(())
}

async fn dump(target: &Target) -> Result<(), String> {
    let dump = target.client().dump().await.map_err(|e| e.to_string())?;
    println!("epmd: up and running on port {} with data:", dump.epmd_port);
    for entry in dump.entries {
        match entry.state {
            DumpState::Active => println!(
                "active name     <{}> at port {}, fd = {}",
                entry.name, entry.port, entry.fd
            ),
            DumpState::Unused => println!(
                "old/unused name <{}>, port = {}, fd = {}",
                entry.name, entry.port, entry.fd
            ),
        }
    }
    Ok(())
}

async fn kill(target: &Target) -> Result<(), String> {
    match target.client().kill().await.map_err(|e| e.to_string())? {
        KillReply::Killed => {
            println!("Killed");
            Ok(())
        }
        KillReply::Refused => Err("Killing not allowed - living nodes in database.".into()),
    }
}

async fn stop(target: &Target, name: &str) -> Result<(), String> {
    match target
        .client()
        .stop(name)
        .await
        .map_err(|e| e.to_string())?
    {
        StopReply::Stopped => {
            println!("STOPPED");
            Ok(())
        }
        StopReply::NoExist => Err(format!("NOEXIST: no node {name:?} is registered")),
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let relaxed =
        args.relaxed_command_check || std::env::var_os("ERL_EPMD_RELAXED_COMMAND_CHECK").is_some();
    let mut builder = EpmdServer::builder()
        .port(args.port.unwrap_or_else(port_from_env))
        .relaxed_command_check(relaxed)
        .max_connections(args.max_connections)
        .request_timeout(Duration::from_secs(args.packet_timeout));
    for address in args.address {
        builder = builder.address(address);
    }
    let server = builder.bind().await.map_err(|e| e.to_string())?;
    let handle = server.spawn();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    tokio::select! {
        () = handle.stopped() => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
