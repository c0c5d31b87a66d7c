//! Floats in the shortest text that reads back to the same `f64`, in the
//! notation OTP's `io_lib:write/1` (`float_to_list(F, [short])`) chooses.

use std::fmt::{self, Write};

/// 2^53: from here on OTP always uses scientific notation.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Writes a finite float as Erlang prints it: the shortest digits that round
/// trip, in plain notation (`100.0`, `0.001`) when that is not longer than
/// scientific notation (`1.0e15`, `1.5e-7`) and the value is below 2^53.
/// Always has a `.` with a digit on both sides, as Erlang's scanner requires.
pub(crate) fn write_float(out: &mut impl Write, value: f64) -> fmt::Result {
    if !value.is_finite() {
        // The term model never holds these; print something recognisable
        // rather than failing the whole formatting.
        return out.write_str(if value.is_nan() {
            "nan"
        } else if value < 0.0 {
            "-inf"
        } else {
            "inf"
        });
    }
    let mut ryu = ryu::Buffer::new();
    let text = ryu.format_finite(value.abs());
    if is_erlang_plain(value.abs(), text) {
        if value.is_sign_negative() {
            out.write_char('-')?;
        }
        return out.write_str(text);
    }
    write_general(out, value, text)
}

/// Whether `text`, `ryu`'s shortest form of `abs` (>= 0), is already what
/// Erlang prints: from 0.001 up to 2^53 `ryu` writes plain notation
/// (`0.00125`, `12.5`, `100.0`), and Erlang does too unless the value is a
/// whole number (`1.0e5` is shorter than `100000.0`). Most floats in data
/// take this path, without looking at their digits again.
fn is_erlang_plain(abs: f64, text: &str) -> bool {
    (0.001..EXACT_INTEGER_LIMIT).contains(&abs) && !text.ends_with(".0")
}

/// [`write_float`] for any finite `value`, whose absolute value `ryu`
/// wrote as `text`.
fn write_general(out: &mut impl Write, value: f64, text: &str) -> fmt::Result {
    // The shortest round-trip digits and the decimal exponent of the
    // first: 1.2345e-7 is ("12345", -7).
    let mut digits_buf = [0u8; 24];
    let (shown, exponent) = shortest(text, &mut digits_buf);
    let (lead, frac) = shown.split_at(1);
    let digits = 1 + frac.len() as i32;

    if value.is_sign_negative() {
        out.write_char('-')?;
    }
    let exp_len = i32::from(exponent < 0) + exponent.unsigned_abs().max(1).ilog10() as i32 + 1;
    let sci_len = digits + 2 + i32::from(frac.is_empty()) + exp_len;
    let plain_len = if exponent >= 0 {
        digits.max(exponent + 1) + 1 + i32::from(digits <= exponent + 1)
    } else {
        2 + (-exponent - 1) + digits
    };
    if value.abs() < EXACT_INTEGER_LIMIT && plain_len <= sci_len {
        write_plain(out, lead, frac, exponent)
    } else {
        let frac = if frac.is_empty() { "0" } else { frac };
        write!(out, "{lead}.{frac}e{exponent}")
    }
}

/// The significant digits of `text`, a float as `ryu` writes it
/// (`"0.001"`, `"12.5"`, `"1e300"`, `"1.5e-7"`), without leading or
/// trailing zeros (at least one digit), and the decimal exponent of the
/// first of them.
fn shortest<'b>(text: &str, buf: &'b mut [u8; 24]) -> (&'b str, i32) {
    let (mantissa, exp10) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let int_len = mantissa.find('.').unwrap_or(mantissa.len());
    let mut len = 0;
    let mut leading_zeros = 0;
    for b in mantissa.bytes().filter(u8::is_ascii_digit) {
        if len == 0 && b == b'0' {
            leading_zeros += 1;
        } else if len < buf.len() {
            buf[len] = b;
            len += 1;
        }
    }
    while len > 1 && buf[len - 1] == b'0' {
        len -= 1;
    }
    if len == 0 {
        // Zero.
        buf[0] = b'0';
        return ("0", 0);
    }
    let exponent = exp10 + int_len as i32 - 1 - leading_zeros;
    (std::str::from_utf8(&buf[..len]).unwrap_or("0"), exponent)
}

