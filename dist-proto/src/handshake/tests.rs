//! Both roles against each other in memory, with a virtual clock.

use super::*;
use std::time::{Duration, Instant};

const A: &str = "a@host";
const B: &str = "b@host";

fn cookie(text: &str) -> Cookie {
    Cookie::new(text.as_bytes())
}

struct Pair {
    a: Initiator,
    b: Acceptor,
    /// The name A sends: its own, or its host when it asks for one.
    a_sends: String,
    now: Instant,
    a_result: Option<Result<Established, HandshakeError>>,
    b_result: Option<Result<Established, HandshakeError>>,
}

impl Pair {
    fn new(a_config: HandshakeConfig, a_cookie: &str) -> Pair {
        let b_config = HandshakeConfig {
            length_prefix: a_config.length_prefix,
            ..HandshakeConfig::new(B, 2)
        };
        let now = Instant::now();
        Pair {
            a_sends: a_config.name.clone(),
            a: Initiator::new(a_config, B, cookie(a_cookie), 0x1111_2222, now),
            b: Acceptor::new(b_config, 0x3333_4444, now),
            now,
            a_result: None,
            b_result: None,
        }
    }

    fn default_pair() -> Pair {
        Pair::new(HandshakeConfig::new(A, 1), "cookie")
    }

    /// Moves bytes both ways until nothing moves, answering the acceptor's
    /// connect request with `answer` and an alive query with `alive`.
    fn run(&mut self, answer: impl Fn() -> Answer, alive: bool) {
        for _ in 0..20 {
            let mut moved = false;
            let mut buf = Vec::new();
            if self.a.poll_transmit(&mut buf) > 0 {
                moved = true;
                if let Err(err) = self.b.handle_input(&buf, self.now) {
                    self.b_result.get_or_insert(Err(err));
                }
            }
            buf.clear();
            if self.b.poll_transmit(&mut buf) > 0 {
                moved = true;
                if let Err(err) = self.a.handle_input(&buf, self.now) {
                    self.a_result.get_or_insert(Err(err));
                }
            }
            while let Some(event) = self.b.poll_event() {
                moved = true;
                match event {
                    AcceptorEvent::ConnectRequest(request) => {
                        assert_eq!(request.peer, self.a_sends);
                        if let Err(err) = self.b.answer(answer(), self.now) {
                            self.b_result.get_or_insert(Err(err));
                        }
                    }
                    AcceptorEvent::Established(e) => self.b_result = Some(Ok(e)),
                }
            }
            while let Some(event) = self.a.poll_event() {
                moved = true;
                match event {
                    InitiatorEvent::AliveQuery => {
                        if let Err(err) = self.a.answer_alive(alive, self.now) {
                            self.a_result.get_or_insert(Err(err));
                        }
                    }
                    InitiatorEvent::Established(e) => self.a_result = Some(Ok(e)),
                }
            }
            if !moved {
                return;
            }
        }
        panic!("handshake did not settle");
    }
}

fn ok() -> Answer {
    Answer::Ok {
        cookie: cookie("cookie"),
    }
}

#[test]
fn both_sides_establish_with_the_intersection_of_flags() {
    let mut config = HandshakeConfig::new(A, 1);
    config.flags = DistFlags::default_hidden() | DistFlags::PUBLISHED;
    let mut pair = Pair::new(config, "cookie");
    pair.run(ok, true);
    let a = pair.a_result.unwrap().unwrap();
    let b = pair.b_result.unwrap().unwrap();
    assert_eq!(a.peer, B);
    assert_eq!(a.peer_creation, 2);
    assert_eq!(b.peer, A);
    assert_eq!(b.peer_creation, 1);
    assert_eq!(a.flags, DistFlags::default_hidden());
    assert_eq!(a.flags, b.flags);
    assert!(b.peer_flags.contains(DistFlags::PUBLISHED));
    assert!(a.leftover.is_empty() && b.leftover.is_empty());
    assert_eq!(pair.a.poll_timeout(), None);
    assert_eq!(
        pair.a.handle_input(&[0], pair.now),
        Err(HandshakeError::Finished)
    );
}

#[test]
fn ok_simultaneous_also_establishes() {
    let mut pair = Pair::default_pair();
    pair.run(
        || Answer::OkSimultaneous {
            cookie: cookie("cookie"),
        },
        true,
    );
    assert!(pair.a_result.unwrap().is_ok());
    assert!(pair.b_result.unwrap().is_ok());
}

