//! `etf::serde` against bytes that real `erl` wrote with `term_to_binary`
//! (captured once from OTP 25.2.3 and OTP 28.5 and pasted here).
#![cfg(feature = "serde")]

use etf::serde::{from_slice, to_term};
use etf::EncodeOptions;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct User {
    name: String,
    age: u8,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Command {
    Quit,
    Write(String),
    Move { x: i32, y: i32 },
    Color(u8, u8, u8),
}

/// OTP 28: `term_to_binary(#{name => <<"x">>, age => 3}, [deterministic])`.
const USER_OTP28_DETERMINISTIC: &[u8] = &[
    131, 116, 0, 0, 0, 2, 119, 3, 97, 103, 101, 97, 3, 119, 4, 110, 97, 109, 101, 109, 0, 0, 0, 1,
    120,
];

/// OTP 25: `term_to_binary(#{name => <<"x">>, age => 3})` (Latin-1 ATOM tags).
const USER_OTP25: &[u8] = &[
    131, 116, 0, 0, 0, 2, 100, 0, 3, 97, 103, 101, 97, 3, 100, 0, 4, 110, 97, 109, 101, 109, 0, 0,
    0, 1, 120,
];

/// OTP 28: `term_to_binary([{move, #{x => 1, y => -2}}, {write, <<"hi">>},
/// quit, {color, 255, 0, 10}], [deterministic])`.
const COMMANDS_OTP28_DETERMINISTIC: &[u8] = &[
    131, 108, 0, 0, 0, 4, 104, 2, 119, 4, 109, 111, 118, 101, 116, 0, 0, 0, 2, 119, 1, 120, 97, 1,
    119, 1, 121, 98, 255, 255, 255, 254, 104, 2, 119, 5, 119, 114, 105, 116, 101, 109, 0, 0, 0, 2,
    104, 105, 119, 4, 113, 117, 105, 116, 104, 4, 119, 5, 99, 111, 108, 111, 114, 97, 255, 97, 0,
    97, 10, 106,
];

/// OTP 25: `term_to_binary(#{id => 18446744073709551616, name => "héllo",
/// admin => true, email => undefined, pos => {1.5, -2.0},
/// tags => [<<"a">>, <<"b">>]}, [deterministic])`: a bignum, a charlist
/// (STRING_EXT with a Latin-1 byte), `undefined`, floats.
const PROFILE_OTP25_DETERMINISTIC: &[u8] = &[
    131, 116, 0, 0, 0, 6, 100, 0, 5, 97, 100, 109, 105, 110, 100, 0, 4, 116, 114, 117, 101, 100, 0,
    5, 101, 109, 97, 105, 108, 100, 0, 9, 117, 110, 100, 101, 102, 105, 110, 101, 100, 100, 0, 2,
    105, 100, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 100, 0, 4, 110, 97, 109, 101, 107, 0, 5, 104,
    233, 108, 108, 111, 100, 0, 3, 112, 111, 115, 104, 2, 70, 63, 248, 0, 0, 0, 0, 0, 0, 70, 192,
    0, 0, 0, 0, 0, 0, 0, 100, 0, 4, 116, 97, 103, 115, 108, 0, 0, 0, 2, 109, 0, 0, 0, 1, 97, 109,
    0, 0, 0, 1, 98, 106,
];

fn deterministic() -> EncodeOptions {
    EncodeOptions::new().deterministic(true)
}

fn user() -> User {
    User {
        name: "x".into(),
        age: 3,
    }
}

#[test]
fn a_struct_decodes_from_erlang_maps_of_both_releases() {
    assert_eq!(
        from_slice::<User>(USER_OTP28_DETERMINISTIC).unwrap(),
        user()
    );
    assert_eq!(from_slice::<User>(USER_OTP25).unwrap(), user());
}

#[test]
fn a_struct_encodes_to_the_bytes_erlang_writes() {
    let bytes = to_term(&user()).unwrap().encode(&deterministic()).unwrap();
    assert_eq!(bytes, USER_OTP28_DETERMINISTIC);
    let otp25_default = to_term(&user())
        .unwrap()
        .encode(&deterministic().minor_version(1))
        .unwrap();
    assert_eq!(otp25_default, USER_OTP25);
}

#[test]
fn enum_variants_match_erlang_tagged_tuples() {
    let commands = vec![
        Command::Move { x: 1, y: -2 },
        Command::Write("hi".into()),
        Command::Quit,
        Command::Color(255, 0, 10),
    ];
    assert_eq!(
        from_slice::<Vec<Command>>(COMMANDS_OTP28_DETERMINISTIC).unwrap(),
        commands
    );
    let bytes = to_term(&commands)
        .unwrap()
        .encode(&deterministic())
        .unwrap();
    assert_eq!(bytes, COMMANDS_OTP28_DETERMINISTIC);
}

#[test]
fn erlang_data_types_map_to_rust_ones() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Profile {
        id: u128,
        name: String,
        admin: bool,
        email: Option<String>,
        pos: (f64, f64),
        tags: Vec<String>,
    }
    assert_eq!(
        from_slice::<Profile>(PROFILE_OTP25_DETERMINISTIC).unwrap(),
        Profile {
            id: 1 << 64,
            name: "héllo".into(),
            admin: true,
            email: None,
            pos: (1.5, -2.0),
            tags: vec!["a".into(), "b".into()],
        }
    );
}
