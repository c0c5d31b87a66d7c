//! The scanner: turns term text into tokens, with `nom` parsers for each
//! token class. Every token is scanned in time linear in its length.

use super::chars::{
    is_atom_start, is_name_char, is_variable_start, is_whitespace, RESERVED_WORDS,
    SOFT_RESERVED_WORDS,
};
use super::error::ParseErrorKind;
use crate::term::{Atom, Pid, Port, Reference};
use bytes::Bytes;
use nom::branch::alt;
use nom::bytes::complete::{take_till, take_while, take_while1, take_while_m_n};
use nom::character::complete::{char, digit1};
use nom::combinator::{opt, recognize};
use nom::error::ErrorKind;
use nom::multi::fold_many0;
use nom::sequence::{pair, preceded};
use nom::{IResult, Parser};
use num_bigint::BigInt;

/// The most characters an atom may have.
const MAX_ATOM_CHARS: usize = 255;

/// A token.
#[derive(Debug)]
pub(crate) enum Token {
    /// An integer, including a character literal `$c`.
    Int(Integer),
    /// A float.
    Float(f64),
    /// An atom, quoted or not.
    Atom(Atom),
    /// A string literal's characters.
    Str(String),
    /// The keyword `fun`.
    Fun,
    /// Another reserved word (`end`, `and`, …): an atom only when quoted.
    Reserved(&'static str),
    /// `#Pid<…>`.
    Pid(Pid),
    /// `#Port<…>`.
    Port(Port),
    /// `#Ref<…>`.
    Ref(Reference),
    /// `#Local<…>`.
    Local(Bytes),
    /// `#Fun<`, opening a local fun's fields.
    FunOpen,
    /// Punctuation.
    Punct(Punct),
    /// The end of the text.
    Eof,
}

/// An integer literal's value.
#[derive(Debug)]
pub(crate) enum Integer {
    /// Fits in an `i64`.
    Small(i64),
    /// Does not.
    Big(BigInt),
}

/// Punctuation tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Punct {
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `,`
    Comma,
    /// `|`
    Bar,
    /// `=>`
    Arrow,
    /// `=`, between a record field's name and its value.
    Equals,
    /// `#`
    Hash,
    /// `<<`
    BinOpen,
    /// `>>`
    BinClose,
    /// `>`, closing `#Fun<`.
    Gt,
    /// `:`
    Colon,
    /// `/`
    Slash,
    /// `-`
    Minus,
    /// `+`
    Plus,
    /// `.`, the end of a form.
    Dot,
}

impl Punct {
    /// The token's text.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Punct::LBracket => "[",
            Punct::RBracket => "]",
            Punct::LBrace => "{",
            Punct::RBrace => "}",
            Punct::Comma => ",",
            Punct::Bar => "|",
            Punct::Arrow => "=>",
            Punct::Equals => "=",
            Punct::Hash => "#",
            Punct::BinOpen => "<<",
            Punct::BinClose => ">>",
            Punct::Gt => ">",
            Punct::Colon => ":",
            Punct::Slash => "/",
            Punct::Minus => "-",
            Punct::Plus => "+",
            Punct::Dot => ".",
        }
    }
}

impl Token {
    /// How an error message names this token.
    pub(crate) fn describe(&self) -> String {
        match self {
            Token::Int(Integer::Small(value)) => format!("integer {value}"),
            Token::Int(Integer::Big(value)) => format!("integer {value}"),
            Token::Float(_) => "a float".to_owned(),
            Token::Atom(atom) => format!("atom {atom}"),
            Token::Str(_) => "a string".to_owned(),
            Token::Fun => "`fun`".to_owned(),
            Token::Reserved(word) => format!("reserved word `{word}`"),
            Token::Pid(_) => "a pid".to_owned(),
            Token::Port(_) => "a port".to_owned(),
            Token::Ref(_) => "a reference".to_owned(),
            Token::Local(_) => "a `#Local<…>` term".to_owned(),
            Token::FunOpen => "`#Fun<`".to_owned(),
            Token::Punct(punct) => format!("`{}`", punct.text()),
            Token::Eof => "end of input".to_owned(),
        }
    }
}

