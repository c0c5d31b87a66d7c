//! A cloneable handle that sends as a process, for the tasks a process
//! hands work to: the [`Process`] itself keeps its mailbox, one owner
//! receiving, as an Erlang process does.

use std::sync::Arc;

use etf::{Pid, Term};
use serde::Serialize;

use crate::data::error::SendError;
use crate::data::message::Dest;
use crate::features::error::Error;
use crate::features::gen_server::Call;
use crate::features::process::{send_wait, Process};
use crate::runtime::core::Core;

/// Sends as a process, from anywhere: cloneable, `Send` and `Sync`, like
/// tokio's `mpsc::Sender`. Made by [`Process::handle`].
///
/// It sends messages with the process's pid as the sender and replies to
/// its gen_server calls, so a server can hand a call to a spawned task and
/// go on receiving; it cannot receive, link or monitor (those belong to
/// the one owner of the mailbox). A handle outliving its process still
/// sends, with the pid of a process that is gone, as a message sent just
/// before an Erlang process ended would still arrive.
///
/// ```no_run
/// # async fn demo(node: cnode::Node) -> Result<(), cnode::Error> {
/// use cnode::Request;
/// use etf::Term;
///
/// let mut server = node.spawn_process()?;
/// server.register("slow")?;
/// let handle = server.handle();
/// while let Ok(request) = server.next_request().await {
///     if let Request::Call(call) = request {
///         let handle = handle.clone();
///         tokio::spawn(async move {
///             // ... a long computation, while the server takes more calls
///             let _ = handle.reply(&call, Term::ok(42));
///         });
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ProcessHandle {
    pid: Pid,
    core: Arc<Core>,
}

impl Process {
    /// A cloneable handle that sends as this process ([`ProcessHandle`]).
    pub fn handle(&self) -> ProcessHandle {
        ProcessHandle {
            pid: self.pid().clone(),
            core: Arc::clone(self.core()),
        }
    }
}

impl ProcessHandle {
    /// The pid it sends as.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// [`Process::send`], as the process.
    pub fn send(&self, to: impl Into<Dest>, payload: Term) -> Result<(), SendError> {
        Ok(self.core.send(&self.pid, to.into(), payload)?)
    }

    /// [`Process::send_wait`], as the process.
    pub async fn send_wait(&self, to: impl Into<Dest>, payload: Term) -> Result<(), SendError> {
        send_wait(&self.core, &self.pid, to.into(), payload).await
    }

    /// [`Process::send_as`], as the process.
    pub fn send_as<T: Serialize + ?Sized>(
        &self,
        to: impl Into<Dest>,
        value: &T,
    ) -> Result<(), Error> {
        Ok(self.send(to, etf::serde::to_term(value)?)?)
    }

    /// [`Call::reply`], as the process: answers a call taken by the
    /// process, from another task.
    pub fn reply(&self, call: &Call, reply: Term) -> Result<(), SendError> {
        self.send(call.reply_to(), call.reply_message(reply))
    }

    /// [`Call::reply_as`], as the process.
    pub fn reply_as<R: Serialize + ?Sized>(&self, call: &Call, reply: &R) -> Result<(), Error> {
        Ok(self.reply(call, etf::serde::to_term(reply)?)?)
    }

    /// [`Process::gen_cast`], as the process.
    pub fn gen_cast(&self, server: impl Into<Dest>, request: Term) -> Result<(), SendError> {
        self.send(server, Term::tagged("$gen_cast", request))
    }
}
