//! The short-lived hidden node behind `cnode ping`, `call`, `eval` and
//! `send`: the options they share, naming our node and the target, and
//! setting up the one connection they use.
//!
//! The target is looked up in EPMD before our node starts, so that a node
//! that does not run is reported as such rather than as a failed
//! connection. Without `--sname`/`--name`, our node takes a dynamic name
//! from the target (as `erl -sname undefined`): it registers nowhere and
//! listens nowhere, so any number of commands run at once. With a name,
//! it registers with the EPMD already running on this host (it never
//! starts one: it would die with the command), listens on loopback only,
//! and unregisters when the command ends. With `--erl-epmd-port PORT` no
//! EPMD is involved: the target is dialed at PORT, and a named node of
//! ours, which only dials, listens on a free port.

use std::future::Future;
use std::time::Duration;

use clap::Args;
use cnode::{Node, NodeError, NodeName};
use epmd_client::{ClientError, EpmdClient};

use super::node_error::NodeCliError;
use super::proto_dist::CarrierArgs;

/// Options shared by the commands that reach a node.
#[derive(Args, Debug)]
pub(crate) struct NodeOptions {
    /// Our node's short name, NAME or NAME@HOST [default: a dynamic name
    /// the target gives, registered nowhere].
    #[arg(long, value_name = "NAME", conflicts_with = "name")]
    sname: Option<String>,
    /// Our node's long name, NAME or NAME@HOST (HOST defaults to this
    /// machine's full host name); bare target names then get it too.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The magic cookie [default: the content of ~/.erlang.cookie].
    #[arg(long)]
    cookie: Option<String>,
    /// Seconds the whole command may take (1 to 86400); for `remsh`,
    /// connecting only.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    timeout: u64,
    /// EPMD port, on this host and the target's [default: ERL_EPMD_PORT or
    /// 4369].
    #[arg(long, conflicts_with = "erl_epmd_port")]
    epmd_port: Option<u16>,
    /// Without EPMD: the target listens on PORT (erl -start_epmd false
    /// -erl_epmd_port PORT); no EPMD is asked or registered with.
    #[arg(long, value_name = "PORT")]
    erl_epmd_port: Option<u16>,
    #[command(flatten)]
    carrier: CarrierArgs,
}

/// Our node, connected to the target.
pub(crate) struct Session {
    /// Our node.
    pub(crate) node: Node,
    /// The target's full name, `alive@host`.
    pub(crate) target: String,
    /// `--timeout`.
    pub(crate) timeout: Duration,
}

/// Runs `command` with a session to `target` on a fresh runtime, within
/// `--timeout`, and shuts our node down afterwards whatever the outcome.
pub(crate) fn run<T, F, Fut>(
    options: &NodeOptions,
    target: &str,
    command: F,
) -> Result<T, NodeCliError>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<T, NodeCliError>>,
{
    run_within(options, target, Bound::Whole, command)
}

/// As [`run`], but only connecting is bound by `--timeout`: for a command
/// that lasts as long as its user wants (`cnode remsh`, `cnode top`).
pub(crate) fn run_interactive<T, F, Fut>(
    options: &NodeOptions,
    target: &str,
    command: F,
) -> Result<T, NodeCliError>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<T, NodeCliError>>,
{
    run_within(options, target, Bound::Connect, command)
}

/// What `--timeout` bounds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// The whole command.
    Whole,
    /// Setting up the connection only.
    Connect,
}

fn run_within<T, F, Fut>(
    options: &NodeOptions,
    target: &str,
    bound: Bound,
    command: F,
) -> Result<T, NodeCliError>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<T, NodeCliError>>,
{
    init_logging();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(NodeCliError::Runtime)?;
    let timeout = Duration::from_secs(options.timeout);
    let target = options.target_name(target)?;
    runtime.block_on(async {
        let mut our_node = None;
        let timed_out = || NodeCliError::Timeout {
            node: target.to_string(),
            after: timeout,
        };
        let result = match bound {
            Bound::Whole => {
                let work = async {
                    let session = options.connect(&target, timeout, &mut our_node).await?;
                    command(session).await
                };
                tokio::time::timeout(timeout, work)
                    .await
                    .unwrap_or_else(|_| Err(timed_out()))
            }
            Bound::Connect => {
                let connect = options.connect(&target, timeout, &mut our_node);
                match tokio::time::timeout(timeout, connect).await {
                    Ok(Ok(session)) => command(session).await,
                    Ok(Err(err)) => Err(err),
                    Err(_) => Err(timed_out()),
                }
            }
        };
        if let Some(node) = our_node {
            node.shutdown().await;
        }
        result
    })
}

impl NodeOptions {
    /// Whether names are long (`--name`), as `erl -name`.
    fn long_names(&self) -> bool {
        self.name.is_some()
    }

