//! Encoding: [`Term`] to the bytes OTP writes.
//!
//! The walk is iterative (an explicit stack of pending work), so the depth
//! of a term never threatens the Rust stack. Whatever the representation
//! of a term, the bytes are those of `term_to_binary/2` on OTP 28: the
//! smallest integer tag, STRING for proper lists of 1 to 65535 integers in
//! `0..=255`, NEW_PID, V4_PORT,
//! NEWER_REFERENCE, NEW_FLOAT (FLOAT with `minor_version` 0) and UTF-8 atom
//! tags (ATOM for Latin-1 atoms with `minor_version` 0 or 1).

mod chunked;
mod compress;
mod float_text;
mod recursive;

pub use chunked::Chunked;

use crate::decode::tag;
use crate::error::EncodeError;
use crate::options::EncodeOptions;
use crate::term::{Atom, BitBinary, Fun, Map, Pid, Record, Reference, Term};
use bytes::Bytes;
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;

/// Appends `term` without the version byte (as in distribution frames,
/// where the term follows a header). Compression does not apply here.
/// On error `out` is left as it was.
pub fn encode_body(
    term: &Term,
    out: &mut Vec<u8>,
    opts: &EncodeOptions,
) -> Result<(), EncodeError> {
    if opts.minor_version > 2 {
        return Err(EncodeError::InvalidMinorVersion(opts.minor_version));
    }
    let start = out.len();
    out.reserve(size_hint(term));
    let mut encoder = Encoder::new(std::mem::take(out), None, opts);
    let result = encoder.run(term).map_err(|e| *e);
    *out = encoder.out;
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// The same as [`encode_body`], into chunks: binaries of 16 KiB or more are
/// not copied but shared with `term` (see [`Chunked`]), so that a large
/// message can be written to a socket straight from the term's own buffers.
/// On error `out` is left as it was.
pub fn encode_body_chunked(
    term: &Term,
    out: &mut Chunked,
    opts: &EncodeOptions,
) -> Result<(), EncodeError> {
    chunked_with(term, out, opts, None)
}

/// Where the encoder looks atoms up to write them as references into a
/// distribution header's atom cache (ATOM_CACHE_REF, tag 82) instead of as
/// text. Implemented by the sender of a connection, which writes the header
/// from the atoms it handed out indexes for.
pub trait AtomRefs {
    /// The index (into this message's header) to write for `atom`, or
    /// `None` to write its text.
    fn reference(&mut self, atom: &Atom) -> Option<u8>;
}

/// The same as [`encode_body_chunked`], with atoms written as references
/// where `refs` gives one.
///
/// ```
/// use etf::{Atom, AtomRefs, Chunked, Decoder, EncodeOptions, Term};
///
/// /// Refers to every atom; the header would list them in this order.
/// struct Listed(Vec<Atom>);
/// impl AtomRefs for Listed {
///     fn reference(&mut self, atom: &Atom) -> Option<u8> {
///         let i = self.0.iter().position(|a| a == atom).unwrap_or_else(|| {
///             self.0.push(atom.clone());
///             self.0.len() - 1
///         });
///         u8::try_from(i).ok()
///     }
/// }
///
/// let term = Term::tuple(vec![Term::atom("ok"), Term::atom("ok"), Term::Int(1)]);
/// let (mut out, mut refs) = (Chunked::new(), Listed(Vec::new()));
/// etf::encode_body_chunked_with_refs(&term, &mut out, &EncodeOptions::default(), &mut refs)?;
/// let bytes = out.as_contiguous().unwrap();
/// assert_eq!(bytes, [104, 3, 82, 0, 82, 0, 97, 1]);
/// let decoded = Decoder::new(bytes).with_atom_cache(&refs.0).read_body()?;
/// assert_eq!(decoded, term);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_body_chunked_with_refs(
    term: &Term,
    out: &mut Chunked,
    opts: &EncodeOptions,
    refs: &mut dyn AtomRefs,
) -> Result<(), EncodeError> {
    chunked_with(term, out, opts, Some(refs))
}

