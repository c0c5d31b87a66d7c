//! Decoding: bytes to [`Term`].
//!
//! One iterative parser (an explicit stack of open tuples, lists, maps and
//! funs) serves borrowed and shared input alike, so that no input can
//! overflow the Rust stack, and no length field makes it allocate more than
//! the remaining input could fill.

pub(crate) mod atoms;
pub(crate) mod cursor;
pub(crate) mod inflate;
pub(crate) mod tag;

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::map::first_duplicate;
use crate::options::DecodeOptions;
use crate::record;
use crate::term::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
use cursor::Cursor;

use bytes::Bytes;
use num_bigint::{BigInt, Sign};

/// The input, borrowed or shared.
#[derive(Clone, Debug)]
enum Input<'a> {
    Borrowed(&'a [u8]),
    Shared(Bytes),
}

/// Reads terms one after another from a buffer.
///
/// `read_term` expects the version byte 131 (as `term_to_binary` output
/// and distribution pass-through frames have), `read_body` a bare term (as
/// in `131,68` distribution frames, where tag 82 refers to the atom cache
/// given with [`Decoder::with_atom_cache`]). After an error the position is
/// back at the start of the failed term.
///
/// ```
/// let bytes = [131, 97, 1, 131, 119, 2, b'o', b'k'];
/// let mut d = etf::Decoder::new(&bytes);
/// assert_eq!(d.read_term()?, etf::Term::Int(1));
/// assert_eq!(d.read_term()?, etf::Term::atom("ok"));
/// d.finish()?;
/// # Ok::<(), etf::DecodeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Decoder<'a> {
    input: Input<'a>,
    pos: usize,
    opts: DecodeOptions,
    cache: Option<&'a [Atom]>,
}

impl<'a> Decoder<'a> {
    /// A decoder over borrowed bytes; binaries in the terms are copied out.
    pub fn new(input: &'a [u8]) -> Decoder<'a> {
        Decoder {
            input: Input::Borrowed(input),
            pos: 0,
            opts: DecodeOptions::default(),
            cache: None,
        }
    }

    /// A decoder over shared bytes; binaries in the terms share the buffer.
    pub fn from_bytes(input: Bytes) -> Decoder<'a> {
        Decoder {
            input: Input::Shared(input),
            pos: 0,
            opts: DecodeOptions::default(),
            cache: None,
        }
    }

    /// Sets the limits (default: [`DecodeOptions::default`]).
    pub fn with_options(mut self, opts: DecodeOptions) -> Decoder<'a> {
        self.opts = opts;
        self
    }

    /// Sets the atoms that ATOM_CACHE_REF (tag 82, `u8` index) refers to, in
    /// index order. Without a cache, tag 82 is an error.
    pub fn with_atom_cache(mut self, cache: &'a [Atom]) -> Decoder<'a> {
        self.cache = Some(cache);
        self
    }

    /// Reads one term that starts with the version byte 131 and may be
    /// compressed (tag 80).
    pub fn read_term(&mut self) -> Result<Term, DecodeError> {
        let start = self.pos;
        let result = self.read_versioned();
        if result.is_err() {
            self.pos = start;
        }
        result
    }

    /// Reads one term with no version byte.
    pub fn read_body(&mut self) -> Result<Term, DecodeError> {
        let start = self.pos;
        let (data, shared) = self.parts();
        let mut p = Parser::new(data, shared, start, &self.opts, self.cache);
        let result = p.term();
        if result.is_ok() {
            self.pos = p.pos;
        }
        result
    }

    /// The offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The number of bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data().len().saturating_sub(self.pos)
    }

    /// Fails if bytes are left after the terms read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::new(K::TrailingBytes(n), self.pos)),
        }
    }

    fn data(&self) -> &[u8] {
        match &self.input {
            Input::Borrowed(b) => b,
            Input::Shared(b) => b,
        }
    }

    fn parts(&self) -> (&[u8], Option<&Bytes>) {
        match &self.input {
            Input::Borrowed(b) => (b, None),
            Input::Shared(b) => (b, Some(b)),
        }
    }

    fn read_versioned(&mut self) -> Result<Term, DecodeError> {
        let (data, shared) = self.parts();
        let at = self.pos;
        let version = *data
            .get(at)
            .ok_or_else(|| truncated("version byte", 1, 0, at))?;
        if version != crate::VERSION {
            return Err(DecodeError::new(K::BadVersion(version), at));
        }
        if data.get(at + 1) == Some(&tag::COMPRESSED) {
            let (inflated, end) = inflate::inflate(data, at + 1, self.opts.max_decompressed_size)?;
            let inflated = Bytes::from(inflated);
            let mut p = Parser::new(&inflated, Some(&inflated), 0, &self.opts, self.cache);
            let t = p.term()?;
            if p.pos != inflated.len() {
                return Err(DecodeError::new(
                    K::TrailingBytes(inflated.len() - p.pos),
                    p.pos,
                ));
            }
            self.pos = end;
            return Ok(t);
        }
        let mut p = Parser::new(data, shared, at + 1, &self.opts, self.cache);
        let t = p.term()?;
        self.pos = p.pos;
        Ok(t)
    }
}

/// Reads the one term at `pos` of `data` (no version byte, no atom
/// cache), binaries copied: the term and the offset after it. The flat
/// decoder hands this parser the rare tags it stores as bytes.
pub(crate) fn parse_at(
    data: &[u8],
    pos: usize,
    opts: &DecodeOptions,
) -> Result<(Term, usize), DecodeError> {
    let mut p = Parser::new(data, None, pos, opts, None);
    let t = p.term()?;
    Ok((t, p.pos))
}

