//! Control messages of the connected phase: the tuple that starts every
//! frame, with the operation code first (`DOP_*` in OTP's `dist.h`).
//!
//! Each message converts to and from its tuple; whether a second term (the
//! payload: a message, an exit reason or spawn arguments) follows is given by
//! [`ControlMessage::has_payload`]. The `_TT` forms (with a sequential trace
//! token) are the same variants with `token: Some(..)`.

use etf::{Atom, Pid, Reference, Term};

/// Operation codes (`DOP_*`).
pub mod op {
    /// `{1, From, To}`
    pub const LINK: u8 = 1;
    /// `{2, '', To}` + Msg
    pub const SEND: u8 = 2;
    /// `{3, From, To, Reason}`
    pub const EXIT: u8 = 3;
    /// `{4, From, To}` (removed in OTP 26; never sent)
    pub const UNLINK: u8 = 4;
    /// `{6, From, '', Name}` + Msg
    pub const REG_SEND: u8 = 6;
    /// `{7, From, To}`
    pub const GROUP_LEADER: u8 = 7;
    /// `{8, From, To, Reason}`
    pub const EXIT2: u8 = 8;
    /// `{12, '', To, Token}` + Msg
    pub const SEND_TT: u8 = 12;
    /// `{13, From, To, Token, Reason}`
    pub const EXIT_TT: u8 = 13;
    /// `{16, From, '', Name, Token}` + Msg
    pub const REG_SEND_TT: u8 = 16;
    /// `{18, From, To, Token, Reason}`
    pub const EXIT2_TT: u8 = 18;
    /// `{19, From, PidOrName, Ref}`
    pub const MONITOR_P: u8 = 19;
    /// `{20, From, PidOrName, Ref}`
    pub const DEMONITOR_P: u8 = 20;
    /// `{21, PidOrName, To, Ref, Reason}`
    pub const MONITOR_P_EXIT: u8 = 21;
    /// `{22, From, To}` + Msg
    pub const SEND_SENDER: u8 = 22;
    /// `{23, From, To, Token}` + Msg
    pub const SEND_SENDER_TT: u8 = 23;
    /// `{24, From, To}` + Reason
    pub const PAYLOAD_EXIT: u8 = 24;
    /// `{25, From, To, Token}` + Reason
    pub const PAYLOAD_EXIT_TT: u8 = 25;
    /// `{26, From, To}` + Reason
    pub const PAYLOAD_EXIT2: u8 = 26;
    /// `{27, From, To, Token}` + Reason
    pub const PAYLOAD_EXIT2_TT: u8 = 27;
    /// `{28, PidOrName, To, Ref}` + Reason
    pub const PAYLOAD_MONITOR_P_EXIT: u8 = 28;
    /// `{29, ReqId, From, GL, {M, F, A}, Opts}` + Args
    pub const SPAWN_REQUEST: u8 = 29;
    /// `{30, ReqId, From, GL, {M, F, A}, Opts, Token}` + Args
    pub const SPAWN_REQUEST_TT: u8 = 30;
    /// `{31, ReqId, To, Flags, Result}`
    pub const SPAWN_REPLY: u8 = 31;
    /// `{32, ReqId, To, Flags, Result, Token}`
    pub const SPAWN_REPLY_TT: u8 = 32;
    /// `{33, From, Alias}` + Msg
    pub const ALIAS_SEND: u8 = 33;
    /// `{34, From, Alias, Token}` + Msg
    pub const ALIAS_SEND_TT: u8 = 34;
    /// `{35, Id, From, To}`
    pub const UNLINK_ID: u8 = 35;
    /// `{36, Id, From, To}`
    pub const UNLINK_ID_ACK: u8 = 36;
    /// `{37, Flags, From, To}` or `{37, Flags, From, To, Token}` + Msg or
    /// Reason (OTP 28; see [`altact`](super::altact))
    pub const ALTACT_SIG_SEND: u8 = 37;
}

/// The bits of the `Flags` element of ALTACT_SIG_SEND
/// (`ERTS_DOP_ALTACT_SIG_FLG_*` in OTP's `dist.h`). Only the low byte
/// means something; OTP ignores the other bits (and may send a bignum).
pub mod altact {
    /// A priority signal: it overtakes ordinary messages if `To` is an
    /// active priority alias of the receiver.
    pub const PRIORITY: u8 = 1 << 0;
    /// A sequential trace token follows `To` (a 5-tuple).
    pub const TOKEN: u8 = 1 << 1;
    /// `To` is a process alias (a reference).
    pub const ALIAS: u8 = 1 << 2;
    /// `To` is a registered name (an atom).
    pub const NAME: u8 = 1 << 3;
    /// An exit signal (the payload is the reason); otherwise a message.
    pub const EXIT: u8 = 1 << 4;
}

