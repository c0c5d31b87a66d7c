//! Atom text to [`Atom`], validated, with a small per-thread memo of recent
//! atoms so that atoms seen before (node names in pids, record tags, the
//! keys of maps) share one allocation instead of making a new one.
//!
//! The memo is a two-way set-associative table: the text's hash picks a
//! pair of slots, the most recently added atom of the pair first. It holds
//! at most [`SLOTS`] atoms of at most [`MAX_MEMO_LEN`] bytes per thread, so
//! its memory is bounded whatever the input (about 100 KiB); an atom that
//! collides only evicts the older of the pair, so two atoms that hash alike
//! (the keys of one map, say) do not evict each other in turn.

use crate::error::DecodeErrorKind;
use crate::term::Atom;
use std::cell::RefCell;

/// Slots in the memo (a power of two).
const SLOTS: usize = 1024;
/// Longer atoms are not memoized.
const MAX_MEMO_LEN: usize = 64;

thread_local! {
    static RECENT: RefCell<Recent> = const { RefCell::new(Recent { slots: Vec::new() }) };
}

/// The memo: empty until the thread decodes its first atom.
struct Recent {
    slots: Vec<Option<Atom>>,
}

impl Recent {
    fn get(&mut self, text: &[u8]) -> Result<Atom, DecodeErrorKind> {
        if self.slots.is_empty() {
            self.slots = vec![None; SLOTS];
        }
        let first = pair_of(text);
        let Some([newer, older]) = self.slots.get_mut(first..first + 2) else {
            return make(text, true);
        };
        if let Some(a) = newer {
            if a.as_bytes() == text {
                return Ok(a.clone());
            }
        }
        if let Some(a) = older {
            if a.as_bytes() == text {
                let a = a.clone();
                // Most recent first: the next lookup of it costs one compare.
                std::mem::swap(newer, older);
                return Ok(a);
            }
        }
        // Memoized text is UTF-8 (or ASCII, the same in Latin-1).
        let atom = make(text, true)?;
        *older = newer.replace(atom.clone());
        Ok(atom)
    }
}

/// The empty atom (a node written as `[]` inside LOCAL_EXT).
pub(super) fn empty() -> Atom {
    get(b"", true).unwrap_or_else(|_| Atom::new(""))
}

/// The atom encoded as `text`: UTF-8 when `utf8`, else Latin-1.
/// Fails on invalid UTF-8 or on more than 255 characters.
pub(crate) fn get(text: &[u8], utf8: bool) -> Result<Atom, DecodeErrorKind> {
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

/// The first of the two slots for `text`: a multiplicative hash of its
/// bytes, eight at a time.
#[inline]
fn pair_of(text: &[u8]) -> usize {
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
        // Byte by byte: a copy of a variable length would call `memcpy`.
        let w = rest
            .iter()
            .rev()
            .fold(0u64, |w, &b| (w << 8) | u64::from(b));
        h = (h ^ w).wrapping_mul(K);
    }
    // The top bits of a product depend on every bit of its factors.
    ((h >> (64 - SLOTS.trailing_zeros())) as usize) & (SLOTS - 2)
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
