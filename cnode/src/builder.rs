//! Configuring and starting a node.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dist_proto::handshake::DEFAULT_SETUP_TIME;
use dist_proto::{Cookie, Established, DEFAULT_TICK_TIME};
use epmd_client::{EpmdClient, EpmdServer, NodeInfo, NodeType, Registration, ServerHandle};
use etf::Atom;

use crate::data::error::NodeError;
use crate::data::name::NodeName;
use crate::features::serve::Functions;
use crate::net::gate::{Gate, GateLimits};
use crate::net::listen::ListenOn;
use crate::net::resolve::{AddressFamily, Discovery, Finder, ResolveFuture, Resolver};
use crate::net::tls::listener::TlsListener;
use crate::net::tls::TlsConfig;
use crate::net::transport::{Listener, Transport};
use crate::node::Node;
use crate::runtime::core::{Config, Core, Parts};
use crate::runtime::core::{Dial, Hooks};
use crate::state::cookie::{read_cookie_file, Cookies};
use crate::state::peers::Limits;
use crate::state::registry::{DEFAULT_MAX_PROCESSES, MAX_PROCESSES_LIMIT};

/// How many messages may wait for a connection being set up, by default.
pub const DEFAULT_PENDING_LIMIT: usize = 10_000;

/// How many bytes (estimated, encoded) may wait for a connection being set
/// up, by default.
pub const DEFAULT_PENDING_BYTES: usize = 64 << 20;
/// How many bytes may wait for a connection's socket before sends to its
/// node are refused, by default.
pub const DEFAULT_SEND_BUFFER_LIMIT: usize = 64 << 20;

/// How many accepted connections may be unauthenticated at once, by
/// default: 4,096, or half the process's soft limit on open files
/// (`RLIMIT_NOFILE`) when that is lower. See
/// [`NodeBuilder::max_unauthenticated`].
pub const DEFAULT_MAX_UNAUTHENTICATED: usize = 4096;

/// How many accepted connections from one address may be unauthenticated
/// at once, by default. See [`NodeBuilder::max_unauthenticated_per_source`].
pub const DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE: usize = 256;

impl Node {
    /// A builder for a node named `name`: `alive@host`, or `alive` for this
    /// machine's short host name ([`NodeName::short`]); pass a
    /// [`NodeName::long`] for a long name.
    ///
    /// [`NodeName::short`]: crate::NodeName::short
    /// [`NodeName::long`]: crate::NodeName::long
    pub fn builder(name: impl Into<String>) -> NodeBuilder {
        NodeBuilder::new(name.into())
    }
}

/// Settings for a [`Node`]; defaults follow OTP: the cookie from
/// `~/.erlang.cookie`, any free port on every interface (IPv6 and IPv4),
/// `net_ticktime` 60 s, `net_setuptime` 7 s, EPMD on `ERL_EPMD_PORT` or
/// 4369 (started in-process when none runs). The node is hidden.
///
/// Without EPMD ([`erl_epmd_port`](NodeBuilder::erl_epmd_port) or
/// [`resolver`](NodeBuilder::resolver)), the node neither starts, asks nor
/// registers with any EPMD.
#[derive(Debug)]
pub struct NodeBuilder {
    name: String,
    cookie: Option<Cookie>,
    node_cookies: HashMap<String, Cookie>,
    listen_on: ListenOn,
    family: AddressFamily,
    erl_epmd_port: Option<u16>,
    resolver: Option<Resolver>,
    port_min: u16,
    port_max: u16,
    tick_time: Duration,
    setup_time: Duration,
    epmd_port: Option<u16>,
    start_epmd: bool,
    tls: Option<TlsConfig>,
    pending_limit: usize,
    pending_bytes: usize,
    send_buffer_limit: usize,
    max_processes: usize,
    /// `None`: derived from the open files limit when the node starts.
    max_unauthenticated: Option<usize>,
    max_unauthenticated_per_source: usize,
}

