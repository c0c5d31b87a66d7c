//! `cnode top` against an `erl` node under load (OTP 25, 27, 28 and 29):
//! one process spinning in a busy loop (`spinner`) and one whose message
//! queue grows (`hoarder`). Through `--json` and `--once`, each is first
//! in its sort; in a real terminal (tmux), the live view shows both,
//! reorders when the sort key changes, shows the details of the selected
//! process, quits on `q` with the terminal back in cooked mode; and the
//! node's scheduler wall time measurement is off again afterwards. And
//! `--once` reaches a node that runs without EPMD (`--erl-epmd-port`).

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use interop_tests::local::{
    free_port, short_host, start_epmd_blocking, unique_label, unique_name, wait_until, ChildGuard,
    ErlNode,
};
use interop_tests::Otp;
use serde_json::Value;

const CNODE: &str = env!("CARGO_BIN_EXE_cnode");
const COOKIE: &str = "cli_top_cookie";
const WAIT: Duration = Duration::from_secs(20);

/// The load: a busy loop, and a queue that grows by 200 messages every
/// 20 ms until the node stops.
const LOAD: &str = r#"
    Spin = fun Spin(N) -> Spin(N + 1) end,
    register(spinner, spawn(fun() -> Spin(0) end)),
    Hoarder = spawn(fun() -> receive never -> ok end end),
    register(hoarder, Hoarder),
    spawn(fun() ->
        Fill = fun Fill() ->
            [Hoarder ! {message, I} || I <- lists:seq(1, 200)],
            timer:sleep(20),
            Fill()
        end,
        Fill()
    end),
    io:format("ready~n")"#;

interop_tests::per_release!(
    top_shows_the_busy_and_the_hoarding_process,
    top_reaches_a_node_without_epmd,
);

/// The erl node under load, and how `cnode` reaches it.
struct Loaded {
    _epmd: ChildGuard,
    _erl: ChildGuard,
    epmd_port: u16,
    target: String,
}

fn start_loaded(otp: &Otp) -> Loaded {
    let (epmd, epmd_port) = start_epmd_blocking(otp).expect("epmd starts");
    let alive = unique_name("top", otp);
    let target = format!("{alive}@{}", short_host().expect("host name"));
    let mut erl = ErlNode::builder(otp, &alive)
        .cookie(COOKIE)
        .epmd_port(epmd_port)
        .eval(LOAD)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ready").expect("erl is up");
    Loaded {
        _epmd: epmd,
        _erl: erl,
        epmd_port,
        target,
    }
}

impl Loaded {
    /// Runs `cnode ARGS... --cookie COOKIE` (no `--sname`: a dynamic name).
    fn cnode(&self, args: &[&str]) -> Output {
        let out = Command::new(CNODE)
            .args(args)
            .args(["--cookie", COOKIE])
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .expect("cnode runs");
        assert!(out.status.success(), "cnode {args:?}: {out:?}");
        out
    }

    fn json(&self, sort: &str) -> Value {
        let out = self.cnode(&[
            "top",
            &self.target,
            "--json",
            "--sort",
            sort,
            "--interval",
            "0.5",
            "--limit",
            "5",
        ]);
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    }

    /// The plain table's rows, below its header.
    fn once(&self, sort: &str) -> Vec<String> {
        let out = self.cnode(&[
            "top",
            &self.target,
            "--once",
            "--sort",
            sort,
            "--interval",
            "0.5",
        ]);
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        let mut lines = text.lines().skip_while(|line| !line.starts_with("PID "));
        assert!(lines.next().is_some(), "no table header in:\n{text}");
        lines.map(str::to_owned).collect()
    }
}

