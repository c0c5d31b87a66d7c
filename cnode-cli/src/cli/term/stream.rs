//! `cnode term decode` without holding the dump: the term is read with
//! [`etf::stream::Reader`] and printed as it is read, so memory is bounded
//! by the nesting depth and the largest leaf, not by the input.
//!
//! Erlang syntax is written straight from the reader's events ([`Syntax`],
//! with the leaf writers of [`etf::leaf`]), so no term is built per value
//! and the output is byte for byte what printing the whole term gives:
//! - a list that could still be a string (only printable character codes
//!   so far) keeps those codes until a non-printable element or its end
//!   decides, as the printer must (8 bytes per code);
//! - duplicate map keys are not detected (the reader cannot see them
//!   without holding the map).
//!
//! JSON is written from events too ([`to_json`]); see there for how maps
//! and improper lists are handled.
//!
//! Output is held until [`FLUSH_AT`] bytes are pending, so a bad dump whose
//! text is small prints nothing; a large dump may have printed some text
//! before its error is found.

mod to_json;

use etf::stream::{Error, Event, Reader};
use etf::Term;
use std::io::{self, Read, Write};
pub(super) use to_json::print_json;

/// In JSON, a list outside any map, or a value without its own events
/// (pid, record, ...), encoded in at most this many bytes is read whole.
pub(super) const SMALL: usize = 64 << 10;

/// Output is written when this much is pending.
const FLUSH_AT: usize = 1 << 20;

/// Why streaming failed: the input or the output.
pub(super) enum Failure {
    Input(Error),
    /// The JSON of a large improper list cannot be streamed.
    ImproperJson(usize),
    Output(io::Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        Failure::Input(err)
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Failure {
        Failure::Output(err)
    }
}

/// Output held in memory up to [`FLUSH_AT`] bytes.
pub(super) struct Out<W: Write> {
    /// The text not yet written.
    pub(super) buf: String,
    sink: W,
}

impl<W: Write> Out<W> {
    pub(super) fn new(sink: W) -> Out<W> {
        Out {
            buf: String::with_capacity(FLUSH_AT + SMALL),
            sink,
        }
    }

    pub(super) fn text(&mut self, text: &str) {
        self.buf.push_str(text);
    }

    /// Writes an integer in decimal.
    pub(super) fn int(&mut self, n: i64) {
        push_int(&mut self.buf, n);
    }

    pub(super) fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.sink.write_all(self.buf.as_bytes())?;
            self.buf.clear();
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> io::Result<()> {
        self.sink.write_all(self.buf.as_bytes())?;
        self.sink.flush()
    }
}

/// A container being printed in Erlang syntax.
enum Open {
    Tuple {
        written: usize,
    },
    /// Keys and values written.
    Map {
        written: usize,
    },
    List {
        written: usize,
        /// The elements so far while all are printable character codes
        /// (the `[` is not written yet).
        codes: Option<Vec<i64>>,
        in_tail: bool,
    },
}

/// Prints the term of `reader` in Erlang syntax on one line, then a newline,
/// straight from its events: no term is built, except for the rare values
/// the reader delivers whole ([`Event::Term`]).
pub(super) fn print_text<R: Read>(reader: &mut Reader<R>, sink: impl Write) -> Result<(), Failure> {
    let mut out = Out::new(sink);
    let mut syntax = Syntax::default();
    loop {
        out.maybe_flush()?;
        let Some(event) = reader.next_event()? else {
            break;
        };
        syntax.event(&mut out.buf, &event);
    }
    out.text("\n");
    Ok(out.finish()?)
}

/// The Erlang syntax of a term, written event by event: what `Display`
/// writes for the whole term.
#[derive(Default)]
pub(super) struct Syntax {
    /// The open containers.
    stack: Vec<Open>,
    /// An emptied code buffer of a finished list, reused by the next.
    spare: Vec<i64>,
    atoms: AtomCache,
}

/// The printed form (quoted or not) of recently seen atoms: a dump repeats
/// a few atoms (map keys, record names, `true`) many times, and deciding
/// whether one needs quotes costs more than looking it up.
struct AtomCache {
    /// Two ways in each of 32 sets, picked by an atom's length and ends.
    slots: Vec<(String, String)>,
}

impl Default for AtomCache {
    fn default() -> AtomCache {
        AtomCache {
            slots: vec![(String::new(), String::new()); AtomCache::SLOTS],
        }
    }
}

impl AtomCache {
    const SLOTS: usize = 64;
    /// Longer atoms are printed without the cache.
    const MAX_LEN: usize = 32;

