//! The JSON rendering of `cnode term decode --json`.
//!
//! JSON has fewer types than Erlang, so the mapping is one-way and lossy,
//! chosen so that common data reads naturally:
//!
//! | Erlang                                   | JSON                                  |
//! |------------------------------------------|---------------------------------------|
//! | integer that fits in 64 bits             | number                                |
//! | larger integer                           | string of its decimal digits          |
//! | float                                    | number (always finite)                |
//! | `true`, `false`                          | `true`, `false`                       |
//! | any other atom                           | string of its text                    |
//! | binary holding valid UTF-8               | string                                |
//! | other binary                             | array of byte values                  |
//! | tuple, proper list (strings included)    | array                                 |
//! | map whose keys are all atoms or UTF-8 binaries, none rendering alike | object |
//! | any other map                            | array of `[key, value]` arrays        |
//! | native record `#nr:point{x = 1,y = 2}` (OTP 29) | `{"#nr:point": {"x": 1, "y": 2}}`: the record's head as in Erlang syntax, over an object of its fields |
//! | pid, port, reference, fun, bitstring, improper list, LOCAL_EXT | string of its Erlang syntax |
//!
//! Objects list their keys in sorted order, as `serde_json` does. The
//! writer keeps the containers it is inside on a heap stack, so terms of
//! any depth render without recursion.

use etf::Term;
use std::fmt::Write;

/// How many levels of containers the pretty layout indents (two spaces
/// each, so 80 columns); deeper ones are written on one line. Indenting
/// every level would make the output grow with the square of the depth.
pub(super) const MAX_INDENTED_LEVELS: usize = 40;

/// Renders `term` as JSON following the table above: on one line, or
/// indented by two spaces per level as `serde_json::to_string_pretty` does
/// (down to [`MAX_INDENTED_LEVELS`]).
pub(in crate::cli) fn to_json(term: &Term, pretty: bool) -> String {
    to_json_at(term, pretty, 0)
}

/// As [`to_json`], for a term written inside `base` open containers (of a
/// streamed dump): the pretty layout indents and stops indenting as if
/// they were part of the term.
pub(super) fn to_json_at(term: &Term, pretty: bool, base: usize) -> String {
    let mut w = JsonWriter {
        out: String::new(),
        pretty,
        base,
        stack: Vec::new(),
    };
    w.value(term);
    while let Some(top) = w.stack.last_mut() {
        let first = top.count == 0;
        let next = top.items.next();
        match next {
            Some(item) => {
                top.count += 1;
                w.separator(first);
                match item {
                    Item::Term(t) => w.value(t),
                    Item::Byte(b) => w.number(b),
                    Item::Keyed(key, t) => {
                        w.string(key);
                        w.out.push_str(if w.pretty { ": " } else { ":" });
                        w.value(t);
                    }
                    Item::Pair(k, v) => w.open('[', Items::Pair(Some(k), Some(v))),
                    Item::Record(head, record) => {
                        w.string(&head);
                        w.out.push_str(if w.pretty { ": " } else { ":" });
                        let mut fields: Vec<(&str, &Term)> =
                            record.fields().map(|(f, v)| (f.as_str(), v)).collect();
                        fields.sort_by(|a, b| a.0.cmp(b.0));
                        if fields.is_empty() {
                            w.out.push_str("{}");
                        } else {
                            w.open('{', Items::Members(fields.into_iter()));
                        }
                    }
                }
            }
            None => {
                let close = top.close;
                let breaking = w.breaking();
                w.stack.pop();
                if breaking && !first {
                    w.newline();
                }
                w.out.push(close);
            }
        }
    }
    w.out
}