impl NodeBuilder {
    pub(crate) fn new(name: String) -> NodeBuilder {
        NodeBuilder {
            name,
            cookie: None,
            node_cookies: HashMap::new(),
            listen_on: ListenOn::Everywhere,
            family: AddressFamily::Any,
            erl_epmd_port: None,
            resolver: None,
            port_min: 0,
            port_max: 0,
            tick_time: DEFAULT_TICK_TIME,
            setup_time: DEFAULT_SETUP_TIME,
            epmd_port: None,
            start_epmd: true,
            tls: None,
            pending_limit: DEFAULT_PENDING_LIMIT,
            pending_bytes: DEFAULT_PENDING_BYTES,
            send_buffer_limit: DEFAULT_SEND_BUFFER_LIMIT,
            max_processes: DEFAULT_MAX_PROCESSES,
            max_unauthenticated: None,
            max_unauthenticated_per_source: DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE,
        }
    }

    /// The cookie for every node without its own (`-setcookie`).
    pub fn cookie(mut self, cookie: &str) -> NodeBuilder {
        self.cookie = Some(Cookie::new(cookie));
        self
    }

    /// The cookie for connections to `node` (`erlang:set_cookie/2`).
    pub fn node_cookie(mut self, node: &str, cookie: &str) -> NodeBuilder {
        self.node_cookies
            .insert(node.to_owned(), Cookie::new(cookie));
        self
    }

    /// Makes the node hidden: peers list it in `nodes(hidden)`, not in
    /// `nodes()`, and send it no `global` traffic. This is the default and,
    /// for now, the only mode; the method states the intent.
    pub fn hidden(self) -> NodeBuilder {
        self
    }

    /// The address to listen on (all interfaces by default, as OTP). `::`
    /// takes IPv4 connections too (dual-stack), unless the
    /// [`address_family`](NodeBuilder::address_family) is IPv6.
    pub fn listen_address(mut self, address: IpAddr) -> NodeBuilder {
        self.listen_on = ListenOn::Address(address);
        self
    }

    /// Listens on loopback only, `127.0.0.1` and `::1` (where the host has
    /// it): only nodes on this machine can connect, over either IP version.
    pub fn listen_loopback(mut self) -> NodeBuilder {
        self.listen_on = ListenOn::Loopback;
        self
    }

    /// The IP versions the node listens and dials on: both by default;
    /// [`AddressFamily::Ipv4`] as an `erl -proto_dist inet_tcp` node (OTP's
    /// default), [`AddressFamily::Ipv6`] as `-proto_dist inet6_tcp`. By
    /// default the node listens on IPv6 and IPv4 and dials whichever
    /// addresses a node's host has, so it reaches nodes of both kinds.
    pub fn address_family(mut self, family: AddressFamily) -> NodeBuilder {
        self.family = family;
        self
    }

    /// Listen on this port (0: any free port, the default).
    pub fn listen_port(self, port: u16) -> NodeBuilder {
        self.listen_port_range(port, port)
    }

    /// Listen on the first free port in `min..=max` (`inet_dist_listen_min`
    /// / `inet_dist_listen_max`).
    pub fn listen_port_range(mut self, min: u16, max: u16) -> NodeBuilder {
        self.port_min = min.min(max);
        self.port_max = max.max(min);
        self
    }

    /// `net_ticktime`: a peer silent for about this long is dropped; ticks
    /// go every quarter of it.
    pub fn net_ticktime(mut self, tick_time: Duration) -> NodeBuilder {
        self.tick_time = tick_time;
        self
    }

    /// `net_setuptime`: the limit for each step of a connection setup, as
    /// in OTP. An incoming connection that has not authenticated after five
    /// times this (its TLS handshake and the handshake steps together) is
    /// closed, however it spreads its bytes.
    pub fn setup_time(mut self, setup_time: Duration) -> NodeBuilder {
        self.setup_time = setup_time;
        self
    }

    /// The EPMD port, on this host and on peers' hosts (default:
    /// `ERL_EPMD_PORT` or 4369).
    pub fn epmd_port(mut self, port: u16) -> NodeBuilder {
        self.epmd_port = Some(port);
        self
    }

