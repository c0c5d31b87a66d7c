//! Opening a node's listening sockets: where (every interface, loopback,
//! or one address), for which IP versions, on the first free port of a
//! range. Every socket of a node has the same port, the one it registers.
//!
//! With both IP versions ([`AddressFamily::Any`]), "every interface" is one
//! dual-stack socket on `::` (IPv4 peers arrive as `::ffff:a.b.c.d`), or
//! `0.0.0.0` on a host without IPv6; "loopback" is `127.0.0.1` and, where
//! the host has it, `::1`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;

use tokio::net::TcpListener;

use crate::net::resolve::AddressFamily;

/// Where a node accepts connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListenOn {
    /// Every interface (OTP's default).
    Everywhere,
    /// Loopback only: nodes on this machine alone can connect.
    Loopback,
    /// This address only (`::` is dual-stack unless the family is IPv6).
    Address(IpAddr),
}

/// One socket to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Spec {
    ip: IpAddr,
    /// IPV6_V6ONLY, for an IPv6 address.
    v6_only: bool,
}

impl Spec {
    fn v4(ip: Ipv4Addr) -> Spec {
        Spec {
            ip: IpAddr::V4(ip),
            v6_only: false,
        }
    }

    fn v6(ip: Ipv6Addr, v6_only: bool) -> Spec {
        Spec {
            ip: IpAddr::V6(ip),
            v6_only,
        }
    }
}

/// The sockets for `on` and `family`: alternatives for the first one (the
/// first that can be opened on a port wins), and sockets added on its port
/// where they can be opened.
fn plan(on: ListenOn, family: AddressFamily) -> (Vec<Spec>, Vec<Spec>) {
    use AddressFamily::{Any, Ipv4, Ipv6};
    match (on, family) {
        (ListenOn::Everywhere, Any) => (
            vec![
                Spec::v6(Ipv6Addr::UNSPECIFIED, false),
                Spec::v4(Ipv4Addr::UNSPECIFIED),
            ],
            vec![],
        ),
        (ListenOn::Everywhere, Ipv4) => (vec![Spec::v4(Ipv4Addr::UNSPECIFIED)], vec![]),
        (ListenOn::Everywhere, Ipv6) => (vec![Spec::v6(Ipv6Addr::UNSPECIFIED, true)], vec![]),
        (ListenOn::Loopback, Any) => (
            vec![
                Spec::v4(Ipv4Addr::LOCALHOST),
                Spec::v6(Ipv6Addr::LOCALHOST, true),
            ],
            vec![Spec::v6(Ipv6Addr::LOCALHOST, true)],
        ),
        (ListenOn::Loopback, Ipv4) => (vec![Spec::v4(Ipv4Addr::LOCALHOST)], vec![]),
        (ListenOn::Loopback, Ipv6) => (vec![Spec::v6(Ipv6Addr::LOCALHOST, true)], vec![]),
        (ListenOn::Address(IpAddr::V4(ip)), _) => (vec![Spec::v4(ip)], vec![]),
        (ListenOn::Address(IpAddr::V6(ip)), family) => (
            vec![Spec::v6(ip, family == Ipv6 || !ip.is_unspecified())],
            vec![],
        ),
    }
}

/// Opens the listening sockets for `on` and `family` on the first port of
/// `ports` where the first one can be opened. Must run inside a tokio
/// runtime. The error is the last one met, naming its address.
pub(crate) fn bind(
    on: ListenOn,
    family: AddressFamily,
    ports: RangeInclusive<u16>,
) -> io::Result<Vec<TcpListener>> {
    let (alternatives, extras) = plan(on, family);
    let mut last = None;
    let mut first = None;
    'ports: for port in ports {
        for spec in &alternatives {
            match open(*spec, port) {
                Ok(listener) => {
                    first = Some((*spec, listener));
                    break 'ports;
                }
                Err(err) => {
                    let taken = err.kind() == io::ErrorKind::AddrInUse;
                    last = Some(err);
                    if taken {
                        // Another process has this port: try the next one.
                        continue 'ports;
                    }
                }
            }
        }
    }
    let Some((chosen, listener)) = first else {
        return Err(last.unwrap_or_else(|| io::Error::other("empty port range")));
    };
    let port = listener.local_addr()?.port();
    let mut listeners = vec![listener];
    for spec in extras.into_iter().filter(|spec| *spec != chosen) {
        match open(spec, port) {
            Ok(listener) => listeners.push(listener),
            Err(err) => tracing::warn!(%err, "not listening there too"),
        }
    }
    Ok(listeners)
}

/// One listening socket; the error names the address.
fn open(spec: Spec, port: u16) -> io::Result<TcpListener> {
    let address = SocketAddr::new(spec.ip, port);
    let opened = (|| {
        let domain = socket2::Domain::for_address(address);
        let socket =
            socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
        if address.is_ipv6() {
            socket.set_only_v6(spec.v6_only)?;
        }
        #[cfg(unix)]
        socket.set_reuse_address(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&address.into())?;
        socket.listen(1024)?;
        TcpListener::from_std(socket.into())
    })();
    opened.map_err(|err| io::Error::new(err.kind(), format!("{address}: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv6_loopback() -> bool {
        std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
    }

    #[tokio::test]
    async fn loopback_listens_on_both_families_at_one_port() {
        let listeners = bind(ListenOn::Loopback, AddressFamily::Any, 0..=0).unwrap();
        let addresses: Vec<SocketAddr> =
            listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        assert_eq!(addresses[0].ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        if ipv6_loopback() {
            assert_eq!(addresses.len(), 2, "{addresses:?}");
            assert_eq!(addresses[1].ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
            assert_eq!(addresses[0].port(), addresses[1].port());
        }
    }

    #[tokio::test]
    async fn everywhere_is_one_dual_stack_socket() {
        let listeners = bind(ListenOn::Everywhere, AddressFamily::Any, 0..=0).unwrap();
        assert_eq!(listeners.len(), 1);
        let port = listeners[0].local_addr().unwrap().port();
        // An IPv4 client reaches it.
        tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        if ipv6_loopback() {
            tokio::net::TcpStream::connect((Ipv6Addr::LOCALHOST, port))
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn a_taken_port_moves_to_the_next_and_an_error_names_the_address() {
        let taken = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = bind(ListenOn::Loopback, AddressFamily::Ipv4, port..=port).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }

    #[test]
    fn the_ipv6_family_never_takes_ipv4_connections() {
        let (first, extras) = plan(ListenOn::Everywhere, AddressFamily::Ipv6);
        assert_eq!(first, [Spec::v6(Ipv6Addr::UNSPECIFIED, true)]);
        assert!(extras.is_empty());
        let (first, _) = plan(
            ListenOn::Address(Ipv6Addr::UNSPECIFIED.into()),
            AddressFamily::Any,
        );
        assert_eq!(first, [Spec::v6(Ipv6Addr::UNSPECIFIED, false)]);
    }
}