/// A scanning error: where (the rest of the text from that point) and, for a
/// committed failure, what.
#[derive(Debug)]
pub(crate) struct LexError<'a> {
    /// The text from the error on.
    pub(crate) at: &'a str,
    /// What went wrong; `None` when a sub-parser merely did not match.
    pub(crate) kind: Option<ParseErrorKind>,
}

impl<'a> nom::error::ParseError<&'a str> for LexError<'a> {
    fn from_error_kind(at: &'a str, _kind: ErrorKind) -> Self {
        LexError { at, kind: None }
    }

    fn append(_at: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type LexResult<'a, T> = IResult<&'a str, T, LexError<'a>>;

/// A committed failure at `at`.
fn fail<T>(at: &str, kind: ParseErrorKind) -> LexResult<'_, T> {
    Err(nom::Err::Failure(LexError {
        at,
        kind: Some(kind),
    }))
}

/// Skips white space and `%` comments.
pub(crate) fn skip_blank(input: &str) -> &str {
    if !input.starts_with(|c: char| c == '%' || is_whitespace(c)) {
        return input;
    }
    let comment = recognize(pair(char('%'), take_till(|c| c == '\n')));
    let blank = fold_many0(
        alt((take_while1(is_whitespace), comment)),
        || (),
        |(), _| (),
    );
    match recognize::<_, LexError<'_>, _>(blank).parse(input) {
        Ok((rest, _)) => rest,
        Err(_) => input,
    }
}

/// Scans one token at the start of `input` (no leading blanks).
pub(crate) fn token(input: &str) -> LexResult<'_, Token> {
    let Some(first) = input.chars().next() else {
        return Ok((input, Token::Eof));
    };
    match first {
        '0'..='9' => number(input),
        '$' => char_literal(input),
        '\'' => {
            let (rest, text) = quoted(input, '\'', "quoted atom")?;
            if text.chars().count() > MAX_ATOM_CHARS {
                return fail(input, ParseErrorKind::AtomTooLong);
            }
            Ok((rest, Token::Atom(Atom::from(text))))
        }
        '"' => {
            let (rest, text) = quoted(input, '"', "string")?;
            Ok((rest, Token::Str(text)))
        }
        '#' => hash(input),
        c if is_atom_start(c) => word(input),
        c if is_variable_start(c) => {
            let (_, name) = take_while1(is_name_char).parse(input)?;
            fail(input, ParseErrorKind::Variable(name.to_owned()))
        }
        _ => punct(input),
    }
}

/// Punctuation, longest match first (`>>` before `>`).
fn punct(input: &str) -> LexResult<'_, Token> {
    let (punct, len) = match input.as_bytes() {
        [b'<', b'<', ..] => (Punct::BinOpen, 2),
        [b'>', b'>', ..] => (Punct::BinClose, 2),
        [b'=', b'>', ..] => (Punct::Arrow, 2),
        [b'=', ..] => (Punct::Equals, 1),
        [b'[', ..] => (Punct::LBracket, 1),
        [b']', ..] => (Punct::RBracket, 1),
        [b'{', ..] => (Punct::LBrace, 1),
        [b'}', ..] => (Punct::RBrace, 1),
        [b',', ..] => (Punct::Comma, 1),
        [b'|', ..] => (Punct::Bar, 1),
        [b'>', ..] => (Punct::Gt, 1),
        [b':', ..] => (Punct::Colon, 1),
        [b'/', ..] => (Punct::Slash, 1),
        [b'-', ..] => (Punct::Minus, 1),
        [b'+', ..] => (Punct::Plus, 1),
        [b'.', ..] => (Punct::Dot, 1),
        _ => {
            return match input.chars().next() {
                Some(c) => fail(input, ParseErrorKind::UnexpectedChar(c)),
                None => Ok((input, Token::Eof)),
            }
        }
    };
    Ok((&input[len..], Token::Punct(punct)))
}

