//! Accepting connections: the listener loop and the acceptor's handshake.

use std::sync::Arc;

use dist_proto::handshake::Answer;
use dist_proto::{Acceptor, AcceptorEvent, Established, HandshakeConfig, HandshakeError};
use etf::Atom;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::data::error::ConnectError;
use crate::data::name::NodeName;
use crate::net::clock::now;
use crate::net::handshake::{flush, next_event};
use crate::net::transport::{Listener, Transport};
use crate::runtime::core::Core;

/// How many incoming handshakes may run at once; more connections wait in
/// the listen backlog. Each handshake step is bounded by the setup time.
const MAX_HANDSHAKES: usize = 64;

/// Accepts connections until the node shuts down.
pub(crate) async fn listen<L: Listener>(core: Arc<Core>, mut listener: L) {
    let mut shutdown = core.shutdown_signal();
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let accepted = tokio::select! {
            accepted = accept_one(&mut listener, &handshakes) => accepted,
            _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => return,
        };
        match accepted {
            Ok((stream, from, permit)) => {
                tracing::debug!(%from, "incoming connection");
                core.tasks.spawn(accept(Arc::clone(&core), stream, permit));
            }
            Err(err) => {
                // E.g. out of file descriptors: back off instead of spinning.
                tracing::warn!(%err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Waits for a handshake slot, then for a connection.
async fn accept_one<L: Listener>(
    listener: &mut L,
    handshakes: &Arc<Semaphore>,
) -> std::io::Result<(L::Stream, String, OwnedSemaphorePermit)> {
    let permit = Arc::clone(handshakes)
        .acquire_owned()
        .await
        .map_err(std::io::Error::other)?;
    let (stream, from) = listener.accept().await?;
    Ok((stream, from, permit))
}

/// Runs the acceptor's handshake (holding a handshake slot), then the
/// connection.
async fn accept<T: Transport>(core: Arc<Core>, stream: T, permit: OwnedSemaphorePermit) {
    // Boxed, so that the task, which lives as long as the connection, holds
    // room only for the driver's future.
    let Some((outcome, attempt)) = Box::pin(handshake(&core, &stream)).await else {
        return;
    };
    drop(permit);
    match (outcome, attempt) {
        (Ok(done), Some((node, id))) => {
            crate::net::driver::run(core, node, id, stream, done).await;
        }
        (Ok(done), None) => {
            tracing::warn!(peer = %done.peer, "handshake completed without an accepted request");
        }
        (Err(err), attempt) => {
            tracing::info!(%err, "refused or failed incoming connection");
            if let Some((node, id)) = attempt {
                let err = ConnectError::from_handshake(node.as_str(), err, core.config.setup_time);
                let failed = core.peers().setup_failed(&node, Some(id), &err);
                if failed {
                    core.unreachable(&node);
                }
            }
        }
    }
}

/// The acceptor's handshake: how it ended and the peer and our attempt id,
/// once we accepted its request; `None` if the node shut down meanwhile.
async fn handshake<T: Transport>(
    core: &Arc<Core>,
    stream: &T,
) -> Option<(Result<Established, HandshakeError>, Option<(Atom, u64)>)> {
    let mut shutdown = core.shutdown_signal();
    let config = HandshakeConfig {
        setup_time: core.config.setup_time,
        length_prefix: T::HANDSHAKE_PREFIX,
        ..HandshakeConfig::new(core.name.as_str().to_owned(), core.creation)
    };
    let mut acceptor = Acceptor::new(config, rand::random(), now());
    // The peer and our attempt id, once we accepted its request.
    let mut attempt: Option<(Atom, u64)> = None;
    let outcome = loop {
        let event = tokio::select! {
            event = next_event(stream, &mut acceptor) => event,
            _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => return None,
        };
        match event {
            Ok(AcceptorEvent::ConnectRequest(request)) => {
                let answer = match NodeName::parse(&request.peer) {
                    Err(err) => {
                        tracing::info!(peer = %request.peer, %err, "refusing a bad node name");
                        Answer::NotAllowed
                    }
                    Ok(_) => {
                        let node = Atom::new(&request.peer);
                        let cookie = core.cookies.for_node(&request.peer);
                        let decision = core.peers().on_connect_request(&node, cookie);
                        if let Some(dial) = decision.abort {
                            dial.abort();
                        }
                        if let Some(id) = decision.id {
                            attempt = Some((node, id));
                        }
                        decision.answer
                    }
                };
                if let Err(err) = acceptor.answer(answer, now()) {
                    let _ = flush(stream, &mut acceptor).await;
                    break Err(err);
                }
            }
            Ok(AcceptorEvent::Established(done)) => break Ok(done),
            Err(err) => break Err(err),
        }
    };
    Some((outcome, attempt))
}
