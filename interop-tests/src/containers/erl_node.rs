//! An `erl` node in a container of its own, with a long name.

use super::{Container, ContainerError, ContainerSpec, Lab, OtpImage};

/// The name every [`ErlNode`] registers its echo process under.
pub const ECHO: &str = "echo";

/// Registers [`ECHO`]: a process that answers `{From, Msg}` with
/// `From ! {echo, node(), Msg}`, in the order the messages came.
const START_ECHO: &str = "register(echo, spawn(fun Loop() -> \
     receive {From, Msg} -> From ! {echo, node(), Msg}, Loop() end end))";

/// A BEAM node running in a container, named `alive@address` (`-name`).
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
        let address = lab.network().allocate_address()?;
        let host = lab.erl_host(alive, address);
        let mut spec = lab.container_spec(alive, image);
        spec.address = Some(address);
        spec.aliases.push(lab.host_name(alive));
        spec.command = erl_command(lab, image, alive, &host, true, &[]);
        ErlNode::run(lab, image, &format!("{alive}@{host}"), &spec)
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
        spec.command = erl_command(
            lab,
            image,
            alive,
            &host,
            true,
            &["-proto_dist", "inet6_tcp"],
        );
        ErlNode::run(lab, image, &format!("{alive}@{host}"), &spec)
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
        let host = address.to_string();
        spec.command = erl_command(lab, image, alive, &host, false, &[]);
        ErlNode::run(lab, image, &format!("{alive}@{host}"), &spec)
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

/// `erl` as a long-named, non-interactive node with the lab's cookie and
/// tick time and `extra` arguments, running the echo process.
fn erl_command(
    lab: &Lab,
    image: &OtpImage,
    alive: &str,
    host: &str,
    start_epmd: bool,
    extra: &[&str],
) -> Vec<String> {
    let mut command: Vec<String> = vec![
        image.erl.clone(),
        "-noinput".into(),
        "-name".into(),
        format!("{alive}@{host}"),
        "-setcookie".into(),
        lab.cookie().to_owned(),
        "-kernel".into(),
        "net_ticktime".into(),
        lab.tick_time().as_secs().max(1).to_string(),
        "-start_epmd".into(),
        start_epmd.to_string(),
    ];
    command.extend(extra.iter().map(|arg| (*arg).to_owned()));
    command.extend(["-eval".into(), START_ECHO.into()]);
    command
}
