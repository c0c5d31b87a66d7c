//! Atom text to [`Atom`], validated, with a small per-thread memo of recent
//! atoms so that atoms seen before (node names in pids, record tags, the
//! keys of maps) share one allocation instead of making a new one.
//!
//! The memo is a direct-mapped table: each slot holds the last atom whose
//! text hashed to it. It holds at most [`SLOTS`] atoms of at most
//! [`MAX_MEMO_LEN`] bytes per thread, so its memory is bounded whatever the
//! input; an atom that collides only evicts the one before it.

use crate::error::DecodeErrorKind;
use crate::term::Atom;
use std::cell::RefCell;

/// Slots in the memo (a power of two).
const SLOTS: usize = 256;
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
        let slot = slot_of(text);
        if let Some(Some(a)) = self.slots.get(slot) {
            if a.as_bytes() == text {
                return Ok(a.clone());
            }
        }
        // Memoized text is UTF-8 (or ASCII, the same in Latin-1).
        let atom = make(text, true)?;
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(atom.clone());
        }
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

fn slot_of(text: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for &b in text {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (h as usize) & (SLOTS - 1)
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