    /// A name completed as `erl -name` (with `--name`) or `erl -sname`
    /// completes it: a bare name gets this machine's host name, long or
    /// short.
    fn complete(&self, name: &str) -> Result<NodeName, NodeCliError> {
        let parsed = if self.long_names() {
            NodeName::long(name)
        } else {
            NodeName::short(name)
        };
        parsed.map_err(|source| NodeCliError::BadNodeName {
            name: name.to_owned(),
            source,
        })
    }

    /// The target as `alive@host`: a bare name gets this machine's host
    /// name, short or long as our own name is.
    fn target_name(&self, target: &str) -> Result<NodeName, NodeCliError> {
        self.complete(target)
    }

    /// Our own name, `--sname` or `--name`, completed with this machine's
    /// host name; `None` for a dynamic name.
    fn own_name(&self) -> Result<Option<NodeName>, NodeCliError> {
        let given = self.name.as_deref().or(self.sname.as_deref());
        given.map(|name| self.complete(name)).transpose()
    }

    /// Looks the target up, starts our node (kept in `slot` so that the
    /// caller shuts it down even if this times out) and connects.
    async fn connect(
        &self,
        target: &NodeName,
        timeout: Duration,
        slot: &mut Option<Node>,
    ) -> Result<Session, NodeCliError> {
        let epmd_port = self.epmd_port.unwrap_or_else(epmd_client::port_from_env);
        if self.erl_epmd_port.is_none() {
            check_registered(target, epmd_port, timeout).await?;
        }
        let own = self.own_name()?;
        let name = match &own {
            Some(name) => name.clone(),
            // A dynamic name is asked on our host, short or long as the
            // target's is.
            None => {
                let complete = if target.host().contains('.') {
                    NodeName::long
                } else {
                    NodeName::short
                };
                complete("undefined").map_err(|source| NodeCliError::BadNodeName {
                    name: "undefined".to_owned(),
                    source,
                })?
            }
        };
        let mut builder = Node::builder(name)
            .epmd_port(epmd_port)
            .start_epmd(false)
            .setup_time(timeout);
        builder = super::proto_dist::configure(builder, self.carrier.dist(self.erl_epmd_port))?
            // Our node only dials: the target may listen on that port here.
            .listen_port(0)
            .listen_loopback();
        if let Some(cookie) = &self.cookie {
            builder = builder.cookie(cookie);
        }
        if own.is_none() {
            let node = builder
                .start_named_by(target.as_str())
                .await
                .map_err(|err| match err {
                    NodeError::Connect(err) => NodeCliError::from_connect(err),
                    err => NodeCliError::Start(Box::new(err)),
                })?;
            let node = slot.insert(node).clone();
            return Ok(Session {
                node,
                target: target.to_string(),
                timeout,
            });
        }
        let node = builder
            .start()
            .await
            .map_err(|err| NodeCliError::Start(Box::new(err)))?;
        let node = slot.insert(node).clone();
        node.connect(target.as_str())
            .await
            .map_err(NodeCliError::from_connect)?;
        Ok(Session {
            node,
            target: target.to_string(),
            timeout,
        })
    }
}

/// Fails unless `target` is registered with EPMD (at `epmd_port`) on its
/// host, naming what is missing: the node, or EPMD itself.
async fn check_registered(
    target: &NodeName,
    epmd_port: u16,
    timeout: Duration,
) -> Result<(), NodeCliError> {
    let (alive, host) = (target.alive(), target.host());
    let epmd = EpmdClient::new(host, epmd_port).with_timeout(timeout);
    if let Err(err) = epmd.lookup(alive).await {
        let (alive, host) = (alive.to_owned(), host.to_owned());
        return Err(match err {
            ClientError::UnknownNode { .. } => NodeCliError::NotRegistered {
                alive,
                host,
                port: epmd_port,
            },
            ClientError::Unreachable { .. } => NodeCliError::NoEpmd {
                alive,
                host,
                port: epmd_port,
            },
            source => NodeCliError::Epmd {
                alive,
                host,
                source: Box::new(source),
            },
        });
    }
    Ok(())
}

impl Session {
    /// The rpc client for commands: what the called code writes to its
    /// group leader (`io:format`) is printed on stdout as it comes, before
    /// the value.
    pub(crate) fn rpc(&self) -> cnode::Rpc {
        self.node.rpc().with_output(|text| {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed stdout fails the final print_line; not a panic here.
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        })
    }
}

/// Writes `text` and a newline to stdout; a closed stdout is an error, not
/// a panic.
pub(crate) fn print_line(text: impl std::fmt::Display) -> Result<(), NodeCliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(NodeCliError::Output)
}

/// Logs of the runtime (and the output of called functions, which our rpc
/// processes receive as group leader) go to stderr when `RUST_LOG` asks
/// for them.
fn init_logging() {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .try_init();
    }
}
