//! `Drop` and `Clone` for terms of any depth.
//!
//! Derived drop glue and a derived `Clone` recurse once per nesting level,
//! so a tuple nested a million levels deep (which `binary_to_term` accepts)
//! would overflow the Rust stack. Both walks here keep their pending work on
//! the heap instead.
//!
//! The common case stays about as cheap as before: both walks go by plain
//! recursion for the first [`RECURSION_BUDGET`] levels (a few KiB of stack
//! at most), and switch to a heap stack only for what lies deeper, so the
//! terms of everyday messages are dropped and cloned without allocating for
//! the walk.

use crate::term::{Fun, Map, Record, Term};

/// True for a term that holds other terms (a non-empty tuple, list, map or
/// fun environment, or an improper list, unless emptied by a drop).
#[inline]
pub(crate) fn has_children(t: &Term) -> bool {
    match t {
        Term::Tuple(items) | Term::List(items) => !items.is_empty(),
        Term::ImproperList(items, tail) => !items.is_empty() || !matches!(**tail, Term::Nil),
        Term::Map(map) => !map.entries.is_empty(),
        Term::Fun(fun) => !fun.free_vars.is_empty(),
        Term::Record(record) => !record.values.is_empty(),
        _ => false,
    }
}

/// True when some child of `t` holds terms itself: walking `t` by
/// recursion would then go more than two levels deep.
#[inline]
fn has_grandchildren(t: &Term) -> bool {
    match t {
        Term::Tuple(items) | Term::List(items) => items.iter().any(has_children),
        Term::ImproperList(items, tail) => has_children(tail) || items.iter().any(has_children),
        Term::Map(map) => map
            .entries
            .iter()
            .any(|(k, v)| has_children(k) || has_children(v)),
        Term::Fun(fun) => fun.free_vars.iter().any(has_children),
        Term::Record(record) => record.values.iter().any(has_children),
        _ => false,
    }
}

// ------------------------------------------------------------------ drop

/// Children moved out of their parent, waiting to be dropped.
enum Detached {
    Terms(std::vec::IntoIter<Term>),
    Entries(std::vec::IntoIter<(Term, Term)>),
    One(Term),
}

/// Moves the children of `t` (if any) onto `stack`, leaving `t` without
/// children, so that dropping it recurses no further.
fn detach(t: &mut Term, stack: &mut Vec<Detached>) {
    match t {
        Term::Tuple(items) | Term::List(items) if !items.is_empty() => {
            stack.push(Detached::Terms(std::mem::take(items).into_iter()));
        }
        Term::ImproperList(items, tail) => {
            stack.push(Detached::One(std::mem::take(&mut **tail)));
            stack.push(Detached::Terms(std::mem::take(items).into_iter()));
        }
        Term::Map(map) if !map.entries.is_empty() => {
            stack.push(Detached::Entries(
                std::mem::take(&mut map.entries).into_iter(),
            ));
        }
        Term::Record(record) if !record.values.is_empty() => {
            stack.push(Detached::Terms(
                std::mem::take(&mut record.values).into_iter(),
            ));
        }
        Term::Fun(fun) if !fun.free_vars.is_empty() => {
            stack.push(Detached::Terms(
                std::mem::take(&mut fun.free_vars).into_iter(),
            ));
        }
        _ => {}
    }
}

/// How many levels the walks here go by plain recursion before they
/// switch to a heap stack: deep enough that the terms of everyday messages
/// never allocate for it, shallow enough that the recursion takes a few
/// KiB of stack at most (some tens in a debug build).
const RECURSION_BUDGET: usize = 16;

