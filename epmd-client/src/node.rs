//! What EPMD knows about a node: the fields of ALIVE2_REQ and PORT2_RESP.

use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;

/// The most bytes EPMD accepts in a node name or in the extra field
/// (`MAXSYMLEN` in `epmd_int.h`: 255 characters of up to 4 UTF-8 bytes).
pub const MAX_NAME_BYTES: usize = 255 * 4;

/// The most characters EPMD accepts in a node name.
pub const MAX_NAME_CHARS: usize = 255;

/// The node type byte of ALIVE2_REQ and PORT2_RESP.
///
/// EPMD stores and returns it without interpreting it, so any byte is kept
/// as is; the constants name the values real nodes send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeType(pub u8);

impl NodeType {
    /// A normal (visible) Erlang node; OTP's `erl_epmd` sends `M` (77).
    pub const NORMAL: NodeType = NodeType(77);
    /// A hidden node; `ei` sends `h` (104).
    pub const HIDDEN: NodeType = NodeType(104);

    /// True for the hidden-node values, `H` (72, R3) and `h` (104, R4+).
    pub fn is_hidden(self) -> bool {
        matches!(self.0, 72 | 104)
    }
}

/// The transport protocol byte; 0 is TCP/IP v4, the only value in use.
pub const PROTOCOL_TCP: u8 = 0;

/// A node as registered with EPMD: what ALIVE2_REQ carries and PORT2_RESP
/// returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeInfo {
    /// The node name without `@host` (the "alive" part).
    pub name: String,
    /// The port on which the node listens for distribution connections.
    pub port: u16,
    /// The node type byte.
    pub node_type: NodeType,
    /// The protocol byte ([`PROTOCOL_TCP`]).
    pub protocol: u8,
    /// The highest distribution version the node speaks (6 since OTP 23).
    pub highest_version: u16,
    /// The lowest distribution version the node speaks.
    pub lowest_version: u16,
    /// Opaque extra data, returned as registered.
    pub extra: Vec<u8>,
}

impl NodeInfo {
    /// A node of the given type speaking distribution version 6 only, over
    /// TCP, with no extra data: what this project registers.
    pub fn new(name: impl Into<String>, port: u16, node_type: NodeType) -> Self {
        NodeInfo {
            name: name.into(),
            port,
            node_type,
            protocol: PROTOCOL_TCP,
            highest_version: 6,
            lowest_version: 6,
            extra: Vec::new(),
        }
    }

    /// Writes `port | type | proto | high | low | nlen | name | elen | extra`.
    pub(crate) fn encode_fields(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        check_name(&self.name)?;
        let elen = u16::try_from(self.extra.len()).map_err(|_| EncodeError::TooLong {
            field: "extra",
            len: self.extra.len(),
            max: usize::from(u16::MAX),
        })?;
        out.extend_from_slice(&self.port.to_be_bytes());
        out.push(self.node_type.0);
        out.push(self.protocol);
        out.extend_from_slice(&self.highest_version.to_be_bytes());
        out.extend_from_slice(&self.lowest_version.to_be_bytes());
        // check_name bounds the length to MAX_NAME_BYTES, so it fits a u16.
        out.extend_from_slice(&(self.name.len() as u16).to_be_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&elen.to_be_bytes());
        out.extend_from_slice(&self.extra);
        Ok(())
    }

    /// Reads the fields written by [`NodeInfo::encode_fields`].
    pub(crate) fn decode_fields(r: &mut Reader<'_>) -> Result<NodeInfo, DecodeError> {
        let port = r.u16()?;
        let node_type = NodeType(r.u8()?);
        let protocol = r.u8()?;
        let highest_version = r.u16()?;
        let lowest_version = r.u16()?;
        let name = read_name(r)?;
        let elen = r.u16()?;
        let extra = r.bytes(usize::from(elen))?.to_vec();
        Ok(NodeInfo {
            name,
            port,
            node_type,
            protocol,
            highest_version,
            lowest_version,
            extra,
        })
    }
}

/// Reads `u16 nlen | name` and applies EPMD's name rules.
fn read_name(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let len_offset = r.offset();
    let nlen = usize::from(r.u16()?);
    let offset = r.offset();
    let raw = r.bytes(nlen)?;
    if nlen > MAX_NAME_BYTES {
        return Err(r.malformed(len_offset, "node name longer than 1020 bytes"));
    }
    parse_name(raw).map_err(|reason| r.malformed(offset, reason))
}

/// Checks a node name the way EPMD does: non-empty, no NUL, UTF-8, at most
/// 255 characters.
pub(crate) fn parse_name(raw: &[u8]) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Err("empty node name");
    }
    if raw.contains(&0) {
        return Err("node name contains a NUL byte");
    }
    let name = std::str::from_utf8(raw).map_err(|_| "node name is not UTF-8")?;
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("node name longer than 255 characters");
    }
    Ok(name.to_owned())
}

/// Checks a name before it is sent.
pub(crate) fn check_name(name: &str) -> Result<(), EncodeError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(EncodeError::TooLong {
            field: "node name",
            len: name.len(),
            max: MAX_NAME_BYTES,
        });
    }
    parse_name(name.as_bytes())
        .map(|_| ())
        .map_err(|reason| EncodeError::InvalidName {
            name: name.to_owned(),
            reason,
        })
}
