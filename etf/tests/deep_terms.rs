//! Terms of any depth: a million levels of tuples, of lists, and 300,000 of
//! a mix of maps (keys and values), improper lists, fun environments, native
//! records and tuples go through every walk over a term (decode, both printers, the
//! parser, encode, clone, equality, order, hash, `Debug`, serde, drop) on a
//! thread with a 2 MiB stack, the smallest a Rust thread gets by default.
//!
//! Assertions compare with `==` and `assert!`, not `assert_eq!`: a failing
//! `assert_eq!` would print megabytes of `Debug` output.

use etf::{Atom, DecodeOptions, Fun, Map, Pid, Record, Term};
use std::cmp::Ordering;
use std::hash::{BuildHasher, RandomState};

const DEPTH: usize = 1_000_000;

/// The depth of the mixed terms: each level holds more than a tuple level
/// does (a fun, a map), so fewer keep the test quick in a debug build.
const MIXED_DEPTH: usize = 300_000;

/// Runs `f` on a thread with a 2 MiB stack.
fn on_small_stack(f: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("deep".into())
            .stack_size(2 << 20)
            .spawn_scoped(scope, f)
            .expect("thread starts")
            .join()
            .expect("no stack overflow or failed assertion");
    });
}

/// `term_to_binary` of `{{{...{[]}...}}}`, `depth` tuples deep.
fn tuple_bytes(depth: usize) -> Vec<u8> {
    let mut b = vec![131];
    for _ in 0..depth {
        b.extend_from_slice(&[104, 1]);
    }
    b.push(106);
    b
}

/// `term_to_binary` of `[[[...[]...]]]`, `depth` lists deep.
fn list_bytes(depth: usize) -> Vec<u8> {
    let mut b = vec![131];
    for _ in 0..depth {
        b.extend_from_slice(&[108, 0, 0, 0, 1]);
    }
    b.push(106);
    b.extend(std::iter::repeat_n(106, depth));
    b
}

fn fun_around(inner: Term) -> Term {
    Term::Fun(Box::new(Fun {
        arity: 0,
        uniq: [0xab; 16],
        index: 1,
        module: Atom::new("deep"),
        old_index: 1,
        old_uniq: 2,
        pid: Pid {
            node: Atom::new("a@h"),
            id: 1,
            serial: 0,
            creation: 3,
        },
        free_vars: vec![inner, Term::Int(7)],
    }))
}

/// `depth` levels cycling through a map value, an improper list's head, a
/// fun's free variable, a map key, a native record's field and a tuple
/// beside a sibling, around `leaf`.
fn mixed(depth: usize, leaf: Term) -> Term {
    let mut t = leaf;
    for level in 0..depth {
        t = match level % 6 {
            0 => Term::Map(Map::from_entries(vec![(Term::atom("k"), t)]).expect("one key")),
            1 => Term::improper_list(vec![t], Term::atom("tail")),
            2 => fun_around(t),
            3 => Term::Map(Map::from_entries(vec![(t, Term::Nil)]).expect("one key")),
            4 => Term::from(Record::new("m", "r", [("a", Term::Nil), ("b", t)]).expect("fields")),
            _ => Term::tuple(vec![Term::Int(level as i64), t]),
        };
    }
    t
}

fn hash(term: &Term, s: &RandomState) -> u64 {
    s.hash_one(term)
}

