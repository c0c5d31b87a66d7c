//! EPMD client side: every reply decoder, with a re-encoding round trip.
//! The property lives in `epmd_client::fuzzing::client`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| epmd_client::fuzzing::client(data));
