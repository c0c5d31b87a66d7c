//! Errors of the codec: what went wrong, and for decoding, where.

use crate::term::Term;
use std::fmt;

/// Why a byte sequence is not a valid external term.
///
/// Small (one boxed allocation) so that `Result<Term, DecodeError>` stays
/// cheap to return. [`DecodeError::offset`] is the byte offset where the
/// problem was found (inside the decompressed data when the input was
/// compressed), [`DecodeError::category`] classifies it and
/// [`DecodeError::is_incomplete`] tells a streaming caller that more input
/// could make the bytes valid.
#[derive(Clone, PartialEq)]
pub struct DecodeError {
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq)]
struct Inner {
    kind: DecodeErrorKind,
    offset: usize,
}

/// The broad class of a [`DecodeError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// The input ends before the term does: more bytes could complete it.
    Incomplete,
    /// The bytes can never form a valid term (bad tag, bad value, trailing bytes).
    Syntax,
    /// A limit of [`crate::DecodeOptions`] was exceeded.
    Limit,
    /// The term is valid but this decoder does not support it (old FUN, a
    /// cached atom without a cache).
    Unsupported,
}

/// What exactly is wrong with the input of a decode.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended early: `what` needed `needed` bytes, only `available` were left.
    Truncated {
        /// The item being read (a tag name such as `SMALL_BIG`, or `tag`).
        what: &'static str,
        /// Bytes the item needs from the offset.
        needed: u64,
        /// Bytes left in the input at the offset.
        available: usize,
    },
    /// The first byte is not the version byte 131.
    BadVersion(u8),
    /// A tag byte this format does not define.
    UnknownTag(u8),
    /// A tag valid somewhere else but not here (e.g. a pid whose node is not an atom).
    UnexpectedTag {
        /// The tag found.
        tag: u8,
        /// What the position requires.
        expected: &'static str,
    },
    /// A tag this decoder does not support (the old FUN_EXT, removed in OTP 23).
    UnsupportedTag(u8),
    /// Bytes left over after a complete term.
    TrailingBytes(usize),
    /// An atom of more than 255 characters.
    AtomTooLong(usize),
    /// A UTF-8 atom whose bytes are not valid UTF-8.
    InvalidUtf8Atom,
    /// A float that is NaN or infinite.
    NonFiniteFloat,
    /// An old FLOAT_EXT whose text is not a number.
    InvalidFloatText,
    /// A map holding the same key twice.
    DuplicateMapKey,
    /// A native record (RECORD_EXT) whose flags byte has a bit other than
    /// bit 0 (exported) set, as OTP 29 refuses.
    InvalidRecordFlags(u8),
    /// A native record naming the same field twice.
    DuplicateRecordField(crate::term::Atom),
    /// A BIT_BINARY whose bit count is outside `1..=8`, or that has no bytes.
    InvalidBitCount(u8),
    /// A reference with no words or more than 5.
    InvalidReferenceLength(u16),
    /// A NEW_FUN whose size field disagrees with its contents.
    FunSizeMismatch {
        /// The size the header claims.
        declared: u32,
        /// The size actually read.
        actual: usize,
    },
    /// ATOM_CACHE_REF without an atom cache.
    NoAtomCache,
    /// ATOM_CACHE_REF to an index the cache does not hold.
    AtomCacheIndex {
        /// The index referenced.
        index: u8,
        /// Entries in the cache.
        len: usize,
    },
    /// Nesting deeper than the opt-in [`crate::DecodeOptions::max_depth`].
    TooDeep(usize),
    /// A compressed term declaring more than
    /// [`crate::DecodeOptions::max_decompressed_size`] bytes.
    DecompressedTooLarge {
        /// The declared uncompressed size.
        declared: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A compressed term whose zlib stream inflates to another size than declared.
    DecompressedSizeMismatch {
        /// The declared uncompressed size.
        declared: u64,
    },
    /// A compressed term whose zlib stream is corrupt.
    Zlib(String),
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> DecodeError {
        DecodeError {
            inner: Box::new(Inner { kind, offset }),
        }
    }

    /// The byte offset of the problem in the input.
    pub fn offset(&self) -> usize {
        self.inner.offset
    }

    /// Exactly what went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.inner.kind
    }

    /// The broad class of the problem.
    pub fn category(&self) -> Category {
        use DecodeErrorKind as K;
        match self.inner.kind {
            K::Truncated { .. } => Category::Incomplete,
            K::TooDeep(_) | K::DecompressedTooLarge { .. } => Category::Limit,
            K::UnsupportedTag(_) | K::NoAtomCache => Category::Unsupported,
            _ => Category::Syntax,
        }
    }

    /// True when the input ends before the term does, so that appending
    /// bytes could make it decode; false for any other error.
    pub fn is_incomplete(&self) -> bool {
        self.category() == Category::Incomplete
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind as K;
        match self {
            K::Truncated { what, .. } => write!(f, "truncated {what}"),
            K::BadVersion(v) => write!(f, "version byte {v} instead of 131"),
            K::UnknownTag(t) => write!(f, "unknown tag {t}"),
            K::UnexpectedTag { tag, expected } => {
                write!(f, "tag {tag} where {expected} was expected")
            }
            K::UnsupportedTag(t) => write!(f, "unsupported tag {t}"),
            K::TrailingBytes(n) => write!(f, "{n} trailing bytes after the term"),
            K::AtomTooLong(n) => write!(f, "atom too long ({n} characters, at most 255)"),
            K::InvalidUtf8Atom => f.write_str("UTF-8 atom with invalid UTF-8"),
            K::NonFiniteFloat => f.write_str("float is NaN or infinite"),
            K::InvalidFloatText => f.write_str("FLOAT text is not a number"),
            K::DuplicateMapKey => f.write_str("map has a duplicate key"),
            K::InvalidRecordFlags(b) => write!(f, "RECORD flags byte {b} (0 or 1)"),
            K::DuplicateRecordField(field) => write!(f, "record has field {field} twice"),
            K::InvalidBitCount(b) => write!(f, "BIT_BINARY with {b} bits in its last byte"),
            K::InvalidReferenceLength(n) => write!(f, "reference with {n} words (1..=5)"),
            K::FunSizeMismatch { declared, actual } => {
                write!(f, "NEW_FUN size {declared} but {actual} bytes read")
            }
            K::NoAtomCache => f.write_str("ATOM_CACHE_REF without an atom cache"),
            K::AtomCacheIndex { index, len } => {
                write!(f, "ATOM_CACHE_REF {index} but the cache holds {len} atoms")
            }
            K::TooDeep(limit) => write!(f, "nesting deeper than {limit}"),
            K::DecompressedTooLarge { declared, limit } => write!(
                f,
                "compressed term declares {declared} bytes, more than the limit {limit}"
            ),
            K::DecompressedSizeMismatch { declared } => write!(
                f,
                "compressed term does not inflate to its declared {declared} bytes"
            ),
            K::Zlib(msg) => write!(f, "corrupt zlib stream ({msg})"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.inner.kind, self.inner.offset)?;
        if let DecodeErrorKind::Truncated {
            needed, available, ..
        } = self.inner.kind
        {
            write!(f, ": needs {needed} bytes, {available} left")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("kind", &self.inner.kind)
            .field("offset", &self.inner.offset)
            .finish()
    }
}

impl std::error::Error for DecodeError {}

/// Why a term cannot be encoded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An atom of more than 255 characters (the BEAM's limit).
    #[error("atom too long: {0} characters, at most 255")]
    AtomTooLong(usize),
    /// A float that is NaN or infinite (the BEAM has none).
    #[error("float {0} is NaN or infinite")]
    NonFiniteFloat(f64),
    /// A bitstring whose `bits` is outside `1..=8`, or with no bytes.
    #[error("bitstring with {bits} bits in its last byte of {len} bytes")]
    InvalidBitBinary {
        /// The `bits` field.
        bits: u8,
        /// The number of bytes.
        len: usize,
    },
    /// A reference with no words or more than 5.
    #[error("reference with {0} words (1..=5)")]
    InvalidReferenceLength(usize),
    /// A length that does not fit the format's 32-bit field.
    #[error("{what} of {len} elements/bytes does not fit in 32 bits")]
    TooLarge {
        /// The kind of term (`tuple`, `list`, `binary`, `map`, `integer`).
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// A LOCAL_EXT term whose bytes do not start with tag 121.
    #[error("LOCAL_EXT term whose bytes do not start with tag 121")]
    InvalidLocal,
    /// `minor_version` other than 0, 1 or 2.
    #[error("minor_version {0} (0, 1 or 2)")]
    InvalidMinorVersion(u8),
    /// A compression level above 9.
    #[error("compression level {0} (0..=9)")]
    InvalidCompressionLevel(u32),
    /// A native record, with [`crate::EncodeOptions::native_records`] off
    /// (the receiver cannot decode native records).
    #[error("native record #{module}:{name}{{}} where native records are off")]
    NativeRecordsOff {
        /// The record's module.
        module: crate::term::Atom,
        /// The record's name.
        name: crate::term::Atom,
    },
}

/// A map was given the same key twice.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("duplicate map key {key:?}")]
pub struct DuplicateKey {
    /// The repeated key.
    pub key: Term,
}

/// A native record was given the same field name twice.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("record #{module}:{name}{{}} has field {field} twice")]
pub struct DuplicateField {
    /// The record's module.
    pub module: crate::term::Atom,
    /// The record's name.
    pub name: crate::term::Atom,
    /// The repeated field name.
    pub field: crate::term::Atom,
}
