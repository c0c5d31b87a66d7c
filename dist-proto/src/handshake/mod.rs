//! The distribution handshake, as two sans-IO state machines: [`Initiator`]
//! (side A, which connects) and [`Acceptor`] (side B, which accepts).
//!
//! Both are driven the same way: feed received bytes with `handle_input`,
//! send what `poll_transmit` gives, react to `poll_event`, and call
//! `handle_timeout` when `poll_timeout` is reached. Each step must complete
//! within the setup time (OTP's `net_setuptime`, 7 s by default). The outcome
//! is an `Established` event ([`InitiatorEvent`], [`AcceptorEvent`]: each
//! role reports only what it can meet) or a [`HandshakeError`]; after an
//! error every later call returns the same error (queued bytes, such as a
//! refusing status, can still be taken with `poll_transmit`).

mod acceptor;
mod digest;
mod initiator;
mod message;
mod session;

pub use acceptor::{Acceptor, AcceptorEvent, Answer};
pub use digest::{digest, verify, Digest};
pub use initiator::{Initiator, InitiatorEvent};
pub use message::{
    Challenge, ChallengeAck, ChallengeReply, Complement, HandshakeMessage, OldSendName, SendName,
    Status,
};

use crate::flags::DistFlags;
use crate::framing::{FrameError, LengthPrefix};
use crate::reader::Malformed;
use std::fmt;
use std::time::Duration;

/// OTP's default `net_setuptime`: the limit for each handshake step.
pub const DEFAULT_SETUP_TIME: Duration = Duration::from_secs(7);

/// A magic cookie. Its `Debug` form does not show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Cookie(Vec<u8>);

impl Cookie {
    /// A cookie from its bytes (the text of `~/.erlang.cookie`).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Cookie {
        Cookie(bytes.into())
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cookie(<redacted>)")
    }
}

/// What this node says about itself in a handshake.
#[derive(Clone, Debug)]
pub struct HandshakeConfig {
    /// Our full node name (`name@host`), or just the host when asking for a
    /// dynamic name with [`DistFlags::NAME_ME`].
    pub name: String,
    /// Our creation (from EPMD's ALIVE2 reply).
    pub creation: u32,
    /// The flags we advertise.
    pub flags: DistFlags,
    /// The flags a peer must have; [`DistFlags::HANDSHAKE_23`] is always
    /// required on top, as only the OTP 23 challenge form is implemented.
    pub required: DistFlags,
    /// The limit for each step.
    pub setup_time: Duration,
    /// The length prefix of handshake messages: 2 bytes over TCP, 4 over
    /// TLS (OTP's `inet_tls_dist` runs its socket with `{packet, 4}` from
    /// the start).
    pub length_prefix: LengthPrefix,
}

impl HandshakeConfig {
    /// A hidden node's config: [`DistFlags::default_hidden`], requiring what
    /// OTP 25 requires, with the default setup time.
    pub fn new(name: impl Into<String>, creation: u32) -> HandshakeConfig {
        HandshakeConfig {
            name: name.into(),
            creation,
            flags: DistFlags::default_hidden(),
            required: DistFlags::MANDATORY_OTP25,
            setup_time: DEFAULT_SETUP_TIME,
            length_prefix: LengthPrefix::U16,
        }
    }

    /// The config of a node that asks the peer it dials for a name
    /// (`erl -sname undefined`): only `host` is sent, with
    /// [`DistFlags::NAME_ME`]; the peer's `named:` status gives the name and
    /// creation, reported in [`Established::name`] and
    /// [`Established::creation`].
    pub fn dynamic(host: impl Into<String>) -> HandshakeConfig {
        let mut config = HandshakeConfig::new(host, 0);
        config.flags |= DistFlags::NAME_ME;
        config
    }

    /// Whether this config asks for a dynamic name.
    pub fn asks_for_name(&self) -> bool {
        self.flags.contains(DistFlags::NAME_ME)
    }

    fn required(&self) -> DistFlags {
        self.required | DistFlags::HANDSHAKE_23
    }
}

/// What a handshake waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The connecting side's name (`N` or `n`).
    Name,
    /// The caller's answer to an [`AcceptorEvent::ConnectRequest`].
    Decision,
    /// The accepting side's status.
    Status,
    /// The caller's answer to an [`InitiatorEvent::AliveQuery`].
    AliveDecision,
    /// The connecting side's `true`/`false` after `alive`.
    AliveAnswer,
    /// The accepting side's challenge.
    Challenge,
    /// The complement after an old `n`.
    Complement,
    /// The connecting side's challenge reply.
    ChallengeReply,
    /// The accepting side's challenge ack.
    ChallengeAck,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Step::Name => "the peer's name",
            Step::Decision => "our decision on the connection",
            Step::Status => "the peer's status",
            Step::AliveDecision => "our answer to `alive`",
            Step::AliveAnswer => "the peer's answer to `alive`",
            Step::Challenge => "the peer's challenge",
            Step::Complement => "the peer's complement",
            Step::ChallengeReply => "the peer's challenge reply",
            Step::ChallengeAck => "the peer's challenge ack",
        };
        f.write_str(text)
    }
}

