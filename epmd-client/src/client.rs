//! An async EPMD client on tokio.

use std::io;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{DecodeError, EncodeError};
use crate::listing::{DumpReply, NamesReply};
use crate::node::NodeInfo;
use crate::reply::{Alive2Reply, KillReply, PortPlease2Reply, StopReply};
use crate::request::Request;

/// EPMD's well-known port.
pub const DEFAULT_PORT: u16 = 4369;

/// How long one request may take by default, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest reply accepted by default (NAMES and DUMP grow with the
/// number of nodes; a line is at most about 1 KiB).
pub const DEFAULT_MAX_REPLY_LEN: usize = 1 << 20;

/// What went wrong talking to EPMD.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No EPMD answers at the address (not running, wrong port, host unknown).
    #[error("cannot reach EPMD at {addr}: {source}")]
    Unreachable {
        /// `host:port`.
        addr: String,
        /// The connect or resolve error.
        source: io::Error,
    },
    /// The request did not complete in time.
    #[error("{request} to EPMD at {addr} timed out after {after:?}")]
    Timeout {
        /// The request kind, e.g. `NAMES_REQ`.
        request: &'static str,
        /// `host:port`.
        addr: String,
        /// The configured timeout.
        after: Duration,
    },
    /// Reading or writing failed after the connection was made.
    #[error("I/O error during {request} with EPMD at {addr}: {source}")]
    Io {
        /// The request kind.
        request: &'static str,
        /// `host:port`.
        addr: String,
        /// The error.
        source: io::Error,
    },
    /// The reply could not be decoded (malformed or truncated).
    #[error("bad reply to {request} from EPMD at {addr}: {source}")]
    BadReply {
        /// The request kind.
        request: &'static str,
        /// `host:port`.
        addr: String,
        /// What is wrong with it.
        source: DecodeError,
    },
    /// The reply is longer than the configured limit.
    #[error("reply to {request} from EPMD at {addr} exceeds {max} bytes")]
    ReplyTooLong {
        /// The request kind.
        request: &'static str,
        /// `host:port`.
        addr: String,
        /// The limit.
        max: usize,
    },
    /// EPMD closed the connection without a reply, which is how it refuses a
    /// command (ALIVE2, DUMP, KILL and STOP only from loopback; STOP only
    /// with `-relaxed_command_check`).
    #[error("EPMD at {addr} closed the connection without replying to {request} (refused)")]
    NoReply {
        /// The request kind.
        request: &'static str,
        /// `host:port`.
        addr: String,
    },
    /// Registration failed because a live node already uses the name (EPMD's
    /// result 1, which it also gives for an invalid registration).
    #[error("EPMD at {addr} refused to register {name:?}: name already taken")]
    NameTaken {
        /// The name.
        name: String,
        /// `host:port`.
        addr: String,
    },
    /// Registration failed with a result other than 0 or 1.
    #[error("EPMD at {addr} refused to register {name:?} with result {result}")]
    RegisterRefused {
        /// The name.
        name: String,
        /// `host:port`.
        addr: String,
        /// The result byte.
        result: u8,
    },
    /// No node of that name is registered.
    #[error("no node {name:?} is registered with EPMD at {addr}")]
    UnknownNode {
        /// The name looked up.
        name: String,
        /// `host:port`.
        addr: String,
    },
    /// The request could not be encoded (e.g. an invalid node name).
    #[error("cannot encode {request}: {source}")]
    Encode {
        /// The request kind.
        request: &'static str,
        /// Why.
        source: EncodeError,
    },
}

/// A client for one EPMD, addressed by host and port. Each call opens its
/// own connection, as EPMD closes it after each reply.
#[derive(Debug, Clone)]
pub struct EpmdClient {
    host: String,
    port: u16,
    timeout: Duration,
    max_reply_len: usize,
}