/// An unquoted atom, the keyword `fun` or another reserved word.
fn word(input: &str) -> LexResult<'_, Token> {
    let (rest, text) = take_while1(is_name_char).parse(input)?;
    if text == "fun" {
        return Ok((rest, Token::Fun));
    }
    if !SOFT_RESERVED_WORDS.contains(&text) {
        if let Some(word) = RESERVED_WORDS.iter().find(|word| **word == text) {
            return Ok((rest, Token::Reserved(word)));
        }
    }
    if text.chars().count() > MAX_ATOM_CHARS {
        return fail(input, ParseErrorKind::AtomTooLong);
    }
    Ok((rest, Token::Atom(Atom::new(text))))
}

/// Decimal digits with single `_` between them: `1_000`.
fn decimal(input: &str) -> LexResult<'_, &str> {
    let separated = fold_many0(pair(char('_'), digit1), || (), |(), _| ());
    recognize(pair(digit1, separated)).parse(input)
}

fn without_underscores(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('_') {
        text.replace('_', "").into()
    } else {
        text.into()
    }
}

/// An integer (`42`, `1_000`, `16#FF`) or a float (`1.5`, `1.0e-3`).
fn number(input: &str) -> LexResult<'_, Token> {
    // Most numbers are plain digits that fit an `i64`: read them at once.
    let len = input.bytes().take_while(u8::is_ascii_digit).count();
    if !matches!(input.as_bytes().get(len), Some(b'_' | b'.' | b'#')) {
        if let Ok(value) = input[..len].parse::<i64>() {
            return Ok((&input[len..], Token::Int(Integer::Small(value))));
        }
    }
    let (rest, int_part) = decimal(input)?;
    if let Some(after_hash) = rest.strip_prefix('#') {
        return based(input, int_part, after_hash);
    }
    // A float needs a digit right after the dot: `1.` is the integer 1 and
    // the end of the form.
    let fraction = preceded(char('.'), decimal);
    let exponent = recognize((
        alt((char('e'), char('E'))),
        opt(alt((char('+'), char('-')))),
        decimal,
    ));
    if let Ok((rest, _)) = recognize((fraction, opt(exponent))).parse(rest) {
        let digits = &input[..input.len() - rest.len()];
        return match without_underscores(digits).parse::<f64>() {
            Ok(value) if value.is_finite() => Ok((rest, Token::Float(value))),
            _ => fail(input, ParseErrorKind::FloatOutOfRange),
        };
    }
    let digits = without_underscores(int_part);
    let value = match digits.parse::<i64>() {
        Ok(value) => Integer::Small(value),
        Err(_) => match BigInt::parse_bytes(digits.as_bytes(), 10) {
            Some(value) => Integer::Big(value),
            None => return fail(input, ParseErrorKind::InvalidNumber("bad decimal digits")),
        },
    };
    Ok((rest, Token::Int(value)))
}

/// `Base#Digits`, with `input` at the base.
fn based<'a>(input: &'a str, base: &str, after_hash: &'a str) -> LexResult<'a, Token> {
    let base = match without_underscores(base).parse::<u32>() {
        Ok(base) if (2..=36).contains(&base) => base,
        _ => {
            return fail(
                input,
                ParseErrorKind::InvalidNumber("the base must be 2 to 36"),
            )
        }
    };
    let (rest, digits) = match based_digits(after_hash) {
        Ok(found) => found,
        Err(_) => {
            return fail(
                after_hash,
                ParseErrorKind::InvalidNumber("digits expected after `#`"),
            )
        }
    };
    // Erlang's scanner stops at the first character that is not a digit of
    // the base; a letter there could only be a syntax error, so report it.
    if let Some(bad) = digits.find(|c: char| c != '_' && !c.is_digit(base)) {
        return fail(
            &digits[bad..],
            ParseErrorKind::InvalidNumber("digit outside the base"),
        );
    }
    let digits = without_underscores(digits);
    let value = match i64::from_str_radix(&digits, base) {
        Ok(value) => Integer::Small(value),
        Err(_) => match BigInt::parse_bytes(digits.as_bytes(), base) {
            Some(value) => Integer::Big(value),
            None => {
                return fail(
                    after_hash,
                    ParseErrorKind::InvalidNumber("digit outside the base"),
                )
            }
        },
    };
    Ok((rest, Token::Int(value)))
}