    /// Runs distribution over TLS, as `erl -proto_dist inet_tls
    /// -ssl_dist_optfile FILE` does: every connection, dialed or accepted,
    /// starts with a TLS handshake under `config`, and the peers must be
    /// TLS nodes too (EPMD does not say whether a node uses TLS).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = cnode::TlsConfig::from_optfile("/etc/rabbitmq/inter_node_tls.config")?;
    /// let node = cnode::Node::builder("ops").tls(tls).start().await?;
    /// node.ping("rabbit@db1").await?;
    /// # Ok(()) }
    /// ```
    pub fn tls(mut self, config: TlsConfig) -> NodeBuilder {
        self.tls = Some(config);
        self
    }

    /// Whether to start an in-process EPMD when none answers (default yes).
    pub fn start_epmd(mut self, start: bool) -> NodeBuilder {
        self.start_epmd = start;
        self
    }

    /// Runs without EPMD, as `erl -start_epmd false -erl_epmd_port PORT`
    /// (OTP 23.1 and later): the node listens on `port`, and reaches every
    /// node at `port` on that node's host (its name's host part, resolved
    /// by the system). No EPMD is started, registered with or asked. Every
    /// node of such a cluster uses the same port, so one host runs one
    /// such node; a node that only dials (`erl -dist_listen false`) calls
    /// [`listen_port`](NodeBuilder::listen_port) afterwards to listen
    /// elsewhere.
    ///
    /// The node's creation, which EPMD would give, is a random number, as
    /// OTP's runtime picks one when `erl_epmd` has none.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), cnode::NodeError> {
    /// // Peers run `erl -sname app -start_epmd false -erl_epmd_port 9100`.
    /// let node = cnode::Node::builder("rust@localhost")
    ///     .erl_epmd_port(9100)
    ///     .start()
    ///     .await?;
    /// node.ping("app@localhost").await?;
    /// # Ok(()) }
    /// ```
    pub fn erl_epmd_port(mut self, port: u16) -> NodeBuilder {
        self.erl_epmd_port = Some(port);
        self.listen_port(port)
    }

    /// Finds the nodes this node dials with `resolve`, instead of EPMD:
    /// given a node's name, it returns the socket addresses to try, in
    /// order (those of the other IP version are left out under an
    /// [`address_family`](NodeBuilder::address_family)). Like
    /// [`erl_epmd_port`](NodeBuilder::erl_epmd_port), it makes the node run
    /// without EPMD; give the node a known port to listen on
    /// (`erl_epmd_port` or [`listen_port`](NodeBuilder::listen_port)) so that
    /// others can reach it. The future is `'static`: take from the name
    /// what it needs before it starts.
    ///
    /// For a cluster on Kubernetes with a headless service, the pods' DNS
    /// names and one port (`erl_epmd_port`) are enough; a resolver is for
    /// addresses found elsewhere: a table, a service registry, SRV records.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), cnode::NodeError> {
    /// use std::collections::HashMap;
    /// use std::io;
    /// use std::net::SocketAddr;
    ///
    /// let peers: HashMap<String, SocketAddr> =
    ///     HashMap::from([("app@db1".to_owned(), "10.0.0.7:9100".parse().unwrap())]);
    /// let node = cnode::Node::builder("rust@gateway")
    ///     .listen_port(9100)
    ///     .resolver(move |node| {
    ///         let found = peers.get(node.as_str()).copied();
    ///         async move {
    ///             let address = found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown node"))?;
    ///             Ok(vec![address])
    ///         }
    ///     })
    ///     .start()
    ///     .await?;
    /// node.ping("app@db1").await?;
    /// # Ok(()) }
    /// ```
    pub fn resolver<F, Fut>(mut self, resolve: F) -> NodeBuilder
    where
        F: Fn(&NodeName) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'static,
    {
        self.resolver = Some(Resolver(Arc::new(
            move |node: &NodeName| -> ResolveFuture { Box::pin(resolve(node)) },
        )));
        self
    }

