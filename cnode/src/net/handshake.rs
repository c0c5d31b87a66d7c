//! The stream side of a handshake: moves bytes between a [`Transport`] and
//! an [`Initiator`] or [`Acceptor`] until the state machine has something
//! to report.

use std::time::Instant;

use bytes::BytesMut;
use dist_proto::{Acceptor, AcceptorEvent, HandshakeError, Initiator, InitiatorEvent};

use crate::net::clock::now;
use crate::net::transport::{read, write_all, Transport};

/// What both handshake roles offer the driver.
pub(crate) trait Role {
    /// What this role reports.
    type Event;
    fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), HandshakeError>;
    fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError>;
    fn handle_peer_closed(&mut self) -> HandshakeError;
    fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize;
    fn poll_event(&mut self) -> Option<Self::Event>;
    fn poll_timeout(&self) -> Option<Instant>;
}

macro_rules! role {
    ($t:ty, $event:ty) => {
        impl Role for $t {
            type Event = $event;
            fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), HandshakeError> {
                <$t>::handle_input(self, bytes, now)
            }
            fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError> {
                <$t>::handle_timeout(self, now)
            }
            fn handle_peer_closed(&mut self) -> HandshakeError {
                <$t>::handle_peer_closed(self)
            }
            fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
                <$t>::poll_transmit(self, out)
            }
            fn poll_event(&mut self) -> Option<$event> {
                <$t>::poll_event(self)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$t>::poll_timeout(self)
            }
        }
    };
}

role!(Initiator, InitiatorEvent);
role!(Acceptor, AcceptorEvent);

/// Handshake messages are small; a read never needs more.
const READ_SIZE: usize = 4096;

/// Runs the handshake until its next event. On failure, what the state
/// machine queued (a refusing status) is still sent.
pub(crate) async fn next_event<T: Transport, R: Role>(
    stream: &T,
    role: &mut R,
) -> Result<R::Event, HandshakeError> {
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    loop {
        flush(stream, role).await?;
        if let Some(event) = role.poll_event() {
            return Ok(event);
        }
        let Some(deadline) = role.poll_timeout() else {
            // Neither an event nor a timer: the machine has ended; asking it
            // again yields its error.
            return Err(role
                .handle_timeout(now())
                .err()
                .unwrap_or(HandshakeError::Finished));
        };
        buf.clear();
        let got = tokio::time::timeout_at(deadline.into(), read(stream, &mut buf)).await;
        let result = match got {
            Err(_elapsed) => role.handle_timeout(now()),
            Ok(Ok(0)) | Ok(Err(_)) => Err(role.handle_peer_closed()),
            Ok(Ok(_)) => role.handle_input(&buf, now()),
        };
        if let Err(err) = result {
            let _ = flush(stream, role).await;
            return Err(err);
        }
    }
}

/// Sends what the state machine queued.
pub(crate) async fn flush<T: Transport, R: Role>(
    stream: &T,
    role: &mut R,
) -> Result<(), HandshakeError> {
    let mut out = Vec::new();
    role.poll_transmit(&mut out);
    if !out.is_empty() && write_all(stream, &out).await.is_err() {
        return Err(role.handle_peer_closed());
    }
    Ok(())
}
