//! Equality, ordering and hashing of terms, as Erlang defines them (see the
//! crate documentation).
//!
//! The walks go by plain recursion for the first few levels and keep
//! the rest of their pending work on the heap (a stack of pairs of sequences
//! still to compare, or of parts still to hash), so terms of any depth
//! compare and hash with a bounded amount of Rust stack, and everyday terms
//! without allocating for the walk.

use crate::term::{BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// How numbers compare.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Term order made total (`Ord`): by value, ties integer first.
    Exact,
    /// Erlang's arithmetic comparison: `1 == 1.0`, `0.0 == -0.0`.
    Arith,
    /// Map key order: every integer before every float.
    MapKey,
}

impl Term {
    /// Erlang's arithmetic comparison (`<`, `==`, `>` in Erlang): numbers
    /// compare by value, so `1` equals `1.0` and `0.0` equals `-0.0`.
    /// Map keys still compare in map key order, as in Erlang.
    pub fn compare_erl(&self, other: &Term) -> Ordering {
        cmp(self, other, Mode::Arith)
    }

    /// Erlang's `==`: equal under arithmetic comparison.
    pub fn eq_erl(&self, other: &Term) -> bool {
        self.compare_erl(other) == Ordering::Equal
    }

    /// Map key order: term order where every integer is less than every
    /// float, applied at every nesting level. The order of map keys in
    /// `term_to_binary(T, [deterministic])` and in map comparison.
    pub fn cmp_map_key(&self, other: &Term) -> Ordering {
        cmp(self, other, Mode::MapKey)
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        cmp(self, other, Mode::Exact) == Ordering::Equal
    }
}

impl Eq for Term {}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Term) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Term {
    /// Erlang's term order first, then the exact order for what it calls
    /// equal, so that sorting agrees with `lists:sort/1` all the way down:
    /// `{[1,0]}` sorts after `{[1.0]}` as in Erlang, even though `1` sorts
    /// before `1.0`.
    fn cmp(&self, other: &Term) -> Ordering {
        cmp(self, other, Mode::Arith).then_with(|| cmp(self, other, Mode::Exact))
    }
}

/// The rank of `[]` and of every list.
const LIST_RANK: u8 = 10;

/// The position of a term's type in Erlang's term order.
fn rank(t: &Term) -> u8 {
    match t {
        Term::Int(_) | Term::BigInt(_) | Term::Float(_) => 0,
        Term::Atom(_) => 1,
        Term::Reference(_) => 2,
        Term::Fun(_) => 3,
        Term::Export(_) => 4,
        Term::Port(_) => 5,
        Term::Pid(_) => 6,
        Term::Tuple(_) => 7,
        Term::Record(_) => 8,
        Term::Map(_) => 9,
        Term::Nil | Term::List(_) | Term::ByteList(_) | Term::ImproperList(..) => LIST_RANK,
        Term::Binary(_) | Term::BitBinary(_) => 11,
        Term::Local(_) => 12,
    }
}

/// Compares two terms.
fn cmp(a: &Term, b: &Term, mode: Mode) -> Ordering {
    run(shallow(a, b, mode), RECURSION_BUDGET)
}

/// How many levels of containers a comparison or a hash goes through by
/// plain recursion (a few KiB of stack at most) before it keeps what is
/// left to do on a heap stack: everyday terms then need no allocation.
const RECURSION_BUDGET: usize = 16;

/// Finishes a comparison begun by [`shallow`]: the children of the open
/// pairs are compared in order, depth first, until one differs; by
/// recursion for `budget` levels, then with a heap stack.
fn run(first: Shallow<'_>, budget: usize) -> Ordering {
    let mut top = match first {
        Shallow::Done(o) => return o,
        Shallow::Open(pending) => pending,
    };
    let mut outer: Vec<Pending<'_>> = Vec::new();
    loop {
        let next = match top.step() {
            Step::Pair(x, y, mode) => shallow(x, y, mode),
            Step::Elems(x, y, mode) => shallow_elems(x, y, mode),
            Step::End(Ordering::Equal) => match outer.pop() {
                Some(pending) => {
                    top = pending;
                    continue;
                }
                None => return Ordering::Equal,
            },
            Step::End(o) => return o,
        };
        match next {
            Shallow::Done(Ordering::Equal) => {}
            Shallow::Done(o) => return o,
            Shallow::Open(inner) if budget > 0 && outer.is_empty() => {
                let o = run(Shallow::Open(inner), budget - 1);
                if o != Ordering::Equal {
                    return o;
                }
            }
            Shallow::Open(inner) => outer.push(std::mem::replace(&mut top, inner)),
        }
    }
}

