use super::*;
use num_bigint::BigInt;

fn pid(id: u32) -> Pid {
    Pid {
        node: Atom::new("a@host"),
        id,
        serial: 0,
        creation: 3,
    }
}

fn reference(word: u32) -> Reference {
    Reference {
        node: Atom::new("a@host"),
        creation: 3,
        ids: vec![word, 0, 0],
    }
}

fn tuple(elements: Vec<Term>) -> Term {
    Term::Tuple(elements)
}

fn int(i: i64) -> Term {
    Term::Int(i)
}

/// Every message with its tuple, as OTP writes it.
fn table() -> Vec<(ControlMessage, Term)> {
    use ControlMessage as C;
    let p = |id| Term::Pid(pid(id));
    let r = |w| Term::Reference(reference(w));
    let token = Term::atom("tok");
    vec![
        (
            C::Link {
                from: pid(1),
                to: pid(2),
            },
            tuple(vec![int(1), p(1), p(2)]),
        ),
        (
            C::Send {
                to: pid(2),
                token: None,
            },
            tuple(vec![int(2), Term::atom(""), p(2)]),
        ),
        (
            C::Send {
                to: pid(2),
                token: Some(token.clone()),
            },
            tuple(vec![int(12), Term::atom(""), p(2), token.clone()]),
        ),
        (
            C::Exit {
                from: pid(1),
                to: pid(2),
                reason: Term::atom("normal"),
                token: None,
            },
            tuple(vec![int(3), p(1), p(2), Term::atom("normal")]),
        ),
        (
            C::Exit {
                from: pid(1),
                to: pid(2),
                reason: Term::atom("kill"),
                token: Some(token.clone()),
            },
            tuple(vec![int(13), p(1), p(2), token.clone(), Term::atom("kill")]),
        ),
        (
            C::Unlink {
                from: pid(1),
                to: pid(2),
            },
            tuple(vec![int(4), p(1), p(2)]),
        ),
        (
            C::RegSend {
                from: pid(1),
                to: Atom::new("net_kernel"),
                token: None,
            },
            tuple(vec![int(6), p(1), Term::atom(""), Term::atom("net_kernel")]),
        ),
        (
            C::RegSend {
                from: pid(1),
                to: Atom::new("rex"),
                token: Some(token.clone()),
            },
            tuple(vec![
                int(16),
                p(1),
                Term::atom(""),
                Term::atom("rex"),
                token.clone(),
            ]),
        ),
        (
            C::GroupLeader {
                from: pid(1),
                to: pid(2),
            },
            tuple(vec![int(7), p(1), p(2)]),
        ),
        (
            C::Exit2 {
                from: pid(1),
                to: pid(2),
                reason: Term::atom("x"),
                token: None,
            },
            tuple(vec![int(8), p(1), p(2), Term::atom("x")]),
        ),
        (
            C::Exit2 {
                from: pid(1),
                to: pid(2),
                reason: Term::atom("x"),
                token: Some(token.clone()),
            },
            tuple(vec![int(18), p(1), p(2), token.clone(), Term::atom("x")]),
        ),
        (
            C::MonitorP {
                from: pid(1),
                to: PidOrName::Name(Atom::new("srv")),
                reference: reference(9),
            },
            tuple(vec![int(19), p(1), Term::atom("srv"), r(9)]),
        ),
        (
            C::DemonitorP {
                from: pid(1),
                to: PidOrName::Pid(pid(2)),
                reference: reference(9),
            },
            tuple(vec![int(20), p(1), p(2), r(9)]),
        ),
        (
            C::MonitorPExit {
                from: PidOrName::Pid(pid(2)),
                to: pid(1),
                reference: reference(9),
                reason: Term::atom("noproc"),
            },
            tuple(vec![int(21), p(2), p(1), r(9), Term::atom("noproc")]),
        ),
        (
            C::SendSender {
                from: pid(1),
                to: pid(2),
                token: None,
            },
            tuple(vec![int(22), p(1), p(2)]),
        ),
        (
            C::SendSender {
                from: pid(1),
                to: pid(2),
                token: Some(token.clone()),
            },
            tuple(vec![int(23), p(1), p(2), token.clone()]),
        ),
        (
            C::PayloadExit {
                from: pid(1),
                to: pid(2),
                token: None,
            },
            tuple(vec![int(24), p(1), p(2)]),
        ),
        (
            C::PayloadExit {
                from: pid(1),
                to: pid(2),
                token: Some(token.clone()),
            },
            tuple(vec![int(25), p(1), p(2), token.clone()]),
        ),
        (
            C::PayloadExit2 {
                from: pid(1),
                to: pid(2),
                token: None,
            },
            tuple(vec![int(26), p(1), p(2)]),
        ),
        (
            C::PayloadExit2 {
                from: pid(1),
                to: pid(2),
                token: Some(token.clone()),
            },
            tuple(vec![int(27), p(1), p(2), token.clone()]),
        ),
        (
            C::PayloadMonitorPExit {
                from: PidOrName::Name(Atom::new("srv")),
                to: pid(1),
                reference: reference(9),
            },
            tuple(vec![int(28), Term::atom("srv"), p(1), r(9)]),
        ),
        (
            C::SpawnRequest {
                req_id: reference(5),
                from: pid(1),
                group_leader: pid(0),
                module: Atom::new("erpc"),
                function: Atom::new("execute_call"),
                arity: 4,
                opts: Term::list(vec![Term::atom("monitor")]),
                token: None,
            },
            tuple(vec![
                int(29),
                r(5),
                p(1),
                p(0),
                tuple(vec![Term::atom("erpc"), Term::atom("execute_call"), int(4)]),
                Term::list(vec![Term::atom("monitor")]),
            ]),
        ),
        (
            C::SpawnRequest {
                req_id: reference(5),
                from: pid(1),
                group_leader: pid(0),
                module: Atom::new("m"),
                function: Atom::new("f"),
                arity: 0,
                opts: Term::Nil,
                token: Some(token.clone()),
            },
            tuple(vec![
                int(30),
                r(5),
                p(1),
                p(0),
                tuple(vec![Term::atom("m"), Term::atom("f"), int(0)]),
                Term::Nil,
                token.clone(),
            ]),
        ),
        (
            C::SpawnReply {
                req_id: reference(5),
                to: pid(1),
                flags: SPAWN_FLAG_MONITOR,
                result: Term::Pid(pid(7)),
                token: None,
            },
            tuple(vec![int(31), r(5), p(1), int(2), p(7)]),
        ),
        (
            C::SpawnReply {
                req_id: reference(5),
                to: pid(1),
                flags: 0,
                result: Term::atom("badarg"),
                token: Some(token.clone()),
            },
            tuple(vec![
                int(32),
                r(5),
                p(1),
                int(0),
                Term::atom("badarg"),
                token.clone(),
            ]),
        ),
        (
            C::AliasSend {
                from: pid(1),
                alias: reference(4),
                token: None,
            },
            tuple(vec![int(33), p(1), r(4)]),
        ),
        (
            C::AliasSend {
                from: pid(1),
                alias: reference(4),
                token: Some(token.clone()),
            },
            tuple(vec![int(34), p(1), r(4), token.clone()]),
        ),
        (
            C::UnlinkId {
                id: 17,
                from: pid(1),
                to: pid(2),
            },
            tuple(vec![int(35), int(17), p(1), p(2)]),
        ),
        (
            C::UnlinkIdAck {
                id: u64::MAX,
                from: pid(2),
                to: pid(1),
            },
            tuple(vec![
                int(36),
                Term::BigInt(BigInt::from(u64::MAX)),
                p(2),
                p(1),
            ]),
        ),
        (
            C::AltactSigSend {
                kind: AltactKind::Message,
                priority: true,
                from: pid(1),
                to: AltactDest::Alias(reference(4)),
                token: None,
            },
            tuple(vec![int(37), int(5), p(1), r(4)]),
        ),
        (
            C::AltactSigSend {
                kind: AltactKind::Message,
                priority: false,
                from: pid(1),
                to: AltactDest::Alias(reference(4)),
                token: Some(token.clone()),
            },
            tuple(vec![int(37), int(6), p(1), r(4), token.clone()]),
        ),
        (
            C::AltactSigSend {
                kind: AltactKind::Message,
                priority: true,
                from: pid(1),
                to: AltactDest::Name(Atom::new("srv")),
                token: None,
            },
            tuple(vec![int(37), int(9), p(1), Term::atom("srv")]),
        ),
        (
            C::AltactSigSend {
                kind: AltactKind::Message,
                priority: true,
                from: pid(1),
                to: AltactDest::Pid(pid(2)),
                token: None,
            },
            tuple(vec![int(37), int(1), p(1), p(2)]),
        ),
        (
            C::AltactSigSend {
                kind: AltactKind::Exit,
                priority: true,
                from: pid(1),
                to: AltactDest::Alias(reference(4)),
                token: None,
            },
            tuple(vec![int(37), int(21), p(1), r(4)]),
        ),
        (
            C::AltactSigSend {
                kind: AltactKind::Exit,
                priority: false,
                from: pid(1),
                to: AltactDest::Pid(pid(2)),
                token: Some(token.clone()),
            },
            tuple(vec![int(37), int(18), p(1), p(2), token]),
        ),
    ]
}