/// SPAWN_REPLY flag: a link was set up.
pub const SPAWN_FLAG_LINK: u8 = 1;
/// SPAWN_REPLY flag: a monitor was set up.
pub const SPAWN_FLAG_MONITOR: u8 = 2;

/// A process given by pid or by registered name (monitors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PidOrName {
    /// A pid.
    Pid(Pid),
    /// A name registered on the node that receives the message.
    Name(Atom),
}

/// Where an ALTACT_SIG_SEND goes: with neither the [`altact::ALIAS`] nor the
/// [`altact::NAME`] flag, `To` is a pid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AltactDest {
    /// A process.
    Pid(Pid),
    /// A name registered on the receiving node.
    Name(Atom),
    /// A process alias (a reference made by `alias/0,1`).
    Alias(Reference),
}

/// What an ALTACT_SIG_SEND carries as its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AltactKind {
    /// A message (`erlang:send/3`).
    Message,
    /// An exit signal with the payload as reason (`exit/2,3` to an alias,
    /// or with the `priority` option).
    Exit,
}

/// A control message. `token` is the sequential trace token of the `_TT`
/// forms.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlMessage {
    /// LINK: `from` links to `to`.
    Link {
        /// The linking process.
        from: Pid,
        /// The process linked to.
        to: Pid,
    },
    /// SEND / SEND_TT: a message to a pid (payload: the message).
    Send {
        /// The receiver.
        to: Pid,
        /// The trace token.
        token: Option<Term>,
    },
    /// EXIT / EXIT_TT: a linked process exited.
    Exit {
        /// The exited process.
        from: Pid,
        /// The linked process.
        to: Pid,
        /// The exit reason.
        reason: Term,
        /// The trace token.
        token: Option<Term>,
    },
    /// UNLINK (old protocol; decoded, never sent).
    Unlink {
        /// The unlinking process.
        from: Pid,
        /// The process unlinked from.
        to: Pid,
    },
    /// REG_SEND / REG_SEND_TT: a message to a registered name (payload: the
    /// message).
    RegSend {
        /// The sender.
        from: Pid,
        /// The registered name.
        to: Atom,
        /// The trace token.
        token: Option<Term>,
    },
    /// GROUP_LEADER: set `to`'s group leader to `from`.
    GroupLeader {
        /// The new group leader.
        from: Pid,
        /// The process whose group leader changes.
        to: Pid,
    },
    /// EXIT2 / EXIT2_TT: `exit(To, Reason)`.
    Exit2 {
        /// The sender.
        from: Pid,
        /// The target.
        to: Pid,
        /// The exit reason.
        reason: Term,
        /// The trace token.
        token: Option<Term>,
    },
    /// MONITOR_P: `from` monitors `to`.
    MonitorP {
        /// The monitoring process.
        from: Pid,
        /// The monitored process.
        to: PidOrName,
        /// The monitor reference.
        reference: Reference,
    },
    /// DEMONITOR_P: `from` drops its monitor of `to`.
    DemonitorP {
        /// The monitoring process.
        from: Pid,
        /// The monitored process.
        to: PidOrName,
        /// The monitor reference.
        reference: Reference,
    },
    /// MONITOR_P_EXIT: a monitored process exited.
    MonitorPExit {
        /// The monitored process (as it was monitored).
        from: PidOrName,
        /// The monitoring process.
        to: Pid,
        /// The monitor reference.
        reference: Reference,
        /// The exit reason.
        reason: Term,
    },
    /// SEND_SENDER / SEND_SENDER_TT: a message to a pid with its sender
    /// (payload: the message).
    SendSender {
        /// The sender.
        from: Pid,
        /// The receiver.
        to: Pid,
        /// The trace token.
        token: Option<Term>,
    },
    /// PAYLOAD_EXIT / PAYLOAD_EXIT_TT: EXIT with the reason as payload.
    PayloadExit {
        /// The exited process.
        from: Pid,
        /// The linked process.
        to: Pid,
        /// The trace token.
        token: Option<Term>,
    },
    /// PAYLOAD_EXIT2 / PAYLOAD_EXIT2_TT: EXIT2 with the reason as payload.
    PayloadExit2 {
        /// The sender.
        from: Pid,
        /// The target.
        to: Pid,
        /// The trace token.
        token: Option<Term>,
    },
    /// PAYLOAD_MONITOR_P_EXIT: MONITOR_P_EXIT with the reason as payload.
    PayloadMonitorPExit {
        /// The monitored process (as it was monitored).
        from: PidOrName,
        /// The monitoring process.
        to: Pid,
        /// The monitor reference.
        reference: Reference,
    },
    /// SPAWN_REQUEST / SPAWN_REQUEST_TT (payload: the argument list).
    SpawnRequest {
        /// The request id.
        req_id: Reference,
        /// The requesting process.
        from: Pid,
        /// The group leader for the new process.
        group_leader: Pid,
        /// The module to call.
        module: Atom,
        /// The function to call.
        function: Atom,
        /// The number of arguments.
        arity: u8,
        /// The spawn options (a list).
        opts: Term,
        /// The trace token.
        token: Option<Term>,
    },
    /// SPAWN_REPLY / SPAWN_REPLY_TT.
    SpawnReply {
        /// The request id.
        req_id: Reference,
        /// The requesting process.
        to: Pid,
        /// [`SPAWN_FLAG_LINK`] | [`SPAWN_FLAG_MONITOR`].
        flags: u8,
        /// The new pid, or an error atom.
        result: Term,
        /// The trace token.
        token: Option<Term>,
    },
    /// ALIAS_SEND / ALIAS_SEND_TT: a message to an alias (payload: the message).
    AliasSend {
        /// The sender.
        from: Pid,
        /// The alias.
        alias: Reference,
        /// The trace token.
        token: Option<Term>,
    },
    /// UNLINK_ID: `from` unlinks from `to`.
    UnlinkId {
        /// The unlink operation id (any u64; large ones arrive as bignums).
        id: u64,
        /// The unlinking process.
        from: Pid,
        /// The process unlinked from.
        to: Pid,
    },
    /// UNLINK_ID_ACK: the answer to UNLINK_ID.
    UnlinkIdAck {
        /// The id of the acknowledged UNLINK_ID.
        id: u64,
        /// The acknowledging process.
        from: Pid,
        /// The process that unlinked.
        to: Pid,
    },
    /// ALTACT_SIG_SEND (OTP 28, with [`DistFlags::ALTACT_SIG`]): a message
    /// or exit signal that takes an "alternative action" at the receiver:
    /// a priority signal, or one to an alias or a name (payload: the
    /// message or the exit reason). Once the flag is negotiated, OTP sends
    /// every message and exit signal to an alias this way, priority or not.
    ///
    /// The flags of the tuple are derived from the fields: `to` gives
    /// [`altact::ALIAS`] or [`altact::NAME`], `token` gives
    /// [`altact::TOKEN`]. Reading ignores unknown flag bits and elements
    /// past the last one known, as OTP does.
    ///
    /// [`DistFlags::ALTACT_SIG`]: crate::DistFlags::ALTACT_SIG
    AltactSigSend {
        /// A message or an exit signal.
        kind: AltactKind,
        /// Whether the sender asked for priority ([`altact::PRIORITY`]).
        priority: bool,
        /// The sender.
        from: Pid,
        /// A pid, a registered name or an alias.
        to: AltactDest,
        /// The trace token.
        token: Option<Term>,
    },
}

