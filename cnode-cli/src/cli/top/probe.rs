//! The questions `cnode top` asks the node, all by rpc and nothing loaded
//! onto it: each is a few Erlang expressions that the node scans and
//! parses once (`erl_scan:string/1`, `erl_parse:parse_exprs/1`) and then
//! evaluates at each refresh with `erl_eval:exprs/2`, so that one rpc
//! brings back what would otherwise take one per process.
//!
//! - The sample: the node-wide figures, every pid, and for each its
//!   reductions, memory and queue length. The per-process work is
//!   `lists:zipwith/3` over `fun erlang:process_info/2`, compiled code on
//!   the node: a list comprehension would run in `erl_eval`, interpreted,
//!   at three to five times the node's CPU (measured on 100k processes:
//!   0.15 to 0.5 s against 1.3 s, on a loaded two-core machine). The
//!   reply is about 90 bytes per process before the atom cache; the whole
//!   sample took about 0.5 s there, with a release build of ours.
//! - The names: registered name and current function of the few shown.
//! - The details of one process: `process_info/2` with links, monitors
//!   and monitored_by cut to a count and the first few, the dictionary to
//!   its size.
//! - Scheduler utilisation needs `erlang:system_flag(scheduler_wall_time,
//!   true)`, which holds only as long as the process that set it lives: a
//!   holder process spawned on the node sets it and waits for `stop` or for
//!   our node to go down (`monitor_node/2`), so the measurement is turned
//!   off again when `cnode top` ends, however it ends (unless another
//!   process on the node asked for it too).

use std::time::Duration;

use cnode::Rpc;
use etf::{Pid, Term};

use super::super::node_error::NodeCliError;
use super::super::session::Session;
use super::sample::{Details, Malformed, Naming, Sample};

/// Node-wide figures, every pid, and each one's ranking numbers (a
/// process that exits meanwhile answers `undefined`). A fun applied to
/// the pids binds nothing at the top, so `erl_eval` sends back no
/// bindings with the value.
const SAMPLE: &str = "\
(fun(Ps) ->
  {{erlang:system_info(otp_release), element(1, erlang:statistics(wall_clock)),
    erlang:system_info(process_count), erlang:system_info(process_limit),
    erlang:system_info(port_count), erlang:system_info(port_limit),
    erlang:system_info(atom_count), erlang:system_info(atom_limit),
    erlang:memory(), erlang:statistics(run_queue),
    erlang:statistics(scheduler_wall_time), erlang:system_info(schedulers_online)},
   Ps,
   lists:zipwith(fun erlang:process_info/2, Ps,
                 lists:duplicate(length(Ps), [reductions, memory, message_queue_len]))}
 end)(erlang:processes()).";

/// For each pid of `Pids`: its name and current function, or `undefined`.
const NAMES: &str = "\
lists:zipwith(fun erlang:process_info/2, Pids,
              lists:duplicate(length(Pids), [registered_name, current_function])).";

/// The details of `Pid`, or `undefined`.
const DETAILS: &str = "\
case erlang:process_info(Pid, [registered_name, status, initial_call,
        current_function, group_leader, message_queue_len, reductions,
        memory, heap_size, total_heap_size, stack_size, trap_exit, priority,
        links, monitors, monitored_by, dictionary]) of
    undefined -> undefined;
    Items ->
        Translated = case lists:keyfind(dictionary, 1, Items) of
            {dictionary, D} -> case lists:keyfind('$initial_call', 1, D) of
                {_, Call} -> [{translated_call, Call}];
                false -> []
            end;
            false -> []
        end,
        [case I of
             {K, L} when K =:= links; K =:= monitors; K =:= monitored_by ->
                 {K, {length(L), lists:sublist(L, 6)}};
             {dictionary, D2} -> {dictionary_size, length(D2)};
             _ -> I
         end || I <- Items] ++ Translated
end.";

/// A process that keeps the scheduler wall time measured while it lives;
/// the answer comes once the measurement is on, so that the first sample
/// has it.
const HOLDER: &str = "\
(fun(Caller) ->
    Holder = erlang:spawn(fun() ->
        erlang:monitor_node(Us, true),
        erlang:system_flag(scheduler_wall_time, true),
        Caller ! {self(), measuring},
        receive {nodedown, Us} -> ok; stop -> ok end
    end),
    receive {Holder, measuring} -> Holder after 5000 -> Holder end
end)(self()).";

/// The node and the parsed queries.
pub(crate) struct Probe {
    rpc: Rpc,
    target: String,
    timeout: Duration,
    /// Whether `erl_eval` bindings are a map (a list, an orddict, on
    /// every release so far).
    map_bindings: bool,
    sample: Term,
    names: Term,
    details: Term,
    holder: Option<Term>,
}

impl Probe {
    /// Parses the queries on the node (seven rpcs, once).
    pub(crate) async fn new(session: &Session) -> Result<Probe, NodeCliError> {
        let mut probe = Probe {
            rpc: session.node.rpc(),
            target: session.target.clone(),
            timeout: session.timeout,
            map_bindings: false,
            sample: Term::Nil,
            names: Term::Nil,
            details: Term::Nil,
            holder: None,
        };
        let bindings = probe.call("erl_eval", "new_bindings", Vec::new()).await?;
        probe.map_bindings = bindings.as_map().is_some();
        probe.sample = probe.parse(SAMPLE).await?;
        probe.names = probe.parse(NAMES).await?;
        probe.details = probe.parse(DETAILS).await?;
        Ok(probe)
    }

