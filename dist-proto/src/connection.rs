//! The connected phase of a distribution connection: [`Connection`].

use crate::atom_cache::{AtomCache, AtomCacheError};
use crate::control::{AltactDest, AltactKind, ControlError, ControlMessage};
use crate::flags::DistFlags;
use crate::fragment::{FragmentError, FragmentLimits, Reassembler};
use crate::framing::{write_frame, Frame, FrameDecoder, FrameError, LengthPrefix};
use crate::outgoing::{SendQueue, DEFAULT_FRAGMENT_SIZE};
use crate::reader::{Malformed, Reader};
use bytes::{Bytes, BytesMut};
use etf::{Atom, DecodeError, DecodeOptions, EncodeError, EncodeOptions, Pid, Term};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// OTP's default `net_ticktime`.
pub const DEFAULT_TICK_TIME: Duration = Duration::from_secs(60);

/// Intervals without input after which the peer is considered dead.
const SILENT_INTERVALS: u32 = 4;

/// Frame type bytes.
const PASS_THROUGH: u8 = 112;
const VERSION: u8 = 131;
const DIST_HEADER: u8 = 68;
const DIST_FRAG_HEADER: u8 = 69;
const DIST_FRAG_CONT: u8 = 70;

/// Settings of the connected phase.
#[derive(Clone, Debug)]
pub struct ConnectionConfig {
    /// `net_ticktime`: ticks go every quarter of it.
    pub tick_time: Duration,
    /// The largest frame accepted.
    pub max_frame: usize,
    /// Bounds on unfinished fragmented messages.
    pub fragments: FragmentLimits,
    /// The terms' bytes per sent fragment (OTP's 64 KiB by default; clamped
    /// to 1 byte ..= 1 GiB).
    pub fragment_size: usize,
    /// Limits for decoding terms.
    pub decode: DecodeOptions,
    /// Choices for encoding terms. Whether native records may be sent
    /// ([`EncodeOptions::native_records`]) follows the negotiated flags.
    pub encode: EncodeOptions,
}

impl Default for ConnectionConfig {
    /// OTP's tick time, 128 MiB frames, default fragment and term limits,
    /// OTP's 64 KiB fragments.
    fn default() -> ConnectionConfig {
        ConnectionConfig {
            tick_time: DEFAULT_TICK_TIME,
            max_frame: 128 << 20,
            fragments: FragmentLimits::default(),
            fragment_size: DEFAULT_FRAGMENT_SIZE,
            decode: DecodeOptions::default(),
            encode: EncodeOptions::default(),
        }
    }
}

/// What a connection reports.
// Almost every event is a message; boxing it would add an allocation per
// message to save space only in the rare tick.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionEvent {
    /// A control message and, for the operations that have one, its payload.
    Message {
        /// The control message.
        control: ControlMessage,
        /// The message, exit reason or spawn arguments.
        payload: Option<Term>,
    },
    /// The peer sent a tick.
    Tick,
}

/// What [`Connection::send`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Queued, in the form the peer takes.
    Queued,
    /// Dropped, as OTP drops it: a signal the peer has no operation for
    /// (an exit signal to an alias or a name, for a peer without
    /// [`DistFlags::ALTACT_SIG`]).
    Dropped,
}

/// Which term of a frame failed to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramePart {
    /// The control tuple.
    Control,
    /// The payload term.
    Payload,
}

