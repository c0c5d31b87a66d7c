//! The streaming reader (`etf::stream`): its events, whole values at any
//! point, compressed input, and bounded memory and errors on hostile input.

use etf::stream::{Event, Kind, Reader};
use etf::{DecodeErrorKind, EncodeOptions, Term};

fn term(text: &str) -> Term {
    text.parse().expect("test term parses")
}

/// The events of `bytes`, rendered for comparison.
fn events(bytes: &[u8]) -> Vec<String> {
    let mut reader = Reader::new(bytes);
    let mut seen = Vec::new();
    while let Some(event) = reader.next_event().expect("valid dump") {
        seen.push(format!("{event:?}"));
    }
    seen
}

#[test]
fn events_follow_the_bytes() {
    let dump = etf::to_vec(&term(
        r#"{ok, [1, <<"ab">>, #{k => 2.5}], "xy", [a | b], []}"#,
    ))
    .unwrap();
    assert_eq!(
        events(&dump),
        [
            "TupleStart(5)",
            "Atom(\"ok\")",
            "ListStart(3)",
            "Int(1)",
            "Binary([97, 98])",
            "MapStart(1)",
            "Atom(\"k\")",
            "Float(2.5)",
            "MapEnd",
            "ListEnd",
            "String([120, 121])",
            "ListStart(1)",
            "Atom(\"a\")",
            "ImproperTail",
            "Atom(\"b\")",
            "ListEnd",
            "Nil",
            "TupleEnd",
        ]
    );
}

/// Events and `read_term` agree with `from_slice` for every kind of term
/// and encoding choice, the input arriving a few bytes per read.
#[test]
fn events_rebuild_what_the_decoder_reads() {
    let texts = [
        "[]",
        "{}",
        "#{}",
        "[1, 2, 3]",
        "[1000, 2 | 3]",
        "{'ö中', <<\"héllo\"/utf8>>, \"中文\", caf, 'Ünïcode'}",
        "[0, -1, 255, 256, 2147483648, -18446744073709551616, 0.1, -2.5e-300]",
        "#{1 => int, 1.0 => float, k => atom, {t} => tuple, <<\"k\">> => bin}",
        "{#Pid<'a@b'.5.1.9>, #Ref<'a@b'.1.2.3.7>, fun lists:sort/1, <<5:3>>, [a | b]}",
        "#Fun<m,1,2,16#000102030405060708090A0B0C0D0E0F,0,0,#Pid<'a@b'.1.2.3>,[x, {y}]>",
        "#Port<'a@b'.7.1>",
        "[[[[[[deep | tail], 1]]]]]",
        "#nr:point{x = 1, y = [2, 3]}",
    ];
    for text in texts {
        let value = term(text);
        for opts in [
            EncodeOptions::new(),
            EncodeOptions::new().minor_version(0),
            EncodeOptions::new().compression(Some(6)),
        ] {
            let Ok(dump) = value.encode(&opts) else {
                continue;
            };
            etf::fuzzing::stream(&dump);
        }
    }
    // A list written in several LIST_EXT segments and a STRING_EXT tail
    // reads as one list, as the decoder reads it.
    let chained = [
        131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 0, 108, 0, 0, 0, 1, 100, 0, 1, 120, 107, 0, 2,
        1, 2,
    ];
    etf::fuzzing::stream(&chained);
    assert_eq!(
        events(&chained),
        [
            "ListStart(1)",
            "Int(1)",
            "Atom(\"x\")",
            "Int(1)",
            "Int(2)",
            "ListEnd"
        ]
    );
}

#[test]
fn each_element_of_a_list_reads_whole() {
    let rows: Vec<Term> = (0..1000)
        .map(|i| term(&format!("#{{id => {i}, name => <<\"row{i}\">>}}")))
        .collect();
    let dump = etf::to_vec(&Term::list(rows.clone())).unwrap();
    let mut reader = Reader::new(&dump[..]);
    assert_eq!(reader.peek_kind().unwrap(), Some(Kind::List));
    assert_eq!(reader.next_event().unwrap(), Some(Event::ListStart(1000)));
    let mut read = Vec::new();
    while let Some(row) = reader.read_term().unwrap() {
        read.push(row);
    }
    assert_eq!(read, rows);
    assert_eq!(reader.depth(), 1);
    assert_eq!(reader.next_event().unwrap(), Some(Event::ListEnd));
    assert_eq!(reader.next_event().unwrap(), None);
    assert_eq!(reader.position(), dump.len());
}

