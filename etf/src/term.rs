//! The term model: one Rust value for every Erlang term the External Term
//! Format can carry.
//!
//! Several Rust values can stand for the same Erlang term (an integer as
//! [`Term::Int`] or as a [`Term::BigInt`] that fits in 64 bits; the empty list
//! as [`Term::Nil`], an empty [`Term::List`] or an empty [`Term::ByteList`]).
//! Equality, ordering and hashing (see `order.rs`) follow Erlang's exact
//! equality `=:=`, so such representations compare equal, and the encoder
//! always writes the bytes OTP writes for the term, whatever its representation.

use bytes::Bytes;
use num_bigint::BigInt;
use std::sync::Arc;

/// An Erlang term.
///
/// Terms of any depth are safe to use: `Drop`, `Clone`, equality, ordering,
/// hashing, encoding, decoding, printing and parsing keep their pending work
/// on the heap, not on the Rust stack. Two consequences:
///
/// - `Term` implements `Drop`, so a match cannot move a field out of a term
///   by value: match on a reference and clone, use the `into_*` methods
///   (such as [`Term::into_list`]), or [`std::mem::take`] the field out of a
///   `&mut Term` (a taken term is left as `[]`).
/// - `Debug` writes what `#[derive(Debug)]` would, also without recursion.
pub enum Term {
    /// An integer that fits in 64 bits (SMALL_INTEGER, INTEGER, or a small
    /// SMALL_BIG on the wire). Decoding always yields this variant when the
    /// value fits.
    Int(i64),
    /// An integer outside the `i64` range (SMALL_BIG / LARGE_BIG).
    BigInt(BigInt),
    /// A float (NEW_FLOAT, or the old textual FLOAT). Never NaN or infinite:
    /// the BEAM has no such values, and the decoder rejects them.
    Float(f64),
    /// An atom (ATOM, SMALL_ATOM, ATOM_UTF8, SMALL_ATOM_UTF8 or a cache ref).
    Atom(Atom),
    /// A tuple (SMALL_TUPLE or LARGE_TUPLE).
    Tuple(Vec<Term>),
    /// The empty list `[]` (NIL).
    Nil,
    /// A proper list (LIST with a NIL tail).
    List(Vec<Term>),
    /// A proper list of integers in `0..=255` (STRING on the wire); the same
    /// Erlang term as the equivalent [`Term::List`].
    ByteList(Vec<u8>),
    /// An improper list `[E1, ..., En | Tail]`: at least one element and a
    /// tail that is not a list.
    ImproperList(Vec<Term>, Box<Term>),
    /// A map (MAP). Keeps the order of the wire, so that decoding and
    /// re-encoding gives back the same bytes.
    Map(Map),
    /// A binary (BINARY). Decoding from [`Bytes`] shares the input buffer.
    Binary(Bytes),
    /// A bitstring whose last byte holds `bits` (1..=7) significant high bits
    /// (BIT_BINARY). The unused low bits of the last byte are zero.
    BitBinary(BitBinary),
    /// A process identifier (PID or NEW_PID).
    Pid(Pid),
    /// A port identifier (PORT, NEW_PORT or V4_PORT).
    Port(Port),
    /// A reference (REFERENCE, NEW_REFERENCE or NEWER_REFERENCE).
    Reference(Reference),
    /// An external fun `fun M:F/A` (EXPORT).
    Export(Export),
    /// A local fun with its environment (NEW_FUN).
    Fun(Box<Fun>),
    /// An OTP 29 native record, `#Module:Name{Field = Value, ...}`
    /// (RECORD_EXT). Boxed: records are rarer than the other terms, and a
    /// record's module, name and flag would otherwise make every term larger.
    Record(Box<Record>),
    /// A LOCAL_EXT term: meaningful only to the node that made it. Holds the
    /// raw bytes from the LOCAL_EXT tag (included) to the end of the term.
    Local(Bytes),
}

/// An atom's text. Cheap to clone.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Atom(Arc<str>);

impl Atom {
    /// Makes an atom from its text. The encoder refuses atoms of more than
    /// 255 characters, as the BEAM does.
    pub fn new(text: &str) -> Atom {
        Atom(Arc::from(text))
    }

    /// The atom's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Atom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Atom({:?})", &*self.0)
    }
}

impl From<&str> for Atom {
    fn from(text: &str) -> Atom {
        Atom::new(text)
    }
}

