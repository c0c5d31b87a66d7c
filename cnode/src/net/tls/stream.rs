//! A TLS stream over TCP with the [`Transport`] contract: reads and writes
//! that never wait, and readiness from the socket. rustls does the
//! cryptography without I/O of its own: records are read from and written
//! to the socket here, under one lock, by whichever of the connection's
//! task or a sender comes.
//!
//! The TLS handshake itself runs before, with tokio-rustls (it waits, and
//! is bounded by the setup time); the stream is built from its result.

use std::io::{self, IoSlice, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use dist_proto::LengthPrefix;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use tokio::net::TcpStream;

use crate::net::transport::Transport;

/// Plaintext read in one go at most: what one TLS record carries, times a
/// few.
const READ_CHUNK: usize = 64 * 1024;

/// A TLS connection over a TCP socket, after the TLS handshake.
#[derive(Debug)]
pub(crate) struct TlsStream {
    tcp: TcpStream,
    tls: Mutex<State>,
}

#[derive(Debug)]
struct State {
    conn: rustls::Connection,
    /// Decrypted bytes waiting in `conn`.
    plaintext: usize,
    /// The peer closed (TLS close_notify or the socket's end).
    ended: bool,
}

/// Why a TLS handshake failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsHandshakeError {
    /// The peer did not finish it within the setup time.
    #[error("no answer to the TLS handshake within {0:?} (a peer without TLS never answers it)")]
    Timeout(Duration),
    /// The peer's certificate was refused, or the peer refused ours, or
    /// the peer does not speak TLS.
    #[error("TLS handshake failed: {0}")]
    Failed(#[source] io::Error),
}

impl TlsStream {
    /// Runs the server side of a TLS handshake on `tcp`, within `limit`.
    pub(crate) async fn accept(
        tcp: TcpStream,
        config: Arc<ServerConfig>,
        limit: Duration,
    ) -> Result<TlsStream, TlsHandshakeError> {
        let accept = tokio_rustls::TlsAcceptor::from(config).accept(tcp);
        let stream = tokio::time::timeout(limit, accept)
            .await
            .map_err(|_| TlsHandshakeError::Timeout(limit))?
            .map_err(TlsHandshakeError::Failed)?;
        let (tcp, conn) = stream.into_inner();
        Ok(TlsStream::new(tcp, conn.into()))
    }

    /// Runs the client side of a TLS handshake on `tcp` with the server
    /// `name` (its certificate is checked against it, and it goes as SNI
    /// unless the configuration turns that off), within `limit`.
    pub(crate) async fn connect(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        limit: Duration,
    ) -> Result<TlsStream, TlsHandshakeError> {
        let connect = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
        let stream = tokio::time::timeout(limit, connect)
            .await
            .map_err(|_| TlsHandshakeError::Timeout(limit))?
            .map_err(TlsHandshakeError::Failed)?;
        let (tcp, conn) = stream.into_inner();
        Ok(TlsStream::new(tcp, conn.into()))
    }

    fn new(tcp: TcpStream, mut conn: rustls::Connection) -> TlsStream {
        // What came with the end of the handshake is decrypted already.
        let (plaintext, ended) = match conn.process_new_packets() {
            Ok(state) => (state.plaintext_bytes_to_read(), state.peer_has_closed()),
            Err(_) => (0, true),
        };
        let _ = tcp.set_nodelay(true);
        TlsStream {
            tcp,
            tls: Mutex::new(State {
                conn,
                plaintext,
                ended,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.tls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The socket as rustls reads records from it: never waiting.
struct SocketReader<'a>(&'a TcpStream);

impl Read for SocketReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

/// The socket as rustls writes records to it: never waiting.
struct SocketWriter<'a>(&'a TcpStream);

impl Write for SocketWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.try_write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl State {
    /// Writes the records waiting, until none waits or the socket is full
    /// (`WouldBlock`).
    fn flush(&mut self, tcp: &TcpStream) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut SocketWriter(tcp))? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }
}

impl Transport for TlsStream {
    const HANDSHAKE_PREFIX: LengthPrefix = LengthPrefix::U32;

    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        {
            let state = self.lock();
            if state.plaintext > 0 || state.ended {
                return Poll::Ready(Ok(()));
            }
        }
        self.tcp.poll_read_ready(cx)
    }

    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        let mut state = self.lock();
        loop {
            if state.plaintext > 0 {
                let start = buf.len();
                let room = (buf.capacity() - start).clamp(1, READ_CHUNK);
                buf.resize(start + room.min(state.plaintext), 0);
                let read = state.conn.reader().read(&mut buf[start..]);
                let n = *read.as_ref().unwrap_or(&0);
                buf.truncate(start + n);
                state.plaintext -= n.min(state.plaintext);
                return read;
            }
            if state.ended {
                return Ok(0);
            }
            if state.conn.read_tls(&mut SocketReader(&self.tcp))? == 0 {
                state.ended = true;
                return Ok(0);
            }
            match state.conn.process_new_packets() {
                Ok(io) => {
                    state.plaintext = io.plaintext_bytes_to_read();
                    state.ended = io.peer_has_closed() && state.plaintext == 0;
                }
                Err(err) => {
                    // The alert rustls queued tells the peer why.
                    let _ = state.flush(&self.tcp);
                    state.ended = true;
                    return Err(io::Error::new(io::ErrorKind::InvalidData, err));
                }
            }
            // A key update or an alert may want an answer now.
            match state.flush(&self.tcp) {
                Err(err) if err.kind() != io::ErrorKind::WouldBlock => return Err(err),
                _ => {}
            }
        }
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp.poll_write_ready(cx)
    }

    /// Takes plaintext only once the records made from earlier plaintext
    /// have left: the bytes buffered below the connection stay bounded by
    /// what one call encrypts.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut state = self.lock();
        state.flush(&self.tcp)?;
        let n = state.conn.writer().write_vectored(bufs)?;
        if n == 0 && bufs.iter().any(|b| !b.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match state.flush(&self.tcp) {
            Err(err) if err.kind() != io::ErrorKind::WouldBlock => Err(err),
            _ => Ok(n),
        }
    }

    fn has_buffered_output(&self) -> bool {
        self.lock().conn.wants_write()
    }

    fn try_flush(&self) -> io::Result<()> {
        self.lock().flush(&self.tcp)
    }

    fn shutdown(&self) {
        let mut state = self.lock();
        state.conn.send_close_notify();
        let _ = state.flush(&self.tcp);
        drop(state);
        let _ = socket2::SockRef::from(&self.tcp).shutdown(std::net::Shutdown::Both);
    }
}
