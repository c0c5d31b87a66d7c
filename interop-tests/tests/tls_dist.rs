//! TLS distribution (`-proto_dist inet_tls`) against real `erl` nodes of
//! the releases that ship OTP's `ssl` application (Debian's OTP 25, 27 and
//! 29; the OTP 28 wheel has none): mutual TLS both ways with ping, rpc and
//! messages, and the refusals a TLS node must make.

use std::path::Path;
use std::time::Duration;

use cnode::{Node, TlsConfig};
use etf::Term;
use interop_tests::local::{
    loopback_node, short_host, unique_name, Epmd, ErlNode, ErlProcess, TempDir,
};
use interop_tests::tls::TlsFiles;
use interop_tests::Otp;

const COOKIE: &str = "tls_dist_cookie";

interop_tests::per_release_with_ssl!(
    two_erl_nodes_talk_over_tls_with_the_test_certificates,
    rust_dials_a_tls_erl_pings_and_exchanges_messages,
);

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

/// An erl whose `echo` process answers `{From, Msg}` with `{echo, Msg}`.
const ECHO: &str = "
    register(echo, spawn(fun Loop() -> receive {From, Msg} -> From ! {echo, Msg}, Loop() end end)),
    io:format(\"ready~n\").";

/// A cluster's certificates and optfile in a fresh directory.
struct Cluster {
    _dir: TempDir,
    files: TlsFiles,
    optfile: std::path::PathBuf,
    epmd: Epmd,
    host: String,
}

impl Cluster {
    async fn new(otp: &Otp) -> Cluster {
        let dir = TempDir::new("tls_dist");
        let files = TlsFiles::generate(dir.path(), "cluster").expect("certificates");
        let optfile = files
            .write_optfile(&dir.path().join("dist.conf"), &[])
            .expect("optfile");
        Cluster {
            _dir: dir,
            files,
            optfile,
            epmd: Epmd::start(otp).await.expect("epmd"),
            host: short_host().expect("host"),
        }
    }

    /// An echo erl over TLS; its full name.
    async fn echo_erl(&self, otp: &Otp, label: &str) -> (ErlProcess, String) {
        let name = unique_name(label, otp);
        let mut erl = tls_erl(otp, self.epmd.port(), &name, &self.optfile, ECHO);
        erl.wait_for_line("ready").await.expect("erl starts");
        (erl, format!("{name}@{}", self.host))
    }

    /// Our node over TLS, configured from the cluster's own optfile.
    async fn rust_node(&self, otp: &Otp) -> Node {
        let tls = TlsConfig::from_optfile(&self.optfile).expect("the optfile reads");
        loopback_node(unique_name("rust_tls", otp), COOKIE, self.epmd.port())
            .tls(tls)
            .start()
            .await
            .expect("our node starts")
    }
}

async fn rust_dials_a_tls_erl_pings_and_exchanges_messages(otp: Otp) {
    let cluster = Cluster::new(&otp).await;
    let (_erl, erl_name) = cluster.echo_erl(&otp, "tls_echo").await;
    let node = cluster.rust_node(&otp).await;
    node.ping(&erl_name).await.expect("pong over TLS");
    let mut me = node.spawn_process().expect("spawn");
    for payload in [Term::atom("hello"), Term::binary(vec![7u8; 3 << 20])] {
        let message = Term::tuple(vec![Term::Pid(me.pid().clone()), payload.clone()]);
        me.send(("echo", erl_name.as_str()), message).expect("send");
        let answer = me
            .recv_timeout(Duration::from_secs(20))
            .await
            .expect("an echo");
        assert_eq!(
            answer.payload,
            Term::tuple(vec![Term::atom("echo"), payload])
        );
    }
    let _ = &cluster.files;
}
