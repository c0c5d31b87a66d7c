//! Builds the value of a binary literal `<<Seg, …>>` from its segments.

use super::error::ParseErrorKind;
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;

/// A segment's value.
#[derive(Debug)]
pub(crate) enum SegmentValue {
    /// An integer (or character).
    Int(BigInt),
    /// A float.
    Float(f64),
    /// A string: one segment per character.
    Str(String),
}

/// The type in a segment's type list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SegmentType {
    /// `integer`, the default.
    Integer,
    /// `float`.
    Float,
    /// `binary` or `bytes` (only for string values here).
    Binary,
    /// `bitstring` or `bits`.
    Bitstring,
    /// `utf8`.
    Utf8,
    /// `utf16`.
    Utf16,
    /// `utf32`.
    Utf32,
}

/// A segment's type specifiers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    /// The type.
    pub(crate) kind: SegmentType,
    /// `little` (`native` is read as big, as on the machines OTP documents).
    pub(crate) little: bool,
    /// `unit:N`, if given.
    pub(crate) unit: Option<u32>,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            kind: SegmentType::Integer,
            little: false,
            unit: None,
        }
    }
}

/// A bitstring under construction.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Total bits written.
    bits: u64,
    /// The most bits this writer may hold.
    limit: u64,
}

type SegResult<T> = Result<T, ParseErrorKind>;

impl BitWriter {
    /// A writer that refuses to grow past `limit_bytes`.
    pub(crate) fn new(limit_bytes: usize) -> BitWriter {
        BitWriter {
            bytes: Vec::new(),
            bits: 0,
            limit: (limit_bytes as u64).saturating_mul(8),
        }
    }

    /// The bytes and the number of used bits in the last byte (0 = whole).
    pub(crate) fn finish(self) -> (Vec<u8>, u8) {
        (self.bytes, (self.bits % 8) as u8)
    }

    fn reserve(&mut self, bits: u64) -> SegResult<()> {
        let total = self.bits.saturating_add(bits);
        if total > self.limit {
            return Err(ParseErrorKind::BinaryTooLarge((self.limit / 8) as usize));
        }
        Ok(())
    }

