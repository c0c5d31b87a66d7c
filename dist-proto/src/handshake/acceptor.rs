//! Side B of the handshake: the node that accepts a connection.

use super::digest::{digest, verify};
use super::message::{
    Challenge, ChallengeAck, ChallengeReply, Complement, HandshakeMessage, OldSendName, SendName,
    Status,
};
use super::{
    Channel, ConnectRequest, Cookie, Established, HandshakeConfig, HandshakeError, HandshakeEvent,
    Step,
};
use crate::flags::DistFlags;
use std::collections::VecDeque;
use std::time::Instant;

/// The caller's answer to [`HandshakeEvent::ConnectRequest`].
///
/// Resolving simultaneous connects (comparing node names) and choosing the
/// cookie for this peer is the caller's business; the state machine carries
/// out the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `ok`: accept, checking the peer's digest against `cookie`.
    Ok {
        /// The cookie shared with this peer.
        cookie: Cookie,
    },
    /// `ok_simultaneous`: accept; we dropped our own attempt to this peer.
    OkSimultaneous {
        /// The cookie shared with this peer.
        cookie: Cookie,
    },
    /// `alive`: a connection to this peer exists; the peer answers whether
    /// to replace it.
    Alive {
        /// The cookie shared with this peer.
        cookie: Cookie,
    },
    /// `named:`: give a peer that asked for a dynamic name its name.
    Named {
        /// The full node name given to the peer.
        name: String,
        /// The creation given to the peer.
        creation: u32,
        /// The cookie shared with this peer.
        cookie: Cookie,
    },
    /// `nok`: our own simultaneous attempt wins.
    Nok,
    /// `not_allowed`: refuse.
    NotAllowed,
}

/// What the connecting peer told us so far.
#[derive(Debug)]
struct Peer {
    name: String,
    flags: DistFlags,
    creation: Option<u32>,
    old_form: bool,
}

/// Where the accepting side is; each variant holds what that step needs.
#[derive(Debug)]
enum State {
    AwaitName,
    AwaitDecision(Peer),
    AwaitAliveAnswer(Peer, Cookie),
    AwaitComplement(Peer, Cookie),
    AwaitReply(Peer, Cookie),
    Done,
    Failed(HandshakeError),
}

/// The accepting side of a handshake (side B).
///
/// It takes the `N` form of send_name or the old `n` form (then the
/// complement), asks the caller through [`HandshakeEvent::ConnectRequest`]
/// which status to send, and checks the peer's flags and digest.
#[derive(Debug)]
pub struct Acceptor {
    config: HandshakeConfig,
    challenge: u32,
    channel: Channel,
    state: State,
    events: VecDeque<HandshakeEvent>,
}

impl Acceptor {
    /// Waits for a connecting node; `challenge` is our random challenge.
    pub fn new(config: HandshakeConfig, challenge: u32, now: Instant) -> Acceptor {
        Acceptor {
            channel: Channel::new(config.setup_time, now),
            config,
            challenge,
            state: State::AwaitName,
            events: VecDeque::new(),
        }
    }

    /// What the handshake waits for, `None` once it ended.
    pub fn step(&self) -> Option<Step> {
        match self.state {
            State::AwaitName => Some(Step::Name),
            State::AwaitDecision(_) => Some(Step::Decision),
            State::AwaitAliveAnswer(..) => Some(Step::AliveAnswer),
            State::AwaitComplement(..) => Some(Step::Complement),
            State::AwaitReply(..) => Some(Step::ChallengeReply),
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

    /// Answers [`HandshakeEvent::ConnectRequest`].
    pub fn answer(&mut self, answer: Answer, now: Instant) -> Result<(), HandshakeError> {
        self.check_running()?;
        let mut peer = match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitDecision(peer) => peer,
            other => {
                self.state = other;
                return Err(HandshakeError::OutOfOrder {
                    call: "answer",
                    step: self.step().unwrap_or(Step::Decision),
                });
            }
        };
        let result = match answer {
            Answer::Nok => self.refuse(peer, Status::Nok, "nok"),
            Answer::NotAllowed => self.refuse(peer, Status::NotAllowed, "not_allowed"),
            Answer::Ok { cookie } => self.proceed(peer, Status::Ok, cookie, now),
            Answer::OkSimultaneous { cookie } => {
                self.proceed(peer, Status::OkSimultaneous, cookie, now)
            }
            Answer::Alive { cookie } => self.channel.send(&Status::Alive).map(|()| {
                self.state = State::AwaitAliveAnswer(peer, cookie);
                self.channel.restart_timer(now);
            }),
            Answer::Named {
                name,
                creation,
                cookie,
            } => {
                if peer.flags.contains(DistFlags::NAME_ME) {
                    let status = Status::Named {
                        name: name.clone(),
                        creation,
                    };
                    peer.name = name;
                    peer.creation = Some(creation);
                    self.proceed(peer, status, cookie, now)
                } else {
                    Err(HandshakeError::UnexpectedName { name })
                }
            }
        };
        match result {
            Ok(()) => self.process(now),
            Err(err) => Err(self.fail(err)),
        }
    }

    /// Moves the bytes to send to the peer into `out`; returns how many.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        self.channel.poll_transmit(out)
    }

    /// The next event for the caller.
    pub fn poll_event(&mut self) -> Option<HandshakeEvent> {
        self.events.pop_front()
    }

    /// When [`Acceptor::handle_timeout`] must be called next.
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

