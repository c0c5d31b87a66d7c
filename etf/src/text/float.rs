//! Floats in the shortest text that reads back to the same `f64`, in the
//! notation OTP's `io_lib:write/1` (`float_to_list(F, [short])`) chooses.

use std::fmt::{self, Write};
use std::io::Write as _;

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
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "5e-324".
    let mut buf = [0u8; 40];
    let len = {
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        write!(cursor, "{:e}", value.abs()).map_err(|_| fmt::Error)?;
        usize::try_from(cursor.position()).map_err(|_| fmt::Error)?
    };
    let sci = std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?;
    let (mantissa, exponent) = sci.split_once('e').ok_or(fmt::Error)?;
    let exponent: i32 = exponent.parse().map_err(|_| fmt::Error)?;
    let (lead, rest) = mantissa.split_at(1);
    let frac = rest.strip_prefix('.').unwrap_or("");
    let digits = 1 + frac.len() as i32;

    if value.is_sign_negative() {
        out.write_char('-')?;
    }
    let exp_len = exponent.to_string().len() as i32;
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
            (f64::MAX, "1.7976931348623157e308"),
        ];
        for &(value, printed) in table {
            assert_eq!(show(value), printed, "float {value:e}");
        }
    }
}