    /// How many messages may wait for a connection being set up; a send
    /// beyond it fails with [`SendError::QueueFull`](crate::SendError::QueueFull).
    pub fn pending_limit(mut self, limit: usize) -> NodeBuilder {
        self.pending_limit = limit;
        self
    }

    /// How many bytes (the estimated encoded size of the payloads) may wait
    /// for a connection being set up.
    pub fn pending_bytes(mut self, bytes: usize) -> NodeBuilder {
        self.pending_bytes = bytes;
        self
    }

    /// How many bytes may wait for a connection's socket
    /// ([`DEFAULT_SEND_BUFFER_LIMIT`])
    /// before [`Process::send`](crate::Process::send) to its node fails
    /// with [`SendError::Busy`](crate::SendError::Busy), as
    /// `erlang:send_nosuspend/2` fails on a busy distribution channel;
    /// [`Process::send_wait`](crate::Process::send_wait) waits for room
    /// instead. The rest of a message already going out in fragments does
    /// not count, so one huge message can always be sent. Signals (links,
    /// monitors, exits) are never refused.
    pub fn send_buffer_limit(mut self, bytes: usize) -> NodeBuilder {
        self.send_buffer_limit = bytes;
        self
    }

    /// How many processes may live on the node at once (`+P`): the
    /// default is the BEAM's, [`DEFAULT_MAX_PROCESSES`] (262,144); it can
    /// be set as high as [`MAX_PROCESSES_LIMIT`] (134,217,727, the BEAM's
    /// own maximum), and a value out of `1..=MAX_PROCESSES_LIMIT` is moved
    /// to the nearest end. A spawn past it fails with
    /// [`SpawnError::TooManyProcesses`](crate::SpawnError::TooManyProcesses),
    /// which names the limit; an Erlang `spawn_request` to this node then
    /// gets `system_limit`.
    ///
    /// Nothing is reserved up front: memory grows with the processes that
    /// live (their pid numbers, up to 32 bits as NEW_PID_EXT carries them,
    /// are reused once free, with a new serial each time so that a pid of a
    /// dead process never reaches a new one).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), cnode::NodeError> {
    /// let node = cnode::Node::builder("devices@localhost")
    ///     .max_processes(2_000_000)
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn max_processes(mut self, max: usize) -> NodeBuilder {
        self.max_processes = max.clamp(1, MAX_PROCESSES_LIMIT);
        self
    }

    /// How many accepted connections may be unauthenticated at once (they
    /// have not yet proved they know the cookie: the TLS handshake, when
    /// there is one, and the distribution handshake). The node accepts
    /// every connection at once, each in a task of its own bounded by the
    /// setup time; when one more comes with this many unauthenticated, the
    /// oldest of them is closed, so connections that never speak (or
    /// speak slowly) cannot keep a node out, and their memory and file
    /// descriptors stay bounded. A warning is logged when it happens (at
    /// most every 10 s). Default: [`DEFAULT_MAX_UNAUTHENTICATED`], or half
    /// the soft limit on open files when that is lower; at least 1.
    pub fn max_unauthenticated(mut self, max: usize) -> NodeBuilder {
        self.max_unauthenticated = Some(max.max(1));
        self
    }

    /// How many accepted connections from one IP address may be
    /// unauthenticated at once: when one more comes from there, the oldest
    /// from that address is closed, with a warning naming it (at most
    /// every 10 s). Nodes behind one address (one host, a NAT) share it.
    /// Default: [`DEFAULT_MAX_UNAUTHENTICATED_PER_SOURCE`]; at least 1.
    pub fn max_unauthenticated_per_source(mut self, max: usize) -> NodeBuilder {
        self.max_unauthenticated_per_source = max.max(1);
        self
    }

