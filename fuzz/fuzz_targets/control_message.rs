//! Control tuples: what converts to a control message converts back.
//! The property lives in `dist_proto::fuzzing::control_message`, shared with the corpus replay tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dist_proto::fuzzing::control_message(data));
