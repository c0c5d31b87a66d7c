//! Each handshake message codec: what reads encodes to the same bytes.
//! The property lives in `dist_proto::fuzzing::handshake_message`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dist_proto::fuzzing::handshake_message(data));
