//! Erlang term syntax against real `erl` (OTP 25, 27, 28 and 29), both ways:
//!
//! - erl reads our printed terms with `file:consult/1` and must get exactly
//!   (`=:=`) the terms that `binary_to_term/1` makes of our encoding;
//! - erl prints the same terms with `~w`, `~tw` and `~tp`, and our parser
//!   must read every one of those texts back as the original term;
//! - where Erlang has a literal syntax our printer writes what `~tp` writes
//!   (on one line, under `+pc unicode`), character for character.
//!
//! One `erl` per release runs a short script over files in a temporary
//! directory; it is killed if it does not finish in time or the test panics.

use etf::{parse_term, Atom, Export, Map, Term};
use interop_tests::local::TempDir;
use interop_tests::Otp;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

interop_tests::per_release!(check_release);

/// How many generated terms each run checks, besides the fixed ones.
const GENERATED: usize = 600;

/// How long one `erl` run may take.
const ERL_TIMEOUT: Duration = Duration::from_secs(120);

/// Erlang literals in the many spellings erl_parse accepts; erl's reading
/// of each is the reference for ours.
const LITERALS: &[&str] = &[
    "16#FF",
    "-16#ff",
    "2#1010_1010",
    "36#Zz",
    "1_000_000",
    "- 7",
    "+7",
    "$a",
    "$\\n",
    "$\\^G",
    "$\\x{1F600}",
    "$\\101",
    "$\\s",
    "$\\d",
    "$é",
    "$ ",
    "1.5",
    "1.0E-3",
    "1_0.2_5e+1_0",
    "-0.0",
    "0.1e1",
    "'\\x41\\102\\^A\\z'",
    "'hello world'",
    "'é'",
    "ßa",
    "aÀ_@1",
    "\"a\\tb\\101\\x42\\x{43}\\^A\\s\\d\\e\\1234\"",
    "\"ab\" \"cd\"\n\"e\"",
    "\"пр\"",
    "[1|[2,3]]",
    "[1|\"ab\"]",
    "[1|[2|3]]",
    "{a,{b,[c]}}",
    "# { a => 1 }",
    "#{a => 1, a => 2, 1 => x, 1.0 => y}",
    "<<\"é\">>",
    "<<\"é\"/utf8>>",
    "<<\"a\"/utf16>>",
    "<<\"ab\"/utf32-little>>",
    "<<256>>",
    "<<-1>>",
    "<<-1:16/signed-little>>",
    "<<1:16/little>>",
    "<<1:12/little>>",
    "<<16#ABC:12/little>>",
    "<<1:4/little>>",
    "<<\"a\":16>>",
    "<<1:2/unit:8>>",
    "<<1.5/float>>",
    "<<1.5:32/float>>",
    "<<-2.5:64/float-little>>",
    "<<$a, \"bc\", 100>>",
    "<<\"abc\", 1:4>>",
    "<<0:7>>",
    "<<7:3, 1:5>>",
    "<<16#123456789ABCDEF0123:80>>",
    "<<-1:70>>",
    "<<1:0>>",
    "fun lists:map/2",
    "fun 'M':'end'/0",
    "% a comment\n {ok, % another\n 1}",
];

/// The erl side: read our text, compare with our encoding, print each term
/// in three ways, and write the answers as one external term.
const SCRIPT: &str = r#"
Dir = os:getenv("TERM_SYNTAX_DIR"),
{ok, Read} = file:consult(filename:join(Dir, "ours.txt")),
{ok, Etf} = file:read_file(filename:join(Dir, "ours.etf")),
Expected = binary_to_term(Etf),
Count = length(Read),
Mismatches = case Count =:= length(Expected) of
    true -> [{I, R} || {I, R, E} <- lists:zip3(lists:seq(1, Count), Read, Expected), R =/= E];
    false -> []
end,
{ok, Literals} = file:consult(filename:join(Dir, "literals.txt")),
Show = fun(Format, T) -> unicode:characters_to_binary(io_lib:format(Format, [T])) end,
Printed = [{Show("~w", T), Show("~tw", T), Show("~tp", T), Show("~1000000tp", T)} || T <- Expected],
ok = file:write_file(filename:join(Dir, "erl.etf"), term_to_binary({Count, Mismatches, Printed, Literals})),
halt(0).
"#;

