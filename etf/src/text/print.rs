//! The compact printer behind `Display`: Erlang term syntax on one line, in
//! the layout of `io_lib:format("~tw")` except that strings and printable
//! binaries are written as `~tp` writes them.
//!
//! The printer keeps its own stack of pending work on the heap, so a term
//! nested a million levels deep prints without recursion.

use super::chars::{is_printable, write_atom, write_quoted_atom, write_quoted_char};
use super::float::write_float;
use crate::term::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
use std::fmt::{self, Display, Formatter, Write};

/// A piece of output still to write.
enum Work<'a> {
    /// A whole term.
    Term(&'a Term),
    /// Fixed text, such as a closing bracket.
    Text(&'static str),
    /// The elements of a sequence from `next` on, separated by `,`.
    Seq { items: &'a [Term], next: usize },
    /// The entries of a map from `next` on.
    Entries {
        entries: &'a [(Term, Term)],
        next: usize,
    },
    /// A map.
    Map(&'a Map),
    /// A local fun.
    Fun(&'a Fun),
    /// The fields of a native record from `next` on, `name = value`
    /// separated by `,`.
    Fields { record: &'a Record, next: usize },
}

/// Writes `root` to `out`.
pub(crate) fn write_term(out: &mut impl Write, root: &Term) -> fmt::Result {
    run(out, Work::Term(root))
}

fn run(out: &mut impl Write, root: Work<'_>) -> fmt::Result {
    let mut stack = vec![root];
    while let Some(work) = stack.pop() {
        match work {
            Work::Text(text) => out.write_str(text)?,
            Work::Seq { items, next } => {
                if let Some(item) = items.get(next) {
                    if next > 0 {
                        out.write_char(',')?;
                    }
                    stack.push(Work::Seq {
                        items,
                        next: next + 1,
                    });
                    stack.push(Work::Term(item));
                }
            }
            Work::Entries { entries, next } => {
                if let Some((key, value)) = entries.get(next) {
                    if next > 0 {
                        out.write_char(',')?;
                    }
                    stack.push(Work::Entries {
                        entries,
                        next: next + 1,
                    });
                    stack.push(Work::Term(value));
                    stack.push(Work::Text(" => "));
                    stack.push(Work::Term(key));
                }
            }
            Work::Map(map) => {
                out.write_str("#{")?;
                stack.push(Work::Text("}"));
                stack.push(Work::Entries {
                    entries: &map.entries,
                    next: 0,
                });
            }
            Work::Fun(fun) => {
                out.write_str("#Fun<")?;
                write_atom(out, &fun.module)?;
                write!(out, ",{},{},16#", fun.arity, fun.index)?;
                for byte in fun.uniq {
                    write!(out, "{byte:02X}")?;
                }
                write!(out, ",{},{},{},", fun.old_index, fun.old_uniq, fun.pid)?;
                stack.push(Work::Text(">"));
                push_list(&mut stack, out, &fun.free_vars)?;
            }
            Work::Fields { record, next } => {
                if let (Some(field), Some(value)) =
                    (record.fields.get(next), record.values.get(next))
                {
                    if next > 0 {
                        out.write_char(',')?;
                    }
                    write_atom(out, field)?;
                    out.write_str(" = ")?;
                    stack.push(Work::Fields {
                        record,
                        next: next + 1,
                    });
                    stack.push(Work::Term(value));
                }
            }
            Work::Term(term) => write_one(out, &mut stack, term)?,
        }
    }
    Ok(())
}

/// Writes a term that has no children, or the opening of one that has and
/// pushes the rest.
fn write_one<'a>(out: &mut impl Write, stack: &mut Vec<Work<'a>>, term: &'a Term) -> fmt::Result {
    match term {
        Term::Int(value) => write!(out, "{value}"),
        Term::BigInt(value) => write!(out, "{value}"),
        Term::Float(value) => write_float(out, *value),
        Term::Atom(atom) => write_atom(out, atom),
        Term::Nil => out.write_str("[]"),
        Term::Tuple(items) => {
            out.write_char('{')?;
            stack.push(Work::Text("}"));
            stack.push(Work::Seq { items, next: 0 });
            Ok(())
        }
        Term::List(items) => push_list(stack, out, items),
        Term::ByteList(bytes) => write_byte_list(out, bytes),
        Term::ImproperList(items, tail) => {
            out.write_char('[')?;
            stack.push(Work::Text("]"));
            stack.push(Work::Term(tail));
            stack.push(Work::Text("|"));
            stack.push(Work::Seq { items, next: 0 });
            Ok(())
        }
        Term::Map(map) => {
            stack.push(Work::Map(map));
            Ok(())
        }
        Term::Binary(bytes) => write_binary(out, bytes, None),
        Term::BitBinary(bits) => write_bit_binary(out, bits),
        Term::Pid(pid) => write_pid(out, pid),
        Term::Port(port) => write_port(out, port),
        Term::Reference(reference) => write_reference(out, reference),
        Term::Export(export) => write_export(out, export),
        Term::Fun(fun) => {
            stack.push(Work::Fun(fun));
            Ok(())
        }
        Term::Record(record) => {
            write_record_open(out, record)?;
            stack.push(Work::Text("}"));
            stack.push(Work::Fields { record, next: 0 });
            Ok(())
        }
        Term::Local(bytes) => write_local(out, bytes),
    }
}

/// Writes `#Module:Name{`, the start of a native record as OTP 29 prints it.
pub(crate) fn write_record_open(out: &mut impl Write, record: &Record) -> fmt::Result {
    out.write_char('#')?;
    write_atom(out, &record.module)?;
    out.write_char(':')?;
    write_atom(out, &record.name)?;
    out.write_char('{')
}

/// Whether a proper list prints as a string: it is not empty and every
/// element is a printable character code.
pub(crate) fn is_string(items: &[Term]) -> bool {
    !items.is_empty()
        && items.iter().all(|item| match item {
            Term::Int(code) => u32::try_from(*code).is_ok_and(is_printable),
            _ => false,
        })
}

/// Writes a proper list: as a string when [`is_string`], else element by
/// element.
fn push_list<'a>(
    stack: &mut Vec<Work<'a>>,
    out: &mut impl Write,
    items: &'a [Term],
) -> fmt::Result {
    if is_string(items) {
        out.write_char('"')?;
        for item in items {
            if let Some(code) = code_of(item) {
                write_code(out, code, '"')?;
            }
        }
        return out.write_char('"');
    }
    if items.is_empty() {
        return out.write_str("[]");
    }
    out.write_char('[')?;
    stack.push(Work::Text("]"));
    stack.push(Work::Seq { items, next: 0 });
    Ok(())
}

fn code_of(item: &Term) -> Option<u32> {
    match item {
        Term::Int(code) => u32::try_from(*code).ok(),
        _ => None,
    }
}

pub(crate) fn write_code(out: &mut impl Write, code: u32, quote: char) -> fmt::Result {
    match char::from_u32(code) {
        Some(c) => write_quoted_char(out, c, quote),
        None => write!(out, "\\x{{{code:X}}}"),
    }
}

/// Whether a byte of a string or binary is written as itself: printable
/// ASCII other than `"` and `\`.
fn is_plain_ascii(b: &u8) -> bool {
    (b' '..=b'~').contains(b) && *b != b'"' && *b != b'\\'
}

/// Writes printable Latin-1 `bytes` inside a string literal: runs of plain
/// ASCII at once, other bytes escaped one by one.
fn write_latin1(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    let mut rest = bytes;
    while !rest.is_empty() {
        let run = rest
            .iter()
            .position(|b| !is_plain_ascii(b))
            .unwrap_or(rest.len());
        let (head, tail) = rest.split_at(run);
        // A run of printable ASCII is UTF-8.
        out.write_str(std::str::from_utf8(head).unwrap_or_default())?;
        if let Some((&byte, after)) = tail.split_first() {
            write_quoted_char(out, char::from(byte), '"')?;
            rest = after;
        } else {
            rest = tail;
        }
    }
    Ok(())
}

pub(crate) fn write_byte_list(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    if bytes.is_empty() {
        return out.write_str("[]");
    }
    if bytes.iter().all(|&b| is_printable(u32::from(b))) {
        out.write_char('"')?;
        write_latin1(out, bytes)?;
        return out.write_char('"');
    }
    out.write_char('[')?;
    write_bytes(out, bytes)?;
    out.write_char(']')
}

fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write!(out, "{byte}")?;
    }
    Ok(())
}

/// Writes a binary the way `~tp` does: `<<"é"/utf8>>` for printable UTF-8
/// with some non-ASCII character, `<<"abc">>` when every byte is a printable
/// Latin-1 character, `<<1,2,3>>` otherwise. A trailing partial byte
/// (`tail`, as value and bit count) is written as `Value:Bits`.
pub(crate) fn write_binary(
    out: &mut impl Write,
    bytes: &[u8],
    tail: Option<(u8, u8)>,
) -> fmt::Result {
    if tail.is_none() && !bytes.is_empty() && bytes.iter().all(is_plain_ascii) {
        // The common case, in one pass: Latin-1 text needing no escape.
        out.write_str("<<\"")?;
        out.write_str(std::str::from_utf8(bytes).unwrap_or_default())?;
        return out.write_str("\">>");
    }
    out.write_str("<<")?;
    if tail.is_none() && !bytes.is_empty() {
        if let Ok(text) = std::str::from_utf8(bytes).map_err(|_| ()).and_then(|text| {
            // Plain ASCII is written below, as Latin-1.
            if text.is_ascii() {
                Err(())
            } else {
                Ok(text)
            }
        }) {
            if text.chars().all(|c| is_printable(u32::from(c))) {
                out.write_char('"')?;
                for c in text.chars() {
                    write_quoted_char(out, c, '"')?;
                }
                return out.write_str("\"/utf8>>");
            }
        }
        if bytes.iter().all(|&b| is_printable(u32::from(b))) {
            out.write_char('"')?;
            write_latin1(out, bytes)?;
            return out.write_str("\">>");
        }
    }
    write_bytes(out, bytes)?;
    if let Some((value, bits)) = tail {
        if !bytes.is_empty() {
            out.write_char(',')?;
        }
        write!(out, "{value}:{bits}")?;
    }
    out.write_str(">>")
}

/// Writes a bitstring as `<<1,2:3>>`, the last segment holding the used high
/// bits of the last byte.
fn write_bit_binary(out: &mut impl Write, bits: &BitBinary) -> fmt::Result {
    match bits.bytes.split_last() {
        Some((&last, whole)) if (1..=7).contains(&bits.bits) => {
            write_binary(out, whole, Some((last >> (8 - bits.bits), bits.bits)))
        }
        // Not a valid bitstring; print its bytes, the best available reading.
        _ => write_binary(out, &bits.bytes, None),
    }
}

fn write_node(out: &mut impl Write, node: &Atom) -> fmt::Result {
    write_quoted_atom(out, node)
}

fn write_pid(out: &mut impl Write, pid: &Pid) -> fmt::Result {
    out.write_str("#Pid<")?;
    write_node(out, &pid.node)?;
    write!(out, ".{}.{}.{}>", pid.id, pid.serial, pid.creation)
}

fn write_port(out: &mut impl Write, port: &Port) -> fmt::Result {
    out.write_str("#Port<")?;
    write_node(out, &port.node)?;
    write!(out, ".{}.{}>", port.id, port.creation)
}

fn write_reference(out: &mut impl Write, reference: &Reference) -> fmt::Result {
    out.write_str("#Ref<")?;
    write_node(out, &reference.node)?;
    for id in &reference.ids {
        write!(out, ".{id}")?;
    }
    write!(out, ".{}>", reference.creation)
}

fn write_export(out: &mut impl Write, export: &Export) -> fmt::Result {
    out.write_str("fun ")?;
    write_atom(out, &export.module)?;
    out.write_char(':')?;
    write_atom(out, &export.function)?;
    write!(out, "/{}", export.arity)
}

fn write_local(out: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    out.write_str("#Local<")?;
    for byte in bytes {
        write!(out, "{byte:02x}")?;
    }
    out.write_char('>')
}

impl Display for Term {
    /// Writes the term in Erlang syntax on one line; with `{:#}`, laid out
    /// as [`Term::pretty`] does. See the crate documentation for the forms of
    /// pids, ports, references, local funs and LOCAL_EXT.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            Display::fmt(&self.pretty(), f)
        } else {
            write_term(f, self)
        }
    }
}