    fn push_bit(&mut self, bit: bool) {
        let offset = (self.bits % 8) as u8;
        if offset == 0 {
            self.bytes.push(0);
        }
        if bit {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 0x80 >> offset;
            }
        }
        self.bits += 1;
    }

    fn push_byte(&mut self, byte: u8) {
        if self.bits % 8 == 0 {
            self.bytes.push(byte);
            self.bits += 8;
        } else {
            for i in (0..8).rev() {
                self.push_bit(byte >> i & 1 == 1);
            }
        }
    }

    /// Writes the low `size` bits of `value` (two's complement), big-endian.
    fn push_int_big(&mut self, value: &BigInt, size: u64) -> SegResult<()> {
        self.reserve(size)?;
        // Little-endian two's complement bytes, sign-extended as needed.
        let le = value.to_signed_bytes_le();
        let fill = if value.sign() == Sign::Minus { 0xFF } else { 0 };
        let byte_at = |i: u64| {
            usize::try_from(i)
                .ok()
                .and_then(|i| le.get(i).copied())
                .unwrap_or(fill)
        };
        if self.bits % 8 == 0 && size % 8 == 0 {
            for i in (0..size / 8).rev() {
                self.push_byte(byte_at(i));
            }
            return Ok(());
        }
        for bit in (0..size).rev() {
            self.push_bit(byte_at(bit / 8) >> (bit % 8) & 1 == 1);
        }
        Ok(())
    }

    /// Adds one segment.
    pub(crate) fn push(
        &mut self,
        value: SegmentValue,
        size: Option<u64>,
        spec: Spec,
    ) -> SegResult<()> {
        match value {
            SegmentValue::Str(text) => {
                for c in text.chars() {
                    self.push(SegmentValue::Int(BigInt::from(u32::from(c))), size, spec)?;
                }
                Ok(())
            }
            SegmentValue::Int(value) => self.push_int(&value, size, spec),
            SegmentValue::Float(value) => self.push_float(value, size, spec),
        }
    }

    fn push_int(&mut self, value: &BigInt, size: Option<u64>, spec: Spec) -> SegResult<()> {
        match spec.kind {
            SegmentType::Integer => {
                let unit = spec.unit.unwrap_or(1);
                let bits = size
                    .unwrap_or(8)
                    .checked_mul(u64::from(unit))
                    .ok_or(ParseErrorKind::InvalidSegment("size too large"))?;
                if spec.little {
                    // Whole bytes lowest first, then the leftover high bits,
                    // as the BEAM lays out `<<V:12/little>>`.
                    self.reserve(bits)?;
                    let le = value.to_signed_bytes_le();
                    let fill = if value.sign() == Sign::Minus { 0xFF } else { 0 };
                    let byte_at = |i: u64| {
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| le.get(i).copied())
                            .unwrap_or(fill)
                    };
                    for i in 0..bits / 8 {
                        self.push_byte(byte_at(i));
                    }
                    let leftover = byte_at(bits / 8);
                    for bit in (0..bits % 8).rev() {
                        self.push_bit(leftover >> bit & 1 == 1);
                    }
                    Ok(())
                } else {
                    self.push_int_big(value, bits)
                }
            }
            SegmentType::Float => {
                let float = value.to_f64().filter(|f| f.is_finite()).ok_or(
                    ParseErrorKind::InvalidSegment("integer too large for a float segment"),
                )?;
                self.push_float(float, size, spec)
            }
            SegmentType::Utf8 | SegmentType::Utf16 | SegmentType::Utf32 => {
                if size.is_some() || spec.unit.is_some() {
                    return Err(ParseErrorKind::InvalidSegment(
                        "utf segments take no size or unit",
                    ));
                }
                let c = value
                    .to_u32()
                    .and_then(char::from_u32)
                    .ok_or(ParseErrorKind::InvalidSegment("not a Unicode code point"))?;
                let mut units = Vec::new();
                match spec.kind {
                    SegmentType::Utf8 => {
                        units.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes())
                    }
                    SegmentType::Utf16 => {
                        for unit in c.encode_utf16(&mut [0; 2]) {
                            let pair = if spec.little {
                                unit.to_le_bytes()
                            } else {
                                unit.to_be_bytes()
                            };
                            units.extend_from_slice(&pair);
                        }
                    }
                    _ => {
                        let code = u32::from(c);
                        let quad = if spec.little {
                            code.to_le_bytes()
                        } else {
                            code.to_be_bytes()
                        };
                        units.extend_from_slice(&quad);
                    }
                }
                self.reserve(units.len() as u64 * 8)?;
                for byte in units {
                    self.push_byte(byte);
                }
                Ok(())
            }
            SegmentType::Binary | SegmentType::Bitstring => {
                Err(ParseErrorKind::InvalidSegment("an integer is not a binary"))
            }
        }
    }

    fn push_float(&mut self, value: f64, size: Option<u64>, spec: Spec) -> SegResult<()> {
        if spec.kind != SegmentType::Float {
            return Err(ParseErrorKind::InvalidSegment(
                "a float needs the `float` type",
            ));
        }
        let bits = size
            .unwrap_or(64)
            .saturating_mul(u64::from(spec.unit.unwrap_or(1)));
        let bytes: Vec<u8> = match (bits, spec.little) {
            (64, false) => value.to_be_bytes().to_vec(),
            (64, true) => value.to_le_bytes().to_vec(),
            (32, little) => {
                let narrow = value as f32;
                if !narrow.is_finite() {
                    return Err(ParseErrorKind::InvalidSegment(
                        "float out of range for 32 bits",
                    ));
                }
                if little {
                    narrow.to_le_bytes().to_vec()
                } else {
                    narrow.to_be_bytes().to_vec()
                }
            }
            _ => {
                return Err(ParseErrorKind::InvalidSegment(
                    "float size must be 32 or 64",
                ))
            }
        };
        self.reserve(bits)?;
        for byte in bytes {
            self.push_byte(byte);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(value: i64) -> SegmentValue {
        SegmentValue::Int(BigInt::from(value))
    }

    #[test]
    fn packs_bits_big_endian_across_bytes() {
        let mut writer = BitWriter::new(64);
        writer.push(int(1), Some(3), Spec::default()).unwrap();
        writer.push(int(-1), Some(7), Spec::default()).unwrap();
        writer.push(int(0x1234), Some(16), Spec::default()).unwrap();
        // 001 1111111 0001001000110100: 26 bits
        assert_eq!(
            writer.finish(),
            (vec![0b0011_1111, 0b1100_0100, 0b1000_1101, 0b0000_0000], 2)
        );
    }

    #[test]
    fn encodes_utf_and_little_endian_and_floats() {
        let mut writer = BitWriter::new(64);
        let utf8 = Spec {
            kind: SegmentType::Utf8,
            ..Spec::default()
        };
        writer
            .push(SegmentValue::Str("é".into()), None, utf8)
            .unwrap();
        let little = Spec {
            little: true,
            ..Spec::default()
        };
        writer.push(int(0x0102), Some(16), little).unwrap();
        let float = Spec {
            kind: SegmentType::Float,
            ..Spec::default()
        };
        writer.push(SegmentValue::Float(1.5), None, float).unwrap();
        let (bytes, bits) = writer.finish();
        assert_eq!(bits, 0);
        assert_eq!(
            bytes,
            [0xC3, 0xA9, 0x02, 0x01, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn refuses_to_grow_past_the_limit() {
        let mut writer = BitWriter::new(4);
        assert_eq!(
            writer.push(int(0), Some(33), Spec::default()),
            Err(ParseErrorKind::BinaryTooLarge(4))
        );
    }
}
