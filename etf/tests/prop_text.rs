//! The printer and the parser over generated terms: printing then parsing
//! gives back an equal term, for every kind.
#![cfg(feature = "proptest")]

use etf::strategy::{term_with, TermConfig};
use etf::{Record, Term};
use proptest::prelude::*;

/// `t` with every native record marked as not exported: the one thing the
/// text does not show (OTP 29 prints both alike).
fn unexported(t: &Term) -> Term {
    let all = |terms: &[Term]| terms.iter().map(unexported).collect::<Vec<_>>();
    match t {
        Term::Record(r) => {
            let fields = r.field_names().iter().cloned().zip(all(r.values()));
            Term::from(
                Record::new(r.module().clone(), r.name().clone(), fields).expect("unique fields"),
            )
        }
        Term::Tuple(elems) => Term::Tuple(all(elems)),
        Term::List(elems) => Term::List(all(elems)),
        Term::ImproperList(elems, tail) => {
            Term::ImproperList(all(elems), Box::new(unexported(tail)))
        }
        Term::Map(map) => Term::map(
            map.iter()
                .map(|(k, v)| (unexported(k), unexported(v)))
                .collect(),
        )
        .expect("unique keys"),
        Term::Fun(fun) => {
            let mut fun = fun.clone();
            fun.free_vars = all(&fun.free_vars);
            Term::Fun(fun)
        }
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printing_then_parsing_gives_an_equal_term(
        t in term_with(TermConfig { local: true, records: true, ..TermConfig::default() }),
    ) {
        let text = t.to_string();
        let back = etf::parse_term(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, unexported(&t), "printed as {}", text);
        let pretty = t.pretty().width(40).to_string();
        let back = etf::parse_term(&pretty).map_err(|e| TestCaseError::fail(format!("{pretty}: {e}")))?;
        prop_assert_eq!(back, unexported(&t), "laid out as {}", pretty);
    }
}
