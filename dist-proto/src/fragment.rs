//! Reassembly of fragmented messages (`131,69` DIST_FRAG_HEADER followed by
//! `131,70` DIST_FRAG_CONT frames).
//!
//! A message is split into fragments numbered from N down to 1; the first
//! carries the atom cache header. Fragments of different sequences may
//! interleave. Memory is bounded: a connection holds at most
//! [`FragmentLimits::max_in_flight`] unfinished sequences and
//! [`FragmentLimits::max_buffered`] bytes of them. Buffers grow with the
//! bytes that really arrived (never with an announced fragment count), by
//! doubling, so their capacity stays below twice `max_buffered`.

use etf::Atom;
use std::collections::HashMap;

/// Bounds on what one connection may hold in unfinished messages.
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
    /// The terms' bytes.
    pub data: Vec<u8>,
}

#[derive(Debug)]
struct Partial {
    next_id: u64,
    atoms: Vec<Atom>,
    data: Vec<u8>,
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
    /// `atoms`; returns the message if this was its only fragment.
    pub fn start(
        &mut self,
        seq: u64,
        frag_id: u64,
        atoms: Vec<Atom>,
        part: &[u8],
    ) -> Result<Option<Reassembled>, FragmentError> {
        if frag_id == 0 {
            return Err(FragmentError::ZeroFragmentId { seq });
        }
        if frag_id == 1 {
            return Ok(Some(Reassembled {
                atoms,
                data: part.to_vec(),
            }));
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
        self.partial.insert(
            seq,
            Partial {
                next_id: frag_id - 1,
                atoms,
                data: part.to_vec(),
            },
        );
        Ok(None)
    }

    /// Handles a continuation (DIST_FRAG_CONT); returns the message when
    /// this was its last fragment (id 1).
    pub fn cont(
        &mut self,
        seq: u64,
        frag_id: u64,
        part: &[u8],
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
            self.buffered -= done.data.len() + part.len();
            done.data.extend_from_slice(part);
            return Ok(Some(Reassembled {
                atoms: done.atoms,
                data: done.data,
            }));
        }
        if let Some(partial) = self.partial.get_mut(&seq) {
            partial.data.extend_from_slice(part);
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

    #[test]
    fn interleaved_sequences_reassemble_in_order() {
        let mut r = Reassembler::default();
        let atoms = vec![Atom::new("x")];
        assert_eq!(r.start(7, 3, atoms.clone(), b"ab").unwrap(), None);
        assert_eq!(r.start(8, 2, vec![], b"12").unwrap(), None);
        assert_eq!(r.cont(7, 2, b"cd").unwrap(), None);
        assert_eq!(r.buffered(), 6);
        assert_eq!(
            r.cont(8, 1, b"3").unwrap(),
            Some(Reassembled {
                atoms: vec![],
                data: b"123".to_vec()
            })
        );
        assert_eq!(
            r.cont(7, 1, b"e").unwrap(),
            Some(Reassembled {
                atoms,
                data: b"abcde".to_vec()
            })
        );
        assert_eq!((r.buffered(), r.in_flight()), (0, 0));
    }

    #[test]
    fn a_single_fragment_is_a_whole_message() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.start(1, 1, vec![], b"x").unwrap(),
            Some(Reassembled {
                atoms: vec![],
                data: b"x".to_vec()
            })
        );
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn out_of_order_unknown_and_duplicate_fragments_are_errors() {
        let mut r = Reassembler::default();
        r.start(1, 3, vec![], b"a").unwrap();
        assert_eq!(
            r.cont(1, 1, b"c"),
            Err(FragmentError::OutOfOrder {
                seq: 1,
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            r.cont(2, 1, b"c"),
            Err(FragmentError::UnknownSequence { seq: 2 })
        );
        assert_eq!(
            r.start(1, 5, vec![], b"a"),
            Err(FragmentError::DuplicateSequence { seq: 1 })
        );
        assert_eq!(
            r.start(3, 0, vec![], b"a"),
            Err(FragmentError::ZeroFragmentId { seq: 3 })
        );
    }

    #[test]
    fn limits_bound_sequences_and_bytes() {
        let mut r = Reassembler::new(FragmentLimits {
            max_in_flight: 2,
            max_buffered: 10,
        });
        r.start(1, 9, vec![], b"1234").unwrap();
        r.start(2, 9, vec![], b"1234").unwrap();
        assert_eq!(
            r.start(3, 9, vec![], b"1"),
            Err(FragmentError::TooManyInFlight { limit: 2 })
        );
        assert_eq!(
            r.cont(1, 8, b"123"),
            Err(FragmentError::TooMuchBuffered { limit: 10 })
        );
        // A huge announced count costs nothing until bytes arrive.
        let mut r = Reassembler::default();
        r.start(1, u64::MAX, vec![], b"").unwrap();
        assert_eq!(r.buffered(), 0);
    }
}
