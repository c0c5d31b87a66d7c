//! Reassembly of fragmented messages (`131,69` DIST_FRAG_HEADER followed by
//! `131,70` DIST_FRAG_CONT frames).
//!
//! A message is split into fragments numbered from N down to 1; the first
//! carries the atom cache header. Fragments of different sequences may
//! interleave. Memory is bounded: a connection holds at most
//! [`FragmentLimits::max_in_flight`] unfinished sequences and
//! [`FragmentLimits::max_buffered`] bytes of them, counted on the bytes that
//! really arrived (never on an announced fragment count).
//!
//! A part of at least `MIN_SLICE` bytes (OTP sends 64 KiB) is kept as a
//! slice of its frame, without a copy, and so is the last part; smaller
//! parts before it are copied and joined, so that a stream of tiny
//! fragments neither costs a buffer each nor pins a read buffer per byte.
//! When the last fragment arrives the parts are copied once into a buffer of
//! exactly the message's size; a message of one fragment (or of one kept
//! slice) is not copied at all. So OTP's fragments are copied once, and
//! only small parts amid a message twice.
//!
//! A kept slice holds on to the buffer its frame was read into until the
//! message is complete, so the memory really held may exceed the counted
//! bytes by the ratio of that buffer to `MIN_SLICE`. The frame decoder
//! bounds that buffer (it stops sharing a buffer with more than 1 MiB of
//! room behind a frame), and the connection's reads size it (256 KiB in
//! `cnode`), so the ratio stays bounded: about 4 with OTP's 64 KiB
//! fragments and `cnode`'s reads, a few dozen at worst.

use bytes::Bytes;
use etf::Atom;
use std::collections::HashMap;

/// The smallest part kept as a slice of its frame; smaller parts are copied.
const MIN_SLICE: usize = 32 * 1024;

/// Bounds on what one connection may hold in unfinished messages.
///
/// A fragmented message arrives as fragments numbered from N down to 1,
/// and fragments of different messages may interleave. The bytes counted
/// are those that really arrived, never an announced fragment count, so a
/// peer cannot make the connection reserve memory it did not send; going
/// past either bound is an error of the connection. The memory held may
/// exceed the count by a bounded factor (about 4 with OTP's 64 KiB
/// fragments and `cnode`'s reads), as large parts are kept as slices of
/// the buffers they were read into rather than copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentLimits {
    /// Unfinished sequences at a time.
    pub max_in_flight: usize,
    /// Bytes held in unfinished sequences, all together.
    pub max_buffered: usize,
}

impl FragmentLimits {
    /// The default bound on bytes in unfinished messages: 1 GiB, room for
    /// one 1 GiB message or several of a few hundred MiB (OTP itself has no
    /// limit).
    pub const DEFAULT_MAX_BUFFERED: usize = 1 << 30;
    /// The default bound on unfinished messages at a time.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
}

impl Default for FragmentLimits {
    /// 256 sequences and 1 GiB.
    fn default() -> FragmentLimits {
        FragmentLimits {
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            max_buffered: Self::DEFAULT_MAX_BUFFERED,
        }
    }
}

/// A fragment that does not fit the sequence it belongs to, or a limit hit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FragmentError {
    /// A first fragment for a sequence already in progress.
    #[error("fragment sequence {seq} started twice")]
    DuplicateSequence {
        /// The sequence id.
        seq: u64,
    },
    /// A continuation for a sequence that was never started.
    #[error("continuation of unknown fragment sequence {seq}")]
    UnknownSequence {
        /// The sequence id.
        seq: u64,
    },
    /// A fragment id that is not the one expected next.
    #[error("fragment sequence {seq}: expected fragment {expected}, got {got}")]
    OutOfOrder {
        /// The sequence id.
        seq: u64,
        /// The id expected (one less than the previous).
        expected: u64,
        /// The id received.
        got: u64,
    },
    /// A fragment id of 0 (ids count down to 1).
    #[error("fragment sequence {seq} has fragment id 0")]
    ZeroFragmentId {
        /// The sequence id.
        seq: u64,
    },
    /// Too many unfinished sequences.
    #[error("more than {limit} fragmented messages in flight")]
    TooManyInFlight {
        /// The limit.
        limit: usize,
    },
    /// Too many bytes in unfinished sequences.
    #[error("fragmented messages would buffer more than {limit} bytes")]
    TooMuchBuffered {
        /// The limit.
        limit: usize,
    },
}

/// A complete message: the atoms of its cache header and the control and
/// payload terms' bytes (no version bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    /// The atoms ATOM_CACHE_REF indexes into.
    pub atoms: Vec<Atom>,
    /// The terms' bytes: the part itself for a message of one fragment, else
    /// the parts joined in one buffer of exactly this size.
    pub data: Bytes,
}

