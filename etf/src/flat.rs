//! A second representation of a decoded term: one flat buffer of nodes.
//!
//! [`Term`] is a tree of owned vectors: each tuple, list, string and copied
//! binary is its own allocation, and dropping it walks the tree. A
//! [`FlatTerm`] is the same term as one buffer of 16-byte nodes in
//! pre-order (a tape), the input bytes it points into (shared, or copied
//! once), and a table of its distinct atoms. Decoding is one allocation in
//! the common case, and dropping it a few frees. A container's node holds
//! the index just past its subtree, so siblings are skipped in O(1);
//! binaries and strings stay in the input until asked for.
//!
//! It accepts exactly what [`crate::from_slice`] accepts, under the same
//! [`DecodeOptions`], and [`TermRef::to_term`] gives back an equal term.
//!
//! ```
//! use etf::flat::{FlatTerm, Kind};
//!
//! let bytes = etf::to_vec(&etf::parse_term("{ok, [1, 2, 3], <<\"hi\">>}").unwrap())?;
//! let flat = FlatTerm::from_slice(&bytes)?;
//! let root = flat.root();
//! assert_eq!(root.kind(), Kind::Tuple);
//! let mut items = root.tuple().unwrap();
//! assert_eq!(items.next().unwrap().as_str(), Some("ok"));
//! // [1,2,3] is a STRING on the wire: a list of bytes, which `list_items`
//! // reads as it reads a list sent as LIST.
//! let ints = items.next().unwrap();
//! assert_eq!(ints.as_byte_list(), Some(&[1u8, 2, 3][..]));
//! let sum: Option<i64> = ints.list_items().unwrap().map(|i| i.as_i64()).sum();
//! assert_eq!(sum, Some(6));
//! assert_eq!(items.next().unwrap().as_binary(), Some(&b"hi"[..]));
//! assert_eq!(root.to_string(), "{ok,[1,2,3],<<\"hi\">>}");
//! assert_eq!(root.to_term(), etf::from_slice(&bytes)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Scanning rows without building a term:
//!
//! ```
//! use etf::flat::FlatTerm;
//!
//! let rows = etf::parse_term("[{a, 1}, {b, 20}, {c, 300}]").unwrap();
//! let dump = bytes::Bytes::from(etf::to_vec(&rows)?);
//! let flat = FlatTerm::from_bytes(dump)?;
//! // A list of {Key, Count} rows, summed:
//! let total: i64 = flat.root().list().into_iter().flatten()
//!     .filter_map(|row| row.tuple()?.nth(1)?.as_i64())
//!     .sum();
//! assert_eq!(total, 321);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
mod intern;
mod node;
mod parse;
mod view;

pub use node::Kind;
pub use view::{Elements, Entries, ListItem, ListItems, TermRef};

use crate::decode::{inflate, tag};
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::options::DecodeOptions;
use crate::term::{Atom, Term};
use build::Parts;
use bytes::Bytes;
use node::Node;
use std::fmt;

/// Atoms kept inside the [`FlatTerm`] itself: a term with this few
/// distinct atoms (a `$gen_call` has four) needs no allocation for them.
const INLINE_ATOMS: usize = 4;

/// The distinct atoms of one term, inline while few.
type Atoms = smallvec::SmallVec<[Atom; INLINE_ATOMS]>;

/// A decoded term in one flat buffer (see the [module docs](self)).
///
/// `Clone` copies the node buffer (16 bytes a node) and shares the input
/// and the atoms.
#[derive(Clone)]
pub struct FlatTerm {
    input: Bytes,
    nodes: Vec<Node>,
    atoms: Atoms,
}

impl FlatTerm {
    /// Decodes `term_to_binary` bytes (version byte 131, possibly
    /// compressed) with the default [`DecodeOptions`], copying the input
    /// once (a compressed input is inflated instead). Fails on bytes after
    /// the term.
    pub fn from_slice(bytes: &[u8]) -> Result<FlatTerm, DecodeError> {
        let (inflated, nodes, atoms) = decode(bytes, &DecodeOptions::default())?;
        let input = inflated.unwrap_or_else(|| Bytes::copy_from_slice(bytes));
        Ok(FlatTerm {
            input,
            nodes,
            atoms,
        })
    }

    /// As [`FlatTerm::from_slice`], sharing `bytes`: binaries point into it.
    pub fn from_bytes(bytes: Bytes) -> Result<FlatTerm, DecodeError> {
        FlatTerm::decode_with(bytes, &DecodeOptions::default())
    }