/// A control tuple that is not a valid control message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// Not a tuple starting with a small integer.
    #[error("control message is not a tuple starting with an operation code")]
    NotAControlTuple,
    /// An operation code this module does not know.
    #[error("unknown control operation {0}")]
    UnknownOperation(i64),
    /// A known operation with the wrong number of elements.
    #[error("control operation {op} with {arity} elements")]
    Arity {
        /// The operation.
        op: u8,
        /// The tuple size found.
        arity: usize,
    },
    /// An element of the wrong type.
    #[error("control operation {op}: {field} has the wrong type")]
    Field {
        /// The operation.
        op: u8,
        /// The element.
        field: &'static str,
    },
}

impl ControlMessage {
    /// The operation code this message is sent with.
    pub fn op(&self) -> u8 {
        use ControlMessage as C;
        let tt = |token: &Option<Term>, plain: u8, traced: u8| {
            if token.is_some() {
                traced
            } else {
                plain
            }
        };
        match self {
            C::Link { .. } => op::LINK,
            C::Send { token, .. } => tt(token, op::SEND, op::SEND_TT),
            C::Exit { token, .. } => tt(token, op::EXIT, op::EXIT_TT),
            C::Unlink { .. } => op::UNLINK,
            C::RegSend { token, .. } => tt(token, op::REG_SEND, op::REG_SEND_TT),
            C::GroupLeader { .. } => op::GROUP_LEADER,
            C::Exit2 { token, .. } => tt(token, op::EXIT2, op::EXIT2_TT),
            C::MonitorP { .. } => op::MONITOR_P,
            C::DemonitorP { .. } => op::DEMONITOR_P,
            C::MonitorPExit { .. } => op::MONITOR_P_EXIT,
            C::SendSender { token, .. } => tt(token, op::SEND_SENDER, op::SEND_SENDER_TT),
            C::PayloadExit { token, .. } => tt(token, op::PAYLOAD_EXIT, op::PAYLOAD_EXIT_TT),
            C::PayloadExit2 { token, .. } => tt(token, op::PAYLOAD_EXIT2, op::PAYLOAD_EXIT2_TT),
            C::PayloadMonitorPExit { .. } => op::PAYLOAD_MONITOR_P_EXIT,
            C::SpawnRequest { token, .. } => tt(token, op::SPAWN_REQUEST, op::SPAWN_REQUEST_TT),
            C::SpawnReply { token, .. } => tt(token, op::SPAWN_REPLY, op::SPAWN_REPLY_TT),
            C::AliasSend { token, .. } => tt(token, op::ALIAS_SEND, op::ALIAS_SEND_TT),
            C::UnlinkId { .. } => op::UNLINK_ID,
            C::UnlinkIdAck { .. } => op::UNLINK_ID_ACK,
            C::AltactSigSend { .. } => op::ALTACT_SIG_SEND,
        }
    }

