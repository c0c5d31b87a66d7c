//! The fast path of streaming `encode`: the text of one element written
//! straight as ETF bytes, without a [`Term`](etf::Term) or a token per value.
//!
//! It reads the forms a dump is made of, in ASCII: unquoted and simple
//! quoted atoms, decimal integers that fit 64 bits, plain floats, strings
//! and binaries of printable characters without escapes, binaries of small
//! integers, and lists, tuples and maps of those. Anything else (an escape,
//! a comment, a pid, an improper list, a repeated map key, a character
//! outside ASCII, nesting past [`MAX_DEPTH`]...) makes it give up with
//! [`Outcome::Fallback`], and the element goes to the parser and encoder
//! of `etf`, which also report the errors. So the fast path never has to
//! be right about bad input, only about the good input it accepts: for
//! that, the bytes are those of `etf::parse_term` then `etf::encode_body`.
//!
//! Containers are written with a provisional header that is patched when
//! they close (a list of 1 to 65535 integers in `0..=255` is rewritten
//! as a STRING in place, a tuple past 255 elements gets the longer
//! header). Maps are written in text order, as the parser keeps them;
//! `deterministic` output, which sorts them, takes the fallback.

use etf::EncodeOptions;

/// Containers nested deeper than this inside one element take the fallback.
pub(super) const MAX_DEPTH: usize = 64;

/// ETF tags.
mod tag {
    pub(super) const NEW_FLOAT: u8 = 70;
    pub(super) const SMALL_INTEGER: u8 = 97;
    pub(super) const INTEGER: u8 = 98;
    pub(super) const ATOM: u8 = 100;
    pub(super) const SMALL_TUPLE: u8 = 104;
    pub(super) const LARGE_TUPLE: u8 = 105;
    pub(super) const NIL: u8 = 106;
    pub(super) const STRING: u8 = 107;
    pub(super) const LIST: u8 = 108;
    pub(super) const BINARY: u8 = 109;
    pub(super) const SMALL_BIG: u8 = 110;
    pub(super) const MAP: u8 = 116;
    pub(super) const SMALL_ATOM_UTF8: u8 = 119;
}

/// The ASCII text an element took, for the caller's line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Taken {
    /// Bytes of text, the element and the blanks before its delimiter.
    pub(super) len: usize,
    /// How many of them are `\n`.
    pub(super) newlines: usize,
    /// The offset just after the last `\n`, if any.
    pub(super) line_start: usize,
}

/// What [`Direct::element`] did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The element is encoded; a `,`, `|`, `]` or `}` follows it.
    Done(Taken),
    /// The text ends inside the element: try again with more.
    More,
    /// Not a form of the fast path: use the parser.
    Fallback,
}

/// A container open inside the element.
enum Open {
    /// Where its header starts; elements so far; whether all of them are
    /// integers in `0..=255`.
    List {
        at: usize,
        count: usize,
        bytes: bool,
    },
    Tuple {
        at: usize,
        count: usize,
    },
    Map(Box<OpenMap>),
}

struct OpenMap {
    at: usize,
    count: usize,
    /// Where the key being read (or the value after it) started.
    key_at: usize,
    /// [`Direct::marks`] when that key started.
    key_marks: u64,
    /// Whether the value of that key is being read.
    in_value: bool,
    /// Where this map's keys start in [`Direct::keys`].
    keys_from: usize,
    /// Whether a key holds a map or a float, whose bytes may differ for
    /// equal keys (`#{a => 1, b => 2}` and `#{b => 2, a => 1}`).
    odd_keys: bool,
}

/// Fast text-to-ETF encoding of elements; see the module documentation.
pub(super) struct Direct {
    /// 1 or 2: the atom form (minor version 0 never gets here).
    minor_version: u8,
    deterministic: bool,
    stack: Vec<Open>,
    /// The byte ranges of the keys of the open maps.
    keys: Vec<(usize, usize)>,
    /// Counts maps and floats written, to tell whether a key holds one.
    marks: u64,
}

