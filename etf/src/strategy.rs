//! proptest strategies that generate terms (feature `proptest`).
//!
//! [`term`] generates every kind of term the BEAM can decode from another
//! node, nested to a bounded depth and size; [`term_with`] takes a
//! [`TermConfig`] to change the bounds or leave out kinds a peer cannot
//! handle. The leaf strategies ([`atom`], [`float`], [`pid`], ...) are
//! public for tests that need one kind.
//!
//! Every generated term is valid: it encodes without error and
//! `binary_to_term/1` on OTP 25 and 28 accepts the bytes, as the property
//! test in `interop-tests` checks. Map keys are unique even under OTP 25's
//! equality, where `0.0 =:= -0.0`. LOCAL_EXT terms, off by default, are the
//! exception: only the node that made one can decode it. Native records,
//! also off by default, decode on OTP 29 only.
//! Values cluster at the boundaries where the encoding changes (integers
//! at 8, 32 and 64 bits and at the 255-byte bignum limit, atoms at 255
//! characters and at the Latin-1 limit, floats at zero, subnormals and the
//! extremes).
//!
//! ```
//! use etf::strategy::{term_with, TermConfig};
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! // Terms for a peer that cannot take local funs.
//! let strategy = term_with(TermConfig { funs: false, ..TermConfig::default() });
//! let mut runner = TestRunner::default();
//! for _ in 0..32 {
//!     let t = strategy.new_tree(&mut runner).expect("a term").current();
//!     assert!(etf::to_vec(&t).is_ok());
//! }
//! ```

use crate::{Atom, BitBinary, Export, Fun, Map, Pid, Port, Record, Reference, Term};
use bytes::Bytes;
use num_bigint::{BigInt, BigUint};
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::HashSet;

/// Bounds and kinds for [`term_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermConfig {
    /// The deepest nesting of tuples, lists, maps, funs and records (0:
    /// leaves only).
    pub max_depth: u32,
    /// The most elements of one tuple, list, map, byte list or binary.
    pub max_len: usize,
    /// The number of terms (nodes) a whole generated term aims at; proptest
    /// treats it as a target, not a hard limit.
    pub max_size: u32,
    /// Generate local funs (NEW_FUN).
    pub funs: bool,
    /// Generate external funs `fun M:F/A` (EXPORT).
    pub exports: bool,
    /// Generate bitstrings that are not whole bytes (BIT_BINARY).
    pub bit_binaries: bool,
    /// Generate pids, ports and references.
    pub identifiers: bool,
    /// Generate LOCAL_EXT terms, which only the node that made them can
    /// decode. Off by default.
    pub local: bool,
    /// Generate OTP 29 native records (RECORD_EXT), exported or not, with
    /// unique field names. Off by default: OTP 28 and older cannot decode
    /// them.
    pub records: bool,
}

impl Default for TermConfig {
    /// Every kind except LOCAL_EXT and native records; depth 4, up to 8 elements per
    /// collection, about 64 nodes.
    fn default() -> TermConfig {
        TermConfig {
            max_depth: 4,
            max_len: 8,
            max_size: 64,
            funs: true,
            exports: true,
            bit_binaries: true,
            identifiers: true,
            local: false,
            records: false,
        }
    }
}

impl TermConfig {
    /// Plain data only: numbers, atoms, binaries, tuples, lists and maps
    /// (no funs, bitstrings, identifiers or LOCAL_EXT), e.g. for a peer
    /// that speaks JSON-like data.
    pub fn plain_data() -> TermConfig {
        TermConfig {
            funs: false,
            exports: false,
            bit_binaries: false,
            identifiers: false,
            ..TermConfig::default()
        }
    }
}

/// `any::<Term>()` is [`term`]; `any_with::<Term>(config)` is [`term_with`].
impl Arbitrary for Term {
    type Parameters = TermConfig;
    type Strategy = BoxedStrategy<Term>;

    fn arbitrary_with(config: TermConfig) -> BoxedStrategy<Term> {
        term_with(config)
    }
}

/// Any term, with the [`TermConfig::default`] bounds and kinds.
pub fn term() -> impl Strategy<Value = Term> {
    term_with(TermConfig::default())
}

