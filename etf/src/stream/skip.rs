//! Reading one whole value: its bytes are copied from the source as the
//! structure is followed (no recursion, nothing allocated from declared
//! lengths), then decoded by the ordinary decoder, so a value read whole is
//! exactly what [`crate::from_slice`] would make of it.

use super::source::Source;
use super::Error;
use crate::decode::tag;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::{DecodeOptions, Term};
use std::io::Read;

/// What remains to copy of the value, innermost last.
enum Pending {
    /// This many whole terms.
    Terms(u64),
    /// This many raw bytes of the item named.
    Bytes(u64, &'static str),
    /// The end of the value that starts at this offset.
    End(usize),
}

/// Reads the value at the source's position and decodes it. `scratch` is
/// reused between calls.
pub(super) fn read_value<R: Read>(
    src: &mut Source<R>,
    scratch: &mut Vec<u8>,
) -> Result<Term, Error> {
    let base = src.pos();
    scratch.clear();
    scratch.push(crate::VERSION);
    if copy_value(src, scratch, usize::MAX)?.is_some() {
        // Not reached: no value has more than usize::MAX bytes in memory.
        return Err(Error::Io(std::io::Error::other("value too large")));
    }
    decode(scratch, base)
}

/// As [`read_value`] when the value's encoding is at most `limit` bytes.
/// Otherwise `Err` with the bytes read so far put back, holding the
/// offsets of the values (this one and some inside it, outermost first)
/// known to be larger than `limit`, and the offset the look reached.
pub(super) fn read_small_value<R: Read>(
    src: &mut Source<R>,
    scratch: &mut Vec<u8>,
    limit: usize,
) -> Result<Result<Term, (Vec<usize>, usize)>, Error> {
    let base = src.pos();
    // Fast path: the value is whole in the window; decoded in place.
    src.fill_to(limit)?;
    let window = src.window();
    let mut decoder = crate::Decoder::new(&window[..window.len().min(limit)]);
    match decoder.read_body() {
        Ok(term) => {
            let n = decoder.position();
            src.consume(n);
            return Ok(Ok(term));
        }
        Err(err) if !err.is_incomplete() => {
            let at = base + err.offset();
            return Err(Error::Decode(DecodeError::new(err.kind().clone(), at)));
        }
        // Larger than the limit, or cut short: the slow path tells which.
        Err(_) => {}
    }
    scratch.clear();
    scratch.push(crate::VERSION);
    if let Some(open) = copy_value(src, scratch, limit.saturating_add(1))? {
        let reached = src.pos();
        src.unread(&scratch[1..]);
        return Ok(Err((open, reached)));
    }
    decode(scratch, base).map(Ok)
}

/// Decodes the copied value (behind its version byte) read from `base`.
fn decode(scratch: &[u8], base: usize) -> Result<Term, Error> {
    Term::decode(scratch, &DecodeOptions::new()).map_err(|err| {
        let at = base + err.offset().saturating_sub(1);
        Error::Decode(DecodeError::new(err.kind().clone(), at))
    })
}

/// Copies the bytes of one value to `out`. Stops early when `out` would
/// hold more than `limit` bytes, returning the offsets of the values still
/// open then, outermost first.
fn copy_value<R: Read>(
    src: &mut Source<R>,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<Option<Vec<usize>>, Error> {
    let mut stack = vec![Pending::Terms(1)];
    let open = |stack: &[Pending]| {
        let starts = stack.iter().filter_map(|p| match p {
            Pending::End(at) => Some(*at),
            _ => None,
        });
        Some(starts.collect())
    };
    while let Some(top) = stack.pop() {
        if out.len() > limit {
            stack.push(top);
            return Ok(open(&stack));
        }
        match top {
            Pending::End(_) => {}
            Pending::Bytes(n, what) => {
                let (done, left) = copy(src, out, n, what, limit)?;
                if !done {
                    stack.push(Pending::Bytes(left, what));
                    return Ok(open(&stack));
                }
            }
            Pending::Terms(0) => {}
            Pending::Terms(n) => {
                stack.push(Pending::Terms(n - 1));
                one_tag(src, out, &mut stack)?;
            }
        }
    }
    Ok(None)
}

/// Copies `n` bytes, a window at a time; `false` and the bytes left past
/// `limit`.
fn copy<R: Read>(
    src: &mut Source<R>,
    out: &mut Vec<u8>,
    mut n: u64,
    what: &'static str,
    limit: usize,
) -> Result<(bool, u64), Error> {
    while n > 0 {
        if out.len() > limit {
            return Ok((false, n));
        }
        if src.window().is_empty() && src.at_end()? {
            return Err(crate::decode::truncated(what, n, 0, src.pos()).into());
        }
        let window = src.window();
        let take = window.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        out.extend_from_slice(&window[..take]);
        src.consume(take);
        n -= take as u64;
    }
    Ok((true, 0))
}

/// Copies a tag and its fixed header, and pushes what follows them.
fn one_tag<R: Read>(
    src: &mut Source<R>,
    out: &mut Vec<u8>,
    stack: &mut Vec<Pending>,
) -> Result<(), Error> {
    let at = src.pos();
    src.need(1, "tag")?;
    let t = src.window()[0];
    // The header after the tag: its length, and the name for errors.
    let (header, what) = match t {
        tag::ATOM | tag::ATOM_UTF8 | tag::STRING => (2, "atom or string length"),
        tag::SMALL_ATOM | tag::SMALL_ATOM_UTF8 | tag::SMALL_TUPLE => (1, "length"),
        tag::SMALL_BIG => (2, "SMALL_BIG"),
        tag::LARGE_BIG | tag::BIT_BINARY | tag::RECORD => (5, "length"),
        tag::BINARY | tag::LARGE_TUPLE | tag::LIST | tag::MAP | tag::NEW_FUN => (4, "length"),
        tag::NEW_REFERENCE | tag::NEWER_REFERENCE => (2, "reference length"),
        _ => (0, "tag"),
    };
    src.need(1 + header, what)?;
    let h = &src.window()[1..1 + header];
    let u16_at = |i: usize| u64::from(u16::from_be_bytes([h[i], h[i + 1]]));
    let u32_at = |i: usize| u64::from(u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]));
    let mark = stack.len();
    let node_then = |bytes: u64, stack: &mut Vec<Pending>| {
        stack.push(Pending::Bytes(bytes, "pid, port or reference"));
        stack.push(Pending::Terms(1));
    };
    match t {
        tag::SMALL_INTEGER => stack.push(Pending::Bytes(1, "SMALL_INTEGER")),
        tag::INTEGER => stack.push(Pending::Bytes(4, "INTEGER")),
        tag::FLOAT => stack.push(Pending::Bytes(31, "FLOAT")),
        tag::NEW_FLOAT => stack.push(Pending::Bytes(8, "NEW_FLOAT")),
        tag::ATOM | tag::ATOM_UTF8 => stack.push(Pending::Bytes(u16_at(0), "atom")),
        tag::STRING => stack.push(Pending::Bytes(u16_at(0), "STRING")),
        tag::SMALL_ATOM | tag::SMALL_ATOM_UTF8 => {
            stack.push(Pending::Bytes(h[0].into(), "atom"));
        }
        tag::NIL => {}
        tag::BINARY => stack.push(Pending::Bytes(u32_at(0), "BINARY")),
        tag::BIT_BINARY => stack.push(Pending::Bytes(u32_at(0), "BIT_BINARY")),
        tag::SMALL_BIG => stack.push(Pending::Bytes(h[0].into(), "SMALL_BIG")),
        tag::LARGE_BIG => stack.push(Pending::Bytes(u32_at(0), "LARGE_BIG")),
        tag::SMALL_TUPLE => stack.push(Pending::Terms(h[0].into())),
        tag::LARGE_TUPLE => stack.push(Pending::Terms(u32_at(0))),
        tag::LIST => stack.push(Pending::Terms(u32_at(0) + 1)),
        tag::MAP => stack.push(Pending::Terms(2 * u32_at(0))),
        tag::NEW_PID => node_then(12, stack),
        tag::PID => node_then(9, stack),
        tag::NEW_PORT => node_then(8, stack),
        tag::PORT | tag::REFERENCE => node_then(5, stack),
        tag::V4_PORT => node_then(12, stack),
        tag::NEW_REFERENCE => node_then(1 + 4 * u16_at(0), stack),
        tag::NEWER_REFERENCE => node_then(4 + 4 * u16_at(0), stack),
        tag::EXPORT => stack.push(Pending::Terms(3)),
        // The size counts itself; the decoder checks it against the fields.
        tag::NEW_FUN => stack.push(Pending::Bytes(u32_at(0).saturating_sub(4), "NEW_FUN")),
        tag::RECORD => stack.push(Pending::Terms(2 + 2 * u32_at(0))),
        tag::LOCAL => {
            stack.push(Pending::Terms(1));
            stack.push(Pending::Bytes(4, "LOCAL_EXT hash"));
        }
        tag::ATOM_CACHE_REF => return Err(DecodeError::new(K::NoAtomCache, at).into()),
        tag::FUN => return Err(DecodeError::new(K::UnsupportedTag(t), at).into()),
        _ => return Err(DecodeError::new(K::UnknownTag(t), at).into()),
    }
    out.extend_from_slice(&src.window()[..1 + header]);
    src.consume(1 + header);
    if stack.len() > mark {
        // Mark where the value ends, under what it still needs.
        stack.insert(mark, Pending::End(at));
    }
    Ok(())
}
