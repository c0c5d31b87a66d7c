//! Differential tests of the Erlang term syntax of `etf` on the corpus made
//! by real `erl` (OTP 25, 27, 28 and 29):
//! - a decoded term printed with `Display` or `Term::pretty` must parse back
//!   with `etf::parse_term` to the same term, whose encoding erl decodes to
//!   the original; for plain data erl's own parser (and evaluator) must read
//!   our printed text as the original term;
//! - in the other direction, erl's own printing of plain data (`~w`, `~tp`)
//!   must parse with `etf::parse_term` to the original term.

use interop_tests::corpus::{Case, Kind, CASES};
use interop_tests::{Failures, Oracle, Otp};

interop_tests::per_release!(print_and_parse_corpus, parse_erl_printed_corpus);

/// io_lib builds its output as a character list of 16 bytes per character:
/// terms of larger encodings would exceed the oracle's heap limit.
const MAX_ERL_PRINTED: usize = 200_000;

fn parse_erl_printed_corpus(otp: Otp) {
    let mut oracle = Oracle::start(&otp).expect("oracle starts");
    let mut failures = Failures::new(otp.release);
    let mut checked = 0;
    for case in CASES.iter().filter(|case| case.kind == Kind::Data) {
        let theirs = oracle
            .term_to_binary(case.expr, "[]")
            .unwrap_or_else(|err| panic!("corpus case {:?} fails in erl: {err}", case.name));
        if theirs.len() > MAX_ERL_PRINTED {
            continue;
        }
        for format in ["~w", "~tp"] {
            checked += 1;
            let printed = oracle
                .eval(
                    &format!(
                        "unicode:characters_to_binary(io_lib:format(\"{format}\", [binary_to_term(Etf)]))"
                    ),
                    &[("Etf", &theirs)],
                )
                .unwrap_or_else(|err| panic!("erl cannot print {:?}: {err}", case.name));
            let text = String::from_utf8_lossy(&printed);
            let verdict = match etf::parse_term(&text) {
                Err(err) => Err(format!("our parser rejects erl's {format} text: {err}")),
                Ok(parsed) => match etf::to_vec(&parsed) {
                    Err(err) => Err(format!("cannot encode the parsed term: {err}")),
                    Ok(ours) => match oracle.exactly_equal(&ours, &theirs) {
                        Ok(true) => Ok(()),
                        Ok(false) => Err(format!(
                            "erl's {format} text parses to another term: {}",
                            abbreviate(&parsed.to_string())
                        )),
                        Err(err) => Err(err.to_string()),
                    },
                },
            };
            if let Err(what) = verdict {
                failures.add(
                    &format!("{} | {format}", case.name),
                    &format!("{what}\n  text: {}", abbreviate(&text)),
                );
            }
        }
    }
    failures.assert_none(checked);
}

fn print_and_parse_corpus(otp: Otp) {
    let mut oracle = Oracle::start(&otp).expect("oracle starts");
    let mut failures = Failures::new(otp.release);
    let mut checked = 0;
    for case in CASES {
        checked += 1;
        let theirs = oracle
            .term_to_binary(case.expr, "[]")
            .unwrap_or_else(|err| panic!("corpus case {:?} fails in erl: {err}", case.name));
        if let Err(what) = print_and_parse(&mut oracle, case, &theirs) {
            failures.add(case.name, &format!("{what}\n  expr: {}", case.expr));
        }
    }
    failures.assert_none(checked);
}

/// Prints erl's term in Erlang syntax, on one line (`Display`) and laid out
/// (`Term::pretty`), and checks that our parser and erl's both read each
/// text back as the same term. Pids, ports, references and funs have no
/// Erlang source syntax; the printer's own `#Pid<…>` forms for them are
/// checked with our parser only.
fn print_and_parse(oracle: &mut Oracle, case: &Case, theirs: &[u8]) -> Result<(), String> {
    let term = etf::from_slice(theirs).map_err(|err| format!("decode failed: {err}"))?;
    for (form, text) in [
        ("print", term.to_string()),
        ("pretty", term.pretty().to_string()),
    ] {
        let shown = || abbreviate(&text);
        let parsed = etf::parse_term(&text).map_err(|err| {
            format!(
                "our parser rejects the {form}ed term: {err}\n  text: {}",
                shown()
            )
        })?;
        if parsed != term {
            return Err(format!(
                "parse({form}(T)) differs from T\n  text: {}\n  parsed: {}",
                shown(),
                abbreviate(&parsed.to_string())
            ));
        }
        let reencoded =
            etf::to_vec(&parsed).map_err(|err| format!("encode of parsed term failed: {err}"))?;
        if !oracle
            .exactly_equal(&reencoded, theirs)
            .map_err(|err| err.to_string())?
        {
            return Err(format!(
                "encode(parse({form}(T))) is not T in erl\n  text: {}",
                shown()
            ));
        }
        if case.kind == Kind::Data {
            let agrees = oracle.decodes_to(theirs, &text).map_err(|err| {
                format!(
                    "erl cannot read the {form}ed term: {err}\n  text: {}",
                    shown()
                )
            })?;
            if !agrees {
                return Err(format!(
                    "erl reads the {form}ed term as a different term\n  text: {}",
                    shown()
                ));
            }
        }
    }
    Ok(())
}

fn abbreviate(text: &str) -> String {
    const SHOWN: usize = 400;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!(
            "{}... ({} chars in all)",
            &text[..cut],
            text.chars().count()
        ),
        None => text.to_owned(),
    }
}
