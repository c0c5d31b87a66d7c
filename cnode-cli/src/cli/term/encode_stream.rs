//! Streaming `cnode term encode`: Erlang term text to `term_to_binary`
//! bytes in memory bounded by the nesting depth and the largest element,
//! not by the size of the input.
//!
//! The text is read in chunks. A document of [`SMALL`] bytes or less, or one
//! whose outermost term is not a list or a tuple, is handed back whole
//! ([`Start::Whole`]) for the ordinary parser and encoder. Otherwise the
//! outermost container is opened and each element is found by the
//! structural [`scan`](super::scan): an element whose text ends within
//! [`SMALL`] bytes is parsed by `etf::parse_term` and encoded by
//! `etf::encode_body`, exactly as inside the whole term; a list or tuple
//! longer than that is opened in turn, and any other long element (a map, a
//! binary, a string) is read whole, so memory is bounded by the largest of
//! those. ETF writes a container's count before its elements and the header's
//! size depends on it (SMALL_TUPLE or LARGE_TUPLE; STRING for a proper list
//! of 1 to 65535 integers in `0..=255`, else LIST), so the encoded elements
//! of each open container go to a [`Spool`] (memory, then a temporary file)
//! and are copied after the header once the container closes. A list's
//! leading small integers are kept as bytes (at most 65535 of them) until
//! it is known whether the list is a STRING. A closed inner container is
//! copied into its parent's spool, so each streamed level costs one more
//! copy of its bytes.
//!
//! The bytes are those of the whole-term encoder for every input, tails
//! included: `[1 | [2, 3]]` is the proper list `[1, 2, 3]` as for the
//! parser. Errors name the line and column, counted over the whole input.

use super::direct::{Direct, Outcome, Taken};
use super::scan::{Scan, Step};
use super::spool::Spool;
use etf::{EncodeOptions, Term};
use std::io::{self, Read, Write};

/// Texts up to this size are parsed whole, and so are the elements whose
/// text ends within this many bytes.
pub(super) const SMALL: usize = 64 << 10;

/// How many large containers may be open at once; deeper ones are parsed
/// whole.
const MAX_STREAMED: usize = 32;

/// The fast path ([`Direct`]) gives up on an element whose text runs on
/// past this many bytes (a large container is then opened and streamed).
const DIRECT_LIMIT: usize = 4 * SMALL;

/// How many bytes one read asks for.
const CHUNK: usize = 64 << 10;

/// ETF tags written here (the elements' own bytes come from `etf`).
mod tag {
    pub(super) const VERSION: u8 = 131;
    pub(super) const SMALL_INTEGER: u8 = 97;
    pub(super) const SMALL_TUPLE: u8 = 104;
    pub(super) const LARGE_TUPLE: u8 = 105;
    pub(super) const NIL: u8 = 106;
    pub(super) const STRING: u8 = 107;
    pub(super) const LIST: u8 = 108;
}

/// Why a streaming encode failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// Reading the input failed.
    Read(io::Error),
    /// Writing the output or a spool file failed.
    Write(io::Error),
    /// The input is not UTF-8 at this line and column.
    NotText { line: usize, column: usize },
    /// The text is not a term: what was wrong, at this line and column.
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// An element cannot be encoded.
    Encode(etf::EncodeError),
    /// A container has more elements than ETF can count.
    TooLarge { what: &'static str, len: u64 },
}

/// How the input is to be encoded.
pub(super) enum Start<R> {
    /// Small, or not a list or tuple at the top: the whole text, for the
    /// ordinary parser.
    Whole(Vec<u8>),
    /// A large list or tuple, opened; [`Streamer::run`] writes it.
    Stream(Streamer<R>),
}

/// Looks at the start of `input` and decides how to encode it.
pub(super) fn start<R: Read>(input: R, opts: EncodeOptions) -> Result<Start<R>, Failure> {
    let mut window = Window::new(input);
    while window.buf.len() <= SMALL && window.fill()? {}
    if window.eof {
        return Ok(Start::Whole(window.buf));
    }
    match first_code(&window.buf) {
        Some(open @ (b'[' | b'{')) => {
            window.skip_blank()?;
            window.consume(1)?;
            let direct = Direct::new(&opts);
            let mut streamer = Streamer {
                window,
                opts,
                stack: Vec::new(),
                scratch: Vec::new(),
                direct,
            };
            streamer.stack.push(Frame::new(open == b'['));
            Ok(Start::Stream(streamer))
        }
        _ => {
            window.read_to_end()?;
            Ok(Start::Whole(window.buf))
        }
    }
}

