//! Properties of the message codecs: every request and reply survives
//! encode -> decode, and no input makes a decoder panic.

use epmd_client::{
    Alive2Reply, DumpEntry, DumpReply, DumpState, KillReply, NameEntry, NamesReply, NodeInfo,
    NodeType, PortPlease2Reply, Request, StopReply,
};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    // EPMD names: 1..=255 characters, no NUL; any Unicode otherwise.
    proptest::collection::vec(any::<char>().prop_filter("no NUL", |c| *c != '\0'), 1..40)
        .prop_map(|chars| chars.into_iter().collect())
}

fn node() -> impl Strategy<Value = NodeInfo> {
    (
        name(),
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(name, port, ty, protocol, high, low, extra)| NodeInfo {
            name,
            port,
            node_type: NodeType(ty),
            protocol,
            highest_version: high,
            lowest_version: low,
            extra,
        })
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        node().prop_map(Request::Alive2),
        name().prop_map(|name| Request::PortPlease2 { name }),
        Just(Request::Names),
        Just(Request::Dump),
        Just(Request::Kill),
        name().prop_map(|name| Request::Stop { name }),
    ]
}

/// Names as they appear in NAMES/DUMP text: no newline, NUL or `>`.
fn line_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.@ -]{1,20}"
}

proptest! {
    #[test]
    fn requests_round_trip(request in request()) {
        let mut frame = Vec::new();
        request.encode_frame(&mut frame).expect("encodes");
        prop_assert_eq!(Request::decode_frame(&frame), Ok((request, frame.len())));
    }

    #[test]
    fn replies_round_trip(
        node in node(),
        result in 1u8..,
        creation in any::<u32>(),
        port in any::<u32>(),
        entries in proptest::collection::vec((line_name(), any::<u16>(), any::<i32>(), any::<bool>()), 0..8),
    ) {
        let mut out = Vec::new();
        let found = PortPlease2Reply::Found(node);
        found.encode(&mut out);
        prop_assert_eq!(PortPlease2Reply::decode(&out), Ok(found));

        for reply in [
            Alive2Reply::Extended { result, creation },
            Alive2Reply::Legacy { result, creation: creation as u16 },
        ] {
            out.clear();
            reply.encode(&mut out);
            prop_assert_eq!(Alive2Reply::decode(&out), Ok(reply));
        }

        let names = NamesReply {
            epmd_port: port,
            nodes: entries.iter().map(|(name, port, ..)| NameEntry { name: name.clone(), port: *port }).collect(),
        };
        out.clear();
        names.encode(&mut out);
        prop_assert_eq!(NamesReply::decode(&out), Ok(names));

        let dump = DumpReply {
            epmd_port: port,
            entries: entries
                .iter()
                .map(|(name, port, fd, active)| DumpEntry {
                    state: if *active { DumpState::Active } else { DumpState::Unused },
                    name: name.clone(),
                    port: *port,
                    fd: *fd,
                })
                .collect(),
        };
        out.clear();
        dump.encode(&mut out);
        prop_assert_eq!(DumpReply::decode(&out), Ok(dump));
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = Request::decode(&bytes);
        let _ = Request::decode_frame(&bytes);
        let _ = Alive2Reply::decode(&bytes);
        let _ = PortPlease2Reply::decode(&bytes);
        let _ = NamesReply::decode(&bytes);
        let _ = DumpReply::decode(&bytes);
        let _ = KillReply::decode(&bytes);
        let _ = StopReply::decode(&bytes);
    }

    #[test]
    fn decoded_requests_reencode_to_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 1..64)) {
        // Strict decoding: whatever decodes re-encodes byte for byte, except
        // the optional NUL after a PORT_PLEASE2/STOP name.
        if let Ok(request) = Request::decode(&bytes) {
            let mut out = Vec::new();
            request.encode(&mut out).expect("a decoded request encodes");
            let trimmed = match request {
                Request::PortPlease2 { .. } | Request::Stop { .. } => bytes.strip_suffix(&[0]).unwrap_or(&bytes),
                _ => &bytes,
            };
            prop_assert_eq!(out.as_slice(), trimmed);
        }
    }
}
