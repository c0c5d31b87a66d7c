//! Processes: a pid and a mailbox, with plain and selective receive, and
//! the signals of a process: links, monitors, exits, aliases.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use dist_proto::{ControlMessage, PidOrName};
use etf::{Pid, Reference, Term};

use crate::data::error::{RecvError, RegisterError, SendError, SpawnError};
use crate::data::message::{Dest, Message};
use crate::runtime::core::{Core, Refused};
use crate::state::mailbox::{Mailbox, Queue};
use crate::state::signals::Via;

/// A process of this node: a pid and its mailbox.
///
/// Messages from one sender arrive in the order sent. The receive methods
/// take `&mut self`: one task owns a mailbox, as one Erlang process does.
///
/// It links, monitors and traps exits as an Erlang process does. Exit
/// signals and `'DOWN'`s arrive as messages (`{'EXIT', From, Reason}` when
/// trapping exits, `{'DOWN', Ref, process, Object, Reason}`). An exit
/// signal that kills it (a reason other than `normal` while not trapping,
/// or `exit(Pid, kill)`) ends it at once, whatever its task is doing: its
/// name is freed, its links get the exit signal (`killed` for `kill`), its
/// monitors fire, and its receive methods return [`RecvError::Killed`].
///
/// Dropping it ends it with reason `normal` ([`Process::exit_with`] ends it
/// with another reason).
#[derive(Debug)]
pub struct Process {
    pid: Pid,
    /// Core with the process table, which fills it.
    mailbox: Arc<Mailbox>,
    /// Messages passed over by a selective receive, oldest first.
    saved: VecDeque<Message>,
    /// Priority messages passed over by a selective receive.
    saved_priority: VecDeque<Message>,
    /// The process made a priority alias: priority messages may come.
    takes_priority: bool,
    core: Arc<Core>,
}

impl Process {
    /// A new process of the node `core` runs.
    pub(crate) fn spawn(core: &Arc<Core>) -> Result<Process, SpawnError> {
        let (pid, mailbox) = core.registry().spawn()?;
        Ok(Process::new(pid, mailbox, Arc::clone(core)))
    }

