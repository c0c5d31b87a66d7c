//! Builds the value of a binary literal `<<Seg, …>>` from its segments.

use super::error::ParseErrorKind;
use super::lex::Integer;
use num_bigint::Sign;
use num_traits::ToPrimitive;

/// A segment's value.
#[derive(Debug)]
pub(crate) enum SegmentValue {
    /// An integer (or character).
    Int(Integer),
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

    /// Appends the low `count` bits of `value` (`count` at most 8), highest
    /// first.
    fn push_bits(&mut self, value: u8, count: u8) {
        debug_assert!(count <= 8);
        if count == 0 {
            return;
        }
        let used = (self.bits % 8) as u8;
        let low = u16::from(value) & ((1 << count) - 1);
        // The bits placed right after the `used` bits of a 16-bit window
        // that starts at the last, partly filled byte.
        let window = low << (16 - used - count);
        let [high, next] = window.to_be_bytes();
        match self.bytes.last_mut() {
            Some(last) if used > 0 => *last |= high,
            _ => self.bytes.push(high),
        }
        if used + count > 8 {
            self.bytes.push(next);
        }
        self.bits += u64::from(count);
    }

    fn push_byte(&mut self, byte: u8) {
        self.push_bits(byte, 8);
    }

    /// Appends `count` copies of the bit that fills `fill` (0x00 or 0xFF):
    /// the sign extension of a wide segment, written a byte at a time.
    fn push_fill(&mut self, fill: u8, mut count: u64) {
        let to_boundary = u64::from((8 - self.bits % 8) as u8 % 8).min(count);
        self.push_bits(fill, to_boundary as u8);
        count -= to_boundary;
        let whole = usize::try_from(count / 8).expect("reserved, so it fits in memory");
        self.bytes.resize(self.bytes.len() + whole, fill);
        self.bits += count / 8 * 8;
        self.push_bits(fill, (count % 8) as u8);
    }

    /// Writes the low `size` bits of `value` (two's complement), big-endian.
    fn push_int_big(&mut self, value: &LeBytes, size: u64) -> SegResult<()> {
        self.reserve(size)?;
        let width = value.bytes().len() as u64 * 8;
        self.push_fill(value.fill, size.saturating_sub(width));
        let own = size.min(width);
        // The value's own bits, from the highest wanted one down.
        let top = own / 8;
        self.push_bits(value.byte(top), (own % 8) as u8);
        for i in (0..top).rev() {
            self.push_byte(value.byte(i));
        }
        Ok(())
    }

