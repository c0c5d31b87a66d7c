//! Exit signals, links, monitors and aliases on the process table, as the
//! BEAM handles them.
//!
//! Every operation runs under the table lock, delivers to local mailboxes
//! at once (which never waits) and collects what must go to other nodes in
//! an [`Outbox`], sent by the caller after the lock is released.

use std::collections::VecDeque;

use dist_proto::{ControlMessage, PidOrName};
use etf::{Atom, Pid, Reference, Term};

use crate::data::message::Message;
use crate::state::monitor::{Incoming, Outgoing};
use crate::state::table::{AliasOwner, ProcessTable};

/// Control messages for other nodes, in order.
pub(crate) type Outbox = Vec<(Atom, ControlMessage, Option<Term>)>;

/// How an exit signal came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// Through a link that the receiver may no longer have (an `EXIT` from
    /// a remote node): ignored unless the link is there.
    Link,
    /// Through a link already removed by the sender's side of this table
    /// (a local process died, or the connection went down).
    BrokenLink,
    /// `exit(Pid, Reason)` (`EXIT2`).
    Exit2,
}

/// One exit signal to a local process.
struct ExitSignal {
    from: Pid,
    to: Pid,
    reason: Term,
    via: Via,
    /// Sent with priority to an active priority alias of `to`: the
    /// `'EXIT'` message of a trapping receiver overtakes its ordinary
    /// messages.
    priority: bool,
}

/// `{'DOWN', Ref, process, Object, Reason}`.
pub(crate) fn down_message(reference: &Reference, object: Term, reason: Term) -> Message {
    Message {
        from: None,
        payload: Term::tuple(vec![
            Term::atom("DOWN"),
            Term::Reference(reference.clone()),
            Term::atom("process"),
            object,
            reason,
        ]),
    }
}

/// How a monitored process is named in its `'DOWN'`: the pid, or
/// `{Name, Node}`.
fn down_object(target: &PidOrName, node: &Atom) -> Term {
    match target {
        PidOrName::Pid(pid) => Term::Pid(pid.clone()),
        PidOrName::Name(name) => {
            Term::tuple(vec![Term::Atom(name.clone()), Term::Atom(node.clone())])
        }
    }
}

impl ProcessTable {
    fn is_local(&self, pid: &Pid) -> bool {
        pid.node == self.node
    }

    fn deliver_message(&self, to: &Pid, payload: Term) {
        self.deliver(
            to,
            Message {
                from: None,
                payload,
            },
        );
    }

    /// Delivers an exit signal to local `to`, and everything that follows
    /// from it (deaths of non-trapping processes, their links and monitors).
    pub(crate) fn exit_signal(
        &mut self,
        from: &Pid,
        to: &Pid,
        reason: Term,
        via: Via,
        out: &mut Outbox,
    ) {
        self.exit_signals(
            ExitSignal {
                from: from.clone(),
                to: to.clone(),
                reason,
                via,
                priority: false,
            },
            out,
        );
    }

    /// An exit signal sent to an alias (`exit(Alias, Reason)`, OTP 28):
    /// dropped if the alias is not active, else an `EXIT2` to its process.
    /// With `priority` and a priority alias, the `'EXIT'` message of a
    /// trapping receiver is a priority message.
    pub(crate) fn alias_exit_signal(
        &mut self,
        from: &Pid,
        alias: &Reference,
        reason: Term,
        priority: bool,
        out: &mut Outbox,
    ) {
        let Some(owner) = self.aliases.get(alias) else {
            return;
        };
        let signal = ExitSignal {
            from: from.clone(),
            to: owner.pid.clone(),
            reason,
            via: Via::Exit2,
            priority: priority && owner.priority,
        };
        self.exit_signals(signal, out);
    }

    fn exit_signals(&mut self, first: ExitSignal, out: &mut Outbox) {
        let mut work = VecDeque::from([first]);
        while let Some(signal) = work.pop_front() {
            self.one_exit_signal(signal, &mut work, out);
        }
    }

