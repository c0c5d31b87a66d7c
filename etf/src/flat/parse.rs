//! Bytes to tape: one iterative pass that appends a node per term, in
//! pre-order, and checks everything the tree decoder checks.
//!
//! Containers are patched when they close (the index past their subtree);
//! the open ones wait on an explicit stack, so no input can overflow the
//! Rust stack. Local funs, native records, LOCAL_EXT terms and the old
//! tags (FLOAT, EXPORT) go through the tree decoder, which checks them and
//! finds where they end.

use super::build::Parts;
use super::intern::Interner;
use super::node::{Kind, Node};
use super::Atoms;
use crate::decode::cursor::Cursor;
use crate::decode::{parse_at, tag, truncated};
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::map::first_duplicate;
use crate::options::DecodeOptions;
use crate::term::{Atom, Term};
use std::cell::RefCell;

/// What an open container waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Tuple,
    /// A list's elements; once they are read, its tail.
    List,
    /// The tail of an improper list.
    Tail,
    Map,
    /// The tail of a list with no elements: the tail is the term itself,
    /// and the list leaves no node (it only counts for the depth limit).
    Wrap,
}

/// An open container.
#[derive(Clone, Copy)]
struct Frame {
    node: usize,
    left: usize,
    at: usize,
    open: Open,
}

/// What a decode needs besides its output, kept for the thread's next one.
struct Scratch {
    frames: Vec<Frame>,
    interner: Interner,
    keys: Vec<(Kind, u64)>,
}

/// The most nodes reserved before decoding (1 MiB).
const MAX_RESERVED_NODES: usize = 1 << 16;

/// A stack of open containers is kept when it held at most this many.
const SPARE_FRAMES: usize = 256;

thread_local! {
    static SCRATCH: RefCell<Scratch> = const {
        RefCell::new(Scratch { frames: Vec::new(), interner: Interner::new(), keys: Vec::new() })
    };
}

impl Default for Scratch {
    fn default() -> Scratch {
        Scratch {
            frames: Vec::new(),
            interner: Interner::new(),
            keys: Vec::new(),
        }
    }
}

/// The tape of the term at `start` of `data`, its atoms, and the offset
/// after it.
#[inline(always)]
pub(super) fn parse(
    data: &[u8],
    start: usize,
    opts: &DecodeOptions,
) -> Result<(Vec<Node>, Atoms, usize), DecodeError> {
    let fresh = || parse_with(&mut Scratch::default(), data, start, opts);
    SCRATCH
        .try_with(|s| match s.try_borrow_mut() {
            Ok(mut scratch) => parse_with(&mut scratch, data, start, opts),
            Err(_) => fresh(),
        })
        .unwrap_or_else(|_| fresh())
}

fn parse_with(
    scratch: &mut Scratch,
    data: &[u8],
    start: usize,
    opts: &DecodeOptions,
) -> Result<(Vec<Node>, Atoms, usize), DecodeError> {
    scratch.interner.reset();
    scratch.frames.clear();
    scratch.keys.clear();
    // Every node takes at least one byte of input, nearly all two; past
    // 1 MiB of nodes the buffer grows as needed (a large binary would
    // otherwise reserve eight times its size).
    let capacity = match data.get(start) {
        // A term that is one binary is one node.
        Some(&tag::BINARY) => 1,
        _ => ((data.len() - start.min(data.len())) / 2 + 2).min(MAX_RESERVED_NODES),
    };
    let mut tape = Tape {
        data,
        pos: start,
        opts,
        nodes: Vec::with_capacity(capacity),
        atoms: Atoms::new(),
        frames: &mut scratch.frames,
        interner: &mut scratch.interner,
        keys: &mut scratch.keys,
    };
    let result = tape.run();
    let (nodes, atoms, pos) = (tape.nodes, tape.atoms, tape.pos);
    if scratch.frames.capacity() > SPARE_FRAMES {
        scratch.frames = Vec::new();
    }
    result?;
    Ok((nodes, atoms, pos))
}

/// The decoder's state.
struct Tape<'d, 's> {
    data: &'d [u8],
    pos: usize,
    opts: &'d DecodeOptions,
    nodes: Vec<Node>,
    atoms: Atoms,
    frames: &'s mut Vec<Frame>,
    interner: &'s mut Interner,
    keys: &'s mut Vec<(Kind, u64)>,
}

