//! The parser: tokens from the scanner assembled into a [`Term`].
//!
//! Nesting is tracked on an explicit stack of open containers instead of the
//! call stack, so no input can overflow the stack, and depth is bounded by
//! memory only unless [`ParseOptions::max_depth`] sets a limit.

use super::bits::{BitWriter, SegmentType, SegmentValue, Spec};
use super::error::{ParseError, ParseErrorKind};
use super::lex::{skip_blank, token, Integer, Punct, Token};
use crate::term::{Atom, BitBinary, Fun, Map, Record, Term};
use bytes::Bytes;
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;
use std::collections::HashSet;

/// Limits for [`ParseOptions::parse`].
#[derive(Clone, Debug)]
pub struct ParseOptions {
    max_depth: Option<usize>,
    max_binary_growth: usize,
}

impl Default for ParseOptions {
    fn default() -> ParseOptions {
        ParseOptions::new()
    }
}

impl ParseOptions {
    /// The default for [`ParseOptions::max_binary_growth`]: 16 MiB.
    pub const DEFAULT_MAX_BINARY_GROWTH: usize = 16 << 20;

    /// The default options.
    pub fn new() -> ParseOptions {
        ParseOptions {
            max_depth: None,
            max_binary_growth: Self::DEFAULT_MAX_BINARY_GROWTH,
        }
    }

    /// Limits how deeply lists, tuples, maps and funs may nest: deeper
    /// text fails with [`ParseErrorKind::TooDeep`]. Opt-in: by default
    /// depth is bounded only by memory, as for the decoder.
    pub fn max_depth(mut self, depth: usize) -> ParseOptions {
        self.max_depth = Some(depth);
        self
    }

    /// Sets how many bytes the binaries of one text may hold beyond the
    /// length of the text itself. Sized segments make more bytes than they
    /// take to write (`<<0:8000000>>` is 1 MB from 14 characters); past the
    /// limit the parse fails with [`ParseErrorKind::BinaryTooLarge`].
    pub fn max_binary_growth(mut self, bytes: usize) -> ParseOptions {
        self.max_binary_growth = bytes;
        self
    }

    /// Parses one term, as [`parse_term`] does, with these limits.
    pub fn parse(&self, text: &str) -> Result<Term, ParseError> {
        let mut parser = Parser {
            text,
            rest: text,
            peeked: None,
            max_depth: self.max_depth,
            binary_budget: text.len().saturating_add(self.max_binary_growth),
        };
        parser.parse_document()
    }
}

/// Parses one Erlang term from its text, such as `{ok, [1, 2.5, "abc"]}`.
///
/// Accepts the literal syntax of `erl_parse:parse_term/1` (integers in every
/// base, `$c` characters, floats, quoted and unquoted atoms, strings with
/// escapes and adjacent-string concatenation, lists, improper lists, tuples,
/// maps, binaries with integer, float and string segments, `fun M:F/A`) and
/// the printer's forms for pids, ports, references, local funs and LOCAL_EXT
/// terms (see the [crate documentation](crate)). White space and `%` comments
/// may surround tokens; a final `.` is optional. Nesting is not limited
/// (see [`ParseOptions::max_depth`]).
pub fn parse_term(text: &str) -> Result<Term, ParseError> {
    ParseOptions::new().parse(text)
}

impl std::str::FromStr for Term {
    type Err = ParseError;

    /// Parses Erlang term syntax with [`parse_term`].
    fn from_str(text: &str) -> Result<Term, ParseError> {
        parse_term(text)
    }
}

/// A container still open.
enum Frame {
    /// `[` elements so far, and how many `]` beyond its own close it: a
    /// tail that is itself a list (`[1 | [2, 3]]`) continues the same
    /// frame, so that a chain of tails costs neither depth nor copying.
    List(Vec<Term>, usize),
    /// `[ … |` awaiting the tail, and the `]` owed as for `List`.
    Tail(Vec<Term>, usize),
    /// `{` elements so far.
    Tuple(Vec<Term>),
    /// `#{` entries so far, and a key waiting for its value.
    Map(Vec<(Term, Term)>, Option<Term>),
    /// `#Fun<` fields so far, and where the form started.
    Fun(Vec<Term>, usize),
    /// `#Module:Name{` fields so far; the last name waits for its value.
    Record(Box<OpenRecord>),
}

