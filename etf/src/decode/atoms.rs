//! Atom text to [`Atom`], validated, with a small per-thread memo of recent
//! atoms so that atoms seen before (node names in pids, record tags, the
//! keys of maps) share one allocation instead of making a new one.
//!
//! The memo is a two-way set-associative table: the text's hash picks a
//! pair of slots, the most recently added atom of the pair first. It holds
//! at most [`SLOTS`] atoms of at most [`MAX_MEMO_LEN`] bytes per thread, so
//! its memory is bounded whatever the input (about 128 KiB of slots and
//! the atoms they hold); an atom that collides only evicts the older of the
//! pair, so two atoms that hash alike (the keys of one map, say) do not
//! evict each other in turn.
//!
//! Each slot keeps the text packed into two words beside its atom (see
//! [`Packed`]): for atoms of up to 16 bytes, most of them, the words and
//! the length say what the text is, so a lookup compares three integers
//! and reads neither the atom's text nor calls `memcmp`.

use crate::error::DecodeErrorKind;
use crate::term::Atom;
use std::cell::RefCell;

/// Slots in the memo (a power of two).
const SLOTS: usize = 4096;
/// Longer atoms are not memoized.
const MAX_MEMO_LEN: usize = 64;
/// Texts up to this long are told apart by their [`Packed`] words alone.
const PACKED_LEN: usize = 16;

thread_local! {
    static RECENT: RefCell<Recent> = const { RefCell::new(Recent { slots: Vec::new() }) };
}

/// The memo: empty until the thread decodes its first atom.
struct Recent {
    slots: Vec<Slot>,
}

/// A memoized atom with the packed words of its text.
#[derive(Clone, Default)]
struct Slot {
    words: Packed,
    atom: Option<Atom>,
}

impl Slot {
    #[inline]
    fn holds(&self, text: &[u8], words: &Packed) -> Option<&Atom> {
        let atom = self.atom.as_ref()?;
        // The length is in the atom's pointer: no read of its text.
        (atom.len() == text.len()
            && self.words == *words
            && (text.len() <= PACKED_LEN || atom.as_bytes() == text))
            .then_some(atom)
    }
}

/// Two words made of a text's bytes (some read twice), without a loop or a
/// call: with the length, they determine a text of up to 16 bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Packed([u64; 2]);

impl Packed {
    #[inline]
    fn of(text: &[u8]) -> Packed {
        let n = text.len();
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&text[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let half = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&text[at..at + 4]);
            u64::from(u32::from_le_bytes(w))
        };
        Packed(match n {
            0 => [0, 0],
            1..=3 => {
                let b = |i: usize| u64::from(text[i]);
                [b(0) | b(n / 2) << 8 | b(n - 1) << 16, 0]
            }
            4..=8 => [half(0) | half(n - 4) << 32, 0],
            _ => [word(0), word(n - 8)],
        })
    }

    /// The first of the two slots for a text of `len` bytes packed so.
    #[inline]
    fn pair(&self, len: usize) -> usize {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let h = (self.0[0] ^ len as u64).wrapping_mul(K).rotate_left(29) ^ self.0[1];
        // The top bits of a product depend on every bit of its factors.
        let h = h.wrapping_mul(K);
        ((h >> (64 - SLOTS.trailing_zeros())) as usize) & (SLOTS - 2)
    }
}

impl Recent {
    fn get(&mut self, text: &[u8]) -> Result<Atom, DecodeErrorKind> {
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); SLOTS];
        }
        let words = Packed::of(text);
        let first = words.pair(text.len());
        let Some([newer, older]) = self.slots.get_mut(first..first + 2) else {
            return make(text, true);
        };
        if let Some(a) = newer.holds(text, &words) {
            return Ok(a.clone());
        }
        if let Some(a) = older.holds(text, &words) {
            let a = a.clone();
            // Most recent first: the next lookup of it costs one compare.
            std::mem::swap(newer, older);
            return Ok(a);
        }
        // Memoized text is UTF-8 (or ASCII, the same in Latin-1).
        let atom = make(text, true)?;
        *older = std::mem::replace(
            newer,
            Slot {
                words,
                atom: Some(atom.clone()),
            },
        );
        Ok(atom)
    }
}

