//! A TLS stream over TCP with the [`Transport`] contract: reads and writes
//! that never wait, and readiness from the socket. rustls does the
//! cryptography without I/O of its own: records are read from and written
//! to the socket here, under one lock, by whichever of the connection's
//! task or a sender comes.
//!
//! The TLS handshake itself runs before, with tokio-rustls (it waits, and
//! is bounded by the setup time); the stream is built from its result.

use std::cell::RefCell;
use std::io::{self, BufRead, IoSlice, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use dist_proto::LengthPrefix;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::net::transport::Transport;

/// Ciphertext read from the socket in one go at most: four full TLS
/// records. (rustls's own `read_tls` reads 4 KiB at a time.)
const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    /// Where a thread reads ciphertext from a socket before rustls takes
    /// it: one buffer per thread rather than one per connection, so an
    /// idle connection holds none.
    static CIPHERTEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

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
    /// Ciphertext read from the socket that rustls has not taken yet: the
    /// rest of a read that brought more plaintext than the caller had
    /// room for. Usually empty (and unallocated).
    ciphertext: Vec<u8>,
    /// The peer sent its close_notify.
    closing: bool,
    /// The peer closed (TLS close_notify or the socket's end), and no
    /// plaintext is left.
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
        let (plaintext, closing) = match conn.process_new_packets() {
            Ok(state) => (state.plaintext_bytes_to_read(), state.peer_has_closed()),
            Err(_) => (0, true),
        };
        let _ = tcp.set_nodelay(true);
        TlsStream {
            tcp,
            tls: Mutex::new(State {
                conn,
                plaintext,
                ciphertext: Vec::new(),
                closing,
                ended: closing && plaintext == 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.tls.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Moves decrypted bytes into the spare capacity of `buf`, at most
    /// `limit`, without zero-filling it first; returns how many.
    fn take_plaintext(&mut self, buf: &mut BytesMut, limit: usize) -> usize {
        let mut taken = 0;
        while self.plaintext > 0 && taken < limit {
            let mut reader = self.conn.reader();
            let n = match reader.fill_buf() {
                Ok(chunk) if !chunk.is_empty() => {
                    let n = chunk.len().min(limit - taken);
                    buf.extend_from_slice(&chunk[..n]);
                    n
                }
                _ => break,
            };
            reader.consume(n);
            taken += n;
            self.plaintext -= n.min(self.plaintext);
        }
        if self.closing && self.plaintext == 0 {
            self.ended = true;
        }
        taken
    }

    /// Gives rustls the records in `ciphertext` and moves what they decrypt
    /// to `buf` (`read` counts it), until all are taken or `read` reaches
    /// `limit`; returns how many bytes of `ciphertext` were taken.
    fn decrypt(
        &mut self,
        tcp: &TcpStream,
        ciphertext: &[u8],
        buf: &mut BytesMut,
        limit: usize,
        read: &mut usize,
    ) -> io::Result<usize> {
        let mut rest = ciphertext;
        while !rest.is_empty() && *read < limit && !self.ended {
            // At most one record's worth per call (rustls's deframer).
            if self.conn.read_tls(&mut rest)? == 0 {
                self.ended = true;
                break;
            }
            match self.conn.process_new_packets() {
                Ok(io) => {
                    self.plaintext = io.plaintext_bytes_to_read();
                    self.closing = io.peer_has_closed();
                }
                Err(err) => {
                    // The alert rustls queued tells the peer why.
                    let _ = self.flush(tcp);
                    self.ended = true;
                    return Err(io::Error::new(io::ErrorKind::InvalidData, err));
                }
            }
            // A key update or an alert may want an answer now.
            match self.flush(tcp) {
                Err(err) if err.kind() != io::ErrorKind::WouldBlock => return Err(err),
                _ => {}
            }
            *read += self.take_plaintext(buf, limit - *read);
        }
        Ok(ciphertext.len() - rest.len())
    }
}

/// Reads what waits on the socket into the spare capacity of `into` (no
/// zero fill); `Ok((n, drained))`, `drained` when the read left room (the
/// socket is empty: its readiness is cleared, as the plain TCP transport
/// does, so the task next waits for new data instead of trying a read
/// that would fail).
fn read_socket(tcp: &TcpStream, into: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let room = into.capacity() - into.len();
    let mut read = None;
    let full = tcp.try_io(Interest::READABLE, || {
        let n = tcp.try_read_buf(into)?;
        read = Some(n);
        if 0 < n && n < room {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    });
    match (full, read) {
        (Ok(n), _) => Ok((n, false)),
        (Err(err), Some(n)) if err.kind() == io::ErrorKind::WouldBlock => Ok((n, true)),
        (Err(err), _) => Err(err),
    }
}

impl Transport for TlsStream {
    const HANDSHAKE_PREFIX: LengthPrefix = LengthPrefix::U32;

    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        {
            let state = self.lock();
            if state.plaintext > 0 || !state.ciphertext.is_empty() || state.ended {
                return Poll::Ready(Ok(()));
            }
        }
        self.tcp.poll_read_ready(cx)
    }

    /// Fills the spare capacity of `buf` with plaintext: what rustls holds
    /// decrypted, then the ciphertext left from an earlier read, then
    /// reads of up to [`READ_CHUNK`] from the socket until it is empty.
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        let limit = (buf.capacity() - buf.len()).max(1);
        let mut state = self.lock();
        let mut read = state.take_plaintext(buf, limit);
        if !state.ciphertext.is_empty() {
            let ciphertext = std::mem::take(&mut state.ciphertext);
            let used = state.decrypt(&self.tcp, &ciphertext, buf, limit, &mut read)?;
            if used < ciphertext.len() {
                state.ciphertext = ciphertext[used..].to_vec();
            }
        }
        CIPHERTEXT.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            loop {
                if read >= limit || state.ended || !state.ciphertext.is_empty() {
                    return Ok(read);
                }
                scratch.clear();
                scratch.reserve(READ_CHUNK);
                let (n, drained) = match read_socket(&self.tcp, &mut scratch) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock && read > 0 => {
                        return Ok(read)
                    }
                    other => other?,
                };
                if n == 0 {
                    state.ended = true;
                    return Ok(read);
                }
                let used = state.decrypt(&self.tcp, &scratch, buf, limit, &mut read)?;
                if used < n {
                    state.ciphertext = scratch[used..].to_vec();
                } else if drained {
                    return match read {
                        0 => Err(io::ErrorKind::WouldBlock.into()),
                        _ => Ok(read),
                    };
                }
            }
        })
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