#[test]
fn every_message_converts_both_ways() {
    for (message, term) in table() {
        assert_eq!(message.to_term(), term, "{message:?}");
        assert_eq!(
            ControlMessage::from_term(&term).as_ref(),
            Ok(&message),
            "{term:?}"
        );
        let op = term.as_tuple().and_then(|t| t[0].as_i64());
        assert_eq!(op, Some(i64::from(message.op())));
    }
}

#[test]
fn payload_follows_exactly_the_documented_operations() {
    let with_payload: Vec<u8> = table()
        .iter()
        .filter(|(m, _)| m.has_payload())
        .map(|(m, _)| m.op())
        .collect();
    assert_eq!(
        with_payload,
        vec![2, 12, 6, 16, 22, 23, 24, 25, 26, 27, 28, 29, 30, 33, 34, 37, 37, 37, 37, 37, 37]
    );
}

#[test]
fn unlink_id_accepts_a_small_bignum() {
    // OTP may write an id that fits in 64 bits as SMALL_BIG.
    let term = tuple(vec![
        int(35),
        Term::BigInt(BigInt::from(1u64 << 40)),
        Term::Pid(pid(1)),
        Term::Pid(pid(2)),
    ]);
    assert_eq!(
        ControlMessage::from_term(&term),
        Ok(ControlMessage::UnlinkId {
            id: 1 << 40,
            from: pid(1),
            to: pid(2)
        })
    );
    let negative = tuple(vec![int(35), int(-1), Term::Pid(pid(1)), Term::Pid(pid(2))]);
    assert_eq!(
        ControlMessage::from_term(&negative),
        Err(ControlError::Field {
            op: 35,
            field: "id"
        })
    );
}

