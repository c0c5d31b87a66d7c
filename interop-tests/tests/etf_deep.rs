//! Terms of any depth against real `erl`: each release of the matrix writes
//! a million levels of tuples, of lists, and of a mix of maps (keys and
//! values), improper lists and tuples with `term_to_binary`; we decode
//! those bytes on a thread with a 2 MiB stack, print and parse them back,
//! re-encode them to the very bytes erl wrote, and erl's `binary_to_term`
//! of our bytes is `=:=` to its own term.

use etf::EncodeOptions;
use interop_tests::{Oracle, Otp};

interop_tests::per_release!(deep_dumps_round_trip);

const DEPTH: usize = 1_000_000;

/// The deep terms as Erlang expressions, with a name for messages and the
/// options of `term_to_binary/2`.
fn deep_terms() -> [(&'static str, String, &'static str); 4] {
    let fold = |step: &str, init: &str| {
        format!("lists:foldl(fun(I, T) -> _ = I, {step} end, {init}, lists:seq(1, {DEPTH}))")
    };
    let mixed = fold(
        "case I rem 4 of 0 -> #{k => T}; 1 -> [T | tail]; 2 -> #{T => []}; _ -> {I, T} end",
        "0",
    );
    [
        ("tuples", fold("{T}", "[]"), "[]"),
        ("lists", fold("[T]", "[]"), "[]"),
        ("mixed", mixed, "[]"),
        ("compressed tuples", fold("{T}", "[]"), "[compressed]"),
    ]
}

/// What we make of erl's bytes: our re-encoding, and whether printing and
/// parsing gave back the same term.
fn our_side(bytes: &[u8], release: u32) -> (Vec<u8>, bool) {
    let work = || {
        let term = etf::from_slice(bytes).expect("erl's deep dump decodes");
        let parsed = etf::parse_term(&term.to_string()).expect("the printed term parses");
        let same_text = parsed == term;
        drop(parsed);
        // OTP 25 writes Latin-1 atoms as ATOM_EXT by default (minor version 1).
        let minor = if release < 26 { 1 } else { 2 };
        let ours = term
            .encode(&EncodeOptions::new().minor_version(minor))
            .expect("encodes");
        (ours, same_text)
    };
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(scope, work)
            .expect("thread starts")
            .join()
            .expect("no stack overflow")
    })
}

fn deep_dumps_round_trip(otp: Otp) {
    let mut oracle = Oracle::start(&otp).expect("oracle starts");
    let release = otp.release;
    for (name, expr, options) in deep_terms() {
        let erl_bytes = oracle
            .term_to_binary(&expr, options)
            .unwrap_or_else(|e| panic!("OTP {release}: {name}: {e}"));
        let (ours, same_text) = our_side(&erl_bytes, release);
        assert!(same_text, "OTP {release}: {name}: print and parse");
        if options == "[]" {
            assert!(
                ours == erl_bytes,
                "OTP {release}: {name}: our bytes differ from erl's"
            );
        }
        let equal = oracle
            .exactly_equal(&erl_bytes, &ours)
            .unwrap_or_else(|e| panic!("OTP {release}: {name}: {e}"));
        assert!(equal, "OTP {release}: {name}: erl reads another term");
    }
}