/// Alphanumeric runs with single `_` between them.
fn based_digits(input: &str) -> LexResult<'_, &str> {
    let alnum = |i| take_while1(|c: char| c.is_ascii_alphanumeric()).parse(i);
    let separated = fold_many0(pair(char('_'), alnum), || (), |(), _| ());
    recognize(pair(alnum, separated)).parse(input)
}

/// `$c` or `$\escape`: a character code.
fn char_literal(input: &str) -> LexResult<'_, Token> {
    let after = &input[1..];
    let (rest, code) = match after.chars().next() {
        Some('\\') => escape(after)?,
        Some(c) => (&after[c.len_utf8()..], u32::from(c)),
        None => return fail(input, ParseErrorKind::Unterminated("character literal")),
    };
    Ok((rest, Token::Int(Integer::Small(i64::from(code)))))
}

/// A quoted atom or string, with `input` at the opening quote; returns its
/// characters with the escapes resolved.
fn quoted<'a>(input: &'a str, quote: char, what: &'static str) -> LexResult<'a, String> {
    let mut rest = &input[1..];
    let mut text = String::new();
    loop {
        let (after, plain) = take_till::<_, _, LexError<'_>>(|c| c == quote || c == '\\')
            .parse(rest)
            .unwrap_or((rest, ""));
        text.push_str(plain);
        rest = after;
        match rest.chars().next() {
            Some('\\') => {
                let (after, code) = escape(rest)?;
                match char::from_u32(code) {
                    Some(c) => text.push(c),
                    None => return fail(rest, ParseErrorKind::InvalidEscape),
                }
                rest = after;
            }
            Some(_) => return Ok((&rest[1..], text)),
            None => return fail(input, ParseErrorKind::Unterminated(what)),
        }
    }
}

/// A backslash escape, with `input` at the backslash; returns the code.
fn escape(input: &str) -> LexResult<'_, u32> {
    let after = &input[1..];
    let Some(c) = after.chars().next() else {
        return fail(input, ParseErrorKind::InvalidEscape);
    };
    let rest = &after[c.len_utf8()..];
    let code = match c {
        '0'..='7' => {
            // One to three octal digits; the first is already known good.
            let digits = after
                .char_indices()
                .take(3)
                .take_while(|(_, d)| d.is_digit(8))
                .last()
                .map_or(1, |(at, _)| at + 1);
            let code = after[..digits]
                .chars()
                .fold(0, |code, d| code * 8 + d.to_digit(8).unwrap_or(0));
            return Ok((&after[digits..], code));
        }
        'x' => return hex_escape(input, rest),
        '^' => match rest.chars().next() {
            Some(control) => return Ok((&rest[control.len_utf8()..], u32::from(control) & 31)),
            None => return fail(input, ParseErrorKind::InvalidEscape),
        },
        'b' => 8,
        'd' => 127,
        'e' => 27,
        'f' => 12,
        'n' => 10,
        'r' => 13,
        's' => 32,
        't' => 9,
        'v' => 11,
        other => u32::from(other),
    };
    Ok((rest, code))
}

