//! The pretty printer behind [`Term::pretty`]: containers that do not fit in
//! the line width are broken one element per line, indented under their
//! opening bracket, in the manner of `io_lib:format("~tp")`.
//!
//! Two passes, both with heap stacks rather than recursion: the first
//! measures the one-line width of every container, the second lays out.
//! Each term is measured once, and nothing is indented past the line width,
//! so the output and the time are linear in the size of the term.

use super::chars::write_atom;
use super::print::{is_string, write_record_open, write_term};
use crate::term::{Map, Record, Term};
use std::collections::HashMap;
use std::fmt::{self, Display, Formatter, Write};

/// A term with a layout, from [`Term::pretty`]; print it with `{}`.
#[derive(Clone, Copy, Debug)]
pub struct Pretty<'a> {
    term: &'a Term,
    width: usize,
}

impl Term {
    /// The term laid out over several lines where it does not fit in 80
    /// columns, as `~tp` would; [`Pretty::width`] sets another line width.
    /// The text parses back with [`parse_term`](crate::parse_term) like the
    /// one-line `Display` form.
    pub fn pretty(&self) -> Pretty<'_> {
        Pretty {
            term: self,
            width: 80,
        }
    }
}

impl Pretty<'_> {
    /// Sets the line width.
    pub fn width(self, width: usize) -> Self {
        Pretty { width, ..self }
    }
}

impl Display for Pretty<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let widths = measure(self.term);
        let mut out = Columns { out: f, column: 0 };
        layout(&mut out, self.term, &widths, self.width)
    }
}

/// Writes through to the formatter, keeping track of the column.
struct Columns<'a, 'b> {
    out: &'a mut Formatter<'b>,
    column: usize,
}

impl Write for Columns<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        match text.rfind('\n') {
            Some(at) => self.column = text[at + 1..].chars().count(),
            None => self.column += text.chars().count(),
        }
        self.out.write_str(text)
    }
}

/// Counts characters without storing them.
struct Counter(usize);

impl Write for Counter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0 = self.0.saturating_add(text.chars().count());
        Ok(())
    }
}

/// The children a container is laid out with, or `None` for a term that
/// always prints on one line.
fn children(term: &Term) -> Option<Vec<&Term>> {
    match term {
        Term::Tuple(items) if !items.is_empty() => Some(items.iter().collect()),
        Term::List(items) if !is_string(items) && !items.is_empty() => Some(items.iter().collect()),
        Term::ImproperList(items, tail) => {
            Some(items.iter().chain(std::iter::once(&**tail)).collect())
        }
        Term::Map(map) if !map.is_empty() => Some(map_children(map)),
        Term::Record(record) if !record.is_empty() => Some(record.values.iter().collect()),
        _ => None,
    }
}

fn map_children(map: &Map) -> Vec<&Term> {
    map.iter().flat_map(|(key, value)| [key, value]).collect()
}

/// The one-line width of every container in `root`, by address.
fn measure(root: &Term) -> HashMap<*const Term, usize> {
    let mut widths: HashMap<*const Term, usize> = HashMap::new();
    let mut stack: Vec<(&Term, bool)> = vec![(root, false)];
    while let Some((term, children_done)) = stack.pop() {
        let Some(kids) = children(term) else {
            continue;
        };
        if !children_done {
            stack.push((term, true));
            stack.extend(kids.into_iter().map(|kid| (kid, false)));
            continue;
        }
        let inner: usize = kids
            .iter()
            .map(|kid| width_of(kid, &widths))
            .fold(0, usize::saturating_add);
        let punctuation = match term {
            // `{` `}` and a comma between elements.
            Term::Tuple(_) | Term::List(_) | Term::ImproperList(..) => 2 + kids.len() - 1,
            // `#m:n{` `}`, `name = ` per field, and a comma between fields.
            Term::Record(record) => record_punctuation(record),
            // `#{` `}`, ` => ` per entry, and a comma between entries.
            _ => 3 + 4 * (kids.len() / 2) + (kids.len() / 2).saturating_sub(1),
        };
        widths.insert(term, inner.saturating_add(punctuation));
    }
    widths
}

/// The width of a native record's text other than its values.
fn record_punctuation(record: &Record) -> usize {
    let mut counter = Counter(0);
    // Counting cannot fail.
    let _ = write_record_open(&mut counter, record);
    for field in &record.fields {
        let _ = write_atom(&mut counter, field);
    }
    let fields = record.fields.len();
    counter
        .0
        .saturating_add(1 + 3 * fields + fields.saturating_sub(1))
}