    pub(crate) fn new(pid: Pid, mailbox: Arc<Mailbox>, core: Arc<Core>) -> Process {
        Process {
            pid,
            mailbox,
            saved: VecDeque::new(),
            saved_priority: VecDeque::new(),
            takes_priority: false,
            core,
        }
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// This process's pid.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// Registers this process as `name` on its node (`register/2`).
    pub fn register(&self, name: &str) -> Result<(), RegisterError> {
        self.core.registry().register(name, &self.pid)
    }

    /// Sends `payload` to a pid or to `(name, node)`, with this process as
    /// the sender. Like Erlang's `!`, it never waits: a remote message is
    /// queued for its connection, which is set up on first use; a message
    /// to a process or node that does not exist is dropped. A connection
    /// whose peer reads slower than we send refuses messages with
    /// [`SendError::Busy`] once its queue holds more than
    /// [`NodeBuilder::send_buffer_limit`](crate::NodeBuilder::send_buffer_limit)
    /// ([`Process::send_wait`] waits for room instead).
    pub fn send(&self, to: impl Into<Dest>, payload: Term) -> Result<(), SendError> {
        Ok(self.core.send(&self.pid, to.into(), payload)?)
    }

    /// [`Process::send`] that waits, instead of failing with
    /// [`SendError::Busy`], while the connection to the destination's node
    /// has more than [`NodeBuilder::send_buffer_limit`] bytes waiting for
    /// its socket: as an Erlang process sending on a busy distribution
    /// channel is suspended until the channel drains. A connection being
    /// set up is waited for first, rather than queueing towards
    /// [`NodeBuilder::pending_bytes`] (if it cannot be set up, the message
    /// is lost as with `!`). When the connection is up with room it costs
    /// what [`Process::send`] costs, and one look at the connections.
    ///
    /// [`NodeBuilder::send_buffer_limit`]: crate::NodeBuilder::send_buffer_limit
    /// [`NodeBuilder::pending_bytes`]: crate::NodeBuilder::pending_bytes
    pub async fn send_wait(&self, to: impl Into<Dest>, payload: Term) -> Result<(), SendError> {
        send_wait(&self.core, &self.pid, to.into(), payload).await
    }

    /// Links this process to `other` (`link/1`). Linking to a local process
    /// that does not exist sends this process an exit signal `noproc`; a
    /// remote node answers the same way for its processes.
    pub fn link(&self, other: &Pid) {
        self.core
            .signal(|table, out| table.link(&self.pid, other, out));
    }

    /// Removes the link to `other` (`unlink/1`); exit signals from it that
    /// are already on their way are ignored.
    pub fn unlink(&self, other: &Pid) {
        self.core
            .signal(|table, out| table.unlink(&self.pid, other, out));
    }

    /// `process_flag(trap_exit, Trap)`: whether exit signals become
    /// `{'EXIT', From, Reason}` messages instead of killing this process.
    /// Returns the previous value.
    pub fn trap_exit(&self, trap: bool) -> bool {
        self.core.registry().set_trap_exit(&self.pid, trap)
    }

    /// `exit(Pid, Reason)`: sends an exit signal to a process, local or
    /// remote. `kill` kills even a process that traps exits.
    pub fn exit(&self, to: &Pid, reason: Term) -> Result<(), SendError> {
        if self.core.is_local(&to.node) {
            self.core
                .signal(|table, out| table.exit_signal(&self.pid, to, reason, Via::Exit2, out));
            return Ok(());
        }
        let exit = ControlMessage::PayloadExit2 {
            from: self.pid.clone(),
            to: to.clone(),
            token: None,
        };
        self.core.send_remote(&to.node, exit, Some(reason))
    }

    /// Ends this process with `reason` (`exit(Reason)`): its links get the
    /// reason, its monitors fire with it.
    pub fn exit_with(self, reason: Term) {
        self.core
            .signal(|table, out| table.exit_process(&self.pid, reason, out));
    }

    /// `erlang:monitor(process, Target)` for a pid or a `(name, node)`:
    /// a `{'DOWN', Ref, process, Target, Reason}` message comes when the
    /// target ends (`noproc` if it does not exist, `noconnection` if its
    /// node's connection is lost or cannot be set up: a node that cannot
    /// be reached gives that `'DOWN'`, not an error). Returns the monitor
    /// reference; [`Process::recv_down`] waits for its `'DOWN'`, typed.
    /// Fails only for a target that is no process: an alias
    /// ([`SendError::NotMonitorable`]).
    pub fn monitor(&self, target: impl Into<Dest>) -> Result<Reference, SendError> {
        let reference = self.core.make_ref();
        let (target, node) = match target.into() {
            Dest::Pid(pid) => {
                let node = pid.node.clone();
                (PidOrName::Pid(pid), node)
            }
            Dest::Name { name, node } => (PidOrName::Name(name), node),
            Dest::Alias(alias) => {
                return Err(SendError::NotMonitorable {
                    target: alias.to_string(),
                })
            }
        };
        let r = reference.clone();
        self.core
            .signal(|table, out| table.monitor(&self.pid, target, &node, r, out));
        Ok(reference)
    }

    /// `erlang:demonitor(Ref)`: drops a monitor; `false` if this process
    /// held no such monitor. A `'DOWN'` already received stays in the
    /// mailbox.
    pub fn demonitor(&self, reference: &Reference) -> bool {
        self.core
            .signal(|table, out| table.demonitor(&self.pid, reference, out))
    }

    /// `monitor_node(Node, true)`: a `{nodedown, Node}` message comes when
    /// the connection to `node` is lost, at once if it cannot be set up.
    /// Each call adds one subscription (and one message).
    pub fn monitor_node(&self, node: &str) {
        crate::features::node_watch::monitor_node(&self.core, &self.pid, node);
    }

    /// `monitor_node(Node, false)`: drops one subscription.
    pub fn demonitor_node(&self, node: &str) {
        crate::features::node_watch::demonitor_node(&self.core, &self.pid, node);
    }

    /// `alias()`: a new alias of this process. Messages sent to it
    /// (`ALIAS_SEND` from other nodes, [`Dest::Alias`] here) reach this
    /// process until [`Process::unalias`] or its end.
    pub fn alias(&self) -> Reference {
        let alias = self.core.make_ref();
        self.core.table().add_alias(&self.pid, alias.clone(), false);
        alias
    }

    /// `alias([priority])` (OTP 28): a new priority alias of this process.
    ///
    /// Messages sent to it as priority messages (`erlang:send(Alias, Msg,
    /// [priority])` on an Erlang node of OTP 28 or later,
    /// [`Process::send_priority`] here) overtake the ordinary messages
    /// waiting in this process's mailbox: every receive method takes
    /// priority messages first, in the order they arrived, then ordinary
    /// ones. So do the `'EXIT'` messages of exit signals sent with
    /// priority to the alias (`exit(Alias, Reason, [priority])`) while this
    /// process traps exits. Messages sent to the alias without the
    /// `priority` option are ordinary messages, as to [`Process::alias`].
    /// It works until [`Process::unalias`] or the end of this process.
    ///
    /// Takes `&mut self` because the first priority alias gives the process
    /// its queue of priority messages, which its receive methods read.
    ///
    /// ```no_run
    /// # async fn demo(node: cnode::Node) -> Result<(), Box<dyn std::error::Error>> {
    /// use etf::Term;
    ///
    /// let mut inbox = node.spawn_process()?;
    /// let urgent = inbox.priority_alias();
    /// let sender = node.spawn_process()?;
    /// sender.send(inbox.pid(), Term::atom("ordinary"))?;
    /// sender.send_priority(&urgent, Term::atom("urgent")).await?;
    /// assert_eq!(inbox.recv().await?.payload, Term::atom("urgent"));
    /// assert_eq!(inbox.recv().await?.payload, Term::atom("ordinary"));
    /// # Ok(()) }
    /// ```
    pub fn priority_alias(&mut self) -> Reference {
        let alias = self.core.make_ref();
        if !self.takes_priority {
            self.takes_priority = true;
            self.mailbox.take_priority();
        }
        self.core.table().add_alias(&self.pid, alias.clone(), true);
        alias
    }

    /// `erlang:send(To, Msg, [priority])` (OTP 28): sends a priority
    /// message, with this process as the sender.
    ///
    /// It overtakes the ordinary messages in the receiver's mailbox if `to`
    /// is an active priority alias (`alias([priority])` in Erlang,
    /// [`Process::priority_alias`] here); to anything else it is an
    /// ordinary message, as in Erlang. To another node it waits until the
    /// connection is up (setting it up if needed; if it cannot be, the
    /// message is lost, as with [`Process::send`]) and, like
    /// [`Process::send_wait`], while the connection is busy.
    ///
    /// Fails with [`SendError::PriorityNotSupported`] if the connection to
    /// the destination's node lacks `DFLAG_ALTACT_SIG` (a release before
    /// OTP 28): nothing is sent, the connection stays up.
    pub async fn send_priority(&self, to: impl Into<Dest>, payload: Term) -> Result<(), SendError> {
        self.core.send_priority(&self.pid, to.into(), payload).await
    }

    /// `unalias(Alias)`: deactivates an alias of this process; `false` if
    /// it was not an active one.
    pub fn unalias(&self, alias: &Reference) -> bool {
        self.core.table().remove_alias(&self.pid, alias)
    }

    /// The next message, waiting as long as it takes. Priority messages
    /// come first (see [`Process::priority_alias`]).
    ///
    /// Cancel safe, as every receive method of `Process`: a receive
    /// dropped before it completes (a losing branch of `tokio::select!`,
    /// a timeout) takes no message; the next receive sees them all.
    pub async fn recv(&mut self) -> Result<Message, RecvError> {
        self.check_alive()?;
        if let Some(message) = self.take_priority() {
            return Ok(message);
        }
        if let Some(message) = self.saved.pop_front() {
            return Ok(message);
        }
        Ok(self.next_new().await?.0)
    }

    /// The next message if one came within `timeout`. Cancel safe.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Result<Message, RecvError> {
        tokio::time::timeout(timeout, self.recv())
            .await
            .unwrap_or(Err(RecvError::Timeout(timeout)))
    }