    /// Starts the node: listens, registers with EPMD (starting one if none
    /// runs; none without EPMD) and accepts connections. Must run inside a
    /// tokio runtime.
    pub async fn start(self) -> Result<Node, NodeError> {
        let (name, cookie) = self.identity()?;
        let listeners = self.listen()?;
        let listen_error = |source| NodeError::Listen {
            min: self.port_min,
            max: self.port_max,
            source,
        };
        let port = listeners
            .first()
            .map_or_else(
                || Err(std::io::Error::other("no listening socket")),
                tokio::net::TcpListener::local_addr,
            )
            .map_err(listen_error)?
            .port();
        let reach = match self.without_epmd() {
            Some(discovery) => {
                // What OTP's runtime does when `erl_epmd` has no creation
                // for it: a random one (0 to 3 are the old 2-bit creations).
                let creation = rand::random_range(4..=u32::MAX);
                Reach {
                    registration: None,
                    embedded_epmd: None,
                    creation,
                    dial: self.dial(discovery),
                }
            }
            None => self.register(&name, port).await?,
        };
        tracing::info!(node = %name, port, creation = reach.creation, "node started");
        Ok(
            match self.tls.as_ref().map(|tls| Arc::clone(tls.server_config())) {
                None => self.assemble(name, cookie, reach, listeners),
                Some(server) => {
                    let setup_time = self.setup_time;
                    let listeners = listeners
                        .into_iter()
                        .map(|tcp| TlsListener::new(tcp, Arc::clone(&server), setup_time))
                        .collect();
                    self.assemble(name, cookie, reach, listeners)
                }
            },
        )
    }