/// The result of comparing two terms at the top level only.
enum Shallow<'a> {
    /// The order is known (the terms are leaves, or differ in their
    /// headers).
    Done(Ordering),
    /// The headers are equal; the order is that of these children.
    Open(Pending<'a>),
}

/// Children of two containers still to be compared pairwise, in order.
enum Pending<'a> {
    /// Two sequences of the same length (tuples, fun environments).
    Seq(std::slice::Iter<'a, Term>, std::slice::Iter<'a, Term>, Mode),
    /// Two lists, in any representation.
    Lists(Cells<'a>, Cells<'a>, Mode),
    /// Two maps of the same size, their entries sorted in map key order:
    /// keys first (in map key order), then values.
    Maps {
        x: Vec<&'a (Term, Term)>,
        y: Vec<&'a (Term, Term)>,
        next: usize,
        values: bool,
        mode: Mode,
    },
}

/// What [`Pending::step`] found next.
enum Step<'a> {
    /// Two terms to compare.
    Pair(&'a Term, &'a Term, Mode),
    /// Two list elements to compare.
    Elems(Elem<'a>, Elem<'a>, Mode),
    /// No more children: this order (`Equal`: go on with the parent).
    End(Ordering),
}

impl<'a> Pending<'a> {
    fn step(&mut self) -> Step<'a> {
        match self {
            Pending::Seq(x, y, mode) => match (x.next(), y.next()) {
                (Some(a), Some(b)) => Step::Pair(a, b, *mode),
                // Lengths are compared before a sequence is opened.
                (None, None) => Step::End(Ordering::Equal),
                (None, Some(_)) => Step::End(Ordering::Less),
                (Some(_), None) => Step::End(Ordering::Greater),
            },
            Pending::Lists(x, y, mode) => match (x.step(), y.step()) {
                (Ok(a), Ok(b)) => Step::Elems(a, b, *mode),
                // `[]` is less than any cons cell; an improper tail compares
                // with what stands in the other list's place.
                (Err(None), Err(None)) => Step::End(Ordering::Equal),
                (Err(None), Ok(_)) => Step::End(Ordering::Less),
                (Ok(_), Err(None)) => Step::End(Ordering::Greater),
                (Err(Some(a)), Err(Some(b))) => {
                    // The last pair: nothing follows it in these lists.
                    *x = Cells::empty();
                    *y = Cells::empty();
                    Step::Pair(a, b, *mode)
                }
                (Err(Some(a)), _) => Step::End(rank(a).cmp(&LIST_RANK)),
                (_, Err(Some(b))) => Step::End(LIST_RANK.cmp(&rank(b))),
            },
            Pending::Maps {
                x,
                y,
                next,
                values,
                mode,
            } => {
                if *next == x.len() && !*values {
                    *values = true;
                    *next = 0;
                }
                match (x.get(*next), y.get(*next)) {
                    (Some(a), Some(b)) => {
                        *next += 1;
                        if *values {
                            Step::Pair(&a.1, &b.1, *mode)
                        } else {
                            Step::Pair(&a.0, &b.0, Mode::MapKey)
                        }
                    }
                    _ => Step::End(Ordering::Equal),
                }
            }
        }
    }
}

