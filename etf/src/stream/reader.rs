//! The pull parser.

use super::event::{Event, Kind};
use super::source::Source;
use super::{skip, Error};
use crate::decode::tag;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::{DecodeOptions, Term};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::ops::Range;

/// A streaming reader of one `term_to_binary` term (version byte 131,
/// possibly compressed) from `R`; see the [module documentation](super).
pub struct Reader<R> {
    src: Source<R>,
    /// The open containers, innermost last.
    stack: Vec<Frame>,
    /// Whether the version byte (and a compressed header) has been read.
    started: bool,
    /// Whether the top-level value has begun.
    began: bool,
    /// Whether the end of the term has been reported.
    finished: bool,
    /// The bytes of a STRING_EXT list tail still to deliver as integers.
    string_tail: Vec<u8>,
    tail_next: usize,
    /// Latin-1 atom text converted to UTF-8.
    latin1: String,
    /// Recent short atoms' text, already checked: a dump repeats a few
    /// atoms (map keys, `true`, record names) many times, and comparing
    /// bytes costs less than checking them again as UTF-8 for each event.
    atoms: Vec<String>,
    /// The bytes of a value being read whole.
    whole: Vec<u8>,
    /// The offsets of values known to be larger than `large_limit` bytes,
    /// ascending, from the last [`Reader::read_small_term`] that found one.
    large: VecDeque<usize>,
    large_limit: usize,
    /// The largest inflated size a compressed term may declare.
    max_decompressed_size: usize,
    /// The first error, returned again by every later call.
    failed: Option<Error>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Tuple,
    Map,
    /// A list, `left` elements to go in its current segment.
    List,
    /// A list whose tail is not a list; `ImproperTail` not yet reported.
    TailPending,
    /// A list whose tail value is being read (`left` is 1 until it begins).
    Tail,
    /// A list whose elements and tail are all read.
    Done,
}

struct Frame {
    open: Open,
    /// Values still to begin in the container (keys and values for a map).
    left: u64,
}

/// What comes next, found without consuming a value.
enum Next {
    Value,
    StringByte,
    Close,
    ImproperTail,
    End,
}

/// An event whose borrowed data is a range of the source's window (or the
/// Latin-1 buffer), turned into an [`Event`] once the borrows are over.
enum Step {
    Ready(Event<'static>),
    Atom(Range<usize>),
    Latin1Atom,
    /// An atom whose text is `atoms[slot]`.
    CachedAtom(usize),
    String(Range<usize>),
    Binary(Range<usize>),
}

/// How many atoms [`Reader`] keeps checked, and up to what length.
/// Two ways in each of 32 sets ([`atom_set`]).
const ATOM_CACHE_SLOTS: usize = 64;
const ATOM_CACHE_LEN: usize = 32;

impl<R: Read> Reader<R> {
    /// A reader of the term in `input`. Nothing is read until the first call.
    /// `input` is read in large chunks, so it needs no buffering of its own.
    pub fn new(input: R) -> Reader<R> {
        Reader {
            src: Source::new(input),
            stack: Vec::new(),
            started: false,
            began: false,
            finished: false,
            string_tail: Vec::new(),
            tail_next: 0,
            latin1: String::new(),
            atoms: Vec::new(),
            whole: Vec::new(),
            large: VecDeque::new(),
            large_limit: 0,
            max_decompressed_size: DecodeOptions::DEFAULT_MAX_DECOMPRESSED_SIZE,
            failed: None,
        }
    }

