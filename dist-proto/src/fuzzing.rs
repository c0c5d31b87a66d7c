//! Entry points for the `fuzz` crate. Each feeds arbitrary bytes to one
//! parser or state machine; none may panic, hang or allocate without bound.

use crate::handshake::{
    Answer, Challenge, ChallengeAck, ChallengeReply, Complement, Cookie, HandshakeConfig,
    HandshakeMessage, OldSendName, SendName, Status,
};
use crate::{
    Acceptor, AcceptorEvent, AtomCache, Connection, ConnectionConfig, ConnectionEvent,
    ControlMessage, DistFlags, FragmentError, FragmentLimits, Initiator, InitiatorEvent,
    Reassembled, Reassembler,
};
use bytes::Bytes;
use std::collections::HashMap;
use std::time::Instant;

/// The accepting handshake (name `b@h`, challenge 7), answering `ok` with
/// cookie `c` to whatever name arrives (`named:` with `x@h`, creation 5, to
/// a peer asking for a name), fed in 64-byte pieces. Returns whether the
/// handshake completed.
pub fn acceptor(data: &[u8]) -> bool {
    let now = Instant::now();
    let mut b = Acceptor::new(HandshakeConfig::new("b@h", 1), 7, now);
    let mut established = false;
    for piece in data.chunks(64) {
        if b.handle_input(piece, now).is_err() {
            return false;
        }
        while let Some(event) = b.poll_event() {
            match event {
                AcceptorEvent::ConnectRequest(request) => {
                    let cookie = Cookie::new("c");
                    let answer = if request.wants_name() {
                        Answer::Named {
                            name: "x@h".into(),
                            creation: 5,
                            cookie,
                        }
                    } else {
                        Answer::Ok { cookie }
                    };
                    if b.answer(answer, now).is_err() {
                        return false;
                    }
                }
                AcceptorEvent::Established(_) => established = true,
            }
        }
    }
    established
}

/// The connecting handshake (as `a@h` to `b@h`, challenge 7, cookie `c`),
/// answering `true` to `alive`, fed in 64-byte pieces. Returns whether the
/// handshake completed.
pub fn initiator(data: &[u8]) -> bool {
    let now = Instant::now();
    let mut a = Initiator::new(
        HandshakeConfig::new("a@h", 1),
        "b@h",
        Cookie::new("c"),
        7,
        now,
    );
    let mut established = false;
    for piece in data.chunks(64) {
        if a.handle_input(piece, now).is_err() {
            return false;
        }
        while let Some(event) = a.poll_event() {
            match event {
                InitiatorEvent::AliveQuery => {
                    if a.answer_alive(true, now).is_err() {
                        return false;
                    }
                }
                InitiatorEvent::Established(_) => established = true,
            }
        }
    }
    established
}

/// The connected phase. `data[0]` picks the flags (bit 0: header frames
/// and fragments, or pass-through frames only) and the size of the chunks
/// the rest arrives in (bits 1..7); fragment limits are small so that the
/// fuzzer reaches them. Every message received must cross a fresh pair of
/// connections with the same flags unchanged.
pub fn connection(data: &[u8]) {
    let Some((&mode, stream)) = data.split_first() else {
        return;
    };
    let flags = connection_flags(mode);
    let now = Instant::now();
    let config = ConnectionConfig {
        max_frame: 1 << 20,
        fragments: FragmentLimits {
            max_in_flight: 3,
            max_buffered: 1 << 12,
        },
        ..ConnectionConfig::default()
    };
    let mut c = Connection::new(flags, config, now);
    for piece in stream.chunks(usize::from(mode >> 1) + 1) {
        if c.handle_input(piece, now).is_err() {
            break;
        }
    }
    while let Some(event) = c.poll_event() {
        if let ConnectionEvent::Message { control, payload } = event {
            resend(flags, &control, payload.as_ref());
        }
    }
}

fn connection_flags(mode: u8) -> DistFlags {
    if mode & 1 == 0 {
        DistFlags::default_hidden() | DistFlags::HEADER_FRAMES
    } else {
        DistFlags::default_hidden() & !DistFlags::HEADER_FRAMES
    }
}

fn resend(flags: DistFlags, control: &ControlMessage, payload: Option<&etf::Term>) {
    let now = Instant::now();
    let mut a = Connection::new(flags, ConnectionConfig::default(), now);
    let mut b = Connection::new(flags, ConnectionConfig::default(), now);
    if let Err(err) = a.send(control, payload) {
        panic!("received {control:?} cannot be sent: {err}");
    }
    let mut bytes = Vec::new();
    a.poll_transmit(&mut bytes);
    if let Err(err) = b.handle_input(&bytes, now) {
        panic!("{control:?} sent as {bytes:?} is refused: {err}");
    }
    let expected = ConnectionEvent::Message {
        control: control.clone(),
        payload: payload.cloned(),
    };
    assert_eq!(b.poll_event(), Some(expected), "sent as {bytes:?}");
}

