//! `Serialize` and `Deserialize` for [`Term`] and the identifier types, so
//! that they can be fields of serde structs.
//!
//! A term travels through serde as a private enum, [`TERM_ENUM`], with one
//! variant per kind of term (`Atom("ok")`, `Tuple([...])`,
//! `Pid("a@h", 85, 0, 3)`, ...). Any format can carry that enum, so a term
//! round-trips exactly through JSON or bincode as well. [`Serializer`] and
//! [`Deserializer`] recognise the enum's name and turn it back into the term
//! itself instead of the `{Variant, ...}` tuple an ordinary enum becomes, so
//! through [`to_term`] and [`from_term`] a term comes back unchanged,
//! representation included (a [`Term::ByteList`] stays one).
//!
//! [`Serializer`]: super::Serializer
//! [`Deserializer`]: super::Deserializer
//! [`to_term`]: super::to_term
//! [`from_term`]: super::from_term

use super::de::Deserializer;
use super::error::Error;
use crate::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
use ::serde::de::value::{BorrowedBytesDeserializer, BorrowedStrDeserializer, SeqDeserializer};
use ::serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use ::serde::{forward_to_deserialize_any, Deserialize, Serialize};
use bytes::Bytes;
use num_bigint::{BigInt, Sign};
use std::fmt;

/// The serde name of the private enum that carries a term.
pub(crate) const TERM_ENUM: &str = "$etf::private::Term";

/// A term as the private enum, borrowing from the term.
#[derive(Serialize)]
#[serde(rename = "$etf::private::Term")]
enum ReprRef<'a> {
    Int(i64),
    /// Negative?, then the magnitude's bytes, least significant first
    /// (linear both ways, unlike decimal text).
    BigInt(bool, ByteBuf),
    Float(f64),
    Atom(&'a str),
    Tuple(&'a [Term]),
    Nil,
    List(&'a [Term]),
    ByteList(ByteSlice<'a>),
    ImproperList(&'a [Term], &'a Term),
    Map(MapRef<'a>),
    Binary(ByteSlice<'a>),
    BitBinary(ByteSlice<'a>, u8),
    Pid(&'a str, u32, u32, u32),
    Port(&'a str, u64, u32),
    Reference(&'a str, u32, &'a [u32]),
    Export(&'a str, &'a str, u8),
    /// Arity, uniq, index, module, old index, old uniq, the creator's pid
    /// (four fields as in `Pid`), free variables.
    Fun(
        u8,
        ByteSlice<'a>,
        u32,
        &'a str,
        u32,
        u32,
        &'a str,
        u32,
        u32,
        u32,
        &'a [Term],
    ),
    /// Module, name, exported, field names, values.
    Record(&'a str, &'a str, bool, Names<'a>, &'a [Term]),
    Local(ByteSlice<'a>),
}

/// The owned twin of [`ReprRef`], variant for variant.
#[derive(Deserialize)]
#[serde(rename = "$etf::private::Term")]
enum Repr {
    Int(i64),
    BigInt(bool, ByteVec),
    Float(f64),
    Atom(String),
    Tuple(Vec<Term>),
    Nil,
    List(Vec<Term>),
    ByteList(ByteVec),
    ImproperList(Vec<Term>, Box<Term>),
    Map(Entries),
    Binary(ByteVec),
    BitBinary(ByteVec, u8),
    Pid(String, u32, u32, u32),
    Port(String, u64, u32),
    Reference(String, u32, Vec<u32>),
    Export(String, String, u8),
    Fun(
        u8,
        ByteVec,
        u32,
        String,
        u32,
        u32,
        String,
        u32,
        u32,
        u32,
        Vec<Term>,
    ),
    Record(String, String, bool, Vec<String>, Vec<Term>),
    Local(ByteVec),
}

/// The serde name of each [`Repr`] variant.
const KINDS: &[&str] = &[
    "Int",
    "BigInt",
    "Float",
    "Atom",
    "Tuple",
    "Nil",
    "List",
    "ByteList",
    "ImproperList",
    "Map",
    "Binary",
    "BitBinary",
    "Pid",
    "Port",
    "Reference",
    "Export",
    "Fun",
    "Record",
    "Local",
];

/// The variant of [`Repr`] that carries `term`.
fn kind(term: &Term) -> &'static str {
    match term {
        Term::Int(_) => "Int",
        Term::BigInt(_) => "BigInt",
        Term::Float(_) => "Float",
        Term::Atom(_) => "Atom",
        Term::Tuple(_) => "Tuple",
        Term::Nil => "Nil",
        Term::List(_) => "List",
        Term::ByteList(_) => "ByteList",
        Term::ImproperList(..) => "ImproperList",
        Term::Map(_) => "Map",
        Term::Binary(_) => "Binary",
        Term::BitBinary(_) => "BitBinary",
        Term::Pid(_) => "Pid",
        Term::Port(_) => "Port",
        Term::Reference(_) => "Reference",
        Term::Export(_) => "Export",
        Term::Fun(_) => "Fun",
        Term::Record(_) => "Record",
        Term::Local(_) => "Local",
    }
}

/// Bytes written with `serialize_bytes` (a slice would be a sequence).
struct ByteSlice<'a>(&'a [u8]);

impl Serialize for ByteSlice<'_> {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Owned bytes written with `serialize_bytes`.
struct ByteBuf(Vec<u8>);

impl Serialize for ByteBuf {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

/// Bytes read from serde bytes, or from a sequence of `u8` (JSON).
struct ByteVec(Vec<u8>);

impl<'de> Deserialize<'de> for ByteVec {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<ByteVec, D::Error> {
        struct ByteVecVisitor;

        impl<'de> Visitor<'de> for ByteVecVisitor {
            type Value = ByteVec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }

            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ByteVec, E> {
                Ok(ByteVec(v.to_vec()))
            }

            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<ByteVec, E> {
                Ok(ByteVec(v))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ByteVec, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(byte) = seq.next_element()? {
                    bytes.push(byte);
                }
                Ok(ByteVec(bytes))
            }
        }

        deserializer.deserialize_byte_buf(ByteVecVisitor)
    }
}

/// A record's field names, as a sequence of strings.
struct Names<'a>(&'a [Atom]);

impl Serialize for Names<'_> {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Atom::as_str))
    }
}

/// A map's entries as a sequence of pairs, so that formats whose map keys
/// must be strings (JSON) can carry any map.
struct MapRef<'a>(&'a Map);

impl Serialize for MapRef<'_> {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.entries.iter().map(|(k, v)| (k, v)))
    }
}

/// A map's entries read back; [`Repr`] to [`Term`] checks key uniqueness.
struct Entries(Vec<(Term, Term)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
        Vec::<(Term, Term)>::deserialize(deserializer).map(Entries)
    }
}