impl<'d> Cursor<'d> for Tape<'d, '_> {
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

impl<'d> Tape<'d, '_> {
    fn run(&mut self) -> Result<(), DecodeError> {
        loop {
            if self.value()? && self.deliver()? {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// Reads the top container's elements while they are the commonest
    /// leaves (integers, UTF-8 atoms, `[]`), in a tight loop; the last
    /// element is left to [`Tape::value`], which closes the container.
    #[inline]
    fn fill(&mut self) -> Result<(), DecodeError> {
        let Some(top) = self.frames.last_mut() else {
            return Ok(());
        };
        let data: &'d [u8] = self.data;
        let mut left = top.left;
        let mut pos = self.pos;
        while left > 1 {
            let node = match *data.get(pos..).unwrap_or_default() {
                [tag::SMALL_INTEGER, b, ..] => {
                    pos += 2;
                    Node::new(Kind::Int, 0, b.into())
                }
                [tag::INTEGER, b0, b1, b2, b3, ..] => {
                    pos += 5;
                    let v = i64::from(i32::from_be_bytes([b0, b1, b2, b3]));
                    Node::new(Kind::Int, 0, v as u64)
                }
                [tag::SMALL_ATOM_UTF8, len, ref rest @ ..] if rest.len() >= usize::from(len) => {
                    let index = self
                        .interner
                        .intern_utf8_at(&mut self.atoms, data, pos + 2, len.into())
                        .map_err(|kind| DecodeError::new(kind, pos))?;
                    pos += 2 + usize::from(len);
                    Node::new(Kind::Atom, index, 0)
                }
                [tag::NIL, ..] => {
                    pos += 1;
                    Node::new(Kind::Nil, 0, 0)
                }
                _ => break,
            };
            self.nodes.push(node);
            left -= 1;
        }
        top.left = left;
        self.pos = pos;
        Ok(())
    }

    // ------------------------------------------------------------ raw reads

    #[inline]
    fn push(&mut self, node: Node) {
        self.nodes.push(node);
    }

    /// Fails if a container opened at `at` with `depth` containers open
    /// around it would nest too deep.
    #[inline]
    fn check_depth(&self, depth: usize, at: usize) -> Result<(), DecodeError> {
        match self.opts.max_depth {
            Some(limit) if depth >= limit => Err(DecodeError::new(K::TooDeep(limit), at)),
            _ => Ok(()),
        }
    }

    // ------------------------------------------------------------ the loop

    /// Reads one tag: true when it completed a value, false when it opened
    /// a container.
    #[inline]
    fn value(&mut self) -> Result<bool, DecodeError> {
        let at = self.pos;
        let data: &'d [u8] = self.data;
        match *data.get(at..).unwrap_or_default() {
            [tag::SMALL_INTEGER, b, ..] => {
                self.pos += 2;
                self.push(Node::new(Kind::Int, 0, b.into()));
                Ok(true)
            }
            [tag::INTEGER, b0, b1, b2, b3, ..] => {
                self.pos += 5;
                let v = i64::from(i32::from_be_bytes([b0, b1, b2, b3]));
                self.push(Node::new(Kind::Int, 0, v as u64));
                Ok(true)
            }
            [tag::SMALL_ATOM_UTF8, len, ..] => {
                self.pos += 2;
                let start = self.pos;
                self.take(len.into(), "atom")?;
                let index = self
                    .interner
                    .intern_utf8_at(&mut self.atoms, data, start, len.into())
                    .map_err(|kind| DecodeError::new(kind, at))?;
                self.push(Node::new(Kind::Atom, index, 0));
                Ok(true)
            }
            [t, ..] => {
                self.pos += 1;
                self.tagged(t, at)
            }
            [] => Err(truncated("tag", 1, 0, at)),
        }
    }

    /// Hands a finished value to the open containers, closing each that it
    /// completes: true when the whole term is done.
    #[inline]
    fn deliver(&mut self) -> Result<bool, DecodeError> {
        loop {
            let Some(top) = self.frames.last_mut() else {
                return Ok(true);
            };
            top.left -= 1;
            if top.left > 0 {
                return Ok(false);
            }
            let frame = *top;
            match frame.open {
                Open::List => {
                    if !self.list_end()? {
                        return Ok(false);
                    }
                    continue;
                }
                Open::Tuple | Open::Tail => self.close(frame.node),
                Open::Map => {
                    self.close(frame.node);
                    self.check_map(frame.node, frame.at)?;
                }
                Open::Wrap => {}
            }
            self.frames.pop();
        }
    }

    /// Sets a container's end to the current end of the tape.
    #[inline]
    fn close(&mut self, node: usize) {
        let end = self.nodes.len() as u64;
        if let Some(n) = self.nodes.get_mut(node) {
            n.payload = end;
        }
    }

    /// Opens a tuple or map of `children` children (`n` on the wire).
    fn open(
        &mut self,
        kind: Kind,
        n: usize,
        children: usize,
        open: Open,
        at: usize,
    ) -> Result<bool, DecodeError> {
        let node = self.nodes.len();
        if children == 0 {
            self.push(Node::new(kind, 0, node as u64 + 1));
            return Ok(true);
        }
        self.check_depth(self.frames.len(), at)?;
        self.push(Node::new(kind, n as u32, 0));
        self.frames.push(Frame {
            node,
            left: children,
            at,
            open,
        });
        Ok(false)
    }

    /// Reads the term of tag `t` (at `at`, already read).
    fn tagged(&mut self, t: u8, at: usize) -> Result<bool, DecodeError> {
        match t {
            tag::SMALL_TUPLE | tag::LARGE_TUPLE => {
                let n = if t == tag::SMALL_TUPLE {
                    self.u8("SMALL_TUPLE")?.into()
                } else {
                    self.u32("LARGE_TUPLE")?
                };
                let n = self.count(n, 1, "tuple")?;
                self.open(Kind::Tuple, n, n, Open::Tuple, at)
            }
            tag::MAP => {
                let n = self.u32("MAP")?;
                let n = self.count(n, 2, "MAP")?;
                self.open(Kind::Map, n, 2 * n, Open::Map, at)
            }
            tag::LIST => {
                let n = self.u32("LIST")?;
                let n = self.count(n, 1, "LIST")?;
                let node = self.nodes.len();
                self.push(Node::new(Kind::List, n as u32, 0));
                self.frames.push(Frame {
                    node,
                    left: n,
                    at,
                    open: Open::List,
                });
                if n > 0 {
                    // The depth of the list's own frame, as the tree decoder counts it.
                    self.check_depth(self.frames.len() - 1, at)?;
                    return Ok(false);
                }
                self.list_end()
            }
            tag::NIL => {
                self.push(Node::new(Kind::Nil, 0, 0));
                Ok(true)
            }
            tag::NEW_FLOAT => {
                let f = f64::from_be_bytes(self.array("NEW_FLOAT")?);
                if !f.is_finite() {
                    return Err(DecodeError::new(K::NonFiniteFloat, at));
                }
                self.push(Node::new(Kind::Float, 0, f.to_bits()));
                Ok(true)
            }
            tag::STRING => {
                let n = self.u16("STRING")?;
                let start = self.pos;
                self.take(n.into(), "STRING")?;
                self.push(if n == 0 {
                    Node::new(Kind::Nil, 0, 0)
                } else {
                    Node::new(Kind::ByteList, n.into(), start as u64)
                });
                Ok(true)
            }
            tag::BINARY => {
                let n = self.u32("BINARY")?;
                let start = self.pos;
                self.take(n as usize, "BINARY")?;
                self.push(Node::new(Kind::Binary, n, start as u64));
                Ok(true)
            }
            tag::BIT_BINARY => {
                let n = self.u32("BIT_BINARY")?;
                let bits = self.u8("BIT_BINARY")?;
                let start = self.pos;
                self.take(n as usize, "BIT_BINARY")?;
                let node = match (n, bits) {
                    (0, 0) | (_, 8) => Node::new(Kind::Binary, n, start as u64),
                    (1.., 1..=7) => Node {
                        small: bits.into(),
                        ..Node::new(Kind::BitBinary, n, start as u64)
                    },
                    _ => return Err(DecodeError::new(K::InvalidBitCount(bits), at)),
                };
                self.push(node);
                Ok(true)
            }
            tag::SMALL_BIG => {
                let n = self.u8("SMALL_BIG")?;
                self.big(n.into(), "SMALL_BIG")
            }
            tag::LARGE_BIG => {
                let n = self.u32("LARGE_BIG")?;
                self.big(n, "LARGE_BIG")
            }
            tag::ATOM | tag::SMALL_ATOM | tag::ATOM_UTF8 | tag::SMALL_ATOM_UTF8 => {
                let index = self.atom_body(t, at)?;
                self.push(Node::new(Kind::Atom, index, 0));
                Ok(true)
            }
            tag::PID | tag::NEW_PID => {
                let node = self.atom()?;
                let start = self.pos;
                let size = if t == tag::PID { 9 } else { 12 };
                if self.left() >= size {
                    self.pos += size;
                } else {
                    // Not all there: the error of the field that is missing.
                    self.u32("PID")?;
                    self.u32("PID")?;
                    if t == tag::PID {
                        self.u8("PID")?;
                    } else {
                        self.u32("NEW_PID")?;
                    }
                }
                self.push(Node {
                    tag: t,
                    ..Node::new(Kind::Pid, node, start as u64)
                });
                Ok(true)
            }
            tag::PORT | tag::NEW_PORT | tag::V4_PORT => {
                let node = self.atom()?;
                let start = self.pos;
                match t {
                    tag::PORT => {
                        self.u32("PORT")?;
                        self.u8("PORT")?;
                    }
                    tag::NEW_PORT => {
                        self.u32("NEW_PORT")?;
                        self.u32("NEW_PORT")?;
                    }
                    _ => {
                        self.array::<8>("V4_PORT")?;
                        self.u32("V4_PORT")?;
                    }
                }
                self.push(Node {
                    tag: t,
                    ..Node::new(Kind::Port, node, start as u64)
                });
                Ok(true)
            }
            tag::REFERENCE => {
                let node = self.atom()?;
                let start = self.pos;
                self.u32("REFERENCE")?;
                self.u8("REFERENCE")?;
                self.push(Node {
                    tag: t,
                    small: 1,
                    ..Node::new(Kind::Reference, node, start as u64)
                });
                Ok(true)
            }
            tag::NEW_REFERENCE | tag::NEWER_REFERENCE => {
                let n = self.u16("reference length")?;
                if n == 0 || n > 5 {
                    return Err(DecodeError::new(K::InvalidReferenceLength(n), at));
                }
                let node = self.atom()?;
                let start = self.pos;
                if t == tag::NEW_REFERENCE {
                    self.u8("NEW_REFERENCE")?;
                } else {
                    self.u32("NEWER_REFERENCE")?;
                }
                self.take(4 * usize::from(n), "reference words")?;
                self.push(Node {
                    tag: t,
                    small: n,
                    ..Node::new(Kind::Reference, node, start as u64)
                });
                Ok(true)
            }
            _ => self.foreign(at),
        }
    }

    /// After a list's elements (its frame on top): reads its tail when it
    /// is a list, continuing the same list so that chained tails do not
    /// nest. True when the list is finished (its frame popped).
    fn list_end(&mut self) -> Result<bool, DecodeError> {
        let Some(&frame) = self.frames.last() else {
            return Ok(true);
        };
        let count = self.nodes.get(frame.node).map_or(0, |n| n.len);
        loop {
            let at = self.pos;
            match self.data.get(at) {
                Some(&tag::NIL) => {
                    self.pos += 1;
                    if count == 0 {
                        self.nodes[frame.node] = Node::new(Kind::Nil, 0, 0);
                    } else {
                        self.close(frame.node);
                    }
                    self.frames.pop();
                    return Ok(true);
                }
                Some(&tag::LIST) => {
                    self.pos += 1;
                    let n = self.u32("LIST")?;
                    let n = self.count(n, 1, "LIST")?;
                    if n > 0 {
                        if count == 0 {
                            // The list began with no elements, so its own
                            // depth is checked now that it has some.
                            self.check_depth(self.frames.len() - 1, frame.at)?;
                        }
                        self.grow_list(frame.node, n, frame.at)?;
                        if let Some(top) = self.frames.last_mut() {
                            top.left = n;
                        }
                        return Ok(false);
                    }
                }
                Some(&tag::STRING) => {
                    self.pos += 1;
                    let n = self.u16("STRING")?;
                    let start = self.pos;
                    let bytes = self.take(n.into(), "STRING")?;
                    if count == 0 {
                        self.nodes[frame.node] = if n == 0 {
                            Node::new(Kind::Nil, 0, 0)
                        } else {
                            Node::new(Kind::ByteList, n.into(), start as u64)
                        };
                    } else {
                        self.grow_list(frame.node, bytes.len(), frame.at)?;
                        self.nodes
                            .extend(bytes.iter().map(|&b| Node::new(Kind::Int, 0, b.into())));
                        self.close(frame.node);
                    }
                    self.frames.pop();
                    return Ok(true);
                }
                Some(_) => {
                    // A tail that is not a list: read as an ordinary term.
                    self.check_depth(self.frames.len() - 1, frame.at)?;
                    let count = self.nodes[frame.node].len;
                    let open = if count == 0 {
                        self.nodes.truncate(frame.node);
                        Open::Wrap
                    } else {
                        self.nodes[frame.node].kind = Kind::ImproperList;
                        Open::Tail
                    };
                    if let Some(top) = self.frames.last_mut() {
                        top.left = 1;
                        top.open = open;
                    }
                    return Ok(false);
                }
                None => return Err(truncated("list tail", 1, 0, at)),
            }
        }
    }

    /// Adds `n` elements to a list's count. A list of more than
    /// `u32::MAX` elements (more than 4 GiB of input) is not supported.
    fn grow_list(&mut self, node: usize, n: usize, at: usize) -> Result<(), DecodeError> {
        let len = &mut self.nodes[node].len;
        match u32::try_from(n).ok().and_then(|n| len.checked_add(n)) {
            Some(sum) => {
                *len = sum;
                Ok(())
            }
            None => Err(DecodeError::new(K::UnsupportedTag(tag::LIST), at)),
        }
    }

    /// Fails on a map (just closed, at `node`) with two keys that are
    /// exactly equal: compared in place when every key is an integer,
    /// float, atom or `[]`, else as terms by the tree decoder's check.
    fn check_map(&mut self, node: usize, at: usize) -> Result<(), DecodeError> {
        let pairs = self.nodes[node].len as usize;
        let end = self.nodes[node].payload as usize;
        self.keys.clear();
        let mut k = node + 1;
        let mut leaves = true;
        while k < end {
            let key = self.nodes[k];
            match key.kind {
                Kind::Int | Kind::Float => self.keys.push((key.kind, key.payload)),
                // One index per atom: equal indices are equal atoms.
                Kind::Atom => self.keys.push((key.kind, key.len.into())),
                Kind::Nil => self.keys.push((key.kind, 0)),
                _ => {
                    leaves = false;
                    break;
                }
            }
            let value = end_of(&self.nodes, k);
            k = end_of(&self.nodes, value);
        }
        let duplicate = if leaves {
            let keys = &mut self.keys;
            if pairs <= 16 {
                (1..keys.len()).any(|i| keys[..i].contains(&keys[i]))
            } else {
                keys.sort_unstable_by_key(|&(kind, v)| (kind as u8, v));
                keys.windows(2).any(|w| w[0] == w[1])
            }
        } else {
            let parts = Parts {
                nodes: &self.nodes,
                atoms: &self.atoms,
                input: self.data,
                shared: None,
            };
            let mut entries = Vec::with_capacity(pairs);
            let mut k = node + 1;
            while k < end {
                entries.push((parts.build(k), Term::Nil));
                let value = end_of(&self.nodes, k);
                k = end_of(&self.nodes, value);
            }
            first_duplicate(&entries).is_some()
        };
        if duplicate {
            return Err(DecodeError::new(K::DuplicateMapKey, at));
        }
        Ok(())
    }

    // ------------------------------------------------------------ leaves

    fn big(&mut self, n: u32, what: &'static str) -> Result<bool, DecodeError> {
        let sign = self.u8(what)?;
        let start = self.pos;
        let digits = self.take(n as usize, what)?;
        // The value without its high zero digits, if it fits in 64 bits.
        let used = digits.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1);
        if used <= 8 {
            let mut le = [0u8; 8];
            le[..used].copy_from_slice(&digits[..used]);
            let magnitude = u64::from_le_bytes(le);
            let value = if sign == 0 {
                i64::try_from(magnitude).ok()
            } else if magnitude <= 1 << 63 {
                Some((magnitude as i64).wrapping_neg())
            } else {
                None
            };
            if let Some(v) = value {
                self.push(Node::new(Kind::Int, 0, v as u64));
                return Ok(true);
            }
        }
        self.push(Node {
            small: u16::from(sign != 0),
            ..Node::new(Kind::BigInt, n, start as u64)
        });
        Ok(true)
    }

    #[inline]
    fn intern(&mut self, text: &[u8], utf8: bool, at: usize) -> Result<u32, DecodeError> {
        self.interner
            .intern(&mut self.atoms, text, utf8)
            .map_err(|kind| DecodeError::new(kind, at))
    }

    /// An atom in a field that must hold one (a pid's node...).
    #[inline]
    fn atom(&mut self) -> Result<u32, DecodeError> {
        let at = self.pos;
        let data: &'d [u8] = self.data;
        if let [tag::SMALL_ATOM_UTF8, len, ref rest @ ..] = *data.get(at..).unwrap_or_default() {
            if rest.len() >= usize::from(len) {
                self.pos = at + 2 + usize::from(len);
                return self
                    .interner
                    .intern_utf8_at(&mut self.atoms, data, at + 2, len.into())
                    .map_err(|kind| DecodeError::new(kind, at));
            }
        }
        let t = self.u8("atom tag")?;
        match t {
            tag::ATOM | tag::SMALL_ATOM | tag::ATOM_UTF8 | tag::SMALL_ATOM_UTF8 => {
                self.atom_body(t, at)
            }
            tag::ATOM_CACHE_REF => {
                self.u8("ATOM_CACHE_REF")?;
                Err(DecodeError::new(K::NoAtomCache, at))
            }
            other => Err(DecodeError::new(
                K::UnexpectedTag {
                    tag: other,
                    expected: "an atom",
                },
                at,
            )),
        }
    }

    /// An atom after its tag `t` (ATOM, SMALL_ATOM, ATOM_UTF8 or
    /// SMALL_ATOM_UTF8), interned.
    fn atom_body(&mut self, t: u8, at: usize) -> Result<u32, DecodeError> {
        let (text, utf8) = self.atom_text(t)?;
        self.intern(text, utf8, at)
    }

    /// A tag the tree decoder reads for us (the tag at `at`): local funs,
    /// native records and LOCAL_EXT are kept as their bytes, old floats
    /// and exports as nodes; anything else is its error.
    fn foreign(&mut self, at: usize) -> Result<bool, DecodeError> {
        let mut opts = self.opts.clone();
        // The containers open around it count towards the depth limit.
        opts.max_depth = opts
            .max_depth
            .map(|limit| limit.saturating_sub(self.frames.len()));
        let (term, end) = parse_at(self.data, at, &opts).map_err(|e| {
            match (e.kind(), self.opts.max_depth) {
                // The limit the caller set, not the one left for this term.
                (K::TooDeep(_), Some(limit)) => DecodeError::new(K::TooDeep(limit), e.offset()),
                _ => e,
            }
        })?;
        self.pos = end;
        let raw = |kind| {
            u32::try_from(end - at)
                .map(|len| Node::new(kind, len, at as u64))
                .map_err(|_| DecodeError::new(K::UnsupportedTag(kind as u8), at))
        };
        let node = match &term {
            Term::Float(f) => Node::new(Kind::Float, 0, f.to_bits()),
            Term::Export(e) => {
                let module = self.intern_atom(e.module.clone(), at)?;
                let function = self.intern_atom(e.function.clone(), at)?;
                Node {
                    tag: e.arity,
                    ..Node::new(Kind::Export, module, function.into())
                }
            }
            Term::Fun(_) => raw(Kind::Fun)?,
            Term::Record(_) => raw(Kind::Record)?,
            Term::Local(_) => raw(Kind::Local)?,
            _ => return Err(DecodeError::new(K::UnknownTag(self.data[at]), at)),
        };
        self.push(node);
        Ok(true)
    }

    fn intern_atom(&mut self, atom: Atom, at: usize) -> Result<u32, DecodeError> {
        self.interner
            .intern_atom(&mut self.atoms, atom)
            .map_err(|kind| DecodeError::new(kind, at))
    }
}

/// The index just past the subtree of node `i`.
#[inline]
pub(super) fn end_of(nodes: &[Node], i: usize) -> usize {
    match nodes.get(i) {
        Some(n) if n.is_container() => n.payload as usize,
        _ => i + 1,
    }
}
