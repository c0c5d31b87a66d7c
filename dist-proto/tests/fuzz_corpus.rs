//! The fuzz corpora of the distribution targets replayed through their
//! properties (`dist_proto::fuzzing`), and the traffic captured between
//! real OTP nodes accepted.

#[path = "../../fuzz/corpus_replay.rs"]
mod corpus_replay;

use corpus_replay::{corpus, real_seeds, replay};
use dist_proto::handshake::{
    Challenge, ChallengeAck, ChallengeReply, HandshakeMessage, SendName, Status,
};
use dist_proto::{Connection, ConnectionConfig, ConnectionEvent, ControlMessage, DistFlags};
use std::time::Instant;

#[test]
fn handshake_acceptor_corpus() {
    replay("handshake_acceptor", |data| {
        dist_proto::fuzzing::acceptor(data);
    });
}

#[test]
fn handshake_initiator_corpus() {
    replay("handshake_initiator", |data| {
        dist_proto::fuzzing::initiator(data);
    });
}

#[test]
fn handshake_message_corpus() {
    replay("handshake_message", dist_proto::fuzzing::handshake_message);
}

#[test]
fn dist_connection_corpus() {
    replay("dist_connection", dist_proto::fuzzing::connection);
}

#[test]
fn dist_fragments_corpus() {
    replay("dist_fragments", dist_proto::fuzzing::fragments);
}

#[test]
fn atom_cache_header_corpus() {
    replay("atom_cache_header", dist_proto::fuzzing::atom_cache_header);
}

#[test]
fn control_message_corpus() {
    replay("control_message", dist_proto::fuzzing::control_message);
}

/// The seeds made to complete a handshake (a real send_name or challenge
/// with the digests for the targets' cookie) do complete it, so the fuzzers
/// start from the far end of the handshake too.
#[test]
fn complete_handshake_seeds_reach_the_connected_phase() {
    for (target, run) in [
        (
            "handshake_acceptor",
            dist_proto::fuzzing::acceptor as fn(&[u8]) -> bool,
        ),
        ("handshake_initiator", dist_proto::fuzzing::initiator),
    ] {
        let complete: Vec<_> = corpus(target)
            .into_iter()
            .filter(|(name, _)| name.ends_with("_complete"))
            .collect();
        assert!(
            !complete.is_empty(),
            "no complete handshake seed for {target}"
        );
        for (name, bytes) in complete {
            assert!(
                run(&bytes),
                "{target}/{name} does not complete the handshake"
            );
        }
    }
}

/// Every captured handshake message reads with its codec.
#[test]
fn every_captured_handshake_message_reads() {
    for (name, bytes) in real_seeds("handshake_message") {
        let (kind, message) = bytes.split_first().expect("seed has a kind byte");
        let read = match kind {
            0 => SendName::read(message).map(|m| format!("{m:?}")),
            2 => Status::read(message).map(|m| format!("{m:?}")),
            3 => Challenge::read(message).map(|m| format!("{m:?}")),
            5 => ChallengeReply::read(message).map(|m| format!("{m:?}")),
            6 => ChallengeAck::read(message).map(|m| format!("{m:?}")),
            other => panic!("{name}: no captured message of kind {other}"),
        };
        if let Err(err) = read {
            panic!("{name}: {err}");
        }
    }
}

/// The connected-phase streams captured between real nodes (atom cache
/// headers, ticks, messages) are accepted byte by byte and carry messages.
#[test]
fn captured_connection_streams_are_accepted() {
    let flags = DistFlags::default_hidden() | DistFlags::HEADER_FRAMES;
    for (name, bytes) in real_seeds("dist_connection") {
        let stream = &bytes[1..];
        let now = Instant::now();
        let mut c = Connection::new(flags, ConnectionConfig::default(), now);
        for byte in stream.chunks(1) {
            if let Err(err) = c.handle_input(byte, now) {
                panic!("{name}: {err}");
            }
        }
        let messages = std::iter::from_fn(|| c.poll_event())
            .filter(|e| matches!(e, ConnectionEvent::Message { .. }))
            .count();
        assert!(messages > 0, "{name}: no message");
    }
}

/// Every control tuple written by `term_to_binary` is a control message.
#[test]
fn every_control_seed_is_a_control_message() {
    for (name, bytes) in real_seeds("control_message") {
        let term = etf::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Err(err) = ControlMessage::from_term(&term) {
            panic!("{name}: {err}");
        }
    }
}
