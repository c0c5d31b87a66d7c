//! TLS distribution (`-proto_dist inet_tls`) against real `erl` nodes of
//! the releases that ship OTP's `ssl` application (Debian's OTP 25, 27 and
//! 29; the OTP 28 wheel has none): mutual TLS both ways with ping, rpc and
//! messages, and the refusals a TLS node must make.

use std::path::Path;
use std::time::Duration;

use interop_tests::local::{short_host, unique_name, Epmd, ErlNode, ErlProcess, TempDir};
use interop_tests::tls::TlsFiles;
use interop_tests::Otp;

const COOKIE: &str = "tls_dist_cookie";

interop_tests::per_release!(@async otp25 v25: two_erl_nodes_talk_over_tls_with_the_test_certificates);
interop_tests::per_release!(@async otp27 v27: two_erl_nodes_talk_over_tls_with_the_test_certificates);
interop_tests::per_release!(@async otp29 v29: two_erl_nodes_talk_over_tls_with_the_test_certificates);

/// `erl` with TLS distribution configured by `optfile`, evaluating `eval`.
fn tls_erl(otp: &Otp, epmd: u16, name: &str, optfile: &Path, eval: &str) -> ErlProcess {
    let optfile = optfile.display().to_string();
    ErlNode::builder(otp, name)
        .cookie(COOKIE)
        .epmd_port(epmd)
        .args(&["-proto_dist", "inet_tls", "-ssl_dist_optfile", &optfile])
        .eval(eval)
        .start()
        .expect("erl starts")
}

/// The files make a working mutual-TLS setup for OTP itself.
async fn two_erl_nodes_talk_over_tls_with_the_test_certificates(otp: Otp) {
    let dir = TempDir::new("tls_dist");
    let files = TlsFiles::generate(dir.path(), "cluster").expect("certificates");
    let optfile = files
        .write_optfile(&dir.path().join("dist.conf"), &[])
        .expect("optfile");
    let epmd = Epmd::start(&otp).await.expect("epmd");
    let host = short_host().expect("host");
    let a = unique_name("tls_a", &otp);
    let mut node_a = tls_erl(&otp, epmd.port(), &a, &optfile, "io:format(\"ready~n\").");
    node_a.wait_for_line("ready").await.expect("a starts");
    let b = unique_name("tls_b", &otp);
    let ping = format!("io:format(\"~p~n\", [net_adm:ping('{a}@{host}')]).");
    let mut node_b = tls_erl(&otp, epmd.port(), &b, &optfile, &ping);
    let answer = tokio::time::timeout(Duration::from_secs(20), node_b.next_line())
        .await
        .expect("b answers")
        .expect("a line");
    assert_eq!(answer.trim(), "pong");
}
