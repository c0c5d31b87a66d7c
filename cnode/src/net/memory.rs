//! In-memory streams and a network of named listeners, for running nodes
//! against each other without sockets (and under tokio's paused clock).

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use tokio::sync::mpsc;

use crate::net::transport::{Listener, Transport};

/// One direction of a pipe: the bytes in flight, bounded as a socket
/// buffer is.
#[derive(Debug, Default)]
struct Direction {
    data: BytesMut,
    /// Set by a shutdown of either end: reads drain what is left, then see
    /// the end; writes fail.
    closed: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

#[derive(Debug)]
struct Pipe {
    directions: [Mutex<Direction>; 2],
    capacity: usize,
}

impl Pipe {
    fn lock(&self, direction: usize) -> MutexGuard<'_, Direction> {
        self.directions[direction]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// One end of an in-memory pipe: it reads one direction and writes the
/// other.
#[derive(Debug)]
pub(crate) struct MemoryStream {
    pipe: Arc<Pipe>,
    /// The direction this end reads; it writes the other one.
    reads: usize,
}

/// Bytes a direction holds before writes wait: what a loopback socket's
/// buffers hold, give or take.
pub(crate) const DEFAULT_CAPACITY: usize = 256 * 1024;

/// Two connected ends, each direction holding up to `capacity` bytes.
pub(crate) fn pipe(capacity: usize) -> (MemoryStream, MemoryStream) {
    let pipe = Arc::new(Pipe {
        directions: Default::default(),
        capacity: capacity.max(1),
    });
    let a = MemoryStream {
        pipe: Arc::clone(&pipe),
        reads: 0,
    };
    (a, MemoryStream { pipe, reads: 1 })
}

impl MemoryStream {
    fn read_side(&self) -> MutexGuard<'_, Direction> {
        self.pipe.lock(self.reads)
    }

    fn write_side(&self) -> MutexGuard<'_, Direction> {
        self.pipe.lock(1 - self.reads)
    }
}

impl Transport for MemoryStream {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut side = self.read_side();
        if !side.data.is_empty() || side.closed {
            return Poll::Ready(Ok(()));
        }
        side.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        let mut side = self.read_side();
        if side.data.is_empty() {
            return match side.closed {
                true => Ok(0),
                false => Err(io::ErrorKind::WouldBlock.into()),
            };
        }
        let room = buf.capacity() - buf.len();
        let n = side.data.len().min(room.max(1));
        buf.extend_from_slice(&side.data[..n]);
        side.data.advance(n);
        if let Some(writer) = side.writer.take() {
            writer.wake();
        }
        Ok(n)
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut side = self.write_side();
        if side.data.len() < self.pipe.capacity || side.closed {
            return Poll::Ready(Ok(()));
        }
        side.writer = Some(cx.waker().clone());
        Poll::Pending
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut side = self.write_side();
        if side.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let mut room = self.pipe.capacity.saturating_sub(side.data.len());
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut written = 0;
        for buf in bufs {
            let n = buf.len().min(room);
            side.data.extend_from_slice(&buf[..n]);
            written += n;
            room -= n;
            if room == 0 {
                break;
            }
        }
        if let Some(reader) = side.reader.take() {
            reader.wake();
        }
        Ok(written)
    }

    fn shutdown(&self) {
        for direction in 0..2 {
            let mut side = self.pipe.lock(direction);
            side.closed = true;
            for waker in [side.reader.take(), side.writer.take()]
                .into_iter()
                .flatten()
            {
                waker.wake();
            }
        }
    }
}