    /// Sets the largest inflated size a compressed term (tag 80) may
    /// declare, as [`DecodeOptions::max_decompressed_size`] does for
    /// [`crate::from_slice`] (and with the same default, 64 MiB): a larger
    /// declaration fails with
    /// [`DecodeErrorKind::DecompressedTooLarge`](crate::DecodeErrorKind::DecompressedTooLarge)
    /// before anything is inflated, and a zlib stream that inflates past
    /// its declared size fails as soon as it does. A reader of a trusted
    /// compressed dump larger than the default raises it here (a term
    /// declares at most 4 GiB).
    ///
    /// ```
    /// use etf::{stream::Reader, DecodeErrorKind};
    ///
    /// let term = etf::Term::Binary(vec![0; 1000].into());
    /// let dump = term.encode(&etf::EncodeOptions::new().compression(Some(6))).unwrap();
    /// // The body (BINARY tag, length, bytes) is 1005 bytes.
    /// let mut reader = Reader::new(&dump[..]).max_decompressed_size(100);
    /// let err = reader.read_term().unwrap_err();
    /// let refused = DecodeErrorKind::DecompressedTooLarge { declared: 1005, limit: 100 };
    /// assert_eq!(err.as_decode().map(|e| e.kind()), Some(&refused));
    /// let mut reader = Reader::new(&dump[..]).max_decompressed_size(1005);
    /// assert_eq!(reader.read_term().unwrap(), Some(term));
    /// ```
    pub fn max_decompressed_size(mut self, bytes: usize) -> Reader<R> {
        self.max_decompressed_size = bytes;
        self
    }

    /// The offset of the next unread byte: from the version byte, or from
    /// the start of the inflated body of a compressed term.
    pub fn position(&self) -> usize {
        self.src.pos()
    }

    /// How many containers are open around the position.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// The next event, or `None` after the whole term (once the input has
    /// been checked to hold nothing more).
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        let fast = if self.fast_ready() {
            self.fast_value()
        } else {
            None
        };
        let step = match fast {
            Some(step) => step,
            None => match self.guard(Self::step) {
                Ok(Some(step)) => step,
                Ok(None) => return Ok(None),
                Err(err) => return Err(err),
            },
        };
        Ok(Some(self.event_of(step)))
    }

