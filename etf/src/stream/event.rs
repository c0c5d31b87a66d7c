//! What [`Reader`](super::Reader) reports: one event per leaf, container
//! start and container end.

use crate::Term;

/// One step through a term, in the order of its bytes. Borrowed data lives
/// in the reader's buffer until the next call.
///
/// Containers come as a start event, their elements, and an end event:
/// a tuple as `TupleStart(arity)`, elements, `TupleEnd`; a map as
/// `MapStart(size)`, key, value, key, value, ..., `MapEnd`; a non-empty list
/// as `ListStart(len)`, elements, then `ListEnd` or, for an improper list,
/// `ImproperTail`, the tail value, `ListEnd`. A list whose tail is itself a
/// list continues as one list (as the decoder reads it), so `len` counts the
/// elements of the first LIST_EXT only. An empty list is `Nil`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// An integer that fits in 64 bits (SMALL_INTEGER, INTEGER, or a big
    /// integer small enough).
    Int(i64),
    /// A float (always finite).
    Float(f64),
    /// An atom's text (`true` and `false` included).
    Atom(&'a str),
    /// The empty list `[]`.
    Nil,
    /// A STRING_EXT: a proper list of these bytes as integers.
    String(&'a [u8]),
    /// A binary's bytes.
    Binary(&'a [u8]),
    /// The start of a tuple of this many elements.
    TupleStart(usize),
    /// The end of the innermost open tuple.
    TupleEnd,
    /// The start of a non-empty list; `len` elements in its first segment.
    ListStart(usize),
    /// The elements of the innermost open list are done; its (non-list)
    /// tail value comes next.
    ImproperTail,
    /// The end of the innermost open list.
    ListEnd,
    /// The start of a map of this many entries.
    MapStart(usize),
    /// The end of the innermost open map.
    MapEnd,
    /// Any other value, whole: big integers beyond 64 bits, bitstrings,
    /// pids, ports, references, exports, funs, native records, LOCAL_EXT
    /// and old text floats.
    Term(Term),
}

/// What kind of value comes next, as [`Reader::peek_kind`](super::Reader::peek_kind)
/// sees it from its tag, without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// An integer, small or big.
    Integer,
    /// A float.
    Float,
    /// An atom.
    Atom,
    /// `[]` or a list (STRING_EXT included).
    List,
    /// A binary or bitstring.
    Binary,
    /// A tuple.
    Tuple,
    /// A map.
    Map,
    /// Anything else (pid, port, reference, fun, export, record, LOCAL_EXT).
    Other,
}
