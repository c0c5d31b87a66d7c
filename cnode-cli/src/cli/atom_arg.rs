//! Atom arguments (module, function, registered name): the text itself, or
//! an atom quoted as in Erlang (`"'Elixir.Enum'"`, `"'a b'"`), whose escapes
//! are read as Erlang reads them.

use super::node_error::NodeCliError;

/// The atom text of the argument `what`.
pub(crate) fn atom_arg(what: &'static str, text: &str) -> Result<String, NodeCliError> {
    if !text.starts_with('\'') {
        return Ok(text.to_owned());
    }
    let term = etf::parse_term(text).map_err(|source| NodeCliError::BadTerm {
        what,
        source: Box::new(source),
    })?;
    match term.as_atom() {
        Some(atom) => Ok(atom.as_str().to_owned()),
        None => Err(NodeCliError::NotAnAtom { what, given: term }),
    }
}

#[cfg(test)]
mod tests {
    use super::atom_arg;

    #[test]
    fn quoted_atoms_lose_their_quotes_and_keep_their_escapes() {
        let read = |text| atom_arg("MOD", text).ok();
        assert_eq!(read("lists").as_deref(), Some("lists"));
        assert_eq!(read("Elixir.Enum").as_deref(), Some("Elixir.Enum"));
        assert_eq!(read("'Elixir.Enum'").as_deref(), Some("Elixir.Enum"));
        assert_eq!(read(r"'a\'b'").as_deref(), Some("a'b"));
        assert_eq!(read("'unterminated"), None);
        assert_eq!(read("'a' 'b'"), None);
    }
}
