//! The handshake messages, one codec per message. Each is the content of one
//! `u16`-length frame; the frame prefix belongs to [`crate::framing`].

use super::digest::Digest;
use crate::flags::DistFlags;
use crate::reader::{Malformed, Reader};

/// One handshake message: written with `encode`, read strictly with `read`.
pub trait HandshakeMessage: Sized {
    /// Appends the message (tag included, no length prefix).
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads a whole message (tag included).
    fn read(bytes: &[u8]) -> Result<Self, Malformed>;
}

/// `N`: the connecting side's name and flags (OTP 23+ form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendName {
    /// The connecting node's flags.
    pub flags: DistFlags,
    /// Its creation.
    pub creation: u32,
    /// Its full node name (just the host when it sets `NAME_ME`).
    pub name: String,
}

/// `n`: the old send_name form (protocol version 5, 32-bit flags); the high
/// flags and the creation follow later in a [`Complement`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OldSendName {
    /// The protocol version, 5.
    pub version: u16,
    /// The low 32 bits of the connecting node's flags.
    pub flags: u32,
    /// Its full node name.
    pub name: String,
}

/// `s`: a status. The accepting side sends all but `True`/`False`, which
/// answer its `alive`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// `ok`: go on.
    Ok,
    /// `ok_simultaneous`: go on; the accepting side dropped its own attempt.
    OkSimultaneous,
    /// `nok`: a simultaneous attempt of the accepting side wins; give up.
    Nok,
    /// `not_allowed`: refused (e.g. mandatory flags missing).
    NotAllowed,
    /// `alive`: a connection to this node name exists; answer `true` to
    /// replace it or `false` to give up.
    Alive,
    /// `named:`: the name chosen for a node that asked with `NAME_ME`.
    Named {
        /// The full node name given to the connecting node.
        name: String,
        /// Its creation.
        creation: u32,
    },
    /// `true`: the connecting side's answer to `alive`, go on.
    True,
    /// `false`: the connecting side's answer to `alive`, give up.
    False,
}

/// `N`: the accepting side's challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The accepting node's flags.
    pub flags: DistFlags,
    /// The challenge the connecting side must digest.
    pub challenge: u32,
    /// The accepting node's creation.
    pub creation: u32,
    /// The accepting node's full name.
    pub name: String,
}

/// `c`: what an old `n` could not carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Complement {
    /// The high 32 bits of the connecting node's flags.
    pub flags_high: u32,
    /// The connecting node's creation.
    pub creation: u32,
}

/// `r`: the connecting side's own challenge and its digest of the accepting
/// side's challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeReply {
    /// The challenge the accepting side must digest.
    pub challenge: u32,
    /// The digest of the accepting side's challenge.
    pub digest: Digest,
}

/// `a`: the accepting side's digest of the connecting side's challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeAck {
    /// The digest.
    pub digest: Digest,
}

fn expect_tag(reader: &mut Reader<'_>, tag: u8, what: &'static str) -> Result<(), Malformed> {
    let at = reader.position();
    if reader.u8(what)? == tag {
        Ok(())
    } else {
        Err(Malformed { what, offset: at })
    }
}

fn node_name(bytes: &[u8], offset: usize) -> Result<String, Malformed> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Malformed {
        what: "node name (not UTF-8)",
        offset,
    })
}

fn read_short_name(reader: &mut Reader<'_>) -> Result<String, Malformed> {
    let len = reader.u16("node name length")?;
    let at = reader.position();
    node_name(reader.take(usize::from(len), "node name")?, at)
}

fn write_short_name(name: &str, out: &mut Vec<u8>) {
    // Node names are atoms (at most 1020 bytes); anything longer is cut at the
    // prefix limit rather than written with a lying length.
    let bytes = &name.as_bytes()[..name.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl HandshakeMessage for SendName {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'N');
        out.extend_from_slice(&self.flags.bits().to_be_bytes());
        out.extend_from_slice(&self.creation.to_be_bytes());
        write_short_name(&self.name, out);
    }

    fn read(bytes: &[u8]) -> Result<SendName, Malformed> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, b'N', "send_name tag")?;
        let flags = DistFlags::from_bits(r.u64("send_name flags")?);
        let creation = r.u32("send_name creation")?;
        let name = read_short_name(&mut r)?;
        // The protocol says data after the name must be accepted and ignored.
        Ok(SendName {
            flags,
            creation,
            name,
        })
    }
}

impl HandshakeMessage for OldSendName {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'n');
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(self.name.as_bytes());
    }

    fn read(bytes: &[u8]) -> Result<OldSendName, Malformed> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, b'n', "old send_name tag")?;
        let version = r.u16("old send_name version")?;
        let flags = r.u32("old send_name flags")?;
        let at = r.position();
        let name = node_name(r.rest(), at)?;
        Ok(OldSendName {
            version,
            flags,
            name,
        })
    }
}

