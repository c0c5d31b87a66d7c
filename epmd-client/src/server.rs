//! An EPMD server on tokio, a drop-in for `epmd -daemon`.
//!
//! Every protocol decision is made by the sans-IO [`Daemon`]; this module
//! only accepts connections, reads one framed request per connection under a
//! deadline, writes the reply and keeps registration connections open until
//! they close.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::task::JoinSet;

use crate::client::{ClientError, EpmdClient};
use crate::daemon::{Daemon, Outcome};
use crate::registry::ConnId;
use crate::request::{body_len, Request};

/// Default for [`EpmdServerBuilder::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// How long [`EpmdServerBuilder::spawn_unless_running`] waits for a running
/// EPMD to answer its NAMES request.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Default for [`EpmdServerBuilder::request_timeout`]: OTP's `epmd`
/// `-packet_timeout` default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the server could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A listening socket could not be set up.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: io::Error,
    },
}

/// Configures and binds an [`EpmdServer`].
#[derive(Debug, Clone)]
pub struct EpmdServerBuilder {
    addresses: Vec<IpAddr>,
    port: u16,
    relaxed_command_check: bool,
    max_connections: usize,
    request_timeout: Duration,
}

impl Default for EpmdServerBuilder {
    fn default() -> Self {
        EpmdServerBuilder {
            addresses: Vec::new(),
            port: crate::client::port_from_env(),
            relaxed_command_check: false,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl EpmdServerBuilder {
    /// Listens on `address` too. As with `epmd -address`, once any address is
    /// given the loopback addresses are always added; with none, the server
    /// listens on every address (`0.0.0.0` and `::`).
    pub fn address(mut self, address: IpAddr) -> Self {
        self.addresses.push(address);
        self
    }

    /// The port (default `ERL_EPMD_PORT` or 4369; 0 picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Allows KILL_REQ while nodes are registered and STOP_REQ, like
    /// `epmd -relaxed_command_check`.
    pub fn relaxed_command_check(mut self, relaxed: bool) -> Self {
        self.relaxed_command_check = relaxed;
        self
    }

    /// The most connections open at once, registrations included; further
    /// connections are closed at once.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// How long a client may take to send its request before it is dropped.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Opens the listening sockets.
    ///
    /// The IPv6 sockets the server adds by itself (`::` or `::1`) are
    /// optional: on a host without IPv6 their failure is logged and the
    /// server runs on IPv4 alone. Every other failure is an error.
    pub async fn bind(self) -> Result<EpmdServer, ServerError> {
        // (address, required)
        let mut ips: Vec<(IpAddr, bool)> = if self.addresses.is_empty() {
            vec![
                (IpAddr::V4(Ipv4Addr::UNSPECIFIED), true),
                (IpAddr::V6(Ipv6Addr::UNSPECIFIED), false),
            ]
        } else {
            vec![
                (IpAddr::V4(Ipv4Addr::LOCALHOST), true),
                (IpAddr::V6(Ipv6Addr::LOCALHOST), false),
            ]
        };
        for ip in &self.addresses {
            if !ip.is_loopback() && !ips.iter().any(|(known, _)| known == ip) {
                ips.push((*ip, true));
            }
        }
        let mut listeners = Vec::new();
        let mut port = self.port;
        for (ip, required) in ips {
            let addr = SocketAddr::new(ip, port);
            match listen(addr) {
                Ok(listener) => {
                    if port == 0 {
                        port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                    }
                    listeners.push(listener);
                }
                Err(source) if !required => {
                    tracing::warn!(%addr, %source, "epmd not listening on optional IPv6 address");
                }
                Err(source) => return Err(ServerError::Bind { addr, source }),
            }
        }
        // The clock seeds creation counters, as in OTP's epmd; truncating
        // the seconds to 32 bits is intended.
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        Ok(EpmdServer {
            listeners,
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    daemon: Daemon::new(port, self.relaxed_command_check, seed),
                    registrations: HashMap::new(),
                }),
                next_conn: AtomicU64::new(1),
                permits: Arc::new(Semaphore::new(self.max_connections)),
                request_timeout: self.request_timeout,
                kill: watch::channel(false).0,
            }),
            port,
        })
    }

    /// Starts a server on a tokio task unless an EPMD already answers on the
    /// configured port of this host, for a node that finds no EPMD running
    /// (what `erl` does by starting `epmd -daemon`). Returns `None` when one
    /// is running, including one that another process starts meanwhile.
    pub async fn spawn_unless_running(self) -> Result<Option<ServerHandle>, ServerError> {
        // The check asks for the names rather than only connecting: OTP's
        // `epmd` logs every connection that closes without a request
        // ("got partial packet only"), once per node started. Whatever
        // accepts the connection counts as running: the port is taken.
        let probe = EpmdClient::new(Ipv4Addr::LOCALHOST.to_string(), self.port)
            .with_timeout(PROBE_TIMEOUT)
            .names()
            .await;
        if !matches!(probe, Err(ClientError::Unreachable { .. })) {
            return Ok(None);
        }
        match self.bind().await {
            Ok(server) => Ok(Some(server.spawn())),
            Err(ServerError::Bind { source, .. }) if source.kind() == io::ErrorKind::AddrInUse => {
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    if addr.is_ipv6() {
        // Let `::` coexist with `0.0.0.0` on the same port.
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// A bound EPMD server; [`run`](EpmdServer::run) it or
/// [`spawn`](EpmdServer::spawn) it.
#[derive(Debug)]
pub struct EpmdServer {
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
    port: u16,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    next_conn: AtomicU64,
    permits: Arc<Semaphore>,
    request_timeout: Duration,
    /// Set to true by KILL_REQ or a shutdown.
    kill: watch::Sender<bool>,
}

#[derive(Debug)]
struct State {
    daemon: Daemon,
    /// Closes a registration connection, for STOP_REQ.
    registrations: HashMap<ConnId, oneshot::Sender<()>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every critical section is short and does not panic on any input;
        // should one panic anyway, keep serving rather than spread it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl EpmdServer {
    /// A builder with OTP's defaults.
    pub fn builder() -> EpmdServerBuilder {
        EpmdServerBuilder::default()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The first listening address (loopback when addresses were given).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addrs()
            .into_iter()
            .next()
            .unwrap_or_else(|| SocketAddr::new(Ipv4Addr::LOCALHOST.into(), self.port))
    }

    /// Every listening address.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves until a client sends an accepted KILL_REQ. Dropping the future
    /// stops the server and closes every connection.
    pub async fn run(self) {
        let mut kill = self.shared.kill.subscribe();
        let mut tasks = JoinSet::new();
        let (conn_tx, mut conn_rx) = tokio::sync::mpsc::channel::<(TcpStream, SocketAddr)>(64);
        for listener in self.listeners {
            let conn_tx = conn_tx.clone();
            tasks.spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok(accepted) => {
                            if conn_tx.send(accepted).await.is_err() {
                                return;
                            }
                        }
                        Err(err) => {
                            // Out of file descriptors and the like: back off.
                            tracing::warn!(%err, "epmd accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            });
        }
        drop(conn_tx);
        tracing::info!(port = self.port, "epmd serving");
        loop {
            tokio::select! {
                _ = kill.wait_for(|killed| *killed) => break,
                accepted = conn_rx.recv() => {
                    let Some((stream, peer)) = accepted else { break };
                    let Ok(permit) = self.shared.permits.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, "epmd connection limit reached, closing connection");
                        continue;
                    };
                    let shared = self.shared.clone();
                    tasks.spawn(async move {
                        serve_connection(stream, peer, &shared).await;
                        drop(permit);
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tracing::info!(port = self.port, "epmd stopped");
        tasks.shutdown().await;
    }

    /// Runs the server on a tokio task.
    pub fn spawn(self) -> ServerHandle {
        let port = self.port;
        let local_addr = self.local_addr();
        let kill = self.shared.kill.clone();
        let task = tokio::spawn(self.run());
        ServerHandle {
            port,
            local_addr,
            kill,
            task,
        }
    }
}

/// A server running on a tokio task. Dropping the handle stops it.
#[derive(Debug)]
pub struct ServerHandle {
    port: u16,
    local_addr: SocketAddr,
    kill: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The first listening address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the server, closing every connection (registrations end).
    pub async fn shutdown(mut self) {
        self.kill.send_replace(true);
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops by itself (an accepted KILL_REQ).
    pub async fn stopped(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.kill.send_replace(true);
        self.task.abort();
    }
}

/// True for a peer on this host: 127.0.0.0/8, `::1`, or the address it
/// connected to (OTP's `conn_local_peer_check`).
fn is_local_peer(peer: IpAddr, local: Option<IpAddr>) -> bool {
    let peer = peer.to_canonical();
    peer.is_loopback() || local.map(|l| l.to_canonical()) == Some(peer)
}

async fn serve_connection(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let conn = ConnId(shared.next_conn.fetch_add(1, Ordering::Relaxed));
    let local = stream.local_addr().ok().map(|a| a.ip());
    let from_loopback = is_local_peer(peer.ip(), local);
    let request = match tokio::time::timeout(shared.request_timeout, read_request(&mut stream))
        .await
    {
        Ok(Ok(request)) => request,
        Ok(Err(ReadError::Closed)) => {
            tracing::debug!(%peer, "epmd connection closed before a request");
            return;
        }
        Ok(Err(ReadError::Bad(reason))) => {
            tracing::warn!(%peer, %reason, "epmd dropping connection");
            return;
        }
        Err(_) => {
            tracing::warn!(%peer, timeout = ?shared.request_timeout, "epmd dropping connection: request not received in time");
            return;
        }
    };
    tracing::debug!(%peer, request = request.kind(), "epmd request");
    let (stop_tx, stop_rx) = oneshot::channel();
    let outcome = {
        let mut state = shared.state();
        let outcome = state.daemon.handle(conn, from_loopback, request);
        if let Outcome::Registered { .. } = outcome {
            state.registrations.insert(conn, stop_tx);
        }
        outcome
    };
    match outcome {
        Outcome::Reply(reply) => {
            write_reply(&mut stream, &reply, peer, shared).await;
        }
        Outcome::Refuse { reason } => {
            tracing::warn!(%peer, reason, "epmd refusing request");
        }
        Outcome::Kill(reply) => {
            write_reply(&mut stream, &reply, peer, shared).await;
            tracing::info!(%peer, "epmd killed by KILL_REQ");
            shared.kill.send_replace(true);
        }
        Outcome::Stopped {
            reply,
            registration,
        } => {
            if let Some(stop) = shared.state().registrations.remove(&registration) {
                let _ = stop.send(());
            }
            write_reply(&mut stream, &reply, peer, shared).await;
        }
        Outcome::Registered { reply, name } => {
            if write_reply(&mut stream, &reply, peer, shared).await {
                tracing::info!(%peer, name, "epmd registered node");
                hold_registration(&mut stream, stop_rx, shared).await;
            }
            let mut state = shared.state();
            state.registrations.remove(&conn);
            if let Some(name) = state.daemon.connection_closed(conn) {
                tracing::info!(%peer, name, "epmd unregistered node");
            }
        }
    }
}

/// Waits until the registration connection closes, breaks the protocol by
/// sending anything, is stopped by STOP_REQ, or the server stops.
async fn hold_registration(stream: &mut TcpStream, stop: oneshot::Receiver<()>, shared: &Shared) {
    let mut kill = shared.kill.subscribe();
    let mut byte = [0u8; 1];
    tokio::select! {
        read = stream.read(&mut byte) => {
            if let Ok(1) = read {
                tracing::warn!("epmd: data on a registration connection, unregistering");
            }
        }
        _ = stop => {}
        _ = kill.wait_for(|killed| *killed) => {}
    }
}

async fn write_reply(
    stream: &mut TcpStream,
    reply: &[u8],
    peer: SocketAddr,
    shared: &Shared,
) -> bool {
    match tokio::time::timeout(shared.request_timeout, stream.write_all(reply)).await {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            tracing::warn!(%peer, %err, "epmd failed to send reply");
            false
        }
        Err(_) => {
            tracing::warn!(%peer, "epmd gave up sending reply: client not reading");
            false
        }
    }
}

/// Why no request was read from a connection.
enum ReadError {
    /// The client closed the connection without sending anything (a port
    /// probe, or a liveness check): not worth a warning.
    Closed,
    /// Anything else: malformed, truncated or oversized.
    Bad(String),
}

/// Reads exactly one framed request.
async fn read_request(stream: &mut TcpStream) -> Result<Request, ReadError> {
    let mut prefix = [0u8; 2];
    let n = stream
        .read(&mut prefix)
        .await
        .map_err(|e| ReadError::Bad(format!("reading length: {e}")))?;
    match n {
        0 => return Err(ReadError::Closed),
        1 => {
            stream
                .read_exact(&mut prefix[1..])
                .await
                .map_err(|e| ReadError::Bad(format!("reading length: {e}")))?;
        }
        _ => {}
    }
    let len = body_len(prefix).map_err(|e| ReadError::Bad(e.to_string()))?;
    // Bounded by MAX_REQUEST_LEN.
    let mut body = vec![0u8; len];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| ReadError::Bad(format!("reading {len}-byte request: {e}")))?;
    Request::decode(&body).map_err(|e| ReadError::Bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_peers() {
        let v4 = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(is_local_peer(v4("127.0.0.1"), None));
        assert!(is_local_peer(v4("127.1.2.3"), None));
        assert!(is_local_peer(v4("::1"), None));
        assert!(is_local_peer(v4("::ffff:127.0.0.1"), None));
        assert!(!is_local_peer(v4("10.0.0.2"), Some(v4("10.0.0.1"))));
        assert!(is_local_peer(v4("10.0.0.1"), Some(v4("10.0.0.1"))));
        assert!(is_local_peer(v4("::ffff:10.0.0.1"), Some(v4("10.0.0.1"))));
    }
}
