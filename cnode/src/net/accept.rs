//! Accepting connections: the listener loop and each connection's task.
//!
//! The loop never waits for a handshake: it accepts every connection at
//! once, admits it at the [`Gate`] (which closes the oldest stranger when
//! too many are unauthenticated, in all or from one address) and hands it
//! to a task of its own. That task runs everything before the peer has
//! proved it knows the cookie (a TLS handshake, when there is one, then the
//! dist handshake) against its admission, the node's shutdown and one
//! overall deadline; each handshake step has the setup time, as in OTP.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dist_proto::handshake::Answer;
use dist_proto::{Acceptor, AcceptorEvent, Established, HandshakeConfig, HandshakeError};
use etf::Atom;
use tokio::sync::watch;

use crate::data::error::ConnectError;
use crate::data::name::NodeName;
use crate::net::clock::now;
use crate::net::gate::{Admission, Eviction, Gate, Warning};
use crate::net::handshake::{flush, next_event};
use crate::net::transport::{Listener, Transport};
use crate::runtime::core::Core;

/// How long the loop waits after accepting failed for want of resources
/// (e.g. out of file descriptors), having closed the oldest stranger.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The steps an unauthenticated connection may take, each within the setup
/// time (a TLS handshake; the name; the answer to `alive`; the complement;
/// the challenge reply): no connection stays unauthenticated longer than
/// this many setup times, however it spreads its bytes.
const UNAUTHENTICATED_STEPS: u32 = 5;

/// Accepts connections until the node shuts down.
pub(crate) async fn listen<L: Listener>(core: Arc<Core>, mut listener: L, gate: Arc<Gate>) {
    let mut shutdown = core.shutdown_signal();
    let mut failures = Warning::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => return,
        };
        match accepted {
            Ok((accepted, from)) => {
                tracing::debug!(%from, "incoming connection");
                let admission = gate.admit(from.ip());
                // Boxed, as the handshake below: the task lives as long as
                // the connection and holds room only for the driver's future.
                let upgrade = Box::pin(listener.upgrade(accepted));
                core.tasks
                    .spawn(accept(Arc::clone(&core), upgrade, from, admission));
            }
            // The peer gave up before we took its connection.
            Err(err) if is_per_connection(&err) => {
                tracing::debug!(%err, "an incoming connection failed before it was accepted");
            }
            Err(err) => {
                // E.g. out of file descriptors: give the oldest stranger's
                // back and wait a little instead of spinning.
                let freed = gate.evict_oldest(Eviction::Resources);
                failures.count();
                if let Some(failed) = failures.due(now()) {
                    tracing::warn!(
                        %err,
                        failed,
                        closed_unauthenticated = freed,
                        "accepting connections failed; backing off"
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    _ = crate::runtime::tasks::until_shutdown(&mut shutdown) => return,
                }
            }
        }
    }
}

/// Whether an accept error concerns only the connection it was for.
fn is_per_connection(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
    )
}

/// Why an unauthenticated connection's task stopped early.
enum Cut {
    /// The gate closed it to make room.
    Evicted(Eviction),
    /// It took more than [`UNAUTHENTICATED_STEPS`] setup times.
    TimeUp(Duration),
    /// The node shuts down.
    Shutdown,
}

impl Cut {
    /// Says why the connection from `from` was cut.
    fn log(&self, from: SocketAddr) {
        match self {
            Cut::Evicted(why) => {
                tracing::debug!(%from, %why, "closed an unauthenticated connection");
            }
            Cut::TimeUp(after) => {
                tracing::info!(%from, ?after, "an incoming connection did not authenticate in time");
            }
            Cut::Shutdown => {}
        }
    }
}

/// What bounds an unauthenticated connection: its place at the gate, one
/// deadline, and the node's shutdown.
struct Bounds {
    admission: Admission,
    deadline: tokio::time::Instant,
    limit: Duration,
    shutdown: watch::Receiver<bool>,
}

impl Bounds {
    /// Runs `step` unless the connection is evicted, its time is up or the
    /// node shuts down first.
    async fn run<F: Future>(&mut self, step: F) -> Result<F::Output, Cut> {
        tokio::select! {
            output = step => Ok(output),
            why = self.admission.evicted() => Err(Cut::Evicted(why)),
            _ = tokio::time::sleep_until(self.deadline) => Err(Cut::TimeUp(self.limit)),
            _ = crate::runtime::tasks::until_shutdown(&mut self.shutdown) => Err(Cut::Shutdown),
        }
    }
}