thread_local! {
    /// How many term drops are in progress on this thread, each inside the
    /// one before: the recursion [`Drop for Term`](Term#impl-Drop-for-Term)
    /// has gone through so far.
    static DROPPING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Drops a term of any depth with a bounded amount of Rust stack.
///
/// A leaf costs one comparison. A container drops its children itself, by
/// plain recursion (as derived drop glue would) while fewer than 16 drops
/// are in progress on the thread, and with a heap stack beyond.
impl Drop for Term {
    #[inline]
    fn drop(&mut self) {
        if has_children(self) {
            drop_children(self);
        }
    }
}

#[inline(never)]
fn drop_children(t: &mut Term) {
    let depth = DROPPING.with(|d| d.get());
    if depth >= RECURSION_BUDGET {
        empty_iteratively(t);
        return;
    }
    DROPPING.with(|d| d.set(depth + 1));
    // Dropping the children here, rather than in the glue after this
    // returns, keeps the count right.
    // (The buffers are freed by the glue.)
    match t {
        Term::Tuple(items) | Term::List(items) => clear_terms(items),
        Term::ImproperList(items, tail) => {
            clear_terms(items);
            **tail = Term::Nil;
        }
        Term::Map(map) => map.entries.clear(),
        Term::Fun(fun) => clear_terms(&mut fun.free_vars),
        Term::Record(record) => clear_terms(&mut record.values),
        _ => {}
    }
    DROPPING.with(|d| d.set(depth));
}

/// Drops the terms of `items`. When none of them owns memory (a list of
/// integers or floats), they are forgotten instead, which frees nothing
/// either and saves a call to the drop glue per element: most of the cost
/// of dropping such a list.
#[inline]
fn clear_terms(items: &mut Vec<Term>) {
    if items.iter().all(owns_nothing) {
        std::mem::take(items).into_iter().for_each(std::mem::forget);
    } else {
        items.clear();
    }
}

/// True for a term whose drop frees nothing.
#[inline(always)]
fn owns_nothing(t: &Term) -> bool {
    matches!(t, Term::Int(_) | Term::Float(_) | Term::Nil)
}

/// Drops everything below `t`, leaving it without children, with a heap
/// stack: each term taken off the stack first gives up its children to the
/// stack, so its own drop finds nothing to do.
fn empty_iteratively(t: &mut Term) {
    let mut stack = Vec::new();
    detach(t, &mut stack);
    while let Some(top) = stack.last_mut() {
        match top {
            Detached::Terms(items) => match items.next() {
                Some(mut t) => {
                    if items.len() == 0 {
                        stack.pop();
                    }
                    detach(&mut t, &mut stack);
                }
                None => {
                    stack.pop();
                }
            },
            Detached::Entries(entries) => match entries.next() {
                Some((mut k, mut v)) => {
                    if entries.len() == 0 {
                        stack.pop();
                    }
                    detach(&mut k, &mut stack);
                    detach(&mut v, &mut stack);
                }
                None => {
                    stack.pop();
                }
            },
            Detached::One(_) => {
                if let Some(Detached::One(mut t)) = stack.pop() {
                    detach(&mut t, &mut stack);
                }
            }
        }
    }
}

// ------------------------------------------------------------------ clone

impl Clone for Term {
    #[inline]
    fn clone(&self) -> Term {
        clone_within(self, RECURSION_BUDGET)
    }
}

/// Clones by recursion through `budget` more levels of containers, then
/// with a heap stack.
#[inline]
fn clone_within(t: &Term, budget: usize) -> Term {
    match t {
        Term::Tuple(_)
        | Term::List(_)
        | Term::ImproperList(..)
        | Term::Map(_)
        | Term::Fun(_)
        | Term::Record(_) => clone_container(t, budget),
        leaf => clone_shallow(leaf),
    }
}

#[inline(never)]
fn clone_container(t: &Term, budget: usize) -> Term {
    let Some(budget) = budget.checked_sub(1) else {
        return clone_deep(t);
    };
    let all =
        |items: &[Term]| -> Vec<Term> { items.iter().map(|c| clone_within(c, budget)).collect() };
    match t {
        Term::Tuple(items) => Term::Tuple(all(items)),
        Term::List(items) => Term::List(all(items)),
        Term::ImproperList(items, tail) => {
            Term::ImproperList(all(items), Box::new(clone_within(tail, budget)))
        }
        Term::Map(map) => Term::Map(Map {
            entries: map
                .entries
                .iter()
                .map(|(k, v)| (clone_within(k, budget), clone_within(v, budget)))
                .collect(),
        }),
        Term::Fun(fun) => Term::Fun(Box::new(fun_with(fun, all(&fun.free_vars)))),
        Term::Record(record) => Term::Record(Box::new(record_with(record, all(&record.values)))),
        leaf => clone_shallow(leaf),
    }
}

/// Clones a term field by field. Children are cloned through
/// [`Term::clone`]: call it only on terms without grandchildren, or on
/// leaves.
#[inline]
fn clone_shallow(t: &Term) -> Term {
    match t {
        Term::Int(i) => Term::Int(*i),
        Term::BigInt(b) => Term::BigInt(b.clone()),
        Term::Float(f) => Term::Float(*f),
        Term::Atom(a) => Term::Atom(a.clone()),
        Term::Tuple(items) => Term::Tuple(items.clone()),
        Term::Nil => Term::Nil,
        Term::List(items) => Term::List(items.clone()),
        Term::ByteList(bytes) => Term::ByteList(bytes.clone()),
        Term::ImproperList(items, tail) => Term::ImproperList(items.clone(), tail.clone()),
        Term::Map(map) => Term::Map(Map {
            entries: map.entries.clone(),
        }),
        Term::Binary(bytes) => Term::Binary(bytes.clone()),
        Term::BitBinary(bits) => Term::BitBinary(bits.clone()),
        Term::Pid(pid) => Term::Pid(pid.clone()),
        Term::Port(port) => Term::Port(port.clone()),
        Term::Reference(reference) => Term::Reference(reference.clone()),
        Term::Export(export) => Term::Export(export.clone()),
        Term::Fun(fun) => Term::Fun(Box::new(fun_with(fun, fun.free_vars.clone()))),
        Term::Record(record) => Term::Record(Box::new(record_with(record, record.values.clone()))),
        Term::Local(bytes) => Term::Local(bytes.clone()),
    }
}

/// A copy of `fun` with these free variables.
fn fun_with(fun: &Fun, free_vars: Vec<Term>) -> Fun {
    Fun {
        arity: fun.arity,
        uniq: fun.uniq,
        index: fun.index,
        module: fun.module.clone(),
        old_index: fun.old_index,
        old_uniq: fun.old_uniq,
        pid: fun.pid.clone(),
        free_vars,
    }
}

/// A copy of `record` with these values.
fn record_with(record: &Record, values: Vec<Term>) -> Record {
    Record {
        module: record.module.clone(),
        name: record.name.clone(),
        exported: record.exported,
        fields: record.fields.clone(),
        values,
    }
}

/// A container being copied: where its children come from, and the copies
/// made so far.
enum Copy<'a> {
    /// Tuple, list, improper list (then `tail` is its tail while not yet
    /// copied, and `copied_tail` the copy) or fun environment.
    Seq {
        from: std::slice::Iter<'a, Term>,
        items: Vec<Term>,
        kind: SeqKind<'a>,
    },
    Map {
        from: std::slice::Iter<'a, (Term, Term)>,
        entries: Vec<(Term, Term)>,
        /// The value of the entry whose key is being copied.
        value: Option<&'a Term>,
        /// The copied key waiting for its value.
        key: Option<Term>,
    },
}