impl HandshakeMessage for Status {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b's');
        let text: &[u8] = match self {
            Status::Ok => b"ok",
            Status::OkSimultaneous => b"ok_simultaneous",
            Status::Nok => b"nok",
            Status::NotAllowed => b"not_allowed",
            Status::Alive => b"alive",
            Status::True => b"true",
            Status::False => b"false",
            Status::Named { name, creation } => {
                out.extend_from_slice(b"named:");
                write_short_name(name, out);
                out.extend_from_slice(&creation.to_be_bytes());
                return;
            }
        };
        out.extend_from_slice(text);
    }

    fn read(bytes: &[u8]) -> Result<Status, Malformed> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, b's', "status tag")?;
        let at = r.position();
        let text = r.rest();
        let status = match text {
            b"ok" => Status::Ok,
            b"ok_simultaneous" => Status::OkSimultaneous,
            b"nok" => Status::Nok,
            b"not_allowed" => Status::NotAllowed,
            b"alive" => Status::Alive,
            b"true" => Status::True,
            b"false" => Status::False,
            _ if text.starts_with(b"named:") => {
                let mut r = Reader::new(bytes);
                r.take(1 + 6, "status")?;
                let name = read_short_name(&mut r)?;
                let creation = r.u32("named: creation")?;
                r.finish("named: status (trailing bytes)")?;
                return Ok(Status::Named { name, creation });
            }
            _ => {
                return Err(Malformed {
                    what: "status (unknown text)",
                    offset: at,
                })
            }
        };
        Ok(status)
    }
}

impl HandshakeMessage for Challenge {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'N');
        out.extend_from_slice(&self.flags.bits().to_be_bytes());
        out.extend_from_slice(&self.challenge.to_be_bytes());
        out.extend_from_slice(&self.creation.to_be_bytes());
        write_short_name(&self.name, out);
    }

    fn read(bytes: &[u8]) -> Result<Challenge, Malformed> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, b'N', "challenge tag")?;
        let flags = DistFlags::from_bits(r.u64("challenge flags")?);
        let challenge = r.u32("challenge")?;
        let creation = r.u32("challenge creation")?;
        let name = read_short_name(&mut r)?;
        // As for send_name, data after the name is ignored.
        Ok(Challenge {
            flags,
            challenge,
            creation,
            name,
        })
    }
}

impl HandshakeMessage for Complement {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'c');
        out.extend_from_slice(&self.flags_high.to_be_bytes());
        out.extend_from_slice(&self.creation.to_be_bytes());
    }

    fn read(bytes: &[u8]) -> Result<Complement, Malformed> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, b'c', "complement tag")?;
        let flags_high = r.u32("complement flags")?;
        let creation = r.u32("complement creation")?;
        r.finish("complement (trailing bytes)")?;
        Ok(Complement {
            flags_high,
            creation,
        })
    }
}

impl HandshakeMessage for ChallengeReply {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'r');
        out.extend_from_slice(&self.challenge.to_be_bytes());
        out.extend_from_slice(&self.digest);
    }

    fn read(bytes: &[u8]) -> Result<ChallengeReply, Malformed> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, b'r', "challenge_reply tag")?;
        let challenge = r.u32("challenge_reply challenge")?;
        let digest = r.array("challenge_reply digest")?;
        r.finish("challenge_reply (trailing bytes)")?;
        Ok(ChallengeReply { challenge, digest })
    }
}