fn check_release(otp: Otp) {
    let terms = test_terms();
    let dir = TempDir::new(&format!("term-syntax-{}", otp.release));
    let mut text = String::from("%% -*- coding: utf-8 -*-\n");
    for term in &terms {
        text.push_str(&term.to_string());
        text.push_str(".\n");
    }
    std::fs::write(dir.path().join("ours.txt"), &text).expect("write ours.txt");
    let etf = etf::to_vec(&Term::List(terms.clone())).expect("the test terms encode");
    std::fs::write(dir.path().join("ours.etf"), etf).expect("write ours.etf");
    let mut literals = String::from("%% -*- coding: utf-8 -*-\n");
    for literal in LITERALS {
        literals.push_str(literal);
        literals.push_str(".\n");
    }
    std::fs::write(dir.path().join("literals.txt"), literals).expect("write literals.txt");

    run_erl(&otp, dir.path());

    let answer = std::fs::read(dir.path().join("erl.etf")).expect("erl wrote its answer");
    let answer = etf::from_slice(&answer).expect("erl's answer decodes");
    let fields = answer
        .into_tuple()
        .unwrap_or_else(|answer| panic!("unexpected answer shape: {answer}"));
    let [Term::Int(count), mismatches, printed, erl_literals] = fields.as_slice() else {
        panic!("unexpected answer fields: {fields:?}");
    };
    let mut failures = Vec::new();
    if usize::try_from(*count).ok() != Some(terms.len()) {
        failures.push(format!(
            "erl read {count} terms from our text, we wrote {}",
            terms.len()
        ));
    }
    for mismatch in list_items(mismatches) {
        let Term::Tuple(pair) = &mismatch else {
            continue;
        };
        if let [Term::Int(index), read] = pair.as_slice() {
            let ours = usize::try_from(*index - 1).ok().and_then(|i| terms.get(i));
            if let Some(ours) = ours {
                failures.push(format!("erl read our text\n  {ours}\nas\n  {read}"));
            }
        }
    }
    let erl_literals = list_items(erl_literals);
    assert_eq!(erl_literals.len(), LITERALS.len(), "erl read every literal");
    for (literal, erl_term) in LITERALS.iter().zip(&erl_literals) {
        match parse_term(literal) {
            Ok(ours) if ours == *erl_term => {}
            Ok(ours) => failures.push(format!(
                "literal {literal}\n  we read {ours}\n  erl reads {erl_term}"
            )),
            Err(err) => failures.push(format!(
                "literal {literal}\n  we fail: {err}\n  erl reads {erl_term}"
            )),
        }
    }
    let printed = list_items(printed);
    assert_eq!(printed.len(), terms.len(), "erl printed every term");
    let mut exact = 0;
    for (term, forms) in terms.iter().zip(&printed) {
        let Term::Tuple(forms) = forms else { continue };
        let texts: Vec<String> = forms.iter().map(binary_text).collect();
        let exports = exports_in(term);
        // io_lib writes the names of `fun M:F/A` as Latin-1 bytes of their
        // UTF-8 text: erl's own text then names other atoms.
        if exports
            .iter()
            .any(|e| !e.module.is_ascii() || !e.function.is_ascii())
        {
            continue;
        }
        for (format, erl_text) in ["~w", "~tw", "~tp", "~1000000tp"].iter().zip(&texts) {
            match parse_term(erl_text) {
                Ok(parsed) if parsed == *term => {}
                Ok(parsed) => failures.push(format!(
                    "erl's {format} text\n  {erl_text}\nparses as\n  {parsed}\nnot\n  {term}"
                )),
                Err(err) => failures.push(format!(
                    "erl's {format} text\n  {erl_text}\ndoes not parse: {err}"
                )),
            }
        }
        // OTP 25 leaves `maybe` and `else` unquoted, which OTP 28 refuses.
        // The names in `fun M:F/A` come from the runtime's own atom printer
        // (`erlang:fun_to_list/1`), which quotes otherwise: `'a@b'`, `'\033'`,
        // and reserved words left bare so that erl_parse refuses them.
        if otp.release >= 28 && !has_unordered_map(term) && exports.is_empty() {
            exact += 1;
            let ours = term.to_string();
            if texts.get(3) != Some(&ours) {
                failures.push(format!(
                    "we print\n  {ours}\nerl's ~tp prints\n  {}",
                    texts.get(3).map_or("?", String::as_str)
                ));
            }
        }
    }
    if otp.release >= 28 {
        assert!(
            exact > terms.len() / 2,
            "only {exact} terms compared character for character"
        );
    }
    assert!(
        failures.is_empty(),
        "OTP {}: {} problems with {} terms:\n\n{}",
        otp.release,
        failures.len(),
        terms.len(),
        failures.join("\n\n")
    );
}