    /// Whether a second term (message, reason or arguments) follows.
    pub fn has_payload(&self) -> bool {
        matches!(
            self,
            ControlMessage::Send { .. }
                | ControlMessage::RegSend { .. }
                | ControlMessage::SendSender { .. }
                | ControlMessage::PayloadExit { .. }
                | ControlMessage::PayloadExit2 { .. }
                | ControlMessage::PayloadMonitorPExit { .. }
                | ControlMessage::SpawnRequest { .. }
                | ControlMessage::AliasSend { .. }
                | ControlMessage::AltactSigSend { .. }
        )
    }

    /// The control tuple.
    pub fn to_term(&self) -> Term {
        use ControlMessage as C;
        let op = Term::Int(i64::from(self.op()));
        let pid = |p: &Pid| Term::Pid(p.clone());
        let reference = |r: &Reference| Term::Reference(r.clone());
        let empty = || Term::atom("");
        let mut elements = match self {
            C::Link { from, to }
            | C::Unlink { from, to }
            | C::GroupLeader { from, to }
            | C::SendSender { from, to, .. }
            | C::PayloadExit { from, to, .. }
            | C::PayloadExit2 { from, to, .. } => vec![op, pid(from), pid(to)],
            C::Send { to, .. } => vec![op, empty(), pid(to)],
            C::Exit { from, to, .. } | C::Exit2 { from, to, .. } => vec![op, pid(from), pid(to)],
            C::RegSend { from, to, .. } => vec![op, pid(from), empty(), Term::Atom(to.clone())],
            C::MonitorP {
                from,
                to,
                reference: r,
            }
            | C::DemonitorP {
                from,
                to,
                reference: r,
            } => vec![op, pid(from), pid_or_name(to), reference(r)],
            C::MonitorPExit {
                from,
                to,
                reference: r,
                reason,
            } => vec![op, pid_or_name(from), pid(to), reference(r), reason.clone()],
            C::PayloadMonitorPExit {
                from,
                to,
                reference: r,
            } => vec![op, pid_or_name(from), pid(to), reference(r)],
            C::SpawnRequest {
                req_id,
                from,
                group_leader,
                module,
                function,
                arity,
                opts,
                ..
            } => vec![
                op,
                reference(req_id),
                pid(from),
                pid(group_leader),
                Term::Tuple(vec![
                    Term::Atom(module.clone()),
                    Term::Atom(function.clone()),
                    Term::Int(i64::from(*arity)),
                ]),
                opts.clone(),
            ],
            C::SpawnReply {
                req_id,
                to,
                flags,
                result,
                ..
            } => vec![
                op,
                reference(req_id),
                pid(to),
                Term::Int(i64::from(*flags)),
                result.clone(),
            ],
            C::AliasSend { from, alias, .. } => vec![op, pid(from), reference(alias)],
            C::UnlinkId { id, from, to } | C::UnlinkIdAck { id, from, to } => {
                vec![op, Term::from(*id), pid(from), pid(to)]
            }
            C::AltactSigSend {
                kind,
                priority,
                from,
                to,
                token,
            } => {
                let (bit, to) = match to {
                    AltactDest::Pid(p) => (0, Term::Pid(p.clone())),
                    AltactDest::Name(name) => (altact::NAME, Term::Atom(name.clone())),
                    AltactDest::Alias(alias) => (altact::ALIAS, Term::Reference(alias.clone())),
                };
                let flags = bit
                    | if *priority { altact::PRIORITY } else { 0 }
                    | if token.is_some() { altact::TOKEN } else { 0 }
                    | if *kind == AltactKind::Exit {
                        altact::EXIT
                    } else {
                        0
                    };
                vec![op, Term::Int(i64::from(flags)), pid(from), to]
            }
        };
        // The trace token comes after the fixed elements, before an EXIT reason.
        match self {
            C::Exit { token, reason, .. } | C::Exit2 { token, reason, .. } => {
                elements.extend(token.clone());
                elements.push(reason.clone());
            }
            C::Send { token, .. }
            | C::RegSend { token, .. }
            | C::SendSender { token, .. }
            | C::PayloadExit { token, .. }
            | C::PayloadExit2 { token, .. }
            | C::SpawnRequest { token, .. }
            | C::SpawnReply { token, .. }
            | C::AliasSend { token, .. }
            | C::AltactSigSend { token, .. } => elements.extend(token.clone()),
            _ => {}
        }
        Term::Tuple(elements)
    }

