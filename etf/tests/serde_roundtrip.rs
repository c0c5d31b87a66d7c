//! Rust values through `etf::serde`: the terms they become, and back.
#![cfg(feature = "serde")]

use bytes::Bytes;
use etf::serde::{from_term, to_term};
use etf::{parse_term, Atom, BitBinary, Export, Fun, Pid, Port, Reference, Term};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

fn term(text: &str) -> Term {
    parse_term(text).unwrap_or_else(|e| panic!("bad test term {text}: {e}"))
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "snake_case")]
enum Command {
    Quit,
    Write(String),
    Move { x: i32, y: i32 },
    Color(u8, u8, u8),
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
struct Meters(f64);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Point(i32, i32);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Config {
    name: String,
    port: u16,
    enabled: bool,
    tags: Vec<String>,
    ratio: f64,
    limits: BTreeMap<String, u64>,
    owner: Option<Pid>,
    fallback: Option<String>,
    big: u128,
    negative: i128,
    nothing: (),
    origin: Point,
    pair: (u8, String),
    commands: Vec<Command>,
    extra: Term,
    letter: char,
    length: Meters,
    by_id: HashMap<u32, Command>,
}

fn pid() -> Pid {
    Pid {
        node: Atom::new("a@localhost"),
        id: 85,
        serial: 0,
        creation: 1_700_000_000,
    }
}

fn config() -> Config {
    Config {
        name: "web".into(),
        port: 8080,
        enabled: true,
        tags: vec!["prod".into(), "eu".into()],
        ratio: -0.25,
        limits: [("cpu".to_owned(), 4), ("mem".to_owned(), u64::MAX)].into(),
        owner: Some(pid()),
        fallback: None,
        big: u128::MAX,
        negative: i128::MIN,
        nothing: (),
        origin: Point(0, -1),
        pair: (7, "seven".into()),
        commands: vec![
            Command::Quit,
            Command::Write("hi".into()),
            Command::Move { x: 1, y: -2 },
            Command::Color(255, 0, 10),
        ],
        extra: term("{[1|2], \"abc\", <<1,2:3>>, #{1 => 1.0}}"),
        letter: 'é',
        length: Meters(1.5),
        by_id: [(1, Command::Quit), (2, Command::Write(String::new()))].into(),
    }
}

#[test]
fn struct_zoo_round_trips_through_terms() {
    let value = config();
    let t = to_term(&value).unwrap();
    assert_eq!(from_term::<Config>(&t).unwrap(), value);
}

#[test]
fn struct_zoo_becomes_the_terms_erlang_code_writes() {
    let t = to_term(&config()).unwrap();
    let map = t.as_map().expect("a struct is a map");
    let field = |name: &str| {
        map.get(&Term::atom(name))
            .cloned()
            .unwrap_or_else(|| panic!("no field {name}"))
    };
    assert_eq!(field("name"), term("<<\"web\">>"));
    assert_eq!(field("enabled"), term("true"));
    assert_eq!(field("tags"), term("[<<\"prod\">>, <<\"eu\">>]"));
    assert_eq!(
        field("limits"),
        term("#{<<\"cpu\">> => 4, <<\"mem\">> => 18446744073709551615}")
    );
    assert_eq!(field("owner"), Term::Pid(pid()));
    assert_eq!(field("fallback"), term("undefined"));
    assert_eq!(
        field("big"),
        term("340282366920938463463374607431768211455")
    );
    assert_eq!(
        field("negative"),
        term("-170141183460469231731687303715884105728")
    );
    assert_eq!(field("nothing"), term("{}"));
    assert_eq!(field("origin"), term("{0, -1}"));
    assert_eq!(field("pair"), term("{7, <<\"seven\">>}"));
    assert_eq!(
        field("commands"),
        term("[quit, {write, <<\"hi\">>}, {move, #{x => 1, y => -2}}, {color, 255, 0, 10}]")
    );
    assert_eq!(
        field("extra"),
        term("{[1|2], \"abc\", <<1,2:3>>, #{1 => 1.0}}")
    );
    assert_eq!(field("letter"), Term::Int(233));
    assert_eq!(field("length"), Term::Float(1.5));
    assert_eq!(map.len(), 18);
}

#[test]
fn every_kind_of_raw_term_comes_back_with_its_representation() {
    #[derive(Serialize, Deserialize, Debug)]
    struct Envelope {
        to: Pid,
        port: Port,
        reference: Reference,
        export: Export,
        node: Atom,
        bits: BitBinary,
        closure: Fun,
        table: etf::Map,
        body: Vec<Term>,
    }
    let fun = Fun {
        arity: 2,
        uniq: [7; 16],
        index: 3,
        module: Atom::new("m"),
        old_index: 1,
        old_uniq: 99,
        pid: pid(),
        free_vars: vec![Term::Int(1), term("[a]")],
    };
    let table = term("#{b => 2, a => 1}")
        .into_map()
        .unwrap_or_else(|other| panic!("not a map: {other:?}"));
    let body = vec![
        Term::Int(i64::MIN),
        term("123456789012345678901234567890"),
        term("-123456789012345678901234567890"),
        Term::Float(-0.0),
        Term::Float(f64::MIN_POSITIVE / 4.0),
        term("''"),
        term("'héllo wörld'"),
        term("{}"),
        term("{a, {b, [c]}}"),
        Term::Nil,
        Term::List(vec![]),
        Term::List(vec![Term::Int(1), Term::Int(2)]),
        Term::ByteList(vec![1, 2, 3]),
        term("[a, b | c]"),
        term("#{a => 1, 1 => a, 1.0 => b, {x} => #{}}"),
        term("<<>>"),
        Term::Binary(Bytes::from_static(&[0xff, 0, 1])),
        term("<<5:3>>"),
        term("fun lists:map/2"),
        Term::Fun(Box::new(fun.clone())),
        term("#nr:point{x = 1,y = #nr:empty{}}"),
        Term::from(
            etf::Record::new("m", "r", [("a", 1)])
                .unwrap()
                .with_exported(true),
        ),
        Term::Local(Bytes::from_static(&[121, 1, 2, 3])),
    ];
    let value = Envelope {
        to: pid(),
        port: Port {
            node: Atom::new("a@localhost"),
            id: u64::MAX,
            creation: 4,
        },
        reference: Reference {
            node: Atom::new("a@localhost"),
            creation: 4,
            ids: vec![1, 2, 3, 4, 5],
        },
        export: Export {
            module: Atom::new("erlang"),
            function: Atom::new("self"),
            arity: 0,
        },
        node: Atom::new("b@localhost"),
        bits: BitBinary {
            bytes: Bytes::from_static(&[0xff, 0xe0]),
            bits: 3,
        },
        closure: fun,
        table,
        body,
    };
    let t = to_term(&value).unwrap();
    let back: Envelope = from_term(&t).unwrap();
    assert_eq!(
        to_term(&back).unwrap(),
        t,
        "a second trip gives the same term"
    );
    assert_eq!(Term::Pid(back.to), Term::Pid(value.to));
    assert_eq!(Term::Atom(back.node.clone()), term("'b@localhost'"));
    assert_eq!(
        Term::Fun(Box::new(back.closure.clone())),
        Term::Fun(Box::new(value.closure.clone()))
    );
    // The map keeps its entry order.
    assert_eq!(back.table.entries(), value.table.entries());
    assert_eq!(back.body.len(), value.body.len());
    for (got, want) in back.body.iter().zip(&value.body) {
        assert_eq!(got, want);
        assert_eq!(
            std::mem::discriminant(got),
            std::mem::discriminant(want),
            "{want:?} kept its representation"
        );
    }
}

#[test]
fn raw_terms_round_trip_exactly_through_json_too() {
    let original = term("{ok, [1, 2.5, <<\"x\">>, \"ab\", [x | y]], #{k => -1}, #m:r{a = 1}}");
    let json = serde_json::to_string(&original).unwrap();
    let back: Term = serde_json::from_str(&json).unwrap();
    assert_eq!(back, original);
    let value = config();
    let json = serde_json::to_string(&value).unwrap();
    let back: Config = serde_json::from_str(&json).unwrap();
    assert_eq!(back, value);
}

#[test]
fn deserializing_accepts_what_erlang_and_elixir_code_sends() {
    // Strings from atoms, charlists (STRING_EXT and proper lists) and `[]`.
    assert_eq!(from_term::<String>(&term("hello")).unwrap(), "hello");
    assert_eq!(
        from_term::<String>(&Term::ByteList(b"h\xe9".to_vec())).unwrap(),
        "hé"
    );
    assert_eq!(from_term::<String>(&term("[104, 8364]")).unwrap(), "h€");
    assert_eq!(from_term::<String>(&Term::Nil).unwrap(), "");
    // `nil` is Elixir's `None`; `ok` is a unit; integers are floats.
    assert_eq!(from_term::<Option<u8>>(&term("nil")).unwrap(), None);
    assert_eq!(from_term::<Option<u8>>(&term("undefined")).unwrap(), None);
    assert_eq!(from_term::<Option<u8>>(&term("3")).unwrap(), Some(3));
    from_term::<()>(&term("ok")).unwrap();
    assert_eq!(from_term::<f64>(&term("2")).unwrap(), 2.0);
    assert_eq!(from_term::<char>(&term("<<\"λ\"/utf8>>")).unwrap(), 'λ');
    // Struct keys as binaries (Elixir's Jason output), extra keys ignored.
    #[derive(Deserialize, Debug, PartialEq)]
    struct User {
        name: String,
        age: u8,
    }
    let elixir = term("#{'__struct__' => 'Elixir.User', <<\"name\">> => <<\"x\">>, age => 3}");
    assert_eq!(
        from_term::<User>(&elixir).unwrap(),
        User {
            name: "x".into(),
            age: 3
        }
    );
    // Bytes from binaries and byte lists.
    assert_eq!(from_term::<Vec<u8>>(&term("\"abc\"")).unwrap(), b"abc");
}

#[test]
fn strings_and_bytes_borrow_from_the_term() {
    #[derive(Deserialize)]
    struct View<'a> {
        name: &'a str,
        kind: &'a str,
        payload: &'a [u8],
        raw: &'a [u8],
    }
    let t = term("#{name => <<\"ab\">>, kind => admin, payload => <<1,2>>, raw => \"xy\"}");
    let view: View<'_> = from_term(&t).unwrap();
    assert_eq!(
        (view.name, view.kind, view.payload, view.raw),
        ("ab", "admin", &[1u8, 2][..], &b"xy"[..])
    );
}