    /// The event of `step`, borrowing its data from the window.
    #[inline]
    fn event_of(&self, step: Step) -> Event<'_> {
        match step {
            Step::Ready(event) => event,
            Step::Atom(range) => match std::str::from_utf8(self.src.slice(range)) {
                Ok(text) => Event::Atom(text),
                // Checked when the step was made.
                Err(_) => Event::Atom(""),
            },
            Step::Latin1Atom => Event::Atom(&self.latin1),
            Step::CachedAtom(slot) => Event::Atom(&self.atoms[slot]),
            Step::String(range) => Event::String(self.src.slice(range)),
            Step::Binary(range) => Event::Binary(self.src.slice(range)),
        }
    }

    /// Whether a value of the innermost container comes next with nothing
    /// to settle first (no error, no string tail, elements left): the
    /// common case, which [`Reader::fast_value`] may take without
    /// [`Reader::settle`].
    #[inline]
    fn fast_ready(&self) -> bool {
        self.failed.is_none()
            && self.tail_next >= self.string_tail.len()
            && self.stack.last().is_some_and(|top| top.left > 0)
    }

    /// The next value when its encoding is whole in the window and of a
    /// common kind (small integers, finite floats, checked short atoms,
    /// binaries, `[]`, container starts), read with one bounds check per
    /// field and no error path; `None` leaves everything as it was, for
    /// [`Reader::step`] to read (and report any error).
    #[inline]
    fn fast_value(&mut self) -> Option<Step> {
        let w = self.src.window();
        let (&t, rest) = w.split_first()?;
        let (len, event) = match t {
            tag::SMALL_INTEGER => (2, Event::Int((*rest.first()?).into())),
            tag::INTEGER => (5, Event::Int(i64::from(be_u32(rest.get(..4)?) as i32))),
            tag::NEW_FLOAT => {
                let b = rest.get(..8)?;
                let f = f64::from_bits(u64::from_be_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]));
                if !f.is_finite() {
                    return None;
                }
                (9, Event::Float(f))
            }
            tag::SMALL_ATOM_UTF8 | tag::SMALL_ATOM => {
                let n = usize::from(*rest.first()?);
                let text = rest.get(1..1 + n)?;
                let slot = self.cached_atom(t, text)?;
                self.begin_fast();
                self.src.consume(2 + n);
                return Some(Step::CachedAtom(slot));
            }
            tag::BINARY => {
                let n = be_u32(rest.get(..4)?) as usize;
                rest.get(4..4 + n)?;
                self.begin_fast();
                self.src.consume(5);
                return Some(Step::Binary(self.src.take(n)));
            }
            tag::NIL => (1, Event::Nil),
            tag::SMALL_TUPLE => {
                let n = *rest.first()?;
                self.begin_fast();
                self.src.consume(2);
                self.open(Open::Tuple, n.into());
                return Some(Step::Ready(Event::TupleStart(n.into())));
            }
            tag::MAP => {
                let n = be_u32(rest.get(..4)?);
                self.begin_fast();
                self.src.consume(5);
                self.open(Open::Map, 2 * u64::from(n));
                return Some(Step::Ready(Event::MapStart(n as usize)));
            }
            tag::LIST => {
                let n = be_u32(rest.get(..4)?);
                if n == 0 {
                    return None;
                }
                self.begin_fast();
                self.src.consume(5);
                self.open(Open::List, n.into());
                return Some(Step::Ready(Event::ListStart(n as usize)));
            }
            _ => return None,
        };
        self.begin_fast();
        self.src.consume(len);
        Some(Step::Ready(event))
    }

    /// [`Reader::begin_value`] when [`Reader::fast_ready`] holds.
    #[inline]
    fn begin_fast(&mut self) {
        if let Some(top) = self.stack.last_mut() {
            top.left -= 1;
        }
    }

    /// The cache slot holding the text of the short atom `text` (tag `t`),
    /// when it is there; a Latin-1 atom must be ASCII to match.
    #[inline]
    fn cached_atom(&self, t: u8, text: &[u8]) -> Option<usize> {
        let (&first, &last) = (text.first()?, text.last()?);
        if text.len() > ATOM_CACHE_LEN || (t == tag::SMALL_ATOM && !text.is_ascii()) {
            return None;
        }
        let set = atom_set(text.len(), first, last);
        (set..set + 2).find(|&slot| self.atoms.get(slot).is_some_and(|a| a.as_bytes() == text))
    }

    /// Reads the next value whole, as [`crate::from_slice`] would decode
    /// it; `None` when the innermost container has no value left (its end,
    /// or an `ImproperTail`, is the next event) or the term is done. Its
    /// memory is the value's size.
    pub fn read_term(&mut self) -> Result<Option<Term>, Error> {
        self.guard(|r| match r.settle()? {
            Next::Value => {
                r.begin_value();
                skip::read_value(&mut r.src, &mut r.whole).map(Some)
            }
            Next::StringByte => Ok(Some(Term::Int(r.string_byte().into()))),
            Next::Close | Next::ImproperTail | Next::End => Ok(None),
        })
    }

    /// As [`Reader::read_term`] when the next value's encoding takes at most
    /// `max_bytes`; `None` when it is larger (having put back what it read,
    /// so that events can stream it) or no value comes next. For a printer
    /// that renders small values whole and streams only large containers.
    pub fn read_small_term(&mut self, max_bytes: usize) -> Result<Option<Term>, Error> {
        self.guard(|r| match r.settle()? {
            Next::Value => {
                let at = r.src.pos();
                while r.large.front().is_some_and(|&start| start < at) {
                    r.large.pop_front();
                }
                if r.large.front() == Some(&at) && r.large_limit == max_bytes {
                    return Ok(None);
                }
                match skip::read_small_value(&mut r.src, &mut r.whole, max_bytes)? {
                    Ok(term) => {
                        r.begin_value();
                        Ok(Some(term))
                    }
                    Err((large, _)) => {
                        // Remembered so that the values inside this one are
                        // not looked at again, which would cost `max_bytes`
                        // per level of a deep term.
                        r.large = large.into();
                        r.large_limit = max_bytes;
                        Ok(None)
                    }
                }
            }
            Next::StringByte => Ok(Some(Term::Int(r.string_byte().into()))),
            Next::Close | Next::ImproperTail | Next::End => Ok(None),
        })
    }

    /// The kind of the next value, from its tag; `None` when an end (or
    /// `ImproperTail`) event comes next instead.
    pub fn peek_kind(&mut self) -> Result<Option<Kind>, Error> {
        self.guard(|r| {
            Ok(match r.settle()? {
                Next::StringByte => Some(Kind::Integer),
                Next::Value => {
                    r.src.need(1, "tag")?;
                    Some(kind_of(r.src.window()[0]))
                }
                Next::Close | Next::ImproperTail | Next::End => None,
            })
        })
    }

    /// Whether the innermost open list is reading (or has read) its
    /// non-list tail.
    pub(crate) fn in_tail(&self) -> bool {
        self.stack.last().is_some_and(|f| f.open == Open::Tail)
    }

    /// Runs `f`, remembering its error and refusing to go on after one.
    fn guard<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<T, Error> {
        if let Some(err) = &self.failed {
            return Err(again(err));
        }
        f(self).inspect_err(|err| self.failed = Some(again(err)))
    }

    /// Finds what comes next: resolves list tails (a list tail continues the
    /// same list) and reads the version byte first.
    fn settle(&mut self) -> Result<Next, Error> {
        if !self.started {
            self.start()?;
        }
        loop {
            if self.tail_next < self.string_tail.len() {
                return Ok(Next::StringByte);
            }
            let Some(top) = self.stack.last_mut() else {
                return Ok(if self.began { Next::End } else { Next::Value });
            };
            if top.left > 0 {
                return Ok(Next::Value);
            }
            match top.open {
                Open::Tuple | Open::Map | Open::Tail | Open::Done => return Ok(Next::Close),
                Open::TailPending => return Ok(Next::ImproperTail),
                Open::List => {}
            }
            self.src.need(1, "list tail")?;
            match self.src.window()[0] {
                tag::NIL => {
                    self.src.consume(1);
                    set_open(&mut self.stack, Open::Done);
                }
                tag::LIST => {
                    self.src.need(5, "LIST")?;
                    let n = be_u32(&self.src.window()[1..5]);
                    self.src.consume(5);
                    if let Some(top) = self.stack.last_mut() {
                        top.left = n.into();
                    }
                }
                tag::STRING => {
                    self.src.need(3, "STRING")?;
                    let n = usize::from(be_u16(&self.src.window()[1..3]));
                    self.src.need(3 + n, "STRING")?;
                    self.string_tail.clear();
                    self.string_tail
                        .extend_from_slice(&self.src.window()[3..3 + n]);
                    self.tail_next = 0;
                    self.src.consume(3 + n);
                    set_open(&mut self.stack, Open::Done);
                }
                _ => set_open(&mut self.stack, Open::TailPending),
            }
        }
    }

    /// Reads the version byte and, for a compressed term, its header.
    fn start(&mut self) -> Result<(), Error> {
        self.src.need(1, "version byte")?;
        let version = self.src.window()[0];
        if version != crate::VERSION {
            return Err(DecodeError::new(K::BadVersion(version), 0).into());
        }
        self.src.consume(1);
        self.src.need(1, "tag")?;
        if self.src.window()[0] == tag::COMPRESSED {
            self.src.need(5, "compressed term size")?;
            let declared = be_u32(&self.src.window()[1..5]);
            let limit = self.max_decompressed_size;
            if declared as usize > limit {
                let kind = K::DecompressedTooLarge {
                    declared: declared.into(),
                    limit,
                };
                return Err(DecodeError::new(kind, self.src.pos() + 1).into());
            }
            self.src.consume(5);
            self.src.start_inflate(declared);
        }
        self.started = true;
        Ok(())
    }

    /// Counts the value about to be read against its container.
    fn begin_value(&mut self) {
        match self.stack.last_mut() {
            Some(top) => {
                top.left -= 1;
            }
            None => self.began = true,
        }
    }

    fn string_byte(&mut self) -> u8 {
        let byte = self.string_tail[self.tail_next];
        self.tail_next += 1;
        if self.tail_next == self.string_tail.len() {
            self.string_tail.clear();
            self.tail_next = 0;
        }
        byte
    }

    /// The next step, `None` at the end of the term.
    fn step(&mut self) -> Result<Option<Step>, Error> {
        let event = match self.settle()? {
            Next::End => {
                if !self.finished {
                    self.check_end()?;
                    self.finished = true;
                }
                return Ok(None);
            }
            Next::Close => {
                let closed = self.stack.pop().map(|f| f.open);
                match closed {
                    Some(Open::Tuple) => Event::TupleEnd,
                    Some(Open::Map) => Event::MapEnd,
                    _ => Event::ListEnd,
                }
            }
            Next::ImproperTail => {
                if let Some(top) = self.stack.last_mut() {
                    top.open = Open::Tail;
                    top.left = 1;
                }
                Event::ImproperTail
            }
            Next::StringByte => Event::Int(self.string_byte().into()),
            Next::Value => {
                self.begin_value();
                return self.value().map(Some);
            }
        };
        Ok(Some(Step::Ready(event)))
    }

    /// Reads a value's tag and what the event needs of it.
    fn value(&mut self) -> Result<Step, Error> {
        loop {
            let at = self.src.pos();
            self.src.need(1, "tag")?;
            let t = self.src.window()[0];
            let event = match t {
                tag::SMALL_INTEGER => {
                    self.src.need(2, "SMALL_INTEGER")?;
                    let n = self.src.window()[1];
                    self.src.consume(2);
                    Event::Int(n.into())
                }
                tag::INTEGER => {
                    self.src.need(5, "INTEGER")?;
                    let n = be_u32(&self.src.window()[1..5]) as i32;
                    self.src.consume(5);
                    Event::Int(n.into())
                }
                tag::NEW_FLOAT => {
                    self.src.need(9, "NEW_FLOAT")?;
                    let w = self.src.window();
                    let bits = u64::from_be_bytes([w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]]);
                    let f = f64::from_bits(bits);
                    if !f.is_finite() {
                        return Err(DecodeError::new(K::NonFiniteFloat, at).into());
                    }
                    self.src.consume(9);
                    Event::Float(f)
                }
                tag::ATOM | tag::ATOM_UTF8 | tag::SMALL_ATOM | tag::SMALL_ATOM_UTF8 => {
                    return self.atom(t, at);
                }
                tag::NIL => {
                    self.src.consume(1);
                    Event::Nil
                }
                tag::STRING => {
                    self.src.need(3, "STRING")?;
                    let n = usize::from(be_u16(&self.src.window()[1..3]));
                    self.src.need(3 + n, "STRING")?;
                    self.src.consume(3);
                    let range = self.src.take(n);
                    return Ok(if n == 0 {
                        Step::Ready(Event::Nil)
                    } else {
                        Step::String(range)
                    });
                }
                tag::BINARY => {
                    self.src.need(5, "BINARY")?;
                    let n = be_u32(&self.src.window()[1..5]) as usize;
                    self.src.consume(5);
                    self.src.need(n, "BINARY")?;
                    return Ok(Step::Binary(self.src.take(n)));
                }
                tag::SMALL_TUPLE => {
                    self.src.need(2, "SMALL_TUPLE")?;
                    let n = self.src.window()[1];
                    self.src.consume(2);
                    self.open(Open::Tuple, n.into());
                    Event::TupleStart(n.into())
                }
                tag::LARGE_TUPLE => {
                    self.src.need(5, "LARGE_TUPLE")?;
                    let n = be_u32(&self.src.window()[1..5]);
                    self.src.consume(5);
                    self.open(Open::Tuple, n.into());
                    Event::TupleStart(n as usize)
                }
                tag::MAP => {
                    self.src.need(5, "MAP")?;
                    let n = be_u32(&self.src.window()[1..5]);
                    self.src.consume(5);
                    self.open(Open::Map, 2 * u64::from(n));
                    Event::MapStart(n as usize)
                }
                tag::LIST => {
                    self.src.need(5, "LIST")?;
                    let n = be_u32(&self.src.window()[1..5]);
                    self.src.consume(5);
                    if n == 0 {
                        // An empty LIST_EXT is its tail, as the decoder reads it.
                        continue;
                    }
                    self.open(Open::List, n.into());
                    Event::ListStart(n as usize)
                }
                tag::ATOM_CACHE_REF => return Err(DecodeError::new(K::NoAtomCache, at).into()),
                _ => match skip::read_value(&mut self.src, &mut self.whole)? {
                    Term::Int(n) => Event::Int(n),
                    Term::Float(f) => Event::Float(f),
                    other => Event::Term(other),
                },
            };
            return Ok(Step::Ready(event));
        }
    }

    fn open(&mut self, open: Open, left: u64) {
        self.stack.push(Frame { open, left });
    }

    /// An atom, validated as the decoder does.
    fn atom(&mut self, t: u8, at: usize) -> Result<Step, Error> {
        let small = t == tag::SMALL_ATOM || t == tag::SMALL_ATOM_UTF8;
        let header = if small { 2 } else { 3 };
        self.src.need(header, "atom")?;
        let w = self.src.window();
        let n = if small {
            usize::from(w[1])
        } else {
            usize::from(be_u16(&w[1..3]))
        };
        self.src.need(header + n, "atom")?;
        let text = &self.src.window()[header..header + n];
        let utf8 = t == tag::ATOM_UTF8 || t == tag::SMALL_ATOM_UTF8;
        let latin1 = !utf8 && !text.is_ascii();
        if utf8 && !text.is_ascii() {
            let chars = std::str::from_utf8(text)
                .map_err(|_| DecodeError::new(K::InvalidUtf8Atom, at))?
                .chars()
                .count();
            if chars > 255 {
                return Err(DecodeError::new(K::AtomTooLong(chars), at).into());
            }
        } else if n > 255 {
            return Err(DecodeError::new(K::AtomTooLong(n), at).into());
        }
        if latin1 {
            self.latin1.clear();
            self.latin1.extend(text.iter().map(|&b| char::from(b)));
        } else if let (1..=ATOM_CACHE_LEN, Some(&first), Some(&last)) =
            (n, text.first(), text.last())
        {
            let set = atom_set(n, first, last);
            if self.atoms.is_empty() {
                self.atoms = vec![String::new(); ATOM_CACHE_SLOTS];
            }
            let slot = if self.atoms[set].as_bytes() == text {
                set
            } else if self.atoms[set + 1].as_bytes() == text {
                set + 1
            } else {
                // The set's older atom goes; the newer one moves over.
                self.atoms.swap(set, set + 1);
                // Checked above when not ASCII.
                let checked = std::str::from_utf8(text).unwrap_or_default();
                self.atoms[set].clear();
                self.atoms[set].push_str(checked);
                set
            };
            self.src.consume(header + n);
            return Ok(Step::CachedAtom(slot));
        }
        self.src.consume(header);
        let range = self.src.take(n);
        Ok(if latin1 {
            Step::Latin1Atom
        } else {
            Step::Atom(range)
        })
    }

    /// After the term: nothing may follow it.
    fn check_end(&mut self) -> Result<(), Error> {
        let at = self.src.pos();
        let mut trailing = 0;
        while !self.src.at_end()? {
            let n = self.src.window().len();
            trailing += n;
            self.src.consume(n);
        }
        if trailing > 0 {
            return Err(DecodeError::new(K::TrailingBytes(trailing), at).into());
        }
        Ok(())
    }
}