/// Compares two terms at the top level: leaves completely, containers by
/// their headers (rank, length...), opening them when those are equal.
fn shallow<'a>(a: &'a Term, b: &'a Term, mode: Mode) -> Shallow<'a> {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return Shallow::Done(ra.cmp(&rb));
    }
    let done = Shallow::Done;
    match (a, b) {
        (Term::Atom(x), Term::Atom(y)) => done(x.as_str().cmp(y.as_str())),
        (Term::Tuple(x), Term::Tuple(y)) => match x.len().cmp(&y.len()) {
            Ordering::Equal => Shallow::Open(Pending::Seq(x.iter(), y.iter(), mode)),
            o => done(o),
        },
        (Term::Map(x), Term::Map(y)) => shallow_maps(x, y, mode),
        (Term::Binary(_) | Term::BitBinary(_), _) => done(cmp_bits(&Bits::of(a), &Bits::of(b))),
        (Term::Pid(x), Term::Pid(y)) => done(cmp_pid(x, y)),
        (Term::Port(x), Term::Port(y)) => {
            done((&x.node, x.creation, x.id).cmp(&(&y.node, y.creation, y.id)))
        }
        (Term::Reference(x), Term::Reference(y)) => done(cmp_ref(x, y)),
        (Term::Export(x), Term::Export(y)) => done(cmp_export(x, y)),
        (Term::Fun(x), Term::Fun(y)) => shallow_funs(x, y, mode),
        (Term::Record(x), Term::Record(y)) => shallow_records(x, y, mode),
        (Term::Local(x), Term::Local(y)) => done(x.cmp(y)),
        _ if ra == 0 => done(cmp_numbers(a, b, mode)),
        (Term::ByteList(x), Term::ByteList(y)) => done(x.cmp(y)),
        _ => Shallow::Open(Pending::Lists(Cells::new(a), Cells::new(b), mode)),
    }
}

/// [`shallow`] for two list elements, either of which may be a byte.
fn shallow_elems<'a>(a: Elem<'a>, b: Elem<'a>, mode: Mode) -> Shallow<'a> {
    // A byte is an integer, a leaf: comparing it with anything is done at once.
    let with_byte = |x: u8, y: &Term, flip: bool| {
        let x = Term::Int(x.into());
        let o = match shallow(&x, y, mode) {
            Shallow::Done(o) => o,
            Shallow::Open(_) => Ordering::Equal,
        };
        Shallow::Done(if flip { o.reverse() } else { o })
    };
    match (a, b) {
        (Elem::Byte(x), Elem::Byte(y)) => Shallow::Done(x.cmp(&y)),
        (Elem::Term(x), Elem::Term(y)) => shallow(x, y, mode),
        (Elem::Byte(x), Elem::Term(y)) => with_byte(x, y, false),
        (Elem::Term(x), Elem::Byte(y)) => with_byte(y, x, true),
    }
}

fn cmp_pid(x: &Pid, y: &Pid) -> Ordering {
    (x.serial, x.id, &x.node, x.creation).cmp(&(y.serial, y.id, &y.node, y.creation))
}

/// A reference's words without the trailing (most significant) zero words.
fn ref_words(r: &Reference) -> &[u32] {
    let n = r.ids.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1);
    &r.ids[..n]
}

fn cmp_ref(x: &Reference, y: &Reference) -> Ordering {
    let (wx, wy) = (ref_words(x), ref_words(y));
    (&x.node, x.creation)
        .cmp(&(&y.node, y.creation))
        .then(wx.len().cmp(&wy.len()))
        .then_with(|| wx.iter().rev().cmp(wy.iter().rev()))
}

fn cmp_export(x: &Export, y: &Export) -> Ordering {
    (&x.module, &x.function, x.arity).cmp(&(&y.module, &y.function, y.arity))
}

fn shallow_funs<'a>(x: &'a Fun, y: &'a Fun, mode: Mode) -> Shallow<'a> {
    let header = (&x.module, x.index, x.uniq, x.arity)
        .cmp(&(&y.module, y.index, y.uniq, y.arity))
        .then(x.free_vars.len().cmp(&y.free_vars.len()));
    match header {
        Ordering::Equal => {
            Shallow::Open(Pending::Seq(x.free_vars.iter(), y.free_vars.iter(), mode))
        }
        o => Shallow::Done(o),
    }
}

