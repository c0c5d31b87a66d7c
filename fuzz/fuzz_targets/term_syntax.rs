//! Erlang term syntax: whatever parses prints (compact and laid out) to
//! text that parses to an equal term.
//! The property lives in `etf::fuzzing::term_syntax`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etf::fuzzing::term_syntax(data));
