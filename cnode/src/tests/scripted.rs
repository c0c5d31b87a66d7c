//! A scripted peer: one end of an in-memory pipe, driven by hand through
//! dist_proto's state machines. It ticks, reads and writes only when the
//! test says so, to play a peer that falls silent, stops reading or sends
//! exactly the frames a test needs.

use std::time::Duration;

use bytes::BytesMut;
use dist_proto::{
    Connection, ConnectionConfig, ConnectionEvent, ControlMessage, DistFlags, HandshakeConfig,
    Initiator, InitiatorEvent,
};
use etf::Term;

use crate::net::clock::now;
use crate::net::handshake::next_event;
use crate::net::memory::{MemoryNetwork, MemoryStream};
use crate::net::transport::{read, write_all};

use super::COOKIE;

/// A peer that completed the handshake and now speaks when told to.
pub(super) struct Scripted {
    stream: MemoryStream,
    conn: Connection,
    buf: BytesMut,
}

impl Scripted {
    /// Dials `to` on `network` as the node `name` and completes the
    /// handshake, offering `flags`.
    pub(super) async fn connect(
        network: &MemoryNetwork,
        name: &str,
        to: &str,
        flags: DistFlags,
    ) -> Scripted {
        let stream = network.connect(to).expect("the node listens");
        let config = HandshakeConfig {
            flags,
            ..HandshakeConfig::new(name, 7)
        };
        let cookie = dist_proto::Cookie::new(COOKIE);
        let mut initiator = Initiator::new(config, to, cookie, 42, now());
        let established = match next_event(&stream, &mut initiator).await {
            Ok(InitiatorEvent::Established(done)) => done,
            other => panic!("handshake with {to}: {other:?}"),
        };
        // No ticks of its own unless the test sends them.
        let config = ConnectionConfig {
            tick_time: Duration::from_secs(24 * 3600),
            ..ConnectionConfig::default()
        };
        let mut conn = Connection::new(established.flags, config, now());
        conn.handle_input(&established.leftover, now())
            .expect("leftover input");
        Scripted {
            stream,
            conn,
            buf: BytesMut::with_capacity(64 * 1024),
        }
    }

    /// Sends a control message and its payload, waiting for room.
    pub(super) async fn send(&mut self, control: &ControlMessage, payload: Option<&Term>) {
        self.conn.send(control, payload).expect("encodes");
        self.flush().await;
    }

    /// Sends a tick (an empty frame), as a live peer does.
    pub(super) async fn tick(&mut self) {
        write_all(&self.stream, &[0, 0, 0, 0])
            .await
            .expect("tick written");
    }

    async fn flush(&mut self) {
        let mut out = Vec::new();
        self.conn.poll_transmit(&mut out);
        write_all(&self.stream, &out).await.expect("written");
    }

    /// The next control message from the node (ticks are skipped); `None`
    /// once the node closed the connection.
    pub(super) async fn recv(&mut self) -> Option<(ControlMessage, Option<Term>)> {
        loop {
            while let Some(event) = self.conn.poll_event() {
                if let ConnectionEvent::Message { control, payload } = event {
                    return Some((control, payload));
                }
            }
            self.buf.clear();
            self.buf.reserve(64 * 1024);
            match read(&self.stream, &mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {
                    if self.conn.handle_input(&self.buf, now()).is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Waits until the node closes the connection, skipping what it sends;
    /// how long that took on the (paused) clock.
    pub(super) async fn closed(&mut self) -> Duration {
        let start = tokio::time::Instant::now();
        while self.recv().await.is_some() {}
        start.elapsed()
    }
}

impl Scripted {
    /// Sends a message one fragment at a time, `pause` apart, with a tick
    /// after each fragment; how many fragments went.
    pub(super) async fn send_slowly(
        &mut self,
        control: &ControlMessage,
        payload: &Term,
        pause: Duration,
    ) -> usize {
        self.conn.send(control, Some(payload)).expect("encodes");
        let mut fragments = 0;
        while self.conn.wants_transmit() {
            let mut out = Vec::new();
            self.conn.poll_transmit(&mut out);
            write_all(&self.stream, &out).await.expect("written");
            fragments += 1;
            tokio::time::sleep(pause).await;
            self.tick().await;
        }
        fragments
    }
}

impl Scripted {
    /// Writes bytes as they are: a frame of the test's own making.
    pub(super) async fn send_raw(&mut self, bytes: &[u8]) {
        write_all(&self.stream, bytes).await.expect("written");
    }
}
