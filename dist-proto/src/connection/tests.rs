//! Frames written by hand in OTP's layout, and the ticker on a virtual clock.

use super::*;
use etf::Pid;

fn pid() -> Pid {
    Pid {
        node: Atom::new("a@h"),
        id: 38,
        serial: 0,
        creation: 7,
    }
}

/// `a@h`'s pid <0.38.0> as NEW_PID, the node as a SMALL_ATOM_UTF8.
const PID: &[u8] = &[
    88, 119, 3, b'a', b'@', b'h', 0, 0, 0, 38, 0, 0, 0, 0, 0, 0, 0, 7,
];

/// `{6, Pid, '', net_kernel}` without the version byte.
fn reg_send_body() -> Vec<u8> {
    let mut v = vec![104, 4, 97, 6];
    v.extend_from_slice(PID);
    v.extend_from_slice(&[119, 0, 119, 10]);
    v.extend_from_slice(b"net_kernel");
    v
}

fn reg_send() -> ControlMessage {
    ControlMessage::RegSend {
        from: pid(),
        to: Atom::new("net_kernel"),
        token: None,
    }
}

fn framed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(LengthPrefix::U32, data, &mut out).unwrap();
    out
}

/// Our default flags without header frames: `112` frames are sent.
fn plain() -> DistFlags {
    DistFlags::default_hidden() & !DistFlags::HEADER_FRAMES
}

fn connection(flags: DistFlags, now: Instant) -> Connection {
    Connection::new(flags, ConnectionConfig::default(), now)
}

/// Sends `payload` to `net_kernel` from `ours`, hands what it wrote to
/// `peer`, checks that the peer got that message, and returns the bytes.
fn deliver(ours: &mut Connection, peer: &mut Connection, payload: Term, now: Instant) -> Vec<u8> {
    ours.send(&reg_send(), Some(&payload)).unwrap();
    let mut out = Vec::new();
    ours.poll_transmit(&mut out);
    peer.handle_input(&out, now).unwrap();
    assert_eq!(
        peer.poll_event(),
        Some(ConnectionEvent::Message {
            control: reg_send(),
            payload: Some(payload),
        })
    );
    out
}

#[test]
fn pass_through_frame_with_payload() {
    let now = Instant::now();
    let mut c = connection(plain(), now);
    let mut data = vec![112, 131];
    data.extend(reg_send_body());
    data.extend_from_slice(&[131, 119, 2, b'h', b'i']);
    c.handle_input(&framed(&data), now).unwrap();
    assert_eq!(
        c.poll_event(),
        Some(ConnectionEvent::Message {
            control: reg_send(),
            payload: Some(Term::atom("hi")),
        })
    );
    assert_eq!(c.poll_event(), None);
}

#[test]
fn header_frame_resolves_cached_atoms_and_remembers_them() {
    let now = Instant::now();
    let mut c = connection(DistFlags::default_hidden() | DistFlags::HEADER_FRAMES, now);
    // Two new entries: segment 0 index 1 = "a@h", segment 1 index 2 =
    // "net_kernel"; the control tuple refers to them as 82,0 and 82,1.
    let mut data = vec![131, 68, 2, 0x98, 0x00, 1, 3, b'a', b'@', b'h', 2, 10];
    data.extend_from_slice(b"net_kernel");
    let control = |data: &mut Vec<u8>| {
        data.extend_from_slice(&[
            104, 4, 97, 6, 88, 82, 0, 0, 0, 0, 38, 0, 0, 0, 0, 0, 0, 0, 7,
        ]);
        data.extend_from_slice(&[119, 0, 82, 1]);
    };
    control(&mut data);
    data.extend_from_slice(&[119, 2, b'h', b'i']);
    c.handle_input(&framed(&data), now).unwrap();
    // The second frame refers to both as old entries (flags 0x0 and 0x1).
    let mut second = vec![131, 68, 2, 0x10, 0x00, 1, 2];
    control(&mut second);
    second.extend_from_slice(&[106]);
    c.handle_input(&framed(&second), now).unwrap();
    for payload in [Term::atom("hi"), Term::Nil] {
        assert_eq!(
            c.poll_event(),
            Some(ConnectionEvent::Message {
                control: reg_send(),
                payload: Some(payload),
            })
        );
    }
}

