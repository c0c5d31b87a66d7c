//! The `cnode` tool over TLS distribution (`--ssl-dist-optfile`, as `erl
//! -proto_dist inet_tls -ssl_dist_optfile`), against real `erl` TLS nodes
//! of the releases with OTP's `ssl` (25, 27, 29): `cnode serve` is reached
//! by erl, `ping`, `call`, `eval` and `send` reach erl, all with the same
//! optfile; without it, or with a TLS carrier and no optfile, the tool
//! says what is wrong.

use std::process::{Command, Output};
use std::time::Duration;

use interop_tests::local::{short_host, unique_name, ChildGuard, Epmd, ErlNode, TempDir};
use interop_tests::tls::TlsFiles;
use interop_tests::Otp;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_tls_cookie";
const WAIT: Duration = Duration::from_secs(30);

interop_tests::per_release_with_ssl!(the_tool_speaks_tls_with_the_clusters_optfile);

async fn the_tool_speaks_tls_with_the_clusters_optfile(otp: Otp) {
    let dir = TempDir::new("cli_tls");
    let files = TlsFiles::generate(dir.path(), "cli").expect("certificates");
    let optfile = files
        .write_optfile(&dir.path().join("dist.conf"), &[])
        .expect("optfile");
    let optfile = optfile.display().to_string();
    let epmd = Epmd::start(&otp).await.expect("epmd");
    let epmd_port = epmd.port().to_string();
    let host = short_host().expect("host");

    let served = unique_name("served_tls", &otp);
    let mut serve = Command::new(CNODE);
    serve
        .args(["serve", "--sname", &served, "--cookie", COOKIE])
        .args(["--epmd-port", &epmd_port, "--ssl-dist-optfile", &optfile]);
    let mut serve = ChildGuard::spawn(serve, "cnode serve").expect("cnode serve starts");
    let line = serve.next_line_within(WAIT).expect("cnode serve prints");
    assert_eq!(line, format!("serving {served}@{host}"));

    let erl_name = unique_name("erl_tls", &otp);
    let eval = format!(
        r#"R = '{served}@{host}',
        io:format("ping ~p~n", [net_adm:ping(R)]),
        io:format("echo ~w~n", [erpc:call(R, cnode, echo, [[1, {{x}}]])]),
        register(sink, spawn(fun L() -> receive M -> io:format("got ~w~n", [M]) end, L() end)),
        io:format("ready~n")"#
    );
    let mut erl = ErlNode::builder(&otp, &erl_name)
        .cookie(COOKIE)
        .epmd_port(epmd.port())
        .args(&["-proto_dist", "inet_tls", "-ssl_dist_optfile", &optfile])
        .eval(&eval)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ping pong")
        .expect("erl reaches cnode serve");
    erl.wait_for_line("echo [1,{x}]")
        .expect("erpc to cnode serve");
    erl.wait_for_line("ready").expect("erl is ready");

    let cnode = |args: &[&str], dist: &[&str]| -> Output {
        Command::new(CNODE)
            .args(args)
            .args(["--cookie", COOKIE, "--epmd-port", &epmd_port])
            .args(dist)
            .output()
            .expect("cnode runs")
    };
    let tls = ["--ssl-dist-optfile", optfile.as_str()];
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let out = cnode(&["ping", &erl_name], &tls);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "pong\n");
    let out = cnode(&["call", &erl_name, "erlang", "is_alive"], &tls);
    assert_eq!(stdout(&out), "true\n", "{out:?}");
    let out = cnode(&["eval", &erl_name, "1 + 2"], &tls);
    assert_eq!(stdout(&out), "3\n", "{out:?}");
    let out = cnode(&["send", &erl_name, "sink", "{hello, tls}"], &tls);
    assert!(out.status.success(), "{out:?}");
    erl.wait_for_line("got {hello,tls}")
        .expect("the message arrives");

    // Plain TCP at a TLS node: pang, and the reason.
    let out = cnode(&["ping", &erl_name, "--timeout", "5"], &[]);
    // The TLS side closes on our plain handshake: a protocol failure.
    assert_eq!(out.status.code(), Some(76), "{out:?}");
    assert_eq!(stdout(&out), "pang\n");
    // A TLS carrier needs the certificates.
    let out = cnode(&["ping", &erl_name], &["--proto-dist", "inet_tls"]);
    assert_eq!(out.status.code(), Some(78), "config: {out:?}");
    assert!(
        stderr(&out).contains("--proto-dist inet_tls needs --ssl-dist-optfile FILE"),
        "{}",
        stderr(&out)
    );
    // A broken optfile is named, with what is wrong in it.
    let broken = dir.path().join("broken.conf");
    std::fs::write(&broken, "[{server, [{verify_fun, x}]}, {client, []}].\n").expect("write");
    let out = cnode(
        &["ping", &erl_name],
        &["--ssl-dist-optfile", &broken.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(78), "config: {out:?}");
    let err = stderr(&out);
    assert!(
        err.contains("broken.conf") && err.contains("verify_fun"),
        "{err}"
    );
}
