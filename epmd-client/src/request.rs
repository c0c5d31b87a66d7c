//! Requests sent to EPMD: `u16 len | body`, the body starting with a tag.

use crate::error::{DecodeError, EncodeError};
use crate::node::{check_name, parse_name, NodeInfo};
use crate::reader::Reader;

/// ALIVE2_REQ: register a node.
pub const ALIVE2_REQ: u8 = 120;
/// PORT_PLEASE2_REQ: look a node up.
pub const PORT_PLEASE2_REQ: u8 = 122;
/// NAMES_REQ: list registered names.
pub const NAMES_REQ: u8 = 110;
/// DUMP_REQ: list registered and remembered names with debugging details.
pub const DUMP_REQ: u8 = 100;
/// KILL_REQ: stop EPMD.
pub const KILL_REQ: u8 = 107;
/// STOP_REQ: forcibly unregister a node.
pub const STOP_REQ: u8 = 115;

/// The largest request body OTP's `epmd` accepts: its input buffer is
/// `3 * MAXSYMLEN` bytes and must hold the 2-byte length and a NUL.
pub const MAX_REQUEST_LEN: usize = 3 * crate::node::MAX_NAME_BYTES - 3;

/// One request to EPMD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// ALIVE2_REQ `120 | port | type | proto | high | low | nlen | name | elen | extra`.
    Alive2(NodeInfo),
    /// PORT_PLEASE2_REQ `122 | name`.
    PortPlease2 {
        /// The node name without `@host`.
        name: String,
    },
    /// NAMES_REQ `110`.
    Names,
    /// DUMP_REQ `100`.
    Dump,
    /// KILL_REQ `107`.
    Kill,
    /// STOP_REQ `115 | name`.
    Stop {
        /// The node name to unregister.
        name: String,
    },
}

impl Request {
    /// A short name for logs and errors, e.g. `"ALIVE2_REQ"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Alive2(_) => "ALIVE2_REQ",
            Request::PortPlease2 { .. } => "PORT_PLEASE2_REQ",
            Request::Names => "NAMES_REQ",
            Request::Dump => "DUMP_REQ",
            Request::Kill => "KILL_REQ",
            Request::Stop { .. } => "STOP_REQ",
        }
    }

    /// Appends the body (without the length prefix).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Request::Alive2(node) => {
                out.push(ALIVE2_REQ);
                node.encode_fields(out)?;
            }
            Request::PortPlease2 { name } => {
                check_name(name)?;
                out.push(PORT_PLEASE2_REQ);
                out.extend_from_slice(name.as_bytes());
            }
            Request::Names => out.push(NAMES_REQ),
            Request::Dump => out.push(DUMP_REQ),
            Request::Kill => out.push(KILL_REQ),
            Request::Stop { name } => {
                check_name(name)?;
                out.push(STOP_REQ);
                out.extend_from_slice(name.as_bytes());
            }
        }
        Ok(())
    }

    /// Appends `u16 len | body`, the form sent on the wire.
    pub fn encode_frame(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.extend_from_slice(&[0, 0]);
        self.encode(out)?;
        let len = out.len() - start - 2;
        if len > MAX_REQUEST_LEN {
            out.truncate(start);
            return Err(EncodeError::TooLong {
                field: "request",
                len,
                max: MAX_REQUEST_LEN,
            });
        }
        // MAX_REQUEST_LEN < u16::MAX.
        out[start..start + 2].copy_from_slice(&(len as u16).to_be_bytes());
        Ok(())
    }

    /// Decodes one request body (the bytes after the length prefix), strictly:
    /// trailing bytes are an error.
    ///
    /// As OTP's `epmd` does, a single NUL terminating the name of
    /// PORT_PLEASE2_REQ or STOP_REQ is accepted and dropped.
    pub fn decode(body: &[u8]) -> Result<Request, DecodeError> {
        let mut r = Reader::new(body, "request");
        let tag = r.u8()?;
        let request = match tag {
            ALIVE2_REQ => {
                let mut r = Reader::new(body, "ALIVE2_REQ");
                r.u8()?;
                let node = NodeInfo::decode_fields(&mut r)?;
                r.finish()?;
                return Ok(Request::Alive2(node));
            }
            PORT_PLEASE2_REQ => Request::PortPlease2 {
                name: decode_name_rest(body, "PORT_PLEASE2_REQ")?,
            },
            NAMES_REQ => Request::Names,
            DUMP_REQ => Request::Dump,
            KILL_REQ => Request::Kill,
            STOP_REQ => Request::Stop {
                name: decode_name_rest(body, "STOP_REQ")?,
            },
            tag => {
                return Err(DecodeError::UnknownTag {
                    kind: "request",
                    tag,
                })
            }
        };
        if matches!(request, Request::Names | Request::Dump | Request::Kill) {
            r.finish()?;
        }
        Ok(request)
    }

    /// Decodes one framed request, `u16 len | body`, from the start of `buf`,
    /// returning it with the number of bytes used.
    pub fn decode_frame(buf: &[u8]) -> Result<(Request, usize), DecodeError> {
        let len = body_len([
            *buf.first().ok_or(incomplete_frame(2, buf.len()))?,
            *buf.get(1).ok_or(incomplete_frame(2, buf.len()))?,
        ])?;
        let body = buf
            .get(2..2 + len)
            .ok_or(incomplete_frame(2 + len, buf.len()))?;
        Ok((Request::decode(body)?, 2 + len))
    }
}

fn incomplete_frame(needed: usize, available: usize) -> DecodeError {
    DecodeError::Incomplete {
        message: "request frame",
        needed,
        available,
    }
}

