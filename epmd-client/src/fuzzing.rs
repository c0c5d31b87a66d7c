//! Properties for the `fuzz` crate's targets and the corpus replay tests.
//!
//! Each function takes arbitrary bytes and panics only when a property of
//! the EPMD codecs or the server logic fails, so a fuzz target is one call
//! and `tests/fuzz_corpus.rs` replays the checked-in corpus through the same
//! code on stable Rust.

use crate::{
    Alive2Reply, ConnId, Daemon, DumpReply, KillReply, NamesReply, Outcome, PortPlease2Reply,
    Request, StopReply,
};

/// Server side: `data` is a stream of framed requests (`u16 len | body`),
/// each from its own connection, handled by one [`Daemon`] as an EPMD
/// server would. A request that decodes must re-encode to a frame that
/// decodes to it, and the daemon's every reply must decode with the client
/// decoder for that request, saying what the registry says.
pub fn server(data: &[u8]) {
    let mut daemon = Daemon::new(4369, true, 7);
    let mut rest = data;
    let mut conn = 0u64;
    while let Ok((request, used)) = Request::decode_frame(rest) {
        rest = &rest[used..];
        conn += 1;
        let mut frame = Vec::new();
        match request.encode_frame(&mut frame) {
            Ok(()) => {
                let again = Request::decode_frame(&frame).map(|(r, _)| r);
                assert_eq!(again.as_ref(), Ok(&request), "re-encoded as {frame:?}");
            }
            Err(err) => panic!("decoded {request:?} does not encode: {err}"),
        }
        // Every third connection drops whatever it registered before the next.
        if conn % 3 == 0 {
            daemon.connection_closed(ConnId(conn - 1));
        }
        let from_loopback = conn % 5 != 0;
        let outcome = daemon.handle(ConnId(conn), from_loopback, request.clone());
        check_outcome(&daemon, &request, outcome);
    }
}

fn check_outcome(daemon: &Daemon, request: &Request, outcome: Outcome) {
    let reply = match &outcome {
        Outcome::Reply(reply) | Outcome::Kill(reply) => reply,
        Outcome::Registered { reply, name } => {
            assert!(
                daemon.registry().lookup(name).is_some(),
                "{name} not registered"
            );
            reply
        }
        Outcome::Stopped { reply, .. } => reply,
        Outcome::Refuse { .. } => return,
    };
    match request {
        Request::Alive2(node) => {
            let decoded = Alive2Reply::decode(reply);
            let Ok(answer) = decoded else {
                panic!("ALIVE2 reply {reply:?} does not decode: {decoded:?}");
            };
            let registered = matches!(outcome, Outcome::Registered { .. });
            assert_eq!(answer.result() == 0, registered, "result {answer:?}");
            assert_eq!(
                matches!(answer, Alive2Reply::Extended { .. }),
                node.highest_version >= 6,
                "reply form {answer:?} for version {}",
                node.highest_version
            );
        }
        Request::PortPlease2 { name } => match PortPlease2Reply::decode(reply) {
            Ok(PortPlease2Reply::Found(found)) => {
                assert_eq!(Some(&found), daemon.registry().lookup(name), "for {name}");
            }
            Ok(PortPlease2Reply::NotFound { .. }) => {
                assert!(daemon.registry().lookup(name).is_none(), "{name} not found");
            }
            Err(err) => panic!("PORT2_RESP {reply:?} does not decode: {err}"),
        },
        Request::Names => match NamesReply::decode(reply) {
            Ok(names) => assert_eq!(names.nodes.len(), daemon.registry().len()),
            Err(err) => panic!("NAMES reply {reply:?} does not decode: {err}"),
        },
        Request::Dump => {
            if let Err(err) = DumpReply::decode(reply) {
                panic!("DUMP reply {reply:?} does not decode: {err}");
            }
        }
        Request::Kill => {
            if let Err(err) = KillReply::decode(reply) {
                panic!("KILL reply {reply:?} does not decode: {err}");
            }
        }
        Request::Stop { .. } => {
            if let Err(err) = StopReply::decode(reply) {
                panic!("STOP reply {reply:?} does not decode: {err}");
            }
        }
    }
}

/// Client side: `data[0]` picks the reply decoder, the rest is what EPMD
/// sent. A reply that decodes must re-encode to bytes that decode to it.
pub fn client(data: &[u8]) {
    let Some((&kind, reply)) = data.split_first() else {
        return;
    };
    match kind % 6 {
        0 => round_trip(reply, Alive2Reply::decode, |r, out| r.encode(out)),
        1 => round_trip(reply, PortPlease2Reply::decode, |r, out| r.encode(out)),
        2 => round_trip(reply, NamesReply::decode, |r, out| r.encode(out)),
        3 => round_trip(reply, DumpReply::decode, |r, out| r.encode(out)),
        4 => round_trip(reply, KillReply::decode, |r, out| r.encode(out)),
        _ => round_trip(reply, StopReply::decode, |r, out| r.encode(out)),
    }
}

fn round_trip<T, E>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, E>,
    encode: impl Fn(&T, &mut Vec<u8>),
) where
    T: PartialEq + std::fmt::Debug,
    E: PartialEq + std::fmt::Debug,
{
    let Ok(reply) = decode(bytes) else {
        return;
    };
    let mut out = Vec::new();
    encode(&reply, &mut out);
    assert_eq!(decode(&out), Ok(reply), "re-encoded as {out:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_then_lookups_hold_together() {
        let mut frames = Vec::new();
        let node = crate::NodeInfo::new("n1", 4000, crate::NodeType::HIDDEN);
        for request in [
            Request::Alive2(node),
            Request::PortPlease2 { name: "n1".into() },
            Request::PortPlease2 { name: "n2".into() },
            Request::Names,
            Request::Dump,
            Request::Stop { name: "n1".into() },
            Request::Kill,
        ] {
            request.encode_frame(&mut frames).unwrap();
        }
        server(&frames);
        for kind in 0..6 {
            client(&[kind]);
        }
    }
}
