//! `cnode term decode` without holding the dump: the term is read with
//! [`etf::stream::Reader`] and printed as it is read, so memory is bounded
//! by the nesting depth and the largest leaf, not by the input.
//!
//! Every value whose encoding fits in [`SMALL`] bytes is read whole and
//! printed by the same code as a decoded term (`Display`, [`json`]), so the
//! output is byte for byte what printing the whole term gives. Only larger
//! tuples, lists and maps are streamed, element by element, and they are
//! printed the same way:
//! - a large list that could still be a string (only printable character
//!   codes so far) keeps those codes until a non-printable element or its
//!   end decides, as the printer must (4 bytes per code);
//! - in JSON, a large map is read whole (its members are written in sorted
//!   key order), and a large improper list is an error (its JSON form, a
//!   string of its Erlang syntax, would have to be known before its first
//!   element is written);
//! - in Erlang syntax, duplicate keys in a large map are not detected.
//!
//! Output is held until [`FLUSH_AT`] bytes are pending, so a bad dump whose
//! text is small prints nothing; a large dump may have printed some text
//! before its error is found.

use super::json;
use etf::stream::{Error, Event, Kind, Reader};
use etf::Term;
use std::io::{self, Read, Write};

/// Values encoded in at most this many bytes are read whole.
const SMALL: usize = 64 << 10;

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
struct Out<W: Write> {
    buf: Vec<u8>,
    sink: W,
}

impl<W: Write> Out<W> {
    fn new(sink: W) -> Out<W> {
        Out {
            buf: Vec::with_capacity(FLUSH_AT + SMALL),
            sink,
        }
    }

