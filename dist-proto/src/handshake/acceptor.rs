//! Side B of the handshake: the node that accepts a connection.

use super::digest::{digest, verify};
use super::message::{
    Challenge, ChallengeAck, ChallengeReply, Complement, HandshakeMessage, OldSendName, SendName,
    Status,
};
use super::session::{driving_methods, Io, Session, Side};
use super::{ConnectRequest, Cookie, Established, HandshakeConfig, HandshakeError, Step};
use crate::flags::DistFlags;
use std::time::Instant;

/// What the accepting side reports to its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptorEvent {
    /// A node asks to connect: answer with [`Acceptor::answer`].
    ConnectRequest(ConnectRequest),
    /// The handshake is complete; switch to [`crate::Connection`].
    Established(Established),
}

impl From<Established> for AcceptorEvent {
    fn from(done: Established) -> AcceptorEvent {
        AcceptorEvent::Established(done)
    }
}

/// The caller's answer to [`AcceptorEvent::ConnectRequest`].
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
}

/// The accepting side of a handshake (side B).
///
/// It takes the `N` form of send_name or the old `n` form (then the
/// complement), asks the caller through [`AcceptorEvent::ConnectRequest`]
/// which status to send, and checks the peer's flags and digest.
#[derive(Debug)]
pub struct Acceptor {
    session: Session<Accept>,
}

/// The acceptor's own part of the session.
#[derive(Debug)]
struct Accept {
    config: HandshakeConfig,
    challenge: u32,
    state: State,
}

impl Acceptor {
    /// Waits for a connecting node; `challenge` is our random challenge.
    pub fn new(config: HandshakeConfig, challenge: u32, now: Instant) -> Acceptor {
        let (setup_time, prefix) = (config.setup_time, config.length_prefix);
        let accept = Accept {
            config,
            challenge,
            state: State::AwaitName,
        };
        Acceptor {
            session: Session::new(accept, setup_time, prefix, now),
        }
    }

    driving_methods!(AcceptorEvent);

    /// Answers [`AcceptorEvent::ConnectRequest`].
    pub fn answer(&mut self, answer: Answer, now: Instant) -> Result<(), HandshakeError> {
        self.session
            .answer("answer", Step::Decision, now, |accept, io| {
                accept.answer(answer, io, now)
            })
    }
}

impl Side for Accept {
    type Event = AcceptorEvent;
    const ROLE: &'static str = "acceptor";

    fn step(&self) -> Option<Step> {
        match self.state {
            State::AwaitName => Some(Step::Name),
            State::AwaitDecision(_) => Some(Step::Decision),
            State::AwaitAliveAnswer(..) => Some(Step::AliveAnswer),
            State::AwaitComplement(..) => Some(Step::Complement),
            State::AwaitReply(..) => Some(Step::ChallengeReply),
            State::Done => None,
        }
    }

    fn on_message(
        &mut self,
        message: &[u8],
        io: &mut Io<AcceptorEvent>,
        now: Instant,
    ) -> Result<Option<Established>, HandshakeError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitName => self.on_name(message, io, now)?,
            State::AwaitAliveAnswer(peer, cookie) => match Status::read(message)? {
                Status::True => self.send_challenge(peer, cookie, io, now)?,
                Status::False => return Err(HandshakeError::AliveDeclined { peer: peer.name }),
                _ => {
                    return Err(HandshakeError::Malformed {
                        what: "answer to alive (expected true or false)",
                        offset: 1,
                    })
                }
            },
            State::AwaitComplement(mut peer, cookie) => {
                let complement = Complement::read(message)?;
                let flags =
                    DistFlags::from_bits(u64::from(complement.flags_high) << 32) | peer.flags;
                self.check_flags(&peer.name, flags)?;
                peer.flags = flags;
                peer.creation = Some(complement.creation);
                self.state = State::AwaitReply(peer, cookie);
                io.restart_timer(now);
            }
            State::AwaitReply(peer, cookie) => {
                return self.on_reply(ChallengeReply::read(message)?, peer, cookie, io)
            }
            State::AwaitDecision(_) | State::Done => {
                return Err(HandshakeError::OutOfOrder {
                    call: "handle_input",
                    step: Step::Decision,
                })
            }
        }
        Ok(None)
    }
}