#[test]
fn invalid_tuples_are_typed_errors() {
    let cases = [
        (Term::atom("link"), ControlError::NotAControlTuple),
        (tuple(vec![]), ControlError::NotAControlTuple),
        (tuple(vec![int(99)]), ControlError::UnknownOperation(99)),
        (tuple(vec![int(-3)]), ControlError::UnknownOperation(-3)),
        (
            tuple(vec![int(5), int(0)]),
            ControlError::UnknownOperation(5),
        ),
        (
            tuple(vec![int(1), Term::Pid(pid(1))]),
            ControlError::Arity { op: 1, arity: 2 },
        ),
        (
            tuple(vec![int(6), Term::Pid(pid(1)), Term::atom(""), int(3)]),
            ControlError::Field { op: 6, field: "to" },
        ),
        (
            tuple(vec![
                int(29),
                Term::Reference(reference(1)),
                Term::Pid(pid(1)),
                Term::Pid(pid(1)),
                Term::atom("mfa"),
                Term::Nil,
            ]),
            ControlError::Field {
                op: 29,
                field: "{Module, Function, Arity}",
            },
        ),
    ];
    for (term, expected) in cases {
        assert_eq!(ControlMessage::from_term(&term), Err(expected), "{term:?}");
    }
}

#[test]
fn altact_sig_send_is_read_as_otp_reads_it() {
    let p = |id| Term::Pid(pid(id));
    let r = Term::Reference(reference(4));
    let priority_alias = ControlMessage::AltactSigSend {
        kind: AltactKind::Message,
        priority: true,
        from: pid(1),
        to: AltactDest::Alias(reference(4)),
        token: None,
    };
    // Elements past the known ones are for future use and ignored.
    let longer = tuple(vec![
        int(37),
        int(5),
        p(1),
        r.clone(),
        Term::atom("x"),
        int(0),
    ]);
    assert_eq!(
        ControlMessage::from_term(&longer).as_ref(),
        Ok(&priority_alias)
    );
    // Flags are any non-negative integer; only the low byte counts.
    let big = (BigInt::from(1u8) << 200u32) + BigInt::from(5u8);
    let big_flags = tuple(vec![int(37), Term::BigInt(big), p(1), r.clone()]);
    assert_eq!(
        ControlMessage::from_term(&big_flags).as_ref(),
        Ok(&priority_alias)
    );
    let high_bits = tuple(vec![int(37), int(0x7f00 | 5), p(1), r.clone()]);
    assert_eq!(
        ControlMessage::from_term(&high_bits).as_ref(),
        Ok(&priority_alias)
    );
}

#[test]
fn invalid_altact_sig_send_tuples_are_typed_errors() {
    let p = |id| Term::Pid(pid(id));
    let r = Term::Reference(reference(4));
    let field = |field| ControlError::Field { op: 37, field };
    let negative_big = Term::BigInt(BigInt::from(-5));
    let cases = [
        (
            tuple(vec![int(37), int(5), p(1)]),
            ControlError::Arity { op: 37, arity: 3 },
        ),
        // The token flag without a token.
        (
            tuple(vec![int(37), int(2), p(1), p(2)]),
            ControlError::Arity { op: 37, arity: 4 },
        ),
        (tuple(vec![int(37), int(-1), p(1), p(2)]), field("flags")),
        (
            tuple(vec![int(37), negative_big, p(1), p(2)]),
            field("flags"),
        ),
        (
            tuple(vec![int(37), Term::atom("prio"), p(1), p(2)]),
            field("flags"),
        ),
        (tuple(vec![int(37), int(1), r.clone(), p(2)]), field("from")),
        // An alias must be a reference, a name an atom, else a pid.
        (tuple(vec![int(37), int(4), p(1), p(2)]), field("to")),
        (tuple(vec![int(37), int(8), p(1), r.clone()]), field("to")),
        (tuple(vec![int(37), int(1), p(1), r.clone()]), field("to")),
        // An alias cannot also be a name.
        (tuple(vec![int(37), int(12), p(1), r]), field("flags")),
    ];
    for (term, expected) in cases {
        assert_eq!(ControlMessage::from_term(&term), Err(expected), "{term:?}");
    }
}