    /// Reads a control tuple.
    pub fn from_term(term: &Term) -> Result<ControlMessage, ControlError> {
        use ControlMessage as C;
        let elements = term.as_tuple().ok_or(ControlError::NotAControlTuple)?;
        let (first, rest) = elements
            .split_first()
            .ok_or(ControlError::NotAControlTuple)?;
        let code = first.as_i64().ok_or(ControlError::NotAControlTuple)?;
        let op = u8::try_from(code).map_err(|_| ControlError::UnknownOperation(code))?;
        let f = Fields { op, rest };
        let msg = match op {
            op::LINK => {
                f.arity(2)?;
                C::Link {
                    from: f.pid(0, "from")?,
                    to: f.pid(1, "to")?,
                }
            }
            op::SEND | op::SEND_TT => C::Send {
                to: f.pid(1, "to")?,
                token: f.token(op == op::SEND_TT, 2, 3)?,
            },
            op::EXIT | op::EXIT_TT | op::EXIT2 | op::EXIT2_TT => {
                let traced = op == op::EXIT_TT || op == op::EXIT2_TT;
                // The token sits before the reason: {Op, From, To, Token, Reason}.
                let token = f.token_at(traced, 3, 2)?;
                let (from, to) = (f.pid(0, "from")?, f.pid(1, "to")?);
                let reason = f.term(if traced { 3 } else { 2 });
                if op == op::EXIT || op == op::EXIT_TT {
                    C::Exit {
                        from,
                        to,
                        reason,
                        token,
                    }
                } else {
                    C::Exit2 {
                        from,
                        to,
                        reason,
                        token,
                    }
                }
            }
            op::UNLINK => {
                f.arity(2)?;
                C::Unlink {
                    from: f.pid(0, "from")?,
                    to: f.pid(1, "to")?,
                }
            }
            op::REG_SEND | op::REG_SEND_TT => C::RegSend {
                token: f.token(op == op::REG_SEND_TT, 3, 4)?,
                from: f.pid(0, "from")?,
                to: f.atom(2, "to")?,
            },
            op::GROUP_LEADER => {
                f.arity(2)?;
                C::GroupLeader {
                    from: f.pid(0, "from")?,
                    to: f.pid(1, "to")?,
                }
            }
            op::MONITOR_P | op::DEMONITOR_P => {
                f.arity(3)?;
                let (from, to, reference) = (
                    f.pid(0, "from")?,
                    f.pid_or_name(1, "to")?,
                    f.reference(2, "ref")?,
                );
                if op == op::MONITOR_P {
                    C::MonitorP {
                        from,
                        to,
                        reference,
                    }
                } else {
                    C::DemonitorP {
                        from,
                        to,
                        reference,
                    }
                }
            }
            op::MONITOR_P_EXIT => {
                f.arity(4)?;
                C::MonitorPExit {
                    from: f.pid_or_name(0, "from")?,
                    to: f.pid(1, "to")?,
                    reference: f.reference(2, "ref")?,
                    reason: f.term(3),
                }
            }
            op::SEND_SENDER | op::SEND_SENDER_TT => C::SendSender {
                token: f.token(op == op::SEND_SENDER_TT, 2, 3)?,
                from: f.pid(0, "from")?,
                to: f.pid(1, "to")?,
            },
            op::PAYLOAD_EXIT | op::PAYLOAD_EXIT_TT => C::PayloadExit {
                token: f.token(op == op::PAYLOAD_EXIT_TT, 2, 3)?,
                from: f.pid(0, "from")?,
                to: f.pid(1, "to")?,
            },
            op::PAYLOAD_EXIT2 | op::PAYLOAD_EXIT2_TT => C::PayloadExit2 {
                token: f.token(op == op::PAYLOAD_EXIT2_TT, 2, 3)?,
                from: f.pid(0, "from")?,
                to: f.pid(1, "to")?,
            },
            op::PAYLOAD_MONITOR_P_EXIT => {
                f.arity(3)?;
                C::PayloadMonitorPExit {
                    from: f.pid_or_name(0, "from")?,
                    to: f.pid(1, "to")?,
                    reference: f.reference(2, "ref")?,
                }
            }
            op::SPAWN_REQUEST | op::SPAWN_REQUEST_TT => {
                let token = f.token(op == op::SPAWN_REQUEST_TT, 5, 6)?;
                let mfa = f.get(3).as_tuple().unwrap_or(&[]);
                let [module, function, arity] = mfa else {
                    return Err(f.field("{Module, Function, Arity}"));
                };
                C::SpawnRequest {
                    req_id: f.reference(0, "request id")?,
                    from: f.pid(1, "from")?,
                    group_leader: f.pid(2, "group leader")?,
                    module: module.as_atom().cloned().ok_or(f.field("module"))?,
                    function: function.as_atom().cloned().ok_or(f.field("function"))?,
                    arity: arity
                        .as_i64()
                        .and_then(|a| u8::try_from(a).ok())
                        .ok_or(f.field("arity"))?,
                    opts: f.term(4),
                    token,
                }
            }
            op::SPAWN_REPLY | op::SPAWN_REPLY_TT => C::SpawnReply {
                token: f.token(op == op::SPAWN_REPLY_TT, 4, 5)?,
                req_id: f.reference(0, "request id")?,
                to: f.pid(1, "to")?,
                flags: f
                    .get(2)
                    .as_i64()
                    .and_then(|x| u8::try_from(x).ok())
                    .ok_or(f.field("flags"))?,
                result: f.term(3),
            },
            op::ALIAS_SEND | op::ALIAS_SEND_TT => C::AliasSend {
                token: f.token(op == op::ALIAS_SEND_TT, 2, 3)?,
                from: f.pid(0, "from")?,
                alias: f.reference(1, "alias")?,
            },
            op::UNLINK_ID | op::UNLINK_ID_ACK => {
                f.arity(3)?;
                let id = unlink_id(f.get(0)).ok_or(f.field("id"))?;
                let (from, to) = (f.pid(1, "from")?, f.pid(2, "to")?);
                if op == op::UNLINK_ID {
                    C::UnlinkId { id, from, to }
                } else {
                    C::UnlinkIdAck { id, from, to }
                }
            }
            op::ALTACT_SIG_SEND => altact_sig_send(&f)?,
            _ => return Err(ControlError::UnknownOperation(code)),
        };
        Ok(msg)
    }
}