    /// Writes `atom` as the printer does.
    fn write(&mut self, buf: &mut String, atom: &str) {
        let bytes = atom.as_bytes();
        let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
            let _ = etf::leaf::write_atom(buf, atom);
            return;
        };
        if bytes.len() > Self::MAX_LEN {
            let _ = etf::leaf::write_atom(buf, atom);
            return;
        }
        // The length and ends mixed by multiplying, the top 5 bits picking
        // one of 32 sets; two ways per set, so that two frequent atoms of
        // one set do not evict each other.
        let ends = u32::from(first) << 8 | u32::from(last);
        let mixed = ends
            .wrapping_mul(0x9E37_79B1)
            .wrapping_add((bytes.len() as u32).wrapping_mul(0x85EB_CA6B));
        let set = (mixed >> 27) as usize * 2;
        let slot = if self.slots[set].0 == atom {
            set
        } else if self.slots[set + 1].0 == atom {
            set + 1
        } else {
            // The set's older atom goes; the newer one moves over.
            self.slots.swap(set, set + 1);
            let (key, printed) = &mut self.slots[set];
            key.clear();
            key.push_str(atom);
            printed.clear();
            // Writing to a String cannot fail.
            let _ = etf::leaf::write_atom(printed, atom);
            set
        };
        buf.push_str(&self.slots[slot].1);
    }
}

impl Syntax {
    /// Writes what `event` adds to the text.
    pub(super) fn event(&mut self, buf: &mut String, event: &Event<'_>) {
        match *event {
            Event::Int(n) => {
                if !self.before(buf, Some(n)) {
                    push_int(buf, n);
                }
            }
            Event::TupleStart(_) => {
                self.before(buf, None);
                buf.push('{');
                self.stack.push(Open::Tuple { written: 0 });
            }
            Event::MapStart(_) => {
                self.before(buf, None);
                buf.push_str("#{");
                self.stack.push(Open::Map { written: 0 });
            }
            Event::ListStart(_) => {
                self.before(buf, None);
                self.stack.push(Open::List {
                    written: 0,
                    codes: Some(std::mem::take(&mut self.spare)),
                    in_tail: false,
                });
            }
            Event::TupleEnd | Event::MapEnd => {
                self.stack.pop();
                buf.push('}');
            }
            Event::ImproperTail => {
                if let Some(Open::List { codes, in_tail, .. }) = self.stack.last_mut() {
                    open_list(buf, codes, &mut self.spare);
                    *in_tail = true;
                }
                buf.push('|');
            }
            Event::ListEnd => match self.stack.pop() {
                Some(Open::List {
                    codes: Some(mut codes),
                    ..
                }) => {
                    // Every element a printable code: the printer's string.
                    // Writing to a String cannot fail.
                    let _ = etf::leaf::write_string(buf, &codes);
                    codes.clear();
                    self.spare = codes;
                }
                _ => buf.push(']'),
            },
            ref leaf => {
                self.before(buf, None);
                // Writing to a String cannot fail.
                let _ = match *leaf {
                    Event::Float(f) => etf::leaf::write_float(buf, f),
                    Event::Atom(text) => {
                        self.atoms.write(buf, text);
                        Ok(())
                    }
                    Event::Binary(bytes) => etf::leaf::write_binary(buf, bytes),
                    Event::String(bytes) => etf::leaf::write_byte_list(buf, bytes),
                    Event::Nil => {
                        buf.push_str("[]");
                        Ok(())
                    }
                    Event::Term(ref term) => {
                        std::fmt::Write::write_fmt(buf, format_args!("{term}"))
                    }
                    // Every other event is handled above.
                    _ => Ok(()),
                };
            }
        }
    }

