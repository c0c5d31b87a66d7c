//! TLS distribution (`-proto_dist inet_tls`) against real `erl` nodes of
//! the releases that ship OTP's `ssl` application (Debian's OTP 25, 27 and
//! 29; the OTP 28 wheel has none): mutual TLS both ways with ping, rpc and
//! messages, and the refusals a TLS node must make.

use std::path::Path;
use std::time::Duration;

use cnode::{AddressFamily, ConnectError, Node, NodeEvent, TlsConfig};
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
    a_tls_erl_dials_our_node_calls_it_and_messages_it,
    certificates_from_another_ca_are_refused_both_ways_and_the_node_serves_on,
    an_expired_certificate_or_none_is_refused,
    plain_tcp_and_tls_do_not_mix_and_each_side_says_so,
    a_256_mib_message_goes_both_ways_over_tls_while_ticks_keep_the_link,
    tls_1_3_and_ipv6_both_ways,
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
            .write_optfile(
                &dir.path().join("dist.conf"),
                &["{secure_renegotiate, true}"],
            )
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

/// `{'$rust', Node}` evaluated by a TLS erl: prints the result of `expr`
/// (Erlang source using `Rust`, our node's name as an atom).
fn eval_against(rust: &str, expr: &str) -> String {
    format!("Rust = '{rust}', io:format(\"answer ~p~n\", [{expr}]).")
}

