//! The fuzz corpora of the EPMD targets replayed through their properties
//! (`epmd_client::fuzzing`), and the requests and replies captured from a
//! real `epmd` and real nodes decoded.

#[path = "../../fuzz/corpus_replay.rs"]
mod corpus_replay;

use corpus_replay::{real_seeds, replay};
use epmd_client::{
    Alive2Reply, DumpReply, KillReply, NamesReply, PortPlease2Reply, Request, StopReply,
};

#[test]
fn epmd_request_corpus() {
    replay("epmd_request", epmd_client::fuzzing::server);
}

#[test]
fn epmd_reply_corpus() {
    replay("epmd_reply", epmd_client::fuzzing::client);
}

/// Every captured stream of requests decodes frame by frame to its end.
#[test]
fn every_captured_request_decodes() {
    for (name, bytes) in real_seeds("epmd_request") {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            match Request::decode_frame(rest) {
                Ok((_, used)) => rest = &rest[used..],
                Err(err) => panic!("{name}: {err}"),
            }
        }
    }
}

/// Every captured reply decodes with the decoder for its request (the
/// seed's first byte, as the `epmd_reply` target reads it).
#[test]
fn every_captured_reply_decodes() {
    for (name, bytes) in real_seeds("epmd_reply") {
        let (kind, reply) = bytes.split_first().expect("seed has a kind byte");
        let decoded = match kind {
            0 => Alive2Reply::decode(reply).map(|r| format!("{r:?}")),
            1 => PortPlease2Reply::decode(reply).map(|r| format!("{r:?}")),
            2 => NamesReply::decode(reply).map(|r| format!("{r:?}")),
            3 => DumpReply::decode(reply).map(|r| format!("{r:?}")),
            4 => KillReply::decode(reply).map(|r| format!("{r:?}")),
            _ => StopReply::decode(reply).map(|r| format!("{r:?}")),
        };
        if let Err(err) = decoded {
            panic!("{name}: {err}");
        }
    }
}
