//! What a hostile peer can do to one connection in the connected phase,
//! at sizes beyond what the fuzzers reach (their inputs stop at 64 KiB):
//! every attack ends in a typed error or in bounded memory, and ticks alone
//! cannot wedge the connection.

use dist_proto::{
    AtomCacheError, Connection, ConnectionConfig, ConnectionError, ConnectionEvent, DistFlags,
    FragmentError, FragmentLimits, FrameDecoder, FrameError, LengthPrefix,
};
use std::time::Instant;

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn header_frames(config: ConnectionConfig) -> Connection {
    let flags = DistFlags::default_hidden() | DistFlags::HEADER_FRAMES;
    Connection::new(flags, config, Instant::now())
}

/// `131,70 | seq | frag_id | part`.
fn continuation(seq: u64, frag_id: u64, part: &[u8]) -> Vec<u8> {
    let mut frame = vec![131, 70];
    frame.extend_from_slice(&seq.to_be_bytes());
    frame.extend_from_slice(&frag_id.to_be_bytes());
    frame.extend_from_slice(part);
    framed(&frame)
}

/// `131,69 | seq | frag_id | no cache refs | part`.
fn first_fragment(seq: u64, frag_id: u64, part: &[u8]) -> Vec<u8> {
    let mut frame = vec![131, 69];
    frame.extend_from_slice(&seq.to_be_bytes());
    frame.extend_from_slice(&frag_id.to_be_bytes());
    frame.push(0);
    frame.extend_from_slice(part);
    framed(&frame)
}

#[test]
fn a_length_of_four_billion_is_refused_before_anything_is_buffered() {
    let now = Instant::now();
    let mut c = header_frames(ConnectionConfig::default());
    let err = c.handle_input(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3], now);
    assert!(matches!(
        err,
        Err(ConnectionError::Frame(FrameError::TooLong {
            len: 0xffff_ffff,
            ..
        }))
    ));
    // The connection stays failed with the same error.
    assert!(matches!(
        c.handle_input(&[0, 0, 0, 0], now),
        Err(ConnectionError::Frame(FrameError::TooLong { .. }))
    ));
}

#[test]
fn an_announced_frame_reserves_nothing_until_its_bytes_arrive() {
    let mut frames = FrameDecoder::new(LengthPrefix::U32, 128 << 20);
    frames.handle_input(&(100u32 << 20).to_be_bytes());
    frames.handle_input(b"0123456789");
    assert_eq!(frames.next_frame(), Ok(None));
    assert_eq!(frames.buffered(), 14);
}

#[test]
fn a_fragment_sequence_that_never_completes_is_cut_at_the_buffer_limit() {
    let now = Instant::now();
    let limits = FragmentLimits {
        max_in_flight: 4,
        max_buffered: 1 << 20,
    };
    let mut c = header_frames(ConnectionConfig {
        fragments: limits,
        ..ConnectionConfig::default()
    });
    let part = vec![0u8; 64 << 10];
    c.handle_input(&first_fragment(1, u64::MAX, &part), now)
        .expect("first fragment");
    let mut frag_id = u64::MAX - 1;
    let err = loop {
        match c.handle_input(&continuation(1, frag_id, &part), now) {
            Ok(()) => frag_id -= 1,
            Err(err) => break err,
        }
        assert!(u64::MAX - frag_id <= 16, "more than 1 MiB was accepted");
    };
    assert!(matches!(
        err,
        ConnectionError::Fragment(FragmentError::TooMuchBuffered { limit }) if limit == 1 << 20
    ));
}

#[test]
fn unfinished_sequences_are_limited_in_number() {
    let now = Instant::now();
    let mut c = header_frames(ConnectionConfig {
        fragments: FragmentLimits {
            max_in_flight: 8,
            max_buffered: 1 << 20,
        },
        ..ConnectionConfig::default()
    });
    for seq in 0..8 {
        c.handle_input(&first_fragment(seq, 2, b"x"), now)
            .expect("within the limit");
    }
    assert!(matches!(
        c.handle_input(&first_fragment(8, 2, b"x"), now),
        Err(ConnectionError::Fragment(FragmentError::TooManyInFlight {
            limit: 8
        }))
    ));
}

#[test]
fn references_to_the_far_end_of_the_atom_cache_are_errors() {
    let now = Instant::now();
    // 255 references, all to segment 7, index 255, none of them new.
    let mut frame = vec![131, 68, 255];
    frame.extend(std::iter::repeat_n(0x77, 128));
    frame.extend(std::iter::repeat_n(255, 255));
    let mut c = header_frames(ConnectionConfig::default());
    assert!(matches!(
        c.handle_input(&framed(&frame), now),
        Err(ConnectionError::AtomCache(AtomCacheError::UnknownEntry {
            segment: 7,
            index: 255
        }))
    ));

    // A term's ATOM_CACHE_REF beyond the header's references.
    let mut c = header_frames(ConnectionConfig::default());
    let frame = [131, 68, 0, 104, 1, 82, 255];
    assert!(matches!(
        c.handle_input(&framed(&frame), now),
        Err(ConnectionError::Decode { .. })
    ));
}

#[test]
fn a_flood_of_ticks_is_absorbed_and_the_connection_still_works() {
    let now = Instant::now();
    let mut c = header_frames(ConnectionConfig::default());
    let flood = vec![0u8; 4 * 1_000_000];
    c.handle_input(&flood, now).expect("ticks are fine");
    let ticks = std::iter::from_fn(|| c.poll_event())
        .filter(|e| *e == ConnectionEvent::Tick)
        .count();
    assert_eq!(ticks, 1_000_000);

    // A real message after the flood: SEND to a pid, payload `ok`.
    let pid = [
        88, 119, 3, b'a', b'@', b'h', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
    ];
    let mut frame = vec![131, 68, 0, 104, 3, 97, 2, 119, 0];
    frame.extend_from_slice(&pid);
    frame.extend_from_slice(&[119, 2, b'o', b'k']);
    c.handle_input(&framed(&frame), now).expect("message");
    assert!(matches!(
        c.poll_event(),
        Some(ConnectionEvent::Message {
            payload: Some(_),
            ..
        })
    ));
}

#[test]
fn garbage_fails_the_connection_for_good() {
    let now = Instant::now();
    let mut c = header_frames(ConnectionConfig::default());
    let first = c.handle_input(&framed(b"GET / HTTP/1.1\r\n"), now);
    assert!(matches!(first, Err(ConnectionError::UnknownFrame { .. })));
    assert!(matches!(
        c.handle_input(&[0, 0, 0, 0], now),
        Err(ConnectionError::UnknownFrame { .. })
    ));
    assert_eq!(c.poll_timeout(), None);
}
