//! The replies to NAMES_REQ and DUMP_REQ: EPMD's port, then text lines up
//! to the end of the stream.

use crate::error::DecodeError;
use crate::reader::Reader;

/// One line of the NAMES reply: `name NAME at port PORT\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    /// The node name without `@host`.
    pub name: String,
    /// Its distribution port.
    pub port: u16,
}

/// The reply to NAMES_REQ: `u32 epmd_port` then one line per node, up to
/// the end of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesReply {
    /// The port EPMD listens on.
    pub epmd_port: u32,
    /// The registered nodes, in EPMD's order.
    pub nodes: Vec<NameEntry>,
}

impl NamesReply {
    /// Appends the reply.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epmd_port.to_be_bytes());
        for node in &self.nodes {
            out.extend_from_slice(node_line(node).as_bytes());
        }
    }

    /// Decodes the whole reply (everything up to EOF).
    pub fn decode(buf: &[u8]) -> Result<NamesReply, DecodeError> {
        let mut r = Reader::new(buf, "NAMES reply");
        let epmd_port = r.u32()?;
        let mut nodes = Vec::new();
        let mut offset = r.offset();
        for line in split_terminated(r.rest(), b'\n') {
            let Some(line) = line else {
                return Err(malformed_names(offset, "last line lacks its newline"));
            };
            nodes.push(parse_name_line(line).map_err(|reason| malformed_names(offset, reason))?);
            offset += line.len() + 1;
        }
        Ok(NamesReply { epmd_port, nodes })
    }

    /// The text after the port: what `epmd -names` prints after its
    /// "up and running" line.
    pub fn text(&self) -> String {
        self.nodes.iter().map(node_line).collect()
    }
}

fn node_line(node: &NameEntry) -> String {
    format!("name {} at port {}\n", node.name, node.port)
}

fn malformed_names(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError::Malformed {
        message: "NAMES reply",
        offset,
        reason,
    }
}

/// Splits `buf` into records ended by `end`; a final unterminated piece is
/// yielded as `None`.
fn split_terminated(buf: &[u8], end: u8) -> impl Iterator<Item = Option<&[u8]>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.iter().position(|&b| b == end) {
            Some(i) => {
                let record = &rest[..i];
                rest = &rest[i + 1..];
                Some(Some(record))
            }
            None => {
                rest = &[];
                Some(None)
            }
        }
    })
}

fn parse_name_line(line: &[u8]) -> Result<NameEntry, &'static str> {
    let line = std::str::from_utf8(line).map_err(|_| "line is not UTF-8")?;
    let rest = line
        .strip_prefix("name ")
        .ok_or("line does not start with \"name \"")?;
    let (name, port) = rest
        .rsplit_once(" at port ")
        .ok_or("line lacks \" at port \"")?;
    Ok(NameEntry {
        name: name.to_owned(),
        port: parse_port(port)?,
    })
}

fn parse_port(text: &str) -> Result<u16, &'static str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("port is not a decimal number");
    }
    text.parse().map_err(|_| "port is out of range")
}

/// Whether a DUMP entry is a live registration or a remembered old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpState {
    /// `active name     <NAME> at port P, fd = F\n\0`.
    Active,
    /// `old/unused name <NAME>, port = P, fd = F \n\0`.
    Unused,
}

/// One entry of the DUMP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpEntry {
    /// Live or remembered.
    pub state: DumpState,
    /// The node name.
    pub name: String,
    /// Its distribution port (the last one, for an unused entry).
    pub port: u16,
    /// EPMD's file descriptor (or connection number) for the registration.
    pub fd: i32,
}

/// The reply to DUMP_REQ: `u32 epmd_port` then NUL-terminated lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpReply {
    /// The port EPMD listens on.
    pub epmd_port: u32,
    /// Active entries first, then unused ones, as EPMD sends them.
    pub entries: Vec<DumpEntry>,
}

impl DumpReply {
    /// Appends the reply.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epmd_port.to_be_bytes());
        for entry in &self.entries {
            out.extend_from_slice(dump_line(entry).as_bytes());
            out.push(0);
        }
    }

    /// Decodes the whole reply (everything up to EOF).
    pub fn decode(buf: &[u8]) -> Result<DumpReply, DecodeError> {
        let mut r = Reader::new(buf, "DUMP reply");
        let epmd_port = r.u32()?;
        let mut entries = Vec::new();
        let mut offset = r.offset();
        for record in split_terminated(r.rest(), 0) {
            let Some(record) = record else {
                return Err(malformed_dump(offset, "last entry lacks its NUL"));
            };
            entries.push(parse_dump_line(record).map_err(|reason| malformed_dump(offset, reason))?);
            offset += record.len() + 1;
        }
        Ok(DumpReply { epmd_port, entries })
    }
}

