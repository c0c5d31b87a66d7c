//! The task of one connection: it reads from the socket and drives the
//! [`Connection`] state machine (bytes in, the tick timer), hands the
//! messages it decodes to the node without ever waiting on a process, and
//! flushes the output that senders left queued (see [`Wire`]).

use std::future::poll_fn;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use dist_proto::{Connection, ConnectionConfig, ConnectionError, ConnectionEvent, Established};
use etf::Atom;

use crate::data::events::DownReason;
use crate::net::clock::now;
use crate::net::transport::Transport;
use crate::net::wire::{Closing, Wire};
use crate::runtime::core::Core;

/// Room made in the read buffer when less than a quarter of it is free:
/// large enough that several 64 KiB fragments come in one system call.
const READ_SIZE: usize = 256 * 1024;

/// Room made for a read while the reads so far were small: an idle
/// connection reads a tick (4 bytes) every quarter of the tick time, and a
/// buffer of [`READ_SIZE`] made for it would keep a few of its pages
/// resident until the next tick check lets it go. A read that fills this
/// room makes the next one [`READ_SIZE`].
const SMALL_READ_SIZE: usize = 1024;

/// How long the task may go on reading and waking processes before it
/// yields to them (it yields sooner once it has read [`READ_SIZE`] bytes).
/// Yielding after every read costs small messages dearly: the woken process
/// moves to another worker thread, and the two threads wake each other in
/// turn (measured: twice the context switches, 1.5x the CPU per message).
const YIELD_EVERY: std::time::Duration = std::time::Duration::from_millis(1);

/// How long a shutdown waits for queued output to leave.
const SHUTDOWN_FLUSH: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs connection `id` to `node` until it ends, then reports it down.
pub(crate) async fn run<T: Transport>(
    core: Arc<Core>,
    node: Atom,
    id: u64,
    stream: T,
    established: Established,
) {
    let now = now();
    let config = ConnectionConfig {
        tick_time: core.config.tick_time,
        ..ConnectionConfig::default()
    };
    let flags = established.flags;
    let conn = Connection::new(flags, config, now);
    let wire = Arc::new(Wire::new(stream, conn, core.config.send_buffer_limit));
    let Some(events) = core.peers().established(&node, id, Arc::clone(&wire) as _) else {
        tracing::debug!(%node, "connection superseded; closing it");
        return;
    };
    tracing::info!(%node, %flags, "connected");
    for event in events {
        core.publish(event);
    }
    let leftover = wire.lock().conn.handle_input(&established.leftover, now);
    let reason = match leftover {
        Ok(()) => drive(&core, &node, &wire).await,
        Err(err) => down_reason(err),
    };
    {
        // Senders waiting for room give up on a connection that is gone.
        let mut state = wire.lock();
        state.close(Closing::Ended);
        wire.announce_room(&mut state);
    }
    tracing::info!(%node, %reason, "connection down");
    if let Some(event) = core.peers().down(&node, id, reason) {
        core.publish(event);
    }
}

