//! Erlang term syntax: the printer and the parser. What they write and read
//! is described in the crate documentation.

mod bits;
mod chars;
mod error;
mod float;
pub mod leaf;
mod lex;
mod parse;
mod pretty;
mod print;

pub use error::{ParseError, ParseErrorKind};
pub use parse::{parse_term, ParseOptions};
pub use pretty::Pretty;