/// A native record being read.
struct OpenRecord {
    module: Atom,
    name: Atom,
    fields: Vec<Atom>,
    values: Vec<Term>,
    /// Where the record starts, for errors about it as a whole.
    start: usize,
}

struct Parser<'a> {
    text: &'a str,
    rest: &'a str,
    peeked: Option<(usize, Token)>,
    max_depth: Option<usize>,
    binary_budget: usize,
}

impl<'a> Parser<'a> {
    fn offset_of(&self, rest: &str) -> usize {
        self.text.len() - rest.len()
    }

    fn error(&self, offset: usize, kind: ParseErrorKind) -> ParseError {
        ParseError::at(self.text, offset, kind)
    }

    fn expected(&self, offset: usize, expected: &'static str, found: &Token) -> ParseError {
        self.error(
            offset,
            ParseErrorKind::Expected {
                expected,
                found: found.describe(),
            },
        )
    }

    /// The next token and its offset.
    fn next(&mut self) -> Result<(usize, Token), ParseError> {
        if let Some(peeked) = self.peeked.take() {
            return Ok(peeked);
        }
        let start = skip_blank(self.rest);
        let offset = self.offset_of(start);
        match token(start) {
            Ok((rest, token)) => {
                self.rest = rest;
                Ok((offset, token))
            }
            Err(nom::Err::Error(error) | nom::Err::Failure(error)) => {
                let at = self.offset_of(error.at);
                let kind = error.kind.unwrap_or_else(|| {
                    ParseErrorKind::UnexpectedChar(error.at.chars().next().unwrap_or(' '))
                });
                Err(self.error(at, kind))
            }
            Err(nom::Err::Incomplete(_)) => {
                Err(self.error(offset, ParseErrorKind::Unterminated("token")))
            }
        }
    }

    fn peek(&mut self) -> Result<&Token, ParseError> {
        if self.peeked.is_none() {
            let next = self.next()?;
            self.peeked = Some(next);
        }
        match &self.peeked {
            Some((_, token)) => Ok(token),
            None => Err(self.error(self.text.len(), ParseErrorKind::Unterminated("token"))),
        }
    }

    /// Consumes the next token if it is `punct`.
    fn eat(&mut self, punct: Punct) -> Result<bool, ParseError> {
        if matches!(self.peek()?, Token::Punct(p) if *p == punct) {
            self.peeked = None;
            return Ok(true);
        }
        Ok(false)
    }

    /// The whole text: one term, an optional `.`, then nothing.
    fn parse_document(&mut self) -> Result<Term, ParseError> {
        let term = self.parse_value()?;
        self.eat(Punct::Dot)?;
        let (offset, token) = self.next()?;
        match token {
            Token::Eof => Ok(term),
            other => Err(self.expected(offset, "end of input", &other)),
        }
    }

    fn push_frame(
        &mut self,
        stack: &mut Vec<Frame>,
        frame: Frame,
        offset: usize,
    ) -> Result<(), ParseError> {
        if let Some(limit) = self.max_depth {
            if stack.len() >= limit {
                return Err(self.error(offset, ParseErrorKind::TooDeep(limit)));
            }
        }
        stack.push(frame);
        Ok(())
    }

