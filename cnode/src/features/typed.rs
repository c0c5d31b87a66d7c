//! Typed messaging: Rust values sent, received, called and replied with,
//! through [`etf::serde`]'s mapping (structs as maps with atom keys, enums
//! as atoms and tagged tuples, tuples as tuples, `String` as binaries...).
//! Each `_as` method is its untyped sibling with a conversion at the edge,
//! failing with a [`cnode::Error`](crate::Error) that says what did not
//! convert and where.

use std::future::Future;
use std::time::Duration;

use etf::{Reference, Term};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::data::error::RecvError;
use crate::data::message::Dest;
use crate::data::system::Down;
use crate::features::error::Error;
use crate::features::gen_server::Call;
use crate::features::process::Process;
use crate::features::rpc::Rpc;
use crate::features::serve::{Exception, FunctionResult};

impl Process {
    /// Sends a Rust value, converted to a term ([`Process::send`]).
    ///
    /// ```no_run
    /// # async fn demo(node: cnode::Node) -> Result<(), cnode::Error> {
    /// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    /// #[serde(rename_all = "snake_case")]
    /// enum Command {
    ///     Put(String, i64),
    ///     Stop,
    /// }
    ///
    /// let sender = node.spawn_process()?;
    /// let mut receiver = node.spawn_process()?;
    /// // {put, <<"x">>, 1}
    /// sender.send_as(receiver.pid(), &Command::Put("x".into(), 1))?;
    /// assert_eq!(receiver.recv_as::<Command>().await?, Command::Put("x".into(), 1));
    /// # Ok(()) }
    /// ```
    pub fn send_as<T: Serialize + ?Sized>(
        &self,
        to: impl Into<Dest>,
        value: &T,
    ) -> Result<(), Error> {
        Ok(self.send(to, etf::serde::to_term(value)?)?)
    }

    /// [`Process::send_wait`] of a Rust value.
    pub async fn send_wait_as<T: Serialize + ?Sized>(
        &self,
        to: impl Into<Dest>,
        value: &T,
    ) -> Result<(), Error> {
        let term = etf::serde::to_term(value)?;
        Ok(self.send_wait(to, term).await?)
    }

    /// The oldest message that converts to a `T`, as an Erlang `receive`
    /// with one pattern: the messages that do not convert stay in the
    /// mailbox, in order, for the other receive methods. Cancel safe.
    ///
    /// A message that never converts stays for ever, as an unmatched
    /// message in an Erlang mailbox: a process that may get other messages
    /// should also take them ([`Process::recv`], or an enum `T` with a
    /// variant for each kind, or [`Message::decode`](crate::Message::decode)
    /// after `recv` to get a conversion error instead).
    pub async fn recv_as<T: DeserializeOwned>(&mut self) -> Result<T, Error> {
        let mut value = None;
        self.recv_matching(|m| match m.decode::<T>() {
            Ok(v) => {
                value = Some(v);
                true
            }
            Err(_) => false,
        })
        .await?;
        // The match kept the value it returned true for.
        value.ok_or(Error::Recv(RecvError::Closed))
    }

    /// [`Process::recv_as`] within `timeout`: [`RecvError::Timeout`] when
    /// no message converted in time. Cancel safe.
    pub async fn recv_as_timeout<T: DeserializeOwned>(
        &mut self,
        timeout: Duration,
    ) -> Result<T, Error> {
        tokio::time::timeout(timeout, self.recv_as())
            .await
            .unwrap_or(Err(Error::Recv(RecvError::Timeout(timeout))))
    }

    /// Waits for the `'DOWN'` of the monitor `reference` made by
    /// [`Process::monitor`], leaving other messages in the mailbox. Cancel
    /// safe.
    ///
    /// This is the "monitor handle" of the typed API: a handle with its
    /// own `down().await` would have to receive from the mailbox, which one
    /// owner holds (`&mut Process`); so the process waits, given the
    /// reference, and a `select!` over several monitors or other messages
    /// uses [`Process::recv`] with [`Message::as_down`](crate::Message::as_down).
    ///
    /// ```no_run
    /// # async fn demo(node: cnode::Node) -> Result<(), cnode::Error> {
    /// use cnode::Reason;
    /// use etf::Term;
    ///
    /// let mut watcher = node.spawn_process()?;
    /// let worker = node.spawn_process()?;
    /// let monitor = watcher.monitor(worker.pid())?;
    /// worker.exit_with(Term::atom("shutdown"));
    /// let down = watcher.recv_down(&monitor).await?;
    /// assert_eq!(down.reason, Reason::Shutdown);
    /// # Ok(()) }
    /// ```
    pub async fn recv_down(&mut self, reference: &Reference) -> Result<Down, RecvError> {
        let message = self
            .recv_matching(|m| matches!(m.as_down(), Some(d) if d.reference == *reference))
            .await?;
        // The match took only a 'DOWN' of this reference.
        message.as_down().ok_or(RecvError::Closed)
    }

