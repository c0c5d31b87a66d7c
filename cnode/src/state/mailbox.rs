//! A process's mailbox: its ordinary and priority messages, the waker of
//! the task that receives, and how the process ended.
//!
//! One small allocation per process, core by the process table (the
//! senders' side) and the [`Process`](crate::Process) (the receiver). The
//! queues allocate only when a message waits, so an idle process costs
//! the struct alone; a tokio channel would allocate a block of 32 slots
//! per process up front.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

use etf::Term;

use crate::data::error::RecvError;
use crate::data::message::Message;

/// Which queue a message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    /// An ordinary message.
    Ordinary,
    /// A priority message (sent with priority to a priority alias).
    Priority,
}

/// The mailbox of one process.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    state: Mutex<State>,
    /// The reason the process was killed with, once an exit signal killed
    /// it: set before the receiver is woken, read without the lock.
    killed: OnceLock<Term>,
}

#[derive(Debug, Default)]
struct State {
    ordinary: VecDeque<Message>,
    /// Priority messages; only a process that made a priority alias gets
    /// any (to others a priority message is an ordinary one).
    priority: VecDeque<Message>,
    takes_priority: bool,
    /// The receiving task, while it waits.
    waker: Option<Waker>,
    /// The process ended (killed, or the node shut down): messages are
    /// dropped from now on.
    ended: bool,
    /// The node shut down.
    closed: bool,
}

impl Mailbox {
    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one is usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an ordinary message; `false` (and the message dropped) if
    /// the process has ended. Never waits for the receiver.
    pub(crate) fn push(&self, message: Message) -> bool {
        self.push_to(message, Queue::Ordinary)
    }

    /// Queues a priority message: ahead of the ordinary ones if the
    /// process takes priority messages, else as an ordinary one.
    pub(crate) fn push_priority(&self, message: Message) -> bool {
        self.push_to(message, Queue::Priority)
    }

    fn push_to(&self, message: Message, queue: Queue) -> bool {
        let mut state = self.state();
        if state.ended {
            return false;
        }
        if queue == Queue::Priority && state.takes_priority {
            state.priority.push_back(message);
        } else {
            state.ordinary.push_back(message);
        }
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// From now on, priority messages go to the priority queue.
    pub(crate) fn take_priority(&self) {
        self.state().takes_priority = true;
    }

    /// The process was killed with `reason`: its receives fail from now
    /// on and what waits in its mailbox is dropped. The first reason stays.
    pub(crate) fn kill(&self, reason: Term) {
        let _ = self.killed.set(reason);
        self.end(false);
    }

    /// The node shut down: receives fail with [`RecvError::Closed`] once
    /// the messages already queued are taken.
    pub(crate) fn close(&self) {
        self.end(true);
    }

    fn end(&self, closed: bool) {
        let mut state = self.state();
        state.ended = true;
        state.closed |= closed;
        let dropped = if self.killed.get().is_some() {
            (
                std::mem::take(&mut state.ordinary),
                std::mem::take(&mut state.priority),
            )
        } else {
            Default::default()
        };
        let waker = state.waker.take();
        drop(state);
        drop(dropped);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The reason the process was killed with, if it was.
    pub(crate) fn killed(&self) -> Option<&Term> {
        self.killed.get()
    }

    fn check_alive(&self) -> Result<(), RecvError> {
        match self.killed.get() {
            Some(reason) => Err(RecvError::Killed {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The oldest waiting priority message.
    pub(crate) fn try_take_priority(&self) -> Option<Message> {
        self.state().priority.pop_front()
    }

    /// The next message if one waits: priority ones first.
    pub(crate) fn try_take(&self) -> Option<(Message, Queue)> {
        let mut state = self.state();
        if let Some(message) = state.priority.pop_front() {
            return Some((message, Queue::Priority));
        }
        state
            .ordinary
            .pop_front()
            .map(|message| (message, Queue::Ordinary))
    }

    /// The next message, priority ones first; pending (the task woken by
    /// the next push) while none waits.
    pub(crate) fn poll_take(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(Message, Queue), RecvError>> {
        self.check_alive()?;
        let mut state = self.state();
        if let Some(message) = state.priority.pop_front() {
            return Poll::Ready(Ok((message, Queue::Priority)));
        }
        if let Some(message) = state.ordinary.pop_front() {
            return Poll::Ready(Ok((message, Queue::Ordinary)));
        }
        if state.ended {
            drop(state);
            self.check_alive()?;
            return Poll::Ready(Err(RecvError::Closed));
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next message, waiting as long as it takes.
    pub(crate) async fn take(&self) -> Result<(Message, Queue), RecvError> {
        std::future::poll_fn(|cx| self.poll_take(cx)).await
    }

    /// How many messages wait (both queues).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let state = self.state();
        state.ordinary.len() + state.priority.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: i64) -> Message {
        Message {
            from: None,
            payload: Term::Int(n),
        }
    }

    #[tokio::test]
    async fn priority_messages_overtake_only_once_asked_for() {
        let mailbox = Mailbox::default();
        assert!(mailbox.push(message(1)));
        assert!(mailbox.push_priority(message(2)));
        mailbox.take_priority();
        assert!(mailbox.push_priority(message(3)));
        let order: Vec<_> = std::iter::from_fn(|| mailbox.try_take())
            .map(|(m, q)| (m.payload, q))
            .collect();
        assert_eq!(
            order,
            vec![
                (Term::Int(3), Queue::Priority),
                (Term::Int(1), Queue::Ordinary),
                (Term::Int(2), Queue::Ordinary),
            ]
        );
    }

    #[tokio::test]
    async fn a_kill_wakes_the_receiver_and_drops_what_waits() {
        let mailbox = std::sync::Arc::new(Mailbox::default());
        let receiver = {
            let mailbox = std::sync::Arc::clone(&mailbox);
            tokio::spawn(async move { mailbox.take().await })
        };
        tokio::task::yield_now().await;
        mailbox.kill(Term::atom("killed"));
        let got = receiver.await.expect("receiver task");
        assert_eq!(
            got,
            Err(RecvError::Killed {
                reason: Term::atom("killed")
            })
        );
        assert!(!mailbox.push(message(1)), "a dead mailbox takes nothing");
        assert_eq!(mailbox.len(), 0);
    }

    #[tokio::test]
    async fn a_closed_mailbox_gives_what_waits_then_closed() {
        let mailbox = Mailbox::default();
        assert!(mailbox.push(message(1)));
        mailbox.close();
        assert_eq!(
            mailbox.take().await.map(|(m, _)| m.payload),
            Ok(Term::Int(1))
        );
        assert_eq!(mailbox.take().await, Err(RecvError::Closed));
    }

    #[test]
    fn an_idle_process_stays_small() {
        let mailbox = std::mem::size_of::<Mailbox>();
        let process = std::mem::size_of::<crate::Process>();
        // One allocation each side: the mailbox (with its Arc counts) and
        // the Process inside the task that owns it.
        assert!(mailbox + 16 <= 192, "Mailbox is {mailbox} B");
        assert!(process <= 160, "Process is {process} B");
    }
}
