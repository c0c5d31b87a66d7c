//! The Erlang distribution protocol, without I/O.
//!
//! Everything here is a state machine or a codec: bytes and the current time
//! go in, bytes to send and events come out. The caller (the `cnode` runtime)
//! owns sockets, tasks and timers.
//!
//! - [`DistFlags`]: the capability flags and the mandatory sets.
//! - [`handshake`]: [`Initiator`] (side A, connects) and [`Acceptor`] (side
//!   B, accepts), with one codec per handshake message.
//! - [`Connection`]: the connected phase: control messages and payloads,
//!   ticks, the atom cache ([`AtomCache`]) and fragments ([`Reassembler`]).
//! - [`ControlMessage`]: every control message, to and from its tuple.
//! - [`FrameDecoder`]: length-prefixed frames and ticks.
//!
//! Both handshake roles against each other in memory, then a message:
//!
//! ```
//! use dist_proto::handshake::{Answer, Cookie, HandshakeConfig};
//! use dist_proto::{Acceptor, AcceptorEvent, Initiator, InitiatorEvent};
//! use dist_proto::{Connection, ConnectionConfig, ConnectionEvent, ControlMessage};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let cookie = Cookie::new("secret");
//! let mut a = Initiator::new(HandshakeConfig::new("a@host", 1), "b@host", cookie.clone(), 11, now);
//! let mut b = Acceptor::new(HandshakeConfig::new("b@host", 2), 22, now);
//! let (mut a_done, mut b_done) = (None, None);
//! while a_done.is_none() || b_done.is_none() {
//!     let mut bytes = Vec::new();
//!     a.poll_transmit(&mut bytes);
//!     b.handle_input(&bytes, now)?;
//!     bytes.clear();
//!     b.poll_transmit(&mut bytes);
//!     a.handle_input(&bytes, now)?;
//!     while let Some(event) = b.poll_event() {
//!         match event {
//!             // Decide here: simultaneous connects, allow lists, the cookie for this peer.
//!             AcceptorEvent::ConnectRequest(_) => b.answer(Answer::Ok { cookie: cookie.clone() }, now)?,
//!             AcceptorEvent::Established(done) => b_done = Some(done),
//!         }
//!     }
//!     if let Some(InitiatorEvent::Established(done)) = a.poll_event() {
//!         a_done = Some(done);
//!     }
//! }
//! let (a_done, b_done) = (a_done.unwrap(), b_done.unwrap());
//! assert_eq!(a_done.peer, "b@host");
//!
//! let mut a = Connection::new(a_done.flags, ConnectionConfig::default(), now);
//! let mut b = Connection::new(b_done.flags, ConnectionConfig::default(), now);
//! let pid = etf::Pid { node: "a@host".into(), id: 1, serial: 0, creation: 1 };
//! let send = ControlMessage::RegSend { from: pid, to: "echo".into(), token: None };
//! a.send(&send, Some(&etf::Term::atom("hello")))?;
//! let mut bytes = Vec::new();
//! a.poll_transmit(&mut bytes);
//! b.handle_input(&bytes, now)?;
//! assert!(matches!(b.poll_event(), Some(ConnectionEvent::Message { payload: Some(_), .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod atom_cache;
mod atom_refs;
mod connection;
mod control;
mod flags;
mod fragment;
mod framing;
pub mod handshake;
mod outgoing;
mod reader;
mod slots;

#[doc(hidden)]
pub mod fuzzing;

pub use atom_cache::{AtomCache, AtomCacheError, HeaderAtoms};
pub use connection::{
    Connection, ConnectionConfig, ConnectionError, ConnectionEvent, FramePart, Sent,
    DEFAULT_TICK_TIME,
};
pub use control::{
    altact, op, AltactDest, AltactKind, ControlError, ControlMessage, PidOrName, SPAWN_FLAG_LINK,
    SPAWN_FLAG_MONITOR,
};
pub use flags::{DistFlags, MissingFlags};
pub use fragment::{FragmentError, FragmentLimits, Reassembled, Reassembler};
pub use framing::{write_frame, Frame, FrameDecoder, FrameError, LengthPrefix};
pub use handshake::{
    Acceptor, AcceptorEvent, Cookie, Established, HandshakeConfig, HandshakeError, Initiator,
    InitiatorEvent,
};
pub use outgoing::DEFAULT_FRAGMENT_SIZE;
pub use reader::Malformed;
pub use slots::{SEGMENTS, SEGMENT_SIZE};