impl EpmdClient {
    /// A client for the EPMD at `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        EpmdClient {
            host: host.into(),
            port,
            timeout: DEFAULT_TIMEOUT,
            max_reply_len: DEFAULT_MAX_REPLY_LEN,
        }
    }

    /// The local EPMD as OTP finds it: host `localhost`, port from
    /// `ERL_EPMD_PORT` or 4369.
    pub fn from_env() -> Self {
        EpmdClient::new("localhost", port_from_env())
    }

    /// Sets how long each request may take, connecting included.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the largest reply accepted.
    pub fn with_max_reply_len(mut self, max: usize) -> Self {
        self.max_reply_len = max;
        self
    }

    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Registers `node` (ALIVE2_REQ). The returned [`Registration`] holds the
    /// connection: the node stays registered until it is dropped. Either
    /// reply form is accepted: ALIVE2_X_RESP (32-bit creation) when
    /// `highest_version >= 6`, ALIVE2_RESP (16-bit) otherwise.
    pub async fn register(&self, node: NodeInfo) -> Result<Registration, ClientError> {
        let name = node.name.clone();
        let request = Request::Alive2(node);
        let kind = request.kind();
        self.within(kind, async {
            let mut stream = self.connect().await?;
            self.send(&mut stream, &request).await?;
            let mut buf = Vec::with_capacity(8);
            let reply = loop {
                let mut chunk = [0u8; 8];
                let n = stream
                    .read(&mut chunk)
                    .await
                    .map_err(|source| self.io_error(kind, source))?;
                buf.extend_from_slice(&chunk[..n]);
                match Alive2Reply::decode(&buf) {
                    Ok(reply) => break reply,
                    Err(e) if e.is_incomplete() && n > 0 => continue,
                    Err(_) if buf.is_empty() => return Err(self.no_reply(kind)),
                    Err(source) => return Err(self.bad_reply(kind, source)),
                }
            };
            match reply.result() {
                0 => Ok(Registration {
                    stream,
                    name,
                    reply,
                }),
                1 => Err(ClientError::NameTaken {
                    name,
                    addr: self.addr(),
                }),
                result => Err(ClientError::RegisterRefused {
                    name,
                    addr: self.addr(),
                    result,
                }),
            }
        })
        .await
    }

    /// Looks a node up (PORT_PLEASE2_REQ).
    pub async fn lookup(&self, name: &str) -> Result<NodeInfo, ClientError> {
        let request = Request::PortPlease2 { name: name.into() };
        let bytes = self.query(&request).await?;
        match PortPlease2Reply::decode(&bytes) {
            Ok(PortPlease2Reply::Found(node)) => Ok(node),
            Ok(PortPlease2Reply::NotFound { .. }) => Err(ClientError::UnknownNode {
                name: name.into(),
                addr: self.addr(),
            }),
            Err(source) => Err(self.bad_reply(request.kind(), source)),
        }
    }

    /// Lists the registered nodes (NAMES_REQ).
    pub async fn names(&self) -> Result<NamesReply, ClientError> {
        self.query_decode(&Request::Names, NamesReply::decode).await
    }

    /// Asks for EPMD's debugging dump (DUMP_REQ; loopback only).
    pub async fn dump(&self) -> Result<DumpReply, ClientError> {
        self.query_decode(&Request::Dump, DumpReply::decode).await
    }

    /// Asks EPMD to exit (KILL_REQ; loopback only). It refuses with
    /// [`KillReply::Refused`] while nodes are registered, unless it runs
    /// with the relaxed command check.
    pub async fn kill(&self) -> Result<KillReply, ClientError> {
        self.query_decode(&Request::Kill, KillReply::decode).await
    }

    /// Forcibly unregisters `name` (STOP_REQ; loopback only, and only
    /// accepted with the relaxed command check, otherwise
    /// [`ClientError::NoReply`]).
    pub async fn stop(&self, name: &str) -> Result<StopReply, ClientError> {
        self.query_decode(&Request::Stop { name: name.into() }, StopReply::decode)
            .await
    }

    async fn query_decode<T>(
        &self,
        request: &Request,
        decode: fn(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<T, ClientError> {
        let bytes = self.query(request).await?;
        decode(&bytes).map_err(|source| self.bad_reply(request.kind(), source))
    }

    /// Sends `request` and reads the reply up to EOF.
    async fn query(&self, request: &Request) -> Result<Vec<u8>, ClientError> {
        let kind = request.kind();
        self.within(kind, async {
            let mut stream = self.connect().await?;
            self.send(&mut stream, request).await?;
            let mut reply = Vec::new();
            let limit = u64::try_from(self.max_reply_len)
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            (&mut stream)
                .take(limit)
                .read_to_end(&mut reply)
                .await
                .map_err(|source| self.io_error(kind, source))?;
            if reply.len() > self.max_reply_len {
                return Err(ClientError::ReplyTooLong {
                    request: kind,
                    addr: self.addr(),
                    max: self.max_reply_len,
                });
            }
            if reply.is_empty() {
                return Err(self.no_reply(kind));
            }
            Ok(reply)
        })
        .await
    }

    async fn within<T>(
        &self,
        request: &'static str,
        work: impl std::future::Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Timeout {
                    request,
                    addr: self.addr(),
                    after: self.timeout,
                })
            })
    }

    async fn connect(&self) -> Result<TcpStream, ClientError> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| ClientError::Unreachable {
                addr: self.addr(),
                source,
            })?;
        // Requests are small and sent in one write; do not delay them.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    async fn send(&self, stream: &mut TcpStream, request: &Request) -> Result<(), ClientError> {
        let mut frame = Vec::new();
        request
            .encode_frame(&mut frame)
            .map_err(|source| ClientError::Encode {
                request: request.kind(),
                source,
            })?;
        stream
            .write_all(&frame)
            .await
            .map_err(|source| self.io_error(request.kind(), source))
    }

    fn io_error(&self, request: &'static str, source: io::Error) -> ClientError {
        ClientError::Io {
            request,
            addr: self.addr(),
            source,
        }
    }

    fn bad_reply(&self, request: &'static str, source: DecodeError) -> ClientError {
        ClientError::BadReply {
            request,
            addr: self.addr(),
            source,
        }
    }

    fn no_reply(&self, request: &'static str) -> ClientError {
        ClientError::NoReply {
            request,
            addr: self.addr(),
        }
    }
}