impl ReprRef<'_> {
    fn of(term: &Term) -> ReprRef<'_> {
        match term {
            Term::Int(i) => ReprRef::Int(*i),
            Term::BigInt(b) => {
                let (sign, magnitude) = b.to_bytes_le();
                ReprRef::BigInt(sign == Sign::Minus, ByteBuf(magnitude))
            }
            Term::Float(f) => ReprRef::Float(*f),
            Term::Atom(a) => ReprRef::Atom(a.as_str()),
            Term::Tuple(elems) => ReprRef::Tuple(elems),
            Term::Nil => ReprRef::Nil,
            Term::List(elems) => ReprRef::List(elems),
            Term::ByteList(bytes) => ReprRef::ByteList(ByteSlice(bytes)),
            Term::ImproperList(elems, tail) => ReprRef::ImproperList(elems, tail),
            Term::Map(map) => ReprRef::Map(MapRef(map)),
            Term::Binary(bytes) => ReprRef::Binary(ByteSlice(bytes)),
            Term::BitBinary(b) => ReprRef::BitBinary(ByteSlice(&b.bytes), b.bits),
            Term::Pid(p) => ReprRef::Pid(p.node.as_str(), p.id, p.serial, p.creation),
            Term::Port(p) => ReprRef::Port(p.node.as_str(), p.id, p.creation),
            Term::Reference(r) => ReprRef::Reference(r.node.as_str(), r.creation, &r.ids),
            Term::Export(e) => ReprRef::Export(e.module.as_str(), e.function.as_str(), e.arity),
            Term::Fun(f) => ReprRef::Fun(
                f.arity,
                ByteSlice(&f.uniq),
                f.index,
                f.module.as_str(),
                f.old_index,
                f.old_uniq,
                f.pid.node.as_str(),
                f.pid.id,
                f.pid.serial,
                f.pid.creation,
                &f.free_vars,
            ),
            Term::Record(r) => ReprRef::Record(
                r.module.as_str(),
                r.name.as_str(),
                r.exported,
                Names(&r.fields),
                &r.values,
            ),
            Term::Local(bytes) => ReprRef::Local(ByteSlice(bytes)),
        }
    }
}

