//! OTP 29 native records (RECORD_EXT, tag 67) against real OTP 29 bytes.
//!
//! Each case holds what OTP 29.1 printed for a record of module `nr`
//! (`-record #point{x = 0, y = 0}.`, `-record #zeta{z = 1, a = 2, m = 3}.`,
//! `-record #empty{}.`, an exported `-record #pub{a = 1}.` and
//! `-record #'café'{'naïve' = "é", 'Ω' = 'ω'}.`): the text
//! `io_lib_pretty` prints on one line, then `term_to_binary(T)`,
//! `term_to_binary(T, [deterministic])` and
//! `term_to_binary(T, [{minor_version, 1}])`. Decoding any of the three gives
//! the same term; encoding it with the same options gives the bytes back.
//! `testdata/etf/native_records.bin` is the list of all of them,
//! `[{compressed, 9}]`.

use etf::{
    Atom, DecodeErrorKind, Decoder, EncodeError, EncodeOptions, ParseErrorKind, Record, Term,
};

type Case = (
    &'static str,
    &'static str,
    &'static [u8],
    &'static [u8],
    &'static [u8],
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    (
        "point",
        "#nr:point{x = 1,y = 2}",
        &[131,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,1,97,2],
        &[131,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,1,97,2],
        &[131,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,97,1,97,2],
    ),
    (
        "definition order",
        "#nr:zeta{z = 1,a = 2,m = 3}",
        &[131,67,0,0,0,3,0,119,2,110,114,119,4,122,101,116,97,119,1,122,119,1,97,119,1,109,97,1,97,2,97,3],
        &[131,67,0,0,0,3,0,119,2,110,114,119,4,122,101,116,97,119,1,122,119,1,97,119,1,109,97,1,97,2,97,3],
        &[131,67,0,0,0,3,0,100,0,2,110,114,100,0,4,122,101,116,97,100,0,1,122,100,0,1,97,100,0,1,109,97,1,97,2,97,3],
    ),
    (
        "no fields",
        "#nr:empty{}",
        &[131,67,0,0,0,0,0,119,2,110,114,119,5,101,109,112,116,121],
        &[131,67,0,0,0,0,0,119,2,110,114,119,5,101,109,112,116,121],
        &[131,67,0,0,0,0,0,100,0,2,110,114,100,0,5,101,109,112,116,121],
    ),
    (
        "exported",
        "#nr:pub{a = 1}",
        &[131,67,0,0,0,1,1,119,2,110,114,119,3,112,117,98,119,1,97,97,1],
        &[131,67,0,0,0,1,1,119,2,110,114,119,3,112,117,98,119,1,97,97,1],
        &[131,67,0,0,0,1,1,100,0,2,110,114,100,0,3,112,117,98,100,0,1,97,97,1],
    ),
    (
        "unicode and latin-1 atoms",
        "#nr:café{naïve = \"é\",'Ω' = 'ω'}",
        &[131,67,0,0,0,2,0,119,2,110,114,119,5,99,97,102,195,169,119,6,110,97,195,175,118,101,119,2,206,169,107,0,1,233,119,2,207,137],
        &[131,67,0,0,0,2,0,119,2,110,114,119,5,99,97,102,195,169,119,6,110,97,195,175,118,101,119,2,206,169,107,0,1,233,119,2,207,137],
        &[131,67,0,0,0,2,0,100,0,2,110,114,100,0,4,99,97,102,233,100,0,5,110,97,239,118,101,119,2,206,169,107,0,1,233,119,2,207,137],
    ),
    (
        "nested",
        "{ok,[#nr:point{x = 0,y = 0},#nr:point{x = -1,y = 3.5}],#nr:point{x = #nr:empty{},y = #nr:zeta{z = 1,a = 2,m = #nr:pub{a = <<\"b\">>}}}}",
        &[131,104,3,119,2,111,107,108,0,0,0,2,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,0,97,0,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,98,255,255,255,255,70,64,12,0,0,0,0,0,0,106,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,67,0,0,0,0,0,119,2,110,114,119,5,101,109,112,116,121,67,0,0,0,3,0,119,2,110,114,119,4,122,101,116,97,119,1,122,119,1,97,119,1,109,97,1,97,2,67,0,0,0,1,1,119,2,110,114,119,3,112,117,98,119,1,97,109,0,0,0,1,98],
        &[131,104,3,119,2,111,107,108,0,0,0,2,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,0,97,0,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,98,255,255,255,255,70,64,12,0,0,0,0,0,0,106,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,67,0,0,0,0,0,119,2,110,114,119,5,101,109,112,116,121,67,0,0,0,3,0,119,2,110,114,119,4,122,101,116,97,119,1,122,119,1,97,119,1,109,97,1,97,2,67,0,0,0,1,1,119,2,110,114,119,3,112,117,98,119,1,97,109,0,0,0,1,98],
        &[131,104,3,100,0,2,111,107,108,0,0,0,2,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,97,0,97,0,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,98,255,255,255,255,70,64,12,0,0,0,0,0,0,106,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,67,0,0,0,0,0,100,0,2,110,114,100,0,5,101,109,112,116,121,67,0,0,0,3,0,100,0,2,110,114,100,0,4,122,101,116,97,100,0,1,122,100,0,1,97,100,0,1,109,97,1,97,2,67,0,0,0,1,1,100,0,2,110,114,100,0,3,112,117,98,100,0,1,97,109,0,0,0,1,98],
    ),
    (
        "map values",
        "#nr:point{x = #{1 => x,1.0 => y,b => 1,a => 2},y = #{#nr:point{x = 0,y = 0} => [#nr:empty{}]}}",
        &[131,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,116,0,0,0,4,97,1,119,1,120,70,63,240,0,0,0,0,0,0,119,1,121,119,1,98,97,1,119,1,97,97,2,116,0,0,0,1,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,0,97,0,108,0,0,0,1,67,0,0,0,0,0,119,2,110,114,119,5,101,109,112,116,121,106],
        &[131,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,116,0,0,0,4,97,1,119,1,120,70,63,240,0,0,0,0,0,0,119,1,121,119,1,97,97,2,119,1,98,97,1,116,0,0,0,1,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,0,97,0,108,0,0,0,1,67,0,0,0,0,0,119,2,110,114,119,5,101,109,112,116,121,106],
        &[131,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,116,0,0,0,4,97,1,100,0,1,120,70,63,240,0,0,0,0,0,0,100,0,1,121,100,0,1,98,97,1,100,0,1,97,97,2,116,0,0,0,1,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,97,0,97,0,108,0,0,0,1,67,0,0,0,0,0,100,0,2,110,114,100,0,5,101,109,112,116,121,106],
    ),
    (
        "list of records",
        "[#nr:point{x = 1,y = 300},#nr:point{x = 2,y = 600},#nr:point{x = 3,y = 900}]",
        &[131,108,0,0,0,3,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,1,98,0,0,1,44,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,2,98,0,0,2,88,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,3,98,0,0,3,132,106],
        &[131,108,0,0,0,3,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,1,98,0,0,1,44,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,2,98,0,0,2,88,67,0,0,0,2,0,119,2,110,114,119,5,112,111,105,110,116,119,1,120,119,1,121,97,3,98,0,0,3,132,106],
        &[131,108,0,0,0,3,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,97,1,98,0,0,1,44,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,97,2,98,0,0,2,88,67,0,0,0,2,0,100,0,2,110,114,100,0,5,112,111,105,110,116,100,0,1,120,100,0,1,121,97,3,98,0,0,3,132,106],
    ),
];