/// As OTP 29: the definition (module, name, exported, size, field names),
/// then the values in field order.
fn shallow_records<'a>(x: &'a Record, y: &'a Record, mode: Mode) -> Shallow<'a> {
    let header = (&x.module, &x.name, x.exported, x.fields.len())
        .cmp(&(&y.module, &y.name, y.exported, y.fields.len()))
        .then_with(|| x.fields.cmp(&y.fields));
    match header {
        Ordering::Equal => Shallow::Open(Pending::Seq(x.values.iter(), y.values.iter(), mode)),
        o => Shallow::Done(o),
    }
}

// ---------------------------------------------------------------- numbers

/// Compares two numbers (Int, BigInt or Float).
fn cmp_numbers(a: &Term, b: &Term, mode: Mode) -> Ordering {
    match (a, b) {
        (Term::Float(x), Term::Float(y)) => match mode {
            Mode::Arith => x.partial_cmp(y).unwrap_or_else(|| x.total_cmp(y)),
            Mode::Exact | Mode::MapKey => x.total_cmp(y),
        },
        (Term::Float(x), _) => cmp_int_float(b, *x, mode).reverse(),
        (_, Term::Float(y)) => cmp_int_float(a, *y, mode),
        (Term::Int(x), Term::Int(y)) => x.cmp(y),
        _ => to_big(a).cmp(&to_big(b)),
    }
}

fn to_big(t: &Term) -> BigInt {
    match t {
        Term::Int(i) => BigInt::from(*i),
        Term::BigInt(b) => b.clone(),
        _ => BigInt::default(),
    }
}

/// Compares an integer with a float: by exact value, then (when `mode`
/// breaks ties) the integer first. In map key order every integer is first.
fn cmp_int_float(int: &Term, f: f64, mode: Mode) -> Ordering {
    let tie = match mode {
        Mode::MapKey => return Ordering::Less,
        Mode::Exact => Ordering::Less,
        Mode::Arith => Ordering::Equal,
    };
    if f.is_nan() {
        return Ordering::Less;
    }
    if f.is_infinite() {
        return if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let trunc = f.trunc();
    let frac = f - trunc;
    let by_value = match (int, trunc.to_i64()) {
        (Term::Int(i), Some(t)) if trunc.abs() < 9.2e18 => i.cmp(&t),
        _ => match BigInt::from_f64(trunc) {
            Some(t) => to_big(int).cmp(&t),
            None => Ordering::Equal,
        },
    };
    by_value
        .then(if frac > 0.0 {
            Ordering::Less
        } else if frac < 0.0 {
            Ordering::Greater
        } else {
            Ordering::Equal
        })
        .then(tie)
}

// ---------------------------------------------------------------- maps

/// A map's entries sorted by key in map key order.
fn sorted_entries(m: &Map) -> Vec<&(Term, Term)> {
    let mut v: Vec<&(Term, Term)> = m.entries.iter().collect();
    v.sort_by(|a, b| cmp(&a.0, &b.0, Mode::MapKey));
    v
}

fn shallow_maps<'a>(x: &'a Map, y: &'a Map, mode: Mode) -> Shallow<'a> {
    match x.entries.len().cmp(&y.entries.len()) {
        Ordering::Equal => Shallow::Open(Pending::Maps {
            x: sorted_entries(x),
            y: sorted_entries(y),
            next: 0,
            values: false,
            mode,
        }),
        o => Shallow::Done(o),
    }
}

fn cmp_maps(x: &Map, y: &Map, mode: Mode) -> Ordering {
    run(shallow_maps(x, y, mode), RECURSION_BUDGET)
}

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        cmp_maps(self, other, Mode::Exact) == Ordering::Equal
    }
}

impl Eq for Map {}

impl PartialOrd for Map {
    fn partial_cmp(&self, other: &Map) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Map {
    /// As for [`Term`]: Erlang's order, ties broken by the exact order.
    fn cmp(&self, other: &Map) -> Ordering {
        cmp_maps(self, other, Mode::Arith).then_with(|| cmp_maps(self, other, Mode::Exact))
    }
}

impl Hash for Map {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let entries = map_entries(self, state);
        hash_walk(entries, state, RECURSION_BUDGET);
    }
}

// ---------------------------------------------------------------- lists

/// One element of a list, whatever its representation.
#[derive(Clone, Copy)]
enum Elem<'a> {
    Term(&'a Term),
    Byte(u8),
}