async fn drive<T: Transport>(core: &Arc<Core>, node: &Atom, wire: &Wire<T>) -> DownReason {
    let stream = wire.stream();
    let mut shutdown_signal = core.shutdown_signal();
    // The futures the task waits on are made once and polled again on every
    // turn (the wake-up is made anew only after it fires). Made anew on
    // every turn, each would register and deregister itself, a lock or a
    // timer-wheel update apiece, several turns per message.
    let shutdown = crate::runtime::tasks::until_shutdown(&mut shutdown_signal);
    let woken = wire.woken();
    let tick = tokio::time::sleep_until(now().into());
    tokio::pin!(shutdown, woken, tick);
    let mut buf = BytesMut::new();
    let mut read_size = SMALL_READ_SIZE;
    let mut events = Vec::new();
    let mut last_yield = Instant::now();
    let mut read_since_yield = 0;
    loop {
        let (deadline, wants_write) = {
            let mut state = wire.lock();
            match state.closing() {
                None => {}
                Some(Closing::Disconnect) => return DownReason::Disconnected,
                Some(Closing::Closed) => return DownReason::Closed,
                Some(Closing::WriteFailed(err)) => return DownReason::write_failed(err.clone()),
                Some(Closing::Ended) => return DownReason::Shutdown,
            }
            // After output left (any branch below may have flushed).
            wire.announce_room(&mut state);
            while let Some(event) = state.conn.poll_event() {
                if let ConnectionEvent::Message { control, payload } = event {
                    events.push((control, payload));
                }
            }
            let Some(deadline) = state.conn.poll_timeout() else {
                // Only a failed connection has no deadline.
                let failed = state.conn.failure().cloned();
                return failed.map_or(DownReason::Closed, down_reason);
            };
            (deadline.into(), state.wants_write(stream))
        };
        if tick.deadline() != deadline {
            tick.as_mut().reset(deadline);
        }
        // Delivered without the lock: a process may answer on this wire.
        let delivered = !events.is_empty();
        for (control, payload) in events.drain(..) {
            crate::runtime::dispatch::dispatch(core, node, control, payload);
        }
        if delivered && (read_since_yield >= READ_SIZE || last_yield.elapsed() >= YIELD_EVERY) {
            // Let the processes just woken run before reading on: while a
            // large message streams in, this task is always ready, and a
            // process woken from it would otherwise wait behind it (and keep
            // the read buffer a message of one frame shares alive).
            tokio::task::yield_now().await;
            last_yield = Instant::now();
            read_since_yield = 0;
        }
        tokio::select! {
            _ = &mut shutdown => {
                // What was already sent goes out, unless the peer does not read.
                let flush = async {
                    loop {
                        {
                            let mut state = wire.lock();
                            state.flush(stream);
                            if !state.wants_write(stream) || state.closing().is_some() {
                                return;
                            }
                        }
                        if poll_fn(|cx| stream.poll_write_ready(cx)).await.is_err() {
                            return;
                        }
                    }
                };
                let _ = tokio::time::timeout(SHUTDOWN_FLUSH, flush).await;
                return DownReason::Shutdown;
            }
            ready = poll_fn(|cx| stream.poll_read_ready(cx)) => {
                if let Err(err) = ready {
                    return DownReason::read_failed(err);
                }
                // Room is made when data waits, so that an idle connection
                // holds no read buffer (see the timer below).
                if buf.capacity() - buf.len() < read_size / 4 {
                    buf.reserve(read_size);
                }
                let room = buf.capacity() - buf.len();
                match stream.try_read_buf(&mut buf) {
                    Ok(0) => return DownReason::Closed,
                    Ok(n) => {
                        if n == room {
                            read_size = READ_SIZE;
                        }
                        read_since_yield += n;
                        // Read in place behind the start of the frame they
                        // continue: the decoder takes the buffer over without
                        // a copy and hands back what is left of it.
                        let read = std::mem::take(&mut buf);
                        let mut state = wire.lock();
                        if let Err(err) = state.conn.handle_input_buf(read, now()) {
                            return down_reason(err);
                        }
                        buf = state.conn.take_input_buffer();
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) => return DownReason::read_failed(err),
                }
            }
            ready = poll_fn(|cx| stream.poll_write_ready(cx)), if wants_write => {
                if let Err(err) = ready {
                    return DownReason::write_failed(err);
                }
                wire.lock().flush(stream);
            }
            () = &mut woken => woken.set(wire.woken()),
            () = &mut tick => {
                let mut state = wire.lock();
                if let Err(err) = state.conn.handle_timeout(now()) {
                    return down_reason(err);
                }
                // A tick goes out now, not when a message happens to follow.
                state.flush(stream);
                // Once per tick check, an empty read buffer is let go: idle
                // connections do not keep 256 KiB each.
                if buf.is_empty() {
                    buf = BytesMut::new();
                    read_size = SMALL_READ_SIZE;
                }
            }
        }
    }
}

fn down_reason(err: ConnectionError) -> DownReason {
    match err {
        ConnectionError::TickTimeout { silent, .. } => DownReason::TickTimeout { silent },
        other => DownReason::Protocol(Arc::new(other)),
    }
}