#[test]
fn untagged_enums_and_dynamic_values_see_the_natural_view() {
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Reply {
        Flag(bool),
        Count(u64),
        Text(String),
        Items(Vec<Reply>),
    }
    assert_eq!(
        from_term::<Reply>(&term("[true, 3, ok, <<\"s\">>, {1, 2}]")).unwrap(),
        Reply::Items(vec![
            Reply::Flag(true),
            Reply::Count(3),
            Reply::Text("ok".into()),
            Reply::Text("s".into()),
            Reply::Items(vec![Reply::Count(1), Reply::Count(2)]),
        ])
    );
    let json: serde_json::Value =
        from_term(&term("#{a => [1, 2.5, undefined, <<\"x\">>]}")).unwrap();
    assert_eq!(json, serde_json::json!({"a": [1, 2.5, null, "x"]}));
}

#[test]
fn compact_forms_are_chosen_as_erlang_writes_them() {
    let localhost = std::net::Ipv4Addr::LOCALHOST;
    assert_eq!(to_term(&localhost).unwrap(), term("{127, 0, 0, 1}"));
    assert_eq!(
        from_term::<std::net::Ipv4Addr>(&term("{10, 0, 0, 1}")).unwrap(),
        std::net::Ipv4Addr::new(10, 0, 0, 1)
    );
}

