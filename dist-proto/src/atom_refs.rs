//! The send side of the distribution header's atom cache: the atoms of a
//! message are written as references (ATOM_CACHE_REF) to a list in the
//! frame's header, and an atom that the peer's cache already holds at its
//! slot goes without its text. The BEAM decodes a cached atom without
//! looking its text up in the atom table, which is most of what a small
//! message with a few atoms costs it to receive.
//!
//! The cache mirrors the peer's: each atom has a fixed slot (a hash of its
//! text), and a slot changes only when a header that sets it is written.
//! Headers are written in the order the frames that carry them go out, so
//! the peer applies them in the same order. A message that goes out later
//! (in fragments, or behind a fragmented message of its sender) keeps the
//! atoms its references stand for, and its header is written, against the
//! cache as it is then, when its first frame is cut.

use etf::{Atom, AtomRefs};

use crate::slots::{Chunks, CHUNK, SLOTS};

/// References one header can hold (its count is a byte).
const MAX_REFS: usize = 255;
/// The longest atom text kept in the cache: with at most 255 bytes every
/// length in the header fits a byte. Longer atoms are written as text.
const MAX_CACHED_BYTES: usize = 255;

/// One reference of the message being encoded.
#[derive(Debug)]
struct Ref {
    slot: u16,
    /// The atom, when the header carries its text (the peer's slot holds
    /// another atom); an old entry needs no copy of it.
    new: Option<Atom>,
}

/// [`CHUNK`] slots of the cache.
#[derive(Debug, Default)]
struct Chunk {
    /// What the peer's cache holds, as far as our headers told it.
    atoms: [Option<Atom>; CHUNK],
    /// Per slot, 1 + the last reference of this message to it, or 0: finds
    /// an atom the message already refers to without a search.
    last_ref: [u8; CHUNK],
}

/// A connection's send-side atom cache and the references of the message
/// being encoded.
#[derive(Debug)]
pub(crate) struct SendAtomCache {
    /// The slots, made in chunks as messages first refer to them.
    slots: Chunks<Chunk>,
    refs: Vec<Ref>,
}

impl SendAtomCache {
    pub(crate) fn new() -> SendAtomCache {
        SendAtomCache {
            slots: Chunks::new(),
            refs: Vec::new(),
        }
    }

    /// Starts a message: forgets the references of an abandoned one.
    pub(crate) fn begin(&mut self) {
        for r in self.refs.drain(..) {
            let (chunk, at) = self.slots.get_mut(usize::from(r.slot));
            chunk.last_ref[at] = 0;
        }
    }

    /// What the peer holds at `slot`.
    fn held(&self, slot: u16) -> Option<&Atom> {
        let (chunk, at) = self.slots.get(usize::from(slot))?;
        chunk.atoms[at].as_ref()
    }

    /// The atom that reference `r` of this message stands for.
    fn atom_of<'a>(&'a self, r: &'a Ref) -> Option<&'a Atom> {
        r.new.as_ref().or_else(|| self.held(r.slot))
    }

    /// Appends the header for the references handed out since
    /// [`SendAtomCache::begin`] and records the new entries as the peer
    /// will once it reads the header.
    pub(crate) fn write_header(&mut self, out: &mut Vec<u8>) {
        let count = self.refs.len();
        // `count` is at most 255.
        out.push(count as u8);
        if count == 0 {
            return;
        }
        // One nibble per reference (new-entry bit, segment), then one whose
        // bit 0 would say lengths take two bytes: ours always take one.
        let flags_at = out.len();
        out.resize(flags_at + count / 2 + 1, 0);
        for (i, r) in self.refs.iter().enumerate() {
            let nibble = u8::from(r.new.is_some()) << 3 | (r.slot >> 8) as u8;
            out[flags_at + i / 2] |= if i % 2 == 0 { nibble } else { nibble << 4 };
        }
        for r in self.refs.drain(..) {
            let (chunk, at) = self.slots.get_mut(usize::from(r.slot));
            chunk.last_ref[at] = 0;
            out.push(r.slot as u8);
            if let Some(atom) = r.new {
                let text = atom.as_bytes();
                out.push(text.len() as u8);
                out.extend_from_slice(text);
                chunk.atoms[at] = Some(atom);
            }
        }
    }
}