enum SeqKind<'a> {
    Tuple,
    List,
    Improper {
        tail: Option<&'a Term>,
        copied_tail: Option<Term>,
    },
    Fun(&'a Fun),
    Record(&'a Record),
}

impl<'a> Copy<'a> {
    fn open(t: &'a Term) -> Copy<'a> {
        let seq = |items: &'a [Term], kind| Copy::Seq {
            from: items.iter(),
            items: Vec::with_capacity(items.len()),
            kind,
        };
        match t {
            Term::Tuple(items) => seq(items, SeqKind::Tuple),
            Term::ImproperList(items, tail) => seq(
                items,
                SeqKind::Improper {
                    tail: Some(tail),
                    copied_tail: None,
                },
            ),
            Term::Map(map) => Copy::Map {
                from: map.entries.iter(),
                entries: Vec::with_capacity(map.entries.len()),
                value: None,
                key: None,
            },
            Term::Fun(fun) => seq(&fun.free_vars, SeqKind::Fun(fun)),
            Term::Record(record) => seq(&record.values, SeqKind::Record(record)),
            // Lists, and (never reached) anything else: the caller opens
            // only containers.
            Term::List(items) => seq(items, SeqKind::List),
            _ => seq(&[], SeqKind::List),
        }
    }

    /// The next child to copy, or `None` when all are copied.
    fn next(&mut self) -> Option<&'a Term> {
        match self {
            Copy::Seq { from, kind, .. } => from.next().or_else(|| match kind {
                SeqKind::Improper { tail, .. } => tail.take(),
                _ => None,
            }),
            Copy::Map { from, value, .. } => value.take().or_else(|| {
                let (k, v) = from.next()?;
                *value = Some(v);
                Some(k)
            }),
        }
    }

    /// Takes the copy of the child last returned by [`Copy::next`].
    fn put(&mut self, child: Term) {
        match self {
            Copy::Seq {
                from, items, kind, ..
            } => match kind {
                SeqKind::Improper {
                    tail: None,
                    copied_tail,
                } if from.len() == 0 => *copied_tail = Some(child),
                _ => items.push(child),
            },
            Copy::Map { entries, key, .. } => match key.take() {
                None => *key = Some(child),
                Some(k) => entries.push((k, child)),
            },
        }
    }

    fn finish(self) -> Term {
        match self {
            Copy::Seq { items, kind, .. } => match kind {
                SeqKind::Tuple => Term::Tuple(items),
                SeqKind::List => Term::List(items),
                SeqKind::Improper { copied_tail, .. } => {
                    Term::ImproperList(items, Box::new(copied_tail.unwrap_or_default()))
                }
                SeqKind::Fun(fun) => Term::Fun(Box::new(fun_with(fun, items))),
                SeqKind::Record(record) => Term::Record(Box::new(record_with(record, items))),
            },
            Copy::Map { entries, .. } => Term::Map(Map { entries }),
        }
    }
}

