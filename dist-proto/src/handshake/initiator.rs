//! Side A of the handshake: the node that connects.

use super::digest::{digest, verify};
use super::message::{Challenge, ChallengeAck, ChallengeReply, HandshakeMessage, SendName, Status};
use super::{Channel, Cookie, Established, HandshakeConfig, HandshakeError, HandshakeEvent, Step};
use crate::flags::DistFlags;
use std::collections::VecDeque;
use std::time::Instant;

/// Where the connecting side is; each variant holds what that step needs.
#[derive(Debug)]
enum State {
    /// `N` sent; waiting for `s`.
    AwaitStatus,
    /// The peer said `alive`; waiting for the caller.
    AwaitAliveDecision,
    /// Waiting for the challenge. `named` holds the name and creation given
    /// by a `named:` status.
    AwaitChallenge {
        named: Option<(String, u32)>,
    },
    /// `r` sent; waiting for `a`.
    AwaitAck {
        peer: Challenge,
        name: String,
        creation: u32,
    },
    Done,
    Failed(HandshakeError),
}

/// The connecting side of a handshake (side A).
///
/// It sends the `N` form of send_name at once, handles every status
/// (answering `alive` as the caller decides), checks the peer's name, flags
/// and digest, and ends with [`HandshakeEvent::Established`].
#[derive(Debug)]
pub struct Initiator {
    config: HandshakeConfig,
    peer: String,
    cookie: Cookie,
    challenge: u32,
    channel: Channel,
    state: State,
    events: VecDeque<HandshakeEvent>,
}

impl Initiator {
    /// Starts a handshake with the node `peer` (the full name we dialled),
    /// using `cookie` and our own `challenge` (a random u32 from the caller).
    pub fn new(
        config: HandshakeConfig,
        peer: impl Into<String>,
        cookie: Cookie,
        challenge: u32,
        now: Instant,
    ) -> Initiator {
        let mut channel = Channel::new(config.setup_time, now);
        let send_name = SendName {
            flags: config.flags,
            creation: config.creation,
            name: config.name.clone(),
        };
        let state = match channel.send(&send_name) {
            Ok(()) => State::AwaitStatus,
            Err(err) => State::Failed(err),
        };
        Initiator {
            config,
            peer: peer.into(),
            cookie,
            challenge,
            channel,
            state,
            events: VecDeque::new(),
        }
    }

    /// The node we are connecting to.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// What the handshake waits for, `None` once it ended.
    pub fn step(&self) -> Option<Step> {
        match self.state {
            State::AwaitStatus => Some(Step::Status),
            State::AwaitAliveDecision => Some(Step::AliveDecision),
            State::AwaitChallenge { .. } => Some(Step::Challenge),
            State::AwaitAck { .. } => Some(Step::ChallengeAck),
            State::Done | State::Failed(_) => None,
        }
    }