pub(crate) fn truncated(
    what: &'static str,
    needed: u64,
    available: usize,
    at: usize,
) -> DecodeError {
    DecodeError::new(
        K::Truncated {
            what,
            needed,
            available,
        },
        at,
    )
}

/// A container whose elements are being read.
enum Frame {
    Tuple {
        items: Vec<Term>,
        left: usize,
    },
    /// A list; once `left` is 0 its tail comes next (`tail` is set when the
    /// tail is not a list and is read as an ordinary term).
    List {
        items: Vec<Term>,
        left: usize,
        tail: bool,
    },
    /// A map; while `has_key`, the last entry holds a key read and `[]`
    /// in place of its value (rather than the key in the frame, which would
    /// make every frame larger).
    Map {
        entries: Vec<(Term, Term)>,
        has_key: bool,
        left: usize,
        start: usize,
    },
    Fun {
        fun: Box<Fun>,
        left: usize,
        size_at: usize,
        size: u32,
    },
    /// A native record whose values are being read.
    Record {
        record: Box<Record>,
        left: usize,
    },
    /// A LOCAL_EXT: its inner term is parsed only to find where it ends.
    Local {
        start: usize,
    },
}

/// A stack of open containers is kept for the thread's next decode when it
/// held at most this many (a few KiB): most terms then decode without
/// allocating for it.
const SPARE_STACK_FRAMES: usize = 64;

thread_local! {
    /// The emptied stack of the thread's last decode, for the next.
    static SPARE_STACK: std::cell::Cell<Vec<Frame>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The next term when it is a leaf, read in place (the commonest ones
/// without a call); else `$otherwise` (such as `break`), reading nothing.
/// A macro rather than a function returning an `Option`: the loops over
/// elements stay tight.
macro_rules! next_leaf {
    ($p:ident, $otherwise:expr) => {{
        let at = $p.pos;
        match *$p.data.get(at..).unwrap_or_default() {
            [tag::SMALL_INTEGER, b, ..] => {
                $p.pos += 2;
                Term::Int(b.into())
            }
            [tag::INTEGER, b0, b1, b2, b3, ..] => {
                $p.pos += 5;
                Term::Int(i32::from_be_bytes([b0, b1, b2, b3]).into())
            }
            [t @ (tag::SMALL_ATOM_UTF8 | tag::SMALL_ATOM), len, ..] => {
                $p.pos += 2;
                let text = $p.take(len.into(), "atom")?;
                let utf8 = t == tag::SMALL_ATOM_UTF8;
                Term::Atom(atoms::get(text, utf8).map_err(|kind| DecodeError::new(kind, at))?)
            }
            [t @ (tag::ATOM_UTF8 | tag::ATOM), l0, l1, ..] => {
                $p.pos += 3;
                let text = $p.take(u16::from_be_bytes([l0, l1]).into(), "atom")?;
                let utf8 = t == tag::ATOM_UTF8;
                Term::Atom(atoms::get(text, utf8).map_err(|kind| DecodeError::new(kind, at))?)
            }
            [tag::NEW_PID, _, ..] => {
                $p.pos += 1;
                Term::Pid($p.pid_body(tag::NEW_PID)?)
            }
            [tag::NIL, ..] => {
                $p.pos += 1;
                Term::Nil
            }
            [t, _, ..] if is_leaf(t) => {
                $p.pos += 1;
                $p.leaf(t, at)?
            }
            _ => $otherwise,
        }
    }};
}

/// The parser of one term.
struct Parser<'d> {
    data: &'d [u8],
    shared: Option<&'d Bytes>,
    pos: usize,
    opts: &'d DecodeOptions,
    cache: Option<&'d [Atom]>,
    /// How many LOCAL_EXT terms are open (inside one, nodes may be `[]`).
    local: usize,
    /// The last node read in a pid, port or reference.
    last_node: Option<Atom>,
}

impl<'d> Cursor<'d> for Parser<'d> {
    #[inline]
    fn data(&self) -> &'d [u8] {
        self.data
    }
    #[inline]
    fn pos(&self) -> usize {
        self.pos
    }
    #[inline]
    fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }
}