#[test]
fn fragments_are_reassembled() {
    let now = Instant::now();
    let mut c = connection(DistFlags::default_hidden() | DistFlags::HEADER_FRAMES, now);
    let mut body = reg_send_body();
    body.extend_from_slice(&[109, 0, 0, 0, 3, 1, 2, 3]);
    let (first, rest) = body.split_at(10);
    let (middle, last) = rest.split_at(15);
    let seq = 0x0102_0304_0506_0708u64.to_be_bytes();
    let mut f1 = vec![131, 69];
    f1.extend_from_slice(&seq);
    f1.extend_from_slice(&3u64.to_be_bytes());
    f1.push(0); // no atom cache refs
    f1.extend_from_slice(first);
    let cont = |id: u64, part: &[u8]| {
        let mut f = vec![131, 70];
        f.extend_from_slice(&seq);
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(part);
        framed(&f)
    };
    c.handle_input(&framed(&f1), now).unwrap();
    c.handle_input(&cont(2, middle), now).unwrap();
    assert_eq!(c.poll_event(), None);
    c.handle_input(&cont(1, last), now).unwrap();
    assert_eq!(
        c.poll_event(),
        Some(ConnectionEvent::Message {
            control: reg_send(),
            payload: Some(Term::binary(vec![1u8, 2, 3])),
        })
    );
}

#[test]
fn sends_pass_through_unless_header_frames_were_negotiated() {
    let now = Instant::now();
    let mut plain = connection(plain(), now);
    plain.send(&reg_send(), Some(&Term::atom("hi"))).unwrap();
    let mut out = Vec::new();
    plain.poll_transmit(&mut out);
    let mut data = vec![112, 131];
    data.extend(reg_send_body());
    data.extend_from_slice(&[131, 119, 2, b'h', b'i']);
    assert_eq!(out, framed(&data));

    let no_cache =
        (DistFlags::default_hidden() | DistFlags::FRAGMENTS) & !DistFlags::DIST_HDR_ATOM_CACHE;
    let mut header = connection(no_cache, now);
    header.send(&reg_send(), Some(&Term::atom("hi"))).unwrap();
    out.clear();
    header.poll_transmit(&mut out);
    let mut data = vec![131, 68, 0];
    data.extend(reg_send_body());
    data.extend_from_slice(&[119, 2, b'h', b'i']);
    assert_eq!(out, framed(&data));

    // And what one side sends, the other reads.
    let mut peer = connection(DistFlags::default_hidden() | DistFlags::FRAGMENTS, now);
    peer.handle_input(&out, now).unwrap();
    assert!(matches!(
        peer.poll_event(),
        Some(ConnectionEvent::Message {
            payload: Some(_),
            ..
        })
    ));
}

#[test]
fn atoms_go_as_cache_references_when_the_atom_cache_was_negotiated() {
    let now = Instant::now();
    let flags = DistFlags::default_hidden() | DistFlags::FRAGMENTS;
    let mut ours = connection(flags, now);
    let mut peer = connection(flags, now);
    let mut frames = Vec::new();
    for _ in 0..2 {
        frames.push(deliver(&mut ours, &mut peer, Term::atom("hi"), now));
    }
    // The first frame carries the four atoms' text in its header: '', the
    // pid's node, net_kernel and hi. The second only refers to them.
    let [first, second] = &frames[..] else {
        unreachable!()
    };
    assert_eq!(&first[4..7], &[131, 68, 4]);
    // Flags: a nibble per reference, bit 3 for a new entry, then 0.
    assert_eq!(
        [first[7] & 0x88, first[8] & 0x88, first[9]],
        [0x88, 0x88, 0]
    );
    assert_eq!(&second[4..7], &[131, 68, 4]);
    assert_eq!([second[7] & 0x88, second[8] & 0x88], [0, 0]);
    assert!(second.len() < first.len() - 15, "{second:?}");
    assert!(!second.windows(10).any(|w| w == b"net_kernel"));
}

