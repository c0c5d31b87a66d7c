//! The terms the differential tests of the `etf` codec run on, as Erlang
//! expressions that the [`Oracle`](crate::Oracle) evaluates, so that every
//! byte string under test is made by a real `term_to_binary`.
//!
//! The cases cover every tag `term_to_binary` writes and the edges of each:
//! length-prefix boundaries (255/256 tuple elements, 65535/65536 string
//! elements, 255/256 bignum bytes), integer range boundaries, signed zeros,
//! subnormal and extreme floats, Latin-1 and long Unicode atoms, hash maps
//! with keys of mixed types, bitstrings of every tail length, sub-binaries,
//! funs made by compiled and by interpreted code, and pids, ports and
//! references both local and external (made by `binary_to_term` of crafted
//! bytes, with 32-bit creations).

/// One corpus entry.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// A short unique name for failure messages.
    pub name: &'static str,
    /// Erlang expressions (comma-separated, no final dot) whose value is the
    /// term. They run in an oracle worker process, which may call the helpers
    /// of `erl/etf_oracle.erl`.
    pub expr: &'static str,
    /// What the term contains that only one VM can interpret: funs and local
    /// pids, ports and references still compare `=:=` after a round trip
    /// through the same VM, but printing them in Erlang syntax is not
    /// expected to parse back.
    pub kind: Kind,
}

/// How a case's term may be used beyond the wire round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Plain data: numbers, atoms, lists, tuples, binaries, maps.
    Data,
    /// Contains pids, ports or references.
    Identifiers,
    /// Contains funs.
    Funs,
}

const fn data(name: &'static str, expr: &'static str) -> Case {
    Case {
        name,
        expr,
        kind: Kind::Data,
    }
}

const fn ids(name: &'static str, expr: &'static str) -> Case {
    Case {
        name,
        expr,
        kind: Kind::Identifiers,
    }
}

const fn funs(name: &'static str, expr: &'static str) -> Case {
    Case {
        name,
        expr,
        kind: Kind::Funs,
    }
}

/// One set of `term_to_binary/2` options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// `{minor_version, N}`, or `None` for the release's default (1 on OTP 25,
    /// 2 on OTP 26 and later).
    pub minor_version: Option<u8>,
    /// `compressed` (`Some(6)`, zlib's default level, as OTP) or
    /// `{compressed, Level}`.
    pub compressed: Option<u32>,
    /// `deterministic`.
    pub deterministic: bool,
}

impl Options {
    /// The options as an Erlang list, e.g. `[{minor_version,1},deterministic]`.
    pub fn erlang(&self) -> String {
        let mut items = Vec::new();
        if let Some(minor) = self.minor_version {
            items.push(format!("{{minor_version,{minor}}}"));
        }
        if let Some(level) = self.compressed {
            items.push(format!("{{compressed,{level}}}"));
        }
        if self.deterministic {
            items.push("deterministic".to_owned());
        }
        format!("[{}]", items.join(","))
    }

    /// The minor version these options give on the given OTP release.
    pub fn effective_minor_version(&self, release: u32) -> u8 {
        self.minor_version
            .unwrap_or(if release >= 26 { 2 } else { 1 })
    }
}

const fn opts(minor_version: Option<u8>, compressed: Option<u32>, deterministic: bool) -> Options {
    Options {
        minor_version,
        compressed,
        deterministic,
    }
}

/// The `term_to_binary/2` option sets the differential tests try.
pub const OPTIONS: &[Options] = &[
    opts(None, None, false),
    opts(None, None, true),
    opts(Some(0), None, false),
    opts(Some(1), None, false),
    opts(Some(2), None, false),
    opts(Some(1), None, true),
    opts(None, Some(6), false),
    opts(None, Some(1), false),
    opts(None, Some(9), true),
];