#[test]
fn wide_integers_use_bignums_only_beyond_64_bits() {
    assert_eq!(to_term(&(i64::MAX as u64)).unwrap(), Term::Int(i64::MAX));
    assert!(matches!(to_term(&(1u64 << 63)).unwrap(), Term::BigInt(_)));
    assert_eq!(to_term(&-5i128).unwrap(), Term::Int(-5));
    assert_eq!(
        from_term::<u64>(&term("18446744073709551615")).unwrap(),
        u64::MAX
    );
    assert_eq!(
        from_term::<i128>(&term("-170141183460469231731687303715884105728")).unwrap(),
        i128::MIN
    );
}

/// `-record #point{x = 0, y = 0}.` in module `nr`.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
#[serde(rename = "#nr:point")]
struct NrPoint {
    x: i64,
    y: i64,
}

/// `-export_record([pub]). -record #pub{a = 1}.` in module `nr`.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
#[serde(rename = "#nr:pub/exported")]
struct Pub {
    a: Term,
}

#[test]
fn structs_named_as_records_become_native_records() {
    let t = to_term(&NrPoint { x: 1, y: 2 }).unwrap();
    // The bytes of OTP 29's term_to_binary(#nr:point{x = 1, y = 2}).
    let otp29: &[u8] = &[
        131, 67, 0, 0, 0, 2, 0, 119, 2, 110, 114, 119, 5, 112, 111, 105, 110, 116, 119, 1, 120,
        119, 1, 121, 97, 1, 97, 2,
    ];
    assert_eq!(etf::to_vec(&t).unwrap(), otp29);
    assert_eq!(
        etf::serde::from_slice::<NrPoint>(otp29).unwrap(),
        NrPoint { x: 1, y: 2 }
    );
    // The exported flag of `#nr:pub{a = 1}` as OTP 29 writes it.
    let p = to_term(&Pub { a: Term::Int(1) }).unwrap();
    let otp29_pub: &[u8] = &[
        131, 67, 0, 0, 0, 1, 1, 119, 2, 110, 114, 119, 3, 112, 117, 98, 119, 1, 97, 97, 1,
    ];
    assert_eq!(etf::to_vec(&p).unwrap(), otp29_pub);
    assert_eq!(from_term::<Pub>(&p).unwrap(), Pub { a: Term::Int(1) });
}