impl Repr {
    /// The term, after the checks the term model's invariants need.
    fn into_term(self) -> Result<Term, String> {
        Ok(match self {
            Repr::Int(i) => Term::Int(i),
            Repr::BigInt(negative, magnitude) => {
                let sign = if negative { Sign::Minus } else { Sign::Plus };
                Term::BigInt(BigInt::from_bytes_le(sign, &magnitude.0))
            }
            Repr::Float(f) if f.is_finite() => Term::Float(f),
            Repr::Float(f) => return Err(format!("float {f} is NaN or infinite")),
            Repr::Atom(text) => Term::Atom(Atom::from(text)),
            Repr::Tuple(elems) => Term::Tuple(elems),
            Repr::Nil => Term::Nil,
            Repr::List(elems) => Term::List(elems),
            Repr::ByteList(bytes) => Term::ByteList(bytes.0),
            // Normalized as the term model wants: a list tail is appended.
            Repr::ImproperList(elems, tail) => Term::improper_list(elems, *tail),
            Repr::Map(entries) => Term::Map(Map::from_entries(entries.0).map_err(|dup| {
                format!(
                    "map key {} appears twice",
                    super::describe::describe(&dup.key)
                )
            })?),
            Repr::Binary(bytes) => Term::Binary(Bytes::from(bytes.0)),
            Repr::BitBinary(bytes, bits) => {
                let last = bytes.0.last().copied();
                match last {
                    Some(last) if (1..=7).contains(&bits) && last & (0xff >> bits) == 0 => {}
                    _ => return Err(format!("invalid bitstring ({bits} bits in the last byte)")),
                }
                Term::BitBinary(BitBinary {
                    bytes: Bytes::from(bytes.0),
                    bits,
                })
            }
            Repr::Pid(node, id, serial, creation) => Term::Pid(Pid {
                node: Atom::from(node),
                id,
                serial,
                creation,
            }),
            Repr::Port(node, id, creation) => Term::Port(Port {
                node: Atom::from(node),
                id,
                creation,
            }),
            Repr::Reference(node, creation, ids) => {
                if !(1..=5).contains(&ids.len()) {
                    return Err(format!("a reference has 1 to 5 words, not {}", ids.len()));
                }
                Term::Reference(Reference {
                    node: Atom::from(node),
                    creation,
                    ids,
                })
            }
            Repr::Export(module, function, arity) => Term::Export(Export {
                module: Atom::from(module),
                function: Atom::from(function),
                arity,
            }),
            Repr::Fun(
                arity,
                uniq,
                index,
                module,
                old_index,
                old_uniq,
                node,
                id,
                serial,
                creation,
                free_vars,
            ) => {
                let uniq: [u8; 16] = uniq
                    .0
                    .try_into()
                    .map_err(|_| "a fun's uniq has 16 bytes".to_owned())?;
                Term::Fun(Box::new(Fun {
                    arity,
                    uniq,
                    index,
                    module: Atom::from(module),
                    old_index,
                    old_uniq,
                    pid: Pid {
                        node: Atom::from(node),
                        id,
                        serial,
                        creation,
                    },
                    free_vars,
                }))
            }
            Repr::Record(module, name, exported, fields, values) => {
                if fields.len() != values.len() {
                    return Err(format!(
                        "a record with {} field names and {} values",
                        fields.len(),
                        values.len()
                    ));
                }
                let fields = fields.into_iter().map(Atom::from).collect();
                let record = Record::from_columns(
                    Atom::from(module),
                    Atom::from(name),
                    exported,
                    fields,
                    values,
                )
                .map_err(|dup| dup.to_string())?;
                Term::from(record)
            }
            Repr::Local(bytes) => Term::Local(Bytes::from(bytes.0)),
        })
    }
}

/// Serializes the term exactly: through [`to_term`](super::to_term) it comes
/// back unchanged; other formats get the private enum described in the
/// [module documentation](super#raw-terms).
impl Serialize for Term {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ReprRef::of(self).serialize(serializer)
    }
}

/// Deserializes what [`Serialize for Term`](Term#impl-Serialize-for-Term)
/// wrote; from [`from_term`](super::from_term) this is the term itself,
/// whatever its kind.
impl<'de> Deserialize<'de> for Term {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Term, D::Error> {
        Repr::deserialize(deserializer)?
            .into_term()
            .map_err(de::Error::custom)
    }
}