fn point(x: impl Into<Term>, y: impl Into<Term>) -> Term {
    Term::from(Record::new("nr", "point", [("x", x.into()), ("y", y.into())]).unwrap())
}

#[test]
fn otp29_bytes_decode_and_encode_back() {
    for &(name, text, default, deterministic, minor1) in CASES {
        let term = etf::from_slice(default).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            etf::from_bytes(default.to_vec().into()).unwrap(),
            term,
            "{name}"
        );
        assert_eq!(etf::from_slice(deterministic).unwrap(), term, "{name}");
        assert_eq!(etf::from_slice(minor1).unwrap(), term, "{name}");
        assert_eq!(etf::to_vec(&term).unwrap(), default, "{name}");
        let det = EncodeOptions::new().deterministic(true);
        assert_eq!(term.encode(&det).unwrap(), deterministic, "{name}");
        let old = EncodeOptions::new().minor_version(1);
        assert_eq!(term.encode(&old).unwrap(), minor1, "{name}");
        assert_eq!(term.to_string(), text, "{name}");
    }
}

#[test]
fn otp29_text_parses_back_to_the_decoded_term() {
    for &(name, text, default, ..) in CASES {
        let decoded = etf::from_slice(default).unwrap();
        let parsed = etf::parse_term(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The text does not show the exported flag; the parser reads none.
        assert_eq!(parsed, unexported(&decoded), "{name}");
        let pretty = decoded.pretty().width(30).to_string();
        let reread = etf::parse_term(&pretty).unwrap_or_else(|e| panic!("{name}: {e}\n{pretty}"));
        assert_eq!(reread.to_string(), text, "{name}");
    }
}

/// The term with every record marked as not exported (the cases are shallow).
fn unexported(term: &Term) -> Term {
    match term {
        Term::Record(r) => {
            let (module, name, _, fields, values) = (**r).clone().into_parts();
            let fields = fields.into_iter().zip(values.iter().map(unexported));
            Term::from(Record::new(module, name, fields).unwrap())
        }
        Term::Tuple(items) => Term::Tuple(items.iter().map(unexported).collect()),
        Term::List(items) => Term::List(items.iter().map(unexported).collect()),
        Term::Map(map) => Term::map(
            map.iter()
                .map(|(k, v)| (unexported(k), unexported(v)))
                .collect(),
        )
        .unwrap(),
        other => other.clone(),
    }
}

#[test]
fn the_record_of_the_issue_is_a_point_of_nr() {
    let bytes = CASES[0].2;
    let Ok(record) = etf::from_slice(bytes).unwrap().into_record() else {
        panic!("not a record");
    };
    assert_eq!(record.module().as_str(), "nr");
    assert_eq!(record.name().as_str(), "point");
    assert!(!record.is_exported());
    let fields: Vec<(&str, &Term)> = record.fields().map(|(f, v)| (f.as_str(), v)).collect();
    assert_eq!(fields, [("x", &Term::Int(1)), ("y", &Term::Int(2))]);
    assert_eq!(Term::Record(record), point(1, 2));
}

#[test]
fn the_compressed_dump_of_every_case_decodes() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/etf/native_records.bin"
    ))
    .unwrap();
    let decoded = etf::from_slice(&bytes).unwrap();
    let expected: Vec<Term> = CASES
        .iter()
        .map(|c| etf::from_slice(c.2).unwrap())
        .collect();
    assert_eq!(decoded, Term::list(expected));
}

