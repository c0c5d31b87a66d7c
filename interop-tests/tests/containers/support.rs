//! What the container scenarios share: waiting for nodes, echo traffic,
//! rpc shorthands, node events.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use cnode::{DownReason, Node, NodeEvent, NodeEvents, Process};
use etf::{Pid, Reference, Term};
use interop_tests::containers::{Container, ErlNode, Lab, ECHO};
use interop_tests::Otp;

/// How long an `erl` in a fresh container may take to answer a ping.
pub(crate) const BOOT_TIME: Duration = Duration::from_secs(30);

/// Limit for one rpc or echo round trip.
pub(crate) const CALL_TIME: Duration = Duration::from_secs(10);

/// Runs blocking harness code (a `docker` command) without stalling the
/// runtime's other tasks (the node's connections and ticks).
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Where a scenario's Rust node runs. On the host this runs the test named
/// `test` (libtest's `module::function`) again inside the lab's `rust`
/// container, fails unless it passed there, and returns `None`; inside that
/// container it returns the lab, for the scenario to run on.
pub(crate) fn in_rust_container(lab: Lab, test: &str) -> Option<Lab> {
    if lab.is_inside() {
        return Some(lab);
    }
    let (code, output) = blocking(|| lab.run_test_inside(test)).expect("run inside the lab");
    assert!(
        code == 0 && output.contains("test result: ok. 1 passed"),
        "{test} failed inside its container (exit {code}):\n{output}"
    );
    None
}

/// Starts one container per `(otp, alive)` and waits until every node
/// answers `node`'s ping.
pub(crate) async fn start_erls(lab: &Lab, node: &Node, specs: &[(Otp, &str)]) -> Vec<ErlNode> {
    let erls: Vec<ErlNode> = specs
        .iter()
        .map(|(otp, alive)| {
            blocking(|| lab.start_erl(otp, alive))
                .unwrap_or_else(|err| panic!("starting {alive} on OTP {}: {err}", otp.release))
        })
        .collect();
    for erl in &erls {
        wait_until_up(node, erl).await;
    }
    erls
}