fn chunked_with(
    term: &Term,
    out: &mut Chunked,
    opts: &EncodeOptions,
    mut refs: Option<&mut dyn AtomRefs>,
) -> Result<(), EncodeError> {
    if opts.minor_version > 2 {
        return Err(EncodeError::InvalidMinorVersion(opts.minor_version));
    }
    let mark = out.mark();
    let Chunked { chunks, tail } = out;
    if tail.capacity() - tail.len() < 64 {
        tail.reserve(size_hint(term).min(chunked::SHARE_MIN));
    }
    let mut encoder = Encoder::new(std::mem::take(tail), Some(chunks), opts);
    if let Some(refs) = refs.as_mut() {
        encoder.refs = Some(&mut **refs);
    }
    let result = encoder.run(term).map_err(|e| *e);
    *tail = encoder.out;
    if result.is_err() {
        out.restore(mark);
    }
    result
}

/// `term_to_binary`: the version byte, then the body, compressed if asked.
pub(crate) fn encode_to(
    term: &Term,
    out: &mut Vec<u8>,
    opts: &EncodeOptions,
) -> Result<(), EncodeError> {
    let start = out.len();
    out.push(crate::VERSION);
    if let Err(e) = encode_body(term, out, opts) {
        out.truncate(start);
        return Err(e);
    }
    match opts.compression {
        None | Some(0) => Ok(()),
        Some(level) if level > 9 => {
            out.truncate(start);
            Err(EncodeError::InvalidCompressionLevel(level))
        }
        Some(level) => {
            compress::compress_in_place(out, start + 1, level);
            Ok(())
        }
    }
}

/// A cheap guess of the encoded size (from the top level and the first
/// element of a tuple or list only), to size the output once for most terms.
pub(crate) fn size_hint(term: &Term) -> usize {
    let per_element = |items: &[Term]| items.first().map_or(0, leaf_size);
    let estimate = match term {
        Term::Binary(b) => b.len() + 5,
        Term::BitBinary(b) => b.bytes.len() + 6,
        Term::ByteList(b) => b.len() + 3,
        Term::List(v) | Term::Tuple(v) => 6 + v.len().saturating_mul(per_element(v)),
        Term::Map(m) => 5 + m.len() * 16,
        other => leaf_size(other),
    };
    estimate.max(64)
}

/// Roughly the encoded size of a term, exact for the common leaves.
fn leaf_size(t: &Term) -> usize {
    match t {
        Term::Int(0..=255) => 2,
        Term::Int(_) => 5,
        Term::Float(_) => 9,
        Term::Atom(a) => 2 + a.len(),
        Term::Pid(p) => 15 + p.node.len(),
        Term::Binary(b) => 5 + b.len(),
        _ => 8,
    }
}

/// What each step of the encoder returns: the error boxed, so that a
/// step's result fits in a register.
type Step = Result<(), Box<EncodeError>>;

/// The tail of every proper list.
static NIL: Term = Term::Nil;

