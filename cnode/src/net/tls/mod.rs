//! TLS distribution (`-proto_dist inet_tls`): the stream over rustls.

pub(crate) mod stream;