    /// One term. Containers are kept on an explicit stack.
    fn parse_value(&mut self) -> Result<Term, ParseError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            if let Some(value) = self.start_value(&mut stack)? {
                if let Some(term) = self.feed(&mut stack, value)? {
                    return Ok(term);
                }
            }
        }
    }

    /// Reads the start of a value: a whole term without children, or the
    /// opening of a container, which goes on the stack (`None`).
    fn start_value(&mut self, stack: &mut Vec<Frame>) -> Result<Option<Term>, ParseError> {
        let (offset, token) = self.next()?;
        let value = match token {
            Token::Int(int) => int_term(int),
            Token::Float(value) => Term::Float(value),
            Token::Atom(atom) => Term::Atom(atom),
            Token::Str(text) => string_term(self.adjacent_strings(text)?),
            Token::Pid(pid) => Term::Pid(pid),
            Token::Port(port) => Term::Port(port),
            Token::Ref(reference) => Term::Reference(reference),
            Token::Local(bytes) => Term::Local(bytes),
            Token::Fun => self.export()?,
            Token::Punct(sign @ (Punct::Minus | Punct::Plus)) => self.signed_number(sign)?,
            Token::Punct(Punct::LBracket) => {
                if self.eat(Punct::RBracket)? {
                    Term::Nil
                } else {
                    self.push_frame(stack, Frame::List(Vec::new(), 0), offset)?;
                    return Ok(None);
                }
            }
            Token::Punct(Punct::LBrace) => {
                if self.eat(Punct::RBrace)? {
                    Term::Tuple(Vec::new())
                } else {
                    self.push_frame(stack, Frame::Tuple(Vec::new()), offset)?;
                    return Ok(None);
                }
            }
            Token::Punct(Punct::Hash) => {
                let (brace_at, brace) = self.next()?;
                if let Token::Atom(module) = brace {
                    return self.record_start(stack, module, offset);
                }
                if !matches!(brace, Token::Punct(Punct::LBrace)) {
                    return Err(self.expected(
                        brace_at,
                        "`{` or a record's module after `#`",
                        &brace,
                    ));
                }
                if self.eat(Punct::RBrace)? {
                    Term::Map(Map::new())
                } else {
                    self.push_frame(stack, Frame::Map(Vec::new(), None), offset)?;
                    return Ok(None);
                }
            }
            Token::Punct(Punct::BinOpen) => self.binary()?,
            Token::FunOpen => {
                self.push_frame(stack, Frame::Fun(Vec::new(), offset), offset)?;
                return Ok(None);
            }
            Token::Reserved(word) => {
                return Err(self.error(offset, ParseErrorKind::ReservedWord(word.to_owned())))
            }
            other => return Err(self.expected(offset, "a term", &other)),
        };
        Ok(Some(value))
    }

    /// Hands a finished value to the innermost open container, closing
    /// containers for as long as the value completes them. Returns the whole
    /// term once no container is left open, or `None` when the open container
    /// needs another value.
    fn feed(
        &mut self,
        stack: &mut Vec<Frame>,
        mut value: Term,
    ) -> Result<Option<Term>, ParseError> {
        loop {
            let Some(frame) = stack.last_mut() else {
                return Ok(Some(value));
            };
            match frame {
                Frame::List(items, owed) => {
                    items.push(value);
                    let (offset, token) = self.next()?;
                    match token {
                        Token::Punct(Punct::Comma) => return Ok(None),
                        Token::Punct(Punct::Bar) => {
                            if !self.eat(Punct::LBracket)? {
                                let items = std::mem::take(items);
                                *frame = Frame::Tail(items, *owed);
                                return Ok(None);
                            }
                            // `| [`: the tail is a list; `| []` ends this one.
                            let owed = *owed + 1;
                            if !self.eat(Punct::RBracket)? {
                                if let Some(Frame::List(_, o)) = stack.last_mut() {
                                    *o = owed;
                                }
                                return Ok(None);
                            }
                            self.closing_brackets(owed)?;
                            value = Term::List(take_list(stack));
                        }
                        Token::Punct(Punct::RBracket) => {
                            let owed = *owed;
                            self.closing_brackets(owed)?;
                            value = Term::List(take_list(stack));
                        }
                        other => return Err(self.expected(offset, "`,`, `|` or `]`", &other)),
                    }
                }
                Frame::Tail(items, owed) => {
                    let (offset, token) = self.next()?;
                    if !matches!(token, Token::Punct(Punct::RBracket)) {
                        return Err(self.expected(offset, "`]` after the tail of a list", &token));
                    }
                    let (items, owed) = (std::mem::take(items), *owed);
                    stack.pop();
                    self.closing_brackets(owed)?;
                    value = Term::improper_list(items, value);
                }
                Frame::Tuple(items) => {
                    items.push(value);
                    let (offset, token) = self.next()?;
                    match token {
                        Token::Punct(Punct::Comma) => return Ok(None),
                        Token::Punct(Punct::RBrace) => {
                            let items = std::mem::take(items);
                            stack.pop();
                            value = Term::Tuple(items);
                        }
                        other => return Err(self.expected(offset, "`,` or `}`", &other)),
                    }
                }
                Frame::Map(entries, pending) => match pending.take() {
                    None => {
                        let (offset, token) = self.next()?;
                        if !matches!(token, Token::Punct(Punct::Arrow)) {
                            return Err(self.expected(offset, "`=>`", &token));
                        }
                        *pending = Some(value);
                        return Ok(None);
                    }
                    Some(key) => {
                        entries.push((key, value));
                        let (offset, token) = self.next()?;
                        match token {
                            Token::Punct(Punct::Comma) => return Ok(None),
                            Token::Punct(Punct::RBrace) => {
                                let entries = std::mem::take(entries);
                                stack.pop();
                                value = Term::Map(map_of(entries));
                            }
                            other => return Err(self.expected(offset, "`,` or `}`", &other)),
                        }
                    }
                },
                Frame::Record(record) => {
                    record.values.push(value);
                    let (offset, token) = self.next()?;
                    match token {
                        Token::Punct(Punct::Comma) => {
                            let field = self.field_name()?;
                            record.fields.push(field);
                            return Ok(None);
                        }
                        Token::Punct(Punct::RBrace) => match stack.pop() {
                            Some(Frame::Record(record)) => value = self.record_term(*record)?,
                            // Not reached: the frame matched above is the top.
                            _ => {
                                return Err(
                                    self.error(offset, ParseErrorKind::Unterminated("record"))
                                )
                            }
                        },
                        other => return Err(self.expected(offset, "`,` or `}`", &other)),
                    }
                }
                Frame::Fun(fields, start) => {
                    fields.push(value);
                    let start = *start;
                    let (offset, token) = self.next()?;
                    match token {
                        Token::Punct(Punct::Comma) => return Ok(None),
                        Token::Punct(Punct::Gt) => {
                            let fields = std::mem::take(fields);
                            stack.pop();
                            value = fun_term(fields)
                                .map_err(|problem| self.error(start, fun_error(problem)))?;
                        }
                        other => return Err(self.expected(offset, "`,` or `>`", &other)),
                    }
                }
            }
        }
    }

    /// Reads the `]` owed by a list whose tails were lists.
    fn closing_brackets(&mut self, owed: usize) -> Result<(), ParseError> {
        for _ in 0..owed {
            let (offset, token) = self.next()?;
            if !matches!(token, Token::Punct(Punct::RBracket)) {
                return Err(self.expected(offset, "`]` after the tail of a list", &token));
            }
        }
        Ok(())
    }

    /// After `#Module`: `:Name{`, then `}` (a record without fields) or
    /// the first field's name and `=`, its value coming next.
    fn record_start(
        &mut self,
        stack: &mut Vec<Frame>,
        module: Atom,
        start: usize,
    ) -> Result<Option<Term>, ParseError> {
        self.punct(Punct::Colon, "`:` after a record's module")?;
        let (offset, token) = self.next()?;
        let Token::Atom(name) = token else {
            return Err(self.expected(offset, "a record's name", &token));
        };
        self.punct(Punct::LBrace, "`{` after a record's name")?;
        let mut record = OpenRecord {
            module,
            name,
            fields: Vec::new(),
            values: Vec::new(),
            start,
        };
        if self.eat(Punct::RBrace)? {
            return self.record_term(record).map(Some);
        }
        record.fields.push(self.field_name()?);
        self.push_frame(stack, Frame::Record(Box::new(record)), start)?;
        Ok(None)
    }

    /// A record field's name and the `=` after it.
    fn field_name(&mut self) -> Result<Atom, ParseError> {
        let (offset, token) = self.next()?;
        let Token::Atom(field) = token else {
            return Err(self.expected(offset, "a record field's name", &token));
        };
        self.punct(Punct::Equals, "`=` after a record field's name")?;
        Ok(field)
    }

    /// The record read. Not exported: the text does not show the flag.
    fn record_term(&self, record: OpenRecord) -> Result<Term, ParseError> {
        let OpenRecord {
            module,
            name,
            fields,
            values,
            start,
        } = record;
        Record::from_columns(module, name, false, fields, values)
            .map(Term::from)
            .map_err(|dup| {
                self.error(
                    start,
                    ParseErrorKind::DuplicateRecordField(dup.field.as_str().to_owned()),
                )
            })
    }

    /// Appends any string literals that follow `text` directly.
    fn adjacent_strings(&mut self, mut text: String) -> Result<String, ParseError> {
        while matches!(self.peek()?, Token::Str(_)) {
            if let Some((_, Token::Str(more))) = self.peeked.take() {
                text.push_str(&more);
            }
        }
        Ok(text)
    }

    /// A number after a unary `-` or `+`.
    fn signed_number(&mut self, sign: Punct) -> Result<Term, ParseError> {
        let (offset, token) = self.next()?;
        let negate = sign == Punct::Minus;
        match token {
            Token::Int(int) if negate => Ok(int_term(negate_int(int))),
            Token::Int(int) => Ok(int_term(int)),
            Token::Float(value) => Ok(Term::Float(if negate { -value } else { value })),
            other => Err(self.expected(offset, "a number after the sign", &other)),
        }
    }

    /// `fun Module:Function/Arity`, after `fun`. The names may be reserved
    /// words without quotes, as `io_lib` prints them (`fun m:'end'/0` comes
    /// out as `fun m:end/0`).
    fn export(&mut self) -> Result<Term, ParseError> {
        let module = self.export_name("the module of `fun M:F/A`")?;
        self.punct(Punct::Colon, "`:`")?;
        let function = self.export_name("the function of `fun M:F/A`")?;
        self.punct(Punct::Slash, "`/`")?;
        let (offset, token) = self.next()?;
        let arity = match &token {
            Token::Int(Integer::Small(arity)) => u8::try_from(*arity).ok(),
            _ => None,
        };
        match arity {
            Some(arity) => Ok(Term::Export(crate::term::Export {
                module,
                function,
                arity,
            })),
            None => Err(self.expected(offset, "an arity from 0 to 255", &token)),
        }
    }

    fn export_name(&mut self, expected: &'static str) -> Result<Atom, ParseError> {
        match self.next()? {
            (_, Token::Atom(atom)) => Ok(atom),
            (_, Token::Reserved(word)) => Ok(Atom::new(word)),
            (_, Token::Fun) => Ok(Atom::new("fun")),
            (offset, other) => Err(self.expected(offset, expected, &other)),
        }
    }

    fn punct(&mut self, punct: Punct, expected: &'static str) -> Result<(), ParseError> {
        match self.next()? {
            (_, Token::Punct(p)) if p == punct => Ok(()),
            (offset, other) => Err(self.expected(offset, expected, &other)),
        }
    }

    /// A binary literal, after `<<`.
    fn binary(&mut self) -> Result<Term, ParseError> {
        let mut writer = BitWriter::new(self.binary_budget);
        if !self.eat(Punct::BinClose)? {
            loop {
                let (offset, token) = self.next()?;
                let value = match token {
                    Token::Int(int) => SegmentValue::Int(int),
                    Token::Float(value) => SegmentValue::Float(value),
                    Token::Str(text) => SegmentValue::Str(self.adjacent_strings(text)?),
                    Token::Punct(sign @ (Punct::Minus | Punct::Plus)) => {
                        match &mut self.signed_number(sign)? {
                            Term::Int(value) => SegmentValue::Int(Integer::Small(*value)),
                            Term::BigInt(value) => {
                                SegmentValue::Int(Integer::Big(std::mem::take(value)))
                            }
                            Term::Float(value) => SegmentValue::Float(*value),
                            _ => {
                                return Err(self.error(
                                    offset,
                                    ParseErrorKind::InvalidSegment("a number was expected"),
                                ))
                            }
                        }
                    }
                    other => {
                        return Err(self.expected(
                            offset,
                            "an integer, float or string segment",
                            &other,
                        ))
                    }
                };
                let size = if self.eat(Punct::Colon)? {
                    Some(self.segment_size()?)
                } else {
                    None
                };
                let spec = if self.eat(Punct::Slash)? {
                    self.type_specifiers()?
                } else {
                    Spec::default()
                };
                writer
                    .push(value, size, spec)
                    .map_err(|kind| self.error(offset, kind))?;
                let (offset, token) = self.next()?;
                match token {
                    Token::Punct(Punct::Comma) => {}
                    Token::Punct(Punct::BinClose) => break,
                    other => return Err(self.expected(offset, "`,` or `>>`", &other)),
                }
            }
        }
        let (bytes, bits) = writer.finish();
        self.binary_budget = self.binary_budget.saturating_sub(bytes.len());
        Ok(if bits == 0 {
            Term::Binary(Bytes::from(bytes))
        } else {
            Term::BitBinary(BitBinary {
                bytes: Bytes::from(bytes),
                bits,
            })
        })
    }

    fn segment_size(&mut self) -> Result<u64, ParseError> {
        let (offset, token) = self.next()?;
        match &token {
            Token::Int(Integer::Small(size)) => u64::try_from(*size)
                .map_err(|_| self.error(offset, ParseErrorKind::InvalidSegment("negative size"))),
            Token::Int(Integer::Big(_)) => {
                Err(self.error(offset, ParseErrorKind::InvalidSegment("size too large")))
            }
            _ => Err(self.expected(offset, "a segment size", &token)),
        }
    }

    /// `Type-Type-…` after `/`.
    fn type_specifiers(&mut self) -> Result<Spec, ParseError> {
        let mut spec = Spec::default();
        loop {
            let (offset, token) = self.next()?;
            let Token::Atom(name) = &token else {
                return Err(self.expected(offset, "a type specifier", &token));
            };
            match name.as_str() {
                "integer" => spec.kind = SegmentType::Integer,
                "float" => spec.kind = SegmentType::Float,
                "binary" | "bytes" => spec.kind = SegmentType::Binary,
                "bitstring" | "bits" => spec.kind = SegmentType::Bitstring,
                "utf8" => spec.kind = SegmentType::Utf8,
                "utf16" => spec.kind = SegmentType::Utf16,
                "utf32" => spec.kind = SegmentType::Utf32,
                "signed" | "unsigned" | "big" | "native" => {}
                "little" => spec.little = true,
                "unit" => {
                    self.punct(Punct::Colon, "`:` after `unit`")?;
                    let unit = self.segment_size()?;
                    match u32::try_from(unit) {
                        Ok(unit @ 1..=256) => spec.unit = Some(unit),
                        _ => {
                            return Err(self.error(
                                offset,
                                ParseErrorKind::InvalidSegment("unit must be 1 to 256"),
                            ))
                        }
                    }
                }
                _ => {
                    return Err(self.error(
                        offset,
                        ParseErrorKind::InvalidSegment("unknown type specifier"),
                    ))
                }
            }
            if !self.eat(Punct::Minus)? {
                return Ok(spec);
            }
        }
    }
}

