//! A cheap estimate of a term's encoded size, to bound the bytes queued
//! for a connection being set up without encoding them twice.

use etf::Term;

/// About how many bytes `term` takes in the External Term Format: exact
/// for binaries and strings (which dominate), a small fixed cost per
/// other node of the term. Iterative, so any depth is fine.
pub(crate) fn approx_size(term: &Term) -> usize {
    let mut total = 0usize;
    let mut stack = vec![term];
    while let Some(term) = stack.pop() {
        total = total.saturating_add(match term {
            Term::Binary(bytes) | Term::Local(bytes) => 5 + bytes.len(),
            Term::BitBinary(bits) => 6 + bits.bytes.len(),
            Term::ByteList(bytes) => 3 + bytes.len(),
            Term::Atom(atom) => 3 + atom.as_str().len(),
            Term::BigInt(_) => 16,
            Term::Tuple(elements) | Term::List(elements) => {
                stack.extend(elements.iter());
                5
            }
            Term::ImproperList(elements, tail) => {
                stack.extend(elements.iter());
                stack.push(tail);
                5
            }
            Term::Map(map) => {
                for (key, value) in map.iter() {
                    stack.push(key);
                    stack.push(value);
                }
                5
            }
            Term::Fun(fun) => {
                stack.extend(fun.free_vars.iter());
                64
            }
            Term::Record(record) => {
                stack.extend(record.values());
                let names = record.field_names().iter();
                names.fold(16 + record.module().len() + record.name().len(), |n, f| {
                    n.saturating_add(2 + f.len())
                })
            }
            Term::Pid(_) | Term::Port(_) | Term::Reference(_) | Term::Export(_) => 32,
            Term::Int(_) | Term::Float(_) | Term::Nil => 9,
        });
    }
    total
}

#[cfg(test)]
mod tests {
    use super::approx_size;
    use etf::Term;

    #[test]
    fn binaries_count_in_full_and_small_terms_a_little() {
        let big = Term::tuple(vec![Term::binary(vec![0u8; 1 << 20]), Term::Int(1)]);
        let size = approx_size(&big);
        assert!(((1 << 20)..(1 << 20) + 64).contains(&size), "{size}");
        let encoded = etf::to_vec(&big).expect("encodes").len();
        assert!(size.abs_diff(encoded) < 64);
    }

    #[test]
    fn a_deep_term_does_not_overflow_the_stack() {
        let mut term = Term::Nil;
        for _ in 0..100_000 {
            term = Term::list(vec![term]);
        }
        assert!(approx_size(&term) > 100_000);
        drop(term);
    }
}
