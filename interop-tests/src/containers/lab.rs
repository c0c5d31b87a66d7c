//! One test's world: a private network, the `erl` hosts on it, and the
//! settings they share with the Rust node of the test process.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Duration;

use super::{
    Container, ContainerError, ContainerSpec, Docker, ErlNode, ErlSetup, Network, OtpImage,
};
use crate::Otp;

/// The `net_ticktime` of a lab unless set otherwise: short, so that the
/// nodedown scenarios finish in seconds.
pub const DEFAULT_TICK_TIME: Duration = Duration::from_secs(4);

/// Where [`Lab::start_program`] mounts a host program inside its container.
pub const PROGRAM_DIR: &str = "/opt/cnode/bin";

/// A test's private network with its containers, one cookie, one EPMD port
/// (every host's EPMD, and the Rust node's, listens on it) and one
/// `net_ticktime`.
///
/// Every BEAM node runs in a container of its own, with a long name. The
/// Rust node runs in the test process, in one of two places:
/// - on the host, named `alive@<gateway>` where the gateway is the host's
///   address on the network ([`Lab::rust_node`]); BEAM nodes are then named
///   `alive@<their address>`, since the host cannot resolve container names;
/// - in a container of its own ([`Lab::run_test_inside`]), where every node
///   is named by a host name (`alive@alive.<network>`) that Docker's
///   resolver answers.
///
/// Dropping the lab removes its containers and the network, whether the
/// test passed or not.
#[derive(Debug)]
pub struct Lab {
    // The network's guard removes every container of the lab before the
    // network itself, whatever order the test's values drop in.
    network: Network,
    docker: Docker,
    epmd_port: u16,
    cookie: String,
    tick_time: Duration,
    /// Whether this process runs inside a container of the lab (see
    /// [`Lab::run_test_inside`]); then nodes are named by host name.
    inside: bool,
}

impl Lab {
    /// A lab for the test called `test` (used in network and container
    /// names), with [`DEFAULT_TICK_TIME`]. Inside a container started by
    /// [`Lab::run_test_inside`], the lab of the test process that started it.
    pub fn new(test: &str) -> Result<Lab, ContainerError> {
        if inside() {
            return Lab::from_env();
        }
        let docker = Docker::new();
        let network = Network::create(&docker, test)?;
        Ok(Lab::on(docker, network))
    }

    /// A lab for `test` whose network has IPv6 too
    /// ([`Network::create_ipv6`]), for IPv6-only hosts
    /// ([`Lab::start_erl_ipv6_only`], [`Lab::start_program_ipv6_only`]).
    /// Runs in the test process only (not with [`Lab::run_test_inside`]).
    pub fn new_ipv6(test: &str) -> Result<Lab, ContainerError> {
        let docker = Docker::new();
        let network = Network::create_ipv6(&docker, test)?;
        Ok(Lab::on(docker, network))
    }