    fn one_exit_signal(
        &mut self,
        s: ExitSignal,
        work: &mut VecDeque<ExitSignal>,
        out: &mut Outbox,
    ) {
        let node = self.node.clone();
        if s.via == Via::Link && !self.links.remove(&s.to, &s.from, &node) {
            return;
        }
        let Some(trap) = self.registry.traps_exit(&s.to) else {
            return;
        };
        if s.via == Via::Exit2 && s.reason.is_atom("kill") {
            self.die(&s.to, Term::atom("killed"), work, out);
        } else if trap {
            let message = Term::tuple(vec![Term::atom("EXIT"), Term::Pid(s.from), s.reason]);
            if s.priority {
                let message = Message {
                    from: None,
                    payload: message,
                };
                self.deliver_priority(&s.to, message);
            } else {
                self.deliver_message(&s.to, message);
            }
        } else if !s.reason.is_atom("normal") || (s.via == Via::Exit2 && s.from == s.to) {
            // `exit(self(), normal)` ends a process that does not trap.
            self.die(&s.to, s.reason, work, out);
        }
    }

    /// Ends local `pid` with `reason`: its mailbox gets the news and
    /// closes, its name and aliases are freed, its links get exit signals
    /// and its monitors fire. Nothing happens if it is not alive.
    pub(crate) fn exit_process(&mut self, pid: &Pid, reason: Term, out: &mut Outbox) {
        let mut work = VecDeque::new();
        self.die(pid, reason, &mut work, out);
        while let Some(signal) = work.pop_front() {
            self.one_exit_signal(signal, &mut work, out);
        }
    }

    fn die(&mut self, pid: &Pid, reason: Term, work: &mut VecDeque<ExitSignal>, out: &mut Outbox) {
        let Some(ended) = self.end(pid) else {
            return;
        };
        // The owner may be gone already (a dropped Process).
        ended.kill(reason.clone());
        let node = self.node.clone();
        for other in self.links.take_all(pid, &node) {
            if self.is_local(&other) {
                work.push_back(ExitSignal {
                    from: pid.clone(),
                    to: other,
                    reason: reason.clone(),
                    via: Via::BrokenLink,
                    priority: false,
                });
            } else {
                let exit = ControlMessage::PayloadExit {
                    from: pid.clone(),
                    to: other.clone(),
                    token: None,
                };
                out.push((other.node.clone(), exit, Some(reason.clone())));
            }
        }
        for (reference, m) in self.monitors.take_target(pid) {
            if self.is_local(&m.watcher) {
                self.monitors.remove_out(&reference);
                let object = down_object(&m.named, &node);
                self.deliver(&m.watcher, down_message(&reference, object, reason.clone()));
            } else {
                let down = ControlMessage::PayloadMonitorPExit {
                    from: m.named,
                    to: m.watcher.clone(),
                    reference,
                };
                out.push((m.watcher.node.clone(), down, Some(reason.clone())));
            }
        }
        for (reference, m) in self.monitors.take_watcher(pid) {
            if m.node == node {
                self.monitors.remove_in(&reference);
            } else {
                let demonitor = ControlMessage::DemonitorP {
                    from: pid.clone(),
                    to: m.target,
                    reference,
                };
                out.push((m.node, demonitor, None));
            }
        }
        for watchers in self.node_watchers.values_mut() {
            watchers.remove(pid);
        }
        self.node_watchers.retain(|_, w| !w.is_empty());
    }

    /// `link(Other)` by local `pid`.
    pub(crate) fn link(&mut self, pid: &Pid, other: &Pid, out: &mut Outbox) {
        if pid == other || !self.registry.entangle(pid) {
            return;
        }
        let node = self.node.clone();
        if self.is_local(other) {
            if self.registry.entangle(other) {
                self.links.add(pid, other, &node);
            } else {
                let noproc = Term::atom("noproc");
                self.exit_signal(other, pid, noproc, Via::BrokenLink, out);
            }
        } else if self.links.add(pid, other, &node) {
            let link = ControlMessage::Link {
                from: pid.clone(),
                to: other.clone(),
            };
            out.push((other.node.clone(), link, None));
        }
    }

