//! The bytes under the reader: a growing window over the input, switched to
//! an inflating one when the term is compressed.

use super::Error;
use crate::decode::truncated;
use crate::error::{DecodeError, DecodeErrorKind as K};
use flate2::bufread::ZlibDecoder;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};

/// Bytes asked of the input per read.
const CHUNK: usize = 64 << 10;

type Inflate<R> = ZlibDecoder<Chain<Cursor<Vec<u8>>, BufReader<R>>>;

enum Input<R> {
    Plain(BufReader<R>),
    Zlib(Box<Inflate<R>>),
    /// Only while switching.
    Taken,
}

/// The input with a window of bytes read but not yet consumed.
pub(super) struct Source<R> {
    input: Input<R>,
    buf: Vec<u8>,
    /// The first unconsumed byte of `buf`.
    head: usize,
    /// The offset of `buf[head]` in the term (in the inflated body once
    /// compressed).
    pos: usize,
    /// The declared size of the inflated body, once compressed.
    declared: Option<u32>,
    eof: bool,
}

impl<R: Read> Source<R> {
    pub(super) fn new(input: R) -> Source<R> {
        Source {
            input: Input::Plain(BufReader::with_capacity(CHUNK, input)),
            buf: Vec::new(),
            head: 0,
            pos: 0,
            declared: None,
            eof: false,
        }
    }

    /// The offset of the next byte.
    #[inline]
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// The unconsumed bytes in the window (at least `n` after a successful
    /// [`Source::need`]).
    #[inline]
    pub(super) fn window(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Consumes `n` bytes of the window, returning where they are for
    /// [`Source::slice`] (valid until the window next grows).
    #[inline]
    pub(super) fn take(&mut self, n: usize) -> std::ops::Range<usize> {
        let start = self.head;
        self.consume(n);
        start..start + n
    }

    /// Bytes consumed by [`Source::take`].
    #[inline]
    pub(super) fn slice(&self, range: std::ops::Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Puts back `bytes`, the last bytes consumed, in front of the window.
    pub(super) fn unread(&mut self, bytes: &[u8]) {
        let mut buf = Vec::with_capacity(bytes.len() + self.buf.len() - self.head);
        buf.extend_from_slice(bytes);
        buf.extend_from_slice(&self.buf[self.head..]);
        self.buf = buf;
        self.head = 0;
        self.pos -= bytes.len();
    }

    /// Consumes `n` bytes of the window.
    #[inline]
    pub(super) fn consume(&mut self, n: usize) {
        self.head += n;
        self.pos += n;
    }

    /// Makes at least `n` bytes available, or fails with a truncation error
    /// naming `what` at the current offset. The window grows a chunk at a
    /// time, so a lying length costs no more memory than the input holds.
    #[inline]
    pub(super) fn need(&mut self, n: usize, what: &'static str) -> Result<(), Error> {
        if self.buf.len() - self.head >= n {
            return Ok(());
        }
        self.need_more(n, what)
    }

    /// [`Source::need`] when the window is short: reads until it is not.
    #[cold]
    fn need_more(&mut self, n: usize, what: &'static str) -> Result<(), Error> {
        while self.buf.len() - self.head < n {
            if self.read_more()? == 0 {
                let available = self.buf.len() - self.head;
                return Err(truncated(what, n as u64, available, self.pos).into());
            }
        }
        Ok(())
    }

    /// Reads until the window holds at least `n` bytes or the input ends.
    pub(super) fn fill_to(&mut self, n: usize) -> Result<(), Error> {
        while self.buf.len() - self.head < n {
            if self.read_more()? == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Whether the input has no bytes left.
    pub(super) fn at_end(&mut self) -> Result<bool, Error> {
        Ok(self.buf.len() == self.head && self.read_more()? == 0)
    }

    /// Reads more input into the window; 0 at the end.
    fn read_more(&mut self) -> Result<usize, Error> {
        if self.eof {
            return Ok(0);
        }
        // Consumed bytes are dropped once they are half the buffer, so that
        // each byte is moved at most about once.
        if self.head > 0 && self.head >= self.buf.len() / 2 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + CHUNK, 0);
        let got = loop {
            let result = match &mut self.input {
                Input::Plain(r) => r.read(&mut self.buf[len..]),
                Input::Zlib(z) => z.read(&mut self.buf[len..]),
                Input::Taken => Ok(0),
            };
            match result {
                Ok(n) => break n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.buf.truncate(len);
                    return Err(self.input_error(err));
                }
            }
        };
        self.buf.truncate(len + got);
        if got == 0 {
            self.eof = true;
            self.check_inflated_end()?;
        } else {
            self.check_inflated_size()?;
        }
        Ok(got)
    }

    /// After each read of a compressed term: fails as soon as the body
    /// inflates past its declared size, so that a small zlib stream
    /// declaring little cannot fill memory (a read adds at most a chunk).
    fn check_inflated_size(&self) -> Result<(), Error> {
        let (Some(declared), Input::Zlib(z)) = (self.declared, &self.input) else {
            return Ok(());
        };
        if z.total_out() > u64::from(declared) {
            let kind = K::DecompressedSizeMismatch {
                declared: declared.into(),
            };
            // The offset of the first byte past the declared size.
            return Err(DecodeError::new(kind, declared as usize).into());
        }
        Ok(())
    }

    /// A read error: a corrupt zlib stream is the term's fault, with the
    /// offset reached in the inflated body.
    fn input_error(&self, err: io::Error) -> Error {
        let corrupt = matches!(
            err.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
        );
        if corrupt && matches!(self.input, Input::Zlib(_)) {
            let at = self.pos + (self.buf.len() - self.head);
            DecodeError::new(K::Zlib(err.to_string()), at).into()
        } else {
            err.into()
        }
    }

    /// At the end of the inflated body: its size must be the declared one
    /// (it is not more, [`Source::check_inflated_size`]), and nothing may
    /// follow the zlib stream.
    fn check_inflated_end(&mut self) -> Result<(), Error> {
        let (Some(declared), Input::Zlib(z)) = (self.declared, &mut self.input) else {
            return Ok(());
        };
        // No more than declared: `check_inflated_size` saw every read.
        let inflated = z.total_out();
        let declared = u64::from(declared);
        let end = self.pos + (self.buf.len() - self.head);
        if inflated < declared {
            return Err(truncated("compressed term", declared - inflated, 0, end).into());
        }
        let trailing = z.get_mut().fill_buf()?.len();
        if trailing > 0 {
            return Err(DecodeError::new(K::TrailingBytes(trailing), end).into());
        }
        Ok(())
    }

    /// Switches to inflating what follows the consumed bytes, whose size
    /// when inflated is `declared`. Offsets restart at 0.
    pub(super) fn start_inflate(&mut self, declared: u32) {
        let rest = self.buf.split_off(self.head);
        self.buf.clear();
        self.head = 0;
        self.pos = 0;
        self.declared = Some(declared);
        if let Input::Plain(r) = std::mem::replace(&mut self.input, Input::Taken) {
            let chained = Cursor::new(rest).chain(r);
            self.input = Input::Zlib(Box::new(ZlibDecoder::new(chained)));
        }
    }
}