/// An element of a JSON array or object.
enum Item<'a> {
    Term(&'a Term),
    Byte(u8),
    /// An object member.
    Keyed(&'a str, &'a Term),
    /// A map entry written as the array `[key, value]`.
    Pair(&'a Term, &'a Term),
    /// A native record: its head (`#Module:Name`) as the key of the object
    /// of its fields.
    Record(String, &'a etf::Record),
}

/// The elements of an open array or object.
enum Items<'a> {
    Terms(std::slice::Iter<'a, Term>),
    Bytes(std::slice::Iter<'a, u8>),
    Pairs(std::slice::Iter<'a, (Term, Term)>),
    Pair(Option<&'a Term>, Option<&'a Term>),
    Members(std::vec::IntoIter<(&'a str, &'a Term)>),
    Record(Option<(String, &'a etf::Record)>),
}

impl<'a> Items<'a> {
    fn next(&mut self) -> Option<Item<'a>> {
        match self {
            Items::Terms(terms) => terms.next().map(Item::Term),
            Items::Bytes(bytes) => bytes.next().map(|&b| Item::Byte(b)),
            Items::Pairs(pairs) => pairs.next().map(|(k, v)| Item::Pair(k, v)),
            Items::Pair(k, v) => k.take().or_else(|| v.take()).map(Item::Term),
            Items::Members(members) => members.next().map(|(k, v)| Item::Keyed(k, v)),
            Items::Record(record) => record.take().map(|(head, r)| Item::Record(head, r)),
        }
    }
}

/// An array or object being written.
struct Open<'a> {
    items: Items<'a>,
    count: usize,
    close: char,
}

struct JsonWriter<'a> {
    out: String,
    pretty: bool,
    /// Containers open around the term (see [`to_json_at`]).
    base: usize,
    stack: Vec<Open<'a>>,
}

impl<'a> JsonWriter<'a> {
    /// Writes a leaf whole, or opens a container.
    fn value(&mut self, term: &'a Term) {
        match term {
            Term::Int(value) => self.number(value),
            Term::BigInt(value) => self.string(&value.to_string()),
            Term::Float(value) => match serde_json::to_string(value) {
                Ok(text) => self.out.push_str(&text),
                // Not reached: decoded floats are finite.
                Err(_) => self.string(&term.to_string()),
            },
            Term::Atom(atom) => match atom.as_str() {
                "true" => self.out.push_str("true"),
                "false" => self.out.push_str("false"),
                text => self.string(text),
            },
            Term::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => self.string(text),
                Err(_) => self.open('[', Items::Bytes(bytes.iter())),
            },
            Term::Tuple(items) | Term::List(items) => self.open('[', Items::Terms(items.iter())),
            Term::Nil => self.out.push_str("[]"),
            Term::ByteList(bytes) => self.open('[', Items::Bytes(bytes.iter())),
            Term::Record(record) => {
                let head = format!("#{}:{}", record.module(), record.name());
                self.open('{', Items::Record(Some((head, record))));
            }
            Term::Map(map) => match members(map) {
                Some(members) => self.open('{', Items::Members(members.into_iter())),
                None => self.open('[', Items::Pairs(map.iter())),
            },
            _ => self.string(&term.to_string()),
        }
    }

    fn open(&mut self, bracket: char, items: Items<'a>) {
        self.out.push(bracket);
        let close = if bracket == '{' { '}' } else { ']' };
        self.stack.push(Open {
            items,
            count: 0,
            close,
        });
    }

    /// What goes before an element: a comma after the first, and in the
    /// pretty layout a line break and indentation.
    fn separator(&mut self, first: bool) {
        if !first {
            self.out.push(',');
        }
        if self.breaking() {
            self.newline();
        }
    }

    /// Whether the innermost open container is laid out one element per
    /// line: in the pretty layout, down to [`MAX_INDENTED_LEVELS`].
    fn breaking(&self) -> bool {
        self.pretty && self.base + self.stack.len() <= MAX_INDENTED_LEVELS
    }

    /// A line break, then two spaces per open container.
    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.base + self.stack.len() {
            self.out.push_str("  ");
        }
    }

    fn number(&mut self, n: impl std::fmt::Display) {
        // Writing to a String cannot fail.
        let _ = write!(self.out, "{n}");
    }

    fn string(&mut self, text: &str) {
        match serde_json::to_string(text) {
            Ok(quoted) => self.out.push_str(&quoted),
            // Not reached: a str always serializes.
            Err(_) => self.out.push_str("\"\""),
        }
    }
}

