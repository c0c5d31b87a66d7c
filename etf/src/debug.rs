//! `Debug` for [`Term`], without recursion.
//!
//! The output is what `#[derive(Debug)]` writes, `{:?}` on one line and
//! `{:#?}` indented by four spaces per level (`Tuple([Int(1), Nil])`), but
//! the walk keeps its pending work on a heap stack, so that logging a term
//! from a peer (`tracing::debug!(?term)`) cannot overflow the stack however
//! deep it is. Leaves (pids, binaries, big integers...) are written by their
//! own `Debug`.

use crate::term::Term;
use std::fmt::{self, Debug, Formatter, Write};

impl Debug for Term {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let pretty = f.alternate();
        let mut out = Out {
            f,
            indent: 0,
            at_line_start: false,
        };
        let mut stack = vec![Work::Term(self)];
        while let Some(work) = stack.pop() {
            match work {
                Work::Text(text) => out.write_str(text)?,
                Work::Dedent => out.indent -= 1,
                Work::Term(t) => write_term(&mut out, &mut stack, t, pretty)?,
                Work::Items(mut items, first) => {
                    let Some(item) = items.next() else { continue };
                    if pretty {
                        stack.push(Work::Items(items, false));
                        stack.push(Work::Text(",\n"));
                    } else {
                        if !first {
                            out.write_str(", ")?;
                        }
                        stack.push(Work::Items(items, false));
                    }
                    match item {
                        Item::Term(t) => stack.push(Work::Term(t)),
                        Item::Entry(k, v) => {
                            open(&mut out, &mut stack, "(", ")", pretty)?;
                            fields(&mut stack, [k, v], pretty);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Pending output, innermost last.
enum Work<'a> {
    Text(&'static str),
    /// One indentation level less (pretty form).
    Dedent,
    Term(&'a Term),
    /// The elements of a sequence; `true` before the first.
    Items(Items<'a>, bool),
}

enum Items<'a> {
    Terms(std::slice::Iter<'a, Term>),
    Entries(std::slice::Iter<'a, (Term, Term)>),
}

enum Item<'a> {
    Term(&'a Term),
    Entry(&'a Term, &'a Term),
}

impl<'a> Items<'a> {
    fn next(&mut self) -> Option<Item<'a>> {
        match self {
            Items::Terms(terms) => terms.next().map(Item::Term),
            Items::Entries(entries) => entries.next().map(|(k, v)| Item::Entry(k, v)),
        }
    }
}

/// Writes to the formatter, indenting every line by four spaces per level
/// as the standard library's pretty `Debug` does.
struct Out<'f, 'b> {
    f: &'f mut Formatter<'b>,
    indent: usize,
    at_line_start: bool,
}

impl Write for Out<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for line in text.split_inclusive('\n') {
            if self.at_line_start {
                for _ in 0..self.indent {
                    self.f.write_str("    ")?;
                }
            }
            self.f.write_str(line)?;
            self.at_line_start = line.ends_with('\n');
        }
        Ok(())
    }
}

/// Opens `Name(` (or `Name {`): on one line, or followed by a line break
/// and one more level of indentation; schedules the closing `close`.
fn open(
    out: &mut Out<'_, '_>,
    stack: &mut Vec<Work<'_>>,
    opening: &str,
    close: &'static str,
    pretty: bool,
) -> fmt::Result {
    out.write_str(opening)?;
    stack.push(Work::Text(close));
    if pretty {
        out.write_str("\n")?;
        out.indent += 1;
        stack.push(Work::Dedent);
    }
    Ok(())
}

/// Schedules the fields of a tuple-like value opened by [`open`].
fn fields<'a, const N: usize>(stack: &mut Vec<Work<'a>>, values: [&'a Term; N], pretty: bool) {
    for (i, value) in values.into_iter().enumerate().rev() {
        if pretty {
            stack.push(Work::Text(",\n"));
        } else if i + 1 < N {
            stack.push(Work::Text(", "));
        }
        stack.push(Work::Term(value));
    }
}

/// Schedules a sequence `[a, b]`, or writes `[]`.
fn sequence<'a>(
    out: &mut Out<'_, '_>,
    stack: &mut Vec<Work<'a>>,
    items: Items<'a>,
    empty: bool,
    pretty: bool,
) -> fmt::Result {
    if empty {
        return out.write_str("[]");
    }
    open(out, stack, "[", "]", pretty)?;
    stack.push(Work::Items(items, true));
    Ok(())
}

/// Writes `Name(leaf)` whole.
fn leaf(out: &mut Out<'_, '_>, name: &str, value: &dyn Debug, pretty: bool) -> fmt::Result {
    if pretty {
        writeln!(out, "{name}(")?;
        out.indent += 1;
        writeln!(out, "{value:#?},")?;
        out.indent -= 1;
        out.write_str(")")
    } else {
        write!(out, "{name}({value:?})")
    }
}

fn write_term<'a>(
    out: &mut Out<'_, '_>,
    stack: &mut Vec<Work<'a>>,
    term: &'a Term,
    pretty: bool,
) -> fmt::Result {
    match term {
        Term::Int(i) => leaf(out, "Int", i, pretty),
        Term::BigInt(b) => leaf(out, "BigInt", b, pretty),
        Term::Float(x) => leaf(out, "Float", x, pretty),
        Term::Atom(a) => leaf(out, "Atom", a, pretty),
        Term::Tuple(items) => {
            open(out, stack, "Tuple(", ")", pretty)?;
            seq_field(out, stack, items, pretty)
        }
        Term::Nil => out.write_str("Nil"),
        Term::List(items) => {
            open(out, stack, "List(", ")", pretty)?;
            seq_field(out, stack, items, pretty)
        }
        Term::ByteList(bytes) => leaf(out, "ByteList", bytes, pretty),
        Term::ImproperList(items, tail) => {
            open(out, stack, "ImproperList(", ")", pretty)?;
            fields(stack, [&**tail], pretty);
            if pretty {
                stack.push(Work::Text(",\n"));
            } else {
                stack.push(Work::Text(", "));
            }
            sequence(
                out,
                stack,
                Items::Terms(items.iter()),
                items.is_empty(),
                pretty,
            )
        }
        Term::Map(map) => {
            open(out, stack, "Map(", ")", pretty)?;
            if pretty {
                stack.push(Work::Text(",\n"));
            }
            let entries = &map.entries;
            struct_start(out, stack, "Map", pretty)?;
            out.write_str("entries: ")?;
            if pretty {
                stack.push(Work::Text(",\n"));
            }
            sequence(
                out,
                stack,
                Items::Entries(entries.iter()),
                entries.is_empty(),
                pretty,
            )
        }
        Term::Binary(bytes) => leaf(out, "Binary", bytes, pretty),
        Term::BitBinary(bits) => leaf(out, "BitBinary", bits, pretty),
        Term::Pid(pid) => leaf(out, "Pid", pid, pretty),
        Term::Port(port) => leaf(out, "Port", port, pretty),
        Term::Reference(reference) => leaf(out, "Reference", reference, pretty),
        Term::Export(export) => leaf(out, "Export", export, pretty),
        Term::Fun(fun) => {
            let fields: [(&str, &dyn Debug); 7] = [
                ("arity", &fun.arity),
                ("uniq", &fun.uniq),
                ("index", &fun.index),
                ("module", &fun.module),
                ("old_index", &fun.old_index),
                ("old_uniq", &fun.old_uniq),
                ("pid", &fun.pid),
            ];
            boxed_struct(
                out,
                stack,
                "Fun",
                &fields,
                ("free_vars", &fun.free_vars),
                pretty,
            )
        }
        Term::Record(record) => {
            let fields: [(&str, &dyn Debug); 4] = [
                ("module", &record.module),
                ("name", &record.name),
                ("exported", &record.exported),
                ("fields", &record.fields),
            ];
            boxed_struct(
                out,
                stack,
                "Record",
                &fields,
                ("values", &record.values),
                pretty,
            )
        }
        Term::Local(bytes) => leaf(out, "Local", bytes, pretty),
    }
}

/// Writes `Name(Name { field: leaf, …, last: [terms…] })`, the variant
/// around a boxed struct whose last field holds terms.
fn boxed_struct<'a>(
    out: &mut Out<'_, '_>,
    stack: &mut Vec<Work<'a>>,
    name: &str,
    fields: &[(&str, &dyn Debug)],
    (last, terms): (&str, &'a [Term]),
    pretty: bool,
) -> fmt::Result {
    open(out, stack, &format!("{name}("), ")", pretty)?;
    if pretty {
        stack.push(Work::Text(",\n"));
    }
    struct_start(out, stack, name, pretty)?;
    let sep = if pretty { ",\n" } else { ", " };
    for (field, value) in fields {
        if pretty {
            write!(out, "{field}: {value:#?}{sep}")?;
        } else {
            write!(out, "{field}: {value:?}{sep}")?;
        }
    }
    write!(out, "{last}: ")?;
    if pretty {
        stack.push(Work::Text(",\n"));
    }
    sequence(
        out,
        stack,
        Items::Terms(terms.iter()),
        terms.is_empty(),
        pretty,
    )
}

/// The single field of `Tuple(…)` or `List(…)`: the sequence of elements.
fn seq_field<'a>(
    out: &mut Out<'_, '_>,
    stack: &mut Vec<Work<'a>>,
    items: &'a [Term],
    pretty: bool,
) -> fmt::Result {
    if pretty {
        stack.push(Work::Text(",\n"));
    }
    sequence(
        out,
        stack,
        Items::Terms(items.iter()),
        items.is_empty(),
        pretty,
    )
}

/// Opens `Name {` for a struct whose fields follow; schedules the `}`.
fn struct_start(
    out: &mut Out<'_, '_>,
    stack: &mut Vec<Work<'_>>,
    name: &str,
    pretty: bool,
) -> fmt::Result {
    if pretty {
        writeln!(out, "{name} {{")?;
        out.indent += 1;
        stack.push(Work::Text("}"));
        stack.push(Work::Dedent);
    } else {
        write!(out, "{name} {{ ")?;
        stack.push(Work::Text(" }"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Atom, Fun, Map, Pid};
    use bytes::Bytes;

    /// The shape of [`Term`] with a derived `Debug`, to compare with.
    #[derive(Debug)]
    #[allow(dead_code)]
    enum Mirror {
        Int(i64),
        Atom(Atom),
        Tuple(Vec<Mirror>),
        Nil,
        List(Vec<Mirror>),
        ByteList(Vec<u8>),
        ImproperList(Vec<Mirror>, Box<Mirror>),
        Map(named::Map),
        Binary(Bytes),
        Fun(named::Fun),
        Record(named::Record),
    }

    /// Structs named as ours, so that derived `Debug` writes the same names.
    // Their fields are only read by the derived `Debug`, which the dead code
    // lint does not count.
    #[allow(dead_code)]
    mod named {
        use super::Mirror;
        use crate::{Atom, Pid};

        #[derive(Debug)]
        pub(super) struct Map {
            pub(super) entries: Vec<(Mirror, Mirror)>,
        }

        #[derive(Debug)]
        pub(super) struct Record {
            pub(super) module: Atom,
            pub(super) name: Atom,
            pub(super) exported: bool,
            pub(super) fields: Vec<Atom>,
            pub(super) values: Vec<Mirror>,
        }

        #[derive(Debug)]
        pub(super) struct Fun {
            pub(super) arity: u8,
            pub(super) uniq: [u8; 16],
            pub(super) index: u32,
            pub(super) module: Atom,
            pub(super) old_index: u32,
            pub(super) old_uniq: u32,
            pub(super) pid: Pid,
            pub(super) free_vars: Vec<Mirror>,
        }
    }

    fn mirror(t: &Term) -> Mirror {
        match t {
            Term::Int(i) => Mirror::Int(*i),
            Term::Atom(a) => Mirror::Atom(a.clone()),
            Term::Tuple(v) => Mirror::Tuple(v.iter().map(mirror).collect()),
            Term::Nil => Mirror::Nil,
            Term::List(v) => Mirror::List(v.iter().map(mirror).collect()),
            Term::ByteList(b) => Mirror::ByteList(b.clone()),
            Term::ImproperList(v, tail) => {
                Mirror::ImproperList(v.iter().map(mirror).collect(), Box::new(mirror(tail)))
            }
            Term::Map(m) => Mirror::Map(named::Map {
                entries: m.iter().map(|(k, v)| (mirror(k), mirror(v))).collect(),
            }),
            Term::Binary(b) => Mirror::Binary(b.clone()),
            Term::Fun(f) => Mirror::Fun(named::Fun {
                arity: f.arity,
                uniq: f.uniq,
                index: f.index,
                module: f.module.clone(),
                old_index: f.old_index,
                old_uniq: f.old_uniq,
                pid: f.pid.clone(),
                free_vars: f.free_vars.iter().map(mirror).collect(),
            }),
            Term::Record(r) => Mirror::Record(named::Record {
                module: r.module.clone(),
                name: r.name.clone(),
                exported: r.exported,
                fields: r.fields.clone(),
                values: r.values.iter().map(mirror).collect(),
            }),
            _ => Mirror::Nil,
        }
    }

    #[test]
    fn output_is_what_derive_writes() {
        let fun = Fun {
            arity: 1,
            uniq: [1; 16],
            index: 2,
            module: Atom::new("m"),
            old_index: 3,
            old_uniq: 4,
            pid: Pid {
                node: Atom::new("a@h"),
                id: 5,
                serial: 6,
                creation: 7,
            },
            free_vars: vec![Term::Int(1), Term::Tuple(vec![])],
        };
        let map = Map::from_entries(vec![
            (Term::atom("k"), Term::List(vec![Term::Int(1), Term::Nil])),
            (Term::Tuple(vec![Term::Int(2)]), Term::Map(Map::new())),
        ])
        .expect("unique keys");
        let samples = [
            Term::Int(5),
            Term::Nil,
            Term::Tuple(vec![]),
            Term::Tuple(vec![
                Term::Int(1),
                Term::atom("ok"),
                Term::Binary(Bytes::from("x")),
            ]),
            Term::List(vec![Term::Tuple(vec![Term::ByteList(vec![1, 2])])]),
            Term::ImproperList(vec![Term::Int(1)], Box::new(Term::atom("t"))),
            Term::ImproperList(vec![], Box::new(Term::Tuple(vec![Term::Nil]))),
            Term::Map(map),
            Term::Fun(Box::new(fun)),
            Term::from(
                crate::Record::new("nr", "point", [("x", Term::Int(1)), ("y", Term::Nil)])
                    .expect("unique fields"),
            ),
        ];
        for t in &samples {
            let m = mirror(t);
            assert_eq!(format!("{t:?}"), format!("{m:?}"));
            assert_eq!(format!("{t:#?}"), format!("{m:#?}"));
        }
    }

    #[test]
    fn deep_terms_debug_print_without_recursion() {
        let mut t = Term::Nil;
        for _ in 0..200_000 {
            t = Term::Tuple(vec![t]);
        }
        let text = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn_scoped(scope, || format!("{t:?}"))
                .expect("thread starts")
                .join()
                .expect("no stack overflow")
        });
        assert_eq!(text.len(), 200_000 * "Tuple([])".len() + "Nil".len());
        assert!(text.starts_with("Tuple([Tuple(["));
    }
}
