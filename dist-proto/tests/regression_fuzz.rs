//! Inputs the fuzzers found, kept as tests. Each names its target, what
//! went wrong and what is right.

use dist_proto::handshake::{HandshakeMessage, SendName};

/// `handshake_message`: a send_name with a byte after the name. OTP's
/// `dist_util` ignores data after the name in `N` (room for extensions),
/// and so must we; the harness wrongly expected a strict read.
#[test]
fn send_name_ignores_data_after_the_name() {
    let input = [
        0, 78, 0, 42, 0, 45, 7, 223, 127, 189, 107, 2, 85, 67, 0, 19, 102, 117, 122, 122, 115, 101,
        101, 85, 67, 0, 19, 5, 114, 29, 102, 30, 117, 122, 122, 159,
    ];
    dist_proto::fuzzing::handshake_message(&input);

    let message = &input[1..];
    let read = SendName::read(message).expect("trailing data is ignored");
    assert_eq!(read.name.len(), 19);
    let mut out = Vec::new();
    read.encode(&mut out);
    assert_eq!(out, message[..message.len() - 1]);
}