#[test]
fn records_read_as_maps_and_structs_and_are_checked_by_name() {
    #[derive(Deserialize, PartialEq, Debug)]
    struct AnyXY {
        x: i64,
        y: i64,
    }
    let t = term("#nr:point{x = 1,y = 2}");
    assert_eq!(from_term::<AnyXY>(&t).unwrap(), AnyXY { x: 1, y: 2 });
    let as_map: std::collections::BTreeMap<String, i64> = from_term(&t).unwrap();
    assert_eq!(as_map.len(), 2);
    // A map still fills a record struct.
    assert_eq!(
        from_term::<NrPoint>(&term("#{x => 1, y => 2}")).unwrap(),
        NrPoint { x: 1, y: 2 }
    );
    // Another record does not.
    let err = from_term::<NrPoint>(&term("#nr:other{x = 1,y = 2}")).unwrap_err();
    assert!(err.to_string().contains("#nr:point"), "{err}");
    let err = from_term::<NrPoint>(&term("#nr:point{x = a,y = 2}")).unwrap_err();
    assert_eq!(err.path(), ".x", "{err}");
    // The natural view of a record: the map of its fields.
    let json = serde_json::to_value(from_term::<serde_json::Value>(&t).unwrap()).unwrap();
    assert_eq!(json, serde_json::json!({"x": 1, "y": 2}));
    // A raw Record field holds one.
    let r: etf::Record = from_term(&t).unwrap();
    assert_eq!(r.get("y"), Some(&Term::Int(2)));
    assert!(from_term::<etf::Record>(&term("{}")).is_err());
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "%User", deny_unknown_fields)]
struct StrictUser {
    name: String,
}

/// An Elixir struct's `__struct__` is checked, then out of the fields'
/// way: a struct that denies unknown fields reads it.
#[test]
fn elixir_structs_hide_their_module_key_from_the_fields() {
    let given = term(r#"#{name => <<"x">>, '__struct__' => 'Elixir.User'}"#);
    let user: StrictUser = from_term(&given).unwrap();
    assert_eq!(user, StrictUser { name: "x".into() });
    assert_eq!(to_term(&user).unwrap(), given);
    let extra = term(r#"#{name => <<"x">>, age => 1, '__struct__' => 'Elixir.User'}"#);
    assert!(from_term::<StrictUser>(&extra).is_err());
}

/// `%Elixir.Mod` and `%:mod` name modules as they are.
#[test]
fn elixir_struct_names_spell_modules_three_ways() {
    #[derive(Serialize)]
    #[serde(rename = "%Elixir.A.B")]
    struct Full {}
    #[derive(Serialize)]
    #[serde(rename = "%:erl_mod")]
    struct Erl {}
    assert_eq!(
        to_term(&Full {}).unwrap(),
        term("#{'__struct__' => 'Elixir.A.B'}")
    );
    assert_eq!(
        to_term(&Erl {}).unwrap(),
        term("#{'__struct__' => erl_mod}")
    );
}

/// A map as a keyword list: string keys become atoms, in the map's order.
#[test]
fn maps_become_keyword_lists_with_atom_keys() {
    use etf::serde::elixir::Keyword;
    let map: BTreeMap<String, u8> = [("b".to_owned(), 2), ("a".to_owned(), 1)].into();
    let term_ = to_term(&Keyword(&map)).unwrap();
    assert_eq!(term_, term("[{a,1},{b,2}]"));
    assert_eq!(
        from_term::<Keyword<BTreeMap<String, u8>>>(&term_)
            .unwrap()
            .0,
        map
    );
    assert_eq!(
        to_term(&Keyword(BTreeMap::<String, u8>::new())).unwrap(),
        Term::Nil
    );
    let numbers: BTreeMap<u8, u8> = [(1, 2)].into();
    let err = to_term(&Keyword(numbers)).unwrap_err();
    assert!(err.to_string().contains("keyword list key"), "{err}");
}

/// `Result` is `{ok, V} | {error, R}`, `()` inside is the bare tag, and
/// other enums keep their variants' names.
#[test]
fn results_are_ok_and_error_tuples() {
    let cases: Vec<(Result<(), u8>, &str)> = vec![(Ok(()), "ok"), (Err(3), "{error,3}")];
    for (value, text) in cases {
        assert_eq!(to_term(&value).unwrap(), term(text));
        assert_eq!(from_term::<Result<(), u8>>(&term(text)).unwrap(), value);
    }
    assert_eq!(to_term(&Err::<u8, ()>(())).unwrap(), term("error"));
    assert_eq!(
        from_term::<Result<u8, ()>>(&term("error")).unwrap(),
        Err(())
    );
    assert_eq!(
        from_term::<Result<(), u8>>(&term("{ok,{}}")).unwrap(),
        Ok(())
    );
    assert_eq!(
        to_term(&Ok::<Vec<u8>, ()>(vec![1])).unwrap(),
        term("{ok,[1]}")
    );
}
