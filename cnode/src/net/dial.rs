//! Connecting to a node: a stream to it (over TCP: its address from EPMD
//! or a resolver, see `resolve`, then a TCP connect), the initiator's
//! handshake, then the connection task.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dist_proto::{Cookie, Established, HandshakeConfig, HandshakeError, Initiator, InitiatorEvent};
use etf::Atom;
use tokio::net::TcpStream;

use crate::data::error::ConnectError;
use crate::data::name::NodeName;
use crate::net::clock::now;
use crate::net::handshake::next_event;
use crate::net::resolve::Finder;
use crate::net::tls::stream::{TlsHandshakeError, TlsStream};
use crate::net::tls::TlsConfig;
use crate::net::transport::Transport;
use crate::runtime::core::Core;

/// Starts attempt `id` to connect to `node` over TCP, at an address
/// `finder` gives, on a task of its own.
pub(crate) fn start(core: &Arc<Core>, node: Atom, id: u64, finder: &Finder) {
    let connect = tcp_connect(core.config.setup_time, node.clone(), finder.clone());
    start_with(core, node, id, connect);
}

/// Starts attempt `id` to connect to `node` over TLS (`inet_tls`): TCP as
/// [`start`] reaches it, then a TLS handshake naming the node's host.
pub(crate) fn start_tls(core: &Arc<Core>, node: Atom, id: u64, tls: &TlsConfig, finder: &Finder) {
    let setup_time = core.config.setup_time;
    let connect = tls_connect(setup_time, node.clone(), tls.clone(), finder.clone());
    start_with(core, node, id, connect);
}

/// Starts attempt `id` to connect to `node` over the stream `connect`
/// yields, on a task of its own.
pub(crate) fn start_with<T, C>(core: &Arc<Core>, node: Atom, id: u64, connect: C)
where
    T: Transport,
    C: Future<Output = Result<T, ConnectError>> + Send + 'static,
{
    // The set-up's futures are boxed, so that a connection's task, which
    // lives as long as the connection, holds room only for the driver's.
    let connect = Box::pin(connect);
    let task = core
        .tasks
        .spawn(run(Arc::clone(core), node.clone(), id, connect));
    core.peers().set_dialer(&node, id, task.abort_handle());
}

async fn run<T, C>(core: Arc<Core>, node: Atom, id: u64, connect: C)
where
    T: Transport,
    C: Future<Output = Result<T, ConnectError>>,
{
    let mut shutdown = core.shutdown_signal();
    let setup = tokio::select! {
        result = Box::pin(setup(&core, &node, connect)) => result,
        _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => Err(Failure::Error(ConnectError::Shutdown)),
    };
    match setup {
        Ok((stream, established)) => {
            crate::net::driver::run(core, node, id, stream, established).await;
        }
        Err(Failure::Lost) => {
            tracing::debug!(%node, "our connect lost a simultaneous connect; waiting for the peer's");
            if !core.peers().dial_lost(&node, id) {
                return;
            }
            // If the peer's own attempt never comes, fail the waiters.
            let after = core.config.setup_time;
            tokio::select! {
                _ = tokio::time::sleep(after) => {}
                _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => return,
            }
            let err = ConnectError::Timeout {
                node: node.as_str().to_owned(),
                after,
            };
            let failed = core.peers().setup_failed(&node, None, &err);
            if failed {
                core.unreachable(&node);
            }
        }
        Err(Failure::Error(err)) => {
            tracing::info!(%node, %err, "connection setup failed");
            let failed = core.peers().setup_failed(&node, Some(id), &err);
            if failed {
                core.unreachable(&node);
            }
        }
    }
}

enum Failure {
    /// The peer answered `nok`: its own attempt to us wins.
    Lost,
    Error(ConnectError),
}

/// A stream to `node` and the initiator's handshake on it.
async fn setup<T: Transport>(
    core: &Core,
    node: &Atom,
    connect: impl Future<Output = Result<T, ConnectError>>,
) -> Result<(T, Established), Failure> {
    let name = node.as_str();
    let after = core.config.setup_time;
    let stream = connect.await.map_err(Failure::Error)?;
    let config = HandshakeConfig {
        setup_time: after,
        length_prefix: T::HANDSHAKE_PREFIX,
        ..HandshakeConfig::new(core.name.as_str().to_owned(), core.creation)
    };
    let cookie = core.cookies.for_node(name);
    let initiator = Initiator::new(config, name, cookie, rand::random(), now());
    handshake(stream, initiator).await.map_err(|err| match err {
        HandshakeError::Nok { .. } => Failure::Lost,
        err => Failure::Error(ConnectError::from_handshake(name, err, after)),
    })
}

