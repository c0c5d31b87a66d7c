//! The task of one connection: it owns the socket and drives the
//! [`Connection`] state machine. Bytes in, bytes out, the tick timer, and
//! the messages it decodes handed to the node without ever waiting on a
//! process.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use dist_proto::{
    Connection, ConnectionConfig, ConnectionError, ConnectionEvent, ControlMessage, DistFlags,
    Established,
};
use etf::Atom;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::events::DownReason;
use crate::node::Shared;
use crate::peers::Command;

/// Room made in the read buffer when less than a quarter of it is free:
/// large enough that several 64 KiB fragments come in one system call.
const READ_SIZE: usize = 256 * 1024;
/// Stop taking commands while this much output waits for the socket, so a
/// peer that does not read bounds our buffer (the commands wait in their
/// queue instead). Large messages already being sent in fragments do not
/// count: they must not stop other processes' messages.
const HIGH_WATER: usize = 4 << 20;
/// Take more frames from the connection only while less than this waits for
/// the socket: a large message leaves one fragment at a time, so ticks and
/// small messages queued meanwhile wait behind at most this much.
const WRITE_AHEAD: usize = 256 * 1024;
/// Commands taken in one go before writing: batching without starving the
/// reader.
const BATCH: usize = 256;

/// Chunks handed to one vectored write (below every system's `IOV_MAX`).
const MAX_SLICES: usize = 64;

/// How long a shutdown waits for queued output to leave.
const SHUTDOWN_FLUSH: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs connection `id` to `node` until it ends, then reports it down.
pub(crate) async fn run(
    shared: Arc<Shared>,
    node: Atom,
    id: u64,
    stream: TcpStream,
    established: Established,
) {
    let now = Instant::now();
    let config = ConnectionConfig {
        tick_time: shared.config.tick_time,
        ..ConnectionConfig::default()
    };
    let mut conn = Connection::new(established.flags, config, now);
    let (tx, mut commands) = mpsc::unbounded_channel();
    let Some(events) = shared.peers().established(&node, id, tx) else {
        tracing::debug!(%node, "connection superseded; closing it");
        return;
    };
    tracing::info!(%node, flags = %established.flags, "connected");
    for event in events {
        shared.publish(event);
    }
    let reason = match conn.handle_input(&established.leftover, now) {
        Ok(()) => drive(&shared, &node, &mut conn, stream, &mut commands).await,
        Err(err) => down_reason(err),
    };
    tracing::info!(%node, %reason, "connection down");
    if let Some(event) = shared.peers().down(&node, id, reason) {
        shared.publish(event);
    }
}

async fn drive(
    shared: &Arc<Shared>,
    node: &Atom,
    conn: &mut Connection,
    mut stream: TcpStream,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> DownReason {
    let (mut reader, mut writer) = stream.split();
    let mut shutdown = shared.shutdown_signal();
    let mut buf = BytesMut::new();
    // Bytes to write, in chunks; `pending` counts them.
    let mut out = VecDeque::new();
    let mut pending = 0;
    let sender = conn.flags().contains(DistFlags::SEND_SENDER);
    loop {
        while let Some(event) = conn.poll_event() {
            if let ConnectionEvent::Message { control, payload } = event {
                crate::dispatch::dispatch(shared, node, control, payload);
            }
        }
        while pending < WRITE_AHEAD && conn.wants_transmit() {
            pending += conn.poll_transmit_chunks(&mut out);
        }
        let Some(deadline) = conn.poll_timeout() else {
            return DownReason::Protocol("connection failed".into());
        };
        let slices: Vec<IoSlice<'_>> = out
            .iter()
            .take(MAX_SLICES)
            .map(|chunk| IoSlice::new(chunk))
            .collect();
        if buf.capacity() - buf.len() < READ_SIZE / 4 {
            buf.reserve(READ_SIZE);
        }
        tokio::select! {
            _ = crate::tasks::until_shutdown(&mut shutdown) => {
                // What was already sent goes out, unless the peer does not read.
                drop(slices);
                while conn.wants_transmit() {
                    conn.poll_transmit_chunks(&mut out);
                }
                let flush = async {
                    for chunk in &out {
                        writer.write_all(chunk).await?;
                    }
                    std::io::Result::Ok(())
                };
                let _ = tokio::time::timeout(SHUTDOWN_FLUSH, flush).await;
                return DownReason::Shutdown;
            }
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) => return DownReason::Closed,
                Ok(_) => {
                    // Read in place behind the start of the frame they
                    // continue: the decoder takes the buffer over without a
                    // copy and hands back what is left of it.
                    let read = std::mem::take(&mut buf);
                    if let Err(err) = conn.handle_input_buf(read, Instant::now()) {
                        return down_reason(err);
                    }
                    buf = conn.take_input_buffer();
                }
                Err(err) => return DownReason::Io(err.to_string()),
            },
            result = writer.write_vectored(&slices), if pending > 0 => match result {
                Ok(0) => return DownReason::Closed,
                Ok(n) => {
                    drop(slices);
                    pending -= n;
                    consume(&mut out, n);
                }
                Err(err) => return DownReason::Io(err.to_string()),
            },
            command = commands.recv(), if pending + conn.send_backlog() < HIGH_WATER => {
                let mut next = command;
                let mut taken = 0;
                loop {
                    match next {
                        Some(Command::Send(control, payload)) => {
                            let control = downgrade(control, sender);
                            if let Err(err) = conn.send(&control, payload.as_ref()) {
                                // A term we cannot encode fails that send only.
                                tracing::warn!(%node, %err, "cannot send a message");
                            }
                        }
                        Some(Command::Disconnect) | None => return DownReason::Disconnected,
                    }
                    taken += 1;
                    if taken == BATCH {
                        break;
                    }
                    match commands.try_recv() {
                        Ok(command) => next = Some(command),
                        Err(_) => break,
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => {
                if let Err(err) = conn.handle_timeout(Instant::now()) {
                    return down_reason(err);
                }
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

/// `SEND_SENDER` becomes `SEND` for a peer without the flag.
fn downgrade(control: ControlMessage, sender: bool) -> ControlMessage {
    match control {
        ControlMessage::SendSender { to, token, .. } if !sender => {
            ControlMessage::Send { to, token }
        }
        other => other,
    }
}

fn down_reason(err: ConnectionError) -> DownReason {
    match err {
        ConnectionError::TickTimeout { silent, .. } => DownReason::TickTimeout { silent },
        other => DownReason::Protocol(other.to_string()),
    }
}
