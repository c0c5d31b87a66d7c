//! Any bytes as `term_to_binary` output: no panic, and whatever decodes
//! survives re-encoding under every encoding option.
//! The property lives in `etf::fuzzing::decode`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etf::fuzzing::decode(data));
