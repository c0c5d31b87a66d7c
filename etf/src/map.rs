//! [`Map`]: an Erlang map that keeps its entries in order.

use crate::error::DuplicateKey;
use crate::term::{Map, Term};
use std::collections::HashSet;

/// Up to this many entries, duplicate keys are found by comparing every pair;
/// above it, through a hash set.
const LINEAR_LIMIT: usize = 16;

impl Map {
    /// An empty map.
    pub fn new() -> Map {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Map {
        Map {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// A map of these entries, in this order. Fails on the first key that
    /// appears twice (under exact equality, `=:=`). Linear in the number of
    /// entries on average.
    pub fn from_entries(entries: Vec<(Term, Term)>) -> Result<Map, DuplicateKey> {
        if let Some(i) = first_duplicate(&entries) {
            let key = entries
                .into_iter()
                .nth(i)
                .map(|(k, _)| k)
                .unwrap_or(Term::Nil);
            return Err(DuplicateKey { key });
        }
        Ok(Map { entries })
    }

    /// Inserts `value` under `key`, replacing and returning the value of an
    /// exactly equal key, which keeps its position. Linear in the map's size.
    pub fn insert(&mut self, key: Term, value: Term) -> Option<Term> {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The value under a key exactly equal to `key` (`=:=`: `1` and `1.0`
    /// are different keys). Linear in the map's size.
    pub fn get(&self, key: &Term) -> Option<&Term> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Removes the entry of `key`, returning its value; later entries move up.
    pub fn remove(&mut self, key: &Term) -> Option<Term> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in order (wire order for a decoded map, insertion order otherwise).
    pub fn iter(&self) -> std::slice::Iter<'_, (Term, Term)> {
        self.entries.iter()
    }

    /// The entries in order, as a slice.
    pub fn entries(&self) -> &[(Term, Term)] {
        &self.entries
    }

    /// The entries in order, by value.
    pub fn into_entries(self) -> Vec<(Term, Term)> {
        self.entries
    }

    /// Wraps entries already known to have unique keys.
    pub(crate) fn from_unique(entries: Vec<(Term, Term)>) -> Map {
        Map { entries }
    }
}

/// The index of the second occurrence of the first repeated key, if any.
pub(crate) fn first_duplicate(entries: &[(Term, Term)]) -> Option<usize> {
    if entries.len() < 2 {
        return None;
    }
    if entries.len() <= LINEAR_LIMIT {
        // Cheap prints first: most pairs differ in them, and the full
        // comparison is then skipped.
        let mut prints = [0u64; LINEAR_LIMIT];
        for (p, (k, _)) in prints.iter_mut().zip(entries) {
            *p = fingerprint(k).unwrap_or(0);
        }
        return (1..entries.len())
            .find(|&i| (0..i).any(|j| prints[j] == prints[i] && entries[j].0 == entries[i].0));
    }
    match by_fingerprint(entries) {
        Some(found) => found,
        None => {
            let mut seen = HashSet::with_capacity(entries.len());
            entries.iter().position(|(k, _)| !seen.insert(k))
        }
    }
}

/// A 64-bit print of an integer or atom key: equal keys have equal prints.
/// `None` for other keys (whose several representations of one term, such
/// as `[]` and an empty list, would need a deeper look).
#[inline]
fn fingerprint(key: &Term) -> Option<u64> {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    match key {
        Term::Int(i) => Some((*i as u64).wrapping_mul(K).rotate_left(31)),
        Term::BigInt(b) => i64::try_from(b)
            .ok()
            .map(|i| (i as u64).wrapping_mul(K).rotate_left(31)),
        Term::Atom(a) => {
            let text = a.as_bytes();
            let mut h = (text.len() as u64) ^ 0x5bd1_e995;
            let mut chunks = text.chunks_exact(8);
            for c in &mut chunks {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
            }
            let rest = chunks
                .remainder()
                .iter()
                .rev()
                .fold(0u64, |w, &b| (w << 8) | u64::from(b));
            Some((h ^ rest).wrapping_mul(K).rotate_left(29))
        }
        _ => None,
    }
}

/// [`first_duplicate`] for maps keyed by integers and atoms only (`None`
/// for other maps): the prints sorted, and only keys of equal prints
/// compared, each run of them sorted in term order, so that even keys
/// crafted to share one print cost `O(n log n)` comparisons.
fn by_fingerprint(entries: &[(Term, Term)]) -> Option<Option<usize>> {
    let mut prints = Vec::with_capacity(entries.len());
    for (i, (k, _)) in entries.iter().enumerate() {
        prints.push((fingerprint(k)?, i));
    }
    prints.sort_unstable();
    let mut first: Option<usize> = None;
    let mut run = Vec::new();
    for group in prints.chunk_by(|a, b| a.0 == b.0) {
        if group.len() < 2 {
            continue;
        }
        // Indices ascending within the run; a stable sort keeps them so
        // among equal keys, whose second is then a repeat.
        run.clear();
        run.extend(group.iter().map(|&(_, i)| i));
        run.sort_by(|&a, &b| entries[a].0.cmp(&entries[b].0));
        for same in run.chunk_by(|&a, &b| entries[a].0 == entries[b].0) {
            if let Some(&second) = same.get(1) {
                first = Some(first.map_or(second, |f| f.min(second)));
            }
        }
    }
    Some(first)
}

impl<'a> IntoIterator for &'a Map {
    type Item = &'a (Term, Term);
    type IntoIter = std::slice::Iter<'a, (Term, Term)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for Map {
    type Item = (Term, Term);
    type IntoIter = std::vec::IntoIter<(Term, Term)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl TryFrom<Vec<(Term, Term)>> for Map {
    type Error = DuplicateKey;
    fn try_from(entries: Vec<(Term, Term)>) -> Result<Map, DuplicateKey> {
        Map::from_entries(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> Term {
        Term::Int(i)
    }

    #[test]
    fn integer_and_float_keys_are_distinct() {
        let mut m = Map::new();
        assert_eq!(m.insert(int(1), int(10)), None);
        assert_eq!(m.insert(Term::Float(1.0), int(20)), None);
        assert_eq!(m.insert(Term::Float(-0.0), int(30)), None);
        assert_eq!(m.insert(Term::Float(0.0), int(40)), None);
        assert_eq!(m.len(), 4);
        assert_eq!(m.get(&int(1)), Some(&int(10)));
        assert_eq!(m.insert(int(1), int(11)), Some(int(10)));
        assert_eq!(m.entries()[0], (int(1), int(11)));
    }

    #[test]
    fn duplicate_keys_found_in_small_and_large_maps() {
        for n in [2usize, 16, 17, 1000] {
            let mut entries: Vec<_> = (0..n as i64).map(|i| (int(i), Term::Nil)).collect();
            assert!(Map::from_entries(entries.clone()).is_ok());
            // Same key, another representation: a BigInt that fits.
            entries.push((Term::BigInt((n as i64 - 1).into()), Term::Nil));
            let err = Map::from_entries(entries).unwrap_err();
            assert_eq!(err.key, int(n as i64 - 1));
        }
    }

    #[test]
    fn duplicate_atom_keys_found_whatever_the_mix() {
        let atom = |s: &str| Term::atom(s);
        for n in [2usize, 16, 17, 300] {
            let mut entries: Vec<_> = (0..n).map(|i| (atom(&format!("k{i}")), int(1))).collect();
            entries.push((int(7), int(2)));
            assert!(Map::from_entries(entries.clone()).is_ok(), "{n}");
            // Repeats of two keys: the earlier second occurrence is reported.
            entries.push((atom("k1"), Term::Nil));
            entries.push((atom("k0"), Term::Nil));
            entries.push((int(7), Term::Nil));
            let err = Map::from_entries(entries).unwrap_err();
            assert_eq!(err.key, atom("k1"), "{n}");
        }
    }
}
