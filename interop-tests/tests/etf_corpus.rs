//! Differential tests of the `etf` codec on the corpus of terms made by real
//! `erl` (OTP 25, 27, 28 and 29): for every term and every option set of
//! `term_to_binary/2`, erl's bytes must decode, re-encode with the same
//! options to bytes that erl decodes to the very same term (`=:=`), and,
//! without compression, to the very same bytes. The encoder writes what
//! OTP 28 writes; OTP 25 writes the same bytes except for ports, which it
//! writes as NEW_PORT (89) when the id fits in 32 bits where OTP 26 and later
//! always write V4_PORT (120).

use etf::{EncodeOptions, Term};
use interop_tests::corpus::{Options, CASES, OPTIONS};
use interop_tests::{describe_difference, hex, Failures, Oracle, Otp};

interop_tests::per_release!(round_trip_corpus);

/// The release whose bytes our encoder promises to reproduce in full.
const BYTE_EXACT_RELEASE: u32 = 28;

/// Whether a byte difference from `release`'s output is the one known
/// difference between releases: OTP 25 writes small ports as NEW_PORT.
fn port_format_differs(release: u32, term: &Term) -> bool {
    release < 26 && contains_port(term)
}

fn contains_port(term: &Term) -> bool {
    let mut stack = vec![term];
    while let Some(term) = stack.pop() {
        match term {
            Term::Port(_) => return true,
            Term::Tuple(items) | Term::List(items) => stack.extend(items),
            Term::ImproperList(items, tail) => {
                stack.extend(items);
                stack.push(tail);
            }
            Term::Map(map) => {
                for (key, value) in map.iter() {
                    stack.push(key);
                    stack.push(value);
                }
            }
            Term::Fun(fun) => stack.extend(&fun.free_vars),
            _ => {}
        }
    }
    false
}

fn encode_options(options: &Options, release: u32) -> EncodeOptions {
    EncodeOptions::new()
        .minor_version(options.effective_minor_version(release))
        .compression(options.compressed)
        .deterministic(options.deterministic)
}

fn round_trip_corpus(otp: Otp) {
    let mut oracle = Oracle::start(&otp).expect("oracle starts");
    let mut failures = Failures::new(otp.release);
    let mut checked = 0;
    for case in CASES {
        for options in OPTIONS {
            checked += 1;
            let erlang_options = options.erlang();
            let theirs = oracle
                .term_to_binary(case.expr, &erlang_options)
                .unwrap_or_else(|err| panic!("corpus case {:?} fails in erl: {err}", case.name));
            if let Err(what) = round_trip(&mut oracle, options, &theirs) {
                failures.add(
                    &format!("{} | {erlang_options}", case.name),
                    &format!("{what}\n  expr: {}", case.expr),
                );
            }
        }
    }
    failures.assert_none(checked);
}

/// Decodes erl's bytes, encodes them again with the same options, and checks
/// the result with erl. Returns what went wrong.
fn round_trip(oracle: &mut Oracle, options: &Options, theirs: &[u8]) -> Result<(), String> {
    let release = oracle.release();
    let term = etf::from_slice(theirs)
        .map_err(|err| format!("decode failed: {err}\n  theirs: {}", hex(theirs)))?;
    // The zero-copy path must agree with the copying one.
    let shared = etf::from_bytes(bytes::Bytes::copy_from_slice(theirs))
        .map_err(|err| format!("from_bytes failed where from_slice did not: {err}"))?;
    if shared != term {
        return Err(format!(
            "from_bytes and from_slice disagree: {shared:?} vs {term:?}"
        ));
    }
    let ours = term
        .encode(&encode_options(options, release))
        .map_err(|err| format!("encode failed: {err}\n  term: {term:?}"))?;
    let same_term = oracle.exactly_equal(&ours, theirs).map_err(|err| {
        format!(
            "erl rejects our bytes: {err}\n  ours:   {}\n  theirs: {}",
            hex(&ours),
            hex(theirs)
        )
    })?;
    if !same_term {
        return Err(format!(
            "erl decodes our bytes to a different term\n  ours as erl sees it:   {}\n  theirs as erl sees it: {}\n  ours:   {}\n  theirs: {}",
            oracle.show(&ours),
            oracle.show(theirs),
            hex(&ours),
            hex(theirs)
        ));
    }
    if options.compressed.is_some() {
        // zlib streams differ between implementations; the size of the
        // uncompressed term in the header must not.
        let header =
            |bytes: &[u8]| (bytes.get(1) == Some(&80)).then(|| bytes.get(2..6).map(<[u8]>::to_vec));
        if let (Some(our_size), Some(their_size)) = (header(&ours), header(theirs)) {
            if our_size != their_size {
                return Err(format!(
                    "compressed headers declare different sizes\n  ours:   {}\n  theirs: {}",
                    hex(&ours),
                    hex(theirs)
                ));
            }
        }
    } else if ours != theirs
        && (release == BYTE_EXACT_RELEASE || !port_format_differs(release, &term))
    {
        return Err(format!(
            "bytes differ: {}",
            describe_difference(&ours, theirs)
        ));
    }
    let again =
        etf::from_slice(&ours).map_err(|err| format!("our own bytes do not decode: {err}"))?;
    if again != term {
        return Err(format!(
            "decoding our bytes gives a different term: {again:?} vs {term:?}"
        ));
    }
    Ok(())
}
