//! The accepting side of the distribution handshake against any peer.
//! The property lives in `dist_proto::fuzzing::acceptor`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dist_proto::fuzzing::acceptor(data);
});
