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
//! [`flat::FlatTerm`] is the same decoded term in one flat buffer of nodes,
//! for reading a term fast (2x to 6x the other crates' decoders on the
//! benchmark's workloads) without building the tree.
//! [`stream::Reader`] reads a dump from any [`std::io::Read`] as a stream of
//! events, in memory bounded by its depth and largest leaf, for dumps larger
//! than memory.
//! Terms print in Erlang term syntax through [`std::fmt::Display`] and parse
//! back with [`parse_term`].
//!
//! # Printing
//!
//! `Display` writes compact Erlang syntax on one line, in the layout of
//! `io_lib:format("~tw", [T])`, so that `erl_parse:parse_term/1` reads back an
//! equal (`=:=`) term wherever Erlang has a literal syntax:
//!
//! - atoms are quoted only where Erlang needs it (`ok`, `'Ok'`, `'and'`,
//!   `''`, `'привет'`), with `io_lib`'s escapes (`'a\nb'`, `'\001'`);
//! - floats use the shortest digits that read back to the same `f64`, in the
//!   notation OTP chooses (`0.1`, `1.0e300`, `-0.0`, `5.0e-324`);
//! - a list (byte list or not) whose elements are all printable character
//!   codes (`io_lib:printable_unicode_list/1`) prints as a string, `"abc\n"`;
//!   any other list prints as `[1,2,3]` or `[1,2|3]`;
//! - a binary prints as `<<"é"/utf8>>` when it is printable UTF-8 with a
//!   non-ASCII character, as `<<"abc">>` when every byte is a printable
//!   Latin-1 character, and as `<<1,2,3>>` otherwise; a bitstring as
//!   `<<1,2:3>>` (the last segment holds the used bits of the last byte);
//! - maps print as `#{k => v,…}` in their entry order; exports as
//!   `fun m:f/2`;
//! - OTP 29's native records print as OTP 29 prints them,
//!   `#nr:point{x = 1,y = 2}`, fields in definition order. The text does not
//!   show whether the record is exported (`-export_record`); the parser reads
//!   a record as not exported, the one thing a print and parse loses.
//!
//! Terms with no Erlang literal print in forms of this crate's own that
//! [`parse_term`] reads (the node is always a quoted atom, the numbers
//! decimal, all fields in wire order):
//!
//! | term | form |
//! |------|------|
//! | pid | `#Pid<'node@host'.Id.Serial.Creation>` |
//! | port | `#Port<'node@host'.Id.Creation>` |
//! | reference | `#Ref<'node@host'.Id1.….IdN.Creation>` (1 to 5 ids) |
//! | local fun | `#Fun<Module,Arity,Index,16#Uniq,OldIndex,OldUniq,Pid,[FreeVar,…]>` |
//! | LOCAL_EXT | `#Local<79…>`: every byte, tag included, as two hex digits |
//!
//! so that every decoded term survives printing and parsing. The printer
//! keeps its pending work on the heap: any depth prints without recursion.
//!
//! [`Term::pretty`](crate::Term::pretty) (or `{:#}`) lays a term out over
//! several lines, breaking what does not fit in the line width, as `~tp`
//! does; the result parses back just the same.
//!
//! # Parsing
//!
//! [`parse_term`] reads the printer's output and the literal syntax of
//! `erl_parse:parse_term/1`; [`ParseError`] says where (line, column, byte
//! offset) and what was expected there.
//!
//! # Equality, ordering and hashing
//!
//! - `==` on [`Term`] is Erlang's exact equality `=:=`: `1` and `1.0` differ,
//!   `0.0` and `-0.0` differ (OTP 27+), and different Rust representations
//!   of one term are equal (`Int(5)` and a `BigInt` of 5; `Nil`, an empty
//!   `List` and an empty `ByteList`; a `ByteList` and the `List` of the same
//!   small integers; an `ImproperList` whose tail is a list and the flat list).
//! - [`Ord`] is Erlang's term order, `number < atom < reference < fun < port
//!   < pid < tuple < record < map < [] < list < bitstring` (OTP 29 puts
//!   native records between tuples and maps), made total so that it
//!   agrees with `=:=`: terms compare first as Erlang's `<` does (numbers by
//!   mathematical value), and only terms that Erlang calls equal (`1` and
//!   `1.0`; `0.0` and `-0.0`, also deep inside) are then told apart: the
//!   integer first, `-0.0` before `0.0`. Sorting a `Vec<Term>` therefore
//!   orders it as `lists:sort/1` does, ties included in a fixed order.
//! - [`Hash`] agrees with `==`.
//! - [`Term::compare_erl`] is Erlang's arithmetic comparison (`==`, `<`),
//!   where `1 == 1.0`.
//!
//! Maps compare as in Erlang: by size, then by their keys sorted in *map key
//! order* (where every integer is less than every float), then by their
//! values in that key order. [`Term::cmp_map_key`] is that key order; it is
//! also the order of `term_to_binary(T, [deterministic])`.
//!
//! Pids compare by serial, number, node, creation; ports by node, creation,
//! number; references by node, creation, then by their words as one number
//! (most significant word last, so trailing zero words do not count: OTP
//! treats `[1,2,3]` and `[1,2,3,0]` as the same reference); local funs come
//! before external funs (checked on OTP 25 and 28). Native records compare
//! by module, name, exported flag (not exported first), number of fields,
//! field names in definition order, then values in that order (checked on
//! OTP 29 with records decoded from crafted bytes). Local funs compare by
//! module, index, uniq, arity, then environment: as on OTP 28, which
//! rewrites a fun's old index, old uniq and creator pid when it decodes
//! one, those fields play no part. [`Term::Local`] terms,
//! which only their node can interpret, sort after every other term, by bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod convert;
mod debug;
mod decode;
mod deep;
mod encode;
mod error;
pub mod flat;
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
pub mod stream;
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
pub use text::leaf;
pub use text::{parse_term, ParseError, ParseErrorKind, ParseOptions, Pretty};

