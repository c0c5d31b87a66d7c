//! The send side's fragment scheduler through the public API: a large
//! message leaves in fragments, one per `poll_transmit`, and messages of
//! other senders get through between its fragments while the sender's own
//! later messages stay behind it.

use std::time::{Duration, Instant};

use dist_proto::{Connection, ConnectionConfig, ConnectionEvent, ControlMessage, DistFlags};
use etf::{Atom, Pid, Term};

fn pid(id: u32) -> Pid {
    Pid {
        node: Atom::new("a@h"),
        id,
        serial: 0,
        creation: 1,
    }
}

fn reg_send(from: u32) -> ControlMessage {
    ControlMessage::RegSend {
        from: pid(from),
        to: Atom::new("sink"),
        token: None,
    }
}

fn pair(now: Instant) -> (Connection, Connection) {
    let flags = DistFlags::default_hidden();
    assert!(flags.contains(DistFlags::FRAGMENTS));
    let config = ConnectionConfig {
        tick_time: Duration::from_secs(4),
        ..ConnectionConfig::default()
    };
    (
        Connection::new(flags, config.clone(), now),
        Connection::new(flags, config, now),
    )
}

/// Moves one `poll_transmit` worth of bytes from `a` to `b`; returns the
/// payloads `b` delivered (`None` for a tick).
fn step(a: &mut Connection, b: &mut Connection, now: Instant) -> Vec<Option<Term>> {
    let mut bytes = Vec::new();
    a.poll_transmit(&mut bytes);
    b.handle_input(&bytes, now).expect("valid frames");
    let mut got = Vec::new();
    while let Some(event) = b.poll_event() {
        match event {
            ConnectionEvent::Message { payload, .. } => got.push(payload),
            ConnectionEvent::Tick => got.push(None),
        }
    }
    got
}

#[test]
fn other_senders_overtake_a_large_message_and_it_arrives_whole() {
    let now = Instant::now();
    let (mut a, mut b) = pair(now);
    let big = Term::binary(vec![0x5a; 1 << 20]);
    a.send(&reg_send(1), Some(&big)).expect("big");
    // Its sender's next message must wait behind it.
    a.send(&reg_send(1), Some(&Term::atom("after_big")))
        .expect("after");
    assert_eq!(a.fragmented_in_flight(), 2);

    let mut got = step(&mut a, &mut b, now);
    assert!(got.is_empty(), "one fragment is not a message");
    // Another process's message goes out at the next poll.
    a.send(&reg_send(2), Some(&Term::atom("small")))
        .expect("small");
    got = step(&mut a, &mut b, now);
    assert_eq!(got.first(), Some(&Some(Term::atom("small"))));

    let mut rest = Vec::new();
    let mut polls = 0;
    while a.wants_transmit() {
        rest.extend(step(&mut a, &mut b, now));
        polls += 1;
    }
    // A bit over 1 MiB with the control tuple: 17 fragments of 64 KiB, one
    // per poll, then "after_big".
    assert_eq!(polls + 2, 17 + 1);
    assert_eq!(rest, vec![Some(big), Some(Term::atom("after_big"))]);
    assert_eq!(a.send_backlog(), 0);
}

#[test]
fn without_fragments_a_large_message_is_one_frame() {
    let now = Instant::now();
    let flags = DistFlags::default_hidden() & !DistFlags::FRAGMENTS;
    let mut a = Connection::new(flags, ConnectionConfig::default(), now);
    let mut b = Connection::new(flags, ConnectionConfig::default(), now);
    let big = Term::binary(vec![1; 200_000]);
    a.send(&reg_send(1), Some(&big)).expect("big");
    assert_eq!(a.fragmented_in_flight(), 0);
    assert_eq!(step(&mut a, &mut b, now), vec![Some(big)]);
    assert!(!a.wants_transmit());
}
