//! A slow, lossy link for one container: `tc netem` where the kernel has
//! it, otherwise a `tbf` bandwidth limit with `iptables` random drops.

use std::time::Duration;

use super::{Container, ContainerError};

/// What to do to a container's traffic (both directions for loss, the
/// outgoing side for delay and rate). Needs a container started with
/// `NET_ADMIN`, as every lab container is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impairment {
    /// Added one-way delay (netem only).
    pub delay: Duration,
    /// Random variation of the delay (netem only).
    pub jitter: Duration,
    /// Packets dropped, in percent (each direction).
    pub loss_percent: u32,
    /// Bandwidth limit in kbit/s for the fallback (queueing adds latency
    /// once a burst exceeds it).
    pub rate_kbit: u32,
}

/// The `iptables` chain holding the random-drop rule.
const LOSS_CHAIN: &str = "CNODE_LOSS";

/// How an [`Impairment`] was put in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `tc qdisc … netem delay … loss …`.
    Netem,
    /// No `sch_netem` in this kernel: `tc qdisc … tbf` for the rate and
    /// `iptables -m statistic` for the loss; the delay comes from queueing
    /// and from TCP retransmissions.
    TbfAndIptables,
}

impl Impairment {
    /// Applies it to `container`'s `eth0`, replacing an earlier one.
    pub fn apply(&self, container: &Container) -> Result<Method, ContainerError> {
        let netem = container.exec(&[
            "tc",
            "qdisc",
            "replace",
            "dev",
            "eth0",
            "root",
            "netem",
            "delay",
            &format!("{}ms", self.delay.as_millis()),
            &format!("{}ms", self.jitter.as_millis()),
            "loss",
            &format!("{}%", self.loss_percent),
        ]);
        match netem {
            Ok(_) => return Ok(Method::Netem),
            Err(ContainerError::Docker { stderr, .. })
                if stderr.contains("qdisc kind is unknown") => {}
            Err(err) => return Err(err),
        }
        container.exec(&[
            "tc",
            "qdisc",
            "replace",
            "dev",
            "eth0",
            "root",
            "tbf",
            "rate",
            &format!("{}kbit", self.rate_kbit.max(8)),
            "burst",
            "4kb",
            "latency",
            "500ms",
        ])?;
        // The drop rule lives in a chain of its own, flushed first, so that
        // applying again replaces it rather than adding a second one.
        let probability = format!("{:.4}", f64::from(self.loss_percent.min(100)) / 100.0);
        if container.exec(&["iptables", "-N", LOSS_CHAIN]).is_err() {
            container.exec(&["iptables", "-F", LOSS_CHAIN])?;
        }
        container.exec(&[
            "iptables",
            "-A",
            LOSS_CHAIN,
            "-m",
            "statistic",
            "--mode",
            "random",
            "--probability",
            &probability,
            "-j",
            "DROP",
        ])?;
        for chain in ["INPUT", "OUTPUT"] {
            if container
                .exec(&["iptables", "-C", chain, "-j", LOSS_CHAIN])
                .is_err()
            {
                container.exec(&["iptables", "-A", chain, "-j", LOSS_CHAIN])?;
            }
        }
        Ok(Method::TbfAndIptables)
    }
}

/// How many packets the loss rule of [`Method::TbfAndIptables`] dropped so
/// far in `container` (both directions; an error when there is no such rule,
/// e.g. under netem).
pub fn dropped_packets(container: &Container) -> Result<u64, ContainerError> {
    let listing = container.exec(&["iptables", "-L", LOSS_CHAIN, "-v", "-n", "-x"])?;
    Ok(listing
        .lines()
        .filter(|line| line.contains("DROP"))
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum())
}
