//! [`Deserializer`]: terms to Rust values, borrowing strings and bytes from
//! the term where the type allows.

use super::error::{Error, ErrorKind};
use super::raw::{handover, WHOLE_TERM};
use super::shape::{describe_found, shape, struct_text, Shape, STRUCT_KEY};
use crate::{Record, Term};
use ::serde::de::value::{BorrowedStrDeserializer, U8Deserializer};
use ::serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

/// A serde `Deserializer` that reads a borrowed [`Term`]; see the
/// [module documentation](super) for the mapping.
/// [`from_term`](super::from_term) is the usual way to use it.
#[derive(Clone, Copy, Debug)]
pub struct Deserializer<'de> {
    term: &'de Term,
    /// How many more levels of nesting may be entered (`usize::MAX`: no
    /// limit).
    depth: usize,
    /// How many levels (`Some`, newtypes) have been entered on this same
    /// term, without going into one of its elements.
    same: usize,
    /// The term is read as a keyword list (it is inside
    /// [`Keyword`](super::elixir::Keyword)).
    keyword: bool,
}

/// How many `Some` and newtype levels may wrap one another on one term. A
/// type such as `struct Chain(Option<Box<Chain>>)` would otherwise go on
/// reading the same term forever; real types nest a handful at most.
const MAX_SAME_TERM_LEVELS: usize = 128;

impl<'de> Deserializer<'de> {
    /// A deserializer reading `term`, without a nesting limit: terms of
    /// any depth convert, on a stack that grows on the heap as needed, and
    /// [`Term`] fields are copied whole, without recursion.
    pub fn new(term: &'de Term) -> Deserializer<'de> {
        Deserializer::with_max_depth(term, usize::MAX)
    }

    /// A deserializer reading `term` that enters at most `depth` levels of
    /// nesting (lists, tuples, maps, variants with fields, `Some` and
    /// newtypes count one each) and fails beyond with
    /// [`ErrorKind::TooDeep`]. Opt-in: [`Deserializer::new`] has no limit.
    /// A [`Term`] (or [`crate::Map`], [`crate::Pid`], ...) field is one
    /// value however deep it is: it is copied whole.
    pub fn with_max_depth(term: &'de Term, depth: usize) -> Deserializer<'de> {
        Deserializer {
            term,
            depth,
            same: 0,
            keyword: false,
        }
    }

    /// The nesting allowance left for what is inside this term.
    fn enter(&self) -> Result<usize, Error> {
        self.depth
            .checked_sub(1)
            .ok_or_else(|| ErrorKind::TooDeep.into())
    }

    /// The same term one level deeper (for `Some` and newtypes).
    fn inner(self) -> Result<Deserializer<'de>, Error> {
        if self.same >= MAX_SAME_TERM_LEVELS {
            return Err(ErrorKind::TooDeep.into());
        }
        Ok(Deserializer {
            term: self.term,
            depth: self.enter()?,
            same: self.same + 1,
            keyword: self.keyword,
        })
    }

    fn mismatch(&self, expected: &'static str) -> Error {
        Error::mismatch(expected, self.term)
    }

    /// The atom's text, if the term is an atom.
    fn atom(&self) -> Option<&'de str> {
        match self.term {
            Term::Atom(atom) => Some(atom.as_str()),
            _ => None,
        }
    }

    /// The elements of a proper list (including `[]`), or `None`.
    fn list(&self) -> Option<Elements<'de>> {
        match self.term {
            Term::Nil => Some(Elements::Terms([].iter())),
            Term::List(elems) => Some(Elements::Terms(elems.iter())),
            Term::ByteList(bytes) => Some(Elements::Bytes(bytes.iter())),
            _ => None,
        }
    }

    /// Visits an integer of any width with the visitor method that keeps
    /// its value, so that the visitor checks the range of its own type.
    fn integer<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Int(i) if *i >= 0 => visitor.visit_u64(i.unsigned_abs()),
            Term::Int(i) => visitor.visit_i64(*i),
            // Serde's visitors for 64-bit types take only the 64-bit visits.
            Term::BigInt(big) => {
                if let Ok(v) = u64::try_from(big) {
                    visitor.visit_u64(v)
                } else if let Ok(v) = i64::try_from(big) {
                    visitor.visit_i64(v)
                } else if let Ok(v) = u128::try_from(big) {
                    visitor.visit_u128(v)
                } else if let Ok(v) = i128::try_from(big) {
                    visitor.visit_i128(v)
                } else {
                    Err(self.mismatch("an integer of at most 128 bits"))
                }
            }
            _ => Err(self.mismatch("an integer")),
        }
    }
}