#[derive(Debug)]
struct Partial {
    next_id: u64,
    atoms: Vec<Atom>,
    /// The parts so far, in order: slices of their frames, and small parts
    /// copied together.
    parts: Vec<Bytes>,
    /// Small parts copied since the last slice, not yet in `parts`.
    small: Vec<u8>,
    /// Bytes in `parts` and `small`.
    len: usize,
}

impl Partial {
    fn new(next_id: u64, atoms: Vec<Atom>) -> Partial {
        Partial {
            next_id,
            atoms,
            parts: Vec::new(),
            small: Vec::new(),
            len: 0,
        }
    }

    /// Adds a part; the `last` one is never copied here, as it is joined
    /// at once.
    fn push(&mut self, part: Bytes, last: bool) {
        self.len += part.len();
        if part.len() < MIN_SLICE && !last {
            self.small.extend_from_slice(&part);
            return;
        }
        if !self.small.is_empty() {
            self.parts
                .push(Bytes::from(std::mem::take(&mut self.small)));
        }
        if !part.is_empty() {
            self.parts.push(part);
        }
    }

    /// The message's bytes: one copy into a buffer of the exact size, none
    /// if there is only one piece.
    fn join(mut self) -> Bytes {
        match (self.parts.len(), self.small.is_empty()) {
            (0, _) => return Bytes::from(self.small),
            (1, true) => return self.parts.swap_remove(0),
            _ => {}
        }
        let mut data = Vec::with_capacity(self.len);
        for part in &self.parts {
            data.extend_from_slice(part);
        }
        data.extend_from_slice(&self.small);
        Bytes::from(data)
    }
}

/// Collects fragments into whole messages.
#[derive(Debug, Default)]
pub struct Reassembler {
    limits: FragmentLimits,
    partial: HashMap<u64, Partial>,
    buffered: usize,
}

impl Reassembler {
    /// An empty reassembler with these limits.
    pub fn new(limits: FragmentLimits) -> Reassembler {
        Reassembler {
            limits,
            partial: HashMap::new(),
            buffered: 0,
        }
    }

    /// Bytes held in unfinished sequences.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Unfinished sequences.
    pub fn in_flight(&self) -> usize {
        self.partial.len()
    }

    /// Handles a first fragment (DIST_FRAG_HEADER) whose header resolved to
    /// `atoms`; returns the message if this was its only fragment. `part`
    /// is best a slice of the received frame: it is kept without a copy.
    pub fn start(
        &mut self,
        seq: u64,
        frag_id: u64,
        atoms: Vec<Atom>,
        part: Bytes,
    ) -> Result<Option<Reassembled>, FragmentError> {
        if frag_id == 0 {
            return Err(FragmentError::ZeroFragmentId { seq });
        }
        if frag_id == 1 {
            return Ok(Some(Reassembled { atoms, data: part }));
        }
        if self.partial.contains_key(&seq) {
            return Err(FragmentError::DuplicateSequence { seq });
        }
        if self.partial.len() >= self.limits.max_in_flight {
            return Err(FragmentError::TooManyInFlight {
                limit: self.limits.max_in_flight,
            });
        }
        self.reserve(part.len())?;
        let mut partial = Partial::new(frag_id - 1, atoms);
        partial.push(part, false);
        self.partial.insert(seq, partial);
        Ok(None)
    }

    /// Handles a continuation (DIST_FRAG_CONT); returns the message when
    /// this was its last fragment (id 1). `part` is best a slice of the
    /// received frame: it is kept without a copy.
    pub fn cont(
        &mut self,
        seq: u64,
        frag_id: u64,
        part: Bytes,
    ) -> Result<Option<Reassembled>, FragmentError> {
        let expected = self
            .partial
            .get(&seq)
            .map(|p| p.next_id)
            .ok_or(FragmentError::UnknownSequence { seq })?;
        if frag_id != expected {
            return Err(FragmentError::OutOfOrder {
                seq,
                expected,
                got: frag_id,
            });
        }
        self.reserve(part.len())?;
        if frag_id == 1 {
            let Some(mut done) = self.partial.remove(&seq) else {
                return Err(FragmentError::UnknownSequence { seq });
            };
            done.push(part, true);
            self.buffered -= done.len;
            let atoms = std::mem::take(&mut done.atoms);
            return Ok(Some(Reassembled {
                atoms,
                data: done.join(),
            }));
        }
        if let Some(partial) = self.partial.get_mut(&seq) {
            partial.push(part, false);
            partial.next_id -= 1;
        }
        Ok(None)
    }

