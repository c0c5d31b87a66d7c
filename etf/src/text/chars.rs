//! Character classes of Erlang's scanner and printer, shared by both sides so
//! that what the printer leaves unquoted or unescaped the parser reads back.

use std::fmt::{self, Write};

/// Words that `erl_scan` reserves: as atoms they must be quoted. `maybe` and
/// `else` are reserved since OTP 27 enabled the `maybe` expression; OTP 28
/// quotes them, and OTP 25 reads them quoted or not.
pub(crate) const RESERVED_WORDS: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case",
    "catch", "cond", "div", "else", "end", "fun", "if", "let", "maybe", "not", "of", "or",
    "orelse", "receive", "rem", "try", "when", "xor",
];

/// Whether `text` is one of [`RESERVED_WORDS`], by a `match` the compiler
/// turns into a switch on length and bytes (the printer asks it of every
/// atom).
fn is_reserved(text: &str) -> bool {
    matches!(
        text,
        "after"
            | "and"
            | "andalso"
            | "band"
            | "begin"
            | "bnot"
            | "bor"
            | "bsl"
            | "bsr"
            | "bxor"
            | "case"
            | "catch"
            | "cond"
            | "div"
            | "else"
            | "end"
            | "fun"
            | "if"
            | "let"
            | "maybe"
            | "not"
            | "of"
            | "or"
            | "orelse"
            | "receive"
            | "rem"
            | "try"
            | "when"
            | "xor"
    )
}

/// Reserved words that older releases read as plain atoms; the parser accepts
/// them unquoted.
pub(crate) const SOFT_RESERVED_WORDS: &[&str] = &["maybe", "else"];

/// Whether `c` may start an unquoted atom: a lowercase Latin-1 letter.
pub(crate) fn is_atom_start(c: char) -> bool {
    c.is_ascii_lowercase() || (('\u{df}'..='\u{ff}').contains(&c) && c != '\u{f7}')
}

/// Whether `c` may continue an unquoted atom or a variable: Latin-1 letters,
/// digits, `_` and `@`.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || c == '@'
        || (('\u{c0}'..='\u{ff}').contains(&c) && c != '\u{d7}' && c != '\u{f7}')
}

/// Whether `c` may start a variable: an uppercase Latin-1 letter or `_`.
pub(crate) fn is_variable_start(c: char) -> bool {
    c.is_ascii_uppercase() || c == '_' || (('\u{c0}'..='\u{de}').contains(&c) && c != '\u{d7}')
}

/// Whether `erl_scan` treats `c` as white space (every Latin-1 control or
/// space character).
pub(crate) fn is_whitespace(c: char) -> bool {
    c <= ' ' || ('\u{80}'..='\u{a0}').contains(&c)
}

/// Whether an atom must be quoted, as `io_lib:write_atom/1` decides.
pub(crate) fn atom_needs_quotes(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_ascii() {
        // The common case, decided on bytes.
        return match bytes.split_first() {
            Some((first, rest)) if first.is_ascii_lowercase() => {
                !rest
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@')
                    || is_reserved(text)
            }
            _ => true,
        };
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if is_atom_start(first) => {}
        _ => return true,
    }
    !chars.all(is_name_char) || is_reserved(text)
}

/// Whether a list element or binary character prints inside a string literal,
/// following `io_lib:printable_unicode_list/1`: graphic characters plus the
/// control characters with a letter escape.
pub(crate) fn is_printable(code: u32) -> bool {
    matches!(code,
        8..=13 | 27 | 32..=126 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..=0x10_FFFF)
}

/// The letter escape of a control character, as `io_lib` writes it.
fn letter_escape(c: char) -> Option<char> {
    Some(match c {
        '\u{8}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{b}' => 'v',
        '\u{c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '\u{7f}' => 'd',
        _ => return None,
    })
}

/// Writes one character of a quoted atom (`quote` = `'`) or string
/// (`quote` = `"`), escaped so that `erl_scan` reads it back.
pub(crate) fn write_quoted_char(out: &mut impl Write, c: char, quote: char) -> fmt::Result {
    if c == quote || c == '\\' {
        out.write_char('\\')?;
        return out.write_char(c);
    }
    if let Some(letter) = letter_escape(c) {
        out.write_char('\\')?;
        return out.write_char(letter);
    }
    let code = u32::from(c);
    if code < 0x20 || (0x80..0xA0).contains(&code) {
        write!(out, "\\{code:03o}")
    } else if is_printable(code) {
        out.write_char(c)
    } else {
        write!(out, "\\x{{{code:X}}}")
    }
}

/// Writes an atom, quoted only where Erlang needs it.
pub(crate) fn write_atom(out: &mut impl Write, text: &str) -> fmt::Result {
    if atom_needs_quotes(text) {
        write_quoted_atom(out, text)
    } else {
        out.write_str(text)
    }
}

/// Writes an atom between single quotes.
pub(crate) fn write_quoted_atom(out: &mut impl Write, text: &str) -> fmt::Result {
    out.write_char('\'')?;
    for c in text.chars() {
        write_quoted_char(out, c, '\'')?;
    }
    out.write_char('\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(text: &str) -> String {
        let mut out = String::new();
        write_atom(&mut out, text).unwrap();
        out
    }

    #[test]
    fn the_reserved_word_match_is_the_list() {
        for word in RESERVED_WORDS {
            assert!(is_reserved(word), "{word}");
            assert!(!is_reserved(&word[1..]) || RESERVED_WORDS.contains(&&word[1..]));
        }
        assert!(!is_reserved("ok"));
    }

    #[test]
    fn atoms_quote_like_io_lib() {
        let table = [
            ("ok", "ok"),
            ("a@b", "a@b"),
            ("node@host", "node@host"),
            ("ßa", "ßa"),
            ("aÀ", "aÀ"),
            ("a×", "'a×'"),
            ("Abc", "'Abc'"),
            ("_a", "'_a'"),
            ("", "''"),
            ("a b", "'a b'"),
            ("and", "'and'"),
            ("maybe", "'maybe'"),
            ("a.b", "'a.b'"),
            ("привет", "'привет'"),
            ("a\nb", "'a\\nb'"),
            ("\u{7f}", "'\\d'"),
            (
                "\u{1}\u{80}\u{9f}\u{1f}\u{ad}",
                "'\\001\\200\\237\\037\u{ad}'",
            ),
            ("a\"b'c", "'a\"b\\'c'"),
            ("\\", "'\\\\'"),
            ("\u{ffff}", "'\\x{FFFF}'"),
        ];
        for (text, printed) in table {
            assert_eq!(atom(text), printed, "atom {text:?}");
        }
    }
}
