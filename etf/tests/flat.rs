//! `etf::flat`: the flat decoder accepts what `from_slice` accepts, gives
//! back the same terms, and rejects what it rejects.

use bytes::Bytes;
use etf::flat::{FlatTerm, Kind};
use etf::{DecodeErrorKind, DecodeOptions, EncodeOptions, Term};

fn agree(bytes: &[u8]) {
    etf::fuzzing::flat(bytes);
}

#[test]
fn list_tails_of_every_kind() {
    #[rustfmt::skip]
    let bodies: Vec<Vec<u8>> = vec![
        vec![108, 0, 0, 0, 1, 97, 1, 97, 2],                      // [1|2]
        vec![108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 2, 3],            // [1|"\2\3"]
        vec![108, 0, 0, 0, 0, 107, 0, 2, 2, 3],                   // [|"\2\3"]
        vec![108, 0, 0, 0, 0, 107, 0, 0],                         // [|""]
        vec![108, 0, 0, 0, 0, 106],                               // [|[]]
        vec![108, 0, 0, 0, 0, 97, 5],                             // [|5]
        vec![108, 0, 0, 0, 0, 104, 1, 97, 5],                     // [|{5}]
        vec![108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106], // [1|[2]]
        vec![108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 0, 97, 2],     // [1|[|2]]
        vec![108, 0, 0, 0, 1, 104, 0, 104, 1, 106],               // [{}|{[]}]
        vec![108, 0, 0, 0, 2, 97, 1],                             // truncated
    ];
    for body in bodies {
        let mut bytes = vec![131];
        bytes.extend_from_slice(&body);
        agree(&bytes);
    }
}

#[test]
fn rare_kinds_decode_on_access() {
    let text = "[#Pid<'a@h'.1.2.3>, #Port<'a@h'.7.1>, #Ref<'a@h'.1.2.3.4>, fun m:f/2, \
                <<1,2:3>>, 123456789012345678901234567890, -5.5, 'é', \
                #{a => 1, {b} => 2, 1.0 => 3, 1 => 4}]";
    let term = etf::parse_term(text).unwrap();
    for opts in [EncodeOptions::new(), EncodeOptions::new().minor_version(0)] {
        let bytes = term.encode(&opts).unwrap();
        agree(&bytes);
        let flat = FlatTerm::from_slice(&bytes).unwrap();
        assert_eq!(flat.to_string(), term.to_string());
        let items: Vec<_> = flat.root().list().unwrap().collect();
        assert_eq!(items[0].as_pid().unwrap().id, 1);
        assert_eq!(items[1].as_port().unwrap().id, 7);
        assert_eq!(items[2].as_reference().unwrap().ids, vec![1, 2, 3]);
        assert_eq!(items[3].as_export().unwrap().arity, 2);
        assert_eq!(items[4].as_bit_binary().unwrap().bits, 3);
        assert_eq!(items[5].kind(), Kind::BigInt);
        assert_eq!(items[6].as_f64(), Some(-5.5));
        assert_eq!(items[7].as_str(), Some("é"));
        assert_eq!(items[8].map().unwrap().len(), 4);
        assert!(items[8] == term.clone().into_list().unwrap()[8]);
    }
}

