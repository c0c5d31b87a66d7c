//! [`Serializer`]: Rust values to terms.

use super::dialect::Dialect;
use super::error::{Error, ErrorKind};
use super::raw;
use super::shape::{shape, Shape, STRUCT_KEY};
use crate::{Atom, Map, Record, Term};
use ::serde::ser::{self, Serialize};
use bytes::Bytes;
use num_bigint::BigInt;

/// A serde `Serializer` whose output is a [`Term`]; see the
/// [module documentation](super) for the mapping. [`to_term`](super::to_term)
/// is the usual way to use it.
#[derive(Clone, Copy, Debug)]
pub struct Serializer {
    /// How many more levels of nesting may be entered (`usize::MAX`: no
    /// limit).
    depth: usize,
    /// How `None` is written.
    dialect: Dialect,
    /// The value at this level is written as a keyword list (it is inside
    /// [`Keyword`](super::elixir::Keyword)).
    keyword: bool,
}

impl Serializer {
    /// A serializer without a nesting limit: values of any depth convert,
    /// on a stack that grows on the heap as needed, and [`Term`] fields
    /// are copied whole, without recursion.
    pub fn new() -> Serializer {
        Serializer::with_max_depth(usize::MAX)
    }

    /// A serializer that enters at most `depth` levels of nesting
    /// (sequences, tuples, maps, structs, variants with fields, `Some` and
    /// newtypes count one each) and fails beyond with
    /// [`ErrorKind::TooDeep`]. Opt-in: [`Serializer::new`] has no limit. A
    /// [`Term`] (or [`crate::Map`], [`crate::Pid`], ...) field is one value
    /// however deep it is: it is copied whole.
    pub fn with_max_depth(depth: usize) -> Serializer {
        Serializer {
            depth,
            dialect: Dialect::Erlang,
            keyword: false,
        }
    }

    /// The same serializer writing for `dialect`: with
    /// [`Dialect::Elixir`], `None` becomes `nil` instead of `undefined`.
    /// [`elixir::to_term`](super::elixir::to_term) is the short way.
    pub fn dialect(self, dialect: Dialect) -> Serializer {
        Serializer { dialect, ..self }
    }

    /// The serializer for what is inside a value at this level.
    fn enter(self) -> Result<Serializer, Error> {
        match self.depth.checked_sub(1) {
            Some(depth) => Ok(Serializer {
                depth,
                keyword: false,
                ..self
            }),
            None => Err(ErrorKind::TooDeep.into()),
        }
    }

    /// The serializer for the same term one level deeper (`Some`,
    /// newtypes): what the value at this level is to become still holds.
    fn wrap(self) -> Result<Serializer, Error> {
        Ok(Serializer {
            keyword: self.keyword,
            ..self.enter()?
        })
    }
}

impl Default for Serializer {
    fn default() -> Serializer {
        Serializer::new()
    }
}

fn atom(text: &str) -> Term {
    Term::Atom(Atom::new(text))
}

fn list(elems: Vec<Term>) -> Term {
    if elems.is_empty() {
        Term::Nil
    } else {
        Term::List(elems)
    }
}

fn map(entries: Vec<(Term, Term)>) -> Result<Term, Error> {
    Map::from_entries(entries)
        .map(Term::Map)
        .map_err(|dup| ErrorKind::DuplicateKey(super::describe::describe(&dup.key)).into())
}

fn big(value: impl Into<BigInt>) -> Term {
    let value: BigInt = value.into();
    match i64::try_from(&value) {
        Ok(small) => Term::Int(small),
        Err(_) => Term::BigInt(value),
    }
}

impl ser::Serializer for Serializer {
    type Ok = Term;
    type Error = Error;
    type SerializeSeq = SerializeList;
    type SerializeTuple = SerializeTuple;
    type SerializeTupleStruct = SerializeTuple;
    type SerializeTupleVariant = SerializeTupleVariant;
    type SerializeMap = SerializeMap;
    type SerializeStruct = SerializeStruct;
    type SerializeStructVariant = SerializeStructVariant;

    /// ETF is a binary format: types with a compact form (addresses,
    /// UUIDs, ...) choose it.
    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<Term, Error> {
        Ok(atom(if v { "true" } else { "false" }))
    }

    fn serialize_i8(self, v: i8) -> Result<Term, Error> {
        Ok(Term::Int(v.into()))
    }

    fn serialize_i16(self, v: i16) -> Result<Term, Error> {
        Ok(Term::Int(v.into()))
    }

    fn serialize_i32(self, v: i32) -> Result<Term, Error> {
        Ok(Term::Int(v.into()))
    }

    fn serialize_i64(self, v: i64) -> Result<Term, Error> {
        Ok(Term::Int(v))
    }

    fn serialize_i128(self, v: i128) -> Result<Term, Error> {
        Ok(big(v))
    }

    fn serialize_u8(self, v: u8) -> Result<Term, Error> {
        Ok(Term::Int(v.into()))
    }

    fn serialize_u16(self, v: u16) -> Result<Term, Error> {
        Ok(Term::Int(v.into()))
    }