impl<'d> Parser<'d> {
    fn new(
        data: &'d [u8],
        shared: Option<&'d Bytes>,
        pos: usize,
        opts: &'d DecodeOptions,
        cache: Option<&'d [Atom]>,
    ) -> Parser<'d> {
        Parser {
            data,
            shared,
            pos,
            opts,
            cache,
            local: 0,
            last_node: None,
        }
    }

    // ------------------------------------------------------------ raw reads

    fn binary(&self, start: usize, end: usize) -> Bytes {
        match self.shared {
            Some(b) => b.slice(start..end),
            None => Bytes::copy_from_slice(&self.data[start..end]),
        }
    }

    // ------------------------------------------------------------ the loop

    fn term(&mut self) -> Result<Term, DecodeError> {
        let mut stack = SPARE_STACK
            .try_with(|spare| spare.take())
            .unwrap_or_default();
        let result = self.term_with(&mut stack);
        if stack.capacity() <= SPARE_STACK_FRAMES {
            // Emptied only now: after an error, the open containers.
            stack.clear();
            let _ = SPARE_STACK.try_with(|spare| spare.set(stack));
        }
        result
    }

    fn term_with(&mut self, stack: &mut Vec<Frame>) -> Result<Term, DecodeError> {
        loop {
            let value = match self.value(stack)? {
                Some(v) => v,
                None => continue,
            };
            if let Some(done) = self.deliver(stack, value)? {
                return Ok(done);
            }
        }
    }

    #[inline]
    fn push(&self, stack: &mut Vec<Frame>, frame: Frame, at: usize) -> Result<(), DecodeError> {
        self.check_depth(stack, at)?;
        stack.push(frame);
        Ok(())
    }

    /// Fails if a container opened at `at` would nest too deep, whether or
    /// not it ends up on the stack (one of leaves only is read at once).
    fn check_depth(&self, stack: &[Frame], at: usize) -> Result<(), DecodeError> {
        match self.opts.max_depth {
            Some(limit) if stack.len() >= limit => Err(DecodeError::new(K::TooDeep(limit), at)),
            _ => Ok(()),
        }
    }

    /// Hands a finished value to the open containers, closing each that it
    /// completes; returns the whole term when the last one closes.
    fn deliver(
        &mut self,
        stack: &mut Vec<Frame>,
        mut value: Term,
    ) -> Result<Option<Term>, DecodeError> {
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(Some(value));
            };
            // Add the value; return while the container stays open. A list
            // builds its value here, the others when popped below.
            let mut list = None;
            match top {
                Frame::Tuple { items, left } => {
                    items.push(value);
                    *left -= 1;
                    self.fill(items, left)?;
                    if *left > 0 {
                        return Ok(None);
                    }
                }
                Frame::List { items, left, tail } => {
                    if *tail {
                        let items = std::mem::take(items);
                        list = Some(if items.is_empty() {
                            value
                        } else {
                            Term::ImproperList(items, Box::new(value))
                        });
                    } else {
                        items.push(value);
                        *left -= 1;
                        // On the stack, so within the depth limit.
                        match self.list_items(items, left, tail, None)? {
                            Some(done) => list = Some(done),
                            None => return Ok(None),
                        }
                    }
                }
                Frame::Map {
                    entries,
                    has_key,
                    left,
                    start,
                } => {
                    match (*has_key, entries.last_mut()) {
                        (true, Some(last)) => {
                            last.1 = value;
                            *has_key = false;
                            *left -= 1;
                        }
                        _ => {
                            entries.push((value, Term::Nil));
                            *has_key = true;
                        }
                    }
                    self.fill_map(entries, has_key, left)?;
                    if *left > 0 {
                        return Ok(None);
                    }
                    if first_duplicate(entries).is_some() {
                        return Err(DecodeError::new(K::DuplicateMapKey, *start));
                    }
                }
                Frame::Fun {
                    fun,
                    left,
                    size_at,
                    size,
                } => {
                    fun.free_vars.push(value);
                    *left -= 1;
                    if *left > 0 {
                        return Ok(None);
                    }
                    check_fun_size(*size, *size_at, self.pos)?;
                }
                Frame::Record { record, left } => {
                    record.values.push(value);
                    *left -= 1;
                    self.fill(&mut record.values, left)?;
                    if *left > 0 {
                        return Ok(None);
                    }
                }
                Frame::Local { .. } => {}
            }
            value = match (stack.pop(), list) {
                (_, Some(done)) => done,
                (Some(Frame::Tuple { items, .. }), None) => Term::Tuple(items),
                (Some(Frame::Map { entries, .. }), None) => Term::Map(Map::from_unique(entries)),
                (Some(Frame::Fun { fun, .. }), None) => Term::Fun(fun),
                (Some(Frame::Record { record, .. }), None) => Term::Record(record),
                (Some(Frame::Local { start }), None) => {
                    self.local -= 1;
                    Term::Local(self.binary(start, self.pos))
                }
                // Not reached: a list sets `list`, and the stack had a top.
                (Some(Frame::List { items, .. }), None) => Term::list(items),
                (None, None) => Term::Nil,
            };
        }
    }

    /// After a list's elements: reads its tail when it is a list (continuing
    /// the same list, so that chained tails do not nest), returning the
    /// finished list, or `None` when more elements or a non-list tail follow.
    ///
    /// `too_deep` is where a list that began with no elements starts when
    /// it may not nest any deeper: its elements, once a tail brings some,
    /// fail the depth limit there, as those of any other list do.
    fn list_end(
        &mut self,
        items: &mut Vec<Term>,
        left: &mut usize,
        tail: &mut bool,
        too_deep: Option<usize>,
    ) -> Result<Option<Term>, DecodeError> {
        loop {
            let at = self.pos;
            match self.data.get(at) {
                Some(&tag::NIL) => {
                    self.pos += 1;
                    return Ok(Some(Term::list(std::mem::take(items))));
                }
                Some(&tag::LIST) => {
                    self.pos += 1;
                    let n = self.u32("LIST")?;
                    let n = self.count(n, 1, "LIST")?;
                    if let (true, Some(list_at)) = (n > 0, too_deep) {
                        let limit = self.opts.max_depth.unwrap_or_default();
                        return Err(DecodeError::new(K::TooDeep(limit), list_at));
                    }
                    if n > 0 {
                        items.reserve(n);
                        *left = n;
                        return Ok(None);
                    }
                }
                Some(&tag::STRING) => {
                    self.pos += 1;
                    let s = self.string()?;
                    if items.is_empty() {
                        return Ok(Some(s));
                    }
                    if let Term::ByteList(bytes) = &s {
                        items.extend(bytes.iter().map(|&b| Term::from(b)));
                    }
                    return Ok(Some(Term::List(std::mem::take(items))));
                }
                Some(_) => {
                    *tail = true;
                    return Ok(None);
                }
                None => return Err(truncated("list tail", 1, 0, at)),
            }
        }
    }

    /// Reads one tag: a finished value, or `None` after opening a container.
    fn value(&mut self, stack: &mut Vec<Frame>) -> Result<Option<Term>, DecodeError> {
        let at = self.pos;
        let t = self.u8("tag")?;
        let value = match t {
            tag::SMALL_TUPLE | tag::LARGE_TUPLE => {
                let n = if t == tag::SMALL_TUPLE {
                    self.u8("SMALL_TUPLE")?.into()
                } else {
                    self.u32("LARGE_TUPLE")?
                };
                let mut left = self.count(n, 1, "tuple")?;
                if left > 0 {
                    self.check_depth(stack, at)?;
                }
                let mut items = Vec::with_capacity(left);
                self.fill(&mut items, &mut left)?;
                if left == 0 {
                    Term::Tuple(items)
                } else {
                    self.push(stack, Frame::Tuple { items, left }, at)?;
                    return Ok(None);
                }
            }
            tag::LIST => {
                let n = self.u32("LIST")?;
                let mut left = self.count(n, 1, "LIST")?;
                let mut too_deep = None;
                if left > 0 {
                    self.check_depth(stack, at)?;
                } else if self.check_depth(stack, at).is_err() {
                    too_deep = Some(at);
                }
                let mut items = Vec::with_capacity(left);
                if let Some(&(tag::SMALL_INTEGER | tag::INTEGER)) = self.data.get(self.pos) {
                    // Most likely a list of numbers: read at once.
                    self.int_run(&mut items, &mut left);
                }
                let mut tail = false;
                if let Some(list) = self.list_items(&mut items, &mut left, &mut tail, too_deep)? {
                    return Ok(Some(list));
                }
                self.push(stack, Frame::List { items, left, tail }, at)?;
                return Ok(None);
            }
            tag::MAP => {
                let n = self.u32("MAP")?;
                let n = self.count(n, 2, "MAP")?;
                if n > 0 {
                    self.check_depth(stack, at)?;
                }
                let mut entries = Vec::with_capacity(n);
                let (mut has_key, mut left) = (false, n);
                self.fill_map(&mut entries, &mut has_key, &mut left)?;
                if left == 0 {
                    if first_duplicate(&entries).is_some() {
                        return Err(DecodeError::new(K::DuplicateMapKey, at));
                    }
                    Term::Map(Map::from_unique(entries))
                } else {
                    let frame = Frame::Map {
                        entries,
                        has_key,
                        left,
                        start: at,
                    };
                    self.push(stack, frame, at)?;
                    return Ok(None);
                }
            }
            tag::NEW_FUN => return self.fun(stack, at),
            tag::RECORD => return self.record(stack, at),
            tag::LOCAL => {
                self.take(4, "LOCAL_EXT hash")?;
                self.push(stack, Frame::Local { start: at }, at)?;
                self.local += 1;
                return Ok(None);
            }
            tag::FUN => return Err(DecodeError::new(K::UnsupportedTag(t), at)),
            _ if is_leaf(t) => self.leaf(t, at)?,
            other => return Err(DecodeError::new(K::UnknownTag(other), at)),
        };
        Ok(Some(value))
    }

    /// Reads the elements of a tuple or list while they are leaves, without
    /// a round trip through the stack of open containers: the common case
    /// of lists of integers, atoms or pids. Stops at the first container,
    /// or at anything [`Parser::value`] must report.
    #[inline]
    fn fill(&mut self, items: &mut Vec<Term>, left: &mut usize) -> Result<(), DecodeError> {
        while *left > 0 {
            let value = next_leaf!(self, break);
            items.push(value);
            *left -= 1;
        }
        Ok(())
    }

    /// Reads integer elements (a list of numbers) while they come, with the
    /// position and count kept in registers.
    #[inline]
    fn int_run(&mut self, items: &mut Vec<Term>, left: &mut usize) {
        let data = self.data;
        let mut pos = self.pos;
        let mut n = *left;
        while n > 0 {
            let i = match *data.get(pos..).unwrap_or_default() {
                [tag::SMALL_INTEGER, b, ..] => {
                    pos += 2;
                    i64::from(b)
                }
                [tag::INTEGER, b0, b1, b2, b3, ..] => {
                    pos += 5;
                    i32::from_be_bytes([b0, b1, b2, b3]).into()
                }
                _ => break,
            };
            items.push(Term::Int(i));
            n -= 1;
        }
        self.pos = pos;
        *left = n;
    }

    /// As [`Parser::fill`] for a map's keys and values: while `has_key`,
    /// the last entry waits for its value.
    #[inline]
    fn fill_map(
        &mut self,
        entries: &mut Vec<(Term, Term)>,
        has_key: &mut bool,
        left: &mut usize,
    ) -> Result<(), DecodeError> {
        while *left > 0 {
            let value = next_leaf!(self, break);
            match (*has_key, entries.last_mut()) {
                (true, Some(last)) => {
                    last.1 = value;
                    *left -= 1;
                    *has_key = false;
                }
                _ => {
                    entries.push((value, Term::Nil));
                    *has_key = true;
                }
            }
        }
        Ok(())
    }

    /// Reads a list's leaf elements and its tail while it can: the finished
    /// list, or `None` when an element or the tail must go through the
    /// stack (`left` > 0, or `tail` set for a tail that is not a list).
    /// `too_deep` as for [`Parser::list_end`].
    fn list_items(
        &mut self,
        items: &mut Vec<Term>,
        left: &mut usize,
        tail: &mut bool,
        too_deep: Option<usize>,
    ) -> Result<Option<Term>, DecodeError> {
        loop {
            self.fill(items, left)?;
            if *left > 0 {
                return Ok(None);
            }
            match self.list_end(items, left, tail, too_deep)? {
                Some(done) => return Ok(Some(done)),
                None if *tail => return Ok(None),
                None => {}
            }
        }
    }

    /// Reads the term of a tag that opens no container (the tag byte, at
    /// `at`, already read).
    fn leaf(&mut self, t: u8, at: usize) -> Result<Term, DecodeError> {
        Ok(match t {
            tag::SMALL_INTEGER => Term::Int(self.u8("SMALL_INTEGER")?.into()),
            tag::INTEGER => Term::Int(i32::from_be_bytes(self.array("INTEGER")?).into()),
            tag::SMALL_BIG => {
                let n = self.u8("SMALL_BIG")?;
                self.big(n.into(), "SMALL_BIG")?
            }
            tag::LARGE_BIG => {
                let n = self.u32("LARGE_BIG")?;
                self.big(n as usize, "LARGE_BIG")?
            }
            tag::NEW_FLOAT => {
                let f = f64::from_be_bytes(self.array("NEW_FLOAT")?);
                if !f.is_finite() {
                    return Err(DecodeError::new(K::NonFiniteFloat, at));
                }
                Term::Float(f)
            }
            tag::FLOAT => self.old_float(at)?,
            tag::ATOM
            | tag::SMALL_ATOM
            | tag::ATOM_UTF8
            | tag::SMALL_ATOM_UTF8
            | tag::ATOM_CACHE_REF => Term::Atom(self.atom_body(t, at)?),
            tag::NIL => Term::Nil,
            tag::STRING => self.string()?,
            tag::BINARY => {
                let n = self.u32("BINARY")? as usize;
                let start = self.pos;
                self.take(n, "BINARY")?;
                Term::Binary(self.binary(start, self.pos))
            }
            tag::BIT_BINARY => self.bit_binary(at)?,
            tag::PID | tag::NEW_PID => Term::Pid(self.pid_body(t)?),
            tag::PORT | tag::NEW_PORT | tag::V4_PORT => Term::Port(self.port_body(t)?),
            tag::REFERENCE | tag::NEW_REFERENCE | tag::NEWER_REFERENCE => {
                Term::Reference(self.reference_body(t, at)?)
            }
            tag::EXPORT => {
                let module = self.atom()?;
                let function = self.atom()?;
                let arity_at = self.pos;
                match self.u8("EXPORT arity")? {
                    tag::SMALL_INTEGER => {}
                    other => {
                        return Err(DecodeError::new(
                            K::UnexpectedTag {
                                tag: other,
                                expected: "SMALL_INTEGER arity",
                            },
                            arity_at,
                        ))
                    }
                }
                let arity = self.u8("EXPORT arity")?;
                Term::Export(Export {
                    module,
                    function,
                    arity,
                })
            }
            other => return Err(DecodeError::new(K::UnknownTag(other), at)),
        })
    }

    // ------------------------------------------------------------ leaves

    fn big(&mut self, n: usize, what: &'static str) -> Result<Term, DecodeError> {
        let sign = self.u8(what)?;
        let digits = self.take(n, what)?;
        if n <= 8 {
            let mut le = [0u8; 8];
            le[..n].copy_from_slice(digits);
            let magnitude = u64::from_le_bytes(le);
            let value = if sign == 0 {
                i64::try_from(magnitude).ok()
            } else if magnitude <= 1 << 63 {
                Some((magnitude as i64).wrapping_neg())
            } else {
                None
            };
            if let Some(v) = value {
                return Ok(Term::Int(v));
            }
        }
        let sign = if sign == 0 { Sign::Plus } else { Sign::Minus };
        Ok(Term::from(BigInt::from_bytes_le(sign, digits)))
    }

    fn old_float(&mut self, at: usize) -> Result<Term, DecodeError> {
        let text = self.take(31, "FLOAT")?;
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        let f: f64 = std::str::from_utf8(&text[..end])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| DecodeError::new(K::InvalidFloatText, at))?;
        if !f.is_finite() {
            return Err(DecodeError::new(K::NonFiniteFloat, at));
        }
        Ok(Term::Float(f))
    }

    fn string(&mut self) -> Result<Term, DecodeError> {
        let n = self.u16("STRING")?;
        let bytes = self.take(n.into(), "STRING")?;
        Ok(if bytes.is_empty() {
            Term::Nil
        } else {
            Term::ByteList(bytes.to_vec())
        })
    }

    fn bit_binary(&mut self, at: usize) -> Result<Term, DecodeError> {
        let n = self.u32("BIT_BINARY")? as usize;
        let bits = self.u8("BIT_BINARY")?;
        let start = self.pos;
        self.take(n, "BIT_BINARY")?;
        match (n, bits) {
            (0, 0) => Ok(Term::Binary(Bytes::new())),
            (_, 8) => Ok(Term::Binary(self.binary(start, self.pos))),
            (1.., 1..=7) => {
                let last = self.data[self.pos - 1];
                let mask = !(0xffu8 >> bits);
                let bytes = if last & mask == last {
                    self.binary(start, self.pos)
                } else {
                    let mut v = self.data[start..self.pos].to_vec();
                    if let Some(l) = v.last_mut() {
                        *l &= mask;
                    }
                    Bytes::from(v)
                };
                Ok(Term::BitBinary(BitBinary { bytes, bits }))
            }
            _ => Err(DecodeError::new(K::InvalidBitCount(bits), at)),
        }
    }

    /// An atom in a field that must hold one (a pid's node, a module...).
    fn atom(&mut self) -> Result<Atom, DecodeError> {
        let at = self.pos;
        let t = self.u8("atom tag")?;
        match t {
            tag::ATOM
            | tag::SMALL_ATOM
            | tag::ATOM_UTF8
            | tag::SMALL_ATOM_UTF8
            | tag::ATOM_CACHE_REF => self.atom_body(t, at),
            tag::NIL if self.local > 0 => Ok(atoms::empty()),
            other => Err(DecodeError::new(
                K::UnexpectedTag {
                    tag: other,
                    expected: "an atom",
                },
                at,
            )),
        }
    }

    /// An atom after its tag `t`: one of the atom cache (ATOM_CACHE_REF)
    /// or a text.
    fn atom_body(&mut self, t: u8, at: usize) -> Result<Atom, DecodeError> {
        if t == tag::ATOM_CACHE_REF {
            let index = self.u8("ATOM_CACHE_REF")?;
            let cache = self
                .cache
                .ok_or_else(|| DecodeError::new(K::NoAtomCache, at))?;
            return cache.get(usize::from(index)).cloned().ok_or_else(|| {
                DecodeError::new(
                    K::AtomCacheIndex {
                        index,
                        len: cache.len(),
                    },
                    at,
                )
            });
        }
        let (text, utf8) = self.atom_text(t)?;
        atoms::get(text, utf8).map_err(|kind| DecodeError::new(kind, at))
    }

    /// The node of a pid, port or reference: an atom, most often the same
    /// as in the one before (a list of pids), which then costs a comparison.
    fn node(&mut self) -> Result<Atom, DecodeError> {
        if let (Some(last), Some(&tag::SMALL_ATOM_UTF8)) =
            (&self.last_node, self.data.get(self.pos))
        {
            let len = last.len();
            let at = self.pos;
            if u8::try_from(len).ok().as_ref() == self.data.get(at + 1)
                && self.data.get(at + 2..at + 2 + len) == Some(last.as_bytes())
            {
                self.pos = at + 2 + len;
                return Ok(last.clone());
            }
        }
        let node = self.atom()?;
        self.last_node = Some(node.clone());
        Ok(node)
    }

    fn pid_body(&mut self, t: u8) -> Result<Pid, DecodeError> {
        let node = self.node()?;
        let word = |w: &[u8]| u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        // The fields at once: one bounds check rather than three.
        let (id, serial, creation) = if t == tag::PID {
            let w = self.array::<9>("PID")?;
            (word(&w[0..4]), word(&w[4..8]), w[8].into())
        } else {
            let w = self.array::<12>("NEW_PID")?;
            (word(&w[0..4]), word(&w[4..8]), word(&w[8..12]))
        };
        Ok(Pid {
            node,
            id,
            serial,
            creation,
        })
    }

    fn port_body(&mut self, t: u8) -> Result<Port, DecodeError> {
        let node = self.node()?;
        let (id, creation) = match t {
            tag::PORT => (self.u32("PORT")?.into(), self.u8("PORT")?.into()),
            tag::NEW_PORT => (self.u32("NEW_PORT")?.into(), self.u32("NEW_PORT")?),
            _ => (self.u64("V4_PORT")?, self.u32("V4_PORT")?),
        };
        Ok(Port { node, id, creation })
    }

    fn reference_body(&mut self, t: u8, at: usize) -> Result<Reference, DecodeError> {
        if t == tag::REFERENCE {
            let node = self.node()?;
            let id = self.u32("REFERENCE")?;
            let creation = self.u8("REFERENCE")?.into();
            return Ok(Reference {
                node,
                creation,
                ids: vec![id],
            });
        }
        let n = self.u16("reference length")?;
        if n == 0 || n > 5 {
            return Err(DecodeError::new(K::InvalidReferenceLength(n), at));
        }
        let node = self.node()?;
        let creation = if t == tag::NEW_REFERENCE {
            self.u8("NEW_REFERENCE")?.into()
        } else {
            self.u32("NEWER_REFERENCE")?
        };
        let words = self.take(4 * usize::from(n), "reference words")?;
        let ids = words
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        Ok(Reference {
            node,
            creation,
            ids,
        })
    }

    /// A fun's old index or old uniq: an integer the BEAM keeps as a signed
    /// 32-bit value, returned as its bits. As OTP 25 does, a bignum is cut
    /// to its low 32 bits.
    fn fun_int(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let at = self.pos;
        let t = self.u8(what)?;
        match t {
            tag::SMALL_INTEGER => Ok(self.u8(what)?.into()),
            tag::INTEGER => Ok(u32::from_be_bytes(self.array(what)?)),
            tag::SMALL_BIG | tag::LARGE_BIG => {
                let n = if t == tag::SMALL_BIG {
                    usize::from(self.u8(what)?)
                } else {
                    self.u32(what)? as usize
                };
                let sign = self.u8(what)?;
                let digits = self.take(n, what)?;
                let mut low = [0u8; 4];
                let k = n.min(4);
                low[..k].copy_from_slice(&digits[..k]);
                let bits = u32::from_le_bytes(low);
                Ok(if sign == 0 { bits } else { bits.wrapping_neg() })
            }
            other => Err(DecodeError::new(
                K::UnexpectedTag {
                    tag: other,
                    expected: "an integer",
                },
                at,
            )),
        }
    }

    /// A native record (RECORD_EXT, see [`tag::RECORD`]): its definition
    /// now, its values as a tuple's elements.
    fn record(&mut self, stack: &mut Vec<Frame>, at: usize) -> Result<Option<Term>, DecodeError> {
        let n = self.u32("RECORD")?;
        // A field takes a name (2 bytes at least, as a cache reference) and
        // a value (1 byte at least).
        let n = self.count(n, 3, "RECORD fields")?;
        let flags_at = self.pos;
        let exported = match self.u8("RECORD flags")? {
            0 => false,
            1 => true,
            other => return Err(DecodeError::new(K::InvalidRecordFlags(other), flags_at)),
        };
        let module = self.atom()?;
        let name = self.atom()?;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            fields.push(self.atom()?);
        }
        if let Some(i) = record::first_duplicate(&fields) {
            let field = fields.swap_remove(i);
            return Err(DecodeError::new(K::DuplicateRecordField(field), at));
        }
        let mut left = n;
        if left > 0 {
            self.check_depth(stack, at)?;
        }
        let mut values = Vec::with_capacity(n);
        self.fill(&mut values, &mut left)?;
        let record = Box::new(Record {
            module,
            name,
            exported,
            fields,
            values,
        });
        if left == 0 {
            return Ok(Some(Term::Record(record)));
        }
        self.push(stack, Frame::Record { record, left }, at)?;
        Ok(None)
    }

    fn fun(&mut self, stack: &mut Vec<Frame>, at: usize) -> Result<Option<Term>, DecodeError> {
        let size_at = self.pos;
        let size = self.u32("NEW_FUN")?;
        let arity = self.u8("NEW_FUN")?;
        let uniq = self.array::<16>("NEW_FUN")?;
        let index = self.u32("NEW_FUN")?;
        let nfree = self.u32("NEW_FUN")?;
        let nfree = self.count(nfree, 1, "NEW_FUN free variables")?;
        let module = self.atom()?;
        let old_index = self.fun_int("NEW_FUN old index")?;
        let old_uniq = self.fun_int("NEW_FUN old uniq")?;
        let pid_at = self.pos;
        let pid = match self.u8("NEW_FUN pid")? {
            t @ (tag::PID | tag::NEW_PID) => self.pid_body(t)?,
            other => {
                return Err(DecodeError::new(
                    K::UnexpectedTag {
                        tag: other,
                        expected: "a pid",
                    },
                    pid_at,
                ))
            }
        };
        let fun = Box::new(Fun {
            arity,
            uniq,
            index,
            module,
            old_index,
            old_uniq,
            pid,
            free_vars: Vec::with_capacity(nfree),
        });
        if nfree == 0 {
            check_fun_size(size, size_at, self.pos)?;
            return Ok(Some(Term::Fun(fun)));
        }
        self.push(
            stack,
            Frame::Fun {
                fun,
                left: nfree,
                size_at,
                size,
            },
            at,
        )?;
        Ok(None)
    }
}

