//! `Serialize` and `Deserialize` for [`Term`] and the identifier types, so
//! that they can be fields of serde structs.
//!
//! A term travels through serde as a private newtype struct,
//! [`WHOLE_TERM`], around a private enum with one variant per kind of term
//! (`Atom("ok")`, `Tuple([...])`, `Pid("a@h", 85, 0, 3)`, ...). Any format
//! can carry that enum, so a term round-trips exactly through JSON or
//! bincode as well; there serde recurses once per level of the term, on a
//! stack that `stacker` grows on the heap as needed.
//!
//! [`Serializer`] and [`Deserializer`] recognise the newtype struct's name
//! and take the term whole instead (see [`handover`]): a copy made without
//! recursion, so that through [`to_term`] and [`from_term`] a term of any
//! depth comes back unchanged, representation included (a
//! [`Term::ByteList`] stays one), at the cost of one clone.
//!
//! [`Serializer`]: super::Serializer
//! [`Deserializer`]: super::Deserializer
//! [`to_term`]: super::to_term
//! [`from_term`]: super::from_term

use crate::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
use ::serde::de::{self, Visitor};
use ::serde::{Deserialize, Serialize};
use bytes::Bytes;
use num_bigint::{BigInt, Sign};
use std::fmt;

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
        serializer.serialize_newtype_struct(WHOLE_TERM, &Whole(self))
    }
}

/// Deserializes what [`Serialize for Term`](Term#impl-Serialize-for-Term)
/// wrote; from [`from_term`](super::from_term) this is the term itself,
/// whatever its kind.
impl<'de> Deserialize<'de> for Term {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Term, D::Error> {
        deserializer.deserialize_newtype_struct(WHOLE_TERM, WholeVisitor)
    }
}

/// The serde name of the newtype struct a [`Term`] is wrapped in, which our
/// [`Serializer`](super::Serializer) and [`Deserializer`](super::Deserializer)
/// recognise so as to hand the term over whole (see [`handover`]). Other
/// formats see a newtype struct, transparent in most (JSON, bincode).
pub(crate) const WHOLE_TERM: &str = "$etf::private::WholeTerm";

/// A term inside the [`WHOLE_TERM`] newtype struct.
struct Whole<'a>(&'a Term);

impl Serialize for Whole<'_> {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if handover::offer(self.0) {
            // Our serializer takes the term whole; this unit is discarded.
            return serializer.serialize_unit();
        }
        // Another format: the private enum, one level of serde recursion per
        // level of the term, on a stack grown on the heap when needed.
        super::grow(|| ReprRef::of(self.0).serialize(serializer))
    }
}

/// Reads the [`WHOLE_TERM`] newtype struct.
struct WholeVisitor;

impl<'de> Visitor<'de> for WholeVisitor {
    type Value = Term;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an Erlang term")
    }

    fn visit_newtype_struct<D: ::serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Term, D::Error> {
        if let Some(term) = handover::take() {
            return Ok(term);
        }
        super::grow(|| Repr::deserialize(deserializer))?
            .into_term()
            .map_err(de::Error::custom)
    }
}

/// How a whole term passes between [`Term`]'s serde impls and our own
/// serializer and deserializer without going through serde's recursive
/// data model: by a copy (made without recursion) left in a thread-local
/// slot. Our serializer asks for the term with [`handover::want`] just
/// before it serializes the [`Whole`] wrapper, which takes the request at
/// once; our deserializer [`handover::give`]s the term just before it calls
/// [`WholeVisitor`], which takes it at once. Nothing else runs in between,
/// so no other request or term can be caught.
pub(crate) mod handover {
    use crate::Term;
    use std::cell::{Cell, RefCell};

    thread_local! {
        static WANTED: Cell<bool> = const { Cell::new(false) };
        static SLOT: RefCell<Option<Term>> = const { RefCell::new(None) };
    }

    /// Our serializer: the next [`Whole`](super::Whole) should hand its term
    /// over. Returns what [`offer`] left, once `serialize` has run.
    pub(crate) fn want<E>(serialize: impl FnOnce() -> Result<Term, E>) -> Result<Option<Term>, E> {
        WANTED.with(|w| w.set(true));
        let result = serialize();
        WANTED.with(|w| w.set(false));
        let term = take();
        result.map(|_| term)
    }

    /// [`Whole`](super::Whole): hands the term over if asked to.
    pub(super) fn offer(term: &Term) -> bool {
        if !WANTED.with(|w| w.replace(false)) {
            return false;
        }
        SLOT.with(|slot| *slot.borrow_mut() = Some(term.clone()));
        true
    }

    /// Our deserializer: `term` for the [`WholeVisitor`](super::WholeVisitor)
    /// that `visit` calls.
    pub(crate) fn give<R>(term: &Term, visit: impl FnOnce() -> R) -> R {
        SLOT.with(|slot| *slot.borrow_mut() = Some(term.clone()));
        let result = visit();
        // Not taken only if the visitor was not ours: then forget it.
        drop(take());
        result
    }

    /// The term left in the slot, if any.
    pub(super) fn take() -> Option<Term> {
        SLOT.with(|slot| slot.borrow_mut().take())
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
                match &Term::deserialize(deserializer)? {
                    Term::$variant(value) => Ok(value.clone().into()),
                    other => Err(de::Error::custom(format_args!(
                        concat!("expected ", $expected, ", found {}"),
                        super::describe::describe(other)
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

/// Serializes as [`Term::Map`]; see [`Term`]'s impl.
impl Serialize for Map {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Term::Map(self.clone()).serialize(serializer)
    }
}

/// Deserializes from [`Term::Map`] only.
impl<'de> Deserialize<'de> for Map {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Map, D::Error> {
        Term::deserialize(deserializer)?
            .into_map()
            .map_err(|other| {
                de::Error::custom(format_args!(
                    "expected a map, found {}",
                    super::describe::describe(&other)
                ))
            })
    }
}

/// Serializes as [`Term::Record`]; see [`Term`]'s impl.
impl Serialize for Record {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Term::Record(Box::new(self.clone())).serialize(serializer)
    }
}

/// Deserializes from [`Term::Record`] only.
impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        match Term::deserialize(deserializer)?.into_record() {
            Ok(record) => Ok(*record),
            Err(other) => Err(de::Error::custom(format_args!(
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
        match Term::deserialize(deserializer)?.into_fun() {
            Ok(fun) => Ok(*fun),
            Err(other) => Err(de::Error::custom(format_args!(
                "expected a local fun, found {}",
                super::describe::describe(&other)
            ))),
        }
    }
}
