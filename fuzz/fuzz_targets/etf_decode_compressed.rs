//! Terms behind the zlib layer (tag 80), with right and wrong declared sizes.
//! The property lives in `etf::fuzzing::decode_compressed`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| etf::fuzzing::decode_compressed(data));