/// The scanning position in one element's text.
struct Cursor<'t> {
    text: &'t [u8],
    at: usize,
    newlines: usize,
    line_start: usize,
}

/// Why reading stopped early.
enum Stop {
    More,
    Fallback,
}

type Step<T> = Result<T, Stop>;

impl<'t> Cursor<'t> {
    /// The byte at the position, or why there is none.
    #[inline(always)]
    fn byte(&self, eof: bool) -> Step<u8> {
        match self.text.get(self.at) {
            Some(&b) => Ok(b),
            None if eof => Err(Stop::Fallback),
            None => Err(Stop::More),
        }
    }

    /// Skips spaces, tabs and line ends, then gives the next byte.
    #[inline(always)]
    fn blank(&mut self, eof: bool) -> Step<u8> {
        loop {
            let b = self.byte(eof)?;
            match b {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\n' => {
                    self.at += 1;
                    self.newlines += 1;
                    self.line_start = self.at;
                }
                _ => return Ok(b),
            }
        }
    }

    /// How many bytes from the position satisfy `keep`.
    #[inline(always)]
    fn run(&self, keep: impl Fn(u8) -> bool) -> usize {
        self.text[self.at..]
            .iter()
            .position(|&b| !keep(b))
            .unwrap_or(self.text.len() - self.at)
    }
}

fn printable(b: u8) -> bool {
    (b' '..=b'~').contains(&b)
}

fn name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'@'
}

/// Words the lexer does not read as atoms.
fn reserved(word: &[u8]) -> bool {
    matches!(
        word,
        b"after"
            | b"and"
            | b"andalso"
            | b"band"
            | b"begin"
            | b"bnot"
            | b"bor"
            | b"bsl"
            | b"bsr"
            | b"bxor"
            | b"case"
            | b"catch"
            | b"cond"
            | b"div"
            | b"else"
            | b"end"
            | b"fun"
            | b"if"
            | b"let"
            | b"maybe"
            | b"not"
            | b"of"
            | b"or"
            | b"orelse"
            | b"receive"
            | b"rem"
            | b"try"
            | b"when"
            | b"xor"
    )
}

impl Direct {
    /// A fast path for these options, or `None` when they need what it
    /// does not write (minor version 0's text floats).
    pub(super) fn new(opts: &EncodeOptions) -> Option<Direct> {
        matches!(opts.minor_version, 1 | 2).then(|| Direct {
            minor_version: opts.minor_version,
            deterministic: opts.deterministic,
            stack: Vec::new(),
            keys: Vec::new(),
            marks: 0,
        })
    }

    /// Encodes the element at the start of `text` (the text read so far;
    /// `eof` when no more will come) into `out`, which is cleared first.
    pub(super) fn element(&mut self, text: &[u8], eof: bool, out: &mut Vec<u8>) -> Outcome {
        out.clear();
        self.stack.clear();
        self.keys.clear();
        let mut cur = Cursor {
            text,
            at: 0,
            newlines: 0,
            line_start: 0,
        };
        match self.run(&mut cur, eof, out) {
            Ok(()) => Outcome::Done(Taken {
                len: cur.at,
                newlines: cur.newlines,
                line_start: cur.line_start,
            }),
            Err(Stop::More) => Outcome::More,
            Err(Stop::Fallback) => Outcome::Fallback,
        }
    }

