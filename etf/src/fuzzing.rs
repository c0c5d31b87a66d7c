//! Properties for the `fuzz` crate's targets and the corpus replay tests.
//!
//! Each function takes arbitrary bytes and panics only when a property of
//! the codec fails, so a fuzz target is one call and `tests/fuzz_corpus.rs`
//! replays the checked-in corpus through the same code on stable Rust.

use crate::{DecodeErrorKind, DecodeOptions, Decoder, EncodeError, EncodeOptions, Term};
use bytes::Bytes;
use std::io::Write;

/// Decodes `data` as `term_to_binary` output. Borrowed and shared input
/// must agree, and a term that decodes must re-encode, under every set of
/// encoding options, to bytes that decode to an equal term.
pub fn decode(data: &[u8]) {
    let borrowed = crate::from_slice(data);
    let shared = crate::from_bytes(Bytes::copy_from_slice(data));
    assert_eq!(borrowed, shared, "borrowed and shared decoding disagree");
    let Ok(term) = borrowed else {
        return;
    };
    check_depth_limit(data, &term);
    round_trip(&term);
}

/// Decodes `data` flat ([`crate::flat::FlatTerm`]) and as a tree: both
/// accept or both reject (with the same error kind), an accepted term
/// converts back to an equal term that prints the same, every node can be
/// visited, and a depth limit is honoured alike.
pub fn flat(data: &[u8]) {
    use crate::flat::FlatTerm;
    let tree = crate::from_slice(data);
    let flat = FlatTerm::from_slice(data);
    let shared = FlatTerm::from_bytes(Bytes::copy_from_slice(data));
    match (&tree, &flat, &shared) {
        (Ok(t), Ok(f), Ok(s)) => {
            let back = f.to_term();
            assert_eq!(&back, t, "flat decoding gives another term");
            assert_eq!(&s.to_term(), t, "shared flat decoding gives another term");
            assert_eq!(
                back.to_string(),
                t.to_string(),
                "flat term prints differently"
            );
            walk(f.root());
        }
        (Err(t), Err(f), Err(s)) => {
            assert!(
                same_failure(t.kind(), f.kind()),
                "flat decoding fails differently: {t:?} / {f:?}"
            );
            assert!(
                same_failure(t.kind(), s.kind()),
                "shared flat decoding fails differently: {t:?} / {s:?}"
            );
        }
        _ => panic!("flat and tree decoding disagree: {tree:?} / {flat:?} / {shared:?}"),
    }
    let opts = DecodeOptions::new().max_depth(usize::from(data.len() as u8 % 5));
    let tree = Term::decode(data, &opts);
    let flat = FlatTerm::decode_with(Bytes::copy_from_slice(data), &opts);
    match (&tree, &flat) {
        (Ok(t), Ok(f)) => assert_eq!(&f.to_term(), t, "depth-limited decodings differ"),
        (Err(t), Err(f)) => assert!(
            same_failure(t.kind(), f.kind()),
            "depth-limited errors differ: {t:?} / {f:?}"
        ),
        _ => panic!("depth-limited decodings disagree: {tree:?} / {flat:?}"),
    }
}

/// The same error kind; for truncated input, the same variant (which field
/// is reported missing depends on how many fields a decoder reads at once).
fn same_failure(a: &DecodeErrorKind, b: &DecodeErrorKind) -> bool {
    match (a, b) {
        (DecodeErrorKind::Truncated { .. }, DecodeErrorKind::Truncated { .. }) => true,
        _ => a == b,
    }
}

/// Visits every node of a flat term through its accessors, iteratively
/// (the elements of lists through [`crate::flat::TermRef::list_items`]).
fn walk(root: crate::flat::TermRef<'_>) {
    let mut pending = vec![root];
    while let Some(t) = pending.pop() {
        let _ = (t.as_i64(), t.as_f64(), t.as_str(), t.as_binary());
        let _ = (t.as_pid(), t.as_port(), t.as_reference(), t.as_export());
        if let Some(items) = t.tuple() {
            pending.extend(items);
        } else if let Some(items) = t.list_items() {
            // Every list, STRING included, has as many items as its length.
            assert_eq!(Some(items.len()), t.len(), "list items miscounted");
            assert_eq!(items.clone().count(), items.len(), "list items miscounted");
            pending.extend(items.filter_map(|item| item.as_term_ref()));
            pending.extend(t.list_tail());
        } else if let Some(entries) = t.map() {
            for (k, v) in entries {
                pending.push(k);
                pending.push(v);
            }
        }
    }
}

/// Wraps `data[1..]` as the zlib-compressed body of a term (tag 80), so the
/// fuzzer explores terms behind the decompressor. `data[0]` chooses the
/// declared uncompressed size: right, or off by a little or a lot.
/// Whatever decodes must equal the same body decoded uncompressed.
pub fn decode_compressed(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let declared = declared_size(mode, body.len());
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let Ok(()) = z.write_all(body) else { return };
    let Ok(compressed) = z.finish() else { return };
    let mut bytes = vec![crate::VERSION, crate::decode::tag::COMPRESSED];
    bytes.extend_from_slice(&declared.to_be_bytes());
    bytes.extend_from_slice(&compressed);
    decode(&bytes);

    let Ok(term) = crate::from_slice(&bytes) else {
        return;
    };
    assert_eq!(
        usize::try_from(declared).ok(),
        Some(body.len()),
        "a wrong declared size was accepted"
    );
    let mut plain = vec![crate::VERSION];
    plain.extend_from_slice(body);
    assert_eq!(
        crate::from_slice(&plain).as_ref(),
        Ok(&term),
        "compressed and plain bodies differ"
    );
}

