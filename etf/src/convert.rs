//! Building terms from Rust values and reading Rust values out of terms.
//!
//! Conversions that cannot lose information are `From` impls. Rust strings
//! (`&str`, `String`) become *binaries* (UTF-8), as Elixir strings and
//! `<<"text"/utf8>>` are; atoms are made with [`Term::atom`] or from an
//! [`Atom`], and Erlang strings (lists of code points) with [`Term::charlist`].
//! Byte slices and vectors also become binaries; `bool` becomes the atom
//! `true` or `false`.

use crate::term::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
use bytes::Bytes;
use num_bigint::BigInt;
use num_traits::ToPrimitive;

/// One segment of a list split by [`Term::into_list_segment`].
enum Segment {
    /// The last elements of a proper list.
    Last(Vec<Term>),
    /// Elements, then the rest of the list.
    More(Vec<Term>, Term),
    /// Not a list at all.
    NotList(Term),
}

/// What [`Term::into_fun`] leaves in the term it takes the fun out of,
/// just before that term is dropped.
fn placeholder_fun() -> Fun {
    Fun {
        arity: 0,
        uniq: [0; 16],
        index: 0,
        module: Atom::new(""),
        old_index: 0,
        old_uniq: 0,
        pid: Pid {
            node: Atom::new(""),
            id: 0,
            serial: 0,
            creation: 0,
        },
        free_vars: Vec::new(),
    }
}

impl Term {
    /// The atom with this text.
    pub fn atom(text: &str) -> Term {
        Term::Atom(Atom::new(text))
    }

    /// A tuple of these elements.
    pub fn tuple(elements: Vec<Term>) -> Term {
        Term::Tuple(elements)
    }

    /// A proper list of these elements (`[]` when empty).
    pub fn list(elements: Vec<Term>) -> Term {
        if elements.is_empty() {
            Term::Nil
        } else {
            Term::List(elements)
        }
    }

    /// `[E1, ..., En | Tail]`, normalized: a list tail is appended, so the
    /// result is a proper list, `Tail` itself when there are no elements, or
    /// an [`Term::ImproperList`] whose tail is not a list.
    pub fn improper_list(mut elements: Vec<Term>, tail: Term) -> Term {
        let mut tail = tail;
        loop {
            match tail.into_list_segment() {
                Segment::Last(rest) => {
                    elements.extend(rest);
                    return Term::list(elements);
                }
                Segment::More(rest, next) => {
                    elements.extend(rest);
                    tail = next;
                }
                Segment::NotList(tail) if elements.is_empty() => return tail,
                Segment::NotList(tail) => return Term::ImproperList(elements, Box::new(tail)),
            }
        }
    }

    /// A binary holding these bytes.
    pub fn binary(bytes: impl Into<Bytes>) -> Term {
        Term::Binary(bytes.into())
    }

    /// An Erlang string: the list of the text's code points (a
    /// [`Term::ByteList`] when all are below 256, as STRING_EXT can hold).
    pub fn charlist(text: &str) -> Term {
        if text.is_empty() {
            Term::Nil
        } else if text.chars().all(|c| (c as u32) < 256) {
            Term::ByteList(text.chars().map(|c| c as u8).collect())
        } else {
            Term::List(text.chars().map(|c| Term::Int(c as i64)).collect())
        }
    }

    /// A map of these entries; fails if a key appears twice.
    pub fn map(entries: Vec<(Term, Term)>) -> Result<Term, crate::DuplicateKey> {
        Map::from_entries(entries).map(Term::Map)
    }

    /// The atom, if this is one.
    pub fn as_atom(&self) -> Option<&Atom> {
        match self {
            Term::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// True if this is the atom `name`.
    pub fn is_atom(&self, name: &str) -> bool {
        matches!(self, Term::Atom(a) if a.as_str() == name)
    }

    /// The boolean, if this is the atom `true` or `false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_atom()?.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The integer, if this is an integer that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            Term::BigInt(b) => b.to_i64(),
            _ => None,
        }
    }

