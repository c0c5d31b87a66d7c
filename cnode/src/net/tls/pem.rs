//! Certificates, keys and CA bundles read from PEM files, each error naming
//! its file.

use super::error::TlsConfigError;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;
use std::path::Path;

/// The certificates of a PEM file, in file order: a certificate chain,
/// the end-entity certificate first. Fails on a file with none.
pub(super) fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let text = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(problem(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC).
/// An encrypted key is refused: rustls cannot decrypt it.
pub(super) fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let text = read(path)?;
    if is_encrypted(&text) {
        return Err(problem(
            path,
            "the private key is encrypted, which is not supported: \
             give the key decrypted (e.g. `openssl pkey -in KEY -out PLAIN`)",
        ));
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| match e {
        pem::Error::NoItemsFound => problem(path, "no private key in the file"),
        e => pem_error(path, e),
    })
}

/// The trust anchors of a CA bundle. Fails on a bundle with no certificate
/// and on a certificate that cannot be a trust anchor.
pub(super) fn roots(path: &Path) -> Result<RootCertStore, TlsConfigError> {
    let text = read(path)?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&text) {
        let cert = cert.map_err(|e| pem_error(path, e))?;
        roots.add(cert).map_err(|source| TlsConfigError::Rustls {
            path: path.to_owned(),
            source,
        })?;
    }
    if roots.is_empty() {
        return Err(problem(path, "no CA certificate in the file"));
    }
    Ok(roots)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path).map_err(|source| TlsConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

/// An encrypted PKCS#8 key, or a traditional one with a `Proc-Type`
/// header: the PEM reader skips both as sections it does not know.
fn is_encrypted(text: &[u8]) -> bool {
    let has = |needle: &[u8]| text.windows(needle.len()).any(|w| w == needle);
    has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || has(b"Proc-Type: 4,ENCRYPTED")
}

fn pem_error(path: &Path, e: pem::Error) -> TlsConfigError {
    problem(path, &format!("malformed PEM: {e}"))
}

fn problem(path: &Path, problem: &str) -> TlsConfigError {
    TlsConfigError::Pem {
        path: path.to_owned(),
        problem: problem.to_owned(),
    }
}
