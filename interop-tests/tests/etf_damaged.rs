//! Differential tests of the `etf` decoder on damaged input, against real
//! `erl` (OTP 25, 27, 28 and 29).
//!
//! - Truncation: every proper prefix of an uncompressed corpus term must be
//!   rejected as incomplete (`DecodeError::is_incomplete`), at an offset
//!   inside the prefix, and erl must reject it too.
//! - Mutation: small corpus terms with one byte changed (to 0, 255, or a
//!   neighbour value) must be accepted by us exactly when erl accepts them,
//!   and when both accept, erl must see our re-encoding as the same term.
//!   The decoder may be stricter than erl only in the few ways listed at
//!   `stricter_by_design`, and erl stricter only about identifiers of its
//!   own node (`erl_checks_more`).
//!
//! Every verdict from erl is asked in batches: a few requests per corpus term.

use etf::{Category, DecodeError, DecodeErrorKind, EncodeOptions, Term};
use interop_tests::corpus::CASES;
use interop_tests::{hex, Failures, Oracle, Otp};

interop_tests::per_release!(
    truncated_terms_are_incomplete,
    mutated_terms_decode_as_in_erl
);

/// Mutation is tried on corpus terms up to this many bytes (most of them).
const MAX_MUTATED_LEN: usize = 200;

fn truncated_terms_are_incomplete(otp: Otp) {
    let mut oracle = Oracle::start(&otp).expect("oracle starts");
    let mut failures = Failures::new(otp.release);
    let mut checked = 0;
    for case in CASES {
        let whole = oracle
            .term_to_binary(case.expr, "[]")
            .unwrap_or_else(|err| panic!("corpus case {:?} fails in erl: {err}", case.name));
        // Long terms: every prefix up to 300 bytes, then 300 spread evenly.
        let step = (whole.len() / 300).max(1);
        let cuts: Vec<usize> = (0..whole.len().min(300))
            .chain((300..whole.len()).step_by(step))
            .collect();
        let prefixes: Vec<Vec<u8>> = cuts.iter().map(|&cut| whole[..cut].to_vec()).collect();
        let erl_accepts = oracle.accepts_each(&prefixes).expect("batch verdicts");
        for (prefix, erl_accepts) in prefixes.iter().zip(erl_accepts) {
            checked += 1;
            let context = format!("{} cut at {} of {}", case.name, prefix.len(), whole.len());
            if erl_accepts {
                failures.add(&context, "erl accepts a proper prefix; the corpus is wrong");
            }
            match etf::from_slice(prefix) {
                Ok(term) => {
                    failures.add(&context, &format!("we accept a proper prefix as {term:?}"))
                }
                Err(err) if !err.is_incomplete() || err.offset() > prefix.len() => {
                    failures.add(
                        &context,
                        &format!(
                            "not an incomplete-input error inside the prefix: {err} ({:?}, offset {})",
                            err.category(),
                            err.offset()
                        ),
                    );
                }
                Err(_) => {}
            }
        }
    }
    failures.assert_none(checked);
}

