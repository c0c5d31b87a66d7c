//! EPMD server side: framed requests into the daemon; its replies must
//! decode with the client's decoders.
//! The property lives in `epmd_client::fuzzing::server`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| epmd_client::fuzzing::server(data));