/// Walks the cells of a list term across representations, flattening
/// improper-list tails that are themselves lists.
struct Cells<'a> {
    terms: std::slice::Iter<'a, Term>,
    bytes: std::slice::Iter<'a, u8>,
    /// What follows the current segment: `None` once the end is reached.
    next: Option<&'a Term>,
}

impl<'a> Cells<'a> {
    /// Cells that have reached a proper end.
    fn empty() -> Cells<'a> {
        Cells {
            terms: [].iter(),
            bytes: [].iter(),
            next: None,
        }
    }

    fn new(list: &'a Term) -> Cells<'a> {
        let mut c = Cells {
            terms: [].iter(),
            bytes: [].iter(),
            next: None,
        };
        c.enter(list);
        c
    }

    /// Starts the segment of `t` (a list-like term) and returns `None`, or
    /// returns `Some(t)` when `t` is not a list (an improper tail).
    fn enter(&mut self, t: &'a Term) -> Option<&'a Term> {
        match t {
            Term::Nil => {
                self.next = None;
                None
            }
            Term::List(v) => {
                self.terms = v.iter();
                self.next = None;
                None
            }
            Term::ByteList(v) => {
                self.bytes = v.iter();
                self.next = None;
                None
            }
            Term::ImproperList(v, tail) => {
                self.terms = v.iter();
                self.next = Some(tail);
                None
            }
            other => Some(other),
        }
    }

    /// The next element, or the end: `Err(None)` for a proper end,
    /// `Err(Some(tail))` for an improper tail.
    fn step(&mut self) -> Result<Elem<'a>, Option<&'a Term>> {
        loop {
            if let Some(t) = self.terms.next() {
                return Ok(Elem::Term(t));
            }
            if let Some(&b) = self.bytes.next() {
                return Ok(Elem::Byte(b));
            }
            let tail = self.next.take().ok_or(None)?;
            if let Some(improper) = self.enter(tail) {
                return Err(Some(improper));
            }
        }
    }
}

// ---------------------------------------------------------------- bitstrings

/// A bitstring as whole bytes plus a partial last byte.
struct Bits<'a> {
    whole: &'a [u8],
    /// The partial last byte, masked, and its number of bits (0 if none).
    last: u8,
    last_bits: u8,
}

