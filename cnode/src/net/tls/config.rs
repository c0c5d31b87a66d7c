//! [`TlsConfig`]: what a node needs to accept and dial TLS connections.

use super::error::TlsConfigError;
use super::optfile;
use super::options::{PeerName, SideOptions, Verify};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{InvalidDnsNameError, ServerName};
use rustls::{ClientConfig, ServerConfig};
use std::path::Path;
use std::sync::Arc;

/// The TLS settings of a node that runs distribution over TLS, as OTP's
/// `-proto_dist inet_tls` does: a rustls server configuration for the
/// connections it accepts, a client configuration for the ones it dials,
/// and the name a client expects the node it dials to prove (by default
/// the host part of that node's name, sent as SNI and checked against the
/// certificate).
///
/// Built from an OTP option file ([`TlsConfig::from_optfile`]), from PEM
/// files for mutual TLS ([`TlsConfig::from_pem`]), or from rustls
/// configurations of your own ([`TlsConfig::from_rustls`]). Cloning is
/// cheap: the configurations are shared.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    peer_name: PeerName,
}

impl TlsConfig {
    /// Reads an OTP `-ssl_dist_optfile`, the Erlang term
    /// `[{server, Opts}, {client, Opts}].`, with the options and defaults
    /// OTP gives them for distribution: without `versions`, TLS 1.2 only (as
    /// `inet_tls_dist` pins it); a server asks for no client certificate
    /// unless `{verify, verify_peer}`; a client verifies the server
    /// (`verify_peer`, OTP 26's default) and so needs `cacertfile`.
    ///
    /// An option this node does not implement is an error naming it, never
    /// silently dropped. Supported: `certfile`, `keyfile` (default: the key
    /// in `certfile`), `cacertfile`, `verify`, `fail_if_no_peer_cert`,
    /// `versions` (`'tlsv1.2'`, `'tlsv1.3'`), `server_name_indication`
    /// (`disable` or a host name), `customize_hostname_check` (`[]` or the
    /// `https` match fun of `public_key`, which is how host names are
    /// matched anyway), `reuse_sessions`, `honor_cipher_order`; accepted
    /// without effect: `depth` (webpki bounds chains itself),
    /// `secure_renegotiate` (rustls never renegotiates), `log_level`,
    /// `hibernate_after`, an empty `password`. Refused: any other
    /// `password` (give the key decrypted), `verify_fun` and other
    /// functions, `ciphers`, `cacerts`/`cert`/`key` (DER in the file), CRL
    /// options, `dhfile`, `ktls`, SNI callbacks. As OTP 25's `ssl` does, a
    /// server ignores the client's host name options and a client refuses
    /// `honor_cipher_order` and `{fail_if_no_peer_cert, true}`. Sections may
    /// not be left out, nor an option given twice; options outside the two
    /// sections, which OTP silently ignores, are an error.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), cnode::TlsConfigError> {
    /// // /etc/erlang/ssl_dist.conf:
    /// // [{server, [{certfile, "/etc/erlang/node.pem"},
    /// //            {keyfile, "/etc/erlang/node.key"},
    /// //            {cacertfile, "/etc/erlang/ca.pem"},
    /// //            {verify, verify_peer},
    /// //            {fail_if_no_peer_cert, true}]},
    /// //  {client, [{certfile, "/etc/erlang/node.pem"},
    /// //            {keyfile, "/etc/erlang/node.key"},
    /// //            {cacertfile, "/etc/erlang/ca.pem"},
    /// //            {verify, verify_peer}]}].
    /// let tls = cnode::TlsConfig::from_optfile("/etc/erlang/ssl_dist.conf")?;
    /// # Ok(()) }
    /// ```
    pub fn from_optfile(path: impl AsRef<Path>) -> Result<TlsConfig, TlsConfigError> {
        let path = path.as_ref();
        let file = optfile::read(path)?;
        TlsConfig::from_options(path, &file.server, path, &file.client)
    }

