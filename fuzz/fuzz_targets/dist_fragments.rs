//! Fragment reassembly across many frames, against a model, with limits.
//! The property lives in `dist_proto::fuzzing::fragments`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dist_proto::fuzzing::fragments(data));
