//! The receive side of the distribution header's atom cache.
//!
//! A `131,68` (or first-fragment `131,69`) frame starts with a header that
//! lists the atoms its terms refer to with ATOM_CACHE_REF (tag 82 + index
//! into that list). Each listed atom either is new (its text is in the
//! header and is stored in the connection's cache) or was stored by an
//! earlier header. The cache has 8 segments of 256 entries.
//!
//! Header layout: `u8 n`, then if `n > 0`, `n / 2 + 1` bytes of 4-bit flags
//! (one per reference, low nibble first: bit 3 new entry, bits 0-2 segment;
//! then one nibble whose bit 0 says atom lengths are 2 bytes), then per
//! reference `u8 index` and, if new, `len` (u8 or u16) and the UTF-8 text.

use crate::reader::{Malformed, Reader};
use crate::slots::{Chunks, CHUNK, SEGMENTS, SEGMENT_SIZE};
use etf::Atom;

/// The largest atom text in bytes (255 characters of up to 4 bytes).
const MAX_ATOM_BYTES: usize = 255 * 4;

/// An atom cache header could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AtomCacheError {
    /// The header is truncated or its text is not valid.
    #[error(transparent)]
    Malformed(#[from] Malformed),
    /// A reference to an entry no earlier header filled.
    #[error("reference to empty atom cache entry {index} of segment {segment}")]
    UnknownEntry {
        /// The segment (0..8).
        segment: usize,
        /// The index in the segment.
        index: u8,
    },
}

/// The atoms one header refers to, in reference order: the slice to give to
/// `etf::Decoder::with_atom_cache`.
pub type HeaderAtoms = Vec<Atom>;

/// A connection's receive-side atom cache.
#[derive(Clone, Debug)]
pub struct AtomCache {
    /// The entries, made in chunks as the peer's headers first fill them.
    entries: Chunks<[Option<Atom>; CHUNK]>,
}

impl Default for AtomCache {
    fn default() -> AtomCache {
        AtomCache::new()
    }
}

impl AtomCache {
    /// An empty cache.
    pub fn new() -> AtomCache {
        AtomCache {
            entries: Chunks::new(),
        }
    }

    /// The atom stored at `index` of `segment`, if any.
    pub fn get(&self, segment: usize, index: u8) -> Option<&Atom> {
        if segment >= SEGMENTS {
            return None;
        }
        let (chunk, at) = self
            .entries
            .get(segment * SEGMENT_SIZE + usize::from(index))?;
        chunk[at].as_ref()
    }

    /// Reads the header at the start of `bytes`, stores its new entries, and
    /// returns the atoms it refers to and the header's length in bytes.
    pub fn read_header(&mut self, bytes: &[u8]) -> Result<(HeaderAtoms, usize), AtomCacheError> {
        let mut r = Reader::new(bytes);
        let count = usize::from(r.u8("atom cache reference count")?);
        if count == 0 {
            return Ok((Vec::new(), r.position()));
        }
        let flags = r.take(count / 2 + 1, "atom cache flags")?;
        let nibble = |i: usize| {
            let byte = flags[i / 2];
            if i % 2 == 0 {
                byte & 0x0f
            } else {
                byte >> 4
            }
        };
        let long_atoms = nibble(count) & 0x01 != 0;
        let mut atoms = Vec::with_capacity(count);
        for i in 0..count {
            let flag = nibble(i);
            let segment = usize::from(flag & 0x07);
            let index = r.u8("atom cache index")?;
            let slot = segment * SEGMENT_SIZE + usize::from(index);
            let atom = if flag & 0x08 != 0 {
                let len = if long_atoms {
                    usize::from(r.u16("atom cache text length")?)
                } else {
                    usize::from(r.u8("atom cache text length")?)
                };
                if len > MAX_ATOM_BYTES {
                    return Err(r
                        .malformed("atom cache text (longer than 255 characters)")
                        .into());
                }
                let at = r.position();
                let text = std::str::from_utf8(r.take(len, "atom cache text")?).map_err(|_| {
                    Malformed {
                        what: "atom cache text (not UTF-8)",
                        offset: at,
                    }
                })?;
                let atom = Atom::new(text);
                let (chunk, at) = self.entries.get_mut(slot);
                chunk[at] = Some(atom.clone());
                atom
            } else {
                self.entries
                    .get(slot)
                    .and_then(|(chunk, at)| chunk[at].clone())
                    .ok_or(AtomCacheError::UnknownEntry { segment, index })?
            };
            atoms.push(atom);
        }
        Ok((atoms, r.position()))
    }

