//! `cnode term decode --json` from stream events: the JSON of
//! [`json`], written as the term is read.
//!
//! Tuples, maps and leaves are written from their events, without a term.
//! A map is written as an object as its entries come, and left so when its
//! keys were all atoms or UTF-8 binaries in increasing order (as Erlang
//! writes small maps); otherwise it is rewritten at its end, with its members
//! sorted, or as an array of `[key, value]` pairs when some key cannot be a
//! member name or two keys have the same text. Output is therefore not
//! written out while a map is open: its memory is the map's JSON.
//!
//! A list inside a map is written from its events as an array while its
//! Erlang syntax is written alongside ([`Syntax`]): if it turns out improper,
//! its JSON is that syntax as a string. A list outside any map is read whole
//! when small and streamed otherwise; a large improper one is then an error
//! (its string would have to be known before its first element is written).
//! The pretty layout indents a map's values by where the map ends up, so
//! there maps are read whole.

use super::super::json;
use super::{leaf_term, Failure, Out, Syntax, SMALL};
use etf::stream::{Event, Kind, Reader};
use etf::Term;
use std::io::{Read, Write};

/// A container being written.
enum Open {
    /// A tuple or list: an array, with this many elements written.
    Array { count: usize },
    /// A list inside a map: an array whose `[` is at `json` in the output,
    /// unless it turns out improper; then it is the string of its Erlang
    /// syntax, from `text` in [`Lists::text`].
    List {
        count: usize,
        json: usize,
        text: usize,
        improper: bool,
    },
    /// A map: its JSON starts at `start` in the output; its keys and values
    /// are items `first..` of [`Maps::bounds`], its keys' text entries
    /// `first_key..` of [`Maps::keys`], their text from `first_text` on in
    /// [`Maps::text`] (when they needed escapes). `sorted` while its keys so
    /// far are member names in strictly increasing order: then its end has
    /// nothing to rewrite. `previous` is the change of [`RecentKeys`] that
    /// put its previous key's text in its place there, or 0.
    Map {
        start: usize,
        first: usize,
        first_key: usize,
        first_text: usize,
        sorted: bool,
        previous: u64,
    },
}

/// The entries of the open maps, in flat buffers shared by all of them.
#[derive(Default)]
struct Maps {
    /// Where each key and value starts in the output.
    bounds: Vec<usize>,
    /// Each key's text as an object member name, or `None` when it cannot
    /// be one.
    keys: Vec<Option<Name>>,
    text: String,
    /// The keys of the last maps by place, to write again at once.
    recent: RecentKeys,
    /// Scratch space for the rewrite and for quoting.
    order: Vec<usize>,
    rewritten: String,
    scratch: Vec<u8>,
}

/// The keys needing no escape last seen at each of the first places of a
/// map: a dump's maps mostly have the same keys in the same order, so a key
/// found here is written as it was (`"text":`), and whether it sorts after
/// the key before it is known.
#[derive(Default)]
struct RecentKeys {
    places: Vec<RecentKey>,
    /// Counts the changes of places, to tell when `after` is stale.
    changes: u64,
}

struct RecentKey {
    text: String,
    /// `"text":`.
    written: String,
    /// Which change put `text` here.
    change: u64,
    /// Whether `text` sorts after the previous place's text, as of that
    /// place's change `after_change`.
    after: bool,
    after_change: u64,
}

impl RecentKeys {
    /// How many places are kept.
    const PLACES: usize = 32;

    /// The key kept at `index`, if its text is `text`.
    fn hit(&self, index: usize, text: &str) -> Option<&RecentKey> {
        self.places
            .get(index)
            .filter(|key| same(key.text.as_bytes(), text.as_bytes()))
    }

    /// Keeps `text` (needing no escape) as the key at `index`: the change
    /// that did, or 0 when it is not kept.
    fn note(&mut self, index: usize, text: &str) -> u64 {
        if index >= Self::PLACES || index > self.places.len() {
            return 0;
        }
        self.changes += 1;
        let change = self.changes;
        if index == self.places.len() {
            self.places.push(RecentKey {
                text: String::new(),
                written: String::new(),
                change,
                after: false,
                after_change: 0,
            });
        }
        let key = &mut self.places[index];
        key.text.clear();
        key.text.push_str(text);
        key.written.clear();
        quote_plain(&mut key.written, text);
        key.written.push(':');
        key.change = change;
        key.after_change = 0;
        change
    }

