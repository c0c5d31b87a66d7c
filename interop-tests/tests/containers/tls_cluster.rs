//! A cluster with mutual TLS and no EPMD: three erl hosts (OTP 25, 27, 29)
//! meshed over `inet_tls`, a Rust hidden node (`cnode serve`) in a fourth
//! container joining them with the cluster's own optfile, and the `cnode`
//! tool reaching every node with it, while a certificate of another CA is
//! refused.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use interop_tests::containers::{Container, ErlNode, ErlSetup, Lab, PROGRAM_DIR};
use interop_tests::local::TempDir;
use interop_tests::tls::TlsFiles;
use interop_tests::Otp;

use crate::support::{cnode_binary, wait_for_log, BOOT_TIME};

/// Where every container sees the cluster's certificates and optfile.
const CERTS: &str = "/certs";
/// The cluster's optfile, as every container sees it.
const OPTFILE: &str = "/certs/dist.conf";
/// Where the `ops` container sees the certificates of another CA.
const OTHER_CERTS: &str = "/other-certs";
/// An optfile with those, as the `ops` container sees it.
const OTHER_OPTFILE: &str = "/other-certs/dist.conf";
/// The one port every node listens on and dials: there is no EPMD to ask.
const DIST_PORT: u16 = 9100;
/// EPMD's port, which nothing may listen on.
const EPMD_PORT: u16 = 4369;
/// The Rust hidden node, `cnode serve` in the `ops` container.
const RUST: &str = "rust@ops";

