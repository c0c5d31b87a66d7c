//! What a connection needs of the stream it runs over: readiness, and
//! reads and writes that never wait. A sender writes its message from its
//! own thread while the connection's task waits for the stream to become
//! readable, so the stream is shared (`&self`), as tokio's `TcpStream` is;
//! TCP is one implementation, in-memory pipes (for the tests) another.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::task::{Context, Poll};

use bytes::BytesMut;
use dist_proto::LengthPrefix;
use tokio::io::Interest;
use tokio::net::{TcpListener, TcpStream};

/// A byte stream shared by the connection's task and its senders.
///
/// The `try_` methods never wait: they fail with
/// [`io::ErrorKind::WouldBlock`] when the stream cannot take or give bytes
/// now, and the matching `poll_*_ready` tells when to try again. Only one
/// task waits on each readiness at a time (the connection's own).
pub(crate) trait Transport: std::fmt::Debug + Send + Sync + 'static {
    /// The length prefix of the distribution handshake's messages on this
    /// stream: 2 bytes on TCP, 4 on TLS (`inet_tls_dist`'s `{packet, 4}`).
    const HANDSHAKE_PREFIX: LengthPrefix = LengthPrefix::U16;

    /// Ready once a read may make progress (data, the end of the stream
    /// or an error).
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Reads what waits into the spare capacity of `buf`; `Ok(0)` is the
    /// end of the stream.
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize>;

    /// Ready once a write may make progress.
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Writes what the stream takes now, from the slices in order.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;

    /// Whether bytes the stream took still wait inside it for the socket
    /// (records a TLS layer made when the socket was full): the task then
    /// waits for the socket to be writable and calls [`Transport::try_flush`].
    fn has_buffered_output(&self) -> bool {
        false
    }

    /// Writes what waits inside the stream, without waiting.
    fn try_flush(&self) -> io::Result<()> {
        Ok(())
    }

    /// Closes both directions now: the peer sees the end of the stream
    /// before any later connection from us.
    fn shutdown(&self);
}

/// Reads into `buf`, waiting until some bytes (or the end) come.
pub(crate) async fn read<T: Transport>(stream: &T, buf: &mut BytesMut) -> io::Result<usize> {
    loop {
        poll_fn(|cx| stream.poll_read_ready(cx)).await?;
        match stream.try_read_buf(buf) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
            result => return result,
        }
    }
}

/// Writes all of `bytes`, waiting for room as needed.
pub(crate) async fn write_all<T: Transport>(stream: &T, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        poll_fn(|cx| stream.poll_write_ready(cx)).await?;
        match stream.try_write_vectored(&[IoSlice::new(bytes)]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Where connections come from: a listening socket, or the in-memory
/// network of the tests.
pub(crate) trait Listener: Send + 'static {
    /// The connections as accepted.
    type Accepted: Send + 'static;
    /// The streams the handshake runs on.
    type Stream: Transport;

    /// The next connection, and the address it comes from (for the logs and
    /// the limits on unauthenticated connections from one address).
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Accepted, SocketAddr)>> + Send;

    /// What an accepted connection goes through before the distribution
    /// handshake (a TLS handshake): run on the connection's own task,
    /// within the bounds of an unauthenticated connection.
    fn upgrade(
        &self,
        accepted: Self::Accepted,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + 'static;
}

impl Transport for TcpStream {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_read_ready(self, cx)
    }

    /// A read that leaves room unfilled has drained the socket, and the
    /// socket is marked not ready there and then, as tokio's own
    /// `AsyncRead` does: otherwise the next turn would spend a system call
    /// to learn it. (`try_io` clears the readiness it saw before the read
    /// when its closure reports `WouldBlock`, so data that arrives after
    /// the read still wakes the task.)
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        let room = buf.capacity() - buf.len();
        let mut read = None;
        let full = self.try_io(Interest::READABLE, || {
            let n = TcpStream::try_read_buf(self, buf)?;
            read = Some(n);
            if 0 < n && n < room {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        });
        match (full, read) {
            (Ok(n), _) => Ok(n),
            (Err(err), Some(n)) if err.kind() == io::ErrorKind::WouldBlock => Ok(n),
            (Err(err), _) => Err(err),
        }
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_write_ready(self, cx)
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        TcpStream::try_write_vectored(self, bufs)
    }

    fn shutdown(&self) {
        // Fails only if the socket is already closed, which is as good.
        let _ = socket2::SockRef::from(self).shutdown(std::net::Shutdown::Both);
    }
}

impl Listener for TcpListener {
    type Accepted = TcpStream;
    type Stream = TcpStream;

    fn upgrade(
        &self,
        accepted: TcpStream,
    ) -> impl Future<Output = io::Result<TcpStream>> + Send + 'static {
        std::future::ready(Ok(accepted))
    }

    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = TcpListener::accept(self).await?;
        let _ = stream.set_nodelay(true);
        Ok((stream, addr))
    }
}
