//! The atom table of one flat term: each distinct atom once, found again
//! by its text through a per-thread hash table that is reused from term to
//! term (a generation number marks the slots of the current term, so
//! nothing is cleared between terms).

use crate::decode::atoms;
use crate::error::DecodeErrorKind;
use crate::term::Atom;

/// A slot of the hash table: an index into the term's atoms, valid when
/// its generation is the current one.
#[derive(Clone, Copy, Default)]
struct Slot {
    generation: u32,
    index: u32,
}

/// Slots of a new table (a power of two).
const FIRST_SLOTS: usize = 64;
/// A table larger than this is not kept for the thread's next term.
const MAX_KEPT_SLOTS: usize = 1 << 16;

/// Finds atoms by text; the table of [`Slot`]s lives across terms.
pub(super) struct Interner {
    slots: Vec<Slot>,
    generation: u32,
}

impl Interner {
    pub(super) const fn new() -> Interner {
        Interner {
            slots: Vec::new(),
            generation: 0,
        }
    }

    /// Starts a new term: the slots of the last one no longer count.
    pub(super) fn reset(&mut self) {
        if self.slots.is_empty() || self.slots.len() > MAX_KEPT_SLOTS {
            self.slots = vec![Slot::default(); FIRST_SLOTS];
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.fill(Slot::default());
            self.generation = 1;
        }
    }

    /// The index in `atoms` of the atom written as `text` (UTF-8 when
    /// `utf8`, else Latin-1), added if new. Fails as the tree decoder does
    /// on invalid UTF-8 or more than 255 characters.
    #[inline]
    pub(super) fn intern(
        &mut self,
        atoms: &mut Vec<Atom>,
        text: &[u8],
        utf8: bool,
    ) -> Result<u32, DecodeErrorKind> {
        // The table is keyed by UTF-8 text: ASCII is the same in both.
        if utf8 || text.is_ascii() {
            match self.find(atoms, text) {
                Ok(index) => Ok(index),
                Err(slot) => {
                    let atom = atoms::get(text, utf8)?;
                    Ok(self.insert(atoms, slot, atom))
                }
            }
        } else {
            self.intern_atom(atoms, atoms::get(text, false)?)
        }
    }

    /// The index of `atom` in `atoms`, added if new.
    pub(super) fn intern_atom(
        &mut self,
        atoms: &mut Vec<Atom>,
        atom: Atom,
    ) -> Result<u32, DecodeErrorKind> {
        match self.find(atoms, atom.as_bytes()) {
            Ok(index) => Ok(index),
            Err(slot) => Ok(self.insert(atoms, slot, atom)),
        }
    }

    /// The index of the atom of this text, or the free slot for it.
    #[inline]
    fn find(&self, atoms: &[Atom], text: &[u8]) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut i = hash(text) & mask;
        loop {
            let slot = self.slots[i];
            if slot.generation != self.generation {
                return Err(i);
            }
            if atoms.get(slot.index as usize).map(|a| a.as_bytes()) == Some(text) {
                return Ok(slot.index);
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(&mut self, atoms: &mut Vec<Atom>, slot: usize, atom: Atom) -> u32 {
        let index = atoms.len() as u32;
        atoms.push(atom);
        self.slots[slot] = Slot {
            generation: self.generation,
            index,
        };
        // At most half full, so that a search always ends at a free slot.
        if atoms.len() * 2 > self.slots.len() {
            self.grow(atoms);
        }
        index
    }

    fn grow(&mut self, atoms: &[Atom]) {
        self.slots = vec![Slot::default(); self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        for (index, atom) in atoms.iter().enumerate() {
            let mut i = hash(atom.as_bytes()) & mask;
            while self.slots[i].generation == self.generation {
                i = (i + 1) & mask;
            }
            self.slots[i] = Slot {
                generation: self.generation,
                index: index as u32,
            };
        }
    }
}

/// A multiplicative hash of the text, eight bytes at a time.
#[inline]
fn hash(text: &[u8]) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = text.len() as u64;
    let mut chunks = text.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let w = rest
            .iter()
            .rev()
            .fold(0u64, |w, &b| (w << 8) | u64::from(b));
        h = (h ^ w).wrapping_mul(K);
    }
    (h >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_index_per_atom_whatever_its_encoding() {
        let mut interner = Interner::new();
        interner.reset();
        let mut atoms = Vec::new();
        let mut seen = Vec::new();
        for i in 0..500 {
            let text = format!("a{i}");
            seen.push(interner.intern(&mut atoms, text.as_bytes(), true).unwrap());
        }
        for i in 0..500 {
            let text = format!("a{i}");
            assert_eq!(
                interner.intern(&mut atoms, text.as_bytes(), false).unwrap(),
                seen[i]
            );
        }
        let latin1 = interner.intern(&mut atoms, &[0xe9], false).unwrap();
        let utf8 = interner.intern(&mut atoms, "é".as_bytes(), true).unwrap();
        assert_eq!(latin1, utf8);
        assert_eq!(atoms.len(), 501);
        interner.reset();
        let mut fresh = Vec::new();
        assert_eq!(interner.intern(&mut fresh, b"a7", true).unwrap(), 0);
    }
}
