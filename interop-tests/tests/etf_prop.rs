//! Property test of the `etf` codec against real `erl` (OTP 25, 27, 28 and 29):
//! random terms are encoded by us, decoded by erl and encoded again by erl
//! with several option sets of `term_to_binary/2`; erl's bytes must decode
//! to the original term, and must equal ours byte for byte where the codec
//! promises it: uncompressed deterministic output when no key of a map
//! holds a map of two or more entries, other output when no map has two or
//! more entries (the BEAM's own map order is internal);
//! not for local funs on OTP 26+ (which rewrite a decoded fun's creator pid
//! and old index) nor for ports on OTP 25 (which writes NEW_PORT where
//! OTP 26+ write V4_PORT). On OTP 29 the terms include native records.
//! One VM per release serves every case.

use etf::{EncodeOptions, Term};
use interop_tests::corpus::Options;
use interop_tests::{describe_difference, hex, Oracle, Otp};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::cell::RefCell;

interop_tests::per_release!(round_trip_random_terms);

/// Cases per release; each costs two requests to the VM per option set.
const CASES: u32 = 400;

/// The `term_to_binary/2` options erl re-encodes each term with: the
/// release's default, deterministic, the old float format, OTP 25's atom
/// format, and compression (checked by value only: zlib streams differ).
const OPTIONS: [Options; 5] = [
    Options {
        minor_version: None,
        compressed: None,
        deterministic: false,
    },
    Options {
        minor_version: None,
        compressed: None,
        deterministic: true,
    },
    Options {
        minor_version: Some(0),
        compressed: None,
        deterministic: false,
    },
    Options {
        minor_version: Some(1),
        compressed: None,
        deterministic: true,
    },
    Options {
        minor_version: None,
        compressed: Some(6),
        deterministic: false,
    },
];

fn round_trip_random_terms(otp: Otp) {
    let oracle = RefCell::new(Oracle::start(&otp).expect("oracle starts"));
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // Native records (RECORD_EXT) decode on OTP 29 only.
    let strategy = etf::strategy::term_with(etf::strategy::TermConfig {
        records: otp.release >= 29,
        ..etf::strategy::TermConfig::default()
    });
    let result = runner.run(&strategy, |term| {
        check(&mut oracle.borrow_mut(), &term).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, term)) => {
            panic!(
                "OTP {}: {reason}\n  minimal failing term: {term:?}",
                otp.release
            )
        }
        Err(err) => panic!("OTP {}: {err}", otp.release),
    }
}

fn check(oracle: &mut Oracle, term: &Term) -> Result<(), String> {
    let release = oracle.release();
    let shape = Shape::of(term);
    let ours = etf::to_vec(term).map_err(|err| format!("we cannot encode it: {err}"))?;
    for options in OPTIONS {
        let erlang_options = options.erlang();
        let theirs = oracle
            .reencode(&ours, &erlang_options)
            .map_err(|err| format!("erl rejects our bytes: {err}\n  ours: {}", hex(&ours)))?;
        let decoded = etf::from_slice(&theirs).map_err(|err| {
            format!(
                "we cannot decode erl's term_to_binary(T, {erlang_options}): {err}\n  ours:   {}\n  theirs: {}",
                hex(&ours),
                hex(&theirs)
            )
        })?;
        let back = etf::to_vec(&decoded)
            .map_err(|err| format!("we cannot encode what we decoded from erl: {err}"))?;
        let erl_says_same = oracle
            .exactly_equal(&back, &ours)
            .map_err(|err| format!("erl rejects our re-encoding: {err}\n  back: {}", hex(&back)))?;
        if !erl_says_same {
            return Err(format!(
                "erl's term_to_binary(T, {erlang_options}) decodes to another term: {decoded:?}\n  ours:   {}\n  theirs: {}",
                hex(&ours),
                hex(&theirs)
            ));
        }
        if &decoded != term {
            return Err(format!(
                "erl says T =:= decode(term_to_binary(T, {erlang_options})) but our PartialEq disagrees\n  decoded: {decoded:?}\n  ours:   {}\n  theirs: {}",
                hex(&ours),
                hex(&theirs)
            ));
        }
        let order_is_ours =
            !shape.multi_entry_map || (options.deterministic && !shape.multi_entry_map_in_key);
        let port_format_differs = release < 26 && shape.port;
        let fun_rewritten = release >= 26 && shape.local_fun;
        if options.compressed.is_some() || port_format_differs || fun_rewritten || !order_is_ours {
            continue;
        }
        let expected = term
            .encode(
                &EncodeOptions::new()
                    .minor_version(options.effective_minor_version(release))
                    .deterministic(options.deterministic),
            )
            .map_err(|err| format!("we cannot encode it with {erlang_options}: {err}"))?;
        if expected != theirs {
            return Err(format!(
                "term_to_binary(T, {erlang_options}) bytes differ: {}",
                describe_difference(&expected, &theirs)
            ));
        }
    }
    Ok(())
}

/// What in a term keeps erl's bytes from being ours even when the codec is
/// right.
struct Shape {
    /// A map with two or more entries: without `deterministic` the BEAM
    /// writes entries in its internal order.
    multi_entry_map: bool,
    /// A map of two or more entries inside a key of a map of two or more
    /// entries. `deterministic` sorts such keys by comparing the inner
    /// maps' keys in the BEAM's internal order (atoms by their index in
    /// the node's atom table, not by name: OTP 27 and 29 write
    /// `#{#{g=>1,{x}=>2,[]=>3,[0]=>4}=>1, #{c5=>1,m=>2,...}=>2}` with the
    /// first key first though it compares greater), which no encoder
    /// outside that node can know.
    multi_entry_map_in_key: bool,
    /// A local fun: OTP 26 and later replace the creator pid, old index and
    /// old uniq of a fun they decode, so those fields of a generated fun do
    /// not survive there (they take no part in `=:=`).
    local_fun: bool,
    /// A port: OTP 25 writes NEW_PORT where OTP 26 and later (and we) write
    /// V4_PORT.
    port: bool,
}

impl Shape {
    fn of(term: &Term) -> Shape {
        let mut shape = Shape {
            multi_entry_map: false,
            multi_entry_map_in_key: false,
            local_fun: false,
            port: false,
        };
        // Each term with whether it lies inside a key of a multi-entry map.
        let mut stack = vec![(term, false)];
        while let Some((term, in_key)) = stack.pop() {
            match term {
                Term::Map(map) => {
                    let multi = map.len() > 1;
                    shape.multi_entry_map |= multi;
                    shape.multi_entry_map_in_key |= multi && in_key;
                    for (key, value) in map.iter() {
                        stack.push((key, in_key || multi));
                        stack.push((value, in_key));
                    }
                }
                Term::Tuple(items) | Term::List(items) => {
                    stack.extend(items.iter().map(|item| (item, in_key)))
                }
                Term::ImproperList(items, tail) => {
                    stack.extend(items.iter().map(|item| (item, in_key)));
                    stack.push((tail, in_key));
                }
                Term::Port(_) => shape.port = true,
                Term::Fun(fun) => {
                    shape.local_fun = true;
                    stack.extend(fun.free_vars.iter().map(|var| (var, in_key)));
                }
                Term::Record(record) => stack.extend(record.values().iter().map(|v| (v, in_key))),
                _ => {}
            }
        }
        shape
    }
}