#[test]
fn small_terms_read_whole_and_large_ones_stream() {
    let big = Term::Tuple(vec![Term::Binary(vec![7; 5000].into()), Term::Int(1)]);
    let dump = etf::to_vec(&big).unwrap();
    let mut reader = Reader::new(&dump[..]);
    assert_eq!(reader.read_small_term(1000).unwrap(), None);
    assert_eq!(reader.position(), 1, "nothing consumed");
    assert_eq!(reader.next_event().unwrap(), Some(Event::TupleStart(2)));
    assert_eq!(reader.read_small_term(1000).unwrap(), None);
    assert!(matches!(reader.next_event().unwrap(), Some(Event::Binary(b)) if b.len() == 5000));
    assert_eq!(reader.read_small_term(1000).unwrap(), Some(Term::Int(1)));
    assert_eq!(reader.next_event().unwrap(), Some(Event::TupleEnd));
}

#[test]
fn a_million_levels_stream_without_recursion() {
    const DEPTH: usize = 1_000_000;
    let mut dump = vec![131];
    for _ in 0..DEPTH {
        dump.extend_from_slice(&[104, 1]);
    }
    dump.push(106);
    let deepest = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let mut reader = Reader::new(&dump[..]);
            let mut deepest = 0;
            while reader.next_event().expect("valid").is_some() {
                deepest = deepest.max(reader.depth());
            }
            deepest
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(deepest, DEPTH);
}

/// Errors name what is wrong and where, as `from_slice` does, and the
/// reader refuses to go on after one.
#[test]
fn errors_name_the_byte_offset() {
    let table: [(&[u8], &str, usize); 6] = [
        (&[130, 106], "version byte 130", 0),
        (&[131, 104, 2, 97, 1, 255], "unknown tag 255", 5),
        (&[131, 106, 106], "trailing", 2),
        (&[131, 104, 2, 97], "truncated", 3),
        (&[131, 82, 0], "ATOM_CACHE_REF", 1),
        (
            &[131, 70, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0],
            "NaN or infinite",
            1,
        ),
    ];
    for (bytes, needle, at) in table {
        let mut reader = Reader::new(bytes);
        let err = loop {
            match reader.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("{bytes:?} read"),
                Err(err) => break err,
            }
        };
        let decode = err.as_decode().expect("a decode error");
        assert!(decode.to_string().contains(needle), "{decode}");
        assert_eq!(decode.offset(), at, "{decode}");
        assert_eq!(etf::from_slice(bytes).unwrap_err().offset(), at);
        assert!(reader.next_event().is_err(), "the error repeats");
    }
}

/// A length of 4 GiB in a short input fails at the end of the input with
/// no more memory than the input holds (the test would abort otherwise).
#[test]
fn declared_lengths_allocate_nothing() {
    let huge = [131, 109, 0xff, 0xff, 0xff, 0xff, 1, 2, 3];
    let err = Reader::new(&huge[..]).next_event().unwrap_err();
    assert!(err.as_decode().is_some_and(|e| e.is_incomplete()), "{err}");
    let many = [131, 108, 0xff, 0xff, 0xff, 0xff, 106];
    let mut reader = Reader::new(&many[..]);
    assert_eq!(
        reader.next_event().unwrap(),
        Some(Event::ListStart(u32::MAX as usize))
    );
    assert_eq!(reader.next_event().unwrap(), Some(Event::Nil));
    assert!(reader
        .next_event()
        .unwrap_err()
        .as_decode()
        .is_some_and(|e| e.is_incomplete()));
}

#[test]
fn compressed_dumps_inflate_as_they_are_read() {
    let value = Term::list(
        (0..10_000)
            .map(|i| term(&format!("{{row, {i}, <<\"abcabcabc\">>}}")))
            .collect(),
    );
    let dump = value
        .encode(&EncodeOptions::new().compression(Some(6)))
        .unwrap();
    assert_eq!(dump[1], 80);
    let mut reader = Reader::new(&dump[..]);
    assert_eq!(reader.read_term().unwrap(), Some(value));
    assert_eq!(reader.next_event().unwrap(), None);

    let mut corrupt = dump.clone();
    let at = corrupt.len() / 2;
    corrupt[at] ^= 0x55;
    let mut reader = Reader::new(&corrupt[..]);
    let failed = std::iter::from_fn(|| Some(reader.next_event().map(|e| e.is_some())))
        .find(|r| !matches!(r, Ok(true)));
    assert!(matches!(failed, Some(Err(_))), "corruption is found");
}

