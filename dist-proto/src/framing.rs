//! Length-prefixed frames: `u16 len` during the handshake, `u32 len` after.
//!
//! Framing owns the length prefixes; the message codecs never see them.

use bytes::{Buf, Bytes, BytesMut};

/// The width of a frame's length prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthPrefix {
    /// `u16`: handshake messages.
    U16,
    /// `u32`: the connected phase.
    U32,
}

impl LengthPrefix {
    /// The prefix size in bytes.
    pub const fn size(self) -> usize {
        match self {
            LengthPrefix::U16 => 2,
            LengthPrefix::U32 => 4,
        }
    }

    /// The largest length the prefix can express.
    pub const fn max_len(self) -> usize {
        match self {
            LengthPrefix::U16 => u16::MAX as usize,
            LengthPrefix::U32 => u32::MAX as usize,
        }
    }
}

/// One frame read from the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A zero-length frame: a tick (keep-alive).
    Tick,
    /// A frame with content.
    Data(Bytes),
}

/// A frame could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A received length prefix exceeds the configured maximum.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLong {
        /// The announced length.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// An outgoing payload does not fit the length prefix.
    #[error("payload of {len} bytes does not fit a {prefix:?} length prefix")]
    Unencodable {
        /// The payload length.
        len: usize,
        /// The prefix it had to fit.
        prefix: LengthPrefix,
    },
}

/// The most room a buffer may have behind a frame just handed out before
/// the bytes after the frame are moved to a buffer of their own.
const MAX_SPARE: usize = 1 << 20;

/// Splits a byte stream that arrives in arbitrary chunks into frames.
///
/// A length above the configured maximum is an error before any byte of the
/// frame is buffered for it. Frames are slices of the buffer the bytes were
/// read into, not copies, so a frame that is kept keeps that buffer alive;
/// after a frame that leaves more than 1 MiB of room behind it (a large
/// frame made the buffer grow) and only a few bytes in it, those bytes move
/// to a new buffer, so that a small frame never holds on to a large buffer.
#[derive(Debug)]
pub struct FrameDecoder {
    prefix: LengthPrefix,
    max_len: usize,
    buf: BytesMut,
}

impl FrameDecoder {
    /// A decoder for the given prefix, refusing frames longer than `max_len`.
    pub fn new(prefix: LengthPrefix, max_len: usize) -> FrameDecoder {
        FrameDecoder {
            prefix,
            max_len: max_len.min(prefix.max_len()),
            buf: BytesMut::new(),
        }
    }

    /// Appends received bytes.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Appends received bytes the caller holds in a buffer of its own. When
    /// nothing is buffered (the caller read into the buffer it got from
    /// [`FrameDecoder::take_buffer`]) the buffer is taken over without a
    /// copy.
    pub fn handle_input_buf(&mut self, bytes: BytesMut) {
        if self.buf.is_empty() {
            self.buf = bytes;
        } else {
            self.buf.unsplit(bytes);
        }
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let size = self.prefix.size();
        if self.buf.len() < size {
            return Ok(None);
        }
        let len = match self.prefix {
            LengthPrefix::U16 => usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]])),
            LengthPrefix::U32 => {
                let raw = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
                usize::try_from(raw).unwrap_or(usize::MAX)
            }
        };
        if len > self.max_len {
            return Err(FrameError::TooLong {
                len,
                max: self.max_len,
            });
        }
        if self.buf.len() - size < len {
            // No reservation for the announced length: memory grows only with
            // bytes that really arrived.
            return Ok(None);
        }
        self.buf.advance(size);
        if len == 0 {
            return Ok(Some(Frame::Tick));
        }
        let frame = self.buf.split_to(len).freeze();
        if self.buf.capacity() > MAX_SPARE && self.buf.len() < self.buf.capacity() / 4 {
            // A frame (or a slice of it, such as a binary of a message a
            // process keeps) keeps its whole buffer alive. Later frames
            // must not land in, and pin, a buffer that a large frame made
            // grow: the few bytes after it move to a buffer of their own.
            // Only when they are few: many frames still waiting would
            // otherwise be copied again after each one.
            self.buf = BytesMut::from(&self.buf[..]);
        }
        Ok(Some(Frame::Data(frame)))
    }

    /// Takes the bytes received after the last complete frame, e.g. to hand
    /// them from the handshake to the connected phase.
    pub fn take_remaining(&mut self) -> Vec<u8> {
        self.buf.split().to_vec()
    }

    /// Takes the buffer with the bytes received after the last complete
    /// frame, to read more into it and hand it back with
    /// [`FrameDecoder::handle_input_buf`]: the bytes are read in place,
    /// and only the start of a frame is ever copied, when the buffer has to
    /// grow.
    pub fn take_buffer(&mut self) -> BytesMut {
        std::mem::take(&mut self.buf)
    }

    /// How many received bytes wait for the rest of their frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// Appends `payload` to `out` behind its length prefix.
