//! The replies to ALIVE2, PORT_PLEASE2, KILL and STOP (NAMES and DUMP are in
//! `listing`). Replies carry no length prefix and no common tag, so each
//! type is decoded by the caller that knows what it asked.

use crate::error::DecodeError;
use crate::node::NodeInfo;
use crate::reader::Reader;

/// ALIVE2_X_RESP: the reply to ALIVE2_REQ with a 32-bit creation (high >= 6).
pub const ALIVE2_X_RESP: u8 = 118;
/// ALIVE2_RESP: the reply to ALIVE2_REQ with a 16-bit creation (high < 6).
pub const ALIVE2_RESP: u8 = 121;
/// PORT2_RESP: the reply to PORT_PLEASE2_REQ.
pub const PORT2_RESP: u8 = 119;

/// The reply to ALIVE2_REQ. EPMD picks the form from the highest version in
/// the request: 6 or more gets [`Alive2Reply::Extended`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alive2Reply {
    /// ALIVE2_X_RESP `118 | result | u32 creation`.
    Extended {
        /// 0 on success; 1 when the name is taken or invalid.
        result: u8,
        /// The node's creation (4.. when assigned by OTP's epmd).
        creation: u32,
    },
    /// ALIVE2_RESP `121 | result | u16 creation`.
    Legacy {
        /// 0 on success; 1 when the name is taken or invalid.
        result: u8,
        /// The node's creation (1..=3 when assigned by OTP's epmd).
        creation: u16,
    },
}

impl Alive2Reply {
    /// The result byte: 0 means registered.
    pub fn result(&self) -> u8 {
        match *self {
            Alive2Reply::Extended { result, .. } | Alive2Reply::Legacy { result, .. } => result,
        }
    }

    /// The creation, widened to 32 bits.
    pub fn creation(&self) -> u32 {
        match *self {
            Alive2Reply::Extended { creation, .. } => creation,
            Alive2Reply::Legacy { creation, .. } => u32::from(creation),
        }
    }

    /// Appends the reply.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Alive2Reply::Extended { result, creation } => {
                out.extend_from_slice(&[ALIVE2_X_RESP, result]);
                out.extend_from_slice(&creation.to_be_bytes());
            }
            Alive2Reply::Legacy { result, creation } => {
                out.extend_from_slice(&[ALIVE2_RESP, result]);
                out.extend_from_slice(&creation.to_be_bytes());
            }
        }
    }

    /// Decodes either form, strictly.
    pub fn decode(buf: &[u8]) -> Result<Alive2Reply, DecodeError> {
        let mut r = Reader::new(buf, "ALIVE2 reply");
        let reply = match r.u8()? {
            ALIVE2_X_RESP => Alive2Reply::Extended {
                result: r.u8()?,
                creation: r.u32()?,
            },
            ALIVE2_RESP => Alive2Reply::Legacy {
                result: r.u8()?,
                creation: r.u16()?,
            },
            tag => return Err(DecodeError::UnknownTag { kind: "reply", tag }),
        };
        r.finish()?;
        Ok(reply)
    }
}

/// The reply to PORT_PLEASE2_REQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortPlease2Reply {
    /// `119 | 0 | port | type | proto | high | low | nlen | name | elen | extra`.
    Found(NodeInfo),
    /// `119 | result` with a non-zero result: no such node.
    NotFound {
        /// The result byte (1 from OTP's epmd).
        result: u8,
    },
}

impl PortPlease2Reply {
    /// Appends the reply.
    ///
    /// Node names and extra data in a [`NodeInfo`] that came from a decoded
    /// ALIVE2_REQ always fit; an oversized hand-built one is cut to nothing
    /// but its length prefix would then disagree, so it is answered as not
    /// found instead.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        match self {
            PortPlease2Reply::Found(node) => {
                out.extend_from_slice(&[PORT2_RESP, 0]);
                if node.encode_fields(out).is_err() {
                    out.truncate(start);
                    out.extend_from_slice(&[PORT2_RESP, 1]);
                }
            }
            PortPlease2Reply::NotFound { result } => out.extend_from_slice(&[PORT2_RESP, *result]),
        }
    }

    /// Decodes the reply, strictly.
    pub fn decode(buf: &[u8]) -> Result<PortPlease2Reply, DecodeError> {
        let mut r = Reader::new(buf, "PORT2_RESP");
        match r.u8()? {
            PORT2_RESP => {}
            tag => return Err(DecodeError::UnknownTag { kind: "reply", tag }),
        }
        let reply = match r.u8()? {
            0 => PortPlease2Reply::Found(NodeInfo::decode_fields(&mut r)?),
            result => PortPlease2Reply::NotFound { result },
        };
        r.finish()?;
        Ok(reply)
    }
}

/// The reply to KILL_REQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReply {
    /// `OK`: EPMD stops.
    Killed,
    /// `NO`: nodes are registered and EPMD runs without the relaxed command check.
    Refused,
}

impl KillReply {
    /// Appends the reply.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self {
            KillReply::Killed => b"OK",
            KillReply::Refused => b"NO",
        });
    }

    /// Decodes the whole reply.
    pub fn decode(buf: &[u8]) -> Result<KillReply, DecodeError> {
        match buf {
            b"OK" => Ok(KillReply::Killed),
            b"NO" => Ok(KillReply::Refused),
            [] | [b'O'] | [b'N'] => Err(DecodeError::Incomplete {
                message: "KILL reply",
                needed: 2,
                available: buf.len(),
            }),
            _ => Err(DecodeError::Malformed {
                message: "KILL reply",
                offset: 0,
                reason: "neither OK nor NO",
            }),
        }
    }
}