    /// The integer, if this is an integer that fits in `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Term::Int(i) => u64::try_from(*i).ok(),
            Term::BigInt(b) => b.to_u64(),
            _ => None,
        }
    }

    /// The integer, of any size, if this is one.
    pub fn to_bigint(&self) -> Option<BigInt> {
        match self {
            Term::Int(i) => Some(BigInt::from(*i)),
            Term::BigInt(b) => Some(b.clone()),
            _ => None,
        }
    }

    /// The float, if this is one (integers are not converted).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Term::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The elements, if this is a tuple.
    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes, if this is a binary (not a bitstring of partial bytes).
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Term::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The text, if this is a binary holding valid UTF-8.
    pub fn as_utf8(&self) -> Option<&str> {
        std::str::from_utf8(self.as_binary()?).ok()
    }

    /// The elements, if this is `[]` or a [`Term::List`]. A [`Term::ByteList`]
    /// gives `None` here; [`Term::to_list`] accepts every proper list.
    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::Nil => Some(&[]),
            Term::List(v) => Some(v),
            _ => None,
        }
    }

    /// The elements of any proper list, whatever its representation (an
    /// improper list whose tail is a list counts as proper).
    pub fn to_list(&self) -> Option<Vec<Term>> {
        let mut out = Vec::new();
        let mut at = self;
        // A loop, not recursion: a hand-built chain of improper lists may
        // be as long as memory allows.
        loop {
            match at {
                Term::Nil => return Some(out),
                Term::List(v) => {
                    out.extend_from_slice(v);
                    return Some(out);
                }
                Term::ByteList(b) => {
                    out.extend(b.iter().map(|&x| Term::from(x)));
                    return Some(out);
                }
                Term::ImproperList(v, tail) => {
                    out.extend_from_slice(v);
                    at = tail;
                }
                _ => return None,
            }
        }
    }

    /// The elements, if this is a tuple; otherwise the term itself, back.
    ///
    /// `Term` implements `Drop` (so that terms of any depth drop without
    /// recursion), so a `match` cannot move a field out of a term; these
    /// `into_*` methods do it for the common cases.
    ///
    /// ```
    /// let t = etf::Term::tuple(vec![etf::Term::atom("ok"), etf::Term::Int(1)]);
    /// let [tag, value] = <[etf::Term; 2]>::try_from(t.into_tuple().unwrap()).unwrap();
    /// assert!(tag.is_atom("ok"));
    /// assert_eq!(value, etf::Term::Int(1));
    /// ```
    pub fn into_tuple(mut self) -> Result<Vec<Term>, Term> {
        match &mut self {
            Term::Tuple(items) => Ok(std::mem::take(items)),
            _ => Err(self),
        }
    }

    /// The elements of any proper list, whatever its representation (as
    /// [`Term::to_list`], without copying); otherwise the term itself, back.
    pub fn into_list(self) -> Result<Vec<Term>, Term> {
        if !self.is_proper_list() {
            return Err(self);
        }
        let mut out = Vec::new();
        let mut at = self;
        loop {
            let (rest, next) = match at.into_list_segment() {
                Segment::Last(rest) => (rest, None),
                Segment::More(rest, next) => (rest, Some(next)),
                Segment::NotList(_) => (Vec::new(), None),
            };
            if out.is_empty() {
                out = rest;
            } else {
                out.extend(rest);
            }
            match next {
                Some(next) => at = next,
                None => return Ok(out),
            }
        }
    }

    /// The map, if this is one; otherwise the term itself, back.
    pub fn into_map(mut self) -> Result<Map, Term> {
        match &mut self {
            Term::Map(map) => Ok(std::mem::take(map)),
            _ => Err(self),
        }
    }

    /// The bytes, if this is a binary; otherwise the term itself, back.
    pub fn into_binary(mut self) -> Result<Bytes, Term> {
        match &mut self {
            Term::Binary(bytes) => Ok(std::mem::take(bytes)),
            _ => Err(self),
        }
    }

    /// The atom, if this is one; otherwise the term itself, back.
    pub fn into_atom(self) -> Result<Atom, Term> {
        match &self {
            Term::Atom(atom) => Ok(atom.clone()),
            _ => Err(self),
        }
    }

    /// The local fun, if this is one; otherwise the term itself, back.
    pub fn into_fun(mut self) -> Result<Box<Fun>, Term> {
        match &mut self {
            Term::Fun(fun) => Ok(std::mem::replace(fun, Box::new(placeholder_fun()))),
            _ => Err(self),
        }
    }

    /// The native record, if this is one; otherwise the term itself, back.
    pub fn into_record(mut self) -> Result<Box<Record>, Term> {
        match &mut self {
            Term::Record(record) => Ok(std::mem::replace(
                record,
                Box::new(Record {
                    module: Atom::new(""),
                    name: Atom::new(""),
                    exported: false,
                    fields: Vec::new(),
                    values: Vec::new(),
                }),
            )),
            _ => Err(self),
        }
    }

    /// True for a proper list in any representation, including an
    /// improper list whose chain of tails ends in a proper list.
    fn is_proper_list(&self) -> bool {
        let mut at = self;
        loop {
            match at {
                Term::Nil | Term::List(_) | Term::ByteList(_) => return true,
                Term::ImproperList(_, tail) => at = tail,
                _ => return false,
            }
        }
    }

    /// Splits off the elements of one list segment.
    fn into_list_segment(mut self) -> Segment {
        match &mut self {
            Term::Nil => Segment::Last(Vec::new()),
            Term::List(items) => Segment::Last(std::mem::take(items)),
            Term::ByteList(bytes) => Segment::Last(bytes.iter().map(|&x| Term::from(x)).collect()),
            Term::ImproperList(items, tail) => {
                Segment::More(std::mem::take(items), std::mem::take(&mut **tail))
            }
            _ => Segment::NotList(self),
        }
    }

    /// True if this is the empty list, in any representation.
    pub fn is_nil(&self) -> bool {
        match self {
            Term::Nil => true,
            Term::List(v) => v.is_empty(),
            Term::ByteList(v) => v.is_empty(),
            _ => false,
        }
    }

    /// The native record, if this is one.
    pub fn as_record(&self) -> Option<&Record> {
        match self {
            Term::Record(r) => Some(r),
            _ => None,
        }
    }

    /// The map, if this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Term::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The pid, if this is one.
    pub fn as_pid(&self) -> Option<&Pid> {
        match self {
            Term::Pid(p) => Some(p),
            _ => None,
        }
    }

    /// The port, if this is one.
    pub fn as_port(&self) -> Option<&Port> {
        match self {
            Term::Port(p) => Some(p),
            _ => None,
        }
    }

    /// The reference, if this is one.
    pub fn as_reference(&self) -> Option<&Reference> {
        match self {
            Term::Reference(r) => Some(r),
            _ => None,
        }
    }
}