#[test]
fn send_checks_the_payload_against_the_operation() {
    let now = Instant::now();
    let mut c = connection(plain(), now);
    assert!(matches!(
        c.send(&reg_send(), None),
        Err(ConnectionError::PayloadMismatch {
            op: 6,
            has_payload: true
        })
    ));
    let link = ControlMessage::Link {
        from: pid(),
        to: pid(),
    };
    assert!(matches!(
        c.send(&link, Some(&Term::Nil)),
        Err(ConnectionError::PayloadMismatch {
            op: 1,
            has_payload: false
        })
    ));
    // A failed send queues nothing and does not break the connection.
    assert_eq!(c.poll_transmit(&mut Vec::new()), 0);
    c.send(&link, None).unwrap();
}

/// Sends `control` with a payload on a connection with `flags` and returns
/// the control message the peer receives, `None` if nothing was sent.
fn received_by_peer(flags: DistFlags, control: &ControlMessage) -> Option<ControlMessage> {
    let now = Instant::now();
    let mut ours = connection(flags, now);
    let mut peer = connection(plain(), now);
    let sent = ours.send(control, Some(&Term::atom("x"))).unwrap();
    let mut out = Vec::new();
    ours.poll_transmit(&mut out);
    assert_eq!(sent == Sent::Dropped, out.is_empty(), "{sent:?}");
    peer.handle_input(&out, now).unwrap();
    match peer.poll_event()? {
        ConnectionEvent::Message { control, payload } => {
            assert_eq!(payload, Some(Term::atom("x")));
            Some(control)
        }
        ConnectionEvent::Tick => panic!("a tick instead of {control:?}"),
    }
}

#[test]
fn a_peer_without_altact_sig_or_send_sender_gets_what_otp_sends_it_instead() {
    let to = Pid {
        node: Atom::new("b@h"),
        ..pid()
    };
    let alias = etf::Reference {
        node: Atom::new("b@h"),
        creation: 1,
        ids: vec![1, 2, 3],
    };
    let altact = |kind, to| ControlMessage::AltactSigSend {
        kind,
        priority: true,
        from: pid(),
        to,
        token: None,
    };
    let (message, exit) = (AltactKind::Message, AltactKind::Exit);
    let send_sender = ControlMessage::SendSender {
        from: pid(),
        to: to.clone(),
        token: None,
    };
    let cases = [
        (
            altact(message, AltactDest::Pid(to.clone())),
            Some(send_sender.clone()),
        ),
        (
            altact(message, AltactDest::Name(Atom::new("srv"))),
            Some(ControlMessage::RegSend {
                from: pid(),
                to: Atom::new("srv"),
                token: None,
            }),
        ),
        (
            altact(message, AltactDest::Alias(alias.clone())),
            Some(ControlMessage::AliasSend {
                from: pid(),
                alias: alias.clone(),
                token: None,
            }),
        ),
        (
            altact(exit, AltactDest::Pid(to.clone())),
            Some(ControlMessage::PayloadExit2 {
                from: pid(),
                to: to.clone(),
                token: None,
            }),
        ),
        // No operation but ALTACT_SIG_SEND takes an exit to an alias or a
        // name: OTP drops it.
        (altact(exit, AltactDest::Alias(alias)), None),
        (altact(exit, AltactDest::Name(Atom::new("srv"))), None),
    ];
    let without_altact = plain() & !DistFlags::ALTACT_SIG;
    for (control, expected) in cases {
        assert_eq!(
            received_by_peer(without_altact, &control),
            expected,
            "{control:?}"
        );
        // A peer with the flag gets it as it is.
        assert_eq!(received_by_peer(plain(), &control), Some(control));
    }
    // Without SEND_SENDER, SEND_SENDER goes as SEND, also the one an
    // ALTACT_SIG_SEND became.
    let send = ControlMessage::Send {
        to: to.clone(),
        token: None,
    };
    let neither = without_altact & !DistFlags::SEND_SENDER;
    assert_eq!(received_by_peer(neither, &send_sender), Some(send.clone()));
    let to_pid = altact(message, AltactDest::Pid(to));
    assert_eq!(received_by_peer(neither, &to_pid), Some(send));
}