    /// Writes a value read whole.
    pub(super) fn term(&mut self, buf: &mut String, term: &Term) {
        let code = match term {
            Term::Int(n) => Some(*n),
            _ => None,
        };
        if !self.before(buf, code) {
            // Writing to a String cannot fail.
            let _ = std::fmt::Write::write_fmt(buf, format_args!("{term}"));
        }
    }

    /// Writes what goes before a value in the innermost container (`,`,
    /// ` => `). `code` is the value when it is an integer. Returns `true`
    /// when it was kept as a character code of a list that may still print
    /// as a string. Small enough to inline: lists go to
    /// [`Syntax::before_in_list`].
    #[inline]
    fn before(&mut self, buf: &mut String, code: Option<i64>) -> bool {
        match self.stack.last_mut() {
            None => {}
            Some(Open::Tuple { written }) => {
                if *written > 0 {
                    buf.push(',');
                }
                *written += 1;
            }
            Some(Open::Map { written }) => {
                // Two literal pushes: each is a few stores, not a copy call.
                if *written % 2 == 1 {
                    buf.push_str(" => ");
                } else if *written > 0 {
                    buf.push(',');
                }
                *written += 1;
            }
            Some(Open::List { .. }) => return self.before_in_list(buf, code),
        }
        false
    }

    /// [`Syntax::before`] in a list.
    fn before_in_list(&mut self, buf: &mut String, code: Option<i64>) -> bool {
        let Some(Open::List {
            written,
            codes,
            in_tail,
        }) = self.stack.last_mut()
        else {
            return false;
        };
        if *in_tail {
            return false;
        }
        if let Some(kept) = codes {
            if let Some(code) = code.filter(|&c| etf::leaf::is_printable(c)) {
                kept.push(code);
                *written += 1;
                return true;
            }
            open_list(buf, codes, &mut self.spare);
        }
        if *written > 0 {
            buf.push(',');
        }
        *written += 1;
        false
    }
}

/// Writes the `[` of a list that will not print as a string, with the
/// codes kept so far; their buffer goes back to `spare` when it is empty.
fn open_list(buf: &mut String, codes: &mut Option<Vec<i64>>, spare: &mut Vec<i64>) {
    if let Some(mut kept) = codes.take() {
        buf.push('[');
        for (i, &code) in kept.iter().enumerate() {
            if i > 0 {
                buf.push(',');
            }
            push_int(buf, code);
        }
        kept.clear();
        if spare.capacity() == 0 {
            *spare = kept;
        }
    }
}

/// Writes an integer in decimal, without the formatting machinery.
pub(super) fn push_int(buf: &mut String, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        // `rest % 10` is a digit.
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        buf.push('-');
    }
    // ASCII digits are UTF-8.
    buf.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// A leaf event as a term.
