//! The printer against what OTP prints. The expected texts were taken from
//! OTP 28's `io_lib:format("~tw", [T])`, or `~tp` (under `+pc unicode`) for
//! strings and printable binaries, where Erlang has a literal syntax; the
//! forms for pids, ports, references, local funs and LOCAL_EXT are this
//! crate's own.

use bytes::Bytes;
use etf::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Reference, Term};
use num_bigint::BigInt;

fn atom(text: &str) -> Term {
    Term::Atom(Atom::new(text))
}

fn ints(values: &[i64]) -> Term {
    Term::List(values.iter().map(|&v| Term::Int(v)).collect())
}

fn pid() -> Pid {
    Pid {
        node: Atom::new("a@b"),
        id: 85,
        serial: 2,
        creation: 1_700_000_000,
    }
}

#[test]
fn terms_print_as_otp_prints_them() {
    let map = {
        let mut map = Map::new();
        map.insert(atom("b"), Term::Nil);
        map.insert(atom("a"), Term::Int(1));
        map
    };
    let table: Vec<(Term, &str)> = vec![
        (Term::Int(-12), "-12"),
        (Term::Int(i64::MIN), "-9223372036854775808"),
        (Term::BigInt("4722366482869645213695".parse::<BigInt>().unwrap()), "4722366482869645213695"),
        (Term::BigInt("-4722366482869645213695".parse::<BigInt>().unwrap()), "-4722366482869645213695"),
        (Term::Float(1.0e300), "1.0e300"),
        (Term::Float(-0.0), "-0.0"),
        (Term::Float(5.0e-324), "5.0e-324"),
        (Term::Float(12345.678), "12345.678"),
        (atom("ok"), "ok"),
        (atom("and"), "'and'"),
        (atom("Abc"), "'Abc'"),
        (atom(""), "''"),
        (atom("a@b"), "a@b"),
        (atom("ÿa"), "ÿa"),
        (atom("привет"), "'привет'"),
        (atom("a\"b'c"), "'a\"b\\'c'"),
        (Term::Nil, "[]"),
        (Term::ByteList(Vec::new()), "[]"),
        (Term::List(Vec::new()), "[]"),
        (ints(&[1, 2, 3]), "[1,2,3]"),
        (Term::ByteList(b"abc".to_vec()), "\"abc\""),
        (ints(&[97, 98, 99]), "\"abc\""),
        (Term::ByteList(b"a\n\t\x1b\r\x0b\x08\x0c".to_vec()), "\"a\\n\\t\\e\\r\\v\\b\\f\""),
        (Term::ByteList(b"a\"b'c\\".to_vec()), "\"a\\\"b'c\\\\\""),
        (Term::ByteList(vec![97, 127]), "[97,127]"),
        (Term::ByteList(vec![1, 159]), "[1,159]"),
        (Term::ByteList(vec![233]), "\"é\""),
        (ints(&[1087, 1088, 1080]), "\"при\""),
        (ints(&[65534]), "[65534]"),
        (ints(&[55296]), "[55296]"),
        (ints(&[-1]), "[-1]"),
        (Term::ImproperList(vec![Term::Int(1)], Box::new(Term::Int(2))), "[1|2]"),
        (
            Term::ImproperList(vec![Term::Int(97)], Box::new(Term::Binary(Bytes::from_static(&[1])))),
            "[97|<<1>>]",
        ),
        (Term::Tuple(Vec::new()), "{}"),
        (Term::Tuple(vec![atom("a"), atom("b")]), "{a,b}"),
        (Term::Map(Map::new()), "#{}"),
        (Term::Map(map), "#{b => [],a => 1}"),
        (Term::Binary(Bytes::new()), "<<>>"),
        (Term::Binary(Bytes::from_static(&[1, 2])), "<<1,2>>"),
        (Term::Binary(Bytes::from_static(b"abc\n")), "<<\"abc\\n\">>"),
        (Term::Binary(Bytes::from_static(&[233])), "<<\"é\">>"),
        (Term::Binary(Bytes::from_static(&[97, 98, 233])), "<<\"abé\">>"),
        (Term::Binary(Bytes::from_static("é".as_bytes())), "<<\"é\"/utf8>>"),
        (Term::Binary(Bytes::from_static("привет".as_bytes())), "<<\"привет\"/utf8>>"),
        (Term::Binary(Bytes::from_static(&[97, 127])), "<<97,127>>"),
        (
            Term::BitBinary(BitBinary { bytes: Bytes::from_static(&[1, 0b0100_0000]), bits: 3 }),
            "<<1,2:3>>",
        ),
        (
            Term::BitBinary(BitBinary { bytes: Bytes::from_static(&[97, 0b0100_0000]), bits: 3 }),
            "<<97,2:3>>",
        ),
        (Term::BitBinary(BitBinary { bytes: Bytes::from_static(&[0x80]), bits: 1 }), "<<1:1>>"),
        (
            Term::Export(Export { module: Atom::new("lists"), function: Atom::new("map"), arity: 2 }),
            "fun lists:map/2",
        ),
        (
            Term::Export(Export { module: Atom::new("M"), function: Atom::new("end"), arity: 0 }),
            "fun 'M':'end'/0",
        ),
        (Term::Pid(pid()), "#Pid<'a@b'.85.2.1700000000>"),
        (Term::Port(Port { node: Atom::new("n@h"), id: 1 << 40, creation: 3 }), "#Port<'n@h'.1099511627776.3>"),
        (
            Term::Reference(Reference { node: Atom::new("n@h"), creation: 3, ids: vec![1, 2, 3] }),
            "#Ref<'n@h'.1.2.3.3>",
        ),
        (
            Term::Fun(Box::new(Fun {
                arity: 1,
                uniq: [0x0F; 16],
                index: 4,
                module: Atom::new("erl_eval"),
                old_index: 4,
                old_uniq: 123,
                pid: pid(),
                free_vars: vec![atom("x"), Term::ByteList(b"y".to_vec())],
            })),
            "#Fun<erl_eval,1,4,16#0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F,4,123,#Pid<'a@b'.85.2.1700000000>,[x,\"y\"]>",
        ),
        (Term::Local(Bytes::from_static(&[121, 0, 255])), "#Local<7900ff>"),
    ];
    for (term, expected) in table {
        assert_eq!(term.to_string(), expected, "{term:?}");
    }
}

