//! A driver for instruction counts: `codec_ops WORKLOAD OP N` runs OP
//! (`decode` (including the drop), `encode`, `clone`, `eq`, `cmp`, `hash`)
//! N times on one of the workloads of `etf/benches/codec.rs`. Under
//! `valgrind --tool=callgrind`, (count for N - count for 0) / N is the
//! cost of one operation, whatever the load of the machine (BENCHMARKS.md).
use etf::{Atom, Pid, Reference, Term};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::hint::black_box;

fn pid(i: u32) -> Term {
    Term::Pid(Pid {
        node: Atom::new("node@host"),
        id: i,
        serial: 0,
        creation: 1_700_000_000,
    })
}

fn workloads() -> Vec<(&'static str, Vec<u8>)> {
    let message = Term::tuple(vec![
        Term::atom("$gen_call"),
        Term::tuple(vec![
            pid(42),
            Term::Reference(Reference {
                node: Atom::new("node@host"),
                creation: 1_700_000_000,
                ids: vec![1, 2, 3],
            }),
        ]),
        Term::tuple(vec![Term::atom("is_auth"), Term::atom("other@host")]),
    ]);
    let binary = Term::binary(vec![0xab; 1 << 20]);
    let ints = Term::list((0..10_000).map(Term::from).collect());
    let mixed = Term::map(
        (0..100)
            .map(|i| {
                let key = Term::atom(&format!("key{i}"));
                let value = Term::list(vec![
                    Term::list((0..10).map(|j| Term::from(j * 1000)).collect()),
                    Term::binary(format!("value {i}").into_bytes()),
                    Term::tuple(vec![Term::atom("ok"), Term::Float(i as f64 / 3.0)]),
                ]);
                (key, value)
            })
            .collect(),
    )
    .unwrap_or(Term::Nil);
    let atoms = Term::list(
        (0..1000)
            .map(|i| Term::atom(&format!("atom_{}", i % 50)))
            .collect(),
    );
    let pids = Term::list((0..1000).map(pid).collect());
    [
        ("small_message", message),
        ("binary_1mib", binary),
        ("int_list_10k", ints),
        ("nested_map_list", mixed),
        ("atom_list_1000", atoms),
        ("pid_list_1000", pids),
    ]
    .into_iter()
    .filter_map(|(name, t)| etf::to_vec(&t).ok().map(|b| (name, b)))
    .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, name, op, n] = args.as_slice() else {
        eprintln!("usage: codec_ops WORKLOAD decode|encode|clone|eq|cmp|hash N");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a number");
    let bytes = workloads()
        .into_iter()
        .find(|(w, _)| w == name)
        .expect("a workload of etf/benches/codec.rs")
        .1;
    let term = etf::from_slice(&bytes).expect("decodes");
    let other = term.clone();
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    for _ in 0..n {
        match op.as_str() {
            "decode" => drop(black_box(etf::from_slice(black_box(&bytes)))),
            "encode" => drop(black_box(etf::to_vec(black_box(&term)))),
            "clone" => drop(black_box(black_box(&term).clone())),
            "eq" => assert!(black_box(&term) == black_box(&other)),
            "cmp" => assert!(black_box(&term).cmp(black_box(&other)).is_eq()),
            "hash" => drop(black_box(hasher.hash_one(black_box(&term)))),
            other => panic!("unknown operation {other}"),
        }
    }
}
