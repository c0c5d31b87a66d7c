//! Errors of `etf::serde` say what was expected, what was found and where.
#![cfg(feature = "serde")]

use etf::serde::{from_term, to_term, ErrorKind};
use etf::{parse_term, Term};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Debug;

#[derive(Deserialize, Serialize, Debug)]
#[allow(dead_code)] // Read only through Debug: these tests look at errors.
struct Server {
    host: String,
    port: u16,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Cluster {
    name: String,
    servers: Vec<Server>,
    weights: HashMap<String, (u8, f64)>,
    mode: Mode,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Mode {
    Active,
    Standby { since: u32 },
    Weighted(u8, u8),
}

/// The error from reading `text` as a `T`: (path, message).
fn error<T: DeserializeOwned + Debug>(text: &str) -> (String, String, etf::serde::Error) {
    let term = parse_term(text).unwrap_or_else(|e| panic!("bad test term {text}: {e}"));
    match from_term::<T>(&term) {
        Ok(value) => panic!("{text} read as {value:?}"),
        Err(e) => (e.path(), e.kind().to_string(), e),
    }
}

const GOOD_SERVER: &str = "#{host => <<\"a\">>, port => 1}";

fn cluster(servers: &str, weights: &str, mode: &str) -> String {
    format!("#{{name => <<\"c\">>, servers => {servers}, weights => {weights}, mode => {mode}}}")
}

#[test]
fn errors_name_the_path_to_the_bad_value() {
    let table: &[(String, &str, &str)] = &[
        (
            cluster(
                &format!("[{GOOD_SERVER}, #{{host => <<\"b\">>, port => 70000}}]"),
                "#{}",
                "active",
            ),
            ".servers[1].port",
            "invalid value: integer `70000`, expected u16",
        ),
        (
            cluster(
                &format!("[{GOOD_SERVER}, {GOOD_SERVER}, #{{host => 42, port => 1}}]"),
                "#{}",
                "active",
            ),
            ".servers[2].host",
            "expected a string (binary, charlist or atom), found the integer 42",
        ),
        (
            cluster("[]", "#{<<\"x\">> => {1, 2.0, 3}}", "active"),
            ".weights[the binary <<\"x\">>]",
            "expected a tuple of 2 elements, found 3",
        ),
        (
            cluster("[]", "#{}", "{standby, #{since => -1}}"),
            ".mode[1].since",
            "invalid value: integer `-1`, expected u32",
        ),
        (
            cluster("[]", "#{}", "{weighted, 1, foo}"),
            ".mode[2]",
            "expected an integer, found the atom `foo`",
        ),
        (
            cluster("[]", "#{}", "{weighted, 1}"),
            ".mode",
            "expected a tuple of 3 elements, found 2",
        ),
        (
            cluster("[]", "#{}", "passive"),
            ".mode",
            "unknown variant `passive`, expected one of `active`, `standby`, `weighted`",
        ),
        (
            cluster("{}", "#{}", "active"),
            ".servers",
            "expected a list, found a tuple of 0 elements",
        ),
        (
            "#{name => <<\"c\">>, servers => []}".to_owned(),
            "",
            "missing field `weights`",
        ),
    ];
    for (text, path, message) in table {
        let (got_path, got_message, e) = error::<Cluster>(text);
        assert_eq!(
            (got_path.as_str(), got_message.as_str()),
            (*path, *message),
            "reading {text}"
        );
        assert_eq!(
            e.to_string(),
            if path.is_empty() {
                message.to_string()
            } else {
                format!("{message} at {path}")
            }
        );
    }
}

#[test]
fn errors_have_kinds_callers_can_match() {
    let (_, _, e) = error::<(u8, u8)>("{1, 2, 3}");
    assert!(matches!(
        e.kind(),
        ErrorKind::TupleArity {
            expected: 2,
            found: 3
        }
    ));
    let (_, _, e) = error::<String>("<<255>>");
    assert!(matches!(
        e.kind(),
        ErrorKind::Mismatch {
            expected: "a UTF-8 binary",
            ..
        }
    ));
    let (_, message, _) = error::<etf::Pid>("foo");
    assert_eq!(message, "expected a pid, found the atom `foo`");
}

#[test]
fn values_without_a_term_are_refused_with_their_place() {
    #[derive(Serialize)]
    struct Reading {
        samples: Vec<f64>,
    }
    let e = to_term(&Reading {
        samples: vec![1.0, f64::NAN],
    })
    .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NonFiniteFloat(f) if f.is_nan()));
    assert_eq!(e.path(), ".samples[1]");
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    // Bytes that are not a term at all surface the codec's error.
    let e = etf::serde::from_slice::<u8>(&[131, 255]).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Decode(_)));
    // A raw term whose JSON form breaks the term model's rules.
    for json in [
        r#"{"Reference":["a@b",1,[]]}"#,
        r#"{"BitBinary":[[255],0]}"#,
        r#"{"BitBinary":[[255],3]}"#,
        r#"{"Map":[[{"Int":1},{"Nil":null}],[{"Int":1},"Nil"]]}"#,
        r#"{"Float":1e999}"#,
        r#"{"BigInt":"12x"}"#,
        r#"{"Fun":[0,[1,2],0,"m",0,0,"a@b",0,0,0,[]]}"#,
    ] {
        assert!(
            serde_json::from_str::<Term>(json).is_err(),
            "{json} was accepted"
        );
    }
}