    fn reserve(&mut self, len: usize) -> Result<(), FragmentError> {
        let total = self.buffered.saturating_add(len);
        if total > self.limits.max_buffered {
            return Err(FragmentError::TooMuchBuffered {
                limit: self.limits.max_buffered,
            });
        }
        self.buffered = total;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(bytes: &[u8]) -> Bytes {
        Bytes::copy_from_slice(bytes)
    }

    fn pattern(len: usize, seed: u8) -> Bytes {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect::<Vec<u8>>()
            .into()
    }

    #[test]
    fn reassembled_bytes_are_the_parts_concatenated() {
        let parts = [
            pattern(MIN_SLICE, 1),
            pattern(3, 2),
            pattern(0, 3),
            pattern(MIN_SLICE + 5, 4),
            pattern(MIN_SLICE - 1, 5),
            pattern(7, 6),
        ];
        let mut r = Reassembler::default();
        let n = parts.len() as u64;
        assert_eq!(r.start(1, n, vec![], parts[0].clone()).unwrap(), None);
        let mut whole = None;
        for (i, part) in parts.iter().enumerate().skip(1) {
            whole = r.cont(1, n - i as u64, part.clone()).unwrap();
        }
        let expected: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        assert_eq!(whole.unwrap().data, expected);
        assert_eq!((r.buffered(), r.in_flight()), (0, 0));
    }

    #[test]
    fn a_message_in_one_piece_is_not_copied() {
        let mut r = Reassembler::default();
        let frame = pattern(100, 9);
        let whole = r.start(1, 1, vec![], frame.slice(10..)).unwrap().unwrap();
        assert_eq!(whole.data.as_ptr(), frame[10..].as_ptr());
        // One large part followed by an empty last fragment: still no copy.
        let big = pattern(MIN_SLICE * 2, 3);
        r.start(2, 2, vec![], big.clone()).unwrap();
        let whole = r.cont(2, 1, Bytes::new()).unwrap().unwrap();
        assert_eq!(whole.data.as_ptr(), big.as_ptr());
        assert_eq!(whole.data, big);
    }

    #[test]
    fn interleaved_sequences_reassemble_in_order() {
        let mut r = Reassembler::default();
        let atoms = vec![Atom::new("x")];
        assert_eq!(r.start(7, 3, atoms.clone(), b(b"ab")).unwrap(), None);
        assert_eq!(r.start(8, 2, vec![], b(b"12")).unwrap(), None);
        assert_eq!(r.cont(7, 2, b(b"cd")).unwrap(), None);
        assert_eq!(r.buffered(), 6);
        assert_eq!(
            r.cont(8, 1, b(b"3")).unwrap(),
            Some(Reassembled {
                atoms: vec![],
                data: Bytes::from_static(b"123")
            })
        );
        assert_eq!(
            r.cont(7, 1, b(b"e")).unwrap(),
            Some(Reassembled {
                atoms,
                data: Bytes::from_static(b"abcde")
            })
        );
        assert_eq!((r.buffered(), r.in_flight()), (0, 0));
    }

    #[test]
    fn a_single_fragment_is_a_whole_message() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.start(1, 1, vec![], b(b"x")).unwrap(),
            Some(Reassembled {
                atoms: vec![],
                data: Bytes::from_static(b"x")
            })
        );
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn out_of_order_unknown_and_duplicate_fragments_are_errors() {
        let mut r = Reassembler::default();
        r.start(1, 3, vec![], b(b"a")).unwrap();
        assert_eq!(
            r.cont(1, 1, b(b"c")),
            Err(FragmentError::OutOfOrder {
                seq: 1,
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            r.cont(2, 1, b(b"c")),
            Err(FragmentError::UnknownSequence { seq: 2 })
        );
        assert_eq!(
            r.start(1, 5, vec![], b(b"a")),
            Err(FragmentError::DuplicateSequence { seq: 1 })
        );
        assert_eq!(
            r.start(3, 0, vec![], b(b"a")),
            Err(FragmentError::ZeroFragmentId { seq: 3 })
        );
    }

    #[test]
    fn limits_bound_sequences_and_bytes() {
        let mut r = Reassembler::new(FragmentLimits {
            max_in_flight: 2,
            max_buffered: 10,
        });
        r.start(1, 9, vec![], b(b"1234")).unwrap();
        r.start(2, 9, vec![], b(b"1234")).unwrap();
        assert_eq!(
            r.start(3, 9, vec![], b(b"1")),
            Err(FragmentError::TooManyInFlight { limit: 2 })
        );
        assert_eq!(
            r.cont(1, 8, b(b"123")),
            Err(FragmentError::TooMuchBuffered { limit: 10 })
        );
        // A huge announced count costs nothing until bytes arrive.
        let mut r = Reassembler::default();
        r.start(1, u64::MAX, vec![], b(b"")).unwrap();
        assert_eq!(r.buffered(), 0);
    }
}
