//! [`TermRef`]: a view of one node of a [`FlatTerm`], and iterators over
//! the elements of tuples, lists and maps.

use super::build::Parts;
use super::node::{Kind, Node};
use super::parse::end_of;
use super::FlatTerm;
use crate::term::{Atom, BitBinary, Export, Fun, Pid, Port, Record, Reference, Term};
use bytes::Bytes;
use num_bigint::BigInt;
use std::fmt;

/// One term inside a [`FlatTerm`]: a node index and the term it belongs
/// to. `Copy`, and every accessor is O(1) except those that build owned
/// values (`to_term`, the `Pid`/`Reference`/... accessors, `Display`).
#[derive(Clone, Copy)]
pub struct TermRef<'a> {
    term: &'a FlatTerm,
    index: usize,
}

impl<'a> TermRef<'a> {
    pub(super) fn new(term: &'a FlatTerm, index: usize) -> TermRef<'a> {
        TermRef { term, index }
    }

    fn node(&self) -> &'a Node {
        // The index always names a node of the tape.
        &self.term.nodes[self.index]
    }

    fn parts(&self) -> Parts<'a> {
        self.term.parts()
    }

    /// What kind of term this is.
    pub fn kind(&self) -> Kind {
        self.node().kind
    }

    /// The integer, when it fits in `i64` (a [`Kind::Int`]).
    pub fn as_i64(&self) -> Option<i64> {
        let n = self.node();
        (n.kind == Kind::Int).then_some(n.payload as i64)
    }

    /// The integer of a [`Kind::Int`] or [`Kind::BigInt`].
    pub fn as_bigint(&self) -> Option<BigInt> {
        let n = self.node();
        match n.kind {
            Kind::Int => Some(BigInt::from(n.payload as i64)),
            Kind::BigInt => Some(self.parts().bigint(n)),
            _ => None,
        }
    }

    /// The float.
    pub fn as_f64(&self) -> Option<f64> {
        let n = self.node();
        (n.kind == Kind::Float).then(|| f64::from_bits(n.payload))
    }

    /// The atom (shared with the term's atom table).
    pub fn as_atom(&self) -> Option<&'a Atom> {
        let n = self.node();
        if n.kind == Kind::Atom {
            self.term.atoms.get(n.len as usize)
        } else {
            None
        }
    }

    /// The atom's text.
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_atom().map(|a| a.as_str())
    }

    /// The bytes of a binary, borrowed from the input.
    pub fn as_binary(&self) -> Option<&'a [u8]> {
        let n = self.node();
        (n.kind == Kind::Binary).then(|| self.parts().bytes(n.payload, n.len as usize))
    }

    /// The bytes of a binary, shared with the input (no copy).
    pub fn binary_bytes(&self) -> Option<Bytes> {
        let n = self.node();
        (n.kind == Kind::Binary).then(|| self.parts().shared_bytes(n.payload, n.len as usize))
    }

    /// A bitstring that is not a whole number of bytes.
    pub fn as_bit_binary(&self) -> Option<BitBinary> {
        let n = self.node();
        (n.kind == Kind::BitBinary).then(|| self.parts().bit_binary(n))
    }

    /// The bytes of a list of bytes (STRING on the wire), borrowed.
    pub fn as_byte_list(&self) -> Option<&'a [u8]> {
        let n = self.node();
        (n.kind == Kind::ByteList).then(|| self.parts().bytes(n.payload, n.len as usize))
    }

    /// A tuple's elements.
    pub fn tuple(&self) -> Option<Elements<'a>> {
        let n = self.node();
        (n.kind == Kind::Tuple).then(|| self.elements(n.len as usize))
    }

    /// The elements of a list (proper or not) as nodes; `[]` has none.
    ///
    /// `None` for a [`Kind::ByteList`]: a list of integers in `0..=255`
    /// sent as STRING has no node per element (its bytes are
    /// [`TermRef::as_byte_list`]). [`TermRef::list_items`] reads both.
    pub fn list(&self) -> Option<Elements<'a>> {
        let n = self.node();
        match n.kind {
            Kind::List | Kind::ImproperList => Some(self.elements(n.len as usize)),
            Kind::Nil => Some(self.elements(0)),
            _ => None,
        }
    }

    /// The elements of any list, however it was sent: those of
    /// [`TermRef::list`] as [`ListItem::Term`], or the bytes of a
    /// [`Kind::ByteList`] (STRING on the wire) as [`ListItem::Byte`]. An
    /// improper list's tail is not an element ([`TermRef::list_tail`]).
    ///
    /// `term_to_binary` sends `[1, 2, 3]` as STRING and `[1, 256, 3]` as
    /// LIST; here both read alike:
    ///
    /// ```
    /// use etf::flat::FlatTerm;
    ///
    /// // The sum of a list of integers (`None` if an element is not one).
    /// let sum = |text: &str| -> Option<i64> {
    ///     let bytes = etf::to_vec(&etf::parse_term(text).ok()?).ok()?;
    ///     let flat = FlatTerm::from_slice(&bytes).ok()?;
    ///     let items = flat.root().list_items()?;
    ///     items.map(|item| item.as_i64()).sum()
    /// };
    /// assert_eq!(sum("[1, 2, 3]"), Some(6)); // STRING
    /// assert_eq!(sum("[1, 256, 3]"), Some(260)); // LIST
    /// assert_eq!(sum("[]"), Some(0)); // NIL
    /// assert_eq!(sum("[1, a]"), None);
    /// assert_eq!(sum("{1, 2}"), None);
    /// ```
    pub fn list_items(&self) -> Option<ListItems<'a>> {
        let inner = match self.as_byte_list() {
            Some(bytes) => ItemsInner::Bytes(bytes.iter()),
            None => ItemsInner::Nodes(self.list()?),
        };
        Some(ListItems { inner })
    }

    /// The tail of an improper list (`None` for anything else).
    pub fn list_tail(&self) -> Option<TermRef<'a>> {
        if self.node().kind != Kind::ImproperList {
            return None;
        }
        self.list()?.last_sibling()
    }

    /// A map's entries, in wire order.
    pub fn map(&self) -> Option<Entries<'a>> {
        let n = self.node();
        (n.kind == Kind::Map).then(|| Entries {
            inner: self.elements(2 * n.len as usize),
        })
    }

    /// The number of elements of a tuple or list (not counting an improper
    /// tail; the bytes of a byte list), or entries of a map.
    pub fn len(&self) -> Option<usize> {
        let n = self.node();
        match n.kind {
            Kind::Tuple | Kind::List | Kind::ImproperList | Kind::Map | Kind::ByteList => {
                Some(n.len as usize)
            }
            Kind::Nil => Some(0),
            _ => None,
        }
    }

    /// True for `[]`, `{}` and `#{}`.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The pid.
    pub fn as_pid(&self) -> Option<Pid> {
        let n = self.node();
        (n.kind == Kind::Pid).then(|| self.parts().pid(n))
    }

    /// The port.
    pub fn as_port(&self) -> Option<Port> {
        let n = self.node();
        (n.kind == Kind::Port).then(|| self.parts().port(n))
    }

    /// The reference.
    pub fn as_reference(&self) -> Option<Reference> {
        let n = self.node();
        (n.kind == Kind::Reference).then(|| self.parts().reference(n))
    }

    /// The external fun.
    pub fn as_export(&self) -> Option<Export> {
        let n = self.node();
        (n.kind == Kind::Export).then(|| self.parts().export(n))
    }

    /// The local fun, decoded from its bytes now.
    pub fn as_fun(&self) -> Option<Fun> {
        match &self.raw(Kind::Fun)? {
            Term::Fun(f) => Some((**f).clone()),
            _ => None,
        }
    }

    /// The native record, decoded from its bytes now.
    pub fn as_record(&self) -> Option<Record> {
        match &self.raw(Kind::Record)? {
            Term::Record(r) => Some((**r).clone()),
            _ => None,
        }
    }

    /// The bytes of a LOCAL_EXT term, its tag included, shared.
    pub fn as_local(&self) -> Option<Bytes> {
        let n = self.node();
        (n.kind == Kind::Local).then(|| self.parts().shared_bytes(n.payload, n.len as usize))
    }

    fn raw(&self, kind: Kind) -> Option<Term> {
        let n = self.node();
        (n.kind == kind).then(|| self.parts().raw(n))
    }

    /// The owned [`Term`], equal (`==`) to what [`crate::from_slice`] gives
    /// for the same bytes. Iterative: any depth.
    pub fn to_term(&self) -> Term {
        self.parts().build(self.index)
    }

    fn elements(&self, len: usize) -> Elements<'a> {
        Elements {
            term: self.term,
            next: self.index + 1,
            left: len,
        }
    }
}

