//! The old FLOAT_EXT text: C's `%.20e`, NUL-padded to 31 bytes.

/// `f` as `printf("%.20e")` writes it (e.g. `1.50000000000000000000e+00`).
/// `f` must be finite.
pub(super) fn format(f: f64) -> [u8; 31] {
    // Rust's `{:.20e}` rounds exactly as glibc does, but writes the exponent
    // as `e0` / `e-300` where C writes `e+00` / `e-300`.
    let rust = format!("{f:.20e}");
    let (mantissa, exponent) = rust.split_once('e').unwrap_or((&rust, "0"));
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exponent),
    };
    let text = format!("{mantissa}e{sign}{digits:0>2}");
    let mut out = [0u8; 31];
    let n = text.len().min(31);
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    out
}

#[cfg(test)]
mod tests {
    use super::format;

    fn text(f: f64) -> String {
        let b = format(f);
        let end = b.iter().position(|&c| c == 0).unwrap_or(31);
        String::from_utf8(b[..end].to_vec()).unwrap()
    }

    #[test]
    fn matches_otp_bytes() {
        // term_to_binary(F, [{minor_version, 0}]) on OTP 25 and 28.
        assert_eq!(text(1.5), "1.50000000000000000000e+00");
        assert_eq!(text(-1.0e-300), "-1.00000000000000002506e-300");
        assert_eq!(text(0.0), "0.00000000000000000000e+00");
    }
}