/// Terms within `config`'s bounds, of the kinds it allows.
pub fn term_with(config: TermConfig) -> BoxedStrategy<Term> {
    let leaf = leaf(&config);
    let max_len = config.max_len;
    let funs = config.funs;
    let records = config.records;
    leaf.prop_recursive(
        config.max_depth,
        config.max_size,
        // The expected branch factor: half the longest collection.
        u32::try_from(max_len / 2).unwrap_or(u32::MAX).max(1),
        move |inner| {
            let mut kinds = vec![
                (
                    3,
                    vec(inner.clone(), 0..=max_len)
                        .prop_map(Term::Tuple)
                        .boxed(),
                ),
                (
                    3,
                    vec(inner.clone(), 0..=max_len)
                        .prop_map(|elems| {
                            // `Term::List(vec![])` is a valid spelling of `[]`.
                            Term::List(elems)
                        })
                        .boxed(),
                ),
                (
                    1,
                    (vec(inner.clone(), 1..=max_len.max(1)), inner.clone())
                        .prop_map(|(elems, tail)| {
                            Term::ImproperList(elems, Box::new(not_a_list(tail)))
                        })
                        .boxed(),
                ),
                (
                    2,
                    vec((inner.clone(), inner.clone()), 0..=max_len)
                        .prop_map(|entries| Term::Map(map_of(entries)))
                        .boxed(),
                ),
            ];
            if records {
                kinds.push((
                    1,
                    (record_header(), vec((atom(), inner.clone()), 0..=max_len))
                        .prop_map(|(record, fields)| Term::from(with_fields(record, fields)))
                        .boxed(),
                ));
            }
            if funs {
                kinds.push((
                    1,
                    (fun_header(), vec(inner, 0..=max_len))
                        .prop_map(|(mut fun, free_vars)| {
                            fun.free_vars = free_vars;
                            Term::Fun(Box::new(fun))
                        })
                        .boxed(),
                ));
            }
            proptest::strategy::Union::new_weighted(kinds)
        },
    )
    .boxed()
}

/// A native record without fields: its module, name and exported flag.
pub fn record_header() -> impl Strategy<Value = Record> {
    (atom(), atom(), any::<bool>()).prop_map(|(module, name, exported)| Record {
        module,
        name,
        exported,
        fields: Vec::new(),
        values: Vec::new(),
    })
}

/// `record` with `fields`, leaving out a field name seen before.
fn with_fields(mut record: Record, fields: Vec<(Atom, Term)>) -> Record {
    let mut seen = HashSet::new();
    for (field, value) in fields {
        if seen.insert(field.clone()) {
            record.fields.push(field);
            record.values.push(value);
        }
    }
    record
}

/// A map of `entries`, leaving out a key that equals an earlier one, or
/// would under OTP 25's equality, where `0.0 =:= -0.0` (OTP 27 made them
/// differ): OTP 25 refuses a map with both.
fn map_of(entries: Vec<(Term, Term)>) -> Map {
    let mut seen = HashSet::new();
    let mut map = Map::new();
    for (key, value) in entries {
        if seen.insert(unsigned_zeros(&key)) {
            map.insert(key, value);
        }
    }
    map
}

/// `term` with every `-0.0` made `0.0`.
fn unsigned_zeros(term: &Term) -> Term {
    let all = |terms: &[Term]| terms.iter().map(unsigned_zeros).collect::<Vec<_>>();
    match term {
        Term::Float(f) if *f == 0.0 => Term::Float(0.0),
        Term::Tuple(elems) => Term::Tuple(all(elems)),
        Term::List(elems) => Term::List(all(elems)),
        Term::ImproperList(elems, tail) => {
            Term::ImproperList(all(elems), Box::new(unsigned_zeros(tail)))
        }
        Term::Map(map) => Term::Map(Map::from_unique(
            map.iter()
                .map(|(k, v)| (unsigned_zeros(k), unsigned_zeros(v)))
                .collect(),
        )),
        Term::Fun(fun) => {
            let mut fun = fun.clone();
            fun.free_vars = all(&fun.free_vars);
            Term::Fun(fun)
        }
        Term::Record(record) => {
            let mut record = record.clone();
            record.values = all(&record.values);
            Term::Record(record)
        }
        other => other.clone(),
    }
}