/// The connection failed; the caller should close it.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// A frame was too long or could not be written.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A frame starting with an unknown type byte.
    #[error("unknown frame type {first:?}")]
    UnknownFrame {
        /// The first bytes of the frame (up to 2).
        first: Vec<u8>,
    },
    /// A fragment header field is truncated.
    #[error(transparent)]
    Malformed(#[from] Malformed),
    /// An atom cache header is invalid.
    #[error(transparent)]
    AtomCache(#[from] AtomCacheError),
    /// A fragment does not fit, or fragment limits were hit.
    #[error(transparent)]
    Fragment(#[from] FragmentError),
    /// A term of a frame does not decode.
    #[error("cannot decode the {part:?} term: {error}")]
    Decode {
        /// Which term.
        part: FramePart,
        /// The decoder's error; its offset counts from the first term of
        /// the frame (after the `112` byte or the atom cache header).
        error: DecodeError,
    },
    /// The control tuple is not a valid control message.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// A control message that needs a payload came without one.
    #[error("control operation {op} without its payload")]
    MissingPayload {
        /// The operation.
        op: u8,
    },
    /// A control message that has no payload came with one, or bytes follow
    /// the payload.
    #[error("control operation {op} followed by {len} unexpected bytes")]
    TrailingBytes {
        /// The operation.
        op: u8,
        /// The bytes left over.
        len: usize,
    },
    /// A term to send cannot be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A term to send needs a capability the peer did not negotiate: a
    /// native record for a peer without [`DistFlags::NATIVE_RECORDS`]
    /// (OTP 28 and older cannot decode one). Nothing was sent; the
    /// connection stays up.
    #[error("the peer lacks {missing}, which {what} needs")]
    PeerLacks {
        /// The flags the term needs that the connection does not have.
        missing: DistFlags,
        /// What in the term needs them (`native record #nr:point{}`).
        what: String,
    },
    /// `send` got a payload for an operation without one, or none for one
    /// that needs it.
    #[error("control operation {op} {}", if *has_payload { "needs a payload" } else { "takes no payload" })]
    PayloadMismatch {
        /// The operation.
        op: u8,
        /// Whether the operation has a payload.
        has_payload: bool,
    },
    /// Nothing arrived for four tick intervals.
    #[error("peer sent nothing for {silent:?} (net_ticktime {tick_time:?})")]
    TickTimeout {
        /// How long the peer was silent, at least.
        silent: Duration,
        /// The tick time in force.
        tick_time: Duration,
    },
}

/// The connected phase of one distribution connection: frames of control
/// messages and payloads, atom cache headers, fragments and ticks.
///
/// Received frames may be `112` pass-through, `131,68` (atom cache header),
/// or `131,69`/`131,70` fragments, whatever was negotiated. Sent frames are
/// `112` pass-through unless [`DistFlags::HEADER_FRAMES`] was negotiated (OTP
/// then rejects `112`), in which case they are `131,68` header frames: with
/// atom cache references when the peer also takes fragments (a message
/// refers to its atoms through the cache), with an empty
/// atom cache header otherwise. When the peer takes [`DistFlags::FRAGMENTS`],
/// messages larger than [`ConnectionConfig::fragment_size`] go out in
/// fragments, interleaved with other senders' messages and ticks: each
/// [`Connection::poll_transmit`] hands out at most one fragment, so the
/// caller decides how much is in flight by when it polls.
///
/// Ticks follow OTP's ticker: every `net_ticktime / 4` we send a tick if we
/// wrote nothing else in that interval, and the peer is declared dead after
/// four intervals in a row in which nothing arrived.
#[derive(Debug)]
pub struct Connection {
    config: ConnectionConfig,
    flags: DistFlags,
    frames: FrameDecoder,
    atom_cache: AtomCache,
    fragments: Reassembler,
    out: SendQueue,
    /// Where messages are encoded, kept between sends for its capacity.
    scratch: etf::Chunked,
    events: VecDeque<ConnectionEvent>,
    next_check: Instant,
    received_since_check: bool,
    last_received: Instant,
    sent_since_check: bool,
    silent_intervals: u32,
    failed: Option<ConnectionError>,
}

impl Connection {
    /// A connection with the negotiated `flags`, starting at `now`. Feed it
    /// the handshake's leftover bytes first.
    pub fn new(flags: DistFlags, mut config: ConnectionConfig, now: Instant) -> Connection {
        let interval = tick_interval(config.tick_time);
        // Records only to a peer that can decode them; received ones are
        // always decoded (OTP 29 sends them whatever we negotiated).
        config.encode.native_records = flags.contains(DistFlags::NATIVE_RECORDS);
        Connection {
            frames: FrameDecoder::new(LengthPrefix::U32, config.max_frame),
            fragments: Reassembler::new(config.fragments),
            atom_cache: AtomCache::new(),
            out: if flags.contains(DistFlags::DIST_HDR_ATOM_CACHE | DistFlags::FRAGMENTS) {
                // The send side of the atom cache, when the peer takes cache
                // references (and the `131,68` header frames, with fragments).
                SendQueue::new(config.fragment_size).with_atom_cache()
            } else {
                SendQueue::new(config.fragment_size)
            },
            scratch: etf::Chunked::new(),
            flags,
            config,
            events: VecDeque::new(),
            next_check: now + interval,
            received_since_check: false,
            last_received: now,
            sent_since_check: false,
            silent_intervals: 0,
            failed: None,
        }
    }

    /// The negotiated flags.
    pub fn flags(&self) -> DistFlags {
        self.flags
    }

    /// When the last frame (tick or data) arrived; the start time before any.
    pub fn last_received(&self) -> Instant {
        self.last_received
    }

    /// Whether sent frames use the `131,68` header form.
    pub fn sends_header_frames(&self) -> bool {
        self.flags.intersects(DistFlags::HEADER_FRAMES)
    }

    /// Whether large messages are sent in fragments.
    pub fn sends_fragments(&self) -> bool {
        self.flags.contains(DistFlags::FRAGMENTS)
    }

    /// Whether bytes wait to be handed out by [`Connection::poll_transmit`].
    pub fn wants_transmit(&self) -> bool {
        !self.out.is_empty()
    }

    /// Bytes waiting to be sent, not counting the fragmented messages being
    /// sent now (at most one per sender): what a caller bounds before it
    /// queues more, so that one huge message does not stop other senders.
    pub fn send_backlog(&self) -> usize {
        self.out.backlog()
    }

    /// Messages being sent in fragments, or waiting behind one of their
    /// sender's.
    pub fn fragmented_in_flight(&self) -> usize {
        self.out.streamed_messages()
    }

    /// The error the connection failed with, if it did: every later
    /// `handle_*` call returns it again, and
    /// [`Connection::poll_timeout`] is `None`.
    pub fn failure(&self) -> Option<&ConnectionError> {
        self.failed.as_ref()
    }

    /// Feeds bytes received from the peer.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), ConnectionError> {
        self.check()?;
        self.frames.handle_input(bytes);
        self.handle_frames(now)
    }

    /// Feeds bytes received from the peer in a buffer: the same as
    /// [`Connection::handle_input`], without copying them when the buffer
    /// is the one [`Connection::take_input_buffer`] returned, with the new
    /// bytes read behind the old.
    pub fn handle_input_buf(
        &mut self,
        bytes: BytesMut,
        now: Instant,
    ) -> Result<(), ConnectionError> {
        self.check()?;
        self.frames.handle_input_buf(bytes);
        self.handle_frames(now)
    }

    /// Takes the bytes received after the last complete frame, in their
    /// buffer, so that the caller reads more into it in place and feeds it
    /// back with [`Connection::handle_input_buf`].
    pub fn take_input_buffer(&mut self) -> BytesMut {
        self.frames.take_buffer()
    }

    fn handle_frames(&mut self, now: Instant) -> Result<(), ConnectionError> {
        loop {
            let frame = match self.frames.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(()),
                Err(err) => return Err(self.fail(err.into())),
            };
            self.received_since_check = true;
            self.last_received = now;
            let result = match frame {
                Frame::Tick => {
                    self.events.push_back(ConnectionEvent::Tick);
                    Ok(())
                }
                Frame::Data(data) => self.on_data(data),
            };
            if let Err(err) = result {
                return Err(self.fail(err));
            }
        }
    }

    /// Runs the ticker: call when [`Connection::poll_timeout`] is reached.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ConnectionError> {
        self.check()?;
        if now < self.next_check {
            return Ok(());
        }
        let interval = tick_interval(self.config.tick_time);
        if self.received_since_check {
            self.silent_intervals = 0;
        } else {
            self.silent_intervals += 1;
            if self.silent_intervals >= SILENT_INTERVALS {
                return Err(self.fail(ConnectionError::TickTimeout {
                    silent: interval * (SILENT_INTERVALS - 1),
                    tick_time: self.config.tick_time,
                }));
            }
        }
        if !self.sent_since_check {
            self.out.push_frame(&[0, 0, 0, 0]);
        }
        self.received_since_check = false;
        self.sent_since_check = false;
        // After a stall, resume from now rather than firing missed checks.
        self.next_check = (self.next_check + interval).max(now + interval / 2);
        Ok(())
    }

    /// Queues a control message and its payload for sending. A message
    /// larger than a fragment waits in its sender's queue and leaves one
    /// fragment per [`Connection::poll_transmit`]; later messages of the
    /// same sender wait behind it, others do not.
    ///
    /// A message goes in the form the peer takes, as OTP sends it: to a
    /// peer without [`DistFlags::SEND_SENDER`], `SEND_SENDER` goes as
    /// `SEND`; to a peer without [`DistFlags::ALTACT_SIG`],
    /// `ALTACT_SIG_SEND` goes as the ordinary message or exit signal, and an
    /// exit signal to an alias or a name is dropped ([`Sent::Dropped`]).
    /// The peer never gets an operation it would close the connection for.
    ///
    /// A payload holding a native record fails with
    /// [`ConnectionError::PeerLacks`] when the peer did not negotiate
    /// [`DistFlags::NATIVE_RECORDS`]; the connection carries on.
    pub fn send(
        &mut self,
        control: &ControlMessage,
        payload: Option<&Term>,
    ) -> Result<Sent, ConnectionError> {
        self.check()?;
        if control.has_payload() != payload.is_some() {
            return Err(ConnectionError::PayloadMismatch {
                op: control.op(),
                has_payload: control.has_payload(),
            });
        }
        let Some(control) = for_peer(control, self.flags) else {
            tracing::debug!(?control, "signal dropped: the peer lacks ALTACT_SIG");
            return Ok(Sent::Dropped);
        };
        self.send_encoded(&control, payload)
            .map(|()| Sent::Queued)
            .map_err(|err| match err {
                ConnectionError::Encode(EncodeError::NativeRecordsOff { module, name }) => {
                    ConnectionError::PeerLacks {
                        missing: DistFlags::NATIVE_RECORDS,
                        what: format!("native record #{module}:{name}{{}}"),
                    }
                }
                other => other,
            })
    }

    fn send_encoded(
        &mut self,
        control: &ControlMessage,
        payload: Option<&Term>,
    ) -> Result<(), ConnectionError> {
        let opts = &self.config.encode;
        if self.sends_fragments() {
            // Large binaries in the payload are shared, not copied: they go
            // to the socket from the term's own buffers. A small message
            // goes through the reused scratch buffer, without allocating.
            let sender = sender(control);
            let control = control.to_term();
            let terms = &mut self.scratch;
            if let Some(cache) = self.out.atom_refs() {
                // Atoms as cache references; the header is written as the
                // message's first frame is cut.
                cache.begin();
                terms.clear();
                etf::encode_body_chunked_with_refs(&control, terms, opts, cache)?;
                if let Some(payload) = payload {
                    etf::encode_body_chunked_with_refs(payload, terms, opts, cache)?;
                }
                let queued = match terms.as_contiguous() {
                    Some(bytes) if self.out.takes_small(sender, bytes.len()) => {
                        self.out.push_small_with_refs(sender, bytes)
                    }
                    _ => self.out.push_message_with_refs(sender, terms.take_chunks()),
                };
                if queued {
                    self.sent_since_check = true;
                    return Ok(());
                }
                // Only if the cache could not name an atom, which its slots
                // rule out: the message then goes with its atoms as text.
            }
            terms.clear();
            etf::encode_body_chunked(&control, terms, opts)?;
            if let Some(payload) = payload {
                etf::encode_body_chunked(payload, terms, opts)?;
            }
            let queued = terms
                .as_contiguous()
                .is_some_and(|bytes| self.out.push_small(sender, bytes));
            if !queued {
                self.out.push_message(sender, terms.take_chunks());
            }
            self.sent_since_check = true;
            return Ok(());
        }
        let mut frame = Vec::new();
        if self.sends_header_frames() {
            frame.extend_from_slice(&[VERSION, DIST_HEADER, 0]);
            etf::encode_body(&control.to_term(), &mut frame, opts)?;
            if let Some(payload) = payload {
                etf::encode_body(payload, &mut frame, opts)?;
            }
        } else {
            frame.extend_from_slice(&[PASS_THROUGH, VERSION]);
            etf::encode_body(&control.to_term(), &mut frame, opts)?;
            if let Some(payload) = payload {
                frame.push(VERSION);
                etf::encode_body(payload, &mut frame, opts)?;
            }
        }
        let mut framed = Vec::with_capacity(frame.len() + 4);
        write_frame(LengthPrefix::U32, &frame, &mut framed)?;
        self.out.push_frame(&framed);
        self.sent_since_check = true;
        Ok(())
    }

    /// Moves the bytes to send into `out`: every complete frame waiting
    /// (small messages, ticks) and at most one fragment of a large message.
    /// Returns how many bytes. Call it again when `out` has drained and
    /// [`Connection::wants_transmit`] says more waits.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        // A fragment is traffic that spares a tick; a tick is not.
        if self.out.streamed_messages() > 0 {
            self.sent_since_check = true;
        }
        self.out.poll(out)
    }

    /// The same as [`Connection::poll_transmit`], but hands the bytes out
    /// as chunks to write with vectored writes: the terms of a large
    /// message are not copied once more. Returns how many bytes.
    pub fn poll_transmit_chunks(&mut self, out: &mut VecDeque<Bytes>) -> usize {
        if self.out.streamed_messages() > 0 {
            self.sent_since_check = true;
        }
        self.out.poll_chunks(out)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ConnectionEvent> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.failed.is_some() {
            None
        } else {
            Some(self.next_check)
        }
    }

    fn check(&self) -> Result<(), ConnectionError> {
        match &self.failed {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, err: ConnectionError) -> ConnectionError {
        tracing::debug!(%err, "distribution connection failed");
        self.failed = Some(err.clone());
        err
    }

    fn on_data(&mut self, data: Bytes) -> Result<(), ConnectionError> {
        match (data.first(), data.get(1)) {
            (Some(&PASS_THROUGH), _) => self.on_pass_through(data.slice(1..)),
            (Some(&VERSION), Some(&DIST_HEADER)) => {
                let (atoms, len) = self.atom_cache.read_header(&data[2..])?;
                self.on_terms(data.slice(2 + len..), &atoms)
            }
            (Some(&VERSION), Some(&DIST_FRAG_HEADER)) => {
                let mut r = Reader::new(&data[2..]);
                let seq = r.u64("fragment sequence id")?;
                let frag_id = r.u64("fragment id")?;
                let at = 2 + r.position();
                let (atoms, len) = self.atom_cache.read_header(r.rest())?;
                // The part stays a slice of the frame: no copy here.
                let part = data.slice(at + len..);
                match self.fragments.start(seq, frag_id, atoms, part)? {
                    Some(whole) => self.on_terms(whole.data, &whole.atoms),
                    None => Ok(()),
                }
            }
            (Some(&VERSION), Some(&DIST_FRAG_CONT)) => {
                let mut r = Reader::new(&data[2..]);
                let seq = r.u64("fragment sequence id")?;
                let frag_id = r.u64("fragment id")?;
                let part = data.slice(2 + r.position()..);
                match self.fragments.cont(seq, frag_id, part)? {
                    Some(whole) => self.on_terms(whole.data, &whole.atoms),
                    None => Ok(()),
                }
            }
            _ => Err(ConnectionError::UnknownFrame {
                first: data.iter().take(2).copied().collect(),
            }),
        }
    }

    /// `112 | 131 ctrl | [131 msg]`.
    fn on_pass_through(&mut self, data: Bytes) -> Result<(), ConnectionError> {
        let decoder = etf::Decoder::from_bytes(data).with_options(self.config.decode.clone());
        self.decode_message(decoder, etf::Decoder::read_term)
    }

    /// `ctrl | [msg]` without version bytes, atoms from the cache header.
    fn on_terms(&mut self, data: Bytes, atoms: &[Atom]) -> Result<(), ConnectionError> {
        let decoder = etf::Decoder::from_bytes(data)
            .with_options(self.config.decode.clone())
            .with_atom_cache(atoms);
        self.decode_message(decoder, etf::Decoder::read_body)
    }

    /// Reads the control message and, where it has one, the payload, each
    /// with `read` (with or without version byte), and delivers them.
    fn decode_message<'a>(
        &mut self,
        mut decoder: etf::Decoder<'a>,
        read: fn(&mut etf::Decoder<'a>) -> Result<Term, DecodeError>,
    ) -> Result<(), ConnectionError> {
        let control = read(&mut decoder).map_err(|error| ConnectionError::Decode {
            part: FramePart::Control,
            error,
        })?;
        let control = ControlMessage::from_term(&control)?;
        let payload = if control.has_payload() && decoder.remaining() > 0 {
            Some(read(&mut decoder).map_err(|error| ConnectionError::Decode {
                part: FramePart::Payload,
                error,
            })?)
        } else {
            None
        };
        self.deliver(control, payload, decoder.remaining())
    }

    fn deliver(
        &mut self,
        control: ControlMessage,
        payload: Option<Term>,
        trailing: usize,
    ) -> Result<(), ConnectionError> {
        if control.has_payload() && payload.is_none() {
            return Err(ConnectionError::MissingPayload { op: control.op() });
        }
        if trailing > 0 {
            return Err(ConnectionError::TrailingBytes {
                op: control.op(),
                len: trailing,
            });
        }
        self.events
            .push_back(ConnectionEvent::Message { control, payload });
        Ok(())
    }
}

