//! Connecting to a node: EPMD lookup, TCP connect, the initiator's
//! handshake, then the connection task.

use std::sync::Arc;
use std::time::Instant;

use dist_proto::{Established, HandshakeConfig, HandshakeError, Initiator, InitiatorEvent};
use epmd_client::{ClientError, EpmdClient};
use etf::Atom;
use tokio::net::TcpStream;

use crate::data::error::{ConnectError, UnreachableReason};
use crate::data::name::NodeName;
use crate::net::handshake::next_event;
use crate::runtime::core::Core;

/// Starts attempt `id` to connect to `node` on a task of its own.
pub(crate) fn start(core: &Arc<Core>, node: Atom, id: u64) {
    let task = core.tasks.spawn(run(Arc::clone(core), node.clone(), id));
    core.peers().set_dialer(&node, id, task.abort_handle());
}

async fn run(core: Arc<Core>, node: Atom, id: u64) {
    let mut shutdown = core.shutdown_signal();
    let setup = tokio::select! {
        result = setup(&core, &node) => result,
        _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => Err(Failure::Error(ConnectError::Shutdown)),
    };
    match setup {
        Ok((stream, established)) => {
            crate::net::driver::run(core, node, id, stream, established).await;
        }
        Err(Failure::Lost) => {
            tracing::debug!(%node, "our connect lost a simultaneous connect; waiting for the peer's");
            if !core.peers().dial_lost(&node, id) {
                return;
            }
            // If the peer's own attempt never comes, fail the waiters.
            let after = core.config.setup_time;
            tokio::select! {
                _ = tokio::time::sleep(after) => {}
                _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => return,
            }
            let err = ConnectError::Timeout {
                node: node.as_str().to_owned(),
                after,
            };
            let failed = core.peers().setup_failed(&node, None, &err);
            if failed {
                core.unreachable(&node);
            }
        }
        Err(Failure::Error(err)) => {
            tracing::info!(%node, %err, "connection setup failed");
            let failed = core.peers().setup_failed(&node, Some(id), &err);
            if failed {
                core.unreachable(&node);
            }
        }
    }
}

enum Failure {
    /// The peer answered `nok`: its own attempt to us wins.
    Lost,
    Error(ConnectError),
}

async fn setup(core: &Core, node: &Atom) -> Result<(TcpStream, Established), Failure> {
    let name = node.as_str();
    let parsed = NodeName::parse(name).map_err(|_| {
        Failure::Error(ConnectError::BadName {
            node: name.to_owned(),
        })
    })?;
    let epmd = EpmdClient::new(parsed.host().to_owned(), core.config.epmd_port);
    let info = epmd.lookup(parsed.alive()).await.map_err(|err| {
        let (node, epmd) = (name.to_owned(), format!("{}:{}", epmd.host(), epmd.port()));
        Failure::Error(match err {
            ClientError::UnknownNode { .. } => ConnectError::NotRegistered { node, epmd },
            ClientError::Unreachable { source, .. } => ConnectError::EpmdUnreachable {
                node,
                epmd,
                source: Arc::new(source),
            },
            other => ConnectError::Unreachable {
                node,
                source: UnreachableReason::Epmd(Arc::new(other)),
            },
        })
    })?;
    let after = core.config.setup_time;
    let stream = tokio::time::timeout(after, TcpStream::connect((parsed.host(), info.port)))
        .await
        .map_err(|_| {
            Failure::Error(ConnectError::Timeout {
                node: name.to_owned(),
                after,
            })
        })?
        .map_err(|source| {
            Failure::Error(ConnectError::Unreachable {
                node: name.to_owned(),
                source: UnreachableReason::Connect {
                    port: info.port,
                    source: Arc::new(source),
                },
            })
        })?;
    let _ = stream.set_nodelay(true);
    let config = HandshakeConfig {
        setup_time: after,
        ..HandshakeConfig::new(core.name.as_str().to_owned(), core.creation)
    };
    let cookie = core.cookies.for_node(name);
    let initiator = Initiator::new(config, name, cookie, rand::random(), Instant::now());
    handshake(stream, initiator).await.map_err(|err| match err {
        HandshakeError::Nok { .. } => Failure::Lost,
        err => Failure::Error(ConnectError::from_handshake(name, err, after)),
    })
}

async fn handshake(
    mut stream: TcpStream,
    mut initiator: Initiator,
) -> Result<(TcpStream, Established), HandshakeError> {
    loop {
        match next_event(&mut stream, &mut initiator).await? {
            InitiatorEvent::Established(done) => return Ok((stream, done)),
            // The peer has a connection to our name that we do not know of
            // (we are a new incarnation): replace it.
            InitiatorEvent::AliveQuery => initiator.answer_alive(true, Instant::now())?,
        }
    }
}
