//! Counting the node's tasks, so that shutdown can wait for them.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

#[derive(Debug, Default)]
struct Count {
    running: AtomicUsize,
    idle: Notify,
}

/// The node's connection tasks.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tasks(Arc<Count>);

/// Decrements the count when the task ends, even by abort.
struct Guard(Arc<Count>);

impl Drop for Guard {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Tasks {
    /// Spawns a counted task.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.running.fetch_add(1, Ordering::AcqRel);
        let guard = Guard(Arc::clone(&self.0));
        // Boxed: an async block that awaits a future it captured holds it
        // twice (the capture and the awaited copy), and the task of a
        // connection lives as long as the connection.
        let future = Box::pin(future);
        tokio::spawn(async move {
            let _guard = guard;
            future.await;
        })
    }

    /// Waits until no task runs, or `limit` passes.
    pub(crate) async fn wait_idle(&self, limit: Duration) {
        let wait = async {
            loop {
                let idle = self.0.idle.notified();
                if self.0.running.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
    }
}

/// Returns once the node's shutdown signal is set (or its sender is gone).
pub(crate) async fn until_shutdown(signal: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = signal.wait_for(|down| *down).await;
}
