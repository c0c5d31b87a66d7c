//! Errors of the sans-IO message layer.

use thiserror::Error;

/// Why bytes could not be decoded as an EPMD message.
///
/// [`DecodeError::Incomplete`] means "read more bytes and try again"; every
/// other variant means the bytes can never become a valid message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends before the message does.
    #[error("incomplete {message}: need at least {needed} bytes, have {available}")]
    Incomplete {
        /// The message being decoded.
        message: &'static str,
        /// How many bytes the message needs at least (a lower bound).
        needed: usize,
        /// How many bytes were available.
        available: usize,
    },
    /// The first byte is not the tag of any known message of this kind.
    #[error("unknown {kind} tag {tag} at offset 0")]
    UnknownTag {
        /// "request" or "reply".
        kind: &'static str,
        /// The tag byte found.
        tag: u8,
    },
    /// A field holds a value the protocol does not allow.
    #[error("malformed {message} at offset {offset}: {reason}")]
    Malformed {
        /// The message being decoded.
        message: &'static str,
        /// Byte offset of the offending field within the message.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The message is complete but more bytes follow it.
    #[error("{extra} trailing bytes after {message} at offset {offset}")]
    TrailingBytes {
        /// The message that was decoded.
        message: &'static str,
        /// Where the trailing bytes start.
        offset: usize,
        /// How many bytes follow the message.
        extra: usize,
    },
}

impl DecodeError {
    /// True when more input could still turn this into a valid message.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, DecodeError::Incomplete { .. })
    }
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field is longer than its length prefix (or the protocol) allows.
    #[error("{field} is {len} bytes long; at most {max} fit")]
    TooLong {
        /// The field that is too long.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The largest length allowed.
        max: usize,
    },
    /// A node name is empty or contains a NUL byte, which EPMD rejects.
    #[error("invalid node name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}