impl<'de> IntoDeserializer<'de, Error> for Deserializer<'de> {
    type Deserializer = Deserializer<'de>;

    fn into_deserializer(self) -> Deserializer<'de> {
        self
    }
}

/// Turns a charlist element into a `char`.
fn char_of(code: &Term) -> Option<char> {
    match code {
        Term::Int(i) => u32::try_from(*i).ok().and_then(char::from_u32),
        _ => None,
    }
}

impl<'de> de::Deserializer<'de> for Deserializer<'de> {
    type Error = Error;

    /// Self-describing formats' view, used by untagged enums, `flatten` and
    /// dynamic values such as `serde_json::Value`: integers, floats,
    /// `true`/`false` as booleans, `undefined`/`nil` as none, other atoms and
    /// UTF-8 binaries as strings, other binaries as bytes, lists and tuples
    /// as sequences, maps and native records (field names as keys) as maps.
    /// Other kinds have no serde equivalent and
    /// are an error here; a field of type [`Term`] or [`crate::Pid`] reads
    /// them.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Int(_) | Term::BigInt(_) => self.integer(visitor),
            Term::Float(f) => visitor.visit_f64(*f),
            Term::Atom(atom) => match atom.as_str() {
                "true" => visitor.visit_bool(true),
                "false" => visitor.visit_bool(false),
                "undefined" | "nil" => visitor.visit_none(),
                text => visitor.visit_borrowed_str(text),
            },
            Term::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => visitor.visit_borrowed_str(text),
                Err(_) => visitor.visit_borrowed_bytes(bytes),
            },
            Term::Tuple(elems) => {
                visit_elements(Elements::Terms(elems.iter()), 0, self.enter()?, visitor)
            }
            Term::Nil | Term::List(_) | Term::ByteList(_) => match self.list() {
                Some(elems) => visit_elements(elems, 0, self.enter()?, visitor),
                None => Err(self.mismatch("a list")),
            },
            Term::Map(map) => visitor.visit_map(MapAccess::new(&map.entries, self.enter()?)),
            Term::Record(record) => visitor.visit_map(RecordAccess::new(record, self.enter()?)),
            _ => Err(self.mismatch("a term with a serde equivalent")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.atom() {
            Some("true") => visitor.visit_bool(true),
            Some("false") => visitor.visit_bool(false),
            _ => Err(self.mismatch("`true` or `false`")),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.integer(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    /// A float, or an integer (Erlang code often writes `1` for `1.0`).
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Float(f) => visitor.visit_f64(*f),
            Term::Int(_) | Term::BigInt(_) => self.integer(visitor),
            _ => Err(self.mismatch("a float")),
        }
    }

    /// A code point, or a string of exactly one character.
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Term::Int(_) = self.term {
            return match char_of(self.term) {
                Some(c) => visitor.visit_char(c),
                None => Err(self.mismatch("a Unicode code point")),
            };
        }
        self.deserialize_str(visitor)
    }

    /// A UTF-8 binary or an atom (borrowed), or a charlist (copied).
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => visitor.visit_borrowed_str(text),
                Err(_) => Err(self.mismatch("a UTF-8 binary")),
            },
            Term::Atom(atom) => visitor.visit_borrowed_str(atom.as_str()),
            Term::ByteList(bytes) => {
                visitor.visit_string(bytes.iter().map(|&b| char::from(b)).collect())
            }
            Term::Nil => visitor.visit_borrowed_str(""),
            Term::List(codes) => match codes.iter().map(char_of).collect::<Option<String>>() {
                Some(text) => visitor.visit_string(text),
                None => Err(self.mismatch("a charlist")),
            },
            _ => Err(self.mismatch("a string (binary, charlist or atom)")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    /// A binary or a list of bytes (borrowed when the term has them as
    /// bytes).
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Binary(bytes) => visitor.visit_borrowed_bytes(bytes),
            Term::ByteList(bytes) => visitor.visit_borrowed_bytes(bytes),
            Term::Nil => visitor.visit_borrowed_bytes(&[]),
            Term::List(elems) => {
                let bytes = elems.iter().map(|e| match e {
                    Term::Int(i) => u8::try_from(*i).ok(),
                    _ => None,
                });
                match bytes.collect::<Option<Vec<u8>>>() {
                    Some(bytes) => visitor.visit_byte_buf(bytes),
                    None => Err(self.mismatch("a binary or a list of bytes")),
                }
            }
            _ => Err(self.mismatch("a binary")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    /// `undefined` (Erlang) and `nil` (Elixir) are `None`; anything else
    /// is `Some`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.atom() {
            Some("undefined" | "nil") => visitor.visit_none(),
            _ => {
                let inner = self.inner()?;
                super::grow(|| visitor.visit_some(inner))
            }
        }
    }

    /// `{}`, or `ok` (what Erlang functions return when there is nothing
    /// to return).
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Tuple(elems) if elems.is_empty() => visitor.visit_unit(),
            Term::Atom(atom) if atom.as_str() == "ok" => visitor.visit_unit(),
            _ => Err(self.mismatch("`{}` or `ok`")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == WHOLE_TERM {
            // A `Term` field: its copy is handed over whole.
            return handover::give(self.term, || visitor.visit_newtype_struct(self));
        }
        let mut inner = self.inner()?;
        if name == super::elixir::KEYWORD {
            inner.keyword = true;
        }
        super::grow(|| visitor.visit_newtype_struct(inner))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.list() {
            Some(elems) => visit_elements(elems, 0, self.enter()?, visitor),
            None => Err(self.mismatch("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Tuple(elems) if elems.len() == len => {
                visit_elements(Elements::Terms(elems.iter()), 0, self.enter()?, visitor)
            }
            Term::Tuple(elems) => Err(ErrorKind::TupleArity {
                expected: len,
                found: elems.len(),
            }
            .into()),
            _ => Err(self.mismatch("a tuple")),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    /// A map, or a native record as the map of its fields; a keyword list
    /// inside [`Keyword`](super::elixir::Keyword).
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.keyword {
            return match self.list() {
                Some(Elements::Terms(pairs)) => {
                    visitor.visit_map(KeywordAccess::new(pairs.as_slice(), self.enter()?))
                }
                // A list of small integers is a charlist, not pairs.
                _ => Err(self.mismatch("a keyword list")),
            };
        }
        match self.term {
            Term::Map(map) => visitor.visit_map(MapAccess::new(&map.entries, self.enter()?)),
            Term::Record(record) => visitor.visit_map(RecordAccess::new(record, self.enter()?)),
            _ => Err(self.mismatch("a map")),
        }
    }

    /// A map whose keys are the field names as atoms (or as binaries, as
    /// Elixir code decoding JSON makes). Other keys, such as Elixir's
    /// `__struct__`, are ignored unless the type denies unknown fields.
    ///
    /// A native record's fields are read the same way. A struct whose serde
    /// name is `#Module:Name` refuses a record of another module or name.
    ///
    /// A struct whose serde name is `%Module` (an Elixir struct) reads
    /// only a map whose `__struct__` is that module, and does not see the
    /// `__struct__` key. Inside [`Keyword`](super::elixir::Keyword), the
    /// fields are read from a keyword list.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.keyword {
            return self.deserialize_map(visitor);
        }
        match (self.term, shape(name)) {
            (Term::Record(record), Shape::Record(module, name, _))
                if *record.module() != module || *record.name() != name =>
            {
                Err(de::Error::custom(format_args!(
                    "expected the record #{module}:{name}{{}}, found {}",
                    super::describe::describe(self.term)
                )))
            }
            (term, Shape::Elixir(module)) => {
                let key = Term::Atom(crate::Atom::new(STRUCT_KEY));
                match term {
                    Term::Map(map) if map.get(&key) == Some(&Term::Atom(module.clone())) => {
                        let mut access = MapAccess::new(&map.entries, self.enter()?);
                        access.skip = Some(STRUCT_KEY);
                        visitor.visit_map(access)
                    }
                    _ => Err(ErrorKind::WrongStruct {
                        expected: struct_text(&module),
                        found: describe_found(term),
                    }
                    .into()),
                }
            }
            _ => self.deserialize_map(visitor),
        }
    }

    /// `variant` for a unit variant; `{variant, Value}`,
    /// `{variant, A, B, ...}` or `{variant, #{...}}` for the others.
    /// `Result` reads `{ok, Value}` and `{error, Reason}`, and the bare
    /// atoms `ok` and `error` as `Ok(())` and `Err(())`.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let bare = super::result::is_result(name, variants);
        let variant = |atom: &'de crate::Atom| {
            super::result::variant(name, variants, atom.as_str())
                .ok_or_else(|| self.mismatch(super::result::EXPECTED))
        };
        match self.term {
            Term::Atom(atom) => visitor.visit_enum(EnumAccess {
                variant: variant(atom)?,
                fields: &[],
                depth: self.depth,
                bare: bare.then_some(self.term),
            }),
            Term::Tuple(elems) => match elems.split_first() {
                Some((Term::Atom(atom), fields)) if !fields.is_empty() => {
                    visitor.visit_enum(EnumAccess {
                        variant: variant(atom)?,
                        fields,
                        depth: self.enter()?,
                        bare: None,
                    })
                }
                _ => Err(self.mismatch("an atom or a tuple tagged with an atom")),
            },
            _ => Err(self.mismatch("an atom or a tuple tagged with an atom")),
        }
    }

    /// A struct field's or variant's name: an atom or a UTF-8 binary, or
    /// its index as an integer.
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.term {
            Term::Atom(atom) => visitor.visit_borrowed_str(atom.as_str()),
            Term::Binary(_) => self.deserialize_str(visitor),
            Term::Int(_) => self.integer(visitor),
            _ => Err(self.mismatch("an atom naming a field or variant")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    /// ETF is a binary format; see [`Serializer`](super::Serializer).
    fn is_human_readable(&self) -> bool {
        false
    }
}

/// The elements of a list or tuple: terms, or the bytes of a
/// [`Term::ByteList`].
#[derive(Clone)]
enum Elements<'de> {
    Terms(std::slice::Iter<'de, Term>),
    Bytes(std::slice::Iter<'de, u8>),
}

/// Visits `elems` as a sequence and checks that the visitor took them all.
/// `first` is the position of the first element in its term, for error
/// paths (1 for a tuple variant's fields, after the tag).
fn visit_elements<'de, V: Visitor<'de>>(
    elems: Elements<'de>,
    first: usize,
    depth: usize,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut seq = SeqAccess {
        elems,
        index: first,
        depth,
    };
    let value = visitor.visit_seq(&mut seq)?;
    let left = match &seq.elems {
        Elements::Terms(terms) => terms.len(),
        Elements::Bytes(bytes) => bytes.len(),
    };
    if left == 0 {
        Ok(value)
    } else {
        Err(de::Error::invalid_length(
            seq.index - first + left,
            &"fewer elements",
        ))
    }
}

struct SeqAccess<'de> {
    elems: Elements<'de>,
    index: usize,
    /// The nesting allowance of the elements.
    depth: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let index = self.index;
        let value = match &mut self.elems {
            Elements::Terms(terms) => match terms.next() {
                Some(term) => {
                    let depth = self.depth;
                    super::grow(|| seed.deserialize(Deserializer::with_max_depth(term, depth)))
                }
                None => return Ok(None),
            },
            Elements::Bytes(bytes) => match bytes.next() {
                Some(&byte) => seed.deserialize(U8Deserializer::<Error>::new(byte)),
                None => return Ok(None),
            },
        };
        self.index += 1;
        value.map(Some).map_err(|e| e.at_index(index))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(match &self.elems {
            Elements::Terms(terms) => terms.len(),
            Elements::Bytes(bytes) => bytes.len(),
        })
    }
}