#[test]
fn nok_and_not_allowed_stop_both_sides() {
    for (answer, status) in [(Answer::Nok, "nok"), (Answer::NotAllowed, "not_allowed")] {
        let mut pair = Pair::default_pair();
        pair.run(|| answer.clone(), true);
        let expected = if status == "nok" {
            HandshakeError::Nok { peer: B.into() }
        } else {
            HandshakeError::NotAllowed { peer: B.into() }
        };
        assert_eq!(pair.a_result.unwrap(), Err(expected.clone()));
        assert_eq!(
            pair.b_result.unwrap(),
            Err(HandshakeError::Refused {
                peer: A.into(),
                status
            })
        );
        // The error sticks.
        assert_eq!(pair.a.handle_input(&[], pair.now), Err(expected));
    }
}

#[test]
fn alive_answered_true_goes_on_and_false_gives_up() {
    let alive = || Answer::Alive {
        cookie: cookie("cookie"),
    };
    let mut pair = Pair::default_pair();
    pair.run(alive, true);
    assert!(pair.a_result.unwrap().is_ok());
    assert!(pair.b_result.unwrap().is_ok());

    let mut pair = Pair::default_pair();
    pair.run(alive, false);
    assert_eq!(
        pair.a_result.unwrap(),
        Err(HandshakeError::AliveDeclined { peer: B.into() })
    );
    assert_eq!(
        pair.b_result.unwrap(),
        Err(HandshakeError::AliveDeclined { peer: A.into() })
    );
}

#[test]
fn wrong_cookie_is_caught_by_the_acceptor_and_reported_by_both() {
    let mut pair = Pair::new(HandshakeConfig::new(A, 1), "other");
    pair.run(ok, true);
    assert_eq!(
        pair.b_result.unwrap(),
        Err(HandshakeError::CookieMismatch { peer: A.into() })
    );
    // OTP closes the socket on a bad reply; the initiator names the cause.
    assert!(pair.a_result.is_none());
    assert_eq!(
        pair.a.handle_peer_closed(),
        HandshakeError::CookieMismatch { peer: B.into() }
    );
}

#[test]
fn initiator_checks_the_ack_digest() {
    let now = Instant::now();
    let mut a = Initiator::new(HandshakeConfig::new(A, 1), B, cookie("c"), 77, now);
    let mut frames = Vec::new();
    let mut body = Vec::new();
    Status::Ok.encode(&mut body);
    crate::write_frame(crate::LengthPrefix::U16, &body, &mut frames).unwrap();
    body.clear();
    Challenge {
        flags: DistFlags::default_hidden(),
        challenge: 5,
        creation: 9,
        name: B.into(),
    }
    .encode(&mut body);
    crate::write_frame(crate::LengthPrefix::U16, &body, &mut frames).unwrap();
    body.clear();
    ChallengeAck {
        digest: digest(b"not c", 77),
    }
    .encode(&mut body);
    crate::write_frame(crate::LengthPrefix::U16, &body, &mut frames).unwrap();
    assert_eq!(
        a.handle_input(&frames, now),
        Err(HandshakeError::CookieMismatch { peer: B.into() })
    );
}

#[test]
fn acceptor_refuses_a_peer_lacking_mandatory_flags_with_not_allowed() {
    let mut config = HandshakeConfig::new(A, 1);
    config.flags = DistFlags::MANDATORY_OTP25;
    let mut pair = Pair::new(config, "cookie");
    pair.b = Acceptor::new(
        HandshakeConfig {
            required: DistFlags::MANDATORY_OTP26,
            ..HandshakeConfig::new(B, 2)
        },
        1,
        pair.now,
    );
    pair.run(ok, true);
    assert_eq!(
        pair.a_result.unwrap(),
        Err(HandshakeError::NotAllowed { peer: B.into() })
    );
    assert_eq!(
        pair.b_result.unwrap(),
        Err(HandshakeError::MissingFlags {
            peer: A.into(),
            missing: DistFlags::UNLINK_ID | DistFlags::V4_NC
        })
    );
}