    /// Whether the text at `index` is still the one `change` put there
    /// (a nested map may have put its own since).
    fn holds(&self, index: usize, change: u64) -> bool {
        change != 0
            && self
                .places
                .get(index)
                .is_some_and(|key| key.change == change)
    }

    /// Whether the key at `index` (> 0) sorts after the one before it
    /// (both as kept).
    fn after_previous(&mut self, index: usize) -> bool {
        let [.., previous, key] = &mut self.places[..=index] else {
            return false;
        };
        if key.after_change != previous.change {
            key.after = less(previous.text.as_bytes(), key.text.as_bytes());
            key.after_change = previous.change;
        }
        key.after
    }
}

/// Whether `a` and `b` are the same bytes: inline, for short keys.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The Erlang syntax of the lists open inside maps, written alongside
/// their JSON for the one that turns out improper.
#[derive(Default)]
struct Lists {
    /// How many are open.
    open: usize,
    /// Whether the outermost one's syntax is not written yet: while its
    /// elements are atoms without escapes (as most are), their text is
    /// in its JSON and the syntax is written from there only if needed
    /// ([`Lists::catch_up`]).
    deferred: bool,
    syntax: Syntax,
    text: String,
}

impl Lists {
    /// Writes the syntax deferred so far, if any: the start of the list
    /// open innermost in `stack` (then the only one) and its elements, read
    /// back from their JSON in `buf`: `"text"`, or `true` or `false`.
    fn catch_up(&mut self, buf: &str, stack: &[Open]) {
        if !self.deferred {
            return;
        }
        self.deferred = false;
        let Some(&Open::List { json, count, .. }) = stack.last() else {
            return;
        };
        self.syntax.event(&mut self.text, &Event::ListStart(count));
        let mut rest = buf.get(json + 1..).unwrap_or_default();
        while let Some(first) = rest.bytes().next() {
            let (atom, after) = if first == b'"' {
                // No escapes: the text ends at the next quote.
                let body = &rest[1..];
                let end = body.find('"').unwrap_or(body.len());
                (&body[..end], body.get(end + 1..).unwrap_or_default())
            } else {
                let end = rest.find(',').unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            };
            self.syntax.event(&mut self.text, &Event::Atom(atom));
            rest = after.strip_prefix(',').unwrap_or(after);
        }
    }
}

/// A map key that can be an object member name: its text is `[from..to]`
/// of the output when it needs no escape (it is then written there between
/// quotes), else of `Maps::text`; it is written as `"text":`.
#[derive(Clone, Copy)]
struct Name {
    from: usize,
    to: usize,
    /// Whether the text is in the output rather than in `Maps::text`.
    in_output: bool,
    /// The atom `true` or `false`, whose JSON value is not a string.
    boolean: bool,
}

/// What the next value is, as far as a map key needs to know.
enum KeyText<'a> {
    /// An atom's or UTF-8 binary's text, and whether it is `true` or
    /// `false`.
    Text(&'a str, bool),
    /// Anything else.
    Other,
}