/// Reads `{37, Flags, From, To}` or `{37, Flags, From, To, Token}`, with
/// OTP's rules: the tuple may be longer (for future use), `Flags` is any
/// non-negative integer of which only the low byte counts, the token is
/// there if and only if the flags say so, and `To` has the type the flags
/// say (an alias cannot also be a name).
fn altact_sig_send(f: &Fields<'_>) -> Result<ControlMessage, ControlError> {
    if f.rest.len() < 3 {
        return Err(ControlError::Arity {
            op: f.op,
            arity: f.rest.len() + 1,
        });
    }
    let flags = match f.get(0) {
        Term::Int(i) => u64::try_from(*i).ok().map(|i| i as u8),
        Term::BigInt(b) if b.sign() != num_bigint::Sign::Minus => {
            Some(b.magnitude().iter_u32_digits().next().unwrap_or(0) as u8)
        }
        _ => None,
    }
    .ok_or(f.field("flags"))?;
    let from = f.pid(1, "from")?;
    let token = if flags & altact::TOKEN == 0 {
        None
    } else if f.rest.len() < 4 {
        return Err(ControlError::Arity {
            op: f.op,
            arity: f.rest.len() + 1,
        });
    } else {
        Some(f.term(3))
    };
    let to = if flags & altact::ALIAS != 0 {
        if flags & altact::NAME != 0 {
            return Err(f.field("flags"));
        }
        AltactDest::Alias(f.reference(2, "to")?)
    } else if flags & altact::NAME != 0 {
        AltactDest::Name(f.atom(2, "to")?)
    } else {
        AltactDest::Pid(f.pid(2, "to")?)
    };
    let kind = if flags & altact::EXIT != 0 {
        AltactKind::Exit
    } else {
        AltactKind::Message
    };
    Ok(ControlMessage::AltactSigSend {
        kind,
        priority: flags & altact::PRIORITY != 0,
        from,
        to,
        token,
    })
}