/// The first byte of `text` that is neither blank nor in a comment.
fn first_code(text: &[u8]) -> Option<u8> {
    let mut in_comment = false;
    text.iter().copied().find(|&b| {
        if in_comment {
            in_comment = b != b'\n';
            return false;
        }
        in_comment = b == b'%';
        !in_comment && !b.is_ascii_whitespace()
    })
}

/// The input read so far: the bytes from the current position on, and the
/// line and column of that position.
struct Window<R> {
    input: R,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    eof: bool,
    line: usize,
    /// In characters, counted from 1.
    column: usize,
}

impl<R: Read> Window<R> {
    fn new(input: R) -> Window<R> {
        Window {
            input,
            buf: Vec::new(),
            start: 0,
            eof: false,
            line: 1,
            column: 1,
        }
    }

    /// The unconsumed bytes.
    fn rest(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Reads one more chunk, dropping consumed bytes first; false at the
    /// end of the input.
    fn fill(&mut self) -> Result<bool, Failure> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + CHUNK, 0);
        let n = loop {
            match self.input.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.buf.truncate(len);
                    return Err(Failure::Read(err));
                }
            }
        };
        self.buf.truncate(len + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    fn read_to_end(&mut self) -> Result<(), Failure> {
        self.input
            .read_to_end(&mut self.buf)
            .map_err(Failure::Read)?;
        self.eof = true;
        Ok(())
    }

    /// The next unconsumed byte, reading more if needed.
    fn peek(&mut self) -> Result<Option<u8>, Failure> {
        while self.rest().is_empty() {
            if !self.fill()? {
                return Ok(None);
            }
        }
        Ok(self.rest().first().copied())
    }

    /// Consumes `n` bytes, checking that they are UTF-8 and counting lines
    /// and columns over them.
    fn consume(&mut self, n: usize) -> Result<(), Failure> {
        let bytes = &self.buf[self.start..self.start + n];
        if let Err(err) = std::str::from_utf8(bytes) {
            let good = &bytes[..err.valid_up_to()];
            let (line, column) = advance(self.line, self.column, good);
            return Err(Failure::NotText { line, column });
        }
        (self.line, self.column) = advance(self.line, self.column, bytes);
        self.start += n;
        Ok(())
    }

    /// Consumes white space and `%` comments.
    fn skip_blank(&mut self) -> Result<(), Failure> {
        loop {
            let rest = self.rest();
            let mut n = 0;
            let mut in_comment = false;
            while let Some(&b) = rest.get(n) {
                if in_comment {
                    in_comment = b != b'\n';
                } else if b == b'%' {
                    in_comment = true;
                } else if !b.is_ascii_whitespace() {
                    break;
                }
                n += 1;
            }
            let done = n < rest.len();
            // Stop a comment before the end of the window: it goes on.
            self.consume(n)?;
            if done || !self.fill()? {
                return Ok(());
            }
        }
    }

    /// Scans one element from the current position: its length, or `None`
    /// if it runs on past `limit` bytes.
    fn scan(&mut self, limit: Option<usize>) -> Result<Option<(usize, Scan)>, Failure> {
        let mut scan = Scan::new();
        loop {
            let eof = self.eof;
            if let Step::End(n) = scan.run(self.rest(), eof) {
                return Ok(Some((n, scan)));
            }
            if limit.is_some_and(|limit| scan.scanned() > limit) {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Consumes what the fast path took: ASCII, so already known to be
    /// text, and its line ends counted.
    fn consume_ascii(&mut self, taken: Taken) {
        if taken.newlines == 0 {
            self.column += taken.len;
        } else {
            self.line += taken.newlines;
            self.column = 1 + taken.len - taken.line_start;
        }
        self.start += taken.len;
    }

    /// A syntax error at the current position.
    fn error(&self, message: String) -> Failure {
        Failure::Syntax {
            line: self.line,
            column: self.column,
            message,
        }
    }
}

/// The line and column after `bytes` (UTF-8), from `line` and `column`.
fn advance(line: usize, column: usize, bytes: &[u8]) -> (usize, usize) {
    let chars = |bytes: &[u8]| bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count();
    match bytes.iter().rposition(|&b| b == b'\n') {
        None => (line, column + chars(bytes)),
        Some(last) => {
            let lines = bytes.iter().filter(|&&b| b == b'\n').count();
            (line + lines, 1 + chars(&bytes[last + 1..]))
        }
    }
}

/// A list or tuple too large to hold, still open.
struct Frame {
    list: bool,
    count: u64,
    /// A list's elements while they are all integers in `0..=255` (at most
    /// 65535): it may still be a STRING. `None` once it cannot be.
    bytes: Option<Vec<u8>>,
    spool: Spool,
    /// A tail that is not a list (`[1 | x]`).
    tail: Option<Term>,
    /// How many `]` the list owes beyond its own: a tail that is a large
    /// list continues this frame, as in the parser.
    owed: usize,
    /// After `| Tail`: only the closing `]` may follow.
    tail_done: bool,
}

impl Frame {
    fn new(list: bool) -> Frame {
        Frame {
            list,
            count: 0,
            bytes: list.then(Vec::new),
            spool: Spool::default(),
            tail: None,
            owed: 0,
            tail_done: false,
        }
    }

    fn close(&self) -> u8 {
        if self.list {
            b']'
        } else {
            b'}'
        }
    }

    /// Moves the small integers kept for a STRING to the spool: the list
    /// is a LIST after all.
    fn no_string(&mut self) -> Result<(), Failure> {
        if let Some(bytes) = self.bytes.take() {
            let mut pairs = Vec::with_capacity(bytes.len() * 2);
            for b in bytes {
                pairs.extend_from_slice(&[tag::SMALL_INTEGER, b]);
            }
            self.spool.write(&pairs).map_err(Failure::Write)?;
        }
        Ok(())
    }

    /// Adds one element.
    fn push(
        &mut self,
        term: &Term,
        opts: &EncodeOptions,
        scratch: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        self.count += 1;
        if let (Some(bytes), Term::Int(i)) = (&mut self.bytes, term) {
            if let Ok(b) = u8::try_from(*i) {
                if bytes.len() < usize::from(u16::MAX) {
                    bytes.push(b);
                    return Ok(());
                }
            }
        }
        self.no_string()?;
        scratch.clear();
        etf::encode_body(term, scratch, opts).map_err(Failure::Encode)?;
        self.spool.write(scratch).map_err(Failure::Write)
    }

    /// Adds one element given as its encoded bytes.
    fn push_encoded(&mut self, encoded: &[u8]) -> Result<(), Failure> {
        self.count += 1;
        if let (Some(bytes), &[tag::SMALL_INTEGER, b]) = (&mut self.bytes, encoded) {
            if bytes.len() < usize::from(u16::MAX) {
                bytes.push(b);
                return Ok(());
            }
        }
        self.no_string()?;
        self.spool.write(encoded).map_err(Failure::Write)
    }

    /// Adds the elements of a tail, as the parser joins `[1 | [2, 3]]`.
    fn push_tail(
        &mut self,
        tail: &Term,
        opts: &EncodeOptions,
        scratch: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        let mut tail = tail;
        loop {
            match tail {
                Term::Nil => return Ok(()),
                Term::List(items) => {
                    for item in items {
                        self.push(item, opts, scratch)?;
                    }
                    return Ok(());
                }
                Term::ByteList(bytes) => {
                    for &b in bytes {
                        self.push(&Term::Int(b.into()), opts, scratch)?;
                    }
                    return Ok(());
                }
                Term::ImproperList(items, rest) => {
                    for item in items {
                        self.push(item, opts, scratch)?;
                    }
                    tail = rest;
                }
                other => {
                    self.tail = Some(other.clone());
                    return Ok(());
                }
            }
        }
    }

    /// Writes the whole container: header, elements and tail.
    fn finish(mut self, out: &mut impl Write, opts: &EncodeOptions) -> Result<(), Failure> {
        let write =
            |out: &mut dyn Write, bytes: &[u8]| out.write_all(bytes).map_err(Failure::Write);
        if !self.list {
            match u8::try_from(self.count) {
                Ok(n) => write(out, &[tag::SMALL_TUPLE, n])?,
                Err(_) => {
                    write(out, &[tag::LARGE_TUPLE])?;
                    write(out, &count32(self.count, "tuple")?)?;
                }
            }
            return self.spool.copy_to(out).map_err(Failure::Write);
        }
        if self.count == 0 {
            return match self.tail {
                None => write(out, &[tag::NIL]),
                Some(tail) => {
                    let mut bytes = Vec::new();
                    etf::encode_body(&tail, &mut bytes, opts).map_err(Failure::Encode)?;
                    write(out, &bytes)
                }
            };
        }
        if self.tail.is_none() {
            if let Some(bytes) = &self.bytes {
                write(out, &[tag::STRING])?;
                write(out, &(bytes.len() as u16).to_be_bytes())?;
                return write(out, bytes);
            }
        }
        self.no_string()?;
        write(out, &[tag::LIST])?;
        write(out, &count32(self.count, "list")?)?;
        self.spool.copy_to(out).map_err(Failure::Write)?;
        match self.tail {
            None => write(out, &[tag::NIL]),
            Some(tail) => {
                let mut bytes = Vec::new();
                etf::encode_body(&tail, &mut bytes, opts).map_err(Failure::Encode)?;
                write(out, &bytes)
            }
        }
    }
}

fn count32(count: u64, what: &'static str) -> Result<[u8; 4], Failure> {
    u32::try_from(count)
        .map(u32::to_be_bytes)
        .map_err(|_| Failure::TooLarge { what, len: count })
}

/// What the streamer expects next in the innermost open container.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Just after `[` or `{`: an element or the close.
    FirstOrClose,
    /// After `,`: an element.
    Element,
    /// After an element: `,`, `|` or the close.
    Delimiter,
}

/// A large list or tuple being encoded; see the module documentation.
pub(super) struct Streamer<R> {
    window: Window<R>,
    opts: EncodeOptions,
    /// The open containers, outermost first.
    stack: Vec<Frame>,
    scratch: Vec<u8>,
    /// The fast path, unless the options need what it does not write.
    direct: Option<Direct>,
}

impl<R: Read> Streamer<R> {
    /// Reads the rest of the input and writes the bytes (version byte
    /// first) to `out`.
    pub(super) fn run(mut self, out: &mut impl Write) -> Result<(), Failure> {
        let mut expect = Expect::FirstOrClose;
        while let Some(frame) = self.stack.last() {
            let close = frame.close();
            self.window.skip_blank()?;
            let Some(next) = self.window.peek()? else {
                let what = if frame.list { "list" } else { "tuple" };
                return Err(self
                    .window
                    .error(format!("unterminated {what}: end of input")));
            };
            expect = match expect {
                Expect::FirstOrClose if next == close => self.close(out)?,
                Expect::FirstOrClose | Expect::Element => self.element()?,
                Expect::Delimiter => self.delimiter(next, close, out)?,
            };
        }
        self.window.skip_blank()?;
        if self.window.peek()? == Some(b'.') {
            self.window.consume(1)?;
            self.window.skip_blank()?;
        }
        match self.window.peek()? {
            None => out.flush().map_err(Failure::Write),
            Some(_) => Err(self
                .window
                .error(format!("expected end of input, found {}", self.found()))),
        }
    }

    /// Describes the character at the current position, for errors.
    fn found(&self) -> String {
        let rest = self.window.rest();
        let end = rest.len().min(4);
        match String::from_utf8_lossy(&rest[..end]).chars().next() {
            Some(c) => format!("'{c}'"),
            None => "end of input".into(),
        }
    }

    /// After an element: `,`, `|` or the close.
    fn delimiter(&mut self, next: u8, close: u8, out: &mut impl Write) -> Result<Expect, Failure> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(Expect::Delimiter);
        };
        match next {
            b',' if !frame.tail_done => {
                self.window.consume(1)?;
                Ok(Expect::Element)
            }
            b'|' if frame.list && !frame.tail_done => {
                self.window.consume(1)?;
                self.tail()
            }
            _ if next == close => self.close(out),
            _ => {
                let expected = match (frame.tail_done, frame.list) {
                    (true, _) => "']'",
                    (false, true) => "',', '|' or ']'",
                    (false, false) => "',' or '}'",
                };
                Err(self
                    .window
                    .error(format!("expected {expected}, found {}", self.found())))
            }
        }
    }

    /// Consumes the close of the innermost container and writes it to its
    /// parent's spool, or to `out` if it is the outermost.
    fn close(&mut self, out: &mut impl Write) -> Result<Expect, Failure> {
        self.window.consume(1)?;
        let Some(mut frame) = self.stack.pop() else {
            return Ok(Expect::Delimiter);
        };
        if frame.owed > 0 {
            frame.owed -= 1;
            frame.tail_done = true;
            self.stack.push(frame);
            return Ok(Expect::Delimiter);
        }
        match self.stack.last_mut() {
            Some(parent) => {
                parent.count += 1;
                parent.no_string()?;
                frame.finish(&mut SpoolWriter(&mut parent.spool), &self.opts)?;
            }
            None => {
                out.write_all(&[tag::VERSION]).map_err(Failure::Write)?;
                frame.finish(out, &self.opts)?;
            }
        }
        Ok(Expect::Delimiter)
    }

    /// One element: parsed whole if small or not a list or tuple, else
    /// opened as a new frame.
    fn element(&mut self) -> Result<Expect, Failure> {
        if self.direct()? {
            return Ok(Expect::Delimiter);
        }
        if let Some(open) = self.open_large()? {
            self.window.consume(1)?;
            self.stack.push(Frame::new(open == b'['));
            return Ok(Expect::FirstOrClose);
        }
        let term = self.parse_element()?;
        if let Some(frame) = self.stack.last_mut() {
            frame.push(&term, &self.opts, &mut self.scratch)?;
        }
        Ok(Expect::Delimiter)
    }

    /// Encodes the element at the current position by the fast path, if
    /// it is one of its forms and ends within [`DIRECT_LIMIT`] bytes.
    fn direct(&mut self) -> Result<bool, Failure> {
        let Some(direct) = &mut self.direct else {
            return Ok(false);
        };
        loop {
            let eof = self.window.eof;
            match direct.element(self.window.rest(), eof, &mut self.scratch) {
                Outcome::Done(taken) => {
                    self.window.consume_ascii(taken);
                    if let Some(frame) = self.stack.last_mut() {
                        frame.push_encoded(&self.scratch)?;
                    }
                    return Ok(true);
                }
                Outcome::Fallback => return Ok(false),
                Outcome::More => {
                    if self.window.rest().len() >= DIRECT_LIMIT {
                        return Ok(false);
                    }
                    self.window.fill()?;
                }
            }
        }
    }

    /// After `|`: the tail, joined to the list as the parser does.
    fn tail(&mut self) -> Result<Expect, Failure> {
        self.window.skip_blank()?;
        if self.open_large()? == Some(b'[') {
            self.window.consume(1)?;
            if let Some(frame) = self.stack.last_mut() {
                frame.owed += 1;
            }
            return Ok(Expect::FirstOrClose);
        }
        let term = self.parse_element()?;
        if let Some(frame) = self.stack.last_mut() {
            frame.push_tail(&term, &self.opts, &mut self.scratch)?;
            frame.tail_done = true;
        }
        Ok(Expect::Delimiter)
    }

    /// The `[` or `{` at the current position if the container it opens
    /// runs on past [`SMALL`] bytes.
    fn open_large(&mut self) -> Result<Option<u8>, Failure> {
        // Each level scans up to SMALL bytes ahead before opening: past
        // MAX_STREAMED levels, deeper containers are parsed whole, so that
        // a deeply nested text is not scanned once per level.
        if self.stack.len() >= MAX_STREAMED {
            return Ok(None);
        }
        match self.window.peek()? {
            Some(open @ (b'[' | b'{')) => match self.window.scan(Some(SMALL))? {
                None => Ok(Some(open)),
                Some(_) => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// Parses the element at the current position and consumes it.
    fn parse_element(&mut self) -> Result<Term, Failure> {
        let Some((len, scan)) = self.window.scan(None)? else {
            return Err(self.window.error("element not found".into()));
        };
        let window = &self.window;
        let bytes = &window.rest()[..len];
        let at = |offset: usize| advance(window.line, window.column, &bytes[..offset]);
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let (line, column) = at(err.valid_up_to());
                return Err(Failure::NotText { line, column });
            }
        };
        if let Some(dot) = scan.final_dot() {
            let (line, column) = at(dot);
            return Err(Failure::Syntax {
                line,
                column,
                message: "unexpected '.' inside a container".into(),
            });
        }
        let term = etf::parse_term(text).map_err(|err| {
            let (line, column) = at(err.offset().min(len));
            Failure::Syntax {
                line,
                column,
                message: err.kind().to_string(),
            }
        })?;
        self.window.consume(len)?;
        Ok(term)
    }
}

/// A [`Spool`] as a [`Write`], for a closed container written into its
/// parent's.
struct SpoolWriter<'a>(&'a mut Spool);

impl Write for SpoolWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.write(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
