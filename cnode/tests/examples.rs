//! The programs in `cnode/examples/` run as their doc comments say, against
//! real `erl` nodes of OTP 25, 27, 28 and 29 on loopback: `ping`, `rpc`,
//! `send_receive`, `kv_server`, `kv_service` and `node_events`; and
//! `kv_service` against an Elixir 1.14 node (Debian's `elixir`, on its OTP
//! 25). (`demo` is run by `scripts/demo.sh`.)
//!
//! The examples are built once per run of this file by `cargo build
//! --examples`; each test starts its own `epmd` on a free port, given to
//! `erl` and to the example through `ERL_EPMD_PORT`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use interop_tests::local::{short_host, start_epmd_blocking, unique_name, ChildGuard, ErlNode};
use interop_tests::Otp;

const COOKIE: &str = "examples_cookie";
const WAIT: Duration = Duration::from_secs(30);

interop_tests::per_release!(
    ping_and_rpc_reach_erl,
    send_receive_trades_messages_with_an_erl_shell,
    kv_server_serves_gen_server_calls_casts_and_erpc,
    kv_service_serves_erlang,
    node_events_reports_a_peer_going_down,
);

/// Where the examples are, built on first use in this test's profile.
fn examples_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--package", "cnode", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "cargo build --examples: {status}");
        // This test runs from <target>/<profile>/deps/.
        let exe = std::env::current_exe().expect("the test's own path");
        let profile = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("<target>/<profile>/deps");
        profile.join("examples")
    })
}

/// Starts example `name` with `args`, on the EPMD at `epmd_port`.
fn example(name: &str, args: &[&str], epmd_port: u16) -> ChildGuard {
    let mut cmd = Command::new(examples_dir().join(name));
    cmd.args(args)
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        .env("RUST_LOG", "warn");
    ChildGuard::spawn(cmd, format!("example {name}")).expect("the example starts")
}

/// An `erl -sname` with the test's cookie, running `eval`, and its full
/// node name.
fn erl(otp: &Otp, epmd_port: u16, eval: &str) -> (ChildGuard, String) {
    let name = unique_name("ex", otp);
    let erl = ErlNode::builder(otp, &name)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(eval)
        .start_blocking()
        .expect("erl starts");
    let full = format!("{name}@{}", short_host().expect("host name"));
    (erl, full)
}

/// Reads output lines until one contains `needle`, and returns it.
fn line_containing(process: &mut ChildGuard, needle: &str) -> String {
    line_where(process, needle, |line| line.contains(needle))
}

/// Reads output lines until one is `wanted` (described by `what`), and
/// returns it.
fn line_where(process: &mut ChildGuard, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match process.next_line_within(left) {
            Ok(line) if wanted(&line) => return line,
            Ok(_) => {}
            Err(err) => panic!("no line with {what:?}: {err}"),
        }
    }
}

fn assert_exits_successfully(process: &mut ChildGuard, what: &str) {
    match process.wait_exit(WAIT) {
        Some(status) => assert!(status.success(), "{what} exited with {status}"),
        None => panic!("{what} still runs after {WAIT:?}"),
    }
}