macro_rules! from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Term {
            fn from(i: $t) -> Term {
                Term::Int(i64::from(i))
            }
        }
    )*};
}
from_small_int!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! from_wide_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Term {
            /// An `Int` when the value fits in `i64`, else a `BigInt`.
            fn from(i: $t) -> Term {
                match i64::try_from(i) {
                    Ok(small) => Term::Int(small),
                    Err(_) => Term::BigInt(BigInt::from(i)),
                }
            }
        }
    )*};
}
from_wide_int!(u64, i128, u128, isize, usize);

impl From<BigInt> for Term {
    /// An `Int` when the value fits in `i64`, else a `BigInt`.
    fn from(b: BigInt) -> Term {
        match b.to_i64() {
            Some(i) => Term::Int(i),
            None => Term::BigInt(b),
        }
    }
}

impl From<f64> for Term {
    /// A float. NaN and infinities have no Erlang equivalent: encoding them fails.
    fn from(f: f64) -> Term {
        Term::Float(f)
    }
}

impl From<f32> for Term {
    fn from(f: f32) -> Term {
        Term::Float(f64::from(f))
    }
}

impl From<bool> for Term {
    /// The atom `true` or `false`.
    fn from(b: bool) -> Term {
        Term::atom(if b { "true" } else { "false" })
    }
}