/// What [`eval_against`] printed, within 30 s (erl's reports of refused
/// TLS handshakes may come first).
async fn first_line(erl: &mut ErlProcess) -> String {
    let answer = async {
        loop {
            let line = erl.next_line().await.expect("a line");
            if let Some(answer) = line.trim().strip_prefix("answer ") {
                return answer.to_owned();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), answer)
        .await
        .expect("erl answers in time")
}

async fn a_tls_erl_dials_our_node_calls_it_and_messages_it(otp: Otp) {
    let cluster = Cluster::new(&otp).await;
    let node = cluster.rust_node(&otp).await;
    node.register_function("tls", "double", |args| {
        match args.first().and_then(Term::as_i64) {
            Some(n) => Ok(Term::from(2 * n)),
            None => Err(cnode::Exception::badarg()),
        }
    });
    let mut box_ = node.spawn_process().expect("spawn");
    box_.register("box").expect("register");
    let expr = "begin pong = net_adm:ping(Rust), {box, Rust} ! hello_over_tls, \
                rpc:call(Rust, tls, double, [21]) end";
    let name = unique_name("tls_caller", &otp);
    let mut erl = tls_erl(
        &otp,
        cluster.epmd.port(),
        &name,
        &cluster.optfile,
        &eval_against(node.name(), expr),
    );
    assert_eq!(first_line(&mut erl).await, "42");
    let message = box_
        .recv_timeout(Duration::from_secs(5))
        .await
        .expect("the message");
    assert_eq!(message.payload, Term::atom("hello_over_tls"));
}

/// An optfile for certificates of another CA, which trusts only that CA.
fn intruder_optfile(dir: &Path) -> std::path::PathBuf {
    TlsFiles::generate(dir, "intruder")
        .expect("certificates")
        .write_optfile(&dir.join("intruder.conf"), &[])
        .expect("optfile")
}

async fn certificates_from_another_ca_are_refused_both_ways_and_the_node_serves_on(otp: Otp) {
    let cluster = Cluster::new(&otp).await;
    let (_erl, erl_name) = cluster.echo_erl(&otp, "tls_echo").await;
    let node = cluster.rust_node(&otp).await;
    let dir = TempDir::new("tls_intruder");
    let intruder = intruder_optfile(dir.path());

    // Our node with the intruder's certificates is refused by the erl...
    let tls = TlsConfig::from_optfile(&intruder).expect("optfile");
    let stranger = loopback_node(
        unique_name("rust_intruder", &otp),
        COOKIE,
        cluster.epmd.port(),
    )
    .tls(tls)
    .start()
    .await
    .expect("starts");
    let err = stranger.connect(&erl_name).await.unwrap_err();
    assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
    // ... and an erl with them is refused by our node.
    let name = unique_name("erl_intruder", &otp);
    let mut erl = tls_erl(
        &otp,
        cluster.epmd.port(),
        &name,
        &intruder,
        &eval_against(node.name(), "net_adm:ping(Rust)"),
    );
    assert_eq!(first_line(&mut erl).await, "pang");
    // The node serves everyone else meanwhile.
    node.ping(&erl_name)
        .await
        .expect("pong with the cluster's certificates");
}

async fn an_expired_certificate_or_none_is_refused(otp: Otp) {
    let cluster = Cluster::new(&otp).await;
    let node = cluster.rust_node(&otp).await;
    let dir = TempDir::new("tls_expired");
    // Signed by another CA and expired: our node refuses it as it refuses
    // any certificate it cannot verify; the expiry alone is refused too
    // (rustls checks it), as the unit tests of the configuration show.
    let expired = TlsFiles::generate_with(dir.path(), "expired", |params| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    })
    .expect("certificates");
    // Trust the cluster's CA too, so that only the expiry is wrong for erl.
    let both = dir.path().join("both-ca.pem");
    let mut cas = std::fs::read(&cluster.files.ca).expect("ca");
    cas.extend(std::fs::read(&expired.ca).expect("ca"));
    std::fs::write(&both, cas).expect("write");
    let expired = TlsFiles {
        ca: both,
        ..expired
    };
    let optfile = expired
        .write_optfile(&dir.path().join("expired.conf"), &[])
        .expect("optfile");
    let name = unique_name("erl_expired", &otp);
    let mut erl = tls_erl(
        &otp,
        cluster.epmd.port(),
        &name,
        &optfile,
        &eval_against(node.name(), "net_adm:ping(Rust)"),
    );
    assert_eq!(first_line(&mut erl).await, "pang");

    // A client without a certificate, where the server requires one.
    let no_cert = dir.path().join("no_cert.conf");
    let client = format!(
        "[{{server, [{{certfile, {cert:?}}}, {{keyfile, {key:?}}}, {{cacertfile, {ca:?}}}, \
         {{verify, verify_peer}}, {{fail_if_no_peer_cert, true}}]}},\n \
         {{client, [{{cacertfile, {ca:?}}}, {{verify, verify_peer}}]}}].\n",
        cert = cluster.files.cert.display().to_string(),
        key = cluster.files.key.display().to_string(),
        ca = cluster.files.ca.display().to_string(),
    );
    std::fs::write(&no_cert, client).expect("write");
    let name = unique_name("erl_no_cert", &otp);
    let mut erl = tls_erl(
        &otp,
        cluster.epmd.port(),
        &name,
        &no_cert,
        &eval_against(node.name(), "net_adm:ping(Rust)"),
    );
    assert_eq!(first_line(&mut erl).await, "pang");
    let (_echo, echo_name) = cluster.echo_erl(&otp, "tls_echo").await;
    node.ping(&echo_name).await.expect("the node serves on");
}

async fn plain_tcp_and_tls_do_not_mix_and_each_side_says_so(otp: Otp) {
    let cluster = Cluster::new(&otp).await;
    let node = cluster.rust_node(&otp).await;
    // A plain erl at our TLS node.
    let name = unique_name("erl_plain", &otp);
    let mut plain = ErlNode::builder(&otp, &name)
        .cookie(COOKIE)
        .epmd_port(cluster.epmd.port())
        .eval(&eval_against(node.name(), "net_adm:ping(Rust)"))
        .start()
        .expect("erl starts");
    assert_eq!(first_line(&mut plain).await, "pang");
    // Our TLS node at a plain erl: the erl waits for the rest of what it
    // takes for a handshake message and never answers, so the setup time
    // ends it, with an error that says where it stopped.
    let echo = unique_name("plain_echo", &otp);
    let mut plain_echo = ErlNode::builder(&otp, &echo)
        .cookie(COOKIE)
        .epmd_port(cluster.epmd.port())
        .eval(ECHO)
        .start()
        .expect("erl starts");
    plain_echo.wait_for_line("ready").await.expect("ready");
    let err = node
        .connect(&format!("{echo}@{}", cluster.host))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("TLS handshake"), "{err}");
}