/// One accepted connection: its upgrade (a TLS handshake), then the
/// acceptor's handshake, holding its place at the gate; then the
/// connection.
async fn accept<T: Transport>(
    core: Arc<Core>,
    upgrade: impl Future<Output = io::Result<T>>,
    from: SocketAddr,
    admission: Admission,
) {
    let limit = core.config.setup_time * UNAUTHENTICATED_STEPS;
    let mut bounds = Bounds {
        admission,
        deadline: tokio::time::Instant::now() + limit,
        limit,
        shutdown: core.shutdown_signal(),
    };

    // A stalled TLS handshake holds its place at the gate like a stalled
    // dist handshake, and gives way the same way.
    let stream = match bounds.run(upgrade).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => {
            tracing::info!(%from, %err, "refused an incoming connection before the handshake");
            return;
        }
        Err(cut) => {
            cut.log(from);
            return;
        }
    };

    // The peer and our attempt id, once we accepted its request.
    let mut attempt: Option<(Atom, u64)> = None;
    let outcome = bounds
        .run(Box::pin(handshake(&core, &stream, &mut attempt)))
        .await;
    // Authenticated, or failed: either way no longer a stranger.
    drop(bounds);
    let err = match (outcome, attempt) {
        (Ok(Ok(done)), Some((node, id))) => {
            crate::net::driver::run(core, node, id, stream, done).await;
            return;
        }
        (Ok(Ok(done)), None) => {
            tracing::warn!(peer = %done.peer, "handshake completed without an accepted request");
            return;
        }
        (Err(Cut::Shutdown), _) => return,
        (Ok(Err(err)), attempt) => {
            tracing::info!(%from, %err, "refused or failed incoming connection");
            attempt.map(|(node, id)| {
                let err = ConnectError::from_handshake(node.as_str(), err, core.config.setup_time);
                (node, id, err)
            })
        }
        (Err(cut @ Cut::Evicted(_)), attempt) => {
            cut.log(from);
            attempt.map(|(node, id)| {
                let err = ConnectError::Crowded {
                    node: node.as_str().to_owned(),
                };
                (node, id, err)
            })
        }
        (Err(Cut::TimeUp(after)), attempt) => {
            Cut::TimeUp(after).log(from);
            attempt.map(|(node, id)| {
                let err = ConnectError::Timeout {
                    node: node.as_str().to_owned(),
                    after,
                };
                (node, id, err)
            })
        }
    };
    if let Some((node, id, err)) = err {
        let failed = core.peers().setup_failed(&node, Some(id), &err);
        if failed {
            core.unreachable(&node);
        }
    }
}

/// The acceptor's handshake on `stream`; `attempt` is set once we accepted
/// the peer's request (and so must clean up if it fails later).
async fn handshake<T: Transport>(
    core: &Arc<Core>,
    stream: &T,
    attempt: &mut Option<(Atom, u64)>,
) -> Result<Established, HandshakeError> {
    let config = HandshakeConfig {
        setup_time: core.config.setup_time,
        length_prefix: T::HANDSHAKE_PREFIX,
        ..HandshakeConfig::new(core.name.as_str().to_owned(), core.creation)
    };
    let mut acceptor = Acceptor::new(config, rand::random(), now());
    loop {
        match next_event(stream, &mut acceptor).await {
            Ok(AcceptorEvent::ConnectRequest(request)) if request.wants_name() => {
                let answer = name_peer(core, &request.peer, attempt);
                if let Err(err) = acceptor.answer(answer, now()) {
                    let _ = flush(stream, &mut acceptor).await;
                    return Err(err);
                }
            }
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
                            *attempt = Some((node, id));
                        }
                        decision.answer
                    }
                };
                if let Err(err) = acceptor.answer(answer, now()) {
                    let _ = flush(stream, &mut acceptor).await;
                    return Err(err);
                }
            }
            Ok(AcceptorEvent::Established(done)) => return Ok(done),
            Err(err) => return Err(err),
        }
    }
}

/// How many random names [`name_peer`] tries before it gives up: a name
/// already in use is a one-in-2^64 chance.
const NAME_TRIES: usize = 8;

/// Answers a node on `host` that asked for a dynamic name (`erl -sname
/// undefined`) as OTP's `net_kernel` does: a random base-36 alive part at
/// the host it sent, one no connection of ours uses, and a random creation
/// (0 to 3 are the old 2-bit ones). `attempt` is set when it is accepted.
fn name_peer(core: &Core, host: &str, attempt: &mut Option<(Atom, u64)>) -> Answer {
    for _ in 0..NAME_TRIES {
        let name = match NodeName::dynamic(host, rand::random()) {
            Ok(name) => name,
            Err(err) => {
                tracing::info!(%host, %err, "refusing a dynamic name request from a bad host");
                return Answer::NotAllowed;
            }
        };
        let node = Atom::new(name.as_str());
        let cookie = core.cookies.for_node(name.as_str());
        let mut peers = core.peers();
        if peers.contains(&node) {
            continue;
        }
        let decision = peers.on_connect_request(&node, cookie);
        let (Answer::Ok { cookie }, Some(id)) = (decision.answer, decision.id) else {
            // Shutting down.
            return Answer::NotAllowed;
        };
        *attempt = Some((node, id));
        tracing::debug!(node = %name, "giving a dynamic name");
        return Answer::Named {
            name: name.into(),
            creation: rand::random_range(4..=u32::MAX),
            cookie,
        };
    }
    Answer::NotAllowed
}