/// Records decoded from crafted bytes (`67, count, flags, module, name,
/// fields, values`), as OTP 29 builds them with `binary_to_term/1`.
fn crafted(flags: u8, module: &str, name: &str, fields: &[&str], values: &[u8]) -> Vec<u8> {
    let atom = |out: &mut Vec<u8>, a: &str| {
        out.extend_from_slice(&[119, a.len() as u8]);
        out.extend_from_slice(a.as_bytes());
    };
    let mut out = vec![131, 67];
    out.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    out.push(flags);
    atom(&mut out, module);
    atom(&mut out, name);
    for f in fields {
        atom(&mut out, f);
    }
    for v in values {
        out.extend_from_slice(&[97, *v]);
    }
    out
}

fn rec(flags: u8, module: &str, name: &str, fields: &[&str], values: &[u8]) -> Term {
    etf::from_slice(&crafted(flags, module, name, fields, values)).unwrap()
}

/// Term order and equality as OTP 29 answered them for the same records
/// (`lists:sort/1`, `=:=`, `==`, `<`).
#[test]
fn order_and_equality_follow_otp29() {
    // Fields in another order, other field names, another flag: not equal.
    let xy = rec(0, "nr", "point", &["x", "y"], &[1, 2]);
    assert_eq!(xy, point(1, 2));
    let yx = rec(0, "nr", "point", &["y", "x"], &[2, 1]);
    assert_ne!(yx, xy);
    assert!(yx > xy);
    let ab = rec(0, "nr", "point", &["a", "b"], &[1, 2]);
    assert!(ab < xy);
    let exported = rec(1, "nr", "point", &["x", "y"], &[1, 2]);
    assert!(exported > xy);
    // Module, name, flag, size, field names, values: in that order.
    let mut v = [
        rec(0, "b", "a", &[], &[]),
        rec(0, "a", "z", &["q"], &[1]),
        rec(0, "a", "b", &["q", "r"], &[1, 2]),
        rec(0, "a", "b", &["q"], &[5]),
    ];
    v.sort();
    let printed: Vec<String> = v.iter().map(Term::to_string).collect();
    assert_eq!(
        printed,
        ["#a:b{q = 5}", "#a:b{q = 1,r = 2}", "#a:z{q = 1}", "#b:a{}"]
    );
    assert!(rec(0, "a", "b", &["z"], &[1]) < rec(0, "a", "b", &["a", "b"], &[1, 2]));
    assert!(rec(1, "a", "b", &["x"], &[1]) > rec(0, "a", "b", &["x", "y"], &[1, 1]));
    assert!(rec(1, "a", "b", &["x"], &[1]) < rec(0, "a", "c", &["x"], &[1]));
    assert!(rec(0, "a", "b", &["x"], &[3]) < rec(0, "a", "b", &["y"], &[2]));
    assert!(rec(0, "a", "b", &["z", "a"], &[1, 2]) < rec(0, "a", "b", &["z", "a"], &[2, 1]));
    // Between tuples and maps.
    let empty = rec(0, "a", "b", &[], &[]);
    assert!(Term::tuple(vec![Term::Nil; 300]) < empty);
    assert!(empty < Term::map(vec![]).unwrap());
    // `==` compares the values arithmetically, `=:=` exactly.
    let one_float = Record::new("a", "b", [("x", Term::Float(1.0))]).unwrap();
    let one_int = rec(0, "a", "b", &["x"], &[1]);
    assert_ne!(Term::from(one_float.clone()), one_int);
    assert!(Term::from(one_float).eq_erl(&one_int));
    // As map keys, the two points stay apart.
    let map = Term::map(vec![(xy.clone(), Term::Int(1)), (yx.clone(), Term::Int(2))]);
    assert!(map.is_ok());
}

