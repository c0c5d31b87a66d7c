//! The parser on Erlang literal syntax, on the printer's special forms, and
//! on bad input: errors name the line, the column and what was expected.

use bytes::Bytes;
use etf::{parse_term, Atom, BitBinary, Export, Map, ParseErrorKind, ParseOptions, Term};
use num_bigint::BigInt;
use proptest::prelude::*;

fn atom(text: &str) -> Term {
    Term::Atom(Atom::new(text))
}

fn ints(values: &[i64]) -> Term {
    Term::List(values.iter().map(|&v| Term::Int(v)).collect())
}

fn parse(text: &str) -> Term {
    parse_term(text).unwrap_or_else(|err| panic!("{text:?} does not parse: {err}"))
}

fn binary(bytes: &[u8]) -> Term {
    Term::Binary(Bytes::copy_from_slice(bytes))
}

#[test]
fn erlang_literals_parse() {
    let big: BigInt = "340282366920938463463374607431768211455".parse().unwrap();
    let table: Vec<(&str, Term)> = vec![
        ("42", Term::Int(42)),
        ("-42", Term::Int(-42)),
        ("- 42", Term::Int(-42)),
        ("+7", Term::Int(7)),
        ("1_000_000", Term::Int(1_000_000)),
        ("16#FF", Term::Int(255)),
        ("-16#ff", Term::Int(-255)),
        ("2#1010_1010", Term::Int(170)),
        ("36#Zz", Term::Int(1295)),
        (
            "16#FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            Term::BigInt(big.clone()),
        ),
        ("-9223372036854775808", Term::Int(i64::MIN)),
        (
            "9223372036854775808",
            Term::BigInt(BigInt::from(i64::MAX) + 1),
        ),
        ("$a", Term::Int(97)),
        ("$\\n", Term::Int(10)),
        ("$\\x{1F600}", Term::Int(0x1F600)),
        ("$\\^G", Term::Int(7)),
        ("1.5", Term::Float(1.5)),
        ("-0.0", Term::Float(-0.0)),
        ("1.0e10", Term::Float(1.0e10)),
        ("1.0E-3", Term::Float(0.001)),
        ("1_0.2_5e+1_0", Term::Float(10.25e10)),
        ("5.0e-324", Term::Float(5.0e-324)),
        ("ok", atom("ok")),
        ("'a@b'", atom("a@b")),
        ("ßa", atom("ßa")),
        ("'hello world'", atom("hello world")),
        ("'\\x{43F}\\x{440}'", atom("пр")),
        ("'привет'", atom("привет")),
        ("'it\\'s'", atom("it's")),
        ("''", atom("")),
        ("maybe", atom("maybe")),
        ("'and'", atom("and")),
        ("\"\"", Term::Nil),
        ("\"abc\"", Term::ByteList(b"abc".to_vec())),
        (
            "\"a\\tb\\101\\x42\\x{43}\\^A\\s\\d\"",
            Term::ByteList(b"a\tbABC\x01 \x7f".to_vec()),
        ),
        ("\"ab\" \"cd\"\n\"e\"", Term::ByteList(b"abcde".to_vec())),
        ("\"пр\"", ints(&[1087, 1088])),
        ("[]", Term::Nil),
        ("[ 1 , 2 ]", ints(&[1, 2])),
        (
            "[1|2]",
            Term::ImproperList(vec![Term::Int(1)], Box::new(Term::Int(2))),
        ),
        ("[1|[2,3]]", ints(&[1, 2, 3])),
        ("[1|\"ab\"]", ints(&[1, 97, 98])),
        (
            "[1|[2|3]]",
            Term::ImproperList(vec![Term::Int(1), Term::Int(2)], Box::new(Term::Int(3))),
        ),
        ("{}", Term::Tuple(vec![])),
        (
            "{a,{b,[c]}}",
            Term::Tuple(vec![
                atom("a"),
                Term::Tuple(vec![atom("b"), Term::List(vec![atom("c")])]),
            ]),
        ),
        ("#{}", Term::Map(Map::new())),
        ("# { a => 1 }", {
            let mut map = Map::new();
            map.insert(atom("a"), Term::Int(1));
            Term::Map(map)
        }),
        ("#{a => 1, a => 2, 1 => x, 1.0 => y}", {
            let mut map = Map::new();
            map.insert(atom("a"), Term::Int(2));
            map.insert(Term::Int(1), atom("x"));
            map.insert(Term::Float(1.0), atom("y"));
            Term::Map(map)
        }),
        ("<<>>", binary(b"")),
        ("<<1,2,3>>", binary(&[1, 2, 3])),
        ("<<\"abc\">>", binary(b"abc")),
        ("<<\"é\">>", binary(&[233])),
        ("<<\"é\"/utf8>>", binary("é".as_bytes())),
        ("<<\"a\"/utf16>>", binary(&[0, 97])),
        ("<<\"a\"/utf32-little>>", binary(&[97, 0, 0, 0])),
        ("<<256>>", binary(&[0])),
        ("<<-1>>", binary(&[255])),
        ("<<-1:16/signed-little>>", binary(&[255, 255])),
        ("<<1:16/little>>", binary(&[1, 0])),
        // What OTP 28's erl_parse makes of these.
        (
            "<<1:12/little>>",
            Term::BitBinary(BitBinary {
                bytes: Bytes::from_static(&[1, 0]),
                bits: 4,
            }),
        ),
        (
            "<<16#ABC:12/little>>",
            Term::BitBinary(BitBinary {
                bytes: Bytes::from_static(&[0xBC, 0xA0]),
                bits: 4,
            }),
        ),
        (
            "<<1:4/little>>",
            Term::BitBinary(BitBinary {
                bytes: Bytes::from_static(&[0x10]),
                bits: 4,
            }),
        ),
        ("<<\"a\":16>>", binary(&[0, 97])),
        ("<<1:2/unit:8>>", binary(&[0, 1])),
        ("<<1.5/float>>", binary(&[0x3F, 0xF8, 0, 0, 0, 0, 0, 0])),
        ("<<1.5:32/float>>", binary(&[0x3F, 0xC0, 0, 0])),
        ("<<$a, \"bc\", 100>>", binary(b"abcd")),
        (
            "<<\"abc\", 1:4>>",
            Term::BitBinary(BitBinary {
                bytes: Bytes::from_static(b"abc\x10"),
                bits: 4,
            }),
        ),
        (
            "<<1,2:3>>",
            Term::BitBinary(BitBinary {
                bytes: Bytes::from_static(&[1, 0x40]),
                bits: 3,
            }),
        ),
        (
            "<<0:7>>",
            Term::BitBinary(BitBinary {
                bytes: Bytes::from_static(&[0]),
                bits: 7,
            }),
        ),
        ("<<7:3, 1:5>>", binary(&[0xE1])),
        (
            "fun lists:map/2",
            Term::Export(Export {
                module: Atom::new("lists"),
                function: Atom::new("map"),
                arity: 2,
            }),
        ),
        (
            "fun 'M':'end'/0",
            Term::Export(Export {
                module: Atom::new("M"),
                function: Atom::new("end"),
                arity: 0,
            }),
        ),
        // As io_lib prints it, unquoted; erl_parse would refuse it.
        (
            "fun 'M':end/0",
            Term::Export(Export {
                module: Atom::new("M"),
                function: Atom::new("end"),
                arity: 0,
            }),
        ),
        (
            "fun fun:'and'/1",
            Term::Export(Export {
                module: Atom::new("fun"),
                function: Atom::new("and"),
                arity: 1,
            }),
        ),
        (
            "  % a comment\n {ok, % another\n 1} . % the end",
            Term::Tuple(vec![atom("ok"), Term::Int(1)]),
        ),
        ("1.", Term::Int(1)),
    ];
    for (text, expected) in table {
        let parsed = parse(text);
        assert!(
            parsed == expected,
            "{text:?} parsed as {parsed:?}, expected {expected:?}"
        );
    }
}