impl From<String> for Atom {
    fn from(text: String) -> Atom {
        Atom(Arc::from(text))
    }
}

/// Atoms hash and compare as their text, so a map keyed by atoms can be
/// searched with a `&str`, without making an atom.
impl std::borrow::Borrow<str> for Atom {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Atom {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A map's entries in the order they were decoded or inserted. Keys are
/// unique under exact equality (`=:=`), as in Erlang.
#[derive(Clone, Debug, Default)]
pub struct Map {
    pub(crate) entries: Vec<(Term, Term)>,
}

/// An OTP 29 native record: a value of a record type declared with
/// `-record #Name{...}` in `Module`, which, unlike a classic record (a tagged
/// tuple), is a type of its own on the wire (RECORD_EXT, tag 67), in term
/// order (after tuples, before maps) and in print (`#nr:point{x = 1,y = 2}`).
///
/// It carries its definition with it: the module and name, whether the
/// module exports the record (`-export_record`), and the field names in
/// definition order, each with its value. All of it takes part in equality:
/// OTP 29 does not consider `#nr:point{y = 2,x = 1}` (fields in another
/// order) or an exported `#nr:point{}` equal to its own `#nr:point{x = 1,y = 2}`.
/// Field names are unique; [`Record::new`] checks it.
///
/// ```
/// use etf::{Record, Term};
///
/// let point = Record::new("nr", "point", [("x", Term::Int(1)), ("y", Term::Int(2))])?;
/// assert_eq!(point.get("y"), Some(&Term::Int(2)));
/// let term = Term::from(point);
/// assert_eq!(term.to_string(), "#nr:point{x = 1,y = 2}");
/// # Ok::<(), etf::DuplicateField>(())
/// ```
#[derive(Clone, Debug)]
pub struct Record {
    pub(crate) module: Atom,
    pub(crate) name: Atom,
    pub(crate) exported: bool,
    /// The field names, in definition order; unique.
    pub(crate) fields: Vec<Atom>,
    /// The values, one per field, in the same order.
    pub(crate) values: Vec<Term>,
}

/// A bitstring that is not a whole number of bytes.
#[derive(Clone, Debug)]
pub struct BitBinary {
    /// The bytes; the last one is partly used.
    pub bytes: Bytes,
    /// How many high bits of the last byte belong to the bitstring (1..=7).
    pub bits: u8,
}

/// A process identifier.
#[derive(Clone, Debug)]
pub struct Pid {
    /// The node the process lives on.
    pub node: Atom,
    /// The process number (15 bits on OTP before 25, up to 32 now).
    pub id: u32,
    /// The serial (wraps the process number space).
    pub serial: u32,
    /// The node incarnation; 0 only in pids decoded from old PID tags.
    pub creation: u32,
}

/// A port identifier.
#[derive(Clone, Debug)]
pub struct Port {
    /// The node the port lives on.
    pub node: Atom,
    /// The port number (64 bits since OTP 24's V4 ports).
    pub id: u64,
    /// The node incarnation.
    pub creation: u32,
}

/// A reference.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The node that made the reference.
    pub node: Atom,
    /// The node incarnation.
    pub creation: u32,
    /// The reference words (1 to 5), first word first as on the wire.
    pub ids: Vec<u32>,
}

/// An external fun, `fun Module:Function/Arity`.
#[derive(Clone, Debug)]
pub struct Export {
    /// The module.
    pub module: Atom,
    /// The function.
    pub function: Atom,
    /// The arity.
    pub arity: u8,
}

/// A local fun (NEW_FUN): a closure created by a module on some node.
#[derive(Clone, Debug)]
pub struct Fun {
    /// The number of arguments the fun takes.
    pub arity: u8,
    /// MD5 of the module's significant parts.
    pub uniq: [u8; 16],
    /// The fun's index in the module's fun table.
    pub index: u32,
    /// The module that defines the fun.
    pub module: Atom,
    /// The old index: the bits of the signed 32-bit integer on the wire
    /// (`u32::MAX` is `-1`).
    pub old_index: u32,
    /// The old uniq: the bits of the signed 32-bit integer on the wire.
    pub old_uniq: u32,
    /// The process that created the fun.
    pub pid: Pid,
    /// The captured variables.
    pub free_vars: Vec<Term>,
}

/// `[]`: what a term is left as when its value is taken out with
/// [`std::mem::take`].
impl Default for Term {
    fn default() -> Term {
        Term::Nil
    }
}