/// A handshake failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's digest does not match our cookie, or (as the connecting
    /// side) the peer closed the connection on our challenge reply, which OTP
    /// does exactly when our digest is wrong.
    #[error("node {peer} has a different cookie")]
    CookieMismatch {
        /// The peer's node name.
        peer: String,
    },
    /// The accepting peer answered `not_allowed`.
    #[error("node {peer} does not allow the connection (not_allowed)")]
    NotAllowed {
        /// The peer's node name.
        peer: String,
    },
    /// The accepting peer answered `nok`: its own simultaneous attempt wins.
    #[error("node {peer} answered nok: its own connection attempt wins")]
    Nok {
        /// The peer's node name.
        peer: String,
    },
    /// `alive` was answered `false` (by us or by the peer).
    #[error("the connection to {peer} was abandoned after `alive`")]
    AliveDeclined {
        /// The peer's node name.
        peer: String,
    },
    /// We refused the connecting peer (we answered `nok` or `not_allowed`).
    #[error("refused node {peer} with status {status}")]
    Refused {
        /// The peer's node name.
        peer: String,
        /// The status we sent.
        status: &'static str,
    },
    /// The peer lacks flags we require.
    #[error("node {peer} lacks required distribution flags: {missing}")]
    MissingFlags {
        /// The peer's node name.
        peer: String,
        /// The required flags it did not set.
        missing: DistFlags,
    },
    /// The accepting peer's name is not the node we dialled.
    #[error("dialled node {expected} but {got} answered")]
    NameMismatch {
        /// The node we dialled.
        expected: String,
        /// The name in its challenge.
        got: String,
    },
    /// `named:` came although we did not ask for a dynamic name, or a
    /// dynamic name was given to a peer that did not ask for one.
    #[error("unexpected dynamic name {name}")]
    UnexpectedName {
        /// The name.
        name: String,
    },
    /// We asked for a dynamic name and the accepting peer answered a status
    /// other than `named:`.
    #[error("node {peer} did not give us the dynamic name we asked for")]
    NotNamed {
        /// The peer's node name.
        peer: String,
    },
    /// A peer that asked for a dynamic name was answered without one: it
    /// has no name to connect under.
    #[error("a node on {host} asked for a dynamic name and was given none")]
    NameNotGiven {
        /// The host it sent.
        host: String,
    },
    /// The old `n` form announced a protocol version other than 5.
    #[error("unsupported handshake version {version}")]
    UnsupportedVersion {
        /// The announced version.
        version: u16,
    },
    /// A step took longer than the setup time.
    #[error("timed out waiting for {step}")]
    Timeout {
        /// What we were waiting for.
        step: Step,
    },
    /// The peer closed the connection.
    #[error("peer closed the connection while we waited for {step}")]
    PeerClosed {
        /// What we were waiting for.
        step: Step,
    },
    /// A message that is not valid in this step or is malformed.
    #[error("malformed {what} at byte {offset} of the message")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// The offset in the message.
        offset: usize,
    },
    /// A frame could not be read or written.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A method was called that does not fit the current state, e.g. an
    /// answer nobody asked for, or input after the handshake ended.
    #[error("{call} is not valid while waiting for {step}")]
    OutOfOrder {
        /// The method.
        call: &'static str,
        /// What the handshake was waiting for.
        step: Step,
    },
    /// The handshake has already ended successfully.
    #[error("the handshake is already complete")]
    Finished,
}

impl From<Malformed> for HandshakeError {
    fn from(m: Malformed) -> HandshakeError {
        HandshakeError::Malformed {
            what: m.what,
            offset: m.offset,
        }
    }
}

/// A connecting peer, as the accepting side sees it before deciding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Its node name (just the host if it asked for a dynamic name).
    pub peer: String,
    /// The flags it advertised (only the low 32 bits after an old `n`).
    pub flags: DistFlags,
    /// Its creation (`None` after an old `n`, until the complement).
    pub creation: Option<u32>,
}

impl ConnectRequest {
    /// Whether the peer asks for a dynamic name ([`DistFlags::NAME_ME`]):
    /// [`ConnectRequest::peer`] is then only its host, and the answer that
    /// accepts it is [`Answer::Named`] (or it is refused).
    pub fn wants_name(&self) -> bool {
        self.flags.contains(DistFlags::NAME_ME)
    }
}

/// A completed handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Established {
    /// The peer's node name.
    pub peer: String,
    /// The peer's creation.
    pub peer_creation: u32,
    /// The flags the peer advertised.
    pub peer_flags: DistFlags,
    /// The negotiated flags: both sides' sets intersected.
    pub flags: DistFlags,
    /// Our node name (the one given by `named:` for a dynamic name).
    pub name: String,
    /// Our creation (the one given by `named:` for a dynamic name).
    pub creation: u32,
    /// Bytes received after the last handshake message: the start of the
    /// connected phase, to feed to the connection.
    pub leftover: Vec<u8>,
}

#[cfg(test)]
mod tests;