#[test]
fn hostile_records_fail_with_typed_errors() {
    // Flag bits other than bit 0 (OTP 29: badarg).
    for flags in [2u8, 255] {
        let err = etf::from_slice(&crafted(flags, "m", "r", &["x"], &[1])).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::InvalidRecordFlags(flags));
        assert_eq!(err.offset(), 6);
    }
    // A field twice (OTP 29: badarg).
    let err = etf::from_slice(&crafted(0, "m", "r", &["x", "x"], &[1, 2])).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::DuplicateRecordField(Atom::new("x"))
    );
    assert_eq!(err.offset(), 1);
    // A count the input cannot hold fails before allocating.
    let err = etf::from_slice(&[131, 67, 255, 255, 255, 255, 0]).unwrap_err();
    assert!(err.is_incomplete(), "{err}");
    // A module that is not an atom.
    let err = etf::from_slice(&[131, 67, 0, 0, 0, 0, 0, 97, 1, 119, 1, b'b']).unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::UnexpectedTag { tag: 97, .. }),
        "{err}"
    );
    // Every truncation of a real record is incomplete, never a panic.
    let whole = CASES[5].2;
    for end in 1..whole.len() {
        let err = etf::from_slice(&whole[..end]).unwrap_err();
        assert!(err.is_incomplete(), "{end}: {err}");
    }
}