/// Reads the length prefix of a request and checks it against EPMD's limits:
/// at least one byte (the tag), at most [`MAX_REQUEST_LEN`].
pub fn body_len(prefix: [u8; 2]) -> Result<usize, DecodeError> {
    let len = usize::from(u16::from_be_bytes(prefix));
    if len == 0 {
        return Err(DecodeError::Malformed {
            message: "request frame",
            offset: 0,
            reason: "empty request",
        });
    }
    if len > MAX_REQUEST_LEN {
        return Err(DecodeError::Malformed {
            message: "request frame",
            offset: 0,
            reason: "request longer than 3057 bytes",
        });
    }
    Ok(len)
}

/// A name taking up the rest of the body after the tag, optionally
/// NUL-terminated.
fn decode_name_rest(body: &[u8], message: &'static str) -> Result<String, DecodeError> {
    let raw = body.get(1..).unwrap_or_default();
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    parse_name(raw).map_err(|reason| DecodeError::Malformed {
        message,
        offset: 1,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeType;

    fn framed(request: &Request) -> Vec<u8> {
        let mut out = Vec::new();
        request.encode_frame(&mut out).expect("encodes");
        out
    }

    #[test]
    fn alive2_layout_matches_wire_md() {
        let node = NodeInfo {
            name: "foo".into(),
            port: 0xA0F5,
            node_type: NodeType::NORMAL,
            protocol: 0,
            highest_version: 6,
            lowest_version: 5,
            extra: vec![],
        };
        let bytes = framed(&Request::Alive2(node.clone()));
        assert_eq!(
            bytes,
            [0, 16, 120, 0xA0, 0xF5, 77, 0, 0, 6, 0, 5, 0, 3, b'f', b'o', b'o', 0, 0]
        );
        assert_eq!(
            Request::decode_frame(&bytes),
            Ok((Request::Alive2(node), bytes.len()))
        );
    }

    #[test]
    fn alive2_keeps_extra_bytes() {
        let mut node = NodeInfo::new("n", 1, NodeType::HIDDEN);
        node.extra = vec![1, 2, 3];
        let bytes = framed(&Request::Alive2(node.clone()));
        assert_eq!(
            &bytes[2..],
            [120, 0, 1, 104, 0, 0, 6, 0, 6, 0, 1, b'n', 0, 3, 1, 2, 3]
        );
        assert_eq!(Request::decode(&bytes[2..]), Ok(Request::Alive2(node)));
    }

    #[test]
    fn one_byte_requests() {
        for (request, tag) in [
            (Request::Names, 110),
            (Request::Dump, 100),
            (Request::Kill, 107),
        ] {
            assert_eq!(framed(&request), [0, 1, tag]);
            assert_eq!(Request::decode(&[tag]), Ok(request));
            assert!(matches!(
                Request::decode(&[tag, 0]),
                Err(DecodeError::TrailingBytes {
                    offset: 1,
                    extra: 1,
                    ..
                })
            ));
        }
    }

    #[test]
    fn port_please2_and_stop_carry_bare_names() {
        let port = Request::PortPlease2 { name: "foo".into() };
        assert_eq!(framed(&port), [0, 4, 122, b'f', b'o', b'o']);
        let stop = Request::Stop { name: "foo".into() };
        assert_eq!(framed(&stop), [0, 4, 115, b'f', b'o', b'o']);
        // A trailing NUL (old clients) is accepted, as by OTP's epmd.
        assert_eq!(Request::decode(&[122, b'f', b'o', b'o', 0]), Ok(port));
        assert_eq!(Request::decode(&[115, b'f', b'o', b'o', 0]), Ok(stop));
    }

    #[test]
    fn rejects_bad_names() {
        for body in [
            &[122][..],
            &[122, 0],
            &[122, b'a', 0, b'b'],
            &[122, 0xFF],
            &[115],
        ] {
            assert!(
                matches!(Request::decode(body), Err(DecodeError::Malformed { .. })),
                "{body:?}"
            );
        }
        let long = "x".repeat(256);
        assert!(Request::PortPlease2 { name: long }
            .encode(&mut Vec::new())
            .is_err());
        assert!(Request::Stop {
            name: String::new()
        }
        .encode(&mut Vec::new())
        .is_err());
    }

    #[test]
    fn truncated_alive2_is_incomplete_and_overlong_is_trailing() {
        let bytes = framed(&Request::Alive2(NodeInfo::new("abc", 9, NodeType::NORMAL)));
        let body = &bytes[2..];
        for cut in 1..body.len() {
            let err = Request::decode(&body[..cut]).expect_err("truncated");
            assert!(err.is_incomplete(), "cut at {cut}: {err}");
        }
        let mut longer = body.to_vec();
        longer.push(9);
        assert!(matches!(
            Request::decode(&longer),
            Err(DecodeError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn frame_limits() {
        assert!(Request::decode_frame(&[0])
            .expect_err("short")
            .is_incomplete());
        assert!(Request::decode_frame(&[0, 3, 122, b'a'])
            .expect_err("short body")
            .is_incomplete());
        assert!(matches!(
            Request::decode_frame(&[0, 0]),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            body_len([0xFF, 0xFF]),
            Err(DecodeError::Malformed { .. })
        ));
        assert_eq!(body_len([0x0B, 0xF1]), Ok(MAX_REQUEST_LEN));
        assert!(matches!(
            Request::decode(&[99]),
            Err(DecodeError::UnknownTag { tag: 99, .. })
        ));
    }
}