/// Every corpus case.
pub const CASES: &[Case] = &[
    // Atoms.
    data("empty atom", "''"),
    data("ascii atom", "hello_world"),
    data("quoted atom", "'with space and \\'quote\\''"),
    data("booleans", "{true, false, undefined, nil}"),
    data("latin-1 atom", "list_to_atom([99, 97, 102, 233])"),
    data(
        "latin-1 atom 255",
        "list_to_atom(lists:duplicate(255, 255))",
    ),
    data("ascii atom 255", "list_to_atom(lists:duplicate(255, $z))"),
    data(
        "atom 255 x o-umlaut",
        "list_to_atom(lists:duplicate(255, 16#F6))",
    ),
    data(
        "atom 255 x CJK",
        "list_to_atom(lists:duplicate(255, 16#4E2D))",
    ),
    data(
        "atom 255 x emoji",
        "list_to_atom(lists:duplicate(255, 16#1F600))",
    ),
    data(
        "atom mixed scripts",
        "list_to_atom([$a, 16#E9, 16#4E2D, 16#1F600])",
    ),
    // Integers around every tag and range boundary.
    data("small ints", "[0, 1, 255]"),
    data("int 256", "256"),
    data("int -1", "-1"),
    data("int32 max", "2147483647"),
    data("int32 min", "-2147483648"),
    data("int32 max + 1", "2147483648"),
    data("int32 min - 1", "-2147483649"),
    data("int64 max", "9223372036854775807"),
    data("int64 min", "-9223372036854775808"),
    data("int64 max + 1", "9223372036854775808"),
    data("int64 min - 1", "-9223372036854775809"),
    data("uint64 max", "18446744073709551615"),
    data("-uint64 max", "-18446744073709551615"),
    data("2^64", "1 bsl 64"),
    data("-2^64", "-(1 bsl 64)"),
    data("2^2000", "1 bsl 2000"),
    data("-(2^2000) + 1", "-(1 bsl 2000) + 1"),
    data("largest small big", "(1 bsl 2040) - 1"),
    data("smallest large big", "1 bsl 2040"),
    data("negative large big", "-(1 bsl 2040)"),
    data("2^100000", "1 bsl 100000"),
    data("-(2^100000 - 1)", "-((1 bsl 100000) - 1)"),
    // Floats.
    data("zero", "0.0"),
    data(
        "negative zero",
        "<<F:64/float>> = <<16#8000000000000000:64>>, F",
    ),
    data(
        "floats",
        "[1.5, -1.5, 0.1, 3.141592653589793, 1.0e-10, 6.02214076e23]",
    ),
    data("max float", "1.7976931348623157e308"),
    data("min float", "-1.7976931348623157e308"),
    data("min normal", "2.2250738585072014e-308"),
    data("min subnormal", "<<F:64/float>> = <<1:64>>, F"),
    data(
        "negative subnormal",
        "<<F:64/float>> = <<16#800FFFFFFFFFFFFF:64>>, F",
    ),
    data(
        "integral floats",
        "[1.0, 1.0e15, 1.0e16, 123456789012345678.0]",
    ),
    // Tuples.
    data("empty tuple", "{}"),
    data("nested tuples", "{1, {2, {3, {}}}, {a, b}}"),
    data("tuple 255", "list_to_tuple(lists:seq(1, 255))"),
    data("tuple 256", "list_to_tuple(lists:seq(1, 256))"),
    data(
        "tuple 70000",
        "list_to_tuple([I rem 300 || I <- lists:seq(1, 70000)])",
    ),
    // Lists and strings.
    data("nil", "[]"),
    data("short string", "\"hello\""),
    data("string with zero and 255", "[0, 255, 10, 13]"),
    data("string 65535", "lists:duplicate(65535, $x)"),
    data("string 65536", "lists:duplicate(65536, $x)"),
    data("non-byte ints", "[1, 256, 3]"),
    data("negative in list", "[-1, 2]"),
    data("unicode chars", "[16#F6, 16#4E2D, 16#1F600]"),
    data("seq 1..300", "lists:seq(1, 300)"),
    data("mixed list", "[a, \"b\", <<\"c\">>, 1.0, {d}, [e]]"),
    data("nested empty lists", "[[], [[]], [[], []]]"),
    data("improper int tail", "[1 | 2]"),
    data("improper atom tail", "[a, b | c]"),
    data("improper string head", "[$a, $b | <<\"tail\">>]"),
    data("improper tuple tail", "[1, 2, 3 | {}]"),
    data(
        "deep nesting",
        "lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 100))",
    ),
    data(
        "list of strings",
        "[lists:duplicate(N, $a) || N <- lists:seq(0, 20)]",
    ),
    // Binaries and bitstrings.
    data("empty binary", "<<>>"),
    data("short binary", "<<\"hello\">>"),
    data("binary with all bytes", "list_to_binary(lists:seq(0, 255))"),
    data(
        "large binary",
        "binary:copy(<<\"0123456789abcdef\">>, 65536)",
    ),
    data(
        "bitstrings 1..7",
        "[<<16#A5, V:N>> || N <- lists:seq(1, 7), V <- [1, (1 bsl N) - 1]]",
    ),
    data("lone bits", "{<<1:1>>, <<0:1>>, <<5:3>>, <<127:7>>}"),
    data(
        "sub-binary",
        "<<_:3/binary, Sub:5/binary, _/binary>> = <<\"0123456789\">>, Sub",
    ),
    data(
        "unaligned sub-bitstring",
        "<<_:3, Sub:13/bits, _/bits>> = <<\"abcd\">>, Sub",
    ),
    data(
        "unaligned sub-binary",
        "<<_:1, Sub:4/binary, _/bits>> = <<\"abcdef\">>, Sub",
    ),
    // Maps.
    data("empty map", "#{}"),
    data("small map", "#{a => 1, b => <<\"two\">>, c => [3]}"),
    data(
        "nested maps",
        "#{a => #{b => #{c => #{}}}, [] => #{{} => []}}",
    ),
    data(
        "mixed keys",
        "#{1 => int, 1.0 => float, -0.0 => negzero, a => atom, \"s\" => list, \
         <<\"b\">> => bin, {t} => tuple, [] => nil, #{k => v} => map, \
         (1 bsl 70) => big, <<1:1>> => bits}",
    ),
    data(
        "map 32 keys",
        "maps:from_list([{I, I * I} || I <- lists:seq(1, 32)])",
    ),
    data(
        "hash map 33 keys",
        "maps:from_list([{I, I * I} || I <- lists:seq(1, 33)])",
    ),
    data(
        "hash map binary keys",
        "maps:from_list([{integer_to_binary(I), I} || I <- lists:seq(1, 200)])",
    ),
    data(
        "hash map mixed keys",
        "maps:from_list([{K, V} || I <- lists:seq(1, 150), \
         {K, V} <- [{I, int}, {float(I), float}, \
         {list_to_atom(\"k\" ++ integer_to_list(I)), atom}, {{I}, tuple}]])",
    ),
    data(
        "map in map keys",
        "#{#{a => 1} => x, #{a => 1.0} => y, #{1 => a} => z}",
    ),
    // Funs.
    funs("export fun", "fun lists:sort/1"),
    funs("export fun with quoted name", "fun erlang:'+'/2"),
    funs("compiled closure", "etf_oracle:adder(5)"),
    funs(
        "compiled closure with 3 free vars",
        "etf_oracle:closure(a, \"b\", #{c => <<\"d\">>})",
    ),
    funs(
        "compiled closure over a closure",
        "etf_oracle:adder(etf_oracle:adder(1))",
    ),
    funs(
        "fun with negative old index and old uniq",
        "Body = <<0, 0:128, 0:32, 0:32, 119, 1, \"m\", 98, 255,255,255,255, 98, 128,0,0,0, \
         88, 119, 3, \"a@b\", 0:32, 0:32, 1:32>>, \
         binary_to_term(<<131, 112, (byte_size(Body) + 4):32, Body/binary>>)",
    ),
    funs("interpreted fun", "fun() -> ok end"),
    funs(
        "interpreted closure",
        "Y = 7, Z = <<\"z\">>, fun(X) -> {X + Y, Z} end",
    ),
    // Pids, ports, references: local ones.
    ids("self", "self()"),
    ids("list_to_pid", "list_to_pid(\"<0.1.2>\")"),
    ids("big local pid", "list_to_pid(\"<0.32767.8191>\")"),
    ids("make_ref", "make_ref()"),
    ids("list_to_ref", "list_to_ref(\"#Ref<0.1.2.3>\")"),
    ids("port", "hd(erlang:ports())"),
    ids("list_to_port", "list_to_port(\"#Port<0.12345>\")"),
    ids("alias", "alias()"),
    // External ones made from crafted bytes.
    ids(
        "external pid, creation 2^32-1",
        "binary_to_term(<<131, 88, 119, 3, \"a@b\", 0,0,0,5, 0,0,0,1, 255,255,255,255>>)",
    ),
    ids(
        "external pid, 32-bit id",
        "binary_to_term(<<131, 88, 119, 3, \"a@b\", 255,255,255,255, 255,255,255,255, 0,0,0,1>>)",
    ),
    ids(
        "external pid, unicode node",
        "binary_to_term(<<131, 88, 119, 8, \"n\", 16#C3, 16#B6, \"@h\", 16#E4, 16#B8, 16#AD, \
         0,0,0,5, 0,0,0,1, 0,0,0,9>>)",
    ),
    ids(
        "external ref, 3 words",
        "binary_to_term(<<131, 90, 0,3, 119, 3, \"a@b\", 0,0,0,7, 0,0,0,1, 0,0,0,2, 0,0,0,3>>)",
    ),
    ids(
        "external ref, 5 words",
        "binary_to_term(<<131, 90, 0,5, 119, 3, \"a@b\", 255,255,255,255, \
         0,0,0,1, 0,0,0,2, 0,0,0,3, 0,0,0,4, 0,0,0,5>>)",
    ),
    ids(
        "external ref, 1 word",
        "binary_to_term(<<131, 90, 0,1, 119, 3, \"a@b\", 0,0,0,7, 0,0,0,42>>)",
    ),
    ids(
        "external port, 32-bit id",
        "binary_to_term(<<131, 89, 119, 3, \"a@b\", 0,0,0,77, 0,0,0,3>>)",
    ),
    ids(
        "external port, 64-bit id",
        "binary_to_term(<<131, 120, 119, 3, \"a@b\", 1,2,3,4,5,6,7,8, 255,255,255,254>>)",
    ),
    ids(
        "external fun owner",
        "{binary_to_term(<<131, 88, 119, 3, \"a@b\", 0,0,0,5, 0,0,0,1, 0,0,0,9>>), \
         binary_to_term(<<131, 88, 119, 3, \"a@b\", 0,0,0,5, 0,0,0,1, 0,0,0,10>>)}",
    ),
    // Everything at once.
    ids(
        "kitchen sink",
        "#{pid => self(), ref => make_ref(), list => [1, 2.0, three, \"four\", <<5>>], \
         tuple => {<<1:3>>, [a | b], #{}, -(1 bsl 65)}, 42 => fun lists:map/2}",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn case_names_are_unique() {
        let mut seen = HashSet::new();
        for case in CASES {
            assert!(
                seen.insert(case.name),
                "duplicate corpus name {:?}",
                case.name
            );
        }
    }
}