/// The process whose messages must keep their order: the sender, if the
/// control message names one.
fn sender(control: &ControlMessage) -> Option<&Pid> {
    use ControlMessage as C;
    match control {
        C::Link { from, .. }
        | C::Exit { from, .. }
        | C::Unlink { from, .. }
        | C::RegSend { from, .. }
        | C::GroupLeader { from, .. }
        | C::Exit2 { from, .. }
        | C::MonitorP { from, .. }
        | C::DemonitorP { from, .. }
        | C::SendSender { from, .. }
        | C::PayloadExit { from, .. }
        | C::PayloadExit2 { from, .. }
        | C::SpawnRequest { from, .. }
        | C::AliasSend { from, .. }
        | C::UnlinkId { from, .. }
        | C::UnlinkIdAck { from, .. }
        | C::AltactSigSend { from, .. } => Some(from),
        C::MonitorPExit { from, .. } | C::PayloadMonitorPExit { from, .. } => match from {
            crate::control::PidOrName::Pid(pid) => Some(pid),
            crate::control::PidOrName::Name(_) => None,
        },
        C::Send { .. } | C::SpawnReply { .. } => None,
    }
}

/// The form of `control` a peer with `flags` takes, as OTP sends it; `None`
/// for a signal it has no operation for.
fn for_peer(control: &ControlMessage, flags: DistFlags) -> Option<Cow<'_, ControlMessage>> {
    use ControlMessage as C;
    let control = match control {
        C::AltactSigSend {
            kind,
            from,
            to,
            token,
            ..
        } if !flags.contains(DistFlags::ALTACT_SIG) => {
            let (from, token) = (from.clone(), token.clone());
            Cow::Owned(match (kind, to) {
                (AltactKind::Message, AltactDest::Pid(to)) => C::SendSender {
                    from,
                    to: to.clone(),
                    token,
                },
                (AltactKind::Message, AltactDest::Name(to)) => C::RegSend {
                    from,
                    to: to.clone(),
                    token,
                },
                (AltactKind::Message, AltactDest::Alias(alias)) => C::AliasSend {
                    from,
                    alias: alias.clone(),
                    token,
                },
                (AltactKind::Exit, AltactDest::Pid(to)) => C::PayloadExit2 {
                    from,
                    to: to.clone(),
                    token,
                },
                (AltactKind::Exit, AltactDest::Name(_) | AltactDest::Alias(_)) => return None,
            })
        }
        other => Cow::Borrowed(other),
    };
    match &*control {
        C::SendSender { to, token, .. } if !flags.contains(DistFlags::SEND_SENDER) => {
            Some(Cow::Owned(C::Send {
                to: to.clone(),
                token: token.clone(),
            }))
        }
        _ => Some(control),
    }
}

/// A quarter of the tick time, at least a millisecond.
fn tick_interval(tick_time: Duration) -> Duration {
    (tick_time / 4).max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests;