impl<'a> Bits<'a> {
    fn of(t: &'a Term) -> Bits<'a> {
        match t {
            Term::Binary(b) => Bits::whole(b),
            Term::BitBinary(bb) => Bits::of_bit_binary(bb),
            _ => Bits::whole(&[]),
        }
    }

    fn whole(b: &'a [u8]) -> Bits<'a> {
        Bits {
            whole: b,
            last: 0,
            last_bits: 0,
        }
    }

    fn of_bit_binary(bb: &'a BitBinary) -> Bits<'a> {
        let bits = bb.bits.min(8);
        match bb.bytes.split_last() {
            Some((&last, init)) if bits < 8 => Bits {
                whole: init,
                last: if bits == 0 {
                    0
                } else {
                    last & !(0xffu8 >> bits)
                },
                last_bits: bits,
            },
            _ => Bits::whole(&bb.bytes),
        }
    }
}

fn cmp_bits(a: &Bits<'_>, b: &Bits<'_>) -> Ordering {
    let n = a.whole.len().min(b.whole.len());
    let o = a.whole[..n].cmp(&b.whole[..n]);
    if o != Ordering::Equal {
        return o;
    }
    // One of them has run out of whole bytes: compare what is left bit by bit.
    let rest = |x: &Bits<'_>| -> (u8, u8) {
        if x.whole.len() > n {
            (x.whole[n], 8)
        } else {
            (x.last, x.last_bits)
        }
    };
    let (va, la) = rest(a);
    let (vb, lb) = rest(b);
    let common = la.min(lb);
    let mask = if common == 0 { 0 } else { !(0xffu8 >> common) };
    (va & mask).cmp(&(vb & mask)).then_with(|| {
        (a.whole.len() * 8 + a.last_bits as usize).cmp(&(b.whole.len() * 8 + b.last_bits as usize))
    })
}

// ---------------------------------------------------------------- hashing

impl Hash for Term {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_walk(Hashing::One(Some(self)), state, RECURSION_BUDGET);
    }
}

/// Parts of a term still to hash, innermost last.
enum Hashing<'a> {
    /// One term (taken once).
    One(Option<&'a Term>),
    /// Elements of a tuple or fun environment.
    Seq(std::slice::Iter<'a, Term>),
    /// A list's cells, then its end marker and improper tail.
    List(Cells<'a>),
    /// A map's entries in map key order: each key, then its value.
    Entries(std::vec::IntoIter<&'a (Term, Term)>, Option<&'a Term>),
}

impl<'a> Hashing<'a> {
    /// The next term to hash, writing what comes between terms (list
    /// bytes and end markers) itself; `None` when done.
    fn next<H: Hasher>(&mut self, state: &mut H) -> Option<&'a Term> {
        match self {
            Hashing::One(t) => t.take(),
            Hashing::Seq(items) => items.next(),
            Hashing::List(cells) => loop {
                match cells.step() {
                    Ok(Elem::Term(t)) => return Some(t),
                    Ok(Elem::Byte(b)) => hash_int(i64::from(b), state),
                    Err(None) => {
                        state.write_u8(0xff);
                        return None;
                    }
                    Err(Some(tail)) => {
                        state.write_u8(0xfe);
                        *cells = Cells::empty();
                        // Not a list (`Cells` flattens those), so it ends
                        // the walk over this list after it is hashed.
                        return Some(tail);
                    }
                }
            },
            Hashing::Entries(entries, value) => value.take().or_else(|| {
                let (k, v) = entries.next()?;
                *value = Some(v);
                Some(k)
            }),
        }
    }
}

/// Hashes terms depth first, starting from `first`: by recursion for
/// `budget` levels, then with a heap stack.
fn hash_walk<H: Hasher>(first: Hashing<'_>, state: &mut H, budget: usize) {
    let mut top = first;
    let mut outer: Vec<Hashing<'_>> = Vec::new();
    loop {
        match top.next(state) {
            Some(t) => match hash_shallow(t, state) {
                None => {}
                Some(inner) if budget > 0 && outer.is_empty() => {
                    hash_walk(inner, state, budget - 1);
                }
                Some(inner) => outer.push(std::mem::replace(&mut top, inner)),
            },
            None => match outer.pop() {
                Some(pending) => top = pending,
                None => return,
            },
        }
    }
}

/// An integer as a term hashes (`Int` and a `BigInt` that fits alike).
fn hash_int<H: Hasher>(i: i64, state: &mut H) {
    state.write_u8(0);
    i.hash(state);
}

/// Hashes a term's rank and header (all of a leaf); returns its children.
fn hash_shallow<'a, H: Hasher>(t: &'a Term, state: &mut H) -> Option<Hashing<'a>> {
    let r = rank(t);
    state.write_u8(r);
    match t {
        Term::Int(i) => i.hash(state),
        Term::BigInt(b) => match b.to_i64() {
            Some(i) => i.hash(state),
            None => b.hash(state),
        },
        Term::Float(f) => f.to_bits().hash(state),
        Term::Atom(a) => a.as_str().hash(state),
        Term::Tuple(v) => {
            state.write_usize(v.len());
            return Some(Hashing::Seq(v.iter()));
        }
        Term::Map(m) => return Some(map_entries(m, state)),
        Term::Nil | Term::List(_) | Term::ByteList(_) | Term::ImproperList(..) => {
            return Some(Hashing::List(Cells::new(t)));
        }
        Term::Binary(_) | Term::BitBinary(_) => hash_bits(&Bits::of(t), state),
        Term::Pid(p) => hash_pid(p, state),
        Term::Port(p) => hash_port(p, state),
        Term::Reference(r) => hash_ref(r, state),
        Term::Export(e) => hash_export(e, state),
        Term::Fun(f) => {
            hash_fun_header(f, state);
            return Some(Hashing::Seq(f.free_vars.iter()));
        }
        Term::Record(r) => {
            hash_record_header(r, state);
            return Some(Hashing::Seq(r.values.iter()));
        }
        Term::Local(b) => b.hash(state),
    }
    None
}