#[test]
fn initiator_rejects_a_challenge_from_another_node_or_lacking_flags() {
    let now = Instant::now();
    for (challenge, expected) in [
        (
            Challenge {
                flags: DistFlags::default_hidden(),
                challenge: 1,
                creation: 1,
                name: "c@host".into(),
            },
            HandshakeError::NameMismatch {
                expected: B.into(),
                got: "c@host".into(),
            },
        ),
        (
            Challenge {
                flags: DistFlags::MANDATORY_OTP25 & !DistFlags::MAP_TAG,
                challenge: 1,
                creation: 1,
                name: B.into(),
            },
            HandshakeError::MissingFlags {
                peer: B.into(),
                missing: DistFlags::MAP_TAG,
            },
        ),
    ] {
        let mut a = Initiator::new(HandshakeConfig::new(A, 1), B, cookie("c"), 1, now);
        let mut frames = Vec::new();
        for body in [b"sok".to_vec(), {
            let mut v = Vec::new();
            challenge.encode(&mut v);
            v
        }] {
            crate::write_frame(crate::LengthPrefix::U16, &body, &mut frames).unwrap();
        }
        assert_eq!(a.handle_input(&frames, now), Err(expected));
    }
}

fn named() -> Answer {
    Answer::Named {
        name: "GEN7@host".into(),
        creation: 42,
        cookie: cookie("cookie"),
    }
}

#[test]
fn a_dynamic_name_asked_by_one_side_is_given_by_the_other() {
    let mut pair = Pair::new(HandshakeConfig::dynamic("host"), "cookie");
    pair.run(named, true);
    let a = pair.a_result.unwrap().unwrap();
    let b = pair.b_result.unwrap().unwrap();
    // The name and creation given become the initiator's own, and the
    // acceptor knows its peer under them.
    assert_eq!((a.name.as_str(), a.creation), ("GEN7@host", 42));
    assert_eq!((b.peer.as_str(), b.peer_creation), ("GEN7@host", 42));
    assert_eq!((a.peer.as_str(), b.name.as_str()), (B, B));
    assert!(b.peer_flags.contains(DistFlags::NAME_ME));
    // The acceptor's challenge carries NAME_ME back: OTP's initiator takes
    // the name only when the flags both chose have it.
    assert!(a.peer_flags.contains(DistFlags::NAME_ME));
    assert!(a.flags.contains(DistFlags::NAME_ME) && b.flags.contains(DistFlags::NAME_ME));
}

#[test]
fn the_request_says_whether_the_peer_wants_a_name() {
    let now = Instant::now();
    for (config, wants) in [
        (HandshakeConfig::dynamic("host"), true),
        (HandshakeConfig::new(A, 1), false),
    ] {
        let mut a = Initiator::new(config, B, cookie("c"), 1, now);
        let mut b = Acceptor::new(HandshakeConfig::new(B, 2), 2, now);
        let mut buf = Vec::new();
        a.poll_transmit(&mut buf);
        b.handle_input(&buf, now).unwrap();
        let Some(AcceptorEvent::ConnectRequest(request)) = b.poll_event() else {
            panic!("no connect request")
        };
        assert_eq!(request.wants_name(), wants);
    }
}

#[test]
fn a_name_is_given_only_to_a_peer_that_asked_and_asked_only_of_one_that_gives() {
    // Named to a peer with a name of its own: the acceptor fails.
    let mut pair = Pair::default_pair();
    pair.run(named, true);
    assert_eq!(
        pair.b_result.unwrap(),
        Err(HandshakeError::UnexpectedName {
            name: "GEN7@host".into()
        })
    );
    // `ok` to a peer that asked for a name: refused with not_allowed,
    // which the initiator reports.
    let mut pair = Pair::new(HandshakeConfig::dynamic("host"), "cookie");
    pair.run(ok, true);
    assert_eq!(
        pair.b_result.unwrap(),
        Err(HandshakeError::NameNotGiven {
            host: "host".into()
        })
    );
    assert_eq!(
        pair.a_result.unwrap(),
        Err(HandshakeError::NotAllowed { peer: B.into() })
    );
    // A peer that answers `ok` (or `alive`) when asked for a name: the
    // initiator fails, as it has no name to go on with.
    let now = Instant::now();
    for status in [&b"sok"[..], b"salive", b"sok_simultaneous"] {
        let mut a = Initiator::new(HandshakeConfig::dynamic("host"), B, cookie("c"), 1, now);
        let mut frame = Vec::new();
        crate::write_frame(crate::LengthPrefix::U16, status, &mut frame).unwrap();
        assert_eq!(
            a.handle_input(&frame, now),
            Err(HandshakeError::NotNamed { peer: B.into() })
        );
    }
    // `named:` to an initiator that did not ask.
    let mut a = Initiator::new(HandshakeConfig::new(A, 1), B, cookie("c"), 1, now);
    let mut frame = Vec::new();
    crate::write_frame(
        crate::LengthPrefix::U16,
        b"snamed:\x00\x03x@h\x00\x00\x00\x07",
        &mut frame,
    )
    .unwrap();
    assert_eq!(
        a.handle_input(&frame, now),
        Err(HandshakeError::UnexpectedName { name: "x@h".into() })
    );
}