/// The members of the object a map becomes, sorted by key, or `None` when
/// it must be an array of pairs: a key that is neither an atom nor a UTF-8
/// binary, or two keys with the same text (an atom and a binary), which an
/// object would merge.
fn members(map: &etf::Map) -> Option<Vec<(&str, &Term)>> {
    let mut members = Vec::with_capacity(map.len());
    for (key, value) in map.iter() {
        let key = match key {
            Term::Atom(atom) => atom.as_str(),
            Term::Binary(bytes) => std::str::from_utf8(bytes).ok()?,
            _ => return None,
        };
        members.push((key, value));
    }
    members.sort_by(|a, b| a.0.cmp(b.0));
    if members.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return None;
    }
    Some(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etf::Atom;
    use serde_json::{json, Value};

    /// The compact rendering, parsed back; checks that the pretty one is
    /// the same JSON laid out as `serde_json` does.
    fn render(term: &Term) -> Value {
        let compact = to_json(term, false);
        let value: Value = serde_json::from_str(&compact).expect("valid JSON");
        assert_eq!(serde_json::to_string(&value).expect("renders"), compact);
        let pretty = serde_json::to_string_pretty(&value).expect("renders");
        assert_eq!(to_json(term, true), pretty);
        value
    }

    fn atom(text: &str) -> Term {
        Term::Atom(Atom::new(text))
    }

    fn map(entries: Vec<(Term, Term)>) -> Term {
        Term::Map(etf::Map::from_entries(entries).expect("unique keys"))
    }

    #[test]
    fn maps_become_objects_only_when_no_key_is_lost() {
        let object = map(vec![
            (atom("a"), Term::Int(1)),
            (Term::Binary("b".into()), atom("true")),
        ]);
        assert_eq!(render(&object), json!({"a": 1, "b": true}));

        let colliding = map(vec![
            (atom("a"), Term::Int(1)),
            (Term::Binary("a".into()), Term::Int(2)),
        ]);
        assert_eq!(render(&colliding), json!([["a", 1], ["a", 2]]));

        let integer_keys = map(vec![(Term::Int(1), Term::Nil)]);
        assert_eq!(render(&integer_keys), json!([[1, []]]));
    }

    #[test]
    fn records_become_their_head_over_their_fields() {
        let point = etf::Record::new("nr", "point", [("x", 1), ("y", 2)]).unwrap();
        assert_eq!(
            render(&Term::from(point)),
            json!({"#nr:point": {"x": 1, "y": 2}})
        );
        let odd = etf::Record::new("Mod x", "r", [("a b", atom("true"))]).unwrap();
        assert_eq!(
            render(&Term::from(odd)),
            json!({"#'Mod x':r": {"a b": true}})
        );
    }

    #[test]
    fn values_without_a_json_type_keep_their_erlang_syntax() {
        let two_to_64 = [131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let big = etf::from_slice(&two_to_64).expect("SMALL_BIG 2^64");
        assert_eq!(render(&big), json!("18446744073709551616"));
        let improper = Term::ImproperList(vec![Term::Int(1)], Box::new(atom("t")));
        assert_eq!(render(&improper), Value::String(improper.to_string()));
        let non_utf8 = Term::Binary(vec![0xff, 0].into());
        assert_eq!(render(&non_utf8), json!([255, 0]));
    }

    #[test]
    fn nested_containers_lay_out_as_serde_json_does() {
        let term: Term =
            "{[], #{}, [1, {a, <<\"x\">>}, #{k => [2.5, []], <<\"b\">> => true}], \"ab\"}"
                .parse()
                .expect("parses");
        let value = render(&term);
        assert_eq!(
            value,
            json!([[], {}, [1, ["a", "x"], {"b": true, "k": [2.5, []]}], [97, 98]])
        );
    }

    #[test]
    fn the_pretty_layout_indents_forty_levels_then_writes_one_line() {
        let mut term = Term::list(vec![Term::Int(1), Term::Int(2)]);
        for _ in 0..50 {
            term = Term::Tuple(vec![term]);
        }
        let pretty = to_json(&term, true);
        let widest = pretty.lines().map(str::len).max().unwrap_or(0);
        assert!(widest <= 2 * MAX_INDENTED_LEVELS + 30, "{widest} columns");
        assert!(pretty.contains(&format!("{}[1,2]{}", "[".repeat(10), "]".repeat(10))));
        let compact: Value = serde_json::from_str(&to_json(&term, false)).expect("valid");
        assert_eq!(
            serde_json::from_str::<Value>(&pretty).expect("valid"),
            compact
        );
    }

    #[test]
    fn a_million_levels_render_without_recursion() {
        let depth: usize = 1_000_000;
        let mut term = Term::Nil;
        for level in 0..depth {
            term = if level % 2 == 0 {
                Term::Tuple(vec![term])
            } else {
                Term::list(vec![term, Term::Int(level as i64)])
            };
        }
        let compact = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn_scoped(scope, || to_json(&term, false))
                .expect("thread starts")
                .join()
                .expect("no stack overflow")
        });
        assert!(compact.contains("[[[[[]],1]],3]"), "the innermost levels");
        assert!(compact.ends_with(",999999]"), "the outermost level");
        assert_eq!(compact.matches('[').count(), depth + 1);
        assert_eq!(compact.matches(']').count(), depth + 1);
    }
}