impl SendAtomCache {
    /// Ends the message just encoded without writing its header, for a
    /// message whose first frame is cut later: the atoms its references
    /// stand for, in order, to hand to [`SendAtomCache::write_header_for`]
    /// then. `None` only if the cache lost track of an atom, which its
    /// slots rule out; the caller then sends the message without references.
    pub(crate) fn take_atoms(&mut self) -> Option<Vec<Atom>> {
        let atoms = self.refs.iter().map(|r| self.atom_of(r).cloned()).collect();
        self.begin();
        atoms
    }

    /// Appends the header of a message whose atoms [`SendAtomCache::take_atoms`]
    /// took: each goes as a reference to its slot if the peer holds it
    /// there now, else with its text. The references keep their order, so
    /// the message's ATOM_CACHE_REF indices still point at its atoms.
    pub(crate) fn write_header_for(&mut self, atoms: &[Atom], out: &mut Vec<u8>) {
        self.begin();
        for (i, atom) in atoms.iter().enumerate() {
            // The atoms are distinct, cacheable and at most 255: each gets
            // the next reference.
            let index = self.reference(atom);
            debug_assert_eq!(index.map(usize::from), Some(i));
        }
        self.write_header(out);
    }
}

impl AtomRefs for SendAtomCache {
    fn reference(&mut self, atom: &Atom) -> Option<u8> {
        let text = atom.as_bytes();
        if text.len() > MAX_CACHED_BYTES {
            return None;
        }
        let slot = slot_of(text);
        let (chunk, at) = self.slots.get_mut(usize::from(slot));
        let last = chunk.last_ref[at];
        if last == 0 {
            // The first reference of this message to the slot: the common
            // case, done with one lookup.
            if self.refs.len() == MAX_REFS {
                return None;
            }
            let new = chunk.atoms[at].as_ref() != Some(atom);
            self.refs.push(Ref {
                slot,
                new: new.then(|| atom.clone()),
            });
            // At most MAX_REFS references: the count fits a byte.
            let count = self.refs.len() as u8;
            chunk.last_ref[at] = count;
            return Some(count - 1);
        }
        // This message refers to the slot already: most often, last to this
        // very atom. Rarely another atom with the same slot came between
        // (then the peer will hold that other one there, and this atom's
        // text must go unless an earlier reference has it).
        let index = usize::from(last - 1);
        let found = if self.atom_of(&self.refs[index]) == Some(atom) {
            Some(index)
        } else {
            self.refs
                .iter()
                .position(|r| r.slot == slot && self.atom_of(r) == Some(atom))
        };
        if let Some(i) = found {
            // `i` is below MAX_REFS.
            return Some(i as u8);
        }
        if self.refs.len() == MAX_REFS {
            return None;
        }
        self.refs.push(Ref {
            slot,
            new: Some(atom.clone()),
        });
        // At most MAX_REFS references: the count fits a byte.
        let count = self.refs.len() as u8;
        let (chunk, at) = self.slots.get_mut(usize::from(slot));
        chunk.last_ref[at] = count;
        Some(count - 1)
    }
}

