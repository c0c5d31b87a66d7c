//! `etf::serde`'s Elixir mappings against a real Elixir 1.14 (Debian's
//! `elixir`, on OTP 25), in one `elixir` run:
//! - Elixir builds terms with structs (nested), `nil`, keyword lists,
//!   charlists and tagged tuples and prints their `term_to_binary` as hex;
//!   they decode into Rust types, and structs of the wrong module (or
//!   plain maps) are refused, naming both;
//! - Rust encodes values with `etf::serde::elixir::to_vec` and Elixir
//!   `binary_to_term`s each one and pattern-matches it (`%User{...} = t`),
//!   also checking that every struct has exactly its `defstruct`'s keys;
//!   it prints one verdict per case, which the test asserts.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use etf::serde::elixir::{self, Charlist, Keyword};
use etf::serde::ErrorKind;
use etf::Atom;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "%User")]
struct User {
    name: String,
    age: u32,
    email: Option<String>,
    address: Option<Address>,
    tags: Vec<Atom>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "%Shop.Address")]
struct Address {
    city: String,
    #[serde(with = "etf::serde::elixir::charlist")]
    zip: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Opts {
    timeout: u32,
    retry: bool,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Suit {
    Spades,
    Hearts,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "%Card")]
struct Card {
    rank: String,
    suit: Suit,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Reply {
    UserReply(Card),
    NotFound,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Reason {
    Enoent,
    Timeout(u32),
}

/// The modules both halves of the script use.
const MODULES: &str = r#"
defmodule User do
  defstruct [:name, :age, :email, :address, tags: []]
end
defmodule Shop.Address do
  defstruct [:city, :zip]
end
defmodule Admin do
  defstruct [:name]
end
defmodule Card do
  defstruct [:rank, :suit]
end
"#;

/// The terms Elixir makes, in the order [`decode_elixir_terms`] reads
/// them, one `term_to_binary` in hex a line, then `END`.
const PRODUCE: &str = r#"
hex = fn t -> IO.puts(Base.encode16(:erlang.term_to_binary(t))) end
ana = %User{name: "ana", age: 31, email: nil,
            address: %Shop.Address{city: "Lyon", zip: '69001'}, tags: [:admin, :ops]}
hex.(ana)
hex.([ana, %User{name: "bo", age: 7, email: "bo@x", address: nil}])
hex.(%Admin{name: "root"})
hex.(%{name: "plain", age: 1, email: nil, address: nil, tags: []})
hex.([timeout: 500, retry: true])
hex.([retry: false, timeout: 5, extra: :ignored])
hex.([a: 1, b: 2, a: 3])
hex.('héllo')
hex.('h€!')
hex.({:ok, 42})
hex.({:error, :enoent})
hex.({:error, {:timeout, 30}})
hex.(:ok)
hex.({:user_reply, %Card{rank: "A", suit: :spades}})
hex.(:not_found)
IO.puts("END")
"#;

/// What Elixir expects of the terms Rust sends, in the order
/// [`rust_values_for_elixir`] writes them: one verdict line each, then
/// `DONE`.
const CHECK: &str = r#"
exact = fn s, mod -> is_struct(s, mod) and Enum.sort(Map.keys(s)) == Enum.sort(Map.keys(struct(mod))) end
checks = [
  fn t -> match?(%User{name: "cy", age: 40, email: nil, tags: [:x],
                       address: %Shop.Address{city: "Oslo", zip: '0150'}}, t)
          and exact.(t, User) and exact.(t.address, Shop.Address) end,
  fn t -> match?([%User{name: "a", address: nil}, %User{name: "b", email: "b@y"}], t)
          and Enum.all?(t, &exact.(&1, User)) end,
  fn t -> t == [timeout: 500, retry: true] and Keyword.get(t, :timeout) == 500 end,
  fn t -> t == [a: 1, b: 2, a: 3] and Keyword.get_values(t, :a) == [1, 3] end,
  fn t -> t == 'héllo' and List.to_string(t) == "héllo" end,
  fn t -> t == 'h€!' end,
  fn t -> t == [] end,
  fn t -> {:ok, 42} = t; true end,
  fn t -> {:error, :enoent} = t; true end,
  fn t -> t == {:error, {:timeout, 30}} end,
  fn t -> t == :ok end,
  fn t -> match?({:user_reply, %Card{rank: "A", suit: :hearts}}, t) and exact.(elem(t, 1), Card) end,
  fn t -> t == :not_found end,
  fn t -> t == {nil, 1} end,
]
for {check, i} <- Enum.with_index(checks) do
  t = IO.gets("") |> String.trim() |> Base.decode16!() |> :erlang.binary_to_term()
  verdict = try do
    if check.(t), do: "ok", else: "mismatch"
  rescue
    e -> "raised " <> Exception.message(e)
  end
  IO.puts("case #{i}: #{verdict}: #{inspect(t)}")
end
IO.puts("DONE")
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex line from elixir: {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex from elixir"))
        .collect()
}

/// Reads Elixir's terms (the lines of [`PRODUCE`]) into Rust types.
fn decode_elixir_terms(terms: &[Vec<u8>]) {
    let mut terms = terms.iter();
    let mut next = || terms.next().expect("elixir printed fewer terms").as_slice();

    let ana = User {
        name: "ana".into(),
        age: 31,
        email: None,
        address: Some(Address {
            city: "Lyon".into(),
            zip: "69001".into(),
        }),
        tags: vec![Atom::new("admin"), Atom::new("ops")],
    };
    assert_eq!(elixir::from_slice::<User>(next()).unwrap(), ana);
    let bo = User {
        name: "bo".into(),
        age: 7,
        email: Some("bo@x".into()),
        address: None,
        tags: vec![],
    };
    assert_eq!(
        elixir::from_slice::<Vec<User>>(next()).unwrap(),
        vec![ana, bo]
    );

    let admin = elixir::from_slice::<User>(next()).unwrap_err();
    assert!(
        matches!(admin.kind(), ErrorKind::WrongStruct { expected, found }
            if expected == "%User{}" && found == "%Admin{}"),
        "{admin}"
    );
    let plain = elixir::from_slice::<User>(next()).unwrap_err();
    assert_eq!(
        plain.to_string(),
        "expected %User{}, found a map without `__struct__`"
    );

    assert_eq!(
        elixir::from_slice::<Keyword<Opts>>(next()).unwrap().0,
        Opts {
            timeout: 500,
            retry: true
        }
    );
    assert_eq!(
        elixir::from_slice::<Keyword<Opts>>(next()).unwrap().0,
        Opts {
            timeout: 5,
            retry: false
        }
    );
    let pairs: Vec<(Atom, i64)> = elixir::from_slice(next()).unwrap();
    let a = Atom::new("a");
    assert_eq!(pairs, [(a.clone(), 1), (Atom::new("b"), 2), (a, 3)]);

    assert_eq!(
        elixir::from_slice::<Charlist>(next()).unwrap().as_str(),
        "héllo"
    );
    assert_eq!(
        elixir::from_slice::<Charlist>(next()).unwrap().as_str(),
        "h€!"
    );

    assert_eq!(
        elixir::from_slice::<Result<u32, Reason>>(next()).unwrap(),
        Ok(42)
    );
    assert_eq!(
        elixir::from_slice::<Result<u32, Reason>>(next()).unwrap(),
        Err(Reason::Enoent)
    );
    assert_eq!(
        elixir::from_slice::<Result<u32, Reason>>(next()).unwrap(),
        Err(Reason::Timeout(30))
    );
    assert_eq!(
        elixir::from_slice::<Result<(), Reason>>(next()).unwrap(),
        Ok(())
    );
    assert_eq!(
        elixir::from_slice::<Reply>(next()).unwrap(),
        Reply::UserReply(Card {
            rank: "A".into(),
            suit: Suit::Spades
        })
    );
    assert_eq!(
        elixir::from_slice::<Reply>(next()).unwrap(),
        Reply::NotFound
    );
    assert!(
        terms.next().is_none(),
        "elixir printed more terms than read"
    );
}

/// The values Rust sends, each checked by the line of [`CHECK`] at its
/// position.
fn rust_values_for_elixir() -> Vec<Vec<u8>> {
    let cy = User {
        name: "cy".into(),
        age: 40,
        email: None,
        address: Some(Address {
            city: "Oslo".into(),
            zip: "0150".into(),
        }),
        tags: vec![Atom::new("x")],
    };
    let user = |name: &str, email: Option<&str>| User {
        name: name.into(),
        age: 1,
        email: email.map(Into::into),
        address: None,
        tags: vec![],
    };
    let a = Atom::new("a");
    let values: Vec<Result<Vec<u8>, etf::serde::Error>> = vec![
        elixir::to_vec(&cy),
        elixir::to_vec(&vec![user("a", None), user("b", Some("b@y"))]),
        elixir::to_vec(&Keyword(Opts {
            timeout: 500,
            retry: true,
        })),
        elixir::to_vec(&vec![(a.clone(), 1), (Atom::new("b"), 2), (a, 3)]),
        elixir::to_vec(&Charlist::from("héllo")),
        elixir::to_vec(&Charlist::from("h€!")),
        elixir::to_vec(&Charlist::from("")),
        elixir::to_vec(&Ok::<u32, Reason>(42)),
        elixir::to_vec(&Err::<u32, Reason>(Reason::Enoent)),
        elixir::to_vec(&Err::<u32, Reason>(Reason::Timeout(30))),
        elixir::to_vec(&Ok::<(), Reason>(())),
        elixir::to_vec(&Reply::UserReply(Card {
            rank: "A".into(),
            suit: Suit::Hearts,
        })),
        elixir::to_vec(&Reply::NotFound),
        elixir::to_vec(&(None::<u8>, Some(1))),
    ];
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.unwrap_or_else(|e| panic!("value {i} does not encode: {e}")))
        .collect()
}

#[test]
fn elixir_terms_decode_into_rust_types_and_rust_values_match_elixir_patterns() {
    // Elixir refuses a struct used where its module is defined, in the
    // same compilation: the modules are compiled first, then the rest.
    let script = "Code.compile_string(System.fetch_env!(\"ETF_MODULES\")); \
                  Code.eval_string(System.fetch_env!(\"ETF_SCRIPT\"))";
    let mut child = Command::new("elixir")
        .args(["-e", script])
        .env("ETF_MODULES", MODULES)
        .env("ETF_SCRIPT", format!("{PRODUCE}{CHECK}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("`elixir` runs (Debian's elixir package; scripts/setup.sh installs it)");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();

    let mut produced = Vec::new();
    loop {
        let line = lines
            .next()
            .expect("elixir printed END")
            .expect("elixir's output is text");
        if line == "END" {
            break;
        }
        produced.push(unhex(line.trim()));
    }

    let sent = rust_values_for_elixir();
    let mut stdin = child.stdin.take().expect("piped stdin");
    for bytes in &sent {
        writeln!(stdin, "{}", hex(bytes)).expect("elixir reads our terms");
    }
    drop(stdin);

    let mut verdicts = Vec::new();
    for line in lines {
        let line = line.expect("elixir's output is text");
        if line == "DONE" {
            break;
        }
        verdicts.push(line);
    }
    let status = child.wait().expect("elixir exits");

    // Decoding runs after Elixir has answered, so that a Rust failure
    // does not leave the script waiting on its input.
    decode_elixir_terms(&produced);

    assert!(status.success(), "elixir failed: {status}");
    assert_eq!(verdicts.len(), sent.len(), "verdicts: {verdicts:#?}");
    let failed: Vec<_> = verdicts.iter().filter(|v| !v.contains(": ok: ")).collect();
    assert!(failed.is_empty(), "elixir refused: {failed:#?}");
}