async fn a_256_mib_message_goes_both_ways_over_tls_while_ticks_keep_the_link(otp: Otp) {
    let cluster = Cluster::new(&otp).await;
    let tick = Duration::from_secs(4);
    let tls = TlsConfig::from_optfile(&cluster.optfile).expect("optfile");
    let node = loopback_node(unique_name("rust_big", &otp), COOKIE, cluster.epmd.port())
        .tls(tls)
        .net_ticktime(tick)
        .start()
        .await
        .expect("our node starts");
    let name = unique_name("tls_big_echo", &otp);
    let optfile = cluster.optfile.display().to_string();
    let mut erl = ErlNode::builder(&otp, &name)
        .cookie(COOKIE)
        .epmd_port(cluster.epmd.port())
        .tick_time(tick)
        .args(&["-proto_dist", "inet_tls", "-ssl_dist_optfile", &optfile])
        .eval(ECHO)
        .start()
        .expect("erl starts");
    erl.wait_for_line("ready").await.expect("ready");
    let erl_name = format!("{name}@{}", cluster.host);
    node.connect(&erl_name).await.expect("connected");
    let mut events = node.events();
    let mut me = node.spawn_process().expect("spawn");
    let big = Term::binary(
        (0..256u32 << 20)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let message = Term::tuple(vec![Term::Pid(me.pid().clone()), big.clone()]);
    me.send(("echo", erl_name.as_str()), message).expect("send");
    let answer = me
        .recv_timeout(Duration::from_secs(120))
        .await
        .expect("the echo");
    assert_eq!(answer.payload, Term::tuple(vec![Term::atom("echo"), big]));
    // The link stayed up all along: only its nodeup came.
    match tokio::time::timeout(Duration::ZERO, events.recv()).await {
        Err(_) | Ok(Some(NodeEvent::NodeUp { .. })) => {}
        Ok(other) => panic!("{other:?}"),
    }
    assert_eq!(node.nodes(), [erl_name]);
}

/// TLS 1.3 over IPv6 (`inet6_tls`), both ways: the erl's optfile allows
/// TLS 1.3 only, so a connection at all proves the version.
async fn tls_1_3_and_ipv6_both_ways(otp: Otp) {
    let cluster = Cluster::new(&otp).await;
    let dir = TempDir::new("tls13");
    let optfile = cluster
        .files
        .write_optfile(&dir.path().join("tls13.conf"), &["{versions, ['tlsv1.3']}"])
        .expect("optfile");
    let tls = TlsConfig::from_optfile(&optfile).expect("optfile");
    let node = loopback_node(unique_name("rust_tls13", &otp), COOKIE, cluster.epmd.port())
        .tls(tls)
        .address_family(AddressFamily::Ipv6)
        .listen_loopback()
        .start()
        .await
        .expect("our node starts");
    let name = unique_name("erl_tls13", &otp);
    let optfile_arg = optfile.display().to_string();
    let mut erl = ErlNode::builder(&otp, &name)
        .cookie(COOKIE)
        .epmd_port(cluster.epmd.port())
        .args(&[
            "-proto_dist",
            "inet6_tls",
            "-ssl_dist_optfile",
            &optfile_arg,
        ])
        .eval(&eval_against(node.name(), "net_adm:ping(Rust)"))
        .start()
        .expect("erl starts");
    assert_eq!(first_line(&mut erl).await, "pong");
    let erl_name = format!("{name}@{}", cluster.host);
    assert!(node.disconnect(&erl_name));
    node.ping(&erl_name)
        .await
        .expect("pong from our side over inet6_tls");
}