    /// Writes the low `size` bits of `value` little-endian: whole bytes
    /// lowest first, then the leftover high bits, as the BEAM lays out
    /// `<<V:12/little>>`.
    fn push_int_little(&mut self, value: &LeBytes, size: u64) -> SegResult<()> {
        self.reserve(size)?;
        let whole = size / 8;
        let own = whole.min(value.bytes().len() as u64);
        for i in 0..own {
            self.push_byte(value.byte(i));
        }
        self.push_fill(value.fill, (whole - own) * 8);
        self.push_bits(value.byte(whole), (size % 8) as u8);
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
                    let code = Integer::Small(i64::from(u32::from(c)));
                    self.push(SegmentValue::Int(code), size, spec)?;
                }
                Ok(())
            }
            SegmentValue::Int(value) => self.push_int(&value, size, spec),
            SegmentValue::Float(value) => self.push_float(value, size, spec),
        }
    }

    fn push_int(&mut self, value: &Integer, size: Option<u64>, spec: Spec) -> SegResult<()> {
        match spec.kind {
            SegmentType::Integer => {
                let unit = spec.unit.unwrap_or(1);
                let bits = size
                    .unwrap_or(8)
                    .checked_mul(u64::from(unit))
                    .ok_or(ParseErrorKind::InvalidSegment("size too large"))?;
                let value = LeBytes::of(value);
                if spec.little {
                    self.push_int_little(&value, bits)
                } else {
                    self.push_int_big(&value, bits)
                }
            }
            SegmentType::Float => {
                let float = match value {
                    Integer::Small(value) => *value as f64,
                    Integer::Big(value) => value.to_f64().unwrap_or(f64::INFINITY),
                };
                if !float.is_finite() {
                    return Err(ParseErrorKind::InvalidSegment(
                        "integer too large for a float segment",
                    ));
                }
                self.push_float(float, size, spec)
            }
            SegmentType::Utf8 | SegmentType::Utf16 | SegmentType::Utf32 => {
                if size.is_some() || spec.unit.is_some() {
                    return Err(ParseErrorKind::InvalidSegment(
                        "utf segments take no size or unit",
                    ));
                }
                let code = match value {
                    Integer::Small(value) => u32::try_from(*value).ok(),
                    Integer::Big(_) => None,
                };
                let c = code
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

/// An integer's two's complement bytes, lowest first; every byte past them
/// is `fill`, its sign extended. Small integers need no allocation.
struct LeBytes {
    small: [u8; 8],
    big: Vec<u8>,
    fill: u8,
}

impl LeBytes {
    fn of(value: &Integer) -> LeBytes {
        let sign_fill = |negative: bool| if negative { 0xFF } else { 0 };
        match value {
            Integer::Small(value) => LeBytes {
                small: value.to_le_bytes(),
                big: Vec::new(),
                fill: sign_fill(*value < 0),
            },
            Integer::Big(value) => LeBytes {
                small: [0; 8],
                big: value.to_signed_bytes_le(),
                fill: sign_fill(value.sign() == Sign::Minus),
            },
        }
    }

    fn bytes(&self) -> &[u8] {
        if self.big.is_empty() {
            &self.small
        } else {
            &self.big
        }
    }

    fn byte(&self, i: u64) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.bytes().get(i).copied())
            .unwrap_or(self.fill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(value: i64) -> SegmentValue {
        SegmentValue::Int(Integer::Small(value))
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

    /// The layout the writer must produce, one bit at a time: `size` bits
    /// of `value`, big- or little-endian, after `offset` one bits.
    fn bit_by_bit(offset: u64, value: i128, size: u64, little: bool) -> (Vec<u8>, u8) {
        let bit_of = |i: u64| (value >> i.min(127)) & 1 == 1;
        let mut order: Vec<u64> = Vec::new();
        if little {
            for byte in 0..size / 8 {
                order.extend((0..8).rev().map(|bit| byte * 8 + bit));
            }
            order.extend((0..size % 8).rev().map(|bit| size / 8 * 8 + bit));
        } else {
            order.extend((0..size).rev());
        }
        let mut bits: Vec<bool> = vec![true; offset as usize];
        bits.extend(order.into_iter().map(bit_of));
        let mut bytes = vec![0u8; bits.len().div_ceil(8)];
        for (i, bit) in bits.iter().enumerate() {
            if *bit {
                bytes[i / 8] |= 0x80 >> (i % 8);
            }
        }
        (bytes, (bits.len() % 8) as u8)
    }

    #[test]
    fn every_offset_size_and_sign_lays_out_bits_as_one_at_a_time_would() {
        let values = [
            0i128,
            1,
            -1,
            5,
            -6,
            0x1234,
            -0x1234,
            i64::MAX as i128,
            i64::MIN as i128,
        ];
        let bigs = [1i128 << 70, -(1i128 << 70) + 3];
        for offset in 0..8 {
            for size in (0..20).chain([63, 64, 65, 71, 72, 80, 150, 203]) {
                for little in [false, true] {
                    for &value in values.iter().chain(&bigs) {
                        let integer = match i64::try_from(value) {
                            Ok(small) => Integer::Small(small),
                            Err(_) => Integer::Big(value.into()),
                        };
                        let mut writer = BitWriter::new(1024);
                        let ones = Spec::default();
                        for _ in 0..offset {
                            writer.push(int(1), Some(1), ones).unwrap();
                        }
                        let spec = Spec { little, ..ones };
                        writer
                            .push(SegmentValue::Int(integer), Some(size), spec)
                            .unwrap();
                        assert_eq!(
                            writer.finish(),
                            bit_by_bit(offset, value, size, little),
                            "{value}:{size} after {offset} bits, little {little}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_wide_segment_is_its_sign_extended_bytes_at_once() {
        let mut writer = BitWriter::new(16 << 20);
        writer.push(int(7), None, Spec::default()).unwrap();
        writer
            .push(int(-2), Some(93_306_492), Spec::default())
            .unwrap();
        let (bytes, bits) = writer.finish();
        assert_eq!((bytes.len(), bits), (11_663_313, 4));
        assert_eq!(bytes[0], 7);
        assert!(bytes[1..bytes.len() - 1].iter().all(|&b| b == 0xFF));
        assert_eq!(bytes[bytes.len() - 1], 0b1110_0000);
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
