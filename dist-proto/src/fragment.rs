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
//! A message of one fragment is its frame's slice, not copied. The parts of
//! a message of several are copied, each as it arrives (while it is still
//! in the cache from the socket read), into one buffer: so the read buffers
//! they came in are free again at once, for the connection to read the next
//! fragments into the same memory, instead of staying pinned until the last
//! fragment and then being copied cold. The buffer is sized from the first
//! fragment: its length times the fragment count (OTP's fragments are all
//! the same size but the last), at most `PRESIZE_MAX` and never more than
//! the bytes left under [`FragmentLimits::max_buffered`] by the buffers
//! presized and the bytes held so far; a message larger than its estimate
//! grows the buffer as bytes arrive. A presized buffer is address space
//! until bytes are written to it, so an announced count that never comes
//! costs no resident memory.

use bytes::Bytes;
use etf::Atom;
use std::collections::HashMap;

/// The most a buffer is sized for from the first fragment's estimate; a
/// larger message grows its buffer as its bytes arrive.
const PRESIZE_MAX: usize = 64 << 20;

/// Bounds on what one connection may hold in unfinished messages.
///
/// A fragmented message arrives as fragments numbered from N down to 1,
/// and fragments of different messages may interleave. The bytes counted
/// are those that really arrived, never an announced fragment count, so a
/// peer cannot make the connection hold memory it did not send; going past
/// either bound is an error of the connection. A message's buffer is sized
/// from its first fragment (never past what `max_buffered` leaves), and a
/// presized buffer is only address space until bytes arrive in it, so a
/// fragment count announced and never sent costs no resident memory.
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
    /// the parts joined in one buffer.
    pub data: Bytes,
}

#[derive(Debug)]
struct Partial {
    next_id: u64,
    atoms: Vec<Atom>,
    /// The parts so far, joined.
    data: Vec<u8>,
    /// The capacity the buffer was made with, counted in
    /// [`Reassembler::presized`] until the message is done.
    presized: usize,
}

impl Partial {
    /// A message whose buffer has room for `presized` bytes.
    fn new(next_id: u64, atoms: Vec<Atom>, presized: usize) -> Partial {
        Partial {
            next_id,
            atoms,
            data: Vec::with_capacity(presized),
            presized,
        }
    }

    /// Bytes held so far.
    fn len(&self) -> usize {
        self.data.len()
    }
}

/// Collects fragments into whole messages.
#[derive(Debug, Default)]
pub struct Reassembler {
    limits: FragmentLimits,
    partial: HashMap<u64, Partial>,
    buffered: usize,
    /// The capacity the unfinished messages' buffers were made with.
    presized: usize,
}

impl Reassembler {
    /// An empty reassembler with these limits.
    pub fn new(limits: FragmentLimits) -> Reassembler {
        Reassembler {
            limits,
            partial: HashMap::new(),
            buffered: 0,
            presized: 0,
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
    /// is best a slice of the received frame: a message of one fragment is
    /// that slice, not a copy; the first part of a longer one is copied
    /// into the message's buffer, sized from `part`'s length times
    /// `frag_id` (see the module's documentation for the bounds).
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
        let estimate = usize::try_from(frag_id)
            .unwrap_or(usize::MAX)
            .saturating_mul(part.len());
        let room = self
            .limits
            .max_buffered
            .saturating_sub(self.buffered.saturating_add(self.presized));
        let presized = estimate.min(PRESIZE_MAX).min(room).max(part.len());
        self.presized += presized;
        let mut partial = Partial::new(frag_id - 1, atoms, presized);
        partial.data.extend_from_slice(&part);
        self.partial.insert(seq, partial);
        Ok(None)
    }

    /// Handles a continuation (DIST_FRAG_CONT); returns the message when
    /// this was its last fragment (id 1). `part` is copied into the
    /// message's buffer, and not kept.
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
        let Some(partial) = self.partial.get_mut(&seq) else {
            return Err(FragmentError::UnknownSequence { seq });
        };
        partial.data.extend_from_slice(&part);
        if frag_id > 1 {
            partial.next_id -= 1;
            return Ok(None);
        }
        let Some(done) = self.partial.remove(&seq) else {
            return Err(FragmentError::UnknownSequence { seq });
        };
        self.buffered -= done.len();
        self.presized -= done.presized;
        Ok(Some(Reassembled {
            atoms: done.atoms,
            // A buffer with room left over (the last fragment was short)
            // becomes the message's bytes as it is: no reallocation.
            data: Bytes::from(done.data),
        }))
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

    const MIN_SLICE: usize = 32 * 1024;

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
    }

    #[test]
    fn fragments_are_joined_in_one_buffer_sized_from_the_first() {
        let mut r = Reassembler::default();
        let parts = [pattern(1000, 1), pattern(1000, 2), pattern(400, 3)];
        r.start(1, 3, vec![], parts[0].clone()).unwrap();
        let first = r.partial[&1].data.as_ptr();
        assert_eq!(r.partial[&1].data.capacity(), 3000);
        r.cont(1, 2, parts[1].clone()).unwrap();
        let whole = r.cont(1, 1, parts[2].clone()).unwrap().unwrap();
        // Never moved: the buffer made for the first fragment is the message.
        assert_eq!(whole.data.as_ptr(), first);
        assert_eq!(
            whole.data,
            [&parts[0][..], &parts[1][..], &parts[2][..]].concat()
        );
        assert_eq!(r.presized, 0);
        // A message larger than its estimate grows its buffer.
        r.start(2, 2, vec![], pattern(10, 4)).unwrap();
        let whole = r.cont(2, 1, pattern(5000, 5)).unwrap().unwrap();
        assert_eq!(whole.data.len(), 5010);
    }

    #[test]
    fn presized_buffers_stay_under_the_byte_limit() {
        let mut r = Reassembler::new(FragmentLimits {
            max_in_flight: 8,
            max_buffered: 10_000,
        });
        // An announced count far beyond the limit sizes a buffer to the
        // limit, and the next sequences get only what is left.
        r.start(1, u64::MAX, vec![], pattern(1000, 1)).unwrap();
        assert_eq!(r.partial[&1].data.capacity(), 9000);
        r.start(2, u64::MAX, vec![], pattern(100, 2)).unwrap();
        assert_eq!(r.partial[&2].data.capacity(), 100);
        assert!(r.presized <= 10_000);
        let mut r = Reassembler::default();
        r.start(1, u64::MAX, vec![], pattern(1 << 20, 1)).unwrap();
        assert_eq!(r.partial[&1].data.capacity(), PRESIZE_MAX);
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
