//! Server certificate verifiers for the two client settings webpki has no
//! switch for.
//!
//! rustls's [`WebPkiServerVerifier`](rustls::client::WebPkiServerVerifier)
//! always checks the certificate's chain *and* its name. An OTP client can
//! turn each off: `{verify, verify_none}` accepts any certificate (the
//! connection is encrypted but the peer unauthenticated), and
//! `{server_name_indication, disable}` keeps the chain check but skips the
//! host name check (nodes named by an IP address, or certificates shared by
//! a cluster). Both verifiers still check the handshake signatures, so the
//! peer must hold the private key of the certificate it presents.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::sync::Arc;

/// A server certificate verifier that never checks the host name, and with
/// [`HostBlind::accept_any`] not the chain either.
#[derive(Debug)]
pub(super) struct HostBlind {
    /// The CAs the chain must lead to; `None` for `verify_none`.
    roots: Option<Arc<RootCertStore>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl HostBlind {
    /// `{verify, verify_none}`: any certificate is accepted, valid or not.
    pub(super) fn accept_any(algorithms: WebPkiSupportedAlgorithms) -> Self {
        Self {
            roots: None,
            algorithms,
        }
    }

    /// `{server_name_indication, disable}` with `verify_peer`: the chain
    /// must lead to one of `roots` and be valid now, whatever names the
    /// certificate holds.
    pub(super) fn chain_only(
        roots: Arc<RootCertStore>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Self {
        Self {
            roots: Some(roots),
            algorithms,
        }
    }
}

impl ServerCertVerifier for HostBlind {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
