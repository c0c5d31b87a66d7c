//! Terms built back from events: the check that the events say everything
//! the decoder reads (used by the fuzz property and the tests).

use super::{Error, Event, Reader};
use crate::map::first_duplicate;
use crate::{Map, Term};
use std::io::Read;

enum Partial {
    Tuple(Vec<Term>),
    List(Vec<Term>, Option<Term>),
    Map(Vec<(Term, Term)>, Option<Term>),
}

/// Reads the whole term from `reader` through its events and builds it.
/// `Ok(None)` when the events make a map with a duplicate key (which the
/// events do not check).
pub(crate) fn build<R: Read>(reader: &mut Reader<R>) -> Result<Option<Term>, Error> {
    let mut stack: Vec<Partial> = Vec::new();
    let mut done = None;
    while let Some(event) = reader.next_event()? {
        let value = match event {
            Event::Int(n) => Term::Int(n),
            Event::Float(f) => Term::Float(f),
            Event::Atom(text) => Term::Atom(crate::Atom::new(text)),
            Event::Nil => Term::Nil,
            Event::String(bytes) => Term::ByteList(bytes.to_vec()),
            Event::Binary(bytes) => Term::Binary(bytes.to_vec().into()),
            Event::Term(term) => term,
            Event::TupleStart(_) => {
                stack.push(Partial::Tuple(Vec::new()));
                continue;
            }
            Event::ListStart(_) => {
                stack.push(Partial::List(Vec::new(), None));
                continue;
            }
            Event::MapStart(_) => {
                stack.push(Partial::Map(Vec::new(), None));
                continue;
            }
            Event::ImproperTail => continue,
            Event::TupleEnd | Event::ListEnd | Event::MapEnd => match stack.pop() {
                Some(Partial::Tuple(items)) => Term::Tuple(items),
                Some(Partial::List(items, None)) => Term::List(items),
                Some(Partial::List(items, Some(tail))) => Term::ImproperList(items, Box::new(tail)),
                Some(Partial::Map(entries, _)) => {
                    if first_duplicate(&entries).is_some() {
                        return Ok(None);
                    }
                    Term::Map(Map::from_unique(entries))
                }
                None => unreachable!("an end event without a start"),
            },
        };
        match stack.last_mut() {
            None => done = Some(value),
            Some(Partial::Tuple(items)) => items.push(value),
            Some(Partial::List(items, tail)) => {
                if tail.is_none() && reader_in_tail(reader) {
                    *tail = Some(value);
                } else {
                    items.push(value);
                }
            }
            Some(Partial::Map(entries, key)) => match key.take() {
                None => *key = Some(value),
                Some(k) => entries.push((k, value)),
            },
        }
    }
    Ok(done)
}

/// Whether the value just delivered to the innermost list was its tail.
fn reader_in_tail<R: Read>(reader: &Reader<R>) -> bool {
    reader.in_tail()
}
