//! The JSON rendering of `cnode term decode --json`.
//!
//! JSON has fewer types than Erlang, so the mapping is one-way and lossy,
//! chosen so that common data reads naturally:
//!
//! | Erlang                                   | JSON                                  |
//! |------------------------------------------|---------------------------------------|
//! | integer that fits in 64 bits             | number                                |
//! | larger integer                           | string of its decimal digits          |
//! | float                                    | number (always finite)                |
//! | `true`, `false`                          | `true`, `false`                       |
//! | any other atom                           | string of its text                    |
//! | binary holding valid UTF-8               | string                                |
//! | other binary                             | array of byte values                  |
//! | tuple, proper list (strings included)    | array                                 |
//! | map whose keys are all atoms or UTF-8 binaries, none rendering alike | object |
//! | any other map                            | array of `[key, value]` arrays        |
//! | native record `#nr:point{x = 1,y = 2}` (OTP 29) | `{"#nr:point": {"x": 1, "y": 2}}`: the record's head as in Erlang syntax, over an object of its fields |
//! | pid, port, reference, fun, bitstring, improper list, LOCAL_EXT | string of its Erlang syntax |
//!
//! Terms come from the decoder, whose depth limit bounds the recursion here.

use etf::Term;
use serde_json::{Map as JsonMap, Number, Value};

/// Renders `term` as a JSON value following the table above.
pub(super) fn to_json(term: &Term) -> Value {
    match term {
        Term::Int(value) => Value::Number(Number::from(*value)),
        Term::BigInt(value) => Value::String(value.to_string()),
        Term::Float(value) => {
            Number::from_f64(*value).map_or_else(|| Value::String(term.to_string()), Value::Number)
        }
        Term::Atom(atom) => match atom.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            text => Value::String(text.to_owned()),
        },
        Term::Binary(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Value::String(text.to_owned()),
            Err(_) => Value::Array(bytes.iter().map(|byte| Value::from(*byte)).collect()),
        },
        Term::Tuple(items) | Term::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Term::Nil => Value::Array(Vec::new()),
        Term::ByteList(bytes) => {
            Value::Array(bytes.iter().map(|byte| Value::from(*byte)).collect())
        }
        Term::Map(map) => map_to_json(map),
        Term::Record(record) => {
            let fields = record
                .fields()
                .map(|(field, value)| (field.as_str().to_owned(), to_json(value)))
                .collect();
            let head = format!("#{}:{}", record.module(), record.name());
            Value::Object(JsonMap::from_iter([(head, Value::Object(fields))]))
        }
        _ => Value::String(term.to_string()),
    }
}

fn map_to_json(map: &etf::Map) -> Value {
    let mut object = JsonMap::new();
    for (key, value) in map.iter() {
        let key = match key {
            Term::Atom(atom) => atom.as_str(),
            Term::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => return pairs(map),
            },
            _ => return pairs(map),
        };
        if object.insert(key.to_owned(), to_json(value)).is_some() {
            // An atom and a binary with the same text: an object would lose one.
            return pairs(map);
        }
    }
    Value::Object(object)
}

fn pairs(map: &etf::Map) -> Value {
    Value::Array(
        map.iter()
            .map(|(key, value)| Value::Array(vec![to_json(key), to_json(value)]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use etf::Atom;
    use serde_json::json;

    fn atom(text: &str) -> Term {
        Term::Atom(Atom::new(text))
    }

    fn map(entries: Vec<(Term, Term)>) -> Term {
        Term::Map(etf::Map::from_entries(entries).expect("unique keys"))
    }

    #[test]
    fn maps_become_objects_only_when_no_key_is_lost() {
        let object = map(vec![
            (atom("a"), Term::Int(1)),
            (Term::Binary("b".into()), atom("true")),
        ]);
        assert_eq!(to_json(&object), json!({"a": 1, "b": true}));

        let colliding = map(vec![
            (atom("a"), Term::Int(1)),
            (Term::Binary("a".into()), Term::Int(2)),
        ]);
        assert_eq!(to_json(&colliding), json!([["a", 1], ["a", 2]]));

        let integer_keys = map(vec![(Term::Int(1), Term::Nil)]);
        assert_eq!(to_json(&integer_keys), json!([[1, []]]));
    }

    #[test]
    fn records_become_their_head_over_their_fields() {
        let point = etf::Record::new("nr", "point", [("x", 1), ("y", 2)]).unwrap();
        assert_eq!(
            to_json(&Term::from(point)),
            json!({"#nr:point": {"x": 1, "y": 2}})
        );
        let odd = etf::Record::new("Mod x", "r", [("a b", atom("true"))]).unwrap();
        assert_eq!(
            to_json(&Term::from(odd)),
            json!({"#'Mod x':r": {"a b": true}})
        );
    }

    #[test]
    fn values_without_a_json_type_keep_their_erlang_syntax() {
        let two_to_64 = [131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let big = etf::from_slice(&two_to_64).expect("SMALL_BIG 2^64");
        assert_eq!(to_json(&big), json!("18446744073709551616"));
        let improper = Term::ImproperList(vec![Term::Int(1)], Box::new(atom("t")));
        assert_eq!(to_json(&improper), Value::String(improper.to_string()));
        let non_utf8 = Term::Binary(vec![0xff, 0].into());
        assert_eq!(to_json(&non_utf8), json!([255, 0]));
    }
}
