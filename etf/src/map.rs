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
    if entries.len() <= LINEAR_LIMIT {
        (1..entries.len()).find(|&i| entries[..i].iter().any(|(k, _)| *k == entries[i].0))
    } else {
        let mut seen = HashSet::with_capacity(entries.len());
        entries.iter().position(|(k, _)| !seen.insert(k))
    }
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
}