    /// `unlink(Other)` by local `pid`. The link is gone at once: an exit
    /// signal from `other` that crosses our `UNLINK_ID` is ignored.
    pub(crate) fn unlink(&mut self, pid: &Pid, other: &Pid, out: &mut Outbox) {
        let node = self.node.clone();
        if self.links.remove(pid, other, &node) && !self.is_local(other) {
            let id = self.unlink_id;
            self.unlink_id = self.unlink_id.wrapping_add(1).max(1);
            let unlink = ControlMessage::UnlinkId {
                id,
                from: pid.clone(),
                to: other.clone(),
            };
            out.push((other.node.clone(), unlink, None));
        }
    }

    /// A `LINK` from a remote process: kept if `to` lives, else answered
    /// with an exit signal `noproc`.
    pub(crate) fn remote_link(&mut self, from: &Pid, to: &Pid, out: &mut Outbox) {
        if self.registry.entangle(to) {
            let node = self.node.clone();
            self.links.add(to, from, &node);
        } else {
            let exit = ControlMessage::PayloadExit {
                from: to.clone(),
                to: from.clone(),
                token: None,
            };
            out.push((from.node.clone(), exit, Some(Term::atom("noproc"))));
        }
    }

    /// An `UNLINK_ID` from a remote process: the link goes, the id is
    /// acknowledged.
    pub(crate) fn remote_unlink(&mut self, id: u64, from: &Pid, to: &Pid, out: &mut Outbox) {
        let node = self.node.clone();
        self.links.remove(to, from, &node);
        let ack = ControlMessage::UnlinkIdAck {
            id,
            from: to.clone(),
            to: from.clone(),
        };
        out.push((from.node.clone(), ack, None));
    }

    /// `erlang:monitor(process, Target)` by local `pid`, where `target` is
    /// on `node`. A local target that does not exist gives `noproc` at once.
    pub(crate) fn monitor(
        &mut self,
        pid: &Pid,
        target: PidOrName,
        node: &Atom,
        reference: Reference,
        out: &mut Outbox,
    ) {
        if !self.registry.entangle(pid) {
            return;
        }
        let local = self.node.clone();
        if *node == local {
            let found = self.entangle_target(&target);
            let Some(found) = found else {
                let object = down_object(&target, node);
                self.deliver(pid, down_message(&reference, object, Term::atom("noproc")));
                return;
            };
            let incoming = Incoming {
                watcher: pid.clone(),
                target: found,
                named: target.clone(),
            };
            self.monitors.add_in(reference.clone(), incoming, &local);
        } else {
            let monitor = ControlMessage::MonitorP {
                from: pid.clone(),
                to: target.clone(),
                reference: reference.clone(),
            };
            out.push((node.clone(), monitor, None));
        }
        let outgoing = Outgoing {
            watcher: pid.clone(),
            target,
            node: node.clone(),
        };
        self.monitors.add_out(reference, outgoing, &local);
    }

    /// `erlang:demonitor(Ref)` by local `pid`; `false` if `pid` held no
    /// such monitor.
    pub(crate) fn demonitor(&mut self, pid: &Pid, reference: &Reference, out: &mut Outbox) -> bool {
        let Some(m) = self.monitors.remove_out(reference) else {
            return false;
        };
        if m.watcher != *pid {
            let local = self.node.clone();
            self.monitors.add_out(reference.clone(), m, &local);
            return false;
        }
        if m.node == self.node {
            self.monitors.remove_in(reference);
        } else {
            let demonitor = ControlMessage::DemonitorP {
                from: pid.clone(),
                to: m.target,
                reference: reference.clone(),
            };
            out.push((m.node, demonitor, None));
        }
        true
    }

