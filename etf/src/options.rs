//! Decoding limits and encoding choices.

/// Limits that keep decoding of untrusted input bounded.
///
/// The defaults are safe for input from any peer. Nesting is not limited by
/// default, as in the BEAM: decoding and every later walk over a term
/// (`Drop`, `Clone`, comparison, hashing, encoding, printing) keep their
/// pending work on the heap, so depth costs memory (proportional to the
/// input) and never Rust stack. [`DecodeOptions::max_depth`] sets a limit
/// for callers that want one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// The deepest nesting of tuples, lists, maps, funs and native records
    /// accepted; `None` (the default): no limit, as in the BEAM.
    pub max_depth: Option<usize>,
    /// The largest uncompressed size a compressed term (tag 80) may declare.
    /// Default [`DecodeOptions::DEFAULT_MAX_DECOMPRESSED_SIZE`].
    pub max_decompressed_size: usize,
}

impl DecodeOptions {
    /// The default limit on a compressed term's uncompressed size: 64 MiB.
    pub const DEFAULT_MAX_DECOMPRESSED_SIZE: usize = 64 << 20;

    /// The default limits.
    pub fn new() -> DecodeOptions {
        DecodeOptions {
            max_depth: None,
            max_decompressed_size: Self::DEFAULT_MAX_DECOMPRESSED_SIZE,
        }
    }

    /// Limits nesting: a container more than `depth` levels deep fails
    /// with [`DecodeErrorKind::TooDeep`](crate::DecodeErrorKind::TooDeep)
    /// (`0` accepts only terms without tuples, lists, maps and funs).
    /// Opt-in: by default depth is bounded only by memory.
    pub fn max_depth(mut self, depth: usize) -> DecodeOptions {
        self.max_depth = Some(depth);
        self
    }

    /// Removes the nesting limit (the default).
    pub fn unlimited_depth(mut self) -> DecodeOptions {
        self.max_depth = None;
        self
    }

    /// Sets the largest uncompressed size a compressed term may declare.
    pub fn max_decompressed_size(mut self, bytes: usize) -> DecodeOptions {
        self.max_decompressed_size = bytes;
        self
    }
}

impl Default for DecodeOptions {
    fn default() -> DecodeOptions {
        DecodeOptions::new()
    }
}

/// How to encode, mirroring the options of `term_to_binary/2`.
///
/// The default gives the bytes of OTP 26+'s `term_to_binary/1`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// `{minor_version, N}`: 2 (default) writes every atom as UTF-8
    /// (tags 119/118); 1 writes atoms whose characters are all Latin-1 as
    /// ATOM (100), as OTP 25's default; 0 also writes floats as the old
    /// 31-byte text FLOAT (99).
    pub minor_version: u8,
    /// `{compressed, Level}`: zlib level 0..=9. As OTP, the compressed form is
    /// kept only when it is smaller than the plain one. `None`: no compression.
    pub compression: Option<u32>,
    /// `deterministic`: write map entries sorted by Erlang's map key order
    /// instead of in the map's own order.
    pub deterministic: bool,
    /// Whether native records (OTP 29's RECORD_EXT) may be written. On by
    /// default; off, a record makes encoding fail with
    /// [`EncodeError::NativeRecordsOff`](crate::EncodeError::NativeRecordsOff),
    /// as a distribution connection needs for a peer that did not negotiate
    /// native records (OTP 28 and older cannot decode them). The check
    /// costs nothing for terms without records.
    pub native_records: bool,
}

impl EncodeOptions {
    /// The default choices: minor version 2, no compression, maps in their order.
    pub fn new() -> EncodeOptions {
        EncodeOptions {
            minor_version: 2,
            compression: None,
            deterministic: false,
            native_records: true,
        }
    }

    /// Sets `minor_version` (0, 1 or 2; others make encoding fail).
    pub fn minor_version(mut self, version: u8) -> EncodeOptions {
        self.minor_version = version;
        self
    }

    /// Sets the zlib level (0..=9; others make encoding fail), or `None`.
    pub fn compression(mut self, level: Option<u32>) -> EncodeOptions {
        self.compression = level;
        self
    }

    /// Sets whether map entries are written in key order (Erlang's term
    /// order), as `term_to_binary(T, [deterministic])` writes them. One case
    /// differs: where keys are themselves maps of two or more entries, the
    /// BEAM compares them by their keys in its internal order (atoms by
    /// atom table index), which only that node knows.
    pub fn deterministic(mut self, deterministic: bool) -> EncodeOptions {
        self.deterministic = deterministic;
        self
    }

    /// Sets whether native records may be written (see
    /// [`EncodeOptions::native_records`](#structfield.native_records)).
    pub fn native_records(mut self, allowed: bool) -> EncodeOptions {
        self.native_records = allowed;
        self
    }
}

impl Default for EncodeOptions {
    fn default() -> EncodeOptions {
        EncodeOptions::new()
    }
}