/// Prints exactly what [`Term`]'s `Display` prints (through
/// [`TermRef::to_term`]).
impl fmt::Display for TermRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_term(), f)
    }
}

impl fmt::Debug for TermRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_term(), f)
    }
}

/// Exact equality (`=:=`) with an owned term: leaves compare in place,
/// containers through [`TermRef::to_term`].
impl PartialEq<Term> for TermRef<'_> {
    fn eq(&self, other: &Term) -> bool {
        match (self.kind(), other) {
            (Kind::Int, Term::Int(i)) => self.as_i64() == Some(*i),
            (Kind::Atom, Term::Atom(a)) => self.as_atom() == Some(a),
            (Kind::Binary, Term::Binary(b)) => self.as_binary() == Some(&b[..]),
            _ => self.to_term() == *other,
        }
    }
}

/// The elements of a tuple or list, or a map's keys and values in turn:
/// each next sibling is found in O(1) by skipping the subtree before it.
#[derive(Clone)]
pub struct Elements<'a> {
    term: &'a FlatTerm,
    next: usize,
    left: usize,
}

impl<'a> Elements<'a> {
    /// The node after the last element (an improper list's tail).
    fn last_sibling(mut self) -> Option<TermRef<'a>> {
        for _ in self.by_ref() {}
        (self.next < self.term.nodes.len()).then(|| TermRef::new(self.term, self.next))
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = TermRef<'a>;

