//! Equality, order and hashing: agreement with each other (properties over
//! many representations of the same terms) and with what OTP 25 and 28
//! answered for `lists:sort/1`, `<`, `==` and `=:=` on tricky cases.

use bytes::Bytes;
use etf::{Atom, BitBinary, Map, Pid, Port, Reference, Term};
use num_bigint::BigInt;
use proptest::prelude::*;
use std::cmp::Ordering;
use std::hash::{BuildHasher, RandomState};

fn hash(t: &Term, s: &RandomState) -> u64 {
    s.hash_one(t)
}

fn pid(node: &str, id: u32, serial: u32, creation: u32) -> Term {
    Term::Pid(Pid {
        node: Atom::new(node),
        id,
        serial,
        creation,
    })
}

fn port(node: &str, id: u64, creation: u32) -> Term {
    Term::Port(Port {
        node: Atom::new(node),
        id,
        creation,
    })
}

fn reference(node: &str, creation: u32, ids: &[u32]) -> Term {
    Term::Reference(Reference {
        node: Atom::new(node),
        creation,
        ids: ids.to_vec(),
    })
}

fn bits(bytes: &[u8], bits: u8) -> Term {
    Term::BitBinary(BitBinary {
        bytes: Bytes::copy_from_slice(bytes),
        bits,
    })
}

fn map(entries: Vec<(Term, Term)>) -> Term {
    Term::map(entries).unwrap()
}

fn leaf() -> impl Strategy<Value = Term> {
    prop_oneof![
        (-3i64..300).prop_map(Term::Int),
        // The same small integers as BigInt: another representation.
        (-3i64..300).prop_map(|i| Term::BigInt(BigInt::from(i))),
        prop_oneof![Just(i64::MAX), Just(i64::MIN)].prop_map(Term::Int),
        (-3i128..3).prop_map(|i| Term::from(i * (1i128 << 70))),
        prop::sample::select(vec![0.0, -0.0, 1.0, 1.5, -2.0, 255.0, 1e20, 1.2e19])
            .prop_map(Term::Float),
        prop::sample::select(vec!["a", "b", "aa", "é", ""]).prop_map(Term::atom),
        prop::collection::vec(0u8..3, 0..3).prop_map(Term::binary),
        (prop::collection::vec(0u8..=255, 1..3), 1u8..8).prop_map(|(b, n)| bits(&b, n)),
        Just(Term::Nil),
        Just(Term::List(vec![])),
        prop::collection::vec(0u8..3, 0..3).prop_map(Term::ByteList),
        (0u32..2, 0u32..2, 0u32..2).prop_map(|(i, s, c)| pid("a@h", i, s, c)),
        (0u64..2, 0u32..2).prop_map(|(i, c)| port("b@h", i, c)),
        prop::collection::vec(0u32..2, 1..4).prop_map(|ids| reference("a@h", 1, &ids)),
    ]
}

fn term() -> impl Strategy<Value = Term> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Term::Tuple),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Term::List),
            (prop::collection::vec(inner.clone(), 1..3), inner.clone())
                .prop_map(|(v, t)| Term::ImproperList(v, Box::new(t))),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(|kvs| {
                let mut m = Map::new();
                for (k, v) in kvs {
                    m.insert(k, v);
                }
                Term::Map(m)
            }),
        ]
    })
}