/// The first of the two atom cache slots (a set) where a text of `n` bytes
/// from `first` to `last` may be: its length and ends, mixed by
/// multiplying (the top 5 bits pick one of 32 sets), and two ways so that
/// two frequent atoms of one set do not evict each other.
#[inline]
fn atom_set(n: usize, first: u8, last: u8) -> usize {
    let ends = u32::from(first) << 8 | u32::from(last);
    // Only the low bits of the length matter to the mix.
    let mixed = ends
        .wrapping_mul(0x9E37_79B1)
        .wrapping_add((n as u32).wrapping_mul(0x85EB_CA6B));
    (mixed >> 27) as usize * 2
}

fn set_open(stack: &mut [Frame], open: Open) {
    if let Some(top) = stack.last_mut() {
        top.open = open;
    }
}

/// The kind of value a tag starts.
fn kind_of(t: u8) -> Kind {
    match t {
        tag::SMALL_INTEGER | tag::INTEGER | tag::SMALL_BIG | tag::LARGE_BIG => Kind::Integer,
        tag::NEW_FLOAT | tag::FLOAT => Kind::Float,
        tag::ATOM | tag::ATOM_UTF8 | tag::SMALL_ATOM | tag::SMALL_ATOM_UTF8 => Kind::Atom,
        tag::NIL | tag::STRING | tag::LIST => Kind::List,
        tag::BINARY | tag::BIT_BINARY => Kind::Binary,
        tag::SMALL_TUPLE | tag::LARGE_TUPLE => Kind::Tuple,
        tag::MAP => Kind::Map,
        _ => Kind::Other,
    }
}

/// A copy of `err` to return again.
fn again(err: &Error) -> Error {
    match err {
        Error::Decode(err) => Error::Decode(err.clone()),
        Error::Io(err) => Error::Io(io::Error::new(err.kind(), err.to_string())),
    }
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}
