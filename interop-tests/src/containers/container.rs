//! One running container, removed when dropped.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::{ContainerError, Docker, Network};

/// What to run: an image, a command, and where it sits on a network.
#[derive(Clone, Debug, Default)]
pub struct ContainerSpec {
    /// The image reference.
    pub image: String,
    /// The container's name and host name.
    pub name: String,
    /// Its address on the network; a fresh one when `None`.
    pub address: Option<Ipv4Addr>,
    /// The command and its arguments (exec form, no shell).
    pub command: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Host files or directories mounted read-only: (host path, container path).
    pub mounts: Vec<(PathBuf, String)>,
    /// Whether the container may change its network setup (`tc`, `iptables`).
    pub net_admin: bool,
    /// Extra DNS names on the network (`--network-alias`), resolved by
    /// Docker's resolver for the other containers.
    pub aliases: Vec<String>,
    /// Share the network namespace of this running container instead of
    /// having an address of its own (`--network container:NAME`).
    pub share_network_of: Option<String>,
    /// Drop the container's IPv4 address before the command starts (it
    /// keeps loopback and its IPv6 address, on a network with IPv6): the
    /// command runs through `/bin/sh` after `ip -4 addr flush dev eth0`,
    /// which needs [`net_admin`](ContainerSpec::net_admin).
    pub ipv6_only: bool,
}

/// A running container. Dropping it removes it (`docker rm -f`).
#[derive(Debug)]
pub struct Container {
    docker: Docker,
    name: String,
    address: Option<Ipv4Addr>,
    aliases: Vec<String>,
}

impl Container {
    /// Starts `spec` detached on `network`, at its address (or a fresh one)
    /// unless it shares another container's network namespace.
    pub fn start(
        docker: &Docker,
        network: &Network,
        spec: &ContainerSpec,
    ) -> Result<Container, ContainerError> {
        let mut args: Vec<String> = vec![
            "run".into(),
            "-d".into(),
            "--name".into(),
            spec.name.clone(),
        ];
        for label in network.container_labels() {
            args.extend(["--label".into(), label]);
        }
        let address = match &spec.share_network_of {
            Some(other) => {
                args.extend(["--network".into(), format!("container:{other}")]);
                None
            }
            None => {
                let address = match spec.address {
                    Some(address) => address,
                    None => network.allocate_address()?,
                };
                args.extend([
                    "--network".into(),
                    network.name().to_owned(),
                    "--ip".into(),
                    address.to_string(),
                    "--hostname".into(),
                    spec.name.clone(),
                ]);
                if let Some(ipv6) = network.ipv6_of(address) {
                    args.extend(["--ip6".into(), ipv6.to_string()]);
                }
                for alias in &spec.aliases {
                    args.extend(["--network-alias".into(), alias.clone()]);
                }
                Some(address)
            }
        };
        if spec.net_admin {
            args.extend(["--cap-add".into(), "NET_ADMIN".into()]);
        }
        for (key, value) in &spec.env {
            args.extend(["--env".into(), format!("{key}={value}")]);
        }
        for (host, inside) in &spec.mounts {
            args.extend(["--volume".into(), format!("{}:{inside}:ro", host.display())]);
        }
        args.push(spec.image.clone());
        if spec.ipv6_only {
            args.extend(
                [
                    "/bin/sh",
                    "-c",
                    r#"ip -4 addr flush dev eth0 && exec "$@""#,
                    "sh",
                ]
                .map(String::from),
            );
        }
        args.extend(spec.command.iter().cloned());
        docker.run(&args)?;
        Ok(Container {
            docker: docker.clone(),
            name: spec.name.clone(),
            address,
            aliases: spec.aliases.clone(),
        })
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its address on the network (`None` when it shares another's).
    pub fn address(&self) -> Option<Ipv4Addr> {
        self.address
    }

    /// Runs a command inside it (`docker exec`) and returns its stdout.
    pub fn exec(&self, command: &[&str]) -> Result<String, ContainerError> {
        self.docker.run(
            ["exec", self.name.as_str()]
                .into_iter()
                .chain(command.iter().copied()),
        )
    }

    /// Runs a command inside it (`docker exec`) and returns the command's
    /// exit status and both streams, whether it succeeded or not.
    pub fn exec_output(&self, command: &[&str]) -> Result<std::process::Output, ContainerError> {
        self.docker.output(
            ["exec", self.name.as_str()]
                .into_iter()
                .chain(command.iter().copied()),
        )
    }

    /// Whether its main process still runs.
    pub fn is_running(&self) -> bool {
        self.docker
            .run(["inspect", "--format", "{{.State.Running}}", &self.name])
            .is_ok_and(|state| state == "true")
    }

    /// Its output so far (stdout and stderr), for failure messages.
    pub fn logs(&self) -> String {
        match self.docker.run_both(["logs", "--tail", "50", &self.name]) {
            Ok(logs) => logs,
            Err(err) => err.to_string(),
        }
    }

    /// Waits until its main process exits and returns the exit code.
    pub fn wait(&self) -> Result<i64, ContainerError> {
        let code = self.docker.run(["wait", &self.name])?;
        code.parse().map_err(|_| ContainerError::Docker {
            args: format!("wait {}", self.name),
            status: "unexpected output".to_owned(),
            stderr: code,
        })
    }

    /// Its whole output (stdout and stderr).
    pub fn full_logs(&self) -> Result<String, ContainerError> {
        self.docker.run_both(["logs", &self.name])
    }

    /// Sends SIGKILL to its main process: the host dies without a word.
    pub fn kill(&self) -> Result<(), ContainerError> {
        self.docker
            .run(["kill", "--signal", "KILL", &self.name])
            .map(drop)
    }

    /// Starts it again after it stopped, with the same name, address and
    /// command: a new incarnation of the same host.
    pub fn restart(&self) -> Result<(), ContainerError> {
        self.docker.run(["start", &self.name]).map(drop)
    }

    /// Cuts it off `network` (a netsplit): its sockets stay open but no
    /// packet passes.
    pub fn disconnect(&self, network: &Network) -> Result<(), ContainerError> {
        self.docker
            .run(["network", "disconnect", network.name(), &self.name])
            .map(drop)
    }

    /// Attaches it to `network` again at its old address and DNS names
    /// (heals a netsplit).
    pub fn reconnect(&self, network: &Network) -> Result<(), ContainerError> {
        let mut args = vec!["network".to_owned(), "connect".to_owned()];
        if let Some(address) = self.address {
            args.extend(["--ip".to_owned(), address.to_string()]);
        }
        for alias in &self.aliases {
            args.extend(["--alias".to_owned(), alias.clone()]);
        }
        args.extend([network.name().to_owned(), self.name.clone()]);
        self.docker.run(&args).map(drop)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.docker.run(["rm", "-f", "-v", &self.name]);
    }
}