/// Work left to do, innermost last.
enum Job<'t> {
    One(&'t Term),
    /// Elements of a tuple, list or fun environment, in order.
    Seq(std::slice::Iter<'t, Term>),
    /// Elements of a proper list, then its NIL tail.
    List(std::slice::Iter<'t, Term>),
    /// A list's elements given as bytes, written as SMALL_INTEGERs.
    Ints(&'t [u8]),
    Entries(std::slice::Iter<'t, (Term, Term)>),
    Sorted(std::vec::IntoIter<&'t (Term, Term)>),
    /// Writes the size of a NEW_FUN whose size field is at this offset.
    FunSize(usize),
}

struct Encoder<'o> {
    /// The output, owned while encoding (taken from the caller's `Vec` and
    /// given back), so that each write reaches it without an indirection.
    out: Vec<u8>,
    /// Where `out` goes when a large binary is shared rather than copied;
    /// `None` to copy every binary into `out`.
    shared: Option<&'o mut Vec<Bytes>>,
    /// Funs whose size field is still to be written: while one is open,
    /// `out` must stay in one piece.
    open_funs: usize,
    opts: &'o EncodeOptions,
    /// Atom cache references to write instead of atoms' text, if any.
    refs: Option<&'o mut dyn AtomRefs>,
    /// No references and minor version 2: every atom of at most 255 bytes
    /// is written as SMALL_ATOM_UTF8 without a further check.
    plain_atoms: bool,
    /// Minor version 1 or 2: finite floats are written as NEW_FLOAT.
    new_floats: bool,
}

impl<'o> Encoder<'o> {
    fn new(
        out: Vec<u8>,
        shared: Option<&'o mut Vec<Bytes>>,
        opts: &'o EncodeOptions,
    ) -> Encoder<'o> {
        Encoder {
            out,
            shared,
            open_funs: 0,
            opts,
            refs: None,
            plain_atoms: false,
            new_floats: false,
        }
    }

    /// Writes the bytes of a binary: shared with the term when writing into
    /// chunks and the binary is large, copied otherwise.
    fn binary_bytes(&mut self, bytes: &Bytes) {
        match &mut self.shared {
            Some(chunks) if bytes.len() >= chunked::SHARE_MIN && self.open_funs == 0 => {
                chunked::push_shared(chunks, &mut self.out, bytes.clone());
            }
            _ => self.out.extend_from_slice(bytes),
        }
    }
    /// Writes `term` with an explicit stack of pending work, so at any depth.
    #[inline(never)]
    fn iterative(&mut self, term: &Term) -> Step {
        let mut jobs: Vec<Job<'_>> = Vec::new();
        match term {
            // A tuple of leaves (most control messages and many payloads)
            // is written without scheduling a job, so without allocating.
            Term::Tuple(v) => {
                self.tuple_header(v.len())?;
                self.seq(v.iter(), false, &mut jobs)?;
            }
            _ => self.term(term, &mut jobs)?,
        }
        while let Some(job) = jobs.pop() {
            match job {
                Job::One(t) => self.term(t, &mut jobs)?,
                Job::Seq(it) => self.seq(it, false, &mut jobs)?,
                Job::List(it) => self.seq(it, true, &mut jobs)?,
                Job::Ints(bytes) => {
                    for &b in bytes {
                        self.out.extend_from_slice(&[tag::SMALL_INTEGER, b]);
                    }
                }
                Job::Entries(mut it) => {
                    // As for a sequence: leaf keys and values in place.
                    while let Some((k, v)) = it.next() {
                        if !self.leaf(k, &mut jobs)? {
                            jobs.push(Job::Entries(it));
                            jobs.push(Job::One(v));
                            self.term(k, &mut jobs)?;
                            break;
                        }
                        if !self.leaf(v, &mut jobs)? {
                            jobs.push(Job::Entries(it));
                            self.term(v, &mut jobs)?;
                            break;
                        }
                    }
                }
                Job::Sorted(mut it) => {
                    if let Some((k, v)) = it.next() {
                        jobs.push(Job::Sorted(it));
                        jobs.push(Job::One(v));
                        self.term(k, &mut jobs)?;
                    }
                }
                Job::FunSize(at) => {
                    self.open_funs -= 1;
                    let size =
                        u32::try_from(self.out.len() - at).map_err(|_| EncodeError::TooLarge {
                            what: "fun",
                            len: self.out.len() - at,
                        })?;
                    self.out[at..at + 4].copy_from_slice(&size.to_be_bytes());
                }
            }
        }
        Ok(())
    }

    /// Writes the elements of a sequence (then NIL when `nil`): leaves in
    /// place, until a container suspends the run.
    #[inline(always)]
    fn seq<'t>(
        &mut self,
        mut it: std::slice::Iter<'t, Term>,
        nil: bool,
        jobs: &mut Vec<Job<'t>>,
    ) -> Step {
        while let Some(t) = it.next() {
            if !self.leaf(t, jobs)? {
                jobs.push(if nil { Job::List(it) } else { Job::Seq(it) });
                return self.term(t, jobs);
            }
        }
        if nil {
            self.out.push(tag::NIL);
        }
        Ok(())
    }

    /// Writes `t` when it is a leaf (no parts to schedule) and returns true;
    /// returns false, writing nothing, for a container.
    #[inline(always)]
    fn leaf<'t>(&mut self, t: &'t Term, jobs: &mut Vec<Job<'t>>) -> Result<bool, Box<EncodeError>> {
        match t {
            Term::Int(i) => self.int(*i),
            Term::Atom(a) => self.atom(a)?,
            Term::Pid(p) => self.pid(p)?,
            // A small tuple of integers, atoms, floats and `[]` (`{ok, 1}`, a
            // record of flags...) is written here whole, without a call
            // to `term` or a job.
            Term::Tuple(v) if v.len() <= 8 && v.iter().all(is_plain) => self.plain_tuple(v)?,
            _ if is_container(t) => return Ok(false),
            _ => self.term(t, jobs)?,
        }
        Ok(true)
    }

    /// Writes a small tuple whose elements are all [`is_plain`].
    #[inline(never)]
    fn plain_tuple(&mut self, v: &[Term]) -> Step {
        self.tuple_header(v.len())?;
        for t in v {
            match t {
                Term::Int(i) => self.int(*i),
                Term::Atom(a) => self.atom(a)?,
                Term::Float(f) => self.float(*f)?,
                _ => self.out.push(tag::NIL),
            }
        }
        Ok(())
    }

    /// Writes a term's header (all of it for a leaf) and schedules its parts.
    // Never inlined: it is large, and inlined into the loops over elements it
    // makes every element pay for its prologue.
    #[inline(never)]
    fn term<'t>(&mut self, term: &'t Term, jobs: &mut Vec<Job<'t>>) -> Step {
        match term {
            Term::Int(i) => self.int(*i),
            Term::BigInt(b) => self.big(b)?,
            Term::Float(f) => self.float(*f)?,
            Term::Atom(a) => self.atom(a)?,
            Term::Tuple(v) => {
                self.tuple_header(v.len())?;
                jobs.push(Job::Seq(v.iter()));
            }
            Term::Nil => self.out.push(tag::NIL),
            Term::List(_) | Term::ByteList(_) | Term::ImproperList(..) => self.list(term, jobs)?,
            Term::Map(m) => self.map(m, jobs)?,
            Term::Binary(b) => {
                self.header32(tag::BINARY, b.len(), "binary")?;
                self.binary_bytes(b);
            }
            Term::BitBinary(b) => self.bit_binary(b)?,
            Term::Pid(p) => self.pid(p)?,
            Term::Port(p) => {
                // OTP 26+ writes every port as V4_PORT, whatever its id.
                self.out.push(tag::V4_PORT);
                self.atom(&p.node)?;
                self.out.extend_from_slice(&p.id.to_be_bytes());
                self.out.extend_from_slice(&p.creation.to_be_bytes());
            }
            Term::Reference(r) => self.reference(r)?,
            Term::Export(e) => {
                self.out.push(tag::EXPORT);
                self.atom(&e.module)?;
                self.atom(&e.function)?;
                self.out.extend_from_slice(&[tag::SMALL_INTEGER, e.arity]);
            }
            Term::Fun(f) => self.fun(f, jobs)?,
            Term::Record(r) => self.record(r, jobs)?,
            Term::Local(bytes) => {
                if bytes.first() != Some(&tag::LOCAL) {
                    return Err(Box::new(EncodeError::InvalidLocal));
                }
                self.out.extend_from_slice(bytes);
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn tuple_header(&mut self, len: usize) -> Step {
        match u8::try_from(len) {
            Ok(n) => {
                self.out.extend_from_slice(&[tag::SMALL_TUPLE, n]);
                Ok(())
            }
            Err(_) => self.large_tuple_header(len),
        }
    }

    #[cold]
    #[inline(never)]
    fn large_tuple_header(&mut self, len: usize) -> Step {
        self.header32(tag::LARGE_TUPLE, len, "tuple")
    }

    fn len32(&mut self, len: usize, what: &'static str) -> Step {
        let n = u32::try_from(len).map_err(|_| too_large(what, len))?;
        self.out.extend_from_slice(&n.to_be_bytes());
        Ok(())
    }

    /// Writes `tag` and a 32-bit length in one write (BINARY, LIST, MAP...).
    #[inline(always)]
    fn header32(&mut self, tag: u8, len: usize, what: &'static str) -> Step {
        let Ok(n) = u32::try_from(len) else {
            return Err(too_large(what, len));
        };
        let [n0, n1, n2, n3] = n.to_be_bytes();
        self.out.extend_from_slice(&[tag, n0, n1, n2, n3]);
        Ok(())
    }

    #[inline(always)]
    fn int(&mut self, i: i64) {
        if let Ok(b) = u8::try_from(i) {
            self.out.extend_from_slice(&[tag::SMALL_INTEGER, b]);
        } else if let Ok(w) = i32::try_from(i) {
            let [b0, b1, b2, b3] = w.to_be_bytes();
            self.out.extend_from_slice(&[tag::INTEGER, b0, b1, b2, b3]);
        } else {
            let magnitude = i.unsigned_abs().to_le_bytes();
            let n = 8 - magnitude.iter().rev().take_while(|&&b| b == 0).count();
            self.out
                .extend_from_slice(&[tag::SMALL_BIG, n as u8, u8::from(i < 0)]);
            self.out.extend_from_slice(&magnitude[..n]);
        }
    }

    fn big(&mut self, b: &BigInt) -> Step {
        if let Some(i) = b.to_i64() {
            self.int(i);
            return Ok(());
        }
        let (sign, digits) = b.to_bytes_le();
        let negative = u8::from(sign == Sign::Minus);
        match u8::try_from(digits.len()) {
            Ok(n) => self.out.extend_from_slice(&[tag::SMALL_BIG, n, negative]),
            Err(_) => {
                self.out.push(tag::LARGE_BIG);
                self.len32(digits.len(), "integer")?;
                self.out.push(negative);
            }
        }
        self.out.extend_from_slice(&digits);
        Ok(())
    }

    #[inline(always)]
    fn float(&mut self, f: f64) -> Step {
        if f.is_finite() && self.new_floats {
            let [b0, b1, b2, b3, b4, b5, b6, b7] = f.to_bits().to_be_bytes();
            self.out
                .extend_from_slice(&[tag::NEW_FLOAT, b0, b1, b2, b3, b4, b5, b6, b7]);
            Ok(())
        } else {
            self.float_other(f)
        }
    }

    /// [`Encoder::float`] for the text FLOAT of minor version 0, and the
    /// error for a float the BEAM cannot hold.
    #[inline(never)]
    fn float_other(&mut self, f: f64) -> Step {
        if !f.is_finite() {
            return Err(Box::new(EncodeError::NonFiniteFloat(f)));
        }
        self.out.push(tag::FLOAT);
        self.out.extend_from_slice(&float_text::format(f));
        Ok(())
    }

    #[inline(always)]
    fn atom(&mut self, a: &Atom) -> Step {
        let text = a.as_bytes();
        match u8::try_from(text.len()) {
            // The common case: at most 255 bytes is at most 255 characters.
            Ok(n) if self.plain_atoms => {
                self.out.extend_from_slice(&[tag::SMALL_ATOM_UTF8, n]);
                self.out.extend_from_slice(text);
                Ok(())
            }
            _ => self.atom_other(a),
        }
    }

    /// [`Encoder::atom`] with atom cache references, long atoms or the
    /// older minor versions.
    #[inline(never)]
    fn atom_other(&mut self, a: &Atom) -> Step {
        if let Some(index) = self.refs.as_mut().and_then(|refs| refs.reference(a)) {
            self.out.extend_from_slice(&[tag::ATOM_CACHE_REF, index]);
            return Ok(());
        }
        self.atom_checked(a)
    }

    /// [`Encoder::atom`] for long atoms and the older minor versions.
    fn atom_checked(&mut self, a: &Atom) -> Step {
        let text = a.as_str();
        let chars = if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        };
        if chars > 255 {
            return Err(Box::new(EncodeError::AtomTooLong(chars)));
        }
        if self.opts.minor_version < 2 && text.chars().all(|c| (c as u32) < 256) {
            self.out.push(tag::ATOM);
            self.out.extend_from_slice(&(chars as u16).to_be_bytes());
            if text.is_ascii() {
                self.out.extend_from_slice(text.as_bytes());
            } else {
                self.out.extend(text.chars().map(|c| c as u8));
            }
        } else if let Ok(n) = u8::try_from(text.len()) {
            self.out.extend_from_slice(&[tag::SMALL_ATOM_UTF8, n]);
            self.out.extend_from_slice(text.as_bytes());
        } else {
            self.out.push(tag::ATOM_UTF8);
            self.out
                .extend_from_slice(&(text.len() as u16).to_be_bytes());
            self.out.extend_from_slice(text.as_bytes());
        }
        Ok(())
    }

    #[inline(always)]
    fn pid(&mut self, p: &Pid) -> Step {
        self.out.push(tag::NEW_PID);
        self.atom(&p.node)?;
        let [i0, i1, i2, i3] = p.id.to_be_bytes();
        let [s0, s1, s2, s3] = p.serial.to_be_bytes();
        let [c0, c1, c2, c3] = p.creation.to_be_bytes();
        self.out
            .extend_from_slice(&[i0, i1, i2, i3, s0, s1, s2, s3, c0, c1, c2, c3]);
        Ok(())
    }

    fn reference(&mut self, r: &Reference) -> Step {
        let n = match u16::try_from(r.ids.len()) {
            Ok(n @ 1..=5) => n,
            _ => return Err(Box::new(EncodeError::InvalidReferenceLength(r.ids.len()))),
        };
        self.out.push(tag::NEWER_REFERENCE);
        self.out.extend_from_slice(&n.to_be_bytes());
        self.atom(&r.node)?;
        self.out.extend_from_slice(&r.creation.to_be_bytes());
        for id in &r.ids {
            self.out.extend_from_slice(&id.to_be_bytes());
        }
        Ok(())
    }

    fn bit_binary(&mut self, b: &BitBinary) -> Step {
        let invalid = || EncodeError::InvalidBitBinary {
            bits: b.bits,
            len: b.bytes.len(),
        };
        match (b.bytes.split_last(), b.bits) {
            (None, 0) => {
                self.out.extend_from_slice(&[tag::BINARY, 0, 0, 0, 0]);
            }
            (Some(_), 8) => {
                self.out.push(tag::BINARY);
                self.len32(b.bytes.len(), "binary")?;
                self.binary_bytes(&b.bytes);
            }
            (Some((&last, init)), bits @ 1..=7) => {
                self.out.push(tag::BIT_BINARY);
                self.len32(b.bytes.len(), "bitstring")?;
                self.out.push(bits);
                self.binary_bytes(&b.bytes.slice(..init.len()));
                self.out.push(last & !(0xffu8 >> bits));
            }
            _ => return Err(Box::new(invalid())),
        }
        Ok(())
    }

    fn map<'t>(&mut self, m: &'t Map, jobs: &mut Vec<Job<'t>>) -> Step {
        self.header32(tag::MAP, m.len(), "map")?;
        if self.opts.deterministic {
            let mut sorted: Vec<&(Term, Term)> = m.entries().iter().collect();
            sorted.sort_by(|a, b| a.0.cmp_map_key(&b.0));
            jobs.push(Job::Sorted(sorted.into_iter()));
        } else {
            jobs.push(Job::Entries(m.entries().iter()));
        }
        Ok(())
    }

    /// RECORD_EXT as OTP 29 writes it, with or without `deterministic`:
    /// the field names in definition order, then the values in that order.
    fn record<'t>(&mut self, r: &'t Record, jobs: &mut Vec<Job<'t>>) -> Step {
        if !self.opts.native_records {
            return Err(Box::new(EncodeError::NativeRecordsOff {
                module: r.module.clone(),
                name: r.name.clone(),
            }));
        }
        self.out.push(tag::RECORD);
        self.len32(r.fields.len(), "record")?;
        self.out.push(u8::from(r.exported));
        self.atom(&r.module)?;
        self.atom(&r.name)?;
        for field in &r.fields {
            self.atom(field)?;
        }
        jobs.push(Job::Seq(r.values.iter()));
        Ok(())
    }

    fn fun<'t>(&mut self, f: &'t Fun, jobs: &mut Vec<Job<'t>>) -> Step {
        self.out.push(tag::NEW_FUN);
        let size_at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        self.out.push(f.arity);
        self.out.extend_from_slice(&f.uniq);
        self.out.extend_from_slice(&f.index.to_be_bytes());
        self.len32(f.free_vars.len(), "fun environment")?;
        self.atom(&f.module)?;
        // The BEAM keeps both as signed 32-bit integers.
        self.int((f.old_index as i32).into());
        self.int((f.old_uniq as i32).into());
        self.pid(&f.pid)?;
        self.open_funs += 1;
        jobs.push(Job::FunSize(size_at));
        jobs.push(Job::Seq(f.free_vars.iter()));
        Ok(())
    }

    /// Writes a list as OTP does, whatever its representation: STRING when
    /// it is proper and made of 1..=65535 integers in `0..=255`, else LIST.
    fn list<'t>(&mut self, term: &'t Term, jobs: &mut Vec<Job<'t>>) -> Step {
        if let Term::List(items) = term {
            return self.proper_list(items, jobs);
        }
        let segments = Segments::of(term);
        let count = segments.count();
        if count == 0 {
            return match segments.tail {
                Some(tail) => self.term(tail, jobs),
                None => {
                    self.out.push(tag::NIL);
                    Ok(())
                }
            };
        }
        if segments.tail.is_none() && count <= usize::from(u16::MAX) && segments.all_bytes() {
            self.out.push(tag::STRING);
            self.out.extend_from_slice(&(count as u16).to_be_bytes());
            for seg in &segments.parts {
                match seg {
                    Segment::Bytes(b) => self.out.extend_from_slice(b),
                    Segment::Terms(v) => self.out.extend(v.iter().filter_map(small_byte)),
                }
            }
            return Ok(());
        }
        self.out.push(tag::LIST);
        self.len32(count, "list")?;
        match segments.tail {
            Some(tail) => jobs.push(Job::One(tail)),
            None => jobs.push(Job::One(&NIL)),
        }
        for seg in segments.parts.into_iter().rev() {
            jobs.push(match seg {
                Segment::Bytes(b) => Job::Ints(b),
                Segment::Terms(v) => Job::Seq(v.iter()),
            });
        }
        Ok(())
    }
}