#[test]
fn ticks_are_sent_when_idle_and_silence_kills() {
    let start = Instant::now();
    let config = ConnectionConfig {
        tick_time: Duration::from_secs(60),
        ..ConnectionConfig::default()
    };
    let mut c = Connection::new(plain(), config, start);
    let interval = Duration::from_secs(15);
    assert_eq!(c.poll_timeout(), Some(start + interval));

    // Interval 1: we sent something, the peer ticked: no tick from us.
    c.send(
        &ControlMessage::Link {
            from: pid(),
            to: pid(),
        },
        None,
    )
    .unwrap();
    c.handle_input(&[0, 0, 0, 0], start + Duration::from_secs(3))
        .unwrap();
    assert_eq!(c.poll_event(), Some(ConnectionEvent::Tick));
    assert_eq!(c.last_received(), start + Duration::from_secs(3));
    let mut out = Vec::new();
    c.poll_transmit(&mut out);
    c.handle_timeout(start + interval).unwrap();
    out.clear();
    assert_eq!(c.poll_transmit(&mut out), 0);

    // Early calls do nothing.
    c.handle_timeout(start + interval + Duration::from_secs(1))
        .unwrap();
    assert_eq!(c.poll_transmit(&mut out), 0);

    // Intervals 2 to 4: silence both ways: a tick each time, still alive.
    for k in 2..=4u32 {
        let now = start + interval * k;
        assert_eq!(c.poll_timeout(), Some(now));
        c.handle_timeout(now).unwrap();
        out.clear();
        c.poll_transmit(&mut out);
        assert_eq!(out, vec![0, 0, 0, 0], "tick at interval {k}");
    }
    assert!(c.failure().is_none());
    // Interval 5: the fourth silent interval in a row: dead.
    let err = c.handle_timeout(start + interval * 5).unwrap_err();
    assert!(matches!(err, ConnectionError::TickTimeout { .. }), "{err}");
    assert!(matches!(
        c.handle_input(&[0, 0, 0, 0], start + interval * 5),
        Err(ConnectionError::TickTimeout { .. })
    ));
    assert_eq!(c.poll_timeout(), None);
    assert!(matches!(
        c.failure(),
        Some(ConnectionError::TickTimeout { .. })
    ));
}

#[test]
fn a_peer_tick_keeps_the_connection_alive() {
    let start = Instant::now();
    let mut c = connection(plain(), start);
    let interval = Duration::from_secs(15);
    for k in 1..=20u32 {
        if k % 3 == 0 {
            c.handle_input(&[0, 0, 0, 0], start + interval * k - Duration::from_secs(1))
                .unwrap();
        }
        c.handle_timeout(start + interval * k).unwrap();
    }
}