/// Clones a term with grandchildren, keeping the containers being copied on
/// a heap stack.
fn clone_deep(root: &Term) -> Term {
    let mut stack = vec![Copy::open(root)];
    loop {
        let Some(top) = stack.last_mut() else {
            // Not reached: the loop returns when the root is finished.
            return Term::Nil;
        };
        match top.next() {
            Some(child) if has_grandchildren(child) => stack.push(Copy::open(child)),
            Some(child) => top.put(clone_shallow(child)),
            None => {
                let done = match stack.pop() {
                    Some(copy) => copy.finish(),
                    None => Term::Nil,
                };
                match stack.last_mut() {
                    Some(parent) => parent.put(done),
                    None => return done,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_tuples(depth: usize) -> Term {
        let mut t = Term::Int(0);
        for _ in 0..depth {
            t = Term::Tuple(vec![t]);
        }
        t
    }

    #[test]
    fn clone_copies_every_kind_of_container() {
        let fun = Fun {
            arity: 1,
            uniq: [7; 16],
            index: 3,
            module: "m".into(),
            old_index: 1,
            old_uniq: 2,
            pid: crate::Pid {
                node: "a@h".into(),
                id: 1,
                serial: 2,
                creation: 3,
            },
            free_vars: vec![nested_tuples(3), Term::Int(1)],
        };
        let map = Map::from_entries(vec![
            (nested_tuples(2), Term::list(vec![nested_tuples(2)])),
            (
                Term::Int(1),
                Term::improper_list(vec![nested_tuples(2)], nested_tuples(3)),
            ),
        ])
        .expect("unique keys");
        let t = Term::tuple(vec![
            Term::Map(map),
            Term::Fun(Box::new(fun)),
            Term::improper_list(vec![Term::Int(1)], Term::atom("t")),
            Term::ByteList(vec![1, 2]),
        ]);
        let copy = t.clone();
        assert_eq!(copy, t);
        assert_eq!(copy.to_string(), t.to_string());
    }

    #[test]
    fn clone_copies_leaves_and_containers_at_every_depth() {
        for depth in [
            0,
            1,
            RECURSION_BUDGET - 1,
            RECURSION_BUDGET,
            RECURSION_BUDGET + 1,
            40,
        ] {
            for leaf in [
                Term::Int(3),
                Term::atom("a"),
                Term::Nil,
                Term::Tuple(vec![]),
            ] {
                let mut t = leaf;
                for level in 0..depth {
                    t = match level % 3 {
                        0 => Term::Tuple(vec![t, Term::Int(1)]),
                        1 => Term::improper_list(vec![t], Term::atom("x")),
                        _ => Term::Map(Map::from_entries(vec![(t, Term::Nil)]).expect("one key")),
                    };
                }
                assert_eq!(t.clone().to_string(), t.to_string(), "depth {depth}");
            }
        }
    }

    #[test]
    fn deep_terms_clone_and_drop_without_recursion() {
        let handle = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(|| {
                let t = nested_tuples(200_000);
                let copy = t.clone();
                drop(t);
                let mut depth = 0;
                let mut at = &copy;
                while let Term::Tuple(items) = at {
                    depth += 1;
                    at = &items[0];
                }
                assert_eq!(depth, 200_000);
                assert!(matches!(at, Term::Int(0)));
            })
            .expect("thread starts");
        handle.join().expect("no stack overflow");
    }
}