/// `\xHH` or `\x{H…}`, with `rest` after the `x`.
fn hex_escape<'a>(input: &'a str, rest: &'a str) -> LexResult<'a, u32> {
    let hex = |c: char| c.is_ascii_hexdigit();
    let braced = (char('{'), take_while_m_n(1, 8, hex), char('}'));
    let parsed: LexResult<'_, &str> = alt((
        braced.map(|(_, digits, _)| digits),
        take_while_m_n(2, 2, hex),
    ))
    .parse(rest);
    match parsed {
        Ok((rest, digits)) => match u32::from_str_radix(digits, 16) {
            Ok(code) if code <= 0x10_FFFF => Ok((rest, code)),
            _ => fail(input, ParseErrorKind::InvalidEscape),
        },
        Err(_) => fail(input, ParseErrorKind::InvalidEscape),
    }
}

/// `#` alone, or one of the special forms `#Pid<…>`, `#Port<…>`, `#Ref<…>`,
/// `#Local<…>`, `#Fun<`.
fn hash(input: &str) -> LexResult<'_, Token> {
    let after = &input[1..];
    let (body, name) =
        match take_while::<_, _, LexError<'_>>(|c: char| c.is_ascii_alphabetic()).parse(after) {
            Ok((body, name)) if !name.is_empty() && body.starts_with('<') => (&body[1..], name),
            _ => return Ok((after, Token::Punct(Punct::Hash))),
        };
    match name {
        "Pid" => pid(input, body),
        "Port" => port(input, body),
        "Ref" => reference(input, body),
        "Local" => local(input, body),
        "Fun" => Ok((body, Token::FunOpen)),
        _ => fail(input, ParseErrorKind::UnexpectedChar('#')),
    }
}

/// The node name and the dot-separated numbers up to `>` of a special form.
fn node_and_numbers<'a>(
    input: &'a str,
    body: &'a str,
    form: &'static str,
) -> LexResult<'a, (Atom, Vec<u64>)> {
    let invalid = |problem| {
        nom::Err::Failure(LexError {
            at: input,
            kind: Some(ParseErrorKind::InvalidSpecial { form, problem }),
        })
    };
    let (rest, node) = match body.chars().next() {
        Some('\'') => {
            let (rest, text) = quoted(body, '\'', "quoted atom")?;
            (rest, Atom::from(text))
        }
        Some(c) if is_atom_start(c) => {
            let (rest, text) = take_while1(is_name_char).parse(body)?;
            (rest, Atom::new(text))
        }
        _ => return Err(invalid("expected the node name")),
    };
    if node.chars().count() > MAX_ATOM_CHARS {
        return fail(body, ParseErrorKind::AtomTooLong);
    }
    let mut numbers = Vec::new();
    let mut rest = rest;
    while let Some(after_dot) = rest.strip_prefix('.') {
        let (after, digits) = digit1::<_, LexError<'_>>(after_dot)
            .map_err(|_| invalid("expected a number after `.`"))?;
        let value = digits
            .parse::<u64>()
            .map_err(|_| invalid("a number is out of range"))?;
        if numbers.len() == 8 {
            return Err(invalid("too many fields"));
        }
        numbers.push(value);
        rest = after;
    }
    let rest = rest
        .strip_prefix('>')
        .ok_or_else(|| invalid("expected `.` or `>`"))?;
    Ok((rest, (node, numbers)))
}

fn to_u32<'a>(
    value: u64,
    input: &'a str,
    form: &'static str,
) -> Result<u32, nom::Err<LexError<'a>>> {
    u32::try_from(value).map_err(|_| {
        nom::Err::Failure(LexError {
            at: input,
            kind: Some(ParseErrorKind::InvalidSpecial {
                form,
                problem: "a field does not fit in 32 bits",
            }),
        })
    })
}

fn wrong_count<'a, T>(input: &'a str, form: &'static str) -> LexResult<'a, T> {
    fail(
        input,
        ParseErrorKind::InvalidSpecial {
            form,
            problem: "wrong number of fields",
        },
    )
}

fn pid<'a>(input: &'a str, body: &'a str) -> LexResult<'a, Token> {
    const FORM: &str = "`#Pid<'node'.Id.Serial.Creation>`";
    let (rest, (node, numbers)) = node_and_numbers(input, body, FORM)?;
    let &[id, serial, creation] = numbers.as_slice() else {
        return wrong_count(input, FORM);
    };
    let pid = Pid {
        node,
        id: to_u32(id, input, FORM)?,
        serial: to_u32(serial, input, FORM)?,
        creation: to_u32(creation, input, FORM)?,
    };
    Ok((rest, Token::Pid(pid)))
}