/// Three erl hosts (OTP 25, 27, 29), each `erl -sname nX@nX -proto_dist
/// inet_tls -ssl_dist_optfile /certs/dist.conf -start_epmd false
/// -erl_epmd_port PORT`, mesh among themselves; nothing listens on 4369
/// and no `epmd` runs in any container. In a fourth container (`ops`),
/// `cnode serve` with the same optfile and `--erl-epmd-port PORT` is the
/// Rust node: every erl pings it and `erpc:call`s it, and it stays hidden
/// (`nodes()` on each erl lists the other two, `nodes(hidden)` the Rust
/// node). The `cnode` tool, run in `ops` with the same optfile, pings and
/// evaluates on every node, and checks that every connection is TLS; with
/// an optfile of another CA it gets pang. The certificates are mounted
/// read-only; their SANs are the containers' host names.
#[test]
fn a_rust_hidden_node_joins_a_tls_cluster_without_epmd() {
    let lab = Lab::new("tls-cluster").expect("lab");
    let cnode = cnode_binary();

    let certs = TempDir::new("tls-cluster");
    let cluster_dir = certs.path().join("cluster");
    let other_dir = certs.path().join("other");
    for dir in [&cluster_dir, &other_dir] {
        std::fs::create_dir_all(dir).expect("certificate directory");
    }
    let hosts = ["n1", "n2", "n3", "ops"];
    TlsFiles::generate_for(&cluster_dir, "cluster", &hosts)
        .expect("cluster certificates")
        .mounted_at(Path::new(CERTS))
        .write_optfile(&cluster_dir.join("dist.conf"), &[])
        .expect("cluster optfile");
    // The same host names, signed by a CA the cluster does not know.
    TlsFiles::generate_for(&other_dir, "other", &hosts)
        .expect("other certificates")
        .mounted_at(Path::new(OTHER_CERTS))
        .write_optfile(&other_dir.join("dist.conf"), &[])
        .expect("other optfile");

    let setup = ErlSetup::new()
        .short_name()
        .erl_epmd_port(DIST_PORT)
        .args(["-proto_dist", "inet_tls", "-ssl_dist_optfile", OPTFILE])
        .mount(&cluster_dir, CERTS);
    let erls: Vec<ErlNode> = [(Otp::v25(), "n1"), (Otp::v27(), "n2"), (Otp::v29(), "n3")]
        .iter()
        .map(|(otp, alive)| {
            lab.start_erl_with(otp, alive, &setup)
                .unwrap_or_else(|err| panic!("starting {alive} on OTP {}: {err}", otp.release))
        })
        .collect();
    let all: Vec<&str> = erls.iter().map(ErlNode::node).collect();

    let tick = lab.tick_time().as_secs().to_string();
    let port = DIST_PORT.to_string();
    let serve: Vec<String> = ["serve", "--sname", RUST, "--cookie", lab.cookie()]
        .into_iter()
        .chain(["--listen", "0.0.0.0", "--erl-epmd-port", &port])
        .chain(["--ssl-dist-optfile", OPTFILE, "--net-ticktime", &tick])
        .map(String::from)
        .collect();
    let mut spec = lab
        .program_spec(&Otp::v25(), "ops", &cnode, &serve)
        .expect("ops spec");
    spec.aliases.push("ops".to_owned());
    spec.mounts.push((cluster_dir.clone(), CERTS.to_owned()));
    spec.mounts
        .push((other_dir.clone(), OTHER_CERTS.to_owned()));
    let ops = Container::start(lab.docker(), lab.network(), &spec).expect("ops starts");
    wait_for_log(&ops, &format!("serving {RUST}"));

    let tool = Tool {
        ops: &ops,
        cookie: lab.cookie(),
        runs: Cell::new(0),
    };
    for erl in &erls {
        tool.wait_for_pong(erl);
    }

    // No EPMD anywhere: nothing listens on 4369, no `epmd` runs; each
    // node listens on the distribution port itself.
    let containers: Vec<(&Container, &str)> = erls
        .iter()
        .map(|erl| (erl.container(), "beam.smp"))
        .chain([(&ops, "cnode")])
        .collect();
    for (container, program) in &containers {
        let ports = listening_ports(container);
        assert!(
            !ports.contains(&EPMD_PORT),
            "{} listens on {EPMD_PORT}: {ports:?}",
            container.name()
        );
        assert!(
            ports.contains(&DIST_PORT),
            "{} does not listen on {DIST_PORT}: {ports:?}",
            container.name()
        );
        let programs = programs(container);
        assert!(
            !programs.contains("epmd") && programs.contains(*program),
            "{} runs {programs:?}",
            container.name()
        );
    }

    // The erl hosts mesh over TLS, each dialing the others at DIST_PORT.
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_eq!(tool.eval(a, &format!("net_adm:ping('{b}')")), "pong");
        }
    }

    // The Rust node joins: each erl dials it and calls a function it serves.
    for erl in &all {
        let expr =
            format!("{{net_adm:ping('{RUST}'), erpc:call('{RUST}', cnode, echo, [node()])}}");
        assert_eq!(
            squeeze(&tool.eval(erl, &expr)),
            format!("{{pong,{erl}}}"),
            "{erl} joining {RUST}"
        );
    }

    // Meshed, the Rust node hidden on every host, every link TLS.
    let check = format!(
        "{{lists:sort(nodes()), lists:member('{RUST}', nodes(hidden)), \
         lists:usort([element(4, proplists:get_value(address, I)) \
         || N <- nodes(connected), {{ok, I}} <- [net_kernel:node_info(N)]])}}"
    );
    for erl in &all {
        let others: Vec<&str> = all.iter().copied().filter(|other| other != erl).collect();
        assert_eq!(
            squeeze(&tool.eval(erl, &check)),
            format!("{{[{}],true,[tls]}}", others.join(",")),
            "{{nodes(), hidden has {RUST}, protocols}} on {erl}"
        );
    }
    let rust_peers = squeeze(&tool.ok(&["call", RUST, "erlang", "nodes"]));
    let rust_peers: BTreeSet<&str> = rust_peers
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .collect();
    for erl in &all {
        assert!(
            rust_peers.contains(erl),
            "{RUST} is not connected to {erl}: {rust_peers:?}"
        );
    }

    // A certificate of another CA: refused, and the tool says so.
    let refused = tool.run(&["ping", all[0], "--timeout", "5"], OTHER_OPTFILE);
    let (stdout, stderr) = (text(&refused.stdout), text(&refused.stderr));
    assert!(
        !refused.status.success() && stdout.trim() == "pang",
        "another CA's certificate was let in: {stdout}\n{stderr}"
    );
    assert!(stderr.contains("certificate"), "refused for what? {stderr}");
    // The cluster is as it was.
    assert_eq!(tool.ok(&["ping", all[0]]), "pong");
}

