//! Accepting TLS distribution connections: TCP accepted at once, the TLS
//! handshake run on each connection's own task (as its upgrade), so a
//! stalled handshake holds nobody else at the door.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};

use crate::net::tls::stream::{TlsHandshakeError, TlsStream};
use crate::net::transport::Listener;

/// A TCP listener whose connections begin with a TLS handshake.
#[derive(Debug)]
pub(crate) struct TlsListener {
    tcp: TcpListener,
    config: Arc<ServerConfig>,
    /// The limit for the TLS handshake, as for each handshake step.
    setup_time: Duration,
}

impl TlsListener {
    pub(crate) fn new(tcp: TcpListener, config: Arc<ServerConfig>, setup_time: Duration) -> Self {
        TlsListener {
            tcp,
            config,
            setup_time,
        }
    }
}

impl Listener for TlsListener {
    type Accepted = TcpStream;
    type Stream = TlsStream;

    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        Listener::accept(&mut self.tcp)
    }

    fn upgrade(
        &self,
        accepted: TcpStream,
    ) -> impl Future<Output = io::Result<TlsStream>> + Send + 'static {
        let (config, limit) = (Arc::clone(&self.config), self.setup_time);
        async move {
            TlsStream::accept(accepted, config, limit)
                .await
                .map_err(|err| match err {
                    TlsHandshakeError::Failed(source) => source,
                    timeout @ TlsHandshakeError::Timeout(_) => {
                        io::Error::new(io::ErrorKind::TimedOut, timeout)
                    }
                })
        }
    }
}
