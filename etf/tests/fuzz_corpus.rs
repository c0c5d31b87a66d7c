//! The fuzz corpora of the `etf` targets replayed through their properties
//! (`etf::fuzzing`), and the real OTP seeds among them accepted.

#[path = "../../fuzz/corpus_replay.rs"]
mod corpus_replay;

use corpus_replay::{real_seeds, replay};

#[test]
fn etf_decode_corpus() {
    replay("etf_decode", etf::fuzzing::decode);
}

#[test]
fn etf_decode_compressed_corpus() {
    replay("etf_decode_compressed", etf::fuzzing::decode_compressed);
}

/// The `etf_flat` target starts from the `etf_decode` seeds.
#[test]
fn etf_flat_corpus() {
    replay("etf_decode", etf::fuzzing::flat);
    replay("etf_decode_compressed", etf::fuzzing::flat);
}

#[test]
fn etf_stream_corpus() {
    replay("etf_stream", etf::fuzzing::stream);
}

#[test]
fn term_syntax_corpus() {
    replay("term_syntax", etf::fuzzing::term_syntax);
}

#[test]
fn every_term_to_binary_seed_decodes() {
    for (name, bytes) in real_seeds("etf_decode") {
        if let Err(err) = etf::from_slice(&bytes) {
            panic!("{name}: {err}");
        }
    }
}

#[test]
fn every_compressed_seed_body_decodes() {
    for (name, bytes) in real_seeds("etf_decode_compressed") {
        let mut plain = bytes;
        plain[0] = etf::VERSION;
        if let Err(err) = etf::from_slice(&plain) {
            panic!("{name}: {err}");
        }
    }
}

/// erl's `~w` and `~tp` text of the seed terms parses, except what Erlang
/// prints in a form no parser can read back (`#Fun<...>`, `#Port<...>`).
#[test]
fn every_printed_seed_parses() {
    for (name, bytes) in real_seeds("term_syntax") {
        let text = String::from_utf8(bytes).expect("erl wrote UTF-8");
        if text.contains("#Fun<") || text.contains("#Port<") {
            continue;
        }
        if let Err(err) = etf::parse_term(&text) {
            panic!("{name}: {err}");
        }
    }
}