/// The same term in other representations: lists of small integers as
/// byte lists and back, integers as BigInt, list tails merged.
fn respell(t: &Term) -> Term {
    match t {
        Term::Int(i) => Term::BigInt(BigInt::from(*i)),
        Term::BigInt(b) => Term::from(b.clone()),
        Term::ByteList(b) if b.is_empty() => Term::Nil,
        Term::ByteList(b) => Term::List(b.iter().map(|&x| Term::Int(x.into())).collect()),
        Term::Nil => Term::ByteList(vec![]),
        Term::List(v) => match v
            .iter()
            .map(|x| x.as_i64().and_then(|i| u8::try_from(i).ok()))
            .collect()
        {
            Some(bytes) => Term::ByteList(bytes),
            None => Term::List(v.iter().map(respell).collect()),
        },
        Term::ImproperList(v, tail) => {
            Term::improper_list(v.iter().map(respell).collect(), respell(tail))
        }
        Term::Tuple(v) => Term::Tuple(v.iter().map(respell).collect()),
        Term::Map(m) => {
            let mut entries: Vec<_> = m.iter().map(|(k, v)| (respell(k), respell(v))).collect();
            entries.reverse();
            map(entries)
        }
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn eq_ord_and_hash_agree(a in term(), b in term()) {
        let s = RandomState::new();
        prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        if a == b {
            prop_assert_eq!(hash(&a, &s), hash(&b, &s));
        }
        // Arithmetic comparison only merges what exact order keeps apart.
        if a.cmp(&b) == Ordering::Less {
            prop_assert_ne!(a.compare_erl(&b), Ordering::Greater);
        }
        prop_assert_eq!(a.compare_erl(&b), b.compare_erl(&a).reverse());
    }

    #[test]
    fn order_is_transitive(mut v in prop::collection::vec(term(), 3)) {
        v.sort();
        prop_assert!(v[0] <= v[1] && v[1] <= v[2] && v[0] <= v[2]);
        let mut keys = v.clone();
        keys.sort_by(|a, b| a.cmp_map_key(b));
        prop_assert!(keys[0].cmp_map_key(&keys[2]) != Ordering::Greater);
    }

    #[test]
    fn representations_of_one_term_are_one_term(t in term()) {
        let s = RandomState::new();
        let other = respell(&t);
        prop_assert_eq!(&other, &t);
        prop_assert_eq!(hash(&other, &s), hash(&t, &s));
        // The encoder writes OTP's bytes whatever the representation
        // (maps excepted: their entry order is kept).
        let deterministic = etf::EncodeOptions::new().deterministic(true);
        prop_assert_eq!(other.encode(&deterministic), t.encode(&deterministic));
        let back = etf::from_slice(&etf::to_vec(&t).unwrap()).unwrap();
        prop_assert_eq!(back, t);
    }
}

fn sorted(mut v: Vec<Term>) -> Vec<Term> {
    v.sort();
    v
}

#[test]
fn numbers_as_otp_orders_them() {
    // lists:sort([1.0, 1, 0.0, -0.0, 0, 2, 1.5]) on OTP 25 (ties kept in
    // input order there; here integers first, then -0.0 before 0.0).
    let v = [
        Term::Float(1.0),
        Term::Int(1),
        Term::Float(0.0),
        Term::Float(-0.0),
        Term::Int(0),
        Term::Int(2),
        Term::Float(1.5),
    ];
    let expected = [
        Term::Int(0),
        Term::Float(-0.0),
        Term::Float(0.0),
        Term::Int(1),
        Term::Float(1.0),
        Term::Float(1.5),
        Term::Int(2),
    ];
    let got = sorted(v.to_vec());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
        assert!(matches!(
            (g, e),
            (Term::Int(_), Term::Int(_)) | (Term::Float(_), Term::Float(_))
        ));
    }
    // 0.0 =:= -0.0 is false on OTP 27+, 0.0 == -0.0 is true; 1 == 1.0.
    assert_ne!(Term::Float(0.0), Term::Float(-0.0));
    assert!(Term::Float(0.0).eq_erl(&Term::Float(-0.0)));
    assert!(Term::Int(1).eq_erl(&Term::Float(1.0)));
    assert_ne!(Term::Int(1), Term::Float(1.0));
    // 9007199254740993 > 9007199254740992.0: compared exactly, not as floats.
    let above = Term::from(9007199254740993i64);
    assert_eq!(
        above.compare_erl(&Term::Float(9007199254740992.0)),
        Ordering::Greater
    );
    // lists:sort([9999999999999999999999, 1.0e22, 1.0e300, -1.0e300, -99999999999999999999999999999])
    let big: BigInt = "9999999999999999999999".parse().unwrap();
    let neg: BigInt = "-99999999999999999999999999999".parse().unwrap();
    let v = vec![
        Term::from(big.clone()),
        Term::Float(1e22),
        Term::Float(1e300),
        Term::Float(-1e300),
        Term::from(neg.clone()),
    ];
    assert_eq!(
        sorted(v),
        [
            Term::Float(-1e300),
            Term::from(neg),
            Term::from(big),
            Term::Float(1e22),
            Term::Float(1e300)
        ]
    );
}