fn list_items(term: &Term) -> Vec<Term> {
    match term {
        Term::List(items) => items.clone(),
        Term::ByteList(bytes) => bytes.iter().map(|&b| Term::Int(i64::from(b))).collect(),
        _ => Vec::new(),
    }
}

fn binary_text(term: &Term) -> String {
    match term {
        Term::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => format!("<not a binary: {other}>"),
    }
}

/// Every `fun M:F/A` in the term.
fn exports_in(term: &Term) -> Vec<&Export> {
    let mut found = Vec::new();
    let mut pending = vec![term];
    while let Some(term) = pending.pop() {
        match term {
            Term::Export(export) => found.push(export),
            Term::Tuple(items) | Term::List(items) => pending.extend(items),
            Term::ImproperList(items, tail) => {
                pending.extend(items);
                pending.push(tail);
            }
            Term::Map(map) => {
                for (key, value) in map.iter() {
                    pending.push(key);
                    pending.push(value);
                }
            }
            _ => {}
        }
    }
    found
}

/// Whether the term holds a map of two or more entries, whose order erl
/// chooses for itself.
fn has_unordered_map(term: &Term) -> bool {
    match term {
        Term::Map(map) => {
            map.len() > 1
                || map
                    .iter()
                    .any(|(k, v)| has_unordered_map(k) || has_unordered_map(v))
        }
        Term::Tuple(items) | Term::List(items) => items.iter().any(has_unordered_map),
        Term::ImproperList(items, tail) => {
            items.iter().any(has_unordered_map) || has_unordered_map(tail)
        }
        _ => false,
    }
}

/// Terms that have an Erlang literal syntax: a fixed list of hard cases and
/// a deterministic sample of generated ones.
fn test_terms() -> Vec<Term> {
    let fixed = [
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        "-123456789012345678901234567890",
        "0.0",
        "-0.0",
        "0.1",
        "1.0e300",
        "5.0e-324",
        "1.7976931348623157e308",
        "9007199254740991.0",
        "9.007199254740992e15",
        "1.0e15",
        "0.0004",
        "1.23e-4",
        "ok",
        "'and'",
        "'fun'",
        "'maybe'",
        "'else'",
        "'Ok'",
        "'_'",
        "''",
        "'a b'",
        "a@b",
        "'ßa'",
        "'ÿ'",
        "'привет'",
        "'\\x{1F600}'",
        "'\\n\\t\\e\\d\\001\\200'",
        "'it\\'s'",
        "'\\\\'",
        "[]",
        "\"abc\"",
        "\"a\\n\\t\\\"\\\\\"",
        "\"é\"",
        "\"привет\"",
        "[127]",
        "[159,160]",
        "[1|2]",
        "[a|<<1>>]",
        "{}",
        "{a,{b,{}}}",
        "#{}",
        "#{a => 1}",
        "#{#{} => []}",
        "<<>>",
        "<<1,2,3>>",
        "<<\"abc\">>",
        "<<\"é\">>",
        "<<\"é\"/utf8>>",
        "<<\"привет\"/utf8>>",
        "<<97,127>>",
        "<<1:1>>",
        "<<1,2:3>>",
        "<<\"abc\",5:4>>",
        "fun lists:map/2",
        "fun 'M':'end'/0",
        "[\"a\",\"\",<<>>,[]]",
    ];
    let mut terms: Vec<Term> = fixed
        .iter()
        .map(|text| parse_term(text).unwrap_or_else(|err| panic!("fixed term {text}: {err}")))
        .collect();
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = literal_term();
    for _ in 0..GENERATED {
        let tree = strategy
            .new_tree(&mut runner)
            .expect("the strategy generates");
        terms.push(tree.current());
    }
    terms
}

