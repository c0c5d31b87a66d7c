//! The challenge digest: MD5 of the cookie followed by the challenge written
//! as an unsigned decimal number.

use md5::{Digest as _, Md5};

/// A 16-byte challenge digest.
pub type Digest = [u8; 16];

/// The digest of `challenge` under `cookie`.
pub fn digest(cookie: &[u8], challenge: u32) -> Digest {
    let mut hasher = Md5::new();
    hasher.update(cookie);
    hasher.update(challenge.to_string().as_bytes());
    hasher.finalize().into()
}

/// Whether `received` is the digest of `challenge` under `cookie`, compared in
/// constant time.
pub fn verify(cookie: &[u8], challenge: u32, received: &Digest) -> bool {
    let expected = digest(cookie, challenge);
    expected
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_md5_of_cookie_and_decimal_challenge() {
        // MD5("abc" ++ "123") = MD5("abc123").
        assert_eq!(
            digest(b"abc", 123),
            [
                0xe9, 0x9a, 0x18, 0xc4, 0x28, 0xcb, 0x38, 0xd5, 0xf2, 0x60, 0x85, 0x36, 0x78, 0x92,
                0x2e, 0x03
            ]
        );
        // The challenge is unsigned: u32::MAX is "4294967295", not "-1".
        assert_eq!(digest(b"c", u32::MAX), digest(b"c4294967", 295));
    }

    #[test]
    fn verify_accepts_only_the_right_cookie() {
        let d = digest(b"secret", 42);
        assert!(verify(b"secret", 42, &d));
        assert!(!verify(b"secreT", 42, &d));
        assert!(!verify(b"secret", 43, &d));
    }
}