    /// Starts a node that takes its name from `peer`, as `erl -sname
    /// undefined` does (OTP 23 and later): it dials `peer` (found as this
    /// builder finds nodes: EPMD, [`erl_epmd_port`](NodeBuilder::erl_epmd_port)
    /// or the [`resolver`](NodeBuilder::resolver); over TLS if configured),
    /// sends only the host of the builder's name and asks for a name
    /// (`NAME_ME`); `peer` answers with a name such as `3IPX11I4STEWX@host`
    /// and a creation, which become the node's own. That connection is the
    /// node's first; others are dialed as usual. The node registers with
    /// no EPMD and listens nowhere, so any number of them can run at once:
    /// probes and short-lived commands that never collide.
    ///
    /// `peer` is `alive@host`, or `alive` for this machine's short host name.
    /// The builder's name gives only the host: `Node::builder("undefined")`
    /// sends this machine's short host name, as `erl -sname undefined`
    /// does. A peer that cannot be reached or refuses fails the start with
    /// [`NodeError::Connect`]. The name stays the node's when that
    /// connection goes down (OTP's node would restart its distribution).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), cnode::NodeError> {
    /// let node = cnode::Node::builder("undefined").start_named_by("app").await?;
    /// println!("app calls us {}", node.name());
    /// node.ping("app").await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_named_by(self, peer: &str) -> Result<Node, NodeError> {
        let (own, cookie) = self.identity()?;
        let peer = NodeName::short(peer).map_err(|source| NodeError::BadName {
            name: peer.to_owned(),
            source,
        })?;
        let discovery = self.without_epmd().unwrap_or(Discovery::Epmd {
            port: self.epmd_port_or_env(),
        });
        let finder = Finder {
            discovery: discovery.clone(),
            family: self.family,
        };
        let node = Atom::new(peer.as_str());
        let peer_cookie = self
            .node_cookies
            .get(peer.as_str())
            .cloned()
            .unwrap_or_else(|| cookie.clone());
        let dial = self.dial(discovery);
        let (host, setup_time) = (own.host().to_owned(), self.setup_time);
        match self.tls.clone() {
            None => {
                let connect = crate::net::dial::tcp_connect(setup_time, node.clone(), finder);
                let asked =
                    crate::net::dial::ask_name(&node, &host, peer_cookie, setup_time, connect);
                let (stream, done) = asked.await?;
                Ok(self.assemble_named(cookie, dial, node, stream, done)?)
            }
            Some(tls) => {
                let connect = crate::net::dial::tls_connect(setup_time, node.clone(), tls, finder);
                let asked =
                    crate::net::dial::ask_name(&node, &host, peer_cookie, setup_time, connect);
                let (stream, done) = asked.await?;
                Ok(self.assemble_named(cookie, dial, node, stream, done)?)
            }
        }
    }

    /// The node named by `peer` in `done`, with that connection as its
    /// first and no listener.
    fn assemble_named<T: Transport>(
        self,
        cookie: Cookie,
        dial: Dial,
        peer: Atom,
        stream: T,
        done: Established,
    ) -> Result<Node, NodeError> {
        let name = NodeName::parse(&done.name).map_err(|source| NodeError::BadName {
            name: done.name.clone(),
            source,
        })?;
        tracing::info!(node = %name, by = %peer, creation = done.creation, "node started with a dynamic name");
        let reach = Reach {
            registration: None,
            embedded_epmd: None,
            creation: done.creation,
            dial,
        };
        let no_listeners: Vec<tokio::net::TcpListener> = Vec::new();
        let node = self.assemble(name, cookie, reach, no_listeners);
        crate::net::dial::adopt(node.core(), peer, stream, done);
        Ok(node)
    }

    /// How the node finds others when it runs without EPMD.
    fn without_epmd(&self) -> Option<Discovery> {
        match (&self.resolver, self.erl_epmd_port) {
            (Some(resolver), _) => Some(Discovery::Custom(resolver.clone())),
            (None, Some(port)) => Some(Discovery::FixedPort(port)),
            (None, None) => None,
        }
    }

    /// The dial hook: TCP (then TLS, if configured) to the addresses
    /// `discovery` gives.
    fn dial(&self, discovery: Discovery) -> Dial {
        let finder = Finder {
            discovery,
            family: self.family,
        };
        match self.tls.clone() {
            None => {
                Box::new(move |core, node, id| crate::net::dial::start(core, node, id, &finder))
            }
            Some(tls) => Box::new(move |core, node, id| {
                crate::net::dial::start_tls(core, node, id, &tls, &finder);
            }),
        }
    }

    /// Registers `name` (listening on `port`) with EPMD, starting the
    /// embedded one if none runs and that is allowed.
    async fn register(&self, name: &NodeName, port: u16) -> Result<Reach, NodeError> {
        let epmd_port = self.epmd_port_or_env();
        let embedded_epmd = if self.start_epmd {
            let started = EpmdServer::builder()
                .port(epmd_port)
                .spawn_unless_running()
                .await
                .map_err(|source| NodeError::EmbeddedEpmd {
                    port: epmd_port,
                    source,
                })?;
            if started.is_some() {
                tracing::info!(
                    port = epmd_port,
                    "no EPMD running; started the embedded one"
                );
            }
            started
        } else {
            None
        };
        let registration = EpmdClient::new("localhost", epmd_port)
            .register(NodeInfo::new(
                name.alive().to_owned(),
                port,
                NodeType::HIDDEN,
            ))
            .await
            .map_err(|source| NodeError::EpmdRegister {
                name: name.alive().to_owned(),
                port: epmd_port,
                source,
            })?;
        Ok(Reach {
            creation: registration.creation(),
            registration: Some(registration),
            embedded_epmd,
            dial: self.dial(Discovery::Epmd { port: epmd_port }),
        })
    }

    /// Starts the node on an in-memory network: it listens under its name
    /// there and dials other names there; no socket, no EPMD.
    #[cfg(test)]
    pub(crate) fn start_in_memory(
        self,
        network: &crate::net::memory::MemoryNetwork,
        creation: u32,
    ) -> Result<Node, NodeError> {
        use crate::data::error::{ConnectError, UnreachableReason};
        let (name, cookie) = self.identity()?;
        let listener = network.listen(name.as_str());
        let network = network.clone();
        let dial: Dial = Box::new(move |core, node, id| {
            let stream =
                network
                    .connect(node.as_str())
                    .map_err(|source| ConnectError::Unreachable {
                        node: node.as_str().to_owned(),
                        source: UnreachableReason::Connect {
                            port: 0,
                            source: Arc::new(source),
                        },
                    });
            crate::net::dial::start_with(core, node, id, std::future::ready(stream));
        });
        let reach = Reach {
            registration: None,
            embedded_epmd: None,
            creation,
            dial,
        };
        Ok(self.assemble(name, cookie, reach, vec![listener]))
    }

    /// The node's full name and default cookie, checked.
    fn identity(&self) -> Result<(NodeName, Cookie), NodeError> {
        let name = NodeName::short(&self.name).map_err(|source| NodeError::BadName {
            name: self.name.clone(),
            source,
        })?;
        let cookie = match &self.cookie {
            Some(cookie) => cookie.clone(),
            None => read_cookie_file()?,
        };
        Ok((name, cookie))
    }

    fn epmd_port_or_env(&self) -> u16 {
        self.epmd_port.unwrap_or_else(epmd_client::port_from_env)
    }

    /// The core and its features, accepting from each of `listeners`.
    fn assemble<L: Listener>(
        self,
        name: NodeName,
        cookie: Cookie,
        reach: Reach,
        listeners: Vec<L>,
    ) -> Node {
        let functions = Arc::new(Functions::default());
        let gate = Arc::new(Gate::new(GateLimits {
            total: self
                .max_unauthenticated
                .unwrap_or_else(default_max_unauthenticated),
            per_source: self.max_unauthenticated_per_source,
        }));
        let core = Arc::new(Core::new(Parts {
            name,
            creation: reach.creation,
            config: Config {
                tick_time: self.tick_time,
                setup_time: self.setup_time,
                send_buffer_limit: self.send_buffer_limit,
                max_processes: self.max_processes,
            },
            cookies: Cookies::new(cookie, self.node_cookies),
            limits: Limits {
                messages: self.pending_limit,
                bytes: self.pending_bytes,
            },
            registration: reach.registration,
            embedded_epmd: reach.embedded_epmd,
            hooks: hooks(&functions, reach.dial),
        }));
        for listener in listeners {
            core.tasks.spawn(crate::net::accept::listen(
                Arc::clone(&core),
                listener,
                Arc::clone(&gate),
            ));
        }
        Node::from_core(core, functions)
    }

    /// The listening sockets, all on one port.
    fn listen(&self) -> Result<Vec<tokio::net::TcpListener>, NodeError> {
        crate::net::listen::bind(self.listen_on, self.family, self.port_min..=self.port_max)
            .map_err(|source| NodeError::Listen {
                min: self.port_min,
                max: self.port_max,
                source,
            })
    }
}

