//! The connecting side of the distribution handshake against any peer.
//! The property lives in `dist_proto::fuzzing::initiator`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dist_proto::fuzzing::initiator(data);
});
