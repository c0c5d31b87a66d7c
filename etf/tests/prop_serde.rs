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

fn event() -> impl Strategy<Value = Event> {
    let kind = prop_oneof![
        Just(Kind::Ping),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Kind::Data),
        (any::<i64>(), any::<bool>()).prop_map(|(a, b)| Kind::Pair(a, b)),
        (any::<u32>(), any::<u32>()).prop_map(|(from, to)| Kind::Span { from, to }),
    ];
    (
        any::<u64>(),
        "\\PC{0,12}",
        proptest::option::of(etf::strategy::float()),
        proptest::collection::vec("[a-z]{0,6}", 0..4),
        term_with(TermConfig::default()),
        kind,
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
