//! `term_to_binary` bytes read by the streaming reader, a few bytes per read.
//! The property lives in `etf::fuzzing::stream`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etf::fuzzing::stream(data));
