//! The `cnode` tool without EPMD (`--erl-epmd-port`), against real `erl`
//! nodes of OTP 25, 27, 28 and 29 started as `erl -start_epmd false
//! -erl_epmd_port PORT`: `cnode serve` is reached by erl, and `ping`,
//! `call`, `eval` and `send` reach erl.
//!
//! The erl node is `NAME@127.0.0.1` (listening there only) and the served
//! node `NAME@127.0.0.2`, both on PORT. `ERL_EPMD_PORT` names a port where
//! nothing listens, for every process: any use of EPMD would fail, and
//! the test checks that none came up there.

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output};
use std::time::Duration;

use interop_tests::local::{free_port, ChildGuard, ErlNode};
use interop_tests::Otp;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_epmdless_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(node_commands_and_serve_work_without_epmd);

fn node_commands_and_serve_work_without_epmd(otp: Otp) {
    let otp = &otp;
    let port = free_port().expect("a free port").to_string();
    let no_epmd = free_port().expect("a free port");
    let tag = format!("{}_{}", otp.release, std::process::id());
    let served = format!("served_{tag}@127.0.0.2");
    let erl_name = format!("erl_{tag}@127.0.0.1");

    let mut serve = Command::new(CNODE);
    serve
        .args(["serve", "--name", &served, "--cookie", COOKIE])
        .args(["--erl-epmd-port", &port, "--listen", "127.0.0.2"])
        .env("ERL_EPMD_PORT", no_epmd.to_string());
    let mut serve = ChildGuard::spawn(serve, "cnode serve").expect("cnode serve starts");
    let line = serve.next_line_within(WAIT).expect("cnode serve prints");
    assert_eq!(line, format!("serving {served}"));

    let eval = format!(
        r#"R = '{served}',
        io:format("ping ~p~n", [net_adm:ping(R)]),
        io:format("echo ~w~n", [erpc:call(R, cnode, echo, [[1, {{x}}]])]),
        register(sink, spawn(fun L() -> receive M -> io:format("got ~w~n", [M]) end, L() end)),
        io:format("ready~n")"#
    );
    let mut erl = ErlNode::builder(otp, &erl_name)
        .long_name()
        .cookie(COOKIE)
        .epmd_port(no_epmd)
        .args(&["-start_epmd", "false", "-erl_epmd_port", &port])
        .args(&["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
        .eval(&eval)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ping pong")
        .expect("erl reaches cnode serve");
    erl.wait_for_line("echo [1,{x}]")
        .expect("erpc to cnode serve");
    erl.wait_for_line("ready").expect("erl is ready");

    let cnode = |args: &[&str]| -> Output {
        Command::new(CNODE)
            .args(args)
            .args(["--name", "cli@127.0.0.1", "--cookie", COOKIE])
            .args(["--erl-epmd-port", &port])
            .env("ERL_EPMD_PORT", no_epmd.to_string())
            .output()
            .expect("cnode runs")
    };
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let out = cnode(&["ping", &erl_name]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "pong\n");
    let out = cnode(&["call", &erl_name, "erlang", "node"]);
    // The name has dots: an atom in quotes.
    assert_eq!(stdout(&out), format!("'{erl_name}'\n"), "{out:?}");
    let out = cnode(&["eval", &erl_name, "1 + 2"]);
    assert_eq!(stdout(&out), "3\n", "{out:?}");
    let out = cnode(&["send", &erl_name, "sink", "{hello, epmdless}"]);
    assert!(out.status.success(), "{out:?}");
    erl.wait_for_line("got {hello,epmdless}")
        .expect("the message arrives");

    // A node that does not run: pang, and the address tried.
    let out = cnode(&["ping", &format!("absent_{tag}@127.0.0.3")]);
    assert!(!out.status.success());
    assert_eq!(stdout(&out), "pang\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("127.0.0.3:{port}")), "{stderr}");

    for host in [[127, 0, 0, 1], [127, 0, 0, 2]] {
        let address = SocketAddr::from((host, no_epmd));
        assert!(
            TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err(),
            "something listens on the EPMD port {address}"
        );
    }
}