fn mutated_terms_decode_as_in_erl(otp: Otp) {
    let mut oracle = Oracle::start(&otp).expect("oracle starts");
    let mut failures = Failures::new(otp.release);
    let mut checked = 0;
    for case in CASES {
        let original = oracle
            .term_to_binary(case.expr, "[]")
            .unwrap_or_else(|err| panic!("corpus case {:?} fails in erl: {err}", case.name));
        if original.len() > MAX_MUTATED_LEN {
            continue;
        }
        let mutants = mutants(&original);
        let bytes: Vec<Vec<u8>> = mutants.iter().map(|mutant| mutant.bytes.clone()).collect();
        let erl_accepts = oracle.accepts_each(&bytes).expect("batch verdicts");
        let mut reencoded = Vec::new();
        for (mutant, erl_accepts) in mutants.iter().zip(erl_accepts) {
            checked += 1;
            let context = || format!("{} {}", case.name, mutant.describe(&original));
            match (etf::from_slice(&mutant.bytes), erl_accepts) {
                (Ok(term), true) => match term.encode(&EncodeOptions::new()) {
                    Ok(ours) => reencoded.push((mutant, ours)),
                    Err(err) => failures.add(
                        &context(),
                        &format!("decoded {term:?} but cannot encode it: {err}"),
                    ),
                },
                (Ok(term), false) if !erl_checks_more(&term) => failures.add(
                    &context(),
                    &format!(
                        "erl rejects it, we decode it\n  as {term:?}\n  bytes: {}",
                        hex(&mutant.bytes)
                    ),
                ),
                (Err(err), true) if !stricter_by_design(&err) => failures.add(
                    &context(),
                    &format!(
                        "erl accepts it, we reject it: {err}\n  bytes: {}",
                        hex(&mutant.bytes)
                    ),
                ),
                _ => {}
            }
        }
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = reencoded
            .iter()
            .map(|(mutant, ours)| (mutant.bytes.clone(), ours.clone()))
            .collect();
        let same = oracle.exactly_equal_each(&pairs).expect("batch comparison");
        for ((mutant, ours), same) in reencoded.iter().zip(same) {
            if same != Some(true) {
                failures.add(
                    &format!("{} {}", case.name, mutant.describe(&original)),
                    &format!(
                        "erl sees our re-encoding as another term ({same:?})\n  theirs: {}\n  ours:   {}",
                        hex(&mutant.bytes),
                        hex(ours)
                    ),
                );
            }
        }
    }
    failures.assert_none(checked);
}

/// Whether a rejection is a deliberate strictness of ours rather than a
/// disagreement about the format:
/// - a [`DecodeOptions`](etf::DecodeOptions) limit;
/// - a NEW_FUN whose size field does not match its contents (erl ignores
///   the field; a mismatch can only mean damage);
/// - a reference with no words, which OTP 25 accepts and OTP 28 rejects.
fn stricter_by_design(err: &DecodeError) -> bool {
    err.category() == Category::Limit
        || matches!(
            err.kind(),
            DecodeErrorKind::FunSizeMismatch { .. } | DecodeErrorKind::InvalidReferenceLength(0)
        )
}

/// Whether erl may rightly reject a term we accept because it knows more
/// than the bytes say: a pid, port, reference or fun of erl's own node
/// (`nonode@nohost` in the oracle) must name an id that node can have made.
fn erl_checks_more(term: &Term) -> bool {
    const ORACLE_NODE: &str = "nonode@nohost";
    let mut stack = vec![term];
    while let Some(term) = stack.pop() {
        match term {
            Term::Pid(pid) if pid.node.as_str() == ORACLE_NODE => return true,
            Term::Port(port) if port.node.as_str() == ORACLE_NODE => return true,
            Term::Reference(reference) if reference.node.as_str() == ORACLE_NODE => return true,
            Term::Fun(fun) => {
                if fun.pid.node.as_str() == ORACLE_NODE {
                    return true;
                }
                stack.extend(&fun.free_vars);
            }
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
            _ => {}
        }
    }
    false
}

/// A corpus term with one byte changed.
struct Mutant {
    at: usize,
    bytes: Vec<u8>,
}

impl Mutant {
    fn describe(&self, original: &[u8]) -> String {
        format!(
            "byte {}: {:02x} -> {:02x}",
            self.at, original[self.at], self.bytes[self.at]
        )
    }
}

/// Every single-byte change of `original` after the version byte, to 0,
/// 255, and the values one above and one below, without duplicates.
fn mutants(original: &[u8]) -> Vec<Mutant> {
    let mut out = Vec::new();
    for at in 1..original.len() {
        let byte = original[at];
        let mut values = vec![0, 255, byte.wrapping_add(1), byte.wrapping_sub(1)];
        values.sort_unstable();
        values.dedup();
        for value in values.into_iter().filter(|&value| value != byte) {
            let mut bytes = original.to_vec();
            bytes[at] = value;
            out.push(Mutant { at, bytes });
        }
    }
    out
}