/// The width of a field name.
fn atom_width(atom: &crate::Atom) -> usize {
    let mut counter = Counter(0);
    let _ = write_atom(&mut counter, atom);
    counter.0
}

fn width_of(term: &Term, widths: &HashMap<*const Term, usize>) -> usize {
    if let Some(width) = widths.get(&(term as *const Term)) {
        return *width;
    }
    let mut counter = Counter(0);
    // Counting cannot fail.
    let _ = write_term(&mut counter, term);
    counter.0
}

/// Pending layout work.
enum Work<'a> {
    /// A term starting at the current column.
    Term(&'a Term),
    /// Fixed text.
    Text(&'static str),
    /// A line break, then indentation to this column.
    Break(usize),
    /// A record's field name.
    Atom(&'a crate::Atom),
}

fn layout(
    out: &mut Columns<'_, '_>,
    root: &Term,
    widths: &HashMap<*const Term, usize>,
    line: usize,
) -> fmt::Result {
    let mut stack = vec![Work::Term(root)];
    while let Some(work) = stack.pop() {
        let term = match work {
            Work::Text(text) => {
                out.write_str(text)?;
                continue;
            }
            Work::Atom(atom) => {
                write_atom(out, atom)?;
                continue;
            }
            Work::Break(indent) => {
                out.write_char('\n')?;
                for _ in 0..indent {
                    out.write_char(' ')?;
                }
                continue;
            }
            Work::Term(term) => term,
        };
        // Past the line width, breaking cannot help any more; printing the
        // rest flat also bounds the indentation, and so the output.
        let kids = match children(term) {
            Some(kids)
                if out.column < line
                    && out.column.saturating_add(width_of(term, widths)) > line =>
            {
                kids
            }
            _ => {
                write_term(out, term)?;
                continue;
            }
        };
        let (open, close) = match term {
            Term::Tuple(_) => ("{", "}"),
            Term::Map(_) => ("#{", "}"),
            Term::Record(_) => ("", "}"),
            _ => ("[", "]"),
        };
        if let Term::Record(record) = term {
            write_record_open(out, record)?;
        }
        out.write_str(open)?;
        let indent = out.column;
        // Push in reverse: the stack pops the first element first.
        let mut pending = vec![Work::Text(close)];
        match term {
            // As a map's entries: `name = value` on one line where it fits,
            // else the value on the next line, indented further.
            Term::Record(record) => {
                for (i, (field, value)) in record.fields().enumerate().rev() {
                    pending.push(Work::Term(value));
                    let field_fits = indent
                        .saturating_add(atom_width(field))
                        .saturating_add(3)
                        .saturating_add(width_of(value, widths))
                        <= line;
                    if field_fits {
                        pending.push(Work::Text(" = "));
                    } else {
                        pending.push(Work::Break(indent + 4));
                        pending.push(Work::Text(" ="));
                    }
                    pending.push(Work::Atom(field));
                    if i > 0 {
                        pending.push(Work::Break(indent));
                        pending.push(Work::Text(","));
                    }
                }
            }
            Term::Map(_) => {
                for (i, pair) in kids.chunks(2).enumerate().rev() {
                    if let [key, value] = pair {
                        pending.push(Work::Term(value));
                        let entry_fits = indent
                            .saturating_add(width_of(key, widths))
                            .saturating_add(4)
                            .saturating_add(width_of(value, widths))
                            <= line;
                        if entry_fits {
                            pending.push(Work::Text(" => "));
                        } else {
                            pending.push(Work::Break(indent + 4));
                            pending.push(Work::Text(" =>"));
                        }
                        pending.push(Work::Term(key));
                        if i > 0 {
                            pending.push(Work::Break(indent));
                            pending.push(Work::Text(","));
                        }
                    }
                }
            }
            _ => {
                let improper = matches!(term, Term::ImproperList(..));
                let count = kids.len();
                for (i, kid) in kids.into_iter().enumerate().rev() {
                    pending.push(Work::Term(kid));
                    if i > 0 {
                        pending.push(Work::Break(indent));
                        pending.push(Work::Text(if improper && i == count - 1 {
                            "|"
                        } else {
                            ","
                        }));
                    }
                }
            }
        }
        stack.extend(pending);
    }
    Ok(())
}