fn ping_and_rpc_reach_erl(otp: Otp) {
    let (_epmd, epmd_port) = start_epmd_blocking(&otp).expect("epmd starts");
    let (mut erl, erl_name) = erl(&otp, epmd_port, r#"io:format("ready~n")."#);
    erl.wait_for_line("ready").expect("erl is up");

    let mut ping = example("ping", &[&erl_name, COOKIE], epmd_port);
    let answer = line_where(&mut ping, "pong or pang", |line| {
        line.starts_with("pong") || line.starts_with("pang")
    });
    assert_eq!(answer, "pong");
    assert_exits_successfully(&mut ping, "ping");

    let mut rpc = example("rpc", &[&erl_name, COOKIE], epmd_port);
    assert!(line_containing(&mut rpc, "erlang:node() = ").contains(&erl_name));
    assert_eq!(
        line_containing(&mut rpc, "lists:sort/1"),
        "lists:sort/1 = [1,3,a,b]"
    );
    line_containing(&mut rpc, "timer:sleep(2000) timed out after");
    assert!(line_containing(&mut rpc, "badrpc: ").contains("badarg"));
    assert_eq!(
        line_containing(&mut rpc, "OTP release"),
        format!("OTP release (async) = \"{}\"", otp.release)
    );
    // No node `nobody` is registered with this host's EPMD.
    let bad = line_containing(&mut rpc, "multicall bad nodes");
    assert!(
        bad.starts_with("multicall bad nodes: [(\"nobody@localhost\", "),
        "{bad}"
    );
    assert_exits_successfully(&mut rpc, "rpc");
    // The cast's erlang:display/1 writes to erl's own output.
    line_containing(&mut erl, "hello_from_a_rust_cast");
}

/// What the example's doc asks the user to type in the Erlang shell.
const SHELL: &str = r#"
    register(shell, self()),
    io:format("ready~n"),
    receive {hello_from_rust, Pid} -> ok end,
    {rusty, node(Pid)} ! {self(), [1, 2.5, <<"bin">>]},
    receive {reply, Reply} -> io:format("reply ~p~n", [Reply]) end,
    {rusty, node(Pid)} ! stop."#;

fn send_receive_trades_messages_with_an_erl_shell(otp: Otp) {
    let (_epmd, epmd_port) = start_epmd_blocking(&otp).expect("epmd starts");
    let (mut erl, erl_name) = erl(&otp, epmd_port, SHELL);
    erl.wait_for_line("ready").expect("erl is up");

    let mut example = example("send_receive", &[&erl_name, COOKIE], epmd_port);
    assert_eq!(
        line_containing(&mut erl, "reply "),
        r#"reply [1,2.5,<<"bin">>]"#
    );
    line_containing(&mut example, "got stop from");
    assert_exits_successfully(&mut example, "send_receive");
}

fn kv_server_serves_gen_server_calls_casts_and_erpc(otp: Otp) {
    let (_epmd, epmd_port) = start_epmd_blocking(&otp).expect("epmd starts");
    let kv_name = unique_name("kv", &otp);
    let mut kv = example("kv_server", &[&kv_name, COOKIE], epmd_port);
    let kv_node = format!("{kv_name}@{}", short_host().expect("host name"));
    line_containing(&mut kv, &format!("kv serving on {kv_node}"));

    let session = format!(
        r#"
        Node = '{kv_node}', KV = {{kv, Node}},
        Show = fun(Result) -> io:format("~w~n", [Result]) end,
        Show(gen_server:call(KV, {{put, a, 1}})),
        Show(gen_server:call(KV, {{get, a}})),
        Show(erpc:call(Node, kv, size, [])),
        gen_server:cast(KV, clear),
        Show(gen_server:call(KV, {{get, a}})),
        Stop = fun() ->
            try gen_server:call(KV, stop) catch exit:{{Reason, _}} -> Show({{exit, Reason}}) end
        end,
        Stop(),
        Stop()."#
    );
    let (mut erl, _) = erl(&otp, epmd_port, &session);
    for expected in [
        "ok",
        "{ok,1}",
        "1",
        "error",
        "{exit,stopped}",
        "{exit,noproc}",
    ] {
        assert_eq!(
            erl.next_line_within(WAIT).expect("a result"),
            expected,
            "OTP {}",
            otp.release
        );
    }
    // The node stays up until Ctrl-C.
    kv.signal("INT").expect("SIGINT");
    assert_exits_successfully(&mut kv, "kv_server");
}

/// Starts `kv_service` on a fresh EPMD: the guard, its node name, and the
/// EPMD (guard and port).
fn kv_service(otp: &Otp) -> (ChildGuard, String, (ChildGuard, u16)) {
    let epmd = start_epmd_blocking(otp).expect("epmd starts");
    let kv_name = unique_name("kvs", otp);
    let mut kv = example("kv_service", &[&kv_name, COOKIE], epmd.1);
    let kv_node = format!("{kv_name}@{}", short_host().expect("host name"));
    line_containing(&mut kv, &format!("kv serving on {kv_node}"));
    (kv, kv_node, epmd)
}

fn kv_service_serves_erlang(otp: Otp) {
    let (mut kv, kv_node, (_epmd, epmd_port)) = kv_service(&otp);
    let session = format!(
        r#"
        Node = '{kv_node}', KV = {{kv, Node}},
        Show = fun(Result) -> io:format("~p~n", [Result]) end,
        Show(gen_server:call(KV, {{put, a, 1}})),
        Show(gen_server:call(KV, {{get, a}})),
        Show(gen_server:call(KV, {{get, b}})),
        Show(erpc:call(Node, kv, size, [])),
        User = #{{'__struct__' => 'Elixir.User', name => <<"Ann">>, age => 30}},
        Card = gen_server:call(KV, {{greet, User}}),
        Show(lists:sort(maps:to_list(Card))),
        {{error, {{bad_request, _}}}} = gen_server:call(KV, {{greet, User#{{'__struct__' := x}}}}),
        Watched = spawn(fun() -> receive go -> exit(gone) end end),
        Show(gen_server:call(KV, {{watch, Watched}})),
        Watched ! go."#
    );
    let (mut erl, _) = erl(&otp, epmd_port, &session);
    for expected in [
        "ok",
        "{ok,1}",
        "error",
        "1",
        r#"[{'__struct__','Elixir.Card'},{adult,true},{name,<<"Hello, Ann">>}]"#,
        "ok",
    ] {
        assert_eq!(
            erl.next_line_within(WAIT).expect("a result"),
            expected,
            "OTP {}",
            otp.release
        );
    }
    let down = line_containing(&mut kv, "went down");
    assert!(down.ends_with("went down: gone"), "{down}");
    kv.signal("INT").expect("SIGINT");
    assert_exits_successfully(&mut kv, "kv_service");
}

/// What the example's doc shows in `iex`, as an `elixir` script: the
/// structs are real Elixir structs, made by the Elixir node.
const ELIXIR_SESSION: &str = r#"
    defmodule User, do: defstruct [:name, :age]
    defmodule Card, do: defstruct [:name, :adult]
    defmodule Session do
      def run(node) do
        kv = {:kv, node}
        IO.inspect(GenServer.call(kv, {:put, :a, 1}))
        IO.inspect(GenServer.call(kv, {:get, :a}))
        IO.inspect(:erpc.call(node, :kv, :size, []))
        card = GenServer.call(kv, {:greet, %User{name: "Ann", age: 30}})
        IO.inspect(card)
        %Card{name: "Hello, Ann", adult: true} = card
        IO.inspect(GenServer.call(kv, {:greet, %User{name: "Bo", age: 9}}).adult)
        IO.inspect(GenServer.call(kv, {:watch, self()}))
      end
    end
    [node] = System.argv()
    Session.run(String.to_atom(node))
"#;

#[test]
fn kv_service_serves_elixir() {
    let otp = Otp::v25();
    let (mut kv, kv_node, (_epmd, epmd_port)) = kv_service(&otp);
    let mut elixir = Command::new("elixir");
    elixir
        .args(["--sname", &unique_name("exs", &otp), "--cookie", COOKIE])
        .args(["-e", ELIXIR_SESSION, "--", &kv_node])
        .env("ERL_EPMD_PORT", epmd_port.to_string());
    let mut elixir = ChildGuard::spawn(elixir, "elixir").expect("elixir starts");
    for expected in [
        ":ok",
        "{:ok, 1}",
        "1",
        r#"%Card{name: "Hello, Ann", adult: true}"#,
        "false",
        ":ok",
    ] {
        assert_eq!(elixir.next_line_within(WAIT).expect("a result"), expected);
    }
    assert_exits_successfully(&mut elixir, "elixir");
    // The script's process ended with its node: the monitor fired.
    let down = line_containing(&mut kv, "went down");
    assert!(
        down.ends_with("went down: noconnection") || down.ends_with("went down: normal"),
        "{down}"
    );
    kv.signal("INT").expect("SIGINT");
    assert_exits_successfully(&mut kv, "kv_service");
}

fn node_events_reports_a_peer_going_down(otp: Otp) {
    let (_epmd, epmd_port) = start_epmd_blocking(&otp).expect("epmd starts");
    let (mut erl, erl_name) = erl(&otp, epmd_port, r#"io:format("ready~n")."#);
    erl.wait_for_line("ready").expect("erl is up");

    let mut example = example("node_events", &[COOKIE, &erl_name], epmd_port);
    assert_eq!(
        line_containing(&mut example, "connected to"),
        format!("connected to {erl_name}")
    );
    line_containing(&mut example, "NodeUp");
    erl.kill();
    let down = line_containing(&mut example, "NodeDown");
    assert!(down.contains(&erl_name), "{down}");
    assert!(down.ends_with("connected: []"), "{down}");
}