/// Pings `erl` until it answers and its echo process is registered (the
/// node answers pings before its `-eval` has run), failing with its
/// container's log after [`BOOT_TIME`].
pub(crate) async fn wait_until_up(node: &Node, erl: &ErlNode) {
    let deadline = Instant::now() + BOOT_TIME;
    loop {
        let up = match node.ping(erl.node()).await {
            Ok(()) => node
                .rpc()
                .call(
                    erl.node(),
                    "erlang",
                    "whereis",
                    vec![Term::atom(ECHO)],
                    CALL_TIME,
                )
                .await
                .map_err(|err| err.to_string())
                .and_then(|pid| match pid.as_pid() {
                    Some(_) => Ok(()),
                    None => Err(format!("{ECHO} not registered yet")),
                }),
            Err(err) => Err(err.to_string()),
        };
        match up {
            Ok(()) => return,
            Err(err) if Instant::now() >= deadline => panic!(
                "{} not up within {BOOT_TIME:?}: {err}\n--- container log ---\n{}",
                erl.node(),
                blocking(|| erl.container().logs())
            ),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// `rpc:call(Erl, M, F, A)` from the Rust node, failing the test on error.
pub(crate) async fn rpc(
    node: &Node,
    erl: &str,
    module: &str,
    function: &str,
    args: Vec<Term>,
) -> Term {
    node.rpc()
        .call(erl, module, function, args, CALL_TIME)
        .await
        .unwrap_or_else(|err| panic!("rpc {module}:{function} on {erl}: {err}"))
}

/// The atoms of a list term, as a set of strings.
pub(crate) fn atom_set(term: &Term) -> BTreeSet<String> {
    term.to_list()
        .unwrap_or_else(|| panic!("expected a list of atoms, got {term}"))
        .iter()
        .map(|atom| {
            atom.as_atom()
                .unwrap_or_else(|| panic!("expected an atom, got {atom}"))
                .as_str()
                .to_owned()
        })
        .collect()
}

/// A set of node names.
pub(crate) fn names<'a>(nodes: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    nodes.into_iter().map(str::to_owned).collect()
}

/// Has every pair of `erls` connect (`net_adm:ping` run on each): a full
/// mesh of visible BEAM nodes.
pub(crate) async fn mesh(node: &Node, erls: &[ErlNode]) {
    for a in erls {
        for b in erls.iter().filter(|b| b.node() != a.node()) {
            let answer = rpc(
                node,
                a.node(),
                "net_adm",
                "ping",
                vec![Term::atom(b.node())],
            )
            .await;
            assert!(
                answer.is_atom("pong"),
                "{} pinging {}: {answer}",
                a.node(),
                b.node()
            );
        }
    }
}

/// The message the echo process answers `{Me, payload}` with.
pub(crate) fn echo_reply(erl: &str, payload: Term) -> Term {
    Term::tuple(vec![Term::atom("echo"), Term::atom(erl), payload])
}

/// Sends `payload` to the echo process on `erl` (by registered name).
pub(crate) fn send_echo(process: &Process, erl: &str, payload: Term) {
    process
        .send(
            (ECHO, erl),
            Term::tuple(vec![process.pid().clone().into(), payload]),
        )
        .unwrap_or_else(|err| panic!("send to {ECHO} on {erl}: {err}"));
}

/// One echo round trip through `erl`'s registered echo process.
pub(crate) async fn echo(process: &mut Process, erl: &str, payload: Term) {
    send_echo(process, erl, payload.clone());
    let expected = echo_reply(erl, payload);
    let message = process
        .recv_timeout(CALL_TIME)
        .await
        .unwrap_or_else(|err| panic!("no echo from {erl}: {err}"));
    assert_eq!(message.payload, expected, "echo from {erl}");
}

/// Sends `count` numbered messages to each of `erls` at once, interleaved,
/// then checks that every echo comes back, per node in the order sent.
/// Returns the number of round trips.
pub(crate) async fn echo_burst(
    process: &mut Process,
    erls: &[&str],
    round: i64,
    count: i64,
) -> usize {
    for seq in 0..count {
        for erl in erls {
            send_echo(process, erl, Term::tuple(vec![round.into(), seq.into()]));
        }
    }
    let mut next = vec![0i64; erls.len()];
    for _ in 0..count * erls.len() as i64 {
        let message = process
            .recv_timeout(CALL_TIME)
            .await
            .unwrap_or_else(|err| panic!("echo burst {round}: replies stopped at {next:?}: {err}"));
        let fields = message.payload.as_tuple().unwrap_or_default();
        let from = fields
            .get(1)
            .and_then(Term::as_atom)
            .map(|a| a.as_str().to_owned());
        let index = from
            .as_deref()
            .and_then(|from| erls.iter().position(|erl| *erl == from))
            .unwrap_or_else(|| panic!("unexpected message {}", message.payload));
        let expected = echo_reply(
            erls[index],
            Term::tuple(vec![round.into(), next[index].into()]),
        );
        assert_eq!(
            message.payload, expected,
            "lost or reordered echo from {}",
            erls[index]
        );
        next[index] += 1;
    }
    (count as usize) * erls.len()
}

/// Waits for `erl` to go down, up to `within`, and says after how long and why.
/// Any other node going down fails the test.
pub(crate) async fn wait_for_down(
    events: &mut NodeEvents,
    erl: &str,
    within: Duration,
) -> (Duration, DownReason) {
    let started = Instant::now();
    loop {
        let left = within.saturating_sub(started.elapsed());
        let event = tokio::time::timeout(left, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no nodedown for {erl} within {within:?}"))
            .expect("the node is running");
        match event {
            NodeEvent::NodeDown { node, reason } if node.as_str() == erl => {
                return (started.elapsed(), reason)
            }
            NodeEvent::NodeDown { node, reason } => panic!("{node} went down too ({reason})"),
            NodeEvent::NodeUp { .. } => {}
        }
    }
}

/// Fails if any node went down since `events` was last read.
pub(crate) fn assert_no_down(events: &mut NodeEvents) {
    while let Some(event) = events.try_recv() {
        if let NodeEvent::NodeDown { node, reason } = event {
            panic!("{node} went down: {reason}");
        }
    }
}

/// The pid registered as [`ECHO`] on `erl`.
pub(crate) async fn echo_pid(node: &Node, erl: &str) -> Pid {
    let term = rpc(node, erl, "erlang", "whereis", vec![Term::atom(ECHO)]).await;
    term.as_pid()
        .unwrap_or_else(|| panic!("{ECHO} not registered on {erl}: {term}"))
        .clone()
}

/// Links `watcher` (trapping exits) to `pid` and monitors it; returns the
/// monitor reference.
pub(crate) fn link_and_monitor(watcher: &Process, pid: &Pid) -> Reference {
    watcher.trap_exit(true);
    watcher.link(pid);
    watcher
        .monitor(pid)
        .unwrap_or_else(|err| panic!("monitor {pid:?}: {err}"))
}

/// Waits for the `{'EXIT', Pid, Reason}` and `{'DOWN', Ref, process, Pid,
/// Reason}` that a link and a monitor on `pid` deliver, in either order.
pub(crate) async fn expect_exit_and_down(
    watcher: &mut Process,
    pid: &Pid,
    monitor: &Reference,
    reason: &str,
) {
    let exit = Term::tuple(vec![
        Term::atom("EXIT"),
        pid.clone().into(),
        Term::atom(reason),
    ]);
    let down = Term::tuple(vec![
        Term::atom("DOWN"),
        monitor.clone().into(),
        Term::atom("process"),
        pid.clone().into(),
        Term::atom(reason),
    ]);
    let mut expected = vec![exit, down];
    while !expected.is_empty() {
        let message = watcher
            .recv_timeout(CALL_TIME)
            .await
            .unwrap_or_else(|err| panic!("still waiting for {expected:?}: {err}"));
        let index = expected
            .iter()
            .position(|term| *term == message.payload)
            .unwrap_or_else(|| {
                panic!(
                    "unexpected {} while waiting for {expected:?}",
                    message.payload
                )
            });
        expected.remove(index);
    }
}

/// Spawns a process on `erl` that only waits (`timer:sleep(infinity)`), to
/// link to without risking the echo process (a link's exit signal kills a
/// process that does not trap exits).
pub(crate) async fn spawn_sleeper(node: &Node, erl: &str) -> Pid {
    let pid = rpc(
        node,
        erl,
        "erlang",
        "spawn",
        vec![
            Term::atom("timer"),
            Term::atom("sleep"),
            Term::list(vec![Term::atom("infinity")]),
        ],
    )
    .await;
    pid.as_pid()
        .unwrap_or_else(|| panic!("spawn on {erl} gave {pid}"))
        .clone()
}

/// Waits until `container`'s output has `line`.
pub(crate) fn wait_for_log(container: &Container, line: &str) {
    let deadline = Instant::now() + BOOT_TIME;
    while !container.logs().lines().any(|l| l.trim() == line) {
        assert!(
            Instant::now() < deadline,
            "no {line:?} from {}:\n{}",
            container.name(),
            container.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `cnode` binary of this build (`target/<profile>/cnode`), built
/// first: the tool is the binary of the `cnode-cli` package, which this
/// test package does not build.
pub(crate) fn cnode_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "-p", "cnode-cli", "--bin", "cnode"]);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building the cnode binary failed");
    profile_dir.join("cnode")
}
