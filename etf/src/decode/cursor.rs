//! Bounds-checked reads at a position in the input: the one place where the
//! tree decoder and the flat one ([`crate::flat`]) turn bytes into numbers,
//! so that both report a short input the same way.

use super::{tag, truncated};
use crate::error::DecodeError;

/// A parser's input and its position in it. Implementors give access to the
/// two; the reads are provided, each failing with a truncation error that
/// names `what` was being read and where.
pub(crate) trait Cursor<'d> {
    /// The whole input.
    fn data(&self) -> &'d [u8];
    /// The offset of the next byte.
    fn pos(&self) -> usize;
    /// Moves to `pos` (never past the end).
    fn set_pos(&mut self, pos: usize);

    /// Bytes not read yet.
    #[inline]
    fn left(&self) -> usize {
        self.data().len() - self.pos()
    }

    /// The next `n` bytes.
    #[inline]
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'d [u8], DecodeError> {
        let (data, pos) = (self.data(), self.pos());
        match data.get(pos..pos.wrapping_add(n)) {
            Some(s) if pos.checked_add(n).is_some() => {
                self.set_pos(pos + n);
                Ok(s)
            }
            _ => Err(truncated(what, n as u64, self.left(), pos)),
        }
    }

    /// The next byte.
    #[inline]
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let pos = self.pos();
        match self.data().get(pos) {
            Some(&b) => {
                self.set_pos(pos + 1);
                Ok(b)
            }
            None => Err(truncated(what, 1, 0, pos)),
        }
    }

    /// The next `N` bytes, by value.
    #[inline]
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A big-endian `u16`.
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.array(what).map(u16::from_be_bytes)
    }

    /// A big-endian `u32`.
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.array(what).map(u32::from_be_bytes)
    }

    /// A big-endian `u64`.
    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.array(what).map(u64::from_be_bytes)
    }

    /// The text of an atom whose tag `t` (ATOM, SMALL_ATOM, ATOM_UTF8 or
    /// SMALL_ATOM_UTF8) was just read, and whether it is UTF-8 (else
    /// Latin-1): the length field of the tag's width, then that many bytes.
    /// Checking and interning the text is the caller's.
    #[inline]
    fn atom_text(&mut self, t: u8) -> Result<(&'d [u8], bool), DecodeError> {
        let (len, utf8) = match t {
            tag::ATOM => (usize::from(self.u16("ATOM")?), false),
            tag::SMALL_ATOM => (usize::from(self.u8("SMALL_ATOM")?), false),
            tag::ATOM_UTF8 => (usize::from(self.u16("ATOM_UTF8")?), true),
            _ => (usize::from(self.u8("SMALL_ATOM_UTF8")?), true),
        };
        Ok((self.take(len, "atom")?, utf8))
    }

    /// A count of items each at least `min_size` bytes long: fails at once
    /// if the rest of the input cannot hold them.
    fn count(&self, n: u32, min_size: usize, what: &'static str) -> Result<usize, DecodeError> {
        let n = n as usize;
        let need = n.saturating_mul(min_size);
        if need > self.left() {
            return Err(truncated(what, need as u64, self.left(), self.pos()));
        }
        Ok(n)
    }
}
