//! `cnode epmd`: the server subcommand as a process, queried by the other
//! subcommands and by the library client.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use epmd_client::{EpmdClient, NodeInfo, NodeType};
use interop_tests::local::{start_server_blocking, ChildGuard, DEFAULT_WAIT};

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");

/// `cnode epmd serve` on a fresh loopback port, killed on drop.
struct Serve {
    child: ChildGuard,
    port: u16,
}

impl Serve {
    /// Starts it on a free port, on another one if that is taken before
    /// the server binds it, and waits until it listens.
    fn start(extra: &[&str]) -> Serve {
        let (child, port) = start_server_blocking("cnode epmd serve", |port| {
            let mut cmd = Command::new(CNODE);
            cmd.args(["epmd", "serve", "--address", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .args(extra);
            cmd
        })
        .expect("cnode epmd serve listens");
        Serve { child, port }
    }

    fn cnode(&self, args: &[&str]) -> Output {
        Command::new(CNODE)
            .args(["epmd"])
            .args(args)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .output()
            .expect("cnode runs")
    }

    /// Waits for the server process to exit by itself.
    fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        self.child
            .wait_exit(within)
            .expect("cnode epmd serve exits in time")
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn names_prints_what_epmd_names_prints() {
    let mut serve = Serve::start(&[]);
    let rt = runtime();
    let client = EpmdClient::new("127.0.0.1", serve.port);

    let out = serve.cnode(&["names"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        format!("epmd: up and running on port {} with data:\n", serve.port)
    );

    let reg = rt
        .block_on(client.register(NodeInfo::new("clinode", 40555, NodeType::HIDDEN)))
        .expect("registers");
    let out = serve.cnode(&["names"]);
    assert_eq!(
        stdout(&out),
        format!(
            "epmd: up and running on port {} with data:\nname clinode at port 40555\n",
            serve.port
        )
    );
    let out = serve.cnode(&["port", "clinode"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("port 40555\n"), "{}", stdout(&out));
    let out = serve.cnode(&["dump"]);
    assert!(
        stdout(&out).contains("active name     <clinode> at port 40555"),
        "{}",
        stdout(&out)
    );
    let out = serve.cnode(&["port", "ghost"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no node \"ghost\""));

    // Without the relaxed check: KILL refused while a node lives, STOP ignored.
    let out = serve.cnode(&["kill"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Killing not allowed"));
    assert_eq!(serve.cnode(&["stop", "clinode"]).status.code(), Some(1));

    drop(reg);
    let deadline = Instant::now() + DEFAULT_WAIT;
    while stdout(&serve.cnode(&["names"])).contains("clinode") {
        assert!(
            Instant::now() < deadline,
            "registration outlived its connection"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = serve.cnode(&["kill"]);
    assert_eq!(stdout(&out), "Killed\n");
    assert!(serve.wait_exit(DEFAULT_WAIT).success());

    let out = serve.cnode(&["names"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot reach EPMD"),
        "{out:?}"
    );
}

#[test]
fn relaxed_serve_stops_nodes_and_exits_on_sigterm() {
    let mut serve = Serve::start(&["--relaxed-command-check"]);
    let rt = runtime();
    let client = EpmdClient::new("127.0.0.1", serve.port);
    let mut reg = rt
        .block_on(client.register(NodeInfo::new("victim", 1, NodeType::NORMAL)))
        .expect("registers");
    let out = serve.cnode(&["stop", "victim"]);
    assert_eq!(stdout(&out), "STOPPED\n");
    rt.block_on(async {
        tokio::time::timeout(DEFAULT_WAIT, reg.closed())
            .await
            .expect("stopped registration closed")
    });
    assert_eq!(serve.cnode(&["stop", "victim"]).status.code(), Some(1));

    serve.child.signal("TERM").expect("kill -TERM");
    assert!(serve.wait_exit(DEFAULT_WAIT).success());
}
