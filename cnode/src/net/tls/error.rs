//! What can be wrong in a TLS configuration, each naming its file.

use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// A TLS configuration that could not be built: a file that cannot be read,
/// an option file that is not what OTP reads, or certificates and keys that
/// do not fit together. Every error names the file it is about.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The option file is not Erlang term syntax.
    #[error("{}: {source}", path.display())]
    Syntax {
        /// The option file.
        path: PathBuf,
        /// What the term parser found, with line and column.
        source: etf::ParseError,
    },
    /// The option file's term is not `[{server, Opts}, {client, Opts}]`.
    #[error("{}: {problem}", path.display())]
    Layout {
        /// The option file.
        path: PathBuf,
        /// What is wrong with the term's shape.
        problem: String,
    },
    /// An option this node does not implement, or one OTP's `ssl` would
    /// refuse in this section.
    #[error("{}: {section} option `{option}` is not supported: {reason}", path.display())]
    Unsupported {
        /// The option file.
        path: PathBuf,
        /// `server` or `client`.
        section: &'static str,
        /// The option's name.
        option: String,
        /// Why, and what to do instead.
        reason: &'static str,
    },
    /// An option whose value is not one it takes.
    #[error("{}: {section} option `{option}`: expected {expected}, found {found}", path.display())]
    BadValue {
        /// The option file.
        path: PathBuf,
        /// `server` or `client`.
        section: &'static str,
        /// The option's name.
        option: String,
        /// What it takes.
        expected: &'static str,
        /// The value given, in Erlang syntax.
        found: String,
    },
    /// Options that do not make a working configuration together, such as
    /// `verify_peer` without `cacertfile`.
    #[error("{}: {section}: {problem}", path.display())]
    Incomplete {
        /// The option file, or the certificate file for
        /// [`TlsConfig::from_pem`](crate::TlsConfig::from_pem).
        path: PathBuf,
        /// `server` or `client`.
        section: &'static str,
        /// What is missing or contradictory.
        problem: &'static str,
    },
    /// A PEM file without the certificate, key or CA certificate it should
    /// hold, or with one that is malformed.
    #[error("{}: {problem}", path.display())]
    Pem {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong, e.g. "no private key".
        problem: String,
    },
    /// The private key is not the one of the certificate.
    #[error("{}: the key does not match the certificate in {}", key.display(), cert.display())]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the certificates or keys of a file.
    #[error("{}: {source}", path.display())]
    Rustls {
        /// The file whose contents rustls refused.
        path: PathBuf,
        /// rustls's reason.
        source: rustls::Error,
    },
}