impl Accept {
    fn answer(
        &mut self,
        answer: Answer,
        io: &mut Io<AcceptorEvent>,
        now: Instant,
    ) -> Result<(), HandshakeError> {
        // The session calls this only while the decision is awaited.
        let State::AwaitDecision(mut peer) = std::mem::replace(&mut self.state, State::Done) else {
            return Err(HandshakeError::OutOfOrder {
                call: "answer",
                step: Step::Decision,
            });
        };
        let accepts_unnamed = matches!(
            answer,
            Answer::Ok { .. } | Answer::OkSimultaneous { .. } | Answer::Alive { .. }
        );
        if accepts_unnamed && peer.flags.contains(DistFlags::NAME_ME) {
            // It has no name to connect under: refuse rather than take its
            // host for one.
            io.send(&Status::NotAllowed)?;
            return Err(HandshakeError::NameNotGiven { host: peer.name });
        }
        match answer {
            Answer::Nok => Self::refuse(peer, Status::Nok, "nok", io),
            Answer::NotAllowed => Self::refuse(peer, Status::NotAllowed, "not_allowed", io),
            Answer::Ok { cookie } => self.proceed(peer, Status::Ok, cookie, io, now),
            Answer::OkSimultaneous { cookie } => {
                self.proceed(peer, Status::OkSimultaneous, cookie, io, now)
            }
            Answer::Alive { cookie } => {
                io.send(&Status::Alive)?;
                self.state = State::AwaitAliveAnswer(peer, cookie);
                io.restart_timer(now);
                Ok(())
            }
            Answer::Named {
                name,
                creation,
                cookie,
            } => {
                if !peer.flags.contains(DistFlags::NAME_ME) {
                    return Err(HandshakeError::UnexpectedName { name });
                }
                let status = Status::Named {
                    name: name.clone(),
                    creation,
                };
                peer.name = name;
                peer.creation = Some(creation);
                self.proceed(peer, status, cookie, io, now)
            }
        }
    }

    fn refuse(
        peer: Peer,
        status: Status,
        text: &'static str,
        io: &mut Io<AcceptorEvent>,
    ) -> Result<(), HandshakeError> {
        io.send(&status)?;
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
        io: &mut Io<AcceptorEvent>,
        now: Instant,
    ) -> Result<(), HandshakeError> {
        io.send(&status)?;
        self.send_challenge(peer, cookie, io, now)
    }

    fn send_challenge(
        &mut self,
        peer: Peer,
        cookie: Cookie,
        io: &mut Io<AcceptorEvent>,
        now: Instant,
    ) -> Result<(), HandshakeError> {
        io.send(&Challenge {
            flags: self.flags_for(&peer),
            challenge: self.challenge,
            creation: self.config.creation,
            name: self.config.name.clone(),
        })?;
        self.state = if peer.old_form {
            State::AwaitComplement(peer, cookie)
        } else {
            State::AwaitReply(peer, cookie)
        };
        io.restart_timer(now);
        Ok(())
    }

    fn on_name(
        &mut self,
        message: &[u8],
        io: &mut Io<AcceptorEvent>,
        now: Instant,
    ) -> Result<(), HandshakeError> {
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
            io.send(&Status::NotAllowed)?;
            return Err(HandshakeError::MissingFlags {
                peer: peer.name,
                missing: missing.missing,
            });
        }
        io.emit(AcceptorEvent::ConnectRequest(ConnectRequest {
            peer: peer.name.clone(),
            flags: peer.flags,
            creation: peer.creation,
        }));
        self.state = State::AwaitDecision(peer);
        io.restart_timer(now);
        Ok(())
    }

    /// Our flags towards `peer`: with `NAME_ME` added for a peer we named
    /// (only a peer that asked gets this far with it), as OTP's acceptor
    /// does; an OTP initiator checks that the flags both sides chose have
    /// it before it takes the name.
    fn flags_for(&self, peer: &Peer) -> DistFlags {
        self.config.flags | (peer.flags & DistFlags::NAME_ME)
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
        io: &mut Io<AcceptorEvent>,
    ) -> Result<Option<Established>, HandshakeError> {
        if !verify(cookie.as_bytes(), self.challenge, &reply.digest) {
            return Err(HandshakeError::CookieMismatch { peer: peer.name });
        }
        io.send(&ChallengeAck {
            digest: digest(cookie.as_bytes(), reply.challenge),
        })?;
        Ok(Some(Established {
            flags: self.flags_for(&peer) & peer.flags,
            peer: peer.name,
            peer_creation: peer.creation.unwrap_or(0),
            peer_flags: peer.flags,
            name: self.config.name.clone(),
            creation: self.config.creation,
            leftover: io.take_leftover(),
        }))
    }
}
