//! The atom table of one flat term: each distinct atom once.
//!
//! Atoms are found by text in a per-thread hash table that outlives the
//! term: a slot keeps its atom for later terms (a memo, as the tree
//! decoder's, so a known atom costs no validation and no allocation) and,
//! when it was seen in the current term, its index in the term's table. A
//! generation number tells the current term's slots from older ones, so
//! nothing is cleared between terms. Only an older slot is ever
//! overwritten, so a search for an atom of the current term always finds
//! it before any free slot.

use super::Atoms;
use crate::decode::atoms;
use crate::error::DecodeErrorKind;
use crate::term::Atom;

/// A slot of the hash table.
#[derive(Clone, Default)]
struct Slot {
    /// The term in which `index` is valid.
    generation: u32,
    /// The atom's index in that term's table.
    index: u32,
    /// The text's length and first sixteen bytes (two little-endian words,
    /// zero padded): the whole text for atoms of up to sixteen bytes.
    len: usize,
    head: u64,
    tail: u64,
    atom: Option<Atom>,
}

/// Slots of a new table (a power of two).
const FIRST_SLOTS: usize = 256;
/// A table larger than this is not kept for the thread's next term.
const MAX_KEPT_SLOTS: usize = 4096;

/// Finds atoms by text; the table of [`Slot`]s lives across terms.
pub(super) struct Interner {
    slots: Vec<Slot>,
    generation: u32,
    /// Slots of the current term.
    live: usize,
    /// 64 minus log2 of the number of slots: the hash's top bits index them.
    shift: u32,
}

impl Interner {
    pub(super) const fn new() -> Interner {
        Interner {
            slots: Vec::new(),
            generation: 0,
            live: 0,
            shift: 64,
        }
    }

