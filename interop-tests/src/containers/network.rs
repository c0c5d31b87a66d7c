//! A private Docker network for one test: its own subnet, no route out.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use super::docker::{owner, LAB_LABEL, OWNER_LABEL};
use super::{ContainerError, Docker};

/// An `--internal` bridge network on a `10.213.x.0/24` subnet of its own:
/// containers on it reach each other and the host (through the gateway
/// address, which is the host's), and nothing else. Dropping it removes
/// the containers still attached, then the network.
#[derive(Debug)]
pub struct Network {
    docker: Docker,
    name: String,
    subnet: [u8; 3],
    next_host: AtomicU8,
    /// Whether dropping this value removes the network (false for a
    /// network attached to from inside one of its containers).
    owned: bool,
}

impl Network {
    /// Creates a network named `cnode-<pid>-<n>-<test>`.
    pub fn create(docker: &Docker, test: &str) -> Result<Network, ContainerError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let serial = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("cnode-{}-{serial}-{test}", owner());
        // Start where this process and serial point, then probe: other
        // processes (or other projects) may hold some subnets.
        let start = (std::process::id().wrapping_mul(7).wrapping_add(serial * 13)) % 250;
        for probe in 0..250 {
            let third = u8::try_from((start + probe) % 250 + 1).unwrap_or(1);
            let subnet = [10, 213, third];
            let created = docker.run([
                "network",
                "create",
                "--internal",
                "--driver",
                "bridge",
                "--subnet",
                &format!("10.213.{third}.0/24"),
                "--gateway",
                &format!("10.213.{third}.1"),
                "--label",
                &format!("{OWNER_LABEL}={}", owner()),
                &name,
            ]);
            match created {
                Ok(_) => {
                    return Ok(Network {
                        docker: docker.clone(),
                        name,
                        subnet,
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
            next_host: AtomicU8::new(first_host.max(2)),
            owned: false,
        }
    }

    /// The subnet's first three bytes.
    pub fn subnet(&self) -> [u8; 3] {
        self.subnet
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