/// Serializes and deserializes one kind of term through the [`Term`] impls,
/// refusing other kinds.
macro_rules! term_kind_serde {
    ($ty:ident, $variant:ident, $expected:literal) => {
        #[doc = concat!("Serializes as [`Term::", stringify!($variant), "`]; see [`Term`]'s impl.")]
        impl Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                Term::$variant(self.clone().into()).serialize(serializer)
            }
        }

        #[doc = concat!("Deserializes from [`Term::", stringify!($variant), "`] only.")]
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<$ty, D::Error> {
                match Term::deserialize(deserializer)? {
                    Term::$variant(value) => Ok(value.into()),
                    other => Err(de::Error::custom(format_args!(
                        concat!("expected ", $expected, ", found {}"),
                        super::describe::describe(&other)
                    ))),
                }
            }
        }
    };
}

term_kind_serde!(Atom, Atom, "an atom");
term_kind_serde!(Pid, Pid, "a pid");
term_kind_serde!(Port, Port, "a port");
term_kind_serde!(Reference, Reference, "a reference");
term_kind_serde!(Export, Export, "an external fun");
term_kind_serde!(BitBinary, BitBinary, "a bitstring");
term_kind_serde!(Map, Map, "a map");

/// Serializes as [`Term::Record`]; see [`Term`]'s impl.
impl Serialize for Record {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Term::Record(Box::new(self.clone())).serialize(serializer)
    }
}

/// Deserializes from [`Term::Record`] only.
impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        match Term::deserialize(deserializer)? {
            Term::Record(record) => Ok(*record),
            other => Err(de::Error::custom(format_args!(
                "expected a native record, found {}",
                super::describe::describe(&other)
            ))),
        }
    }
}

/// Serializes as [`Term::Fun`]; see [`Term`]'s impl.
impl Serialize for Fun {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Term::Fun(Box::new(self.clone())).serialize(serializer)
    }
}

/// Deserializes from [`Term::Fun`] only.
impl<'de> Deserialize<'de> for Fun {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Fun, D::Error> {
        match Term::deserialize(deserializer)? {
            Term::Fun(fun) => Ok(*fun),
            other => Err(de::Error::custom(format_args!(
                "expected a local fun, found {}",
                super::describe::describe(&other)
            ))),
        }
    }
}

/// Rebuilds a term from the parts [`ReprRef`] serialized into through
/// [`Serializer`](super::Serializer): `kind` is the variant, `parts` its
/// fields as the serializer made them (strings and bytes as binaries,
/// slices as lists, terms already rebuilt).
pub(crate) fn from_parts(kind: &str, parts: Vec<Term>) -> Result<Term, Error> {
    let mut parts = Parts(parts.into_iter());
    let repr = match kind {
        "Int" => Repr::Int(parts.int()?),
        "BigInt" => Repr::BigInt(parts.boolean()?, parts.bytes()?),
        "Float" => match parts.next()? {
            Term::Float(f) => Repr::Float(f),
            other => return Err(Error::mismatch("a float", &other)),
        },
        "Atom" => Repr::Atom(parts.text()?),
        "Tuple" => Repr::Tuple(parts.terms()?),
        "Nil" => Repr::Nil,
        "List" => Repr::List(parts.terms()?),
        "ByteList" => Repr::ByteList(parts.bytes()?),
        "ImproperList" => Repr::ImproperList(parts.terms()?, Box::new(parts.next()?)),
        "Map" => {
            let pairs = parts.terms()?.into_iter().map(|pair| match pair {
                Term::Tuple(kv) => match <[Term; 2]>::try_from(kv) {
                    Ok([k, v]) => Ok((k, v)),
                    Err(kv) => Err(Error::mismatch("a map entry", &Term::Tuple(kv))),
                },
                other => Err(Error::mismatch("a map entry", &other)),
            });
            Repr::Map(Entries(pairs.collect::<Result<_, _>>()?))
        }
        "Binary" => Repr::Binary(parts.bytes()?),
        "BitBinary" => Repr::BitBinary(parts.bytes()?, parts.int()?),
        "Pid" => Repr::Pid(parts.text()?, parts.int()?, parts.int()?, parts.int()?),
        "Port" => Repr::Port(parts.text()?, parts.int()?, parts.int()?),
        "Reference" => {
            let (node, creation) = (parts.text()?, parts.int()?);
            let ids = parts
                .terms()?
                .iter()
                .map(Parts::int_of)
                .collect::<Result<_, _>>()?;
            Repr::Reference(node, creation, ids)
        }
        "Export" => Repr::Export(parts.text()?, parts.text()?, parts.int()?),
        "Fun" => Repr::Fun(
            parts.int()?,
            parts.bytes()?,
            parts.int()?,
            parts.text()?,
            parts.int()?,
            parts.int()?,
            parts.text()?,
            parts.int()?,
            parts.int()?,
            parts.int()?,
            parts.terms()?,
        ),
        "Record" => {
            let (module, name, exported) = (parts.text()?, parts.text()?, parts.boolean()?);
            let fields = parts
                .terms()?
                .into_iter()
                .map(|name| Parts(vec![name].into_iter()).text())
                .collect::<Result<_, _>>()?;
            Repr::Record(module, name, exported, fields, parts.terms()?)
        }
        "Local" => Repr::Local(parts.bytes()?),
        other => return Err(de::Error::unknown_variant(other, KINDS)),
    };
    repr.into_term().map_err(de::Error::custom)
}

