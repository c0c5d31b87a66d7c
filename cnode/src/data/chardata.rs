//! Erlang chardata (what the I/O protocol carries: code points, binaries
//! and nested lists of them) read as text.

use etf::Term;

/// The text of Erlang chardata, as `unicode:characters_to_list/2` reads
/// it: code points, binaries (UTF-8, or Latin-1 when `latin1`), and
/// nested lists of them, possibly ending in a binary tail. `None` if
/// `term` is not chardata. Deep nesting is walked without recursion.
pub fn chardata_to_string(term: &Term, latin1: bool) -> Option<String> {
    let mut out = String::new();
    append_text(term, latin1, &mut out).then_some(out)
}

/// Appends the text of Erlang chardata (code points, binaries, and lists
/// of them, nested) to `out`; binaries are UTF-8, or Latin-1 if `latin1`.
/// False if `term` is not chardata. The nesting comes from the remote node,
/// so the lists being walked are kept on a heap stack, not the call stack.
pub(crate) fn append_text(term: &Term, latin1: bool, out: &mut String) -> bool {
    let mut pending: Vec<std::slice::Iter<'_, Term>> = Vec::new();
    // An improper list's tail, which must be a binary, comes after its items.
    let mut tails: Vec<(usize, &Term)> = Vec::new();
    let mut next = Some(term);
    loop {
        let Some(term) = next.take() else {
            match pending.last_mut() {
                Some(items) => match items.next() {
                    Some(item) => next = Some(item),
                    None => {
                        pending.pop();
                        if let Some(&(depth, tail)) = tails.last() {
                            if depth == pending.len() {
                                tails.pop();
                                next = Some(tail);
                            }
                        }
                    }
                },
                None => return true,
            }
            continue;
        };
        match term {
            Term::Binary(bytes) if latin1 => out.extend(bytes.iter().copied().map(char::from)),
            Term::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => out.push_str(text),
                Err(_) => return false,
            },
            Term::ByteList(bytes) => out.extend(bytes.iter().copied().map(char::from)),
            Term::Int(code) => match u32::try_from(*code).ok().and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => return false,
            },
            Term::Nil => {}
            Term::List(items) => pending.push(items.iter()),
            Term::ImproperList(items, tail) => {
                if !matches!(**tail, Term::Binary(_)) {
                    return false;
                }
                tails.push((pending.len(), tail));
                pending.push(items.iter());
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(term: &Term, latin1: bool) -> Option<String> {
        let mut out = String::new();
        append_text(term, latin1, &mut out).then_some(out)
    }

    #[test]
    fn chardata_is_code_points_and_binaries_nested() {
        let nested = Term::list(vec![
            Term::Int(0x48),
            Term::list(vec![Term::binary("é".as_bytes().to_vec()), Term::Nil]),
            Term::ByteList(b"!".to_vec()),
            Term::Int(0x1F600),
        ]);
        assert_eq!(text(&nested, false).as_deref(), Some("Hé!\u{1F600}"));
        // Latin-1 binaries are one character per byte.
        assert_eq!(text(&Term::binary(vec![0xe9]), true).as_deref(), Some("é"));
        // An iolist may end in a binary tail.
        let improper =
            Term::ImproperList(vec![Term::Int(0x61)], Box::new(Term::binary(b"b".to_vec())));
        assert_eq!(text(&improper, false).as_deref(), Some("ab"));
    }

    #[test]
    fn deeply_nested_chardata_is_read_without_recursion() {
        let mut term = Term::binary(b"x".to_vec());
        for level in 0..1_000_000 {
            term = if level % 2 == 0 {
                Term::list(vec![Term::Int(0x61), term, Term::Int(0x62)])
            } else {
                Term::ImproperList(vec![term], Box::new(Term::binary(b"!".to_vec())))
            };
        }
        let text = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(64 << 10)
                .spawn_scoped(scope, || text(&term, false))
                .expect("thread starts")
                .join()
                .expect("no stack overflow")
        });
        let text = text.expect("chardata");
        assert_eq!(text.len(), 1 + 2 * 500_000 + 500_000);
        assert!(
            text.starts_with("aaa") && text.ends_with("b!b!"),
            "{}",
            &text[..8]
        );
        assert!(text.contains("axb!"));
    }

    #[test]
    fn what_is_not_chardata_is_refused() {
        assert_eq!(text(&Term::atom("ok"), false), None);
        assert_eq!(text(&Term::Int(-1), false), None);
        assert_eq!(text(&Term::Int(0xD800), false), None);
        assert_eq!(text(&Term::binary(vec![0xff]), false), None);
        let bad_tail = Term::ImproperList(vec![Term::Int(0x61)], Box::new(Term::Int(0x62)));
        assert_eq!(text(&bad_tail, false), None);
    }
}
