//! `--proto-dist`: the distribution carrier, named as `erl -proto_dist`
//! names it, and `--erl-epmd-port`, for running without EPMD; the options
//! every node command (`ping`, `call`, `eval`, `send`, `serve`) shares with
//! `erl`.

use clap::ValueEnum;
use cnode::{AddressFamily, NodeBuilder};

/// A distribution carrier, as `erl -proto_dist` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProtoDist {
    /// TCP over IPv4 (erl's default).
    #[value(name = "inet_tcp")]
    InetTcp,
    /// TCP over IPv6.
    #[value(name = "inet6_tcp")]
    Inet6Tcp,
}

impl ProtoDist {
    /// The IP version this carrier uses.
    pub(crate) fn family(self) -> AddressFamily {
        match self {
            ProtoDist::InetTcp => AddressFamily::Ipv4,
            ProtoDist::Inet6Tcp => AddressFamily::Ipv6,
        }
    }
}

/// `builder` set for `--proto-dist` (none: TCP over both IP versions) and
/// `--erl-epmd-port`.
pub(crate) fn configure(
    mut builder: NodeBuilder,
    proto_dist: Option<ProtoDist>,
    erl_epmd_port: Option<u16>,
) -> NodeBuilder {
    if let Some(proto) = proto_dist {
        builder = builder.address_family(proto.family());
    }
    if let Some(port) = erl_epmd_port {
        builder = builder.erl_epmd_port(port);
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriers_are_named_as_erl_names_them() {
        let parse = |text| ProtoDist::from_str(text, false);
        assert_eq!(parse("inet_tcp"), Ok(ProtoDist::InetTcp));
        assert_eq!(parse("inet6_tcp"), Ok(ProtoDist::Inet6Tcp));
        assert!(parse("inet6").is_err());
        assert_eq!(ProtoDist::Inet6Tcp.family(), AddressFamily::Ipv6);
        assert_eq!(ProtoDist::InetTcp.family(), AddressFamily::Ipv4);
    }
}
