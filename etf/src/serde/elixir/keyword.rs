//! Keyword lists: a struct's fields (or a map's entries) as
//! `[{key, Value}]`, Elixir's `[name: "x", age: 3]`.

use ::serde::de::{Deserializer, Visitor};
use ::serde::ser::Serializer;
use ::serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// The serde name of the newtype struct [`Keyword`] travels as; the
/// [`Serializer`](crate::serde::Serializer) and
/// [`Deserializer`](crate::serde::Deserializer) recognise it and write or
/// read the value inside as a keyword list. Any other format sees a
/// newtype struct and writes the value as it always does.
pub(crate) const KEYWORD: &str = "$etf::private::Keyword";

/// A struct (or map) written as a keyword list: its fields, in declaration
/// order, as pairs of an atom and the value, Elixir's
/// `[name: "x", age: 3]`, Erlang's `[{name, <<"x">>}, {age, 3}]`. That is
/// how Elixir and Erlang APIs take options.
///
/// Reading takes the pairs in any order; a key the struct does not know
/// is ignored (unless it denies unknown fields), and a key given twice is
/// serde's "duplicate field" error. A map's keys become atoms (strings
/// must then be at most 255 characters). For a list whose keys are not
/// known in advance, use `Vec<(Atom, T)>`, which is a keyword list as it
/// is. For a field, `#[serde(with = "etf::serde::elixir::keyword")]` does
/// the same without the wrapper.
///
/// ```
/// use etf::serde::elixir::Keyword;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Opts {
///     timeout: u32,
///     retry: bool,
/// }
///
/// let opts = Keyword(Opts { timeout: 500, retry: true });
/// let term = etf::serde::to_term(&opts)?;
/// assert_eq!(term.to_string(), "[{timeout,500},{retry,true}]");
/// let back: Keyword<Opts> = etf::serde::from_term(&etf::parse_term("[{retry,false},{timeout,5}]")?)?;
/// assert_eq!(back.0, Opts { timeout: 5, retry: false });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keyword<T>(pub T);

impl<T: Serialize> Serialize for Keyword<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Keyword<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keyword<T>, D::Error> {
        deserialize(deserializer).map(Keyword)
    }
}

/// Writes `value` (a struct or a map) as a keyword list; for
/// `#[serde(with = "etf::serde::elixir::keyword")]` on a field.
pub fn serialize<T: ?Sized + Serialize, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_newtype_struct(KEYWORD, value)
}

/// Reads a keyword list into `T` (a struct or a map); for
/// `#[serde(with = "etf::serde::elixir::keyword")]` on a field.
pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_newtype_struct(KEYWORD, Inside(PhantomData))
}

/// Reads the value inside the newtype struct.
struct Inside<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Inside<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a keyword list")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}