    /// A lab of this process on `network`.
    fn on(docker: Docker, network: Network) -> Lab {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.subsec_nanos())
            .unwrap_or(0);
        Lab {
            cookie: format!("cnode-{}-{nanos}", std::process::id()),
            epmd_port: crate::local::free_port().unwrap_or(43690),
            tick_time: DEFAULT_TICK_TIME,
            network,
            docker,
            inside: false,
        }
    }

    /// The lab described by the environment [`Lab::run_test_inside`] sets.
    fn from_env() -> Result<Lab, ContainerError> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| ContainerError::Environment {
                name: name.to_owned(),
                problem: "missing",
            })
        };
        let number = |name: &str| -> Result<u64, ContainerError> {
            var(name)?.parse().map_err(|_| ContainerError::Environment {
                name: name.to_owned(),
                problem: "not a number",
            })
        };
        let subnet: Vec<u8> = var(env::SUBNET)?
            .split('.')
            .filter_map(|part| part.parse().ok())
            .collect();
        let subnet = <[u8; 3]>::try_from(subnet).map_err(|_| ContainerError::Environment {
            name: env::SUBNET.to_owned(),
            problem: "not three bytes a.b.c",
        })?;
        let docker = Docker::new();
        Ok(Lab {
            network: Network::attach(&docker, &var(env::NETWORK)?, subnet, INSIDE_FIRST_HOST),
            epmd_port: u16::try_from(number(env::EPMD_PORT)?).map_err(|_| {
                ContainerError::Environment {
                    name: env::EPMD_PORT.to_owned(),
                    problem: "not a port",
                }
            })?,
            cookie: var(env::COOKIE)?,
            tick_time: Duration::from_secs(number(env::TICK_SECS)?),
            docker,
            inside: true,
        })
    }

    /// Whether this process runs inside one of the lab's containers.
    pub fn is_inside(&self) -> bool {
        self.inside
    }

    /// Runs the test `test` (its libtest name, `module::function`) of this
    /// test binary again, inside a container of the lab that holds the Rust
    /// node: the binary, the `docker` client and socket, and the OTP roots
    /// are mounted at their host paths, and the lab's settings and images
    /// are passed in the environment. There [`Lab::new`] returns this lab,
    /// and nodes are named by host names that Docker's resolver answers:
    /// `alive@alive.<network>` for BEAM nodes, `alive@rust.<network>` for
    /// the Rust node. Returns the container's exit code and output.
    pub fn run_test_inside(&self, test: &str) -> Result<(i64, String), ContainerError> {
        let missing = |what: &str| ContainerError::MissingTool {
            tool: what.to_owned(),
        };
        let binary = std::env::current_exe().map_err(|source| ContainerError::Rootfs {
            path: "/proc/self/exe".into(),
            source,
        })?;
        let client = self.docker.executable().ok_or_else(|| missing("docker"))?;
        let runner = self.image(&Otp::v25())?;
        let [a, b, c] = self.network.subnet();
        let mut spec = self.container_spec("rust", &runner);
        spec.aliases.push(self.host_name("rust"));
        spec.env.extend([
            (env::NETWORK.to_owned(), self.network.name().to_owned()),
            (env::SUBNET.to_owned(), format!("{a}.{b}.{c}")),
            (env::EPMD_PORT.to_owned(), self.epmd_port.to_string()),
            (env::COOKIE.to_owned(), self.cookie.clone()),
            (
                env::TICK_SECS.to_owned(),
                self.tick_time.as_secs().to_string(),
            ),
            (env::OWNER.to_owned(), super::docker::owner()),
            ("RUST_BACKTRACE".to_owned(), "1".to_owned()),
        ]);
        for otp in Otp::all() {
            spec.env
                .push((image_var(otp.release), self.image(&otp)?.tag));
            // `Otp` finds the OTP 28 root under `$HOME`, which differs inside.
            spec.env.push((
                format!("CNODE_OTP{}", otp.release),
                otp.root.to_string_lossy().into_owned(),
            ));
            spec.mounts
                .push((otp.root.clone(), otp.root.to_string_lossy().into_owned()));
        }
        for path in [binary.clone(), DOCKER_SOCKET.into()] {
            let inside = path.to_string_lossy().into_owned();
            spec.mounts.push((path, inside));
        }
        spec.mounts.push((client, DOCKER_INSIDE.to_owned()));
        spec.env
            .push(("DOCKER".to_owned(), DOCKER_INSIDE.to_owned()));
        spec.command = vec![
            binary.to_string_lossy().into_owned(),
            "--exact".into(),
            test.into(),
            "--nocapture".into(),
            "--test-threads".into(),
            "1".into(),
        ];
        let container = Container::start(&self.docker, &self.network, &spec)?;
        let code = container.wait()?;
        Ok((code, container.full_logs()?))
    }

    /// The DNS name of the lab host called `alive` (`alive.<network>`).
    pub fn host_name(&self, alive: &str) -> String {
        format!("{alive}.{}", self.network.name())
    }

    /// Sets the `net_ticktime` (whole seconds) of the nodes started after this.
    pub fn with_tick_time(mut self, tick_time: Duration) -> Lab {
        self.tick_time = tick_time.max(Duration::from_secs(1));
        self
    }

    /// The Docker client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The lab's network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The EPMD port of every host in the lab.
    pub fn epmd_port(&self) -> u16 {
        self.epmd_port
    }

    /// The cookie every node shares.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// The `net_ticktime` of every node.
    pub fn tick_time(&self) -> Duration {
        self.tick_time
    }

    /// The image for `otp` (built on first use, see [`OtpImage::for_otp`]).
    pub fn image(&self, otp: &Otp) -> Result<OtpImage, ContainerError> {
        OtpImage::for_otp(&self.docker, otp)
    }

    /// Starts `alive@<address>` on `otp` in a container of its own, with its
    /// own EPMD. It runs the echo process [`ECHO`](super::ECHO).
    pub fn start_erl(&self, otp: &Otp, alive: &str) -> Result<ErlNode, ContainerError> {
        ErlNode::start(self, &self.image(otp)?, alive)
    }

    /// Starts `alive` on `otp` in a container of its own as `setup` says
    /// (a short name, no EPMD, more arguments, mounts), with the echo
    /// process [`ECHO`](super::ECHO).
    pub fn start_erl_with(
        &self,
        otp: &Otp,
        alive: &str,
        setup: &ErlSetup,
    ) -> Result<ErlNode, ContainerError> {
        ErlNode::start_with(self, &self.image(otp)?, alive, setup)
    }

    /// Starts `alive@<IPv6 address>` on `otp` in a container of its own with
    /// no IPv4 address but loopback, as an `inet6_tcp` node
    /// (`-proto_dist inet6_tcp`) with its own EPMD; the lab must have IPv6
    /// ([`Lab::new_ipv6`]).
    pub fn start_erl_ipv6_only(&self, otp: &Otp, alive: &str) -> Result<ErlNode, ContainerError> {
        ErlNode::start_ipv6_only(self, &self.image(otp)?, alive)
    }

    /// Starts `alive@<host's address>` on `otp` inside `host`'s network
    /// namespace without an EPMD of its own: `host` must serve one on
    /// [`Lab::epmd_port`].
    pub fn start_erl_beside(
        &self,
        otp: &Otp,
        alive: &str,
        host: &Container,
    ) -> Result<ErlNode, ContainerError> {
        ErlNode::start_beside(self, &self.image(otp)?, alive, host)
    }

    /// Runs a program of this host in a container named after `name`, on
    /// `otp`'s image (which carries the host's C library): the program is
    /// mounted read-only under [`PROGRAM_DIR`] and started with `args`.
    pub fn start_program(
        &self,
        otp: &Otp,
        name: &str,
        program: &Path,
        args: &[String],
    ) -> Result<Container, ContainerError> {
        let spec = self.program_spec(otp, name, program, args)?;
        Container::start(&self.docker, &self.network, &spec)
    }

    /// As [`Lab::start_program`], in a container with no IPv4 address but
    /// loopback; the lab must have IPv6 ([`Lab::new_ipv6`]). The arguments
    /// are made from the container's IPv6 address (to name a node after
    /// it). Returns the container and that address.
    pub fn start_program_ipv6_only(
        &self,
        otp: &Otp,
        name: &str,
        program: &Path,
        args: impl FnOnce(Ipv6Addr) -> Vec<String>,
    ) -> Result<(Container, Ipv6Addr), ContainerError> {
        let address = self.network.allocate_address()?;
        let ipv6 = self.ipv6_of(address)?;
        let mut spec = self.program_spec(otp, name, program, &args(ipv6))?;
        spec.address = Some(address);
        spec.ipv6_only = true;
        let container = Container::start(&self.docker, &self.network, &spec)?;
        Ok((container, ipv6))
    }

    /// The IPv6 address that goes with `address` on the lab's network.
    pub(crate) fn ipv6_of(&self, address: Ipv4Addr) -> Result<Ipv6Addr, ContainerError> {
        self.network
            .ipv6_of(address)
            .ok_or_else(|| ContainerError::NoIpv6 {
                network: self.network.name().to_owned(),
            })
    }

    /// The spec of the container [`Lab::start_program`] starts, for a test
    /// to add mounts or aliases to before [`Container::start`].
    pub fn program_spec(
        &self,
        otp: &Otp,
        name: &str,
        program: &Path,
        args: &[String],
    ) -> Result<ContainerSpec, ContainerError> {
        let image = self.image(otp)?;
        let file_name = program
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "program".to_owned());
        let inside = format!("{PROGRAM_DIR}/{file_name}");
        let mut spec = self.container_spec(name, &image);
        spec.mounts.push((program.to_path_buf(), inside.clone()));
        spec.command = std::iter::once(inside)
            .chain(args.iter().cloned())
            .collect();
        Ok(spec)
    }

    /// The name for a Rust node in this process: `alive@<gateway>` on the
    /// host, `alive@rust.<network>` inside the lab's container.
    pub fn rust_node_name(&self, alive: &str) -> String {
        if self.inside {
            format!("{alive}@{}", self.host_name("rust"))
        } else {
            format!("{alive}@{}", self.network.gateway())
        }
    }

    /// A builder for a Rust node in this process, reachable from the
    /// containers: named [`Lab::rust_node_name`], listening on the gateway
    /// address (on the host) or every address (inside), with the lab's
    /// cookie, EPMD port and tick time. Its EPMD is the one embedded in the
    /// node (nothing else listens on the lab's port where it runs).
    pub fn rust_node(&self, alive: &str) -> cnode::NodeBuilder {
        let listen = if self.inside {
            Ipv4Addr::UNSPECIFIED
        } else {
            self.network.gateway()
        };
        cnode::Node::builder(self.rust_node_name(alive))
            .cookie(&self.cookie)
            .epmd_port(self.epmd_port)
            .net_ticktime(self.tick_time)
            .listen_address(IpAddr::V4(listen))
    }

    /// The host part of the name of a BEAM node started at `address`: its
    /// DNS name inside the lab's container, its address on the host.
    pub(crate) fn erl_host(&self, alive: &str, address: Ipv4Addr) -> String {
        if self.inside {
            self.host_name(alive)
        } else {
            address.to_string()
        }
    }

    /// The common part of every container spec of this lab.
    pub(crate) fn container_spec(&self, name: &str, image: &OtpImage) -> ContainerSpec {
        ContainerSpec {
            image: image.tag.clone(),
            name: format!("{}-{name}", self.network.name()),
            env: vec![
                ("ERL_EPMD_PORT".into(), self.epmd_port.to_string()),
                ("HOME".into(), "/tmp".into()),
            ],
            net_admin: true,
            ..ContainerSpec::default()
        }
    }
}