#[test]
fn malformed_frames_are_typed_errors() {
    use ConnectionError as E;
    let now = Instant::now();
    let with_pids = |prefix: &[u8], suffix: &[u8]| {
        let mut v = prefix.to_vec();
        v.extend_from_slice(PID);
        v.extend_from_slice(PID);
        v.extend_from_slice(suffix);
        v
    };
    type Check = fn(&ConnectionError) -> bool;
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (
            vec![1, 2, 3],
            |e| matches!(e, E::UnknownFrame { first } if first == &[1, 2]),
        ),
        (vec![131, 71], |e| matches!(e, E::UnknownFrame { .. })),
        (
            vec![131, 69, 0, 0],
            |e| matches!(e, E::Malformed(m) if m.what == "fragment sequence id"),
        ),
        (vec![131, 68, 1, 0x00, 5], |e| {
            matches!(
                e,
                E::AtomCache(AtomCacheError::UnknownEntry {
                    segment: 0,
                    index: 5
                })
            )
        }),
        (
            {
                let mut v = vec![112, 131];
                v.extend(reg_send_body());
                v
            },
            |e| matches!(e, E::MissingPayload { op: 6 }),
        ),
        (with_pids(&[112, 131, 104, 3, 97, 1], &[131, 106]), |e| {
            matches!(e, E::TrailingBytes { op: 1, len: 2 })
        }),
        (vec![112, 131, 104, 1, 97, 99], |e| {
            matches!(e, E::Control(ControlError::UnknownOperation(99)))
        }),
        (vec![112, 131, 255], |e| {
            matches!(
                e,
                E::Decode {
                    part: FramePart::Control,
                    ..
                }
            )
        }),
        (
            {
                let mut v = vec![112, 131];
                v.extend(reg_send_body());
                v.extend_from_slice(&[131, 104]);
                v
            },
            |e| matches!(e, E::Decode { part: FramePart::Payload, error } if error.is_incomplete()),
        ),
    ];
    for (data, expected) in cases {
        let mut c = connection(plain(), now);
        let err = c.handle_input(&framed(&data), now).unwrap_err();
        assert!(expected(&err), "{data:?}: unexpected {err:?}");
    }
    let mut c = Connection::new(
        plain(),
        ConnectionConfig {
            max_frame: 100,
            ..ConnectionConfig::default()
        },
        now,
    );
    assert!(matches!(
        c.handle_input(&[0, 0, 1, 0], now),
        Err(ConnectionError::Frame(FrameError::TooLong {
            len: 256,
            max: 100
        }))
    ));
}

/// A frame OTP 25.2.3 sent in `interop-tests/tests/dist_handshake.rs` (echo
/// reply with DIST_HDR_ATOM_CACHE negotiated): four new cache entries, then
/// SEND_SENDER and `{echo, hello}` made of cache references.
const OTP25_HEADER_FRAME: &[u8] = &[
    131, 68, 4, 184, 250, 0, 59, 18, 101, 99, 104, 111, 95, 50, 53, 95, 50, 49, 48, 50, 53, 95, 50,
    64, 118, 109, 117, 18, 114, 117, 115, 116, 95, 50, 53, 95, 50, 49, 48, 50, 53, 95, 51, 64, 118,
    109, 120, 4, 101, 99, 104, 111, 237, 5, 104, 101, 108, 108, 111, 104, 3, 97, 22, 88, 82, 0, 0,
    0, 0, 85, 0, 0, 0, 0, 107, 2, 81, 53, 88, 82, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 104, 2,
    82, 2, 82, 3,
];

#[test]
fn real_otp25_header_frame() {
    let now = Instant::now();
    let mut c = connection(DistFlags::default_hidden() | DistFlags::HEADER_FRAMES, now);
    c.handle_input(&framed(OTP25_HEADER_FRAME), now).unwrap();
    let echo = Pid {
        node: Atom::new("echo_25_21025_2@vm"),
        id: 85,
        serial: 0,
        creation: 0x6b02_5135,
    };
    let rust = Pid {
        node: Atom::new("rust_25_21025_3@vm"),
        id: 1,
        serial: 0,
        creation: 1,
    };
    assert_eq!(
        c.poll_event(),
        Some(ConnectionEvent::Message {
            control: ControlMessage::SendSender {
                from: echo,
                to: rust,
                token: None
            },
            payload: Some(Term::tuple(vec![Term::atom("echo"), Term::atom("hello")])),
        })
    );
    // The entries stay for later frames: segment 0 index 59 is the echo node.
    assert_eq!(
        c.atom_cache.get(0, 59),
        Some(&Atom::new("echo_25_21025_2@vm"))
    );
}

