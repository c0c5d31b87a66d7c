//! A private Docker network for one test: its own subnet, no route out.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use super::docker::{owner, LAB_LABEL, OWNER_LABEL};
use super::{ContainerError, Docker};

/// An `--internal` bridge network on a `10.213.x.0/24` subnet of its own:
/// containers on it reach each other and the host (through the gateway
/// address, which is the host's), and nothing else. Dropping it removes
/// the containers still attached, then the network. With IPv6
/// ([`Network::create_ipv6`]) it has a `fd00:213:x::/64` subnet too, where
/// a container's address ends as its IPv4 one does.
#[derive(Debug)]
pub struct Network {
    docker: Docker,
    name: String,
    subnet: [u8; 3],
    ipv6: bool,
    next_host: AtomicU8,
    /// Whether dropping this value removes the network (false for a
    /// network attached to from inside one of its containers).
    owned: bool,
}

impl Network {
    /// Creates a network named `cnode-<pid>-<n>-<test>`.
    pub fn create(docker: &Docker, test: &str) -> Result<Network, ContainerError> {
        Network::create_with(docker, test, false)
    }

    /// Creates a network named `cnode-<pid>-<n>-<test>` with IPv6 enabled
    /// (`--ipv6`) on `fd00:213:x::/64` beside its IPv4 subnet (Docker 20.10
    /// gives every bridge network an IPv4 subnet; a container that should
    /// have none drops its address, see [`ContainerSpec::ipv6_only`]).
    ///
    /// [`ContainerSpec::ipv6_only`]: super::ContainerSpec::ipv6_only
    pub fn create_ipv6(docker: &Docker, test: &str) -> Result<Network, ContainerError> {
        Network::create_with(docker, test, true)
    }

    fn create_with(docker: &Docker, test: &str, ipv6: bool) -> Result<Network, ContainerError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let serial = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("cnode-{}-{serial}-{test}", owner());
        // Start where this process and serial point, then probe: other
        // processes (or other projects) may hold some subnets.
        let start = (std::process::id().wrapping_mul(7).wrapping_add(serial * 13)) % 250;
        for probe in 0..250 {
            let third = u8::try_from((start + probe) % 250 + 1).unwrap_or(1);
            let subnet = [10, 213, third];
            let mut args: Vec<String> = vec![
                "network".into(),
                "create".into(),
                "--internal".into(),
                "--driver".into(),
                "bridge".into(),
                "--subnet".into(),
                format!("10.213.{third}.0/24"),
                "--gateway".into(),
                format!("10.213.{third}.1"),
                "--label".into(),
                format!("{OWNER_LABEL}={}", owner()),
            ];
            if ipv6 {
                args.extend([
                    "--ipv6".into(),
                    "--subnet".into(),
                    format!("fd00:213:{third:x}::/64"),
                ]);
            }
            args.push(name.clone());
            let created = docker.run(&args);
            match created {
                Ok(_) => {
                    return Ok(Network {
                        docker: docker.clone(),
                        name,
                        subnet,
                        ipv6,
                        next_host: AtomicU8::new(2),
                        owned: true,
                    })
                }
                Err(ContainerError::Docker { stderr, .. }) if stderr.contains("overlap") => {
                    continue
                }
                Err(err) => return Err(err),
            }
        }
        Err(ContainerError::NoSubnet { network: name })
    }

    /// The network `name` on `subnet` (`[10, 213, x]`), created by someone
    /// else (the test process, when running inside a container of it):
    /// addresses are handed out from `.first_host` on, and dropping the
    /// value leaves the network alone.
    pub fn attach(docker: &Docker, name: &str, subnet: [u8; 3], first_host: u8) -> Network {
        Network {
            docker: docker.clone(),
            name: name.to_owned(),
            subnet,
            ipv6: false,
            next_host: AtomicU8::new(first_host.max(2)),
            owned: false,
        }
    }

    /// The subnet's first three bytes.
    pub fn subnet(&self) -> [u8; 3] {
        self.subnet
    }

    /// The IPv6 address that goes with `address` (same last byte), on a
    /// network with IPv6; `None` otherwise.
    pub fn ipv6_of(&self, address: Ipv4Addr) -> Option<Ipv6Addr> {
        let [_, _, third] = self.subnet;
        let host = address.octets()[3];
        self.ipv6
            .then(|| Ipv6Addr::new(0xfd00, 0x213, u16::from(third), 0, 0, 0, 0, u16::from(host)))
    }

    /// The network's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's address on this network: where containers reach a node
    /// running in the test process.
    pub fn gateway(&self) -> Ipv4Addr {
        let [a, b, c] = self.subnet;
        Ipv4Addr::new(a, b, c, 1)
    }

    /// A fresh address for a container (`.2` upwards).
    pub fn allocate_address(&self) -> Result<Ipv4Addr, ContainerError> {
        let host = self
            .next_host
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                n.checked_add(1).filter(|n| *n < 255)
            })
            .map_err(|_| ContainerError::NoAddress {
                network: self.name.clone(),
            })?;
        let [a, b, c] = self.subnet;
        Ok(Ipv4Addr::new(a, b, c, host))
    }

    /// The labels a container of this network carries.
    pub(crate) fn container_labels(&self) -> [String; 2] {
        [
            format!("{OWNER_LABEL}={}", owner()),
            format!("{LAB_LABEL}={}", self.name),
        ]
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let filter = format!("label={LAB_LABEL}={}", self.name);
        if let Ok(ids) = self.docker.run(["ps", "-aq", "--filter", &filter]) {
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let _ = self
                    .docker
                    .run(["rm", "-f", "-v"].into_iter().chain(ids.iter().copied()));
            }
        }
        let _ = self.docker.run(["network", "rm", &self.name]);
    }
}
