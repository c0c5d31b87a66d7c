//! The leaves of a term in Erlang syntax, written exactly as `Display`
//! writes them inside a term. For printers that walk the events of
//! [`crate::stream::Reader`] instead of building a [`crate::Term`] per value,
//! so that their output stays byte for byte what printing the term gives.
//!
//! Containers are left to the caller: a tuple is `{`, its elements joined by
//! `,`, then `}`; a map `#{`, `key => value` joined by `,`, then `}`; a
//! proper list whose elements are all integers for which [`is_printable`]
//! holds is a string (write it with [`write_string`]), any other list `[`,
//! its elements joined by `,`, then `]` (`|` before an improper tail).

use super::chars;
use std::fmt::{self, Write};

/// Writes an atom, quoted only where Erlang needs it (`ok`, `'Ok'`).
pub fn write_atom(out: &mut impl Write, text: &str) -> fmt::Result {
    chars::write_atom(out, text)
}

/// Writes a float as Erlang prints it: the shortest digits that read back
/// to the same value (`0.5`, `1.0e20`).
pub fn write_float(out: &mut impl Write, value: f64) -> fmt::Result {
    super::float::write_float(out, value)
}

/// Writes a binary (`<<"abc">>`, `<<"é"/utf8>>`, `<<1,2,3>>`).
pub fn write_binary(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    super::print::write_binary(out, bytes, None)
}

/// Writes a list of bytes, as a STRING_EXT holds it: a string when every
/// byte is printable, else `[1,2,3]`; `[]` when empty.
pub fn write_byte_list(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    super::print::write_byte_list(out, bytes)
}

/// Whether a list element with this integer value can be part of a string:
/// a list prints as a string when it is proper, not empty and every element
/// is such an integer (as `io_lib:printable_unicode_list/1` decides).
pub fn is_printable(code: i64) -> bool {
    u32::try_from(code).is_ok_and(chars::is_printable)
}

/// Writes a proper list of character codes as a string (`"abc"`). Each code
/// should be [`is_printable`]; one that is not is written escaped
/// (`\\x{D800}`), one that is not even a 32-bit code is skipped.
pub fn write_string(out: &mut impl Write, codes: &[i64]) -> fmt::Result {
    out.write_char('"')?;
    for &code in codes {
        if let Ok(code) = u32::try_from(code) {
            super::print::write_code(out, code, '"')?;
        }
    }
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Term;

    fn written(write: impl FnOnce(&mut String) -> fmt::Result) -> String {
        let mut out = String::new();
        assert!(write(&mut out).is_ok());
        out
    }

    #[test]
    fn leaves_print_as_their_terms_do() {
        for atom in [
            "ok", "Ok", "a b", "é", "receive", "receiver", "", "x@y_1", "it's", "日本",
        ] {
            let term = Term::Atom(crate::Atom::new(atom));
            assert_eq!(written(|o| write_atom(o, atom)), term.to_string(), "{atom}");
        }
        let binaries: [&[u8]; 6] = [
            b"",
            b"abc",
            b"a\"b\\c\n",
            "é".as_bytes(),
            &[255, 1],
            b"\x7f~ ",
        ];
        for bytes in binaries {
            let binary = Term::Binary(bytes.to_vec().into());
            assert_eq!(written(|o| write_binary(o, bytes)), binary.to_string());
            let list = Term::ByteList(bytes.to_vec());
            assert_eq!(written(|o| write_byte_list(o, bytes)), list.to_string());
        }
        for value in [0.5, 1.0e20, -0.0, 1.0 / 7.0, 123456789.0] {
            assert_eq!(
                written(|o| write_float(o, value)),
                Term::Float(value).to_string()
            );
        }
        let codes = [104, 233, 10, 34, 0x1F600];
        assert!(codes.iter().all(|&c| is_printable(c)));
        assert!(!is_printable(1) && !is_printable(-1) && !is_printable(0xD800));
        let list = Term::List(codes.iter().map(|&c| Term::Int(c)).collect());
        assert_eq!(written(|o| write_string(o, &codes)), list.to_string());
    }
}