mod prop {
    use super::*;
    use etf::strategy;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever one side sends, in either frame form, the other side
        /// reads back in order, however the bytes are cut.
        #[test]
        fn messages_cross_intact_in_any_chunks(
            from in strategy::pid(),
            to in strategy::pid(),
            payload in strategy::term(),
            header_frames in any::<bool>(),
            cut in 1usize..64,
        ) {
            let now = Instant::now();
            let mut flags = plain();
            if header_frames {
                flags |= DistFlags::HEADER_FRAMES;
            }
            let mut a = connection(flags, now);
            let mut b = connection(flags, now);
            let send = ControlMessage::SendSender { from: from.clone(), to: to.clone(), token: None };
            let link = ControlMessage::Link { from, to };
            a.send(&send, Some(&payload)).unwrap();
            a.send(&link, None).unwrap();
            let mut bytes = Vec::new();
            a.poll_transmit(&mut bytes);
            for chunk in bytes.chunks(cut) {
                b.handle_input(chunk, now).unwrap();
            }
            prop_assert_eq!(
                b.poll_event(),
                Some(ConnectionEvent::Message { control: send, payload: Some(payload) })
            );
            prop_assert_eq!(b.poll_event(), Some(ConnectionEvent::Message { control: link, payload: None }));
            prop_assert_eq!(b.poll_event(), None);
        }
    }
}

/// `#nr:point{x = 1, y = 2}`, as OTP 29 builds it.
fn point() -> Term {
    let record = etf::Record::new("nr", "point", [("x", 1), ("y", 2)]).unwrap();
    Term::from(record)
}

#[test]
fn records_go_as_cache_references_and_come_back() {
    let now = Instant::now();
    // Header frames with the atom cache: the record's atoms are references.
    let flags = DistFlags::default_hidden() | DistFlags::FRAGMENTS;
    assert!(flags.contains(DistFlags::NATIVE_RECORDS));
    let mut ours = connection(flags, now);
    let mut peer = connection(flags, now);
    for round in 0..2 {
        let payload = Term::tuple(vec![Term::atom("echo"), point()]);
        ours.send(&reg_send(), Some(&payload)).unwrap();
        let mut out = Vec::new();
        ours.poll_transmit(&mut out);
        // RECORD_EXT, two fields, not exported, then module and name as
        // cache references.
        let at = out
            .windows(6)
            .position(|w| w == [67, 0, 0, 0, 2, 0])
            .unwrap();
        assert_eq!([out[at + 6], out[at + 8]], [82, 82], "{out:?}");
        // The first header carries the atoms' text, the second refers to
        // the cache only.
        assert_eq!(out.windows(5).any(|w| w == b"point"), round == 0, "{out:?}");
        peer.handle_input(&out, now).unwrap();
        assert_eq!(
            peer.poll_event(),
            Some(ConnectionEvent::Message {
                control: reg_send(),
                payload: Some(payload),
            })
        );
    }
}

#[test]
fn records_are_received_from_a_peer_that_did_not_negotiate_them() {
    // OTP 29 sends RECORD_EXT even to a peer without NATIVE_RECORDS.
    let now = Instant::now();
    let mut c = connection(plain() & !DistFlags::NATIVE_RECORDS, now);
    let mut data = vec![112, 131];
    data.extend(reg_send_body());
    data.extend_from_slice(&[
        131, 67, 0, 0, 0, 2, 0, 119, 2, b'n', b'r', 119, 5, b'p', b'o', b'i', b'n', b't', 119, 1,
        b'x', 119, 1, b'y', 97, 1, 97, 2,
    ]);
    c.handle_input(&framed(&data), now).unwrap();
    assert_eq!(
        c.poll_event(),
        Some(ConnectionEvent::Message {
            control: reg_send(),
            payload: Some(point()),
        })
    );
}

#[test]
fn records_are_refused_to_a_peer_without_native_records_and_the_connection_stays() {
    let now = Instant::now();
    for flags in [plain(), DistFlags::default_hidden() | DistFlags::FRAGMENTS] {
        let flags = flags & !DistFlags::NATIVE_RECORDS;
        let mut ours = connection(flags, now);
        let mut peer = connection(flags, now);
        let payload = Term::list(vec![Term::atom("before"), point()]);
        let err = ours.send(&reg_send(), Some(&payload)).unwrap_err();
        match &err {
            ConnectionError::PeerLacks { missing, what } => {
                assert_eq!(*missing, DistFlags::NATIVE_RECORDS);
                assert_eq!(what, "native record #nr:point{}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ours.poll_transmit(&mut Vec::new()), 0, "nothing was queued");
        // The next message goes, and its atom references are sound.
        deliver(&mut ours, &mut peer, Term::atom("after"), now);
    }
}