/// Asks `peer` for a dynamic name, before our node exists: a stream from
/// `connect`, then the initiator's handshake sending only `host` with
/// `NAME_ME` (as `erl -sname undefined`). The name and creation the peer
/// gave are in the [`Established`]; hand the stream to [`adopt`] once the
/// node is built under that name.
pub(crate) async fn ask_name<T: Transport>(
    peer: &Atom,
    host: &str,
    cookie: Cookie,
    setup_time: Duration,
    connect: impl Future<Output = Result<T, ConnectError>>,
) -> Result<(T, Established), ConnectError> {
    let stream = connect.await?;
    let config = HandshakeConfig {
        setup_time,
        length_prefix: T::HANDSHAKE_PREFIX,
        ..HandshakeConfig::dynamic(host)
    };
    let initiator = Initiator::new(config, peer.as_str(), cookie, rand::random(), now());
    handshake(stream, initiator)
        .await
        .map_err(|err| ConnectError::from_handshake(peer.as_str(), err, setup_time))
}

/// Makes the connection [`ask_name`] set up the first of `core`: messages
/// to `peer` queue for it at once, and its task runs it.
pub(crate) fn adopt<T: Transport>(
    core: &Arc<Core>,
    peer: Atom,
    stream: T,
    established: Established,
) {
    let Some(id) = core.peers().adopt(&peer) else {
        return;
    };
    core.tasks.spawn(crate::net::driver::run(
        Arc::clone(core),
        peer,
        id,
        stream,
        established,
    ));
}

/// A TLS connection to `node`, its certificate checked against the host
/// part of its name (unless the configuration says otherwise).
pub(crate) async fn tls_connect(
    setup_time: Duration,
    node: Atom,
    tls: TlsConfig,
    finder: Finder,
) -> Result<TlsStream, ConnectError> {
    let tcp = tcp_connect(setup_time, node.clone(), finder).await?;
    let name = node.as_str().to_owned();
    let host = match NodeName::parse(&name) {
        Ok(parsed) => parsed.host().to_owned(),
        Err(_) => return Err(ConnectError::BadName { node: name }),
    };
    let tls_error = |node: String, source: std::io::Error| ConnectError::Tls {
        node,
        source: Arc::new(source),
    };
    let server = tls.server_name(&host).map_err(|err| {
        let why = format!("{host:?} is neither a DNS name nor an IP address: {err}");
        tls_error(
            name.clone(),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
        )
    })?;
    let client = Arc::clone(tls.client_config());
    TlsStream::connect(tcp, client, server, setup_time)
        .await
        .map_err(|err| match err {
            // A peer without TLS never answers a ClientHello.
            timeout @ TlsHandshakeError::Timeout(_) => tls_error(
                name,
                std::io::Error::new(std::io::ErrorKind::TimedOut, timeout),
            ),
            TlsHandshakeError::Failed(source) => tls_error(name, source),
        })
}

/// A TCP connection to `node`, at an address `finder` gives.
pub(crate) async fn tcp_connect(
    setup_time: Duration,
    node: Atom,
    finder: Finder,
) -> Result<TcpStream, ConnectError> {
    let name = node.as_str();
    let parsed = NodeName::parse(name).map_err(|_| ConnectError::BadName {
        node: name.to_owned(),
    })?;
    finder.connect(&parsed, setup_time).await
}

async fn handshake<T: Transport>(
    stream: T,
    mut initiator: Initiator,
) -> Result<(T, Established), HandshakeError> {
    loop {
        match next_event(&stream, &mut initiator).await? {
            InitiatorEvent::Established(done) => return Ok((stream, done)),
            // The peer has a connection to our name that we do not know of
            // (we are a new incarnation): replace it.
            InitiatorEvent::AliveQuery => initiator.answer_alive(true, now())?,
        }
    }
}
