//! Finding a node's socket addresses and opening a TCP connection to one of
//! them: through EPMD on the node's host (the default), at one fixed port
//! on its host (EPMD-less, as `erl -erl_epmd_port PORT`), or through a
//! function of the application's ([`NodeBuilder::resolver`]).
//!
//! [`NodeBuilder::resolver`]: crate::NodeBuilder::resolver

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use epmd_client::{ClientError, EpmdClient};
use tokio::net::TcpStream;

use crate::data::error::{ConnectError, UnreachableReason};
use crate::data::name::NodeName;

/// What a resolver ([`NodeBuilder::resolver`]) returns, boxed: the
/// addresses to try for a node, in order.
///
/// [`NodeBuilder::resolver`]: crate::NodeBuilder::resolver
pub(crate) type ResolveFuture = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// A resolver as the node keeps it.
pub(crate) type ResolveFn = dyn Fn(&NodeName) -> ResolveFuture + Send + Sync;

/// The application's resolver, shared.
#[derive(Clone)]
pub(crate) struct Resolver(pub(crate) Arc<ResolveFn>);

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver(..)")
    }
}

/// The IP versions a node listens and dials on, as `erl -proto_dist`
/// chooses them: `inet_tcp` is [`Ipv4`](AddressFamily::Ipv4), `inet6_tcp`
/// is [`Ipv6`](AddressFamily::Ipv6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// Both (the default): listen on IPv6 and IPv4, and dial whichever
    /// addresses a host has, in the order the resolver gives them. Reaches
    /// `inet_tcp` and `inet6_tcp` nodes alike.
    #[default]
    Any,
    /// IPv4 only, as an `inet_tcp` node (`erl`'s default).
    Ipv4,
    /// IPv6 only, as an `inet6_tcp` node. A host with IPv4 addresses
    /// only is dialed at their IPv4-mapped IPv6 forms (`::ffff:a.b.c.d`,
    /// as `getaddrinfo` with `AI_V4MAPPED` gives them), which reach a
    /// dual-stack listener such as an `inet6_tcp` erl node's.
    Ipv6,
}

impl AddressFamily {
    /// Whether this family uses `address`.
    pub fn admits(self, address: &SocketAddr) -> bool {
        match self {
            AddressFamily::Any => true,
            AddressFamily::Ipv4 => address.is_ipv4(),
            AddressFamily::Ipv6 => address.is_ipv6(),
        }
    }

    /// What the family is called in errors: `IPv4`, `IPv6`, or `IP`.
    fn label(self) -> &'static str {
        match self {
            AddressFamily::Any => "IP",
            AddressFamily::Ipv4 => "IPv4",
            AddressFamily::Ipv6 => "IPv6",
        }
    }
}

/// Where a node's addresses come from.
#[derive(Clone, Debug)]
pub(crate) enum Discovery {
    /// EPMD on the node's host, at this port, gives the node's port.
    Epmd { port: u16 },
    /// Every node listens on this port (`erl -erl_epmd_port PORT`).
    FixedPort(u16),
    /// The application's resolver.
    Custom(Resolver),
}

/// How this node finds the nodes it dials.
#[derive(Clone, Debug)]
pub(crate) struct Finder {
    pub(crate) discovery: Discovery,
    pub(crate) family: AddressFamily,
}

impl Finder {
    /// A TCP connection to `node`: the first of its addresses (of our
    /// family) that accepts, all of it within `after`.
    pub(crate) async fn connect(
        &self,
        node: &NodeName,
        after: Duration,
    ) -> Result<TcpStream, ConnectError> {
        let timeout = || ConnectError::Timeout {
            node: node.as_str().to_owned(),
            after,
        };
        tokio::time::timeout(after, async {
            let addresses = self.addresses(node).await?;
            connect_first(node, &addresses).await
        })
        .await
        .map_err(|_| timeout())?
    }

    /// `node`'s addresses of our family, in the order to try them; never
    /// empty.
    async fn addresses(&self, node: &NodeName) -> Result<Vec<SocketAddr>, ConnectError> {
        let host = node.host();
        let found = match &self.discovery {
            Discovery::Epmd { port } => {
                let port = epmd_lookup(node, *port).await?;
                lookup_host(host, port).await
            }
            Discovery::FixedPort(port) => lookup_host(host, *port).await,
            Discovery::Custom(Resolver(resolve)) => resolve(node).await,
        };
        let resolve_failed = |source: io::Error| ConnectError::Unreachable {
            node: node.as_str().to_owned(),
            source: UnreachableReason::Resolve {
                host: host.to_owned(),
                source: Arc::new(source),
            },
        };
        let mut addresses = found.map_err(resolve_failed)?;
        if self.family == AddressFamily::Ipv6 && !addresses.iter().any(SocketAddr::is_ipv6) {
            for address in &mut addresses {
                if let SocketAddr::V4(v4) = *address {
                    *address = SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port());
                }
            }
        }
        addresses.retain(|address| self.family.admits(address));
        if addresses.is_empty() {
            return Err(resolve_failed(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no {} address", self.family.label()),
            )));
        }
        Ok(addresses)
    }
}