/// Prints the term of `reader` as JSON ([`json`]), then a newline.
pub(in crate::cli::term) fn print_json<R: Read>(
    reader: &mut Reader<R>,
    sink: impl Write,
    pretty: bool,
) -> Result<(), Failure> {
    let mut out = Out::new(sink);
    let mut stack: Vec<Open> = Vec::new();
    let mut maps = Maps::default();
    let mut open_maps = 0usize;
    let mut lists = Lists::default();
    let mut scratch: Vec<u8> = Vec::new();
    loop {
        if open_maps == 0 {
            out.maybe_flush()?;
        }
        // Inside a map (not laid out) nothing is read whole here: lists
        // stream, and the values without events of their own (pids,
        // funs...) come whole as `Event::Term` anyway; so the kind of each
        // value need not be looked at first.
        let kind = if open_maps > 0 && !pretty {
            None
        } else {
            reader.peek_kind()?
        };
        let whole = match kind {
            Some(Kind::List) if open_maps > 0 => None,
            Some(Kind::List | Kind::Other) => reader.read_small_term(SMALL)?,
            Some(Kind::Map) if pretty => reader.read_term()?,
            _ => None,
        };
        if let Some(term) = whole {
            if lists.open > 0 {
                lists.catch_up(&out.buf, &stack);
                lists.syntax.term(&mut lists.text, &term);
            }
            if !before(&mut stack, &mut out, &mut maps, pretty, key_text(&term)) {
                out.text(&json::to_json_at(&term, pretty, stack.len()));
            }
            continue;
        }
        let at = reader.position();
        let Some(event) = reader.next_event()? else {
            break;
        };
        if lists.open > 0 {
            match event {
                Event::Atom(text) if lists.deferred && !needs_escape(text) => {}
                Event::ListEnd if lists.deferred => lists.deferred = false,
                _ => {
                    lists.catch_up(&out.buf, &stack);
                    lists.syntax.event(&mut lists.text, &event);
                }
            }
        }
        match event {
            Event::ListStart(_) if open_maps > 0 => {
                before(&mut stack, &mut out, &mut maps, pretty, KeyText::Other);
                if lists.open == 0 {
                    lists.text.clear();
                    lists.deferred = true;
                }
                lists.open += 1;
                stack.push(Open::List {
                    count: 0,
                    json: out.buf.len(),
                    text: lists.text.len(),
                    improper: false,
                });
                out.text("[");
            }
            Event::TupleStart(_) | Event::ListStart(_) => {
                before(&mut stack, &mut out, &mut maps, pretty, KeyText::Other);
                out.text("[");
                stack.push(Open::Array { count: 0 });
            }
            Event::MapStart(_) => {
                before(&mut stack, &mut out, &mut maps, pretty, KeyText::Other);
                out.text("{");
                stack.push(Open::Map {
                    start: out.buf.len() - 1,
                    first: maps.bounds.len(),
                    first_key: maps.keys.len(),
                    first_text: maps.text.len(),
                    sorted: true,
                    previous: 0,
                });
                open_maps += 1;
            }
            Event::TupleEnd | Event::ListEnd | Event::MapEnd => {
                let level = stack.len();
                match stack.pop() {
                    Some(Open::Array { count }) => {
                        if count > 0 && breaking(pretty, level) {
                            newline(&mut out, level - 1);
                        }
                        out.text("]");
                    }
                    Some(Open::List {
                        improper: false, ..
                    }) => {
                        lists.open -= 1;
                        out.text("]");
                    }
                    Some(Open::List { json, text, .. }) => {
                        lists.open -= 1;
                        out.buf.truncate(json);
                        let syntax = lists.text.get(text..).unwrap_or_default();
                        quote(&mut out.buf, syntax, &mut scratch);
                    }
                    Some(Open::Map {
                        start,
                        first,
                        first_key,
                        first_text,
                        sorted,
                        ..
                    }) => {
                        open_maps -= 1;
                        maps.finish(&mut out.buf, start, (first, first_key, first_text), sorted);
                    }
                    None => {}
                }
            }
            Event::ImproperTail => match stack.last_mut() {
                Some(Open::List { improper, .. }) => *improper = true,
                _ => return Err(Failure::ImproperJson(at)),
            },
            Event::Atom(text) => {
                let boolean = is_boolean(text);
                if !before(
                    &mut stack,
                    &mut out,
                    &mut maps,
                    pretty,
                    KeyText::Text(text, boolean),
                ) {
                    if boolean {
                        out.text(text);
                    } else {
                        quote(&mut out.buf, text, &mut scratch);
                    }
                }
            }
            // As when read whole above (a BIT_BINARY of whole bytes is a
            // binary, whose text can be a key).
            Event::Term(term) => {
                if !before(&mut stack, &mut out, &mut maps, pretty, key_text(&term)) {
                    out.text(&json::to_json_at(&term, pretty, stack.len()));
                }
            }
            Event::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => {
                    if !before(
                        &mut stack,
                        &mut out,
                        &mut maps,
                        pretty,
                        KeyText::Text(text, false),
                    ) {
                        quote(&mut out.buf, text, &mut scratch);
                    }
                }
                Err(_) => {
                    before(&mut stack, &mut out, &mut maps, pretty, KeyText::Other);
                    let term = Term::Binary(bytes.to_vec().into());
                    out.text(&json::to_json_at(&term, pretty, stack.len()));
                }
            },
            leaf => {
                before(&mut stack, &mut out, &mut maps, pretty, KeyText::Other);
                match leaf {
                    Event::Int(n) => out.int(n),
                    // As serde_json writes it (with the same formatter).
                    Event::Float(f) if f.is_finite() => {
                        out.text(zmij::Buffer::new().format_finite(f));
                    }
                    Event::Float(_) => out.text("null"),
                    Event::Nil => out.text("[]"),
                    other => out.text(&json::to_json_at(&leaf_term(other), pretty, stack.len())),
                }
            }
        }
    }
    out.text("\n");
    Ok(out.finish()?)
}