/// A term nested `depth` tuples deep around `1`.
fn nested(depth: usize) -> Term {
    (0..depth).fold(Term::Int(1), |t, _| Term::Tuple(vec![t]))
}

#[test]
fn deep_values_convert_and_limits_are_opt_in() {
    // Deeper than serde's usual 128 levels: fine by default.
    let deep = nested(100_000);
    assert_eq!(from_term::<Term>(&deep).unwrap(), deep);
    assert_eq!(to_term(&deep).unwrap(), deep);
    // A type that recurses without a container in the term still fails.
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Chain(Option<Box<Chain>>);
    let e = from_term::<Chain>(&Term::Int(5)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TooDeep));
    // Deep Rust values (not raw terms) convert too, on a grown stack. (Not
    // too deep: the derived `PartialEq` and drop glue of `Node` recurse.)
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Node(Vec<Node>);
    let mut value = Node(Vec::new());
    for _ in 0..2_000 {
        value = Node(vec![value]);
    }
    let term = to_term(&value).unwrap();
    let back: Node = from_term(&term).unwrap();
    assert!(back == value);
    // An opt-in limit refuses deeper values of Rust types; a raw term is
    // one value, copied whole.
    let lists = etf::serde::Deserializer::with_max_depth(&term, 300);
    let e = Node::deserialize(lists).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TooDeep));
    let e = value
        .serialize(etf::serde::Serializer::with_max_depth(300))
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TooDeep));
    let back = Term::deserialize(etf::serde::Deserializer::with_max_depth(&deep, 3)).unwrap();
    assert_eq!(back, deep);
    let again = deep
        .serialize(etf::serde::Serializer::with_max_depth(3))
        .unwrap();
    assert_eq!(again, deep);
}

/// An Elixir struct with the other Elixir mappings inside.
#[derive(Deserialize, Debug)]
#[serde(rename = "%Shop.Order")]
#[allow(dead_code)]
struct Order {
    id: u32,
    opts: etf::serde::elixir::Keyword<OrderOpts>,
    #[serde(with = "etf::serde::elixir::charlist")]
    note: String,
    sent: Result<u32, String>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct OrderOpts {
    urgent: bool,
}

fn order(opts: &str, note: &str, sent: &str) -> String {
    format!(
        "#{{'__struct__' => 'Elixir.Shop.Order', id => 1, opts => {opts}, note => {note}, sent => {sent}}}"
    )
}

#[test]
fn elixir_mapping_errors_name_what_and_where() {
    let table: &[(String, &str, &str)] = &[
        (
            "#{id => 1}".to_owned(),
            "",
            "expected %Shop.Order{}, found a map without `__struct__`",
        ),
        (
            "#{'__struct__' => 'Elixir.Shop.Cart', id => 1}".to_owned(),
            "",
            "expected %Shop.Order{}, found %Shop.Cart{}",
        ),
        (
            "#{'__struct__' => lists, id => 1}".to_owned(),
            "",
            "expected %Shop.Order{}, found %:lists{}",
        ),
        (
            "#{'__struct__' => <<\"Elixir.Shop.Order\">>}".to_owned(),
            "",
            "expected %Shop.Order{}, found a map whose `__struct__` is the binary <<\"Elixir.Shop.Order\">>",
        ),
        (
            "[{id, 1}]".to_owned(),
            "",
            "expected %Shop.Order{}, found a list of 1 elements",
        ),
        (
            order("[{urgent, true}, {3, x}]", "\"n\"", "ok"),
            ".opts[1]",
            "expected a pair `{key, Value}` with an atom key, found a tuple of 2 elements",
        ),
        (
            order("[{urgent, 3}]", "\"n\"", "ok"),
            ".opts.urgent",
            "expected `true` or `false`, found the integer 3",
        ),
        (
            order("#{urgent => true}", "\"n\"", "ok"),
            ".opts",
            "expected a keyword list, found a map of 1 entries",
        ),
        (
            order("[{urgent, true}]", "<<\"n\">>", "ok"),
            ".note",
            "expected a list, found the binary <<\"n\">>",
        ),
        (
            order("[{urgent, true}]", "[55296]", "{ok, 1}"),
            ".note",
            "invalid value: integer `55296`, expected a Unicode code point",
        ),
        (
            order("[{urgent, true}]", "\"n\"", "ok"),
            ".sent",
            "expected a tuple `{Tag, Value}` (a bare tag holds `()`), found the atom `ok`",
        ),
        (
            order("[{urgent, true}]", "\"n\"", "{done, 1}"),
            ".sent",
            "expected `ok`, `error`, `{ok, Value}` or `{error, Reason}`, found a tuple of 2 elements",
        ),
    ];
    for (text, path, message) in table {
        let (got_path, got_message, _) = error::<Order>(text);
        assert_eq!(
            (got_path.as_str(), got_message.as_str()),
            (*path, *message),
            "{text}"
        );
    }
}
