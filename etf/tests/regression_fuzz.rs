//! Inputs the fuzzers found, kept as tests. Each names its target, what
//! went wrong and what is right.

use etf::{parse_term, ParseErrorKind, ParseOptions, Term};

/// The input, as the fuzzer wrote it.
const INPUT: &str = "{<<>>,\n <<0,2,3>>,\n <<1:3>>,\n <<7,5:93306492,-1,-21,-25>>,\n <<\"ababababababababababababababab14,215,2ababababababababa\0:ba\t\0\0\0\0\0\0\0bababababababababababababab\">>}";

fn parse(text: &str) -> Term {
    parse_term(text).unwrap_or_else(|err| panic!("{text:?}: {err}"))
}

/// `term_syntax`: a timeout. The segment `5:93306492` (11 MB from 10
/// characters) was built one bit at a time, then the property printed the
/// term and parsed it back twice: 76 s in a debug build. Wide segments are
/// now built a byte at a time with their sign extension written at once,
/// and the property parses with a small [`ParseOptions::max_binary_growth`]
/// so that its runs stay proportional to their input.
#[test]
fn a_wide_sized_segment_is_built_whole_and_the_property_bounds_it() {
    etf::fuzzing::term_syntax(INPUT.as_bytes());
    let err = ParseOptions::new()
        .max_binary_growth(64 << 10)
        .parse(INPUT)
        .unwrap_err();
    assert!(
        matches!(err.kind(), ParseErrorKind::BinaryTooLarge(_)),
        "{err}"
    );
    assert!(parse_term(INPUT).is_ok());

    let term = parse("<<7, -2:93306492, 1:4>>");
    let bytes = term
        .into_binary()
        .unwrap_or_else(|term| panic!("{term:?} is not a binary"));
    assert_eq!(bytes.len(), 11_663_313);
    assert_eq!(bytes[0], 7);
    assert!(bytes[1..bytes.len() - 1].iter().all(|&b| b == 0xFF));
    assert_eq!(bytes[bytes.len() - 1], 0b1110_0001);

    // 0001, then 0x02 and 0x01 and 10 zero bytes lowest first, then the
    // 4 leftover high bits.
    let little = parse("<<1:4, 258:100/little>>");
    let mut expected = vec![0x10, 0x20, 0x10];
    expected.resize(13, 0);
    assert!(little == Term::Binary(expected.into()), "{little:?}");

    let growth = |bytes| ParseOptions::new().max_binary_growth(bytes);
    assert!(growth(100).parse("<<0:800>>").is_ok());
    assert_eq!(
        growth(90).parse("<<0:800>>").map_err(|e| e.kind().clone()),
        Err(ParseErrorKind::BinaryTooLarge(99))
    );
    assert_eq!(
        ParseOptions::DEFAULT_MAX_BINARY_GROWTH,
        16 << 20,
        "the limit quoted by `errors_say_where_and_what` in text_parse.rs"
    );
}