#[test]
fn acceptor_takes_the_old_n_form_and_its_complement() {
    let now = Instant::now();
    let mut b = Acceptor::new(HandshakeConfig::new(B, 2), 0xabcd, now);
    let peer_flags = DistFlags::default_hidden();
    let mut input = Vec::new();
    let mut body = Vec::new();
    OldSendName {
        version: 5,
        flags: peer_flags.low(),
        name: A.into(),
    }
    .encode(&mut body);
    crate::write_frame(crate::LengthPrefix::U16, &body, &mut input).unwrap();
    b.handle_input(&input, now).unwrap();
    assert_eq!(
        b.poll_event(),
        Some(AcceptorEvent::ConnectRequest(ConnectRequest {
            peer: A.into(),
            flags: DistFlags::from_bits(u64::from(peer_flags.low())),
            creation: None,
        }))
    );
    b.answer(ok(), now).unwrap();
    let mut out = Vec::new();
    b.poll_transmit(&mut out);
    assert_eq!(&out[..5], b"\x00\x03sok");
    assert_eq!(b.step(), Some(Step::Complement));

    input.clear();
    for message in [
        {
            let mut v = Vec::new();
            Complement {
                flags_high: peer_flags.high(),
                creation: 5,
            }
            .encode(&mut v);
            v
        },
        {
            let mut v = Vec::new();
            ChallengeReply {
                challenge: 99,
                digest: digest(b"cookie", 0xabcd),
            }
            .encode(&mut v);
            v
        },
    ] {
        crate::write_frame(crate::LengthPrefix::U16, &message, &mut input).unwrap();
    }
    input.extend_from_slice(&[0, 0, 0, 0]); // a tick right behind
    b.handle_input(&input, now).unwrap();
    let Some(AcceptorEvent::Established(done)) = b.poll_event() else {
        panic!("not established")
    };
    assert_eq!(done.peer_flags, peer_flags);
    assert_eq!(done.peer_creation, 5);
    assert_eq!(done.leftover, vec![0, 0, 0, 0]);
    out.clear();
    b.poll_transmit(&mut out);
    let mut ack = b"\x00\x11a".to_vec();
    ack.extend_from_slice(&digest(b"cookie", 99));
    assert_eq!(out, ack);
}

#[test]
fn acceptor_rejects_old_versions() {
    let now = Instant::now();
    let mut b = Acceptor::new(HandshakeConfig::new(B, 2), 1, now);
    assert_eq!(
        b.handle_input(b"\x00\x0an\x00\x04\x00\x00\x00\x00a@h", now),
        Err(HandshakeError::UnsupportedVersion { version: 4 })
    );
}

#[test]
fn each_step_times_out_after_the_setup_time() {
    let mut pair = Pair::default_pair();
    let mut buf = Vec::new();
    pair.a.poll_transmit(&mut buf);
    assert_eq!(pair.a.poll_timeout(), Some(pair.now + DEFAULT_SETUP_TIME));
    // Progress 5 s in restarts the acceptor's timer for the next step.
    let later = pair.now + Duration::from_secs(5);
    pair.b.handle_input(&buf, later).unwrap();
    pair.b.answer(ok(), later).unwrap();
    assert_eq!(pair.b.poll_timeout(), Some(later + DEFAULT_SETUP_TIME));
    assert_eq!(
        pair.b.handle_timeout(later + Duration::from_secs(6)),
        Ok(())
    );
    assert_eq!(
        pair.b.handle_timeout(later + DEFAULT_SETUP_TIME),
        Err(HandshakeError::Timeout {
            step: Step::ChallengeReply
        })
    );
    // The initiator never got the status.
    assert_eq!(
        pair.a.handle_timeout(pair.now + DEFAULT_SETUP_TIME),
        Err(HandshakeError::Timeout { step: Step::Status })
    );
}

