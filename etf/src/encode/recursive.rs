//! The encoder's fast path: containers near the top of a term are written
//! by plain recursion (one call per list or map; leaves, and tuples inside
//! a list or tuple, in their parent's frame), and only what lies deeper
//! than [`RECURSION_LIMIT`] levels goes to the explicit stack of
//! [`Encoder::iterative`], so that depth never threatens the Rust stack.

use super::{tag, Encoder, Step};
use crate::term::{Map, Term};

/// Levels of containers written by recursion before the explicit stack
/// takes over (everyday terms are far shallower; each level costs one or
/// two stack frames among [`Encoder::nested`] and the loops over a list's or
/// a map's elements, about 150 bytes each in a release build, so 20 KiB at
/// most).
const RECURSION_LIMIT: u32 = 64;

impl Encoder<'_> {
    /// Writes `term`: recursively near the top, iteratively below.
    pub(super) fn run(&mut self, term: &Term) -> Step {
        self.plain_atoms = self.refs.is_none() && self.opts.minor_version == 2;
        self.new_floats = self.opts.minor_version != 0;
        self.nested(term, RECURSION_LIMIT)
    }

    /// Writes an element of a container: leaves in place, and a tuple in
    /// the same frame as its parent (`{Module, Function, Arity}`, `{Key,
    /// Value}`...), its own elements through [`Encoder::scalar`].
    #[inline(always)]
    fn element(&mut self, t: &Term, depth: u32) -> Step {
        match t {
            Term::Tuple(v) if depth > 0 => {
                self.tuple_header(v.len())?;
                for t in v {
                    self.scalar(t, depth - 1)?;
                }
                Ok(())
            }
            _ => self.scalar(t, depth),
        }
    }

    /// Writes integers, atoms and pids in place, the rest through
    /// [`Encoder::nested`].
    #[inline(always)]
    fn lean(&mut self, t: &Term, depth: u32) -> Step {
        match t {
            Term::Int(i) => {
                self.int(*i);
                Ok(())
            }
            Term::Atom(a) => self.atom(a),
            Term::Pid(p) => self.pid(p),
            _ => self.nested(t, depth),
        }
    }

    /// Writes a leaf in place (integers, atoms, `[]`, floats, pids,
    /// binaries, byte lists), a list or a map with one call for its
    /// elements, the rest through [`Encoder::nested`].
    #[inline(always)]
    fn scalar(&mut self, t: &Term, depth: u32) -> Step {
        match t {
            Term::Int(i) => {
                self.int(*i);
                Ok(())
            }
            Term::Atom(a) => self.atom(a),
            Term::Nil => {
                self.out.push(tag::NIL);
                Ok(())
            }
            Term::ByteList(b) if !b.is_empty() && b.len() <= usize::from(u16::MAX) => {
                let [n0, n1] = (b.len() as u16).to_be_bytes();
                self.out.extend_from_slice(&[tag::STRING, n0, n1]);
                self.out.extend_from_slice(b);
                Ok(())
            }
            Term::Binary(b) => {
                self.header32(tag::BINARY, b.len(), "binary")?;
                self.binary_bytes(b);
                Ok(())
            }
            Term::Float(f) => self.float(*f),
            Term::Pid(p) => self.pid(p),
            Term::List(v) if depth > 0 => self.list_nested(v, depth - 1),
            Term::Map(m) if depth > 0 => self.map_nested(m, depth - 1),
            _ => self.nested(t, depth),
        }
    }

    /// Writes `term`, whose containers may recurse `depth` more levels.
    fn nested(&mut self, term: &Term, depth: u32) -> Step {
        match term {
            Term::Int(i) => self.int(*i),
            Term::Atom(a) => self.atom(a)?,
            Term::Float(f) => self.float(*f)?,
            Term::Nil => self.out.push(tag::NIL),
            Term::Pid(p) => self.pid(p)?,
            Term::Binary(b) => {
                self.header32(tag::BINARY, b.len(), "binary")?;
                self.binary_bytes(b);
            }
            Term::ByteList(b) => self.byte_list(b)?,
            Term::Reference(r) => self.reference(r)?,
            Term::Tuple(_) | Term::List(_) | Term::Map(_) if depth == 0 => {
                return self.iterative(term)
            }
            Term::Tuple(v) => {
                self.tuple_header(v.len())?;
                for t in v {
                    self.element(t, depth - 1)?;
                }
            }
            Term::List(v) => self.list_nested(v, depth - 1)?,
            Term::Map(m) => self.map_nested(m, depth - 1)?,
            // Rarer terms, and the containers with more to them than their
            // elements (improper lists, funs, records).
            _ => return self.iterative(term),
        }
        Ok(())
    }

    /// A proper list: STRING when OTP would write one, else LIST.
    #[inline(always)]
    fn list_nested(&mut self, items: &[Term], depth: u32) -> Step {
        if !self.list_head(items)? {
            return Ok(());
        }
        // Two loops: one kept lean (few registers to save and restore) for
        // lists of integers, atoms and pids, one for the rest, out of line.
        if matches!(items[0], Term::Int(_) | Term::Atom(_) | Term::Pid(_)) {
            self.lean_elements(items, depth)?;
        } else {
            self.elements(items, depth)?;
        }
        self.out.push(tag::NIL);
        Ok(())
    }

    /// The elements of a list of integers, atoms and pids.
    #[inline(never)]
    fn lean_elements(&mut self, items: &[Term], depth: u32) -> Step {
        for t in items {
            self.lean(t, depth)?;
        }
        Ok(())
    }

    /// The elements of a list of tuples, lists, strings...
    #[inline(never)]
    fn elements(&mut self, items: &[Term], depth: u32) -> Step {
        if depth == 0 {
            // Containers go to the explicit stack; checked once here rather
            // than for each element below.
            for t in items {
                self.nested(t, 0)?;
            }
            return Ok(());
        }
        for t in items {
            self.element(t, depth)?;
        }
        Ok(())
    }

    /// A list held as bytes: STRING, or LIST of SMALL_INTEGERs when longer
    /// than STRING allows.
    fn byte_list(&mut self, bytes: &[u8]) -> Step {
        match u16::try_from(bytes.len()) {
            Ok(0) => self.out.push(tag::NIL),
            Ok(n) => {
                let [n0, n1] = n.to_be_bytes();
                self.out.extend_from_slice(&[tag::STRING, n0, n1]);
                self.out.extend_from_slice(bytes);
            }
            Err(_) => {
                self.out.push(tag::LIST);
                self.len32(bytes.len(), "list")?;
                for &b in bytes {
                    self.out.extend_from_slice(&[tag::SMALL_INTEGER, b]);
                }
                self.out.push(tag::NIL);
            }
        }
        Ok(())
    }

    /// A map: its entries in its own order, or sorted by key when the
    /// options ask for deterministic output.
    fn map_nested(&mut self, m: &Map, depth: u32) -> Step {
        self.header32(tag::MAP, m.len(), "map")?;
        if self.opts.deterministic {
            return self.sorted_entries(m, depth);
        }
        if depth == 0 {
            // As in `elements`: depth checked once, not per entry.
            for (k, v) in m.entries() {
                self.nested(k, 0)?;
                self.nested(v, 0)?;
            }
            return Ok(());
        }
        for (k, v) in m.entries() {
            self.element(k, depth)?;
            self.element(v, depth)?;
        }
        Ok(())
    }

    /// A map's entries sorted by key, for deterministic output.
    #[inline(never)]
    fn sorted_entries(&mut self, m: &Map, depth: u32) -> Step {
        let mut sorted: Vec<&(Term, Term)> = m.entries().iter().collect();
        sorted.sort_by(|a, b| a.0.cmp_map_key(&b.0));
        for (k, v) in sorted {
            self.element(k, depth)?;
            self.element(v, depth)?;
        }
        Ok(())
    }
}