    fn run(&mut self, cur: &mut Cursor<'_>, eof: bool, out: &mut Vec<u8>) -> Step<()> {
        loop {
            // One value, or the opening of a container.
            let Some(byte) = self.value(cur, eof, out)? else {
                // A container was opened: its first element, or its close.
                // (`value` has handled the empty ones.)
                if self.stack.len() > MAX_DEPTH {
                    return Err(Stop::Fallback);
                }
                if let Some(Open::Map(map)) = self.stack.last_mut() {
                    map.key_at = out.len();
                    map.key_marks = self.marks;
                }
                continue;
            };
            // The value is complete: close containers while it completes
            // them, until one wants another value.
            let mut last_byte = byte;
            loop {
                let Some(open) = self.stack.last_mut() else {
                    // The element is done: a delimiter must follow.
                    return match cur.blank(eof)? {
                        b',' | b']' | b'}' | b'|' => Ok(()),
                        _ => Err(Stop::Fallback),
                    };
                };
                let next = cur.blank(eof)?;
                cur.at += 1;
                match open {
                    Open::List { at, count, bytes } => {
                        *count += 1;
                        *bytes &= last_byte;
                        match next {
                            b',' => break,
                            b']' => {
                                let (at, count, bytes) = (*at, *count, *bytes);
                                self.stack.pop();
                                close_list(out, at, count, bytes)?;
                            }
                            _ => return Err(Stop::Fallback),
                        }
                    }
                    Open::Tuple { at, count } => {
                        *count += 1;
                        match next {
                            b',' => break,
                            b'}' => {
                                let (at, count) = (*at, *count);
                                self.stack.pop();
                                close_tuple(out, at, count)?;
                            }
                            _ => return Err(Stop::Fallback),
                        }
                    }
                    Open::Map(map) => {
                        if !map.in_value {
                            if next != b'=' || cur.byte(eof)? != b'>' {
                                return Err(Stop::Fallback);
                            }
                            cur.at += 1;
                            self.keys.push((map.key_at, out.len()));
                            map.odd_keys |= self.marks != map.key_marks;
                            map.in_value = true;
                            break;
                        }
                        map.count += 1;
                        map.in_value = false;
                        match next {
                            b',' => {
                                map.key_at = out.len();
                                map.key_marks = self.marks;
                                break;
                            }
                            b'}' => {
                                let Some(Open::Map(map)) = self.stack.pop() else {
                                    return Err(Stop::Fallback);
                                };
                                self.close_map(out, &map)?;
                            }
                            _ => return Err(Stop::Fallback),
                        }
                    }
                }
                last_byte = false;
            }
        }
    }

    /// Reads one value at the position: a leaf is written whole
    /// (`Some(true)` if it is an integer in `0..=255`), a container is
    /// opened (`None`), its header written and a frame pushed; an empty
    /// container is written whole.
    fn value(&mut self, cur: &mut Cursor<'_>, eof: bool, out: &mut Vec<u8>) -> Step<Option<bool>> {
        let b = cur.blank(eof)?;
        match b {
            b'a'..=b'z' => {
                let len = cur.run(name_char);
                let word = &cur.text[cur.at..cur.at + len];
                cur.at += len;
                // A Latin-1 letter would continue the atom.
                if cur.byte(eof)? >= 0x80 || reserved(word) {
                    return Err(Stop::Fallback);
                }
                self.atom(word, out)?;
            }
            b'\'' => {
                cur.at += 1;
                let len = cur.run(|b| printable(b) && b != b'\'' && b != b'\\');
                cur.at += len;
                if cur.byte(eof)? != b'\'' {
                    return Err(Stop::Fallback);
                }
                let word = &cur.text[cur.at - len..cur.at];
                cur.at += 1;
                self.atom(word, out)?;
            }
            b'0'..=b'9' => return self.number(cur, eof, false, out).map(Some),
            b'-' => {
                cur.at += 1;
                if !cur.byte(eof)?.is_ascii_digit() {
                    return Err(Stop::Fallback);
                }
                return self.number(cur, eof, true, out).map(Some);
            }
            b'"' => {
                let chars = string(cur, eof)?;
                // Adjacent strings are one string: not for the fast path.
                if cur.blank(eof)? == b'"' {
                    return Err(Stop::Fallback);
                }
                match chars.len() {
                    0 => out.push(tag::NIL),
                    n @ 1..=0xFFFF => {
                        out.push(tag::STRING);
                        out.extend_from_slice(&(n as u16).to_be_bytes());
                        out.extend_from_slice(chars);
                    }
                    _ => return Err(Stop::Fallback),
                }
            }
            b'<' => {
                cur.at += 1;
                if cur.byte(eof)? != b'<' {
                    return Err(Stop::Fallback);
                }
                cur.at += 1;
                binary(cur, eof, out)?;
            }
            b'[' => {
                cur.at += 1;
                if cur.blank(eof)? == b']' {
                    cur.at += 1;
                    out.push(tag::NIL);
                } else {
                    let at = out.len();
                    out.extend_from_slice(&[tag::LIST, 0, 0, 0, 0]);
                    self.stack.push(Open::List {
                        at,
                        count: 0,
                        bytes: true,
                    });
                    return Ok(None);
                }
            }
            b'{' => {
                cur.at += 1;
                if cur.blank(eof)? == b'}' {
                    cur.at += 1;
                    out.extend_from_slice(&[tag::SMALL_TUPLE, 0]);
                } else {
                    let at = out.len();
                    out.extend_from_slice(&[tag::SMALL_TUPLE, 0]);
                    self.stack.push(Open::Tuple { at, count: 0 });
                    return Ok(None);
                }
            }
            b'#' => {
                cur.at += 1;
                if cur.byte(eof)? != b'{' || self.deterministic {
                    return Err(Stop::Fallback);
                }
                cur.at += 1;
                self.marks += 1;
                let at = out.len();
                out.extend_from_slice(&[tag::MAP, 0, 0, 0, 0]);
                if cur.blank(eof)? == b'}' {
                    cur.at += 1;
                } else {
                    self.stack.push(Open::Map(Box::new(OpenMap {
                        at,
                        count: 0,
                        key_at: out.len(),
                        key_marks: self.marks,
                        in_value: false,
                        keys_from: self.keys.len(),
                        odd_keys: false,
                    })));
                    return Ok(None);
                }
            }
            _ => return Err(Stop::Fallback),
        }
        Ok(Some(false))
    }

