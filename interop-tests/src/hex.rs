//! Byte strings in failure messages.

/// How many bytes [`hex`] shows before eliding the rest.
const SHOWN: usize = 512;

/// Lower-case hex of `bytes`, two digits per byte separated by spaces; past
/// 512 bytes the rest is elided with a note of the total length.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().min(SHOWN) * 3 + 32);
    for (i, byte) in bytes.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    if bytes.len() > SHOWN {
        out.push_str(&format!(" ... ({} bytes in all)", bytes.len()));
    }
    out
}

/// The first offset at which `a` and `b` differ, or `None` if they are equal.
/// When one is a prefix of the other, the offset is the shorter's length.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        return None;
    }
    Some(a.iter().zip(b).take_while(|(x, y)| x == y).count())
}

/// A two-line description of where `ours` and `theirs` differ: the offset and
/// 16 bytes of context from each.
pub fn describe_difference(ours: &[u8], theirs: &[u8]) -> String {
    match first_difference(ours, theirs) {
        None => "identical".to_owned(),
        Some(at) => {
            let from = at.saturating_sub(8);
            let window =
                |bytes: &[u8]| hex(&bytes[from.min(bytes.len())..(at + 16).min(bytes.len())]);
            format!(
                "first difference at byte {at} (lengths {} vs {}); from byte {from}:\n  ours:   {}\n  theirs: {}",
                ours.len(),
                theirs.len(),
                window(ours),
                window(theirs)
            )
        }
    }
}