/// The fields of one serialized [`ReprRef`] variant, taken in order.
struct Parts(std::vec::IntoIter<Term>);

impl Parts {
    fn next(&mut self) -> Result<Term, Error> {
        self.0
            .next()
            .ok_or_else(|| de::Error::custom("a raw term lacks a part"))
    }

    fn int_of<T: TryFrom<i128>>(part: &Term) -> Result<T, Error> {
        let wide = match part {
            Term::Int(i) => Some(i128::from(*i)),
            Term::BigInt(big) => i128::try_from(big).ok(),
            other => return Err(Error::mismatch("an integer", other)),
        };
        wide.and_then(|wide| T::try_from(wide).ok())
            .ok_or_else(|| Error::mismatch("a smaller integer", part))
    }

    fn int<T: TryFrom<i128>>(&mut self) -> Result<T, Error> {
        Parts::int_of(&self.next()?)
    }

    fn boolean(&mut self) -> Result<bool, Error> {
        match self.next()? {
            Term::Atom(atom) if atom.as_str() == "true" => Ok(true),
            Term::Atom(atom) if atom.as_str() == "false" => Ok(false),
            other => Err(Error::mismatch("a boolean", &other)),
        }
    }

    fn bytes(&mut self) -> Result<ByteVec, Error> {
        match self.next()? {
            Term::Binary(bytes) => Ok(ByteVec(bytes.to_vec())),
            other => Err(Error::mismatch("a binary", &other)),
        }
    }

    fn text(&mut self) -> Result<String, Error> {
        match self.next()? {
            Term::Binary(bytes) => String::from_utf8(bytes.to_vec())
                .map_err(|_| Error::mismatch("UTF-8 text", &Term::Binary(bytes))),
            other => Err(Error::mismatch("text", &other)),
        }
    }

    fn terms(&mut self) -> Result<Vec<Term>, Error> {
        match self.next()? {
            Term::Nil => Ok(Vec::new()),
            Term::List(terms) => Ok(terms),
            other => Err(Error::mismatch("a list", &other)),
        }
    }
}

/// Presents an existing term, borrowed, as the private enum: the content of
/// each variant is given to [`Repr`] in the shape [`ReprRef`] serializes.
pub(crate) struct RawEnum<'de> {
    pub(crate) term: &'de Term,
    /// The nesting allowance of the term's elements.
    pub(crate) depth: usize,
}