    /// An atom of ASCII `text`, as `etf` writes it for the minor version.
    fn atom(&self, text: &[u8], out: &mut Vec<u8>) -> Step<()> {
        let Ok(n) = u8::try_from(text.len()) else {
            return Err(Stop::Fallback);
        };
        if self.minor_version == 2 {
            out.extend_from_slice(&[tag::SMALL_ATOM_UTF8, n]);
        } else {
            out.extend_from_slice(&[tag::ATOM, 0, n]);
        }
        out.extend_from_slice(text);
        Ok(())
    }

    /// A decimal integer or a float, at its first digit (after any `-`).
    /// True for an integer in `0..=255`.
    fn number(
        &mut self,
        cur: &mut Cursor<'_>,
        eof: bool,
        negative: bool,
        out: &mut Vec<u8>,
    ) -> Step<bool> {
        let start = cur.at;
        cur.at += cur.run(|b| b.is_ascii_digit());
        match cur.byte(eof)? {
            b'_' | b'#' => return Err(Stop::Fallback),
            b'.' => {
                cur.at += 1;
                if cur.byte(eof)?.is_ascii_digit() {
                    return self.float(cur, eof, start, negative, out).map(|()| false);
                }
                // `1.` ends a form: the parser says what is wrong.
                return Err(Stop::Fallback);
            }
            _ => {}
        }
        let digits = &cur.text[start..cur.at];
        let Some(value) = parse_u63(digits) else {
            return Err(Stop::Fallback);
        };
        let value = if negative { -value } else { value };
        if let Ok(b) = u8::try_from(value) {
            out.extend_from_slice(&[tag::SMALL_INTEGER, b]);
            return Ok(true);
        }
        if let Ok(w) = i32::try_from(value) {
            out.push(tag::INTEGER);
            out.extend_from_slice(&w.to_be_bytes());
        } else {
            let magnitude = value.unsigned_abs().to_le_bytes();
            let n = 8 - magnitude.iter().rev().take_while(|&&b| b == 0).count();
            out.extend_from_slice(&[tag::SMALL_BIG, n as u8, u8::from(negative)]);
            out.extend_from_slice(&magnitude[..n]);
        }
        Ok(false)
    }