    /// Mutual TLS from PEM files, the common secure setup: this node
    /// presents `cert` (a chain, the node's certificate first) with the
    /// private key in `key` both when it accepts and when it dials, and
    /// requires every peer to present a certificate chaining to a CA in
    /// `ca`. A dialed node's certificate must also name its host (the host
    /// part of its node name). TLS 1.3 and 1.2 are offered, so OTP nodes
    /// whose option file pins TLS 1.2 connect too.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), cnode::TlsConfigError> {
    /// let tls = cnode::TlsConfig::from_pem("node.pem", "node.key", "ca.pem")?;
    /// # Ok(()) }
    /// ```
    pub fn from_pem(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
        ca: impl AsRef<Path>,
    ) -> Result<TlsConfig, TlsConfigError> {
        let options = SideOptions {
            certfile: Some(cert.as_ref().to_owned()),
            keyfile: Some(key.as_ref().to_owned()),
            cacertfile: Some(ca.as_ref().to_owned()),
            verify: Some(Verify::Peer),
            fail_if_no_peer_cert: true,
            versions: vec![&rustls::version::TLS13, &rustls::version::TLS12],
            ..SideOptions::otp_defaults()
        };
        let origin = cert.as_ref();
        TlsConfig::from_options(origin, &options, origin, &options)
    }

    /// Your own rustls configurations: `server` for the connections this
    /// node accepts, `client` for the ones it dials. The client names the
    /// node it dials by the host part of its node name (an IP address for
    /// a node named by one); what is sent and checked of that name is up
    /// to `client` (its `enable_sni` and certificate verifier).
    ///
    /// ```no_run
    /// # fn demo(
    /// #     server: rustls::ServerConfig,
    /// #     client: rustls::ClientConfig,
    /// # ) {
    /// use std::sync::Arc;
    ///
    /// let tls = cnode::TlsConfig::from_rustls(Arc::new(server), Arc::new(client));
    /// # }
    /// ```
    pub fn from_rustls(server: Arc<ServerConfig>, client: Arc<ClientConfig>) -> TlsConfig {
        TlsConfig {
            server,
            client,
            peer_name: PeerName::NodeHost,
        }
    }

    /// The configuration for the connections this node accepts.
    pub fn server_config(&self) -> &Arc<ServerConfig> {
        &self.server
    }

    /// The configuration for the connections this node dials.
    pub fn client_config(&self) -> &Arc<ClientConfig> {
        &self.client
    }

    /// The name to dial a node on `host` (the host part of its node name)
    /// by: sent as SNI unless disabled, and checked against its certificate
    /// when the client verifies it. An IP address gives an IP name (sent as
    /// no SNI, matched against the certificate's IP addresses).
    ///
    /// Fails only for a host that is no DNS name nor IP address while the
    /// host name is checked; with `{server_name_indication, disable}` any
    /// host will do.
    #[allow(dead_code)] // The TLS dialer, next, calls it.
    pub(crate) fn server_name(
        &self,
        host: &str,
    ) -> Result<ServerName<'static>, InvalidDnsNameError> {
        match &self.peer_name {
            PeerName::NodeHost => ServerName::try_from(host).map(|name| name.to_owned()),
            PeerName::Fixed(name) => Ok(name.clone()),
            PeerName::Unchecked => Ok(ServerName::try_from(host)
                .map(|name| name.to_owned())
                // Neither sent nor checked: any valid name stands in.
                .unwrap_or_else(|_| ServerName::from(std::net::Ipv4Addr::UNSPECIFIED))),
        }
    }

    fn from_options(
        server_origin: &Path,
        server: &SideOptions,
        client_origin: &Path,
        client: &SideOptions,
    ) -> Result<TlsConfig, TlsConfigError> {
        let provider = provider();
        Ok(TlsConfig {
            server: Arc::new(server.server_config(server_origin, &provider)?),
            client: Arc::new(client.client_config(client_origin, &provider)?),
            peer_name: client.peer_name.clone(),
        })
    }
}

/// The cryptography: *ring*'s. rustls 0.23.48 deprecates it for lacking
/// post-quantum key exchange; the alternative, aws-lc-rs, is a long C
/// build.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
