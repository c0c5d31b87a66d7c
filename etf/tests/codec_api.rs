//! The public decoding API: streaming, the atom cache, bodies without a
//! version byte, LOCAL_EXT, and the error for each kind of bad input.

use bytes::Bytes;
use etf::{Atom, Category, DecodeErrorKind as K, Decoder, EncodeOptions, Term};

#[test]
fn terms_back_to_back_from_one_buffer() {
    let mut buf = Vec::new();
    let terms = [Term::atom("a"), Term::from(300), Term::binary(vec![9; 3])];
    for t in &terms {
        t.encode_to(&mut buf, &EncodeOptions::default()).unwrap();
    }
    let mut d = Decoder::new(&buf);
    for t in &terms {
        assert_eq!(&d.read_term().unwrap(), t);
    }
    assert_eq!((d.position(), d.remaining()), (buf.len(), 0));
    d.finish().unwrap();
}

#[test]
fn a_failed_read_leaves_the_position_for_a_retry() {
    let whole = etf::to_vec(&Term::tuple(vec![Term::atom("ok"), Term::from(1)])).unwrap();
    let mut d = Decoder::new(&whole[..whole.len() - 1]);
    assert!(d.read_term().unwrap_err().is_incomplete());
    assert_eq!(d.position(), 0);
    let mut d = Decoder::new(&whole);
    assert!(d.read_term().is_ok());
}

#[test]
fn bodies_and_the_atom_cache_as_in_distribution_frames() {
    // {82 0, 82 1} without version byte, then a second body.
    let frame = [104, 2, 82, 0, 82, 1, 97, 7];
    let cache = [Atom::new("reg_send"), Atom::new("net_kernel")];
    let mut d = Decoder::new(&frame).with_atom_cache(&cache);
    assert_eq!(
        d.read_body().unwrap(),
        Term::tuple(vec![Term::atom("reg_send"), Term::atom("net_kernel")])
    );
    assert_eq!(d.read_body().unwrap(), Term::from(7));
    d.finish().unwrap();

    let err = Decoder::new(&frame).read_body().unwrap_err();
    assert_eq!((err.kind(), err.offset()), (&K::NoAtomCache, 2));
    assert_eq!(err.category(), Category::Unsupported);
    let short = [Atom::new("x")];
    let err = Decoder::new(&frame)
        .with_atom_cache(&short)
        .read_body()
        .unwrap_err();
    assert_eq!(err.kind(), &K::AtomCacheIndex { index: 1, len: 1 });
    assert_eq!(err.offset(), 4);
}

#[test]
fn encode_body_has_no_version_byte() {
    let mut out = vec![112];
    etf::encode_body(&Term::atom("x"), &mut out, &EncodeOptions::default()).unwrap();
    assert_eq!(out, [112, 119, 1, b'x']);
}

#[test]
fn binaries_share_the_input_with_from_bytes() {
    let bytes = Bytes::from(etf::to_vec(&Term::binary(vec![7; 1000])).unwrap());
    let t = etf::from_bytes(bytes.clone()).unwrap();
    let b = t.as_binary().unwrap();
    // Same memory: the binary starts 6 bytes into the input.
    assert_eq!(b.as_ptr(), bytes[6..].as_ptr());
}

