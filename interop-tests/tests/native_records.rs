//! OTP 29 native records (RECORD_EXT, tag 67) against real `erl` nodes.
//!
//! Module `nr` (below) is compiled by OTP 29's own `erlc` into a temporary
//! directory. With OTP 29: a record goes from `erl` to a Rust echo process
//! and comes back equal; a record built in Rust is equal (`=:=`) to the
//! one `erl` builds itself, exported or not; a `term_to_binary` dump
//! written by `erl` decodes and prints as `erl` prints it. With every
//! release: sending a record to a node that did not negotiate native
//! records (OTP 25, 27, 28) fails with `SendError::Unsupported` while the
//! connection keeps carrying messages; OTP 29 takes it. Last, OTP 29
//! compares random terms holding records (`<`, `==`, `=:=`) as we do.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cnode::{Node, SendError};
use dist_proto::DistFlags;
use etf::{Record, Term};
use interop_tests::local::{
    loopback_node, short_host, unique_name, Epmd, ErlNode, ErlProcess, TempDir,
};
use interop_tests::Otp;
use tokio::time::timeout;

const COOKIE: &str = "native_records_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(
    async
    a_record_goes_to_old_releases_never_and_to_otp29_always_and_the_link_stays,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp29_sends_a_record_to_a_rust_echo_process_and_gets_it_back_equal() {
    erl_echoes_a_record_through_rust(Otp::v29()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp29_finds_records_built_in_rust_equal_to_its_own() {
    rust_records_equal_erl_ones(Otp::v29()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otp29_dump_with_records_decodes_and_prints_as_erl_prints_it() {
    otp29_dump_decodes(Otp::v29()).await;
}

/// Random terms with native records: OTP 29's `<`, `==` and `=:=` on every
/// pair agree with [`Term::compare_erl`] and `==` (exact equality).
#[test]
fn otp29_compares_random_records_as_we_do() {
    use etf::strategy::{record_header, term_with, TermConfig};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use std::cmp::Ordering;

    let oracle =
        std::cell::RefCell::new(interop_tests::Oracle::start(&Otp::v29()).expect("oracle starts"));
    let config = TermConfig {
        records: true,
        max_depth: 2,
        ..TermConfig::default()
    };
    // Records of few modules, names and fields, so that many pairs differ
    // only late in the comparison; and any term beside them.
    let small = || prop::sample::select(vec!["a", "b", "x", "y"]).prop_map(etf::Atom::new);
    let close = (
        small(),
        small(),
        any::<bool>(),
        prop::collection::vec(
            (
                small(),
                term_with(TermConfig {
                    max_depth: 0,
                    ..config.clone()
                }),
            ),
            0..3,
        ),
    )
        .prop_map(|(module, name, exported, fields)| {
            let mut seen = std::collections::HashSet::new();
            let fields = fields.into_iter().filter(|(f, _)| seen.insert(f.clone()));
            Term::from(
                Record::new(module, name, fields)
                    .expect("unique")
                    .with_exported(exported),
            )
        });
    let one = prop_oneof![
        3 => close,
        1 => record_header().prop_map(Term::from),
        2 => term_with(config),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 60,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(one, 2..8), |terms| {
        let list = etf::to_vec(&Term::list(terms.clone())).expect("encodes");
        let answer = oracle
            .borrow_mut()
            .eval(
                "L = binary_to_term(B), \
                 term_to_binary([[{if A < C -> -1; A == C -> 0; true -> 1 end, A =:= C} \
                                  || C <- L] || A <- L])",
                &[("B", &list)],
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let answer = etf::from_slice(&answer).expect("erl's answer decodes");
        let rows = answer.to_list().expect("a list of rows");
        for (a, row) in terms.iter().zip(rows) {
            for (c, cell) in terms.iter().zip(row.to_list().expect("a row")) {
                let ours = match a.compare_erl(c) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                };
                let expected = Term::tuple(vec![Term::Int(ours), Term::from(a == c)]);
                prop_assert_eq!(&cell, &expected, "{} vs {}", a, c);
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}

/// The module the tests share: a plain record, an exported one.
const NR: &str = "-module(nr).
-export([p/2, pub/1]).
-export_record([pub]).
-record #point{x = 0, y = 0}.
-record #pub{a = 1}.
p(X, Y) -> #point{x = X, y = Y}.
pub(A) -> #pub{a = A}.
";

/// `#nr:point{x = X, y = Y}` built in Rust, as module `nr` defines it.
fn point(x: i64, y: i64) -> Term {
    Term::from(Record::new("nr", "point", [("x", x), ("y", y)]).expect("unique fields"))
}

/// `#nr:pub{a = A}`: `nr` exports this record.
fn exported(a: Term) -> Term {
    let record = Record::new("nr", "pub", [("a", a)]).expect("unique fields");
    Term::from(record.with_exported(true))
}

/// Compiles `nr` with OTP 29's `erlc` into a fresh directory.
fn compile_nr() -> TempDir {
    let dir = TempDir::new("native-records");
    let source = dir.path().join("nr.erl");
    std::fs::write(&source, NR).expect("write nr.erl");
    let status = Command::new(Otp::v29().erlc())
        .arg("-o")
        .arg(dir.path())
        .arg(&source)
        .status()
        .expect("erlc runs");
    assert!(status.success(), "erlc nr.erl: {status}");
    assert!(dir.path().join("nr.beam").is_file());
    dir
}

/// `erl` with our EPMD and cookie, `nr` on its code path, running `eval`.
fn erl(otp: &Otp, epmd_port: u16, name: &str, code: Option<&Path>, eval: &str) -> ErlProcess {
    let path = match code {
        Some(dir) => format!("true = code:add_patha(\"{}\"), ", dir.display()),
        None => String::new(),
    };
    ErlNode::builder(otp, name)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(&format!("{path}{eval}"))
        .start()
        .expect("erl starts")
}

async fn rust_node(otp: &Otp, epmd_port: u16) -> Node {
    loopback_node(unique_name("rust", otp), COOKIE, epmd_port)
        .start()
        .await
        .expect("our node starts")
}

fn full_name(name: &str) -> String {
    format!("{name}@{}", short_host().expect("host name"))
}

/// A Rust process registered as `echo` that answers `{From, Msg}` with
/// `{echo, Msg}`, as `cnode serve`'s does; it hands each `Msg` to the test.
fn spawn_echo(node: &Node) -> tokio::sync::mpsc::UnboundedReceiver<Term> {
    let mut echo = node.spawn_process().expect("spawn");
    echo.register("echo").expect("register echo");
    let (seen_tx, seen) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(message) = echo.recv().await {
            if let Term::Tuple(parts) = &message.payload {
                if let [Term::Pid(from), msg] = parts.as_slice() {
                    let _ = seen_tx.send(msg.clone());
                    let reply = Term::tuple(vec![Term::atom("echo"), msg.clone()]);
                    echo.send(from.clone(), reply).expect("echo replies");
                }
            }
        }
    });
    seen
}

async fn erl_echoes_a_record_through_rust(otp: Otp) {
    let code = compile_nr();
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let node = rust_node(&otp, epmd.port()).await;
    let mut seen = spawn_echo(&node);
    let eval = format!(
        "R = nr:p(1, 2), {{echo, '{rust}'}} ! {{self(), R}},
         receive {{echo, Back}} -> io:format(\"back ~p ~p~n\", [Back, Back =:= R])
         after 10000 -> io:format(\"no echo~n\") end,
         P = nr:pub(<<\"b\">>), {{echo, '{rust}'}} ! {{self(), [P, {{R}}]}},
         receive {{echo, Back2}} -> io:format(\"back ~p~n\", [Back2 =:= [P, {{R}}]])
         after 10000 -> io:format(\"no echo~n\") end.",
        rust = node.name()
    );
    let mut erl = erl(
        &otp,
        epmd.port(),
        &unique_name("nr", &otp),
        Some(code.path()),
        &eval,
    );
    erl.wait_for_line("back #nr:point{x = 1,y = 2} true")
        .await
        .expect("the record comes back equal");
    erl.wait_for_line("back true")
        .await
        .expect("records nested in a list and tuple come back equal");
    // What our node decoded is the record as Rust builds it.
    let first = timeout(WAIT, seen.recv()).await.expect("in time");
    assert_eq!(first, Some(point(1, 2)));
    let second = timeout(WAIT, seen.recv()).await.expect("in time");
    let expected = Term::list(vec![
        exported(Term::binary(b"b".to_vec())),
        Term::tuple(vec![point(1, 2)]),
    ]);
    assert_eq!(second, Some(expected));
}

async fn rust_records_equal_erl_ones(otp: Otp) {
    let code = compile_nr();
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let name = unique_name("nr", &otp);
    let eval = "register(sink, self()), io:format(\"ready~n\"),
        Loop = fun Loop() ->
            receive
                {point, R} -> io:format(\"point ~p ~p~n\", [R, R =:= nr:p(1, 2)]), Loop();
                {pub, R} -> io:format(\"pub ~p~n\", [R =:= nr:pub(7)]), Loop();
                {other_order, R} -> io:format(\"other order ~p ~p~n\", [R, R =:= nr:p(1, 2)]), Loop()
            end
        end,
        Loop().";
    let mut erl = erl(&otp, epmd.port(), &name, Some(code.path()), eval);
    erl.wait_for_line("ready").await.expect("erl ready");
    let node = rust_node(&otp, epmd.port()).await;
    let to = full_name(&name);
    node.ping(&to).await.expect("pong");
    let me = node.spawn_process().expect("spawn");
    let send = |tag: &str, record: Term| {
        me.send(
            ("sink", to.as_str()),
            Term::tuple(vec![Term::atom(tag), record]),
        )
        .expect("OTP 29 takes records")
    };
    send("point", point(1, 2));
    erl.wait_for_line("point #nr:point{x = 1,y = 2} true")
        .await
        .expect("equal to erl's own record");
    send("pub", exported(Term::Int(7)));
    erl.wait_for_line("pub true")
        .await
        .expect("equal to erl's exported record");
    // The field order is part of the record: OTP 29 tells it apart.
    let swapped = Record::new("nr", "point", [("y", 2), ("x", 1)]).expect("unique fields");
    send("other_order", Term::from(swapped));
    erl.wait_for_line("other order #nr:point{y = 2,x = 1} false")
        .await
        .expect("erl prints the fields in our order and finds it different");
}

async fn otp29_dump_decodes(otp: Otp) {
    let code = compile_nr();
    let dump = code.path().join("dump.bin");
    let eval = format!(
        "T = {{nr:p(1, 2), [nr:pub(<<\"x\">>)]}},
         ok = file:write_file(\"{dump}\", term_to_binary(T)),
         ok = file:write_file(\"{dump}.det\", term_to_binary(T, [deterministic, compressed])),
         io:format(\"~tp~n\", [T]), io:format(\"written~n\").",
        dump = dump.display()
    );
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let mut erl = erl(
        &otp,
        epmd.port(),
        &unique_name("dump", &otp),
        Some(code.path()),
        &eval,
    );
    let printed = erl.next_line().await.expect("erl prints the term");
    erl.wait_for_line("written").await.expect("dump written");
    for path in [dump.clone(), dump.with_extension("bin.det")] {
        let bytes = std::fs::read(&path).expect("read the dump");
        let term = etf::from_slice(&bytes).expect("decodes");
        assert_eq!(term.to_string(), printed.trim(), "{}", path.display());
        assert_eq!(
            term,
            Term::tuple(vec![
                point(1, 2),
                Term::list(vec![exported(Term::binary(b"x".to_vec()))])
            ])
        );
    }
    assert_eq!(
        printed.trim(),
        "{#nr:point{x = 1,y = 2},[#nr:pub{a = <<\"x\">>}]}"
    );
    // Our encoding is erl's, byte for byte.
    let ours =
        etf::to_vec(&etf::from_slice(&std::fs::read(&dump).expect("dump")).expect("decodes"));
    assert_eq!(ours.expect("encodes"), std::fs::read(&dump).expect("dump"));
}

/// An `erl` echo (as in `node_interop.rs`), no module needed: a record
/// goes to OTP 29; to older releases it is refused before anything is
/// written, and the same connection then echoes a plain message.
async fn a_record_goes_to_old_releases_never_and_to_otp29_always_and_the_link_stays(otp: Otp) {
    let epmd = Epmd::start(&otp).await.expect("epmd starts");
    let name = unique_name("echo", &otp);
    let echo = "register(echo, spawn(fun Loop() -> receive {From, Msg} -> From ! {echo, Msg}, Loop() end end)),
        io:format(\"ready~n\").";
    let mut erl = erl(&otp, epmd.port(), &name, None, echo);
    erl.wait_for_line("ready").await.expect("erl ready");
    let node = rust_node(&otp, epmd.port()).await;
    let to = full_name(&name);
    node.ping(&to).await.expect("pong");
    let mut me = node.spawn_process().expect("spawn");
    let own = Term::Pid(me.pid().clone());
    let message = |body: Term| Term::tuple(vec![own.clone(), body]);

    let sent = me.send(("echo", to.as_str()), message(point(1, 2)));
    if otp.release >= 29 {
        sent.expect("OTP 29 negotiates native records");
        let reply = me.recv_timeout(WAIT).await.expect("the record comes back");
        assert_eq!(
            reply.payload,
            Term::tuple(vec![Term::atom("echo"), point(1, 2)])
        );
    } else {
        match sent {
            Err(SendError::Unsupported {
                node: refused_by,
                missing,
                what,
            }) => {
                assert_eq!(refused_by, to);
                assert_eq!(missing, DistFlags::NATIVE_RECORDS);
                assert_eq!(what, "native record #nr:point{}");
            }
            other => panic!("OTP {}: {other:?}", otp.release),
        }
    }
    // The connection is the same one, and still carries messages.
    me.send(("echo", to.as_str()), message(Term::atom("after")))
        .expect("a plain message goes");
    let reply = me.recv_timeout(WAIT).await.expect("echoed");
    assert_eq!(
        reply.payload,
        Term::tuple(vec![Term::atom("echo"), Term::atom("after")])
    );
    assert_eq!(node.nodes(), vec![to.clone()]);
    assert!(!erl.has_exited(), "erl is still up");
}
