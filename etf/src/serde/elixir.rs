//! Elixir interop: structs, `nil`, keyword lists, charlists and tagged
//! tuples, for Rust types that talk to Elixir (and Erlang) code.
//!
//! The whole mapping, with what Elixir and Erlang write for each Rust
//! value (everything not listed is as in the [parent module](super)):
//!
//! | Rust | Elixir | Erlang |
//! |------|--------|--------|
//! | `#[serde(rename = "%User")] struct User { name: String }` | `%User{name: "x"}` | `#{'__struct__' => 'Elixir.User', name => <<"x">>}` |
//! | `struct Point { x: i64 }` (no rename) | `%{x: 1}` | `#{x => 1}` |
//! | `None` with [`to_term`] (here) | `nil` | `nil` |
//! | `None` with [`super::to_term`] | `:undefined` | `undefined` |
//! | `String` | `"abc"` | `<<"abc">>` |
//! | [`Charlist`], or `String` with `#[serde(with = "etf::serde::elixir::charlist")]` | `'abc'` (`~c"abc"`) | `"abc"` |
//! | [`Keyword`]`<T>` of a struct or map, or a field with `#[serde(with = "etf::serde::elixir::keyword")]` | `[timeout: 5, retry: true]` | `[{timeout, 5}, {retry, true}]` |
//! | `Vec<(Atom, T)>` | `[a: 1, a: 2]` (keys may repeat) | `[{a, 1}, {a, 2}]` |
//! | [`Atom`](crate::Atom) | `:ok` | `ok` |
//! | `Result<T, E>` | `{:ok, v}`, `{:error, reason}` | `{ok, V}`, `{error, Reason}` |
//! | `Result<(), E>` | `:ok`, `{:error, reason}` | `ok`, `{error, Reason}` |
//! | unit variant `Quit` with `#[serde(rename_all = "snake_case")]` | `:quit` | `quit` |
//! | newtype variant `UserReply(Card)` (`snake_case`) | `{:user_reply, card}` | `{user_reply, Card}` |
//! | tuple variant `Move(i32, i32)` | `{:move, 1, 2}` | `{move, 1, 2}` |
//! | struct variant `Set { key: String }` | `{:set, %{key: "k"}}` | `{set, #{key => <<"k">>}}` |
//! | `(A, B)`, tuple struct | `{a, b}` | `{A, B}` |
//! | `Vec<T>` | `[a, b]` | `[A, B]` |
//! | `bool` | `true`, `false` | `true`, `false` |
//! | `()` | `{}` | `{}` |
//!
//! # Structs
//!
//! A Rust struct whose serde name is `%Module` is an Elixir struct of that
//! module: written, its map gets `__struct__` (`%User` stands for
//! `Elixir.User`, `%MyApp.User` for `Elixir.MyApp.User`; `%:mod` names an
//! Erlang module as it is). Read, the module is checked: a map of another
//! struct, or a plain map, is an [`ErrorKind::WrongStruct`] naming both
//! (`expected %User{}, found %Admin{}`), and the `__struct__` key is not
//! one of the fields, so `#[serde(deny_unknown_fields)]` works. Field names
//! are the atom keys, as for every struct; nested structs, `Vec<User>` and
//! `Option<User>` need nothing more.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! #[serde(rename = "%MyApp.User")]
//! struct User {
//!     name: String,
//!     email: Option<String>,
//! }
//!
//! let user = User { name: "x".into(), email: None };
//! let term = etf::serde::elixir::to_term(&user)?;
//! // %MyApp.User{name: "x", email: nil}
//! assert_eq!(term, etf::parse_term(r#"#{'__struct__' => 'Elixir.MyApp.User', name => <<"x">>, email => nil}"#)?);
//! assert_eq!(etf::serde::from_term::<User>(&term)?, user);
//!
//! // A map of another struct, or without `__struct__`, is refused.
//! let admin = etf::parse_term(r#"#{'__struct__' => 'Elixir.Admin', name => <<"x">>, email => nil}"#)?;
//! let error = etf::serde::from_term::<User>(&admin).unwrap_err();
//! assert_eq!(error.to_string(), "expected %MyApp.User{}, found %Admin{}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Why a serde name and not a wrapper type (`Struct<User>`) or a trait
//! with the module as a constant: the name is one line on the type, and
//! then the type is an Elixir struct wherever it appears, in fields,
//! lists, options and messages, with no wrapper to write in every field
//! type, constructor and pattern. It is the convention this module already
//! uses for native records (`#Module:Name`), and other serde formats
//! ignore struct names, so the same type still goes to JSON unchanged.
//! A struct without the name still reads an Elixir struct's map (the
//! `__struct__` key is ignored then, unless it denies unknown fields).
//!
//! Elixir expects a struct's map to hold every field of the
//! `defstruct`: do not skip fields of a `%Module` struct. And
//! `#[serde(flatten)]` makes serde handle a struct as a plain map, so a
//! `%Module` struct with a flattened field gets no `__struct__` and is not
//! checked: spell such fields out.
//!
//! # `nil`
//!
//! [`to_term`] and [`to_vec`] here write `None` as `nil`, which Elixir code
//! matches on and struct fields default to; [`super::to_term`] writes
//! `undefined`, the Erlang convention. For a [`Serializer`] of your own,
//! [`Serializer::dialect`] with [`Dialect::Elixir`] does the same.
//!
//! Reading, `nil` and `undefined` are both `None` in every case: a term
//! from Elixir and one from Erlang read alike, with no option to get
//! wrong. The price is that an `Option` cannot hold the atom `nil` or
//! `undefined` itself (as `Some(Atom)` or as a unit variant named so):
//! those read as `None`.
//!
//! ```
//! let term = etf::serde::elixir::to_term(&(Some(1), None::<i32>))?;
//! assert_eq!(term.to_string(), "{1,nil}");
//! assert_eq!(etf::serde::to_term(&None::<i32>)?.to_string(), "undefined");
//! let back: (Option<i32>, Option<i32>) = etf::serde::from_term(&etf::parse_term("{nil,undefined}")?)?;
//! assert_eq!(back, (None, None));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Keyword lists
//!
//! [`Keyword`] (or `#[serde(with = "etf::serde::elixir::keyword")]` on a
//! field) writes a struct as a keyword list, its fields in declaration
//! order, and reads one in any order. For keys not known in advance,
//! `Vec<(Atom, T)>` is a keyword list as it is, repeated keys and order
//! kept.
//!
//! ```
//! use etf::Atom;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Start {
//!     name: String,
//!     #[serde(with = "etf::serde::elixir::keyword")]
//!     opts: Opts,
//! }
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Opts {
//!     timeout: u32,
//! }
//!
//! let start = Start { name: "kv".into(), opts: Opts { timeout: 5 } };
//! let term = etf::serde::to_term(&start)?;
//! assert_eq!(term, etf::parse_term(r#"#{name => <<"kv">>, opts => [{timeout, 5}]}"#)?);
//! assert_eq!(etf::serde::from_term::<Start>(&term)?, start);
//!
//! let any: Vec<(Atom, i64)> = etf::serde::from_term(&etf::parse_term("[{a,1},{b,2},{a,3}]")?)?;
//! assert_eq!(any[2], (Atom::new("a"), 3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Charlists
//!
//! A `String` is a binary, Elixir's `"abc"`. [`Charlist`] (or
//! `#[serde(with = "etf::serde::elixir::charlist")]` on a `String` field)
//! is a charlist, `'abc'`, as Erlang APIs often take.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Host {
//!     #[serde(with = "etf::serde::elixir::charlist")]
//!     name: String,
//! }
//!
//! let term = etf::serde::to_term(&Host { name: "ab".into() })?;
//! assert_eq!(term, etf::parse_term(r#"#{name => "ab"}"#)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Tagged tuples
//!
//! An enum is a set of tagged tuples, the variant's name the tag; with
//! `#[serde(rename_all = "snake_case")]` the tags are the atoms Elixir and
//! Erlang code uses. `Result` is `{ok, Value}` or `{error, Reason}`, and
//! `Ok(())` is the bare `ok` (also read from `{ok, {}}`).
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! #[serde(rename_all = "snake_case")]
//! enum Reply {
//!     UserReply(String),
//!     NotFound,
//! }
//!
//! let term = etf::serde::to_term(&Reply::UserReply("card".into()))?;
//! assert_eq!(term.to_string(), r#"{user_reply,<<"card">>}"#);
//!
//! let ok: Result<u32, String> = Ok(7);
//! assert_eq!(etf::serde::to_term(&ok)?.to_string(), "{ok,7}");
//! let saved: Result<(), Reply> = etf::serde::from_term(&etf::parse_term("ok")?)?;
//! assert_eq!(saved, Ok(()));
//! let failed: Result<(), Reply> = etf::serde::from_term(&etf::parse_term("{error,not_found}")?)?;
//! assert_eq!(failed, Err(Reply::NotFound));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`ErrorKind::WrongStruct`]: super::ErrorKind::WrongStruct
//! [`Serializer`]: super::Serializer
//! [`Serializer::dialect`]: super::Serializer::dialect
//! [`Dialect::Elixir`]: super::Dialect::Elixir

pub mod charlist;
pub mod keyword;

pub use charlist::Charlist;
pub use keyword::Keyword;
pub(crate) use keyword::KEYWORD;

use super::{Dialect, Error, Serializer};
use crate::Term;
use ::serde::Serialize;

/// Converts `value` to a term for Elixir: as [`super::to_term`], with
/// `None` written as `nil`.
pub fn to_term<T: ?Sized + Serialize>(value: &T) -> Result<Term, Error> {
    value.serialize(Serializer::new().dialect(Dialect::Elixir))
}

/// Converts `value` to the bytes of its term for Elixir (`None` as
/// `nil`), as [`crate::to_vec`] writes them.
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    Ok(crate::to_vec(&to_term(value)?)?)
}

/// Reads a `T` from `term`, as [`super::from_term`] does: reading needs no
/// Elixir option (`nil` is `None` everywhere).
pub fn from_term<'de, T: ::serde::Deserialize<'de>>(term: &'de Term) -> Result<T, Error> {
    super::from_term(term)
}

/// Decodes a term and reads a `T` from it, as [`super::from_slice`] does.
pub fn from_slice<T: ::serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    super::from_slice(bytes)
}
