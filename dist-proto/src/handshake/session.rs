//! What both roles of the handshake share: messages framed with a 2-byte
//! length (4 over TLS), output queued for `poll_transmit`, the timer for each step,
//! events for the caller, and the latch that makes a failure final.
//!
//! A role is a [`Side`]: its own states and messages. A [`Session`] runs it.

use super::message::HandshakeMessage;
use super::{Established, HandshakeError, Step};
use crate::framing::{write_frame, Frame, FrameDecoder, LengthPrefix};
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One role of the handshake, run by a [`Session`].
pub(super) trait Side {
    /// What this role reports to its caller.
    type Event: From<Established>;
    /// The role's name in traces.
    const ROLE: &'static str;

    /// What the role waits for, `None` once established.
    fn step(&self) -> Option<Step>;

    /// Handles one message from the peer; `Some` when it completes the
    /// handshake.
    fn on_message(
        &mut self,
        message: &[u8],
        io: &mut Io<Self::Event>,
        now: Instant,
    ) -> Result<Option<Established>, HandshakeError>;

    /// The error the handshake ends with when the peer closes the
    /// connection while we wait for `step`.
    fn closed(&self, step: Step) -> HandshakeError {
        HandshakeError::PeerClosed { step }
    }
}

/// The bytes in and out, the timer, and the events of one handshake.
#[derive(Debug)]
pub(super) struct Io<E> {
    frames: FrameDecoder,
    prefix: LengthPrefix,
    out: Vec<u8>,
    setup_time: Duration,
    deadline: Instant,
    events: VecDeque<E>,
}

impl<E> Io<E> {
    /// Queues a message for the peer.
    pub(super) fn send<M: HandshakeMessage>(&mut self, message: &M) -> Result<(), HandshakeError> {
        let mut body = Vec::new();
        message.encode(&mut body);
        write_frame(self.prefix, &body, &mut self.out)?;
        Ok(())
    }

    /// Gives the next step the whole setup time from `now`.
    pub(super) fn restart_timer(&mut self, now: Instant) {
        self.deadline = now + self.setup_time;
    }

    /// Reports `event` to the caller.
    pub(super) fn emit(&mut self, event: E) {
        self.events.push_back(event);
    }

    /// The bytes received after the last handshake message.
    pub(super) fn take_leftover(&mut self) -> Vec<u8> {
        self.frames.take_remaining()
    }

    /// The next whole message; an empty frame is malformed in the handshake.
    fn next_message(&mut self) -> Result<Option<Bytes>, HandshakeError> {
        match self.frames.next_frame()? {
            None => Ok(None),
            Some(Frame::Tick) => Err(HandshakeError::Malformed {
                what: "empty handshake message",
                offset: 0,
            }),
            Some(Frame::Data(bytes)) => Ok(Some(bytes)),
        }
    }
}

/// A [`Side`] with its I/O; after a failure every call returns the same
/// error.
#[derive(Debug)]
pub(super) struct Session<S: Side> {
    side: S,
    io: Io<S::Event>,
    failed: Option<HandshakeError>,
}

impl<S: Side> Session<S> {
    /// A session whose messages carry `prefix` lengths; either way no
    /// message may be longer than a 2-byte length allows.
    pub(super) fn new(
        side: S,
        setup_time: Duration,
        prefix: LengthPrefix,
        now: Instant,
    ) -> Session<S> {
        Session {
            side,
            io: Io {
                frames: FrameDecoder::new(prefix, LengthPrefix::U16.max_len()),
                prefix,
                out: Vec::new(),
                setup_time,
                deadline: now + setup_time,
                events: VecDeque::new(),
            },
            failed: None,
        }
    }

    pub(super) fn side(&self) -> &S {
        &self.side
    }

    /// Queues the first message; failing to frame it fails the handshake.
    pub(super) fn open<M: HandshakeMessage>(&mut self, message: &M) {
        if let Err(err) = self.io.send(message) {
            self.fail(err);
        }
    }

    pub(super) fn step(&self) -> Option<Step> {
        match self.failed {
            Some(_) => None,
            None => self.side.step(),
        }
    }

    pub(super) fn handle_input(
        &mut self,
        bytes: &[u8],
        now: Instant,
    ) -> Result<(), HandshakeError> {
        self.check_running()?;
        self.io.frames.handle_input(bytes);
        self.process(now)
    }