    /// The rest of a float whose text started at `start`, the position
    /// being just after its `.`.
    fn float(
        &mut self,
        cur: &mut Cursor<'_>,
        eof: bool,
        start: usize,
        negative: bool,
        out: &mut Vec<u8>,
    ) -> Step<()> {
        cur.at += cur.run(|b| b.is_ascii_digit());
        if matches!(cur.byte(eof)?, b'e' | b'E') {
            cur.at += 1;
            if matches!(cur.byte(eof)?, b'+' | b'-') {
                cur.at += 1;
            }
            let digits = cur.run(|b| b.is_ascii_digit());
            if digits == 0 {
                return Err(Stop::Fallback);
            }
            cur.at += digits;
        }
        if matches!(cur.byte(eof)?, b'_' | b'.' | b'#') || cur.byte(eof)?.is_ascii_alphanumeric() {
            return Err(Stop::Fallback);
        }
        let text = std::str::from_utf8(&cur.text[start..cur.at]).map_err(|_| Stop::Fallback)?;
        let value: f64 = text.parse().map_err(|_| Stop::Fallback)?;
        if !value.is_finite() {
            return Err(Stop::Fallback);
        }
        let value = if negative { -value } else { value };
        self.marks += 1;
        out.push(tag::NEW_FLOAT);
        out.extend_from_slice(&value.to_bits().to_be_bytes());
        Ok(())
    }

    /// Patches the count of a closed map, after checking that no key is
    /// repeated.
    fn close_map(&mut self, out: &mut [u8], map: &OpenMap) -> Step<()> {
        let keys = &self.keys[map.keys_from..];
        if keys.len() >= 2 {
            if map.odd_keys {
                return Err(Stop::Fallback);
            }
            let key = |&(from, to): &(usize, usize)| &out[from..to];
            let repeated = if keys.len() <= 16 {
                (1..keys.len()).any(|i| keys[..i].iter().any(|k| key(k) == key(&keys[i])))
            } else {
                let mut seen = std::collections::HashSet::with_capacity(keys.len());
                !keys.iter().all(|k| seen.insert(key(k)))
            };
            if repeated {
                return Err(Stop::Fallback);
            }
        }
        self.keys.truncate(map.keys_from);
        let count = u32::try_from(map.count).map_err(|_| Stop::Fallback)?;
        out[map.at + 1..map.at + 5].copy_from_slice(&count.to_be_bytes());
        Ok(())
    }
}

/// A decimal number without sign that fits an `i64`.
fn parse_u63(digits: &[u8]) -> Option<i64> {
    if digits.len() > 18 {
        return std::str::from_utf8(digits).ok()?.parse().ok();
    }
    Some(
        digits
            .iter()
            .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')),
    )
}

/// The characters of a string of printable ASCII without escapes, at its
/// opening quote; the position ends after the closing one.
fn string<'t>(cur: &mut Cursor<'t>, eof: bool) -> Step<&'t [u8]> {
    cur.at += 1;
    let len = cur.run(|b| printable(b) && b != b'"' && b != b'\\');
    cur.at += len;
    if cur.byte(eof)? != b'"' {
        return Err(Stop::Fallback);
    }
    cur.at += 1;
    Ok(&cur.text[cur.at - 1 - len..cur.at - 1])
}