    fn serialize_u32(self, v: u32) -> Result<Term, Error> {
        Ok(Term::Int(v.into()))
    }

    fn serialize_u64(self, v: u64) -> Result<Term, Error> {
        Ok(big(v))
    }

    fn serialize_u128(self, v: u128) -> Result<Term, Error> {
        Ok(big(v))
    }

    fn serialize_f32(self, v: f32) -> Result<Term, Error> {
        self.serialize_f64(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result<Term, Error> {
        if v.is_finite() {
            Ok(Term::Float(v))
        } else {
            Err(ErrorKind::NonFiniteFloat(v).into())
        }
    }

    fn serialize_char(self, v: char) -> Result<Term, Error> {
        Ok(Term::Int(u32::from(v).into()))
    }

    fn serialize_str(self, v: &str) -> Result<Term, Error> {
        Ok(Term::Binary(Bytes::copy_from_slice(v.as_bytes())))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Term, Error> {
        Ok(Term::Binary(Bytes::copy_from_slice(v)))
    }

    /// `undefined`, or `nil` for [`Dialect::Elixir`].
    fn serialize_none(self) -> Result<Term, Error> {
        Ok(atom(self.dialect.none_atom()))
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Term, Error> {
        let inner = self.wrap()?;
        super::grow(|| value.serialize(inner))
    }

    fn serialize_unit(self) -> Result<Term, Error> {
        Ok(Term::Tuple(Vec::new()))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Term, Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Term, Error> {
        Ok(atom(variant))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Term, Error> {
        if name == raw::WHOLE_TERM {
            return raw::handover::want(|| value.serialize(self))?.ok_or_else(|| {
                <Error as ser::Error>::custom("a raw term did not hand itself over")
            });
        }
        let mut inner = self.wrap()?;
        if name == super::elixir::KEYWORD {
            inner.keyword = true;
        }
        super::grow(|| value.serialize(inner))
    }

    /// `{variant, Value}`; for `Result`, `{ok, Value}` or
    /// `{error, Reason}`, and the bare atom `ok` or `error` when the value
    /// is `()`.
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Term, Error> {
        let inner = self.enter()?;
        let value = super::grow(|| value.serialize(inner))?;
        match super::result::tag(name, variant) {
            Some(tag) if value == Term::Tuple(Vec::new()) => Ok(atom(tag)),
            Some(tag) => Ok(Term::Tuple(vec![atom(tag), value])),
            None => Ok(Term::Tuple(vec![atom(variant), value])),
        }
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SerializeList, Error> {
        Ok(SerializeList {
            inner: self.enter()?,
            elems: Vec::with_capacity(capacity(len)),
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<SerializeTuple, Error> {
        Ok(SerializeTuple {
            inner: self.enter()?,
            elems: Vec::with_capacity(capacity(Some(len))),
        })
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SerializeTuple, Error> {
        self.serialize_tuple(len)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SerializeTupleVariant, Error> {
        let mut elems = Vec::with_capacity(capacity(Some(len + 1)));
        elems.push(atom(variant));
        Ok(SerializeTupleVariant {
            inner: self.enter()?,
            elems,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<SerializeMap, Error> {
        Ok(SerializeMap {
            inner: self.enter()?,
            entries: Vec::with_capacity(capacity(len)),
            key: None,
            keyword: self.keyword,
        })
    }

    /// A map with atom keys; a native record when the struct's serde name
    /// is `#Module:Name`, an Elixir struct when it is `%Module`, a keyword
    /// list inside [`Keyword`](super::elixir::Keyword) (see the
    /// [module documentation](super)).
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<SerializeStruct, Error> {
        Ok(SerializeStruct {
            inner: self.enter()?,
            entries: Vec::with_capacity(capacity(Some(len))),
            shape: if self.keyword {
                None
            } else {
                Some(shape(name))
            },
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SerializeStructVariant, Error> {
        Ok(SerializeStructVariant {
            variant,
            fields: SerializeStruct {
                inner: self.enter()?,
                entries: Vec::with_capacity(capacity(Some(len))),
                shape: Some(Shape::Map),
            },
        })
    }
}

/// A size hint made safe: a `Serialize` impl may claim any length.
fn capacity(len: Option<usize>) -> usize {
    len.unwrap_or(0).min(4096)
}

/// Builds a list (`[]` when empty).
#[derive(Debug)]
pub struct SerializeList {
    /// The serializer of the elements, one level deeper.
    inner: Serializer,
    elems: Vec<Term>,
}

impl ser::SerializeSeq for SerializeList {
    type Ok = Term;
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let index = self.elems.len();
        let elem = super::grow(|| value.serialize(self.inner)).map_err(|e| e.at_index(index))?;
        self.elems.push(elem);
        Ok(())
    }

    fn end(self) -> Result<Term, Error> {
        Ok(list(self.elems))
    }
}

/// Builds a tuple.
#[derive(Debug)]
pub struct SerializeTuple {
    /// The serializer of the elements, one level deeper.
    inner: Serializer,
    elems: Vec<Term>,
}

impl ser::SerializeTuple for SerializeTuple {
    type Ok = Term;
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let index = self.elems.len();
        let elem = super::grow(|| value.serialize(self.inner)).map_err(|e| e.at_index(index))?;
        self.elems.push(elem);
        Ok(())
    }

    fn end(self) -> Result<Term, Error> {
        Ok(Term::Tuple(self.elems))
    }
}

impl ser::SerializeTupleStruct for SerializeTuple {
    type Ok = Term;
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeTuple::serialize_element(self, value)
    }

    fn end(self) -> Result<Term, Error> {
        ser::SerializeTuple::end(self)
    }
}

/// Builds `{variant, A, B, ...}`.
#[derive(Debug)]
pub struct SerializeTupleVariant {
    /// The serializer of the fields, one level deeper.
    inner: Serializer,
    elems: Vec<Term>,
}

impl ser::SerializeTupleVariant for SerializeTupleVariant {
    type Ok = Term;
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        // Positions count the fields, not the variant's atom.
        let index = self.elems.len() - 1;
        let elem = super::grow(|| value.serialize(self.inner)).map_err(|e| e.at_index(index))?;
        self.elems.push(elem);
        Ok(())
    }

    fn end(self) -> Result<Term, Error> {
        Ok(Term::Tuple(self.elems))
    }
}

/// Builds a map from serde map entries (a keyword list inside
/// [`Keyword`](super::elixir::Keyword)).
#[derive(Debug)]
pub struct SerializeMap {
    /// The serializer of the elements, one level deeper.
    inner: Serializer,
    entries: Vec<(Term, Term)>,
    key: Option<Term>,
    /// Build `[{key, Value}]`, the keys made atoms.
    keyword: bool,
}

impl ser::SerializeMap for SerializeMap {
    type Ok = Term;
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(super::grow(|| key.serialize(self.inner))?);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| {
            <Error as ser::Error>::custom("serialize_value called before serialize_key")
        })?;
        let value = super::grow(|| value.serialize(self.inner)).map_err(|e| e.at_key(&key))?;
        self.entries.push((key, value));
        Ok(())
    }

    fn end(self) -> Result<Term, Error> {
        if !self.keyword {
            return map(self.entries);
        }
        let mut pairs = Vec::with_capacity(self.entries.len());
        for (key, value) in self.entries {
            let key = match &key {
                Term::Atom(atom) => atom.clone(),
                Term::Binary(text) => match std::str::from_utf8(text) {
                    Ok(text) if text.chars().count() <= 255 => Atom::new(text),
                    _ => return Err(keyword_key(&key)),
                },
                _ => return Err(keyword_key(&key)),
            };
            pairs.push(Term::Tuple(vec![Term::Atom(key), value]));
        }
        Ok(list(pairs))
    }
}

/// A map key that cannot be a keyword list's atom.
fn keyword_key(key: &Term) -> Error {
    Error::mismatch(
        "a keyword list key (an atom, or a string of at most 255 characters)",
        key,
    )
}

/// Builds a map with atom keys from a struct's fields, a native record,
/// an Elixir struct or a keyword list.
#[derive(Debug)]
pub struct SerializeStruct {
    /// The serializer of the elements, one level deeper.
    inner: Serializer,
    /// The fields, named by atoms.
    entries: Vec<(Atom, Term)>,
    /// What the fields become; `None`: a keyword list.
    shape: Option<Shape>,
}

impl ser::SerializeStruct for SerializeStruct {
    type Ok = Term;
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let value = super::grow(|| value.serialize(self.inner)).map_err(|e| e.at_field(key))?;
        self.entries.push((Atom::new(key), value));
        Ok(())
    }

    fn end(self) -> Result<Term, Error> {
        // Field names are unique in Rust, but `#[serde(rename)]` can make
        // two equal: `map` and `Record` refuse that.
        let entries = self.entries.into_iter();
        let (module, name, exported) = match self.shape {
            None => {
                let pairs = entries.map(|(k, v)| Term::Tuple(vec![Term::Atom(k), v]));
                return Ok(list(pairs.collect()));
            }
            Some(Shape::Map) => return map(entries.map(|(k, v)| (Term::Atom(k), v)).collect()),
            Some(Shape::Elixir(module)) => {
                let tag = (atom(STRUCT_KEY), Term::Atom(module));
                let fields = entries.map(|(k, v)| (Term::Atom(k), v));
                return map(std::iter::once(tag).chain(fields).collect());
            }
            Some(Shape::Record(module, name, exported)) => (module, name, exported),
        };
        let (fields, values) = entries.unzip();
        Record::from_columns(module, name, exported, fields, values)
            .map(Term::from)
            .map_err(|dup| ErrorKind::DuplicateKey(format!("the field `{}`", dup.field)).into())
    }
}

/// Builds `{variant, #{field => Value, ...}}`.
#[derive(Debug)]
pub struct SerializeStructVariant {
    variant: &'static str,
    fields: SerializeStruct,
}

impl ser::SerializeStructVariant for SerializeStructVariant {
    type Ok = Term;
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(&mut self.fields, key, value)
    }

    fn end(self) -> Result<Term, Error> {
        let fields = ser::SerializeStruct::end(self.fields)?;
        Ok(Term::Tuple(vec![atom(self.variant), fields]))
    }
}