#[test]
fn duplicate_keys_are_found_in_place_and_as_terms() {
    for text in [
        "#{a => 1, b => 2}",
        "#{1 => 1, 1.0 => 2, -0.0 => 3, 0.0 => 4, [] => 5}",
        "#{{a} => 1, {b} => 2, <<1>> => 3, \"ab\" => 4}",
    ] {
        let term = etf::parse_term(text).unwrap();
        let bytes = etf::to_vec(&term).unwrap();
        assert_eq!(FlatTerm::from_slice(&bytes).unwrap().to_term(), term);
    }
    // Two equal keys of each sort, written by hand: 1, a, {a}, "ab" and [97,98].
    let dups: [&[u8]; 4] = [
        &[97, 1, 97, 1],
        &[119, 1, b'a', 100, 0, 1, b'a'],
        &[104, 1, 119, 1, b'a', 104, 1, 119, 1, b'a'],
        &[107, 0, 2, 97, 98, 108, 0, 0, 0, 2, 97, 97, 97, 98, 106],
    ];
    for keys in dups {
        let mut bytes = vec![131, 116, 0, 0, 0, 2];
        let (k1, k2) = split_two_terms(keys);
        bytes.extend_from_slice(k1);
        bytes.extend_from_slice(&[97, 0]);
        bytes.extend_from_slice(k2);
        bytes.extend_from_slice(&[97, 0]);
        let err = FlatTerm::from_slice(&bytes).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::DuplicateMapKey, "{bytes:?}");
        agree(&bytes);
    }
    // Many keys: the sorted check.
    let many = Term::map((0..40).map(|i| (Term::Int(i), Term::Nil)).collect()).unwrap();
    let mut bytes = etf::to_vec(&many).unwrap();
    agree(&bytes);
    let last = bytes.len() - 3;
    bytes[last + 1] = 0; // the last key, 39, becomes 0
    agree(&bytes);
    assert!(FlatTerm::from_slice(&bytes).is_err());
}

/// The two terms of `bytes`, split where the tree decoder says the first ends.
fn split_two_terms(bytes: &[u8]) -> (&[u8], &[u8]) {
    let mut d = etf::Decoder::new(bytes);
    d.read_body().unwrap();
    bytes.split_at(d.position())
}

#[test]
fn deep_terms_decode_and_convert_without_recursion() {
    let depth = 200_000;
    let mut bytes = vec![131];
    for _ in 0..depth {
        bytes.extend_from_slice(&[108, 0, 0, 0, 1]);
    }
    bytes.push(106);
    bytes.extend(std::iter::repeat_n(106, depth));
    let flat = FlatTerm::from_slice(&bytes).unwrap();
    assert_eq!(flat.node_count(), depth + 1);
    assert_eq!(flat.to_term(), etf::from_slice(&bytes).unwrap());
    let opts = DecodeOptions::new().max_depth(1000);
    let err = FlatTerm::decode_with(Bytes::from(bytes), &opts).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::TooDeep(1000));
}

/// A list that begins with no elements (`LIST 0`) and gets them from its
/// tail nests as deep as any other list: both decoders fail the depth limit
/// at its start, before they read its elements (found by the `etf_flat`
/// fuzz target, where the flat decoder first read on and failed elsewhere).
#[test]
fn a_list_whose_elements_come_from_its_tail_counts_for_the_depth_limit() {
    #[rustfmt::skip]
    let cases: Vec<(Vec<u8>, Option<usize>)> = vec![
        // {[|[[... truncated]]]}: too deep at the empty LIST, offset 3.
        (vec![131, 104, 1, 108, 0, 0, 0, 0, 108, 0, 0, 0, 1, 108, 76, 0, 0, 0], Some(3)),
        // {[|[1]]}: the same list as {[1]}, so too deep at offset 3 too.
        (vec![131, 104, 1, 108, 0, 0, 0, 0, 108, 0, 0, 0, 1, 97, 1, 106], Some(3)),
        // {[|[]]}: no elements at all, so no list and nothing too deep.
        (vec![131, 104, 1, 108, 0, 0, 0, 0, 106], None),
    ];
    let opts = DecodeOptions::new().max_depth(1);
    for (bytes, too_deep_at) in cases {
        let tree = Term::decode(&bytes, &opts);
        let flat = FlatTerm::decode_with(Bytes::from(bytes.clone()), &opts);
        match too_deep_at {
            Some(at) => {
                for err in [tree.unwrap_err(), flat.unwrap_err()] {
                    assert_eq!(
                        (err.kind(), err.offset()),
                        (&DecodeErrorKind::TooDeep(1), at)
                    );
                }
            }
            None => assert_eq!(flat.unwrap().to_term(), tree.unwrap()),
        }
        agree(&bytes);
    }
}