/// [`DEFAULT_MAX_UNAUTHENTICATED`], or half the soft limit on open files
/// when that is lower (at least 16): the strangers may take at most half
/// the descriptors, leaving the rest to the node and its application.
fn default_max_unauthenticated() -> usize {
    let half = open_files_limit().map_or(usize::MAX, |limit| {
        usize::try_from(limit / 2).unwrap_or(usize::MAX)
    });
    half.clamp(16, DEFAULT_MAX_UNAUTHENTICATED)
}

/// The process's soft limit on open files, if it has one.
#[cfg(unix)]
fn open_files_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<u64> {
    None
}

/// How the node reaches others: its EPMD registration (none without EPMD
/// or in memory), the EPMD it started, its creation, and how it dials.
struct Reach {
    registration: Option<Registration>,
    embedded_epmd: Option<ServerHandle>,
    creation: u32,
    dial: Dial,
}

/// What the core calls up into: dialing out, and the features that answer
/// other nodes' requests (the `net_kernel` and `rex` built in, spawn
/// requests running `functions`, answers to our spawn requests).
fn hooks(functions: &Arc<Functions>, dial: Dial) -> Hooks {
    let (rex, spawn) = (Arc::clone(functions), Arc::clone(functions));
    Hooks {
        dial,
        net_kernel: Box::new(crate::features::net_kernel::net_kernel),
        rex: Box::new(move |core, from, payload| {
            crate::features::serve::rex(core, &rex, from, payload);
        }),
        spawn_request: Box::new(move |core, request| {
            crate::features::serve::spawn_request(core, &spawn, request);
        }),
        spawn_reply: Box::new(crate::features::remote_spawn::reply),
    }
}
