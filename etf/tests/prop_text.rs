//! The printer and the parser over generated terms: printing then parsing
//! gives back an equal term, for every kind.
#![cfg(feature = "proptest")]

use etf::strategy::{term_with, TermConfig};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printing_then_parsing_gives_an_equal_term(
        t in term_with(TermConfig { local: true, ..TermConfig::default() }),
    ) {
        let text = t.to_string();
        let back = etf::parse_term(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, t, "printed as {}", text);
    }
}