fn malformed_dump(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError::Malformed {
        message: "DUMP reply",
        offset,
        reason,
    }
}

fn dump_line(entry: &DumpEntry) -> String {
    match entry.state {
        DumpState::Active => format!(
            "active name     <{}> at port {}, fd = {}\n",
            entry.name, entry.port, entry.fd
        ),
        DumpState::Unused => format!(
            "old/unused name <{}>, port = {}, fd = {} \n",
            entry.name, entry.port, entry.fd
        ),
    }
}

fn parse_dump_line(line: &[u8]) -> Result<DumpEntry, &'static str> {
    let line = std::str::from_utf8(line).map_err(|_| "entry is not UTF-8")?;
    let (state, rest, port_sep, tail) = if let Some(rest) = line.strip_prefix("active name     <") {
        (DumpState::Active, rest, "> at port ", "\n")
    } else if let Some(rest) = line.strip_prefix("old/unused name <") {
        (DumpState::Unused, rest, ">, port = ", " \n")
    } else {
        return Err("entry starts with neither \"active name\" nor \"old/unused name\"");
    };
    let rest = rest.strip_suffix(tail).ok_or("entry has a wrong ending")?;
    let (name, rest) = rest.rsplit_once(port_sep).ok_or("entry lacks its port")?;
    let (port, fd) = rest
        .split_once(", fd = ")
        .ok_or("entry lacks \", fd = \"")?;
    let fd = fd.parse().map_err(|_| "fd is not a number")?;
    Ok(DumpEntry {
        state,
        name: name.to_owned(),
        port: parse_port(port)?,
        fd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reply() {
        let bytes = b"\x00\x00\x11\x11name foo at port 41205\nname b a r at port 1\n";
        let reply = NamesReply::decode(bytes).expect("decodes");
        assert_eq!(reply.epmd_port, 4369);
        assert_eq!(
            reply.nodes,
            [
                NameEntry {
                    name: "foo".into(),
                    port: 41205
                },
                NameEntry {
                    name: "b a r".into(),
                    port: 1
                },
            ]
        );
        let mut out = Vec::new();
        reply.encode(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(
            reply.text(),
            "name foo at port 41205\nname b a r at port 1\n"
        );
        assert_eq!(
            NamesReply::decode(&[0, 0, 0, 1]),
            Ok(NamesReply {
                epmd_port: 1,
                nodes: vec![]
            })
        );
    }

    #[test]
    fn names_reply_errors() {
        assert!(NamesReply::decode(&[0, 0, 0])
            .expect_err("short")
            .is_incomplete());
        for (bytes, offset) in [
            (&b"\0\0\0\x01name foo at port 1"[..], 4),
            (b"\0\0\0\x01name foo at port 1\nnam bar at port 2\n", 23),
            (b"\0\0\0\x01name foo at port 70000\n", 4),
            (b"\0\0\0\x01name foo at port -1\n", 4),
            (b"\0\0\0\x01name foo\n", 4),
        ] {
            match NamesReply::decode(bytes) {
                Err(DecodeError::Malformed { offset: got, .. }) => assert_eq!(got, offset),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn dump_reply_has_angle_brackets_and_nuls() {
        // WIRE.md and OTP 25 [seen]: the guide omits the brackets and the NUL.
        let bytes = b"\x00\x008!active name     <foo> at port 41205, fd = 5\n\x00\
old/unused name <bar>, port = 7, fd = 6 \n\x00";
        let reply = DumpReply::decode(bytes).expect("decodes");
        assert_eq!(reply.epmd_port, 14369);
        assert_eq!(
            reply.entries,
            [
                DumpEntry {
                    state: DumpState::Active,
                    name: "foo".into(),
                    port: 41205,
                    fd: 5
                },
                DumpEntry {
                    state: DumpState::Unused,
                    name: "bar".into(),
                    port: 7,
                    fd: 6
                },
            ]
        );
        let mut out = Vec::new();
        reply.encode(&mut out);
        assert_eq!(out, bytes);
        assert!(matches!(
            DumpReply::decode(b"\0\0\0\x01active name     <foo> at port 1, fd = 5\n"),
            Err(DecodeError::Malformed { offset: 4, .. })
        ));
        assert!(matches!(
            DumpReply::decode(b"\0\0\0\x01active name <foo> at port 1, fd = 5\n\0"),
            Err(DecodeError::Malformed { .. })
        ));
    }
}