/// An improper list's tail must not be a list: wrap a list in a tuple.
fn not_a_list(tail: Term) -> Term {
    match tail {
        Term::Nil | Term::List(_) | Term::ByteList(_) | Term::ImproperList(..) => {
            Term::Tuple(vec![tail])
        }
        other => other,
    }
}

/// Terms without elements, of the kinds `config` allows.
fn leaf(config: &TermConfig) -> BoxedStrategy<Term> {
    let max_len = config.max_len;
    let mut kinds: Vec<(u32, BoxedStrategy<Term>)> = vec![
        (6, integer().prop_map(Term::Int).boxed()),
        (2, big_integer().prop_map(Term::BigInt).boxed()),
        (3, float().prop_map(Term::Float).boxed()),
        (6, atom().prop_map(Term::Atom).boxed()),
        (2, Just(Term::Nil).boxed()),
        (2, byte_list(max_len).prop_map(Term::ByteList).boxed()),
        (3, binary(max_len).prop_map(Term::Binary).boxed()),
    ];
    if config.bit_binaries {
        kinds.push((1, bit_binary(max_len).prop_map(Term::BitBinary).boxed()));
    }
    if config.identifiers {
        kinds.push((1, pid().prop_map(Term::Pid).boxed()));
        kinds.push((1, port().prop_map(Term::Port).boxed()));
        kinds.push((1, reference().prop_map(Term::Reference).boxed()));
    }
    if config.exports {
        kinds.push((1, export().prop_map(Term::Export).boxed()));
    }
    if config.local {
        kinds.push((1, local().prop_map(Term::Local).boxed()));
    }
    if config.records {
        kinds.push((1, record_header().prop_map(Term::from).boxed()));
    }
    if config.funs && config.max_depth == 0 {
        // Without nesting, funs come without free variables.
        kinds.push((1, fun_header().prop_map(|f| Term::Fun(Box::new(f))).boxed()));
    }
    proptest::strategy::Union::new_weighted(kinds).boxed()
}

/// Integers that fit in 64 bits ([`Term::Int`]), often at the boundaries
/// of SMALL_INTEGER, INTEGER and SMALL_BIG.
pub fn integer() -> impl Strategy<Value = i64> {
    const EDGES: &[i64] = &[
        0,
        1,
        -1,
        255,
        256,
        -256,
        (1 << 27) - 1,
        -(1 << 27),
        i32::MAX as i64,
        i32::MAX as i64 + 1,
        i32::MIN as i64,
        i32::MIN as i64 - 1,
        u32::MAX as i64,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
    ];
    prop_oneof![
        3 => -300i64..300,
        2 => any::<i32>().prop_map(i64::from),
        2 => any::<i64>(),
        2 => proptest::sample::select(EDGES),
    ]
}

/// Integers beyond 64 bits ([`Term::BigInt`]): mostly a few bytes past the
/// `i64` range, sometimes at the 255-byte SMALL_BIG limit or far beyond it.
pub fn big_integer() -> impl Strategy<Value = BigInt> {
    let magnitude = prop_oneof![
        6 => vec(any::<u8>(), 0..=16),
        1 => vec(any::<u8>(), 250..=300),
        1 => (254usize..=256).prop_map(|n| vec![0xff; n]),
    ];
    (any::<bool>(), magnitude).prop_map(|(negative, bytes)| {
        let magnitude = BigInt::from(BigUint::from_bytes_le(&bytes));
        // Start just past the i64 range so that the value never fits.
        if negative {
            BigInt::from(i64::MIN) - 1 - magnitude
        } else {
            BigInt::from(i64::MAX) + 1 + magnitude
        }
    })
}

/// Finite floats, including `-0.0`, subnormals and the extremes.
pub fn float() -> impl Strategy<Value = f64> {
    use proptest::num::f64 as f;
    const EDGES: &[f64] = &[
        0.0,
        -0.0,
        1.0,
        -1.5,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        0.1,
        1e300,
    ];
    prop_oneof![
        3 => f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO,
        1 => proptest::sample::select(EDGES),
        1 => (-1000i32..1000).prop_map(|i| f64::from(i) / 8.0),
    ]
}

