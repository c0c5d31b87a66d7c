//! Tests of the TLS configuration: handshakes in memory between the
//! configurations built, and option files read.

mod handshake;
mod optfile;
mod stream;

use super::{TlsConfig, TlsConfigError};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::{ClientConnection, ServerConnection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A folder of PEM files made for one test, removed when dropped:
///
/// | file | what |
/// |------|------|
/// | `ca.pem` | the CA |
/// | `node.pem`, `node.key` | a node on `localhost` and 127.0.0.1, signed by the CA |
/// | `peer.pem`, `peer.key` | another node, the same names and CA |
/// | `expired.pem`, `expired.key` | signed by the CA, expired in 2020 |
/// | `other-ca.pem` | a second CA |
/// | `stranger.pem`, `stranger.key` | a node signed by the second CA |
/// | `empty.pem` | no certificate |
/// | `encrypted.key` | an encrypted PKCS#8 key |
pub(super) struct Pki {
    dir: PathBuf,
}

impl Pki {
    pub(super) fn new() -> Pki {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cnode-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Pki { dir };
        let ca = pki.ca("ca");
        let other_ca = pki.ca("other-ca");
        pki.leaf("node", &ca, None);
        pki.leaf("peer", &ca, None);
        pki.leaf("expired", &ca, Some(2020));
        pki.leaf("stranger", &other_ca, None);
        pki.write("empty.pem", "no certificate here\n");
        pki.write(
            "encrypted.key",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        pki
    }

    /// The path of one of the files.
    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Mutual TLS as [`TlsConfig::from_pem`] makes it, with `name.pem`
    /// and `name.key`, trusting `ca.pem`.
    pub(super) fn mutual(&self, name: &str) -> TlsConfig {
        TlsConfig::from_pem(
            self.path(&format!("{name}.pem")),
            self.path(&format!("{name}.key")),
            self.path("ca.pem"),
        )
        .unwrap()
    }

    /// Writes `text` as an option file, `{dir}` standing for the folder
    /// of the PEM files, and reads it.
    pub(super) fn optfile(&self, text: &str) -> Result<TlsConfig, TlsConfigError> {
        let text = text.replace("{dir}", &self.dir.display().to_string());
        TlsConfig::from_optfile(self.write("dist.conf", &text))
    }

    /// The configuration of an option file with these server and client
    /// options (see [`identity`] and [`TRUST`]).
    pub(super) fn sections(&self, server: &[&str], client: &[&str]) -> TlsConfig {
        let text = format!(
            "[{{server, [{}]}}, {{client, [{}]}}].",
            server.join(", "),
            client.join(", ")
        );
        self.optfile(&text).unwrap()
    }

    pub(super) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn ca(&self, name: &str) -> Issuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        self.write(&format!("{name}.pem"), &cert.pem());
        Issuer::new(params, key)
    }

    fn leaf(&self, name: &str, ca: &Issuer<'static, KeyPair>, expired_in: Option<i32>) {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        if let Some(year) = expired_in {
            params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
            params.not_after = rcgen::date_time_ymd(year, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, ca).unwrap();
        self.write(&format!("{name}.pem"), &cert.pem());
        self.write(&format!("{name}.key"), &key.serialize_pem());
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Which side gave up a handshake, and why.
#[derive(Debug)]
pub(super) enum Refused {
    Client(rustls::Error),
    Server(rustls::Error),
}

/// Both ends of a finished handshake.
pub(super) struct Pair {
    pub(super) client: ClientConnection,
    pub(super) server: ServerConnection,
}

/// Runs a handshake in memory: `client` dials a node on `host`, `server`
/// accepts.
pub(super) fn handshake(
    server: &TlsConfig,
    client: &TlsConfig,
    host: &str,
) -> Result<Pair, Refused> {
    let name = client.server_name(host).expect("a valid host");
    let mut c =
        ClientConnection::new(client.client_config().clone(), name).map_err(Refused::Client)?;
    let mut s = ServerConnection::new(server.server_config().clone()).map_err(Refused::Server)?;
    let mut buf = Vec::new();
    for _ in 0..10 {
        buf.clear();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        feed(&buf, |b| s.read_tls(b));
        s.process_new_packets().map_err(Refused::Server)?;
        buf.clear();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        feed(&buf, |b| c.read_tls(b));
        c.process_new_packets().map_err(Refused::Client)?;
        if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() {
            return Ok(Pair {
                client: c,
                server: s,
            });
        }
    }
    panic!("handshake did not finish");
}

fn feed(mut bytes: &[u8], mut read: impl FnMut(&mut &[u8]) -> std::io::Result<usize>) {
    while !bytes.is_empty() {
        read(&mut bytes).unwrap();
    }
}

/// The options presenting `name.pem` and `name.key` of a [`Pki`].
pub(super) fn identity(name: &str) -> String {
    format!("{{certfile, \"{{dir}}/{name}.pem\"}}, {{keyfile, \"{{dir}}/{name}.key\"}}")
}

/// The option trusting the CA of a [`Pki`].
pub(super) const TRUST: &str = "{cacertfile, \"{dir}/ca.pem\"}";