impl Drop for MemoryStream {
    /// An end let go closes the pipe, as closing a socket does.
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A connection on its way to a listener, with the address it comes from.
type Incoming = (MemoryStream, SocketAddr);

/// Names and their listeners: a node listens under its name, and dialing a
/// name hands the listener one end of a new pipe.
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoryNetwork {
    listeners: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Incoming>>>>,
    /// The source port of the next connection.
    next_port: Arc<AtomicU16>,
}

/// The connections made to one name.
#[derive(Debug)]
pub(crate) struct MemoryListener {
    incoming: mpsc::UnboundedReceiver<Incoming>,
}

/// Where connections come from unless told otherwise.
pub(crate) const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

impl MemoryNetwork {
    fn listeners(&self) -> MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Incoming>>> {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Listens under `name`, replacing an earlier listener of that name.
    pub(crate) fn listen(&self, name: &str) -> MemoryListener {
        let (tx, incoming) = mpsc::unbounded_channel();
        self.listeners().insert(name.to_owned(), tx);
        MemoryListener { incoming }
    }

    /// A new connection to the node listening under `name`, from the
    /// loopback address (as nodes on one host connect).
    pub(crate) fn connect(&self, name: &str) -> io::Result<MemoryStream> {
        self.connect_from(name, LOOPBACK)
    }

    /// A new connection to the node listening under `name`, from the
    /// address `source` (a port of its own each time).
    pub(crate) fn connect_from(&self, name: &str, source: IpAddr) -> io::Result<MemoryStream> {
        let listener = self.listeners().get(name).cloned();
        let Some(listener) = listener else {
            return Err(io::ErrorKind::ConnectionRefused.into());
        };
        let port = self.next_port.fetch_add(1, Ordering::Relaxed);
        let (ours, theirs) = pipe(DEFAULT_CAPACITY);
        listener
            .send((theirs, SocketAddr::new(source, port)))
            .map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
        Ok(ours)
    }
}

impl Listener for MemoryListener {
    type Accepted = MemoryStream;
    type Stream = MemoryStream;

    fn upgrade(
        &self,
        accepted: MemoryStream,
    ) -> impl Future<Output = io::Result<MemoryStream>> + Send + 'static {
        std::future::ready(Ok(accepted))
    }

    async fn accept(&mut self) -> io::Result<(MemoryStream, SocketAddr)> {
        match self.incoming.recv().await {
            Some(incoming) => Ok(incoming),
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::transport::{read, write_all};

    #[tokio::test]
    async fn bytes_written_at_one_end_are_read_at_the_other_in_order() {
        let (a, b) = pipe(4);
        let writer = tokio::spawn(async move {
            write_all(&a, b"hello, pipe").await.expect("write");
            a
        });
        let mut got = BytesMut::with_capacity(64);
        while got.len() < 11 {
            read(&b, &mut got).await.expect("read");
        }
        assert_eq!(&got[..], b"hello, pipe");
        drop(writer.await.expect("writer"));
        // The other end gone: the end of the stream.
        assert_eq!(read(&b, &mut got).await.expect("read"), 0);
    }

    #[tokio::test]
    async fn a_full_direction_refuses_writes_until_read() {
        let (a, b) = pipe(3);
        assert_eq!(a.try_write_vectored(&[IoSlice::new(b"abcd")]).unwrap(), 3);
        let full = a.try_write_vectored(&[IoSlice::new(b"d")]).unwrap_err();
        assert_eq!(full.kind(), io::ErrorKind::WouldBlock);
        let mut buf = BytesMut::with_capacity(8);
        assert_eq!(b.try_read_buf(&mut buf).unwrap(), 3);
        assert_eq!(a.try_write_vectored(&[IoSlice::new(b"d")]).unwrap(), 1);
    }

    #[tokio::test]
    async fn a_name_nobody_listens_on_refuses_the_connection() {
        let network = MemoryNetwork::default();
        let err = network.connect("nobody@h").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        let mut listener = network.listen("a@h");
        let _ours = network.connect("a@h").expect("connect");
        let (_theirs, from) = listener.accept().await.expect("accept");
        assert_eq!(from.ip(), LOOPBACK);
        let source = IpAddr::from([10, 1, 2, 3]);
        let _ours = network.connect_from("a@h", source).expect("connect");
        let (_theirs, second) = listener.accept().await.expect("accept");
        assert_eq!(second.ip(), source);
        assert_ne!(second.port(), from.port());
    }
}