/// A compressed term declaring more than the limit (64 MiB by default, as
/// for `from_slice`) fails at its size field before anything is inflated.
#[test]
fn compressed_terms_declaring_too_much_are_refused() {
    let mut bytes = vec![131, 80, 0xff, 0xff, 0xff, 0xff];
    bytes.extend_from_slice(&zlib_bomb(1000));
    let default = etf::DecodeOptions::DEFAULT_MAX_DECOMPRESSED_SIZE;
    let refused = |limit| DecodeErrorKind::DecompressedTooLarge {
        declared: u32::MAX.into(),
        limit,
    };
    let cases = [
        (Reader::new(&bytes[..]), default),
        (Reader::new(&bytes[..]).max_decompressed_size(1000), 1000),
    ];
    for (mut reader, limit) in cases {
        let err = reader.next_event().unwrap_err();
        let err = err.as_decode().expect("a decode error");
        assert_eq!((err.kind(), err.offset()), (&refused(limit), 2), "{err}");
    }
    let err = Reader::new(&bytes[..]).read_term().unwrap_err();
    assert_eq!(err.as_decode().map(|e| e.kind()), Some(&refused(default)));
    let from_slice = etf::from_slice(&bytes).unwrap_err();
    assert_eq!(
        (from_slice.kind(), from_slice.offset()),
        (&refused(default), 2)
    );
}

/// A zlib bomb declaring 1000 bytes, whose 1.7 MB inflate to a binary of
/// 256 MiB (and never end): the reader stops as soon as the body passes its
/// declared size, having read a chunk of the input, not the 256 MiB.
#[test]
fn a_zlib_bomb_stops_at_its_declared_size() {
    let mut bytes = vec![131, 80, 0, 0, 0x03, 0xe8];
    bytes.extend_from_slice(&zlib_bomb(1 << 20));
    let expected = DecodeErrorKind::DecompressedSizeMismatch { declared: 1000 };
    for whole in [false, true] {
        let mut input = Counted {
            data: &bytes,
            read: 0,
        };
        let mut reader = Reader::new(&mut input);
        let err = if whole {
            reader.read_term().unwrap_err()
        } else {
            reader.next_event().unwrap_err()
        };
        let err = err.as_decode().expect("a decode error");
        assert_eq!((err.kind(), err.offset()), (&expected, 1000), "{err}");
        drop(reader);
        assert!(
            input.read < bytes.len() / 4,
            "read {} bytes of {}",
            input.read,
            bytes.len()
        );
    }
    assert_eq!(etf::from_slice(&bytes).unwrap_err().kind(), &expected);
}

/// A reader counting the bytes taken from it.
struct Counted<'a> {
    data: &'a [u8],
    read: usize,
}

impl std::io::Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (&self.data[self.read..]).read(buf)?;
        self.read += n;
        Ok(n)
    }
}

/// A zlib stream, unfinished, of one fixed-Huffman block that inflates to
/// a BINARY of 256 MiB (tag, length, zeros): literals for the header and
/// one zero, then `matches` copies of 258 bytes at distance 1, 13 bits
/// each (a ratio of about 160).
fn zlib_bomb(matches: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        /// `len` bits of `value`, first bit lowest.
        fn put(&mut self, value: u32, len: u32) {
            self.acc |= u64::from(value) << self.n;
            self.n += len;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code, first bit highest.
        fn code(&mut self, code: u32, len: u32) {
            self.put(code.reverse_bits() >> (32 - len), len);
        }
        /// A literal byte below 144 (an 8-bit code).
        fn literal(&mut self, byte: u8) {
            assert!(byte < 144);
            self.code(0x30 + u32::from(byte), 8);
        }
    }
    // zlib header: deflate, 32 KiB window, no dictionary, check bits.
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    bits.put(0, 1); // not the final block
    bits.put(1, 2); // fixed Huffman codes
    for byte in [109, 0x10, 0, 0, 0, 0] {
        bits.literal(byte); // BINARY, 256 MiB, then the first zero
    }
    for _ in 0..matches {
        bits.code(0b1100_0101, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1 (code 0)
    }
    bits.put(0, 7);
    bits.out
}