    /// Starts a new term: the indices of the last one no longer count.
    pub(super) fn reset(&mut self) {
        if self.slots.is_empty() || self.slots.len() > MAX_KEPT_SLOTS {
            self.slots = vec![Slot::default(); FIRST_SLOTS];
        }
        self.live = 0;
        self.shift = 64 - self.slots.len().trailing_zeros();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.fill(Slot::default());
            self.generation = 1;
        }
    }

    /// The index in `atoms` of the atom written as `text` (UTF-8 when
    /// `utf8`, else Latin-1), added if new. Fails as the tree decoder does
    /// on invalid UTF-8 or more than 255 characters.
    pub(super) fn intern(
        &mut self,
        atoms: &mut Atoms,
        text: &[u8],
        utf8: bool,
    ) -> Result<u32, DecodeErrorKind> {
        // The table is keyed by UTF-8 text: ASCII is the same in both.
        if utf8 || text.is_ascii() {
            let key = Key::of(text, 0, text.len());
            self.find(atoms, text, &key, || atoms::get(text, utf8))
        } else {
            self.intern_atom(atoms, atoms::get(text, false)?)
        }
    }

    /// As [`Interner::intern`] for the UTF-8 text `data[at..at + len]`
    /// (in range): reads it a word at a time where `data` goes on.
    #[inline(always)]
    pub(super) fn intern_utf8_at(
        &mut self,
        atoms: &mut Atoms,
        data: &[u8],
        at: usize,
        len: usize,
    ) -> Result<u32, DecodeErrorKind> {
        let key = Key::of(data, at, len);
        let text = data.get(at..at + len).unwrap_or_default();
        self.find(atoms, text, &key, || atoms::get(text, true))
    }

    /// The index of `atom` in `atoms`, added if new.
    pub(super) fn intern_atom(
        &mut self,
        atoms: &mut Atoms,
        atom: Atom,
    ) -> Result<u32, DecodeErrorKind> {
        let text = atom.as_bytes();
        let key = Key::of(text, 0, text.len());
        self.find(atoms, text, &key, || Ok(atom.clone()))
    }

    /// The index of the atom of this text, made by `make` if the table
    /// does not know it.
    #[inline(always)]
    fn find(
        &mut self,
        atoms: &mut Atoms,
        text: &[u8],
        key: &Key,
        make: impl FnOnce() -> Result<Atom, DecodeErrorKind>,
    ) -> Result<u32, DecodeErrorKind> {
        let mask = self.slots.len() - 1;
        let mut i = (key.hash >> self.shift) as usize;
        loop {
            let generation = self.generation;
            let slot = &mut self.slots[i];
            let same = match &slot.atom {
                Some(a) => {
                    slot.len == text.len()
                        && slot.head == key.head
                        && slot.tail == key.tail
                        && (text.len() <= 16 || a.as_bytes() == text)
                }
                None => false,
            };
            if same && slot.generation == generation {
                return Ok(slot.index);
            }
            if same || slot.generation != generation {
                let atom = match (&slot.atom, same) {
                    (Some(a), true) => a.clone(),
                    _ => {
                        let atom = make()?;
                        *slot = Slot {
                            len: text.len(),
                            head: key.head,
                            tail: key.tail,
                            atom: Some(atom.clone()),
                            ..Slot::default()
                        };
                        atom
                    }
                };
                let index = atoms.len() as u32;
                slot.generation = generation;
                slot.index = index;
                atoms.push(atom);
                self.live += 1;
                // At most half full, so that searches stay short.
                if self.live * 2 > self.slots.len() {
                    self.grow(atoms);
                }
                return Ok(index);
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the table, keeping only the current term's atoms.
    fn grow(&mut self, atoms: &[Atom]) {
        self.slots = vec![Slot::default(); self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        self.shift = 64 - self.slots.len().trailing_zeros();
        for (index, atom) in atoms.iter().enumerate() {
            let key = Key::of(atom.as_bytes(), 0, atom.len());
            let mut i = (key.hash >> self.shift) as usize;
            while self.slots[i].generation == self.generation {
                i = (i + 1) & mask;
            }
            self.slots[i] = Slot {
                generation: self.generation,
                index: index as u32,
                len: atom.len(),
                head: key.head,
                tail: key.tail,
                atom: Some(atom.clone()),
            };
        }
    }
}

/// What the table knows of a text before comparing it whole.
struct Key {
    hash: u64,
    head: u64,
    tail: u64,
}

impl Key {
    /// The text `data[at..at + len]` (in range): its first two words and a
    /// multiplicative hash of all of them.
    #[inline(always)]
    fn of(data: &[u8], at: usize, len: usize) -> Key {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        // The common case, an atom of at most sixteen bytes with sixteen
        // bytes of input from its start: two loads.
        let (head, tail) = match data.get(at..at + 16) {
            Some(s) if len <= 16 => {
                let mut lo = [0u8; 8];
                let mut hi = [0u8; 8];
                lo.copy_from_slice(&s[..8]);
                hi.copy_from_slice(&s[8..]);
                let (lo, hi) = (u64::from_le_bytes(lo), u64::from_le_bytes(hi));
                if len <= 8 {
                    (lo & MASKS[len], 0)
                } else {
                    (lo, hi & MASKS[len - 8])
                }
            }
            _ => (
                word(data, at, len.min(8)),
                word(data, at + 8, len.saturating_sub(8).min(8)),
            ),
        };
        let mut h = (len as u64 ^ head).wrapping_mul(K) ^ tail;
        let mut i = 16;
        while i < len {
            h = h.rotate_left(29).wrapping_mul(K) ^ word(data, at + i, (len - i).min(8));
            i += 8;
        }
        Key {
            hash: h.wrapping_mul(K),
            head,
            tail,
        }
    }
}

/// `MASKS[n]`: the low `n` bytes of a word.
const MASKS: [u64; 9] = {
    let mut m = [0u64; 9];
    let mut n = 1;
    while n <= 8 {
        m[n] = u64::MAX >> (64 - 8 * n);
        n += 1;
    }
    m
};

/// The `n` (at most 8) bytes at `at` as a little-endian word, zero padded:
/// one load where eight bytes are there to read.
#[inline]
fn word(data: &[u8], at: usize, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    match data.get(at..at + 8) {
        Some(s) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(s);
            u64::from_le_bytes(w) & MASKS[n.min(8)]
        }
        // Byte by byte: a copy of a variable length would call `memcpy`.
        None => data
            .get(at..at + n)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(0u64, |w, &b| (w << 8) | u64::from(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_index_per_atom_whatever_its_encoding() {
        let mut interner = Interner::new();
        interner.reset();
        let mut atoms = Atoms::new();
        let mut seen = Vec::new();
        for i in 0..500 {
            let text = format!("a{i}");
            seen.push(interner.intern(&mut atoms, text.as_bytes(), true).unwrap());
        }
        for (i, index) in seen.iter().enumerate() {
            let text = format!("a{i}");
            assert_eq!(
                interner.intern(&mut atoms, text.as_bytes(), false).unwrap(),
                *index
            );
        }
        let latin1 = interner.intern(&mut atoms, &[0xe9], false).unwrap();
        let utf8 = interner.intern(&mut atoms, "é".as_bytes(), true).unwrap();
        assert_eq!(latin1, utf8);
        assert_eq!(atoms.len(), 501);
        interner.reset();
        let mut fresh = Atoms::new();
        assert_eq!(interner.intern(&mut fresh, b"a7", true).unwrap(), 0);
    }
}
