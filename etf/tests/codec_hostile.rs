//! Hostile input: deep nesting, lying length fields, zlib bombs and
//! truncation never panic, overflow the stack or allocate without bound.

use etf::{Category, DecodeErrorKind, DecodeOptions, EncodeOptions, Term};
use std::time::Instant;

const MILLION: usize = 1_000_000;

/// `{{{...{[]}...}}}`, `depth` tuples deep.
fn nested_tuples(depth: usize) -> Vec<u8> {
    let mut b = vec![131];
    for _ in 0..depth {
        b.extend_from_slice(&[104, 1]);
    }
    b.push(106);
    b
}

/// `[[[...[]...]]]`, `depth` lists deep.
fn nested_lists(depth: usize) -> Vec<u8> {
    let mut b = vec![131];
    for _ in 0..depth {
        b.extend_from_slice(&[108, 0, 0, 0, 1]);
    }
    b.push(106);
    b.extend(std::iter::repeat_n(106, depth));
    b
}

/// `#{[] => #{[] => ... []}}`, `depth` maps deep.
fn nested_maps(depth: usize) -> Vec<u8> {
    let mut b = vec![131];
    for _ in 0..depth {
        b.extend_from_slice(&[116, 0, 0, 0, 1, 106]);
    }
    b.push(106);
    b
}

#[test]
fn a_million_levels_decode_encode_and_drop_by_default() {
    for bytes in [
        nested_tuples(MILLION),
        nested_lists(MILLION),
        nested_maps(MILLION),
    ] {
        let term = etf::from_slice(&bytes).unwrap();
        assert_eq!(etf::to_vec(&term).unwrap(), bytes);
        drop(term);
    }
}

#[test]
fn an_opt_in_depth_limit_refuses_deeper_terms_cleanly() {
    let limit = 1024;
    let opts = DecodeOptions::new().max_depth(limit);
    for (at_limit, deeper) in [
        (nested_tuples(limit), nested_tuples(MILLION)),
        (nested_lists(limit), nested_lists(MILLION)),
        (nested_maps(limit), nested_maps(MILLION)),
    ] {
        assert!(Term::decode(&at_limit, &opts).is_ok());
        let err = Term::decode(&deeper, &opts).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::TooDeep(limit));
        assert_eq!(err.category(), Category::Limit);
        assert!(!err.is_incomplete());
    }
    let unlimited = opts.unlimited_depth();
    assert_eq!(unlimited, DecodeOptions::default());
    assert!(Term::decode(&nested_tuples(MILLION), &unlimited).is_ok());
}

#[test]
fn chained_list_tails_stay_flat() {
    // [1 | [1 | [1 | ...]]] written as a million LISTs of one element each.
    let mut b = vec![131];
    for _ in 0..MILLION {
        b.extend_from_slice(&[108, 0, 0, 0, 1, 97, 1]);
    }
    b.push(106);
    let t = etf::from_slice(&b).unwrap();
    assert_eq!(t.to_list().map(|v| v.len()), Some(MILLION));
    // OTP writes it as one LIST.
    let again = etf::to_vec(&t).unwrap();
    assert_eq!(&again[..6], &[131, 108, 0, 15, 66, 64]);
}

#[test]
fn lying_length_fields_fail_fast() {
    let cases: &[&[u8]] = &[
        &[131, 108, 255, 255, 255, 255, 97, 1, 97, 1, 97, 1, 106],
        &[131, 105, 255, 255, 255, 255, 97, 1],
        &[131, 116, 255, 255, 255, 255, 97, 1, 97, 1],
        &[131, 109, 255, 255, 255, 255, 1, 2, 3],
        &[131, 77, 255, 255, 255, 255, 3, 1],
        &[131, 111, 255, 255, 255, 255, 0, 1, 2],
        &[131, 107, 255, 255, 1, 2],
        &[131, 118, 255, 255, 97],
        &[131, 90, 0, 5, 119, 1, 97, 0, 0, 0, 1, 0, 0, 0, 1],
    ];
    for &bytes in cases {
        let start = Instant::now();
        let err = etf::from_slice(bytes).unwrap_err();
        assert!(err.is_incomplete(), "{bytes:?}: {err}");
        assert!(start.elapsed().as_millis() < 100, "{bytes:?}");
    }
}

fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

fn compressed(declared: u32, stream: &[u8]) -> Vec<u8> {
    let mut b = vec![131, 80];
    b.extend_from_slice(&declared.to_be_bytes());
    b.extend_from_slice(stream);
    b
}