impl From<&str> for Term {
    /// A UTF-8 binary (not an atom, not a charlist).
    fn from(s: &str) -> Term {
        Term::Binary(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Term {
    /// A UTF-8 binary (not an atom, not a charlist).
    fn from(s: String) -> Term {
        Term::Binary(Bytes::from(s))
    }
}

impl From<&[u8]> for Term {
    /// A binary.
    fn from(b: &[u8]) -> Term {
        Term::Binary(Bytes::copy_from_slice(b))
    }
}

impl From<Vec<u8>> for Term {
    /// A binary.
    fn from(b: Vec<u8>) -> Term {
        Term::Binary(Bytes::from(b))
    }
}

impl From<Bytes> for Term {
    /// A binary.
    fn from(b: Bytes) -> Term {
        Term::Binary(b)
    }
}

impl From<Vec<Term>> for Term {
    /// A proper list (`[]` when empty).
    fn from(v: Vec<Term>) -> Term {
        Term::list(v)
    }
}

macro_rules! from_part {
    ($($t:ident => $variant:ident),*) => {$(
        impl From<$t> for Term {
            fn from(x: $t) -> Term {
                Term::$variant(x)
            }
        }
    )*};
}
from_part!(Atom => Atom, Map => Map, Pid => Pid, Port => Port, Reference => Reference,
    Export => Export, BitBinary => BitBinary);

impl From<Fun> for Term {
    fn from(f: Fun) -> Term {
        Term::Fun(Box::new(f))
    }
}

impl From<Record> for Term {
    fn from(r: Record) -> Term {
        Term::Record(Box::new(r))
    }
}

macro_rules! from_tuple {
    ($(($($name:ident),+)),*) => {$(
        impl<$($name: Into<Term>),+> From<($($name,)+)> for Term {
            /// A tuple of the converted elements. A `&str` element becomes
            /// a binary, so `("ok", 1).into()` is `{<<"ok">>, 1}`: write
            /// atoms as [`Term::atom`], or use [`Term::ok`] or
            /// [`term!`](crate::term!) (`term!({ok, 1})`).
            #[allow(non_snake_case)] // the element names are the type names
            fn from(($($name,)+): ($($name,)+)) -> Term {
                Term::Tuple(vec![$($name.into()),+])
            }
        }
    )*};
}
from_tuple!(
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_integers_normalize() {
        assert!(matches!(Term::from(5u64), Term::Int(5)));
        assert!(matches!(Term::from(u64::MAX), Term::BigInt(_)));
        assert!(matches!(Term::from(BigInt::from(-7)), Term::Int(-7)));
        assert_eq!(
            Term::from(i128::MIN).to_bigint(),
            Some(BigInt::from(i128::MIN))
        );
    }

    #[test]
    fn improper_list_normalizes_list_tails() {
        let t = Term::improper_list(vec![Term::from(1)], Term::ByteList(vec![2, 3]));
        assert!(matches!(&t, Term::List(v) if v.len() == 3));
        let t = Term::improper_list(vec![], Term::atom("a"));
        assert!(t.is_atom("a"));
        let t = Term::improper_list(vec![Term::from(1)], Term::atom("a"));
        assert!(matches!(t, Term::ImproperList(..)));
    }

    #[test]
    fn charlist_picks_representation() {
        assert!(matches!(Term::charlist("abc"), Term::ByteList(_)));
        assert!(matches!(Term::charlist("Ω"), Term::List(_)));
        assert_eq!(Term::charlist("é"), Term::List(vec![Term::Int(233)]));
    }
}
