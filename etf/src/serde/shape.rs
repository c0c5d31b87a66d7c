//! What a struct's serde name asks its term to be: a plain map, an OTP 29
//! native record (`#Module:Name`) or an Elixir struct (`%Module`).
//!
//! Both directions read the name the same way, so that a struct written
//! as one shape is read back only from that shape.

use crate::{Atom, Term};

/// The key of the module in an Elixir struct's map.
pub(crate) const STRUCT_KEY: &str = "__struct__";

/// The term a struct becomes.
#[derive(Clone, Debug)]
pub(crate) enum Shape {
    /// A map with atom keys (any other name).
    Map,
    /// A native record: module, name, exported flag (`#Module:Name`,
    /// `#Module:Name/exported`).
    Record(Atom, Atom, bool),
    /// An Elixir struct: a map with atom keys and `__struct__` naming
    /// the module (`%User`, `%MyApp.User`, `%Elixir.User`; `%:mod` for an
    /// Erlang module).
    Elixir(Atom),
}

/// The shape a struct's serde name asks for.
pub(crate) fn shape(name: &str) -> Shape {
    if let Some(rest) = name.strip_prefix('#') {
        let (rest, exported) = match rest.strip_suffix("/exported") {
            Some(rest) => (rest, true),
            None => (rest, false),
        };
        if let Some((module, name)) = rest.split_once(':') {
            return Shape::Record(Atom::new(module), Atom::new(name), exported);
        }
    }
    if let Some(rest) = name.strip_prefix('%') {
        if let Some(erlang) = rest.strip_prefix(':') {
            return Shape::Elixir(Atom::new(erlang));
        }
        if rest.starts_with("Elixir.") {
            return Shape::Elixir(Atom::new(rest));
        }
        if !rest.is_empty() {
            return Shape::Elixir(Atom::new(&format!("Elixir.{rest}")));
        }
    }
    Shape::Map
}

/// How Elixir writes a struct of `module`: `%User{}` for
/// `'Elixir.User'`, `%:mod{}` for an Erlang module.
pub(crate) fn struct_text(module: &Atom) -> String {
    match module.as_str().strip_prefix("Elixir.") {
        Some(alias) => format!("%{alias}{{}}"),
        None => format!("%:{}{{}}", module.as_str()),
    }
}

/// What stands where a struct of some module was expected: another
/// struct (`%Admin{}`), a map without `__struct__`, or another term.
pub(crate) fn describe_found(term: &Term) -> String {
    match term {
        Term::Map(map) => match map.get(&Term::Atom(Atom::new(STRUCT_KEY))) {
            Some(Term::Atom(module)) => struct_text(module),
            Some(other) => format!(
                "a map whose `{STRUCT_KEY}` is {}",
                super::describe::describe(other)
            ),
            None => format!("a map without `{STRUCT_KEY}`"),
        },
        other => super::describe::describe(other),
    }
}
