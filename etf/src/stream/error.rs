//! Why a streaming read failed.

use crate::DecodeError;
use std::io;

/// A failure of [`Reader`](super::Reader): the input could not be read, or
/// its bytes are not a valid term. After an error the reader keeps
/// returning errors: the position within the term is lost.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the underlying input failed.
    #[error("cannot read the input: {0}")]
    Io(#[from] io::Error),
    /// The bytes are not a valid term; the error names the byte offset.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl Error {
    /// The decode error, when the bytes were at fault.
    pub fn as_decode(&self) -> Option<&DecodeError> {
        match self {
            Error::Decode(err) => Some(err),
            Error::Io(_) => None,
        }
    }
}
