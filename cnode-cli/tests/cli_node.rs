//! `cnode ping`, `call`, `eval` and `send` as processes, against real `erl`
//! nodes of OTP 25, 27, 28 and 29 on loopback.
//!
//! Each test starts its own `epmd` on a free port (given to `erl` and to
//! `cnode` through `ERL_EPMD_PORT`) and an `erl -sname` with unique names,
//! so tests run in parallel; both are killed on drop, even when a test
//! fails.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use interop_tests::local::{
    free_port, short_host, start_epmd_blocking, unique_name, ChildGuard, ErlNode, ErlNodeBuilder,
    TempDir,
};
use interop_tests::Otp;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_node_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(
    ping_call_eval_and_send_reach_erl_as_a_hidden_node,
    long_names_reach_a_node_started_with_name,
    failures_exit_with_their_code_and_one_line_saying_why,
);

/// An erl that reports hidden nodes coming up and has a registered `sink`
/// printing what it receives.
const ERL_SIDE: &str = r#"
    spawn(fun() ->
        net_kernel:monitor_nodes(true, [{node_type, all}]),
        (fun Loop() ->
            receive {nodeup, N, Info} ->
                io:format("nodeup ~s ~s~n", [N, proplists:get_value(node_type, Info)])
            end,
            Loop()
        end)()
    end),
    register(sink, spawn(fun Loop() -> receive M -> io:format("got ~w~n", [M]) end, Loop() end)),
    io:format("ready~n")."#;

fn ping_call_eval_and_send_reach_erl_as_a_hidden_node(otp: Otp) {
    let mut erl = Erl::start(&otp);
    let node = erl.node.clone();

    // ping: pong, and erl sees our node come up as a hidden one.
    let me = unique_name("cli", &otp);
    let out = erl.cnode(&["ping", &node, "--sname", &me, "--cookie", COOKIE]);
    assert_success(&out, "pong\n");
    erl.expect_line(&format!(
        "nodeup {me}@{} hidden",
        short_host().expect("host name")
    ));

    // A bare name means this host, as with erl -sname.
    let bare = node.split('@').next().unwrap_or_default();
    assert_success(&erl.cnode(&["ping", bare, "--cookie", COOKIE]), "pong\n");

    // call: the value in Erlang syntax.
    let out = erl.cnode(&[
        "call",
        &node,
        "lists",
        "sort",
        "[[3, 1, 2]]",
        "--cookie",
        COOKIE,
    ]);
    assert_success(&out, "[1,2,3]\n");
    let out = erl.cnode(&["call", &node, "erlang", "node", "--cookie", COOKIE]);
    assert_success(&out, &format!("{node}\n"));

    // Atom arguments may be quoted as in Erlang.
    let out = erl.cnode(&[
        "call",
        &node,
        "'lists'",
        "'reverse'",
        "[[1, 2]]",
        "--cookie",
        COOKIE,
    ]);
    assert_success(&out, "[2,1]\n");

    // eval: evaluated on the node, bindings and all.
    let out = erl.cnode(&["eval", &node, "X = 1 + 2, X * 10.", "--cookie", COOKIE]);
    assert_success(&out, "30\n");
    let out = erl.cnode(&[
        "eval",
        &node,
        "{node(), lists:seq(1, 3)}",
        "--cookie",
        COOKIE,
    ]);
    assert_success(&out, &format!("{{{node},[1,2,3]}}\n"));

    // What the evaluated or called code writes to its group leader comes
    // out before the value, formatted on the node.
    let out = erl.cnode(&[
        "eval",
        &node,
        r#"io:format("x = ~p~n", [{a, 1}]), io:put_chars(<<"é!\n"/utf8>>), done"#,
        "--cookie",
        COOKIE,
    ]);
    assert_success(&out, "x = {a,1}\né!\ndone\n");
    let out = erl.cnode(&[
        "call",
        &node,
        "io",
        "format",
        r#"["~s and ~w~n", ["text", [1, 2]]]"#,
        "--cookie",
        COOKIE,
    ]);
    assert_success(&out, "text and [1,2]\nok\n");

    // send: the registered process gets the term.
    let out = erl.cnode(&[
        "send",
        &node,
        "sink",
        r#"{hello, "wörld", 42, <<1,2>>}"#,
        "--cookie",
        COOKIE,
    ]);
    assert_success(&out, "");
    erl.expect_line("got {hello,[119,246,114,108,100],42,<<1,2>>}");

    // The cookie defaults to ~/.erlang.cookie.
    let home = TempDir::new(&unique_name("home", &otp));
    std::fs::write(home.path().join(".erlang.cookie"), format!("{COOKIE}\n")).expect("cookie file");
    let out = erl.cnode_env(&["ping", &node], &[("HOME", home.path().as_os_str())]);
    assert_success(&out, "pong\n");
}