    fn text(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    fn display(&mut self, value: &impl std::fmt::Display) {
        // Writing to a Vec cannot fail.
        let _ = write!(self.buf, "{value}");
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.sink.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.sink.write_all(&self.buf)?;
        self.sink.flush()
    }
}

/// A large container being printed in Erlang syntax.
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

/// Prints the term of `reader` in Erlang syntax on one line, then a newline.
pub(super) fn print_text<R: Read>(reader: &mut Reader<R>, sink: impl Write) -> Result<(), Failure> {
    let mut out = Out::new(sink);
    let mut stack: Vec<Open> = Vec::new();
    loop {
        out.maybe_flush()?;
        if let Some(term) = reader.read_small_term(SMALL)? {
            if !text_before(&mut stack, &mut out, Some(&term)) {
                out.display(&term);
            }
            continue;
        }
        let Some(event) = reader.next_event()? else {
            break;
        };
        match event {
            Event::TupleStart(_) => {
                text_before(&mut stack, &mut out, None);
                out.text("{");
                stack.push(Open::Tuple { written: 0 });
            }
            Event::MapStart(_) => {
                text_before(&mut stack, &mut out, None);
                out.text("#{");
                stack.push(Open::Map { written: 0 });
            }
            Event::ListStart(_) => {
                text_before(&mut stack, &mut out, None);
                stack.push(Open::List {
                    written: 0,
                    codes: Some(Vec::new()),
                    in_tail: false,
                });
            }
            Event::TupleEnd | Event::MapEnd => {
                stack.pop();
                out.text("}");
            }
            Event::ImproperTail => {
                if let Some(Open::List { codes, in_tail, .. }) = stack.last_mut() {
                    open_list(&mut out, codes);
                    *in_tail = true;
                }
                out.text("|");
            }
            Event::ListEnd => match stack.pop() {
                Some(Open::List {
                    codes: Some(codes), ..
                }) => {
                    // Every element a printable code: the printer's string.
                    let list = Term::List(codes.into_iter().map(Term::Int).collect());
                    out.display(&list);
                }
                _ => out.text("]"),
            },
            leaf => {
                let term = leaf_term(leaf);
                if !text_before(&mut stack, &mut out, Some(&term)) {
                    out.display(&term);
                }
            }
        }
    }
    out.text("\n");
    Ok(out.finish()?)
}

/// Writes what goes before a value in the innermost large container (`,`,
/// ` => `). Returns `true` when the value was kept as a character code of
/// a list that may still print as a string.
fn text_before<W: Write>(stack: &mut [Open], out: &mut Out<W>, value: Option<&Term>) -> bool {
    match stack.last_mut() {
        None => {}
        Some(Open::Tuple { written }) => {
            if *written > 0 {
                out.text(",");
            }
            *written += 1;
        }
        Some(Open::Map { written }) => {
            if *written > 0 {
                out.text(if *written % 2 == 1 { " => " } else { "," });
            }
            *written += 1;
        }
        Some(Open::List {
            written,
            codes,
            in_tail,
        }) => {
            if *in_tail {
                return false;
            }
            if let Some(kept) = codes {
                if let Some(&Term::Int(code)) = value {
                    if is_printable(code) {
                        kept.push(code);
                        *written += 1;
                        return true;
                    }
                }
                open_list(out, codes);
            }
            if *written > 0 {
                out.text(",");
            }
            *written += 1;
        }
    }
    false
}

/// Writes the `[` of a list that will not print as a string, with the
/// codes kept so far.
fn open_list<W: Write>(out: &mut Out<W>, codes: &mut Option<Vec<i64>>) {
    if let Some(kept) = codes.take() {
        out.text("[");
        for (i, code) in kept.iter().enumerate() {
            if i > 0 {
                out.text(",");
            }
            out.display(code);
        }
    }
}

/// Whether the printer counts `code` as a printable character (as
/// `io_lib:printable_unicode_list/1` does): asked of the printer itself
/// outside printable ASCII.
fn is_printable(code: i64) -> bool {
    (32..=126).contains(&code)
        || Term::List(vec![Term::Int(code)])
            .to_string()
            .starts_with('"')
}

/// A leaf event as a term.
fn leaf_term(event: Event<'_>) -> Term {
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

/// Prints the term of `reader` as JSON ([`json`]), then a newline.
pub(super) fn print_json<R: Read>(
    reader: &mut Reader<R>,
    sink: impl Write,
    pretty: bool,
) -> Result<(), Failure> {
    let mut out = Out::new(sink);
    // The element count of each large array being written.
    let mut stack: Vec<usize> = Vec::new();
    loop {
        out.maybe_flush()?;
        let whole = match reader.read_small_term(SMALL)? {
            Some(term) => Some(term),
            // Maps, records and leaves are read whole at any size.
            None => match reader.peek_kind()? {
                Some(Kind::Tuple | Kind::List) | None => None,
                Some(_) => reader.read_term()?,
            },
        };
        if let Some(term) = whole {
            json_before(&mut stack, &mut out, pretty);
            out.text(&json::to_json_at(&term, pretty, stack.len()));
            continue;
        }
        let at = reader.position();
        let Some(event) = reader.next_event()? else {
            break;
        };
        match event {
            Event::TupleStart(_) | Event::ListStart(_) => {
                json_before(&mut stack, &mut out, pretty);
                out.text("[");
                stack.push(0);
            }
            Event::TupleEnd | Event::ListEnd => {
                let level = stack.len();
                if let Some(count) = stack.pop() {
                    if count > 0 && breaking(pretty, level) {
                        newline(&mut out, level - 1);
                    }
                }
                out.text("]");
            }
            Event::ImproperTail => return Err(Failure::ImproperJson(at)),
            leaf => {
                json_before(&mut stack, &mut out, pretty);
                out.text(&json::to_json_at(&leaf_term(leaf), pretty, stack.len()));
            }
        }
    }
    out.text("\n");
    Ok(out.finish()?)
}

/// What goes before an element of the innermost large array: a comma after
/// the first, and in the pretty layout a line break and indentation.
fn json_before<W: Write>(stack: &mut [usize], out: &mut Out<W>, pretty: bool) {
    let level = stack.len();
    if let Some(count) = stack.last_mut() {
        if *count > 0 {
            out.text(",");
        }
        *count += 1;
        if breaking(pretty, level) {
            newline(out, level);
        }
    }
}

/// Whether a container `level` deep is laid out one element per line.
fn breaking(pretty: bool, level: usize) -> bool {
    pretty && level <= json::MAX_INDENTED_LEVELS
}

fn newline<W: Write>(out: &mut Out<W>, level: usize) {
    out.text("\n");
    for _ in 0..level {
        out.text("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
