//! The atom cache header of `131,68` and `131,69` frames.
//! The property lives in `dist_proto::fuzzing::atom_cache_header`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dist_proto::fuzzing::atom_cache_header(data));