fn port<'a>(input: &'a str, body: &'a str) -> LexResult<'a, Token> {
    const FORM: &str = "`#Port<'node'.Id.Creation>`";
    let (rest, (node, numbers)) = node_and_numbers(input, body, FORM)?;
    let &[id, creation] = numbers.as_slice() else {
        return wrong_count(input, FORM);
    };
    let port = Port {
        node,
        id,
        creation: to_u32(creation, input, FORM)?,
    };
    Ok((rest, Token::Port(port)))
}

fn reference<'a>(input: &'a str, body: &'a str) -> LexResult<'a, Token> {
    const FORM: &str = "`#Ref<'node'.Id1.….IdN.Creation>`";
    let (rest, (node, numbers)) = node_and_numbers(input, body, FORM)?;
    let Some((&creation, ids)) = numbers.split_last() else {
        return wrong_count(input, FORM);
    };
    if !(1..=5).contains(&ids.len()) {
        return wrong_count(input, FORM);
    }
    let ids = ids
        .iter()
        .map(|&id| to_u32(id, input, FORM))
        .collect::<Result<Vec<_>, _>>()?;
    let reference = Reference {
        node,
        creation: to_u32(creation, input, FORM)?,
        ids,
    };
    Ok((rest, Token::Ref(reference)))
}

fn local<'a>(input: &'a str, body: &'a str) -> LexResult<'a, Token> {
    const FORM: &str = "`#Local<Hex>`";
    let (rest, hex) =
        take_while::<_, _, LexError<'_>>(|c: char| c.is_ascii_hexdigit()).parse(body)?;
    let Some(rest) = rest.strip_prefix('>') else {
        return fail(
            input,
            ParseErrorKind::InvalidSpecial {
                form: FORM,
                problem: "expected hex digits then `>`",
            },
        );
    };
    if hex.len() % 2 != 0 {
        return fail(
            input,
            ParseErrorKind::InvalidSpecial {
                form: FORM,
                problem: "expected whole bytes in hex",
            },
        );
    }
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|digits| u8::from_str_radix(digits, 16).ok())
        })
        .collect::<Option<Vec<u8>>>();
    match bytes {
        Some(bytes) => Ok((rest, Token::Local(Bytes::from(bytes)))),
        None => fail(
            input,
            ParseErrorKind::InvalidSpecial {
                form: FORM,
                problem: "expected whole bytes in hex",
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(text: &str) -> i64 {
        match token(text) {
            Ok((_, Token::Int(Integer::Small(value)))) => value,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn integers_in_every_erlang_form() {
        let table = [
            ("42", 42),
            ("1_000", 1000),
            ("16#FF", 255),
            ("16#ff_ff", 65535),
            ("2#1010", 10),
            ("36#zz", 1295),
            ("$a", 97),
            ("$\\n", 10),
            ("$\\s", 32),
            ("$\\101", 65),
            ("$\\x41", 65),
            ("$\\x{10FFFF}", 0x10_FFFF),
            ("$\\^A", 1),
            ("$\\^a", 1),
            ("$\\z", 122),
            ("$ ", 32),
            ("$é", 233),
        ];
        for (text, value) in table {
            assert_eq!(int(text), value, "{text}");
        }
    }

    #[test]
    fn strings_resolve_escapes() {
        let Ok((rest, Token::Str(text))) = token(r#""a\"b\\c\101\x{3b1}\x41\^Z\d\e\1234"x"#) else {
            panic!("string not scanned");
        };
        assert_eq!(text, "a\"b\\cA\u{3b1}A\u{1a}\u{7f}\u{1b}\u{53}4");
        assert_eq!(rest, "x");
    }
}