#[test]
fn zlib_bombs_are_bounded() {
    // 16 MiB of a binary's zeros in about 16 KiB.
    let mut body = vec![109];
    body.extend_from_slice(&(16u32 << 20).to_be_bytes());
    body.resize(5 + (16 << 20), 0);
    let stream = zlib(&body);
    assert!(stream.len() < 64 << 10);

    // Declared honestly: decodes under the default 64 MiB limit...
    let honest = compressed(body.len() as u32, &stream);
    let t = etf::from_slice(&honest).unwrap();
    assert_eq!(t.as_binary().map(|b| b.len()), Some(16 << 20));
    // ...but not under a smaller one, which is checked before inflating.
    let small = DecodeOptions::new().max_decompressed_size(1 << 20);
    let err = Term::decode(&honest, &small).unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::DecompressedTooLarge { .. }),
        "{err}"
    );
    // Declared small: inflating stops one byte past the declared size.
    let err = etf::from_slice(&compressed(1000, &stream)).unwrap_err();
    assert_eq!(
        err.kind(),
        &DecodeErrorKind::DecompressedSizeMismatch { declared: 1000 }
    );
    // Declared larger than the stream gives.
    let err = etf::from_slice(&compressed(body.len() as u32 + 1, &stream)).unwrap_err();
    assert!(
        matches!(err.kind(), DecodeErrorKind::DecompressedSizeMismatch { .. }),
        "{err}"
    );
    // A huge declared size is refused before any allocation.
    let err = etf::from_slice(&compressed(u32::MAX, &stream)).unwrap_err();
    assert!(matches!(
        err.kind(),
        DecodeErrorKind::DecompressedTooLarge { .. }
    ));
    // Corrupt streams are errors, not panics.
    let mut bad = stream.clone();
    bad[10] ^= 0xff;
    assert!(etf::from_slice(&compressed(body.len() as u32, &bad)).is_err());
}

fn samples() -> Vec<Vec<u8>> {
    let pid = Term::Pid(etf::Pid {
        node: etf::Atom::new("n@h"),
        id: 1,
        serial: 2,
        creation: 3,
    });
    let fun_bytes: &[u8] = &[
        131, 112, 0, 0, 0, 76, 0, 30, 126, 55, 21, 225, 147, 217, 205, 141, 105, 79, 230, 7, 93,
        128, 169, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 8, 101, 114, 108, 95, 101, 118, 97, 108, 97, 0,
        98, 7, 48, 80, 32, 88, 100, 0, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111,
        115, 116, 0, 0, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mixed = Term::tuple(vec![
        Term::atom("ok"),
        Term::from(-5),
        Term::from(1u64 << 40),
        Term::from(i128::MAX),
        Term::Float(2.5),
        Term::binary(vec![1, 2, 3]),
        Term::BitBinary(etf::BitBinary {
            bytes: bytes::Bytes::from_static(&[1, 0xe0]),
            bits: 3,
        }),
        Term::charlist("abc"),
        Term::improper_list(vec![Term::atom("a")], Term::atom("b")),
        Term::map(vec![(Term::atom("k"), pid.clone())]).unwrap(),
        pid,
        Term::Export(etf::Export {
            module: "m".into(),
            function: "f".into(),
            arity: 2,
        }),
        Term::Reference(etf::Reference {
            node: "n@h".into(),
            creation: 1,
            ids: vec![1, 2, 3],
        }),
        Term::Port(etf::Port {
            node: "n@h".into(),
            id: 7,
            creation: 1,
        }),
    ]);
    let big = Term::list((0..200).map(|i| Term::atom(&format!("atom{i}"))).collect());
    vec![
        etf::to_vec(&mixed).unwrap(),
        mixed
            .encode(&EncodeOptions::new().minor_version(0))
            .unwrap(),
        big.encode(&EncodeOptions::new().compression(Some(6)))
            .unwrap(),
        fun_bytes.to_vec(),
        // term_to_binary(self(), [local]) on OTP 28.
        vec![
            131, 121, 131, 191, 114, 76, 88, 106, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    ]
}

#[test]
fn every_prefix_of_a_valid_term_is_incomplete() {
    for bytes in samples() {
        if let Err(e) = etf::from_slice(&bytes) {
            panic!("{bytes:?}: {e}");
        }
        for n in 0..bytes.len() {
            let err = etf::from_slice(&bytes[..n]).unwrap_err();
            assert!(err.is_incomplete(), "prefix {n} of {bytes:?}: {err}");
            assert!(err.offset() <= n || bytes[1] == 80, "prefix {n}: {err}");
        }
    }
}

#[test]
fn every_single_byte_corruption_is_handled() {
    for bytes in samples() {
        for i in 1..bytes.len() {
            for delta in [1u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] = b[i].wrapping_add(delta);
                if let Ok(t) = etf::from_slice(&b) {
                    // Whatever decodes must encode and decode to an equal term.
                    if let Ok(again) = etf::to_vec(&t) {
                        assert_eq!(etf::from_slice(&again).unwrap(), t);
                    }
                }
            }
        }
    }
}