/// The reply to STOP_REQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReply {
    /// `STOPPED`: the node was unregistered and its connection closed.
    Stopped,
    /// `NOEXIST`: no node of that name.
    NoExist,
}

impl StopReply {
    /// Appends the reply.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self {
            StopReply::Stopped => b"STOPPED",
            StopReply::NoExist => b"NOEXIST",
        });
    }

    /// Decodes the whole reply.
    ///
    /// OTP's `epmd` writes `STOPPED` right after `NOEXIST` for an unknown
    /// name, so `NOEXISTSTOPPED` is read as [`StopReply::NoExist`].
    pub fn decode(buf: &[u8]) -> Result<StopReply, DecodeError> {
        match buf {
            b"STOPPED" => Ok(StopReply::Stopped),
            b"NOEXIST" | b"NOEXISTSTOPPED" => Ok(StopReply::NoExist),
            _ if b"STOPPED".starts_with(buf) || b"NOEXISTSTOPPED".starts_with(buf) => {
                Err(DecodeError::Incomplete {
                    message: "STOP reply",
                    needed: 7,
                    available: buf.len(),
                })
            }
            _ => Err(DecodeError::Malformed {
                message: "STOP reply",
                offset: 0,
                reason: "neither STOPPED nor NOEXIST",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeType;

    #[test]
    fn alive2_x_resp_seen_on_the_wire() {
        // WIRE.md: `118,0,107,2,72,201` from OTP 25's epmd.
        let reply = Alive2Reply::decode(&[118, 0, 107, 2, 72, 201]).expect("decodes");
        assert_eq!(
            reply,
            Alive2Reply::Extended {
                result: 0,
                creation: 0x6B02_48C9
            }
        );
        let mut out = Vec::new();
        reply.encode(&mut out);
        assert_eq!(out, [118, 0, 107, 2, 72, 201]);
    }

    #[test]
    fn alive2_resp_has_a_16_bit_creation() {
        let reply = Alive2Reply::decode(&[121, 0, 0, 3]).expect("decodes");
        assert_eq!(
            reply,
            Alive2Reply::Legacy {
                result: 0,
                creation: 3
            }
        );
        assert_eq!(reply.creation(), 3);
        let taken = Alive2Reply::decode(&[118, 1, 0, 0, 0, 99]).expect("decodes");
        assert_eq!(taken.result(), 1);
        assert!(Alive2Reply::decode(&[118, 0, 0, 0])
            .expect_err("cut")
            .is_incomplete());
        assert!(Alive2Reply::decode(&[121, 0, 0])
            .expect_err("cut")
            .is_incomplete());
        assert!(matches!(
            Alive2Reply::decode(&[121, 0, 0, 3, 0]),
            Err(DecodeError::TrailingBytes { .. })
        ));
        assert!(matches!(
            Alive2Reply::decode(b"NO"),
            Err(DecodeError::UnknownTag { tag: b'N', .. })
        ));
    }

    #[test]
    fn port2_resp_seen_on_the_wire() {
        // Captured from OTP 25's epmd for `erl -sname foo`.
        let bytes = b"w\x00\xa0\xf5M\x00\x00\x06\x00\x05\x00\x03foo\x00\x00";
        let reply = PortPlease2Reply::decode(bytes).expect("decodes");
        let expected = NodeInfo {
            name: "foo".into(),
            port: 41205,
            node_type: NodeType::NORMAL,
            protocol: 0,
            highest_version: 6,
            lowest_version: 5,
            extra: vec![],
        };
        assert_eq!(reply, PortPlease2Reply::Found(expected));
        let mut out = Vec::new();
        reply.encode(&mut out);
        assert_eq!(out, bytes);
        for cut in 0..bytes.len() {
            let err = PortPlease2Reply::decode(&bytes[..cut]).expect_err("cut");
            assert!(err.is_incomplete(), "cut {cut}: {err}");
        }
    }

    #[test]
    fn port2_resp_unknown_node() {
        assert_eq!(
            PortPlease2Reply::decode(&[119, 1]),
            Ok(PortPlease2Reply::NotFound { result: 1 })
        );
        assert!(matches!(
            PortPlease2Reply::decode(&[119, 1, 0]),
            Err(DecodeError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn kill_and_stop_replies() {
        assert_eq!(KillReply::decode(b"OK"), Ok(KillReply::Killed));
        assert_eq!(KillReply::decode(b"NO"), Ok(KillReply::Refused));
        assert!(KillReply::decode(b"O").expect_err("cut").is_incomplete());
        assert!(!KillReply::decode(b"OKAY")
            .expect_err("long")
            .is_incomplete());
        assert_eq!(StopReply::decode(b"STOPPED"), Ok(StopReply::Stopped));
        assert_eq!(StopReply::decode(b"NOEXIST"), Ok(StopReply::NoExist));
        assert_eq!(StopReply::decode(b"NOEXISTSTOPPED"), Ok(StopReply::NoExist));
        assert!(StopReply::decode(b"STOP").expect_err("cut").is_incomplete());
        assert!(!StopReply::decode(b"STOPPEDX")
            .expect_err("long")
            .is_incomplete());
        for (reply, bytes) in [
            (StopReply::Stopped, &b"STOPPED"[..]),
            (StopReply::NoExist, b"NOEXIST"),
        ] {
            let mut out = Vec::new();
            reply.encode(&mut out);
            assert_eq!(out, bytes);
        }
    }
}