/// The empty atom (a node written as `[]` inside LOCAL_EXT).
pub(super) fn empty() -> Atom {
    get(b"", true).unwrap_or_else(|_| Atom::new(""))
}

/// The atom encoded as `text`: UTF-8 when `utf8`, else Latin-1.
/// Fails on invalid UTF-8 or on more than 255 characters.
pub(super) fn get(text: &[u8], utf8: bool) -> Result<Atom, DecodeErrorKind> {
    // ASCII is the same in both encodings and the common case.
    if text.len() <= MAX_MEMO_LEN && (utf8 || text.is_ascii()) {
        if let Ok(result) = RECENT.try_with(|r| match r.try_borrow_mut() {
            Ok(mut recent) => recent.get(text),
            Err(_) => make(text, utf8),
        }) {
            return result;
        }
    }
    make(text, utf8)
}

/// A new atom of this text, checked: valid UTF-8 (when `utf8`) and at most
/// 255 characters.
fn make(text: &[u8], utf8: bool) -> Result<Atom, DecodeErrorKind> {
    if utf8 {
        let s = std::str::from_utf8(text).map_err(|_| DecodeErrorKind::InvalidUtf8Atom)?;
        // At most 255 bytes is at most 255 characters.
        if s.len() > 255 {
            let chars = s.chars().count();
            if chars > 255 {
                return Err(DecodeErrorKind::AtomTooLong(chars));
            }
        }
        return Ok(Atom::new(s));
    }
    // Latin-1: one character per byte.
    if text.len() > 255 {
        return Err(DecodeErrorKind::AtomTooLong(text.len()));
    }
    match std::str::from_utf8(text) {
        Ok(s) if text.is_ascii() => Ok(Atom::new(s)),
        _ => Ok(Atom::from(
            text.iter().map(|&b| char::from(b)).collect::<String>(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_utf8_give_the_same_atom() {
        let a = get(&[b'a', 0xe9], false).unwrap();
        let b = get("aé".as_bytes(), true).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            get(&[0xff, 0xfe], true),
            Err(DecodeErrorKind::InvalidUtf8Atom)
        );
    }

    #[test]
    fn length_counts_characters() {
        let ok = "é".repeat(255);
        assert!(get(ok.as_bytes(), true).is_ok());
        let long = "é".repeat(256);
        assert_eq!(
            get(long.as_bytes(), true),
            Err(DecodeErrorKind::AtomTooLong(256))
        );
        assert_eq!(
            get(&[b'x'; 256], false),
            Err(DecodeErrorKind::AtomTooLong(256))
        );
    }

    #[test]
    fn packed_words_tell_short_texts_apart() {
        // Every text of up to 16 bytes from a small alphabet, by length:
        // no two may pack alike.
        let mut seen = std::collections::HashSet::new();
        let mut texts = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .flat_map(|t: &Vec<u8>| {
                    [b'a', b'b', 0].map(|c| {
                        let mut t = t.clone();
                        t.push(c);
                        t
                    })
                })
                .collect();
            texts.extend(longer);
            texts.sort();
            texts.dedup();
        }
        for t in &texts {
            assert!(seen.insert((t.len(), Packed::of(t).0)), "{t:?}");
        }
        // Texts of 5 to 16 bytes differing in one byte.
        for n in 5..=16 {
            for i in 0..n {
                let mut t = vec![b'x'; n];
                t[i] = b'y';
                assert!(seen.insert((t.len(), Packed::of(&t).0)), "{t:?}");
            }
        }
        let a = get(b"abcdefghij", true).unwrap();
        let b = get(b"abcdefghik", true).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn memo_gives_back_the_right_atom_after_collisions() {
        // Far more atoms than slots: every lookup must still match its text.
        for round in 0..2 {
            for i in 0..2000 {
                let text = format!("atom_{i}");
                let a = get(text.as_bytes(), round == 0).unwrap();
                assert_eq!(a.as_str(), text);
            }
        }
    }
}
