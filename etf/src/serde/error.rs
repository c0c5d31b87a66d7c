//! The error of serde conversions: what went wrong, and where in the value.

use std::fmt;

/// An error converting between Rust values and terms.
///
/// It says what went wrong ([`Error::kind`]) and where: the path from the
/// outermost value to the one that failed ([`Error::path`]), written like
/// `.servers[2].port` (struct fields and atom keys as `.name`, list and tuple
/// positions as `[i]`, other map keys as `[key]`). Boxed so that `Result`s
/// stay one pointer wide.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// Innermost segment first: segments are pushed as the error travels
    /// outwards.
    path: Vec<Segment>,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The term has another shape than the Rust type asks for.
    #[error("expected {expected}, found {found}")]
    Mismatch {
        /// What the Rust type accepts.
        expected: &'static str,
        /// A short description of the term found.
        found: String,
    },
    /// A tuple or tuple variant has the wrong number of elements.
    #[error("expected a tuple of {expected} elements, found {found}")]
    TupleArity {
        /// The number of elements the Rust type has.
        expected: usize,
        /// The number of elements of the term.
        found: usize,
    },
    /// A struct named `%Module` (an Elixir struct) read from a map of
    /// another struct, from a map without `__struct__`, or from another
    /// term.
    #[error("expected {expected}, found {found}")]
    WrongStruct {
        /// The struct the Rust type is, as Elixir writes it: `%User{}`.
        expected: String,
        /// What was found instead: `%Admin{}`, "a map without
        /// `__struct__`", "the integer 3".
        found: String,
    },
    /// A float that the BEAM cannot represent.
    #[error("float {0} is NaN or infinite, which the BEAM has no term for")]
    NonFiniteFloat(f64),
    /// A `Serialize` implementation gave the same map key twice (described).
    #[error("map key {0} appears twice")]
    DuplicateKey(String),
    /// The value nests deeper than the serializer's or deserializer's
    /// opt-in limit ([`Deserializer::with_max_depth`](super::Deserializer::with_max_depth),
    /// [`Serializer::with_max_depth`](super::Serializer::with_max_depth)),
    /// or the Rust type wraps one term in more than 128 levels of `Option`
    /// and newtypes (as `struct Chain(Option<Box<Chain>>)` would forever).
    #[error("nested deeper than the depth limit")]
    TooDeep,
    /// A message from a `Serialize` or `Deserialize` implementation, such
    /// as serde's own "missing field `x`" or "invalid value".
    #[error("{0}")]
    Custom(String),
    /// The bytes are not a valid term ([`from_slice`](super::from_slice)).
    #[error(transparent)]
    Decode(#[from] crate::DecodeError),
    /// The term cannot be encoded ([`to_vec`](super::to_vec)).
    #[error(transparent)]
    Encode(#[from] crate::EncodeError),
}

#[derive(Debug)]
enum Segment {
    Field(String),
    Index(usize),
    Key(String),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                path: Vec::new(),
            }),
        }
    }

    pub(crate) fn mismatch(expected: &'static str, found: &crate::Term) -> Error {
        Error::new(ErrorKind::Mismatch {
            expected,
            found: super::describe::describe(found),
        })
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// Where it went wrong, from the outermost value inwards, e.g.
    /// `.servers[2].port`; empty when the outermost value itself failed.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for segment in self.inner.path.iter().rev() {
            match segment {
                Segment::Field(name) => {
                    out.push('.');
                    out.push_str(name);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
                Segment::Key(key) => {
                    out.push('[');
                    out.push_str(key);
                    out.push(']');
                }
            }
        }
        out
    }

    /// Records that the error happened inside element `index`.
    pub(crate) fn at_index(mut self, index: usize) -> Error {
        self.inner.path.push(Segment::Index(index));
        self
    }

    /// Records that the error happened inside the struct field `name`.
    pub(crate) fn at_field(mut self, name: &str) -> Error {
        self.inner.path.push(Segment::Field(name.to_owned()));
        self
    }

    /// Records that the error happened inside the value of map key `key`.
    pub(crate) fn at_key(self, key: &crate::Term) -> Error {
        match key {
            crate::Term::Atom(atom) => self.at_field(atom.as_str()),
            other => {
                let mut this = self;
                this.inner
                    .path
                    .push(Segment::Key(super::describe::describe(other)));
                this
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.path.is_empty() {
            write!(f, "{}", self.inner.kind)
        } else {
            write!(f, "{} at {}", self.inner.kind, self.path())
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("path", &self.path())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            ErrorKind::Decode(e) => Some(e),
            ErrorKind::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind)
    }
}

impl From<crate::DecodeError> for Error {
    fn from(e: crate::DecodeError) -> Error {
        Error::new(ErrorKind::Decode(e))
    }
}

impl From<crate::EncodeError> for Error {
    fn from(e: crate::EncodeError) -> Error {
        Error::new(ErrorKind::Encode(e))
    }
}

impl ::serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }
}

impl ::serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }
}
