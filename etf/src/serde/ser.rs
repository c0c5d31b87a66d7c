//! [`Serializer`]: Rust values to terms.

use super::error::{Error, ErrorKind};
use super::raw;
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
}

impl Serializer {
    /// A serializer without a nesting limit: values of any depth convert,
    /// on a stack that grows on the heap as needed, and [`Term`] fields
    /// are copied whole, without recursion.
    pub fn new() -> Serializer {
        Serializer { depth: usize::MAX }
    }

    /// A serializer that enters at most `depth` levels of nesting
    /// (sequences, tuples, maps, structs, variants with fields, `Some` and
    /// newtypes count one each) and fails beyond with
    /// [`ErrorKind::TooDeep`]. Opt-in: [`Serializer::new`] has no limit. A
    /// [`Term`] (or [`crate::Map`], [`crate::Pid`], ...) field is one value
    /// however deep it is: it is copied whole.
    pub fn with_max_depth(depth: usize) -> Serializer {
        Serializer { depth }
    }

    /// The serializer for what is inside a value at this level.
    fn enter(self) -> Result<Serializer, Error> {
        match self.depth.checked_sub(1) {
            Some(depth) => Ok(Serializer { depth }),
            None => Err(ErrorKind::TooDeep.into()),
        }
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

    fn serialize_none(self) -> Result<Term, Error> {
        Ok(atom("undefined"))
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Term, Error> {
        let inner = self.enter()?;
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
        let inner = self.enter()?;
        super::grow(|| value.serialize(inner))
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Term, Error> {
        let inner = self.enter()?;
        let value = super::grow(|| value.serialize(inner))?;
        Ok(Term::Tuple(vec![atom(variant), value]))
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
        })
    }

    /// A map with atom keys, or a native record when the struct's serde
    /// name is `#Module:Name` (see the [module documentation](super)).
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<SerializeStruct, Error> {
        Ok(SerializeStruct {
            inner: self.enter()?,
            entries: Vec::with_capacity(capacity(Some(len))),
            record: record_name(name),
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
                record: None,
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

/// Builds a map from serde map entries.
#[derive(Debug)]
pub struct SerializeMap {
    /// The serializer of the elements, one level deeper.
    inner: Serializer,
    entries: Vec<(Term, Term)>,
    key: Option<Term>,
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
        map(self.entries)
    }
}

/// The native record a struct's serde name asks for: `#Module:Name`, or
/// `#Module:Name/exported` for a record its module exports.
pub(crate) fn record_name(name: &str) -> Option<(Atom, Atom, bool)> {
    let rest = name.strip_prefix('#')?;
    let (rest, exported) = match rest.strip_suffix("/exported") {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let (module, name) = rest.split_once(':')?;
    Some((Atom::new(module), Atom::new(name), exported))
}

/// Builds a map with atom keys from a struct's fields, or a native record.
#[derive(Debug)]
pub struct SerializeStruct {
    /// The serializer of the elements, one level deeper.
    inner: Serializer,
    /// The fields, named by atoms.
    entries: Vec<(Atom, Term)>,
    /// The module, name and exported flag, for a native record.
    record: Option<(Atom, Atom, bool)>,
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
        let Some((module, name, exported)) = self.record else {
            let entries = self.entries.into_iter();
            return map(entries.map(|(k, v)| (Term::Atom(k), v)).collect());
        };
        let (fields, values) = self.entries.into_iter().unzip();
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