/// The Docker engine's socket, mounted into a lab container that runs tests.
const DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// Where the `docker` client is mounted in a lab container that runs tests.
const DOCKER_INSIDE: &str = "/usr/bin/docker";

/// Inside, addresses for new containers start here, above those the test
/// process on the host hands out.
const INSIDE_FIRST_HOST: u8 = 100;

/// The environment by which [`Lab::run_test_inside`] describes the lab.
pub(crate) mod env {
    /// The network's name; its presence means "inside".
    pub(crate) const NETWORK: &str = "CNODE_LAB_NETWORK";
    /// The subnet's first three bytes, `10.213.x`.
    pub(crate) const SUBNET: &str = "CNODE_LAB_SUBNET";
    /// The lab's EPMD port.
    pub(crate) const EPMD_PORT: &str = "CNODE_LAB_EPMD_PORT";
    /// The lab's cookie.
    pub(crate) const COOKIE: &str = "CNODE_LAB_COOKIE";
    /// The lab's `net_ticktime` in seconds.
    pub(crate) const TICK_SECS: &str = "CNODE_LAB_TICK_SECS";
    /// The pid of the test process on the host (the owner label's value).
    pub(crate) const OWNER: &str = "CNODE_LAB_OWNER";
}

/// Whether this process runs inside a lab's container.
pub(crate) fn inside() -> bool {
    std::env::var_os(env::NETWORK).is_some()
}

/// The variable naming the image for an OTP release (see [`OtpImage::for_otp`]).
pub(crate) fn image_var(release: u32) -> String {
    format!("CNODE_CONTAINER_IMAGE_OTP{release}")
}
