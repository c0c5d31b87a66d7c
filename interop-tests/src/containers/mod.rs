//! Erlang nodes in containers: each a host of its own on a private Docker
//! network, for the cluster scenarios (netsplits, killed hosts, slow links)
//! that processes on one machine cannot show.
//!
//! - [`OtpImage`]: an image per OTP release, assembled from this host's
//!   install and cached by a fingerprint of its inputs (or an official
//!   `erlang:NN` image named in the environment).
//! - [`Lab`]: one test's network, cookie, EPMD port and tick time; it starts
//!   [`ErlNode`]s and builds the Rust node that joins them from the test
//!   process. Dropping it removes everything it started.
//! - [`Impairment`]: latency, bandwidth limits and loss on a container's link.
//! - [`Docker`]: the CLI front the rest is built on.
//!
//! ```no_run
//! use interop_tests::containers::{Lab, ECHO};
//! use interop_tests::Otp;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let lab = Lab::new("demo")?;
//! let erl = lab.start_erl(&Otp::v28(), "erl1")?;
//! let node = lab.rust_node("rust").start().await?;
//! node.ping(erl.node()).await?;
//! let me = node.spawn_process()?;
//! me.send((ECHO, erl.node()), etf::Term::tuple(vec![me.pid().clone().into(), "hi".into()]))?;
//! # Ok(()) }
//! ```
//!
//! See `CONTAINERS.md` at the repository root for the topology and the
//! scenarios.

mod container;
mod docker;
mod erl_node;
mod error;
mod image;
mod impairment;
mod lab;
mod network;
mod rootfs;

pub use container::{Container, ContainerSpec};
pub use docker::{Docker, OWNER_LABEL};
pub use erl_node::{ErlNode, ErlSetup, ECHO};
pub use error::ContainerError;
pub use image::{OtpImage, IMAGE_REPOSITORY};
pub use impairment::{dropped_packets, Impairment, Method as ImpairmentMethod};
pub use lab::{Lab, DEFAULT_TICK_TIME, PROGRAM_DIR};
pub use network::Network;