impl Display for Atom {
    /// Writes the atom as Erlang does, quoted only where needed.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_atom(f, self)
    }
}

impl Display for Pid {
    /// Writes `#Pid<'node'.Id.Serial.Creation>`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_pid(f, self)
    }
}

impl Display for Port {
    /// Writes `#Port<'node'.Id.Creation>`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_port(f, self)
    }
}

impl Display for Reference {
    /// Writes `#Ref<'node'.Id1.….IdN.Creation>`, the ids in wire order.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_reference(f, self)
    }
}

impl Display for Export {
    /// Writes `fun Module:Function/Arity`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_export(f, self)
    }
}

impl Display for Fun {
    /// Writes `#Fun<Module,Arity,Index,16#Uniq,OldIndex,OldUniq,Pid,FreeVars>`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        run(f, Work::Fun(self))
    }
}

impl Display for Record {
    /// Writes `#Module:Name{Field = Value,…}` as OTP 29 does, fields in
    /// definition order. The exported flag does not show.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_record_open(f, self)?;
        run(
            f,
            Work::Fields {
                record: self,
                next: 0,
            },
        )?;
        f.write_char('}')
    }
}

impl Display for Map {
    /// Writes `#{Key => Value,…}` in entry order.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        run(f, Work::Map(self))
    }
}

impl Display for BitBinary {
    /// Writes `<<Byte,…,Value:Bits>>`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_bit_binary(f, self)
    }
}