/// The slot of an atom: FNV-1a of its text, folded into the cache's range.
fn slot_of(text: &[u8]) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in text {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    ((hash ^ (hash >> 16)) as usize % SLOTS) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atom_cache::AtomCache;

    /// Encodes `atoms` as one message's references and returns the header
    /// and the reference indexes.
    fn message(cache: &mut SendAtomCache, atoms: &[&str]) -> (Vec<u8>, Vec<Option<u8>>) {
        cache.begin();
        let indexes = atoms
            .iter()
            .map(|a| cache.reference(&Atom::new(a)))
            .collect();
        let mut header = Vec::new();
        cache.write_header(&mut header);
        (header, indexes)
    }

    #[test]
    fn the_receive_side_reads_what_the_send_side_writes() {
        let mut sender = SendAtomCache::new();
        let mut receiver = AtomCache::new();
        for atoms in [
            &["msg", "ok", "msg", "n@host"][..],
            &["ok", "error", "msg"],
            &[],
            &["é", "ok"],
        ] {
            let (header, indexes) = message(&mut sender, atoms);
            let (table, len) = receiver.read_header(&header).unwrap();
            assert_eq!(len, header.len());
            for (atom, index) in atoms.iter().zip(indexes) {
                assert_eq!(table[usize::from(index.unwrap())].as_str(), *atom);
            }
        }
    }

    #[test]
    fn slots_are_made_as_messages_first_use_them() {
        let mut sender = SendAtomCache::new();
        let mut receiver = AtomCache::new();
        assert_eq!((sender.slots.made(), receiver.chunks_made()), (0, 0));
        let atoms = ["msg", "sink", "n@host"];
        let chunks: std::collections::HashSet<usize> = atoms
            .iter()
            .map(|a| usize::from(slot_of(a.as_bytes())) / CHUNK)
            .collect();
        for _ in 0..3 {
            let (header, _) = message(&mut sender, &atoms);
            receiver.read_header(&header).unwrap();
        }
        assert_eq!(sender.slots.made(), chunks.len());
        assert_eq!(receiver.chunks_made(), chunks.len());
    }

    #[test]
    fn a_cached_atom_goes_without_its_text() {
        let mut cache = SendAtomCache::new();
        let (first, _) = message(&mut cache, &["some_long_atom_name"]);
        let (second, _) = message(&mut cache, &["some_long_atom_name"]);
        assert!(first.len() > "some_long_atom_name".len());
        // Count, one flags byte, the index.
        assert_eq!(second.len(), 3);
        assert_eq!(second[1] & 0x08, 0, "not a new entry");
    }

    #[test]
    fn an_abandoned_message_changes_nothing() {
        let mut cache = SendAtomCache::new();
        cache.begin();
        cache.reference(&Atom::new("abandoned"));
        let (header, _) = message(&mut cache, &["abandoned"]);
        assert_eq!(header[1] & 0x08, 0x08, "still new: never written");
    }

    #[test]
    fn atoms_sharing_a_slot_stay_right_within_and_across_messages() {
        // Two atoms with the same slot, found by search.
        let base = slot_of(b"a0");
        let other = (1..100_000)
            .map(|i| format!("a{i}"))
            .find(|a| slot_of(a.as_bytes()) == base)
            .unwrap();
        let mut sender = SendAtomCache::new();
        let mut receiver = AtomCache::new();
        for atoms in [
            vec!["a0", other.as_str(), "a0"],
            vec![other.as_str(), "a0"],
            vec!["a0"],
            vec![other.as_str()],
        ] {
            let (header, indexes) = message(&mut sender, &atoms);
            let (table, _) = receiver.read_header(&header).unwrap();
            for (atom, index) in atoms.iter().zip(indexes) {
                assert_eq!(table[usize::from(index.unwrap())].as_str(), *atom);
            }
        }
    }

    #[test]
    fn long_atoms_and_full_headers_fall_back_to_text() {
        let mut cache = SendAtomCache::new();
        cache.begin();
        assert_eq!(cache.reference(&Atom::new(&"é".repeat(200))), None);
        let atoms: Vec<String> = (0..300).map(|i| format!("atom_{i}")).collect();
        let given = atoms
            .iter()
            .filter(|a| cache.reference(&Atom::new(a)).is_some())
            .count();
        assert_eq!(given, MAX_REFS);
        let mut header = Vec::new();
        cache.write_header(&mut header);
        let (table, len) = AtomCache::new().read_header(&header).unwrap();
        assert_eq!((table.len(), len), (MAX_REFS, header.len()));
    }
}
