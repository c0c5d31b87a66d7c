//! Streaming: read a `term_to_binary` dump from any [`std::io::Read`]
//! without holding the whole term, for dumps larger than memory.
//!
//! [`Reader`] is a pull parser. Each [`Reader::next_event`] returns the next
//! [`Event`]: a leaf (`Int`, `Atom`, `Binary`, ...) or the start or end of a
//! tuple, list or map, in the order the bytes hold them. At any point where
//! a value comes next, [`Reader::read_term`] reads that whole value as a
//! [`Term`](crate::Term) instead, for example each element of a huge
//! top-level list:
//!
//! ```
//! use etf::stream::{Event, Reader};
//! # fn main() -> Result<(), etf::stream::Error> {
//! let dump = etf::to_vec(&"[{a, 1}, {b, 2}]".parse::<etf::Term>().unwrap()).unwrap();
//! let mut reader = Reader::new(&dump[..]);
//! assert!(matches!(reader.next_event()?, Some(Event::ListStart(2))));
//! while let Some(element) = reader.read_term()? {
//!     println!("{element}");
//! }
//! assert!(matches!(reader.next_event()?, Some(Event::ListEnd)));
//! assert!(reader.next_event()?.is_none());
//! # Ok(())
//! # }
//! ```
//!
//! Memory is bounded by the nesting depth and the largest leaf (a binary,
//! string, atom or big integer; or a value read whole with `read_term` or
//! delivered as [`Event::Term`]), never by the input's size: declared
//! lengths are not trusted for allocation (a buffer grows only as bytes
//! arrive), and the parser keeps its open containers on a heap stack, so no
//! depth overflows the Rust stack. A compressed term (tag 80) is inflated as
//! it is read, no further than its declared size, which is limited as for
//! [`crate::from_slice`] (64 MiB by default;
//! [`Reader::max_decompressed_size`]), so a small zlib bomb cannot make a
//! large leaf; error offsets then count from the start of the inflated body,
//! as [`crate::from_slice`] reports them.
//!
//! The reader checks what a value's own bytes can show (tags, lengths, atom
//! text, finite floats, trailing bytes after the term); a check that needs a
//! whole container, such as a map's duplicate keys, is made only on what
//! `read_term` reads. The caller owns the I/O: the reader only calls `read`
//! on what it is given.

pub(crate) mod build;
mod error;
mod event;
mod reader;
mod skip;
mod source;

pub use error::Error;
pub use event::{Event, Kind};
pub use reader::Reader;