    /// The next message if one is waiting.
    pub fn try_recv(&mut self) -> Option<Message> {
        if self.mailbox.killed().is_some() {
            return None;
        }
        if let Some(message) = self.take_priority() {
            return Some(message);
        }
        if let Some(message) = self.saved.pop_front() {
            return Some(message);
        }
        match self.mailbox.try_take() {
            Some((message, _)) if self.mailbox.killed().is_none() => Some(message),
            _ => None,
        }
    }

    /// The reason this process was killed with, if an exit signal killed
    /// it. Its receive methods then fail with [`RecvError::Killed`]: the
    /// messages still in its mailbox are lost, as a dead Erlang process's.
    pub fn killed(&self) -> Option<&Term> {
        self.mailbox.killed()
    }

    fn check_alive(&self) -> Result<(), RecvError> {
        match self.mailbox.killed() {
            Some(reason) => Err(RecvError::Killed {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The oldest priority message waiting, if any.
    fn take_priority(&mut self) -> Option<Message> {
        if !self.takes_priority {
            return None;
        }
        self.saved_priority
            .pop_front()
            .or_else(|| self.mailbox.try_take_priority())
    }

    /// The oldest priority message waiting that matches; the others that
    /// waited in the queue are kept, in order, as passed over.
    fn take_priority_matching(
        &mut self,
        matches: &mut impl FnMut(&Message) -> bool,
    ) -> Option<Message> {
        if !self.takes_priority {
            return None;
        }
        if let Some(index) = self.saved_priority.iter().position(&mut *matches) {
            return self.saved_priority.remove(index);
        }
        while let Some(message) = self.mailbox.try_take_priority() {
            if matches(&message) {
                return Some(message);
            }
            self.saved_priority.push_back(message);
        }
        None
    }

    /// The oldest message for which `matches` is true, as Erlang's
    /// `receive` with patterns: the others stay in the mailbox, in order.
    /// Priority messages are looked at first. Cancel safe: the messages
    /// passed over stay in the mailbox, in order, also when the receive is
    /// dropped before it completes.
    pub async fn recv_matching<F>(&mut self, mut matches: F) -> Result<Message, RecvError>
    where
        F: FnMut(&Message) -> bool,
    {
        self.check_alive()?;
        if let Some(message) = self.take_priority_matching(&mut matches) {
            return Ok(message);
        }
        if let Some(index) = self.saved.iter().position(&mut matches) {
            if let Some(message) = self.saved.remove(index) {
                return Ok(message);
            }
        }
        loop {
            let (message, queue) = self.next_new().await?;
            if matches(&message) {
                return Ok(message);
            }
            match queue {
                Queue::Priority => self.saved_priority.push_back(message),
                Queue::Ordinary => self.saved.push_back(message),
            }
        }
    }

    /// [`recv_matching`](Process::recv_matching) with a timeout (`receive
    /// ... after`). Cancel safe.
    pub async fn recv_matching_timeout<F>(
        &mut self,
        timeout: Duration,
        matches: F,
    ) -> Result<Message, RecvError>
    where
        F: FnMut(&Message) -> bool,
    {
        tokio::time::timeout(timeout, self.recv_matching(matches))
            .await
            .unwrap_or(Err(RecvError::Timeout(timeout)))
    }

    /// The next message to arrive, and its queue: a priority message if
    /// one waits, else the next ordinary one.
    async fn next_new(&mut self) -> Result<(Message, Queue), RecvError> {
        let next = self.mailbox.take().await?;
        self.check_alive()?;
        Ok(next)
    }
}

/// [`Process::send_wait`] as `from`, also for a
/// [`ProcessHandle`](crate::ProcessHandle).
pub(crate) async fn send_wait(
    core: &Arc<Core>,
    from: &Pid,
    to: Dest,
    payload: Term,
) -> Result<(), SendError> {
    if !core.is_local(to.node()) {
        // A failure is the send's to report (or to lose the message).
        let _ = core.connect(to.node().as_str()).await;
    }
    let mut payload = payload;
    loop {
        match core.send(from, to.clone(), payload) {
            Err(Refused::Busy(busy)) => {
                busy.wire.room().await;
                payload = busy.payload;
            }
            sent => return Ok(sent?),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A process without links, monitors, aliases or a name ends in the
        // registry alone, without the signal state's lock; a killed one
        // has ended already.
        if self.mailbox.killed().is_none() && !self.core.registry().end_plain(&self.pid) {
            self.core
                .signal(|table, out| table.exit_process(&self.pid, Term::atom("normal"), out));
        }
    }
}
