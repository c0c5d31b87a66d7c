//! Distribution capability flags (`DFLAG_*` in OTP's `dist.h`).
//!
//! Both sides advertise a set in the handshake; the connection then uses the
//! intersection. The bit positions are those of `dist.h`, which differ from
//! the protocol guide for `MANDATORY_25_DIGEST` (bit 26, not 36).

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not};

/// A set of distribution flags: a 64-bit mask. Unknown bits are kept, so a
/// peer's set can be shown and intersected faithfully.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DistFlags(u64);

macro_rules! flags {
    ($($(#[$doc:meta])* $name:ident = $bit:expr;)*) => {
        impl DistFlags {
            $($(#[$doc])* pub const $name: DistFlags = DistFlags(1 << $bit);)*

            /// Every named flag with its name, lowest bit first.
            const NAMED: &'static [(&'static str, DistFlags)] = &[
                $((stringify!($name), DistFlags::$name),)*
            ];
        }
    };
}

flags! {
    /// The node is visible (published); hidden nodes leave this out.
    PUBLISHED = 0;
    /// The obsolete atom cache of old releases.
    ATOM_CACHE = 1;
    /// Extended (3 x 32 bits) references.
    EXTENDED_REFERENCES = 2;
    /// Distributed monitors.
    DIST_MONITOR = 3;
    /// Funs (NEW_FUN and EXPORT) in terms.
    FUN_TAGS = 4;
    /// Monitors by registered name.
    DIST_MONITOR_NAME = 5;
    /// The atom cache for hidden nodes (obsolete).
    HIDDEN_ATOM_CACHE = 6;
    /// NEW_FUN terms.
    NEW_FUN_TAGS = 7;
    /// Extended pids and ports.
    EXTENDED_PIDS_PORTS = 8;
    /// EXPORT terms.
    EXPORT_PTR_TAG = 9;
    /// Bitstrings (BIT_BINARY).
    BIT_BINARIES = 10;
    /// NEW_FLOAT (IEEE 754) floats.
    NEW_FLOATS = 11;
    /// Unicode I/O.
    UNICODE_IO = 12;
    /// The atom cache in the distribution header (`131,68` frames).
    DIST_HDR_ATOM_CACHE = 13;
    /// SMALL_ATOM terms.
    SMALL_ATOM_TAGS = 14;
    /// UTF-8 atoms.
    UTF8_ATOMS = 16;
    /// Maps.
    MAP_TAG = 17;
    /// 32-bit creations (NEW_PID, NEW_PORT, NEWER_REFERENCE).
    BIG_CREATION = 18;
    /// SEND_SENDER instead of SEND.
    SEND_SENDER = 19;
    /// Sequential trace labels of any size.
    BIG_SEQTRACE_LABELS = 20;
    /// PAYLOAD_EXIT, PAYLOAD_EXIT2 and PAYLOAD_MONITOR_P_EXIT.
    EXIT_PAYLOAD = 22;
    /// Fragmented messages (`131,69` / `131,70` frames).
    FRAGMENTS = 23;
    /// The handshake of OTP 23 (the `N` send_name form).
    HANDSHAKE_23 = 24;
    /// The UNLINK_ID link protocol.
    UNLINK_ID = 25;
    /// Mandatory in OTP 25 and later (bit 26 in `dist.h`).
    MANDATORY_25_DIGEST = 26;
    /// SPAWN_REQUEST / SPAWN_REPLY.
    SPAWN = 32;
    /// Ask the peer to choose our node name (dynamic names).
    NAME_ME = 33;
    /// 64-bit pid and port numbers and 5-word references.
    V4_NC = 34;
    /// Process aliases (ALIAS_SEND).
    ALIAS = 35;
    /// LOCAL_EXT terms (node-local only; never set over a real connection).
    LOCAL_EXT = 36;
    /// ALTACT_SIG_SEND (OTP 28).
    ALTACT_SIG = 37;
    /// Native records (RECORD_EXT, tag 67) in terms (OTP 29,
    /// `DFLAG_NATIVE_RECORDS` in `kernel/include/dist.hrl`: `16#40 bsl 32`).
    /// OTP 29 sends records whether or not the peer set it; we decode them
    /// always and send them only to a peer that set it.
    NATIVE_RECORDS = 38;
}

impl DistFlags {
    /// No flags.
    pub const EMPTY: DistFlags = DistFlags(0);

    /// What OTP 25 requires from a peer (`0x1070F94`).
    pub const MANDATORY_OTP25: DistFlags = DistFlags(
        DistFlags::EXTENDED_REFERENCES.0
            | DistFlags::FUN_TAGS.0
            | DistFlags::NEW_FUN_TAGS.0
            | DistFlags::EXTENDED_PIDS_PORTS.0
            | DistFlags::EXPORT_PTR_TAG.0
            | DistFlags::BIT_BINARIES.0
            | DistFlags::NEW_FLOATS.0
            | DistFlags::UTF8_ATOMS.0
            | DistFlags::MAP_TAG.0
            | DistFlags::BIG_CREATION.0
            | DistFlags::HANDSHAKE_23.0,
    );

    /// What OTP 26, 27 and 28 require from a peer (`0x403070F94`): the OTP 25
    /// set plus UNLINK_ID and V4_NC.
    pub const MANDATORY_OTP26: DistFlags =
        DistFlags(DistFlags::MANDATORY_OTP25.0 | DistFlags::UNLINK_ID.0 | DistFlags::V4_NC.0);

    /// The two flags that oblige us to send `131,68` header frames instead of
    /// `112` pass-through frames once negotiated (OTP rejects `112` then).
    pub const HEADER_FRAMES: DistFlags =
        DistFlags(DistFlags::DIST_HDR_ATOM_CACHE.0 | DistFlags::FRAGMENTS.0);

    /// Our default set for a hidden node.
    ///
    /// It satisfies the mandatory sets of OTP 25 through 28 and adds what the
    /// connection layer handles: monitors (also by name), SEND_SENDER, exit
    /// payloads, SPAWN, aliases, priority messages (ALTACT_SIG: with it,
    /// OTP 28 and later send messages and exit signals to aliases as
    /// ALTACT_SIG_SEND, which a user of this set must then take), big
    /// sequential trace labels, native records (OTP 29 then sends and
    /// accepts them), and
    /// [`DistFlags::HEADER_FRAMES`]: fragments both ways (large messages do
    /// not block ticks or other traffic) and atom-cache headers received.
    /// With them the connection sends `131,68` frames instead of `112`.
    /// Remove them to send `112` pass-through frames.
    pub const fn default_hidden() -> DistFlags {
        DistFlags(
            DistFlags::MANDATORY_OTP26.0
                | DistFlags::MANDATORY_25_DIGEST.0
                | DistFlags::DIST_MONITOR.0
                | DistFlags::DIST_MONITOR_NAME.0
                | DistFlags::UNICODE_IO.0
                | DistFlags::SMALL_ATOM_TAGS.0
                | DistFlags::SEND_SENDER.0
                | DistFlags::BIG_SEQTRACE_LABELS.0
                | DistFlags::EXIT_PAYLOAD.0
                | DistFlags::SPAWN.0
                | DistFlags::ALIAS.0
                | DistFlags::ALTACT_SIG.0
                | DistFlags::NATIVE_RECORDS.0
                | DistFlags::HEADER_FRAMES.0,
        )
    }

    /// The set with exactly these bits, known or not.
    pub const fn from_bits(bits: u64) -> DistFlags {
        DistFlags(bits)
    }

    /// The raw mask.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The low 32 bits (the old `n` handshake form carries only these).
    pub const fn low(self) -> u32 {
        self.0 as u32
    }

    /// The high 32 bits (sent in the complement message after an old `n`).
    pub const fn high(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: DistFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether at least one flag of `other` is set.
    pub const fn intersects(self, other: DistFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The flags of `required` that this set lacks.
    pub const fn missing(self, required: DistFlags) -> DistFlags {
        DistFlags(required.0 & !self.0)
    }

    /// Checks a peer's set against what we require.
    pub fn require(self, required: DistFlags) -> Result<(), MissingFlags> {
        let missing = self.missing(required);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(MissingFlags { missing })
        }
    }

    /// The names of the known flags in this set, lowest bit first.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        DistFlags::NAMED
            .iter()
            .filter(move |(_, flag)| self.contains(*flag))
            .map(|(name, _)| *name)
    }

    /// The bits that have no name in this module.
    pub fn unknown(self) -> DistFlags {
        let known = DistFlags::NAMED
            .iter()
            .fold(0, |acc, (_, flag)| acc | flag.0);
        DistFlags(self.0 & !known)
    }
}

/// A peer lacks flags we require.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("missing distribution flags: {missing}")]
pub struct MissingFlags {
    /// The required flags the peer did not set.
    pub missing: DistFlags,
}

impl fmt::Display for DistFlags {
    /// Flag names joined by `|`, unnamed bits as a hex mask, `(none)` if empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        let mut first = true;
        for name in self.names() {
            if !first {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
            first = false;
        }
        let unknown = self.unknown();
        if !unknown.is_empty() {
            if !first {
                f.write_str(" | ")?;
            }
            write!(f, "{:#x}", unknown.0)?;
        }
        Ok(())
    }
}

impl fmt::Debug for DistFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistFlags({:#x}: {self})", self.0)
    }
}

impl BitOr for DistFlags {
    type Output = DistFlags;
    fn bitor(self, rhs: DistFlags) -> DistFlags {
        DistFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for DistFlags {
    fn bitor_assign(&mut self, rhs: DistFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for DistFlags {
    type Output = DistFlags;
    fn bitand(self, rhs: DistFlags) -> DistFlags {
        DistFlags(self.0 & rhs.0)
    }
}

impl BitAndAssign for DistFlags {
    fn bitand_assign(&mut self, rhs: DistFlags) {
        self.0 &= rhs.0;
    }
}

impl Not for DistFlags {
    type Output = DistFlags;
    fn not(self) -> DistFlags {
        DistFlags(!self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mandatory_sets_match_the_values_seen_on_the_wire() {
        assert_eq!(DistFlags::MANDATORY_OTP25.bits(), 0x107_0F94);
        assert_eq!(DistFlags::MANDATORY_OTP26.bits(), 0x4_0307_0F94);
        assert_eq!(DistFlags::MANDATORY_25_DIGEST.bits(), 1 << 26);
    }

    #[test]
    fn default_hidden_set_satisfies_otp_25_to_28_and_stays_hidden() {
        let ours = DistFlags::default_hidden();
        assert!(ours.require(DistFlags::MANDATORY_OTP25).is_ok());
        assert!(ours.require(DistFlags::MANDATORY_OTP26).is_ok());
        assert!(ours.contains(DistFlags::MANDATORY_25_DIGEST));
        assert!(!ours.intersects(DistFlags::PUBLISHED | DistFlags::NAME_ME));
        assert!(ours.contains(DistFlags::HEADER_FRAMES));
        assert!(ours.contains(DistFlags::ALTACT_SIG));
    }

    #[test]
    fn missing_flags_are_named() {
        // ei's default set lacks nothing OTP 26 requires; an OTP 25 set lacks
        // the two flags OTP 26 added.
        assert!(DistFlags::from_bits(0x4_0707_4F9C)
            .require(DistFlags::MANDATORY_OTP26)
            .is_ok());
        let err = DistFlags::MANDATORY_OTP25
            .require(DistFlags::MANDATORY_OTP26)
            .unwrap_err();
        assert_eq!(err.missing, DistFlags::UNLINK_ID | DistFlags::V4_NC);
        assert_eq!(
            err.to_string(),
            "missing distribution flags: UNLINK_ID | V4_NC"
        );
    }

    #[test]
    fn otp29_flags_name_native_records() {
        // What OTP 29 (hidden) sends in send_name [seen].
        let otp29 = DistFlags::from_bits(0x6d_07df_7fbc);
        assert!(otp29.contains(DistFlags::NATIVE_RECORDS | DistFlags::ALTACT_SIG));
        assert!(otp29.unknown().is_empty(), "{otp29}");
        assert_eq!(DistFlags::NATIVE_RECORDS.bits(), 0x40 << 32);
        assert!(DistFlags::default_hidden().contains(DistFlags::NATIVE_RECORDS));
    }

    #[test]
    fn display_keeps_unknown_bits() {
        let flags = DistFlags::PUBLISHED | DistFlags::from_bits(1 << 15 | 1 << 60);
        assert_eq!(flags.to_string(), "PUBLISHED | 0x1000000000008000");
        assert_eq!(DistFlags::EMPTY.to_string(), "(none)");
    }

    #[test]
    fn halves_split_the_mask() {
        let flags = DistFlags::MANDATORY_OTP26;
        assert_eq!(flags.low(), 0x0307_0F94);
        assert_eq!(flags.high(), 0x4);
    }
}