#[test]
fn types_in_erlang_order() {
    let fun = etf::from_slice(&[
        131, 112, 0, 0, 0, 76, 0, 30, 126, 55, 21, 225, 147, 217, 205, 141, 105, 79, 230, 7, 93,
        128, 169, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 8, 101, 114, 108, 95, 101, 118, 97, 108, 97, 0,
        98, 7, 48, 80, 32, 88, 100, 0, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111,
        115, 116, 0, 0, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0,
    ])
    .unwrap();
    let export = Term::Export(etf::Export {
        module: "a".into(),
        function: "b".into(),
        arity: 1,
    });
    // number < atom < reference < fun (local < external) < port < pid
    // < tuple < map < [] < list < bitstring
    let order = [
        Term::Float(1e300),
        Term::atom(""),
        reference("a@h", 1, &[1]),
        fun,
        export,
        port("a@h", 1, 1),
        pid("a@h", 1, 0, 1),
        Term::Tuple(vec![]),
        map(vec![]),
        Term::Nil,
        Term::ByteList(vec![0]),
        bits(&[0], 1),
    ];
    for w in order.windows(2) {
        assert_eq!(w[0].cmp(&w[1]), Ordering::Less, "{:?} < {:?}", w[0], w[1]);
    }
}

#[test]
fn identifiers_as_otp_orders_them() {
    // From lists:sort on OTP 28 over generated pids: serial, number, node, creation.
    let pids = [
        pid("b@h", 1, 0, 1),
        pid("b@h", 1, 0, 2),
        pid("a@h", 2, 0, 1),
        pid("a@h", 2, 0, 2),
        pid("b@h", 2, 0, 2),
        pid("a@h", 3, 0, 1),
        pid("a@h", 1, 1, 1),
        pid("b@h", 1, 1, 2),
    ];
    assert_eq!(sorted(pids.to_vec()), pids);
    // Ports: node, creation, number.
    let ports = [
        port("a@h", 1, 1),
        port("a@h", 3, 1),
        port("a@h", 1, 2),
        port("b@h", 1, 1),
        port("b@h", 3, 2),
    ];
    assert_eq!(sorted(ports.to_vec()), ports);
    // References: node, creation, then the words as one number.
    let refs = [
        reference("a@h", 1, &[0]),
        reference("a@h", 1, &[2]),
        reference("a@h", 1, &[0, 1]),
        reference("a@h", 1, &[1, 1]),
        reference("a@h", 1, &[0, 2]),
        reference("a@h", 1, &[2, 1, 1]),
        reference("a@h", 2, &[0]),
        reference("b@h", 1, &[0]),
    ];
    assert_eq!(sorted(refs.to_vec()), refs);
    // R(<<"a@h">>, 1, [1,2,3]) == R(<<"a@h">>, 1, [1,2,3,0]) is true.
    assert_eq!(
        reference("a@h", 1, &[1, 2, 3]),
        reference("a@h", 1, &[1, 2, 3, 0])
    );
}