    /// A `MONITOR_P` from a remote process: kept if the target lives, else
    /// answered `noproc`.
    pub(crate) fn remote_monitor(
        &mut self,
        from: &Pid,
        to: PidOrName,
        reference: Reference,
        out: &mut Outbox,
    ) {
        let found = self.entangle_target(&to);
        match found {
            Some(target) => {
                let incoming = Incoming {
                    watcher: from.clone(),
                    target,
                    named: to,
                };
                let local = self.node.clone();
                self.monitors.add_in(reference, incoming, &local);
            }
            None => {
                let down = ControlMessage::PayloadMonitorPExit {
                    from: to,
                    to: from.clone(),
                    reference,
                };
                out.push((from.node.clone(), down, Some(Term::atom("noproc"))));
            }
        }
    }

    /// A `MONITOR_P_EXIT` for a monitor a local process holds on `peer`.
    pub(crate) fn remote_down(&mut self, peer: &Atom, reference: &Reference, reason: Term) {
        let Some(m) = self.monitors.remove_out(reference) else {
            return;
        };
        let object = down_object(&m.target, peer);
        self.deliver(&m.watcher, down_message(reference, object, reason));
    }

    /// The connection to `node` is gone: every link across it delivers
    /// `noconnection`, every monitor of a process there fires with
    /// `noconnection`, monitors held from there are forgotten, and
    /// `monitor_node` subscribers get `{nodedown, Node}`. One pass over
    /// the affected entries only.
    pub(crate) fn node_down(&mut self, node: &Atom, out: &mut Outbox) {
        for (reference, m) in self.monitors.take_node(node) {
            let object = down_object(&m.target, node);
            let down = down_message(&reference, object, Term::atom("noconnection"));
            self.deliver(&m.watcher, down);
        }
        if let Some(watchers) = self.node_watchers.remove(node) {
            for (pid, count) in watchers {
                for _ in 0..count {
                    let message =
                        Term::tuple(vec![Term::atom("nodedown"), Term::Atom(node.clone())]);
                    self.deliver_message(&pid, message);
                }
            }
        }
        let mut work: VecDeque<ExitSignal> = self
            .links
            .take_node(node)
            .into_iter()
            .map(|(local, remote)| ExitSignal {
                from: remote,
                to: local,
                reason: Term::atom("noconnection"),
                via: Via::BrokenLink,
                priority: false,
            })
            .collect();
        while let Some(signal) = work.pop_front() {
            self.one_exit_signal(signal, &mut work, out);
        }
    }

    /// The live local process a monitor names, marked as having signal
    /// state (see [`Registry::entangle`](crate::state::registry::Registry::entangle)).
    fn entangle_target(&self, target: &PidOrName) -> Option<Pid> {
        let pid = match target {
            PidOrName::Pid(p) => p.clone(),
            PidOrName::Name(name) => self.whereis(name.as_str())?,
        };
        self.registry.entangle(&pid).then_some(pid)
    }

    /// A new alias of local `pid`; a priority alias if `priority`.
    pub(crate) fn add_alias(&mut self, pid: &Pid, alias: Reference, priority: bool) -> bool {
        if !self.registry.entangle(pid) {
            return false;
        }
        self.aliases_of
            .entry(pid.clone())
            .or_default()
            .insert(alias.clone());
        let owner = AliasOwner {
            pid: pid.clone(),
            priority,
        };
        self.aliases.insert(alias, owner);
        true
    }

    /// Deactivates an alias of `pid`; `false` if it was not one.
    pub(crate) fn remove_alias(&mut self, pid: &Pid, alias: &Reference) -> bool {
        if self.aliases.get(alias).map(|owner| &owner.pid) != Some(pid) {
            return false;
        }
        self.aliases.remove(alias);
        if let Some(aliases) = self.aliases_of.get_mut(pid) {
            aliases.remove(alias);
            if aliases.is_empty() {
                self.aliases_of.remove(pid);
            }
        }
        true
    }

