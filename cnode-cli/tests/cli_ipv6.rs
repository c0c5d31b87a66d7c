//! The `cnode` tool and IPv6, against real `erl` nodes of OTP 25, 27, 28
//! and 29:
//!
//! - `cnode serve` with no options for it is reached by erl's default
//!   `inet_tcp` nodes and by `inet6_tcp` ones (it listens on `127.0.0.1`
//!   and `::1`), and `cnode ping` reaches both kinds, with or without
//!   `--proto-dist`.
//! - A host name that resolves to `::1` only: each process runs in a mount
//!   namespace of its own (`unshare --mount`) where a copy of
//!   `/etc/hosts` with the name is bound over `/etc/hosts`; the network is
//!   this machine's. erl `inet6_tcp` and our nodes reach each other by that
//!   name, and `--proto-dist inet_tcp` says that the host has no IPv4
//!   address.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use interop_tests::local::{short_host, start_epmd_blocking, ChildGuard, ErlNode, TempDir};
use interop_tests::Otp;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_ipv6_cookie";
const WAIT: Duration = Duration::from_secs(20);

interop_tests::per_release!(
    serve_by_default_is_reached_by_inet_and_inet6_erl_nodes,
    a_host_with_only_an_ipv6_address_works_both_ways,
);

/// `cnode serve` started by `cmd`, once it prints `serving NAME`.
fn serve(cmd: Command, name: &str) -> ChildGuard {
    let mut served = ChildGuard::spawn(cmd, "cnode serve").expect("cnode serve starts");
    let line = served.next_line_within(WAIT).expect("cnode serve prints");
    assert_eq!(line, format!("serving {name}"));
    served
}

/// An erl script that pings `target` and prints `ping RESULT FAMILY`, then
/// registers `sink` (printing what it gets) and prints `ready`.
fn ping_script(target: &str) -> String {
    format!(
        r#"R = '{target}',
        P = net_adm:ping(R),
        {{ok, {{net_address, _, _, _, F}}}} = net_kernel:node_info(R, address),
        io:format("ping ~p ~p~n", [P, F]),
        register(sink, spawn(fun L() -> receive M -> io:format("got ~w~n", [M]) end, L() end)),
        io:format("ready~n")"#
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn serve_by_default_is_reached_by_inet_and_inet6_erl_nodes(otp: Otp) {
    let otp = &otp;
    let (_epmd, epmd_port) = start_epmd_blocking(otp).expect("epmd starts");
    let host = short_host().expect("host name");
    let tag = format!("{}_{}", otp.release, std::process::id());
    let served = format!("served_{tag}@{host}");
    let mut cmd = Command::new(CNODE);
    cmd.args(["serve", "--sname", &served, "--cookie", COOKIE])
        .env("ERL_EPMD_PORT", epmd_port.to_string());
    let _served = serve(cmd, &served);

    let mut erls = Vec::new();
    for (proto, family) in [("inet_tcp", "inet"), ("inet6_tcp", "inet6")] {
        let name = format!("erl_{proto}_{tag}");
        let mut erl = ErlNode::builder(otp, &name)
            .cookie(COOKIE)
            .epmd_port(epmd_port)
            .args(&["-proto_dist", proto])
            .eval(&ping_script(&served))
            .start_blocking()
            .expect("erl starts")
            .with_wait(WAIT);
        erl.wait_for_line(&format!("ping pong {family}"))
            .unwrap_or_else(|err| panic!("{proto} erl reaches cnode serve: {err}"));
        erl.wait_for_line("ready").expect("erl is ready");
        erls.push((format!("{name}@{host}"), erl));
    }

    // cnode ping reaches both, by default and with the node's own carrier.
    for ((target, _), proto) in erls.iter().zip(["inet_tcp", "inet6_tcp"]) {
        for extra in [&[][..], &["--proto-dist", proto][..]] {
            let out = Command::new(CNODE)
                .args(["ping", target, "--cookie", COOKIE])
                .args(extra)
                .env("ERL_EPMD_PORT", epmd_port.to_string())
                .output()
                .expect("cnode runs");
            assert_eq!(stdout(&out), "pong\n", "{target} {extra:?}: {out:?}");
        }
    }
}

/// `program args...` in a mount namespace where `hosts` is `/etc/hosts`.
fn with_hosts(hosts: &Path, program: &str) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private"]);
    if !running_as_root() {
        cmd.arg("--map-root-user");
    }
    cmd.args([
        "--",
        "/bin/sh",
        "-euc",
        r#"mount --bind "$0" /etc/hosts; exec "$@""#,
    ])
    .arg(hosts)
    .arg(program);
    cmd
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn a_host_with_only_an_ipv6_address_works_both_ways(otp: Otp) {
    let otp = &otp;
    let dir = TempDir::new("cli_ipv6_hosts");
    let v6_host = "v6only.cnode.test";
    let hosts = dir.path().join("hosts");
    let original = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    std::fs::write(&hosts, format!("::1 {v6_host}\n{original}")).expect("hosts file");
    let (_epmd, epmd_port) = start_epmd_blocking(otp).expect("epmd starts");
    let tag = format!("{}_{}", otp.release, std::process::id());
    let served = format!("served_{tag}@{v6_host}");

    let mut cmd = with_hosts(&hosts, CNODE);
    cmd.args(["serve", "--name", &served, "--cookie", COOKIE])
        .env("ERL_EPMD_PORT", epmd_port.to_string());
    let _served = serve(cmd, &served);

    // erl, inet6_tcp, by that name, in such a namespace too.
    let erl_name = format!("erl6_{tag}@{v6_host}");
    let erl_cmd = ErlNode::builder(otp, &erl_name)
        .long_name()
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .args(&["-proto_dist", "inet6_tcp"])
        .eval(&ping_script(&served))
        .command();
    let mut cmd = with_hosts(&hosts, &erl_cmd.get_program().to_string_lossy());
    cmd.args(erl_cmd.get_args())
        .env("ERL_EPMD_PORT", epmd_port.to_string());
    let mut erl = ChildGuard::spawn(cmd, "erl inet6_tcp")
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ping pong inet6")
        .expect("erl reaches cnode serve over IPv6");
    erl.wait_for_line("ready").expect("erl is ready");

    let cnode = |args: &[&str]| -> Output {
        let mut cmd = with_hosts(&hosts, CNODE);
        cmd.args(args)
            .args([
                "--name",
                &format!("cli_{tag}@{v6_host}"),
                "--cookie",
                COOKIE,
            ])
            .env("ERL_EPMD_PORT", epmd_port.to_string())
            .output()
            .expect("cnode runs")
    };
    for extra in [&[][..], &["--proto-dist", "inet6_tcp"][..]] {
        let out = cnode(&[&["ping", &erl_name][..], extra].concat());
        assert_eq!(stdout(&out), "pong\n", "{extra:?}: {out:?}");
    }
    let out = cnode(&["send", &erl_name, "sink", "over_ipv6"]);
    assert!(out.status.success(), "{out:?}");
    erl.wait_for_line("got over_ipv6")
        .expect("the message arrives");

    // An IPv4 node cannot reach a host that has no IPv4 address.
    let out = cnode(&["ping", &erl_name, "--proto-dist", "inet_tcp"]);
    assert_eq!(stdout(&out), "pang\n", "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no IPv4 address"), "{stderr}");
}
