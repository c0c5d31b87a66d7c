//! What can go wrong while building images and running containers.

use std::path::PathBuf;

/// An error of the container harness: which step failed and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// The `docker` client could not be started at all.
    #[error("cannot run `docker {args}`: {source}")]
    Spawn {
        /// The arguments given to `docker`.
        args: String,
        /// Why the process did not start.
        source: std::io::Error,
    },
    /// `docker` ran and reported a failure.
    #[error("`docker {args}` failed ({status}): {stderr}")]
    Docker {
        /// The arguments given to `docker`.
        args: String,
        /// The exit status, as text.
        status: String,
        /// What `docker` wrote to stderr.
        stderr: String,
    },
    /// A file that belongs in an image's root filesystem could not be read.
    #[error("cannot read {path} for an image root filesystem: {source}")]
    Rootfs {
        /// The file on the host.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A tool the image needs is not installed on the host.
    #[error("`{tool}` is not installed on this host (run scripts/setup.sh)")]
    MissingTool {
        /// The program name.
        tool: String,
    },
    /// `ldd` could not list the libraries of an executable.
    #[error("`ldd {path}` failed: {reason}")]
    Ldd {
        /// The executable or library.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Every candidate subnet for a test network was taken.
    #[error("no free 10.213.x.0/24 subnet for network {network}")]
    NoSubnet {
        /// The network that could not be created.
        network: String,
    },
    /// A network ran out of addresses for containers.
    #[error("network {network} has no address left")]
    NoAddress {
        /// The network.
        network: String,
    },
    /// A container was asked for its address but shares another's network
    /// namespace.
    #[error("container {container} has no address of its own")]
    NoOwnAddress {
        /// The container.
        container: String,
    },
    /// An IPv6 address was asked of a network without IPv6.
    #[error("network {network} has no IPv6 (make it with Lab::new_ipv6)")]
    NoIpv6 {
        /// The network's name.
        network: String,
    },
    /// Inside a lab's container, a variable describing the lab is missing
    /// or malformed.
    #[error("lab environment variable {name}: {problem}")]
    Environment {
        /// The variable.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}
