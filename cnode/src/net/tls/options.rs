//! The options of one side of a TLS connection, as an OTP option file or
//! [`TlsConfig::from_pem`](crate::TlsConfig::from_pem) gives them, and the
//! rustls configuration they make.

use super::error::TlsConfigError;
use super::pem;
use super::verify::HostBlind;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Whether the peer's certificate is checked (`verify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verify {
    /// `verify_none`: a server asks for no certificate, a client accepts
    /// any.
    None,
    /// `verify_peer`: the peer's chain must lead to a CA of `cacertfile`.
    Peer,
}

/// Which name a client sends as SNI and checks the server's certificate
/// against (`server_name_indication`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PeerName {
    /// The host part of the node name dialed: OTP's default.
    NodeHost,
    /// This name, whatever node is dialed.
    Fixed(ServerName<'static>),
    /// `disable`: no SNI, and no host name check.
    Unchecked,
}

/// The options of one side, with OTP's defaults where none is given.
#[derive(Clone, Debug)]
pub(super) struct SideOptions {
    pub(super) certfile: Option<PathBuf>,
    /// Without it, the key is read from `certfile`, as OTP does.
    pub(super) keyfile: Option<PathBuf>,
    pub(super) cacertfile: Option<PathBuf>,
    /// `None`: the side's default, `verify_none` for a server and
    /// `verify_peer` for a client (OTP 26 on).
    pub(super) verify: Option<Verify>,
    pub(super) fail_if_no_peer_cert: bool,
    pub(super) versions: Vec<&'static SupportedProtocolVersion>,
    pub(super) peer_name: PeerName,
    pub(super) reuse_sessions: bool,
    pub(super) honor_cipher_order: bool,
}

impl SideOptions {
    /// No option given: OTP's defaults, with the versions OTP pins for
    /// distribution, TLS 1.2 only.
    pub(super) fn otp_defaults() -> Self {
        SideOptions {
            certfile: None,
            keyfile: None,
            cacertfile: None,
            verify: None,
            fail_if_no_peer_cert: false,
            versions: vec![&rustls::version::TLS12],
            peer_name: PeerName::NodeHost,
            reuse_sessions: true,
            honor_cipher_order: false,
        }
    }

    /// The server configuration; `origin` is the file named by errors
    /// about missing options.
    pub(super) fn server_config(
        &self,
        origin: &Path,
        provider: &Arc<CryptoProvider>,
    ) -> Result<ServerConfig, TlsConfigError> {
        let incomplete = |problem| TlsConfigError::Incomplete {
            path: origin.to_owned(),
            section: "server",
            problem,
        };
        let certfile = self
            .certfile
            .as_deref()
            .ok_or_else(|| incomplete("no `certfile`: a server needs a certificate"))?;
        let verify = self.verify.unwrap_or(Verify::None);
        if self.fail_if_no_peer_cert && verify == Verify::None {
            return Err(incomplete(
                "`{fail_if_no_peer_cert, true}` needs `{verify, verify_peer}`",
            ));
        }
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(|source| rustls_error(origin, source))?;
        let builder = match verify {
            Verify::None => builder.with_no_client_auth(),
            Verify::Peer => {
                let cacertfile = self.cacertfile.as_deref().ok_or_else(|| {
                    incomplete("`{verify, verify_peer}` needs `cacertfile`, the CAs to trust")
                })?;
                let roots = Arc::new(pem::roots(cacertfile)?);
                let mut verifier =
                    WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
                if !self.fail_if_no_peer_cert {
                    verifier = verifier.allow_unauthenticated();
                }
                let verifier = verifier.build().map_err(|e| TlsConfigError::Pem {
                    path: cacertfile.to_owned(),
                    problem: e.to_string(),
                })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let (chain, key, keyfile) = self.identity(certfile)?;
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| key_error(certfile, keyfile, e))?;
        config.ignore_client_order = self.honor_cipher_order;
        if !self.reuse_sessions {
            config.session_storage = Arc::new(NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        }
        Ok(config)
    }

    /// The client configuration; `origin` is the file named by errors
    /// about missing options.
    pub(super) fn client_config(
        &self,
        origin: &Path,
        provider: &Arc<CryptoProvider>,
    ) -> Result<ClientConfig, TlsConfigError> {
        let incomplete = |problem| TlsConfigError::Incomplete {
            path: origin.to_owned(),
            section: "client",
            problem,
        };
        let algorithms = provider.signature_verification_algorithms;
        let verifier: Arc<dyn ServerCertVerifier> = match self.verify.unwrap_or(Verify::Peer) {
            Verify::None => Arc::new(HostBlind::accept_any(algorithms)),
            Verify::Peer => {
                let cacertfile = self.cacertfile.as_deref().ok_or_else(|| {
                    incomplete(
                        "`verify_peer` (a client's default since OTP 26) needs `cacertfile`, \
                         the CAs to trust; or give `{verify, verify_none}`",
                    )
                })?;
                let roots = Arc::new(pem::roots(cacertfile)?);
                if self.peer_name == PeerName::Unchecked {
                    Arc::new(HostBlind::chain_only(roots, algorithms))
                } else {
                    WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                        .build()
                        .map_err(|e| TlsConfigError::Pem {
                            path: cacertfile.to_owned(),
                            problem: e.to_string(),
                        })?
                }
            }
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(|source| rustls_error(origin, source))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match self.certfile.as_deref() {
            Some(certfile) => {
                let (chain, key, keyfile) = self.identity(certfile)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| key_error(certfile, keyfile, e))?
            }
            None if self.keyfile.is_some() => {
                return Err(incomplete("`keyfile` without `certfile`"));
            }
            None => builder.with_no_client_auth(),
        };
        config.enable_sni = self.peer_name != PeerName::Unchecked;
        if !self.reuse_sessions {
            config.resumption = Resumption::disabled();
        }
        Ok(config)
    }

    /// The certificate chain and private key this side presents, and the
    /// file the key came from.
    fn identity<'a>(
        &'a self,
        certfile: &'a Path,
    ) -> Result<
        (
            Vec<CertificateDer<'static>>,
            PrivateKeyDer<'static>,
            &'a Path,
        ),
        TlsConfigError,
    > {
        let keyfile = self.keyfile.as_deref().unwrap_or(certfile);
        Ok((
            pem::certificates(certfile)?,
            pem::private_key(keyfile)?,
            keyfile,
        ))
    }
}

/// rustls's refusal of a certificate and key: the key that is not the
/// certificate's has an error of its own.
fn key_error(certfile: &Path, keyfile: &Path, error: rustls::Error) -> TlsConfigError {
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            TlsConfigError::KeyMismatch {
                cert: certfile.to_owned(),
                key: keyfile.to_owned(),
            }
        }
        source => rustls_error(keyfile, source),
    }
}

fn rustls_error(path: &Path, source: rustls::Error) -> TlsConfigError {
    TlsConfigError::Rustls {
        path: path.to_owned(),
        source,
    }
}