/// A binary after its `<<`: empty, one string, or integers in `0..=255`.
fn binary(cur: &mut Cursor<'_>, eof: bool, out: &mut Vec<u8>) -> Step<()> {
    let at = out.len();
    out.extend_from_slice(&[tag::BINARY, 0, 0, 0, 0]);
    let mut b = cur.blank(eof)?;
    if b == b'"' {
        let chars = string(cur, eof)?;
        out.extend_from_slice(chars);
        b = cur.blank(eof)?;
    } else if b.is_ascii_digit() {
        loop {
            let len = cur.run(|b| b.is_ascii_digit());
            let digits = &cur.text[cur.at..cur.at + len];
            cur.at += len;
            let byte = match digits {
                [d] => d - b'0',
                _ => std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .ok_or(Stop::Fallback)?,
            };
            out.push(byte);
            b = cur.blank(eof)?;
            if b != b',' {
                break;
            }
            cur.at += 1;
            if !cur.blank(eof)?.is_ascii_digit() {
                return Err(Stop::Fallback);
            }
        }
    }
    if b != b'>' {
        return Err(Stop::Fallback);
    }
    cur.at += 1;
    if cur.byte(eof)? != b'>' {
        return Err(Stop::Fallback);
    }
    cur.at += 1;
    let len = u32::try_from(out.len() - at - 5).map_err(|_| Stop::Fallback)?;
    out[at + 1..at + 5].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Patches a closed list: a STRING when it is 1 to 65535 integers in
/// `0..=255` (each written as SMALL_INTEGER, two bytes), else a LIST.
fn close_list(out: &mut Vec<u8>, at: usize, count: usize, bytes: bool) -> Step<()> {
    if bytes && count <= 0xFFFF {
        out[at] = tag::STRING;
        out[at + 1..at + 3].copy_from_slice(&(count as u16).to_be_bytes());
        for i in 0..count {
            out[at + 3 + i] = out[at + 5 + 2 * i + 1];
        }
        out.truncate(at + 3 + count);
        return Ok(());
    }
    let count = u32::try_from(count).map_err(|_| Stop::Fallback)?;
    out[at + 1..at + 5].copy_from_slice(&count.to_be_bytes());
    out.push(tag::NIL);
    Ok(())
}

/// Patches a closed tuple's count; past 255 elements the header grows.
fn close_tuple(out: &mut Vec<u8>, at: usize, count: usize) -> Step<()> {
    match u8::try_from(count) {
        Ok(n) => out[at + 1] = n,
        Err(_) => {
            let count = u32::try_from(count).map_err(|_| Stop::Fallback)?;
            out[at] = tag::LARGE_TUPLE;
            let mut header = [0; 4];
            header.copy_from_slice(&count.to_be_bytes());
            out.splice(at + 1..at + 2, header);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `etf` writes for `text`.
    fn etf_bytes(text: &str, opts: &EncodeOptions) -> Vec<u8> {
        let term = etf::parse_term(text).expect("parses");
        let mut out = Vec::new();
        etf::encode_body(&term, &mut out, opts).expect("encodes");
        out
    }

    /// Runs the fast path on `text` followed by a delimiter.
    fn direct(text: &str, opts: &EncodeOptions) -> (Outcome, Vec<u8>) {
        let mut direct = Direct::new(opts).expect("a fast path");
        let mut out = Vec::new();
        let with_close = format!("{text}]");
        let outcome = direct.element(with_close.as_bytes(), true, &mut out);
        (outcome, out)
    }

    #[test]
    fn writes_what_parse_then_encode_write() {
        let texts = [
            "ok",
            "'EXIT'",
            "'hello world'",
            "'and'",
            "true",
            "node@host",
            "0",
            "255",
            "256",
            "-1",
            "2147483647",
            "-2147483648",
            "2147483648",
            "9223372036854775807",
            "-9223372036854775807",
            "0.5",
            "-0.0",
            "1.0e10",
            "2.5E-3",
            "0.14285714285714285",
            "\"\"",
            "\"abc\"",
            "\"a b,c]}\"",
            "<<>>",
            "<<\"user1\">>",
            "<< \"x\" >>",
            "<<1,2,255>>",
            "<<0, 10 ,200>>",
            "[]",
            "[a]",
            "[1,2,3]",
            "[1, 256]",
            "[1, a]",
            "[[1], 2]",
            "[-1]",
            "{}",
            "{a}",
            "{ok, {1, 2}, [x, \"y\"]}",
            "#{}",
            "#{a => 1}",
            "#{a => 1, b => #{c => [d]}, {x} => <<>>}",
            "#{active => false,id => 1,name => <<\"user1\">>,score => 0.14285714285714285,tags => [a,b]}",
            "#{1.0 => b}",
            "#{{1, 2} => a, {2, 1} => b}",
            "#{[1] => a, \"\\x01\" => b}",
            " \n\t{1,\r\n 2 }\n ",
        ];
        for minor in [1, 2] {
            let opts = EncodeOptions::new().minor_version(minor);
            for text in texts {
                let (outcome, out) = direct(text, &opts);
                if text.contains('\\') {
                    assert_eq!(outcome, Outcome::Fallback, "{text}");
                    continue;
                }
                assert!(matches!(outcome, Outcome::Done(_)), "{text}: {outcome:?}");
                assert_eq!(out, etf_bytes(text, &opts), "{text}");
            }
        }
    }

    #[test]
    fn writes_long_lists_strings_and_tuples() {
        let opts = EncodeOptions::new();
        let bytes: Vec<String> = (0..70_000).map(|i| (i % 256).to_string()).collect();
        for n in [1, 255, 256, 65_535, 65_536, 70_000] {
            for text in [
                format!("[{}]", bytes[..n].join(",")),
                format!("{{{}}}", bytes[..n].join(",")),
                format!("\"{}\"", "x".repeat(n.min(65_535))),
            ] {
                let (outcome, out) = direct(&text, &opts);
                assert!(matches!(outcome, Outcome::Done(_)), "{n}: {outcome:?}");
                assert_eq!(out, etf_bytes(&text, &opts), "{n}");
            }
        }
    }

    #[test]
    fn gives_up_on_what_it_does_not_read() {
        let opts = EncodeOptions::new();
        for text in [
            "fun",
            "'a\\'b'",
            "\"a\\nb\"",
            "\"a\" \"b\"",
            "\"é\"",
            "héllo",
            "16#FF",
            "1_000",
            "9223372036854775808",
            "-9223372036854775808",
            "1.0e400",
            "- 1",
            "$a",
            "<0.1.2>",
            "<<1:1>>",
            "<<\"a\"/utf8>>",
            "<<256>>",
            "<<\"a\", 1>>",
            "[1 | 2]",
            "[1, 2 | [3]]",
            "#{a => 1, a => 2}",
            "#{#{} => 1, b => 2}",
            "#{0.0 => 1, x => 2}",
            "#{1 => a, 1.0 => b}",
            "#rec{a = 1}",
            "% comment\n ok",
            "{ok % comment\n}",
            "1.",
            "X",
            "{ok ok}",
            "[1,,2]",
            "ok(",
        ] {
            assert_eq!(direct(text, &opts).0, Outcome::Fallback, "{text}");
        }
        let deterministic = EncodeOptions::new().deterministic(true);
        assert_eq!(direct("#{a => 1}", &deterministic).0, Outcome::Fallback);
        assert_eq!(
            direct("[a]", &deterministic).0,
            Outcome::Done(Taken {
                len: 3,
                newlines: 0,
                line_start: 0
            })
        );
        assert!(Direct::new(&EncodeOptions::new().minor_version(0)).is_none());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert_eq!(direct(&deep, &opts).0, Outcome::Fallback);
        let deep = format!("{}1{}", "{".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(matches!(direct(&deep, &opts).0, Outcome::Done(_)));
    }

    #[test]
    fn asks_for_more_until_the_element_and_its_delimiter_are_read() {
        let opts = EncodeOptions::new();
        let text = "#{a => [1, 2.5, <<\"x\">>], 'b c' => {-7, \"s\"}}\n ,";
        let mut direct = Direct::new(&opts).expect("a fast path");
        let mut out = Vec::new();
        for cut in 0..text.len() {
            let outcome = direct.element(&text.as_bytes()[..cut], false, &mut out);
            assert_eq!(outcome, Outcome::More, "cut at {cut}");
        }
        let outcome = direct.element(text.as_bytes(), false, &mut out);
        let len = text.len() - 1;
        assert_eq!(
            outcome,
            Outcome::Done(Taken {
                len,
                newlines: 1,
                line_start: len - 1
            })
        );
        assert_eq!(out, etf_bytes(&text[..len], &opts));
    }

    #[test]
    fn counts_line_ends() {
        let opts = EncodeOptions::new();
        let (outcome, _) = direct("{1,\n\n  2}", &opts);
        assert_eq!(
            outcome,
            Outcome::Done(Taken {
                len: 9,
                newlines: 2,
                line_start: 5
            })
        );
    }
}
