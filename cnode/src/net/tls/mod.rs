//! Distribution over TLS, as OTP's `-proto_dist inet_tls`: the
//! configuration ([`TlsConfig`], from an OTP `-ssl_dist_optfile`, PEM files
//! or rustls configurations, with the verifiers OTP's options need beyond
//! webpki's) and the stream over rustls.

mod config;
mod error;
pub(crate) mod listener;
mod optfile;
mod options;
mod pem;
pub(crate) mod stream;
#[cfg(test)]
mod tests;
mod verify;

pub use config::TlsConfig;
pub use error::TlsConfigError;