fn declared_size(mode: u8, len: usize) -> u32 {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    match mode % 8 {
        0 => len.wrapping_add(1),
        1 => len.wrapping_sub(1),
        2 => u32::MAX,
        3 => len ^ u32::from(mode),
        _ => len,
    }
}

/// How much larger than its text a term the `term_syntax` target parses
/// may be: sized segments (`<<0:80000000>>`) would otherwise spend each run
/// printing and reparsing megabytes, and the fuzzer would report timeouts
/// instead of exploring. The limit itself is tested in `etf/tests`.
const FUZZ_BINARY_GROWTH: usize = 64 << 10;

/// Parses `data` (when UTF-8) as an Erlang term. A term that parses must
/// print, both compactly and laid out, as text that parses to an equal
/// term, and must survive the binary codec.
pub fn term_syntax(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = crate::ParseOptions::new().max_binary_growth(FUZZ_BINARY_GROWTH);
    let Ok(term) = options.parse(text) else {
        return;
    };
    // A printed binary is longer than its bytes: the default limits take it.
    let reparse = crate::ParseOptions::new();
    let printed = term.to_string();
    assert_eq!(
        reparse.parse(&printed).as_ref(),
        Ok(&term),
        "printed as {printed}"
    );
    let pretty = format!("{:#}", term);
    assert_eq!(
        reparse.parse(&pretty).as_ref(),
        Ok(&term),
        "laid out as {pretty}"
    );
    round_trip(&term);
}

/// The encoding options a decoded term must survive.
fn encodings() -> [EncodeOptions; 5] {
    [
        EncodeOptions::new(),
        EncodeOptions::new().minor_version(1),
        EncodeOptions::new().minor_version(0),
        EncodeOptions::new().deterministic(true),
        EncodeOptions::new().compression(Some(6)),
    ]
}

fn round_trip(term: &Term) {
    for opts in encodings() {
        let bytes = match term.encode(&opts) {
            Ok(bytes) => bytes,
            Err(err) => panic!("{term:?} does not encode with {opts:?}: {err}"),
        };
        match crate::from_slice(&bytes) {
            Ok(again) => assert_eq!(&again, term, "changed by a round trip with {opts:?}"),
            Err(err) => panic!("our encoding {bytes:?} of {term:?} ({opts:?}) fails: {err}"),
        }
    }
    // With native records off, a term encodes as before or is refused for
    // a record, never for anything else.
    let plain = term.encode(&EncodeOptions::new());
    match term.encode(&EncodeOptions::new().native_records(false)) {
        Ok(bytes) => assert_eq!(Ok(bytes), plain, "native_records(false) changed the bytes"),
        Err(EncodeError::NativeRecordsOff { .. }) => {}
        Err(err) => panic!("{term:?} fails without native records: {err}"),
    }
}

/// Under a tighter depth limit a term either decodes the same or fails
/// for its depth, never for anything else.
fn check_depth_limit(data: &[u8], term: &Term) {
    for limit in [0, 1, 3, 16] {
        let opts = DecodeOptions::new().max_depth(limit);
        match Decoder::new(data).with_options(opts).read_term() {
            Ok(again) => assert_eq!(&again, term, "differs under max_depth {limit}"),
            Err(err) => assert!(
                matches!(err.kind(), DecodeErrorKind::TooDeep(_)),
                "max_depth {limit} fails with {err}"
            ),
        }
    }
}

/// Reads `data` with the streaming [`crate::stream::Reader`], fed a few
/// bytes per read, and builds the term back from its events; reads it
/// again whole with `read_term`. Whatever [`crate::from_slice`] decodes the
/// stream must give equal both ways, and what the stream accepts the
/// decoder must accept too (the same limit on a compressed term's size
/// included), unless a map has a duplicate key, which only a whole read
/// can see.
pub fn stream(data: &[u8]) {
    let decoded = crate::from_slice(data);
    let built = crate::stream::build::build(&mut crate::stream::Reader::new(Trickle::new(data)));
    let mut whole_reader = crate::stream::Reader::new(Trickle::new(data));
    let whole = whole_reader
        .read_term()
        .and_then(|t| whole_reader.next_event().map(|end| (t, end.is_none())));
    match &decoded {
        Ok(term) => {
            assert_eq!(built.as_ref().ok(), Some(&Some(term.clone())), "events");
            match whole {
                Ok((Some(t), true)) => assert_eq!(&t, term, "read_term"),
                other => panic!("read_term of a valid term: {other:?}"),
            }
        }
        Err(err) => {
            if let Ok(Some(term)) = &built {
                panic!("the stream accepted {term:?}, the decoder said {err}");
            }
            if let Ok((Some(term), true)) = &whole {
                panic!("read_term accepted {term:?}, the decoder said {err}");
            }
        }
    }
}

/// A reader that hands out its bytes 1 to 7 at a time, so that every
/// boundary inside a term falls between two reads somewhere.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8]) -> Trickle<'a> {
        Trickle { data, step: 0 }
    }
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