fn long_names_reach_a_node_started_with_name(otp: Otp) {
    let mut erl = Erl::start_long(&otp);
    let node = erl.node.clone();
    let me = format!("{}@127.0.0.1", unique_name("cli", &otp));
    let out = erl.cnode(&["ping", &node, "--name", &me, "--cookie", COOKIE]);
    assert_success(&out, "pong\n");
    erl.expect_line(&format!("nodeup {me} hidden"));
    let out = erl.cnode(&["eval", &node, "node().", "--name", &me, "--cookie", COOKIE]);
    assert_success(&out, &format!("'{node}'\n"));
}

fn failures_exit_with_their_code_and_one_line_saying_why(otp: Otp) {
    let erl = Erl::start(&otp);
    let node = erl.node.clone();
    let h = short_host().expect("host name");
    let epmd_port = erl.epmd_port;

    let out = erl.cnode(&["ping", "nosuch", "--cookie", COOKIE]);
    assert_failure(
        &out,
        "pang\n",
        &format!("cnode: no node named nosuch registered in EPMD on {h} (port {epmd_port})"),
        69,
    );

    let out = erl.cnode(&["ping", &node, "--cookie", "not_the_cookie"]);
    assert_failure(
        &out,
        "pang\n",
        &format!("cnode: node {node} refused our cookie"),
        77,
    );
    let out = erl.cnode(&[
        "call",
        &node,
        "erlang",
        "node",
        "--cookie",
        "not_the_cookie",
    ]);
    assert_failure(
        &out,
        "",
        &format!("cnode: node {node} refused our cookie"),
        77,
    );

    let out = erl.cnode(&[
        "call", &node, "erlang", "error", "[boom]", "--cookie", COOKIE,
    ]);
    assert_failure(
        &out,
        "",
        "cnode: badrpc: {'EXIT',{boom,[{erlang,error,[boom],",
        70,
    );
    let out = erl.cnode(&[
        "call",
        &node,
        "no_such_module",
        "f",
        "[1]",
        "--cookie",
        COOKIE,
    ]);
    assert_failure(
        &out,
        "",
        "cnode: badrpc: {'EXIT',{undef,[{no_such_module,f,[1],",
        70,
    );
    let out = erl.cnode(&["call", &node, "lists", "sort", "[3, 1", "--cookie", COOKIE]);
    assert_failure(&out, "", "cnode: ARGS is not an Erlang term: ", 65);
    let out = erl.cnode(&["call", &node, "lists", "sort", "{3, 1}", "--cookie", COOKIE]);
    assert_failure(
        &out,
        "",
        "cnode: ARGS must be a list of arguments such as [1, two], not {3,1}",
        65,
    );

    let out = erl.cnode(&["eval", &node, "X = 1 + , X.", "--cookie", COOKIE]);
    assert_failure(
        &out,
        "",
        "cnode: in EXPRS at 1:9: syntax error before: ','",
        65,
    );
    // OTP 25 puts this error at the quote, OTP 28 after it.
    let out = erl.cnode(&["eval", &node, "\"abc", "--cookie", COOKIE]);
    assert_failure(&out, "", "cnode: in EXPRS at 1:", 65);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(": unterminated string starting with \"abc\""),
        "{out:?}"
    );
    let out = erl.cnode(&["eval", &node, "1 = 2.", "--cookie", COOKIE]);
    assert_failure(&out, "", "cnode: exception error: {badmatch,2}", 70);
    let out = erl.cnode(&["eval", &node, "exit(bye).", "--cookie", COOKIE]);
    assert_failure(&out, "", "cnode: exception exit: bye", 70);
    let out = erl.cnode(&["eval", &node, "throw(up).", "--cookie", COOKIE]);
    assert_failure(&out, "", "cnode: exception throw: up", 70);

    let started = Instant::now();
    let out = erl.cnode(&[
        "call",
        &node,
        "timer",
        "sleep",
        "[30000]",
        "--cookie",
        COOKIE,
        "--timeout",
        "1",
    ]);
    assert_failure(
        &out,
        "",
        &format!("cnode: no answer from {node} within 1 s"),
        75,
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the timeout took {:?}",
        started.elapsed()
    );

    // No EPMD on that port: no node can run there.
    let closed = free_port().expect("free port");
    let out = erl.cnode(&[
        "ping",
        &node,
        "--cookie",
        COOKIE,
        "--epmd-port",
        &closed.to_string(),
    ]);
    let alive = node.split('@').next().unwrap_or_default();
    assert_failure(
        &out,
        "pang\n",
        &format!("cnode: no EPMD answers on {h} port {closed}, so no node {alive} runs there"),
        69,
    );

    // Our own mistakes print no pang.
    let out = erl.cnode(&["ping", "not a name", "--cookie", COOKIE]);
    assert_failure(&out, "", "cnode: bad node name \"not a name\"", 65);
}