    /// Delivers a message sent to an alias; `false` if the alias is not
    /// active (the message is dropped, as in Erlang). A message sent with
    /// `priority` to a priority alias overtakes the ordinary messages
    /// waiting in the mailbox; otherwise it is an ordinary message.
    pub(crate) fn deliver_alias(
        &self,
        alias: &Reference,
        message: Message,
        priority: bool,
    ) -> bool {
        match self.aliases.get(alias) {
            Some(owner) if priority && owner.priority => self.deliver_priority(&owner.pid, message),
            Some(owner) => self.deliver(&owner.pid, message),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::mailbox::Mailbox;
    use crate::state::registry::Registry;
    use std::sync::Arc;

    type Spawned = (Pid, Arc<Mailbox>);

    fn table() -> ProcessTable {
        ProcessTable::new(Arc::new(Registry::new(Atom::new("a@h"), 1, 100)))
    }

    impl ProcessTable {
        fn spawn(&self) -> Result<Spawned, crate::SpawnError> {
            self.registry.spawn()
        }

        fn trap(&self, pid: &Pid) {
            self.registry.set_trap_exit(pid, true);
        }
    }

    fn remote(id: u32) -> Pid {
        Pid {
            node: Atom::new("b@h"),
            id,
            serial: 0,
            creation: 2,
        }
    }

    fn message(spawned: &mut Spawned) -> Option<Term> {
        spawned.1.try_take().map(|(m, _)| m.payload)
    }

    #[test]
    fn an_exit_that_crosses_our_unlink_is_ignored_and_the_unlink_is_sent() {
        let mut t = table();
        let mut p = t.spawn().expect("spawn");
        let mut out = Outbox::new();
        let r = remote(5);
        t.link(&p.0, &r, &mut out);
        t.unlink(&p.0, &r, &mut out);
        assert!(matches!(&out[1].1, ControlMessage::UnlinkId { id: 1, .. }));
        t.exit_signal(&r, &p.0, Term::atom("crash"), Via::Link, &mut out);
        assert!(t.is_alive(&p.0));
        assert_eq!(message(&mut p), None);
    }

    #[test]
    fn exit2_kill_kills_a_trapping_process_and_its_remote_links_get_killed() {
        let mut t = table();
        let mut p = t.spawn().expect("spawn");
        t.trap(&p.0);
        let mut out = Outbox::new();
        let (linked, watcher) = (remote(1), remote(2));
        t.link(&p.0, &linked, &mut out);
        let named = PidOrName::Name(Atom::new("svc"));
        t.registry.register("svc", &p.0).expect("register");
        let r = Reference {
            node: Atom::new("b@h"),
            creation: 2,
            ids: vec![1, 2, 3],
        };
        t.remote_monitor(&watcher, named.clone(), r.clone(), &mut out);
        out.clear();
        // A trapped exit is a message.
        t.exit_signal(&linked, &p.0, Term::atom("why"), Via::Exit2, &mut out);
        let expected = Term::tuple(vec![
            Term::atom("EXIT"),
            Term::Pid(linked.clone()),
            Term::atom("why"),
        ]);
        assert_eq!(message(&mut p), Some(expected));
        // kill is not trappable.
        t.exit_signal(&watcher, &p.0, Term::atom("kill"), Via::Exit2, &mut out);
        assert!(!t.is_alive(&p.0));
        assert_eq!(t.whereis("svc"), None);
        assert_eq!(p.1.killed(), Some(&Term::atom("killed")));
        let killed = Some(Term::atom("killed"));
        assert!(out.iter().any(|(n, c, reason)| n.as_str() == "b@h"
            && matches!(c, ControlMessage::PayloadExit { to, .. } if *to == linked)
            && *reason == killed));
        assert!(out.iter().any(|(_, c, reason)| matches!(c,
            ControlMessage::PayloadMonitorPExit { from, to, reference }
                if *from == named && *to == watcher && *reference == r)
            && *reason == killed));
    }

    #[test]
    fn a_lost_node_kills_non_trapping_linked_processes_and_tells_their_other_links() {
        let mut t = table();
        let p = t.spawn().expect("spawn");
        let other_node = Pid {
            node: Atom::new("c@h"),
            ..remote(3)
        };
        let mut out = Outbox::new();
        t.link(&p.0, &remote(1), &mut out);
        t.link(&p.0, &other_node, &mut out);
        out.clear();
        t.node_down(&Atom::new("b@h"), &mut out);
        assert!(!t.is_alive(&p.0));
        // Only the link to c@h is told, with noconnection.
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0.as_str(), "c@h");
        assert_eq!(out[0].2, Some(Term::atom("noconnection")));
    }

    #[test]
    fn normal_exit_signals_end_only_a_process_that_sends_them_to_itself() {
        let mut t = table();
        let (a, b) = (t.spawn().expect("spawn"), t.spawn().expect("spawn"));
        let mut out = Outbox::new();
        t.exit_signal(&a.0, &b.0, Term::atom("normal"), Via::Exit2, &mut out);
        assert!(t.is_alive(&b.0));
        t.exit_signal(&b.0, &b.0, Term::atom("normal"), Via::Exit2, &mut out);
        assert!(!t.is_alive(&b.0));
        assert_eq!(b.1.killed(), Some(&Term::atom("normal")));
    }

    #[test]
    fn a_link_to_a_process_that_is_gone_answers_noproc() {
        let mut t = table();
        let mut out = Outbox::new();
        let dead = Pid {
            node: Atom::new("a@h"),
            id: 99,
            serial: 0,
            creation: 1,
        };
        t.remote_link(&remote(1), &dead, &mut out);
        assert!(matches!(&out[0].1, ControlMessage::PayloadExit { from, .. } if *from == dead));
        assert_eq!(out[0].2, Some(Term::atom("noproc")));
    }

    #[test]
    fn exits_through_aliases_are_priority_exits_only_through_a_priority_alias_with_priority() {
        let mut t = table();
        let mut p = t.spawn().expect("spawn");
        t.trap(&p.0);
        p.1.take_priority();
        let alias = |id| Reference {
            node: Atom::new("a@h"),
            creation: 1,
            ids: vec![id, 0, 0],
        };
        let (plain, priority) = (alias(1), alias(2));
        t.add_alias(&p.0, plain.clone(), false);
        t.add_alias(&p.0, priority.clone(), true);
        let mut out = Outbox::new();
        let from = remote(1);
        let exit = |reason: &str| exit_message(&from, Term::atom(reason));
        t.alias_exit_signal(&from, &priority, Term::atom("p"), true, &mut out);
        t.alias_exit_signal(&from, &priority, Term::atom("no_option"), false, &mut out);
        t.alias_exit_signal(&from, &plain, Term::atom("plain"), true, &mut out);
        let priority_exit = p.1.try_take_priority().expect("a priority exit");
        assert_eq!(priority_exit.payload, exit("p"));
        assert!(p.1.try_take_priority().is_none());
        assert_eq!(message(&mut p), Some(exit("no_option")));
        assert_eq!(message(&mut p), Some(exit("plain")));
        // An inactive alias reaches nobody; `kill` through an alias kills.
        assert!(t.remove_alias(&p.0, &plain));
        t.alias_exit_signal(&from, &plain, Term::atom("kill"), false, &mut out);
        assert!(t.is_alive(&p.0));
        t.alias_exit_signal(&from, &priority, Term::atom("kill"), true, &mut out);
        assert!(!t.is_alive(&p.0));
        assert!(t.aliases.is_empty(), "the dead process's aliases are gone");
        assert!(t.aliases_of.is_empty());
        assert!(out.is_empty());
    }

    fn exit_message(from: &Pid, reason: Term) -> Term {
        Term::tuple(vec![Term::atom("EXIT"), Term::Pid(from.clone()), reason])
    }
}