#[test]
fn compressed_input_is_inflated_once_and_limited() {
    let term = Term::list((0..1000).map(|i| Term::Int(i % 7)).collect());
    let bytes = term
        .encode(&EncodeOptions::new().compression(Some(6)))
        .unwrap();
    assert_eq!(bytes[1], 80);
    agree(&bytes);
    assert_eq!(FlatTerm::from_slice(&bytes).unwrap().to_term(), term);
    let opts = DecodeOptions::new().max_decompressed_size(10);
    let err = FlatTerm::decode_with(Bytes::from(bytes.clone()), &opts).unwrap_err();
    assert!(matches!(
        err.kind(),
        DecodeErrorKind::DecompressedTooLarge { .. }
    ));
    let mut trailing = bytes;
    trailing.push(0);
    agree(&trailing);
}

#[test]
fn binaries_share_the_input() {
    let bytes = Bytes::from(etf::to_vec(&Term::binary(vec![7; 1000])).unwrap());
    let flat = FlatTerm::from_bytes(bytes.clone()).unwrap();
    let shared = flat.root().binary_bytes().unwrap();
    assert_eq!(shared.as_ptr(), bytes[6..].as_ptr());
    assert_eq!(flat.root().as_binary(), Some(&[7u8; 1000][..]));
}

#[test]
fn a_lone_binary_is_the_input_and_near_misses_fail_as_before() {
    let bytes = etf::to_vec(&Term::binary(vec![7; 100])).unwrap();
    let shared = Bytes::from(bytes.clone());
    let term = etf::from_bytes(shared.clone()).unwrap();
    let Term::Binary(tree) = &term else {
        panic!("not a binary: {term:?}");
    };
    assert_eq!(tree.as_ptr(), shared[6..].as_ptr());
    let flat = FlatTerm::from_bytes(shared.clone()).unwrap();
    assert_eq!(&flat.root().binary_bytes().unwrap(), tree);
    // A length one short, one long, a byte after, an empty binary: the
    // fast path takes only the exact one, and the rest fail as before.
    let mut cases = vec![bytes.clone(), vec![131, 109, 0, 0, 0, 0]];
    for (at, value) in [(5, 99), (5, 101)] {
        let mut b = bytes.clone();
        b[at] = value;
        cases.push(b);
    }
    cases.push([&bytes[..], &[0]].concat());
    for input in cases {
        let tree = etf::from_slice(&input);
        let shared = etf::from_bytes(Bytes::copy_from_slice(&input));
        assert_eq!(format!("{shared:?}"), format!("{tree:?}"), "{input:?}");
        agree(&input);
    }
}

#[cfg(feature = "proptest")]
mod properties {
    use super::*;
    use etf::strategy::{term_with, TermConfig};
    use proptest::prelude::*;

    fn term() -> impl Strategy<Value = Term> {
        term_with(TermConfig {
            records: true,
            ..TermConfig::default()
        })
    }