struct MapAccess<'de> {
    entries: std::slice::Iter<'de, (Term, Term)>,
    /// The nesting allowance of keys and values.
    depth: usize,
    /// An atom key not shown to the visitor (an Elixir struct's
    /// `__struct__`, checked before).
    skip: Option<&'static str>,
}

impl<'de> MapAccess<'de> {
    fn new(entries: &'de [(Term, Term)], depth: usize) -> MapAccess<'de> {
        MapAccess {
            entries: entries.iter(),
            depth,
            skip: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if let Some(skip) = self.skip {
            if let Some((Term::Atom(key), _)) = self.entries.as_slice().first() {
                if key.as_str() == skip {
                    self.entries.next();
                }
            }
        }
        match self.entries.as_slice().first() {
            Some((key, _)) => {
                super::grow(|| seed.deserialize(Deserializer::with_max_depth(key, self.depth)))
                    .map(Some)
                    .map_err(|e| e.at_key(key))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.entries.next() {
            Some((key, value)) => {
                super::grow(|| seed.deserialize(Deserializer::with_max_depth(value, self.depth)))
                    .map_err(|e| e.at_key(key))
            }
            None => Err(de::Error::custom(
                "next_value_seed called after the last entry",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A keyword list's pairs `{key, Value}` as map entries.
struct KeywordAccess<'de> {
    pairs: std::slice::Iter<'de, Term>,
    /// The position of the next pair, for error paths.
    index: usize,
    /// The nesting allowance of keys and values.
    depth: usize,
}

impl<'de> KeywordAccess<'de> {
    fn new(pairs: &'de [Term], depth: usize) -> KeywordAccess<'de> {
        KeywordAccess {
            pairs: pairs.iter(),
            index: 0,
            depth,
        }
    }
}

/// A keyword list's pair: its atom key and its value.
fn keyword_pair(term: &Term) -> Result<(&Term, &Term), Error> {
    match term {
        Term::Tuple(pair) => match pair.as_slice() {
            [key @ Term::Atom(_), value] => Ok((key, value)),
            _ => Err(Error::mismatch(
                "a pair `{key, Value}` with an atom key",
                term,
            )),
        },
        _ => Err(Error::mismatch(
            "a pair `{key, Value}` with an atom key",
            term,
        )),
    }
}

impl<'de> de::MapAccess<'de> for KeywordAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(pair) = self.pairs.as_slice().first() else {
            return Ok(None);
        };
        let (key, _) = keyword_pair(pair).map_err(|e| e.at_index(self.index))?;
        seed.deserialize(Deserializer::with_max_depth(key, self.depth))
            .map(Some)
            .map_err(|e| e.at_key(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some(pair) = self.pairs.next() else {
            return Err(de::Error::custom(
                "next_value_seed called after the last pair",
            ));
        };
        self.index += 1;
        let (key, value) = keyword_pair(pair)?;
        super::grow(|| seed.deserialize(Deserializer::with_max_depth(value, self.depth)))
            .map_err(|e| e.at_key(key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}

/// A native record's fields as map entries, the names as string keys.
struct RecordAccess<'de> {
    fields: std::iter::Zip<std::slice::Iter<'de, crate::Atom>, std::slice::Iter<'de, Term>>,
    /// The nesting allowance of the values.
    depth: usize,
}

impl<'de> RecordAccess<'de> {
    fn new(record: &'de Record, depth: usize) -> RecordAccess<'de> {
        RecordAccess {
            fields: record.field_names().iter().zip(record.values()),
            depth,
        }
    }
}

impl<'de> de::MapAccess<'de> for RecordAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.fields.clone().next() {
            Some((field, _)) => {
                let key: BorrowedStrDeserializer<'de, Error> =
                    BorrowedStrDeserializer::new(field.as_str());
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.fields.next() {
            Some((field, value)) => {
                super::grow(|| seed.deserialize(Deserializer::with_max_depth(value, self.depth)))
                    .map_err(|e| e.at_field(field))
            }
            None => Err(de::Error::custom(
                "next_value_seed called after the last field",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

/// A variant's name and the fields after it in the tuple.
struct EnumAccess<'de> {
    variant: &'de str,
    fields: &'de [Term],
    /// The nesting allowance of the fields.
    depth: usize,
    /// The bare atom, when it may stand for a newtype variant holding `()`
    /// (`ok` and `error` for `Result`).
    bare: Option<&'de Term>,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = Error;
    type Variant = VariantAccess<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantAccess<'de>), Error> {
        let name = seed.deserialize(BorrowedStrDeserializer::<Error>::new(self.variant))?;
        Ok((
            name,
            VariantAccess {
                fields: self.fields,
                depth: self.depth,
                bare: self.bare,
            },
        ))
    }
}

struct VariantAccess<'de> {
    fields: &'de [Term],
    depth: usize,
    bare: Option<&'de Term>,
}

/// What a bare `ok` or `error` holds: `()`, which reads from `{}`.
static UNIT: Term = Term::Tuple(Vec::new());

impl<'de> de::VariantAccess<'de> for VariantAccess<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.fields {
            [] => Ok(()),
            _ => Err(Error::new(ErrorKind::Mismatch {
                expected: "a bare atom for a unit variant",
                found: format!("a tuple of {} elements", self.fields.len() + 1),
            })),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        if let (Some(bare), []) = (self.bare, self.fields) {
            return seed
                .deserialize(Deserializer::with_max_depth(&UNIT, self.depth))
                .map_err(|_| {
                    Error::mismatch("a tuple `{Tag, Value}` (a bare tag holds `()`)", bare)
                });
        }
        match self.fields {
            [value] => {
                super::grow(|| seed.deserialize(Deserializer::with_max_depth(value, self.depth)))
                    .map_err(|e| e.at_index(1))
            }
            _ => Err(ErrorKind::TupleArity {
                expected: 2,
                found: self.fields.len() + 1,
            }
            .into()),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        if self.fields.len() != len {
            return Err(ErrorKind::TupleArity {
                expected: len + 1,
                found: self.fields.len() + 1,
            }
            .into());
        }
        visit_elements(Elements::Terms(self.fields.iter()), 1, self.depth, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.fields {
            [Term::Map(map)] => visitor
                .visit_map(MapAccess::new(&map.entries, self.depth))
                .map_err(|e| e.at_index(1)),
            [other] => Err(Error::mismatch("a map of the variant's fields", other)),
            _ => Err(ErrorKind::TupleArity {
                expected: 2,
                found: self.fields.len() + 1,
            }
            .into()),
        }
    }
}
