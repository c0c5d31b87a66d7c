//! serde over generated terms: a `Term` goes through `to_term`/`from_term`
//! unchanged (representation included), and through JSON exactly.
#![cfg(all(feature = "proptest", feature = "serde"))]

use etf::serde::{from_slice, from_term, to_term, to_vec};
use etf::strategy::{term_with, TermConfig};
use etf::Term;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

fn any_term() -> impl Strategy<Value = Term> {
    term_with(TermConfig {
        local: true,
        records: true,
        ..TermConfig::default()
    })
}

/// `t` and `u` are equal and built from the same representations.
fn same_representation(t: &Term, u: &Term) -> bool {
    format!("{t:?}") == format!("{u:?}")
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Event {
    id: u64,
    name: String,
    score: Option<f64>,
    tags: Vec<String>,
    payload: Term,
    kind: Kind,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Ping,
    Data(Vec<u8>),
    Pair(i64, bool),
    Span { from: u32, to: u32 },
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Ping),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Kind::Data),
        (any::<i64>(), any::<bool>()).prop_map(|(a, b)| Kind::Pair(a, b)),
        (any::<u32>(), any::<u32>()).prop_map(|(from, to)| Kind::Span { from, to }),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (
        any::<u64>(),
        "\\PC{0,12}",
        proptest::option::of(etf::strategy::float()),
        proptest::collection::vec("[a-z]{0,6}", 0..4),
        term_with(TermConfig::default()),
        kind(),
    )
        .prop_map(|(id, name, score, tags, payload, kind)| Event {
            id,
            name,
            score,
            tags,
            payload,
            kind,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn terms_pass_through_serde_unchanged(t in any_term()) {
        let via = to_term(&t).unwrap();
        prop_assert!(same_representation(&via, &t), "to_term gave {:?}", via);
        let back: Term = from_term(&t).unwrap();
        prop_assert!(same_representation(&back, &t), "from_term gave {:?}", back);
    }

    #[test]
    fn terms_round_trip_through_json(t in any_term()) {
        let json = serde_json::to_string(&t).unwrap();
        let back: Term = serde_json::from_str(&json).unwrap();
        prop_assert!(same_representation(&back, &t), "{} gave {:?}", json, back);
    }

    #[test]
    fn structs_round_trip_through_bytes(e in event()) {
        let bytes = to_vec(&e).unwrap();
        prop_assert_eq!(from_slice::<Event>(&bytes).unwrap(), e);
    }
}

/// An Elixir struct holding the other Elixir mappings.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "%Shop.Profile")]
struct Profile {
    name: String,
    email: Option<String>,
    home: Option<Address>,
    host: etf::serde::elixir::Charlist,
    opts: etf::serde::elixir::Keyword<Opts>,
    labels: Vec<(etf::Atom, i64)>,
    last: Result<u32, Kind>,
    saved: Result<(), String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "%Address")]
struct Address {
    city: String,
    #[serde(with = "etf::serde::elixir::charlist")]
    zip: String,
}

/// [`Address`]'s fields under another module's name.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "%Other")]
struct Other {
    city: String,
    zip: Vec<u32>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Opts {
    timeout: Option<u32>,
    mode: Kind,
}

fn address() -> impl Strategy<Value = Address> {
    ("\\PC{0,8}", "\\PC{0,8}").prop_map(|(city, zip)| Address { city, zip })
}

fn profile() -> impl Strategy<Value = Profile> {
    let atom = "[a-z_]{1,8}".prop_map(|a| etf::Atom::new(&a));
    (
        ("\\PC{0,12}", proptest::option::of("\\PC{0,12}")),
        proptest::option::of(address()),
        "\\PC{0,12}",
        (proptest::option::of(any::<u32>()), kind()),
        proptest::collection::vec((atom, any::<i64>()), 0..4),
        prop_oneof![any::<u32>().prop_map(Ok), kind().prop_map(Err)],
        prop_oneof![Just(Ok(())), "\\PC{0,6}".prop_map(Err)],
    )
        .prop_map(
            |((name, email), home, host, (timeout, mode), labels, last, saved)| Profile {
                name,
                email,
                home,
                host: host.into(),
                opts: etf::serde::elixir::Keyword(Opts { timeout, mode }),
                labels,
                last,
                saved,
            },
        )
}

/// Whether `term` holds the atom `undefined` anywhere.
fn holds_undefined(term: &Term) -> bool {
    match term {
        Term::Atom(a) => a.as_str() == "undefined",
        Term::Tuple(elems) | Term::List(elems) => elems.iter().any(holds_undefined),
        Term::Map(map) => map
            .iter()
            .any(|(k, v)| holds_undefined(k) || holds_undefined(v)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Elixir structs, `nil`, charlists, keyword lists and tagged tuples
    /// come back through bytes, written for Elixir or for Erlang; for
    /// Elixir no `undefined` is left, and the struct names its module.
    #[test]
    fn elixir_mappings_round_trip(p in profile()) {
        use etf::serde::elixir;
        let term = elixir::to_term(&p).unwrap();
        prop_assert!(!holds_undefined(&term));
        let Term::Map(map) = &term else { panic!("a struct is a map: {term}") };
        prop_assert_eq!(
            map.get(&Term::Atom(etf::Atom::new("__struct__"))),
            Some(&Term::Atom(etf::Atom::new("Elixir.Shop.Profile")))
        );
        prop_assert_eq!(elixir::from_slice::<Profile>(&elixir::to_vec(&p).unwrap()).unwrap(), p.clone());
        prop_assert_eq!(from_slice::<Profile>(&to_vec(&p).unwrap()).unwrap(), p.clone());
        // Other formats see plain newtypes and sequences.
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), p);
    }

    /// A struct of one module never reads as a struct of another, even
    /// with the same fields.
    #[test]
    fn elixir_structs_check_their_module(a in address()) {
        let term = to_term(&a).unwrap();
        let err = from_term::<Other>(&term).unwrap_err();
        prop_assert!(matches!(
            err.kind(),
            etf::serde::ErrorKind::WrongStruct { expected, found }
                if expected == "%Other{}" && found == "%Address{}"
        ), "{}", err);
    }
}
