//! Short ways to write the terms Erlang code writes all the time: tagged
//! tuples (`{ok, V}`, `{error, R}`) and the [`term!`](crate::term!) macro,
//! in which atoms and binaries are told apart by how they are written.

use crate::term::Term;

impl Term {
    /// `{ok, Value}`.
    ///
    /// ```
    /// use etf::Term;
    /// assert_eq!(Term::ok(1).to_string(), "{ok,1}");
    /// ```
    pub fn ok(value: impl Into<Term>) -> Term {
        Term::tagged("ok", value)
    }

    /// `{error, Reason}`.
    ///
    /// ```
    /// use etf::Term;
    /// assert_eq!(Term::error(Term::atom("enoent")).to_string(), "{error,enoent}");
    /// ```
    pub fn error(reason: impl Into<Term>) -> Term {
        Term::tagged("error", reason)
    }

    /// `{Tag, Value}` with the atom `tag`.
    ///
    /// ```
    /// use etf::Term;
    /// assert_eq!(Term::tagged("reply", "hi").to_string(), r#"{reply,<<"hi">>}"#);
    /// ```
    pub fn tagged(tag: &str, value: impl Into<Term>) -> Term {
        Term::tuple(vec![Term::atom(tag), value.into()])
    }
}

/// Writes a term in a syntax close to Erlang's.
///
/// - a bare identifier is an atom: `ok`, `error`, `undefined`;
/// - `{a, b, ...}` is a tuple, `[a, b, ...]` a proper list;
/// - a literal goes through `Term::from`: `1`, `2.5`, `true`, and a string
///   literal `"text"` is a UTF-8 *binary* (`<<"text">>`), as Elixir strings
///   are, never an atom;
/// - any Rust expression in parentheses goes through `Term::from`: `(x)`,
///   `(-1)`, `(Term::atom("EXIT"))` for an atom that is not an identifier,
///   `(Term::charlist("abc"))` for an Erlang string.
///
/// ```
/// use etf::{term, Term};
///
/// let count = 3;
/// let t = term!({ok, [1, (count), "three", {nested, true}]});
/// assert_eq!(t.to_string(), r#"{ok,[1,3,<<"three">>,{nested,true}]}"#);
/// assert_eq!(term!({}), Term::tuple(vec![]));
/// assert_eq!(term!([]), Term::Nil);
/// ```
#[macro_export]
macro_rules! term {
    ({ $($element:tt),* $(,)? }) => {
        $crate::Term::tuple(::std::vec![$($crate::term!($element)),*])
    };
    ([ $($element:tt),* $(,)? ]) => {
        $crate::Term::list(::std::vec![$($crate::term!($element)),*])
    };
    (( $value:expr )) => {
        $crate::Term::from($value)
    };
    ($atom:ident) => {
        $crate::Term::atom(::std::stringify!($atom))
    };
    ($value:literal) => {
        $crate::Term::from($value)
    };
}

#[cfg(test)]
mod tests {
    use crate::Term;

    #[test]
    fn atoms_binaries_and_expressions_are_told_apart() {
        let reason = Term::atom("badarg");
        let t = term!({error, (reason.clone()), "badarg", badarg, [(-1), 2.5]});
        assert_eq!(
            t.to_string(),
            r#"{error,badarg,<<"badarg">>,badarg,[-1,2.5]}"#
        );
        assert_eq!(term!(true), Term::atom("true"));
        assert_eq!(Term::ok(term!([])).to_string(), "{ok,[]}");
    }
}