fn atom() -> impl Strategy<Value = Atom> {
    proptest::prop_oneof![
        "[a-z][a-zA-Z0-9_@]{0,6}",
        proptest::sample::select(vec![
            "and", "fun", "maybe", "else", "", "A", "'", "\\", "a b", "ok"
        ])
        .prop_map(str::to_owned),
        "[ -~\u{a0}-\u{17f}\u{400}-\u{44f}\u{1F600}\\n\\t\u{0}-\u{1f}\u{7f}-\u{9f}]{1,8}",
    ]
    .prop_map(Atom::from)
}

fn leaf() -> impl Strategy<Value = Term> {
    use proptest::prelude::*;
    prop_oneof![
        any::<i64>().prop_map(Term::Int),
        (-300i64..300).prop_map(Term::Int),
        "-?[1-9][0-9]{19,60}".prop_map(|digits| parse_term(&digits).expect("digits parse")),
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Term::Float),
        (-1.0e6f64..1.0e6).prop_map(Term::Float),
        atom().prop_map(Term::Atom),
        Just(Term::Nil),
        prop::collection::vec(any::<u8>(), 1..10).prop_map(Term::ByteList),
        "[ -~\u{a0}-\u{ff}\\n\\t\\x1b]{1,10}"
            .prop_map(|s| Term::ByteList(s.chars().map(|c| u32::from(c) as u8).collect())),
        "[a-z\u{400}-\u{44f}\u{1F600}]{1,6}".prop_map(|s| Term::List(
            s.chars()
                .map(|c| Term::Int(i64::from(u32::from(c))))
                .collect()
        )),
        prop::collection::vec(any::<u8>(), 0..10).prop_map(|b| Term::Binary(b.into())),
        "[ -~\u{a0}-\u{ff}\u{400}-\u{44f}\\n]{1,10}"
            .prop_map(|s| Term::Binary(s.into_bytes().into())),
        "[ -~\u{a0}-\u{ff}]{1,10}".prop_map(|s| Term::Binary(
            s.chars()
                .map(|c| u32::from(c) as u8)
                .collect::<Vec<u8>>()
                .into()
        )),
        (prop::collection::vec(any::<u8>(), 1..6), 1u8..=7).prop_map(|(mut bytes, bits)| {
            if let Some(last) = bytes.last_mut() {
                *last &= 0xFF << (8 - bits);
            }
            Term::BitBinary(etf::BitBinary {
                bytes: bytes.into(),
                bits,
            })
        }),
        (atom(), atom(), any::<u8>()).prop_map(|(module, function, arity)| Term::Export(Export {
            module,
            function,
            arity
        })),
    ]
}

fn literal_term() -> impl Strategy<Value = Term> {
    use proptest::prelude::*;
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Term::Tuple),
            prop::collection::vec(inner.clone(), 0..5).prop_map(Term::List),
            (prop::collection::vec(inner.clone(), 1..4), inner.clone()).prop_map(
                |(items, tail)| match tail {
                    Term::Nil | Term::List(_) | Term::ByteList(_) | Term::ImproperList(..) =>
                        Term::List(items),
                    tail => Term::ImproperList(items, Box::new(tail)),
                }
            ),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(|entries| {
                let mut map = Map::new();
                for (key, value) in entries {
                    map.insert(key, value);
                }
                Term::Map(map)
            }),
        ]
    })
}

/// Runs [`SCRIPT`] on `otp` over `dir`, killing erl if it overruns.
fn run_erl(otp: &Otp, dir: &Path) {
    let child = otp
        .erl_command(["-noshell", "+pc", "unicode", "-eval", SCRIPT])
        .env("TERM_SYNTAX_DIR", dir)
        .env_remove("ERL_FLAGS")
        .env_remove("ERL_AFLAGS")
        .env_remove("ERL_ZFLAGS")
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", otp.erl().display()));
    let mut guard = KillOnDrop(child);
    let deadline = Instant::now() + ERL_TIMEOUT;
    loop {
        match guard.0.try_wait() {
            Ok(Some(status)) => {
                assert!(
                    status.success(),
                    "OTP {}: erl exited with {status}",
                    otp.release
                );
                return;
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => panic!(
                "OTP {}: erl did not finish within {ERL_TIMEOUT:?}",
                otp.release
            ),
            Err(err) => panic!("OTP {}: waiting for erl failed: {err}", otp.release),
        }
    }
}

/// Kills and reaps the child when dropped, panicking or not.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}