    /// Starts the holder of the scheduler wall time measurement; it stops
    /// with [`release`](Self::release) or when our node goes down.
    pub(crate) async fn measure_schedulers(&mut self, us: &str) -> Result<(), NodeCliError> {
        let holder = self.parse(HOLDER).await?;
        let pid = self.eval(&holder, vec![("Us", Term::atom(us))]).await?;
        if pid.as_pid().is_none() {
            return Err(self.unexpected("erlang:spawn/1", pid));
        }
        self.holder = Some(pid);
        Ok(())
    }

    /// Stops the holder, turning the measurement off unless someone else
    /// on the node wants it.
    pub(crate) async fn release(&mut self) {
        if let Some(holder) = self.holder.take() {
            // If this fails, the node is gone or our node going down
            // stops the holder anyway.
            let _ = self
                .call("erlang", "send", vec![holder, Term::atom("stop")])
                .await;
        }
    }

    /// One sample of the node.
    ///
    /// `RUST_LOG=cnode=debug` logs what each costs: the rpc (the node's
    /// work and the reply's transfer and decoding) and our decoding of the
    /// term into a sample.
    pub(crate) async fn sample(&self) -> Result<Sample, NodeCliError> {
        let asked = std::time::Instant::now();
        let answer = self.eval(&self.sample, Vec::new()).await?;
        let answered = asked.elapsed();
        let sample = Sample::decode(&answer).map_err(|err| self.malformed("the sample", err))?;
        tracing::debug!(
            processes = sample.processes.len(),
            rpc_ms = answered.as_millis() as u64,
            decode_ms = (asked.elapsed() - answered).as_millis() as u64,
            "sample of {}",
            self.target
        );
        Ok(sample)
    }

    /// Names and current functions of `pids`, in their order.
    pub(crate) async fn names(&self, pids: &[Pid]) -> Result<Vec<Naming>, NodeCliError> {
        if pids.is_empty() {
            return Ok(Vec::new());
        }
        let list = Term::list(pids.iter().cloned().map(Term::Pid).collect());
        let answer = self.eval(&self.names, vec![("Pids", list)]).await?;
        match answer.as_list() {
            Some(items) if items.len() == pids.len() => {
                Ok(items.iter().map(Naming::decode).collect())
            }
            _ => Err(self.unexpected("the names query", answer)),
        }
    }

    /// The details of `pid`; `None` once it has exited.
    pub(crate) async fn details(&self, pid: &Pid) -> Result<Option<Details>, NodeCliError> {
        let answer = self
            .eval(&self.details, vec![("Pid", Term::Pid(pid.clone()))])
            .await?;
        Details::decode(pid, &answer).map_err(|err| self.malformed("the details", err))
    }

    async fn parse(&self, text: &str) -> Result<Term, NodeCliError> {
        let scanned = self
            .call("erl_scan", "string", vec![Term::charlist(text)])
            .await?;
        let tokens = match scanned.as_tuple() {
            Some([ok, tokens, _]) if ok.is_atom("ok") => tokens.clone(),
            _ => return Err(self.unexpected("erl_scan:string/1", scanned)),
        };
        let parsed = self.call("erl_parse", "parse_exprs", vec![tokens]).await?;
        match parsed.as_tuple() {
            Some([ok, exprs]) if ok.is_atom("ok") => Ok(exprs.clone()),
            _ => Err(self.unexpected("erl_parse:parse_exprs/1", parsed)),
        }
    }

    /// `erl_eval:exprs(Exprs, Bindings)`'s value.
    async fn eval(&self, exprs: &Term, bindings: Vec<(&str, Term)>) -> Result<Term, NodeCliError> {
        // An orddict is sorted by key (atoms compare by their text).
        let mut bindings = bindings;
        bindings.sort_by_key(|(name, _)| *name);
        let bindings: Vec<(Term, Term)> = bindings
            .into_iter()
            .map(|(name, value)| (Term::atom(name), value))
            .collect();
        let bindings = if self.map_bindings {
            Term::map(bindings).map_err(|_| self.unexpected("erl_eval bindings", Term::Nil))?
        } else {
            Term::list(
                bindings
                    .into_iter()
                    .map(|(name, value)| Term::tuple(vec![name, value]))
                    .collect(),
            )
        };
        let answer = self
            .call("erl_eval", "exprs", vec![exprs.clone(), bindings])
            .await?;
        match answer.as_tuple() {
            Some([value, result, _]) if value.is_atom("value") => Ok(result.clone()),
            _ => Err(self.unexpected("erl_eval:exprs/2", answer)),
        }
    }

    async fn call(
        &self,
        module: &str,
        function: &str,
        args: Vec<Term>,
    ) -> Result<Term, NodeCliError> {
        self.rpc
            .call(&self.target, module, function, args, self.timeout)
            .await
            .map_err(NodeCliError::from_rpc)
    }

    fn unexpected(&self, function: &'static str, answer: Term) -> NodeCliError {
        NodeCliError::Unexpected {
            node: self.target.clone(),
            function,
            answer,
        }
    }

    fn malformed(&self, query: &'static str, err: Malformed) -> NodeCliError {
        NodeCliError::Malformed {
            node: self.target.clone(),
            query,
            part: err.what,
        }
    }
}
