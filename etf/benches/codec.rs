//! Decode and encode throughput against the `eetf` and `erltf` crates, on
//! the same input bytes (those of OTP 28's `term_to_binary/1`).
//!
//! `cargo bench -p etf --bench codec`; `scripts/bench-codec.sh` runs it and
//! the BEAM's own codec on the same bytes, side by side. With
//! `ETF_BENCH_DUMP_DIR` set, the workloads are also written there as
//! `NAME.bin` for the BEAM side to read; with `ETF_BENCH_REAL_DIR` set, the
//! `*.bin` files there are workloads too (see [`real_dumps`]).

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use etf::{Atom, Pid, Reference, Term};
use std::hint::black_box;

fn pid(i: u32) -> Term {
    Term::Pid(Pid {
        node: Atom::new("node@host"),
        id: i,
        serial: 0,
        creation: 1_700_000_000,
    })
}

/// The workloads: (name, encoded term).
fn workloads() -> Vec<(String, Vec<u8>)> {
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
    .filter_map(|(name, t)| etf::to_vec(&t).ok().map(|b| (name.to_string(), b)))
    .chain(real_dumps())
    .collect()
}

/// Real-world terms, when `ETF_BENCH_REAL_DIR` names a directory of
/// `term_to_binary` files (`scripts/bench-codec.sh` writes `literals.bin`
/// there: the literal tables of OTP's own .beam files, made by
/// `scripts/bench/literal_dump.erl`). Each is a workload named after its file.
fn real_dumps() -> Vec<(String, Vec<u8>)> {
    let Some(dir) = std::env::var_os("ETF_BENCH_REAL_DIR") else {
        return Vec::new();
    };
    let mut dumps: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let name = path.file_stem()?.to_str()?.to_string();
            let is_bin = path.extension().is_some_and(|e| e == "bin");
            is_bin
                .then(|| std::fs::read(&path).ok().map(|b| (name, b)))
                .flatten()
        })
        .collect();
    dumps.sort();
    dumps
}

/// Writes each workload to `$ETF_BENCH_DUMP_DIR/NAME.bin`, when that is set.
fn dump_workloads() {
    let Some(dir) = std::env::var_os("ETF_BENCH_DUMP_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("create ETF_BENCH_DUMP_DIR");
    for (name, bytes) in workloads() {
        std::fs::write(dir.join(format!("{name}.bin")), bytes).expect("write a workload");
    }
}

fn decode(c: &mut Criterion) {
    dump_workloads();
    for (name, bytes) in workloads() {
        let mut g = c.benchmark_group(format!("decode/{name}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(BenchmarkId::from_parameter("etf"), |b| {
            b.iter(|| etf::from_slice(black_box(&bytes)))
        });
        let shared = Bytes::from(bytes.clone());
        g.bench_function(BenchmarkId::from_parameter("etf_from_bytes"), |b| {
            b.iter(|| etf::from_bytes(black_box(shared.clone())))
        });
        g.bench_function(BenchmarkId::from_parameter("etf_flat"), |b| {
            b.iter(|| etf::flat::FlatTerm::from_slice(black_box(&bytes)))
        });
        g.bench_function(BenchmarkId::from_parameter("etf_flat_from_bytes"), |b| {
            b.iter(|| etf::flat::FlatTerm::from_bytes(black_box(shared.clone())))
        });
        if eetf::Term::decode(&bytes[..]).is_ok() {
            g.bench_function(BenchmarkId::from_parameter("eetf"), |b| {
                b.iter(|| eetf::Term::decode(black_box(&bytes[..])))
            });
        }
        if erltf::decode(&bytes).is_ok() {
            g.bench_function(BenchmarkId::from_parameter("erltf"), |b| {
                b.iter(|| erltf::decode(black_box(&bytes)))
            });
        }
        // erltf's zero-copy view: atoms, strings and binaries borrow the
        // input (like with like for `etf_from_bytes`).
        if erltf::decode_borrowed(&bytes).is_ok() {
            g.bench_function(BenchmarkId::from_parameter("erltf_borrowed"), |b| {
                b.iter(|| erltf::decode_borrowed(black_box(&bytes)))
            });
        }
        g.finish();
    }
}

fn encode(c: &mut Criterion) {
    for (name, bytes) in workloads() {
        let mut g = c.benchmark_group(format!("encode/{name}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        if let Ok(t) = etf::from_slice(&bytes) {
            g.bench_function(BenchmarkId::from_parameter("etf"), |b| {
                b.iter(|| etf::to_vec(black_box(&t)))
            });
        }
        if let Ok(t) = eetf::Term::decode(&bytes[..]) {
            g.bench_function(BenchmarkId::from_parameter("eetf"), |b| {
                b.iter(|| {
                    let mut out = Vec::new();
                    black_box(&t).encode(&mut out).map(|_| out)
                })
            });
        }
        if let Ok(t) = erltf::decode(&bytes) {
            g.bench_function(BenchmarkId::from_parameter("erltf"), |b| {
                b.iter(|| erltf::encode(black_box(&t)))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
