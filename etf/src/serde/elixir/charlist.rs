//! Charlists: `'abc'` in Elixir, `"abc"` in Erlang, a list of code points.

use ::serde::de::{self, Deserializer, SeqAccess, Visitor};
use ::serde::ser::Serializer;
use ::serde::{Deserialize, Serialize};
use std::fmt;

/// A string written as a charlist, the list of its code points: Elixir's
/// `'abc'` (`~c"abc"`), Erlang's `"abc"`, `[97,98,99]` on the wire. A
/// plain `String` is written as a UTF-8 binary instead, Elixir's `"abc"`.
///
/// Reading, only a list of code points is accepted (a binary is not a
/// charlist), so that a `Charlist` round-trips through any serde format.
/// For a `String` field that is a charlist on the wire, use
/// `#[serde(with = "etf::serde::elixir::charlist")]`.
///
/// ```
/// use etf::serde::elixir::Charlist;
///
/// let term = etf::serde::to_term(&Charlist::from("hé"))?;
/// assert_eq!(term, etf::parse_term("[104,233]")?);
/// assert_eq!(etf::serde::from_term::<Charlist>(&term)?.as_str(), "hé");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Charlist(pub String);

impl Charlist {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Charlist {
    fn from(text: String) -> Charlist {
        Charlist(text)
    }
}

impl From<&str> for Charlist {
    fn from(text: &str) -> Charlist {
        Charlist(text.to_owned())
    }
}

impl From<Charlist> for String {
    fn from(list: Charlist) -> String {
        list.0
    }
}

impl std::ops::Deref for Charlist {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Charlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Charlist {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Charlist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Charlist, D::Error> {
        deserialize(deserializer).map(Charlist)
    }
}

/// Writes `text` as a charlist; for
/// `#[serde(with = "etf::serde::elixir::charlist")]` on a `String` field.
pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(text.chars().map(u32::from))
}

/// Reads a charlist into a `String`; for
/// `#[serde(with = "etf::serde::elixir::charlist")]` on a `String` field.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_seq(CodePoints)
}

/// Collects code points into a `String`.
struct CodePoints;

impl<'de> Visitor<'de> for CodePoints {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a charlist (a list of Unicode code points)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        // The hint comes from the input: cap what it reserves.
        let mut text = String::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(code) = seq.next_element::<u32>()? {
            match char::from_u32(code) {
                Some(c) => text.push(c),
                None => {
                    return Err(de::Error::invalid_value(
                        de::Unexpected::Unsigned(code.into()),
                        &"a Unicode code point",
                    ))
                }
            }
        }
        Ok(text)
    }
}
