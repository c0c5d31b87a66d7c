//! Runs one codec operation N times on one `term_to_binary` file, for
//! instruction counts under `valgrind --tool=callgrind` (see
//! `scripts/bench-codec-instructions.sh`, which subtracts a run with N = 0 so
//! that only the loop counts).
//!
//! ```text
//! cargo run --release -p etf --example codec_loop -- OPERATION FILE N
//! ```
//!
//! `decode` is `etf::from_slice` and `decode_bytes` is `etf::from_bytes`, each
//! including the drop of the term; `encode` is `etf::to_vec` of the term the
//! file holds; `copy` copies the file's bytes into a new `Vec` (the floor
//! for encoding a term that is one large binary); `clone`, `eq` (against a clone) and `hash` (std's
//! `DefaultHasher`) work on that term too. `eetf_decode`, `erltf_decode`,
//! `erltf_decode_borrowed` (its zero-copy view), `eetf_encode` and
//! `erltf_encode` run the other crates on the same bytes. It uses only the
//! crate's stable entry points, so the same file builds against older
//! revisions for before/after comparisons.

use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, file, count] = args.as_slice() else {
        eprintln!("usage: codec_loop OPERATION FILE N (see the source for operations)");
        return ExitCode::FAILURE;
    };
    let Ok(count) = count.parse::<u64>() else {
        eprintln!("codec_loop: N must be a whole number, not {count:?}");
        return ExitCode::FAILURE;
    };
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("codec_loop: reading {file}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let term = match etf::from_slice(&bytes) {
        Ok(term) => term,
        Err(err) => {
            eprintln!("codec_loop: {file} does not decode: {err}");
            return ExitCode::FAILURE;
        }
    };
    let shared = bytes::Bytes::from(bytes.clone());
    match op.as_str() {
        "decode" => {
            for _ in 0..count {
                drop(black_box(etf::from_slice(black_box(&bytes))));
            }
        }
        "decode_bytes" => {
            for _ in 0..count {
                drop(black_box(etf::from_bytes(black_box(shared.clone()))));
            }
        }
        "encode" => {
            for _ in 0..count {
                drop(black_box(etf::to_vec(black_box(&term))));
            }
        }
        "copy" => {
            for _ in 0..count {
                drop(black_box(black_box(&bytes[..]).to_vec()));
            }
        }
        "clone" => {
            for _ in 0..count {
                drop(black_box(black_box(&term).clone()));
            }
        }
        "eq" => {
            let other = term.clone();
            for _ in 0..count {
                black_box(black_box(&term) == black_box(&other));
            }
        }
        "hash" => {
            use std::hash::BuildHasher;
            let hasher = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
            for _ in 0..count {
                black_box(hasher.hash_one(black_box(&term)));
            }
        }
        "eetf_decode" => {
            for _ in 0..count {
                drop(black_box(eetf::Term::decode(black_box(&bytes[..]))));
            }
        }
        "erltf_decode" => {
            for _ in 0..count {
                drop(black_box(erltf::decode(black_box(&bytes))));
            }
        }
        "erltf_decode_borrowed" => {
            for _ in 0..count {
                drop(black_box(erltf::decode_borrowed(black_box(&bytes))));
            }
        }
        "eetf_encode" => {
            let Ok(t) = eetf::Term::decode(&bytes[..]) else {
                eprintln!("codec_loop: eetf does not decode {file}");
                return ExitCode::FAILURE;
            };
            for _ in 0..count {
                let mut out = Vec::new();
                drop(black_box(black_box(&t).encode(&mut out).map(|_| out)));
            }
        }
        "erltf_encode" => {
            let Ok(t) = erltf::decode(&bytes) else {
                eprintln!("codec_loop: erltf does not decode {file}");
                return ExitCode::FAILURE;
            };
            for _ in 0..count {
                drop(black_box(erltf::encode(black_box(&t))));
            }
        }
        other => {
            eprintln!(
                "codec_loop: unknown operation {other:?} (decode, decode_bytes, encode, \
                 copy, clone, eq, hash, eetf_decode, erltf_decode, erltf_decode_borrowed, \
                 eetf_encode or erltf_encode)"
            );
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