/// Every walk over `term`, whose encoding is `bytes`.
fn every_walk(bytes: &[u8], what: &str) {
    let term = etf::from_slice(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        etf::to_vec(&term).expect("encodes") == bytes,
        "{what}: re-encoding differs"
    );
    let shared = etf::from_bytes(bytes.to_vec().into()).expect("decodes shared");
    assert!(shared == term, "{what}: shared decoding differs");
    drop(shared);

    // Both printers, and the parser on what each wrote.
    let text = term.to_string();
    let parsed = etf::parse_term(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(parsed == term, "{what}: printed and parsed differs");
    assert!(etf::to_vec(&parsed).expect("encodes") == bytes);
    drop(parsed);
    let pretty = term.pretty().to_string();
    let parsed = etf::parse_term(&pretty).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(parsed == term, "{what}: laid out and parsed differs");
    drop(parsed);

    // Clone, equality, order, hashing.
    let copy = term.clone();
    assert!(copy == term);
    assert_eq!(copy.cmp(&term), Ordering::Equal);
    assert_eq!(copy.compare_erl(&term), Ordering::Equal);
    assert_eq!(copy.cmp_map_key(&term), Ordering::Equal);
    let s = RandomState::new();
    assert_eq!(hash(&copy, &s), hash(&term, &s));
    drop(copy);

    // Debug (compact: the indented form grows with the square of the depth).
    let debug = format!("{term:?}");
    assert!(debug.len() > bytes.len() / 2, "{what}: Debug");
    drop(debug);

    // serde: to and from a term.
    let through = etf::serde::to_term(&term).expect("serializes");
    assert!(through == term, "{what}: to_term differs");
    let back: Term = etf::serde::from_term(&through).expect("deserializes");
    assert!(back == term, "{what}: from_term differs");
    drop((through, back));

    // And every walk above dropped its copies; now the original goes.
    drop(term);
}

/// `term_to_binary` of `{7, {7, ... {7, [a, 256], x} ..., x}, x}`, `depth`
/// tuples deep: each level has elements before and after the nested one.
fn wrapped_bytes(depth: usize) -> Vec<u8> {
    let mut b = vec![131];
    for _ in 0..depth {
        b.extend_from_slice(&[104, 3, 97, 7]);
    }
    b.extend_from_slice(&[108, 0, 0, 0, 2, 119, 1, b'a', 98, 0, 0, 1, 0, 106]);
    for _ in 0..depth {
        b.extend_from_slice(&[119, 1, b'x']);
    }
    b
}

/// The encoder recurses for the first levels and keeps the rest on an
/// explicit stack: terms on either side of that limit (and crossing it)
/// give OTP's bytes.
#[test]
fn terms_around_the_encoders_recursion_limit_encode_as_otp_does() {
    for depth in (0..=70).chain([127, 128, 129, 1000]) {
        for bytes in [tuple_bytes(depth), list_bytes(depth), wrapped_bytes(depth)] {
            let term = etf::from_slice(&bytes).expect("decodes");
            assert!(
                etf::to_vec(&term).expect("encodes") == bytes,
                "depth {depth}"
            );
        }
    }
}

#[test]
fn a_million_nested_tuples_go_through_every_walk() {
    let bytes = tuple_bytes(DEPTH);
    on_small_stack(|| every_walk(&bytes, "tuples"));
}

#[test]
fn a_million_nested_lists_go_through_every_walk() {
    let bytes = list_bytes(DEPTH);
    on_small_stack(|| every_walk(&bytes, "lists"));
}

#[test]
fn deep_maps_improper_lists_and_funs_go_through_every_walk() {
    on_small_stack(|| {
        let term = mixed(MIXED_DEPTH, Term::Int(0));
        let bytes = etf::to_vec(&term).expect("encodes");
        drop(term);
        every_walk(&bytes, "mixed");
    });
}

#[test]
fn deep_terms_that_differ_at_the_bottom_compare_and_hash_apart() {
    on_small_stack(|| {
        let one = mixed(MIXED_DEPTH, Term::Int(1));
        let float = mixed(MIXED_DEPTH, Term::Float(1.0));
        let two = mixed(MIXED_DEPTH, Term::Int(2));
        assert!(one != float);
        assert!(one != two);
        // Exact order: 1 before 1.0 before 2. The leaf sits inside a map
        // key, where Erlang compares exactly even under `==`.
        // In map key order every integer comes before every float.
        assert_eq!(one.cmp(&float), Ordering::Less);
        assert_eq!(one.cmp(&two), Ordering::Less);
        assert_eq!(float.cmp(&two), Ordering::Greater);
        assert_eq!(one.compare_erl(&float), Ordering::Less);
        assert!(!one.eq_erl(&float));
        let s = RandomState::new();
        assert_ne!(hash(&one, &s), hash(&two, &s));
        // Deep terms as keys of a hash set and of a sorted vector.
        let set: std::collections::HashSet<&Term> = [&one, &float, &two, &one].into();
        assert_eq!(set.len(), 3);
        let mut sorted = [&float, &two, &one];
        sorted.sort();
        assert!(sorted[0] == &one && sorted[1] == &two && sorted[2] == &float);
    });
}

#[test]
fn deep_tuples_compare_arithmetically() {
    on_small_stack(|| {
        let around = |leaf: Term| {
            let mut t = leaf;
            for _ in 0..DEPTH {
                t = Term::tuple(vec![t]);
            }
            t
        };
        let one = around(Term::Int(1));
        let float = around(Term::Float(1.0));
        assert!(one != float);
        assert_eq!(one.cmp(&float), Ordering::Less);
        assert_eq!(one.compare_erl(&float), Ordering::Equal);
        assert!(one.eq_erl(&float));
    });
}

#[test]
fn depth_limits_are_opt_in() {
    let bytes = tuple_bytes(DEPTH);
    let limited = DecodeOptions::new().max_depth(1000);
    assert!(Term::decode(&bytes, &limited).is_err());
    assert!(Term::decode(&bytes, &DecodeOptions::default()).is_ok());
}

#[test]
fn deep_terms_serialize_through_other_serde_formats_on_a_grown_stack() {
    // serde_json recurses once per level through `Serialize for Term`,
    // which moves onto heap-allocated stack segments as the thread's runs low.
    let depth = 20_000;
    let mut term = Term::Int(7);
    for _ in 0..depth {
        term = Term::tuple(vec![term]);
    }
    let json = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn_scoped(scope, || serde_json::to_string(&term).expect("serializes"))
            .expect("thread starts")
            .join()
            .expect("no stack overflow")
    });
    assert_eq!(json.matches("{\"Tuple\":[").count(), depth);
    assert!(json.contains("{\"Int\":7}"));
}
