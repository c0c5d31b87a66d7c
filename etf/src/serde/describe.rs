//! Short descriptions of terms for error messages ("the atom `foo`",
//! "a tuple of 3 elements"): enough to recognise the term, never its whole
//! text, so that an error stays small whatever the input.

use crate::Term;

/// The longest atom or binary text quoted in a description.
const MAX_QUOTED: usize = 32;

/// Describes `term` in a few words.
pub(crate) fn describe(term: &Term) -> String {
    match term {
        Term::Int(i) => format!("the integer {i}"),
        Term::BigInt(_) => "an integer beyond 64 bits".to_owned(),
        Term::Float(f) => format!("the float {f:?}"),
        Term::Atom(atom) => format!("the atom `{}`", clip(atom.as_str())),
        Term::Tuple(elems) => format!("a tuple of {} elements", elems.len()),
        Term::Nil => "the empty list".to_owned(),
        Term::List(elems) if elems.is_empty() => "the empty list".to_owned(),
        Term::List(elems) => format!("a list of {} elements", elems.len()),
        Term::ByteList(bytes) if bytes.is_empty() => "the empty list".to_owned(),
        Term::ByteList(bytes) => format!("a list of {} small integers", bytes.len()),
        Term::ImproperList(..) => "an improper list".to_owned(),
        Term::Map(map) => format!("a map of {} entries", map.entries.len()),
        Term::Binary(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => format!("the binary <<\"{}\">>", clip(text)),
            Err(_) => format!("a binary of {} bytes that is not UTF-8", bytes.len()),
        },
        Term::BitBinary(_) => "a bitstring".to_owned(),
        Term::Pid(_) => "a pid".to_owned(),
        Term::Port(_) => "a port".to_owned(),
        Term::Reference(_) => "a reference".to_owned(),
        Term::Export(_) => "an external fun".to_owned(),
        Term::Fun(_) => "a local fun".to_owned(),
        Term::Record(r) => format!(
            "the record #{}:{}{{}} of {} fields",
            clip(r.module()),
            clip(r.name()),
            r.len()
        ),
        Term::Local(_) => "a LOCAL_EXT term".to_owned(),
    }
}

/// `text`, cut to [`MAX_QUOTED`] characters with an ellipsis.
fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