/// Fragment reassembly against a model, with small limits: `data` is a
/// list of operations, `[op, arg, part...]`. `op` bit 7 says continuation
/// or first fragment, bits 0-1 the sequence; `arg` bits 0-2 the fragment id,
/// bits 3-7 the part's length. The reassembler must give what the model
/// gives, and never hold more than its limits.
pub fn fragments(data: &[u8]) {
    let limits = FragmentLimits {
        max_in_flight: 3,
        max_buffered: 64,
    };
    let mut real = Reassembler::new(limits);
    let mut model = FragmentModel::new(limits);
    let mut rest = data;
    while let [op, arg, tail @ ..] = rest {
        let seq = u64::from(op & 0x03);
        let frag_id = u64::from(arg & 0x07);
        let len = usize::from(arg >> 3).min(tail.len());
        let (part, tail) = tail.split_at(len);
        rest = tail;
        let atoms = vec![etf::Atom::new("a")];
        // A copy, as the connection hands over slices of its frames.
        let bytes = Bytes::copy_from_slice(part);
        let (got, want) = if op & 0x80 == 0 {
            (
                real.start(seq, frag_id, atoms.clone(), bytes),
                model.start(seq, frag_id, atoms, part),
            )
        } else {
            (
                real.cont(seq, frag_id, bytes),
                model.cont(seq, frag_id, part),
            )
        };
        assert_eq!(got, want, "op {op} seq {seq} id {frag_id}");
        assert_eq!(real.buffered(), model.buffered);
        assert_eq!(real.in_flight(), model.partial.len());
        assert!(real.buffered() <= limits.max_buffered);
        assert!(real.in_flight() <= limits.max_in_flight);
    }
}

/// The reassembly rules written out plainly, as the reference.
struct FragmentModel {
    limits: FragmentLimits,
    /// Per sequence: the next id expected, the atoms, the bytes so far.
    partial: HashMap<u64, (u64, Vec<etf::Atom>, Vec<u8>)>,
    buffered: usize,
}

impl FragmentModel {
    fn new(limits: FragmentLimits) -> FragmentModel {
        FragmentModel {
            limits,
            partial: HashMap::new(),
            buffered: 0,
        }
    }

    fn start(
        &mut self,
        seq: u64,
        id: u64,
        atoms: Vec<etf::Atom>,
        part: &[u8],
    ) -> Result<Option<Reassembled>, FragmentError> {
        match id {
            0 => Err(FragmentError::ZeroFragmentId { seq }),
            1 => Ok(Some(Reassembled {
                atoms,
                data: Bytes::copy_from_slice(part),
            })),
            _ if self.partial.contains_key(&seq) => Err(FragmentError::DuplicateSequence { seq }),
            _ if self.partial.len() == self.limits.max_in_flight => {
                Err(FragmentError::TooManyInFlight {
                    limit: self.limits.max_in_flight,
                })
            }
            _ => {
                self.grow(part.len())?;
                self.partial.insert(seq, (id - 1, atoms, part.to_vec()));
                Ok(None)
            }
        }
    }

    fn cont(
        &mut self,
        seq: u64,
        id: u64,
        part: &[u8],
    ) -> Result<Option<Reassembled>, FragmentError> {
        let Some((next, _, _)) = self.partial.get(&seq) else {
            return Err(FragmentError::UnknownSequence { seq });
        };
        if *next != id {
            return Err(FragmentError::OutOfOrder {
                seq,
                expected: *next,
                got: id,
            });
        }
        self.grow(part.len())?;
        let Some((next, atoms, mut data)) = self.partial.remove(&seq) else {
            return Err(FragmentError::UnknownSequence { seq });
        };
        data.extend_from_slice(part);
        if id == 1 {
            self.buffered -= data.len();
            return Ok(Some(Reassembled {
                atoms,
                data: data.into(),
            }));
        }
        self.partial.insert(seq, (next - 1, atoms, data));
        Ok(None)
    }

    fn grow(&mut self, len: usize) -> Result<(), FragmentError> {
        if self.buffered + len > self.limits.max_buffered {
            return Err(FragmentError::TooMuchBuffered {
                limit: self.limits.max_buffered,
            });
        }
        self.buffered += len;
        Ok(())
    }
}

/// One handshake message codec: `data[0]` picks the message, the rest is
/// read. A message that reads must encode to the bytes it was read from
/// (up to the data after the name that `N` must ignore), and read back.
pub fn handshake_message(data: &[u8]) {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    match kind % 7 {
        0 => codec::<SendName>(bytes),
        1 => codec::<OldSendName>(bytes),
        2 => codec::<Status>(bytes),
        3 => codec::<Challenge>(bytes),
        4 => codec::<Complement>(bytes),
        5 => codec::<ChallengeReply>(bytes),
        _ => codec::<ChallengeAck>(bytes),
    }
}

fn codec<M: HandshakeMessage + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    let Ok(message) = M::read(bytes) else {
        return;
    };
    let mut out = Vec::new();
    message.encode(&mut out);
    assert!(bytes.starts_with(&out), "{message:?} encodes as {out:?}");
    assert_eq!(M::read(&out), Ok(message), "read back from {out:?}");
}

/// An atom cache header: one that reads has one atom per reference and
/// ends within the input, and reads the same again once its new entries
/// are in the cache.
pub fn atom_cache_header(data: &[u8]) {
    let mut cache = AtomCache::new();
    let Ok((atoms, len)) = cache.read_header(data) else {
        return;
    };
    assert!(len <= data.len(), "header of {len} bytes in {}", data.len());
    assert_eq!(atoms.len(), usize::from(data[0]), "one atom per reference");
    let again = cache.read_header(data);
    assert_eq!(again, Ok((atoms, len)), "read again");
}

/// A control tuple: what decodes must convert back to the same message.
pub fn control_message(data: &[u8]) {
    let Ok(term) = etf::from_slice(data) else {
        return;
    };
    if let Ok(message) = ControlMessage::from_term(&term) {
        let again = ControlMessage::from_term(&message.to_term());
        assert_eq!(again.as_ref(), Ok(&message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_survive_garbage() {
        let mut seed = 0x2545_f491_u32;
        for len in 0..300 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            acceptor(&data);
            initiator(&data);
            connection(&data);
            fragments(&data);
            handshake_message(&data);
            atom_cache_header(&data);
            control_message(&data);
        }
    }
}
