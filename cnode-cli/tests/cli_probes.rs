//! Probes for scripts.
//!
//! Probes that never collide: `cnode ping` without `--sname`/`--name` takes
//! a dynamic name from its target, so fifty of them run at once against
//! one `erl` node (OTP 25, 27, 28 and 29) and all answer `pong`, while
//! EPMD, sampled the whole time, lists none of them.
//!
//! Exit codes, `--quiet` and `--json` against one `erl` node (OTP 27: none
//! of this differs between releases, which `cli_node` shows for the text
//! output): each code of the table in `cnode --help` is reached the way a
//! script meets it, `--quiet` prints nothing at all, and `--json` prints
//! one document with the documented fields.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use epmd_client::EpmdClient;
use interop_tests::local::{
    free_port, short_host, start_epmd_blocking, unique_name, ChildGuard, ErlNode,
};
use interop_tests::Otp;
use serde_json::{json, Value};

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_probes_cookie";
const WAIT: Duration = Duration::from_secs(20);
const PROBES: usize = 50;

interop_tests::per_release!(fifty_pings_at_once_all_pong_and_none_registers);

/// What EPMD listed while the probes ran.
#[derive(Debug, Default)]
struct Samples {
    taken: usize,
    /// Names other than the erl node's, as seen in any sample.
    others: Vec<String>,
}

/// Asks the EPMD on `port` for its names until `stop`, from a thread of
/// its own.
fn sample(port: u16, erl: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Samples> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let client = EpmdClient::new("127.0.0.1", port);
        let mut samples = Samples::default();
        runtime.block_on(async {
            loop {
                let done = stop.load(Ordering::Acquire);
                let names = client.names().await.expect("EPMD answers NAMES");
                samples.taken += 1;
                samples.others.extend(
                    names
                        .nodes
                        .into_iter()
                        .map(|entry| entry.name)
                        .filter(|name| *name != erl),
                );
                // One last sample after the probes ended.
                if done {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        samples
    })
}

fn fifty_pings_at_once_all_pong_and_none_registers(otp: Otp) {
    let (_epmd, epmd_port) = start_epmd_blocking(&otp).expect("epmd starts");
    let alive = unique_name("erl", &otp);
    let target = format!("{alive}@{}", short_host().expect("host name"));
    let mut erl = ErlNode::builder(&otp, &alive)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(r#"io:format("ready~n")"#)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ready").expect("erl is up");

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample(epmd_port, alive.clone(), Arc::clone(&stop));
    let started = Instant::now();
    let probes: Vec<_> = (0..PROBES)
        .map(|_| {
            Command::new(CNODE)
                .args(["ping", &target, "--cookie", COOKIE])
                .env("ERL_EPMD_PORT", epmd_port.to_string())
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cnode starts")
        })
        .collect();
    let outputs: Vec<_> = probes
        .into_iter()
        .map(|probe| probe.wait_with_output().expect("cnode ends"))
        .collect();
    let took = started.elapsed();
    stop.store(true, Ordering::Release);
    let samples = sampler.join().expect("the sampler ends");

    for out in &outputs {
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "pong\n", "{out:?}");
    }
    eprintln!(
        "OTP {}: {PROBES} pings in {took:?}; {} EPMD samples, other names seen: {:?}",
        otp.release, samples.taken, samples.others
    );
    assert!(samples.taken >= 2, "{samples:?}");
    assert!(
        samples.others.is_empty(),
        "registered: {:?}",
        samples.others
    );
}

/// `erl -sname` on its own EPMD, with a registered `sink` that prints what
/// it receives.
struct Target {
    // Dropped first: the node goes before its EPMD.
    erl: ChildGuard,
    node: String,
    _epmd: ChildGuard,
    epmd_port: u16,
}

impl Target {
    fn start(otp: &Otp) -> Target {
        let (epmd, epmd_port) = start_epmd_blocking(otp).expect("epmd starts");
        let alive = unique_name("erl", otp);
        let node = format!("{alive}@{}", short_host().expect("host name"));
        let mut erl = ErlNode::builder(otp, &alive)
            .cookie(COOKIE)
            .epmd_port(epmd_port)
            .eval(
                r#"register(sink, spawn(fun Loop() ->
                       receive M -> io:format("got ~w~n", [M]) end, Loop() end)),
                   io:format("ready~n")"#,
            )
            .start_blocking()
            .expect("erl starts")
            .with_wait(WAIT);
        erl.wait_for_line("ready").expect("erl is up");
        Target {
            erl,
            node,
            _epmd: epmd,
            epmd_port,
        }
    }

    /// `cnode ARGS --cookie COOKIE` against this node's EPMD.
    fn cnode(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("cnode runs")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(CNODE);
        cmd.args(args)
            .args(["--cookie", COOKIE])
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }
}

