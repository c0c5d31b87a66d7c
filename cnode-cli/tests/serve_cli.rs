//! `cnode serve` as a process, against real `erl` nodes of OTP 25, 27, 28 and 29:
//! erl pings it, calls its functions through erpc and rpc, talks to its
//! `echo` process, links to and monitors it; then the node is SIGKILLed
//! and erl sees `noconnection` for the link and the monitor, and
//! `nodedown`.
//!
//! Each test has its own `epmd` on a free port and unique node names; every
//! child is killed on drop, even when the test fails.

use std::process::Command;
use std::time::{Duration, Instant};

use interop_tests::local::{short_host, start_epmd_blocking, ChildGuard, ErlNode};
use interop_tests::Otp;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "serve_cli_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(erl_uses_a_served_node_and_sees_it_die);

fn erl_uses_a_served_node_and_sees_it_die(otp: Otp) {
    let otp = &otp;
    let (_epmd, port) = start_epmd_blocking(otp).expect("epmd starts");
    let alive = format!("served_{}_{}", otp.release, std::process::id());
    let name = format!("{alive}@{}", short_host().expect("host name"));
    let port_text = port.to_string();
    let serve_args = [
        "serve",
        "--sname",
        &alive,
        "--cookie",
        COOKIE,
        "--net-ticktime",
        "4",
        "--epmd-port",
        &port_text,
    ];
    // EPMD may take a moment to listen: retry until the node serves.
    let mut served = None;
    let start = Instant::now();
    while served.is_none() {
        let mut serve = Command::new(CNODE);
        serve.args(serve_args);
        let mut running = ChildGuard::spawn(serve, "cnode serve").expect("cnode serve starts");
        match running.next_line_within(WAIT) {
            Ok(line) if line == format!("serving {name}") => served = Some(running),
            other => {
                assert!(
                    start.elapsed() < WAIT,
                    "cnode serve did not start: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let mut served = served.expect("serving");
    let eval = format!(
        r#"R = '{name}',
        pong = net_adm:ping(R),
        io:format("node ~s~n", [erpc:call(R, erlang, node, [])]),
        io:format("rpc node ~s~n", [rpc:call(R, erlang, node, [])]),
        io:format("echo fun ~w~n", [rpc:call(R, cnode, echo, [[1, {{x}}]])]),
        {{echo, R}} ! {{self(), hello}},
        receive {{echo, M}} -> io:format("echo ~w~n", [M]) end,
        process_flag(trap_exit, true),
        E = erpc:call(R, erlang, whereis, [echo]),
        link(E), Ref = monitor(process, E), monitor_node(R, true),
        io:format("watching~n"),
        receive {{'EXIT', E, Why}} -> io:format("exit ~w~n", [Why]) end,
        receive {{'DOWN', Ref, process, E, Down}} -> io:format("down ~w~n", [Down]) end,
        receive {{nodedown, R}} -> io:format("nodedown~n") end,
        halt()"#
    );
    let mut erl = ErlNode::builder(otp, &format!("erl_{alive}"))
        .cookie(COOKIE)
        .epmd_port(port)
        .tick_time(Duration::from_secs(4))
        .eval(&eval)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line(&format!("node {name}"))
        .expect("erl output");
    erl.wait_for_line(&format!("rpc node {name}"))
        .expect("erl output");
    erl.wait_for_line("echo fun [1,{x}]").expect("erl output");
    erl.wait_for_line("echo hello").expect("erl output");
    erl.wait_for_line("watching").expect("erl output");
    served.kill();
    erl.wait_for_line("exit noconnection").expect("erl output");
    erl.wait_for_line("down noconnection").expect("erl output");
    erl.wait_for_line("nodedown").expect("erl output");
}

/// `cnode serve --name` and `cnode ping --name` complete a bare name the
/// same way (this machine's whole host name, as `erl -name`), so that a
/// node served by a bare long name is found by pinging that bare name;
/// `--sname` likewise with the short host name. No erl: `cnode serve`
/// starts its own EPMD on a free port.
#[test]
fn serve_and_ping_complete_bare_names_alike() {
    for (flag, host) in [
        ("--name", long_host()),
        ("--sname", short_host().expect("host name")),
    ] {
        let port = interop_tests::local::free_port().expect("free port");
        let port_text = port.to_string();
        let alive = format!("named_{}{}", &flag[2..3], std::process::id());
        let serve_args = [
            "serve",
            flag,
            &alive,
            "--cookie",
            COOKIE,
            "--epmd-port",
            &port_text,
        ];
        let mut serve = Command::new(CNODE);
        serve.args(serve_args);
        let mut served = ChildGuard::spawn(serve, "cnode serve").expect("cnode serve starts");
        let line = served.next_line_within(WAIT).expect("cnode serve prints");
        assert_eq!(line, format!("serving {alive}@{host}"), "{flag}");
        let me = format!("pinger_{alive}");
        let out = Command::new(CNODE)
            .args(["ping", &alive, flag, &me, "--cookie", COOKIE])
            .args(["--epmd-port", &port_text])
            .output()
            .expect("cnode ping runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{flag}: {stdout} {stderr}");
        assert_eq!(stdout.trim(), "pong", "{flag}: {stderr}");
        served.kill();
    }
}

/// This machine's whole host name, as `erl -name` completes a bare name.
fn long_host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("host name");
    match name.trim() {
        "" => "localhost".to_owned(),
        name => name.to_owned(),
    }
}
