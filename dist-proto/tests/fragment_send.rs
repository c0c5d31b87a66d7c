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

/// A deterministic stream of numbers below `n` (a linear congruential
/// generator: the test needs variety, not quality).
struct Numbers(u64);

impl Numbers {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Files each payload delivered under the sender that sent it (every
/// message is unique: it starts with its round).
fn file_by_sender(payloads: Vec<Option<Term>>, sent: &[Vec<Term>], got: &mut [Vec<Term>]) {
    for payload in payloads.into_iter().flatten() {
        let from = sent
            .iter()
            .position(|messages| messages.contains(&payload))
            .expect("a message that was sent");
        got[from].push(payload);
    }
}

#[test]
fn fragmented_messages_refer_to_the_atom_cache_as_it_is_when_they_go_out() {
    // Small fragments, so that large messages go out in many pieces with
    // other senders' messages between them, and more distinct atoms than
    // the cache has slots, so that those messages keep replacing the slots
    // a large message's header was or will be written against.
    let now = Instant::now();
    let config = ConnectionConfig {
        fragment_size: 512,
        ..ConnectionConfig::default()
    };
    let flags = DistFlags::default_hidden();
    let mut a = Connection::new(flags, config.clone(), now);
    let mut b = Connection::new(flags, config, now);
    let atoms: Vec<Term> = (0..5000).map(|i| Term::atom(&format!("a{i}"))).collect();
    let mut numbers = Numbers(7);
    let mut sent: Vec<Vec<Term>> = vec![Vec::new(); 4];
    let mut got: Vec<Vec<Term>> = vec![Vec::new(); 4];
    for round in 0..300 {
        // Sender 1 sends large messages (and small ones behind them),
        // senders 2 and 3 small ones only.
        let sender = 1 + numbers.below(3);
        let len = if sender == 1 && numbers.below(2) == 0 {
            200 + numbers.below(200)
        } else {
            1 + numbers.below(6)
        };
        let mut elements = vec![Term::from(round)];
        elements.extend((0..len).map(|_| atoms[numbers.below(atoms.len())].clone()));
        let message = Term::tuple(elements);
        a.send(&reg_send(sender as u32), Some(&message))
            .expect("send");
        sent[sender].push(message);
        for _ in 0..numbers.below(3) {
            file_by_sender(step(&mut a, &mut b, now), &sent, &mut got);
        }
    }
    while a.wants_transmit() {
        file_by_sender(step(&mut a, &mut b, now), &sent, &mut got);
    }
    assert!(a.fragmented_in_flight() == 0 && sent[1].len() > 50);
    // Every message arrived as sent (no atom resolved to another), each
    // sender's in its order.
    assert_eq!(got, sent);
}