    fn fail(&mut self, err: HandshakeError) -> HandshakeError {
        tracing::debug!(role = "acceptor", %err, "handshake failed");
        self.state = State::Failed(err.clone());
        err
    }

    fn refuse(
        &mut self,
        peer: Peer,
        status: Status,
        text: &'static str,
    ) -> Result<(), HandshakeError> {
        self.channel.send(&status)?;
        Err(HandshakeError::Refused {
            peer: peer.name,
            status: text,
        })
    }

    /// Sends the status and our challenge, then waits for the complement (old
    /// form) or the challenge reply.
    fn proceed(
        &mut self,
        peer: Peer,
        status: Status,
        cookie: Cookie,
        now: Instant,
    ) -> Result<(), HandshakeError> {
        self.channel.send(&status)?;
        self.send_challenge(peer, cookie, now)
    }

    fn send_challenge(
        &mut self,
        peer: Peer,
        cookie: Cookie,
        now: Instant,
    ) -> Result<(), HandshakeError> {
        self.channel.send(&Challenge {
            flags: self.config.flags,
            challenge: self.challenge,
            creation: self.config.creation,
            name: self.config.name.clone(),
        })?;
        self.state = if peer.old_form {
            State::AwaitComplement(peer, cookie)
        } else {
            State::AwaitReply(peer, cookie)
        };
        self.channel.restart_timer(now);
        Ok(())
    }

    fn process(&mut self, now: Instant) -> Result<(), HandshakeError> {
        loop {
            if matches!(self.state, State::AwaitDecision(_) | State::Done) {
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
            State::AwaitName => self.on_name(message, now),
            State::AwaitAliveAnswer(peer, cookie) => match Status::read(message)? {
                Status::True => self.send_challenge(peer, cookie, now),
                Status::False => Err(HandshakeError::AliveDeclined { peer: peer.name }),
                _ => Err(HandshakeError::Malformed {
                    what: "answer to alive (expected true or false)",
                    offset: 1,
                }),
            },
            State::AwaitComplement(mut peer, cookie) => {
                let complement = Complement::read(message)?;
                let flags =
                    DistFlags::from_bits(u64::from(complement.flags_high) << 32) | peer.flags;
                self.check_flags(&peer.name, flags)?;
                peer.flags = flags;
                peer.creation = Some(complement.creation);
                self.state = State::AwaitReply(peer, cookie);
                self.channel.restart_timer(now);
                Ok(())
            }
            State::AwaitReply(peer, cookie) => {
                self.on_reply(ChallengeReply::read(message)?, peer, cookie)
            }
            State::AwaitDecision(_) | State::Done | State::Failed(_) => {
                Err(HandshakeError::OutOfOrder {
                    call: "handle_input",
                    step: Step::Decision,
                })
            }
        }
    }

    fn on_name(&mut self, message: &[u8], now: Instant) -> Result<(), HandshakeError> {
        let peer = match message.first() {
            Some(b'n') => {
                let old = OldSendName::read(message)?;
                if old.version != 5 {
                    return Err(HandshakeError::UnsupportedVersion {
                        version: old.version,
                    });
                }
                Peer {
                    name: old.name,
                    flags: DistFlags::from_bits(u64::from(old.flags)),
                    creation: None,
                    old_form: true,
                }
            }
            _ => {
                let new = SendName::read(message)?;
                Peer {
                    name: new.name,
                    flags: new.flags,
                    creation: Some(new.creation),
                    old_form: false,
                }
            }
        };
        // Only the low half of an old `n` is known yet; the rest is checked
        // when the complement comes.
        let known = if peer.old_form {
            DistFlags::from_bits(u64::from(self.config.required().low()))
        } else {
            self.config.required()
        };
        if let Err(missing) = peer.flags.require(known) {
            self.channel.send(&Status::NotAllowed)?;
            return Err(HandshakeError::MissingFlags {
                peer: peer.name,
                missing: missing.missing,
            });
        }
        self.events
            .push_back(HandshakeEvent::ConnectRequest(ConnectRequest {
                peer: peer.name.clone(),
                flags: peer.flags,
                creation: peer.creation,
            }));
        self.state = State::AwaitDecision(peer);
        self.channel.restart_timer(now);
        Ok(())
    }

    fn check_flags(&self, peer: &str, flags: DistFlags) -> Result<(), HandshakeError> {
        flags
            .require(self.config.required())
            .map_err(|m| HandshakeError::MissingFlags {
                peer: peer.to_owned(),
                missing: m.missing,
            })
    }

    fn on_reply(
        &mut self,
        reply: ChallengeReply,
        peer: Peer,
        cookie: Cookie,
    ) -> Result<(), HandshakeError> {
        if !verify(cookie.as_bytes(), self.challenge, &reply.digest) {
            return Err(HandshakeError::CookieMismatch { peer: peer.name });
        }
        self.channel.send(&ChallengeAck {
            digest: digest(cookie.as_bytes(), reply.challenge),
        })?;
        self.state = State::Done;
        tracing::debug!(
            role = "acceptor",
            peer = %peer.name,
            flags = %(self.config.flags & peer.flags),
            "handshake complete"
        );
        self.events
            .push_back(HandshakeEvent::Established(Established {
                flags: self.config.flags & peer.flags,
                peer: peer.name,
                peer_creation: peer.creation.unwrap_or(0),
                peer_flags: peer.flags,
                name: self.config.name.clone(),
                creation: self.config.creation,
                leftover: self.channel.frames.take_remaining(),
            }));
        Ok(())
    }
}
