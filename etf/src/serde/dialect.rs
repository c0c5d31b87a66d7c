//! [`Dialect`]: whether the peer writes Erlang or Elixir, for the few
//! values the two spell differently.

/// The language of the code that reads the terms a [`Serializer`] writes;
/// it decides how `None` is written.
///
/// | Rust | [`Dialect::Erlang`] (the default) | [`Dialect::Elixir`] |
/// |------|-----------------------------------|---------------------|
/// | `None` | `undefined` | `nil` |
///
/// Everything else is the same in both: Elixir structs, keyword lists and
/// charlists are chosen by the Rust type (see
/// [`etf::serde::elixir`](super::elixir)), not by the dialect. Reading
/// needs no dialect: `undefined` and `nil` are both `None`.
///
/// [`Serializer`]: super::Serializer
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// Erlang conventions: `None` is `undefined`, as in records' defaults
    /// and OTP's own APIs.
    #[default]
    Erlang,
    /// Elixir conventions: `None` is `nil`, what Elixir code matches on
    /// and what struct fields default to.
    Elixir,
}

impl Dialect {
    /// The atom that stands for "no value" in this dialect.
    pub fn none_atom(self) -> &'static str {
        match self {
            Dialect::Erlang => "undefined",
            Dialect::Elixir => "nil",
        }
    }
}
