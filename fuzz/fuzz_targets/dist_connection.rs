//! The connected phase: frames, ticks, atom cache headers, fragments and
//! control messages; every message received must cross a fresh connection
//! pair unchanged.
//! The property lives in `dist_proto::fuzzing::connection`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dist_proto::fuzzing::connection(data));