/// Writes the digits `lead` `frac` (value `lead.frac` x 10^`exponent`) without
/// an exponent.
fn write_plain(out: &mut impl Write, lead: &str, frac: &str, exponent: i32) -> fmt::Result {
    if exponent < 0 {
        out.write_str("0.")?;
        for _ in 0..(-exponent - 1) {
            out.write_char('0')?;
        }
        out.write_str(lead)?;
        return out.write_str(frac);
    }
    let int_digits = exponent as usize;
    out.write_str(lead)?;
    if frac.len() > int_digits {
        out.write_str(&frac[..int_digits])?;
        out.write_char('.')?;
        out.write_str(&frac[int_digits..])
    } else {
        out.write_str(frac)?;
        for _ in frac.len()..int_digits {
            out.write_char('0')?;
        }
        out.write_str(".0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(value: f64) -> String {
        let mut out = String::new();
        write_float(&mut out, value).unwrap();
        out
    }

    /// What OTP 28's `io_lib:format("~w", [F])` prints for these floats.
    #[test]
    fn notation_matches_otp() {
        let table: &[(f64, &str)] = &[
            (1.0e300, "1.0e300"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (5.0e-324, "5.0e-324"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1.0e15, "1.0e15"),
            (1.0e16, "1.0e16"),
            (123_456_789_012_345_680.0, "1.2345678901234568e17"),
            (1.5e-7, "1.5e-7"),
            (0.001, "0.001"),
            (0.0001, "0.0001"),
            (12345.678, "12345.678"),
            (2.0e-5, "2.0e-5"),
            (9_007_199_254_740_992.0, "9.007199254740992e15"),
            (9_007_199_254_740_991.0, "9007199254740991.0"),
            (1_234_567.0, "1234567.0"),
            (12_345_600.0, "1.23456e7"),
            (0.000123, "1.23e-4"),
            (0.0004, "0.0004"),
            (0.00125, "0.00125"),
            (1.5e-4, "1.5e-4"),
            (100_000.0, "1.0e5"),
            (123_456_789_012_345.6, "123456789012345.6"),
            (-2.5, "-2.5"),
            // Two shortest candidates: OTP 25 (Ryu) rounds the tie to even.
            (122_004_446_041_270.12, "122004446041270.12"),
            (f64::MAX, "1.7976931348623157e308"),
        ];
        for &(value, printed) in table {
            assert_eq!(show(value), printed, "float {value:e}");
        }
    }

    /// The plain shortcut writes what the general path writes, over a
    /// spread of values around its bounds and inside them.
    #[test]
    fn plain_shortcut_is_the_general_notation() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for i in 0..200_000u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let value = match i % 4 {
                0 => f64::from_bits(state >> 1),
                1 => (state >> 11) as f64 / (1u64 << (i % 64)) as f64,
                2 => (state % 10_000_000) as f64 / 10f64.powi((i % 19) as i32 - 2),
                _ => 0.001 * (1.0 + (state % 1000) as f64 * f64::EPSILON * 8.0 - 0.5e-13),
            };
            if !value.is_finite() {
                continue;
            }
            let mut ryu = ryu::Buffer::new();
            let text = ryu.format_finite(value.abs());
            if is_erlang_plain(value.abs(), text) {
                let mut general = String::new();
                write_general(&mut general, value.abs(), text).unwrap();
                assert_eq!(general, text, "{value:e}");
            }
        }
        for (value, plain) in [
            (0.001, true),
            (0.000999, false),
            (12.5, true),
            (100.0, false),
        ] {
            let mut ryu = ryu::Buffer::new();
            assert_eq!(is_erlang_plain(value, ryu.format_finite(value)), plain);
        }
    }

    /// The digits are as short as `{:e}`'s, Rust's own shortest notation,
    /// with the same exponent, and read back to the value, over a spread of
    /// bit patterns. (On a tie between two shortest candidates, `{:e}` and
    /// OTP can differ: see `notation_matches_otp`, 122004446041270.12.)
    #[test]
    fn shortest_digits_round_trip() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..200_000u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let value = match i % 3 {
                0 => f64::from_bits(state >> 1),
                1 => (state >> 11) as f64 / (1u64 << (i % 60)) as f64,
                _ => (state % 1_000_000) as f64 / 10f64.powi((i % 12) as i32),
            };
            if !value.is_finite() {
                continue;
            }
            let sci = format!("{value:e}");
            let (mantissa, exp) = sci.split_once('e').unwrap();
            let std_digits = mantissa.chars().filter(char::is_ascii_digit).count();
            let mut ryu = ryu::Buffer::new();
            let mut buf = [0u8; 24];
            let (digits, exponent) = shortest(ryu.format_finite(value), &mut buf);
            assert_eq!(digits.len(), std_digits, "{value:e}");
            assert_eq!(exponent, exp.parse::<i32>().unwrap(), "{value:e}");
            let back: f64 = format!("{}.{}e{exponent}", &digits[..1], &digits[1..])
                .parse()
                .unwrap();
            assert_eq!(back.to_bits(), value.to_bits(), "{value:e}");
        }
    }
}