/// What a value read whole is as a map key.
fn key_text(term: &Term) -> KeyText<'_> {
    match term {
        Term::Atom(atom) => KeyText::Text(atom.as_str(), is_boolean(atom.as_str())),
        Term::Binary(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => KeyText::Text(text, false),
            Err(_) => KeyText::Other,
        },
        _ => KeyText::Other,
    }
}

/// What goes before a value in the innermost container: in an array a
/// comma after the first element, and in the pretty layout a line break and
/// indentation. In a map, written as an object until its end shows
/// otherwise: a comma before a key after the first, and a key that can be a
/// member name (`key`) written as `"name":`, for which `true` is returned
/// (the caller writes nothing more); where each key and value starts is
/// noted.
fn before<W: Write>(
    stack: &mut [Open],
    out: &mut Out<W>,
    maps: &mut Maps,
    pretty: bool,
    key: KeyText<'_>,
) -> bool {
    let level = stack.len();
    match stack.last_mut() {
        None => {}
        Some(Open::Array { count } | Open::List { count, .. }) => {
            if *count > 0 {
                out.text(",");
            }
            *count += 1;
            if breaking(pretty, level) {
                newline(out, level);
            }
        }
        Some(Open::Map {
            first,
            sorted,
            previous,
            ..
        }) => {
            let items = maps.bounds.len() - *first;
            if items % 2 == 1 {
                maps.bounds.push(out.buf.len());
                return false;
            }
            if items > 0 {
                out.text(",");
            }
            maps.bounds.push(out.buf.len());
            match key {
                KeyText::Text(text, boolean) => {
                    let index = items / 2;
                    if let Some(hit) = maps.recent.hit(index, text) {
                        // As below, from the key at this place in the
                        // last map that had one.
                        let from = out.buf.len() + 1;
                        out.text(&hit.written);
                        let change = hit.change;
                        if *sorted && index > 0 {
                            *sorted = if maps.recent.holds(index - 1, *previous) {
                                maps.recent.after_previous(index)
                            } else {
                                let last = maps.keys.last().copied().flatten();
                                last.is_some_and(|last| {
                                    less(maps.name(&out.buf, last), text.as_bytes())
                                })
                            };
                        }
                        *previous = change;
                        maps.keys.push(Some(Name {
                            from,
                            to: from + text.len(),
                            in_output: true,
                            boolean,
                        }));
                        return true;
                    }
                    let name = if needs_escape(text) {
                        let from = maps.text.len();
                        maps.text.push_str(text);
                        quote_escaped(&mut out.buf, text, &mut maps.scratch);
                        *previous = 0;
                        Name {
                            from,
                            to: maps.text.len(),
                            in_output: false,
                            boolean,
                        }
                    } else {
                        let from = out.buf.len() + 1;
                        quote_plain(&mut out.buf, text);
                        *previous = maps.recent.note(index, text);
                        Name {
                            from,
                            to: from + text.len(),
                            in_output: true,
                            boolean,
                        }
                    };
                    out.text(":");
                    if *sorted && items > 0 {
                        let previous = maps.keys.last().copied().flatten();
                        *sorted = previous.is_some_and(|previous| {
                            less(maps.name(&out.buf, previous), text.as_bytes())
                        });
                    }
                    maps.keys.push(Some(name));
                    return true;
                }
                KeyText::Other => {
                    *sorted = false;
                    *previous = 0;
                    maps.keys.push(None);
                }
            }
        }
    }
    false
}

/// Whether an atom is one JSON writes bare.
fn is_boolean(text: &str) -> bool {
    matches!(text.as_bytes(), b"true" | b"false")
}