    /// Feeds bytes received from the peer.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), HandshakeError> {
        self.check_running()?;
        self.channel.frames.handle_input(bytes);
        self.process(now)
    }

    /// Tells the handshake that the peer closed the connection; returns the
    /// error the handshake ends with.
    pub fn handle_peer_closed(&mut self) -> HandshakeError {
        let err = match (&self.state, self.step()) {
            (State::Failed(err), _) => err.clone(),
            (State::AwaitAck { peer, .. }, _) => HandshakeError::CookieMismatch {
                peer: peer.name.clone(),
            },
            (_, Some(step)) => HandshakeError::PeerClosed { step },
            // Closing after success is the connection's business.
            (_, None) => return HandshakeError::Finished,
        };
        self.fail(err)
    }

    /// Fails the handshake if the current step's time is up.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError> {
        self.check_running()?;
        match self.step() {
            Some(step) if now >= self.channel.deadline => {
                Err(self.fail(HandshakeError::Timeout { step }))
            }
            _ => Ok(()),
        }
    }

    /// Answers [`HandshakeEvent::AliveQuery`]: `true` replaces the peer's
    /// existing connection to our name, `false` gives up.
    pub fn answer_alive(&mut self, proceed: bool, now: Instant) -> Result<(), HandshakeError> {
        self.check_running()?;
        if !matches!(self.state, State::AwaitAliveDecision) {
            return Err(self.out_of_order("answer_alive"));
        }
        let status = if proceed { Status::True } else { Status::False };
        if let Err(err) = self.channel.send(&status) {
            return Err(self.fail(err));
        }
        if !proceed {
            return Err(self.fail(HandshakeError::AliveDeclined {
                peer: self.peer.clone(),
            }));
        }
        self.state = State::AwaitChallenge { named: None };
        self.channel.restart_timer(now);
        // The challenge may already be buffered.
        self.process(now)
    }

    /// Moves the bytes to send to the peer into `out`; returns how many.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        self.channel.poll_transmit(out)
    }

    /// The next event for the caller.
    pub fn poll_event(&mut self) -> Option<HandshakeEvent> {
        self.events.pop_front()
    }

    /// When [`Initiator::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Done | State::Failed(_) => None,
            _ => Some(self.channel.deadline),
        }
    }

    fn check_running(&self) -> Result<(), HandshakeError> {
        match &self.state {
            State::Failed(err) => Err(err.clone()),
            State::Done => Err(HandshakeError::Finished),
            _ => Ok(()),
        }
    }

    fn out_of_order(&self, call: &'static str) -> HandshakeError {
        HandshakeError::OutOfOrder {
            call,
            step: self.step().unwrap_or(Step::ChallengeAck),
        }
    }

    fn fail(&mut self, err: HandshakeError) -> HandshakeError {
        tracing::debug!(role = "initiator", %err, "handshake failed");
        self.state = State::Failed(err.clone());
        err
    }

    fn process(&mut self, now: Instant) -> Result<(), HandshakeError> {
        loop {
            if matches!(self.state, State::AwaitAliveDecision | State::Done) {
                return Ok(());
            }
            let message = match self.channel.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => return Ok(()),
                Err(err) => return Err(self.fail(err)),
            };
            if let Err(err) = self.on_message(&message, now) {
                return Err(self.fail(err));
            }
        }
    }

    fn on_message(&mut self, message: &[u8], now: Instant) -> Result<(), HandshakeError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitStatus => self.on_status(Status::read(message)?, now),
            State::AwaitChallenge { named } => {
                self.on_challenge(Challenge::read(message)?, named, now)
            }
            State::AwaitAck {
                peer,
                name,
                creation,
            } => self.on_ack(ChallengeAck::read(message)?, peer, name, creation),
            other => {
                self.state = other;
                Err(self.out_of_order("handle_input"))
            }
        }
    }

    fn on_status(&mut self, status: Status, now: Instant) -> Result<(), HandshakeError> {
        let peer = self.peer.clone();
        match status {
            Status::Ok | Status::OkSimultaneous => {
                self.state = State::AwaitChallenge { named: None };
            }
            Status::Named { name, creation } => {
                if !self.config.flags.contains(DistFlags::NAME_ME) {
                    return Err(HandshakeError::UnexpectedName { name });
                }
                self.state = State::AwaitChallenge {
                    named: Some((name, creation)),
                };
            }
            Status::Alive => {
                self.state = State::AwaitAliveDecision;
                self.events.push_back(HandshakeEvent::AliveQuery);
            }
            Status::Nok => return Err(HandshakeError::Nok { peer }),
            Status::NotAllowed => return Err(HandshakeError::NotAllowed { peer }),
            Status::True | Status::False => {
                return Err(HandshakeError::Malformed {
                    what: "status (true/false is only sent by the connecting side)",
                    offset: 1,
                })
            }
        }
        self.channel.restart_timer(now);
        Ok(())
    }

    fn on_challenge(
        &mut self,
        challenge: Challenge,
        named: Option<(String, u32)>,
        now: Instant,
    ) -> Result<(), HandshakeError> {
        if challenge.name != self.peer {
            return Err(HandshakeError::NameMismatch {
                expected: self.peer.clone(),
                got: challenge.name,
            });
        }
        challenge
            .flags
            .require(self.config.required())
            .map_err(|m| HandshakeError::MissingFlags {
                peer: challenge.name.clone(),
                missing: m.missing,
            })?;
        let reply = ChallengeReply {
            challenge: self.challenge,
            digest: digest(self.cookie.as_bytes(), challenge.challenge),
        };
        self.channel.send(&reply)?;
        let (name, creation) =
            named.unwrap_or_else(|| (self.config.name.clone(), self.config.creation));
        self.state = State::AwaitAck {
            peer: challenge,
            name,
            creation,
        };
        self.channel.restart_timer(now);
        Ok(())
    }

    fn on_ack(
        &mut self,
        ack: ChallengeAck,
        peer: Challenge,
        name: String,
        creation: u32,
    ) -> Result<(), HandshakeError> {
        if !verify(self.cookie.as_bytes(), self.challenge, &ack.digest) {
            return Err(HandshakeError::CookieMismatch { peer: peer.name });
        }
        self.state = State::Done;
        tracing::debug!(
            role = "initiator",
            peer = %peer.name,
            flags = %(self.config.flags & peer.flags),
            "handshake complete"
        );
        self.events
            .push_back(HandshakeEvent::Established(Established {
                flags: self.config.flags & peer.flags,
                peer: peer.name,
                peer_creation: peer.creation,
                peer_flags: peer.flags,
                name,
                creation,
                leftover: self.channel.frames.take_remaining(),
            }));
        Ok(())
    }
}
