//! `--proto-dist`: the distribution carrier, named as `erl -proto_dist`
//! names it, with `--ssl-dist-optfile` for the TLS ones, and
//! `--erl-epmd-port`, for running without EPMD; the options every node
//! command (`ping`, `call`, `eval`, `send`, `serve`) shares with `erl`.

use std::path::Path;

use clap::{Args, ValueEnum};
use cnode::{AddressFamily, NodeBuilder, TlsConfig, TlsConfigError};

/// A distribution carrier, as `erl -proto_dist` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProtoDist {
    /// TCP over IPv4 (erl's default).
    #[value(name = "inet_tcp")]
    InetTcp,
    /// TCP over IPv6.
    #[value(name = "inet6_tcp")]
    Inet6Tcp,
    /// TLS over TCP over IPv4 (needs --ssl-dist-optfile).
    #[value(name = "inet_tls")]
    InetTls,
    /// TLS over TCP over IPv6 (needs --ssl-dist-optfile).
    #[value(name = "inet6_tls")]
    Inet6Tls,
}

impl ProtoDist {
    /// The IP version this carrier uses.
    pub(crate) fn family(self) -> AddressFamily {
        match self {
            ProtoDist::InetTcp | ProtoDist::InetTls => AddressFamily::Ipv4,
            ProtoDist::Inet6Tcp | ProtoDist::Inet6Tls => AddressFamily::Ipv6,
        }
    }

    /// Whether it runs TLS.
    pub(crate) fn is_tls(self) -> bool {
        matches!(self, ProtoDist::InetTls | ProtoDist::Inet6Tls)
    }

    /// The name `erl` knows it by.
    fn name(self) -> &'static str {
        match self {
            ProtoDist::InetTcp => "inet_tcp",
            ProtoDist::Inet6Tcp => "inet6_tcp",
            ProtoDist::InetTls => "inet_tls",
            ProtoDist::Inet6Tls => "inet6_tls",
        }
    }
}

/// `--proto-dist` and `--ssl-dist-optfile`, as every node command takes
/// them.
#[derive(Args, Debug)]
pub(crate) struct CarrierArgs {
    /// The distribution carrier, as erl -proto_dist [default: TCP over
    /// IPv4 and IPv6].
    #[arg(long, value_name = "PROTO")]
    proto_dist: Option<ProtoDist>,
    /// OTP's -ssl_dist_optfile: TLS distribution with the certificates and
    /// options in FILE ([{server, [...]}, {client, [...]}]); alone, it
    /// means --proto-dist inet_tls over either IP version.
    #[arg(long, value_name = "FILE")]
    ssl_dist_optfile: Option<std::path::PathBuf>,
}

impl CarrierArgs {
    /// These and `--erl-epmd-port`, as [`configure`] takes them.
    pub(crate) fn dist(&self, erl_epmd_port: Option<u16>) -> Dist<'_> {
        Dist {
            proto: self.proto_dist,
            optfile: self.ssl_dist_optfile.as_deref(),
            erl_epmd_port,
        }
    }
}

/// The distribution options of a node command do not go together.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DistOptionError {
    /// A TLS carrier without its certificates.
    #[error("--proto-dist {0} needs --ssl-dist-optfile FILE (as erl -ssl_dist_optfile)")]
    NoOptfile(&'static str),
    /// An optfile with a plain TCP carrier.
    #[error("--ssl-dist-optfile is for TLS distribution, and --proto-dist {0} is plain TCP")]
    OptfileWithTcp(&'static str),
    /// The optfile cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
}

/// The distribution options, as given on the command line.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Dist<'a> {
    /// `--proto-dist`.
    pub(crate) proto: Option<ProtoDist>,
    /// `--ssl-dist-optfile`: alone, it means TLS over either IP version.
    pub(crate) optfile: Option<&'a Path>,
    /// `--erl-epmd-port`.
    pub(crate) erl_epmd_port: Option<u16>,
}

/// `builder` set for the distribution options (none: TCP over both IP
/// versions).
pub(crate) fn configure(
    mut builder: NodeBuilder,
    dist: Dist<'_>,
) -> Result<NodeBuilder, DistOptionError> {
    match (dist.proto, dist.optfile) {
        (Some(proto), None) if proto.is_tls() => {
            return Err(DistOptionError::NoOptfile(proto.name()))
        }
        (Some(proto), Some(_)) if !proto.is_tls() => {
            return Err(DistOptionError::OptfileWithTcp(proto.name()))
        }
        (_, Some(optfile)) => builder = builder.tls(TlsConfig::from_optfile(optfile)?),
        (_, None) => {}
    }
    if let Some(proto) = dist.proto {
        builder = builder.address_family(proto.family());
    }
    if let Some(port) = dist.erl_epmd_port {
        builder = builder.erl_epmd_port(port);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriers_are_named_as_erl_names_them() {
        let parse = |text| ProtoDist::from_str(text, false);
        assert_eq!(parse("inet_tcp"), Ok(ProtoDist::InetTcp));
        assert_eq!(parse("inet6_tcp"), Ok(ProtoDist::Inet6Tcp));
        assert_eq!(parse("inet_tls"), Ok(ProtoDist::InetTls));
        assert_eq!(parse("inet6_tls"), Ok(ProtoDist::Inet6Tls));
        assert!(parse("inet6").is_err());
        assert_eq!(ProtoDist::Inet6Tcp.family(), AddressFamily::Ipv6);
        assert_eq!(ProtoDist::InetTcp.family(), AddressFamily::Ipv4);
        assert_eq!(ProtoDist::Inet6Tls.family(), AddressFamily::Ipv6);
        for proto in [ProtoDist::InetTcp, ProtoDist::Inet6Tcp] {
            assert!(!proto.is_tls());
            assert_eq!(parse(proto.name()), Ok(proto));
        }
    }

    #[test]
    fn tls_needs_an_optfile_and_tcp_refuses_one() {
        let builder = || cnode::Node::builder("n@h");
        let tls = Dist {
            proto: Some(ProtoDist::InetTls),
            ..Dist::default()
        };
        let err = configure(builder(), tls).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--proto-dist inet_tls needs --ssl-dist-optfile FILE (as erl -ssl_dist_optfile)"
        );
        let tcp_with_optfile = Dist {
            proto: Some(ProtoDist::Inet6Tcp),
            optfile: Some(Path::new("/nonexistent/dist.conf")),
            ..Dist::default()
        };
        let err = configure(builder(), tcp_with_optfile).unwrap_err();
        assert!(err.to_string().contains("inet6_tcp is plain TCP"), "{err}");
        let missing = Dist {
            optfile: Some(Path::new("/nonexistent/dist.conf")),
            ..Dist::default()
        };
        let err = configure(builder(), missing).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/dist.conf"), "{err}");
    }
}