impl<'de> de::EnumAccess<'de> for RawEnum<'de> {
    type Error = Error;
    type Variant = RawEnum<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let kind: BorrowedStrDeserializer<'de, Error> =
            BorrowedStrDeserializer::new(kind(self.term));
        Ok((seed.deserialize(kind)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for RawEnum<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        let depth = self.depth;
        match self.term {
            Term::Int(i) => seed.deserialize((*i).into_deserializer()),
            Term::Float(f) => seed.deserialize((*f).into_deserializer()),
            Term::Atom(a) => seed.deserialize(BorrowedStrDeserializer::new(a.as_str())),
            Term::Tuple(elems) | Term::List(elems) => seed.deserialize(Part::Terms(elems, depth)),
            Term::ByteList(bytes) => seed.deserialize(BorrowedBytesDeserializer::new(bytes)),
            Term::Binary(bytes) | Term::Local(bytes) => {
                seed.deserialize(BorrowedBytesDeserializer::new(bytes))
            }
            Term::Map(map) => seed.deserialize(Part::Entries(&map.entries, depth)),
            other => Err(Error::mismatch("a term with one part", other)),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        let depth = self.depth;
        let parts: Vec<Part<'de>> = match self.term {
            Term::BigInt(b) => {
                let (sign, magnitude) = b.to_bytes_le();
                vec![Part::Bool(sign == Sign::Minus), Part::ByteBuf(magnitude)]
            }
            Term::ImproperList(elems, tail) => {
                vec![Part::Terms(elems, depth), Part::Term(tail, depth)]
            }
            Term::BitBinary(b) => vec![Part::Bytes(&b.bytes), Part::U64(b.bits.into())],
            Term::Pid(p) => pid_parts(p).to_vec(),
            Term::Port(p) => vec![
                Part::Str(&p.node),
                Part::U64(p.id),
                Part::U64(p.creation.into()),
            ],
            Term::Reference(r) => vec![
                Part::Str(&r.node),
                Part::U64(r.creation.into()),
                Part::Words(&r.ids),
            ],
            Term::Export(e) => vec![
                Part::Str(&e.module),
                Part::Str(&e.function),
                Part::U64(e.arity.into()),
            ],
            Term::Fun(f) => {
                let mut parts = vec![
                    Part::U64(f.arity.into()),
                    Part::Bytes(&f.uniq),
                    Part::U64(f.index.into()),
                    Part::Str(&f.module),
                    Part::U64(f.old_index.into()),
                    Part::U64(f.old_uniq.into()),
                ];
                parts.extend(pid_parts(&f.pid));
                parts.push(Part::Terms(&f.free_vars, depth));
                parts
            }
            Term::Record(r) => vec![
                Part::Str(&r.module),
                Part::Str(&r.name),
                Part::Bool(r.exported),
                Part::Names(&r.fields),
                Part::Terms(&r.values, depth),
            ],
            other => return Err(Error::mismatch("a term with several parts", other)),
        };
        visitor.visit_seq(SeqDeserializer::new(parts.into_iter()))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(Error::mismatch("a raw term", self.term))
    }
}

fn pid_parts(p: &Pid) -> [Part<'_>; 4] {
    [
        Part::Str(&p.node),
        Part::U64(p.id.into()),
        Part::U64(p.serial.into()),
        Part::U64(p.creation.into()),
    ]
}

/// One field of a borrowed term's representation.
#[derive(Clone)]
enum Part<'de> {
    Bool(bool),
    U64(u64),
    Str(&'de str),
    Bytes(&'de [u8]),
    ByteBuf(Vec<u8>),
    Words(&'de [u32]),
    /// A record's field names, as strings.
    Names(&'de [Atom]),
    /// A term: handed over whole (its own `Deserialize` asks for the enum).
    /// Each variant holding terms also holds their nesting allowance.
    Term(&'de Term, usize),
    /// A sequence of whole terms.
    Terms(&'de [Term], usize),
    /// A map's entries as a sequence of `(key, value)` pairs.
    Entries(&'de [(Term, Term)], usize),
    /// One entry.
    Pair(&'de Term, &'de Term, usize),
}

impl<'de> IntoDeserializer<'de, Error> for Part<'de> {
    type Deserializer = Part<'de>;

    fn into_deserializer(self) -> Part<'de> {
        self
    }
}

impl<'de> ::serde::Deserializer<'de> for Part<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Part::Bool(b) => visitor.visit_bool(b),
            Part::U64(n) => visitor.visit_u64(n),
            Part::Str(s) => visitor.visit_borrowed_str(s),
            Part::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Part::ByteBuf(b) => visitor.visit_byte_buf(b),
            Part::Words(words) => visitor.visit_seq(SeqDeserializer::new(
                words
                    .iter()
                    .map(|w| IntoDeserializer::<Error>::into_deserializer(*w)),
            )),
            Part::Names(names) => visitor.visit_seq(SeqDeserializer::new(
                names.iter().map(|name| Part::Str(name.as_str())),
            )),
            Part::Term(term, depth) => {
                Deserializer::with_max_depth(term, depth).deserialize_any(visitor)
            }
            Part::Terms(terms, depth) => visitor.visit_seq(SeqDeserializer::new(
                terms.iter().map(|t| Part::Term(t, depth)),
            )),
            Part::Entries(entries, depth) => visitor.visit_seq(SeqDeserializer::new(
                entries.iter().map(|(k, v)| Part::Pair(k, v, depth)),
            )),
            Part::Pair(k, v, depth) => visitor.visit_seq(SeqDeserializer::new(
                [Part::Term(k, depth), Part::Term(v, depth)].into_iter(),
            )),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Part::Term(term, depth) => {
                Deserializer::with_max_depth(term, depth).deserialize_enum(name, variants, visitor)
            }
            other => other.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