/// Asserts exit code `code` and that nothing at all was printed.
fn assert_silent(out: &Output, code: i32) {
    assert!(
        out.status.code() == Some(code) && out.stdout.is_empty() && out.stderr.is_empty(),
        "expected exit {code} and no output; got {out:?}"
    );
}

/// Asserts exit code `code` and returns stdout, which must be one JSON
/// document on one line.
fn json_doc(out: &Output, code: i32) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    assert_eq!(stdout.lines().count(), 1, "{out:?}");
    serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

/// Asserts a failure document of `kind`, `category` and `code`, and
/// returns its `error` object.
fn json_error(out: &Output, kind: &str, category: &str, code: i32) -> Value {
    let doc = json_doc(out, code);
    assert_eq!(doc["ok"], false, "{doc}");
    let error = doc["error"].clone();
    assert_eq!(error["kind"], kind, "{doc}");
    assert_eq!(error["category"], category, "{doc}");
    assert_eq!(error["exit_code"], code, "{doc}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = error["message"].as_str().expect("a message");
    assert_eq!(stderr, format!("cnode: {message}\n"), "{doc}");
    error
}

#[test]
fn each_exit_code_and_quiet_prints_nothing() {
    let mut target = Target::start(&Otp::v27());
    let node = target.node.clone();

    // 0: pong, a value, a message delivered.
    assert_silent(&target.cnode(&["ping", &node, "-q"]), 0);
    let out = target.cnode(&["call", &node, "io", "format", r#"["hi~n"]"#, "--quiet"]);
    assert_silent(&out, 0);
    assert_silent(&target.cnode(&["eval", &node, "1 + 1.", "-q"]), 0);
    assert_silent(
        &target.cnode(&["send", &node, "sink", "{probe, 1}", "-q"]),
        0,
    );
    target
        .erl
        .wait_for_line("got {probe,1}")
        .expect("erl got it");

    // 2: the command line does not parse.
    let out = target.cnode(&["call", &node]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = target.cnode(&["eval", &node, "1.", "--quiet", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    // 65: an argument that parses but is not valid.
    assert_silent(&target.cnode(&["ping", "not a name", "-q"]), 65);
    assert_silent(
        &target.cnode(&["call", &node, "lists", "sort", "[3, 1", "-q"]),
        65,
    );
    assert_silent(&target.cnode(&["send", &node, "sink", "{1,", "-q"]), 65);
    assert_silent(&target.cnode(&["eval", &node, "X = 1 + , X.", "-q"]), 65);

    // 69: unreachable, which ping reports as pang.
    let out = target.cnode(&["ping", "nosuch"]);
    assert_eq!(out.status.code(), Some(69), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "pang\n");
    assert_silent(&target.cnode(&["ping", "nosuch", "-q"]), 69);
    let closed = free_port().expect("a free port").to_string();
    let out = target.cnode(&["ping", &node, "-q", "--epmd-port", &closed]);
    assert_silent(&out, 69);
    assert_silent(&target.cnode(&["send", "nosuch", "sink", "x", "-q"]), 69);

    // 70: badrpc from call, an exception from eval.
    let out = target.cnode(&["call", &node, "no_such_module", "f", "-q"]);
    assert_silent(&out, 70);
    assert_silent(&target.cnode(&["eval", &node, "1 = 2.", "-q"]), 70);
    assert_silent(&target.cnode(&["eval", &node, "throw(up).", "-q"]), 70);

    // 74: stdout cannot take the answer.
    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    let out = target
        .command(&["ping", &node])
        .stdout(full)
        .output()
        .expect("cnode runs");
    assert_eq!(out.status.code(), Some(74), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("cnode: cannot write to stdout"),
        "{out:?}"
    );

    // 75: no answer within --timeout.
    let started = Instant::now();
    let out = target.cnode(&[
        "call",
        &node,
        "timer",
        "sleep",
        "[30000]",
        "-q",
        "--timeout",
        "1",
    ]);
    assert_silent(&out, 75);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    // 77: the node refuses our cookie (clap takes one --cookie only, so
    // this command is built without the right one).
    let out = Command::new(CNODE)
        .args(["ping", &node, "-q", "--cookie", "not_the_cookie"])
        .env("ERL_EPMD_PORT", target.epmd_port.to_string())
        .env_remove("RUST_LOG")
        .output()
        .expect("cnode runs");
    assert_silent(&out, 77);

    // 78: our configuration: TLS without its optfile, no cookie file.
    assert_silent(
        &target.cnode(&["ping", &node, "-q", "--proto-dist", "inet_tls"]),
        78,
    );
    let home = interop_tests::local::TempDir::new("probes_home");
    let out = Command::new(CNODE)
        .args(["ping", &node, "-q"])
        .env("HOME", home.path())
        .env("ERL_EPMD_PORT", target.epmd_port.to_string())
        .env_remove("RUST_LOG")
        .output()
        .expect("cnode runs");
    assert_silent(&out, 78);
}

#[test]
fn json_documents_for_call_and_eval() {
    let target = Target::start(&Otp::v27());
    let node = target.node.clone();

    // Success: the value as `cnode term decode --json` maps it, and as
    // Erlang text.
    let out = target.cnode(&["call", &node, "lists", "seq", "[1, 3]", "--json"]);
    let doc = json_doc(&out, 0);
    assert_eq!(
        doc,
        json!({"ok": true, "value": [1, 2, 3], "text": "[1,2,3]"})
    );
    let out = target.cnode(&[
        "eval",
        &node,
        r#"io:format("side~n"), [#{name => <<"x">>}, 1.5, {a, true}]."#,
        "--json",
    ]);
    let doc = json_doc(&out, 0);
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["value"], json!([{"name": "x"}, 1.5, ["a", true]]));
    assert_eq!(doc["text"], r#"[#{name => <<"x">>},1.5,{a,true}]"#);
    // What the code prints goes to stderr, beside the one document.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "side\n");

    // badrpc: the reason as JSON and as text.
    let out = target.cnode(&["call", &node, "no_such_module", "f", "[1]", "--json"]);
    let error = json_error(&out, "badrpc", "call_failed", 70);
    assert_eq!(error["reason"][0], "EXIT", "{error}");
    assert_eq!(error["reason"][1][0], "undef", "{error}");
    let text = error["reason_text"].as_str().expect("reason_text");
    assert!(
        text.starts_with("{'EXIT',{undef,[{no_such_module,f,[1],"),
        "{text}"
    );

    // An exception: class and reason.
    let out = target.cnode(&["eval", &node, "1 = 2.", "--json"]);
    let error = json_error(&out, "exception", "call_failed", 70);
    assert_eq!(error["class"], "error");
    assert_eq!(error["reason"], json!(["badmatch", 2]));
    assert_eq!(error["reason_text"], "{badmatch,2}");
    let out = target.cnode(&["eval", &node, "exit(bye).", "--json"]);
    let error = json_error(&out, "exception", "call_failed", 70);
    assert_eq!(
        (&error["class"], &error["reason"]),
        (&json!("exit"), &json!("bye"))
    );

    // A syntax error: where.
    let out = target.cnode(&["eval", &node, "X = 1 + , X.", "--json"]);
    let error = json_error(&out, "syntax", "bad_argument", 65);
    assert_eq!(error["location"], "1:9");

    // A timeout: the node and the limit.
    let out = target.cnode(&[
        "call",
        &node,
        "timer",
        "sleep",
        "[30000]",
        "--json",
        "--timeout",
        "1",
    ]);
    let error = json_error(&out, "timeout", "timeout", 75);
    assert_eq!(
        (&error["node"], &error["seconds"]),
        (&json!(node), &json!(1))
    );

    // Failures before any call.
    let out = target.cnode(&["eval", "nosuch", "1.", "--json"]);
    json_error(&out, "not_registered", "unreachable", 69);
    let out = target.cnode(&["call", &node, "lists", "sort", "{3, 1}", "--json"]);
    json_error(&out, "args_not_list", "bad_argument", 65);
}
