//! Rust values to and from terms through serde (feature `serde`).
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct User {
//!     name: String,
//!     age: u32,
//! }
//!
//! let user = User { name: "x".into(), age: 3 };
//! // The bytes of term_to_binary(#{name => <<"x">>, age => 3}).
//! let bytes = etf::serde::to_vec(&user)?;
//! assert_eq!(etf::serde::from_slice::<User>(&bytes)?, user);
//! # Ok::<(), etf::serde::Error>(())
//! ```
//!
//! # The mapping
//!
//! Chosen to give the terms Erlang and Elixir code writes by hand (the
//! [`elixir`] module has the table with Elixir's spelling, and more on
//! each Elixir mapping):
//!
//! | Rust | Erlang term | also accepted when deserializing |
//! |------|-------------|----------------------------------|
//! | `bool` | `true`, `false` | |
//! | integers, `i128`, `u128` | integer (a bignum beyond 64 bits) | |
//! | `f32`, `f64` | float; NaN and infinities are an error | integers |
//! | `char` | integer (the code point) | a one-character string |
//! | `String`, `&str` | UTF-8 binary | atom, charlist (`"abc"`, `[]`) |
//! | bytes (`serde_bytes`) | binary | list of bytes |
//! | [`elixir::Charlist`] | charlist `"abc"` (Elixir `'abc'`) | |
//! | `Option<T>` | `undefined` (`nil` with [`elixir::to_term`]), or the value itself | `nil` and `undefined` for `None` |
//! | `()`, unit struct | `{}` (the empty tuple, as `()` is in Rust) | `ok` |
//! | newtype struct `S(T)` | the value of `T` | |
//! | `Vec<T>`, sequences, sets | proper list | |
//! | tuples, tuple structs, arrays | tuple | |
//! | structs | map with atom keys `#{field => Value}` | binary keys; extra keys ignored; a native record |
//! | struct named `#Module:Name` | native record `#Module:Name{field = Value}` | a map |
//! | struct named `%Module` | Elixir struct `%Module{field: value}`: `#{'__struct__' => 'Elixir.Module', field => Value}` | only that module's struct |
//! | [`elixir::Keyword`] of a struct or map | keyword list `[{field, Value}]` | pairs in any order |
//! | `HashMap`, `BTreeMap` | map | |
//! | unit variant | atom `variant` | |
//! | newtype variant | `{variant, Value}` | |
//! | tuple variant | `{variant, A, B, ...}` | |
//! | struct variant | `{variant, #{field => Value}}` | |
//! | `Result<T, E>` | `{ok, Value}`, `{error, Reason}`; `ok`, `error` for `()` | `{ok, {}}` for `Ok(())` |
//! | [`Term`], [`Pid`], [`Port`], ... | the term itself, unchanged | |
//!
//! # Native records
//!
//! A struct whose serde name is `#Module:Name` becomes an OTP 29 native
//! record of that module and name, its fields in declaration order, which
//! must be the order of the Erlang definition (OTP 29 compares records field
//! by field in definition order, so `#nr:point{y = 2,x = 1}` is not its
//! `#nr:point{x = 1,y = 2}`). For a record its module exports
//! (`-export_record`), add `/exported` to the name: the flag is part of the
//! record, and OTP 29 tells the two apart. Skipped fields would leave the
//! record without them, so do not skip any.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! // -record #point{x = 0, y = 0}. in module nr
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! #[serde(rename = "#nr:point")]
//! struct Point {
//!     x: i64,
//!     y: i64,
//! }
//!
//! let term = etf::serde::to_term(&Point { x: 1, y: 2 })?;
//! assert_eq!(term.to_string(), "#nr:point{x = 1,y = 2}");
//! assert_eq!(etf::serde::from_term::<Point>(&term)?, Point { x: 1, y: 2 });
//! # Ok::<(), etf::serde::Error>(())
//! ```
//!
//! Reading, a record fills any struct as a map with the same keys would
//! (and any map type, field names as keys); a struct named `#Module:Name`
//! refuses a record of another module or name, and also reads a map.
//!
//! Names are used as Rust spells them: `#[serde(rename_all = "snake_case")]`
//! on an enum gives Erlang-style atoms (`Ok` becomes `ok`).
//!
//! Some Rust values meet on one term: `None` and the unit variant
//! `Undefined` are both `undefined` (and read back as `None` inside an
//! `Option`, as does `nil`), `Some(None)` cannot be told from `None`,
//! and `Vec<u8>` is a list of integers while `serde_bytes` gives a binary.
//! Both directions report `false` from `is_human_readable`, so types with a
//! compact form pick it: an `Ipv4Addr` becomes `{127,0,0,1}`, as `inet`
//! writes addresses.
//!
//! # Raw terms
//!
//! A field of type [`Term`] holds any term as it is, and one of type
//! [`Pid`], [`Port`], [`Reference`], [`Export`], [`Fun`], [`Atom`],
//! [`BitBinary`], [`Map`] or [`Record`] holds a term of that kind: through this module
//! they come back unchanged, representation included. They do so by travelling through serde as a
//! private enum that [`Serializer`] and [`Deserializer`] recognise (as
//! `serde_json::value::RawValue` does with a private struct); any other
//! format sees that enum, so a term also round-trips exactly through JSON,
//! as `{"Atom": "ok"}`, `{"Tuple": [...]}` and so on.
//!
//! Self-describing consumers (`#[serde(untagged)]`, `#[serde(flatten)]`,
//! `serde_json::Value`) see integers, floats, booleans, `undefined`/`nil` as
//! none, atoms and UTF-8 binaries as strings, other binaries as bytes, lists
//! and tuples as sequences, maps as maps and native records as maps of
//! their fields; pids and the other kinds
//! without a serde equivalent are an error there.
//!
//! [`Pid`]: crate::Pid
//! [`Port`]: crate::Port
//! [`Reference`]: crate::Reference
//! [`Export`]: crate::Export
//! [`Atom`]: crate::Atom
//! [`BitBinary`]: crate::BitBinary
//! [`Fun`]: crate::Fun
//! [`Map`]: crate::Map
//! [`Record`]: crate::Record

mod de;
mod describe;
mod dialect;
pub mod elixir;
mod error;
mod raw;
mod result;
mod ser;
mod shape;

pub use de::Deserializer;
pub use dialect::Dialect;
pub use error::{Error, ErrorKind};
pub use ser::{
    SerializeList, SerializeMap, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleVariant, Serializer,
};

use crate::Term;
use ::serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Runs `f`, first moving to a new stack segment on the heap if less than
/// [`RED_ZONE`] bytes of stack are left. serde's model is recursive (one
/// call per level of the value), so every place where a conversion goes
/// one level deeper goes through here: values of any depth then convert,
/// bounded by memory instead of the thread's stack.
#[inline]
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// The stack left below which [`grow`] moves to a new segment: more than
/// one level of serde calls takes, even in a debug build.
const RED_ZONE: usize = 128 << 10;

/// The size of each stack segment [`grow`] allocates.
const SEGMENT: usize = 2 << 20;

/// Converts `value` to a term.
///
/// Fails when the value has no term (a NaN or infinite float), or when its
/// `Serialize` impl fails or gives a map the same key twice.
pub fn to_term<T: ?Sized + Serialize>(value: &T) -> Result<Term, Error> {
    value.serialize(Serializer::new())
}

/// Reads a `T` from `term`, borrowing strings and bytes from it where `T`
/// allows (`&str` from binaries and atoms, `&[u8]` from binaries).
///
/// Fails when the term does not have the shape `T` needs; the error says
/// what was expected, what was found and where.
pub fn from_term<'de, T: Deserialize<'de>>(term: &'de Term) -> Result<T, Error> {
    T::deserialize(Deserializer::new(term))
}

/// Converts `value` to the bytes of its term, as [`crate::to_vec`] writes
/// them.
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    Ok(crate::to_vec(&to_term(value)?)?)
}

/// Decodes a term with [`crate::from_slice`] and reads a `T` from it.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    from_term(&crate::from_slice(bytes)?)
}