    pub(super) fn handle_peer_closed(&mut self) -> HandshakeError {
        if let Some(err) = &self.failed {
            return err.clone();
        }
        match self.side.step() {
            Some(step) => {
                let err = self.side.closed(step);
                self.fail(err)
            }
            // Closing after success is the connection's business.
            None => HandshakeError::Finished,
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError> {
        self.check_running()?;
        match self.side.step() {
            Some(step) if now >= self.io.deadline => {
                Err(self.fail(HandshakeError::Timeout { step }))
            }
            _ => Ok(()),
        }
    }

    /// Carries out the caller's answer with `act` if the handshake waits
    /// for it (`awaited`), then handles the messages already buffered. A
    /// call out of turn is refused without failing the handshake.
    pub(super) fn answer(
        &mut self,
        call: &'static str,
        awaited: Step,
        now: Instant,
        act: impl FnOnce(&mut S, &mut Io<S::Event>) -> Result<(), HandshakeError>,
    ) -> Result<(), HandshakeError> {
        self.check_running()?;
        match self.side.step() {
            Some(step) if step == awaited => {}
            step => {
                return Err(HandshakeError::OutOfOrder {
                    call,
                    step: step.unwrap_or(awaited),
                })
            }
        }
        if let Err(err) = act(&mut self.side, &mut self.io) {
            return Err(self.fail(err));
        }
        self.process(now)
    }

    pub(super) fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        let n = self.io.out.len();
        out.append(&mut self.io.out);
        n
    }

    pub(super) fn poll_event(&mut self) -> Option<S::Event> {
        self.io.events.pop_front()
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.step().map(|_| self.io.deadline)
    }

    fn check_running(&self) -> Result<(), HandshakeError> {
        match (&self.failed, self.side.step()) {
            (Some(err), _) => Err(err.clone()),
            (None, None) => Err(HandshakeError::Finished),
            (None, Some(_)) => Ok(()),
        }
    }

    fn fail(&mut self, err: HandshakeError) -> HandshakeError {
        tracing::debug!(role = S::ROLE, %err, "handshake failed");
        self.failed = Some(err.clone());
        err
    }

    /// Handles buffered messages until the handshake waits for more bytes
    /// or for the caller, or ends.
    fn process(&mut self, now: Instant) -> Result<(), HandshakeError> {
        loop {
            match self.side.step() {
                None | Some(Step::Decision | Step::AliveDecision) => return Ok(()),
                Some(_) => {}
            }
            let message = match self.io.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => return Ok(()),
                Err(err) => return Err(self.fail(err)),
            };
            match self.side.on_message(&message, &mut self.io, now) {
                Ok(None) => {}
                Ok(Some(done)) => {
                    tracing::debug!(
                        role = S::ROLE,
                        peer = %done.peer,
                        flags = %done.flags,
                        "handshake complete"
                    );
                    self.io.emit(done.into());
                }
                Err(err) => return Err(self.fail(err)),
            }
        }
    }
}

/// The public methods that drive a handshake, the same for both roles,
/// for a struct holding its [`Session`] in a field `session`.
macro_rules! driving_methods {
    ($event:ty) => {
        /// What the handshake waits for, `None` once it ended.
        pub fn step(&self) -> Option<Step> {
            self.session.step()
        }

        /// Feeds bytes received from the peer.
        pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), HandshakeError> {
            self.session.handle_input(bytes, now)
        }

        /// Tells the handshake that the peer closed the connection; returns
        /// the error the handshake ends with.
        pub fn handle_peer_closed(&mut self) -> HandshakeError {
            self.session.handle_peer_closed()
        }

        /// Fails the handshake if the current step's time is up.
        pub fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError> {
            self.session.handle_timeout(now)
        }

        /// Moves the bytes to send to the peer into `out`; returns how many.
        pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
            self.session.poll_transmit(out)
        }

        /// The next event for the caller.
        pub fn poll_event(&mut self) -> Option<$event> {
            self.session.poll_event()
        }

        /// When [`Self::handle_timeout`] must be called next.
        pub fn poll_timeout(&self) -> Option<Instant> {
            self.session.poll_timeout()
        }
    };
}
pub(super) use driving_methods;
