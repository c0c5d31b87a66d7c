//! An `erl` node in a container of its own, with a long name (or a short
//! one, see [`ErlSetup`]).

use std::path::PathBuf;

use super::{Container, ContainerError, ContainerSpec, Lab, OtpImage};

/// The name every [`ErlNode`] registers its echo process under.
pub const ECHO: &str = "echo";

/// Registers [`ECHO`]: a process that answers `{From, Msg}` with
/// `From ! {echo, node(), Msg}`, in the order the messages came.
const START_ECHO: &str = "register(echo, spawn(fun Loop() -> \
     receive {From, Msg} -> From ! {echo, node(), Msg}, Loop() end end))";

/// How [`Lab::start_erl_with`] starts an `erl`, beyond the cookie, tick
/// time and echo process every node of the lab has. The default is what
/// [`Lab::start_erl`] does: a long name, its own EPMD, no other arguments.
#[derive(Clone, Debug, Default)]
pub struct ErlSetup {
    short_name: bool,
    erl_epmd_port: Option<u16>,
    args: Vec<String>,
    mounts: Vec<(PathBuf, String)>,
}

impl ErlSetup {
    /// The default setup.
    pub fn new() -> ErlSetup {
        ErlSetup::default()
    }

    /// Names the node `alive@alive` (`-sname`), `alive` being a DNS alias
    /// of its container that Docker's resolver answers for the other
    /// containers of the lab (not for the host).
    pub fn short_name(mut self) -> ErlSetup {
        self.short_name = true;
        self
    }

    /// Without EPMD: `-start_epmd false -erl_epmd_port PORT`, the node
    /// listening on `port` and dialing every other node there.
    pub fn erl_epmd_port(mut self, port: u16) -> ErlSetup {
        self.erl_epmd_port = Some(port);
        self
    }

    /// Adds `erl` arguments (placed before the `-eval` of the echo process).
    pub fn args<I, S>(mut self, args: I) -> ErlSetup
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Mounts the host file or directory `host` read-only at `inside`.
    pub fn mount(mut self, host: impl Into<PathBuf>, inside: impl Into<String>) -> ErlSetup {
        self.mounts.push((host.into(), inside.into()));
        self
    }
}

/// A BEAM node running in a container, named `alive@address` (`-name`), or
/// as an [`ErlSetup`] says.
#[derive(Debug)]
pub struct ErlNode {
    container: Container,
    node: String,
    release: u32,
}

impl ErlNode {
    /// Starts `erl` in a container at a fresh address of the lab's network,
    /// with its own EPMD (on the lab's EPMD port).
    pub(crate) fn start(
        lab: &Lab,
        image: &OtpImage,
        alive: &str,
    ) -> Result<ErlNode, ContainerError> {
        ErlNode::start_with(lab, image, alive, &ErlSetup::default())
    }

    /// [`ErlNode::start`] as `setup` says.
    pub(crate) fn start_with(
        lab: &Lab,
        image: &OtpImage,
        alive: &str,
        setup: &ErlSetup,
    ) -> Result<ErlNode, ContainerError> {
        let address = lab.network().allocate_address()?;
        let mut spec = lab.container_spec(alive, image);
        spec.address = Some(address);
        spec.aliases.push(lab.host_name(alive));
        let name = if setup.short_name {
            spec.aliases.push(alive.to_owned());
            Name::Short(format!("{alive}@{alive}"))
        } else {
            Name::Long(format!("{alive}@{}", lab.erl_host(alive, address)))
        };
        spec.mounts.extend(setup.mounts.iter().cloned());
        let mut extra = setup.args.clone();
        if let Some(port) = setup.erl_epmd_port {
            extra.extend(["-erl_epmd_port".to_owned(), port.to_string()]);
        }
        let start_epmd = setup.erl_epmd_port.is_none();
        spec.command = erl_command(lab, image, &name, start_epmd, &extra);
        ErlNode::run(lab, image, name.full(), &spec)
    }

    /// Starts `erl -proto_dist inet6_tcp` named `alive@<IPv6 address>` in a
    /// container without an IPv4 address (but loopback), with its own EPMD.
    pub(crate) fn start_ipv6_only(
        lab: &Lab,
        image: &OtpImage,
        alive: &str,
    ) -> Result<ErlNode, ContainerError> {
        let address = lab.network().allocate_address()?;
        let host = lab.ipv6_of(address)?.to_string();
        let mut spec = lab.container_spec(alive, image);
        spec.address = Some(address);
        spec.ipv6_only = true;
        let name = Name::Long(format!("{alive}@{host}"));
        let extra = ["-proto_dist", "inet6_tcp"].map(String::from);
        spec.command = erl_command(lab, image, &name, true, &extra);
        ErlNode::run(lab, image, name.full(), &spec)
    }

    /// Starts `erl` inside the network namespace of `host` (which must run
    /// an EPMD on the lab's port), without an EPMD of its own
    /// (`-start_epmd false`): the node registers with whatever serves there.
    pub(crate) fn start_beside(
        lab: &Lab,
        image: &OtpImage,
        alive: &str,
        host: &Container,
    ) -> Result<ErlNode, ContainerError> {
        let address = host.address().ok_or_else(|| ContainerError::NoOwnAddress {
            container: host.name().to_owned(),
        })?;
        let mut spec = lab.container_spec(alive, image);
        spec.share_network_of = Some(host.name().to_owned());
        let name = Name::Long(format!("{alive}@{address}"));
        spec.command = erl_command(lab, image, &name, false, &[]);
        ErlNode::run(lab, image, name.full(), &spec)
    }

    fn run(
        lab: &Lab,
        image: &OtpImage,
        node: &str,
        spec: &ContainerSpec,
    ) -> Result<ErlNode, ContainerError> {
        let container = Container::start(lab.docker(), lab.network(), spec)?;
        Ok(ErlNode {
            container,
            node: node.to_owned(),
            release: image.release,
        })
    }

    /// The node name: `alive@10.213.x.y`, or `alive@alive.<network>` when
    /// the Rust node runs inside the lab.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The OTP release it runs.
    pub fn release(&self) -> u32 {
        self.release
    }

    /// The container it runs in.
    pub fn container(&self) -> &Container {
        &self.container
    }
}

/// A node's full name, `alive@host`, long (`-name`) or short (`-sname`).
enum Name {
    Long(String),
    Short(String),
}

impl Name {
    fn flag(&self) -> &'static str {
        match self {
            Name::Long(_) => "-name",
            Name::Short(_) => "-sname",
        }
    }

    fn full(&self) -> &str {
        match self {
            Name::Long(name) | Name::Short(name) => name,
        }
    }
}

/// `erl` as a named, non-interactive node with the lab's cookie and tick
/// time and `extra` arguments, running the echo process.
fn erl_command(
    lab: &Lab,
    image: &OtpImage,
    name: &Name,
    start_epmd: bool,
    extra: &[String],
) -> Vec<String> {
    let mut command: Vec<String> = vec![
        image.erl.clone(),
        "-noinput".into(),
        name.flag().into(),
        name.full().into(),
        "-setcookie".into(),
        lab.cookie().to_owned(),
        "-kernel".into(),
        "net_ticktime".into(),
        lab.tick_time().as_secs().max(1).to_string(),
        "-start_epmd".into(),
        start_epmd.to_string(),
    ];
    command.extend(extra.iter().cloned());
    command.extend(["-eval".into(), START_ECHO.into()]);
    command
}
