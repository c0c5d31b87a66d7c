//! The `sys` protocol of a [`Server`](crate::Server): what Erlang's
//! `sys:get_state`, `sys:get_status`, `sys:suspend`, `sys:resume`,
//! `sys:terminate` and the debug functions send, and what they expect back.
//!
//! They send `{system, {From, Tag}, Request}` (the `From, Tag` of a
//! `gen_server:call`, so the answer goes back as a call's reply). This
//! module reads those messages and builds the answers; the server's loop
//! (`features::server`) acts on them.

use etf::{Pid, Term};

use crate::features::gen_server::Call;

/// A `sys` request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SysRequest {
    /// `sys:get_state/1,2`: answered with the state as a term.
    GetState,
    /// `sys:get_status/1,2`.
    GetStatus,
    /// `sys:suspend/1,2`: only system messages are handled until resumed.
    Suspend,
    /// `sys:resume/1,2`.
    Resume,
    /// `sys:terminate/2,3`: stop with this reason (no answer; the caller's
    /// monitor sees the end).
    Terminate(Term),
    /// Anything else (`replace_state` with an Erlang fun, the debug
    /// functions, code change): answered by [`other_reply`].
    Other(Term),
}

/// Splits `{system, {From, Tag}, Request}`.
pub(crate) fn parse(term: &Term) -> Option<(Call, SysRequest)> {
    let [label, from_tag, request] = term.as_tuple()? else {
        return None;
    };
    if !label.is_atom("system") {
        return None;
    }
    let [from, tag] = from_tag.as_tuple()? else {
        return None;
    };
    let call = Call {
        from: from.as_pid()?.clone(),
        tag: tag.clone(),
        request: request.clone(),
    };
    let request = if request.is_atom("get_state") {
        SysRequest::GetState
    } else if request.is_atom("get_status") {
        SysRequest::GetStatus
    } else if request.is_atom("suspend") {
        SysRequest::Suspend
    } else if request.is_atom("resume") {
        SysRequest::Resume
    } else {
        match request.as_tuple() {
            Some([op, reason]) if op.is_atom("terminate") => SysRequest::Terminate(reason.clone()),
            _ => SysRequest::Other(request.clone()),
        }
    };
    Some((call, request))
}

/// The answer to a request that a Rust server does not act on.
///
/// `replace_state` carries an Erlang fun, which cannot run here: it gets
/// `{error, not_supported}`, so `sys:replace_state` raises
/// `error:not_supported` in the caller. The debug functions (`sys:trace`,
/// `sys:log`, `sys:statistics`, `sys:no_debug`, ...) keep no record here:
/// a `get` answers `{ok, []}` for the log and `{ok, no_statistics}` for
/// statistics, the rest `ok`. Anything unknown gets
/// `{error, {unknown_system_msg, Request}}`.
pub(crate) fn other_reply(request: &Term) -> Term {
    let error = |reason: Term| Term::tuple(vec![Term::atom("error"), reason]);
    match request.as_tuple() {
        Some([op, _]) if op.is_atom("replace_state") => error(Term::atom("not_supported")),
        Some([op, what]) if op.is_atom("debug") => match what.as_tuple() {
            Some([kind, flag]) if kind.is_atom("log") && flag.is_atom("get") => {
                Term::tuple(vec![Term::atom("ok"), Term::Nil])
            }
            Some([kind, flag]) if kind.is_atom("statistics") && flag.is_atom("get") => {
                Term::tuple(vec![Term::atom("ok"), Term::atom("no_statistics")])
            }
            _ => Term::atom("ok"),
        },
        Some([op, ..]) if op.is_atom("change_code") => Term::atom("ok"),
        _ => error(Term::tuple(vec![
            Term::atom("unknown_system_msg"),
            request.clone(),
        ])),
    }
}

/// The answer to `sys:get_status`, in the shape a gen_server gives:
/// `{status, Pid, {module, gen_server}, [PDict, SysState, Parent, Debug,
/// Misc]}`, where `Misc` is the list `gen_server`'s status formatting
/// makes (a header and the `"Status"`, `"Parent"`, `"Logged events"` and
/// `"State"` data), so that code printing a gen_server's status prints
/// this one.
pub(crate) fn status(pid: &Pid, name: Option<&str>, suspended: bool, state: Term) -> Term {
    let sys_state = Term::atom(if suspended { "suspended" } else { "running" });
    let pair = |key: &str, value: Term| Term::tuple(vec![Term::charlist(key), value]);
    let header = match name {
        Some(name) => format!("Status for generic server {name}"),
        None => format!("Status for generic server {pid}"),
    };
    let misc = Term::list(vec![
        Term::tuple(vec![Term::atom("header"), Term::charlist(&header)]),
        Term::tuple(vec![
            Term::atom("data"),
            Term::list(vec![
                pair("Status", sys_state.clone()),
                pair("Parent", Term::Pid(pid.clone())),
                pair("Logged events", Term::Nil),
            ]),
        ]),
        Term::tuple(vec![
            Term::atom("data"),
            Term::list(vec![pair("State", state)]),
        ]),
    ]);
    Term::tuple(vec![
        Term::atom("status"),
        Term::Pid(pid.clone()),
        Term::tuple(vec![Term::atom("module"), Term::atom("gen_server")]),
        Term::list(vec![
            Term::Nil,
            sys_state,
            Term::Pid(pid.clone()),
            Term::Nil,
            misc,
        ]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use etf::parse_term;

    fn term(text: &str) -> Term {
        parse_term(text).expect("a term")
    }

    fn from(tag: Term) -> Term {
        let pid = Pid {
            node: etf::Atom::new("erl@host"),
            id: 5,
            serial: 0,
            creation: 1,
        };
        Term::tuple(vec![Term::Pid(pid), tag])
    }

    fn system(from: Term, request: &str) -> Term {
        Term::tuple(vec![Term::atom("system"), from, term(request)])
    }

    #[test]
    fn system_messages_are_told_apart() {
        let tag = term("[alias | 7]");
        let (call, request) =
            parse(&system(from(tag.clone()), "get_state")).expect("a system message");
        assert_eq!(request, SysRequest::GetState);
        assert_eq!(call.from.id, 5);
        assert_eq!(call.tag, tag);
        let (_, request) = parse(&system(from(term("t")), "{terminate, shutdown}")).unwrap();
        assert_eq!(request, SysRequest::Terminate(Term::atom("shutdown")));
        let (_, request) = parse(&system(from(term("t")), "suspend")).unwrap();
        assert_eq!(request, SysRequest::Suspend);
        assert!(parse(&system(term("nobody"), "get_state")).is_none());
        let call = Term::tuple(vec![
            Term::atom("$gen_call"),
            from(term("t")),
            term("get_state"),
        ]);
        assert!(parse(&call).is_none());
    }

    #[test]
    fn unsupported_requests_get_clean_answers() {
        assert_eq!(
            other_reply(&term("{replace_state, f}")),
            term("{error, not_supported}")
        );
        assert_eq!(other_reply(&term("{debug, {log, get}}")), term("{ok, []}"));
        assert_eq!(other_reply(&term("{debug, {trace, true}}")), term("ok"));
        assert_eq!(
            other_reply(&term("what")),
            term("{error, {unknown_system_msg, what}}")
        );
    }
}