/// True for the tags [`Parser::leaf`] reads: those that open no container.
fn is_leaf(t: u8) -> bool {
    matches!(
        t,
        tag::SMALL_INTEGER
            | tag::INTEGER
            | tag::SMALL_BIG
            | tag::LARGE_BIG
            | tag::NEW_FLOAT
            | tag::FLOAT
            | tag::ATOM
            | tag::SMALL_ATOM
            | tag::ATOM_UTF8
            | tag::SMALL_ATOM_UTF8
            | tag::ATOM_CACHE_REF
            | tag::NIL
            | tag::STRING
            | tag::BINARY
            | tag::BIT_BINARY
            | tag::PID
            | tag::NEW_PID
            | tag::PORT
            | tag::NEW_PORT
            | tag::V4_PORT
            | tag::REFERENCE
            | tag::NEW_REFERENCE
            | tag::NEWER_REFERENCE
            | tag::EXPORT
    )
}

fn check_fun_size(size: u32, size_at: usize, end: usize) -> Result<(), DecodeError> {
    let actual = end - size_at;
    if actual as u64 != u64::from(size) {
        return Err(DecodeError::new(
            K::FunSizeMismatch {
                declared: size,
                actual,
            },
            size_at,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(s: &str) -> Atom {
        Atom::new(s)
    }

    /// Tags OTP 28 no longer writes but still reads, and other corners:
    /// (body after the version byte, expected term).
    #[rustfmt::skip]
    fn table() -> Vec<(Vec<u8>, Term)> {
        let node = || atom("a@h");
        vec![
            ([&[99][..], b"-2.50000000000000000000e+01", &[0; 4]].concat(), Term::Float(-25.0)),
            (vec![100, 0, 2, b'o', 0xe9], Term::atom("o\u{e9}")),
            (vec![115, 2, b'o', b'k'], Term::atom("ok")),
            (vec![118, 0, 2, 0xce, 0xa9], Term::atom("\u{3a9}")),
            (vec![98, 255, 255, 255, 254], Term::Int(-2)),
            (vec![110, 1, 1, 5], Term::Int(-5)),
            (vec![110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128], Term::from(1u64 << 63)),
            (vec![110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128], Term::Int(i64::MIN)),
            (vec![111, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], Term::from(1i128 << 64)),
            (vec![105, 0, 0, 0, 1, 106], Term::Tuple(vec![Term::Nil])),
            (vec![103, 115, 3, b'a', b'@', b'h', 0, 0, 0, 1, 0, 0, 0, 2, 3],
                Term::Pid(Pid { node: node(), id: 1, serial: 2, creation: 3 })),
            (vec![102, 115, 3, b'a', b'@', b'h', 0, 0, 0, 1, 3], Term::Port(Port { node: node(), id: 1, creation: 3 })),
            (vec![89, 115, 3, b'a', b'@', b'h', 0, 0, 0, 1, 0, 0, 0, 3], Term::Port(Port { node: node(), id: 1, creation: 3 })),
            (vec![120, 115, 3, b'a', b'@', b'h', 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3],
                Term::Port(Port { node: node(), id: (1 << 56) + 1, creation: 3 })),
            (vec![101, 115, 3, b'a', b'@', b'h', 0, 0, 0, 9, 3],
                Term::Reference(Reference { node: node(), creation: 3, ids: vec![9] })),
            (vec![114, 0, 2, 115, 3, b'a', b'@', b'h', 3, 0, 0, 0, 9, 0, 0, 0, 8],
                Term::Reference(Reference { node: node(), creation: 3, ids: vec![9, 8] })),
            (vec![113, 115, 1, b'm', 115, 1, b'f', 97, 2],
                Term::Export(Export { module: atom("m"), function: atom("f"), arity: 2 })),
            (vec![108, 0, 0, 0, 1, 97, 1, 97, 2], Term::improper_list(vec![Term::Int(1)], Term::Int(2))),
            (vec![108, 0, 0, 0, 1, 97, 1, 107, 0, 1, 2], Term::ByteList(vec![1, 2])),
            (vec![77, 0, 0, 0, 2, 1, 1, 128],
                Term::BitBinary(BitBinary { bytes: Bytes::from_static(&[1, 128]), bits: 1 })),
        ]
    }

    #[test]
    fn every_old_and_odd_tag_decodes() {
        for (body, expected) in table() {
            let mut d = Decoder::new(&body);
            let t = d.read_body().unwrap_or_else(|e| panic!("{body:?}: {e}"));
            assert_eq!(t, expected, "{body:?}");
            assert_eq!(d.remaining(), 0, "{body:?}");
        }
    }

    #[test]
    fn nodes_may_be_nil_only_inside_local_ext() {
        let pid_with_nil_node = [88, 106, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let err = Decoder::new(&pid_with_nil_node).read_body().unwrap_err();
        assert_eq!(
            err.kind(),
            &K::UnexpectedTag {
                tag: 106,
                expected: "an atom"
            }
        );
        let mut local = vec![121, 1, 2, 3, 4];
        local.extend_from_slice(&pid_with_nil_node);
        let t = Decoder::new(&local).read_body().unwrap();
        assert!(matches!(&t, Term::Local(b) if b[..] == local[..]));
    }

    #[test]
    fn repeated_nodes_are_shared_and_new_ones_read() {
        let pid = |node: &str, id| {
            Term::Pid(Pid {
                node: atom(node),
                id,
                serial: 0,
                creation: 1,
            })
        };
        // A node of 300 bytes (ATOM_UTF8) then one of 300 mod 256 bytes.
        let long = "\u{e9}".repeat(150);
        let short = "\u{e9}".repeat(22);
        let list = Term::list(vec![
            pid("a@h", 1),
            pid("a@h", 2),
            pid("b@h", 3),
            pid("a@h", 4),
            pid(&long, 5),
            pid(&short, 6),
            pid("", 7),
        ]);
        let bytes = crate::to_vec(&list).unwrap();
        assert_eq!(crate::from_slice(&bytes).unwrap(), list);
    }

    /// A map of `n` small-integer keys (the last equal to the first when
    /// `duplicate`), each to 1 or, every third when `nested`, to `{1}`.
    fn map_bytes(n: u8, nested: bool, duplicate: bool) -> Vec<u8> {
        let mut bytes = vec![131, 116, 0, 0, 0, n];
        for i in 0..n {
            let key = if duplicate && i == n - 1 { 0 } else { i };
            bytes.extend_from_slice(&[97, key]);
            if nested && i % 3 == 0 {
                bytes.extend_from_slice(&[104, 1, 97, 1]);
            } else {
                bytes.extend_from_slice(&[97, 1]);
            }
        }
        bytes
    }

    #[test]
    fn maps_read_leaf_entries_in_place_and_still_reject_duplicate_keys() {
        for n in [1, 2, 5, 40] {
            for nested in [false, true] {
                let t = crate::from_slice(&map_bytes(n, nested, false)).unwrap();
                let Term::Map(map) = &t else {
                    panic!("not a map: {t:?}");
                };
                assert_eq!(map.len(), usize::from(n));
                for (i, (k, v)) in map.iter().enumerate() {
                    assert_eq!(k, &Term::Int(i as i64));
                    let one = if nested && i % 3 == 0 {
                        Term::tuple(vec![Term::Int(1)])
                    } else {
                        Term::Int(1)
                    };
                    assert_eq!(v, &one, "{n} {nested} {i}");
                }
                if n > 1 {
                    let err = crate::from_slice(&map_bytes(n, nested, true)).unwrap_err();
                    assert_eq!(err.kind(), &K::DuplicateMapKey, "{n} {nested}");
                    assert_eq!(err.offset(), 1, "{n} {nested}");
                }
            }
        }
    }

    #[test]
    fn old_float_rejects_garbage_and_infinity() {
        let mut inf = vec![99];
        inf.extend_from_slice(b"inf");
        inf.resize(32, 0);
        let err = Decoder::new(&inf).read_body().unwrap_err();
        assert_eq!(err.kind(), &K::NonFiniteFloat);
    }
}