    /// The chunks of entries made so far.
    #[cfg(test)]
    pub(crate) fn chunks_made(&self) -> usize {
        self.entries.made()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_header_is_one_byte() {
        let mut cache = AtomCache::new();
        assert_eq!(cache.read_header(&[0, 104, 0]).unwrap(), (vec![], 1));
    }

    #[test]
    fn new_entries_are_stored_and_old_ones_resolved() {
        let mut cache = AtomCache::new();
        // Two new refs: segment 0 index 5 "a", segment 3 index 200 "bc".
        // Flags: ref0 = 0x8 (new, seg 0), ref1 = 0xB (new, seg 3): byte 0xB8;
        // then the long-atoms nibble (0) in the low half of the second byte.
        let header = [2, 0xb8, 0x00, 5, 1, b'a', 200, 2, b'b', b'c', 99];
        let (atoms, len) = cache.read_header(&header).unwrap();
        assert_eq!(atoms, vec![Atom::new("a"), Atom::new("bc")]);
        assert_eq!(len, header.len() - 1);
        assert_eq!(cache.get(3, 200), Some(&Atom::new("bc")));

        // Three refs, all old, to seg 3/200, seg 0/5, seg 3/200; the flag
        // nibble for long atoms is the high half of the second byte.
        let header = [3, 0x03, 0x03, 200, 5, 200];
        let (atoms, len) = cache.read_header(&header).unwrap();
        assert_eq!(
            atoms,
            vec![Atom::new("bc"), Atom::new("a"), Atom::new("bc")]
        );
        assert_eq!(len, 6);
    }

    #[test]
    fn the_last_entry_of_the_last_segment_is_kept() {
        let mut cache = AtomCache::new();
        let header = [1, 0x0f, 255, 1, b'z'];
        cache.read_header(&header).unwrap();
        assert_eq!(cache.get(7, 255), Some(&Atom::new("z")));
        assert_eq!((cache.get(7, 254), cache.get(8, 0)), (None, None));
        assert_eq!(cache.chunks_made(), 1);
        let (atoms, _) = cache.read_header(&[1, 0x07, 255]).unwrap();
        assert_eq!(atoms, vec![Atom::new("z")]);
    }

    #[test]
    fn long_atoms_have_two_byte_lengths() {
        let mut cache = AtomCache::new();
        // One new ref in segment 7; long-atoms flag in the high nibble.
        let header = [1, 0x1f, 9, 0, 3, 0xc3, 0xa9, b'!'];
        let (atoms, _) = cache.read_header(&header).unwrap();
        assert_eq!(atoms, vec![Atom::new("é!")]);
        assert_eq!(cache.get(7, 9), Some(&Atom::new("é!")));
    }

    #[test]
    fn unknown_entries_and_truncation_are_errors() {
        let mut cache = AtomCache::new();
        assert_eq!(
            cache.read_header(&[1, 0x02, 17]),
            Err(AtomCacheError::UnknownEntry {
                segment: 2,
                index: 17
            })
        );
        assert_eq!(
            cache.read_header(&[1, 0x08, 17, 4, b'a']),
            Err(AtomCacheError::Malformed(Malformed {
                what: "atom cache text",
                offset: 4
            }))
        );
        assert_eq!(
            cache.read_header(&[4, 0x88]),
            Err(AtomCacheError::Malformed(Malformed {
                what: "atom cache flags",
                offset: 1
            }))
        );
        assert!(matches!(
            cache.read_header(&[1, 0x18, 1, 0xff, 0xff]),
            Err(AtomCacheError::Malformed(Malformed {
                what: "atom cache text (longer than 255 characters)",
                ..
            }))
        ));
    }
}