#[test]
fn maps_and_bitstrings_as_otp_orders_them() {
    let (a, b) = (Term::atom("a"), Term::atom("b"));
    // lists:sort([#{a=>1,b=>2}, #{a=>1}, #{b=>1,a=>2}, #{1=>a,1.0=>b}, #{1.0=>a,2=>b}])
    let maps = [
        map(vec![(a.clone(), Term::Int(1))]),
        map(vec![
            (Term::Int(1), a.clone()),
            (Term::Float(1.0), b.clone()),
        ]),
        map(vec![
            (Term::Int(2), b.clone()),
            (Term::Float(1.0), a.clone()),
        ]),
        map(vec![(a.clone(), Term::Int(1)), (b.clone(), Term::Int(2))]),
        map(vec![(b.clone(), Term::Int(1)), (a.clone(), Term::Int(2))]),
    ];
    assert_eq!(sorted(maps.iter().rev().cloned().collect()), maps);
    // #{1=>a} < #{1.0=>a}; #{{2}=>a} < #{{1.0}=>a}: in keys every integer
    // is before every float, at any depth, even under `==`.
    let m = |k: Term| map(vec![(k, a.clone())]);
    assert_eq!(
        m(Term::Int(1)).compare_erl(&m(Term::Float(1.0))),
        Ordering::Less
    );
    let t = |x: Term| Term::Tuple(vec![x]);
    assert_eq!(
        m(t(Term::Int(2))).compare_erl(&m(t(Term::Float(1.0)))),
        Ordering::Less
    );
    // Values compare arithmetically under `==`: #{a=>1} == #{a=>1.0}.
    let v = |x: Term| map(vec![(a.clone(), x)]);
    assert!(v(Term::Int(1)).eq_erl(&v(Term::Float(1.0))));
    assert_ne!(v(Term::Int(1)), v(Term::Float(1.0)));

    // lists:sort([<<1:3>>, <<1>>, <<0:1>>, <<>>, <<1,2>>, <<1:4>>, <<32:7>>])
    let bitstrings = [
        Term::binary(vec![]),
        bits(&[0], 1),
        Term::binary(vec![1]),
        Term::binary(vec![1, 2]),
        bits(&[0x10], 4),
        bits(&[0x20], 3),
        bits(&[0x40], 7),
    ];
    assert_eq!(
        sorted(bitstrings.iter().rev().cloned().collect()),
        bitstrings
    );
}

#[test]
fn deterministic_maps_use_map_key_order() {
    // term_to_binary(#{1.0=>a, 1=>b, a=>c, 2=>d, -0.0=>e, 0.0=>f}, [deterministic])
    // on OTP 28: keys 1, 2, -0.0, 0.0, 1.0, a.
    let m = map(vec![
        (Term::Float(1.0), Term::atom("a")),
        (Term::Int(1), Term::atom("b")),
        (Term::atom("a"), Term::atom("c")),
        (Term::Int(2), Term::atom("d")),
        (Term::Float(-0.0), Term::atom("e")),
        (Term::Float(0.0), Term::atom("f")),
    ]);
    let expected: &[u8] = &[
        131, 116, 0, 0, 0, 6, 97, 1, 119, 1, 98, 97, 2, 119, 1, 100, 70, 128, 0, 0, 0, 0, 0, 0, 0,
        119, 1, 101, 70, 0, 0, 0, 0, 0, 0, 0, 0, 119, 1, 102, 70, 63, 240, 0, 0, 0, 0, 0, 0, 119,
        1, 97, 119, 1, 97, 119, 1, 99,
    ];
    assert_eq!(
        m.encode(&etf::EncodeOptions::new().deterministic(true))
            .unwrap(),
        expected
    );
}

