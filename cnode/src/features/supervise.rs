//! Restarting a [`Server`] when it ends, as a `one_for_one` supervisor
//! restarts its one child: [`Node::start_supervised`](crate::Node::start_supervised).
//!
//! The supervisor is a process of its own that traps exits and links to
//! the server: the server's end reaches it as an `'EXIT'`, and its own end
//! (by [`Supervisor::stop`], or after too many restarts) takes the server
//! with it, with reason `shutdown`, as an OTP supervisor shuts its
//! children down.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use etf::Term;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::features::process::Process;
use crate::features::server::{self, Server, ServerError, ServerRef};
use crate::runtime::core::Core;

/// When a supervised server is started again (the `restart` of an OTP
/// child spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Always.
    Permanent,
    /// Unless it ended with `normal`, `shutdown` or `{shutdown, _}`.
    Transient,
    /// Never.
    Temporary,
}

/// How a supervised server is restarted: when, and how often at most
/// (`intensity` restarts within `period`, as OTP's supervisor flags; one
/// more and the supervisor gives up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    /// When to restart.
    pub restart: Restart,
    /// The most restarts within `period`.
    pub intensity: u32,
    /// The window `intensity` counts in.
    pub period: Duration,
}

impl Default for RestartPolicy {
    /// Permanent, at most 1 restart in 5 seconds (OTP's defaults).
    fn default() -> RestartPolicy {
        RestartPolicy {
            restart: Restart::Permanent,
            intensity: 1,
            period: Duration::from_secs(5),
        }
    }
}

impl RestartPolicy {
    /// Whether a server that ended with `reason` is started again.
    fn restarts(&self, reason: &Term) -> bool {
        match self.restart {
            Restart::Permanent => true,
            Restart::Temporary => false,
            Restart::Transient => !is_clean(reason),
        }
    }
}

/// `normal`, `shutdown` or `{shutdown, _}`: an end that is not a failure.
fn is_clean(reason: &Term) -> bool {
    reason.is_atom("normal")
        || reason.is_atom("shutdown")
        || matches!(reason.as_tuple(), Some([tag, _]) if tag.is_atom("shutdown"))
}

/// A supervised server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Supervisor {
    current: Arc<Mutex<Option<ServerRef>>>,
    stop: Arc<watch::Sender<bool>>,
    ended: watch::Receiver<bool>,
}

impl Supervisor {
    /// The server running now, if one is (after a restart, a new pid).
    pub fn server(&self) -> Option<ServerRef> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the supervisor and with it the server (reason `shutdown`),
    /// and waits until both have ended.
    pub async fn stop(&self) {
        self.stop.send_replace(true);
        self.ended().await;
    }

    /// Waits until the supervisor has ended: stopped, or given up after
    /// more restarts than its policy allows, or the server ended for good.
    pub async fn ended(&self) {
        let mut ended = self.ended.clone();
        let _ = ended.wait_for(|ended| *ended).await;
    }
}

/// Starts the supervisor and the first server that `make` makes.
pub(crate) async fn start<S, F>(
    core: &Arc<Core>,
    name: Option<&str>,
    policy: RestartPolicy,
    mut make: F,
) -> Result<Supervisor, ServerError>
where
    S: Server,
    F: FnMut() -> S + Send + 'static,
{
    let process = Process::spawn(core)?;
    process.trap_exit(true);
    let first = server::start(core, name, make()).await?;
    process.link(first.pid());
    let current = Arc::new(Mutex::new(Some(first)));
    let (stop, stop_rx) = watch::channel(false);
    let (ended_tx, ended) = watch::channel(false);
    let supervisor = Supervisor {
        current: Arc::clone(&current),
        stop: Arc::new(stop),
        ended,
    };
    let core = Arc::clone(core);
    let name = name.map(str::to_owned);
    tokio::spawn(async move {
        let reason = supervise(
            &core,
            process,
            name.as_deref(),
            policy,
            &mut make,
            &current,
            stop_rx,
        )
        .await;
        tracing::debug!(%reason, "a supervisor ended");
        *current.lock().unwrap_or_else(PoisonError::into_inner) = None;
        ended_tx.send_replace(true);
    });
    Ok(supervisor)
}

/// The supervisor's loop; returns the reason it ended with.
async fn supervise<S: Server>(
    core: &Arc<Core>,
    mut process: Process,
    name: Option<&str>,
    policy: RestartPolicy,
    make: &mut impl FnMut() -> S,
    current: &Mutex<Option<ServerRef>>,
    mut stop: watch::Receiver<bool>,
) -> Term {
    let mut restarts: VecDeque<Instant> = VecDeque::new();
    loop {
        let child = current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|server| server.pid().clone());
        let message = tokio::select! {
            message = process.recv() => Some(message),
            _ = stop.wait_for(|stop| *stop) => None,
        };
        let Some(message) = message else {
            // The server ends by the link; `stop`'s caller waits for that.
            let watcher = child.as_ref().and_then(|pid| {
                let watcher = Process::spawn(core).ok()?;
                let watch = watcher.monitor(pid).ok()?;
                Some((watcher, watch))
            });
            process.exit_with(Term::atom("shutdown"));
            if let Some((mut watcher, watch)) = watcher {
                let _ = watcher
                    .recv_matching(|m| {
                        matches!(m.payload.as_tuple(), Some([_, r, ..]) if r.as_reference() == Some(&watch))
                    })
                    .await;
            }
            return Term::atom("shutdown");
        };
        let Ok(message) = message else {
            return Term::atom("shutdown");
        };
        let Some([tag, from, reason]) = message.payload.as_tuple() else {
            continue;
        };
        if !tag.is_atom("EXIT") || from.as_pid() != child.as_ref() {
            continue;
        }
        if !policy.restarts(reason) {
            *current.lock().unwrap_or_else(PoisonError::into_inner) = None;
            return Term::atom("normal");
        }
        let now = Instant::now();
        restarts.push_back(now);
        while restarts
            .front()
            .is_some_and(|at| now.duration_since(*at) > policy.period)
        {
            restarts.pop_front();
        }
        if restarts.len() > policy.intensity as usize {
            tracing::warn!(%reason, "a supervised server restarted too often; giving up");
            let reason = Term::atom("shutdown");
            process.exit_with(reason.clone());
            return reason;
        }
        let next = match server::start(core, name, make()).await {
            Ok(next) => next,
            Err(err) => {
                tracing::warn!(%err, "a supervised server did not start again");
                let reason = Term::atom("shutdown");
                process.exit_with(reason.clone());
                return reason;
            }
        };
        process.link(next.pid());
        *current.lock().unwrap_or_else(PoisonError::into_inner) = Some(next);
    }
}
