//! A connection that is up, core by the task that drives it (reading,
//! ticking, flushing: `driver.rs`) and the processes that send on it.
//!
//! A process encodes its message under the connection's lock and, when no
//! output waits ahead of it, writes it to the socket at once: a message
//! reaches the kernel without a hop through the connection's task, and the
//! encoding runs on the sender's thread. Output the socket does not take at
//! once stays queued, in order, for the task to flush when the socket is
//! writable again.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use dist_proto::{Connection, ConnectionError, ControlMessage, DistFlags, Sent};
use etf::Term;
use tokio::sync::Notify;

use crate::net::transport::Transport;
use crate::state::channel::{Channel, NotSent};

/// Take more frames from the connection only while less than this waits for
/// the socket: a large message leaves one fragment at a time, so ticks and
/// small messages queued meanwhile wait behind at most this much.
const WRITE_AHEAD: usize = 256 * 1024;
/// Chunks handed to one vectored write (below every system's `IOV_MAX`).
const MAX_SLICES: usize = 64;
/// A sender that finds the socket written less than this long ago, or its
/// thread's previous message (to any peer) sent less than this long ago,
/// leaves its message to the task instead of writing it: a burst of
/// messages, to one peer or round-robin to many, then leaves in a few large
/// writes per connection, not one system call each, while a message after
/// a pause (a request, a reply) still goes out at once.
const COALESCE: Duration = Duration::from_micros(20);

thread_local! {
    /// When a process on this thread last sent a message to a peer, on any
    /// connection: a process sending to many peers in turn finds each
    /// connection's own last write old, but is in a burst all the same.
    static LAST_SEND: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The core half of a connection that is up.
#[derive(Debug)]
pub(crate) struct Wire<T> {
    stream: T,
    /// The negotiated flags.
    flags: DistFlags,
    state: Mutex<WireState>,
    /// Wakes the task: output is left for it to flush, or it must close.
    wake: Notify,
    /// Wakes the senders waiting for room below the send buffer limit.
    room: Notify,
}

/// What the lock guards: the protocol state machine and the bytes it handed
/// out that the socket has not taken yet.
#[derive(Debug)]
pub(crate) struct WireState {
    pub(crate) conn: Connection,
    /// Bytes to write, in chunks; `pending` counts them.
    out: VecDeque<Bytes>,
    pending: usize,
    /// Set once the connection is closing: later sends are dropped, as
    /// Erlang drops messages to a connection going down.
    closing: Option<Closing>,
    /// When bytes were last written.
    last_write: Instant,
    /// Messages are refused while more than this waits for the socket.
    limit: usize,
    /// Whether a sender waits for room (or was refused) since the last
    /// time room was announced.
    wanted_room: bool,
}

/// Why a connection is closing, as its senders found it.
#[derive(Clone, Debug)]
pub(crate) enum Closing {
    /// `disconnect_node` or a replacement: close now.
    Disconnect,
    /// A write failed.
    WriteFailed(std::sync::Arc<std::io::Error>),
    /// The peer closed its end.
    Closed,
    /// The task ended.
    Ended,
}

impl<T: Transport> Wire<T> {
    /// A wire that refuses messages while more than `limit` bytes wait for
    /// the stream.
    pub(crate) fn new(stream: T, conn: Connection, limit: usize) -> Wire<T> {
        let flags = conn.flags();
        Wire {
            stream,
            flags,
            state: Mutex::new(WireState {
                conn,
                out: VecDeque::new(),
                pending: 0,
                closing: None,
                // Nothing written yet: the first message goes out at once.
                last_write: Instant::now()
                    .checked_sub(COALESCE)
                    .unwrap_or_else(Instant::now),
                limit,
                wanted_room: false,
            }),
            wake: Notify::new(),
            room: Notify::new(),
        }
    }

    /// The flags negotiated with the peer.
    pub(crate) fn flags(&self) -> DistFlags {
        self.flags
    }

    /// The stream, for the task to wait on.
    pub(crate) fn stream(&self) -> &T {
        &self.stream
    }

    /// Locks the state. A panic elsewhere while it was held leaves a state
    /// that is still consistent enough to close, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, WireState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until a sender leaves work for the task.
    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Sends a control message and its payload: encoded now, written now
    /// if nothing waits ahead of it, else queued behind what waits. A term
    /// that cannot be encoded, or that the peer could not decode (a native
    /// record for a node before OTP 29), fails that send only: it is
    /// logged and dropped.
    pub(crate) fn send(&self, control: ControlMessage, payload: Option<Term>) {
        let mut state = self.lock();
        let sent = self.send_locked(&mut state, control, payload);
        drop(state);
        match sent {
            Ok(true) => self.wake.notify_one(),
            Ok(false) => {}
            Err(err) => tracing::warn!(%err, "cannot send a message"),
        }
    }

    /// [`Wire::send`] for a message, refused while more than the limit
    /// waits for the socket, or when the peer lacks a flag the payload
    /// needs; other encoding failures are logged, as by [`Wire::send`].
    pub(crate) fn send_message(
        &self,
        control: ControlMessage,
        payload: Term,
    ) -> Result<(), NotSent> {
        let mut state = self.lock();
        let waiting = state.backlog();
        if waiting > state.limit && state.closing.is_none() {
            state.wanted_room = true;
            return Err(NotSent::Busy(waiting, payload));
        }
        let sent = self.send_locked(&mut state, control, Some(payload));
        drop(state);
        match sent {
            Ok(true) => self.wake.notify_one(),
            Ok(false) => {}
            Err(ConnectionError::PeerLacks { missing, what }) => {
                return Err(NotSent::PeerLacks { missing, what })
            }
            Err(err) => tracing::warn!(%err, "cannot send a message"),
        }
        Ok(())
    }

    /// Encodes and queues, and writes if nothing waits; whether the task
    /// must be woken (output is left for it, or the connection closes).
    /// A send the connection refuses leaves everything as it was.
    fn send_locked(
        &self,
        state: &mut WireState,
        control: ControlMessage,
        payload: Option<Term>,
    ) -> Result<bool, ConnectionError> {
        if state.closing.is_some() {
            return Ok(false);
        }
        let now = Instant::now();
        if state.conn.send(&control, payload.as_ref())? == Sent::Dropped {
            return Ok(false);
        }
        // With bytes pending, the task waits for the socket and writes
        // them, then these: writing here would only find the socket full.
        let after_pause = LAST_SEND
            .replace(Some(now))
            .is_none_or(|last| now.duration_since(last) >= COALESCE);
        if state.pending == 0 && now.duration_since(state.last_write) >= COALESCE && after_pause {
            state.flush(&self.stream);
            self.announce_room(state);
        }
        Ok(state.wants_write(&self.stream) || state.closing.is_some())
    }

    /// Waits until no more than the limit waits for the socket, or the
    /// connection is closing.
    pub(crate) async fn room(&self) {
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            // Registered before the check, so that room made after it
            // still wakes this sender.
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if state.backlog() <= state.limit || state.closing.is_some() {
                    return;
                }
                state.wanted_room = true;
            }
            notified.await;
        }
    }

    /// Wakes the senders waiting for room, if some wait and there is room
    /// now (or the connection is closing). Called after output left.
    pub(crate) fn announce_room(&self, state: &mut WireState) {
        if state.wanted_room && (state.backlog() <= state.limit || state.closing.is_some()) {
            state.wanted_room = false;
            self.room.notify_waiters();
        }
    }

    /// Closes the connection now, as `erlang:disconnect_node/1` does: the
    /// socket is shut down before this returns (so that the peer sees the
    /// close before any new connection from us), and the task is told to end.
    pub(crate) fn disconnect(&self) {
        self.lock().closing.get_or_insert(Closing::Disconnect);
        self.stream.shutdown();
        self.wake.notify_one();
    }
}

