//! A key-value service for Erlang and Elixir, written with the `Server`
//! trait: a `kv` gen_server, an rpc function (`kv:size/0`), a monitor on
//! an Erlang process, and an Elixir struct read into a Rust struct and
//! answered with another.
//!
//! ```text
//! cargo run -p cnode --example kv_service -- kv secret
//! iex --sname ex --cookie secret
//! iex> defmodule User, do: defstruct [:name, :age]
//! iex> defmodule Card, do: defstruct [:name, :adult]
//! iex> kv = {:kv, :"kv@HOST"}
//! iex> GenServer.call(kv, {:put, :a, 1})
//! :ok
//! iex> GenServer.call(kv, {:get, :a})
//! {:ok, 1}
//! iex> :erpc.call(:"kv@HOST", :kv, :size, [])
//! 1
//! iex> GenServer.call(kv, {:greet, %User{name: "Ann", age: 30}})
//! %Card{name: "Hello, Ann", adult: true}
//! iex> GenServer.call(kv, {:watch, self()})   # then exit the shell:
//! :ok                                         # kv prints the 'DOWN'
//! ```

use std::collections::HashMap;
use std::time::Duration;

use cnode::etf::{self, Pid, Term};
use cnode::{Context, Exception, Message, Next, Node, Reply, ReplyTo, Server};
use serde::{Deserialize, Serialize};

/// What callers ask, as Erlang writes it: `{put, Key, Value}`, `size`...
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Ask {
    Put(String, Term),
    Get(String),
    Size,
    Watch(Pid),
    Greet(User),
}

/// `%User{name: "Ann", age: 30}`: a map of another struct is refused.
#[derive(Serialize, Deserialize)]
#[serde(rename = "%User")]
struct User {
    name: String,
    age: u32,
}

/// Answered as `%Card{name: ..., adult: ...}`.
#[derive(Serialize)]
#[serde(rename = "%Card")]
struct Card {
    name: String,
    adult: bool,
}

#[derive(Default)]
struct Kv(HashMap<String, Term>);

impl Server for Kv {
    type Call = Ask;
    type Cast = Ask;
    type Reply = Term;

    async fn handle_call(&mut self, ask: Ask, _: ReplyTo, ctx: &mut Context) -> Reply<Term> {
        Reply::Reply(match ask {
            Ask::Put(key, value) => {
                self.0.insert(key, value);
                Term::atom("ok")
            }
            Ask::Get(key) => match self.0.get(&key) {
                Some(value) => Term::ok(value.clone()),
                None => Term::atom("error"),
            },
            Ask::Size => Term::from(self.0.len() as i64),
            Ask::Watch(pid) => match ctx.process().monitor(pid) {
                Ok(_) => Term::atom("ok"),
                Err(_) => Term::atom("error"),
            },
            Ask::Greet(user) => etf::serde::to_term(&Card {
                name: format!("Hello, {}", user.name),
                adult: user.age >= 18,
            })
            .unwrap_or_else(|_| Term::atom("error")),
        })
    }

    async fn handle_info(&mut self, message: Message, _: &mut Context) -> Next {
        if let Some(down) = message.as_down() {
            println!("watched {} went down: {}", down.object, down.reason);
        }
        Next::Continue
    }
}

#[tokio::main]
async fn main() -> Result<(), cnode::Error> {
    let mut args = std::env::args().skip(1);
    let mut builder = Node::builder(args.next().unwrap_or_else(|| "kv".to_owned()));
    if let Some(cookie) = args.next() {
        builder = builder.cookie(&cookie);
    }
    let node = builder.start().await?;
    let kv = node.start_server(Some("kv"), Kv::default()).await?;
    node.register_typed_function("kv", "size", move |()| {
        let kv = kv.clone();
        async move {
            let size = kv.call::<_, i64>(&Ask::Size, Duration::from_secs(5)).await;
            size.map_err(|_| Exception::badarg())
        }
    });
    println!("kv serving on {}", node.name());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