#[test]
fn garbage_is_malformed_not_a_panic() {
    let now = Instant::now();
    let mut b = Acceptor::new(HandshakeConfig::new(B, 2), 1, now);
    assert_eq!(
        b.handle_input(b"\x00\x02N\x01", now),
        Err(HandshakeError::Malformed {
            what: "send_name flags",
            offset: 1
        })
    );
    let mut a = Initiator::new(HandshakeConfig::new(A, 1), B, cookie("c"), 1, now);
    assert_eq!(
        a.handle_input(b"\x00\x00", now),
        Err(HandshakeError::Malformed {
            what: "empty handshake message",
            offset: 0
        })
    );
    assert_eq!(
        a.answer_alive(true, now),
        Err(HandshakeError::Malformed {
            what: "empty handshake message",
            offset: 0
        })
    );
}

#[test]
fn any_chunking_of_the_byte_stream_gives_the_same_outcome() {
    for chunk in 1..=9 {
        let now = Instant::now();
        let mut a = Initiator::new(HandshakeConfig::new(A, 1), B, cookie("cookie"), 5, now);
        let mut b = Acceptor::new(HandshakeConfig::new(B, 2), 6, now);
        let (mut a_done, mut b_done) = (None, None);
        for _ in 0..20 {
            let mut buf = Vec::new();
            a.poll_transmit(&mut buf);
            for piece in buf.chunks(chunk) {
                b.handle_input(piece, now).unwrap();
            }
            buf.clear();
            b.poll_transmit(&mut buf);
            for piece in buf.chunks(chunk) {
                a.handle_input(piece, now).unwrap();
            }
            while let Some(event) = b.poll_event() {
                match event {
                    AcceptorEvent::ConnectRequest(_) => b.answer(ok(), now).unwrap(),
                    AcceptorEvent::Established(done) => b_done = Some(done),
                }
            }
            while let Some(event) = a.poll_event() {
                if let InitiatorEvent::Established(done) = event {
                    a_done = Some(done);
                }
            }
        }
        let (a_done, b_done) = (a_done.unwrap(), b_done.unwrap());
        assert_eq!(
            (a_done.peer.as_str(), b_done.peer.as_str()),
            (B, A),
            "chunk {chunk}"
        );
    }
}

#[test]
fn answers_out_of_turn_are_refused_without_breaking_the_handshake() {
    let now = Instant::now();
    let mut b = Acceptor::new(HandshakeConfig::new(B, 2), 1, now);
    assert_eq!(
        b.answer(ok(), now),
        Err(HandshakeError::OutOfOrder {
            call: "answer",
            step: Step::Name
        })
    );
    assert_eq!(b.step(), Some(Step::Name));
    let mut a = Initiator::new(HandshakeConfig::new(A, 1), B, cookie("c"), 1, now);
    assert_eq!(
        a.answer_alive(true, now),
        Err(HandshakeError::OutOfOrder {
            call: "answer_alive",
            step: Step::Status
        })
    );
    assert_eq!(a.step(), Some(Step::Status));
}

#[test]
fn over_tls_every_message_carries_a_four_byte_length() {
    let config = HandshakeConfig {
        length_prefix: LengthPrefix::U32,
        ..HandshakeConfig::new(A, 1)
    };
    let mut pair = Pair::new(config, "cookie");
    let mut first = Vec::new();
    pair.a.poll_transmit(&mut first);
    // send_name: 4-byte length, then 'N'.
    let len = u32::from_be_bytes([first[0], first[1], first[2], first[3]]) as usize;
    assert_eq!(len + 4, first.len());
    assert_eq!(first[4], b'N');
    pair.b
        .handle_input(&first, pair.now)
        .expect("the acceptor reads it");
    pair.run(ok, true);
    assert!(matches!(pair.a_result, Some(Ok(_))), "{:?}", pair.a_result);
    assert!(matches!(pair.b_result, Some(Ok(_))), "{:?}", pair.b_result);
}