    /// As [`FlatTerm::from_bytes`], under `opts`: the same limits as
    /// [`Term::decode`].
    ///
    /// ```
    /// use etf::{flat::FlatTerm, DecodeErrorKind, DecodeOptions};
    ///
    /// let bytes = etf::to_vec(&etf::parse_term("[[[a]]]").unwrap())?;
    /// let opts = DecodeOptions::new().max_depth(2);
    /// let err = FlatTerm::decode_with(bytes.into(), &opts).unwrap_err();
    /// assert_eq!(err.kind(), &DecodeErrorKind::TooDeep(2));
    /// # Ok::<(), etf::EncodeError>(())
    /// ```
    pub fn decode_with(bytes: Bytes, opts: &DecodeOptions) -> Result<FlatTerm, DecodeError> {
        if let Some(n) = crate::lone_binary(&bytes) {
            // One node, and no parser or atom table to set up.
            return Ok(FlatTerm {
                input: bytes,
                nodes: vec![Node::new(Kind::Binary, n, crate::LONE_BINARY_AT as u64)],
                atoms: Atoms::new(),
            });
        }
        let (inflated, nodes, atoms) = decode(&bytes, opts)?;
        Ok(FlatTerm {
            input: inflated.unwrap_or(bytes),
            nodes,
            atoms,
        })
    }

    /// The whole term.
    pub fn root(&self) -> TermRef<'_> {
        TermRef::new(self, 0)
    }

    /// Every term in the tree, containers before their elements (the
    /// order of the wire): a walk over the whole term without a stack.
    ///
    /// ```
    /// use etf::flat::{FlatTerm, Kind};
    ///
    /// let bytes = etf::to_vec(&etf::parse_term("{a, [1, {b}], #{c => 2}}").unwrap())?;
    /// let flat = FlatTerm::from_slice(&bytes)?;
    /// let atoms: Vec<_> = flat.preorder().filter_map(|t| t.as_str()).collect();
    /// assert_eq!(atoms, ["a", "b", "c"]);
    /// let sum: i64 = flat.preorder().filter_map(|t| t.as_i64()).sum();
    /// assert_eq!(sum, 3);
    /// assert_eq!(flat.preorder().filter(|t| t.kind() == Kind::Tuple).count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn preorder(&self) -> impl ExactSizeIterator<Item = TermRef<'_>> + '_ {
        (0..self.nodes.len()).map(move |i| TermRef::new(self, i))
    }

    /// The owned [`Term`], equal to what [`crate::from_slice`] gives.
    pub fn to_term(&self) -> Term {
        self.root().to_term()
    }

    /// The bytes the nodes point into: the input, or the inflated body of
    /// a compressed one.
    pub fn input(&self) -> &Bytes {
        &self.input
    }

    /// The distinct atoms of the term.
    pub fn atoms(&self) -> &[Atom] {
        &self.atoms
    }

    /// The number of nodes: one per term, elements of byte lists aside.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn parts(&self) -> Parts<'_> {
        Parts {
            nodes: &self.nodes,
            atoms: &self.atoms,
            input: &self.input,
            shared: Some(&self.input),
        }
    }
}

impl fmt::Display for FlatTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.root(), f)
    }
}

impl fmt::Debug for FlatTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.root(), f)
    }
}

impl PartialEq<Term> for FlatTerm {
    fn eq(&self, other: &Term) -> bool {
        self.root() == *other
    }
}

/// The nodes and atoms of `data` decoded as `Term::decode` does, and the
/// body they point into when it is not `data` (a compressed term's).
type Decoded = (Option<Bytes>, Vec<Node>, Atoms);

#[inline(always)]
fn decode(data: &[u8], opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let version = *data
        .first()
        .ok_or_else(|| crate::decode::truncated("version byte", 1, 0, 0))?;
    if version != crate::VERSION {
        return Err(DecodeError::new(K::BadVersion(version), 0));
    }
    if data.get(1) == Some(&tag::COMPRESSED) {
        let (inflated, end) = inflate::inflate(data, 1, opts.max_decompressed_size)?;
        let (nodes, atoms, pos) = parse::parse(&inflated, 0, opts)?;
        if pos != inflated.len() {
            return Err(DecodeError::new(
                K::TrailingBytes(inflated.len() - pos),
                pos,
            ));
        }
        if end != data.len() {
            return Err(DecodeError::new(K::TrailingBytes(data.len() - end), end));
        }
        return Ok((Some(Bytes::from(inflated)), nodes, atoms));
    }
    let (nodes, atoms, pos) = parse::parse(data, 1, opts)?;
    if pos != data.len() {
        return Err(DecodeError::new(K::TrailingBytes(data.len() - pos), pos));
    }
    Ok((None, nodes, atoms))
}