/// The port EPMD on `node`'s host gives for it.
async fn epmd_lookup(node: &NodeName, epmd_port: u16) -> Result<u16, ConnectError> {
    let epmd = EpmdClient::new(node.host().to_owned(), epmd_port);
    let info = epmd.lookup(node.alive()).await.map_err(|err| {
        let (node, epmd) = (
            node.as_str().to_owned(),
            format!("{}:{}", epmd.host(), epmd.port()),
        );
        match err {
            ClientError::UnknownNode { .. } => ConnectError::NotRegistered { node, epmd },
            ClientError::Unreachable { source, .. } => ConnectError::EpmdUnreachable {
                node,
                epmd,
                source: Arc::new(source),
            },
            other => ConnectError::Unreachable {
                node,
                source: UnreachableReason::Epmd(Arc::new(other)),
            },
        }
    })?;
    Ok(info.port)
}

/// `host`'s addresses (an IP address stands for itself), at `port`.
async fn lookup_host(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    // A bracketed IPv6 literal, `[::1]`, as some write it in node names.
    let host = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

/// A connection to the first of `addresses` that accepts one; the error of
/// the last otherwise.
async fn connect_first(
    node: &NodeName,
    addresses: &[SocketAddr],
) -> Result<TcpStream, ConnectError> {
    let mut last = None;
    for &address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(source) => {
                tracing::debug!(%node, %address, %source, "connect failed");
                last = Some((address, source));
            }
        }
    }
    let (address, source) = last.unwrap_or_else(|| {
        let none = io::Error::new(io::ErrorKind::NotFound, "no address to try");
        (SocketAddr::from(([0, 0, 0, 0], 0)), none)
    });
    Err(ConnectError::Unreachable {
        node: node.as_str().to_owned(),
        source: UnreachableReason::Dial {
            address,
            source: Arc::new(source),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finder(discovery: Discovery, family: AddressFamily) -> Finder {
        Finder { discovery, family }
    }

    fn name(full: &str) -> NodeName {
        NodeName::parse(full).expect("a valid name")
    }

    #[tokio::test]
    async fn a_fixed_port_gives_the_hosts_addresses_at_that_port() {
        let found = finder(Discovery::FixedPort(4444), AddressFamily::Any)
            .addresses(&name("a@127.0.0.1"))
            .await
            .expect("an address");
        assert_eq!(found, [SocketAddr::from(([127, 0, 0, 1], 4444))]);
        let found = finder(Discovery::FixedPort(4444), AddressFamily::Ipv6)
            .addresses(&name("a@[::1]"))
            .await
            .expect("an address");
        assert_eq!(found, ["[::1]:4444".parse::<SocketAddr>().unwrap()]);
    }

    #[tokio::test]
    async fn addresses_of_the_other_family_are_left_out_and_none_is_an_error() {
        let both: Vec<SocketAddr> =
            vec!["127.0.0.1:1".parse().unwrap(), "[::1]:2".parse().unwrap()];
        let given = both.clone();
        let resolver = Resolver(Arc::new(move |_: &NodeName| -> ResolveFuture {
            let given = given.clone();
            Box::pin(async move { Ok(given) })
        }));
        let only_v6 = finder(Discovery::Custom(resolver.clone()), AddressFamily::Ipv6);
        assert_eq!(only_v6.addresses(&name("a@h")).await.unwrap(), [both[1]]);
        let only_v4 = finder(Discovery::Custom(resolver), AddressFamily::Ipv4);
        assert_eq!(only_v4.addresses(&name("a@h")).await.unwrap(), [both[0]]);

        let v6_host = finder(Discovery::FixedPort(1), AddressFamily::Ipv4);
        let err = v6_host.addresses(&name("a@::1")).await.unwrap_err();
        assert!(
            matches!(
                &err,
                ConnectError::Unreachable { source: UnreachableReason::Resolve { host, .. }, .. }
                    if host == "::1"
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("no IPv4 address"), "{err}");

        // IPv4 only, under the IPv6 family: the mapped forms.
        let v4_host = finder(Discovery::FixedPort(1), AddressFamily::Ipv6);
        let mapped = v4_host.addresses(&name("a@127.0.0.1")).await.unwrap();
        assert_eq!(
            mapped,
            ["[::ffff:127.0.0.1]:1".parse::<SocketAddr>().unwrap()]
        );
    }

    #[tokio::test]
    async fn a_resolver_error_names_the_host() {
        let failing = Resolver(Arc::new(|_: &NodeName| -> ResolveFuture {
            Box::pin(async { Err(io::Error::other("no such service")) })
        }));
        let err = finder(Discovery::Custom(failing), AddressFamily::Any)
            .addresses(&name("a@pod-0.svc"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("pod-0.svc"), "{err}");
        assert!(err.to_string().contains("no such service"), "{err}");
    }

    #[tokio::test]
    async fn the_first_address_that_accepts_is_used() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        // A port just freed: nothing listens there.
        let closed = {
            let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            gone.local_addr().unwrap()
        };
        let stream = connect_first(&name("a@h"), &[closed, open]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), open);
        let err = connect_first(&name("a@h"), &[closed]).await.unwrap_err();
        assert!(
            matches!(&err, ConnectError::Unreachable { source: UnreachableReason::Dial { address, .. }, .. } if *address == closed),
            "{err:?}"
        );
    }
}