/// Hashes a map's size; returns its entries in map key order.
fn map_entries<'a, H: Hasher>(m: &'a Map, state: &mut H) -> Hashing<'a> {
    state.write_usize(m.entries.len());
    Hashing::Entries(sorted_entries(m).into_iter(), None)
}

fn hash_pid<H: Hasher>(p: &Pid, state: &mut H) {
    (p.serial, p.id, p.node.as_str(), p.creation).hash(state);
}

fn hash_port<H: Hasher>(p: &Port, state: &mut H) {
    (p.node.as_str(), p.creation, p.id).hash(state);
}

fn hash_ref<H: Hasher>(r: &Reference, state: &mut H) {
    (r.node.as_str(), r.creation, ref_words(r)).hash(state);
}

fn hash_export<H: Hasher>(e: &Export, state: &mut H) {
    (e.module.as_str(), e.function.as_str(), e.arity).hash(state);
}

fn hash_fun_header<H: Hasher>(f: &Fun, state: &mut H) {
    (f.module.as_str(), f.index, f.uniq, f.arity).hash(state);
    state.write_usize(f.free_vars.len());
}

fn hash_fun<H: Hasher>(f: &Fun, state: &mut H) {
    hash_fun_header(f, state);
    hash_walk(Hashing::Seq(f.free_vars.iter()), state, RECURSION_BUDGET);
}

fn hash_record_header<H: Hasher>(r: &Record, state: &mut H) {
    (r.module.as_str(), r.name.as_str(), r.exported).hash(state);
    state.write_usize(r.fields.len());
    r.fields.iter().for_each(|f| f.as_str().hash(state));
}

fn hash_record<H: Hasher>(r: &Record, state: &mut H) {
    hash_record_header(r, state);
    hash_walk(Hashing::Seq(r.values.iter()), state, RECURSION_BUDGET);
}

fn hash_bits<H: Hasher>(bits: &Bits<'_>, state: &mut H) {
    state.write(bits.whole);
    state.write_u8(bits.last);
    state.write_u8(bits.last_bits);
}

/// `Eq`, `PartialOrd` and `Hash` for the parts of a term, from their `Ord`
/// and hash function, so that they agree with the same term's.
macro_rules! via_ord {
    ($($ty:ident => $hash:expr),* $(,)?) => {$(
        impl PartialEq for $ty {
            fn eq(&self, other: &$ty) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for $ty {}
        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &$ty) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Hash for $ty {
            fn hash<H: Hasher>(&self, state: &mut H) {
                $hash(self, state)
            }
        }
    )*};
}

via_ord!(
    Pid => hash_pid,
    Port => hash_port,
    Reference => hash_ref,
    Export => hash_export,
    Fun => hash_fun,
    Record => hash_record,
    BitBinary => |b: &BitBinary, state: &mut H| hash_bits(&Bits::of_bit_binary(b), state),
);

impl Ord for Pid {
    fn cmp(&self, other: &Pid) -> Ordering {
        cmp_pid(self, other)
    }
}

impl Ord for Port {
    fn cmp(&self, other: &Port) -> Ordering {
        (&self.node, self.creation, self.id).cmp(&(&other.node, other.creation, other.id))
    }
}

impl Ord for Reference {
    fn cmp(&self, other: &Reference) -> Ordering {
        cmp_ref(self, other)
    }
}

impl Ord for Export {
    fn cmp(&self, other: &Export) -> Ordering {
        cmp_export(self, other)
    }
}

impl Ord for BitBinary {
    fn cmp(&self, other: &BitBinary) -> Ordering {
        cmp_bits(&Bits::of_bit_binary(self), &Bits::of_bit_binary(other))
    }
}

impl Ord for Fun {
    fn cmp(&self, other: &Fun) -> Ordering {
        run(shallow_funs(self, other, Mode::Exact), RECURSION_BUDGET)
    }
}

impl Ord for Record {
    fn cmp(&self, other: &Record) -> Ordering {
        run(shallow_records(self, other, Mode::Exact), RECURSION_BUDGET)
    }
}