impl Encoder<'_> {
    /// The common case of [`Encoder::list`]: one proper list of terms.
    fn proper_list<'t>(&mut self, items: &'t [Term], jobs: &mut Vec<Job<'t>>) -> Step {
        if self.list_head(items)? {
            jobs.push(Job::List(items.iter()));
        }
        Ok(())
    }

    /// Starts a proper list as OTP writes it: `[]` or a STRING whole (then
    /// `false`: nothing follows), or the LIST header (then `true`: the
    /// elements and the NIL tail follow).
    #[inline(always)]
    fn list_head(&mut self, items: &[Term]) -> Result<bool, Box<EncodeError>> {
        if items.is_empty() {
            self.out.push(tag::NIL);
            Ok(false)
        } else if items.len() <= usize::from(u16::MAX)
            && items.iter().all(|t| small_byte(t).is_some())
        {
            self.out.push(tag::STRING);
            self.out
                .extend_from_slice(&(items.len() as u16).to_be_bytes());
            self.out.extend(items.iter().filter_map(small_byte));
            Ok(false)
        } else {
            self.header32(tag::LIST, items.len(), "list")?;
            Ok(true)
        }
    }
}

/// The error for a length the format cannot carry.
#[cold]
#[inline(never)]
fn too_large(what: &'static str, len: usize) -> Box<EncodeError> {
    Box::new(EncodeError::TooLarge { what, len })
}

