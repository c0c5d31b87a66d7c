//! Erlang term syntax: a printer (`Display` for [`Term`](crate::Term) and the
//! types it holds) and a parser ([`parse_term`], `str::parse::<Term>`).
//!
//! # Printing
//!
//! `Display` writes compact Erlang syntax on one line, in the layout of
//! `io_lib:format("~tw", [T])`, so that `erl_parse:parse_term/1` reads back an
//! equal (`=:=`) term wherever Erlang has a literal syntax:
//!
//! - atoms are quoted only where Erlang needs it (`ok`, `'Ok'`, `'and'`,
//!   `''`, `'привет'`), with `io_lib`'s escapes (`'a\nb'`, `'\001'`);
//! - floats use the shortest digits that read back to the same `f64`, in the
//!   notation OTP chooses (`0.1`, `1.0e300`, `-0.0`, `5.0e-324`);
//! - a list (byte list or not) whose elements are all printable character
//!   codes (`io_lib:printable_unicode_list/1`) prints as a string, `"abc\n"`;
//!   any other list prints as `[1,2,3]` or `[1,2|3]`;
//! - a binary prints as `<<"é"/utf8>>` when it is printable UTF-8 with a
//!   non-ASCII character, as `<<"abc">>` when every byte is a printable
//!   Latin-1 character, and as `<<1,2,3>>` otherwise; a bitstring as
//!   `<<1,2:3>>` (the last segment holds the used bits of the last byte);
//! - maps print as `#{k => v,…}` in their entry order; exports as
//!   `fun m:f/2`;
//! - OTP 29's native records print as OTP 29 prints them,
//!   `#nr:point{x = 1,y = 2}`, fields in definition order. The text does not
//!   show whether the record is exported (`-export_record`); the parser reads
//!   a record as not exported, the one thing a print and parse loses.
//!
//! Terms with no Erlang literal print in forms of this crate's own that
//! [`parse_term`] reads (the node is always a quoted atom, the numbers
//! decimal, all fields in wire order):
//!
//! | term | form |
//! |------|------|
//! | pid | `#Pid<'node@host'.Id.Serial.Creation>` |
//! | port | `#Port<'node@host'.Id.Creation>` |
//! | reference | `#Ref<'node@host'.Id1.….IdN.Creation>` (1 to 5 ids) |
//! | local fun | `#Fun<Module,Arity,Index,16#Uniq,OldIndex,OldUniq,Pid,[FreeVar,…]>` |
//! | LOCAL_EXT | `#Local<79…>`: every byte, tag included, as two hex digits |
//!
//! so that every decoded term survives printing and parsing. The printer
//! keeps its pending work on the heap: any depth prints without recursion.
//!
//! [`Term::pretty`](crate::Term::pretty) (or `{:#}`) lays a term out over
//! several lines, breaking what does not fit in the line width, as `~tp`
//! does; the result parses back just the same.
//!
//! # Parsing
//!
//! [`parse_term`] reads the printer's output and the literal syntax of
//! `erl_parse:parse_term/1`; [`ParseError`] says where (line, column, byte
//! offset) and what was expected there.

mod bits;
mod chars;
mod error;
mod float;
mod lex;
mod parse;
mod pretty;
mod print;

pub use error::{ParseError, ParseErrorKind};
pub use parse::{parse_term, ParseOptions};
pub use pretty::Pretty;