    proptest! {
        #[test]
        fn flat_decoding_gives_back_the_term(t in term(), minor in 0u8..=2) {
            let bytes = t.encode(&EncodeOptions::new().minor_version(minor)).unwrap();
            let flat = FlatTerm::from_slice(&bytes).unwrap();
            prop_assert_eq!(flat.to_term(), t.clone());
            prop_assert_eq!(flat.to_string(), t.to_string());
            let shared = FlatTerm::from_bytes(Bytes::from(bytes)).unwrap();
            prop_assert_eq!(shared.to_term(), t);
        }

        #[test]
        fn flat_and_tree_agree_on_mutated_bytes(
            t in term(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
            cut in any::<usize>(),
        ) {
            let mut bytes = etf::to_vec(&t).unwrap();
            agree(&bytes);
            for (at, b) in edits {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            agree(&bytes);
            bytes.truncate(cut % (bytes.len() + 1));
            agree(&bytes);
        }

        #[test]
        fn flat_and_tree_agree_on_arbitrary_bytes(
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = vec![131];
            bytes.extend_from_slice(&body);
            agree(&bytes);
            agree(&body);
        }
    }
}

#[test]
fn flat_terms_cross_threads() {
    fn is_shareable<T: Send + Sync + Clone>() {}
    is_shareable::<FlatTerm>();
    let bytes = etf::to_vec(&etf::parse_term("{a, <<1,2>>, [b]}").unwrap()).unwrap();
    let flat = FlatTerm::from_slice(&bytes).unwrap();
    let copy = flat.clone();
    let printed = std::thread::spawn(move || copy.to_string()).join().unwrap();
    assert_eq!(printed, flat.to_string());
}

#[test]
fn list_items_read_every_encoding_of_a_list() {
    use etf::flat::ListItem;
    // (wire body, the elements, the kind of the list's node)
    #[rustfmt::skip]
    let cases: Vec<(Vec<u8>, Vec<Term>, Kind)> = vec![
        // "\1\2\377" as STRING
        (vec![107, 0, 3, 1, 2, 255], ints(&[1, 2, 255]), Kind::ByteList),
        // [1, 256, 70000] as LIST
        (vec![108, 0, 0, 0, 3, 97, 1, 98, 0, 0, 1, 0, 98, 0, 1, 17, 112, 106],
         ints(&[1, 256, 70000]), Kind::List),
        // [] as NIL, and as an empty STRING (decoded as NIL)
        (vec![106], vec![], Kind::Nil),
        (vec![107, 0, 0], vec![], Kind::Nil),
        // [a, 1] as LIST
        (vec![108, 0, 0, 0, 2, 119, 1, b'a', 97, 1, 106],
         vec![Term::atom("a"), Term::Int(1)], Kind::List),
        // [1 | "\2\3"]: a list tail continues the list, as [1, 2, 3]
        (vec![108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 2, 3], ints(&[1, 2, 3]), Kind::List),
        // [1 | 5]: the tail is not an element
        (vec![108, 0, 0, 0, 1, 97, 1, 97, 5], ints(&[1]), Kind::ImproperList),
    ];
    for (body, elements, kind) in cases {
        let mut bytes = vec![131];
        bytes.extend_from_slice(&body);
        agree(&bytes);
        let flat = FlatTerm::from_slice(&bytes).unwrap();
        let root = flat.root();
        assert_eq!(root.kind(), kind);
        // `list` reads nodes only: not a STRING's bytes.
        assert_eq!(root.list().is_some(), kind != Kind::ByteList);
        let items = root.list_items().unwrap();
        assert_eq!(items.len(), elements.len());
        let items: Vec<ListItem<'_>> = items.collect();
        assert_eq!(items.len(), elements.len());
        for (item, element) in items.iter().zip(&elements) {
            assert!(item == element, "{item} is not {element}");
            assert_eq!(&item.to_term(), element);
            assert_eq!(item.to_string(), element.to_string());
            assert_eq!(item.as_i64(), element.as_i64());
            assert_eq!(item.kind() == Kind::Int, element.as_i64().is_some());
            assert_eq!(
                item.as_term_ref().is_none(),
                kind == Kind::ByteList,
                "a STRING's elements are bytes, a LIST's nodes"
            );
        }
    }
    // Not a list.
    let bytes = etf::to_vec(&etf::parse_term("{1, 2}").unwrap()).unwrap();
    assert!(FlatTerm::from_slice(&bytes)
        .unwrap()
        .root()
        .list_items()
        .is_none());
}

fn ints(values: &[i64]) -> Vec<Term> {
    values.iter().map(|&i| Term::Int(i)).collect()
}