pub(super) fn leaf_term(event: Event<'_>) -> Term {
    match event {
        Event::Int(n) => Term::Int(n),
        Event::Float(f) => Term::Float(f),
        Event::Atom(text) => Term::Atom(etf::Atom::new(text)),
        Event::String(bytes) => Term::ByteList(bytes.to_vec()),
        Event::Binary(bytes) => Term::Binary(bytes.to_vec().into()),
        Event::Term(term) => term,
        _ => Term::Nil,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::term::json;

    fn text_of(dump: &[u8]) -> String {
        let mut out = Vec::new();
        let printed = print_text(&mut Reader::new(dump), &mut out);
        assert!(printed.is_ok(), "prints");
        String::from_utf8(out).expect("UTF-8")
    }

    fn json_of(dump: &[u8], pretty: bool) -> Result<String, Failure> {
        let mut out = Vec::new();
        print_json(&mut Reader::new(dump), &mut out, pretty)?;
        Ok(String::from_utf8(out).expect("UTF-8"))
    }

    /// Large containers of every kind, each larger than [`SMALL`] so that
    /// they stream, holding small values that print whole.
    fn large_term(improper: bool) -> Term {
        let row = |i: i64| -> Term {
            format!("#{{id => {i}, name => <<\"row{i}\">>, 'Tag' => [a, \"xy\", 1.5], b => <<255, {}>>}}", i % 256)
                .parse()
                .expect("parses")
        };
        let rows: Vec<Term> = (0..3000).map(row).collect();
        let printable: Vec<Term> = (0..40_000).map(|i| Term::Int(97 + i % 26)).collect();
        let mut almost = printable.clone();
        almost.push(Term::Int(1));
        let map_entries = (0..3000).map(|i| (Term::Int(i), row(i))).collect();
        let map = Term::Map(etf::Map::from_entries(map_entries).expect("unique keys"));
        let mut outer = vec![
            Term::Tuple(rows.clone()),
            Term::List(printable),
            Term::List(almost),
            map,
            Term::Binary(vec![b'z'; 100_000].into()),
            Term::list(vec![Term::Tuple(rows.clone()), Term::list(rows.clone())]),
            Term::Nil,
        ];
        if improper {
            outer.push(Term::ImproperList(
                rows,
                Box::new(Term::Atom(etf::Atom::new("end"))),
            ));
        }
        Term::list(outer)
    }

    #[test]
    fn streamed_text_is_the_printed_term() {
        let term = large_term(true);
        let dump = etf::to_vec(&term).expect("encodes");
        assert!(dump.len() > 4 * SMALL);
        assert_eq!(text_of(&dump), format!("{term}\n"));
        let compressed = term
            .encode(&etf::EncodeOptions::new().compression(Some(1)))
            .expect("encodes");
        assert_eq!(text_of(&compressed), format!("{term}\n"));
    }

    /// Small values are printed from events too: every way a map can end
    /// up (in order, sorted, pairs), nested and as keys, and lists inside
    /// maps (an improper one is a string).
    #[test]
    fn small_values_print_as_their_term_does() {
        let texts = [
            "#{b => 1, a => <<\"x\">>, c => [1, 2]}",
            "#{a => 1, <<\"a\">> => 2}",
            "#{true => false, 1 => {x, 2.5}, \"ab\" => [a | b]}",
            "#{#{k => v} => #{z => [], y => #{}}, {t} => <<1, 2>>}",
            "#{<<\"q\\\"\\n\">> => 'Tag', <<255>> => \"abc\", false => true}",
            "[#{}, {}, [], \"hello\", [104, 1], [1 | 2], 'a b', 12345678901234567890]",
            "{#{b => #{d => 1, c => 2}, a => [#{y => 1, x => 2}]}, -7, 1.0e20}",
        ];
        for text in texts {
            let term: Term = text.parse().expect("parses");
            let dump = etf::to_vec(&term).expect("encodes");
            assert_eq!(text_of(&dump), format!("{term}\n"), "{text}");
            for pretty in [false, true] {
                let streamed = json_of(&dump, pretty).ok().expect("prints");
                assert_eq!(
                    streamed,
                    format!("{}\n", json::to_json(&term, pretty)),
                    "{text}, pretty: {pretty}"
                );
            }
        }
    }

    #[test]
    fn streamed_json_is_the_json_of_the_term() {
        let term = large_term(false);
        let dump = etf::to_vec(&term).expect("encodes");
        for pretty in [false, true] {
            let streamed = json_of(&dump, pretty).ok().expect("prints");
            assert!(
                streamed == format!("{}\n", json::to_json(&term, pretty)),
                "pretty: {pretty}"
            );
        }
        let improper = etf::to_vec(&large_term(true)).expect("encodes");
        assert!(matches!(
            json_of(&improper, false),
            Err(Failure::ImproperJson(_))
        ));
    }
}