#[test]
fn special_forms_parse_to_their_terms() {
    let text = "{#Pid<'a@b'.85.2.7>, #Port<nonode@nohost.1099511627776.3>, #Ref<'n@h'.1.2.3.9>, #Local<7900ff>, \
                #Fun<erl_eval,1,4,16#0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F0F,4,123,#Pid<'a@b'.85.2.7>,[x,\"y\"]>}";
    let Ok(items) = parse(text).into_tuple() else {
        panic!("not a tuple");
    };
    let [Term::Pid(pid), Term::Port(port), Term::Reference(reference), Term::Local(local), Term::Fun(fun)] =
        items.as_slice()
    else {
        panic!("wrong shapes: {items:?}");
    };
    assert_eq!(
        (pid.node.as_str(), pid.id, pid.serial, pid.creation),
        ("a@b", 85, 2, 7)
    );
    assert_eq!(
        (port.node.as_str(), port.id, port.creation),
        ("nonode@nohost", 1 << 40, 3)
    );
    assert_eq!(
        (
            reference.node.as_str(),
            reference.ids.as_slice(),
            reference.creation
        ),
        ("n@h", &[1, 2, 3][..], 9)
    );
    assert_eq!(local.as_ref(), &[121, 0, 255]);
    assert_eq!(
        (
            fun.module.as_str(),
            fun.arity,
            fun.index,
            fun.old_index,
            fun.old_uniq
        ),
        ("erl_eval", 1, 4, 4, 123)
    );
    assert_eq!(fun.uniq, [0x0F; 16]);
    assert!(fun.free_vars == vec![atom("x"), Term::ByteList(b"y".to_vec())]);
}