impl Default for EpmdClient {
    fn default() -> Self {
        EpmdClient::from_env()
    }
}

/// The EPMD port from `ERL_EPMD_PORT`, or 4369 when it is unset or not a
/// port number.
pub fn port_from_env() -> u16 {
    std::env::var("ERL_EPMD_PORT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_PORT)
}

/// A live registration with EPMD. The node stays registered as long as this
/// value (and its connection) lives; dropping it unregisters the node.
#[derive(Debug)]
pub struct Registration {
    stream: TcpStream,
    name: String,
    reply: Alive2Reply,
}

impl Registration {
    /// The creation EPMD assigned; use it in the handshake and in every pid,
    /// reference and port the node creates.
    pub fn creation(&self) -> u32 {
        self.reply.creation()
    }

    /// The registered name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The reply EPMD sent, showing which form (32- or 16-bit creation) it used.
    pub fn reply(&self) -> Alive2Reply {
        self.reply
    }

    /// Resolves when the registration is gone: EPMD closed or reset the
    /// connection (it was stopped, killed or crashed) or wrote on it, which
    /// the protocol never does. Nothing is ever written on it by this side.
    pub async fn closed(&mut self) {
        let mut byte = [0u8; 1];
        // Any outcome (EOF, an error, or unexpected data) ends the registration.
        let _ = self.stream.read(&mut byte).await;
    }

    /// Unregisters the node by closing the connection (the same as dropping).
    pub fn unregister(self) {}
}