/// Pops the innermost frame, a list, and returns its elements.
fn take_list(stack: &mut Vec<Frame>) -> Vec<Term> {
    match stack.pop() {
        Some(Frame::List(items, _) | Frame::Tail(items, _)) => items,
        _ => Vec::new(),
    }
}

fn negate_int(int: Integer) -> Integer {
    match int {
        Integer::Small(value) => match value.checked_neg() {
            Some(negated) => Integer::Small(negated),
            None => Integer::Big(-BigInt::from(value)),
        },
        Integer::Big(value) => Integer::Big(-value),
    }
}

/// An integer term, `Int` whenever the value fits.
fn int_term(int: Integer) -> Term {
    match int {
        Integer::Small(value) => Term::Int(value),
        Integer::Big(value) => match value.to_i64() {
            Some(small) => Term::Int(small),
            None => Term::BigInt(value),
        },
    }
}

/// A string literal's term: `[]`, a byte list, or a list of code points.
fn string_term(text: String) -> Term {
    if text.is_empty() {
        Term::Nil
    } else if text.chars().all(|c| u32::from(c) <= 0xFF) {
        Term::ByteList(text.chars().map(|c| u32::from(c) as u8).collect())
    } else {
        Term::List(
            text.chars()
                .map(|c| Term::Int(i64::from(u32::from(c))))
                .collect(),
        )
    }
}