impl<T: Transport> Channel for Wire<T> {
    fn flags(&self) -> DistFlags {
        Wire::flags(self)
    }

    fn send(&self, control: ControlMessage, payload: Option<Term>) {
        Wire::send(self, control, payload);
    }

    fn send_message(&self, control: ControlMessage, payload: Term) -> Result<(), NotSent> {
        Wire::send_message(self, control, payload)
    }

    fn room(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(Wire::room(self))
    }

    fn disconnect(&self) {
        Wire::disconnect(self);
    }
}

impl WireState {
    /// Bytes waiting for the socket, not counting the rest of the messages
    /// going out in fragments now.
    fn backlog(&self) -> usize {
        self.pending + self.conn.send_backlog()
    }

    /// Whether output waits for the socket.
    pub(crate) fn wants_write<T: Transport>(&self, stream: &T) -> bool {
        self.pending > 0 || self.conn.wants_transmit() || stream.has_buffered_output()
    }

    pub(crate) fn closing(&self) -> Option<&Closing> {
        self.closing.as_ref()
    }

    pub(crate) fn close(&mut self, why: Closing) {
        self.closing.get_or_insert(why);
    }

    /// Writes what the socket takes without waiting; a failed write marks
    /// the connection closing.
    pub(crate) fn flush<T: Transport>(&mut self, stream: &T) {
        if let Err(why) = self.write_some(stream) {
            self.close(why);
        }
    }