#[test]
fn errors_say_where_and_what() {
    let table: &[(&str, usize, usize, &str)] = &[
        ("[1, 2}", 1, 6, "expected `,`, `|` or `]`, found `}`"),
        ("{a b}", 1, 4, "expected `,` or `}`, found atom b"),
        ("{a,\n  [1,\n   X]}", 3, 4, "variable `X` is not a term"),
        ("", 1, 1, "expected a term, found end of input"),
        ("[1,2", 1, 5, "expected `,`, `|` or `]`, found end of input"),
        ("\"abc", 1, 1, "unterminated string"),
        ("'abc", 1, 1, "unterminated quoted atom"),
        ("#{a}", 1, 4, "expected `=>`, found `}`"),
        ("#[]", 1, 2, "expected `{` or a record's module after `#`, found `[`"),
        ("{ok} x", 1, 6, "expected end of input, found atom x"),
        ("[and]", 1, 2, "reserved word `and` must be quoted to be an atom"),
        ("37#1", 1, 1, "invalid number: the base must be 2 to 36"),
        ("2#102", 1, 5, "invalid number: digit outside the base"),
        ("1.0e400", 1, 1, "float out of range"),
        ("\"\\x{110000}\"", 1, 2, "invalid escape sequence"),
        ("é = 1", 1, 3, "expected end of input, found `=`"),
        ("#nr:point{x => 1}", 1, 13, "expected `=` after a record field's name, found `=>`"),
        ("#nr:point{x = 1,x = 2}", 1, 1, "record field x given twice"),
        ("<<1.5>>", 1, 3, "invalid binary segment: a float needs the `float` type"),
        ("<<1/foo>>", 1, 5, "invalid binary segment: unknown type specifier"),
        ("<<0:1000000000000>>", 1, 3, "binary literal larger than 16777235 bytes"),
        ("fun m:f/256", 1, 9, "expected an arity from 0 to 255, found integer 256"),
        ("#Pid<'a@b'.1.2>", 1, 1, "invalid `#Pid<'node'.Id.Serial.Creation>`: wrong number of fields"),
        ("#Pid<'a@b'.1.2.4294967296>", 1, 1, "invalid `#Pid<'node'.Id.Serial.Creation>`: a field does not fit in 32 bits"),
        ("#Local<7>", 1, 1, "invalid `#Local<Hex>`: expected whole bytes in hex"),
        ("#Fun<m,1>", 1, 1, "invalid `#Fun<Module,Arity,Index,Uniq,OldIndex,OldUniq,Pid,FreeVars>`: expected 8 fields"),
        ("#Foo<1>", 1, 1, "unexpected character '#'"),
        ("  \n\n   % nothing\n  ;", 4, 3, "unexpected character ';'"),
    ];
    for &(text, line, column, message) in table {
        let err = match parse_term(text) {
            Ok(term) => panic!("{text:?} parsed as {term:?}"),
            Err(err) => err,
        };
        assert_eq!(
            (err.line(), err.column(), err.kind().to_string()),
            (line, column, message.to_owned()),
            "{text:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("line {line}, column {column}: {message}")
        );
    }
    let atom_too_long = format!("'{}'", "a".repeat(256));
    assert_eq!(
        parse_term(&atom_too_long).map_err(|e| e.kind().clone()),
        Err(ParseErrorKind::AtomTooLong)
    );
    assert!(parse_term(&format!("'{}'", "é".repeat(255))).is_ok());
}