pub fn write_frame(
    prefix: LengthPrefix,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let len = payload.len();
    match prefix {
        LengthPrefix::U16 => {
            let len = u16::try_from(len).map_err(|_| FrameError::Unencodable { len, prefix })?;
            out.extend_from_slice(&len.to_be_bytes());
        }
        LengthPrefix::U32 => {
            let len = u32::try_from(len).map_err(|_| FrameError::Unencodable { len, prefix })?;
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frames_of(decoder: &mut FrameDecoder) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next_frame().unwrap() {
            frames.push(frame);
        }
        frames
    }

    #[test]
    fn zero_length_is_a_tick_and_keeps_later_bytes() {
        let mut decoder = FrameDecoder::new(LengthPrefix::U32, 1024);
        decoder.handle_input(&[0, 0, 0, 0, 0, 0, 0, 2, 112, 131, 0, 0]);
        assert_eq!(decoder.next_frame().unwrap(), Some(Frame::Tick));
        assert_eq!(
            decoder.next_frame().unwrap(),
            Some(Frame::Data(Bytes::from_static(&[112, 131])))
        );
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert_eq!(decoder.take_remaining(), vec![0, 0]);
    }

    #[test]
    fn oversized_length_is_refused_before_buffering() {
        let mut decoder = FrameDecoder::new(LengthPrefix::U32, 1 << 20);
        decoder.handle_input(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            decoder.next_frame(),
            Err(FrameError::TooLong {
                len: u32::MAX as usize,
                max: 1 << 20
            })
        );
        assert!(decoder.buf.capacity() < 1 << 20);
    }

    #[test]
    fn handshake_frames_use_two_byte_lengths() {
        let mut out = Vec::new();
        write_frame(LengthPrefix::U16, b"sok", &mut out).unwrap();
        assert_eq!(out, b"\x00\x03sok");
        let too_long = vec![0; 70_000];
        assert_eq!(
            write_frame(LengthPrefix::U16, &too_long, &mut out),
            Err(FrameError::Unencodable {
                len: 70_000,
                prefix: LengthPrefix::U16
            })
        );
    }

    #[test]
    fn bytes_after_a_large_frame_leave_its_buffer() {
        let mut stream = BytesMut::with_capacity(4 << 20);
        let big = vec![7; 2 << 20];
        let mut framed = Vec::new();
        write_frame(LengthPrefix::U32, &big, &mut framed).unwrap();
        write_frame(LengthPrefix::U32, b"small", &mut framed).unwrap();
        framed.extend_from_slice(&[0, 0]);
        stream.extend_from_slice(&framed);
        let mut decoder = FrameDecoder::new(LengthPrefix::U32, 4 << 20);
        decoder.handle_input_buf(stream);
        assert_eq!(decoder.next_frame().unwrap(), Some(Frame::Data(big.into())));
        assert!(decoder.buf.capacity() < MAX_SPARE);
        assert_eq!(
            decoder.next_frame().unwrap(),
            Some(Frame::Data(Bytes::from_static(b"small")))
        );
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert_eq!(decoder.take_remaining(), vec![0, 0]);
    }

    #[test]
    fn many_small_frames_in_a_large_buffer_stay_in_it() {
        let mut framed = Vec::new();
        for _ in 0..200_000 {
            write_frame(LengthPrefix::U32, b"0123456789", &mut framed).unwrap();
        }
        let mut decoder = FrameDecoder::new(LengthPrefix::U32, 1 << 20);
        decoder.handle_input_buf(BytesMut::from(&framed[..]));
        let first = decoder.buf.as_ptr() as usize;
        let mut frames = 0;
        while let Some(Frame::Data(data)) = decoder.next_frame().unwrap() {
            assert_eq!(&data[..], b"0123456789");
            frames += 1;
            // Until the last quarter, the frames are read in place.
            if frames < 140_000 {
                assert_eq!(data.as_ptr() as usize, first + (frames - 1) * 14 + 4);
            }
        }
        assert_eq!(frames, 200_000);
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_frames(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..12),
            cuts in proptest::collection::vec(1usize..17, 0..40),
            wide in any::<bool>(),
            owned in 0u8..3,
        ) {
            let prefix = if wide { LengthPrefix::U32 } else { LengthPrefix::U16 };
            let mut stream = Vec::new();
            for payload in &payloads {
                write_frame(prefix, payload, &mut stream).unwrap();
            }
            let mut decoder = FrameDecoder::new(prefix, 64);
            let mut frames = Vec::new();
            let mut rest = &stream[..];
            for cut in cuts.iter().copied().chain(std::iter::repeat(usize::MAX)) {
                if rest.is_empty() {
                    break;
                }
                let (chunk, tail) = rest.split_at(cut.min(rest.len()));
                match owned {
                    0 => decoder.handle_input(chunk),
                    1 => {
                        let mut buf = decoder.take_buffer();
                        buf.extend_from_slice(chunk);
                        decoder.handle_input_buf(buf);
                    }
                    _ => decoder.handle_input_buf(BytesMut::from(chunk)),
                }
                frames.extend(frames_of(&mut decoder));
                rest = tail;
            }
            let expected: Vec<Frame> = payloads
                .iter()
                .map(|p| if p.is_empty() { Frame::Tick } else { Frame::Data(Bytes::from(p.clone())) })
                .collect();
            prop_assert_eq!(frames, expected);
            prop_assert_eq!(decoder.buffered(), 0);
        }
    }
}