/// A map of the entries of a literal. As in Erlang, a repeated key keeps
/// its last value; found through hashing, so linear on average.
fn map_of(entries: Vec<(Term, Term)>) -> Map {
    if entries.len() < 2 {
        // Nothing to compare: hashing a key costs its size, and a key can
        // be a map whose key is a map... (quadratic in the nesting).
        return Map::from_unique(entries);
    }
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(entries.len());
        let mut keep: Vec<bool> = entries
            .iter()
            .rev()
            .map(|(key, _)| seen.insert(key))
            .collect();
        keep.reverse();
        keep
    };
    let unique: Vec<(Term, Term)> = entries
        .into_iter()
        .zip(keep)
        .filter_map(|(entry, keep)| keep.then_some(entry))
        .collect();
    Map::from_unique(unique)
}

fn fun_error(problem: &'static str) -> ParseErrorKind {
    ParseErrorKind::InvalidSpecial {
        form: "`#Fun<Module,Arity,Index,Uniq,OldIndex,OldUniq,Pid,FreeVars>`",
        problem,
    }
}

/// Builds a local fun from the eight fields of `#Fun<…>`.
fn fun_term(fields: Vec<Term>) -> Result<Term, &'static str> {
    let Ok([module, arity, index, uniq, old_index, old_uniq, pid, free_vars]) =
        <[Term; 8]>::try_from(fields)
    else {
        return Err("expected 8 fields");
    };
    let Ok(module) = module.into_atom() else {
        return Err("the module must be an atom");
    };
    let arity = small(&arity)
        .and_then(|v| u8::try_from(v).ok())
        .ok_or("the arity must be 0 to 255")?;
    let index = u32_field(&index).ok_or("the index must fit in 32 bits")?;
    let old_index = u32_field(&old_index).ok_or("the old index must fit in 32 bits")?;
    let old_uniq = u32_field(&old_uniq).ok_or("the old uniq must fit in 32 bits")?;
    let uniq = uniq_bytes(&uniq).ok_or("the uniq must be an integer of at most 128 bits")?;
    let Some(pid) = pid.as_pid().cloned() else {
        return Err("the creator must be a pid");
    };
    let free_vars = match free_vars {
        Term::Nil | Term::List(_) | Term::ByteList(_) => free_vars
            .into_list()
            .map_err(|_| "the free variables must be a proper list")?,
        _ => return Err("the free variables must be a proper list"),
    };
    let fun = Fun {
        arity,
        uniq,
        index,
        module,
        old_index,
        old_uniq,
        pid,
        free_vars,
    };
    Ok(Term::Fun(Box::new(fun)))
}

fn small(term: &Term) -> Option<i64> {
    match term {
        Term::Int(value) => Some(*value),
        _ => None,
    }
}

fn u32_field(term: &Term) -> Option<u32> {
    small(term).and_then(|value| u32::try_from(value).ok())
}

fn uniq_bytes(term: &Term) -> Option<[u8; 16]> {
    let value = match term {
        Term::Int(value) => BigInt::from(*value),
        Term::BigInt(value) => value.clone(),
        _ => return None,
    };
    let (sign, magnitude) = value.to_bytes_be();
    if sign == Sign::Minus || magnitude.len() > 16 {
        return None;
    }
    let mut uniq = [0u8; 16];
    uniq[16 - magnitude.len()..].copy_from_slice(&magnitude);
    Some(uniq)
}
