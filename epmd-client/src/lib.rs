//! The EPMD protocol (Erlang Port Mapper Daemon): message codecs, an async
//! client and an embedded EPMD server.
//!
//! The message layer ([`Request`], the reply types, [`Registry`], [`Daemon`])
//! does no I/O. [`EpmdClient`] and [`EpmdServer`] drive it over tokio sockets.
//!
//! Register a node and keep it registered while the handle lives:
//!
//! ```no_run
//! # async fn demo() -> Result<(), epmd_client::ClientError> {
//! use epmd_client::{EpmdClient, NodeInfo, NodeType};
//!
//! let epmd = EpmdClient::from_env(); // localhost, ERL_EPMD_PORT or 4369
//! let registration = epmd.register(NodeInfo::new("rust", 40001, NodeType::HIDDEN)).await?;
//! let creation = registration.creation();
//! let peer = epmd.lookup("other").await?;
//! println!("creation {creation}, other listens on {}", peer.port);
//! drop(registration); // unregisters
//! # Ok(()) }
//! ```
//!
//! Run an EPMD in-process when none is running:
//!
//! ```no_run
//! # async fn demo() -> Result<(), epmd_client::ServerError> {
//! let server = epmd_client::EpmdServer::builder().port(4369).bind().await?;
//! let handle = server.spawn();
//! // ... register nodes against it ...
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod client;
mod daemon;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod listing;
mod node;
mod reader;
mod registry;
mod reply;
mod request;
mod server;

pub use client::{
    port_from_env, ClientError, EpmdClient, Registration, DEFAULT_MAX_REPLY_LEN, DEFAULT_PORT,
    DEFAULT_TIMEOUT,
};
pub use daemon::{Daemon, Outcome};
pub use error::{DecodeError, EncodeError};
pub use listing::{DumpEntry, DumpReply, DumpState, NameEntry, NamesReply};
pub use node::{NodeInfo, NodeType, MAX_NAME_BYTES, MAX_NAME_CHARS, PROTOCOL_TCP};
pub use registry::{ConnId, RegisterError, Registry, MAX_UNUSED};
pub use reply::{
    Alive2Reply, KillReply, PortPlease2Reply, StopReply, ALIVE2_RESP, ALIVE2_X_RESP, PORT2_RESP,
};
pub use request::{
    body_len, Request, ALIVE2_REQ, DUMP_REQ, KILL_REQ, MAX_REQUEST_LEN, NAMES_REQ,
    PORT_PLEASE2_REQ, STOP_REQ,
};
pub use server::{
    EpmdServer, EpmdServerBuilder, ServerError, ServerHandle, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT,
};
