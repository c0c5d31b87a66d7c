//! One error type for everything the library can fail with, for
//! applications that do not care which call failed: `?` turns any of the
//! library's errors (and the term codec's, and `std::io::Error`) into an
//! [`Error`], and `fn main() -> Result<(), cnode::Error>` prints it as one
//! readable line.

use std::fmt;

use crate::data::error::{
    ConnectError, NodeError, RecvError, RegisterError, RpcError, SendError, SpawnError,
};
use crate::data::name::NameError;
use crate::features::gen_server::CallError;
use crate::features::global::GlobalError;
use crate::features::remote_spawn::RemoteSpawnError;
use crate::features::serve::Exception;
use crate::net::tls::TlsConfigError;

/// Any error of this library, of the term codec ([`etf`]) or of I/O.
///
/// Each variant wraps the error of one kind of operation, unchanged, so a
/// caller can still match on what went wrong
/// (`Err(cnode::Error::Connect(ConnectError::CookieRejected { .. }))`).
///
/// `Display` is one line: the error's own message followed by the messages
/// of its [`source`](std::error::Error::source) chain that it does not
/// already include, separated by `: `. `Debug` prints the same line, so
/// that a `main` returning `Result<(), cnode::Error>` prints
/// `Error: cannot register "rust" with EPMD on port 4369: the name is
/// taken` rather than a struct dump. (`{:#?}` gives the structure.)
///
/// ```
/// use cnode::{Error, SendError};
///
/// fn send() -> Result<(), SendError> {
///     Err(SendError::BadNode { node: "nohost".into() })
/// }
///
/// fn run() -> Result<(), Error> {
///     send()?;
///     Ok(())
/// }
///
/// let err = run().unwrap_err();
/// assert!(matches!(err, Error::Send(SendError::BadNode { .. })));
/// assert_eq!(format!("{err:?}"), r#"bad node name "nohost""#);
/// ```
#[non_exhaustive]
pub enum Error {
    /// Starting or using a node failed.
    Node(NodeError),
    /// A node name is not `alive@host`.
    Name(NameError),
    /// A connection could not be set up.
    Connect(ConnectError),
    /// A process could not be made.
    Spawn(SpawnError),
    /// A name could not be registered.
    Register(RegisterError),
    /// A message could not be sent.
    Send(SendError),
    /// A receive ended without a message.
    Recv(RecvError),
    /// An rpc failed.
    Rpc(RpcError),
    /// A `gen_server:call` failed.
    Call(CallError),
    /// A `global` operation failed.
    Global(GlobalError),
    /// A remote spawn failed.
    RemoteSpawn(RemoteSpawnError),
    /// A TLS configuration could not be built.
    TlsConfig(TlsConfigError),
    /// A served function raised an exception.
    Exception(Exception),
    /// A Rust value could not become a term, or a term the Rust value
    /// asked for (`serde` through [`etf::serde`]).
    Serde(etf::serde::Error),
    /// Bytes are not a valid term.
    Decode(etf::DecodeError),
    /// A term could not be encoded.
    Encode(etf::EncodeError),
    /// Text is not a term in Erlang syntax.
    Parse(etf::ParseError),
    /// An I/O error of the application's own.
    Io(std::io::Error),
    /// Any other error, for applications that meet a few of their own.
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// Wraps an error of the application's own ([`Error::Other`]).
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Error {
        Error::Other(error.into())
    }

    /// The wrapped error.
    fn inner(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            Error::Node(e) => e,
            Error::Name(e) => e,
            Error::Connect(e) => e,
            Error::Spawn(e) => e,
            Error::Register(e) => e,
            Error::Send(e) => e,
            Error::Recv(e) => e,
            Error::Rpc(e) => e,
            Error::Call(e) => e,
            Error::Global(e) => e,
            Error::RemoteSpawn(e) => e,
            Error::TlsConfig(e) => e,
            Error::Exception(e) => e,
            Error::Serde(e) => e,
            Error::Decode(e) => e,
            Error::Encode(e) => e,
            Error::Parse(e) => e,
            Error::Io(e) => e,
            Error::Other(e) => &**e,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&chain_line(self.inner()))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return fmt::Debug::fmt(self.inner(), f);
        }
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    /// The wrapped error's source: the wrapped error itself is what
    /// `Display` shows, as with `#[error(transparent)]`.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner().source()
    }
}

/// The error's message, then each message of its source chain that the
/// text so far does not already hold (most of this library's messages
/// name their source), joined by `: `.
fn chain_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        let text = source.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = source.source();
    }
    line
}

macro_rules! from_errors {
    ($($variant:ident($error:ty)),* $(,)?) => {
        $(
            impl From<$error> for Error {
                fn from(error: $error) -> Error {
                    Error::$variant(error)
                }
            }
        )*
    };
}

from_errors! {
    Node(NodeError),
    Name(NameError),
    Connect(ConnectError),
    Spawn(SpawnError),
    Register(RegisterError),
    Send(SendError),
    Recv(RecvError),
    Rpc(RpcError),
    Call(CallError),
    Global(GlobalError),
    RemoteSpawn(RemoteSpawnError),
    TlsConfig(TlsConfigError),
    Exception(Exception),
    Serde(etf::serde::Error),
    Decode(etf::DecodeError),
    Encode(etf::EncodeError),
    Parse(etf::ParseError),
    Io(std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_is_one_line_with_the_sources_not_yet_said() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use");
        let err = Error::from(NodeError::Listen {
            min: 1,
            max: 2,
            source: io,
        });
        assert_eq!(
            err.to_string(),
            "cannot listen on any port in 1..=2: address in use"
        );
        assert_eq!(format!("{err:?}"), err.to_string());
        assert_eq!(
            err.source().map(|s| s.to_string()).as_deref(),
            Some("address in use")
        );

        // A source the message does not include is appended.
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let err = Error::other(Outer(std::io::Error::other("inner")));
        assert_eq!(format!("{err:?}"), "outer: inner");
    }

    #[test]
    fn it_crosses_tasks_and_boxes() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Error>();
        let boxed: Box<dyn std::error::Error + Send + Sync> =
            Error::from(SpawnError::Shutdown).into();
        assert_eq!(boxed.to_string(), "the local node is shut down");
    }

    #[test]
    fn question_mark_converts_every_error() {
        fn run(step: u8) -> Result<(), Error> {
            match step {
                0 => Err(SpawnError::Shutdown)?,
                1 => Err(RecvError::Closed)?,
                2 => Err(Exception::badarg())?,
                _ => Err(etf::serde::from_term::<i64>(&etf::Term::atom("x")).unwrap_err())?,
            }
        }
        assert!(matches!(run(0), Err(Error::Spawn(SpawnError::Shutdown))));
        assert!(matches!(run(1), Err(Error::Recv(RecvError::Closed))));
        assert!(matches!(run(2), Err(Error::Exception(_))));
        assert!(matches!(run(3), Err(Error::Serde(_))));
    }
}
