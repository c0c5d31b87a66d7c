//! Encoding into chunks, so that a large binary inside a term is shared
//! with the term (its reference count goes up) instead of copied: a 1 MiB
//! binary sent to a peer then costs one copy, the socket's, not two.

use bytes::Bytes;

/// Binaries at least this long are shared rather than copied: below it a
/// copy is cheaper than one more chunk to allocate and write.
pub(crate) const SHARE_MIN: usize = 16 * 1024;

/// Encoded bytes in pieces: runs of bytes the encoder wrote and, between
/// them, the large binaries of the terms, shared with those terms. Built by
/// [`encode_body_chunked`](crate::encode_body_chunked); the bytes are those
/// of the same terms written by [`encode_body`](crate::encode_body).
#[derive(Clone, Debug, Default)]
pub struct Chunked {
    /// Finished chunks, in order.
    pub(crate) chunks: Vec<Bytes>,
    /// The bytes written after the last chunk.
    pub(crate) tail: Vec<u8>,
}

impl Chunked {
    /// An empty buffer.
    pub fn new() -> Chunked {
        Chunked::default()
    }

    /// The number of bytes, all chunks together.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum::<usize>() + self.tail.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends raw bytes (a header, say), copied.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
    }

    /// The chunks, in order; none of them is empty.
    pub fn into_chunks(mut self) -> Vec<Bytes> {
        self.take_chunks()
    }

    /// The chunks, in order, leaving the buffer empty (and without the
    /// capacity it had).
    pub fn take_chunks(&mut self) -> Vec<Bytes> {
        push_shared(&mut self.chunks, &mut self.tail, Bytes::new());
        std::mem::take(&mut self.chunks)
    }

    /// All the bytes, when they are in one piece: nothing was shared.
    pub fn as_contiguous(&self) -> Option<&[u8]> {
        self.chunks.is_empty().then_some(self.tail.as_slice())
    }

    /// Empties the buffer but keeps its capacity, to encode the next term
    /// without allocating again.
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.tail.clear();
    }

    /// Where the buffer stands now, to go back to with [`Chunked::restore`].
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.chunks.len(), self.tail.len())
    }

    /// Drops everything written since `mark` was taken.
    pub(crate) fn restore(&mut self, (chunks, tail): (usize, usize)) {
        if self.chunks.len() > chunks {
            // The first chunk sealed since the mark starts with the bytes the
            // tail held at the mark.
            self.tail = self.chunks[chunks][..tail].to_vec();
            self.chunks.truncate(chunks);
        } else {
            self.tail.truncate(tail);
        }
    }
}

/// Ends the run of bytes written so far (`tail`) as a chunk, then appends
/// `bytes`, shared with its owner; empty chunks are left out.
pub(crate) fn push_shared(chunks: &mut Vec<Bytes>, tail: &mut Vec<u8>, bytes: Bytes) {
    if !tail.is_empty() {
        chunks.push(Bytes::from(std::mem::take(tail)));
    }
    if !bytes.is_empty() {
        chunks.push(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{encode_body, encode_body_chunked, EncodeOptions, Term};

    fn big(len: usize, byte: u8) -> Term {
        Term::Binary(Bytes::from(vec![byte; len]))
    }

    fn flat(chunks: &[Bytes]) -> Vec<u8> {
        chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }

    #[test]
    fn chunks_hold_the_same_bytes_and_share_large_binaries() {
        let shared = big(SHARE_MIN, 7);
        let term = Term::tuple(vec![
            Term::atom("msg"),
            shared.clone(),
            big(10, 1),
            Term::List(vec![big(SHARE_MIN + 1, 2), Term::Int(5)]),
        ]);
        let opts = EncodeOptions::default();
        let mut expected = Vec::new();
        encode_body(&term, &mut expected, &opts).unwrap();
        let mut out = Chunked::new();
        out.extend_from_slice(b"hd");
        encode_body_chunked(&term, &mut out, &opts).unwrap();
        assert_eq!(out.len(), expected.len() + 2);
        let chunks = out.into_chunks();
        assert_eq!(flat(&chunks)[2..], expected[..]);
        assert!(chunks.iter().all(|c| !c.is_empty()));
        let Term::Binary(original) = &shared else {
            unreachable!()
        };
        assert!(
            chunks.iter().any(|c| c.as_ptr() == original.as_ptr()),
            "the large binary is shared, not copied"
        );
        assert_eq!(chunks.len(), 5);
    }

    #[test]
    fn binaries_inside_funs_are_copied_so_the_size_field_stays_right() {
        let fun = Term::Fun(Box::new(crate::Fun {
            arity: 0,
            uniq: [0; 16],
            index: 0,
            module: crate::Atom::new("m"),
            old_index: 0,
            old_uniq: 0,
            pid: crate::Pid {
                node: crate::Atom::new("a@h"),
                id: 1,
                serial: 0,
                creation: 1,
            },
            free_vars: vec![big(SHARE_MIN * 2, 3)],
        }));
        let opts = EncodeOptions::default();
        let mut expected = Vec::new();
        encode_body(&fun, &mut expected, &opts).unwrap();
        let mut out = Chunked::new();
        encode_body_chunked(&fun, &mut out, &opts).unwrap();
        assert_eq!(flat(&out.into_chunks()), expected);
    }

    #[test]
    fn a_small_term_stays_contiguous_and_clear_keeps_the_capacity() {
        let mut out = Chunked::new();
        encode_body_chunked(&big(10, 1), &mut out, &EncodeOptions::default()).unwrap();
        assert_eq!(out.as_contiguous().map(<[u8]>::len), Some(15));
        out.clear();
        assert!(out.is_empty() && out.tail.capacity() >= 15);
        encode_body_chunked(&big(SHARE_MIN, 1), &mut out, &EncodeOptions::default()).unwrap();
        assert_eq!(out.as_contiguous(), None);
        assert_eq!(out.take_chunks().len(), 2);
        assert!(out.is_empty());
    }

    #[test]
    fn an_error_leaves_the_buffer_as_it_was() {
        let bad = Term::tuple(vec![
            big(SHARE_MIN, 1),
            Term::Local(Bytes::from_static(b"x")),
        ]);
        let mut out = Chunked::new();
        out.extend_from_slice(b"before");
        assert!(encode_body_chunked(&bad, &mut out, &EncodeOptions::default()).is_err());
        assert_eq!(out.len(), 6);
        assert_eq!(flat(&out.into_chunks()), b"before");
    }
}
