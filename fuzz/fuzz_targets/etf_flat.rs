//! Any bytes decoded flat (`etf::flat::FlatTerm`) and as a tree: the two
//! agree on accept/reject and on the value.
//! The property lives in `etf::fuzzing::flat`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etf::fuzzing::flat(data));
