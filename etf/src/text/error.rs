//! What went wrong in a piece of Erlang term text, and where.

use thiserror::Error;

/// An error from [`parse_term`](crate::parse_term): the position in the text
/// and what the parser found there.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct ParseError {
    offset: usize,
    line: usize,
    column: usize,
    kind: ParseErrorKind,
}

impl ParseError {
    /// Builds the error for `kind` at byte `offset` of `text`, working out the
    /// line and column (both counted from 1, the column in characters).
    pub(crate) fn at(text: &str, offset: usize, kind: ParseErrorKind) -> ParseError {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            offset,
            line,
            column,
            kind,
        }
    }

    /// The byte offset of the error in the text.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The line of the error, counted from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of the error in characters, counted from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What went wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }
}

/// The kinds of [`ParseError`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A token other than the ones the grammar allows here.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What would have been accepted, e.g. "`]` or `,`".
        expected: &'static str,
        /// What is there instead, e.g. "`}`" or "end of input".
        found: String,
    },
    /// A character that starts no token.
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    /// A quoted atom or string without its closing quote.
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    /// A backslash escape that Erlang does not define, or whose value is not
    /// a Unicode scalar value.
    #[error("invalid escape sequence")]
    InvalidEscape,
    /// A malformed number: a bad base, a digit outside the base, a misplaced `_`.
    #[error("invalid number: {0}")]
    InvalidNumber(&'static str),
    /// A float too large for an `f64` (Erlang has no infinity).
    #[error("float out of range")]
    FloatOutOfRange,
    /// An atom longer than the 255 characters the BEAM allows.
    #[error("atom longer than 255 characters")]
    AtomTooLong,
    /// A variable where a term is expected: terms are literals only.
    #[error("variable `{0}` is not a term")]
    Variable(String),
    /// A reserved word used as an atom without quotes.
    #[error("reserved word `{0}` must be quoted to be an atom")]
    ReservedWord(String),
    /// Nesting deeper than the limit set with
    /// [`ParseOptions::max_depth`](crate::ParseOptions::max_depth) (there is
    /// none by default).
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    /// A `#Pid<…>`, `#Port<…>`, `#Ref<…>`, `#Fun<…>` or `#Local<…>` form
    /// with a missing or out-of-range field.
    #[error("invalid {form}: {problem}")]
    InvalidSpecial {
        /// The form, e.g. "`#Pid<…>`".
        form: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A binary segment that cannot be built: an unknown type, a size that
    /// does not fit the value's type, a value out of range.
    #[error("invalid binary segment: {0}")]
    InvalidSegment(&'static str),
    /// A native record naming the same field twice.
    #[error("record field {0} given twice")]
    DuplicateRecordField(String),
    /// A binary literal larger than the parser builds (it would let a short
    /// text allocate without bound).
    #[error("binary literal larger than {0} bytes")]
    BinaryTooLarge(usize),
}
