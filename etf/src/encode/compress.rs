//! `term_to_binary(T, [{compressed, Level}])`.

use crate::decode::tag;
use flate2::{Compress, Compression, FlushCompress, Status};

/// Replaces the body at `out[body_start..]` (just after the version byte)
/// with `80 | u32 size | zlib stream` when that is worthwhile by OTP's rule:
/// the zlib stream may take at most the body's size minus 5 bytes (OTP gives
/// zlib an output buffer of that size and keeps the plain form if it fails),
/// so a compressed term is at most one byte longer than the plain one.
pub(super) fn compress_in_place(out: &mut Vec<u8>, body_start: usize, level: u32) {
    let body = &out[body_start..];
    let Ok(size) = u32::try_from(body.len()) else {
        return;
    };
    let Some(room) = body.len().checked_sub(5) else {
        return;
    };
    let mut z = Compress::new(Compression::new(level), true);
    // One spare byte tells "does not fit" apart from "fits exactly".
    let mut stream = Vec::with_capacity(room + 1);
    match z.compress_vec(body, &mut stream, FlushCompress::Finish) {
        Ok(Status::StreamEnd) if stream.len() <= room => {}
        _ => return,
    }
    out.truncate(body_start);
    out.push(tag::COMPRESSED);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&stream);
}
