//! Compressed terms (tag 80): `80 | u32 uncompressed size | zlib stream`.

use super::truncated;
use crate::error::{DecodeError, DecodeErrorKind as K};
use flate2::{Decompress, FlushDecompress, Status};

/// zlib cannot expand data by more than about 1032 times, so the output
/// buffer starts no larger than that bound allows, whatever size is declared.
const MAX_RATIO: usize = 1032;

/// Inflates the compressed term whose tag 80 is at `at`. Returns the
/// uncompressed body and the offset just after the zlib stream.
pub(crate) fn inflate(
    data: &[u8],
    at: usize,
    limit: usize,
) -> Result<(Vec<u8>, usize), DecodeError> {
    let size_at = at + 1;
    let size_bytes = data.get(size_at..size_at + 4).ok_or_else(|| {
        truncated(
            "compressed term size",
            4,
            data.len().saturating_sub(size_at),
            size_at,
        )
    })?;
    let declared = u32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]);
    let declared_len = declared as usize;
    if declared_len > limit {
        return Err(DecodeError::new(
            K::DecompressedTooLarge {
                declared: declared.into(),
                limit,
            },
            size_at,
        ));
    }
    let stream_at = size_at + 4;
    let input = &data[stream_at..];
    let mut out = Vec::with_capacity(
        declared_len
            .min(input.len().saturating_mul(MAX_RATIO))
            .max(64),
    );
    let mut z = Decompress::new(true);
    let mismatch = || {
        DecodeError::new(
            K::DecompressedSizeMismatch {
                declared: declared.into(),
            },
            at,
        )
    };
    loop {
        // Room for the declared size plus one byte, to notice a longer stream.
        if out.len() == out.capacity() {
            if out.len() > declared_len {
                return Err(mismatch());
            }
            let want = (declared_len + 1 - out.len()).min(out.capacity().max(64));
            out.reserve_exact(want);
        }
        let consumed = z.total_in() as usize;
        let before_out = out.len();
        let status = z
            .decompress_vec(&input[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| DecodeError::new(K::Zlib(e.to_string()), stream_at + consumed))?;
        if out.len() > declared_len {
            return Err(mismatch());
        }
        let progressed = z.total_in() as usize != consumed || out.len() != before_out;
        match status {
            Status::StreamEnd => break,
            _ if !progressed && z.total_in() as usize == input.len() => {
                let at = stream_at + input.len();
                return Err(truncated("compressed term", 1, 0, at));
            }
            _ if !progressed && out.len() < out.capacity() => {
                return Err(DecodeError::new(
                    K::Zlib("no progress".into()),
                    stream_at + consumed,
                ));
            }
            _ => {}
        }
    }
    if out.len() != declared_len {
        return Err(mismatch());
    }
    Ok((out, stream_at + z.total_in() as usize))
}