#[test]
fn nesting_is_unlimited_by_default_and_limited_on_request() {
    let nested = |levels: usize| format!("{}x{}", "[{".repeat(levels / 2), "}]".repeat(levels / 2));
    let deep = parse_term(&nested(1_000_000)).unwrap();
    assert_eq!(deep.to_string(), nested(1_000_000));
    // Unclosed input of any depth fails with an error, not a stack overflow.
    let err = parse_term(&"[".repeat(1_000_000)).unwrap_err();
    assert!(!matches!(err.kind(), ParseErrorKind::TooDeep(_)), "{err}");
    // An opt-in limit: at the limit the parse succeeds; one level more fails.
    let depth = 1024;
    let limited = ParseOptions::new().max_depth(depth);
    assert!(limited.parse(&nested(depth)).is_ok());
    let err = limited.parse(&format!("[{}]", nested(depth))).unwrap_err();
    assert_eq!(err.kind(), &ParseErrorKind::TooDeep(depth));
    let err = limited.parse(&"[".repeat(1_000_000)).unwrap_err();
    assert_eq!(err.kind(), &ParseErrorKind::TooDeep(depth));
    assert!(ParseOptions::new().max_depth(3).parse("[[[1]]]").is_ok());
    assert!(ParseOptions::new().max_depth(2).parse("[[[1]]]").is_err());
}

#[test]
fn from_str_parses() {
    let term: Term = "{ok, \"hi\"}".parse().unwrap();
    assert!(term == Term::Tuple(vec![atom("ok"), Term::ByteList(b"hi".to_vec())]));
}

/// Text made of Erlang's punctuation, digits, quotes and escapes, to reach
/// far into the scanner and parser.
fn erlangish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "[", "]", "{", "}", "#{", "=>", "<<", ">>", ",", "|", ".", "-", "+", ":", "/", "#", "$",
        "'", "\"", "\\", "\\x{", "\\^", "16#", "1", "0", "9", "e", "E", "_", "a", "fun", "utf8",
        "#Pid<", "#Ref<", "#Port<", "#Fun<", "#Local<", ">", " ", "\n", "%", "é", "Z", "unit",
        "1.0",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_parses_or_fails_cleanly(text in "\\PC{0,64}") {
        if let Err(err) = parse_term(&text) {
            prop_assert!(err.offset() <= text.len());
            prop_assert!(err.line() >= 1 && err.column() >= 1);
        }
    }

    #[test]
    fn erlang_like_text_parses_or_fails_cleanly(text in erlangish()) {
        if let Err(err) = parse_term(&text) {
            prop_assert!(err.offset() <= text.len());
        }
    }
}

#[test]
fn large_maps_parse_without_quadratic_key_checks() {
    const ENTRIES: usize = 50_000;
    let mut text = String::from("#{");
    for i in 0..ENTRIES {
        text.push_str(&format!("{i} => {i}, "));
    }
    text.push_str("0 => last}");
    let Ok(map) = parse(&text).into_map() else {
        panic!("not a map");
    };
    assert_eq!(map.len(), ENTRIES);
    let zero = map.iter().find(|(key, _)| *key == Term::Int(0));
    assert!(matches!(zero, Some((_, value)) if *value == atom("last")));
}

#[test]
fn chains_of_list_tails_parse_flat_and_in_linear_time() {
    const N: usize = 1_000_000;
    let mut text = String::new();
    for i in 0..N {
        text.push_str(&format!("[{i}|"));
    }
    text.push_str("[]");
    text.push_str(&"]".repeat(N));
    let start = std::time::Instant::now();
    let term = parse_term(&text).unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    let items = term.into_list().unwrap();
    assert_eq!(items.len(), N);
    assert!(items
        .iter()
        .enumerate()
        .all(|(i, t)| t.as_i64() == Some(i as i64)));

    for (text, printed) in [
        ("[1|[2,3]]", "[1,2,3]"),
        ("[1|[2|[]]]", "[1,2]"),
        ("[1|[2|x]]", "[1,2|x]"),
        ("[1|[2|[3|\"ab\"]]]", "[1,2,3,97,98]"),
        ("[1|[]]", "[1]"),
        ("[[1|[2]]|[[3|[]]]]", "[[1,2],[3]]"),
        ("[1|{2}]", "[1|{2}]"),
    ] {
        assert_eq!(parse_term(text).unwrap().to_string(), printed, "{text}");
    }
    for bad in ["[1|[2|[3]]", "[1|[2]", "[1|[2,3]|x]", "[1|[]", "[1|[2|x]"] {
        assert!(parse_term(bad).is_err(), "{bad} was accepted");
    }
}
