//! Side A of the handshake: the node that connects.

use super::digest::{digest, verify};
use super::message::{Challenge, ChallengeAck, ChallengeReply, HandshakeMessage, SendName, Status};
use super::session::{driving_methods, Io, Session, Side};
use super::{Cookie, Established, HandshakeConfig, HandshakeError, Step};
use std::time::Instant;

/// What the connecting side reports to its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitiatorEvent {
    /// The peer says a connection to our name exists: answer with
    /// [`Initiator::answer_alive`].
    AliveQuery,
    /// The handshake is complete; switch to [`crate::Connection`].
    Established(Established),
}

impl From<Established> for InitiatorEvent {
    fn from(done: Established) -> InitiatorEvent {
        InitiatorEvent::Established(done)
    }
}

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
}

/// The connecting side of a handshake (side A).
///
/// It sends the `N` form of send_name at once, handles every status
/// (answering `alive` as the caller decides), checks the peer's name, flags
/// and digest, and ends with [`InitiatorEvent::Established`].
#[derive(Debug)]
pub struct Initiator {
    session: Session<Connect>,
}

/// The initiator's own part of the session.
#[derive(Debug)]
struct Connect {
    config: HandshakeConfig,
    peer: String,
    cookie: Cookie,
    challenge: u32,
    state: State,
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
        let send_name = SendName {
            flags: config.flags,
            creation: config.creation,
            name: config.name.clone(),
        };
        let (setup_time, prefix) = (config.setup_time, config.length_prefix);
        let connect = Connect {
            config,
            peer: peer.into(),
            cookie,
            challenge,
            state: State::AwaitStatus,
        };
        let mut session = Session::new(connect, setup_time, prefix, now);
        session.open(&send_name);
        Initiator { session }
    }

    /// The node we are connecting to.
    pub fn peer(&self) -> &str {
        &self.session.side().peer
    }

    driving_methods!(InitiatorEvent);

    /// Answers [`InitiatorEvent::AliveQuery`]: `true` replaces the peer's
    /// existing connection to our name, `false` gives up.
    pub fn answer_alive(&mut self, proceed: bool, now: Instant) -> Result<(), HandshakeError> {
        self.session
            .answer("answer_alive", Step::AliveDecision, now, |connect, io| {
                let status = if proceed { Status::True } else { Status::False };
                io.send(&status)?;
                if !proceed {
                    return Err(HandshakeError::AliveDeclined {
                        peer: connect.peer.clone(),
                    });
                }
                connect.state = State::AwaitChallenge { named: None };
                io.restart_timer(now);
                Ok(())
            })
    }
}

impl Side for Connect {
    type Event = InitiatorEvent;
    const ROLE: &'static str = "initiator";

    fn step(&self) -> Option<Step> {
        match self.state {
            State::AwaitStatus => Some(Step::Status),
            State::AwaitAliveDecision => Some(Step::AliveDecision),
            State::AwaitChallenge { .. } => Some(Step::Challenge),
            State::AwaitAck { .. } => Some(Step::ChallengeAck),
            State::Done => None,
        }
    }

    fn on_message(
        &mut self,
        message: &[u8],
        io: &mut Io<InitiatorEvent>,
        now: Instant,
    ) -> Result<Option<Established>, HandshakeError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitStatus => self.on_status(Status::read(message)?, io, now)?,
            State::AwaitChallenge { named } => {
                self.on_challenge(Challenge::read(message)?, named, io, now)?
            }
            State::AwaitAck {
                peer,
                name,
                creation,
            } => return self.on_ack(ChallengeAck::read(message)?, peer, name, creation, io),
            other => {
                self.state = other;
                return Err(HandshakeError::OutOfOrder {
                    call: "handle_input",
                    step: self.step().unwrap_or(Step::ChallengeAck),
                });
            }
        }
        Ok(None)
    }

    /// OTP closes the connection on a challenge reply with a wrong digest.
    fn closed(&self, step: Step) -> HandshakeError {
        match &self.state {
            State::AwaitAck { peer, .. } => HandshakeError::CookieMismatch {
                peer: peer.name.clone(),
            },
            _ => HandshakeError::PeerClosed { step },
        }
    }
}

impl Connect {
    fn on_status(
        &mut self,
        status: Status,
        io: &mut Io<InitiatorEvent>,
        now: Instant,
    ) -> Result<(), HandshakeError> {
        let peer = self.peer.clone();
        match status {
            Status::Ok | Status::OkSimultaneous | Status::Alive if self.config.asks_for_name() => {
                return Err(HandshakeError::NotNamed { peer });
            }
            Status::Ok | Status::OkSimultaneous => {
                self.state = State::AwaitChallenge { named: None };
            }
            Status::Named { name, creation } => {
                if !self.config.asks_for_name() {
                    return Err(HandshakeError::UnexpectedName { name });
                }
                self.state = State::AwaitChallenge {
                    named: Some((name, creation)),
                };
            }
            Status::Alive => {
                self.state = State::AwaitAliveDecision;
                io.emit(InitiatorEvent::AliveQuery);
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
        io.restart_timer(now);
        Ok(())
    }

    fn on_challenge(
        &mut self,
        challenge: Challenge,
        named: Option<(String, u32)>,
        io: &mut Io<InitiatorEvent>,
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
        io.send(&ChallengeReply {
            challenge: self.challenge,
            digest: digest(self.cookie.as_bytes(), challenge.challenge),
        })?;
        let (name, creation) =
            named.unwrap_or_else(|| (self.config.name.clone(), self.config.creation));
        self.state = State::AwaitAck {
            peer: challenge,
            name,
            creation,
        };
        io.restart_timer(now);
        Ok(())
    }

    fn on_ack(
        &mut self,
        ack: ChallengeAck,
        peer: Challenge,
        name: String,
        creation: u32,
        io: &mut Io<InitiatorEvent>,
    ) -> Result<Option<Established>, HandshakeError> {
        if !verify(self.cookie.as_bytes(), self.challenge, &ack.digest) {
            return Err(HandshakeError::CookieMismatch { peer: peer.name });
        }
        Ok(Some(Established {
            flags: self.config.flags & peer.flags,
            peer: peer.name,
            peer_creation: peer.creation,
            peer_flags: peer.flags,
            name,
            creation,
            leftover: io.take_leftover(),
        }))
    }
}