/// `Mk = fun(X) -> fun() -> X end end`, `Mk(1)`, `Mk(2)` and
/// `fun(Y, Z) -> Y + Z end` made by erl_eval on OTP 28, where
/// `Mk(1) < Mk(2)`, `fun(Y, Z) -> .. end < Mk(1)`.
#[rustfmt::skip]
const FUNS: [&[u8]; 3] = [
    &[131,112,0,0,0,146,0,215,201,192,224,241,250,100,174,150,218,223,197,23,118,118,5,0,0,0,43,0,0,0,1,119,8,101,114,108,95,101,118,97,108,97,43,98,6,190,78,7,88,119,13,110,111,110,111,100,101,64,110,111,104,111,115,116,0,0,0,0,0,0,0,0,0,0,0,0,104,6,97,1,108,0,0,0,1,104,2,119,1,88,97,1,106,119,4,110,111,110,101,119,4,110,111,110,101,116,0,0,0,0,108,0,0,0,1,104,5,119,6,99,108,97,117,115,101,97,1,106,106,108,0,0,0,1,104,3,119,3,118,97,114,97,1,119,1,88,106,106],
    &[131,112,0,0,0,146,0,215,201,192,224,241,250,100,174,150,218,223,197,23,118,118,5,0,0,0,43,0,0,0,1,119,8,101,114,108,95,101,118,97,108,97,43,98,6,190,78,7,88,119,13,110,111,110,111,100,101,64,110,111,104,111,115,116,0,0,0,0,0,0,0,0,0,0,0,0,104,6,97,1,108,0,0,0,1,104,2,119,1,88,97,2,106,119,4,110,111,110,101,119,4,110,111,110,101,116,0,0,0,0,108,0,0,0,1,104,5,119,6,99,108,97,117,115,101,97,1,106,106,108,0,0,0,1,104,3,119,3,118,97,114,97,1,119,1,88,106,106],
    &[131,112,0,0,0,186,2,215,201,192,224,241,250,100,174,150,218,223,197,23,118,118,5,0,0,0,41,0,0,0,1,119,8,101,114,108,95,101,118,97,108,97,41,98,6,190,78,7,88,119,13,110,111,110,111,100,101,64,110,111,104,111,115,116,0,0,0,0,0,0,0,0,0,0,0,0,104,6,97,1,106,119,4,110,111,110,101,119,4,110,111,110,101,116,0,0,0,0,108,0,0,0,1,104,5,119,6,99,108,97,117,115,101,97,1,108,0,0,0,2,104,3,119,3,118,97,114,97,1,119,1,89,104,3,119,3,118,97,114,97,1,119,1,90,106,106,108,0,0,0,1,104,5,119,2,111,112,97,1,119,1,43,104,3,119,3,118,97,114,97,1,119,1,89,104,3,119,3,118,97,114,97,1,119,1,90,106,106],
];

#[test]
fn local_funs_as_otp_orders_them() {
    let [f1, f2, g] = FUNS.map(|b| etf::from_slice(b).unwrap());
    assert!(f1 < f2);
    assert!(g < f1);
    assert!(g < f2);
}

#[test]
fn fun_identity_ignores_what_otp28_rewrites() {
    // OTP 28 replaces a decoded fun's old index, old uniq and creator pid,
    // and still finds it =:= to the original.
    let [f1, ..] = FUNS.map(|b| etf::from_slice(b).unwrap());
    let mut other = f1.clone().into_fun().unwrap_or_else(|t| panic!("{t:?}"));
    other.old_index = 1;
    other.old_uniq = 0x8000_0000;
    other.pid.node = Atom::new("elsewhere@host");
    let other = Term::Fun(other);
    let s = RandomState::new();
    assert_eq!(other, f1);
    assert_eq!(hash(&other, &s), hash(&f1, &s));
}

/// Found by `eq_ord_and_hash_agree`: the 1 / 1.0 tie must not decide before
/// Erlang's order has looked at the rest of the term (`{[1,0]} > {[1.0]}`).
#[test]
fn number_ties_are_broken_after_the_erlang_order() {
    let a = Term::tuple(vec![Term::ByteList(vec![1, 0])]);
    let b = Term::tuple(vec![Term::List(vec![Term::Float(1.0)])]);
    assert_eq!(a.compare_erl(&b), Ordering::Greater);
    assert_eq!(a.cmp(&b), Ordering::Greater);
    assert_eq!(Term::Int(1).cmp(&Term::Float(1.0)), Ordering::Less);
    assert_ne!(Term::Int(1), Term::Float(1.0));
}
