//! Properties of the codec over generated terms: every encoding choice
//! decodes back to an equal term, and encoding is canonical.
#![cfg(feature = "proptest")]

use etf::strategy::{term_with, TermConfig};
use etf::{EncodeOptions, Map, Term};
use proptest::prelude::*;

/// Every kind of term, native records included.
fn term() -> impl Strategy<Value = Term> {
    term_with(TermConfig {
        records: true,
        ..TermConfig::default()
    })
}

/// Every combination of `term_to_binary/2` options the encoder offers.
fn all_options() -> Vec<EncodeOptions> {
    let mut all = Vec::new();
    for minor_version in 0..=2 {
        for compression in [None, Some(0), Some(1), Some(6), Some(9)] {
            for deterministic in [false, true] {
                all.push(
                    EncodeOptions::new()
                        .minor_version(minor_version)
                        .compression(compression)
                        .deterministic(deterministic),
                );
            }
        }
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_encoding_decodes_to_an_equal_term(t in term()) {
        for opts in all_options() {
            let bytes = t.encode(&opts).map_err(|e| TestCaseError::fail(format!("{opts:?}: {e}")))?;
            let back = etf::from_slice(&bytes).map_err(|e| TestCaseError::fail(format!("{opts:?}: {e}")))?;
            prop_assert_eq!(&back, &t, "options {:?}", opts);
        }
    }

    #[test]
    fn chunked_encoding_writes_the_same_bytes(t in term(), len in 0usize..40_000, bits in 1u8..=8) {
        let large = vec![0xab; len];
        let bitstring = etf::BitBinary { bytes: large.clone().into(), bits };
        let whole = Term::List(vec![
            t.clone(),
            Term::binary(large),
            Term::tuple(vec![t, Term::BitBinary(bitstring)]),
        ]);
        let opts = EncodeOptions::default();
        let mut flat = b"head".to_vec();
        let flat_result = etf::encode_body(&whole, &mut flat, &opts);
        let mut chunked = etf::Chunked::new();
        chunked.extend_from_slice(b"head");
        let chunked_result = etf::encode_body_chunked(&whole, &mut chunked, &opts);
        prop_assert_eq!(flat_result.is_ok(), chunked_result.is_ok());
        prop_assert_eq!(chunked.len(), flat.len());
        let joined: Vec<u8> = chunked.into_chunks().iter().flatten().copied().collect();
        prop_assert_eq!(joined, flat);
    }

    #[test]
    fn shared_decoding_gives_the_same_term(t in term()) {
        let bytes = etf::to_vec(&t).unwrap();
        prop_assert_eq!(etf::from_bytes(bytes.into()).unwrap(), t);
    }

    #[test]
    fn encoding_is_canonical(t in term()) {
        // Whatever the representation (List or ByteList, Int or BigInt,
        // empty List or Nil), a term has one encoding.
        let bytes = etf::to_vec(&t).unwrap();
        let again = etf::to_vec(&etf::from_slice(&bytes).unwrap()).unwrap();
        prop_assert_eq!(again, bytes);
    }

    #[test]
    fn local_ext_terms_survive(t in term_with(TermConfig { local: true, records: true, ..TermConfig::default() })) {
        let bytes = etf::to_vec(&t).unwrap();
        prop_assert_eq!(etf::from_slice(&bytes).unwrap(), t);
    }

    #[test]
    fn deterministic_maps_ignore_insertion_order(
        entries in proptest::collection::vec((term_with(TermConfig { max_depth: 1, ..TermConfig::default() }), term()), 0..12),
    ) {
        let mut forward = Map::new();
        for (k, v) in entries.iter().cloned() {
            forward.insert(k, v);
        }
        let mut backward = Map::new();
        for (k, _) in forward.iter().rev() {
            let v = forward.get(k).cloned().unwrap_or(Term::Nil);
            backward.insert(k.clone(), v);
        }
        let opts = EncodeOptions::new().deterministic(true);
        prop_assert_eq!(
            Term::Map(forward).encode(&opts).unwrap(),
            Term::Map(backward).encode(&opts).unwrap()
        );
    }
}