/// Whether `a` sorts strictly before `b`, byte by byte (as `str` does):
/// inline, as map keys mostly differ in their first bytes.
fn less(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x < y;
        }
    }
    a.len() < b.len()
}

impl Maps {
    /// Ends the map whose `{` is at `start` in `buf`, written as an object
    /// (see [`before`]): done when its keys are all member names in strictly
    /// increasing order (as Erlang writes small maps), else rewritten with
    /// its members sorted, or as an array of `[key, value]` pairs when some
    /// key is not a member name or two have the same text. Its entries are
    /// then forgotten (`first` as in [`Open::Map`]).
    fn finish(
        &mut self,
        buf: &mut String,
        start: usize,
        (first, first_key, first_text): (usize, usize, usize),
        sorted: bool,
    ) {
        if sorted {
            buf.push('}');
        } else {
            let bounds = &self.bounds[first..];
            let keys = &self.keys[first_key..];
            let text = &self.text;
            let name = |entry: usize| -> &str {
                keys[entry]
                    .and_then(|name| {
                        let from = if name.in_output { &buf[..] } else { text };
                        from.get(name.from..name.to)
                    })
                    .unwrap_or_default()
            };
            let named = keys.iter().all(Option::is_some);
            // Where item `i` (key `i / 2`, or its value) ends: before the
            // comma of the next entry.
            let item = |i: usize| -> &str {
                let from = bounds[i];
                let to = match bounds.get(i + 1) {
                    Some(&next) if i % 2 == 1 => next - 1,
                    Some(&next) => next,
                    None => buf.len(),
                };
                buf.get(from..to).unwrap_or_default()
            };
            self.order.clear();
            let mut object = false;
            if named {
                self.order.extend(0..keys.len());
                self.order.sort_by(|&a, &b| name(a).cmp(name(b)));
                object = self
                    .order
                    .windows(2)
                    .all(|pair| name(pair[0]) != name(pair[1]));
            }
            let out = &mut self.rewritten;
            out.clear();
            if object {
                out.push('{');
                for (n, &entry) in self.order.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    // `"name":` and the value.
                    out.push_str(item(2 * entry));
                    out.push_str(item(2 * entry + 1));
                }
                out.push('}');
            } else {
                out.push('[');
                for (entry, key_name) in keys.iter().enumerate() {
                    if entry > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    let key = item(2 * entry);
                    match key_name {
                        Some(Name { boolean: true, .. }) => out.push_str(name(entry)),
                        // `"name":` without its colon.
                        Some(_) => out.push_str(key.strip_suffix(':').unwrap_or(key)),
                        None => out.push_str(key),
                    }
                    out.push(',');
                    out.push_str(item(2 * entry + 1));
                    out.push(']');
                }
                out.push(']');
            }
            buf.truncate(start);
            buf.push_str(out);
        }
        self.bounds.truncate(first);
        self.keys.truncate(first_key);
        self.text.truncate(first_text);
    }
}

impl Maps {
    /// The text of a key noted by [`before`], `buf` being the output.
    fn name<'a>(&'a self, buf: &'a str, name: Name) -> &'a [u8] {
        let from = if name.in_output { buf } else { &self.text };
        from.as_bytes().get(name.from..name.to).unwrap_or_default()
    }
}

/// Writes `text` as a JSON string, as `serde_json` does: at once when
/// nothing in it needs an escape.
fn quote(buf: &mut String, text: &str, scratch: &mut Vec<u8>) {
    if needs_escape(text) {
        quote_escaped(buf, text, scratch);
    } else {
        quote_plain(buf, text);
    }
}

/// Whether some byte of `text` needs an escape in a JSON string.
fn needs_escape(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Writes `text`, which needs no escape, between quotes.
fn quote_plain(buf: &mut String, text: &str) {
    buf.reserve(text.len() + 2);
    buf.push('"');
    buf.push_str(text);
    buf.push('"');
}

/// Writes `text` as a JSON string with its escapes, as `serde_json` does.
fn quote_escaped(buf: &mut String, text: &str, scratch: &mut Vec<u8>) {
    scratch.clear();
    // Writing a str to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *scratch, text);
    buf.push_str(std::str::from_utf8(scratch).unwrap_or_default());
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
