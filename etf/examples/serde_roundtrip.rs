//! Rust structs to Erlang terms and back through `etf::serde`.
//!
//! Run with `cargo run -p etf --example serde_roundtrip --features serde`.
//! It prints each value's term in Erlang syntax and its bytes, which
//! `binary_to_term/1` in `erl` reads: paste the printed list into
//! `binary_to_term(list_to_binary([...]))`.

use etf::serde::{from_slice, from_term, to_term, to_vec};
use etf::{Atom, Pid, Term};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A job as an Erlang job queue might hold it.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Job {
    id: u64,
    name: String,
    owner: Pid,
    priority: Option<u8>,
    args: Vec<Term>,
    state: State,
    labels: BTreeMap<String, String>,
}

/// `#[serde(rename_all = "snake_case")]` gives Erlang-style atoms.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum State {
    Queued,
    Running { node: Atom, since: u64 },
    Failed(String),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let job = Job {
        id: 42,
        name: "resize".into(),
        owner: Pid {
            node: Atom::new("worker@localhost"),
            id: 85,
            serial: 0,
            creation: 1,
        },
        priority: None,
        args: vec![etf::parse_term("{width, 640}")?, Term::atom("fast")],
        state: State::Running {
            node: Atom::new("worker@localhost"),
            since: 1_700_000_000,
        },
        labels: [("team".to_owned(), "media".to_owned())].into(),
    };

    let term = to_term(&job)?;
    println!("term:  {term}");
    let bytes = to_vec(&job)?;
    println!("bytes: {bytes:?}");

    let back: Job = from_slice(&bytes)?;
    assert_eq!(back, job);
    println!("decoded back: {back:?}");

    // A reply as Erlang code writes it, read into Rust types.
    let reply = etf::parse_term("[queued, {failed, <<\"disk full\">>}]")?;
    let states: Vec<State> = from_term(&reply)?;
    println!("states from Erlang: {states:?}");
    Ok(())
}