fn top_shows_the_busy_and_the_hoarding_process(otp: Otp) {
    let node = start_loaded(&otp);

    let by_reductions = node.json("reductions");
    let first = &by_reductions["top"][0];
    assert_eq!(first["registered_name"], "spinner", "{by_reductions:#}");
    assert!(
        first["reductions_delta"].as_u64().unwrap() > 100_000,
        "{first}"
    );
    assert_eq!(by_reductions["otp_release"], otp.release.to_string());
    assert_eq!(by_reductions["top"].as_array().unwrap().len(), 5);
    let busiest = by_reductions["scheduler_utilisation"]["schedulers"]
        .as_array()
        .expect("scheduler utilisation is measured")
        .iter()
        .filter_map(|s| s["utilisation"].as_f64())
        .fold(0.0, f64::max);
    assert!(
        busiest > 0.5,
        "a scheduler runs the spinner: {by_reductions:#}"
    );

    let by_queue = node.json("queue");
    let first = &by_queue["top"][0];
    assert_eq!(first["registered_name"], "hoarder", "{by_queue:#}");
    assert!(first["message_queue_len"].as_u64().unwrap() > 0, "{first}");

    let rows = node.once("reductions");
    assert!(rows[0].contains(" spinner "), "{rows:#?}");
    let rows = node.once("queue");
    assert!(rows[0].contains(" hoarder "), "{rows:#?}");

    live_view_in_tmux(&node);

    // The measurement the holder turned on is off again.
    let out = node.cnode(&[
        "eval",
        &node.target,
        "erlang:statistics(scheduler_wall_time).",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "undefined\n");
}

/// `--erl-epmd-port`: the node listens on a known port and no EPMD runs
/// (`ERL_EPMD_PORT` names a port where nothing listens).
fn top_reaches_a_node_without_epmd(otp: Otp) {
    let port = free_port().expect("a free port").to_string();
    let no_epmd = free_port().expect("a free port");
    let alive = unique_name("top_noepmd", &otp);
    let target = format!("{alive}@{}", short_host().expect("host name"));
    let mut erl = ErlNode::builder(&otp, &alive)
        .cookie(COOKIE)
        .epmd_port(no_epmd)
        .args(&["-start_epmd", "false", "-erl_epmd_port", &port])
        .eval(r#"io:format("ready~n")"#)
        .start_blocking()
        .expect("erl starts")
        .with_wait(WAIT);
    erl.wait_for_line("ready").expect("erl is up");
    let out = Command::new(CNODE)
        .args([
            "top",
            &target,
            "--once",
            "--interval",
            "0.2",
            "--limit",
            "50",
        ])
        .args(["--erl-epmd-port", &port, "--cookie", COOKIE])
        .env("ERL_EPMD_PORT", no_epmd.to_string())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("cnode runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let heading = format!("node {target}  OTP {}  ", otp.release);
    assert!(text.starts_with(&heading), "{text}");
    assert!(text.contains(" net_kernel "), "{text}");
}

/// A tmux session running a shell, killed when dropped.
struct Tmux {
    session: String,
}

impl Tmux {
    fn start() -> Tmux {
        let session = unique_label("cli_top");
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-x", "120", "-y", "40", "-s", &session])
            .args(["sh"])
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session");
        Tmux { session }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux send-keys {keys:?}");
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `check`; fails with the screen.
    fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = wait_until(WAIT, what, || {
            last = self.screen();
            check(&last)
        });
        assert!(found.is_ok(), "{what}; the screen:\n{last}");
        last
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

/// The line of the shell's output that starts with `start` (after the
/// prompt, which may come first when the output raced it), not the
/// command line that printed it.
fn output_line<'a>(screen: &'a str, start: &str) -> Option<&'a str> {
    screen
        .lines()
        .map(|line| {
            line.trim_start_matches("# ")
                .trim_start_matches("$ ")
                .trim_end()
        })
        .find(|line| line.starts_with(start) && !line.contains(' '))
}

/// The name in the first row of the process table on `screen`.
fn first_row(screen: &str) -> Option<&str> {
    let mut lines = screen.lines().skip_while(|line| !line.starts_with("PID "));
    lines.next()?;
    lines.next()
}

fn live_view_in_tmux(node: &Loaded) {
    let tmux = Tmux::start();
    let command = format!(
        "ERL_EPMD_PORT={port} {CNODE} top {target} --cookie {COOKIE} --interval 0.5; \
         echo exit=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon",
        port = node.epmd_port,
        target = node.target,
    );
    tmux.keys(&[&command, "Enter"]);

    tmux.wait_for("the spinner first, by reductions", |screen| {
        screen.contains("by reductions")
            && screen.contains("hoarder")
            && first_row(screen).is_some_and(|row| row.contains(" spinner "))
    });
    tmux.keys(&["l"]);
    tmux.wait_for("the hoarder first, by queue", |screen| {
        screen.contains("by queue")
            && first_row(screen).is_some_and(|row| row.contains(" hoarder "))
    });
    tmux.keys(&["Enter"]);
    // Whole pane: a capture may catch the screen halfway through a draw.
    tmux.wait_for("the hoarder's details", |screen| {
        screen.contains("registered_name   hoarder")
            && screen.contains("message_queue_len")
            && screen.contains("initial_call")
            && screen.contains("dictionary_size")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the details closed", |screen| {
        !screen.contains("registered_name   hoarder") && screen.contains("by queue")
    });
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("cnode top ended and stty answered", |screen| {
        output_line(screen, "exit=").is_some()
            && (output_line(screen, "icanon").is_some() || output_line(screen, "-icanon").is_some())
    });
    assert_eq!(output_line(&screen, "exit="), Some("exit=0"), "{screen}");
    assert_eq!(
        output_line(&screen, "icanon"),
        Some("icanon"),
        "the terminal is back in canonical mode:\n{screen}"
    );
    assert!(
        !screen.contains("PID "),
        "the alternate screen is gone:\n{screen}"
    );
}