use bytes::{Buf, Bytes};

/// The version byte that starts every encoded term.
pub const VERSION: u8 = 131;

/// Decodes `term_to_binary` bytes (version byte 131, possibly compressed)
/// with the default [`DecodeOptions`]. Fails on bytes after the term.
pub fn from_slice(bytes: &[u8]) -> Result<Term, DecodeError> {
    Term::decode(bytes, &DecodeOptions::default())
}

/// As [`from_slice`], but binaries in the term share `bytes` instead of
/// being copied.
pub fn from_bytes(mut bytes: Bytes) -> Result<Term, DecodeError> {
    if lone_binary(&bytes).is_some() {
        // The term is the input past its header: no parser, no copy, no
        // count of references.
        bytes.advance(LONE_BINARY_AT);
        return Ok(Term::Binary(bytes));
    }
    let mut d = Decoder::from_bytes(bytes);
    let t = d.read_term()?;
    d.finish()?;
    Ok(t)
}

/// Where the bytes of a [`lone_binary`] start: after the version byte,
/// the tag and the length.
pub(crate) const LONE_BINARY_AT: usize = 6;

/// The length of the binary that `input` encodes when it is one
/// uncompressed binary and nothing else (the version byte, BINARY, its
/// length, its bytes, nothing after them): the commonest large term, which
/// the decoders then take without a parser. Anything else, valid or not,
/// is left to the parser.
#[inline]
pub(crate) fn lone_binary(input: &[u8]) -> Option<u32> {
    match *input {
        [VERSION, decode::tag::BINARY, l0, l1, l2, l3, ref bytes @ ..] => {
            let n = u32::from_be_bytes([l0, l1, l2, l3]);
            (usize::try_from(n) == Ok(bytes.len())).then_some(n)
        }
        _ => None,
    }
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