/// True for terms whose encoding schedules further work.
fn is_container(t: &Term) -> bool {
    matches!(
        t,
        Term::Tuple(_)
            | Term::List(_)
            | Term::ImproperList(..)
            | Term::Map(_)
            | Term::Fun(_)
            | Term::Record(_)
    )
}

/// True for the terms a small tuple written in place may hold: integers,
/// atoms, floats and `[]`.
#[inline(always)]
fn is_plain(t: &Term) -> bool {
    matches!(t, Term::Int(_) | Term::Atom(_) | Term::Float(_) | Term::Nil)
}

/// The byte value of an integer term in `0..=255`.
fn small_byte(t: &Term) -> Option<u8> {
    match t {
        Term::Int(i) => u8::try_from(*i).ok(),
        Term::BigInt(b) => b.to_u8(),
        _ => None,
    }
}

/// A run of list elements in one representation.
enum Segment<'t> {
    Terms(&'t [Term]),
    Bytes(&'t [u8]),
}

/// A list's elements, following improper tails that are themselves lists,
/// and its final tail (`None`: proper).
struct Segments<'t> {
    parts: Vec<Segment<'t>>,
    tail: Option<&'t Term>,
}

impl<'t> Segments<'t> {
    fn of(mut term: &'t Term) -> Segments<'t> {
        let mut parts = Vec::with_capacity(1);
        loop {
            match term {
                Term::Nil => return Segments { parts, tail: None },
                Term::List(v) => {
                    parts.push(Segment::Terms(v));
                    return Segments { parts, tail: None };
                }
                Term::ByteList(b) => {
                    parts.push(Segment::Bytes(b));
                    return Segments { parts, tail: None };
                }
                Term::ImproperList(v, tail) => {
                    parts.push(Segment::Terms(v));
                    term = tail;
                }
                other => {
                    return Segments {
                        parts,
                        tail: Some(other),
                    }
                }
            }
        }
    }

    fn count(&self) -> usize {
        self.parts
            .iter()
            .map(|s| match s {
                Segment::Terms(v) => v.len(),
                Segment::Bytes(b) => b.len(),
            })
            .sum()
    }

    fn all_bytes(&self) -> bool {
        self.parts.iter().all(|s| match s {
            Segment::Terms(v) => v.iter().all(|t| small_byte(t).is_some()),
            Segment::Bytes(_) => true,
        })
    }
}
