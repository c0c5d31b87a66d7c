//! The Erlang External Term Format.
//!
//! [`Term`] models every term the BEAM can put on the wire. [`from_slice`] and
//! [`to_vec`] (with [`DecodeOptions`] and [`EncodeOptions`] for limits and
//! encoding choices) convert between terms and the bytes of
//! `term_to_binary/1,2`; the encoder writes exactly what OTP 28 writes, and
//! what OTP 29 writes for its native records ([`Record`], RECORD_EXT).
//! [`Decoder`] reads terms one after another from a buffer, with an atom
//! cache for distribution frames, and [`encode_body`] writes a term without
//! the version byte.
//! Terms print in Erlang term syntax through [`std::fmt::Display`] and parse
//! back with [`parse_term`].
//!
//! Equality, ordering and hashing follow Erlang's exact equality and term
//! order; see [`Term::compare_erl`] for the arithmetic comparison.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod convert;
mod debug;
mod decode;
mod deep;
mod encode;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod map;
mod options;
mod order;
mod record;
#[cfg(feature = "serde")]
pub mod serde;
mod shorthand;
#[cfg(feature = "proptest")]
pub mod strategy;
mod term;
mod text;

pub use decode::Decoder;
pub use encode::{
    encode_body, encode_body_chunked, encode_body_chunked_with_refs, AtomRefs, Chunked,
};
pub use error::{
    Category, DecodeError, DecodeErrorKind, DuplicateField, DuplicateKey, EncodeError,
};
pub use options::{DecodeOptions, EncodeOptions};
pub use term::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
pub use text::{parse_term, ParseError, ParseErrorKind, ParseOptions, Pretty};

use bytes::Bytes;

/// The version byte that starts every encoded term.
pub const VERSION: u8 = 131;

/// Decodes `term_to_binary` bytes (version byte 131, possibly compressed)
/// with the default [`DecodeOptions`]. Fails on bytes after the term.
pub fn from_slice(bytes: &[u8]) -> Result<Term, DecodeError> {
    Term::decode(bytes, &DecodeOptions::default())
}

/// As [`from_slice`], but binaries in the term share `bytes` instead of
/// being copied.
pub fn from_bytes(bytes: Bytes) -> Result<Term, DecodeError> {
    let mut d = Decoder::from_bytes(bytes);
    let t = d.read_term()?;
    d.finish()?;
    Ok(t)
}

/// Encodes `term` as OTP 28's `term_to_binary/1` does.
pub fn to_vec(term: &Term) -> Result<Vec<u8>, EncodeError> {
    term.encode(&EncodeOptions::default())
}

impl Term {
    /// Decodes `term_to_binary` bytes (version byte 131, possibly
    /// compressed) under `opts`. Fails on bytes after the term.
    pub fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Term, DecodeError> {
        let mut d = Decoder::new(bytes).with_options(opts.clone());
        let t = d.read_term()?;
        d.finish()?;
        Ok(t)
    }

    /// Encodes the term as `term_to_binary(Term, Options)` does: the version
    /// byte, then the term, compressed if `opts` asks for it.
    pub fn encode(&self, opts: &EncodeOptions) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(encode::size_hint(self) + 1);
        self.encode_to(&mut out, opts)?;
        Ok(out)
    }

    /// As [`Term::encode`], appending to `out`. On error `out` is left as it was.
    pub fn encode_to(&self, out: &mut Vec<u8>, opts: &EncodeOptions) -> Result<(), EncodeError> {
        encode::encode_to(self, out, opts)
    }
}