    /// `gen_server:call` with Rust values ([`Process::gen_call`]): the
    /// request converts to a term, the reply to an `R`.
    pub async fn gen_call_as<Q, R>(
        &mut self,
        server: impl Into<Dest>,
        request: &Q,
        timeout: Duration,
    ) -> Result<R, Error>
    where
        Q: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let request = etf::serde::to_term(request)?;
        let reply = self.gen_call(server, request, timeout).await?;
        Ok(etf::serde::from_term(&reply)?)
    }

    /// `gen_server:cast` of a Rust value ([`Process::gen_cast`]).
    pub fn gen_cast_as<Q: Serialize + ?Sized>(
        &self,
        server: impl Into<Dest>,
        request: &Q,
    ) -> Result<(), Error> {
        Ok(self.gen_cast(server, etf::serde::to_term(request)?)?)
    }
}

impl Call {
    /// The request as a Rust value.
    pub fn request_as<T: DeserializeOwned>(&self) -> Result<T, etf::serde::Error> {
        etf::serde::from_term(&self.request)
    }

    /// Replies with a Rust value ([`Call::reply`]).
    pub fn reply_as<R: Serialize + ?Sized>(
        &self,
        server: &Process,
        reply: &R,
    ) -> Result<(), Error> {
        Ok(self.reply(server, etf::serde::to_term(reply)?)?)
    }
}

impl Rpc {
    /// `rpc:call(Node, Module, Function, Args, Timeout)` with Rust values:
    /// `args` converts to a tuple or a list whose elements are the
    /// arguments (`(a, b)`, `(a,)` for one argument, `()` for none, or a
    /// `Vec`), the result to an `R`.
    ///
    /// ```no_run
    /// # async fn demo(node: cnode::Node) -> Result<(), cnode::Error> {
    /// use std::time::Duration;
    ///
    /// let sorted: Vec<i64> = node
    ///     .rpc()
    ///     .call_as("erl@localhost", "lists", "sort", &(vec![3, 1, 2],), Duration::from_secs(5))
    ///     .await?;
    /// assert_eq!(sorted, [1, 2, 3]);
    /// # Ok(()) }
    /// ```
    pub async fn call_as<A, R>(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: &A,
        timeout: Duration,
    ) -> Result<R, Error>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let args = arguments(etf::serde::to_term(args)?)?;
        let result = self.call(node, module, function, args, timeout).await?;
        Ok(etf::serde::from_term(&result)?)
    }
}

/// The argument list of a converted argument value: the elements of a
/// tuple or list.
fn arguments(term: Term) -> Result<Vec<Term>, etf::serde::Error> {
    term.into_tuple().or_else(Term::into_list).map_err(|other| {
        <etf::serde::Error as serde::ser::Error>::custom(format!(
            "rpc arguments must be a tuple or a list of the arguments, not {other}"
        ))
    })
}

/// A served function with Rust arguments and result: its arguments as
/// one tuple converted to an `A`, its result converted back to a term.
/// Arguments that do not convert raise `error:{badarg, Description}` in
/// the caller, where the description names the function and what did not
/// convert.
pub(crate) fn typed_function<A, R, F, Fut>(
    module: &str,
    function: &str,
    f: F,
) -> impl Fn(Vec<Term>) -> std::pin::Pin<Box<dyn Future<Output = FunctionResult> + Send>>
       + Send
       + Sync
       + 'static
where
    A: DeserializeOwned + Send + 'static,
    R: Serialize,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Exception>> + Send + 'static,
{
    let name = format!("{module}:{function}");
    move |args: Vec<Term>| {
        let arity = args.len();
        let decoded = etf::serde::from_term::<A>(&Term::Tuple(args)).map_err(|err| {
            badarg(format!(
                "{name}/{arity}: the arguments do not convert: {err}"
            ))
        });
        let call = decoded.map(&f);
        let name = name.clone();
        Box::pin(async move {
            let result = call?.await?;
            etf::serde::to_term(&result).map_err(|err| {
                badarg(format!(
                    "{name}/{arity}: the result does not convert: {err}"
                ))
            })
        })
    }
}

/// `error:{badarg, <<"Description">>}`.
fn badarg(description: String) -> Exception {
    Exception::Error(Term::tagged("badarg", description))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_arguments_are_the_elements_of_a_tuple_or_list() {
        let of = |t: Term| arguments(t).map_err(|e| e.to_string());
        assert_eq!(
            of(etf::serde::to_term(&(1, "a")).unwrap()).unwrap().len(),
            2
        );
        assert_eq!(
            of(etf::serde::to_term(&()).unwrap()).unwrap(),
            Vec::<Term>::new()
        );
        assert_eq!(
            of(etf::serde::to_term(&vec![1, 2, 3]).unwrap())
                .unwrap()
                .len(),
            3
        );
        let err = of(Term::atom("x")).unwrap_err();
        assert!(err.contains("tuple or a list"), "{err}");
    }
}
