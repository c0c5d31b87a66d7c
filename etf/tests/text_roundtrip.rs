//! Printing then parsing gives back the same term (`=:=`), for every kind of
//! term, including those with no Erlang literal; and the result encodes to
//! the same bytes as the original.

use bytes::Bytes;
use etf::{parse_term, Atom, BitBinary, Export, Fun, Map, Pid, Port, Reference, Term};
use num_bigint::BigInt;
use proptest::prelude::*;

/// Atom text: mostly short names, sometimes any characters (up to 255).
fn atom_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-zA-Z0-9_@]{0,8}",
        prop::sample::select(vec![
            "and", "fun", "maybe", "else", "", "A", "_", "'", "\\", "a b"
        ])
        .prop_map(str::to_owned),
        prop::collection::vec(any::<char>(), 0..12).prop_map(|chars| chars.into_iter().collect()),
        "\\PC{0,255}".prop_map(|s| s.chars().take(255).collect()),
    ]
}

fn atom() -> impl Strategy<Value = Atom> {
    atom_text().prop_map(Atom::from)
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |f| f.is_finite()),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            1.0e15,
            9_007_199_254_740_992.0,
            5.0e-324,
            f64::MAX
        ]),
    ]
}

fn pid() -> impl Strategy<Value = Pid> {
    (atom(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(node, id, serial, creation)| {
        Pid {
            node,
            id,
            serial,
            creation,
        }
    })
}

fn leaf() -> impl Strategy<Value = Term> {
    prop_oneof![
        any::<i64>().prop_map(Term::Int),
        any::<i8>().prop_map(|i| Term::Int(i64::from(i))),
        (any::<i128>(), any::<u64>())
            .prop_map(|(hi, lo)| { Term::BigInt((BigInt::from(hi) << 64) + BigInt::from(lo)) }),
        float().prop_map(Term::Float),
        atom().prop_map(Term::Atom),
        Just(Term::Nil),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(Term::ByteList),
        "[ -~é\\n]{1,12}"
            .prop_map(|s| Term::ByteList(s.chars().map(|c| u32::from(c) as u8).collect())),
        "\\PC{1,8}".prop_map(|s| Term::List(
            s.chars()
                .map(|c| Term::Int(i64::from(u32::from(c))))
                .collect()
        )),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(|b| Term::Binary(Bytes::from(b))),
        "\\PC{0,12}".prop_map(|s| Term::Binary(Bytes::from(s.into_bytes()))),
        (prop::collection::vec(any::<u8>(), 1..6), 1u8..=7).prop_map(|(mut bytes, bits)| {
            if let Some(last) = bytes.last_mut() {
                *last &= 0xFF << (8 - bits);
            }
            Term::BitBinary(BitBinary {
                bytes: Bytes::from(bytes),
                bits,
            })
        }),
        pid().prop_map(Term::Pid),
        (atom(), any::<u64>(), any::<u32>()).prop_map(|(node, id, creation)| Term::Port(Port {
            node,
            id,
            creation
        })),
        (
            atom(),
            any::<u32>(),
            prop::collection::vec(any::<u32>(), 1..=5)
        )
            .prop_map(|(node, creation, ids)| Term::Reference(Reference {
                node,
                creation,
                ids
            })),
        (atom(), atom(), any::<u8>()).prop_map(|(module, function, arity)| {
            Term::Export(Export {
                module,
                function,
                arity,
            })
        }),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(|b| Term::Local(Bytes::from(b))),
    ]
}

fn term() -> impl Strategy<Value = Term> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Term::Tuple),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Term::List),
            (prop::collection::vec(inner.clone(), 1..4), inner.clone()).prop_map(
                |(items, tail)| {
                    match tail {
                        Term::Nil | Term::List(_) | Term::ByteList(_) | Term::ImproperList(..) => {
                            Term::List(items)
                        }
                        tail => Term::ImproperList(items, Box::new(tail)),
                    }
                }
            ),
            prop::collection::vec((inner.clone(), inner.clone()), 0..5).prop_map(|entries| {
                let mut map = Map::new();
                for (key, value) in entries {
                    map.insert(key, value);
                }
                Term::Map(map)
            }),
            (
                pid(),
                atom(),
                any::<[u8; 16]>(),
                any::<u32>(),
                any::<u32>(),
                any::<u8>(),
                prop::collection::vec(inner, 0..3)
            )
                .prop_map(|(pid, module, uniq, index, old_uniq, arity, free_vars)| {
                    Term::Fun(Box::new(Fun {
                        arity,
                        uniq,
                        index,
                        module,
                        old_index: index,
                        old_uniq,
                        pid,
                        free_vars,
                    }))
                }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn printed_terms_parse_back(term in term()) {
        let text = term.to_string();
        let parsed = parse_term(&text);
        prop_assert!(parsed.is_ok(), "{text}: {:?}", parsed.err());
        let parsed = parsed.unwrap();
        prop_assert!(parsed == term, "{text}\nparsed as {parsed}");
        prop_assert_eq!(parsed.to_string(), text);
        let pretty = term.pretty().width(20).to_string();
        let reparsed = parse_term(&pretty);
        prop_assert!(matches!(&reparsed, Ok(t) if *t == term), "{pretty}: {reparsed:?}");
        if let Ok(bytes) = etf::to_vec(&term) {
            prop_assert_eq!(etf::to_vec(&parsed).ok(), Some(bytes));
        }
    }

    #[test]
    fn floats_print_shortest_and_exact(value in float()) {
        let text = Term::Float(value).to_string();
        prop_assert!(text.contains('.'), "{}", text);
        let back: f64 = text.parse().unwrap();
        prop_assert_eq!(back.to_bits(), value.to_bits());
        let parsed = parse_term(&text).unwrap();
        prop_assert!(matches!(parsed, Term::Float(f) if f.to_bits() == value.to_bits()));
    }
}