/// Asserts exit status 0, this stdout and an empty stderr.
fn assert_success(out: &Output, stdout: &str) {
    let (got_out, got_err) = texts(out);
    assert!(
        out.status.success() && got_out == stdout && got_err.is_empty(),
        "expected success with stdout {stdout:?}; got {:?}, stdout {got_out:?}, stderr {got_err:?}",
        out.status
    );
}

/// Asserts exit status `code` (see `cnode --help`), this stdout and one
/// stderr line starting with `stderr_start`.
fn assert_failure(out: &Output, stdout: &str, stderr_start: &str, code: i32) {
    let (got_out, got_err) = texts(out);
    assert!(
        out.status.code() == Some(code)
            && got_out == stdout
            && got_err.starts_with(stderr_start)
            && got_err.lines().count() == 1,
        "expected exit {code}, stdout {stdout:?}, stderr {stderr_start:?}...; got {:?}, stdout {got_out:?}, stderr {got_err:?}",
        out.status
    );
}

fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `erl -sname` running [`ERL_SIDE`] on its own EPMD, and its output lines.
struct Erl {
    // Dropped first: the node goes before its EPMD.
    process: ChildGuard,
    node: String,
    _epmd: ChildGuard,
    epmd_port: u16,
}

impl Erl {
    /// `erl -sname erl_…`.
    fn start(otp: &Otp) -> Erl {
        let name = unique_name("erl", otp);
        let node = format!("{name}@{}", short_host().expect("host name"));
        Erl::start_named(otp, ErlNode::builder(otp, &name), node)
    }

    /// `erl -name erl_…@127.0.0.1`.
    fn start_long(otp: &Otp) -> Erl {
        let node = format!("{}@127.0.0.1", unique_name("erl", otp));
        Erl::start_named(otp, ErlNode::builder(otp, &node).long_name(), node)
    }

    fn start_named(otp: &Otp, builder: ErlNodeBuilder, node: String) -> Erl {
        let (epmd, epmd_port) = start_epmd_blocking(otp).expect("epmd starts");
        let process = builder
            .cookie(COOKIE)
            .epmd_port(epmd_port)
            .eval(ERL_SIDE)
            .start_blocking()
            .expect("erl starts")
            .with_wait(WAIT);
        let mut erl = Erl {
            process,
            node,
            _epmd: epmd,
            epmd_port,
        };
        erl.expect_line("ready");
        erl
    }

    /// Waits for an output line equal to `expected`.
    fn expect_line(&mut self, expected: &str) {
        self.process.wait_for_line(expected).expect("erl output");
    }

    /// Runs `cnode ARGS` against this node's EPMD.
    fn cnode(&self, args: &[&str]) -> Output {
        self.cnode_env(args, &[])
    }

    fn cnode_env(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
        let mut cmd = Command::new(CNODE);
        cmd.args(args)
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("cnode runs")
    }
}