    fn next(&mut self) -> Option<TermRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let at = self.next;
        self.next = end_of(&self.term.nodes, at);
        Some(TermRef::new(self.term, at))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Elements<'_> {}

/// An element of a list read with [`TermRef::list_items`]: a node, or a
/// byte of a list sent as STRING (which has no node per element).
#[derive(Clone, Copy, Debug)]
pub enum ListItem<'a> {
    /// An element with its own node: any term.
    Term(TermRef<'a>),
    /// An element of a [`Kind::ByteList`]: the integer `0..=255`.
    Byte(u8),
}

impl<'a> ListItem<'a> {
    /// What kind of term this is ([`Kind::Int`] for a byte).
    pub fn kind(&self) -> Kind {
        match self {
            ListItem::Term(t) => t.kind(),
            ListItem::Byte(_) => Kind::Int,
        }
    }

    /// The integer, when it fits in `i64`: a byte, or a [`Kind::Int`] node.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ListItem::Term(t) => t.as_i64(),
            ListItem::Byte(b) => Some(i64::from(*b)),
        }
    }

    /// The node (`None` for a byte), for the other accessors of [`TermRef`].
    pub fn as_term_ref(&self) -> Option<TermRef<'a>> {
        match self {
            ListItem::Term(t) => Some(*t),
            ListItem::Byte(_) => None,
        }
    }

    /// The owned [`Term`] (a byte is a [`Term::Int`]).
    pub fn to_term(&self) -> Term {
        match self {
            ListItem::Term(t) => t.to_term(),
            ListItem::Byte(b) => Term::Int(i64::from(*b)),
        }
    }
}

/// Prints exactly what [`Term`]'s `Display` prints.
impl fmt::Display for ListItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListItem::Term(t) => fmt::Display::fmt(t, f),
            ListItem::Byte(b) => fmt::Display::fmt(b, f),
        }
    }
}

/// Exact equality (`=:=`) with an owned term, as [`TermRef`]'s.
impl PartialEq<Term> for ListItem<'_> {
    fn eq(&self, other: &Term) -> bool {
        match self {
            ListItem::Term(t) => t == other,
            ListItem::Byte(b) => *other == Term::Int(i64::from(*b)),
        }
    }
}

/// The elements of a list, however it was sent (see
/// [`TermRef::list_items`]).
#[derive(Clone)]
pub struct ListItems<'a> {
    inner: ItemsInner<'a>,
}

#[derive(Clone)]
enum ItemsInner<'a> {
    Nodes(Elements<'a>),
    Bytes(std::slice::Iter<'a, u8>),
}

impl<'a> Iterator for ListItems<'a> {
    type Item = ListItem<'a>;

    fn next(&mut self) -> Option<ListItem<'a>> {
        match &mut self.inner {
            ItemsInner::Nodes(e) => e.next().map(ListItem::Term),
            ItemsInner::Bytes(b) => b.next().map(|&b| ListItem::Byte(b)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            ItemsInner::Nodes(e) => e.size_hint(),
            ItemsInner::Bytes(b) => b.size_hint(),
        }
    }
}

impl ExactSizeIterator for ListItems<'_> {}

/// A map's entries: (key, value) pairs in wire order.
#[derive(Clone)]
pub struct Entries<'a> {
    inner: Elements<'a>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (TermRef<'a>, TermRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        Some((self.inner.next()?, self.inner.next()?))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.inner.left / 2;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Entries<'_> {}