    fn write_some<T: Transport>(&mut self, stream: &T) -> Result<(), Closing> {
        loop {
            while self.pending < WRITE_AHEAD && self.conn.wants_transmit() {
                self.pending += self.conn.poll_transmit_chunks(&mut self.out);
            }
            if self.pending == 0 {
                return match stream.try_flush() {
                    Err(err) if err.kind() != std::io::ErrorKind::WouldBlock => {
                        Err(Closing::WriteFailed(err.into()))
                    }
                    _ => Ok(()),
                };
            }
            let slices: Vec<IoSlice<'_>> = self
                .out
                .iter()
                .take(MAX_SLICES)
                .map(|chunk| IoSlice::new(chunk))
                .collect();
            match stream.try_write_vectored(&slices) {
                Ok(0) => return Err(Closing::Closed),
                Ok(n) => {
                    drop(slices);
                    self.pending -= n;
                    consume(&mut self.out, n);
                    self.last_write = Instant::now();
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) => return Err(Closing::WriteFailed(err.into())),
            }
        }
    }
}

/// Drops the first `n` bytes written from the chunks to write.
fn consume(out: &mut VecDeque<Bytes>, mut n: usize) {
    while n > 0 {
        let Some(front) = out.front_mut() else {
            return;
        };
        if n < front.len() {
            front.advance(n);
            return;
        }
        n -= front.len();
        out.pop_front();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use etf::{Atom, Pid};
    use tokio::net::TcpStream;

    use super::*;

    /// A wire over a loopback socket that refuses messages past `limit`,
    /// and the socket's other end.
    pub(crate) async fn loopback_wire(limit: usize) -> (Arc<Wire<TcpStream>>, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (ours, theirs) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let conn = Connection::new(
            DistFlags::default_hidden(),
            dist_proto::ConnectionConfig::default(),
            Instant::now(),
        );
        let wire = Wire::new(ours.expect("connect"), conn, limit);
        (Arc::new(wire), theirs.expect("accept").0)
    }

    /// A SEND to a pid on node `b@h`.
    pub(crate) fn send_to_b() -> ControlMessage {
        ControlMessage::Send {
            to: Pid {
                node: Atom::new("b@h"),
                id: 1,
                serial: 0,
                creation: 1,
            },
            token: None,
        }
    }

    #[tokio::test]
    async fn a_peer_that_does_not_read_gets_messages_refused_past_the_limit_but_signals() {
        const LIMIT: usize = 1 << 20;
        let (wire, _peer_not_reading) = loopback_wire(LIMIT).await;
        let message = Term::binary(vec![7u8; 100_000]);
        let mut accepted = 0;
        let waiting = loop {
            match wire.send_message(send_to_b(), message.clone()) {
                Ok(()) => accepted += 1,
                Err(NotSent::Busy(waiting, refused)) => {
                    // The refused message comes back, to send again later.
                    assert_eq!(refused, message);
                    break waiting;
                }
                Err(other) => panic!("{other:?}"),
            }
            assert!(accepted < 10_000, "never refused");
        };
        // Refused once past the limit, and by then no more than one
        // message beyond it (and what was handed to the socket) waits.
        assert!(waiting > LIMIT, "{waiting}");
        assert!(waiting <= LIMIT + 100_100 + WRITE_AHEAD, "{waiting}");
        assert!(wire.send_message(send_to_b(), message.clone()).is_err());
        // Signals still go: an exit, say, must not be lost to a busy link.
        let before = wire.lock().backlog();
        // Sent in the burst (this thread's last send counts as just now),
        // the signal queues behind the refused messages; after a pause it
        // could be written to the socket with some of them, and the backlog
        // would shrink.
        LAST_SEND.set(Some(Instant::now() + Duration::from_secs(60)));
        wire.send(send_to_b(), Some(Term::atom("signal")));
        assert!(wire.lock().backlog() > before);
    }

    #[tokio::test]
    async fn a_send_after_a_pause_leaves_at_once_but_one_straight_after_to_another_peer_waits_for_its_task(
    ) {
        let (a, _peer_a) = loopback_wire(1 << 20).await;
        let (b, _peer_b) = loopback_wire(1 << 20).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        a.send(send_to_b(), Some(Term::atom("request")));
        assert!(
            !a.lock().wants_write(a.stream()),
            "written at once after a pause"
        );
        // A round-robin burst: b's own socket was never written, but this
        // thread has just sent (counted as now, however long a debug build
        // took to encode and write).
        LAST_SEND.set(Some(Instant::now() + Duration::from_secs(60)));
        b.send(send_to_b(), Some(Term::atom("next")));
        assert!(b.lock().wants_write(b.stream()), "left to b's task");
    }
}