/// Atoms of 0 to 255 characters: Erlang-style names, Latin-1 text (written
/// as ATOM by old minor versions), any Unicode text, the empty atom and
/// exactly 255 characters.
pub fn atom() -> impl Strategy<Value = Atom> {
    prop_oneof![
        6 => "[a-z][a-z0-9_@]{0,15}",
        2 => "[\\x00-\\xff]{0,12}",
        2 => "\\PC{0,12}",
        1 => vec(any::<char>(), 0..=255).prop_map(|chars| chars.into_iter().collect()),
        1 => Just(String::new()),
        1 => vec(any::<char>(), 255).prop_map(|chars| chars.into_iter().collect()),
    ]
    .prop_map(Atom::from)
}

/// A node name as the BEAM writes them, `name@host`.
pub fn node() -> impl Strategy<Value = Atom> {
    prop_oneof![
        4 => "[a-z][a-z0-9_]{0,8}@[a-z][a-z0-9.-]{0,12}",
        1 => Just("nonode@nohost".to_owned()),
    ]
    .prop_map(Atom::from)
}

/// Binaries of up to `max_len` bytes.
pub fn binary(max_len: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..=max_len).prop_map(Bytes::from)
}

/// Non-empty byte lists (STRING_EXT) of up to `max_len` bytes.
pub fn byte_list(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 1..=max_len.max(1))
}

/// Bitstrings of 1 to `max_len` bytes whose last byte holds 1 to 7 bits,
/// with the unused low bits zero.
pub fn bit_binary(max_len: usize) -> impl Strategy<Value = BitBinary> {
    (vec(any::<u8>(), 1..=max_len.max(1)), 1u8..=7).prop_map(|(mut bytes, bits)| {
        if let Some(last) = bytes.last_mut() {
            *last &= 0xffu8 << (8 - bits);
        }
        BitBinary {
            bytes: Bytes::from(bytes),
            bits,
        }
    })
}

/// Pids of other nodes, with 32-bit ids, serials and creations.
pub fn pid() -> impl Strategy<Value = Pid> {
    (node(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(node, id, serial, creation)| {
        Pid {
            node,
            id,
            serial,
            creation,
        }
    })
}

/// Ports of other nodes, with ids up to 64 bits.
pub fn port() -> impl Strategy<Value = Port> {
    let id = prop_oneof![any::<u32>().prop_map(u64::from), any::<u64>()];
    (node(), id, any::<u32>()).prop_map(|(node, id, creation)| Port { node, id, creation })
}

/// References of other nodes, with 1 to 5 words.
pub fn reference() -> impl Strategy<Value = Reference> {
    (node(), any::<u32>(), vec(any::<u32>(), 1..=5)).prop_map(|(node, creation, ids)| Reference {
        node,
        creation,
        ids,
    })
}

/// External funs `fun M:F/A`.
pub fn export() -> impl Strategy<Value = Export> {
    (atom(), atom(), any::<u8>()).prop_map(|(module, function, arity)| Export {
        module,
        function,
        arity,
    })
}

/// Local funs without free variables; [`term_with`] adds them.
pub fn fun_header() -> impl Strategy<Value = Fun> {
    (
        any::<u8>(),
        any::<[u8; 16]>(),
        any::<u32>(),
        atom(),
        any::<u32>(),
        any::<u32>(),
        pid(),
    )
        .prop_map(
            |(arity, uniq, index, module, old_index, old_uniq, pid)| Fun {
                arity,
                uniq,
                index,
                module,
                old_index,
                old_uniq,
                pid,
                free_vars: Vec::new(),
            },
        )
}

/// LOCAL_EXT terms: the tag, a hash, and a small integer or atom inside.
pub fn local() -> impl Strategy<Value = Bytes> {
    const LOCAL_EXT: u8 = 121;
    const SMALL_INTEGER_EXT: u8 = 97;
    const SMALL_ATOM_UTF8_EXT: u8 = 119;
    let inner = prop_oneof![
        any::<u8>().prop_map(|n| vec![SMALL_INTEGER_EXT, n]),
        "[a-z]{0,8}".prop_map(|name| {
            let mut bytes = vec![SMALL_ATOM_UTF8_EXT, name.len() as u8];
            bytes.extend_from_slice(name.as_bytes());
            bytes
        }),
    ];
    (any::<[u8; 4]>(), inner).prop_map(|(hash, inner)| {
        let mut bytes = vec![LOCAL_EXT];
        bytes.extend_from_slice(&hash);
        bytes.extend(inner);
        Bytes::from(bytes)
    })
}