impl HandshakeMessage for ChallengeAck {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'a');
        out.extend_from_slice(&self.digest);
    }

    fn read(bytes: &[u8]) -> Result<ChallengeAck, Malformed> {
        let mut r = Reader::new(bytes);
        expect_tag(&mut r, b'a', "challenge_ack tag")?;
        let digest = r.array("challenge_ack digest")?;
        r.finish("challenge_ack (trailing bytes)")?;
        Ok(ChallengeAck { digest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<M: HandshakeMessage + PartialEq + std::fmt::Debug>(message: &M, bytes: &[u8]) {
        let mut out = Vec::new();
        message.encode(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(&M::read(bytes).unwrap(), message);
    }

    #[test]
    fn send_name_layout() {
        round_trip(
            &SendName {
                flags: DistFlags::from_bits(0x0000_0004_0d07_df7d),
                creation: 0x6b02_48c9,
                name: "a@h".into(),
            },
            b"N\x00\x00\x00\x04\x0d\x07\xdf\x7d\x6b\x02\x48\xc9\x00\x03a@h",
        );
        // Data after the name is ignored, as the protocol requires.
        let with_extra = b"N\0\0\0\0\0\0\0\x01\0\0\0\x02\0\x01x\xff\xff";
        assert_eq!(SendName::read(with_extra).unwrap().name, "x");
    }

    /// What `erl -sname` of OTP 25.2.3 and OTP 28.5 sent in
    /// `interop-tests/tests/dist_handshake.rs`.
    #[test]
    fn real_otp_send_name_and_challenge() {
        let otp25 =
            b"N\x00\x00\x00\x0d\x07\xdf\x7f\xbd\x6b\x02\x52\xa4\x00\x14pinger_25_22546_2@vm";
        let otp28 =
            b"N\x00\x00\x00\x2d\x07\xdf\x7f\xbd\x6b\x02\x52\xa5\x00\x14pinger_28_22546_5@vm";
        let otp25 = SendName::read(otp25).unwrap();
        let otp28 = SendName::read(otp28).unwrap();
        assert_eq!(otp25.name, "pinger_25_22546_2@vm");
        assert_eq!(otp25.creation, 0x6b02_52a4);
        for flags in [otp25.flags, otp28.flags] {
            assert!(flags.contains(DistFlags::MANDATORY_OTP26 | DistFlags::MANDATORY_25_DIGEST));
            assert!(flags.contains(DistFlags::PUBLISHED | DistFlags::HEADER_FRAMES));
            // Every bit OTP sets has a name here.
            assert!(flags.unknown().is_empty(), "{flags:?}");
        }
        assert_eq!(otp28.flags.missing(otp25.flags), DistFlags::EMPTY);
        assert_eq!(otp25.flags.missing(otp28.flags), DistFlags::ALTACT_SIG);

        let challenge = b"N\x00\x00\x00\x0d\x07\xdf\x7f\xbd\x70\x0f\x24\x40\x6b\x02\x52\xa4\x00\x12echo_25_22546_0@vm";
        let challenge = Challenge::read(challenge).unwrap();
        assert_eq!(challenge.challenge, 0x700f_2440);
        assert_eq!(challenge.flags, otp25.flags);
        assert_eq!(challenge.name, "echo_25_22546_0@vm");
    }

    #[test]
    fn old_send_name_layout() {
        round_trip(
            &OldSendName {
                version: 5,
                flags: 0x0107_0f94,
                name: "old@h".into(),
            },
            b"n\x00\x05\x01\x07\x0f\x94old@h",
        );
    }

    #[test]
    fn every_status_text() {
        for (status, text) in [
            (Status::Ok, &b"sok"[..]),
            (Status::OkSimultaneous, b"sok_simultaneous"),
            (Status::Nok, b"snok"),
            (Status::NotAllowed, b"snot_allowed"),
            (Status::Alive, b"salive"),
            (Status::True, b"strue"),
            (Status::False, b"sfalse"),
        ] {
            round_trip(&status, text);
        }
        round_trip(
            &Status::Named {
                name: "gen1@h".into(),
                creation: 7,
            },
            b"snamed:\x00\x06gen1@h\x00\x00\x00\x07",
        );
        assert_eq!(
            Status::read(b"smaybe"),
            Err(Malformed {
                what: "status (unknown text)",
                offset: 1
            })
        );
    }

    #[test]
    fn challenge_layout() {
        round_trip(
            &Challenge {
                flags: DistFlags::MANDATORY_OTP25,
                challenge: 0xdead_beef,
                creation: 1,
                name: "b@h".into(),
            },
            b"N\x00\x00\x00\x00\x01\x07\x0f\x94\xde\xad\xbe\xef\x00\x00\x00\x01\x00\x03b@h",
        );
    }

    #[test]
    fn complement_reply_and_ack_layouts() {
        round_trip(
            &Complement {
                flags_high: 4,
                creation: 9,
            },
            b"c\x00\x00\x00\x04\x00\x00\x00\x09",
        );
        let digest = [7u8; 16];
        let mut reply = b"r\x01\x02\x03\x04".to_vec();
        reply.extend_from_slice(&digest);
        round_trip(
            &ChallengeReply {
                challenge: 0x0102_0304,
                digest,
            },
            &reply,
        );
        let mut ack = b"a".to_vec();
        ack.extend_from_slice(&digest);
        round_trip(&ChallengeAck { digest }, &ack);
    }

    #[test]
    fn truncated_and_trailing_input_is_malformed_with_offset() {
        assert_eq!(
            ChallengeReply::read(b"r\x00\x00\x00\x01\x02"),
            Err(Malformed {
                what: "challenge_reply digest",
                offset: 5
            })
        );
        let mut ack = vec![b'a'];
        ack.extend_from_slice(&[0; 17]);
        assert_eq!(
            ChallengeAck::read(&ack),
            Err(Malformed {
                what: "challenge_ack (trailing bytes)",
                offset: 17
            })
        );
        assert_eq!(
            SendName::read(b"N\0\0\0\0\0\0\0\0\0\0\0\0\0\x09ab"),
            Err(Malformed {
                what: "node name",
                offset: 15
            })
        );
        assert!(Complement::read(b"x\0\0\0\0\0\0\0\0").is_err());
    }
}