fn pid_or_name(p: &PidOrName) -> Term {
    match p {
        PidOrName::Pid(pid) => Term::Pid(pid.clone()),
        PidOrName::Name(name) => Term::Atom(name.clone()),
    }
}

/// An UNLINK_ID id: a non-negative integer below 2^64, small or big.
fn unlink_id(term: &Term) -> Option<u64> {
    match term {
        Term::Int(i) => u64::try_from(*i).ok(),
        Term::BigInt(b) => u64::try_from(b).ok(),
        _ => None,
    }
}

/// The elements after the operation code, with typed getters.
struct Fields<'a> {
    op: u8,
    rest: &'a [Term],
}

impl Fields<'_> {
    fn arity(&self, n: usize) -> Result<(), ControlError> {
        if self.rest.len() == n {
            Ok(())
        } else {
            Err(ControlError::Arity {
                op: self.op,
                arity: self.rest.len() + 1,
            })
        }
    }

    /// Checks the arity of a message that has `plain` elements after the
    /// operation, plus a trailing trace token if `traced`; returns the token.
    fn token(
        &self,
        traced: bool,
        plain: usize,
        with_token: usize,
    ) -> Result<Option<Term>, ControlError> {
        debug_assert_eq!(plain + 1, with_token);
        self.token_at(traced, plain, plain)
    }

    /// As [`Fields::token`], with the token at `index`.
    fn token_at(
        &self,
        traced: bool,
        plain: usize,
        index: usize,
    ) -> Result<Option<Term>, ControlError> {
        if traced {
            self.arity(plain + 1)?;
            Ok(Some(self.term(index)))
        } else {
            self.arity(plain)?;
            Ok(None)
        }
    }

    fn get(&self, i: usize) -> &Term {
        static NIL: Term = Term::Nil;
        self.rest.get(i).unwrap_or(&NIL)
    }

    fn term(&self, i: usize) -> Term {
        self.get(i).clone()
    }

    fn field(&self, field: &'static str) -> ControlError {
        ControlError::Field { op: self.op, field }
    }

    fn pid(&self, i: usize, field: &'static str) -> Result<Pid, ControlError> {
        self.get(i).as_pid().cloned().ok_or(self.field(field))
    }

    fn atom(&self, i: usize, field: &'static str) -> Result<Atom, ControlError> {
        self.get(i).as_atom().cloned().ok_or(self.field(field))
    }

    fn reference(&self, i: usize, field: &'static str) -> Result<Reference, ControlError> {
        self.get(i).as_reference().cloned().ok_or(self.field(field))
    }

    fn pid_or_name(&self, i: usize, field: &'static str) -> Result<PidOrName, ControlError> {
        match self.get(i) {
            Term::Pid(p) => Ok(PidOrName::Pid(p.clone())),
            Term::Atom(a) => Ok(PidOrName::Name(a.clone())),
            _ => Err(self.field(field)),
        }
    }
}

#[cfg(test)]
mod tests;
