//! Equality, ordering and hashing agree with each other over generated
//! terms, whatever the Rust representation of a term.
#![cfg(feature = "proptest")]

use etf::strategy::{term_with, TermConfig};
use etf::Term;
use num_bigint::BigInt;
use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// Every kind of term, native records included.
fn term() -> impl Strategy<Value = Term> {
    term_with(TermConfig {
        records: true,
        ..TermConfig::default()
    })
}

fn hash(t: &Term) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

/// The same Erlang term in other Rust representations: lists of small
/// integers as byte lists and back, integers as bignums, `[]` as an empty
/// list.
fn respell(t: &Term) -> Term {
    match t {
        Term::Int(i) => Term::BigInt(BigInt::from(*i)),
        Term::Nil => Term::List(Vec::new()),
        Term::ByteList(bytes) => Term::List(bytes.iter().map(|&b| Term::Int(b.into())).collect()),
        Term::List(elems) => {
            let bytes: Option<Vec<u8>> = elems
                .iter()
                .map(|e| match e {
                    Term::Int(i) => u8::try_from(*i).ok(),
                    _ => None,
                })
                .collect();
            match bytes {
                Some(bytes) => Term::ByteList(bytes),
                None => Term::List(elems.iter().map(respell).collect()),
            }
        }
        Term::Tuple(elems) => Term::Tuple(elems.iter().map(respell).collect()),
        Term::Record(r) => {
            let fields = r.fields().map(|(f, v)| (f.clone(), respell(v)));
            let record = etf::Record::new(r.module().clone(), r.name().clone(), fields)
                .expect("respelled fields stay unique");
            Term::from(record.with_exported(r.is_exported()))
        }
        Term::ImproperList(elems, tail) => {
            Term::ImproperList(elems.iter().map(respell).collect(), Box::new(respell(tail)))
        }
        Term::Map(map) => Term::Map(
            etf::Map::from_entries(
                map.iter()
                    .rev()
                    .map(|(k, v)| (respell(k), respell(v)))
                    .collect(),
            )
            .expect("respelled keys stay unique"),
        ),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn other_representations_are_the_same_term(t in term()) {
        let other = respell(&t);
        prop_assert_eq!(&other, &t);
        prop_assert_eq!(other.cmp(&t), Ordering::Equal);
        prop_assert_eq!(hash(&other), hash(&t));
    }

    #[test]
    fn eq_ord_and_hash_agree(a in term(), b in term()) {
        prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
        prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        if a == b {
            prop_assert_eq!(hash(&a), hash(&b));
        }
        prop_assert_eq!(a.clone(), a.clone());
        prop_assert_eq!(hash(&a), hash(&a.clone()));
    }

    #[test]
    fn the_order_is_transitive(mut terms in proptest::collection::vec(term(), 3..8)) {
        terms.sort();
        for pair in terms.windows(2) {
            prop_assert!(pair[0] <= pair[1]);
        }
        // Every later element is at least every earlier one, not just its
        // neighbour.
        for (i, a) in terms.iter().enumerate() {
            for b in &terms[i..] {
                prop_assert_ne!(a.cmp(b), Ordering::Greater);
            }
        }
    }
}