#[test]
fn local_ext_keeps_its_bytes() {
    // term_to_binary({self(), [make_ref()]}, [local]) style: OTP 28 output
    // of term_to_binary(self(), [local]), inside a tuple.
    let local = [
        121, 131, 191, 114, 76, 88, 106, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut bytes = vec![131, 104, 2];
    bytes.extend_from_slice(&local);
    bytes.extend_from_slice(&[97, 1]);
    let t = etf::from_slice(&bytes).unwrap();
    let Term::Tuple(items) = &t else {
        panic!("{t:?}")
    };
    assert!(matches!(&items[0], Term::Local(b) if b[..] == local));
    assert_eq!(etf::to_vec(&t).unwrap(), bytes);
}

/// (input, error kind, offset, message)
#[rustfmt::skip]
fn error_table() -> Vec<(Vec<u8>, K, usize, &'static str)> {
    vec![
        (vec![], K::Truncated { what: "version byte", needed: 1, available: 0 }, 0,
            "truncated version byte at byte 0: needs 1 bytes, 0 left"),
        (vec![130, 97, 1], K::BadVersion(130), 0, "version byte 130 instead of 131 at byte 0"),
        (vec![131, 200], K::UnknownTag(200), 1, "unknown tag 200 at byte 1"),
        (vec![131, 110, 8, 0, 1, 2], K::Truncated { what: "SMALL_BIG", needed: 8, available: 2 }, 4,
            "truncated SMALL_BIG at byte 4: needs 8 bytes, 2 left"),
        (vec![131, 97, 1, 0], K::TrailingBytes(1), 3, "1 trailing bytes after the term at byte 3"),
        (vec![131, 70, 127, 240, 0, 0, 0, 0, 0, 0], K::NonFiniteFloat, 1, "float is NaN or infinite at byte 1"),
        (vec![131, 99, b'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            K::InvalidFloatText, 1, "FLOAT text is not a number at byte 1"),
        (vec![131, 119, 2, 0xc3, 0x28], K::InvalidUtf8Atom, 1, "UTF-8 atom with invalid UTF-8 at byte 1"),
        ([vec![131, 100, 1, 0], vec![b'a'; 256]].concat(), K::AtomTooLong(256), 1,
            "atom too long (256 characters, at most 255) at byte 1"),
        (vec![131, 116, 0, 0, 0, 2, 97, 1, 106, 97, 1, 106], K::DuplicateMapKey, 1, "map has a duplicate key at byte 1"),
        (vec![131, 77, 0, 0, 0, 1, 0, 5], K::InvalidBitCount(0), 1, "BIT_BINARY with 0 bits in its last byte at byte 1"),
        (vec![131, 77, 0, 0, 0, 1, 9, 5], K::InvalidBitCount(9), 1, "BIT_BINARY with 9 bits in its last byte at byte 1"),
        (vec![131, 77, 0, 0, 0, 0, 3], K::InvalidBitCount(3), 1, "BIT_BINARY with 3 bits in its last byte at byte 1"),
        (vec![131, 90, 0, 0, 119, 1, b'a', 0, 0, 0, 1], K::InvalidReferenceLength(0), 1,
            "reference with 0 words (1..=5) at byte 1"),
        (vec![131, 90, 0, 6, 119, 1, b'a', 0, 0, 0, 1], K::InvalidReferenceLength(6), 1,
            "reference with 6 words (1..=5) at byte 1"),
        (vec![131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], K::UnexpectedTag { tag: 97, expected: "an atom" }, 2,
            "tag 97 where an atom was expected at byte 2"),
        (vec![131, 113, 119, 1, b'm', 119, 1, b'f', 98, 0, 0, 0, 1], K::UnexpectedTag { tag: 98, expected: "SMALL_INTEGER arity" }, 8,
            "tag 98 where SMALL_INTEGER arity was expected at byte 8"),
        (vec![131, 117, 0, 0, 0, 0], K::UnsupportedTag(117), 1, "unsupported tag 117 at byte 1"),
        (vec![131, 108, 0, 0, 0, 9, 97, 1], K::Truncated { what: "LIST", needed: 9, available: 2 }, 6,
            "truncated LIST at byte 6: needs 9 bytes, 2 left"),
        (vec![131, 80, 0, 0, 0, 5, 1, 2, 3], K::Zlib("deflate decompression error: incorrect header check".into()), 6,
            "corrupt zlib stream (deflate decompression error: incorrect header check) at byte 6"),
    ]
}

#[test]
fn each_bad_input_has_its_error() {
    for (input, kind, offset, message) in error_table() {
        let err = etf::from_slice(&input).unwrap_err();
        assert_eq!(err.kind(), &kind, "{input:?}");
        assert_eq!(err.offset(), offset, "{input:?}");
        assert_eq!(err.to_string(), message, "{input:?}");
        assert_eq!(
            err.is_incomplete(),
            matches!(kind, K::Truncated { .. }),
            "{input:?}"
        );
    }
}

#[test]
fn encode_errors() {
    use etf::EncodeError as E;
    let long = Term::atom(&"é".repeat(256));
    assert_eq!(etf::to_vec(&long), Err(E::AtomTooLong(256)));
    assert_eq!(
        etf::to_vec(&Term::Float(f64::NAN)).map_err(|e| matches!(e, E::NonFiniteFloat(_))),
        Err(true)
    );
    let bits = Term::BitBinary(etf::BitBinary {
        bytes: Bytes::new(),
        bits: 3,
    });
    assert_eq!(
        etf::to_vec(&bits),
        Err(E::InvalidBitBinary { bits: 3, len: 0 })
    );
    let r = Term::Reference(etf::Reference {
        node: "a".into(),
        creation: 1,
        ids: vec![],
    });
    assert_eq!(etf::to_vec(&r), Err(E::InvalidReferenceLength(0)));
    let v = EncodeOptions::new().minor_version(3);
    assert_eq!(Term::Nil.encode(&v), Err(E::InvalidMinorVersion(3)));
    let z = EncodeOptions::new().compression(Some(10));
    assert_eq!(Term::Nil.encode(&z), Err(E::InvalidCompressionLevel(10)));
    // A failed encode leaves the output as it was.
    let mut out = vec![1, 2];
    let bad = Term::tuple(vec![Term::from(1), Term::Float(f64::INFINITY)]);
    assert!(bad.encode_to(&mut out, &EncodeOptions::default()).is_err());
    assert_eq!(out, [1, 2]);
}

#[test]
fn bit_binaries_as_otp_reads_them() {
    // binary_to_term on OTP 25/28: 8 bits is a binary, 0 bytes and 0 bits is
    // <<>>, and unused low bits are cleared.
    assert_eq!(
        etf::from_slice(&[131, 77, 0, 0, 0, 1, 8, 5]).unwrap(),
        Term::binary(vec![5])
    );
    assert_eq!(
        etf::from_slice(&[131, 77, 0, 0, 0, 0, 0]).unwrap(),
        Term::binary(vec![])
    );
    let t = etf::from_slice(&[131, 77, 0, 0, 0, 1, 3, 255]).unwrap();
    assert_eq!(etf::to_vec(&t).unwrap(), [131, 77, 0, 0, 0, 1, 3, 224]);
}

#[test]
fn odd_but_valid_lists_as_otp_reads_them() {
    // binary_to_term(<<131,108,0,0,0,0,100,0,1,97>>) =:= a on OTP 25.
    assert_eq!(
        etf::from_slice(&[131, 108, 0, 0, 0, 0, 100, 0, 1, 97]).unwrap(),
        Term::atom("a")
    );
    // A LIST whose tail is a LIST is one list: [1, 2], re-encoded as STRING.
    let t = etf::from_slice(&[131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106]).unwrap();
    assert_eq!(etf::to_vec(&t).unwrap(), [131, 107, 0, 2, 1, 2]);
    // STRING of length 0 is [].
    assert_eq!(etf::from_slice(&[131, 107, 0, 0]).unwrap(), Term::Nil);
}

#[test]
fn a_map_keyed_by_atoms_is_searched_with_text() {
    let mut names = std::collections::HashMap::new();
    names.insert(etf::Atom::new("sink"), 1);
    assert_eq!(names.get("sink"), Some(&1));
    assert_eq!(names.get("echo"), None);
}