#[test]
fn old_atom_tags_and_cache_references_decode_in_records() {
    // ATOM, SMALL_ATOM and ATOM_UTF8 (OTP 29 reads each).
    let bytes = [
        131, 67, 0, 0, 0, 1, 0, 100, 0, 1, b'a', 115, 1, b'b', 118, 0, 1, b'x', 97, 1,
    ];
    assert_eq!(etf::from_slice(&bytes).unwrap().to_string(), "#a:b{x = 1}");
    // Cache references, as in a distribution frame.
    let cache = [
        Atom::new("nr"),
        Atom::new("point"),
        Atom::new("x"),
        Atom::new("y"),
    ];
    let body = [67, 0, 0, 0, 2, 0, 82, 0, 82, 1, 82, 2, 82, 3, 97, 1, 97, 2];
    let term = Decoder::new(&body)
        .with_atom_cache(&cache)
        .read_body()
        .unwrap();
    assert_eq!(term, point(1, 2));
}

#[test]
fn deep_records_decode_without_recursion_limits_of_their_own() {
    // A record in a record, a million deep, on a 2 MiB stack.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(scope, || {
                let mut term = Term::Nil;
                for _ in 0..1_000_000 {
                    term = Term::from(Record::new("m", "r", [("v", term)]).unwrap());
                }
                let bytes = etf::to_vec(&term).unwrap();
                let decoded = etf::from_slice(&bytes).unwrap();
                assert!(decoded == term);
                assert!(decoded.clone() == term);
                let text = decoded.to_string();
                assert!(etf::parse_term(&text).unwrap() == term);
                drop((decoded, term));
            })
            .expect("thread starts")
            .join()
            .expect("no stack overflow");
    });
}

#[test]
fn records_can_be_refused_by_the_encoder() {
    let term = Term::tuple(vec![Term::atom("ok"), point(1, 2)]);
    let off = EncodeOptions::new().native_records(false);
    let err = term.encode(&off).unwrap_err();
    assert_eq!(
        err,
        EncodeError::NativeRecordsOff {
            module: Atom::new("nr"),
            name: Atom::new("point")
        }
    );
    assert!(Term::atom("ok").encode(&off).is_ok());
}

#[test]
fn text_errors_name_the_problem() {
    let err = etf::parse_term("#m:r{x = 1,x = 2}").unwrap_err();
    assert_eq!(
        err.kind(),
        &ParseErrorKind::DuplicateRecordField("x".into())
    );
    assert_eq!(err.offset(), 0);
    let err = etf::parse_term("#m:r{x => 1}").unwrap_err();
    assert!(
        matches!(err.kind(), ParseErrorKind::Expected { .. }),
        "{err}"
    );
    assert_eq!(err.offset(), 7);
    let err = etf::parse_term("#m{x = 1}").unwrap_err();
    assert!(
        matches!(err.kind(), ParseErrorKind::Expected { .. }),
        "{err}"
    );
    for text in [
        "#m:r{",
        "#m:r{x",
        "#m:r{x =",
        "#m:r{x = 1",
        "#m:r{x = 1,",
        "#m:",
        "#m:r",
    ] {
        assert!(etf::parse_term(text).is_err(), "{text}");
    }
    assert_eq!(
        etf::parse_term("#'Mod x':'Na me'{'Fi eld' = 1,'if' = 2}")
            .unwrap()
            .to_string(),
        "#'Mod x':'Na me'{'Fi eld' = 1,'if' = 2}"
    );
}
