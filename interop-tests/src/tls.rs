//! Certificates for the TLS distribution tests: a CA and the certificates
//! it signs for this machine's host names, written as PEM files, and the
//! `-ssl_dist_optfile` that points `erl` (and our node) at them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    SanType,
};

use crate::local::short_host;

/// A CA and one certificate it signed, as PEM files in a directory.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA's certificate: the trust anchor.
    pub ca: PathBuf,
    /// A certificate fit for a server and a client: for `localhost`, this
    /// machine's short host name, 127.0.0.1 and ::1 ([`TlsFiles::generate`]),
    /// or for the names given to [`TlsFiles::generate_for`].
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// What `generate` can fail with.
pub type TlsError = Box<dyn std::error::Error + Send + Sync>;

impl TlsFiles {
    /// Makes a new CA named `label` and a node certificate it signs, in
    /// `dir` (files named after `label`).
    pub fn generate(dir: &Path, label: &str) -> Result<TlsFiles, TlsError> {
        TlsFiles::generate_with(dir, label, |_| {})
    }

    /// [`TlsFiles::generate`], the node certificate's parameters adjusted
    /// by `adjust` (to make it expired, say).
    pub fn generate_with(
        dir: &Path,
        label: &str,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Result<TlsFiles, TlsError> {
        let mut names = vec!["localhost".to_owned()];
        if let Ok(host) = short_host() {
            if host != "localhost" {
                names.push(host);
            }
        }
        let loopback = [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        TlsFiles::make(dir, label, names, &loopback, adjust)
    }

    /// A new CA named `label` and a node certificate it signs for the DNS
    /// names `names` only (say the host names of containers, where
    /// `localhost` and this machine's name mean nothing), in `dir`.
    pub fn generate_for(dir: &Path, label: &str, names: &[&str]) -> Result<TlsFiles, TlsError> {
        let names = names.iter().map(|name| (*name).to_owned()).collect();
        TlsFiles::make(dir, label, names, &[], |_| {})
    }

    /// These files as seen where their directory is mounted at `dir` (in a
    /// container): the same file names under `dir`. Its
    /// [`write_optfile`](TlsFiles::write_optfile) writes an optfile for
    /// that side of the mount.
    pub fn mounted_at(&self, dir: &Path) -> TlsFiles {
        let moved = |path: &Path| match path.file_name() {
            Some(name) => dir.join(name),
            None => dir.to_owned(),
        };
        TlsFiles {
            ca: moved(&self.ca),
            cert: moved(&self.cert),
            key: moved(&self.key),
        }
    }

    fn make(
        dir: &Path,
        label: &str,
        names: Vec<String>,
        addresses: &[IpAddr],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Result<TlsFiles, TlsError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name = name(&format!("{label} test CA"));
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let mut params = CertificateParams::new(names)?;
        params.distinguished_name = name(&format!("{label} node"));
        for ip in addresses {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        adjust(&mut params);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca)?;

        let files = TlsFiles {
            ca: dir.join(format!("{label}-ca.pem")),
            cert: dir.join(format!("{label}-cert.pem")),
            key: dir.join(format!("{label}-key.pem")),
        };
        std::fs::write(&files.ca, ca.pem())?;
        std::fs::write(&files.cert, cert.pem())?;
        std::fs::write(&files.key, key.serialize_pem())?;
        Ok(files)
    }

    /// Writes an OTP `-ssl_dist_optfile` for these files to `path`:
    /// certificate, key and CA on both sides, `verify_peer` both ways, and
    /// the server requiring a client certificate (mutual TLS), plus
    /// `extra` options on both sides (Erlang terms, e.g.
    /// `{versions, ['tlsv1.3']}`, or `{secure_renegotiate, true}`, which
    /// OTP refuses beside TLS 1.3 alone).
    pub fn write_optfile(&self, path: &Path, extra: &[&str]) -> Result<PathBuf, TlsError> {
        let files = format!(
            "{{certfile, {:?}}}, {{keyfile, {:?}}}, {{cacertfile, {:?}}}, {{verify, verify_peer}}",
            self.cert.display().to_string(),
            self.key.display().to_string(),
            self.ca.display().to_string(),
        );
        let extra: String = extra.iter().map(|option| format!(", {option}")).collect();
        let text = format!(
            "[{{server, [{files}, {{fail_if_no_peer_cert, true}}{extra}]}},\n {{client, [{files}{extra}]}}].\n"
        );
        std::fs::write(path, text)?;
        Ok(path.to_owned())
    }
}

fn name(common: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common);
    name
}