/// The `cnode` tool, run in the `ops` container (`docker exec`) as a
/// short-lived hidden node `toolN@ops` (a fresh name each time, so that
/// one run's closing connection never meets the next).
struct Tool<'a> {
    ops: &'a Container,
    cookie: &'a str,
    runs: Cell<u32>,
}

impl Tool<'_> {
    /// `cnode ARGS --sname toolN@ops --cookie C --erl-epmd-port PORT
    /// --ssl-dist-optfile OPTFILE`, whatever its outcome.
    fn run(&self, args: &[&str], optfile: &str) -> Output {
        let run = self.runs.get() + 1;
        self.runs.set(run);
        let program = format!("{PROGRAM_DIR}/cnode");
        let name = format!("tool{run}@ops");
        let port = DIST_PORT.to_string();
        let mut command = vec![program.as_str()];
        command.extend_from_slice(args);
        command.extend(["--sname", &name, "--cookie", self.cookie]);
        command.extend(["--erl-epmd-port", &port, "--ssl-dist-optfile", optfile]);
        self.ops
            .exec_output(&command)
            .unwrap_or_else(|err| panic!("cnode {args:?}: {err}"))
    }

    /// [`Tool::run`] with the cluster's optfile; its output, trimmed,
    /// failing the test unless it succeeded.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, OPTFILE);
        assert!(
            out.status.success(),
            "cnode {args:?}: {}\n{}\n--- ops ---\n{}",
            text(&out.stdout),
            text(&out.stderr),
            self.ops.logs()
        );
        text(&out.stdout).trim().to_owned()
    }

    /// `cnode eval NODE EXPRS`.
    fn eval(&self, node: &str, exprs: &str) -> String {
        self.ok(&["eval", node, exprs])
    }

    /// Pings `erl` until it answers, up to [`BOOT_TIME`].
    fn wait_for_pong(&self, erl: &ErlNode) {
        let deadline = Instant::now() + BOOT_TIME;
        loop {
            let out = self.run(&["ping", erl.node(), "--timeout", "5"], OPTFILE);
            if out.status.success() && text(&out.stdout).trim() == "pong" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} does not answer: {}\n--- container log ---\n{}",
                erl.node(),
                text(&out.stderr),
                erl.container().logs()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// The TCP ports something listens on in `container`'s network namespace
/// (IPv4 and IPv6), read from `/proc/net/tcp*` with the shell alone, as
/// the images carry no `ss` or `netstat`.
fn listening_ports(container: &Container) -> BTreeSet<u16> {
    const SCRIPT: &str = r#"for f in /proc/net/tcp /proc/net/tcp6; do
        while read -r _ local _ state _; do
            if [ "$state" = 0A ]; then echo "$local"; fi
        done < "$f"
    done"#;
    let listing = container
        .exec(&["/bin/sh", "-c", SCRIPT])
        .unwrap_or_else(|err| panic!("listing sockets in {}: {err}", container.name()));
    listing
        .lines()
        .filter_map(|local| local.rsplit(':').next())
        .map(|hex| {
            u16::from_str_radix(hex.trim(), 16)
                .unwrap_or_else(|_| panic!("a port in /proc/net/tcp: {hex:?}"))
        })
        .collect()
}

/// The names (`comm`) of the processes running in `container`.
fn programs(container: &Container) -> BTreeSet<String> {
    const SCRIPT: &str = r#"for d in /proc/[0-9]*; do
        if read -r comm < "$d/comm"; then echo "$comm"; fi
    done 2>/dev/null"#;
    container
        .exec(&["/bin/sh", "-c", SCRIPT])
        .unwrap_or_else(|err| panic!("listing processes in {}: {err}", container.name()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A term as `cnode` prints it, without its white space (which its pretty
/// printer adds as it likes).
fn squeeze(term: &str) -> String {
    term.chars().filter(|c| !c.is_whitespace()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