#[test]
fn deep_terms_print_without_recursion() {
    const DEPTH: usize = 1_000_000;
    let mut term = Term::Nil;
    for level in 0..DEPTH {
        term = if level % 2 == 0 {
            Term::List(vec![term])
        } else {
            Term::Tuple(vec![term])
        };
    }
    let text = term.to_string();
    let pretty = term.pretty().to_string();
    drop(term);
    assert_eq!(text.len(), 2 * DEPTH + 2);
    assert!(text.starts_with("{[{["), "{}", &text[..20]);
    assert!(text.ends_with("]}]}"), "{}", &text[text.len() - 20..]);
    assert_eq!(
        text.find("[]"),
        Some(DEPTH),
        "the innermost [] sits in the middle"
    );
    // Indentation stops at the line width: the pretty form stays linear.
    assert!(pretty.len() < 2 * text.len(), "{} bytes", pretty.len());
    assert_eq!(pretty.replace(['\n', ' '], ""), text);
}

#[test]
fn pretty_breaks_what_does_not_fit() {
    let term: Term = "{ok,[{alpha,1},{beta,<<\"two\">>},{gamma,[3,4|5]}],#{key => \"a fairly long string value\",other => [x,y]}}"
        .parse()
        .unwrap();
    assert_eq!(term.pretty().width(200).to_string(), term.to_string());
    let expected = "\
{ok,
 [{alpha,1},{beta,<<\"two\">>},{gamma,[3,4|5]}],
 #{key => \"a fairly long string value\",
   other => [x,y]}}";
    assert_eq!(term.pretty().width(50).to_string(), expected);
    assert_eq!(format!("{term:#}"), term.pretty().to_string());
    // Fitting is decided without the closing brackets and commas that follow.
    let narrow = "\
{ok,
 [{alpha,1},
  {beta,
   <<\"two\">>},
  {gamma,
   [3,4|5]}],
 #{key =>
       \"a fairly long string value\",
   other =>
       [x,y]}}";
    assert_eq!(term.pretty().width(12).to_string(), narrow);
    for width in [0, 12, 50] {
        let reparsed = etf::parse_term(&term.pretty().width(width).to_string()).unwrap();
        assert!(reparsed == term, "width {width}");
    }
}
